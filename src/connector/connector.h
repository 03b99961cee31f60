/*
 * connector: the EventBridge sink connector for Kafka, without Kafka
 * Connect (`evbus connector --config FILE`).
 *
 * It reads Kafka topics in a consumer group and sends every record to an
 * EventBridge-compatible endpoint (evbus itself, or Amazon EventBridge
 * with AWS Signature V4) with PutEvents, in exactly the shape of the
 * upstream connector (awslabs/eventbridge-kafka-connector; reference
 * kafka-connector.md section 2): source "kafka-connect." + id, a detail
 * type from one of its strategies, and a detail object whose keys are, in
 * this order, topic, partition, offset, timestamp, timestampType,
 * headers, key and value.
 *
 * Where upstream loses records or wastes time, evbus does better:
 * exponential backoff with jitter (no constant delay, no sleep after a
 * success), per-entry ThrottlingException and InternalFailure retried,
 * Kafka offsets committed only once every record before them was sent or
 * dead-lettered, and failed records produced to a dead-letter topic with
 * Kafka Connect's __connect.errors.* headers.
 *
 * Design. One table (config.c) describes every property: it drives the
 * parser of both file forms (a JSON object or a Java .properties file),
 * the defaults, the validation and the reference section of
 * docs/cli/connector.md (evb_connector_config_doc). A run is a loop of
 * cycles: poll up to evbus.poll.max.records records, convert and map
 * them (mapping.c, convert.c), pack them into PutEvents batches (at most
 * 10 entries within the size limit), send the batches a few at a time
 * over libcurl (putevents.c) until every record succeeded or failed for
 * good, dead-letter the failures, then commit each partition's offset
 * past the records that are settled (runner.c). A crash therefore re-sends
 * at most the last cycle.
 *
 * Threads: one. Nothing here is shared between threads, except that
 * evb_connector_stop may be called from a signal handler.
 */
#ifndef EVB_CONNECTOR_H
#define EVB_CONNECTOR_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "../kafka/kafka.h"

/* ---- configuration -------------------------------------------------------
 */

typedef struct evb_connector_config evb_connector_config_t;

/*
 * Parse a connector configuration. The text is a JSON object when its
 * first non-blank character is '{' (either the flat property object, or
 * Kafka Connect's REST form {"name": ..., "config": {...}}; values are
 * strings, numbers or booleans), otherwise a Java .properties text (the
 * Kafka module's reader). name (e.g. the file name) prefixes messages.
 * Every property is checked against the table: unknown names, bad values,
 * missing required properties and contradictions are EVB_ERR_INVALID_ARG
 * with "NAME[:LINE]: property: reason". librdkafka properties (kafka.*,
 * consumer.override.*, producer.override.*) are checked by librdkafka.
 * On success *out is the caller's (evb_connector_config_free).
 */
evb_err_t evb_connector_config_parse(const char *text, size_t len,
                                     const char *name,
                                     evb_connector_config_t **out, char *errstr,
                                     size_t errstr_size);

/* The same from a file (EVB_ERR_IO when it cannot be read). */
evb_err_t evb_connector_config_load(const char *path,
                                    evb_connector_config_t **out, char *errstr,
                                    size_t errstr_size);

void evb_connector_config_free(evb_connector_config_t *c);

/* The effective value of a table property (the given value or its
 * default, "" for an empty default), NULL for a name the table does not
 * have. Borrowed from c. */
const char *evb_connector_config_get(const evb_connector_config_t *c,
                                     const char *name);

/* "key=value" lines of the effective configuration, secrets redacted. */
evb_err_t evb_connector_config_describe(const evb_connector_config_t *c,
                                        evb_buf_t *out);

/* The reference table of every property (Markdown), generated from the
 * same table the parser uses; docs/cli/connector.md holds a copy that a
 * test compares. */
evb_err_t evb_connector_config_doc(evb_buf_t *out);

/* ---- records and events ------------------------------------------------- */

/* A Kafka record as the mapper sees it. Pointers are borrowed. */
typedef struct evb_connector_record {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* -1: none */
    evb_kafka_ts_type_t timestamp_type;
    const void *key; /* NULL: a null key */
    size_t key_len;
    const void *value; /* NULL: a tombstone */
    size_t value_len;
    const evb_kafka_header_t *headers; /* value NULL: a null header */
    size_t nheaders;
} evb_connector_record_t;

/* Why a record could not be turned into an event, or was refused: what a
 * dead letter's __connect.errors.* headers say. */
typedef struct evb_connector_failure {
    /* Kafka Connect's stage: "KEY_CONVERTER", "VALUE_CONVERTER",
     * "HEADER_CONVERTER", "TASK_PUT" */
    const char *stage;
    /* the class Kafka Connect would name (the converter's, or the sink
     * task's) */
    const char *class_name;
    /* the exception class ("org.apache.kafka.connect.errors.DataException",
     * ...) */
    const char *exception;
    char message[600];
} evb_connector_failure_t;

typedef struct evb_connector_mapper evb_connector_mapper_t;

/*
 * A mapper for configuration c (c must outlive it): the key and value
 * converters (registry clients for Avro), the detail-type strategy and
 * the fixed parts of each entry. Errors: EVB_ERR_INVALID_ARG,
 * EVB_ERR_NOMEM. Free with evb_connector_mapper_free.
 */
evb_err_t evb_connector_mapper_new(const evb_connector_config_t *c,
                                   evb_connector_mapper_t **out, char *errstr,
                                   size_t errstr_size);
void evb_connector_mapper_free(evb_connector_mapper_t *m);

/*
 * Map record r to one PutEvents request entry (a JSON object: Source,
 * DetailType, Detail, EventBusName and Resources when configured),
 * appended to entry. *size is the entry's size by EventBridge's formula
 * (UTF-8 bytes of Source, DetailType, Detail and each Resource). A record
 * that cannot be converted is EVB_ERR_INVALID_ARG with *why filled (entry
 * keeps its length); EVB_ERR_NOMEM otherwise.
 */
evb_err_t evb_connector_map(evb_connector_mapper_t *m,
                            const evb_connector_record_t *r, evb_buf_t *entry,
                            size_t *size, evb_connector_failure_t *why);

/* The detail object alone (for tests): appended to out. */
evb_err_t evb_connector_map_detail(evb_connector_mapper_t *m,
                                   const evb_connector_record_t *r,
                                   evb_buf_t *out, evb_buf_t *detail_type,
                                   evb_connector_failure_t *why);

/*
 * Greedy packing of entries (their sizes, in order) into PutEvents
 * batches, as upstream's DefaultEventBridgeBatching: a batch is closed
 * when it holds max_entries, or when the next entry would take it past
 * max_bytes. An entry larger than max_bytes is alone in its batch.
 * ends[i] receives the index one past the last entry of batch i; returns
 * the number of batches (ends must have room for n).
 */
size_t evb_connector_batch_plan(const size_t *sizes, size_t n,
                                size_t max_entries, size_t max_bytes,
                                size_t *ends);

/* ---- AWS credentials ----------------------------------------------------
 */

typedef struct evb_connector_credentials {
    char access_key_id[129];
    char secret_access_key[257];
    char session_token[2048]; /* "" when none */
    char source[1400];        /* "environment", "FILE [profile]" */
} evb_connector_credentials_t;

/*
 * Find credentials as the AWS SDKs' default chain does, in part: with a
 * profile name (the aws.eventbridge.iam.profile.name property), that
 * profile of the shared credentials file; otherwise AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) from the environment;
 * otherwise the profile AWS_PROFILE (or "default") of the shared
 * credentials file (AWS_SHARED_CREDENTIALS_FILE, or ~/.aws/credentials).
 * Returns EVB_ERR_NOT_FOUND when there are none (not an error for an
 * endpoint that does not check signatures), EVB_ERR_INVALID_ARG for a
 * named profile that is missing or incomplete, EVB_ERR_IO for a file that
 * cannot be read. Messages never hold a secret.
 */
evb_err_t evb_connector_credentials_find(const char *profile,
                                         evb_connector_credentials_t *out,
                                         char *errstr, size_t errstr_size);

/* ---- running ------------------------------------------------------------ */

typedef struct evb_connector evb_connector_t;

/* Counters since the start. */
typedef struct evb_connector_stats {
    uint64_t records;       /* records consumed */
    uint64_t sent;          /* accepted by PutEvents (EventId) */
    uint64_t dead_lettered; /* produced to the dead-letter topic */
    uint64_t skipped;       /* failed, tolerated, no dead-letter topic */
    uint64_t requests;      /* PutEvents calls */
    uint64_t retries;       /* calls that were retries */
    uint64_t commits;       /* offset commits */
} evb_connector_stats_t;

/*
 * A connector for configuration c (c must outlive it): the mapper, the
 * HTTP client, the credentials (found now, so bad ones fail at once) and
 * the dead-letter producer; the consumer joins its group when run starts.
 * Errors: EVB_ERR_INVALID_ARG (with the reason), EVB_ERR_NOMEM,
 * EVB_ERR_INTERNAL.
 */
evb_err_t evb_connector_new(const evb_connector_config_t *c,
                            evb_connector_t **out, char *errstr,
                            size_t errstr_size);

/*
 * Run until evb_connector_stop (EVB_ERR_OK: records in flight are either
 * finished or left uncommitted) or until the task fails (an error, with
 * the reason: retries exhausted, a record refused under
 * errors.tolerance=none, the dead-letter topic failing, a fatal Kafka
 * error). Offsets of records not settled are never committed, so a
 * restart re-reads them.
 */
evb_err_t evb_connector_run(evb_connector_t *k, char *errstr,
                            size_t errstr_size);

/* Ask run to return. Async-signal-safe. */
void evb_connector_stop(evb_connector_t *k);

void evb_connector_get_stats(const evb_connector_t *k,
                             evb_connector_stats_t *out);

/* Leave the consumer group, flush and free. NULL is fine. */
void evb_connector_free(evb_connector_t *k);

#endif
