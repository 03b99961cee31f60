/* test_ruleset.c: rule sets publish immutable matchers; add replaces by
 * name, remove removes, invalid patterns leave the set unchanged, and
 * readers match concurrently with writers without ever seeing a torn
 * matcher. */
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pattern/pattern.h"

static size_t match(evb_ruleset_t *rs, const char *ev, const char **first) {
    evb_matcher_t *m = evb_ruleset_acquire(rs);
    evb_match_ctx_t *ctx = evb_match_ctx_new();
    const char *const *names;
    size_t n = 0;
    char err[256];
    assert_int_equal(
        evb_matcher_match(m, ctx, ev, strlen(ev), &names, &n, err, sizeof err),
        EVB_ERR_OK);
    static char keep[64];
    if (first) {
        snprintf(keep, sizeof keep, "%s", n ? names[0] : "");
        *first = keep;
    }
    evb_match_ctx_free(ctx);
    evb_matcher_unref(m);
    return n;
}

static void add_replace_remove(void **state) {
    (void)state;
    evb_ruleset_t *rs = evb_ruleset_new(NULL);
    char err[512];
    const char *p1 = "{\"a\":[\"x\"]}", *p2 = "{\"a\":[\"y\"]}";
    assert_int_equal(match(rs, "{\"a\":\"x\"}", NULL), 0);
    assert_int_equal(evb_ruleset_add(rs, "r", p1, strlen(p1), err, sizeof err),
                     EVB_ERR_OK);
    const char *first;
    assert_int_equal(match(rs, "{\"a\":\"x\"}", &first), 1);
    assert_string_equal(first, "r");
    /* same name replaces */
    assert_int_equal(evb_ruleset_add(rs, "r", p2, strlen(p2), err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(match(rs, "{\"a\":\"x\"}", NULL), 0);
    assert_int_equal(match(rs, "{\"a\":\"y\"}", NULL), 1);
    /* an invalid pattern changes nothing and says why */
    const char *bad = "{\"a\":[]}";
    assert_int_equal(
        evb_ruleset_add(rs, "r", bad, strlen(bad), err, sizeof err),
        EVB_ERR_INVALID_EVENT_PATTERN);
    assert_string_equal(err, "Event pattern is not valid. Reason: Empty "
                             "arrays are not allowed");
    assert_int_equal(match(rs, "{\"a\":\"y\"}", NULL), 1);
    assert_int_equal(evb_ruleset_remove(rs, "r"), EVB_ERR_OK);
    assert_int_equal(evb_ruleset_remove(rs, "r"), EVB_ERR_NOT_FOUND);
    assert_int_equal(match(rs, "{\"a\":\"y\"}", NULL), 0);
    evb_ruleset_free(rs);
}

static void add_many_is_all_or_nothing(void **state) {
    (void)state;
    evb_ruleset_t *rs = evb_ruleset_new(NULL);
    const char *names[] = {"a", "b", "c"};
    const char *pats[] = {"{\"k\":[1]}", "{\"k\":[{\"numeric\":[\">\",0]}]}",
                          "{\"k\":[{\"prefix\":1}]}"};
    size_t lens[] = {strlen(pats[0]), strlen(pats[1]), strlen(pats[2])};
    char err[512];
    assert_int_equal(
        evb_ruleset_add_many(rs, 3, names, pats, lens, err, sizeof err),
        EVB_ERR_INVALID_EVENT_PATTERN);
    assert_non_null(strstr(err, "rule c"));
    assert_non_null(strstr(err, "prefix match pattern must be a string"));
    assert_int_equal(match(rs, "{\"k\":1}", NULL), 0);
    assert_int_equal(
        evb_ruleset_add_many(rs, 2, names, pats, lens, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(match(rs, "{\"k\":1}", NULL), 2);
    evb_matcher_t *m = evb_ruleset_acquire(rs);
    assert_int_equal(evb_matcher_rule_count(m), 2);
    evb_matcher_unref(m);
    evb_ruleset_free(rs);
}

/* ---- concurrency ---------------------------------------------------- */

typedef struct shared {
    evb_ruleset_t *rs;
    atomic_int stop;
    int errors;
    long matches;
} shared_t;

static void *reader(void *arg) {
    shared_t *sh = arg;
    evb_match_ctx_t *ctx = evb_match_ctx_new();
    const char *ev = "{\"a\":\"x\",\"n\":5}";
    for (int i = 0; i < 200000 && (i < 2000 || !atomic_load(&sh->stop)); i++) {
        evb_matcher_t *m = evb_ruleset_acquire(sh->rs);
        const char *const *names;
        size_t n;
        if (evb_matcher_match(m, ctx, ev, strlen(ev), &names, &n, NULL, 0) ||
            n != evb_matcher_rule_count(m))
            __atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&sh->matches, 1, __ATOMIC_RELAXED);
        evb_matcher_unref(m);
    }
    evb_match_ctx_free(ctx);
    return NULL;
}

static void readers_never_see_a_torn_matcher(void **state) {
    (void)state;
    shared_t sh = {.rs = evb_ruleset_new(NULL)};
    atomic_init(&sh.stop, 0);
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, reader, &sh);
    char err[256];
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof name, "r%d", i % 40);
        /* every rule matches the readers' event */
        const char *p =
            i % 2 ? "{\"a\":[\"x\"]}" : "{\"n\":[{\"numeric\":[\">\",1]}]}";
        if (i % 7 == 6)
            evb_ruleset_remove(sh.rs, name);
        else
            assert_int_equal(
                evb_ruleset_add(sh.rs, name, p, strlen(p), err, sizeof err),
                EVB_ERR_OK);
    }
    atomic_store(&sh.stop, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(sh.errors, 0);
    assert_true(sh.matches > 0);
    evb_ruleset_free(sh.rs);
}

static void *other_thread_ctx(void *arg) {
    evb_match_ctx_t **out = arg;
    *out = evb_match_ctx_thread();
    return NULL;
}

/* evb_match_ctx_thread: one context per thread, the same on each call */
static void a_thread_has_its_own_context(void **state) {
    (void)state;
    evb_match_ctx_t *a = evb_match_ctx_thread();
    assert_non_null(a);
    assert_ptr_equal(evb_match_ctx_thread(), a);
    evb_match_ctx_t *b = NULL;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread_ctx, &b), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_replace_remove),
        cmocka_unit_test(add_many_is_all_or_nothing),
        cmocka_unit_test(readers_never_see_a_torn_matcher),
        cmocka_unit_test(a_thread_has_its_own_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
