/*
 * apidest: EventBridge connections and API destinations, and the HTTP
 * invoker that calls them.
 *
 * Control plane. Connections and API destinations live in the store
 * (schema v3 tables `connections` and `api_destinations`). Requests and
 * answers are JSON objects in the shapes of botocore's events model
 * (jansson), already checked against the model by the API layer; this
 * module does what the model cannot say (which AuthParameters go with
 * which AuthorizationType, that a destination's connection exists, the
 * quotas) and keeps the secrets apart: a connection's full AuthParameters
 * are written only to the `secrets` column, and `spec` holds the redacted
 * copy (no Password, ApiKeyValue, ClientSecret, nor a Value whose
 * IsValueSecret is true) that Describe and List answer from. Nothing in
 * this module logs a secret or puts one in an errstr.
 *
 * Data plane. An invoker owns one thread running libcurl's multi
 * interface: many requests in flight, connections kept alive and reused,
 * HTTP and HTTPS. evb_apidest_invoke only queues the invocation and wakes
 * that thread, so a delivery worker can submit a whole batch and collect
 * the completions (a callback on the invoker thread) without blocking per
 * request. Each destination has a rate limiter (InvocationRateLimitPerSecond;
 * GCRA with 5 ms of tolerance, so bursts of at most 1 + rate/200):
 * invocations beyond the rate wait in FIFO order, never dropped.
 */
#ifndef EVB_APIDEST_H
#define EVB_APIDEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../common/common.h"
#include "../store/store.h"

/* The store plus the account and Region ARNs are minted in. Borrowed by
 * every call; the strings must outlive it. */
typedef struct evb_apidest_scope {
    evb_store_t *store;
    const char *account; /* 12 digits */
    const char *region;
} evb_apidest_scope_t;

/* Quotas (EventBridge's defaults). */
#define EVB_APIDEST_MAX_CONNECTIONS 3000
#define EVB_APIDEST_MAX_DESTINATIONS 3000
/* Rate used when a destination sets no InvocationRateLimitPerSecond. */
#define EVB_APIDEST_DEFAULT_RATE 300

/* ---- control plane ---------------------------------------------------------
 *
 * Each function takes the request object (members as the model names them)
 * and, on success, sets *resp to a new JSON object the caller frees with
 * json_decref. Errors: EVB_ERR_NOT_FOUND (ResourceNotFoundException),
 * EVB_ERR_EXISTS, EVB_ERR_LIMIT_EXCEEDED, EVB_ERR_INVALID_ARG
 * (ValidationException), EVB_ERR_IO / EVB_ERR_NOMEM; errstr holds AWS's
 * message. Thread-safe (the store serialises writes).
 */
evb_err_t evb_apidest_connection_create(const evb_apidest_scope_t *sc,
                                        const json_t *req, json_t **resp,
                                        char *errstr, size_t errstr_size);
evb_err_t evb_apidest_connection_describe(const evb_apidest_scope_t *sc,
                                          const json_t *req, json_t **resp,
                                          char *errstr, size_t errstr_size);
evb_err_t evb_apidest_connection_update(const evb_apidest_scope_t *sc,
                                        const json_t *req, json_t **resp,
                                        char *errstr, size_t errstr_size);
evb_err_t evb_apidest_connection_delete(const evb_apidest_scope_t *sc,
                                        const json_t *req, json_t **resp,
                                        char *errstr, size_t errstr_size);
evb_err_t evb_apidest_connection_list(const evb_apidest_scope_t *sc,
                                      const json_t *req, json_t **resp,
                                      char *errstr, size_t errstr_size);
evb_err_t evb_apidest_connection_deauthorize(const evb_apidest_scope_t *sc,
                                             const json_t *req, json_t **resp,
                                             char *errstr, size_t errstr_size);

evb_err_t evb_apidest_destination_create(const evb_apidest_scope_t *sc,
                                         const json_t *req, json_t **resp,
                                         char *errstr, size_t errstr_size);
evb_err_t evb_apidest_destination_describe(const evb_apidest_scope_t *sc,
                                           const json_t *req, json_t **resp,
                                           char *errstr, size_t errstr_size);
evb_err_t evb_apidest_destination_update(const evb_apidest_scope_t *sc,
                                         const json_t *req, json_t **resp,
                                         char *errstr, size_t errstr_size);
evb_err_t evb_apidest_destination_delete(const evb_apidest_scope_t *sc,
                                         const json_t *req, json_t **resp,
                                         char *errstr, size_t errstr_size);
evb_err_t evb_apidest_destination_list(const evb_apidest_scope_t *sc,
                                       const json_t *req, json_t **resp,
                                       char *errstr, size_t errstr_size);

/* ---- invoker ------------------------------------------------------------ */

typedef struct evb_apidest_invoker evb_apidest_invoker_t;

typedef struct evb_apidest_invoker_opts {
    /* Whole-request timeout; 0 = 5000 (EventBridge's 5 seconds). */
    unsigned timeout_ms;
    /* Most requests in flight at once; 0 = 256. More wait in a queue. */
    unsigned max_in_flight;
    /* TESTS ONLY. A PEM CA bundle to trust instead of the system's, and
     * whether to skip TLS verification altogether. */
    const char *ca_file;
    bool insecure_skip_verify;
} evb_apidest_invoker_opts_t;

/* How an invocation ended. */
typedef enum evb_apidest_outcome {
    EVB_APIDEST_SUCCESS,   /* 2xx */
    EVB_APIDEST_RETRIABLE, /* 401, 407, 409, 429, 5xx, timeout, network */
    EVB_APIDEST_FAILED,    /* anything else: retrying cannot help */
} evb_apidest_outcome_t;

typedef struct evb_apidest_result {
    evb_apidest_outcome_t outcome;
    long status;      /* HTTP status; 0 when no response came */
    const char *code; /* DLQ ERROR_CODE-like: "OK", "TIMEOUT", "THROTTLING",
                         "HTTP_ERROR", "NETWORK_ERROR", "NO_RESOURCE",
                         "NOT_AUTHORIZED", "INVALID_PARAMETERS",
                         "SHUTDOWN" */
    char message[160]; /* short, never holds a secret */
    bool rate_limited; /* the call waited for the destination's
                          InvocationRateLimitPerSecond before it started */
} evb_apidest_result_t;

/* Completion. Runs on the invoker thread, exactly once per accepted
 * invocation (with "SHUTDOWN", retriable, for those still pending when
 * the invoker is freed). Must not block for long nor call
 * evb_apidest_invoker_free; may call evb_apidest_invoke. */
typedef void (*evb_apidest_done_fn)(void *ud, const evb_apidest_result_t *r);

/*
 * Start an invoker over sc (copied; the store must outlive the invoker).
 * Free with evb_apidest_invoker_free. Errors: EVB_ERR_NOMEM,
 * EVB_ERR_INTERNAL (libcurl or the thread could not start).
 */
evb_err_t evb_apidest_invoker_new(const evb_apidest_scope_t *sc,
                                  const evb_apidest_invoker_opts_t *opts,
                                  evb_apidest_invoker_t **out, char *errstr,
                                  size_t errstr_size);

/* Stop the thread, complete what is pending with "SHUTDOWN", free. */
void evb_apidest_invoker_free(evb_apidest_invoker_t *inv);

/*
 * Queue one invocation of API destination dest_arn with the target's
 * HttpParameters (http_params: the JSON text of the target's
 * HttpParameters object {PathParameterValues, HeaderParameters,
 * QueryStringParameters}, or NULL) and the payload body[0..len) (the
 * event or transformed input). Everything is copied; returns at once.
 * The destination and its connection are read from the store when the
 * request is started, so updates apply to queued invocations.
 *
 * The request carries the connection's authentication (Basic, the API
 * key header, or an OAuth client-credentials bearer token, fetched and
 * cached until it expires and dropped when the target answers 401 or
 * 407), the connection's InvocationHttpParameters merged over the target's
 * (the connection wins; its BodyParameters are added to a JSON object
 * body), '*' in the endpoint replaced by PathParameterValues in order,
 * and EventBridge's headers. done(ud, result) is called once.
 *
 * Thread-safe. Errors: EVB_ERR_NOMEM, EVB_ERR_INVALID_ARG (http_params is
 * not a JSON object), EVB_ERR_INTERNAL (invoker shutting down): then done
 * is not called.
 */
evb_err_t evb_apidest_invoke(evb_apidest_invoker_t *inv, const char *dest_arn,
                             const char *http_params, const char *body,
                             size_t len, evb_apidest_done_fn done, void *ud,
                             char *errstr, size_t errstr_size);

/*
 * Complete with "SHUTDOWN" (retriable) every invocation that has not
 * started yet (still queued, waiting on its destination's rate limit or
 * on an OAuth token) whose callback is done and for which mine(ud, arg)
 * is true (mine NULL: all of done's). Requests already sent are left to
 * finish (within the timeout), and invocations submitted after this call
 * are not affected. Returns at once; the completions run on the invoker
 * thread, as does mine. What a submitter that is stopping uses, so that
 * it does not wait for a long rate-limited queue to drain.
 */
typedef bool (*evb_apidest_mine_fn)(void *ud, void *arg);
void evb_apidest_invoker_cancel_waiting(evb_apidest_invoker_t *inv,
                                        evb_apidest_done_fn done,
                                        evb_apidest_mine_fn mine, void *arg);

/* Completion with the response body (body NULL unless the outcome is
 * EVB_APIDEST_SUCCESS; valid during the call only). Same rules as
 * evb_apidest_done_fn. */
typedef void (*evb_apidest_body_fn)(void *ud, const evb_apidest_result_t *r,
                                    const char *body, size_t len);

/*
 * evb_apidest_invoke, whose completion also gets the response body (at
 * most max_response bytes; a longer answer fails as a NETWORK_ERROR). For
 * Pipes enrichment, whose answer replaces the payload.
 */
evb_err_t evb_apidest_invoke_capture(evb_apidest_invoker_t *inv,
                                     const char *dest_arn,
                                     const char *http_params, const char *body,
                                     size_t len, size_t max_response,
                                     evb_apidest_body_fn done, void *ud,
                                     char *errstr, size_t errstr_size);

typedef struct evb_apidest_invoker_stats {
    uint64_t submitted, completed, in_flight, waiting, token_fetches;
} evb_apidest_invoker_stats_t;

void evb_apidest_invoker_get_stats(evb_apidest_invoker_t *inv,
                                   evb_apidest_invoker_stats_t *out);

#endif
