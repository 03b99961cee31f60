/* test_bus.c: buses, rules, targets and PutEvents over a real store, and
 * that all of it survives a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus/bus.h"

static char dir[256];
static evb_store_t *store;
static evb_bus_service_t *svc;

static void open_all(void) {
    char err[512];
    evb_store_opts_t o = {.dir = dir, .no_sync = true};
    assert_int_equal(evb_store_open(&o, &store, err, sizeof err), EVB_ERR_OK);
    assert_int_equal(evb_bus_service_open(NULL, store, &svc, err, sizeof err),
                     EVB_ERR_OK);
}

static void close_all(void) {
    evb_bus_service_close(svc);
    evb_store_close(store);
    svc = NULL;
    store = NULL;
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/evb-bus-test-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    open_all();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    close_all();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static evb_err_t count_rows(const char *table, int *n);

typedef struct q {
    const char *sql;
    int n;
} q_t;

static evb_err_t run_count(sqlite3 *db, void *arg, char *errstr, size_t sz) {
    q_t *q = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, q->sql, -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, q->sql, errstr, sz);
    if (sqlite3_step(st) == SQLITE_ROW)
        q->n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

static evb_err_t count_rows(const char *table, int *n) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    q_t q = {sql, -1};
    char err[256];
    evb_err_t e = evb_store_read(store, run_count, &q, err, sizeof err);
    *n = q.n;
    return e;
}

static void buses_create_describe_list_delete(void **state) {
    (void)state;
    char err[512];
    char *arn = NULL;
    assert_int_equal(evb_bus_create(svc, "orders", "desc", &arn, err,
                                    sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(arn,
                        "arn:aws:events:us-east-1:000000000000:event-bus/orders");
    free(arn);
    assert_int_equal(evb_bus_create(svc, "orders", NULL, NULL, err, sizeof err),
                     EVB_ERR_EXISTS);
    assert_string_equal(err, "Event bus orders already exists.");
    evb_bus_info_t info;
    assert_int_equal(evb_bus_describe(svc, "nope", &info, err, sizeof err),
                     EVB_ERR_NOT_FOUND);
    assert_string_equal(err, "Event bus nope does not exist.");
    assert_int_equal(evb_bus_describe(svc, "orders", &info, err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(info.description, "desc");
    evb_bus_info_free(&info);
    /* pagination: default, orders, x1..x3 in pages of 2 */
    for (int i = 1; i <= 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", i);
        assert_int_equal(evb_bus_create(svc, name, NULL, NULL, err, sizeof err),
                         EVB_ERR_OK);
    }
    char *token = NULL;
    int seen = 0;
    for (int page = 0; page < 10; page++) {
        evb_bus_info_t *items;
        size_t n;
        char *next;
        assert_int_equal(evb_bus_list(svc, NULL, token, 2, &items, &n, &next,
                                      err, sizeof err),
                         EVB_ERR_OK);
        seen += (int)n;
        for (size_t i = 0; i < n; i++)
            evb_bus_info_free(&items[i]);
        free(items);
        free(token);
        token = next;
        if (!next)
            break;
    }
    assert_int_equal(seen, 5);
    evb_bus_info_t *items;
    size_t n;
    char *next;
    assert_int_equal(
        evb_bus_list(svc, "x", NULL, 0, &items, &n, &next, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(n, 3);
    assert_null(next);
    for (size_t i = 0; i < n; i++)
        evb_bus_info_free(&items[i]);
    free(items);
    assert_int_equal(evb_bus_delete(svc, "default", err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "Cannot delete event bus default.");
    assert_int_equal(evb_bus_delete(svc, "x3", err, sizeof err), EVB_ERR_OK);
    assert_int_equal(evb_bus_delete(svc, "x3", err, sizeof err), EVB_ERR_OK);
}

static evb_rule_info_t rule(const char *bus, const char *name,
                            const char *pattern) {
    evb_rule_info_t r = {0};
    r.bus = (char *)bus;
    r.name = (char *)name;
    r.event_pattern = (char *)pattern;
    return r;
}

static void rules_and_targets(void **state) {
    (void)state;
    char err[512];
    evb_rule_info_t in = rule("orders", "big", "{\"detail\":{\"total\":"
                                               "[{\"numeric\":[\">\",100]}]}}");
    char *arn = NULL;
    assert_int_equal(evb_rule_put(svc, &in, &arn, err, sizeof err), EVB_ERR_OK);
    assert_string_equal(arn,
                        "arn:aws:events:us-east-1:000000000000:rule/orders/big");
    free(arn);
    in = rule("orders", "bad", "{\"a\":[]}");
    assert_int_equal(evb_rule_put(svc, &in, NULL, err, sizeof err),
                     EVB_ERR_INVALID_EVENT_PATTERN);
    in = rule("orders", "none", NULL);
    assert_int_equal(evb_rule_put(svc, &in, NULL, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "Parameter(s) EventPattern or ScheduleExpression "
                             "must be specified.");
    in = rule("orders", "sched", NULL);
    in.schedule = "rate(5 minutes)";
    assert_int_equal(evb_rule_put(svc, &in, NULL, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "ScheduleExpression is supported only on the "
                             "default event bus.");
    in = rule("ghost", "r", "{\"a\":[1]}");
    assert_int_equal(evb_rule_put(svc, &in, NULL, err, sizeof err),
                     EVB_ERR_NOT_FOUND);
    evb_rule_info_t out;
    assert_int_equal(
        evb_rule_describe(svc, "orders", "missing", &out, err, sizeof err),
        EVB_ERR_NOT_FOUND);
    assert_string_equal(err, "Rule missing does not exist on EventBus orders.");
    assert_int_equal(
        evb_rule_describe(svc, "orders", "big", &out, err, sizeof err),
        EVB_ERR_OK);
    assert_string_equal(out.state, "ENABLED");
    evb_rule_info_free(&out);
    /* five targets fit, a sixth does not */
    evb_target_info_t t[6];
    char ids[6][8];
    for (int i = 0; i < 6; i++) {
        snprintf(ids[i], sizeof ids[i], "t%d", i);
        t[i].id = ids[i];
        t[i].arn = "arn:aws:logs:us-east-1:000000000000:log-group:audit";
        t[i].spec = "{}";
    }
    evb_target_failure_t *f;
    size_t nf;
    assert_int_equal(
        evb_targets_put(svc, "orders", "big", t, 5, &f, &nf, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(evb_targets_put(svc, "orders", "big", t + 5, 1, &f, &nf,
                                     err, sizeof err),
                     EVB_ERR_LIMIT_EXCEEDED);
    assert_int_equal(evb_rule_delete(svc, "orders", "big", err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "Rule can't be deleted since it has targets.");
    const char *rm[] = {"t1", "t2", "t3", "t4"};
    assert_int_equal(evb_targets_remove(svc, "orders", "big", rm, 4, &f, &nf,
                                        err, sizeof err),
                     EVB_ERR_OK);
    evb_target_info_t *items;
    size_t n;
    char *next;
    assert_int_equal(evb_targets_list(svc, "orders", "big", NULL, 0, &items,
                                      &n, &next, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].id, "t0");
    evb_target_info_free(&items[0]);
    free(items);
    char **names;
    assert_int_equal(evb_rule_names_by_target(
                         svc, "orders",
                         "arn:aws:logs:us-east-1:000000000000:log-group:audit",
                         NULL, 0, &names, &n, &next, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "big");
    free(names[0]);
    free(names);
}

static evb_put_entry_t entry(const char *bus, const char *detail) {
    evb_put_entry_t e = {0};
    e.source = "shop";
    e.detail_type = "Order";
    e.detail = detail;
    e.detail_len = detail ? strlen(detail) : 0;
    e.bus = bus;
    return e;
}

static void put_events_commits_events_and_deliveries(void **state) {
    (void)state;
    char err[512];
    evb_put_entry_t e[5] = {
        entry("orders", "{\"total\": 500}"),
        entry("orders", "{\"total\":5}"),
        entry("nonexistent", "{\"total\":500}"),
        entry("orders", "[1]"),
        entry("orders", NULL),
    };
    evb_put_result_t r[5];
    size_t failed;
    int before_ev, before_dl;
    count_rows("events", &before_ev);
    count_rows("deliveries", &before_dl);
    assert_int_equal(evb_bus_put_events(svc, e, 5, r, &failed, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(failed, 2);
    assert_int_equal(strlen(r[0].event_id), 36);
    assert_null(r[0].error_code);
    assert_int_equal(strlen(r[2].event_id), 36); /* acked, then dropped */
    assert_string_equal(r[3].error_code, "MalformedDetail");
    assert_string_equal(r[3].error_message, "Detail is malformed.");
    assert_string_equal(r[4].error_code, "InvalidArgument");
    int ev, dl;
    count_rows("events", &ev);
    count_rows("deliveries", &dl);
    assert_int_equal(ev - before_ev, 1); /* only the one that owes work */
    assert_int_equal(dl - before_dl, 1); /* total 500 -> rule big -> t0 */
    /* the request-level size limit */
    char *big = malloc(2 * 1024 * 1024);
    memset(big, ' ', 2 * 1024 * 1024);
    big[0] = '{';
    big[2 * 1024 * 1024 - 1] = '}';
    evb_put_entry_t huge = entry("orders", NULL);
    huge.detail = big;
    huge.detail_len = 2 * 1024 * 1024;
    assert_int_equal(
        evb_bus_put_events(svc, &huge, 1, r, &failed, err, sizeof err),
        EVB_ERR_INVALID_ARG);
    assert_string_equal(
        err, "Total size of the entries in the request is over the limit.");
    free(big);
}

/* Several calls, one commit: each call answered as PutEvents answers it,
 * their events stored in call order; a request-level error in any call
 * stores nothing. */
static void put_events_multi_commits_calls_together(void **state) {
    (void)state;
    char err[512];
    evb_put_entry_t a[2] = {entry("orders", "{\"total\": 500, \"n\": 1}"),
                            entry("orders", "[1]")};
    evb_put_entry_t b[1] = {entry("orders", "{\"total\": 600, \"n\": 2}")};
    evb_put_result_t ra[2], rb[1];
    evb_put_call_t calls[2] = {{a, 2, ra, 99}, {b, 1, rb, 99}};
    int before_ev, before_dl;
    count_rows("events", &before_ev);
    count_rows("deliveries", &before_dl);
    assert_int_equal(
        evb_bus_put_events_multi(svc, calls, 2, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(calls[0].failed, 1);
    assert_int_equal(calls[1].failed, 0);
    assert_int_equal(strlen(ra[0].event_id), 36);
    assert_string_equal(ra[1].error_code, "MalformedDetail");
    assert_int_equal(strlen(rb[0].event_id), 36);
    int ev, dl;
    count_rows("events", &ev);
    count_rows("deliveries", &dl);
    assert_int_equal(ev - before_ev, 2);
    assert_int_equal(dl - before_dl, 2);

    /* a call of 11 entries: the set fails, nothing is stored */
    evb_put_entry_t many[11];
    evb_put_result_t rm[11];
    for (size_t i = 0; i < 11; i++)
        many[i] = entry("orders", "{\"total\": 700}");
    evb_put_call_t bad[2] = {{b, 1, rb, 0}, {many, 11, rm, 0}};
    assert_int_equal(evb_bus_put_events_multi(svc, bad, 2, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "less than or equal to 10"));
    count_rows("events", &before_ev);
    count_rows("deliveries", &before_dl);
    assert_int_equal(before_ev, ev);
    assert_int_equal(before_dl, dl);
    /* no calls: nothing to do */
    assert_int_equal(evb_bus_put_events_multi(svc, NULL, 0, err, sizeof err),
                     EVB_ERR_OK);
}

static void everything_survives_a_restart(void **state) {
    (void)state;
    close_all();
    open_all();
    char err[512];
    evb_rule_info_t out;
    assert_int_equal(
        evb_rule_describe(svc, "orders", "big", &out, err, sizeof err),
        EVB_ERR_OK);
    evb_rule_info_free(&out);
    /* routing was rebuilt: a matching event still owes one delivery */
    int before;
    count_rows("deliveries", &before);
    evb_put_entry_t e = entry("orders", "{\"total\":1000}");
    evb_put_result_t r;
    size_t failed;
    assert_int_equal(evb_bus_put_events(svc, &e, 1, &r, &failed, err,
                                        sizeof err),
                     EVB_ERR_OK);
    int after;
    count_rows("deliveries", &after);
    assert_int_equal(after - before, 1);
    /* disabling the rule stops routing */
    assert_int_equal(
        evb_rule_set_enabled(svc, "orders", "big", false, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(evb_bus_put_events(svc, &e, 1, &r, &failed, err,
                                        sizeof err),
                     EVB_ERR_OK);
    count_rows("deliveries", &before);
    assert_int_equal(before, after);
}

static void a_rule_event_owes_only_that_rules_targets(void **state) {
    (void)state;
    char err[512];
    evb_rule_info_t in = {0};
    in.bus = "default";
    in.name = "every-minute";
    in.schedule = "rate(1 minute)";
    assert_int_equal(evb_rule_put(svc, &in, NULL, err, sizeof err), EVB_ERR_OK);
    evb_target_info_t t = {"t", "arn:aws:logs:us-east-1:000000000000:"
                                "log-group:/sched",
                           "{}"};
    evb_target_failure_t *f;
    size_t nf;
    assert_int_equal(evb_targets_put(svc, "default", "every-minute", &t, 1, &f,
                                     &nf, err, sizeof err),
                     EVB_ERR_OK);
    int before;
    count_rows("deliveries", &before);
    const char *ev = "{\"version\":\"0\",\"id\":\"x\",\"detail-type\":"
                     "\"Scheduled Event\",\"source\":\"aws.events\","
                     "\"detail\":{}}";
    assert_int_equal(evb_bus_put_rule_event(svc, NULL, "default",
                                            "every-minute", "x", ev,
                                            strlen(ev), err, sizeof err),
                     EVB_ERR_OK);
    int after;
    count_rows("deliveries", &after);
    assert_int_equal(after - before, 1);
    assert_int_equal(evb_bus_put_rule_event(svc, NULL, "default", "nope", "x",
                                            ev, strlen(ev), err, sizeof err),
                     EVB_ERR_NOT_FOUND);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buses_create_describe_list_delete),
        cmocka_unit_test(rules_and_targets),
        cmocka_unit_test(put_events_commits_events_and_deliveries),
        cmocka_unit_test(put_events_multi_commits_calls_together),
        cmocka_unit_test(everything_survives_a_restart),
        cmocka_unit_test(a_rule_event_owes_only_that_rules_targets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
