/*
 * spec.c: a pipe's definition: request validation (the botocore pipes
 * model's constraints, then what evbus supports), UpdatePipe's merge
 * rules, and compilation into what a runner needs.
 *
 * Constraint violations are reported the way AWS's services word them:
 * "2 validation errors detected: Value 'x' at 'sourceParameters.
 * selfManagedKafkaParameters.batchSize' failed to satisfy constraint:
 * Member must have value less than or equal to 10000; ...". What the model
 * cannot say (a source evbus cannot read, parameters for another kind of
 * source or target, a batch larger than the target takes) comes after, as
 * one plain message.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kafka/kafka.h"
#include "pipes_internal.h"

/* ---- violations ----------------------------------------------------------- */

typedef struct vctx {
    evb_buf_t msg;
    unsigned count;
    char plain[512]; /* the first non-model error, if any */
} vctx_t;

static void vinit(vctx_t *v) {
    memset(v, 0, sizeof *v);
    evb_buf_init(&v->msg, 64 * 1024);
}

static void violation(vctx_t *v, const char *value, const char *path,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void violation(vctx_t *v, const char *value, const char *path,
                      const char *fmt, ...) {
    char c[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c, sizeof c, fmt, ap);
    va_end(ap);
    if (v->count++)
        evb_buf_append(&v->msg, "; ", 2);
    if (value)
        evb_buf_appendf(&v->msg, "Value '%.200s' at '%s' failed to satisfy "
                                 "constraint: %s",
                        value, path, c);
    else
        evb_buf_appendf(&v->msg,
                        "Value null at '%s' failed to satisfy constraint: %s",
                        path, c);
}

static void plain(vctx_t *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void plain(vctx_t *v, const char *fmt, ...) {
    if (v->plain[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->plain, sizeof v->plain, fmt, ap);
    va_end(ap);
}

/* The ValidationException, if any; frees v. */
static evb_err_t vdone(vctx_t *v, char *errstr, size_t errstr_size) {
    evb_err_t err = EVB_ERR_OK;
    if (v->count)
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "%u validation error%s detected: %s", v->count,
                          v->count == 1 ? "" : "s",
                          v->msg.data ? v->msg.data : "");
    else if (v->plain[0])
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size, "%s",
                          v->plain);
    evb_buf_free(&v->msg);
    return err;
}

/* ---- shapes ----------------------------------------------------------------- */

static const char *type_name(const json_t *j) {
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* Member key of o as a string; NULL when absent or null. A member of
 * another type is a violation. */
static const char *str_at(vctx_t *v, const json_t *o, const char *key,
                          const char *path, bool required, size_t min,
                          size_t max) {
    const json_t *j = o ? json_object_get(o, key) : NULL;
    if (!j || json_is_null(j)) {
        if (required)
            violation(v, NULL, path, "Member must not be null");
        return NULL;
    }
    if (!json_is_string(j)) {
        plain(v, "Expected a string at '%s', found %s", path, type_name(j));
        return NULL;
    }
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);
    if (n < min)
        violation(v, s, path,
                  "Member must have length greater than or equal to %zu",
                  min);
    if (max && n > max)
        violation(v, s, path,
                  "Member must have length less than or equal to %zu", max);
    return s;
}

/* Integer member in [min, max]; -1 when absent. */
static long long int_at(vctx_t *v, const json_t *o, const char *key,
                        const char *path, long long min, long long max) {
    const json_t *j = o ? json_object_get(o, key) : NULL;
    if (!j || json_is_null(j))
        return -1;
    if (!json_is_integer(j)) {
        plain(v, "Expected an integer at '%s', found %s", path, type_name(j));
        return -1;
    }
    long long n = json_integer_value(j);
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", n);
    if (n < min) {
        violation(v, buf, path,
                  "Member must have value greater than or equal to %lld", min);
        return -1;
    }
    if (n > max) {
        violation(v, buf, path,
                  "Member must have value less than or equal to %lld", max);
        return -1;
    }
    return n;
}

static const json_t *obj_at(vctx_t *v, const json_t *o, const char *key,
                            const char *path) {
    const json_t *j = o ? json_object_get(o, key) : NULL;
    if (!j || json_is_null(j))
        return NULL;
    if (!json_is_object(j)) {
        plain(v, "Expected an object at '%s', found %s", path, type_name(j));
        return NULL;
    }
    return j;
}

static const json_t *arr_at(vctx_t *v, const json_t *o, const char *key,
                            const char *path, size_t min, size_t max) {
    const json_t *j = o ? json_object_get(o, key) : NULL;
    if (!j || json_is_null(j))
        return NULL;
    if (!json_is_array(j)) {
        plain(v, "Expected an array at '%s', found %s", path, type_name(j));
        return NULL;
    }
    size_t n = json_array_size(j);
    char buf[32];
    snprintf(buf, sizeof buf, "[%zu items]", n);
    if (n < min)
        violation(v, buf, path,
                  "Member must have length greater than or equal to %zu", min);
    if (max && n > max)
        violation(v, buf, path,
                  "Member must have length less than or equal to %zu", max);
    return j;
}

/* Members of o other than the allowed ones are violations of the model
 * (AWS ignores unknown members; evbus names the first, to be useful). */
static void only_members(vctx_t *v, const json_t *o, const char *path,
                         const char *const *allowed) {
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)o, k, m) {
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(k, allowed[i]) == 0)
                ok = true;
        if (!ok) {
            plain(v, "%s is not supported in %s by evbus", k, path);
            return;
        }
    }
}

/* ---- patterns ------------------------------------------------------------------ */

static bool pipe_name_ok(const char *s) {
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '_')
            return false;
    return true;
}

/* host:port with the model's host rule (labels of letters, digits and
 * inner hyphens, dot-separated) and a 1-5 digit port. */
static bool endpoint_ok(const char *s, size_t n) {
    const char *colon = memrchr(s, ':', n);
    if (!colon || colon == s)
        return false;
    size_t plen = n - (size_t)(colon - s) - 1;
    if (plen < 1 || plen > 5)
        return false;
    for (size_t i = 0; i < plen; i++)
        if (!isdigit((unsigned char)colon[1 + i]))
            return false;
    const char *p = s;
    while (p < colon) {
        const char *dot = memchr(p, '.', (size_t)(colon - p));
        const char *end = dot ? dot : colon;
        if (end == p || !isalnum((unsigned char)p[0]) ||
            !isalnum((unsigned char)end[-1]))
            return false;
        for (const char *q = p; q < end; q++)
            if (!isalnum((unsigned char)*q) && *q != '-')
                return false;
        p = dot ? dot + 1 : colon;
        if (dot && p == colon)
            return false;
    }
    return true;
}

/* The parts of an ARN: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE. */
typedef struct arn {
    char service[64], region[64], account[16];
    const char *resource;
} arn_t;

static bool arn_parse(const char *s, arn_t *a) {
    memset(a, 0, sizeof *a);
    if (strncmp(s, "arn:aws", 7) != 0)
        return false;
    const char *p = s + 4;
    const char *f[5]; /* partition, service, region, account, resource */
    for (int i = 0; i < 4; i++) {
        f[i] = p;
        const char *c = strchr(p, ':');
        if (!c)
            return false;
        p = c + 1;
    }
    f[4] = p;
    size_t sl = (size_t)(f[2] - f[1] - 1), rl = (size_t)(f[3] - f[2] - 1),
           al = (size_t)(f[4] - f[3] - 1);
    if (sl == 0 || sl >= sizeof a->service || rl >= sizeof a->region ||
        (al != 0 && al != 12) || !*p)
        return false;
    memcpy(a->service, f[1], sl);
    memcpy(a->region, f[2], rl);
    memcpy(a->account, f[3], al);
    for (size_t i = 0; i < al; i++)
        if (!isdigit((unsigned char)a->account[i]))
            return false;
    for (size_t i = 0; i < sl; i++)
        if (!isalnum((unsigned char)a->service[i]) && a->service[i] != '-')
            return false;
    a->resource = p;
    return true;
}

#define ARN_RE                                                                 \
    "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-]+):([a-z]{2,4}((-gov)|(-de)|(-iso(" \
    "[a-z]?)))?-[a-z]+(-\\d{1})?)?:(\\d{12})?:(.+)"
#define SECRET_RE                                                              \
    "(^arn:aws([a-z]|\\-)*:secretsmanager:([a-z]{2,4}((-gov)|(-de)|(-iso([a-z]" \
    "?)))?-[a-z]+(-\\d{1})?):(\\d{12}):secret:.+)"
#define ROLE_RE "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z0-9+=,.@\\-_/]+"
#define ENDPOINT_RE                                                            \
    "(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]*[a-zA-Z0-9])\\.)*([A-Za-z0-9]|["  \
    "A-Za-z0-9][A-Za-z0-9\\-]*[A-Za-z0-9]):[0-9]{1,5}"
#define JSONPATH_RE "\\$(\\.[\\w/_-]+(\\[(\\d+|\\*)\\])*)*"

static bool secret_ok(const char *s) {
    arn_t a;
    return arn_parse(s, &a) && strcmp(a.service, "secretsmanager") == 0 &&
           strlen(a.account) == 12 && strncmp(a.resource, "secret:", 7) == 0 &&
           a.resource[7];
}

static bool role_ok(const char *s) {
    arn_t a;
    if (!arn_parse(s, &a) || strcmp(a.service, "iam") != 0 || a.region[0] ||
        strlen(a.account) != 12 || strncmp(a.resource, "role", 4) != 0)
        return false;
    const char *r = a.resource + 4;
    if (*r == '/')
        r++;
    if (!*r)
        return false;
    for (; *r; r++)
        if (!isalnum((unsigned char)*r) && !strchr("+=,.@-_/", *r))
            return false;
    return true;
}

static bool group_ok(const char *s) {
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("-/*:_+=.@", *s))
            return false;
    return true;
}

static bool topic_ok(const char *s) {
    if (s[0] == '.')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
            return false;
    return true;
}

static bool is_path(const char *s) {
    return s && s[0] == '$' && evb_pipe_jsonpath_valid(s, strlen(s));
}

/* ---- validation of a definition ---------------------------------------------- */

static const char *const KAFKA_SMK_MEMBERS[] = {
    "TopicName", "StartingPosition", "AdditionalBootstrapServers",
    "BatchSize", "MaximumBatchingWindowInSeconds", "ConsumerGroupID",
    "Credentials", "ServerRootCaCertificate", "Vpc", NULL};
static const char *const KAFKA_MSK_MEMBERS[] = {
    "TopicName", "StartingPosition", "BatchSize",
    "MaximumBatchingWindowInSeconds", "ConsumerGroupID", "Credentials", NULL};

typedef enum { SRC_BAD, SRC_SMK, SRC_MSK } src_kind_t;

static src_kind_t source_kind(const char *s) {
    if (strncmp(s, "smk://", 6) == 0)
        return endpoint_ok(s + 6, strlen(s + 6)) ? SRC_SMK : SRC_BAD;
    arn_t a;
    if (arn_parse(s, &a) && strcmp(a.service, "kafka") == 0 &&
        strncmp(a.resource, "cluster/", 8) == 0)
        return SRC_MSK;
    return SRC_BAD;
}

static void check_credentials(vctx_t *v, const json_t *kp, bool msk,
                              const char *path) {
    char p[256];
    snprintf(p, sizeof p, "%s.credentials", path);
    const json_t *c = obj_at(v, kp, "Credentials", p);
    if (!c)
        return;
    static const char *const smk[] = {"BasicAuth", "SaslScram512Auth",
                                      "SaslScram256Auth",
                                      "ClientCertificateTlsAuth", NULL};
    static const char *const mskc[] = {"SaslScram512Auth",
                                       "ClientCertificateTlsAuth", NULL};
    only_members(v, c, p, msk ? mskc : smk);
    if (json_object_size(c) != 1) {
        plain(v, "Credentials must name exactly one of its members");
        return;
    }
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)c, k, m) {
        char mp[300];
        snprintf(mp, sizeof mp, "%s.%c%s", p, tolower((unsigned char)k[0]),
                 k + 1);
        const char *s = str_at(v, c, k, mp, true, 1, 1600);
        if (s && !secret_ok(s))
            violation(v, s, mp,
                      "Member must satisfy regular expression pattern: %s",
                      SECRET_RE);
    }
}

/* The Kafka parameters of a source. */
static void check_kafka(vctx_t *v, const json_t *kp, bool msk) {
    const char *path = msk ? "sourceParameters.managedStreamingKafkaParameters"
                           : "sourceParameters.selfManagedKafkaParameters";
    char p[256];
    only_members(v, kp, msk ? "ManagedStreamingKafkaParameters"
                            : "SelfManagedKafkaParameters",
                 msk ? KAFKA_MSK_MEMBERS : KAFKA_SMK_MEMBERS);
    snprintf(p, sizeof p, "%s.topicName", path);
    const char *t = str_at(v, kp, "TopicName", p, true, 1, 249);
    if (t && !topic_ok(t))
        violation(v, t, p,
                  "Member must satisfy regular expression pattern: "
                  "[^.]([a-zA-Z0-9\\-_.]+)");
    snprintf(p, sizeof p, "%s.startingPosition", path);
    const char *sp = str_at(v, kp, "StartingPosition", p, false, 0, 0);
    if (sp && strcmp(sp, "TRIM_HORIZON") != 0 && strcmp(sp, "LATEST") != 0)
        violation(v, sp, p,
                  "Member must satisfy enum value set: [TRIM_HORIZON, "
                  "LATEST]");
    snprintf(p, sizeof p, "%s.batchSize", path);
    int_at(v, kp, "BatchSize", p, 1, 10000);
    snprintf(p, sizeof p, "%s.maximumBatchingWindowInSeconds", path);
    int_at(v, kp, "MaximumBatchingWindowInSeconds", p, 0, 300);
    snprintf(p, sizeof p, "%s.consumerGroupID", path);
    const char *g = str_at(v, kp, "ConsumerGroupID", p, false, 1, 200);
    if (g && !group_ok(g))
        violation(v, g, p,
                  "Member must satisfy regular expression pattern: "
                  "[a-zA-Z0-9-\\/*:_+=.@-]*");
    if (!msk) {
        snprintf(p, sizeof p, "%s.additionalBootstrapServers", path);
        const json_t *a = arr_at(v, kp, "AdditionalBootstrapServers", p, 0, 2);
        for (size_t i = 0; a && i < json_array_size(a); i++) {
            const json_t *e = json_array_get(a, i);
            char ep[300];
            snprintf(ep, sizeof ep, "%s.%zu.member", p, i + 1);
            if (!json_is_string(e)) {
                plain(v, "Expected a string at '%s'", ep);
                continue;
            }
            const char *s = json_string_value(e);
            if (!endpoint_ok(s, strlen(s)) || strlen(s) > 300)
                violation(v, s, ep,
                          "Member must satisfy regular expression pattern: %s",
                          ENDPOINT_RE);
        }
        snprintf(p, sizeof p, "%s.serverRootCaCertificate", path);
        const char *ca =
            str_at(v, kp, "ServerRootCaCertificate", p, false, 1, 1600);
        if (ca && !secret_ok(ca))
            violation(v, ca, p,
                      "Member must satisfy regular expression pattern: %s",
                      SECRET_RE);
        snprintf(p, sizeof p, "%s.vpc", path);
        obj_at(v, kp, "Vpc", p);
    }
    check_credentials(v, kp, msk, path);
}

static void check_filters(vctx_t *v, const json_t *sp) {
    const json_t *fc =
        obj_at(v, sp, "FilterCriteria", "sourceParameters.filterCriteria");
    if (!fc)
        return;
    const json_t *fl = arr_at(v, fc, "Filters",
                              "sourceParameters.filterCriteria.filters", 0, 5);
    for (size_t i = 0; fl && i < json_array_size(fl); i++) {
        const json_t *f = json_array_get(fl, i);
        char p[128];
        snprintf(p, sizeof p, "sourceParameters.filterCriteria.filters.%zu."
                              "member",
                 i + 1);
        if (!json_is_object(f)) {
            plain(v, "Expected an object at '%s'", p);
            continue;
        }
        strcat(p, ".pattern");
        str_at(v, f, "Pattern", p, false, 0, 4096);
    }
}

static void check_http(vctx_t *v, const json_t *hp, const char *path) {
    char p[256];
    snprintf(p, sizeof p, "%s.pathParameterValues", path);
    const json_t *pv = arr_at(v, hp, "PathParameterValues", p, 0, 0);
    for (size_t i = 0; pv && i < json_array_size(pv); i++)
        if (!json_is_string(json_array_get(pv, i)))
            plain(v, "Expected strings in '%s'", p);
    const char *maps[] = {"HeaderParameters", "QueryStringParameters"};
    for (int m = 0; m < 2; m++) {
        snprintf(p, sizeof p, "%s.%s", path,
                 m ? "queryStringParameters" : "headerParameters");
        const json_t *o = obj_at(v, hp, maps[m], p);
        const char *k;
        json_t *val;
        json_object_foreach((json_t *)o, k, val) {
            if (!json_is_string(val))
                plain(v, "Expected string values in '%s'", p);
            else if (strlen(k) > 512 || json_string_length(val) > 512)
                violation(v, json_string_value(val), p,
                          "Member must have length less than or equal to 512");
        }
    }
}

/* The kind of a target ARN; -1 when evbus cannot deliver there. */
static int target_kind(const evb__pipe_scope_t *sc, const char *t, vctx_t *v,
                       bool enrichment) {
    arn_t a;
    if (!arn_parse(t, &a))
        return -1;
    if ((a.region[0] && strcmp(a.region, sc->region) != 0) ||
        (a.account[0] && strcmp(a.account, sc->account) != 0)) {
        plain(v, "%s %s is not in this account (%s) and region (%s)",
              enrichment ? "Enrichment" : "Target", t, sc->account,
              sc->region);
        return -2;
    }
    if (strcmp(a.service, "events") == 0 &&
        strncmp(a.resource, "api-destination/", 16) == 0 && a.resource[16])
        return EVB__TGT_APIDEST;
    if (enrichment)
        return -1;
    if (strcmp(a.service, "events") == 0 &&
        strncmp(a.resource, "event-bus/", 10) == 0 && a.resource[10])
        return EVB__TGT_BUS;
    if (strcmp(a.service, "logs") == 0 &&
        strncmp(a.resource, "log-group:", 10) == 0 && a.resource[10])
        return EVB__TGT_LOGS;
    if (strcmp(a.service, "sqs") == 0 && !strchr(a.resource, ':') &&
        !strchr(a.resource, '/'))
        return EVB__TGT_SQS;
    if (strcmp(a.service, "kafka") == 0 &&
        strncmp(a.resource, "topic/", 6) == 0) {
        if (!sc->kafka_target) {
            plain(v, "Kafka topic targets need evbus's Kafka module, which "
                     "this server was started without");
            return -2;
        }
        if (!evb_kafka_topic_arn_parse(t, NULL)) {
            plain(v, "Target %s is not a Kafka topic ARN "
                     "(arn:aws:kafka:REGION:ACCOUNT:topic/CLUSTER/TOPIC or "
                     "topic/CLUSTER/CLUSTER_UUID/TOPIC)",
                  t);
            return -2;
        }
        return EVB__TGT_KAFKA;
    }
    return -1;
}

static unsigned target_max_batch(int kind) {
    switch (kind) {
    case EVB__TGT_BUS: return 10;
    case EVB__TGT_SQS: return 10;
    case EVB__TGT_LOGS: return 10000;
    case EVB__TGT_KAFKA: return 10000;
    default: return 1; /* API destinations take one event a call */
    }
}

static void check_target_params(const evb__pipe_scope_t *sc, vctx_t *v,
                                const json_t *tp, int kind) {
    (void)sc;
    static const char *const allowed[] = {
        "InputTemplate", "EventBridgeEventBusParameters",
        "CloudWatchLogsParameters", "SqsQueueParameters", "HttpParameters",
        NULL};
    only_members(v, tp, "TargetParameters", allowed);
    const char *it = str_at(v, tp, "InputTemplate",
                            "targetParameters.inputTemplate", false, 0, 8192);
    (void)it;
    const json_t *eb = obj_at(v, tp, "EventBridgeEventBusParameters",
                              "targetParameters.eventBridgeEventBusParameters");
    if (eb) {
        if (kind != EVB__TGT_BUS)
            plain(v, "EventBridgeEventBusParameters apply to event-bus "
                     "targets only");
        static const char *const m[] = {"EndpointId", "DetailType", "Source",
                                        "Resources", "Time", NULL};
        only_members(v, eb, "EventBridgeEventBusParameters", m);
        const char *p = "targetParameters.eventBridgeEventBusParameters";
        char q[128];
        snprintf(q, sizeof q, "%s.endpointId", p);
        str_at(v, eb, "EndpointId", q, false, 1, 50);
        snprintf(q, sizeof q, "%s.detailType", p);
        str_at(v, eb, "DetailType", q, false, 1, 128);
        snprintf(q, sizeof q, "%s.source", p);
        const char *s = str_at(v, eb, "Source", q, false, 1, 256);
        if (s && strncmp(s, "aws.", 4) == 0)
            violation(v, s, q,
                      "Member must satisfy regular expression pattern: "
                      ".*(?=[/\\.\\-_A-Za-z0-9]+)((?!aws\\.).*)|(\\$(\\.[\\w/"
                      "_-]+(\\[(\\d+|\\*)\\])*)*).*");
        snprintf(q, sizeof q, "%s.time", p);
        const char *t = str_at(v, eb, "Time", q, false, 1, 256);
        if (t && !is_path(t))
            violation(v, t, q,
                      "Member must satisfy regular expression pattern: %s",
                      JSONPATH_RE);
        snprintf(q, sizeof q, "%s.resources", p);
        const json_t *r = arr_at(v, eb, "Resources", q, 0, 10);
        for (size_t i = 0; r && i < json_array_size(r); i++) {
            const json_t *e = json_array_get(r, i);
            arn_t a;
            if (!json_is_string(e) ||
                (!arn_parse(json_string_value(e), &a) &&
                 !is_path(json_string_value(e))))
                violation(v, json_is_string(e) ? json_string_value(e) : NULL,
                          q,
                          "Member must satisfy regular expression pattern: "
                          "%s|%s",
                          ARN_RE, JSONPATH_RE);
        }
    }
    const json_t *cw = obj_at(v, tp, "CloudWatchLogsParameters",
                              "targetParameters.cloudWatchLogsParameters");
    if (cw) {
        if (kind != EVB__TGT_LOGS)
            plain(v, "CloudWatchLogsParameters apply to log-group targets "
                     "only");
        static const char *const m[] = {"LogStreamName", "Timestamp", NULL};
        only_members(v, cw, "CloudWatchLogsParameters", m);
        str_at(v, cw, "LogStreamName",
               "targetParameters.cloudWatchLogsParameters.logStreamName",
               false, 1, 256);
        const char *t =
            str_at(v, cw, "Timestamp",
                   "targetParameters.cloudWatchLogsParameters.timestamp",
                   false, 1, 256);
        if (t && !is_path(t))
            violation(v, t,
                      "targetParameters.cloudWatchLogsParameters.timestamp",
                      "Member must satisfy regular expression pattern: %s",
                      JSONPATH_RE);
    }
    const json_t *sq = obj_at(v, tp, "SqsQueueParameters",
                              "targetParameters.sqsQueueParameters");
    if (sq) {
        if (kind != EVB__TGT_SQS)
            plain(v, "SqsQueueParameters apply to queue targets only");
        static const char *const m[] = {"MessageGroupId",
                                        "MessageDeduplicationId", NULL};
        only_members(v, sq, "SqsQueueParameters", m);
        str_at(v, sq, "MessageGroupId",
               "targetParameters.sqsQueueParameters.messageGroupId", false, 0,
               0);
        str_at(v, sq, "MessageDeduplicationId",
               "targetParameters.sqsQueueParameters.messageDeduplicationId",
               false, 0, 0);
    }
    const json_t *hp = obj_at(v, tp, "HttpParameters",
                              "targetParameters.httpParameters");
    if (hp) {
        if (kind != EVB__TGT_APIDEST)
            plain(v, "HttpParameters apply to API destination targets only");
        check_http(v, hp, "targetParameters.httpParameters");
    }
}

/* Everything about a definition; v collects the problems. */
static void check_def(const evb__pipe_scope_t *sc, vctx_t *v,
                      const json_t *def) {
    str_at(v, def, "Description", "description", false, 0, 512);
    const char *src = str_at(v, def, "Source", "source", true, 1, 1600);
    const char *tgt = str_at(v, def, "Target", "target", true, 1, 1600);
    const char *role = str_at(v, def, "RoleArn", "roleArn", true, 1, 1600);
    if (role && !role_ok(role))
        violation(v, role, "roleArn",
                  "Member must satisfy regular expression pattern: %s",
                  ROLE_RE);
    const char *enr =
        str_at(v, def, "Enrichment", "enrichment", false, 0, 1600);
    const char *kms = str_at(v, def, "KmsKeyIdentifier", "kmsKeyIdentifier",
                             false, 0, 2048);
    (void)kms;
    const json_t *lc =
        obj_at(v, def, "LogConfiguration", "logConfiguration");
    if (lc) {
        const char *lvl =
            str_at(v, lc, "Level", "logConfiguration.level", true, 0, 0);
        if (lvl && strcmp(lvl, "OFF") && strcmp(lvl, "ERROR") &&
            strcmp(lvl, "INFO") && strcmp(lvl, "TRACE"))
            violation(v, lvl, "logConfiguration.level",
                      "Member must satisfy enum value set: [OFF, ERROR, "
                      "INFO, TRACE]");
    }
    const json_t *sp =
        obj_at(v, def, "SourceParameters", "sourceParameters");
    const json_t *ep =
        obj_at(v, def, "EnrichmentParameters", "enrichmentParameters");
    const json_t *tp =
        obj_at(v, def, "TargetParameters", "targetParameters");

    /* source */
    src_kind_t sk = SRC_BAD;
    if (src) {
        sk = source_kind(src);
        arn_t a;
        if (sk == SRC_BAD && strncmp(src, "smk://", 6) != 0 &&
            !arn_parse(src, &a))
            violation(v, src, "source",
                      "Member must satisfy regular expression pattern: "
                      "smk://" ENDPOINT_RE "|" ARN_RE);
        else if (sk == SRC_BAD && strncmp(src, "smk://", 6) == 0)
            violation(v, src, "source",
                      "Member must satisfy regular expression pattern: "
                      "smk://" ENDPOINT_RE "|" ARN_RE);
        else if (sk == SRC_BAD)
            plain(v, "Source %s is not supported: evbus pipes read Kafka "
                     "topics (smk://host:port or an MSK cluster ARN)",
                  src);
    }
    if (sp) {
        static const char *const known[] = {
            "FilterCriteria", "SelfManagedKafkaParameters",
            "ManagedStreamingKafkaParameters", "KinesisStreamParameters",
            "DynamoDBStreamParameters", "SqsQueueParameters",
            "ActiveMQBrokerParameters", "RabbitMQBrokerParameters", NULL};
        only_members(v, sp, "SourceParameters", known);
        check_filters(v, sp);
    }
    const json_t *smk = obj_at(v, sp, "SelfManagedKafkaParameters",
                               "sourceParameters.selfManagedKafkaParameters");
    const json_t *msk =
        obj_at(v, sp, "ManagedStreamingKafkaParameters",
               "sourceParameters.managedStreamingKafkaParameters");
    if (sp)
        for (const char *const *k =
                 (const char *const[]){"KinesisStreamParameters",
                                       "DynamoDBStreamParameters",
                                       "SqsQueueParameters",
                                       "ActiveMQBrokerParameters",
                                       "RabbitMQBrokerParameters", NULL};
             *k; k++)
            if (json_object_get(sp, *k))
                plain(v, "SourceParameters.%s does not apply to a Kafka "
                         "source",
                      *k);
    if (sk == SRC_SMK) {
        if (msk)
            plain(v, "ManagedStreamingKafkaParameters does not apply to a "
                     "self-managed Kafka source");
        if (!smk)
            plain(v, "SourceParameters.SelfManagedKafkaParameters is "
                     "required for a self-managed Kafka source");
        else
            check_kafka(v, smk, false);
    } else if (sk == SRC_MSK) {
        if (smk)
            plain(v, "SelfManagedKafkaParameters does not apply to an MSK "
                     "source");
        if (!msk)
            plain(v, "SourceParameters.ManagedStreamingKafkaParameters is "
                     "required for an MSK source");
        else
            check_kafka(v, msk, true);
    }

    /* enrichment */
    int ekind = -3;
    if (enr && *enr) {
        arn_t a;
        if (!arn_parse(enr, &a))
            violation(v, enr, "enrichment",
                      "Member must satisfy regular expression pattern: $|"
                      ARN_RE);
        else if ((ekind = target_kind(sc, enr, v, true)) == -1)
            plain(v, "Enrichment %s is not supported: evbus enriches through "
                     "API destinations",
                  enr);
    }
    if (ep) {
        static const char *const m[] = {"InputTemplate", "HttpParameters",
                                        NULL};
        only_members(v, ep, "EnrichmentParameters", m);
        str_at(v, ep, "InputTemplate", "enrichmentParameters.inputTemplate",
               false, 0, 8192);
        const json_t *hp = obj_at(v, ep, "HttpParameters",
                                  "enrichmentParameters.httpParameters");
        if (hp)
            check_http(v, hp, "enrichmentParameters.httpParameters");
    }

    /* target */
    int tkind = -3;
    if (tgt) {
        arn_t a;
        if (!arn_parse(tgt, &a))
            violation(v, tgt, "target",
                      "Member must satisfy regular expression pattern: "
                      ARN_RE);
        else if ((tkind = target_kind(sc, tgt, v, false)) == -1)
            plain(v, "Target %s is not supported: evbus delivers to event "
                     "buses, API destinations, log groups, queues and Kafka "
                     "topics",
                  tgt);
    }
    if (tp && tkind >= 0)
        check_target_params(sc, v, tp, tkind);
    else if (tp)
        check_target_params(sc, v, tp, -1);

    /* batch sizes (reference §6.6) */
    const json_t *kp = smk ? smk : msk;
    const json_t *bs = kp ? json_object_get(kp, "BatchSize") : NULL;
    if (json_is_integer(bs) && tkind >= 0) {
        long long b = json_integer_value(bs);
        unsigned max = target_max_batch(tkind);
        if (ekind == EVB__TGT_APIDEST && b > 1)
            plain(v, "BatchSize must be 1 with an API destination "
                     "enrichment");
        else if ((unsigned long long)b > max)
            plain(v, "BatchSize %lld is larger than the target supports "
                     "(%u)",
                  b, max);
    }
}

/* ---- create, update, tags ------------------------------------------------------ */

static const char *const DEF_MEMBERS[] = {
    "Description", "Source", "SourceParameters", "Enrichment",
    "EnrichmentParameters", "Target", "TargetParameters", "RoleArn",
    "LogConfiguration", "KmsKeyIdentifier", NULL};

static void check_name(vctx_t *v, const char *name) {
    if (!name || !*name)
        violation(v, NULL, "name", "Member must not be null");
    else if (strlen(name) > 64)
        violation(v, name, "name",
                  "Member must have length less than or equal to 64");
    else if (!pipe_name_ok(name))
        violation(v, name, "name",
                  "Member must satisfy regular expression pattern: "
                  "[\\.\\-_A-Za-z0-9]+");
}

static const char *desired_state(vctx_t *v, const json_t *req) {
    const char *d = str_at(v, req, "DesiredState", "desiredState", false, 0, 0);
    if (d && strcmp(d, "RUNNING") != 0 && strcmp(d, "STOPPED") != 0) {
        violation(v, d, "desiredState",
                  "Member must satisfy enum value set: [RUNNING, STOPPED]");
        return NULL;
    }
    return d ? (d[0] == 'R' ? "RUNNING" : "STOPPED") : NULL;
}

/* Compile once to report template and pattern errors. */
static evb_err_t compile_check(const evb__pipe_scope_t *sc, const json_t *def,
                               char *errstr, size_t errstr_size) {
    evb__pipe_spec_t *s = NULL;
    evb_err_t err = evb__pipe_spec_compile(sc, def, &s, errstr, errstr_size);
    evb__pipe_spec_free(s);
    return err;
}

evb_err_t evb__pipe_validate_tags(const json_t *tags, const char *path,
                                  char *errstr, size_t errstr_size) {
    vctx_t v;
    vinit(&v);
    if (!json_is_object(tags)) {
        plain(&v, "Expected an object at '%s'", path);
        return vdone(&v, errstr, errstr_size);
    }
    size_t n = json_object_size(tags);
    char buf[32];
    snprintf(buf, sizeof buf, "{%zu entries}", n);
    if (n < 1)
        violation(&v, buf, path,
                  "Member must have length greater than or equal to 1");
    if (n > 50)
        violation(&v, buf, path,
                  "Member must have length less than or equal to 50");
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)tags, k, val) {
        if (strlen(k) < 1 || strlen(k) > 128)
            violation(&v, k, path,
                      "Map keys must have length between 1 and 128");
        if (!json_is_string(val))
            plain(&v, "Expected string values at '%s'", path);
        else if (json_string_length(val) > 256)
            violation(&v, json_string_value(val), path,
                      "Map values must have length less than or equal to "
                      "256");
    }
    return vdone(&v, errstr, errstr_size);
}

evb_err_t evb__pipe_validate_create(const evb__pipe_scope_t *sc,
                                    const char *name, const json_t *req,
                                    json_t **def, const char **desired,
                                    char *errstr, size_t errstr_size) {
    *def = NULL;
    vctx_t v;
    vinit(&v);
    check_name(&v, name);
    *desired = desired_state(&v, req);
    if (!*desired)
        *desired = "RUNNING";
    json_t *d = json_object();
    if (!d) {
        evb_buf_free(&v.msg);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    for (size_t i = 0; DEF_MEMBERS[i]; i++) {
        json_t *m = json_object_get(req, DEF_MEMBERS[i]);
        if (m && !json_is_null(m))
            json_object_set_new(d, DEF_MEMBERS[i], json_deep_copy(m));
    }
    check_def(sc, &v, d);
    evb_err_t err = vdone(&v, errstr, errstr_size);
    if (!err) {
        const json_t *tags = json_object_get(req, "Tags");
        if (tags && !json_is_null(tags))
            err = evb__pipe_validate_tags(tags, "tags", errstr, errstr_size);
    }
    if (!err)
        err = compile_check(sc, d, errstr, errstr_size);
    if (err) {
        json_decref(d);
        return err;
    }
    *def = d;
    return EVB_ERR_OK;
}

/* The new Kafka parameters: the old ones that cannot change, then the
 * updatable ones from the request (the rest back to their defaults). */
static json_t *merge_kafka(vctx_t *v, const json_t *old, const json_t *upd,
                           bool msk) {
    static const char *const fixed[] = {"TopicName", "StartingPosition",
                                        "AdditionalBootstrapServers",
                                        "ConsumerGroupID", NULL};
    static const char *const smk_upd[] = {
        "BatchSize", "MaximumBatchingWindowInSeconds", "Credentials",
        "ServerRootCaCertificate", "Vpc", NULL};
    static const char *const msk_upd[] = {
        "BatchSize", "Credentials", "MaximumBatchingWindowInSeconds", NULL};
    const char *const *allowed = msk ? msk_upd : smk_upd;
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)upd, k, m) {
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++)
            ok |= strcmp(k, allowed[i]) == 0;
        if (!ok)
            plain(v, "%s cannot be changed by UpdatePipe", k);
    }
    json_t *out = json_object();
    if (!out)
        return NULL;
    for (size_t i = 0; fixed[i]; i++) {
        json_t *f = old ? json_object_get(old, fixed[i]) : NULL;
        if (f)
            json_object_set_new(out, fixed[i], json_deep_copy(f));
    }
    for (size_t i = 0; allowed[i]; i++) {
        json_t *f = json_object_get(upd, allowed[i]);
        if (f && !json_is_null(f))
            json_object_set_new(out, allowed[i], json_deep_copy(f));
    }
    return out;
}

evb_err_t evb__pipe_validate_update(const evb__pipe_scope_t *sc,
                                    const char *name, const json_t *old_def,
                                    const json_t *req, json_t **def_out,
                                    const char **desired, char *errstr,
                                    size_t errstr_size) {
    *def_out = NULL;
    vctx_t v;
    vinit(&v);
    check_name(&v, name);
    *desired = desired_state(&v, req);
    str_at(&v, req, "RoleArn", "roleArn", true, 1, 1600);
    json_t *d = json_deep_copy(old_def);
    if (!d) {
        evb_buf_free(&v.msg);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    if (json_object_get(req, "Source"))
        plain(&v, "The Source of a pipe cannot be changed");
    static const char *const replace[] = {
        "Description", "Enrichment", "EnrichmentParameters", "Target",
        "TargetParameters", "RoleArn", "LogConfiguration",
        "KmsKeyIdentifier", NULL};
    for (size_t i = 0; replace[i]; i++) {
        json_t *m = json_object_get(req, replace[i]);
        if (m && !json_is_null(m))
            json_object_set_new(d, replace[i], json_deep_copy(m));
    }
    const char *enr = json_string_value(json_object_get(d, "Enrichment"));
    if (enr && !*enr) { /* "" removes the enrichment */
        json_object_del(d, "Enrichment");
        json_object_del(d, "EnrichmentParameters");
    }
    const json_t *sp =
        obj_at(&v, req, "SourceParameters", "sourceParameters");
    if (sp) {
        json_t *nsp = json_object_get(d, "SourceParameters");
        if (!nsp) {
            nsp = json_object();
            json_object_set_new(d, "SourceParameters", nsp);
        }
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)sp, k, m) {
            if (json_is_null(m))
                continue;
            if (strcmp(k, "FilterCriteria") == 0) {
                json_object_set_new(nsp, k, json_deep_copy(m));
            } else if (strcmp(k, "SelfManagedKafkaParameters") == 0 ||
                       strcmp(k, "ManagedStreamingKafkaParameters") == 0) {
                if (!json_is_object(m)) {
                    plain(&v, "Expected an object at 'sourceParameters.%s'",
                          k);
                    continue;
                }
                json_t *old = json_object_get(nsp, k);
                if (!old) {
                    plain(&v, "SourceParameters.%s does not apply to this "
                              "pipe's source",
                          k);
                    continue;
                }
                json_t *mk = merge_kafka(&v, old, m, k[0] == 'M');
                if (mk)
                    json_object_set_new(nsp, k, mk);
            } else {
                plain(&v, "SourceParameters.%s does not apply to a Kafka "
                          "source",
                      k);
            }
        }
    }
    if (v.count == 0 && !v.plain[0])
        check_def(sc, &v, d);
    evb_err_t err = vdone(&v, errstr, errstr_size);
    if (!err)
        err = compile_check(sc, d, errstr, errstr_size);
    if (err) {
        json_decref(d);
        return err;
    }
    *def_out = d;
    return EVB_ERR_OK;
}

/* ---- compilation ------------------------------------------------------------------ */

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* Copies of the strings of JSON array a (non-strings skipped) into *out
 * and *n (both untouched when a is empty or not an array). The spec owns
 * them, also after a failure (EVB_ERR_NOMEM): evb__pipe_spec_free frees
 * what was copied. */
static evb_err_t dup_strings(const json_t *a, char ***out, size_t *n) {
    if (!json_array_size(a))
        return EVB_ERR_OK;
    if (!(*out = calloc(json_array_size(a), sizeof(char *))))
        return EVB_ERR_NOMEM;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *e = json_string_value(json_array_get(a, i));
        if (e && !((*out)[(*n)++] = strdup(e)))
            return EVB_ERR_NOMEM;
    }
    return EVB_ERR_OK;
}

void evb__pipe_spec_free(evb__pipe_spec_t *s) {
    if (!s)
        return;
    free(s->source);
    free(s->smk_server);
    free(s->topic);
    free(s->group_id);
    for (size_t i = 0; i < s->nextra; i++)
        free(s->extra_servers[i]);
    free(s->extra_servers);
    free(s->cred_secret);
    free(s->ca_secret);
    evb_pipe_filter_free(s->filter);
    free(s->enrichment);
    evb_pipe_template_free(s->enrich_tpl);
    json_decref(s->enrich_http);
    free(s->target);
    free(s->target_name);
    evb_pipe_template_free(s->target_tpl);
    free(s->bus_source);
    free(s->bus_detail_type);
    free(s->bus_time);
    for (size_t i = 0; i < s->nbus_resources; i++)
        free(s->bus_resources[i]);
    free(s->bus_resources);
    free(s->log_stream);
    free(s->log_timestamp);
    json_decref(s->target_http);
    evb__view_need_free(&s->view_need);
    free(s);
}

static const char *jstr(const json_t *o, const char *k) {
    return o ? json_string_value(json_object_get(o, k)) : NULL;
}

evb_err_t evb__pipe_spec_compile(const evb__pipe_scope_t *sc,
                                 const json_t *def, evb__pipe_spec_t **out,
                                 char *errstr, size_t errstr_size) {
    *out = NULL;
    evb__pipe_spec_t *s = calloc(1, sizeof *s);
    if (!s)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    evb_err_t err = EVB_ERR_OK;
    const char *src = jstr(def, "Source");
    const json_t *sp = json_object_get(def, "SourceParameters");
    s->source = dup_or_null(src);
    s->msk = src && strncmp(src, "smk://", 6) != 0;
    if (src && !s->msk)
        s->smk_server = strdup(src + 6);
    const json_t *kp = json_object_get(
        sp, s->msk ? "ManagedStreamingKafkaParameters"
                   : "SelfManagedKafkaParameters");
    s->topic = dup_or_null(jstr(kp, "TopicName"));
    const char *pos = jstr(kp, "StartingPosition");
    s->from_latest = !pos || strcmp(pos, "LATEST") == 0;
    s->group_id = dup_or_null(jstr(kp, "ConsumerGroupID"));
    const json_t *w = json_object_get(kp, "MaximumBatchingWindowInSeconds");
    s->window_ms = json_is_integer(w) ? (unsigned)json_integer_value(w) * 1000
                                      : 0;
    err = dup_strings(json_object_get(kp, "AdditionalBootstrapServers"),
                      &s->extra_servers, &s->nextra);
    const json_t *cr = json_object_get(kp, "Credentials");
    static const struct {
        const char *name;
        evb__cred_kind_t kind;
    } creds[] = {{"BasicAuth", EVB__CRED_BASIC},
                 {"SaslScram256Auth", EVB__CRED_SCRAM256},
                 {"SaslScram512Auth", EVB__CRED_SCRAM512},
                 {"ClientCertificateTlsAuth", EVB__CRED_MTLS}};
    for (size_t i = 0; !err && i < EVB_ARRAY_LEN(creds); i++)
        if (jstr(cr, creds[i].name)) {
            s->cred = creds[i].kind;
            if (!(s->cred_secret = strdup(jstr(cr, creds[i].name))))
                err = EVB_ERR_NOMEM;
        }
    if (!err && jstr(kp, "ServerRootCaCertificate") &&
        !(s->ca_secret = strdup(jstr(kp, "ServerRootCaCertificate"))))
        err = EVB_ERR_NOMEM;

    /* filters */
    const json_t *fl =
        json_object_get(json_object_get(sp, "FilterCriteria"), "Filters");
    if (!err && json_array_size(fl)) {
        const char *pats[EVB__PIPE_MAX_FILTERS];
        size_t lens[EVB__PIPE_MAX_FILTERS], n = 0;
        for (size_t i = 0; i < json_array_size(fl) && n < EVB__PIPE_MAX_FILTERS;
             i++) {
            const json_t *p = json_object_get(json_array_get(fl, i), "Pattern");
            if (!json_is_string(p))
                continue;
            pats[n] = json_string_value(p);
            lens[n++] = json_string_length(p);
        }
        if (n)
            err = evb_pipe_filter_compile(pats, lens, n, &s->filter, errstr,
                                          errstr_size);
        if (err)
            goto fail_msg;
    }

    /* enrichment */
    const char *enr = jstr(def, "Enrichment");
    if (!err && enr && *enr && !(s->enrichment = strdup(enr)))
        err = EVB_ERR_NOMEM;
    const json_t *ep = json_object_get(def, "EnrichmentParameters");
    const json_t *eit = json_object_get(ep, "InputTemplate");
    if (!err && json_is_string(eit) && json_string_length(eit)) {
        err = evb_pipe_template_compile(json_string_value(eit),
                                        json_string_length(eit),
                                        &s->enrich_tpl, errstr, errstr_size);
        if (err)
            goto fail_msg;
    }
    const json_t *ehp = json_object_get(ep, "HttpParameters");
    if (!err && json_is_object(ehp))
        s->enrich_http = json_deep_copy(ehp);

    /* target */
    const char *tgt = jstr(def, "Target");
    vctx_t v;
    vinit(&v);
    int tk = tgt ? target_kind(sc, tgt, &v, false) : -1;
    evb_buf_free(&v.msg);
    if (!err && tk < 0)
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "Target %s is not supported", tgt ? tgt : "(none)");
    if (err)
        goto fail_msg;
    s->tkind = (evb__tgt_kind_t)tk;
    s->target_max = target_max_batch(tk);
    if (!(s->target = strdup(tgt)))
        err = EVB_ERR_NOMEM;
    if (!err && (tk == EVB__TGT_BUS || tk == EVB__TGT_LOGS)) {
        arn_t a;
        arn_parse(tgt, &a); /* target_kind parsed it already */
        const char *r = a.resource + 10; /* "event-bus/", "log-group:" */
        size_t n = strlen(r);
        if (tk == EVB__TGT_LOGS && n >= 2 && strcmp(r + n - 2, ":*") == 0)
            n -= 2;
        if (!(s->target_name = strndup(r, n)))
            err = EVB_ERR_NOMEM;
    }
    const json_t *tp = json_object_get(def, "TargetParameters");
    const json_t *tit = json_object_get(tp, "InputTemplate");
    if (!err && json_is_string(tit) && json_string_length(tit)) {
        err = evb_pipe_template_compile(json_string_value(tit),
                                        json_string_length(tit),
                                        &s->target_tpl, errstr, errstr_size);
        if (err)
            goto fail_msg;
    }
    const json_t *eb = json_object_get(tp, "EventBridgeEventBusParameters");
    if (!err && eb) {
        s->bus_source = dup_or_null(jstr(eb, "Source"));
        s->bus_detail_type = dup_or_null(jstr(eb, "DetailType"));
        s->bus_time = dup_or_null(jstr(eb, "Time"));
        err = dup_strings(json_object_get(eb, "Resources"), &s->bus_resources,
                          &s->nbus_resources);
    }
    const json_t *cw = json_object_get(tp, "CloudWatchLogsParameters");
    if (!err && cw) {
        s->log_stream = dup_or_null(jstr(cw, "LogStreamName"));
        s->log_timestamp = dup_or_null(jstr(cw, "Timestamp"));
    }
    const json_t *thp = json_object_get(tp, "HttpParameters");
    if (!err && json_is_object(thp))
        s->target_http = json_deep_copy(thp);

    /* what the paths read of a record's view (HttpParameters: all) */
    evb__view_need_t *vn = &s->view_need;
    if (!err)
        err = evb__view_need_template(vn, s->enrich_tpl);
    if (!err)
        err = evb__view_need_template(vn, s->target_tpl);
    const char *params[] = {s->bus_source, s->bus_detail_type, s->bus_time,
                            s->log_stream, s->log_timestamp};
    for (size_t i = 0; !err && i < sizeof params / sizeof *params; i++)
        err = evb__view_need_path(vn, params[i]);
    for (size_t i = 0; !err && i < s->nbus_resources; i++)
        err = evb__view_need_path(vn, s->bus_resources[i]);
    if (s->enrich_http || s->target_http)
        vn->roots |= EVB__ROOT_ALL;

    /* batch size: as given, else the smaller of 100 and what the target
     * and the enrichment take */
    const json_t *bs = json_object_get(kp, "BatchSize");
    s->batch = json_is_integer(bs) ? (unsigned)json_integer_value(bs) : 100;
    if (!json_is_integer(bs)) {
        if (s->batch > s->target_max)
            s->batch = s->target_max;
        if (s->enrichment)
            s->batch = 1;
    }
    if (err) {
        evb_err_set(err, errstr, errstr_size, "out of memory");
        goto fail_msg;
    }
    *out = s;
    return EVB_ERR_OK;
fail_msg:
    evb__pipe_spec_free(s);
    return err;
}
