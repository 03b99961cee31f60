/*
 * api_events_apidest.c: the EventBridge actions for connections and API
 * destinations (Create/Describe/Update/Delete/List/DeauthorizeConnection,
 * Create/Describe/Update/Delete/ListApiDestination(s)), as an action table
 * that api_events.c merges into the AWSEvents service.
 *
 * Each action checks its members against botocore's model (types, then
 * required members, lengths, patterns, enums, ranges and list sizes, all
 * collected into one ValidationException with lowerCamelCase paths) and
 * hands the request, as a jansson object, to the apidest service
 * (apidest.h), which owns the store rows and keeps secrets out of every
 * answer. The service works over call->api->store with the API's account
 * and Region, so nothing beyond the store needs wiring.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../apidest/apidest.h"
#include "api_internal.h"

/* Merged by api_events.c into the AWSEvents action table. */
extern const evb__api_action_t evb__api_apidest_actions[];
extern const size_t evb__api_apidest_actions_count;

typedef evb_err_t (*svc_fn)(const evb_apidest_scope_t *sc, const json_t *req,
                            json_t **resp, char *errstr, size_t errstr_size);

/* ---- the model's constraints ---------------------------------------------- */

typedef enum pat {
    P_NONE,
    P_NAME,        /* [\.\-_A-Za-z0-9]+ */
    P_AUTH_HEADER, /* AuthHeaderParameters(Sensitive) */
    P_HEADER_KEY,
    P_HEADER_VALUE,
    P_QUERY_KEY,
    P_QUERY_VALUE,
    P_HTTPS_ENDPOINT,
    P_KMS_KEY,
    P_CONNECTION_ARN,
} pat_t;

static const char *const pat_text[] = {
    [P_NONE] = "",
    [P_NAME] = "[\\.\\-_A-Za-z0-9]+",
    [P_AUTH_HEADER] =
        "^[ \\t]*[^\\x00-\\x1F:\\x7F]+([ \\t]+[^\\x00-\\x1F:\\x7F]+)*[ \\t]*$",
    [P_HEADER_KEY] = "^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$",
    [P_HEADER_VALUE] =
        "^[ \\t]*[\\x20-\\x7E]+([ \\t]+[\\x20-\\x7E]+)*[ \\t]*$",
    [P_QUERY_KEY] = "[^\\x00-\\x1F\\x7F]+",
    [P_QUERY_VALUE] = "[^\\x00-\\x09\\x0B\\x0C\\x0E-\\x1F\\x7F]+",
    [P_HTTPS_ENDPOINT] = "^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@\\x26=+$,A-Za-z0-9])"
                         "+)([).!';/?:,])?$",
    [P_KMS_KEY] = "^[a-zA-Z0-9_\\-/:]*$",
    [P_CONNECTION_ARN] = "^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]"
                         "{12})?:connection\\/[\\.\\-_A-Za-z0-9]+\\/[\\-A-Za-z0-9]"
                         "+$",
};

static bool is_alnum(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static bool name_char(unsigned char c) {
    return is_alnum(c) || c == '.' || c == '-' || c == '_';
}

static bool is_hex(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

/* ^arn:aws([a-z]|-)*:events:([a-z]|\d|-)*:([0-9]{12})?:connection/N+/U+$ */
static bool connection_arn_ok(const char *s) {
    if (strncmp(s, "arn:aws", 7) != 0)
        return false;
    s += 7;
    while ((*s >= 'a' && *s <= 'z') || *s == '-')
        s++;
    if (strncmp(s, ":events:", 8) != 0)
        return false;
    s += 8;
    while ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')
        s++;
    if (*s++ != ':')
        return false;
    if (*s != ':') {
        for (int i = 0; i < 12; i++, s++)
            if (*s < '0' || *s > '9')
                return false;
    }
    if (strncmp(s, ":connection/", 12) != 0)
        return false;
    s += 12;
    const char *start = s;
    while (name_char((unsigned char)*s))
        s++;
    if (s == start || *s++ != '/')
        return false;
    start = s;
    while (is_alnum((unsigned char)*s) || *s == '-')
        s++;
    return s != start && *s == 0;
}

static bool pattern_ok(pat_t p, const char *s, size_t len) {
    size_t nonspace = 0;
    switch (p) {
    case P_NONE: return true;
    case P_NAME:
        for (size_t i = 0; i < len; i++)
            if (!name_char((unsigned char)s[i]))
                return false;
        return len > 0;
    case P_AUTH_HEADER:
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if ((c < 0x20 && c != '\t') || c == 0x7F || c == ':')
                return false;
            nonspace += c != ' ' && c != '\t';
        }
        return nonspace > 0;
    case P_HEADER_KEY:
        for (size_t i = 0; i < len; i++)
            if (!is_alnum((unsigned char)s[i]) &&
                !strchr("!#$%&'*+,-.^_`|~", s[i]))
                return false;
        return len > 0;
    case P_HEADER_VALUE:
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if ((c < 0x20 && c != '\t') || c > 0x7E)
                return false;
            nonspace += c != ' ' && c != '\t';
        }
        return nonspace > 0;
    case P_QUERY_KEY:
    case P_QUERY_VALUE:
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            bool nl = c == '\n' || c == '\r';
            if ((c < 0x20 && !(p == P_QUERY_VALUE && nl)) || c == 0x7F)
                return false;
        }
        return len > 0;
    case P_HTTPS_ENDPOINT:
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '%') {
                if (i + 2 >= len || !is_hex((unsigned char)s[i + 1]) ||
                    !is_hex((unsigned char)s[i + 2]))
                    return false;
                i += 2;
            } else if (!is_alnum(c) && !strchr("-()_.!~*';/?:@&=+$,", c)) {
                return false;
            }
        }
        return len > 0;
    case P_KMS_KEY:
        for (size_t i = 0; i < len; i++)
            if (!is_alnum((unsigned char)s[i]) && !strchr("_-/:", s[i]))
                return false;
        return true;
    case P_CONNECTION_ARN: return strlen(s) == len && connection_arn_ok(s);
    }
    return false;
}

/* ---- reading members --------------------------------------------------- */

static const char *jtype_text(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "null";
}

/* Member name of obj if present (JSON null counts as absent); when it is of
 * the wrong JSON type the call fails with SerializationException. */
static json_t *member(evb__api_call_t *call, const json_t *obj,
                      const char *name, json_type type, const char *path,
                      bool required) {
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v)) {
        if (required)
            evb_api_validation_add(&call->validation, NULL, 0, path, "%s",
                                   EVB_API_NOT_NULL);
        return NULL;
    }
    bool ok = json_typeof(v) == type ||
              (type == JSON_TRUE && json_is_boolean(v)) ||
              (type == JSON_INTEGER && json_is_integer(v));
    if (!ok) {
        static const char *const want[] = {
            [JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
            [JSON_STRING] = "a string",  [JSON_INTEGER] = "an integer",
            [JSON_REAL] = "a number",    [JSON_TRUE] = "a boolean",
            [JSON_FALSE] = "a boolean",  [JSON_NULL] = "null"};
        evb__api_fail(call, 400, "SerializationException",
                      "Expected %s for member '%s', found %s", want[type],
                      name, jtype_text(v));
        return NULL;
    }
    return v;
}

static void str(evb__api_call_t *call, const json_t *obj, const char *name,
                const char *path, bool required, size_t min, size_t max,
                pat_t pat) {
    json_t *v = member(call, obj, name, JSON_STRING, path, required);
    if (!v)
        return;
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), n = evb__api_utf16_len(s, len);
    if (max && n > max)
        evb_api_validation_add(&call->validation, s, len, path,
                               EVB_API_MAX_LEN, max);
    if (min && n < min)
        evb_api_validation_add(&call->validation, s, len, path,
                               EVB_API_MIN_LEN, min);
    if (pat != P_NONE && (n >= min || min == 0) && !pattern_ok(pat, s, len))
        evb_api_validation_add(&call->validation, s, len, path, EVB_API_PATTERN,
                               pat_text[pat]);
}

static void enum_str(evb__api_call_t *call, const json_t *obj,
                     const char *name, const char *path, bool required,
                     const char *const *values, size_t n) {
    json_t *v = member(call, obj, name, JSON_STRING, path, required);
    if (!v)
        return;
    const char *s = json_string_value(v);
    for (size_t i = 0; i < n; i++)
        if (strcmp(values[i], s) == 0)
            return;
    char set[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof set; i++)
        used += (size_t)snprintf(set + used, sizeof set - used, "%s%s",
                                 i ? ", " : "", values[i]);
    evb_api_validation_add(&call->validation, s, json_string_length(v), path,
                           "Member must satisfy enum value set: [%s]", set);
}

static void int_range(evb__api_call_t *call, const json_t *obj,
                      const char *name, const char *path, json_int_t min,
                      json_int_t max) {
    json_t *v = member(call, obj, name, JSON_INTEGER, path, false);
    if (!v)
        return;
    json_int_t n = json_integer_value(v);
    char text[32];
    int tl = snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, n);
    if (max && n > max)
        evb_api_validation_add(&call->validation, text, (size_t)tl, path,
                               "Member must have value less than or equal "
                               "to %" JSON_INTEGER_FORMAT,
                               max);
    else if (n < min)
        evb_api_validation_add(&call->validation, text, (size_t)tl, path,
                               "Member must have value greater than or equal "
                               "to %" JSON_INTEGER_FORMAT,
                               min);
}

static const char *const AUTH_TYPES[] = {"BASIC", "OAUTH_CLIENT_CREDENTIALS",
                                         "API_KEY"};
static const char *const OAUTH_METHODS[] = {"GET", "POST", "PUT"};
static const char *const DEST_METHODS[] = {"POST",  "GET",   "HEAD", "OPTIONS",
                                           "PUT",   "PATCH", "DELETE"};
static const char *const CONN_STATES[] = {
    "CREATING",    "UPDATING",      "DELETING", "AUTHORIZED",
    "DEAUTHORIZED", "AUTHORIZING", "DEAUTHORIZING", "ACTIVE",
    "FAILED_CONNECTIVITY"};

/* ConnectionHttpParameters at path. */
static void http_params(evb__api_call_t *call, const json_t *obj,
                        const char *name, const char *path) {
    json_t *hp = member(call, obj, name, JSON_OBJECT, path, false);
    if (!hp)
        return;
    static const struct {
        const char *name, *path;
        pat_t key, value;
    } lists[] = {
        {"HeaderParameters", "headerParameters", P_HEADER_KEY, P_HEADER_VALUE},
        {"QueryStringParameters", "queryStringParameters", P_QUERY_KEY,
         P_QUERY_VALUE},
        {"BodyParameters", "bodyParameters", P_NONE, P_NONE},
    };
    for (size_t i = 0; i < EVB_ARRAY_LEN(lists); i++) {
        char lp[256], ip[320];
        snprintf(lp, sizeof lp, "%s.%s", path, lists[i].path);
        json_t *l = member(call, hp, lists[i].name, JSON_ARRAY, lp, false);
        if (!l)
            continue;
        if (json_array_size(l) > 100)
            evb_api_validation_add(&call->validation, NULL, 0, lp,
                                   "Member must have length less than or "
                                   "equal to 100");
        size_t j;
        json_t *item;
        json_array_foreach(l, j, item) {
            snprintf(ip, sizeof ip, "%s.%zu.member", lp, j + 1);
            if (!json_is_object(item)) {
                evb__api_fail(call, 400, "SerializationException",
                              "Expected an object for member '%s', found %s",
                              lists[i].name, jtype_text(item));
                return;
            }
            char kp[340], vp[340];
            snprintf(kp, sizeof kp, "%s.key", ip);
            snprintf(vp, sizeof vp, "%s.value", ip);
            size_t max = lists[i].key == P_NONE ? 0 : 512;
            str(call, item, "Key", kp, false, 0, max, lists[i].key);
            str(call, item, "Value", vp, false, 0, max, lists[i].value);
            member(call, item, "IsValueSecret", JSON_TRUE, ip, false);
        }
    }
}

/* AuthParameters (Create: each part's own required members are
 * required; Update: nothing is). */
static void check_auth(evb__api_call_t *call, const json_t *req,
                       bool create) {
    json_t *ap = member(call, req, "AuthParameters", JSON_OBJECT,
                        "authParameters", create);
    if (!ap)
        return;
    json_t *b = member(call, ap, "BasicAuthParameters", JSON_OBJECT,
                       "authParameters.basicAuthParameters", false);
    if (b) {
        str(call, b, "Username", "authParameters.basicAuthParameters.username",
            create, 1, 512, P_AUTH_HEADER);
        str(call, b, "Password", "authParameters.basicAuthParameters.password",
            create, 1, 512, P_AUTH_HEADER);
    }
    json_t *k = member(call, ap, "ApiKeyAuthParameters", JSON_OBJECT,
                       "authParameters.apiKeyAuthParameters", false);
    if (k) {
        str(call, k, "ApiKeyName",
            "authParameters.apiKeyAuthParameters.apiKeyName", create, 1, 512,
            P_AUTH_HEADER);
        str(call, k, "ApiKeyValue",
            "authParameters.apiKeyAuthParameters.apiKeyValue", create, 1, 512,
            P_AUTH_HEADER);
    }
    json_t *o = member(call, ap, "OAuthParameters", JSON_OBJECT,
                       "authParameters.oAuthParameters", false);
    if (o) {
        json_t *cp = member(call, o, "ClientParameters", JSON_OBJECT,
                            "authParameters.oAuthParameters.clientParameters",
                            create);
        if (cp) {
            str(call, cp, "ClientID",
                "authParameters.oAuthParameters.clientParameters.clientID",
                create, 1, 512, P_AUTH_HEADER);
            str(call, cp, "ClientSecret",
                "authParameters.oAuthParameters.clientParameters.clientSecret",
                create, 1, 512, P_AUTH_HEADER);
        }
        str(call, o, "AuthorizationEndpoint",
            "authParameters.oAuthParameters.authorizationEndpoint", create, 1,
            2048, P_HTTPS_ENDPOINT);
        enum_str(call, o, "HttpMethod",
                 "authParameters.oAuthParameters.httpMethod", create,
                 OAUTH_METHODS, EVB_ARRAY_LEN(OAUTH_METHODS));
        http_params(call, o, "OAuthHttpParameters",
                    "authParameters.oAuthParameters.oAuthHttpParameters");
    }
    http_params(call, ap, "InvocationHttpParameters",
                "authParameters.invocationHttpParameters");
    member(call, ap, "ConnectivityParameters", JSON_OBJECT,
           "authParameters.connectivityParameters", false);
}

/* ---- running an action ------------------------------------------------- */

/* The request as jansson (call->input is the already parsed object). */
static json_t *request_json(evb__api_call_t *call) {
    json_error_t jerr;
    json_t *req = json_loadb(call->input->src, call->input->src_len, 0, &jerr);
    if (!json_is_object(req)) {
        json_decref(req);
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
        return NULL;
    }
    return req;
}

static void run(evb__api_call_t *call, json_t *req, svc_fn fn) {
    if (!evb__api_validated(call))
        return;
    if (!call->api->store) {
        evb__api_fail_err(call, EVB_ERR_INTERNAL, NULL);
        return;
    }
    evb_apidest_scope_t sc = {.store = call->api->store,
                              .account = call->api->account,
                              .region = call->api->region};
    char errstr[1024] = "";
    json_t *resp = NULL;
    evb_err_t err = fn(&sc, req, &resp, errstr, sizeof errstr);
    if (err) {
        json_decref(resp);
        evb__api_fail_err(call, err, errstr);
        return;
    }
    char *text = json_dumps(resp, JSON_COMPACT | JSON_REAL_PRECISION(13));
    json_decref(resp);
    if (!text || evb_buf_append(call->out, text, strlen(text)))
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
    free(text);
}

static void connection_action(evb__api_call_t *call, svc_fn fn,
                              bool name_only) {
    json_t *req = request_json(call);
    if (!req)
        return;
    str(call, req, "Name", "name", true, 1, 64, P_NAME);
    if (!name_only) {
        bool create = fn == evb_apidest_connection_create;
        str(call, req, "Description", "description", false, 0, 512, P_NONE);
        enum_str(call, req, "AuthorizationType", "authorizationType", create,
                 AUTH_TYPES, EVB_ARRAY_LEN(AUTH_TYPES));
        check_auth(call, req, create);
        member(call, req, "InvocationConnectivityParameters", JSON_OBJECT,
               "invocationConnectivityParameters", false);
        str(call, req, "KmsKeyIdentifier", "kmsKeyIdentifier", false, 0, 2048,
            P_KMS_KEY);
    }
    run(call, req, fn);
    json_decref(req);
}

static void create_connection(evb__api_call_t *call) {
    connection_action(call, evb_apidest_connection_create, false);
}
static void update_connection(evb__api_call_t *call) {
    connection_action(call, evb_apidest_connection_update, false);
}
static void describe_connection(evb__api_call_t *call) {
    connection_action(call, evb_apidest_connection_describe, true);
}
static void delete_connection(evb__api_call_t *call) {
    connection_action(call, evb_apidest_connection_delete, true);
}
static void deauthorize_connection(evb__api_call_t *call) {
    connection_action(call, evb_apidest_connection_deauthorize, true);
}

static void list_common(evb__api_call_t *call, json_t *req) {
    str(call, req, "NamePrefix", "namePrefix", false, 1, 64, P_NAME);
    str(call, req, "NextToken", "nextToken", false, 1, 2048, P_NONE);
    int_range(call, req, "Limit", "limit", 1, 100);
}

static void list_connections(evb__api_call_t *call) {
    json_t *req = request_json(call);
    if (!req)
        return;
    list_common(call, req);
    enum_str(call, req, "ConnectionState", "connectionState", false,
             CONN_STATES, EVB_ARRAY_LEN(CONN_STATES));
    run(call, req, evb_apidest_connection_list);
    json_decref(req);
}

static void destination_action(evb__api_call_t *call, svc_fn fn,
                               bool name_only) {
    json_t *req = request_json(call);
    if (!req)
        return;
    str(call, req, "Name", "name", true, 1, 64, P_NAME);
    if (!name_only) {
        bool create = fn == evb_apidest_destination_create;
        str(call, req, "Description", "description", false, 0, 512, P_NONE);
        str(call, req, "ConnectionArn", "connectionArn", create, 1, 1600,
            P_CONNECTION_ARN);
        str(call, req, "InvocationEndpoint", "invocationEndpoint", create, 1,
            2048, P_HTTPS_ENDPOINT);
        enum_str(call, req, "HttpMethod", "httpMethod", create, DEST_METHODS,
                 EVB_ARRAY_LEN(DEST_METHODS));
        int_range(call, req, "InvocationRateLimitPerSecond",
                  "invocationRateLimitPerSecond", 1, 0);
    }
    run(call, req, fn);
    json_decref(req);
}

static void create_api_destination(evb__api_call_t *call) {
    destination_action(call, evb_apidest_destination_create, false);
}
static void update_api_destination(evb__api_call_t *call) {
    destination_action(call, evb_apidest_destination_update, false);
}
static void describe_api_destination(evb__api_call_t *call) {
    destination_action(call, evb_apidest_destination_describe, true);
}
static void delete_api_destination(evb__api_call_t *call) {
    destination_action(call, evb_apidest_destination_delete, true);
}

static void list_api_destinations(evb__api_call_t *call) {
    json_t *req = request_json(call);
    if (!req)
        return;
    list_common(call, req);
    str(call, req, "ConnectionArn", "connectionArn", false, 1, 1600,
        P_CONNECTION_ARN);
    run(call, req, evb_apidest_destination_list);
    json_decref(req);
}

const evb__api_action_t evb__api_apidest_actions[] = {
    {"CreateConnection", create_connection},
    {"DescribeConnection", describe_connection},
    {"UpdateConnection", update_connection},
    {"DeleteConnection", delete_connection},
    {"ListConnections", list_connections},
    {"DeauthorizeConnection", deauthorize_connection},
    {"CreateApiDestination", create_api_destination},
    {"DescribeApiDestination", describe_api_destination},
    {"UpdateApiDestination", update_api_destination},
    {"DeleteApiDestination", delete_api_destination},
    {"ListApiDestinations", list_api_destinations},
};

const size_t evb__api_apidest_actions_count =
    EVB_ARRAY_LEN(evb__api_apidest_actions);
