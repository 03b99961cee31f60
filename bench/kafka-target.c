/*
 * kafka-target.c: events per second delivered through the Kafka topic
 * target to kafka-mock.
 *
 * In process, through the delivery engine: this measures what the target
 * costs (rendering the payload, taking the key from the event's
 * JSONPath, producing with the idempotent acks=all producer, waiting for
 * every delivery report, settling the batch in the store), without the
 * HTTP and PutEvents ingestion that bench/putevents measures on its own.
 * The cluster is build/tools/kafka-mock, started as a separate process
 * (--kafka-mock PATH), so the broker side does not share this process.
 *
 * Method: N events are put on the default bus first (not timed; the rule
 * matches them all and owes one delivery each), then the delivery engine
 * is run (evb_delivery_run_once, its default batch of 1024) until every
 * delivery is settled; the time of that loop is the figure. The same is
 * then done with a queue of the built-in SQS service as the target (its
 * message is written in the settling transaction: the engine's cheapest
 * target), as a baseline for the engine's own cost. Afterwards (not
 * timed) the topic's message count (its partitions' high watermarks) is
 * checked against N.
 *
 *   kafka-target [--events N] [--kafka-mock PATH] [--brokers N] [--sync]
 *
 * One JSON line per target:
 *   {"bench":"kafka-target","target":"kafka","events":N,"seconds":...,
 *    "events_per_s":...,"cpu_seconds":...,"events_per_cpu_s":...,
 *    "key":true,"brokers":1,"store_sync":"NORMAL","delivered":N,
 *    "in_topic":N}
 * cpu_seconds is this process's CPU time during the timed loop (all its
 * threads, kafka-mock's excluded): on a shared machine it says more
 * about the target's cost than the wall-clock rate does.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "delivery/delivery.h"
#include "kafka/kafka.h"

#define BENCH_PARTITIONS 4

static double now_s(void) {
    return (double)evb_now_ns() / 1e9;
}

/* CPU time of this process (every thread; not kafka-mock's). */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void quiet(void *ud, int level, const char *line) {
    (void)ud;
    if (level <= 3)
        fprintf(stderr, "kafka: %s\n", line);
}

static pid_t mock_pid = -1;

/* Start kafka-mock; its first stdout line into bs. */
static bool start_mock(const char *path, int brokers, char *bs, size_t size) {
    int fd[2];
    if (pipe(fd) != 0)
        return false;
    mock_pid = fork();
    if (mock_pid < 0)
        return false;
    if (mock_pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        char b[16];
        snprintf(b, sizeof b, "%d", brokers);
        char topic[32];
        snprintf(topic, sizeof topic, "bench:%d", BENCH_PARTITIONS);
        execl(path, path, "--brokers", b, "--topic", topic, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    bool ok = f && fgets(bs, (int)size, f);
    if (ok)
        bs[strcspn(bs, "\n")] = '\0';
    if (f)
        fclose(f);
    return ok && bs[0];
}

static void stop_mock(void) {
    if (mock_pid > 0) {
        kill(mock_pid, SIGTERM);
        waitpid(mock_pid, NULL, 0);
        mock_pid = -1;
    }
}

static evb_err_t count_pending(sqlite3 *db, void *arg, char *errstr,
                               size_t sz) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM deliveries", -1, &st,
                           NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "count", errstr, sz);
    if (sqlite3_step(st) == SQLITE_ROW)
        *(long *)arg = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

/* Put n events of source (10 per call), about 380 bytes each. */
static bool load(evb_bus_service_t *svc, const char *source, long n) {
    char detail[10][256];
    evb_put_entry_t e[10];
    evb_put_result_t r[10];
    char err[256];
    for (long i = 0; i < n; i += 10) {
        size_t k = (size_t)(n - i < 10 ? n - i : 10);
        for (size_t j = 0; j < k; j++) {
            snprintf(detail[j], sizeof detail[j],
                     "{\"userId\":\"user-%ld\",\"orderId\":%ld,\"amount\":"
                     "%ld.%02ld,\"currency\":\"EUR\",\"items\":[{\"sku\":"
                     "\"sku-%ld\",\"qty\":%ld}]}",
                     (i + (long)j) % 1000, i + (long)j, (i * 7 + 13) % 5000,
                     (i + (long)j) % 100, (i + (long)j) % 97,
                     1 + (i + (long)j) % 5);
            memset(&e[j], 0, sizeof e[j]);
            e[j].source = source;
            e[j].detail_type = "OrderPlaced";
            e[j].detail = detail[j];
            e[j].detail_len = strlen(detail[j]);
        }
        size_t failed;
        if (evb_bus_put_events(svc, e, k, r, &failed, err, sizeof err) ||
            failed) {
            fprintf(stderr, "kafka-target: PutEvents: %s\n", err);
            return false;
        }
    }
    return true;
}

static bool add_rule(evb_bus_service_t *svc, const char *name,
                     const char *source, const char *arn, const char *extra) {
    char err[512], pattern[128], spec[1024];
    snprintf(pattern, sizeof pattern, "{\"source\":[\"%s\"]}", source);
    evb_rule_info_t r = {0};
    r.bus = "default";
    r.name = (char *)name;
    r.event_pattern = pattern;
    snprintf(spec, sizeof spec, "{\"Id\":\"t\",\"Arn\":\"%s\"%s}", arn, extra);
    evb_target_info_t t = {"t", (char *)arn, spec};
    evb_target_failure_t *f = NULL;
    size_t nf = 0;
    if (evb_rule_put(svc, &r, NULL, err, sizeof err) ||
        evb_targets_put(svc, "default", name, &t, 1, &f, &nf, err,
                        sizeof err) ||
        nf) {
        fprintf(stderr, "kafka-target: rule %s: %s\n", name, err);
        return false;
    }
    return true;
}

/* Run the engine until nothing is pending; seconds taken, or -1. */
static double drain(evb_store_t *store, evb_delivery_t *dv) {
    double t0 = now_s();
    char err[256];
    for (int round = 0; round < 100000; round++) {
        size_t done;
        if (evb_delivery_run_once(dv, &done, err, sizeof err)) {
            fprintf(stderr, "kafka-target: delivery: %s\n", err);
            return -1;
        }
        long pending = -1;
        evb_store_read(store, count_pending, &pending, err, sizeof err);
        if (pending == 0)
            return now_s() - t0;
    }
    return -1;
}

/* Messages appended to the (fresh) topic: the sum of its partitions' high
 * watermarks (not high - low: the mock keeps only the last 5 MiB of each
 * partition). */
static long in_topic(const char *bs) {
    evb_kafka_conf_t *c = evb_kafka_conf_new();
    evb_kafka_conf_set(c, "bootstrap.servers", bs, NULL, NULL, 0);
    const char *topics[] = {"bench"};
    evb_kafka_consumer_t *k;
    char err[512];
    long total = 0;
    if (evb_kafka_consumer_new(c, "bench-count", topics, 1, "count", &k, err,
                               sizeof err)) {
        fprintf(stderr, "kafka-target: %s\n", err);
        evb_kafka_conf_free(c);
        return -1;
    }
    for (int32_t part = 0; part < BENCH_PARTITIONS && total >= 0; part++) {
        int64_t lo, hi;
        if (evb_kafka_consumer_watermarks(k, "bench", part, 10000, &lo, &hi,
                                          err, sizeof err)) {
            fprintf(stderr, "kafka-target: %s\n", err);
            total = -1;
        } else {
            total += (long)hi;
        }
    }
    evb_kafka_consumer_free(k);
    evb_kafka_conf_free(c);
    return total;
}

int main(int argc, char **argv) {
    long events = 100000;
    int brokers = 1;
    bool sync = false;
    char mock_path[4096];
    /* default: build/tools/kafka-mock beside build/bench/ */
    snprintf(mock_path, sizeof mock_path, "%s", argv[0]);
    char *slash = strrchr(mock_path, '/');
    if (slash)
        snprintf(slash + 1, sizeof mock_path - (size_t)(slash + 1 - mock_path),
                 "../tools/kafka-mock");
    else
        snprintf(mock_path, sizeof mock_path, "../tools/kafka-mock");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--events") && i + 1 < argc)
            events = atol(argv[++i]);
        else if (!strcmp(argv[i], "--kafka-mock") && i + 1 < argc)
            snprintf(mock_path, sizeof mock_path, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--brokers") && i + 1 < argc)
            brokers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sync"))
            sync = true;
        else {
            fprintf(stderr, "usage: kafka-target [--events N] [--kafka-mock "
                            "PATH] [--brokers N] [--sync]\n");
            return 64;
        }
    }
    if (events < 1 || brokers < 1 || brokers > 64) {
        fprintf(stderr, "kafka-target: bad --events or --brokers\n");
        return 64;
    }
    evb_kafka_set_log(quiet, NULL);
    signal(SIGPIPE, SIG_IGN);
    char bs[1024];
    if (!start_mock(mock_path, brokers, bs, sizeof bs)) {
        fprintf(stderr, "kafka-target: cannot start %s\n", mock_path);
        stop_mock();
        return 1;
    }
    char dir[] = "/tmp/evb-bench-kafka-XXXXXX";
    if (!mkdtemp(dir)) {
        stop_mock();
        return 1;
    }
    char err[512];
    evb_store_t *store = NULL;
    evb_bus_service_t *svc = NULL;
    evb_queue_service_t *queues = NULL;
    evb_kafka_clusters_t *clusters = evb_kafka_clusters_new();
    evb_delivery_t *dv = NULL;
    evb_kafka_conf_t *conf = evb_kafka_conf_new();
    evb_kafka_conf_set(conf, "bootstrap.servers", bs, NULL, NULL, 0);
    evb_store_opts_t so = {.dir = dir, .no_sync = !sync};
    int rc = 1;
    if (evb_store_open(&so, &store, err, sizeof err) ||
        evb_bus_service_open(NULL, store, &svc, err, sizeof err) ||
        evb_queue_service_new(store, "us-east-1", "000000000000", &queues) !=
            EVB_QUEUE_ERR_OK ||
        evb_queue_create(queues, "baseline", NULL, 0, err, sizeof err) !=
            EVB_QUEUE_ERR_OK ||
        evb_kafka_clusters_add(clusters, "default", conf, err, sizeof err)) {
        fprintf(stderr, "kafka-target: %s\n", err);
        goto out;
    }
    evb_delivery_config_t dc = {.queues = queues, .kafka = clusters};
    if (evb_delivery_new(&dc, store, svc, false, &dv, err, sizeof err) ||
        !add_rule(svc, "to-kafka", "bench.kafka",
                  "arn:aws:kafka:us-east-1:000000000000:topic/default/bench",
                  ",\"KafkaParameters\":{\"PartitionKeyPath\":"
                  "\"$.detail.userId\"}") ||
        !add_rule(svc, "to-sqs", "bench.sqs",
                  "arn:aws:sqs:us-east-1:000000000000:baseline", "")) {
        fprintf(stderr, "kafka-target: %s\n", err);
        goto out;
    }
    /* warm the producer (connection, metadata, producer id) */
    evb_kafka_producer_t *p;
    if (evb_kafka_clusters_producer(clusters, "default", &p, err, sizeof err)) {
        fprintf(stderr, "kafka-target: %s\n", err);
        goto out;
    }
    static const struct {
        const char *target, *source;
    } phases[] = {{"kafka", "bench.kafka"}, {"sqs-baseline", "bench.sqs"}};
    for (size_t ph = 0; ph < 2; ph++) {
        if (!load(svc, phases[ph].source, events))
            goto out;
        evb_delivery_stats_t before, after;
        evb_delivery_get_stats(dv, &before);
        double cpu0 = cpu_s();
        double secs = drain(store, dv);
        double cpu = cpu_s() - cpu0;
        evb_delivery_get_stats(dv, &after);
        if (secs < 0)
            goto out;
        long delivered = (long)(after.delivered - before.delivered);
        long back = ph == 0 ? in_topic(bs) : delivered;
        printf("{\"bench\":\"kafka-target\",\"target\":\"%s\",\"events\":%ld,"
               "\"seconds\":%.3f,\"events_per_s\":%.0f,\"cpu_seconds\":%.3f,"
               "\"events_per_cpu_s\":%.0f,\"key\":%s,"
               "\"brokers\":%d,\"store_sync\":\"%s\",\"delivered\":%ld,"
               "\"in_topic\":%ld}\n",
               phases[ph].target, events, secs, (double)events / secs, cpu,
               (double)events / cpu, ph == 0 ? "true" : "false", brokers,
               sync ? "FULL" : "NORMAL", delivered, back);
        fflush(stdout);
        if (delivered != events || back != events)
            goto out;
    }
    rc = 0;
out:
    evb_delivery_free(dv);
    evb_kafka_clusters_free(clusters);
    evb_kafka_conf_free(conf);
    evb_queue_service_free(queues);
    evb_bus_service_close(svc);
    evb_store_close(store);
    stop_mock();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
