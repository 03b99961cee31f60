/*
 * http: the HTTP/1.1 server under every evbus API (AWS JSON 1.1 today,
 * the Pipes and Schema Registry REST APIs later), built on libmicrohttpd.
 *
 * The server owns the transport and nothing else: it accepts connections
 * (keep-alive), enforces the body limit, collects the whole request body,
 * answers `GET /health` itself, and hands every other request, complete,
 * to one handler function that fills in a response. What a request means
 * (AWS targets, error shapes, request ids) belongs to the handler; see
 * api.h.
 *
 * Body limit: a request whose Content-Length exceeds max_body_bytes is
 * refused before any of its body is read (no "100 Continue" is sent, and
 * the connection is closed after the answer). A chunked body that grows
 * past the limit stops being stored at that point; the handler is called
 * with req->error == EVB_ERR_TOO_LARGE and must answer 413.
 *
 * Threading: the handler runs on the server's worker threads, several
 * requests at once; it must be thread-safe and must not block for long
 * (see http.c for the threading model).
 *
 * Limits: at most max_connections connections are served; one more is
 * still accepted (up to a hard limit above it) so that its first request
 * can be answered: the handler is called with req->error ==
 * EVB_ERR_LIMIT_EXCEEDED (and req->error_message) before the body is read
 * and should answer 503; the connection is closed after the answer. A
 * connection must deliver each request's headers (and, for the first
 * one, finish its TLS handshake) within header_timeout_s of its first
 * byte, however slowly it sends them; otherwise it is closed. A
 * connection idle for timeout_s is closed.
 *
 * TLS: with tls_cert_file and tls_key_file (PEM) the server speaks HTTPS
 * only (GnuTLS through libmicrohttpd; TLS 1.2 and 1.3).
 *
 * Streaming: a handler may answer with a body produced over time
 * (evb_http_response_stream), e.g. server-sent events.
 */
#ifndef EVB_HTTP_H
#define EVB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

/* Defaults used when a configuration field is 0 (or NULL). */
#define EVB_HTTP_DEFAULT_HOST "127.0.0.1"
/* 1 MiB of event payload (EventBridge's entry limit) plus slack for the
 * JSON around it: ten entries' names, bus names, trace headers and the
 * escaping of Detail strings. PutEvents enforces the 1 MiB itself. */
#define EVB_HTTP_DEFAULT_MAX_BODY ((size_t)(1024 + 256) * 1024)
/* A chunked body past the limit is read and dropped up to this many more
 * bytes so the client can still read the 413; beyond it the connection
 * is closed without an answer. */
#define EVB_HTTP_DEFAULT_MAX_DISCARD ((size_t)8 * 1024 * 1024)
#define EVB_HTTP_DEFAULT_MAX_CONNECTIONS 1024u
#define EVB_HTTP_DEFAULT_TIMEOUT_S 60u
#define EVB_HTTP_DEFAULT_DRAIN_MS 10000u
#define EVB_HTTP_DEFAULT_HEADER_TIMEOUT_S 10u

/* Optional sink for the server's own diagnostics (one line, no newline). */
typedef void (*evb_http_log_fn)(void *ud, const char *line);

typedef struct evb_http_config {
    const char *host;         /* numeric address or name; NULL: 127.0.0.1 */
    uint16_t port;            /* 0: an ephemeral port (see _port()) */
    size_t max_body_bytes;    /* 0: EVB_HTTP_DEFAULT_MAX_BODY */
    size_t max_discard_bytes; /* 0: EVB_HTTP_DEFAULT_MAX_DISCARD */
    unsigned max_connections; /* 0: EVB_HTTP_DEFAULT_MAX_CONNECTIONS; split
                                 evenly among the worker threads */
    unsigned timeout_s;       /* idle time before a connection is closed;
                                 0: EVB_HTTP_DEFAULT_TIMEOUT_S */
    unsigned threads;         /* worker threads; 0: one per online CPU */
    unsigned drain_ms;        /* how long stop waits for in-flight requests;
                                 0: EVB_HTTP_DEFAULT_DRAIN_MS */
    evb_http_log_fn log;      /* NULL: diagnostics are dropped */
    void *log_ud;
    unsigned header_timeout_s; /* time allowed for a request's headers
                                  from its first byte (the first request:
                                  from the connection, TLS handshake
                                  included); 0: EVB_HTTP_DEFAULT_HEADER_TIMEOUT_S */
    const char *tls_cert_file; /* PEM certificate (chain); with
                                  tls_key_file: HTTPS. NULL: plain HTTP */
    const char *tls_key_file;  /* PEM private key (unencrypted) */
} evb_http_config_t;

/* A configuration with every field at its default (all zero). */
evb_http_config_t evb_http_config_default(void);

/*
 * A complete request, valid for the duration of the handler call.
 * body is NUL-terminated (body_len excludes the NUL; the body may itself
 * contain NULs). arena lives until the request completes: strings put in
 * the response's headers may be allocated from it.
 */
typedef struct evb__http_conn evb__http_conn_t;
typedef struct evb_http_request {
    const char *method; /* "POST", "GET", ... */
    const char *path;   /* the URL path, without the query string */
    const char *body;   /* "" when there is none */
    size_t body_len;
    evb_err_t error; /* EVB_ERR_OK, or EVB_ERR_TOO_LARGE: the body was
                        over max_body_bytes and was not kept, or
                        EVB_ERR_LIMIT_EXCEEDED: the server is at its
                        connection limit (answer 503; no body was read) */
    const char *error_message; /* what the limit was, when error is set */
    size_t max_body; /* the limit in force */
    /* the request target exactly as received ("/a%20b?x=1"): path and
     * query still percent-encoded, as SigV4 needs them; NULL if unknown */
    const char *raw_uri;
    evb_arena_t *arena;
    evb__http_conn_t *conn; /* internal */
} evb_http_request_t;

/* The value of request header name (case-insensitive), NULL if absent. */
const char *evb_http_request_header(const evb_http_request_t *req,
                                    const char *name);

/* The value of query-string argument name (decoded, case-sensitive),
 * NULL if absent; "" for a bare `?name`. */
const char *evb_http_request_query(const evb_http_request_t *req,
                                   const char *name);

/* Call fn for every request header, in the order received (a repeated
 * header once per occurrence; names as sent). fn returns false to stop.
 * Returns the number of headers visited. */
typedef bool (*evb_http_header_fn)(void *ud, const char *name,
                                   const char *value);
size_t evb_http_request_headers(const evb_http_request_t *req,
                                evb_http_header_fn fn, void *ud);

/* Every value of query-string argument name (decoded), in the order
 * given: fn(ud, value) for each (`?k=a&k=b` gives a, then b). Returns how
 * many there were. */
size_t evb_http_request_query_each(const evb_http_request_t *req,
                                   const char *name,
                                   void (*fn)(void *ud, const char *value),
                                   void *ud);

#define EVB_HTTP_MAX_HEADERS 8

/*
 * The response a handler fills in. status starts at 200 and body empty;
 * header names and values are copied when the handler returns.
 */
typedef struct evb_http_response {
    unsigned status;
    evb_buf_t body;
    size_t nheaders;
    struct {
        const char *name;
        const char *value;
    } headers[EVB_HTTP_MAX_HEADERS];
    struct evb_http_stream *stream; /* set by evb_http_response_stream */
} evb_http_response_t;

/*
 * Streamed responses. read(ud, buf, max) is called on a worker thread
 * whenever the client can take more: it copies up to max bytes into buf
 * and returns how many (> 0), 0 when it has nothing now (the connection
 * then sleeps, without a thread, until evb_http_stream_wake), or -1 to
 * end the body. It must not block. close(ud) is called exactly once when
 * the stream is over (ended, client gone, server stopping, or the answer
 * could not even be started); after it returns the stream handle is
 * gone and must not be woken again.
 */
typedef struct evb_http_stream evb_http_stream_t;
typedef long (*evb_http_stream_read_fn)(void *ud, char *buf, size_t max);
typedef void (*evb_http_stream_close_fn)(void *ud);

/*
 * Make resp a streamed answer (status and headers as set; the body comes
 * from read, sent chunked; the connection's idle timeout is lifted).
 * *out receives the handle to wake. On error (EVB_ERR_NOMEM) close is
 * not called and nothing changes.
 */
evb_err_t evb_http_response_stream(evb_http_response_t *resp,
                                   const evb_http_request_t *req,
                                   evb_http_stream_read_fn read,
                                   evb_http_stream_close_fn close, void *ud,
                                   evb_http_stream_t **out);

/* There is something to read: resume the stream's connection if it
 * sleeps. Any thread; cheap when it does not sleep. */
void evb_http_stream_wake(evb_http_stream_t *st);

/* Is the server shutting down (streams should end)? */
bool evb_http_stream_draining(const evb_http_stream_t *st);

/* Add a response header. EVB_ERR_TOO_LARGE when EVB_HTTP_MAX_HEADERS are
 * already set. The strings must outlive the handler call. */
evb_err_t evb_http_response_header(evb_http_response_t *resp, const char *name,
                                   const char *value);

/*
 * The request handler. Called once per request (never for /health), on a
 * worker thread, with the whole body. It sets resp->status, headers and
 * body. If it leaves the body too big to send or the server cannot build
 * the response, the connection is closed.
 */
typedef void (*evb_http_handler_fn)(void *ud, const evb_http_request_t *req,
                                    evb_http_response_t *resp);

typedef struct evb_http_server evb_http_server_t;

/*
 * Bind, listen and start the worker threads. On success *out is a running
 * server that the caller stops (and frees) with evb_http_server_stop.
 * handler and ud must stay valid until then.
 * Errors: EVB_ERR_INVALID_ARG (host does not resolve, only one of the TLS
 * files given), EVB_ERR_IO (cannot read a TLS file, bind or start; errstr
 * says why), EVB_ERR_NOMEM.
 */
evb_err_t evb_http_server_start(const evb_http_config_t *cfg,
                                evb_http_handler_fn handler, void *ud,
                                evb_http_server_t **out, char *errstr,
                                size_t errstr_size);

/* The port the server is bound to (the real one when cfg->port was 0). */
uint16_t evb_http_server_port(const evb_http_server_t *s);

/* The bound address as text, "127.0.0.1:4010" or "[::1]:4010". */
const char *evb_http_server_address(const evb_http_server_t *s);

/* Requests whose headers have arrived and whose response has not yet been
 * sent. Any thread. */
unsigned evb_http_server_inflight(evb_http_server_t *s);

/* Open connections (over-limit ones included). Any thread. */
unsigned evb_http_server_connections(evb_http_server_t *s);

/* Does the server speak HTTPS? */
bool evb_http_server_tls(const evb_http_server_t *s);

/*
 * Clean shutdown, from any thread but a handler: stop accepting (new
 * connections are refused at once), end every streamed response, let the
 * requests in flight finish (their responses carry "Connection: close"),
 * wait at most drain_ms for them, then close every connection, join the
 * threads and free s.
 * s may be NULL.
 */
void evb_http_server_stop(evb_http_server_t *s);

#endif
