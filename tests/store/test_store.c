/* test_store.c: the store opens, migrates, persists across reopen, commits
 * concurrent writers in groups, and rolls back a failing unit alone; its
 * per-connection statement cache hands out each statement once at a
 * time, survives eviction and forgetful units, and its commit hooks run
 * once per commit until removed. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"

static char dir[256];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/evb-store-test-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct put {
    const char *name;
    bool fail_after_insert;
    int sleep_ms;
} put_t;

static evb_err_t put_bus(sqlite3 *db, void *arg, char *errstr, size_t n) {
    put_t *p = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO event_buses(name, arn, created, "
                           "modified) VALUES (?, 'arn', 0, 0)",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "prepare", errstr, n);
    sqlite3_bind_text(st, 1, p->name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "insert", errstr, n);
    if (p->sleep_ms) {
        struct timespec ts = {0, p->sleep_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (p->fail_after_insert)
        return evb_err_set(EVB_ERR_EXISTS, errstr, n, "refused %s", p->name);
    return EVB_ERR_OK;
}

static evb_err_t count_buses(sqlite3 *db, void *arg, char *errstr, size_t n) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM event_buses", -1, &st,
                           NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "prepare", errstr, n);
    if (sqlite3_step(st) == SQLITE_ROW)
        *(int *)arg = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

static evb_store_t *open_store(void) {
    evb_store_opts_t o = {.dir = dir};
    evb_store_t *s = NULL;
    char err[512];
    assert_int_equal(evb_store_open(&o, &s, err, sizeof err), EVB_ERR_OK);
    return s;
}

static void opens_migrates_and_persists(void **state) {
    (void)state;
    evb_store_t *s = open_store();
    assert_true(evb_store_schema_version(s) >= 1);
    char err[256];
    put_t p = {"default", false, 0};
    assert_int_equal(evb_store_write(s, put_bus, &p, err, sizeof err),
                     EVB_ERR_OK);
    /* a duplicate fails with the unit's own error and changes nothing */
    assert_int_equal(evb_store_write(s, put_bus, &p, err, sizeof err),
                     EVB_ERR_IO);
    assert_non_null(strstr(err, "UNIQUE"));
    evb_store_close(s);
    s = open_store();
    int n = -1;
    assert_int_equal(evb_store_read(s, count_buses, &n, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(n, 1);
    evb_store_close(s);
}

typedef struct worker {
    evb_store_t *s;
    int id, ok, refused;
} worker_t;

static void *work(void *arg) {
    worker_t *w = arg;
    for (int i = 0; i < 100; i++) {
        char name[64], err[256];
        snprintf(name, sizeof name, "w%d-%d", w->id, i);
        put_t p = {name, i % 10 == 9, 0};
        evb_err_t e = evb_store_write(w->s, put_bus, &p, err, sizeof err);
        if (e == EVB_ERR_OK)
            w->ok++;
        else if (e == EVB_ERR_EXISTS)
            w->refused++;
    }
    return NULL;
}

static void *slow_first(void *arg) {
    char err[256];
    put_t p = {"slow", false, 100};
    evb_store_write(arg, put_bus, &p, err, sizeof err);
    return NULL;
}

static void concurrent_writers_share_commits(void **state) {
    (void)state;
    evb_store_t *s = open_store();
    /* hold the writer for a moment so the others queue up behind it */
    pthread_t slow;
    pthread_create(&slow, NULL, slow_first, s);
    usleep(20000);
    worker_t w[6];
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        w[i] = (worker_t){s, i, 0, 0};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    int ok = 0, refused = 0;
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
        refused += w[i].refused;
    }
    pthread_join(slow, NULL);
    assert_int_equal(ok, 540);
    assert_int_equal(refused, 60);
    evb_store_stats_t st;
    evb_store_get_stats(s, &st);
    assert_true(st.writes >= 601);
    assert_true(st.max_group > 1);
    assert_true(st.commits < st.writes);
    char err[256];
    int n = -1;
    assert_int_equal(evb_store_read(s, count_buses, &n, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(n, 541 + 1); /* + "default" from the first test */
    evb_store_close(s);
}

static void refuses_a_newer_schema(void **state) {
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/evbus.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=9999", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    evb_store_opts_t o = {.dir = dir};
    evb_store_t *s = NULL;
    char err[512];
    assert_int_equal(evb_store_open(&o, &s, err, sizeof err), EVB_ERR_IO);
    assert_null(s);
    assert_non_null(strstr(err, "newer"));
}

/* ---- statement cache -------------------------------------------------- */

static const char SQL_COUNT[] = "SELECT count(*) FROM event_buses";

typedef struct stmts {
    sqlite3_stmt *first, *second;
    int count;
} stmts_t;

static int step_int(sqlite3_stmt *st) {
    int v = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    return v;
}

/* Two of the same SQL at once, then both handed back. */
static evb_err_t two_at_once(sqlite3 *db, void *arg, char *errstr, size_t n) {
    (void)errstr;
    (void)n;
    stmts_t *s = arg;
    s->first = evb_store_stmt(db, SQL_COUNT);
    s->second = evb_store_stmt(db, SQL_COUNT);
    s->count = step_int(s->first) + step_int(s->second);
    evb_store_stmt_done(s->first);
    evb_store_stmt_done(s->second);
    return EVB_ERR_OK;
}

static evb_err_t one(sqlite3 *db, void *arg, char *errstr, size_t n) {
    (void)errstr;
    (void)n;
    stmts_t *s = arg;
    s->first = evb_store_stmt(db, SQL_COUNT);
    s->count = step_int(s->first);
    evb_store_stmt_done(s->first);
    return EVB_ERR_OK;
}

/* Steps a statement and never hands it back. */
static evb_err_t forgetful(sqlite3 *db, void *arg, char *errstr, size_t n) {
    (void)errstr;
    (void)n;
    stmts_t *s = arg;
    s->first = evb_store_stmt(db, SQL_COUNT);
    s->count = step_int(s->first);
    return EVB_ERR_OK;
}

/* More distinct statements than the cache holds, from buffers whose text
 * changes between calls (same address, other SQL). */
static char texts[64][48];

static evb_err_t many(sqlite3 *db, void *arg, char *errstr, size_t n) {
    int base = *(int *)arg, sum = 0;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 64; i++) {
            snprintf(texts[i], sizeof texts[i], "SELECT %d", base + i);
            sqlite3_stmt *st = evb_store_stmt(db, texts[i]);
            if (!st)
                return evb_store_sqlerr(db, texts[i], errstr, n);
            sum += step_int(st) == base + i;
            evb_store_stmt_done(st);
        }
    *(int *)arg = sum;
    return EVB_ERR_OK;
}

static evb_err_t bad_sql(sqlite3 *db, void *arg, char *errstr, size_t n) {
    (void)errstr;
    (void)n;
    *(sqlite3_stmt **)arg = evb_store_stmt(db, "SELEKT nothing");
    return EVB_ERR_OK;
}

static void statements_are_cached_per_connection(void **state) {
    (void)state;
    evb_store_t *s = open_store();
    char err[512];
    put_t p = {"b1", false, 0};
    assert_int_equal(evb_store_write(s, put_bus, &p, err, sizeof err),
                     EVB_ERR_OK);
    /* the same SQL twice at once: two statements */
    stmts_t a = {0};
    assert_int_equal(evb_store_write(s, two_at_once, &a, err, sizeof err),
                     EVB_ERR_OK);
    assert_non_null(a.first);
    assert_ptr_not_equal(a.first, a.second);
    assert_int_equal(a.count, 2);
    /* the next unit on the writer gets the cached one back */
    stmts_t b = {0};
    assert_int_equal(evb_store_write(s, one, &b, err, sizeof err),
                     EVB_ERR_OK);
    assert_ptr_equal(b.first, a.first);
    assert_int_equal(b.count, 1);
    /* a read has its own connection and cache */
    stmts_t r1 = {0}, r2 = {0};
    assert_int_equal(evb_store_read(s, one, &r1, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(evb_store_read(s, one, &r2, err, sizeof err),
                     EVB_ERR_OK);
    assert_ptr_not_equal(r1.first, a.first);
    assert_ptr_equal(r1.first, r2.first);
    /* a unit that forgets to hand back: reset for the next one */
    stmts_t f1 = {0}, f2 = {0};
    assert_int_equal(evb_store_write(s, forgetful, &f1, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(evb_store_write(s, forgetful, &f2, err, sizeof err),
                     EVB_ERR_OK);
    assert_ptr_equal(f1.first, f2.first);
    assert_int_equal(f2.count, 1);
    /* eviction, and text that changed under the same address */
    int base = 1000;
    assert_int_equal(evb_store_write(s, many, &base, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(base, 128);
    base = 2000;
    assert_int_equal(evb_store_read(s, many, &base, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(base, 128);
    sqlite3_stmt *bad = (sqlite3_stmt *)1;
    assert_int_equal(evb_store_write(s, bad_sql, &bad, err, sizeof err),
                     EVB_ERR_OK);
    assert_null(bad);
    /* outside a unit: a plain statement, finalized when handed back */
    char path[300];
    snprintf(path, sizeof path, "%s/evbus.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = evb_store_stmt(db, SQL_COUNT);
    assert_int_equal(step_int(st), 1);
    evb_store_stmt_done(st);
    assert_int_equal(sqlite3_close(db), SQLITE_OK); /* nothing left open */
    evb_store_close(s);
}

static void on_commit(void *arg) { (*(int *)arg)++; }

static void commit_hooks_run_per_commit(void **state) {
    (void)state;
    evb_store_t *s = open_store();
    char err[512];
    int calls = 0;
    assert_true(evb_store_add_commit_hook(s, on_commit, &calls));
    put_t p = {"h1", false, 0};
    assert_int_equal(evb_store_write(s, put_bus, &p, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(calls, 1); /* before the writer was woken */
    p.name = "h2";
    assert_int_equal(evb_store_write(s, put_bus, &p, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(calls, 2);
    evb_store_remove_commit_hook(s, on_commit, &calls);
    p.name = "h3";
    assert_int_equal(evb_store_write(s, put_bus, &p, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(calls, 2);
    int other[EVB_STORE_MAX_HOOKS + 1];
    for (int i = 0; i < EVB_STORE_MAX_HOOKS; i++)
        assert_true(evb_store_add_commit_hook(s, on_commit, &other[i]));
    assert_false(evb_store_add_commit_hook(s, on_commit, &other[4]));
    for (int i = 0; i < EVB_STORE_MAX_HOOKS; i++)
        evb_store_remove_commit_hook(s, on_commit, &other[i]);
    evb_store_close(s);
}

/* A delivery's number is never given again, even once the newest rows
 * are gone (the delivery engine reads new rows above a cursor). */
static evb_err_t delivery_numbers(sqlite3 *db, void *arg, char *errstr,
                                  size_t n) {
    (void)errstr;
    (void)n;
    long long *seq = arg;
    static const char *const sql[] = {
        "INSERT INTO events(id, bus, body, ingested_ms) "
        "VALUES ('e', 'default', '{}', 0)",
        "INSERT INTO deliveries(event_seq, bus, rule, target_id, "
        "next_attempt_ms) VALUES (last_insert_rowid(), 'default', 'r', 't', 0)",
    };
    for (size_t i = 0; i < 2; i++)
        if (sqlite3_exec(db, sql[i], NULL, NULL, NULL) != SQLITE_OK)
            return EVB_ERR_IO;
    *seq = sqlite3_last_insert_rowid(db);
    if (sqlite3_exec(db,
                     "DELETE FROM deliveries; DELETE FROM events", NULL, NULL,
                     NULL) != SQLITE_OK)
        return EVB_ERR_IO;
    return EVB_ERR_OK;
}

static void delivery_numbers_are_not_reused(void **state) {
    (void)state;
    evb_store_t *s = open_store();
    char err[512];
    long long a = 0, b = 0;
    assert_int_equal(evb_store_write(s, delivery_numbers, &a, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(evb_store_write(s, delivery_numbers, &b, err, sizeof err),
                     EVB_ERR_OK);
    assert_true(a > 0);
    assert_true(b > a); /* the table was empty: max(seq)+1 would give a */
    evb_store_close(s);
    s = open_store(); /* and across a restart */
    long long c = 0;
    assert_int_equal(evb_store_write(s, delivery_numbers, &c, err, sizeof err),
                     EVB_ERR_OK);
    assert_true(c > b);
    evb_store_close(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(opens_migrates_and_persists),
        cmocka_unit_test(concurrent_writers_share_commits),
        cmocka_unit_test(refuses_a_newer_schema),
        cmocka_unit_test_setup_teardown(statements_are_cached_per_connection,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(commit_hooks_run_per_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(delivery_numbers_are_not_reused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
