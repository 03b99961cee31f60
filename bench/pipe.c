/*
 * pipe.c: EventBridge Pipes throughput, from Kafka to an event bus.
 *
 * An in-process Kafka cluster (librdkafka's mock, one broker) is filled
 * with --records JSON records (about 250 bytes each) over --partitions
 * partitions; then one pipe reads them from the start: JSON decoding,
 * FilterCriteria (about 90% pass), an InputTemplate, and PutEvents into
 * the default bus of a fresh store, where a rule sends every event to a
 * log group (the delivery engine writes it). It prints one JSON line:
 *
 *   {"bench":"pipe","format":"json","target":"bus","records":100000,
 *    "partitions":7,
 *    "batch":10,"passed":180000,"seconds":..,"records_per_s":..,
 *    "delivered_seconds":..,"delivered_per_s":..,"sync":"full"}
 *
 * records_per_s counts records read, filtered, transformed and accepted by
 * the bus (committed to the store) per second, from the first record read
 * to the last batch settled; delivered_per_s counts the events written to
 * the log group by the rule's delivery, over the same start. With
 * --target logs the pipe writes to the log group itself (batches of up to
 * --batch records, 100 by default).
 *
 * The partitions default to one per 15,000 records (at least 4): the mock
 * cluster keeps about 5 MB a partition and drops older records.
 *
 *   build/bench/pipe [--records N] [--partitions P] [--batch B]
 *                    [--target bus|logs] [--no-sync]
 *                    [--format json|avro] [--schema FILE]
 *
 * With --format avro the records are card transactions of
 * demo/fraud/schemas/transaction.avsc (--schema FILE), Confluent-framed
 * (the schema registered in an in-process registry over the bench's
 * store, encoded with src/serde), decoded by the pipe's decode hook
 * (evb_pipe_serde_decode) for the filter (category, about 90% pass) and
 * the template; the line then says "format":"avro" (else "json").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "delivery/delivery.h"
#include "pipes/pipes.h"
#include "registry/registry.h"
#include "serde/serde.h"

/* demo/fraud/schemas/transaction.avsc beside this file's bench/ */
static char *default_schema_path(void) {
    const char *f = __FILE__;
    const char *slash = strrchr(f, '/');
    size_t dir = slash ? (size_t)(slash - f) : 0; /* .../bench */
    const char *rel = slash ? "/../demo/fraud/schemas/transaction.avsc"
                            : "../demo/fraud/schemas/transaction.avsc";
    char *p = malloc(dir + strlen(rel) + 1);
    if (p) {
        memcpy(p, f, dir);
        strcpy(p + dir, rel);
    }
    return p;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 > cap) {
            char *nb = realloc(buf, cap = cap * 2 + 8192);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        if (!r)
            break;
        n += r;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void die(const char *what, const char *err) {
    fprintf(stderr, "pipe bench: %s: %s\n", what, err);
    exit(1);
}

typedef struct cnt_q {
    long long n;
} cnt_q_t;

static evb_err_t count_logs(sqlite3 *db, void *arg, char *errstr,
                            size_t errstr_size) {
    (void)errstr;
    (void)errstr_size;
    cnt_q_t *q = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM log_events", -1, &st,
                           NULL) != SQLITE_OK)
        return EVB_ERR_IO;
    q->n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

static evb_err_t exp_drop(sqlite3 *db, void *arg, char *e, size_t n) {
    (void)e; (void)n;
    sqlite3_exec(db, (const char *)arg, NULL, NULL, NULL);
    return EVB_ERR_OK;
}

int main(int argc, char **argv) {
    long records = 100000;
    int partitions = 0, batch = 0;
    const char *target = "bus";
    const char *format = "json";
    char *schema_path = NULL;
    bool no_sync = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--records") && i + 1 < argc)
            records = atol(argv[++i]);
        else if (!strcmp(argv[i], "--partitions") && i + 1 < argc)
            partitions = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--target") && i + 1 < argc)
            target = argv[++i];
        else if (!strcmp(argv[i], "--no-sync"))
            no_sync = true;
        else if (!strcmp(argv[i], "--format") && i + 1 < argc)
            format = argv[++i];
        else if (!strcmp(argv[i], "--schema") && i + 1 < argc)
            schema_path = strdup(argv[++i]);
        else {
            fprintf(stderr, "usage: pipe [--records N] [--partitions P] "
                            "[--batch B] [--target bus|logs] [--no-sync]\n"
                            "            [--format json|avro] [--schema "
                            "FILE]\n");
            return 64;
        }
    }
    bool avro = strcmp(format, "avro") == 0;
    if (!avro && strcmp(format, "json") != 0) {
        fprintf(stderr, "pipe bench: --format: json or avro\n");
        return 64;
    }
    bool to_bus = strcmp(target, "logs") != 0;
    /* librdkafka's mock keeps about 5 MB a partition (it drops the oldest
     * records past that): at most 15,000 of these records a partition */
    if (!partitions)
        partitions = (int)((records + 14999) / 15000) < 4
                         ? 4
                         : (int)((records + 14999) / 15000);
    if (!batch)
        batch = to_bus ? 10 : 100;

    char err[1024];
    /* evbus: store, bus, delivery, pipes */
    char dir[] = "/tmp/evb-bench-pipe-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp", "failed");
    evb_store_t *store = NULL;
    evb_bus_service_t *bus = NULL;
    evb_delivery_t *dv = NULL;
    evb_pipe_service_t *svc = NULL;
    evb_store_opts_t so = {.dir = dir, .no_sync = no_sync};
    if (evb_store_open(&so, &store, err, sizeof err) ||
        evb_bus_service_open(NULL, store, &bus, err, sizeof err))
        die("store", err);
    if (getenv("EXP_DROP")) {
        evb_store_write(store, exp_drop, (void *)getenv("EXP_DROP"), err, sizeof err);
    }
    evb_delivery_config_t dc = {0};
    if (evb_delivery_new(&dc, store, bus, true, &dv, err, sizeof err))
        die("delivery", err);
    /* Avro: the schema in a registry over the store, and one writer */
    evb_registry_t *registry = NULL;
    evb_serde_t *serde = NULL;
    evb_serde_writer_t writer = {0};
    evb_buf_t enc;
    evb_buf_init(&enc, 0);
    if (avro) {
        if (!schema_path)
            schema_path = default_schema_path();
        size_t slen = 0;
        char *schema = schema_path ? read_file(schema_path, &slen) : NULL;
        if (!schema)
            die("schema", schema_path ? schema_path : "out of memory");
        evb_serde_config_t sc = {0};
        if (evb_registry_open(store, &registry, err, sizeof err))
            die("registry", err);
        sc.registry = registry;
        if (evb_serde_new(&sc, &serde, err, sizeof err) ||
            evb_serde_writer_register(serde, "bench-value", schema, slen, 0,
                                      &writer, NULL, err, sizeof err))
            die("schema", err);
        free(schema);
    }

    /* the cluster, filled before the pipe starts */
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "test.mock.num.brokers", "1", err, sizeof err) ||
        rd_kafka_conf_set(c, "linger.ms", "5", err, sizeof err) ||
        rd_kafka_conf_set(c, "log_level", "2", err, sizeof err))
        die("kafka", err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk)
        die("kafka", err);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(rk);
    rd_kafka_mock_topic_create(mc, "bench", partitions, 1);
    char bootstrap[256];
    snprintf(bootstrap, sizeof bootstrap, "%s",
             rd_kafka_mock_cluster_bootstraps(mc));
    long passing = 0;
    for (long i = 0; i < records; i++) {
        char v[512];
        bool pass = i % 10 != 9;
        passing += pass;
        const char *value = v;
        size_t vlen;
        if (avro) {
            int n = snprintf(
                v, sizeof v,
                "{\"creditCard\":\"4111-1111-1111-%04ld\",\"firstName\":"
                "\"Ann\",\"id\":\"tx-%ld\",\"lastName\":\"Lee\","
                "\"streetAddress\":\"%ld Main St\",\"total\":\"%ld.%02ld\","
                "\"userId\":\"user-%ld\",\"merchant\":\"m-%ld\","
                "\"category\":\"%s\",\"country\":\"FR\",\"latitude\":"
                "48.85,\"longitude\":2.35,\"timestamp\":%ld}",
                i % 10000, i, i % 900, i % 1000, i % 100, i % 5000, i % 300,
                pass ? "grocery" : "refund", 1714564800000L + i);
            evb_buf_reset(&enc);
            if (evb_serde_encode(&writer, NULL, v, (size_t)n, &enc, err,
                                 sizeof err))
                die("encode", err);
            value = enc.data;
            vlen = enc.len;
        } else {
            int n = snprintf(
                v, sizeof v,
                "{\"id\":%ld,\"kind\":\"%s\",\"amount\":%ld.%02ld,\"currency\":"
                "\"EUR\",\"user\":{\"name\":\"user-%ld\",\"country\":\"FR\","
                "\"tier\":\"gold\"},\"merchant\":{\"id\":\"m-%ld\",\"mcc\":"
                "5411},"
                "\"device\":\"d-%08lx\",\"ts\":\"2024-05-01T12:00:00Z\"}",
                i, pass ? "order" : "refund", i % 1000, i % 100, i % 5000,
                i % 300, (unsigned long)i * 2654435761u);
            vlen = (size_t)n;
        }
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC("bench"),
                    RD_KAFKA_V_PARTITION((int32_t)(i % partitions)),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_VALUE((void *)value, vlen), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (e)
            die("produce", rd_kafka_err2str(e));
    }
    rd_kafka_flush(rk, 60000);

    const char *group_arn = "arn:aws:logs:us-east-1:000000000000:log-group:"
                            "/bench/pipe";
    if (to_bus) {
        evb_rule_info_t r = {0};
        r.bus = "default";
        r.name = "to-logs";
        r.event_pattern = "{\"source\":[\"Pipe bench\"]}";
        if (evb_rule_put(bus, &r, NULL, err, sizeof err))
            die("rule", err);
        char spec[512];
        snprintf(spec, sizeof spec, "{\"Id\":\"l\",\"Arn\":\"%s\"}", group_arn);
        evb_target_info_t t = {"l", (char *)group_arn, spec};
        evb_target_failure_t *f = NULL;
        size_t nf = 0;
        if (evb_targets_put(bus, "default", "to-logs", &t, 1, &f, &nf, err,
                            sizeof err))
            die("targets", err);
        evb_target_failures_free(f, nf);
    }
    evb_pipe_service_config_t pc = {.store = store, .bus = bus, .delivery = dv};
    if (avro) {
        pc.decode = evb_pipe_serde_decode;
        pc.decode_ud = serde;
    }
    if (evb_pipe_service_open(&pc, &svc, err, sizeof err))
        die("pipes", err);
    char body[4096];
    snprintf(body, sizeof body,
             "{\"Source\":\"smk://%s\",\"SourceParameters\":{"
             "\"SelfManagedKafkaParameters\":{\"TopicName\":\"bench\","
             "\"StartingPosition\":\"TRIM_HORIZON\",\"BatchSize\":%d},"
             "\"FilterCriteria\":{\"Filters\":[{\"Pattern\":"
             "%s}]}},"
             "\"Target\":\"%s\",\"TargetParameters\":{\"InputTemplate\":"
             "%s},"
             "\"RoleArn\":\"arn:aws:iam::000000000000:role/bench\"}",
             bootstrap, batch,
             avro ? "\"{\\\"value\\\":{\\\"category\\\":[\\\"grocery\\\"]}}\""
                  : "\"{\\\"value\\\":{\\\"kind\\\":[\\\"order\\\"]}}\"",
             to_bus ? "arn:aws:events:us-east-1:000000000000:event-bus/default"
                    : group_arn,
             avro ? "\"{\\\"id\\\": <$.value.id>, \\\"total\\\": "
                    "<$.value.total>, \\\"user\\\": <$.value.userId>, "
                    "\\\"pipe\\\": <aws.pipes.pipe-name>}\""
                  : "\"{\\\"id\\\": <$.value.id>, \\\"amount\\\": "
                    "<$.value.amount>, \\\"user\\\": <$.value.user.name>, "
                    "\\\"pipe\\\": <aws.pipes.pipe-name>}\"");
    json_t *req = json_loads(body, 0, NULL), *resp = NULL;
    if (!req || evb_pipe_create(svc, "bench", req, &resp, err, sizeof err))
        die("create-pipe", err);
    json_decref(req);
    json_decref(resp);

    double t0 = 0, t1 = 0, t2 = 0, deadline = now_s() + 600;
    evb_pipe_stats_t st;
    bool verbose = getenv("EVB_BENCH_VERBOSE") != NULL;
    double last_print = now_s();
    for (;;) {
        evb_pipe_get_stats(svc, "bench", &st);
        if (verbose && now_s() - last_print > 2) {
            last_print = now_s();
            fprintf(stderr, "in %llu out %llu filtered %llu batches %llu\n",
                    (unsigned long long)st.records_in,
                    (unsigned long long)st.records_out,
                    (unsigned long long)st.records_filtered,
                    (unsigned long long)st.batches);
        }
        if (!t0 && st.records_in)
            t0 = now_s();
        if (st.records_out + st.records_filtered + st.records_invalid >=
            (uint64_t)records) {
            t1 = now_s();
            break;
        }
        if (now_s() > deadline)
            die("timeout", "records did not get through in 600 s");
        sleep_ms(1);
    }
    cnt_q_t q = {0};
    for (;;) {
        evb_store_read(store, count_logs, &q, err, sizeof err);
        if (q.n >= passing) {
            t2 = now_s();
            break;
        }
        if (now_s() > deadline)
            die("timeout", "events were not delivered in 600 s");
        sleep_ms(5);
    }
    evb_store_stats_t ss;
    evb_store_get_stats(store, &ss);
    printf("{\"bench\":\"pipe\",\"format\":\"%s\",\"target\":\"%s\","
           "\"records\":%ld,"
           "\"partitions\":%d,\"batch\":%d,\"passed\":%ld,"
           "\"invalid\":%llu,\"batch_failures\":%llu,\"seconds\":%.3f,"
           "\"records_per_s\":%.0f,\"delivered_seconds\":%.3f,"
           "\"delivered_per_s\":%.0f,\"store_writes\":%llu,"
           "\"store_commits\":%llu,\"undecodable\":%llu,"
           "\"sync\":\"%s\"}\n",
           format, to_bus ? "bus" : "logs", records, partitions, batch, passing,
           (unsigned long long)st.records_invalid,
           (unsigned long long)st.batch_failures, t1 - t0,
           (double)records / (t1 - t0), t2 - t0, (double)passing / (t2 - t0),
           (unsigned long long)ss.writes, (unsigned long long)ss.commits,
           (unsigned long long)st.records_undecodable,
           no_sync ? "normal" : "full");
    evb_pipe_service_close(svc);
    evb_serde_writer_clear(&writer);
    evb_serde_free(serde);
    evb_buf_free(&enc);
    free(schema_path);
    evb_delivery_free(dv);
    evb_bus_service_close(bus);
    evb_registry_close(registry);
    evb_store_close(store);
    rd_kafka_destroy(rk);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "pipe bench: could not remove %s\n", dir);
    return 0;
}
