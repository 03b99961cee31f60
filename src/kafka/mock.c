/*
 * mock.c: librdkafka's mock cluster (rdkafka_mock.h), for tests and the
 * demo only.
 *
 * The mock brokers live in a thread of a librdkafka handle made for the
 * purpose; they speak enough of the Kafka protocol for producers
 * (idempotent included), consumer groups with committed offsets and topic
 * auto-creation, on 127.0.0.1 ports of their own. Everything is in
 * memory and nothing is authenticated: a test cluster, never a
 * production broker. librdkafka documents the API as experimental; this
 * file is the only place that uses it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

#include <librdkafka/rdkafka_mock.h> /* after rdkafka.h */

struct evb_kafka_mock {
    evb__kclient_t cl; /* first: librdkafka's opaque */
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    int brokers;
};

evb_err_t evb_kafka_mock_new(int brokers, evb_kafka_mock_t **out, char *errstr,
                             size_t errstr_size) {
    *out = NULL;
    if (brokers < 1 || brokers > 64)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "a mock cluster has 1 to 64 brokers, not %d",
                           brokers);
    evb_kafka_mock_t *m = calloc(1, sizeof *m);
    if (!m || evb__kclient_init(&m->cl, "mock cluster", NULL)) {
        free(m);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    m->brokers = brokers;
    rd_kafka_conf_t *rc = NULL;
    /* the handle only hosts the brokers and never connects anywhere:
     * keep its notice about having no bootstrap.servers out of the log */
    static const char *const defaults[] = {"log_level", "4", NULL};
    evb_err_t err =
        evb__kconf_build(NULL, defaults, &m->cl, &rc, errstr, errstr_size);
    char why[512];
    if (!err) {
        m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, rc, why, sizeof why);
        if (!m->rk) {
            rd_kafka_conf_destroy(rc);
            err = evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                              "mock cluster: %s", why);
        }
    }
    if (!err && !(m->mc = rd_kafka_mock_cluster_new(m->rk, brokers)))
        err = evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                          "mock cluster: librdkafka could not start it");
    if (err) {
        if (m->rk)
            rd_kafka_destroy(m->rk);
        evb__kclient_free(&m->cl);
        free(m);
        return err;
    }
    *out = m;
    return EVB_ERR_OK;
}

const char *evb_kafka_mock_bootstrap_servers(const evb_kafka_mock_t *m) {
    return rd_kafka_mock_cluster_bootstraps(m->mc);
}

evb_err_t evb_kafka_mock_topic_create(evb_kafka_mock_t *m, const char *topic,
                                      int partitions, char *errstr,
                                      size_t errstr_size) {
    if (!evb_kafka_topic_name_valid(topic, strlen(topic)))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "not a valid Kafka topic name: '%.*s'",
                           (int)strnlen(topic, 300), topic);
    if (partitions < 1 || partitions > 10000)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "topic %s: 1 to 10000 partitions, not %d", topic,
                           partitions);
    int rf = m->brokers < 3 ? m->brokers : 3;
    rd_kafka_resp_err_t e =
        rd_kafka_mock_topic_create(m->mc, topic, partitions, rf);
    if (e)
        return evb_err_set(
            e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS ? EVB_ERR_EXISTS
                                                        : EVB_ERR_INTERNAL,
            errstr, errstr_size, "topic %s: %s", topic, rd_kafka_err2str(e));
    return EVB_ERR_OK;
}

evb_err_t evb_kafka_mock_broker_set_up(evb_kafka_mock_t *m, int broker_id,
                                       bool up, char *errstr,
                                       size_t errstr_size) {
    if (broker_id < 1 || broker_id > m->brokers)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "no broker %d (1..%d)", broker_id, m->brokers);
    rd_kafka_resp_err_t e =
        up ? rd_kafka_mock_broker_set_up(m->mc, broker_id)
           : rd_kafka_mock_broker_set_down(m->mc, broker_id);
    if (e)
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "broker %d: %s", broker_id, rd_kafka_err2str(e));
    return EVB_ERR_OK;
}

void evb_kafka_mock_topic_set_missing(evb_kafka_mock_t *m, const char *topic,
                                      bool missing) {
    rd_kafka_mock_topic_set_error(m->mc, topic,
                                  missing
                                      ? RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                                      : RD_KAFKA_RESP_ERR_NO_ERROR);
}

void evb_kafka_mock_free(evb_kafka_mock_t *m) {
    if (!m)
        return;
    rd_kafka_mock_cluster_destroy(m->mc);
    rd_kafka_destroy(m->rk);
    evb__kclient_free(&m->cl);
    free(m);
}
