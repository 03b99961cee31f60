/*
 * Data-driven conformance suite for the pattern engine.
 *
 * Loads every *.jsonl file in EVB_TEST_DATA_DIR/conformance (cases recorded
 * against AWS EventBridge) and EVB_TEST_DATA_DIR/patterns (our own cases,
 * see tests/data/patterns/README.md) and checks each case three ways:
 *
 *   1. evb_pattern_test (after evb_event_check_envelope for the AWS file
 *      and for cases with "envelope": true), plus evb_pattern_validate;
 *   2. the compiled path: a rule set holding only this case's rule;
 *   3. the compiled path with every valid rule of every file in one matcher
 *      (rules must not disturb one another).
 *
 * Case fields:
 *   name                  unique within its file
 *   pattern | pattern_text    JSON value (serialised compactly, key order
 *                             kept) or exact text
 *   event | event_text        likewise
 *   expect                true / false: the match result
 *   error                 exact complete message; error_code says which
 *                         kind: absent or "InvalidEventPatternException"
 *                         (EVB_ERR_INVALID_EVENT_PATTERN),
 * "ValidationException" (EVB_ERR_INVALID_EVENT, exact message),
 *                         "InvalidEventEvent" (EVB_ERR_INVALID_EVENT, the
 *                         message is not compared)
 *   error_prefix          pattern error whose message must start with this
 *                         text (used where the exact wording is not fixed,
 *                         e.g. most malformed JSON)
 *   envelope              true: apply the TestEventPattern envelope check
 *   error_raw, origin, validated, comment   informational
 *
 * Every failure is printed as "FAIL <file>:<name>: <what>"; the test fails
 * at the end if any case failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern.h"

#ifndef EVB_TEST_DATA_DIR
#error "EVB_TEST_DATA_DIR must be defined"
#endif

/* The suite must not silently shrink. */
#define MIN_OWN_CASES 400

#define ERRSZ 4096

typedef enum {
    EXPECT_MATCH,          /* expect: true / false */
    EXPECT_PATTERN_ERROR,  /* exact message */
    EXPECT_PATTERN_PREFIX, /* message prefix */
    EXPECT_EVENT_ERROR,    /* exact message, EVB_ERR_INVALID_EVENT */
    EXPECT_EVENT_ANY,      /* EVB_ERR_INVALID_EVENT, any message */
} expect_kind_t;

typedef struct {
    char *file; /* base name, owned */
    char *name;
    char *pattern;
    size_t plen;
    char *event;
    size_t elen;
    bool envelope;
    bool own; /* from tests/data/patterns */
    expect_kind_t kind;
    bool expect;
    char *message; /* error or error_prefix */
    bool failed;
} tcase_t;

typedef struct {
    tcase_t *v;
    size_t n, cap;
    size_t own;
    size_t load_errors;
} suite_t;

static suite_t g_suite;

/* ---- helpers ----------------------------------------------------------- */

static char *xstrndup(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static char *xstrdup(const char *s) {
    return xstrndup(s, strlen(s));
}

/* A printable, shortened copy of s for messages (static buffer). */
static const char *shorten(const char *s, size_t len) {
    static char buf[4][300];
    static int which;
    char *b = buf[which++ & 3];
    size_t o = 0;
    if (!s)
        return "(null)";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        /* stop after 200 bytes, but not inside a UTF-8 sequence */
        if (o >= 200 && (c & 0xC0) != 0x80)
            break;
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(b + o, sizeof buf[0] - o, "\\x%02x", c);
        else
            b[o++] = (char)c;
    }
    if (o >= 200)
        o += (size_t)snprintf(b + o, sizeof buf[0] - o, "...(%zu bytes)", len);
    b[o] = '\0';
    return b;
}

static void case_fail(tcase_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void case_fail(tcase_t *c, const char *fmt, ...) {
    va_list ap;
    printf("FAIL %s:%s: ", c->file, c->name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    c->failed = true;
}

static void load_fail(const char *file, size_t line, const char *what) {
    printf("FAIL %s:line %zu: %s\n", file, line, what);
    g_suite.load_errors++;
}

/* Text of a case's "<key>_text" (byte for byte) or "<key>" (serialised). */
static bool case_text(json_t *obj, const char *key, char **out, size_t *len) {
    char tkey[64];
    snprintf(tkey, sizeof tkey, "%s_text", key);
    json_t *t = json_object_get(obj, tkey);
    json_t *v = json_object_get(obj, key);
    if (t && v)
        return false;
    if (t) {
        if (!json_is_string(t))
            return false;
        *len = json_string_length(t);
        *out = xstrndup(json_string_value(t), *len);
        return true;
    }
    if (!v)
        return false;
    char *s =
        json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    if (!s)
        return false;
    *len = strlen(s);
    *out = s; /* malloc'ed by jansson's default allocator */
    return true;
}

static const char *const known_keys[] = {
    "name",     "pattern", "pattern_text", "event",     "event_text",
    "expect",   "error",   "error_code",   "error_raw", "error_prefix",
    "envelope", "origin",  "validated",    "comment",
};

static void add_case(const char *file, size_t line, bool own, json_t *obj) {
    char what[512];
    if (!json_is_object(obj)) {
        load_fail(file, line, "case is not a JSON object");
        return;
    }
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        bool ok = false;
        for (size_t i = 0; i < EVB_ARRAY_LEN(known_keys); i++)
            if (strcmp(key, known_keys[i]) == 0)
                ok = true;
        if (!ok) {
            snprintf(what, sizeof what, "unknown field \"%s\"", key);
            load_fail(file, line, what);
            return;
        }
    }
    json_t *jname = json_object_get(obj, "name");
    if (!json_is_string(jname) || json_string_length(jname) == 0) {
        load_fail(file, line, "missing name");
        return;
    }
    const char *name = json_string_value(jname);
    for (size_t i = 0; i < g_suite.n; i++) {
        if (strcmp(g_suite.v[i].file, file) == 0 &&
            strcmp(g_suite.v[i].name, name) == 0) {
            snprintf(what, sizeof what, "duplicate case name \"%s\"", name);
            load_fail(file, line, what);
            return;
        }
    }

    tcase_t c;
    memset(&c, 0, sizeof c);
    c.file = xstrdup(file);
    c.name = xstrdup(name);
    c.own = own;
    if (!case_text(obj, "pattern", &c.pattern, &c.plen) ||
        !case_text(obj, "event", &c.event, &c.elen)) {
        snprintf(what, sizeof what,
                 "%s: needs exactly one of pattern/pattern_text and of "
                 "event/event_text",
                 name);
        load_fail(file, line, what);
        free(c.file);
        free(c.name);
        free(c.pattern);
        free(c.event);
        return;
    }
    json_t *env = json_object_get(obj, "envelope");
    c.envelope = !own || json_is_true(env);

    json_t *jexp = json_object_get(obj, "expect");
    json_t *jerr = json_object_get(obj, "error");
    json_t *jpfx = json_object_get(obj, "error_prefix");
    const char *code = json_string_value(json_object_get(obj, "error_code"));
    int kinds = (jexp != NULL) + (jerr != NULL) + (jpfx != NULL);
    const char *bad = NULL;
    if (kinds != 1) {
        bad = "needs exactly one of expect, error, error_prefix";
    } else if (jexp) {
        if (!json_is_boolean(jexp))
            bad = "expect must be true or false";
        c.kind = EXPECT_MATCH;
        c.expect = json_is_true(jexp);
        if (code)
            bad = "error_code without error";
    } else if (jerr) {
        if (!json_is_string(jerr)) {
            bad = "error must be a string";
        } else if (!code || strcmp(code, "InvalidEventPatternException") == 0) {
            c.kind = EXPECT_PATTERN_ERROR;
        } else if (strcmp(code, "ValidationException") == 0) {
            c.kind = EXPECT_EVENT_ERROR;
        } else if (strcmp(code, "InvalidEventEvent") == 0) {
            c.kind = EXPECT_EVENT_ANY;
        } else {
            bad = "unknown error_code";
        }
        if (json_is_string(jerr))
            c.message = xstrdup(json_string_value(jerr));
    } else {
        if (!json_is_string(jpfx))
            bad = "error_prefix must be a string";
        else if (code && strcmp(code, "InvalidEventPatternException") != 0)
            bad = "error_prefix is for pattern errors only";
        else
            c.message = xstrdup(json_string_value(jpfx));
        c.kind = EXPECT_PATTERN_PREFIX;
    }
    if (bad) {
        snprintf(what, sizeof what, "%s: %s", name, bad);
        load_fail(file, line, what);
        free(c.file);
        free(c.name);
        free(c.pattern);
        free(c.event);
        free(c.message);
        return;
    }

    if (g_suite.n == g_suite.cap) {
        g_suite.cap = g_suite.cap ? g_suite.cap * 2 : 256;
        g_suite.v = realloc(g_suite.v, g_suite.cap * sizeof *g_suite.v);
        if (!g_suite.v)
            abort();
    }
    g_suite.v[g_suite.n++] = c;
    if (own)
        g_suite.own++;
}

static void load_file(const char *dir, const char *base, bool own) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, base);
    FILE *f = fopen(path, "rb");
    if (!f) {
        load_fail(base, 0, "cannot open");
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    size_t lineno = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t l = (size_t)len;
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            l--;
        bool blank = true;
        for (size_t i = 0; i < l; i++)
            if (line[i] != ' ' && line[i] != '\t')
                blank = false;
        if (blank)
            continue;
        json_error_t jerr;
        json_t *obj = json_loadb(line, l, JSON_ALLOW_NUL, &jerr);
        if (!obj) {
            char what[512];
            snprintf(what, sizeof what, "invalid JSON: %s", jerr.text);
            load_fail(base, lineno, what);
            continue;
        }
        add_case(base, lineno, own, obj);
        json_decref(obj);
    }
    free(line);
    fclose(f);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_dir(const char *sub, bool own) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", EVB_TEST_DATA_DIR, sub);
    DIR *d = opendir(dir);
    if (!d) {
        load_fail(sub, 0, "cannot open directory");
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 7 || strcmp(de->d_name + l - 6, ".jsonl") != 0)
            continue;
        /* Input-transformer vectors are a different suite. */
        if (strcmp(de->d_name, "input_transformers.jsonl") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = realloc(names, cap * sizeof *names);
            if (!names)
                abort();
        }
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        load_file(dir, names[i], own);
        free(names[i]);
    }
    free(names);
}

static int setup(void **state) {
    (void)state;
    memset(&g_suite, 0, sizeof g_suite);
    load_dir("conformance", false);
    load_dir("patterns", true);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    for (size_t i = 0; i < g_suite.n; i++) {
        tcase_t *c = &g_suite.v[i];
        free(c->file);
        free(c->name);
        free(c->pattern);
        free(c->event);
        free(c->message);
    }
    free(g_suite.v);
    memset(&g_suite, 0, sizeof g_suite);
    return 0;
}

/* ---- checks ------------------------------------------------------------- */

static bool names_contain(const char *const *names, size_t count,
                          const char *name) {
    for (size_t i = 0; i < count; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return true;
    return false;
}

static const char *rc_name(evb_err_t rc) {
    return evb_err_name(rc);
}

/* Does (rc, msg) satisfy the case's error expectation? */
static bool error_ok(const tcase_t *c, evb_err_t rc, const char *msg) {
    switch (c->kind) {
    case EXPECT_PATTERN_ERROR:
        return rc == EVB_ERR_INVALID_EVENT_PATTERN &&
               strcmp(msg, c->message) == 0;
    case EXPECT_PATTERN_PREFIX:
        return rc == EVB_ERR_INVALID_EVENT_PATTERN &&
               strncmp(msg, c->message, strlen(c->message)) == 0;
    case EXPECT_EVENT_ERROR:
        return rc == EVB_ERR_INVALID_EVENT && strcmp(msg, c->message) == 0;
    case EXPECT_EVENT_ANY: return rc == EVB_ERR_INVALID_EVENT;
    case EXPECT_MATCH: break;
    }
    return false;
}

static const char *kind_text(const tcase_t *c) {
    static char buf[600];
    switch (c->kind) {
    case EXPECT_MATCH: return c->expect ? "match" : "no match";
    case EXPECT_PATTERN_ERROR:
        snprintf(buf, sizeof buf, "INVALID_EVENT_PATTERN \"%s\"", c->message);
        return buf;
    case EXPECT_PATTERN_PREFIX:
        snprintf(buf, sizeof buf, "INVALID_EVENT_PATTERN starting \"%s\"",
                 c->message);
        return buf;
    case EXPECT_EVENT_ERROR:
        snprintf(buf, sizeof buf, "INVALID_EVENT \"%s\"", c->message);
        return buf;
    case EXPECT_EVENT_ANY: return "INVALID_EVENT";
    }
    return "?";
}

/* The compiled path with a rule set holding only this case's rule. */
static void check_compiled(tcase_t *c, const char *test_msg) {
    char err[ERRSZ] = "";
    evb_ruleset_t *rs = evb_ruleset_new(NULL);
    if (!rs) {
        case_fail(c, "evb_ruleset_new returned NULL");
        return;
    }
    evb_err_t rc =
        evb_ruleset_add(rs, c->name, c->pattern, c->plen, err, sizeof err);
    bool pattern_error =
        c->kind == EXPECT_PATTERN_ERROR || c->kind == EXPECT_PATTERN_PREFIX;
    if (pattern_error) {
        if (!error_ok(c, rc, err))
            case_fail(c,
                      "compiled: evb_ruleset_add: expected %s, got %s \"%s\"",
                      kind_text(c), rc_name(rc), err);
        else if (test_msg && strcmp(err, test_msg) != 0)
            case_fail(c,
                      "compiled: evb_ruleset_add message \"%s\" differs from "
                      "evb_pattern_test's \"%s\"",
                      err, test_msg);
        evb_matcher_t *m = evb_ruleset_acquire(rs);
        if (!m)
            case_fail(c, "compiled: evb_ruleset_acquire returned NULL");
        else if (evb_matcher_rule_count(m) != 0)
            case_fail(c, "compiled: a rejected rule was published");
        if (m)
            evb_matcher_unref(m);
        evb_ruleset_free(rs);
        return;
    }
    if (rc != EVB_ERR_OK) {
        case_fail(c, "compiled: evb_ruleset_add failed: %s \"%s\"", rc_name(rc),
                  err);
        evb_ruleset_free(rs);
        return;
    }
    evb_matcher_t *m = evb_ruleset_acquire(rs);
    evb_match_ctx_t *ctx = evb_match_ctx_new();
    if (!m || !ctx) {
        case_fail(c, "compiled: acquire/ctx returned NULL");
    } else {
        if (evb_matcher_rule_count(m) != 1)
            case_fail(c, "compiled: matcher holds %zu rules, expected 1",
                      evb_matcher_rule_count(m));
        const char *const *names = NULL;
        size_t count = 0;
        err[0] = '\0';
        rc = evb_matcher_match(m, ctx, c->event, c->elen, &names, &count, err,
                               sizeof err);
        if (c->kind == EXPECT_MATCH) {
            if (rc != EVB_ERR_OK) {
                case_fail(c, "compiled: evb_matcher_match failed: %s \"%s\"",
                          rc_name(rc), err);
            } else {
                bool got = names_contain(names, count, c->name);
                if (got != c->expect || count != (got ? 1u : 0u))
                    case_fail(c, "compiled: expected %s, got %s (%zu names)",
                              kind_text(c), got ? "match" : "no match", count);
            }
        } else if (c->kind == EXPECT_EVENT_ANY ||
                   (c->kind == EXPECT_EVENT_ERROR && !c->envelope)) {
            if (rc != EVB_ERR_INVALID_EVENT)
                case_fail(
                    c,
                    "compiled: evb_matcher_match: expected INVALID_EVENT, "
                    "got %s \"%s\"",
                    rc_name(rc), err);
        }
    }
    if (ctx)
        evb_match_ctx_free(ctx);
    if (m)
        evb_matcher_unref(m);
    evb_ruleset_free(rs);
}

static void check_case(tcase_t *c) {
    char err[ERRSZ] = "";
    evb_err_t rc;
    bool matched = false;

    /* 1. evb_pattern_validate agrees on the pattern. */
    rc = evb_pattern_validate(c->pattern, c->plen, NULL, err, sizeof err);
    bool pattern_error =
        c->kind == EXPECT_PATTERN_ERROR || c->kind == EXPECT_PATTERN_PREFIX;
    if (pattern_error) {
        if (!error_ok(c, rc, err))
            case_fail(c, "evb_pattern_validate: expected %s, got %s \"%s\"",
                      kind_text(c), rc_name(rc), err);
    } else if (rc != EVB_ERR_OK) {
        case_fail(c, "evb_pattern_validate: expected OK, got %s \"%s\"",
                  rc_name(rc), err);
    }

    /* 2. TestEventPattern: envelope check, then evb_pattern_test. */
    err[0] = '\0';
    rc = EVB_ERR_OK;
    bool envelope_failed = false;
    if (c->envelope) {
        rc = evb_event_check_envelope(c->event, c->elen, err, sizeof err);
        envelope_failed = rc != EVB_ERR_OK;
    }
    if (!envelope_failed) {
        err[0] = '\0';
        rc = evb_pattern_test(c->pattern, c->plen, c->event, c->elen, NULL,
                              &matched, err, sizeof err);
    }
    char test_msg[ERRSZ];
    snprintf(test_msg, sizeof test_msg, "%s", err);
    if (c->kind == EXPECT_MATCH) {
        if (rc != EVB_ERR_OK)
            case_fail(c, "expected %s, got %s \"%s\" (pattern %s)",
                      kind_text(c), rc_name(rc), err,
                      shorten(c->pattern, c->plen));
        else if (matched != c->expect)
            case_fail(c, "expected %s, got %s (pattern %s, event %s)",
                      kind_text(c), matched ? "match" : "no match",
                      shorten(c->pattern, c->plen), shorten(c->event, c->elen));
    } else if (!error_ok(c, rc, err)) {
        if (rc == EVB_ERR_OK)
            case_fail(c, "expected %s, got OK (%s)", kind_text(c),
                      matched ? "match" : "no match");
        else
            case_fail(c, "expected %s, got %s \"%s\"", kind_text(c),
                      rc_name(rc), err);
    }

    /* 3. The compiled path. Envelope failures are TestEventPattern only. */
    if (!envelope_failed)
        check_compiled(c,
                       rc == EVB_ERR_INVALID_EVENT_PATTERN ? test_msg : NULL);
}

static void test_cases(void **state) {
    (void)state;
    size_t passed = 0, failed = 0;
    for (size_t i = 0; i < g_suite.n; i++) {
        tcase_t *c = &g_suite.v[i];
        check_case(c);
        if (c->failed)
            failed++;
        else
            passed++;
    }
    failed += g_suite.load_errors;
    printf("conformance: %zu passed, %zu failed\n", passed, failed);
    printf("conformance: %zu cases from tests/data/conformance, %zu from "
           "tests/data/patterns\n",
           g_suite.n - g_suite.own, g_suite.own);
    fflush(stdout);
    assert_true(g_suite.own >= MIN_OWN_CASES);
    assert_int_equal(failed, 0);
}

/* Every valid rule of every file in one matcher; each event must report
 * its own rule iff the case expects a match. */
static void test_shared_matcher(void **state) {
    (void)state;
    size_t n = 0;
    const char **names = calloc(g_suite.n + 1, sizeof *names);
    const char **pats = calloc(g_suite.n + 1, sizeof *pats);
    size_t *lens = calloc(g_suite.n + 1, sizeof *lens);
    char **owned = calloc(g_suite.n + 1, sizeof *owned);
    tcase_t **which = calloc(g_suite.n + 1, sizeof *which);
    assert_non_null(names);
    assert_non_null(pats);
    assert_non_null(lens);
    assert_non_null(owned);
    assert_non_null(which);
    for (size_t i = 0; i < g_suite.n; i++) {
        tcase_t *c = &g_suite.v[i];
        /* Only cases whose pattern and event are both valid and whose
         * pattern passed on its own (a failure there is reported already). */
        if (c->kind != EXPECT_MATCH || c->failed)
            continue;
        size_t l = strlen(c->file) + 1 + strlen(c->name) + 1;
        owned[n] = malloc(l);
        assert_non_null(owned[n]);
        snprintf(owned[n], l, "%s:%s", c->file, c->name);
        names[n] = owned[n];
        pats[n] = c->pattern;
        lens[n] = c->plen;
        which[n] = c;
        n++;
    }

    size_t passed = 0, failed = 0;
    char err[ERRSZ] = "";
    evb_ruleset_t *rs = evb_ruleset_new(NULL);
    assert_non_null(rs);
    evb_err_t rc =
        evb_ruleset_add_many(rs, n, names, pats, lens, err, sizeof err);
    if (rc != EVB_ERR_OK) {
        printf("FAIL shared matcher: evb_ruleset_add_many: %s \"%s\"\n",
               rc_name(rc), err);
        failed++;
    } else {
        evb_matcher_t *m = evb_ruleset_acquire(rs);
        evb_match_ctx_t *ctx = evb_match_ctx_new();
        assert_non_null(m);
        assert_non_null(ctx);
        if (evb_matcher_rule_count(m) != n) {
            printf("FAIL shared matcher: %zu rules compiled, expected %zu\n",
                   evb_matcher_rule_count(m), n);
            failed++;
        }
        for (size_t i = 0; i < n; i++) {
            tcase_t *c = which[i];
            const char *const *got = NULL;
            size_t count = 0;
            err[0] = '\0';
            rc = evb_matcher_match(m, ctx, c->event, c->elen, &got, &count, err,
                                   sizeof err);
            if (rc != EVB_ERR_OK) {
                printf("FAIL %s:%s: shared matcher: evb_matcher_match "
                       "failed: %s \"%s\"\n",
                       c->file, c->name, rc_name(rc), err);
                failed++;
                continue;
            }
            bool has = names_contain(got, count, names[i]);
            /* Each name at most once. */
            bool dup = false;
            for (size_t a = 0; a < count && !dup; a++)
                for (size_t b = a + 1; b < count; b++)
                    if (strcmp(got[a], got[b]) == 0)
                        dup = true;
            if (has != c->expect || dup) {
                printf("FAIL %s:%s: shared matcher: expected %s, got %s%s\n",
                       c->file, c->name, c->expect ? "match" : "no match",
                       has ? "match" : "no match",
                       dup ? " (a rule reported twice)" : "");
                failed++;
            } else {
                passed++;
            }
        }
        evb_match_ctx_free(ctx);
        evb_matcher_unref(m);
    }
    evb_ruleset_free(rs);
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
    free(owned);
    free(names);
    free(pats);
    free(lens);
    free(which);
    printf("conformance (shared matcher, %zu rules): %zu passed, %zu failed\n",
           n, passed, failed);
    fflush(stdout);
    assert_int_equal(failed, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_shared_matcher),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
