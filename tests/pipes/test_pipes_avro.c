/* test_pipes_avro.c: pipes over Avro topics, end to end, from an
 * in-process Kafka cluster (librdkafka's mock) with the decode hook over
 * serde and an in-process schema registry, and the Kafka target hook over
 * src/kafka's shared producer:
 * - Confluent- and Glue-framed values are decoded for filters (a numeric
 *   condition on a decoded field) and templates (<$.value.field>);
 * - without a template the target gets the record with value the base64
 *   of the decoded JSON and valueSchemaMetadata;
 * - values with an unknown schema id and malformed framing pass on as
 *   binary (base64, metadata filters only), are counted, and never hold up
 *   the records after them in the partition;
 * - a Kafka-topic target (arn:aws:kafka:...:topic/default/TOPIC) receives
 *   the rendered items, read back with a consumer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kafka/kafka.h"
#include "registry/registry.h"
#include "serde/serde.h"
#include "support/pipes_env.h"

#define SMK "smk://%s"
#define ROLE "arn:aws:iam::000000000000:role/pipes"
#define TOPIC "avro-tx"
#define OUT_TOPIC "avro-out"

static const char SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"Tx\",\"namespace\":\"test\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"int\"},"
    "{\"name\":\"amount\",\"type\":\"double\"},"
    "{\"name\":\"user\",\"type\":\"string\"}]}";

static evb_test_pipes_t env;
static evb_registry_t *registry;
static evb_serde_t *serde;
static evb_kafka_clusters_t *clusters;
static evb_serde_writer_t writer;

static int setup(void **state) {
    (void)state;
    if (evb_test_pipes_open(&env, NULL, NULL))
        return -1;
    char err[512];
    if (evb_registry_open(env.store, &registry, err, sizeof err))
        return -1;
    evb_serde_config_t sc = {.registry = registry};
    if (evb_serde_new(&sc, &serde, err, sizeof err))
        return -1;
    clusters = evb_kafka_clusters_new();
    evb_kafka_conf_t *c = evb_kafka_conf_new();
    if (!clusters || !c ||
        evb_kafka_conf_set(c, "bootstrap.servers",
                           evb_test_kafka_bootstrap(env.kafka), "test", err,
                           sizeof err) ||
        evb_kafka_clusters_add(clusters, EVB_KAFKA_DEFAULT_CLUSTER, c, err,
                               sizeof err)) {
        fprintf(stderr, "setup: %s\n", err);
        evb_kafka_conf_free(c);
        return -1;
    }
    evb_kafka_conf_free(c);
    /* the service again, with both hooks */
    env.pcfg.decode = evb_pipe_serde_decode;
    env.pcfg.decode_ud = serde;
    env.pcfg.kafka_target = evb_pipe_kafka_produce;
    env.pcfg.kafka_target_ud = clusters;
    return evb_test_pipes_reopen(&env);
}

static int teardown(void **state) {
    (void)state;
    evb_pipe_service_close(env.pipes); /* before the hooks' state goes */
    env.pipes = NULL;
    evb_serde_writer_clear(&writer);
    evb_kafka_clusters_free(clusters);
    evb_serde_free(serde);
    evb_registry_close(registry);
    evb_test_pipes_close(&env);
    return 0;
}

static void produce_avro(int id, double amount, const char *user, bool glue) {
    char json[256], err[256];
    snprintf(json, sizeof json, "{\"id\":%d,\"amount\":%.1f,\"user\":\"%s\"}",
             id, amount, user);
    evb_buf_t b;
    evb_buf_init(&b, 0);
    evb_serde_encode_opts_t o = {.wire =
                                     glue ? EVB_WIRE_GLUE : EVB_WIRE_CONFLUENT};
    assert_int_equal(
        evb_serde_encode(&writer, &o, json, strlen(json), &b, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(evb_test_kafka_produce(env.kafka, TOPIC, 0, NULL, 0,
                                            b.data, b.len, NULL, NULL),
                     0);
    evb_buf_free(&b);
}

static void produce_raw(const void *v, size_t n) {
    assert_int_equal(
        evb_test_kafka_produce(env.kafka, TOPIC, 0, NULL, 0, v, n, NULL, NULL),
        0);
}

static json_t *parse(const char *s) {
    json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    return v;
}

static void test_avro_pipes(void **state) {
    (void)state;
    char err[512];
    evb_registry_err_t rerr;
    assert_int_equal(evb_serde_writer_register(serde, TOPIC "-value", SCHEMA,
                                               strlen(SCHEMA), 0, &writer,
                                               &rerr, err, sizeof err),
                     EVB_ERR_OK);
    assert_true(writer.has_uuid);
    const char *bs = evb_test_kafka_bootstrap(env.kafka);
    assert_int_equal(evb_test_kafka_topic(env.kafka, TOPIC, 1), 0);
    assert_int_equal(evb_test_kafka_topic(env.kafka, OUT_TOPIC, 1), 0);

    /* av-f: filter on a decoded field, template with decoded fields */
    assert_int_equal(
        evb_test_pipe_create(
            &env, "av-f",
            "{\"Source\":\"" SMK "\",\"SourceParameters\":{"
            "\"FilterCriteria\":{\"Filters\":[{\"Pattern\":"
            "\"{\\\"value\\\":{\\\"amount\\\":[{\\\"numeric\\\":[\\\">\\\","
            "100]}]}}\"}]},"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"" TOPIC "\","
            "\"StartingPosition\":\"TRIM_HORIZON\"}},"
            "\"Target\":\"arn:aws:logs:us-east-1:000000000000:log-group:"
            "/avro/f\",\"TargetParameters\":{\"InputTemplate\":"
            "\"{\\\"id\\\": <$.value.id>, \\\"who\\\": \\\"user "
            "<$.value.user>\\\"}\"},\"RoleArn\":\"" ROLE "\"}",
            bs),
        0);
    /* av-r: everything, no template */
    assert_int_equal(
        evb_test_pipe_create(
            &env, "av-r",
            "{\"Source\":\"" SMK "\",\"SourceParameters\":{"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"" TOPIC "\","
            "\"StartingPosition\":\"TRIM_HORIZON\"}},"
            "\"Target\":\"arn:aws:logs:us-east-1:000000000000:log-group:"
            "/avro/r\",\"RoleArn\":\"" ROLE "\"}",
            bs),
        0);
    /* av-k: to a Kafka topic through the shared producer */
    assert_int_equal(
        evb_test_pipe_create(
            &env, "av-k",
            "{\"Source\":\"" SMK "\",\"SourceParameters\":{"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"" TOPIC "\","
            "\"StartingPosition\":\"TRIM_HORIZON\"}},"
            "\"Target\":\"arn:aws:kafka:us-east-1:000000000000:topic/"
            "default/" OUT_TOPIC "\",\"TargetParameters\":{\"InputTemplate\":"
            "\"{\\\"id\\\": <$.value.id>, \\\"amount\\\": "
            "<$.value.amount>}\"},\"RoleArn\":\"" ROLE "\"}",
            bs),
        0);
    /* a Kafka target ARN that is not a topic ARN is refused */
    json_t *req = parse("{\"Source\":\"smk://h:9092\",\"SourceParameters\":{"
                        "\"SelfManagedKafkaParameters\":{\"TopicName\":\"x\"}},"
                        "\"Target\":\"arn:aws:kafka:us-east-1:000000000000:"
                        "topic/only-cluster\",\"RoleArn\":\"" ROLE "\"}");
    json_t *resp = NULL;
    assert_int_equal(
        evb_pipe_create(env.pipes, "av-bad", req, &resp, err, sizeof err),
        EVB_ERR_INVALID_ARG);
    json_decref(req);
    assert_true(evb_test_pipe_wait_state(&env, "av-f", "RUNNING", 20000));
    assert_true(evb_test_pipe_wait_state(&env, "av-r", "RUNNING", 20000));
    assert_true(evb_test_pipe_wait_state(&env, "av-k", "RUNNING", 20000));

    /* one partition, in this order */
    produce_avro(1, 50.0, "ann", false);  /* filtered out by av-f */
    produce_avro(2, 150.0, "bob", false); /* Confluent */
    static const unsigned char unknown_id[] = {0, 0, 0, 0x27, 0x0f, 2, 4};
    produce_raw(unknown_id, sizeof unknown_id); /* schema id 9999 */
    produce_avro(3, 250.0, "cy", true);         /* Glue */
    static const unsigned char malformed[] = {3, 0, 1, 2};
    produce_raw(malformed, sizeof malformed); /* truncated Glue header */
    produce_raw("{\"id\":5,\"amount\":500.0,\"user\":\"dee\"}", 36); /* JSON */
    produce_avro(6, 600.0, "eve", false);
    assert_int_equal(evb_test_kafka_flush(env.kafka), 0);

    /* av-r: all 7, in order */
    assert_int_equal(evb_test_wait_logs(&env, "/avro/r", 7, 30000), 7);
    size_t n = 0;
    char **m = evb_test_log_messages(&env, "/avro/r", &n);
    assert_int_equal(n, 7);
    char idtext[16];
    snprintf(idtext, sizeof idtext, "%d", (int)writer.id);
    char uuid[40];
    const uint8_t *u = writer.uuid;
    snprintf(uuid, sizeof uuid,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
             "%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
             u[11], u[12], u[13], u[14], u[15]);
    for (size_t i = 0; i < n; i++) {
        json_t *ev = parse(m[i]);
        assert_int_equal(json_integer_value(json_object_get(ev, "offset")),
                         (json_int_t)i);
        const char *v = json_string_value(json_object_get(ev, "value"));
        assert_non_null(v);
        json_t *meta = json_object_get(ev, "valueSchemaMetadata");
        if (i == 2 || i == 4 || i == 5) {
            assert_null(meta); /* undecodable, and plain JSON */
        } else {
            assert_non_null(meta);
            assert_string_equal(
                json_string_value(json_object_get(meta, "dataFormat")), "AVRO");
            assert_string_equal(
                json_string_value(json_object_get(meta, "schemaId")),
                i == 3 ? uuid : idtext);
        }
        json_decref(ev);
    }
    /* value: the base64 of the decoded JSON ({"id":2,"amount":150.0,...}) */
    {
        json_t *ev = parse(m[1]);
        evb_buf_t want;
        evb_buf_init(&want, 0);
        const char *dec = "{\"id\":2,\"amount\":150.0,\"user\":\"bob\"}";
        assert_int_equal(evb_pipe_base64(&want, dec, strlen(dec)), 0);
        assert_string_equal(json_string_value(json_object_get(ev, "value")),
                            want.data);
        evb_buf_free(&want);
        json_decref(ev);
        /* the unknown id: its raw bytes */
        ev = parse(m[2]);
        assert_string_equal(json_string_value(json_object_get(ev, "value")),
                            "AAAAJw8CBA==");
        json_decref(ev);
    }
    evb_test_free_strings(m);

    /* av-f: 2, the two undecodable ones (metadata conditions only: they
     * pass, with no fields), 3, 5 (JSON), 6; not 1 */
    assert_int_equal(evb_test_wait_logs(&env, "/avro/f", 6, 30000), 6);
    m = evb_test_log_messages(&env, "/avro/f", &n);
    assert_int_equal(n, 6);
    const char *want[] = {"{\"id\": 2, \"who\": \"user bob\"}",
                          "{\"id\": null, \"who\": \"user \"}",
                          "{\"id\": 3, \"who\": \"user cy\"}",
                          "{\"id\": null, \"who\": \"user \"}",
                          "{\"id\": 5, \"who\": \"user dee\"}",
                          "{\"id\": 6, \"who\": \"user eve\"}"};
    for (size_t i = 0; i < n; i++)
        assert_string_equal(m[i], want[i]);
    evb_test_free_strings(m);
    evb_pipe_stats_t st;
    assert_int_equal(evb_pipe_get_stats(env.pipes, "av-f", &st), 0);
    assert_int_equal(st.records_undecodable, 2);
    assert_int_equal(st.records_filtered, 1);

    /* av-k: 7 messages on the output topic */
    evb_kafka_conf_t *c = evb_kafka_conf_new();
    assert_non_null(c);
    assert_int_equal(
        evb_kafka_conf_set(c, "bootstrap.servers", bs, "test", err, sizeof err),
        0);
    const char *topics[] = {OUT_TOPIC};
    evb_kafka_consumer_t *cons = NULL;
    assert_int_equal(evb_kafka_consumer_new(c, "avro-test-reader", topics, 1,
                                            "reader", &cons, err, sizeof err),
                     0);
    evb_kafka_conf_free(c);
    json_t *got = json_array();
    for (int t = 0; t < 300 && json_array_size(got) < 7; t++) {
        evb_kafka_msg_t *msg = NULL;
        if (evb_kafka_consumer_poll(cons, 100, &msg, err, sizeof err) || !msg)
            continue;
        json_array_append_new(
            got, json_stringn((const char *)msg->value, msg->value_len));
        evb_kafka_msg_free(msg);
    }
    evb_kafka_consumer_free(cons);
    assert_int_equal(json_array_size(got), 7);
    assert_string_equal(json_string_value(json_array_get(got, 1)),
                        "{\"id\": 2, \"amount\": 150.0}");
    assert_string_equal(json_string_value(json_array_get(got, 3)),
                        "{\"id\": 3, \"amount\": 250.0}");
    json_decref(got);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avro_pipes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
