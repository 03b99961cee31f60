/*
 * delivery.c: the outbox worker (see delivery.h).
 *
 * A pass reads up to `batch` due deliveries with their events on a read
 * connection, decides each one's outcome without holding any store lock
 * (transforming payloads, matching forwarded events), then writes every
 * outcome in one unit of the group commit: log events, forwarded events
 * and their deliveries, and the removal of the settled rows. A crash
 * before that commit leaves the rows pending, so they are done again:
 * at-least-once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../json/json.h"
#include "delivery_internal.h"

struct evb_delivery {
    evb_store_t *store;
    evb_bus_service_t *bus;
    evb_queue_service_t *queues;
    evb_apidest_invoker_t *invoker;
    evb_kafka_clusters_t *kafka;
    unsigned batch, poll_ms;
    pthread_t thread;
    bool threaded;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bool kicked, stopping;
    evb_delivery_stats_t stats;
};

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *evb__strdup_delivery(const char *s) {
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

void evb__outcome_free(outcome_t *o) {
    free(o->log.group);
    free(o->log.stream);
    free(o->log.message);
    free(o->fwd.bus);
    evb_route_hits_free(o->fwd.hits, o->fwd.nhits);
    free(o->msg.arn);
    free(o->msg.body);
    free(o->dlq_arn);
    free(o->rule_arn);
    free(o->target_arn);
    free(o->http.dest_arn);
    free(o->http.params);
    free(o->http.body);
    evb__kafka_call_free(&o->kafka);
    memset(o, 0, sizeof *o);
}

static void due_free(due_t *d) {
    free(d->bus);
    free(d->rule);
    free(d->target_id);
    free(d->event_id);
    free(d->body);
    free(d->via_bus);
}

typedef struct fetch {
    unsigned limit;
    int64_t now;
    due_t *items;
    size_t n;
} fetch_t;

static char *coldup(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t)
        return NULL;
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, t, n);
        p[n] = '\0';
    }
    return p;
}

static evb_err_t fetch_due(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    fetch_t *f = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            db,
            "SELECT d.seq, d.event_seq, d.bus, d.rule, d.target_id, e.id, "
            "e.body, e.ingested_ms, e.via_bus, d.attempts FROM deliveries d "
            "JOIN events "
            "e ON e.seq = d.event_seq WHERE d.state = 'pending' AND "
            "d.next_attempt_ms <= ? ORDER BY d.next_attempt_ms LIMIT ?",
            -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "reading due deliveries", errstr,
                                errstr_size);
    sqlite3_bind_int64(st, 1, f->now);
    sqlite3_bind_int(st, 2, (int)f->limit);
    f->items = calloc(f->limit, sizeof *f->items);
    evb_err_t err = f->items ? EVB_ERR_OK : EVB_ERR_NOMEM;
    while (!err && sqlite3_step(st) == SQLITE_ROW) {
        due_t *d = &f->items[f->n++];
        d->seq = sqlite3_column_int64(st, 0);
        d->event_seq = sqlite3_column_int64(st, 1);
        d->bus = coldup(st, 2);
        d->rule = coldup(st, 3);
        d->target_id = coldup(st, 4);
        d->event_id = coldup(st, 5);
        d->body = coldup(st, 6);
        d->body_len = (size_t)sqlite3_column_bytes(st, 6);
        d->ingested_ms = sqlite3_column_int64(st, 7);
        d->via_bus = coldup(st, 8);
        d->attempts = sqlite3_column_int(st, 9);
        if (!d->bus || !d->rule || !d->target_id || !d->event_id || !d->body)
            err = EVB_ERR_NOMEM;
    }
    sqlite3_finalize(st);
    if (err)
        evb_err_set(err, errstr, errstr_size, "out of memory");
    return err;
}

typedef struct apply {
    evb_delivery_t *dv;
    const due_t *items;
    outcome_t *out;
    size_t n;
    int64_t now;
} apply_t;

static evb_err_t forward_event(sqlite3 *db, const due_t *d, const forward_t *f,
                               int64_t now, char *errstr, size_t errstr_size) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO events(id, bus, body, ingested_ms, "
                           "via_bus) VALUES (?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "forwarding an event", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, d->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->bus, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->body, (int)d->body_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_text(st, 5, d->bus, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "forwarding an event", errstr,
                                errstr_size);
    int64_t seq = sqlite3_last_insert_rowid(db);
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO deliveries(event_seq, bus, rule, "
                           "target_id, next_attempt_ms) VALUES (?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "forwarding an event", errstr,
                                errstr_size);
    evb_err_t err = EVB_ERR_OK;
    for (size_t i = 0; i < f->nhits && !err; i++) {
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_text(st, 2, f->bus, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, f->hits[i].rule, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, f->hits[i].target_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, now);
        if (sqlite3_step(st) != SQLITE_DONE)
            err = evb_store_sqlerr(db, "forwarding an event", errstr,
                                   errstr_size);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return err;
}

static evb_err_t reschedule(sqlite3 *db, int64_t seq, int attempts,
                            int64_t next_ms, char *errstr,
                            size_t errstr_size) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "UPDATE deliveries SET attempts = ?, "
                           "next_attempt_ms = ? WHERE seq = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "rescheduling a delivery", errstr,
                                errstr_size);
    sqlite3_bind_int(st, 1, attempts);
    sqlite3_bind_int64(st, 2, next_ms);
    sqlite3_bind_int64(st, 3, seq);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? EVB_ERR_OK
                             : evb_store_sqlerr(db, "rescheduling a delivery",
                                                errstr, errstr_size);
}

static evb_err_t apply_outcomes(sqlite3 *db, void *arg, char *errstr,
                                size_t errstr_size) {
    apply_t *a = arg;
    const char *account = evb_bus_account(a->dv->bus);
    const char *region = evb_bus_region(a->dv->bus);
    sqlite3_stmt *del = NULL, *gc = NULL;
    evb_err_t err = EVB_ERR_OK;
    if (sqlite3_prepare_v2(db, "DELETE FROM deliveries WHERE seq = ?", -1,
                           &del, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "DELETE FROM events WHERE seq = ?1 AND NOT EXISTS "
                           "(SELECT 1 FROM deliveries WHERE event_seq = ?1)",
                           -1, &gc, NULL) != SQLITE_OK) {
        err = evb_store_sqlerr(db, "settling deliveries", errstr,
                               errstr_size);
        goto out;
    }
    for (size_t i = 0; i < a->n && !err; i++) {
        const outcome_t *o = &a->out[i];
        const due_t *d = &a->items[i];
        if (o->log.group)
            err = evb__logs_write(db, account, region, &o->log, a->now,
                                  errstr, errstr_size);
        if (!err && o->fwd.bus && o->fwd.nhits)
            err = forward_event(db, d, &o->fwd, a->now, errstr, errstr_size);
        if (!err)
            err = evb__sqs_write(db, d, &a->out[i], errstr, errstr_size);
        if (err)
            break;
        if (o->kind == OUT_RETRY) {
            err = reschedule(db, d->seq, o->attempts, o->next_attempt_ms,
                             errstr, errstr_size);
            continue;
        }
        sqlite3_bind_int64(del, 1, d->seq);
        if (sqlite3_step(del) != SQLITE_DONE)
            err = evb_store_sqlerr(db, "settling a delivery", errstr,
                                   errstr_size);
        sqlite3_reset(del);
        sqlite3_bind_int64(gc, 1, d->event_seq);
        if (!err && sqlite3_step(gc) != SQLITE_DONE)
            err = evb_store_sqlerr(db, "settling an event", errstr,
                                   errstr_size);
        sqlite3_reset(gc);
    }
out:
    sqlite3_finalize(del);
    sqlite3_finalize(gc);
    return err;
}

/* A member of object v by name (the last one when a key repeats). */
static const evb_jval_t *member(const evb_jval_t *v, const char *name) {
    const evb_jval_t *found = NULL;
    if (v && v->type == EVB_JSON_OBJECT)
        for (size_t i = 0; i < v->u.obj.n; i++)
            if (strcmp(v->u.obj.members[i].key, name) == 0)
                found = v->u.obj.members[i].val;
    return found;
}

/* What the delivery needs from a target's PutTargets JSON: RetryPolicy
 * (EventBridge's defaults: 185 retries, 24 hours) and
 * DeadLetterConfig.Arn. */
static void target_options(const char *spec, outcome_t *o) {
    o->max_attempts = 185;
    o->max_age_ms = 86400 * INT64_C(1000);
    evb_arena_t a;
    evb_arena_init(&a, 1024);
    evb_jval_t *v;
    if (!evb_json_parse(&a, spec, strlen(spec), 64, &v, NULL, 0)) {
        const evb_jval_t *rp = member(v, "RetryPolicy");
        const evb_jval_t *n = member(rp, "MaximumRetryAttempts");
        if (n && n->type == EVB_JSON_NUMBER) {
            long x = strtol(n->u.str.s, NULL, 10);
            if (x >= 0 && x <= 185)
                o->max_attempts = (int)x;
        }
        n = member(rp, "MaximumEventAgeInSeconds");
        if (n && n->type == EVB_JSON_NUMBER) {
            long x = strtol(n->u.str.s, NULL, 10);
            if (x >= 60 && x <= 86400)
                o->max_age_ms = x * INT64_C(1000);
        }
        const evb_jval_t *arn = member(member(v, "DeadLetterConfig"), "Arn");
        if (arn && arn->type == EVB_JSON_STRING)
            o->dlq_arn = evb__strdup_delivery(arn->u.str.s);
    }
    evb_arena_free(&a);
}

/* ---- API destinations: submit a batch's invocations, wait for all ---- */

typedef struct waitgroup {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    size_t pending;
} waitgroup_t;

typedef struct call_ctx {
    waitgroup_t *wg;
    outcome_t *o;
    evb_apidest_result_t r;
} call_ctx_t;

static void on_invoked(void *ud, const evb_apidest_result_t *r) {
    call_ctx_t *c = ud;
    pthread_mutex_lock(&c->wg->lock);
    c->r = *r;
    if (--c->wg->pending == 0)
        pthread_cond_signal(&c->wg->cv);
    pthread_mutex_unlock(&c->wg->lock);
}

/* Exponential backoff with jitter: 1 s doubling to 5 minutes, then a
 * random point in the upper half of that interval. */
static int64_t backoff_ms(int attempts) {
    int64_t d = 1000;
    for (int i = 1; i < attempts && d < 300000; i++)
        d *= 2;
    if (d > 300000)
        d = 300000;
    unsigned r = (unsigned)random();
    return d / 2 + (int64_t)(r % (unsigned)(d / 2 + 1));
}

/* Settle an invocation's result into its outcome. */
static void settle(const due_t *d, outcome_t *o, const evb_apidest_result_t *r,
                   int64_t now) {
    if (r->outcome == EVB_APIDEST_SUCCESS) {
        o->kind = OUT_DONE;
        return;
    }
    o->error_code = r->code;
    snprintf(o->error_message, sizeof o->error_message, "%s", r->message);
    /* a dead letter's RETRY_ATTEMPTS counts the retries made, not the
     * first attempt (MaximumRetryAttempts 3 exhausted: 3) */
    int made = d->attempts + 1; /* attempts, this one included */
    o->attempts = d->attempts;
    if (r->outcome != EVB_APIDEST_RETRIABLE) {
        o->kind = OUT_DROPPED;
        return;
    }
    if (made > o->max_attempts) {
        o->kind = OUT_DROPPED;
        o->exhausted = "MaximumRetryAttempts";
        return;
    }
    int64_t next = now + backoff_ms(made);
    if (next - d->ingested_ms > o->max_age_ms) {
        o->kind = OUT_DROPPED;
        o->exhausted = "MaximumEventAgeInSeconds";
        return;
    }
    o->kind = OUT_RETRY;
    o->attempts = made;
    o->next_attempt_ms = next;
}

static void invoke_all(evb_delivery_t *dv, const due_t *items, outcome_t *out,
                       size_t n) {
    size_t calls = 0;
    for (size_t i = 0; i < n; i++)
        calls += out[i].kind == OUT_INFLIGHT;
    if (!calls)
        return;
    call_ctx_t *ctx = calloc(calls, sizeof *ctx);
    waitgroup_t wg = {.pending = 0};
    pthread_mutex_init(&wg.lock, NULL);
    pthread_cond_init(&wg.cv, NULL);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        outcome_t *o = &out[i];
        if (o->kind != OUT_INFLIGHT)
            continue;
        evb_apidest_result_t fail = {EVB_APIDEST_RETRIABLE, 0,
                                     "INTERNAL_ERROR", "out of memory"};
        if (!ctx) {
            settle(&items[i], o, &fail, now_ms());
            continue;
        }
        call_ctx_t *c = &ctx[k++];
        c->wg = &wg;
        c->o = o;
        pthread_mutex_lock(&wg.lock);
        wg.pending++;
        pthread_mutex_unlock(&wg.lock);
        if (o->kafka.topic) {
            evb__kafka_submit(dv->kafka, o, on_invoked, c);
            continue;
        }
        char why[160];
        if (evb_apidest_invoke(dv->invoker, o->http.dest_arn, o->http.params,
                               o->http.body, o->http.len, on_invoked, c, why,
                               sizeof why)) {
            pthread_mutex_lock(&wg.lock);
            wg.pending--;
            pthread_mutex_unlock(&wg.lock);
            c->o = NULL;
            snprintf(fail.message, sizeof fail.message, "%s", why);
            settle(&items[i], o, &fail, now_ms());
        }
    }
    /* every accepted invocation completes exactly once (the invoker
     * guarantees it, with SHUTDOWN when it is freed) */
    pthread_mutex_lock(&wg.lock);
    while (wg.pending)
        pthread_cond_wait(&wg.cv, &wg.lock);
    pthread_mutex_unlock(&wg.lock);
    int64_t now = now_ms();
    for (size_t j = 0; j < k; j++)
        if (ctx[j].o)
            settle(&items[ctx[j].o - out], ctx[j].o, &ctx[j].r, now);
    free(ctx);
    pthread_mutex_destroy(&wg.lock);
    pthread_cond_destroy(&wg.cv);
}

static void decide(evb_delivery_t *dv, const due_t *d, outcome_t *o) {
    memset(o, 0, sizeof *o);
    evb_target_ref_t t;
    if (evb_bus_target_lookup(dv->bus, d->bus, d->rule, d->target_id, &t)) {
        /* the rule or target was removed after the event was accepted */
        o->kind = OUT_DROPPED;
        return;
    }
    if (strncmp(t.arn, "arn:aws:logs:", 13) == 0)
        evb__target_logs(dv->bus, d, &t, o);
    else if (strncmp(t.arn, "arn:aws:events:", 15) == 0 &&
             strstr(t.arn, ":api-destination/")) {
        if (dv->invoker)
            evb__target_apidest(dv->bus, d, &t, o);
        else
            o->kind = OUT_DROPPED;
    } else if (strncmp(t.arn, "arn:aws:events:", 15) == 0)
        evb__target_bus(dv->bus, d, &t, o);
    else if (strncmp(t.arn, "arn:aws:sqs:", 12) == 0)
        evb__target_sqs(dv->bus, d, &t, o);
    else if (strncmp(t.arn, "arn:aws:kafka:", 14) == 0)
        evb__target_kafka(dv->bus, d, &t, o);
    else
        o->kind = OUT_DROPPED; /* kinds of target that arrive later */
    o->attempts = d->attempts;
    target_options(t.spec, o);
    o->rule_arn = evb__strdup_delivery(t.rule_arn);
    o->target_arn = evb__strdup_delivery(t.arn);
    evb_target_ref_free(&t);
}

evb_err_t evb_delivery_run_once(evb_delivery_t *dv, size_t *done,
                                char *errstr, size_t errstr_size) {
    *done = 0;
    for (int round = 0; round < 1000; round++) {
        fetch_t f = {dv->batch, now_ms(), NULL, 0};
        evb_err_t err =
            evb_store_read(dv->store, fetch_due, &f, errstr, errstr_size);
        if (err || f.n == 0) {
            for (size_t i = 0; i < f.n; i++)
                due_free(&f.items[i]);
            free(f.items);
            return err;
        }
        outcome_t *out = calloc(f.n, sizeof *out);
        if (!out) {
            for (size_t i = 0; i < f.n; i++)
                due_free(&f.items[i]);
            free(f.items);
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        }
        for (size_t i = 0; i < f.n; i++)
            decide(dv, &f.items[i], &out[i]);
        invoke_all(dv, f.items, out, f.n);
        apply_t a = {dv, f.items, out, f.n, now_ms()};
        err = evb_store_write(dv->store, apply_outcomes, &a, errstr,
                              errstr_size);
        if (!err) {
            pthread_mutex_lock(&dv->lock);
            bool queued = false;
            for (size_t i = 0; i < f.n; i++) {
                evb__delivery_metrics(&f.items[i], &out[i], a.now);
                queued |= out[i].msg.arn || out[i].dead_lettered;
                dv->stats.dead_lettered += out[i].dead_lettered;
                dv->stats.dlq_failed += out[i].dlq_failed;
                if (out[i].kind == OUT_DONE)
                    dv->stats.delivered++;
                else if (out[i].kind == OUT_RETRY)
                    dv->stats.retried++;
                else
                    dv->stats.dropped++;
                if (out[i].invalid_output)
                    dv->stats.invalid_output++;
                if (out[i].fwd.bus && out[i].fwd.nhits)
                    dv->stats.forwarded++;
            }
            pthread_mutex_unlock(&dv->lock);
            if (queued && dv->queues)
                evb_queue_service_notify(dv->queues);
            *done += f.n;
        }
        for (size_t i = 0; i < f.n; i++) {
            evb__outcome_free(&out[i]);
            due_free(&f.items[i]);
        }
        free(out);
        free(f.items);
        if (err)
            return err;
    }
    return EVB_ERR_OK;
}

static void *worker(void *arg) {
    evb_delivery_t *dv = arg;
    pthread_mutex_lock(&dv->lock);
    while (!dv->stopping) {
        if (!dv->kicked) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += dv->poll_ms / 1000;
            ts.tv_nsec += (long)(dv->poll_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&dv->cv, &dv->lock, &ts);
        }
        if (dv->stopping)
            break;
        dv->kicked = false;
        pthread_mutex_unlock(&dv->lock);
        size_t done;
        char err[256];
        if (evb_delivery_run_once(dv, &done, err, sizeof err))
            evb_log(EVB_LOG_ERROR, "delivery", "%s", err);
        pthread_mutex_lock(&dv->lock);
    }
    pthread_mutex_unlock(&dv->lock);
    return NULL;
}

evb_err_t evb_delivery_new(const evb_delivery_config_t *cfg,
                           evb_store_t *store, evb_bus_service_t *bus,
                           bool start_thread, evb_delivery_t **out,
                           char *errstr, size_t errstr_size) {
    *out = NULL;
    evb_delivery_t *dv = calloc(1, sizeof *dv);
    if (!dv)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    dv->store = store;
    dv->bus = bus;
    dv->batch = cfg && cfg->batch ? cfg->batch : 1024;
    dv->poll_ms = cfg && cfg->poll_ms ? cfg->poll_ms : 1000;
    dv->queues = cfg ? cfg->queues : NULL;
    dv->invoker = cfg ? cfg->invoker : NULL;
    dv->kafka = cfg ? cfg->kafka : NULL;
    pthread_mutex_init(&dv->lock, NULL);
    pthread_cond_init(&dv->cv, NULL);
    dv->kicked = true; /* pick up what a previous run left pending */
    if (start_thread) {
        if (pthread_create(&dv->thread, NULL, worker, dv) != 0) {
            pthread_mutex_destroy(&dv->lock);
            pthread_cond_destroy(&dv->cv);
            free(dv);
            return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                               "cannot start the delivery worker");
        }
        dv->threaded = true;
    }
    *out = dv;
    return EVB_ERR_OK;
}

void evb_delivery_kick(evb_delivery_t *dv) {
    pthread_mutex_lock(&dv->lock);
    dv->kicked = true;
    pthread_cond_signal(&dv->cv);
    pthread_mutex_unlock(&dv->lock);
}

void evb_delivery_get_stats(evb_delivery_t *dv, evb_delivery_stats_t *out) {
    pthread_mutex_lock(&dv->lock);
    *out = dv->stats;
    pthread_mutex_unlock(&dv->lock);
}

void evb_delivery_free(evb_delivery_t *dv) {
    if (!dv)
        return;
    if (dv->threaded) {
        pthread_mutex_lock(&dv->lock);
        dv->stopping = true;
        pthread_cond_signal(&dv->cv);
        pthread_mutex_unlock(&dv->lock);
        pthread_join(dv->thread, NULL);
    }
    pthread_mutex_destroy(&dv->lock);
    pthread_cond_destroy(&dv->cv);
    free(dv);
}
