/*
 * consumer.c: a consumer-group member with commits after processing.
 *
 * librdkafka's high-level consumer (rd_kafka_subscribe /
 * rd_kafka_consumer_poll) with automatic commits and the automatic offset
 * store turned off: an offset is committed only when the caller says the
 * message was processed, so a crash or a restart re-reads what was not
 * (at least once). Rebalances use librdkafka's default handling
 * (assignment inside poll). Errors and logs go through the consumer's
 * opaque like the producer's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kafka_internal.h"

struct evb_kafka_consumer {
    evb__kclient_t cl; /* first: librdkafka's opaque */
    rd_kafka_t *rk;
};

static void on_error(rd_kafka_t *rk, int err, const char *reason,
                     void *opaque) {
    (void)rk;
    evb_kafka_consumer_t *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT)
        return; /* librdkafka logged it already (FAIL) */
    evb__klog(&c->cl, err == RD_KAFKA_RESP_ERR__FATAL ? 3 : 4, "%s: %s",
              rd_kafka_err2name(err), reason);
}

static bool is_false(const char *v) {
    return strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0;
}

evb_err_t evb_kafka_consumer_new(const evb_kafka_conf_t *conf,
                                 const char *group_id,
                                 const char *const *topics, size_t ntopics,
                                 const char *name, evb_kafka_consumer_t **out,
                                 char *errstr, size_t errstr_size) {
    static const char *const defaults[] = {"auto.offset.reset", "earliest",
                                           NULL};
    *out = NULL;
    static const char *const manual[] = {"enable.auto.commit",
                                         "enable.auto.offset.store"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = conf ? evb_kafka_conf_get(conf, manual[i]) : NULL;
        if (v && !is_false(v)) {
            char where[400];
            evb__kconf_where(conf, manual[i], where, sizeof where);
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "%s: evbus consumers commit offsets after "
                               "processing; remove the property",
                               where);
        }
    }
    if (!group_id && !(conf && evb_kafka_conf_get(conf, "group.id")))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "a consumer needs a group.id");
    if (ntopics == 0)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "a consumer needs at least one topic");
    for (size_t i = 0; i < ntopics; i++)
        if (topics[i][0] != '^' && /* '^': a regex subscription */
            !evb_kafka_topic_name_valid(topics[i], strlen(topics[i])))
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "not a valid Kafka topic name: '%.*s'",
                               (int)strnlen(topics[i], 300), topics[i]);
    evb_kafka_consumer_t *c = calloc(1, sizeof *c);
    if (!c || evb__kclient_init(&c->cl, name, conf)) {
        free(c);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    rd_kafka_conf_t *rc = NULL;
    evb_err_t err =
        evb__kconf_build(conf, defaults, &c->cl, &rc, errstr, errstr_size);
    char why[512];
    if (!err &&
        ((group_id && rd_kafka_conf_set(rc, "group.id", group_id, why,
                                        sizeof why) != RD_KAFKA_CONF_OK) ||
         rd_kafka_conf_set(rc, "enable.auto.commit", "false", why,
                           sizeof why) != RD_KAFKA_CONF_OK ||
         rd_kafka_conf_set(rc, "enable.auto.offset.store", "false", why,
                           sizeof why) != RD_KAFKA_CONF_OK))
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "group.id: %s", why);
    if (err) {
        if (rc)
            rd_kafka_conf_destroy(rc);
        evb__kclient_free(&c->cl);
        free(c);
        return err;
    }
    rd_kafka_conf_set_error_cb(rc, on_error);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, rc, why, sizeof why);
    if (!c->rk) {
        rd_kafka_conf_destroy(rc);
        evb__kclient_free(&c->cl);
        free(c);
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "cannot create a Kafka consumer: %s", why);
    }
    rd_kafka_poll_set_consumer(c->rk);
    rd_kafka_topic_partition_list_t *sub =
        rd_kafka_topic_partition_list_new((int)ntopics);
    for (size_t i = 0; i < ntopics; i++)
        rd_kafka_topic_partition_list_add(sub, topics[i],
                                          RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) {
        evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                    "cannot subscribe: %s", rd_kafka_err2str(e));
        evb_kafka_consumer_free(c);
        return EVB_ERR_INVALID_ARG;
    }
    *out = c;
    return EVB_ERR_OK;
}

evb_err_t evb_kafka_consumer_poll(evb_kafka_consumer_t *c, int timeout_ms,
                                  evb_kafka_msg_t **out, char *errstr,
                                  size_t errstr_size) {
    *out = NULL;
    rd_kafka_message_t *rkm = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (!rkm)
        return EVB_ERR_OK;
    if (rkm->err) {
        rd_kafka_resp_err_t e = rkm->err;
        if (e == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(rkm);
            return EVB_ERR_OK;
        }
        if (e == RD_KAFKA_RESP_ERR__FATAL) {
            char why[256];
            rd_kafka_fatal_error(c->rk, why, sizeof why);
            rd_kafka_message_destroy(rkm);
            return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                               "Kafka consumer: fatal: %s", why);
        }
        if (rkm->rkt)
            evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                        "Kafka consumer: %s (topic %s)",
                        rd_kafka_message_errstr(rkm),
                        rd_kafka_topic_name(rkm->rkt));
        else
            evb_err_set(EVB_ERR_IO, errstr, errstr_size, "Kafka consumer: %s",
                        rd_kafka_message_errstr(rkm));
        rd_kafka_message_destroy(rkm);
        return EVB_ERR_IO;
    }
    evb_kafka_msg_t *m = calloc(1, sizeof *m);
    if (!m) {
        rd_kafka_message_destroy(rkm);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    m->topic = rd_kafka_topic_name(rkm->rkt);
    m->partition = rkm->partition;
    m->offset = rkm->offset;
    m->key = rkm->key;
    m->key_len = rkm->key ? rkm->key_len : 0;
    m->value = rkm->payload;
    m->value_len = rkm->payload ? rkm->len : 0;
    rd_kafka_timestamp_type_t tt;
    m->timestamp_ms = rd_kafka_message_timestamp(rkm, &tt);
    m->evb__rkm = rkm;
    *out = m;
    return EVB_ERR_OK;
}

bool evb_kafka_msg_header(const evb_kafka_msg_t *m, const char *name,
                          const void **value, size_t *len) {
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m->evb__rkm, &h) || !h)
        return false;
    return rd_kafka_header_get_last(h, name, value, len) ==
           RD_KAFKA_RESP_ERR_NO_ERROR;
}

void evb_kafka_msg_free(evb_kafka_msg_t *m) {
    if (!m)
        return;
    rd_kafka_message_destroy(m->evb__rkm);
    free(m);
}

evb_err_t evb_kafka_consumer_commit(evb_kafka_consumer_t *c,
                                    const evb_kafka_msg_t *m, char *errstr,
                                    size_t errstr_size) {
    rd_kafka_resp_err_t e = rd_kafka_commit_message(c->rk, m->evb__rkm, 0);
    if (e)
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "Kafka commit of %s [%d] offset %lld: %s", m->topic,
                           (int)m->partition, (long long)m->offset,
                           rd_kafka_err2str(e));
    return EVB_ERR_OK;
}

evb_err_t evb_kafka_consumer_committed(evb_kafka_consumer_t *c,
                                       const char *topic, int32_t partition,
                                       int timeout_ms, int64_t *offset,
                                       char *errstr, size_t errstr_size) {
    *offset = -1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    rd_kafka_resp_err_t e = rd_kafka_committed(c->rk, l, timeout_ms);
    if (!e)
        e = l->elems[0].err;
    if (!e && l->elems[0].offset >= 0)
        *offset = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "Kafka committed offsets: %s", rd_kafka_err2str(e));
    return EVB_ERR_OK;
}

evb_err_t evb_kafka_consumer_watermarks(evb_kafka_consumer_t *c,
                                        const char *topic, int32_t partition,
                                        int timeout_ms, int64_t *low,
                                        int64_t *high, char *errstr,
                                        size_t errstr_size) {
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
        c->rk, topic, partition, low, high, timeout_ms);
    if (e)
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "Kafka watermarks of %s [%d]: %s", topic,
                           (int)partition, rd_kafka_err2str(e));
    return EVB_ERR_OK;
}

void evb_kafka_consumer_free(evb_kafka_consumer_t *c) {
    if (!c)
        return;
    rd_kafka_consumer_close(c->rk);
    rd_kafka_destroy(c->rk);
    evb__kclient_free(&c->cl);
    free(c);
}
