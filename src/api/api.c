/*
 * api.c: AWS JSON 1.1 dispatch (api.h) and the helpers every service file
 * uses (api_internal.h).
 *
 * One request: make its request id, check the path, method, X-Amz-Target
 * and Content-Type, find the service by target prefix and the action by
 * name, parse the body into an arena DOM (evb_json_parse, whose syntax
 * errors read like Jackson's, the parser behind AWS's services), run the
 * action, and write either its result or the AWS-shaped error. The order
 * of the checks follows the AWS front door: an unknown operation is
 * reported before a malformed body, a malformed body before any member
 * validation.
 *
 * Services are rows of a table (services[] below), each with its own
 * action table in api_<family>.c, so adding Logs_20140328 or AmazonSQS
 * (AWS JSON 1.0) is one row and one file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../metrics/metrics.h"
#include "api_internal.h"

#define JSON_CONTENT_TYPE_11 "application/x-amz-json-1.1"
/* Nesting depth allowed in request bodies; AWS request shapes nest a few
 * levels, and nested JSON documents (patterns, events) travel as strings. */
#define REQUEST_MAX_DEPTH 64

static const evb__api_service_t *const services[] = {
    &evb__api_events_service,
    &evb__api_logs_service,
    &evb__api_sqs_service,
};

/* REST services, tried in order for every path other than "/". */
static const evb__api_rest_service_t *const rest_services[] = {
    &evb__api_registry_service,
    &evb__api_pipes_rest,
    &evb__api_ops_service,
};

static bool rest_prefix_matches(const char *path, const char *prefix) {
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static const evb__api_rest_service_t *find_rest_service(const char *path) {
    for (size_t i = 0; i < sizeof rest_services / sizeof *rest_services; i++) {
        const evb__api_rest_service_t *r = rest_services[i];
        for (size_t j = 0; r && r->prefixes[j]; j++)
            if (rest_prefix_matches(path, r->prefixes[j]))
                return r;
    }
    return NULL;
}

/* ---- configuration ----------------------------------------------------- */

static bool valid_account(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < '0' || s[n] > '9')
            return false;
    return n == 12;
}

static bool valid_region(const char *s, size_t max) {
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
              s[n] == '-'))
            return false;
    return n > 0 && n < max;
}

evb_err_t evb_api_config_check(const evb_api_config_t *cfg, char *errstr,
                               size_t errstr_size) {
    const char *account =
        cfg && cfg->account_id ? cfg->account_id : EVB_API_DEFAULT_ACCOUNT;
    const char *region =
        cfg && cfg->region ? cfg->region : EVB_API_DEFAULT_REGION;
    if (!valid_account(account))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "account id '%s' is not 12 digits", account);
    if (!valid_region(region, sizeof ((evb_api_t *)0)->region))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "region '%s' is not a region name ([a-z0-9-]+)",
                           region);
    return EVB_ERR_OK;
}

evb_err_t evb_api_new(const evb_api_config_t *cfg, evb_api_t **out,
                      char *errstr, size_t errstr_size) {
    *out = NULL;
    evb_err_t err = evb_api_config_check(cfg, errstr, errstr_size);
    if (err)
        return err;
    const char *account =
        cfg && cfg->account_id ? cfg->account_id : EVB_API_DEFAULT_ACCOUNT;
    const char *region =
        cfg && cfg->region ? cfg->region : EVB_API_DEFAULT_REGION;
    evb_api_t *api = calloc(1, sizeof *api);
    if (!api)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    memcpy(api->account, account, 13);
    snprintf(api->region, sizeof api->region, "%s", region);
    if (cfg) {
        api->bus = cfg->bus;
        api->store = cfg->store;
        api->delivery = cfg->delivery;
        api->queues = cfg->queues;
        api->scheduler = cfg->scheduler;
        api->archive = cfg->archive;
        api->registry = cfg->registry;
        api->verifier = cfg->verifier;
        api->pipes = cfg->pipes;
        api->public_metrics = cfg->public_metrics;
    }
    atomic_init(&api->ready, false);
    api->tail = evb__tail_hub_new(cfg ? cfg->max_tail_clients : 0);
    if (!api->tail) {
        free(api);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    *out = api;
    return EVB_ERR_OK;
}

void evb_api_free(evb_api_t *api) {
    if (!api)
        return;
    evb__tail_hub_free(api->tail);
    free(api);
}

void evb_api_set_ready(evb_api_t *api, bool ready) {
    atomic_store(&api->ready, ready);
}

void evb_api_tail_publish(void *api, const char *bus, const char *event,
                          size_t len) {
    evb__tail_publish(((evb_api_t *)api)->tail, bus, event, len);
}

const char *evb_api_account(const evb_api_t *api) {
    return api->account;
}

const char *evb_api_region(const evb_api_t *api) {
    return api->region;
}

/* ---- validation messages ------------------------------------------------ */

struct evb_api_violation {
    evb_api_violation_t *next;
    const char
        *text; /* "Value ... at '...' failed to satisfy constraint: ..." */
};

void evb_api_validation_init(evb_api_validation_t *v, evb_arena_t *arena) {
    memset(v, 0, sizeof *v);
    v->arena = arena;
}

void evb_api_validation_add(evb_api_validation_t *v, const char *value,
                            size_t value_len, const char *path,
                            const char *constraint_fmt, ...) {
    char constraint[512];
    va_list ap;
    va_start(ap, constraint_fmt);
    vsnprintf(constraint, sizeof constraint, constraint_fmt, ap);
    va_end(ap);

    v->count++;
    evb_buf_t b;
    evb_buf_init(&b, 0);
    evb_err_t err = evb_buf_append(&b, "Value ", 6);
    if (!err && value) {
        err = evb_buf_putc(&b, '\'');
        if (!err)
            err = evb_buf_append(&b, value, value_len);
        if (!err)
            err = evb_buf_putc(&b, '\'');
    } else if (!err) {
        err = evb_buf_append(&b, "null", 4);
    }
    if (!err)
        err = evb_buf_appendf(&b, " at '%s' failed to satisfy constraint: %s",
                              path, constraint);
    evb_api_violation_t *vi =
        err ? NULL : evb_arena_alloc(v->arena, sizeof *vi);
    char *text = vi ? evb_arena_strndup(v->arena, b.data, b.len) : NULL;
    evb_buf_free(&b);
    if (!text) {
        v->nomem = true;
        return;
    }
    vi->next = NULL;
    vi->text = text;
    if (v->tail)
        v->tail->next = vi;
    else
        v->head = vi;
    v->tail = vi;
}

const char *evb_api_validation_message(const evb_api_validation_t *v) {
    if (v->count == 0 || v->nomem)
        return NULL;
    evb_buf_t b;
    evb_buf_init(&b, 0);
    evb_err_t err =
        evb_buf_appendf(&b, "%u validation error%s detected: ", v->count,
                        v->count == 1 ? "" : "s");
    for (const evb_api_violation_t *vi = v->head; vi && !err; vi = vi->next) {
        if (vi != v->head)
            err = evb_buf_append(&b, "; ", 2);
        if (!err)
            err = evb_buf_append(&b, vi->text, strlen(vi->text));
    }
    char *msg = err ? NULL : evb_arena_strndup(v->arena, b.data, b.len);
    evb_buf_free(&b);
    return msg;
}

/* ---- call helpers ---------------------------------------------------------
 */

/* A message for a call that has already failed to allocate one. */
static const char nomem_message[] = "Out of memory";

void evb__api_fail(evb__api_call_t *call, unsigned status, const char *type,
                   const char *fmt, ...) {
    if (call->status)
        return;
    call->status = status;
    call->err_type = type;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *m = NULL;
    if ((size_t)n < sizeof buf) {
        m = evb_arena_strndup(call->arena, buf, (size_t)n);
    } else { /* long messages (they may quote a whole value) */
        m = evb_arena_alloc(call->arena, (size_t)n + 1);
        if (m) {
            va_start(ap, fmt);
            vsnprintf(m, (size_t)n + 1, fmt, ap);
            va_end(ap);
        }
    }
    call->err_message = m ? m : nomem_message;
}

/* HTTP status for an AWS exception name. */
static unsigned status_for_type(const char *type) {
    return strcmp(type, "InternalException") == 0 ? 500 : 400;
}

void evb__api_fail_err(evb__api_call_t *call, evb_err_t err,
                       const char *message) {
    const char *type = evb_err_aws_type(err);
    if (!type[0])
        type = "InternalException";
    if (!message || !message[0])
        message = evb_err_message(err);
    evb__api_fail(call, status_for_type(type), type, "%s", message);
}

const evb_jval_t *evb__api_member(const evb_jval_t *obj, const char *name) {
    size_t nlen = strlen(name);
    const evb_jval_t *found = NULL;
    for (size_t i = 0; i < obj->u.obj.n; i++) {
        const evb_jmember_t *m = &obj->u.obj.members[i];
        if (m->klen == nlen && memcmp(m->key, name, nlen) == 0)
            found = m->val;
    }
    return found;
}

size_t evb__api_utf16_len(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            n += c >= 0xF0 ? 2 : 1;
    }
    return n;
}

bool evb__api_string_member(evb__api_call_t *call, const char *name,
                            const char *path, bool required, size_t max_chars,
                            const char **s, size_t *len) {
    *s = NULL;
    *len = 0;
    const evb_jval_t *v = evb__api_member(call->input, name);
    if (!v || v->type == EVB_JSON_NULL) {
        if (required)
            evb_api_validation_add(&call->validation, NULL, 0, path, "%s",
                                   EVB_API_NOT_NULL);
        return false;
    }
    if (v->type != EVB_JSON_STRING) {
        evb__api_fail(call, 400, "SerializationException",
                      "Expected a string for member '%s', found %s %s", name,
                      v->type == EVB_JSON_ARRAY || v->type == EVB_JSON_OBJECT
                          ? "an"
                          : "a",
                      evb_json_type_name(v->type));
        return false;
    }
    *s = v->u.str.s;
    *len = v->u.str.len;
    if (max_chars && evb__api_utf16_len(*s, *len) > max_chars)
        evb_api_validation_add(&call->validation, *s, *len, path,
                               EVB_API_MAX_LEN, max_chars);
    return true;
}

const char *evb__api_found_text(const evb_jval_t *v) {
    switch (v->type) {
    case EVB_JSON_TRUE:
    case EVB_JSON_FALSE: return "a boolean";
    case EVB_JSON_NUMBER: return "a number";
    case EVB_JSON_STRING: return "a string";
    case EVB_JSON_ARRAY: return "an array";
    case EVB_JSON_OBJECT: return "an object";
    case EVB_JSON_NULL: break;
    }
    return "null";
}

void evb__api_fail_type(evb__api_call_t *call, const char *name,
                        const char *want, const evb_jval_t *v) {
    evb__api_fail(call, 400, "SerializationException",
                  "Expected %s for member '%s', found %s", want, name,
                  evb__api_found_text(v));
}

bool evb__api_int_member(evb__api_call_t *call, const evb_jval_t *obj,
                         const char *name, const char *path, long long min,
                         long long max, long long *out) {
    const evb_jval_t *v = evb__api_member(obj, name);
    if (!v || v->type == EVB_JSON_NULL)
        return false;
    /* a number's text is NUL-terminated: no fraction, no exponent */
    if (v->type != EVB_JSON_NUMBER || strpbrk(v->u.str.s, ".eE") != NULL) {
        evb__api_fail_type(call, name, "an integer", v);
        return false;
    }
    errno = 0;
    long long n = strtoll(v->u.str.s, NULL, 10);
    if (errno == ERANGE || (max && n > max))
        evb_api_validation_add(&call->validation, v->u.str.s, v->u.str.len,
                               path,
                               "Member must have value less than or equal "
                               "to %lld",
                               max ? max : (long long)INT32_MAX);
    else if (n < min)
        evb_api_validation_add(&call->validation, v->u.str.s, v->u.str.len,
                               path,
                               "Member must have value greater than or "
                               "equal to %lld",
                               min);
    *out = n;
    return true;
}

void evb__api_paging(evb__api_call_t *call, evb__api_page_t *pg) {
    size_t len;
    long long limit = 0;
    if (evb__api_string_member(call, "NextToken", "nextToken", false,
                               EVB__API_NEXT_TOKEN_MAX, &pg->next_token,
                               &len) &&
        evb__api_utf16_len(pg->next_token, len) < 1)
        evb_api_validation_add(&call->validation, pg->next_token, len,
                               "nextToken", EVB_API_MIN_LEN, (size_t)1);
    pg->limit = 0;
    if (evb__api_int_member(call, call->input, "Limit", "limit", 1,
                            EVB__API_LIMIT_MAX, &limit) &&
        limit >= 1 && limit <= EVB__API_LIMIT_MAX)
        pg->limit = (unsigned)limit;
}

bool evb__api_validated(evb__api_call_t *call) {
    if (call->status)
        return false;
    if (call->validation.count == 0)
        return true;
    const char *msg = evb_api_validation_message(&call->validation);
    if (!msg)
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
    else
        evb__api_fail(call, 400, "ValidationException", "%s", msg);
    return false;
}

/* ---- responses ------------------------------------------------------------
 */

evb_err_t evb__api_error_body(evb_http_response_t *resp, unsigned status,
                              const char *type, const char *message) {
    resp->status = status;
    evb_buf_reset(&resp->body);
    evb_err_t err = evb_buf_append(&resp->body, "{\"__type\":", 10);
    if (!err)
        err = evb_json_append_string(&resp->body, type, strlen(type));
    if (!err)
        err = evb_buf_append(&resp->body, ",\"message\":", 11);
    if (!err)
        err = evb_json_append_string(&resp->body, message, strlen(message));
    if (!err)
        err = evb_buf_putc(&resp->body, '}');
    return err;
}

/* The last resort when even the error body cannot be built. */
static void internal_error(evb_http_response_t *resp) {
    static const char body[] =
        "{\"__type\":\"InternalException\",\"message\":\"Out of memory\"}";
    resp->status = 500;
    evb_buf_reset(&resp->body);
    if (evb_buf_append(&resp->body, body, sizeof body - 1))
        evb_buf_free(&resp->body); /* empty body; status still says 500 */
}

static void fail_response(evb_http_response_t *resp, unsigned status,
                          const char *type, const char *message) {
    if (evb__api_error_body(resp, status, type, message))
        internal_error(resp);
}

/* True if the Content-Type header names media type want (parameters such
 * as "; charset=utf-8" are ignored, case does not matter). */
static bool content_type_is(const char *have, const char *want) {
    if (!have)
        return false;
    size_t n = strlen(want);
    if (strncasecmp(have, want, n) != 0)
        return false;
    const char *rest = have + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

static const evb__api_service_t *find_service(const char *prefix, size_t len) {
    for (size_t i = 0; i < EVB_ARRAY_LEN(services); i++)
        if (strlen(services[i]->target_prefix) == len &&
            memcmp(services[i]->target_prefix, prefix, len) == 0)
            return services[i];
    return NULL;
}

static const evb__api_action_t *find_action(const evb__api_service_t *svc,
                                            const char *name) {
    for (size_t i = 0; i < svc->n_actions; i++)
        if (strcmp(svc->actions[i].name, name) == 0)
            return &svc->actions[i];
    if (svc != &evb__api_events_service)
        return NULL;
    /* AWSEvents actions kept in files of their own */
    for (size_t i = 0; i < evb__api_archive_actions_count; i++)
        if (strcmp(evb__api_archive_actions[i].name, name) == 0)
            return &evb__api_archive_actions[i];
    for (size_t i = 0; i < evb__api_apidest_actions_count; i++)
        if (strcmp(evb__api_apidest_actions[i].name, name) == 0)
            return &evb__api_apidest_actions[i];
    return NULL;
}

/* True if the body holds nothing but white space. */
static bool blank(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
    return true;
}

/* Route and run one AWS JSON call; on return resp holds the body and
 * status (headers are api_handle's business). content_type receives the
 * Content-Type to answer with. */
static void dispatch(const evb_api_t *api, const evb_http_request_t *req,
                     evb_http_response_t *resp, const char **content_type,
                     const char *account) {
    *content_type = JSON_CONTENT_TYPE_11;
    if (req->error == EVB_ERR_TOO_LARGE) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 "Request body exceeds the limit of %zu bytes.", req->max_body);
        fail_response(resp, 413, "RequestEntityTooLargeException", msg);
        return;
    }
    if (req->error == EVB_ERR_LIMIT_EXCEEDED) {
        fail_response(resp, 503, "ThrottlingException",
                      req->error_message ? req->error_message
                                         : "Rate exceeded");
        return;
    }
    if (req->error) {
        fail_response(resp, 500, "InternalException",
                      evb_err_message(req->error));
        return;
    }
    if (strcmp(req->path, "/") != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "No operation is served at %.100s %.100s.",
                 req->method, req->path);
        fail_response(resp, 404, "UnknownOperationException", msg);
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        fail_response(resp, 405, "UnknownOperationException",
                      "AWS JSON operations are called with POST.");
        if (evb_http_response_header(resp, "Allow", "POST"))
            internal_error(resp);
        return;
    }

    const char *target = evb_http_request_header(req, "X-Amz-Target");
    const char *dot = target ? strrchr(target, '.') : NULL;
    const evb__api_service_t *svc =
        dot ? find_service(target, (size_t)(dot - target)) : NULL;
    const evb__api_action_t *action = svc ? find_action(svc, dot + 1) : NULL;
    if (!action) {
        char msg[256];
        if (!target)
            snprintf(msg, sizeof msg, "Missing X-Amz-Target header.");
        else
            snprintf(msg, sizeof msg, "Unknown operation %.200s.", target);
        fail_response(resp, 400, "UnknownOperationException", msg);
        return;
    }
    *content_type = svc->content_type;
    if (svc == &evb__api_events_service &&
        strcmp(action->name, "PutEvents") == 0)
        evb_metrics_put_events_request();
    const char *ctype = evb_http_request_header(req, "Content-Type");
    if (!content_type_is(ctype, svc->content_type)) {
        char msg[256];
        snprintf(msg, sizeof msg, "Content-Type must be %s for %.100s.",
                 svc->content_type, target);
        fail_response(resp, 400, "UnknownOperationException", msg);
        return;
    }

    evb_jval_t *input = NULL;
    char why[512] = "";
    const char *body = req->body;
    size_t body_len = req->body_len;
    if (blank(body, body_len)) { /* an empty body is an empty request */
        body = "{}";
        body_len = 2;
    }
    evb_err_t err = evb_json_parse(req->arena, body, body_len,
                                   REQUEST_MAX_DEPTH, &input, why, sizeof why);
    if (err == EVB_ERR_NOMEM) {
        fail_response(resp, 500, "InternalException", "Out of memory");
        return;
    }
    if (err || input->type != EVB_JSON_OBJECT) {
        fail_response(resp, 400, "SerializationException",
                      err ? why : "The request body must be a JSON object.");
        return;
    }

    evb__api_call_t call;
    memset(&call, 0, sizeof call);
    call.api = api;
    call.action = action->name;
    call.input = input;
    call.arena = req->arena;
    call.out = &resp->body;
    call.req = req;
    call.account = account;
    evb_api_validation_init(&call.validation, req->arena);
    action->fn(&call);
    if (!call.status) /* violations the action recorded but never checked */
        (void)evb__api_validated(&call);
    if (call.status) {
        fail_response(resp, call.status, call.err_type, call.err_message);
        if (call.err_query &&
            evb_http_response_header(resp, "x-amzn-query-error",
                                     call.err_query))
            internal_error(resp);
    } else
        resp->status = 200;
}

/* Paths answered without authentication: probes, and /metrics when the
 * operator made it public. */
static bool unauthenticated(const evb_api_t *api,
                            const evb_http_request_t *req) {
    return strcmp(req->path, "/ready") == 0 ||
           (api->public_metrics && strcmp(req->path, "/metrics") == 0);
}

static void handle(const evb_api_t *api, const evb_http_request_t *req,
                   evb_http_response_t *resp, const char *id) {
    /* SigV4 (api_auth.c); a body over the limit was not kept, so it gets
     * its 413 unauthenticated and nothing runs */
    const char *account = api->account;
    if (api->verifier && !req->error && !unauthenticated(api, req) &&
        !evb__api_authenticate(api, req, resp, &account)) {
        if (evb_http_response_header(resp, "x-amzn-RequestId", id) ||
            evb_http_response_header(resp, "Content-Type",
                                     JSON_CONTENT_TYPE_11))
            internal_error(resp);
        return;
    }
    const evb__api_rest_service_t *rest =
        req->error ? NULL : find_rest_service(req->path);
    if (rest) {
        rest->handle(api, req, resp);
        if (evb_http_response_header(resp, "x-amzn-RequestId", id))
            internal_error(resp);
        return;
    }
    const char *content_type;
    dispatch(api, req, resp, &content_type, account);
    if (evb_http_response_header(resp, "x-amzn-RequestId", id) ||
        evb_http_response_header(resp, "Content-Type", content_type))
        internal_error(resp);
}

/* The error type of an AWS-shaped error body, for the log (no copy:
 * NULL when the body is not one). */
static const char *error_type(const evb_http_response_t *resp, char *out,
                              size_t size) {
    const char *b = resp->body.data;
    if (resp->status < 400 || !b || strncmp(b, "{\"__type\":\"", 11) != 0)
        return NULL;
    const char *end = strchr(b + 11, '"');
    size_t n = end ? (size_t)(end - (b + 11)) : 0;
    if (!n || n >= size)
        return NULL;
    memcpy(out, b + 11, n);
    out[n] = '\0';
    return out;
}

void evb_api_handle(void *ud, const evb_http_request_t *req,
                    evb_http_response_t *resp) {
    const evb_api_t *api = ud;
    uint64_t t0 = evb_now_ns();
    char *id = evb_arena_alloc(req->arena, 37);
    if (!id || evb_uuid_v4(id) != EVB_ERR_OK) {
        internal_error(resp);
        /* cannot fail: no header is set yet */
        (void)evb_http_response_header(resp, "Content-Type",
                                       JSON_CONTENT_TYPE_11);
        return;
    }
    handle(api, req, resp, id);
    /* one line per request at debug; server errors at warn (never the
     * body, nor a header that could carry a secret) */
    evb_log_level_t level =
        resp->status >= 500 && resp->status != 503 ? EVB_LOG_WARN
                                                    : EVB_LOG_DEBUG;
    if (!evb_log_enabled(level))
        return;
    char type[128];
    evb_log_field_t f[] = {
        EVB_LOG_STR("request_id", id),
        EVB_LOG_STR("method", req->method),
        EVB_LOG_STR("path", req->path),
        EVB_LOG_STR("target", evb_http_request_header(req, "X-Amz-Target")),
        EVB_LOG_INT("status", resp->status),
        EVB_LOG_STR("error", error_type(resp, type, sizeof type)),
        EVB_LOG_NUM("ms", (double)(evb_now_ns() - t0) / 1e6),
    };
    evb_log_fields(level, "api", "request", f, EVB_ARRAY_LEN(f));
}
