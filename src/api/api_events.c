/*
 * api_events.c: the EventBridge API (X-Amz-Target prefix AWSEvents, AWS
 * JSON 1.1), one function per action, in the order of the action table
 * at the bottom. Each action does what EventBridge does, with its
 * exception names and, where AWS documents or was recorded saying them,
 * its messages (see the compatibility reference, section 1).
 *
 * Only TestEventPattern exists so far; the control plane (buses, rules,
 * targets) and PutEvents arrive with the store.
 */
#include <stdbool.h>
#include <string.h>

#include "../pattern/pattern.h"
#include "api_internal.h"

/* botocore's model: EventPattern is a string of at most 4096 characters. */
#define EVENT_PATTERN_MAX 4096

/*
 * TestEventPattern {EventPattern*, Event*} -> {Result}
 *
 * Checks in AWS's order: both members present (ValidationException "...
 * Member must not be null"), the pattern's modelled length, then the
 * event (a JSON object with id, source, detail-type, account, region and
 * time, else ValidationException "Parameter Event is not valid."), then
 * the pattern (InvalidEventPatternException with the engine's reason).
 */
static void test_event_pattern(evb__api_call_t *call) {
    const char *pattern, *event;
    size_t plen, elen;
    evb__api_string_member(call, "EventPattern", "eventPattern", true,
                           EVENT_PATTERN_MAX, &pattern, &plen);
    evb__api_string_member(call, "Event", "event", true, 0, &event, &elen);
    if (!evb__api_validated(call))
        return;

    char errstr[1024] = "";
    evb_err_t err =
        evb_event_check_envelope(event, elen, errstr, sizeof errstr);
    bool matched = false;
    if (!err)
        err = evb_pattern_test(pattern, plen, event, elen, NULL, &matched,
                               errstr, sizeof errstr);
    switch (err) {
    case EVB_ERR_OK: break;
    case EVB_ERR_INVALID_EVENT:
        /* AWS says only this, whatever is wrong with the event */
        evb__api_fail_err(call, err, "Parameter Event is not valid.");
        return;
    case EVB_ERR_INVALID_EVENT_PATTERN:
        evb__api_fail_err(call, err, errstr);
        return;
    default:
        /* out of memory or an engine bug: InternalException, 500 */
        evb__api_fail(call, 500, "InternalException", "%s",
                      evb_err_message(err));
        return;
    }
    const char *out = matched ? "{\"Result\":true}" : "{\"Result\":false}";
    if (evb_buf_append(call->out, out, strlen(out)))
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
}

static const evb__api_action_t actions[] = {
    {"TestEventPattern", test_event_pattern},
};

const evb__api_service_t evb__api_events_service = {
    .target_prefix = "AWSEvents",
    .content_type = "application/x-amz-json-1.1",
    .actions = actions,
    .n_actions = EVB_ARRAY_LEN(actions),
};
