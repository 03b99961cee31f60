/*
 * targets.c: one batch through filter, enrichment, input template and
 * target (reference §6.3-§6.6).
 *
 * A batch becomes a list of items: each record that passes the filter is
 * one item, or, with an enrichment, as many items as the enrichment
 * answered (an array answer is a list; an empty answer, "", {} or [],
 * filters the record out). Each item carries its payload and the event
 * that templates and dynamic parameters read: the record's template view
 * or the enrichment's answer. The target's InputTemplate is applied per
 * item, then the whole list goes to the target in one call where the
 * target takes batches:
 *
 *   event bus     PutEvents through bus ingestion (durable when it
 *                 returns), source "Pipe NAME" and detail-type "Event from
 *                 aws:kafka" unless EventBridgeEventBusParameters set them
 *   log group     one store unit writing every log event
 *   queue         one store unit queueing every message
 *   API dest.     one invocation per item, through the invoker
 *   Kafka topic   the Kafka module's hook
 *
 * Anything that fails for a reason that retrying can cure (a store error,
 * a missing bus or queue, an HTTP 5xx) fails the batch, which the runner
 * retries whole. An item that can never be delivered (a template whose
 * output is not JSON, a detail that is not an object) is dropped and
 * counted, as EventBridge drops such events, so it cannot block the pipe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../transform/transform.h"
#include "pipes_internal.h"

typedef struct item {
    evb_buf_t payload;
    json_t *ev; /* the event templates read (owned), or NULL */
} item_t;

typedef struct items {
    item_t *v;
    size_t n, cap;
} items_t;

static void items_free(items_t *it) {
    for (size_t i = 0; i < it->n; i++) {
        evb_buf_free(&it->v[i].payload);
        json_decref(it->v[i].ev);
    }
    free(it->v);
    memset(it, 0, sizeof *it);
}

static item_t *items_add(items_t *it) {
    if (it->n == it->cap) {
        size_t nc = it->cap ? it->cap * 2 : 16;
        item_t *nv = realloc(it->v, nc * sizeof *nv);
        if (!nv)
            return NULL;
        it->v = nv;
        it->cap = nc;
    }
    item_t *i = &it->v[it->n++];
    memset(i, 0, sizeof *i);
    evb_buf_init(&i->payload, 0);
    return i;
}

/* Counts of one attempt, added to the runner's when the batch settles. */
typedef struct tally {
    uint64_t filtered, out, invalid, undecodable;
} tally_t;

/* ---- synchronous API destination calls ------------------------------------------ */

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    evb_apidest_outcome_t outcome;
    char message[200];
    evb_buf_t *body; /* capture into, or NULL */
    bool body_nomem;
} waiter_t;

static void waiter_body(void *ud, const evb_apidest_result_t *res,
                        const char *body, size_t len) {
    waiter_t *w = ud;
    pthread_mutex_lock(&w->mu);
    w->outcome = res->outcome;
    snprintf(w->message, sizeof w->message, "%s: %s", res->code,
             res->message);
    if (w->body && body && len && evb_buf_append(w->body, body, len))
        w->body_nomem = true;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void waiter_done(void *ud, const evb_apidest_result_t *res) {
    waiter_body(ud, res, NULL, 0);
}

static evb_err_t invoke_sync(evb__runner_t *r, const char *arn,
                             const char *http, const char *body, size_t len,
                             evb_buf_t *resp, char *errstr,
                             size_t errstr_size) {
    evb_apidest_invoker_t *inv = r->svc->cfg.invoker;
    if (!inv)
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "no API destination invoker is configured");
    waiter_t w = {.body = resp};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    evb_err_t e =
        resp ? evb_apidest_invoke_capture(inv, arn, http, body, len,
                                          EVB__PIPE_MAX_ENRICH_RESPONSE,
                                          waiter_body, &w, errstr, errstr_size)
             : evb_apidest_invoke(inv, arn, http, body, len, waiter_done, &w,
                                  errstr, errstr_size);
    if (!e) {
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        if (w.outcome != EVB_APIDEST_SUCCESS)
            e = evb_err_set(EVB_ERR_IO, errstr, errstr_size, "%s %s", arn,
                            w.message);
        else if (w.body_nomem)
            e = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                            "out of memory");
    }
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    return e;
}

/* ---- dynamic parameters --------------------------------------------------------------- */

/* A parameter's value for an item: a JSONPath ($...) is read from ev
 * (strings as they are, other values as JSON); anything else is the
 * constant. Heap-allocated; NULL when a path selects nothing. */
static char *param(const char *p, const json_t *ev) {
    if (!p)
        return NULL;
    if (p[0] != '$' || !evb_pipe_jsonpath_valid(p, strlen(p)))
        return strdup(p);
    json_t *v = ev ? evb_pipe_jsonpath_eval(p, ev) : NULL;
    if (!v)
        return NULL;
    char *s = NULL;
    if (json_is_string(v)) {
        s = strdup(json_string_value(v));
    } else {
        evb_buf_t b;
        evb_buf_init(&b, 0);
        if (!evb__json_dump(&b, v))
            s = b.data;
        else
            evb_buf_free(&b);
    }
    json_decref(v);
    return s;
}

/* HttpParameters with its JSONPath values resolved, as JSON text. */
static char *http_params(const json_t *hp, const json_t *ev) {
    if (!hp)
        return NULL;
    json_t *o = json_deep_copy(hp);
    if (!o)
        return NULL;
    json_t *pv = json_object_get(o, "PathParameterValues");
    for (size_t i = 0; i < json_array_size(pv); i++) {
        const char *s = json_string_value(json_array_get(pv, i));
        char *v = s ? param(s, ev) : NULL;
        json_array_set_new(pv, i, json_string(v ? v : ""));
        free(v);
    }
    const char *maps[] = {"HeaderParameters", "QueryStringParameters"};
    for (int m = 0; m < 2; m++) {
        json_t *map = json_object_get(o, maps[m]);
        const char *k;
        json_t *val;
        void *tmp;
        json_object_foreach_safe(map, tmp, k, val) {
            const char *s = json_string_value(val);
            char *v = s ? param(s, ev) : NULL;
            if (v)
                json_object_set_new(map, k, json_string(v));
            else
                json_object_del(map, k);
            free(v);
        }
    }
    evb_buf_t b;
    evb_buf_init(&b, 0);
    char *out = evb__json_dump(&b, o) ? NULL : b.data;
    if (!out)
        evb_buf_free(&b);
    json_decref(o);
    return out;
}

/* ---- stages ------------------------------------------------------------------------------ */

static void vars_for(const evb__runner_t *r, const evb__slot_t *s,
                     evb_pipe_vars_t *v) {
    memset(v, 0, sizeof *v);
    v->pipe_arn = r->arn;
    v->pipe_name = r->name;
    v->source_arn = r->spec->source;
    v->enrichment_arn = r->spec->enrichment;
    v->target_arn = r->spec->target;
    v->event_text = s ? s->shaped.event.data : NULL;
}

static json_t *tview(const evb__runner_t *r, evb__slot_t *s) {
    if (!s->tview)
        s->tview = evb__shaped_view(&s->shaped, &r->spec->view_need);
    return s->tview;
}

static bool blank_answer(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
                 s[n - 1] == '\r'))
        n--;
    return n == 0 || (n == 2 && (memcmp(s, "{}", 2) == 0 ||
                                 memcmp(s, "[]", 2) == 0)) ||
           (n == 2 && memcmp(s, "\"\"", 2) == 0);
}

/* Enrich one record: append its items. */
static evb_err_t enrich(evb__runner_t *r, evb__slot_t *s, items_t *items,
                        tally_t *t, char *errstr, size_t errstr_size) {
    const evb__pipe_spec_t *sp = r->spec;
    evb_pipe_vars_t vars;
    vars_for(r, s, &vars);
    evb_buf_t in, resp;
    evb_buf_init(&in, 0);
    evb_buf_init(&resp, EVB__PIPE_MAX_ENRICH_RESPONSE);
    evb_err_t e = EVB_ERR_OK;
    json_t *ev = NULL;
    if (sp->enrich_tpl || sp->enrich_http) {
        ev = tview(r, s);
        if (!ev)
            e = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                            "out of memory");
    }
    if (!e && sp->enrich_tpl) {
        e = evb_pipe_template_render(sp->enrich_tpl, ev, &vars, &in, errstr,
                                     errstr_size);
        if (e == EVB_ERR_INVALID_OUTPUT) { /* cannot ever be sent */
            t->invalid++;
            evb_buf_free(&in);
            evb_buf_free(&resp);
            return EVB_ERR_OK;
        }
    } else if (!e) {
        e = evb_buf_append(&in, s->shaped.event.data, s->shaped.event.len);
    }
    char *hp = NULL;
    if (!e && sp->enrich_http && !(hp = http_params(sp->enrich_http, ev)))
        e = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    if (!e)
        e = invoke_sync(r, sp->enrichment, hp, in.data ? in.data : "", in.len,
                        &resp, errstr, errstr_size);
    free(hp);
    evb_buf_free(&in);
    if (e) {
        evb_buf_free(&resp);
        return e;
    }
    if (blank_answer(resp.data ? resp.data : "", resp.len)) {
        t->filtered++;
        evb_buf_free(&resp);
        return EVB_ERR_OK;
    }
    json_t *ans = evb__json_load(resp.data, resp.len);
    if (!ans) { /* not JSON: the text is the payload */
        item_t *it = items_add(items);
        if (!it) {
            evb_buf_free(&resp);
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        }
        it->payload = resp;
        return EVB_ERR_OK;
    }
    evb_buf_free(&resp);
    size_t n = json_is_array(ans) ? json_array_size(ans) : 1;
    for (size_t i = 0; i < n && !e; i++) {
        json_t *el = json_is_array(ans) ? json_array_get(ans, i) : ans;
        item_t *it = items_add(items);
        if (!it || evb__json_dump(&it->payload, el)) {
            e = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                            "out of memory");
            break;
        }
        it->ev = json_incref(el);
    }
    json_decref(ans);
    return e;
}

/* ---- targets -------------------------------------------------------------------------------- */

static bool is_object_text(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        n--;
    }
    return n && *s == '{';
}

/* Seconds since the epoch from a Time parameter's value. */
static bool time_of(const char *v, int64_t *secs) {
    if (!v)
        return false;
    char *end;
    double d = strtod(v, &end);
    if (end != v && !*end) {
        *secs = d > 1e11 ? (int64_t)(d / 1000) : (int64_t)d;
        return true;
    }
    int64_t ms;
    if (evb_transform_parse_time(v, strlen(v), &ms)) {
        *secs = ms / 1000;
        return true;
    }
    return false;
}

/* The PutEvents entries of items[from..] (at most 10 of them, the items
 * that are not JSON objects counted invalid and skipped); *next is where
 * the following call starts. The strings entries point to are either
 * the items' or owned here (freed by bus_chunk_free). */
typedef struct bus_chunk {
    evb_put_entry_t ent[10];
    evb_put_result_t results[10];
    char *owned[10][3];
    char **res[10];
    size_t nres[10];
    size_t k;
} bus_chunk_t;

static void bus_chunk_free(bus_chunk_t *c) {
    for (size_t q = 0; q < c->k; q++) {
        free(c->owned[q][0]);
        free(c->owned[q][1]);
        free(c->owned[q][2]);
        for (size_t z = 0; z < c->nres[q]; z++)
            free(c->res[q][z]);
        free(c->res[q]);
    }
    c->k = 0;
}

static void bus_chunk_fill(const evb__runner_t *r, const char *dflt_source,
                           items_t *items, size_t from, bus_chunk_t *c,
                           tally_t *t, size_t *next) {
    const evb__pipe_spec_t *sp = r->spec;
    memset(c, 0, sizeof *c);
    size_t i = from;
    for (; i < items->n && c->k < 10; i++) {
        item_t *it = &items->v[i];
        if (!it->payload.len ||
            !is_object_text(it->payload.data, it->payload.len)) {
            t->invalid++; /* the detail must be a JSON object */
            continue;
        }
        size_t k = c->k++;
        evb_put_entry_t *en = &c->ent[k];
        c->owned[k][0] = param(sp->bus_source, it->ev);
        c->owned[k][1] = param(sp->bus_detail_type, it->ev);
        c->owned[k][2] = param(sp->bus_time, it->ev);
        en->source = c->owned[k][0] ? c->owned[k][0] : dflt_source;
        en->detail_type =
            c->owned[k][1] ? c->owned[k][1] : "Event from aws:kafka";
        en->detail = it->payload.data;
        en->detail_len = it->payload.len;
        en->bus = sp->target_name;
        en->has_time = time_of(c->owned[k][2], &en->time);
        if (sp->nbus_resources) {
            c->res[k] = calloc(sp->nbus_resources, sizeof(char *));
            for (size_t q = 0; c->res[k] && q < sp->nbus_resources; q++) {
                char *v = param(sp->bus_resources[q], it->ev);
                if (v)
                    c->res[k][c->nres[k]++] = v;
            }
            en->resources = (const char *const *)c->res[k];
            en->nresources = c->nres[k];
        }
    }
    *next = i;
}

/* Count a chunk's answers into t: accepted, or refused for good; an
 * entry the bus could not take for now fails the batch. */
static evb_err_t bus_chunk_tally(const bus_chunk_t *c, tally_t *t,
                                 char *errstr, size_t errstr_size) {
    for (size_t q = 0; q < c->k; q++) {
        const char *code = c->results[q].error_code;
        if (!code)
            t->out++;
        else if (strcmp(code, "InternalFailure") == 0 ||
                 strcmp(code, "ThrottlingException") == 0)
            return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                               "PutEvents: %s", c->results[q].error_message);
        else
            t->invalid++;
    }
    return EVB_ERR_OK;
}

/* One PutEvents call for a chunk; a call over the request size goes one
 * entry at a time, and an entry too large on its own is refused. */
static evb_err_t bus_chunk_put(evb_bus_service_t *bus, bus_chunk_t *c,
                               char *errstr, size_t errstr_size) {
    size_t failed = 0;
    evb_err_t e = evb_bus_put_events(bus, c->ent, c->k, c->results, &failed,
                                     errstr, errstr_size);
    if (e == EVB_ERR_INVALID_ARG && c->k > 1) {
        e = EVB_ERR_OK;
        for (size_t q = 0; q < c->k && !e; q++) {
            size_t f1 = 0;
            e = evb_bus_put_events(bus, &c->ent[q], 1, &c->results[q], &f1,
                                   errstr, errstr_size);
            if (e == EVB_ERR_INVALID_ARG) {
                c->results[q].error_code = "ValidationException";
                e = EVB_ERR_OK;
            }
        }
    } else if (e == EVB_ERR_INVALID_ARG) {
        c->results[0].error_code = "ValidationException";
        e = EVB_ERR_OK;
    }
    return e;
}

/*
 * The items of nb batches to the bus: each batch's items in PutEvents
 * calls of at most 10 entries (a call never mixes batches), all the calls
 * committed in one unit of the store (evb_bus_put_events_multi), so that
 * the lane's queued batches share one commit. When a call is refused as a
 * whole (over the request size), the calls go one by one instead, as
 * bus_chunk_put sends them.
 */
static evb_err_t to_bus(evb__runner_t *r, items_t *lists, size_t nb,
                        tally_t *t, char *errstr, size_t errstr_size) {
    const evb__pipe_spec_t *sp = r->spec;
    evb_bus_service_t *bus = r->svc->cfg.bus;
    evb_bus_info_t info;
    memset(&info, 0, sizeof info);
    evb_err_t e = evb_bus_describe(bus, sp->target_name, &info, errstr,
                                   errstr_size);
    evb_bus_info_free(&info);
    if (e)
        return e;
    char dflt_source[128];
    snprintf(dflt_source, sizeof dflt_source, "Pipe %s", r->name);
    size_t max_chunks = 0;
    for (size_t b = 0; b < nb; b++)
        max_chunks += (lists[b].n + 9) / 10;
    if (!max_chunks)
        return EVB_ERR_OK;
    bus_chunk_t *c = calloc(max_chunks, sizeof *c);
    evb_put_call_t *calls = calloc(max_chunks, sizeof *calls);
    if (!c || !calls) {
        free(c);
        free(calls);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    tally_t ft = {0}; /* entries refused before any call */
    size_t nc = 0;
    for (size_t b = 0; b < nb; b++)
        for (size_t from = 0; from < lists[b].n;) {
            bus_chunk_fill(r, dflt_source, &lists[b], from, &c[nc], &ft,
                           &from);
            if (c[nc].k) {
                calls[nc] = (evb_put_call_t){c[nc].ent, c[nc].k,
                                             c[nc].results, 0};
                nc++;
            }
        }
    e = nc ? evb_bus_put_events_multi(bus, calls, nc, errstr, errstr_size)
           : EVB_ERR_OK;
    if (e == EVB_ERR_INVALID_ARG) { /* nothing committed: call by call */
        e = EVB_ERR_OK;
        for (size_t q = 0; q < nc && !e; q++)
            e = bus_chunk_put(bus, &c[q], errstr, errstr_size);
    }
    tally_t got = ft;
    for (size_t q = 0; q < nc && !e; q++)
        e = bus_chunk_tally(&c[q], &got, errstr, errstr_size);
    for (size_t q = 0; q < nc; q++)
        bus_chunk_free(&c[q]);
    free(c);
    free(calls);
    if (e)
        return e;
    t->out += got.out;
    t->invalid += got.invalid;
    if (r->svc->cfg.delivery)
        evb_delivery_kick(r->svc->cfg.delivery);
    return EVB_ERR_OK;
}

typedef struct logs_unit {
    evb__runner_t *r;
    items_t *items;
    tally_t *t;
} logs_unit_t;

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static evb_err_t logs_write(sqlite3 *db, void *arg, char *errstr,
                            size_t errstr_size) {
    logs_unit_t *u = arg;
    const evb__pipe_spec_t *sp = u->r->spec;
    int64_t now = wall_ms();
    char arn[1400];
    snprintf(arn, sizeof arn, "arn:aws:logs:%s:%s:log-group:%s:*",
             u->r->svc->region, u->r->svc->account, sp->target_name);
    sqlite3_stmt *g = NULL, *st = NULL;
    evb_err_t err = EVB_ERR_OK;
    if (sqlite3_prepare_v2(db,
                           "INSERT OR IGNORE INTO log_groups(name, arn, "
                           "created_ms) VALUES (?,?,?)",
                           -1, &g, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO log_events(grp, stream, ts_ms, "
                           "ingested_ms, message) VALUES (?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        err = evb_store_sqlerr(db, "writing log events", errstr, errstr_size);
        goto out;
    }
    sqlite3_bind_text(g, 1, sp->target_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(g, 2, arn, -1, SQLITE_STATIC);
    sqlite3_bind_int64(g, 3, now);
    if (sqlite3_step(g) != SQLITE_DONE) {
        err = evb_store_sqlerr(db, "creating a log group", errstr,
                               errstr_size);
        goto out;
    }
    for (size_t i = 0; i < u->items->n && !err; i++) {
        item_t *it = &u->items->v[i];
        char *stream = param(sp->log_stream, it->ev);
        char *ts = param(sp->log_timestamp, it->ev);
        int64_t tms = now;
        if (ts) {
            char *end;
            double d = strtod(ts, &end);
            int64_t ms;
            if (end != ts && !*end)
                tms = (int64_t)d;
            else if (evb_transform_parse_time(ts, strlen(ts), &ms))
                tms = ms;
        }
        sqlite3_bind_text(st, 1, sp->target_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, stream ? stream : u->r->name, -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, tms);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_text(st, 5, it->payload.data ? it->payload.data : "",
                          (int)it->payload.len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            err = evb_store_sqlerr(db, "writing a log event", errstr,
                                   errstr_size);
        sqlite3_reset(st);
        free(stream);
        free(ts);
    }
out:
    sqlite3_finalize(g);
    sqlite3_finalize(st);
    return err;
}

static evb_err_t to_logs(evb__runner_t *r, items_t *items, tally_t *t,
                         char *errstr, size_t errstr_size) {
    if (!items->n)
        return EVB_ERR_OK;
    logs_unit_t u = {r, items, t};
    evb_err_t e = evb_store_write(r->svc->cfg.store, logs_write, &u, errstr,
                                  errstr_size);
    if (!e)
        t->out += items->n;
    return e;
}

static evb_err_t sqs_write(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    logs_unit_t *u = arg;
    uint64_t invalid = 0;
    for (size_t i = 0; i < u->items->n; i++) {
        item_t *it = &u->items->v[i];
        char why[256];
        evb_queue_err_t q = evb_queue_send_from_target(
            db, u->r->spec->target, it->payload.data ? it->payload.data : "",
            it->payload.len, NULL, 0, NULL, why, sizeof why);
        if (q == EVB_QUEUE_ERR_OK)
            continue;
        if (q == EVB_QUEUE_ERR_INVALID_MESSAGE_CONTENTS ||
            q == EVB_QUEUE_ERR_INVALID_PARAMETER) {
            invalid++;
            continue;
        }
        return evb_err_set(q == EVB_QUEUE_ERR_NOT_FOUND ? EVB_ERR_NOT_FOUND
                                                        : EVB_ERR_IO,
                           errstr, errstr_size, "%s: %s", u->r->spec->target,
                           why);
    }
    u->t->invalid += invalid;
    u->t->out += u->items->n - invalid;
    return EVB_ERR_OK;
}

static evb_err_t to_sqs(evb__runner_t *r, items_t *items, tally_t *t,
                        char *errstr, size_t errstr_size) {
    if (!items->n)
        return EVB_ERR_OK;
    tally_t local = {0};
    logs_unit_t u = {r, items, &local};
    evb_err_t e = evb_store_write(r->svc->cfg.store, sqs_write, &u, errstr,
                                  errstr_size);
    if (e)
        return e;
    t->out += local.out;
    t->invalid += local.invalid;
    if (r->svc->cfg.queues)
        evb_queue_service_notify(r->svc->cfg.queues);
    return EVB_ERR_OK;
}

static evb_err_t to_apidest(evb__runner_t *r, items_t *items, tally_t *t,
                            char *errstr, size_t errstr_size) {
    for (size_t i = 0; i < items->n; i++) {
        item_t *it = &items->v[i];
        char *hp = NULL;
        if (r->spec->target_http &&
            !(hp = http_params(r->spec->target_http, it->ev)))
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        evb_err_t e = invoke_sync(
            r, r->spec->target, hp, it->payload.data ? it->payload.data : "",
            it->payload.len, NULL, errstr, errstr_size);
        free(hp);
        if (e)
            return e;
        t->out++;
    }
    return EVB_ERR_OK;
}

static evb_err_t to_kafka(evb__runner_t *r, items_t *items, tally_t *t,
                          char *errstr, size_t errstr_size) {
    if (!items->n)
        return EVB_ERR_OK;
    if (!r->svc->cfg.kafka_target)
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "no Kafka target is configured");
    evb_pipe_kafka_item_t *ki = calloc(items->n, sizeof *ki);
    if (!ki)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    for (size_t i = 0; i < items->n; i++)
        ki[i] = (evb_pipe_kafka_item_t){
            items->v[i].payload.data ? items->v[i].payload.data : "",
            items->v[i].payload.len};
    evb_err_t e = r->svc->cfg.kafka_target(r->svc->cfg.kafka_target_ud,
                                           r->spec->target, ki, items->n,
                                           errstr, errstr_size);
    free(ki);
    if (!e)
        t->out += items->n;
    return e;
}

/* ---- the batch ------------------------------------------------------------------------- */

/* One batch's records through filter, enrichment and the target's
 * template, into items (the target's input). */
static evb_err_t prepare_items(evb__runner_t *r, evb_match_ctx_t *ctx,
                               evb__slot_t *slots, size_t n, items_t *out,
                               tally_t *t, char *errstr, size_t errstr_size) {
    const evb__pipe_spec_t *sp = r->spec;
    items_t items = {0};
    evb_err_t e = EVB_ERR_OK;
    for (size_t i = 0; i < n && !e; i++) {
        evb__slot_t *s = &slots[i];
        if (!s->shaped_ok) {
            /* the decode hook asked for a retry: shape again */
            if (evb__slot_reshape(r, s, errstr, errstr_size) ==
                EVB_PIPE_DECODE_RETRY) {
                e = EVB_ERR_IO;
                break;
            }
        }
        if (s->shaped.undecodable)
            t->undecodable++;
        bool pass = true;
        if (sp->filter) {
            char why[256];
            if (evb_pipe_filter_match(sp->filter, ctx, &s->shaped, &pass, why,
                                      sizeof why))
                pass = false; /* cannot happen for records we shaped */
        }
        if (!pass) {
            t->filtered++;
            continue;
        }
        if (sp->enrichment) {
            e = enrich(r, s, &items, t, errstr, errstr_size);
            continue;
        }
        item_t *it = items_add(&items);
        if (!it) {
            e = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                            "out of memory");
            break;
        }
        if (sp->target_tpl || sp->bus_source || sp->bus_detail_type ||
            sp->bus_time || sp->nbus_resources || sp->log_stream ||
            sp->log_timestamp || sp->target_http) {
            json_t *v = tview(r, s);
            if (!v) {
                e = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                                "out of memory");
                break;
            }
            it->ev = json_incref(v);
        }
        if (!sp->target_tpl &&
            evb_buf_append(&it->payload, s->shaped.event.data,
                           s->shaped.event.len))
            e = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                            "out of memory");
    }
    /* the target's template, per item */
    if (!e && sp->target_tpl) {
        items_t rendered = {0};
        for (size_t i = 0; i < items.n && !e; i++) {
            item_t *it = &items.v[i];
            evb_pipe_vars_t vars;
            vars_for(r, NULL, &vars);
            evb_buf_t o;
            evb_buf_init(&o, 0);
            evb_err_t re = evb_pipe_template_render(
                sp->target_tpl, it->ev, &vars, &o, errstr, errstr_size);
            if (re == EVB_ERR_INVALID_OUTPUT) {
                t->invalid++;
                evb_buf_free(&o);
                continue;
            }
            item_t *ni = re ? NULL : items_add(&rendered);
            if (!ni) {
                e = re ? re
                       : evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                                     "out of memory");
                evb_buf_free(&o);
                break;
            }
            ni->payload = o;
            ni->ev = it->ev ? json_incref(it->ev) : NULL;
        }
        items_free(&items);
        items = rendered;
    }
    if (!e && items.n > sp->target_max) {
        /* an enrichment answered more than the target takes: the target
         * is not invoked (reference §6.6) */
        t->invalid += items.n;
        items_free(&items);
    }
    if (e)
        items_free(&items);
    else
        *out = items;
    return e;
}

static evb_err_t deliver(evb__runner_t *r, items_t *items, tally_t *t,
                         char *errstr, size_t errstr_size) {
    if (!items->n)
        return EVB_ERR_OK;
    switch (r->spec->tkind) {
    case EVB__TGT_BUS: return to_bus(r, items, 1, t, errstr, errstr_size);
    case EVB__TGT_LOGS: return to_logs(r, items, t, errstr, errstr_size);
    case EVB__TGT_SQS: return to_sqs(r, items, t, errstr, errstr_size);
    case EVB__TGT_APIDEST:
        return to_apidest(r, items, t, errstr, errstr_size);
    case EVB__TGT_KAFKA: return to_kafka(r, items, t, errstr, errstr_size);
    }
    return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                       "unknown target kind");
}

evb_err_t evb__process_batches(evb__runner_t *r, evb_match_ctx_t *ctx,
                               const evb__batch_ref_t *batches, size_t nb,
                               char *errstr, size_t errstr_size) {
    tally_t t = {0};
    items_t one[1] = {{0}};
    items_t *lists = nb > 1 ? calloc(nb, sizeof *lists) : one;
    if (!lists)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    evb_err_t e = EVB_ERR_OK;
    for (size_t b = 0; b < nb && !e; b++)
        e = prepare_items(r, ctx, batches[b].slots, batches[b].n, &lists[b],
                          &t, errstr, errstr_size);
    if (!e && r->spec->tkind == EVB__TGT_BUS) {
        e = to_bus(r, lists, nb, &t, errstr, errstr_size);
    } else {
        for (size_t b = 0; b < nb && !e; b++)
            e = deliver(r, &lists[b], &t, errstr, errstr_size);
    }
    for (size_t b = 0; b < nb; b++)
        items_free(&lists[b]);
    if (lists != one)
        free(lists);
    if (e)
        return e;
    atomic_fetch_add(&r->records_filtered, t.filtered);
    atomic_fetch_add(&r->records_out, t.out);
    atomic_fetch_add(&r->records_invalid, t.invalid);
    atomic_fetch_add(&r->records_undecodable, t.undecodable);
    return EVB_ERR_OK;
}

evb_err_t evb__process_batch(evb__runner_t *r, evb_match_ctx_t *ctx,
                             evb__slot_t *slots, size_t n, char *errstr,
                             size_t errstr_size) {
    evb__batch_ref_t b = {slots, n};
    return evb__process_batches(r, ctx, &b, 1, errstr, errstr_size);
}
