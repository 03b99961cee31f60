/*
 * schema.c: parse Avro schema JSON and compile it into the plan that
 * decode.c and encode.c walk (avro_internal.h).
 *
 * Order of work: the text is parsed with src/json's DOM parser (Jackson's
 * error wording), then compiled here with Java Avro's rules and messages
 * (Schema.Parser: names and namespaces, "Undefined name", "Can't redefine",
 * duplicate fields/symbols, nested or duplicate union branches, defaults
 * valid for their type), then parsed by avro-c as a second opinion whose
 * error, if any, is reported as is. Our checks run first because they are
 * stricter in places and because avro-c leaks memory on some of its own
 * error paths (a redefined name, for one).
 *
 * After the graph is built, passes over every node add what the hot paths
 * need: union member names and the wrapper text of general unions (rule 9
 * of avro.h), the fewest bytes a value can take (bounds array and map
 * block counts before anything is allocated), the binary form of every
 * field default, the Parsing Canonical Form and its fingerprint.
 */
#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "avro_internal.h"

typedef struct name_ent {
    const char *full;
    evb__avro_node_t *node;
} name_ent_t;

typedef struct cc {
    evb_avro_schema_t *s;
    evb_arena_t *a;
    name_ent_t *tab;
    size_t tab_cap, tab_n;
    evb__avro_node_t **nodes;
    size_t n_nodes, cap_nodes;
    char *errstr;
    size_t errsz;
    evb_err_t err;
    unsigned depth;
} cc_t;

#define SHOW_MAX 120

static const char *const prim_names[] = {"null",  "boolean", "int",   "long",
                                         "float", "double",  "bytes", "string"};

const char *evb__avro_kind_name(const evb__avro_node_t *n) {
    static const char *const names[] = {
        "null",   "boolean", "int",  "long",  "float", "double", "bytes",
        "string", "record",  "enum", "array", "map",   "union",  "fixed"};
    return n->kind < EVB_ARRAY_LEN(names) ? names[n->kind] : "?";
}

static void *fail(cc_t *c, evb_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void *fail(cc_t *c, evb_err_t err, const char *fmt, ...) {
    if (c->err == EVB_ERR_OK) {
        c->err = err;
        if (c->errstr && c->errsz) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->errstr, c->errsz, fmt, ap);
            va_end(ap);
        }
    }
    return NULL;
}

static void *nomem(cc_t *c) {
    return fail(c, EVB_ERR_NOMEM, "out of memory compiling the schema");
}

/* The JSON text of v for messages (truncated). */
#define SHOW(v)                                                                \
    (int)((v)->src_len > SHOW_MAX ? SHOW_MAX : (v)->src_len), (v)->src

static const evb_jval_t *member(const evb_jval_t *obj, const char *key) {
    const evb_jval_t *found = NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->u.obj.n; i++) {
        const evb_jmember_t *m = &obj->u.obj.members[i];
        if (m->klen == kl && memcmp(m->key, key, kl) == 0)
            found = m->val; /* the last one wins, as in Jackson's tree */
    }
    return found;
}

static const char *str_member(const evb_jval_t *obj, const char *key) {
    const evb_jval_t *v = member(obj, key);
    return v && v->type == EVB_JSON_STRING ? v->u.str.s : NULL;
}

/* Is the number an integer within [lo, hi]? */
static bool int_value(const evb_jval_t *v, long long lo, long long hi,
                      long long *out) {
    if (!v || v->type != EVB_JSON_NUMBER)
        return false;
    const char *s = v->u.str.s;
    for (size_t i = 0; i < v->u.str.len; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
            return false;
    if (v->u.str.len > 19)
        return false;
    long long x = strtoll(s, NULL, 10);
    if (x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

/* ---- names -----------------------------------------------------------------
 */

static bool ident_start(char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}
static bool ident_char(char ch) {
    return ident_start(ch) || (ch >= '0' && ch <= '9');
}

/* Java's Schema.validateName on one component. */
static bool check_ident(cc_t *c, const char *s, size_t n) {
    if (n == 0) {
        fail(c, EVB_ERR_INVALID_ARG, "Empty name");
        return false;
    }
    if (!ident_start(s[0])) {
        fail(c, EVB_ERR_INVALID_ARG, "Illegal initial character: %.*s",
             (int)(n > SHOW_MAX ? SHOW_MAX : n), s);
        return false;
    }
    for (size_t i = 1; i < n; i++)
        if (!ident_char(s[i])) {
            fail(c, EVB_ERR_INVALID_ARG, "Illegal character in: %.*s",
                 (int)(n > SHOW_MAX ? SHOW_MAX : n), s);
            return false;
        }
    return true;
}

/* Every dot-separated component of a full name or namespace. */
static bool check_dotted(cc_t *c, const char *s, size_t n) {
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!check_ident(c, s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

static bool is_primitive(const char *s) {
    for (size_t i = 0; i < EVB_ARRAY_LEN(prim_names); i++)
        if (strcmp(s, prim_names[i]) == 0)
            return true;
    return false;
}

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static evb__avro_node_t *lookup(cc_t *c, const char *full) {
    if (!c->tab_cap)
        return NULL;
    size_t mask = c->tab_cap - 1;
    for (size_t i = hash_str(full) & mask;; i = (i + 1) & mask) {
        if (!c->tab[i].full)
            return NULL;
        if (strcmp(c->tab[i].full, full) == 0)
            return c->tab[i].node;
    }
}

static bool define(cc_t *c, const char *full, evb__avro_node_t *node) {
    if (lookup(c, full)) {
        fail(c, EVB_ERR_INVALID_ARG, "Can't redefine: %s", full);
        return false;
    }
    if ((c->tab_n + 1) * 2 > c->tab_cap) {
        size_t ncap = c->tab_cap ? c->tab_cap * 2 : 16;
        name_ent_t *nt = calloc(ncap, sizeof *nt);
        if (!nt) {
            nomem(c);
            return false;
        }
        for (size_t i = 0; i < c->tab_cap; i++) {
            if (!c->tab[i].full)
                continue;
            size_t j = hash_str(c->tab[i].full) & (ncap - 1);
            while (nt[j].full)
                j = (j + 1) & (ncap - 1);
            nt[j] = c->tab[i];
        }
        free(c->tab);
        c->tab = nt;
        c->tab_cap = ncap;
    }
    size_t j = hash_str(full) & (c->tab_cap - 1);
    while (c->tab[j].full)
        j = (j + 1) & (c->tab_cap - 1);
    c->tab[j].full = full;
    c->tab[j].node = node;
    c->tab_n++;
    return true;
}

/* Resolve a reference as Java does: a dotted name is full; otherwise the
 * enclosing namespace first, then the null namespace. */
static evb__avro_node_t *resolve(cc_t *c, const char *name, const char *ns) {
    if (strchr(name, '.') || !ns || !*ns)
        return lookup(c, name);
    size_t need = strlen(ns) + strlen(name) + 2;
    char small[256];
    char *full = need <= sizeof small ? small : malloc(need);
    if (!full)
        return nomem(c);
    size_t nsl = strlen(ns);
    memcpy(full, ns, nsl);
    full[nsl] = '.';
    memcpy(full + nsl + 1, name, need - nsl - 1);
    evb__avro_node_t *n = lookup(c, full);
    if (full != small)
        free(full);
    return n ? n : lookup(c, name);
}

/* ---- nodes -----------------------------------------------------------------
 */

static evb__avro_node_t *new_node(cc_t *c, evb__avro_kind_t kind) {
    evb__avro_node_t *n = evb_arena_calloc(c->a, 1, sizeof *n);
    if (!n)
        return nomem(c);
    if (c->n_nodes == c->cap_nodes) {
        size_t ncap = c->cap_nodes ? c->cap_nodes * 2 : 32;
        evb__avro_node_t **nn = realloc(c->nodes, ncap * sizeof *nn);
        if (!nn)
            return nomem(c);
        c->nodes = nn;
        c->cap_nodes = ncap;
    }
    n->id = (uint32_t)c->n_nodes;
    c->nodes[c->n_nodes++] = n;
    n->kind = (uint8_t)kind;
    return n;
}

static evb__avro_kind_t prim_kind(const char *s) {
    for (size_t i = 0; i < EVB_ARRAY_LEN(prim_names); i++)
        if (strcmp(s, prim_names[i]) == 0)
            return (evb__avro_kind_t)i; /* same order as the enum */
    return EVB__AK_NULL;
}

/* Logical types and Connect's int8/int16 annotation on a type object. */
static void logical(const evb_jval_t *obj, evb__avro_node_t *n) {
    const char *lt = str_member(obj, "logicalType");
    switch (n->kind) {
    case EVB__AK_BYTES:
    case EVB__AK_FIXED:
        if (lt && strcasecmp(lt, "decimal") == 0) {
            long long scale = 0, prec = 0;
            const evb_jval_t *sv = member(obj, "scale");
            if (sv && !int_value(sv, 0, INT32_MAX, &scale))
                return; /* invalid: ignored, as Java ignores it */
            n->logical = EVB__AL_DECIMAL;
            n->scale = (int32_t)scale;
            /* precision only limits the encoder, and only if valid */
            if (int_value(member(obj, "precision"), 1, INT32_MAX, &prec) &&
                prec >= scale) {
                if (n->kind == EVB__AK_FIXED) {
                    /* digits that fit: floor(log10(2^(8*size-1) - 1)) */
                    double maxd = n->u.fixed.size > 0
                                      ? ((double)n->u.fixed.size * 8 - 1) *
                                            0.30102999566398120
                                      : 0;
                    if ((double)prec > maxd)
                        prec = 0;
                }
                n->precision = (int32_t)prec;
            }
        } else if (lt && n->kind == EVB__AK_FIXED &&
                   strcmp(lt, "duration") == 0 && n->u.fixed.size == 12) {
            n->logical = EVB__AL_DURATION;
        }
        break;
    case EVB__AK_STRING:
        if (lt && strcmp(lt, "uuid") == 0)
            n->logical = EVB__AL_UUID;
        break;
    case EVB__AK_INT:
        if (lt) {
            if (strcasecmp(lt, "date") == 0)
                n->logical = EVB__AL_DATE;
            else if (strcasecmp(lt, "time-millis") == 0)
                n->logical = EVB__AL_TIME_MILLIS;
        } else {
            const char *ct = str_member(obj, "connect.type");
            if (ct && strcmp(ct, "int8") == 0)
                n->logical = EVB__AL_INT8;
            else if (ct && strcmp(ct, "int16") == 0)
                n->logical = EVB__AL_INT16;
        }
        break;
    case EVB__AK_LONG:
        if (!lt)
            break;
        if (strcasecmp(lt, "timestamp-millis") == 0)
            n->logical = EVB__AL_TIMESTAMP_MILLIS;
        else if (strcmp(lt, "timestamp-micros") == 0)
            n->logical = EVB__AL_TIMESTAMP_MICROS;
        else if (strcmp(lt, "time-micros") == 0)
            n->logical = EVB__AL_TIME_MICROS;
        else if (strcmp(lt, "local-timestamp-millis") == 0)
            n->logical = EVB__AL_LOCAL_TIMESTAMP_MILLIS;
        else if (strcmp(lt, "local-timestamp-micros") == 0)
            n->logical = EVB__AL_LOCAL_TIMESTAMP_MICROS;
        break;
    default: break;
    }
}

static evb__avro_node_t *compile(cc_t *c, const evb_jval_t *v, const char *ns);

/* name, namespace -> (short, full, namespace for children); registers the
 * node under its full name. */
static bool named(cc_t *c, const evb_jval_t *obj, const char *ns,
                  evb__avro_node_t *n, const char **child_ns) {
    const evb_jval_t *nv = member(obj, "name");
    if (!nv || nv->type != EVB_JSON_STRING) {
        fail(c, EVB_ERR_INVALID_ARG, "No name in schema: %.*s", SHOW(obj));
        return false;
    }
    const char *name = nv->u.str.s;
    size_t nl = nv->u.str.len;
    if (memchr(name, '\0', nl)) {
        fail(c, EVB_ERR_INVALID_ARG, "Illegal character in: %s", name);
        return false;
    }
    const char *space;
    const char *shortn;
    const char *dot = strrchr(name, '.');
    if (dot) {
        space = evb_arena_strndup(c->a, name, (size_t)(dot - name));
        shortn = dot + 1;
        if (!space) {
            nomem(c);
            return false;
        }
    } else {
        const evb_jval_t *nsv = member(obj, "namespace");
        if (nsv && nsv->type != EVB_JSON_STRING && nsv->type != EVB_JSON_NULL) {
            fail(c, EVB_ERR_INVALID_ARG, "namespace not a string: %.*s",
                 SHOW(nsv));
            return false;
        }
        space = nsv && nsv->type == EVB_JSON_STRING ? nsv->u.str.s : ns;
        shortn = name;
    }
    if (space && *space && !check_dotted(c, space, strlen(space)))
        return false;
    if (!check_ident(c, shortn, strlen(shortn)))
        return false;
    if (is_primitive(shortn)) {
        fail(c, EVB_ERR_INVALID_ARG,
             "Schemas may not be named after primitives: %s", shortn);
        return false;
    }
    char *full;
    if (space && *space) {
        size_t need = strlen(space) + strlen(shortn) + 2;
        full = evb_arena_alloc(c->a, need);
        if (full)
            snprintf(full, need, "%s.%s", space, shortn);
    } else {
        full = evb_arena_strndup(c->a, shortn, strlen(shortn));
    }
    if (!full) {
        nomem(c);
        return false;
    }
    n->named = 1;
    n->fullname = full;
    n->name = strrchr(full, '.') ? strrchr(full, '.') + 1 : full;
    *child_ns = space ? space : "";
    return define(c, full, n);
}

static evb__avro_node_t *compile_record(cc_t *c, const evb_jval_t *obj,
                                        const char *ns) {
    evb__avro_node_t *n = new_node(c, EVB__AK_RECORD);
    const char *cns;
    if (!n || !named(c, obj, ns, n, &cns))
        return NULL;
    const evb_jval_t *fv = member(obj, "fields");
    if (!fv || fv->type != EVB_JSON_ARRAY)
        return fail(c, EVB_ERR_INVALID_ARG, "Record has no fields: %.*s",
                    SHOW(obj));
    size_t nf = fv->u.arr.n;
    evb__avro_field_t *fields =
        nf ? evb_arena_calloc(c->a, nf, sizeof *fields) : NULL;
    if (nf && !fields)
        return nomem(c);
    n->u.rec.fields = fields;
    for (size_t i = 0; i < nf; i++) {
        const evb_jval_t *f = fv->u.arr.items[i];
        if (f->type != EVB_JSON_OBJECT)
            return fail(c, EVB_ERR_INVALID_ARG, "Field not an object: %.*s",
                        SHOW(f));
        const evb_jval_t *fn = member(f, "name");
        if (!fn || fn->type != EVB_JSON_STRING)
            return fail(c, EVB_ERR_INVALID_ARG, "No field name: %.*s", SHOW(f));
        if (memchr(fn->u.str.s, '\0', fn->u.str.len))
            return fail(c, EVB_ERR_INVALID_ARG, "Illegal character in: %s",
                        fn->u.str.s);
        if (!check_ident(c, fn->u.str.s, fn->u.str.len))
            return NULL;
        for (size_t k = 0; k < i; k++)
            if (strcmp(fields[k].name, fn->u.str.s) == 0)
                return fail(c, EVB_ERR_INVALID_ARG,
                            "Duplicate field %s in record %s", fn->u.str.s,
                            n->fullname);
        const evb_jval_t *ft = member(f, "type");
        if (!ft)
            return fail(c, EVB_ERR_INVALID_ARG, "No field type: %.*s", SHOW(f));
        const evb_jval_t *ov = member(f, "order");
        if (ov && (ov->type != EVB_JSON_STRING ||
                   (strcasecmp(ov->u.str.s, "ascending") != 0 &&
                    strcasecmp(ov->u.str.s, "descending") != 0 &&
                    strcasecmp(ov->u.str.s, "ignore") != 0)))
            return fail(c, EVB_ERR_INVALID_ARG, "Illegal order: %.*s",
                        SHOW(ov));
        fields[i].name = fn->u.str.s;
        fields[i].name_len = (uint32_t)fn->u.str.len;
        size_t kl = fn->u.str.len + 4;
        char *key = evb_arena_alloc(c->a, kl + 1);
        if (!key)
            return nomem(c);
        snprintf(key, kl + 1, "%c\"%s\":", i == 0 ? '{' : ',', fn->u.str.s);
        fields[i].key = key;
        fields[i].key_len = (uint32_t)kl;
        fields[i].defval = member(f, "default");
        n->u.rec.n = (uint32_t)(i + 1); /* visible to recursive references */
        fields[i].type = compile(c, ft, cns);
        if (!fields[i].type)
            return NULL;
    }
    n->u.rec.n = (uint32_t)nf;
    return n;
}

static evb__avro_node_t *compile_enum(cc_t *c, const evb_jval_t *obj,
                                      const char *ns) {
    evb__avro_node_t *n = new_node(c, EVB__AK_ENUM);
    const char *cns;
    if (!n || !named(c, obj, ns, n, &cns))
        return NULL;
    const evb_jval_t *sv = member(obj, "symbols");
    if (!sv || sv->type != EVB_JSON_ARRAY)
        return fail(c, EVB_ERR_INVALID_ARG, "Enum has no symbols: %.*s",
                    SHOW(obj));
    size_t ns_ = sv->u.arr.n;
    if (ns_ == 0)
        return fail(c, EVB_ERR_INVALID_ARG,
                    "Enum type must have at least one symbol: %.*s", SHOW(obj));
    n->u.en.n = (uint32_t)ns_;
    n->u.en.syms = evb_arena_calloc(c->a, ns_, sizeof(char *));
    n->u.en.sym_lens = evb_arena_calloc(c->a, ns_, sizeof(uint32_t));
    n->u.en.quoted = evb_arena_calloc(c->a, ns_, sizeof(char *));
    n->u.en.quoted_lens = evb_arena_calloc(c->a, ns_, sizeof(uint32_t));
    if (!n->u.en.syms || !n->u.en.sym_lens || !n->u.en.quoted ||
        !n->u.en.quoted_lens)
        return nomem(c);
    for (size_t i = 0; i < ns_; i++) {
        const evb_jval_t *s = sv->u.arr.items[i];
        if (s->type != EVB_JSON_STRING)
            return fail(c, EVB_ERR_INVALID_ARG,
                        "Enum symbol not a string: %.*s", SHOW(s));
        if (memchr(s->u.str.s, '\0', s->u.str.len))
            return fail(c, EVB_ERR_INVALID_ARG, "Illegal character in: %s",
                        s->u.str.s);
        if (!check_ident(c, s->u.str.s, s->u.str.len))
            return NULL;
        for (size_t k = 0; k < i; k++)
            if (strcmp(n->u.en.syms[k], s->u.str.s) == 0)
                return fail(c, EVB_ERR_INVALID_ARG, "Duplicate enum symbol: %s",
                            s->u.str.s);
        n->u.en.syms[i] = s->u.str.s;
        n->u.en.sym_lens[i] = (uint32_t)s->u.str.len;
        char *q = evb_arena_alloc(c->a, s->u.str.len + 3);
        if (!q)
            return nomem(c);
        snprintf(q, s->u.str.len + 3, "\"%s\"", s->u.str.s);
        n->u.en.quoted[i] = q;
        n->u.en.quoted_lens[i] = (uint32_t)s->u.str.len + 2;
    }
    const evb_jval_t *dv = member(obj, "default");
    if (dv) {
        bool ok = false;
        if (dv->type == EVB_JSON_STRING)
            for (size_t i = 0; i < ns_; i++)
                ok = ok || strcmp(n->u.en.syms[i], dv->u.str.s) == 0;
        if (!ok)
            return fail(c, EVB_ERR_INVALID_ARG,
                        "The Enum Default: %.*s is not in the enum symbol set",
                        SHOW(dv));
    }
    return n;
}

static evb__avro_node_t *compile_fixed(cc_t *c, const evb_jval_t *obj,
                                       const char *ns) {
    evb__avro_node_t *n = new_node(c, EVB__AK_FIXED);
    const char *cns;
    if (!n || !named(c, obj, ns, n, &cns))
        return NULL;
    long long size;
    if (!int_value(member(obj, "size"), 0, INT32_MAX, &size))
        return fail(c, EVB_ERR_INVALID_ARG, "Invalid or no size: %.*s",
                    SHOW(obj));
    n->u.fixed.size = (uint32_t)size;
    logical(obj, n);
    return n;
}

static evb__avro_node_t *compile_union(cc_t *c, const evb_jval_t *arr,
                                       const char *ns) {
    size_t nb = arr->u.arr.n;
    if (nb == 0)
        return fail(c, EVB_ERR_INVALID_ARG,
                    "Union type must have at least one branch");
    evb__avro_node_t *n = new_node(c, EVB__AK_UNION);
    if (!n)
        return NULL;
    n->u.uni.br = evb_arena_calloc(c->a, nb, sizeof(evb__avro_node_t *));
    if (!n->u.uni.br)
        return nomem(c);
    n->u.uni.null_idx = -1;
    for (size_t i = 0; i < nb; i++) {
        const evb_jval_t *b = arr->u.arr.items[i];
        if (b->type == EVB_JSON_ARRAY)
            return fail(c, EVB_ERR_INVALID_ARG, "Nested union: %.*s",
                        SHOW(arr));
        evb__avro_node_t *bn = compile(c, b, ns);
        if (!bn)
            return NULL;
        if (bn->kind == EVB__AK_UNION)
            return fail(c, EVB_ERR_INVALID_ARG, "Nested union: %.*s",
                        SHOW(arr));
        const char *key = bn->named ? bn->fullname : evb__avro_kind_name(bn);
        for (size_t k = 0; k < i; k++) {
            evb__avro_node_t *o = n->u.uni.br[k];
            const char *okey = o->named ? o->fullname : evb__avro_kind_name(o);
            if (strcmp(key, okey) == 0)
                return fail(c, EVB_ERR_INVALID_ARG, "Duplicate in union:%s",
                            key);
        }
        if (bn->kind == EVB__AK_NULL)
            n->u.uni.null_idx = (int32_t)i;
        n->u.uni.br[i] = bn;
        n->u.uni.n = (uint32_t)(i + 1);
    }
    n->u.uni.nullable = nb == 2 && n->u.uni.null_idx >= 0;
    return n;
}

static evb__avro_node_t *compile(cc_t *c, const evb_jval_t *v, const char *ns) {
    if (++c->depth > EVB_AVRO_SCHEMA_MAX_DEPTH) {
        c->depth--;
        return fail(c, EVB_ERR_INVALID_ARG,
                    "Schema nesting deeper than %d levels",
                    EVB_AVRO_SCHEMA_MAX_DEPTH);
    }
    evb__avro_node_t *n = NULL;
    switch (v->type) {
    case EVB_JSON_STRING: {
        const char *s = v->u.str.s;
        if (is_primitive(s)) {
            n = new_node(c, prim_kind(s));
        } else {
            n = resolve(c, s, ns);
            if (!n && c->err == EVB_ERR_OK)
                fail(c, EVB_ERR_INVALID_ARG, "Undefined name: %.*s", SHOW(v));
        }
        break;
    }
    case EVB_JSON_ARRAY: n = compile_union(c, v, ns); break;
    case EVB_JSON_OBJECT: {
        const evb_jval_t *tv = member(v, "type");
        if (!tv || tv->type != EVB_JSON_STRING) {
            fail(c, EVB_ERR_INVALID_ARG, "No type: %.*s", SHOW(v));
            break;
        }
        const char *t = tv->u.str.s;
        if (is_primitive(t)) {
            n = new_node(c, prim_kind(t));
            if (n)
                logical(v, n);
        } else if (strcmp(t, "record") == 0) {
            n = compile_record(c, v, ns);
        } else if (strcmp(t, "enum") == 0) {
            n = compile_enum(c, v, ns);
        } else if (strcmp(t, "fixed") == 0) {
            n = compile_fixed(c, v, ns);
        } else if (strcmp(t, "array") == 0 || strcmp(t, "map") == 0) {
            bool arr = t[0] == 'a';
            const evb_jval_t *iv = member(v, arr ? "items" : "values");
            if (!iv) {
                fail(c, EVB_ERR_INVALID_ARG,
                     arr ? "Array has no items type: %.*s"
                         : "Map has no values type: %.*s",
                     SHOW(v));
                break;
            }
            n = new_node(c, arr ? EVB__AK_ARRAY : EVB__AK_MAP);
            if (n && !(n->u.coll.items = compile(c, iv, ns)))
                n = NULL;
        } else {
            n = resolve(c, t, ns);
            if (!n && c->err == EVB_ERR_OK)
                fail(c, EVB_ERR_INVALID_ARG, "Type not supported: %s", t);
        }
        break;
    }
    default:
        fail(c, EVB_ERR_INVALID_ARG, "Schema not yet supported: %.*s", SHOW(v));
    }
    c->depth--;
    return n;
}

/* ---- passes over the compiled graph ----------------------------------------
 */

/* Union "Java class" groups (AvroData puts a value in the first branch
 * whose Connect type accepts its class). */
enum {
    KL_SELF,
    KL_BOOL,
    KL_INT,
    KL_LONG,
    KL_FLOAT,
    KL_DOUBLE,
    KL_STRING,
    KL_BYTES,
    KL_ARRAY,
    KL_MAP
};

static uint8_t klass_of(const evb__avro_node_t *n) {
    switch (n->kind) {
    case EVB__AK_BOOLEAN: return KL_BOOL;
    case EVB__AK_INT: return KL_INT;
    case EVB__AK_LONG: return KL_LONG;
    case EVB__AK_FLOAT: return KL_FLOAT;
    case EVB__AK_DOUBLE: return KL_DOUBLE;
    case EVB__AK_STRING: return KL_STRING;
    case EVB__AK_BYTES:
    case EVB__AK_FIXED: return KL_BYTES;
    case EVB__AK_ARRAY: return KL_ARRAY;
    case EVB__AK_MAP: return KL_MAP;
    default: return KL_SELF;
    }
}

static bool prep_union(cc_t *c, evb__avro_node_t *n) {
    uint32_t nb = n->u.uni.n;
    for (uint32_t i = 0; i < nb; i++) {
        evb__avro_node_t *b = n->u.uni.br[i];
        const char *bn = (b->kind == EVB__AK_RECORD || b->kind == EVB__AK_ENUM)
                             ? b->name
                             : evb__avro_kind_name(b);
        b->branch = bn;
        b->branch_len = (uint32_t)strlen(bn);
        b->klass = klass_of(b);
    }
    if (n->u.uni.nullable)
        return true;
    for (uint32_t i = 0; i < nb && !n->u.uni.bad; i++) {
        evb__avro_node_t *b = n->u.uni.br[i];
        if (b->kind == EVB__AK_NULL)
            continue;
        for (uint32_t k = 0; k < i; k++) {
            evb__avro_node_t *o = n->u.uni.br[k];
            if (o->kind != EVB__AK_NULL && strcmp(o->branch, b->branch) == 0) {
                char *msg = evb_arena_alloc(c->a, 256);
                if (!msg)
                    return nomem(c), false;
                snprintf(msg, 256,
                         "union branches %u and %u both map to the JSON "
                         "member \"%s\" (the EventBridge Kafka connector "
                         "rejects such a schema)",
                         k, i, b->branch);
                n->u.uni.bad = msg;
                break;
            }
        }
    }
    n->u.uni.slot = evb_arena_calloc(c->a, nb, sizeof(uint32_t));
    n->u.uni.pre = evb_arena_calloc(c->a, nb, sizeof(char *));
    n->u.uni.post = evb_arena_calloc(c->a, nb, sizeof(char *));
    n->u.uni.pre_lens = evb_arena_calloc(c->a, nb, sizeof(uint32_t));
    n->u.uni.post_lens = evb_arena_calloc(c->a, nb, sizeof(uint32_t));
    if (!n->u.uni.slot || !n->u.uni.pre || !n->u.uni.post ||
        !n->u.uni.pre_lens || !n->u.uni.post_lens)
        return nomem(c), false;
    size_t total = 2;
    for (uint32_t i = 0; i < nb; i++)
        total += n->u.uni.br[i]->branch_len + 8;
    for (uint32_t i = 0; i < nb; i++) {
        evb__avro_node_t *b = n->u.uni.br[i];
        uint32_t s = i;
        if (b->klass != KL_SELF)
            for (uint32_t k = 0; k < i; k++)
                if (n->u.uni.br[k]->klass == b->klass) {
                    s = k;
                    break;
                }
        n->u.uni.slot[i] = s;
        if (b->kind == EVB__AK_NULL)
            continue;
        char *pre = evb_arena_alloc(c->a, total);
        char *post = evb_arena_alloc(c->a, total);
        if (!pre || !post)
            return nomem(c), false;
        size_t pl = 0, ql = 0;
        bool first = true;
        pre[pl++] = '{';
        for (uint32_t k = 0; k < nb; k++) {
            evb__avro_node_t *o = n->u.uni.br[k];
            if (o->kind == EVB__AK_NULL)
                continue;
            char *dst = k <= s ? pre : post;
            size_t *dl = k <= s ? &pl : &ql;
            if (!first)
                dst[(*dl)++] = ',';
            first = false;
            *dl +=
                (size_t)snprintf(dst + *dl, total - *dl, "\"%s\":", o->branch);
            if (k != s) {
                memcpy(dst + *dl, "null", 4);
                *dl += 4;
            }
        }
        post[ql++] = '}';
        n->u.uni.pre[i] = pre;
        n->u.uni.pre_lens[i] = (uint32_t)pl;
        n->u.uni.post[i] = post;
        n->u.uni.post_lens[i] = (uint32_t)ql;
    }
    return true;
}

/* Fewest bytes an encoding of n can take; a type being computed counts 0
 * (a lower bound is all the decoder needs). state: 0 new, 1 busy, 2 done. */
static uint32_t min_size(evb__avro_node_t *n, uint8_t *state, size_t nn,
                         unsigned depth) {
    size_t idx = n->id;
    if (idx >= nn || state[idx] == 1 || depth > EVB_AVRO_SCHEMA_MAX_DEPTH)
        return 0;
    if (state[idx] == 2)
        return n->min_size;
    state[idx] = 1;
    uint64_t m = 0;
    switch (n->kind) {
    case EVB__AK_NULL: m = 0; break;
    case EVB__AK_FLOAT: m = 4; break;
    case EVB__AK_DOUBLE: m = 8; break;
    case EVB__AK_FIXED: m = n->u.fixed.size; break;
    case EVB__AK_RECORD:
        for (uint32_t i = 0; i < n->u.rec.n; i++)
            m += min_size(n->u.rec.fields[i].type, state, nn, depth + 1);
        break;
    case EVB__AK_UNION: {
        uint64_t best = UINT32_MAX;
        for (uint32_t i = 0; i < n->u.uni.n; i++) {
            uint64_t b = min_size(n->u.uni.br[i], state, nn, depth + 1);
            if (b < best)
                best = b;
        }
        m = 1 + best;
        break;
    }
    default: m = 1;
    }
    n->min_size = m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
    state[idx] = 2;
    return n->min_size;
}

/* The branch index at the start of a union's encoding. */
static int64_t union_index(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n && i < 10; i++) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80))
            return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    }
    return -1;
}

static bool defaults(cc_t *c) {
    evb_buf_t b;
    evb_buf_init(&b, 16u * 1024 * 1024);
    char why[512];
    for (size_t i = 0; i < c->n_nodes; i++) {
        evb__avro_node_t *n = c->nodes[i];
        if (n->kind != EVB__AK_RECORD)
            continue;
        for (uint32_t k = 0; k < n->u.rec.n; k++) {
            evb__avro_field_t *f = &n->u.rec.fields[k];
            if (!f->defval)
                continue;
            evb_buf_reset(&b);
            why[0] = '\0';
            evb_err_t err = evb__avro_encode_value(f->type, f->defval, true, 0,
                                                   &b, why, sizeof why);
            if (err == EVB_ERR_NOMEM) {
                evb_buf_free(&b);
                return nomem(c), false;
            }
            if (err) {
                fail(c, EVB_ERR_INVALID_ARG,
                     "Invalid default for field %s: %.*s not a %s (%s)",
                     f->name, SHOW(f->defval), evb__avro_kind_name(f->type),
                     why);
                evb_buf_free(&b);
                return false;
            }
            uint8_t *bin = evb_arena_alloc(c->a, b.len ? b.len : 1);
            if (!bin) {
                evb_buf_free(&b);
                return nomem(c), false;
            }
            if (b.len)
                memcpy(bin, b.data, b.len);
            f->def_bin = bin;
            f->def_len = b.len;
            evb__avro_node_t *t = f->type;
            if (t->kind == EVB__AK_UNION && !t->u.uni.nullable &&
                t->u.uni.null_idx >= 0 &&
                union_index(bin, b.len) != t->u.uni.null_idx) {
                f->nulldef_bin = bin;
                f->nulldef_len = b.len;
            }
        }
    }
    evb_buf_free(&b);
    return true;
}

/* ---- Parsing Canonical Form
 * --------------------------------------------------- */

static evb_err_t pcf(evb_buf_t *o, const evb__avro_node_t *n,
                     const evb__avro_node_t **seen, size_t *nseen,
                     unsigned depth) {
    evb_err_t err = EVB_ERR_OK;
    if (depth > EVB_AVRO_SCHEMA_MAX_DEPTH + 2)
        return EVB_ERR_INTERNAL;
    if (n->named) {
        for (size_t i = 0; i < *nseen; i++)
            if (seen[i] == n)
                return evb_buf_appendf(o, "\"%s\"", n->fullname);
        seen[(*nseen)++] = n;
    }
    switch (n->kind) {
    case EVB__AK_RECORD:
        err = evb_buf_appendf(
            o, "{\"name\":\"%s\",\"type\":\"record\",\"fields\":[",
            n->fullname);
        for (uint32_t i = 0; !err && i < n->u.rec.n; i++) {
            err =
                evb_buf_appendf(o, "%s{\"name\":\"%s\",\"type\":", i ? "," : "",
                                n->u.rec.fields[i].name);
            if (!err)
                err = pcf(o, n->u.rec.fields[i].type, seen, nseen, depth + 1);
            if (!err)
                err = evb_buf_putc(o, '}');
        }
        if (!err)
            err = evb_buf_append(o, "]}", 2);
        return err;
    case EVB__AK_ENUM:
        err = evb_buf_appendf(
            o, "{\"name\":\"%s\",\"type\":\"enum\",\"symbols\":[", n->fullname);
        for (uint32_t i = 0; !err && i < n->u.en.n; i++)
            err = evb_buf_appendf(o, "%s%s", i ? "," : "", n->u.en.quoted[i]);
        if (!err)
            err = evb_buf_append(o, "]}", 2);
        return err;
    case EVB__AK_FIXED:
        return evb_buf_appendf(
            o, "{\"name\":\"%s\",\"type\":\"fixed\",\"size\":%u}", n->fullname,
            n->u.fixed.size);
    case EVB__AK_ARRAY:
    case EVB__AK_MAP:
        err = evb_buf_appendf(o, "{\"type\":\"%s\",\"%s\":",
                              n->kind == EVB__AK_ARRAY ? "array" : "map",
                              n->kind == EVB__AK_ARRAY ? "items" : "values");
        if (!err)
            err = pcf(o, n->u.coll.items, seen, nseen, depth + 1);
        if (!err)
            err = evb_buf_putc(o, '}');
        return err;
    case EVB__AK_UNION:
        err = evb_buf_putc(o, '[');
        for (uint32_t i = 0; !err && i < n->u.uni.n; i++) {
            if (i)
                err = evb_buf_putc(o, ',');
            if (!err)
                err = pcf(o, n->u.uni.br[i], seen, nseen, depth + 1);
        }
        if (!err)
            err = evb_buf_putc(o, ']');
        return err;
    default: return evb_buf_appendf(o, "\"%s\"", evb__avro_kind_name(n));
    }
}

static uint64_t rabin64(const char *s, size_t n) {
    uint64_t table[256];
    const uint64_t empty = 0xc15d213aa4d7a795ull;
    for (int i = 0; i < 256; i++) {
        uint64_t fp = (uint64_t)i;
        for (int j = 0; j < 8; j++)
            fp = (fp >> 1) ^ (empty & (0 - (fp & 1)));
        table[i] = fp;
    }
    uint64_t fp = empty;
    for (size_t i = 0; i < n; i++)
        fp = (fp >> 8) ^ table[(fp ^ (uint8_t)s[i]) & 0xff];
    return fp;
}

/* ---- public
 * ------------------------------------------------------------------- */

evb_err_t evb_avro_schema_parse(const char *json, size_t len,
                                evb_avro_schema_t **out, char *errstr,
                                size_t errstr_size) {
    *out = NULL;
    if (errstr && errstr_size)
        errstr[0] = '\0';
    evb_avro_schema_t *s = calloc(1, sizeof *s);
    if (!s)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    atomic_init(&s->refs, 1);
    evb_arena_init(&s->arena, 0);
    cc_t c = {.s = s, .a = &s->arena, .errstr = errstr, .errsz = errstr_size};
    evb_jval_t *root;
    char jerr[256];
    evb_err_t err =
        evb_json_parse(&s->arena, json, len, EVB_AVRO_SCHEMA_MAX_DEPTH, &root,
                       jerr, sizeof jerr);
    if (err) {
        if (err == EVB_ERR_NOMEM)
            nomem(&c);
        else
            fail(&c, EVB_ERR_INVALID_ARG, "Schema is not valid JSON: %s", jerr);
        goto out;
    }
    s->root = compile(&c, root, "");
    if (!s->root)
        goto out;
    for (size_t i = 0; i < c.n_nodes; i++)
        if (c.nodes[i]->kind == EVB__AK_UNION && !prep_union(&c, c.nodes[i]))
            goto out;
    uint8_t *state = calloc(c.n_nodes, 1);
    if (!state) {
        nomem(&c);
        goto out;
    }
    for (size_t i = c.n_nodes; i-- > 0;)
        min_size(c.nodes[i], state, c.n_nodes, 0);
    free(state);
    if (!defaults(&c))
        goto out;
    {
        evb_buf_t b;
        evb_buf_init(&b, 0);
        const evb__avro_node_t **seen = calloc(c.n_nodes + 1, sizeof *seen);
        size_t nseen = 0;
        err = seen ? pcf(&b, s->root, seen, &nseen, 0) : EVB_ERR_NOMEM;
        free(seen);
        if (!err) {
            s->canonical =
                evb_arena_strndup(&s->arena, b.data ? b.data : "", b.len);
            if (!s->canonical)
                err = EVB_ERR_NOMEM;
        }
        s->canonical_len = b.len;
        evb_buf_free(&b);
        if (err) {
            nomem(&c);
            goto out;
        }
        s->fingerprint = rabin64(s->canonical, s->canonical_len);
    }
    s->name = s->root->named ? s->root->fullname : evb__avro_kind_name(s->root);
    {
        avro_schema_t as = NULL;
        if (avro_schema_from_json_length(json, len, &as) != 0) {
            fail(&c, EVB_ERR_INVALID_ARG, "%s", avro_strerror());
            goto out;
        }
        s->avro_c = as;
    }
out:
    free(c.tab);
    free(c.nodes);
    if (c.err) {
        evb_avro_schema_unref(s);
        return c.err;
    }
    *out = s;
    return EVB_ERR_OK;
}

evb_avro_schema_t *evb_avro_schema_ref(evb_avro_schema_t *s) {
    if (s)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

void evb_avro_schema_unref(evb_avro_schema_t *s) {
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    if (s->avro_c)
        avro_schema_decref(s->avro_c);
    evb_arena_free(&s->arena);
    free(s);
}

const char *evb_avro_schema_name(const evb_avro_schema_t *s) {
    return s->name;
}

const char *evb_avro_schema_canonical(const evb_avro_schema_t *s, size_t *len) {
    if (len)
        *len = s->canonical_len;
    return s->canonical;
}

uint64_t evb_avro_schema_fingerprint64(const evb_avro_schema_t *s) {
    return s->fingerprint;
}

struct avro_obj_t *evb_avro_schema_avro_c(const evb_avro_schema_t *s) {
    return s->avro_c;
}
