/* test_delivery_retry.c: the retry schedule of API-destination targets.
 * A receiver that keeps answering 503 sees each event again after an
 * exponential backoff with jitter (1 s doubling, capped at 5 minutes, a
 * random point in the upper half of the interval); a target whose next
 * retry would come after MaximumEventAgeInSeconds is dead-lettered with
 * EXHAUSTED_RETRY_CONDITION MaximumEventAgeInSeconds; a 429 is retried as
 * THROTTLING. The delivery engine runs without its thread (the test drives
 * each pass and moves the clock by rewriting the rows); the receiver is
 * evbus's own HTTP server on loopback. */
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

#define ACCT "000000000000"

static char dir[256];
static evb_store_t *store;
static evb_bus_service_t *svc;
static evb_queue_service_t *queues;
static evb_apidest_invoker_t *inv;
static evb_delivery_t *dv;
static evb_http_server_t *receiver;
static char dest_arn[512];

static unsigned answer = 503;
static int hits;

static void on_request(void *ud, const evb_http_request_t *req,
                       evb_http_response_t *resp) {
    (void)ud;
    (void)req;
    __atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST);
    resp->status = __atomic_load_n(&answer, __ATOMIC_SEQ_CST);
    evb_buf_append(&resp->body, "{}", 2);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/evb-delivery-retry-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char err[512];
    evb_store_opts_t o = {.dir = dir, .no_sync = true};
    if (evb_store_open(&o, &store, err, sizeof err) ||
        evb_bus_service_open(NULL, store, &svc, err, sizeof err) ||
        evb_queue_service_new(store, "us-east-1", ACCT, &queues) !=
            EVB_QUEUE_ERR_OK)
        return -1;
    evb_apidest_scope_t sc = {store, ACCT, "us-east-1"};
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
    json_error_t je;
    json_t *req = json_loads(
        "{\"Name\":\"c\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
        "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"k\",\"ApiKeyValue\":"
        "\"v\"}}}",
        0, &je);
    json_t *resp = NULL;
    if (!req || evb_apidest_connection_create(&sc, req, &resp, err, sizeof err))
        return -1;
    char body[1024];
    snprintf(body, sizeof body,
             "{\"Name\":\"d\",\"ConnectionArn\":\"%s\",\"InvocationEndpoint\":"
             "\"http://127.0.0.1:%u/hook\",\"HttpMethod\":\"POST\","
             "\"InvocationRateLimitPerSecond\":10000}",
             json_string_value(json_object_get(resp, "ConnectionArn")),
             evb_http_server_port(receiver));
    json_decref(req);
    json_decref(resp);
    req = json_loads(body, 0, &je);
    if (!req ||
        evb_apidest_destination_create(&sc, req, &resp, err, sizeof err))
        return -1;
    snprintf(dest_arn, sizeof dest_arn, "%s",
             json_string_value(json_object_get(resp, "ApiDestinationArn")));
    json_decref(req);
    json_decref(resp);
    if (evb_queue_create(queues, "dlq", NULL, 0, err, sizeof err) !=
        EVB_QUEUE_ERR_OK)
        return -1;
    return 0;
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

/* A rule for source `source` with one target on the destination. */
static void rule(const char *source, const char *retry_policy) {
    char err[512], pattern[128], spec[1024];
    snprintf(pattern, sizeof pattern, "{\"source\":[\"%s\"]}", source);
    evb_rule_info_t r = {0};
    r.bus = "default";
    r.name = (char *)source;
    r.event_pattern = pattern;
    assert_int_equal(evb_rule_put(svc, &r, NULL, err, sizeof err), EVB_ERR_OK);
    snprintf(spec, sizeof spec,
             "{\"Id\":\"t\",\"Arn\":\"%s\",\"RetryPolicy\":%s,"
             "\"DeadLetterConfig\":{\"Arn\":\"arn:aws:sqs:us-east-1:" ACCT
             ":dlq\"}}",
             dest_arn, retry_policy);
    evb_target_info_t t = {"t", dest_arn, spec};
    evb_target_failure_t *f = NULL;
    size_t nf = 0;
    assert_int_equal(evb_targets_put(svc, "default", source, &t, 1, &f, &nf,
                                     err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(nf, 0);
}

static void put(const char *source, int n) {
    for (int i = 0; i < n; i++) {
        evb_put_entry_t e = {0};
        e.source = source;
        e.detail_type = "t";
        e.detail = "{}";
        e.detail_len = 2;
        evb_put_result_t r;
        size_t failed;
        char err[256];
        assert_int_equal(
            evb_bus_put_events(svc, &e, 1, &r, &failed, err, sizeof err),
            EVB_ERR_OK);
        assert_int_equal(failed, 0);
    }
}

static void run(void) {
    size_t done;
    char err[256];
    assert_int_equal(evb_delivery_run_once(dv, &done, err, sizeof err),
                     EVB_ERR_OK);
}

/* Run sql on the writer (the test's clock: rows made due, events aged). */
static evb_err_t exec_sql(sqlite3 *db, void *arg, char *errstr, size_t sz) {
    if (sqlite3_exec(db, arg, NULL, NULL, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, arg, errstr, sz);
    return EVB_ERR_OK;
}

static void sql(const char *s) {
    char err[256];
    assert_int_equal(
        evb_store_write(store, exec_sql, (void *)s, err, sizeof err),
        EVB_ERR_OK);
}

typedef struct rows {
    int n;
    int attempts[64];
    int64_t next[64];
} rows_t;

static evb_err_t read_rows(sqlite3 *db, void *arg, char *errstr, size_t sz) {
    rows_t *r = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT attempts, next_attempt_ms FROM deliveries "
                           "ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "rows", errstr, sz);
    while (sqlite3_step(st) == SQLITE_ROW && r->n < 64) {
        r->attempts[r->n] = sqlite3_column_int(st, 0);
        r->next[r->n++] = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

static rows_t rows(void) {
    rows_t r = {0};
    char err[256];
    assert_int_equal(evb_store_read(store, read_rows, &r, err, sizeof err),
                     EVB_ERR_OK);
    return r;
}

/* The message attributes of the dead letters, oldest first (a JSON
 * array of the stored attribute objects). */
static evb_err_t read_dlq(sqlite3 *db, void *arg, char *errstr, size_t sz) {
    json_t *out = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT attributes FROM queue_messages WHERE "
                           "queue = 'dlq' ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "dlq", errstr, sz);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        json_array_append_new(
            out, json_loads(t ? t : "null", JSON_DECODE_ANY, NULL));
    }
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

static json_t *dead_letters(void) {
    json_t *a = json_array();
    char err[256];
    assert_int_equal(evb_store_read(store, read_dlq, a, err, sizeof err),
                     EVB_ERR_OK);
    return a;
}

/* attrs[name].StringValue */
static const char *attr(const json_t *attrs, const char *name) {
    return json_string_value(
        json_object_get(json_object_get(attrs, name), "StringValue"));
}

static void backoff_doubles_to_five_minutes_with_jitter(void **state) {
    (void)state;
    enum { M = 16, PASSES = 12 };
    rule("sched", "{\"MaximumRetryAttempts\":185,"
                  "\"MaximumEventAgeInSeconds\":86400}");
    answer = 503;
    hits = 0;
    put("sched", M);
    for (int k = 1; k <= PASSES; k++) {
        int64_t before = now_ms();
        run();
        int64_t after = now_ms();
        rows_t r = rows();
        assert_int_equal(r.n, M); /* every one rescheduled */
        int64_t d = 1000;
        for (int i = 1; i < k; i++)
            d = d * 2 > 300000 ? 300000 : d * 2;
        int64_t lo = INT64_MAX, hi = 0;
        for (int i = 0; i < M; i++) {
            assert_int_equal(r.attempts[i], k);
            /* settled between before and after: backoff in [d/2, d] */
            int64_t longest = r.next[i] - before, shortest = r.next[i] - after;
            if (longest < d / 2 || shortest > d)
                fail_msg("attempt %d: retry in %lld..%lld ms, want %lld..%lld",
                         k, (long long)shortest, (long long)longest,
                         (long long)(d / 2), (long long)d);
            lo = r.next[i] < lo ? r.next[i] : lo;
            hi = r.next[i] > hi ? r.next[i] : hi;
        }
        /* jitter: the retries of a burst spread over the interval */
        if (d >= 8000 && hi - lo < d / 20)
            fail_msg("attempt %d: %d retries within %lld ms of each other", k,
                     M, (long long)(hi - lo));
        /* not due yet: a pass does nothing */
        run();
        assert_int_equal(hits, M * k);
        sql("UPDATE deliveries SET next_attempt_ms = 0");
    }
    json_t *dl = dead_letters();
    assert_int_equal(json_array_size(dl), 0);
    json_decref(dl);
    sql("DELETE FROM deliveries");
}

static void age_limit_dead_letters_with_its_condition(void **state) {
    (void)state;
    rule("aged", "{\"MaximumRetryAttempts\":185,"
                 "\"MaximumEventAgeInSeconds\":60}");
    answer = 503;
    hits = 0;
    put("aged", 1);
    run(); /* young: retried */
    rows_t r = rows();
    assert_int_equal(r.n, 1);
    assert_int_equal(r.attempts[0], 1);
    /* 59.5 s old: the next retry (1 s or more away) would be past 60 s */
    sql("UPDATE events SET ingested_ms = ingested_ms - 59500");
    sql("UPDATE deliveries SET next_attempt_ms = 0");
    run();
    assert_int_equal(hits, 2);
    assert_int_equal(rows().n, 0);
    json_t *dl = dead_letters();
    assert_int_equal(json_array_size(dl), 1);
    json_t *a = json_array_get(dl, 0);
    assert_string_equal(attr(a, "EXHAUSTED_RETRY_CONDITION"),
                        "MaximumEventAgeInSeconds");
    assert_string_equal(attr(a, "RETRY_ATTEMPTS"), "1");
    assert_string_equal(attr(a, "ERROR_CODE"), "HTTP_ERROR");
    assert_non_null(strstr(attr(a, "ERROR_MESSAGE"), "503"));
    assert_string_equal(attr(a, "TARGET_ARN"), dest_arn);
    assert_string_equal(attr(a, "RULE_ARN"),
                        "arn:aws:events:us-east-1:" ACCT ":rule/aged");
    json_decref(dl);
    sql("DELETE FROM queue_messages");
}

static void throttling_is_retried(void **state) {
    (void)state;
    rule("busy", "{\"MaximumRetryAttempts\":1}");
    answer = 429;
    hits = 0;
    put("busy", 1);
    run();
    rows_t r = rows();
    assert_int_equal(r.n, 1); /* rescheduled */
    sql("UPDATE deliveries SET next_attempt_ms = 0");
    run();
    assert_int_equal(hits, 2);
    assert_int_equal(rows().n, 0);
    json_t *dl = dead_letters();
    assert_int_equal(json_array_size(dl), 1);
    json_t *a = json_array_get(dl, 0);
    assert_string_equal(attr(a, "ERROR_CODE"), "THROTTLING");
    assert_string_equal(attr(a, "EXHAUSTED_RETRY_CONDITION"),
                        "MaximumRetryAttempts");
    assert_string_equal(attr(a, "RETRY_ATTEMPTS"), "1");
    json_decref(dl);
    sql("DELETE FROM queue_messages");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff_doubles_to_five_minutes_with_jitter),
        cmocka_unit_test(age_limit_dead_letters_with_its_condition),
        cmocka_unit_test(throttling_is_retried),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
