/*
 * decode.c: Avro binary -> JSON text, driven by the compiled plan.
 *
 * The hot path: one recursive walk over the plan that reads the bytes with
 * bounds checks and writes JSON straight into the caller's buffer, using
 * the text the compiler prepared (record keys with their separators, quoted
 * enum symbols, union wrappers). The buffer is reserved in one check per
 * value; nothing is allocated per field. Maps keep a small side table of
 * where each key and value landed so duplicate keys can be merged (rule 6
 * of avro.h) without a second pass when there are none.
 *
 * Every read is checked against the end of the input; every count and
 * length is checked against the bytes left (using the fewest bytes an item
 * can take, from the plan) before it is trusted; depth is bounded; output
 * is bounded. Errors carry the byte offset and, collected while unwinding,
 * the path of the value ("$.eventDetail.total").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_internal.h"

#define PATH_MAX_DEPTH 12
#define DECIMAL_TEXT_MAX_BYTES 4096

typedef struct path_ent {
    uint8_t kind; /* 0 field, 1 index, 2 key */
    const char *name;
    uint64_t index;
    char key[36];
} path_ent_t;

typedef struct ment {
    size_t kstart, kend, vend; /* offsets into the output */
} ment_t;

typedef struct dctx {
    const uint8_t *p, *end, *start;
    char *o;     /* the output buffer's data */
    size_t olen; /* bytes used */
    size_t ocap; /* usable capacity: min(real capacity, limit + 1) */
    size_t olimit;
    evb_buf_t *buf;
    unsigned depth, max_depth, flags;
    evb_err_t err;
    size_t err_pos;
    char msg[200];
    path_ent_t path[PATH_MAX_DEPTH];
    unsigned npath;
    bool path_more;
    ment_t *ments;
    size_t nments, cap_ments;
} dctx_t;

/* ---- errors ----------------------------------------------------------------
 */

/* The setters record the first error; the macros make the value -1 visible
 * to the compiler at every call site. */
static void derr_set(dctx_t *c, const uint8_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void derr_set(dctx_t *c, const uint8_t *at, const char *fmt, ...) {
    if (c->err)
        return;
    c->err = EVB_ERR_INVALID_ARG;
    c->err_pos = (size_t)(at - c->start);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
}
#define derr(...) (derr_set(__VA_ARGS__), -1)

static void derr_code_set(dctx_t *c, evb_err_t code, const char *msg) {
    if (c->err)
        return;
    c->err = code;
    c->err_pos = (size_t)(c->p - c->start);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
}
#define derr_code(c, code, msg) (derr_code_set((c), (code), (msg)), -1)

#define trunc_err(c, at, what, need)                                           \
    derr((c), (at), "Avro data truncated: %s needs %llu bytes, %zu left",      \
         (what), (unsigned long long)(need), (size_t)((c)->end - (at)))

static path_ent_t *push_path(dctx_t *c) {
    if (c->npath == PATH_MAX_DEPTH) {
        c->path_more = true;
        return NULL;
    }
    return &c->path[c->npath++];
}

static void path_field(dctx_t *c, const char *name) {
    path_ent_t *e = push_path(c);
    if (e) {
        e->kind = 0;
        e->name = name;
    }
}

static void path_index(dctx_t *c, uint64_t i) {
    path_ent_t *e = push_path(c);
    if (e) {
        e->kind = 1;
        e->index = i;
    }
}

static void path_key(dctx_t *c, const char *k, size_t n) {
    path_ent_t *e = push_path(c);
    if (e) {
        e->kind = 2;
        size_t m = n < sizeof e->key - 1 ? n : sizeof e->key - 1;
        memcpy(e->key, k, m);
        e->key[m] = '\0';
    }
}

/* ---- output ----------------------------------------------------------------
 */

static int grow(dctx_t *c, size_t need) {
    if (need > c->olimit - c->olen)
        return derr_code(c, EVB_ERR_TOO_LARGE,
                         "JSON output would exceed the size limit");
    size_t want = c->olen + need + 1;
    size_t real = c->buf->cap;
    if (want > real) {
        size_t ncap = real ? real : 256;
        while (ncap < want)
            ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
        if (ncap > c->olimit + 1) /* never hold more than the limit allows */
            ncap = c->olimit + 1;
        char *p = realloc(c->buf->data, ncap);
        if (!p)
            return derr_code(c, EVB_ERR_NOMEM, "out of memory");
        c->buf->data = p;
        c->buf->cap = real = ncap;
        c->o = p;
    }
    c->ocap = real < c->olimit + 1 ? real : c->olimit + 1;
    return 0;
}

/* Room for n more bytes plus the terminating NUL. */
#define RESERVE(c, n)                                                          \
    (EVB_LIKELY((c)->ocap - (c)->olen > (size_t)(n)) ? 0 : grow((c), (n)))

static inline void put(dctx_t *c, const char *s, size_t n) {
    memcpy(c->o + c->olen, s, n);
    c->olen += n;
}

static inline int emit(dctx_t *c, const char *s, size_t n) {
    if (RESERVE(c, n))
        return -1;
    put(c, s, n);
    return 0;
}

/* ---- primitives ------------------------------------------------------------
 */

static inline int rd_long(dctx_t *c, int64_t *out) {
    const uint8_t *p = c->p, *start = p;
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (EVB_UNLIKELY(p >= c->end))
            return trunc_err(c, start, "varint", (uint64_t)(p - start) + 1);
        uint8_t b = *p++;
        if (EVB_UNLIKELY(shift == 63) && b > 1)
            return derr(c, start, "overlong varint (more than 64 bits)");
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    c->p = p;
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return 0;
}

static inline int rd_int(dctx_t *c, int32_t *out) {
    const uint8_t *p = c->p, *start = p;
    uint32_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (EVB_UNLIKELY(p >= c->end))
            return trunc_err(c, start, "varint", (uint64_t)(p - start) + 1);
        uint8_t b = *p++;
        if (EVB_UNLIKELY(shift == 28) && b > 0x0f)
            return derr(c, start,
                        "overlong varint for an int (more than 32 "
                        "bits)");
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    c->p = p;
    *out = (int32_t)((v >> 1) ^ (0u - (v & 1)));
    return 0;
}

/* A length (string, bytes): non-negative and within the input. */
static inline int rd_len(dctx_t *c, const char *what, size_t *out) {
    const uint8_t *at = c->p;
    int64_t n;
    if (rd_long(c, &n))
        return -1;
    if (EVB_UNLIKELY(n < 0))
        return derr(c, at, "negative %s length %lld", what, (long long)n);
    if (EVB_UNLIKELY((uint64_t)n > (uint64_t)(c->end - c->p)))
        return derr(c, at, "Avro data truncated: %s of %lld bytes, %zu left",
                    what, (long long)n, (size_t)(c->end - c->p));
    *out = (size_t)n;
    return 0;
}

static int put_string(dctx_t *c, const uint8_t *s, size_t n) {
    size_t bound = EVB__ESC_BOUND(n);
    if (n > 4096 && bound > c->olimit - c->olen) {
        /* exact size first, so a large string near the limit still fits */
        bound = 2;
        for (size_t i = 0; i < n; i++)
            bound += (s[i] < 0x20)                   ? 6
                     : (s[i] == '"' || s[i] == '\\') ? 2
                     : (s[i] >= 0x80)                ? 3
                                                     : 1;
    }
    if (RESERVE(c, bound))
        return -1;
    c->olen += evb__json_escape(s, n, c->o + c->olen);
    return 0;
}

static int put_base64(dctx_t *c, const uint8_t *b, size_t n) {
    size_t need = EVB__B64_LEN(n) + 2;
    if (RESERVE(c, need))
        return -1;
    char *o = c->o + c->olen;
    o[0] = '"';
    size_t k = evb__base64_encode(b, n, o + 1);
    o[k + 1] = '"';
    c->olen += k + 2;
    return 0;
}

/* Bytes of a bytes or fixed value, rendered as node `as` renders. */
static int put_bytes(dctx_t *c, const evb__avro_node_t *as, const uint8_t *b,
                     size_t n, const uint8_t *at) {
    if (as->logical != EVB__AL_DECIMAL)
        return put_base64(c, b, n);
    if (n == 0)
        return derr(c, at, "decimal value has no bytes");
    if (!(c->flags & EVB_AVRO_DECIMAL_NUMBER)) {
        size_t off = evb__twos_minimal(b, n);
        return put_base64(c, b + off, n - off);
    }
    if (n > DECIMAL_TEXT_MAX_BYTES)
        return derr(c, at,
                    "decimal of %zu bytes is too long to write as a number "
                    "(limit %d bytes)",
                    n, DECIMAL_TEXT_MAX_BYTES);
    evb_buf_t tmp;
    evb_buf_init(&tmp, 0);
    evb_err_t err = evb__decimal_to_text(b, n, as->scale, &tmp);
    if (err) {
        evb_buf_free(&tmp);
        return derr_code(c, err, "out of memory");
    }
    int rc = emit(c, tmp.data, tmp.len);
    evb_buf_free(&tmp);
    return rc;
}

static int put_i64(dctx_t *c, int64_t v) {
    if (RESERVE(c, 20))
        return -1;
    c->olen += evb__fmt_i64(v, c->o + c->olen);
    return 0;
}

/* ---- values ----------------------------------------------------------------
 */

static int dec(dctx_t *c, const evb__avro_node_t *n);

static int dec_record(dctx_t *c, const evb__avro_node_t *n) {
    uint32_t nf = n->u.rec.n;
    if (nf == 0)
        return emit(c, "{}", 2);
    for (uint32_t i = 0; i < nf; i++) {
        const evb__avro_field_t *f = &n->u.rec.fields[i];
        if (emit(c, f->key, f->key_len))
            return -1;
        int rc;
        if (EVB_UNLIKELY(f->nulldef_bin != NULL)) {
            /* rule 10: a null general union takes the field's default */
            const uint8_t *save = c->p;
            int64_t idx;
            rc = rd_long(c, &idx);
            if (rc == 0 && idx == f->type->u.uni.null_idx) {
                const uint8_t *after = c->p, *end = c->end, *st = c->start;
                c->p = c->start = f->nulldef_bin;
                c->end = f->nulldef_bin + f->nulldef_len;
                rc = dec(c, f->type);
                c->p = after;
                c->end = end;
                c->start = st;
            } else if (rc == 0) {
                c->p = save;
                rc = dec(c, f->type);
            }
        } else {
            rc = dec(c, f->type);
        }
        if (rc) {
            path_field(c, f->name);
            return -1;
        }
    }
    return emit(c, "}", 1);
}

/* Read one block header; *count 0 ends the collection. */
static int block(dctx_t *c, uint32_t item_min, const char *what,
                 uint64_t *count) {
    const uint8_t *at = c->p;
    int64_t n;
    if (rd_long(c, &n))
        return -1;
    if (n < 0) {
        if (n == INT64_MIN)
            return derr(c, at, "%s block count out of range", what);
        n = -n;
        int64_t size;
        const uint8_t *sat = c->p;
        if (rd_long(c, &size))
            return -1;
        if (size < 0)
            return derr(c, sat, "negative %s block size %lld", what,
                        (long long)size);
        if ((uint64_t)size > (uint64_t)(c->end - c->p))
            return derr(c, sat,
                        "Avro data truncated: %s block of %lld bytes, %zu "
                        "left",
                        what, (long long)size, (size_t)(c->end - c->p));
    }
    if (item_min && (uint64_t)n > (uint64_t)(c->end - c->p) / item_min)
        return derr(c, at,
                    "Avro data truncated: %s block of %lld items needs at "
                    "least %llu bytes, %zu left",
                    what, (long long)n, (unsigned long long)n * item_min,
                    (size_t)(c->end - c->p));
    *count = (uint64_t)n;
    return 0;
}

static int dec_array(dctx_t *c, const evb__avro_node_t *n) {
    const evb__avro_node_t *items = n->u.coll.items;
    if (emit(c, "[", 1))
        return -1;
    uint64_t index = 0, count;
    for (;;) {
        if (block(c, items->min_size, "array", &count))
            return -1;
        if (count == 0)
            break;
        for (uint64_t i = 0; i < count; i++, index++) {
            if (index && emit(c, ",", 1))
                return -1;
            if (dec(c, items)) {
                path_index(c, index);
                return -1;
            }
        }
    }
    return emit(c, "]", 1);
}

static int cmp_keys(const void *a, const void *b, void *arg) {
    const dctx_t *c = arg;
    const ment_t *x = *(ment_t *const *)a, *y = *(ment_t *const *)b;
    size_t xl = x->kend - x->kstart, yl = y->kend - y->kstart;
    int r = memcmp(c->o + x->kstart, c->o + y->kstart, xl < yl ? xl : yl);
    if (r)
        return r;
    if (xl != yl)
        return xl < yl ? -1 : 1;
    return x < y ? -1 : x > y; /* stable: first occurrence first */
}

static bool same_key(const dctx_t *c, const ment_t *x, const ment_t *y) {
    size_t xl = x->kend - x->kstart;
    return xl == y->kend - y->kstart &&
           memcmp(c->o + x->kstart, c->o + y->kstart, xl) == 0;
}

/* Merge duplicate keys of the map whose entries are ments[base..]:
 * first position, last value. Rewrites the output from `open` on. */
static int merge_dups(dctx_t *c, size_t base, size_t open) {
    size_t n = c->nments - base;
    ment_t *e = c->ments + base;
    /* dup_of[i]: index of the last entry with entry i's key, for the
     * first occurrences; SIZE_MAX for later occurrences (dropped) */
    size_t *last = malloc(n * sizeof *last);
    if (!last)
        return derr_code(c, EVB_ERR_NOMEM, "out of memory");
    bool any = false;
    for (size_t i = 0; i < n; i++)
        last[i] = i;
    if (n <= 32) {
        for (size_t i = 0; i < n; i++) {
            if (last[i] == SIZE_MAX)
                continue;
            for (size_t k = i + 1; k < n; k++)
                if (last[k] != SIZE_MAX && same_key(c, &e[i], &e[k])) {
                    last[i] = k;
                    last[k] = SIZE_MAX;
                    any = true;
                }
        }
    } else {
        ment_t **ord = malloc(n * sizeof *ord);
        if (!ord) {
            free(last);
            return derr_code(c, EVB_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++)
            ord[i] = &e[i];
        qsort_r(ord, n, sizeof *ord, cmp_keys, c);
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && same_key(c, ord[i], ord[j]))
                j++;
            if (j - i > 1) {
                any = true;
                size_t first = (size_t)(ord[i] - e);
                last[first] = (size_t)(ord[j - 1] - e);
                for (size_t k = i + 1; k < j; k++)
                    last[ord[k] - e] = SIZE_MAX;
            }
            i = j;
        }
        free(ord);
    }
    if (!any) {
        free(last);
        return 0;
    }
    size_t span = c->olen - open;
    char *copy = malloc(span ? span : 1);
    if (!copy) {
        free(last);
        return derr_code(c, EVB_ERR_NOMEM, "out of memory");
    }
    memcpy(copy, c->o + open, span);
    size_t w = open;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (last[i] == SIZE_MAX)
            continue;
        const ment_t *k = &e[i], *v = &e[last[i]];
        if (!first)
            c->o[w++] = ',';
        first = false;
        size_t kl = k->kend - k->kstart;
        memcpy(c->o + w, copy + (k->kstart - open), kl);
        w += kl;
        size_t vl = v->vend - v->kend;
        memcpy(c->o + w, copy + (v->kend - open), vl);
        w += vl;
    }
    c->olen = w; /* never longer than before */
    free(copy);
    free(last);
    return 0;
}

static int dec_map(dctx_t *c, const evb__avro_node_t *n) {
    const evb__avro_node_t *vals = n->u.coll.items;
    if (emit(c, "{", 1))
        return -1;
    size_t open = c->olen, base = c->nments;
    uint64_t index = 0, count;
    uint64_t entry_min = 1 + (uint64_t)vals->min_size;
    uint32_t emin = entry_min > UINT32_MAX ? UINT32_MAX : (uint32_t)entry_min;
    int rc = 0;
    for (;;) {
        if (block(c, emin, "map", &count)) {
            rc = -1;
            break;
        }
        if (count == 0)
            break;
        for (uint64_t i = 0; i < count && rc == 0; i++, index++) {
            if (c->nments == c->cap_ments) {
                size_t ncap = c->cap_ments ? c->cap_ments * 2 : 16;
                ment_t *nm = realloc(c->ments, ncap * sizeof *nm);
                if (!nm) {
                    rc = derr_code(c, EVB_ERR_NOMEM, "out of memory");
                    break;
                }
                c->ments = nm;
                c->cap_ments = ncap;
            }
            if (index && emit(c, ",", 1)) {
                rc = -1;
                break;
            }
            ment_t *m = &c->ments[c->nments++];
            m->kstart = c->olen;
            size_t kl;
            if (rd_len(c, "map key", &kl) || put_string(c, c->p, kl)) {
                rc = -1;
                break;
            }
            const uint8_t *key = c->p;
            c->p += kl;
            m = &c->ments[c->nments - 1];
            m->kend = c->olen;
            if (emit(c, ":", 1) || dec(c, vals)) {
                path_key(c, (const char *)key, kl);
                rc = -1;
                break;
            }
            c->ments[c->nments - 1].vend = c->olen;
        }
        if (rc)
            break;
    }
    if (rc == 0 && c->nments - base > 1)
        rc = merge_dups(c, base, open);
    c->nments = base;
    if (rc)
        return -1;
    return emit(c, "}", 1);
}

static int dec_union(dctx_t *c, const evb__avro_node_t *n) {
    const uint8_t *at = c->p;
    int64_t idx;
    if (rd_long(c, &idx))
        return -1;
    if (EVB_UNLIKELY(idx < 0 || idx >= (int64_t)n->u.uni.n))
        return derr(c, at, "union branch index %lld out of range (%u branches)",
                    (long long)idx, n->u.uni.n);
    if (idx == n->u.uni.null_idx)
        return emit(c, "null", 4);
    const evb__avro_node_t *b = n->u.uni.br[idx];
    if (n->u.uni.nullable)
        return dec(c, b);
    if (EVB_UNLIKELY(n->u.uni.bad != NULL))
        return derr(c, at, "%s", n->u.uni.bad);
    if (emit(c, n->u.uni.pre[idx], n->u.uni.pre_lens[idx]))
        return -1;
    uint32_t s = n->u.uni.slot[idx];
    if (EVB_UNLIKELY(s != (uint32_t)idx)) {
        /* a bytes or fixed value in an earlier bytes-class branch */
        const uint8_t *vat = c->p;
        size_t len;
        if (b->kind == EVB__AK_FIXED) {
            len = b->u.fixed.size;
            if (len > (size_t)(c->end - c->p))
                return trunc_err(c, vat, "fixed", len);
        } else if (rd_len(c, "bytes", &len)) {
            return -1;
        }
        const uint8_t *v = c->p;
        c->p += len;
        if (put_bytes(c, n->u.uni.br[s], v, len, vat))
            return -1;
    } else if (dec(c, b)) {
        return -1;
    }
    return emit(c, n->u.uni.post[idx], n->u.uni.post_lens[idx]);
}

static int dec(dctx_t *c, const evb__avro_node_t *n) {
    const uint8_t *at = c->p;
    switch ((evb__avro_kind_t)n->kind) {
    case EVB__AK_NULL: return emit(c, "null", 4);
    case EVB__AK_BOOLEAN:
        if (c->p >= c->end)
            return trunc_err(c, at, "boolean", 1);
        if (*c->p > 1)
            return derr(c, at, "invalid boolean byte 0x%02x", *c->p);
        return *c->p++ ? emit(c, "true", 4) : emit(c, "false", 5);
    case EVB__AK_INT: {
        int32_t v;
        if (rd_int(c, &v))
            return -1;
        switch (n->logical) {
        case EVB__AL_TIME_MILLIS:
            if (v < 0 || v > 86400000)
                return derr(c, at,
                            "time-millis value %d is outside 0..86400000", v);
            break;
        case EVB__AL_INT8: v = (int8_t)(uint8_t)v; break;
        case EVB__AL_INT16: v = (int16_t)(uint16_t)v; break;
        default: break;
        }
        return put_i64(c, v);
    }
    case EVB__AK_LONG: {
        int64_t v;
        if (rd_long(c, &v))
            return -1;
        return put_i64(c, v);
    }
    case EVB__AK_FLOAT: {
        if (c->end - c->p < 4)
            return trunc_err(c, at, "float", 4);
        uint32_t u = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 |
                     (uint32_t)c->p[2] << 16 | (uint32_t)c->p[3] << 24;
        float f;
        memcpy(&f, &u, 4);
        c->p += 4;
        if (RESERVE(c, EVB__NUM_MAX))
            return -1;
        c->olen += evb__fmt_float(f, c->o + c->olen);
        return 0;
    }
    case EVB__AK_DOUBLE: {
        if (c->end - c->p < 8)
            return trunc_err(c, at, "double", 8);
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--)
            u = u << 8 | c->p[i];
        double d;
        memcpy(&d, &u, 8);
        c->p += 8;
        if (RESERVE(c, EVB__NUM_MAX))
            return -1;
        c->olen += evb__fmt_double(d, c->o + c->olen);
        return 0;
    }
    case EVB__AK_STRING: {
        size_t len;
        if (rd_len(c, "string", &len))
            return -1;
        const uint8_t *s = c->p;
        c->p += len;
        return put_string(c, s, len);
    }
    case EVB__AK_BYTES: {
        size_t len;
        if (rd_len(c, "bytes", &len))
            return -1;
        const uint8_t *b = c->p;
        c->p += len;
        return put_bytes(c, n, b, len, at);
    }
    case EVB__AK_FIXED: {
        size_t len = n->u.fixed.size;
        if ((size_t)(c->end - c->p) < len)
            return trunc_err(c, at, "fixed", len);
        const uint8_t *b = c->p;
        c->p += len;
        return put_bytes(c, n, b, len, at);
    }
    case EVB__AK_ENUM: {
        int32_t v;
        if (rd_int(c, &v))
            return -1;
        if (v < 0 || (uint32_t)v >= n->u.en.n)
            return derr(c, at, "enum index %d out of range (%u symbols)", v,
                        n->u.en.n);
        return emit(c, n->u.en.quoted[v], n->u.en.quoted_lens[v]);
    }
    case EVB__AK_RECORD:
    case EVB__AK_ARRAY:
    case EVB__AK_MAP:
    case EVB__AK_UNION: {
        if (EVB_UNLIKELY(++c->depth > c->max_depth))
            return derr(c, at, "nesting deeper than %u levels", c->max_depth);
        int rc = n->kind == EVB__AK_RECORD  ? dec_record(c, n)
                 : n->kind == EVB__AK_ARRAY ? dec_array(c, n)
                 : n->kind == EVB__AK_MAP   ? dec_map(c, n)
                                            : dec_union(c, n);
        c->depth--;
        return rc;
    }
    }
    return derr(c, at, "internal error: unknown node kind %d", n->kind);
}

/* ---- entry point ------------------------------------------------------------
 */

static void format_error(dctx_t *c, char *errstr, size_t errstr_size) {
    if (!errstr || !errstr_size)
        return;
    if (c->err == EVB_ERR_NOMEM || c->err == EVB_ERR_TOO_LARGE) {
        snprintf(errstr, errstr_size, "%s", c->msg);
        return;
    }
    char path[512];
    size_t pl = 0;
    path[pl++] = '$';
    path[pl] = '\0';
    if (c->path_more)
        pl += (size_t)snprintf(path + pl, sizeof path - pl, "...");
    for (unsigned i = c->npath; i-- > 0 && pl < sizeof path - 1;) {
        const path_ent_t *e = &c->path[i];
        int w;
        if (e->kind == 0)
            w = snprintf(path + pl, sizeof path - pl, ".%s", e->name);
        else if (e->kind == 1)
            w = snprintf(path + pl, sizeof path - pl, "[%llu]",
                         (unsigned long long)e->index);
        else
            w = snprintf(path + pl, sizeof path - pl, "[%s]", e->key);
        if (w < 0)
            break;
        pl += (size_t)w;
        if (pl >= sizeof path)
            pl = sizeof path - 1;
    }
    snprintf(errstr, errstr_size, "%s (at byte %zu, %s)", c->msg, c->err_pos,
             path);
}

evb_err_t evb_avro_to_json(const evb_avro_schema_t *s, const void *data,
                           size_t len, const evb_avro_json_opts_t *opts,
                           evb_buf_t *out, size_t *consumed, char *errstr,
                           size_t errstr_size) {
    dctx_t c;
    c.p = c.start = data ? (const uint8_t *)data : (const uint8_t *)"";
    c.end = c.p + len;
    c.buf = out;
    c.o = out->data;
    c.olen = out->len;
    c.flags = opts ? opts->flags : 0;
    c.max_depth =
        opts && opts->max_depth ? opts->max_depth : EVB_AVRO_DEFAULT_MAX_DEPTH;
    size_t maxout = opts && opts->max_output ? opts->max_output
                                             : EVB_AVRO_DEFAULT_MAX_OUTPUT;
    c.olimit = out->max;
    if (out->len <= out->max && maxout < out->max - out->len)
        c.olimit = out->len + maxout;
    c.ocap = out->cap < c.olimit + 1 ? out->cap : c.olimit + 1;
    c.depth = 0;
    c.err = EVB_ERR_OK;
    c.err_pos = 0;
    c.msg[0] = '\0';
    c.npath = 0;
    c.path_more = false;
    c.ments = NULL;
    c.nments = c.cap_ments = 0;

    size_t base = out->len;
    int rc = dec(&c, s->root);
    if (rc == 0 && c.p != c.end && !(c.flags & EVB_AVRO_ALLOW_TRAILING))
        rc = derr(&c, c.p, "%zu trailing bytes after the Avro datum",
                  (size_t)(c.end - c.p));
    if (rc == 0 && RESERVE(&c, 0))
        rc = -1;
    free(c.ments);
    if (rc) {
        format_error(&c, errstr, errstr_size);
        out->len = base;
        if (out->data)
            out->data[base] = '\0';
        return c.err ? c.err : EVB_ERR_INTERNAL;
    }
    out->len = c.olen;
    out->data[c.olen] = '\0';
    if (consumed)
        *consumed = (size_t)(c.p - c.start);
    return EVB_ERR_OK;
}
