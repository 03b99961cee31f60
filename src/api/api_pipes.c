/*
 * api_pipes.c: the EventBridge Pipes REST API (reference §6.1), served on
 * the same port as everything else.
 *
 * Pipes speaks REST-JSON (botocore's `pipes` model: signing name `pipes`,
 * API version 2015-10-07), not AWS JSON 1.1: the action is the method and
 * path, the pipe name is in the path, ListPipes' filters and UntagResource's
 * keys are query arguments. Routes:
 *
 *   POST   /v1/pipes/{Name}         CreatePipe
 *   PUT    /v1/pipes/{Name}         UpdatePipe
 *   GET    /v1/pipes/{Name}         DescribePipe
 *   DELETE /v1/pipes/{Name}         DeletePipe
 *   GET    /v1/pipes                ListPipes
 *   POST   /v1/pipes/{Name}/start   StartPipe
 *   POST   /v1/pipes/{Name}/stop    StopPipe
 *   POST   /tags/{resourceArn}      TagResource
 *   DELETE /tags/{resourceArn}      UntagResource (?tagKeys=..&tagKeys=..)
 *   GET    /tags/{resourceArn}      ListTagsForResource
 *
 * Errors are REST-JSON's: the exception name in the x-amzn-ErrorType
 * header, {"message": "..."} as the body (ConflictException adds
 * resourceId and resourceType), and the model's status codes:
 * ValidationException 400, NotFoundException 404, ConflictException 409,
 * ServiceQuotaExceededException 402, InternalException 500. The work is
 * done by the pipes module (pipes.h); this file only routes and shapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

#define JSON_TYPE "application/json"

static const char *const prefixes[] = {"/v1/pipes", "/tags", NULL};

static void set_json(evb_http_response_t *resp, unsigned status,
                     const json_t *body) {
    resp->status = status;
    evb_buf_reset(&resp->body);
    char *s = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(13));
    if (!s || evb_buf_append(&resp->body, s, strlen(s))) {
        resp->status = 500;
        evb_buf_reset(&resp->body);
    }
    free(s);
    (void)evb_http_response_header(resp, "Content-Type", JSON_TYPE);
}

static void fail(evb_http_response_t *resp, unsigned status, const char *type,
                 const char *message, const char *resource_id) {
    json_t *b = json_object();
    if (b) {
        json_object_set_new(b, "message", json_string(message));
        if (resource_id) {
            json_object_set_new(b, "resourceId", json_string(resource_id));
            json_object_set_new(b, "resourceType", json_string("pipe"));
        }
    }
    set_json(resp, status, b);
    json_decref(b);
    resp->status = status;
    (void)evb_http_response_header(resp, "x-amzn-ErrorType", type);
}

/* An error from the pipes module. */
static void fail_err(evb_http_response_t *resp, evb_err_t err,
                     const char *message, const char *name) {
    switch (err) {
    case EVB_ERR_INVALID_ARG:
    case EVB_ERR_INVALID_EVENT_PATTERN:
        fail(resp, 400, "ValidationException", message, NULL);
        break;
    case EVB_ERR_NOT_FOUND:
        fail(resp, 404, "NotFoundException", message, NULL);
        break;
    case EVB_ERR_EXISTS:
    case EVB_ERR_CONCURRENT_MODIFICATION:
        fail(resp, 409, "ConflictException", message, name ? name : "");
        break;
    case EVB_ERR_LIMIT_EXCEEDED:
        fail(resp, 402, "ServiceQuotaExceededException", message, NULL);
        break;
    default:
        fail(resp, 500, "InternalException",
             message && *message ? message : evb_err_message(err), NULL);
    }
}

/* The request body as a JSON object ({} when empty); NULL after failing
 * the response. */
static json_t *body_object(const evb_http_request_t *req,
                           evb_http_response_t *resp) {
    size_t i = 0;
    while (i < req->body_len &&
           (req->body[i] == ' ' || req->body[i] == '\n' ||
            req->body[i] == '\r' || req->body[i] == '\t'))
        i++;
    if (i == req->body_len)
        return json_object();
    json_error_t je;
    json_t *o = json_loadb(req->body, req->body_len, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        char msg[300];
        snprintf(msg, sizeof msg, "The request body is not a JSON object: %s",
                 je.text);
        fail(resp, 400, "SerializationException", msg, NULL);
        return NULL;
    }
    return o;
}

static void answer(evb_http_response_t *resp, evb_err_t err, json_t *out,
                   const char *errstr, const char *name) {
    if (err)
        fail_err(resp, err, errstr, name);
    else
        set_json(resp, 200, out);
    json_decref(out);
}

static void wrong_method(evb_http_response_t *resp, const char *method,
                         const char *path) {
    char msg[300];
    snprintf(msg, sizeof msg, "No operation is served at %.40s %.200s.",
             method, path);
    fail(resp, 405, "UnknownOperationException", msg, NULL);
}

static void list_pipes(evb_pipe_service_t *svc, const evb_http_request_t *req,
                       evb_http_response_t *resp) {
    evb_pipe_list_query_t q = {
        .name_prefix = evb_http_request_query(req, "NamePrefix"),
        .desired_state = evb_http_request_query(req, "DesiredState"),
        .current_state = evb_http_request_query(req, "CurrentState"),
        .source_prefix = evb_http_request_query(req, "SourcePrefix"),
        .target_prefix = evb_http_request_query(req, "TargetPrefix"),
        .next_token = evb_http_request_query(req, "NextToken"),
    };
    const char *limit = evb_http_request_query(req, "Limit");
    if (limit) {
        char *end;
        long v = strtol(limit, &end, 10);
        if (!*limit || *end || v < 1 || v > 100) {
            char msg[300];
            snprintf(msg, sizeof msg,
                     "1 validation error detected: Value '%.40s' at 'limit' "
                     "failed to satisfy constraint: Member must have value "
                     "%s",
                     limit,
                     v < 1 ? "greater than or equal to 1"
                           : "less than or equal to 100");
            fail(resp, 400, "ValidationException", msg, NULL);
            return;
        }
        q.limit = (unsigned)v;
    }
    const char *states[] = {q.desired_state, q.current_state};
    for (int i = 0; i < 2; i++)
        if (states[i] && !*states[i])
            (i ? &q.current_state : &q.desired_state)[0] = NULL;
    json_t *out = NULL;
    char errstr[1024] = "";
    evb_err_t err = evb_pipe_list(svc, &q, &out, errstr, sizeof errstr);
    answer(resp, err, out, errstr, NULL);
}

typedef struct keys {
    const char **v;
    size_t n, cap;
    bool nomem;
} keys_t;

static void add_key(void *ud, const char *value) {
    keys_t *k = ud;
    if (k->n == k->cap) {
        size_t nc = k->cap ? k->cap * 2 : 8;
        const char **nv = realloc(k->v, nc * sizeof *nv);
        if (!nv) {
            k->nomem = true;
            return;
        }
        k->v = nv;
        k->cap = nc;
    }
    k->v[k->n++] = value;
}

static void tags(evb_pipe_service_t *svc, const evb_http_request_t *req,
                 evb_http_response_t *resp, const char *arn) {
    char errstr[1024] = "";
    evb_err_t err;
    if (strcmp(req->method, "GET") == 0) {
        json_t *out = NULL;
        err = evb_pipe_list_tags(svc, arn, &out, errstr, sizeof errstr);
        answer(resp, err, out, errstr, NULL);
    } else if (strcmp(req->method, "POST") == 0) {
        json_t *b = body_object(req, resp);
        if (!b)
            return;
        const json_t *t = json_object_get(b, "tags");
        if (!t || json_is_null(t))
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, sizeof errstr,
                              "1 validation error detected: Value null at "
                              "'tags' failed to satisfy constraint: Member "
                              "must not be null");
        else
            err = evb_pipe_tag(svc, arn, t, errstr, sizeof errstr);
        json_decref(b);
        answer(resp, err, err ? NULL : json_object(), errstr, NULL);
    } else if (strcmp(req->method, "DELETE") == 0) {
        keys_t k = {0};
        evb_http_request_query_each(req, "tagKeys", add_key, &k);
        if (k.nomem)
            err = evb_err_set(EVB_ERR_NOMEM, errstr, sizeof errstr,
                              "out of memory");
        else
            err = evb_pipe_untag(svc, arn, k.v, k.n, errstr, sizeof errstr);
        free(k.v);
        answer(resp, err, err ? NULL : json_object(), errstr, NULL);
    } else {
        wrong_method(resp, req->method, req->path);
    }
}

static void handle(const evb_api_t *api, const evb_http_request_t *req,
                   evb_http_response_t *resp) {
    evb_pipe_service_t *svc = api->pipes;
    if (req->error == EVB_ERR_TOO_LARGE) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 "Request body exceeds the limit of %zu bytes.", req->max_body);
        fail(resp, 413, "RequestEntityTooLargeException", msg, NULL);
        return;
    }
    if (!svc) {
        fail(resp, 500, "InternalException",
             "EventBridge Pipes is not enabled on this server.", NULL);
        return;
    }
    const char *path = req->path;
    if (strncmp(path, "/tags/", 6) == 0 && path[6]) {
        tags(svc, req, resp, path + 6);
        return;
    }
    if (strcmp(path, "/v1/pipes") == 0 || strcmp(path, "/v1/pipes/") == 0) {
        if (strcmp(req->method, "GET") == 0)
            list_pipes(svc, req, resp);
        else
            wrong_method(resp, req->method, path);
        return;
    }
    if (strncmp(path, "/v1/pipes/", 10) != 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "No operation is served at %.40s %.200s.",
                 req->method, path);
        fail(resp, 404, "UnknownOperationException", msg, NULL);
        return;
    }
    /* /v1/pipes/{Name}[/start|/stop] */
    char name[256];
    const char *rest = path + 10;
    const char *slash = strchr(rest, '/');
    size_t nlen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (nlen == 0 || nlen >= sizeof name) {
        fail(resp, nlen ? 400 : 404,
             nlen ? "ValidationException" : "UnknownOperationException",
             nlen ? "1 validation error detected: Value at 'name' failed to "
                    "satisfy constraint: Member must have length less than "
                    "or equal to 64"
                  : "No operation is served at this path.",
             NULL);
        return;
    }
    memcpy(name, rest, nlen);
    name[nlen] = '\0';
    char errstr[2048] = "";
    json_t *out = NULL;
    evb_err_t err;
    if (slash) {
        bool start = strcmp(slash, "/start") == 0;
        if (!start && strcmp(slash, "/stop") != 0) {
            fail(resp, 404, "UnknownOperationException",
                 "No operation is served at this path.", NULL);
            return;
        }
        if (strcmp(req->method, "POST") != 0) {
            wrong_method(resp, req->method, path);
            return;
        }
        err = start ? evb_pipe_start(svc, name, &out, errstr, sizeof errstr)
                    : evb_pipe_stop(svc, name, &out, errstr, sizeof errstr);
        answer(resp, err, out, errstr, name);
        return;
    }
    if (strcmp(req->method, "GET") == 0) {
        err = evb_pipe_describe(svc, name, &out, errstr, sizeof errstr);
    } else if (strcmp(req->method, "DELETE") == 0) {
        err = evb_pipe_delete(svc, name, &out, errstr, sizeof errstr);
    } else if (strcmp(req->method, "POST") == 0 ||
               strcmp(req->method, "PUT") == 0) {
        json_t *b = body_object(req, resp);
        if (!b)
            return;
        err = req->method[1] == 'O'
                  ? evb_pipe_create(svc, name, b, &out, errstr, sizeof errstr)
                  : evb_pipe_update(svc, name, b, &out, errstr, sizeof errstr);
        json_decref(b);
    } else {
        wrong_method(resp, req->method, path);
        return;
    }
    answer(resp, err, out, errstr, name);
}

const evb__api_rest_service_t evb__api_pipes_rest = {
    .prefixes = prefixes,
    .handle = handle,
};
