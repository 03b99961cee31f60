/*
 * avro_schema.c: Avro schemas read with jansson into a graph of nodes,
 * validated as the Avro specification (and the Java implementation that
 * Confluent runs) requires, and written back in two forms: the Parsing
 * Canonical Form of the specification, and the registry's normalized form
 * (PCF plus the attributes that change meaning; registry.h).
 *
 * A named type is one node wherever it is used: a reference by name
 * points at the node of its definition, which is entered in the names
 * table before its fields are read so that recursive types work. So the
 * graph can have cycles (through records only); everything that walks it
 * tracks the named nodes it has already written or visited.
 *
 * Everything of one schema (nodes, strings, the names table) lives in one
 * arena; the jansson document is kept because field defaults point into
 * it.
 */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_internal.h"

struct evb__avro {
    evb_arena_t arena;
    json_t *doc;
    evb__avro_node_t *root;
    unsigned nnodes;
    /* names table: open addressing on the full name */
    evb__avro_node_t **names;
    size_t names_cap;
    size_t nnames;
    /* named nodes in definition order */
    evb__avro_node_t **named;
    size_t nnamed, named_cap;
};

void evb__vmsg(evb_buf_t *msg, const char *fmt, va_list ap) {
    if (!msg)
        return;
    char buf[2048];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    evb_buf_reset(msg);
    if (n >= 0 && (size_t)n < sizeof buf) {
        (void)evb_buf_append(msg, buf, (size_t)n);
    } else if (n >= 0) {
        char *big = malloc((size_t)n + 1);
        if (big) {
            vsnprintf(big, (size_t)n + 1, fmt, ap2);
            (void)evb_buf_append(msg, big, (size_t)n);
            free(big);
        } else {
            (void)evb_buf_append(msg, buf, sizeof buf - 1);
        }
    }
    va_end(ap2);
}

void evb__msg(evb_buf_t *msg, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    evb__vmsg(msg, fmt, ap);
    va_end(ap);
}

/* ---- parser state --------------------------------------------------------- */

typedef struct parser {
    evb__avro_t *s;
    evb_buf_t *msg;
    evb_registry_err_t err; /* the first failure */
} parser_t;

__attribute__((format(printf, 2, 3))) static void fail(parser_t *p,
                                                       const char *fmt, ...) {
    if (p->err)
        return;
    p->err = EVB_REGISTRY_ERR_INVALID_SCHEMA;
    if (!p->msg)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    evb__msg(p->msg, "%s", buf);
}

static void nomem(parser_t *p) {
    if (p->err)
        return;
    p->err = EVB_REGISTRY_ERR_NOMEM;
    evb__msg(p->msg, "Out of memory");
}

static char *pstrdup(parser_t *p, const char *s, size_t len) {
    char *r = evb_arena_strndup(&p->s->arena, s, len);
    if (!r)
        nomem(p);
    return r;
}

static evb__avro_node_t *new_node(parser_t *p, evb__avro_kind_t kind) {
    evb__avro_node_t *n = evb_arena_calloc(&p->s->arena, 1, sizeof *n);
    if (!n) {
        nomem(p);
        return NULL;
    }
    n->kind = kind;
    n->idx = p->s->nnodes++;
    return n;
}

static const struct {
    const char *name;
    evb__avro_kind_t kind;
} primitives[] = {
    {"null", EVB__AV_NULL},     {"boolean", EVB__AV_BOOLEAN},
    {"int", EVB__AV_INT},       {"long", EVB__AV_LONG},
    {"float", EVB__AV_FLOAT},   {"double", EVB__AV_DOUBLE},
    {"bytes", EVB__AV_BYTES},   {"string", EVB__AV_STRING},
};

static bool primitive_kind(const char *s, evb__avro_kind_t *kind) {
    for (size_t i = 0; i < EVB_ARRAY_LEN(primitives); i++)
        if (strcmp(s, primitives[i].name) == 0) {
            *kind = primitives[i].kind;
            return true;
        }
    return false;
}

static const char *kind_word(evb__avro_kind_t k) {
    static const char *const words[] = {
        "null",   "boolean", "int",   "long",  "float", "double", "bytes",
        "string", "record",  "enum",  "array", "map",   "union",  "fixed",
    };
    return words[k];
}

/* ---- names ---------------------------------------------------------------- */

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static evb__avro_node_t *lookup_name(const evb__avro_t *s, const char *full) {
    if (!s->names_cap)
        return NULL;
    size_t mask = s->names_cap - 1;
    for (size_t i = hash_str(full) & mask;; i = (i + 1) & mask) {
        evb__avro_node_t *n = s->names[i];
        if (!n)
            return NULL;
        if (strcmp(n->fullname, full) == 0)
            return n;
    }
}

static bool insert_name(parser_t *p, evb__avro_node_t *node) {
    evb__avro_t *s = p->s;
    if ((s->nnames + 1) * 2 > s->names_cap) {
        size_t cap = s->names_cap ? s->names_cap * 2 : 16;
        evb__avro_node_t **t = evb_arena_calloc(&s->arena, cap, sizeof *t);
        if (!t) {
            nomem(p);
            return false;
        }
        for (size_t i = 0; i < s->names_cap; i++) {
            evb__avro_node_t *n = s->names[i];
            if (!n)
                continue;
            size_t j = hash_str(n->fullname) & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = n;
        }
        s->names = t;
        s->names_cap = cap;
    }
    size_t mask = s->names_cap - 1;
    size_t i = hash_str(node->fullname) & mask;
    while (s->names[i])
        i = (i + 1) & mask;
    s->names[i] = node;
    s->nnames++;
    if (s->nnamed == s->named_cap) {
        size_t cap = s->named_cap ? s->named_cap * 2 : 16;
        evb__avro_node_t **v = evb_arena_alloc(&s->arena, cap * sizeof *v);
        if (!v) {
            nomem(p);
            return false;
        }
        if (s->nnamed)
            memcpy(v, s->named, s->nnamed * sizeof *v);
        s->named = v;
        s->named_cap = cap;
    }
    s->named[s->nnamed++] = node;
    return true;
}

static bool name_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c) {
    return name_start(c) || (c >= '0' && c <= '9');
}

/* A simple name: [A-Za-z_][A-Za-z0-9_]* */
static bool check_simple_name(parser_t *p, const char *s, size_t len) {
    if (len == 0 || !name_start(s[0])) {
        fail(p, "Illegal initial character: %.*s", (int)(len > 200 ? 200 : len),
             s);
        return false;
    }
    for (size_t i = 1; i < len; i++)
        if (!name_char(s[i])) {
            fail(p, "Illegal character in: %.*s", (int)(len > 200 ? 200 : len),
                 s);
            return false;
        }
    return true;
}

/* A dotted name: simple names separated by dots. */
static bool check_dotted_name(parser_t *p, const char *s) {
    const char *start = s;
    for (const char *c = s;; c++) {
        if (*c == '.' || *c == '\0') {
            if (!check_simple_name(p, start, (size_t)(c - start)))
                return false;
            if (*c == '\0')
                return true;
            start = c + 1;
        }
    }
}

/* The full name of name in namespace ns (ns NULL or "": none). */
static char *make_fullname(parser_t *p, const char *name, const char *ns) {
    if (strchr(name, '.') || !ns || !ns[0])
        return pstrdup(p, name, strlen(name));
    size_t a = strlen(ns), b = strlen(name);
    char *r = evb_arena_alloc(&p->s->arena, a + b + 2);
    if (!r) {
        nomem(p);
        return NULL;
    }
    memcpy(r, ns, a);
    r[a] = '.';
    memcpy(r + a + 1, name, b + 1);
    return r;
}

/* The namespace part of a full name ("" when there is none). */
static char *namespace_of(parser_t *p, const char *full) {
    const char *dot = strrchr(full, '.');
    return pstrdup(p, full, dot ? (size_t)(dot - full) : 0);
}

/* Resolve a reference to a named type from namespace ns. */
static evb__avro_node_t *resolve(parser_t *p, const char *ref, const char *ns) {
    evb__avro_node_t *n = NULL;
    if (!strchr(ref, '.') && ns && ns[0]) {
        char *full = make_fullname(p, ref, ns);
        if (!full)
            return NULL;
        n = lookup_name(p->s, full);
    }
    if (!n)
        n = lookup_name(p->s, ref);
    return n;
}

/* ---- the schema grammar --------------------------------------------------- */

static evb__avro_node_t *parse_node(parser_t *p, json_t *j, const char *ns,
                                    unsigned depth);

static const char *get_str(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Read the "aliases" of a named type (full names, relative to ns) or, with
 * ns == NULL, of a field (simple names). */
static bool parse_aliases(parser_t *p, json_t *obj, const char *ns,
                          const char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    json_t *a = json_object_get(obj, "aliases");
    if (!a || json_is_null(a))
        return true;
    if (!json_is_array(a)) {
        fail(p, "aliases not an array: %s", json_is_string(a)
                                                ? json_string_value(a)
                                                : "(not a string)");
        return false;
    }
    size_t cnt = json_array_size(a);
    if (cnt == 0)
        return true;
    const char **v = evb_arena_alloc(&p->s->arena, cnt * sizeof *v);
    if (!v) {
        nomem(p);
        return false;
    }
    for (size_t i = 0; i < cnt; i++) {
        json_t *e = json_array_get(a, i);
        if (!json_is_string(e)) {
            fail(p, "alias not a string");
            return false;
        }
        const char *s = json_string_value(e);
        if (ns) {
            if (!check_dotted_name(p, s))
                return false;
            v[i] = make_fullname(p, s, ns);
        } else {
            if (!check_simple_name(p, s, strlen(s)))
                return false;
            v[i] = s;
        }
        if (!v[i])
            return false;
    }
    *out = v;
    *n = cnt;
    return true;
}

/* Set up a named node: its full name (from "name" and "namespace" or the
 * enclosing ns) and aliases; enter it in the names table. *inner_ns gets
 * the namespace for the types nested in it. */
static bool define_named(parser_t *p, evb__avro_node_t *node, json_t *obj,
                         const char *ns, const char **inner_ns) {
    const char *name = get_str(obj, "name");
    if (!name) {
        fail(p, "No name in schema of type %s", kind_word(node->kind));
        return false;
    }
    if (!check_dotted_name(p, name))
        return false;
    const char *space = ns;
    json_t *nsv = json_object_get(obj, "namespace");
    if (json_is_string(nsv)) {
        space = json_string_value(nsv);
        if (space[0] && !check_dotted_name(p, space))
            return false;
    }
    char *full = make_fullname(p, name, space);
    if (!full)
        return false;
    evb__avro_kind_t pk;
    if (primitive_kind(full, &pk)) {
        fail(p, "Schemas may not be named after primitives: %s", full);
        return false;
    }
    if (lookup_name(p->s, full)) {
        fail(p, "Can't redefine: %s", full);
        return false;
    }
    node->fullname = full;
    const char *dot = strrchr(full, '.');
    node->name = dot ? dot + 1 : full;
    char *inner = namespace_of(p, full);
    if (!inner)
        return false;
    *inner_ns = inner;
    if (!parse_aliases(p, obj, inner, &node->aliases, &node->naliases))
        return false;
    return insert_name(p, node);
}

static bool get_int(json_t *obj, const char *key, int64_t *out) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return true;
}

/* Attach a logical type when it is valid for the node (invalid ones are
 * ignored, as the specification says). */
static void logical_type(parser_t *p, evb__avro_node_t *n, json_t *obj) {
    const char *lt = get_str(obj, "logicalType");
    if (!lt)
        return;
    evb__avro_kind_t k = n->kind;
    bool ok = false;
    if (strcmp(lt, "decimal") == 0 &&
        (k == EVB__AV_BYTES || k == EVB__AV_FIXED)) {
        int64_t prec = 0, scale = 0;
        if (get_int(obj, "precision", &prec) && prec > 0 &&
            (!json_object_get(obj, "scale") || get_int(obj, "scale", &scale)) &&
            scale >= 0 && scale <= prec) {
            ok = true;
            if (k == EVB__AV_FIXED) {
                if (n->size < 1 || n->size > 1024)
                    ok = false;
                else {
                    double digits =
                        floor(log10(2.0) * (double)(8 * n->size - 1));
                    ok = (double)prec <= digits;
                }
            }
            n->precision = prec;
            n->scale = scale;
        }
    } else if (strcmp(lt, "big-decimal") == 0) {
        ok = k == EVB__AV_BYTES;
    } else if (strcmp(lt, "uuid") == 0) {
        ok = k == EVB__AV_STRING || (k == EVB__AV_FIXED && n->size == 16);
    } else if (strcmp(lt, "date") == 0 || strcmp(lt, "time-millis") == 0) {
        ok = k == EVB__AV_INT;
    } else if (strcmp(lt, "time-micros") == 0 ||
               strcmp(lt, "timestamp-millis") == 0 ||
               strcmp(lt, "timestamp-micros") == 0 ||
               strcmp(lt, "timestamp-nanos") == 0 ||
               strcmp(lt, "local-timestamp-millis") == 0 ||
               strcmp(lt, "local-timestamp-micros") == 0 ||
               strcmp(lt, "local-timestamp-nanos") == 0) {
        ok = k == EVB__AV_LONG;
    } else if (strcmp(lt, "duration") == 0) {
        ok = k == EVB__AV_FIXED && n->size == 12;
    }
    if (ok)
        n->logical = pstrdup(p, lt, strlen(lt));
    else
        n->precision = n->scale = 0;
}

static evb__avro_node_t *parse_record(parser_t *p, json_t *obj,
                                      const char *ns, unsigned depth) {
    evb__avro_node_t *n = new_node(p, EVB__AV_RECORD);
    const char *inner = NULL;
    if (!n || !define_named(p, n, obj, ns, &inner))
        return NULL;
    json_t *fields = json_object_get(obj, "fields");
    if (!json_is_array(fields)) {
        fail(p, "Record has no fields: %s", n->fullname);
        return NULL;
    }
    size_t cnt = json_array_size(fields);
    if (cnt) {
        n->fields = evb_arena_calloc(&p->s->arena, cnt, sizeof *n->fields);
        if (!n->fields) {
            nomem(p);
            return NULL;
        }
    }
    for (size_t i = 0; i < cnt; i++) {
        json_t *f = json_array_get(fields, i);
        if (!json_is_object(f)) {
            fail(p, "Field of record %s is not an object", n->fullname);
            return NULL;
        }
        const char *fname = get_str(f, "name");
        if (!fname) {
            fail(p, "No field name in record %s", n->fullname);
            return NULL;
        }
        if (!check_simple_name(p, fname, strlen(fname)))
            return NULL;
        for (size_t k = 0; k < i; k++)
            if (strcmp(n->fields[k].name, fname) == 0) {
                fail(p, "Duplicate field %s in record %s", fname,
                     n->fullname);
                return NULL;
            }
        json_t *ft = json_object_get(f, "type");
        if (!ft) {
            fail(p, "No field type: %s in record %s", fname, n->fullname);
            return NULL;
        }
        evb__avro_field_t *fd = &n->fields[i];
        fd->name = fname;
        fd->type = parse_node(p, ft, inner, depth + 1);
        if (!fd->type)
            return NULL;
        fd->def = json_object_get(f, "default");
        if (!parse_aliases(p, f, NULL, &fd->aliases, &fd->naliases))
            return NULL;
        n->nfields = i + 1;
    }
    return n;
}

static evb__avro_node_t *parse_enum(parser_t *p, json_t *obj, const char *ns) {
    evb__avro_node_t *n = new_node(p, EVB__AV_ENUM);
    const char *inner = NULL;
    if (!n || !define_named(p, n, obj, ns, &inner))
        return NULL;
    json_t *syms = json_object_get(obj, "symbols");
    if (!json_is_array(syms)) {
        fail(p, "Enum has no symbols: %s", n->fullname);
        return NULL;
    }
    size_t cnt = json_array_size(syms);
    if (cnt) {
        n->symbols = evb_arena_alloc(&p->s->arena, cnt * sizeof *n->symbols);
        if (!n->symbols) {
            nomem(p);
            return NULL;
        }
    }
    for (size_t i = 0; i < cnt; i++) {
        json_t *e = json_array_get(syms, i);
        if (!json_is_string(e)) {
            fail(p, "Enum symbol not a string in %s", n->fullname);
            return NULL;
        }
        const char *sym = json_string_value(e);
        if (!check_simple_name(p, sym, strlen(sym)))
            return NULL;
        for (size_t k = 0; k < i; k++)
            if (strcmp(n->symbols[k], sym) == 0) {
                fail(p, "Duplicate enum symbol: %s", sym);
                return NULL;
            }
        n->symbols[i] = sym;
    }
    n->nsymbols = cnt;
    json_t *def = json_object_get(obj, "default");
    if (def && !json_is_null(def)) {
        const char *d = json_is_string(def) ? json_string_value(def) : NULL;
        bool found = false;
        for (size_t i = 0; d && i < cnt; i++)
            found = found || strcmp(n->symbols[i], d) == 0;
        if (!found) {
            fail(p, "The Enum Default: %s is not in the enum symbol set: %s",
                 d ? d : "(not a string)", n->fullname);
            return NULL;
        }
        n->enum_default = d;
    }
    return n;
}

static evb__avro_node_t *parse_fixed(parser_t *p, json_t *obj,
                                     const char *ns) {
    evb__avro_node_t *n = new_node(p, EVB__AV_FIXED);
    const char *inner = NULL;
    if (!n || !define_named(p, n, obj, ns, &inner))
        return NULL;
    int64_t size;
    if (!get_int(obj, "size", &size) || size < 0 || size > INT32_MAX) {
        fail(p, "Invalid or no size: %s", n->fullname);
        return NULL;
    }
    n->size = size;
    logical_type(p, n, obj);
    return n;
}

static evb__avro_node_t *parse_union(parser_t *p, json_t *arr, const char *ns,
                                     unsigned depth) {
    evb__avro_node_t *n = new_node(p, EVB__AV_UNION);
    if (!n)
        return NULL;
    size_t cnt = json_array_size(arr);
    if (cnt) {
        n->branches = evb_arena_alloc(&p->s->arena, cnt * sizeof *n->branches);
        if (!n->branches) {
            nomem(p);
            return NULL;
        }
    }
    for (size_t i = 0; i < cnt; i++) {
        evb__avro_node_t *b =
            parse_node(p, json_array_get(arr, i), ns, depth + 1);
        if (!b)
            return NULL;
        if (b->kind == EVB__AV_UNION) {
            fail(p, "Nested union");
            return NULL;
        }
        for (size_t k = 0; k < i; k++) {
            const evb__avro_node_t *o = n->branches[k];
            bool named = b->fullname != NULL;
            if (o->kind == b->kind &&
                (!named || strcmp(o->fullname, b->fullname) == 0)) {
                fail(p, "Duplicate in union:%s",
                     named ? b->fullname : kind_word(b->kind));
                return NULL;
            }
        }
        n->branches[i] = b;
    }
    n->nbranches = cnt;
    return n;
}

static evb__avro_node_t *parse_object(parser_t *p, json_t *obj, const char *ns,
                                      unsigned depth) {
    json_t *tv = json_object_get(obj, "type");
    if (!tv) {
        fail(p, "No type");
        return NULL;
    }
    if (!json_is_string(tv)) {
        /* {"type": {...}} or {"type": [...]}: the type is itself a schema
         * (accepted by some implementations; the wrapper adds nothing). */
        if (json_is_object(tv) || json_is_array(tv))
            return parse_node(p, tv, ns, depth + 1);
        fail(p, "No type");
        return NULL;
    }
    const char *type = json_string_value(tv);
    evb__avro_kind_t kind;
    if (primitive_kind(type, &kind)) {
        evb__avro_node_t *n = new_node(p, kind);
        if (n)
            logical_type(p, n, obj);
        return n;
    }
    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0)
        return parse_record(p, obj, ns, depth);
    if (strcmp(type, "enum") == 0)
        return parse_enum(p, obj, ns);
    if (strcmp(type, "fixed") == 0)
        return parse_fixed(p, obj, ns);
    if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0) {
        bool arr = type[0] == 'a';
        json_t *c = json_object_get(obj, arr ? "items" : "values");
        if (!c) {
            fail(p, arr ? "Array has no items type" : "Map has no values type");
            return NULL;
        }
        evb__avro_node_t *n = new_node(p, arr ? EVB__AV_ARRAY : EVB__AV_MAP);
        if (!n)
            return NULL;
        n->child = parse_node(p, c, ns, depth + 1);
        return n->child ? n : NULL;
    }
    /* {"type": "com.example.Named"}: a reference to a defined type */
    evb__avro_node_t *ref = resolve(p, type, ns);
    if (!ref && !p->err)
        fail(p, "Type not supported: %s", type);
    return ref;
}

static evb__avro_node_t *parse_node(parser_t *p, json_t *j, const char *ns,
                                    unsigned depth) {
    if (p->err)
        return NULL;
    if (depth > EVB__AVRO_MAX_DEPTH) {
        fail(p, "Schema nested deeper than %u levels", EVB__AVRO_MAX_DEPTH);
        return NULL;
    }
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        evb__avro_kind_t kind;
        if (primitive_kind(s, &kind))
            return new_node(p, kind);
        evb__avro_node_t *ref = resolve(p, s, ns);
        if (!ref && !p->err)
            fail(p, "Undefined name: \"%.200s\"", s);
        return ref;
    }
    if (json_is_object(j))
        return parse_object(p, j, ns, depth);
    if (json_is_array(j))
        return parse_union(p, j, ns, depth);
    fail(p, "Schema not yet supported: a JSON %s is not a schema",
         json_is_number(j)    ? "number"
         : json_is_boolean(j) ? "boolean"
                              : "null");
    return NULL;
}

/* ---- defaults ------------------------------------------------------------- */

/* Is value a valid default for a field of schema n? (Avro's
 * Schema.isValidDefault; a union accepts a value of any of its branches.) */
static bool valid_default(const evb__avro_node_t *n, json_t *v,
                          unsigned depth) {
    if (depth > EVB__AVRO_MAX_DEPTH)
        return false;
    switch (n->kind) {
    case EVB__AV_NULL:
        return json_is_null(v);
    case EVB__AV_BOOLEAN:
        return json_is_boolean(v);
    case EVB__AV_INT:
        return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
               json_integer_value(v) <= INT32_MAX;
    case EVB__AV_LONG:
        return json_is_integer(v);
    case EVB__AV_FLOAT:
    case EVB__AV_DOUBLE:
        return json_is_number(v);
    case EVB__AV_BYTES:
    case EVB__AV_STRING:
    case EVB__AV_FIXED:
        return json_is_string(v);
    case EVB__AV_ENUM:
        if (!json_is_string(v))
            return false;
        for (size_t i = 0; i < n->nsymbols; i++)
            if (strcmp(n->symbols[i], json_string_value(v)) == 0)
                return true;
        return false;
    case EVB__AV_ARRAY: {
        if (!json_is_array(v))
            return false;
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!valid_default(n->child, json_array_get(v, i), depth + 1))
                return false;
        return true;
    }
    case EVB__AV_MAP: {
        if (!json_is_object(v))
            return false;
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) {
            if (!valid_default(n->child, e, depth + 1))
                return false;
        }
        return true;
    }
    case EVB__AV_UNION:
        for (size_t i = 0; i < n->nbranches; i++)
            if (valid_default(n->branches[i], v, depth + 1))
                return true;
        return false;
    case EVB__AV_RECORD: {
        if (!json_is_object(v))
            return false;
        for (size_t i = 0; i < n->nfields; i++) {
            const evb__avro_field_t *f = &n->fields[i];
            json_t *fv = json_object_get(v, f->name);
            if (fv ? !valid_default(f->type, fv, depth + 1) : !f->def)
                return false;
        }
        return true;
    }
    }
    return false;
}

static void check_defaults(parser_t *p) {
    const evb__avro_t *s = p->s;
    for (size_t i = 0; i < s->nnamed && !p->err; i++) {
        const evb__avro_node_t *n = s->named[i];
        if (n->kind != EVB__AV_RECORD)
            continue;
        for (size_t k = 0; k < n->nfields; k++) {
            const evb__avro_field_t *f = &n->fields[k];
            if (f->def && !valid_default(f->type, (json_t *)f->def, 0)) {
                char *txt = json_dumps((json_t *)f->def,
                                       JSON_COMPACT | JSON_ENCODE_ANY);
                fail(p, "Invalid default for field %s: %.200s not a %s",
                     f->name, txt ? txt : "value", kind_word(f->type->kind));
                free(txt);
                return;
            }
        }
    }
}

/* ---- entry points ------------------------------------------------------- */

evb_registry_err_t evb__avro_parse(const char *text, size_t len,
                                   evb__avro_t **out, evb_buf_t *msg) {
    *out = NULL;
    evb__avro_t *s = calloc(1, sizeof *s);
    if (!s) {
        evb__msg(msg, "Out of memory");
        return EVB_REGISTRY_ERR_NOMEM;
    }
    evb_arena_init(&s->arena, 0);
    json_error_t jerr;
    s->doc = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    if (!s->doc) {
        evb__msg(msg, "Invalid schema JSON: %s (line %d, column %d)",
                 jerr.text, jerr.line, jerr.column);
        evb__avro_free(s);
        return EVB_REGISTRY_ERR_INVALID_SCHEMA;
    }
    parser_t p = {.s = s, .msg = msg, .err = EVB_REGISTRY_ERR_OK};
    s->root = parse_node(&p, s->doc, NULL, 0);
    if (!p.err)
        check_defaults(&p);
    if (p.err) {
        evb__avro_free(s);
        return p.err;
    }
    *out = s;
    return EVB_REGISTRY_ERR_OK;
}

void evb__avro_free(evb__avro_t *s) {
    if (!s)
        return;
    json_decref(s->doc);
    evb_arena_free(&s->arena);
    free(s);
}

const evb__avro_node_t *evb__avro_root(const evb__avro_t *s) {
    return s->root;
}

unsigned evb__avro_node_count(const evb__avro_t *s) {
    return s->nnodes;
}

/* ---- writing the canonical and normalized forms -------------------------- */

typedef struct writer {
    evb_buf_t *b;
    bool normalized;
    bool *written; /* by node idx: named type already written */
    evb_err_t err;
} writer_t;

static void put(writer_t *w, const char *s) {
    if (!w->err)
        w->err = evb_buf_append(w->b, s, strlen(s));
}

static void put_str(writer_t *w, const char *s) {
    if (!w->err)
        w->err = evb_json_append_string_lower(w->b, s, strlen(s));
}

static void put_json(writer_t *w, const void *v) {
    if (w->err)
        return;
    char *t = json_dumps((const json_t *)v,
                         JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    if (!t) {
        w->err = EVB_ERR_NOMEM;
        return;
    }
    put(w, t);
    free(t);
}

static void put_names(writer_t *w, const char *key, const char **v, size_t n) {
    if (!n)
        return;
    put(w, ",\"");
    put(w, key);
    put(w, "\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            put(w, ",");
        put_str(w, v[i]);
    }
    put(w, "]");
}

static void put_logical(writer_t *w, const evb__avro_node_t *n) {
    if (!w->normalized || !n->logical)
        return;
    put(w, ",\"logicalType\":");
    put_str(w, n->logical);
    if (strcmp(n->logical, "decimal") == 0) {
        char num[64];
        snprintf(num, sizeof num, ",\"precision\":%lld,\"scale\":%lld",
                 (long long)n->precision, (long long)n->scale);
        put(w, num);
    }
}

static void write_node(writer_t *w, const evb__avro_node_t *n) {
    if (w->err)
        return;
    switch (n->kind) {
    case EVB__AV_NULL:
    case EVB__AV_BOOLEAN:
    case EVB__AV_INT:
    case EVB__AV_LONG:
    case EVB__AV_FLOAT:
    case EVB__AV_DOUBLE:
    case EVB__AV_BYTES:
    case EVB__AV_STRING:
        if (w->normalized && n->logical) {
            put(w, "{\"type\":");
            put_str(w, kind_word(n->kind));
            put_logical(w, n);
            put(w, "}");
        } else {
            put_str(w, kind_word(n->kind));
        }
        return;
    case EVB__AV_ARRAY:
    case EVB__AV_MAP:
        put(w, n->kind == EVB__AV_ARRAY ? "{\"type\":\"array\",\"items\":"
                                        : "{\"type\":\"map\",\"values\":");
        write_node(w, n->child);
        put(w, "}");
        return;
    case EVB__AV_UNION:
        put(w, "[");
        for (size_t i = 0; i < n->nbranches; i++) {
            if (i)
                put(w, ",");
            write_node(w, n->branches[i]);
        }
        put(w, "]");
        return;
    case EVB__AV_RECORD:
    case EVB__AV_ENUM:
    case EVB__AV_FIXED:
        break;
    }
    if (w->written[n->idx]) {
        put_str(w, n->fullname);
        return;
    }
    w->written[n->idx] = true;
    put(w, "{\"name\":");
    put_str(w, n->fullname);
    put(w, ",\"type\":");
    put_str(w, kind_word(n->kind));
    if (n->kind == EVB__AV_RECORD) {
        put(w, ",\"fields\":[");
        for (size_t i = 0; i < n->nfields; i++) {
            const evb__avro_field_t *f = &n->fields[i];
            put(w, i ? ",{\"name\":" : "{\"name\":");
            put_str(w, f->name);
            put(w, ",\"type\":");
            write_node(w, f->type);
            if (w->normalized && f->def) {
                put(w, ",\"default\":");
                put_json(w, f->def);
            }
            if (w->normalized)
                put_names(w, "aliases", f->aliases, f->naliases);
            put(w, "}");
        }
        put(w, "]");
    } else if (n->kind == EVB__AV_ENUM) {
        put(w, ",\"symbols\":[");
        for (size_t i = 0; i < n->nsymbols; i++) {
            if (i)
                put(w, ",");
            put_str(w, n->symbols[i]);
        }
        put(w, "]");
        if (w->normalized && n->enum_default) {
            put(w, ",\"default\":");
            put_str(w, n->enum_default);
        }
    } else {
        char num[32];
        snprintf(num, sizeof num, ",\"size\":%lld", (long long)n->size);
        put(w, num);
        put_logical(w, n);
    }
    if (w->normalized)
        put_names(w, "aliases", n->aliases, n->naliases);
    put(w, "}");
}

static evb_err_t write_form(const evb__avro_t *s, evb_buf_t *b,
                            bool normalized) {
    writer_t w = {.b = b, .normalized = normalized};
    w.written = calloc(s->nnodes ? s->nnodes : 1, sizeof *w.written);
    if (!w.written)
        return EVB_ERR_NOMEM;
    write_node(&w, s->root);
    free(w.written);
    return w.err;
}

evb_err_t evb__avro_canonical(const evb__avro_t *s, evb_buf_t *b) {
    return write_form(s, b, false);
}

evb_err_t evb__avro_normalized(const evb__avro_t *s, evb_buf_t *b) {
    return write_form(s, b, true);
}

/* ---- public wrappers ------------------------------------------------------ */

evb_registry_err_t evb_registry_avro_canonical(const char *schema, size_t len,
                                               evb_buf_t *pcf, evb_buf_t *msg) {
    evb__avro_t *s;
    evb_registry_err_t err = evb__avro_parse(schema, len, &s, msg);
    if (err)
        return err;
    if (pcf) {
        evb_buf_reset(pcf);
        if (evb__avro_canonical(s, pcf)) {
            evb__avro_free(s);
            evb__msg(msg, "Out of memory");
            return EVB_REGISTRY_ERR_NOMEM;
        }
    }
    evb__avro_free(s);
    return EVB_REGISTRY_ERR_OK;
}

/* CRC-64-AVRO, as the specification gives it ("Schema Fingerprints"). */
#define FP_EMPTY 0xc15d213aa4d7a795ull
static uint64_t fp_table[256];
static pthread_once_t fp_once = PTHREAD_ONCE_INIT;

static void fp_init(void) {
    for (int i = 0; i < 256; i++) {
        uint64_t fp = (uint64_t)i;
        for (int j = 0; j < 8; j++)
            fp = (fp >> 1) ^ (FP_EMPTY & (0 - (fp & 1)));
        fp_table[i] = fp;
    }
}

uint64_t evb_registry_avro_fingerprint64(const char *pcf, size_t len) {
    pthread_once(&fp_once, fp_init);
    uint64_t fp = FP_EMPTY;
    for (size_t i = 0; i < len; i++)
        fp = (fp >> 8) ^ fp_table[(fp ^ (unsigned char)pcf[i]) & 0xff];
    return fp;
}
