/*
 * putevents.c: PutEvents calls over libcurl, a few in flight at once.
 *
 * One curl multi handle drives a fixed pool of easy handles (one per call
 * in flight, evbus.max.in.flight), so connections are kept alive and
 * reused between calls. Every request is POST / with the AWS JSON 1.1
 * protocol (X-Amz-Target: AWSEvents.PutEvents) and, when the connector
 * has credentials, AWS Signature V4 for the service "events" in the
 * configured region (src/sigv4). The Host header is set explicitly to the
 * value that was signed.
 *
 * An answer is sorted into one of three outcomes: 200 with per-entry
 * results (each entry either has an EventId or an ErrorCode; throttling
 * and internal failures are marked retriable), 413 (the request was too
 * large: its entries cannot succeed as they are), or anything else,
 * which the runner retries with backoff: a transport error or timeout,
 * 5xx, throttling, and also other 4xx answers (a bus that does not exist,
 * bad credentials), since those are the configuration's fault, not the
 * records', and must not dead-letter them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "connector_internal.h"

#define USER_AGENT "evbus-connector/0.1"
#define MAX_RESPONSE (8u << 20)

typedef struct slot {
    CURL *easy;
    struct curl_slist *hdrs;
    evb_buf_t body, resp;
    void *tag;
    size_t nentries;
    bool busy;
    char curl_err[CURL_ERROR_SIZE];
} slot_t;

struct evb__pe_client {
    CURLM *multi;
    slot_t *slots;
    unsigned nslots, busy;
    char *url, *host, *path, *query, *region;
    const evb_connector_credentials_t *creds;
    long timeout_ms;
    evb__pe_entry_result_t *results;
};

static size_t on_write(char *p, size_t size, size_t n, void *ud) {
    evb_buf_t *b = ud;
    if (evb_buf_append(b, p, size * n))
        return 0;
    return size * n;
}

void evb__pe_client_free(evb__pe_client_t *c) {
    if (!c)
        return;
    for (unsigned i = 0; i < c->nslots; i++) {
        slot_t *s = &c->slots[i];
        if (s->easy) {
            if (s->busy)
                curl_multi_remove_handle(c->multi, s->easy);
            curl_easy_cleanup(s->easy);
        }
        curl_slist_free_all(s->hdrs);
        evb_buf_free(&s->body);
        evb_buf_free(&s->resp);
    }
    if (c->multi)
        curl_multi_cleanup(c->multi);
    free(c->slots);
    free(c->url);
    free(c->host);
    free(c->path);
    free(c->query);
    free(c->region);
    free(c->results);
    free(c);
}

const char *evb__pe_client_url(const evb__pe_client_t *c) {
    return c->url;
}

static evb_err_t split_url(evb__pe_client_t *c, char *errstr,
                           size_t errstr_size) {
    CURLU *u = curl_url();
    if (!u)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    evb_err_t err = EVB_ERR_OK;
    if (curl_url_set(u, CURLUPART_URL, c->url, 0) ||
        curl_url_get(u, CURLUPART_HOST, &host, 0)) {
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "aws.eventbridge.endpoint.uri: cannot parse '%s'",
                          c->url);
        goto done;
    }
    (void)curl_url_get(u, CURLUPART_PORT, &port, 0);
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) || !path)
        path = NULL;
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0))
        query = NULL;
    size_t hl = strlen(host) + (port ? strlen(port) + 2 : 1);
    c->host = malloc(hl);
    c->path = strdup(path && *path ? path : "/");
    c->query = query ? strdup(query) : NULL;
    if (!c->host || !c->path || (query && !c->query)) {
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto done;
    }
    snprintf(c->host, hl, "%s%s%s", host, port ? ":" : "", port ? port : "");
done:
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return err;
}

evb_err_t evb__pe_client_new(const evb__pe_client_config_t *cfg,
                             evb__pe_client_t **out, char *errstr,
                             size_t errstr_size) {
    *out = NULL;
    evb__pe_client_t *c = calloc(1, sizeof *c);
    if (!c)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    c->creds = cfg->creds;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
    c->nslots = cfg->max_in_flight ? cfg->max_in_flight : 1;
    c->region = strdup(cfg->region);
    if (cfg->endpoint && *cfg->endpoint) {
        c->url = strdup(cfg->endpoint);
    } else if (c->region) {
        size_t n = strlen(c->region) + 48;
        if ((c->url = malloc(n)))
            snprintf(c->url, n, "https://events.%s.amazonaws.com%s/", c->region,
                     strncmp(c->region, "cn-", 3) == 0 ? ".cn" : "");
    }
    c->slots = calloc(c->nslots, sizeof *c->slots);
    c->multi = curl_multi_init();
    evb_err_t err = EVB_ERR_OK;
    if (!c->region || !c->url || !c->slots || !c->multi) {
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto fail;
    }
    if ((err = split_url(c, errstr, errstr_size)))
        goto fail;
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->nslots);
    for (unsigned i = 0; i < c->nslots; i++) {
        slot_t *s = &c->slots[i];
        evb_buf_init(&s->body, 16u << 20);
        evb_buf_init(&s->resp, MAX_RESPONSE);
        if (!(s->easy = curl_easy_init())) {
            err = evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                              "cannot create a libcurl handle");
            goto fail;
        }
        curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, &s->resp);
        curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->curl_err);
        curl_easy_setopt(s->easy, CURLOPT_USERAGENT, USER_AGENT);
        curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
        curl_easy_setopt(s->easy, CURLOPT_URL, c->url);
        curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, c->timeout_ms);
        curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
        curl_easy_setopt(s->easy, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    }
    *out = c;
    return EVB_ERR_OK;
fail:
    evb__pe_client_free(c);
    return err;
}

unsigned evb__pe_in_flight(const evb__pe_client_t *c) {
    return c->busy;
}

/* ---- signing ------------------------------------------------------------- */

int evb__pe_sign(const evb_connector_credentials_t *creds, const char *region,
                 const char *host, const char *path, const char *body,
                 size_t len, time_t when, char hdrs[][2600], char *errstr,
                 size_t errstr_size) {
    static const char ctype[] = "application/x-amz-json-1.1";
    static const char target[] = "AWSEvents.PutEvents";
    int n = 0;
    snprintf(hdrs[n++], 2600, "Host: %s", host);
    snprintf(hdrs[n++], 2600, "Content-Type: %s", ctype);
    snprintf(hdrs[n++], 2600, "X-Amz-Target: %s", target);
    if (!creds)
        return n;
    const char *q = strchr(path, '?');
    evb_sigv4_header_t h[3] = {
        {"host", 4, host, strlen(host)},
        {"content-type", 12, ctype, sizeof ctype - 1},
        {"x-amz-target", 12, target, sizeof target - 1},
    };
    evb_sigv4_request_t req = {
        .method = "POST",
        .path = path,
        .path_len = q ? (size_t)(q - path) : strlen(path),
        .query = q ? q + 1 : NULL,
        .query_len = q ? strlen(q + 1) : 0,
        .headers = h,
        .nheaders = 3,
        .body = body,
        .body_len = len,
    };
    evb_sigv4_credentials_t cr = {
        .access_key_id = creds->access_key_id,
        .secret_access_key = creds->secret_access_key,
        .session_token = *creds->session_token ? creds->session_token : NULL,
    };
    evb_sigv4_sign_opts_t o = {
        .region = region, .service = "events", .when = when};
    evb_sigv4_signed_t s;
    memset(&s, 0, sizeof s);
    evb_err_t err = evb_sigv4_sign(&req, &cr, &o, &s, errstr, errstr_size);
    if (err) {
        evb_sigv4_signed_free(&s);
        return -1;
    }
    snprintf(hdrs[n++], 2600, "X-Amz-Date: %s", s.amz_date);
    if (cr.session_token)
        snprintf(hdrs[n++], 2600, "X-Amz-Security-Token: %s", cr.session_token);
    snprintf(hdrs[n++], 2600, "Authorization: %s", s.authorization);
    evb_sigv4_signed_free(&s);
    return n;
}

/* ---- calls --------------------------------------------------------------- */

evb_err_t evb__pe_start(evb__pe_client_t *c, const char *body, size_t len,
                        size_t nentries, void *tag, char *errstr,
                        size_t errstr_size) {
    slot_t *s = NULL;
    for (unsigned i = 0; i < c->nslots && !s; i++)
        if (!c->slots[i].busy)
            s = &c->slots[i];
    if (!s)
        return evb_err_set(EVB_ERR_LIMIT_EXCEEDED, errstr, errstr_size,
                           "no free connection");
    evb_buf_reset(&s->body);
    evb_buf_reset(&s->resp);
    if (evb_buf_append(&s->body, body, len))
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    char pathq[4096];
    snprintf(pathq, sizeof pathq, "%s%s%s", c->path, c->query ? "?" : "",
             c->query ? c->query : "");
    char hdrs[8][2600];
    int nh = evb__pe_sign(c->creds, c->region, c->host, pathq, s->body.data,
                          s->body.len, 0, hdrs, errstr, errstr_size);
    if (nh < 0)
        return EVB_ERR_INVALID_ARG;
    curl_slist_free_all(s->hdrs);
    s->hdrs = NULL;
    for (int i = 0; i <= nh; i++) {
        struct curl_slist *l =
            curl_slist_append(s->hdrs, i < nh ? hdrs[i] : "Expect:");
        if (!l)
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        s->hdrs = l;
    }
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body.data);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)s->body.len);
    s->curl_err[0] = 0;
    if (curl_multi_add_handle(c->multi, s->easy) != CURLM_OK)
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "libcurl refused the request");
    s->tag = tag;
    s->nentries = nentries;
    s->busy = true;
    c->busy++;
    return EVB_ERR_OK;
}

static bool retriable_code(const char *code) {
    static const char *const codes[] = {
        "ThrottlingException", "InternalFailure",
        "InternalException",   "ServiceUnavailable",
        "InternalError",       "ServiceUnavailableException",
        "RequestTimeout",      "RequestTimeoutException"};
    for (size_t i = 0; i < EVB_ARRAY_LEN(codes); i++)
        if (strcmp(code, codes[i]) == 0)
            return true;
    return false;
}

static const char *str_member(json_t *o, const char *a, const char *b) {
    json_t *v = json_object_get(o, a);
    if (!json_is_string(v) && b)
        v = json_object_get(o, b);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

void evb__pe_parse_response(long status, const char *body, size_t len,
                            size_t nentries, evb__pe_result_t *res) {
    res->http_status = status;
    res->error[0] = 0;
    res->nentries = 0;
    json_t *root = len ? json_loadb(body, len, 0, NULL) : NULL;
    if (status == 200) {
        json_t *entries = json_object_get(root, "Entries");
        if (!json_is_array(entries) || json_array_size(entries) != nentries) {
            res->outcome = EVB__PE_RETRY;
            snprintf(res->error, sizeof res->error,
                     "HTTP 200 without %zu result entries", nentries);
        } else {
            res->outcome = EVB__PE_OK;
            res->nentries = nentries;
            for (size_t i = 0; i < nentries; i++) {
                json_t *e = json_array_get(entries, i);
                evb__pe_entry_result_t *r = &res->entries[i];
                memset(r, 0, sizeof *r);
                const char *id = str_member(e, "EventId", NULL);
                if (id && *id) {
                    r->ok = true;
                    continue;
                }
                const char *code = str_member(e, "ErrorCode", NULL);
                const char *msg = str_member(e, "ErrorMessage", NULL);
                snprintf(r->code, sizeof r->code, "%s",
                         code ? code : "UnknownError");
                snprintf(r->message, sizeof r->message, "%s",
                         msg ? msg : "no EventId and no ErrorMessage");
                r->retriable = retriable_code(r->code);
            }
        }
        json_decref(root);
        return;
    }
    const char *type = str_member(root, "__type", "code");
    const char *msg = str_member(root, "message", "Message");
    if (type && strchr(type, '#'))
        type = strchr(type, '#') + 1;
    res->outcome = status == 413 ? EVB__PE_TOO_LARGE : EVB__PE_RETRY;
    if (type || msg)
        snprintf(res->error, sizeof res->error, "HTTP %ld %s: %s", status,
                 type ? type : "", msg ? msg : "");
    else
        snprintf(res->error, sizeof res->error, "HTTP %ld: %.*s", status,
                 (int)(len < 200 ? len : 200), body ? body : "");
    json_decref(root);
}

bool evb__pe_wait(evb__pe_client_t *c, int timeout_ms, evb__pe_result_t *res,
                  void **tag) {
    uint64_t deadline = evb_now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        int running = 0, left = 0;
        curl_multi_perform(c->multi, &running);
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(c->multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            slot_t *s = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            CURLcode rc = msg->data.result;
            curl_multi_remove_handle(c->multi, s->easy);
            s->busy = false;
            c->busy--;
            *tag = s->tag;
            free(c->results);
            c->results =
                calloc(s->nentries ? s->nentries : 1, sizeof *c->results);
            memset(res, 0, sizeof *res);
            res->entries = c->results;
            if (!c->results) {
                res->outcome = EVB__PE_RETRY;
                snprintf(res->error, sizeof res->error, "out of memory");
                return true;
            }
            if (rc != CURLE_OK) {
                res->outcome = EVB__PE_RETRY;
                snprintf(res->error, sizeof res->error, "%s: %s",
                         curl_easy_strerror(rc),
                         s->curl_err[0] ? s->curl_err : c->url);
                return true;
            }
            long status = 0;
            curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
            evb__pe_parse_response(status, s->resp.data, s->resp.len,
                                   s->nentries, res);
            return true;
        }
        uint64_t now = evb_now_ns();
        if (now >= deadline)
            return false;
        int wait = (int)((deadline - now) / 1000000u);
        curl_multi_poll(c->multi, NULL, 0, wait > 0 ? wait : 1, NULL);
    }
}
