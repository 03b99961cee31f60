/*
 * hooks.c: the two hooks `evbus serve` gives the pipe service, over the
 * shared modules: Avro decoding through the serde codec (src/serde, with
 * the schema registry behind it) and the Kafka-topic target through
 * src/kafka's named clusters and their shared producers. See pipes.h
 * (evb_pipe_serde_decode, evb_pipe_kafka_produce).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kafka/kafka.h"
#include "../serde/serde.h"
#include "pipes_internal.h"

/* ---- Avro values through the registry --------------------------------------
 */

evb_pipe_decode_result_t
evb_pipe_serde_decode(void *ud, const evb_pipe_record_t *rec, bool is_key,
                      const void *data, size_t len, evb_buf_t *json,
                      evb_pipe_decode_info_t *info, char *errstr,
                      size_t errstr_size) {
    (void)rec;
    (void)is_key;
    evb_serde_t *s = ud;
    const unsigned char *p = data;
    if (!s || !data || len == 0 || (p[0] != 0x00 && p[0] != 0x03))
        return EVB_PIPE_DECODE_PASS; /* not framed Avro: built-in rules */
    evb_serde_decode_opts_t o = {.mode = EVB_SERDE_MODE_AVRO};
    o.avro.max_output = 6u << 20; /* Pipes' 6 MB payload limit */
    evb_serde_info_t si;
    memset(&si, 0, sizeof si);
    char why[256] = "";
    evb_err_t e =
        evb_serde_decode(s, data, len, &o, json, &si, why, sizeof why);
    if (e == EVB_ERR_IO || e == EVB_ERR_NOMEM) {
        evb_err_set(e, errstr, errstr_size, "decoding an Avro %s: %s",
                    is_key ? "key" : "value", why);
        return EVB_PIPE_DECODE_RETRY;
    }
    if (e) {
        evb_err_set(e, errstr, errstr_size, "%s", why);
        return EVB_PIPE_DECODE_BINARY;
    }
    snprintf(info->data_format, sizeof info->data_format, "AVRO");
    if (si.wire == EVB_WIRE_GLUE) {
        const uint8_t *u = si.glue_uuid;
        snprintf(info->schema_id, sizeof info->schema_id,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                 "%02x%02x%02x%02x%02x%02x",
                 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
                 u[10], u[11], u[12], u[13], u[14], u[15]);
    } else {
        snprintf(info->schema_id, sizeof info->schema_id, "%d",
                 (int)si.schema_id);
    }
    return EVB_PIPE_DECODE_JSON;
}

/* ---- Kafka topics as targets ----------------------------------------------
 */

typedef struct wait_all {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t pending;
    size_t failed;
    char first_error[240];
} wait_all_t;

static void on_report(void *ud, const evb_kafka_report_t *r) {
    wait_all_t *w = ud;
    pthread_mutex_lock(&w->mu);
    if (!r->ok && !w->failed++)
        snprintf(w->first_error, sizeof w->first_error, "%s: %.200s",
                 r->code ? r->code : "KAFKA_ERROR", r->message);
    if (--w->pending == 0)
        pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

evb_err_t evb_pipe_kafka_produce(void *ud, const char *target_arn,
                                 const evb_pipe_kafka_item_t *items, size_t n,
                                 char *errstr, size_t errstr_size) {
    evb_kafka_clusters_t *cl = ud;
    evb_kafka_topic_arn_t arn;
    if (!evb_kafka_topic_arn_parse(target_arn, &arn))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "not a Kafka topic ARN: %.200s", target_arn);
    evb_kafka_producer_t *p;
    char why[300];
    evb_err_t e =
        evb_kafka_clusters_producer(cl, arn.cluster, &p, why, sizeof why);
    if (e == EVB_ERR_NOT_FOUND)
        return evb_err_set(e, errstr, errstr_size,
                           "Kafka cluster %s is not configured (evbus serve "
                           "--kafka-config, --kafka-cluster, "
                           "--embedded-kafka)",
                           arn.cluster);
    if (e)
        return evb_err_set(e, errstr, errstr_size, "Kafka cluster %s: %s",
                           arn.cluster, why);
    wait_all_t w;
    memset(&w, 0, sizeof w);
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    evb_err_t err = EVB_ERR_OK;
    for (size_t i = 0; i < n; i++) {
        evb_kafka_out_msg_t m = {arn.topic,        -1,           NULL, 0,
                                 items[i].payload, items[i].len, NULL, 0};
        pthread_mutex_lock(&w.mu);
        w.pending++;
        pthread_mutex_unlock(&w.mu);
        evb_kafka_report_t r;
        memset(&r, 0, sizeof r);
        if (evb_kafka_produce(p, &m, on_report, &w, &r)) {
            pthread_mutex_lock(&w.mu);
            w.pending--;
            pthread_mutex_unlock(&w.mu);
            err = evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                              "producing to %s/%s: %s: %.200s", arn.cluster,
                              arn.topic, r.code ? r.code : "KAFKA_ERROR",
                              r.message);
            break;
        }
    }
    /* every accepted message gets exactly one report, within the
     * producer's message.timeout.ms (never infinite) */
    pthread_mutex_lock(&w.mu);
    while (w.pending)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    if (!err && w.failed)
        err = evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                          "producing to %s/%s: %zu of %zu messages failed: %s",
                          arn.cluster, arn.topic, w.failed, n, w.first_error);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    return err;
}
