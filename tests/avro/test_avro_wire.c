/* test_avro_wire.c: Confluent and AWS Glue framing: parsing, encoding,
 * zlib (against zlib's own compress as the independent producer), bounded
 * inflation, and every error (truncation, unknown magic and compression,
 * bad or truncated zlib, trailing bytes); UUID text forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "avro/avro.h"

static const uint8_t UUID[16] = {0x3f, 0x1c, 0x9a, 0x52, 0x8d, 0x0e,
                                 0x4b, 0x7a, 0x9c, 0x61, 0x0e, 0x2f,
                                 0x5d, 0x7a, 0x1b, 0x34};

static void expect_err(const void *data, size_t len, evb_buf_t *scratch,
                       size_t max, evb_err_t code, const char *msg) {
    evb_wire_info_t wi;
    char err[256] = "";
    evb_err_t e = evb_wire_parse(data, len, scratch, max, &wi, err, sizeof err);
    if (e != code || !strstr(err, msg))
        fprintf(stderr, "want %s '%s', got %s '%s'\n", evb_err_name(code), msg,
                evb_err_name(e), err);
    assert_int_equal(e, code);
    assert_non_null(strstr(err, msg));
}

static void confluent(void **state) {
    (void)state;
    const uint8_t rec[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0xAA, 0xBB};
    evb_wire_info_t wi;
    char err[256];
    assert_int_equal(
        evb_wire_parse(rec, sizeof rec, NULL, 0, &wi, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(wi.format, EVB_WIRE_CONFLUENT);
    assert_int_equal(wi.schema_id, 0x01020304);
    assert_ptr_equal(wi.payload, rec + 5);
    assert_int_equal(wi.payload_len, 2);
    assert_string_equal(evb_wire_format_name(wi.format), "confluent");
    /* a header and nothing else: an empty datum (a null, say) */
    assert_int_equal(evb_wire_parse(rec, 5, NULL, 0, &wi, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(wi.payload_len, 0);
    expect_err(rec, 3, NULL, 0, EVB_ERR_INVALID_ARG,
               "Confluent wire format: header truncated (3 of 5 bytes)");
    expect_err(rec, 0, NULL, 0, EVB_ERR_INVALID_ARG, "empty record value");
    const uint8_t v1[] = {0x01, 0, 0, 0, 1, 0};
    expect_err(v1, sizeof v1, NULL, 0, EVB_ERR_INVALID_ARG,
               "Unknown magic byte! 0x01");
    expect_err("{\"a\":1}", 7, NULL, 0, EVB_ERR_INVALID_ARG,
               "Unknown magic byte! 0x7b");

    /* encode: header + datum, then back */
    evb_avro_schema_t *s;
    assert_int_equal(
        evb_avro_schema_parse("\"string\"", 8, &s, err, sizeof err),
        EVB_ERR_OK);
    evb_buf_t out, json;
    evb_buf_init(&out, 0);
    evb_buf_init(&json, 0);
    assert_int_equal(evb_wire_confluent_header(&out, 0xDEADBEEF), EVB_ERR_OK);
    assert_int_equal(
        evb_avro_from_json(s, "\"hi\"", 4, 0, &out, err, sizeof err),
        EVB_ERR_OK);
    const uint8_t want[] = {0x00, 0xDE, 0xAD, 0xBE, 0xEF, 0x04, 'h', 'i'};
    assert_int_equal(out.len, sizeof want);
    assert_memory_equal(out.data, want, sizeof want);
    assert_int_equal(
        evb_wire_parse(out.data, out.len, NULL, 0, &wi, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(wi.schema_id, 0xDEADBEEF);
    assert_int_equal(evb_avro_to_json(s, wi.payload, wi.payload_len, NULL,
                                      &json, NULL, err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(json.data, "\"hi\"");
    evb_buf_free(&out);
    evb_buf_free(&json);
    evb_avro_schema_unref(s);
}

static void glue_uncompressed(void **state) {
    (void)state;
    uint8_t rec[21] = {0x03, 0x00};
    memcpy(rec + 2, UUID, 16);
    rec[18] = 0x02;
    rec[19] = 0x02;
    rec[20] = 0x78;
    evb_wire_info_t wi;
    char err[256];
    assert_int_equal(
        evb_wire_parse(rec, sizeof rec, NULL, 0, &wi, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(wi.format, EVB_WIRE_GLUE);
    assert_int_equal(wi.glue_compression, 0);
    assert_memory_equal(wi.glue_uuid, UUID, 16);
    assert_ptr_equal(wi.payload, rec + 18);
    assert_int_equal(wi.payload_len, 3);
    assert_string_equal(evb_wire_format_name(wi.format), "glue");
    expect_err(rec, 17, NULL, 0, EVB_ERR_INVALID_ARG,
               "AWS Glue wire format: header truncated (17 of 18 bytes)");
    rec[1] = 2;
    expect_err(rec, sizeof rec, NULL, 0, EVB_ERR_INVALID_ARG,
               "unknown compression byte 2 (expected 0 or 5)");
    /* our own framing gives the same bytes */
    evb_buf_t out;
    evb_buf_init(&out, 0);
    rec[1] = 0;
    assert_int_equal(evb_wire_glue_frame(&out, UUID, 0, rec + 18, 3),
                     EVB_ERR_OK);
    assert_int_equal(out.len, sizeof rec);
    assert_memory_equal(out.data, rec, sizeof rec);
    assert_int_equal(evb_wire_glue_frame(&out, UUID, 7, "x", 1),
                     EVB_ERR_INVALID_ARG);
    assert_int_equal(out.len, sizeof rec);
    evb_buf_free(&out);
}

/* a Glue zlib frame made with zlib's compress(), as Java's Deflater would */
static uint8_t *zlib_frame(const void *payload, size_t n, size_t *len) {
    uLongf cl = compressBound((uLong)n);
    uint8_t *f = malloc(18 + cl);
    f[0] = 3;
    f[1] = 5;
    memcpy(f + 2, UUID, 16);
    assert_int_equal(compress(f + 18, &cl, payload, (uLong)n), Z_OK);
    *len = 18 + cl;
    return f;
}

static void glue_zlib(void **state) {
    (void)state;
    const char payload[] = "\x02\x16some payload bytes, some payload bytes";
    size_t flen;
    uint8_t *f = zlib_frame(payload, sizeof payload - 1, &flen);
    assert_int_equal(f[18], 0x78); /* zlib header */
    evb_buf_t scratch;
    evb_buf_init(&scratch, 0);
    evb_wire_info_t wi;
    char err[256];
    assert_int_equal(evb_wire_parse(f, flen, &scratch, 0, &wi, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(wi.format, EVB_WIRE_GLUE);
    assert_int_equal(wi.glue_compression, 5);
    assert_int_equal(wi.payload_len, sizeof payload - 1);
    assert_memory_equal(wi.payload, payload, sizeof payload - 1);
    assert_ptr_equal(wi.payload, (const uint8_t *)scratch.data);
    /* the scratch buffer is reused */
    assert_int_equal(evb_wire_parse(f, flen, &scratch, 0, &wi, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(wi.payload_len, sizeof payload - 1);

    /* our framing inflates back to the payload */
    evb_buf_t out;
    evb_buf_init(&out, 0);
    assert_int_equal(
        evb_wire_glue_frame(&out, UUID, 5, payload, sizeof payload - 1),
        EVB_ERR_OK);
    assert_int_equal(
        evb_wire_parse(out.data, out.len, &scratch, 0, &wi, err, sizeof err),
        EVB_ERR_OK);
    assert_memory_equal(wi.payload, payload, sizeof payload - 1);

    /* an empty payload compresses and inflates to nothing */
    free(f);
    f = zlib_frame("", 0, &flen);
    assert_int_equal(evb_wire_parse(f, flen, &scratch, 0, &wi, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(wi.payload_len, 0);
    assert_non_null(wi.payload);

    /* errors */
    expect_err(out.data, out.len, NULL, 0, EVB_ERR_INVALID_ARG,
               "no buffer to inflate it into");
    uint8_t bad[30] = {3, 5};
    memcpy(bad + 2, UUID, 16);
    memcpy(bad + 18, "not zlib at all", 12);
    expect_err(bad, sizeof bad, &scratch, 0, EVB_ERR_INVALID_ARG,
               "bad zlib data");
    expect_err(out.data, out.len - 4, &scratch, 0, EVB_ERR_INVALID_ARG,
               "zlib stream is truncated");
    expect_err(out.data, 18, &scratch, 0, EVB_ERR_INVALID_ARG,
               "zlib stream is truncated");
    evb_buf_append(&out, "xx", 2);
    expect_err(out.data, out.len, &scratch, 0, EVB_ERR_INVALID_ARG,
               "2 bytes after the end of the zlib stream");
    assert_int_equal(scratch.len, 0); /* reset after a failure */
    free(f);
    evb_buf_free(&out);
    evb_buf_free(&scratch);
}

static void glue_zlib_bounded(void **state) {
    (void)state;
    size_t n = 10u * 1024 * 1024; /* 10 MiB of zeros: about 10 KiB zipped */
    uint8_t *zeros = calloc(n, 1);
    size_t flen;
    uint8_t *f = zlib_frame(zeros, n, &flen);
    assert_true(flen < 20000);
    evb_buf_t scratch;
    evb_buf_init(&scratch, 0);
    evb_wire_info_t wi;
    char err[256];
    expect_err(f, flen, &scratch, 1024 * 1024, EVB_ERR_TOO_LARGE,
               "inflates to more than 1048576 bytes");
    assert_true(scratch.cap <= 1024 * 1024 + 1);
    expect_err(f, flen, &scratch, n - 1, EVB_ERR_TOO_LARGE,
               "inflates to more than");
    assert_int_equal(evb_wire_parse(f, flen, &scratch, n, &wi, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(wi.payload_len, n);
    /* the scratch buffer's own maximum bounds it too */
    evb_buf_t small;
    evb_buf_init(&small, 4096);
    expect_err(f, flen, &small, 0, EVB_ERR_TOO_LARGE, "inflates to more than");
    evb_buf_free(&small);
    evb_buf_free(&scratch);
    free(f);
    free(zeros);
}

static void uuids(void **state) {
    (void)state;
    char text[37];
    evb_wire_uuid_format(UUID, text);
    assert_string_equal(text, "3f1c9a52-8d0e-4b7a-9c61-0e2f5d7a1b34");
    uint8_t back[16];
    assert_true(evb_wire_uuid_parse(text, 36, back));
    assert_memory_equal(back, UUID, 16);
    assert_true(
        evb_wire_uuid_parse("3F1C9A52-8D0E-4B7A-9C61-0E2F5D7A1B34", 36, back));
    assert_memory_equal(back, UUID, 16);
    assert_false(evb_wire_uuid_parse(text, 35, back));
    assert_false(
        evb_wire_uuid_parse("3f1c9a52-8d0e-4b7a-9c61+0e2f5d7a1b34", 36, back));
    assert_false(
        evb_wire_uuid_parse("3f1c9a52-8d0e-4b7a-9c61-0e2f5d7a1b3g", 36, back));
    assert_false(
        evb_wire_uuid_parse("3f1c9a528d0e4b7a9c610e2f5d7a1b34xxxx", 36, back));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(confluent), cmocka_unit_test(glue_uncompressed),
        cmocka_unit_test(glue_zlib), cmocka_unit_test(glue_zlib_bounded),
        cmocka_unit_test(uuids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
