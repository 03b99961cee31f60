/* test_metrics.c: the metrics registry and its Prometheus text format. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/metrics.h"

static char *render(evb_metrics_t *r, evb_buf_t *b) {
    evb_buf_init(b, 0);
    assert_int_equal(evb_metrics_render(r, b), EVB_ERR_OK);
    return b->data ? b->data : "";
}

static void counter_text_format(void **state) {
    (void)state;
    evb_metrics_t *r = evb_metrics_new();
    static const char *const labels[] = {"bus", "rule", NULL};
    evb_metric_family_t *f =
        evb_metrics_family(r, EVB_METRIC_COUNTER, "evbus_x_total",
                           "Things that happened.", labels, NULL, 0);
    assert_non_null(f);
    evb_metric_inc(evb_metric_series2(f, "default", "r1"), 2);
    evb_metric_inc(evb_metric_series2(f, "orders", "r2"), 5);
    evb_metric_inc(evb_metric_series2(f, "default", "r1"), 1);
    /* a family without series is left out */
    assert_non_null(evb_metrics_family(r, EVB_METRIC_GAUGE, "evbus_empty",
                                       "none", NULL, NULL, 0));
    evb_buf_t b;
    assert_string_equal(render(r, &b),
                        "# HELP evbus_x_total Things that happened.\n"
                        "# TYPE evbus_x_total counter\n"
                        "evbus_x_total{bus=\"default\",rule=\"r1\"} 3\n"
                        "evbus_x_total{bus=\"orders\",rule=\"r2\"} 5\n");
    evb_buf_free(&b);
    assert_int_equal(evb_metric_count(evb_metric_series2(f, "default", "r1")),
                     3);
    evb_metrics_free(r);
}

static void escaping(void **state) {
    (void)state;
    evb_metrics_t *r = evb_metrics_new();
    static const char *const labels[] = {"v", NULL};
    evb_metric_family_t *f = evb_metrics_family(
        r, EVB_METRIC_COUNTER, "c", "back\\slash and\nnewline \"quoted\"",
        labels, NULL, 0);
    evb_metric_inc(evb_metric_series1(f, "a\"b\\c\nd"), 1);
    evb_metric_inc(evb_metric_series1(f, NULL), 1); /* NULL reads as "" */
    evb_buf_t b;
    assert_string_equal(render(r, &b),
                        "# HELP c back\\\\slash and\\nnewline \"quoted\"\n"
                        "# TYPE c counter\n"
                        "c{v=\"a\\\"b\\\\c\\nd\"} 1\n"
                        "c{v=\"\"} 1\n");
    evb_buf_free(&b);
    evb_metrics_free(r);
}

static void gauge_and_numbers(void **state) {
    (void)state;
    evb_metrics_t *r = evb_metrics_new();
    evb_metric_family_t *f =
        evb_metrics_family(r, EVB_METRIC_GAUGE, "g", "A gauge.", NULL, NULL, 0);
    evb_metric_t *m = evb_metric_series0(f);
    evb_metric_set(m, 0.1);
    evb_metric_add(m, 0.2);
    evb_metric_add(m, -0.3);
    evb_metric_set(m, 1.5);
    evb_metric_add(m, 1);
    assert_true(evb_metric_value(m) == 2.5);
    evb_buf_t b;
    assert_string_equal(render(r, &b),
                        "# HELP g A gauge.\n# TYPE g gauge\ng 2.5\n");
    evb_buf_free(&b);
    evb_metric_set(m, 0.1);
    assert_string_equal(render(r, &b),
                        "# HELP g A gauge.\n# TYPE g gauge\ng 0.1\n");
    evb_buf_free(&b);
    evb_metric_set(m, INFINITY);
    assert_non_null(strstr(render(r, &b), "\ng +Inf\n"));
    evb_buf_free(&b);
    evb_metric_set(m, -INFINITY);
    assert_non_null(strstr(render(r, &b), "\ng -Inf\n"));
    evb_buf_free(&b);
    evb_metric_set(m, NAN);
    assert_non_null(strstr(render(r, &b), "\ng NaN\n"));
    evb_buf_free(&b);
    evb_metric_set(m, 1e21);
    assert_non_null(strstr(render(r, &b), "\ng 1e+21\n"));
    evb_buf_free(&b);
    /* a counter update on a gauge is ignored */
    evb_metric_inc(m, 1);
    evb_metrics_free(r);
}

static void histogram_text_format(void **state) {
    (void)state;
    evb_metrics_t *r = evb_metrics_new();
    static const char *const labels[] = {"target", NULL};
    static const double bounds[] = {0.005, 0.1, 1};
    evb_metric_family_t *f = evb_metrics_family(
        r, EVB_METRIC_HISTOGRAM, "lat_seconds", "Latency.", labels, bounds, 3);
    assert_non_null(f);
    evb_metric_t *m = evb_metric_series1(f, "t1");
    evb_metric_observe(m, 0.001);
    evb_metric_observe(m, 0.005); /* on a bound: that bucket (le) */
    evb_metric_observe(m, 0.05);
    evb_metric_observe(m, 0.5);
    evb_metric_observe(m, 7);
    evb_metric_observe(m, NAN); /* ignored */
    assert_int_equal(evb_metric_count(m), 5);
    assert_int_equal(evb_metric_bucket(m, 0), 2);
    assert_int_equal(evb_metric_bucket(m, 3), 5);
    evb_buf_t b;
    assert_string_equal(render(r, &b),
                        "# HELP lat_seconds Latency.\n"
                        "# TYPE lat_seconds histogram\n"
                        "lat_seconds_bucket{target=\"t1\",le=\"0.005\"} 2\n"
                        "lat_seconds_bucket{target=\"t1\",le=\"0.1\"} 3\n"
                        "lat_seconds_bucket{target=\"t1\",le=\"1\"} 4\n"
                        "lat_seconds_bucket{target=\"t1\",le=\"+Inf\"} 5\n"
                        "lat_seconds_sum{target=\"t1\"} 7.556\n"
                        "lat_seconds_count{target=\"t1\"} 5\n");
    evb_buf_free(&b);

    /* no labels: le alone */
    evb_metric_family_t *u = evb_metrics_family(
        r, EVB_METRIC_HISTOGRAM, "units", "Units.", NULL, bounds, 1);
    evb_metric_observe(evb_metric_series0(u), 3);
    const char *text = render(r, &b);
    assert_non_null(strstr(text, "\nunits_bucket{le=\"0.005\"} 0\n"
                                 "units_bucket{le=\"+Inf\"} 1\n"
                                 "units_sum 3\nunits_count 1\n"));
    evb_buf_free(&b);
    evb_metrics_free(r);
}

static void registration_rules(void **state) {
    (void)state;
    evb_metrics_t *r = evb_metrics_new();
    static const char *const ab[] = {"a", "b", NULL};
    static const char *const ac[] = {"a", "c", NULL};
    static const char *const le[] = {"le", NULL};
    static const char *const bad[] = {"0x", NULL};
    static const char *const reserved[] = {"__name", NULL};
    static const char *const five[] = {"a", "b", "c", "d", "e", NULL};
    evb_metric_family_t *f =
        evb_metrics_family(r, EVB_METRIC_COUNTER, "n", "", ab, NULL, 0);
    assert_non_null(f);
    /* the same again: the same family */
    assert_ptr_equal(
        evb_metrics_family(r, EVB_METRIC_COUNTER, "n", "", ab, NULL, 0), f);
    /* another type or other labels: refused */
    assert_null(evb_metrics_family(r, EVB_METRIC_GAUGE, "n", "", ab, NULL, 0));
    assert_null(
        evb_metrics_family(r, EVB_METRIC_COUNTER, "n", "", ac, NULL, 0));
    assert_null(
        evb_metrics_family(r, EVB_METRIC_COUNTER, "n", "", NULL, NULL, 0));
    /* names */
    assert_null(
        evb_metrics_family(r, EVB_METRIC_COUNTER, "9lives", "", NULL, NULL, 0));
    assert_null(
        evb_metrics_family(r, EVB_METRIC_COUNTER, "a-b", "", NULL, NULL, 0));
    assert_null(
        evb_metrics_family(r, EVB_METRIC_COUNTER, "", "", NULL, NULL, 0));
    assert_non_null(evb_metrics_family(r, EVB_METRIC_COUNTER, "ns:sub_x", "",
                                       NULL, NULL, 0));
    assert_null(
        evb_metrics_family(r, EVB_METRIC_COUNTER, "x1", "", bad, NULL, 0));
    assert_null(
        evb_metrics_family(r, EVB_METRIC_COUNTER, "x2", "", reserved, NULL, 0));
    assert_null(
        evb_metrics_family(r, EVB_METRIC_COUNTER, "x3", "", five, NULL, 0));
    /* histograms: no "le" label, increasing bounds */
    static const double down[] = {1, 0.5};
    assert_null(
        evb_metrics_family(r, EVB_METRIC_HISTOGRAM, "h1", "", le, NULL, 0));
    assert_null(
        evb_metrics_family(r, EVB_METRIC_HISTOGRAM, "h2", "", NULL, down, 2));
    assert_non_null(
        evb_metrics_family(r, EVB_METRIC_COUNTER, "x4", "", le, NULL, 0));
    /* NULL everywhere is harmless */
    assert_null(evb_metric_series1(NULL, "x"));
    evb_metric_inc(NULL, 1);
    evb_metric_set(NULL, 1);
    evb_metric_add(NULL, 1);
    evb_metric_observe(NULL, 1);
    assert_int_equal(evb_metric_count(NULL), 0);
    assert_null(
        evb_metrics_family(NULL, EVB_METRIC_COUNTER, "y", "", NULL, NULL, 0));
    evb_metrics_free(r);
    evb_metrics_free(NULL);
}

static void series_overflow(void **state) {
    (void)state;
    evb_metrics_t *r = evb_metrics_new();
    static const char *const l[] = {"id", NULL};
    evb_metric_family_t *f =
        evb_metrics_family(r, EVB_METRIC_COUNTER, "many", "", l, NULL, 0);
    char v[32];
    for (int i = 0; i < EVB_METRICS_MAX_SERIES + 50; i++) {
        snprintf(v, sizeof v, "s%d", i);
        evb_metric_inc(evb_metric_series1(f, v), 1);
    }
    /* existing series are still themselves */
    assert_int_equal(evb_metric_count(evb_metric_series1(f, "s0")), 1);
    evb_metric_t *ov = evb_metric_series1(f, "brand-new");
    assert_int_equal(evb_metric_count(ov), 50);
    evb_buf_t b;
    const char *text = render(r, &b);
    assert_non_null(strstr(text, "many{id=\"__overflow__\"} 50\n"));
    evb_buf_free(&b);
    evb_metrics_free(r);
}

typedef struct worker_arg {
    evb_metric_family_t *c, *h;
    int id;
} worker_arg_t;

#define THREADS 4
#define ROUNDS 20000
#define SERIES 40

static void *worker(void *p) {
    worker_arg_t *a = p;
    char v[16];
    for (int i = 0; i < ROUNDS; i++) {
        snprintf(v, sizeof v, "k%d", (i * 7 + a->id) % SERIES);
        evb_metric_inc(evb_metric_series1(a->c, v), 1);
        evb_metric_observe(evb_metric_series1(a->h, v), 0.5);
    }
    return NULL;
}

static void concurrent_updates(void **state) {
    (void)state;
    evb_metrics_t *r = evb_metrics_new();
    static const char *const l[] = {"k", NULL};
    static const double bounds[] = {1};
    worker_arg_t args[THREADS];
    pthread_t th[THREADS];
    evb_metric_family_t *c =
        evb_metrics_family(r, EVB_METRIC_COUNTER, "c", "", l, NULL, 0);
    evb_metric_family_t *h =
        evb_metrics_family(r, EVB_METRIC_HISTOGRAM, "h", "", l, bounds, 1);
    for (int i = 0; i < THREADS; i++) {
        args[i] = (worker_arg_t){c, h, i};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    uint64_t total = 0, htotal = 0;
    double hsum = 0;
    char v[16];
    for (int k = 0; k < SERIES; k++) {
        snprintf(v, sizeof v, "k%d", k);
        total += evb_metric_count(evb_metric_series1(c, v));
        htotal += evb_metric_bucket(evb_metric_series1(h, v), 0);
        hsum += evb_metric_value(evb_metric_series1(h, v));
    }
    assert_int_equal(total, (uint64_t)THREADS * ROUNDS);
    assert_int_equal(htotal, (uint64_t)THREADS * ROUNDS);
    assert_true(hsum == 0.5 * THREADS * ROUNDS);
    evb_metrics_free(r);
}

static int collected;
static void collect(void *ud) {
    collected++;
    evb_metric_set(evb_metric_series0(ud), collected);
}

static void collectors(void **state) {
    (void)state;
    evb_metrics_t *r = evb_metrics_new();
    evb_metric_family_t *g =
        evb_metrics_family(r, EVB_METRIC_GAUGE, "depth", "", NULL, NULL, 0);
    assert_int_equal(evb_metrics_add_collector(r, collect, g), EVB_ERR_OK);
    evb_buf_t b;
    assert_non_null(strstr(render(r, &b), "\ndepth 1\n"));
    evb_buf_free(&b);
    assert_non_null(strstr(render(r, &b), "\ndepth 2\n"));
    evb_buf_free(&b);
    evb_metrics_remove_collector(r, collect, g);
    assert_non_null(strstr(render(r, &b), "\ndepth 2\n"));
    evb_buf_free(&b);
    assert_int_equal(collected, 2);
    evb_metrics_free(r);
}

static void catalogue(void **state) {
    (void)state;
    evb_metrics_init();
    evb_metrics_put_events_request();
    evb_metrics_put_events_entry("orders");
    evb_metrics_put_events_entry("orders");
    evb_metrics_put_events_failed_entry("MalformedDetail");
    evb_metrics_matched_event("orders");
    evb_metrics_triggered_rule("orders", "big");
    evb_metrics_invocation_t ok = {
        .attempted = true, .final = true, .success_latency_s = 0.003};
    evb_metrics_invocation("orders", "big", "q1", &ok);
    evb_metrics_invocation_t retry = {
        .attempted = true, .retry = true, .success_latency_s = -1};
    evb_metrics_invocation("orders", "big", "q1", &retry);
    evb_metrics_invocation_t dlq = {.attempted = true,
                                    .final = true,
                                    .failed = true,
                                    .sent_to_dlq = true,
                                    .success_latency_s = -1};
    evb_metrics_invocation("orders", "big", "q1", &dlq);
    evb_metrics_store_commit(12, 0.002);
    evb_metrics_pipe_records("p1", 10);
    evb_metrics_pipe_consumer_lag("p1", "topic", 3, 42);
    evb_buf_t b;
    const char *t = render(evb_metrics_default(), &b);
    const char *want[] = {
        "# TYPE evbus_put_events_requests_total counter\n"
        "evbus_put_events_requests_total 1\n",
        "evbus_put_events_entries_total{bus=\"orders\"} 2\n",
        "evbus_put_events_failed_entries_total{error_code=\"MalformedDetail\"} "
        "1\n",
        "evbus_matched_events_total{bus=\"orders\"} 1\n",
        "evbus_triggered_rules_total{bus=\"orders\",rule=\"big\"} 1\n",
        "evbus_invocations_total{bus=\"orders\",rule=\"big\",target=\"q1\"} "
        "2\n",
        "evbus_invocation_attempts_total{bus=\"orders\",rule=\"big\",target="
        "\"q1\"} 3\n",
        "evbus_retry_invocation_attempts_total{bus=\"orders\",rule=\"big\","
        "target=\"q1\"} 1\n",
        "evbus_invocations_sent_to_dlq_total{bus=\"orders\",rule=\"big\","
        "target=\"q1\"} 1\n",
        "evbus_ingestion_to_invocation_success_latency_seconds_bucket{bus="
        "\"orders\",rule=\"big\",target=\"q1\",le=\"0.0025\"} 0\n"
        "evbus_ingestion_to_invocation_success_latency_seconds_bucket{bus="
        "\"orders\",rule=\"big\",target=\"q1\",le=\"0.005\"} 1\n",
        "evbus_store_group_commit_units_sum 12\n",
        "evbus_store_commit_seconds_count 1\n",
        "evbus_pipe_records_total{pipe=\"p1\"} 10\n",
        "evbus_pipe_consumer_lag{pipe=\"p1\",topic=\"topic\",partition=\"3\"} "
        "42\n",
        "evbus_tail_dropped_total 0\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(t, want[i]))
            fail_msg("missing from the exposition: %s\n--- got:\n%s", want[i],
                     t);
    /* a failure sent to the DLQ is not a FailedInvocation */
    assert_null(strstr(t, "evbus_failed_invocations_total{"));
    evb_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counter_text_format),
        cmocka_unit_test(escaping),
        cmocka_unit_test(gauge_and_numbers),
        cmocka_unit_test(histogram_text_format),
        cmocka_unit_test(registration_rules),
        cmocka_unit_test(series_overflow),
        cmocka_unit_test(concurrent_updates),
        cmocka_unit_test(collectors),
        cmocka_unit_test(catalogue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
