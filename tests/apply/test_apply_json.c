/*
 * test_apply_json.c: the two deep copies of util.c that share one walker:
 * evb__apply_api_body (apply's '@' members dropped, everything else kept)
 * and evb__apply_normalize (also "IsValueSecret": false and whatever is
 * empty once copied), and evb__apply_same built on the latter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "apply/apply_internal.h"

/* The compact text of fn(in), keys sorted. */
static char *copy_text(json_t *(*fn)(const json_t *), const char *in) {
    json_error_t e;
    json_t *v = json_loads(in, JSON_DECODE_ANY, &e);
    assert_non_null(v);
    json_t *c = fn(v);
    assert_non_null(c);
    char *text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(v);
    json_decref(c);
    assert_non_null(text);
    return text;
}

static void check(json_t *(*fn)(const json_t *), const char *in,
                  const char *want) {
    char *got = copy_text(fn, in);
    assert_string_equal(got, want);
    free(got);
}

static const char DOC[] =
    "{\"@line\":3,\"Name\":\"r\",\"Empty\":{},\"None\":null,\"List\":[],"
    "\"Targets\":[{\"@bus\":\"b\",\"Id\":\"t\",\"Input\":{\"@x\":1},"
    "\"IsValueSecret\":false,\"Keep\":[null,{}]}],"
    "\"IsValueSecret\":true,\"Nested\":{\"@lines\":{},\"Deep\":{\"E\":[]}}}";

static void api_body_drops_only_at_members(void **state) {
    (void)state;
    check(evb__apply_api_body, DOC,
          "{\"Empty\":{},\"IsValueSecret\":true,\"List\":[],\"Name\":\"r\","
          "\"Nested\":{\"Deep\":{\"E\":[]}},\"None\":null,\"Targets\":[{"
          "\"Id\":\"t\",\"Input\":{},\"IsValueSecret\":false,\"Keep\":[null,"
          "{}]}]}");
    check(evb__apply_api_body, "[1,\"a\",{\"@a\":1,\"b\":2}]",
          "[1,\"a\",{\"b\":2}]");
    check(evb__apply_api_body, "\"s\"", "\"s\"");
}

static void normalize_also_drops_empties_and_unset_secrets(void **state) {
    (void)state;
    /* empties go at every depth once their own members are gone; array
     * elements stay (they are positions), even empty ones */
    check(evb__apply_normalize, DOC,
          "{\"IsValueSecret\":true,\"Name\":\"r\",\"Targets\":[{\"Id\":\"t\","
          "\"Keep\":[null,{}]}]}");
    check(evb__apply_normalize, "{\"@a\":1,\"b\":{\"c\":null}}", "{}");
}

static void same_compares_normalized_forms(void **state) {
    (void)state;
    json_error_t e;
    json_t *a = json_loads("{\"Name\":\"r\",\"Tags\":[],\"@line\":1}", 0, &e);
    json_t *b = json_loads("{\"Name\":\"r\",\"Description\":null}", 0, &e);
    json_t *c = json_loads("{\"Name\":\"s\"}", 0, &e);
    json_t *empty = json_loads("{\"X\":{}}", 0, &e);
    assert_true(evb__apply_same(a, b));
    assert_false(evb__apply_same(a, c));
    assert_true(evb__apply_same(empty, NULL));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(empty);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(api_body_drops_only_at_members),
        cmocka_unit_test(normalize_also_drops_empties_and_unset_secrets),
        cmocka_unit_test(same_compares_normalized_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
