/* test_consistency.c: array-consistent matching on adversarial events
 * (where the quick search hands over to the polynomial fallback), and the
 * fallback itself against brute force on random small instances. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/common.h"
#include "pattern/consistency.h"
#include "pattern/pattern.h"

/* {"a":[{"x":1} x n, <last>], "b":[{"y":1} x n]} */
static char *adversarial_event(int n, const char *last) {
    evb_buf_t b;
    evb_buf_init(&b, 0);
    evb_buf_append(&b, "{\"a\":[", 6);
    for (int i = 0; i < n; i++)
        evb_buf_appendf(&b, "%s{\"x\":1}", i ? "," : "");
    evb_buf_appendf(&b, ",%s],\"b\":[", last);
    for (int i = 0; i < n; i++)
        evb_buf_appendf(&b, "%s{\"y\":1}", i ? "," : "");
    evb_buf_append(&b, "]}", 2);
    return b.data;
}

static void many_compatible_partial_choices_none_complete(void **state) {
    (void)state;
    /* conditions in this order make a naive search try n*n pairs */
    const char *pat = "{\"a\":{\"x\":[1]},\"b\":{\"y\":[1]},\"a.z\":[1]}";
    char *ev = adversarial_event(2000, "{\"z\":1}");
    bool matched = true;
    char err[256];
    assert_int_equal(evb_pattern_test(pat, strlen(pat), ev, strlen(ev), NULL,
                                      &matched, err, sizeof err),
                     EVB_ERR_OK);
    assert_false(matched);
    free(ev);
    /* the same with z beside an x: consistent */
    ev = adversarial_event(2000, "{\"z\":1,\"x\":1}");
    assert_int_equal(evb_pattern_test(pat, strlen(pat), ev, strlen(ev), NULL,
                                      &matched, err, sizeof err),
                     EVB_ERR_OK);
    assert_true(matched);
    free(ev);
}

/* brute force over all choices */
static bool brute(const evb__occ_ref_t *occ, size_t n, unsigned k,
                  unsigned level, const evb__occ_ref_t **sel) {
    if (level == k)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (occ[i].cond != level)
            continue;
        bool ok = true;
        for (unsigned j = 0; j < level && ok; j++) {
            const evb__occ_ref_t *a = sel[j], *b = &occ[i];
            uint32_t d = a->depth < b->depth ? a->depth : b->depth;
            for (uint32_t t = 0; t < d; t++) {
                if (a->apos[t].array_id != b->apos[t].array_id)
                    break;
                if (a->apos[t].index != b->apos[t].index) {
                    ok = false;
                    break;
                }
            }
        }
        if (!ok)
            continue;
        sel[level] = &occ[i];
        if (brute(occ, n, k, level + 1, sel))
            return true;
    }
    return false;
}

static uint32_t rnd(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 11);
}

static void fallback_agrees_with_brute_force(void **state) {
    (void)state;
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    int yes = 0, no = 0;
    for (int round = 0; round < 3000; round++) {
        unsigned k = 2 + rnd(&seed) % 4;
        size_t n = k + rnd(&seed) % 8;
        evb__occ_ref_t occ[16];
        evb_json_apos_t pos[16][3];
        for (size_t i = 0; i < n; i++) {
            /* positions in a tiny tree: array 1 (2 elements) holding
             * arrays 2 and 3 (2 elements each) */
            uint32_t d = rnd(&seed) % 3;
            uint32_t e0 = rnd(&seed) % 2;
            pos[i][0] = (evb_json_apos_t){1, e0};
            pos[i][1] =
                (evb_json_apos_t){2 + e0 * 2 + rnd(&seed) % 2, rnd(&seed) % 2};
            occ[i] = (evb__occ_ref_t){pos[i], d,
                                      i < k ? (unsigned)i : rnd(&seed) % k};
        }
        const evb__occ_ref_t *sel[8];
        bool expect = brute(occ, n, k, 0, sel);
        int got = evb__consistent_dp(occ, n, k);
        assert_int_equal(got, expect ? 1 : 0);
        expect ? yes++ : no++;
    }
    /* both answers were exercised */
    assert_true(yes > 100 && no > 100);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_compatible_partial_choices_none_complete),
        cmocka_unit_test(fallback_agrees_with_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
