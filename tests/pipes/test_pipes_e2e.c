/* test_pipes_e2e.c: pipes end to end, from an in-process Kafka cluster
 * (librdkafka's mock) to every kind of target:
 * - a topic to the default bus, routed by a rule to a log group: the
 *   record shape of §6.2 arrives as the event's detail, source "Pipe
 *   NAME", detail-type "Event from aws:kafka", order kept per partition;
 * - a filter (§6.3) and an input template (§6.5) with dynamic
 *   EventBridgeEventBusParameters;
 * - an enrichment through an API destination (an HTTP receiver in this
 *   process): its answer replaces the payload, an empty answer filters the
 *   record out, an array answer becomes several events;
 * - an API-destination target with dynamic HttpParameters, a queue target,
 *   a log-group target with CloudWatchLogsParameters, and a Kafka-topic
 *   target through the hook.
 * All pipes are created together so their consumer groups join at once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/http.h"
#include "metrics/metrics.h"
#include "support/pipes_env.h"

static evb_test_pipes_t env;
static evb_http_server_t *receiver;
static char dest_enrich[512], dest_target[512];

/* ---- the HTTP receiver ----------------------------------------------------- */

static pthread_mutex_t rmu = PTHREAD_MUTEX_INITIALIZER;
static json_t *target_calls; /* [{"body":..., "x-id":...}] */

static void on_request(void *ud, const evb_http_request_t *req,
                       evb_http_response_t *resp) {
    (void)ud;
    resp->status = 200;
    if (strncmp(req->path, "/enrich", 7) == 0) {
        /* {"id": n}: n%3 == 0 filtered, 1 one event, 2 two events */
        json_t *b = json_loadb(req->body, req->body_len, 0, NULL);
        long long id = json_integer_value(json_object_get(b, "id"));
        char out[256] = "";
        if (id % 3 == 1)
            snprintf(out, sizeof out, "{\"id\":%lld,\"enriched\":true}", id);
        else if (id % 3 == 2)
            snprintf(out, sizeof out,
                     "[{\"id\":%lld,\"part\":1},{\"id\":%lld,\"part\":2}]", id,
                     id);
        evb_buf_append(&resp->body, out, strlen(out));
        json_decref(b);
        return;
    }
    if (strncmp(req->path, "/target", 7) == 0) {
        const char *h = evb_http_request_header(req, "x-id");
        pthread_mutex_lock(&rmu);
        json_t *c = json_object();
        json_object_set_new(c, "body", json_stringn(req->body, req->body_len));
        json_object_set_new(c, "x-id", json_string(h ? h : ""));
        json_array_append_new(target_calls, c);
        pthread_mutex_unlock(&rmu);
        evb_buf_append(&resp->body, "{}", 2);
        return;
    }
    resp->status = 404;
}

/* ---- the Kafka target hook ------------------------------------------------- */

static json_t *kafka_items; /* payload strings */

static evb_err_t kafka_hook(void *ud, const char *target_arn,
                            const evb_pipe_kafka_item_t *items, size_t n,
                            char *errstr, size_t errstr_size) {
    (void)ud;
    (void)errstr;
    (void)errstr_size;
    if (!strstr(target_arn, ":topic/"))
        return EVB_ERR_INVALID_ARG;
    pthread_mutex_lock(&rmu);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(kafka_items,
                              json_stringn(items[i].payload, items[i].len));
    pthread_mutex_unlock(&rmu);
    return EVB_ERR_OK;
}

static void make_destination(const char *name, const char *path, char *arn,
                             size_t arn_size) {
    evb_apidest_scope_t sc = {env.store, "000000000000", "us-east-1"};
    char body[1024], err[512];
    snprintf(body, sizeof body,
             "{\"Name\":\"c-%s\",\"AuthorizationType\":\"API_KEY\","
             "\"AuthParameters\":{\"ApiKeyAuthParameters\":{\"ApiKeyName\":"
             "\"x-api-key\",\"ApiKeyValue\":\"k\"}}}",
             name);
    json_t *req = json_loads(body, 0, NULL), *resp = NULL;
    assert_int_equal(
        evb_apidest_connection_create(&sc, req, &resp, err, sizeof err), 0);
    char conn[512];
    snprintf(conn, sizeof conn, "%s",
             json_string_value(json_object_get(resp, "ConnectionArn")));
    json_decref(req);
    json_decref(resp);
    snprintf(body, sizeof body,
             "{\"Name\":\"%s\",\"ConnectionArn\":\"%s\",\"InvocationEndpoint\":"
             "\"http://127.0.0.1:%u%s\",\"HttpMethod\":\"POST\"}",
             name, conn, evb_http_server_port(receiver), path);
    req = json_loads(body, 0, NULL);
    assert_int_equal(
        evb_apidest_destination_create(&sc, req, &resp, err, sizeof err), 0);
    snprintf(arn, arn_size, "%s",
             json_string_value(json_object_get(resp, "ApiDestinationArn")));
    json_decref(req);
    json_decref(resp);
}

static void add_rule(const char *name, const char *pattern,
                     const char *group) {
    evb_rule_info_t r = {0};
    r.bus = "default";
    r.name = (char *)name;
    r.event_pattern = (char *)pattern;
    char err[512];
    assert_int_equal(evb_rule_put(env.bus, &r, NULL, err, sizeof err), 0);
    char arn[256], spec[512];
    snprintf(arn, sizeof arn,
             "arn:aws:logs:us-east-1:000000000000:log-group:%s", group);
    snprintf(spec, sizeof spec, "{\"Id\":\"l\",\"Arn\":\"%s\"}", arn);
    evb_target_info_t t = {"l", arn, spec};
    evb_target_failure_t *f = NULL;
    size_t nf = 0;
    assert_int_equal(
        evb_targets_put(env.bus, "default", name, &t, 1, &f, &nf, err,
                        sizeof err),
        0);
    evb_target_failures_free(f, nf);
}

static void produce_json(const char *topic, int partition, const char *fmt,
                         ...) __attribute__((format(printf, 3, 4)));
static void produce_json(const char *topic, int partition, const char *fmt,
                         ...) {
    char v[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    assert_int_equal(evb_test_kafka_produce(env.kafka, topic, partition, "k",
                                            1, v, strlen(v), "h", "hv"),
                     0);
}

static int setup(void **state) {
    (void)state;
    target_calls = json_array();
    kafka_items = json_array();
    if (evb_test_pipes_open(&env, kafka_hook, NULL))
        return -1;
    evb_http_config_t hc = evb_http_config_default();
    hc.host = "127.0.0.1";
    char err[256];
    if (evb_http_server_start(&hc, on_request, NULL, &receiver, err,
                              sizeof err))
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    evb_test_pipes_close(&env);
    evb_http_server_stop(receiver);
    json_decref(target_calls);
    json_decref(kafka_items);
    return 0;
}

#define SMK "smk://%s"
#define ROLE "arn:aws:iam::000000000000:role/pipes"

static void test_everything(void **state) {
    (void)state;
    const char *bs = evb_test_kafka_bootstrap(env.kafka);
    const char *topics[] = {"ta", "tb", "tc", "td", "te", "tf", "tg"};
    for (size_t i = 0; i < EVB_ARRAY_LEN(topics); i++)
        assert_int_equal(evb_test_kafka_topic(env.kafka, topics[i], 2), 0);
    add_rule("from-pa", "{\"source\":[\"Pipe pa\"]}", "/pipes/a");
    add_rule("from-pb", "{\"source\":[\"orders.app\"]}", "/pipes/b");
    make_destination("enrich", "/enrich", dest_enrich, sizeof dest_enrich);
    make_destination("target", "/target", dest_target, sizeof dest_target);
    char err[256];
    assert_int_equal(evb_queue_create(env.queues, "pq", NULL, 0, err,
                                      sizeof err),
                     EVB_QUEUE_ERR_OK);

    /* pa: plain, to the bus */
    assert_int_equal(
        evb_test_pipe_create(
            &env, "pa",
            "{\"Source\":\"" SMK "\",\"SourceParameters\":{"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"ta\","
            "\"StartingPosition\":\"TRIM_HORIZON\",\"BatchSize\":10}},"
            "\"Target\":\"arn:aws:events:us-east-1:000000000000:event-bus/"
            "default\",\"RoleArn\":\"" ROLE "\"}",
            bs),
        0);
    /* pb: filter, template, dynamic bus parameters */
    assert_int_equal(
        evb_test_pipe_create(
            &env, "pb",
            "{\"Source\":\"" SMK "\",\"SourceParameters\":{"
            "\"FilterCriteria\":{\"Filters\":[{\"Pattern\":"
            "\"{\\\"value\\\":{\\\"kind\\\":[\\\"keep\\\"]}}\"}]},"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"tb\","
            "\"StartingPosition\":\"TRIM_HORIZON\"}},"
            "\"Target\":\"arn:aws:events:us-east-1:000000000000:event-bus/"
            "default\",\"TargetParameters\":{\"InputTemplate\":"
            "\"{\\\"id\\\": <$.value.id>, \\\"pipe\\\": "
            "<aws.pipes.pipe-name>, \\\"who\\\": \\\"user "
            "<$.value.user.name>\\\"}\",\"EventBridgeEventBusParameters\":{"
            "\"Source\":\"orders.app\",\"DetailType\":\"$.value.kind\","
            "\"Resources\":[\"$.value.arn\"]}},\"RoleArn\":\"" ROLE "\"}",
            bs),
        0);
    /* pc: enrichment, to a log group */
    assert_int_equal(
        evb_test_pipe_create(
            &env, "pc",
            "{\"Source\":\"" SMK "\",\"SourceParameters\":{"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"tc\","
            "\"StartingPosition\":\"TRIM_HORIZON\"}},\"Enrichment\":\"%s\","
            "\"EnrichmentParameters\":{\"InputTemplate\":\"{\\\"id\\\": "
            "<$.value.id>}\"},\"Target\":\"arn:aws:logs:us-east-1:"
            "000000000000:log-group:/pipes/c\",\"TargetParameters\":{"
            "\"CloudWatchLogsParameters\":{\"LogStreamName\":\"enriched\"}},"
            "\"RoleArn\":\"" ROLE "\"}",
            bs, dest_enrich),
        0);
    /* pd: API destination target */
    assert_int_equal(
        evb_test_pipe_create(
            &env, "pd",
            "{\"Source\":\"" SMK "\",\"SourceParameters\":{"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"td\","
            "\"StartingPosition\":\"TRIM_HORIZON\"}},\"Target\":\"%s\","
            "\"TargetParameters\":{\"InputTemplate\":\"{\\\"v\\\": "
            "<$.value>}\",\"HttpParameters\":{\"HeaderParameters\":{"
            "\"x-id\":\"$.value.id\"}}},\"RoleArn\":\"" ROLE "\"}",
            bs, dest_target),
        0);
    /* pe: queue target, text template */
    assert_int_equal(
        evb_test_pipe_create(
            &env, "pe",
            "{\"Source\":\"" SMK "\",\"SourceParameters\":{"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"te\","
            "\"StartingPosition\":\"TRIM_HORIZON\"}},\"Target\":\"arn:aws:"
            "sqs:us-east-1:000000000000:pq\",\"TargetParameters\":{"
            "\"InputTemplate\":\"order <$.value.id> of "
            "<aws.pipes.pipe-name>\"},\"RoleArn\":\"" ROLE "\"}",
            bs),
        0);
    /* pf: Kafka topic target (the hook) */
    assert_int_equal(
        evb_test_pipe_create(
            &env, "pf",
            "{\"Source\":\"" SMK "\",\"SourceParameters\":{"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"tf\","
            "\"StartingPosition\":\"TRIM_HORIZON\"}},\"Target\":\"arn:aws:"
            "kafka:us-east-1:000000000000:topic/c/u/out\",\"TargetParameters\":"
            "{\"InputTemplate\":\"{\\\"id\\\": <$.value.id>}\"},"
            "\"RoleArn\":\"" ROLE "\"}",
            bs),
        0);

    /* records */
    for (int i = 0; i < 20; i++)
        produce_json("ta", i % 2, "{\"n\":%d}", i);
    for (int i = 0; i < 10; i++)
        produce_json("tb", 0,
                     "{\"id\":%d,\"kind\":\"%s\",\"user\":{\"name\":\"u%d\"},"
                     "\"arn\":\"arn:aws:x:::r/%d\"}",
                     i, i % 2 ? "skip" : "keep", i, i);
    for (int i = 0; i < 9; i++)
        produce_json("tc", i % 2, "{\"id\":%d}", i);
    for (int i = 0; i < 4; i++)
        produce_json("td", 0, "{\"id\":%d}", i);
    for (int i = 0; i < 5; i++)
        produce_json("te", 1, "{\"id\":%d}", i);
    for (int i = 0; i < 6; i++)
        produce_json("tf", i % 2, "{\"id\":%d}", i);
    assert_int_equal(evb_test_kafka_flush(env.kafka), 0);

    const char *names[] = {"pa", "pb", "pc", "pd", "pe", "pf"};
    for (size_t i = 0; i < EVB_ARRAY_LEN(names); i++)
        assert_true(evb_test_pipe_wait_state(&env, names[i], "RUNNING", 20000));

    /* pa: 20 events on the bus, routed to /pipes/a */
    assert_int_equal(evb_test_wait_logs(&env, "/pipes/a", 20, 20000), 20);
    size_t n;
    char **msgs = evb_test_log_messages(&env, "/pipes/a", &n);
    long long last[2] = {-1, -1};
    for (size_t i = 0; i < n; i++) {
        json_t *ev = json_loads(msgs[i], 0, NULL);
        assert_non_null(ev);
        assert_string_equal(json_string_value(json_object_get(ev, "source")),
                            "Pipe pa");
        assert_string_equal(
            json_string_value(json_object_get(ev, "detail-type")),
            "Event from aws:kafka");
        json_t *d = json_object_get(ev, "detail");
        assert_string_equal(
            json_string_value(json_object_get(d, "eventSource")),
            "SelfManagedKafka");
        assert_string_equal(json_string_value(json_object_get(d, "topic")),
                            "ta");
        assert_string_equal(json_string_value(json_object_get(d, "key")),
                            "aw==");
        assert_string_equal(
            json_string_value(json_object_get(d, "bootstrapServers")), bs);
        /* header "h": "hv" as bytes */
        json_t *h = json_object_get(json_array_get(json_object_get(d, "headers"),
                                                   0),
                                    "h");
        assert_int_equal(json_array_size(h), 2);
        assert_int_equal(json_integer_value(json_array_get(h, 0)), 'h');
        /* order kept per partition */
        int p = (int)json_integer_value(json_object_get(d, "partition"));
        long long off = json_integer_value(json_object_get(d, "offset"));
        assert_true(p == 0 || p == 1);
        assert_true(off > last[p]);
        last[p] = off;
        json_decref(ev);
    }
    evb_test_free_strings(msgs);

    /* pb: 5 kept, transformed */
    assert_int_equal(evb_test_wait_logs(&env, "/pipes/b", 5, 20000), 5);
    msgs = evb_test_log_messages(&env, "/pipes/b", &n);
    for (size_t i = 0; i < n; i++) {
        json_t *ev = json_loads(msgs[i], 0, NULL);
        assert_string_equal(
            json_string_value(json_object_get(ev, "detail-type")), "keep");
        json_t *d = json_object_get(ev, "detail");
        long long id = json_integer_value(json_object_get(d, "id"));
        assert_int_equal(id, (long long)i * 2);
        assert_string_equal(json_string_value(json_object_get(d, "pipe")),
                            "pb");
        char who[32], res[64];
        snprintf(who, sizeof who, "user u%lld", id);
        assert_string_equal(json_string_value(json_object_get(d, "who")), who);
        snprintf(res, sizeof res, "arn:aws:x:::r/%lld", id);
        assert_string_equal(json_string_value(json_array_get(
                                json_object_get(ev, "resources"), 0)),
                            res);
        json_decref(ev);
    }
    evb_test_free_strings(msgs);
    evb_pipe_stats_t st;
    assert_int_equal(evb_pipe_get_stats(env.pipes, "pb", &st), 0);
    assert_int_equal(st.records_filtered, 5);

    /* pc: ids 0..8; 0,3,6 filtered by the empty answer; 1,4,7 one event;
     * 2,5,8 two */
    assert_int_equal(evb_test_wait_logs(&env, "/pipes/c", 9, 20000), 9);
    msgs = evb_test_log_messages(&env, "/pipes/c", &n);
    int parts = 0, enriched = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_loads(msgs[i], 0, NULL);
        long long id = json_integer_value(json_object_get(m, "id"));
        assert_true(id % 3 != 0);
        if (json_object_get(m, "part"))
            parts++;
        if (json_is_true(json_object_get(m, "enriched")))
            enriched++;
        json_decref(m);
    }
    assert_int_equal(parts, 6);
    assert_int_equal(enriched, 3);
    evb_test_free_strings(msgs);
    assert_int_equal(evb_test_sql_int(&env, "SELECT count(*) FROM log_events "
                                            "WHERE grp = '/pipes/c' AND "
                                            "stream = 'enriched'"),
                     9);

    /* pd: 4 calls, body {"v": {...}}, header from the record */
    for (int t = 0; t < 400; t++) {
        pthread_mutex_lock(&rmu);
        size_t have = json_array_size(target_calls);
        pthread_mutex_unlock(&rmu);
        if (have >= 4)
            break;
        evb_test_sleep_ms(50);
    }
    pthread_mutex_lock(&rmu);
    assert_int_equal(json_array_size(target_calls), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *c = json_array_get(target_calls, i);
        char want[64], id[8];
        snprintf(want, sizeof want, "{\"v\": {\"id\":%zu}}", i);
        snprintf(id, sizeof id, "%zu", i);
        assert_string_equal(json_string_value(json_object_get(c, "body")),
                            want);
        assert_string_equal(json_string_value(json_object_get(c, "x-id")), id);
    }
    pthread_mutex_unlock(&rmu);

    /* pe: 5 messages in the queue */
    long long q = 0;
    for (int t = 0; t < 400 && q < 5; t++) {
        q = evb_test_sql_int(&env, "SELECT count(*) FROM queue_messages "
                                   "WHERE queue = 'pq'");
        if (q < 5)
            evb_test_sleep_ms(50);
    }
    assert_int_equal(q, 5);
    assert_int_equal(evb_test_sql_int(&env, "SELECT count(*) FROM "
                                            "queue_messages WHERE body = "
                                            "'order 3 of pe'"),
                     1);

    /* pf: 6 items through the hook */
    size_t k = 0;
    for (int t = 0; t < 400 && k < 6; t++) {
        pthread_mutex_lock(&rmu);
        k = json_array_size(kafka_items);
        pthread_mutex_unlock(&rmu);
        if (k < 6)
            evb_test_sleep_ms(50);
    }
    assert_int_equal(k, 6);

    /* pa read and committed everything of ta: its consumer lag on both
     * partitions is 0, reported within a second or two */
    bool lag0 = false;
    for (int t = 0; t < 100 && !lag0; t++) {
        evb_buf_t m;
        evb_buf_init(&m, 0);
        assert_int_equal(evb_metrics_render(evb_metrics_default(), &m),
                         EVB_ERR_OK);
        lag0 = m.data &&
               strstr(m.data, "evbus_pipe_consumer_lag{pipe=\"pa\",topic="
                              "\"ta\",partition=\"0\"} 0\n") &&
               strstr(m.data, "evbus_pipe_consumer_lag{pipe=\"pa\",topic="
                              "\"ta\",partition=\"1\"} 0\n");
        evb_buf_free(&m);
        if (!lag0)
            evb_test_sleep_ms(50);
    }
    assert_true(lag0);
}

/* Details over PutEvents' size limit (1 MiB for all the entries of a
 * call): the template doubles each record's padding, so records 1 and 3
 * make 600 KB details (fine alone, too much together) and record 2 a
 * 1.2 MB one (too much even alone). The calls holding them are refused
 * as a whole, so the batch goes call by call, then entry by entry; the
 * 1.2 MB one is dropped and counted (as EventBridge drops it), the four
 * others are delivered. */
static void test_oversized_detail(void **state) {
    (void)state;
    const char *bs = evb_test_kafka_bootstrap(env.kafka);
    add_rule("from-pg", "{\"source\":[\"Pipe pg\"]}", "/pipes/g");
    assert_int_equal(
        evb_test_pipe_create(
            &env, "pg",
            "{\"Source\":\"" SMK "\",\"SourceParameters\":{"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"tg\","
            "\"StartingPosition\":\"TRIM_HORIZON\",\"BatchSize\":10,"
            "\"MaximumBatchingWindowInSeconds\":1}},"
            "\"Target\":\"arn:aws:events:us-east-1:000000000000:event-bus/"
            "default\",\"TargetParameters\":{\"InputTemplate\":"
            "\"{\\\"n\\\": <$.value.n>, \\\"a\\\": <$.value.pad>, "
            "\\\"b\\\": <$.value.pad>}\"},"
            "\"RoleArn\":\"" ROLE "\"}",
            bs),
        0);
    assert_true(evb_test_pipe_wait_state(&env, "pg", "RUNNING", 20000));
    static const size_t pads[] = {10, 300 * 1024, 600 * 1024, 300 * 1024,
                                   10};
    char *v = malloc(600 * 1024 + 64);
    assert_non_null(v);
    for (int i = 0; i < 5; i++) {
        int n = snprintf(v, 64, "{\"n\":%d,\"pad\":\"", i);
        size_t len = (size_t)n;
        size_t pad = pads[i];
        memset(v + len, 'x', pad);
        len += pad;
        memcpy(v + len, "\"}", 2);
        len += 2;
        assert_int_equal(evb_test_kafka_produce(env.kafka, "tg", 0, "k", 1, v,
                                                len, NULL, NULL),
                         0);
    }
    free(v);
    assert_int_equal(evb_test_kafka_flush(env.kafka), 0);
    assert_int_equal(evb_test_wait_logs(&env, "/pipes/g", 4, 20000), 4);
    evb_pipe_stats_t st;
    for (int t = 0; t < 200; t++) {
        assert_int_equal(evb_pipe_get_stats(env.pipes, "pg", &st), EVB_ERR_OK);
        if (st.records_out + st.records_invalid >= 5)
            break;
        evb_test_sleep_ms(50);
    }
    assert_int_equal(st.records_out, 4);
    assert_int_equal(st.records_invalid, 1);
    size_t n;
    char **msgs = evb_test_log_messages(&env, "/pipes/g", &n);
    assert_int_equal(n, 4);
    int seen = 0; /* bit per record delivered */
    for (size_t i = 0; i < n; i++) {
        json_t *ev = json_loads(msgs[i], 0, NULL);
        assert_non_null(ev);
        json_int_t k = json_integer_value(
            json_object_get(json_object_get(ev, "detail"), "n"));
        assert_true(k >= 0 && k < 5);
        seen |= 1 << k;
        json_decref(ev);
    }
    assert_int_equal(seen, 0x1b); /* 0, 1, 3, 4: not the big one, 2 */
    evb_test_free_strings(msgs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_everything),
        cmocka_unit_test(test_oversized_detail),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
