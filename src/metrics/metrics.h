/*
 * metrics: counters, gauges and histograms with label sets, and their
 * Prometheus text exposition (format 0.0.4), served at GET /metrics.
 *
 * A registry (evb_metrics_t) holds metric families; a family has a name,
 * a help text, a type and fixed label names; each distinct set of label
 * values is a series (evb_metric_t) created on first use and kept until
 * the registry is freed. Series are found without a lock: a family's
 * series live in an open-addressing table whose slots are published
 * atomically, so a lookup is a hash, a probe and a compare; only the
 * creation of a new series takes the family's mutex. Counters and
 * histograms are striped (EVB_METRICS_STRIPES cache lines, a thread
 * picks one for its life) so that threads updating the same series do
 * not fight over one cache line; exposition sums the stripes.
 *
 * Cardinality is bounded: a family holds at most EVB_METRICS_MAX_SERIES
 * series; beyond that every new label set is counted in one overflow
 * series whose label values are all "__overflow__".
 *
 * Every update function accepts NULL (a family or series that could not
 * be created for lack of memory) and does nothing with it, so
 * instrumentation is one line that never fails.
 *
 * Below the generic registry, the catalogue of evbus's own metrics
 * (named after Amazon EventBridge's CloudWatch metrics, in Prometheus
 * snake case) lives in the process-wide default registry and is updated
 * through one call per event site (evb_metrics_put_events_entry, ...);
 * see eventbridge.c for the names.
 *
 * Thread-safety: everything may be called from any thread.
 */
#ifndef EVB_METRICS_H
#define EVB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

#define EVB_METRICS_MAX_LABELS 4
#define EVB_METRICS_MAX_BUCKETS 24
#define EVB_METRICS_MAX_SERIES 10000
#define EVB_METRICS_STRIPES 4
#define EVB_METRICS_OVERFLOW "__overflow__"

typedef enum evb_metric_type {
    EVB_METRIC_COUNTER,
    EVB_METRIC_GAUGE,
    EVB_METRIC_HISTOGRAM,
} evb_metric_type_t;

typedef struct evb_metrics evb_metrics_t;
typedef struct evb_metric_family evb_metric_family_t;
typedef struct evb_metric evb_metric_t;

/* A new empty registry (NULL when memory runs out); free it with
 * evb_metrics_free once nothing updates its series any more. */
evb_metrics_t *evb_metrics_new(void);
void evb_metrics_free(evb_metrics_t *r);

/* The process-wide registry that evbus's own metrics live in; created on
 * first use, never freed. NULL only if memory ran out then. */
evb_metrics_t *evb_metrics_default(void);

/*
 * Register a family, or find the one already registered under name.
 * labels: NULL-terminated label names (NULL for none), at most
 * EVB_METRICS_MAX_LABELS. buckets: for histograms, the upper bounds in
 * increasing order (at most EVB_METRICS_MAX_BUCKETS; +Inf is implicit);
 * ignored otherwise. Everything is copied.
 * Returns NULL when the name or a label name is not a valid Prometheus
 * name, when name exists with another type or other labels, or when
 * memory runs out.
 */
evb_metric_family_t *evb_metrics_family(evb_metrics_t *r,
                                        evb_metric_type_t type,
                                        const char *name, const char *help,
                                        const char *const *labels,
                                        const double *buckets, size_t nbuckets);

/* The series for these label values (as many as the family has labels;
 * NULL values read as ""), created on first use. NULL only when f is
 * NULL or memory runs out. */
evb_metric_t *evb_metric_series(evb_metric_family_t *f,
                                const char *const *values);
/* Shorthands for families of 0, 1, 2 and 3 labels. */
evb_metric_t *evb_metric_series0(evb_metric_family_t *f);
evb_metric_t *evb_metric_series1(evb_metric_family_t *f, const char *v1);
evb_metric_t *evb_metric_series2(evb_metric_family_t *f, const char *v1,
                                 const char *v2);
evb_metric_t *evb_metric_series3(evb_metric_family_t *f, const char *v1,
                                 const char *v2, const char *v3);

/* Counter: add n. */
void evb_metric_inc(evb_metric_t *m, uint64_t n);
/* Gauge: set, or add a (possibly negative) delta. */
void evb_metric_set(evb_metric_t *m, double v);
void evb_metric_add(evb_metric_t *m, double delta);
/* Histogram: record one observation. */
void evb_metric_observe(evb_metric_t *m, double v);

/* Reading back (tests, health checks). Counter: its value; histogram:
 * the number of observations; gauge: 0. */
uint64_t evb_metric_count(const evb_metric_t *m);
/* Gauge: its value; histogram: the sum of observations; counter: its
 * value as a double. */
double evb_metric_value(const evb_metric_t *m);
/* Histogram: the cumulative count of observations <= bucket i's bound
 * (i == nbuckets: all of them). */
uint64_t evb_metric_bucket(const evb_metric_t *m, size_t i);

/*
 * Collectors run just before each exposition, on the thread rendering,
 * to set gauges from state that is cheaper to read than to track (queue
 * depths, connection counts). evb_metrics_remove_collector waits for a
 * collection in progress, so ud may be freed once it returns.
 */
typedef void (*evb_metrics_collect_fn)(void *ud);
evb_err_t evb_metrics_add_collector(evb_metrics_t *r, evb_metrics_collect_fn fn,
                                    void *ud);
void evb_metrics_remove_collector(evb_metrics_t *r, evb_metrics_collect_fn fn,
                                  void *ud);

/* Append the Prometheus text exposition of every family (in registration
 * order, series in creation order) to out. Families without series are
 * left out. EVB_ERR_NOMEM / EVB_ERR_TOO_LARGE from out. */
evb_err_t evb_metrics_render(evb_metrics_t *r, evb_buf_t *out);

/* The Content-Type of the exposition. */
#define EVB_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* ---- evbus's metrics, in the default registry (eventbridge.c) ----------
 *
 * One call per event site. Label values are copied; NULL reads as "".
 * Counters are named evbus_<cloudwatch_name>_total, e.g. MatchedEvents
 * is evbus_matched_events_total{bus}.
 */

/* Register every family of the catalogue now, so that /metrics lists
 * them (with their HELP and TYPE) before the first event. Idempotent. */
void evb_metrics_init(void);

/* PutEvents: one request (PutEventsApproximateCallCount). */
void evb_metrics_put_events_request(void);
/* One entry accepted on bus ("(unknown)" for an acknowledged entry whose
 * bus does not exist, which is dropped as AWS does). */
void evb_metrics_put_events_entry(const char *bus);
/* One entry refused, by its ErrorCode (InvalidArgument, ...). */
void evb_metrics_put_events_failed_entry(const char *error_code);

/* MatchedEvents: an event on bus matched at least one rule. */
void evb_metrics_matched_event(const char *bus);
/* TriggeredRules: rule of bus matched an event (or its schedule fired). */
void evb_metrics_triggered_rule(const char *bus, const char *rule);
/* ThrottledRules: a rule's invocation was throttled. */
void evb_metrics_throttled_rule(const char *bus, const char *rule);

/* What one delivery attempt to a target came to. */
typedef struct evb_metrics_invocation {
    bool attempted;   /* an invocation was made (InvocationAttempts) */
    bool retry;       /* ... and it was a retry (RetryInvocationAttempts) */
    bool final;       /* the delivery is settled: succeeded or failed for
                         good (Invocations) */
    bool failed;      /* settled as a failure (FailedInvocations) */
    bool sent_to_dlq; /* InvocationsSentToDLQ */
    bool dlq_failed;  /* InvocationsFailedToBeSentToDLQ */
    double success_latency_s; /* >= 0 on success: ingestion to success
                                 (IngestionToInvocationSuccessLatency) */
} evb_metrics_invocation_t;

void evb_metrics_invocation(const char *bus, const char *rule,
                            const char *target,
                            const evb_metrics_invocation_t *inv);

/* The store's group commit: units in the transaction, and the time from
 * BEGIN to the end of COMMIT. */
void evb_metrics_store_commit(size_t units, double seconds);

/* Pipes (src/pipes/runner.c): records read from a pipe's source, batches
 * settled, and a consumer group's lag on one partition (the partition's
 * end offset minus the pipe's committed next offset, every second). */
void evb_metrics_pipe_records(const char *pipe, uint64_t n);
void evb_metrics_pipe_batches(const char *pipe, uint64_t n);
void evb_metrics_pipe_consumer_lag(const char *pipe, const char *topic,
                                   int partition, int64_t lag);

/* The HTTP server: a connection or request refused by a limit
 * (reason: "max_connections", "header_timeout", "body_too_large",
 * "tail_subscribers"), and the gauges of open connections and requests
 * in flight. */
void evb_metrics_http_rejected(const char *reason);
void evb_metrics_http_connections(unsigned open, unsigned inflight);

/* evbus tail: subscribers connected, and subscribers dropped because
 * they did not keep up. */
void evb_metrics_tail_subscribers(int delta);
void evb_metrics_tail_dropped(void);

#endif
