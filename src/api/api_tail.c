/*
 * api_tail.c: GET /_evbus/tail, the events arriving on a bus as they come
 * (server-sent events), for `evbus tail`.
 *
 *   GET /_evbus/tail?bus=NAME[&pattern=JSON]
 *   200 text/event-stream:
 *     : evbus tail bus=NAME            (at once: the subscription is live)
 *     data: {"version":"0","id":...}   (one per event, compact JSON)
 *     : keepalive                      (every TAIL_KEEPALIVE_S when quiet)
 *     event: dropped                   (the client did not keep up; then
 *     data: {"message":"..."}           the stream ends)
 *
 * Errors, AWS-shaped: 404 ResourceNotFoundException (no such bus), 400
 * InvalidEventPatternException, 405, 503 ThrottlingException (too many
 * tail clients).
 *
 * Ingestion must never wait for a tail client. The bus tap
 * (evb__tail_publish, on the thread that put the events) takes the hub's
 * read lock only when there are subscribers, and per subscriber of the
 * event's bus appends the raw event to a bounded queue under the
 * subscriber's mutex and, only if the client's stream sleeps, wakes it.
 * Filtering by pattern and formatting happen on the HTTP worker that
 * writes to the client (the stream's read function). A client whose
 * queue would pass TAIL_MAX_QUEUE is dropped: its queue is freed, it gets
 * a last `dropped` event and the stream ends.
 *
 * A keep-alive thread marks every subscriber every TAIL_KEEPALIVE_S so
 * that quiet streams still write (a client that went away is noticed and
 * its connection closed).
 *
 * Locks: hub->lock (rwlock) before sub->mu; the stream's own mutex is
 * taken by evb_http_stream_wake after sub->mu is released, and the read
 * function (which runs under the stream's mutex) takes only sub->mu.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../metrics/metrics.h"
#include "../pattern/pattern.h"
#include "api_internal.h"

#define TAIL_MAX_QUEUE ((size_t)4 * 1024 * 1024)
#define TAIL_KEEPALIVE_S 15

typedef struct sub {
    struct sub *prev, *next; /* on hub->subs, under hub->lock */
    evb__tail_hub_t *hub;
    char *bus;
    evb_ruleset_t *rs; /* NULL: no pattern, every event */
    evb_matcher_t *m;
    evb_match_ctx_t *ctx;
    evb_http_stream_t *st;

    pthread_mutex_t mu; /* guards q, qoff, sleeping, dropped, keepalive */
    evb_buf_t q;        /* records: 4-byte length, then the event */
    size_t qoff;
    bool sleeping, dropped, keepalive;

    /* the reader's own (under the stream's mutex) */
    evb_buf_t out;
    size_t outoff;
    evb_buf_t rec;
    bool ending;
} sub_t;

struct evb__tail_hub {
    pthread_rwlock_t lock; /* guards subs */
    sub_t *subs;
    atomic_uint n;
    unsigned max;
    pthread_mutex_t ka_mu;
    pthread_cond_t ka_cv;
    bool stop;
    pthread_t ka;
    bool ka_started;
};

static void keepalive_all(evb__tail_hub_t *h) {
    pthread_rwlock_rdlock(&h->lock);
    for (sub_t *s = h->subs; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        s->keepalive = true;
        bool wake = s->sleeping;
        s->sleeping = false;
        pthread_mutex_unlock(&s->mu);
        if (wake)
            evb_http_stream_wake(s->st);
    }
    pthread_rwlock_unlock(&h->lock);
}

static void *keepalive_main(void *arg) {
    evb__tail_hub_t *h = arg;
    pthread_mutex_lock(&h->ka_mu);
    while (!h->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += TAIL_KEEPALIVE_S;
        pthread_cond_timedwait(&h->ka_cv, &h->ka_mu, &ts);
        if (h->stop)
            break;
        pthread_mutex_unlock(&h->ka_mu);
        keepalive_all(h);
        pthread_mutex_lock(&h->ka_mu);
    }
    pthread_mutex_unlock(&h->ka_mu);
    return NULL;
}

evb__tail_hub_t *evb__tail_hub_new(unsigned max_clients) {
    evb__tail_hub_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_rwlock_init(&h->lock, NULL);
    pthread_mutex_init(&h->ka_mu, NULL);
    pthread_cond_init(&h->ka_cv, NULL);
    atomic_init(&h->n, 0);
    h->max = max_clients ? max_clients : EVB_API_DEFAULT_MAX_TAIL_CLIENTS;
    return h;
}

void evb__tail_hub_free(evb__tail_hub_t *h) {
    if (!h)
        return;
    if (h->ka_started) {
        pthread_mutex_lock(&h->ka_mu);
        h->stop = true;
        pthread_cond_signal(&h->ka_cv);
        pthread_mutex_unlock(&h->ka_mu);
        pthread_join(h->ka, NULL);
    }
    /* the HTTP server has stopped: every stream was closed */
    pthread_cond_destroy(&h->ka_cv);
    pthread_mutex_destroy(&h->ka_mu);
    pthread_rwlock_destroy(&h->lock);
    free(h);
}

void evb__tail_publish(evb__tail_hub_t *h, const char *bus, const char *event,
                       size_t len) {
    if (EVB_LIKELY(atomic_load_explicit(&h->n, memory_order_relaxed) == 0))
        return;
    uint32_t n32 = (uint32_t)len;
    pthread_rwlock_rdlock(&h->lock);
    for (sub_t *s = h->subs; s; s = s->next) {
        if (strcmp(s->bus, bus) != 0)
            continue;
        pthread_mutex_lock(&s->mu);
        if (!s->dropped) {
            if (s->q.len - s->qoff + len + 4 > TAIL_MAX_QUEUE ||
                evb_buf_append(&s->q, &n32, 4) ||
                evb_buf_append(&s->q, event, len)) {
                s->dropped = true; /* it did not keep up */
                evb_buf_free(&s->q);
                s->qoff = 0;
                evb_metrics_tail_dropped();
                evb_log(EVB_LOG_INFO, "tail",
                        "dropped a tail client of bus %s: it did not keep "
                        "up",
                        s->bus);
            }
        }
        bool wake = s->sleeping;
        s->sleeping = false;
        pthread_mutex_unlock(&s->mu);
        if (wake)
            evb_http_stream_wake(s->st);
    }
    pthread_rwlock_unlock(&h->lock);
}

static void sub_free(sub_t *s) {
    evb_buf_free(&s->q);
    evb_buf_free(&s->out);
    evb_buf_free(&s->rec);
    if (s->m)
        evb_matcher_unref(s->m);
    evb_ruleset_free(s->rs);
    evb_match_ctx_free(s->ctx);
    pthread_mutex_destroy(&s->mu);
    free(s->bus);
    free(s);
}

/* The stream's close: leave the hub (no publish can reach s after). */
static void sub_close(void *ud) {
    sub_t *s = ud;
    evb__tail_hub_t *h = s->hub;
    pthread_rwlock_wrlock(&h->lock);
    if (s->prev)
        s->prev->next = s->next;
    else
        h->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    atomic_fetch_sub(&h->n, 1);
    pthread_rwlock_unlock(&h->lock);
    evb_metrics_tail_subscribers(-1);
    sub_free(s);
}

/* Take the next queued event into s->rec; false when there is none. */
static bool pop(sub_t *s) {
    if (s->qoff >= s->q.len)
        return false;
    uint32_t n;
    memcpy(&n, s->q.data + s->qoff, 4);
    evb_buf_reset(&s->rec);
    evb_err_t err = evb_buf_append(&s->rec, s->q.data + s->qoff + 4, n);
    s->qoff += 4 + (size_t)n;
    if (s->qoff >= s->q.len) {
        evb_buf_reset(&s->q);
        s->qoff = 0;
    } else if (s->qoff > 65536 && s->qoff > s->q.len / 2) {
        memmove(s->q.data, s->q.data + s->qoff, s->q.len - s->qoff);
        s->q.len -= s->qoff;
        s->qoff = 0;
    }
    return err == EVB_ERR_OK;
}

static bool wanted(sub_t *s) {
    if (!s->m)
        return true;
    const char *const *names;
    size_t count = 0;
    return evb_matcher_match(s->m, s->ctx, s->rec.data, s->rec.len, &names,
                             &count, NULL, 0) == EVB_ERR_OK &&
           count > 0;
}

/* The stream's read (see http.h): runs on an HTTP worker. */
static long sub_read(void *ud, char *buf, size_t max) {
    sub_t *s = ud;
    for (;;) {
        if (s->out.len > s->outoff) {
            size_t n = s->out.len - s->outoff;
            if (n > max)
                n = max;
            memcpy(buf, s->out.data + s->outoff, n);
            s->outoff += n;
            if (s->outoff == s->out.len) {
                evb_buf_reset(&s->out);
                s->outoff = 0;
            }
            return (long)n;
        }
        if (s->ending)
            return -1;
        pthread_mutex_lock(&s->mu);
        if (s->dropped) {
            pthread_mutex_unlock(&s->mu);
            s->ending = true;
            if (evb_buf_appendf(&s->out,
                                "event: dropped\ndata: {\"message\":\"The "
                                "client did not keep up with the events of "
                                "bus %s; more than %zu bytes were waiting.\"}"
                                "\n\n",
                                s->bus, TAIL_MAX_QUEUE))
                return -1;
            continue;
        }
        if (pop(s)) {
            pthread_mutex_unlock(&s->mu);
            if (wanted(s) &&
                (evb_buf_append(&s->out, "data: ", 6) ||
                 evb_buf_append(&s->out, s->rec.data, s->rec.len) ||
                 evb_buf_append(&s->out, "\n\n", 2)))
                return -1;
            continue;
        }
        if (s->keepalive) {
            s->keepalive = false;
            pthread_mutex_unlock(&s->mu);
            if (evb_buf_append(&s->out, ": keepalive\n\n", 13))
                return -1;
            continue;
        }
        s->sleeping = true;
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
}

static void tail_fail(evb_http_response_t *resp, unsigned status,
                      const char *type, const char *message) {
    evb_err_t err = evb__api_error_body(resp, status, type, message);
    if (!err)
        err =
            evb_http_response_header(resp, "Content-Type", "application/json");
    if (err) {
        resp->status = 500;
        evb_buf_free(&resp->body);
    }
}

void evb__tail_handle(const evb_api_t *api, const evb_http_request_t *req,
                      evb_http_response_t *resp) {
    evb__tail_hub_t *h = api->tail;
    if (strcmp(req->method, "GET") != 0) {
        tail_fail(resp, 405, "UnknownOperationException",
                  "GET /_evbus/tail streams events; no other method is "
                  "served.");
        return;
    }
    if (!api->bus || !h) {
        tail_fail(resp, 500, "InternalException", "No event bus service.");
        return;
    }
    char name[1700], why[512];
    if (evb_bus_resolve_name(api->bus, evb_http_request_query(req, "bus"), name,
                             sizeof name, why, sizeof why)) {
        tail_fail(resp, 404, "ResourceNotFoundException", why);
        return;
    }
    evb_bus_info_t info;
    memset(&info, 0, sizeof info);
    evb_err_t err = evb_bus_describe(api->bus, name, &info, why, sizeof why);
    evb_bus_info_free(&info);
    if (err) {
        tail_fail(resp, err == EVB_ERR_NOT_FOUND ? 404 : 500,
                  err == EVB_ERR_NOT_FOUND ? "ResourceNotFoundException"
                                           : "InternalException",
                  why);
        return;
    }
    sub_t *s = calloc(1, sizeof *s);
    if (!s || !(s->bus = strdup(name))) {
        free(s);
        tail_fail(resp, 500, "InternalException", "Out of memory");
        return;
    }
    s->hub = h;
    pthread_mutex_init(&s->mu, NULL);
    evb_buf_init(&s->q, 0);
    evb_buf_init(&s->out, 0);
    evb_buf_init(&s->rec, 0);
    const char *pattern = evb_http_request_query(req, "pattern");
    if (pattern && *pattern) {
        s->rs = evb_ruleset_new(NULL);
        s->ctx = evb_match_ctx_new();
        err = s->rs && s->ctx
                  ? evb_ruleset_add(s->rs, "tail", pattern, strlen(pattern),
                                    why, sizeof why)
                  : EVB_ERR_NOMEM;
        if (err) {
            sub_free(s);
            if (err == EVB_ERR_INVALID_EVENT_PATTERN)
                tail_fail(resp, 400, "InvalidEventPatternException", why);
            else
                tail_fail(resp, 500, "InternalException", "Out of memory");
            return;
        }
        s->m = evb_ruleset_acquire(s->rs);
    }
    if (evb_buf_appendf(&s->out, ": evbus tail bus=%s\n\n", name) ||
        evb_http_response_header(resp, "Content-Type", "text/event-stream") ||
        evb_http_response_header(resp, "Cache-Control", "no-cache")) {
        sub_free(s);
        tail_fail(resp, 500, "InternalException", "Out of memory");
        return;
    }
    pthread_rwlock_wrlock(&h->lock);
    if (atomic_load(&h->n) >= h->max) {
        pthread_rwlock_unlock(&h->lock);
        sub_free(s);
        evb_metrics_http_rejected("tail_subscribers");
        char msg[128];
        snprintf(msg, sizeof msg,
                 "Too many tail clients: the limit is %u; retry later.",
                 h->max);
        resp->nheaders = 0;
        tail_fail(resp, 503, "ThrottlingException", msg);
        return;
    }
    if (!h->ka_started) { /* the first client starts the keep-alives */
        h->ka_started = pthread_create(&h->ka, NULL, keepalive_main, h) == 0;
    }
    if (evb_http_response_stream(resp, req, sub_read, sub_close, s, &s->st)) {
        pthread_rwlock_unlock(&h->lock);
        sub_free(s);
        resp->nheaders = 0;
        tail_fail(resp, 500, "InternalException", "Out of memory");
        return;
    }
    s->next = h->subs;
    if (h->subs)
        h->subs->prev = s;
    h->subs = s;
    atomic_fetch_add(&h->n, 1);
    pthread_rwlock_unlock(&h->lock);
    evb_metrics_tail_subscribers(1);
    resp->status = 200;
}
