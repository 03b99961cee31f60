/*
 * test_http.c: the HTTP server (api/http.h) and AWS JSON 1.1 dispatch
 * (api/api.h) seen from the wire, with a raw-socket HTTP/1.1 client of
 * our own so that nothing hides what goes over the connection: keep-alive,
 * the body limit (announced and chunked), AWS error shapes and statuses,
 * TestEventPattern, /health and graceful shutdown.
 *
 * Every test starts its own server on 127.0.0.1 with an ephemeral port
 * and stops it in its teardown; every socket read has a 5 s timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/http.h"

#define MAX_BODY 16384
#define MAX_DISCARD 65536
#define IO_TIMEOUT_S 5

/* ---- fixture --------------------------------------------------------------
 */

typedef struct fixture {
    evb_api_t *api;
    evb_http_server_t *srv;
    uint16_t port;
} fixture_t;

static int setup(void **state) {
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    char errstr[256];
    if (evb_api_new(NULL, &f->api, errstr, sizeof errstr) != EVB_ERR_OK) {
        free(f);
        return -1;
    }
    evb_http_config_t cfg = evb_http_config_default();
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.max_body_bytes = MAX_BODY;
    cfg.max_discard_bytes = MAX_DISCARD;
    cfg.threads = 2;
    cfg.timeout_s = 10;
    cfg.drain_ms = 5000;
    if (evb_http_server_start(&cfg, evb_api_handle, f->api, &f->srv, errstr,
                              sizeof errstr) != EVB_ERR_OK) {
        fprintf(stderr, "server start: %s\n", errstr);
        evb_api_free(f->api);
        free(f);
        return -1;
    }
    f->port = evb_http_server_port(f->srv);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    evb_http_server_stop(f->srv); /* NULL if the test stopped it */
    evb_api_free(f->api);
    free(f);
    return 0;
}

/* ---- a raw HTTP/1.1 client --------------------------------------------- */

typedef struct client {
    int fd;
    char buf[65536];
    size_t len;
} client_t;

typedef struct response {
    int status;
    char head[8192]; /* status line and headers, NUL-terminated */
    char body[65536];
    size_t body_len;
} response_t;

enum { READ_OK = 0, READ_EOF = -1, READ_ERROR = -2 };

static int connect_to(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static client_t *client_open(uint16_t port) {
    client_t *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->fd = connect_to(port);
    assert_true(c->fd >= 0);
    return c;
}

static void client_close(client_t *c) {
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

/* Send all of data; false if the peer went away. */
static bool client_send(client_t *c, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* Read more bytes into c->buf: >0 bytes read, 0 EOF, <0 error/timeout. */
static ssize_t client_fill(client_t *c) {
    if (c->len == sizeof c->buf)
        return -1;
    ssize_t n;
    do
        n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

static void client_consume(client_t *c, size_t n) {
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* The value of header name in r->head (case-insensitive), copied into
 * out; false if absent. */
static bool header(const response_t *r, const char *name, char *out,
                   size_t out_size) {
    size_t nlen = strlen(name);
    const char *p = strstr(r->head, "\r\n");
    while (p && p[2]) {
        p += 2;
        const char *end = strstr(p, "\r\n");
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) > nlen && strncasecmp(p, name, nlen) == 0 &&
            p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                v++;
            snprintf(out, out_size, "%.*s", (int)(end - v), v);
            return true;
        }
        p = end;
    }
    return false;
}

/* Read one response (Content-Length framed, as the server sends them). */
static int read_response(client_t *c, response_t *r) {
    memset(r, 0, sizeof *r);
    char *end;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4))) {
        ssize_t n = client_fill(c);
        if (n == 0)
            return c->len == 0 ? READ_EOF : READ_ERROR;
        if (n < 0)
            return errno == ECONNRESET && c->len == 0 ? READ_EOF : READ_ERROR;
    }
    size_t head_len = (size_t)(end - c->buf);
    if (head_len >= sizeof r->head)
        return READ_ERROR;
    memcpy(r->head, c->buf, head_len);
    r->head[head_len] = '\0';
    client_consume(c, head_len + 4);
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
        return READ_ERROR;
    char cl[32];
    size_t body_len = 0;
    if (header(r, "Content-Length", cl, sizeof cl))
        body_len = (size_t)strtoul(cl, NULL, 10);
    if (body_len >= sizeof r->body)
        return READ_ERROR;
    while (c->len < body_len)
        if (client_fill(c) <= 0)
            return READ_ERROR;
    memcpy(r->body, c->buf, body_len);
    r->body[body_len] = '\0';
    r->body_len = body_len;
    client_consume(c, body_len);
    return READ_OK;
}

/* True if the server closes the connection (EOF or reset) within the
 * read timeout, with no further bytes. */
static bool closed_by_server(client_t *c) {
    if (c->len)
        return false;
    char b;
    ssize_t n;
    do
        n = recv(c->fd, &b, 1, 0);
    while (n < 0 && errno == EINTR);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* A JSON string literal for s (quotes and backslashes escaped). */
static char *json_quote(const char *s) {
    size_t n = strlen(s);
    char *q = malloc(2 * n + 3), *p = q;
    assert_non_null(q);
    *p++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            *p++ = '\\';
        *p++ = *s;
    }
    *p++ = '"';
    *p = '\0';
    return q;
}

/* Send one AWS JSON 1.1 call (target may be NULL: no X-Amz-Target). */
static void send_call(client_t *c, const char *target, const char *ctype,
                      const char *body) {
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "%s%s%s"
                     "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                     target ? "X-Amz-Target: " : "", target ? target : "",
                     target ? "\r\n" : "", ctype, strlen(body));
    assert_true(n > 0 && (size_t)n < sizeof head);
    assert_true(client_send(c, head, (size_t)n));
    assert_true(client_send(c, body, strlen(body)));
}

static void call(client_t *c, const char *target, const char *body,
                 response_t *r) {
    send_call(c, target, "application/x-amz-json-1.1", body);
    assert_int_equal(read_response(c, r), READ_OK);
}

/* A TestEventPattern request body for pattern and event (JSON texts). */
static char *tep_body(const char *pattern, const char *event) {
    char *qp = json_quote(pattern), *qe = json_quote(event);
    size_t n = strlen(qp) + strlen(qe) + 64;
    char *b = malloc(n);
    assert_non_null(b);
    snprintf(b, n, "{\"EventPattern\":%s,\"Event\":%s}", qp, qe);
    free(qp);
    free(qe);
    return b;
}

/* Assert an AWS-shaped error: status, __type and (if non-NULL) message. */
static void assert_aws_error(const response_t *r, int status, const char *type,
                             const char *message) {
    char want[8192];
    if (r->status != status)
        fail_msg("status %d, want %d; body %s", r->status, status, r->body);
    if (message) {
        snprintf(want, sizeof want, "{\"__type\":\"%s\",\"message\":\"%s\"}",
                 type, message);
        assert_string_equal(r->body, want);
    } else {
        snprintf(want, sizeof want, "{\"__type\":\"%s\",\"message\":\"", type);
        if (strncmp(r->body, want, strlen(want)) != 0)
            fail_msg("body %s, want __type %s", r->body, type);
    }
}

/* A request id is a version-4 UUID in its text form. */
static void assert_request_id(const response_t *r, char out[64]) {
    assert_true(header(r, "x-amzn-RequestId", out, 64));
    assert_int_equal(strlen(out), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(out[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", out[i]));
    }
    assert_int_equal(out[14], '4');
    assert_non_null(strchr("89ab", out[19]));
}

static void assert_json_content_type(const response_t *r) {
    char ct[128];
    assert_true(header(r, "Content-Type", ct, sizeof ct));
    assert_string_equal(ct, "application/x-amz-json-1.1");
}

static const char EVENT[] =
    "{\"version\":\"0\",\"id\":\"6a7e8feb-b491-4cf7-a9f1-bf3703467718\","
    "\"detail-type\":\"EC2 Instance State-change Notification\","
    "\"source\":\"aws.ec2\",\"account\":\"123456789012\","
    "\"time\":\"2022-07-13T13:48:01Z\",\"region\":\"us-east-1\","
    "\"resources\":[],\"detail\":{\"state\":\"running\"}}";
static const char PATTERN_RUNNING[] =
    "{\"source\":[\"aws.ec2\"],\"detail\":{\"state\":[\"running\"]}}";
static const char PATTERN_STOPPED[] =
    "{\"source\":[\"aws.ec2\"],\"detail\":{\"state\":[\"stopped\"]}}";
static const char TARGET[] = "AWSEvents.TestEventPattern";

/* ---- tests ------------------------------------------------------------------
 */

static void health_answers_200(void **state) {
    fixture_t *f = *state;
    client_t *c = client_open(f->port);
    static const char get[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_true(client_send(c, get, sizeof get - 1));
    response_t r;
    assert_int_equal(read_response(c, &r), READ_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"status\":\"ok\"}\n");
    static const char post[] =
        "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    assert_true(client_send(c, post, sizeof post - 1));
    assert_int_equal(read_response(c, &r), READ_OK);
    assert_int_equal(r.status, 405);
    client_close(c);
}

static void keep_alive_serves_many_requests_on_one_connection(void **state) {
    fixture_t *f = *state;
    client_t *c = client_open(f->port);
    response_t r;
    char *match = tep_body(PATTERN_RUNNING, EVENT);
    char *nomatch = tep_body(PATTERN_STOPPED, EVENT);
    char ids[4][64], conn[64];
    for (int i = 0; i < 4; i++) {
        if (i == 2) { /* an error answer keeps the connection too */
            call(c, "AWSEvents.NoSuchAction", "{}", &r);
            assert_int_equal(r.status, 400);
        } else {
            call(c, TARGET, i % 2 ? nomatch : match, &r);
            assert_int_equal(r.status, 200);
            assert_string_equal(r.body, i % 2 ? "{\"Result\":false}"
                                              : "{\"Result\":true}");
        }
        assert_json_content_type(&r);
        assert_request_id(&r, ids[i]);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
        assert_false(header(&r, "Connection", conn, sizeof conn) &&
                     strcasecmp(conn, "close") == 0);
    }
    static const char get[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_true(client_send(c, get, sizeof get - 1));
    assert_int_equal(read_response(c, &r), READ_OK);
    assert_int_equal(r.status, 200);
    free(match);
    free(nomatch);
    client_close(c);
}

static void content_length_over_limit_is_refused_before_the_body(void **state) {
    fixture_t *f = *state;
    response_t r;
    char head[512];

    /* With Expect: 100-continue the server must answer 413 at once and
     * never invite the body. */
    client_t *c = client_open(f->port);
    snprintf(head, sizeof head,
             "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: %s\r\n"
             "Content-Type: application/x-amz-json-1.1\r\n"
             "Expect: 100-continue\r\nContent-Length: %d\r\n\r\n",
             TARGET, 10 * 1024 * 1024);
    assert_true(client_send(c, head, strlen(head)));
    assert_int_equal(read_response(c, &r), READ_OK);
    assert_aws_error(&r, 413, "RequestEntityTooLargeException",
                     "Request body exceeds the limit of 16384 bytes.");
    char id[64];
    assert_request_id(&r, id);
    assert_json_content_type(&r);
    assert_true(closed_by_server(c)); /* and the body is never read */
    client_close(c);

    /* Without Expect, the answer still comes before any body is sent. */
    c = client_open(f->port);
    snprintf(head, sizeof head,
             "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: %s\r\n"
             "Content-Type: application/x-amz-json-1.1\r\n"
             "Content-Length: %d\r\n\r\n",
             TARGET, MAX_BODY + 1);
    assert_true(client_send(c, head, strlen(head)));
    assert_int_equal(read_response(c, &r), READ_OK);
    assert_int_equal(r.status, 413);
    assert_true(closed_by_server(c));
    client_close(c);
}

static void expect_continue_within_limit_is_invited(void **state) {
    fixture_t *f = *state;
    client_t *c = client_open(f->port);
    char *body = tep_body(PATTERN_RUNNING, EVENT);
    char head[512];
    snprintf(head, sizeof head,
             "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: %s\r\n"
             "Content-Type: application/x-amz-json-1.1\r\n"
             "Expect: 100-continue\r\nContent-Length: %zu\r\n\r\n",
             TARGET, strlen(body));
    assert_true(client_send(c, head, strlen(head)));
    response_t r;
    assert_int_equal(read_response(c, &r), READ_OK);
    assert_int_equal(r.status, 100);
    assert_true(client_send(c, body, strlen(body)));
    assert_int_equal(read_response(c, &r), READ_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"Result\":true}");
    free(body);
    client_close(c);
}

/* Send body as chunks of at most chunk bytes; with last, the final chunk.
 * False if the server went away meanwhile. */
static bool send_chunked(client_t *c, const char *body, size_t len,
                         size_t chunk, bool last) {
    char size_line[32];
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        snprintf(size_line, sizeof size_line, "%zx\r\n", n);
        if (!client_send(c, size_line, strlen(size_line)) ||
            !client_send(c, body + off, n) || !client_send(c, "\r\n", 2))
            return false;
    }
    return !last || client_send(c, "0\r\n\r\n", 5);
}

static const char CHUNKED_HEAD[] =
    "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSEvents.TestEventPattern\r\n"
    "Content-Type: application/x-amz-json-1.1\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

static void chunked_body_within_limit_is_served(void **state) {
    fixture_t *f = *state;
    client_t *c = client_open(f->port);
    char *body = tep_body(PATTERN_RUNNING, EVENT);
    assert_true(client_send(c, CHUNKED_HEAD, sizeof CHUNKED_HEAD - 1));
    assert_true(send_chunked(c, body, strlen(body), 7, true));
    response_t r;
    assert_int_equal(read_response(c, &r), READ_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"Result\":true}");
    free(body);
    client_close(c);
}

static void chunked_body_over_limit_gets_413(void **state) {
    fixture_t *f = *state;
    client_t *c = client_open(f->port);
    size_t len = MAX_BODY + 4096;
    char *body = malloc(len);
    assert_non_null(body);
    memset(body, ' ', len);
    assert_true(client_send(c, CHUNKED_HEAD, sizeof CHUNKED_HEAD - 1));
    assert_true(send_chunked(c, body, len, 1024, true));
    response_t r;
    assert_int_equal(read_response(c, &r), READ_OK);
    assert_aws_error(&r, 413, "RequestEntityTooLargeException",
                     "Request body exceeds the limit of 16384 bytes.");
    free(body);
    client_close(c);
}

static void endless_chunked_body_is_cut_off(void **state) {
    fixture_t *f = *state;
    client_t *c = client_open(f->port);
    size_t len = MAX_BODY + MAX_DISCARD + 65536;
    char *body = malloc(len);
    assert_non_null(body);
    memset(body, ' ', len);
    assert_true(client_send(c, CHUNKED_HEAD, sizeof CHUNKED_HEAD - 1));
    /* the server may reset the connection while we are still sending */
    (void)send_chunked(c, body, len, 4096, false);
    response_t r;
    assert_int_equal(read_response(c, &r), READ_EOF);
    free(body);
    client_close(c);
}

static void unknown_operations(void **state) {
    fixture_t *f = *state;
    client_t *c = client_open(f->port);
    response_t r;
    call(c, "AWSEvents.NoSuchAction", "{}", &r);
    assert_aws_error(&r, 400, "UnknownOperationException",
                     "Unknown operation AWSEvents.NoSuchAction.");
    char id[64];
    assert_request_id(&r, id);
    assert_json_content_type(&r);
    call(c, "NoSuchService.TestEventPattern", "{}", &r);
    assert_aws_error(&r, 400, "UnknownOperationException", NULL);
    call(c, "AWSEvents", "{}", &r);
    assert_aws_error(&r, 400, "UnknownOperationException", NULL);
    call(c, NULL, "{}", &r);
    assert_aws_error(&r, 400, "UnknownOperationException",
                     "Missing X-Amz-Target header.");
    send_call(c, TARGET, "application/x-www-form-urlencoded", "{}");
    assert_int_equal(read_response(c, &r), READ_OK);
    assert_aws_error(&r, 400, "UnknownOperationException", NULL);

    static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_true(client_send(c, get, sizeof get - 1));
    assert_int_equal(read_response(c, &r), READ_OK);
    assert_aws_error(&r, 405, "UnknownOperationException", NULL);
    static const char other[] =
        "POST /v2/nothing HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    assert_true(client_send(c, other, sizeof other - 1));
    assert_int_equal(read_response(c, &r), READ_OK);
    assert_aws_error(&r, 404, "UnknownOperationException", NULL);
    client_close(c);
}

static void malformed_bodies_are_serialization_errors(void **state) {
    fixture_t *f = *state;
    client_t *c = client_open(f->port);
    response_t r;
    static const char *const bad[] = {
        "{\"EventPattern\":",                     /* truncated */
        "not json",                               /* not JSON at all */
        "[1,2]",                                  /* not an object */
        "{\"EventPattern\":42,\"Event\":\"{}\"}", /* wrong member type */
        "{\"EventPattern\":\"{}\",\"Event\":{}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        call(c, TARGET, bad[i], &r);
        assert_aws_error(&r, 400, "SerializationException", NULL);
        char id[64];
        assert_request_id(&r, id);
    }
    client_close(c);
}

static void missing_members_are_validation_errors(void **state) {
    fixture_t *f = *state;
    client_t *c = client_open(f->port);
    response_t r;
    call(c, TARGET, "{}", &r);
    assert_aws_error(
        &r, 400, "ValidationException",
        "2 validation errors detected: Value null at 'eventPattern' failed "
        "to satisfy constraint: Member must not be null; Value null at "
        "'event' failed to satisfy constraint: Member must not be null");
    call(c, TARGET, "", &r); /* an empty body is an empty request */
    assert_aws_error(&r, 400, "ValidationException", NULL);

    char *ev = json_quote(EVENT);
    char body[2048];
    snprintf(body, sizeof body, "{\"EventPattern\":null,\"Event\":%s}", ev);
    call(c, TARGET, body, &r);
    assert_aws_error(&r, 400, "ValidationException",
                     "1 validation error detected: Value null at "
                     "'eventPattern' failed to satisfy constraint: Member "
                     "must not be null");
    free(ev);
    call(c, TARGET, "{\"EventPattern\":\"{\\\"a\\\":[1]}\"}", &r);
    assert_aws_error(&r, 400, "ValidationException",
                     "1 validation error detected: Value null at 'event' "
                     "failed to satisfy constraint: Member must not be null");

    /* a pattern over the modelled 4096 characters */
    char pattern[4200];
    memset(pattern, 0, sizeof pattern);
    strcpy(pattern, "{\"a\":[\"");
    memset(pattern + 7, 'x', 4100 - 7 - 3);
    strcat(pattern, "\"]}");
    assert_int_equal(strlen(pattern), 4100);
    char *req = tep_body(pattern, EVENT);
    call(c, TARGET, req, &r);
    assert_int_equal(r.status, 400);
    char *want = malloc(8192);
    assert_non_null(want);
    snprintf(want, 8192,
             "1 validation error detected: Value '%s' at 'eventPattern' "
             "failed to satisfy constraint: Member must have length less "
             "than or equal to 4096",
             pattern);
    char *qwant = json_quote(want);
    char *full = malloc(strlen(qwant) + 64);
    assert_non_null(full);
    sprintf(full, "{\"__type\":\"ValidationException\",\"message\":%s}", qwant);
    assert_string_equal(r.body, full);
    free(full);
    free(qwant);
    free(want);
    free(req);
    client_close(c);
}

static void test_event_pattern_results_and_errors(void **state) {
    fixture_t *f = *state;
    client_t *c = client_open(f->port);
    response_t r;
    char *b;

    b = tep_body(PATTERN_RUNNING, EVENT);
    call(c, TARGET, b, &r);
    free(b);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"Result\":true}");

    b = tep_body(PATTERN_STOPPED, EVENT);
    call(c, TARGET, b, &r);
    free(b);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"Result\":false}");

    b = tep_body("{\"source\":[]}", EVENT);
    call(c, TARGET, b, &r);
    free(b);
    assert_aws_error(&r, 400, "InvalidEventPatternException",
                     "Event pattern is not valid. Reason: Empty arrays are "
                     "not allowed");

    b = tep_body("{\"source\":[{\"EXISTS\":true}]}", EVENT);
    call(c, TARGET, b, &r);
    free(b);
    assert_aws_error(&r, 400, "InvalidEventPatternException",
                     "Event pattern is not valid. Reason: Unrecognized match "
                     "type EXISTS");

    /* events: no envelope, not JSON, not an object */
    static const char *const bad_events[] = {
        "{\"source\":\"aws.ec2\",\"detail\":{\"state\":\"running\"}}",
        "{\"id\":\"1\"",
        "[1]",
        "",
    };
    for (size_t i = 0; i < sizeof bad_events / sizeof bad_events[0]; i++) {
        b = tep_body(PATTERN_RUNNING, bad_events[i]);
        call(c, TARGET, b, &r);
        free(b);
        assert_aws_error(&r, 400, "ValidationException",
                         "Parameter Event is not valid.");
    }
    client_close(c);
}

static void validation_messages_read_like_aws(void **state) {
    (void)state;
    evb_arena_t a;
    evb_arena_init(&a, 0);
    evb_api_validation_t v;
    evb_api_validation_init(&v, &a);
    assert_null(evb_api_validation_message(&v));
    evb_api_validation_add(&v, "!@#$@!#$", 8, "targets.1.member.id",
                           EVB_API_PATTERN, "[\\.\\-_A-Za-z0-9]+");
    assert_string_equal(evb_api_validation_message(&v),
                        "1 validation error detected: Value '!@#$@!#$' at "
                        "'targets.1.member.id' failed to satisfy constraint: "
                        "Member must satisfy regular expression pattern: "
                        "[\\.\\-_A-Za-z0-9]+");
    evb_api_validation_add(&v, NULL, 0, "name", "%s", EVB_API_NOT_NULL);
    evb_api_validation_add(&v, "", 0, "name", EVB_API_MIN_LEN, (size_t)1);
    assert_string_equal(
        evb_api_validation_message(&v),
        "3 validation errors detected: Value '!@#$@!#$' at "
        "'targets.1.member.id' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+; Value null "
        "at 'name' failed to satisfy constraint: Member must not be null; "
        "Value '' at 'name' failed to satisfy constraint: Member must have "
        "length greater than or equal to 1");
    evb_arena_free(&a);

    /* configuration checks */
    evb_api_t *api;
    char errstr[128];
    evb_api_config_t cfg = {.account_id = "123", .region = NULL};
    assert_int_equal(evb_api_new(&cfg, &api, errstr, sizeof errstr),
                     EVB_ERR_INVALID_ARG);
    cfg = (evb_api_config_t){.account_id = "123456789012", .region = "EU 1"};
    assert_int_equal(evb_api_new(&cfg, &api, errstr, sizeof errstr),
                     EVB_ERR_INVALID_ARG);
    cfg.region = "eu-west-1";
    assert_int_equal(evb_api_new(&cfg, &api, errstr, sizeof errstr),
                     EVB_ERR_OK);
    assert_string_equal(evb_api_account(api), "123456789012");
    assert_string_equal(evb_api_region(api), "eu-west-1");
    evb_api_free(api);
}

static void bind_failure_is_reported(void **state) {
    fixture_t *f = *state;
    evb_http_config_t cfg = evb_http_config_default();
    cfg.port = f->port; /* taken by the fixture's server */
    evb_http_server_t *s = NULL;
    char errstr[256] = "";
    assert_int_equal(evb_http_server_start(&cfg, evb_api_handle, f->api, &s,
                                           errstr, sizeof errstr),
                     EVB_ERR_IO);
    assert_null(s);
    assert_non_null(strstr(errstr, "cannot listen on 127.0.0.1:"));
    cfg.host = "no-such-host.invalid";
    cfg.port = 0;
    assert_int_equal(evb_http_server_start(&cfg, evb_api_handle, f->api, &s,
                                           errstr, sizeof errstr),
                     EVB_ERR_INVALID_ARG);
}

/* ---- graceful shutdown ----------------------------------------------------
 */

typedef struct stopper {
    evb_http_server_t *srv;
    atomic_bool done;
} stopper_t;

static void *stop_thread(void *arg) {
    stopper_t *st = arg;
    evb_http_server_stop(st->srv);
    atomic_store(&st->done, true);
    return NULL;
}

static void sleep_ms(long ms) {
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void shutdown_finishes_requests_in_flight(void **state) {
    fixture_t *f = *state;
    response_t r;

    /* an idle keep-alive connection, served once */
    client_t *idle = client_open(f->port);
    static const char get[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_true(client_send(idle, get, sizeof get - 1));
    assert_int_equal(read_response(idle, &r), READ_OK);
    assert_int_equal(r.status, 200);
    /* its request counts until MHD has finished with it, which can be a
     * moment after the client has the response */
    for (int i = 0; i < 500 && evb_http_server_inflight(f->srv) != 0; i++)
        sleep_ms(10);
    assert_int_equal(evb_http_server_inflight(f->srv), 0);

    /* a request in flight: headers and half of its body */
    client_t *busy = client_open(f->port);
    char *body = tep_body(PATTERN_RUNNING, EVENT);
    size_t len = strlen(body), half = len / 2;
    char head[512];
    snprintf(head, sizeof head,
             "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: %s\r\n"
             "Content-Type: application/x-amz-json-1.1\r\n"
             "Content-Length: %zu\r\n\r\n",
             TARGET, len);
    assert_true(client_send(busy, head, strlen(head)));
    assert_true(client_send(busy, body, half));
    for (int i = 0; i < 500 && evb_http_server_inflight(f->srv) == 0; i++)
        sleep_ms(10);
    assert_int_equal(evb_http_server_inflight(f->srv), 1);

    stopper_t st = {.srv = f->srv};
    atomic_init(&st.done, false);
    f->srv = NULL; /* the stopper owns it now */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, stop_thread, &st), 0);

    /* new connections are refused while the old request is finishing */
    int fd = -1;
    for (int i = 0; i < 500; i++) {
        fd = connect_to(f->port);
        if (fd < 0)
            break;
        close(fd);
        sleep_ms(10);
    }
    assert_true(fd < 0);
    /* reset if the SYN met the listener as it was being shut down */
    assert_true(errno == ECONNREFUSED || errno == ECONNRESET);
    assert_false(atomic_load(&st.done));

    /* the request in flight completes, and is told the connection closes */
    assert_true(client_send(busy, body + half, len - half));
    assert_int_equal(read_response(busy, &r), READ_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"Result\":true}");
    char conn[64];
    assert_true(header(&r, "Connection", conn, sizeof conn));
    assert_string_equal(conn, "close");
    assert_true(closed_by_server(busy));

    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(atomic_load(&st.done));
    assert_true(closed_by_server(idle)); /* idle connections are closed */
    free(body);
    client_close(busy);
    client_close(idle);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(health_answers_200),
        T(keep_alive_serves_many_requests_on_one_connection),
        T(content_length_over_limit_is_refused_before_the_body),
        T(expect_continue_within_limit_is_invited),
        T(chunked_body_within_limit_is_served),
        T(chunked_body_over_limit_gets_413),
        T(endless_chunked_body_is_cut_off),
        T(unknown_operations),
        T(malformed_bodies_are_serialization_errors),
        T(missing_members_are_validation_errors),
        T(test_event_pattern_results_and_errors),
        cmocka_unit_test(validation_messages_read_like_aws),
        T(bind_failure_is_reported),
        T(shutdown_finishes_requests_in_flight),
#undef T
    };
    return cmocka_run_group_tests_name("api_http", tests, NULL, NULL);
}
