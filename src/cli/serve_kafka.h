/*
 * serve_kafka.h: the Kafka part of `evbus serve` (its options, the named
 * clusters they configure, the embedded test cluster), kept out of
 * cmd_serve.c so that the wiring there stays a few lines.
 *
 *   --kafka-config KEY=VALUE   a librdkafka property of the `default`
 *                              cluster (repeatable; the last one wins)
 *   --kafka-config-file FILE   a .properties file for `default`
 *   --kafka-cluster NAME=FILE  a named cluster from a .properties file
 *                              (repeatable)
 *   --embedded-kafka           start a mock cluster in this process and
 *                              make it `default` (a test cluster)
 *
 * `default` takes --kafka-config and --kafka-config-file in command-line
 * order. Files are read and every property is checked by librdkafka
 * before the server touches its data dir (evb__serve_kafka_prepare), so
 * a bad configuration is a usage error naming the file and line.
 */
#ifndef EVB_SERVE_KAFKA_H
#define EVB_SERVE_KAFKA_H

#include <stdio.h>

#include "kafka/kafka.h"
#include "options.h"

/* Option ids (options.h's Kafka range) */
enum {
    EVB_SERVE_OPT_KAFKA_CONFIG = EVB_CLI_ID_KAFKA,
    EVB_SERVE_OPT_KAFKA_CONFIG_FILE,
    EVB_SERVE_OPT_KAFKA_CLUSTER,
    EVB_SERVE_OPT_EMBEDDED_KAFKA,
};

/* The Kafka group of `evbus serve`'s options (its rows: parsing, --help,
 * man page, reference). */
extern const evb_cli_option_group_t evb__serve_kafka_group;

typedef struct evb__serve_kafka evb__serve_kafka_t;

/* Empty (no Kafka); NULL when memory runs out. */
evb__serve_kafka_t *evb__serve_kafka_new(void);

/* Take one option (a code above; arg NULL for --embedded-kafka). False
 * with a message in why for a malformed one. */
bool evb__serve_kafka_option(evb__serve_kafka_t *k, int opt, const char *arg,
                             char *why, size_t why_size);

/* Read the files and check every cluster's properties (no thread, no
 * socket yet). False with a message naming file and line in why. */
bool evb__serve_kafka_prepare(evb__serve_kafka_t *k, char *why,
                              size_t why_size);

/* Start the embedded cluster if asked for, register the clusters, create
 * their producers, and log each (secrets redacted) on stderr. */
evb_err_t evb__serve_kafka_start(evb__serve_kafka_t *k, char *errstr,
                                 size_t errstr_size);

/* The clusters for the delivery engine; never NULL after a start. */
evb_kafka_clusters_t *evb__serve_kafka_clusters(evb__serve_kafka_t *k);

/* Flush and free the producers, then stop the embedded cluster. NULL is
 * fine. */
void evb__serve_kafka_free(evb__serve_kafka_t *k);

#endif
