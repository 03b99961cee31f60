/*
 * Records -> PutEvents entries: the detail's exact text (key order,
 * nulls, headers, converters), the detail-type strategies, the entry and
 * its size by EventBridge's formula, the batching rule, and how PutEvents
 * answers are read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

typedef struct fixture {
    evb_connector_config_t *cfg;
    evb_connector_mapper_t *m;
    evb_buf_t out, dt;
} fixture_t;

static fixture_t *setup(const char *extra) {
    fixture_t *f = calloc(1, sizeof *f);
    char text[4096];
    snprintf(text, sizeof text, "%s%s", BASE, extra);
    char err[1024];
    if (evb_connector_config_parse(text, strlen(text), "t", &f->cfg, err,
                                   sizeof err))
        fail_msg("config: %s", err);
    if (evb_connector_mapper_new(f->cfg, &f->m, err, sizeof err))
        fail_msg("mapper: %s", err);
    evb_buf_init(&f->out, 1u << 24);
    evb_buf_init(&f->dt, 1u << 20);
    return f;
}

static void teardown(fixture_t *f) {
    evb_connector_mapper_free(f->m);
    evb_connector_config_free(f->cfg);
    evb_buf_free(&f->out);
    evb_buf_free(&f->dt);
    free(f);
}

static evb_connector_record_t rec(const char *key, const char *value) {
    return (evb_connector_record_t){
        .topic = "orders",
        .partition = 3,
        .offset = 42,
        .timestamp_ms = 1695000000000,
        .timestamp_type = EVB_KAFKA_TS_CREATE_TIME,
        .key = key,
        .key_len = key ? strlen(key) : 0,
        .value = value,
        .value_len = value ? strlen(value) : 0,
    };
}

/* The detail and detail type of r, or the failure message. */
static void expect(fixture_t *f, const evb_connector_record_t *r,
                   const char *detail, const char *dt) {
    evb_buf_reset(&f->out);
    evb_buf_reset(&f->dt);
    evb_connector_failure_t why;
    evb_err_t err = evb_connector_map_detail(f->m, r, &f->out, &f->dt, &why);
    if (err)
        fail_msg("map: %s (%s)", why.message, why.stage);
    assert_string_equal(f->out.data, detail);
    if (dt)
        assert_string_equal(f->dt.data, dt);
}

static void test_json_value(void **state) {
    (void)state;
    fixture_t *f = setup("");
    evb_kafka_header_t h[] = {{"trace", "abc", 3},
                              {"n", "42", 2},
                              {"ok", "true", 4},
                              {"none", NULL, 0},
                              {"obj", "{ \"a\" : [1, 2] }", 16},
                              {"empty", "", 0},
                              {"f", "1.50", 4},
                              {"date", "2024-01-01", 10}};
    evb_connector_record_t r = rec("user-1", "{ \"source\": \"app\",\n"
                                             " \"total\": 197.520 }");
    r.headers = h;
    r.nheaders = EVB_ARRAY_LEN(h);
    expect(
        f, &r,
        "{\"topic\":\"orders\",\"partition\":3,\"offset\":42,"
        "\"timestamp\":1695000000000,\"timestampType\":\"CreateTime\","
        "\"headers\":[{\"trace\":\"abc\"},{\"n\":42},{\"ok\":true},"
        "{\"none\":null},{\"obj\":{\"a\":[1,2]}},{\"empty\":\"\"},"
        "{\"f\":1.50},{\"date\":\"2024-01-01\"}],"
        "\"key\":\"user-1\",\"value\":{\"source\":\"app\",\"total\":197.520}}",
        "kafka-connect-orders");
    teardown(f);
}

static void test_nulls(void **state) {
    (void)state;
    fixture_t *f = setup("");
    evb_connector_record_t r = rec(NULL, NULL);
    r.timestamp_ms = -1;
    r.timestamp_type = EVB_KAFKA_TS_NONE;
    expect(f, &r,
           "{\"topic\":\"orders\",\"partition\":3,\"offset\":42,"
           "\"timestamp\":null,\"timestampType\":\"NoTimestampType\","
           "\"headers\":[],\"key\":null,\"value\":null}",
           NULL);
    /* an empty JSON value is null too; LogAppendTime */
    r = rec("", "");
    r.timestamp_type = EVB_KAFKA_TS_LOG_APPEND_TIME;
    expect(f, &r,
           "{\"topic\":\"orders\",\"partition\":3,\"offset\":42,"
           "\"timestamp\":1695000000000,\"timestampType\":\"LogAppendTime\","
           "\"headers\":[],\"key\":\"\",\"value\":null}",
           NULL);
    teardown(f);
}

static void test_string_and_bytes(void **state) {
    (void)state;
    fixture_t *f = setup("value.converter=string\nkey.converter=bytes\n");
    evb_connector_record_t r =
        rec("\x01\x02\xff", "{\"a\":1}\tbad:\xc3(\xe2\x82");
    expect(f, &r,
           "{\"topic\":\"orders\",\"partition\":3,\"offset\":42,"
           "\"timestamp\":1695000000000,\"timestampType\":\"CreateTime\","
           "\"headers\":[],\"key\":\"AQL/\",\"value\":\"{\\\"a\\\":1}\\tbad:"
           "\xef\xbf\xbd(\xef\xbf\xbd\"}",
           NULL);
    teardown(f);
}

static void test_envelope(void **state) {
    (void)state;
    fixture_t *f = setup("value.converter.schemas.enable=true\n");
    evb_connector_record_t r = rec(
        "k", "{\"schema\":{\"type\":\"int32\"}, \"payload\": { \"x\" : 5 }}");
    expect(f, &r,
           "{\"topic\":\"orders\",\"partition\":3,\"offset\":42,"
           "\"timestamp\":1695000000000,\"timestampType\":\"CreateTime\","
           "\"headers\":[],\"key\":\"k\",\"value\":{\"x\":5}}",
           NULL);
    evb_connector_failure_t why;
    r = rec("k", "{\"x\":5}");
    evb_buf_reset(&f->out);
    assert_int_equal(evb_connector_map_detail(f->m, &r, &f->out, NULL, &why),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(why.stage, "VALUE_CONVERTER");
    assert_string_equal(why.class_name,
                        "org.apache.kafka.connect.json.JsonConverter");
    assert_string_equal(why.exception,
                        "org.apache.kafka.connect.errors.DataException");
    assert_non_null(strstr(why.message, "requires \"schema\" and \"payload\""));
    assert_int_equal(f->out.len, 0);
    teardown(f);
}

static void test_bad_json(void **state) {
    (void)state;
    fixture_t *f = setup("");
    evb_connector_record_t r = rec("k", "{\"a\":");
    evb_connector_failure_t why;
    assert_int_equal(evb_connector_map_detail(f->m, &r, &f->out, NULL, &why),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(why.stage, "VALUE_CONVERTER");
    assert_non_null(strstr(why.message, "Converting byte[] to Kafka Connect "
                                        "data failed due to serialization "
                                        "error"));
    teardown(f);
}

static void detail_type_of(fixture_t *f, const char *topic, const char *value,
                           const char *want) {
    evb_connector_record_t r = rec("k", value);
    r.topic = topic;
    evb_buf_reset(&f->out);
    evb_buf_reset(&f->dt);
    evb_connector_failure_t why;
    if (evb_connector_map_detail(f->m, &r, &f->out, &f->dt, &why))
        fail_msg("map: %s", why.message);
    assert_string_equal(f->dt.data, want);
}

static void test_detail_types(void **state) {
    (void)state;
    fixture_t *f = setup("aws.eventbridge.detail.types=t-${topic}-${topic}\n");
    detail_type_of(f, "orders", "1", "t-orders-orders");
    teardown(f);
    f = setup("aws.eventbridge.detail.types=Static\n");
    detail_type_of(f, "orders", "1", "Static");
    teardown(f);
    f = setup("aws.eventbridge.detail.types=orders:Order,pay:Payment\n");
    detail_type_of(f, "orders", "1", "Order");
    detail_type_of(f, "pay", "1", "Payment");
    detail_type_of(f, "other", "1", "kafka-connect-other");
    teardown(f);
    f = setup("aws.eventbridge.detail.types.jsonpathmapper.fieldref="
              "$.meta.type\n");
    detail_type_of(f, "orders", "{\"meta\":{\"type\":\"Created\"}}", "Created");
    detail_type_of(f, "orders", "{\"meta\":{\"type\":\"A \\\"q\\\"\"}}",
                   "A \"q\"");
    detail_type_of(f, "orders", "{\"meta\":{\"type\":5}}", "orders");
    detail_type_of(f, "orders", "{\"meta\":{\"type\":\"  \"}}", "orders");
    detail_type_of(f, "orders", "{\"meta\":{}}", "orders");
    detail_type_of(f, "orders", "[1]", "orders");
    detail_type_of(f, "orders", "null", "orders");
    teardown(f);
}

static void test_entry(void **state) {
    (void)state;
    fixture_t *f = setup("aws.eventbridge.eventbus.resources=r1, arn:r2\n");
    evb_connector_record_t r = rec("k", "{\"a\":\"é\"}");
    size_t size = 0;
    evb_connector_failure_t why;
    assert_int_equal(evb_connector_map(f->m, &r, &f->out, &size, &why), 0);
    const char *detail = "{\"topic\":\"orders\",\"partition\":3,\"offset\":42,"
                         "\"timestamp\":1695000000000,\"timestampType\":"
                         "\"CreateTime\",\"headers\":[],\"key\":\"k\","
                         "\"value\":{\"a\":\"é\"}}";
    assert_string_equal(
        f->out.data,
        "{\"Source\":\"kafka-connect.my-connector\",\"DetailType\":"
        "\"kafka-connect-orders\",\"Detail\":\"{\\\"topic\\\":\\\"orders\\\","
        "\\\"partition\\\":3,\\\"offset\\\":42,\\\"timestamp\\\":1695000000000,"
        "\\\"timestampType\\\":\\\"CreateTime\\\",\\\"headers\\\":[],"
        "\\\"key\\\":\\\"k\\\",\\\"value\\\":{\\\"a\\\":\\\"é\\\"}}\","
        "\"EventBusName\":\"arn:aws:events:us-east-1:123456789012:event-bus/"
        "default\",\"Resources\":[\"r1\",\"arn:r2\"]}");
    assert_int_equal(size, strlen("kafka-connect.my-connector") +
                               strlen("kafka-connect-orders") + strlen(detail) +
                               2 + 6);
    teardown(f);
}

static void test_batch_plan(void **state) {
    (void)state;
    size_t sizes[30], ends[30];
    for (size_t i = 0; i < 25; i++)
        sizes[i] = 100;
    size_t nb = evb_connector_batch_plan(sizes, 25, 10, 262144, ends);
    assert_int_equal(nb, 3);
    assert_int_equal(ends[0], 10);
    assert_int_equal(ends[1], 20);
    assert_int_equal(ends[2], 25);
    /* by size: 100000 + 100000 fit, a third does not */
    size_t big[] = {100000, 100000, 100000, 300000, 10, 262144, 1};
    nb = evb_connector_batch_plan(big, 7, 10, 262144, ends);
    assert_int_equal(nb, 6);
    assert_int_equal(ends[0], 2);
    assert_int_equal(ends[1], 3); /* 100000 alone (the next is too big) */
    assert_int_equal(ends[2], 4); /* the oversized entry alone */
    assert_int_equal(ends[3], 5); /* 10 + 262144 > limit */
    assert_int_equal(ends[4], 6); /* 262144 + 1 > limit */
    assert_int_equal(ends[5], 7);
    assert_int_equal(evb_connector_batch_plan(sizes, 0, 10, 100, ends), 0);
}

static void test_batch_plan_exact(void **state) {
    (void)state;
    size_t s[] = {262143, 1, 1};
    size_t ends[3];
    size_t nb = evb_connector_batch_plan(s, 3, 10, 262144, ends);
    assert_int_equal(nb, 2);
    assert_int_equal(ends[0], 2);
    assert_int_equal(ends[1], 3);
}

static void test_responses(void **state) {
    (void)state;
    evb__pe_entry_result_t e[3];
    evb__pe_result_t res = {.entries = e};
    const char *ok = "{\"FailedEntryCount\":2,\"Entries\":[{\"EventId\":\"1\"},"
                     "{\"ErrorCode\":\"ThrottlingException\",\"ErrorMessage\":"
                     "\"slow down\"},{\"ErrorCode\":\"MalformedDetail\","
                     "\"ErrorMessage\":\"Detail is malformed.\"}]}";
    evb__pe_parse_response(200, ok, strlen(ok), 3, &res);
    assert_int_equal(res.outcome, EVB__PE_OK);
    assert_true(e[0].ok);
    assert_false(e[1].ok);
    assert_true(e[1].retriable);
    assert_string_equal(e[1].code, "ThrottlingException");
    assert_false(e[2].retriable);
    assert_string_equal(e[2].message, "Detail is malformed.");
    evb__pe_parse_response(200, ok, strlen(ok), 2, &res);
    assert_int_equal(res.outcome, EVB__PE_RETRY);
    const char *internal =
        "{\"Entries\":[{\"ErrorCode\":\"InternalFailure\"}]}";
    evb__pe_parse_response(200, internal, strlen(internal), 1, &res);
    assert_true(e[0].retriable);
    const char *thr = "{\"__type\":\"com.amazon#ThrottlingException\","
                      "\"message\":\"Rate exceeded\"}";
    evb__pe_parse_response(400, thr, strlen(thr), 1, &res);
    assert_int_equal(res.outcome, EVB__PE_RETRY);
    assert_string_equal(res.error,
                        "HTTP 400 ThrottlingException: Rate exceeded");
    evb__pe_parse_response(413, "", 0, 1, &res);
    assert_int_equal(res.outcome, EVB__PE_TOO_LARGE);
    evb__pe_parse_response(503, "busy", 4, 1, &res);
    assert_int_equal(res.outcome, EVB__PE_RETRY);
    assert_string_equal(res.error, "HTTP 503: busy");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_value),
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_string_and_bytes),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_detail_types),
        cmocka_unit_test(test_entry),
        cmocka_unit_test(test_batch_plan),
        cmocka_unit_test(test_batch_plan_exact),
        cmocka_unit_test(test_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
