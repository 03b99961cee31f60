/* delivery_internal.h: the delivery engine's pieces (internal). */
#ifndef EVB_DELIVERY_INTERNAL_H
#define EVB_DELIVERY_INTERNAL_H

#include <sqlite3.h>

#include "../transform/transform.h"
#include "delivery.h"

/*
 * A target as the engine compiles it, once per change of the buses' rules
 * and targets (evb_bus_generation) instead of once per delivery: the
 * lookup's strings, its compiled input options, and what the delivery
 * needs from its spec. Immutable once built; shared by the deliveries in
 * flight to it (any thread may read it) and freed with its last
 * reference (delivery.c).
 */
typedef struct evb__ctarget {
    evb_target_ref_t t;  /* arn, spec, rule_arn, rule_name */
    evb_transform_t *tf; /* NULL when the input options do not compile */
    int max_attempts;    /* RetryPolicy.MaximumRetryAttempts (185) */
    int64_t max_age_ms;  /* RetryPolicy.MaximumEventAgeInSeconds (24 h) */
    char *dlq_arn;       /* DeadLetterConfig.Arn, or NULL */
    char *http_params;   /* HttpParameters as compact JSON, or NULL */
} evb__ctarget_t;

/* One due delivery with its event. */
typedef struct due {
    int64_t seq, event_seq, ingested_ms;
    int attempts; /* made so far */
    char *bus, *rule, *target_id;
    char *event_id, *body, *via_bus;
    size_t body_len;
    /* the target, compiled: set by the engine before any kind function
     * runs, and alive until the outcome is settled */
    const evb__ctarget_t *ct;
} due_t;

/* What doing it came to, applied in the batch's store unit. */
typedef enum outcome_kind {
    OUT_DONE,     /* delivered: remove the row */
    OUT_DROPPED,  /* cannot be delivered: remove the row, count it */
    OUT_RETRY,    /* failed, retriable: reschedule (or exhaust) */
    OUT_INFLIGHT, /* an HTTP invocation to submit and wait for */
} outcome_kind_t;

typedef struct http_call {
    /* dest_arn != NULL: to invoke. dest_arn and params are borrowed from
     * the compiled target; body is owned. */
    const char *dest_arn, *params;
    char *body;
    size_t len;
} http_call_t;

typedef struct log_write {
    char *group, *stream, *message;
    int64_t ts_ms;
} log_write_t;

typedef struct forward {
    char *bus;               /* target bus */
    evb_route_hit_t *hits;   /* deliveries it owes there */
    size_t nhits;
} forward_t;

typedef struct queue_write {
    char *arn, *body; /* arn != NULL: a message to queue */
    size_t len;
} queue_write_t;

/* A message for a Kafka topic target (target_kafka.c). */
typedef struct kafka_call {
    char *cluster, *topic; /* topic != NULL: a message to produce */
    char *key;             /* NULL: no key */
    size_t key_len;
    char *value;
    size_t len;
    /* true: not a message but a retriable failure found while preparing
     * it (the schema registry could not be reached); value holds the
     * reason and evb__kafka_submit reports it without producing */
    bool unavailable;
} kafka_call_t;

typedef struct outcome {
    outcome_kind_t kind;
    bool invalid_output;
    log_write_t log;   /* group != NULL: a log event to write */
    forward_t fwd;     /* bus != NULL: an event to forward */
    queue_write_t msg; /* arn != NULL: a message to queue */
    /* for a failed delivery: where dead letters go, and why it failed
     * (borrowed from the compiled target, which outlives the outcome) */
    const char *dlq_arn, *rule_arn, *target_arn;
    const char *error_code;
    char error_message[160];
    bool dead_lettered, dlq_failed;
    bool rate_limited; /* the invocation waited for its rate limit */
    http_call_t http;
    kafka_call_t kafka;
    /* RetryPolicy */
    int max_attempts;
    int64_t max_age_ms;
    const char *exhausted; /* EXHAUSTED_RETRY_CONDITION, when exhausted */
    int64_t next_attempt_ms;
    int attempts; /* OUT_RETRY: made, this one included; else the
                     retries made (a dead letter's RETRY_ATTEMPTS) */
} outcome_t;

void evb__outcome_free(outcome_t *o);
/* delivery_metrics.c: count a settled outcome (after its commit). */
void evb__delivery_metrics(const due_t *d, const outcome_t *o, int64_t now_ms);
char *evb__strdup_delivery(const char *s);

/* Target kinds: fill o for d. */
void evb__target_logs(evb_bus_service_t *svc, const due_t *d,
                      const evb_target_ref_t *t, outcome_t *o);
void evb__target_bus(evb_bus_service_t *svc, const due_t *d,
                     const evb_target_ref_t *t, outcome_t *o);
void evb__target_sqs(evb_bus_service_t *svc, const due_t *d,
                     const evb_target_ref_t *t, outcome_t *o);
void evb__target_apidest(evb_bus_service_t *svc, const due_t *d,
                         const evb_target_ref_t *t, outcome_t *o);
/* Avro encoding of Kafka target values: the codec (borrowed, may be
 * NULL) and a small cache of resolved writers (target_kafka.c). */
typedef struct evb__kafka_writers evb__kafka_writers_t;
/* NULL only when out of memory. */
evb__kafka_writers_t *evb__kafka_writers_new(evb_serde_t *serde);
void evb__kafka_writers_free(evb__kafka_writers_t *w);
void evb__target_kafka(evb_bus_service_t *svc, evb__kafka_writers_t *avro,
                       const due_t *d, const evb_target_ref_t *t,
                       outcome_t *o);

/* Produce o's Kafka message with the producer of its cluster; done(ud,
 * result) follows exactly once, on the producer's thread, or at once on
 * this one when the message cannot even be queued (an unknown cluster:
 * NO_RESOURCE, not retriable). */
void evb__kafka_submit(evb_kafka_clusters_t *clusters, const outcome_t *o,
                       evb_apidest_done_fn done, void *ud);
void evb__kafka_call_free(kafka_call_t *k);

/* Render a target's payload (transform) for d into *body; false when it
 * cannot be delivered (o->invalid_output says if the template was bad).
 * Uses d->ct's compiled transform when there is one. */
bool evb__render_payload(const due_t *d, const evb_target_ref_t *t,
                         outcome_t *o, evb_buf_t *body);

/* The HttpParameters member of a target's spec as compact JSON text
 * (heap; NULL when there is none). */
char *evb__target_http_parameters(const char *spec);

/* Store side of the queue target and of dead letters (in the batch's
 * unit). Fails the unit only for store errors; a missing queue turns the
 * outcome into a failure (and a dead letter when there is a DLQ). */
evb_err_t evb__sqs_write(sqlite3 *db, const due_t *d, outcome_t *o,
                         char *errstr, size_t errstr_size);

/* Store side of the log target: write one log event, creating the group
 * first if needed when ensure_group (false: the unit knows it exists). */
evb_err_t evb__logs_write(sqlite3 *db, const char *account,
                          const char *region, const log_write_t *w,
                          bool ensure_group, int64_t now_ms, char *errstr,
                          size_t errstr_size);

#endif
