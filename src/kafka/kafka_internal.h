/* kafka_internal.h: what the kafka module's files share (internal). */
#ifndef EVB_KAFKA_INTERNAL_H
#define EVB_KAFKA_INTERNAL_H

#include <librdkafka/rdkafka.h>

#include "kafka.h"

typedef struct evb__kprop {
    char *key, *value, *origin;
} evb__kprop_t;

struct evb_kafka_conf {
    evb__kprop_t *props;
    size_t n, cap;
};

/*
 * What every librdkafka handle of this module carries as its opaque: a
 * label for log lines and the secret values to scrub from them. It is
 * the first member of the producer, consumer and mock structs, so the
 * opaque can be read as one.
 */
typedef struct evb__kclient {
    char *name;
    char **secrets; /* values of the secret properties, NULL-terminated */
} evb__kclient_t;

/* Fill cl's name and secrets from conf. EVB_ERR_NOMEM. */
evb_err_t evb__kclient_init(evb__kclient_t *cl, const char *name,
                            const evb_kafka_conf_t *conf);
void evb__kclient_free(evb__kclient_t *cl);

/* Log through the sink, with cl's secrets replaced by "[redacted]". cl may
 * be NULL. */
void evb__klog(const evb__kclient_t *cl, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A new librdkafka configuration: the defaults (key, value pairs, NULL
 * terminated; may be NULL), then conf's properties; opaque cl with the
 * module's log and error callbacks. A property librdkafka refuses is
 * EVB_ERR_INVALID_ARG "ORIGIN: KEY: reason".
 */
evb_err_t evb__kconf_build(const evb_kafka_conf_t *conf,
                           const char *const *defaults, evb__kclient_t *cl,
                           rd_kafka_conf_t **out, char *errstr,
                           size_t errstr_size);

/* "ORIGIN: KEY" for messages about property key of conf (or just KEY). */
void evb__kconf_where(const evb_kafka_conf_t *conf, const char *key, char *out,
                      size_t out_size);

/* librdkafka's log callback (the opaque is an evb__kclient_t). */
void evb__klog_cb(const rd_kafka_t *rk, int level, const char *fac,
                  const char *buf);

char *evb__kstrdup(const char *s);

#endif
