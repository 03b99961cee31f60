/*
 * http.c: the HTTP/1.1 server (http.h) on libmicrohttpd.
 *
 * Threading: MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL with a thread
 * pool of one epoll loop per online CPU (2 on the development machine).
 * Every connection belongs to one loop for its whole life, so a request is
 * read, handled and answered on one thread with no hand-off and no lock;
 * the loops share the listening socket. This beats thread-per-connection
 * for the clients that matter: AWS SDKs keep pools of idle keep-alive
 * connections, which cost an epoll entry here instead of a thread and its
 * stack, and throughput is bounded by the cores, not by the number of
 * threads. The price is that a handler must not block: today's handlers
 * are CPU-bound and take microseconds (pattern matching). Handlers that
 * must wait (PutEvents waiting for its group commit) will suspend the
 * connection (MHD_suspend_connection, which needs MHD_ALLOW_SUSPEND_RESUME
 * added to the flags) and resume it from the committing thread instead of
 * holding a worker.
 *
 * Request life: MHD calls on_uri with the request target as received
 * (before it unescapes it; SigV4 signs the raw form), where we allocate
 * the per-request state and keep that raw target; then on_request once
 * when the headers are in (we count the request as in flight and
 * refuse an oversized Content-Length at once: queueing a response before
 * the body is read makes MHD skip "100 Continue" and close the connection
 * afterwards), once per piece of body (appended to a bounded buffer), and
 * once more when the body is complete (we call the handler and queue its
 * response). on_completed frees the state and uncounts the request.
 *
 * Chunked bodies: MHD 0.9.75 cannot queue a response while it is handing
 * over body data (documented in microhttpd.h, and MHD_queue_response fails
 * there), so a chunked body that crosses the limit is dropped from that
 * point on and the 413 goes out when the last chunk arrives; memory stays
 * at the limit. A client that keeps sending past max_discard_bytes more
 * has its connection closed instead.
 *
 * Connection limit: MHD itself refuses (accepts and closes at once)
 * connections past a hard limit set somewhat above max_connections. We
 * count connections ourselves (MHD_OPTION_NOTIFY_CONNECTION) and mark
 * those past max_connections; their first request is answered at once
 * with the handler's 503 (req->error == EVB_ERR_LIMIT_EXCEEDED) and
 * "Connection: close", so a client sees why instead of a reset.
 *
 * Header timeout: MHD's timeout is an idle timeout, which a client that
 * sends one byte every few seconds never trips (slow loris). A sweeper
 * thread wakes every SWEEP_MS and walks the connections (a list under
 * conn_mu, kept by the connection notifications). Each connection is in
 * one phase: HEADERS (a request has begun and its headers are not all
 * in: a deadline runs), REQUEST (headers in, until the answer is sent:
 * the idle timeout and the body limit govern), or IDLE (between keep-
 * alive requests: nothing runs but the idle timeout). A new connection
 * starts in HEADERS (the TLS handshake counts). After an answer the
 * connection goes IDLE; the sweeper notes the socket's received-byte
 * count (TCP_INFO's tcpi_bytes_received) and, when it grows, the next
 * request has begun: HEADERS, with a deadline from then. A connection
 * past its deadline has its socket shut down (shutdown(2)), which MHD
 * sees as the client leaving and cleans up on its own thread. The
 * sweeper only touches sockets on the list, and MHD's CLOSED
 * notification (which takes the list's lock) comes before it closes the
 * descriptor, so a shut-down descriptor is never a reused one. Phases
 * change by compare-and-swap, so the sweeper never overwrites REQUEST.
 *
 * Streams: a streamed answer is a chunked MHD response whose reader asks
 * the handler's read function; when that has nothing, the reader
 * suspends the connection (MHD_suspend_connection, allowed from a content
 * reader) and evb_http_stream_wake resumes it. Both happen under the
 * stream's mutex, with the read inside it, so a wake cannot fall between
 * "nothing to read" and "suspended". Streams are on a list so that stop
 * can end them (MHD must not be stopped with a suspended connection),
 * and so that the sweeper can notice a client that hung up while its
 * stream sleeps (poll for POLLRDHUP) and end that stream at once.
 *
 * TLS: MHD_USE_TLS with the certificate and key read into memory (kept,
 * and wiped when the server is freed).
 *
 * Shutdown: evb_http_server_stop quiesces the daemon (the listening socket
 * leaves every loop) and shuts the listening socket down so that new
 * connections are refused at once rather than left in the backlog, waits
 * on a condition variable until the in-flight count reaches zero (or
 * drain_ms passes), then stops the daemon, which closes idle keep-alive
 * connections and joins the loops. Responses produced while draining carry
 * "Connection: close".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/tcp.h>
#include <microhttpd.h>

#include "../metrics/metrics.h"
#include "http.h"

/* Largest response body a handler may produce. */
#define RESPONSE_MAX ((size_t)64 * 1024 * 1024)
/* How often the sweeper looks for connections past their header
 * deadline. */
#define SWEEP_MS 250
/* Largest certificate or key file read. */
#define TLS_FILE_MAX ((size_t)1024 * 1024)
/* Block size of streamed answers. */
#define STREAM_BLOCK 16384

/* A connection's phase (see the top of the file). */
enum { P_HEADERS, P_REQUEST, P_IDLE_UNMARKED, P_IDLE, P_KILLED };

/* Per-connection state, MHD's socket context. */
typedef struct sock {
    struct sock *prev, *next; /* on srv->socks, under conn_mu */
    int fd;
    atomic_int phase;
    uint64_t deadline_ns; /* P_HEADERS: under conn_mu */
    uint64_t mark;        /* bytes received when it went idle */
    bool over_limit;      /* past max_connections: answer 503 */
} sock_t;

struct evb_http_stream {
    evb_http_server_t *srv;
    struct MHD_Connection *c;
    pthread_mutex_t mu; /* guards suspended, and runs read */
    bool suspended;
    evb_http_stream_read_fn read;
    evb_http_stream_close_fn close;
    void *ud;
    evb_http_stream_t *prev, *next; /* on srv->streams, under conn_mu */
    int fd;            /* the connection's socket */
    atomic_bool gone;  /* the sweeper saw the client hang up */
};

struct evb_http_server {
    struct MHD_Daemon *daemon;
    evb_http_config_t cfg; /* defaults resolved */
    evb_http_handler_fn handler;
    void *ud;

    pthread_mutex_t mu; /* guards inflight, start_err */
    pthread_cond_t idle;
    unsigned inflight;
    atomic_bool draining;
    char start_err[256]; /* last diagnostic logged while starting */
    bool starting;

    uint16_t port;
    char address[INET6_ADDRSTRLEN + 8];

    pthread_mutex_t conn_mu; /* guards socks, nconns, streams, sweeping */
    sock_t *socks;
    unsigned nconns;
    evb_http_stream_t *streams;
    pthread_cond_t sweep_cv;
    bool sweeping; /* the sweeper runs; false: it should stop */
    pthread_t sweeper;
    bool sweeper_started;
    evb_buf_t tls_cert, tls_key; /* PEM, kept for MHD; the key is wiped */
};

/* Per-request state, MHD's con_cls. */
struct evb__http_conn {
    evb_http_server_t *srv;
    struct MHD_Connection *c;
    evb_arena_t arena;
    evb_buf_t body;
    evb_err_t body_err; /* TOO_LARGE or NOMEM: the body was not kept */
    size_t discarded;   /* bytes dropped since body_err was set */
    const char *raw_uri; /* as received (from the arena), or NULL */
    bool started;        /* on_request has seen the headers (counted) */
    const char *error_message; /* for req->error_message */
    bool close_after;          /* answer with "Connection: close" */
};

evb_http_config_t evb_http_config_default(void) {
    evb_http_config_t c;
    memset(&c, 0, sizeof c);
    return c;
}

/* ---- diagnostics --------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* MHD's external logger: one line to cfg.log; while starting, also kept
 * so that a failed start can say why. */
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    evb_http_server_t *s = cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    pthread_mutex_lock(&s->mu);
    if (s->starting)
        snprintf(s->start_err, sizeof s->start_err, "%s", line);
    pthread_mutex_unlock(&s->mu);
    if (s->cfg.log)
        s->cfg.log(s->cfg.log_ud, line);
}

/* ---- request state ------------------------------------------------------- */

static void inflight_add(evb_http_server_t *s, int delta) {
    pthread_mutex_lock(&s->mu);
    s->inflight = (unsigned)((int)s->inflight + delta);
    if (s->inflight == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
}

static void conn_free(evb__http_conn_t *rq) {
    evb_buf_free(&rq->body);
    evb_arena_free(&rq->arena);
    free(rq);
}

/* The connection's state (NULL if it could not be allocated). */
static sock_t *sock_of(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)toe;
    evb_http_server_t *s = cls;
    evb__http_conn_t *rq = *con_cls;
    sock_t *k = sock_of(c);
    if (k) { /* between requests: the sweeper notes the byte count */
        int ph = P_REQUEST;
        atomic_compare_exchange_strong(&k->phase, &ph, P_IDLE_UNMARKED);
    }
    if (!rq)
        return;
    *con_cls = NULL;
    bool counted = rq->started;
    conn_free(rq);
    if (counted)
        inflight_add(s, -1);
}

static evb__http_conn_t *conn_new(evb_http_server_t *s,
                                  struct MHD_Connection *c) {
    evb__http_conn_t *rq = calloc(1, sizeof *rq);
    if (!rq)
        return NULL;
    rq->srv = s;
    rq->c = c;
    evb_arena_init(&rq->arena, 4096);
    evb_buf_init(&rq->body, s->cfg.max_body_bytes);
    return rq;
}

/* MHD's URI log callback: the request target before MHD unescapes it.
 * The per-request state starts here so that it can keep the raw URI. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
    evb__http_conn_t *rq = conn_new(cls, c);
    if (rq && uri)
        rq->raw_uri = evb_arena_strndup(&rq->arena, uri, strlen(uri));
    return rq;
}

/* True if the Content-Length value is a decimal number above max. A value
 * that is not a number is left to MHD, which rejects it itself. */
static bool content_length_over(const char *v, size_t max) {
    uint64_t n = 0;
    if (*v < '0' || *v > '9')
        return false;
    for (; *v >= '0' && *v <= '9'; v++) {
        if (n > (UINT64_MAX - 9) / 10)
            return true;
        n = n * 10 + (uint64_t)(*v - '0');
    }
    return n > (uint64_t)max;
}

const char *evb_http_request_header(const evb_http_request_t *req,
                                    const char *name) {
    return MHD_lookup_connection_value(req->conn->c, MHD_HEADER_KIND, name);
}

typedef struct header_visit {
    evb_http_header_fn fn;
    void *ud;
    bool stopped;
} header_visit_t;

static enum MHD_Result visit_header(void *cls, enum MHD_ValueKind kind,
                                    const char *key, const char *value) {
    (void)kind;
    header_visit_t *v = cls;
    if (v->stopped || !v->fn(v->ud, key, value ? value : "")) {
        v->stopped = true;
        return MHD_NO;
    }
    return MHD_YES;
}

size_t evb_http_request_headers(const evb_http_request_t *req,
                                evb_http_header_fn fn, void *ud) {
    header_visit_t v = {fn, ud, false};
    int n = MHD_get_connection_values(req->conn->c, MHD_HEADER_KIND,
                                      visit_header, &v);
    return n > 0 ? (size_t)n : 0;
}

const char *evb_http_request_query(const evb_http_request_t *req,
                                   const char *name) {
    return MHD_lookup_connection_value(req->conn->c, MHD_GET_ARGUMENT_KIND,
                                       name);
}

typedef struct query_each {
    const char *name;
    void (*fn)(void *ud, const char *value);
    void *ud;
    size_t n;
} query_each_t;

static enum MHD_Result query_each_cb(void *cls, enum MHD_ValueKind kind,
                                     const char *key, const char *value) {
    (void)kind;
    query_each_t *q = cls;
    if (key && strcmp(key, q->name) == 0) {
        q->n++;
        q->fn(q->ud, value ? value : "");
    }
    return MHD_YES;
}

size_t evb_http_request_query_each(const evb_http_request_t *req,
                                   const char *name,
                                   void (*fn)(void *ud, const char *value),
                                   void *ud) {
    query_each_t q = {name, fn, ud, 0};
    MHD_get_connection_values(req->conn->c, MHD_GET_ARGUMENT_KIND,
                              query_each_cb, &q);
    return q.n;
}

evb_err_t evb_http_response_header(evb_http_response_t *resp, const char *name,
                                   const char *value) {
    if (resp->nheaders >= EVB_HTTP_MAX_HEADERS)
        return EVB_ERR_TOO_LARGE;
    resp->headers[resp->nheaders].name = name;
    resp->headers[resp->nheaders].value = value;
    resp->nheaders++;
    return EVB_ERR_OK;
}

/* ---- streamed answers ---------------------------------------------------- */

evb_err_t evb_http_response_stream(evb_http_response_t *resp,
                                   const evb_http_request_t *req,
                                   evb_http_stream_read_fn read,
                                   evb_http_stream_close_fn close, void *ud,
                                   evb_http_stream_t **out) {
    evb_http_stream_t *st = calloc(1, sizeof *st);
    if (!st)
        return EVB_ERR_NOMEM;
    if (pthread_mutex_init(&st->mu, NULL) != 0) {
        free(st);
        return EVB_ERR_NOMEM;
    }
    st->srv = req->conn->srv;
    st->c = req->conn->c;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(st->c, MHD_CONNECTION_INFO_CONNECTION_FD);
    st->fd = ci ? ci->connect_fd : -1;
    atomic_init(&st->gone, false);
    st->read = read;
    st->close = close;
    st->ud = ud;
    resp->stream = st;
    *out = st;
    return EVB_ERR_OK;
}

void evb_http_stream_wake(evb_http_stream_t *st) {
    pthread_mutex_lock(&st->mu);
    if (st->suspended) {
        st->suspended = false;
        MHD_resume_connection(st->c);
    }
    pthread_mutex_unlock(&st->mu);
}

bool evb_http_stream_draining(const evb_http_stream_t *st) {
    return atomic_load(&st->srv->draining);
}

/* MHD's content reader for a streamed answer (see the top of the file). */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    evb_http_stream_t *st = cls;
    ssize_t n;
    pthread_mutex_lock(&st->mu);
    if (atomic_load(&st->srv->draining) || atomic_load(&st->gone)) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        long r = st->read(st->ud, buf, max);
        if (r > 0) {
            n = (ssize_t)r;
        } else if (r < 0) {
            n = MHD_CONTENT_READER_END_OF_STREAM;
        } else {
            st->suspended = true;
            MHD_suspend_connection(st->c);
            n = 0;
        }
    }
    pthread_mutex_unlock(&st->mu);
    return n;
}

/* Unlink st from the server's list, then let its owner go. */
static void stream_release(evb_http_stream_t *st) {
    evb_http_server_t *s = st->srv;
    pthread_mutex_lock(&s->conn_mu);
    if (st->prev)
        st->prev->next = st->next;
    else if (s->streams == st)
        s->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    pthread_mutex_unlock(&s->conn_mu);
    /* after close no wake can come (the owner unregisters in it) */
    st->close(st->ud);
    pthread_mutex_lock(&st->mu); /* a wake in progress has finished */
    pthread_mutex_unlock(&st->mu);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* MHD's free callback of the streamed response. */
static void stream_free(void *cls) {
    stream_release(cls);
}

/* Queue the streamed answer of resp (status and headers set). */
static enum MHD_Result respond_stream(evb_http_server_t *s,
                                      evb__http_conn_t *rq,
                                      evb_http_response_t *resp) {
    evb_http_stream_t *st = resp->stream;
    pthread_mutex_lock(&s->conn_mu);
    st->next = s->streams;
    if (s->streams)
        s->streams->prev = st;
    s->streams = st;
    pthread_mutex_unlock(&s->conn_mu);
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_reader, st, stream_free);
    if (!r) {
        stream_release(st);
        return MHD_NO;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < resp->nheaders; i++)
        ok = MHD_add_response_header(r, resp->headers[i].name,
                                     resp->headers[i].value) == MHD_YES;
    if (ok)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") ==
             MHD_YES;
    /* a stream may be quiet for long: keep-alive comments are the
     * owner's business, the idle timeout does not apply */
    MHD_set_connection_option(rq->c, MHD_CONNECTION_OPTION_TIMEOUT, 0);
    enum MHD_Result ret =
        ok ? MHD_queue_response(rq->c, resp->status, r) : MHD_NO;
    MHD_destroy_response(r); /* the connection holds it; else stream_free */
    return ret;
}

/* GET /health: the transport is up. */
static void health(const char *method, evb_http_response_t *resp) {
    evb_err_t err;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        resp->status = 405;
        err = evb_http_response_header(resp, "Allow", "GET, HEAD");
    } else {
        resp->status = 200;
        err = evb_buf_append(&resp->body, "{\"status\":\"ok\"}\n", 16);
    }
    if (!err)
        err =
            evb_http_response_header(resp, "Content-Type", "application/json");
    if (err)
        resp->status = 500;
}

/* Run the handler (or /health) and queue its response. */
static enum MHD_Result respond(evb_http_server_t *s, evb__http_conn_t *rq,
                               const char *url, const char *method) {
    evb_http_response_t resp;
    memset(&resp, 0, sizeof resp);
    resp.status = 200;
    evb_buf_init(&resp.body, RESPONSE_MAX);

    if (strcmp(url, "/health") == 0 &&
        rq->body_err != EVB_ERR_LIMIT_EXCEEDED) {
        health(method, &resp);
    } else {
        bool kept = rq->body_err == EVB_ERR_OK;
        evb_http_request_t req = {
            .method = method,
            .path = url,
            .body = kept && rq->body.data ? rq->body.data : "",
            .body_len = kept ? rq->body.len : 0,
            .error = rq->body_err,
            .error_message = rq->error_message,
            .max_body = s->cfg.max_body_bytes,
            .raw_uri = rq->raw_uri,
            .arena = &rq->arena,
            .conn = rq,
        };
        s->handler(s->ud, &req, &resp);
    }
    if (resp.status < 100 || resp.status > 999)
        resp.status = 500;

    struct MHD_Response *r;
    evb_http_stream_t *st = resp.stream;
    if (st) {
        evb_buf_free(&resp.body);
        return respond_stream(s, rq, &resp);
    }
    if (resp.body.len > 0) {
        /* MHD takes the malloc'ed buffer and frees it. */
        r = MHD_create_response_from_buffer(resp.body.len, resp.body.data,
                                            MHD_RESPMEM_MUST_FREE);
        if (r)
            resp.body.data = NULL;
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"",
                                            MHD_RESPMEM_PERSISTENT);
    }
    evb_buf_free(&resp.body);
    if (!r)
        return MHD_NO;
    bool ok = true;
    for (size_t i = 0; ok && i < resp.nheaders; i++)
        ok = MHD_add_response_header(r, resp.headers[i].name,
                                     resp.headers[i].value) == MHD_YES;
    if (ok && (rq->close_after || atomic_load(&s->draining)))
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") ==
             MHD_YES;
    enum MHD_Result ret =
        ok ? MHD_queue_response(rq->c, resp.status, r) : MHD_NO;
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
    (void)version;
    evb_http_server_t *s = cls;
    evb__http_conn_t *rq = *con_cls;

    if (!rq || !rq->started) { /* headers are in */
        if (!rq)
            rq = conn_new(s, c); /* the URI callback could not allocate */
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        rq->started = true;
        inflight_add(s, 1);
        sock_t *k = sock_of(c);
        if (k)
            atomic_store(&k->phase, P_REQUEST);
        if (k && k->over_limit) {
            rq->body_err = EVB_ERR_LIMIT_EXCEEDED;
            rq->error_message = "The server is at its connection limit; "
                                "retry later.";
            rq->close_after = true;
            evb_metrics_http_rejected("max_connections");
            return respond(s, rq, url, method);
        }
        const char *cl = MHD_lookup_connection_value(
            c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && content_length_over(cl, s->cfg.max_body_bytes)) {
            rq->body_err = EVB_ERR_TOO_LARGE;
            evb_metrics_http_rejected("body_too_large");
            return respond(s, rq, url, method);
        }
        return MHD_YES;
    }

    if (*upload_size > 0) { /* a piece of body */
        size_t n = *upload_size;
        *upload_size = 0;
        if (rq->body_err == EVB_ERR_OK) {
            evb_err_t err = evb_buf_append(&rq->body, upload, n);
            if (err == EVB_ERR_OK)
                return MHD_YES;
            rq->body_err = err; /* TOO_LARGE or NOMEM */
            if (err == EVB_ERR_TOO_LARGE)
                evb_metrics_http_rejected("body_too_large");
            evb_buf_free(&rq->body);
        }
        if (n > s->cfg.max_discard_bytes - rq->discarded)
            return MHD_NO; /* close: it is not worth reading more */
        rq->discarded += n;
        return MHD_YES;
    }
    return respond(s, rq, url, method); /* the body is complete */
}

/* ---- connections: the limit and the header deadline ---------------------- */

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_connection(void *cls, struct MHD_Connection *c,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
    evb_http_server_t *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        sock_t *k = calloc(1, sizeof *k);
        *socket_context = k;
        if (!k)
            return; /* not tracked: no deadline, not counted */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        k->fd = ci ? ci->connect_fd : -1;
        atomic_init(&k->phase, P_HEADERS);
        pthread_mutex_lock(&s->conn_mu);
        k->deadline_ns =
            mono_ns() + (uint64_t)s->cfg.header_timeout_s * 1000000000u;
        k->next = s->socks;
        if (s->socks)
            s->socks->prev = k;
        s->socks = k;
        k->over_limit = ++s->nconns > s->cfg.max_connections;
        pthread_mutex_unlock(&s->conn_mu);
        return;
    }
    sock_t *k = *socket_context;
    if (!k)
        return;
    *socket_context = NULL;
    pthread_mutex_lock(&s->conn_mu);
    if (k->prev)
        k->prev->next = k->next;
    else
        s->socks = k->next;
    if (k->next)
        k->next->prev = k->prev;
    s->nconns--;
    pthread_mutex_unlock(&s->conn_mu);
    free(k);
}

/* Bytes the socket has received so far; false if the kernel cannot say. */
static bool bytes_received(int fd, uint64_t *out) {
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) +
                  sizeof ti.tcpi_bytes_received)
        return false;
    *out = ti.tcpi_bytes_received;
    return true;
}

/* One pass over the connections (conn_mu held). */
static void sweep(evb_http_server_t *s) {
    uint64_t now = mono_ns();
    for (sock_t *k = s->socks; k; k = k->next) {
        int ph = atomic_load(&k->phase);
        uint64_t n;
        switch (ph) {
        case P_IDLE_UNMARKED:
            if (!bytes_received(k->fd, &n))
                break;
            k->mark = n;
            atomic_compare_exchange_strong(&k->phase, &ph, P_IDLE);
            break;
        case P_IDLE:
            if (!bytes_received(k->fd, &n) || n == k->mark)
                break;
            k->deadline_ns =
                now + (uint64_t)s->cfg.header_timeout_s * 1000000000u;
            atomic_compare_exchange_strong(&k->phase, &ph, P_HEADERS);
            break;
        case P_HEADERS:
            if (now < k->deadline_ns ||
                !atomic_compare_exchange_strong(&k->phase, &ph, P_KILLED))
                break;
            shutdown(k->fd, SHUT_RDWR);
            evb_metrics_http_rejected("header_timeout");
            evb_log(EVB_LOG_INFO, "http",
                    "closed a connection whose request headers took longer "
                    "than %u s (header timeout)",
                    s->cfg.header_timeout_s);
            break;
        default: break;
        }
    }
}

/* A sleeping stream does not watch its socket: notice clients that hung
 * up (conn_mu held) and wake their streams so that they end. */
static void sweep_streams(evb_http_server_t *s) {
    for (evb_http_stream_t *st = s->streams; st; st = st->next) {
        if (st->fd < 0 || atomic_load(&st->gone))
            continue;
        struct pollfd p = {.fd = st->fd, .events = POLLRDHUP};
        if (poll(&p, 1, 0) == 1 &&
            (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))) {
            atomic_store(&st->gone, true);
            evb_http_stream_wake(st);
        }
    }
}

static void *sweeper_main(void *arg) {
    evb_http_server_t *s = arg;
    pthread_mutex_lock(&s->conn_mu);
    while (s->sweeping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += SWEEP_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->sweep_cv, &s->conn_mu, &ts);
        if (s->sweeping) {
            sweep(s);
            sweep_streams(s);
        }
    }
    pthread_mutex_unlock(&s->conn_mu);
    return NULL;
}

/* The metrics collector: connection and request gauges at scrape time. */
static void collect(void *ud) {
    evb_http_server_t *s = ud;
    evb_metrics_http_connections(evb_http_server_connections(s),
                                 evb_http_server_inflight(s));
}

/* ---- lifecycle ----------------------------------------------------------- */

static void resolve_defaults(evb_http_config_t *c) {
    if (!c->host || !c->host[0])
        c->host = EVB_HTTP_DEFAULT_HOST;
    if (!c->max_body_bytes)
        c->max_body_bytes = EVB_HTTP_DEFAULT_MAX_BODY;
    if (!c->max_discard_bytes)
        c->max_discard_bytes = EVB_HTTP_DEFAULT_MAX_DISCARD;
    if (!c->max_connections)
        c->max_connections = EVB_HTTP_DEFAULT_MAX_CONNECTIONS;
    if (!c->timeout_s)
        c->timeout_s = EVB_HTTP_DEFAULT_TIMEOUT_S;
    if (!c->header_timeout_s)
        c->header_timeout_s = EVB_HTTP_DEFAULT_HEADER_TIMEOUT_S;
    if (!c->threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->threads = n > 0 && n < 256 ? (unsigned)n : 1;
    }
    if (!c->drain_ms)
        c->drain_ms = EVB_HTTP_DEFAULT_DRAIN_MS;
}

static void server_free(evb_http_server_t *s) {
    if (s->tls_key.data)
        explicit_bzero(s->tls_key.data, s->tls_key.cap);
    evb_buf_free(&s->tls_key);
    evb_buf_free(&s->tls_cert);
    pthread_cond_destroy(&s->sweep_cv);
    pthread_mutex_destroy(&s->conn_mu);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* The bound port, asked of MHD (or of the listening socket). */
static uint16_t bound_port(struct MHD_Daemon *d) {
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info && info->port)
        return info->port;
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (!info || getsockname(info->listen_fd, (struct sockaddr *)&ss, &len))
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

/* Read the PEM certificate and key (both or neither). */
static evb_err_t load_tls(evb_http_server_t *s, char *errstr,
                          size_t errstr_size) {
    const char *cert = s->cfg.tls_cert_file, *key = s->cfg.tls_key_file;
    evb_buf_init(&s->tls_cert, TLS_FILE_MAX);
    evb_buf_init(&s->tls_key, TLS_FILE_MAX);
    if (!cert && !key)
        return EVB_ERR_OK;
    if (!cert || !key)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "TLS needs both a certificate and a key");
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "this libmicrohttpd was built without TLS");
    char why[256];
    if (evb_buf_read_file(&s->tls_cert, cert, why, sizeof why))
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "cannot read the TLS certificate: %s", why);
    if (evb_buf_read_file(&s->tls_key, key, why, sizeof why))
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "cannot read the TLS key: %s", why);
    if (!strstr(s->tls_cert.data, "-----BEGIN CERTIFICATE-----"))
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "%s is not a PEM certificate", cert);
    if (!strstr(s->tls_key.data, "PRIVATE KEY-----"))
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "%s is not a PEM private key", key);
    return EVB_ERR_OK;
}

evb_err_t evb_http_server_start(const evb_http_config_t *cfg,
                                evb_http_handler_fn handler, void *ud,
                                evb_http_server_t **out, char *errstr,
                                size_t errstr_size) {
    *out = NULL;
    evb_http_server_t *s = calloc(1, sizeof *s);
    if (!s)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    s->cfg = cfg ? *cfg : evb_http_config_default();
    resolve_defaults(&s->cfg);
    s->handler = handler;
    s->ud = ud;
    atomic_init(&s->draining, false);
    pthread_condattr_t ca;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "cannot create a mutex");
    }
    if (pthread_condattr_init(&ca) != 0 ||
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&s->idle, &ca) != 0 ||
        pthread_cond_init(&s->sweep_cv, &ca) != 0 ||
        pthread_mutex_init(&s->conn_mu, NULL) != 0) {
        /* the process is in no state to go on; leak what was made */
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "cannot create a condition variable");
    }
    pthread_condattr_destroy(&ca);

    evb_err_t terr = load_tls(s, errstr, errstr_size);
    if (terr) {
        server_free(s);
        return terr;
    }
    bool tls = s->tls_cert.data != NULL;

    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", (unsigned)s->cfg.port);
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int gai = getaddrinfo(s->cfg.host, portstr, &hints, &ai);
    if (gai != 0 || !ai) {
        evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                    "cannot resolve listen host '%s': %s", s->cfg.host,
                    gai_strerror(gai));
        if (ai)
            freeaddrinfo(ai);
        server_free(s);
        return EVB_ERR_INVALID_ARG;
    }

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (tls)
        flags |= MHD_USE_TLS;
    /* MHD refuses outright past this; up to it, we answer 503 */
    unsigned hard = s->cfg.max_connections + s->cfg.max_connections / 4 + 64;
    if (hard < s->cfg.threads * 4)
        hard = s->cfg.threads * 4;
    struct MHD_OptionItem tls_ops[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert.data},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key.data},
        {MHD_OPTION_HTTPS_PRIORITIES, 0,
         (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
        {MHD_OPTION_END, 0, NULL},
    };
    static struct MHD_OptionItem no_ops[] = {{MHD_OPTION_END, 0, NULL}};
    s->starting = true;
    /* the logger goes first, so that MHD reports option errors through it */
    s->daemon = MHD_start_daemon(
        flags, s->cfg.port, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_SOCK_ADDR,
        ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, s->cfg.threads,
        MHD_OPTION_CONNECTION_LIMIT, hard, MHD_OPTION_CONNECTION_TIMEOUT,
        s->cfg.timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_ARRAY,
        tls ? tls_ops : no_ops, MHD_OPTION_END);
    pthread_mutex_lock(&s->mu);
    s->starting = false;
    pthread_mutex_unlock(&s->mu);

    char host[INET6_ADDRSTRLEN];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, NULL, 0,
                    NI_NUMERICHOST) != 0)
        snprintf(host, sizeof host, "%s", s->cfg.host);
    bool v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    if (!s->daemon) {
        evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                    "cannot listen on %s%s%s:%u: %s", v6 ? "[" : "", host,
                    v6 ? "]" : "", (unsigned)s->cfg.port,
                    s->start_err[0] ? s->start_err : "libmicrohttpd failed");
        server_free(s);
        return EVB_ERR_IO;
    }
    s->port = bound_port(s->daemon);
    snprintf(s->address, sizeof s->address, "%s%s%s:%u", v6 ? "[" : "", host,
             v6 ? "]" : "", (unsigned)s->port);
    s->sweeping = true;
    if (pthread_create(&s->sweeper, NULL, sweeper_main, s) == 0)
        s->sweeper_started = true;
    else
        evb_log(EVB_LOG_WARN, "http",
                "cannot start the header-timeout sweeper; slow clients are "
                "only bound by the idle timeout");
    evb_metrics_add_collector(evb_metrics_default(), collect, s);
    *out = s;
    return EVB_ERR_OK;
}

uint16_t evb_http_server_port(const evb_http_server_t *s) {
    return s->port;
}

const char *evb_http_server_address(const evb_http_server_t *s) {
    return s->address;
}

bool evb_http_server_tls(const evb_http_server_t *s) {
    return s->tls_cert.data != NULL;
}

unsigned evb_http_server_inflight(evb_http_server_t *s) {
    pthread_mutex_lock(&s->mu);
    unsigned n = s->inflight;
    pthread_mutex_unlock(&s->mu);
    return n;
}

unsigned evb_http_server_connections(evb_http_server_t *s) {
    pthread_mutex_lock(&s->conn_mu);
    unsigned n = s->nconns;
    pthread_mutex_unlock(&s->conn_mu);
    return n;
}

void evb_http_server_stop(evb_http_server_t *s) {
    if (!s)
        return;
    evb_metrics_remove_collector(evb_metrics_default(), collect, s);
    atomic_store(&s->draining, true);
    MHD_socket lfd = MHD_quiesce_daemon(s->daemon);
    if (lfd != MHD_INVALID_SOCKET)
        shutdown(lfd, SHUT_RDWR); /* refuse new connections now */

    /* end the streams: a woken reader sees draining and ends its body */
    pthread_mutex_lock(&s->conn_mu);
    for (evb_http_stream_t *st = s->streams; st; st = st->next)
        evb_http_stream_wake(st);
    pthread_mutex_unlock(&s->conn_mu);

    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(s->cfg.drain_ms / 1000);
    deadline.tv_nsec += (long)(s->cfg.drain_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    unsigned left = s->inflight;
    while (s->inflight > 0)
        if (pthread_cond_timedwait(&s->idle, &s->mu, &deadline) == ETIMEDOUT)
            break;
    unsigned abandoned = s->inflight;
    pthread_mutex_unlock(&s->mu);
    if (left)
        evb_log(EVB_LOG_INFO, "http",
                "drained %u request%s in flight%s", left - abandoned,
                left - abandoned == 1 ? "" : "s",
                abandoned ? "; the rest are cut off" : "");

    pthread_mutex_lock(&s->conn_mu);
    s->sweeping = false;
    pthread_cond_signal(&s->sweep_cv);
    pthread_mutex_unlock(&s->conn_mu);
    if (s->sweeper_started)
        pthread_join(s->sweeper, NULL);
    /* no stream may be suspended when MHD stops */
    pthread_mutex_lock(&s->conn_mu);
    for (evb_http_stream_t *st = s->streams; st; st = st->next)
        evb_http_stream_wake(st);
    pthread_mutex_unlock(&s->conn_mu);
    MHD_stop_daemon(s->daemon);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    server_free(s);
}
