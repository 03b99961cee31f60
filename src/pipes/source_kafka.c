/*
 * source_kafka.c: the built-in pipe source, a librdkafka consumer in a
 * consumer group (evb_pipe_source_ops_t).
 *
 * Offsets are never committed automatically (enable.auto.commit=false):
 * the runner commits a batch's positions after its target accepted it.
 * The rebalance callback pins the starting position of partitions that
 * have no committed offset: it asks for the group's committed offsets,
 * takes evbus's own record of the pipe's progress (cfg->resume) or the
 * partition's low or high watermark (TRIM_HORIZON, LATEST) for the others,
 * assigns, and commits those pins at once. So a pipe created with LATEST
 * reads from the moment it first joined, even if it is stopped and started
 * again before its first batch.
 *
 * max.poll.interval.ms is a day: a batch retried with backoff for a long
 * time must not make the consumer leave the group.
 *
 * This file is the one to replace with the shared Kafka wrapper; nothing
 * else in the module knows about librdkafka.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "pipes_internal.h"

typedef struct ksrc {
    rd_kafka_t *rk;
    bool assigned; /* the group gave us our partitions once */
    rd_kafka_message_t *held; /* the record handed out last */
    bool from_latest;
    evb_pipe_position_t *resume;
    size_t nresume;
    evb_pipe_header_t *hdrs;
    size_t cap_hdrs;
} ksrc_t;

static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf) {
    (void)rk;
    if (level <= 3) /* errors */
        fprintf(stderr, "evbus: pipe: kafka: %s: %s\n", fac, buf);
}

/* Where a partition without a committed offset starts. */
static int64_t start_offset(rd_kafka_t *rk, ksrc_t *s, const char *topic,
                            int32_t partition) {
    for (size_t i = 0; i < s->nresume; i++)
        if (s->resume[i].partition == partition &&
            strcmp(s->resume[i].topic, topic) == 0)
            return s->resume[i].next_offset;
    int64_t lo = 0, hi = 0;
    if (rd_kafka_query_watermark_offsets(rk, topic, partition, &lo, &hi,
                                         5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return s->from_latest ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
    return s->from_latest ? hi : lo;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
    ksrc_t *s = opaque;
    if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, NULL);
        return;
    }
    rd_kafka_topic_partition_list_t *pins =
        rd_kafka_topic_partition_list_new(parts->cnt);
    if (rd_kafka_committed(rk, parts, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* leave the offsets to auto.offset.reset: they stay INVALID */
        for (int i = 0; i < parts->cnt; i++)
            parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
    } else {
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *p = &parts->elems[i];
            if (p->offset >= 0)
                continue;
            p->offset = start_offset(rk, s, p->topic, p->partition);
            if (p->offset >= 0 && pins)
                rd_kafka_topic_partition_list_add(pins, p->topic,
                                                  p->partition)
                    ->offset = p->offset;
        }
    }
    rd_kafka_assign(rk, parts);
    if (pins && pins->cnt)
        rd_kafka_commit(rk, pins, 0);
    if (pins)
        rd_kafka_topic_partition_list_destroy(pins);
    s->assigned = true; /* the rebalance callback runs inside poll */
}

static bool set(rd_kafka_conf_t *c, const char *k, const char *v,
                char *errstr, size_t errstr_size) {
    char why[512];
    if (rd_kafka_conf_set(c, k, v, why, sizeof why) != RD_KAFKA_CONF_OK) {
        evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                    "Kafka property %s: %s", k, why);
        return false;
    }
    return true;
}

static void ksrc_free(ksrc_t *s) {
    for (size_t i = 0; i < s->nresume; i++)
        free((char *)s->resume[i].topic);
    free(s->resume);
    free(s->hdrs);
    free(s);
}

static evb_err_t k_open(const evb_pipe_source_config_t *cfg, void **out,
                        char *errstr, size_t errstr_size) {
    *out = NULL;
    ksrc_t *s = calloc(1, sizeof *s);
    if (!s)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    s->from_latest = cfg->from_latest;
    if (cfg->nresume) {
        s->resume = calloc(cfg->nresume, sizeof *s->resume);
        if (!s->resume) {
            ksrc_free(s);
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        }
        for (size_t i = 0; i < cfg->nresume; i++) {
            s->resume[i] = cfg->resume[i];
            s->resume[i].topic = strdup(cfg->resume[i].topic);
            s->nresume++;
            if (!s->resume[i].topic) {
                ksrc_free(s);
                return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                                   "out of memory");
            }
        }
    }
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    bool ok = c && set(c, "bootstrap.servers", cfg->bootstrap_servers, errstr,
                       errstr_size) &&
              set(c, "group.id", cfg->group_id, errstr, errstr_size) &&
              set(c, "client.id",
                  cfg->client_id ? cfg->client_id : "evbus-pipe", errstr,
                  errstr_size) &&
              set(c, "enable.auto.commit", "false", errstr, errstr_size) &&
              set(c, "enable.auto.offset.store", "false", errstr,
                  errstr_size) &&
              set(c, "auto.offset.reset",
                  cfg->from_latest ? "latest" : "earliest", errstr,
                  errstr_size) &&
              set(c, "max.poll.interval.ms", "86400000", errstr,
                  errstr_size) &&
              set(c, "log.connection.close", "false", errstr, errstr_size);
    for (size_t i = 0; ok && i + 1 < 2 * cfg->nprops; i += 2)
        ok = set(c, cfg->props[i], cfg->props[i + 1], errstr, errstr_size);
    if (!ok) {
        if (c)
            rd_kafka_conf_destroy(c);
        else
            evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        ksrc_free(s);
        return EVB_ERR_INVALID_ARG;
    }
    rd_kafka_conf_set_log_cb(c, log_cb);
    rd_kafka_conf_set_rebalance_cb(c, rebalance_cb);
    rd_kafka_conf_set_opaque(c, s);
    char why[512];
    s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, why, sizeof why);
    if (!s->rk) {
        rd_kafka_conf_destroy(c);
        ksrc_free(s);
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Kafka consumer: %s", why);
    }
    rd_kafka_poll_set_consumer(s->rk);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__FAIL;
    if (t) {
        rd_kafka_topic_partition_list_add(t, cfg->topic,
                                          RD_KAFKA_PARTITION_UA);
        e = rd_kafka_subscribe(s->rk, t);
        rd_kafka_topic_partition_list_destroy(t);
    }
    if (e) {
        rd_kafka_destroy(s->rk);
        ksrc_free(s);
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "subscribing to %s: %s", cfg->topic,
                           rd_kafka_err2str(e));
    }
    *out = s;
    return EVB_ERR_OK;
}

static int k_poll(void *src, int timeout_ms, evb_pipe_record_t *rec,
                  char *errstr, size_t errstr_size) {
    ksrc_t *s = src;
    if (s->held) {
        rd_kafka_message_destroy(s->held);
        s->held = NULL;
    }
    rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, timeout_ms);
    if (!m)
        return 0;
    if (m->err) {
        int r = 0;
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            evb_err_set(EVB_ERR_IO, errstr, errstr_size, "%s",
                        rd_kafka_message_errstr(m));
            r = -1;
        }
        rd_kafka_message_destroy(m);
        return r;
    }
    s->held = m;
    memset(rec, 0, sizeof *rec);
    rec->topic = rd_kafka_topic_name(m->rkt);
    rec->partition = m->partition;
    rec->offset = m->offset;
    rd_kafka_timestamp_type_t tt;
    rec->timestamp_ms = rd_kafka_message_timestamp(m, &tt);
    rec->ts_type = tt == RD_KAFKA_TIMESTAMP_CREATE_TIME ? EVB_PIPE_TS_CREATE
                   : tt == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME
                       ? EVB_PIPE_TS_LOG_APPEND
                       : EVB_PIPE_TS_NONE;
    rec->key = m->key;
    rec->key_len = m->key_len;
    rec->value = m->payload;
    rec->value_len = m->len;
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h) {
        size_t n = rd_kafka_header_cnt(h);
        if (n > s->cap_hdrs) {
            evb_pipe_header_t *nh = realloc(s->hdrs, n * sizeof *nh);
            if (!nh) {
                evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                            "out of memory");
                return -1;
            }
            s->hdrs = nh;
            s->cap_hdrs = n;
        }
        for (size_t i = 0; i < n; i++) {
            const char *name;
            const void *val;
            size_t size;
            if (rd_kafka_header_get_all(h, i, &name, &val, &size))
                break;
            s->hdrs[i] = (evb_pipe_header_t){name, val, size};
            rec->nheaders = i + 1;
        }
        rec->headers = s->hdrs;
    }
    return 1;
}

static evb_err_t k_commit(void *src, const evb_pipe_position_t *pos, size_t n,
                          bool sync, char *errstr, size_t errstr_size) {
    ksrc_t *s = src;
    if (n == 0)
        return EVB_ERR_OK;
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)n);
    if (!l)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, pos[i].topic, pos[i].partition)
            ->offset = pos[i].next_offset;
    rd_kafka_resp_err_t e = rd_kafka_commit(s->rk, l, sync ? 0 : 1);
    rd_kafka_topic_partition_list_destroy(l);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "committing offsets: %s", rd_kafka_err2str(e));
    return EVB_ERR_OK;
}

static void k_close(void *src) {
    ksrc_t *s = src;
    if (!s)
        return;
    if (s->held)
        rd_kafka_message_destroy(s->held);
    rd_kafka_consumer_close(s->rk);
    rd_kafka_destroy(s->rk);
    ksrc_free(s);
}

static bool k_ready(void *src) { return ((ksrc_t *)src)->assigned; }

/* librdkafka's cached high watermark, updated with every fetch response */
static bool k_end_offset(void *src, const char *topic, int32_t partition,
                         int64_t *end) {
    ksrc_t *s = src;
    int64_t lo = -1, hi = -1;
    if (rd_kafka_get_watermark_offsets(s->rk, topic, partition, &lo, &hi) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        hi < 0)
        return false;
    *end = hi;
    return true;
}

const evb_pipe_source_ops_t evb_pipe_kafka_source = {
    .open = k_open,
    .poll = k_poll,
    .commit = k_commit,
    .close = k_close,
    .ready = k_ready,
    .end_offset = k_end_offset,
};
