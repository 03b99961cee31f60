/*
 * delivery: the worker that carries out the deliveries PutEvents committed.
 *
 * It reads due deliveries from the store (the outbox), works out each
 * target's payload (transform), performs the delivery, and records the
 * outcome in a store unit; a row leaves the outbox only in the unit that
 * records its outcome, so a crash at any point leaves every delivery
 * either done or still pending: delivery is at least once. Reading,
 * invoking and recording overlap (delivery.c): no delivery waits for
 * another one to finish.
 * One file per kind of target: target_logs.c (CloudWatch Logs log groups,
 * stored in this store and served by the Logs API), target_bus.c (another
 * bus of the account, one hop only) and target_sqs.c (queues of the
 * built-in SQS-compatible service).
 *
 * A delivery that cannot be made (its queue does not exist) goes to the
 * target's dead-letter queue when it has one (DeadLetterConfig.Arn, with
 * EventBridge's RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE and
 * RETRY_ATTEMPTS attributes, the original event as the body), else it is
 * dropped and counted. API destinations (target_apidest.c) are invoked
 * through the libcurl invoker; a retriable failure (401, 407, 409, 429,
 * 5xx, timeouts, network errors) reschedules the delivery with
 * exponential backoff and jitter until the target's RetryPolicy
 * (MaximumRetryAttempts 0..185, default 185; MaximumEventAgeInSeconds
 * 60..86400, default 86400) is exhausted, and then dead-letters it with
 * EXHAUSTED_RETRY_CONDITION. Pending retries are rows: they survive a
 * restart.
 */
#ifndef EVB_DELIVERY_H
#define EVB_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "../apidest/apidest.h"
#include "../bus/bus.h"
#include "../common/common.h"
#include "../kafka/kafka.h"
#include "../queue/queue.h"
#include "../serde/serde.h"
#include "../store/store.h"

typedef struct evb_delivery evb_delivery_t;

typedef struct evb_delivery_config {
    unsigned batch;   /* most deliveries read at once; 0 = 1024 */
    unsigned poll_ms; /* safety sweep of the whole outbox; 0 = 1000 */
    evb_queue_service_t *queues; /* woken after messages are queued; may
                                    be NULL */
    evb_apidest_invoker_t *invoker; /* API destinations; may be NULL */
    evb_kafka_clusters_t *kafka;    /* Kafka topic targets' clusters; may be
                                       NULL (every cluster is then unknown) */
    evb_serde_t *serde; /* Avro encoding of Kafka target values
                           (KafkaParameters.ValueSchemaSubject); borrowed,
                           must outlive the engine; may be NULL (such
                           targets then fail with INVALID_PARAMETERS) */
} evb_delivery_config_t;

typedef struct evb_delivery_stats {
    uint64_t delivered;      /* done */
    uint64_t dropped;        /* could not be delivered (see log) */
    uint64_t invalid_output; /* transformer output was not valid JSON */
    uint64_t forwarded;      /* events sent on to another bus */
    uint64_t retried;        /* rescheduled after a retriable failure */
    uint64_t dead_lettered;  /* sent to a dead-letter queue */
    uint64_t dlq_failed;     /* could not be sent to the dead-letter queue */
} evb_delivery_stats_t;

/* Create the engine. With start_thread true it runs on two threads of its
 * own (a worker and a settler) and wakes on every store commit (a commit
 * hook) as well as on evb_delivery_kick. With start_thread false nothing
 * runs in the background and the caller drives it with
 * evb_delivery_run_once. */
evb_err_t evb_delivery_new(const evb_delivery_config_t *cfg,
                           evb_store_t *store, evb_bus_service_t *bus,
                           bool start_thread, evb_delivery_t **out,
                           char *errstr, size_t errstr_size);

/* Wake the worker: new deliveries were committed. Cheap; any thread. */
void evb_delivery_kick(evb_delivery_t *d);

/* Deliver everything due now, in batches, waiting for each batch's
 * invocations; *done counts the outcomes recorded (delivered, dropped or
 * rescheduled). Only for an engine without threads (with them it just
 * kicks). */
evb_err_t evb_delivery_run_once(evb_delivery_t *d, size_t *done,
                                char *errstr, size_t errstr_size);

void evb_delivery_get_stats(evb_delivery_t *d, evb_delivery_stats_t *out);

/*
 * PutTargets check of a Kafka topic target (target_kafka.c): arn must be
 * arn:aws:kafka:REGION:ACCOUNT:topic/CLUSTER/TOPIC or MSK's
 * .../topic/CLUSTER/UUID/TOPIC, and target_json's KafkaParameters (an
 * object whose only member is PartitionKeyPath) and the key's JSONPath
 * (KafkaParameters.PartitionKeyPath or KinesisParameters.PartitionKeyPath,
 * the InputPath syntax) must be valid. EVB_ERR_INVALID_ARG with a
 * ValidationException message. Whether the cluster exists is not checked:
 * a delivery to an unknown cluster fails with NO_RESOURCE.
 */
evb_err_t evb_delivery_kafka_target_check(const char *target_id,
                                          const char *arn,
                                          const char *target_json, size_t len,
                                          char *errstr, size_t errstr_size);

/* Stop the engine and free it: no more reads; invocations still waiting
 * on a rate limit are cancelled (their rows stay pending, not counted as
 * attempts); those already sent finish within the invoker's timeout and
 * are recorded. */
void evb_delivery_free(evb_delivery_t *d);

#endif
