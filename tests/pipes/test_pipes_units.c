/* test_pipes_units.c: the pieces of a pipe on their own: records as a pipe
 * sees them (§6.2), FilterCriteria with the format-match table (§6.3),
 * input templates and JSONPath (§6.5). The filter and template cases are
 * data: tests/data/pipes/filters.json and templates.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "pipes/pipes.h"
#include "pipes/pipes_internal.h"

/* ---- records -------------------------------------------------------------------- */

static void shape(const evb_pipe_origin_t *o, const evb_pipe_record_t *r,
                  evb_pipe_shaped_t *s) {
    char err[256];
    assert_int_not_equal(evb_pipe_shape(o, r, NULL, NULL, s, err, sizeof err),
                         EVB_PIPE_DECODE_RETRY);
}

static void test_record_smk(void **state) {
    (void)state;
    evb_pipe_header_t h[] = {{"headerKey", "headerValue", 11},
                             {"empty", NULL, 0}};
    evb_pipe_record_t r = {
        .topic = "mytopic",
        .partition = 0,
        .offset = 15,
        .timestamp_ms = 1545084650987,
        .ts_type = EVB_PIPE_TS_CREATE,
        .key = "k1",
        .key_len = 2,
        .value = "{\"a\": 1, \"b\": \"x\"}",
        .value_len = 18,
        .headers = h,
        .nheaders = 2,
    };
    evb_pipe_origin_t o = {false, "b-1:9092,b-2:9092"};
    evb_pipe_shaped_t s;
    evb_pipe_shaped_init(&s);
    shape(&o, &r, &s);
    assert_string_equal(
        s.event.data,
        "{\"eventSource\":\"SelfManagedKafka\",\"bootstrapServers\":\"b-1:9092,"
        "b-2:9092\",\"eventSourceKey\":\"mytopic-0\",\"topic\":\"mytopic\","
        "\"partition\":0,\"offset\":15,\"timestamp\":1545084650987,"
        "\"timestampType\":\"CREATE_TIME\",\"key\":\"azE=\",\"value\":"
        "\"eyJhIjogMSwgImIiOiAieCJ9\",\"headers\":[{\"headerKey\":[104,101,"
        "97,100,101,114,86,97,108,117,101]},{\"empty\":[]}]}");
    assert_int_equal(s.value_kind, EVB_PIPE_DATA_JSON);
    assert_int_equal(s.key_kind, EVB_PIPE_DATA_TEXT);
    /* the filter view: no eventSource / eventSourceKey, data decoded */
    assert_string_equal(
        s.filter_view.data,
        "{\"bootstrapServers\":\"b-1:9092,b-2:9092\",\"topic\":\"mytopic\","
        "\"partition\":0,\"offset\":15,\"timestamp\":1545084650987,"
        "\"timestampType\":\"CREATE_TIME\",\"headers\":[{\"headerKey\":[104,"
        "101,97,100,101,114,86,97,108,117,101]},{\"empty\":[]}],\"key\":"
        "\"k1\",\"value\":{\"a\": 1, \"b\": \"x\"}}");
    /* the template view: the JSON value decoded, the text key in base64 */
    json_t *v = evb_pipe_shaped_template_view(&s);
    assert_non_null(v);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(v, "value"), "a")),
                     1);
    assert_string_equal(json_string_value(json_object_get(v, "key")), "azE=");
    json_decref(v);
    evb_pipe_shaped_free(&s);
}

static void test_record_msk_binary_tombstone(void **state) {
    (void)state;
    evb_pipe_record_t r = {
        .topic = "t",
        .partition = 3,
        .offset = 0,
        .timestamp_ms = 7,
        .ts_type = EVB_PIPE_TS_LOG_APPEND,
        .value = "\xff\xfe\x00",
        .value_len = 3,
    };
    evb_pipe_origin_t o = {true, "arn:aws:kafka:us-east-1:000000000000:"
                                 "cluster/c/1"};
    evb_pipe_shaped_t s;
    evb_pipe_shaped_init(&s);
    shape(&o, &r, &s);
    assert_string_equal(
        s.event.data,
        "{\"eventSource\":\"aws:kafka\",\"eventSourceArn\":\"arn:aws:kafka:us-"
        "east-1:000000000000:cluster/c/1\",\"eventSourceKey\":\"t-3\","
        "\"topic\":\"t\",\"partition\":3,\"offset\":0,\"timestamp\":7,"
        "\"timestampType\":\"LOG_APPEND_TIME\",\"value\":\"//4A\","
        "\"headers\":[]}");
    assert_int_equal(s.value_kind, EVB_PIPE_DATA_BINARY);
    assert_int_equal(s.key_kind, EVB_PIPE_DATA_NONE);
    /* binary data is left out of the filter view */
    assert_null(strstr(s.filter_view.data, "value"));
    /* a tombstone: no value at all */
    r.value = NULL;
    r.value_len = 0;
    r.ts_type = EVB_PIPE_TS_NONE;
    shape(&o, &r, &s);
    assert_null(strstr(s.event.data, "\"value\""));
    assert_non_null(strstr(s.event.data, "NO_TIMESTAMP_TYPE"));
    assert_int_equal(s.value_kind, EVB_PIPE_DATA_NONE);
    /* JSON scalars are text: "42" */
    r.value = "42";
    r.value_len = 2;
    shape(&o, &r, &s);
    assert_int_equal(s.value_kind, EVB_PIPE_DATA_TEXT);
    assert_non_null(strstr(s.filter_view.data, "\"value\":\"42\""));
    evb_pipe_shaped_free(&s);
}

/* a decode hook: values starting with 0x00 are "Avro" and decode to JSON */
static evb_pipe_decode_result_t fake_avro(void *ud, const evb_pipe_record_t *rec,
                                          bool is_key, const void *data,
                                          size_t len, evb_buf_t *json,
                                          evb_pipe_decode_info_t *info,
                                          char *errstr, size_t errstr_size) {
    (void)rec;
    (void)info;
    (void)errstr;
    (void)errstr_size;
    int *calls = ud;
    (*calls)++;
    if (is_key || len < 1 || ((const unsigned char *)data)[0] != 0)
        return EVB_PIPE_DECODE_PASS;
    if (len >= 2 && ((const unsigned char *)data)[1] == 'R')
        return EVB_PIPE_DECODE_RETRY;
    evb_buf_append(json, "{\"decoded\":true}", 16);
    return EVB_PIPE_DECODE_JSON;
}

static void test_record_decode_hook(void **state) {
    (void)state;
    int calls = 0;
    evb_pipe_record_t r = {.topic = "t", .value = "\0abc", .value_len = 4};
    evb_pipe_origin_t o = {false, "h:1"};
    evb_pipe_shaped_t s;
    evb_pipe_shaped_init(&s);
    char err[128];
    assert_int_equal(
        evb_pipe_shape(&o, &r, fake_avro, &calls, &s, err, sizeof err),
        EVB_PIPE_DECODE_JSON);
    assert_int_equal(s.value_kind, EVB_PIPE_DATA_JSON);
    assert_non_null(strstr(s.filter_view.data, "\"value\":{\"decoded\":true}"));
    assert_non_null(strstr(s.event.data, "\"value\":\"AGFiYw==\""));
    r.value = "\0R";
    r.value_len = 2;
    assert_int_equal(
        evb_pipe_shape(&o, &r, fake_avro, &calls, &s, err, sizeof err),
        EVB_PIPE_DECODE_RETRY);
    assert_true(calls >= 2);
    evb_pipe_shaped_free(&s);
}

static void test_base64(void **state) {
    (void)state;
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                         "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        evb_buf_t b;
        evb_buf_init(&b, 0);
        assert_int_equal(evb_pipe_base64(&b, in[i], strlen(in[i])), 0);
        assert_string_equal(b.data ? b.data : "", out[i]);
        evb_buf_free(&b);
    }
}

/* ---- data-driven cases ---------------------------------------------------------- */

static json_t *load_cases(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/pipes/%s", EVB_TEST_DATA_DIR, name);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        fail_msg("%s: %s (line %d)", path, je.text, je.line);
    return j;
}

/* A record from a case: {"key": text|null, "value": text|null,
 * "value_hex": "ff00", "partition": n, "offset": n, "topic": "..."} */
static void case_record(const json_t *c, evb_pipe_record_t *r,
                        unsigned char *bin, size_t bin_cap) {
    memset(r, 0, sizeof *r);
    const char *t = json_string_value(json_object_get(c, "topic"));
    r->topic = t ? t : "orders";
    r->partition = (int32_t)json_integer_value(json_object_get(c, "partition"));
    r->offset = json_integer_value(json_object_get(c, "offset"));
    r->timestamp_ms = 1700000000000;
    r->ts_type = EVB_PIPE_TS_CREATE;
    const char *k = json_string_value(json_object_get(c, "key"));
    if (k) {
        r->key = k;
        r->key_len = strlen(k);
    }
    const char *v = json_string_value(json_object_get(c, "value"));
    if (v) {
        r->value = v;
        r->value_len = strlen(v);
    }
    const char *hx = json_string_value(json_object_get(c, "value_hex"));
    if (hx) {
        size_t n = strlen(hx) / 2;
        assert_true(n <= bin_cap);
        for (size_t i = 0; i < n; i++) {
            unsigned x;
            sscanf(hx + 2 * i, "%2x", &x);
            bin[i] = (unsigned char)x;
        }
        r->value = bin;
        r->value_len = n;
    }
}

static void test_filter_table(void **state) {
    (void)state;
    json_t *cases = load_cases("filters.json");
    evb_match_ctx_t *ctx = evb_match_ctx_new();
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        const json_t *pats = json_object_get(c, "filters");
        const char *p[5];
        size_t lens[5], n = json_array_size(pats);
        for (size_t k = 0; k < n; k++) {
            p[k] = json_string_value(json_array_get(pats, k));
            lens[k] = strlen(p[k]);
        }
        evb_pipe_filter_t *f = NULL;
        char err[1024];
        evb_err_t e = evb_pipe_filter_compile(p, lens, n, &f, err, sizeof err);
        const char *want_err = json_string_value(json_object_get(c, "error"));
        if (want_err) {
            if (e != EVB_ERR_INVALID_ARG || !strstr(err, want_err))
                fail_msg("%s: wanted error '%s', got %d '%s'", name, want_err,
                         e, err);
            continue;
        }
        if (e)
            fail_msg("%s: %s", name, err);
        const json_t *recs = json_object_get(c, "records");
        size_t k;
        json_t *rc;
        json_array_foreach(recs, k, rc) {
            evb_pipe_record_t r;
            unsigned char bin[64];
            case_record(rc, &r, bin, sizeof bin);
            evb_pipe_origin_t o = {false, "127.0.0.1:9092"};
            evb_pipe_shaped_t s;
            evb_pipe_shaped_init(&s);
            shape(&o, &r, &s);
            bool pass;
            assert_int_equal(evb_pipe_filter_match(f, ctx, &s, &pass, err,
                                                   sizeof err),
                             0);
            bool want = json_is_true(json_object_get(rc, "pass"));
            if (pass != want)
                fail_msg("%s, record %zu: pass=%d, want %d (view %s)", name, k,
                         pass, want, s.filter_view.data);
            evb_pipe_shaped_free(&s);
        }
        evb_pipe_filter_free(f);
    }
    evb_match_ctx_free(ctx);
    json_decref(cases);
}

static void test_templates(void **state) {
    (void)state;
    json_t *cases = load_cases("templates.json");
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *tpl = json_string_value(json_object_get(c, "template"));
        evb_pipe_template_t *t = NULL;
        char err[512];
        evb_err_t e =
            evb_pipe_template_compile(tpl, strlen(tpl), &t, err, sizeof err);
        const char *want_cerr =
            json_string_value(json_object_get(c, "compile_error"));
        if (want_cerr) {
            if (e != EVB_ERR_INVALID_ARG || !strstr(err, want_cerr))
                fail_msg("%s: wanted compile error '%s', got %d '%s'", name,
                         want_cerr, e, err);
            continue;
        }
        if (e)
            fail_msg("%s: %s", name, err);
        evb_pipe_vars_t vars = {
            .pipe_arn = "arn:aws:pipes:us-east-1:000000000000:pipe/p",
            .pipe_name = "p",
            .source_arn = "smk://broker:9092",
            .target_arn = "arn:aws:events:us-east-1:000000000000:event-bus/b",
            .ingestion_time = "2024-05-01T12:00:00Z",
            .event_text = "{\"raw\":1}",
        };
        evb_buf_t out;
        evb_buf_init(&out, 0);
        e = evb_pipe_template_render(t, json_object_get(c, "event"), &vars,
                                     &out, err, sizeof err);
        if (json_is_true(json_object_get(c, "invalid"))) {
            if (e != EVB_ERR_INVALID_OUTPUT)
                fail_msg("%s: wanted invalid output, got %d '%s'", name, e,
                         out.data ? out.data : "");
        } else {
            if (e)
                fail_msg("%s: %s", name, err);
            const char *want = json_string_value(json_object_get(c, "output"));
            if (strcmp(out.data ? out.data : "", want) != 0)
                fail_msg("%s:\n  got  %s\n  want %s", name,
                         out.data ? out.data : "", want);
        }
        evb_buf_free(&out);
        evb_pipe_template_free(t);
    }
    json_decref(cases);
}

static void test_jsonpath(void **state) {
    (void)state;
    json_t *ev = json_loads("{\"a\":{\"b\":[{\"c\":1},{\"c\":2}],\"d-e\":\"x\"}}",
                            0, NULL);
    assert_true(evb_pipe_jsonpath_valid("$", 1));
    assert_true(evb_pipe_jsonpath_valid("$.a.b[1].c", 10));
    assert_false(evb_pipe_jsonpath_valid("$.", 2));
    assert_false(evb_pipe_jsonpath_valid("a.b", 3));
    assert_false(evb_pipe_jsonpath_valid("$.a[x]", 6));
    json_t *v = evb_pipe_jsonpath_eval("$.a.b[1].c", ev);
    assert_int_equal(json_integer_value(v), 2);
    json_decref(v);
    v = evb_pipe_jsonpath_eval("$.a.b[*].c", ev);
    assert_int_equal(json_array_size(v), 2);
    json_decref(v);
    v = evb_pipe_jsonpath_eval("$.a.d-e", ev);
    assert_string_equal(json_string_value(v), "x");
    json_decref(v);
    assert_null(evb_pipe_jsonpath_eval("$.a.zz", ev));
    json_decref(ev);
}

/* ---- reduced template views ------------------------------------------------------ */

/* Render tpl against the whole template view and against the view
 * reduced to what tpl reads: the two must give the same text. */
static void same_render(const evb_pipe_shaped_t *s, const char *tpl) {
    evb_pipe_template_t *t = NULL;
    char err[256];
    assert_int_equal(evb_pipe_template_compile(tpl, strlen(tpl), &t, err,
                                               sizeof err),
                     EVB_ERR_OK);
    evb__view_need_t need = {0};
    assert_int_equal(evb__view_need_template(&need, t), EVB_ERR_OK);
    json_t *whole = evb_pipe_shaped_template_view(s);
    json_t *part = evb__shaped_view(s, &need);
    assert_non_null(whole);
    assert_non_null(part);
    evb_buf_t a, b;
    evb_buf_init(&a, 0);
    evb_buf_init(&b, 0);
    evb_err_t ea = evb_pipe_template_render(t, whole, NULL, &a, err,
                                            sizeof err);
    evb_err_t eb = evb_pipe_template_render(t, part, NULL, &b, err,
                                            sizeof err);
    assert_int_equal(ea, eb);
    if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))
        fail_msg("%s:\n whole   %.*s\n reduced %.*s", tpl, (int)a.len,
                 a.data ? a.data : "", (int)b.len, b.data ? b.data : "");
    if (a.len)
        assert_memory_equal(a.data, b.data, a.len);
    evb_buf_free(&a);
    evb_buf_free(&b);
    json_decref(whole);
    json_decref(part);
    evb__view_need_free(&need);
    evb_pipe_template_free(t);
}

static void test_reduced_views(void **state) {
    (void)state;
    /* what paths read */
    static const struct {
        const char *path;
        unsigned roots;
        bool whole_value;
        size_t nkeys;
    } cases[] = {
        {"$.value.id", EVB__ROOT_VALUE, false, 1},
        {"$.value.user.name", EVB__ROOT_VALUE, false, 1},
        {"$.value", EVB__ROOT_VALUE, true, 0},
        {"$.value[0]", EVB__ROOT_VALUE, true, 0},
        {"$.value.*", EVB__ROOT_VALUE, true, 0},
        {"$.key.k", EVB__ROOT_KEY, false, 0},
        {"$.topic", EVB__ROOT_ALL, false, 0},
        {"$", EVB__ROOT_ALL, false, 0},
        {"$.*", EVB__ROOT_ALL, false, 0},
        {"constant", 0, false, 0},
        {NULL, 0, false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        evb__view_need_t n = {0};
        assert_int_equal(evb__view_need_path(&n, cases[i].path), EVB_ERR_OK);
        assert_int_equal(n.roots, cases[i].roots);
        assert_int_equal(n.whole_value, cases[i].whole_value);
        assert_int_equal(n.nvalue_keys, cases[i].nkeys);
        evb__view_need_free(&n);
    }
    /* a member named twice is kept once */
    evb__view_need_t n = {0};
    assert_int_equal(evb__view_need_path(&n, "$.value.a.b"), EVB_ERR_OK);
    assert_int_equal(evb__view_need_path(&n, "$.value.a.c"), EVB_ERR_OK);
    assert_int_equal(evb__view_need_path(&n, "$.value.d"), EVB_ERR_OK);
    assert_int_equal(n.nvalue_keys, 2);
    evb__view_need_free(&n);

    /* reduced views render exactly as the whole one */
    static const char *value =
        "{\"id\": 7, \"total\": 12.50, \"user\": {\"name\": \"a\\\"b\", "
        "\"tags\": [\"x\", \"y\"]}, \"dup\": 1, \"dup\": 2, "
        "\"exp\": 1e2, \"neg\": -0, "
        "\"s\": \"line\\nbreak \\u00e9\", \"n\": null, \"t\": true, "
        "\"arr\": [1, {\"k\": 2}]}";
    evb_pipe_record_t r = {
        .topic = "t",
        .partition = 3,
        .offset = 9,
        .timestamp_ms = 1545084650987,
        .ts_type = EVB_PIPE_TS_CREATE,
        .key = "{\"k\": \"key-1\"}",
        .key_len = 14,
        .value = value,
        .value_len = strlen(value),
    };
    evb_pipe_origin_t o = {false, "b:9092"};
    evb_pipe_shaped_t s;
    evb_pipe_shaped_init(&s);
    shape(&o, &r, &s);
    assert_int_equal(s.value_kind, EVB_PIPE_DATA_JSON);
    static const char *tpls[] = {
        "{\"id\": <$.value.id>, \"total\": <$.value.total>, \"user\": "
        "<$.value.user.name>, \"pipe\": <aws.pipes.pipe-name>}",
        "{\"dup\": <$.value.dup>, \"exp\": "
        "<$.value.exp>, \"neg\": <$.value.neg>, \"none\": <$.value.nope>}",
        "{\"s\": <$.value.s>, \"in\": \"<$.value.s> and <$.value.user>\", "
        "\"n\": <$.value.n>, \"t\": <$.value.t>}",
        "{\"tags\": <$.value.user.tags>, \"second\": <$.value.user.tags[1]>, "
        "\"all\": <$.value.arr[*].k>}",
        "{\"whole\": <$.value>, \"first\": <$.value.arr[0]>}",
        "{\"key\": <$.key.k>, \"id\": <$.value.id>}",
        "{\"topic\": <$.topic>, \"id\": <$.value.id>}",
        "text: <$.value.user> / <$.value.total> / <$.value.s>",
    };
    for (size_t i = 0; i < sizeof tpls / sizeof *tpls; i++)
        same_render(&s, tpls[i]);
    evb_pipe_shaped_free(&s);

    /* an integer too big for int64 reads as a real; in a reduced view
     * the other members stay integers (loading the whole value turns
     * every integer of it into a real then) */
    r.value = "{\"id\": 7, \"big\": 123456789012345678901234}";
    r.value_len = strlen(r.value);
    evb_pipe_shaped_init(&s);
    shape(&o, &r, &s);
    {
        static const char tpl[] = "{\"id\": <$.value.id>, \"big\": <$.value.big>}";
        evb_pipe_template_t *t = NULL;
        char err[256];
        assert_int_equal(evb_pipe_template_compile(tpl, strlen(tpl), &t, err,
                                                   sizeof err),
                         EVB_ERR_OK);
        evb__view_need_t need = {0};
        assert_int_equal(evb__view_need_template(&need, t), EVB_ERR_OK);
        json_t *part = evb__shaped_view(&s, &need);
        evb_buf_t b;
        evb_buf_init(&b, 0);
        assert_int_equal(evb_pipe_template_render(t, part, NULL, &b, err,
                                                  sizeof err),
                         EVB_ERR_OK);
        assert_non_null(b.data);
        assert_string_equal(b.data,
                            "{\"id\": 7, \"big\": 1.2345678901234569e+23}");
        evb_buf_free(&b);
        json_decref(part);
        evb__view_need_free(&need);
        evb_pipe_template_free(t);
    }
    evb_pipe_shaped_free(&s);

    /* a value that is not an object: paths under it select nothing, in
     * the reduced view as in the whole one */
    r.value = "[1, 2]";
    r.value_len = 6;
    evb_pipe_shaped_init(&s);
    shape(&o, &r, &s);
    same_render(&s, "{\"id\": <$.value.id>, \"v\": <$.value>}");
    same_render(&s, "{\"id\": <$.value.id>}");
    evb_pipe_shaped_free(&s);
    /* a value that is not JSON: the whole view (base64) */
    r.value = "plain";
    r.value_len = 5;
    evb_pipe_shaped_init(&s);
    shape(&o, &r, &s);
    same_render(&s, "{\"id\": <$.value.id>, \"v\": <$.value>}");
    evb_pipe_shaped_free(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_smk),
        cmocka_unit_test(test_record_msk_binary_tombstone),
        cmocka_unit_test(test_record_decode_hook),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_filter_table),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_jsonpath),
        cmocka_unit_test(test_reduced_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
