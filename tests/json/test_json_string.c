/*
 * test_json_string.c: the JSON string writers (json.c):
 * evb_json_append_string (Jackson's upper-case \u00XX, for AWS answers)
 * and evb_json_append_string_lower (lower-case, the schema registry's
 * schema texts and messages), which share one escaper.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "json/json.h"

typedef evb_err_t (*append_fn)(evb_buf_t *, const char *, size_t);

static void check(append_fn fn, const char *in, size_t len, const char *want) {
    evb_buf_t b;
    evb_buf_init(&b, 0);
    assert_int_equal(fn(&b, in, len), EVB_ERR_OK);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    evb_buf_free(&b);
}

static void plain_text_and_utf8_are_copied(void **state) {
    (void)state;
    const append_fn fns[] = {evb_json_append_string,
                             evb_json_append_string_lower};
    for (size_t i = 0; i < 2; i++) {
        check(fns[i], "", 0, "\"\"");
        check(fns[i], "abc", 3, "\"abc\"");
        check(fns[i], "h\xc3\xa9 \xf0\x9f\x98\x80", 8,
              "\"h\xc3\xa9 \xf0\x9f\x98\x80\"");
        check(fns[i], "a\"b\\c/", 6, "\"a\\\"b\\\\c/\"");
        check(fns[i], "\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
    }
}

static void control_characters_differ_only_in_hex_case(void **state) {
    (void)state;
    const char in[] = {'x', 0x00, 0x1b, 0x1f, 'y'};
    check(evb_json_append_string, in, sizeof in, "\"x\\u0000\\u001B\\u001Fy\"");
    check(evb_json_append_string_lower, in, sizeof in,
          "\"x\\u0000\\u001b\\u001fy\"");
}

static void a_full_buffer_is_reported(void **state) {
    (void)state;
    evb_buf_t b;
    evb_buf_init(&b, 4);
    assert_int_equal(evb_json_append_string_lower(&b, "\x01\x02", 2),
                     EVB_ERR_TOO_LARGE);
    evb_buf_free(&b);
    evb_buf_init(&b, 4);
    assert_int_equal(evb_json_append_string(&b, "abcdef", 6),
                     EVB_ERR_TOO_LARGE);
    evb_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_text_and_utf8_are_copied),
        cmocka_unit_test(control_characters_differ_only_in_hex_case),
        cmocka_unit_test(a_full_buffer_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
