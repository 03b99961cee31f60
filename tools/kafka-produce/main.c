/*
 * kafka-produce: write standard input's lines to a Kafka topic, one
 * message a line, with evbus's own producer (src/kafka: idempotent,
 * acks=all), then wait for every delivery report. A test and debugging
 * helper; pairs with `evbus avro encode` (whose hex output it takes with
 * --hex) and tools/kafka-consume.
 *
 *   kafka-produce --bootstrap-servers LIST --topic NAME [--hex]
 *                 [--partition N] [-X KEY=VALUE]...
 *
 * Empty lines are skipped. Exit 0 when every message was acknowledged, 1
 * when some failed (reported on stderr), 64 on bad usage or input.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka.h"

#define EXIT_USAGE 64

static void usage(FILE *out) {
    fputs("usage: kafka-produce --bootstrap-servers LIST --topic NAME "
          "[--hex]\n"
          "                     [--partition N] [-X KEY=VALUE]...\n"
          "\n"
          "Produce each line of standard input as one message (empty lines "
          "skipped)\n"
          "and wait for every delivery report.\n"
          "  --hex          lines are hexadecimal bytes (as `evbus avro "
          "encode` prints)\n"
          "  --partition N  this partition (default: the partitioner's "
          "choice)\n"
          "  -X KEY=VALUE   any librdkafka property (repeatable)\n",
          out);
}

static atomic_int failures;

static void on_report(void *ud, const evb_kafka_report_t *r) {
    (void)ud;
    if (!r->ok) {
        atomic_fetch_add(&failures, 1);
        fprintf(stderr, "kafka-produce: %s: %s\n", r->code, r->message);
    }
}

static int hexval(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int main(int argc, char **argv) {
    const char *bootstrap = NULL, *topic = NULL;
    bool hex = false;
    long partition = -1;
    char err[600];
    evb_kafka_conf_t *conf = evb_kafka_conf_new();
    if (!conf)
        return 1;
    static const struct option opts[] = {
        {"bootstrap-servers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"hex", no_argument, NULL, 'x'},
        {"partition", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "X:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': bootstrap = optarg; break;
        case 't': topic = optarg; break;
        case 'x': hex = true; break;
        case 'p': partition = strtol(optarg, NULL, 10); break;
        case 'X':
            if (evb_kafka_conf_set_pair(conf, optarg, "-X", err, sizeof err)) {
                fprintf(stderr, "kafka-produce: %s\n", err);
                evb_kafka_conf_free(conf);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            evb_kafka_conf_free(conf);
            return 0;
        default:
            usage(stderr);
            evb_kafka_conf_free(conf);
            return EXIT_USAGE;
        }
    }
    if (!bootstrap || !topic || optind != argc) {
        usage(stderr);
        evb_kafka_conf_free(conf);
        return EXIT_USAGE;
    }
    evb_kafka_producer_t *p = NULL;
    if (evb_kafka_conf_set(conf, "bootstrap.servers", bootstrap,
                           "--bootstrap-servers", err, sizeof err) ||
        evb_kafka_producer_new(conf, "kafka-produce", &p, err, sizeof err)) {
        fprintf(stderr, "kafka-produce: %s\n", err);
        evb_kafka_conf_free(conf);
        return EXIT_USAGE;
    }
    evb_kafka_conf_free(conf);
    int rc = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        size_t len = (size_t)n;
        if (hex) {
            if (len % 2) {
                fprintf(stderr, "kafka-produce: line %lu: not hexadecimal\n",
                        lineno);
                rc = EXIT_USAGE;
                break;
            }
            size_t k = 0;
            for (; k < len / 2; k++) {
                int hi = hexval((unsigned char)line[2 * k]),
                    lo = hexval((unsigned char)line[2 * k + 1]);
                if (hi < 0 || lo < 0)
                    break;
                line[k] = (char)(hi << 4 | lo);
            }
            if (k != len / 2) {
                fprintf(stderr, "kafka-produce: line %lu: not hexadecimal\n",
                        lineno);
                rc = EXIT_USAGE;
                break;
            }
            len /= 2;
        }
        evb_kafka_out_msg_t m = {
            topic, (int32_t)partition, NULL, 0, line, len, NULL, 0};
        evb_kafka_report_t why;
        if (evb_kafka_produce(p, &m, on_report, NULL, &why)) {
            fprintf(stderr, "kafka-produce: line %lu: %s: %s\n", lineno,
                    why.code, why.message);
            rc = 1;
            break;
        }
    }
    free(line);
    if (evb_kafka_producer_flush(p, 30000, err, sizeof err)) {
        fprintf(stderr, "kafka-produce: %s\n", err);
        rc = 1;
    }
    evb_kafka_producer_free(p);
    if (!rc && atomic_load(&failures))
        rc = 1;
    return rc;
}
