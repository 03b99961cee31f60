/*
 * api_auth.c: SigV4 authentication of every API request (api.h), the hook
 * evb_api_handle runs before dispatch when the API was given a verifier
 * (`evbus serve --credentials`).
 *
 * It hands sigv4 the request as it came off the wire: the raw request
 * target (path and query still percent-encoded, from the HTTP layer's
 * raw_uri), every header in the order received, and the body. The
 * credential scope's service must be the signing name of the API the
 * request is for: the X-Amz-Target prefix for AWS JSON calls
 * (AWSEvents -> events, Logs_20140328 -> logs, AmazonSQS -> sqs), the path
 * for REST services (/v1/pipes -> pipes); other requests accept any name
 * the verifier was configured with. A refusal is 403 with AWS's error
 * type and message in the AWS JSON error shape, e.g.
 *   {"__type":"UnrecognizedClientException",
 *    "message":"The security token included in the request is invalid."}
 * The message never says which part of a signature or secret differed.
 */
#include <string.h>
#include <time.h>

#include "api_internal.h"

typedef struct header_list {
    evb_arena_t *arena;
    evb_sigv4_header_t *h;
    size_t n, cap;
    bool nomem;
} header_list_t;

static bool collect(void *ud, const char *name, const char *value) {
    header_list_t *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        evb_sigv4_header_t *h = evb_arena_alloc(l->arena, cap * sizeof *h);
        if (!h) {
            l->nomem = true;
            return false;
        }
        if (l->n)
            memcpy(h, l->h, l->n * sizeof *h);
        l->h = h;
        l->cap = cap;
    }
    l->h[l->n++] = (evb_sigv4_header_t){name, strlen(name), value,
                                        strlen(value)};
    return true;
}

/* The SigV4 signing name of the service req is for; NULL: any. */
static const char *signing_name(const evb_http_request_t *req) {
    static const struct {
        const char *prefix, *name;
    } targets[] = {
        {"AWSEvents.", "events"},
        {"Logs_20140328.", "logs"},
        {"AmazonSQS.", "sqs"},
    };
    if (strcmp(req->path, "/") == 0) {
        const char *t = evb_http_request_header(req, "X-Amz-Target");
        for (size_t i = 0; t && i < EVB_ARRAY_LEN(targets); i++)
            if (strncmp(t, targets[i].prefix, strlen(targets[i].prefix)) == 0)
                return targets[i].name;
        return NULL;
    }
    if (strncmp(req->path, "/v1/pipes", 9) == 0 &&
        (req->path[9] == '\0' || req->path[9] == '/'))
        return "pipes";
    return NULL;
}

static void refuse(evb_http_response_t *resp, unsigned status,
                   const char *type, const char *message) {
    if (evb__api_error_body(resp, status, type, message)) {
        evb_buf_free(&resp->body);
        resp->status = 500;
    }
}

bool evb__api_authenticate(const evb_api_t *api, const evb_http_request_t *req,
                           evb_http_response_t *resp, const char **account) {
    *account = api->account;
    header_list_t hl = {.arena = req->arena};
    evb_http_request_headers(req, collect, &hl);
    if (hl.nomem) {
        refuse(resp, 500, "InternalFailure", "Out of memory");
        return false;
    }
    const char *target = req->raw_uri ? req->raw_uri : req->path;
    const char *q = strchr(target, '?');
    evb_sigv4_request_t r = {
        .method = req->method,
        .path = target,
        .path_len = q ? (size_t)(q - target) : strlen(target),
        .query = q ? q + 1 : NULL,
        .query_len = q ? strlen(q + 1) : 0,
        .headers = hl.h,
        .nheaders = hl.n,
        .body = req->body,
        .body_len = req->body_len,
    };
    evb_sigv4_result_t res;
    evb_sigv4_status_t st = evb_sigv4_verify(api->verifier, &r,
                                             signing_name(req), time(NULL),
                                             &res);
    if (st == EVB_SIGV4_OK) {
        if (res.account_id) {
            char *a = evb_arena_strndup(req->arena, res.account_id,
                                        strlen(res.account_id));
            if (!a) {
                refuse(resp, 500, "InternalFailure", "Out of memory");
                return false;
            }
            *account = a;
        }
        return true;
    }
    refuse(resp, st == EVB_SIGV4_NOMEM ? 500 : 403,
           evb_sigv4_status_aws_type(st, res.query_form), res.message);
    return false;
}
