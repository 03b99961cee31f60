/*
 * source.c: where the codec's schemas come from.
 *
 * In-process: evbus's own registry (evb_registry_lookup_id / _uuid /
 * _register / _get_version), which answers from SQLite.
 *
 * External: any Confluent-compatible registry through src/registry's
 * libcurl client (ids, versions, registration, with its id cache), plus
 * the three requests that client does not make, sent with the registry
 * module's evb_registry_http over a fresh libcurl handle each (they are
 * rare: their answers are cached by the codec or asked once per writer):
 *   GET  /schemas/uuids/{uuid}               evbus: a Glue UUID's schema
 *   POST /subjects/{s}                       the version holding a schema
 *   GET  /subjects/{s}/versions/{v}/uuid     evbus: a version's UUID
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serde_internal.h"

#define MEDIA_TYPE "application/vnd.schemaregistry.v1+json"
#define MAX_RESPONSE ((size_t)16 * 1024 * 1024)
#define DEFAULT_TIMEOUT_MS 10000L

struct evb__serde_remote {
    char *url; /* without a trailing '/' */
    char *user_info;
    long timeout_ms;
};

evb_err_t evb__serde_err_of(evb_registry_err_t rerr) {
    switch (rerr) {
    case EVB_REGISTRY_ERR_OK: return EVB_ERR_OK;
    case EVB_REGISTRY_ERR_SUBJECT_NOT_FOUND:
    case EVB_REGISTRY_ERR_VERSION_NOT_FOUND:
    case EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND: return EVB_ERR_NOT_FOUND;
    case EVB_REGISTRY_ERR_NOMEM: return EVB_ERR_NOMEM;
    case EVB_REGISTRY_ERR_STORE:
    case EVB_REGISTRY_ERR_TIMEOUT:
    case EVB_REGISTRY_ERR_TRANSPORT:
    case EVB_REGISTRY_ERR_BAD_RESPONSE:
    case EVB_REGISTRY_ERR_REMOTE: return EVB_ERR_IO;
    default: return EVB_ERR_INVALID_ARG;
    }
}

/* Turn a registry answer into (evb_err_t, errstr). */
static evb_err_t from_registry(evb_registry_err_t rerr, evb_registry_err_t *out,
                               const evb_buf_t *msg, char *errstr,
                               size_t errstr_size) {
    if (out)
        *out = rerr;
    if (!rerr)
        return EVB_ERR_OK;
    const char *m = msg->len ? msg->data : evb_registry_err_message(rerr);
    int code = evb_registry_err_code(rerr);
    if (code)
        return evb_err_set(evb__serde_err_of(rerr), errstr, errstr_size,
                           "%s (schema registry error %d)", m, code);
    return evb_err_set(evb__serde_err_of(rerr), errstr, errstr_size, "%s", m);
}

static evb_err_t no_source(char *errstr, size_t errstr_size) {
    return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                       "no schema registry is configured, so Avro values "
                       "cannot be resolved");
}

evb_err_t evb__serde_fetch_id(evb_serde_t *s, int32_t id,
                              evb_registry_schema_t *out,
                              evb_registry_err_t *rerr, char *errstr,
                              size_t errstr_size) {
    memset(out, 0, sizeof *out);
    *rerr = EVB_REGISTRY_ERR_OK;
    if (!s->registry && !s->client)
        return no_source(errstr, errstr_size);
    evb_buf_t msg;
    evb_buf_init(&msg, 4096);
    evb_registry_err_t r =
        s->registry ? evb_registry_lookup_id(s->registry, id, out, &msg)
                    : evb_registry_client_get_by_id(s->client, id, out, &msg);
    evb_err_t err = from_registry(r, rerr, &msg, errstr, errstr_size);
    evb_buf_free(&msg);
    return err;
}

/* ---- libcurl, for what the client lacks ---------------------------------- */

evb_err_t evb__serde_remote_new(const evb_serde_config_t *cfg,
                                evb__serde_remote_t **out, char *errstr,
                                size_t errstr_size) {
    *out = NULL;
    evb__serde_remote_t *r = calloc(1, sizeof *r);
    if (!r)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    size_t n = strlen(cfg->registry_url);
    while (n > 0 && cfg->registry_url[n - 1] == '/')
        n--;
    r->url = strndup(cfg->registry_url, n);
    r->user_info = cfg->user_info ? strdup(cfg->user_info) : NULL;
    r->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    if (!r->url || (cfg->user_info && !r->user_info)) {
        evb__serde_remote_free(r);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    *out = r;
    return EVB_ERR_OK;
}

void evb__serde_remote_free(evb__serde_remote_t *r) {
    if (!r)
        return;
    free(r->url);
    free(r->user_info);
    free(r);
}

/*
 * method path (already escaped) with an optional JSON body. A 2xx answer
 * gives *json; any other answer becomes the registry error its
 * error_code names, with the registry's message in errstr.
 */
static evb_err_t http(evb__serde_remote_t *r, const char *method,
                      const char *path, const char *body, json_t **json,
                      evb_registry_err_t *rerr, char *errstr,
                      size_t errstr_size) {
    *json = NULL;
    *rerr = EVB_REGISTRY_ERR_OK;
    evb_buf_t url;
    evb_buf_init(&url, 0);
    evb_registry_http_request_t rq = {
        .method = method,
        .accept = MEDIA_TYPE ", application/json",
        .body = body,
        .user_info = r->user_info,
        .timeout_ms = r->timeout_ms,
        .max_answer = MAX_RESPONSE,
    };
    evb_registry_http_answer_t ans;
    evb_err_t err = evb_buf_appendf(&url, "%s%s", r->url, path);
    rq.url = url.data;
    if (!err)
        err = evb_registry_http(NULL, &rq, &ans);
    if (err) {
        evb_buf_free(&url);
        *rerr = EVB_REGISTRY_ERR_NOMEM;
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }

    if (ans.curl_code != 0) {
        *rerr = EVB_REGISTRY_ERR_TRANSPORT;
        err = evb_err_set(EVB_ERR_IO, errstr, errstr_size, "%s %s: %s", method,
                          url.data, ans.error);
    } else {
        json_error_t jerr;
        json_t *j = ans.body.len ? json_loadb(ans.body.data, ans.body.len,
                                              JSON_DECODE_ANY, &jerr)
                                 : NULL;
        if (ans.status >= 200 && ans.status < 300) {
            if (!j) {
                *rerr = EVB_REGISTRY_ERR_BAD_RESPONSE;
                err = evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                                  "%s %s: the answer is not JSON", method,
                                  url.data);
            } else {
                *json = j;
                j = NULL;
            }
        } else {
            json_t *code = json_object_get(j, "error_code");
            const char *m = json_string_value(json_object_get(j, "message"));
            *rerr =
                json_is_integer(code)
                    ? evb_registry_err_from_code((int)json_integer_value(code))
                    : EVB_REGISTRY_ERR_REMOTE;
            if (*rerr == EVB_REGISTRY_ERR_OK)
                *rerr = EVB_REGISTRY_ERR_REMOTE;
            err = evb__serde_err_of(*rerr);
            if (m && json_is_integer(code))
                evb_err_set(err, errstr, errstr_size,
                            "%s (schema registry error %d)", m,
                            (int)json_integer_value(code));
            else
                evb_err_set(err, errstr, errstr_size, "%s %s: HTTP %ld", method,
                            url.data, ans.status);
        }
        json_decref(j);
    }
    evb_buf_free(&url);
    evb_buf_free(&ans.body);
    return err;
}

static evb_err_t bad_answer(evb_registry_err_t *rerr, const char *what,
                            char *errstr, size_t errstr_size) {
    *rerr = EVB_REGISTRY_ERR_BAD_RESPONSE;
    return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                       "the schema registry's answer has no %s", what);
}

evb_err_t evb__serde_fetch_uuid(evb_serde_t *s, const uint8_t uuid[16],
                                evb_registry_schema_t *out,
                                evb_registry_err_t *rerr, char *errstr,
                                size_t errstr_size) {
    memset(out, 0, sizeof *out);
    *rerr = EVB_REGISTRY_ERR_OK;
    if (s->registry) {
        evb_buf_t msg;
        evb_buf_init(&msg, 4096);
        evb_registry_err_t r =
            evb_registry_lookup_uuid(s->registry, uuid, out, &msg);
        evb_err_t err = from_registry(r, rerr, &msg, errstr, errstr_size);
        evb_buf_free(&msg);
        return err;
    }
    if (!s->remote)
        return no_source(errstr, errstr_size);
    char text[37], path[64];
    evb_wire_uuid_format(uuid, text);
    snprintf(path, sizeof path, "/schemas/uuids/%s", text);
    json_t *j;
    evb_err_t err =
        http(s->remote, "GET", path, NULL, &j, rerr, errstr, errstr_size);
    if (err) {
        if (*rerr == EVB_REGISTRY_ERR_REMOTE) {
            /* registries other than evbus have no such endpoint */
            *rerr = EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND;
            err = evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                              "Schema %s not found (schema registry error "
                              "40403; AWS Glue schema version ids resolve "
                              "only through an evbus registry)",
                              text);
        }
        return err;
    }
    const json_t *sch = json_object_get(j, "schema");
    const json_t *id = json_object_get(j, "id");
    const char *type = json_string_value(json_object_get(j, "schemaType"));
    if (!json_is_string(sch) || !json_is_integer(id)) {
        json_decref(j);
        return bad_answer(rerr, "schema or id", errstr, errstr_size);
    }
    out->id = (int32_t)json_integer_value(id);
    out->type = !type || strcmp(type, "AVRO") == 0 ? "AVRO" : "OTHER";
    out->schema_len = json_string_length(sch);
    out->schema = malloc(out->schema_len + 1);
    out->version = (int32_t)json_integer_value(json_object_get(j, "version"));
    memcpy(out->uuid, uuid, 16);
    if (out->schema)
        memcpy(out->schema, json_string_value(sch), out->schema_len + 1);
    json_decref(j);
    if (!out->schema) {
        *rerr = EVB_REGISTRY_ERR_NOMEM;
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    return EVB_ERR_OK;
}

evb_err_t evb__serde_register(evb_serde_t *s, const char *subject,
                              const char *schema, size_t len, int32_t *id,
                              int32_t *version, evb_registry_err_t *rerr,
                              char *errstr, size_t errstr_size) {
    *id = 0;
    *version = 0;
    *rerr = EVB_REGISTRY_ERR_OK;
    if (!s->registry && !s->client)
        return no_source(errstr, errstr_size);
    evb_buf_t msg;
    evb_buf_init(&msg, 4096);
    evb_registry_err_t r;
    if (s->registry) {
        evb_registry_register_req_t rq = {
            .subject = subject, .schema = schema, .schema_len = len};
        r = evb_registry_register(s->registry, &rq, id, version, &msg);
    } else {
        r = evb_registry_client_register(s->client, subject, schema, len, NULL,
                                         id, &msg);
    }
    evb_err_t err = from_registry(r, rerr, &msg, errstr, errstr_size);
    evb_buf_free(&msg);
    return err;
}

evb_err_t evb__serde_fetch_version(evb_serde_t *s, const char *subject,
                                   int32_t version, evb_registry_schema_t *out,
                                   evb_registry_err_t *rerr, char *errstr,
                                   size_t errstr_size) {
    memset(out, 0, sizeof *out);
    *rerr = EVB_REGISTRY_ERR_OK;
    if (!s->registry && !s->client)
        return no_source(errstr, errstr_size);
    evb_buf_t msg;
    evb_buf_init(&msg, 4096);
    evb_registry_err_t r =
        s->registry ? evb_registry_get_version(s->registry, subject, version,
                                               false, out, &msg)
                    : evb_registry_client_get_version(s->client, subject,
                                                      version, out, &msg);
    evb_err_t err = from_registry(r, rerr, &msg, errstr, errstr_size);
    evb_buf_free(&msg);
    return err;
}

/* "/subjects/<escaped subject>" + suffix */
static evb_err_t subject_path(const char *subject, const char *suffix,
                              evb_buf_t *b) {
    char *esc = curl_easy_escape(NULL, subject, 0);
    evb_err_t err =
        esc ? evb_buf_appendf(b, "/subjects/%s%s", esc, suffix) : EVB_ERR_NOMEM;
    curl_free(esc);
    return err;
}

evb_err_t evb__serde_remote_version_of(evb__serde_remote_t *r,
                                       const char *subject, const char *schema,
                                       size_t len, int32_t *version,
                                       evb_registry_err_t *rerr, char *errstr,
                                       size_t errstr_size) {
    *version = 0;
    json_t *body = json_object();
    json_t *sv = json_stringn(schema, len);
    char *text = NULL;
    if (body && sv && json_object_set_new(body, "schema", sv) == 0)
        text = json_dumps(body, JSON_COMPACT);
    else if (!body)
        json_decref(sv);
    json_decref(body);
    evb_buf_t path;
    evb_buf_init(&path, 0);
    if (!text || subject_path(subject, "", &path)) {
        free(text);
        evb_buf_free(&path);
        *rerr = EVB_REGISTRY_ERR_NOMEM;
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory (or the schema is not UTF-8)");
    }
    json_t *j;
    evb_err_t err =
        http(r, "POST", path.data, text, &j, rerr, errstr, errstr_size);
    free(text);
    evb_buf_free(&path);
    if (err)
        return err;
    const json_t *v = json_object_get(j, "version");
    if (!json_is_integer(v)) {
        json_decref(j);
        return bad_answer(rerr, "version", errstr, errstr_size);
    }
    *version = (int32_t)json_integer_value(v);
    json_decref(j);
    return EVB_ERR_OK;
}

evb_err_t evb__serde_remote_uuid_of(evb__serde_remote_t *r, const char *subject,
                                    int32_t version, uint8_t uuid[16],
                                    evb_registry_err_t *rerr, char *errstr,
                                    size_t errstr_size) {
    char suffix[48];
    snprintf(suffix, sizeof suffix, "/versions/%d/uuid", (int)version);
    evb_buf_t path;
    evb_buf_init(&path, 0);
    if (subject_path(subject, suffix, &path)) {
        evb_buf_free(&path);
        *rerr = EVB_REGISTRY_ERR_NOMEM;
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    json_t *j;
    evb_err_t err =
        http(r, "GET", path.data, NULL, &j, rerr, errstr, errstr_size);
    evb_buf_free(&path);
    if (err) {
        if (*rerr == EVB_REGISTRY_ERR_REMOTE) {
            char why[256];
            snprintf(why, sizeof why, "%s", errstr ? errstr : "");
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "the schema registry does not give AWS Glue "
                              "schema version ids (only an evbus registry "
                              "does): %s",
                              why);
        }
        return err;
    }
    const char *u = json_string_value(json_object_get(j, "schemaVersionId"));
    bool ok = u && evb_wire_uuid_parse(u, strlen(u), uuid);
    json_decref(j);
    if (!ok)
        return bad_answer(rerr, "schemaVersionId", errstr, errstr_size);
    return EVB_ERR_OK;
}
