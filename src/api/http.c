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
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"

/* Largest response body a handler may produce. */
#define RESPONSE_MAX ((size_t)64 * 1024 * 1024)

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

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)c;
    (void)toe;
    evb_http_server_t *s = cls;
    evb__http_conn_t *rq = *con_cls;
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

    if (strcmp(url, "/health") == 0) {
        health(method, &resp);
    } else {
        bool kept = rq->body_err == EVB_ERR_OK;
        evb_http_request_t req = {
            .method = method,
            .path = url,
            .body = kept && rq->body.data ? rq->body.data : "",
            .body_len = kept ? rq->body.len : 0,
            .error = rq->body_err,
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
    if (ok && atomic_load(&s->draining))
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
        const char *cl = MHD_lookup_connection_value(
            c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && content_length_over(cl, s->cfg.max_body_bytes)) {
            rq->body_err = EVB_ERR_TOO_LARGE;
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
            evb_buf_free(&rq->body);
        }
        if (n > s->cfg.max_discard_bytes - rq->discarded)
            return MHD_NO; /* close: it is not worth reading more */
        rq->discarded += n;
        return MHD_YES;
    }
    return respond(s, rq, url, method); /* the body is complete */
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
    if (!c->threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->threads = n > 0 && n < 256 ? (unsigned)n : 1;
    }
    if (!c->drain_ms)
        c->drain_ms = EVB_HTTP_DEFAULT_DRAIN_MS;
}

static void server_free(evb_http_server_t *s) {
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
        pthread_cond_init(&s->idle, &ca) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "cannot create a condition variable");
    }
    pthread_condattr_destroy(&ca);

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
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->starting = true;
    /* the logger goes first, so that MHD reports option errors through it */
    s->daemon = MHD_start_daemon(
        flags, s->cfg.port, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_SOCK_ADDR,
        ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, s->cfg.threads,
        MHD_OPTION_CONNECTION_LIMIT, s->cfg.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_END);
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
    *out = s;
    return EVB_ERR_OK;
}

uint16_t evb_http_server_port(const evb_http_server_t *s) {
    return s->port;
}

const char *evb_http_server_address(const evb_http_server_t *s) {
    return s->address;
}

unsigned evb_http_server_inflight(evb_http_server_t *s) {
    pthread_mutex_lock(&s->mu);
    unsigned n = s->inflight;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void evb_http_server_stop(evb_http_server_t *s) {
    if (!s)
        return;
    atomic_store(&s->draining, true);
    MHD_socket lfd = MHD_quiesce_daemon(s->daemon);
    if (lfd != MHD_INVALID_SOCKET)
        shutdown(lfd, SHUT_RDWR); /* refuse new connections now */

    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(s->cfg.drain_ms / 1000);
    deadline.tv_nsec += (long)(s->cfg.drain_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (s->inflight > 0)
        if (pthread_cond_timedwait(&s->idle, &s->mu, &deadline) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&s->mu);

    MHD_stop_daemon(s->daemon);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    server_free(s);
}
