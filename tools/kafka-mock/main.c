/*
 * kafka-mock: librdkafka's mock Kafka cluster as a standalone process, for
 * tests and demos. NOT a production broker: everything is in memory, and
 * nothing is authenticated nor persisted.
 *
 *   kafka-mock [--brokers N] [--partitions N] [--topic NAME[:PARTITIONS]]...
 *
 * It prints the cluster's bootstrap servers (127.0.0.1:PORT,...) on the
 * first line of stdout and flushes it, logs on stderr, and runs until
 * SIGTERM or SIGINT, then stops cleanly (exit status 0).
 *
 * Partitions: librdkafka 2.0.2's mock creates a topic that a client asks
 * for on demand with 4 partitions, and has no setting to change that; so
 * --partitions is the count for topics pre-created with --topic NAME, and
 * --topic NAME:P gives one topic its own count.
 *
 * Signals are blocked before the mock's threads start (they inherit the
 * mask) and taken with sigwait on the main thread.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka.h"

#define EXIT_USAGE 64
#define MAX_TOPICS 256

static void usage(FILE *out) {
    fprintf(out,
            "usage: kafka-mock [--brokers N] [--partitions N]\n"
            "                  [--topic NAME[:PARTITIONS]]...\n"
            "\n"
            "Run librdkafka's mock Kafka cluster (a TEST cluster held in "
            "memory,\n"
            "never a production broker) until SIGTERM or SIGINT. The first "
            "line\n"
            "of stdout is its bootstrap servers (127.0.0.1:PORT,...).\n"
            "\n"
            "  --brokers N           brokers, 1..64 (default 1)\n"
            "  --partitions N        partitions of the --topic topics that "
            "give no\n"
            "                        count, 1..10000 (default 4); topics "
            "clients\n"
            "                        create on demand always get 4 (librdkafka "
            "2.0.2)\n"
            "  --topic NAME[:P]      create topic NAME (P partitions) at "
            "start;\n"
            "                        repeatable\n");
}

static void log_line(void *ud, int level, const char *line) {
    (void)ud;
    (void)level;
    fprintf(stderr, "kafka-mock: %s\n", line);
}

static bool parse_int(const char *s, long min, long max, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

int main(int argc, char **argv) {
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"partitions", required_argument, NULL, 'p'},
        {"topic", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int brokers = 1, partitions = 4;
    const char *topics[MAX_TOPICS];
    size_t ntopics = 0;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (!parse_int(optarg, 1, 64, &brokers)) {
                fprintf(stderr,
                        "kafka-mock: --brokers: not a number in "
                        "1..64: '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 'p':
            if (!parse_int(optarg, 1, 10000, &partitions)) {
                fprintf(stderr,
                        "kafka-mock: --partitions: not a number in "
                        "1..10000: '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 't':
            if (ntopics == MAX_TOPICS) {
                fprintf(stderr, "kafka-mock: at most %d --topic options\n",
                        MAX_TOPICS);
                return EXIT_USAGE;
            }
            topics[ntopics++] = optarg;
            break;
        case 'h': usage(stdout); return 0;
        case ':':
            fprintf(stderr, "kafka-mock: option '%s' needs a value\n",
                    argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "kafka-mock: unknown option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kafka-mock: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    /* check every --topic before starting anything */
    char names[MAX_TOPICS][EVB_KAFKA_MAX_TOPIC + 1];
    int counts[MAX_TOPICS];
    for (size_t i = 0; i < ntopics; i++) {
        const char *t = topics[i];
        const char *colon = strrchr(t, ':');
        size_t len = colon ? (size_t)(colon - t) : strlen(t);
        counts[i] = partitions;
        if ((colon && !parse_int(colon + 1, 1, 10000, &counts[i])) ||
            !evb_kafka_topic_name_valid(t, len)) {
            fprintf(stderr,
                    "kafka-mock: --topic: expected NAME or NAME:PARTITIONS "
                    "(NAME: 1..249 of A-Z a-z 0-9 . _ -; PARTITIONS: "
                    "1..10000), got '%s'\n",
                    t);
            return EXIT_USAGE;
        }
        memcpy(names[i], t, len);
        names[i][len] = '\0';
    }

    evb_kafka_set_log(log_line, NULL);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[512];
    evb_kafka_mock_t *m = NULL;
    if (evb_kafka_mock_new(brokers, &m, err, sizeof err)) {
        fprintf(stderr, "kafka-mock: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < ntopics; i++)
        if (evb_kafka_mock_topic_create(m, names[i], counts[i], err,
                                        sizeof err)) {
            fprintf(stderr, "kafka-mock: %s\n", err);
            evb_kafka_mock_free(m);
            return 1;
        }
    printf("%s\n", evb_kafka_mock_bootstrap_servers(m));
    fflush(stdout);
    fprintf(stderr,
            "kafka-mock: test cluster (librdkafka mock, in memory, not for "
            "production) with %d broker%s at %s\n",
            brokers, brokers == 1 ? "" : "s",
            evb_kafka_mock_bootstrap_servers(m));

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0)
        ;
    fprintf(stderr, "kafka-mock: %s received, stopping\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    evb_kafka_mock_free(m);
    fprintf(stderr, "kafka-mock: stopped\n");
    return 0;
}
