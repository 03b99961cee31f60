/*
 * api_internal.h: what api.c (dispatch) shares with the api_<family>.c
 * files (one per AWS service): the action table row, the per-call context
 * and the helpers that read members and record failures the AWS way.
 *
 * An action reads call->input, and either writes its JSON result into
 * call->out or fails the call (evb__api_fail*, or validation errors turned
 * into a ValidationException by evb__api_validated). It never writes the
 * HTTP response itself: api.c adds the request id, the Content-Type and
 * the error body, so every service answers the same way.
 */
#ifndef EVB_API_INTERNAL_H
#define EVB_API_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <stdatomic.h>

#include "../json/json.h"
#include "api.h"

struct evb_api {
    char account[13];
    char region[64];
    evb_bus_service_t *bus;
    evb_store_t *store;
    evb_delivery_t *delivery;
    evb_queue_service_t *queues;
    evb_scheduler_t *scheduler;
    evb_archive_service_t *archive;
    evb_registry_t *registry;
    const evb_sigv4_verifier_t *verifier; /* NULL: no authentication */
    struct evb__tail_hub *tail;           /* GET /_evbus/tail */
    bool public_metrics;                  /* /metrics without SigV4 */
    atomic_bool ready;                    /* GET /ready (evb_api_set_ready) */
    evb_pipe_service_t *pipes;
};

typedef struct evb__api_call {
    const evb_api_t *api;
    const char *action;      /* "TestEventPattern" */
    const evb_jval_t *input; /* the request body, a JSON object */
    evb_arena_t *arena;      /* per-request */
    evb_api_validation_t validation;
    evb_buf_t *out;                /* the JSON result on success */
    const evb_http_request_t *req; /* for headers such as Host */
    /* the caller's account: the account_id of the key that signed the
     * request when it has one, else the API's (never NULL) */
    const char *account;

    /* Set when the call failed (status != 0). */
    unsigned status;
    const char *err_type;
    const char *err_message;
    const char *err_query; /* x-amzn-query-error value, or NULL */
} evb__api_call_t;

typedef void (*evb__api_action_fn)(evb__api_call_t *call);

typedef struct evb__api_action {
    const char *name;
    evb__api_action_fn fn;
} evb__api_action_t;

/* One AWS JSON service: X-Amz-Target prefix, the Content-Type it speaks
 * and answers in, and its actions. */
typedef struct evb__api_service {
    const char *target_prefix; /* "AWSEvents" */
    const char *content_type;  /* "application/x-amz-json-1.1" */
    const evb__api_action_t *actions;
    size_t n_actions;
} evb__api_service_t;

/* One REST service (the schema registry, Pipes): the requests whose path
 * starts with one of its prefixes go to its handler, which sets the whole
 * response (status, body, Content-Type); x-amzn-RequestId is added by
 * evb_api_handle. A prefix matches the whole path or a leading part of it
 * that ends at a '/'. */
typedef struct evb__api_rest_service {
    const char *const *prefixes; /* NULL-terminated, e.g. "/subjects" */
    void (*handle)(const evb_api_t *api, const evb_http_request_t *req,
                   evb_http_response_t *resp);
} evb__api_rest_service_t;

/* api_events.c */
extern const evb__api_service_t evb__api_events_service;
/* api_events_archive.c and api_events_apidest.c: more AWSEvents actions
 * (archives and replays; connections and API destinations) */
extern const evb__api_action_t evb__api_archive_actions[];
extern const size_t evb__api_archive_actions_count;
extern const evb__api_action_t evb__api_apidest_actions[];
extern const size_t evb__api_apidest_actions_count;
/* api_logs.c */
extern const evb__api_service_t evb__api_logs_service;
/* api_sqs.c */
extern const evb__api_service_t evb__api_sqs_service;
/* api_registry.c: the Confluent Schema Registry REST API */
extern const evb__api_rest_service_t evb__api_registry_service;

/* api_ops.c: GET /metrics, GET /ready, GET /_evbus/tail */
extern const evb__api_rest_service_t evb__api_ops_service;

/* api_tail.c: the hub behind GET /_evbus/tail (see there). */
typedef struct evb__tail_hub evb__tail_hub_t;
evb__tail_hub_t *evb__tail_hub_new(unsigned max_clients);
/* After the HTTP server has stopped (no stream left). */
void evb__tail_hub_free(evb__tail_hub_t *h);
void evb__tail_publish(evb__tail_hub_t *h, const char *bus, const char *event,
                       size_t len);
void evb__tail_handle(const evb_api_t *api, const evb_http_request_t *req,
                      evb_http_response_t *resp);

/* api_auth.c: verify req's SigV4 signature. True: go on, *account is the
 * caller's account. False: resp holds the 403 (or 500) answer. */
bool evb__api_authenticate(const evb_api_t *api, const evb_http_request_t *req,
                           evb_http_response_t *resp, const char **account);

/* api_pipes.c: the Pipes REST API (/v1/pipes, /tags) */
extern const evb__api_rest_service_t evb__api_pipes_rest;

/* Fail the call with an AWS error (the first failure wins). */
void evb__api_fail(evb__api_call_t *call, unsigned status, const char *type,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fail with the AWS exception that the common error table gives err, and
 * its HTTP status (500 for InternalException, else 400). message NULL or
 * "" uses the table's default message. */
void evb__api_fail_err(evb__api_call_t *call, evb_err_t err,
                       const char *message);

/* Set resp's status and replace its body by the AWS JSON error
 * {"__type":type,"message":message}. EVB_ERR_NOMEM (or TOO_LARGE) when
 * the body cannot be built; the caller then answers 500 its own way. */
evb_err_t evb__api_error_body(evb_http_response_t *resp, unsigned status,
                              const char *type, const char *message);

/*
 * Read the string member name of the input. Returns true and sets *s and
 * *len (the string may contain NULs) if it is present and a string.
 * Missing or JSON null: false, and when required a "must not be null"
 * violation at path is recorded. Not a string: false and the call fails
 * with SerializationException. max_chars (0: no limit) is AWS's length
 * limit in UTF-16 code units, as Java counts; a longer value is recorded
 * as a violation (and still returned).
 */
bool evb__api_string_member(evb__api_call_t *call, const char *name,
                            const char *path, bool required, size_t max_chars,
                            const char **s, size_t *len);

/* The last member called name of object obj (a repeated key: the last
 * one wins, as Jackson reads it), JSON null included; NULL if none. */
const evb_jval_t *evb__api_member(const evb_jval_t *obj, const char *name);

/* Length in UTF-16 code units (Java's String.length, by which AWS counts)
 * of UTF-8 text: four-byte sequences count two, continuation bytes
 * nothing. */
size_t evb__api_utf16_len(const char *s, size_t len);

/* What AWS says it found in a member of the wrong type: "a boolean",
 * "a number", "a string", "an array", "an object" or "null". */
const char *evb__api_found_text(const evb_jval_t *v);

/* Fail with SerializationException "Expected <want> for member '<name>',
 * found <evb__api_found_text(v)>". */
void evb__api_fail_type(evb__api_call_t *call, const char *name,
                        const char *want, const evb_jval_t *v);

/*
 * Read integer member name of obj (call->input for the request's own).
 * Absent or JSON null: false. Not an integer (a string, a fraction, an
 * exponent): false and the call fails with SerializationException.
 * Otherwise true and *out is set; a value outside [min, max] (max 0: no
 * upper bound but Java's int) is also recorded as a violation at path.
 */
bool evb__api_int_member(evb__api_call_t *call, const evb_jval_t *obj,
                         const char *name, const char *path, long long min,
                         long long max, long long *out);

/* The paging members of every AWSEvents List action (ListEventBuses,
 * ListRules, ListTargetsByRule, ListRuleNamesByTarget, ListArchives,
 * ListReplays): NextToken, 1..2048 characters, and Limit, 1..100. */
#define EVB__API_NEXT_TOKEN_MAX 2048
#define EVB__API_LIMIT_MAX 100
typedef struct evb__api_page {
    const char *next_token; /* NULL: the first page */
    unsigned limit;         /* 0: absent or out of range (the service's
                               default; a violation is recorded) */
} evb__api_page_t;

/* Read NextToken and Limit into *pg, recording violations at 'nextToken'
 * and 'limit' as the model states them. */
void evb__api_paging(evb__api_call_t *call, evb__api_page_t *pg);

/* Turn recorded violations into the ValidationException. Returns true if
 * the call may go on (no violation and no failure so far). */
bool evb__api_validated(evb__api_call_t *call);

/* ---- api_json.c: writing a result into call->out ------------------------ */

#define EVB__JW_MAX_DEPTH 8
typedef struct evb__jw {
    evb_buf_t *b;
    evb_err_t err; /* the first failure; later writes are skipped */
    unsigned depth;
    bool comma[EVB__JW_MAX_DEPTH];
} evb__jw_t;

void evb__jw_init(evb__jw_t *w, evb__api_call_t *call);
void evb__jw_append(evb__jw_t *w, const char *s, size_t len);
/* The separator and "key": (key NULL inside an array). */
void evb__jw_keyn(evb__jw_t *w, const char *key, size_t klen);
void evb__jw_key(evb__jw_t *w, const char *key);
/* Open '{' or '[' (as member key, or an element when key is NULL). */
void evb__jw_open(evb__jw_t *w, const char *key, char c);
void evb__jw_close(evb__jw_t *w, char c);
void evb__jw_strn(evb__jw_t *w, const char *key, const char *s, size_t len);
/* Nothing when s is NULL (AWS leaves absent members out). */
void evb__jw_str(evb__jw_t *w, const char *key, const char *s);
void evb__jw_int(evb__jw_t *w, const char *key, int64_t v);
/* JSON text (valid, from the request or the store), compacted. */
void evb__jw_json(evb__jw_t *w, const char *key, size_t klen, const char *json,
                  size_t len);
/* Epoch seconds from milliseconds; nothing when ms < 0. */
void evb__jw_time(evb__jw_t *w, const char *key, int64_t ms);
/* Finish: an allocation failure fails the call. */
void evb__jw_done(evb__api_call_t *call, evb__jw_t *w);

/* The answer of a List action, {"<key>":[...],"NextToken":"..."}: begin
 * opens the object and the array (the caller writes the elements), end
 * closes the array, adds NextToken unless next is NULL, closes the object
 * and finishes as evb__jw_done. */
void evb__jw_list_begin(evb__jw_t *w, evb__api_call_t *call, const char *key);
void evb__jw_list_end(evb__api_call_t *call, evb__jw_t *w, const char *next);

/* ---- api_json.c: a raw writer (api_logs.c, api_sqs.c) -------------------
 *
 * The caller writes the punctuation; the first failure sticks and later
 * writes are skipped. Initialise as {call->out, EVB_ERR_OK}.
 */
typedef struct evb__rw {
    evb_buf_t *b;
    evb_err_t err;
} evb__rw_t;

/* s as it is. */
void evb__rw_raw(evb__rw_t *w, const char *s);
/* s[0..len) as a JSON string. */
void evb__rw_str(evb__rw_t *w, const char *s, size_t len);
void evb__rw_i64(evb__rw_t *w, int64_t v);
/* ,"key":"s" (without the comma when first); _key_str takes a
 * NUL-terminated s. */
void evb__rw_key_strn(evb__rw_t *w, bool first, const char *key, const char *s,
                      size_t len);
void evb__rw_key_str(evb__rw_t *w, bool first, const char *key, const char *s);
void evb__rw_key_i64(evb__rw_t *w, bool first, const char *key, int64_t v);

#endif
