/*
 * plan.c: comparing the document with the live state.
 *
 * For every resource of the document: create it when the server lacks
 * it, update it when some member differs (each kind has its comparison,
 * written against what the server's Describe answers hold, with the
 * API's defaults standing in for members the file leaves out), else
 * leave it unchanged. For every resource on the server that the document
 * lacks: delete it when the ownership record says this stack manages it
 * (or with --prune when nobody does). References by name are resolved
 * against the document and the server; a reference to nothing, or to a
 * resource the plan would delete, is an error before anything is done.
 *
 * Steps are ordered for execution: creates and updates kind by kind in
 * dependency order, then deletes in the reverse order, each kind by id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../apidest/apidest.h"
#include "plan_internal.h"

/* ---- references -----------------------------------------------------------
 */

static const json_t *live_map(const json_t *state, evb_apply_kind_t k) {
    return json_object_get(state, evb__apply_state_key(k));
}

static const json_t *live_of(const json_t *state, evb_apply_kind_t k,
                             const char *id) {
    return json_object_get(live_map(state, k), id);
}

char *evb__apply_ref_arn(const evb_apply_plan_t *plan, evb_apply_kind_t k,
                         const char *name) {
    char key[600];
    snprintf(key, sizeof key, "%s/%s", evb__apply_kind_code(k), name);
    const char *learnt = json_string_value(json_object_get(plan->arns, key));
    if (learnt)
        return strdup(learnt);
    switch (k) {
    case EVB_APPLY_BUS: return evb__apply_bus_arn(plan->state, name);
    case EVB_APPLY_QUEUE: return evb__apply_queue_arn(plan->state, name);
    case EVB_APPLY_LOG_GROUP:
        return evb__apply_log_group_arn(plan->state, name);
    case EVB_APPLY_CONNECTION: {
        const char *arn =
            evb__apply_str(live_of(plan->state, k, name), "ConnectionArn");
        return *arn ? strdup(arn) : NULL;
    }
    case EVB_APPLY_API_DESTINATION: {
        const char *arn =
            evb__apply_str(live_of(plan->state, k, name), "ApiDestinationArn");
        return *arn ? strdup(arn) : NULL;
    }
    default: return NULL;
    }
}

/* The target references and the kinds they name. */
static const struct {
    const char *key;
    evb_apply_kind_t kind;
} TARGET_REFS[] = {
    {"@bus", EVB_APPLY_BUS},
    {"@queue", EVB_APPLY_QUEUE},
    {"@logGroup", EVB_APPLY_LOG_GROUP},
    {"@apiDestination", EVB_APPLY_API_DESTINATION},
};

json_t *evb__apply_target_body(const evb_apply_plan_t *plan,
                               const json_t *target, bool *unresolved) {
    json_t *body = evb__apply_api_body(target);
    if (!body)
        return NULL;
    for (size_t i = 0; i < EVB_ARRAY_LEN(TARGET_REFS); i++) {
        const char *name =
            json_string_value(json_object_get(target, TARGET_REFS[i].key));
        if (!name)
            continue;
        char *arn = evb__apply_ref_arn(plan, TARGET_REFS[i].kind, name);
        if (!arn) {
            *unresolved = true;
            arn = strdup("(known after apply)");
        }
        int bad = !arn || json_object_set_new(body, "Arn", json_string(arn));
        free(arn);
        if (bad) {
            json_decref(body);
            return NULL;
        }
    }
    const json_t *dlc = json_object_get(target, "DeadLetterConfig");
    const char *dlq = json_string_value(json_object_get(dlc, "@queue"));
    if (dlq) {
        char *arn = evb__apply_ref_arn(plan, EVB_APPLY_QUEUE, dlq);
        json_t *b = json_object_get(body, "DeadLetterConfig");
        int bad = !arn || json_object_set_new(b, "Arn", json_string(arn));
        free(arn);
        if (bad) {
            json_decref(body);
            return NULL;
        }
    }
    return body;
}

/* ---- queue attributes ---------------------------------------------------- */

static const char *const QUEUE_SETTABLE[] = {
    "DelaySeconds",           "MaximumMessageSize",
    "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",      "RedrivePolicy",
    "RedriveAllowPolicy",     "Policy",
    "KmsMasterKeyId",         "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
};

/* SQS's defaults (those the server always reports). */
static const char *const QUEUE_DEFAULTS[][2] = {
    {"DelaySeconds", "0"},
    {"MaximumMessageSize", "1048576"},
    {"MessageRetentionPeriod", "345600"},
    {"ReceiveMessageWaitTimeSeconds", "0"},
    {"VisibilityTimeout", "30"},
    {"SqsManagedSseEnabled", "false"},
};

bool evb__apply_queue_attr_settable(const char *name) {
    for (size_t i = 0; i < EVB_ARRAY_LEN(QUEUE_SETTABLE); i++)
        if (strcmp(QUEUE_SETTABLE[i], name) == 0)
            return true;
    return false;
}

json_t *evb__apply_queue_desired(const json_t *spec) {
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (size_t i = 0; i < EVB_ARRAY_LEN(QUEUE_DEFAULTS); i++)
        json_object_set_new(o, QUEUE_DEFAULTS[i][0],
                            json_string(QUEUE_DEFAULTS[i][1]));
    json_object_update(o, json_object_get(spec, "Attributes"));
    return o;
}

/* ---- change lists -----------------------------------------------------------
 */

typedef struct changes {
    evb_buf_t b;
    bool nomem;
} changes_t;

static void ch_add(changes_t *c, const char *what) {
    if (c->b.len && evb_buf_append(&c->b, ", ", 2))
        c->nomem = true;
    if (evb_buf_append(&c->b, what, strlen(what)))
        c->nomem = true;
}

/* "what: old -> new" when both are short and printable, else "what". */
static void ch_value(changes_t *c, const char *what, const char *old,
                     const char *new_) {
    char buf[200];
    bool shortish = strlen(old) <= 40 && strlen(new_) <= 40 &&
                    !strpbrk(old, "\n\r") && !strpbrk(new_, "\n\r");
    if (shortish) {
        snprintf(buf, sizeof buf, "%s: %s -> %s", what, *old ? old : "(none)",
                 *new_ ? new_ : "(none)");
        ch_add(c, buf);
    } else {
        ch_add(c, what);
    }
}

/* Compare two optional strings ("" = absent). */
static void ch_str(changes_t *c, const char *what, const char *want,
                   const char *have, bool show) {
    if (strcmp(want, have) == 0)
        return;
    if (show)
        ch_value(c, what, have, want);
    else
        ch_add(c, what);
}

static void ch_int(changes_t *c, const char *what, json_int_t want,
                   json_int_t have) {
    if (want == have)
        return;
    char w[32], h[32];
    snprintf(w, sizeof w, "%lld", (long long)want);
    snprintf(h, sizeof h, "%lld", (long long)have);
    ch_value(c, what, h, w);
}

static json_int_t int_or(const json_t *o, const char *key, json_int_t dflt) {
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (json_int_t)json_real_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return dflt;
}

static void ch_tags(changes_t *c, const json_t *want, const json_t *have) {
    json_t *w = want ? (json_t *)want : json_object();
    json_t *h = have ? (json_t *)have : json_object();
    if (!json_equal(w, h))
        ch_add(c, "tags");
    if (!want)
        json_decref(w);
    if (!have)
        json_decref(h);
}

/* ---- per kind comparisons
 * ------------------------------------------------------ */

typedef struct cmp {
    const evb_apply_plan_t *plan;
    evb__apply_step_t *step;
    changes_t ch;
    char note[300]; /* a note for the plan line, "" if none */
} cmp_t;

static void cmp_log_group(cmp_t *x, const json_t *want, const json_t *have) {
    json_int_t w = int_or(want, "retentionInDays", 0);
    json_int_t h = int_or(have, "retentionInDays", 0);
    if (w == h)
        return;
    char ws[32] = "", hs[32] = ""; /* 0: no retention policy */
    if (w)
        snprintf(ws, sizeof ws, "%lld", (long long)w);
    if (h)
        snprintf(hs, sizeof hs, "%lld", (long long)h);
    ch_value(&x->ch, "retentionInDays", hs, ws);
}

static void cmp_queue(cmp_t *x, const json_t *want, const json_t *have) {
    json_t *d = evb__apply_queue_desired(want);
    const json_t *live = json_object_get(have, "Attributes");
    if (!d) {
        x->ch.nomem = true;
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(d, k, v) {
        const char *l = evb__apply_str(live, k);
        if (!evb__apply_same_json_text(json_string_value(v), l))
            ch_value(&x->ch, k, l, json_string_value(v));
    }
    json_object_foreach((json_t *)live, k, v) {
        if (evb__apply_queue_attr_settable(k) && !json_object_get(d, k) &&
            *json_string_value(v))
            ch_value(&x->ch, k, json_string_value(v), "");
    }
    json_decref(d);
}

static void cmp_bus(cmp_t *x, const json_t *want, const json_t *have) {
    ch_str(&x->ch, "description", evb__apply_str(want, "Description"),
           evb__apply_str(have, "Description"), true);
    ch_tags(&x->ch, json_object_get(want, "@tags"),
            json_object_get(have, "Tags"));
}

static void cmp_connection(cmp_t *x, const json_t *want, const json_t *have) {
    changes_t *c = &x->ch;
    ch_str(c, "description", evb__apply_str(want, "Description"),
           evb__apply_str(have, "Description"), true);
    ch_str(c, "authorizationType", evb__apply_str(want, "AuthorizationType"),
           evb__apply_str(have, "AuthorizationType"), true);
    json_t *red = evb__apply_redact(json_object_get(want, "AuthParameters"));
    if (!red) {
        c->nomem = true;
        return;
    }
    if (!evb__apply_same(red, json_object_get(have, "AuthParameters")))
        ch_add(c, "authParameters");
    json_decref(red);
    const char *state = evb__apply_str(have, "ConnectionState");
    if (strcmp(state, "AUTHORIZED") != 0)
        ch_value(c, "connectionState", state, "AUTHORIZED");
    /* the secrets: the server never shows them; the record has a digest */
    char key[64], stack[65], digest[81];
    evb__apply_record_key(EVB_APPLY_CONNECTION, x->step->res->id, key);
    const char *value = json_string_value(
        json_object_get(json_object_get(x->plan->state, "record"), key));
    bool known = value && evb__apply_record_parse(value, stack, digest) &&
                 strchr(digest, '.');
    bool same = false;
    if (known) {
        char salt[81];
        snprintf(salt, sizeof salt, "%s", digest);
        *strchr(salt, '.') = 0;
        char *now = evb__apply_secret_digest(
            json_object_get(want, "AuthParameters"), salt);
        if (!now) {
            c->nomem = true;
            return;
        }
        same = strcmp(now, digest) == 0;
        free(now);
    }
    if (!same) {
        ch_add(c, known ? "secrets" : "secrets (not recorded: sent again)");
        x->step->secrets_changed = true;
    }
}

static void cmp_api_destination(cmp_t *x, const json_t *want,
                                const json_t *have) {
    changes_t *c = &x->ch;
    ch_str(c, "description", evb__apply_str(want, "Description"),
           evb__apply_str(have, "Description"), true);
    const char *conn = json_string_value(json_object_get(want, "@connection"));
    char *arn = conn ? evb__apply_ref_arn(x->plan, EVB_APPLY_CONNECTION, conn)
                     : strdup(evb__apply_str(want, "ConnectionArn"));
    if (!arn || strcmp(arn, evb__apply_str(have, "ConnectionArn")) != 0)
        ch_add(c, "connection");
    free(arn);
    ch_str(c, "invocationEndpoint", evb__apply_str(want, "InvocationEndpoint"),
           evb__apply_str(have, "InvocationEndpoint"), true);
    ch_str(c, "httpMethod", evb__apply_str(want, "HttpMethod"),
           evb__apply_str(have, "HttpMethod"), true);
    ch_int(
        c, "invocationRateLimitPerSecond",
        int_or(want, "InvocationRateLimitPerSecond", EVB_APIDEST_DEFAULT_RATE),
        int_or(have, "InvocationRateLimitPerSecond", EVB_APIDEST_DEFAULT_RATE));
}

static void cmp_archive(cmp_t *x, const json_t *want, const json_t *have) {
    changes_t *c = &x->ch;
    const char *bus = json_string_value(json_object_get(want, "@bus"));
    char *src = bus ? evb__apply_ref_arn(x->plan, EVB_APPLY_BUS, bus)
                    : strdup(evb__apply_str(want, "EventSourceArn"));
    if (!src) {
        c->nomem = true;
        return;
    }
    if (strcmp(src, evb__apply_str(have, "EventSourceArn")) != 0) {
        ch_add(c, "bus");
        x->step->replace = true;
    }
    free(src);
    ch_str(c, "description", evb__apply_str(want, "Description"),
           evb__apply_str(have, "Description"), true);
    if (!evb__apply_same_json_text(evb__apply_str(want, "EventPattern"),
                                   evb__apply_str(have, "EventPattern")))
        ch_add(c, "eventPattern");
    ch_int(c, "retentionDays", int_or(want, "RetentionDays", 0),
           int_or(have, "RetentionDays", 0));
}

static const json_t *find_target(const json_t *list, const char *id) {
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t) {
        if (strcmp(evb__apply_str(t, "Id"), id) == 0)
            return t;
    }
    return NULL;
}

static void cmp_rule(cmp_t *x, const json_t *want, const json_t *have) {
    changes_t *c = &x->ch;
    ch_str(c, "description", evb__apply_str(want, "Description"),
           evb__apply_str(have, "Description"), true);
    const char *ws = evb__apply_str(want, "State");
    const char *hs = evb__apply_str(have, "State");
    ch_str(c, "state", *ws ? ws : "ENABLED", *hs ? hs : "ENABLED", true);
    if (!evb__apply_same_json_text(evb__apply_str(want, "EventPattern"),
                                   evb__apply_str(have, "EventPattern")))
        ch_add(c, "eventPattern");
    ch_str(c, "scheduleExpression", evb__apply_str(want, "ScheduleExpression"),
           evb__apply_str(have, "ScheduleExpression"), true);
    ch_str(c, "roleArn", evb__apply_str(want, "RoleArn"),
           evb__apply_str(have, "RoleArn"), false);
    ch_tags(c, json_object_get(want, "@tags"), json_object_get(have, "Tags"));
    /* targets by id: +added ~changed -removed */
    evb_buf_t t;
    evb_buf_init(&t, 0);
    const json_t *wt = json_object_get(want, "@targets");
    const json_t *ht = json_object_get(have, "Targets");
    size_t i;
    json_t *item;
    json_array_foreach(wt, i, item) {
        const char *id = evb__apply_str(item, "Id");
        const json_t *live = find_target(ht, id);
        bool unresolved = false;
        json_t *body = evb__apply_target_body(x->plan, item, &unresolved);
        if (!body) {
            c->nomem = true;
            break;
        }
        if (!live)
            evb_buf_appendf(&t, "%s+%s", t.len ? " " : "", id);
        else if (unresolved || !evb__apply_same(body, live))
            evb_buf_appendf(&t, "%s~%s", t.len ? " " : "", id);
        json_decref(body);
    }
    json_array_foreach(ht, i, item) {
        const char *id = evb__apply_str(item, "Id");
        if (!find_target(wt, id))
            evb_buf_appendf(&t, "%s-%s", t.len ? " " : "", id);
    }
    if (t.len) {
        char *what = malloc(t.len + 16);
        if (what) {
            snprintf(what, t.len + 16, "targets (%s)", t.data);
            ch_add(c, what);
            free(what);
        } else {
            c->nomem = true;
        }
    }
    evb_buf_free(&t);
}


/* ---- schemas ------------------------------------------------------------- */

static void cmp_schema(cmp_t *x, const json_t *want, const json_t *have) {
    changes_t *c = &x->ch;
    const json_t *latest = json_object_get(have, "latest");
    const json_t *lookup = json_object_get(have, "lookup");
    json_int_t lv = int_or(latest, "version", 0);
    json_int_t fv = int_or(lookup, "version", 0);
    if (!lookup) {
        ch_add(c, "schema (a new version)");
    } else if (fv != lv) {
        /* the registry gives an older version's id back without a new
         * version: nothing apply can do short of deleting versions */
        snprintf(x->note, sizeof x->note,
                 "the file's schema is version %lld; the latest is %lld",
                 (long long)fv, (long long)lv);
    }
    const char *comp = json_string_value(json_object_get(want, "@compatibility"));
    if (comp)
        ch_str(c, "compatibility", comp, evb__apply_str(have, "compatibility"),
               true);
}

/* ---- pipes --------------------------------------------------------------- */

static const char *const KAFKA_KEYS[] = {"SelfManagedKafkaParameters",
                                         "ManagedStreamingKafkaParameters"};
/* Kafka parameters UpdatePipe cannot change (a change replaces the pipe). */
static const char *const KAFKA_FIXED[][2] = {
    {"TopicName", "topicName"},
    {"StartingPosition", "startingPosition"},
    {"AdditionalBootstrapServers", "additionalBootstrapServers"},
    {"ConsumerGroupID", "consumerGroupID"},
};

bool evb__apply_kafka_fixed(const char *member) {
    for (size_t i = 0; i < EVB_ARRAY_LEN(KAFKA_FIXED); i++)
        if (strcmp(member, KAFKA_FIXED[i][0]) == 0)
            return true;
    return false;
}

json_t *evb__apply_pipe_body(const evb_apply_plan_t *plan, const json_t *spec,
                             bool *unresolved) {
    json_t *body = evb__apply_api_body(spec);
    if (!body)
        return NULL;
    json_object_del(body, "Name");
    const json_t *t = json_object_get(spec, "@target");
    for (size_t i = 0; t && i < EVB_ARRAY_LEN(TARGET_REFS); i++) {
        const char *name =
            json_string_value(json_object_get(t, TARGET_REFS[i].key));
        if (!name)
            continue;
        char *arn = evb__apply_ref_arn(plan, TARGET_REFS[i].kind, name);
        if (!arn) {
            *unresolved = true;
            arn = strdup("(known after apply)");
        }
        int bad = !arn || json_object_set_new(body, "Target", json_string(arn));
        free(arn);
        if (bad) {
            json_decref(body);
            return NULL;
        }
    }
    const char *enr =
        json_string_value(json_object_get(spec, "@enrichmentApiDestination"));
    if (enr) {
        char *arn = evb__apply_ref_arn(plan, EVB_APPLY_API_DESTINATION, enr);
        if (!arn) {
            *unresolved = true;
            arn = strdup("(known after apply)");
        }
        int bad =
            !arn || json_object_set_new(body, "Enrichment", json_string(arn));
        free(arn);
        if (bad) {
            json_decref(body);
            return NULL;
        }
    }
    return body;
}

/* JSON texts of the filters' patterns, compared as JSON. */
static bool same_filters(const json_t *want, const json_t *have) {
    const json_t *w = json_object_get(json_object_get(want, "FilterCriteria"),
                                      "Filters");
    const json_t *h = json_object_get(json_object_get(have, "FilterCriteria"),
                                      "Filters");
    if (json_array_size(w) != json_array_size(h))
        return false;
    for (size_t i = 0; i < json_array_size(w); i++)
        if (!evb__apply_same_json_text(
                evb__apply_str(json_array_get(w, i), "Pattern"),
                evb__apply_str(json_array_get(h, i), "Pattern")))
            return false;
    return true;
}

static void cmp_pipe(cmp_t *x, const json_t *spec, const json_t *have) {
    changes_t *c = &x->ch;
    bool unresolved = false;
    json_t *want = evb__apply_pipe_body(x->plan, spec, &unresolved);
    if (!want) {
        c->nomem = true;
        return;
    }
    char why[200] = "";
    if (strcmp(evb__apply_str(want, "Source"), evb__apply_str(have, "Source"))) {
        ch_value(c, "source", evb__apply_str(have, "Source"),
                 evb__apply_str(want, "Source"));
        snprintf(why, sizeof why, "source");
    }
    const json_t *wsp = json_object_get(want, "SourceParameters");
    const json_t *hsp = json_object_get(have, "SourceParameters");
    for (size_t k = 0; k < EVB_ARRAY_LEN(KAFKA_KEYS); k++) {
        const json_t *wk = json_object_get(wsp, KAFKA_KEYS[k]);
        const json_t *hk = json_object_get(hsp, KAFKA_KEYS[k]);
        if (!wk && !hk)
            continue;
        for (size_t i = 0; i < EVB_ARRAY_LEN(KAFKA_FIXED); i++) {
            const json_t *a = json_object_get(wk, KAFKA_FIXED[i][0]);
            const json_t *b = json_object_get(hk, KAFKA_FIXED[i][0]);
            bool same;
            if (i == 1) /* StartingPosition: LATEST by default */
                same = strcmp(json_is_string(a) ? json_string_value(a)
                                                : "LATEST",
                              json_is_string(b) ? json_string_value(b)
                                                : "LATEST") == 0;
            else
                same = evb__apply_same(a ? a : json_null(),
                                       b ? b : json_null());
            if (same)
                continue;
            if (json_is_string(a) || json_is_string(b) || (!a && !b))
                ch_value(c, KAFKA_FIXED[i][1],
                         json_is_string(b) ? json_string_value(b) : "",
                         json_is_string(a) ? json_string_value(a) : "");
            else
                ch_add(c, KAFKA_FIXED[i][1]);
            if (!why[0])
                snprintf(why, sizeof why, "%s", KAFKA_FIXED[i][1]);
        }
        /* the rest: updatable */
        json_t *wr = wk ? json_deep_copy(wk) : json_object();
        json_t *hr = hk ? json_deep_copy(hk) : json_object();
        for (size_t i = 0; wr && hr && i < EVB_ARRAY_LEN(KAFKA_FIXED); i++) {
            json_object_del(wr, KAFKA_FIXED[i][0]);
            json_object_del(hr, KAFKA_FIXED[i][0]);
        }
        if (!wr || !hr)
            c->nomem = true;
        else if (!evb__apply_same(wr, hr))
            ch_add(c, k ? "managedStreamingKafkaParameters"
                        : "selfManagedKafkaParameters");
        json_decref(wr);
        json_decref(hr);
    }
    if (!same_filters(wsp, hsp))
        ch_add(c, "filterCriteria");
    ch_str(c, "description", evb__apply_str(want, "Description"),
           evb__apply_str(have, "Description"), true);
    const char *wd = evb__apply_str(want, "DesiredState");
    ch_str(c, "desiredState", *wd ? wd : "RUNNING",
           evb__apply_str(have, "DesiredState"), true);
    static const char *const whole[][2] = {
        {"Enrichment", "enrichment"},
        {"EnrichmentParameters", "enrichmentParameters"},
        {"Target", "target"},
        {"TargetParameters", "targetParameters"},
    };
    for (size_t i = 0; i < EVB_ARRAY_LEN(whole); i++) {
        const json_t *a = json_object_get(want, whole[i][0]);
        const json_t *b = json_object_get(have, whole[i][0]);
        if (unresolved && i % 2 == 0 && a)
            ch_add(c, whole[i][1]); /* an ARN still to be learnt */
        else if (!evb__apply_same(a ? a : json_null(), b ? b : json_null()))
            ch_add(c, whole[i][1]);
    }
    if (json_object_get(want, "RoleArn"))
        ch_str(c, "roleArn", evb__apply_str(want, "RoleArn"),
               evb__apply_str(have, "RoleArn"), false);
    ch_tags(c, json_object_get(spec, "@tags"), json_object_get(have, "Tags"));
    if (why[0]) {
        x->step->replace = true;
        snprintf(x->note, sizeof x->note,
                 "replaces it: UpdatePipe cannot change its %s (deleted, then "
                 "created; the new pipe starts at its startingPosition)",
                 why);
    }
    json_decref(want);
}

typedef void (*cmp_fn)(cmp_t *x, const json_t *want, const json_t *have);

static const cmp_fn COMPARE[EVB_APPLY_KIND_COUNT] = {
    [EVB_APPLY_SCHEMA] = cmp_schema,
    [EVB_APPLY_PIPE] = cmp_pipe,
    [EVB_APPLY_LOG_GROUP] = cmp_log_group,
    [EVB_APPLY_QUEUE] = cmp_queue,
    [EVB_APPLY_BUS] = cmp_bus,
    [EVB_APPLY_CONNECTION] = cmp_connection,
    [EVB_APPLY_API_DESTINATION] = cmp_api_destination,
    [EVB_APPLY_ARCHIVE] = cmp_archive,
    [EVB_APPLY_RULE] = cmp_rule,
};

/* ---- building the plan
 * ------------------------------------------------------------ */

typedef struct builder {
    evb_apply_plan_t *plan;
    const evb_apply_doc_t *doc;
    evb_apply_diags_t *diags;
    bool prune;
    bool nomem;
    bool invalid;
} builder_t;

static evb__apply_step_t *add_step(builder_t *b) {
    evb_apply_plan_t *p = b->plan;
    evb__apply_step_t *s = realloc(p->steps, (p->n + 1) * sizeof *s);
    if (!s) {
        b->nomem = true;
        return NULL;
    }
    p->steps = s;
    s = &p->steps[p->n++];
    memset(s, 0, sizeof *s);
    return s;
}

static const char *record_of(const evb_apply_plan_t *p, evb_apply_kind_t k,
                             const char *id, char stack[65]) {
    char key[64], digest[81];
    evb__apply_record_key(k, id, key);
    const char *v = json_string_value(
        json_object_get(json_object_get(p->state, "record"), key));
    if (!v || !evb__apply_record_parse(v, stack, digest))
        return NULL;
    return v;
}

/* Does the plan delete resource (k, id)? (before steps are ordered) */
static bool deleted(const builder_t *b, evb_apply_kind_t k, const char *id) {
    for (size_t i = 0; i < b->plan->n; i++) {
        const evb__apply_step_t *s = &b->plan->steps[i];
        if (s->pub.kind == k && s->pub.action == EVB_APPLY_DELETE &&
            strcmp(s->id, id) == 0)
            return true;
    }
    return false;
}

/* A reference from (res, at line) to (k, name): it must be in the document
 * or on the server, and not about to be deleted. */
static void check_ref(builder_t *b, const evb__apply_res_t *res, unsigned line,
                      evb_apply_kind_t k, const char *name) {
    bool in_doc = evb__apply_doc_find(b->doc, k, name) != NULL;
    bool live = live_of(b->plan->state, k, name) != NULL;
    if (k == EVB_APPLY_BUS && strcmp(name, "default") == 0)
        return;
    if (!in_doc && !live) {
        evb__apply_diag(b->diags, b->doc->path, line,
                        "%s %s refers to %s '%s', which is neither in the "
                        "file nor on the server",
                        evb_apply_kind_name(res->kind), res->id,
                        evb_apply_kind_name(k), name);
        b->invalid = true;
    } else if (!in_doc && deleted(b, k, name)) {
        evb__apply_diag(b->diags, b->doc->path, line,
                        "%s %s refers to %s '%s', which this plan deletes "
                        "(it is managed by apply and no longer in the file): "
                        "add it to the file",
                        evb_apply_kind_name(res->kind), res->id,
                        evb_apply_kind_name(k), name);
        b->invalid = true;
    }
}

static void check_refs(builder_t *b, const evb__apply_res_t *r) {
    const json_t *o = r->spec;
    const char *bus = json_string_value(json_object_get(o, "@bus"));
    if (bus && (r->kind == EVB_APPLY_RULE || r->kind == EVB_APPLY_ARCHIVE))
        check_ref(b, r, evb__apply_line_of(o, "@bus"), EVB_APPLY_BUS, bus);
    const char *conn = json_string_value(json_object_get(o, "@connection"));
    if (conn)
        check_ref(b, r, evb__apply_line_of(o, "@connection"),
                  EVB_APPLY_CONNECTION, conn);
    const json_t *pt = json_object_get(o, "@target");
    for (size_t k = 0; pt && k < EVB_ARRAY_LEN(TARGET_REFS); k++) {
        const char *name =
            json_string_value(json_object_get(pt, TARGET_REFS[k].key));
        if (name)
            check_ref(b, r, evb__apply_line_of(pt, NULL), TARGET_REFS[k].kind,
                      name);
    }
    const char *enr =
        json_string_value(json_object_get(o, "@enrichmentApiDestination"));
    if (enr)
        check_ref(b, r, evb__apply_line_of(o, "@enrichmentApiDestination"),
                  EVB_APPLY_API_DESTINATION, enr);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(o, "@targets"), i, t) {
        for (size_t k = 0; k < EVB_ARRAY_LEN(TARGET_REFS); k++) {
            const char *name =
                json_string_value(json_object_get(t, TARGET_REFS[k].key));
            if (name)
                check_ref(b, r, evb__apply_line_of(t, TARGET_REFS[k].key),
                          TARGET_REFS[k].kind, name);
        }
        json_t *dlc = json_object_get(t, "DeadLetterConfig");
        const char *q = json_string_value(json_object_get(dlc, "@queue"));
        if (q)
            check_ref(b, r, evb__apply_line_of(dlc, "@queue"), EVB_APPLY_QUEUE,
                      q);
    }
}

static char *dupstr(builder_t *b, const char *s) {
    char *d = strdup(s);
    if (!d)
        b->nomem = true;
    return d;
}

static void plan_desired(builder_t *b, evb_apply_kind_t k) {
    const evb_apply_doc_t *doc = b->doc;
    for (size_t i = 0; i < doc->nres[k]; i++) {
        const evb__apply_res_t *r = &doc->res[k][i];
        evb__apply_step_t *s = add_step(b);
        if (!s)
            return;
        s->res = r;
        s->live = live_of(b->plan->state, k, r->id);
        s->id = dupstr(b, r->id);
        s->pub.kind = k;
        s->pub.line = r->line;
        char stack[65] = "";
        const char *rec = record_of(b->plan, k, r->id, stack);
        bool ours = rec && strcmp(stack, doc->stack) == 0;
        s->record = !ours;
        const char *note = "";
        char buf[160];
        cmp_t x = {.plan = b->plan, .step = s};
        evb_buf_init(&x.ch.b, 0);
        if (!s->live) {
            s->pub.action = EVB_APPLY_CREATE;
            if (k == EVB_APPLY_CONNECTION)
                s->secrets_changed = true;
        } else {
            COMPARE[k](&x, r->spec, s->live);
            s->pub.action = x.ch.b.len ? EVB_APPLY_UPDATE : EVB_APPLY_UNCHANGED;
            if (x.note[0])
                note = x.note;
            else if (s->replace)
                note = "replaces it: its bus changes, so the archived events "
                       "are lost";
            else if (rec && !ours) {
                snprintf(buf, sizeof buf, "taken over from stack %s", stack);
                note = buf;
            } else if (!rec)
                note = "now managed by apply";
        }
        if (x.ch.nomem)
            b->nomem = true;
        s->changes = dupstr(b, x.ch.b.data ? x.ch.b.data : "");
        s->note = dupstr(b, note);
        evb_buf_free(&x.ch.b);
    }
}

static void plan_deletes(builder_t *b, evb_apply_kind_t k) {
    const json_t *live = live_map(b->plan->state, k);
    const char *id;
    json_t *v;
    json_object_foreach((json_t *)live, id, v) {
        if (evb__apply_doc_find(b->doc, k, id))
            continue;
        if (k == EVB_APPLY_BUS && strcmp(id, "default") == 0)
            continue;
        char stack[65] = "";
        const char *rec = record_of(b->plan, k, id, stack);
        bool ours = rec && strcmp(stack, b->doc->stack) == 0;
        if (!ours && !(b->prune && !rec))
            continue;
        evb__apply_step_t *s = add_step(b);
        if (!s)
            return;
        s->live = v;
        s->id = dupstr(b, id);
        s->pub.kind = k;
        s->pub.action = EVB_APPLY_DELETE;
        s->changes = dupstr(b, "");
        s->note = dupstr(b, ours ? "" : "--prune: not managed by apply");
    }
}

/* Record keys of this stack whose resource the server no longer has. */
static void find_stale(builder_t *b) {
    const json_t *record = json_object_get(b->plan->state, "record");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)record, key, v) {
        char stack[65], digest[81];
        if (!json_is_string(v) ||
            !evb__apply_record_parse(json_string_value(v), stack, digest) ||
            strcmp(stack, b->doc->stack) != 0)
            continue;
        bool found = false;
        for (int k = 0; k < EVB_APPLY_KIND_COUNT && !found; k++) {
            const char *id;
            json_t *lv;
            json_object_foreach(
                (json_t *)live_map(b->plan->state, (evb_apply_kind_t)k), id,
                lv) {
                char want[64];
                evb__apply_record_key((evb_apply_kind_t)k, id, want);
                if (strcmp(want, key) == 0) {
                    found = true;
                    break;
                }
            }
        }
        /* nor one the document is about to create (its entry stays) */
        for (int k = 0; k < EVB_APPLY_KIND_COUNT && !found; k++)
            for (size_t i = 0; i < b->doc->nres[k] && !found; i++) {
                char want[64];
                evb__apply_record_key((evb_apply_kind_t)k, b->doc->res[k][i].id,
                                      want);
                found = strcmp(want, key) == 0;
            }
        if (!found && json_array_append_new(b->plan->stale, json_string(key)))
            b->nomem = true;
    }
}

static int step_order(const void *pa, const void *pb) {
    const evb__apply_step_t *a = pa, *b = pb;
    bool da = a->pub.action == EVB_APPLY_DELETE;
    bool db = b->pub.action == EVB_APPLY_DELETE;
    if (da != db)
        return da ? 1 : -1;
    if (a->pub.kind != b->pub.kind)
        return da ? (int)b->pub.kind - (int)a->pub.kind
                  : (int)a->pub.kind - (int)b->pub.kind;
    return strcmp(a->id, b->id);
}

void evb_apply_plan_free(evb_apply_plan_t *plan) {
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n; i++) {
        free(plan->steps[i].id);
        free(plan->steps[i].changes);
        free(plan->steps[i].note);
    }
    free(plan->steps);
    json_decref(plan->arns);
    json_decref(plan->stale);
    free(plan);
}

evb_err_t evb_apply_plan_compute(const evb_apply_doc_t *doc,
                                 const json_t *state,
                                 const evb_apply_plan_opts_t *opts,
                                 evb_apply_plan_t **out,
                                 evb_apply_diags_t *diags) {
    *out = NULL;
    evb_apply_plan_t *plan = calloc(1, sizeof *plan);
    if (plan) {
        plan->doc = doc;
        plan->state = state;
        plan->arns = json_object();
        plan->stale = json_array();
    }
    if (!plan || !plan->arns || !plan->stale) {
        evb_apply_plan_free(plan);
        diags->nomem = true;
        return EVB_ERR_NOMEM;
    }
    builder_t b = {
        .plan = plan, .doc = doc, .diags = diags, .prune = opts && opts->prune};
    for (int k = 0; k < EVB_APPLY_KIND_COUNT; k++)
        plan_deletes(&b, (evb_apply_kind_t)k);
    for (int k = 0; k < EVB_APPLY_KIND_COUNT; k++)
        plan_desired(&b, (evb_apply_kind_t)k);
    for (int k = 0; k < EVB_APPLY_KIND_COUNT; k++)
        for (size_t i = 0; i < doc->nres[k]; i++)
            check_refs(&b, &doc->res[k][i]);
    find_stale(&b);
    if (b.nomem || b.invalid) {
        evb_apply_plan_free(plan);
        if (b.nomem)
            diags->nomem = true;
        return b.nomem ? EVB_ERR_NOMEM : EVB_ERR_INVALID_ARG;
    }
    if (plan->n)
        qsort(plan->steps, plan->n, sizeof *plan->steps, step_order);
    for (size_t i = 0; i < plan->n; i++) {
        evb__apply_step_t *s = &plan->steps[i];
        s->pub.id = s->id;
        s->pub.changes = s->changes;
        s->pub.note = s->note;
    }
    *out = plan;
    return EVB_ERR_OK;
}

/* ---- reading and printing
 * -------------------------------------------------------------- */

const char *evb_apply_action_name(evb_apply_action_t a) {
    static const char *const names[] = {"create", "update", "delete",
                                        "unchanged"};
    return (unsigned)a < EVB_ARRAY_LEN(names) ? names[a] : "?";
}

size_t evb_apply_plan_size(const evb_apply_plan_t *plan) {
    return plan->n;
}

const evb_apply_step_t *evb_apply_plan_step(const evb_apply_plan_t *plan,
                                            size_t i) {
    return i < plan->n ? &plan->steps[i].pub : NULL;
}

size_t evb_apply_plan_count(const evb_apply_plan_t *plan,
                            evb_apply_action_t a) {
    size_t n = 0;
    for (size_t i = 0; i < plan->n; i++)
        n += plan->steps[i].pub.action == a;
    return n;
}

void evb_apply_plan_print(const evb_apply_plan_t *plan, FILE *out) {
    static const char marks[] = {'+', '~', '-', '='};
    fprintf(out, "Plan for stack \"%s\" (%s):\n", plan->doc->stack,
            plan->doc->path);
    for (size_t i = 0; i < plan->n; i++) {
        const evb_apply_step_t *s = &plan->steps[i].pub;
        fprintf(out, "  %c %-9s %-15s %s", marks[s->action],
                evb_apply_action_name(s->action), evb_apply_kind_name(s->kind),
                s->id);
        if (s->changes[0])
            fprintf(out, ": %s", s->changes);
        if (s->note[0])
            fprintf(out, " [%s]", s->note);
        fputc('\n', out);
    }
    if (plan->n == 0)
        fprintf(out, "  (nothing: the file declares no resources and apply "
                     "manages none)\n");
    fprintf(out,
            "Plan: %zu to create, %zu to update, %zu to delete, %zu "
            "unchanged.\n",
            evb_apply_plan_count(plan, EVB_APPLY_CREATE),
            evb_apply_plan_count(plan, EVB_APPLY_UPDATE),
            evb_apply_plan_count(plan, EVB_APPLY_DELETE),
            evb_apply_plan_count(plan, EVB_APPLY_UNCHANGED));
}
