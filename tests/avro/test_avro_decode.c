/* test_avro_decode.c: evb_avro_to_json beyond the per-rule vectors: output
 * appended and bounded (both limits, exact at the boundary, restored on
 * error), bytes consumed, huge counts of zero-size items, depth limits on
 * recursive schemas, duplicate-key merging on large maps, long decimals,
 * error text (offset and path), and several threads sharing one schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

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

static size_t put_long(uint8_t *p, int64_t v) {
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

static void appends_and_consumed(void **state) {
    (void)state;
    evb_avro_schema_t *s = schema("\"int\"");
    evb_buf_t out;
    evb_buf_init(&out, 0);
    evb_buf_append(&out, "[", 1);
    const uint8_t data[] = {0x54, 0x01, 0x02};
    size_t used = 99;
    char err[256];
    evb_avro_json_opts_t o = {.flags = EVB_AVRO_ALLOW_TRAILING};
    assert_int_equal(evb_avro_to_json(s, data, sizeof data, &o, &out, &used,
                                      err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(out.data, "[42");
    assert_int_equal(used, 1);
    /* without the flag the same bytes are an error, output untouched */
    assert_int_equal(evb_avro_to_json(s, data, sizeof data, NULL, &out, &used,
                                      err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "2 trailing bytes after the Avro datum (at byte "
                             "1, $)");
    assert_string_equal(out.data, "[42");
    /* no input at all for a null */
    evb_avro_schema_t *n = schema("\"null\"");
    assert_int_equal(
        evb_avro_to_json(n, NULL, 0, NULL, &out, NULL, err, sizeof err),
        EVB_ERR_OK);
    assert_string_equal(out.data, "[42null");
    evb_avro_schema_unref(n);
    evb_buf_free(&out);
    evb_avro_schema_unref(s);
}

static void output_limits(void **state) {
    (void)state;
    evb_avro_schema_t *s = schema("\"string\"");
    uint8_t data[10016];
    size_t h = put_long(data, 10000);
    memset(data + h, 'a', 10000);
    size_t len = h + 10000;
    evb_buf_t out;
    evb_buf_init(&out, 0);
    char err[256];
    /* exactly enough: the string plus its quotes */
    evb_avro_json_opts_t o = {.max_output = 10002};
    assert_int_equal(
        evb_avro_to_json(s, data, len, &o, &out, NULL, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(out.len, 10002);
    evb_buf_reset(&out);
    o.max_output = 10001;
    assert_int_equal(
        evb_avro_to_json(s, data, len, &o, &out, NULL, err, sizeof err),
        EVB_ERR_TOO_LARGE);
    assert_int_equal(out.len, 0);
    evb_buf_free(&out);
    /* the buffer's own maximum counts too */
    evb_buf_init(&out, 5000);
    assert_int_equal(
        evb_avro_to_json(s, data, len, NULL, &out, NULL, err, sizeof err),
        EVB_ERR_TOO_LARGE);
    assert_int_equal(out.len, 0);
    assert_true(out.cap <= 5001);
    evb_buf_free(&out);
    evb_avro_schema_unref(s);
}

static void zero_size_items_bounded(void **state) {
    (void)state;
    /* a dozen bytes claim 2^40 nulls: the output limit stops it quickly */
    evb_avro_schema_t *s = schema("{\"type\":\"array\",\"items\":\"null\"}");
    uint8_t data[16];
    size_t n = put_long(data, (int64_t)1 << 40);
    n += put_long(data + n, 0);
    evb_buf_t out;
    evb_buf_init(&out, 0);
    char err[256];
    evb_avro_json_opts_t o = {.max_output = 1 << 20};
    assert_int_equal(
        evb_avro_to_json(s, data, n, &o, &out, NULL, err, sizeof err),
        EVB_ERR_TOO_LARGE);
    assert_int_equal(out.len, 0);
    assert_true(out.cap <= (1 << 20) + 1);
    evb_buf_free(&out);
    evb_avro_schema_unref(s);
    /* empty records too */
    s = schema("{\"type\":\"map\",\"values\":{\"type\":\"record\",\"name\":"
               "\"E\",\"fields\":[]}}");
    n = put_long(data, (int64_t)1 << 40);
    data[n++] = 0; /* one empty key; the count needs a byte per entry */
    evb_buf_init(&out, 0);
    assert_int_equal(
        evb_avro_to_json(s, data, n, &o, &out, NULL, err, sizeof err),
        EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "map block of 1099511627776 items"));
    evb_buf_free(&out);
    evb_avro_schema_unref(s);
}

static void depth_limit(void **state) {
    (void)state;
    evb_avro_schema_t *s =
        schema("{\"type\":\"record\",\"name\":\"L\",\"fields\":[{\"name\":"
               "\"next\",\"type\":[\"null\",\"L\"]}]}");
    /* 200 nested lists: each level is a record and a union */
    uint8_t data[256];
    for (int i = 0; i < 200; i++)
        data[i] = 0x02;
    data[200] = 0x00;
    evb_buf_t out;
    evb_buf_init(&out, 0);
    char err[512];
    assert_int_equal(
        evb_avro_to_json(s, data, 201, NULL, &out, NULL, err, sizeof err),
        EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "nesting deeper than 128 levels"));
    assert_non_null(strstr(err, "$....next.next")); /* path, truncated */
    evb_avro_json_opts_t o = {.max_depth = 500};
    assert_int_equal(
        evb_avro_to_json(s, data, 201, &o, &out, NULL, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(strncmp(out.data, "{\"next\":{\"next\":", 16), 0);
    evb_buf_free(&out);
    evb_avro_schema_unref(s);
}

static void large_map_duplicates(void **state) {
    (void)state;
    /* 100 entries over 40 distinct keys: first position, last value */
    evb_avro_schema_t *s = schema("{\"type\":\"map\",\"values\":\"int\"}");
    uint8_t data[2048];
    size_t n = put_long(data, 100);
    for (int i = 0; i < 100; i++) {
        char key[8];
        int k = (i * 7) % 40;
        int kl = snprintf(key, sizeof key, "k%d", k);
        n += put_long(data + n, kl);
        memcpy(data + n, key, (size_t)kl);
        n += (size_t)kl;
        n += put_long(data + n, i);
    }
    n += put_long(data + n, 0);
    evb_buf_t out;
    evb_buf_init(&out, 0);
    char err[256];
    assert_int_equal(
        evb_avro_to_json(s, data, n, NULL, &out, NULL, err, sizeof err),
        EVB_ERR_OK);
    /* expected: keys in first-seen order, each with its last value */
    evb_buf_t want;
    evb_buf_init(&want, 0);
    evb_buf_putc(&want, '{');
    bool seen[40] = {false};
    for (int i = 0; i < 100; i++) {
        int k = (i * 7) % 40;
        if (seen[k])
            continue;
        seen[k] = true;
        int last = i;
        for (int j = i; j < 100; j++)
            if ((j * 7) % 40 == k)
                last = j;
        evb_buf_appendf(&want, "%s\"k%d\":%d", want.len > 1 ? "," : "", k,
                        last);
    }
    evb_buf_putc(&want, '}');
    assert_string_equal(out.data, want.data);
    evb_buf_free(&want);
    evb_buf_free(&out);
    evb_avro_schema_unref(s);
}

static void long_decimals(void **state) {
    (void)state;
    evb_avro_schema_t *s = schema("{\"type\":\"bytes\",\"logicalType\":"
                                  "\"decimal\",\"precision\":20000,"
                                  "\"scale\":2}");
    size_t len = 5000;
    uint8_t *data = calloc(len + 8, 1);
    size_t h = put_long(data, (int64_t)len);
    data[h] = 0x01; /* 1 followed by zero bytes: 256^4999 */
    evb_buf_t out;
    evb_buf_init(&out, 0);
    char err[256];
    /* base64 is fine at any length */
    assert_int_equal(
        evb_avro_to_json(s, data, h + len, NULL, &out, NULL, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(out.len, (len + 2) / 3 * 4 + 2);
    evb_buf_reset(&out);
    evb_avro_json_opts_t o = {.flags = EVB_AVRO_DECIMAL_NUMBER};
    assert_int_equal(
        evb_avro_to_json(s, data, h + len, &o, &out, NULL, err, sizeof err),
        EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "too long to write as a number"));
    free(data);
    evb_buf_free(&out);
    evb_avro_schema_unref(s);
}

typedef struct job {
    evb_avro_schema_t *s;
    const uint8_t *data;
    size_t len;
    const char *want;
    int failures;
} job_t;

static void *worker(void *arg) {
    job_t *j = arg;
    evb_buf_t out;
    evb_buf_init(&out, 0);
    char err[256];
    for (int i = 0; i < 20000; i++) {
        evb_buf_reset(&out);
        if (evb_avro_to_json(j->s, j->data, j->len, NULL, &out, NULL, err,
                             sizeof err) ||
            strcmp(out.data, j->want) != 0)
            j->failures++;
    }
    evb_buf_free(&out);
    return NULL;
}

static void threads_share_a_schema(void **state) {
    (void)state;
    evb_avro_schema_t *s =
        schema("{\"type\":\"record\",\"name\":\"R\",\"fields\":["
               "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":"
               "[\"null\",\"string\",\"int\"]}}]}");
    uint8_t data[64];
    size_t n = put_long(data, 2);
    n += put_long(data + n, 1);
    data[n++] = 'a';
    n += put_long(data + n, 2); /* int branch */
    n += put_long(data + n, 5);
    n += put_long(data + n, 1);
    data[n++] = 'a';
    n += put_long(data + n, 1); /* string branch, duplicate key */
    n += put_long(data + n, 1);
    data[n++] = 'x';
    n += put_long(data + n, 0);
    const char *want = "{\"m\":{\"a\":{\"string\":\"x\",\"int\":null}}}";
    job_t jobs[2] = {{s, data, n, want, 0}, {s, data, n, want, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, &jobs[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(jobs[0].failures + jobs[1].failures, 0);
    evb_avro_schema_unref(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(appends_and_consumed),
        cmocka_unit_test(output_limits),
        cmocka_unit_test(zero_size_items_bounded),
        cmocka_unit_test(depth_limit),
        cmocka_unit_test(large_map_duplicates),
        cmocka_unit_test(long_decimals),
        cmocka_unit_test(threads_share_a_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
