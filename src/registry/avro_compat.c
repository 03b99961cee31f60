/*
 * avro_compat.c: can data written with one Avro schema be read with
 * another? Avro's schema-resolution rules, checked the way the Java
 * implementation's SchemaCompatibility does it (which is what Confluent's
 * registry runs), with the same incompatibility types, locations and
 * Confluent's wording of each:
 *
 *   same kinds     primitives match; arrays and maps recurse into items
 *                  and values; records, enums and fixed must match by
 *                  unqualified name or a reader alias of the writer's
 *                  full name (NAME_MISMATCH); fixed sizes must be equal
 *                  (FIXED_SIZE_MISMATCH); every writer enum symbol must be
 *                  a reader symbol unless the reader has a default
 *                  (MISSING_ENUM_SYMBOLS); each reader field is found in
 *                  the writer by name or by one of its aliases and its
 *                  types checked, or must have a default
 *                  (READER_FIELD_MISSING_DEFAULT_VALUE); each branch of a
 *                  writer union must be readable by the reader union
 *                  (MISSING_UNION_BRANCH)
 *   writer union   every branch must be readable by the reader
 *   reader union   some branch must read the writer (MISSING_UNION_BRANCH)
 *   promotions     int -> long, float, double; long -> float, double;
 *                  float -> double; string <-> bytes; else TYPE_MISMATCH
 *
 * Recursive schemas: a (reader record, writer record) pair whose check is
 * in progress counts as compatible when met again, and finished pairs are
 * memoized with their incompatibilities, as Java's checker does; this
 * also keeps the work polynomial for schemas that reuse named types.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_internal.h"

/* Incompatibilities listed at most (the verdict counts them all). */
#define MAX_MESSAGES 100

typedef struct loc_tok {
    const char *s; /* NULL: the number */
    size_t num;
} loc_tok_t;

typedef struct memo {
    unsigned r, w;
    bool used;
    bool done;
    bool ok;
    char *msgs; /* the messages found for the pair, comma-separated */
    size_t msgs_len;
    size_t count;
} memo_t;

typedef struct cctx {
    const char *rrole, *wrole;
    evb_buf_t out; /* messages found so far, comma-separated */
    size_t count;
    bool nomem;
    loc_tok_t *loc;
    size_t nloc, loc_cap;
    memo_t *memo;
    size_t memo_cap, memo_n;
} cctx_t;

static const char *kind_upper(evb__avro_kind_t k) {
    static const char *const names[] = {
        "NULL",   "BOOLEAN", "INT",  "LONG",  "FLOAT", "DOUBLE", "BYTES",
        "STRING", "RECORD",  "ENUM", "ARRAY", "MAP",   "UNION",  "FIXED",
    };
    return names[k];
}

static void push(cctx_t *c, const char *s, size_t num) {
    if (c->nloc == c->loc_cap) {
        size_t cap = c->loc_cap ? c->loc_cap * 2 : 32;
        loc_tok_t *v = realloc(c->loc, cap * sizeof *v);
        if (!v) {
            c->nomem = true;
            return;
        }
        c->loc = v;
        c->loc_cap = cap;
    }
    c->loc[c->nloc].s = s;
    c->loc[c->nloc].num = num;
    c->nloc++;
}

static void pop(cctx_t *c, size_t mark) {
    c->nloc = mark;
}

static void path(cctx_t *c, evb_buf_t *b) {
    if (c->nloc == 0)
        (void)evb_buf_putc(b, '/');
    for (size_t i = 0; i < c->nloc; i++) {
        if (c->loc[i].s)
            (void)evb_buf_appendf(b, "/%s", c->loc[i].s);
        else
            (void)evb_buf_appendf(b, "/%zu", c->loc[i].num);
    }
}

typedef enum inc_type {
    NAME_MISMATCH,
    FIXED_SIZE_MISMATCH,
    MISSING_ENUM_SYMBOLS,
    READER_FIELD_MISSING_DEFAULT_VALUE,
    TYPE_MISMATCH,
    MISSING_UNION_BRANCH,
} inc_type_t;

/* Record one incompatibility at the current location, worded as
 * Confluent's Difference.error() words it. */
static void report(cctx_t *c, inc_type_t t, const char *info) {
    if (c->count >= MAX_MESSAGES || c->nomem)
        return;
    evb_buf_t p, d;
    evb_buf_init(&p, 0);
    evb_buf_init(&d, 0);
    path(c, &p);
    const char *ps = p.data ? p.data : "/";
    const char *type = "";
    switch (t) {
    case NAME_MISMATCH:
        type = "NAME_MISMATCH";
        (void)evb_buf_appendf(&d, "The name of the schema has changed (path '%s')",
                              ps);
        break;
    case FIXED_SIZE_MISMATCH:
        type = "FIXED_SIZE_MISMATCH";
        (void)evb_buf_appendf(&d,
                              "The size of FIXED type field at path '%s' in "
                              "the %s schema does not match with the %s schema",
                              ps, c->rrole, c->wrole);
        break;
    case MISSING_ENUM_SYMBOLS:
        type = "MISSING_ENUM_SYMBOLS";
        (void)evb_buf_appendf(&d,
                              "The %s schema is missing enum symbols '%s' at "
                              "path '%s' in the %s schema",
                              c->rrole, info, ps, c->wrole);
        break;
    case READER_FIELD_MISSING_DEFAULT_VALUE:
        type = "READER_FIELD_MISSING_DEFAULT_VALUE";
        (void)evb_buf_appendf(&d,
                              "The field '%s' at path '%s' in the %s schema "
                              "has no default value and is missing in the %s "
                              "schema",
                              info, ps, c->rrole, c->wrole);
        break;
    case TYPE_MISMATCH:
        type = "TYPE_MISMATCH";
        (void)evb_buf_appendf(&d,
                              "The type (path '%s') of a field in the %s "
                              "schema does not match with the %s schema",
                              ps, c->rrole, c->wrole);
        break;
    case MISSING_UNION_BRANCH:
        type = "MISSING_UNION_BRANCH";
        (void)evb_buf_appendf(&d,
                              "The %s schema is missing a type inside a union "
                              "field at path '%s' in the %s schema",
                              c->rrole, ps, c->wrole);
        break;
    }
    evb_buf_t m;
    evb_buf_init(&m, 0);
    evb_err_t err = evb_buf_appendf(
        &m, "{errorType:'%s', description:'%s', additionalInfo:'%s'}", type,
        d.data ? d.data : "", info);
    if (!err && c->out.len)
        err = evb_buf_putc(&c->out, ',');
    if (!err)
        err = evb_json_append_string_lower(&c->out, m.data, m.len);
    if (err)
        c->nomem = true;
    else
        c->count++;
    evb_buf_free(&m);
    evb_buf_free(&p);
    evb_buf_free(&d);
}

/* ---- memo of record pairs ------------------------------------------------- */

static size_t memo_slot(const cctx_t *c, unsigned r, unsigned w) {
    uint64_t h = ((uint64_t)r * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)w + 0x632BE5AB);
    h ^= h >> 29;
    size_t mask = c->memo_cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask)
        if (!c->memo[i].used || (c->memo[i].r == r && c->memo[i].w == w))
            return i;
}

static memo_t *memo_find(cctx_t *c, unsigned r, unsigned w) {
    if (!c->memo_cap)
        return NULL;
    memo_t *m = &c->memo[memo_slot(c, r, w)];
    return m->used ? m : NULL;
}

static memo_t *memo_add(cctx_t *c, unsigned r, unsigned w) {
    if ((c->memo_n + 1) * 2 > c->memo_cap) {
        size_t cap = c->memo_cap ? c->memo_cap * 2 : 64;
        memo_t *old = c->memo;
        size_t old_cap = c->memo_cap;
        c->memo = calloc(cap, sizeof *c->memo);
        if (!c->memo) {
            c->memo = old;
            c->nomem = true;
            return NULL;
        }
        c->memo_cap = cap;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].used)
                c->memo[memo_slot(c, old[i].r, old[i].w)] = old[i];
        free(old);
    }
    memo_t *m = &c->memo[memo_slot(c, r, w)];
    memset(m, 0, sizeof *m);
    m->used = true;
    m->r = r;
    m->w = w;
    c->memo_n++;
    return m;
}

/* ---- the rules -------------------------------------------------------------- */

static bool compat(cctx_t *c, const evb__avro_node_t *r,
                   const evb__avro_node_t *w);

/* Check without recording anything (Java runs these as separate checks
 * whose details it drops). */
static bool quiet(cctx_t *c, const evb__avro_node_t *r,
                  const evb__avro_node_t *w) {
    size_t len = c->out.len, count = c->count, nloc = c->nloc;
    bool ok = compat(c, r, w);
    c->out.len = len;
    if (c->out.data)
        c->out.data[len] = '\0';
    c->count = count;
    c->nloc = nloc;
    return ok;
}

static bool check_names(cctx_t *c, const evb__avro_node_t *r,
                        const evb__avro_node_t *w) {
    if (strcmp(r->name, w->name) == 0)
        return true;
    for (size_t i = 0; i < r->naliases; i++)
        if (strcmp(r->aliases[i], w->fullname) == 0)
            return true;
    size_t mark = c->nloc;
    push(c, "name", 0);
    evb_buf_t info;
    evb_buf_init(&info, 0);
    if (evb_buf_appendf(&info, "expected: %s", w->fullname))
        c->nomem = true;
    else
        report(c, NAME_MISMATCH, info.data);
    evb_buf_free(&info);
    pop(c, mark);
    return false;
}

static bool check_size(cctx_t *c, const evb__avro_node_t *r,
                       const evb__avro_node_t *w) {
    if (r->size == w->size)
        return true;
    size_t mark = c->nloc;
    push(c, "size", 0);
    char info[96];
    snprintf(info, sizeof info, "expected: %lld, found: %lld",
             (long long)w->size, (long long)r->size);
    report(c, FIXED_SIZE_MISMATCH, info);
    pop(c, mark);
    return false;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool check_symbols(cctx_t *c, const evb__avro_node_t *r,
                          const evb__avro_node_t *w) {
    if (r->enum_default)
        return true; /* unknown symbols read as the default */
    const char **missing = NULL;
    size_t n = 0;
    for (size_t i = 0; i < w->nsymbols; i++) {
        bool found = false;
        for (size_t k = 0; k < r->nsymbols && !found; k++)
            found = strcmp(w->symbols[i], r->symbols[k]) == 0;
        if (found)
            continue;
        if (!missing) {
            missing = malloc(w->nsymbols * sizeof *missing);
            if (!missing) {
                c->nomem = true;
                return false;
            }
        }
        missing[n++] = w->symbols[i];
    }
    if (!n)
        return true;
    qsort(missing, n, sizeof *missing, cmp_str);
    evb_buf_t info;
    evb_buf_init(&info, 0);
    evb_err_t err = evb_buf_putc(&info, '[');
    for (size_t i = 0; i < n && !err; i++)
        err = evb_buf_appendf(&info, "%s%s", i ? ", " : "", missing[i]);
    if (!err)
        err = evb_buf_putc(&info, ']');
    free(missing);
    size_t mark = c->nloc;
    push(c, "symbols", 0);
    if (err)
        c->nomem = true;
    else
        report(c, MISSING_ENUM_SYMBOLS, info.data);
    pop(c, mark);
    evb_buf_free(&info);
    return false;
}

static const evb__avro_field_t *writer_field(const evb__avro_node_t *w,
                                             const evb__avro_field_t *rf) {
    for (size_t i = 0; i < w->nfields; i++)
        if (strcmp(w->fields[i].name, rf->name) == 0)
            return &w->fields[i];
    for (size_t a = 0; a < rf->naliases; a++)
        for (size_t i = 0; i < w->nfields; i++)
            if (strcmp(w->fields[i].name, rf->aliases[a]) == 0)
                return &w->fields[i];
    return NULL;
}

/* Append a memoized pair's messages at the end of the output. */
static void replay(cctx_t *c, const memo_t *m) {
    if (!m->msgs_len || c->nomem)
        return;
    evb_err_t err = EVB_ERR_OK;
    if (c->count + m->count > MAX_MESSAGES)
        return;
    if (c->out.len)
        err = evb_buf_putc(&c->out, ',');
    if (!err)
        err = evb_buf_append(&c->out, m->msgs, m->msgs_len);
    if (err)
        c->nomem = true;
    else
        c->count += m->count;
}

static bool record_pair(cctx_t *c, const evb__avro_node_t *r,
                        const evb__avro_node_t *w) {
    memo_t *m = memo_find(c, r->idx, w->idx);
    if (m) {
        if (!m->done)
            return true; /* recursion: assumed compatible */
        replay(c, m);
        return m->ok;
    }
    if (!memo_add(c, r->idx, w->idx))
        return false;
    size_t start = c->out.len, count = c->count;
    bool ok = check_names(c, r, w);
    size_t mark = c->nloc;
    push(c, "fields", 0);
    for (size_t i = 0; i < r->nfields; i++) {
        const evb__avro_field_t *rf = &r->fields[i];
        size_t fmark = c->nloc;
        push(c, NULL, i);
        const evb__avro_field_t *wf = writer_field(w, rf);
        if (!wf) {
            if (!rf->def) {
                report(c, READER_FIELD_MISSING_DEFAULT_VALUE, rf->name);
                ok = false;
            }
        } else {
            push(c, "type", 0);
            if (!compat(c, rf->type, wf->type))
                ok = false;
        }
        pop(c, fmark);
    }
    pop(c, mark);
    m = memo_find(c, r->idx, w->idx); /* the table may have moved */
    if (!m)
        return false;
    m->done = true;
    m->ok = ok;
    if (c->out.len > start) {
        size_t from = start && c->out.data[start] == ',' ? start + 1 : start;
        m->msgs = malloc(c->out.len - from);
        if (!m->msgs) {
            c->nomem = true;
        } else {
            memcpy(m->msgs, c->out.data + from, c->out.len - from);
            m->msgs_len = c->out.len - from;
            m->count = c->count - count;
        }
    }
    return ok;
}

static bool type_mismatch(cctx_t *c, const evb__avro_node_t *r,
                          const evb__avro_node_t *w) {
    char info[128];
    snprintf(info, sizeof info,
             "reader type: %s not compatible with writer type: %s",
             kind_upper(r->kind), kind_upper(w->kind));
    report(c, TYPE_MISMATCH, info);
    return false;
}

static bool compat(cctx_t *c, const evb__avro_node_t *r,
                   const evb__avro_node_t *w) {
    if (c->nomem)
        return false;
    size_t mark = c->nloc;
    if (r->kind == w->kind) {
        bool ok = true;
        switch (r->kind) {
        case EVB__AV_NULL:
        case EVB__AV_BOOLEAN:
        case EVB__AV_INT:
        case EVB__AV_LONG:
        case EVB__AV_FLOAT:
        case EVB__AV_DOUBLE:
        case EVB__AV_BYTES:
        case EVB__AV_STRING:
            return true;
        case EVB__AV_ARRAY:
        case EVB__AV_MAP:
            push(c, r->kind == EVB__AV_ARRAY ? "items" : "values", 0);
            ok = compat(c, r->child, w->child);
            pop(c, mark);
            return ok;
        case EVB__AV_FIXED:
            ok = check_names(c, r, w);
            return check_size(c, r, w) && ok;
        case EVB__AV_ENUM:
            ok = check_names(c, r, w);
            return check_symbols(c, r, w) && ok;
        case EVB__AV_RECORD:
            return record_pair(c, r, w);
        case EVB__AV_UNION:
            for (size_t i = 0; i < w->nbranches; i++) {
                push(c, NULL, i);
                if (!quiet(c, r, w->branches[i])) {
                    char info[96];
                    snprintf(info, sizeof info,
                             "reader union lacking writer type: %s",
                             kind_upper(w->branches[i]->kind));
                    report(c, MISSING_UNION_BRANCH, info);
                    ok = false;
                }
                pop(c, mark);
            }
            return ok;
        }
        return false;
    }
    if (w->kind == EVB__AV_UNION) {
        bool ok = true;
        for (size_t i = 0; i < w->nbranches; i++) {
            push(c, NULL, i);
            if (!compat(c, r, w->branches[i]))
                ok = false;
            pop(c, mark);
        }
        return ok;
    }
    switch (r->kind) {
    case EVB__AV_LONG:
        return w->kind == EVB__AV_INT || type_mismatch(c, r, w);
    case EVB__AV_FLOAT:
        return w->kind == EVB__AV_INT || w->kind == EVB__AV_LONG ||
               type_mismatch(c, r, w);
    case EVB__AV_DOUBLE:
        return w->kind == EVB__AV_INT || w->kind == EVB__AV_LONG ||
               w->kind == EVB__AV_FLOAT || type_mismatch(c, r, w);
    case EVB__AV_BYTES:
        return w->kind == EVB__AV_STRING || type_mismatch(c, r, w);
    case EVB__AV_STRING:
        return w->kind == EVB__AV_BYTES || type_mismatch(c, r, w);
    case EVB__AV_UNION: {
        for (size_t i = 0; i < r->nbranches; i++)
            if (quiet(c, r->branches[i], w))
                return true;
        char info[96];
        snprintf(info, sizeof info, "reader union lacking writer type: %s",
                 kind_upper(w->kind));
        report(c, MISSING_UNION_BRANCH, info);
        return false;
    }
    default:
        return type_mismatch(c, r, w);
    }
}

bool evb__avro_can_read(const evb__avro_t *reader, const evb__avro_t *writer,
                        const char *reader_role, const char *writer_role,
                        evb_buf_t *messages, bool *nomem) {
    cctx_t c;
    memset(&c, 0, sizeof c);
    c.rrole = reader_role;
    c.wrole = writer_role;
    evb_buf_init(&c.out, 0);
    bool ok = compat(&c, evb__avro_root(reader), evb__avro_root(writer));
    if (!c.nomem && messages && c.out.len) {
        evb_err_t err = EVB_ERR_OK;
        if (messages->len)
            err = evb_buf_putc(messages, ',');
        if (!err)
            err = evb_buf_append(messages, c.out.data, c.out.len);
        if (err)
            c.nomem = true;
    }
    if (c.nomem)
        ok = false;
    *nomem = c.nomem;
    for (size_t i = 0; i < c.memo_cap; i++)
        free(c.memo[i].msgs);
    free(c.memo);
    free(c.loc);
    evb_buf_free(&c.out);
    return ok;
}

evb_registry_err_t evb_registry_avro_compatible(
    const char *new_schema, size_t new_len, const char *old_schema,
    size_t old_len, evb_registry_compat_t level, bool *compatible,
    evb_buf_t *messages, evb_buf_t *msg) {
    *compatible = false;
    evb__avro_t *ns = NULL, *os = NULL;
    evb_registry_err_t err = evb__avro_parse(new_schema, new_len, &ns, msg);
    if (!err)
        err = evb__avro_parse(old_schema, old_len, &os, msg);
    if (err) {
        evb__avro_free(ns);
        return err;
    }
    bool ok = true, nomem = false;
    bool backward = level == EVB_REGISTRY_COMPAT_BACKWARD ||
                    level == EVB_REGISTRY_COMPAT_BACKWARD_TRANSITIVE ||
                    level == EVB_REGISTRY_COMPAT_FULL ||
                    level == EVB_REGISTRY_COMPAT_FULL_TRANSITIVE;
    bool forward = level == EVB_REGISTRY_COMPAT_FORWARD ||
                   level == EVB_REGISTRY_COMPAT_FORWARD_TRANSITIVE ||
                   level == EVB_REGISTRY_COMPAT_FULL ||
                   level == EVB_REGISTRY_COMPAT_FULL_TRANSITIVE;
    if (backward)
        ok = evb__avro_can_read(ns, os, "new", "old", messages, &nomem);
    if (forward && !nomem) {
        bool nm = false;
        ok = evb__avro_can_read(os, ns, "old", "new", messages, &nm) && ok;
        nomem = nm;
    }
    evb__avro_free(ns);
    evb__avro_free(os);
    if (nomem) {
        evb__msg(msg, "Out of memory");
        return EVB_REGISTRY_ERR_NOMEM;
    }
    *compatible = ok;
    return EVB_REGISTRY_ERR_OK;
}
