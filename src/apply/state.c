/*
 * state.c: reading the live state from the server (see
 * evb_apply_state_read in apply.h for its shape), and the preflight check
 * of event patterns through TestEventPattern.
 *
 * Everything is listed (the List and DescribeLogGroups calls, every page),
 * since deciding what to delete needs the whole picture; details that cost one
 * call per resource (the Describe calls, targets, tags, queue attributes) are
 * read only for resources the document names or the ownership record manages
 * (or all of them with --prune).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_internal.h"

/* Pages read per listing at most (100 items a page: a million items). */
#define MAX_PAGES 10000

const char *evb__apply_state_key(evb_apply_kind_t k) {
    return evb_apply_kind_key(k);
}

typedef struct reader {
    evb_apply_client_t *c;
    const evb_apply_doc_t *doc;
    bool prune;
    json_t *state;
    json_t *record;
    char *errstr;
    size_t errstr_size;
} reader_t;

static evb_err_t call_fail(reader_t *r, const char *target, evb_err_t err,
                           const evb_apply_call_error_t *ce) {
    if (ce->type[0])
        evb_err_set(EVB_ERR_IO, r->errstr, r->errstr_size,
                    "reading the server's state: %s: %s: %s", target, ce->type,
                    ce->message);
    else
        evb_err_set(EVB_ERR_IO, r->errstr, r->errstr_size, "%s", ce->message);
    return err == EVB_ERR_NOMEM ? EVB_ERR_NOMEM : EVB_ERR_IO;
}

static evb_err_t rcall(reader_t *r, const char *target, json_t *req,
                       json_t **resp) {
    evb_apply_call_error_t ce;
    evb_err_t err = evb_apply_call(r->c, target, req, resp, &ce);
    if (err)
        return call_fail(r, target, err, &ce);
    return EVB_ERR_OK;
}

static evb_err_t nomem(reader_t *r) {
    return evb_err_set(EVB_ERR_NOMEM, r->errstr, r->errstr_size,
                       "out of memory");
}

/* Does the document or the record (any stack) name this resource, or do
 * we read everything? */
static bool wanted(reader_t *r, evb_apply_kind_t k, const char *id) {
    if (r->prune || evb__apply_doc_find(r->doc, k, id))
        return true;
    char key[64];
    evb__apply_record_key(k, id, key);
    return json_object_get(r->record, key) != NULL;
}

typedef evb_err_t (*item_fn)(reader_t *r, json_t *item, void *ud);

/* Call target with req (borrowed; its token member is set per page) until
 * the answer has no token, handing every element of items_key to fn. */
static evb_err_t list_all(reader_t *r, const char *target, json_t *req,
                          const char *items_key, const char *token_key,
                          item_fn fn, void *ud) {
    for (int page = 0; page < MAX_PAGES; page++) {
        json_t *resp;
        evb_err_t err = rcall(r, target, req, &resp);
        if (err)
            return err;
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(resp, items_key), i, item) {
            if ((err = fn(r, item, ud))) {
                json_decref(resp);
                return err;
            }
        }
        const char *next = json_string_value(json_object_get(resp, token_key));
        if (!next || !*next) {
            json_decref(resp);
            return EVB_ERR_OK;
        }
        int bad = json_object_set_new(req, token_key, json_string(next));
        json_decref(resp);
        if (bad)
            return nomem(r);
    }
    return evb_err_set(EVB_ERR_IO, r->errstr, r->errstr_size,
                       "%s: more than %d pages", target, MAX_PAGES);
}

static json_t *kind_map(reader_t *r, evb_apply_kind_t k) {
    return json_object_get(r->state, evb__apply_state_key(k));
}

/* Tags of arn as {key: value}; NULL after an error. */
static json_t *read_tags(reader_t *r, const char *arn) {
    json_t *req = json_pack("{s:s}", "ResourceARN", arn), *resp = NULL;
    if (!req) {
        nomem(r);
        return NULL;
    }
    evb_err_t err = rcall(r, "AWSEvents.ListTagsForResource", req, &resp);
    json_decref(req);
    if (err)
        return NULL;
    json_t *tags = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(resp, "Tags"), i, t) {
        const char *k = json_string_value(json_object_get(t, "Key"));
        json_t *v = json_object_get(t, "Value");
        if (k && tags)
            json_object_set(tags, k, v);
    }
    json_decref(resp);
    if (!tags)
        nomem(r);
    return tags;
}

/* ---- per kind ------------------------------------------------------------ */

static evb_err_t on_log_group(reader_t *r, json_t *g, void *ud) {
    (void)ud;
    const char *name = json_string_value(json_object_get(g, "logGroupName"));
    if (!name)
        return EVB_ERR_OK;
    json_t *o = json_object();
    json_t *days = json_object_get(g, "retentionInDays");
    if (!o || (days && json_object_set(o, "retentionInDays", days)) ||
        json_object_set_new(kind_map(r, EVB_APPLY_LOG_GROUP), name, o))
        return nomem(r);
    return EVB_ERR_OK;
}

static evb_err_t on_queue(reader_t *r, json_t *url, void *ud) {
    (void)ud;
    const char *u = json_string_value(url);
    const char *slash = u ? strrchr(u, '/') : NULL;
    if (!slash || !slash[1])
        return EVB_ERR_OK;
    const char *name = slash + 1;
    json_t *o = json_object();
    if (!o)
        return nomem(r);
    if (wanted(r, EVB_APPLY_QUEUE, name)) {
        json_t *req = json_pack("{s:s,s:[s]}", "QueueUrl", u, "AttributeNames",
                                "All"),
               *resp = NULL;
        evb_err_t err =
            req ? rcall(r, "AmazonSQS.GetQueueAttributes", req, &resp)
                : nomem(r);
        json_decref(req);
        if (err) {
            json_decref(o);
            return err;
        }
        json_t *attrs = json_object_get(resp, "Attributes");
        if (json_object_set(o, "Attributes", attrs ? attrs : json_object())) {
            json_decref(resp);
            json_decref(o);
            return nomem(r);
        }
        json_decref(resp);
    }
    if (json_object_set_new(kind_map(r, EVB_APPLY_QUEUE), name, o))
        return nomem(r);
    return EVB_ERR_OK;
}

static evb_err_t on_rule(reader_t *r, json_t *rule, void *ud) {
    const char *bus = ud;
    const char *name = json_string_value(json_object_get(rule, "Name"));
    if (!name)
        return EVB_ERR_OK;
    char id[1024];
    snprintf(id, sizeof id, "%s/%s", bus, name);
    json_t *o = json_deep_copy(rule);
    if (!o)
        return nomem(r);
    if (wanted(r, EVB_APPLY_RULE, id)) {
        json_t *targets = json_array();
        json_t *req = json_pack("{s:s,s:s}", "Rule", name, "EventBusName", bus);
        evb_err_t err = targets && req ? EVB_ERR_OK : nomem(r);
        if (!err) {
            for (int page = 0; page < MAX_PAGES && !err; page++) {
                json_t *resp;
                if ((err = rcall(r, "AWSEvents.ListTargetsByRule", req, &resp)))
                    break;
                json_array_extend(targets, json_object_get(resp, "Targets"));
                const char *next =
                    json_string_value(json_object_get(resp, "NextToken"));
                bool more = next && *next;
                if (more)
                    json_object_set_new(req, "NextToken", json_string(next));
                json_decref(resp);
                if (!more)
                    break;
            }
        }
        json_decref(req);
        json_t *tags = NULL;
        if (!err) {
            tags = read_tags(r, evb__apply_str(rule, "Arn"));
            if (!tags)
                err = EVB_ERR_IO;
        }
        if (!err && (json_object_set(o, "Targets", targets) ||
                     json_object_set(o, "Tags", tags)))
            err = nomem(r);
        json_decref(targets);
        json_decref(tags);
        if (err) {
            json_decref(o);
            return err;
        }
    }
    if (json_object_set_new(kind_map(r, EVB_APPLY_RULE), id, o))
        return nomem(r);
    return EVB_ERR_OK;
}

static evb_err_t on_bus(reader_t *r, json_t *bus, void *ud) {
    (void)ud;
    const char *name = json_string_value(json_object_get(bus, "Name"));
    if (!name)
        return EVB_ERR_OK;
    json_t *o = json_deep_copy(bus);
    if (!o || json_object_set_new(kind_map(r, EVB_APPLY_BUS), name, o))
        return nomem(r);
    if (strcmp(name, "default") != 0 && wanted(r, EVB_APPLY_BUS, name)) {
        json_t *tags = read_tags(r, evb__apply_str(bus, "Arn"));
        if (!tags)
            return EVB_ERR_IO;
        if (json_object_set_new(o, "Tags", tags))
            return nomem(r);
    }
    return EVB_ERR_OK;
}

/* Connections, API destinations and archives: list, then Describe the
 * wanted ones. */
typedef struct described {
    evb_apply_kind_t kind;
    const char *name_key; /* "Name", "ArchiveName" */
    const char *describe; /* "AWSEvents.DescribeConnection" */
} described_t;

static evb_err_t on_described(reader_t *r, json_t *item, void *ud) {
    const described_t *d = ud;
    const char *name = json_string_value(json_object_get(item, d->name_key));
    if (!name)
        return EVB_ERR_OK;
    json_t *o = NULL;
    if (wanted(r, d->kind, name)) {
        json_t *req = json_pack("{s:s}", d->name_key, name);
        evb_err_t err = req ? rcall(r, d->describe, req, &o) : nomem(r);
        json_decref(req);
        if (err)
            return err;
    } else if (!(o = json_deep_copy(item))) {
        return nomem(r);
    }
    if (json_object_set_new(kind_map(r, d->kind), name, o))
        return nomem(r);
    return EVB_ERR_OK;
}

/* "arn:aws:events:REGION:ACCOUNT:event-bus/default" */
static bool parse_bus_arn(const char *arn, char *region, char *account) {
    const char *p = arn;
    for (int i = 0; i < 3 && p; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    const char *q = p ? strchr(p, ':') : NULL;
    const char *e = q ? strchr(q + 1, ':') : NULL;
    if (!q || !e || q - p >= 64 || e - q - 1 != 12)
        return false;
    memcpy(region, p, (size_t)(q - p));
    region[q - p] = 0;
    memcpy(account, q + 1, 12);
    account[12] = 0;
    return true;
}

/* ---- the schema registry and Pipes (REST) --------------------------------- */

/* A REST call; *ce tells what went wrong. EVB_ERR_INVALID_ARG: the server
 * answered an error (not reported yet: the caller decides). */
static evb_err_t rrest(reader_t *r, const char *method, const char *path,
                       const json_t *body, json_t **resp,
                       evb_apply_call_error_t *ce) {
    evb_err_t err = evb__apply_rest(r->c, method, path, body, resp, NULL, ce);
    if (err && err != EVB_ERR_INVALID_ARG)
        return call_fail(r, path, err, ce);
    return err;
}

static evb_err_t rest_fail(reader_t *r, const char *method, const char *path,
                           const evb_apply_call_error_t *ce) {
    return evb_err_set(EVB_ERR_IO, r->errstr, r->errstr_size,
                       "reading the server's state: %s %s: %s: %s", method,
                       path, ce->type, ce->message);
}

static evb_err_t read_subject(reader_t *r, const char *subject) {
    json_t *o = json_object();
    char *esc = evb__apply_escape(r->c, subject);
    char path[1200];
    evb_apply_call_error_t ce;
    evb_err_t err = o && esc ? EVB_ERR_OK : nomem(r);
    json_t *resp = NULL;
    if (!err && wanted(r, EVB_APPLY_SCHEMA, subject)) {
        snprintf(path, sizeof path, "/subjects/%s/versions/latest", esc);
        err = rrest(r, "GET", path, NULL, &resp, &ce);
        if (err == EVB_ERR_INVALID_ARG)
            err = rest_fail(r, "GET", path, &ce);
        if (!err && json_object_set_new(o, "latest", resp))
            err = nomem(r);
        if (!err) {
            snprintf(path, sizeof path, "/config/%s", esc);
            err = rrest(r, "GET", path, NULL, &resp, &ce);
            if (!err) {
                json_t *l = json_object_get(resp, "compatibilityLevel");
                if (json_is_string(l) && json_object_set(o, "compatibility", l))
                    err = nomem(r);
                json_decref(resp);
            } else if (err == EVB_ERR_INVALID_ARG) {
                /* 40408: the subject has no level of its own */
                err = strcmp(ce.type, "40408") == 0 || strcmp(ce.type, "40401") == 0
                          ? EVB_ERR_OK
                          : rest_fail(r, "GET", path, &ce);
            }
        }
        const evb__apply_res_t *res =
            evb__apply_doc_find(r->doc, EVB_APPLY_SCHEMA, subject);
        if (!err && res) {
            json_t *req = json_pack("{s:O}", "schema",
                                    json_object_get(res->spec, "schema"));
            json_t *type = json_object_get(res->spec, "schemaType");
            if (req && type)
                json_object_set(req, "schemaType", type);
            snprintf(path, sizeof path, "/subjects/%s", esc);
            err = req ? rrest(r, "POST", path, req, &resp, &ce) : nomem(r);
            json_decref(req);
            if (!err) {
                if (json_object_set_new(o, "lookup", resp))
                    err = nomem(r);
            } else if (err == EVB_ERR_INVALID_ARG) {
                err = ce.type[0] == '4' && ce.type[1] == '0'
                          ? EVB_ERR_OK /* 40401, 40403: not there */
                          : rest_fail(r, "POST", path, &ce);
            }
        }
    }
    free(esc);
    if (!err && json_object_set(kind_map(r, EVB_APPLY_SCHEMA), subject, o))
        err = nomem(r);
    json_decref(o);
    return err;
}

static evb_err_t read_schemas(reader_t *r) {
    json_t *subjects = NULL;
    evb_apply_call_error_t ce;
    evb_err_t err = rrest(r, "GET", "/subjects", NULL, &subjects, &ce);
    if (err == EVB_ERR_INVALID_ARG) {
        if (!r->doc->nres[EVB_APPLY_SCHEMA])
            return EVB_ERR_OK; /* no registry here, and none needed */
        return evb_err_set(EVB_ERR_IO, r->errstr, r->errstr_size,
                           "the file has schemas but the server's schema "
                           "registry answered GET /subjects with %s: %s",
                           ce.type, ce.message);
    }
    if (err)
        return err;
    size_t i;
    json_t *s;
    json_array_foreach(subjects, i, s) {
        if (json_is_string(s) && (err = read_subject(r, json_string_value(s))))
            break;
    }
    json_decref(subjects);
    return err;
}

static evb_err_t read_pipes(reader_t *r) {
    char token[512] = "";
    for (int page = 0; page < MAX_PAGES; page++) {
        char path[700];
        snprintf(path, sizeof path, "/v1/pipes?Limit=100%s%s",
                 token[0] ? "&NextToken=" : "", token);
        json_t *resp = NULL;
        evb_apply_call_error_t ce;
        evb_err_t err = rrest(r, "GET", path, NULL, &resp, &ce);
        if (err == EVB_ERR_INVALID_ARG) {
            if (!r->doc->nres[EVB_APPLY_PIPE])
                return EVB_ERR_OK; /* no Pipes here, and none needed */
            return evb_err_set(EVB_ERR_IO, r->errstr, r->errstr_size,
                               "the file has pipes but the server answered "
                               "ListPipes with %s: %s",
                               ce.type, ce.message);
        }
        if (err)
            return err;
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(resp, "Pipes"), i, p) {
            const char *name = json_string_value(json_object_get(p, "Name"));
            if (!name)
                continue;
            json_t *o = NULL;
            if (wanted(r, EVB_APPLY_PIPE, name)) {
                char dp[400];
                snprintf(dp, sizeof dp, "/v1/pipes/%s", name);
                err = rrest(r, "GET", dp, NULL, &o, &ce);
                if (err == EVB_ERR_INVALID_ARG &&
                    strcmp(ce.type, "NotFoundException") == 0)
                    continue; /* deleted meanwhile */
                if (err == EVB_ERR_INVALID_ARG)
                    err = rest_fail(r, "GET", dp, &ce);
            } else if (!(o = json_deep_copy(p))) {
                err = nomem(r);
            }
            if (!err && json_object_set_new(kind_map(r, EVB_APPLY_PIPE), name, o))
                err = nomem(r);
            if (err) {
                json_decref(resp);
                return err;
            }
        }
        const char *next = json_string_value(json_object_get(resp, "NextToken"));
        bool more = next && *next && strlen(next) < sizeof token;
        if (more)
            snprintf(token, sizeof token, "%s", next);
        json_decref(resp);
        if (!more)
            return EVB_ERR_OK;
    }
    return evb_err_set(EVB_ERR_IO, r->errstr, r->errstr_size,
                       "ListPipes: more than %d pages", MAX_PAGES);
}

static evb_err_t read_all(reader_t *r) {
    /* account and region, from the default bus's ARN; the record */
    json_t *empty = json_object(), *resp = NULL;
    if (!empty)
        return nomem(r);
    evb_err_t err = rcall(r, "AWSEvents.DescribeEventBus", empty, &resp);
    json_decref(empty);
    if (err)
        return err;
    char region[64], account[13];
    const char *arn = evb__apply_str(resp, "Arn");
    if (!parse_bus_arn(arn, region, account)) {
        json_decref(resp);
        return evb_err_set(EVB_ERR_IO, r->errstr, r->errstr_size,
                           "the server's default bus has an ARN of an "
                           "unexpected shape");
    }
    json_t *tags = read_tags(r, arn);
    json_decref(resp);
    if (!tags)
        return EVB_ERR_IO;
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(tags, tmp, k, v) {
        if (strncmp(k, EVB__APPLY_RECORD_PREFIX,
                    strlen(EVB__APPLY_RECORD_PREFIX)) != 0)
            json_object_del(tags, k);
    }
    r->record = tags;
    if (json_object_set_new(r->state, "record", tags) ||
        json_object_set_new(r->state, "endpoint",
                            json_string(evb__apply_client_endpoint(r->c))) ||
        json_object_set_new(r->state, "account", json_string(account)) ||
        json_object_set_new(r->state, "region", json_string(region)))
        return nomem(r);
    for (int kk = 0; kk < EVB_APPLY_KIND_COUNT; kk++)
        if (json_object_set_new(r->state,
                                evb__apply_state_key((evb_apply_kind_t)kk),
                                json_object()))
            return nomem(r);

    json_t *req = json_object();
    if (!req)
        return nomem(r);
    err = list_all(r, "Logs_20140328.DescribeLogGroups", req, "logGroups",
                   "nextToken", on_log_group, NULL);
    json_decref(req);
    if (err)
        return err;

    if (!(req = json_pack("{s:i}", "MaxResults", 1000)))
        return nomem(r);
    err = list_all(r, "AmazonSQS.ListQueues", req, "QueueUrls", "NextToken",
                   on_queue, NULL);
    json_decref(req);
    if (err)
        return err;

    if (!(req = json_object()))
        return nomem(r);
    err = list_all(r, "AWSEvents.ListEventBuses", req, "EventBuses",
                   "NextToken", on_bus, NULL);
    json_decref(req);
    if (err)
        return err;

    json_t *buses = kind_map(r, EVB_APPLY_BUS);
    const char *bus;
    json_t *bv;
    json_object_foreach(buses, bus, bv) {
        if (!(req = json_pack("{s:s}", "EventBusName", bus)))
            return nomem(r);
        err = list_all(r, "AWSEvents.ListRules", req, "Rules", "NextToken",
                       on_rule, (void *)bus);
        json_decref(req);
        if (err)
            return err;
    }

    static const described_t described[] = {
        {EVB_APPLY_CONNECTION, "Name", "AWSEvents.DescribeConnection"},
        {EVB_APPLY_API_DESTINATION, "Name", "AWSEvents.DescribeApiDestination"},
        {EVB_APPLY_ARCHIVE, "ArchiveName", "AWSEvents.DescribeArchive"},
    };
    static const char *const lists[][2] = {
        {"AWSEvents.ListConnections", "Connections"},
        {"AWSEvents.ListApiDestinations", "ApiDestinations"},
        {"AWSEvents.ListArchives", "Archives"},
    };
    for (size_t i = 0; i < EVB_ARRAY_LEN(described); i++) {
        if (!(req = json_object()))
            return nomem(r);
        err = list_all(r, lists[i][0], req, lists[i][1], "NextToken",
                       on_described, (void *)&described[i]);
        json_decref(req);
        if (err)
            return err;
    }
    if ((err = read_schemas(r)))
        return err;
    return read_pipes(r);
}

evb_err_t evb_apply_state_read(evb_apply_client_t *c,
                               const evb_apply_doc_t *doc, bool prune,
                               json_t **state, char *errstr,
                               size_t errstr_size) {
    *state = NULL;
    reader_t r = {.c = c,
                  .doc = doc,
                  .prune = prune,
                  .state = json_object(),
                  .errstr = errstr,
                  .errstr_size = errstr_size};
    if (!r.state)
        return nomem(&r);
    evb_err_t err = read_all(&r);
    if (err) {
        json_decref(r.state);
        return err;
    }
    *state = r.state;
    return EVB_ERR_OK;
}

/* ---- preflight -------------------------------------------------------------
 */

static evb_err_t test_pattern(evb_apply_client_t *c, const evb_apply_doc_t *doc,
                              const evb__apply_res_t *res,
                              evb_apply_diags_t *diags, char *errstr,
                              size_t errstr_size) {
    const char *pattern =
        json_string_value(json_object_get(res->spec, "EventPattern"));
    if (!pattern)
        return EVB_ERR_OK;
    static const char event[] =
        "{\"version\":\"0\",\"id\":\"00000000-0000-0000-0000-000000000000\","
        "\"source\":\"evbus.apply\",\"detail-type\":\"preflight\","
        "\"account\":\"000000000000\",\"region\":\"us-east-1\","
        "\"time\":\"2024-01-01T00:00:00Z\",\"resources\":[],\"detail\":{}}";
    json_t *req =
               json_pack("{s:s,s:s}", "EventPattern", pattern, "Event", event),
           *resp = NULL;
    if (!req)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    evb_apply_call_error_t ce;
    evb_err_t err =
        evb_apply_call(c, "AWSEvents.TestEventPattern", req, &resp, &ce);
    json_decref(req);
    json_decref(resp);
    if (err == EVB_ERR_INVALID_ARG) {
        evb__apply_diag(diags, doc->path,
                        evb__apply_line_of(res->spec, "EventPattern"),
                        "%s %s: %s: %s", evb_apply_kind_name(res->kind),
                        res->id, ce.type, ce.message);
        return EVB_ERR_INVALID_ARG;
    }
    if (err)
        return evb_err_set(err, errstr, errstr_size, "%s", ce.message);
    return EVB_ERR_OK;
}

/* The registry's lookup parses the schema first: an invalid one is its
 * 42201, whether the subject exists or not. */
static evb_err_t test_schema(evb_apply_client_t *c, const evb_apply_doc_t *doc,
                             const evb__apply_res_t *res,
                             evb_apply_diags_t *diags, char *errstr,
                             size_t errstr_size) {
    json_t *req =
        json_pack("{s:O}", "schema", json_object_get(res->spec, "schema"));
    json_t *type = json_object_get(res->spec, "schemaType");
    char *esc = evb__apply_escape(c, res->id);
    if (req && type)
        json_object_set(req, "schemaType", type);
    if (!req || !esc) {
        json_decref(req);
        free(esc);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    char path[1200];
    snprintf(path, sizeof path, "/subjects/%s", esc);
    free(esc);
    json_t *resp = NULL;
    evb_apply_call_error_t ce;
    evb_err_t err = evb__apply_rest(c, "POST", path, req, &resp, NULL, &ce);
    json_decref(req);
    json_decref(resp);
    if (err == EVB_ERR_INVALID_ARG && strncmp(ce.type, "422", 3) == 0) {
        const char *at = json_object_get(res->spec, "@file") ? "@file"
                                                             : "schema";
        evb__apply_diag(diags, doc->path, evb__apply_line_of(res->spec, at),
                        "schema %s: %s: %s", res->id, ce.type, ce.message);
        return EVB_ERR_INVALID_ARG;
    }
    if (err == EVB_ERR_INVALID_ARG)
        return EVB_ERR_OK; /* 40401, 40403: not there yet */
    if (err)
        return evb_err_set(err, errstr, errstr_size, "%s", ce.message);
    return EVB_ERR_OK;
}

evb_err_t evb_apply_preflight(evb_apply_client_t *c, const evb_apply_doc_t *doc,
                              evb_apply_diags_t *diags, char *errstr,
                              size_t errstr_size) {
    static const evb_apply_kind_t kinds[] = {EVB_APPLY_ARCHIVE, EVB_APPLY_RULE};
    bool invalid = false;
    for (size_t i = 0; i < doc->nres[EVB_APPLY_SCHEMA]; i++) {
        evb_err_t err = test_schema(c, doc, &doc->res[EVB_APPLY_SCHEMA][i],
                                    diags, errstr, errstr_size);
        if (err == EVB_ERR_INVALID_ARG)
            invalid = true;
        else if (err)
            return err;
    }
    for (size_t k = 0; k < EVB_ARRAY_LEN(kinds); k++)
        for (size_t i = 0; i < doc->nres[kinds[k]]; i++) {
            evb_err_t err = test_pattern(c, doc, &doc->res[kinds[k]][i], diags,
                                         errstr, errstr_size);
            if (err == EVB_ERR_INVALID_ARG)
                invalid = true;
            else if (err)
                return err;
        }
    return invalid ? EVB_ERR_INVALID_ARG : EVB_ERR_OK;
}
