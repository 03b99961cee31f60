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
 * block the writer). Every connection keeps its prepared statements
 * (evb_store_stmt), so a hot unit does not parse SQL. The schema is
 * versioned (PRAGMA user_version) and migrated forward on open, one
 * transaction per step.
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

/*
 * Commit hooks: fn(arg) runs on the writer thread right after each group
 * transaction has committed durably, before the units' callers are woken.
 * It must be quick and must not call into the store (the store's lock is
 * held). What lets a reader of the rows units write (the delivery worker)
 * wake at the moment they are durable rather than after their writers
 * have woken. At most EVB_STORE_MAX_HOOKS; add returns false when full.
 * After remove returns, fn is not running and will not run again.
 */
#define EVB_STORE_MAX_HOOKS 4
typedef void (*evb_store_commit_fn)(void *arg);
bool evb_store_add_commit_hook(evb_store_t *s, evb_store_commit_fn fn,
                               void *arg);
void evb_store_remove_commit_hook(evb_store_t *s, evb_store_commit_fn fn,
                                  void *arg);

/* Run fn on this thread's read connection, inside a read transaction. */
evb_err_t evb_store_read(evb_store_t *s, evb_store_fn fn, void *arg,
                         char *errstr, size_t errstr_size);

/*
 * Prepared statements, cached per connection.
 *
 * evb_store_stmt returns a statement for sql on db, the connection a unit
 * (evb_store_fn) was given, from a cache the store keeps for each of its
 * connections: SQL is compiled once per connection, not once per call.
 * sql must be a string that outlives the store (in practice a literal).
 * Call it only inside a unit, on that unit's thread and db; elsewhere (or
 * when the same SQL is already handed out and not yet returned) a fresh
 * statement is prepared instead, which evb_store_stmt_done finalizes.
 * NULL when sql does not compile (sqlite3_errmsg(db) says why).
 *
 * Hand every statement back with evb_store_stmt_done before the unit
 * returns (never sqlite3_finalize it): that resets it and clears its
 * bindings. The store also resets whatever a unit forgot when it ends.
 */
sqlite3_stmt *evb_store_stmt(sqlite3 *db, const char *sql);
void evb_store_stmt_done(sqlite3_stmt *st);

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
