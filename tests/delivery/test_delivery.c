/* test_delivery.c: committed deliveries reach log groups (with input
 * transformation), travel one hop to another bus and no further, and are
 * dropped when their target is gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "delivery/delivery.h"

static char dir[256];
static evb_store_t *store;
static evb_bus_service_t *svc;
static evb_delivery_t *dv;
static evb_queue_service_t *queues;

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/evb-delivery-test-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char err[512];
    evb_store_opts_t o = {.dir = dir, .no_sync = true};
    if (evb_store_open(&o, &store, err, sizeof err) ||
        evb_bus_service_open(NULL, store, &svc, err, sizeof err) ||
        evb_queue_service_new(store, "us-east-1", "000000000000", &queues) !=
            EVB_QUEUE_ERR_OK)
        return -1;
    evb_delivery_config_t cfg = {.queues = queues};
    if (evb_delivery_new(&cfg, store, svc, false, &dv, err, sizeof err))
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    evb_delivery_free(dv);
    evb_queue_service_free(queues);
    evb_bus_service_close(svc);
    evb_store_close(store);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct logs {
    const char *group;
    char msgs[8][2048];
    int n;
} logs_t;

static evb_err_t read_logs(sqlite3 *db, void *arg, char *errstr, size_t sz) {
    logs_t *l = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT message FROM log_events WHERE grp=? "
                           "ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "logs", errstr, sz);
    sqlite3_bind_text(st, 1, l->group, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW && l->n < 8)
        snprintf(l->msgs[l->n++], sizeof l->msgs[0], "%s",
                 (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

static void rule(const char *bus, const char *name, const char *pattern) {
    evb_rule_info_t r = {0};
    r.bus = (char *)bus;
    r.name = (char *)name;
    r.event_pattern = (char *)pattern;
    char err[512];
    assert_int_equal(evb_rule_put(svc, &r, NULL, err, sizeof err), EVB_ERR_OK);
}

static void target(const char *bus, const char *rule_name, const char *id,
                   const char *arn, const char *spec) {
    evb_target_info_t t = {(char *)id, (char *)arn, (char *)spec};
    evb_target_failure_t *f;
    size_t nf;
    char err[512];
    assert_int_equal(
        evb_targets_put(svc, bus, rule_name, &t, 1, &f, &nf, err, sizeof err),
        EVB_ERR_OK);
}

static const char *source = "shop";

static void put(const char *bus, const char *detail) {
    evb_put_entry_t e = {0};
    e.source = source;
    e.detail_type = "Order";
    e.detail = detail;
    e.detail_len = strlen(detail);
    e.bus = bus;
    evb_put_result_t r;
    size_t failed;
    char err[512];
    assert_int_equal(evb_bus_put_events(svc, &e, 1, &r, &failed, err,
                                        sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(failed, 0);
}

static int run(void) {
    size_t done;
    char err[512];
    assert_int_equal(evb_delivery_run_once(dv, &done, err, sizeof err),
                     EVB_ERR_OK);
    return (int)done;
}

static void log_group_gets_the_event_and_transformed_output(void **state) {
    (void)state;
    evb_bus_create(svc, "orders", NULL, NULL, NULL, 0);
    rule("orders", "all", "{\"source\":[\"shop\"]}");
    target("orders", "all", "raw",
           "arn:aws:logs:us-east-1:000000000000:log-group:/audit/raw", "{}");
    target("orders", "all", "tx",
           "arn:aws:logs:us-east-1:000000000000:log-group:/audit/tx",
           "{\"Id\":\"tx\",\"InputTransformer\":{\"InputPathsMap\":"
           "{\"t\":\"$.detail.total\"},\"InputTemplate\":"
           "\"{\\\"timestamp\\\":1700000000000,\\\"message\\\":\\\"total "
           "<t>\\\"}\"}}");
    put("orders", "{\"total\": 42}");
    assert_int_equal(run(), 2);
    logs_t raw = {.group = "/audit/raw"};
    char err[256];
    assert_int_equal(evb_store_read(store, read_logs, &raw, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(raw.n, 1);
    assert_non_null(strstr(raw.msgs[0], "\"detail\":{\"total\":42}"));
    assert_non_null(strstr(raw.msgs[0], "\"source\":\"shop\""));
    logs_t tx = {.group = "/audit/tx"};
    evb_store_read(store, read_logs, &tx, err, sizeof err);
    assert_int_equal(tx.n, 1);
    assert_string_equal(tx.msgs[0], "total 42");
    /* nothing left to do */
    assert_int_equal(run(), 0);
}

static void bus_targets_forward_one_hop_only(void **state) {
    (void)state;
    evb_bus_create(svc, "second", NULL, NULL, NULL, 0);
    evb_bus_create(svc, "third", NULL, NULL, NULL, 0);
    rule("default", "fwd", "{\"source\":[\"shop\"]}");
    target("default", "fwd", "to-second",
           "arn:aws:events:us-east-1:000000000000:event-bus/second", "{}");
    rule("second", "log", "{\"source\":[\"shop\"]}");
    target("second", "log", "l",
           "arn:aws:logs:us-east-1:000000000000:log-group:/second", "{}");
    target("second", "log", "on",
           "arn:aws:events:us-east-1:000000000000:event-bus/third", "{}");
    rule("third", "log", "{\"source\":[\"shop\"]}");
    target("third", "log", "l",
           "arn:aws:logs:us-east-1:000000000000:log-group:/third", "{}");
    put(NULL, "{\"n\":1}");
    run();
    logs_t second = {.group = "/second"}, third = {.group = "/third"};
    char err[256];
    evb_store_read(store, read_logs, &second, err, sizeof err);
    evb_store_read(store, read_logs, &third, err, sizeof err);
    assert_int_equal(second.n, 1);
    assert_int_equal(third.n, 0);
    evb_delivery_stats_t st;
    evb_delivery_get_stats(dv, &st);
    assert_true(st.forwarded >= 1);
    assert_true(st.dropped >= 1); /* the second hop */
}

static void deliveries_to_removed_targets_are_dropped(void **state) {
    (void)state;
    rule("default", "gone", "{\"detail\":{\"gone\":[true]}}");
    target("default", "gone", "g",
           "arn:aws:logs:us-east-1:000000000000:log-group:/gone", "{}");
    source = "elsewhere"; /* not the source the forwarding rule takes */
    put(NULL, "{\"gone\":true}");
    const char *ids[] = {"g"};
    evb_target_failure_t *f;
    size_t nf;
    char err[256];
    assert_int_equal(evb_targets_remove(svc, "default", "gone", ids, 1, &f,
                                        &nf, err, sizeof err),
                     EVB_ERR_OK);
    evb_delivery_stats_t before, after;
    evb_delivery_get_stats(dv, &before);
    run();
    evb_delivery_get_stats(dv, &after);
    assert_int_equal(after.dropped - before.dropped, 1);
    logs_t gone = {.group = "/gone"};
    evb_store_read(store, read_logs, &gone, err, sizeof err);
    assert_int_equal(gone.n, 0);
}

typedef struct qmsgs {
    const char *queue;
    char bodies[4][2048];
    char attrs[4][2048];
    int n;
} qmsgs_t;

static evb_err_t read_queue(sqlite3 *db, void *arg, char *errstr, size_t sz) {
    qmsgs_t *q = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT body, coalesce(attributes, '') FROM "
                           "queue_messages WHERE queue=? ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "queue", errstr, sz);
    sqlite3_bind_text(st, 1, q->queue, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW && q->n < 4) {
        snprintf(q->bodies[q->n], sizeof q->bodies[0], "%s",
                 (const char *)sqlite3_column_text(st, 0));
        snprintf(q->attrs[q->n], sizeof q->attrs[0], "%s",
                 (const char *)sqlite3_column_text(st, 1));
        q->n++;
    }
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

static void queue_targets_and_dead_letters(void **state) {
    (void)state;
    char err[512];
    assert_int_equal(evb_queue_create(queues, "orders-q", NULL, 0, err,
                                      sizeof err),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(evb_queue_create(queues, "dlq", NULL, 0, err, sizeof err),
                     EVB_QUEUE_ERR_OK);
    rule("default", "to-queue", "{\"detail-type\":[\"Q\"]}");
    target("default", "to-queue", "q",
           "arn:aws:sqs:us-east-1:000000000000:orders-q",
           "{\"Id\":\"q\",\"InputPath\":\"$.detail\"}");
    target("default", "to-queue", "missing",
           "arn:aws:sqs:us-east-1:000000000000:no-such-queue",
           "{\"Id\":\"missing\",\"DeadLetterConfig\":{\"Arn\":"
           "\"arn:aws:sqs:us-east-1:000000000000:dlq\"}}");
    evb_put_entry_t e = {0};
    e.source = "shop";
    e.detail_type = "Q";
    e.detail = "{\"n\":7}";
    e.detail_len = strlen(e.detail);
    evb_put_result_t r;
    size_t failed;
    assert_int_equal(evb_bus_put_events(svc, &e, 1, &r, &failed, err,
                                        sizeof err),
                     EVB_ERR_OK);
    run();
    qmsgs_t q = {.queue = "orders-q"};
    evb_store_read(store, read_queue, &q, err, sizeof err);
    assert_int_equal(q.n, 1);
    assert_string_equal(q.bodies[0], "{\"n\":7}"); /* the InputPath */
    qmsgs_t d = {.queue = "dlq"};
    evb_store_read(store, read_queue, &d, err, sizeof err);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.bodies[0], r.event_id)); /* the whole event */
    assert_non_null(strstr(d.attrs[0], "NO_RESOURCE"));
    assert_non_null(strstr(d.attrs[0], "RULE_ARN"));
    assert_non_null(strstr(d.attrs[0], "no-such-queue"));
    evb_delivery_stats_t st;
    evb_delivery_get_stats(dv, &st);
    assert_int_equal(st.dead_lettered, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(log_group_gets_the_event_and_transformed_output),
        cmocka_unit_test(bus_targets_forward_one_hop_only),
        cmocka_unit_test(deliveries_to_removed_targets_are_dropped),
        cmocka_unit_test(queue_targets_and_dead_letters),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
