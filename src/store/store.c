/*
 * store.c: SQLite with one group-committing writer thread (see store.h).
 *
 * Callers queue a job (on their own stack) and sleep on its own condition
 * variable; the writer takes everything queued (up to max_batch), runs each
 * job in a savepoint of one BEGIN IMMEDIATE transaction, commits once, and
 * wakes everyone. Under load the batch grows by itself, so one fsync
 * serves many requests; with one caller it is one transaction per call.
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

/* WAL checkpoints run on their own thread and connection every
 * CHECKPOINT_MS, so that no commit pays for copying the WAL back into the
 * database (SQLite's automatic checkpoint runs inside a commit). */
#define CHECKPOINT_MS 100
#define WAL_RESTART_FRAMES 4096 /* pages: 16 MiB of WAL */

typedef struct reader {
    sqlite3 *db;
    struct reader *next;
} reader_t;

struct evb_store {
    char *path;
    bool no_sync;
    unsigned max_batch;
    int version;
    sqlite3 *wdb;
    pthread_t writer;
    pthread_t checkpointer;
    bool checkpointing;
    pthread_cond_t stop_cv; /* wakes the checkpointer to stop */
    pthread_mutex_t lock;
    pthread_cond_t work_cv; /* writer waits for jobs */
    job_t *head, *tail;
    bool stopping;
    reader_t *readers; /* idle read connections */
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
    bool ok = exec(s->wdb, "BEGIN IMMEDIATE", err, sizeof err) == EVB_ERR_OK;
    size_t n = 0;
    for (job_t *j = jobs; j; j = j->next, n++) {
        if (!ok) {
            j->result = evb_err_set(EVB_ERR_IO, j->errstr, j->errstr_size,
                                    "store: %s", err);
            continue;
        }
        if (exec(s->wdb, "SAVEPOINT job", j->errstr, j->errstr_size)) {
            j->result = EVB_ERR_IO;
            continue;
        }
        j->result = j->fn(s->wdb, j->arg, j->errstr, j->errstr_size);
        if (j->result)
            sqlite3_exec(s->wdb, "ROLLBACK TO job", NULL, NULL, NULL);
        sqlite3_exec(s->wdb, "RELEASE job", NULL, NULL, NULL);
    }
    if (ok && exec(s->wdb, "COMMIT", err, sizeof err) != EVB_ERR_OK) {
        sqlite3_exec(s->wdb, "ROLLBACK", NULL, NULL, NULL);
        for (job_t *j = jobs; j; j = j->next)
            j->result = evb_err_set(EVB_ERR_IO, j->errstr, j->errstr_size,
                                    "store commit failed: %s", err);
        ok = false;
    }
    pthread_mutex_lock(&s->lock);
    s->stats.writes += n;
    if (ok) {
        s->stats.commits++;
        if (n > s->stats.max_group)
            s->stats.max_group = n;
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
        ts.tv_nsec += CHECKPOINT_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->stop_cv, &s->lock, &ts);
        if (s->stopping)
            break;
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
        if (log > WAL_RESTART_FRAMES)
            sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_RESTART,
                                      NULL, NULL);
        pthread_mutex_lock(&s->lock);
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
        err = migrate(s, errstr, errstr_size);
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
    for (reader_t *r = s->readers; r;) {
        reader_t *next = r->next;
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
    }
    evb_err_t err = exec(r->db, "BEGIN", errstr, errstr_size);
    if (!err) {
        err = fn(r->db, arg, errstr, errstr_size);
        sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    }
    pthread_mutex_lock(&s->lock);
    r->next = s->readers;
    s->readers = r;
    pthread_mutex_unlock(&s->lock);
    return err;
}

int evb_store_schema_version(const evb_store_t *s) { return s->version; }

void evb_store_get_stats(evb_store_t *s, evb_store_stats_t *out) {
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}
