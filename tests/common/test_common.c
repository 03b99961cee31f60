/* test_common.c: the error table, the arena and the bounded buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/common.h"

static void error_table_names_every_error(void **state) {
    (void)state;
    for (int e = 0; e < EVB_ERR__COUNT; e++) {
        assert_non_null(evb_err_name((evb_err_t)e));
        assert_non_null(evb_err_message((evb_err_t)e));
        assert_non_null(evb_err_aws_type((evb_err_t)e));
    }
    assert_string_equal(evb_err_name(EVB_ERR_INVALID_EVENT_PATTERN),
                        "INVALID_EVENT_PATTERN");
    assert_string_equal(evb_err_aws_type(EVB_ERR_INVALID_EVENT_PATTERN),
                        "InvalidEventPatternException");
    assert_string_equal(evb_err_aws_type(EVB_ERR_OK), "");
    assert_string_equal(evb_err_name((evb_err_t)9999), "UNKNOWN");
}

static void err_set_formats_and_returns_code(void **state) {
    (void)state;
    char buf[16];
    assert_int_equal(evb_err_set(EVB_ERR_IO, buf, sizeof buf, "x=%d", 42),
                     EVB_ERR_IO);
    assert_string_equal(buf, "x=42");
    /* truncation is safe */
    evb_err_set(EVB_ERR_IO, buf, sizeof buf, "%s", "a very long message here");
    assert_int_equal(strlen(buf), sizeof buf - 1);
    /* NULL buffer is allowed */
    assert_int_equal(evb_err_set(EVB_ERR_IO, NULL, 0, "x"), EVB_ERR_IO);
}

static void arena_allocates_aligned_and_resets(void **state) {
    (void)state;
    evb_arena_t a;
    evb_arena_init(&a, 64);
    for (int i = 1; i < 200; i++) {
        char *p = evb_arena_alloc(&a, (size_t)i);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0xAB, (size_t)i);
    }
    char *big = evb_arena_alloc(&a, 100000);
    assert_non_null(big);
    memset(big, 1, 100000);
    char *s = evb_arena_strndup(&a, "hello", 3);
    assert_string_equal(s, "hel");
    int *z = evb_arena_calloc(&a, 10, sizeof(int));
    for (int i = 0; i < 10; i++)
        assert_int_equal(z[i], 0);
    assert_null(evb_arena_calloc(&a, SIZE_MAX / 2, 4));
    evb_arena_reset(&a);
    assert_int_equal(a.total, 0);
    assert_non_null(evb_arena_alloc(&a, 10));
    evb_arena_free(&a);
}

static void buf_refuses_to_grow_past_max(void **state) {
    (void)state;
    evb_buf_t b;
    evb_buf_init(&b, 10);
    assert_int_equal(evb_buf_append(&b, "12345", 5), EVB_ERR_OK);
    assert_int_equal(evb_buf_appendf(&b, "%d", 678), EVB_ERR_OK);
    assert_string_equal(b.data, "12345678");
    assert_int_equal(evb_buf_append(&b, "abc", 3), EVB_ERR_TOO_LARGE);
    assert_string_equal(b.data, "12345678");
    assert_int_equal(evb_buf_putc(&b, '9'), EVB_ERR_OK);
    assert_int_equal(evb_buf_putc(&b, '0'), EVB_ERR_OK);
    assert_int_equal(evb_buf_putc(&b, 'x'), EVB_ERR_TOO_LARGE);
    evb_buf_reset(&b);
    assert_int_equal(b.len, 0);
    evb_buf_free(&b);
}

static void buf_reads_files_and_reports_missing_ones(void **state) {
    (void)state;
    evb_buf_t b;
    evb_buf_init(&b, 0);
    char err[256];
    assert_int_equal(
        evb_buf_read_file(&b, EVB_TEST_DATA_DIR "/conformance/README.md", err,
                          sizeof err),
        EVB_ERR_OK);
    assert_true(b.len > 100);
    evb_buf_free(&b);
    evb_buf_init(&b, 0);
    assert_int_equal(
        evb_buf_read_file(&b, "/nonexistent/file", err, sizeof err),
        EVB_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/file"));
    evb_buf_free(&b);
}

static void uuid_v4_has_the_rfc_shape_and_varies(void **state) {
    (void)state;
    char a[37], b[37];
    assert_int_equal(evb_uuid_v4(a), EVB_ERR_OK);
    assert_int_equal(evb_uuid_v4(b), EVB_ERR_OK);
    assert_int_equal(strlen(a), 36);
    assert_true(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    assert_int_equal(a[14], '4');
    assert_true(strchr("89ab", a[19]) != NULL);
    assert_string_not_equal(a, b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_table_names_every_error),
        cmocka_unit_test(err_set_formats_and_returns_code),
        cmocka_unit_test(arena_allocates_aligned_and_resets),
        cmocka_unit_test(buf_refuses_to_grow_past_max),
        cmocka_unit_test(buf_reads_files_and_reports_missing_ones),
        cmocka_unit_test(uuid_v4_has_the_rfc_shape_and_varies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
