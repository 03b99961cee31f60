/*
 * test_archive.c: the archive service over a temporary store and a real
 * bus service: capture (with and without patterns, never replayed
 * events), the control operations and their errors, replays of a time
 * window with FilterArns, cancel, resuming after a restart, the retention
 * sweep and the worker thread.
 *
 * Ingestion is simulated by a store unit that calls evb_archive_capture,
 * as PutEvents does inside its own unit.
 */
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

#include "archive/archive.h"

#define T0 1700000040000LL /* a minute boundary, in ms */
#define ACCT "000000000000"
#define ARN(kind, name) "arn:aws:events:us-east-1:" ACCT ":" kind "/" name

typedef struct world {
    char dir[64];
    evb_store_t *store;
    evb_bus_service_t *bus;
    evb_archive_service_t *arch;
} world_t;

static char err[1024];

static void open_archive(world_t *w, bool thread) {
    evb_archive_config_t c = evb_archive_config_default();
    c.start_thread = thread;
    c.idle_wait_ms = 20;
    assert_int_equal(evb_archive_service_open(&c, w->store, w->bus, &w->arch,
                                              err, sizeof err),
                     EVB_ERR_OK);
}

static void add_rule(world_t *w, const char *bus, const char *name,
                     const char *pattern) {
    evb_rule_info_t r = {.bus = (char *)bus,
                         .name = (char *)name,
                         .event_pattern = (char *)pattern};
    char *arn = NULL;
    assert_int_equal(evb_rule_put(w->bus, &r, &arn, err, sizeof err),
                     EVB_ERR_OK);
    free(arn);
    char spec[256];
    snprintf(spec, sizeof spec,
             "{\"Id\":\"t\",\"Arn\":\"arn:aws:sqs:us-east-1:" ACCT
             ":q-%s\"}",
             name);
    evb_target_info_t t = {.id = "t",
                           .arn = "arn:aws:sqs:us-east-1:" ACCT ":q",
                           .spec = spec};
    evb_target_failure_t *f = NULL;
    size_t nf = 0;
    assert_int_equal(evb_targets_put(w->bus, bus, name, &t, 1, &f, &nf, err,
                                     sizeof err),
                     EVB_ERR_OK);
    evb_target_failures_free(f, nf);
    assert_int_equal(nf, 0);
}

static int setup(void **state) {
    world_t *w = calloc(1, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "/tmp/evb-archive-XXXXXX");
    if (!w || !mkdtemp(w->dir))
        return -1;
    evb_store_opts_t o = {.dir = w->dir, .no_sync = true};
    if (evb_store_open(&o, &w->store, err, sizeof err) ||
        evb_bus_service_open(NULL, w->store, &w->bus, err, sizeof err) ||
        evb_bus_create(w->bus, "orders", NULL, NULL, err, sizeof err))
        return -1;
    open_archive(w, false);
    *state = w;
    return 0;
}

static int teardown(void **state) {
    world_t *w = *state;
    evb_archive_service_close(w->arch);
    evb_bus_service_close(w->bus);
    evb_store_close(w->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
    int rc = system(cmd);
    free(w);
    return rc == 0 ? 0 : -1;
}

/* ---- helpers ---------------------------------------------------------------- */

typedef struct ingest_arg {
    evb_archive_service_t *arch;
    const char *bus, *event;
    int64_t t;
} ingest_arg_t;

static evb_err_t ingest_unit(sqlite3 *db, void *arg, char *errstr,
                             size_t errstr_size) {
    ingest_arg_t *a = arg;
    return evb_archive_capture_hook(a->arch, db, a->bus, a->event,
                                    strlen(a->event), a->t, errstr,
                                    errstr_size);
}

static void ingest(world_t *w, const char *bus, const char *event,
                   int64_t t) {
    ingest_arg_t a = {w->arch, bus, event, t};
    assert_int_equal(
        evb_store_write(w->store, ingest_unit, &a, err, sizeof err),
        EVB_ERR_OK);
}

/* An envelope as ingestion builds it; returns a static buffer. */
static const char *envelope(const char *id, const char *source, int64_t t) {
    static char buf[512];
    time_t s = (time_t)(t / 1000);
    struct tm tm;
    char ts[32];
    gmtime_r(&s, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(buf, sizeof buf,
             "{\"version\":\"0\",\"id\":\"%s\",\"detail-type\":\"t\","
             "\"source\":\"%s\",\"account\":\"" ACCT "\",\"time\":\"%s\","
             "\"region\":\"us-east-1\",\"resources\":[],\"detail\":{}}",
             id, source, ts);
    return buf;
}

static int64_t count_archived(world_t *w, const char *name) {
    evb_archive_info_t a;
    assert_int_equal(evb_archive_describe(w->arch, name, &a, err, sizeof err),
                     EVB_ERR_OK);
    int64_t n = a.event_count;
    evb_archive_info_free(&a);
    return n;
}

typedef struct query_arg {
    const char *sql, *p1;
    int64_t result;
    char text[2048];
} query_arg_t;

static evb_err_t query_unit(sqlite3 *db, void *arg, char *errstr,
                            size_t errstr_size) {
    (void)errstr;
    (void)errstr_size;
    query_arg_t *q = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, q->sql, -1, &st, NULL) != SQLITE_OK)
        return EVB_ERR_IO;
    if (q->p1)
        sqlite3_bind_text(st, 1, q->p1, -1, SQLITE_STATIC);
    q->text[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW) {
        q->result = sqlite3_column_int64(st, 0);
        const unsigned char *t = sqlite3_column_text(st, 0);
        if (t)
            snprintf(q->text, sizeof q->text, "%s", t);
    }
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

static int64_t query(world_t *w, const char *sql, const char *p1) {
    query_arg_t q = {.sql = sql, .p1 = p1};
    assert_int_equal(evb_store_read(w->store, query_unit, &q, err, sizeof err),
                     EVB_ERR_OK);
    return q.result;
}

static const char *query_text(world_t *w, const char *sql, const char *p1) {
    static query_arg_t q;
    q.sql = sql;
    q.p1 = p1;
    assert_int_equal(evb_store_read(w->store, query_unit, &q, err, sizeof err),
                     EVB_ERR_OK);
    return q.text;
}

static void create(world_t *w, const char *name, const char *bus_arn,
                   const char *pattern, int64_t days) {
    assert_int_equal(evb_archive_create(w->arch, name, bus_arn, NULL, pattern,
                                        days, NULL, err, sizeof err),
                     EVB_ERR_OK);
}

static char *replay_state(world_t *w, const char *name) {
    static char state[32];
    evb_replay_info_t r;
    assert_int_equal(evb_replay_describe(w->arch, name, &r, err, sizeof err),
                     EVB_ERR_OK);
    snprintf(state, sizeof state, "%s", r.state);
    evb_replay_info_free(&r);
    return state;
}

static void run_all(world_t *w) {
    size_t steps;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(evb_archive_run_once(w->arch, &steps, err, sizeof err),
                         EVB_ERR_OK);
        if (!steps)
            return;
    }
    fail_msg("replay did not finish");
}

static void start(world_t *w, const char *name, const char *archive,
                  const char *dest, int64_t lo, int64_t hi,
                  const char *const *filters, size_t nf) {
    evb_replay_spec_t s = {.name = name,
                           .archive_arn = archive,
                           .dest_arn = dest,
                           .start_ms = lo,
                           .end_ms = hi,
                           .filter_arns = filters,
                           .nfilter = nf};
    evb_replay_info_t r;
    assert_int_equal(evb_replay_start(w->arch, &s, &r, err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(r.state, "STARTING");
    char arn[256];
    snprintf(arn, sizeof arn, ARN("replay", "%s"), name);
    assert_string_equal(r.arn, arn);
    evb_replay_info_free(&r);
}

/* ---- tests ------------------------------------------------------------------- */

static void capture_with_and_without_patterns(void **state) {
    world_t *w = *state;
    create(w, "all", ARN("event-bus", "orders"), NULL, 0);
    create(w, "only-a", ARN("event-bus", "orders"), "{\"source\":[\"a\"]}", 0);
    create(w, "dflt", ARN("event-bus", "default"), NULL, 0);
    assert_true(evb_archive_bus_has_archives(w->arch, "orders"));
    assert_false(evb_archive_bus_has_archives(w->arch, "nobus"));
    char e1[512], e2[512];
    snprintf(e1, sizeof e1, "%s", envelope("id-1", "a", T0));
    snprintf(e2, sizeof e2, "%s", envelope("id-2", "b", T0));
    ingest(w, "orders", e1, T0);
    ingest(w, "orders", e2, T0);
    /* a replayed event is never archived, pattern or not */
    ingest(w, "orders",
           "{\"version\":\"0\",\"id\":\"id-3\",\"detail-type\":\"t\","
           "\"source\":\"a\",\"account\":\"" ACCT "\",\"time\":\"x\","
           "\"region\":\"us-east-1\",\"replay-name\":\"r\","
           "\"resources\":[],\"detail\":{}}",
           T0);
    assert_int_equal(count_archived(w, "all"), 2);
    assert_int_equal(count_archived(w, "only-a"), 1);
    assert_int_equal(count_archived(w, "dflt"), 0);
    evb_archive_info_t a;
    assert_int_equal(evb_archive_describe(w->arch, "all", &a, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(a.size_bytes, (int64_t)(strlen(e1) + strlen(e2)));
    assert_string_equal(a.arn, ARN("archive", "all"));
    assert_string_equal(a.bus_arn, ARN("event-bus", "orders"));
    assert_string_equal(a.state, "ENABLED");
    assert_null(a.event_pattern);
    evb_archive_info_free(&a);

    /* update the pattern: now only b events */
    assert_int_equal(evb_archive_update(w->arch, "only-a", NULL,
                                        "{\"source\":[\"b\"]}", -1, NULL, err,
                                        sizeof err),
                     EVB_ERR_OK);
    ingest(w, "orders", e1, T0);
    ingest(w, "orders", e2, T0);
    assert_int_equal(count_archived(w, "only-a"), 2);

    /* the tables survive a restart */
    evb_archive_service_close(w->arch);
    open_archive(w, false);
    ingest(w, "orders", e2, T0);
    assert_int_equal(count_archived(w, "only-a"), 3);
    assert_int_equal(count_archived(w, "all"), 5);

    /* delete: events gone, capture stops */
    assert_int_equal(evb_archive_delete(w->arch, "all", err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(query(w, "SELECT COUNT(*) FROM archive_events WHERE "
                              "archive = ?",
                           "all"),
                     0);
    ingest(w, "orders", e2, T0);
    assert_int_equal(query(w, "SELECT COUNT(*) FROM archive_events WHERE "
                              "archive = ?",
                           "all"),
                     0);
}

static void control_errors(void **state) {
    world_t *w = *state;
    create(w, "a1", ARN("event-bus", "orders"), NULL, 0);
    assert_int_equal(evb_archive_create(w->arch, "a1", ARN("event-bus", "orders"),
                                        NULL, NULL, 0, NULL, err, sizeof err),
                     EVB_ERR_EXISTS);
    assert_string_equal(err, "Archive a1 already exists.");
    assert_int_equal(evb_archive_create(w->arch, "a2", ARN("event-bus", "orders"),
                                        NULL, "{\"source\":[]}", 0, NULL, err,
                                        sizeof err),
                     EVB_ERR_INVALID_EVENT_PATTERN);
    assert_string_equal(err, "Event pattern is not valid. Reason: Empty "
                             "arrays are not allowed");
    assert_int_equal(evb_archive_create(w->arch, "a2", ARN("event-bus", "nope"),
                                        NULL, NULL, 0, NULL, err, sizeof err),
                     EVB_ERR_NOT_FOUND);
    assert_int_equal(
        evb_archive_create(w->arch, "a2",
                           "arn:aws:events:eu-west-1:" ACCT ":event-bus/orders",
                           NULL, NULL, 0, NULL, err, sizeof err),
        EVB_ERR_NOT_FOUND);
    assert_int_equal(evb_archive_update(w->arch, "a1", NULL, NULL, -1, NULL,
                                        err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "At least one of EventPattern, RetentionDays or "
                             "Description must be provided.");
    assert_int_equal(evb_archive_update(w->arch, "zz", "d", NULL, -1, NULL,
                                        err, sizeof err),
                     EVB_ERR_NOT_FOUND);
    assert_string_equal(err, "Archive zz does not exist.");
    evb_archive_info_t a;
    assert_int_equal(evb_archive_update(w->arch, "a1", "desc", NULL, 7, &a,
                                        err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(a.description, "desc");
    assert_int_equal(a.retention_days, 7);
    evb_archive_info_free(&a);
    assert_int_equal(evb_archive_delete(w->arch, "zz", err, sizeof err),
                     EVB_ERR_NOT_FOUND);

    /* list: prefix, source, paging */
    create(w, "a2", ARN("event-bus", "orders"), NULL, 0);
    create(w, "b1", ARN("event-bus", "default"), NULL, 0);
    evb_archive_info_t *items;
    size_t n;
    char *next;
    assert_int_equal(evb_archive_list(w->arch, "a", NULL, NULL, NULL, 1,
                                      &items, &n, &next, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].name, "a1");
    assert_non_null(next);
    evb_archive_info_free(&items[0]);
    free(items);
    char *tok = next;
    assert_int_equal(evb_archive_list(w->arch, "a", NULL, NULL, tok, 1, &items,
                                      &n, &next, err, sizeof err),
                     EVB_ERR_OK);
    free(tok);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].name, "a2");
    assert_null(next);
    evb_archive_info_free(&items[0]);
    free(items);
    assert_int_equal(evb_archive_list(w->arch, NULL, ARN("event-bus", "default"),
                                      "ENABLED", NULL, 0, &items, &n, &next,
                                      err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].name, "b1");
    evb_archive_info_free(&items[0]);
    free(items);
}

static void replay_errors(void **state) {
    world_t *w = *state;
    create(w, "arc", ARN("event-bus", "orders"), NULL, 0);
    evb_replay_spec_t s = {.name = "r",
                           .archive_arn = ARN("archive", "nope"),
                           .dest_arn = ARN("event-bus", "orders"),
                           .start_ms = T0,
                           .end_ms = T0 + 1000};
    assert_int_equal(evb_replay_start(w->arch, &s, NULL, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "Parameter EventSourceArn is not valid. Reason: "
                             "Archive nope does not exist.");
    s.archive_arn = ARN("archive", "arc");
    s.dest_arn = ARN("event-bus", "default");
    assert_int_equal(evb_replay_start(w->arch, &s, NULL, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "Parameter Destination.Arn is not valid. Reason: "
                             "Cross event bus replay is not permitted.");
    s.dest_arn = ARN("event-bus", "orders");
    s.end_ms = T0;
    assert_int_equal(evb_replay_start(w->arch, &s, NULL, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "Parameter EventEndTime is not valid. Reason: "
                             "EventStartTime must be before EventEndTime.");
    s.end_ms = T0 + 1000;
    char names[11][8];
    for (int i = 0; i < 10; i++) {
        snprintf(names[i], sizeof names[i], "r%d", i);
        s.name = names[i];
        assert_int_equal(evb_replay_start(w->arch, &s, NULL, err, sizeof err),
                         EVB_ERR_OK);
    }
    assert_int_equal(evb_replay_start(w->arch, &s, NULL, err, sizeof err),
                     EVB_ERR_EXISTS);
    assert_string_equal(err, "Replay r9 already exists.");
    s.name = "r10";
    assert_int_equal(evb_replay_start(w->arch, &s, NULL, err, sizeof err),
                     EVB_ERR_LIMIT_EXCEEDED);
    assert_int_equal(evb_replay_describe(w->arch, "zz", NULL, err, sizeof err),
                     EVB_ERR_NOT_FOUND);
    assert_string_equal(err, "Replay zz does not exist.");
    /* list with filters and paging */
    evb_replay_info_t *items;
    size_t n;
    char *next;
    assert_int_equal(evb_replay_list(w->arch, "r", "STARTING",
                                     ARN("archive", "arc"), NULL, 4, &items,
                                     &n, &next, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(n, 4);
    assert_non_null(next);
    for (size_t i = 0; i < n; i++)
        evb_replay_info_free(&items[i]);
    free(items);
    free(next);
    assert_int_equal(evb_replay_list(w->arch, NULL, NULL, ARN("archive", "x"),
                                     NULL, 0, &items, &n, &next, err,
                                     sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(n, 0);
    free(items);
    /* once they finish, new ones may start */
    run_all(w);
    assert_string_equal(replay_state(w, "r0"), "COMPLETED");
    assert_int_equal(evb_replay_start(w->arch, &s, NULL, err, sizeof err),
                     EVB_ERR_OK);
}

static void replay_window_with_filter(void **state) {
    world_t *w = *state;
    add_rule(w, "orders", "r1", "{\"source\":[\"a\"]}");
    add_rule(w, "orders", "r2", "{\"source\":[\"a\"]}");
    create(w, "arc", ARN("event-bus", "orders"), NULL, 0);
    const int64_t times[] = {T0 - 1, T0, T0 + 70000, T0 + 3600000,
                             T0 + 3600000 + 59999, T0 + 3600000 + 60000};
    for (size_t i = 0; i < EVB_ARRAY_LEN(times); i++) {
        char id[16];
        snprintf(id, sizeof id, "ev-%zu", i);
        ingest(w, "orders", envelope(id, "a", times[i]), times[i]);
    }
    ingest(w, "orders", envelope("ev-b", "b", T0 + 5), T0 + 5);
    const char *filter[] = {"arn:aws:events:us-east-1:" ACCT ":rule/orders/r1"};
    start(w, "rp", ARN("archive", "arc"), ARN("event-bus", "orders"), T0,
          T0 + 3600000 + 60000, filter, 1);
    size_t steps;
    assert_int_equal(evb_archive_run_once(w->arch, &steps, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(steps, 1);
    assert_string_equal(replay_state(w, "rp"), "RUNNING");
    run_all(w);
    evb_replay_info_t r;
    assert_int_equal(evb_replay_describe(w->arch, "rp", &r, err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(r.state, "COMPLETED");
    assert_int_equal(r.last_replayed_ms, T0 + 3600000 + 60000);
    assert_true(r.replay_end_ms >= r.replay_start_ms);
    assert_int_equal(r.nfilter, 1);
    assert_string_equal(r.filter_arns[0], filter[0]);
    evb_replay_info_free(&r);
    /* ev-1..ev-4 (ev-b matches no rule), delivered to r1 only */
    assert_int_equal(query(w, "SELECT COUNT(*) FROM events WHERE body LIKE "
                              "'%\"replay-name\":\"rp\"%'",
                           NULL),
                     4);
    assert_int_equal(query(w, "SELECT COUNT(*) FROM deliveries", NULL), 4);
    assert_int_equal(query(w, "SELECT COUNT(*) FROM deliveries WHERE rule = "
                              "'r1'",
                           NULL),
                     4);
    assert_int_equal(query(w, "SELECT COUNT(DISTINCT id) FROM events WHERE "
                              "id IN ('ev-1','ev-2','ev-3','ev-4')",
                           NULL),
                     4);
    const char *body = query_text(w, "SELECT body FROM events WHERE id = ?",
                                  "ev-2");
    assert_non_null(strstr(body, "\"region\":\"us-east-1\",\"replay-name\":"
                                 "\"rp\",\"resources\":[]"));
    /* a replayed copy is not archived again */
    int64_t before = count_archived(w, "arc");
    char copy[2048];
    snprintf(copy, sizeof copy, "%s", body);
    ingest(w, "orders", copy, T0);
    assert_int_equal(count_archived(w, "arc"), before);

    /* without FilterArns every matching rule gets it */
    start(w, "rp2", ARN("archive", "arc"), ARN("event-bus", "orders"), T0,
          T0 + 1, NULL, 0);
    run_all(w);
    assert_int_equal(query(w, "SELECT COUNT(*) FROM deliveries", NULL), 6);
}

static void cancel(void **state) {
    world_t *w = *state;
    add_rule(w, "orders", "r1", "{\"source\":[\"a\"]}");
    create(w, "arc", ARN("event-bus", "orders"), NULL, 0);
    for (int i = 0; i < 5; i++)
        ingest(w, "orders", envelope("x", "a", T0 + i * 60000),
               T0 + i * 60000);
    start(w, "rp", ARN("archive", "arc"), ARN("event-bus", "orders"), T0,
          T0 + 5 * 60000, NULL, 0);
    size_t steps;
    assert_int_equal(evb_archive_run_once(w->arch, &steps, err, sizeof err),
                     EVB_ERR_OK);
    evb_replay_info_t r;
    assert_int_equal(evb_replay_cancel(w->arch, "rp", &r, err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(r.state, "CANCELLING");
    evb_replay_info_free(&r);
    assert_int_equal(evb_replay_cancel(w->arch, "rp", NULL, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "Replay rp is not in a valid state for this "
                             "operation.");
    run_all(w);
    assert_string_equal(replay_state(w, "rp"), "CANCELLED");
    assert_int_equal(query(w, "SELECT COUNT(*) FROM deliveries", NULL), 1);
    assert_int_equal(evb_replay_cancel(w->arch, "rp", NULL, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_int_equal(evb_replay_cancel(w->arch, "zz", NULL, err, sizeof err),
                     EVB_ERR_NOT_FOUND);
}

static void restart_resumes(void **state) {
    world_t *w = *state;
    add_rule(w, "orders", "r1", "{\"source\":[\"a\"]}");
    create(w, "arc", ARN("event-bus", "orders"), NULL, 0);
    for (int i = 0; i < 6; i++)
        ingest(w, "orders", envelope("x", "a", T0 + i * 30000),
               T0 + i * 30000);
    start(w, "rp", ARN("archive", "arc"), ARN("event-bus", "orders"), T0,
          T0 + 3 * 60000, NULL, 0);
    size_t steps;
    assert_int_equal(evb_archive_run_once(w->arch, &steps, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(query(w, "SELECT COUNT(*) FROM deliveries", NULL), 2);
    evb_archive_service_close(w->arch);
    w->arch = NULL;
    open_archive(w, false);
    assert_string_equal(replay_state(w, "rp"), "RUNNING");
    run_all(w);
    assert_string_equal(replay_state(w, "rp"), "COMPLETED");
    /* every event once */
    assert_int_equal(query(w, "SELECT COUNT(*) FROM deliveries", NULL), 6);
}

static void retention_sweep(void **state) {
    world_t *w = *state;
    create(w, "short", ARN("event-bus", "orders"), NULL, 1);
    create(w, "forever", ARN("event-bus", "orders"), NULL, 0);
    ingest(w, "orders", envelope("x", "a", T0), T0);
    size_t deleted = 99;
    int64_t now = (int64_t)time(NULL) * 1000;
    assert_int_equal(evb_archive_sweep(w->arch, now, &deleted, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(deleted, 0);
    assert_int_equal(evb_archive_sweep(w->arch, now + 2 * 86400000LL, &deleted,
                                       err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(deleted, 1);
    assert_int_equal(count_archived(w, "short"), 0);
    assert_int_equal(count_archived(w, "forever"), 1);
}

static void worker_thread_runs_replays(void **state) {
    world_t *w = *state;
    evb_archive_service_close(w->arch);
    open_archive(w, true);
    add_rule(w, "orders", "r1", "{\"source\":[\"a\"]}");
    create(w, "arc", ARN("event-bus", "orders"), NULL, 0);
    for (int i = 0; i < 3; i++)
        ingest(w, "orders", envelope("x", "a", T0 + i * 60000),
               T0 + i * 60000);
    start(w, "rp", ARN("archive", "arc"), ARN("event-bus", "orders"), T0,
          T0 + 3 * 60000, NULL, 0);
    for (int i = 0; i < 500 && strcmp(replay_state(w, "rp"), "COMPLETED");
         i++)
        usleep(10000);
    assert_string_equal(replay_state(w, "rp"), "COMPLETED");
    assert_int_equal(query(w, "SELECT COUNT(*) FROM deliveries", NULL), 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(capture_with_and_without_patterns,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(control_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(replay_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(replay_window_with_filter, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_resumes, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(worker_thread_runs_replays, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
