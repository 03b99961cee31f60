/*
 * pipes-mock: a Kafka cluster for the pipes tests that drive `evbus serve`
 * from the shell (tests/cli/test_pipes_api.sh): librdkafka's in-process
 * mock cluster (one broker on a loopback port) and a producer fed from
 * standard input.
 *
 *   pipes-mock [--topic NAME:PARTITIONS]... [--ttl SECONDS]
 *
 * It prints "bootstrap HOST:PORT" on stdout, then reads commands, one a
 * line, until end of input (or SIGTERM, or --ttl, 300 s by default):
 *
 *   topic NAME PARTITIONS            create a topic
 *   produce TOPIC PARTITION VALUE    produce VALUE (the rest of the line;
 *                                    PARTITION -1: any), no key
 *   flush                            wait for every record; prints "ok"
 *
 * The Kafka module's tools/kafka-mock is the general tool; this one only
 * has what the pipes tests need.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static void on_alarm(int sig) {
    (void)sig;
    _exit(0);
}

int main(int argc, char **argv) {
    unsigned ttl = 300;
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "test.mock.num.brokers", "1", err, sizeof err) ||
        rd_kafka_conf_set(c, "linger.ms", "1", err, sizeof err) ||
        rd_kafka_conf_set(c, "log_level", "2", err, sizeof err)) {
        fprintf(stderr, "pipes-mock: %s\n", err);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "pipes-mock: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(rk);
    if (!mc) {
        fprintf(stderr, "pipes-mock: no mock cluster\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
            char name[256];
            int parts = 1;
            if (sscanf(argv[++i], "%255[^:]:%d", name, &parts) < 1 ||
                rd_kafka_mock_topic_create(mc, name, parts, 1)) {
                fprintf(stderr, "pipes-mock: bad --topic %s\n", argv[i]);
                return 64;
            }
        } else if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc) {
            ttl = (unsigned)atoi(argv[++i]);
        } else {
            fprintf(stderr,
                    "usage: pipes-mock [--topic NAME:PARTITIONS]... "
                    "[--ttl SECONDS]\n");
            return 64;
        }
    }
    signal(SIGALRM, on_alarm);
    alarm(ttl);
    printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (n && line[n - 1] == '\n')
            line[--n] = '\0';
        char topic[256];
        int part, off = 0;
        if (sscanf(line, "produce %255s %d %n", topic, &part, &off) == 2 &&
            off > 0) {
            const char *v = line + off;
            rd_kafka_resp_err_t e;
            while ((e = rd_kafka_producev(
                        rk, RD_KAFKA_V_TOPIC(topic),
                        RD_KAFKA_V_PARTITION(part < 0 ? RD_KAFKA_PARTITION_UA
                                                      : part),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_VALUE((void *)v, strlen(v)),
                        RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 10);
            if (e)
                fprintf(stderr, "pipes-mock: produce: %s\n",
                        rd_kafka_err2str(e));
        } else if (sscanf(line, "topic %255s %d", topic, &part) == 2) {
            if (rd_kafka_mock_topic_create(mc, topic, part, 1))
                fprintf(stderr, "pipes-mock: cannot create %s\n", topic);
        } else if (strcmp(line, "flush") == 0) {
            rd_kafka_flush(rk, 10000);
            printf("ok\n");
            fflush(stdout);
        } else if (n) {
            fprintf(stderr, "pipes-mock: unknown command: %s\n", line);
        }
        rd_kafka_poll(rk, 0);
    }
    free(line);
    rd_kafka_flush(rk, 5000);
    rd_kafka_destroy(rk);
    return 0;
}
