/*
 * invoker.c: calls API destinations over HTTP(S) with libcurl's multi
 * interface, on one thread.
 *
 * evb_apidest_invoke only appends to an inbox (a mutex-guarded list) and
 * wakes the thread with curl_multi_wakeup. The thread's loop:
 *
 *   1. takes the inbox; resolves each invocation's destination and
 *      connection from the store (a WAL read, never blocked by writers)
 *      and appends it to its destination's bucket queue, or completes it
 *      at once when the destination is gone or not authorized;
 *   2. starts every queued invocation its bucket allows, up to
 *      max_in_flight: GCRA, one start every 1/rate seconds on a schedule
 *      that is kept when the loop wakes late, with BUCKET_SLACK_NS of
 *      tolerance (so a start may come up to 5 ms early, and a loop that
 *      was held up catches up at once instead of turning its delay into
 *      a queue that drains at exactly the rate; the long-run rate stays
 *      exact, and no second holds more than rate x 1.005 starts);
 *   3. for OAuth connections, takes the cached token or parks the
 *      invocation on the connection's token entry, starting one token
 *      request for all of them;
 *   4. polls (until the next bucket start is due, at most 1 s) and reaps
 *      finished transfers: a token response resumes or fails its parked
 *      invocations, a target response completes its invocation.
 *
 * Resolved destinations are cached (dest_t, by ARN): both rows, parsed
 * once, with what every request to the destination shares compiled
 * ahead: the method, the endpoint, its rate bucket and, for requests
 * without target HttpParameters, the whole header list. The control
 * plane bumps a generation after every committed change to a connection
 * or destination (evb__apidest_changed); the loop drops the cache when it
 * moves, and a request that waited in a bucket across a change is
 * resolved again before it starts. Easy handles are kept for reuse.
 *
 * Connections are reused by the multi handle's pool, so EventBridge's
 * `Connection: close` is not sent (a choice: the pool matters more for a
 * local bus than mimicking that header). Redirects are not followed (3xx
 * is a non-retriable outcome, as EventBridge documents).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "apidest_internal.h"

#define RESP_SNIPPET 96
#define TOKEN_BODY_MAX 16384
#define TOKEN_MARGIN_NS (30ull * 1000000000ull)

typedef struct req req_t;
typedef struct bucket bucket_t;
typedef struct token token_t;
typedef struct dest dest_t;

#define DEST_BUCKETS 256 /* destination cache hash buckets */
#define BUCKET_SLACK_NS 5000000ull /* GCRA tolerance: 5 ms */
#define EASY_POOL_MAX 256

/* What an easy handle is doing (its CURLOPT_PRIVATE). */
typedef enum xfer_kind { XFER_TARGET, XFER_TOKEN } xfer_kind_t;

struct req {
    xfer_kind_t kind; /* XFER_TARGET: first member, see reap() */
    req_t *next;
    char *dest_arn;
    json_t *hp; /* the target's HttpParameters, or NULL */
    char *body;
    size_t len;
    evb_apidest_done_fn done;
    void *ud;
    dest_t *d; /* resolved (a reference), from admit() on */
    CURL *easy;
    req_t *fprev, *fnext; /* the in-flight list, while easy != NULL */
    struct curl_slist *hdrs;
    char *url, *send_body;
    char *auth_header; /* "Authorization: Bearer ..." used, for 401 */
    char snippet[RESP_SNIPPET];
    size_t snippet_len;
    /* evb_apidest_invoke_capture: the whole response body is kept */
    bool capture;
    evb_apidest_body_fn body_done;
    evb_buf_t resp;
    bool rate_limited; /* it waited for its destination's rate limit */
};

struct bucket {
    bucket_t *next;
    char *arn;
    uint64_t interval_ns;
    uint64_t tat_ns; /* GCRA's theoretical arrival time */
    req_t *head, *tail;
};

/* A resolved destination (invoker thread only). Strings point into t's
 * JSON; requests hold references, the cache one more. */
struct dest {
    dest_t *next;
    char *arn;
    uint32_t hash;
    unsigned refs;
    uint64_t generation; /* evb__apidest_generation() before the read */
    evb__apidest_target_t t;
    const char *method, *endpoint;
    bucket_t *bucket;
    bool oauth;
    bool plain_url;   /* no '*' and no connection query parameters */
    bool body_params; /* the connection adds BodyParameters */
    /* the headers of a request without target HttpParameters (not for
     * OAuth, whose token changes); NULL when not built */
    struct curl_slist *hdrs;
};

struct token {
    xfer_kind_t kind; /* XFER_TOKEN */
    token_t *next;
    char *conn_arn;
    int64_t conn_modified_ms;
    char *header; /* "Authorization: Bearer x", NULL when none */
    uint64_t expires_ns;
    CURL *easy; /* the token request in flight */
    struct curl_slist *hdrs;
    char *url, *send_body;
    evb_buf_t resp;
    req_t *waiters;
};

typedef struct cancel {
    evb_apidest_done_fn done;
    evb_apidest_mine_fn mine;
    void *arg;
} cancel_t;

static bool cancels(const cancel_t *c, const req_t *r) {
    return r->done == c->done && (!c->mine || c->mine(r->ud, c->arg));
}

struct evb_apidest_invoker {
    evb_apidest_scope_t sc;
    char *account, *region;
    unsigned timeout_ms, max_in_flight;
    char *ca_file;
    bool insecure;
    CURLM *multi;
    pthread_t thread;
    pthread_mutex_t mu;
    bool stop;      /* under mu */
    req_t *inbox, *inbox_tail; /* under mu */
    evb_apidest_invoker_stats_t stats; /* under mu */
    /* thread-only */
    bucket_t *buckets;
    token_t *tokens;
    req_t *flying;
    unsigned in_flight;
    size_t waiting; /* in buckets or waiting for a token */
    dest_t *dests[DEST_BUCKETS];
    uint64_t dest_generation;
    CURL *easy_pool[EASY_POOL_MAX];
    size_t neasy;
    /* cancel_waiting requests, under mu */
    cancel_t cancel[8];
    size_t ncancel;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_ALL); }

/* ---- completion ---------------------------------------------------------- */

static void dest_unref(dest_t *d) {
    if (!d || --d->refs)
        return;
    curl_slist_free_all(d->hdrs);
    evb__apidest_target_free(&d->t);
    free(d->arn);
    free(d);
}

static void easy_put(evb_apidest_invoker_t *inv, CURL *e);

static void req_free(req_t *r) {
    free(r->dest_arn);
    json_decref(r->hp);
    free(r->body);
    dest_unref(r->d);
    curl_slist_free_all(r->hdrs);
    free(r->url);
    free(r->send_body);
    free(r->auth_header);
    evb_buf_free(&r->resp);
    free(r);
}

static void complete(evb_apidest_invoker_t *inv, req_t *r,
                     evb_apidest_outcome_t outcome, long status,
                     const char *code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void complete(evb_apidest_invoker_t *inv, req_t *r,
                     evb_apidest_outcome_t outcome, long status,
                     const char *code, const char *fmt, ...) {
    evb_apidest_result_t res = {.outcome = outcome, .status = status,
                                .code = code,
                                .rate_limited = r->rate_limited};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res.message, sizeof res.message, fmt, ap);
    va_end(ap);
    if (r->easy) {
        if (r->fprev)
            r->fprev->fnext = r->fnext;
        else
            inv->flying = r->fnext;
        if (r->fnext)
            r->fnext->fprev = r->fprev;
        curl_multi_remove_handle(inv->multi, r->easy);
        easy_put(inv, r->easy);
        r->easy = NULL;
        inv->in_flight--;
    }
    pthread_mutex_lock(&inv->mu);
    inv->stats.completed++;
    inv->stats.in_flight = inv->in_flight;
    pthread_mutex_unlock(&inv->mu);
    if (r->body_done)
        r->body_done(r->ud, &res,
                     outcome == EVB_APIDEST_SUCCESS
                         ? (r->resp.data ? r->resp.data : "")
                         : NULL,
                     r->resp.len);
    else
        r->done(r->ud, &res);
    req_free(r);
}

/* ---- building a request -------------------------------------------------- */

static const char *jstr(const json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

/* An ordered header list where a later set of the same name (any case)
 * replaces the earlier one. */
typedef struct hdr {
    char *name, *value;
} hdr_t;

typedef struct hdrs {
    hdr_t *v;
    size_t n, cap;
    bool nomem;
} hdrs_t;

static void hdr_set(hdrs_t *h, const char *name, const char *value) {
    if (!name || !value || h->nomem)
        return;
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->v[i].name, name) == 0) {
            char *v = strdup(value);
            if (!v) {
                h->nomem = true;
                return;
            }
            free(h->v[i].value);
            h->v[i].value = v;
            return;
        }
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        hdr_t *v = realloc(h->v, cap * sizeof *v);
        if (!v) {
            h->nomem = true;
            return;
        }
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n].name = strdup(name);
    h->v[h->n].value = strdup(value);
    if (!h->v[h->n].name || !h->v[h->n].value) {
        free(h->v[h->n].name);
        free(h->v[h->n].value);
        h->nomem = true;
        return;
    }
    h->n++;
}

static void hdrs_free(hdrs_t *h) {
    for (size_t i = 0; i < h->n; i++) {
        free(h->v[i].name);
        free(h->v[i].value);
    }
    free(h->v);
}

/* The {Key, Value} list of a connection's *HttpParameters. */
static void hdr_set_list(hdrs_t *h, const json_t *list) {
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
        hdr_set(h, jstr(item, "Key"), jstr(item, "Value"));
}

/* Target maps {k: v}. */
static void hdr_set_map(hdrs_t *h, const json_t *map) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)map, k, v)
        hdr_set(h, k, json_string_value(v));
}

static struct curl_slist *hdrs_to_slist(const hdrs_t *h, bool *nomem) {
    struct curl_slist *l = NULL;
    for (size_t i = 0; i < h->n; i++) {
        size_t n = strlen(h->v[i].name) + strlen(h->v[i].value) + 3;
        char *line = malloc(n);
        if (!line) {
            *nomem = true;
            break;
        }
        /* "Name;" is curl's way of sending a header with an empty value */
        if (h->v[i].value[0])
            snprintf(line, n, "%s: %s", h->v[i].name, h->v[i].value);
        else
            snprintf(line, n, "%s;", h->v[i].name);
        struct curl_slist *nl = curl_slist_append(l, line);
        free(line);
        if (!nl) {
            *nomem = true;
            break;
        }
        l = nl;
    }
    return l;
}

/* Append "k=v" pairs (escaped) of hdrs_t (used as an ordered map) to
 * url. */
static char *query_append(CURL *e, char *url, const hdrs_t *q, bool *nomem) {
    evb_buf_t b;
    evb_buf_init(&b, 0);
    if (evb_buf_append(&b, url, strlen(url))) {
        *nomem = true;
        return url;
    }
    bool has_q = strchr(url, '?') != NULL;
    for (size_t i = 0; i < q->n; i++) {
        char *k = curl_easy_escape(e, q->v[i].name, 0);
        char *v = curl_easy_escape(e, q->v[i].value, 0);
        if (!k || !v ||
            evb_buf_appendf(&b, "%c%s=%s", has_q ? '&' : '?', k, v))
            *nomem = true;
        has_q = true;
        curl_free(k);
        curl_free(v);
    }
    if (*nomem) {
        evb_buf_free(&b);
        return url;
    }
    free(url);
    return b.data;
}

static const char B64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64(const char *s, size_t n) {
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)s[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)s[i + 2];
        *o++ = B64[(v >> 18) & 63];
        *o++ = B64[(v >> 12) & 63];
        *o++ = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        *o++ = i + 2 < n ? B64[v & 63] : '=';
    }
    *o = 0;
    return out;
}

static size_t snippet_write(char *p, size_t size, size_t n, void *ud) {
    req_t *r = ud;
    size_t len = size * n;
    if (r->capture && evb_buf_append(&r->resp, p, len))
        return 0; /* over the limit: the transfer fails */
    for (size_t i = 0; i < len && r->snippet_len + 1 < sizeof r->snippet; i++)
        r->snippet[r->snippet_len++] =
            isprint((unsigned char)p[i]) ? p[i] : ' ';
    r->snippet[r->snippet_len] = 0;
    return len;
}

static size_t token_write(char *p, size_t size, size_t n, void *ud) {
    token_t *t = ud;
    return evb_buf_append(&t->resp, p, size * n) ? 0 : size * n;
}

static void common_opts(evb_apidest_invoker_t *inv, CURL *e) {
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)inv->timeout_ms);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    if (inv->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, inv->ca_file);
    if (inv->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

/* Set the method and the body on e. */
static void method_opts(CURL *e, const char *method, const char *body,
                        size_t len) {
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") == 0 || strcmp(method, "OPTIONS") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        if (strcmp(method, "OPTIONS") == 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    } else {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
}

/* The body with the connection's BodyParameters set on a JSON object body
 * (the connection wins); other bodies are sent as they are. */
static char *body_with_params(const req_t *r, const json_t *body_params,
                              size_t *len) {
    if (json_array_size(body_params) > 0) {
        json_t *doc = json_loadb(r->body, r->len, JSON_DECODE_ANY, NULL);
        if (json_is_object(doc)) {
            size_t i;
            json_t *item;
            json_array_foreach(body_params, i, item) {
                const char *k = jstr(item, "Key"), *v = jstr(item, "Value");
                if (k && v)
                    json_object_set_new(doc, k, json_string(v));
            }
            char *s = json_dumps(doc, JSON_COMPACT);
            json_decref(doc);
            if (s) {
                *len = strlen(s);
                return s;
            }
            return NULL;
        }
        json_decref(doc);
    }
    char *s = malloc(r->len + 1);
    if (s) {
        memcpy(s, r->body, r->len);
        s[r->len] = 0;
        *len = r->len;
    }
    return s;
}

/* Endpoint with each '*' replaced by the next path value (escaped).
 * NULL and *missing when there are fewer values than '*'. */
static char *substitute_path(CURL *e, const char *endpoint,
                             const json_t *values, bool *missing) {
    evb_buf_t b;
    evb_buf_init(&b, 0);
    size_t next = 0;
    *missing = false;
    for (const char *p = endpoint; *p; p++) {
        if (*p != '*') {
            if (evb_buf_putc(&b, *p))
                goto nomem;
            continue;
        }
        const char *v = json_string_value(json_array_get(values, next++));
        if (!v) {
            *missing = true;
            evb_buf_free(&b);
            return NULL;
        }
        char *ev = curl_easy_escape(e, v, 0);
        if (!ev || evb_buf_append(&b, ev, strlen(ev))) {
            curl_free(ev);
            goto nomem;
        }
        curl_free(ev);
    }
    if (!b.data && evb_buf_append(&b, "", 0))
        goto nomem;
    return b.data;
nomem:
    evb_buf_free(&b);
    return NULL;
}

/* The header list of a request to d: EventBridge's headers, the target's
 * HeaderParameters (from hp, which may be NULL), the connection's (they
 * win), and the connection's authentication (token_header for OAuth).
 * NULL with *nomem when memory ran out. */
static struct curl_slist *build_headers(const dest_t *d, const json_t *hp,
                                        const char *token_header, bool *nomem) {
    const json_t *auth = d->t.auth;
    const json_t *cparams = json_object_get(auth, "InvocationHttpParameters");
    hdrs_t h = {0};
    hdr_set(&h, "Content-Type", "application/json; charset=utf-8");
    hdr_set(&h, "User-Agent", "Amazon/EventBridge/ApiDestinations");
    hdr_set(&h, "Range", "bytes=0-1048575");
    hdr_set(&h, "Accept-Encoding", "gzip,deflate");
    hdr_set(&h, "Accept", "*/*");
    hdr_set_map(&h, json_object_get(hp, "HeaderParameters"));
    hdr_set_list(&h, json_object_get(cparams, "HeaderParameters"));
    const char *type = d->t.auth_type;
    if (strcmp(type, "BASIC") == 0) {
        const json_t *b = json_object_get(auth, "BasicAuthParameters");
        const char *u = jstr(b, "Username"), *p = jstr(b, "Password");
        size_t n = (u ? strlen(u) : 0) + (p ? strlen(p) : 0) + 2;
        char *up = malloc(n), *enc = NULL, *hv = NULL;
        if (up) {
            snprintf(up, n, "%s:%s", u ? u : "", p ? p : "");
            enc = base64(up, strlen(up));
            memset(up, 0, n);
        }
        if (enc && (hv = malloc(strlen(enc) + 7)))
            sprintf(hv, "Basic %s", enc);
        if (hv)
            hdr_set(&h, "Authorization", hv);
        else
            *nomem = true;
        if (enc)
            memset(enc, 0, strlen(enc));
        if (hv)
            memset(hv, 0, strlen(hv));
        free(up);
        free(enc);
        free(hv);
    } else if (strcmp(type, "API_KEY") == 0) {
        const json_t *k = json_object_get(auth, "ApiKeyAuthParameters");
        hdr_set(&h, jstr(k, "ApiKeyName"), jstr(k, "ApiKeyValue"));
    } else if (token_header) {
        hdr_set(&h, "Authorization", token_header + strlen("Authorization: "));
    }
    hdr_set(&h, "Expect", ""); /* no 100-continue round trip */
    struct curl_slist *l = NULL;
    if (!*nomem && !h.nomem)
        l = hdrs_to_slist(&h, nomem);
    else
        *nomem = true;
    hdrs_free(&h);
    if (*nomem) {
        curl_slist_free_all(l);
        return NULL;
    }
    /* "Expect;" would send an empty header; curl drops "Expect:" instead */
    for (struct curl_slist *x = l; x; x = x->next)
        if (strcmp(x->data, "Expect;") == 0)
            x->data[6] = ':';
    return l;
}

/* A reset easy handle with the options every request shares. */
static CURL *easy_get(evb_apidest_invoker_t *inv) {
    CURL *e = inv->neasy ? inv->easy_pool[--inv->neasy] : curl_easy_init();
    if (e)
        common_opts(inv, e);
    return e;
}

static void easy_put(evb_apidest_invoker_t *inv, CURL *e) {
    if (inv->neasy < EASY_POOL_MAX) {
        curl_easy_reset(e);
        inv->easy_pool[inv->neasy++] = e;
    } else {
        curl_easy_cleanup(e);
    }
}

/* Start the target request of r (its token, if any, in token_header). */
static void start_target(evb_apidest_invoker_t *inv, req_t *r,
                         const char *token_header) {
    const dest_t *d = r->d;
    const json_t *cparams =
        json_object_get(d->t.auth, "InvocationHttpParameters");
    if (!d->method || !d->endpoint) {
        complete(inv, r, EVB_APIDEST_FAILED, 0, "INVALID_PARAMETERS",
                 "API destination has no endpoint or method");
        return;
    }
    CURL *e = easy_get(inv);
    if (!e) {
        complete(inv, r, EVB_APIDEST_RETRIABLE, 0, "NETWORK_ERROR",
                 "out of memory");
        return;
    }
    bool missing, nomem = false;
    const json_t *tq = json_object_get(r->hp, "QueryStringParameters");
    if (!d->plain_url || json_object_size(tq) > 0) {
        r->url = substitute_path(e, d->endpoint,
                                 json_object_get(r->hp, "PathParameterValues"),
                                 &missing);
        if (!r->url) {
            easy_put(inv, e);
            if (missing)
                complete(inv, r, EVB_APIDEST_FAILED, 0, "INVALID_PARAMETERS",
                         "fewer PathParameterValues than '*' in the "
                         "endpoint");
            else
                complete(inv, r, EVB_APIDEST_RETRIABLE, 0, "NETWORK_ERROR",
                         "out of memory");
            return;
        }
        hdrs_t q = {0};
        hdr_set_map(&q, tq);
        hdr_set_list(&q, json_object_get(cparams, "QueryStringParameters"));
        nomem = q.nomem;
        if (!nomem)
            r->url = query_append(e, r->url, &q, &nomem);
        hdrs_free(&q);
    }
    const struct curl_slist *hdrs = d->hdrs;
    if (!hdrs || r->hp || token_header) {
        if (!nomem)
            r->hdrs = build_headers(d, r->hp, token_header, &nomem);
        hdrs = r->hdrs;
    }
    if (token_header && !nomem && !(r->auth_header = strdup(token_header)))
        nomem = true;
    const char *body = r->body;
    size_t blen = r->len;
    if (d->body_params && !nomem) {
        if (!(r->send_body = body_with_params(
                  r, json_object_get(cparams, "BodyParameters"), &blen)))
            nomem = true;
        body = r->send_body;
    }
    if (nomem) {
        easy_put(inv, e);
        complete(inv, r, EVB_APIDEST_RETRIABLE, 0, "NETWORK_ERROR",
                 "out of memory");
        return;
    }
    curl_easy_setopt(e, CURLOPT_URL, r->url ? r->url : d->endpoint);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    method_opts(e, d->method, body, blen);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, snippet_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    if (curl_multi_add_handle(inv->multi, e) != CURLM_OK) {
        easy_put(inv, e);
        complete(inv, r, EVB_APIDEST_RETRIABLE, 0, "NETWORK_ERROR",
                 "could not start the request");
        return;
    }
    r->easy = e;
    r->fprev = NULL;
    r->fnext = inv->flying;
    if (inv->flying)
        inv->flying->fprev = r;
    inv->flying = r;
    inv->in_flight++;
}

/* ---- OAuth tokens -------------------------------------------------------- */

static token_t *token_entry(evb_apidest_invoker_t *inv, const req_t *r) {
    token_t *t;
    for (t = inv->tokens; t; t = t->next)
        if (strcmp(t->conn_arn, r->d->t.conn_arn) == 0)
            break;
    if (t && t->conn_modified_ms != r->d->t.conn_modified_ms && !t->easy) {
        /* the connection changed: forget its token */
        free(t->header);
        t->header = NULL;
        t->conn_modified_ms = r->d->t.conn_modified_ms;
    }
    if (t)
        return t;
    t = calloc(1, sizeof *t);
    if (!t || !(t->conn_arn = strdup(r->d->t.conn_arn))) {
        free(t);
        return NULL;
    }
    t->kind = XFER_TOKEN;
    t->conn_modified_ms = r->d->t.conn_modified_ms;
    evb_buf_init(&t->resp, TOKEN_BODY_MAX);
    t->next = inv->tokens;
    inv->tokens = t;
    return t;
}

static void token_fail_waiters(evb_apidest_invoker_t *inv, token_t *t,
                               evb_apidest_outcome_t outcome, long status,
                               const char *code, const char *msg) {
    req_t *w = t->waiters;
    t->waiters = NULL;
    while (w) {
        req_t *next = w->next;
        inv->waiting--;
        complete(inv, w, outcome, status, code, "%s", msg);
        w = next;
    }
}

static void token_fetch_cleanup(evb_apidest_invoker_t *inv, token_t *t) {
    if (t->easy) {
        curl_multi_remove_handle(inv->multi, t->easy);
        curl_easy_cleanup(t->easy);
        t->easy = NULL;
    }
    curl_slist_free_all(t->hdrs);
    t->hdrs = NULL;
    if (t->send_body) /* it held the client secret */
        memset(t->send_body, 0, strlen(t->send_body));
    free(t->send_body);
    t->send_body = NULL;
    free(t->url);
    t->url = NULL;
    evb_buf_reset(&t->resp);
}

/* Start the client-credentials request for t with r's connection. The
 * credentials go in an application/x-www-form-urlencoded body
 * (grant_type, client_id, client_secret and the OAuthHttpParameters'
 * BodyParameters), or in the query for GET (a choice: AWS does not
 * document the wire format). */
static bool token_fetch_start(evb_apidest_invoker_t *inv, token_t *t,
                              const req_t *r) {
    const json_t *o = json_object_get(r->d->t.auth, "OAuthParameters");
    const json_t *cp = json_object_get(o, "ClientParameters");
    const json_t *hp = json_object_get(o, "OAuthHttpParameters");
    const char *endpoint = jstr(o, "AuthorizationEndpoint");
    const char *method = jstr(o, "HttpMethod");
    if (!endpoint || !method || !jstr(cp, "ClientID") ||
        !jstr(cp, "ClientSecret"))
        return false;
    CURL *e = curl_easy_init();
    if (!e)
        return false;
    bool nomem = false;
    hdrs_t form = {0};
    hdr_set(&form, "grant_type", "client_credentials");
    hdr_set(&form, "client_id", jstr(cp, "ClientID"));
    hdr_set(&form, "client_secret", jstr(cp, "ClientSecret"));
    hdr_set_list(&form, json_object_get(hp, "BodyParameters"));
    hdrs_t q = {0};
    hdr_set_list(&q, json_object_get(hp, "QueryStringParameters"));
    bool get = strcmp(method, "GET") == 0;
    if (get)
        for (size_t i = 0; i < form.n; i++)
            hdr_set(&q, form.v[i].name, form.v[i].value);
    nomem = form.nomem || q.nomem;
    t->url = strdup(endpoint);
    if (!t->url)
        nomem = true;
    if (!nomem)
        t->url = query_append(e, t->url, &q, &nomem);
    if (!get && !nomem) {
        char *qs = strdup("");
        qs = qs ? query_append(e, qs, &form, &nomem) : NULL;
        if (qs) {
            t->send_body = strdup(qs[0] == '?' ? qs + 1 : qs);
            memset(qs, 0, strlen(qs));
            free(qs);
        }
        if (!t->send_body)
            nomem = true;
    }
    for (size_t i = 0; i < form.n; i++)
        memset(form.v[i].value, 0, strlen(form.v[i].value));
    hdrs_free(&form);
    hdrs_free(&q);
    hdrs_t h = {0};
    hdr_set(&h, "Content-Type", "application/x-www-form-urlencoded");
    hdr_set(&h, "Accept", "application/json");
    hdr_set(&h, "User-Agent", "Amazon/EventBridge/ApiDestinations");
    hdr_set_list(&h, json_object_get(hp, "HeaderParameters"));
    nomem = nomem || h.nomem;
    if (!nomem)
        t->hdrs = hdrs_to_slist(&h, &nomem);
    hdrs_free(&h);
    if (nomem) {
        curl_easy_cleanup(e);
        token_fetch_cleanup(inv, t);
        return false;
    }
    common_opts(inv, e);
    curl_easy_setopt(e, CURLOPT_URL, t->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->hdrs);
    method_opts(e, method, t->send_body,
                t->send_body ? strlen(t->send_body) : 0);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, token_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    if (curl_multi_add_handle(inv->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        token_fetch_cleanup(inv, t);
        return false;
    }
    t->easy = e;
    pthread_mutex_lock(&inv->mu);
    inv->stats.token_fetches++;
    pthread_mutex_unlock(&inv->mu);
    return true;
}

static void token_done(evb_apidest_invoker_t *inv, token_t *t, CURLcode rc) {
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    json_t *doc = NULL;
    if (rc == CURLE_OK && status >= 200 && status < 300)
        doc = json_loadb(t->resp.data ? t->resp.data : "", t->resp.len, 0,
                         NULL);
    if (t->resp.data)
        memset(t->resp.data, 0, t->resp.len);
    token_fetch_cleanup(inv, t);
    const char *tok = jstr(doc, "access_token");
    if (!tok) {
        json_decref(doc);
        if (rc == CURLE_OPERATION_TIMEDOUT)
            token_fail_waiters(inv, t, EVB_APIDEST_RETRIABLE, 0, "TIMEOUT",
                               "OAuth token request timed out");
        else if (rc != CURLE_OK)
            token_fail_waiters(inv, t, EVB_APIDEST_RETRIABLE, 0,
                               "NETWORK_ERROR", curl_easy_strerror(rc));
        else if (status == 429 || status >= 500 || status == 0)
            token_fail_waiters(inv, t, EVB_APIDEST_RETRIABLE, status,
                               "NOT_AUTHORIZED",
                               "OAuth token request failed");
        else
            token_fail_waiters(inv, t, EVB_APIDEST_FAILED, status,
                               "NOT_AUTHORIZED",
                               "OAuth token request was refused or its "
                               "answer had no access_token");
        return;
    }
    const char *type = jstr(doc, "token_type");
    if (!type || strcasecmp(type, "bearer") == 0)
        type = "Bearer";
    size_t n = strlen(tok) + strlen(type) + 32;
    free(t->header);
    t->header = malloc(n);
    if (t->header)
        snprintf(t->header, n, "Authorization: %s %s", type, tok);
    json_t *exp = json_object_get(doc, "expires_in");
    double secs = json_is_number(exp) ? json_number_value(exp) : 0;
    uint64_t now = evb_now_ns();
    if (secs > 0) {
        uint64_t life = (uint64_t)(secs * 1e9);
        t->expires_ns = now + (life > 2 * TOKEN_MARGIN_NS
                                   ? life - TOKEN_MARGIN_NS
                                   : life / 2);
    } else {
        t->expires_ns = UINT64_MAX; /* until a 401 or 407 */
    }
    memset((char *)tok, 0, strlen(tok));
    json_decref(doc);
    if (!t->header) {
        token_fail_waiters(inv, t, EVB_APIDEST_RETRIABLE, 0, "NETWORK_ERROR",
                           "out of memory");
        return;
    }
    req_t *w = t->waiters;
    t->waiters = NULL;
    while (w) {
        req_t *next = w->next;
        w->next = NULL;
        inv->waiting--;
        start_target(inv, w, t->header);
        w = next;
    }
}

/* Start r: at once, or after its connection's token. */
static void start(evb_apidest_invoker_t *inv, req_t *r) {
    if (!r->d->oauth) {
        start_target(inv, r, NULL);
        return;
    }
    token_t *t = token_entry(inv, r);
    if (!t) {
        complete(inv, r, EVB_APIDEST_RETRIABLE, 0, "NETWORK_ERROR",
                 "out of memory");
        return;
    }
    if (t->header && evb_now_ns() < t->expires_ns) {
        start_target(inv, r, t->header);
        return;
    }
    r->next = t->waiters;
    t->waiters = r;
    inv->waiting++;
    if (!t->easy && !token_fetch_start(inv, t, r))
        token_fail_waiters(inv, t, EVB_APIDEST_FAILED, 0, "NOT_AUTHORIZED",
                           "could not request an OAuth token");
}

/* ---- target responses ---------------------------------------------------- */

static void target_done(evb_apidest_invoker_t *inv, req_t *r, CURLcode rc) {
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        complete(inv, r, EVB_APIDEST_RETRIABLE, 0, "TIMEOUT",
                 "no response within %u ms", inv->timeout_ms);
        return;
    }
    if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) {
        complete(inv, r, EVB_APIDEST_FAILED, 0, "INVALID_PARAMETERS", "%s",
                 curl_easy_strerror(rc));
        return;
    }
    if (rc != CURLE_OK) {
        complete(inv, r, EVB_APIDEST_RETRIABLE, 0, "NETWORK_ERROR", "%s",
                 curl_easy_strerror(rc));
        return;
    }
    if ((status == 401 || status == 407) && r->auth_header) {
        /* drop the token that was refused (not a newer one) */
        for (token_t *t = inv->tokens; t; t = t->next)
            if (strcmp(t->conn_arn, r->d->t.conn_arn) == 0 && t->header &&
                strcmp(t->header, r->auth_header) == 0) {
                free(t->header);
                t->header = NULL;
            }
    }
    if (status >= 200 && status < 300)
        complete(inv, r, EVB_APIDEST_SUCCESS, status, "OK", "HTTP %ld", status);
    else if (status == 401 || status == 407 || status == 409 ||
             status >= 500)
        complete(inv, r, EVB_APIDEST_RETRIABLE, status, "HTTP_ERROR",
                 "HTTP %ld %s", status, r->snippet);
    else if (status == 429)
        complete(inv, r, EVB_APIDEST_RETRIABLE, status, "THROTTLING",
                 "HTTP %ld %s", status, r->snippet);
    else
        complete(inv, r, EVB_APIDEST_FAILED, status, "HTTP_ERROR",
                 "HTTP %ld %s", status, r->snippet);
}

static void reap(evb_apidest_invoker_t *inv) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(inv->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        void *priv = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        CURLcode rc = m->data.result;
        if (*(xfer_kind_t *)priv == XFER_TOKEN)
            token_done(inv, priv, rc);
        else
            target_done(inv, priv, rc);
    }
}

/* ---- buckets and the loop ------------------------------------------------ */

static bucket_t *bucket_for(evb_apidest_invoker_t *inv, const char *arn) {
    for (bucket_t *b = inv->buckets; b; b = b->next)
        if (strcmp(b->arn, arn) == 0)
            return b;
    bucket_t *b = calloc(1, sizeof *b);
    if (!b || !(b->arn = strdup(arn))) {
        free(b);
        return NULL;
    }
    b->next = inv->buckets;
    inv->buckets = b;
    return b;
}

/* ---- the destination cache ----------------------------------------------- */

static uint32_t str_hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Drop the cache when the control plane changed something since. */
static void dest_cache_check(evb_apidest_invoker_t *inv) {
    uint64_t g = evb__apidest_generation();
    if (g == inv->dest_generation)
        return;
    inv->dest_generation = g;
    for (size_t i = 0; i < DEST_BUCKETS; i++)
        while (inv->dests[i]) {
            dest_t *d = inv->dests[i];
            inv->dests[i] = d->next;
            dest_unref(d);
        }
}

/* Compile what every request to d shares. false: out of memory. */
static bool dest_compile(evb_apidest_invoker_t *inv, dest_t *d) {
    const json_t *cparams =
        json_object_get(d->t.auth, "InvocationHttpParameters");
    d->method = jstr(d->t.dest, "HttpMethod");
    d->endpoint = jstr(d->t.dest, "InvocationEndpoint");
    d->oauth = strcmp(d->t.auth_type, "OAUTH_CLIENT_CREDENTIALS") == 0;
    d->plain_url =
        d->endpoint && !strchr(d->endpoint, '*') &&
        json_array_size(json_object_get(cparams, "QueryStringParameters")) == 0;
    d->body_params =
        json_array_size(json_object_get(cparams, "BodyParameters")) > 0;
    if (!(d->bucket = bucket_for(inv, d->arn)))
        return false;
    json_int_t rate = json_integer_value(
        json_object_get(d->t.dest, "InvocationRateLimitPerSecond"));
    if (rate <= 0)
        rate = EVB_APIDEST_DEFAULT_RATE;
    d->bucket->interval_ns = 1000000000ull / (uint64_t)rate;
    bool nomem = false;
    if (!d->oauth)
        d->hdrs = build_headers(d, NULL, NULL, &nomem);
    return !nomem;
}

/* The destination arn, resolved, with a reference for the caller.
 * EVB_ERR_NOT_FOUND when it or its connection is gone (errstr says
 * which). */
static evb_err_t dest_get(evb_apidest_invoker_t *inv, const char *arn,
                          dest_t **out, char *errstr, size_t errstr_size) {
    uint32_t h = str_hash(arn);
    for (dest_t *d = inv->dests[h % DEST_BUCKETS]; d; d = d->next)
        if (d->hash == h && strcmp(d->arn, arn) == 0) {
            d->refs++;
            *out = d;
            return EVB_ERR_OK;
        }
    dest_t *d = calloc(1, sizeof *d);
    if (!d || !(d->arn = strdup(arn))) {
        free(d);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    d->hash = h;
    d->refs = 1;
    d->generation = inv->dest_generation;
    evb_err_t err =
        evb__apidest_resolve(&inv->sc, arn, &d->t, errstr, errstr_size);
    if (!err && !dest_compile(inv, d))
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    if (err) {
        dest_unref(d);
        return err;
    }
    d->refs++; /* the cache's */
    d->next = inv->dests[h % DEST_BUCKETS];
    inv->dests[h % DEST_BUCKETS] = d;
    *out = d;
    return EVB_ERR_OK;
}

/* Resolve r (again when the cache moved on since it was resolved).
 * false: r was completed. */
static bool resolve(evb_apidest_invoker_t *inv, req_t *r) {
    if (r->d && r->d->generation == inv->dest_generation)
        return true;
    char errstr[256] = "";
    dest_t *d = NULL;
    evb_err_t err = dest_get(inv, r->dest_arn, &d, errstr, sizeof errstr);
    if (err == EVB_ERR_NOT_FOUND) {
        complete(inv, r, EVB_APIDEST_FAILED, 0, "NO_RESOURCE", "%s", errstr);
        return false;
    }
    if (err) {
        complete(inv, r, EVB_APIDEST_RETRIABLE, 0, "NETWORK_ERROR",
                 "reading the API destination: %s", errstr);
        return false;
    }
    dest_unref(r->d);
    r->d = d;
    if (strcmp(d->t.conn_state, "AUTHORIZED") != 0) {
        complete(inv, r, EVB_APIDEST_FAILED, 0, "NOT_AUTHORIZED",
                 "connection is %s", d->t.conn_state);
        return false;
    }
    return true;
}

/* Resolve r and queue it on its bucket (or complete it). A request that
 * finds others waiting, or the bucket's schedule ahead of now by more
 * than the tolerance, waits for the rate limit: it is marked, and the
 * delivery engine counts it as a throttled rule (ThrottledRules). */
static void admit(evb_apidest_invoker_t *inv, req_t *r) {
    if (!resolve(inv, r))
        return;
    bucket_t *b = r->d->bucket;
    r->rate_limited = b->head || evb_now_ns() + BUCKET_SLACK_NS < b->tat_ns;
    r->next = NULL;
    if (b->tail)
        b->tail->next = r;
    else
        b->head = r;
    b->tail = r;
    inv->waiting++;
}

/* Start what the buckets allow; returns ms until the next start is due
 * (-1: nothing waits on time). */
static long run_buckets(evb_apidest_invoker_t *inv) {
    long wait_ms = -1;
    bool progress = true;
    while (progress) {
        progress = false;
        for (bucket_t *b = inv->buckets; b; b = b->next) {
            if (!b->head || inv->in_flight >= inv->max_in_flight)
                continue;
            uint64_t now = evb_now_ns();
            if (now + BUCKET_SLACK_NS < b->tat_ns)
                continue;
            b->tat_ns = (b->tat_ns > now ? b->tat_ns : now) + b->interval_ns;
            req_t *r = b->head;
            b->head = r->next;
            if (!b->head)
                b->tail = NULL;
            r->next = NULL;
            inv->waiting--;
            if (resolve(inv, r)) /* a change while it waited applies */
                start(inv, r);
            progress = true;
        }
    }
    uint64_t now = evb_now_ns();
    for (bucket_t *b = inv->buckets; b; b = b->next) {
        if (!b->head || inv->in_flight >= inv->max_in_flight)
            continue;
        uint64_t at = b->tat_ns > BUCKET_SLACK_NS
                          ? b->tat_ns - BUCKET_SLACK_NS
                          : 0;
        long ms = at > now ? (long)((at - now + 999999) / 1000000) : 0;
        if (wait_ms < 0 || ms < wait_ms)
            wait_ms = ms;
    }
    return wait_ms;
}

/* Complete with SHUTDOWN every waiting request c cancels. */
static void cancel_waiting(evb_apidest_invoker_t *inv, const cancel_t *c) {
    for (bucket_t *b = inv->buckets; b; b = b->next) {
        req_t *keep = NULL, *tail = NULL, *r = b->head;
        while (r) {
            req_t *next = r->next;
            r->next = NULL;
            if (cancels(c, r)) {
                inv->waiting--;
                complete(inv, r, EVB_APIDEST_RETRIABLE, 0, "SHUTDOWN",
                         "cancelled before it started");
            } else {
                if (tail)
                    tail->next = r;
                else
                    keep = r;
                tail = r;
            }
            r = next;
        }
        b->head = keep;
        b->tail = tail;
    }
    for (token_t *t = inv->tokens; t; t = t->next) {
        req_t **pp = &t->waiters;
        while (*pp) {
            req_t *r = *pp;
            if (!cancels(c, r)) {
                pp = &r->next;
                continue;
            }
            *pp = r->next;
            r->next = NULL;
            inv->waiting--;
            complete(inv, r, EVB_APIDEST_RETRIABLE, 0, "SHUTDOWN",
                     "cancelled before it started");
        }
    }
}

static void shutdown_all(evb_apidest_invoker_t *inv) {
    for (token_t *t = inv->tokens; t; t = t->next) {
        token_fetch_cleanup(inv, t);
        token_fail_waiters(inv, t, EVB_APIDEST_RETRIABLE, 0, "SHUTDOWN",
                           "invoker stopped");
    }
    for (bucket_t *b = inv->buckets; b; b = b->next) {
        while (b->head) {
            req_t *r = b->head;
            b->head = r->next;
            inv->waiting--;
            complete(inv, r, EVB_APIDEST_RETRIABLE, 0, "SHUTDOWN",
                     "invoker stopped");
        }
        b->tail = NULL;
    }
    /* the transfers still in the multi handle */
    while (inv->flying)
        complete(inv, inv->flying, EVB_APIDEST_RETRIABLE, 0, "SHUTDOWN",
                 "invoker stopped");
}

static void *loop(void *arg) {
    evb_apidest_invoker_t *inv = arg;
    for (;;) {
        pthread_mutex_lock(&inv->mu);
        bool stop = inv->stop;
        req_t *in = inv->inbox;
        inv->inbox = inv->inbox_tail = NULL;
        cancel_t cancel[8];
        size_t ncancel = inv->ncancel;
        memcpy(cancel, inv->cancel, ncancel * sizeof *cancel);
        inv->ncancel = 0;
        pthread_mutex_unlock(&inv->mu);
        dest_cache_check(inv);
        while (in) {
            req_t *next = in->next;
            in->next = NULL;
            bool cancelled = false;
            for (size_t i = 0; i < ncancel && !cancelled; i++)
                cancelled = cancels(&cancel[i], in);
            if (cancelled)
                complete(inv, in, EVB_APIDEST_RETRIABLE, 0, "SHUTDOWN",
                         "cancelled before it started");
            else
                admit(inv, in);
            in = next;
        }
        for (size_t i = 0; i < ncancel; i++)
            cancel_waiting(inv, &cancel[i]);
        if (stop)
            break;
        long wait_ms = run_buckets(inv);
        pthread_mutex_lock(&inv->mu);
        inv->stats.in_flight = inv->in_flight;
        inv->stats.waiting = inv->waiting;
        pthread_mutex_unlock(&inv->mu);
        if (wait_ms < 0 || wait_ms > 1000)
            wait_ms = 1000;
        curl_multi_poll(inv->multi, NULL, 0, (int)wait_ms, NULL);
        int running;
        curl_multi_perform(inv->multi, &running);
        reap(inv);
    }
    shutdown_all(inv);
    return NULL;
}

/* ---- public -------------------------------------------------------------- */

evb_err_t evb_apidest_invoker_new(const evb_apidest_scope_t *sc,
                                  const evb_apidest_invoker_opts_t *opts,
                                  evb_apidest_invoker_t **out, char *errstr,
                                  size_t errstr_size) {
    static const evb_apidest_invoker_opts_t defaults = {0};
    if (!opts)
        opts = &defaults;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "libcurl: %s", curl_easy_strerror(curl_init_rc));
    evb_apidest_invoker_t *inv = calloc(1, sizeof *inv);
    if (!inv)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    inv->account = strdup(sc->account);
    inv->region = strdup(sc->region);
    inv->ca_file = opts->ca_file ? strdup(opts->ca_file) : NULL;
    inv->sc = (evb_apidest_scope_t){sc->store, inv->account, inv->region};
    inv->timeout_ms = opts->timeout_ms ? opts->timeout_ms : 5000;
    inv->max_in_flight = opts->max_in_flight ? opts->max_in_flight : 256;
    inv->insecure = opts->insecure_skip_verify;
    inv->multi = curl_multi_init();
    if (!inv->account || !inv->region || (opts->ca_file && !inv->ca_file) ||
        !inv->multi) {
        curl_multi_cleanup(inv->multi);
        free(inv->account);
        free(inv->region);
        free(inv->ca_file);
        free(inv);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    curl_multi_setopt(inv->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
    /* keep the idle connections of a busy pool instead of closing them
     * (curl's default keeps 4 per easy handle currently added) */
    curl_multi_setopt(inv->multi, CURLMOPT_MAXCONNECTS,
                      (long)inv->max_in_flight);
    pthread_mutex_init(&inv->mu, NULL);
    if (pthread_create(&inv->thread, NULL, loop, inv) != 0) {
        pthread_mutex_destroy(&inv->mu);
        curl_multi_cleanup(inv->multi);
        free(inv->account);
        free(inv->region);
        free(inv->ca_file);
        free(inv);
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "could not start the invoker thread");
    }
    *out = inv;
    return EVB_ERR_OK;
}

void evb_apidest_invoker_free(evb_apidest_invoker_t *inv) {
    if (!inv)
        return;
    pthread_mutex_lock(&inv->mu);
    inv->stop = true;
    pthread_mutex_unlock(&inv->mu);
    curl_multi_wakeup(inv->multi);
    pthread_join(inv->thread, NULL);
    while (inv->tokens) {
        token_t *t = inv->tokens;
        inv->tokens = t->next;
        token_fetch_cleanup(inv, t);
        evb_buf_free(&t->resp);
        free(t->header);
        free(t->conn_arn);
        free(t);
    }
    for (size_t i = 0; i < DEST_BUCKETS; i++)
        while (inv->dests[i]) {
            dest_t *d = inv->dests[i];
            inv->dests[i] = d->next;
            dest_unref(d);
        }
    while (inv->neasy)
        curl_easy_cleanup(inv->easy_pool[--inv->neasy]);
    while (inv->buckets) {
        bucket_t *b = inv->buckets;
        inv->buckets = b->next;
        free(b->arn);
        free(b);
    }
    curl_multi_cleanup(inv->multi);
    pthread_mutex_destroy(&inv->mu);
    free(inv->account);
    free(inv->region);
    free(inv->ca_file);
    free(inv);
}

static evb_err_t invoke(evb_apidest_invoker_t *inv, const char *dest_arn,
                        const char *http_params, const char *body, size_t len,
                        size_t capture_max, evb_apidest_done_fn done,
                        evb_apidest_body_fn body_done, void *ud, char *errstr,
                        size_t errstr_size) {
    if ((!done && !body_done) || !dest_arn)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "dest_arn and done are required");
    req_t *r = calloc(1, sizeof *r);
    if (!r)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    r->kind = XFER_TARGET;
    r->capture = capture_max > 0;
    evb_buf_init(&r->resp, capture_max);
    r->done = done;
    r->body_done = body_done;
    r->ud = ud;
    r->dest_arn = strdup(dest_arn);
    r->body = malloc(len + 1);
    if (!r->dest_arn || !r->body) {
        req_free(r);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    if (len)
        memcpy(r->body, body, len);
    r->body[len] = 0;
    r->len = len;
    if (http_params && *http_params) {
        r->hp = json_loads(http_params, 0, NULL);
        if (!json_is_object(r->hp)) {
            req_free(r);
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "HttpParameters is not a JSON object");
        }
    }
    pthread_mutex_lock(&inv->mu);
    if (inv->stop) {
        pthread_mutex_unlock(&inv->mu);
        req_free(r);
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "the invoker is stopping");
    }
    /* a non-empty inbox means a wake-up is already on its way */
    bool wake = !inv->inbox;
    if (inv->inbox_tail)
        inv->inbox_tail->next = r;
    else
        inv->inbox = r;
    inv->inbox_tail = r;
    inv->stats.submitted++;
    pthread_mutex_unlock(&inv->mu);
    if (wake)
        curl_multi_wakeup(inv->multi);
    return EVB_ERR_OK;
}

evb_err_t evb_apidest_invoke(evb_apidest_invoker_t *inv, const char *dest_arn,
                             const char *http_params, const char *body,
                             size_t len, evb_apidest_done_fn done, void *ud,
                             char *errstr, size_t errstr_size) {
    return invoke(inv, dest_arn, http_params, body, len, 0, done, NULL, ud,
                  errstr, errstr_size);
}

evb_err_t evb_apidest_invoke_capture(evb_apidest_invoker_t *inv,
                                     const char *dest_arn,
                                     const char *http_params, const char *body,
                                     size_t len, size_t max_response,
                                     evb_apidest_body_fn done, void *ud,
                                     char *errstr, size_t errstr_size) {
    return invoke(inv, dest_arn, http_params, body, len,
                  max_response ? max_response : 1, NULL, done, ud, errstr,
                  errstr_size);
}

void evb_apidest_invoker_get_stats(evb_apidest_invoker_t *inv,
                                   evb_apidest_invoker_stats_t *out) {
    pthread_mutex_lock(&inv->mu);
    *out = inv->stats;
    pthread_mutex_unlock(&inv->mu);
}

void evb_apidest_invoker_cancel_waiting(evb_apidest_invoker_t *inv,
                                        evb_apidest_done_fn done,
                                        evb_apidest_mine_fn mine, void *arg) {
    for (;;) {
        pthread_mutex_lock(&inv->mu);
        bool queued = inv->ncancel < EVB_ARRAY_LEN(inv->cancel);
        if (queued)
            inv->cancel[inv->ncancel++] = (cancel_t){done, mine, arg};
        pthread_mutex_unlock(&inv->mu);
        curl_multi_wakeup(inv->multi);
        if (queued)
            return;
        struct timespec ts = {0, 1000000}; /* the loop is busy: soon */
        nanosleep(&ts, NULL);
    }
}
