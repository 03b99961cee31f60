/*
 * encode.c: JSON -> Avro binary, driven by the compiled plan.
 *
 * Two modes share one walk:
 * - the decoder-shaped JSON of avro.h (evb_avro_from_json): unions
 *   unwrapped or wrapped as the decoder writes them, or in Avro's own JSON
 *   encoding, or bare; bytes as base64; decimals as base64 or numbers;
 *   missing record members take the precompiled binary of their default;
 * - Avro schema defaults (schema.c, to validate and precompile them): bytes
 *   and fixed as ISO-8859-1 strings, a union's default is a value of its
 *   first branch (any branch, as Java accepts), missing members of a
 *   record default take their own field default.
 * The JSON comes from src/json's DOM, which keeps the source text of
 * numbers, so longs and decimals are converted exactly.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_internal.h"

#define PATH_MAX_DEPTH 12
#define ENC_MAX_DEPTH 256

typedef struct epath {
    bool is_index;
    uint64_t index;
    char name[40];
} epath_t;

typedef struct ectx {
    evb_buf_t *out;
    unsigned flags;
    bool dflt; /* Avro default semantics */
    unsigned depth;
    evb_err_t err;
    char msg[256];
    epath_t path[PATH_MAX_DEPTH];
    unsigned npath;
    bool path_more;
} ectx_t;

static void eerr_set(ectx_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void eerr_set(ectx_t *c, const char *fmt, ...) {
    if (c->err)
        return;
    c->err = EVB_ERR_INVALID_ARG;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
}
#define eerr(...) (eerr_set(__VA_ARGS__), -1)

static void ecode_set(ectx_t *c, evb_err_t err) {
    if (!c->err) {
        c->err = err;
        snprintf(c->msg, sizeof c->msg, "%s",
                 err == EVB_ERR_TOO_LARGE ? "Avro output would exceed the "
                                            "size limit"
                                          : evb_err_message(err));
    }
}
#define ecode(c, err) (ecode_set((c), (err)), -1)

static void push_name(ectx_t *c, const char *s, size_t n) {
    if (c->npath == PATH_MAX_DEPTH) {
        c->path_more = true;
        return;
    }
    epath_t *e = &c->path[c->npath++];
    e->is_index = false;
    size_t m = n < sizeof e->name - 1 ? n : sizeof e->name - 1;
    memcpy(e->name, s, m);
    e->name[m] = '\0';
}

static void push_index(ectx_t *c, uint64_t i) {
    if (c->npath == PATH_MAX_DEPTH) {
        c->path_more = true;
        return;
    }
    epath_t *e = &c->path[c->npath++];
    e->is_index = true;
    e->index = i;
}

#define SHOWV(v) (int)((v)->src_len > 60 ? 60 : (v)->src_len), (v)->src

/* ---- output -----------------------------------------------------------------
 */

static int put(ectx_t *c, const void *p, size_t n) {
    evb_err_t err = evb_buf_append(c->out, p, n);
    return err ? ecode(c, err) : 0;
}

static int put_long(ectx_t *c, int64_t v) {
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    uint8_t tmp[10];
    size_t n = 0;
    while (z >= 0x80) {
        tmp[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    tmp[n++] = (uint8_t)z;
    return put(c, tmp, n);
}

static int put_bytes_len(ectx_t *c, const void *p, size_t n) {
    if (put_long(c, (int64_t)n))
        return -1;
    return put(c, p, n);
}

/* ---- numbers
 * ------------------------------------------------------------------ */

static bool is_integral_text(const evb_jval_t *v) {
    for (size_t i = 0; i < v->u.str.len; i++) {
        char ch = v->u.str.s[i];
        if (ch == '.' || ch == 'e' || ch == 'E')
            return false;
    }
    return true;
}

/* A JSON number as an int64 within [lo, hi]. */
static bool num_int(const evb_jval_t *v, int64_t lo, int64_t hi, int64_t *out) {
    if (v->type != EVB_JSON_NUMBER)
        return false;
    if (is_integral_text(v)) {
        errno = 0;
        long long x = strtoll(v->u.str.s, NULL, 10);
        if (errno == ERANGE || x < lo || x > hi)
            return false;
        *out = x;
        return true;
    }
    double d = strtod(v->u.str.s, NULL);
    if (!(d == nearbyint(d)) || d < (double)lo || d >= -(double)INT64_MIN ||
        d > (double)hi)
        return false;
    *out = (int64_t)d;
    return true;
}

/* "NaN", "Infinity", "-Infinity" (rule 2) */
static bool special_float(const evb_jval_t *v, double *out) {
    if (v->type != EVB_JSON_STRING)
        return false;
    if (strcmp(v->u.str.s, "NaN") == 0)
        *out = NAN;
    else if (strcmp(v->u.str.s, "Infinity") == 0)
        *out = INFINITY;
    else if (strcmp(v->u.str.s, "-Infinity") == 0)
        *out = -INFINITY;
    else
        return false;
    return true;
}

/* ---- bytes
 * ----------------------------------------------------------------------- */

/* Decode the string as base64 (user mode) or ISO-8859-1 (defaults) into a
 * malloc'ed block. Returns false (message set) when malformed. */
static bool string_bytes(ectx_t *c, const evb_jval_t *v, uint8_t **out,
                         size_t *n) {
    const char *s = v->u.str.s;
    size_t len = v->u.str.len;
    uint8_t *b = malloc(len / 4 * 3 + 4 + len);
    if (!b) {
        ecode_set(c, EVB_ERR_NOMEM);
        return false;
    }
    if (!c->dflt) {
        if (!evb__base64_decode(s, len, b, n)) {
            free(b);
            eerr_set(c, "not valid base64: %.*s", SHOWV(v));
            return false;
        }
    } else {
        /* code points U+0000..U+00FF, one byte each */
        size_t k = 0;
        for (size_t i = 0; i < len;) {
            uint8_t ch = (uint8_t)s[i];
            if (ch < 0x80) {
                b[k++] = ch;
                i++;
            } else if ((ch == 0xC2 || ch == 0xC3) && i + 1 < len) {
                b[k++] = (uint8_t)(((ch & 0x1F) << 6) | (s[i + 1] & 0x3F));
                i += 2;
            } else {
                free(b);
                eerr_set(c, "bytes default has a character above U+00FF: %.*s",
                         SHOWV(v));
                return false;
            }
        }
        *n = k;
    }
    *out = b;
    return true;
}

/* bytes or fixed (n->kind), with or without a decimal logical type */
static int enc_bytes(ectx_t *c, const evb__avro_node_t *n,
                     const evb_jval_t *v) {
    bool fixed = n->kind == EVB__AK_FIXED;
    size_t size = fixed ? n->u.fixed.size : 0;
    bool dec = n->logical == EVB__AL_DECIMAL;
    if (dec && !c->dflt && v->type == EVB_JSON_NUMBER) {
        evb_buf_t tmp;
        evb_buf_init(&tmp, 0);
        char why[160];
        evb_err_t err =
            evb__decimal_from_text(v->u.str.s, v->u.str.len, n->scale,
                                   n->precision, size, &tmp, why, sizeof why);
        int rc;
        if (err == EVB_ERR_INVALID_ARG)
            rc = eerr(c, "%s", why);
        else if (err)
            rc = ecode(c, err);
        else
            rc = fixed ? put(c, tmp.data, tmp.len)
                       : put_bytes_len(c, tmp.data, tmp.len);
        evb_buf_free(&tmp);
        return rc;
    }
    if (v->type != EVB_JSON_STRING)
        return eerr(c, "expected %s for %s, got %s",
                    c->dflt ? "a string" : "a base64 string",
                    evb__avro_kind_name(n), evb_json_type_name(v->type));
    uint8_t *b;
    size_t len;
    if (!string_bytes(c, v, &b, &len))
        return -1;
    int rc;
    if (dec && len == 0) {
        rc = eerr(c, "decimal value has no bytes");
    } else if (!fixed) {
        rc = put_bytes_len(c, b, len);
    } else if (len == size) {
        rc = put(c, b, len);
    } else if (dec && !c->dflt && len < size) {
        /* a minimal two's complement value (as the decoder writes it):
         * sign-extend to the fixed size */
        uint8_t ext = (b[0] & 0x80) ? 0xFF : 0x00;
        rc = 0;
        for (size_t k = len; k < size && rc == 0; k++)
            rc = put(c, &ext, 1);
        if (rc == 0)
            rc = put(c, b, len);
    } else {
        rc = eerr(c, "fixed %s needs %zu bytes, got %zu", n->fullname, size,
                  len);
    }
    free(b);
    return rc;
}

/* ---- values
 * ------------------------------------------------------------------------ */

static int enc(ectx_t *c, const evb__avro_node_t *n, const evb_jval_t *v);

static const evb_jval_t *find_member(const evb_jval_t *obj, const char *name,
                                     size_t nl, size_t *hint) {
    size_t n = obj->u.obj.n;
    const evb_jmember_t *m = obj->u.obj.members;
    /* members usually come in schema order: try the next one first */
    if (*hint < n && m[*hint].klen == nl &&
        memcmp(m[*hint].key, name, nl) == 0) {
        size_t i = *hint;
        /* a later duplicate wins */
        for (size_t k = n; k-- > i + 1;)
            if (m[k].klen == nl && memcmp(m[k].key, name, nl) == 0)
                return m[k].val;
        (*hint)++;
        return m[i].val;
    }
    for (size_t k = n; k-- > 0;)
        if (m[k].klen == nl && memcmp(m[k].key, name, nl) == 0) {
            *hint = k + 1;
            return m[k].val;
        }
    return NULL;
}

static int enc_record(ectx_t *c, const evb__avro_node_t *n,
                      const evb_jval_t *v) {
    if (v->type != EVB_JSON_OBJECT)
        return eerr(c, "expected an object for record %s, got %s", n->fullname,
                    evb_json_type_name(v->type));
    size_t hint = 0, matched = 0;
    for (uint32_t i = 0; i < n->u.rec.n; i++) {
        const evb__avro_field_t *f = &n->u.rec.fields[i];
        const evb_jval_t *fv = find_member(v, f->name, f->name_len, &hint);
        int rc;
        if (fv) {
            matched++;
            rc = enc(c, f->type, fv);
        } else if (c->dflt && f->defval) {
            rc = enc(c, f->type, f->defval);
        } else if (!c->dflt && f->def_bin) {
            rc = put(c, f->def_bin, f->def_len);
        } else {
            rc = eerr(c, "missing required field \"%s\" of record %s", f->name,
                      n->fullname);
        }
        if (rc) {
            push_name(c, f->name, f->name_len);
            return -1;
        }
    }
    if ((c->flags & EVB_AVRO_STRICT) && matched < v->u.obj.n) {
        for (size_t k = 0; k < v->u.obj.n; k++) {
            const evb_jmember_t *m = &v->u.obj.members[k];
            bool known = false;
            for (uint32_t i = 0; i < n->u.rec.n && !known; i++)
                known = n->u.rec.fields[i].name_len == m->klen &&
                        memcmp(n->u.rec.fields[i].name, m->key, m->klen) == 0;
            if (!known)
                return eerr(c, "record %s has no field \"%.*s\"", n->fullname,
                            (int)(m->klen > 60 ? 60 : m->klen), m->key);
        }
    }
    return 0;
}

static int enc_array(ectx_t *c, const evb__avro_node_t *n,
                     const evb_jval_t *v) {
    if (v->type != EVB_JSON_ARRAY)
        return eerr(c, "expected an array, got %s",
                    evb_json_type_name(v->type));
    size_t cnt = v->u.arr.n;
    if (cnt) {
        if (put_long(c, (int64_t)cnt))
            return -1;
        for (size_t i = 0; i < cnt; i++)
            if (enc(c, n->u.coll.items, v->u.arr.items[i])) {
                push_index(c, i);
                return -1;
            }
    }
    return put_long(c, 0);
}

static int put_string(ectx_t *c, const char *s, size_t len) {
    if (evb_utf8_valid(s, len))
        return put_bytes_len(c, s, len);
    uint8_t *fix = malloc(len * 3 + 1);
    if (!fix)
        return ecode(c, EVB_ERR_NOMEM);
    size_t fl = evb__utf8_repair((const uint8_t *)s, len, fix);
    int rc = put_bytes_len(c, fix, fl);
    free(fix);
    return rc;
}

static int enc_map(ectx_t *c, const evb__avro_node_t *n, const evb_jval_t *v) {
    if (v->type != EVB_JSON_OBJECT)
        return eerr(c, "expected an object for a map, got %s",
                    evb_json_type_name(v->type));
    size_t cnt = v->u.obj.n;
    if (cnt) {
        if (put_long(c, (int64_t)cnt))
            return -1;
        for (size_t i = 0; i < cnt; i++) {
            const evb_jmember_t *m = &v->u.obj.members[i];
            if (put_string(c, m->key, m->klen) ||
                enc(c, n->u.coll.items, m->val)) {
                push_name(c, m->key, m->klen);
                return -1;
            }
        }
    }
    return put_long(c, 0);
}

/* Is key a name this branch answers to in a wrapped union? */
static bool branch_named(const evb__avro_node_t *b, const char *key,
                         size_t kl) {
    if (b->branch && b->branch_len == kl && memcmp(b->branch, key, kl) == 0)
        return true;
    if (b->named && strlen(b->fullname) == kl &&
        memcmp(b->fullname, key, kl) == 0)
        return true;
    const char *tn = evb__avro_kind_name(b);
    return strlen(tn) == kl && memcmp(tn, key, kl) == 0;
}

static int enc_branch(ectx_t *c, const evb__avro_node_t *u, uint32_t i,
                      const evb_jval_t *v) {
    if (put_long(c, i))
        return -1;
    return enc(c, u->u.uni.br[i], v);
}

/* Could a bare JSON value go to branch b? (user mode, general unions) */
static bool bare_fits(const evb__avro_node_t *b, const evb_jval_t *v) {
    int64_t x;
    double d;
    switch (v->type) {
    case EVB_JSON_NULL: return b->kind == EVB__AK_NULL;
    case EVB_JSON_TRUE:
    case EVB_JSON_FALSE: return b->kind == EVB__AK_BOOLEAN;
    case EVB_JSON_NUMBER:
        switch (b->kind) {
        case EVB__AK_INT: return num_int(v, INT32_MIN, INT32_MAX, &x);
        case EVB__AK_LONG: return num_int(v, INT64_MIN, INT64_MAX, &x);
        case EVB__AK_FLOAT:
        case EVB__AK_DOUBLE: return true;
        case EVB__AK_BYTES:
        case EVB__AK_FIXED: return b->logical == EVB__AL_DECIMAL;
        default: return false;
        }
    case EVB_JSON_STRING:
        switch (b->kind) {
        case EVB__AK_STRING: return true;
        case EVB__AK_ENUM:
            for (uint32_t k = 0; k < b->u.en.n; k++)
                if (strcmp(b->u.en.syms[k], v->u.str.s) == 0)
                    return true;
            return false;
        case EVB__AK_FLOAT:
        case EVB__AK_DOUBLE: return special_float(v, &d);
        case EVB__AK_BYTES:
        case EVB__AK_FIXED: {
            uint8_t *tmp = malloc(v->u.str.len / 4 * 3 + 4);
            size_t n = 0;
            bool ok =
                tmp && evb__base64_decode(v->u.str.s, v->u.str.len, tmp, &n);
            free(tmp);
            return ok && (b->kind == EVB__AK_BYTES || n == b->u.fixed.size ||
                          (b->logical == EVB__AL_DECIMAL && n > 0 &&
                           n < b->u.fixed.size));
        }
        default: return false;
        }
    case EVB_JSON_ARRAY: return b->kind == EVB__AK_ARRAY;
    case EVB_JSON_OBJECT:
        return b->kind == EVB__AK_RECORD || b->kind == EVB__AK_MAP;
    }
    return false;
}

static bool klass_bytes(const evb__avro_node_t *b) {
    return b->kind == EVB__AK_BYTES || b->kind == EVB__AK_FIXED;
}

/* The decoder writes every bytes-class value under the first bytes-class
 * branch (rule 9), so a value shown under a fixed branch may really belong
 * to a later bytes or fixed branch: the named branch first, then the
 * others of the class in order. */
static int enc_bytes_branch(ectx_t *c, const evb__avro_node_t *n, uint32_t pick,
                            const evb_jval_t *v) {
    size_t mark = c->out->len;
    if (enc_branch(c, n, pick, v) == 0 || c->err != EVB_ERR_INVALID_ARG)
        return c->err ? -1 : 0;
    char first_msg[256];
    snprintf(first_msg, sizeof first_msg, "%s", c->msg);
    for (uint32_t i = 0; i < n->u.uni.n; i++) {
        if (i == pick || !klass_bytes(n->u.uni.br[i]))
            continue;
        c->err = EVB_ERR_OK;
        c->npath = 0;
        c->path_more = false;
        c->out->len = mark;
        if (enc_branch(c, n, i, v) == 0)
            return 0;
        if (c->err != EVB_ERR_INVALID_ARG)
            return -1;
    }
    c->err = EVB_ERR_OK;
    c->out->len = mark;
    return eerr(c, "%s", first_msg);
}

static int enc_union(ectx_t *c, const evb__avro_node_t *n,
                     const evb_jval_t *v) {
    uint32_t nb = n->u.uni.n;
    if (c->dflt) {
        /* a value of the first branch it fits, first branch first */
        size_t mark = c->out->len;
        char first_msg[256] = "";
        for (uint32_t i = 0; i < nb; i++) {
            if (enc_branch(c, n, i, v) == 0)
                return 0;
            if (c->err != EVB_ERR_INVALID_ARG)
                return -1;
            if (i == 0)
                snprintf(first_msg, sizeof first_msg, "%s", c->msg);
            c->err = EVB_ERR_OK;
            c->npath = 0;
            c->path_more = false;
            c->out->len = mark;
        }
        return eerr(c, "%s", first_msg);
    }
    int32_t null_idx = n->u.uni.null_idx;
    if (v->type == EVB_JSON_NULL) {
        if (null_idx < 0)
            return eerr(c, "null for a union without a null branch");
        return put_long(c, null_idx);
    }
    if (n->u.uni.nullable) {
        uint32_t other = null_idx == 0 ? 1 : 0;
        const evb__avro_node_t *b = n->u.uni.br[other];
        /* Avro's JSON encoding: {"type": value} */
        if (v->type == EVB_JSON_OBJECT && v->u.obj.n == 1) {
            const evb_jmember_t *m = &v->u.obj.members[0];
            bool wrapped = false;
            if (b->kind == EVB__AK_RECORD) {
                bool is_field = false;
                for (uint32_t k = 0; k < b->u.rec.n && !is_field; k++)
                    is_field =
                        b->u.rec.fields[k].name_len == m->klen &&
                        memcmp(b->u.rec.fields[k].name, m->key, m->klen) == 0;
                wrapped = !is_field && m->val->type == EVB_JSON_OBJECT &&
                          branch_named(b, m->key, m->klen);
            } else if (b->kind != EVB__AK_MAP) {
                wrapped = branch_named(b, m->key, m->klen);
            }
            if (wrapped)
                return enc_branch(c, n, other, m->val);
        }
        return enc_branch(c, n, other, v);
    }
    if (n->u.uni.bad)
        return eerr(c, "%s", n->u.uni.bad);
    if (v->type == EVB_JSON_OBJECT && v->u.obj.n > 0) {
        /* the wrapped form: every key names a branch, one value non-null */
        bool all = true;
        int64_t pick = -1;
        const evb_jval_t *pv = NULL;
        for (size_t k = 0; k < v->u.obj.n && all; k++) {
            const evb_jmember_t *m = &v->u.obj.members[k];
            int64_t hit = -1;
            for (uint32_t i = 0; i < nb && hit < 0; i++)
                if (n->u.uni.br[i]->kind != EVB__AK_NULL &&
                    branch_named(n->u.uni.br[i], m->key, m->klen))
                    hit = i;
            if (hit < 0) {
                all = false;
            } else if (m->val->type != EVB_JSON_NULL ||
                       n->u.uni.br[hit]->kind == EVB__AK_NULL) {
                if (pick >= 0 && pick != hit)
                    return eerr(c,
                                "union value has more than one non-null "
                                "branch (\"%s\" and \"%s\")",
                                n->u.uni.br[pick]->branch,
                                n->u.uni.br[hit]->branch);
                pick = hit;
                pv = m->val;
            }
        }
        if (all) {
            if (pick >= 0 && klass_bytes(n->u.uni.br[pick]))
                return enc_bytes_branch(c, n, (uint32_t)pick, pv);
            if (pick >= 0)
                return enc_branch(c, n, (uint32_t)pick, pv);
            if (null_idx >= 0)
                return put_long(c, null_idx);
            return eerr(c, "every branch of the union value is null");
        }
    }
    for (uint32_t i = 0; i < nb; i++)
        if (bare_fits(n->u.uni.br[i], v))
            return enc_branch(c, n, i, v);
    return eerr(c, "no branch of the union accepts %s %.*s",
                evb_json_type_name(v->type), SHOWV(v));
}

static int enc(ectx_t *c, const evb__avro_node_t *n, const evb_jval_t *v) {
    int64_t x;
    double d;
    switch ((evb__avro_kind_t)n->kind) {
    case EVB__AK_NULL:
        if (v->type != EVB_JSON_NULL)
            return eerr(c, "expected null, got %s",
                        evb_json_type_name(v->type));
        return 0;
    case EVB__AK_BOOLEAN:
        if (v->type != EVB_JSON_TRUE && v->type != EVB_JSON_FALSE)
            return eerr(c, "expected a boolean, got %s",
                        evb_json_type_name(v->type));
        return put(c, v->type == EVB_JSON_TRUE ? "\1" : "\0", 1);
    case EVB__AK_INT: {
        int64_t lo = INT32_MIN, hi = INT32_MAX;
        if (n->logical == EVB__AL_TIME_MILLIS)
            lo = 0, hi = 86400000;
        else if (n->logical == EVB__AL_INT8)
            lo = INT8_MIN, hi = INT8_MAX;
        else if (n->logical == EVB__AL_INT16)
            lo = INT16_MIN, hi = INT16_MAX;
        if (!num_int(v, lo, hi, &x))
            return v->type == EVB_JSON_NUMBER
                       ? eerr(c, "%.*s is not an integer in %lld..%lld",
                              SHOWV(v), (long long)lo, (long long)hi)
                       : eerr(c, "expected an int, got %s",
                              evb_json_type_name(v->type));
        return put_long(c, x);
    }
    case EVB__AK_LONG:
        if (!num_int(v, INT64_MIN, INT64_MAX, &x))
            return v->type == EVB_JSON_NUMBER
                       ? eerr(c, "%.*s is not a long integer", SHOWV(v))
                       : eerr(c, "expected a long, got %s",
                              evb_json_type_name(v->type));
        return put_long(c, x);
    case EVB__AK_FLOAT:
    case EVB__AK_DOUBLE: {
        if (v->type == EVB_JSON_NUMBER)
            d = strtod(v->u.str.s, NULL);
        else if (c->dflt || !special_float(v, &d))
            return eerr(c, "expected a number, got %s",
                        evb_json_type_name(v->type));
        uint8_t b[8];
        if (n->kind == EVB__AK_FLOAT) {
            float f = v->type == EVB_JSON_NUMBER ? strtof(v->u.str.s, NULL)
                                                 : (float)d;
            uint32_t u;
            memcpy(&u, &f, 4);
            for (int i = 0; i < 4; i++)
                b[i] = (uint8_t)(u >> (8 * i));
            return put(c, b, 4);
        }
        uint64_t u;
        memcpy(&u, &d, 8);
        for (int i = 0; i < 8; i++)
            b[i] = (uint8_t)(u >> (8 * i));
        return put(c, b, 8);
    }
    case EVB__AK_STRING:
        if (v->type != EVB_JSON_STRING)
            return eerr(c, "expected a string, got %s",
                        evb_json_type_name(v->type));
        return put_string(c, v->u.str.s, v->u.str.len);
    case EVB__AK_BYTES:
    case EVB__AK_FIXED: return enc_bytes(c, n, v);
    case EVB__AK_ENUM:
        if (v->type != EVB_JSON_STRING)
            return eerr(c, "expected a symbol of enum %s, got %s", n->fullname,
                        evb_json_type_name(v->type));
        for (uint32_t k = 0; k < n->u.en.n; k++)
            if (n->u.en.sym_lens[k] == v->u.str.len &&
                memcmp(n->u.en.syms[k], v->u.str.s, v->u.str.len) == 0)
                return put_long(c, k);
        return eerr(c, "%.*s is not a symbol of enum %s", SHOWV(v),
                    n->fullname);
    case EVB__AK_RECORD:
    case EVB__AK_ARRAY:
    case EVB__AK_MAP:
    case EVB__AK_UNION: {
        if (++c->depth > ENC_MAX_DEPTH) {
            c->depth--;
            return eerr(c, "nesting deeper than %d levels", ENC_MAX_DEPTH);
        }
        int rc = n->kind == EVB__AK_RECORD  ? enc_record(c, n, v)
                 : n->kind == EVB__AK_ARRAY ? enc_array(c, n, v)
                 : n->kind == EVB__AK_MAP   ? enc_map(c, n, v)
                                            : enc_union(c, n, v);
        c->depth--;
        return rc;
    }
    }
    return eerr(c, "internal error: unknown node kind %d", n->kind);
}

/* ---- entry points
 * ---------------------------------------------------------------- */

static evb_err_t finish(ectx_t *c, int rc, size_t base, char *errstr,
                        size_t errstr_size) {
    if (rc == 0)
        return EVB_ERR_OK;
    c->out->len = base;
    if (c->out->data)
        c->out->data[base] = '\0';
    if (errstr && errstr_size) {
        char path[400];
        size_t pl = 0;
        path[pl++] = '$';
        path[pl] = '\0';
        if (c->path_more)
            pl += (size_t)snprintf(path + pl, sizeof path - pl, "...");
        for (unsigned i = c->npath; i-- > 0 && pl < sizeof path - 1;) {
            int w = c->path[i].is_index
                        ? snprintf(path + pl, sizeof path - pl, "[%llu]",
                                   (unsigned long long)c->path[i].index)
                        : snprintf(path + pl, sizeof path - pl, ".%s",
                                   c->path[i].name);
            if (w < 0)
                break;
            pl += (size_t)w;
            if (pl >= sizeof path)
                pl = sizeof path - 1;
        }
        if (c->err == EVB_ERR_INVALID_ARG)
            snprintf(errstr, errstr_size, "%s (at %s)", c->msg, path);
        else
            snprintf(errstr, errstr_size, "%s", c->msg);
    }
    return c->err ? c->err : EVB_ERR_INTERNAL;
}

evb_err_t evb__avro_encode_value(const evb__avro_node_t *n, const evb_jval_t *v,
                                 bool avro_default, unsigned flags,
                                 evb_buf_t *out, char *errstr,
                                 size_t errstr_size) {
    ectx_t c = {.out = out, .flags = flags, .dflt = avro_default};
    size_t base = out->len;
    int rc = enc(&c, n, v);
    return finish(&c, rc, base, errstr, errstr_size);
}

evb_err_t evb_avro_from_json(const evb_avro_schema_t *s, const char *json,
                             size_t len, unsigned flags, evb_buf_t *out,
                             char *errstr, size_t errstr_size) {
    evb_arena_t a;
    evb_arena_init(&a, len + 1024 < 16384 ? 0 : len * 2 + 1024);
    evb_jval_t *v;
    evb_err_t err =
        evb_json_parse(&a, json, len, ENC_MAX_DEPTH, &v, errstr, errstr_size);
    if (err) {
        evb_arena_free(&a);
        return err;
    }
    err = evb__avro_encode_value(s->root, v, false, flags, out, errstr,
                                 errstr_size);
    evb_arena_free(&a);
    return err;
}
