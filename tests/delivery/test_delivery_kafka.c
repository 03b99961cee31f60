/* test_delivery_kafka.c: Kafka topics as rule targets, through the
 * delivery engine, against librdkafka's mock cluster in this process: the
 * event (or its transformed input) arrives with its key from the
 * JSONPath, on the `default` cluster and on a named one (MSK's ARN form
 * too); an unknown cluster or topic is dead-lettered at once
 * (NO_RESOURCE); a broker that is down is retried with backoff, delivered
 * once it is back, and dead-lettered with EXHAUSTED_RETRY_CONDITION when
 * the RetryPolicy runs out. Messages are read back with evbus's consumer
 * and compared. Avro values (KafkaParameters.ValueSchemaSubject) are
 * encoded with a schema of the in-process registry, in the Confluent and
 * the Glue wire formats, and decoded back with serde; a payload that does
 * not fit the schema is dead-lettered with INVALID_PARAMETERS. */
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

#include "delivery/delivery.h"
#include "kafka/kafka.h"
#include "registry/registry.h"
#include "serde/serde.h"

static char dir[256];
static evb_store_t *store;
static evb_bus_service_t *svc;
static evb_queue_service_t *queues;
static evb_delivery_t *dv;
static evb_kafka_mock_t *mock, *flaky_mock;
static evb_kafka_clusters_t *clusters;
static evb_registry_t *registry;
static evb_serde_t *serde;

#define DLQ "arn:aws:sqs:us-east-1:000000000000:dlq"

static void quiet(void *ud, int level, const char *line) {
    (void)ud;
    if (level <= 3 && getenv("EVB_TEST_VERBOSE"))
        fprintf(stderr, "kafka: %s\n", line);
}

static evb_kafka_conf_t *conf_for(evb_kafka_mock_t *m) {
    evb_kafka_conf_t *c = evb_kafka_conf_new();
    evb_kafka_conf_set(c, "bootstrap.servers",
                       evb_kafka_mock_bootstrap_servers(m), NULL, NULL, 0);
    evb_kafka_conf_set(c, "session.timeout.ms", "6000", NULL, NULL, 0);
    evb_kafka_conf_set(c, "message.timeout.ms", "1500", NULL, NULL, 0);
    evb_kafka_conf_set(c, "topic.metadata.propagation.max.ms", "200", NULL,
                       NULL, 0);
    return c;
}

static int setup(void **state) {
    (void)state;
    evb_kafka_set_log(quiet, NULL);
    snprintf(dir, sizeof dir, "/tmp/evb-kafka-delivery-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char err[512];
    evb_store_opts_t o = {.dir = dir, .no_sync = true};
    if (evb_store_open(&o, &store, err, sizeof err) ||
        evb_bus_service_open(NULL, store, &svc, err, sizeof err) ||
        evb_queue_service_new(store, "us-east-1", "000000000000", &queues) !=
            EVB_QUEUE_ERR_OK)
        return -1;
    if (evb_queue_create(queues, "dlq", NULL, 0, err, sizeof err) !=
        EVB_QUEUE_ERR_OK)
        return -1;
    if (evb_kafka_mock_new(1, &mock, err, sizeof err) ||
        evb_kafka_mock_new(1, &flaky_mock, err, sizeof err))
        return -1;
    clusters = evb_kafka_clusters_new();
    evb_kafka_conf_t *c = conf_for(mock);
    evb_kafka_conf_t *f = conf_for(flaky_mock);
    evb_err_t e =
        evb_kafka_clusters_add(clusters, "default", c, err, sizeof err);
    if (!e)
        e = evb_kafka_clusters_add(clusters, "second", c, err, sizeof err);
    if (!e)
        e = evb_kafka_clusters_add(clusters, "flaky", f, err, sizeof err);
    evb_kafka_conf_free(c);
    evb_kafka_conf_free(f);
    if (e) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    evb_serde_config_t scfg = {.registry = NULL};
    if (evb_registry_open(store, &registry, err, sizeof err))
        return -1;
    scfg.registry = registry;
    if (evb_serde_new(&scfg, &serde, err, sizeof err))
        return -1;
    evb_delivery_config_t cfg = {
        .queues = queues, .kafka = clusters, .serde = serde};
    return evb_delivery_new(&cfg, store, svc, false, &dv, err, sizeof err) ? -1
                                                                           : 0;
}

static int teardown(void **state) {
    (void)state;
    evb_delivery_free(dv);
    evb_kafka_clusters_free(clusters);
    evb_kafka_mock_free(mock);
    evb_kafka_mock_free(flaky_mock);
    evb_serde_free(serde);
    evb_registry_close(registry);
    evb_queue_service_free(queues);
    evb_bus_service_close(svc);
    evb_store_close(store);
    evb_kafka_set_log(NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A rule matching source `source` with one target (spec: the target's
 * JSON members after Id and Arn, or ""). */
static void rule_with_target(const char *rule, const char *source,
                             const char *arn, const char *extra) {
    char err[512], pattern[128], spec[2048];
    snprintf(pattern, sizeof pattern, "{\"source\":[\"%s\"]}", source);
    evb_rule_info_t r = {0};
    r.bus = "default";
    r.name = (char *)rule;
    r.event_pattern = pattern;
    assert_int_equal(evb_rule_put(svc, &r, NULL, err, sizeof err), EVB_ERR_OK);
    snprintf(spec, sizeof spec, "{\"Id\":\"t\",\"Arn\":\"%s\"%s%s}", arn,
             extra[0] ? "," : "", extra);
    /* what PutTargets checks, it checks here too */
    assert_int_equal(evb_delivery_kafka_target_check(
                         "t", arn, spec, strlen(spec), err, sizeof err),
                     EVB_ERR_OK);
    evb_target_info_t t = {"t", (char *)arn, spec};
    evb_target_failure_t *f;
    size_t nf;
    assert_int_equal(
        evb_targets_put(svc, "default", rule, &t, 1, &f, &nf, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(nf, 0);
}

static void put(const char *source, const char *detail, char id[37]) {
    evb_put_entry_t e = {0};
    e.source = source;
    e.detail_type = "Order";
    e.detail = detail;
    e.detail_len = strlen(detail);
    evb_put_result_t r;
    size_t failed;
    char err[256];
    assert_int_equal(
        evb_bus_put_events(svc, &e, 1, &r, &failed, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(failed, 0);
    if (id)
        memcpy(id, r.event_id, 37);
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

static evb_err_t clear_dlq(sqlite3 *db, void *arg, char *errstr, size_t sz) {
    (void)arg;
    if (sqlite3_exec(db, "DELETE FROM queue_messages", NULL, NULL, NULL) !=
        SQLITE_OK)
        return evb_store_sqlerr(db, "clear", errstr, sz);
    return EVB_ERR_OK;
}

static void consume_n(evb_kafka_mock_t *m, const char *topic, int n,
                      char **keys, char **values, size_t *value_lens);
static void consume(evb_kafka_mock_t *m, const char *topic, int n, char **keys,
                    char **values) {
    consume_n(m, topic, n, keys, values, NULL);
}

/* Read n messages of topic from the mock m (a fresh group); fills keys
 * and values (malloc'd, NUL-terminated) in arrival order. */
static void consume_n(evb_kafka_mock_t *m, const char *topic, int n,
                      char **keys, char **values, size_t *value_lens) {
    evb_kafka_conf_t *c = conf_for(m);
    char group[64], err[512];
    snprintf(group, sizeof group, "g-%s", topic);
    const char *topics[] = {topic};
    evb_kafka_consumer_t *k;
    assert_int_equal(evb_kafka_consumer_new(c, group, topics, 1, "test", &k,
                                            err, sizeof err),
                     EVB_ERR_OK);
    int got = 0;
    time_t end = time(NULL) + 30;
    while (got < n && time(NULL) < end) {
        evb_kafka_msg_t *msg = NULL;
        if (evb_kafka_consumer_poll(k, 200, &msg, err, sizeof err) || !msg)
            continue;
        keys[got] = msg->key ? strndup(msg->key, msg->key_len) : NULL;
        values[got] = malloc(msg->value_len + 1);
        assert_non_null(values[got]);
        memcpy(values[got], msg->value, msg->value_len);
        values[got][msg->value_len] = '\0';
        if (value_lens)
            value_lens[got] = msg->value_len;
        got++;
        evb_kafka_msg_free(msg);
    }
    evb_kafka_consumer_free(k);
    evb_kafka_conf_free(c);
    assert_int_equal(got, n);
}

static void event_with_its_key(void **state) {
    (void)state;
    rule_with_target("plain", "shop",
                     "arn:aws:kafka:us-east-1:000000000000:topic/default/"
                     "orders",
                     "\"KafkaParameters\":{\"PartitionKeyPath\":"
                     "\"$.detail.user\"}");
    char ids[3][37];
    put("shop", "{\"user\":\"alice\",\"n\":1}", ids[0]);
    put("shop", "{\"user\":\"bob\",\"n\":2}", ids[1]);
    put("shop", "{\"n\":3}", ids[2]); /* no user: no key */
    run();
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 0);
    evb_delivery_stats_t st;
    evb_delivery_get_stats(dv, &st);
    assert_int_equal(st.delivered, 3);
    char *keys[3], *values[3];
    consume(mock, "orders", 3, keys, values);
    int found = 0;
    for (int i = 0; i < 3; i++) {
        json_error_t je;
        json_t *ev = json_loads(values[i], 0, &je);
        assert_non_null(ev);
        const char *id = json_string_value(json_object_get(ev, "id"));
        assert_non_null(id);
        assert_string_equal(json_string_value(json_object_get(ev, "source")),
                            "shop");
        json_t *d = json_object_get(ev, "detail");
        int n = (int)json_integer_value(json_object_get(d, "n"));
        assert_true(n >= 1 && n <= 3);
        assert_string_equal(id, ids[n - 1]);
        found |= 1 << (n - 1);
        if (n == 1)
            assert_string_equal(keys[i], "alice");
        else if (n == 2)
            assert_string_equal(keys[i], "bob");
        else
            assert_null(keys[i]);
        json_decref(ev);
        free(keys[i]);
        free(values[i]);
    }
    assert_int_equal(found, 7);
}

static void transformed_input_on_a_named_cluster(void **state) {
    (void)state;
    /* MSK's ARN form; the key from KinesisParameters (a number) */
    rule_with_target(
        "xformed", "xf",
        "arn:aws:kafka:eu-west-1:123456789012:topic/second/"
        "abcd1234-0123-abcd-5678-1234abcd-1/xformed",
        "\"InputTransformer\":{\"InputPathsMap\":{\"u\":\"$.detail.user\"},"
        "\"InputTemplate\":\"{\\\"who\\\": <u>, \\\"rule\\\": "
        "<aws.events.rule-name>}\"},"
        "\"KinesisParameters\":{\"PartitionKeyPath\":\"$.detail.n\"}");
    put("xf", "{\"user\":\"carol\",\"n\":7}", NULL);
    run();
    char *keys[1], *values[1];
    consume(mock, "xformed", 1, keys, values);
    assert_string_equal(keys[0], "7");
    assert_string_equal(values[0],
                        "{\"who\": \"carol\", \"rule\": \"xformed\"}");
    free(keys[0]);
    free(values[0]);
}

static void unknown_cluster_is_dead_lettered(void **state) {
    (void)state;
    evb_store_write(store, clear_dlq, NULL, NULL, 0);
    rule_with_target("nowhere", "nw",
                     "arn:aws:kafka:us-east-1:000000000000:topic/nowhere/t",
                     "\"DeadLetterConfig\":{\"Arn\":\"" DLQ "\"}");
    char id[37];
    put("nw", "{\"n\":1}", id);
    run();
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 0);
    q_t dl = ask("SELECT count(*), attributes FROM queue_messages");
    assert_int_equal(dl.n, 1);
    assert_non_null(strstr(dl.text, "NO_RESOURCE"));
    assert_non_null(strstr(dl.text, "no Kafka cluster named nowhere"));
    q_t body = ask("SELECT count(*), body FROM queue_messages");
    assert_non_null(strstr(body.text, id)); /* the original event */
}

static void unknown_topic_is_dead_lettered(void **state) {
    (void)state;
    evb_store_write(store, clear_dlq, NULL, NULL, 0);
    evb_kafka_mock_topic_set_missing(mock, "ghost", true);
    rule_with_target("ghost", "gh",
                     "arn:aws:kafka:us-east-1:000000000000:topic/default/"
                     "ghost",
                     "\"DeadLetterConfig\":{\"Arn\":\"" DLQ "\"}");
    put("gh", "{\"n\":1}", NULL);
    run();
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 0);
    q_t dl = ask("SELECT count(*), attributes FROM queue_messages");
    assert_int_equal(dl.n, 1);
    assert_non_null(strstr(dl.text, "NO_RESOURCE"));
    assert_non_null(strstr(dl.text, "ghost"));
    evb_kafka_mock_topic_set_missing(mock, "ghost", false);
}

static void broker_down_is_retried_then_delivered(void **state) {
    (void)state;
    char err[256];
    rule_with_target("flaky", "fl",
                     "arn:aws:kafka:us-east-1:000000000000:topic/flaky/"
                     "later",
                     "\"DeadLetterConfig\":{\"Arn\":\"" DLQ "\"}");
    assert_int_equal(
        evb_kafka_mock_broker_set_up(flaky_mock, 1, false, err, sizeof err),
        EVB_ERR_OK);
    evb_delivery_stats_t before, after;
    evb_delivery_get_stats(dv, &before);
    put("fl", "{\"n\":1}", NULL);
    run(); /* the message times out: retriable */
    q_t row = ask("SELECT attempts FROM deliveries");
    assert_int_equal(row.n, 1);
    evb_delivery_get_stats(dv, &after);
    assert_int_equal(after.retried, before.retried + 1);
    assert_int_equal(
        evb_kafka_mock_broker_set_up(flaky_mock, 1, true, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(evb_store_write(store, make_due, NULL, err, sizeof err),
                     EVB_ERR_OK);
    run();
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 0);
    char *keys[1], *values[1];
    consume(flaky_mock, "later", 1, keys, values);
    assert_non_null(strstr(values[0], "\"detail\":{\"n\":1}"));
    free(keys[0]);
    free(values[0]);
}

static void retries_run_out_into_the_dlq(void **state) {
    (void)state;
    char err[256];
    evb_store_write(store, clear_dlq, NULL, NULL, 0);
    rule_with_target("exhaust", "ex",
                     "arn:aws:kafka:us-east-1:000000000000:topic/flaky/gone",
                     "\"RetryPolicy\":{\"MaximumRetryAttempts\":1},"
                     "\"DeadLetterConfig\":{\"Arn\":\"" DLQ "\"}");
    assert_int_equal(
        evb_kafka_mock_broker_set_up(flaky_mock, 1, false, err, sizeof err),
        EVB_ERR_OK);
    put("ex", "{\"n\":1}", NULL);
    run();
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 1);
    assert_int_equal(evb_store_write(store, make_due, NULL, err, sizeof err),
                     EVB_ERR_OK);
    run();
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 0);
    q_t dl = ask("SELECT count(*), attributes FROM queue_messages");
    assert_int_equal(dl.n, 1);
    assert_non_null(strstr(dl.text, "EXHAUSTED_RETRY_CONDITION"));
    assert_non_null(strstr(dl.text, "MaximumRetryAttempts"));
    assert_non_null(strstr(dl.text, "TIMEOUT"));
    assert_int_equal(
        evb_kafka_mock_broker_set_up(flaky_mock, 1, true, err, sizeof err),
        EVB_ERR_OK);
}

#define ORDER_SCHEMA                                                           \
    "{\"type\":\"record\",\"name\":\"Order\",\"fields\":["                     \
    "{\"name\":\"who\",\"type\":\"string\"},"                                  \
    "{\"name\":\"n\",\"type\":\"long\"}]}"

/* Register ORDER_SCHEMA under subject; its schema id. */
static int32_t register_order(const char *subject) {
    evb_serde_writer_t w = {0};
    char err[256];
    assert_int_equal(evb_serde_writer_register(serde, subject, ORDER_SCHEMA,
                                               strlen(ORDER_SCHEMA), 0, &w,
                                               NULL, err, sizeof err),
                     EVB_ERR_OK);
    int32_t id = w.id;
    evb_serde_writer_clear(&w);
    return id;
}

#define ORDER_TEMPLATE                                                         \
    "\"InputTransformer\":{\"InputPathsMap\":{\"u\":\"$.detail.user\","       \
    "\"n\":\"$.detail.n\"},"                                                   \
    "\"InputTemplate\":\"{\\\"who\\\": <u>, \\\"n\\\": <n>}\"}"

/* Decode value (len bytes) with serde in mode; its JSON and wire format. */
static void decode(const char *value, size_t len, evb_serde_mode_t mode,
                   evb_serde_info_t *info, char *json, size_t json_size) {
    evb_serde_decode_opts_t o = {.mode = mode};
    evb_buf_t out;
    evb_buf_init(&out, 0);
    char err[256];
    assert_int_equal(evb_serde_decode(serde, value, len, &o, &out, info, err,
                                      sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(info->kind, EVB_SERDE_KIND_AVRO);
    snprintf(json, json_size, "%s", out.data);
    evb_buf_free(&out);
}

static void avro_value_confluent(void **state) {
    (void)state;
    int32_t id = register_order("orders-avro-value");
    rule_with_target("avro", "av",
                     "arn:aws:kafka:us-east-1:000000000000:topic/default/"
                     "avro-orders",
                     ORDER_TEMPLATE ",\"KafkaParameters\":{"
                     "\"ValueSchemaSubject\":\"orders-avro-value\"}");
    put("av", "{\"user\":\"dave\",\"n\":42}", NULL);
    put("av", "{\"user\":\"erin\",\"n\":43}", NULL); /* the cached writer */
    run();
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 0);
    char *keys[2], *values[2];
    size_t lens[2];
    consume_n(mock, "avro-orders", 2, keys, values, lens);
    for (int i = 0; i < 2; i++) {
        assert_true(lens[i] > 5);
        assert_int_equal((unsigned char)values[i][0], 0); /* magic */
        evb_serde_info_t info;
        char json[256];
        decode(values[i], lens[i], EVB_SERDE_MODE_CONFLUENT, &info, json,
               sizeof json);
        assert_int_equal(info.wire, EVB_WIRE_CONFLUENT);
        assert_int_equal(info.schema_id, id);
        assert_true(strcmp(json, "{\"who\":\"dave\",\"n\":42}") == 0 ||
                    strcmp(json, "{\"who\":\"erin\",\"n\":43}") == 0);
        free(keys[i]);
        free(values[i]);
    }
}

static void avro_value_glue_version(void **state) {
    (void)state;
    register_order("orders-glue-value");
    rule_with_target("glue", "gl",
                     "arn:aws:kafka:us-east-1:000000000000:topic/default/"
                     "glue-orders",
                     ORDER_TEMPLATE ",\"KafkaParameters\":{"
                     "\"ValueSchemaSubject\":\"orders-glue-value\","
                     "\"ValueSchemaVersion\":1,\"ValueWireFormat\":\"GLUE\"}");
    put("gl", "{\"user\":\"fay\",\"n\":7}", NULL);
    run();
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 0);
    char *keys[1], *values[1];
    size_t lens[1];
    consume_n(mock, "glue-orders", 1, keys, values, lens);
    assert_true(lens[0] > 18);
    assert_int_equal((unsigned char)values[0][0], 3); /* Glue header */
    evb_serde_info_t info;
    char json[256];
    decode(values[0], lens[0], EVB_SERDE_MODE_GLUE, &info, json, sizeof json);
    assert_int_equal(info.wire, EVB_WIRE_GLUE);
    assert_string_equal(json, "{\"who\":\"fay\",\"n\":7}");
    free(keys[0]);
    free(values[0]);
}

static void avro_misfit_is_dead_lettered(void **state) {
    (void)state;
    evb_store_write(store, clear_dlq, NULL, NULL, 0);
    register_order("orders-misfit-value");
    /* the whole event is no Order */
    rule_with_target("misfit", "mf",
                     "arn:aws:kafka:us-east-1:000000000000:topic/default/"
                     "misfit",
                     "\"DeadLetterConfig\":{\"Arn\":\"" DLQ "\"},"
                     "\"KafkaParameters\":{"
                     "\"ValueSchemaSubject\":\"orders-misfit-value\"}");
    char id[37];
    put("mf", "{\"n\":1}", id);
    run();
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 0);
    q_t dl = ask("SELECT count(*), attributes FROM queue_messages");
    assert_int_equal(dl.n, 1);
    assert_non_null(strstr(dl.text, "INVALID_PARAMETERS"));
    assert_non_null(strstr(dl.text, "orders-misfit-value"));
    q_t body = ask("SELECT count(*), body FROM queue_messages");
    assert_non_null(strstr(body.text, id));

    /* an unknown subject: the same */
    evb_store_write(store, clear_dlq, NULL, NULL, 0);
    rule_with_target("nosubject", "ns",
                     "arn:aws:kafka:us-east-1:000000000000:topic/default/"
                     "misfit",
                     "\"DeadLetterConfig\":{\"Arn\":\"" DLQ "\"},"
                     "\"KafkaParameters\":{"
                     "\"ValueSchemaSubject\":\"no-such-subject\"}");
    put("ns", "{\"n\":1}", NULL);
    run();
    assert_int_equal(ask("SELECT count(*) FROM deliveries").n, 0);
    dl = ask("SELECT count(*), attributes FROM queue_messages");
    assert_int_equal(dl.n, 1);
    assert_non_null(strstr(dl.text, "INVALID_PARAMETERS"));
    assert_non_null(strstr(dl.text, "no-such-subject"));
}

static void put_targets_checks(void **state) {
    (void)state;
    char err[512];
    static const struct {
        const char *arn, *spec, *want;
    } cases[] = {
        {"arn:aws:kafka:us-east-1:000000000000:cluster/x/y", "{}",
         "Parameter arn:aws:kafka:us-east-1:000000000000:cluster/x/y is not "
         "valid. Reason: Provided Arn is not in correct format."},
        {"arn:aws:kafka:us-east-1:000000000000:topic/default/t",
         "{\"KafkaParameters\":\"x\"}",
         "KafkaParameters for target t must be an object."},
        {"arn:aws:kafka:us-east-1:000000000000:topic/default/t",
         "{\"KafkaParameters\":{\"PartitionKeyPath\":\"$.a\",\"ValueFormat\":"
         "\"AVRO\"}}",
         "KafkaParameters for target t has an unknown member ValueFormat "
         "(known: PartitionKeyPath, ValueSchemaSubject, ValueSchemaVersion, "
         "ValueWireFormat)."},
        {"arn:aws:kafka:us-east-1:000000000000:topic/default/t",
         "{\"KafkaParameters\":{\"ValueSchemaSubject\":5}}",
         "KafkaParameters.ValueSchemaSubject must be a string of 1 to 255 "
         "characters. (target t)"},
        {"arn:aws:kafka:us-east-1:000000000000:topic/default/t",
         "{\"KafkaParameters\":{\"ValueSchemaSubject\":\"s\","
         "\"ValueSchemaVersion\":\"1\"}}",
         "KafkaParameters.ValueSchemaVersion must be a positive integer. "
         "(target t)"},
        {"arn:aws:kafka:us-east-1:000000000000:topic/default/t",
         "{\"KafkaParameters\":{\"ValueSchemaSubject\":\"s\","
         "\"ValueSchemaVersion\":1.5}}",
         "KafkaParameters.ValueSchemaVersion must be a positive integer. "
         "(target t)"},
        {"arn:aws:kafka:us-east-1:000000000000:topic/default/t",
         "{\"KafkaParameters\":{\"ValueSchemaSubject\":\"s\","
         "\"ValueWireFormat\":\"glue\"}}",
         "KafkaParameters.ValueWireFormat must be CONFLUENT or GLUE. "
         "(target t)"},
        {"arn:aws:kafka:us-east-1:000000000000:topic/default/t",
         "{\"KafkaParameters\":{\"ValueWireFormat\":\"GLUE\"}}",
         "KafkaParameters.ValueWireFormat needs "
         "KafkaParameters.ValueSchemaSubject. (target t)"},
        {"arn:aws:kafka:us-east-1:000000000000:topic/default/t",
         "{\"KafkaParameters\":{\"ValueSchemaSubject\":\"s\","
         "\"ValueSchemaVersion\":2,\"ValueWireFormat\":\"GLUE\"}}",
         NULL},
        {"arn:aws:kafka:us-east-1:000000000000:topic/default/t",
         "{\"KafkaParameters\":{\"PartitionKeyPath\":5}}",
         "KafkaParameters.PartitionKeyPath for target t must be a string."},
        {"arn:aws:kafka:us-east-1:000000000000:topic/default/t",
         "{\"KafkaParameters\":{\"PartitionKeyPath\":\"$..a\"}}",
         "KafkaParameters.PartitionKeyPath for target t is invalid."},
        {"arn:aws:kafka:us-east-1:000000000000:topic/default/t",
         "{\"KinesisParameters\":{\"PartitionKeyPath\":\"nope\"}}",
         "KinesisParameters.PartitionKeyPath for target t is invalid."},
        {"arn:aws:kafka:us-east-1:000000000000:topic/default/t",
         "{\"KafkaParameters\":{\"PartitionKeyPath\":\"$.detail.k\"}}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        evb_err_t e = evb_delivery_kafka_target_check(
            "t", cases[i].arn, cases[i].spec, strlen(cases[i].spec), err,
            sizeof err);
        if (!cases[i].want) {
            assert_int_equal(e, EVB_ERR_OK);
            continue;
        }
        assert_int_equal(e, EVB_ERR_INVALID_ARG);
        assert_string_equal(err, cases[i].want);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_targets_checks),
        cmocka_unit_test(event_with_its_key),
        cmocka_unit_test(transformed_input_on_a_named_cluster),
        cmocka_unit_test(unknown_cluster_is_dead_lettered),
        cmocka_unit_test(unknown_topic_is_dead_lettered),
        cmocka_unit_test(broker_down_is_retried_then_delivered),
        cmocka_unit_test(retries_run_out_into_the_dlq),
        cmocka_unit_test(avro_value_confluent),
        cmocka_unit_test(avro_value_glue_version),
        cmocka_unit_test(avro_misfit_is_dead_lettered),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
