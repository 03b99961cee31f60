/* app.c: the programs' shared plumbing (app.h). */
#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "../../../src/json/json.h"

volatile sig_atomic_t fraud_app_stop = 0;

static void on_signal(int sig) {
    (void)sig;
    fraud_app_stop = 1;
}

void fraud_app_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int64_t fraud_app_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fraud_app_sleep_ms(int64_t ms) {
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !fraud_app_stop)
        ;
}

evb_err_t fraud_app_writer_open(const char *registry_url,
                                const char *schema_path, const char *topic,
                                evb_serde_t **serde, evb_serde_writer_t *writer,
                                char *subject, size_t subject_size,
                                char *errstr, size_t errstr_size) {
    *serde = NULL;
    snprintf(subject, subject_size, "%s-value", topic);
    evb_buf_t schema;
    evb_buf_init(&schema, 0);
    char why[512];
    evb_err_t err = evb_buf_read_file(&schema, schema_path, why, sizeof why);
    if (err) {
        evb_buf_free(&schema);
        return evb_err_set(err, errstr, errstr_size, "cannot read %s", why);
    }
    evb_serde_config_t scfg = {.registry_url = registry_url};
    err = evb_serde_new(&scfg, serde, errstr, errstr_size);
    if (!err) /* the writer keeps its own copy of the schema */
        err = evb_serde_writer_register(*serde, subject, schema.data,
                                        schema.len, 0, writer, NULL, errstr,
                                        errstr_size);
    evb_buf_free(&schema);
    return err;
}

bool fraud_app_write_file(const char *path, const char *text) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return false;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return false;
    bool ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    return ok && rename(tmp, path) == 0;
}

static evb_err_t put_str(evb_buf_t *out, const char *key, const char *v,
                         bool comma) {
    evb_err_t err = EVB_ERR_OK;
    if (comma)
        err = evb_buf_append(out, ",", 1);
    if (!err)
        err = evb_json_append_string(out, key, strlen(key));
    if (!err)
        err = evb_buf_append(out, ":", 1);
    if (!err)
        err = evb_json_append_string(out, v, strlen(v));
    return err;
}

static evb_err_t put_raw(evb_buf_t *out, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static evb_err_t put_raw(evb_buf_t *out, const char *key, const char *fmt,
                         ...) {
    char num[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(num, sizeof num, fmt, ap);
    va_end(ap);
    evb_err_t err = evb_buf_append(out, ",", 1);
    if (!err)
        err = evb_json_append_string(out, key, strlen(key));
    if (!err)
        err = evb_buf_append(out, ":", 1);
    if (!err)
        err = evb_buf_append(out, num, strlen(num));
    return err;
}

evb_err_t fraud_app_txn_json(const fraud_txn_t *t, evb_buf_t *out) {
    char total[32];
    fraud_txn_total_string(t, total);
    evb_err_t err = evb_buf_append(out, "{", 1);
    if (!err)
        err = put_str(out, "creditCard", t->card, false);
    if (!err)
        err = put_str(out, "firstName", t->first_name, true);
    if (!err)
        err = put_str(out, "id", t->id, true);
    if (!err)
        err = put_str(out, "lastName", t->last_name, true);
    if (!err)
        err = put_str(out, "streetAddress", t->street, true);
    if (!err)
        err = put_str(out, "total", total, true);
    if (!err)
        err = put_str(out, "userId", t->user_id, true);
    if (!err)
        err = put_str(out, "merchant", t->merchant, true);
    if (!err)
        err = put_str(out, "category", t->category, true);
    if (!err)
        err = put_str(out, "country", t->country, true);
    if (!err)
        err = put_raw(out, "latitude", "%.6f", t->latitude);
    if (!err)
        err = put_raw(out, "longitude", "%.6f", t->longitude);
    if (!err)
        err = put_raw(out, "timestamp", "%lld", (long long)t->timestamp_ms);
    if (!err)
        err = evb_buf_append(out, "}", 1);
    return err;
}

static bool copy_str(json_t *o, const char *key, char *dst, size_t size,
                     bool required) {
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) {
        dst[0] = '\0';
        return !required;
    }
    const char *s = json_string_value(v);
    if (strlen(s) >= size)
        return false;
    memcpy(dst, s, strlen(s) + 1);
    return true;
}

bool fraud_app_txn_parse(const char *json, size_t len, fraud_txn_t *t) {
    memset(t, 0, sizeof *t);
    json_t *o = json_loadb(json, len, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return false;
    }
    bool ok =
        copy_str(o, "id", t->id, sizeof t->id, true) &&
        copy_str(o, "creditCard", t->card, sizeof t->card, true) &&
        copy_str(o, "userId", t->user_id, sizeof t->user_id, true) &&
        copy_str(o, "firstName", t->first_name, sizeof t->first_name, false) &&
        copy_str(o, "lastName", t->last_name, sizeof t->last_name, false) &&
        copy_str(o, "streetAddress", t->street, sizeof t->street, false) &&
        copy_str(o, "merchant", t->merchant, sizeof t->merchant, false) &&
        copy_str(o, "category", t->category, sizeof t->category, false) &&
        copy_str(o, "country", t->country, sizeof t->country, false);
    char total[32];
    ok = ok && copy_str(o, "total", total, sizeof total, true);
    if (ok) {
        char *end;
        errno = 0;
        t->total = strtod(total, &end);
        ok = end != total && *end == '\0' && errno == 0;
    }
    json_t *ts = json_object_get(o, "timestamp");
    ok = ok && json_is_integer(ts);
    if (ok)
        t->timestamp_ms = (int64_t)json_integer_value(ts);
    json_t *lat = json_object_get(o, "latitude"),
           *lon = json_object_get(o, "longitude");
    t->latitude = json_is_number(lat) ? json_number_value(lat) : 0;
    t->longitude = json_is_number(lon) ? json_number_value(lon) : 0;
    json_decref(o);
    return ok;
}

evb_err_t fraud_app_notification_json(const fraud_txn_t *t,
                                      const fraud_finding_t *f,
                                      evb_buf_t *out) {
    evb_err_t err = evb_buf_append(out, "{", 1);
    if (!err)
        err = put_str(out, "source", "transactionAnalyzer", false);
    if (!err)
        err = put_str(out, "eventType", "suspiciousActivity", true);
    if (!err)
        err = evb_buf_append(out, ",\"eventDetail\":{", 16);
    if (!err)
        err = put_str(out, "userId", t->user_id, false);
    if (!err)
        err = put_raw(out, "total", "%.2f", t->total);
    if (!err)
        err = evb_buf_append(out, "}", 1);
    if (!err)
        err = put_str(out, "ruleId", fraud_rule_id(f->rule), true);
    if (!err)
        err = put_str(out, "cardId", t->card, true);
    if (!err)
        err = put_raw(out, "score", "%.3f", f->score);
    if (!err)
        err = put_str(out, "reason", f->reason, true);
    if (!err)
        err = put_str(out, "transactionId", t->id, true);
    if (!err)
        err =
            put_raw(out, "transactionTime", "%lld", (long long)t->timestamp_ms);
    if (!err)
        err =
            put_raw(out, "windowStart", "%lld", (long long)f->window_start_ms);
    if (!err)
        err = evb_buf_append(out, "}", 1);
    return err;
}
