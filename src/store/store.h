/*
 * store: evbus's embedded store, SQLite in WAL mode in the data dir.
 *
 * Every write goes through one writer thread that runs the queued units of
 * work of many callers in one transaction (group commit): each unit runs
 * in its own savepoint, so one that fails is rolled back alone; then the
 * transaction commits once, with a full fsync by default, and only then
 * is each caller told the outcome. A caller whose evb_store_write returned
 * EVB_ERR_OK therefore knows its changes are durable: this is what lets
 * the API acknowledge an event only after it is safe.
 *
 * Reads use a separate connection per calling thread (WAL readers never
 * block the writer). The schema is versioned (PRAGMA user_version) and
 * migrated forward on open, one transaction per step.
 */
#ifndef EVB_STORE_H
#define EVB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "../common/common.h"

typedef struct evb_store evb_store_t;

typedef struct evb_store_opts {
    const char *dir;     /* data directory; created (0700) if missing */
    bool no_sync;        /* synchronous=NORMAL instead of FULL (tests) */
    unsigned max_batch;  /* units per group commit; 0 = 1024 */
} evb_store_opts_t;

/*
 * Open (creating and migrating as needed) the store in opts->dir and start
 * its writer thread. The caller owns *out and closes it with
 * evb_store_close. Errors: EVB_ERR_IO (errstr says what and where).
 */
evb_err_t evb_store_open(const evb_store_opts_t *opts, evb_store_t **out,
                         char *errstr, size_t errstr_size);

/* Finish every queued write, stop the writer and close the database. */
void evb_store_close(evb_store_t *s);

/*
 * A unit of work. It runs on the writer thread (for writes) or on the
 * caller's thread with a read connection (for reads), and must not keep
 * db beyond the call. Return EVB_ERR_OK to keep its changes; any other
 * code rolls back this unit only and is returned to the caller with the
 * errstr the unit wrote.
 */
typedef evb_err_t (*evb_store_fn)(sqlite3 *db, void *arg, char *errstr,
                                  size_t errstr_size);

/*
 * Run fn inside the next group transaction and wait until that transaction
 * is durable. Thread-safe; blocks the caller. Returns fn's result, or
 * EVB_ERR_IO if the commit itself failed (then nothing of the group was
 * kept).
 */
evb_err_t evb_store_write(evb_store_t *s, evb_store_fn fn, void *arg,
                          char *errstr, size_t errstr_size);

/* Run fn on this thread's read connection, inside a read transaction. */
evb_err_t evb_store_read(evb_store_t *s, evb_store_fn fn, void *arg,
                         char *errstr, size_t errstr_size);

/* The schema version the store is at. */
int evb_store_schema_version(const evb_store_t *s);

typedef struct evb_store_stats {
    uint64_t writes;  /* units committed or rolled back */
    uint64_t commits; /* group transactions committed */
    uint64_t max_group;
} evb_store_stats_t;

void evb_store_get_stats(evb_store_t *s, evb_store_stats_t *out);

/* sqlite error text helper: "<what>: <sqlite message>" into errstr. */
evb_err_t evb_store_sqlerr(sqlite3 *db, const char *what, char *errstr,
                           size_t errstr_size);

#endif
