/*
 * config.c: the connector's configuration, driven by one table.
 *
 * EVB__CONNECTOR_PROPS (connector_internal.h) lists every property with
 * its type, default, range, flags, check and documentation. The same rows
 * parse both file forms, fill in defaults, validate, describe the
 * effective configuration and generate the reference table of
 * docs/cli/connector.md, so the four cannot drift apart.
 *
 * The raw text is first read into an evb_kafka_conf_t (ordered, each
 * property with its origin "FILE:LINE" or "FILE: key"), then each
 * property is routed: a table row, a prefix family (kafka.,
 * consumer.override., producer.override.: librdkafka's, checked by
 * librdkafka), or an error naming it.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "../transform/transform.h"
#include "connector_internal.h"

typedef enum { STR, INT, BOOL, LIST, ENUM, PREFIX } ptype_t;

typedef bool (*check_fn)(const char *v, char *why, size_t n);

typedef struct prop_def {
    const char *name;
    ptype_t type;
    const char *def; /* NULL: required (or a prefix) */
    long min, max;
    unsigned flags;
    check_fn check;
    const char *doc;
} prop_def_t;

/* ---- checks -------------------------------------------------------------- */

static bool is_blank(const char *v) {
    for (; *v; v++)
        if (!isspace((unsigned char)*v))
            return false;
    return true;
}

static bool check_nonblank(const char *v, char *why, size_t n) {
    if (is_blank(v)) {
        snprintf(why, n, "must not be blank");
        return false;
    }
    return true;
}

static bool check_name(const char *v, char *why, size_t n) {
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20) {
            snprintf(why, n, "must not hold control characters");
            return false;
        }
    return true;
}

static bool check_connector_class(const char *v, char *why, size_t n) {
    if (strcmp(v, EVB__CONNECTOR_CLASS) == 0 ||
        strcmp(v, "EventBridgeSinkConnector") == 0)
        return true;
    snprintf(why, n, "only " EVB__CONNECTOR_CLASS " runs here");
    return false;
}

/* A region: two or more letters, dash-separated words, a number
 * (us-east-1, us-gov-west-1, cn-north-1, eu-central-2, il-central-1). */
static bool check_region(const char *v, char *why, size_t n) {
    const char *p = v;
    size_t letters = 0;
    while (*p >= 'a' && *p <= 'z')
        p++, letters++;
    bool ok = letters >= 2 && *p == '-';
    int parts = 0;
    while (ok && *p == '-') {
        p++;
        const char *s = p;
        while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            p++;
        if (p == s)
            ok = false;
        parts++;
    }
    /* the last part is a number */
    if (ok) {
        const char *last = strrchr(v, '-');
        for (const char *q = last + 1; *q; q++)
            if (*q < '0' || *q > '9')
                ok = false;
    }
    if (!ok || *p || parts < 2) {
        snprintf(why, n, "not an AWS region (like us-east-1)");
        return false;
    }
    return true;
}

/* Upstream's ^arn:aws.*:events:\w+(?:-\w+)+:\d{12}:event-bus/.+ */
static bool check_bus_arn(const char *v, char *why, size_t n) {
    regex_t re;
    bool ok = false;
    if (regcomp(&re,
                "^arn:aws[^:]*:events:[A-Za-z0-9_]+(-[A-Za-z0-9_]+)+:[0-9]{12}"
                ":event-bus/.+$",
                REG_EXTENDED | REG_NOSUB) == 0) {
        ok = regexec(&re, v, 0, NULL, 0) == 0;
        regfree(&re);
    }
    if (!ok)
        snprintf(why, n,
                 "not an event bus ARN "
                 "(arn:aws:events:REGION:ACCOUNT:event-bus/NAME)");
    return ok;
}

static bool check_url(const char *v, char *why, size_t n) {
    if (!*v)
        return true;
    if ((strncmp(v, "http://", 7) == 0 && v[7]) ||
        (strncmp(v, "https://", 8) == 0 && v[8])) {
        for (const char *p = v; *p; p++)
            if ((unsigned char)*p <= 0x20) {
                snprintf(why, n, "a URL has no blanks");
                return false;
            }
        return true;
    }
    snprintf(why, n, "not an http:// or https:// URL");
    return false;
}

static bool check_url_list(const char *v, char *why, size_t n) {
    char first[2048];
    size_t len = strcspn(v, ",");
    if (len >= sizeof first) {
        snprintf(why, n, "URL too long");
        return false;
    }
    memcpy(first, v, len);
    first[len] = 0;
    while (len && isspace((unsigned char)first[len - 1]))
        first[--len] = 0;
    return check_url(first + strspn(first, " \t"), why, n);
}

static bool check_auth_source(const char *v, char *why, size_t n) {
    if (strcmp(v, "USER_INFO") == 0)
        return true;
    snprintf(why, n, "only USER_INFO is supported");
    return false;
}

static bool check_record_type(const char *v, char *why, size_t n) {
    if (strcmp(v, "GENERIC_RECORD") == 0)
        return true;
    snprintf(why, n, "only GENERIC_RECORD is supported");
    return false;
}

typedef struct conv_name {
    const char *full, *brief;
    evb__conv_kind_t kind;
} conv_name_t;

static const conv_name_t conv_names[] = {
    {EVB__STRING_CONVERTER, "string", EVB__CONV_STRING},
    {EVB__JSON_CONVERTER, "json", EVB__CONV_JSON},
    {EVB__BYTES_CONVERTER, "bytes", EVB__CONV_BYTES},
    {EVB__AVRO_CONVERTER, "avro", EVB__CONV_AVRO},
    {EVB__GLUE_CONVERTER, NULL, EVB__CONV_AVRO},
};

static const conv_name_t *find_conv(const char *v) {
    for (size_t i = 0; i < EVB_ARRAY_LEN(conv_names); i++)
        if (strcmp(v, conv_names[i].full) == 0 ||
            (conv_names[i].brief && strcasecmp(v, conv_names[i].brief) == 0))
            return &conv_names[i];
    return NULL;
}

static bool check_converter(const char *v, char *why, size_t n) {
    if (find_conv(v))
        return true;
    snprintf(why, n,
             "unknown converter (StringConverter, JsonConverter, "
             "ByteArrayConverter, AvroConverter or AWSKafkaAvroConverter)");
    return false;
}

static bool check_mapper(const char *v, char *why, size_t n) {
    if (strcmp(v, EVB__DEFAULT_MAPPER) == 0 ||
        strcmp(v, "DefaultDetailTypeMapper") == 0 ||
        strcmp(v, EVB__JSONPATH_MAPPER) == 0 ||
        strcmp(v, "JsonPathDetailTypeMapper") == 0)
        return true;
    snprintf(why, n,
             "only DefaultDetailTypeMapper and JsonPathDetailTypeMapper "
             "(no Java classes here)");
    return false;
}

static bool check_time_mapper(const char *v, char *why, size_t n) {
    if (strcmp(v, EVB__DEFAULT_TIME_MAPPER) == 0 ||
        strcmp(v, "DefaultTimeMapper") == 0)
        return true;
    snprintf(why, n, "only DefaultTimeMapper (no Java classes here)");
    return false;
}

static bool check_tolerance(const char *v, char *why, size_t n) {
    if (strcmp(v, "none") == 0 || strcmp(v, "all") == 0)
        return true;
    snprintf(why, n, "must be none or all");
    return false;
}

static bool check_topic_name(const char *v, char *why, size_t n) {
    if (!*v || evb_kafka_topic_name_valid(v, strlen(v)))
        return true;
    snprintf(why, n, "not a valid Kafka topic name");
    return false;
}

static bool check_regex(const char *v, char *why, size_t n) {
    if (!*v)
        return true;
    regex_t re;
    int rc = regcomp(&re, v, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        char msg[200];
        regerror(rc, &re, msg, sizeof msg);
        snprintf(why, n, "not a regular expression: %s", msg);
        return false;
    }
    regfree(&re);
    return true;
}

/* A definite JSONPath of the forms InputPath knows: $ then .name and [n]
 * steps (no wildcards). */
static bool check_fieldref(const char *v, char *why, size_t n) {
    if (!*v)
        return true;
    if (strchr(v, '*')) {
        snprintf(why, n, "JSON path must be definite but '%s' is not", v);
        return false;
    }
    evb_transform_spec_t spec = {.input_path = v, .input_path_len = strlen(v)};
    evb_transform_t *t = NULL;
    char err[300];
    if (evb_transform_compile(&spec, "fieldref", &t, err, sizeof err)) {
        snprintf(why, n,
                 "not a JSONPath evbus knows ($ followed by .name and [n] "
                 "steps)");
        return false;
    }
    evb_transform_free(t);
    return true;
}

/* ---- lists --------------------------------------------------------------- */

static void free_list(char **items, size_t n) {
    if (!items)
        return;
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

/* Kafka's ConfigDef LIST: the value trimmed; empty is the empty list;
 * otherwise split at commas, each item trimmed. */
static evb_err_t split_list(const char *v, char ***out, size_t *nout) {
    *out = NULL;
    *nout = 0;
    while (isspace((unsigned char)*v))
        v++;
    size_t len = strlen(v);
    while (len && isspace((unsigned char)v[len - 1]))
        len--;
    if (!len)
        return EVB_ERR_OK;
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += v[i] == ',';
    char **items = calloc(cap, sizeof *items);
    if (!items)
        return EVB_ERR_NOMEM;
    size_t n = 0;
    const char *p = v, *end = v + len;
    while (p <= end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        const char *e = c ? c : end;
        const char *s = p;
        while (s < e && isspace((unsigned char)*s))
            s++;
        const char *t = e;
        while (t > s && isspace((unsigned char)t[-1]))
            t--;
        items[n] = strndup(s, (size_t)(t - s));
        if (!items[n]) {
            free_list(items, n);
            return EVB_ERR_NOMEM;
        }
        n++;
        if (!c)
            break;
        p = c + 1;
    }
    *out = items;
    *nout = n;
    return EVB_ERR_OK;
}

static bool has_blank(const char *s) {
    for (; *s; s++)
        if (isspace((unsigned char)*s))
            return true;
    return false;
}

/* Upstream: a list of more than one item, or one item holding ':', is a
 * per-topic map whose items match ^\S+:\S+$; otherwise one template. */
static bool check_detail_types(const char *v, char *why, size_t n) {
    char **items;
    size_t ni;
    if (split_list(v, &items, &ni)) {
        snprintf(why, n, "out of memory");
        return false;
    }
    bool ok = true;
    if (ni == 0) {
        snprintf(why, n, "must not be empty");
        ok = false;
    } else if (ni > 1 || strchr(items[0], ':')) {
        for (size_t i = 0; ok && i < ni; i++) {
            const char *c = strchr(items[i], ':');
            if (!c || c == items[i] || !c[1] || has_blank(items[i])) {
                snprintf(why, n,
                         "item '%s' is not topic:detail-type (a list of "
                         "more than one item, or an item with ':', maps "
                         "topics to detail types)",
                         items[i]);
                ok = false;
            }
        }
    } else if (is_blank(items[0])) {
        snprintf(why, n, "must not be blank");
        ok = false;
    }
    free_list(items, ni);
    return ok;
}

static bool check_topics(const char *v, char *why, size_t n) {
    char **items;
    size_t ni;
    if (split_list(v, &items, &ni)) {
        snprintf(why, n, "out of memory");
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < ni; i++)
        if (!evb_kafka_topic_name_valid(items[i], strlen(items[i]))) {
            snprintf(why, n, "'%s' is not a valid Kafka topic name", items[i]);
            ok = false;
        }
    free_list(items, ni);
    return ok;
}

/* ---- the table ----------------------------------------------------------- */

static const prop_def_t props[EVB__P_COUNT] = {
#define EVB__PROP_ROW(id, nm, ty, df, mn, mx, fl, ck, dc)                      \
    [id] = {nm, ty, df, mn, mx, fl, ck, dc},
    EVB__CONNECTOR_PROPS(EVB__PROP_ROW)
#undef EVB__PROP_ROW
};

static int find_prop(const char *name) {
    for (int i = 0; i < EVB__P_COUNT; i++)
        if (props[i].type != PREFIX && strcmp(props[i].name, name) == 0)
            return i;
    return -1;
}

static bool parse_long(const char *v, long *out) {
    char *end;
    errno = 0;
    while (isspace((unsigned char)*v))
        v++;
    long x = strtol(v, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (errno || end == v || *end)
        return false;
    *out = x;
    return true;
}

static bool parse_bool(const char *v, long *out) {
    char t[8];
    size_t len = strlen(v);
    while (len && isspace((unsigned char)v[len - 1]))
        len--;
    while (len && isspace((unsigned char)*v))
        v++, len--;
    if (len >= sizeof t)
        return false;
    memcpy(t, v, len);
    t[len] = 0;
    if (strcasecmp(t, "true") == 0)
        *out = 1;
    else if (strcasecmp(t, "false") == 0)
        *out = 0;
    else
        return false;
    return true;
}

/* ---- raw text -> ordered properties ------------------------------------ */

static evb_err_t json_scalar(json_t *v, char *buf, size_t n, const char **out) {
    switch (json_typeof(v)) {
    case JSON_STRING: *out = json_string_value(v); return EVB_ERR_OK;
    case JSON_INTEGER:
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL: snprintf(buf, n, "%.17g", json_real_value(v)); break;
    case JSON_TRUE: snprintf(buf, n, "true"); break;
    case JSON_FALSE: snprintf(buf, n, "false"); break;
    default: return EVB_ERR_INVALID_ARG;
    }
    *out = buf;
    return EVB_ERR_OK;
}

static evb_err_t load_json(evb_kafka_conf_t *raw, const char *text, size_t len,
                           const char *name, char *errstr, size_t errstr_size) {
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s:%d: not JSON: %s", name, jerr.line, jerr.text);
    evb_err_t err = EVB_ERR_OK;
    json_t *obj = root;
    const char *top_name = NULL;
    if (!json_is_object(root)) {
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "%s: the configuration must be a JSON object", name);
        goto done;
    }
    json_t *cfg = json_object_get(root, "config");
    if (cfg) { /* Kafka Connect's REST form */
        if (!json_is_object(cfg)) {
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "%s: config: must be an object", name);
            goto done;
        }
        const char *k;
        json_t *v;
        json_object_foreach(root, k, v) {
            if (strcmp(k, "config") == 0)
                continue;
            if (strcmp(k, "name") == 0 && json_is_string(v)) {
                top_name = json_string_value(v);
                continue;
            }
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "%s: %s: only \"name\" and \"config\" may be "
                              "beside \"config\"",
                              name, k);
            goto done;
        }
        obj = cfg;
    }
    if (top_name) {
        json_t *inner = json_object_get(obj, "name");
        if (inner && (!json_is_string(inner) ||
                      strcmp(json_string_value(inner), top_name) != 0)) {
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "%s: name: \"%s\" outside config and another "
                              "inside it",
                              name, top_name);
            goto done;
        }
        char origin[512];
        snprintf(origin, sizeof origin, "%s: name", name);
        if ((err = evb_kafka_conf_set(raw, "name", top_name, origin, errstr,
                                      errstr_size)))
            goto done;
    }
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        char buf[64], origin[512];
        const char *s;
        snprintf(origin, sizeof origin, "%s: %s", name, k);
        if (json_is_null(v))
            continue; /* as if absent */
        if (json_scalar(v, buf, sizeof buf, &s)) {
            err =
                evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                            "%s: must be a string, number or boolean", origin);
            goto done;
        }
        if ((err = evb_kafka_conf_set(raw, k, s, origin, errstr, errstr_size)))
            goto done;
    }
done:
    json_decref(root);
    return err;
}

/* ---- the configuration --------------------------------------------------- */

void evb_connector_config_free(evb_connector_config_t *c) {
    if (!c)
        return;
    for (int i = 0; i < EVB__P_COUNT; i++) {
        free(c->vals[i]);
        free(c->origins[i]);
    }
    free(c->name);
    free(c->group_id);
    free_list(c->topics, c->ntopics);
    free_list(c->resources, c->nresources);
    free(c->dt_single);
    free_list(c->dt_topics, c->ndt);
    free_list(c->dt_types, c->ndt);
    evb_kafka_conf_free(c->consumer);
    evb_kafka_conf_free(c->producer);
    free(c);
}

const char *evb_connector_config_get(const evb_connector_config_t *c,
                                     const char *name) {
    int i = find_prop(name);
    return i < 0 ? NULL : c->vals[i];
}

static const char *where(const evb_connector_config_t *c, int id, char *buf,
                         size_t n) {
    if (c->origins[id])
        snprintf(buf, n, "%s", c->origins[id]);
    else
        snprintf(buf, n, "%s", props[id].name);
    return buf;
}

/* Route one raw property. */
static evb_err_t take(evb_connector_config_t *c, const char *key,
                      const char *value, const char *origin, char *errstr,
                      size_t errstr_size) {
    char o[600];
    snprintf(o, sizeof o, "%s", origin ? origin : key);
    /* The origin of a .properties line is "FILE:LINE"; name the key too. */
    if (origin && !strstr(origin, ": "))
        snprintf(o, sizeof o, "%s: %s", origin, key);
    if (strcmp(key, "consumer.override.max.poll.records") == 0)
        key = "evbus.poll.max.records";
    int id = find_prop(key);
    if (id >= 0) {
        char *v = strdup(value), *org = strdup(o);
        if (!v || !org) {
            free(v);
            free(org);
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        }
        free(c->vals[id]);
        free(c->origins[id]);
        c->vals[id] = v;
        c->origins[id] = org;
        return EVB_ERR_OK;
    }
    static const struct {
        const char *prefix;
        int consumer, producer;
    } fams[] = {{"kafka.", 1, 1},
                {"consumer.override.", 1, 0},
                {"producer.override.", 0, 1}};
    for (size_t f = 0; f < EVB_ARRAY_LEN(fams); f++) {
        size_t pl = strlen(fams[f].prefix);
        if (strncmp(key, fams[f].prefix, pl) != 0)
            continue;
        if (!key[pl])
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "%s: a librdkafka property name must follow "
                               "'%s'",
                               o, fams[f].prefix);
        /* kafka.* first, overrides after: the later set wins */
        evb_err_t err = EVB_ERR_OK;
        if (fams[f].consumer)
            err = evb_kafka_conf_set(c->consumer, key + pl, value, o, errstr,
                                     errstr_size);
        if (!err && fams[f].producer)
            err = evb_kafka_conf_set(c->producer, key + pl, value, o, errstr,
                                     errstr_size);
        return err;
    }
    return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                       "%s: unknown property (see `evbus connector "
                       "--properties`; librdkafka properties take the prefix "
                       "kafka.)",
                       o);
}

/* conv_spec reads a converter's rows by their offset from the first */
_Static_assert(P_KEY_CONV_SCHEMAS == P_KEY_CONV + 1 &&
                   P_KEY_CONV_REGISTRY == P_KEY_CONV + 2 &&
                   P_KEY_CONV_AUTH == P_KEY_CONV + 3 &&
                   P_KEY_CONV_ENDPOINT == P_KEY_CONV + 5 &&
                   P_VALUE_CONV_SCHEMAS == P_VALUE_CONV + 1 &&
                   P_VALUE_CONV_REGISTRY == P_VALUE_CONV + 2 &&
                   P_VALUE_CONV_AUTH == P_VALUE_CONV + 3 &&
                   P_VALUE_CONV_ENDPOINT == P_VALUE_CONV + 5,
               "EVB__CONVERTER_PROPS's row order");

static evb_err_t conv_spec(evb_connector_config_t *c, int base,
                           evb__conv_spec_t *s, char *errstr,
                           size_t errstr_size) {
    /* rows follow EVB__CONVERTER_PROPS's order */
    const conv_name_t *cn = find_conv(c->vals[base]);
    s->kind = cn->kind;
    s->class_name = cn->full;
    s->schemas_enable = c->ints[base + 1] != 0;
    const char *url = c->vals[base + 2];
    char buf[2048];
    size_t len = strcspn(url, ",");
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, url, len);
    buf[len] = 0;
    /* trim */
    char *p = buf;
    while (isspace((unsigned char)*p))
        p++;
    size_t pl = strlen(p);
    while (pl && isspace((unsigned char)p[pl - 1]))
        p[--pl] = 0;
    if (!*p)
        p = c->vals[base + 5]; /* .converter.endpoint */
    if (p != c->vals[base + 2]) {
        char *copy = strdup(p);
        if (!copy)
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        free(c->vals[base + 2]);
        c->vals[base + 2] = copy;
    }
    s->registry_url = c->vals[base + 2];
    s->user_info = c->vals[base + 3];
    if (s->kind == EVB__CONV_AVRO && !*s->registry_url) {
        char w[600];
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s: %s needs %s (or %s)",
                           where(c, base, w, sizeof w), s->class_name,
                           props[base + 2].name, props[base + 5].name);
    }
    if (s->kind != EVB__CONV_JSON && c->ints[base + 1] &&
        c->origins[base + 1]) {
        char w[600];
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s: only the JsonConverter has schemas",
                           where(c, base + 1, w, sizeof w));
    }
    return EVB_ERR_OK;
}

static evb_err_t finish(evb_connector_config_t *c, const char *name,
                        char *errstr, size_t errstr_size) {
    char why[512], w[600];
    /* defaults, required, unsupported, types, ranges, checks */
    for (int i = 0; i < EVB__P_COUNT; i++) {
        const prop_def_t *d = &props[i];
        if (d->type == PREFIX)
            continue;
        if (!c->vals[i]) {
            if (!d->def)
                return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                   "%s: %s: required", name, d->name);
            if (!(c->vals[i] = strdup(d->def)))
                return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                                   "out of memory");
        }
        const char *v = c->vals[i];
        if ((d->flags & F_UNSUPPORTED) && !is_blank(v))
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "%s: %s", where(c, i, w, sizeof w), d->doc);
        if (d->type == INT) {
            long x;
            if (!parse_long(v, &x) || x < d->min || x > d->max)
                return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                   "%s: '%s' is not an integer from %ld to "
                                   "%ld",
                                   where(c, i, w, sizeof w), v, d->min, d->max);
            c->ints[i] = x;
        } else if (d->type == BOOL) {
            if (!parse_bool(v, &c->ints[i]))
                return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                   "%s: '%s' is not true or false",
                                   where(c, i, w, sizeof w), v);
        }
        if (d->check && !d->check(v, why, sizeof why))
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "%s: %s", where(c, i, w, sizeof w), why);
    }
    /* derived values and cross checks */
    const char *id = c->vals[P_CONNECTOR_ID];
    c->name = strdup(*c->vals[P_NAME] ? c->vals[P_NAME] : id);
    if (!c->name)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    if (split_list(c->vals[P_TOPICS], &c->topics, &c->ntopics) ||
        split_list(c->vals[P_RESOURCES], &c->resources, &c->nresources))
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    bool has_regex = *c->vals[P_TOPICS_REGEX] != 0;
    if ((c->ntopics > 0) == has_regex)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s: exactly one of topics and topics.regex is "
                           "required",
                           name);
    if (has_regex) {
        size_t rl = strlen(c->vals[P_TOPICS_REGEX]);
        char *r = malloc(rl + 5);
        c->topics = calloc(1, sizeof *c->topics);
        if (!r || !c->topics) {
            free(r);
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        }
        /* librdkafka subscribes by regex to names starting with '^';
         * Kafka Connect matches the whole name */
        snprintf(r, rl + 5, "^(%s)$", c->vals[P_TOPICS_REGEX]);
        c->topics[0] = r;
        c->ntopics = 1;
    }
    for (size_t i = 0; i < c->nresources; i++)
        if (!*c->resources[i])
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "%s: empty item",
                               where(c, P_RESOURCES, w, sizeof w));
    /* detail types */
    char **items;
    size_t ni;
    if (split_list(c->vals[P_DETAIL_TYPES], &items, &ni))
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    if (ni > 1 || strchr(items[0], ':')) {
        c->dt_topics = calloc(ni, sizeof *c->dt_topics);
        c->dt_types = calloc(ni, sizeof *c->dt_types);
        if (!c->dt_topics || !c->dt_types) {
            free_list(items, ni);
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        }
        for (size_t i = 0; i < ni; i++) {
            char *colon = strchr(items[i], ':');
            c->dt_topics[i] = strndup(items[i], (size_t)(colon - items[i]));
            c->dt_types[i] = strdup(colon + 1);
            c->ndt = i + 1;
            if (!c->dt_topics[i] || !c->dt_types[i]) {
                free_list(items, ni);
                return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                                   "out of memory");
            }
        }
        free_list(items, ni);
    } else {
        c->dt_single = items[0];
        free(items);
    }
    const char *mapper = c->vals[P_DT_MAPPER];
    c->jsonpath_mapper = strstr(mapper, "JsonPath") != NULL ||
                         (!c->origins[P_DT_MAPPER] && *c->vals[P_DT_FIELDREF]);
    if (c->jsonpath_mapper && !*c->vals[P_DT_FIELDREF])
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s: JSON path configuration must be provided and "
                           "cannot be empty",
                           props[P_DT_FIELDREF].name);
    /* converters */
    evb_err_t err;
    if ((err = conv_spec(c, P_KEY_CONV, &c->key_conv, errstr, errstr_size)) ||
        (err = conv_spec(c, P_VALUE_CONV, &c->value_conv, errstr, errstr_size)))
        return err;
    /* errors */
    c->tolerance_all = strcmp(c->vals[P_TOLERANCE], "all") == 0;
    const char *dlq = c->vals[P_DLQ_TOPIC];
    if (*dlq && !c->tolerance_all)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s: a dead-letter topic needs errors.tolerance=all "
                           "(with none the connector stops at the first "
                           "failed record)",
                           where(c, P_DLQ_TOPIC, w, sizeof w));
    for (size_t i = 0; *dlq && !has_regex && i < c->ntopics; i++)
        if (strcmp(c->topics[i], dlq) == 0)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "%s: the dead-letter topic cannot be one the "
                               "connector reads",
                               where(c, P_DLQ_TOPIC, w, sizeof w));
    /* Kafka */
    if (!evb_kafka_conf_get(c->consumer, "bootstrap.servers"))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s: kafka.bootstrap.servers: required", name);
    const char *gid = evb_kafka_conf_get(c->consumer, "group.id");
    if (gid) {
        c->group_id = strdup(gid);
    } else {
        size_t gl = strlen(c->name) + 9;
        if ((c->group_id = malloc(gl)))
            snprintf(c->group_id, gl, "connect-%s", c->name);
    }
    if (!c->group_id)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    /* a cycle that retries for a long time must not make the consumer
     * leave its group (librdkafka's default is 5 minutes) */
    if (!evb_kafka_conf_get(c->consumer, "max.poll.interval.ms") &&
        (err = evb_kafka_conf_set(c->consumer, "max.poll.interval.ms",
                                  "86400000", "evbus default", errstr,
                                  errstr_size)))
        return err;
    if ((err = evb_kafka_conf_check(c->consumer, errstr, errstr_size)) ||
        (err = evb_kafka_conf_check(c->producer, errstr, errstr_size)))
        return err;
    return EVB_ERR_OK;
}

evb_err_t evb_connector_config_parse(const char *text, size_t len,
                                     const char *name,
                                     evb_connector_config_t **out, char *errstr,
                                     size_t errstr_size) {
    *out = NULL;
    evb_connector_config_t *c = calloc(1, sizeof *c);
    evb_kafka_conf_t *raw = evb_kafka_conf_new();
    if (!c || !raw || !(c->consumer = evb_kafka_conf_new()) ||
        !(c->producer = evb_kafka_conf_new())) {
        evb_kafka_conf_free(raw);
        evb_connector_config_free(c);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    size_t i = 0;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    evb_err_t err = i < len && text[i] == '{'
                        ? load_json(raw, text, len, name, errstr, errstr_size)
                        : evb_kafka_conf_parse_properties(raw, text, len, name,
                                                          errstr, errstr_size);
    for (size_t k = 0; !err && k < evb_kafka_conf_count(raw); k++) {
        const char *key, *value, *origin;
        evb_kafka_conf_entry(raw, k, &key, &value, &origin);
        err = take(c, key, value, origin, errstr, errstr_size);
    }
    evb_kafka_conf_free(raw);
    if (!err)
        err = finish(c, name, errstr, errstr_size);
    if (err) {
        evb_connector_config_free(c);
        return err;
    }
    *out = c;
    return EVB_ERR_OK;
}

evb_err_t evb_connector_config_load(const char *path,
                                    evb_connector_config_t **out, char *errstr,
                                    size_t errstr_size) {
    *out = NULL;
    evb_buf_t b;
    evb_buf_init(&b, 16u << 20);
    char why[300];
    evb_err_t err = evb_buf_read_file(&b, path, why, sizeof why);
    if (err) {
        evb_buf_free(&b);
        return evb_err_set(err == EVB_ERR_NOMEM ? err : EVB_ERR_IO, errstr,
                           errstr_size, "%s", why);
    }
    err = evb_connector_config_parse(b.data ? b.data : "", b.len, path, out,
                                     errstr, errstr_size);
    evb_buf_free(&b);
    return err;
}

static bool secret_name(const char *name) {
    return evb_kafka_conf_is_secret(name) || strstr(name, "user.info");
}

evb_err_t evb_connector_config_describe(const evb_connector_config_t *c,
                                        evb_buf_t *out) {
    evb_err_t err = EVB_ERR_OK;
    for (int i = 0; !err && i < EVB__P_COUNT; i++) {
        if (props[i].type == PREFIX)
            continue;
        bool secret = (props[i].flags & F_SECRET) && *c->vals[i];
        err = evb_buf_appendf(out, "%s=%s\n", props[i].name,
                              secret ? "[redacted]" : c->vals[i]);
    }
    const struct {
        const char *prefix;
        const evb_kafka_conf_t *conf;
    } fams[] = {{"consumer: ", c->consumer}, {"producer: ", c->producer}};
    for (size_t f = 0; !err && f < 2; f++)
        for (size_t k = 0; !err && k < evb_kafka_conf_count(fams[f].conf);
             k++) {
            const char *key, *value, *origin;
            evb_kafka_conf_entry(fams[f].conf, k, &key, &value, &origin);
            err = evb_buf_appendf(out, "%s%s=%s\n", fams[f].prefix, key,
                                  secret_name(key) ? "[redacted]" : value);
        }
    return err;
}

/* ---- the generated reference -------------------------------------------- */

static evb_err_t md_cell(evb_buf_t *out, const char *s) {
    evb_err_t err = EVB_ERR_OK;
    for (; !err && *s; s++)
        err = *s == '|' ? evb_buf_append(out, "\\|", 2) : evb_buf_putc(out, *s);
    return err;
}

evb_err_t evb_connector_config_doc(evb_buf_t *out) {
    static const char *const type_names[] = {
        [STR] = "string", [INT] = "int",   [BOOL] = "boolean",
        [LIST] = "list",  [ENUM] = "enum", [PREFIX] = "prefix"};
    evb_err_t err = evb_buf_appendf(
        out, "| Property | Type | Default | Origin | Meaning |\n"
             "|---|---|---|---|---|\n");
    for (int i = 0; !err && i < EVB__P_COUNT; i++) {
        const prop_def_t *d = &props[i];
        const char *origin = (d->flags & F_EVBUS) ? "evbus"
                             : (d->flags & F_KC)  ? "Kafka Connect"
                                                  : "upstream";
        char range[80] = "";
        if (d->type == INT)
            snprintf(range, sizeof range, " (%ld to %ld)", d->min, d->max);
        err = evb_buf_appendf(out, "| `%s%s` | %s%s | ", d->name,
                              d->type == PREFIX ? "*" : "", type_names[d->type],
                              range);
        if (!err) {
            if (d->type == PREFIX)
                err = evb_buf_appendf(out, " | ");
            else if (!d->def)
                err = evb_buf_appendf(out, "required | ");
            else if (!*d->def)
                err = evb_buf_appendf(out, "\"\" | ");
            else {
                err = evb_buf_appendf(out, "`");
                if (!err)
                    err = md_cell(out, d->def);
                if (!err)
                    err = evb_buf_appendf(out, "` | ");
            }
        }
        if (!err)
            err = evb_buf_appendf(out, "%s%s%s | ", origin,
                                  (d->flags & F_UNSUPPORTED) ? ", refused"
                                  : (d->flags & F_IGNORED)   ? ", ignored"
                                                             : "",
                                  (d->flags & F_SECRET) ? ", secret" : "");
        if (!err)
            err = md_cell(out, d->doc);
        if (!err)
            err = evb_buf_appendf(out, " |\n");
    }
    return err;
}
