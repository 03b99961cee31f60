/* test_delivery_apidest.c: API destinations as rule targets: a delivered
 * invocation, retriable failures rescheduled with backoff until the
 * RetryPolicy is exhausted and then dead-lettered with
 * EXHAUSTED_RETRY_CONDITION, and a non-retriable failure dead-lettered at
 * once. Then the engine with its threads: it follows new rows through
 * reused seqs and bursts, sweeps retries when they fall due, and stopping
 * it cancels what still waits on a rate limit without losing it. The
 * receiver is evbus's own HTTP server on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/http.h"
#include "delivery/delivery.h"

static char dir[256];
static evb_store_t *store;
static evb_bus_service_t *svc;
static evb_queue_service_t *queues;
static evb_apidest_invoker_t *inv;
static evb_delivery_t *dv;
static evb_http_server_t *receiver;

/* what the receiver answers, and what it saw */
static unsigned answer = 200;
static int hits;
static char last_body[4096];
static char last_key[128];

static void on_request(void *ud, const evb_http_request_t *req,
                       evb_http_response_t *resp) {
    (void)ud;
    __atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST);
    snprintf(last_body, sizeof last_body, "%.*s", (int)req->body_len,
             req->body);
    const char *k = evb_http_request_header(req, "x-api-key");
    snprintf(last_key, sizeof last_key, "%s", k ? k : "");
    resp->status = answer;
    evb_buf_append(&resp->body, "{}", 2);
}

static char dest_arn[512];
static char conn_arn[512];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/evb-apidest-delivery-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char err[512];
    evb_store_opts_t o = {.dir = dir, .no_sync = true};
    if (evb_store_open(&o, &store, err, sizeof err) ||
        evb_bus_service_open(NULL, store, &svc, err, sizeof err) ||
        evb_queue_service_new(store, "us-east-1", "000000000000", &queues) !=
            EVB_QUEUE_ERR_OK)
        return -1;
    evb_apidest_scope_t sc = {store, "000000000000", "us-east-1"};
    if (evb_apidest_invoker_new(&sc, NULL, &inv, err, sizeof err))
        return -1;
    evb_delivery_config_t cfg = {.queues = queues, .invoker = inv};
    if (evb_delivery_new(&cfg, store, svc, false, &dv, err, sizeof err))
        return -1;
    evb_http_config_t hc = evb_http_config_default();
    hc.host = "127.0.0.1";
    if (evb_http_server_start(&hc, on_request, NULL, &receiver, err,
                              sizeof err))
        return -1;
    /* connection, destination, DLQ */
    json_error_t je;
    json_t *req = json_loads(
        "{\"Name\":\"c\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
        "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"x-api-key\","
        "\"ApiKeyValue\":\"s3cret\"}}}",
        0, &je);
    json_t *resp = NULL;
    if (evb_apidest_connection_create(&sc, req, &resp, err, sizeof err))
        return -1;
    char *conn = conn_arn;
    snprintf(conn_arn, sizeof conn_arn, "%s",
             json_string_value(json_object_get(resp, "ConnectionArn")));
    json_decref(req);
    json_decref(resp);
    char body[1024];
    snprintf(body, sizeof body,
             "{\"Name\":\"d\",\"ConnectionArn\":\"%s\",\"InvocationEndpoint\":"
             "\"http://127.0.0.1:%u/hook\",\"HttpMethod\":\"POST\"}",
             conn, evb_http_server_port(receiver));
    req = json_loads(body, 0, &je);
    if (evb_apidest_destination_create(&sc, req, &resp, err, sizeof err))
        return -1;
    snprintf(dest_arn, sizeof dest_arn, "%s",
             json_string_value(json_object_get(resp, "ApiDestinationArn")));
    json_decref(req);
    json_decref(resp);
    if (evb_queue_create(queues, "dlq", NULL, 0, err, sizeof err) !=
        EVB_QUEUE_ERR_OK)
        return -1;
    evb_rule_info_t r = {0};
    r.bus = "default";
    r.name = "hook";
    r.event_pattern = "{\"source\":[\"shop\"]}";
    if (evb_rule_put(svc, &r, NULL, err, sizeof err))
        return -1;
    char spec[1024];
    snprintf(spec, sizeof spec,
             "{\"Id\":\"h\",\"Arn\":\"%s\",\"RetryPolicy\":{"
             "\"MaximumRetryAttempts\":1,\"MaximumEventAgeInSeconds\":3600},"
             "\"DeadLetterConfig\":{\"Arn\":"
             "\"arn:aws:sqs:us-east-1:000000000000:dlq\"}}",
             dest_arn);
    evb_target_info_t t = {"h", dest_arn, spec};
    evb_target_failure_t *f;
    size_t nf;
    return evb_targets_put(svc, "default", "hook", &t, 1, &f, &nf, err,
                           sizeof err)
               ? -1
               : 0;
}

static int teardown(void **state) {
    (void)state;
    evb_http_server_stop(receiver);
    evb_delivery_free(dv);
    evb_apidest_invoker_free(inv);
    evb_queue_service_free(queues);
    evb_bus_service_close(svc);
    evb_store_close(store);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void put(void) {
    evb_put_entry_t e = {0};
    e.source = "shop";
    e.detail_type = "Order";
    e.detail = "{\"n\":1}";
    e.detail_len = strlen(e.detail);
    evb_put_result_t r;
    size_t failed;
    char err[256];
    assert_int_equal(evb_bus_put_events(svc, &e, 1, &r, &failed, err,
                                        sizeof err),
                     EVB_ERR_OK);
}

static void run(void) {
    size_t done;
    char err[256];
    assert_int_equal(evb_delivery_run_once(dv, &done, err, sizeof err),
                     EVB_ERR_OK);
}

typedef struct q {
    const char *sql;
    int n;
    char text[4096];
} q_t;

static evb_err_t query(sqlite3 *db, void *arg, char *errstr, size_t sz) {
    q_t *q = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, q->sql, -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, q->sql, errstr, sz);
    if (sqlite3_step(st) == SQLITE_ROW) {
        q->n = sqlite3_column_int(st, 0);
        const unsigned char *t = sqlite3_column_text(st, 1);
        snprintf(q->text, sizeof q->text, "%s", t ? (const char *)t : "");
    }
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

static q_t ask(const char *sql) {
    q_t q = {sql, -1, ""};
    char err[256];
    assert_int_equal(evb_store_read(store, query, &q, err, sizeof err),
                     EVB_ERR_OK);
    return q;
}

static evb_err_t make_due(sqlite3 *db, void *arg, char *errstr, size_t sz) {
    (void)arg;
    if (sqlite3_exec(db, "UPDATE deliveries SET next_attempt_ms = 0", NULL,
                     NULL, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "due", errstr, sz);
    return EVB_ERR_OK;
}

static void delivered_with_the_connections_key(void **state) {
    (void)state;
    answer = 200;
    hits = 0;
    put();
    run();
    assert_int_equal(hits, 1);
    assert_string_equal(last_key, "s3cret");
    assert_non_null(strstr(last_body, "\"source\":\"shop\""));
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 0);
}

static void retried_then_exhausted_into_the_dlq(void **state) {
    (void)state;
    answer = 503;
    hits = 0;
    put();
    run();
    assert_int_equal(hits, 1);
    q_t row = ask("SELECT attempts, next_attempt_ms FROM deliveries");
    assert_int_equal(row.n, 1); /* rescheduled, not dropped */
    evb_delivery_stats_t st;
    evb_delivery_get_stats(dv, &st);
    assert_int_equal(st.retried, 1);
    /* not due yet: nothing happens */
    run();
    assert_int_equal(hits, 1);
    char err[256];
    assert_int_equal(evb_store_write(store, make_due, NULL, err, sizeof err),
                     EVB_ERR_OK);
    run();
    assert_int_equal(hits, 2);
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 0);
    q_t dl = ask("SELECT count(*), attributes FROM queue_messages WHERE "
                 "queue='dlq'");
    assert_int_equal(dl.n, 1);
    assert_non_null(strstr(dl.text, "MaximumRetryAttempts"));
    assert_non_null(strstr(dl.text, "EXHAUSTED_RETRY_CONDITION"));
    assert_non_null(strstr(dl.text, "RETRY_ATTEMPTS"));
}

static void non_retriable_failures_go_to_the_dlq_at_once(void **state) {
    (void)state;
    answer = 400;
    hits = 0;
    put();
    run();
    assert_int_equal(hits, 1);
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 0);
    q_t dl = ask("SELECT count(*), '' FROM queue_messages WHERE queue='dlq'");
    assert_int_equal(dl.n, 2);
}

/* ---- the threaded engine ------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static evb_delivery_t *threaded(void) {
    /* no periodic sweep within a test: new rows must be found by the
     * cursor, and retries by their own sweeps */
    evb_delivery_config_t cfg = {
        .queues = queues, .invoker = inv, .poll_ms = 600000};
    evb_delivery_t *d = NULL;
    char err[256];
    assert_int_equal(evb_delivery_new(&cfg, store, svc, true, &d, err,
                                      sizeof err),
                     EVB_ERR_OK);
    return d;
}

static int hits_now(void) { return __atomic_load_n(&hits, __ATOMIC_SEQ_CST); }

/* Wait (at most secs) until the query's first column is want. */
static bool wait_count(const char *sql, int want, double secs) {
    double end = now_s() + secs;
    for (;;) {
        if (ask(sql).n == want)
            return true;
        if (now_s() > end)
            return false;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
}

static bool wait_hits(int want, double secs) {
    double end = now_s() + secs;
    while (hits_now() < want && now_s() < end) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return hits_now() >= want;
}

static void put_source(const char *source) {
    evb_put_entry_t e = {0};
    e.source = source;
    e.detail_type = "Order";
    e.detail = "{\"n\":1}";
    e.detail_len = strlen(e.detail);
    evb_put_result_t r;
    size_t failed;
    char err[256];
    assert_int_equal(evb_bus_put_events(svc, &e, 1, &r, &failed, err,
                                        sizeof err),
                     EVB_ERR_OK);
}

static void threaded_engine_follows_new_rows(void **state) {
    (void)state;
    answer = 200;
    hits = 0;
    evb_delivery_t *d = threaded();
    /* nothing kicks it: the store's commit hook wakes it */
    put();
    assert_true(wait_hits(1, 5));
    assert_true(wait_count("SELECT count(*) FROM deliveries", 0, 5));
    /* the outbox is empty, so the next row gets the same seq again */
    put();
    assert_true(wait_hits(2, 5));
    assert_true(wait_count("SELECT count(*) FROM deliveries", 0, 5));
    for (int i = 0; i < 50; i++)
        put();
    assert_true(wait_hits(52, 10));
    assert_true(wait_count("SELECT count(*) FROM deliveries", 0, 5));
    assert_true(wait_count("SELECT count(*) FROM events", 0, 5));
    evb_delivery_stats_t st;
    evb_delivery_get_stats(d, &st);
    assert_int_equal(st.delivered, 52);
    assert_int_equal(st.dropped, 0);
    evb_delivery_free(d);
    assert_int_equal(hits_now(), 52); /* each once */
}

static void threaded_engine_sweeps_due_retries(void **state) {
    (void)state;
    answer = 503;
    hits = 0;
    int dlq = ask("SELECT count(*) FROM queue_messages WHERE queue='dlq'").n;
    evb_delivery_t *d = threaded();
    put();
    assert_true(wait_hits(1, 5));
    /* rescheduled 0.5 to 1 s ahead; swept when due; then exhausted */
    assert_true(wait_hits(2, 5));
    char sql[128];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM queue_messages WHERE queue='dlq'");
    assert_true(wait_count(sql, dlq + 1, 5));
    assert_true(wait_count("SELECT count(*) FROM deliveries", 0, 5));
    evb_delivery_stats_t st;
    evb_delivery_get_stats(d, &st);
    assert_int_equal(st.retried, 1);
    assert_int_equal(st.dead_lettered, 1);
    evb_delivery_free(d);
}

static void stopping_cancels_rate_limited_invocations(void **state) {
    (void)state;
    answer = 200;
    hits = 0;
    /* a destination allowed one invocation per second */
    evb_apidest_scope_t sc = {store, "000000000000", "us-east-1"};
    char body[1024], err[256];
    json_t *resp = NULL;
    snprintf(body, sizeof body,
             "{\"Name\":\"slow\",\"ConnectionArn\":\"%s\","
             "\"InvocationEndpoint\":\"http://127.0.0.1:%u/hook\","
             "\"HttpMethod\":\"POST\",\"InvocationRateLimitPerSecond\":1}",
             conn_arn, evb_http_server_port(receiver));
    json_error_t je;
    json_t *req = json_loads(body, 0, &je);
    assert_non_null(req);
    assert_int_equal(evb_apidest_destination_create(&sc, req, &resp, err,
                                                    sizeof err),
                     EVB_ERR_OK);
    char slow[512];
    snprintf(slow, sizeof slow, "%s",
             json_string_value(json_object_get(resp, "ApiDestinationArn")));
    json_decref(req);
    json_decref(resp);
    evb_rule_info_t r = {0};
    r.bus = "default";
    r.name = "slow";
    r.event_pattern = "{\"source\":[\"slow\"]}";
    assert_int_equal(evb_rule_put(svc, &r, NULL, err, sizeof err),
                     EVB_ERR_OK);
    char spec[1024];
    snprintf(spec, sizeof spec, "{\"Id\":\"s\",\"Arn\":\"%s\"}", slow);
    evb_target_info_t t = {"s", slow, spec};
    evb_target_failure_t *f;
    size_t nf;
    assert_int_equal(evb_targets_put(svc, "default", "slow", &t, 1, &f, &nf,
                                     err, sizeof err),
                     EVB_ERR_OK);
    for (int i = 0; i < 4; i++)
        put_source("slow");
    evb_delivery_t *d = threaded();
    assert_true(wait_hits(1, 5));
    /* three wait on the rate limit, seconds away: stopping does not wait
     * for them, and they stay in the outbox */
    double t0 = now_s();
    evb_delivery_free(d);
    assert_true(now_s() - t0 < 1.5);
    int left = ask("SELECT count(*) FROM deliveries").n;
    assert_true(left >= 2 && left <= 3);
    assert_int_equal(hits_now(), 4 - left);
    /* another engine finishes them */
    run();
    assert_int_equal(hits_now(), 4);
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivered_with_the_connections_key),
        cmocka_unit_test(retried_then_exhausted_into_the_dlq),
        cmocka_unit_test(non_retriable_failures_go_to_the_dlq_at_once),
        cmocka_unit_test(threaded_engine_follows_new_rows),
        cmocka_unit_test(threaded_engine_sweeps_due_retries),
        cmocka_unit_test(stopping_cancels_rate_limited_invocations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
