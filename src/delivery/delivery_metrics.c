/*
 * delivery_metrics.c: what a settled delivery means for the EventBridge
 * metrics (metrics.h), kept apart from the engine so that delivery.c
 * reports each outcome with one call after its batch commits.
 *
 * An attempt is an invocation that was made: it succeeded (OUT_DONE),
 * failed and will be retried (OUT_RETRY), or failed for good with an
 * error code (OUT_DROPPED). A delivery dropped without an error code was
 * never attempted (its transformer's output was not valid JSON, or the
 * kind of target is not served); it still settles as a failed
 * invocation. One whose rule or target was removed meanwhile is not
 * counted at all. A target answering 429 (THROTTLING) counts as a
 * throttled rule.
 */
#include <string.h>

#include "../metrics/metrics.h"
#include "delivery_internal.h"

void evb__delivery_metrics(const due_t *d, const outcome_t *o, int64_t now_ms) {
    if (!o->target_arn) /* the rule or target is gone */
        return;
    evb_metrics_invocation_t m = {.success_latency_s = -1};
    m.attempted =
        o->kind == OUT_DONE || o->kind == OUT_RETRY || o->error_code != NULL;
    m.retry = d->attempts > 0;
    m.final = o->kind != OUT_RETRY;
    m.failed = o->kind == OUT_DROPPED;
    m.sent_to_dlq = o->dead_lettered;
    m.dlq_failed = o->dlq_failed;
    if (o->kind == OUT_DONE)
        m.success_latency_s = now_ms > d->ingested_ms
                                  ? (double)(now_ms - d->ingested_ms) / 1e3
                                  : 0;
    evb_metrics_invocation(d->bus, d->rule, d->target_id, &m);
    /* throttled: the target answered 429, or the invocation had to wait
     * for the API destination's InvocationRateLimitPerSecond */
    if (o->rate_limited ||
        (o->error_code && strcmp(o->error_code, "THROTTLING") == 0))
        evb_metrics_throttled_rule(d->bus, d->rule);
}
