/* kafka_mock.c: see kafka_mock.h. */
#include "kafka_mock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

struct evb_test_kafka {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    char bootstrap[256];
};

evb_test_kafka_t *evb_test_kafka_start(void) {
    evb_test_kafka_t *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "test.mock.num.brokers", "1", err, sizeof err) ||
        rd_kafka_conf_set(c, "linger.ms", "1", err, sizeof err) ||
        rd_kafka_conf_set(c, "log_level", "2", err, sizeof err)) {
        rd_kafka_conf_destroy(c);
        free(k);
        return NULL;
    }
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!k->rk) {
        rd_kafka_conf_destroy(c);
        free(k);
        return NULL;
    }
    k->mc = rd_kafka_handle_mock_cluster(k->rk);
    if (!k->mc) {
        rd_kafka_destroy(k->rk);
        free(k);
        return NULL;
    }
    snprintf(k->bootstrap, sizeof k->bootstrap, "%s",
             rd_kafka_mock_cluster_bootstraps(k->mc));
    return k;
}

void evb_test_kafka_stop(evb_test_kafka_t *k) {
    if (!k)
        return;
    rd_kafka_flush(k->rk, 5000);
    rd_kafka_destroy(k->rk);
    free(k);
}

const char *evb_test_kafka_bootstrap(const evb_test_kafka_t *k) {
    return k->bootstrap;
}

int evb_test_kafka_topic(evb_test_kafka_t *k, const char *topic,
                         int partitions) {
    return rd_kafka_mock_topic_create(k->mc, topic, partitions, 1) ? -1 : 0;
}

int evb_test_kafka_produce(evb_test_kafka_t *k, const char *topic,
                           int partition, const void *key, size_t klen,
                           const void *value, size_t vlen, const char *hname,
                           const char *hval) {
    for (int tries = 0; tries < 1000; tries++) {
        rd_kafka_resp_err_t e;
        if (hname)
            e = rd_kafka_producev(
                k->rk, RD_KAFKA_V_TOPIC(topic),
                RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA
                                                   : partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)value, vlen),
                RD_KAFKA_V_HEADER(hname, hval, hval ? (ssize_t)strlen(hval) : 0),
                RD_KAFKA_V_END);
        else
            e = rd_kafka_producev(
                k->rk, RD_KAFKA_V_TOPIC(topic),
                RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA
                                                   : partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)value, vlen),
                RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return -1;
        rd_kafka_poll(k->rk, 10);
    }
    return -1;
}

int evb_test_kafka_flush(evb_test_kafka_t *k) {
    return rd_kafka_flush(k->rk, 10000) ? -1 : 0;
}
