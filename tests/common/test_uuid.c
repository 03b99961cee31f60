/* test_uuid.c: the UUID text form shared by every module (common/uuid.c):
 * formatting, parsing in either case, what the parser refuses, and the
 * random version 4 ids built on the same formatter; and evb_hex_value
 * (common.h), the hex digit reader under it and the JSON, Kafka and SigV4
 * decoders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/common.h"

static const uint8_t BYTES[16] = {0x3f, 0x1c, 0x9a, 0x52, 0x8d, 0x0e,
                                  0x4b, 0x7a, 0x9c, 0x61, 0x0e, 0x2f,
                                  0x5d, 0x7a, 0x1b, 0x34};
static const char TEXT[] = "3f1c9a52-8d0e-4b7a-9c61-0e2f5d7a1b34";

static void format_writes_lower_case_with_hyphens(void **state) {
    (void)state;
    char out[37];
    memset(out, 'x', sizeof out);
    evb_uuid_format(BYTES, out);
    assert_string_equal(out, TEXT);
    uint8_t zero[16] = {0}, ff[16];
    memset(ff, 0xff, sizeof ff);
    evb_uuid_format(zero, out);
    assert_string_equal(out, "00000000-0000-0000-0000-000000000000");
    evb_uuid_format(ff, out);
    assert_string_equal(out, "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

static void parse_reads_either_case_and_round_trips(void **state) {
    (void)state;
    uint8_t got[16];
    assert_true(evb_uuid_parse(TEXT, strlen(TEXT), got));
    assert_memory_equal(got, BYTES, 16);
    memset(got, 0, sizeof got);
    assert_true(evb_uuid_parse("3F1C9A52-8D0E-4B7A-9C61-0E2F5D7A1B34", 36,
                               got));
    assert_memory_equal(got, BYTES, 16);
    /* only the first len bytes are read: no NUL is needed */
    char longer[64];
    snprintf(longer, sizeof longer, "%s-and-more", TEXT);
    assert_true(evb_uuid_parse(longer, 36, got));
    assert_memory_equal(got, BYTES, 16);
    char back[37];
    evb_uuid_format(got, back);
    assert_string_equal(back, TEXT);
}

static void parse_refuses_malformed_text(void **state) {
    (void)state;
    uint8_t got[16];
    assert_false(evb_uuid_parse(NULL, 36, got));
    assert_false(evb_uuid_parse(TEXT, 35, got));
    assert_false(evb_uuid_parse(TEXT, 37, got));
    assert_false(evb_uuid_parse("", 0, got));
    static const char *const bad[] = {
        "3f1c9a52-8d0e-4b7a-9c61+0e2f5d7a1b34", /* '+' for a hyphen */
        "3f1c9a52-8d0e-4b7a-9c61-0e2f5d7a1b3g", /* not hex */
        "3f1c9a528d0e4b7a9c610e2f5d7a1b34xxxx", /* no hyphens */
        "3f1c9a5-28d0e-4b7a-9c61-0e2f5d7a1b34", /* hyphen misplaced */
        "3f1c9a52-8d0e-4b7a-9c61-0e2f5d7a1b 4", /* a space */
    };
    for (size_t i = 0; i < EVB_ARRAY_LEN(bad); i++)
        assert_false(evb_uuid_parse(bad[i], strlen(bad[i]), got));
    char nul[37];
    memcpy(nul, TEXT, sizeof nul);
    nul[20] = '\0';
    assert_false(evb_uuid_parse(nul, 36, got));
}

static void v4_ids_parse_and_carry_version_and_variant(void **state) {
    (void)state;
    char id[37];
    uint8_t b[16];
    for (int i = 0; i < 32; i++) {
        assert_int_equal(evb_uuid_v4(id), EVB_ERR_OK);
        assert_int_equal(strlen(id), 36);
        assert_true(evb_uuid_parse(id, 36, b));
        assert_int_equal(b[6] >> 4, 4);
        assert_int_equal(b[8] & 0xC0, 0x80);
        char again[37];
        evb_uuid_format(b, again);
        assert_string_equal(again, id);
    }
}

static void hex_value_reads_both_cases_and_nothing_else(void **state) {
    (void)state;
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        assert_int_equal(evb_hex_value(digits[i]), i);
        char upper =
            digits[i] >= 'a' ? (char)(digits[i] - 'a' + 'A') : digits[i];
        assert_int_equal(evb_hex_value(upper), i);
    }
    int valid = 0;
    for (int c = -128; c < 128; c++)
        valid += evb_hex_value((char)c) >= 0;
    assert_int_equal(valid, 22);
    assert_int_equal(evb_hex_value('g'), -1);
    assert_int_equal(evb_hex_value('G'), -1);
    assert_int_equal(evb_hex_value('/'), -1);
    assert_int_equal(evb_hex_value(':'), -1);
    assert_int_equal(evb_hex_value('@'), -1);
    assert_int_equal(evb_hex_value('`'), -1);
    assert_int_equal(evb_hex_value('\0'), -1);
    assert_int_equal(evb_hex_value((char)0xC1), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_writes_lower_case_with_hyphens),
        cmocka_unit_test(parse_reads_either_case_and_round_trips),
        cmocka_unit_test(parse_refuses_malformed_text),
        cmocka_unit_test(v4_ids_parse_and_carry_version_and_variant),
        cmocka_unit_test(hex_value_reads_both_cases_and_nothing_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
