/*
 * scan.c: the streaming event flattener (see json.h).
 *
 * One pass over the text, no allocation on the fast path. Values under
 * keys the caller does not ask for are skipped by a validating skipper
 * that never unescapes or converts, so an event is fully checked for
 * well-formedness while only the interesting leaves cost more than a
 * byte compare. Strings without escapes are handed out as pointers into
 * the event text; escaped ones are decoded into the scanner's buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "json_internal.h"

typedef struct scan {
    const char *p, *end, *start;
    evb_json_scanner_t *s;
    const evb_json_scan_ops_t *ops;
    void *ud;
    uint32_t depth;
    uint32_t adepth;
    uint32_t next_array_id;
    uint32_t apos_version;
    char *errstr;
    size_t errstr_size;
    evb_err_t err;
} scan_t;

void evb_json_scanner_init(evb_json_scanner_t *s, uint32_t max_depth) {
    memset(s, 0, sizeof *s);
    s->max_depth = max_depth ? max_depth : 1000;
}

void evb_json_scanner_free(evb_json_scanner_t *s) {
    free(s->kinds);
    free(s->buf);
    free(s->stack);
    memset(s, 0, sizeof *s);
}

static evb_err_t serr(scan_t *sc, const char *what) {
    if (!sc->err) {
        sc->err = EVB_ERR_INVALID_EVENT;
        size_t off = (size_t)(sc->p - sc->start);
        if (sc->p >= sc->end)
            evb_err_set(sc->err, sc->errstr, sc->errstr_size,
                        "invalid JSON: %s at end of input (offset %zu)", what,
                        off);
        else
            evb_err_set(sc->err, sc->errstr, sc->errstr_size,
                        "invalid JSON: %s at offset %zu", what, off);
    }
    return sc->err;
}

static inline void skip_ws(scan_t *sc) {
    /* compact JSON is the common case: every white-space byte is <= ' ' */
    if (EVB_LIKELY(sc->p < sc->end && (unsigned char)*sc->p > ' '))
        return;
    while (sc->p < sc->end) {
        char c = *sc->p;
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            break;
        sc->p++;
    }
}

/* Skip a string at p (at the opening quote), validating escapes. Sets
 * *has_escape; leaves p after the closing quote. */
static inline int skip_string(scan_t *sc, const char **body, size_t *blen,
                              bool *has_escape) {
    const char *q = ++sc->p;
    const char *end = sc->end;
    bool esc = false;
    for (;;) {
        /* fast inner loop over plain bytes */
        while (q < end) {
            unsigned char c = (unsigned char)*q;
            if (c == '"' || c == '\\' || c < 0x20)
                break;
            q++;
        }
        if (q >= end) {
            sc->p = q;
            return serr(sc, "unterminated string");
        }
        unsigned char c = (unsigned char)*q;
        if (c == '"')
            break;
        if (c < 0x20) {
            sc->p = q;
            return serr(sc, "control character in string");
        }
        /* backslash */
        esc = true;
        if (q + 1 >= end) {
            sc->p = q;
            return serr(sc, "unterminated string");
        }
        char e = q[1];
        if (e == 'u') {
            if (end - q < 6 || evb_hex_value(q[2]) < 0 ||
                evb_hex_value(q[3]) < 0 || evb_hex_value(q[4]) < 0 ||
                evb_hex_value(q[5]) < 0) {
                sc->p = q;
                return serr(sc, "bad \\u escape");
            }
            q += 6;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' ||
                   e == 'n' || e == 'r' || e == 't') {
            q += 2;
        } else {
            sc->p = q;
            return serr(sc, "bad escape");
        }
    }
    *body = sc->p;
    *blen = (size_t)(q - sc->p);
    *has_escape = esc;
    sc->p = q + 1;
    return 0;
}

/* Decode an already validated escaped string body into the buffer at
 * offset off. Returns the decoded length, or (size_t)-1 on no memory. */
static size_t unescape(scan_t *sc, const char *b, size_t n, size_t off) {
    evb_json_scanner_t *s = sc->s;
    if (s->buf_cap < off + n + 1) {
        size_t cap = (off + n + 1) * 2;
        char *nb = realloc(s->buf, cap);
        if (!nb)
            return (size_t)-1;
        s->buf = nb;
        s->buf_cap = cap;
    }
    char *o = s->buf + off;
    size_t k = 0;
    const char *end = b + n;
    for (const char *r = b; r < end; r++) {
        if (*r != '\\') {
            o[k++] = *r;
            continue;
        }
        char e = *++r;
        switch (e) {
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'u': {
            uint32_t cp =
                (uint32_t)(evb_hex_value(r[1]) << 12 |
                           evb_hex_value(r[2]) << 8 | evb_hex_value(r[3]) << 4 |
                           evb_hex_value(r[4]));
            r += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && end - r >= 7 && r[1] == '\\' &&
                r[2] == 'u') {
                uint32_t lo =
                    (uint32_t)(evb_hex_value(r[3]) << 12 |
                               evb_hex_value(r[4]) << 8 |
                               evb_hex_value(r[5]) << 4 | evb_hex_value(r[6]));
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    r += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD;
            k += evb__utf8_put(o + k, cp);
            break;
        }
        default: o[k++] = e; break; /* " \ / */
        }
    }
    o[k] = '\0';
    return k;
}

/* End of a run of ASCII digits, eight bytes at a time where possible. */
static inline const char *skip_digits(const char *q, const char *end) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - q >= 8) {
        uint64_t v;
        memcpy(&v, q, 8);
        /* each byte is a digit iff its high nibble is 3 and adding 6 does
         * not carry out of the low nibble */
        uint64_t t = ((v & 0xF0F0F0F0F0F0F0F0ull) ^ 0x3030303030303030ull) |
                     (((v + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) ^
                      0x3030303030303030ull);
        if (t) {
            /* first non-digit byte (little-endian) */
            return q + (__builtin_ctzll(t) >> 3);
        }
        q += 8;
    }
#endif
    while (q < end && (unsigned)(*q - '0') <= 9)
        q++;
    return q;
}

static inline int skip_number(scan_t *sc) {
    const char *q = sc->p, *end = sc->end;
    if (q < end && *q == '-')
        q++;
    if (q >= end || (unsigned)(*q - '0') > 9) {
        sc->p = q;
        return serr(sc, "bad number");
    }
    if (*q == '0') {
        q++;
    } else {
        q = skip_digits(q, end);
    }
    if (q < end && *q == '.') {
        q++;
        if (q >= end || (unsigned)(*q - '0') > 9) {
            sc->p = q;
            return serr(sc, "bad number");
        }
        q = skip_digits(q, end);
    }
    if (q < end && (*q | 0x20) == 'e') {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (q >= end || (unsigned)(*q - '0') > 9) {
            sc->p = q;
            return serr(sc, "bad number");
        }
        q = skip_digits(q, end);
    }
    sc->p = q;
    return 0;
}

static inline int skip_literal(scan_t *sc, evb_json_type_t *t) {
    size_t left = (size_t)(sc->end - sc->p);
    if (left >= 4 && memcmp(sc->p, "null", 4) == 0) {
        *t = EVB_JSON_NULL;
        sc->p += 4;
    } else if (left >= 4 && memcmp(sc->p, "true", 4) == 0) {
        *t = EVB_JSON_TRUE;
        sc->p += 4;
    } else if (left >= 5 && memcmp(sc->p, "false", 5) == 0) {
        *t = EVB_JSON_FALSE;
        sc->p += 5;
    } else {
        return serr(sc, "unexpected character");
    }
    return 0;
}

static int skip_value(scan_t *sc);

/* Skip the object or array at p, validating it, without recursion: the
 * kinds of the open containers are kept as bits (1 = object). This is the
 * hot path for the parts of an event that no rule mentions. */
static int skip_container(scan_t *sc) {
    evb_json_scanner_t *s = sc->s;
    size_t words = s->max_depth / 64 + 1;
    if (s->kinds_cap < words) {
        uint64_t *nk = realloc(s->kinds, words * sizeof *nk);
        if (!nk) {
            sc->err = EVB_ERR_NOMEM;
            return sc->err;
        }
        s->kinds = nk;
        s->kinds_cap = words;
    }
    uint64_t *kinds = s->kinds;
    const char *p = sc->p, *end = sc->end;
    uint32_t base = sc->depth, depth = base;
    uint32_t rel = 0; /* open containers of this skip */
    bool obj;
#define WS()                                                                   \
    while (p < end && (unsigned char)*p <= ' ' &&                              \
           (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))              \
    p++
#define FAIL(msg)                                                              \
    do {                                                                       \
        sc->p = p;                                                             \
        return serr(sc, msg);                                                  \
    } while (0)
open:
    /* p is at '{' or '[' */
    if (++depth > s->max_depth)
        FAIL("nesting too deep");
    obj = *p == '{';
    if (obj)
        kinds[rel / 64] |= (uint64_t)1 << (rel % 64);
    else
        kinds[rel / 64] &= ~((uint64_t)1 << (rel % 64));
    rel++;
    p++;
    WS();
    if (p < end && *p == (obj ? '}' : ']'))
        goto close;
    for (;;) {
        /* a member name (objects), then a value */
        if (obj) {
            if (p >= end || *p != '"')
                FAIL("expected a member name");
            const char *b;
            size_t bl;
            bool e;
            sc->p = p;
            if (skip_string(sc, &b, &bl, &e))
                return sc->err;
            p = sc->p;
            WS();
            if (p >= end || *p != ':')
                FAIL("expected ':'");
            p++;
            WS();
        }
        if (p >= end)
            FAIL("expected a value");
        char c = *p;
        if (c == '{' || c == '[')
            goto open;
        sc->p = p;
        if (c == '"') {
            const char *b;
            size_t bl;
            bool e;
            if (skip_string(sc, &b, &bl, &e))
                return sc->err;
        } else if (c == '-' || (unsigned)(c - '0') <= 9) {
            if (skip_number(sc))
                return sc->err;
        } else {
            evb_json_type_t t = EVB_JSON_NULL;
            if (skip_literal(sc, &t))
                return sc->err;
        }
        p = sc->p;
    after_value:
        WS();
        if (p >= end)
            FAIL("unterminated container");
        if (*p == ',') {
            p++;
            WS();
            continue;
        }
        if (*p != (obj ? '}' : ']'))
            FAIL("expected ',' or a closing bracket");
    close:
        p++;
        depth--;
        rel--;
        if (rel == 0) {
            sc->p = p;
            sc->depth = base;
            return 0;
        }
        obj = (kinds[(rel - 1) / 64] >> ((rel - 1) % 64)) & 1;
        goto after_value;
    }
#undef WS
#undef FAIL
}

static int skip_value(scan_t *sc) {
    skip_ws(sc);
    if (sc->p >= sc->end)
        return serr(sc, "expected a value");
    char c = *sc->p;
    if (c == '"') {
        const char *b;
        size_t bl;
        bool e;
        return skip_string(sc, &b, &bl, &e);
    }
    if (c == '{' || c == '[')
        return skip_container(sc);
    if (c == '-' || (unsigned)(c - '0') <= 9)
        return skip_number(sc);
    evb_json_type_t t = EVB_JSON_NULL;
    return skip_literal(sc, &t);
}

static int scan_value(scan_t *sc, void *node);

static int emit_leaf(scan_t *sc, void *node, evb_json_type_t t,
                     const char *text, size_t len) {
    evb_json_leaf_t leaf = {
        t, text, len, sc->s->stack, sc->adepth, sc->apos_version};
    if (sc->ops->leaf(sc->ud, node, &leaf)) {
        if (!sc->err) {
            sc->err = EVB_ERR_INTERNAL;
            evb_err_set(sc->err, sc->errstr, sc->errstr_size, "scan aborted");
        }
        return sc->err;
    }
    return 0;
}

static int scan_object(scan_t *sc, void *node) {
    if (++sc->depth > sc->s->max_depth)
        return serr(sc, "nesting too deep");
    sc->p++;
    skip_ws(sc);
    if (sc->p < sc->end && *sc->p == '}') {
        sc->p++;
        sc->depth--;
        return 0;
    }
    for (;;) {
        skip_ws(sc);
        if (sc->p >= sc->end || *sc->p != '"')
            return serr(sc, "expected a member name");
        const char *key;
        size_t klen;
        bool esc;
        if (skip_string(sc, &key, &klen, &esc))
            return sc->err;
        if (EVB_UNLIKELY(esc)) {
            size_t n = unescape(sc, key, klen, 0);
            if (n == (size_t)-1) {
                sc->err = EVB_ERR_NOMEM;
                return sc->err;
            }
            key = sc->s->buf;
            klen = n;
        }
        void *child = sc->ops->child(sc->ud, node, key, klen);
        skip_ws(sc);
        if (sc->p >= sc->end || *sc->p != ':')
            return serr(sc, "expected ':'");
        sc->p++;
        if (child ? scan_value(sc, child) : skip_value(sc))
            return sc->err;
        skip_ws(sc);
        if (sc->p >= sc->end)
            return serr(sc, "unterminated object");
        if (*sc->p == ',') {
            sc->p++;
            continue;
        }
        if (*sc->p == '}') {
            sc->p++;
            break;
        }
        return serr(sc, "expected ',' or '}'");
    }
    sc->depth--;
    return 0;
}

static int scan_array(scan_t *sc, void *node) {
    evb_json_scanner_t *s = sc->s;
    if (++sc->depth > s->max_depth)
        return serr(sc, "nesting too deep");
    if (sc->adepth == s->stack_cap) {
        uint32_t cap = s->stack_cap ? s->stack_cap * 2 : 16;
        evb_json_apos_t *ns = realloc(s->stack, cap * sizeof *ns);
        if (!ns) {
            sc->err = EVB_ERR_NOMEM;
            return sc->err;
        }
        s->stack = ns;
        s->stack_cap = cap;
    }
    uint32_t level = sc->adepth++;
    s->stack[level].array_id = sc->next_array_id++;
    s->stack[level].index = 0;
    sc->apos_version++;
    sc->p++;
    skip_ws(sc);
    if (sc->p < sc->end && *sc->p == ']') {
        sc->p++;
    } else {
        for (uint32_t i = 0;; i++) {
            if (i) {
                s->stack[level].index = i;
                sc->apos_version++;
            }
            if (scan_value(sc, node))
                return sc->err;
            skip_ws(sc);
            if (sc->p >= sc->end)
                return serr(sc, "unterminated array");
            if (*sc->p == ',') {
                sc->p++;
                continue;
            }
            if (*sc->p == ']') {
                sc->p++;
                break;
            }
            return serr(sc, "expected ',' or ']'");
        }
    }
    sc->adepth--;
    sc->apos_version++;
    sc->depth--;
    return 0;
}

static int scan_value(scan_t *sc, void *node) {
    skip_ws(sc);
    if (sc->p >= sc->end)
        return serr(sc, "expected a value");
    char c = *sc->p;
    const evb_json_scan_ops_t *ops = sc->ops;
    if (c == '{') {
        if (!ops->wants_children(sc->ud, node))
            return skip_container(sc);
        return scan_object(sc, node);
    }
    if (c == '[')
        return scan_array(sc, node);
    if (!ops->wants_leaves(sc->ud, node))
        return skip_value(sc);
    if (c == '"') {
        const char *b;
        size_t bl;
        bool esc;
        if (skip_string(sc, &b, &bl, &esc))
            return sc->err;
        if (EVB_UNLIKELY(esc)) {
            size_t n = unescape(sc, b, bl, 0);
            if (n == (size_t)-1) {
                sc->err = EVB_ERR_NOMEM;
                return sc->err;
            }
            b = sc->s->buf;
            bl = n;
        }
        return emit_leaf(sc, node, EVB_JSON_STRING, b, bl);
    }
    if (c == '-' || (unsigned)(c - '0') <= 9) {
        const char *b = sc->p;
        if (skip_number(sc))
            return sc->err;
        return emit_leaf(sc, node, EVB_JSON_NUMBER, b, (size_t)(sc->p - b));
    }
    evb_json_type_t t = EVB_JSON_NULL;
    const char *b = sc->p;
    if (skip_literal(sc, &t))
        return sc->err;
    return emit_leaf(sc, node, t, b, (size_t)(sc->p - b));
}

evb_err_t evb_json_scan(evb_json_scanner_t *s, const char *text, size_t len,
                        const evb_json_scan_ops_t *ops, void *ud, void *root,
                        char *errstr, size_t errstr_size) {
    scan_t sc = {.p = text,
                 .end = text + len,
                 .start = text,
                 .s = s,
                 .ops = ops,
                 .ud = ud,
                 .errstr = errstr,
                 .errstr_size = errstr_size};
    skip_ws(&sc);
    if (sc.p >= sc.end || *sc.p != '{') {
        sc.err = EVB_ERR_INVALID_EVENT;
        evb_err_set(sc.err, errstr, errstr_size,
                    sc.p >= sc.end ? "event is empty"
                                   : "event is not a JSON object");
        /* still say "not an object" for valid non-object JSON */
        return sc.err;
    }
    if (root ? scan_object(&sc, root) : skip_value(&sc))
        return sc.err;
    skip_ws(&sc);
    if (sc.p < sc.end)
        return serr(&sc, "trailing characters after the event");
    return EVB_ERR_OK;
}

evb_err_t evb_json_validate(const char *text, size_t len, unsigned max_depth,
                            char *errstr, size_t errstr_size) {
    evb_json_scanner_t s;
    evb_json_scanner_init(&s, max_depth);
    scan_t sc = {.p = text,
                 .end = text + len,
                 .start = text,
                 .s = &s,
                 .errstr = errstr,
                 .errstr_size = errstr_size};
    if (!skip_value(&sc)) {
        skip_ws(&sc);
        if (sc.p < sc.end)
            serr(&sc, "trailing characters after the value");
    }
    evb_json_scanner_free(&s);
    return sc.err;
}
