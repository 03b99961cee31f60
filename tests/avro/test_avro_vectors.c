/* test_avro_vectors.c: the Avro -> JSON rules of avro.h as data.
 *
 * tests/data/avro/vectors.jsonl (written by gen_vectors.py beside it, with
 * the bytes built by hand and the expected JSON written as Java prints it)
 * holds one vector a line: a schema, the bytes, and either the exact JSON
 * text or an error substring. Each vector is decoded and compared byte for
 * byte; on errors the output buffer must be left as it was. Unless the
 * vector says "roundtrip": false, the expected JSON is encoded back and must
 * give exactly the original bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "avro/avro.h"

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static size_t unhex(const char *h, uint8_t *out) {
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(hexval(h[2 * i]) << 4 | hexval(h[2 * i + 1]));
    return n;
}

static int run_vector(json_t *v) {
    const char *name = json_string_value(json_object_get(v, "name"));
    char *schema_text = json_dumps(json_object_get(v, "schema"),
                                   JSON_COMPACT | JSON_ENCODE_ANY);
    const char *hex = json_string_value(json_object_get(v, "hex"));
    const char *want = json_string_value(json_object_get(v, "json"));
    const char *want_err = json_string_value(json_object_get(v, "error"));
    json_t *rt = json_object_get(v, "roundtrip");
    bool roundtrip = !rt || json_is_true(rt);
    evb_avro_json_opts_t opts = {0};
    size_t fi;
    json_t *f;
    json_array_foreach(json_object_get(v, "flags"), fi, f) {
        if (strcmp(json_string_value(f), "decimal_number") == 0)
            opts.flags |= EVB_AVRO_DECIMAL_NUMBER;
        if (strcmp(json_string_value(f), "allow_trailing") == 0)
            opts.flags |= EVB_AVRO_ALLOW_TRAILING;
    }
    int bad = 0;
    char err[512] = "";
    evb_avro_schema_t *s = NULL;
    uint8_t *bytes = malloc(strlen(hex) / 2 + 1);
    size_t n = unhex(hex, bytes);
    evb_buf_t out;
    evb_buf_init(&out, 0);
    evb_buf_append(&out, "prefix:", 7);
    if (evb_avro_schema_parse(schema_text, strlen(schema_text), &s, err,
                              sizeof err)) {
        fprintf(stderr, "[%s] schema rejected: %s\n", name, err);
        bad = 1;
        goto done;
    }
    evb_err_t e =
        evb_avro_to_json(s, bytes, n, &opts, &out, NULL, err, sizeof err);
    if (want_err) {
        if (e == EVB_ERR_OK) {
            fprintf(stderr, "[%s] expected error '%s', got %s\n", name,
                    want_err, out.data);
            bad = 1;
        } else if (!strstr(err, want_err)) {
            fprintf(stderr, "[%s] expected error '%s', got '%s'\n", name,
                    want_err, err);
            bad = 1;
        } else if (out.len != 7 || strcmp(out.data, "prefix:") != 0) {
            fprintf(stderr, "[%s] output changed on error\n", name);
            bad = 1;
        }
        goto done;
    }
    if (e != EVB_ERR_OK) {
        fprintf(stderr, "[%s] decode failed: %s\n", name, err);
        bad = 1;
        goto done;
    }
    if (strcmp(out.data + 7, want) != 0 || out.len != 7 + strlen(want)) {
        fprintf(stderr, "[%s] got  %s\n[%s] want %s\n", name, out.data + 7,
                name, want);
        bad = 1;
        goto done;
    }
    if (roundtrip) {
        evb_buf_t bin;
        evb_buf_init(&bin, 0);
        e = evb_avro_from_json(s, want, strlen(want), 0, &bin, err, sizeof err);
        if (e != EVB_ERR_OK) {
            fprintf(stderr, "[%s] encoding the JSON back failed: %s\n", name,
                    err);
            bad = 1;
        } else if (bin.len != n || (n && memcmp(bin.data, bytes, n) != 0)) {
            fprintf(stderr, "[%s] encoding the JSON back gave %zu bytes:", name,
                    bin.len);
            for (size_t i = 0; i < bin.len; i++)
                fprintf(stderr, " %02x", (uint8_t)bin.data[i]);
            fprintf(stderr, "\n");
            bad = 1;
        }
        evb_buf_free(&bin);
    }
done:
    evb_buf_free(&out);
    evb_avro_schema_unref(s);
    free(bytes);
    free(schema_text);
    return bad;
}

static void vectors(void **state) {
    (void)state;
    const char *path = EVB_TEST_DATA_DIR "/avro/vectors.jsonl";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int total = 0, failed = 0;
    while ((got = getline(&line, &cap, f)) > 0) {
        json_error_t je;
        json_t *v = json_loadb(line, (size_t)got, 0, &je);
        if (!v) {
            fprintf(stderr, "bad vector line: %s\n", je.text);
            failed++;
            continue;
        }
        total++;
        failed += run_vector(v);
        json_decref(v);
    }
    free(line);
    fclose(f);
    fprintf(stderr, "%d vectors, %d failed\n", total, failed);
    assert_true(total > 150);
    assert_int_equal(failed, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
