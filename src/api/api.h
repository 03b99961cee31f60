/*
 * api: the AWS-compatible APIs on top of the HTTP server (http.h).
 *
 * Today this is AWS JSON 1.1 dispatch: `POST /` with
 * `X-Amz-Target: <prefix>.<Action>` goes to the action of that name in the
 * table of the service that owns <prefix> (AWSEvents now; Logs_20140328
 * and AmazonSQS later), one api_<family>.c file per service. Every answer
 * carries `x-amzn-RequestId` (a UUIDv4) and the service's Content-Type;
 * every error is AWS-shaped, `{"__type":"...","message":"..."}`, with
 * AWS's HTTP status:
 *
 *   UnknownOperationException  400  unknown target prefix or action, no or
 *                                   wrong X-Amz-Target / Content-Type
 *                                   (404 for paths other than "/", 405
 *                                   for methods other than POST)
 *   SerializationException     400  body is not a JSON object, or a member
 *                                   has the wrong JSON type
 *   ValidationException        400  missing or invalid members, in AWS's
 *                                   "N validation error(s) detected: ..."
 *                                   form (evb_api_validation_*)
 *   <modelled exceptions>      400  e.g. InvalidEventPatternException
 *   RequestEntityTooLargeException
 *                              413  body over the HTTP server's limit
 *   InternalException          500  out of memory, internal errors
 *
 * With a verifier in the configuration every request but GET /health
 * (answered by the HTTP layer) must be signed with AWS Signature V4; a
 * refused one gets 403 and UnrecognizedClientException,
 * InvalidSignatureException, IncompleteSignatureException,
 * MissingAuthenticationTokenException (or, for presigned-query requests,
 * InvalidClientTokenId, SignatureDoesNotMatch, IncompleteSignature) before
 * any routing. The key's account_id, when it has one, is the caller's
 * account for that request (evb__api_call_t.account).
 *
 * Operator endpoints (api_ops.c): GET /metrics (Prometheus), GET /ready,
 * GET /_evbus/tail (server-sent events for `evbus tail`). A request that
 * the HTTP layer refused for its connection limit gets 503
 * ThrottlingException.
 *
 * Threading: an evb_api_t is immutable once created (but for its ready
 * flag); evb_api_handle may run on any number of threads at once.
 */
#ifndef EVB_API_H
#define EVB_API_H

#include <stdbool.h>
#include <stddef.h>

#include "../archive/archive.h"
#include "../bus/bus.h"
#include "../common/common.h"
#include "../delivery/delivery.h"
#include "../pipes/pipes.h"
#include "../queue/queue.h"
#include "../registry/registry.h"
#include "../schedule/schedule.h"
#include "../sigv4/sigv4.h"
#include "../store/store.h"
#include "http.h"

#define EVB_API_DEFAULT_ACCOUNT "000000000000"
#define EVB_API_DEFAULT_REGION "us-east-1"

typedef struct evb_api_config {
    const char *account_id; /* 12 digits; NULL: EVB_API_DEFAULT_ACCOUNT */
    const char *region;     /* e.g. "eu-west-1"; NULL: EVB_API_DEFAULT_REGION */
    /* The services behind the API (borrowed; they must outlive it). When
     * NULL, the actions that need them answer InternalException. */
    evb_bus_service_t *bus;
    evb_store_t *store;
    evb_delivery_t *delivery; /* kicked after PutEvents commits */
    evb_queue_service_t *queues; /* AmazonSQS */
    evb_scheduler_t *scheduler;  /* kicked when rules change */
    evb_archive_service_t *archive; /* archives and replays */
    evb_registry_t *registry; /* the Confluent Schema Registry REST API */
    /* SigV4 verification of every request (borrowed; it must outlive the
     * API). NULL: requests are not authenticated. See api_auth.c. */
    const evb_sigv4_verifier_t *verifier;
    /* GET /metrics answers without authentication (Prometheus cannot
     * sign requests); false: it needs SigV4 like the API when a verifier
     * is set. */
    bool public_metrics;
    /* Most simultaneous GET /_evbus/tail clients; 0:
     * EVB_API_DEFAULT_MAX_TAIL_CLIENTS. */
    unsigned max_tail_clients;
    evb_pipe_service_t *pipes;      /* EventBridge Pipes (/v1/pipes) */
} evb_api_config_t;

#define EVB_API_DEFAULT_MAX_TAIL_CLIENTS 64u

typedef struct evb_api evb_api_t;

/*
 * Create the API layer. The strings in cfg are copied. The caller frees
 * the result with evb_api_free after the HTTP server using it has stopped.
 * Errors: EVB_ERR_INVALID_ARG (account id not 12 digits, region not of
 * the form [a-z0-9-]+; errstr says which), EVB_ERR_NOMEM.
 */
/* The checks evb_api_new makes on cfg's account and region, for callers
 * that want to refuse bad settings before creating anything else. */
evb_err_t evb_api_config_check(const evb_api_config_t *cfg, char *errstr,
                               size_t errstr_size);

evb_err_t evb_api_new(const evb_api_config_t *cfg, evb_api_t **out,
                      char *errstr, size_t errstr_size);
void evb_api_free(evb_api_t *api);

const char *evb_api_account(const evb_api_t *api);
const char *evb_api_region(const evb_api_t *api);

/* GET /ready answers 200 only while ready is true (and the store
 * answers): set it once every worker runs, clear it when shutting down.
 * Any thread. */
void evb_api_set_ready(evb_api_t *api, bool ready);

/* The bus tap (bus.h's evb_bus_tap_fn) that feeds GET /_evbus/tail: pass
 * it to evb_bus_set_tap with the evb_api_t as arg, and clear the tap
 * before evb_api_free. */
void evb_api_tail_publish(void *api, const char *bus, const char *event,
                          size_t len);

/* The HTTP handler (an evb_http_handler_fn): pass it to
 * evb_http_server_start with the evb_api_t as its user data. */
void evb_api_handle(void *api, const evb_http_request_t *req,
                    evb_http_response_t *resp);

/* ---- ValidationException messages ---------------------------------------- */

/*
 * Collects constraint violations and renders AWS's message:
 *   1 validation error detected: Value null at 'eventPattern' failed to
 *   satisfy constraint: Member must not be null
 *   2 validation errors detected: Value 'x' at 'name' failed to satisfy
 *   constraint: Member must ...; Value null at 'event' failed to ...
 * Everything is allocated from the arena given to _init; nothing to free.
 */
typedef struct evb_api_violation evb_api_violation_t;
typedef struct evb_api_validation {
    evb_arena_t *arena;
    unsigned count;
    evb_api_violation_t *head, *tail;
    bool nomem; /* an allocation failed; _message returns NULL */
} evb_api_validation_t;

/* Constraint texts AWS uses. */
#define EVB_API_NOT_NULL "Member must not be null"
#define EVB_API_MAX_LEN "Member must have length less than or equal to %zu"
#define EVB_API_MIN_LEN "Member must have length greater than or equal to %zu"
#define EVB_API_PATTERN "Member must satisfy regular expression pattern: %s"

void evb_api_validation_init(evb_api_validation_t *v, evb_arena_t *arena);

/*
 * Record one violation: the member at path (AWS's lowerCamelCase path,
 * e.g. "eventPattern", "targets.1.member.id") holding value (rendered
 * 'value'; NULL renders null) fails the constraint (printf format).
 */
void evb_api_validation_add(evb_api_validation_t *v, const char *value,
                            size_t value_len, const char *path,
                            const char *constraint_fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The message, from the arena; NULL when there is no violation or memory
 * ran out. */
const char *evb_api_validation_message(const evb_api_validation_t *v);

#endif
