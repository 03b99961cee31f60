/* test_avro_encode.c: JSON -> Avro binary (evb_avro_from_json): every form
 * a union value may take, records with defaults, strict mode, numbers and
 * their ranges, bytes/fixed/decimals, UTF-8 repair, and every error path
 * (with its path in the message, the output left as it was). Expected bytes
 * are written by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "avro/avro.h"

static evb_avro_schema_t *schema(const char *text) {
    evb_avro_schema_t *s = NULL;
    char err[512];
    if (evb_avro_schema_parse(text, strlen(text), &s, err, sizeof err))
        fprintf(stderr, "schema rejected: %s\n", err);
    assert_non_null(s);
    return s;
}

static int hexval(char c) {
    return c >= 'a' ? c - 'a' + 10 : c - '0';
}

/* Encode json with flags and compare with hex (spaces ignored). */
static void enc_ok_f(const char *sch, const char *json, unsigned flags,
                     const char *hex, int line) {
    evb_avro_schema_t *s = schema(sch);
    evb_buf_t out;
    evb_buf_init(&out, 0);
    char err[512] = "";
    evb_err_t e =
        evb_avro_from_json(s, json, strlen(json), flags, &out, err, sizeof err);
    uint8_t want[256];
    size_t n = 0;
    for (const char *h = hex; *h; h++) {
        if (*h == ' ')
            continue;
        want[n++] = (uint8_t)(hexval(h[0]) << 4 | hexval(h[1]));
        h++;
    }
    bool same = e == EVB_ERR_OK && out.len == n &&
                (n == 0 || memcmp(out.data, want, n) == 0);
    if (!same) {
        fprintf(stderr, "line %d: %s as %s\n  want %s\n  got (%s %s)", line,
                json, sch, hex, evb_err_name(e), err);
        for (size_t i = 0; i < out.len; i++)
            fprintf(stderr, " %02x", (uint8_t)out.data[i]);
        fprintf(stderr, "\n");
    }
    evb_buf_free(&out);
    evb_avro_schema_unref(s);
    assert_true(same);
}
#define enc_ok(s, j, h) enc_ok_f((s), (j), 0, (h), __LINE__)
#define enc_ok_flags(s, j, f, h) enc_ok_f((s), (j), (f), (h), __LINE__)

static void enc_err_f(const char *sch, const char *json, unsigned flags,
                      evb_err_t code, const char *msg, int line) {
    evb_avro_schema_t *s = schema(sch);
    evb_buf_t out;
    evb_buf_init(&out, 0);
    evb_buf_append(&out, "keep", 4);
    char err[512] = "";
    evb_err_t e =
        evb_avro_from_json(s, json, strlen(json), flags, &out, err, sizeof err);
    bool ok = e == code && strstr(err, msg) && out.len == 4 &&
              memcmp(out.data, "keep", 5) == 0;
    if (!ok)
        fprintf(stderr,
                "line %d: %s as %s\n  want %s '%s'\n  got %s '%s' "
                "(output %zu bytes)\n",
                line, json, sch, evb_err_name(code), msg, evb_err_name(e), err,
                out.len);
    evb_buf_free(&out);
    evb_avro_schema_unref(s);
    assert_true(ok);
}
#define enc_err(s, j, m)                                                       \
    enc_err_f((s), (j), 0, EVB_ERR_INVALID_ARG, (m), __LINE__)

static const char *REC = "{\"type\":\"record\",\"name\":\"Rec\",\"namespace\":"
                         "\"a.b\",\"fields\":[{\"name\":\"a\",\"type\":"
                         "\"int\"}]}";

static void nullable_unions(void **state) {
    (void)state;
    const char *ns = "[\"null\",\"string\"]";
    enc_ok(ns, "null", "00");
    enc_ok(ns, "\"x\"", "02 02 78");
    enc_ok(ns, "{\"string\":\"x\"}", "02 02 78"); /* Avro's JSON encoding */
    enc_ok("[\"string\",\"null\"]", "null", "02");
    enc_ok("[\"null\",\"long\"]", "{\"long\":5}", "02 0a");
    char rec_union[512];
    snprintf(rec_union, sizeof rec_union, "[\"null\",%s]", REC);
    enc_ok(rec_union, "{\"a\":1}", "02 02");
    enc_ok(rec_union, "{\"Rec\":{\"a\":1}}", "02 02");
    enc_ok(rec_union, "{\"a.b.Rec\":{\"a\":1}}", "02 02");
    /* a map is never unwrapped: {"int":1} is a map with the key "int" */
    enc_ok("[\"null\",{\"type\":\"map\",\"values\":\"int\"}]", "{\"int\":1}",
           "02 02 06 69 6e 74 02 00");
    enc_err(ns, "5", "expected a string, got number");
}

static void general_unions(void **state) {
    (void)state;
    const char *g = "[\"null\",\"string\",\"int\"]";
    enc_ok(g, "{\"string\":\"x\",\"int\":null}", "02 02 78");
    enc_ok(g, "{\"string\":null,\"int\":5}", "04 0a");
    enc_ok(g, "{\"int\":5}", "04 0a");
    enc_ok(g, "{\"string\":null,\"int\":null}", "00");
    enc_ok(g, "null", "00");
    enc_ok(g, "\"x\"", "02 02 78"); /* bare values */
    enc_ok(g, "5", "04 0a");
    enc_err(g, "{\"string\":\"x\",\"int\":5}",
            "more than one non-null branch (\"string\" and \"int\")");
    enc_err(g, "5.5", "no branch of the union accepts number 5.5");
    enc_err(g, "[1]", "no branch of the union accepts array");
    enc_err("[\"int\",\"string\"]", "{\"int\":null,\"string\":null}",
            "every branch of the union value is null");
    enc_err("[\"int\",\"string\"]", "null",
            "null for a union without a null branch");
    const char *nums = "[\"long\",\"double\"]";
    enc_ok(nums, "3", "00 06");
    enc_ok(nums, "3.5", "02 00 00 00 00 00 00 0c 40");
    enc_ok(nums, "3.0", "00 06"); /* integral: the long branch fits first */
    enc_ok("[\"null\",\"float\",\"double\"]", "\"NaN\"", "02 00 00 c0 7f");
    const char *e = "[\"null\",{\"type\":\"enum\",\"name\":\"E\",\"symbols\":"
                    "[\"A\",\"B\"]},\"string\"]";
    enc_ok(e, "\"B\"", "02 02");
    enc_ok(e, "\"zzz\"", "04 06 7a 7a 7a");
    enc_ok(e, "{\"E\":\"A\",\"string\":null}", "02 00");
    const char *am = "[\"null\",{\"type\":\"array\",\"items\":\"int\"},"
                     "{\"type\":\"map\",\"values\":\"int\"}]";
    enc_ok(am, "[1]", "02 02 02 00");
    enc_ok(am, "{\"k\":1}", "04 02 02 6b 02 00");
    enc_ok(am, "{\"array\":null,\"map\":{\"k\":1}}", "04 02 02 6b 02 00");
    enc_ok("[\"null\",\"bytes\",\"string\"]", "\"AQ==\"", "02 02 01");
    enc_ok("[\"null\",\"bytes\",\"string\"]", "\"not base64!\"",
           "04 16 6e 6f 74 20 62 61 73 65 36 34 21");
    char rec_union[512];
    snprintf(rec_union, sizeof rec_union, "[\"null\",%s,\"string\"]", REC);
    enc_ok(rec_union, "{\"Rec\":{\"a\":1},\"string\":null}", "02 02");
    enc_ok(rec_union, "{\"a.b.Rec\":{\"a\":1}}", "02 02");
    enc_ok(rec_union, "{\"a\":1}", "02 02"); /* bare object: the record */
    /* logical types keep their type's name */
    enc_ok("[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},"
           "\"string\"]",
           "{\"long\":1,\"string\":null}", "02 02");
    /* two branches with one JSON name: refused like the decoder refuses */
    enc_err("[\"null\",{\"type\":\"fixed\",\"name\":\"F\",\"size\":1},"
            "{\"type\":\"fixed\",\"name\":\"G\",\"size\":2}]",
            "{\"fixed\":\"AQ==\"}", "both map to the JSON member \"fixed\"");
    /* a bytes value shown under an earlier fixed branch goes back to a
     * bytes-class branch that can hold it */
    enc_ok("[{\"type\":\"fixed\",\"name\":\"F\",\"size\":3},\"bytes\"]",
           "{\"fixed\":\"AQ==\",\"bytes\":null}", "02 02 01");
    enc_ok("[{\"type\":\"fixed\",\"name\":\"F\",\"size\":1},\"bytes\"]",
           "{\"fixed\":\"AQ==\",\"bytes\":null}", "00 01");
}

static void records(void **state) {
    (void)state;
    const char *r =
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
        "{\"name\":\"a\",\"type\":\"int\"},"
        "{\"name\":\"b\",\"type\":\"string\",\"default\":\"dv\"},"
        "{\"name\":\"c\",\"type\":[\"null\",\"int\"],\"default\":null},"
        "{\"name\":\"d\",\"type\":{\"type\":\"array\",\"items\":\"long\"},"
        "\"default\":[1,2]},"
        "{\"name\":\"e\",\"type\":\"bytes\",\"default\":\"\\u00ff\\u0001\"},"
        "{\"name\":\"f\",\"type\":{\"type\":\"record\",\"name\":\"S\","
        "\"fields\":[{\"name\":\"g\",\"type\":\"int\",\"default\":7}]},"
        "\"default\":{}}]}";
    enc_ok(r, "{\"a\":1}", "02 04 64 76 00 04 02 04 00 04 ff 01 0e");
    enc_ok(r,
           "{\"f\":{\"g\":1},\"e\":\"\",\"d\":[],\"c\":3,\"b\":\"\","
           "\"a\":-1}",
           "01 00 02 06 00 00 02");
    enc_ok(r, "{\"a\":1,\"a\":2}", "04 04 64 76 00 04 02 04 00 04 ff 01 0e");
    enc_ok(r, "{\"a\":1,\"zz\":true}",
           "02 04 64 76 00 04 02 04 00 04 ff 01 0e");
    enc_err_f(r, "{\"a\":1,\"zz\":true}", EVB_AVRO_STRICT, EVB_ERR_INVALID_ARG,
              "record R has no field \"zz\"", __LINE__);
    enc_err(r, "{}", "missing required field \"a\" of record R (at $.a)");
    enc_err(r, "[]", "expected an object for record R, got array");
    enc_err(r, "{\"a\":1,\"f\":{\"g\":\"x\"}}",
            "expected an int, got string (at $.f.g)");
    const char *deep =
        "{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"items\","
        "\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":"
        "\"I\",\"fields\":[{\"name\":\"tags\",\"type\":{\"type\":\"map\","
        "\"values\":\"string\"}}]}}}]}";
    enc_err(deep, "{\"items\":[{\"tags\":{}},{\"tags\":{\"k\":1}}]}",
            "(at $.items[1].tags.k)");
}

static void numbers(void **state) {
    (void)state;
    enc_ok("\"int\"", "5", "0a");
    enc_ok("\"int\"", "5.0", "0a");
    enc_ok("\"int\"", "-2147483648", "ff ff ff ff 0f");
    enc_ok("\"int\"", "1e2", "c8 01");
    enc_err("\"int\"", "5.5", "5.5 is not an integer in -2147483648..");
    enc_err("\"int\"", "2147483648", "is not an integer");
    enc_err("\"int\"", "\"5\"", "expected an int, got string");
    enc_ok("{\"type\":\"int\",\"logicalType\":\"time-millis\"}", "86400000",
           "80 f0 b2 52");
    enc_err("{\"type\":\"int\",\"logicalType\":\"time-millis\"}", "-1",
            "not an integer in 0..86400000");
    enc_err("{\"type\":\"int\",\"connect.type\":\"int8\"}", "200",
            "not an integer in -128..127");
    enc_ok("\"long\"", "9223372036854775807", "fe ff ff ff ff ff ff ff ff 01");
    enc_ok("\"long\"", "-9223372036854775808", "ff ff ff ff ff ff ff ff ff 01");
    enc_err("\"long\"", "9223372036854775808", "is not a long integer");
    enc_err("\"long\"", "1e19", "is not a long integer");
    enc_err("\"long\"", "true", "expected a long, got true");
    enc_ok("\"float\"", "0.1", "cd cc cc 3d");
    enc_ok("\"float\"", "\"Infinity\"", "00 00 80 7f");
    enc_ok("\"double\"", "\"-Infinity\"", "00 00 00 00 00 00 f0 ff");
    enc_ok("\"double\"", "\"NaN\"", "00 00 00 00 00 00 f8 7f");
    enc_ok("\"double\"", "-0.0", "00 00 00 00 00 00 00 80");
    enc_ok("\"double\"", "197.52", "71 3d 0a d7 a3 b0 68 40");
    enc_err("\"double\"", "\"1.5\"", "expected a number, got string");
    enc_ok("\"boolean\"", "true", "01");
    enc_err("\"boolean\"", "1", "expected a boolean, got number");
    enc_ok("\"null\"", "null", "");
    enc_err("\"null\"", "0", "expected null, got number");
}

static void bytes_fixed_decimal(void **state) {
    (void)state;
    enc_ok("\"bytes\"", "\"AP8Q\"", "06 00 ff 10");
    enc_ok("\"bytes\"", "\"QQ\"", "02 41"); /* padding optional */
    enc_ok("\"bytes\"", "\"\"", "00");
    enc_err("\"bytes\"", "\"!!!!\"", "not valid base64");
    enc_err("\"bytes\"", "\"A\"", "not valid base64");
    enc_err("\"bytes\"", "5", "expected a base64 string for bytes, got number");
    const char *f3 = "{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}";
    enc_ok(f3, "\"AP8Q\"", "00 ff 10");
    enc_err(f3, "\"AP8=\"", "fixed F needs 3 bytes, got 2");
    const char *db = "{\"type\":\"bytes\",\"logicalType\":\"decimal\","
                     "\"precision\":6,\"scale\":4}";
    enc_ok(db, "10.2345", "06 01 8f c9");
    enc_ok(db, "10.23450", "06 01 8f c9");
    enc_ok(db, "1", "04 27 10");
    enc_ok(db, "1e-4", "02 01");
    enc_ok(db, "-0.0001", "02 ff");
    enc_ok(db, "0", "02 00");
    enc_ok(db, "-0", "02 00");
    enc_ok(db, "\"AY/J\"", "06 01 8f c9");
    enc_err(db, "10.23456", "has more fraction digits than the scale 4");
    enc_err(db, "100.0001", "more digits than the precision 6");
    enc_err(db, "\"\"", "decimal value has no bytes");
    enc_err(db, "true", "expected a base64 string");
    const char *dnp = "{\"type\":\"bytes\",\"logicalType\":\"decimal\","
                      "\"scale\":2}"; /* no precision: no digit limit */
    enc_ok(dnp, "1267650600228229401496703205.376e1",
           "1a 10 00 00 00 00 00 00 00 00 00 00 00 00");
    enc_ok(dnp, "-128e-2", "02 80");
    enc_ok(dnp, "1.28", "04 00 80");
    const char *fd = "{\"type\":\"fixed\",\"name\":\"M\",\"size\":8,"
                     "\"logicalType\":\"decimal\",\"precision\":18,"
                     "\"scale\":2}";
    enc_ok(fd, "-1.5", "ff ff ff ff ff ff ff 6a");
    enc_ok(fd, "0.01", "00 00 00 00 00 00 00 01");
    enc_ok(fd, "\"AQ==\"", "00 00 00 00 00 00 00 01"); /* minimal, extended */
    enc_ok(fd, "\"/2o=\"", "ff ff ff ff ff ff ff 6a");
    enc_err(fd, "\"AAAAAAAAAAAA\"", "fixed M needs 8 bytes, got 9");
    const char *small = "{\"type\":\"fixed\",\"name\":\"T\",\"size\":1,"
                        "\"logicalType\":\"decimal\",\"scale\":0}";
    enc_ok(small, "127", "7f");
    enc_ok(small, "-128", "80");
    enc_err(small, "128", "does not fit in fixed(1)");
}

static void strings_enums_collections(void **state) {
    (void)state;
    enc_ok("\"string\"", "\"h\\u00e9\"", "06 68 c3 a9");
    enc_ok("\"string\"", "\"\\ud83d\\ude00\"", "08 f0 9f 98 80");
    /* raw invalid UTF-8 inside the JSON text is repaired */
    enc_ok("\"string\"",
           "\"a\xff"
           "b\"",
           "0a 61 ef bf bd 62");
    enc_err("\"string\"", "{}", "expected a string, got object");
    const char *e = "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\","
                    "\"B\"]}";
    enc_ok(e, "\"B\"", "02");
    enc_err(e, "\"C\"", "\"C\" is not a symbol of enum E");
    enc_err(e, "1", "expected a symbol of enum E, got number");
    enc_ok("{\"type\":\"array\",\"items\":\"int\"}", "[]", "00");
    enc_ok("{\"type\":\"array\",\"items\":\"int\"}", "[1,2]", "04 02 04 00");
    enc_err("{\"type\":\"array\",\"items\":\"int\"}", "{}",
            "expected an array, got object");
    enc_err("{\"type\":\"array\",\"items\":\"int\"}", "[1,\"x\"]", "(at $[1])");
    const char *m = "{\"type\":\"map\",\"values\":\"int\"}";
    enc_ok(m, "{}", "00");
    enc_ok(m, "{\"a\":1,\"b\":2}", "04 02 61 02 02 62 04 00");
    enc_ok(m, "{\"\xc3\":1}", "02 06 ef bf bd 02 00");
    enc_err(m, "[]", "expected an object for a map, got array");
    enc_err(m, "{\"a\":null}", "(at $.a)");
}

static void syntax_and_limits(void **state) {
    (void)state;
    enc_err_f("\"int\"", "{", 0, EVB_ERR_INVALID_JSON, "", __LINE__);
    enc_err_f("\"int\"", "1 2", 0, EVB_ERR_INVALID_JSON, "", __LINE__);
    enc_err_f("\"int\"", "", 0, EVB_ERR_INVALID_JSON, "", __LINE__);
    /* nesting beyond the parser's limit */
    char deep[2000];
    size_t n = 0;
    for (int i = 0; i < 600; i++)
        deep[n++] = '[';
    for (int i = 0; i < 600; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    enc_err_f("{\"type\":\"array\",\"items\":\"int\"}", deep, 0,
              EVB_ERR_INVALID_JSON, "", __LINE__);
    /* a bounded output buffer */
    evb_avro_schema_t *s = schema("\"string\"");
    evb_buf_t out;
    evb_buf_init(&out, 8);
    char err[256];
    assert_int_equal(
        evb_avro_from_json(s, "\"0123456789\"", 12, 0, &out, err, sizeof err),
        EVB_ERR_TOO_LARGE);
    assert_int_equal(out.len, 0);
    assert_int_equal(
        evb_avro_from_json(s, "\"0123\"", 6, 0, &out, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(out.len, 5);
    evb_buf_free(&out);
    evb_avro_schema_unref(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nullable_unions),
        cmocka_unit_test(general_unions),
        cmocka_unit_test(records),
        cmocka_unit_test(numbers),
        cmocka_unit_test(bytes_fixed_decimal),
        cmocka_unit_test(strings_enums_collections),
        cmocka_unit_test(syntax_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
