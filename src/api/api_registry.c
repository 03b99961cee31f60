/*
 * api_registry.c: the Confluent Schema Registry REST API (reference
 * kafka-connector.md §4.2) over src/registry, served by `evbus serve` on
 * the same port as the AWS APIs:
 *
 *   GET    /subjects                              ?deleted=true
 *   POST   /subjects/{s}                          lookup   ?deleted=true
 *   DELETE /subjects/{s}                          ?permanent=true
 *   GET    /subjects/{s}/versions                 ?deleted=true
 *   POST   /subjects/{s}/versions                 register
 *   GET    /subjects/{s}/versions/{v|latest}      ?deleted=true
 *   GET    /subjects/{s}/versions/{v}/schema
 *   GET    /subjects/{s}/versions/{v}/referencedby
 *   DELETE /subjects/{s}/versions/{v}             ?permanent=true
 *   GET    /schemas/ids/{id}[/schema|/versions|/subjects]
 *   GET    /schemas/types
 *   POST   /compatibility/subjects/{s}/versions[/{v|latest}]  ?verbose=true
 *   GET|PUT|DELETE /config[/{s}]                  GET: ?defaultToGlobal=true
 *   GET|PUT|DELETE /mode[/{s}]
 *
 * and two evbus extensions for the AWS Glue wire format's schema version
 * UUIDs: GET /schemas/uuids/{uuid} (the subject version it names) and
 * GET /subjects/{s}/versions/{v}/uuid ({"schemaVersionId": "..."}).
 *
 * Requests may carry application/vnd.schemaregistry.v1+json,
 * application/vnd.schemaregistry+json, application/json or
 * application/octet-stream (others: 415); answers are
 * application/vnd.schemaregistry.v1+json (application/json when that is
 * all the client accepts). Errors are Confluent's {"error_code": N,
 * "message": "..."} with its codes and statuses (registry.h). Subjects
 * are one path segment: the HTTP layer decodes %2F before routing, so a
 * subject holding '/' cannot be addressed.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../registry/registry.h"
#include "api_internal.h"

#define MEDIA_V1 "application/vnd.schemaregistry.v1+json"
#define MAX_SEGMENTS 8

typedef struct rctx {
    evb_registry_t *reg;
    const evb_http_request_t *req;
    evb_http_response_t *resp;
    const char *seg[MAX_SEGMENTS];
    size_t nseg;
    evb_buf_t msg; /* registry error messages */
} rctx_t;

/* ---- responses -------------------------------------------------------------- */

static void set_error(rctx_t *c, unsigned status, int code, const char *msg) {
    evb_http_response_t *r = c->resp;
    r->status = status;
    evb_buf_reset(&r->body);
    if (evb_buf_appendf(&r->body, "{\"error_code\":%d,\"message\":", code) ||
        evb_json_append_string(&r->body, msg, strlen(msg)) ||
        evb_buf_putc(&r->body, '}')) {
        evb_buf_reset(&r->body);
        r->status = 500;
        static const char oom[] =
            "{\"error_code\":50001,\"message\":\"Out of memory\"}";
        (void)evb_buf_append(&r->body, oom, sizeof oom - 1);
    }
}

static void registry_error(rctx_t *c, evb_registry_err_t err) {
    const char *m = c->msg.len ? c->msg.data : evb_registry_err_message(err);
    unsigned status = evb_registry_err_status(err);
    int code = evb_registry_err_code(err);
    if (!status) { /* a client-side code cannot come from here */
        status = 500;
        code = 50001;
    }
    set_error(c, status, code, m);
}

static void not_found(rctx_t *c) {
    set_error(c, 404, 404, "HTTP 404 Not Found");
}

static void bad_method(rctx_t *c) {
    set_error(c, 405, 405, "HTTP 405 Method Not Allowed");
}

static void nomem(rctx_t *c) {
    set_error(c, 500, 50001, "Out of memory");
}

/* The body is complete: 200 with it, or 500 when building it failed. */
static void done(rctx_t *c, evb_err_t err) {
    if (err)
        nomem(c);
    else
        c->resp->status = 200;
}

static evb_err_t put_str(evb_buf_t *b, const char *s) {
    return evb_json_append_string(b, s, strlen(s));
}

/* {"subject":..,"version":..,"id":..,"schema":.. and, with uuid, the
 * evbus extension "schemaVersionId":..} */
static evb_err_t put_version_ex(evb_buf_t *b, const evb_registry_schema_t *s,
                                bool uuid) {
    evb_err_t err = evb_buf_append(b, "{\"subject\":", 11);
    if (!err)
        err = put_str(b, s->subject);
    if (!err)
        err = evb_buf_appendf(b, ",\"version\":%d,\"id\":%d,\"schema\":",
                              (int)s->version, (int)s->id);
    if (!err)
        err = evb_json_append_string(b, s->schema, s->schema_len);
    if (!err && uuid) {
        char u[37];
        evb_registry_uuid_format(s->uuid, u);
        err = evb_buf_appendf(b, ",\"schemaVersionId\":\"%s\"", u);
    }
    if (!err)
        err = evb_buf_putc(b, '}');
    return err;
}

static evb_err_t put_version(evb_buf_t *b, const evb_registry_schema_t *s) {
    return put_version_ex(b, s, false);
}

/* ---- requests ----------------------------------------------------------------- */

static bool query_true(rctx_t *c, const char *name) {
    const char *v = evb_http_request_query(c->req, name);
    return v && strcasecmp(v, "true") == 0;
}

static bool media_type_is(const char *have, const char *want) {
    size_t n = strlen(want);
    if (strncasecmp(have, want, n) != 0)
        return false;
    const char *rest = have + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

/* Parse the body as a JSON object; false (with the response set) when
 * the Content-Type or the body is not acceptable. */
static bool body_object(rctx_t *c, json_t **out) {
    *out = NULL;
    const char *ct = evb_http_request_header(c->req, "Content-Type");
    if (ct && !media_type_is(ct, MEDIA_V1) &&
        !media_type_is(ct, "application/vnd.schemaregistry+json") &&
        !media_type_is(ct, "application/json") &&
        !media_type_is(ct, "application/octet-stream")) {
        set_error(c, 415, 415, "HTTP 415 Unsupported Media Type");
        return false;
    }
    json_error_t jerr;
    json_t *j = json_loadb(c->req->body, c->req->body_len, 0, &jerr);
    if (!j) {
        char m[256];
        snprintf(m, sizeof m, "Unexpected request body: %s (line %d, column "
                              "%d)",
                 jerr.text, jerr.line, jerr.column);
        set_error(c, 400, 400, m);
        return false;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        set_error(c, 422, 422, "The request body must be a JSON object");
        return false;
    }
    *out = j;
    return true;
}

/* The schema members of a register, lookup or compatibility request.
 * False (with the response set) when they are unusable. */
static bool schema_members(rctx_t *c, json_t *body, const char **schema,
                           size_t *len, const char **type) {
    json_t *s = json_object_get(body, "schema");
    json_t *t = json_object_get(body, "schemaType");
    json_t *refs = json_object_get(body, "references");
    if (t && !json_is_null(t) && !json_is_string(t)) {
        set_error(c, 422, 42201, "Invalid schema type");
        return false;
    }
    *type = json_is_string(t) ? json_string_value(t) : NULL;
    if (json_is_array(refs) && json_array_size(refs) > 0) {
        set_error(c, 422, 42201,
                  "Invalid schema: schema references are not supported by "
                  "this registry");
        return false;
    }
    if (!json_is_string(s) || json_string_length(s) == 0) {
        set_error(c, 422, 42201, "Empty schema");
        return false;
    }
    *schema = json_string_value(s);
    *len = json_string_length(s);
    return true;
}

static bool parse_version(rctx_t *c, const char *s, int32_t *v) {
    evb_registry_err_t err = evb_registry_parse_version(s, v, &c->msg);
    if (err)
        registry_error(c, err);
    return !err;
}

static bool parse_id(const char *s, int32_t *id) {
    long long v = 0;
    if (!s[0] || (s[0] == '0' && s[1]))
        return false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > INT32_MAX)
            return false;
        v = v * 10 + (*p - '0');
    }
    if (v > INT32_MAX)
        return false;
    *id = (int32_t)v;
    return true;
}

/* ---- /subjects ---------------------------------------------------------------- */

static void list_subjects(rctx_t *c) {
    char **v;
    evb_registry_err_t err = evb_registry_list_subjects(
        c->reg, query_true(c, "deleted"), &v, &c->msg);
    if (err) {
        registry_error(c, err);
        return;
    }
    evb_buf_t *b = &c->resp->body;
    evb_err_t e = evb_buf_putc(b, '[');
    for (size_t i = 0; !e && v[i]; i++) {
        if (i)
            e = evb_buf_putc(b, ',');
        if (!e)
            e = put_str(b, v[i]);
    }
    if (!e)
        e = evb_buf_putc(b, ']');
    evb_registry_strv_free(v);
    done(c, e);
}

static evb_err_t put_int_array(evb_buf_t *b, const int32_t *v, size_t n) {
    evb_err_t e = evb_buf_putc(b, '[');
    for (size_t i = 0; !e && i < n; i++)
        e = evb_buf_appendf(b, "%s%d", i ? "," : "", (int)v[i]);
    if (!e)
        e = evb_buf_putc(b, ']');
    return e;
}

static void list_versions(rctx_t *c, const char *subject) {
    int32_t *v;
    size_t n;
    evb_registry_err_t err = evb_registry_list_versions(
        c->reg, subject, query_true(c, "deleted"), &v, &n, &c->msg);
    if (err) {
        registry_error(c, err);
        return;
    }
    evb_err_t e = put_int_array(&c->resp->body, v, n);
    free(v);
    done(c, e);
}

static void register_schema(rctx_t *c, const char *subject) {
    json_t *body;
    if (!body_object(c, &body))
        return;
    evb_registry_register_req_t rq = {.subject = subject};
    if (!schema_members(c, body, &rq.schema, &rq.schema_len,
                        &rq.schema_type)) {
        json_decref(body);
        return;
    }
    json_t *id = json_object_get(body, "id");
    json_t *ver = json_object_get(body, "version");
    if (json_is_integer(id) && json_integer_value(id) > 0 &&
        json_integer_value(id) <= INT32_MAX)
        rq.id = (int32_t)json_integer_value(id);
    if (json_is_integer(ver) && json_integer_value(ver) > 0 &&
        json_integer_value(ver) <= INT32_MAX)
        rq.version = (int32_t)json_integer_value(ver);
    int32_t new_id;
    evb_registry_err_t err =
        evb_registry_register(c->reg, &rq, &new_id, NULL, &c->msg);
    json_decref(body);
    if (err) {
        registry_error(c, err);
        return;
    }
    done(c, evb_buf_appendf(&c->resp->body, "{\"id\":%d}", (int)new_id));
}

static void lookup_schema(rctx_t *c, const char *subject) {
    json_t *body;
    if (!body_object(c, &body))
        return;
    const char *schema, *type;
    size_t len;
    if (!schema_members(c, body, &schema, &len, &type)) {
        json_decref(body);
        return;
    }
    evb_registry_schema_t s;
    evb_registry_err_t err =
        evb_registry_lookup_schema(c->reg, subject, schema, len, type,
                                   query_true(c, "deleted"), &s, &c->msg);
    json_decref(body);
    if (err) {
        registry_error(c, err);
        return;
    }
    evb_err_t e = put_version(&c->resp->body, &s);
    evb_registry_schema_clear(&s);
    done(c, e);
}

static void delete_subject(rctx_t *c, const char *subject) {
    int32_t *v;
    size_t n;
    evb_registry_err_t err = evb_registry_delete_subject(
        c->reg, subject, query_true(c, "permanent"), &v, &n, &c->msg);
    if (err) {
        registry_error(c, err);
        return;
    }
    evb_err_t e = put_int_array(&c->resp->body, v, n);
    free(v);
    done(c, e);
}

/* GET /subjects/{s}/versions/{v}[/schema|/referencedby|/uuid] */
static void get_version(rctx_t *c, const char *subject, const char *vs,
                        const char *what) {
    int32_t v;
    if (!parse_version(c, vs, &v))
        return;
    bool deleted = query_true(c, "deleted") ||
                   (what && strcmp(what, "referencedby") == 0);
    evb_registry_schema_t s;
    evb_registry_err_t err =
        evb_registry_get_version(c->reg, subject, v, deleted, &s, &c->msg);
    if (err) {
        registry_error(c, err);
        return;
    }
    evb_buf_t *b = &c->resp->body;
    evb_err_t e;
    if (!what) {
        e = put_version(b, &s);
    } else if (strcmp(what, "schema") == 0) {
        e = evb_buf_append(b, s.schema, s.schema_len);
    } else if (strcmp(what, "referencedby") == 0) {
        e = evb_buf_append(b, "[]", 2); /* references are not supported */
    } else {
        char uuid[37];
        evb_registry_uuid_format(s.uuid, uuid);
        e = evb_buf_append(b, "{\"subject\":", 11);
        if (!e)
            e = put_str(b, s.subject);
        if (!e)
            e = evb_buf_appendf(b,
                                ",\"version\":%d,\"id\":%d,"
                                "\"schemaVersionId\":\"%s\"}",
                                (int)s.version, (int)s.id, uuid);
    }
    evb_registry_schema_clear(&s);
    done(c, e);
}

static void delete_version(rctx_t *c, const char *subject, const char *vs) {
    int32_t v, deleted;
    if (!parse_version(c, vs, &v))
        return;
    evb_registry_err_t err = evb_registry_delete_version(
        c->reg, subject, v, query_true(c, "permanent"), &deleted, &c->msg);
    if (err) {
        registry_error(c, err);
        return;
    }
    done(c, evb_buf_appendf(&c->resp->body, "%d", (int)deleted));
}

static void route_subjects(rctx_t *c, const char *m) {
    bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0,
         del = strcmp(m, "DELETE") == 0;
    if (c->nseg == 1) {
        if (get)
            list_subjects(c);
        else
            bad_method(c);
        return;
    }
    const char *subject = c->seg[1];
    if (c->nseg == 2) {
        if (post)
            lookup_schema(c, subject);
        else if (del)
            delete_subject(c, subject);
        else
            bad_method(c);
        return;
    }
    if (strcmp(c->seg[2], "versions") != 0) {
        not_found(c);
        return;
    }
    if (c->nseg == 3) {
        if (get)
            list_versions(c, subject);
        else if (post)
            register_schema(c, subject);
        else
            bad_method(c);
        return;
    }
    if (c->nseg == 4) {
        if (get)
            get_version(c, subject, c->seg[3], NULL);
        else if (del)
            delete_version(c, subject, c->seg[3]);
        else
            bad_method(c);
        return;
    }
    if (c->nseg == 5 && (strcmp(c->seg[4], "schema") == 0 ||
                         strcmp(c->seg[4], "referencedby") == 0 ||
                         strcmp(c->seg[4], "uuid") == 0)) {
        if (get)
            get_version(c, subject, c->seg[3], c->seg[4]);
        else
            bad_method(c);
        return;
    }
    not_found(c);
}

/* ---- /schemas ------------------------------------------------------------------- */

static void schema_by_id(rctx_t *c, int32_t id, const char *what) {
    evb_buf_t *b = &c->resp->body;
    evb_err_t e;
    if (what && (strcmp(what, "versions") == 0 ||
                 strcmp(what, "subjects") == 0)) {
        evb_registry_subject_version_t *v;
        size_t n;
        evb_registry_err_t err = evb_registry_id_versions(
            c->reg, id, query_true(c, "deleted"), &v, &n, &c->msg);
        if (err) {
            registry_error(c, err);
            return;
        }
        bool subjects = what[0] == 's';
        e = evb_buf_putc(b, '[');
        bool first = true;
        for (size_t i = 0; !e && i < n; i++) {
            /* pairs come ordered by subject: skip repeats for /subjects */
            if (subjects && i && strcmp(v[i].subject, v[i - 1].subject) == 0)
                continue;
            if (!first)
                e = evb_buf_putc(b, ',');
            first = false;
            if (!e && !subjects)
                e = evb_buf_append(b, "{\"subject\":", 11);
            if (!e)
                e = put_str(b, v[i].subject);
            if (!e && !subjects)
                e = evb_buf_appendf(b, ",\"version\":%d}", (int)v[i].version);
        }
        if (!e)
            e = evb_buf_putc(b, ']');
        evb_registry_subject_versions_free(v, n);
        done(c, e);
        return;
    }
    evb_registry_schema_t s;
    evb_registry_err_t err = evb_registry_lookup_id(c->reg, id, &s, &c->msg);
    if (err) {
        registry_error(c, err);
        return;
    }
    if (what) { /* /schema: the text itself */
        e = evb_buf_append(b, s.schema, s.schema_len);
    } else {
        e = evb_buf_append(b, "{\"schema\":", 10);
        if (!e)
            e = evb_json_append_string(b, s.schema, s.schema_len);
        if (!e)
            e = evb_buf_putc(b, '}');
    }
    evb_registry_schema_clear(&s);
    done(c, e);
}

static void schema_by_uuid(rctx_t *c, const char *text) {
    uint8_t uuid[16];
    if (!evb_registry_uuid_parse(text, uuid)) {
        set_error(c, 404, 40403, "Schema not found");
        return;
    }
    evb_registry_schema_t s;
    evb_registry_err_t err = evb_registry_lookup_uuid(c->reg, uuid, &s, &c->msg);
    if (err) {
        registry_error(c, err);
        return;
    }
    evb_err_t e = put_version_ex(&c->resp->body, &s, true);
    evb_registry_schema_clear(&s);
    done(c, e);
}

static void route_schemas(rctx_t *c, const char *m) {
    if (strcmp(m, "GET") != 0) {
        bad_method(c);
        return;
    }
    if (c->nseg == 2 && strcmp(c->seg[1], "types") == 0) {
        done(c, evb_buf_append(&c->resp->body, "[\"AVRO\"]", 8));
        return;
    }
    if (c->nseg >= 3 && c->nseg <= 4 && strcmp(c->seg[1], "ids") == 0) {
        int32_t id;
        const char *what = c->nseg == 4 ? c->seg[3] : NULL;
        if (!parse_id(c->seg[2], &id) ||
            (what && strcmp(what, "schema") != 0 &&
             strcmp(what, "versions") != 0 && strcmp(what, "subjects") != 0)) {
            not_found(c);
            return;
        }
        schema_by_id(c, id, what);
        return;
    }
    if (c->nseg == 3 && strcmp(c->seg[1], "uuids") == 0) {
        schema_by_uuid(c, c->seg[2]);
        return;
    }
    not_found(c);
}

/* ---- /compatibility ------------------------------------------------------------- */

static void route_compatibility(rctx_t *c, const char *m) {
    if (c->nseg < 4 || c->nseg > 5 || strcmp(c->seg[1], "subjects") != 0 ||
        strcmp(c->seg[3], "versions") != 0) {
        not_found(c);
        return;
    }
    if (strcmp(m, "POST") != 0) {
        bad_method(c);
        return;
    }
    int32_t v = 0;
    if (c->nseg == 5 && !parse_version(c, c->seg[4], &v))
        return;
    json_t *body;
    if (!body_object(c, &body))
        return;
    const char *schema, *type;
    size_t len;
    if (!schema_members(c, body, &schema, &len, &type)) {
        json_decref(body);
        return;
    }
    bool verbose = query_true(c, "verbose"), ok = false;
    evb_buf_t messages;
    evb_buf_init(&messages, 0);
    evb_registry_err_t err = evb_registry_test_compatibility(
        c->reg, c->seg[2], v, schema, len, type, &ok,
        verbose ? &messages : NULL, &c->msg);
    json_decref(body);
    if (err) {
        evb_buf_free(&messages);
        registry_error(c, err);
        return;
    }
    evb_buf_t *b = &c->resp->body;
    evb_err_t e = evb_buf_appendf(b, "{\"is_compatible\":%s",
                                  ok ? "true" : "false");
    if (!e && verbose) {
        e = evb_buf_append(b, ",\"messages\":[", 13);
        if (!e && messages.len)
            e = evb_buf_append(b, messages.data, messages.len);
        if (!e)
            e = evb_buf_putc(b, ']');
    }
    if (!e)
        e = evb_buf_putc(b, '}');
    evb_buf_free(&messages);
    done(c, e);
}

/* ---- /config and /mode --------------------------------------------------------- */

static void route_config(rctx_t *c, const char *m, bool mode) {
    if (c->nseg > 2) {
        not_found(c);
        return;
    }
    const char *subject = c->nseg == 2 ? c->seg[1] : NULL;
    evb_buf_t *b = &c->resp->body;
    evb_registry_err_t err;
    const char *value = NULL;
    if (strcmp(m, "GET") == 0) {
        bool dtg = query_true(c, "defaultToGlobal");
        if (mode) {
            evb_registry_mode_t md;
            err = evb_registry_get_mode(c->reg, subject, dtg, &md, &c->msg);
            value = evb_registry_mode_name(md);
        } else {
            evb_registry_compat_t l;
            err = evb_registry_get_compat(c->reg, subject, dtg, &l, &c->msg);
            value = evb_registry_compat_name(l);
        }
    } else if (strcmp(m, "DELETE") == 0) {
        if (mode) {
            evb_registry_mode_t md;
            err = evb_registry_delete_mode(c->reg, subject, &md, &c->msg);
            value = evb_registry_mode_name(md);
        } else {
            evb_registry_compat_t l;
            err = evb_registry_delete_compat(c->reg, subject, &l, &c->msg);
            value = evb_registry_compat_name(l);
        }
    } else if (strcmp(m, "PUT") == 0) {
        json_t *body;
        if (!body_object(c, &body))
            return;
        const char *key = mode ? "mode" : "compatibility";
        const char *given = json_string_value(json_object_get(body, key));
        if (mode) {
            evb_registry_mode_t md;
            err = evb_registry_mode_parse(given, &md)
                      ? evb_registry_set_mode(c->reg, subject, md, &c->msg)
                      : EVB_REGISTRY_ERR_INVALID_MODE;
        } else {
            evb_registry_compat_t l;
            err = evb_registry_compat_parse(given, &l)
                      ? evb_registry_set_compat(c->reg, subject, l, &c->msg)
                      : EVB_REGISTRY_ERR_INVALID_COMPATIBILITY;
        }
        evb_err_t e = EVB_ERR_OK;
        if (!err) { /* Confluent echoes the request */
            e = evb_buf_appendf(b, "{\"%s\":", key);
            if (!e)
                e = put_str(b, given);
            if (!e)
                e = evb_buf_putc(b, '}');
        }
        json_decref(body);
        if (err)
            registry_error(c, err);
        else
            done(c, e);
        return;
    } else {
        bad_method(c);
        return;
    }
    if (err) {
        registry_error(c, err);
        return;
    }
    done(c, evb_buf_appendf(b, mode ? "{\"mode\":\"%s\"}"
                                    : "{\"compatibilityLevel\":\"%s\"}",
                            value));
}

/* ---- entry ------------------------------------------------------------------------- */

/* The media type of the answer, from the request's Accept header. */
static const char *answer_type(const evb_http_request_t *req) {
    const char *a = evb_http_request_header(req, "Accept");
    if (!a || strstr(a, "application/vnd.schemaregistry") ||
        strstr(a, "*/*"))
        return MEDIA_V1;
    if (strstr(a, "application/json"))
        return "application/json";
    return MEDIA_V1;
}

static void handle(const evb_api_t *api, const evb_http_request_t *req,
                   evb_http_response_t *resp) {
    rctx_t c;
    memset(&c, 0, sizeof c);
    c.reg = api->registry;
    c.req = req;
    c.resp = resp;
    evb_buf_init(&c.msg, 0);
    evb_buf_reset(&resp->body);

    /* split the path into segments in the request's arena */
    char *path = evb_arena_strndup(req->arena, req->path, strlen(req->path));
    bool too_deep = false;
    if (path) {
        char *save = NULL;
        for (char *p = strtok_r(path, "/", &save); p;
             p = strtok_r(NULL, "/", &save)) {
            if (c.nseg == MAX_SEGMENTS) {
                too_deep = true;
                break;
            }
            c.seg[c.nseg++] = p;
        }
    }
    const char *m = req->method;
    if (!path)
        nomem(&c);
    else if (!c.reg)
        set_error(&c, 500, 50001, "The schema registry is not enabled");
    else if (too_deep || c.nseg == 0)
        not_found(&c);
    else if (strcmp(c.seg[0], "subjects") == 0)
        route_subjects(&c, m);
    else if (strcmp(c.seg[0], "schemas") == 0)
        route_schemas(&c, m);
    else if (strcmp(c.seg[0], "compatibility") == 0)
        route_compatibility(&c, m);
    else if (strcmp(c.seg[0], "config") == 0)
        route_config(&c, m, false);
    else if (strcmp(c.seg[0], "mode") == 0)
        route_config(&c, m, true);
    else
        not_found(&c);
    evb_buf_free(&c.msg);
    if (evb_http_response_header(resp, "Content-Type", answer_type(req)))
        resp->status = 500;
}

static const char *const prefixes[] = {"/subjects", "/schemas",
                                       "/compatibility", "/config", "/mode",
                                       NULL};

const evb__api_rest_service_t evb__api_registry_service = {
    .prefixes = prefixes,
    .handle = handle,
};
