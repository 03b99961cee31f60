/*
 * store.c: SQLite with one group-committing writer thread (see store.h).
 *
 * Callers queue a job (on their own stack) and sleep on its own condition
 * variable; the writer takes everything queued (up to max_batch), runs each
 * job in a savepoint of one BEGIN IMMEDIATE transaction, commits once, and
 * wakes everyone. Under load the batch grows by itself, so one fsync
 * serves many requests; with one caller it is one transaction per call.
 *
 * Every connection carries a statement cache (evb_store_stmt): the
 * transaction control statements and every hot unit's SQL are compiled
 * once per connection. The unit being run publishes its connection's
 * cache in a thread-local, which is how evb_store_stmt finds it from the
 * bare sqlite3 handle a unit is given.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "migrations.h"
#include "store.h"
#include "../metrics/metrics.h"

typedef struct job {
    evb_store_fn fn;
    void *arg;
    char *errstr;
    size_t errstr_size;
    evb_err_t result;
    bool done;
    pthread_cond_t cv; /* signalled when done: wake only this caller */
    struct job *next;
} job_t;

/* WAL checkpoints run on their own thread and connection, so that no
 * commit pays for copying the WAL back into the database (SQLite's
 * automatic checkpoint runs inside a commit). They run by volume, not by
 * the clock: each one costs fsyncs that a concurrent commit's fsync may
 * queue behind, and the hot pages a stream of small commits rewrites are
 * copied once per checkpoint however often they were rewritten; so one
 * runs when CHECKPOINT_FRAMES new frames are in the WAL (the writer's WAL
 * hook counts them), and at most every CHECKPOINT_IDLE_MS otherwise. */
#define CHECKPOINT_FRAMES 2048    /* pages: 8 MiB */
#define CHECKPOINT_IDLE_MS 1000
#define WAL_RESTART_FRAMES 16384  /* pages: 64 MiB of WAL */

/* A connection's prepared statements. Used only by the thread running a
 * unit on that connection, so it needs no lock. */
#define STMT_CACHE_MAX 48

typedef struct stmt_slot {
    const char *sql; /* the caller's string: compared by address first */
    sqlite3_stmt *st;
    bool busy; /* handed out, not yet returned */
} stmt_slot_t;

typedef struct stmt_cache {
    sqlite3 *db;
    stmt_slot_t slot[STMT_CACHE_MAX];
    size_t n, evict; /* evict: the next slot to reuse when full */
} stmt_cache_t;

/* The cache of the connection whose unit runs on this thread, if any. */
static _Thread_local stmt_cache_t *tls_cache;

typedef struct reader {
    sqlite3 *db;
    stmt_cache_t cache;
    struct reader *next;
} reader_t;

struct evb_store {
    char *path;
    bool no_sync;
    unsigned max_batch;
    int version;
    sqlite3 *wdb;
    stmt_cache_t wcache;
    pthread_t writer;
    pthread_t checkpointer;
    bool checkpointing;
    pthread_cond_t stop_cv; /* wakes the checkpointer (to work or stop) */
    int ckpt_base;          /* WAL frames at the last checkpoint */
    bool ckpt_wanted;
    pthread_mutex_t lock;
    pthread_cond_t work_cv; /* writer waits for jobs */
    job_t *head, *tail;
    bool stopping;
    reader_t *readers; /* idle read connections */
    struct {
        evb_store_commit_fn fn;
        void *arg;
    } hooks[EVB_STORE_MAX_HOOKS]; /* under lock */
    size_t nhooks;
    evb_store_stats_t stats;
};

evb_err_t evb_store_sqlerr(sqlite3 *db, const char *what, char *errstr,
                           size_t errstr_size) {
    return evb_err_set(EVB_ERR_IO, errstr, errstr_size, "%s: %s", what,
                       db ? sqlite3_errmsg(db) : "cannot open database");
}

static evb_err_t exec(sqlite3 *db, const char *sql, char *errstr,
                      size_t errstr_size) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        evb_err_set(EVB_ERR_IO, errstr, errstr_size, "%s: %s", sql,
                    msg ? msg : "error");
        sqlite3_free(msg);
        return EVB_ERR_IO;
    }
    return EVB_ERR_OK;
}

/* ---- statement cache ----------------------------------------------------- */

static void cache_reset_all(stmt_cache_t *c) {
    for (size_t i = 0; i < c->n; i++)
        if (c->slot[i].busy) {
            sqlite3_reset(c->slot[i].st);
            sqlite3_clear_bindings(c->slot[i].st);
            c->slot[i].busy = false;
        }
}

static void cache_free(stmt_cache_t *c) {
    for (size_t i = 0; i < c->n; i++)
        sqlite3_finalize(c->slot[i].st);
    c->n = 0;
}

sqlite3_stmt *evb_store_stmt(sqlite3 *db, const char *sql) {
    stmt_cache_t *c = tls_cache;
    sqlite3_stmt *st = NULL;
    if (!c || c->db != db) {
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            sqlite3_finalize(st);
            return NULL;
        }
        return st;
    }
    for (size_t i = 0; i < c->n; i++) {
        stmt_slot_t *sl = &c->slot[i];
        if (sl->sql == sql && !sl->busy &&
            strcmp(sqlite3_sql(sl->st), sql) == 0) {
            sl->busy = true;
            return sl->st;
        }
    }
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    stmt_slot_t *sl = NULL;
    if (c->n < STMT_CACHE_MAX) {
        sl = &c->slot[c->n++];
    } else {
        /* full: reuse a slot that is not handed out, round robin */
        for (size_t k = 0; k < STMT_CACHE_MAX && !sl; k++) {
            stmt_slot_t *cand = &c->slot[(c->evict + k) % STMT_CACHE_MAX];
            if (!cand->busy) {
                sqlite3_finalize(cand->st);
                sl = cand;
                c->evict = (c->evict + k + 1) % STMT_CACHE_MAX;
            }
        }
        if (!sl)
            return st; /* every slot busy: an uncached statement */
    }
    *sl = (stmt_slot_t){sql, st, true};
    return st;
}

void evb_store_stmt_done(sqlite3_stmt *st) {
    if (!st)
        return;
    stmt_cache_t *c = tls_cache;
    if (c)
        for (size_t i = 0; i < c->n; i++)
            if (c->slot[i].st == st) {
                sqlite3_reset(st);
                sqlite3_clear_bindings(st);
                c->slot[i].busy = false;
                return;
            }
    sqlite3_finalize(st);
}

/* Run one of the store's own argument-less statements (BEGIN, SAVEPOINT,
 * COMMIT...) from c (the thread-local must be c). */
static evb_err_t exec_cached(stmt_cache_t *c, const char *sql, char *errstr,
                             size_t errstr_size) {
    sqlite3_stmt *st = evb_store_stmt(c->db, sql);
    if (!st)
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size, "%s: %s", sql,
                           sqlite3_errmsg(c->db));
    int rc = sqlite3_step(st);
    evb_err_t err = EVB_ERR_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        err = evb_err_set(EVB_ERR_IO, errstr, errstr_size, "%s: %s", sql,
                          sqlite3_errmsg(c->db));
    evb_store_stmt_done(st);
    return err;
}

static evb_err_t open_conn(const evb_store_t *s, bool writer, sqlite3 **out,
                           char *errstr, size_t errstr_size) {
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(s->path, &db, flags, NULL) != SQLITE_OK) {
        evb_err_t err = evb_store_sqlerr(db, s->path, errstr, errstr_size);
        sqlite3_close(db);
        return err;
    }
    sqlite3_busy_timeout(db, 10000);
    evb_err_t err = exec(db, "PRAGMA foreign_keys=ON", errstr, errstr_size);
    if (!err && writer)
        err = exec(db, "PRAGMA journal_mode=WAL", errstr, errstr_size);
    if (!err && writer)
        err = exec(db, "PRAGMA wal_autocheckpoint=0", errstr, errstr_size);
    if (!err)
        err = exec(db,
                   s->no_sync ? "PRAGMA synchronous=NORMAL"
                              : "PRAGMA synchronous=FULL",
                   errstr, errstr_size);
    if (err) {
        sqlite3_close(db);
        return err;
    }
    *out = db;
    return EVB_ERR_OK;
}

static int user_version(sqlite3 *db) {
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

static evb_err_t migrate(evb_store_t *s, char *errstr, size_t errstr_size) {
    int v = user_version(s->wdb);
    if (v < 0)
        return evb_store_sqlerr(s->wdb, "reading the schema version", errstr,
                                errstr_size);
    if (v > (int)evb__migrations_count)
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "%s: schema version %d is newer than this evbus "
                           "(%zu)",
                           s->path, v, evb__migrations_count);
    for (; v < (int)evb__migrations_count; v++) {
        char setv[64];
        snprintf(setv, sizeof setv, "PRAGMA user_version=%d", v + 1);
        evb_err_t err = exec(s->wdb, "BEGIN IMMEDIATE", errstr, errstr_size);
        if (!err)
            err = exec(s->wdb, evb__migrations[v], errstr, errstr_size);
        if (!err)
            err = exec(s->wdb, setv, errstr, errstr_size);
        if (!err)
            err = exec(s->wdb, "COMMIT", errstr, errstr_size);
        if (err) {
            sqlite3_exec(s->wdb, "ROLLBACK", NULL, NULL, NULL);
            return err;
        }
    }
    s->version = v;
    return EVB_ERR_OK;
}

/* Run one group: BEGIN, a savepoint per job, COMMIT. */
static void run_group(evb_store_t *s, job_t *jobs) {
    uint64_t t0 = evb_now_ns();
    char err[256];
    stmt_cache_t *c = &s->wcache;
    tls_cache = c;
    bool ok = exec_cached(c, "BEGIN IMMEDIATE", err, sizeof err) == EVB_ERR_OK;
    size_t n = 0;
    for (job_t *j = jobs; j; j = j->next, n++) {
        if (!ok) {
            j->result = evb_err_set(EVB_ERR_IO, j->errstr, j->errstr_size,
                                    "store: %s", err);
            continue;
        }
        if (exec_cached(c, "SAVEPOINT job", j->errstr, j->errstr_size)) {
            j->result = EVB_ERR_IO;
            continue;
        }
        j->result = j->fn(s->wdb, j->arg, j->errstr, j->errstr_size);
        cache_reset_all(c); /* what the unit forgot to hand back */
        char ignored[8];
        if (j->result)
            exec_cached(c, "ROLLBACK TO job", ignored, sizeof ignored);
        exec_cached(c, "RELEASE job", ignored, sizeof ignored);
    }
    if (ok && exec_cached(c, "COMMIT", err, sizeof err) != EVB_ERR_OK) {
        sqlite3_exec(s->wdb, "ROLLBACK", NULL, NULL, NULL);
        for (job_t *j = jobs; j; j = j->next)
            j->result = evb_err_set(EVB_ERR_IO, j->errstr, j->errstr_size,
                                    "store commit failed: %s", err);
        ok = false;
    }
    tls_cache = NULL;
    pthread_mutex_lock(&s->lock);
    s->stats.writes += n;
    if (ok) {
        s->stats.commits++;
        if (n > s->stats.max_group)
            s->stats.max_group = n;
        for (size_t i = 0; i < s->nhooks; i++)
            s->hooks[i].fn(s->hooks[i].arg);
    }
    for (job_t *j = jobs; j;) {
        job_t *next = j->next; /* j lives on its caller's stack */
        j->done = true;
        pthread_cond_signal(&j->cv);
        j = next;
    }
    pthread_mutex_unlock(&s->lock);
    if (ok)
        evb_metrics_store_commit(n, (double)(evb_now_ns() - t0) / 1e9);
}

static void *writer_main(void *arg) {
    evb_store_t *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->work_cv, &s->lock);
        if (!s->head && s->stopping)
            break;
        /* take up to max_batch jobs */
        job_t *first = s->head, *last = first;
        unsigned n = 1;
        while (last->next && n < s->max_batch) {
            last = last->next;
            n++;
        }
        s->head = last->next;
        if (!s->head)
            s->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->lock);
        run_group(s, first);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* sqlite3_wal_hook on the writer connection: after each commit, with the
 * number of frames now in the WAL. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames) {
    (void)db;
    (void)name;
    evb_store_t *s = arg;
    pthread_mutex_lock(&s->lock);
    if (frames < s->ckpt_base)
        s->ckpt_base = 0; /* the WAL started over */
    if (frames - s->ckpt_base >= CHECKPOINT_FRAMES && !s->ckpt_wanted) {
        s->ckpt_wanted = true;
        pthread_cond_signal(&s->stop_cv);
    }
    pthread_mutex_unlock(&s->lock);
    return SQLITE_OK;
}

static void *checkpointer_main(void *arg) {
    evb_store_t *s = arg;
    sqlite3 *db = NULL;
    char err[256];
    if (open_conn(s, false, &db, err, sizeof err)) {
        evb_log(EVB_LOG_ERROR, "store checkpointer", "%s", err);
        return NULL;
    }
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += CHECKPOINT_IDLE_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (!s->ckpt_wanted)
            pthread_cond_timedwait(&s->stop_cv, &s->lock, &ts);
        if (s->stopping)
            break;
        s->ckpt_wanted = false;
        pthread_mutex_unlock(&s->lock);
        /* Copy what it can without blocking anyone. Under steady writes
         * that never lets the WAL start over, so once it has grown past
         * WAL_RESTART_FRAMES a RESTART checkpoint takes the write lock
         * for the moment it needs to finish (little is left by then) and
         * rewinds the WAL: commits then overwrite it in place, which costs
         * a fraction of the fsync of appending to a growing file. */
        int log = 0, done = 0;
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
                                  &done);
        bool restarted =
            log > WAL_RESTART_FRAMES &&
            sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_RESTART,
                                      NULL, NULL) == SQLITE_OK;
        pthread_mutex_lock(&s->lock);
        s->ckpt_base = restarted ? 0 : log;
    }
    pthread_mutex_unlock(&s->lock);
    sqlite3_close(db);
    return NULL;
}

evb_err_t evb_store_open(const evb_store_opts_t *opts, evb_store_t **out,
                         char *errstr, size_t errstr_size) {
    *out = NULL;
    if (mkdir(opts->dir, 0700) != 0 && errno != EEXIST)
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size, "%s: %s",
                           opts->dir, strerror(errno));
    evb_store_t *s = calloc(1, sizeof *s);
    size_t plen = strlen(opts->dir) + sizeof "/evbus.db";
    if (!s || !(s->path = malloc(plen))) {
        free(s);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    snprintf(s->path, plen, "%s/evbus.db", opts->dir);
    s->no_sync = opts->no_sync;
    s->max_batch = opts->max_batch ? opts->max_batch : 1024;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->stop_cv, NULL);
    evb_err_t err = open_conn(s, true, &s->wdb, errstr, errstr_size);
    if (!err) {
        chmod(s->path, 0600);
        s->wcache.db = s->wdb;
        err = migrate(s, errstr, errstr_size);
        sqlite3_wal_hook(s->wdb, wal_hook, s);
    }
    if (!err && pthread_create(&s->writer, NULL, writer_main, s) != 0)
        err = evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                          "cannot start the store writer");
    if (!err) {
        if (pthread_create(&s->checkpointer, NULL, checkpointer_main, s) !=
            0) {
            pthread_mutex_lock(&s->lock);
            s->stopping = true;
            pthread_cond_signal(&s->work_cv);
            pthread_mutex_unlock(&s->lock);
            pthread_join(s->writer, NULL);
            err = evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                              "cannot start the store checkpointer");
        } else {
            s->checkpointing = true;
        }
    }
    if (err) {
        sqlite3_close(s->wdb);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->work_cv);
        pthread_cond_destroy(&s->stop_cv);
        free(s->path);
        free(s);
        return err;
    }
    *out = s;
    return EVB_ERR_OK;
}

void evb_store_close(evb_store_t *s) {
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->work_cv);
    pthread_cond_signal(&s->stop_cv);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->writer, NULL);
    if (s->checkpointing)
        pthread_join(s->checkpointer, NULL);
    /* fold the WAL back into the database before closing */
    sqlite3_wal_checkpoint_v2(s->wdb, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
                              NULL);
    cache_free(&s->wcache);
    for (reader_t *r = s->readers; r;) {
        reader_t *next = r->next;
        cache_free(&r->cache);
        sqlite3_close(r->db);
        free(r);
        r = next;
    }
    sqlite3_close(s->wdb);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->stop_cv);
    free(s->path);
    free(s);
}

evb_err_t evb_store_write(evb_store_t *s, evb_store_fn fn, void *arg,
                          char *errstr, size_t errstr_size) {
    job_t j = {.fn = fn, .arg = arg, .errstr = errstr,
               .errstr_size = errstr_size};
    pthread_cond_init(&j.cv, NULL);
    pthread_mutex_lock(&s->lock);
    if (s->stopping) {
        pthread_mutex_unlock(&s->lock);
        pthread_cond_destroy(&j.cv);
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "store is closing");
    }
    if (s->tail)
        s->tail->next = &j;
    else
        s->head = &j;
    s->tail = &j;
    pthread_cond_signal(&s->work_cv);
    while (!j.done)
        pthread_cond_wait(&j.cv, &s->lock);
    pthread_mutex_unlock(&s->lock);
    pthread_cond_destroy(&j.cv);
    return j.result;
}

evb_err_t evb_store_read(evb_store_t *s, evb_store_fn fn, void *arg,
                         char *errstr, size_t errstr_size) {
    pthread_mutex_lock(&s->lock);
    reader_t *r = s->readers;
    if (r)
        s->readers = r->next;
    pthread_mutex_unlock(&s->lock);
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        evb_err_t err = open_conn(s, false, &r->db, errstr, errstr_size);
        if (err) {
            free(r);
            return err;
        }
        r->cache.db = r->db;
    }
    stmt_cache_t *outer = tls_cache; /* a read inside a unit */
    tls_cache = &r->cache;
    evb_err_t err = exec_cached(&r->cache, "BEGIN", errstr, errstr_size);
    if (!err) {
        err = fn(r->db, arg, errstr, errstr_size);
        cache_reset_all(&r->cache);
        char ignored[8];
        exec_cached(&r->cache, "COMMIT", ignored, sizeof ignored);
    }
    tls_cache = outer;
    pthread_mutex_lock(&s->lock);
    r->next = s->readers;
    s->readers = r;
    pthread_mutex_unlock(&s->lock);
    return err;
}

bool evb_store_add_commit_hook(evb_store_t *s, evb_store_commit_fn fn,
                               void *arg) {
    pthread_mutex_lock(&s->lock);
    bool ok = s->nhooks < EVB_STORE_MAX_HOOKS;
    if (ok) {
        s->hooks[s->nhooks].fn = fn;
        s->hooks[s->nhooks].arg = arg;
        s->nhooks++;
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

void evb_store_remove_commit_hook(evb_store_t *s, evb_store_commit_fn fn,
                                  void *arg) {
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->nhooks; i++)
        if (s->hooks[i].fn == fn && s->hooks[i].arg == arg) {
            s->hooks[i] = s->hooks[--s->nhooks];
            break;
        }
    pthread_mutex_unlock(&s->lock);
}

int evb_store_schema_version(const evb_store_t *s) { return s->version; }

void evb_store_get_stats(evb_store_t *s, evb_store_stats_t *out) {
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}
