/* test_json.c: the DOM parser (Jackson-style errors) and the streaming
 * flattener (leaves, array positions, skipping, validation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json/json.h"

static evb_err_t parse(evb_arena_t *a, const char *s, evb_jval_t **v, char *err,
                       size_t n) {
    return evb_json_parse(a, s, strlen(s), 1000, v, err, n);
}

static void dom_keeps_order_duplicates_and_number_text(void **state) {
    (void)state;
    evb_arena_t a;
    evb_arena_init(&a, 0);
    evb_jval_t *v;
    char err[256];
    assert_int_equal(
        parse(&a, "{\"b\":1.50,\"a\":\"x\\u00e9\\n\",\"b\":[true,null,-0]}", &v,
              err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(v->type, EVB_JSON_OBJECT);
    assert_int_equal(v->u.obj.n, 3);
    assert_string_equal(v->u.obj.members[0].key, "b");
    assert_string_equal(v->u.obj.members[0].val->u.str.s, "1.50");
    assert_string_equal(v->u.obj.members[1].val->u.str.s, "x\xc3\xa9\n");
    evb_jval_t *arr = v->u.obj.members[2].val;
    assert_int_equal(arr->type, EVB_JSON_ARRAY);
    assert_int_equal(arr->u.arr.n, 3);
    assert_int_equal(arr->u.arr.items[1]->type, EVB_JSON_NULL);
    assert_int_equal(arr->src_len, strlen("[true,null,-0]"));
    evb_arena_free(&a);
}

static void dom_errors_read_like_jackson(void **state) {
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"this is not json",
         "Unrecognized token 'this': was expecting (JSON String, Number, "
         "Array, Object or token 'null', 'true' or 'false')"},
        {"{'bad': 'quotation'}",
         "Unexpected character (''' (code 39)): was expecting double-quote "
         "to start field name"},
        {"{\"a\" 1}", "Unexpected character ('1' (code 49)): was expecting a "
                      "colon to separate field name and value"},
        {"{\"a\":1 \"b\":2}", "Unexpected character ('\"' (code 34)): was "
                              "expecting comma to separate Object entries"},
        {"[1 2]", "Unexpected character ('2' (code 50)): was expecting comma "
                  "to separate Array entries"},
        {"{\"a\":[1,2", "Unexpected end-of-input: expected close marker for "
                        "Array"},
        {"", "No content to map due to end-of-input"},
        {"01", "Invalid numeric value: Leading zeroes not allowed"},
        {"\"a\\x\"", "Unrecognized character escape 'x' (code 120)"},
        {"{\"a\":1} x", "Unexpected character ('x' (code 120)): expected end "
                        "of input after the JSON value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        evb_arena_t a;
        evb_arena_init(&a, 0);
        evb_jval_t *v;
        char err[512];
        assert_int_equal(parse(&a, cases[i].text, &v, err, sizeof err),
                         EVB_ERR_INVALID_JSON);
        assert_string_equal(err, cases[i].msg);
        evb_arena_free(&a);
    }
}

static void dom_depth_is_bounded(void **state) {
    (void)state;
    char *deep = malloc(2 * 1100 + 1);
    for (int i = 0; i < 1100; i++) {
        deep[i] = '[';
        deep[2 * 1100 - 1 - i] = ']';
    }
    deep[2 * 1100] = '\0';
    evb_arena_t a;
    evb_arena_init(&a, 0);
    evb_jval_t *v;
    char err[256];
    assert_int_equal(parse(&a, deep, &v, err, sizeof err),
                     EVB_ERR_INVALID_JSON);
    assert_non_null(strstr(err, "depth"));
    evb_arena_free(&a);
    free(deep);
}

/* ---- flattener: a tiny path model for tests: any key is interesting,
 * leaves are recorded as "path=value@arrays" lines */

typedef struct rec {
    char out[4096];
    char path[64][32];
    int depth;
} rec_t;

typedef struct tnode {
    int level;
    char key[32];
} tnode_t;

static tnode_t nodes[64];

static void *t_child(void *ud, void *node, const char *key, size_t klen) {
    (void)ud;
    tnode_t *n = node;
    if (klen >= 31 || n->level >= 63 || (klen == 4 && !memcmp(key, "skip", 4)))
        return NULL;
    tnode_t *c = &nodes[n->level + 1];
    c->level = n->level + 1;
    memcpy(c->key, key, klen);
    c->key[klen] = '\0';
    return c;
}

static int t_leaf(void *ud, void *node, const evb_json_leaf_t *leaf) {
    rec_t *r = ud;
    tnode_t *n = node;
    char line[256];
    char ap[128] = "";
    for (uint32_t i = 0; i < leaf->depth; i++) {
        char one[32];
        snprintf(one, sizeof one, "[%u:%u]", leaf->apos[i].array_id,
                 leaf->apos[i].index);
        strncat(ap, one, sizeof ap - strlen(ap) - 1);
    }
    snprintf(line, sizeof line, "%s=%.*s%s;", n->key, (int)leaf->len,
             leaf->text, ap);
    strncat(r->out, line, sizeof r->out - strlen(r->out) - 1);
    return 0;
}

static bool t_yes(void *ud, void *node) {
    (void)ud;
    (void)node;
    return true;
}

static const evb_json_scan_ops_t ops = {t_child, t_leaf, t_yes, t_yes};

static evb_err_t scan(const char *ev, rec_t *r, char *err, size_t n) {
    evb_json_scanner_t s;
    evb_json_scanner_init(&s, 1000);
    memset(r, 0, sizeof *r);
    nodes[0].level = 0;
    strcpy(nodes[0].key, "");
    evb_err_t e = evb_json_scan(&s, ev, strlen(ev), &ops, r, &nodes[0], err, n);
    evb_json_scanner_free(&s);
    return e;
}

static void scan_reports_leaves_with_array_positions(void **state) {
    (void)state;
    rec_t r;
    char err[256];
    assert_int_equal(scan("{\"a\":\"x\\\"y\",\"skip\":{\"q\":1},\"b\":[1,[2,3],"
                          "{\"c\":null}],\"d\":[]}",
                          &r, err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(r.out, "a=x\"y;b=1[0:0];b=2[0:1][1:0];b=3[0:1][1:1];"
                               "c=null[0:2];");
}

static void scan_rejects_invalid_json_even_in_skipped_parts(void **state) {
    (void)state;
    static const char *bad[] = {
        "",
        "[1,2]",
        "\"str\"",
        "{\"skip\":{\"q\":tru}}",
        "{\"skip\":[1,2}",
        "{\"a\":01}",
        "{\"a\":1,}",
        "{\"a\":\"\\q\"}",
        "{\"a\":\"unterminated}",
        "{\"a\":1} trailing",
        "{\"a\":-}",
        "{\"a\":1.}",
        "{\"a\":1e}",
        "{\"a\":\"ctl\x01\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rec_t r;
        char err[256] = "";
        assert_int_equal(scan(bad[i], &r, err, sizeof err),
                         EVB_ERR_INVALID_EVENT);
        assert_true(strlen(err) > 0);
    }
}

static void scan_skips_numbers_of_every_length(void **state) {
    (void)state;
    /* digit runs around the eight-byte fast path, in skipped and in
     * interesting positions, valid and followed by garbage: each case is
     * before + digits [+ mid + digits] + after */
    static const struct {
        const char *before, *mid, *after;
        bool ok;
    } cases[] = {
        {"{\"skip\":[", NULL, "]}", true},
        {"{\"skip\":[-", ".", "]}", true},
        {"{\"skip\":{\"a\":", "e", "}}", true},
        {"{\"a\":", NULL, "}", true},
        {"{\"skip\":[", ",", "]}", true},
        {"{\"skip\":[", NULL, "x]}", false},
        {"{\"skip\":[", NULL, ":]}", false},
        {"{\"skip\":[", NULL, ".]}", false},
        {"{\"skip\":[", NULL, "", false},
        {"{\"skip\":[0", NULL, "]}", false},
    };
    for (int n = 1; n <= 20; n++) {
        char digits[32];
        for (int i = 0; i < n; i++)
            digits[i] = (char)('1' + i % 9);
        digits[n] = '\0';
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            char ev[128] = "";
            strcat(ev, cases[c].before);
            strcat(ev, digits);
            if (cases[c].mid) {
                strcat(ev, cases[c].mid);
                strcat(ev, digits);
            }
            strcat(ev, cases[c].after);
            rec_t r;
            char err[256];
            assert_int_equal(scan(ev, &r, err, sizeof err),
                             cases[c].ok ? EVB_ERR_OK : EVB_ERR_INVALID_EVENT);
        }
    }
}

static void scan_bounds_nesting(void **state) {
    (void)state;
    size_t n = 1001;
    char *ev = malloc(2 * n + 16);
    size_t k = 0;
    ev[k++] = '{';
    memcpy(ev + k, "\"skip\":", 7);
    k += 7;
    for (size_t i = 0; i < n; i++)
        ev[k++] = '[';
    for (size_t i = 0; i < n; i++)
        ev[k++] = ']';
    ev[k++] = '}';
    ev[k] = '\0';
    rec_t r;
    char err[256];
    assert_int_equal(scan(ev, &r, err, sizeof err), EVB_ERR_INVALID_EVENT);
    assert_non_null(strstr(err, "deep"));
    free(ev);
}

static void validate_accepts_any_value(void **state) {
    (void)state;
    char err[128];
    assert_int_equal(evb_json_validate("[1,\"a\",{}]", 10, 10, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(evb_json_validate("[1,", 3, 10, err, sizeof err),
                     EVB_ERR_INVALID_EVENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dom_keeps_order_duplicates_and_number_text),
        cmocka_unit_test(dom_errors_read_like_jackson),
        cmocka_unit_test(dom_depth_is_bounded),
        cmocka_unit_test(scan_reports_leaves_with_array_positions),
        cmocka_unit_test(scan_rejects_invalid_json_even_in_skipped_parts),
        cmocka_unit_test(scan_skips_numbers_of_every_length),
        cmocka_unit_test(scan_bounds_nesting),
        cmocka_unit_test(validate_accepts_any_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
