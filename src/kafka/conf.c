/*
 * conf.c: librdkafka properties as evbus keeps them, and the Java
 * .properties reader.
 *
 * A property list is a small array (configurations hold tens of
 * properties, so a linear search is the simple and fast choice) of owned
 * key, value and origin strings. The reader follows
 * java.util.Properties.load exactly (line reader, then key/value split,
 * then escapes), because a properties file written for a Java Kafka
 * client is what users will bring; the only departures are the ones a C
 * string forces (a NUL is refused) and the output encoding (UTF-8).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

char *evb__kstrdup(const char *s) {
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

evb_kafka_conf_t *evb_kafka_conf_new(void) {
    return calloc(1, sizeof(evb_kafka_conf_t));
}

void evb_kafka_conf_free(evb_kafka_conf_t *c) {
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->props[i].key);
        free(c->props[i].value);
        free(c->props[i].origin);
    }
    free(c->props);
    free(c);
}

evb_kafka_conf_t *evb_kafka_conf_dup(const evb_kafka_conf_t *c) {
    evb_kafka_conf_t *d = evb_kafka_conf_new();
    if (!d)
        return NULL;
    for (size_t i = 0; i < c->n; i++)
        if (evb_kafka_conf_set(d, c->props[i].key, c->props[i].value,
                               c->props[i].origin, NULL, 0)) {
            evb_kafka_conf_free(d);
            return NULL;
        }
    return d;
}

static evb__kprop_t *find(const evb_kafka_conf_t *c, const char *key) {
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->props[i].key, key) == 0)
            return &c->props[i];
    return NULL;
}

evb_err_t evb_kafka_conf_set(evb_kafka_conf_t *c, const char *key,
                             const char *value, const char *origin,
                             char *errstr, size_t errstr_size) {
    if (!key[0])
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s%sempty property name", origin ? origin : "",
                           origin ? ": " : "");
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "%s%sproperty name with a control character",
                               origin ? origin : "", origin ? ": " : "");
    char *v = evb__kstrdup(value);
    char *o = origin ? evb__kstrdup(origin) : NULL;
    if (!v || (origin && !o)) {
        free(v);
        free(o);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    evb__kprop_t *p = find(c, key);
    if (p) {
        free(p->value);
        free(p->origin);
        p->value = v;
        p->origin = o;
        return EVB_ERR_OK;
    }
    char *k = evb__kstrdup(key);
    if (!k || (c->n == c->cap && c->cap >= SIZE_MAX / 2 / sizeof *c->props))
        goto nomem;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        evb__kprop_t *np = realloc(c->props, cap * sizeof *np);
        if (!np)
            goto nomem;
        c->props = np;
        c->cap = cap;
    }
    c->props[c->n++] = (evb__kprop_t){k, v, o};
    return EVB_ERR_OK;
nomem:
    free(k);
    free(v);
    free(o);
    return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
}

evb_err_t evb_kafka_conf_set_pair(evb_kafka_conf_t *c, const char *pair,
                                  const char *origin, char *errstr,
                                  size_t errstr_size) {
    const char *eq = strchr(pair, '=');
    if (!eq)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s%sexpected key=value, got '%.*s'",
                           origin ? origin : "", origin ? ": " : "",
                           (int)strnlen(pair, 64), pair);
    size_t klen = (size_t)(eq - pair);
    char *key = malloc(klen + 1);
    if (!key)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    memcpy(key, pair, klen);
    key[klen] = '\0';
    evb_err_t err =
        evb_kafka_conf_set(c, key, eq + 1, origin, errstr, errstr_size);
    free(key);
    return err;
}

const char *evb_kafka_conf_get(const evb_kafka_conf_t *c, const char *key) {
    const evb__kprop_t *p = find(c, key);
    return p ? p->value : NULL;
}

size_t evb_kafka_conf_count(const evb_kafka_conf_t *c) {
    return c->n;
}

void evb_kafka_conf_entry(const evb_kafka_conf_t *c, size_t i, const char **key,
                          const char **value, const char **origin) {
    *key = c->props[i].key;
    *value = c->props[i].value;
    if (origin)
        *origin = c->props[i].origin;
}

bool evb_kafka_conf_is_secret(const char *key) {
    if (strstr(key, "password") || strstr(key, "secret"))
        return true;
    return strcmp(key, "ssl.key.pem") == 0 || strcmp(key, "ssl_key") == 0 ||
           strcmp(key, "sasl.oauthbearer.config") == 0;
}

void evb__kconf_where(const evb_kafka_conf_t *conf, const char *key, char *out,
                      size_t out_size) {
    const evb__kprop_t *p = conf ? find(conf, key) : NULL;
    if (p && p->origin)
        snprintf(out, out_size, "%s: %s", p->origin, key);
    else
        snprintf(out, out_size, "%s", key);
}

evb_err_t evb_kafka_conf_check(const evb_kafka_conf_t *c, char *errstr,
                               size_t errstr_size) {
    rd_kafka_conf_t *rc = NULL;
    evb_err_t err = evb__kconf_build(c, NULL, NULL, &rc, errstr, errstr_size);
    if (rc)
        rd_kafka_conf_destroy(rc);
    return err;
}

evb_err_t evb_kafka_conf_describe(const evb_kafka_conf_t *c, evb_buf_t *out) {
    evb_err_t err = EVB_ERR_OK;
    for (size_t i = 0; i < c->n && !err; i++) {
        const evb__kprop_t *p = &c->props[i];
        err = evb_buf_appendf(out, "%s%s=%s", i ? ", " : "", p->key,
                              evb_kafka_conf_is_secret(p->key) ? "[redacted]"
                                                               : p->value);
    }
    return err;
}

/* ---- Java .properties ------------------------------------------------------
 */

typedef struct reader {
    const char *s;
    size_t len, pos;
    unsigned line;     /* line number of the next byte */
    unsigned start;    /* where the logical line just read started */
    evb_buf_t logical; /* the logical line, continuations joined */
} reader_t;

static bool blank(char c) {
    return c == ' ' || c == '\t' || c == '\f';
}

/*
 * Read the next logical line (Properties.LineReader): false at the end of
 * the text. Comment and blank lines are skipped; a continuation drops the
 * backslash and the next line's leading blanks.
 */
static bool read_logical(reader_t *r, evb_err_t *err) {
    evb_buf_reset(&r->logical);
    bool skip_ws = true, comment = false, new_line = true;
    bool appended = false, backslash = false;
    *err = EVB_ERR_OK;
    for (;;) {
        if (r->pos >= r->len) {
            /* end of text: what is in hand is the last line */
            if (comment || r->logical.len == 0)
                return false;
            if (backslash)
                r->logical.data[--r->logical.len] = '\0';
            return true;
        }
        char c = r->s[r->pos++];
        bool eol = c == '\n' || c == '\r';
        if (eol) {
            if (c == '\r' && r->pos < r->len && r->s[r->pos] == '\n')
                r->pos++;
            r->line++;
        }
        if (skip_ws) {
            if (blank(c))
                continue;
            if (!appended && eol)
                continue;
            skip_ws = false;
            appended = false;
        }
        if (new_line) {
            new_line = false;
            r->start = r->line;
            if (c == '#' || c == '!') {
                comment = true;
                continue;
            }
        }
        if (!eol) {
            if (!comment && (*err = evb_buf_putc(&r->logical, c)))
                return false;
            backslash = c == '\\' ? !backslash : false;
            continue;
        }
        if (comment || r->logical.len == 0) {
            comment = false;
            new_line = true;
            skip_ws = true;
            backslash = false;
            evb_buf_reset(&r->logical);
            continue;
        }
        if (!backslash)
            return true;
        /* a continuation: drop the backslash, join the next line */
        r->logical.data[--r->logical.len] = '\0';
        skip_ws = true;
        appended = true;
        backslash = false;
    }
}

static evb_err_t put_utf8(evb_buf_t *b, unsigned long cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return evb_buf_append(b, u, n);
}

/* Four hex digits at s[i..]; -1 if malformed. */
static long hex4(const char *s, size_t len, size_t i) {
    if (i + 4 > len)
        return -1;
    long v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = evb_hex_value(s[i + k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Properties.loadConvert: unescape s[0..len) into out. */
static evb_err_t unescape(const char *s, size_t len, evb_buf_t *out,
                          const char **why) {
    evb_buf_reset(out);
    evb_err_t err = EVB_ERR_OK;
    for (size_t i = 0; i < len && !err;) {
        char c = s[i++];
        if (c != '\\') {
            err = evb_buf_putc(out, c);
            continue;
        }
        if (i >= len) /* cannot happen: the line reader drops it */
            break;
        c = s[i++];
        switch (c) {
        case 't': err = evb_buf_putc(out, '\t'); break;
        case 'n': err = evb_buf_putc(out, '\n'); break;
        case 'r': err = evb_buf_putc(out, '\r'); break;
        case 'f': err = evb_buf_putc(out, '\f'); break;
        case 'u': {
            long u = hex4(s, len, i);
            if (u < 0) {
                *why = "malformed \\uxxxx escape";
                return EVB_ERR_INVALID_ARG;
            }
            i += 4;
            unsigned long cp = (unsigned long)u;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                long lo = i + 1 < len && s[i] == '\\' && s[i + 1] == 'u'
                              ? hex4(s, len, i + 2)
                              : -1;
                if (lo < 0xdc00 || lo > 0xdfff) {
                    *why = "\\u escape: a high surrogate without its low "
                           "surrogate";
                    return EVB_ERR_INVALID_ARG;
                }
                i += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) +
                     ((unsigned long)lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                *why = "\\u escape: a low surrogate without its high "
                       "surrogate";
                return EVB_ERR_INVALID_ARG;
            }
            if (cp == 0) {
                *why = "\\u0000: a NUL character cannot be passed on";
                return EVB_ERR_INVALID_ARG;
            }
            err = put_utf8(out, cp);
            break;
        }
        default: err = evb_buf_putc(out, c); break;
        }
    }
    if (!err && !out->data)
        err = evb_buf_append(out, "", 0);
    return err;
}

/* Split a logical line into raw key and value (Properties.load0). */
static void split(const char *s, size_t len, size_t *klen, size_t *vstart) {
    size_t k = 0, v = len;
    bool sep = false, backslash = false;
    while (k < len) {
        char c = s[k];
        if ((c == '=' || c == ':') && !backslash) {
            v = k + 1;
            sep = true;
            break;
        }
        if (blank(c) && !backslash) {
            v = k + 1;
            break;
        }
        backslash = c == '\\' ? !backslash : false;
        k++;
    }
    while (v < len) {
        char c = s[v];
        if (!blank(c)) {
            if (!sep && (c == '=' || c == ':'))
                sep = true;
            else
                break;
        }
        v++;
    }
    *klen = k;
    *vstart = v;
}

evb_err_t evb_kafka_conf_parse_properties(evb_kafka_conf_t *c, const char *text,
                                          size_t len, const char *name,
                                          char *errstr, size_t errstr_size) {
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        unsigned line = 1;
        for (const char *p = text; p < nul; p++)
            line += *p == '\n' || (*p == '\r' && p[1] != '\n');
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s:%u: a NUL character", name, line);
    }
    /* parse into a scratch list first: nothing is added on error */
    evb_kafka_conf_t *tmp = evb_kafka_conf_new();
    if (!tmp)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    reader_t r = {text, len, 0, 1, 1, {0}};
    evb_buf_init(&r.logical, 0);
    evb_buf_t key, value;
    evb_buf_init(&key, 0);
    evb_buf_init(&value, 0);
    evb_err_t err = EVB_ERR_OK;
    for (;;) {
        evb_err_t rerr;
        if (!read_logical(&r, &rerr)) {
            err = rerr;
            break;
        }
        size_t klen, vstart;
        split(r.logical.data, r.logical.len, &klen, &vstart);
        const char *why = NULL;
        char origin[300];
        snprintf(origin, sizeof origin, "%s:%u", name, r.start);
        err = unescape(r.logical.data, klen, &key, &why);
        if (!err && !why)
            err = unescape(r.logical.data + vstart, r.logical.len - vstart,
                           &value, &why);
        if (why) {
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "%s: %s", origin, why);
            break;
        }
        if (!err && key.len == 0) {
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "%s: empty property name", origin);
            break;
        }
        if (!err)
            err = evb_kafka_conf_set(tmp, key.data, value.data, origin, errstr,
                                     errstr_size);
        if (err)
            break;
    }
    if (err == EVB_ERR_NOMEM)
        evb_err_set(err, errstr, errstr_size, "out of memory");
    for (size_t i = 0; i < tmp->n && !err; i++)
        err = evb_kafka_conf_set(c, tmp->props[i].key, tmp->props[i].value,
                                 tmp->props[i].origin, errstr, errstr_size);
    evb_buf_free(&r.logical);
    evb_buf_free(&key);
    evb_buf_free(&value);
    evb_kafka_conf_free(tmp);
    return err;
}

evb_err_t evb_kafka_conf_load_file(evb_kafka_conf_t *c, const char *path,
                                   char *errstr, size_t errstr_size) {
    evb_buf_t b;
    evb_buf_init(&b, 16u << 20);
    FILE *f = fopen(path, "rb");
    if (!f)
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size, "%s: %s", path,
                           strerror(errno));
    char chunk[8192];
    size_t n;
    evb_err_t err = EVB_ERR_OK;
    while (!err && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        err = evb_buf_append(&b, chunk, n);
    bool failed = ferror(f);
    fclose(f);
    if (err || failed) {
        evb_buf_free(&b);
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size, "%s: %s", path,
                           err == EVB_ERR_TOO_LARGE ? "larger than 16 MiB"
                           : failed                 ? "read error"
                                                    : "out of memory");
    }
    err = evb_kafka_conf_parse_properties(c, b.data ? b.data : "", b.len, path,
                                          errstr, errstr_size);
    evb_buf_free(&b);
    return err;
}
