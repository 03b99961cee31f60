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
 *   {"bench":"pipe","target":"bus","records":100000,"partitions":7,
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
 *
 * Avro figures come once the Avro decode hook is wired in.
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

int main(int argc, char **argv) {
    long records = 100000;
    int partitions = 0, batch = 0;
    const char *target = "bus";
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
        else {
            fprintf(stderr, "usage: pipe [--records N] [--partitions P] "
                            "[--batch B] [--target bus|logs] [--no-sync]\n");
            return 64;
        }
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

    /* the cluster, filled before the pipe starts */
    char err[1024];
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
        int n = snprintf(
            v, sizeof v,
            "{\"id\":%ld,\"kind\":\"%s\",\"amount\":%ld.%02ld,\"currency\":"
            "\"EUR\",\"user\":{\"name\":\"user-%ld\",\"country\":\"FR\","
            "\"tier\":\"gold\"},\"merchant\":{\"id\":\"m-%ld\",\"mcc\":5411},"
            "\"device\":\"d-%08lx\",\"ts\":\"2024-05-01T12:00:00Z\"}",
            i, pass ? "order" : "refund", i % 1000, i % 100, i % 5000, i % 300,
            (unsigned long)i * 2654435761u);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC("bench"),
                    RD_KAFKA_V_PARTITION((int32_t)(i % partitions)),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_VALUE(v, (size_t)n), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (e)
            die("produce", rd_kafka_err2str(e));
    }
    rd_kafka_flush(rk, 60000);

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
    evb_delivery_config_t dc = {0};
    if (evb_delivery_new(&dc, store, bus, true, &dv, err, sizeof err))
        die("delivery", err);
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
    evb_pipe_service_config_t pc = {.store = store, .bus = bus,
                                     .delivery = dv};
    if (evb_pipe_service_open(&pc, &svc, err, sizeof err))
        die("pipes", err);
    char body[4096];
    snprintf(body, sizeof body,
             "{\"Source\":\"smk://%s\",\"SourceParameters\":{"
             "\"SelfManagedKafkaParameters\":{\"TopicName\":\"bench\","
             "\"StartingPosition\":\"TRIM_HORIZON\",\"BatchSize\":%d},"
             "\"FilterCriteria\":{\"Filters\":[{\"Pattern\":"
             "\"{\\\"value\\\":{\\\"kind\\\":[\\\"order\\\"]}}\"}]}},"
             "\"Target\":\"%s\",\"TargetParameters\":{\"InputTemplate\":"
             "\"{\\\"id\\\": <$.value.id>, \\\"amount\\\": <$.value.amount>, "
             "\\\"user\\\": <$.value.user.name>, \\\"pipe\\\": "
             "<aws.pipes.pipe-name>}\"},"
             "\"RoleArn\":\"arn:aws:iam::000000000000:role/bench\"}",
             bootstrap, batch,
             to_bus ? "arn:aws:events:us-east-1:000000000000:event-bus/default"
                    : group_arn);
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
    printf("{\"bench\":\"pipe\",\"target\":\"%s\",\"records\":%ld,"
           "\"partitions\":%d,\"batch\":%d,\"passed\":%ld,"
           "\"invalid\":%llu,\"batch_failures\":%llu,\"seconds\":%.3f,"
           "\"records_per_s\":%.0f,\"delivered_seconds\":%.3f,"
           "\"delivered_per_s\":%.0f,\"store_writes\":%llu,"
           "\"store_commits\":%llu,\"sync\":\"%s\"}\n",
           to_bus ? "bus" : "logs", records, partitions, batch, passing,
           (unsigned long long)st.records_invalid,
           (unsigned long long)st.batch_failures, t1 - t0,
           (double)records / (t1 - t0), t2 - t0, (double)passing / (t2 - t0),
           (unsigned long long)ss.writes, (unsigned long long)ss.commits,
           no_sync ? "normal" : "full");
    evb_pipe_service_close(svc);
    evb_delivery_free(dv);
    evb_bus_service_close(bus);
    evb_store_close(store);
    rd_kafka_destroy(rk);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "pipe bench: could not remove %s\n", dir);
    return 0;
}
