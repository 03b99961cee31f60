/*
 * delivery.c: the outbox worker (see delivery.h).
 *
 * A pipeline of two threads, so that no delivery waits for another one:
 *
 *   worker   reads due deliveries with their events (a WAL read), decides
 *            each one's outcome with its compiled target (transforming the
 *            payload), and hands API-destination calls to the invoker
 *            without waiting for them; everything else is settled at once.
 *   settler  takes whatever has finished (invocation completions arrive on
 *            the invoker's thread in any order) and writes those outcomes
 *            in one unit of the store's group commit: log events,
 *            forwarded events and their deliveries, queue messages and
 *            dead letters, reschedules, and the removal of settled rows.
 *
 * A row is removed only by the commit that records its success (or its
 * final failure), so a crash at any point leaves it pending and it is
 * done again: at-least-once. Rows between their read and that commit are
 * "in flight": a set in memory keeps the worker from reading them twice.
 * The worker reads under the state lock, and the settler takes rows out
 * of the set under that lock only after their commit, so any read that
 * finds a row not in the set started after the commit that would have
 * removed it.
 *
 * How the worker finds work without rescanning what is in flight:
 *
 *   new rows   `seq > cursor`, by seq, whenever it is kicked (PutEvents,
 *              a replay, a schedule). Commits become visible in seq
 *              order, and since migration 7 (AUTOINCREMENT) a seq is
 *              never reused, so every new row is above the cursor and
 *              new rows are read in the order they were made. (Before,
 *              SQLite gave a new row max(seq)+1, numbers were reused once
 *              the newest rows were settled, and the cursor had to move
 *              back: each settle unit still reads max(seq) after its
 *              deletes and the settler lowers the cursor to it, which
 *              now only skips numbers no row holds.)
 *   sweeps     every due row by (next_attempt_ms, seq), in pages: at
 *              start, when a rescheduled retry falls due, after a failed
 *              settle, and every poll_ms as a safety net.
 *
 * Targets are compiled once per change of the buses' rules and targets
 * (evb_bus_generation): the lookup, the input transform, RetryPolicy,
 * DeadLetterConfig and HttpParameters; deliveries in flight hold a
 * reference to the compiled target they were decided with.
 *
 * Without a thread (evb_delivery_new's start_thread false, for tests),
 * evb_delivery_run_once does the same steps in the caller, one batch at a
 * time: read, decide, invoke, wait for the completions, settle.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../json/json.h"
#include "delivery_internal.h"

#define MAX_IN_FLIGHT 4096  /* deliveries read and not yet settled */
/* Outcomes per settle unit: a unit runs on the store's writer between
 * PutEvents' units, so a big one holds up ingestion (each outcome is a few
 * B-tree changes, a few microseconds); too small a one makes the settler
 * wait for a commit every few hundred deliveries, which bounds a fast
 * target (a log group behind a pipe: 30,000 deliveries/s with 256, over
 * 45,000 with 1024 in bench/pipe). The settler comes back for more. */
#define SETTLE_MAX 1024
#define SETTLE_RETRY_MS 100 /* sweep again this soon after a failed settle */
#define CT_BUCKETS 256      /* compiled-target hash buckets */

/* ---- compiled targets ---------------------------------------------------- */

typedef struct centry {
    evb__ctarget_t c; /* first: items point at it */
    atomic_uint refs; /* the cache's one, and one per item */
    struct centry *next;
    char *key; /* "bus\0rule\0id" */
    size_t key_len;
    uint32_t hash;
} centry_t;

/* ---- deliveries in flight ------------------------------------------------ */

typedef struct item {
    struct item *next;
    evb_delivery_t *dv;
    due_t d;
    outcome_t o;
    centry_t *ce;           /* the target it was decided with, or NULL */
    evb_apidest_result_t r; /* the invocation's result, when invoked */
    bool invoked;
} item_t;

/* An open-addressing set of delivery seqs (linear probing, backward-shift
 * deletion); capacity a power of two, kept under half full. */
typedef struct seqset {
    int64_t *slot; /* 0 = empty (seqs start at 1) */
    size_t cap, n;
} seqset_t;

struct evb_delivery {
    evb_store_t *store;
    evb_bus_service_t *bus;
    evb_queue_service_t *queues;
    evb_apidest_invoker_t *invoker;
    evb_kafka_clusters_t *kafka; /* Kafka topic targets; may be NULL */
    evb__kafka_writers_t *avro;  /* their Avro writers (owned) */
    unsigned batch, poll_ms;
    pthread_t worker, settler;
    bool threaded, hooked;

    /* wake: the worker's sleep */
    pthread_mutex_t wake_lock;
    pthread_cond_t wake_cv;
    bool kicked, stopping;

    /* state: held by the worker across each read */
    pthread_mutex_t state_lock;
    seqset_t inflight;
    int64_t cursor;        /* new rows: seq > cursor */
    int64_t next_sweep_ms;  /* the next periodic sweep */
    int64_t sweep_again_ms; /* an earlier one: a retry falls due, or rows
                               a failed settle left pending */
    bool sweeping;          /* a sweep is part-way */
    int64_t sweep_ms, sweep_seq;
    evb_delivery_stats_t stats;

    /* settle queue: finished items, from the worker and the invoker */
    pthread_mutex_t sq_lock;
    pthread_cond_t sq_cv;
    item_t *sq_head, *sq_tail;
    size_t invoking; /* handed to the invoker, not yet completed */
    bool settler_stop;

    /* compiled targets (worker thread, or run_once's caller) */
    centry_t *ct[CT_BUCKETS];
    uint64_t ct_generation;
};

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_in(struct timespec *ts, int64_t ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    if (ms < 0)
        ms = 0;
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
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

/* ---- the in-flight set --------------------------------------------------- */

static size_t seq_hash(int64_t seq, size_t cap) {
    uint64_t x = (uint64_t)seq * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(x >> 32) & (cap - 1);
}

static bool seqset_has(const seqset_t *s, int64_t seq) {
    if (!s->cap)
        return false;
    for (size_t i = seq_hash(seq, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->slot[i] == seq)
            return true;
        if (s->slot[i] == 0)
            return false;
    }
}

/* false: out of memory */
static bool seqset_add(seqset_t *s, int64_t seq) {
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        int64_t *slot = calloc(cap, sizeof *slot);
        if (!slot)
            return false;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i])
                continue;
            size_t j = seq_hash(s->slot[i], cap);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = s->slot[i];
        }
        free(s->slot);
        s->slot = slot;
        s->cap = cap;
    }
    size_t i = seq_hash(seq, s->cap);
    while (s->slot[i] && s->slot[i] != seq)
        i = (i + 1) & (s->cap - 1);
    if (!s->slot[i]) {
        s->slot[i] = seq;
        s->n++;
    }
    return true;
}

static void seqset_del(seqset_t *s, int64_t seq) {
    if (!s->cap)
        return;
    size_t mask = s->cap - 1, i = seq_hash(seq, s->cap);
    while (s->slot[i] != seq) {
        if (!s->slot[i])
            return;
        i = (i + 1) & mask;
    }
    /* backward shift: move later members of the run into the hole */
    for (size_t j = (i + 1) & mask; s->slot[j]; j = (j + 1) & mask) {
        size_t home = seq_hash(s->slot[j], s->cap);
        /* j's member may fill hole i if its home is not in (i, j] */
        bool movable =
            i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            s->slot[i] = s->slot[j];
            i = j;
        }
    }
    s->slot[i] = 0;
    s->n--;
}

/* ---- compiled targets ---------------------------------------------------- */

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
 * DeadLetterConfig.Arn. false: out of memory. */
static bool target_options(const char *spec, evb__ctarget_t *c) {
    c->max_attempts = 185;
    c->max_age_ms = 86400 * INT64_C(1000);
    bool ok = true;
    evb_arena_t a;
    evb_arena_init(&a, 1024);
    evb_jval_t *v;
    if (!evb_json_parse(&a, spec, strlen(spec), 64, &v, NULL, 0)) {
        const evb_jval_t *rp = member(v, "RetryPolicy");
        const evb_jval_t *n = member(rp, "MaximumRetryAttempts");
        if (n && n->type == EVB_JSON_NUMBER) {
            long x = strtol(n->u.str.s, NULL, 10);
            if (x >= 0 && x <= 185)
                c->max_attempts = (int)x;
        }
        n = member(rp, "MaximumEventAgeInSeconds");
        if (n && n->type == EVB_JSON_NUMBER) {
            long x = strtol(n->u.str.s, NULL, 10);
            if (x >= 60 && x <= 86400)
                c->max_age_ms = x * INT64_C(1000);
        }
        const evb_jval_t *arn = member(member(v, "DeadLetterConfig"), "Arn");
        if (arn && arn->type == EVB_JSON_STRING)
            ok = (c->dlq_arn = evb__strdup_delivery(arn->u.str.s)) != NULL;
    }
    evb_arena_free(&a);
    return ok;
}

static void centry_unref(centry_t *e) {
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    evb_target_ref_free(&e->c.t);
    evb_transform_free(e->c.tf);
    free(e->c.dlq_arn);
    free(e->c.http_params);
    free(e->key);
    free(e);
}

static void ct_flush(evb_delivery_t *dv) {
    for (size_t i = 0; i < CT_BUCKETS; i++) {
        while (dv->ct[i]) {
            centry_t *e = dv->ct[i];
            dv->ct[i] = e->next;
            centry_unref(e);
        }
    }
}

/* The compiled target of d with a reference for the caller, or NULL when
 * the rule or target is gone (or memory ran out). */
static centry_t *ct_get(evb_delivery_t *dv, const due_t *d) {
    uint64_t gen = evb_bus_generation(dv->bus); /* before any lookup */
    if (gen != dv->ct_generation) {
        ct_flush(dv);
        dv->ct_generation = gen;
    }
    size_t lb = strlen(d->bus), lr = strlen(d->rule), lt = strlen(d->target_id);
    size_t klen = lb + lr + lt + 2;
    uint32_t h = 2166136261u;
    const char *parts[3] = {d->bus, d->rule, d->target_id};
    size_t lens[3] = {lb, lr, lt};
    for (int p = 0; p < 3; p++) {
        for (size_t i = 0; i < lens[p]; i++)
            h = (h ^ (unsigned char)parts[p][i]) * 16777619u;
        h = (h ^ 0xffu) * 16777619u;
    }
    for (centry_t *e = dv->ct[h % CT_BUCKETS]; e; e = e->next)
        if (e->hash == h && e->key_len == klen &&
            memcmp(e->key, d->bus, lb + 1) == 0 &&
            memcmp(e->key + lb + 1, d->rule, lr + 1) == 0 &&
            memcmp(e->key + lb + lr + 2, d->target_id, lt) == 0) {
            atomic_fetch_add(&e->refs, 1);
            return e;
        }
    centry_t *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    if (evb_bus_target_lookup(dv->bus, d->bus, d->rule, d->target_id,
                              &e->c.t)) {
        free(e);
        return NULL;
    }
    atomic_init(&e->refs, 2); /* the cache's and the caller's */
    e->hash = h;
    e->key_len = klen;
    e->key = malloc(klen + 1);
    char err[256];
    bool ok = e->key && target_options(e->c.t.spec, &e->c);
    if (ok) {
        memcpy(e->key, d->bus, lb + 1);
        memcpy(e->key + lb + 1, d->rule, lr + 1);
        memcpy(e->key + lb + lr + 2, d->target_id, lt + 1);
        /* a spec whose input options do not compile leaves tf NULL: its
         * deliveries are dropped (evb__render_payload) */
        if (evb_transform_compile_json(e->c.t.spec, strlen(e->c.t.spec), 1,
                                       &e->c.tf, err, sizeof err))
            e->c.tf = NULL;
        if (strstr(e->c.t.spec, "\"HttpParameters\""))
            e->c.http_params = evb__target_http_parameters(e->c.t.spec);
    }
    if (!ok) {
        atomic_store(&e->refs, 1);
        centry_unref(e);
        return NULL;
    }
    e->next = dv->ct[h % CT_BUCKETS];
    dv->ct[h % CT_BUCKETS] = e;
    return e;
}

/* ---- reading due deliveries ---------------------------------------------- */

#define DUE_COLS                                                               \
    "d.seq, d.event_seq, d.bus, d.rule, d.target_id, e.id, e.body, "           \
    "e.ingested_ms, e.via_bus, d.attempts, d.next_attempt_ms "

/* New rows walk the rowid from the cursor (NOT INDEXED: the due index
 * would visit every due row, in flight or not, and sort them). A row
 * never attempted is taken whatever its next_attempt_ms: that is when it
 * was made (ingestion stamps it before its commit, so it can be later
 * than the `now` of a read that starts after the commit), and skipping
 * it would move the cursor past it and leave it to a sweep, after the
 * rows made after it. Only retries wait for their time (sweeps). */
static const char SQL_NEW[] =
    "SELECT " DUE_COLS "FROM deliveries d NOT INDEXED "
    "JOIN events e ON e.seq = d.event_seq "
    "WHERE d.seq > ?1 AND d.state = 'pending' "
    "AND (d.attempts = 0 OR d.next_attempt_ms <= ?2) "
    "ORDER BY d.seq LIMIT ?3";
/* Sweeps walk deliveries_due (state, next_attempt_ms, seq) in order. */
static const char SQL_SWEEP[] =
    "SELECT " DUE_COLS "FROM deliveries d JOIN events e ON e.seq = d.event_seq "
    "WHERE d.state = 'pending' AND d.next_attempt_ms <= ?1 "
    "AND (d.next_attempt_ms, d.seq) > (?2, ?3) "
    "ORDER BY d.next_attempt_ms, d.seq LIMIT ?4";

typedef struct fetch {
    evb_delivery_t *dv;
    bool sweep;
    int64_t now, after_ms, after_seq;
    unsigned limit;
    item_t *head, *tail; /* read, not in flight before, now in flight */
    size_t n;
    unsigned rows; /* rows the query returned, in flight or not */
    int64_t last_ms, last_seq;
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

static void item_free(item_t *it) {
    evb__outcome_free(&it->o);
    due_free(&it->d);
    centry_unref(it->ce);
    free(it);
}

/* Read unit (called with the state lock held). */
static evb_err_t fetch_due(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    fetch_t *f = arg;
    sqlite3_stmt *st = evb_store_stmt(db, f->sweep ? SQL_SWEEP : SQL_NEW);
    if (!st)
        return evb_store_sqlerr(db, "reading due deliveries", errstr,
                                errstr_size);
    if (f->sweep) {
        sqlite3_bind_int64(st, 1, f->now);
        sqlite3_bind_int64(st, 2, f->after_ms);
        sqlite3_bind_int64(st, 3, f->after_seq);
        sqlite3_bind_int(st, 4, (int)f->limit);
    } else {
        sqlite3_bind_int64(st, 1, f->after_seq);
        sqlite3_bind_int64(st, 2, f->now);
        sqlite3_bind_int(st, 3, (int)f->limit);
    }
    evb_err_t err = EVB_ERR_OK;
    int rc;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        f->rows++;
        f->last_seq = seq;
        f->last_ms = sqlite3_column_int64(st, 10);
        if (seqset_has(&f->dv->inflight, seq))
            continue;
        item_t *it = calloc(1, sizeof *it);
        if (!it) {
            err = EVB_ERR_NOMEM;
            break;
        }
        due_t *d = &it->d;
        d->seq = seq;
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
        if (!d->bus || !d->rule || !d->target_id || !d->event_id || !d->body ||
            !seqset_add(&f->dv->inflight, seq)) {
            item_free(it);
            err = EVB_ERR_NOMEM;
            break;
        }
        if (f->tail)
            f->tail->next = it;
        else
            f->head = it;
        f->tail = it;
        f->n++;
    }
    if (!err && rc != SQLITE_DONE && rc != SQLITE_ROW)
        err =
            evb_store_sqlerr(db, "reading due deliveries", errstr, errstr_size);
    evb_store_stmt_done(st);
    if (err == EVB_ERR_NOMEM)
        evb_err_set(err, errstr, errstr_size, "out of memory");
    return err;
}

/* Forget items that were read but will not be processed (after an
 * error), under the state lock. */
static void unfetch(evb_delivery_t *dv, item_t *list) {
    while (list) {
        item_t *next = list->next;
        seqset_del(&dv->inflight, list->d.seq);
        item_free(list);
        list = next;
    }
}

/* ---- settling ------------------------------------------------------------ */

/* Ask for a sweep by at (state lock held). A later retry than the
 * earliest one noted is found by the periodic sweep, within poll_ms. */
static void sweep_again(evb_delivery_t *dv, int64_t at) {
    if (at < dv->sweep_again_ms)
        dv->sweep_again_ms = at;
}

typedef struct apply {
    evb_delivery_t *dv;
    item_t **items;
    size_t n;
    int64_t now;
    int64_t max_seq; /* max(deliveries.seq) after the deletes */
} apply_t;

static evb_err_t forward_event(sqlite3 *db, const due_t *d, const forward_t *f,
                               int64_t now, char *errstr, size_t errstr_size) {
    sqlite3_stmt *st = evb_store_stmt(db, "INSERT INTO events(id, bus, body, "
                                          "ingested_ms, via_bus) "
                                          "VALUES (?,?,?,?,?)");
    if (!st)
        return evb_store_sqlerr(db, "forwarding an event", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, d->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->bus, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->body, (int)d->body_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_text(st, 5, d->bus, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    evb_store_stmt_done(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "forwarding an event", errstr,
                                errstr_size);
    int64_t seq = sqlite3_last_insert_rowid(db);
    st = evb_store_stmt(db, "INSERT INTO deliveries(event_seq, bus, rule, "
                            "target_id, next_attempt_ms) VALUES (?,?,?,?,?)");
    if (!st)
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
    evb_store_stmt_done(st);
    return err;
}

static evb_err_t step_done(sqlite3 *db, sqlite3_stmt *st, const char *what,
                           char *errstr, size_t errstr_size) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? EVB_ERR_OK
                             : evb_store_sqlerr(db, what, errstr, errstr_size);
}

/*
 * Log streams. Like EventBridge, which "batches the entries sent to a log
 * stream" and names the stream after an event, the log events one settle
 * unit writes to a log group go to one stream, named after the first of
 * them (a new one after PutLogEvents' limits, 10,000 events or 1 MiB).
 * One stream per event would also cost a random insert into the streams'
 * index for every event, which is what bounds a durable log target.
 */
#define LOG_BATCH_GROUPS 16
#define LOG_BATCH_EVENTS 10000
#define LOG_BATCH_BYTES ((size_t)1048576)

typedef struct log_batch {
    const char *group;
    char *stream;
    size_t events, bytes;
} log_batch_t;

/* *known: the unit has written to the group already (it exists). */
static char *log_stream_for(log_batch_t *lb, size_t *nlb,
                            const log_write_t *w, bool *known) {
    size_t bytes = strlen(w->message) + 26; /* PutLogEvents' accounting */
    log_batch_t *b = NULL;
    for (size_t i = 0; i < *nlb && !b; i++)
        if (strcmp(lb[i].group, w->group) == 0)
            b = &lb[i];
    *known = b != NULL;
    if (!b) {
        if (*nlb == LOG_BATCH_GROUPS)
            return w->stream; /* many groups at once: a stream each */
        b = &lb[(*nlb)++];
        *b = (log_batch_t){w->group, w->stream, 0, 0};
    } else if (b->events + 1 > LOG_BATCH_EVENTS ||
               b->bytes + bytes > LOG_BATCH_BYTES) {
        *b = (log_batch_t){w->group, w->stream, 0, 0};
    }
    b->events++;
    b->bytes += bytes;
    return b->stream;
}

/* Write unit: every outcome of a settle batch. Deletes and reschedules
 * first, then max(seq) (see the cursor, above), then the inserts of
 * forwarded events. */
static evb_err_t apply_outcomes(sqlite3 *db, void *arg, char *errstr,
                                size_t errstr_size) {
    apply_t *a = arg;
    const char *account = evb_bus_account(a->dv->bus);
    const char *region = evb_bus_region(a->dv->bus);
    sqlite3_stmt *del =
        evb_store_stmt(db, "DELETE FROM deliveries WHERE seq = ?");
    sqlite3_stmt *gc =
        evb_store_stmt(db, "DELETE FROM events WHERE seq = ?1 AND NOT EXISTS "
                           "(SELECT 1 FROM deliveries WHERE event_seq = ?1)");
    sqlite3_stmt *upd =
        evb_store_stmt(db, "UPDATE deliveries SET attempts = ?, "
                           "next_attempt_ms = ? WHERE seq = ?");
    sqlite3_stmt *max = evb_store_stmt(db, "SELECT max(seq) FROM deliveries");
    evb_err_t err = EVB_ERR_OK;
    if (!del || !gc || !upd || !max) {
        err = evb_store_sqlerr(db, "settling deliveries", errstr,
                               errstr_size);
        goto out;
    }
    log_batch_t lb[LOG_BATCH_GROUPS];
    size_t nlb = 0;
    for (size_t i = 0; i < a->n && !err; i++) {
        item_t *it = a->items[i];
        outcome_t *o = &it->o;
        const due_t *d = &it->d;
        if (o->log.group) {
            log_write_t w = o->log;
            bool known;
            w.stream = log_stream_for(lb, &nlb, &o->log, &known);
            err = evb__logs_write(db, account, region, &w, !known, a->now,
                                  errstr, errstr_size);
        }
        if (!err)
            err = evb__sqs_write(db, d, o, errstr, errstr_size);
        if (err)
            break;
        if (o->kind == OUT_RETRY) {
            sqlite3_bind_int(upd, 1, o->attempts);
            sqlite3_bind_int64(upd, 2, o->next_attempt_ms);
            sqlite3_bind_int64(upd, 3, d->seq);
            err = step_done(db, upd, "rescheduling a delivery", errstr,
                            errstr_size);
            continue;
        }
        sqlite3_bind_int64(del, 1, d->seq);
        err = step_done(db, del, "settling a delivery", errstr, errstr_size);
        if (!err) {
            sqlite3_bind_int64(gc, 1, d->event_seq);
            err = step_done(db, gc, "settling an event", errstr, errstr_size);
        }
    }
    if (!err) {
        a->max_seq = 0;
        if (sqlite3_step(max) == SQLITE_ROW)
            a->max_seq = sqlite3_column_int64(max, 0);
        else
            err = evb_store_sqlerr(db, "settling deliveries", errstr,
                                   errstr_size);
        sqlite3_reset(max);
    }
    for (size_t i = 0; i < a->n && !err; i++) {
        const item_t *it = a->items[i];
        if (it->o.fwd.bus && it->o.fwd.nhits && it->o.kind != OUT_RETRY)
            err = forward_event(db, &it->d, &it->o.fwd, a->now, errstr,
                                errstr_size);
    }
out:
    evb_store_stmt_done(del);
    evb_store_stmt_done(gc);
    evb_store_stmt_done(upd);
    evb_store_stmt_done(max);
    return err;
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
    o->rate_limited = r->rate_limited;
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

/* Settle a list of finished items: one store unit for all of them, then
 * they leave the in-flight set. An invocation that ended with SHUTDOWN
 * (the invoker or this engine stopping) was not an attempt: its row is
 * left as it is. *settled counts the outcomes committed. */
static evb_err_t settle_list(evb_delivery_t *dv, item_t *list, size_t *settled,
                             char *errstr, size_t errstr_size) {
    *settled = 0;
    size_t n = 0;
    for (item_t *it = list; it; it = it->next)
        n++;
    item_t **items = malloc((n ? n : 1) * sizeof *items);
    if (!items) {
        pthread_mutex_lock(&dv->state_lock);
        unfetch(dv, list);
        sweep_again(dv, now_ms() + SETTLE_RETRY_MS);
        pthread_mutex_unlock(&dv->state_lock);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    int64_t now = now_ms();
    size_t k = 0;
    for (item_t *it = list; it; it = it->next) {
        if (it->invoked) {
            if (strcmp(it->r.code, "SHUTDOWN") == 0)
                continue;
            settle(&it->d, &it->o, &it->r, now);
        }
        items[k++] = it;
    }
    apply_t a = {dv, items, k, now, 0};
    evb_err_t err =
        k ? evb_store_write(dv->store, apply_outcomes, &a, errstr, errstr_size)
          : EVB_ERR_OK;
    bool queued = false, lowered = false;
    int64_t next_retry = INT64_MAX;
    pthread_mutex_lock(&dv->state_lock);
    for (item_t *it = list; it; it = it->next)
        seqset_del(&dv->inflight, it->d.seq);
    if (!err) {
        evb_delivery_stats_t *s = &dv->stats;
        for (size_t i = 0; i < k; i++) {
            const outcome_t *o = &items[i]->o;
            evb__delivery_metrics(&items[i]->d, o, now);
            queued |= o->msg.arn || o->dead_lettered;
            s->dead_lettered += o->dead_lettered;
            s->dlq_failed += o->dlq_failed;
            if (o->kind == OUT_DONE)
                s->delivered++;
            else if (o->kind == OUT_RETRY)
                s->retried++;
            else
                s->dropped++;
            if (o->invalid_output)
                s->invalid_output++;
            if (o->fwd.bus && o->fwd.nhits) {
                s->forwarded++;
                lowered = true; /* new rows to read */
            }
            if (o->fwd.bus && o->kind == OUT_DONE) /* it arrived there */
                evb_bus_tap_event(dv->bus, o->fwd.bus, items[i]->d.body,
                                  items[i]->d.body_len);
            if (o->kind == OUT_RETRY && o->next_attempt_ms < next_retry)
                next_retry = o->next_attempt_ms;
        }
        if (a.max_seq < dv->cursor) {
            dv->cursor = a.max_seq;
            lowered = true;
        }
        sweep_again(dv, next_retry);
        *settled = k;
    } else {
        /* the rows are still pending: a sweep finds them again */
        sweep_again(dv, now + SETTLE_RETRY_MS);
    }
    pthread_mutex_unlock(&dv->state_lock);
    /* the worker may have been waiting for room, a retry or new rows */
    pthread_mutex_lock(&dv->wake_lock);
    if (lowered)
        dv->kicked = true;
    pthread_cond_signal(&dv->wake_cv);
    pthread_mutex_unlock(&dv->wake_lock);
    if (queued && dv->queues)
        evb_queue_service_notify(dv->queues);
    while (list) {
        item_t *next = list->next;
        item_free(list);
        list = next;
    }
    free(items);
    return err;
}

/* Queue a finished item for the settler. Any thread. */
static void finished(evb_delivery_t *dv, item_t *it, bool was_invoking) {
    it->next = NULL;
    pthread_mutex_lock(&dv->sq_lock);
    if (dv->sq_tail)
        dv->sq_tail->next = it;
    else
        dv->sq_head = it;
    dv->sq_tail = it;
    if (was_invoking)
        dv->invoking--;
    pthread_cond_broadcast(&dv->sq_cv);
    pthread_mutex_unlock(&dv->sq_lock);
}

/* ---- deciding and invoking ----------------------------------------------- */

/* Invocation completion, on the invoker's thread. */
static void on_invoked(void *ud, const evb_apidest_result_t *r) {
    item_t *it = ud;
    it->r = *r;
    it->invoked = true;
    finished(it->dv, it, true);
}

/* Is this invocation (an item) one of engine arg's? */
static bool is_ours(void *ud, void *arg) {
    return ((const item_t *)ud)->dv == arg;
}

/* Decide d's outcome with its compiled target: one function per kind of
 * target. */
static void decide(evb_delivery_t *dv, item_t *it) {
    due_t *d = &it->d;
    outcome_t *o = &it->o;
    memset(o, 0, sizeof *o);
    it->ce = ct_get(dv, d);
    if (!it->ce) {
        /* the rule or target was removed after the event was accepted */
        o->kind = OUT_DROPPED;
        return;
    }
    const evb__ctarget_t *c = &it->ce->c;
    const evb_target_ref_t *t = &c->t;
    d->ct = c;
    if (strncmp(t->arn, "arn:aws:logs:", 13) == 0)
        evb__target_logs(dv->bus, d, t, o);
    else if (strncmp(t->arn, "arn:aws:events:", 15) == 0 &&
             strstr(t->arn, ":api-destination/")) {
        if (dv->invoker)
            evb__target_apidest(dv->bus, d, t, o);
        else
            o->kind = OUT_DROPPED;
    } else if (strncmp(t->arn, "arn:aws:events:", 15) == 0)
        evb__target_bus(dv->bus, d, t, o);
    else if (strncmp(t->arn, "arn:aws:sqs:", 12) == 0)
        evb__target_sqs(dv->bus, d, t, o);
    else if (strncmp(t->arn, "arn:aws:kafka:", 14) == 0)
        evb__target_kafka(dv->bus, dv->avro, d, t, o);
    else
        o->kind = OUT_DROPPED; /* kinds of target that arrive later */
    o->attempts = d->attempts;
    o->max_attempts = c->max_attempts;
    o->max_age_ms = c->max_age_ms;
    o->dlq_arn = c->dlq_arn;
    o->rule_arn = t->rule_arn;
    o->target_arn = t->arn;
}

/* Decide every item of list and start its delivery: invocations go to the
 * invoker (settled when they complete), the rest straight to the
 * settler. */
static void process(evb_delivery_t *dv, item_t *list) {
    while (list) {
        item_t *it = list;
        list = it->next;
        it->next = NULL;
        it->dv = dv;
        decide(dv, it);
        if (it->o.kind != OUT_INFLIGHT) {
            finished(dv, it, false);
            continue;
        }
        pthread_mutex_lock(&dv->sq_lock);
        dv->invoking++;
        pthread_mutex_unlock(&dv->sq_lock);
        if (it->o.kafka.topic) { /* a Kafka topic: its delivery report
                                    completes the item like an invocation */
            evb__kafka_submit(dv->kafka, &it->o, on_invoked, it);
            continue;
        }
        char why[160];
        const http_call_t *h = &it->o.http;
        if (evb_apidest_invoke(dv->invoker, h->dest_arn, h->params, h->body,
                               h->len, on_invoked, it, why, sizeof why)) {
            it->r = (evb_apidest_result_t){EVB_APIDEST_RETRIABLE, 0,
                                           "INTERNAL_ERROR", "", false};
            snprintf(it->r.message, sizeof it->r.message, "%s", why);
            it->invoked = true;
            finished(dv, it, true);
        }
    }
}

/* Read due deliveries into *list (state lock held): new rows by the
 * cursor, and a page of the sweep when one is due. Returns whether more
 * may be waiting (a page came back full). */
static evb_err_t fetch(evb_delivery_t *dv, bool sweep_due, item_t **list,
                       bool *more, char *errstr, size_t errstr_size) {
    *list = NULL;
    *more = false;
    size_t room =
        dv->inflight.n < MAX_IN_FLIGHT ? MAX_IN_FLIGHT - dv->inflight.n : 0;
    unsigned limit = dv->batch < room ? dv->batch : (unsigned)room;
    if (!limit)
        return EVB_ERR_OK;
    int64_t now = now_ms();
    fetch_t f = {.dv = dv, .now = now, .after_seq = dv->cursor, .limit = limit};
    evb_err_t err =
        evb_store_read(dv->store, fetch_due, &f, errstr, errstr_size);
    if (err) {
        unfetch(dv, f.head);
        return err;
    }
    if (f.rows && f.last_seq > dv->cursor)
        dv->cursor = f.last_seq;
    *more = f.rows == limit;
    item_t *head = f.head, *tail = f.tail;
    if (sweep_due && f.rows < limit) {
        /* a sweep from the start covers every retry due by now */
        if (!dv->sweeping && dv->sweep_again_ms <= now)
            dv->sweep_again_ms = INT64_MAX;
        fetch_t s = {.dv = dv,
                     .sweep = true,
                     .now = now,
                     .after_ms = dv->sweeping ? dv->sweep_ms : INT64_MIN,
                     .after_seq = dv->sweeping ? dv->sweep_seq : 0,
                     .limit = limit - f.rows};
        err = evb_store_read(dv->store, fetch_due, &s, errstr, errstr_size);
        if (err) {
            unfetch(dv, s.head);
        } else if (s.rows == s.limit) {
            dv->sweeping = true; /* a page: go on from there */
            dv->sweep_ms = s.last_ms;
            dv->sweep_seq = s.last_seq;
            *more = true;
        } else {
            dv->sweeping = false;
            dv->next_sweep_ms = now + dv->poll_ms;
        }
        if (s.head) {
            if (tail)
                tail->next = s.head;
            else
                head = s.head;
        }
    }
    *list = head;
    return err;
}

static void *worker_main(void *arg) {
    evb_delivery_t *dv = arg;
    for (;;) {
        pthread_mutex_lock(&dv->state_lock);
        bool room = dv->inflight.n < MAX_IN_FLIGHT;
        int64_t now = now_ms();
        int64_t sweep_at = dv->next_sweep_ms < dv->sweep_again_ms
                               ? dv->next_sweep_ms
                               : dv->sweep_again_ms;
        bool sweep_due = dv->sweeping || now >= sweep_at;
        int64_t wait_ms = sweep_at - now;
        pthread_mutex_unlock(&dv->state_lock);

        pthread_mutex_lock(&dv->wake_lock);
        if (!dv->stopping && !(room && (dv->kicked || sweep_due))) {
            if (!room || wait_ms > (int64_t)dv->poll_ms)
                wait_ms = dv->poll_ms;
            struct timespec ts;
            deadline_in(&ts, wait_ms);
            pthread_cond_timedwait(&dv->wake_cv, &dv->wake_lock, &ts);
            pthread_mutex_unlock(&dv->wake_lock);
            continue;
        }
        bool stop = dv->stopping;
        dv->kicked = false;
        pthread_mutex_unlock(&dv->wake_lock);
        if (stop)
            break;

        item_t *list;
        bool more;
        char err[256];
        pthread_mutex_lock(&dv->state_lock);
        evb_err_t e = fetch(dv, sweep_due, &list, &more, err, sizeof err);
        if (e)
            sweep_again(dv, now_ms() + SETTLE_RETRY_MS);
        pthread_mutex_unlock(&dv->state_lock);
        if (e)
            evb_log(EVB_LOG_ERROR, "delivery", "%s", err);
        process(dv, list);
        if (more) {
            pthread_mutex_lock(&dv->wake_lock);
            dv->kicked = true;
            pthread_mutex_unlock(&dv->wake_lock);
        }
    }
    return NULL;
}

static void *settler_main(void *arg) {
    evb_delivery_t *dv = arg;
    pthread_mutex_lock(&dv->sq_lock);
    for (;;) {
        while (!dv->sq_head && !dv->settler_stop)
            pthread_cond_wait(&dv->sq_cv, &dv->sq_lock);
        if (!dv->sq_head)
            break;
        item_t *list = dv->sq_head, *last = list;
        for (size_t n = 1; last->next && n < SETTLE_MAX; n++)
            last = last->next;
        dv->sq_head = last->next;
        if (!dv->sq_head)
            dv->sq_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&dv->sq_lock);
        size_t settled;
        char err[256];
        if (settle_list(dv, list, &settled, err, sizeof err))
            evb_log(EVB_LOG_ERROR, "delivery", "%s", err);
        pthread_mutex_lock(&dv->sq_lock);
    }
    pthread_mutex_unlock(&dv->sq_lock);
    return NULL;
}

evb_err_t evb_delivery_run_once(evb_delivery_t *dv, size_t *done, char *errstr,
                                size_t errstr_size) {
    *done = 0;
    if (dv->threaded) {
        evb_delivery_kick(dv);
        return EVB_ERR_OK;
    }
    for (int round = 0; round < 1000; round++) {
        item_t *list;
        bool more;
        pthread_mutex_lock(&dv->state_lock);
        dv->sweeping = false; /* every round sweeps from the start */
        dv->next_sweep_ms = 0;
        evb_err_t err = fetch(dv, true, &list, &more, errstr, errstr_size);
        if (err) /* what the first read found stays pending too */
            unfetch(dv, list);
        pthread_mutex_unlock(&dv->state_lock);
        if (err || !list)
            return err;
        process(dv, list);
        /* wait for this round's invocations, then settle all of it */
        pthread_mutex_lock(&dv->sq_lock);
        while (dv->invoking)
            pthread_cond_wait(&dv->sq_cv, &dv->sq_lock);
        list = dv->sq_head;
        dv->sq_head = dv->sq_tail = NULL;
        pthread_mutex_unlock(&dv->sq_lock);
        size_t settled;
        err = settle_list(dv, list, &settled, errstr, errstr_size);
        *done += settled;
        if (err)
            return err;
    }
    return EVB_ERR_OK;
}

/* The store's commit hook (writer thread, store lock held): whatever was
 * just committed may owe deliveries. */
static void on_commit(void *arg) {
    evb_delivery_t *dv = arg;
    pthread_mutex_lock(&dv->wake_lock);
    dv->kicked = true;
    pthread_cond_signal(&dv->wake_cv);
    pthread_mutex_unlock(&dv->wake_lock);
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
    dv->avro = evb__kafka_writers_new(cfg ? cfg->serde : NULL);
    if (!dv->avro) {
        free(dv);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    pthread_mutex_init(&dv->wake_lock, NULL);
    pthread_cond_init(&dv->wake_cv, NULL);
    pthread_mutex_init(&dv->state_lock, NULL);
    pthread_mutex_init(&dv->sq_lock, NULL);
    pthread_cond_init(&dv->sq_cv, NULL);
    dv->kicked = true;     /* pick up what a previous run left pending */
    dv->next_sweep_ms = 0; /* including its retries */
    dv->sweep_again_ms = INT64_MAX;
    dv->ct_generation = evb_bus_generation(bus);
    if (start_thread) {
        if (pthread_create(&dv->settler, NULL, settler_main, dv) != 0) {
            evb_delivery_free(dv);
            return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                               "cannot start the delivery settler");
        }
        if (pthread_create(&dv->worker, NULL, worker_main, dv) != 0) {
            pthread_mutex_lock(&dv->sq_lock);
            dv->settler_stop = true;
            pthread_cond_broadcast(&dv->sq_cv);
            pthread_mutex_unlock(&dv->sq_lock);
            pthread_join(dv->settler, NULL);
            evb_delivery_free(dv);
            return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                               "cannot start the delivery worker");
        }
        dv->threaded = true;
        /* woken by every commit, not only by those who kick: the worker
         * wakes as soon as new rows are durable (a failure to register
         * leaves kicks and the poll) */
        dv->hooked = evb_store_add_commit_hook(store, on_commit, dv);
    }
    *out = dv;
    return EVB_ERR_OK;
}

void evb_delivery_kick(evb_delivery_t *dv) {
    pthread_mutex_lock(&dv->wake_lock);
    dv->kicked = true;
    pthread_cond_signal(&dv->wake_cv);
    pthread_mutex_unlock(&dv->wake_lock);
}

void evb_delivery_get_stats(evb_delivery_t *dv, evb_delivery_stats_t *out) {
    pthread_mutex_lock(&dv->state_lock);
    *out = dv->stats;
    pthread_mutex_unlock(&dv->state_lock);
}

void evb_delivery_free(evb_delivery_t *dv) {
    if (!dv)
        return;
    if (dv->hooked)
        evb_store_remove_commit_hook(dv->store, on_commit, dv);
    if (dv->threaded) {
        /* no more reads, then no more waiting invocations: those the
         * invoker has not started come back at once with SHUTDOWN (their
         * rows stay pending), those on the wire finish within the
         * invoker's timeout; then the settler writes what is left */
        pthread_mutex_lock(&dv->wake_lock);
        dv->stopping = true;
        pthread_cond_signal(&dv->wake_cv);
        pthread_mutex_unlock(&dv->wake_lock);
        pthread_join(dv->worker, NULL);
        if (dv->invoker)
            evb_apidest_invoker_cancel_waiting(dv->invoker, on_invoked,
                                               is_ours, dv);
        pthread_mutex_lock(&dv->sq_lock);
        while (dv->invoking)
            pthread_cond_wait(&dv->sq_cv, &dv->sq_lock);
        dv->settler_stop = true;
        pthread_cond_broadcast(&dv->sq_cv);
        pthread_mutex_unlock(&dv->sq_lock);
        pthread_join(dv->settler, NULL);
    }
    /* unthreaded: run_once left nothing behind */
    ct_flush(dv);
    evb__kafka_writers_free(dv->avro);
    free(dv->inflight.slot);
    pthread_mutex_destroy(&dv->wake_lock);
    pthread_cond_destroy(&dv->wake_cv);
    pthread_mutex_destroy(&dv->state_lock);
    pthread_mutex_destroy(&dv->sq_lock);
    pthread_cond_destroy(&dv->sq_cv);
    free(dv);
}
