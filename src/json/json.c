/*
 * json.c: the DOM parser (see json.h). A recursive-descent parser over a
 * byte range; depth is bounded by the caller. Error texts follow Jackson's
 * wording because EventBridge reports Jackson's messages for bad patterns.
 */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "json_internal.h"

typedef struct parser {
    const char *p, *end, *start;
    const char *line_start;
    uint32_t line;
    unsigned depth, max_depth;
    evb_arena_t *a;
    char *errstr;
    size_t errstr_size;
    evb_err_t err;
} parser_t;

static const char expect_value[] =
    "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

static evb_err_t perr(parser_t *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static evb_err_t perr(parser_t *ps, const char *fmt, ...) {
    if (ps->err)
        return ps->err;
    if (ps->errstr && ps->errstr_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->errstr, ps->errstr_size, fmt, ap);
        va_end(ap);
    }
    ps->err = EVB_ERR_INVALID_JSON;
    return ps->err;
}

static evb_err_t nomem(parser_t *ps) {
    if (!ps->err) {
        ps->err = EVB_ERR_NOMEM;
        evb_err_set(EVB_ERR_NOMEM, ps->errstr, ps->errstr_size,
                    "out of memory");
    }
    return ps->err;
}

/* "'x' (code 120)" in Jackson's style; control characters are named. */
static void char_desc(int c, char *out, size_t n) {
    if (c < 0x20)
        snprintf(out, n, "(CTRL-CHAR, code %d)", c);
    else if (c < 0x80)
        snprintf(out, n, "'%c' (code %d)", c, c);
    else
        snprintf(out, n, "(code %d)", c);
}

static void skip_ws(parser_t *ps) {
    while (ps->p < ps->end) {
        char c = *ps->p;
        if (c == ' ' || c == '\t' || c == '\r') {
            ps->p++;
        } else if (c == '\n') {
            ps->p++;
            ps->line++;
            ps->line_start = ps->p;
        } else {
            break;
        }
    }
}

static bool is_token_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80;
}

static evb_err_t unrecognized_token(parser_t *ps) {
    const char *q = ps->p;
    while (q < ps->end && is_token_char((unsigned char)*q) && q - ps->p < 256)
        q++;
    if (q == ps->p) {
        char d[48];
        char_desc((unsigned char)*ps->p, d, sizeof d);
        return perr(ps, "Unexpected character (%s): expected a valid value %s",
                    d, expect_value);
    }
    return perr(ps, "Unrecognized token '%.*s': was expecting %s",
                (int)(q - ps->p), ps->p, expect_value);
}

/* Parse a string at ps->p (which is at the opening quote). */
static evb_err_t parse_string(parser_t *ps, const char **out, size_t *outlen) {
    const char *s = ++ps->p;
    const char *q = s;
    bool escaped = false;
    while (q < ps->end && *q != '"') {
        unsigned char c = (unsigned char)*q;
        if (c < 0x20) {
            ps->p = q;
            char d[48];
            char_desc(c, d, sizeof d);
            return perr(ps,
                        "Illegal unquoted character (%s): has to be escaped "
                        "using backslash to be included in string value",
                        d);
        }
        if (c == '\\') {
            escaped = true;
            q++;
        }
        q++;
    }
    if (q >= ps->end) {
        ps->p = ps->end;
        return perr(ps, "Unexpected end-of-input: was expecting closing "
                        "quote for a string value");
    }
    size_t raw = (size_t)(q - s);
    char *o = evb_arena_alloc(ps->a, raw + 1);
    if (!o)
        return nomem(ps);
    size_t n = 0;
    if (!escaped) {
        memcpy(o, s, raw);
        n = raw;
    } else {
        for (const char *r = s; r < q; r++) {
            if (*r != '\\') {
                o[n++] = *r;
                continue;
            }
            char e = *++r;
            switch (e) {
            case '"': o[n++] = '"'; break;
            case '\\': o[n++] = '\\'; break;
            case '/': o[n++] = '/'; break;
            case 'b': o[n++] = '\b'; break;
            case 'f': o[n++] = '\f'; break;
            case 'n': o[n++] = '\n'; break;
            case 'r': o[n++] = '\r'; break;
            case 't': o[n++] = '\t'; break;
            case 'u': {
                uint32_t cp = 0;
                for (int i = 1; i <= 4; i++) {
                    int h = r + i < q ? evb_hex_value(r[i]) : -1;
                    if (h < 0) {
                        ps->p = r;
                        return perr(ps, "Unexpected character in \\u escape: "
                                        "expected a hex-digit for character "
                                        "escape sequence");
                    }
                    cp = cp << 4 | (uint32_t)h;
                }
                r += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF && r + 6 < q + 1 &&
                    r[1] == '\\' && r[2] == 'u') {
                    uint32_t lo = 0;
                    int ok = 1;
                    for (int i = 3; i <= 6; i++) {
                        int h = r + i < q ? evb_hex_value(r[i]) : -1;
                        if (h < 0) {
                            ok = 0;
                            break;
                        }
                        lo = lo << 4 | (uint32_t)h;
                    }
                    if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        r += 6;
                    }
                }
                if (cp >= 0xD800 && cp <= 0xDFFF)
                    cp = 0xFFFD; /* lone surrogate */
                n += evb__utf8_put(o + n, cp);
                break;
            }
            default: {
                ps->p = r;
                char d[48];
                char_desc((unsigned char)e, d, sizeof d);
                return perr(ps, "Unrecognized character escape %s", d);
            }
            }
        }
    }
    o[n] = '\0';
    ps->p = q + 1;
    *out = o;
    *outlen = n;
    return EVB_ERR_OK;
}

static evb_err_t parse_number(parser_t *ps, evb_jval_t *v) {
    const char *s = ps->p, *q = s;
    if (q < ps->end && *q == '-')
        q++;
    if (q >= ps->end || *q < '0' || *q > '9') {
        if (q < ps->end && is_token_char((unsigned char)*q)) {
            ps->p = s;
            return unrecognized_token(ps);
        }
        ps->p = q;
        return perr(ps, "Unexpected character ('-' (code 45)) in numeric "
                        "value: expected digit (0-9) to follow minus sign, "
                        "for valid numeric value");
    }
    if (*q == '0' && q + 1 < ps->end && q[1] >= '0' && q[1] <= '9') {
        ps->p = q;
        return perr(ps, "Invalid numeric value: Leading zeroes not allowed");
    }
    while (q < ps->end && *q >= '0' && *q <= '9')
        q++;
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || *q < '0' || *q > '9') {
            ps->p = q;
            return perr(ps, "Unexpected character in numeric value: Decimal "
                            "point not followed by a digit");
        }
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= ps->end || *q < '0' || *q > '9') {
            ps->p = q;
            return perr(ps, "Unexpected character in numeric value: Exponent "
                            "indicator not followed by a digit");
        }
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < ps->end && is_token_char((unsigned char)*q)) {
        ps->p = s;
        return unrecognized_token(ps);
    }
    v->type = EVB_JSON_NUMBER;
    v->u.str.s = evb_arena_strndup(ps->a, s, (size_t)(q - s));
    if (!v->u.str.s)
        return nomem(ps);
    v->u.str.len = (size_t)(q - s);
    ps->p = q;
    return EVB_ERR_OK;
}

static evb_err_t parse_value(parser_t *ps, evb_jval_t **out);

/* Growable pointer array in the arena (old copies are abandoned). */
typedef struct {
    void *items;
    size_t n, cap, elem;
} vec_t;

static int vec_push(parser_t *ps, vec_t *v, const void *item) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        void *ni = evb_arena_alloc(ps->a, cap * v->elem);
        if (!ni)
            return -1;
        if (v->n)
            memcpy(ni, v->items, v->n * v->elem);
        v->items = ni;
        v->cap = cap;
    }
    memcpy((char *)v->items + v->n * v->elem, item, v->elem);
    v->n++;
    return 0;
}

static evb_err_t parse_array(parser_t *ps, evb_jval_t *v) {
    vec_t items = {NULL, 0, 0, sizeof(evb_jval_t *)};
    ps->p++; /* [ */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        goto done;
    }
    for (;;) {
        evb_jval_t *item;
        if (parse_value(ps, &item))
            return ps->err;
        if (vec_push(ps, &items, &item))
            return nomem(ps);
        skip_ws(ps);
        if (ps->p >= ps->end)
            return perr(ps, "Unexpected end-of-input: expected close marker "
                            "for Array");
        if (*ps->p == ']') {
            ps->p++;
            break;
        }
        if (*ps->p != ',') {
            char d[48];
            char_desc((unsigned char)*ps->p, d, sizeof d);
            return perr(ps,
                        "Unexpected character (%s): was expecting comma "
                        "to separate Array entries",
                        d);
        }
        ps->p++;
    }
done:
    v->type = EVB_JSON_ARRAY;
    v->u.arr.items = items.items;
    v->u.arr.n = items.n;
    return EVB_ERR_OK;
}

static evb_err_t parse_object(parser_t *ps, evb_jval_t *v) {
    vec_t members = {NULL, 0, 0, sizeof(evb_jmember_t)};
    ps->p++; /* { */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        goto done;
    }
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end)
            return perr(ps, "Unexpected end-of-input: expected close marker "
                            "for Object");
        if (*ps->p != '"') {
            char d[48];
            char_desc((unsigned char)*ps->p, d, sizeof d);
            return perr(ps,
                        "Unexpected character (%s): was expecting "
                        "double-quote to start field name",
                        d);
        }
        evb_jmember_t m;
        if (parse_string(ps, &m.key, &m.klen))
            return ps->err;
        skip_ws(ps);
        if (ps->p >= ps->end)
            return perr(ps, "Unexpected end-of-input: expected close marker "
                            "for Object");
        if (*ps->p != ':') {
            char d[48];
            char_desc((unsigned char)*ps->p, d, sizeof d);
            return perr(ps,
                        "Unexpected character (%s): was expecting a colon "
                        "to separate field name and value",
                        d);
        }
        ps->p++;
        if (parse_value(ps, &m.val))
            return ps->err;
        if (vec_push(ps, &members, &m))
            return nomem(ps);
        skip_ws(ps);
        if (ps->p >= ps->end)
            return perr(ps, "Unexpected end-of-input: expected close marker "
                            "for Object");
        if (*ps->p == '}') {
            ps->p++;
            break;
        }
        if (*ps->p != ',') {
            char d[48];
            char_desc((unsigned char)*ps->p, d, sizeof d);
            return perr(ps,
                        "Unexpected character (%s): was expecting comma "
                        "to separate Object entries",
                        d);
        }
        ps->p++;
    }
done:
    v->type = EVB_JSON_OBJECT;
    v->u.obj.members = members.items;
    v->u.obj.n = members.n;
    return EVB_ERR_OK;
}

static bool literal(parser_t *ps, const char *word, size_t n) {
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    if (ps->p + n < ps->end && is_token_char((unsigned char)ps->p[n]))
        return false;
    ps->p += n;
    return true;
}

static evb_err_t parse_value(parser_t *ps, evb_jval_t **out) {
    skip_ws(ps);
    if (ps->p >= ps->end)
        return perr(ps, ps->depth == 0
                            ? "No content to map due to end-of-input"
                            : "Unexpected end-of-input: expected a value");
    evb_jval_t *v = evb_arena_calloc(ps->a, 1, sizeof *v);
    if (!v)
        return nomem(ps);
    v->line = ps->line;
    v->col = (uint32_t)(ps->p - ps->line_start) + 1;
    v->src = ps->p;
    char c = *ps->p;
    evb_err_t err = EVB_ERR_OK;
    if (c == '{' || c == '[') {
        if (++ps->depth > ps->max_depth)
            return perr(ps, "Maximum nesting depth (%u) exceeded",
                        ps->max_depth);
        err = c == '{' ? parse_object(ps, v) : parse_array(ps, v);
        ps->depth--;
    } else if (c == '"') {
        v->type = EVB_JSON_STRING;
        err = parse_string(ps, &v->u.str.s, &v->u.str.len);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        err = parse_number(ps, v);
    } else if (literal(ps, "null", 4)) {
        v->type = EVB_JSON_NULL;
    } else if (literal(ps, "true", 4)) {
        v->type = EVB_JSON_TRUE;
    } else if (literal(ps, "false", 5)) {
        v->type = EVB_JSON_FALSE;
    } else {
        err = unrecognized_token(ps);
    }
    if (err)
        return err;
    v->src_len = (size_t)(ps->p - v->src);
    *out = v;
    return EVB_ERR_OK;
}

evb_err_t evb_json_parse(evb_arena_t *a, const char *text, size_t len,
                         unsigned max_depth, evb_jval_t **out, char *errstr,
                         size_t errstr_size) {
    parser_t ps = {.p = text,
                   .end = text + len,
                   .start = text,
                   .line_start = text,
                   .line = 1,
                   .max_depth = max_depth,
                   .a = a,
                   .errstr = errstr,
                   .errstr_size = errstr_size};
    *out = NULL;
    evb_jval_t *v;
    if (parse_value(&ps, &v))
        return ps.err;
    skip_ws(&ps);
    if (ps.p < ps.end) {
        char d[48];
        char_desc((unsigned char)*ps.p, d, sizeof d);
        return perr(&ps,
                    "Unexpected character (%s): expected end of input "
                    "after the JSON value",
                    d);
    }
    *out = v;
    return EVB_ERR_OK;
}

const char *evb_json_type_name(evb_json_type_t t) {
    static const char *const names[] = {"null",   "false", "true",  "number",
                                        "string", "array", "object"};
    return (unsigned)t < EVB_ARRAY_LEN(names) ? names[t] : "?";
}

/* s as a JSON string literal, \u00XX with the digits of hex. */
static evb_err_t append_string(evb_buf_t *b, const char *s, size_t len,
                               const char hex[16]) {
    evb_err_t err = evb_buf_putc(b, '"');
    size_t run = 0; /* bytes copied as they are */
    for (size_t i = 0; i < len && !err; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        err = evb_buf_append(b, s + i - run, run);
        run = 0;
        if (err)
            break;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        err = evb_buf_append(b, esc, n);
    }
    if (!err)
        err = evb_buf_append(b, s + len - run, run);
    if (!err)
        err = evb_buf_putc(b, '"');
    return err;
}

evb_err_t evb_json_append_string(evb_buf_t *b, const char *s, size_t len) {
    return append_string(b, s, len, "0123456789ABCDEF"); /* as Jackson */
}

evb_err_t evb_json_append_string_lower(evb_buf_t *b, const char *s,
                                       size_t len) {
    return append_string(b, s, len, "0123456789abcdef");
}

evb_err_t evb_json_append_compact(evb_buf_t *b, const char *text, size_t len) {
    size_t start = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            evb_err_t err = evb_buf_append(b, text + start, i - start);
            if (err)
                return err;
            start = i + 1;
        }
    }
    return evb_buf_append(b, text + start, len - start);
}
