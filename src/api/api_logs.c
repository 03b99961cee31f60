/*
 * api_logs.c: the CloudWatch Logs API subset (X-Amz-Target:
 * Logs_20140328.<Action>, AWS JSON 1.1) over the log groups and log
 * events that rule targets write into the store (delivery/target_logs.c):
 * enough for `aws logs tail`, `aws logs filter-log-events`, boto3's
 * paginators and the log group lifecycle.
 *
 * Design:
 * - There is no log stream table. A stream is the set of log events of a
 *   group that carry its name (target_logs.c writes one per event, named
 *   after the event id), so DescribeLogStreams aggregates log_events, and
 *   a stream exists exactly when it holds an event.
 * - Every page is read by keyset, never by offset: the token names the
 *   last key returned ((timestamp, seq) for events, the name for groups,
 *   (lastEventTimestamp, name) for streams), so a token stays valid and
 *   means the same thing while events arrive or groups come and go. Tokens
 *   are opaque to clients but strictly decoded; anything else is
 *   InvalidParameterException "The specified nextToken is invalid.".
 *   GetLogEvents tokens have AWS's f/... and b/... form, 56 digits.
 * - Validation follows the Logs model (botocore's logs 2014-03-28): member
 *   lengths, patterns and ranges are collected as AWS's "N validation
 *   error(s) detected: ..." message, which CloudWatch Logs returns as an
 *   InvalidParameterException (not the ValidationException of
 *   evb__api_validated), so every action checks with logs_validated.
 * - FilterLogEvents patterns: the empty pattern, plain terms (all must
 *   appear, case-sensitive substrings), "quoted phrases", ?term
 *   alternatives (at least one must appear) and -term exclusions. JSON
 *   ({ $.x = ... }), space-delimited ([a, b]) and %regex% patterns are
 *   refused with InvalidParameterException.
 * - Reads use evb_store_read, writes evb_store_write; SQL is static text
 *   with bound parameters only. Pages stop at 1 MiB of messages as AWS's
 *   do; FilterLogEvents examines at most FILTER_SCAN_MAX events per call
 *   and may then answer a partial (even empty) page with a nextToken, as
 *   AWS documents.
 *
 * Threading: actions keep no state outside the call; any number run at
 * once.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_internal.h"

/* Limits from the Logs model. */
#define GROUP_NAME_MAX 512
#define STREAM_NAME_MAX 512
#define GROUP_IDENTIFIER_MAX 2048
#define FILTER_PATTERN_MAX 1024
#define STREAM_NAMES_MAX 100
#define GROUP_IDENTIFIERS_MAX 50
#define DESCRIBE_LIMIT_MAX 50
#define EVENTS_LIMIT_MAX 10000
/* A page of events stops growing past this many message bytes (AWS: "up
 * to 1 MB"); it always holds at least one event. */
#define PAGE_BYTES_MAX (1024 * 1024)
/* FilterLogEvents reads candidate keys in chunks of this many and looks at
 * no more than FILTER_SCAN_MAX events per call. */
#define FILTER_CHUNK 1000
#define FILTER_SCAN_MAX 100000

#define INVALID_PARAMETER "InvalidParameterException"
#define GROUP_NOT_FOUND "The specified log group does not exist."
#define STREAM_NOT_FOUND "The specified log stream does not exist."
#define GROUP_EXISTS "The specified log group already exists"
#define BAD_TOKEN "The specified nextToken is invalid."

#define GROUP_NAME_PATTERN "[\\.\\-_/#A-Za-z0-9]+"
#define GROUP_NAME_PATTERN_STAR "[\\.\\-_/#A-Za-z0-9]*"
#define STREAM_NAME_PATTERN "[^:*]*"
#define GROUP_IDENTIFIER_PATTERN "[\\w#+=/:,.@-]*"

/* PutRetentionPolicy: the values CloudWatch Logs accepts. */
static const int retention_days[] = {
    1,   3,   5,   7,   14,   30,   60,   90,   120,  150,  180,
    365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};
#define RETENTION_SET                                                          \
    "[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, "   \
    "1827, 2192, 2557, 2922, 3288, 3653]"

/* ---- reading members --------------------------------------------------- */

/* The request's last member called name (evb__api_member); NULL when
 * absent or JSON null. */
static const evb_jval_t *input_member(const evb__api_call_t *call,
                                      const char *name) {
    const evb_jval_t *found = evb__api_member(call->input, name);
    return found && found->type != EVB_JSON_NULL ? found : NULL;
}

static void wrong_type(evb__api_call_t *call, const char *name,
                       const char *want, const evb_jval_t *v) {
    evb__api_fail(call, 400, "SerializationException",
                  "Expected %s for member '%s', found %s %s", want, name,
                  v->type == EVB_JSON_ARRAY || v->type == EVB_JSON_OBJECT ? "an"
                                                                          : "a",
                  evb_json_type_name(v->type));
}

/* A JSON number's source text as an int64: digits with an optional minus,
 * no fraction or exponent, no overflow. */
static bool parse_int64(const char *s, size_t len, int64_t *out) {
    size_t i = 0;
    bool neg = len > 0 && s[0] == '-';
    if (neg)
        i++;
    if (i == len)
        return false;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (lim - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/*
 * Read integer member name (a Java Integer when int32, else a Long).
 * Returns true and sets *out if it is present; a value outside [min, max]
 * is recorded as a violation (and still returned). Not an integer, or out
 * of the Java type's range: SerializationException.
 */
static bool int_member(evb__api_call_t *call, const char *name, bool int32,
                       int64_t min, int64_t max, int64_t *out) {
    const evb_jval_t *v = input_member(call, name);
    if (!v)
        return false;
    if (v->type != EVB_JSON_NUMBER) {
        wrong_type(call, name, "an integer", v);
        return false;
    }
    int64_t n;
    if (!parse_int64(v->u.str.s, v->u.str.len, &n) ||
        (int32 && (n < INT32_MIN || n > INT32_MAX))) {
        evb__api_fail(call, 400, "SerializationException",
                      "Expected %s for member '%s', found the number %.*s",
                      int32 ? "an integer" : "a long integer", name,
                      (int)(v->u.str.len > 64 ? 64 : v->u.str.len), v->u.str.s);
        return false;
    }
    if (n < min)
        evb_api_validation_add(&call->validation, v->u.str.s, v->u.str.len,
                               name,
                               "Member must have value greater than or "
                               "equal to %" PRId64,
                               min);
    if (n > max)
        evb_api_validation_add(&call->validation, v->u.str.s, v->u.str.len,
                               name,
                               "Member must have value less than or equal "
                               "to %" PRId64,
                               max);
    *out = n;
    return true;
}

/* Read boolean member name; false when absent. */
static bool bool_member(evb__api_call_t *call, const char *name) {
    const evb_jval_t *v = input_member(call, name);
    if (!v)
        return false;
    if (v->type != EVB_JSON_TRUE && v->type != EVB_JSON_FALSE) {
        wrong_type(call, name, "a boolean", v);
        return false;
    }
    return v->type == EVB_JSON_TRUE;
}

/* The character classes of the model's name patterns. */
typedef enum charset {
    CHARS_ANY,        /* no pattern */
    CHARS_GROUP,      /* [\.\-_/#A-Za-z0-9] */
    CHARS_STREAM,     /* [^:*] */
    CHARS_IDENTIFIER, /* [\w#+=/:,.@-] */
} charset_t;

static bool alnum(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static bool in_charset(charset_t cs, unsigned char c) {
    switch (cs) {
    case CHARS_ANY: return true;
    case CHARS_GROUP: return alnum(c) || (c && strchr("._-/#", c));
    case CHARS_STREAM: return c != ':' && c != '*';
    case CHARS_IDENTIFIER: return alnum(c) || (c && strchr("_#+=/:,.@-", c));
    }
    return false;
}

/*
 * Read string member name with the model's constraints: required (else a
 * "must not be null" violation), length in [min, max] (min 0 or 1) and,
 * unless pattern is NULL, every character in cs (pattern is the regular
 * expression quoted in the violation). Returns true and sets *s, *len if
 * it is present.
 */
static bool str_member(evb__api_call_t *call, const char *name, bool required,
                       size_t min, size_t max, charset_t cs,
                       const char *pattern, const char **s, size_t *len) {
    if (!evb__api_string_member(call, name, name, required, max, s, len))
        return false;
    if (min > 0 && *len == 0)
        evb_api_validation_add(&call->validation, *s, *len, name,
                               EVB_API_MIN_LEN, min);
    if (pattern) {
        bool ok = min == 0 || *len > 0;
        for (size_t i = 0; ok && i < *len; i++)
            ok = in_charset(cs, (unsigned char)(*s)[i]);
        if (!ok)
            evb_api_validation_add(&call->validation, *s, *len, name,
                                   EVB_API_PATTERN, pattern);
    }
    return true;
}

/* Turn recorded violations into CloudWatch Logs' InvalidParameterException
 * ("1 validation error detected: ..."). Returns true if the call may go
 * on. */
static bool logs_validated(evb__api_call_t *call) {
    if (call->status)
        return false;
    if (call->validation.count == 0)
        return true;
    const char *msg = evb_api_validation_message(&call->validation);
    if (!msg)
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
    else
        evb__api_fail(call, 400, INVALID_PARAMETER, "%s", msg);
    return false;
}

/* The paging members of the Describe, Get and Filter actions: nextToken
 * (any non-empty string, decoded by the action) and limit (1..max; *limit
 * keeps its default when absent). */
static void paging_members(evb__api_call_t *call, int64_t max,
                           const char **token, size_t *token_len,
                           int64_t *limit) {
    str_member(call, "nextToken", false, 1, 0, CHARS_ANY, NULL, token,
               token_len);
    int_member(call, "limit", true, 1, max, limit);
}

/* A nextToken the action cannot decode. */
static void fail_bad_token(evb__api_call_t *call) {
    evb__api_fail(call, 400, INVALID_PARAMETER, "%s", BAD_TOKEN);
}

/* A log group identifier (a name, or an ARN without the trailing ":*")
 * to the group's name, in place. Anything else is left as it is, and names
 * no group. */
static void identifier_name(const char **s, size_t *n) {
    static const char tag[] = ":log-group:";
    if (*n > 4 && memcmp(*s, "arn:", 4) == 0) {
        const char *p = memmem(*s, *n, tag, sizeof tag - 1);
        if (p) {
            p += sizeof tag - 1;
            *n -= (size_t)(p - *s);
            *s = p;
        }
    }
}

/*
 * Read list member name: min_items..max_items strings, each of 1..item_max
 * characters in cs (pattern quotes the model's expression). Returns true
 * if present, with the strings as a JSON array in *json (arena) for
 * json_each in a query; with identifiers, log group identifiers become
 * group names. Violations name the list as Java prints it ("[a, b]") or
 * the element ("name.1.member").
 */
static bool name_list_member(evb__api_call_t *call, const char *name,
                             size_t min_items, size_t max_items,
                             size_t item_max, charset_t cs, const char *pattern,
                             bool identifiers, char **json_out,
                             size_t *json_len) {
    const evb_jval_t *v = input_member(call, name);
    if (!v)
        return false;
    if (v->type != EVB_JSON_ARRAY) {
        wrong_type(call, name, "an array", v);
        return false;
    }
    size_t n = v->u.arr.n;
    evb_buf_t json, shown; /* the query's array; the list as Java shows it */
    evb_buf_init(&json, 0);
    evb_buf_init(&shown, 0);
    evb_err_t err = evb_buf_putc(&json, '[');
    if (!err)
        err = evb_buf_putc(&shown, '[');
    for (size_t i = 0; i < n && !err; i++) {
        const evb_jval_t *e = v->u.arr.items[i];
        if (e->type != EVB_JSON_STRING) {
            evb_buf_free(&json);
            evb_buf_free(&shown);
            wrong_type(call, name, "a list of strings", e);
            return false;
        }
        const char *s = e->u.str.s;
        size_t len = e->u.str.len;
        char path[128];
        snprintf(path, sizeof path, "%s.%zu.member", name, i + 1);
        bool ok = true;
        for (size_t j = 0; ok && j < len; j++)
            ok = in_charset(cs, (unsigned char)s[j]);
        if (len == 0)
            evb_api_validation_add(&call->validation, s, len, path,
                                   EVB_API_MIN_LEN, (size_t)1);
        if (evb__api_utf16_len(s, len) > item_max)
            evb_api_validation_add(&call->validation, s, len, path,
                                   EVB_API_MAX_LEN, item_max);
        if (!ok)
            evb_api_validation_add(&call->validation, s, len, path,
                                   EVB_API_PATTERN, pattern);
        if (i) {
            err = evb_buf_putc(&json, ',');
            if (!err)
                err = evb_buf_append(&shown, ", ", 2);
        }
        if (!err)
            err = evb_buf_append(&shown, s, len);
        if (identifiers)
            identifier_name(&s, &len);
        if (!err)
            err = evb_json_append_string(&json, s, len);
    }
    if (!err)
        err = evb_buf_putc(&json, ']');
    if (!err)
        err = evb_buf_putc(&shown, ']');
    if (!err && n < min_items)
        evb_api_validation_add(&call->validation, shown.data, shown.len, name,
                               EVB_API_MIN_LEN, min_items);
    if (!err && n > max_items)
        evb_api_validation_add(&call->validation, shown.data, shown.len, name,
                               EVB_API_MAX_LEN, max_items);
    if (!err) {
        *json_out = evb_arena_strndup(call->arena, json.data, json.len);
        *json_len = json.len;
        if (!*json_out)
            err = EVB_ERR_NOMEM;
    }
    evb_buf_free(&json);
    evb_buf_free(&shown);
    if (err) {
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
        return false;
    }
    return true;
}

/* The log group a call names, by logGroupName or logGroupIdentifier (a
 * name or an ARN without the trailing ":*", which the model's pattern
 * refuses, as AWS does). */
typedef struct group_ref {
    const char *name, *ident;
    size_t name_len, ident_len;
} group_ref_t;

static void group_ref_read(evb__api_call_t *call, group_ref_t *g) {
    str_member(call, "logGroupName", false, 1, GROUP_NAME_MAX, CHARS_GROUP,
               GROUP_NAME_PATTERN, &g->name, &g->name_len);
    str_member(call, "logGroupIdentifier", false, 1, GROUP_IDENTIFIER_MAX,
               CHARS_IDENTIFIER, GROUP_IDENTIFIER_PATTERN, &g->ident,
               &g->ident_len);
}

/* After validation: exactly one of the two must be given; leaves the
 * group's name in g->name. */
static bool group_ref_resolve(evb__api_call_t *call, group_ref_t *g) {
    if (g->name && g->ident) {
        evb__api_fail(call, 400, "ValidationException",
                      "LogGroup name and LogGroup ARN are mutually exclusive "
                      "parameters.");
        return false;
    }
    if (!g->name && !g->ident) {
        evb__api_fail(call, 400, INVALID_PARAMETER,
                      "Either logGroupName or logGroupIdentifier must be "
                      "specified.");
        return false;
    }
    if (g->ident) {
        g->name = g->ident;
        g->name_len = g->ident_len;
        identifier_name(&g->name, &g->name_len);
    }
    return true;
}

/* ---- output ----------------------------------------------------------- */

/* Close the answer's object; the writer's error, if any, into errstr. */
static evb_err_t jw_end(evb__rw_t *w, char *errstr, size_t errstr_size) {
    evb__rw_raw(w, "}");
    if (w->err)
        return evb_err_set(w->err, errstr, errstr_size, "%s",
                           evb_err_message(w->err));
    return EVB_ERR_OK;
}

/* ---- tokens ----------------------------------------------------------- */

static const char hexdig[] = "0123456789abcdef";

/* An order-preserving unsigned form of a signed timestamp. */
static uint64_t ts_bias(int64_t ts) {
    return (uint64_t)ts ^ ((uint64_t)1 << 63);
}

static int64_t ts_unbias(uint64_t u) {
    return (int64_t)(u ^ ((uint64_t)1 << 63));
}

/* Parse exactly n decimal digits into a uint64 (no overflow). */
static bool parse_digits(const char *s, size_t n, uint64_t *out) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decode lowercase hex into an arena string; false if not hex. */
static bool hex_decode(evb_arena_t *a, const char *s, size_t n, char **out,
                       size_t *out_len) {
    if (n % 2)
        return false;
    char *d = evb_arena_alloc(a, n / 2 + 1);
    if (!d)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        d[i / 2] = (char)(hi << 4 | lo);
    }
    d[n / 2] = '\0';
    *out = d;
    *out_len = n / 2;
    return true;
}

/* tag, then the 20-digit biased timestamp (unless ts is NULL), then name
 * in hex: the token of groups and streams. NULL when out of memory. */
static char *name_token(evb_arena_t *a, const char *tag, const int64_t *ts,
                        const char *name, size_t len) {
    size_t tl = strlen(tag);
    char *t = evb_arena_alloc(a, tl + 21 + 2 * len + 1);
    if (!t)
        return NULL;
    memcpy(t, tag, tl);
    char *p = t + tl;
    if (ts)
        p += sprintf(p, "%020" PRIu64, ts_bias(*ts));
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        *p++ = hexdig[c >> 4];
        *p++ = hexdig[c & 15];
    }
    *p = '\0';
    return t;
}

/* Inverse of name_token; false if tok is not of that form. */
static bool name_token_parse(evb_arena_t *a, const char *tag, bool with_ts,
                             const char *tok, size_t len, int64_t *ts,
                             char **name, size_t *name_len) {
    size_t tl = strlen(tag);
    if (len < tl || memcmp(tok, tag, tl) != 0)
        return false;
    tok += tl;
    len -= tl;
    if (with_ts) {
        uint64_t u;
        if (len < 20 || !parse_digits(tok, 20, &u))
            return false;
        *ts = ts_unbias(u);
        tok += 20;
        len -= 20;
    }
    return len > 0 && hex_decode(a, tok, len, name, name_len);
}

/* An event's position: events are ordered by (timestamp, seq). */
typedef struct ekey {
    int64_t ts;
    int64_t seq;
} ekey_t;

static const ekey_t KEY_BOTTOM = {INT64_MIN, 0};
static const ekey_t KEY_TOP = {INT64_MAX, INT64_MAX};

/* GetLogEvents: "f/" or "b/" and 56 digits (20 for the biased timestamp,
 * 36 for seq), like AWS's tokens. */
#define EVENT_TOKEN_LEN (2 + 56)

static void event_token(char out[EVENT_TOKEN_LEN + 1], char dir, ekey_t k) {
    snprintf(out, EVENT_TOKEN_LEN + 1, "%c/%020" PRIu64 "%036" PRIu64, dir,
             ts_bias(k.ts), (uint64_t)k.seq);
}

static bool event_token_parse(const char *tok, size_t len, char *dir,
                              ekey_t *k) {
    uint64_t ts, seq;
    if (len != EVENT_TOKEN_LEN || (tok[0] != 'f' && tok[0] != 'b') ||
        tok[1] != '/' || !parse_digits(tok + 2, 20, &ts) ||
        !parse_digits(tok + 22, 36, &seq) || seq > INT64_MAX)
        return false;
    *dir = tok[0];
    k->ts = ts_unbias(ts);
    k->seq = (int64_t)seq;
    return true;
}

/* FilterLogEvents: "F" and 40 digits (biased timestamp, seq). */
#define FILTER_TOKEN_LEN (1 + 40)

static void filter_token(char out[FILTER_TOKEN_LEN + 1], ekey_t k) {
    snprintf(out, FILTER_TOKEN_LEN + 1, "F%020" PRIu64 "%020" PRIu64,
             ts_bias(k.ts), (uint64_t)k.seq);
}

static bool filter_token_parse(const char *tok, size_t len, ekey_t *k) {
    uint64_t ts, seq;
    if (len != FILTER_TOKEN_LEN || tok[0] != 'F' ||
        !parse_digits(tok + 1, 20, &ts) || !parse_digits(tok + 21, 20, &seq) ||
        seq > INT64_MAX)
        return false;
    k->ts = ts_unbias(ts);
    k->seq = (int64_t)seq;
    return true;
}

/* ---- store helpers ---------------------------------------------------- */

static evb_store_t *need_store(evb__api_call_t *call) {
    if (!call->api->store)
        evb__api_fail(call, 500, "InternalException",
                      "The log store is not configured.");
    return call->api->store;
}

/* Fail the call with what a store unit returned. */
static void fail_store(evb__api_call_t *call, evb_err_t err,
                       const char *errstr) {
    evb__api_fail_err(call, err, errstr);
}

/* Run store unit fn(arg), a write or a read; a failure (no store
 * included) fails the call. */
static void run_unit(evb__api_call_t *call, evb_store_fn fn, void *arg,
                     bool write) {
    evb_store_t *store = need_store(call);
    if (!store)
        return;
    char errstr[256] = "";
    evb_err_t err = write
                        ? evb_store_write(store, fn, arg, errstr, sizeof errstr)
                        : evb_store_read(store, fn, arg, errstr, sizeof errstr);
    if (err)
        fail_store(call, err, errstr);
}

static evb_err_t prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st,
                         char *errstr, size_t errstr_size) {
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return evb_store_sqlerr(db, "preparing a logs query", errstr,
                                errstr_size);
    }
    return EVB_ERR_OK;
}

/* Bind s (NULL binds SQL NULL). */
static void bind_text(sqlite3_stmt *st, int i, const char *s, size_t len) {
    if (s)
        sqlite3_bind_text(st, i, s, (int)len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_opt_i64(sqlite3_stmt *st, int i, bool set, int64_t v) {
    if (set)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Does log group name exist? */
static evb_err_t group_exists(sqlite3 *db, const char *name, size_t len,
                              bool *exists, char *errstr, size_t errstr_size) {
    sqlite3_stmt *st;
    evb_err_t err = prepare(db, "SELECT 1 FROM log_groups WHERE name = ?1", &st,
                            errstr, errstr_size);
    if (err)
        return err;
    bind_text(st, 1, name, len);
    int rc = sqlite3_step(st);
    *exists = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "looking up a log group", errstr,
                                errstr_size);
    return EVB_ERR_OK;
}

/* EVB_ERR_NOT_FOUND (GROUP_NOT_FOUND) unless log group name exists. */
static evb_err_t need_group(sqlite3 *db, const char *name, size_t len,
                            char *errstr, size_t errstr_size) {
    bool exists;
    evb_err_t err = group_exists(db, name, len, &exists, errstr, errstr_size);
    if (!err && !exists)
        err = evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size, "%s",
                          GROUP_NOT_FOUND);
    return err;
}

/* ---- CreateLogGroup, DeleteLogGroup, retention ------------------------- */

typedef struct group_write {
    const char *name;
    size_t len;
    const char *arn;
    int64_t now_ms;
    bool has_days;
    int64_t days;
} group_write_t;

static evb_err_t insert_group(sqlite3 *db, void *arg, char *errstr,
                              size_t errstr_size) {
    const group_write_t *w = arg;
    sqlite3_stmt *st;
    evb_err_t err = prepare(db,
                            "INSERT OR IGNORE INTO log_groups(name, arn, "
                            "created_ms) VALUES (?1, ?2, ?3)",
                            &st, errstr, errstr_size);
    if (err)
        return err;
    bind_text(st, 1, w->name, w->len);
    bind_text(st, 2, w->arn, strlen(w->arn));
    sqlite3_bind_int64(st, 3, w->now_ms);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "creating a log group", errstr,
                                errstr_size);
    if (sqlite3_changes(db) == 0)
        return evb_err_set(EVB_ERR_EXISTS, errstr, errstr_size, "%s",
                           GROUP_EXISTS);
    return EVB_ERR_OK;
}

/*
 * CreateLogGroup {logGroupName*, kmsKeyId, tags, logGroupClass, ...} -> {}
 *
 * Members other than the name are accepted and ignored (every group is
 * STANDARD, unencrypted, untagged). Names starting with "aws/" are
 * reserved, as AWS documents.
 */
static void create_log_group(evb__api_call_t *call) {
    const char *name;
    size_t len;
    str_member(call, "logGroupName", true, 1, GROUP_NAME_MAX, CHARS_GROUP,
               GROUP_NAME_PATTERN, &name, &len);
    if (!logs_validated(call))
        return;
    if (len >= 4 && memcmp(name, "aws/", 4) == 0) {
        evb__api_fail(call, 400, INVALID_PARAMETER,
                      "Log group names can't start with the string aws/");
        return;
    }
    evb_store_t *store = need_store(call);
    if (!store)
        return;
    size_t arn_size = len + 128;
    char *arn = evb_arena_alloc(call->arena, arn_size);
    if (!arn) {
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
        return;
    }
    snprintf(arn, arn_size, "arn:aws:logs:%s:%s:log-group:%.*s:*",
             call->api->region, call->api->account, (int)len, name);
    group_write_t w = {name, len, arn, now_ms(), false, 0};
    char errstr[256] = "";
    evb_err_t err =
        evb_store_write(store, insert_group, &w, errstr, sizeof errstr);
    if (err)
        fail_store(call, err, errstr);
}

static evb_err_t delete_group(sqlite3 *db, void *arg, char *errstr,
                              size_t errstr_size) {
    const group_write_t *w = arg;
    sqlite3_stmt *st;
    evb_err_t err = prepare(db, "DELETE FROM log_groups WHERE name = ?1", &st,
                            errstr, errstr_size);
    if (err)
        return err;
    bind_text(st, 1, w->name, w->len);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "deleting a log group", errstr,
                                errstr_size);
    if (sqlite3_changes(db) == 0)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size, "%s",
                           GROUP_NOT_FOUND);
    err = prepare(db, "DELETE FROM log_events WHERE grp = ?1", &st, errstr,
                  errstr_size);
    if (err)
        return err;
    bind_text(st, 1, w->name, w->len);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "deleting log events", errstr, errstr_size);
    return EVB_ERR_OK;
}

/* DeleteLogGroup {logGroupName*} -> {}: the group and all its events. */
static void delete_log_group(evb__api_call_t *call) {
    const char *name;
    size_t len;
    str_member(call, "logGroupName", true, 1, GROUP_NAME_MAX, CHARS_GROUP,
               GROUP_NAME_PATTERN, &name, &len);
    if (!logs_validated(call))
        return;
    group_write_t w = {name, len, NULL, 0, false, 0};
    run_unit(call, delete_group, &w, true);
}

static evb_err_t set_retention(sqlite3 *db, void *arg, char *errstr,
                               size_t errstr_size) {
    const group_write_t *w = arg;
    sqlite3_stmt *st;
    evb_err_t err =
        prepare(db, "UPDATE log_groups SET retention_days = ?2 WHERE name = ?1",
                &st, errstr, errstr_size);
    if (err)
        return err;
    bind_text(st, 1, w->name, w->len);
    bind_opt_i64(st, 2, w->has_days, w->days);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "setting a retention policy", errstr,
                                errstr_size);
    if (sqlite3_changes(db) == 0)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size, "%s",
                           GROUP_NOT_FOUND);
    return EVB_ERR_OK;
}

/*
 * PutRetentionPolicy {logGroupName*, retentionInDays*} -> {} and
 * DeleteRetentionPolicy {logGroupName*} -> {}. The policy is recorded and
 * reported by DescribeLogGroups; evbus does not expire events by it.
 */
static void retention_policy(evb__api_call_t *call, bool put) {
    const char *name;
    size_t len;
    int64_t days = 0;
    str_member(call, "logGroupName", true, 1, GROUP_NAME_MAX, CHARS_GROUP,
               GROUP_NAME_PATTERN, &name, &len);
    if (put) {
        if (!int_member(call, "retentionInDays", true, INT32_MIN, INT32_MAX,
                        &days)) {
            if (!call->status)
                evb_api_validation_add(&call->validation, NULL, 0,
                                       "retentionInDays", "%s",
                                       EVB_API_NOT_NULL);
        } else {
            bool ok = false;
            for (size_t i = 0; i < EVB_ARRAY_LEN(retention_days); i++)
                ok = ok || retention_days[i] == days;
            if (!ok) {
                char v[24];
                int n = snprintf(v, sizeof v, "%" PRId64, days);
                evb_api_validation_add(
                    &call->validation, v, (size_t)n, "retentionInDays",
                    "Member must satisfy enum value set: %s", RETENTION_SET);
            }
        }
    }
    if (!logs_validated(call))
        return;
    group_write_t w = {name, len, NULL, 0, put, days};
    run_unit(call, set_retention, &w, true);
}

static void put_retention_policy(evb__api_call_t *call) {
    retention_policy(call, true);
}

static void delete_retention_policy(evb__api_call_t *call) {
    retention_policy(call, false);
}

/*
 * End a page of groups or streams once its rows are read (rc: the last
 * sqlite3_step): close the array, add "nextToken":tok when there is more
 * (tok NULL then: out of memory), close the object. Returns the first
 * error: the query's, the writer's, or EVB_ERR_OK.
 */
static evb_err_t page_end(sqlite3 *db, evb__rw_t *w, int rc, const char *doing,
                          bool more, const char *tok, char *errstr,
                          size_t errstr_size) {
    if (!w->err && rc != SQLITE_ROW && rc != SQLITE_DONE)
        return evb_store_sqlerr(db, doing, errstr, errstr_size);
    evb__rw_raw(w, "]");
    if (more && !w->err) {
        if (!tok)
            w->err = EVB_ERR_NOMEM;
        evb__rw_raw(w, ",\"nextToken\":");
        if (tok)
            evb__rw_str(w, tok, strlen(tok));
    }
    return jw_end(w, errstr, errstr_size);
}

/* ---- DescribeLogGroups ------------------------------------------------- */

typedef struct describe_groups {
    evb__api_call_t *call;
    const char *prefix, *pattern, *after;
    size_t prefix_len, pattern_len, after_len;
    char *idents; /* logGroupIdentifiers as a JSON array of names */
    size_t idents_len;
    int64_t limit;
} describe_groups_t;

static evb_err_t read_groups(sqlite3 *db, void *arg, char *errstr,
                             size_t errstr_size) {
    describe_groups_t *q = arg;
    evb__api_call_t *call = q->call;
    sqlite3_stmt *st;
    evb_err_t err = prepare(
        db,
        "SELECT name, arn, created_ms, retention_days,"
        " CASE WHEN ?3 IS NULL THEN (SELECT COALESCE(SUM(length(CAST(message"
        " AS BLOB))), 0) FROM log_events WHERE grp = g.name) END"
        " FROM log_groups AS g"
        " WHERE (?1 IS NULL OR name > ?1)"
        " AND (?2 IS NULL OR substr(name, 1, length(?2)) = ?2)"
        " AND (?3 IS NULL OR instr(name, ?3) > 0)"
        " AND (?5 IS NULL OR name IN (SELECT value FROM json_each(?5)))"
        " ORDER BY name LIMIT ?4",
        &st, errstr, errstr_size);
    if (err)
        return err;
    bind_text(st, 1, q->after, q->after_len);
    bind_text(st, 2, q->prefix, q->prefix_len);
    bind_text(st, 3, q->pattern, q->pattern_len);
    sqlite3_bind_int64(st, 4, q->limit + 1);
    bind_text(st, 5, q->idents, q->idents_len);

    evb__rw_t w = {call->out, EVB_ERR_OK};
    evb__rw_raw(&w, "{\"logGroups\":[");
    int64_t n = 0;
    const char *last = NULL;
    size_t last_len = 0;
    bool more = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !w.err) {
        if (n == q->limit) {
            more = true;
            break;
        }
        const char *name = (const char *)sqlite3_column_text(st, 0);
        size_t name_len = (size_t)sqlite3_column_bytes(st, 0);
        const char *arn = (const char *)sqlite3_column_text(st, 1);
        size_t arn_len = (size_t)sqlite3_column_bytes(st, 1);
        if (!name || !arn)
            continue;
        evb__rw_raw(&w, n ? ",{" : "{");
        evb__rw_key_strn(&w, true, "logGroupName", name, name_len);
        evb__rw_key_i64(&w, false, "creationTime", sqlite3_column_int64(st, 2));
        if (!q->pattern) {
            if (sqlite3_column_type(st, 3) != SQLITE_NULL)
                evb__rw_key_i64(&w, false, "retentionInDays",
                                sqlite3_column_int64(st, 3));
            evb__rw_key_i64(&w, false, "metricFilterCount", 0);
        }
        evb__rw_key_strn(&w, false, "arn", arn, arn_len);
        if (!q->pattern) {
            evb__rw_key_i64(&w, false, "storedBytes",
                            sqlite3_column_int64(st, 4));
            evb__rw_key_strn(&w, false, "logGroupClass", "STANDARD", 8);
            size_t bare = arn_len;
            if (bare >= 2 && memcmp(arn + bare - 2, ":*", 2) == 0)
                bare -= 2;
            evb__rw_key_strn(&w, false, "logGroupArn", arn, bare);
        }
        evb__rw_raw(&w, "}");
        last = evb_arena_strndup(call->arena, name, name_len);
        last_len = name_len;
        if (!last)
            w.err = EVB_ERR_NOMEM;
        n++;
    }
    sqlite3_finalize(st);
    char *tok = more && !w.err
                    ? name_token(call->arena, "G1", NULL, last, last_len)
                    : NULL;
    return page_end(db, &w, rc, "listing log groups", more, tok, errstr,
                    errstr_size);
}

/*
 * DescribeLogGroups {logGroupNamePrefix, logGroupNamePattern,
 * logGroupIdentifiers, nextToken, limit (1..50, default 50), ...} ->
 * {logGroups, nextToken}
 *
 * Groups in byte order of name. With logGroupNamePattern (a case-sensitive
 * substring) only logGroupName, creationTime and arn are given, as AWS
 * documents. logGroupIdentifiers (names or ARNs) narrows the list further.
 * accountIdentifiers, includeLinkedAccounts and logGroupClass are ignored
 * (one account; every group is STANDARD).
 */
static void describe_log_groups(evb__api_call_t *call) {
    describe_groups_t q = {.call = call, .limit = DESCRIBE_LIMIT_MAX};
    const char *token;
    size_t token_len;
    str_member(call, "logGroupNamePrefix", false, 1, GROUP_NAME_MAX,
               CHARS_GROUP, GROUP_NAME_PATTERN, &q.prefix, &q.prefix_len);
    str_member(call, "logGroupNamePattern", false, 0, GROUP_NAME_MAX,
               CHARS_GROUP, GROUP_NAME_PATTERN_STAR, &q.pattern,
               &q.pattern_len);
    paging_members(call, DESCRIBE_LIMIT_MAX, &token, &token_len, &q.limit);
    name_list_member(call, "logGroupIdentifiers", 1, GROUP_IDENTIFIERS_MAX,
                     GROUP_IDENTIFIER_MAX, CHARS_IDENTIFIER,
                     GROUP_IDENTIFIER_PATTERN, true, &q.idents, &q.idents_len);
    if (!logs_validated(call))
        return;
    if (q.prefix && q.pattern) {
        evb__api_fail(call, 400, INVALID_PARAMETER,
                      "logGroupNamePrefix and logGroupNamePattern are "
                      "mutually exclusive parameters.");
        return;
    }
    if (token) {
        char *after;
        if (!name_token_parse(call->arena, "G1", false, token, token_len, NULL,
                              &after, &q.after_len)) {
            fail_bad_token(call);
            return;
        }
        q.after = after;
    }
    run_unit(call, read_groups, &q, false);
}

/* ---- DescribeLogStreams ------------------------------------------------ */

typedef struct describe_streams {
    evb__api_call_t *call;
    const char *group, *prefix;
    size_t group_len, prefix_len;
    bool by_time, descending;
    /* after a token: the last stream returned and its lastEventTimestamp */
    const char *after;
    size_t after_len;
    int64_t after_ts;
    int64_t limit;
} describe_streams_t;

/* Streams are aggregates of a group's events; one query per order. The
 * columns: name, creationTime, first and last event timestamps, last
 * ingestion time. */
#define STREAMS_SELECT                                                         \
    "SELECT stream, MIN(ingested_ms), MIN(ts_ms), MAX(ts_ms),"                 \
    " MAX(ingested_ms) FROM log_events WHERE grp = ?1"                         \
    " AND (?2 IS NULL OR substr(stream, 1, length(?2)) = ?2)"
static const char *const streams_sql[2][2] = {
    {/* by name, ascending and descending */
     STREAMS_SELECT " AND (?3 IS NULL OR stream > ?3) GROUP BY stream"
                    " ORDER BY stream LIMIT ?5",
     STREAMS_SELECT " AND (?3 IS NULL OR stream < ?3) GROUP BY stream"
                    " ORDER BY stream DESC LIMIT ?5"},
    {/* by last event time */
     STREAMS_SELECT " GROUP BY stream HAVING ?3 IS NULL OR MAX(ts_ms) > ?4"
                    " OR (MAX(ts_ms) = ?4 AND stream > ?3)"
                    " ORDER BY MAX(ts_ms), stream LIMIT ?5",
     STREAMS_SELECT " GROUP BY stream HAVING ?3 IS NULL OR MAX(ts_ms) < ?4"
                    " OR (MAX(ts_ms) = ?4 AND stream < ?3)"
                    " ORDER BY MAX(ts_ms) DESC, stream DESC LIMIT ?5"},
};

/* The token tag says which order a token belongs to. */
static const char *streams_tag(bool by_time, bool descending) {
    static const char *const tags[2][2] = {{"SNA", "SND"}, {"STA", "STD"}};
    return tags[by_time][descending];
}

static evb_err_t read_streams(sqlite3 *db, void *arg, char *errstr,
                              size_t errstr_size) {
    describe_streams_t *q = arg;
    evb__api_call_t *call = q->call;
    evb_err_t err = need_group(db, q->group, q->group_len, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_stmt *st;
    err = prepare(db, streams_sql[q->by_time][q->descending], &st, errstr,
                  errstr_size);
    if (err)
        return err;
    bind_text(st, 1, q->group, q->group_len);
    bind_text(st, 2, q->prefix, q->prefix_len);
    bind_text(st, 3, q->after, q->after_len);
    sqlite3_bind_int64(st, 4, q->after_ts);
    sqlite3_bind_int64(st, 5, q->limit + 1);

    evb__rw_t w = {call->out, EVB_ERR_OK};
    evb__rw_raw(&w, "{\"logStreams\":[");
    int64_t n = 0;
    char *last = NULL;
    size_t last_len = 0;
    int64_t last_ts = 0;
    bool more = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !w.err) {
        if (n == q->limit) {
            more = true;
            break;
        }
        const char *name = (const char *)sqlite3_column_text(st, 0);
        size_t name_len = (size_t)sqlite3_column_bytes(st, 0);
        if (!name)
            continue;
        int64_t last_event = sqlite3_column_int64(st, 3);
        evb__rw_raw(&w, n ? ",{" : "{");
        evb__rw_key_strn(&w, true, "logStreamName", name, name_len);
        evb__rw_key_i64(&w, false, "creationTime", sqlite3_column_int64(st, 1));
        evb__rw_key_i64(&w, false, "firstEventTimestamp",
                        sqlite3_column_int64(st, 2));
        evb__rw_key_i64(&w, false, "lastEventTimestamp", last_event);
        evb__rw_key_i64(&w, false, "lastIngestionTime",
                        sqlite3_column_int64(st, 4));
        size_t arn_size = q->group_len + name_len + 128;
        char *arn = evb_arena_alloc(call->arena, arn_size);
        if (!arn) {
            w.err = EVB_ERR_NOMEM;
            break;
        }
        int arn_len =
            snprintf(arn, arn_size,
                     "arn:aws:logs:%s:%s:log-group:%.*s:log-stream:"
                     "%.*s",
                     call->api->region, call->api->account, (int)q->group_len,
                     q->group, (int)name_len, name);
        evb__rw_key_strn(&w, false, "arn", arn, (size_t)arn_len);
        evb__rw_key_i64(&w, false, "storedBytes", 0);
        evb__rw_raw(&w, "}");
        last = evb_arena_strndup(call->arena, name, name_len);
        last_len = name_len;
        last_ts = last_event;
        if (!last)
            w.err = EVB_ERR_NOMEM;
        n++;
    }
    sqlite3_finalize(st);
    char *tok =
        more && !w.err
            ? name_token(call->arena, streams_tag(q->by_time, q->descending),
                         &last_ts, last, last_len)
            : NULL;
    return page_end(db, &w, rc, "listing log streams", more, tok, errstr,
                    errstr_size);
}

/*
 * DescribeLogStreams {logGroupName | logGroupIdentifier,
 * logStreamNamePrefix, orderBy (LogStreamName | LastEventTime),
 * descending, nextToken, limit (1..50, default 50)} -> {logStreams,
 * nextToken}
 *
 * A stream's creationTime is its first ingestion; storedBytes is always 0
 * (AWS no longer reports it for streams).
 */
static void describe_log_streams(evb__api_call_t *call) {
    describe_streams_t q = {.call = call, .limit = DESCRIBE_LIMIT_MAX};
    group_ref_t g = {0};
    const char *order = NULL, *token;
    size_t order_len = 0, token_len;
    group_ref_read(call, &g);
    str_member(call, "logStreamNamePrefix", false, 1, STREAM_NAME_MAX,
               CHARS_STREAM, STREAM_NAME_PATTERN, &q.prefix, &q.prefix_len);
    if (evb__api_string_member(call, "orderBy", "orderBy", false, 0, &order,
                               &order_len)) {
        if (order_len == 13 && memcmp(order, "LastEventTime", 13) == 0)
            q.by_time = true;
        else if (!(order_len == 13 && memcmp(order, "LogStreamName", 13) == 0))
            evb_api_validation_add(&call->validation, order, order_len,
                                   "orderBy",
                                   "Member must satisfy enum value set: "
                                   "[LogStreamName, LastEventTime]");
    }
    q.descending = bool_member(call, "descending");
    paging_members(call, DESCRIBE_LIMIT_MAX, &token, &token_len, &q.limit);
    if (!logs_validated(call) || !group_ref_resolve(call, &g))
        return;
    if (q.by_time && q.prefix) {
        evb__api_fail(call, 400, INVALID_PARAMETER,
                      "Cannot order by LastEventTime with a "
                      "logStreamNamePrefix.");
        return;
    }
    if (token) {
        char *after;
        if (!name_token_parse(call->arena, streams_tag(q.by_time, q.descending),
                              true, token, token_len, &q.after_ts, &after,
                              &q.after_len)) {
            fail_bad_token(call);
            return;
        }
        q.after = after;
    }
    q.group = g.name;
    q.group_len = g.name_len;
    run_unit(call, read_streams, &q, false);
}

/* ---- GetLogEvents ------------------------------------------------------ */

typedef struct log_row {
    ekey_t key;
    int64_t ingested_ms;
    const char *message;
    size_t message_len;
} log_row_t;

typedef struct get_events {
    evb__api_call_t *call;
    const char *group, *stream;
    size_t group_len, stream_len;
    bool has_start, has_end;
    int64_t start, end;
    int64_t limit;
    bool forward;
    bool has_token;
    ekey_t from; /* exclusive bound in the direction of reading */
} get_events_t;

static evb_err_t read_events(sqlite3 *db, void *arg, char *errstr,
                             size_t errstr_size) {
    get_events_t *q = arg;
    evb__api_call_t *call = q->call;
    evb_err_t err = need_group(db, q->group, q->group_len, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_stmt *st;
    err = prepare(db,
                  "SELECT 1 FROM log_events WHERE grp = ?1 AND stream = ?2 "
                  "LIMIT 1",
                  &st, errstr, errstr_size);
    if (err)
        return err;
    bind_text(st, 1, q->group, q->group_len);
    bind_text(st, 2, q->stream, q->stream_len);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size, "%s",
                           STREAM_NOT_FOUND);
    if (rc != SQLITE_ROW)
        return evb_store_sqlerr(db, "looking up a log stream", errstr,
                                errstr_size);

    err = prepare(db,
                  q->forward ? "SELECT seq, ts_ms, ingested_ms, message FROM "
                               "log_events WHERE grp = ?1 AND stream = ?2"
                               " AND (?3 IS NULL OR ts_ms >= ?3)"
                               " AND (?4 IS NULL OR ts_ms < ?4)"
                               " AND (ts_ms > ?5 OR (ts_ms = ?5 AND seq > ?6))"
                               " ORDER BY ts_ms, seq LIMIT ?7"
                             : "SELECT seq, ts_ms, ingested_ms, message FROM "
                               "log_events WHERE grp = ?1 AND stream = ?2"
                               " AND (?3 IS NULL OR ts_ms >= ?3)"
                               " AND (?4 IS NULL OR ts_ms < ?4)"
                               " AND (ts_ms < ?5 OR (ts_ms = ?5 AND seq < ?6))"
                               " ORDER BY ts_ms DESC, seq DESC LIMIT ?7",
                  &st, errstr, errstr_size);
    if (err)
        return err;
    bind_text(st, 1, q->group, q->group_len);
    bind_text(st, 2, q->stream, q->stream_len);
    bind_opt_i64(st, 3, q->has_start, q->start);
    bind_opt_i64(st, 4, q->has_end, q->end);
    sqlite3_bind_int64(st, 5, q->from.ts);
    sqlite3_bind_int64(st, 6, q->from.seq);
    sqlite3_bind_int64(st, 7, q->limit);

    /* collect the page (in reading order), then write it oldest first */
    log_row_t *rows =
        evb_arena_alloc(call->arena, (size_t)q->limit * sizeof *rows);
    size_t n = 0, bytes = 0;
    if (!rows) {
        sqlite3_finalize(st);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 3);
        size_t mlen = (size_t)sqlite3_column_bytes(st, 3);
        if (n > 0 && bytes + mlen > PAGE_BYTES_MAX)
            break;
        log_row_t *r = &rows[n];
        r->key.seq = sqlite3_column_int64(st, 0);
        r->key.ts = sqlite3_column_int64(st, 1);
        r->ingested_ms = sqlite3_column_int64(st, 2);
        r->message = evb_arena_strndup(call->arena, m ? m : "", mlen);
        r->message_len = mlen;
        if (!r->message) {
            sqlite3_finalize(st);
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        }
        bytes += mlen;
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "reading log events", errstr, errstr_size);

    evb__rw_t w = {call->out, EVB_ERR_OK};
    evb__rw_raw(&w, "{\"events\":[");
    for (size_t i = 0; i < n; i++) {
        const log_row_t *r = &rows[q->forward ? i : n - 1 - i];
        evb__rw_raw(&w, i ? ",{" : "{");
        evb__rw_key_i64(&w, true, "timestamp", r->key.ts);
        evb__rw_key_strn(&w, false, "message", r->message, r->message_len);
        evb__rw_key_i64(&w, false, "ingestionTime", r->ingested_ms);
        evb__rw_raw(&w, "}");
    }
    /* the page's ends; an empty page keeps the token it was asked with and
     * points the other way at the same place */
    ekey_t fwd, back;
    if (n > 0) {
        fwd = rows[q->forward ? n - 1 : 0].key;
        back = rows[q->forward ? 0 : n - 1].key;
    } else if (!q->has_token) {
        fwd = back = KEY_BOTTOM;
    } else if (q->forward) {
        fwd = back = q->from; /* events > from; back: events <= from */
        if (back.seq < INT64_MAX)
            back.seq++;
    } else {
        fwd = back = q->from; /* events < from; forward: events >= from */
        if (fwd.seq > 0)
            fwd.seq--;
    }
    char ftok[EVENT_TOKEN_LEN + 1], btok[EVENT_TOKEN_LEN + 1];
    event_token(ftok, 'f', fwd);
    event_token(btok, 'b', back);
    evb__rw_raw(&w, "],\"nextForwardToken\":");
    evb__rw_str(&w, ftok, EVENT_TOKEN_LEN);
    evb__rw_raw(&w, ",\"nextBackwardToken\":");
    evb__rw_str(&w, btok, EVENT_TOKEN_LEN);
    return jw_end(&w, errstr, errstr_size);
}

/*
 * GetLogEvents {logGroupName | logGroupIdentifier, logStreamName*,
 * startTime, endTime, nextToken, limit (1..10000), startFromHead, unmask}
 * -> {events, nextForwardToken, nextBackwardToken}
 *
 * Without a token the page is the oldest events (startFromHead) or the
 * newest; f/ tokens read forward from where a page ended, b/ tokens
 * backward from where it began. startTime is inclusive, endTime exclusive.
 */
static void get_log_events(evb__api_call_t *call) {
    get_events_t q = {.call = call, .limit = EVENTS_LIMIT_MAX};
    group_ref_t g = {0};
    const char *token;
    size_t token_len;
    group_ref_read(call, &g);
    str_member(call, "logStreamName", true, 1, STREAM_NAME_MAX, CHARS_STREAM,
               STREAM_NAME_PATTERN, &q.stream, &q.stream_len);
    q.has_start = int_member(call, "startTime", false, 0, INT64_MAX, &q.start);
    q.has_end = int_member(call, "endTime", false, 0, INT64_MAX, &q.end);
    paging_members(call, EVENTS_LIMIT_MAX, &token, &token_len, &q.limit);
    bool head = bool_member(call, "startFromHead");
    (void)bool_member(call, "unmask");
    if (!logs_validated(call) || !group_ref_resolve(call, &g))
        return;
    if (token) {
        char dir;
        if (!event_token_parse(token, token_len, &dir, &q.from)) {
            fail_bad_token(call);
            return;
        }
        q.forward = dir == 'f';
        q.has_token = true;
    } else {
        q.forward = head;
        q.from = head ? KEY_BOTTOM : KEY_TOP;
    }
    q.group = g.name;
    q.group_len = g.name_len;
    run_unit(call, read_events, &q, false);
}

/* ---- filter patterns --------------------------------------------------- */

/* One term: '+' must appear, '?' one of the ?-terms must appear, '-' must
 * not appear. */
typedef struct fterm {
    char kind;
    const char *s;
    size_t len;
} fterm_t;

typedef struct filter {
    fterm_t *terms;
    size_t n;
    bool any; /* there are ?-terms */
} filter_t;

static bool space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Compile pattern p into f (arena-allocated). On a pattern evbus does not
 * support or cannot read, returns false with AWS-style words in why.
 */
static bool filter_compile(evb_arena_t *a, const char *p, size_t len,
                           filter_t *f, char *why, size_t why_size) {
    memset(f, 0, sizeof *f);
    size_t i = 0;
    while (i < len && space(p[i]))
        i++;
    if (i < len && (p[i] == '{' || p[i] == '[' || p[i] == '%')) {
        snprintf(why, why_size,
                 "%s filter patterns are not supported by evbus; use terms, "
                 "\"quoted phrases\", ?alternatives and -exclusions.",
                 p[i] == '{'   ? "JSON ({ $.field = value })"
                 : p[i] == '[' ? "Space-delimited ([w1, w2])"
                               : "Regular expression (%regex%)");
        return false;
    }
    /* at most one term per two bytes of pattern */
    f->terms = evb_arena_alloc(a, (len / 2 + 1) * sizeof *f->terms);
    char *buf = evb_arena_alloc(a, len + 1); /* unescaped phrases */
    if (!f->terms || !buf) {
        snprintf(why, why_size, "Out of memory");
        return false;
    }
    size_t used = 0;
    while (i < len) {
        if (space(p[i])) {
            i++;
            continue;
        }
        fterm_t t = {'+', NULL, 0};
        if ((p[i] == '?' || p[i] == '-') && i + 1 < len && !space(p[i + 1])) {
            t.kind = p[i];
            i++;
        } else if (p[i] == '?') {
            snprintf(why, why_size,
                     "Invalid filter pattern: '?' must be followed by a "
                     "term.");
            return false;
        }
        if (p[i] == '"') {
            size_t start = used;
            i++;
            while (i < len && p[i] != '"') {
                if (p[i] == '\\' && i + 1 < len)
                    i++;
                buf[used++] = p[i++];
            }
            if (i == len) {
                snprintf(why, why_size,
                         "Invalid filter pattern: unterminated quoted "
                         "phrase.");
                return false;
            }
            i++; /* closing quote */
            if (i < len && !space(p[i])) {
                snprintf(why, why_size,
                         "Invalid filter pattern: a quoted phrase must be "
                         "followed by white space.");
                return false;
            }
            t.s = buf + start;
            t.len = used - start;
        } else {
            size_t start = i;
            while (i < len && !space(p[i])) {
                if (p[i] == '"') {
                    size_t end = i;
                    while (end < len && !space(p[end]))
                        end++;
                    snprintf(why, why_size,
                             "Invalid character(s) in term '%.*s'",
                             (int)(end - start > 200 ? 200 : end - start),
                             p + start);
                    return false;
                }
                i++;
            }
            t.s = p + start;
            t.len = i - start;
        }
        f->any = f->any || t.kind == '?';
        f->terms[f->n++] = t;
    }
    return true;
}

static bool filter_match(const filter_t *f, const char *m, size_t len) {
    bool any = false;
    for (size_t i = 0; i < f->n; i++) {
        const fterm_t *t = &f->terms[i];
        bool found = t->len == 0 || memmem(m, len, t->s, t->len) != NULL;
        if ((t->kind == '+' && !found) || (t->kind == '-' && found))
            return false;
        any = any || (t->kind == '?' && found);
    }
    return !f->any || any;
}

/* ---- FilterLogEvents --------------------------------------------------- */

typedef struct filter_events {
    evb__api_call_t *call;
    const char *group, *prefix;
    size_t group_len, prefix_len;
    char *stream_names; /* a JSON array of names, or NULL */
    size_t stream_names_len;
    bool has_start, has_end;
    int64_t start, end;
    int64_t limit;
    ekey_t after;
    filter_t filter;
} filter_events_t;

static evb_err_t read_filtered(sqlite3 *db, void *arg, char *errstr,
                               size_t errstr_size) {
    filter_events_t *q = arg;
    evb__api_call_t *call = q->call;
    evb_err_t err = need_group(db, q->group, q->group_len, errstr, errstr_size);
    if (err)
        return err;
    /* keys in order, a chunk at a time (sorting keys, not messages); then
     * each event by its seq */
    sqlite3_stmt *keys = NULL, *row = NULL;
    err = prepare(db,
                  "SELECT seq, ts_ms FROM log_events WHERE grp = ?1"
                  " AND (ts_ms > ?2 OR (ts_ms = ?2 AND seq > ?3))"
                  " AND (?4 IS NULL OR ts_ms >= ?4)"
                  " AND (?5 IS NULL OR ts_ms <= ?5)"
                  " AND (?6 IS NULL OR substr(stream, 1, length(?6)) = ?6)"
                  " AND (?7 IS NULL OR stream IN"
                  " (SELECT value FROM json_each(?7)))"
                  " ORDER BY ts_ms, seq LIMIT ?8",
                  &keys, errstr, errstr_size);
    if (!err)
        err = prepare(db,
                      "SELECT stream, ingested_ms, message FROM log_events "
                      "WHERE seq = ?1",
                      &row, errstr, errstr_size);
    if (err) {
        sqlite3_finalize(keys);
        return err;
    }
    bind_text(keys, 1, q->group, q->group_len);
    bind_opt_i64(keys, 4, q->has_start, q->start);
    bind_opt_i64(keys, 5, q->has_end, q->end);
    bind_text(keys, 6, q->prefix, q->prefix_len);
    bind_text(keys, 7, q->stream_names, q->stream_names_len);
    sqlite3_bind_int64(keys, 8, FILTER_CHUNK);

    evb__rw_t w = {call->out, EVB_ERR_OK};
    evb__rw_raw(&w, "{\"events\":[");
    ekey_t pos = q->after; /* the last key looked at */
    ekey_t last_out = pos; /* the last key returned */
    int64_t n = 0;         /* events returned */
    size_t bytes = 0, scanned = 0;
    bool more = false, scan_cut = false;
    int rc = SQLITE_DONE;
    while (!w.err && !more && !scan_cut) {
        sqlite3_reset(keys);
        sqlite3_bind_int64(keys, 2, pos.ts);
        sqlite3_bind_int64(keys, 3, pos.seq);
        size_t got = 0;
        while (!w.err && !more && (rc = sqlite3_step(keys)) == SQLITE_ROW) {
            got++;
            ekey_t k = {sqlite3_column_int64(keys, 1),
                        sqlite3_column_int64(keys, 0)};
            sqlite3_reset(row);
            sqlite3_bind_int64(row, 1, k.seq);
            int rrc = sqlite3_step(row);
            if (rrc == SQLITE_DONE) { /* not within one read snapshot */
                pos = k;
                continue;
            }
            if (rrc != SQLITE_ROW) {
                rc = rrc;
                break;
            }
            const char *m = (const char *)sqlite3_column_text(row, 2);
            size_t mlen = (size_t)sqlite3_column_bytes(row, 2);
            if (!m)
                m = "";
            if (filter_match(&q->filter, m, mlen)) {
                if (n == q->limit || (n > 0 && bytes + mlen > PAGE_BYTES_MAX)) {
                    more = true;
                    break;
                }
                const char *s = (const char *)sqlite3_column_text(row, 0);
                size_t slen = (size_t)sqlite3_column_bytes(row, 0);
                char id[64];
                snprintf(id, sizeof id, "%056" PRId64, k.seq);
                evb__rw_raw(&w, n ? ",{" : "{");
                evb__rw_key_strn(&w, true, "logStreamName", s ? s : "", slen);
                evb__rw_key_i64(&w, false, "timestamp", k.ts);
                evb__rw_key_strn(&w, false, "message", m, mlen);
                evb__rw_key_i64(&w, false, "ingestionTime",
                                sqlite3_column_int64(row, 1));
                evb__rw_key_strn(&w, false, "eventId", id, strlen(id));
                evb__rw_raw(&w, "}");
                bytes += mlen;
                n++;
                last_out = k;
            }
            pos = k;
            if (++scanned >= FILTER_SCAN_MAX) {
                scan_cut = true;
                break;
            }
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            break;
        if (!more && !scan_cut && got < FILTER_CHUNK)
            break; /* every candidate seen */
    }
    sqlite3_finalize(keys);
    sqlite3_finalize(row);
    if (!w.err && rc != SQLITE_ROW && rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "filtering log events", errstr,
                                errstr_size);
    evb__rw_raw(&w, "],\"searchedLogStreams\":[]");
    if (more || scan_cut) {
        /* after the last event returned, or past everything examined */
        char tok[FILTER_TOKEN_LEN + 1];
        filter_token(tok, more ? last_out : pos);
        evb__rw_raw(&w, ",\"nextToken\":");
        evb__rw_str(&w, tok, FILTER_TOKEN_LEN);
    }
    return jw_end(&w, errstr, errstr_size);
}

/*
 * FilterLogEvents {logGroupName | logGroupIdentifier, logStreamNames,
 * logStreamNamePrefix, startTime, endTime, filterPattern, nextToken,
 * limit (1..10000), interleaved, unmask} -> {events, searchedLogStreams,
 * nextToken}
 *
 * Events of the group's streams in (timestamp, ingestion order), both
 * time bounds inclusive. interleaved is ignored (AWS always interleaves);
 * searchedLogStreams is always empty, as AWS's has been since 2020.
 */
static void filter_log_events(evb__api_call_t *call) {
    filter_events_t q = {.call = call, .limit = EVENTS_LIMIT_MAX};
    group_ref_t g = {0};
    const char *token, *pattern;
    size_t token_len, pattern_len;
    group_ref_read(call, &g);
    bool names =
        name_list_member(call, "logStreamNames", 1, STREAM_NAMES_MAX,
                         STREAM_NAME_MAX, CHARS_STREAM, STREAM_NAME_PATTERN,
                         false, &q.stream_names, &q.stream_names_len);
    str_member(call, "logStreamNamePrefix", false, 1, STREAM_NAME_MAX,
               CHARS_STREAM, STREAM_NAME_PATTERN, &q.prefix, &q.prefix_len);
    q.has_start = int_member(call, "startTime", false, 0, INT64_MAX, &q.start);
    q.has_end = int_member(call, "endTime", false, 0, INT64_MAX, &q.end);
    evb__api_string_member(call, "filterPattern", "filterPattern", false,
                           FILTER_PATTERN_MAX, &pattern, &pattern_len);
    paging_members(call, EVENTS_LIMIT_MAX, &token, &token_len, &q.limit);
    (void)bool_member(call, "interleaved");
    (void)bool_member(call, "unmask");
    if (!logs_validated(call) || !group_ref_resolve(call, &g))
        return;
    if (names && q.prefix) {
        evb__api_fail(call, 400, INVALID_PARAMETER,
                      "logStreamNames and logStreamNamePrefix are mutually "
                      "exclusive parameters.");
        return;
    }
    char why[512];
    if (!filter_compile(call->arena, pattern ? pattern : "", pattern_len,
                        &q.filter, why, sizeof why)) {
        evb__api_fail(call, 400, INVALID_PARAMETER, "%s", why);
        return;
    }
    q.after = (ekey_t){INT64_MIN, 0};
    if (token && !filter_token_parse(token, token_len, &q.after)) {
        fail_bad_token(call);
        return;
    }
    q.group = g.name;
    q.group_len = g.name_len;
    run_unit(call, read_filtered, &q, false);
}

/* ---- the service ------------------------------------------------------- */

static const evb__api_action_t actions[] = {
    {"CreateLogGroup", create_log_group},
    {"DeleteLogGroup", delete_log_group},
    {"DescribeLogGroups", describe_log_groups},
    {"DescribeLogStreams", describe_log_streams},
    {"GetLogEvents", get_log_events},
    {"FilterLogEvents", filter_log_events},
    {"PutRetentionPolicy", put_retention_policy},
    {"DeleteRetentionPolicy", delete_retention_policy},
};

const evb__api_service_t evb__api_logs_service = {
    .target_prefix = "Logs_20140328",
    .content_type = "application/x-amz-json-1.1",
    .actions = actions,
    .n_actions = EVB_ARRAY_LEN(actions),
};
