/*
 * eventbridge.c: the catalogue of evbus's own metrics (metrics.h), in the
 * default registry.
 *
 * Names follow Amazon EventBridge's CloudWatch metrics (namespace
 * AWS/Events) in Prometheus form: snake case, counters ending in _total,
 * latencies in seconds. The HELP text of each names the CloudWatch metric
 * it stands for. Labels stand for CloudWatch's dimensions: bus
 * (EventBusName), rule (RuleName), target (the target's Id).
 *
 *   evbus_put_events_requests_total          PutEventsApproximateCallCount
 *   evbus_put_events_entries_total{bus}      PutEventsApproximateSuccessCount
 *   evbus_put_events_failed_entries_total{error_code}
 *                                            PutEventsApproximateFailedCount
 *   evbus_matched_events_total{bus}          MatchedEvents
 *   evbus_triggered_rules_total{bus,rule}    TriggeredRules
 *   evbus_throttled_rules_total{bus,rule}    ThrottledRules
 *   evbus_invocations_total{bus,rule,target} Invocations
 *   evbus_failed_invocations_total{...}      FailedInvocations
 *   evbus_invocation_attempts_total{...}     InvocationAttempts
 *   evbus_retry_invocation_attempts_total{...}  RetryInvocationAttempts
 *   evbus_invocations_sent_to_dlq_total{...} InvocationsSentToDLQ
 *   evbus_invocations_failed_to_be_sent_to_dlq_total{...}
 *                                            InvocationsFailedToBeSentToDLQ
 *   evbus_ingestion_to_invocation_success_latency_seconds{...} (histogram)
 *                                            IngestionToInvocationSuccessLatency
 *   evbus_store_commit_seconds, evbus_store_group_commit_units (histograms)
 *   evbus_pipe_records_total{pipe}, evbus_pipe_batches_total{pipe},
 *   evbus_pipe_consumer_lag{pipe,topic,partition}
 *   evbus_http_rejected_total{reason}, evbus_http_connections,
 *   evbus_http_requests_in_flight, evbus_tail_subscribers,
 *   evbus_tail_dropped_total
 *
 * The families are registered once (pthread_once); each event site then
 * costs a lock-free series lookup and an atomic add.
 */
#include <pthread.h>
#include <stdio.h>

#include "metrics.h"

static const double latency_buckets[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5,   1,      2.5,   5,    10,    30,   60,  300,
};
static const double commit_buckets[] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,  0.05,    0.1,    0.25,  0.5,    1,
};
static const double group_buckets[] = {1,  2,   4,   8,   16,  32,
                                       64, 128, 256, 512, 1024};

static struct {
    evb_metric_family_t *put_requests, *put_entries, *put_failed;
    evb_metric_family_t *matched, *triggered, *throttled;
    evb_metric_family_t *invocations, *failed, *attempts, *retries;
    evb_metric_family_t *dlq_sent, *dlq_failed, *latency;
    evb_metric_family_t *commit_s, *commit_units;
    evb_metric_family_t *pipe_records, *pipe_batches, *pipe_lag;
    evb_metric_family_t *http_rejected, *http_conns, *http_inflight;
    evb_metric_family_t *tail_subs, *tail_dropped;
} fam;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static evb_metric_family_t *counter(const char *name, const char *help,
                                    const char *const *labels) {
    return evb_metrics_family(evb_metrics_default(), EVB_METRIC_COUNTER, name,
                              help, labels, NULL, 0);
}

static evb_metric_family_t *gauge(const char *name, const char *help,
                                  const char *const *labels) {
    return evb_metrics_family(evb_metrics_default(), EVB_METRIC_GAUGE, name,
                              help, labels, NULL, 0);
}

static evb_metric_family_t *histogram(const char *name, const char *help,
                                      const char *const *labels,
                                      const double *b, size_t n) {
    return evb_metrics_family(evb_metrics_default(), EVB_METRIC_HISTOGRAM, name,
                              help, labels, b, n);
}

static void init_families(void) {
    static const char *const bus[] = {"bus", NULL};
    static const char *const code[] = {"error_code", NULL};
    static const char *const rule[] = {"bus", "rule", NULL};
    static const char *const target[] = {"bus", "rule", "target", NULL};
    static const char *const pipe[] = {"pipe", NULL};
    static const char *const lag[] = {"pipe", "topic", "partition", NULL};
    static const char *const reason[] = {"reason", NULL};

    fam.put_requests = counter(
        "evbus_put_events_requests_total",
        "PutEvents requests answered (PutEventsApproximateCallCount).", NULL);
    fam.put_entries =
        counter("evbus_put_events_entries_total",
                "PutEvents entries accepted, by event bus; (unknown) for "
                "entries acknowledged for a bus that does not exist "
                "(PutEventsApproximateSuccessCount).",
                bus);
    fam.put_failed = counter("evbus_put_events_failed_entries_total",
                             "PutEvents entries refused, by ErrorCode "
                             "(PutEventsApproximateFailedCount).",
                             code);
    fam.matched = counter("evbus_matched_events_total",
                          "Events that matched at least one rule "
                          "(MatchedEvents).",
                          bus);
    fam.triggered = counter("evbus_triggered_rules_total",
                            "Times a rule matched an event or its schedule "
                            "fired (TriggeredRules).",
                            rule);
    fam.throttled = counter("evbus_throttled_rules_total",
                            "Rule invocations throttled: the target answered "
                            "429, or the invocation waited for its API "
                            "destination's rate limit (ThrottledRules).",
                            rule);
    fam.invocations = counter("evbus_invocations_total",
                              "Deliveries to a target settled, successfully "
                              "or not; retried attempts count once they "
                              "settle (Invocations).",
                              target);
    fam.failed = counter("evbus_failed_invocations_total",
                         "Deliveries that failed for good and were not "
                         "sent to a dead-letter queue (FailedInvocations).",
                         target);
    fam.attempts = counter("evbus_invocation_attempts_total",
                           "Invocation attempts, retries included "
                           "(InvocationAttempts).",
                           target);
    fam.retries = counter("evbus_retry_invocation_attempts_total",
                          "Invocation attempts that were retries "
                          "(RetryInvocationAttempts).",
                          target);
    fam.dlq_sent = counter("evbus_invocations_sent_to_dlq_total",
                           "Failed deliveries sent to the target's "
                           "dead-letter queue (InvocationsSentToDLQ).",
                           target);
    fam.dlq_failed =
        counter("evbus_invocations_failed_to_be_sent_to_dlq_total",
                "Failed deliveries that could not be sent to the "
                "dead-letter queue (InvocationsFailedToBeSentToDLQ).",
                target);
    fam.latency =
        histogram("evbus_ingestion_to_invocation_success_latency_seconds",
                  "Time from the event's ingestion to its successful delivery "
                  "(IngestionToInvocationSuccessLatency).",
                  target, latency_buckets, EVB_ARRAY_LEN(latency_buckets));
    fam.commit_s =
        histogram("evbus_store_commit_seconds",
                  "Duration of a group commit of the store, "
                  "BEGIN to durable COMMIT.",
                  NULL, commit_buckets, EVB_ARRAY_LEN(commit_buckets));
    fam.commit_units =
        histogram("evbus_store_group_commit_units",
                  "Units of work committed together in one "
                  "group commit.",
                  NULL, group_buckets, EVB_ARRAY_LEN(group_buckets));
    fam.pipe_records = counter("evbus_pipe_records_total",
                               "Records a pipe read from its source.", pipe);
    fam.pipe_batches = counter("evbus_pipe_batches_total",
                               "Batches a pipe settled (its target took them, "
                               "offsets recorded).",
                               pipe);
    fam.pipe_lag = gauge("evbus_pipe_consumer_lag",
                         "Records of a partition a pipe's consumer group has "
                         "not read yet.",
                         lag);
    fam.http_rejected = counter("evbus_http_rejected_total",
                                "Connections or requests refused by a limit "
                                "(503, 413, or closed).",
                                reason);
    fam.http_conns =
        gauge("evbus_http_connections", "Open HTTP connections.", NULL);
    fam.http_inflight =
        gauge("evbus_http_requests_in_flight",
              "HTTP requests received and not yet answered.", NULL);
    fam.tail_subs = gauge("evbus_tail_subscribers",
                          "Clients of GET /_evbus/tail (evbus tail).", NULL);
    fam.tail_dropped = counter("evbus_tail_dropped_total",
                               "evbus tail clients disconnected because they "
                               "did not keep up.",
                               NULL);

    /* series without labels exist from the start, at 0 */
    evb_metric_series0(fam.put_requests);
    evb_metric_series0(fam.commit_s);
    evb_metric_series0(fam.commit_units);
    evb_metric_series0(fam.http_conns);
    evb_metric_series0(fam.http_inflight);
    evb_metric_series0(fam.tail_subs);
    evb_metric_series0(fam.tail_dropped);
}

void evb_metrics_init(void) {
    pthread_once(&once, init_families);
}

/* Every entry point: families ready. pthread_once is one load once done. */
#define READY() pthread_once(&once, init_families)

void evb_metrics_put_events_request(void) {
    READY();
    evb_metric_inc(evb_metric_series0(fam.put_requests), 1);
}

void evb_metrics_put_events_entry(const char *bus) {
    READY();
    evb_metric_inc(evb_metric_series1(fam.put_entries, bus), 1);
}

void evb_metrics_put_events_failed_entry(const char *error_code) {
    READY();
    evb_metric_inc(evb_metric_series1(fam.put_failed, error_code), 1);
}

void evb_metrics_matched_event(const char *bus) {
    READY();
    evb_metric_inc(evb_metric_series1(fam.matched, bus), 1);
}

void evb_metrics_triggered_rule(const char *bus, const char *rule) {
    READY();
    evb_metric_inc(evb_metric_series2(fam.triggered, bus, rule), 1);
}

void evb_metrics_throttled_rule(const char *bus, const char *rule) {
    READY();
    evb_metric_inc(evb_metric_series2(fam.throttled, bus, rule), 1);
}

void evb_metrics_invocation(const char *bus, const char *rule,
                            const char *target,
                            const evb_metrics_invocation_t *inv) {
    READY();
    const char *v[3] = {bus, rule, target};
    if (inv->attempted)
        evb_metric_inc(evb_metric_series(fam.attempts, v), 1);
    if (inv->attempted && inv->retry)
        evb_metric_inc(evb_metric_series(fam.retries, v), 1);
    if (inv->final)
        evb_metric_inc(evb_metric_series(fam.invocations, v), 1);
    if (inv->failed && !inv->sent_to_dlq)
        evb_metric_inc(evb_metric_series(fam.failed, v), 1);
    if (inv->sent_to_dlq)
        evb_metric_inc(evb_metric_series(fam.dlq_sent, v), 1);
    if (inv->dlq_failed)
        evb_metric_inc(evb_metric_series(fam.dlq_failed, v), 1);
    if (inv->success_latency_s >= 0)
        evb_metric_observe(evb_metric_series(fam.latency, v),
                           inv->success_latency_s);
}

void evb_metrics_store_commit(size_t units, double seconds) {
    READY();
    evb_metric_observe(evb_metric_series0(fam.commit_s), seconds);
    evb_metric_observe(evb_metric_series0(fam.commit_units), (double)units);
}

void evb_metrics_pipe_records(const char *pipe, uint64_t n) {
    READY();
    evb_metric_inc(evb_metric_series1(fam.pipe_records, pipe), n);
}

void evb_metrics_pipe_batches(const char *pipe, uint64_t n) {
    READY();
    evb_metric_inc(evb_metric_series1(fam.pipe_batches, pipe), n);
}

void evb_metrics_pipe_consumer_lag(const char *pipe, const char *topic,
                                   int partition, int64_t lag) {
    READY();
    char p[16];
    snprintf(p, sizeof p, "%d", partition);
    evb_metric_set(evb_metric_series3(fam.pipe_lag, pipe, topic, p),
                   (double)lag);
}

void evb_metrics_http_rejected(const char *reason) {
    READY();
    evb_metric_inc(evb_metric_series1(fam.http_rejected, reason), 1);
}

void evb_metrics_http_connections(unsigned open, unsigned inflight) {
    READY();
    evb_metric_set(evb_metric_series0(fam.http_conns), open);
    evb_metric_set(evb_metric_series0(fam.http_inflight), inflight);
}

void evb_metrics_tail_subscribers(int delta) {
    READY();
    evb_metric_add(evb_metric_series0(fam.tail_subs), delta);
}

void evb_metrics_tail_dropped(void) {
    READY();
    evb_metric_inc(evb_metric_series0(fam.tail_dropped), 1);
}
