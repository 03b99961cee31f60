/*
 * api_ops.c: the operator's endpoints, a REST service beside the AWS
 * APIs:
 *
 *   GET /metrics        Prometheus text exposition of the default metrics
 *                       registry (metrics.h); unauthenticated only when
 *                       the API says so (public_metrics)
 *   GET /ready          200 {"status":"ready",...} once the server said it
 *                       is (every worker running) and the store answers a
 *                       read; 503 {"status":"not ready","reason":...}
 *                       before that and while shutting down. Never
 *                       authenticated (load balancers and orchestrators
 *                       probe it).
 *   GET /_evbus/tail    server-sent events of a bus (api_tail.c)
 *
 * GET /health (the transport is up) is the HTTP layer's own.
 */
#include <stdio.h>
#include <string.h>

#include "../metrics/metrics.h"
#include "api_internal.h"

static void json_answer(evb_http_response_t *resp, unsigned status,
                        const char *body) {
    resp->status = status;
    evb_buf_reset(&resp->body);
    if (evb_buf_append(&resp->body, body, strlen(body)) ||
        evb_http_response_header(resp, "Content-Type", "application/json")) {
        resp->status = 500;
        evb_buf_free(&resp->body);
    }
}

static bool get_or_head(const evb_http_request_t *req,
                        evb_http_response_t *resp) {
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
        return true;
    json_answer(resp, 405,
                "{\"__type\":\"UnknownOperationException\",\"message\":"
                "\"Only GET and HEAD are served here.\"}");
    (void)evb_http_response_header(resp, "Allow", "GET, HEAD");
    return false;
}

static void metrics(evb_http_response_t *resp) {
    evb_buf_reset(&resp->body);
    if (evb_metrics_render(evb_metrics_default(), &resp->body) ||
        evb_http_response_header(resp, "Content-Type",
                                 EVB_METRICS_CONTENT_TYPE)) {
        json_answer(resp, 500,
                    "{\"__type\":\"InternalException\",\"message\":\"Out of "
                    "memory\"}");
        return;
    }
    resp->status = 200;
}

static evb_err_t select_one(sqlite3 *db, void *arg, char *errstr,
                            size_t errstr_size) {
    (void)arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1", -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "reading the store", errstr, errstr_size);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW
               ? EVB_ERR_OK
               : evb_store_sqlerr(db, "reading the store", errstr, errstr_size);
}

static void ready(const evb_api_t *api, evb_http_response_t *resp) {
    char why[256] = "", body[512];
    const char *reason = NULL;
    if (!atomic_load(&((evb_api_t *)api)->ready))
        reason = "the server is starting or shutting down";
    else if (!api->store || !api->bus)
        reason = "no store";
    else if (!api->delivery)
        reason = "the delivery worker is not running";
    else if (!api->scheduler)
        reason = "the scheduler is not running";
    else if (evb_store_read(api->store, select_one, NULL, why, sizeof why))
        reason = why;
    if (reason) {
        evb_buf_t b;
        evb_buf_init(&b, sizeof body);
        if (!evb_buf_append(&b, "{\"status\":\"not ready\",\"reason\":", 31) &&
            !evb_json_append_string(&b, reason, strlen(reason)) &&
            !evb_buf_putc(&b, '}'))
            snprintf(body, sizeof body, "%s\n", b.data);
        else
            snprintf(body, sizeof body, "{\"status\":\"not ready\"}\n");
        evb_buf_free(&b);
        json_answer(resp, 503, body);
        return;
    }
    json_answer(resp, 200,
                "{\"status\":\"ready\",\"store\":\"ok\",\"delivery\":"
                "\"running\",\"scheduler\":\"running\"}\n");
}

static void ops_handle(const evb_api_t *api, const evb_http_request_t *req,
                       evb_http_response_t *resp) {
    if (strncmp(req->path, "/_evbus/tail", 12) == 0 &&
        (req->path[12] == '\0' || req->path[12] == '/')) {
        evb__tail_handle(api, req, resp);
        return;
    }
    if (strcmp(req->path, "/metrics") == 0) {
        if (get_or_head(req, resp))
            metrics(resp);
        return;
    }
    if (strcmp(req->path, "/ready") == 0) {
        if (get_or_head(req, resp))
            ready(api, resp);
        return;
    }
    json_answer(resp, 404,
                "{\"__type\":\"UnknownOperationException\",\"message\":\"No "
                "such evbus endpoint.\"}");
}

static const char *const ops_prefixes[] = {"/metrics", "/ready", "/_evbus",
                                           NULL};

const evb__api_rest_service_t evb__api_ops_service = {ops_prefixes, ops_handle};
