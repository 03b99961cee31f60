/*
 * kafka-consume: read a Kafka topic as a consumer-group member and print
 * each message as a JSON line, committing after printing. A test and
 * debugging helper built on evbus's own consumer (src/kafka).
 *
 *   kafka-consume --bootstrap-servers LIST --topic NAME [--group ID]
 *                 [--count N] [--timeout SECONDS] [-X KEY=VALUE]...
 *
 * Each line: {"topic":..., "partition":..., "offset":..., "key":... or
 * null, "value":... or null, "timestamp_ms":...}; key and value are the
 * bytes as a JSON string (they are expected to be UTF-8 text).
 * It stops after N messages (exit 0) or when SECONDS pass without them
 * all (exit 1; default 30 s). A new group starts at the earliest offset.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "kafka/kafka.h"

#define EXIT_USAGE 64

static void usage(FILE *out) {
    fputs("usage: kafka-consume --bootstrap-servers LIST --topic NAME\n"
          "                     [--group ID] [--count N] [--timeout "
          "SECONDS]\n"
          "                     [-X KEY=VALUE]...\n"
          "\n"
          "Print a topic's messages as JSON lines (committing each after "
          "printing);\n"
          "stop after N of them (exit 0) or after SECONDS without (exit 1).\n"
          "  --group ID     consumer group (default kafka-consume)\n"
          "  --count N      messages to read (default 1)\n"
          "  --timeout S    give up after S seconds (default 30)\n"
          "  -X KEY=VALUE   any librdkafka property (repeatable)\n",
          out);
}

static void log_line(void *ud, int level, const char *line) {
    (void)ud;
    if (level <= 4)
        fprintf(stderr, "kafka-consume: %s\n", line);
}

static json_t *bytes(const void *p, size_t n) {
    if (!p)
        return json_null();
    json_t *s = json_stringn_nocheck(p, n);
    return s ? s : json_null();
}

int main(int argc, char **argv) {
    static const struct option opts[] = {
        {"bootstrap-servers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"group", required_argument, NULL, 'g'},
        {"count", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *bootstrap = NULL, *topic = NULL, *group = "kafka-consume";
    long count = 1, timeout = 30;
    char err[600];
    evb_kafka_conf_t *conf = evb_kafka_conf_new();
    if (!conf)
        return 1;
    int c, rc = EXIT_USAGE;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hX:", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'b': bootstrap = optarg; break;
        case 't': topic = optarg; break;
        case 'g': group = optarg; break;
        case 'n':
        case 'T': {
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || v < 1 || v > 100000000) {
                fprintf(stderr, "kafka-consume: not a positive number: '%s'\n",
                        optarg);
                goto out;
            }
            *(c == 'n' ? &count : &timeout) = v;
            break;
        }
        case 'X':
            if (evb_kafka_conf_set_pair(conf, optarg, "-X", err, sizeof err)) {
                fprintf(stderr, "kafka-consume: %s\n", err);
                goto out;
            }
            break;
        case 'h':
            usage(stdout);
            rc = 0;
            goto out;
        default:
            fprintf(stderr, "kafka-consume: bad option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            goto out;
        }
    }
    if (!bootstrap || !topic || optind < argc) {
        usage(stderr);
        goto out;
    }
    evb_kafka_set_log(log_line, NULL);
    evb_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, NULL, 0);
    if (!evb_kafka_conf_get(conf, "session.timeout.ms"))
        evb_kafka_conf_set(conf, "session.timeout.ms", "6000", NULL, NULL, 0);
    evb_kafka_consumer_t *k;
    const char *topics[] = {topic};
    if (evb_kafka_consumer_new(conf, group, topics, 1, "kafka-consume", &k, err,
                               sizeof err)) {
        fprintf(stderr, "kafka-consume: %s\n", err);
        rc = 1;
        goto out;
    }
    long got = 0;
    time_t end = time(NULL) + timeout;
    while (got < count && time(NULL) < end) {
        evb_kafka_msg_t *m = NULL;
        if (evb_kafka_consumer_poll(k, 200, &m, err, sizeof err)) {
            fprintf(stderr, "kafka-consume: %s\n", err);
            continue;
        }
        if (!m)
            continue;
        json_t *o = json_pack(
            "{s:s, s:i, s:I, s:o, s:o, s:I}", "topic", m->topic, "partition",
            (int)m->partition, "offset", (json_int_t)m->offset, "key",
            bytes(m->key, m->key_len), "value", bytes(m->value, m->value_len),
            "timestamp_ms", (json_int_t)m->timestamp_ms);
        char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (line) {
            printf("%s\n", line);
            fflush(stdout);
        }
        free(line);
        json_decref(o);
        if (evb_kafka_consumer_commit(k, m, err, sizeof err))
            fprintf(stderr, "kafka-consume: %s\n", err);
        evb_kafka_msg_free(m);
        got++;
    }
    evb_kafka_consumer_free(k);
    rc = got == count ? 0 : 1;
    if (rc)
        fprintf(stderr, "kafka-consume: %ld of %ld messages in %ld s\n", got,
                count, timeout);
out:
    evb_kafka_conf_free(conf);
    return rc;
}
