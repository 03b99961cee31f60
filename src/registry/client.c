/*
 * client.c: a client for any Confluent-compatible schema registry
 * (Confluent's own, Redpanda's, Karapace, Apicurio's compatibility API,
 * evbus's), over libcurl.
 *
 * Requests are synchronous on the calling thread. Easy handles are kept
 * in a small pool between calls so that connections are reused
 * (keep-alive) without sharing a handle between threads. Schemas fetched
 * or registered by id go into the id cache (cache.c), since an id never
 * changes meaning: a decoder asks for the same few ids for every record.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_internal.h"

#define DEFAULT_TIMEOUT_MS 10000L
#define MAX_RESPONSE ((size_t)16 * 1024 * 1024)
#define POOL_MAX 8
#define MEDIA_TYPE "application/vnd.schemaregistry.v1+json"

struct evb_registry_client {
    char *url; /* without a trailing '/' */
    char *user_info;
    long timeout_ms;
    evb__cache_t cache;
    pthread_mutex_t mu; /* guards pool */
    CURL *pool[POOL_MAX];
    size_t npool;
    _Atomic uint64_t hits, requests;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_ALL);
}

evb_err_t evb_registry_client_new(const evb_registry_client_config_t *cfg,
                                  evb_registry_client_t **out, char *errstr,
                                  size_t errstr_size) {
    *out = NULL;
    const char *url = cfg ? cfg->url : NULL;
    if (!url || (strncmp(url, "http://", 7) != 0 &&
                 strncmp(url, "https://", 8) != 0))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "schema registry URL '%s' is not http:// or "
                           "https://",
                           url ? url : "");
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "libcurl: %s", curl_easy_strerror(curl_init_rc));
    evb_registry_client_t *c = calloc(1, sizeof *c);
    if (!c)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    c->url = strndup(url, n);
    c->user_info = cfg->user_info ? strdup(cfg->user_info) : NULL;
    if (!c->url || (cfg->user_info && !c->user_info)) {
        free(c->url);
        free(c->user_info);
        free(c);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    evb__cache_init(&c->cache, cfg->cache_max);
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return EVB_ERR_OK;
}

void evb_registry_client_free(evb_registry_client_t *c) {
    if (!c)
        return;
    for (size_t i = 0; i < c->npool; i++)
        curl_easy_cleanup(c->pool[i]);
    pthread_mutex_destroy(&c->mu);
    evb__cache_destroy(&c->cache);
    free(c->url);
    free(c->user_info);
    free(c);
}

void evb_registry_client_stats(evb_registry_client_t *c, uint64_t *hits,
                               uint64_t *requests) {
    if (hits)
        *hits = atomic_load(&c->hits);
    if (requests)
        *requests = atomic_load(&c->requests);
}

/* ---- one request ----------------------------------------------------------- */

static CURL *take_handle(evb_registry_client_t *c) {
    CURL *h = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->npool)
        h = c->pool[--c->npool];
    pthread_mutex_unlock(&c->mu);
    if (h)
        curl_easy_reset(h); /* keeps the connection cache */
    else
        h = curl_easy_init();
    return h;
}

static void give_handle(evb_registry_client_t *c, CURL *h) {
    pthread_mutex_lock(&c->mu);
    if (c->npool < POOL_MAX) {
        c->pool[c->npool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (h)
        curl_easy_cleanup(h);
}

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
    evb_buf_t *b = ud;
    return evb_buf_append(b, p, size * n) ? 0 : size * n;
}

_Static_assert(sizeof((evb_registry_http_answer_t *)0)->error >=
                   CURL_ERROR_SIZE,
               "the answer's error buffer holds libcurl's words");

evb_err_t evb_registry_http(void *easy, const evb_registry_http_request_t *req,
                            evb_registry_http_answer_t *ans) {
    ans->curl_code = CURLE_OK;
    ans->error[0] = '\0';
    ans->status = 0;
    evb_buf_init(&ans->body, req->max_answer);
    CURL *h = easy;
    if (!h) {
        pthread_once(&curl_once, curl_init);
        h = curl_easy_init();
    }
    struct curl_slist *hdrs = NULL, *t = NULL;
    evb_buf_t accept;
    evb_buf_init(&accept, 0);
    if (!evb_buf_appendf(&accept, "Accept: %s", req->accept))
        t = curl_slist_append(NULL, accept.data);
    evb_buf_free(&accept);
    hdrs = t;
    if (t && req->body) {
        t = curl_slist_append(hdrs, "Content-Type: " MEDIA_TYPE);
        if (t)
            hdrs = t;
    }
    if (!h || !t) {
        curl_slist_free_all(hdrs);
        if (h && !easy)
            curl_easy_cleanup(h);
        return EVB_ERR_NOMEM;
    }
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ans->body);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ans->error);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (req->user_info) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, req->user_info);
    }
    if (req->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)strlen(req->body));
    }
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ans->status);
    if (easy) { /* the caller keeps it: nothing may point into req or ans */
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    } else {
        curl_easy_cleanup(h);
    }
    curl_slist_free_all(hdrs);
    ans->curl_code = (int)rc;
    if (rc != CURLE_OK && !ans->error[0])
        snprintf(ans->error, sizeof ans->error, "%s", curl_easy_strerror(rc));
    return EVB_ERR_OK;
}

/*
 * Send method path (already escaped) with an optional JSON body; on a 2xx
 * answer *json gets the parsed body. Other answers become the registry
 * error their error_code names, with the registry's message.
 */
static evb_registry_err_t request(evb_registry_client_t *c, const char *method,
                                  const char *path, const char *body,
                                  json_t **json, evb_buf_t *msg) {
    *json = NULL;
    atomic_fetch_add(&c->requests, 1);
    evb_buf_t url;
    evb_buf_init(&url, 0);
    if (evb_buf_appendf(&url, "%s%s", c->url, path)) {
        evb__msg(msg, "Out of memory");
        return EVB_REGISTRY_ERR_NOMEM;
    }
    CURL *h = take_handle(c);
    evb_registry_http_request_t rq = {
        .method = method,
        .url = url.data,
        .accept = MEDIA_TYPE ", application/vnd.schemaregistry+json; "
                             "qs=0.9, application/json; qs=0.5",
        .body = body,
        .user_info = c->user_info,
        .timeout_ms = c->timeout_ms,
        .max_answer = MAX_RESPONSE,
    };
    evb_registry_http_answer_t ans;
    if (!h || evb_registry_http(h, &rq, &ans)) {
        if (h)
            curl_easy_cleanup(h);
        evb_buf_free(&url);
        evb__msg(msg, "Out of memory");
        return EVB_REGISTRY_ERR_NOMEM;
    }
    give_handle(c, h);

    evb_registry_err_t err = EVB_REGISTRY_ERR_OK;
    if (ans.curl_code != CURLE_OK) {
        evb__msg(msg, "%s %s: %s", method, url.data, ans.error);
        err = ans.curl_code == CURLE_WRITE_ERROR
                  ? EVB_REGISTRY_ERR_BAD_RESPONSE
                  : EVB_REGISTRY_ERR_TRANSPORT;
    } else {
        json_error_t jerr;
        json_t *j = ans.body.len ? json_loadb(ans.body.data, ans.body.len,
                                              JSON_DECODE_ANY, &jerr)
                                 : NULL;
        if (ans.status >= 200 && ans.status < 300) {
            if (!j) {
                evb__msg(msg, "%s %s: answer is not JSON", method, url.data);
                err = EVB_REGISTRY_ERR_BAD_RESPONSE;
            } else {
                *json = j;
                j = NULL;
            }
        } else {
            json_t *code = json_object_get(j, "error_code");
            const char *m = json_string_value(json_object_get(j, "message"));
            err = json_is_integer(code)
                      ? evb_registry_err_from_code(
                            (int)json_integer_value(code))
                      : EVB_REGISTRY_ERR_REMOTE;
            if (m)
                evb__msg(msg, "%s", m);
            else
                evb__msg(msg, "%s %s: HTTP %ld", method, url.data,
                         ans.status);
        }
        json_decref(j);
    }
    evb_buf_free(&url);
    evb_buf_free(&ans.body);
    return err;
}

/* "/subjects/<escaped subject>" */
static evb_registry_err_t subject_path(const char *subject, evb_buf_t *b,
                                       evb_buf_t *msg) {
    char *esc = curl_easy_escape(NULL, subject, 0);
    evb_err_t err = esc ? evb_buf_appendf(b, "/subjects/%s", esc)
                        : EVB_ERR_NOMEM;
    curl_free(esc);
    if (err) {
        evb__msg(msg, "Out of memory");
        return EVB_REGISTRY_ERR_NOMEM;
    }
    return EVB_REGISTRY_ERR_OK;
}

static const char *type_of(const json_t *j) {
    const char *t = json_string_value(json_object_get(j, "schemaType"));
    if (!t || strcmp(t, "AVRO") == 0)
        return "AVRO";
    if (strcmp(t, "JSON") == 0)
        return "JSON";
    if (strcmp(t, "PROTOBUF") == 0)
        return "PROTOBUF";
    return "UNKNOWN";
}

/* Fill out from a schema object of the registry's answer. */
static evb_registry_err_t fill(const json_t *j, evb_registry_schema_t *out,
                               evb_buf_t *msg) {
    const json_t *s = json_object_get(j, "schema");
    if (!json_is_string(s)) {
        evb__msg(msg, "the registry's answer has no schema");
        return EVB_REGISTRY_ERR_BAD_RESPONSE;
    }
    out->type = type_of(j);
    out->schema_len = json_string_length(s);
    out->schema = malloc(out->schema_len + 1);
    if (!out->schema) {
        evb__msg(msg, "Out of memory");
        return EVB_REGISTRY_ERR_NOMEM;
    }
    memcpy(out->schema, json_string_value(s), out->schema_len + 1);
    return EVB_REGISTRY_ERR_OK;
}

evb_registry_err_t evb_registry_client_get_by_id(evb_registry_client_t *c,
                                                 int32_t id,
                                                 evb_registry_schema_t *out,
                                                 evb_buf_t *msg) {
    memset(out, 0, sizeof *out);
    if (evb__cache_get(&c->cache, id, out)) {
        atomic_fetch_add(&c->hits, 1);
        return EVB_REGISTRY_ERR_OK;
    }
    char path[64];
    snprintf(path, sizeof path, "/schemas/ids/%d", (int)id);
    json_t *j;
    evb_registry_err_t err = request(c, "GET", path, NULL, &j, msg);
    if (!err) {
        out->id = id;
        err = fill(j, out, msg);
        json_decref(j);
    }
    if (err) {
        evb_registry_schema_clear(out);
        return err;
    }
    if (strcmp(out->type, "AVRO") == 0)
        evb__cache_put(&c->cache, id, out->schema, out->schema_len, 0);
    return EVB_REGISTRY_ERR_OK;
}

evb_registry_err_t evb_registry_client_get_version(evb_registry_client_t *c,
                                                   const char *subject,
                                                   int32_t version,
                                                   evb_registry_schema_t *out,
                                                   evb_buf_t *msg) {
    memset(out, 0, sizeof *out);
    evb_buf_t path;
    evb_buf_init(&path, 0);
    evb_registry_err_t err = subject_path(subject, &path, msg);
    if (!err) {
        evb_err_t e =
            version == EVB_REGISTRY_VERSION_LATEST
                ? evb_buf_appendf(&path, "/versions/latest")
                : evb_buf_appendf(&path, "/versions/%d", (int)version);
        if (e) {
            evb__msg(msg, "Out of memory");
            err = EVB_REGISTRY_ERR_NOMEM;
        }
    }
    json_t *j = NULL;
    if (!err)
        err = request(c, "GET", path.data, NULL, &j, msg);
    evb_buf_free(&path);
    if (!err) {
        const json_t *id = json_object_get(j, "id");
        const json_t *ver = json_object_get(j, "version");
        const char *subj = json_string_value(json_object_get(j, "subject"));
        if (!json_is_integer(id) || !json_is_integer(ver)) {
            evb__msg(msg, "the registry's answer has no id or version");
            err = EVB_REGISTRY_ERR_BAD_RESPONSE;
        } else {
            out->id = (int32_t)json_integer_value(id);
            out->version = (int32_t)json_integer_value(ver);
            out->subject = strdup(subj ? subj : subject);
            err = out->subject ? fill(j, out, msg) : EVB_REGISTRY_ERR_NOMEM;
            if (err == EVB_REGISTRY_ERR_NOMEM)
                evb__msg(msg, "Out of memory");
        }
        json_decref(j);
    }
    if (err) {
        evb_registry_schema_clear(out);
        return err;
    }
    if (strcmp(out->type, "AVRO") == 0)
        evb__cache_put(&c->cache, out->id, out->schema, out->schema_len, 0);
    return EVB_REGISTRY_ERR_OK;
}

evb_registry_err_t evb_registry_client_register(evb_registry_client_t *c,
                                                const char *subject,
                                                const char *schema, size_t len,
                                                const char *schema_type,
                                                int32_t *id, evb_buf_t *msg) {
    *id = 0;
    json_t *body = json_object();
    json_t *s = json_stringn(schema, len);
    if (!body || !s || json_object_set_new(body, "schema", s) ||
        (schema_type && strcmp(schema_type, "AVRO") != 0 &&
         json_object_set_new(body, "schemaType", json_string(schema_type)))) {
        if (!body)
            json_decref(s);
        json_decref(body);
        evb__msg(msg, "Out of memory (or the schema is not UTF-8)");
        return EVB_REGISTRY_ERR_NOMEM;
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    evb_buf_t path;
    evb_buf_init(&path, 0);
    evb_registry_err_t err =
        text ? subject_path(subject, &path, msg) : EVB_REGISTRY_ERR_NOMEM;
    if (!err && evb_buf_append(&path, "/versions", 9))
        err = EVB_REGISTRY_ERR_NOMEM;
    if (err == EVB_REGISTRY_ERR_NOMEM)
        evb__msg(msg, "Out of memory");
    json_t *j = NULL;
    if (!err)
        err = request(c, "POST", path.data, text, &j, msg);
    free(text);
    evb_buf_free(&path);
    if (err)
        return err;
    const json_t *jid = json_object_get(j, "id");
    if (!json_is_integer(jid)) {
        json_decref(j);
        evb__msg(msg, "the registry's answer has no id");
        return EVB_REGISTRY_ERR_BAD_RESPONSE;
    }
    *id = (int32_t)json_integer_value(jid);
    json_decref(j);
    if (!schema_type || strcmp(schema_type, "AVRO") == 0)
        evb__cache_put(&c->cache, *id, schema, len, 0);
    return EVB_REGISTRY_ERR_OK;
}
