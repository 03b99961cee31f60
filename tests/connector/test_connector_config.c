/*
 * The connector's configuration: both file forms, defaults, every
 * validation rule (as a table of bad configurations and the message each
 * must give), the detail-type forms, and the generated reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "connector/connector_internal.h"

#define BASE                                                                   \
    "topics=orders\n"                                                          \
    "aws.eventbridge.connector.id=my-connector\n"                              \
    "aws.eventbridge.region=us-east-1\n"                                       \
    "aws.eventbridge.eventbus.arn=arn:aws:events:us-east-1:123456789012:"      \
    "event-bus/default\n"                                                      \
    "kafka.bootstrap.servers=127.0.0.1:9092\n"

static evb_connector_config_t *parse_ok(const char *text) {
    evb_connector_config_t *c = NULL;
    char err[1024];
    evb_err_t e = evb_connector_config_parse(text, strlen(text), "t.properties",
                                             &c, err, sizeof err);
    if (e)
        fail_msg("unexpected error: %s", err);
    return c;
}

static void test_defaults(void **state) {
    (void)state;
    evb_connector_config_t *c = parse_ok(BASE);
    assert_string_equal(c->name, "my-connector");
    assert_string_equal(c->group_id, "connect-my-connector");
    assert_int_equal(evb__cfg_int(c, P_RETRIES_MAX), 2);
    assert_int_equal(evb__cfg_int(c, P_RETRIES_DELAY), 200);
    assert_int_equal(evb__cfg_int(c, P_BATCH_MAX_ENTRIES), 10);
    assert_int_equal(evb__cfg_int(c, P_BATCH_MAX_BYTES), 262144);
    assert_string_equal(
        evb_connector_config_get(c, "aws.eventbridge.detail.types"),
        "kafka-connect-${topic}");
    assert_string_equal(c->dt_single, "kafka-connect-${topic}");
    assert_int_equal(c->key_conv.kind, EVB__CONV_STRING);
    assert_int_equal(c->value_conv.kind, EVB__CONV_JSON);
    assert_false(c->value_conv.schemas_enable);
    assert_false(c->tolerance_all);
    assert_false(c->jsonpath_mapper);
    assert_int_equal(c->ntopics, 1);
    assert_string_equal(c->topics[0], "orders");
    assert_null(evb_connector_config_get(c, "no.such"));
    assert_string_equal(evb_kafka_conf_get(c->consumer, "bootstrap.servers"),
                        "127.0.0.1:9092");
    assert_string_equal(evb_kafka_conf_get(c->producer, "bootstrap.servers"),
                        "127.0.0.1:9092");
    evb_connector_config_free(c);
}

static void test_json_forms(void **state) {
    (void)state;
    const char *flat =
        "{\"topics\":\"a, b\",\"aws.eventbridge.connector.id\":\"x\","
        "\"aws.eventbridge.region\":\"eu-west-1\","
        "\"aws.eventbridge.eventbus.arn\":\"arn:aws:events:eu-west-1:"
        "123456789012:event-bus/b\",\"aws.eventbridge.retries.max\":5,"
        "\"value.converter.schemas.enable\":true,"
        "\"errors.tolerance\":\"all\",\"tasks.max\":\"1\","
        "\"connector.class\":\"software.amazon.event.kafkaconnector."
        "EventBridgeSinkConnector\","
        "\"kafka.bootstrap.servers\":\"h:1\",\"kafka.group.id\":\"g\","
        "\"consumer.override.max.poll.records\":\"40\","
        "\"consumer.override.fetch.min.bytes\":\"10\"}";
    evb_connector_config_t *c = parse_ok(flat);
    assert_int_equal(c->ntopics, 2);
    assert_string_equal(c->topics[1], "b");
    assert_int_equal(evb__cfg_int(c, P_RETRIES_MAX), 5);
    assert_true(c->value_conv.schemas_enable);
    assert_true(c->tolerance_all);
    assert_string_equal(c->group_id, "g");
    assert_int_equal(evb__cfg_int(c, P_POLL_MAX_RECORDS), 40);
    assert_string_equal(evb_kafka_conf_get(c->consumer, "fetch.min.bytes"),
                        "10");
    assert_null(evb_kafka_conf_get(c->producer, "fetch.min.bytes"));
    evb_connector_config_free(c);

    const char *rest =
        "{\"name\":\"orders-sink\",\"config\":{\"topics\":\"orders\","
        "\"aws.eventbridge.connector.id\":\"x\","
        "\"aws.eventbridge.region\":\"us-east-1\","
        "\"aws.eventbridge.eventbus.arn\":\"arn:aws:events:us-east-1:"
        "123456789012:event-bus/b\",\"kafka.bootstrap.servers\":\"h:1\"}}";
    c = parse_ok(rest);
    assert_string_equal(c->name, "orders-sink");
    assert_string_equal(c->group_id, "connect-orders-sink");
    evb_connector_config_free(c);
}

static void test_detail_type_forms(void **state) {
    (void)state;
    evb_connector_config_t *c =
        parse_ok(BASE "aws.eventbridge.detail.types=t1:Type1, t2:Type2\n");
    assert_null(c->dt_single);
    assert_int_equal(c->ndt, 2);
    assert_string_equal(c->dt_topics[1], "t2");
    assert_string_equal(c->dt_types[1], "Type2");
    evb_connector_config_free(c);
    c = parse_ok(BASE "aws.eventbridge.detail.types=orders:Order\n");
    assert_null(c->dt_single);
    assert_int_equal(c->ndt, 1);
    evb_connector_config_free(c);
    c = parse_ok(BASE "aws.eventbridge.detail.types=static-type\n");
    assert_string_equal(c->dt_single, "static-type");
    evb_connector_config_free(c);
    c = parse_ok(BASE "aws.eventbridge.detail.types.jsonpathmapper.fieldref="
                      "$.meta.type\n");
    assert_true(c->jsonpath_mapper);
    evb_connector_config_free(c);
    c = parse_ok(BASE "aws.eventbridge.detail.types.mapper.class="
                      "JsonPathDetailTypeMapper\n"
                      "aws.eventbridge.detail.types.jsonpathmapper.fieldref="
                      "$.type\n");
    assert_true(c->jsonpath_mapper);
    evb_connector_config_free(c);
    /* an explicit default mapper ignores the field reference */
    c = parse_ok(BASE "aws.eventbridge.detail.types.mapper.class="
                      "DefaultDetailTypeMapper\n"
                      "aws.eventbridge.detail.types.jsonpathmapper.fieldref="
                      "$.type\n");
    assert_false(c->jsonpath_mapper);
    evb_connector_config_free(c);
}

static void test_converters(void **state) {
    (void)state;
    evb_connector_config_t *c = parse_ok(
        BASE "value.converter=io.confluent.connect.avro.AvroConverter\n"
             "value.converter.schema.registry.url=http://r:1 , http://r:2\n"
             "value.converter.basic.auth.user.info=u:secretpw\n"
             "key.converter=bytes\n");
    assert_int_equal(c->value_conv.kind, EVB__CONV_AVRO);
    assert_string_equal(c->value_conv.registry_url, "http://r:1");
    assert_string_equal(c->value_conv.user_info, "u:secretpw");
    assert_int_equal(c->key_conv.kind, EVB__CONV_BYTES);
    evb_buf_t b;
    evb_buf_init(&b, 1u << 20);
    assert_int_equal(evb_connector_config_describe(c, &b), 0);
    assert_non_null(strstr(b.data, "value.converter.basic.auth.user.info="
                                   "[redacted]"));
    assert_null(strstr(b.data, "secretpw"));
    evb_buf_free(&b);
    evb_connector_config_free(c);
    c = parse_ok(BASE "value.converter=com.amazonaws.services.schemaregistry."
                      "kafkaconnect.AWSKafkaAvroConverter\n"
                      "value.converter.region=us-east-1\n"
                      "value.converter.registry.name=streaming\n"
                      "value.converter.avroRecordType=GENERIC_RECORD\n"
                      "value.converter.endpoint=http://127.0.0.1:4010\n");
    assert_int_equal(c->value_conv.kind, EVB__CONV_AVRO);
    assert_string_equal(c->value_conv.registry_url, "http://127.0.0.1:4010");
    evb_connector_config_free(c);
}

/* Bad configurations and a piece of the message each must give. */
static const struct {
    const char *extra, *drop, *want;
} bad[] = {
    {"", "aws.eventbridge.connector.id",
     "aws.eventbridge.connector.id: required"},
    {"aws.eventbridge.connector.id=  \n", NULL, "must not be blank"},
    {"aws.eventbridge.region=useast\n", NULL, "not an AWS region"},
    {"aws.eventbridge.eventbus.arn=arn:aws:events:us-east-1:12:event-bus/x\n",
     NULL, "not an event bus ARN"},
    {"aws.eventbridge.endpoint.uri=ftp://x\n", NULL,
     "not an http:// or https:// URL"},
    {"no.such.thing=1\n", NULL,
     "t.properties:6: no.such.thing: unknown property"},
    {"aws.eventbridge.retries.max=11\n", NULL, "not an integer from -1 to 10"},
    {"aws.eventbridge.retries.delay=soon\n", NULL, "'soon' is not an integer"},
    {"errors.tolerance=some\n", NULL, "must be none or all"},
    {"errors.deadletterqueue.topic.name=dlq\n", NULL,
     "a dead-letter topic needs errors.tolerance=all"},
    {"errors.tolerance=all\nerrors.deadletterqueue.topic.name=orders\n", NULL,
     "cannot be one the connector reads"},
    {"errors.tolerance=all\nerrors.deadletterqueue.topic.name=a/b\n", NULL,
     "not a valid Kafka topic name"},
    {"topics.regex=ord.*\n", NULL, "exactly one of topics and topics.regex"},
    {"", "topics", "exactly one of topics and topics.regex"},
    {"topics=a,b c\n", NULL, "'b c' is not a valid Kafka topic name"},
    {"topics.regex=(\n", "topics", "not a regular expression"},
    {"aws.eventbridge.iam.role.arn=arn:aws:iam::123456789012:role/r\n", NULL,
     "Not supported (no STS AssumeRole)"},
    {"aws.eventbridge.offloading.default.s3.bucket=b\n", NULL,
     "no S3 offloading"},
    {"aws.eventbridge.detail.types.mapper.class=JsonPathDetailTypeMapper\n",
     NULL, "JSON path configuration must be provided"},
    {"aws.eventbridge.detail.types.jsonpathmapper.fieldref=$.a[*]\n", NULL,
     "must be definite"},
    {"aws.eventbridge.detail.types.jsonpathmapper.fieldref=type\n", NULL,
     "not a JSONPath evbus knows"},
    {"aws.eventbridge.detail.types.mapper.class=com.example.Mapper\n", NULL,
     "no Java classes here"},
    {"aws.eventbridge.detail.types=a:b,c\n", NULL,
     "item 'c' is not topic:detail-type"},
    {"aws.eventbridge.detail.types=\n", NULL, "must not be empty"},
    {"value.converter=avro\n", NULL,
     "needs value.converter.schema.registry.url"},
    {"value.converter=com.example.Converter\n", NULL, "unknown converter"},
    {"key.converter.schemas.enable=true\n", NULL,
     "only the JsonConverter has schemas"},
    {"value.converter.schemas.enable=maybe\n", NULL, "is not true or false"},
    {"value.converter.avroRecordType=SPECIFIC_RECORD\n", NULL,
     "only GENERIC_RECORD"},
    {"connector.class=com.example.Other\n", NULL, "only software.amazon"},
    {"", "kafka.bootstrap.servers", "kafka.bootstrap.servers: required"},
    {"kafka.no.such.prop=1\n", NULL,
     "t.properties:6: kafka.no.such.prop: no.such.prop"},
    {"kafka.enable.auto.commit=true\n", NULL, NULL}, /* refused at run */
    {"kafka.=1\n", NULL, "a librdkafka property name must follow"},
    {"evbus.batch.max.entries=11\n", NULL, "not an integer from 1 to 10"},
    {"evbus.max.in.flight=0\n", NULL, "not an integer from 1 to 64"},
    {"bad\\u12=x\n", NULL, "malformed \\uxxxx escape"},
};

static void test_bad(void **state) {
    (void)state;
    for (size_t i = 0; i < EVB_ARRAY_LEN(bad); i++) {
        char text[2048] = "";
        const char *p = BASE;
        while (*p) { /* BASE without the dropped line */
            const char *nl = strchr(p, '\n');
            size_t len = (size_t)(nl - p) + 1;
            if (!bad[i].drop || strncmp(p, bad[i].drop, strlen(bad[i].drop)) ||
                p[strlen(bad[i].drop)] != '=')
                strncat(text, p, len);
            p += len;
        }
        strcat(text, bad[i].extra);
        evb_connector_config_t *c = NULL;
        char err[1024] = "";
        evb_err_t e = evb_connector_config_parse(
            text, strlen(text), "t.properties", &c, err, sizeof err);
        if (!bad[i].want) {
            evb_connector_config_free(c);
            continue;
        }
        if (!e || !strstr(err, bad[i].want))
            fail_msg("case %zu (%s): want '%s', got %d '%s'", i, bad[i].extra,
                     bad[i].want, (int)e, err);
        assert_null(c);
    }
}

static void test_json_errors(void **state) {
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"{\"topics\": [\"a\"]}", "t.json: topics: must be a string, number"},
        {"{\"a\":1,\"a\":2}", "not JSON"},
        {"{\"name\":\"x\",\"config\":{\"name\":\"y\"}}", "outside config"},
        {"{\"name\":\"x\",\"other\":1,\"config\":{}}", "only \"name\""},
        {"{\"config\":[]}", "config: must be an object"},
        {"{ nope", "not JSON"},
    };
    for (size_t i = 0; i < EVB_ARRAY_LEN(cases); i++) {
        evb_connector_config_t *c = NULL;
        char err[1024] = "";
        evb_err_t e =
            evb_connector_config_parse(cases[i].text, strlen(cases[i].text),
                                       "t.json", &c, err, sizeof err);
        if (!e || !strstr(err, cases[i].want))
            fail_msg("json case %zu: want '%s', got '%s'", i, cases[i].want,
                     err);
    }
}

static void test_doc(void **state) {
    (void)state;
    evb_buf_t b;
    evb_buf_init(&b, 1u << 20);
    assert_int_equal(evb_connector_config_doc(&b), 0);
    static const char *const names[] = {"`topics`",
                                        "`aws.eventbridge.connector.id`",
                                        "`aws.eventbridge.detail.types`",
                                        "`value.converter.schemas.enable`",
                                        "`errors.deadletterqueue.topic.name`",
                                        "`kafka.*`",
                                        "`evbus.max.in.flight`"};
    for (size_t i = 0; i < EVB_ARRAY_LEN(names); i++)
        assert_non_null(strstr(b.data, names[i]));
    assert_non_null(strstr(b.data, "| `aws.eventbridge.retries.max` | int (-1 "
                                   "to 10) | `2` | upstream |"));
    evb_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_json_forms),
        cmocka_unit_test(test_detail_type_forms),
        cmocka_unit_test(test_converters),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_doc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
