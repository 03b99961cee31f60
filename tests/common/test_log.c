/* test_log.c: the logger's text and JSON lines, levels and redaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/common.h"

static char out[8192];

/* Run the records written by fn into a temporary file; out gets them. */
static void capture(evb_log_format_t fmt, evb_log_level_t level,
                    void (*fn)(void)) {
    FILE *f = tmpfile();
    assert_non_null(f);
    evb_log_setup(fmt, level, f);
    fn();
    evb_log_setup(EVB_LOG_TEXT, EVB_LOG_INFO, NULL);
    rewind(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
}

static void records(void) {
    evb_log(EVB_LOG_DEBUG, "api", "hidden at info");
    evb_log(EVB_LOG_INFO, NULL, "listening on %s", "http://127.0.0.1:1");
    evb_log(EVB_LOG_ERROR, "delivery", "cannot write: %d\n", 5);
    evb_log_field_t f[] = {
        EVB_LOG_STR("request_id", "abc-1"),
        EVB_LOG_STR("path", "/a b"),
        EVB_LOG_INT("status", 503),
        EVB_LOG_NUM("ms", 1.5),
        EVB_LOG_STR("authorization", "AWS4-HMAC-SHA256 Credential=X"),
        EVB_LOG_STR("aws_secret_access_key", "s3cr3t"),
        EVB_LOG_STR("absent", NULL),
    };
    evb_log_fields(EVB_LOG_WARN, "http", "request \"refused\"", f,
                   EVB_ARRAY_LEN(f));
}

static void text_lines(void **state) {
    (void)state;
    capture(EVB_LOG_TEXT, EVB_LOG_INFO, records);
    assert_string_equal(
        out, "evbus: listening on http://127.0.0.1:1\n"
             "evbus: delivery: error: cannot write: 5\n"
             "evbus: http: warning: request \"refused\" request_id=abc-1 "
             "path=\"/a b\" status=503 ms=1.5 authorization=[redacted] "
             "aws_secret_access_key=[redacted]\n");
}

static void json_lines(void **state) {
    (void)state;
    capture(EVB_LOG_JSON, EVB_LOG_DEBUG, records);
    char *line = out;
    int lines = 0;
    while (*line) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        json_error_t e;
        json_t *j = json_loads(line, 0, &e);
        if (!j)
            fail_msg("not JSON: %s (%s)", line, e.text);
        assert_non_null(json_string_value(json_object_get(j, "time")));
        assert_non_null(json_string_value(json_object_get(j, "level")));
        if (lines == 3) {
            assert_string_equal(json_string_value(json_object_get(j, "level")),
                                "warn");
            assert_string_equal(
                json_string_value(json_object_get(j, "component")), "http");
            assert_string_equal(json_string_value(json_object_get(j, "msg")),
                                "request \"refused\"");
            assert_int_equal(json_integer_value(json_object_get(j, "status")),
                             503);
            assert_true(json_real_value(json_object_get(j, "ms")) == 1.5);
            assert_string_equal(
                json_string_value(json_object_get(j, "authorization")),
                "[redacted]");
            assert_null(json_object_get(j, "absent"));
        }
        assert_null(strstr(line, "s3cr3t"));
        assert_null(strstr(line, "Credential"));
        json_decref(j);
        lines++;
        line = nl + 1;
    }
    assert_int_equal(lines, 4); /* debug included */
}

static void levels_and_names(void **state) {
    (void)state;
    evb_log_level_t l;
    evb_log_format_t f;
    assert_true(evb_log_parse_level("WARNING", &l));
    assert_int_equal(l, EVB_LOG_WARN);
    assert_true(evb_log_parse_level("debug", &l));
    assert_int_equal(l, EVB_LOG_DEBUG);
    assert_false(evb_log_parse_level("loud", &l));
    assert_false(evb_log_parse_level(NULL, &l));
    assert_true(evb_log_parse_format("json", &f));
    assert_int_equal(f, EVB_LOG_JSON);
    assert_false(evb_log_parse_format("xml", &f));
    capture(EVB_LOG_TEXT, EVB_LOG_ERROR, records);
    assert_string_equal(out, "evbus: delivery: error: cannot write: 5\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_lines),
        cmocka_unit_test(json_lines),
        cmocka_unit_test(levels_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
