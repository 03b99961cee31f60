/*
 * api_events.c: the EventBridge API (X-Amz-Target prefix AWSEvents, AWS
 * JSON 1.1) on top of the bus service (bus.h), one function per action,
 * in the order of the action table at the bottom. Each action does what
 * EventBridge does, with its exception names and, where AWS documents or
 * was recorded saying them, its messages (compatibility reference, §1).
 *
 * Every action runs in the same three steps:
 *
 * 1. Read the members and check them against botocore's model (required
 *    members, lengths in UTF-16 code units, patterns, enums, ranges, list
 *    sizes). Violations are collected, then turned into one
 *    ValidationException in AWS's "N validation error(s) detected: ..."
 *    form with lowerCamelCase paths ('name', 'targets.1.member.id'); a
 *    member of the wrong JSON type is a SerializationException. This is
 *    AWS's front door, so it comes before anything else.
 * 2. Check what the model cannot say (schedule syntax, target ARNs, input
 *    transformers) with EventBridge's messages.
 * 3. Call the bus service and render its answer, or its error: the error
 *    table maps the bus's codes to AWS exceptions and the bus words the
 *    messages.
 *
 * The bus service lives in call->api->bus; without it every action but
 * TestEventPattern answers InternalException (after step 1).
 *
 * Everything allocated here comes from the request arena, except what the
 * bus hands back, which is freed before the action returns.
 */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../pattern/pattern.h"
#include "../transform/transform.h"
#include "../schedule/schedule.h"
#include "api_internal.h"

/* A resolved EventBusName (the model allows 1600 characters). */
#define BUS_NAME_SIZE 1700
/* Nesting accepted when re-reading a stored target. */
#define SPEC_MAX_DEPTH 64
/* Space for the bus's error messages. */
#define ERRSTR_SIZE 1024

/* ---- the model's string constraints -------------------------------------- */

typedef enum pat {
    PAT_NONE,
    PAT_NAME,         /* RuleName, TargetId */
    PAT_BUS_NAME,     /* EventBusName */
    PAT_BUS_REF,      /* EventBusNameOrArn */
    PAT_BUS_REF_NP,   /* NonPartnerEventBusNameOrArn */
    PAT_EVENT_SOURCE, /* EventSourceName */
    PAT_KMS_KEY,      /* KmsKeyIdentifier */
    PAT_ENDPOINT_ID,  /* EndpointId */
    PAT_PATH_PARAM,   /* PathParameter */
    PAT_HEADER_KEY,   /* HeaderKey */
    PAT_HEADER_VALUE, /* HeaderValue */
    PAT_QUERY_KEY,    /* QueryStringKey */
    PAT_QUERY_VALUE,  /* QueryStringValue */
} pat_t;

/* The patterns as the model (and so AWS's messages) spell them. */
static const char *const pat_text[] = {
    [PAT_NONE] = "",
    [PAT_NAME] = "[\\.\\-_A-Za-z0-9]+",
    [PAT_BUS_NAME] = "[/\\.\\-_A-Za-z0-9]+",
    [PAT_BUS_REF] = "(arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:"
                    "event-bus\\/)?[/\\.\\-_A-Za-z0-9]+",
    [PAT_BUS_REF_NP] = "(arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}"
                       ":event-bus\\/)?[\\.\\-_A-Za-z0-9]+",
    [PAT_EVENT_SOURCE] = "aws\\.partner(/[\\.\\-_A-Za-z0-9]+){2,}",
    [PAT_KMS_KEY] = "^[a-zA-Z0-9_\\-/:]*$",
    [PAT_ENDPOINT_ID] = "^[A-Za-z0-9\\-]+[\\.][A-Za-z0-9\\-]+$",
    [PAT_PATH_PARAM] = "^(?!\\s*$).+",
    [PAT_HEADER_KEY] = "^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$",
    [PAT_HEADER_VALUE] =
        "^[ \\t]*[\\x20-\\x7E]+([ \\t]+[\\x20-\\x7E]+)*[ \\t]*$",
    [PAT_QUERY_KEY] = "[^\\x00-\\x1F\\x7F]+",
    [PAT_QUERY_VALUE] = "[^\\x00-\\x09\\x0B\\x0C\\x0E-\\x1F\\x7F]+",
};

/* A string shape: length limits (max 0: none) and a pattern. */
typedef struct strspec {
    size_t min, max;
    pat_t pat;
} strspec_t;

static const strspec_t SPEC_STRING = {0, 0, PAT_NONE};
static const strspec_t SPEC_RULE_NAME = {1, 64, PAT_NAME};
static const strspec_t SPEC_TARGET_ID = {1, 64, PAT_NAME};
static const strspec_t SPEC_BUS_NAME = {1, 256, PAT_BUS_NAME};
static const strspec_t SPEC_BUS_REF = {1, 1600, PAT_BUS_REF};
static const strspec_t SPEC_BUS_REF_NP = {1, 1600, PAT_BUS_REF_NP};
static const strspec_t SPEC_EVENT_SOURCE = {1, 256, PAT_EVENT_SOURCE};
static const strspec_t SPEC_DESCRIPTION = {0, 512, PAT_NONE};
static const strspec_t SPEC_KMS_KEY = {0, 2048, PAT_KMS_KEY};
static const strspec_t SPEC_ARN = {1, 1600, PAT_NONE};
static const strspec_t SPEC_SCHEDULE = {0, 256, PAT_NONE};
static const strspec_t SPEC_EVENT_PATTERN = {0, 4096, PAT_NONE};
static const strspec_t SPEC_TAG_KEY = {1, 128, PAT_NONE};
static const strspec_t SPEC_TAG_VALUE = {0, 256, PAT_NONE};
static const strspec_t SPEC_TRACE_HEADER = {1, 500, PAT_NONE};
static const strspec_t SPEC_EVENT_RESOURCE = {0, 2048, PAT_NONE};
static const strspec_t SPEC_ENDPOINT_ID = {1, 50, PAT_ENDPOINT_ID};
static const strspec_t SPEC_MESSAGE_GROUP_ID = {0, 100, PAT_NONE};
static const strspec_t SPEC_PARTITION_KEY_PATH = {0, 256, PAT_NONE};
static const strspec_t SPEC_PATH_PARAM = {0, 0, PAT_PATH_PARAM};
static const strspec_t SPEC_HEADER_KEY = {0, 512, PAT_HEADER_KEY};
static const strspec_t SPEC_HEADER_VALUE = {0, 512, PAT_HEADER_VALUE};
static const strspec_t SPEC_QUERY_KEY = {0, 512, PAT_QUERY_KEY};
static const strspec_t SPEC_QUERY_VALUE = {0, 512, PAT_QUERY_VALUE};

static const char *const RULE_STATES[] = {
    "ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"};
static const char *const LOG_INCLUDE_DETAIL[] = {"NONE", "FULL"};
static const char *const LOG_LEVELS[] = {"OFF", "ERROR", "INFO", "TRACE"};

static bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static bool is_word(char c) { /* Java's \w */
    return is_alnum(c) || c == '_';
}

static bool is_name_char(char c) { /* [\.\-_A-Za-z0-9] */
    return is_alnum(c) || c == '.' || c == '-' || c == '_';
}

/* [set]+ over s[0..len): name characters, plus '/' if slash. */
static bool all_name_chars(const char *s, size_t len, bool slash) {
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_name_char(s[i]) && !(slash && s[i] == '/'))
            return false;
    return true;
}

/* The length of the prefix arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:
 * [0-9]{12}:event-bus/ of s, or 0. Every part stops at a character its
 * class cannot hold, so no backtracking is needed. */
static size_t bus_arn_prefix(const char *s, size_t len) {
    size_t i = 0;
#define EXPECT(lit)                                                            \
    do {                                                                       \
        size_t l_ = strlen(lit);                                               \
        if (len - i < l_ || memcmp(s + i, lit, l_) != 0)                       \
            return 0;                                                          \
        i += l_;                                                               \
    } while (0)
    EXPECT("arn:aws");
    while (i < len && (is_word(s[i]) || s[i] == '-'))
        i++;
    EXPECT(":events:");
    for (int part = 0; part < 2; part++) {
        size_t start = i;
        while (i < len && s[i] >= 'a' && s[i] <= 'z')
            i++;
        if (i == start)
            return 0;
        EXPECT("-");
    }
    size_t start = i;
    while (i < len && (is_word(s[i]) || s[i] == '-'))
        i++;
    if (i == start)
        return 0;
    EXPECT(":");
    for (int d = 0; d < 12; d++, i++)
        if (i >= len || s[i] < '0' || s[i] > '9')
            return 0;
    EXPECT(":event-bus/");
#undef EXPECT
    return i;
}

/* ^(?!\s*$).+ as Java matches it: not empty, no line terminator (. does
 * not match \n, \r, U+0085, U+2028, U+2029), not only \s characters. */
static bool path_param_ok(const char *s, size_t len) {
    bool blank = true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || c == '\r')
            return false;
        if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] == 0x85)
            return false;
        if (c == 0xE2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
            ((unsigned char)s[i + 2] == 0xA8 ||
             (unsigned char)s[i + 2] == 0xA9))
            return false;
        if (c != ' ' && c != '\t' && c != '\v' && c != '\f')
            blank = false;
    }
    return len > 0 && !blank;
}

/* ^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$ (the class's +-. is the range + , - .) */
static bool header_key_ok(const char *s, size_t len) {
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_alnum(s[i]) &&
            (s[i] == '\0' || !strchr("!#$%&'*+,-.^_`|~", s[i])))
            return false;
    return true;
}

/* ^[ \t]*[\x20-\x7E]+([ \t]+[\x20-\x7E]+)*[ \t]*$: tabs and printable
 * ASCII (space included), at least one of the latter. */
static bool header_value_ok(const char *s, size_t len) {
    bool printable = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c <= 0x7E)
            printable = true;
        else if (c != '\t')
            return false;
    }
    return printable;
}

/* [^\x00-\x1F\x7F]+, or with newline_ok [^\x00-\x09\x0B\x0C\x0E-\x1F\x7F]+ */
static bool no_controls(const char *s, size_t len, bool newline_ok) {
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(newline_ok && (c == '\n' || c == '\r'))) ||
            c == 0x7F)
            return false;
    }
    return true;
}

static bool pattern_match(pat_t p, const char *s, size_t len) {
    switch (p) {
    case PAT_NONE: return true;
    case PAT_NAME: return all_name_chars(s, len, false);
    case PAT_BUS_NAME: return all_name_chars(s, len, true);
    case PAT_BUS_REF:
    case PAT_BUS_REF_NP: {
        bool slash = p == PAT_BUS_REF;
        size_t pre = bus_arn_prefix(s, len);
        if (pre && all_name_chars(s + pre, len - pre, slash))
            return true;
        return all_name_chars(s, len, slash);
    }
    case PAT_EVENT_SOURCE: {
        static const char lead[] = "aws.partner";
        size_t n = sizeof lead - 1, segments = 0;
        if (len < n || memcmp(s, lead, n) != 0)
            return false;
        for (size_t i = n; i < len;) {
            if (s[i] != '/')
                return false;
            size_t start = ++i;
            while (i < len && is_name_char(s[i]))
                i++;
            if (i == start)
                return false;
            segments++;
        }
        return segments >= 2;
    }
    case PAT_KMS_KEY:
        for (size_t i = 0; i < len; i++)
            if (!is_word(s[i]) && s[i] != '-' && s[i] != '/' && s[i] != ':')
                return false;
        return true;
    case PAT_ENDPOINT_ID: {
        size_t dots = 0, dot = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] == '.') {
                dots++;
                dot = i;
            } else if (!is_alnum(s[i]) && s[i] != '-') {
                return false;
            }
        }
        return dots == 1 && dot > 0 && dot + 1 < len;
    }
    case PAT_PATH_PARAM: return path_param_ok(s, len);
    case PAT_HEADER_KEY: return header_key_ok(s, len);
    case PAT_HEADER_VALUE: return header_value_ok(s, len);
    case PAT_QUERY_KEY: return no_controls(s, len, false);
    case PAT_QUERY_VALUE: return no_controls(s, len, true);
    }
    return false;
}

/* Record the violations of a present string (max, then min, then the
 * pattern: the order AWS's recorded messages show most often). */
static void check_string(evb__api_call_t *call, const char *s, size_t len,
                         const char *path, const strspec_t *spec,
                         bool check_max) {
    size_t n = evb__api_utf16_len(s, len);
    if (check_max && spec->max && n > spec->max)
        evb_api_validation_add(&call->validation, s, len, path, EVB_API_MAX_LEN,
                               spec->max);
    if (spec->min && n < spec->min)
        evb_api_validation_add(&call->validation, s, len, path, EVB_API_MIN_LEN,
                               spec->min);
    if (spec->pat != PAT_NONE && !pattern_match(spec->pat, s, len))
        evb_api_validation_add(&call->validation, s, len, path, EVB_API_PATTERN,
                               pat_text[spec->pat]);
}

static void check_enum(evb__api_call_t *call, const char *s, size_t len,
                       const char *path, const char *const *values, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strlen(values[i]) == len && memcmp(values[i], s, len) == 0)
            return;
    char set[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof set; i++)
        used += (size_t)snprintf(set + used, sizeof set - used, "%s%s",
                                 i ? ", " : "", values[i]);
    evb_api_validation_add(&call->validation, s, len, path,
                           "Member must satisfy enum value set: [%s]", set);
}

/* ---- reading members ----------------------------------------------------- */

/* What a member must be on the wire. */
typedef enum kind {
    K_STRING,
    K_INTEGER,
    K_TIMESTAMP, /* epoch seconds, a JSON number */
    K_BOOLEAN,
    K_LIST,
    K_STRUCT,
} kind_t;

static const char *const kind_text[] = {
    [K_STRING] = "a string",    [K_INTEGER] = "an integer",
    [K_TIMESTAMP] = "a number", [K_BOOLEAN] = "a boolean",
    [K_LIST] = "an array",      [K_STRUCT] = "an object",
};

static bool integer_text(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
            return false;
    return true;
}

static bool kind_ok(kind_t k, const evb_jval_t *v) {
    switch (k) {
    case K_STRING: return v->type == EVB_JSON_STRING;
    case K_INTEGER:
        return v->type == EVB_JSON_NUMBER &&
               integer_text(v->u.str.s, v->u.str.len);
    case K_TIMESTAMP: return v->type == EVB_JSON_NUMBER;
    case K_BOOLEAN:
        return v->type == EVB_JSON_TRUE || v->type == EVB_JSON_FALSE;
    case K_LIST: return v->type == EVB_JSON_ARRAY;
    case K_STRUCT: return v->type == EVB_JSON_OBJECT;
    }
    return false;
}

static void fail_type(evb__api_call_t *call, const char *name, kind_t k,
                      const evb_jval_t *v) {
    evb__api_fail_type(call, name, kind_text[k], v);
}

/*
 * Member name of obj as kind k. Absent or JSON null: NULL, and a "must not
 * be null" violation at path when path is given (the member is required).
 * Of another type: NULL and the call fails with SerializationException.
 */
static const evb_jval_t *get(evb__api_call_t *call, const evb_jval_t *obj,
                             const char *name, kind_t k,
                             const char *required_path) {
    const evb_jval_t *v = evb__api_member(obj, name);
    if (!v || v->type == EVB_JSON_NULL) {
        if (required_path)
            evb_api_validation_add(&call->validation, NULL, 0, required_path,
                                   "%s", EVB_API_NOT_NULL);
        return NULL;
    }
    if (!kind_ok(k, v)) {
        fail_type(call, name, k, v);
        return NULL;
    }
    return v;
}

/* A string member of the request itself, read with api.c's reader, then
 * checked against the rest of its shape. */
static bool top_string(evb__api_call_t *call, const char *name,
                       const char *path, bool required, const strspec_t *spec,
                       const char **s, size_t *len) {
    if (!evb__api_string_member(call, name, path, required, spec->max, s, len))
        return false;
    check_string(call, *s, *len, path, spec, false);
    return true;
}

/* A string member of a nested object (path built by the caller). */
static bool nested_string(evb__api_call_t *call, const evb_jval_t *obj,
                          const char *name, const char *path, bool required,
                          const strspec_t *spec, const char **s, size_t *len) {
    *s = NULL;
    *len = 0;
    const evb_jval_t *v =
        get(call, obj, name, K_STRING, required ? path : NULL);
    if (!v)
        return false;
    *s = v->u.str.s;
    *len = v->u.str.len;
    check_string(call, *s, *len, path, spec, true);
    return true;
}

/* Format a member path into buf ("targets.3.member.id"). */
static const char *pathf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static const char *pathf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return buf;
}

/* ---- list values in messages --------------------------------------------- */

/*
 * AWS quotes a whole list in a list's violation, as Java prints it:
 * "[a, b]" for strings, "Target(id=a, arn=b)" for structures (members in
 * lowerCamelCase, in request order) and "{k=v}" for maps. A renderer
 * appends to a buffer and remembers whether memory ran out.
 */
typedef struct text {
    evb_buf_t b;
    bool nomem;
} text_t;

static void text_put(text_t *t, const char *s, size_t len) {
    if (!t->nomem && evb_buf_append(&t->b, s, len))
        t->nomem = true;
}

static void text_puts(text_t *t, const char *s) {
    text_put(t, s, strlen(s));
}

static void render_value(text_t *t, const evb_jval_t *v, const char *shape);

/* key as lowerCamelCase */
static void render_key(text_t *t, const char *key, size_t klen) {
    if (!klen)
        return;
    char c = key[0];
    if (c >= 'A' && c <= 'Z')
        c = (char)(c - 'A' + 'a');
    text_put(t, &c, 1);
    text_put(t, key + 1, klen - 1);
}

static void render_value(text_t *t, const evb_jval_t *v, const char *shape) {
    switch (v->type) {
    case EVB_JSON_STRING:
    case EVB_JSON_NUMBER: text_put(t, v->u.str.s, v->u.str.len); return;
    case EVB_JSON_TRUE: text_puts(t, "true"); return;
    case EVB_JSON_FALSE: text_puts(t, "false"); return;
    case EVB_JSON_NULL: text_puts(t, "null"); return;
    case EVB_JSON_ARRAY:
        text_puts(t, "[");
        for (size_t i = 0; i < v->u.arr.n; i++) {
            if (i)
                text_puts(t, ", ");
            render_value(t, v->u.arr.items[i], shape);
        }
        text_puts(t, "]");
        return;
    case EVB_JSON_OBJECT:
        if (shape) {
            text_puts(t, shape);
            text_puts(t, "(");
        } else {
            text_puts(t, "{");
        }
        for (size_t i = 0; i < v->u.obj.n; i++) {
            const evb_jmember_t *m = &v->u.obj.members[i];
            if (i)
                text_puts(t, ", ");
            if (shape)
                render_key(t, m->key, m->klen);
            else
                text_put(t, m->key, m->klen);
            text_puts(t, "=");
            render_value(t, m->val, NULL);
        }
        text_puts(t, shape ? ")" : "}");
        return;
    }
}

/* A PutEventsRequestEntry as AWS prints it in the 'entries' violation
 * (recorded by LocalStack against AWS): every member, null when absent,
 * Time as java.util.Date prints itself, Detail as sent. */
static void render_put_entry(text_t *t, const evb_jval_t *e) {
    static const struct {
        const char *member, *field;
    } fields[] = {
        {"Time", "time"},
        {"Source", "source"},
        {"Resources", "resources"},
        {"DetailType", "detailType"},
        {"Detail", "detail"},
        {"EventBusName", "eventBusName"},
        {"TraceHeader", "traceHeader"},
        {NULL, "kmsKeyIdentifier"},
        {NULL, "internalMetadata"},
    };
    text_puts(t, "PutEventsRequestEntry(");
    for (size_t i = 0; i < EVB_ARRAY_LEN(fields); i++) {
        if (i)
            text_puts(t, ", ");
        text_puts(t, fields[i].field);
        text_puts(t, "=");
        const evb_jval_t *v = fields[i].member && e->type == EVB_JSON_OBJECT
                                  ? evb__api_member(e, fields[i].member)
                                  : NULL;
        if (v && v->type == EVB_JSON_NUMBER && i == 0) {
            double d = strtod(v->u.str.s, NULL);
            time_t secs = (time_t)(isfinite(d) ? floor(d) : 0);
            struct tm tm;
            char when[64];
            if (gmtime_r(&secs, &tm) &&
                strftime(when, sizeof when, "%a %b %d %H:%M:%S UTC %Y", &tm))
                text_puts(t, when);
            else
                text_put(t, v->u.str.s, v->u.str.len);
        } else if (v) {
            render_value(t, v, NULL);
        } else {
            text_puts(t, "null");
        }
    }
    text_puts(t, ")");
}

/* Record that list (at path) has a length outside [min, max]. */
static void check_list_len(evb__api_call_t *call, const evb_jval_t *list,
                           const char *path, size_t min, size_t max,
                           const char *shape) {
    size_t n = list->u.arr.n;
    if (n >= min && (!max || n <= max))
        return;
    text_t t = {.nomem = false};
    evb_buf_init(&t.b, 0);
    text_puts(&t, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            text_puts(&t, ", ");
        if (shape && strcmp(shape, "PutEventsRequestEntry") == 0)
            render_put_entry(&t, list->u.arr.items[i]);
        else
            render_value(&t, list->u.arr.items[i], shape);
    }
    text_puts(&t, "]");
    if (t.nomem)
        call->validation.nomem = true;
    if (n < min)
        evb_api_validation_add(&call->validation, t.b.data, t.b.len, path,
                               EVB_API_MIN_LEN, min);
    else
        evb_api_validation_add(&call->validation, t.b.data, t.b.len, path,
                               EVB_API_MAX_LEN, max);
    evb_buf_free(&t.b);
}

/*
 * A list of strings of shape spec: its elements are not named in AWS's
 * messages; one violation at the list's path quotes the whole list and
 * every constraint of the element shape ("Member must satisfy constraint:
 * [Member must have length less than or equal to 64, ..., Member must not
 * be null]"). Fails with SerializationException on a non-string element.
 * Returns false if the call failed.
 */
static bool check_string_list(evb__api_call_t *call, const evb_jval_t *list,
                              const char *name, const char *path,
                              const strspec_t *spec) {
    bool bad = false;
    for (size_t i = 0; i < list->u.arr.n; i++) {
        const evb_jval_t *v = list->u.arr.items[i];
        if (v->type == EVB_JSON_NULL) {
            bad = true;
            continue;
        }
        if (v->type != EVB_JSON_STRING) {
            fail_type(call, name, K_STRING, v);
            return false;
        }
        size_t n = evb__api_utf16_len(v->u.str.s, v->u.str.len);
        if ((spec->max && n > spec->max) || n < spec->min ||
            (spec->pat != PAT_NONE &&
             !pattern_match(spec->pat, v->u.str.s, v->u.str.len)))
            bad = true;
    }
    if (!bad)
        return true;
    char num[96];
    text_t c = {.nomem = false};
    evb_buf_init(&c.b, 0);
    text_puts(&c, "Member must satisfy constraint: [");
    if (spec->max) {
        snprintf(num, sizeof num, EVB_API_MAX_LEN, spec->max);
        text_puts(&c, num);
        text_puts(&c, ", ");
    }
    if (spec->min) {
        snprintf(num, sizeof num, EVB_API_MIN_LEN, spec->min);
        text_puts(&c, num);
        text_puts(&c, ", ");
    }
    if (spec->pat != PAT_NONE) {
        text_puts(&c, "Member must satisfy regular expression pattern: ");
        text_puts(&c, pat_text[spec->pat]);
        text_puts(&c, ", ");
    }
    text_puts(&c, EVB_API_NOT_NULL "]");
    text_t t = {.nomem = false};
    evb_buf_init(&t.b, 0);
    render_value(&t, list, NULL);
    if (t.nomem || c.nomem)
        call->validation.nomem = true;
    else
        evb_api_validation_add(&call->validation, t.b.data, t.b.len, path, "%s",
                               c.b.data);
    evb_buf_free(&c.b);
    evb_buf_free(&t.b);
    return true;
}

/* Whether s fails spec (length in UTF-16 code units, then the pattern). */
static bool string_bad(const char *s, size_t len, const strspec_t *spec) {
    size_t n = evb__api_utf16_len(s, len);
    return (spec->max && n > spec->max) || n < spec->min ||
           (spec->pat != PAT_NONE && !pattern_match(spec->pat, s, len));
}

/* "<what> must satisfy constraint: [<every constraint of spec>]" */
static void spec_constraints(text_t *c, const char *what,
                             const strspec_t *spec) {
    char num[96];
    const char *sep = "";
    text_puts(c, what);
    text_puts(c, " must satisfy constraint: [");
    if (spec->max) {
        snprintf(num, sizeof num, EVB_API_MAX_LEN, spec->max);
        text_puts(c, num);
        sep = ", ";
    }
    if (spec->min) {
        snprintf(num, sizeof num, EVB_API_MIN_LEN, spec->min);
        text_puts(c, sep);
        text_puts(c, num);
        sep = ", ";
    }
    if (spec->pat != PAT_NONE) {
        text_puts(c, sep);
        text_puts(c, "Member must satisfy regular expression pattern: ");
        text_puts(c, pat_text[spec->pat]);
    }
    text_puts(c, "]");
}

/*
 * A map of strings (a JSON object) whose keys have shape key_spec and
 * values value_spec. As AWS words it, its violations quote the whole map
 * ("{k=v, k2=v2}") once for the keys ("Map keys must satisfy constraint:
 * [<every constraint of the key shape>]") and once for the values ("Map
 * value must satisfy constraint: [...]"); a null value breaks the value
 * shape. A value of another type fails with SerializationException.
 * Returns false if the call failed.
 */
static bool check_string_map(evb__api_call_t *call, const evb_jval_t *map,
                             const char *name, const char *path,
                             const strspec_t *key_spec,
                             const strspec_t *value_spec) {
    bool bad_key = false, bad_value = false;
    for (size_t i = 0; i < map->u.obj.n; i++) {
        const evb_jmember_t *m = &map->u.obj.members[i];
        bad_key |= string_bad(m->key, m->klen, key_spec);
        if (m->val->type == EVB_JSON_NULL) {
            bad_value = true;
            continue;
        }
        if (m->val->type != EVB_JSON_STRING) {
            fail_type(call, name, K_STRING, m->val);
            return false;
        }
        bad_value |= string_bad(m->val->u.str.s, m->val->u.str.len, value_spec);
    }
    if (!bad_key && !bad_value)
        return true;
    text_t t = {.nomem = false};
    evb_buf_init(&t.b, 0);
    render_value(&t, map, NULL);
    for (int pass = 0; pass < 2; pass++) {
        if (!(pass ? bad_value : bad_key))
            continue;
        text_t c = {.nomem = false};
        evb_buf_init(&c.b, 0);
        spec_constraints(&c, pass ? "Map value" : "Map keys",
                         pass ? value_spec : key_spec);
        if (t.nomem || c.nomem)
            call->validation.nomem = true;
        else
            evb_api_validation_add(&call->validation, t.b.data, t.b.len, path,
                                   "%s", c.b.data);
        evb_buf_free(&c.b);
    }
    evb_buf_free(&t.b);
    return true;
}

/* ---- the JSON result ----------------------------------------------------- */

/* Actions without an output shape answer with an empty body, as AWS does;
 * those with an empty one answer {}. */
static void out_empty_struct(evb__api_call_t *call) {
    if (evb_buf_append(call->out, "{}", 2))
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
}

/* ---- shared steps -------------------------------------------------------- */

/* The bus service, or NULL after failing the call with InternalException. */
static evb_bus_service_t *bus_service(evb__api_call_t *call) {
    if (!call->api->bus)
        evb__api_fail(call, 500, "InternalException",
                      "The event bus service is not available.");
    return call->api->bus;
}

/* Resolve an EventBusName parameter (name, ARN, or NULL for the default
 * bus) into out[BUS_NAME_SIZE]. */
static bool resolve_bus(evb__api_call_t *call, evb_bus_service_t *svc,
                        const char *name, char *out) {
    char errstr[ERRSTR_SIZE] = "";
    evb_err_t err = evb_bus_resolve_name(svc, name, out, BUS_NAME_SIZE, errstr,
                                         sizeof errstr);
    if (err)
        evb__api_fail_err(call, err, errstr);
    return !err;
}

/* A Tags member (TagList): each Tag needs Key (1..128) and Value
 * (0..256). *tags points into the arena; the strings are the request's. */
static void get_tags(evb__api_call_t *call, const char *name, const char *path,
                     bool required, evb_tag_t **tags, size_t *n) {
    *tags = NULL;
    *n = 0;
    const evb_jval_t *list =
        get(call, call->input, name, K_LIST, required ? path : NULL);
    if (!list || !list->u.arr.n)
        return;
    *tags = evb_arena_calloc(call->arena, list->u.arr.n, sizeof **tags);
    if (!*tags) {
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
        return;
    }
    for (size_t i = 0; i < list->u.arr.n && !call->status; i++) {
        const evb_jval_t *tag = list->u.arr.items[i];
        char p[128];
        if (tag->type != EVB_JSON_OBJECT) {
            fail_type(call, name, K_STRUCT, tag);
            return;
        }
        const char *k, *v;
        size_t klen, vlen;
        nested_string(call, tag, "Key",
                      pathf(p, sizeof p, "%s.%zu.member.key", path, i + 1),
                      true, &SPEC_TAG_KEY, &k, &klen);
        nested_string(call, tag, "Value",
                      pathf(p, sizeof p, "%s.%zu.member.value", path, i + 1),
                      true, &SPEC_TAG_VALUE, &v, &vlen);
        (*tags)[*n].key = (char *)k;
        (*tags)[*n].value = (char *)v;
        (*n)++;
    }
}

/* DeadLetterConfig {Arn}: checked, not kept (buses have no DLQ here). */
static void check_dead_letter_config(evb__api_call_t *call,
                                     const evb_jval_t *obj, const char *path) {
    const evb_jval_t *dlc = get(call, obj, "DeadLetterConfig", K_STRUCT, NULL);
    if (!dlc)
        return;
    char p[160];
    const char *s;
    size_t len;
    nested_string(call, dlc, "Arn", pathf(p, sizeof p, "%s.arn", path), false,
                  &SPEC_ARN, &s, &len);
}

/* LogConfig {IncludeDetail, Level}: checked, not kept. */
static void check_log_config(evb__api_call_t *call) {
    const evb_jval_t *lc = get(call, call->input, "LogConfig", K_STRUCT, NULL);
    if (!lc)
        return;
    const char *s;
    size_t len;
    if (nested_string(call, lc, "IncludeDetail", "logConfig.includeDetail",
                      false, &SPEC_STRING, &s, &len))
        check_enum(call, s, len, "logConfig.includeDetail", LOG_INCLUDE_DETAIL,
                   EVB_ARRAY_LEN(LOG_INCLUDE_DETAIL));
    if (nested_string(call, lc, "Level", "logConfig.level", false, &SPEC_STRING,
                      &s, &len))
        check_enum(call, s, len, "logConfig.level", LOG_LEVELS,
                   EVB_ARRAY_LEN(LOG_LEVELS));
}

/* ---- buses --------------------------------------------------------------- */

/*
 * CreateEventBus {Name*, EventSourceName, Description, KmsKeyIdentifier,
 * DeadLetterConfig, LogConfig, Tags} -> {EventBusArn, Description}
 *
 * A custom bus name cannot contain '/' (ValidationException "Event bus
 * name must not contain '/'."). Partner buses (EventSourceName) need a
 * partner event source, and evbus has none: ResourceNotFoundException
 * "Event source <name> does not exist.". Tags are applied to the new bus.
 * KmsKeyIdentifier, DeadLetterConfig and LogConfig are checked against
 * the model but not kept.
 */
static void create_event_bus(evb__api_call_t *call) {
    const char *name, *source, *desc, *kms;
    size_t name_len, source_len, desc_len, kms_len;
    evb_tag_t *tags;
    size_t ntags;
    top_string(call, "Name", "name", true, &SPEC_BUS_NAME, &name, &name_len);
    bool partner = top_string(call, "EventSourceName", "eventSourceName", false,
                              &SPEC_EVENT_SOURCE, &source, &source_len);
    top_string(call, "Description", "description", false, &SPEC_DESCRIPTION,
               &desc, &desc_len);
    top_string(call, "KmsKeyIdentifier", "kmsKeyIdentifier", false,
               &SPEC_KMS_KEY, &kms, &kms_len);
    check_dead_letter_config(call, call->input, "deadLetterConfig");
    check_log_config(call);
    get_tags(call, "Tags", "tags", false, &tags, &ntags);
    if (!evb__api_validated(call))
        return;
    evb_bus_service_t *svc = bus_service(call);
    if (!svc)
        return;
    if (partner) {
        if (strcmp(name, source) != 0)
            evb__api_fail(call, 400, "ValidationException",
                          "Event bus name must match event source name.");
        else
            evb__api_fail(call, 400, "ResourceNotFoundException",
                          "Event source %s does not exist.", source);
        return;
    }
    if (memchr(name, '/', name_len)) {
        evb__api_fail(call, 400, "ValidationException",
                      "Event bus name must not contain '/'.");
        return;
    }
    char errstr[ERRSTR_SIZE] = "";
    char *arn = NULL;
    evb_err_t err =
        evb_bus_create(svc, name, desc, &arn, errstr, sizeof errstr);
    if (!err && ntags)
        err = evb_tags_put(svc, arn, tags, ntags, errstr, sizeof errstr);
    if (err) {
        free(arn);
        evb__api_fail_err(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_init(&w, call);
    evb__jw_open(&w, NULL, '{');
    evb__jw_str(&w, "EventBusArn", arn);
    evb__jw_str(&w, "Description", desc);
    evb__jw_close(&w, '}');
    evb__jw_done(call, &w);
    free(arn);
}

/*
 * UpdateEventBus {Name, KmsKeyIdentifier, Description, DeadLetterConfig,
 * LogConfig} -> {Arn, Name, Description}
 *
 * Name defaults to "default". Only the description is kept; without
 * Description the bus keeps the one it has.
 */
static void update_event_bus(evb__api_call_t *call) {
    const char *name, *desc, *kms;
    size_t len;
    top_string(call, "Name", "name", false, &SPEC_BUS_NAME, &name, &len);
    top_string(call, "Description", "description", false, &SPEC_DESCRIPTION,
               &desc, &len);
    top_string(call, "KmsKeyIdentifier", "kmsKeyIdentifier", false,
               &SPEC_KMS_KEY, &kms, &len);
    check_dead_letter_config(call, call->input, "deadLetterConfig");
    check_log_config(call);
    if (!evb__api_validated(call))
        return;
    evb_bus_service_t *svc = bus_service(call);
    if (!svc)
        return;
    if (!name)
        name = "default";
    char errstr[ERRSTR_SIZE] = "";
    evb_bus_info_t info = {0};
    /* a missing Description keeps the current one */
    evb_err_t err =
        evb_bus_update(svc, name, desc, &info, errstr, sizeof errstr);
    if (err) {
        evb__api_fail_err(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_init(&w, call);
    evb__jw_open(&w, NULL, '{');
    evb__jw_str(&w, "Arn", info.arn);
    evb__jw_str(&w, "Name", info.name);
    evb__jw_str(&w, "Description", info.description);
    evb__jw_close(&w, '}');
    evb__jw_done(call, &w);
    evb_bus_info_free(&info);
}

/*
 * DeleteEventBus {Name*} -> (nothing)
 *
 * A missing bus is deleted successfully; "default" cannot be deleted
 * (ValidationException "Cannot delete event bus default.").
 */
static void delete_event_bus(evb__api_call_t *call) {
    const char *name;
    size_t len;
    top_string(call, "Name", "name", true, &SPEC_BUS_NAME, &name, &len);
    if (!evb__api_validated(call))
        return;
    evb_bus_service_t *svc = bus_service(call);
    if (!svc)
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_err_t err = evb_bus_delete(svc, name, errstr, sizeof errstr);
    if (err)
        evb__api_fail_err(call, err, errstr);
}

/* The members of an EventBus in DescribeEventBus and ListEventBuses. */
static void write_bus(evb__jw_t *w, const evb_bus_info_t *b) {
    evb__jw_str(w, "Name", b->name);
    evb__jw_str(w, "Arn", b->arn);
    evb__jw_str(w, "Description", b->description);
    evb__jw_int(w, "CreationTime", b->created);
    evb__jw_int(w, "LastModifiedTime", b->modified);
}

/*
 * DescribeEventBus {Name (name or ARN)} -> {Name, Arn, Description,
 * CreationTime, LastModifiedTime}
 *
 * Without Name: the default bus. A missing bus: ResourceNotFoundException
 * "Event bus <name> does not exist.".
 */
static void describe_event_bus(evb__api_call_t *call) {
    const char *name;
    size_t len;
    top_string(call, "Name", "name", false, &SPEC_BUS_REF, &name, &len);
    if (!evb__api_validated(call))
        return;
    evb_bus_service_t *svc = bus_service(call);
    char bus[BUS_NAME_SIZE];
    if (!svc || !resolve_bus(call, svc, name, bus))
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_bus_info_t info = {0};
    evb_err_t err = evb_bus_describe(svc, bus, &info, errstr, sizeof errstr);
    if (err) {
        evb__api_fail_err(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_init(&w, call);
    evb__jw_open(&w, NULL, '{');
    write_bus(&w, &info);
    evb__jw_close(&w, '}');
    evb__jw_done(call, &w);
    evb_bus_info_free(&info);
}

/*
 * ListEventBuses {NamePrefix, NextToken, Limit (1..100)} -> {EventBuses,
 * NextToken}
 */
static void list_event_buses(evb__api_call_t *call) {
    const char *prefix;
    size_t len;
    evb__api_page_t pg;
    top_string(call, "NamePrefix", "namePrefix", false, &SPEC_BUS_NAME, &prefix,
               &len);
    evb__api_paging(call, &pg);
    if (!evb__api_validated(call))
        return;
    evb_bus_service_t *svc = bus_service(call);
    if (!svc)
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_bus_info_t *items = NULL;
    size_t n = 0;
    char *next = NULL;
    evb_err_t err = evb_bus_list(svc, prefix, pg.next_token, pg.limit, &items,
                                 &n, &next, errstr, sizeof errstr);
    if (err) {
        evb__api_fail_err(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_list_begin(&w, call, "EventBuses");
    for (size_t i = 0; i < n; i++) {
        evb__jw_open(&w, NULL, '{');
        write_bus(&w, &items[i]);
        evb__jw_close(&w, '}');
        evb_bus_info_free(&items[i]);
    }
    evb__jw_list_end(call, &w, next);
    free(items);
    free(next);
}

/* ---- events -------------------------------------------------------------- */

/* Time: epoch seconds as a JSON number (fractions dropped); years 1 to
 * 9999, what an ISO-8601 event time can say. */
#define TIME_MIN (-62135596800LL)
#define TIME_MAX 253402300799LL

/* Check one PutEventsRequestEntry against the model and fill *e from it. */
static void read_put_entry(evb__api_call_t *call, const evb_jval_t *obj,
                           size_t idx, evb_put_entry_t *e) {
    char p[128];
    const char *s;
    size_t len;
    memset(e, 0, sizeof *e);
    if (obj->type != EVB_JSON_OBJECT) {
        fail_type(call, "Entries", K_STRUCT, obj);
        return;
    }
    const evb_jval_t *t = get(call, obj, "Time", K_TIMESTAMP, NULL);
    if (t) {
        double d = strtod(t->u.str.s, NULL);
        if (!isfinite(d) || d < (double)TIME_MIN || d >= (double)TIME_MAX + 1) {
            evb__api_fail(call, 400, "SerializationException",
                          "Timestamp %s for member 'Time' is out of range",
                          t->u.str.s);
            return;
        }
        e->has_time = true;
        e->time = (int64_t)floor(d);
    }
    if (nested_string(call, obj, "Source", "", false, &SPEC_STRING, &s, &len))
        e->source = s;
    if (nested_string(call, obj, "DetailType", "", false, &SPEC_STRING, &s,
                      &len))
        e->detail_type = s;
    if (nested_string(call, obj, "Detail", "", false, &SPEC_STRING, &s, &len)) {
        e->detail = s;
        e->detail_len = len;
    }
    if (nested_string(
            call, obj, "EventBusName",
            pathf(p, sizeof p, "entries.%zu.member.eventBusName", idx), false,
            &SPEC_BUS_REF_NP, &s, &len))
        e->bus = s;
    if (nested_string(call, obj, "TraceHeader",
                      pathf(p, sizeof p, "entries.%zu.member.traceHeader", idx),
                      false, &SPEC_TRACE_HEADER, &s, &len))
        e->trace_header = s;
    const evb_jval_t *res = get(call, obj, "Resources", K_LIST, NULL);
    if (res &&
        check_string_list(
            call, res, "Resources",
            pathf(p, sizeof p, "entries.%zu.member.resources", idx),
            &SPEC_EVENT_RESOURCE) &&
        res->u.arr.n) {
        const char **r = evb_arena_calloc(call->arena, res->u.arr.n, sizeof *r);
        if (!r) {
            evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
            return;
        }
        for (size_t i = 0; i < res->u.arr.n; i++)
            if (res->u.arr.items[i]->type == EVB_JSON_STRING)
                r[e->nresources++] = res->u.arr.items[i]->u.str.s;
        e->resources = r;
    }
}

/*
 * PutEvents {Entries* (1..10), EndpointId} -> {FailedEntryCount, Entries}
 *
 * Request-level problems are ValidationExceptions: the number of entries
 * (the message quotes them all, as AWS does), an entry member breaking
 * the model, and the bus's own ("Total size of the entries in the request
 * is over the limit."). Everything else is per entry: each result has an
 * EventId, or an ErrorCode and ErrorMessage (the bus decides). Events for
 * a bus that does not exist are acknowledged and dropped, as on AWS. Once
 * the events are committed the delivery worker is woken.
 */
static void put_events(evb__api_call_t *call) {
    const char *endpoint;
    size_t len;
    const evb_jval_t *list =
        get(call, call->input, "Entries", K_LIST, "entries");
    top_string(call, "EndpointId", "endpointId", false, &SPEC_ENDPOINT_ID,
               &endpoint, &len);
    evb_put_entry_t entries[10];
    size_t n = 0;
    if (list) {
        check_list_len(call, list, "entries", 1, 10, "PutEventsRequestEntry");
        for (size_t i = 0; i < list->u.arr.n && !call->status; i++) {
            evb_put_entry_t scratch;
            read_put_entry(call, list->u.arr.items[i], i + 1,
                           i < 10 ? &entries[i] : &scratch);
        }
        n = list->u.arr.n;
    }
    if (!evb__api_validated(call))
        return;
    evb_bus_service_t *svc = bus_service(call);
    if (!svc)
        return;
    evb_put_result_t results[10];
    size_t failed = 0;
    char errstr[ERRSTR_SIZE] = "";
    evb_err_t err = evb_bus_put_events(svc, entries, n, results, &failed,
                                       errstr, sizeof errstr);
    if (err) {
        evb__api_fail_err(call, err, errstr);
        return;
    }
    if (call->api->delivery && failed < n)
        evb_delivery_kick(call->api->delivery);
    evb__jw_t w;
    evb__jw_init(&w, call);
    evb__jw_open(&w, NULL, '{');
    evb__jw_int(&w, "FailedEntryCount", (int64_t)failed);
    evb__jw_open(&w, "Entries", '[');
    for (size_t i = 0; i < n; i++) {
        evb__jw_open(&w, NULL, '{');
        if (results[i].error_code) {
            evb__jw_str(&w, "ErrorCode", results[i].error_code);
            evb__jw_str(&w, "ErrorMessage", results[i].error_message);
        } else {
            evb__jw_str(&w, "EventId", results[i].event_id);
        }
        evb__jw_close(&w, '}');
    }
    evb__jw_close(&w, ']');
    evb__jw_close(&w, '}');
    evb__jw_done(call, &w);
}

/*
 * TestEventPattern {EventPattern*, Event*} -> {Result}
 *
 * Checks in AWS's order: both members present (ValidationException "...
 * Member must not be null"), the pattern's modelled length, then the
 * event (a JSON object with id, source, detail-type, account, region and
 * time, else ValidationException "Parameter Event is not valid."), then
 * the pattern (InvalidEventPatternException with the engine's reason).
 * Needs no bus.
 */
static void test_event_pattern(evb__api_call_t *call) {
    const char *pattern, *event;
    size_t plen, elen;
    evb__api_string_member(call, "EventPattern", "eventPattern", true,
                           SPEC_EVENT_PATTERN.max, &pattern, &plen);
    evb__api_string_member(call, "Event", "event", true, 0, &event, &elen);
    if (!evb__api_validated(call))
        return;

    char errstr[1024] = "";
    evb_err_t err =
        evb_event_check_envelope(event, elen, errstr, sizeof errstr);
    bool matched = false;
    if (!err)
        err = evb_pattern_test(pattern, plen, event, elen, NULL, &matched,
                               errstr, sizeof errstr);
    switch (err) {
    case EVB_ERR_OK: break;
    case EVB_ERR_INVALID_EVENT:
        /* AWS says only this, whatever is wrong with the event */
        evb__api_fail_err(call, err, "Parameter Event is not valid.");
        return;
    case EVB_ERR_INVALID_EVENT_PATTERN:
        evb__api_fail_err(call, err, errstr);
        return;
    default:
        /* out of memory or an engine bug: InternalException, 500 */
        evb__api_fail(call, 500, "InternalException", "%s",
                      evb_err_message(err));
        return;
    }
    const char *out = matched ? "{\"Result\":true}" : "{\"Result\":false}";
    if (evb_buf_append(call->out, out, strlen(out)))
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
}

/* ---- rules --------------------------------------------------------------- */

/* A rule was created, changed or removed: scheduled rules may be due. */
static void rules_changed(evb__api_call_t *call) {
    if (call->api->scheduler)
        evb_scheduler_kick(call->api->scheduler);
}

/* Is there a rule name on bus? (for PutRule's Tags, kept only on create) */
static bool rule_exists(evb_bus_service_t *svc, const char *bus,
                        const char *name) {
    evb_rule_info_t r = {0};
    char errstr[ERRSTR_SIZE];
    bool exists = evb_rule_describe(svc, bus, name, &r, errstr,
                                    sizeof errstr) == EVB_ERR_OK;
    evb_rule_info_free(&r);
    return exists;
}

/*
 * PutRule {Name*, ScheduleExpression, EventPattern, State, Description,
 * RoleArn, Tags, EventBusName} -> {RuleArn}
 *
 * Create or replace: members left out are cleared; Tags apply only when
 * the rule is created. A schedule of the wrong shape: ValidationException
 * "Parameter ScheduleExpression is not valid.". The bus checks the rest
 * (pattern or schedule required, the pattern, schedules only on the
 * default bus, the bus exists).
 */
static void put_rule(evb__api_call_t *call) {
    const char *name, *schedule, *pattern, *state, *desc, *role, *busref;
    size_t len, schedule_len;
    evb_tag_t *tags;
    size_t ntags;
    top_string(call, "Name", "name", true, &SPEC_RULE_NAME, &name, &len);
    top_string(call, "ScheduleExpression", "scheduleExpression", false,
               &SPEC_SCHEDULE, &schedule, &schedule_len);
    top_string(call, "EventPattern", "eventPattern", false, &SPEC_EVENT_PATTERN,
               &pattern, &len);
    if (top_string(call, "State", "state", false, &SPEC_STRING, &state, &len))
        check_enum(call, state, len, "state", RULE_STATES,
                   EVB_ARRAY_LEN(RULE_STATES));
    top_string(call, "Description", "description", false, &SPEC_DESCRIPTION,
               &desc, &len);
    top_string(call, "RoleArn", "roleArn", false, &SPEC_ARN, &role, &len);
    get_tags(call, "Tags", "tags", false, &tags, &ntags);
    top_string(call, "EventBusName", "eventBusName", false, &SPEC_BUS_REF,
               &busref, &len);
    if (!evb__api_validated(call))
        return;
    evb_bus_service_t *svc = bus_service(call);
    char bus[BUS_NAME_SIZE];
    if (!svc || !resolve_bus(call, svc, busref, bus))
        return;
    if (schedule &&
        evb_schedule_validate(schedule, schedule_len, NULL, 0) != EVB_ERR_OK) {
        evb__api_fail(call, 400, "ValidationException",
                      "Parameter ScheduleExpression is not valid.");
        return;
    }
    bool created = ntags && !rule_exists(svc, bus, name);
    evb_rule_info_t in = {
        .bus = bus,
        .name = (char *)name,
        .event_pattern = (char *)pattern,
        .schedule = (char *)schedule,
        .state = (char *)state,
        .description = (char *)desc,
        .role_arn = (char *)role,
    };
    char errstr[ERRSTR_SIZE] = "";
    char *arn = NULL;
    evb_err_t err = evb_rule_put(svc, &in, &arn, errstr, sizeof errstr);
    if (!err)
        rules_changed(call);
    if (!err && created)
        err = evb_tags_put(svc, arn, tags, ntags, errstr, sizeof errstr);
    if (err) {
        free(arn);
        evb__api_fail_err(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_init(&w, call);
    evb__jw_open(&w, NULL, '{');
    evb__jw_str(&w, "RuleArn", arn);
    evb__jw_close(&w, '}');
    evb__jw_done(call, &w);
    free(arn);
}

/* The members of a Rule in DescribeRule and ListRules. */
static void write_rule(evb__jw_t *w, const evb_rule_info_t *r) {
    evb__jw_str(w, "Name", r->name);
    evb__jw_str(w, "Arn", r->arn);
    evb__jw_str(w, "EventPattern", r->event_pattern);
    evb__jw_str(w, "ScheduleExpression", r->schedule);
    evb__jw_str(w, "State", r->state);
    evb__jw_str(w, "Description", r->description);
    evb__jw_str(w, "RoleArn", r->role_arn);
    evb__jw_str(w, "EventBusName", r->bus);
}

/* The rule name and EventBusName members of the single-rule actions,
 * read and checked against the model (the rest of the request may add
 * violations before rule_ref_resolve). */
typedef struct rule_ref {
    const char *name, *busref;
    evb_bus_service_t *svc;
    char bus[BUS_NAME_SIZE]; /* the resolved bus name */
} rule_ref_t;

static void rule_ref_read(evb__api_call_t *call, const char *name_member,
                          const char *name_path, rule_ref_t *r) {
    size_t len;
    top_string(call, name_member, name_path, true, &SPEC_RULE_NAME, &r->name,
               &len);
    top_string(call, "EventBusName", "eventBusName", false, &SPEC_BUS_REF,
               &r->busref, &len);
}

/* After the request's members are read: the ValidationException if any,
 * the bus service and the bus name. False when the call failed. */
static bool rule_ref_resolve(evb__api_call_t *call, rule_ref_t *r) {
    if (!evb__api_validated(call))
        return false;
    r->svc = bus_service(call);
    return r->svc && resolve_bus(call, r->svc, r->busref, r->bus);
}

static bool rule_ref(evb__api_call_t *call, rule_ref_t *r) {
    rule_ref_read(call, "Name", "name", r);
    return rule_ref_resolve(call, r);
}

/*
 * DescribeRule {Name*, EventBusName} -> {Name, Arn, EventPattern,
 * ScheduleExpression, State, Description, RoleArn, EventBusName,
 * CreatedBy}
 *
 * CreatedBy is this account. A missing rule: ResourceNotFoundException
 * "Rule <name> does not exist on EventBus <bus>.".
 */
static void describe_rule(evb__api_call_t *call) {
    rule_ref_t ref;
    if (!rule_ref(call, &ref))
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_rule_info_t r = {0};
    evb_err_t err = evb_rule_describe(ref.svc, ref.bus, ref.name, &r, errstr,
                                      sizeof errstr);
    if (err) {
        evb__api_fail_err(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_init(&w, call);
    evb__jw_open(&w, NULL, '{');
    write_rule(&w, &r);
    evb__jw_str(&w, "CreatedBy", evb_bus_account(ref.svc));
    evb__jw_close(&w, '}');
    evb__jw_done(call, &w);
    evb_rule_info_free(&r);
}

/*
 * DeleteRule {Name*, EventBusName, Force} -> (nothing)
 *
 * A rule with targets: ValidationException "Rule can't be deleted since
 * it has targets."; a missing rule is deleted successfully. Force only
 * matters for managed rules, which evbus does not have.
 */
static void delete_rule(evb__api_call_t *call) {
    rule_ref_t ref;
    rule_ref_read(call, "Name", "name", &ref);
    (void)get(call, call->input, "Force", K_BOOLEAN, NULL);
    if (!rule_ref_resolve(call, &ref))
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_err_t err =
        evb_rule_delete(ref.svc, ref.bus, ref.name, errstr, sizeof errstr);
    if (err)
        evb__api_fail_err(call, err, errstr);
    else
        rules_changed(call);
}

/*
 * ListRules {NamePrefix, EventBusName, NextToken, Limit} -> {Rules,
 * NextToken}
 */
static void list_rules(evb__api_call_t *call) {
    const char *prefix, *busref;
    size_t len;
    evb__api_page_t pg;
    top_string(call, "NamePrefix", "namePrefix", false, &SPEC_RULE_NAME,
               &prefix, &len);
    top_string(call, "EventBusName", "eventBusName", false, &SPEC_BUS_REF,
               &busref, &len);
    evb__api_paging(call, &pg);
    if (!evb__api_validated(call))
        return;
    evb_bus_service_t *svc = bus_service(call);
    char bus[BUS_NAME_SIZE];
    if (!svc || !resolve_bus(call, svc, busref, bus))
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_rule_info_t *items = NULL;
    size_t n = 0;
    char *next = NULL;
    evb_err_t err = evb_rule_list(svc, bus, prefix, pg.next_token, pg.limit,
                                  &items, &n, &next, errstr, sizeof errstr);
    if (err) {
        evb__api_fail_err(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_list_begin(&w, call, "Rules");
    for (size_t i = 0; i < n; i++) {
        evb__jw_open(&w, NULL, '{');
        write_rule(&w, &items[i]);
        evb__jw_close(&w, '}');
        evb_rule_info_free(&items[i]);
    }
    evb__jw_list_end(call, &w, next);
    free(items);
    free(next);
}

static void set_rule_enabled(evb__api_call_t *call, bool enabled) {
    rule_ref_t ref;
    if (!rule_ref(call, &ref))
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_err_t err = evb_rule_set_enabled(ref.svc, ref.bus, ref.name, enabled,
                                         errstr, sizeof errstr);
    if (err)
        evb__api_fail_err(call, err, errstr);
    else
        rules_changed(call);
}

/* EnableRule {Name*, EventBusName} -> (nothing) */
static void enable_rule(evb__api_call_t *call) {
    set_rule_enabled(call, true);
}

/* DisableRule {Name*, EventBusName} -> (nothing) */
static void disable_rule(evb__api_call_t *call) {
    set_rule_enabled(call, false);
}

/* ---- targets ------------------------------------------------------------- */

/* The members of the model's Target shape; a stored target keeps these
 * and drops anything else a client sends. */
static const char *const TARGET_MEMBERS[] = {
    "Id",
    "Arn",
    "RoleArn",
    "Input",
    "InputPath",
    "InputTransformer",
    "KinesisParameters",
    "RunCommandParameters",
    "EcsParameters",
    "BatchParameters",
    "SqsParameters",
    "HttpParameters",
    "RedshiftDataParameters",
    "SageMakerPipelineParameters",
    "DeadLetterConfig",
    "RetryPolicy",
    "AppSyncParameters",
    "KafkaParameters", /* evbus: Kafka topic targets (delivery.h) */
};

/* Structure members checked only for their type. */
static const char *const TARGET_STRUCTS[] = {
    "InputTransformer",
    "RunCommandParameters",
    "EcsParameters",
    "BatchParameters",
    "HttpParameters",
    "RedshiftDataParameters",
    "SageMakerPipelineParameters",
    "AppSyncParameters",
    "KafkaParameters",
};

static bool target_member(const char *key, size_t klen) {
    for (size_t i = 0; i < EVB_ARRAY_LEN(TARGET_MEMBERS); i++)
        if (strlen(TARGET_MEMBERS[i]) == klen &&
            memcmp(TARGET_MEMBERS[i], key, klen) == 0)
            return true;
    return false;
}

/* HttpParameters of target number idx: PathParameterValues (a list of
 * PathParameter), HeaderParameters (HeaderKey -> HeaderValue) and
 * QueryStringParameters (QueryStringKey -> QueryStringValue). */
static void check_http_parameters(evb__api_call_t *call, const evb_jval_t *hp,
                                  size_t idx) {
    char p[160];
    const evb_jval_t *v = get(call, hp, "PathParameterValues", K_LIST, NULL);
    if (v &&
        !check_string_list(
            call, v, "PathParameterValues",
            pathf(p, sizeof p,
                  "targets.%zu.member.httpParameters.pathParameterValues", idx),
            &SPEC_PATH_PARAM))
        return;
    v = get(call, hp, "HeaderParameters", K_STRUCT, NULL);
    if (v &&
        !check_string_map(
            call, v, "HeaderParameters",
            pathf(p, sizeof p,
                  "targets.%zu.member.httpParameters.headerParameters", idx),
            &SPEC_HEADER_KEY, &SPEC_HEADER_VALUE))
        return;
    v = get(call, hp, "QueryStringParameters", K_STRUCT, NULL);
    if (v)
        check_string_map(
            call, v, "QueryStringParameters",
            pathf(p, sizeof p,
                  "targets.%zu.member.httpParameters.queryStringParameters",
                  idx),
            &SPEC_QUERY_KEY, &SPEC_QUERY_VALUE);
}

/*
 * Check target number idx (1-based) against the Target shape: Id and Arn
 * (required), RoleArn, the types of the other members, and the limits of
 * KinesisParameters, SqsParameters, HttpParameters, DeadLetterConfig and
 * RetryPolicy.
 * Input, InputPath and InputTransformer are the transform module's (it
 * words their model violations too). Returns false if the call failed.
 */
static bool check_target(evb__api_call_t *call, const evb_jval_t *t,
                         size_t idx) {
    char p[160];
    const char *s;
    size_t len;
    long long v;
    if (t->type != EVB_JSON_OBJECT) {
        fail_type(call, "Targets", K_STRUCT, t);
        return false;
    }
    nested_string(call, t, "Id",
                  pathf(p, sizeof p, "targets.%zu.member.id", idx), true,
                  &SPEC_TARGET_ID, &s, &len);
    nested_string(call, t, "Arn",
                  pathf(p, sizeof p, "targets.%zu.member.arn", idx), true,
                  &SPEC_ARN, &s, &len);
    nested_string(call, t, "RoleArn",
                  pathf(p, sizeof p, "targets.%zu.member.roleArn", idx), false,
                  &SPEC_ARN, &s, &len);
    (void)get(call, t, "Input", K_STRING, NULL);
    (void)get(call, t, "InputPath", K_STRING, NULL);
    for (size_t i = 0; i < EVB_ARRAY_LEN(TARGET_STRUCTS); i++)
        (void)get(call, t, TARGET_STRUCTS[i], K_STRUCT, NULL);
    const evb_jval_t *o = get(call, t, "KinesisParameters", K_STRUCT, NULL);
    if (o)
        nested_string(call, o, "PartitionKeyPath",
                      pathf(p, sizeof p,
                            "targets.%zu.member.kinesisParameters."
                            "partitionKeyPath",
                            idx),
                      true, &SPEC_PARTITION_KEY_PATH, &s, &len);
    if ((o = get(call, t, "SqsParameters", K_STRUCT, NULL)))
        nested_string(call, o, "MessageGroupId",
                      pathf(p, sizeof p,
                            "targets.%zu.member.sqsParameters.messageGroupId",
                            idx),
                      false, &SPEC_MESSAGE_GROUP_ID, &s, &len);
    if ((o = get(call, t, "HttpParameters", K_STRUCT, NULL)))
        check_http_parameters(call, o, idx);
    check_dead_letter_config(
        call, t,
        pathf(p, sizeof p, "targets.%zu.member.deadLetterConfig", idx));
    if ((o = get(call, t, "RetryPolicy", K_STRUCT, NULL))) {
        evb__api_int_member(
            call, o, "MaximumRetryAttempts",
            pathf(p, sizeof p,
                  "targets.%zu.member.retryPolicy.maximumRetryAttempts", idx),
            0, 185, &v);
        evb__api_int_member(call, o, "MaximumEventAgeInSeconds",
                            pathf(p, sizeof p,
                                  "targets.%zu.member.retryPolicy."
                                  "maximumEventAgeInSeconds",
                                  idx),
                            60, 86400, &v);
    }
    return !call->status;
}

/* arn:partition:service:region:account:resource, with partition, service
 * and resource not empty (region and account may be). */
static bool arn_well_formed(const char *arn) {
    if (strncmp(arn, "arn:", 4) != 0)
        return false;
    const char *f[6];
    size_t nf = 0;
    const char *p = arn;
    f[nf++] = p;
    while (nf < 6 && (p = strchr(p, ':'))) {
        p++;
        f[nf++] = p;
    }
    return nf == 6 && f[2] - f[1] > 1 && f[3] - f[2] > 1 && *f[5];
}

/* arn:<partition>:sqs:<region>:<12 digits>:<queue name>, the name 1 to 80
 * of [A-Za-z0-9_-] (a FIFO queue's ends in .fifo). */
static bool is_sqs_queue_arn(const char *arn) {
    if (!arn_well_formed(arn))
        return false;
    const char *svc = strchr(arn + 4, ':');
    if (strncmp(svc, ":sqs:", 5) != 0)
        return false;
    const char *region = svc + 5, *acct = strchr(region, ':');
    if (!acct || acct == region)
        return false;
    acct++;
    for (int i = 0; i < 12; i++)
        if (acct[i] < '0' || acct[i] > '9')
            return false;
    if (acct[12] != ':')
        return false;
    const char *name = acct + 13;
    size_t n = strlen(name), body = n;
    if (n > 5 && strcmp(name + n - 5, ".fifo") == 0)
        body = n - 5;
    if (n > 80 || body == 0)
        return false;
    for (size_t i = 0; i < body; i++)
        if (!is_alnum(name[i]) && name[i] != '-' && name[i] != '_')
            return false;
    return true;
}

static bool is_logs_arn(const char *arn) {
    const char *svc = strchr(arn + 4, ':');
    return svc && strncmp(svc, ":logs:", 6) == 0;
}

/* The target as stored: its model members, in request order, compact,
 * without JSON nulls (a repeated key: the last wins). NULL if memory ran
 * out. */
static char *target_spec(evb__api_call_t *call, const evb_jval_t *t) {
    evb_buf_t b;
    evb_buf_init(&b, 0);
    evb_err_t err = evb_buf_putc(&b, '{');
    bool first = true;
    for (size_t i = 0; i < t->u.obj.n && !err; i++) {
        const evb_jmember_t *m = &t->u.obj.members[i];
        if (m->val->type == EVB_JSON_NULL || !target_member(m->key, m->klen))
            continue;
        bool later = false;
        for (size_t j = i + 1; j < t->u.obj.n && !later; j++)
            later = t->u.obj.members[j].klen == m->klen &&
                    memcmp(t->u.obj.members[j].key, m->key, m->klen) == 0;
        if (later)
            continue;
        if (!first)
            err = evb_buf_putc(&b, ',');
        first = false;
        if (!err)
            err = evb_json_append_string(&b, m->key, m->klen);
        if (!err)
            err = evb_buf_putc(&b, ':');
        if (!err)
            err = evb_json_append_compact(&b, m->val->src, m->val->src_len);
    }
    if (!err)
        err = evb_buf_putc(&b, '}');
    char *spec = err ? NULL : evb_arena_strndup(call->arena, b.data, b.len);
    evb_buf_free(&b);
    return spec;
}

/* FailedEntryCount and FailedEntries of PutTargets and RemoveTargets. */
static void write_target_failures(evb__api_call_t *call,
                                  const evb_target_failure_t *f, size_t n) {
    evb__jw_t w;
    evb__jw_init(&w, call);
    evb__jw_open(&w, NULL, '{');
    evb__jw_int(&w, "FailedEntryCount", (int64_t)n);
    evb__jw_open(&w, "FailedEntries", '[');
    for (size_t i = 0; i < n; i++) {
        evb__jw_open(&w, NULL, '{');
        evb__jw_str(&w, "TargetId", f[i].id);
        evb__jw_str(&w, "ErrorCode", f[i].code);
        evb__jw_str(&w, "ErrorMessage", f[i].message);
        evb__jw_close(&w, '}');
    }
    evb__jw_close(&w, ']');
    evb__jw_close(&w, '}');
    evb__jw_done(call, &w);
}

/*
 * PutTargets {Rule*, EventBusName, Targets* (1..100)} -> {FailedEntryCount,
 * FailedEntries}
 *
 * After the model: each target's Arn must look like an ARN
 * (ValidationException "Parameter <arn> is not valid. Reason: Provided
 * Arn is not in correct format."), its DeadLetterConfig.Arn must name an
 * SQS queue (ValidationException "Parameter DeadLetterConfig.Arn is not
 * valid. Reason: Provide a valid SQS queue ARN."; the reference records
 * no AWS wording for this one, so it takes the form of the other), and
 * its Input, InputPath or InputTransformer must compile (the transform
 * module's ValidationExceptions, plus the CloudWatch Logs template rule
 * for arn:...:logs: targets); the first target that fails fails the
 * request.
 * The bus then adds or replaces the targets by Id; a rule that would have
 * more than five fails with LimitExceededException. Each target is stored
 * as its compact JSON object.
 */
static void put_targets(evb__api_call_t *call) {
    rule_ref_t ref;
    rule_ref_read(call, "Rule", "rule", &ref);
    const evb_jval_t *list =
        get(call, call->input, "Targets", K_LIST, "targets");
    if (list) {
        check_list_len(call, list, "targets", 1, 100, "Target");
        for (size_t i = 0; i < list->u.arr.n; i++)
            if (!check_target(call, list->u.arr.items[i], i + 1))
                return;
    }
    if (!rule_ref_resolve(call, &ref))
        return;
    size_t n = list->u.arr.n;
    evb_target_info_t *targets =
        evb_arena_calloc(call->arena, n, sizeof *targets);
    if (!targets) {
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
        return;
    }
    char errstr[ERRSTR_SIZE] = "";
    for (size_t i = 0; i < n; i++) {
        const evb_jval_t *t = list->u.arr.items[i];
        const char *id = evb__api_member(t, "Id")->u.str.s;
        const char *arn = evb__api_member(t, "Arn")->u.str.s;
        if (!arn_well_formed(arn)) {
            evb__api_fail(call, 400, "ValidationException",
                          "Parameter %s is not valid. Reason: Provided Arn "
                          "is not in correct format.",
                          arn);
            return;
        }
        const evb_jval_t *dlc = evb__api_member(t, "DeadLetterConfig"),
                         *dlq = NULL;
        if (dlc && dlc->type == EVB_JSON_OBJECT)
            dlq = evb__api_member(dlc, "Arn");
        if (dlq && dlq->type == EVB_JSON_STRING &&
            (strlen(dlq->u.str.s) != dlq->u.str.len ||
             !is_sqs_queue_arn(dlq->u.str.s))) {
            evb__api_fail(call, 400, "ValidationException",
                          "Parameter DeadLetterConfig.Arn is not valid. "
                          "Reason: Provide a valid SQS queue ARN.");
            return;
        }
        evb_transform_t *tf = NULL;
        evb_err_t err = evb_transform_compile_json(
            t->src, t->src_len, (unsigned)(i + 1), &tf, errstr, sizeof errstr);
        if (!err && is_logs_arn(arn))
            err = evb_transform_check_log_target(tf, errstr, sizeof errstr);
        if (!err && strncmp(arn, "arn:aws:kafka:", 14) == 0)
            err = evb_delivery_kafka_target_check(id, arn, t->src, t->src_len,
                                                  errstr, sizeof errstr);
        evb_transform_free(tf);
        if (err) {
            evb__api_fail_err(call, err, errstr);
            return;
        }
        targets[i].id = (char *)id;
        targets[i].arn = (char *)arn;
        if (!(targets[i].spec = target_spec(call, t))) {
            evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
            return;
        }
    }
    evb_target_failure_t *failed = NULL;
    size_t nfailed = 0;
    evb_err_t err = evb_targets_put(ref.svc, ref.bus, ref.name, targets, n,
                                    &failed, &nfailed, errstr, sizeof errstr);
    if (err)
        evb__api_fail_err(call, err, errstr);
    else
        write_target_failures(call, failed, nfailed);
    evb_target_failures_free(failed, nfailed);
}

/*
 * RemoveTargets {Rule*, EventBusName, Ids* (1..100), Force} ->
 * {FailedEntryCount, FailedEntries}
 *
 * Removing an Id the rule does not have succeeds.
 */
static void remove_targets(evb__api_call_t *call) {
    rule_ref_t ref;
    rule_ref_read(call, "Rule", "rule", &ref);
    const evb_jval_t *list = get(call, call->input, "Ids", K_LIST, "ids");
    if (list) {
        check_list_len(call, list, "ids", 1, 100, NULL);
        if (!check_string_list(call, list, "Ids", "ids", &SPEC_TARGET_ID))
            return;
    }
    (void)get(call, call->input, "Force", K_BOOLEAN, NULL);
    if (!rule_ref_resolve(call, &ref))
        return;
    size_t n = list->u.arr.n;
    const char **ids = evb_arena_calloc(call->arena, n, sizeof *ids);
    if (!ids) {
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++)
        ids[i] = list->u.arr.items[i]->u.str.s;
    char errstr[ERRSTR_SIZE] = "";
    evb_target_failure_t *failed = NULL;
    size_t nfailed = 0;
    evb_err_t err =
        evb_targets_remove(ref.svc, ref.bus, ref.name, ids, n, &failed,
                           &nfailed, errstr, sizeof errstr);
    if (err)
        evb__api_fail_err(call, err, errstr);
    else
        write_target_failures(call, failed, nfailed);
    evb_target_failures_free(failed, nfailed);
}

/* One stored target as a Target: Id and Arn from the bus, then every
 * other member of its stored JSON object, so Input, InputPath and
 * InputTransformer come back as they were put. */
static void write_target(evb__api_call_t *call, evb__jw_t *w,
                         const evb_target_info_t *t) {
    evb__jw_open(w, NULL, '{');
    evb__jw_str(w, "Id", t->id);
    evb__jw_str(w, "Arn", t->arn);
    evb_jval_t *spec = NULL;
    if (t->spec &&
        evb_json_parse(call->arena, t->spec, strlen(t->spec), SPEC_MAX_DEPTH,
                       &spec, NULL, 0) == EVB_ERR_OK &&
        spec->type == EVB_JSON_OBJECT) {
        for (size_t i = 0; i < spec->u.obj.n; i++) {
            const evb_jmember_t *m = &spec->u.obj.members[i];
            bool is_id = m->klen == 2 && memcmp(m->key, "Id", 2) == 0;
            bool is_arn = m->klen == 3 && memcmp(m->key, "Arn", 3) == 0;
            if (is_id || is_arn || m->val->type == EVB_JSON_NULL)
                continue;
            evb__jw_json(w, m->key, m->klen, m->val->src, m->val->src_len);
        }
    }
    evb__jw_close(w, '}');
}

/*
 * ListTargetsByRule {Rule*, EventBusName, NextToken, Limit} -> {Targets,
 * NextToken}
 */
static void list_targets_by_rule(evb__api_call_t *call) {
    rule_ref_t ref;
    evb__api_page_t pg;
    rule_ref_read(call, "Rule", "rule", &ref);
    evb__api_paging(call, &pg);
    if (!rule_ref_resolve(call, &ref))
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_target_info_t *items = NULL;
    size_t n = 0;
    char *next = NULL;
    evb_err_t err =
        evb_targets_list(ref.svc, ref.bus, ref.name, pg.next_token, pg.limit,
                         &items, &n, &next, errstr, sizeof errstr);
    if (err) {
        evb__api_fail_err(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_list_begin(&w, call, "Targets");
    for (size_t i = 0; i < n; i++) {
        write_target(call, &w, &items[i]);
        evb_target_info_free(&items[i]);
    }
    evb__jw_list_end(call, &w, next);
    free(items);
    free(next);
}

/*
 * ListRuleNamesByTarget {TargetArn*, EventBusName, NextToken, Limit} ->
 * {RuleNames, NextToken}
 */
static void list_rule_names_by_target(evb__api_call_t *call) {
    const char *target_arn, *busref;
    size_t len;
    evb__api_page_t pg;
    top_string(call, "TargetArn", "targetArn", true, &SPEC_ARN, &target_arn,
               &len);
    top_string(call, "EventBusName", "eventBusName", false, &SPEC_BUS_REF,
               &busref, &len);
    evb__api_paging(call, &pg);
    if (!evb__api_validated(call))
        return;
    evb_bus_service_t *svc = bus_service(call);
    char bus[BUS_NAME_SIZE];
    if (!svc || !resolve_bus(call, svc, busref, bus))
        return;
    char errstr[ERRSTR_SIZE] = "";
    char **names = NULL;
    size_t n = 0;
    char *next = NULL;
    evb_err_t err =
        evb_rule_names_by_target(svc, bus, target_arn, pg.next_token, pg.limit,
                                 &names, &n, &next, errstr, sizeof errstr);
    if (err) {
        evb__api_fail_err(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_list_begin(&w, call, "RuleNames");
    for (size_t i = 0; i < n; i++) {
        evb__jw_str(&w, NULL, names[i]);
        free(names[i]);
    }
    evb__jw_list_end(call, &w, next);
    free(names);
    free(next);
}

/* ---- tags ---------------------------------------------------------------- */

/*
 * The bus's "not found" for a tagged resource, in EventBridge's words when
 * the ARN names a rule ("Rule <name> does not exist on EventBus <bus>.")
 * or a bus ("Event bus <name> does not exist.") of this account and
 * region; otherwise the bus's message.
 */
static void fail_tags(evb__api_call_t *call, evb_bus_service_t *svc,
                      const char *arn, evb_err_t err, const char *errstr) {
    if (err != EVB_ERR_NOT_FOUND) {
        evb__api_fail_err(call, err, errstr);
        return;
    }
    char prefix[256];
    int pl = snprintf(prefix, sizeof prefix,
                      "arn:aws:events:%s:%s:", evb_bus_region(svc),
                      evb_bus_account(svc));
    if (pl > 0 && (size_t)pl < sizeof prefix &&
        strncmp(arn, prefix, (size_t)pl) == 0) {
        const char *res = arn + pl;
        if (strncmp(res, "rule/", 5) == 0) {
            const char *name = res + 5, *slash = strchr(name, '/');
            if (slash)
                evb__api_fail(call, 400, "ResourceNotFoundException",
                              "Rule %s does not exist on EventBus %.*s.",
                              slash + 1, (int)(slash - name), name);
            else
                evb__api_fail(call, 400, "ResourceNotFoundException",
                              "Rule %s does not exist on EventBus default.",
                              name);
            return;
        }
        if (strncmp(res, "event-bus/", 10) == 0) {
            evb__api_fail(call, 400, "ResourceNotFoundException",
                          "Event bus %s does not exist.", res + 10);
            return;
        }
    }
    evb__api_fail_err(call, err, errstr);
}

/* TagResource {ResourceARN*, Tags*} -> {} (a bus or a rule) */
static void tag_resource(evb__api_call_t *call) {
    const char *arn;
    size_t len;
    evb_tag_t *tags;
    size_t ntags;
    top_string(call, "ResourceARN", "resourceARN", true, &SPEC_ARN, &arn, &len);
    get_tags(call, "Tags", "tags", true, &tags, &ntags);
    if (!evb__api_validated(call))
        return;
    evb_bus_service_t *svc = bus_service(call);
    if (!svc)
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_err_t err = evb_tags_put(svc, arn, tags, ntags, errstr, sizeof errstr);
    if (err)
        fail_tags(call, svc, arn, err, errstr);
    else
        out_empty_struct(call);
}

/* UntagResource {ResourceARN*, TagKeys*} -> {} */
static void untag_resource(evb__api_call_t *call) {
    const char *arn;
    size_t len;
    top_string(call, "ResourceARN", "resourceARN", true, &SPEC_ARN, &arn, &len);
    const evb_jval_t *list =
        get(call, call->input, "TagKeys", K_LIST, "tagKeys");
    if (list &&
        !check_string_list(call, list, "TagKeys", "tagKeys", &SPEC_TAG_KEY))
        return;
    if (!evb__api_validated(call))
        return;
    evb_bus_service_t *svc = bus_service(call);
    if (!svc)
        return;
    size_t n = list->u.arr.n;
    const char **keys = evb_arena_calloc(call->arena, n ? n : 1, sizeof *keys);
    if (!keys) {
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = list->u.arr.items[i]->u.str.s;
    char errstr[ERRSTR_SIZE] = "";
    evb_err_t err = evb_tags_remove(svc, arn, keys, n, errstr, sizeof errstr);
    if (err)
        fail_tags(call, svc, arn, err, errstr);
    else
        out_empty_struct(call);
}

/* ListTagsForResource {ResourceARN*} -> {Tags} */
static void list_tags_for_resource(evb__api_call_t *call) {
    const char *arn;
    size_t len;
    top_string(call, "ResourceARN", "resourceARN", true, &SPEC_ARN, &arn, &len);
    if (!evb__api_validated(call))
        return;
    evb_bus_service_t *svc = bus_service(call);
    if (!svc)
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_tag_t *tags = NULL;
    size_t n = 0;
    evb_err_t err = evb_tags_list(svc, arn, &tags, &n, errstr, sizeof errstr);
    if (err) {
        fail_tags(call, svc, arn, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_init(&w, call);
    evb__jw_open(&w, NULL, '{');
    evb__jw_open(&w, "Tags", '[');
    for (size_t i = 0; i < n; i++) {
        evb__jw_open(&w, NULL, '{');
        evb__jw_str(&w, "Key", tags[i].key);
        evb__jw_str(&w, "Value", tags[i].value);
        evb__jw_close(&w, '}');
    }
    evb__jw_close(&w, ']');
    evb__jw_close(&w, '}');
    evb__jw_done(call, &w);
    evb_tags_free(tags, n);
}

static const evb__api_action_t actions[] = {
    {"CreateEventBus", create_event_bus},
    {"UpdateEventBus", update_event_bus},
    {"DeleteEventBus", delete_event_bus},
    {"DescribeEventBus", describe_event_bus},
    {"ListEventBuses", list_event_buses},
    {"PutEvents", put_events},
    {"TestEventPattern", test_event_pattern},
    {"PutRule", put_rule},
    {"DescribeRule", describe_rule},
    {"DeleteRule", delete_rule},
    {"ListRules", list_rules},
    {"EnableRule", enable_rule},
    {"DisableRule", disable_rule},
    {"PutTargets", put_targets},
    {"RemoveTargets", remove_targets},
    {"ListTargetsByRule", list_targets_by_rule},
    {"ListRuleNamesByTarget", list_rule_names_by_target},
    {"TagResource", tag_resource},
    {"UntagResource", untag_resource},
    {"ListTagsForResource", list_tags_for_resource},
};

const evb__api_service_t evb__api_events_service = {
    .target_prefix = "AWSEvents",
    .content_type = "application/x-amz-json-1.1",
    .actions = actions,
    .n_actions = EVB_ARRAY_LEN(actions),
};
