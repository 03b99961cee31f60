/*
 * log.c: the process's logger (common.h).
 *
 * A record is formatted into a buffer of its own, on the calling thread,
 * and written with one fwrite under the stream's lock: lines of different
 * threads never interleave, and a slow disk delays only the thread that
 * logs. The configuration is three plain variables set once before any
 * thread starts (evb_log_setup), so reading them needs no lock.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common.h"

static evb_log_format_t log_format = EVB_LOG_TEXT;
static evb_log_level_t log_level = EVB_LOG_INFO;
static FILE *log_out;

void evb_log_setup(evb_log_format_t format, evb_log_level_t level, void *out) {
    log_format = format;
    log_level = level;
    log_out = out;
}

bool evb_log_parse_level(const char *s, evb_log_level_t *out) {
    static const struct {
        const char *name;
        evb_log_level_t level;
    } names[] = {{"debug", EVB_LOG_DEBUG},
                 {"info", EVB_LOG_INFO},
                 {"warn", EVB_LOG_WARN},
                 {"warning", EVB_LOG_WARN},
                 {"error", EVB_LOG_ERROR}};
    for (size_t i = 0; s && i < EVB_ARRAY_LEN(names); i++)
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return true;
        }
    return false;
}

bool evb_log_parse_format(const char *s, evb_log_format_t *out) {
    if (s && strcasecmp(s, "text") == 0)
        *out = EVB_LOG_TEXT;
    else if (s && strcasecmp(s, "json") == 0)
        *out = EVB_LOG_JSON;
    else
        return false;
    return true;
}

bool evb_log_enabled(evb_log_level_t level) {
    return level >= log_level;
}

static const char *level_name(evb_log_level_t l) {
    switch (l) {
    case EVB_LOG_DEBUG: return "debug";
    case EVB_LOG_INFO: return "info";
    case EVB_LOG_WARN: return "warn";
    default: return "error";
    }
}

/* Does the key name a secret? */
static bool secret_key(const char *key) {
    static const char *const words[] = {"authorization", "secret", "password",
                                        "token", "credential"};
    for (size_t i = 0; i < EVB_ARRAY_LEN(words); i++)
        if (strcasestr(key, words[i]))
            return true;
    return false;
}

/* A JSON string (quotes included), control characters escaped. */
static void put_json_string(evb_buf_t *b, const char *s) {
    evb_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            evb_buf_putc(b, '\\');
            evb_buf_putc(b, (char)*p);
        } else if (*p == '\n') {
            evb_buf_append(b, "\\n", 2);
        } else if (*p == '\r') {
            evb_buf_append(b, "\\r", 2);
        } else if (*p == '\t') {
            evb_buf_append(b, "\\t", 2);
        } else if (*p < 0x20) {
            evb_buf_appendf(b, "\\u%04x", *p);
        } else {
            evb_buf_putc(b, (char)*p);
        }
    }
    evb_buf_putc(b, '"');
}

/* A text value: bare when it has no space, quote or control character,
 * else quoted like a JSON string. */
static void put_text_value(evb_buf_t *b, const char *s) {
    bool bare = *s != '\0';
    for (const unsigned char *p = (const unsigned char *)s; bare && *p; p++)
        bare = *p > ' ' && *p != '"' && *p != '\\' && *p != '=';
    if (bare)
        evb_buf_append(b, s, strlen(s));
    else
        put_json_string(b, s);
}

static void put_number(evb_buf_t *b, const evb_log_field_t *f) {
    if (f->kind == 'i')
        evb_buf_appendf(b, "%lld", f->i);
    else if (isfinite(f->d))
        evb_buf_appendf(b, "%.6g", f->d);
    else
        evb_buf_append(b, "null", 4);
}

static void write_record(evb_log_level_t level, const char *component,
                         const char *msg, const evb_log_field_t *fields,
                         size_t n) {
    evb_buf_t b;
    evb_buf_init(&b, 1u << 20);
    if (log_format == EVB_LOG_JSON) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        evb_buf_appendf(&b, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\"", when,
                        ts.tv_nsec / 1000000L, level_name(level));
        if (component) {
            evb_buf_append(&b, ",\"component\":", 13);
            put_json_string(&b, component);
        }
        evb_buf_append(&b, ",\"msg\":", 7);
        put_json_string(&b, msg);
        for (size_t i = 0; i < n; i++) {
            const evb_log_field_t *f = &fields[i];
            if (f->kind == 's' && !f->str)
                continue;
            evb_buf_putc(&b, ',');
            put_json_string(&b, f->key);
            evb_buf_putc(&b, ':');
            if (secret_key(f->key))
                evb_buf_append(&b, "\"[redacted]\"", 12);
            else if (f->kind == 's')
                put_json_string(&b, f->str);
            else
                put_number(&b, f);
        }
        evb_buf_append(&b, "}\n", 2);
    } else {
        evb_buf_append(&b, "evbus: ", 7);
        if (component)
            evb_buf_appendf(&b, "%s: ", component);
        if (level == EVB_LOG_WARN)
            evb_buf_append(&b, "warning: ", 9);
        else if (level == EVB_LOG_ERROR)
            evb_buf_append(&b, "error: ", 7);
        evb_buf_append(&b, msg, strlen(msg));
        for (size_t i = 0; i < n; i++) {
            const evb_log_field_t *f = &fields[i];
            if (f->kind == 's' && !f->str)
                continue;
            evb_buf_appendf(&b, " %s=", f->key);
            if (secret_key(f->key))
                evb_buf_append(&b, "[redacted]", 10);
            else if (f->kind == 's')
                put_text_value(&b, f->str);
            else
                put_number(&b, f);
        }
        evb_buf_putc(&b, '\n');
    }
    FILE *out = log_out ? log_out : stderr;
    if (b.data) {
        flockfile(out);
        fwrite(b.data, 1, b.len, out);
        fflush(out);
        funlockfile(out);
    }
    evb_buf_free(&b);
}

void evb_log(evb_log_level_t level, const char *component, const char *fmt,
             ...) {
    if (!evb_log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    write_record(level, component, msg, NULL, 0);
}

void evb_log_fields(evb_log_level_t level, const char *component,
                    const char *msg, const evb_log_field_t *fields, size_t n) {
    if (evb_log_enabled(level))
        write_record(level, component, msg, fields, n);
}
