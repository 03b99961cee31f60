/*
 * client.c: what every librdkafka handle of the module shares: the
 * librdkafka configuration built from evbus's properties (with errors
 * that name where a property came from), and the log sink.
 *
 * Secrets are kept out of logs twice over: the module never formats a
 * secret's value into a message, and every line librdkafka logs is
 * scrubbed of the values of the handle's secret properties before it
 * reaches the sink (librdkafka's `debug=conf` output, for one, would
 * otherwise be a place where they could show).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

static evb_kafka_log_fn sink_fn;
static void *sink_ud;

void evb_kafka_set_log(evb_kafka_log_fn fn, void *ud) {
    sink_fn = fn;
    sink_ud = ud;
}

static void emit(int level, const char *line) {
    if (sink_fn) {
        sink_fn(sink_ud, level, line);
        return;
    }
    fprintf(stderr, "evbus: kafka: %s\n", line);
}

/* Replace every occurrence of cl's secrets in line (in place, bounded by
 * size) with "[redacted]". */
static void scrub(const evb__kclient_t *cl, char *line, size_t size) {
    static const char mark[] = "[redacted]";
    if (!cl || !cl->secrets)
        return;
    for (char **s = cl->secrets; *s; s++) {
        size_t n = strlen(*s);
        if (!n)
            continue;
        char *p = line;
        while ((p = strstr(p, *s))) {
            /* the line fits in size, so pos + n + tail < size */
            size_t pos = (size_t)(p - line), tail = strlen(p + n);
            size_t avail = size - 1 - pos;
            size_t m = sizeof mark - 1 < avail ? sizeof mark - 1 : avail;
            size_t keep = tail < avail - m ? tail : avail - m;
            memmove(p + m, p + n, keep);
            memcpy(p, mark, m);
            p[m + keep] = '\0';
            p += m;
            if (m < sizeof mark - 1)
                break;
        }
    }
}

/* A truncated line may end in the first part of a secret: cut it off. */
static void cut_partial(const evb__kclient_t *cl, char *line) {
    if (!cl || !cl->secrets)
        return;
    size_t len = strlen(line);
    for (char **s = cl->secrets; *s; s++)
        for (size_t k = strlen(*s); k-- > 1;)
            if (k <= len && memcmp(line + len - k, *s, k) == 0) {
                len -= k;
                line[len] = '\0';
                break;
            }
}

void evb__klog(const evb__kclient_t *cl, int level, const char *fmt, ...) {
    char line[2048];
    int off = 0;
    if (cl && cl->name)
        off = snprintf(line, sizeof line, "%s: ", cl->name);
    if (off < 0 || (size_t)off >= sizeof line)
        off = 0;
    if (level <= 3)
        off += snprintf(line + off, sizeof line - (size_t)off, "error: ");
    else if (level == 4)
        off += snprintf(line + off, sizeof line - (size_t)off, "warning: ");
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(line + off, sizeof line - (size_t)off, fmt, ap);
    va_end(ap);
    scrub(cl, line, sizeof line);
    if (w >= 0 && (size_t)w >= sizeof line - (size_t)off)
        cut_partial(cl, line);
    emit(level, line);
}

void evb__klog_cb(const rd_kafka_t *rk, int level, const char *fac,
                  const char *buf) {
    const evb__kclient_t *cl = rd_kafka_opaque(rk);
    evb__klog(cl, level, "%s: %s", fac, buf);
}

evb_err_t evb__kclient_init(evb__kclient_t *cl, const char *name,
                            const evb_kafka_conf_t *conf) {
    memset(cl, 0, sizeof *cl);
    cl->name = evb__kstrdup(name ? name : "kafka");
    size_t n = 0;
    for (size_t i = 0; conf && i < conf->n; i++)
        n += evb_kafka_conf_is_secret(conf->props[i].key);
    cl->secrets = calloc(n + 1, sizeof *cl->secrets);
    if (!cl->name || !cl->secrets) {
        evb__kclient_free(cl);
        return EVB_ERR_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; conf && i < conf->n; i++)
        if (evb_kafka_conf_is_secret(conf->props[i].key) &&
            !(cl->secrets[k++] = evb__kstrdup(conf->props[i].value))) {
            evb__kclient_free(cl);
            return EVB_ERR_NOMEM;
        }
    return EVB_ERR_OK;
}

void evb__kclient_free(evb__kclient_t *cl) {
    free(cl->name);
    if (cl->secrets)
        for (char **s = cl->secrets; *s; s++)
            free(*s);
    free(cl->secrets);
    memset(cl, 0, sizeof *cl);
}

evb_err_t evb__kconf_build(const evb_kafka_conf_t *conf,
                           const char *const *defaults, evb__kclient_t *cl,
                           rd_kafka_conf_t **out, char *errstr,
                           size_t errstr_size) {
    *out = NULL;
    rd_kafka_conf_t *rc = rd_kafka_conf_new();
    if (!rc)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    char why[512];
    for (size_t i = 0; defaults && defaults[i]; i += 2)
        if (rd_kafka_conf_set(rc, defaults[i], defaults[i + 1], why,
                              sizeof why) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(rc);
            return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                               "evbus default %s: %s", defaults[i], why);
        }
    for (size_t i = 0; conf && i < conf->n; i++) {
        const evb__kprop_t *p = &conf->props[i];
        why[0] = '\0';
        rd_kafka_conf_res_t res =
            rd_kafka_conf_set(rc, p->key, p->value, why, sizeof why);
        if (res == RD_KAFKA_CONF_OK)
            continue;
        char where[400];
        evb__kconf_where(conf, p->key, where, sizeof where);
        if (res == RD_KAFKA_CONF_UNKNOWN)
            evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                        "%s: not a librdkafka configuration property", where);
        else if (evb_kafka_conf_is_secret(p->key))
            evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                        "%s: librdkafka refused the value (not shown: it "
                        "is a secret)",
                        where);
        else
            evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size, "%s: %s",
                        where, why);
        rd_kafka_conf_destroy(rc);
        return EVB_ERR_INVALID_ARG;
    }
    rd_kafka_conf_set_log_cb(rc, evb__klog_cb);
    if (cl)
        rd_kafka_conf_set_opaque(rc, cl);
    *out = rc;
    return EVB_ERR_OK;
}
