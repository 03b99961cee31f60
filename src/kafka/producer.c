/*
 * producer.c: the idempotent producer and its delivery reports.
 *
 * One thread per producer serves librdkafka's queue (rd_kafka_poll), so
 * delivery reports reach their callbacks without the caller polling;
 * flush and close wait for that thread to drain the queue rather than
 * serve it themselves, so every report runs on the same thread.
 *
 * Exactly one report per accepted message, whatever happens: each message
 * carries a small record (its callback) that is on a list until its report
 * has run. At close the producer flushes for up to message.timeout.ms,
 * purges what is left (librdkafka reports purged messages too), and any
 * record still on the list after librdkafka is destroyed is reported as
 * SHUTDOWN by hand.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kafka_internal.h"

typedef struct pmsg {
    struct pmsg *prev, *next;
    evb_kafka_report_fn done;
    void *ud;
} pmsg_t;

struct evb_kafka_producer {
    evb__kclient_t cl; /* first: librdkafka's opaque */
    rd_kafka_t *rk;
    pthread_t thread;
    atomic_bool stopping;
    int timeout_ms; /* message.timeout.ms */
    pthread_mutex_t lock;
    pmsg_t pending; /* list head: messages without a report */
    size_t npending;
    bool failed;
    char fatal[160];
};

static uint64_t now_ms(void) {
    return evb_now_ns() / 1000000u;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The report's class for a librdkafka error. */
static void classify(rd_kafka_resp_err_t e, evb_kafka_report_t *r) {
    r->ok = false;
    r->error = (int)e;
    r->retriable = true;
    r->code = "KAFKA_ERROR";
    switch (e) {
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT: r->code = "TIMEOUT"; break;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        r->code = "NO_RESOURCE";
        r->retriable = false;
        break;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
        r->code = "NOT_AUTHORIZED";
        r->retriable = false;
        break;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
        r->code = "INVALID_PARAMETERS";
        r->retriable = false;
        break;
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__DESTROY: r->code = "SHUTDOWN"; break;
    default: break;
    }
}

static void unlink_msg(evb_kafka_producer_t *p, pmsg_t *m) {
    pthread_mutex_lock(&p->lock);
    m->prev->next = m->next;
    m->next->prev = m->prev;
    p->npending--;
    pthread_mutex_unlock(&p->lock);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque) {
    (void)rk;
    evb_kafka_producer_t *p = opaque;
    pmsg_t *m = rkm->_private;
    if (!m)
        return;
    evb_kafka_report_t r;
    memset(&r, 0, sizeof r);
    const char *topic = rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "?";
    if (!rkm->err) {
        r.ok = true;
        r.code = "OK";
        r.partition = rkm->partition;
        r.offset = rkm->offset;
        snprintf(r.message, sizeof r.message, "delivered to %s [%d] at %lld",
                 topic, (int)rkm->partition, (long long)rkm->offset);
    } else {
        classify(rkm->err, &r);
        r.partition = rkm->partition;
        r.offset = -1;
        if (rkm->err == RD_KAFKA_RESP_ERR__FATAL) {
            pthread_mutex_lock(&p->lock);
            snprintf(r.message, sizeof r.message, "Kafka: fatal: %s", p->fatal);
            pthread_mutex_unlock(&p->lock);
        } else {
            snprintf(r.message, sizeof r.message, "Kafka: %s (topic %s)",
                     rd_kafka_err2str(rkm->err), topic);
        }
    }
    unlink_msg(p, m);
    m->done(m->ud, &r);
    free(m);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason,
                     void *opaque) {
    evb_kafka_producer_t *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[256];
        rd_kafka_fatal_error(rk, why, sizeof why);
        pthread_mutex_lock(&p->lock);
        p->failed = true;
        snprintf(p->fatal, sizeof p->fatal, "%.150s", why);
        pthread_mutex_unlock(&p->lock);
        evb__klog(&p->cl, 3, "fatal producer error: %s", why);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT)
        return; /* librdkafka logged it already (FAIL) */
    evb__klog(&p->cl, 4, "%s: %s", rd_kafka_err2name(err), reason);
}

static void *poller(void *arg) {
    evb_kafka_producer_t *p = arg;
    while (!atomic_load(&p->stopping))
        rd_kafka_poll(p->rk, 100);
    return NULL;
}

static bool is_true(const char *v) {
    return strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* conf may repeat the settings evbus imposes, not contradict them. */
static evb_err_t check_imposed(const evb_kafka_conf_t *conf, char *errstr,
                               size_t errstr_size) {
    char where[400];
    const char *v =
        conf ? evb_kafka_conf_get(conf, "enable.idempotence") : NULL;
    if (v && !is_true(v)) {
        evb__kconf_where(conf, "enable.idempotence", where, sizeof where);
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s: evbus producers are idempotent "
                           "(enable.idempotence=true, acks=all); remove the "
                           "property",
                           where);
    }
    static const char *const acks[] = {"acks", "request.required.acks"};
    for (size_t i = 0; i < 2; i++) {
        v = conf ? evb_kafka_conf_get(conf, acks[i]) : NULL;
        if (v && strcasecmp(v, "all") != 0 && strcmp(v, "-1") != 0) {
            evb__kconf_where(conf, acks[i], where, sizeof where);
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "%s: evbus producers use acks=all (the "
                               "idempotent producer needs it); remove the "
                               "property",
                               where);
        }
    }
    return EVB_ERR_OK;
}

evb_err_t evb_kafka_producer_new(const evb_kafka_conf_t *conf, const char *name,
                                 evb_kafka_producer_t **out, char *errstr,
                                 size_t errstr_size) {
    static const char *const defaults[] = {"partitioner", "murmur2_random",
                                           "message.timeout.ms", "10000", NULL};
    *out = NULL;
    evb_err_t err = check_imposed(conf, errstr, errstr_size);
    if (err)
        return err;
    evb_kafka_producer_t *p = calloc(1, sizeof *p);
    if (!p || evb__kclient_init(&p->cl, name, conf)) {
        free(p);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    pthread_mutex_init(&p->lock, NULL);
    p->pending.next = p->pending.prev = &p->pending;
    rd_kafka_conf_t *rc = NULL;
    err = evb__kconf_build(conf, defaults, &p->cl, &rc, errstr, errstr_size);
    char why[512];
    if (!err && (rd_kafka_conf_set(rc, "enable.idempotence", "true", why,
                                   sizeof why) != RD_KAFKA_CONF_OK ||
                 rd_kafka_conf_set(rc, "acks", "all", why, sizeof why) !=
                     RD_KAFKA_CONF_OK))
        err = evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size, "%s", why);
    if (!err) {
        char v[32];
        size_t vs = sizeof v;
        if (rd_kafka_conf_get(rc, "message.timeout.ms", v, &vs) ==
            RD_KAFKA_CONF_OK)
            p->timeout_ms = atoi(v);
        if (p->timeout_ms <= 0) {
            evb__kconf_where(conf, "message.timeout.ms", why, sizeof why);
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "%s: must be finite (not 0) so that every "
                              "message gets its delivery report",
                              why);
        }
    }
    if (err) {
        if (rc)
            rd_kafka_conf_destroy(rc);
        evb__kclient_free(&p->cl);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return err;
    }
    rd_kafka_conf_set_dr_msg_cb(rc, on_delivery);
    rd_kafka_conf_set_error_cb(rc, on_error);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, rc, why, sizeof why);
    if (!p->rk) {
        rd_kafka_conf_destroy(rc);
        evb__kclient_free(&p->cl);
        pthread_mutex_destroy(&p->lock);
        free(p);
        /* librdkafka's reason names the property, never a secret value */
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "cannot create a Kafka producer: %s", why);
    }
    if (pthread_create(&p->thread, NULL, poller, p) != 0) {
        rd_kafka_destroy(p->rk);
        evb__kclient_free(&p->cl);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "cannot start the producer's thread");
    }
    *out = p;
    return EVB_ERR_OK;
}

static evb_err_t fail_now(rd_kafka_resp_err_t e, const char *topic,
                          evb_kafka_report_t *why) {
    if (why) {
        memset(why, 0, sizeof *why);
        classify(e, why);
        snprintf(why->message, sizeof why->message, "Kafka: %s (topic %s)",
                 rd_kafka_err2str(e), topic);
    }
    evb_kafka_report_t r;
    classify(e, &r);
    return r.retriable ? EVB_ERR_IO : EVB_ERR_INVALID_ARG;
}

evb_err_t evb_kafka_produce(evb_kafka_producer_t *p,
                            const evb_kafka_out_msg_t *m,
                            evb_kafka_report_fn done, void *ud,
                            evb_kafka_report_t *why) {
    if (atomic_load(&p->stopping))
        return fail_now(RD_KAFKA_RESP_ERR__DESTROY, m->topic, why);
    if (!evb_kafka_topic_name_valid(m->topic, strlen(m->topic)))
        return fail_now(RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, m->topic, why);
    pmsg_t *pm = calloc(1, sizeof *pm);
    if (!pm)
        return fail_now(RD_KAFKA_RESP_ERR__FAIL, m->topic, why);
    pm->done = done;
    pm->ud = ud;
    pthread_mutex_lock(&p->lock);
    pm->next = &p->pending;
    pm->prev = p->pending.prev;
    p->pending.prev->next = pm;
    p->pending.prev = pm;
    p->npending++;
    pthread_mutex_unlock(&p->lock);
    uint64_t deadline = now_ms() + (uint64_t)p->timeout_ms;
    rd_kafka_resp_err_t e;
    for (;;) {
        rd_kafka_headers_t *hdrs = NULL;
        if (m->nheaders) {
            hdrs = rd_kafka_headers_new(m->nheaders);
            for (size_t i = 0; i < m->nheaders; i++)
                rd_kafka_header_add(hdrs, m->headers[i].name, -1,
                                    m->headers[i].value,
                                    (ssize_t)m->headers[i].len);
        }
        e = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(m->topic),
                              RD_KAFKA_V_PARTITION(m->partition),
                              RD_KAFKA_V_KEY(m->key, m->key ? m->key_len : 0),
                              RD_KAFKA_V_VALUE((void *)m->value, m->value_len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(pm),
                              RD_KAFKA_V_END);
        if (e && hdrs)
            rd_kafka_headers_destroy(hdrs);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || now_ms() >= deadline ||
            atomic_load(&p->stopping))
            break;
        sleep_ms(1); /* the poller serves reports and makes room */
    }
    if (!e)
        return EVB_ERR_OK;
    unlink_msg(p, pm);
    free(pm);
    if (e == RD_KAFKA_RESP_ERR__FATAL && why) {
        evb_err_t r = fail_now(e, m->topic, why);
        pthread_mutex_lock(&p->lock);
        snprintf(why->message, sizeof why->message, "Kafka: fatal: %s",
                 p->fatal);
        pthread_mutex_unlock(&p->lock);
        return r;
    }
    return fail_now(e, m->topic, why);
}

size_t evb_kafka_producer_in_flight(evb_kafka_producer_t *p) {
    pthread_mutex_lock(&p->lock);
    size_t n = p->npending;
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* Wait (the poller serving reports) until no message lacks its report. */
static bool drain(evb_kafka_producer_t *p, int timeout_ms) {
    uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (evb_kafka_producer_in_flight(p) == 0)
            return true;
        if (now_ms() >= deadline)
            return false;
        sleep_ms(2);
    }
}

evb_err_t evb_kafka_producer_flush(evb_kafka_producer_t *p, int timeout_ms,
                                   char *errstr, size_t errstr_size) {
    if (drain(p, timeout_ms))
        return EVB_ERR_OK;
    return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                       "%zu messages still in flight after %d ms",
                       evb_kafka_producer_in_flight(p), timeout_ms);
}

bool evb_kafka_producer_failed(evb_kafka_producer_t *p, char *errstr,
                               size_t errstr_size) {
    pthread_mutex_lock(&p->lock);
    bool failed = p->failed;
    if (failed && errstr && errstr_size)
        snprintf(errstr, errstr_size, "%s", p->fatal);
    pthread_mutex_unlock(&p->lock);
    return failed;
}

void evb_kafka_producer_free(evb_kafka_producer_t *p) {
    if (!p)
        return;
    if (!drain(p, p->timeout_ms)) {
        evb__klog(&p->cl, 4,
                  "closing with %zu messages undelivered after %d ms; they "
                  "are reported as SHUTDOWN",
                  evb_kafka_producer_in_flight(p), p->timeout_ms);
        rd_kafka_purge(p->rk,
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        drain(p, 2000);
    }
    atomic_store(&p->stopping, true);
    rd_kafka_yield(p->rk);
    pthread_join(p->thread, NULL);
    rd_kafka_destroy(p->rk);
    /* whatever librdkafka did not report is reported here */
    evb_kafka_report_t r;
    memset(&r, 0, sizeof r);
    classify(RD_KAFKA_RESP_ERR__DESTROY, &r);
    snprintf(r.message, sizeof r.message, "Kafka: the producer closed");
    r.offset = -1;
    while (p->pending.next != &p->pending) {
        pmsg_t *m = p->pending.next;
        unlink_msg(p, m);
        m->done(m->ud, &r);
        free(m);
    }
    evb__kclient_free(&p->cl);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
