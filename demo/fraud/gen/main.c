/*
 * fraud-gen: the demo's card-transaction producer.
 *
 * Registers transaction.avsc with the schema registry (subject
 * TOPIC-value, Confluent's TopicNameStrategy), then produces transactions
 * from the generator of fraud.h to Kafka in the Confluent wire format,
 * keyed by card (so one card's charges stay in order on one partition):
 * first the seasoned cards' history, as fast as Kafka takes it, then live
 * traffic paced on the transactions' own timestamps, for --duration
 * seconds, then only what the fraud scenarios already started still owe
 * (at most about a minute more), so every injected instance is complete. Every
 * transaction's ground truth goes to --truth as a JSON line; --stats is
 * rewritten every second with the counters.
 */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/app.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: fraud-gen --registry URL --truth FILE\n"
            "                 [--bootstrap SERVERS] [--kafka-config K=V]...\n"
            "                 [--topic transactions] [--schema FILE]\n"
            "                 [--rate 20] [--duration 60] [--cards 20000]\n"
            "                 [--seasoned 2000] [--history 12] [--seed 1]\n"
            "                 [--fraud-share 0.03] [--stats FILE]\n");
}

static atomic_uint_fast64_t delivered, failed;

static void on_report(void *ud, const evb_kafka_report_t *r) {
    (void)ud;
    if (r->ok)
        atomic_fetch_add(&delivered, 1);
    else {
        if (atomic_fetch_add(&failed, 1) < 5)
            fprintf(stderr, "fraud-gen: not delivered: %s %s\n", r->code,
                    r->message);
    }
}

typedef struct counts {
    uint64_t produced, warmup, live;
    uint32_t scenarios[FRAUD_SCENARIO__COUNT];
} counts_t;

static void write_stats(const char *path, const counts_t *c, bool done) {
    if (!path)
        return;
    char text[1024];
    int n =
        snprintf(text, sizeof text,
                 "{\"produced\":%llu,\"delivered\":%llu,\"failed\":%llu,"
                 "\"warmup\":%llu,\"live\":%llu,\"scenarios\":{",
                 (unsigned long long)c->produced,
                 (unsigned long long)atomic_load(&delivered),
                 (unsigned long long)atomic_load(&failed),
                 (unsigned long long)c->warmup, (unsigned long long)c->live);
    for (int s = 1; s < FRAUD_SCENARIO__COUNT && n < (int)sizeof text; s++)
        n += snprintf(
            text + n, sizeof text - (size_t)n, "%s\"%s\":%u", s > 1 ? "," : "",
            fraud_scenario_name((fraud_scenario_t)s), c->scenarios[s]);
    if (n < (int)sizeof text)
        snprintf(text + n, sizeof text - (size_t)n, "},\"done\":%s}\n",
                 done ? "true" : "false");
    if (!fraud_app_write_file(path, text))
        fprintf(stderr, "fraud-gen: cannot write %s\n", path);
}

int main(int argc, char **argv) {
    const char *registry = NULL, *truth_path = NULL, *stats_path = NULL;
    const char *topic = "transactions";
    const char *schema_path = "demo/fraud/schemas/transaction.avsc";
    double duration = 60;
    fraud_gen_config_t gcfg = {0};
    char errstr[512];
    evb_kafka_conf_t *conf = evb_kafka_conf_new();
    if (!conf)
        return 1;

    enum {
        O_REG = 1,
        O_TRUTH,
        O_STATS,
        O_BOOT,
        O_KC,
        O_TOPIC,
        O_SCHEMA,
        O_RATE,
        O_DUR,
        O_CARDS,
        O_SEASONED,
        O_HIST,
        O_SEED,
        O_SHARE,
        O_HELP
    };
    static const struct option opts[] = {
        {"registry", required_argument, NULL, O_REG},
        {"truth", required_argument, NULL, O_TRUTH},
        {"stats", required_argument, NULL, O_STATS},
        {"bootstrap", required_argument, NULL, O_BOOT},
        {"kafka-config", required_argument, NULL, O_KC},
        {"topic", required_argument, NULL, O_TOPIC},
        {"schema", required_argument, NULL, O_SCHEMA},
        {"rate", required_argument, NULL, O_RATE},
        {"duration", required_argument, NULL, O_DUR},
        {"cards", required_argument, NULL, O_CARDS},
        {"seasoned", required_argument, NULL, O_SEASONED},
        {"history", required_argument, NULL, O_HIST},
        {"seed", required_argument, NULL, O_SEED},
        {"fraud-share", required_argument, NULL, O_SHARE},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        evb_err_t err = EVB_ERR_OK;
        switch (c) {
        case O_REG: registry = optarg; break;
        case O_TRUTH: truth_path = optarg; break;
        case O_STATS: stats_path = optarg; break;
        case O_BOOT:
            err = evb_kafka_conf_set(conf, "bootstrap.servers", optarg,
                                     "--bootstrap", errstr, sizeof errstr);
            break;
        case O_KC:
            err = evb_kafka_conf_set_pair(conf, optarg, "--kafka-config",
                                          errstr, sizeof errstr);
            break;
        case O_TOPIC: topic = optarg; break;
        case O_SCHEMA: schema_path = optarg; break;
        case O_RATE: gcfg.rate = atof(optarg); break;
        case O_DUR: duration = atof(optarg); break;
        case O_CARDS: gcfg.cards = (unsigned)atoi(optarg); break;
        case O_SEASONED: gcfg.seasoned_cards = (unsigned)atoi(optarg); break;
        case O_HIST: gcfg.history = (unsigned)atoi(optarg); break;
        case O_SEED: gcfg.seed = strtoull(optarg, NULL, 10); break;
        case O_SHARE: gcfg.fraud_share = atof(optarg); break;
        case O_HELP: usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
        if (err) {
            fprintf(stderr, "fraud-gen: %s\n", errstr);
            return 64;
        }
    }
    if (!registry || !truth_path || optind < argc || !(duration >= 0)) {
        usage(stderr);
        return 64;
    }
    fraud_app_signals();

    int rc = 1;
    evb_serde_t *serde = NULL;
    evb_serde_writer_t writer = {0};
    evb_kafka_producer_t *producer = NULL;
    fraud_gen_t *gen = NULL;
    FILE *truth = NULL;
    evb_buf_t json, value;
    evb_buf_init(&json, 0);
    evb_buf_init(&value, 0);

    char subject[300];
    if (fraud_app_writer_open(registry, schema_path, topic, &serde, &writer,
                              subject, sizeof subject, errstr,
                              sizeof errstr) ||
        evb_kafka_producer_new(conf, "fraud-gen", &producer, errstr,
                               sizeof errstr)) {
        fprintf(stderr, "fraud-gen: %s\n", errstr);
        goto out;
    }
    truth = fopen(truth_path, "w");
    if (!truth) {
        fprintf(stderr, "fraud-gen: cannot write %s\n", truth_path);
        goto out;
    }
    int64_t start = fraud_app_now_ms() + 3000;
    gcfg.start_ms = start;
    gen = fraud_gen_new(&gcfg);
    if (!gen)
        goto out;
    fprintf(stderr,
            "fraud-gen: schema id %d (%s); history first, then %.0f s of "
            "live traffic to %s\n",
            (int)writer.id, subject, duration, topic);

    counts_t counts = {0};
    int64_t end = start + (int64_t)(duration * 1000.0);
    int64_t next_stats = 0;
    fraud_txn_t t;
    fraud_label_t l;
    bool draining = false; /* past --duration: finish started scenarios */
    while (!fraud_app_stop) {
        if (draining) {
            if (!fraud_gen_next_pending(gen, &t, &l))
                break;
        } else if (!fraud_gen_next(gen, &t, &l)) {
            goto out;
        }
        if (!l.warmup) {
            if (!draining && t.timestamp_ms > end) {
                draining = true;
                if (l.scenario == FRAUD_SCENARIO_NONE)
                    continue;
            }
            int64_t now;
            while (!fraud_app_stop &&
                   (now = fraud_app_now_ms()) < t.timestamp_ms) {
                if (now >= next_stats) {
                    write_stats(stats_path, &counts, false);
                    next_stats = now + 1000;
                }
                int64_t wait = t.timestamp_ms - now;
                fraud_app_sleep_ms(wait > 200 ? 200 : wait);
            }
            if (fraud_app_stop)
                break;
        }
        json.len = 0;
        value.len = 0;
        if (fraud_app_txn_json(&t, &json) ||
            evb_serde_encode(&writer, NULL, json.data, json.len, &value, errstr,
                             sizeof errstr)) {
            fprintf(stderr, "fraud-gen: encoding: %s\n", errstr);
            goto out;
        }
        evb_kafka_out_msg_t m = {.topic = topic,
                                 .partition = -1,
                                 .key = t.card,
                                 .key_len = strlen(t.card),
                                 .value = value.data,
                                 .value_len = value.len};
        evb_kafka_report_t why;
        if (evb_kafka_produce(producer, &m, on_report, NULL, &why)) {
            fprintf(stderr, "fraud-gen: produce: %s %s\n", why.code,
                    why.message);
            goto out;
        }
        counts.produced++;
        if (l.warmup)
            counts.warmup++;
        else
            counts.live++;
        if (l.scenario != FRAUD_SCENARIO_NONE && l.last)
            counts.scenarios[l.scenario]++;
        fprintf(truth,
                "{\"id\":\"%s\",\"card\":\"%s\",\"ts\":%lld,\"scenario\":"
                "\"%s\",\"instance\":%u,\"last\":%s,\"warmup\":%s}\n",
                t.id, t.card, (long long)t.timestamp_ms,
                fraud_scenario_name(l.scenario), l.instance,
                l.last ? "true" : "false", l.warmup ? "true" : "false");
    }
    if (fflush(truth) != 0) {
        fprintf(stderr, "fraud-gen: cannot write %s\n", truth_path);
        goto out;
    }
    if (evb_kafka_producer_flush(producer, 30000, errstr, sizeof errstr))
        fprintf(stderr, "fraud-gen: %s\n", errstr);
    write_stats(stats_path, &counts, true);
    fprintf(stderr,
            "fraud-gen: %llu transactions (%llu history, %llu live), %llu "
            "delivered, %llu failed\n",
            (unsigned long long)counts.produced,
            (unsigned long long)counts.warmup, (unsigned long long)counts.live,
            (unsigned long long)atomic_load(&delivered),
            (unsigned long long)atomic_load(&failed));
    rc = atomic_load(&failed) ? 1 : 0;
out:
    if (truth)
        fclose(truth);
    fraud_gen_free(gen);
    evb_kafka_producer_free(producer);
    evb_serde_writer_clear(&writer);
    evb_serde_free(serde);
    evb_kafka_conf_free(conf);
    evb_buf_free(&json);
    evb_buf_free(&value);
    return rc;
}
