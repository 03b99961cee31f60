/*
 * target_sqs.c: queues of the built-in SQS-compatible service as targets,
 * and dead-letter queues.
 *
 * The payload is the event or the target's transformed input (reference
 * §3); the message is written inside the delivery batch's store unit, so
 * it is queued exactly when the delivery is settled. A queue that does not
 * exist is a failure EventBridge does not retry (NO_RESOURCE): the
 * original event goes to the target's dead-letter queue if it has one
 * (reference §4.2: body = the event; attributes RULE_ARN, TARGET_ARN,
 * ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS), else it is dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../json/json.h"
#include "../transform/transform.h"
#include "delivery_internal.h"

bool evb__render_payload(const due_t *d, const evb_target_ref_t *t,
                         outcome_t *o, evb_buf_t *body) {
    evb_transform_t *own = NULL;
    const evb_transform_t *tf = d->ct ? d->ct->tf : NULL;
    char err[256];
    if (d->ct && !tf)
        return false; /* its input options do not compile */
    if (!tf) {
        if (evb_transform_compile_json(t->spec, strlen(t->spec), 1, &own, err,
                                       sizeof err))
            return false;
        tf = own;
    }
    char ingest[32];
    time_t secs = (time_t)(d->ingested_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(ingest, sizeof ingest, "%Y-%m-%dT%H:%M:%SZ", &tm);
    evb_transform_vars_t vars = {t->rule_arn, t->rule_name, ingest};
    evb_err_t e = evb_transform_apply(tf, d->body, d->body_len, &vars, body,
                                      err, sizeof err);
    evb_transform_free(own);
    if (e) {
        o->invalid_output = e == EVB_TRANSFORM_ERR_UNDELIVERABLE;
        evb_buf_free(body);
        return false;
    }
    return true;
}

void evb__target_sqs(evb_bus_service_t *svc, const due_t *d,
                     const evb_target_ref_t *t, outcome_t *o) {
    (void)svc;
    o->kind = OUT_DROPPED;
    evb_buf_t body;
    evb_buf_init(&body, 0);
    if (!evb__render_payload(d, t, o, &body))
        return;
    o->msg.arn = evb__strdup_delivery(t->arn);
    o->msg.body = body.data ? body.data : evb__strdup_delivery("");
    o->msg.len = body.len;
    if (!o->msg.arn || !o->msg.body) {
        evb__outcome_free(o);
        o->kind = OUT_DROPPED;
        return;
    }
    o->kind = OUT_DONE;
}

/* Send the original event to the outcome's dead-letter queue. */
static evb_err_t dead_letter(sqlite3 *db, const due_t *d, outcome_t *o,
                             char *errstr, size_t errstr_size) {
    char attempts[16];
    snprintf(attempts, sizeof attempts, "%d", o->attempts);
    evb_queue_msg_attr_t attrs[6] = {
        {"RULE_ARN", "String", o->rule_arn, strlen(o->rule_arn), false},
        {"TARGET_ARN", "String", o->target_arn, strlen(o->target_arn), false},
        {"ERROR_CODE", "String", o->error_code, strlen(o->error_code), false},
        {"ERROR_MESSAGE", "String", o->error_message,
         strlen(o->error_message), false},
        {"RETRY_ATTEMPTS", "Number", attempts, strlen(attempts), false},
    };
    size_t n = 5;
    if (o->exhausted)
        attrs[n++] = (evb_queue_msg_attr_t){"EXHAUSTED_RETRY_CONDITION",
                                            "String", o->exhausted,
                                            strlen(o->exhausted), false};
    char why[256];
    evb_queue_err_t qe = evb_queue_send_from_target(
        db, o->dlq_arn, d->body, d->body_len, attrs, n, NULL, why, sizeof why);
    if (qe == EVB_QUEUE_ERR_IO || qe == EVB_QUEUE_ERR_NOMEM)
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "dead-lettering: %s", why);
    if (qe == EVB_QUEUE_ERR_OK)
        o->dead_lettered = true;
    else
        o->dlq_failed = true; /* counted: InvocationsFailedToBeSentToDLQ */
    return EVB_ERR_OK;
}

evb_err_t evb__sqs_write(sqlite3 *db, const due_t *d, outcome_t *o,
                         char *errstr, size_t errstr_size) {
    if (o->msg.arn) {
        char why[160];
        evb_queue_err_t qe = evb_queue_send_from_target(
            db, o->msg.arn, o->msg.body, o->msg.len, NULL, 0, NULL, why,
            sizeof why);
        if (qe == EVB_QUEUE_ERR_IO || qe == EVB_QUEUE_ERR_NOMEM)
            return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                               "queueing a delivery: %s", why);
        if (qe != EVB_QUEUE_ERR_OK) {
            o->kind = OUT_DROPPED;
            o->error_code =
                qe == EVB_QUEUE_ERR_NOT_FOUND ? "NO_RESOURCE" : "SDK_CLIENT_ERROR";
            snprintf(o->error_message, sizeof o->error_message, "%s", why);
        }
    }
    if (o->kind == OUT_DROPPED && o->error_code && o->dlq_arn)
        return dead_letter(db, d, o, errstr, errstr_size);
    return EVB_ERR_OK;
}
