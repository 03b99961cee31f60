/*
 * connector.c: records per second through `evbus connector`, from a Kafka
 * topic into `evbus serve` with PutEvents.
 *
 *   build/bench/connector [--records N] [--in-flight K] [--avro]
 *                         [--evbus PATH]
 *
 * It starts librdkafka's mock cluster in this process (a topic of 16
 * partitions: the mock keeps 5 MiB per partition), produces N small order
 * records (JSON, or with --avro Confluent-framed Avro written with a
 * schema registered in the server's registry) untimed, starts `evbus
 * serve` (a fresh data dir, a free loopback port, no rules), then runs the
 * connector in this process (the module's API, the same code as `evbus
 * connector`) until every record was accepted by PutEvents. It prints one
 * JSON line:
 *
 *   {"bench":"connector","format":"json","records":...,"in_flight":4,
 *    "seconds":...,"records_per_s":...,"requests":...,"retries":...,
 *    "server_cpu_s":...,"bench_cpu_s":...}
 *
 * seconds runs from the first record consumed (after the group join) to
 * the last accepted; bench_cpu_s is this process's CPU time over that
 * span (connector and mock broker together), server_cpu_s the server's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "connector/connector.h"
#include "kafka/kafka.h"
#include "serde/serde.h"

#define TOPIC "bench-orders"
#define PARTITIONS 16

static const char SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"Order\",\"namespace\":\"bench\","
    "\"fields\":[{\"name\":\"orderId\",\"type\":\"string\"},"
    "{\"name\":\"userId\",\"type\":\"string\"},"
    "{\"name\":\"total\",\"type\":\"double\"},"
    "{\"name\":\"items\",\"type\":\"int\"},"
    "{\"name\":\"coupon\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"Status\","
    "\"symbols\":[\"NEW\",\"PAID\"]}}]}";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_self(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_of(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int port;

static pid_t spawn_server(const char *evbus, const char *datadir) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t al = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) ||
        getsockname(s, (struct sockaddr *)&a, &al)) {
        if (s >= 0)
            close(s);
        return -1;
    }
    port = ntohs(a.sin_port);
    close(s);
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        execl(evbus, evbus, "serve", "--listen", listen, "--data-dir", datadir,
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        a.sin_port = htons((uint16_t)port);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
            close(fd);
            return pid;
        }
        if (fd >= 0)
            close(fd);
        usleep(50000);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return -1;
}

static void report(void *ud, const evb_kafka_report_t *r) {
    if (!r->ok)
        __atomic_add_fetch((long *)ud, 1, __ATOMIC_RELAXED);
}

static int produce(const char *bs, long n, bool avro, char *err, size_t en) {
    evb_kafka_conf_t *conf = evb_kafka_conf_new();
    evb_kafka_producer_t *p = NULL;
    evb_serde_t *serde = NULL;
    evb_serde_writer_t w = {0};
    long failed = 0;
    int rc = -1;
    if (!conf ||
        evb_kafka_conf_set(conf, "bootstrap.servers", bs, NULL, err, en) ||
        evb_kafka_conf_set(conf, "linger.ms", "20", NULL, err, en) ||
        evb_kafka_producer_new(conf, "bench", &p, err, en))
        goto done;
    if (avro) {
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
        evb_serde_config_t sc = {.registry_url = url};
        if (evb_serde_new(&sc, &serde, err, en) ||
            evb_serde_writer_register(serde, TOPIC "-value", SCHEMA,
                                      strlen(SCHEMA), 0, &w, NULL, err, en))
            goto done;
    }
    evb_buf_t v;
    evb_buf_init(&v, 1u << 20);
    for (long i = 0; i < n; i++) {
        char key[32], json[256];
        snprintf(key, sizeof key, "user-%ld", i % 1000);
        int jl =
            snprintf(json, sizeof json,
                     "{\"orderId\":\"o-%ld\",\"userId\":\"%s\","
                     "\"total\":%ld.25,\"items\":%ld,\"coupon\":%s,"
                     "\"status\":\"%s\"}",
                     i, key, 10 + i % 90, 1 + i % 5,
                     i % 3 ? "null" : "\"SPRING\"", i % 2 ? "PAID" : "NEW");
        evb_buf_reset(&v);
        if (avro) {
            if (evb_serde_encode(&w, NULL, json, (size_t)jl, &v, err, en))
                goto free_v;
        } else if (evb_buf_append(&v, json, (size_t)jl)) {
            goto free_v;
        }
        evb_kafka_out_msg_t m = {.topic = TOPIC,
                                 .partition = -1,
                                 .key = key,
                                 .key_len = strlen(key),
                                 .value = v.data,
                                 .value_len = v.len};
        evb_kafka_report_t why;
        if (evb_kafka_produce(p, &m, report, &failed, &why)) {
            snprintf(err, en, "produce: %s", why.message);
            goto free_v;
        }
    }
    if (evb_kafka_producer_flush(p, 60000, err, en))
        goto free_v;
    if (failed) {
        snprintf(err, en, "%ld records not produced", failed);
        goto free_v;
    }
    rc = 0;
free_v:
    evb_buf_free(&v);
done:
    evb_serde_writer_clear(&w);
    evb_serde_free(serde);
    evb_kafka_producer_free(p);
    evb_kafka_conf_free(conf);
    return rc;
}

typedef struct run {
    evb_connector_t *k;
    evb_err_t err;
    char errstr[600];
} run_t;

static void *runner(void *ud) {
    run_t *r = ud;
    r->err = evb_connector_run(r->k, r->errstr, sizeof r->errstr);
    return NULL;
}

static void quiet(void *ud, int level, const char *line) {
    (void)ud;
    if (level <= 3)
        fprintf(stderr, "bench: kafka: %s\n", line);
}

int main(int argc, char **argv) {
    long n = 100000;
    int in_flight = 4;
    bool avro = false;
    char evbus_default[4096];
    const char *evbus = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--records") && i + 1 < argc)
            n = atol(argv[++i]);
        else if (!strcmp(argv[i], "--in-flight") && i + 1 < argc)
            in_flight = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--avro"))
            avro = true;
        else if (!strcmp(argv[i], "--evbus") && i + 1 < argc)
            evbus = argv[++i];
        else {
            fprintf(stderr, "usage: connector [--records N] [--in-flight K] "
                            "[--avro] [--evbus PATH]\n");
            return 64;
        }
    }
    if (n <= 0 || in_flight < 1 || in_flight > 64) {
        fprintf(stderr, "connector: bad --records or --in-flight\n");
        return 64;
    }
    if (!evbus) { /* build/bench/connector -> build/evbus */
        snprintf(evbus_default, sizeof evbus_default, "%s", argv[0]);
        char *slash = strrchr(evbus_default, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(evbus_default, sizeof evbus_default, ".");
        size_t l = strlen(evbus_default);
        snprintf(evbus_default + l, sizeof evbus_default - l, "/../evbus");
        evbus = evbus_default;
    }
    evb_kafka_set_log(quiet, NULL);
    char err[600];
    evb_kafka_mock_t *mock = NULL;
    if (evb_kafka_mock_new(1, &mock, err, sizeof err) ||
        evb_kafka_mock_topic_create(mock, TOPIC, PARTITIONS, err, sizeof err)) {
        fprintf(stderr, "connector: mock: %s\n", err);
        return 1;
    }
    const char *bs = evb_kafka_mock_bootstrap_servers(mock);
    char datadir[] = "/tmp/evbus-bench-connector-XXXXXX";
    if (!mkdtemp(datadir)) {
        perror("mkdtemp");
        return 1;
    }
    pid_t server = spawn_server(evbus, datadir);
    if (server < 0) {
        fprintf(stderr, "connector: cannot start %s serve\n", evbus);
        return 1;
    }
    int rc = 1;
    evb_connector_config_t *cfg = NULL;
    run_t run = {0};
    if (produce(bs, n, avro, err, sizeof err)) {
        fprintf(stderr, "connector: %s\n", err);
        goto out;
    }
    char text[2048];
    snprintf(text, sizeof text,
             "name=bench\ntopics=" TOPIC "\n"
             "aws.eventbridge.connector.id=bench\n"
             "aws.eventbridge.region=us-east-1\n"
             "aws.eventbridge.eventbus.arn=arn:aws:events:us-east-1:"
             "000000000000:event-bus/default\n"
             "aws.eventbridge.endpoint.uri=http://127.0.0.1:%d\n"
             "kafka.bootstrap.servers=%s\n"
             "evbus.max.in.flight=%d\nevbus.stats.interval.ms=0\n"
             "%s",
             port, bs, in_flight,
             avro ? "value.converter=io.confluent.connect.avro.AvroConverter\n"
                    "value.converter.schema.registry.url=http://127.0.0.1:"
                  : "");
    if (avro) {
        size_t l = strlen(text);
        snprintf(text + l, sizeof text - l, "%d\n", port);
    }
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_PROFILE");
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
    if (evb_connector_config_parse(text, strlen(text), "bench", &cfg, err,
                                   sizeof err) ||
        evb_connector_new(cfg, &run.k, err, sizeof err)) {
        fprintf(stderr, "connector: %s\n", err);
        goto out;
    }
    pthread_t t;
    pthread_create(&t, NULL, runner, &run);
    double t0 = 0, c0 = 0, s0 = 0, deadline = now_s() + 600;
    evb_connector_stats_t st;
    for (;;) {
        evb_connector_get_stats(run.k, &st);
        if (!t0 && st.records) {
            t0 = now_s();
            c0 = cpu_self();
            s0 = cpu_of(server);
        }
        if ((long)st.sent >= n || now_s() > deadline)
            break;
        usleep(2000);
    }
    double t1 = now_s(), c1 = cpu_self(), s1 = cpu_of(server);
    evb_connector_stop(run.k);
    pthread_join(t, NULL);
    evb_connector_get_stats(run.k, &st);
    if ((long)st.sent < n) {
        fprintf(stderr, "connector: only %llu of %ld records sent: %s\n",
                (unsigned long long)st.sent, n, run.errstr);
        goto out;
    }
    printf("{\"bench\":\"connector\",\"format\":\"%s\",\"records\":%ld,"
           "\"in_flight\":%d,\"seconds\":%.3f,\"records_per_s\":%.0f,"
           "\"requests\":%llu,\"retries\":%llu,\"server_cpu_s\":%.2f,"
           "\"bench_cpu_s\":%.2f}\n",
           avro ? "avro" : "json", n, in_flight, t1 - t0, (double)n / (t1 - t0),
           (unsigned long long)st.requests, (unsigned long long)st.retries,
           s1 - s0, c1 - c0);
    rc = 0;
out:
    evb_connector_free(run.k);
    evb_connector_config_free(cfg);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    evb_kafka_mock_free(mock);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", datadir);
    if (system(cmd) != 0)
        fprintf(stderr, "connector: could not remove %s\n", datadir);
    return rc;
}
