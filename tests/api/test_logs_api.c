/*
 * test_logs_api.c: the CloudWatch Logs API (api/api_logs.c) over HTTP.
 *
 * Each test opens a store in a fresh temporary directory, writes log
 * events into it the way delivery/target_logs.c does (the same SQL through
 * evb_store_write), starts the API on an ephemeral loopback port and calls
 * every action with a small one-request-per-connection HTTP client:
 * results, AWS error shapes and messages, and pagination (every page
 * visited, nothing lost or repeated, tokens stable).
 *
 * Every socket read has a 10 s timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/http.h"
#include "store/store.h"

#define IO_TIMEOUT_S 10
#define REGION "us-east-1"
#define ACCOUNT "123456789012"
#define GROUP_ARN(g) "arn:aws:logs:" REGION ":" ACCOUNT ":log-group:" g

/* ---- fixture ------------------------------------------------------------ */

typedef struct fixture {
    char dir[64];
    evb_store_t *store;
    evb_api_t *api;
    evb_http_server_t *srv;
    uint16_t port;
} fixture_t;

static int start(fixture_t *f, bool with_store) {
    char errstr[256];
    evb_api_config_t cfg = {.account_id = ACCOUNT, .region = REGION};
    if (with_store) {
        evb_store_opts_t opts = {.dir = f->dir, .no_sync = true};
        if (evb_store_open(&opts, &f->store, errstr, sizeof errstr)) {
            fprintf(stderr, "store: %s\n", errstr);
            return -1;
        }
        cfg.store = f->store;
    }
    if (evb_api_new(&cfg, &f->api, errstr, sizeof errstr))
        return -1;
    evb_http_config_t hc = evb_http_config_default();
    hc.host = "127.0.0.1";
    hc.port = 0;
    hc.threads = 2;
    hc.max_body_bytes = 1 << 20;
    if (evb_http_server_start(&hc, evb_api_handle, f->api, &f->srv, errstr,
                              sizeof errstr)) {
        fprintf(stderr, "server: %s\n", errstr);
        return -1;
    }
    f->port = evb_http_server_port(f->srv);
    return 0;
}

static int setup_common(void **state, bool with_store) {
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/evb-logs-api-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return start(f, with_store);
}

static int setup(void **state) {
    return setup_common(state, true);
}

static int setup_no_store(void **state) {
    return setup_common(state, false);
}

static int teardown(void **state) {
    fixture_t *f = *state;
    if (!f)
        return 0;
    evb_http_server_stop(f->srv);
    evb_api_free(f->api);
    if (f->store)
        evb_store_close(f->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* ---- writing log events as target_logs.c does -------------------------- */

typedef struct log_in {
    const char *group, *stream;
    int64_t ts_ms, ingested_ms;
    const char *message;
} log_in_t;

typedef struct log_batch {
    const log_in_t *rows;
    size_t n;
} log_batch_t;

static evb_err_t write_rows(sqlite3 *db, void *arg, char *errstr, size_t n) {
    const log_batch_t *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        const log_in_t *w = &b->rows[i];
        char arn[1200];
        snprintf(arn, sizeof arn, "arn:aws:logs:%s:%s:log-group:%s:*", REGION,
                 ACCOUNT, w->group);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db,
                               "INSERT OR IGNORE INTO log_groups(name, arn, "
                               "created_ms) VALUES (?,?,?)",
                               -1, &st, NULL) != SQLITE_OK)
            return evb_store_sqlerr(db, "group", errstr, n);
        sqlite3_bind_text(st, 1, w->group, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, arn, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, w->ingested_ms);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return evb_store_sqlerr(db, "group", errstr, n);
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO log_events(grp, stream, ts_ms, "
                               "ingested_ms, message) VALUES (?,?,?,?,?)",
                               -1, &st, NULL) != SQLITE_OK)
            return evb_store_sqlerr(db, "event", errstr, n);
        sqlite3_bind_text(st, 1, w->group, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, w->stream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, w->ts_ms);
        sqlite3_bind_int64(st, 4, w->ingested_ms);
        sqlite3_bind_text(st, 5, w->message, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return evb_store_sqlerr(db, "event", errstr, n);
    }
    return EVB_ERR_OK;
}

static void put_rows(fixture_t *f, const log_in_t *rows, size_t n) {
    log_batch_t b = {rows, n};
    char errstr[256] = "";
    evb_err_t err =
        evb_store_write(f->store, write_rows, &b, errstr, sizeof errstr);
    if (err)
        fprintf(stderr, "write: %s\n", errstr);
    assert_int_equal(err, EVB_ERR_OK);
}

static void put_one(fixture_t *f, const char *group, const char *stream,
                    int64_t ts, const char *message) {
    log_in_t r = {group, stream, ts, ts + 5, message};
    put_rows(f, &r, 1);
}

/* ---- a one-shot HTTP client --------------------------------------------- */

typedef struct reply {
    int status;
    json_t *body; /* NULL when the body is empty */
} reply_t;

static char *vformat(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));
static char *vformat(const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

/* POST one AWS JSON request for Logs_20140328.<action> and read the whole
 * answer (the connection is closed after it). */
static reply_t post(fixture_t *f, const char *action, const char *body) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(f->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    size_t blen = strlen(body);
    char head[512];
    int hl = snprintf(head, sizeof head,
                      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Content-Type: application/x-amz-json-1.1\r\n"
                      "X-Amz-Target: Logs_20140328.%s\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      action, blen);
    assert_int_equal(send(fd, head, (size_t)hl, MSG_NOSIGNAL), hl);
    size_t off = 0;
    while (off < blen) {
        ssize_t k = send(fd, body + off, blen - off, MSG_NOSIGNAL);
        assert_true(k > 0);
        off += (size_t)k;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        if (len + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        ssize_t k = recv(fd, buf + len, cap - len - 1, 0);
        if (k < 0 && errno == EINTR)
            continue;
        assert_true(k >= 0); /* a timeout fails the test */
        if (k == 0)
            break;
        len += (size_t)k;
    }
    close(fd);
    buf[len] = '\0';
    reply_t r = {0, NULL};
    assert_int_equal(sscanf(buf, "HTTP/1.%*d %d", &r.status), 1);
    char *b = strstr(buf, "\r\n\r\n");
    assert_non_null(b);
    b += 4;
    size_t body_len = len - (size_t)(b - buf);
    if (body_len > 0) {
        json_error_t je;
        r.body = json_loadb(b, body_len, 0, &je);
        if (!r.body)
            fprintf(stderr, "unparsable body (%s): %.300s\n", je.text, b);
        assert_non_null(r.body);
    }
    free(buf);
    return r;
}

/* Call action with the printf-formatted body; expect 200 and return the
 * result object (an empty body reads as {}). */
static json_t *ok(fixture_t *f, const char *action, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *ok(fixture_t *f, const char *action, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *body = vformat(fmt, ap);
    va_end(ap);
    reply_t r = post(f, action, body);
    if (r.status != 200) {
        char *dump = r.body ? json_dumps(r.body, 0) : NULL;
        fprintf(stderr, "%s %s: HTTP %d %s\n", action, body, r.status,
                dump ? dump : "");
        free(dump);
    }
    free(body);
    assert_int_equal(r.status, 200);
    return r.body ? r.body : json_object();
}

/* Call action; expect an error of this status and __type, and when
 * message is non-NULL exactly that message. */
static void fails(fixture_t *f, int status, const char *type,
                  const char *message, const char *action, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void fails(fixture_t *f, int status, const char *type,
                  const char *message, const char *action, const char *fmt,
                  ...) {
    va_list ap;
    va_start(ap, fmt);
    char *body = vformat(fmt, ap);
    va_end(ap);
    reply_t r = post(f, action, body);
    assert_non_null(r.body);
    const char *got_type = json_string_value(json_object_get(r.body, "__type"));
    const char *got_msg = json_string_value(json_object_get(r.body, "message"));
    if (r.status != status || !got_type || strcmp(got_type, type) != 0 ||
        (message && (!got_msg || strcmp(got_msg, message) != 0)))
        fprintf(stderr, "%s %s:\n  got  %d %s: %s\n  want %d %s: %s\n", action,
                body, r.status, got_type ? got_type : "-",
                got_msg ? got_msg : "-", status, type, message ? message : "*");
    free(body);
    assert_int_equal(r.status, status);
    assert_non_null(got_type);
    assert_string_equal(got_type, type);
    if (message) {
        assert_non_null(got_msg);
        assert_string_equal(got_msg, message);
    }
    json_decref(r.body);
}

static const char *str(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    assert_non_null(s);
    return s;
}

static int64_t num(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return (int64_t)json_integer_value(v);
}

/* A copy of the result's nextToken, or NULL when there is none. */
static char *next_token(const json_t *o, const char *key) {
    const char *t = json_string_value(json_object_get(o, key));
    return t ? strdup(t) : NULL;
}

/* ---- log groups -----------------------------------------------------------
 */

static void test_group_lifecycle(void **state) {
    fixture_t *f = *state;
    json_decref(ok(f, "CreateLogGroup", "{\"logGroupName\":\"/evbus/a\"}"));
    fails(f, 400, "ResourceAlreadyExistsException",
          "The specified log group already exists", "CreateLogGroup",
          "{\"logGroupName\":\"/evbus/a\"}");

    json_t *r = ok(f, "DescribeLogGroups", "{}");
    json_t *groups = json_object_get(r, "logGroups");
    assert_int_equal(json_array_size(groups), 1);
    json_t *g = json_array_get(groups, 0);
    assert_string_equal(str(g, "logGroupName"), "/evbus/a");
    assert_string_equal(str(g, "arn"), GROUP_ARN("/evbus/a") ":*");
    assert_string_equal(str(g, "logGroupArn"), GROUP_ARN("/evbus/a"));
    assert_int_equal(num(g, "metricFilterCount"), 0);
    assert_int_equal(num(g, "storedBytes"), 0);
    assert_true(num(g, "creationTime") > 1600000000000);
    assert_null(json_object_get(g, "retentionInDays"));
    assert_null(json_object_get(r, "nextToken"));
    json_decref(r);

    /* retention */
    json_decref(ok(f, "PutRetentionPolicy",
                   "{\"logGroupName\":\"/evbus/a\",\"retentionInDays\":14}"));
    r = ok(f, "DescribeLogGroups", "{}");
    g = json_array_get(json_object_get(r, "logGroups"), 0);
    assert_int_equal(num(g, "retentionInDays"), 14);
    json_decref(r);
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value '2' at 'retentionInDays' failed "
          "to satisfy constraint: Member must satisfy enum value set: [1, 3, "
          "5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, "
          "1827, 2192, 2557, 2922, 3288, 3653]",
          "PutRetentionPolicy",
          "{\"logGroupName\":\"/evbus/a\",\"retentionInDays\":2}");
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value null at 'retentionInDays' "
          "failed to satisfy constraint: Member must not be null",
          "PutRetentionPolicy", "{\"logGroupName\":\"/evbus/a\"}");
    fails(f, 400, "ResourceNotFoundException",
          "The specified log group does not exist.", "PutRetentionPolicy",
          "{\"logGroupName\":\"/nope\",\"retentionInDays\":1}");
    json_decref(
        ok(f, "DeleteRetentionPolicy", "{\"logGroupName\":\"/evbus/a\"}"));
    r = ok(f, "DescribeLogGroups", "{}");
    g = json_array_get(json_object_get(r, "logGroups"), 0);
    assert_null(json_object_get(g, "retentionInDays"));
    json_decref(r);
    fails(f, 400, "ResourceNotFoundException",
          "The specified log group does not exist.", "DeleteRetentionPolicy",
          "{\"logGroupName\":\"/nope\"}");

    /* deleting a group deletes its events */
    put_one(f, "/evbus/a", "s1", 1000, "hello");
    put_one(f, "/evbus/b", "s1", 1000, "other group");
    json_decref(ok(f, "DeleteLogGroup", "{\"logGroupName\":\"/evbus/a\"}"));
    fails(f, 400, "ResourceNotFoundException",
          "The specified log group does not exist.", "DeleteLogGroup",
          "{\"logGroupName\":\"/evbus/a\"}");
    fails(f, 400, "ResourceNotFoundException",
          "The specified log group does not exist.", "FilterLogEvents",
          "{\"logGroupName\":\"/evbus/a\"}");
    json_decref(ok(f, "CreateLogGroup", "{\"logGroupName\":\"/evbus/a\"}"));
    r = ok(f, "FilterLogEvents", "{\"logGroupName\":\"/evbus/a\"}");
    assert_int_equal(json_array_size(json_object_get(r, "events")), 0);
    json_decref(r);
    r = ok(f, "FilterLogEvents", "{\"logGroupName\":\"/evbus/b\"}");
    assert_int_equal(json_array_size(json_object_get(r, "events")), 1);
    json_decref(r);
}

static void test_group_validation(void **state) {
    fixture_t *f = *state;
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value null at 'logGroupName' failed "
          "to satisfy constraint: Member must not be null",
          "CreateLogGroup", "{}");
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value 'a b' at 'logGroupName' failed "
          "to satisfy constraint: Member must satisfy regular expression "
          "pattern: [\\.\\-_/#A-Za-z0-9]+",
          "CreateLogGroup", "{\"logGroupName\":\"a b\"}");
    fails(f, 400, "InvalidParameterException",
          "2 validation errors detected: Value '' at 'logGroupName' failed to "
          "satisfy constraint: Member must have length greater than or equal "
          "to 1; Value '' at 'logGroupName' failed to satisfy constraint: "
          "Member must satisfy regular expression pattern: "
          "[\\.\\-_/#A-Za-z0-9]+",
          "DeleteLogGroup", "{\"logGroupName\":\"\"}");
    char *long_name = malloc(514);
    assert_non_null(long_name);
    memset(long_name, 'x', 513);
    long_name[513] = '\0';
    fails(f, 400, "InvalidParameterException", NULL, "CreateLogGroup",
          "{\"logGroupName\":\"%s\"}", long_name);
    long_name[512] = '\0';
    json_decref(
        ok(f, "CreateLogGroup", "{\"logGroupName\":\"%s\"}", long_name));
    free(long_name);
    fails(f, 400, "InvalidParameterException",
          "Log group names can't start with the string aws/", "CreateLogGroup",
          "{\"logGroupName\":\"aws/x\"}");
    fails(f, 400, "SerializationException", NULL, "CreateLogGroup",
          "{\"logGroupName\":5}");
    fails(f, 400, "SerializationException", NULL, "DescribeLogGroups",
          "{\"limit\":\"5\"}");
    fails(f, 400, "SerializationException", NULL, "DescribeLogGroups",
          "{\"limit\":1.5}");
    fails(f, 400, "SerializationException", NULL, "DescribeLogGroups",
          "{\"limit\":99999999999}");
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value '0' at 'limit' failed to "
          "satisfy constraint: Member must have value greater than or equal "
          "to 1",
          "DescribeLogGroups", "{\"limit\":0}");
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value '51' at 'limit' failed to "
          "satisfy constraint: Member must have value less than or equal to "
          "50",
          "DescribeLogGroups", "{\"limit\":51}");
    fails(f, 400, "InvalidParameterException",
          "logGroupNamePrefix and logGroupNamePattern are mutually exclusive "
          "parameters.",
          "DescribeLogGroups",
          "{\"logGroupNamePrefix\":\"a\",\"logGroupNamePattern\":\"b\"}");
    fails(f, 400, "InvalidParameterException",
          "The specified nextToken is invalid.", "DescribeLogGroups",
          "{\"nextToken\":\"garbage\"}");
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value '' at 'nextToken' failed to "
          "satisfy constraint: Member must have length greater than or equal "
          "to 1",
          "DescribeLogGroups", "{\"nextToken\":\"\"}");
    fails(f, 400, "UnknownOperationException", NULL, "PutLogEvents", "{}");
}

static void test_describe_groups_pages(void **state) {
    fixture_t *f = *state;
    static const char *const names[] = {"/app/a", "/app/b",   "/app/c",
                                        "/app/d", "/other/x", "/app/e",
                                        "/app/f", "Z"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        json_decref(
            ok(f, "CreateLogGroup", "{\"logGroupName\":\"%s\"}", names[i]));
    put_one(f, "/app/a", "s", 10, "12345");
    put_one(f, "/app/a", "t", 11, "\xc3\xa9"); /* two bytes */

    /* every group once, in byte order, 3 at a time */
    static const char *const all[] = {"/app/a", "/app/b", "/app/c",   "/app/d",
                                      "/app/e", "/app/f", "/other/x", "Z"};
    size_t seen = 0, pages = 0;
    char *token = NULL;
    do {
        json_t *r = token ? ok(f, "DescribeLogGroups",
                               "{\"limit\":3,\"nextToken\":\"%s\"}", token)
                          : ok(f, "DescribeLogGroups", "{\"limit\":3}");
        json_t *gs = json_object_get(r, "logGroups");
        assert_true(json_array_size(gs) <= 3);
        for (size_t i = 0; i < json_array_size(gs); i++) {
            json_t *g = json_array_get(gs, i);
            assert_true(seen < 8);
            assert_string_equal(str(g, "logGroupName"), all[seen]);
            if (strcmp(all[seen], "/app/a") == 0)
                assert_int_equal(num(g, "storedBytes"), 7);
            seen++;
        }
        char *next = next_token(r, "nextToken");
        if (token && next)
            assert_string_not_equal(token, next);
        free(token);
        token = next;
        json_decref(r);
        pages++;
    } while (token);
    assert_int_equal(seen, 8);
    assert_int_equal(pages, 3);

    /* a token stays valid: the same page again */
    json_t *r1 = ok(f, "DescribeLogGroups", "{\"limit\":2}");
    char *t = next_token(r1, "nextToken");
    assert_non_null(t);
    json_t *a =
        ok(f, "DescribeLogGroups", "{\"limit\":2,\"nextToken\":\"%s\"}", t);
    json_t *b =
        ok(f, "DescribeLogGroups", "{\"limit\":2,\"nextToken\":\"%s\"}", t);
    assert_true(json_equal(json_object_get(a, "logGroups"),
                           json_object_get(b, "logGroups")));
    assert_string_equal(
        str(json_array_get(json_object_get(a, "logGroups"), 0), "logGroupName"),
        "/app/c");
    free(t);
    json_decref(r1);
    json_decref(a);
    json_decref(b);

    /* prefix */
    json_t *r =
        ok(f, "DescribeLogGroups", "{\"logGroupNamePrefix\":\"/app/\"}");
    assert_int_equal(json_array_size(json_object_get(r, "logGroups")), 6);
    json_decref(r);
    r = ok(f, "DescribeLogGroups", "{\"logGroupNamePrefix\":\"/nothing\"}");
    assert_int_equal(json_array_size(json_object_get(r, "logGroups")), 0);
    json_decref(r);

    /* pattern: case-sensitive substring; only three fields */
    r = ok(f, "DescribeLogGroups", "{\"logGroupNamePattern\":\"her\"}");
    json_t *gs = json_object_get(r, "logGroups");
    assert_int_equal(json_array_size(gs), 1);
    json_t *g = json_array_get(gs, 0);
    assert_string_equal(str(g, "logGroupName"), "/other/x");
    assert_int_equal(json_object_size(g), 3);
    assert_non_null(json_object_get(g, "arn"));
    assert_non_null(json_object_get(g, "creationTime"));
    json_decref(r);
    r = ok(f, "DescribeLogGroups", "{\"logGroupNamePattern\":\"HER\"}");
    assert_int_equal(json_array_size(json_object_get(r, "logGroups")), 0);
    json_decref(r);

    /* identifiers: names or ARNs, in name order, unknown ones left out */
    r = ok(
        f, "DescribeLogGroups",
        "{\"logGroupIdentifiers\":[\"Z\",\"" GROUP_ARN("/app/b") "\","
                                                                 "\"/nope\"]}");
    gs = json_object_get(r, "logGroups");
    assert_int_equal(json_array_size(gs), 2);
    assert_string_equal(str(json_array_get(gs, 0), "logGroupName"), "/app/b");
    assert_string_equal(str(json_array_get(gs, 1), "logGroupName"), "Z");
    json_decref(r);
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value '[]' at 'logGroupIdentifiers' "
          "failed to satisfy constraint: Member must have length greater "
          "than or equal to 1",
          "DescribeLogGroups", "{\"logGroupIdentifiers\":[]}");
}

/* ---- log streams ----------------------------------------------------------
 */

/* names of a page's streams appended to out (comma-separated) */
static void stream_names(const json_t *r, char *out, size_t out_size) {
    json_t *ss = json_object_get(r, "logStreams");
    for (size_t i = 0; i < json_array_size(ss); i++) {
        size_t l = strlen(out);
        snprintf(out + l, out_size - l, "%s%s", l ? "," : "",
                 str(json_array_get(ss, i), "logStreamName"));
    }
}

/* Every page of DescribeLogStreams with extra members and limit 2. */
static void all_streams(fixture_t *f, const char *extra, char *out,
                        size_t out_size) {
    out[0] = '\0';
    char *token = NULL;
    int pages = 0;
    do {
        json_t *r = token
                        ? ok(f, "DescribeLogStreams",
                             "{\"logGroupName\":\"/g\",\"limit\":2%s,"
                             "\"nextToken\":\"%s\"}",
                             extra, token)
                        : ok(f, "DescribeLogStreams",
                             "{\"logGroupName\":\"/g\",\"limit\":2%s}", extra);
        assert_true(json_array_size(json_object_get(r, "logStreams")) <= 2);
        stream_names(r, out, out_size);
        free(token);
        token = next_token(r, "nextToken");
        json_decref(r);
        assert_true(++pages < 20);
    } while (token);
}

static void test_describe_streams(void **state) {
    fixture_t *f = *state;
    const log_in_t rows[] = {
        {"/g", "b", 3000, 3100, "b1"},    {"/g", "a", 1000, 1100, "a1"},
        {"/g", "a", 5000, 5100, "a2"},    {"/g", "c", 2000, 2100, "c1"},
        {"/g", "d", 4000, 4200, "d1"},    {"/g", "e", 4000, 4300, "e1"},
        {"/h", "z", 1, 2, "other group"},
    };
    put_rows(f, rows, sizeof rows / sizeof *rows);
    json_decref(ok(f, "CreateLogGroup", "{\"logGroupName\":\"/empty\"}"));

    json_t *r = ok(f, "DescribeLogStreams", "{\"logGroupName\":\"/g\"}");
    json_t *ss = json_object_get(r, "logStreams");
    assert_int_equal(json_array_size(ss), 5);
    json_t *a = json_array_get(ss, 0);
    assert_string_equal(str(a, "logStreamName"), "a");
    assert_int_equal(num(a, "creationTime"), 1100);
    assert_int_equal(num(a, "firstEventTimestamp"), 1000);
    assert_int_equal(num(a, "lastEventTimestamp"), 5000);
    assert_int_equal(num(a, "lastIngestionTime"), 5100);
    assert_int_equal(num(a, "storedBytes"), 0);
    assert_string_equal(str(a, "arn"), GROUP_ARN("/g") ":log-stream:a");
    assert_null(json_object_get(r, "nextToken"));
    json_decref(r);

    char names[256];
    all_streams(f, "", names, sizeof names);
    assert_string_equal(names, "a,b,c,d,e");
    all_streams(f, ",\"descending\":true", names, sizeof names);
    assert_string_equal(names, "e,d,c,b,a");
    all_streams(f, ",\"orderBy\":\"LogStreamName\"", names, sizeof names);
    assert_string_equal(names, "a,b,c,d,e");
    /* last event times: c 2000, b 3000, d 4000, e 4000, a 5000 */
    all_streams(f, ",\"orderBy\":\"LastEventTime\"", names, sizeof names);
    assert_string_equal(names, "c,b,d,e,a");
    all_streams(f, ",\"orderBy\":\"LastEventTime\",\"descending\":true", names,
                sizeof names);
    assert_string_equal(names, "a,e,d,b,c");

    r = ok(f, "DescribeLogStreams",
           "{\"logGroupName\":\"/g\",\"logStreamNamePrefix\":\"c\"}");
    names[0] = '\0';
    stream_names(r, names, sizeof names);
    assert_string_equal(names, "c");
    json_decref(r);

    /* the group by ARN (the form without :*, as the model's pattern
     * says) or by name */
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value '" GROUP_ARN(
              "/g") ":*' at "
                    "'logGroupIdentifier' failed to satisfy constraint: Member "
                    "must "
                    "satisfy regular expression pattern: [\\w#+=/:,.@-]*",
          "DescribeLogStreams",
          "{\"logGroupIdentifier\":\"" GROUP_ARN("/g") ":*\"}");
    r = ok(f, "DescribeLogStreams",
           "{\"logGroupIdentifier\":\"" GROUP_ARN("/g") "\",\"limit\":1}");
    assert_int_equal(json_array_size(json_object_get(r, "logStreams")), 1);
    assert_non_null(json_object_get(r, "nextToken"));
    json_decref(r);
    r = ok(f, "DescribeLogStreams", "{\"logGroupIdentifier\":\"/g\"}");
    assert_int_equal(json_array_size(json_object_get(r, "logStreams")), 5);
    json_decref(r);
    r = ok(f, "DescribeLogStreams", "{\"logGroupName\":\"/empty\"}");
    assert_int_equal(json_array_size(json_object_get(r, "logStreams")), 0);
    json_decref(r);

    fails(f, 400, "ResourceNotFoundException",
          "The specified log group does not exist.", "DescribeLogStreams",
          "{\"logGroupName\":\"/nope\"}");
    fails(f, 400, "InvalidParameterException",
          "Cannot order by LastEventTime with a logStreamNamePrefix.",
          "DescribeLogStreams",
          "{\"logGroupName\":\"/g\",\"orderBy\":\"LastEventTime\","
          "\"logStreamNamePrefix\":\"a\"}");
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value 'Name' at 'orderBy' failed to "
          "satisfy constraint: Member must satisfy enum value set: "
          "[LogStreamName, LastEventTime]",
          "DescribeLogStreams",
          "{\"logGroupName\":\"/g\",\"orderBy\":\"Name\"}");
    fails(f, 400, "ValidationException",
          "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
          "DescribeLogStreams",
          "{\"logGroupName\":\"/g\",\"logGroupIdentifier\":\"/g\"}");
    fails(f, 400, "InvalidParameterException",
          "Either logGroupName or logGroupIdentifier must be specified.",
          "DescribeLogStreams", "{}");
    /* a token of one order is not one of another */
    r = ok(f, "DescribeLogStreams", "{\"logGroupName\":\"/g\",\"limit\":1}");
    char *t = next_token(r, "nextToken");
    assert_non_null(t);
    json_decref(r);
    fails(f, 400, "InvalidParameterException",
          "The specified nextToken is invalid.", "DescribeLogStreams",
          "{\"logGroupName\":\"/g\",\"descending\":true,\"nextToken\":\"%s\"}",
          t);
    free(t);
}

/* ---- GetLogEvents ---------------------------------------------------------
 */

#define STREAM_EVENTS 25

/* Stream /g s: 25 events; timestamps 1000 + 10 * (i / 2), so pairs share a
 * timestamp and are told apart by write order. Messages "m00".."m24". */
static void put_stream(fixture_t *f) {
    log_in_t rows[STREAM_EVENTS + 1];
    static char msgs[STREAM_EVENTS][8];
    for (int i = 0; i < STREAM_EVENTS; i++) {
        snprintf(msgs[i], sizeof msgs[i], "m%02d", i);
        rows[i] = (log_in_t){"/g", "s", 1000 + 10 * (i / 2), 9000 + i, msgs[i]};
    }
    rows[STREAM_EVENTS] = (log_in_t){"/g", "other", 1005, 9999, "x"};
    put_rows(f, rows, STREAM_EVENTS + 1);
}

/* Append the page's messages' indexes to got[*n]. */
static void page_messages(const json_t *r, int *got, int *n) {
    json_t *es = json_object_get(r, "events");
    for (size_t i = 0; i < json_array_size(es); i++) {
        json_t *e = json_array_get(es, i);
        const char *m = str(e, "message");
        assert_true(*n < 100);
        got[(*n)++] = atoi(m + 1);
        assert_true(json_is_integer(json_object_get(e, "timestamp")));
        assert_true(json_is_integer(json_object_get(e, "ingestionTime")));
    }
}

static void test_get_log_events(void **state) {
    fixture_t *f = *state;
    put_stream(f);
    int got[100], n = 0;

    /* forward from the head, 10 at a time, until the token comes back */
    char *token = NULL;
    int calls = 0;
    for (;;) {
        json_t *r = token
                        ? ok(f, "GetLogEvents",
                             "{\"logGroupName\":\"/g\",\"logStreamName\":\"s\","
                             "\"limit\":10,\"startFromHead\":true,"
                             "\"nextToken\":\"%s\"}",
                             token)
                        : ok(f, "GetLogEvents",
                             "{\"logGroupName\":\"/g\",\"logStreamName\":\"s\","
                             "\"limit\":10,\"startFromHead\":true}");
        page_messages(r, got, &n);
        const char *fwd = str(r, "nextForwardToken");
        const char *back = str(r, "nextBackwardToken");
        assert_int_equal(strlen(fwd), 58);
        assert_memory_equal(fwd, "f/", 2);
        assert_memory_equal(back, "b/", 2);
        bool done = token && strcmp(token, fwd) == 0;
        free(token);
        token = strdup(fwd);
        json_decref(r);
        assert_true(++calls < 10);
        if (done)
            break;
    }
    free(token);
    assert_int_equal(n, STREAM_EVENTS);
    for (int i = 0; i < n; i++)
        assert_int_equal(got[i], i);
    assert_int_equal(calls, 4); /* 10, 10, 5, then the end */

    /* newest first without a token: the last 10, oldest first; then
     * backward until the token comes back */
    n = 0;
    json_t *r = ok(f, "GetLogEvents",
                   "{\"logGroupIdentifier\":\"/g\",\"logStreamName\":\"s\","
                   "\"limit\":10}");
    page_messages(r, got, &n);
    assert_int_equal(n, 10);
    assert_int_equal(got[0], 15);
    assert_int_equal(got[9], 24);
    token = strdup(str(r, "nextBackwardToken"));
    char *fwd_end = strdup(str(r, "nextForwardToken"));
    json_decref(r);
    int back[100], nb = 0;
    calls = 0;
    for (;;) {
        r = ok(f, "GetLogEvents",
               "{\"logGroupName\":\"/g\",\"logStreamName\":\"s\",\"limit\":10,"
               "\"nextToken\":\"%s\"}",
               token);
        int page[20], np = 0;
        page_messages(r, page, &np);
        /* pages come oldest first; prepend them */
        memmove(back + np, back, (size_t)nb * sizeof *back);
        memcpy(back, page, (size_t)np * sizeof *page);
        nb += np;
        const char *bt = str(r, "nextBackwardToken");
        bool done = strcmp(bt, token) == 0;
        free(token);
        token = strdup(bt);
        json_decref(r);
        assert_true(++calls < 10);
        if (done)
            break;
    }
    free(token);
    assert_int_equal(nb, 15);
    for (int i = 0; i < nb; i++)
        assert_int_equal(back[i], i);

    /* at the end, the forward token comes back unchanged; a new event is
     * then found through it */
    r = ok(f, "GetLogEvents",
           "{\"logGroupName\":\"/g\",\"logStreamName\":\"s\","
           "\"nextToken\":\"%s\"}",
           fwd_end);
    assert_int_equal(json_array_size(json_object_get(r, "events")), 0);
    assert_string_equal(str(r, "nextForwardToken"), fwd_end);
    json_decref(r);
    put_one(f, "/g", "s", 5000, "m25");
    r = ok(f, "GetLogEvents",
           "{\"logGroupName\":\"/g\",\"logStreamName\":\"s\","
           "\"nextToken\":\"%s\"}",
           fwd_end);
    n = 0;
    page_messages(r, got, &n);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], 25);
    json_decref(r);
    free(fwd_end);

    /* time window: startTime inclusive, endTime exclusive */
    r = ok(f, "GetLogEvents",
           "{\"logGroupName\":\"/g\",\"logStreamName\":\"s\","
           "\"startFromHead\":true,\"startTime\":1010,\"endTime\":1030}");
    n = 0;
    page_messages(r, got, &n);
    assert_int_equal(n, 4);
    assert_int_equal(got[0], 2);
    assert_int_equal(got[3], 5);
    json_decref(r);

    /* an empty window still answers both tokens */
    r = ok(f, "GetLogEvents",
           "{\"logGroupName\":\"/g\",\"logStreamName\":\"s\","
           "\"startTime\":99999}");
    assert_int_equal(json_array_size(json_object_get(r, "events")), 0);
    assert_non_null(json_object_get(r, "nextForwardToken"));
    assert_non_null(json_object_get(r, "nextBackwardToken"));
    json_decref(r);

    fails(f, 400, "ResourceNotFoundException",
          "The specified log stream does not exist.", "GetLogEvents",
          "{\"logGroupName\":\"/g\",\"logStreamName\":\"nope\"}");
    fails(f, 400, "ResourceNotFoundException",
          "The specified log group does not exist.", "GetLogEvents",
          "{\"logGroupName\":\"/nope\",\"logStreamName\":\"s\"}");
    fails(f, 400, "InvalidParameterException",
          "The specified nextToken is invalid.", "GetLogEvents",
          "{\"logGroupName\":\"/g\",\"logStreamName\":\"s\","
          "\"nextToken\":\"f/123\"}");
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value null at 'logStreamName' failed "
          "to satisfy constraint: Member must not be null",
          "GetLogEvents", "{\"logGroupName\":\"/g\"}");
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value 'a:b' at 'logStreamName' "
          "failed to satisfy constraint: Member must satisfy regular "
          "expression pattern: [^:*]*",
          "GetLogEvents",
          "{\"logGroupName\":\"/g\",\"logStreamName\":\"a:b\"}");
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value '10001' at 'limit' failed to "
          "satisfy constraint: Member must have value less than or equal to "
          "10000",
          "GetLogEvents",
          "{\"logGroupName\":\"/g\",\"logStreamName\":\"s\",\"limit\":10001}");
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value '-1' at 'startTime' failed to "
          "satisfy constraint: Member must have value greater than or equal "
          "to 0",
          "GetLogEvents",
          "{\"logGroupName\":\"/g\",\"logStreamName\":\"s\",\"startTime\":-1}");
}

/* ---- FilterLogEvents ------------------------------------------------------
 */

/* Every page of FilterLogEvents for body (the members inside {...}, no
 * nextToken), appending messages to out (space-separated); returns the
 * number of pages. Checks that eventIds are unique. */
static int filter_all(fixture_t *f, const char *body, char *out,
                      size_t out_size) {
    out[0] = '\0';
    char *token = NULL;
    int pages = 0;
    char ids[64][64];
    int nids = 0;
    do {
        json_t *r = token ? ok(f, "FilterLogEvents",
                               "{%s,\"nextToken\":\"%s\"}", body, token)
                          : ok(f, "FilterLogEvents", "{%s}", body);
        json_t *es = json_object_get(r, "events");
        assert_true(json_is_array(json_object_get(r, "searchedLogStreams")));
        for (size_t i = 0; i < json_array_size(es); i++) {
            json_t *e = json_array_get(es, i);
            size_t l = strlen(out);
            snprintf(out + l, out_size - l, "%s%s", l ? " " : "",
                     str(e, "message"));
            str(e, "logStreamName");
            num(e, "timestamp");
            num(e, "ingestionTime");
            const char *id = str(e, "eventId");
            for (int j = 0; j < nids; j++)
                assert_string_not_equal(ids[j], id);
            if (nids < 64)
                snprintf(ids[nids++], sizeof ids[0], "%s", id);
        }
        char *next = next_token(r, "nextToken");
        if (token && next)
            assert_string_not_equal(token, next);
        free(token);
        token = next;
        json_decref(r);
        assert_true(++pages < 50);
    } while (token);
    return pages;
}

static void put_mixed(fixture_t *f) {
    const log_in_t rows[] = {
        {"/g", "s1", 100, 1, "ERROR disk full"},
        {"/g", "s2", 50, 2, "INFO started"},
        {"/g", "s3", 100, 3, "WARN disk almost full"},
        {"/g", "s1", 200, 4, "INFO request done"},
        {"/g", "x9", 150, 5, "ERROR \"quoted\" thing"},
        {"/g", "s2", 300, 6, "{\"detail\":{\"x\":\"y\"}}"},
        {"/h", "s1", 120, 7, "ERROR other group"},
    };
    put_rows(f, rows, sizeof rows / sizeof *rows);
}

static void test_filter_log_events(void **state) {
    fixture_t *f = *state;
    put_mixed(f);
    char out[1024];
    const char *all = "INFO started ERROR disk full WARN disk almost full "
                      "ERROR \"quoted\" thing INFO request done "
                      "{\"detail\":{\"x\":\"y\"}}";

    /* interleaved by (timestamp, write order), one page or one at a time */
    assert_int_equal(filter_all(f, "\"logGroupName\":\"/g\"", out, sizeof out),
                     1);
    assert_string_equal(out, all);
    assert_int_equal(
        filter_all(f, "\"logGroupName\":\"/g\",\"limit\":1", out, sizeof out),
        6);
    assert_string_equal(out, all);
    assert_int_equal(filter_all(f,
                                "\"logGroupIdentifier\":\"" GROUP_ARN(
                                    "/g") "\",\"limit\":4,"
                                          "\"interleaved\":true",
                                out, sizeof out),
                     2);
    assert_string_equal(out, all);

    /* time bounds, both inclusive */
    filter_all(f, "\"logGroupName\":\"/g\",\"startTime\":100,\"endTime\":200",
               out, sizeof out);
    assert_string_equal(out, "ERROR disk full WARN disk almost full ERROR "
                             "\"quoted\" thing INFO request done");

    /* streams */
    filter_all(f, "\"logGroupName\":\"/g\",\"logStreamNames\":[\"s1\",\"x9\"]",
               out, sizeof out);
    assert_string_equal(out, "ERROR disk full ERROR \"quoted\" thing INFO "
                             "request done");
    filter_all(f, "\"logGroupName\":\"/g\",\"logStreamNamePrefix\":\"s\"", out,
               sizeof out);
    assert_string_equal(out, "INFO started ERROR disk full WARN disk almost "
                             "full INFO request done "
                             "{\"detail\":{\"x\":\"y\"}}");

    /* patterns */
    static const struct {
        const char *pattern; /* as a JSON string body */
        const char *want;
    } cases[] = {
        {"", NULL},
        {"   ", NULL},
        {"ERROR", "ERROR disk full ERROR \"quoted\" thing"},
        {"disk full", "ERROR disk full WARN disk almost full"},
        {"\\\"disk full\\\"", "ERROR disk full"},
        {"?WARN ?started", "INFO started WARN disk almost full"},
        {"disk -WARN", "ERROR disk full"},
        {"?INFO ?WARN -started", "WARN disk almost full INFO request done"},
        {"\\\"\\\\\\\"quoted\\\\\\\"\\\"", "ERROR \"quoted\" thing"},
        {"error", ""},
        {"ERROR ?nothing", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "\"logGroupName\":\"/g\",\"filterPattern\":\"%s\"",
                 cases[i].pattern);
        filter_all(f, body, out, sizeof out);
        if (strcmp(out, cases[i].want ? cases[i].want : all) != 0)
            fprintf(stderr, "pattern %s: got '%s'\n", cases[i].pattern, out);
        assert_string_equal(out, cases[i].want ? cases[i].want : all);
    }
    /* with a pattern, pages may come back partial but nothing is lost */
    filter_all(f,
               "\"logGroupName\":\"/g\",\"filterPattern\":\"ERROR\","
               "\"limit\":1",
               out, sizeof out);
    assert_string_equal(out, "ERROR disk full ERROR \"quoted\" thing");

    fails(f, 400, "InvalidParameterException", NULL, "FilterLogEvents",
          "{\"logGroupName\":\"/g\",\"filterPattern\":\"{ $.detail.x = "
          "\\\"y\\\" }\"}");
    fails(f, 400, "InvalidParameterException", NULL, "FilterLogEvents",
          "{\"logGroupName\":\"/g\",\"filterPattern\":\"[ip, user]\"}");
    fails(f, 400, "InvalidParameterException", NULL, "FilterLogEvents",
          "{\"logGroupName\":\"/g\",\"filterPattern\":\"\\\"open\"}");
    fails(f, 400, "InvalidParameterException",
          "logStreamNames and logStreamNamePrefix are mutually exclusive "
          "parameters.",
          "FilterLogEvents",
          "{\"logGroupName\":\"/g\",\"logStreamNames\":[\"s1\"],"
          "\"logStreamNamePrefix\":\"s\"}");
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value '[]' at 'logStreamNames' failed "
          "to satisfy constraint: Member must have length greater than or "
          "equal to 1",
          "FilterLogEvents", "{\"logGroupName\":\"/g\",\"logStreamNames\":[]}");
    fails(f, 400, "InvalidParameterException",
          "1 validation error detected: Value 'a*' at "
          "'logStreamNames.2.member' failed to satisfy constraint: Member "
          "must satisfy regular expression pattern: [^:*]*",
          "FilterLogEvents",
          "{\"logGroupName\":\"/g\",\"logStreamNames\":[\"s1\",\"a*\"]}");
    fails(f, 400, "SerializationException", NULL, "FilterLogEvents",
          "{\"logGroupName\":\"/g\",\"logStreamNames\":\"s1\"}");
    fails(f, 400, "SerializationException", NULL, "FilterLogEvents",
          "{\"logGroupName\":\"/g\",\"interleaved\":\"yes\"}");
    fails(f, 400, "InvalidParameterException",
          "The specified nextToken is invalid.", "FilterLogEvents",
          "{\"logGroupName\":\"/g\",\"nextToken\":\"F12\"}");
    fails(f, 400, "ResourceNotFoundException",
          "The specified log group does not exist.", "FilterLogEvents",
          "{\"logGroupIdentifier\":\"" GROUP_ARN("/nope") "\"}");
    fails(f, 400, "InvalidParameterException",
          "Either logGroupName or logGroupIdentifier must be specified.",
          "FilterLogEvents", "{}");
}

/* Pages stop at 1 MiB of messages. */
static void test_filter_page_bytes(void **state) {
    fixture_t *f = *state;
    size_t big = 300 * 1024;
    char *m[5];
    log_in_t rows[5];
    for (int i = 0; i < 5; i++) {
        m[i] = malloc(big + 1);
        assert_non_null(m[i]);
        memset(m[i], 'a' + i, big);
        m[i][big] = '\0';
        rows[i] = (log_in_t){"/big", "s", 10 + i, 20 + i, m[i]};
    }
    put_rows(f, rows, 5);
    json_t *r = ok(f, "FilterLogEvents", "{\"logGroupName\":\"/big\"}");
    assert_int_equal(json_array_size(json_object_get(r, "events")), 3);
    char *t = next_token(r, "nextToken");
    assert_non_null(t);
    json_decref(r);
    r = ok(f, "FilterLogEvents",
           "{\"logGroupName\":\"/big\",\"nextToken\":\"%s\"}", t);
    json_t *es = json_object_get(r, "events");
    assert_int_equal(json_array_size(es), 2);
    assert_int_equal(str(json_array_get(es, 0), "message")[0], 'd');
    assert_null(json_object_get(r, "nextToken"));
    json_decref(r);
    free(t);
    r = ok(f, "GetLogEvents",
           "{\"logGroupName\":\"/big\",\"logStreamName\":\"s\"}");
    es = json_object_get(r, "events");
    assert_int_equal(json_array_size(es), 3); /* the newest three */
    assert_int_equal(str(json_array_get(es, 0), "message")[0], 'c');
    json_decref(r);
    for (int i = 0; i < 5; i++)
        free(m[i]);
}

/* A pattern that matches nothing in a large group: partial (empty) pages
 * with a nextToken, then the end. */
static evb_err_t write_many(sqlite3 *db, void *arg, char *errstr, size_t n) {
    int count = *(int *)arg;
    sqlite3_stmt *st;
    if (sqlite3_exec(db,
                     "INSERT OR IGNORE INTO log_groups(name, arn, created_ms) "
                     "VALUES ('/many', 'arn:aws:logs:us-east-1:123456789012:"
                     "log-group:/many:*', 0)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO log_events(grp, stream, ts_ms, "
                           "ingested_ms, message) VALUES ('/many', 's', ?, "
                           "?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "many", errstr, n);
    for (int i = 0; i < count; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, i);
        sqlite3_bind_int64(st, 2, i);
        sqlite3_bind_text(st, 3, i == count - 1 ? "needle" : "hay", -1,
                          SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return evb_store_sqlerr(db, "many", errstr, n);
        }
    }
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

static void test_filter_scan_limit(void **state) {
    fixture_t *f = *state;
    int count = 150000;
    char errstr[256];
    assert_int_equal(
        evb_store_write(f->store, write_many, &count, errstr, sizeof errstr),
        EVB_ERR_OK);
    char out[256];
    int pages =
        filter_all(f, "\"logGroupName\":\"/many\",\"filterPattern\":\"needle\"",
                   out, sizeof out);
    assert_string_equal(out, "needle");
    assert_int_equal(pages, 2); /* 100000 examined, then the rest */
}

/* ---- no store ----------------------------------------------------------- */

static void test_no_store(void **state) {
    fixture_t *f = *state;
    fails(f, 500, "InternalException", NULL, "DescribeLogGroups", "{}");
    /* validation still comes first */
    fails(f, 400, "InvalidParameterException", NULL, "CreateLogGroup", "{}");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_group_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe_groups_pages, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_describe_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_log_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_log_events, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_filter_page_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_filter_scan_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_store, setup_no_store,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
