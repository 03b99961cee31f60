/*
 * fraud-detect: the demo's fraud analytics.
 *
 * A consumer group on the transactions topic: each value is decoded
 * through the schema registry (any Confluent- or Glue-framed Avro the
 * registry knows, or JSON), fed to the per-card detector of fraud.h, and
 * every finding becomes one fraud event (notification.avsc, registered as
 * OUTPUT-value) produced to the notifications topic, keyed by card.
 *
 * Offsets are committed only after the fraud events a batch caused were
 * acknowledged by Kafka (the producer is flushed first), so a crash can
 * repeat findings but never lose one. Detector state lives in memory: a
 * restart begins with empty per-card history.
 */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/app.h"

#define MAX_PARTITIONS 256
#define COMMIT_EVERY_MS 500
#define COMMIT_EVERY_MSGS 5000

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: fraud-detect --registry URL\n"
        "                    [--bootstrap SERVERS] [--kafka-config K=V]...\n"
        "                    [--group fraud-analytics] [--input transactions]\n"
        "                    [--output notifications] [--schema FILE]\n"
        "                    [--threshold 195.00] [--stats FILE] "
        "[--findings FILE]\n");
}

static atomic_uint_fast64_t delivered, failed;

static void on_report(void *ud, const evb_kafka_report_t *r) {
    (void)ud;
    if (r->ok)
        atomic_fetch_add(&delivered, 1);
    else if (atomic_fetch_add(&failed, 1) < 5)
        fprintf(stderr, "fraud-detect: fraud event not delivered: %s %s\n",
                r->code, r->message);
}

typedef struct counts {
    uint64_t consumed, invalid, emitted;
    uint64_t by_rule[FRAUD_RULE__COUNT];
} counts_t;

static void write_stats(const char *path, const counts_t *c) {
    if (!path)
        return;
    char text[1024];
    int n =
        snprintf(text, sizeof text,
                 "{\"consumed\":%llu,\"invalid\":%llu,\"emitted\":%llu,"
                 "\"delivered\":%llu,\"failed\":%llu,\"findings\":{",
                 (unsigned long long)c->consumed,
                 (unsigned long long)c->invalid, (unsigned long long)c->emitted,
                 (unsigned long long)atomic_load(&delivered),
                 (unsigned long long)atomic_load(&failed));
    for (int r = 0; r < FRAUD_RULE__COUNT && n < (int)sizeof text; r++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s\"%s\":%llu",
                      r ? "," : "", fraud_rule_id((fraud_rule_t)r),
                      (unsigned long long)c->by_rule[r]);
    if (n < (int)sizeof text)
        snprintf(text + n, sizeof text - (size_t)n, "}}\n");
    if (!fraud_app_write_file(path, text))
        fprintf(stderr, "fraud-detect: cannot write %s\n", path);
}

/* Flush the fraud events, then commit the last message held per
 * partition and free them. */
static bool commit_held(evb_kafka_consumer_t *cons, evb_kafka_producer_t *prod,
                        evb_kafka_msg_t **held) {
    char errstr[512];
    if (evb_kafka_producer_flush(prod, 30000, errstr, sizeof errstr)) {
        fprintf(stderr, "fraud-detect: %s; not committing\n", errstr);
        return false;
    }
    bool ok = true;
    for (int p = 0; p < MAX_PARTITIONS; p++) {
        if (!held[p])
            continue;
        if (evb_kafka_consumer_commit(cons, held[p], errstr, sizeof errstr)) {
            fprintf(stderr, "fraud-detect: commit: %s\n", errstr);
            ok = false;
        }
        evb_kafka_msg_free(held[p]);
        held[p] = NULL;
    }
    return ok;
}

int main(int argc, char **argv) {
    const char *registry = NULL, *stats_path = NULL, *findings_path = NULL;
    const char *group = "fraud-analytics", *input = "transactions",
               *output = "notifications";
    const char *schema_path = "demo/fraud/schemas/notification.avsc";
    fraud_detect_config_t dcfg = fraud_detect_config_default();
    char errstr[512];
    evb_kafka_conf_t *conf = evb_kafka_conf_new();
    if (!conf)
        return 1;

    enum {
        O_REG = 1,
        O_BOOT,
        O_KC,
        O_GROUP,
        O_IN,
        O_OUT,
        O_SCHEMA,
        O_THR,
        O_STATS,
        O_FINDINGS,
        O_HELP
    };
    static const struct option opts[] = {
        {"registry", required_argument, NULL, O_REG},
        {"bootstrap", required_argument, NULL, O_BOOT},
        {"kafka-config", required_argument, NULL, O_KC},
        {"group", required_argument, NULL, O_GROUP},
        {"input", required_argument, NULL, O_IN},
        {"output", required_argument, NULL, O_OUT},
        {"schema", required_argument, NULL, O_SCHEMA},
        {"threshold", required_argument, NULL, O_THR},
        {"stats", required_argument, NULL, O_STATS},
        {"findings", required_argument, NULL, O_FINDINGS},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        evb_err_t err = EVB_ERR_OK;
        switch (c) {
        case O_REG: registry = optarg; break;
        case O_BOOT:
            err = evb_kafka_conf_set(conf, "bootstrap.servers", optarg,
                                     "--bootstrap", errstr, sizeof errstr);
            break;
        case O_KC:
            err = evb_kafka_conf_set_pair(conf, optarg, "--kafka-config",
                                          errstr, sizeof errstr);
            break;
        case O_GROUP: group = optarg; break;
        case O_IN: input = optarg; break;
        case O_OUT: output = optarg; break;
        case O_SCHEMA: schema_path = optarg; break;
        case O_THR: dcfg.threshold = atof(optarg); break;
        case O_STATS: stats_path = optarg; break;
        case O_FINDINGS: findings_path = optarg; break;
        case O_HELP: usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
        if (err) {
            fprintf(stderr, "fraud-detect: %s\n", errstr);
            return 64;
        }
    }
    if (!registry || optind < argc) {
        usage(stderr);
        return 64;
    }
    fraud_app_signals();

    int rc = 1;
    evb_serde_t *serde = NULL;
    evb_serde_writer_t writer = {0};
    evb_kafka_producer_t *producer = NULL;
    evb_kafka_consumer_t *consumer = NULL;
    fraud_detector_t *det = NULL;
    FILE *findings = NULL;
    evb_kafka_msg_t *held[MAX_PARTITIONS] = {0};
    evb_buf_t json, event, value;
    evb_buf_init(&json, 0);
    evb_buf_init(&event, 0);
    evb_buf_init(&value, 0);

    char subject[300];
    const char *topics[] = {input};
    if (fraud_app_writer_open(registry, schema_path, output, &serde, &writer,
                              subject, sizeof subject, errstr,
                              sizeof errstr) ||
        evb_kafka_producer_new(conf, "fraud-detect", &producer, errstr,
                               sizeof errstr) ||
        evb_kafka_consumer_new(conf, group, topics, 1, "fraud-detect",
                               &consumer, errstr, sizeof errstr)) {
        fprintf(stderr, "fraud-detect: %s\n", errstr);
        goto out;
    }
    if (findings_path && !(findings = fopen(findings_path, "a"))) {
        fprintf(stderr, "fraud-detect: cannot write %s\n", findings_path);
        goto out;
    }
    det = fraud_detector_new(&dcfg);
    if (!det)
        goto out;
    fprintf(stderr,
            "fraud-detect: group %s reading %s, fraud events to %s (schema "
            "id %d)\n",
            group, input, output, (int)writer.id);

    counts_t counts = {0};
    int64_t next_commit = fraud_app_now_ms() + COMMIT_EVERY_MS;
    int64_t next_stats = 0;
    uint64_t since_commit = 0;
    while (!fraud_app_stop) {
        evb_kafka_msg_t *m = NULL;
        evb_err_t err =
            evb_kafka_consumer_poll(consumer, 100, &m, errstr, sizeof errstr);
        if (err == EVB_ERR_INTERNAL) {
            fprintf(stderr, "fraud-detect: %s\n", errstr);
            goto out;
        }
        if (err) /* transient (topic not there yet, broker away) */
            fraud_app_sleep_ms(100);
        if (m) {
            counts.consumed++;
            json.len = 0;
            fraud_txn_t t;
            evb_serde_info_t info;
            if (evb_serde_decode(serde, m->value, m->value_len, NULL, &json,
                                 &info, errstr, sizeof errstr) ||
                !fraud_app_txn_parse(json.data, json.len, &t)) {
                if (counts.invalid++ < 5)
                    fprintf(stderr, "fraud-detect: skipping %s/%d@%lld: %s\n",
                            m->topic, (int)m->partition, (long long)m->offset,
                            json.len ? "not a transaction" : errstr);
            } else {
                fraud_finding_t f[FRAUD_RULE__COUNT];
                int n = fraud_detector_observe(det, &t, f, FRAUD_RULE__COUNT);
                if (n < 0) {
                    fprintf(stderr, "fraud-detect: out of memory\n");
                    evb_kafka_msg_free(m);
                    goto out;
                }
                for (int i = 0; i < n; i++) {
                    event.len = 0;
                    value.len = 0;
                    if (fraud_app_notification_json(&t, &f[i], &event) ||
                        evb_serde_encode(&writer, NULL, event.data, event.len,
                                         &value, errstr, sizeof errstr)) {
                        fprintf(stderr, "fraud-detect: encoding: %s\n", errstr);
                        evb_kafka_msg_free(m);
                        goto out;
                    }
                    evb_kafka_out_msg_t om = {.topic = output,
                                              .partition = -1,
                                              .key = t.card,
                                              .key_len = strlen(t.card),
                                              .value = value.data,
                                              .value_len = value.len};
                    evb_kafka_report_t why;
                    if (evb_kafka_produce(producer, &om, on_report, NULL,
                                          &why)) {
                        fprintf(stderr, "fraud-detect: produce: %s %s\n",
                                why.code, why.message);
                        evb_kafka_msg_free(m);
                        goto out;
                    }
                    counts.emitted++;
                    counts.by_rule[f[i].rule]++;
                    if (findings)
                        fprintf(findings, "%s\n", event.data);
                }
            }
            if (m->partition >= 0 && m->partition < MAX_PARTITIONS) {
                evb_kafka_msg_free(held[m->partition]);
                held[m->partition] = m;
            } else {
                evb_kafka_msg_free(m);
            }
            since_commit++;
        }
        int64_t now = fraud_app_now_ms();
        if (now >= next_commit || since_commit >= COMMIT_EVERY_MSGS) {
            if (findings)
                fflush(findings);
            commit_held(consumer, producer, held);
            next_commit = now + COMMIT_EVERY_MS;
            since_commit = 0;
        }
        if (now >= next_stats) {
            write_stats(stats_path, &counts);
            next_stats = now + 1000;
        }
    }
    rc = commit_held(consumer, producer, held) ? 0 : 1;
    write_stats(stats_path, &counts);
    fprintf(stderr,
            "fraud-detect: %llu transactions, %llu fraud events (%llu "
            "delivered), %llu invalid\n",
            (unsigned long long)counts.consumed,
            (unsigned long long)counts.emitted,
            (unsigned long long)atomic_load(&delivered),
            (unsigned long long)counts.invalid);
out:
    for (int p = 0; p < MAX_PARTITIONS; p++)
        evb_kafka_msg_free(held[p]);
    if (findings)
        fclose(findings);
    evb_kafka_consumer_free(consumer);
    evb_kafka_producer_free(producer);
    fraud_detector_free(det);
    evb_serde_writer_clear(&writer);
    evb_serde_free(serde);
    evb_kafka_conf_free(conf);
    evb_buf_free(&json);
    evb_buf_free(&event);
    evb_buf_free(&value);
    return rc;
}
