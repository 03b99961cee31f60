/*
 * execute.c: carrying a plan out through the server's APIs.
 *
 * First the ownership record gets an entry for every resource of the
 * document that it lacks (so a crash half way never leaves a created
 * resource unmanaged), then the steps run in plan order, one kind-specific
 * function each, and last the record forgets what was deleted. A
 * connection's entry is rewritten with the digest of its secrets only after
 * the server took them. The first call the server refuses stops everything
 * with the API's exception and message, prefixed with the file and line of
 * the resource (or target) that caused it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../apidest/apidest.h"
#include "plan_internal.h"

typedef struct ex {
    evb_apply_plan_t *plan;
    evb_apply_client_t *c;
    FILE *out;
    char *errstr;
    size_t errstr_size;
    const evb__apply_step_t *step; /* the step running */
    char *default_bus_arn;
} ex_t;

static evb_err_t nomem(ex_t *x) {
    return evb_err_set(EVB_ERR_NOMEM, x->errstr, x->errstr_size,
                       "out of memory");
}

/* Call target with req (consumed). On failure the error names the step's
 * file:line (line: the step's unless given). */
static evb_err_t xcall_at(ex_t *x, const char *target, json_t *req,
                          json_t **resp, unsigned line) {
    json_t *ignored = NULL;
    if (!req)
        return nomem(x);
    evb_apply_call_error_t ce;
    evb_err_t err =
        evb_apply_call(x->c, target, req, resp ? resp : &ignored, &ce);
    json_decref(req);
    json_decref(ignored);
    if (!err)
        return EVB_ERR_OK;
    const char *action = strchr(target, '.') ? strchr(target, '.') + 1 : target;
    const evb__apply_step_t *s = x->step;
    char where[1200];
    if (!line && s)
        line = s->pub.line;
    if (line)
        snprintf(where, sizeof where, "%s:%u: ", x->plan->doc->path, line);
    else
        snprintf(where, sizeof where, "%s: ", x->plan->doc->path);
    if (ce.type[0])
        evb_err_set(EVB_ERR_INVALID_ARG, x->errstr, x->errstr_size,
                    "%s%s %s: %s: %s: %s", where,
                    s ? evb_apply_kind_name(s->pub.kind) : "record",
                    s ? s->id : "", action, ce.type, ce.message);
    else
        evb_err_set(EVB_ERR_IO, x->errstr, x->errstr_size, "%s", ce.message);
    return ce.type[0] ? EVB_ERR_INVALID_ARG
                      : (err == EVB_ERR_NOMEM ? EVB_ERR_NOMEM : EVB_ERR_IO);
}

static evb_err_t xcall(ex_t *x, const char *target, json_t *req,
                       json_t **resp) {
    return xcall_at(x, target, req, resp, 0);
}

static void said(ex_t *x, const char *verb) {
    if (x->out)
        fprintf(x->out, "  %s %s %s\n", verb,
                evb_apply_kind_name(x->step->pub.kind), x->step->id);
}

/* {"Key": k, "Value": v} list from a {k: v} object. */
static json_t *tag_list(const json_t *tags) {
    json_t *l = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)tags, k, v) {
        if (l && json_array_append_new(
                     l, json_pack("{s:s,s:O}", "Key", k, "Value", v)))
            break;
    }
    return l;
}

/* Tag and untag arn so that its tags become want (have: what it has). */
static evb_err_t sync_tags(ex_t *x, const char *arn, const json_t *want,
                           const json_t *have) {
    json_t *put = json_object(), *gone = json_array();
    if (!put || !gone) {
        json_decref(put);
        json_decref(gone);
        return nomem(x);
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)want, k, v) {
        if (!json_equal(v, json_object_get(have, k)))
            json_object_set(put, k, v);
    }
    json_object_foreach((json_t *)have, k, v) {
        if (!json_object_get(want, k))
            json_array_append_new(gone, json_string(k));
    }
    evb_err_t err = EVB_ERR_OK;
    if (json_array_size(gone))
        err = xcall(x, "AWSEvents.UntagResource",
                    json_pack("{s:s,s:O}", "ResourceARN", arn, "TagKeys", gone),
                    NULL);
    if (!err && json_object_size(put))
        err = xcall(
            x, "AWSEvents.TagResource",
            json_pack("{s:s,s:o}", "ResourceARN", arn, "Tags", tag_list(put)),
            NULL);
    json_decref(put);
    json_decref(gone);
    return err;
}

static void learn_arn(ex_t *x, evb_apply_kind_t k, const char *name,
                      const char *arn) {
    char key[600];
    snprintf(key, sizeof key, "%s/%s", evb__apply_kind_code(k), name);
    if (arn)
        json_object_set_new(x->plan->arns, key, json_string(arn));
}

/* ---- the record ---------------------------------------------------------- */

static evb_err_t record_put(ex_t *x, json_t *tags /* consumed */) {
    if (!tags)
        return nomem(x);
    if (!json_array_size(tags)) {
        json_decref(tags);
        return EVB_ERR_OK;
    }
    const evb__apply_step_t *saved = x->step;
    x->step = NULL;
    evb_err_t err = xcall(
        x, "AWSEvents.TagResource",
        json_pack("{s:s,s:o}", "ResourceARN", x->default_bus_arn, "Tags", tags),
        NULL);
    x->step = saved;
    return err;
}

static json_t *record_tag(ex_t *x, evb_apply_kind_t k, const char *id,
                          const char *digest) {
    char key[64];
    evb__apply_record_key(k, id, key);
    char *value = evb__apply_record_value(x->plan->doc->stack, digest, id);
    json_t *t =
        value ? json_pack("{s:s,s:s}", "Key", key, "Value", value) : NULL;
    free(value);
    return t;
}

/* ---- kinds ----------------------------------------------------------------
 */

static evb_err_t do_log_group(ex_t *x, const evb__apply_step_t *s) {
    const char *name = s->id;
    const json_t *want = s->res ? s->res->spec : NULL;
    switch (s->pub.action) {
    case EVB_APPLY_DELETE:
        return xcall(x, "Logs_20140328.DeleteLogGroup",
                     json_pack("{s:s}", "logGroupName", name), NULL);
    case EVB_APPLY_CREATE: {
        evb_err_t err = xcall(x, "Logs_20140328.CreateLogGroup",
                              json_pack("{s:s}", "logGroupName", name), NULL);
        if (err || !json_object_get(want, "retentionInDays"))
            return err;
        break;
    }
    default: break;
    }
    json_t *days = json_object_get(want, "retentionInDays");
    if (days)
        return xcall(x, "Logs_20140328.PutRetentionPolicy",
                     json_pack("{s:s,s:O}", "logGroupName", name,
                               "retentionInDays", days),
                     NULL);
    return xcall(x, "Logs_20140328.DeleteRetentionPolicy",
                 json_pack("{s:s}", "logGroupName", name), NULL);
}

static evb_err_t do_queue(ex_t *x, const evb__apply_step_t *s) {
    char *url = evb__apply_queue_url(x->plan->state, s->id);
    if (!url)
        return nomem(x);
    evb_err_t err;
    const json_t *want = s->res ? s->res->spec : NULL;
    if (s->pub.action == EVB_APPLY_DELETE) {
        err = xcall(x, "AmazonSQS.DeleteQueue",
                    json_pack("{s:s}", "QueueUrl", url), NULL);
    } else if (s->pub.action == EVB_APPLY_CREATE) {
        json_t *req = json_pack("{s:s}", "QueueName", s->id);
        json_t *attrs = json_object_get(want, "Attributes");
        if (req && attrs && json_object_size(attrs))
            json_object_set(req, "Attributes", attrs);
        err = xcall(x, "AmazonSQS.CreateQueue", req, NULL);
    } else {
        /* only what differs: the file's values over the defaults, and ""
         * for string attributes the file no longer sets */
        json_t *d = evb__apply_queue_desired(want), *set = json_object();
        const json_t *live = json_object_get(s->live, "Attributes");
        const char *k;
        json_t *v;
        json_object_foreach(d, k, v) {
            if (!evb__apply_same_json_text(json_string_value(v),
                                           evb__apply_str(live, k)))
                json_object_set(set, k, v);
        }
        json_object_foreach((json_t *)live, k, v) {
            if (evb__apply_queue_attr_settable(k) && !json_object_get(d, k) &&
                *json_string_value(v))
                json_object_set_new(set, k, json_string(""));
        }
        json_decref(d);
        err = xcall(x, "AmazonSQS.SetQueueAttributes",
                    json_pack("{s:s,s:o}", "QueueUrl", url, "Attributes", set),
                    NULL);
    }
    free(url);
    return err;
}

static evb_err_t do_bus(ex_t *x, const evb__apply_step_t *s) {
    const json_t *want = s->res ? s->res->spec : NULL;
    if (s->pub.action == EVB_APPLY_DELETE)
        return xcall(x, "AWSEvents.DeleteEventBus",
                     json_pack("{s:s}", "Name", s->id), NULL);
    const json_t *tags = json_object_get(want, "@tags");
    if (s->pub.action == EVB_APPLY_CREATE) {
        json_t *req = json_pack("{s:s}", "Name", s->id);
        if (req && json_object_get(want, "Description"))
            json_object_set(req, "Description",
                            json_object_get(want, "Description"));
        if (req && json_object_size(tags))
            json_object_set_new(req, "Tags", tag_list(tags));
        return xcall(x, "AWSEvents.CreateEventBus", req, NULL);
    }
    evb_err_t err = EVB_ERR_OK;
    if (strcmp(evb__apply_str(want, "Description"),
               evb__apply_str(s->live, "Description")) != 0)
        err = xcall(x, "AWSEvents.UpdateEventBus",
                    json_pack("{s:s,s:s}", "Name", s->id, "Description",
                              evb__apply_str(want, "Description")),
                    NULL);
    json_t *none = json_object();
    if (!err)
        err = sync_tags(x, evb__apply_str(s->live, "Arn"), tags ? tags : none,
                        json_object_get(s->live, "Tags"));
    json_decref(none);
    return err;
}

/* An *HttpParameters object with all three lists, so that an update
 * (which merges) drops the parameters the file no longer has. */
static void full_params(json_t *parent, const char *key) {
    json_t *hp = json_object_get(parent, key);
    if (!hp) {
        hp = json_object();
        if (!hp || json_object_set_new(parent, key, hp))
            return;
    }
    static const char *const lists[] = {
        "HeaderParameters", "QueryStringParameters", "BodyParameters"};
    for (size_t i = 0; i < EVB_ARRAY_LEN(lists); i++)
        if (!json_object_get(hp, lists[i]))
            json_object_set_new(hp, lists[i], json_array());
}

static evb_err_t do_connection(ex_t *x, const evb__apply_step_t *s) {
    if (s->pub.action == EVB_APPLY_DELETE)
        return xcall(x, "AWSEvents.DeleteConnection",
                     json_pack("{s:s}", "Name", s->id), NULL);
    const json_t *want = s->res->spec;
    json_t *req = evb__apply_api_body(want);
    if (!req)
        return nomem(x);
    const char *action = "AWSEvents.CreateConnection";
    if (s->pub.action == EVB_APPLY_UPDATE) {
        action = "AWSEvents.UpdateConnection";
        if (!json_object_get(req, "Description"))
            json_object_set_new(req, "Description", json_string(""));
        json_t *auth = json_object_get(req, "AuthParameters");
        full_params(auth, "InvocationHttpParameters");
        json_t *oauth = json_object_get(auth, "OAuthParameters");
        if (oauth)
            full_params(oauth, "OAuthHttpParameters");
    }
    json_t *resp = NULL;
    evb_err_t err = xcall(x, action, req, &resp);
    if (err)
        return err;
    learn_arn(x, EVB_APPLY_CONNECTION, s->id,
              json_string_value(json_object_get(resp, "ConnectionArn")));
    json_decref(resp);
    /* the server holds these secrets now: record their digest */
    char *digest =
        evb__apply_secret_digest(json_object_get(want, "AuthParameters"), NULL);
    if (!digest)
        return nomem(x);
    json_t *tag = record_tag(x, EVB_APPLY_CONNECTION, s->id, digest);
    free(digest);
    return record_put(x, tag ? json_pack("[o]", tag) : NULL);
}

static evb_err_t do_api_destination(ex_t *x, const evb__apply_step_t *s) {
    if (s->pub.action == EVB_APPLY_DELETE)
        return xcall(x, "AWSEvents.DeleteApiDestination",
                     json_pack("{s:s}", "Name", s->id), NULL);
    const json_t *want = s->res->spec;
    json_t *req = evb__apply_api_body(want);
    if (!req)
        return nomem(x);
    const char *conn = json_string_value(json_object_get(want, "@connection"));
    if (conn) {
        char *arn = evb__apply_ref_arn(x->plan, EVB_APPLY_CONNECTION, conn);
        if (!arn) {
            json_decref(req);
            return evb_err_set(EVB_ERR_INTERNAL, x->errstr, x->errstr_size,
                               "%s:%u: api destination %s: the ARN of "
                               "connection %s is not known",
                               x->plan->doc->path, s->pub.line, s->id, conn);
        }
        json_object_set_new(req, "ConnectionArn", json_string(arn));
        free(arn);
    }
    const char *action = "AWSEvents.CreateApiDestination";
    if (s->pub.action == EVB_APPLY_UPDATE) {
        action = "AWSEvents.UpdateApiDestination";
        if (!json_object_get(req, "Description"))
            json_object_set_new(req, "Description", json_string(""));
        if (!json_object_get(req, "InvocationRateLimitPerSecond"))
            json_object_set_new(req, "InvocationRateLimitPerSecond",
                                json_integer(EVB_APIDEST_DEFAULT_RATE));
    }
    json_t *resp = NULL;
    evb_err_t err = xcall(x, action, req, &resp);
    if (!err)
        learn_arn(
            x, EVB_APPLY_API_DESTINATION, s->id,
            json_string_value(json_object_get(resp, "ApiDestinationArn")));
    json_decref(resp);
    return err;
}

static evb_err_t create_archive(ex_t *x, const evb__apply_step_t *s) {
    const json_t *want = s->res->spec;
    json_t *req = evb__apply_api_body(want);
    if (!req)
        return nomem(x);
    const char *bus = json_string_value(json_object_get(want, "@bus"));
    if (bus) {
        char *arn = evb__apply_ref_arn(x->plan, EVB_APPLY_BUS, bus);
        if (!arn) {
            json_decref(req);
            return nomem(x);
        }
        json_object_set_new(req, "EventSourceArn", json_string(arn));
        free(arn);
    }
    return xcall(x, "AWSEvents.CreateArchive", req, NULL);
}

static evb_err_t do_archive(ex_t *x, const evb__apply_step_t *s) {
    if (s->pub.action == EVB_APPLY_DELETE || s->replace) {
        evb_err_t err = xcall(x, "AWSEvents.DeleteArchive",
                              json_pack("{s:s}", "ArchiveName", s->id), NULL);
        if (err || s->pub.action == EVB_APPLY_DELETE)
            return err;
    }
    if (s->pub.action == EVB_APPLY_CREATE || s->replace)
        return create_archive(x, s);
    const json_t *want = s->res->spec;
    return xcall(x, "AWSEvents.UpdateArchive",
                 json_pack("{s:s,s:s,s:s,s:I}", "ArchiveName", s->id,
                           "Description", evb__apply_str(want, "Description"),
                           "EventPattern", evb__apply_str(want, "EventPattern"),
                           "RetentionDays",
                           (json_int_t)json_integer_value(
                               json_object_get(want, "RetentionDays"))),
                 NULL);
}

/* FailedEntries of PutTargets/RemoveTargets as an error at the failed
 * target's line. */
static evb_err_t target_failures(ex_t *x, const char *action, json_t *resp,
                                 const json_t *targets) {
    json_t *f = json_array_get(json_object_get(resp, "FailedEntries"), 0);
    if (!f)
        return EVB_ERR_OK;
    const char *id = evb__apply_str(f, "TargetId");
    unsigned line = x->step->pub.line;
    size_t i;
    json_t *t;
    json_array_foreach(targets, i, t) {
        if (strcmp(evb__apply_str(t, "Id"), id) == 0)
            line = evb__apply_line_of(t, NULL);
    }
    return evb_err_set(EVB_ERR_INVALID_ARG, x->errstr, x->errstr_size,
                       "%s:%u: rule %s: %s: target %s: %s: %s",
                       x->plan->doc->path, line, x->step->id, action, id,
                       evb__apply_str(f, "ErrorCode"),
                       evb__apply_str(f, "ErrorMessage"));
}

/* RemoveTargets for ids (at most 100 a call). */
static evb_err_t remove_targets(ex_t *x, const char *bus, const char *rule,
                                json_t *ids) {
    for (size_t start = 0; start < json_array_size(ids); start += 100) {
        json_t *chunk = json_array();
        for (size_t i = start; i < json_array_size(ids) && i < start + 100; i++)
            json_array_append(chunk, json_array_get(ids, i));
        json_t *resp = NULL;
        evb_err_t err = xcall(x, "AWSEvents.RemoveTargets",
                              json_pack("{s:s,s:s,s:o}", "Rule", rule,
                                        "EventBusName", bus, "Ids", chunk),
                              &resp);
        if (!err)
            err = target_failures(x, "RemoveTargets", resp, NULL);
        json_decref(resp);
        if (err)
            return err;
    }
    return EVB_ERR_OK;
}

static evb_err_t do_rule(ex_t *x, const evb__apply_step_t *s) {
    const char *slash = strrchr(s->id, '/');
    char bus[1024];
    snprintf(bus, sizeof bus, "%.*s", (int)(slash - s->id), s->id);
    const char *name = slash + 1;
    const json_t *have_targets = json_object_get(s->live, "Targets");
    json_t *gone = json_array();
    if (!gone)
        return nomem(x);
    const json_t *want = s->res ? s->res->spec : NULL;
    const json_t *want_targets = json_object_get(want, "@targets");
    size_t i;
    json_t *t;
    json_array_foreach(have_targets, i, t) {
        const char *id = evb__apply_str(t, "Id");
        bool kept = false;
        size_t j;
        json_t *w;
        json_array_foreach(want_targets, j, w) {
            kept = kept || strcmp(evb__apply_str(w, "Id"), id) == 0;
        }
        if (!kept)
            json_array_append_new(gone, json_string(id));
    }
    evb_err_t err = remove_targets(x, bus, name, gone);
    json_decref(gone);
    if (err)
        return err;
    if (s->pub.action == EVB_APPLY_DELETE)
        return xcall(x, "AWSEvents.DeleteRule",
                     json_pack("{s:s,s:s}", "Name", name, "EventBusName", bus),
                     NULL);

    /* PutRule replaces the whole rule (members left out are cleared) */
    json_t *req = evb__apply_api_body(want);
    if (!req)
        return nomem(x);
    json_object_set_new(req, "EventBusName", json_string(bus));
    const json_t *tags = json_object_get(want, "@tags");
    if (s->pub.action == EVB_APPLY_CREATE && json_object_size(tags))
        json_object_set_new(req, "Tags", tag_list(tags));
    json_t *resp = NULL;
    if ((err = xcall(x, "AWSEvents.PutRule", req, &resp)))
        return err;
    char *arn = strdup(evb__apply_str(resp, "RuleArn"));
    json_decref(resp);
    if (!arn)
        return nomem(x);
    if (s->pub.action == EVB_APPLY_UPDATE) {
        json_t *none = json_object();
        err = sync_tags(x, arn, tags ? tags : none,
                        json_object_get(s->live, "Tags"));
        json_decref(none);
    }
    free(arn);
    if (err)
        return err;

    /* the targets that are new or differ */
    json_t *put = json_array();
    if (!put)
        return nomem(x);
    json_array_foreach(want_targets, i, t) {
        bool unresolved = false;
        json_t *body = evb__apply_target_body(x->plan, t, &unresolved);
        if (!body) {
            json_decref(put);
            return nomem(x);
        }
        const json_t *live = NULL;
        size_t j;
        json_t *h;
        json_array_foreach(have_targets, j, h) {
            if (strcmp(evb__apply_str(h, "Id"), evb__apply_str(t, "Id")) == 0)
                live = h;
        }
        if (unresolved) {
            json_decref(body);
            json_decref(put);
            return evb_err_set(EVB_ERR_INTERNAL, x->errstr, x->errstr_size,
                               "%s:%u: rule %s: target %s: a referenced ARN "
                               "is not known",
                               x->plan->doc->path, evb__apply_line_of(t, NULL),
                               s->id, evb__apply_str(t, "Id"));
        }
        if (live && evb__apply_same(body, live))
            json_decref(body);
        else
            json_array_append_new(put, body);
    }
    if (json_array_size(put)) {
        /* which line to blame: the only target sent, else the rule */
        unsigned line = 0;
        if (json_array_size(put) == 1)
            json_array_foreach(want_targets, i, t) {
                if (strcmp(evb__apply_str(t, "Id"),
                           evb__apply_str(json_array_get(put, 0), "Id")) == 0)
                    line = evb__apply_line_of(t, NULL);
            }
        err = xcall_at(x, "AWSEvents.PutTargets",
                       json_pack("{s:s,s:s,s:O}", "Rule", name, "EventBusName",
                                 bus, "Targets", put),
                       &resp, line);
        if (!err)
            err = target_failures(x, "PutTargets", resp, want_targets);
        json_decref(resp);
    }
    json_decref(put);
    return err;
}


/* ---- REST kinds: schemas and pipes ---------------------------------------- */

/* A REST call (body consumed, may be NULL); errors name the step's
 * file:line (or line) and action. *ce (may be NULL) gets the error. */
static evb_err_t xrest_at(ex_t *x, const char *action, const char *method,
                          const char *path, json_t *body, json_t **resp,
                          unsigned line, evb_apply_call_error_t *ce_out) {
    json_t *ignored = NULL;
    evb_apply_call_error_t ce;
    evb_err_t err = evb__apply_rest(x->c, method, path, body,
                                    resp ? resp : &ignored, NULL, &ce);
    json_decref(body);
    json_decref(ignored);
    if (ce_out)
        *ce_out = ce;
    if (!err)
        return EVB_ERR_OK;
    const evb__apply_step_t *s = x->step;
    if (!line)
        line = s->pub.line;
    if (ce.type[0]) {
        char where[1100];
        if (line)
            snprintf(where, sizeof where, "%s:%u: ", x->plan->doc->path, line);
        else
            snprintf(where, sizeof where, "%s: ", x->plan->doc->path);
        evb_err_set(EVB_ERR_INVALID_ARG, x->errstr, x->errstr_size,
                    "%s%s %s: %s: %s: %s", where,
                    evb_apply_kind_name(s->pub.kind), s->id, action, ce.type,
                    ce.message);
        return EVB_ERR_INVALID_ARG;
    }
    evb_err_set(EVB_ERR_IO, x->errstr, x->errstr_size, "%s", ce.message);
    return err == EVB_ERR_NOMEM ? EVB_ERR_NOMEM : EVB_ERR_IO;
}

static evb_err_t do_schema(ex_t *x, const evb__apply_step_t *s) {
    char *esc = evb__apply_escape(x->c, s->id);
    if (!esc)
        return nomem(x);
    char path[1200];
    evb_err_t err = EVB_ERR_OK;
    evb_apply_call_error_t ce;
    if (s->pub.action == EVB_APPLY_DELETE) {
        snprintf(path, sizeof path, "/subjects/%s", esc);
        err = xrest_at(x, "DeleteSubject", "DELETE", path, NULL, NULL, 0, &ce);
        if (!err) {
            snprintf(path, sizeof path, "/subjects/%s?permanent=true", esc);
            err = xrest_at(x, "DeleteSubject", "DELETE", path, NULL, NULL, 0,
                           NULL);
        }
        if (!err) { /* its own level too, if it had one */
            snprintf(path, sizeof path, "/config/%s", esc);
            json_t *r = NULL;
            evb__apply_rest(x->c, "DELETE", path, NULL, &r, NULL, &ce);
            json_decref(r);
        }
        free(esc);
        return err;
    }
    const json_t *want = s->res->spec;
    const char *comp = json_string_value(json_object_get(want, "@compatibility"));
    if (comp && strcmp(comp, evb__apply_str(s->live, "compatibility")) != 0) {
        snprintf(path, sizeof path, "/config/%s", esc);
        err = xrest_at(x, "UpdateCompatibility", "PUT", path,
                       json_pack("{s:s}", "compatibility", comp), NULL,
                       evb__apply_line_of(want, "@compatibility"), NULL);
    }
    if (!err && !json_object_get(s->live, "lookup")) {
        json_t *req = json_pack("{s:O}", "schema", json_object_get(want, "schema"));
        json_t *type = json_object_get(want, "schemaType");
        if (req && type)
            json_object_set(req, "schemaType", type);
        snprintf(path, sizeof path, "/subjects/%s/versions", esc);
        err = req ? xrest_at(x, "RegisterSchema", "POST", path, req, NULL,
                             evb__apply_line_of(
                                 want, json_object_get(want, "@file")
                                           ? "@file"
                                           : "schema"),
                             NULL)
                  : nomem(x);
    }
    free(esc);
    return err;
}

/* Wait (bounded) until the pipe is in no transition (CREATING, UPDATING,
 * STARTING, STOPPING, DELETING), or, with gone, until it no longer exists.
 * *live (may be NULL) gets its last description. */
#define PIPE_WAIT_MS 60000

static evb_err_t pipe_settle(ex_t *x, const char *name, bool gone) {
    char path[400];
    snprintf(path, sizeof path, "/v1/pipes/%s", name);
    for (int waited = 0; waited <= PIPE_WAIT_MS; waited += 100) {
        json_t *resp = NULL;
        evb_apply_call_error_t ce;
        evb_err_t err =
            evb__apply_rest(x->c, "GET", path, NULL, &resp, NULL, &ce);
        if (err == EVB_ERR_INVALID_ARG &&
            strcmp(ce.type, "NotFoundException") == 0)
            return EVB_ERR_OK;
        if (err)
            return xrest_at(x, "DescribePipe", "GET", path, NULL, NULL, 0,
                            NULL);
        const char *cur = evb__apply_str(resp, "CurrentState");
        bool moving = strstr(cur, "ING") && strcmp(cur, "RUNNING") != 0;
        json_decref(resp);
        if (!gone && !moving)
            return EVB_ERR_OK;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return evb_err_set(EVB_ERR_IO, x->errstr, x->errstr_size,
                       "%s:%u: pipe %s: still %s after %d s",
                       x->plan->doc->path, x->step->pub.line, name,
                       gone ? "there" : "in a transition", PIPE_WAIT_MS / 1000);
}

static evb_err_t pipe_delete(ex_t *x, const char *name) {
    char path[400];
    snprintf(path, sizeof path, "/v1/pipes/%s", name);
    evb_err_t err = pipe_settle(x, name, false);
    if (!err)
        err = xrest_at(x, "DeletePipe", "DELETE", path, NULL, NULL, 0, NULL);
    if (!err)
        err = pipe_settle(x, name, true);
    return err;
}

static evb_err_t pipe_tags(ex_t *x, const char *arn, const json_t *want,
                           const json_t *have) {
    char *esc = evb__apply_escape(x->c, arn);
    if (!esc)
        return nomem(x);
    json_t *put = json_object();
    evb_buf_t q;
    evb_buf_init(&q, 0);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)want, k, v) {
        if (put && !json_equal(v, json_object_get(have, k)))
            json_object_set(put, k, v);
    }
    json_object_foreach((json_t *)have, k, v) {
        if (!json_object_get(want, k)) {
            char *ek = evb__apply_escape(x->c, k);
            if (ek)
                evb_buf_appendf(&q, "%stagKeys=%s", q.len ? "&" : "?", ek);
            free(ek);
        }
    }
    char path[4096];
    evb_err_t err = put ? EVB_ERR_OK : nomem(x);
    if (!err && q.len) {
        snprintf(path, sizeof path, "/tags/%s%s", esc, q.data);
        err = xrest_at(x, "UntagResource", "DELETE", path, NULL, NULL, 0, NULL);
    }
    if (!err && json_object_size(put)) {
        snprintf(path, sizeof path, "/tags/%s", esc);
        err = xrest_at(x, "TagResource", "POST", path,
                       json_pack("{s:O}", "tags", put), NULL,
                       evb__apply_line_of(x->step->res->spec, "@tags"), NULL);
    }
    json_decref(put);
    evb_buf_free(&q);
    free(esc);
    return err;
}

static evb_err_t do_pipe(ex_t *x, const evb__apply_step_t *s) {
    char path[400];
    snprintf(path, sizeof path, "/v1/pipes/%s", s->id);
    if (s->pub.action == EVB_APPLY_DELETE || s->replace) {
        evb_err_t err = pipe_delete(x, s->id);
        if (err || s->pub.action == EVB_APPLY_DELETE)
            return err;
    }
    const json_t *spec = s->res->spec;
    bool unresolved = false;
    json_t *body = evb__apply_pipe_body(x->plan, spec, &unresolved);
    if (!body)
        return nomem(x);
    if (unresolved) {
        json_decref(body);
        return evb_err_set(EVB_ERR_INTERNAL, x->errstr, x->errstr_size,
                           "%s:%u: pipe %s: a referenced ARN is not known",
                           x->plan->doc->path, s->pub.line, s->id);
    }
    const json_t *tags = json_object_get(spec, "@tags");
    if (s->pub.action == EVB_APPLY_CREATE || s->replace) {
        if (!json_object_get(body, "RoleArn")) {
            char role[128];
            snprintf(role, sizeof role, "arn:aws:iam::%s:role/evbus-apply",
                     evb__apply_str(x->plan->state, "account"));
            json_object_set_new(body, "RoleArn", json_string(role));
        }
        if (json_object_size(tags))
            json_object_set(body, "Tags", (json_t *)tags);
        json_t *resp = NULL;
        evb_err_t err =
            xrest_at(x, "CreatePipe", "POST", path, body, &resp, 0, NULL);
        json_decref(resp);
        return err;
    }
    /* UpdatePipe: members it omits keep their values, so send every one
     * (empty ones clear); the Kafka members it cannot change are left out
     * (they are the same, or this would be a replace) */
    if (!json_object_get(body, "RoleArn"))
        json_object_set_new(body, "RoleArn",
                            json_string(evb__apply_str(s->live, "RoleArn")));
    json_object_del(body, "Source");
    if (!json_object_get(body, "Description"))
        json_object_set_new(body, "Description", json_string(""));
    if (!json_object_get(body, "DesiredState"))
        json_object_set_new(body, "DesiredState", json_string("RUNNING"));
    if (!json_object_get(body, "Enrichment"))
        json_object_set_new(body, "Enrichment", json_string(""));
    if (!json_object_get(body, "TargetParameters"))
        json_object_set_new(body, "TargetParameters", json_object());
    if (!json_object_get(body, "EnrichmentParameters") &&
        *evb__apply_str(body, "Enrichment"))
        json_object_set_new(body, "EnrichmentParameters", json_object());
    json_t *sp = json_object_get(body, "SourceParameters");
    if (!sp) {
        sp = json_object();
        json_object_set_new(body, "SourceParameters", sp);
    }
    if (sp && !json_object_get(sp, "FilterCriteria"))
        json_object_set_new(sp, "FilterCriteria",
                            json_pack("{s:[]}", "Filters"));
    static const char *const kafka[] = {"SelfManagedKafkaParameters",
                                        "ManagedStreamingKafkaParameters"};
    for (size_t i = 0; sp && i < 2; i++) {
        json_t *kp = json_object_get(sp, kafka[i]);
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(kp, tmp, k, v) {
            if (evb__apply_kafka_fixed(k))
                json_object_del(kp, k);
        }
    }
    evb_err_t err = pipe_settle(x, s->id, false);
    json_t *resp = NULL;
    if (!err)
        err = xrest_at(x, "UpdatePipe", "PUT", path, body, &resp, 0, NULL);
    else
        json_decref(body);
    json_decref(resp);
    json_t *none = json_object();
    if (!err && none)
        err = pipe_tags(x, evb__apply_str(s->live, "Arn"), tags ? tags : none,
                        json_object_get(s->live, "Tags"));
    json_decref(none);
    return err;
}

typedef evb_err_t (*do_fn)(ex_t *x, const evb__apply_step_t *s);

static const do_fn DO[EVB_APPLY_KIND_COUNT] = {
    [EVB_APPLY_SCHEMA] = do_schema,
    [EVB_APPLY_PIPE] = do_pipe,
    [EVB_APPLY_LOG_GROUP] = do_log_group,
    [EVB_APPLY_QUEUE] = do_queue,
    [EVB_APPLY_BUS] = do_bus,
    [EVB_APPLY_CONNECTION] = do_connection,
    [EVB_APPLY_API_DESTINATION] = do_api_destination,
    [EVB_APPLY_ARCHIVE] = do_archive,
    [EVB_APPLY_RULE] = do_rule,
};

evb_err_t evb_apply_plan_execute(evb_apply_plan_t *plan, evb_apply_client_t *c,
                                 FILE *out, char *errstr, size_t errstr_size) {
    ex_t x = {.plan = plan,
              .c = c,
              .out = out,
              .errstr = errstr,
              .errstr_size = errstr_size};
    x.default_bus_arn = evb__apply_bus_arn(plan->state, "default");
    if (!x.default_bus_arn)
        return nomem(&x);
    /* 1. record what this stack is about to own */
    json_t *tags = json_array();
    for (size_t i = 0; tags && i < plan->n; i++) {
        const evb__apply_step_t *s = &plan->steps[i];
        if (!s->res || !s->record)
            continue;
        /* a connection keeps the digest of its secrets if one is known */
        char key[64], stack[65], digest[81];
        evb__apply_record_key(s->pub.kind, s->id, key);
        const char *old = json_string_value(
            json_object_get(json_object_get(plan->state, "record"), key));
        bool has_digest = s->pub.kind == EVB_APPLY_CONNECTION && old &&
                          evb__apply_record_parse(old, stack, digest) &&
                          strchr(digest, '.');
        if (json_array_append_new(tags,
                                  record_tag(&x, s->pub.kind, s->id,
                                             has_digest ? digest : NULL))) {
            json_decref(tags);
            tags = NULL;
        }
    }
    evb_err_t err = record_put(&x, tags);
    /* 2. the steps */
    for (size_t i = 0; !err && i < plan->n; i++) {
        const evb__apply_step_t *s = &plan->steps[i];
        if (s->pub.action == EVB_APPLY_UNCHANGED)
            continue;
        x.step = s;
        err = DO[s->pub.kind](&x, s);
        if (!err)
            said(&x, s->pub.action == EVB_APPLY_CREATE   ? "created"
                     : s->pub.action == EVB_APPLY_UPDATE ? "updated"
                                                         : "deleted");
    }
    x.step = NULL;
    /* 3. forget what was deleted, and entries whose resource is gone */
    json_t *keys = err ? NULL : json_deep_copy(plan->stale);
    for (size_t i = 0; keys && i < plan->n; i++) {
        const evb__apply_step_t *s = &plan->steps[i];
        if (s->pub.action != EVB_APPLY_DELETE)
            continue;
        char key[64];
        evb__apply_record_key(s->pub.kind, s->id, key);
        json_t *record = json_object_get(plan->state, "record");
        if (json_object_get(record, key))
            json_array_append_new(keys, json_string(key));
    }
    if (!err && !keys)
        err = nomem(&x);
    if (!err && json_array_size(keys))
        err = xcall(&x, "AWSEvents.UntagResource",
                    json_pack("{s:s,s:O}", "ResourceARN", x.default_bus_arn,
                              "TagKeys", keys),
                    NULL);
    json_decref(keys);
    free(x.default_bus_arn);
    if (err && errstr && errstr_size)
        evb__apply_scrub(errstr, errstr_size, plan->doc);
    return err;
}
