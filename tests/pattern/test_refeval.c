/*
 * Unit tests of the reference evaluator (tests/support/refeval.c), the
 * oracle of test_differential: hand-written cases for each rule of
 * docs/pattern-semantics.md, plus every recorded match/no-match case of
 * the AWS conformance data, so that a broken oracle cannot pass silently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/refeval.h"

#ifndef EVB_TEST_DATA_DIR
#define EVB_TEST_DATA_DIR "tests/data"
#endif

static int check_at(const char *pattern, const char *event, bool expect,
                    int line) {
    json_t *p = evb_ref_loads(pattern);
    json_t *e = evb_ref_loads(event);
    if (!p || !e) {
        fprintf(stderr, "line %d: test case does not parse\n", line);
        json_decref(p);
        json_decref(e);
        return 1;
    }
    bool got = evb_ref_match(p, e);
    json_decref(p);
    json_decref(e);
    if (got != expect) {
        fprintf(stderr, "line %d: pattern %s event %s: expected %s, got %s\n",
                line, pattern, event, expect ? "match" : "no match",
                got ? "match" : "no match");
        return 1;
    }
    return 0;
}

#define YES(p, e) fails += check_at(p, e, true, __LINE__)
#define NO(p, e) fails += check_at(p, e, false, __LINE__)

static void test_shape_and_dots(void **state) {
    (void)state;
    int fails = 0;
    YES("{\"a\":[1]}", "{\"a\":1,\"b\":2}");
    NO("{\"a\":[1],\"b\":[3]}", "{\"a\":1,\"b\":2}");
    YES("{\"a\":[1,3]}", "{\"a\":3}");
    NO("{\"A\":[1]}", "{\"a\":1}");
    /* the three equivalent pattern spellings against the three events */
    const char *pats[] = {"{\"a\":{\"b.c\":[1]}}", "{\"a.b\":{\"c\":[1]}}",
                          "{\"a\":{\"b\":{\"c\":[1]}}}"};
    const char *evs[] = {"{\"a\":{\"b\":{\"c\":1}}}", "{\"a\":{\"b.c\":1}}",
                         "{\"a.b.c\":1}"};
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++)
            YES(pats[i], evs[j]);
    NO("{\"a\":{\"b\":[1]}}", "{\"a\":{\"b\":{\"c\":1}}}");
    NO("{\"a\":[1]}", "{\"a\":{\"b\":1}}");
    NO("{\"a\":{\"b\":[1]}}", "{\"ab\":1}");
    /* an empty key is still joined with a dot, at the top level too */
    YES("{\"\":{\"k\":[1]}}", "{\"\":{\"k\":1}}");
    YES("{\".k\":[1]}", "{\"\":{\"k\":1}}");
    YES("{\"\":{\"k\":[1]}}", "{\".k\":1}");
    NO("{\"\":{\"k\":[1]}}", "{\"k\":1}");
    YES("{\"a\":{\"\":[1]}}", "{\"a.\":1}");
    YES("{\"\":[1]}", "{\"\":1}");
    /* a field named twice (the doc is silent): both conditions apply */
    YES("{\"a\":{\"b\":[1]},\"a.b\":[2]}", "{\"a\":{\"b\":1},\"a.b\":2}");
    NO("{\"a\":{\"b\":[1]},\"a.b\":[2]}", "{\"a.b\":2}");
    assert_int_equal(fails, 0);
}

static void test_types_and_numbers(void **state) {
    (void)state;
    int fails = 0;
    NO("{\"a\":[\"0\"]}", "{\"a\":0}");
    NO("{\"a\":[0]}", "{\"a\":\"0\"}");
    NO("{\"a\":[null]}", "{\"a\":\"\"}");
    NO("{\"a\":[null]}", "{\"a\":\"null\"}");
    NO("{\"a\":[true]}", "{\"a\":\"true\"}");
    YES("{\"a\":[true]}", "{\"a\":true}");
    NO("{\"a\":[true]}", "{\"a\":false}");
    YES("{\"a\":[null]}", "{\"a\":null}");
    NO("{\"a\":[null]}", "{}");
    NO("{\"a\":[null]}", "{\"a\":[]}");
    YES("{\"a\":[300]}", "{\"a\":300.0}");
    YES("{\"a\":[300]}", "{\"a\":3e2}");
    YES("{\"a\":[3e2]}", "{\"a\":300}");
    YES("{\"a\":[0]}", "{\"a\":-0}");
    YES("{\"a\":[-0.0]}", "{\"a\":0}");
    YES("{\"a\":[0.5]}", "{\"a\":5e-1}");
    NO("{\"a\":[0.3]}", "{\"a\":0.30000000000000004}");
    YES("{\"a\":[\"A\"]}", "{\"a\":\"\\u0041\"}");
    YES("{\"a\":[\"\\u00e9\"]}", "{\"a\":\"\xc3\xa9\"}");
    /* arrays offer each element; nested arrays too; [] offers nothing */
    YES("{\"a\":[3]}", "{\"a\":[[1,2],[3]]}");
    YES("{\"a\":[\"x\"]}", "{\"a\":[1,\"x\",null]}");
    NO("{\"a\":[1]}", "{\"a\":[[],[[]]]}");
    /* large integers parse with JSON_DECODE_INT_AS_REAL */
    YES("{\"a\":[1e20]}", "{\"a\":100000000000000000000}");
    assert_int_equal(fails, 0);
}

static void test_representable(void **state) {
    (void)state;
    const char *yes[] = {"0",
                         "-0",
                         "0.0",
                         "1",
                         "1.0",
                         "1e0",
                         "10e-1",
                         "0.1e1",
                         "100",
                         "1E+2",
                         "0.5",
                         "5e-1",
                         "-3",
                         "0.1",
                         "0.30000000000000004",
                         "9007199254740992",
                         "1.7976931348623157e308",
                         "5e-324",
                         "12345678901234000000",
                         "2.50"};
    const char *no[] = {"1e400",
                        "-1e400",
                        "0.30000000000000001",
                        "9007199254740993",
                        "1e-400",
                        "1.00000000000000001"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!evb_ref_number_representable(yes[i]))
            fprintf(stderr, "%s should be representable\n", yes[i]);
        assert_true(evb_ref_number_representable(yes[i]));
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        if (evb_ref_number_representable(no[i]))
            fprintf(stderr, "%s should not be representable\n", no[i]);
        assert_false(evb_ref_number_representable(no[i]));
    }

    /* an event number stands for its nearest double ... */
    json_t *ev = json_pack("{s:o}", "a", evb_ref_number("9007199254740993"));
    json_t *p = evb_ref_loads("{\"a\":[9007199254740992]}");
    assert_true(evb_ref_match(p, ev));
    json_decref(p);
    json_decref(ev);
    ev = json_pack("{s:o}", "a", evb_ref_number("0.30000000000000001"));
    p = evb_ref_loads("{\"a\":[{\"numeric\":[\"=\",0.3]}]}");
    assert_true(evb_ref_match(p, ev));
    json_decref(p);
    json_decref(ev);
    ev = json_pack("{s:o}", "a", evb_ref_number("1e-400"));
    p = evb_ref_loads("{\"a\":[0]}");
    assert_true(evb_ref_match(p, ev));
    json_decref(p);
    json_decref(ev);
    /* ... but one outside the double range exists and is anything-but,
     * equals nothing and is in no range */
    ev = json_pack("{s:o}", "a", evb_ref_number("-1e400"));
    const char *match[] = {
        "{\"a\":[{\"exists\":true}]}",
        "{\"a\":[{\"anything-but\":1.7976931348623157e308}]}",
        "{\"a\":[{\"anything-but\":\"x\"}]}"};
    const char *nomatch[] = {"{\"a\":[-1.7976931348623157e308]}",
                             "{\"a\":[{\"numeric\":[\"<\",0]}]}",
                             "{\"a\":[{\"exists\":false}]}"};
    for (size_t i = 0; i < 3; i++) {
        p = evb_ref_loads(match[i]);
        assert_true(evb_ref_match(p, ev));
        json_decref(p);
        p = evb_ref_loads(nomatch[i]);
        assert_false(evb_ref_match(p, ev));
        json_decref(p);
    }
    json_decref(ev);
    /* a representable marker number behaves as the number */
    ev = json_pack("{s:o}", "a", evb_ref_number("1e0"));
    p = evb_ref_loads("{\"a\":[1]}");
    assert_true(evb_ref_match(p, ev));
    json_decref(p);
    json_decref(ev);
}

static void test_strings(void **state) {
    (void)state;
    int fails = 0;
    YES("{\"a\":[{\"prefix\":\"fo\"}]}", "{\"a\":\"foo\"}");
    NO("{\"a\":[{\"prefix\":\"Fo\"}]}", "{\"a\":\"foo\"}");
    YES("{\"a\":[{\"prefix\":\"\"}]}", "{\"a\":\"\"}");
    NO("{\"a\":[{\"prefix\":\"\"}]}", "{\"a\":1}");
    NO("{\"a\":[{\"prefix\":\"1\"}]}", "{\"a\":12}");
    YES("{\"a\":[{\"prefix\":{\"equals-ignore-case\":\"FO\"}}]}",
        "{\"a\":\"fOo\"}");
    YES("{\"a\":[{\"suffix\":\"oo\"}]}", "{\"a\":\"foo\"}");
    NO("{\"a\":[{\"suffix\":\"OO\"}]}", "{\"a\":\"foo\"}");
    YES("{\"a\":[{\"suffix\":{\"equals-ignore-case\":\"OO\"}}]}",
        "{\"a\":\"foo\"}");
    YES("{\"a\":[{\"equals-ignore-case\":\"FOO\"}]}", "{\"a\":\"fOo\"}");
    NO("{\"a\":[{\"equals-ignore-case\":\"FOO\"}]}", "{\"a\":\"fOo \"}");
    YES("{\"a\":[{\"equals-ignore-case\":\"\"}]}", "{\"a\":\"\"}");
    NO("{\"a\":[{\"equals-ignore-case\":\"null\"}]}", "{\"a\":null}");
    /* the doc's folding: Latin-1, Latin Extended-A, Greek, Cyrillic */
    YES("{\"a\":[{\"equals-ignore-case\":\"\xc3\x84\xc3\x89\xc3\x9e\"}]}",
        "{\"a\":\"\xc3\xa4\xc3\xa9\xc3\xbe\"}"); /* ÄÉÞ / äéþ */
    NO("{\"a\":[{\"equals-ignore-case\":\"\xc3\x97\"}]}",
       "{\"a\":\"\xc3\xb7\"}"); /* × / ÷ */
    YES("{\"a\":[{\"equals-ignore-case\":\"\xc5\x81\xc5\x90\xc4\x80\"}]}",
        "{\"a\":\"\xc5\x82\xc5\x91\xc4\x81\"}"); /* ŁŐĀ / łőā */
    YES("{\"a\":[{\"equals-ignore-case\":\"\xce\xa3\xce\xa9\"}]}",
        "{\"a\":\"\xcf\x83\xcf\x89\"}"); /* ΣΩ / σω */
    NO("{\"a\":[{\"equals-ignore-case\":\"\xce\xa3\"}]}",
       "{\"a\":\"\xcf\x82\"}"); /* Σ / ς */
    YES("{\"a\":[{\"equals-ignore-case\":\"\xd0\x9f\xd0\x81\"}]}",
        "{\"a\":\"\xd0\xbf\xd1\x91\"}"); /* ПЁ / пё */
    NO("{\"a\":[{\"equals-ignore-case\":\"\xc7\x84\"}]}",
       "{\"a\":\"\xc7\x86\"}"); /* Ǆ / ǆ */
    NO("{\"a\":[{\"equals-ignore-case\":\"\xef\xbc\xa1\"}]}",
       "{\"a\":\"\xef\xbd\x81\"}"); /* Ａ / ａ */
    YES("{\"a\":[{\"prefix\":{\"equals-ignore-case\":\"\xd0\x9f\xd0\xa0\"}}]}",
        "{\"a\":\"\xd0\xbf\xd1\x80\xd0\xb8\"}"); /* ПР / при */
    assert_int_equal(fails, 0);

    size_t n;
    char *f = evb_ref_fold("AbC\xc3\x84z", 6, &n);
    assert_int_equal(n, 6);
    assert_string_equal(f, "abc\xc3\xa4z");
    free(f);
}

static void test_wildcard(void **state) {
    (void)state;
    int fails = 0;
    YES("{\"a\":[{\"wildcard\":\"*\"}]}", "{\"a\":\"\"}");
    YES("{\"a\":[{\"wildcard\":\"f*o\"}]}", "{\"a\":\"fo\"}");
    YES("{\"a\":[{\"wildcard\":\"f*o\"}]}", "{\"a\":\"foooo\"}");
    NO("{\"a\":[{\"wildcard\":\"f*o\"}]}", "{\"a\":\"foox\"}");
    YES("{\"a\":[{\"wildcard\":\"*o*o*\"}]}", "{\"a\":\"xoyoz\"}");
    NO("{\"a\":[{\"wildcard\":\"*o*o*\"}]}", "{\"a\":\"xoy\"}");
    YES("{\"a\":[{\"wildcard\":\"\"}]}", "{\"a\":\"\"}");
    NO("{\"a\":[{\"wildcard\":\"\"}]}", "{\"a\":\"x\"}");
    YES("{\"a\":[{\"wildcard\":\"a\\\\*b\"}]}", "{\"a\":\"a*b\"}");
    NO("{\"a\":[{\"wildcard\":\"a\\\\*b\"}]}", "{\"a\":\"axb\"}");
    YES("{\"a\":[{\"wildcard\":\"a\\\\\\\\b\"}]}", "{\"a\":\"a\\\\b\"}");
    YES("{\"a\":[{\"wildcard\":\"*\\\\\\\\\"}]}", "{\"a\":\"x\\\\\"}");
    NO("{\"a\":[{\"wildcard\":\"*\"}]}", "{\"a\":1}");
    NO("{\"a\":[{\"wildcard\":\"*\"}]}", "{\"a\":null}");
    YES("{\"a\":[{\"wildcard\":\"\xd0\x9f*\"}]}",
        "{\"a\":\"\xd0\x9f\xd1\x80\"}");
    assert_int_equal(fails, 0);
}

static void test_cidr_numeric(void **state) {
    (void)state;
    int fails = 0;
    YES("{\"a\":[{\"cidr\":\"10.0.0.0/24\"}]}", "{\"a\":\"10.0.0.255\"}");
    NO("{\"a\":[{\"cidr\":\"10.0.0.0/24\"}]}", "{\"a\":\"10.0.1.0\"}");
    YES("{\"a\":[{\"cidr\":\"10.0.0.0/8\"}]}", "{\"a\":\"10.200.1.7\"}");
    YES("{\"a\":[{\"cidr\":\"0.0.0.0/0\"}]}", "{\"a\":\"192.168.1.1\"}");
    NO("{\"a\":[{\"cidr\":\"0.0.0.0/0\"}]}", "{\"a\":\"2001:db8::1\"}");
    NO("{\"a\":[{\"cidr\":\"0.0.0.0/0\"}]}", "{\"a\":\"not an ip\"}");
    YES("{\"a\":[{\"cidr\":\"10.0.0.5/32\"}]}", "{\"a\":\"10.0.0.5\"}");
    NO("{\"a\":[{\"cidr\":\"10.0.0.5/32\"}]}", "{\"a\":\"10.0.0.4\"}");
    YES("{\"a\":[{\"cidr\":\"2001:db8::/32\"}]}",
        "{\"a\":\"2001:db8:ffff::1\"}");
    YES("{\"a\":[{\"cidr\":\"2001:db8::/32\"}]}",
        "{\"a\":\"2001:0DB8:0000:0000:0000:0000:0000:0001\"}");
    NO("{\"a\":[{\"cidr\":\"2001:db8::/32\"}]}", "{\"a\":\"2001:db9::1\"}");
    YES("{\"a\":[{\"cidr\":\"::1/128\"}]}", "{\"a\":\"::1\"}");
    NO("{\"a\":[{\"cidr\":\"10.0.0.0/8\"}]}", "{\"a\":10}");
    YES("{\"a\":[{\"numeric\":[\">\",0,\"<=\",5]}]}", "{\"a\":5}");
    NO("{\"a\":[{\"numeric\":[\">\",0,\"<=\",5]}]}", "{\"a\":0}");
    NO("{\"a\":[{\"numeric\":[\">\",0,\"<=\",5]}]}", "{\"a\":5.000001}");
    YES("{\"a\":[{\"numeric\":[\"=\",300]}]}", "{\"a\":3e2}");
    YES("{\"a\":[{\"numeric\":[\"=\",0]}]}", "{\"a\":-0}");
    YES("{\"a\":[{\"numeric\":[\">=\",-3,\"<\",0]}]}", "{\"a\":-3}");
    NO("{\"a\":[{\"numeric\":[\">\",0]}]}", "{\"a\":\"5\"}");
    NO("{\"a\":[{\"numeric\":[\">\",0]}]}", "{\"a\":null}");
    YES("{\"a\":[{\"numeric\":[\"<\",0]}]}", "{\"a\":[5,-1]}");
    assert_int_equal(fails, 0);
}

static void test_exists_anything_but(void **state) {
    (void)state;
    int fails = 0;
    YES("{\"a\":[{\"exists\":true}]}", "{\"a\":null}");
    YES("{\"a\":[{\"exists\":true}]}", "{\"a\":[[],[0]]}");
    NO("{\"a\":[{\"exists\":true}]}", "{\"a\":[]}");
    NO("{\"a\":[{\"exists\":true}]}", "{\"a\":{\"b\":1}}");
    YES("{\"a\":[{\"exists\":false}]}", "{}");
    YES("{\"a\":[{\"exists\":false}]}", "{\"a\":[]}");
    YES("{\"a\":[{\"exists\":false}]}", "{\"a\":{\"b\":1}}");
    NO("{\"a\":[{\"exists\":false}]}", "{\"a\":null}");
    YES("{\"a\":{\"b\":[{\"exists\":false}]}}", "{\"c\":1}");
    YES("{\"a\":[{\"exists\":false}, 1]}", "{\"a\":1}");
    NO("{\"a\":[{\"exists\":false}, 1]}", "{\"a\":2}");
    YES("{\"a\":[{\"anything-but\":\"x\"}]}", "{\"a\":null}");
    YES("{\"a\":[{\"anything-but\":\"x\"}]}", "{\"a\":true}");
    YES("{\"a\":[{\"anything-but\":\"5\"}]}", "{\"a\":5}");
    NO("{\"a\":[{\"anything-but\":5}]}", "{\"a\":5.0}");
    NO("{\"a\":[{\"anything-but\":\"x\"}]}", "{}");
    NO("{\"a\":[{\"anything-but\":\"x\"}]}", "{\"a\":[]}");
    YES("{\"a\":[{\"anything-but\":\"x\"}]}", "{\"a\":[\"x\",\"y\"]}");
    NO("{\"a\":[{\"anything-but\":[\"x\",\"y\"]}]}", "{\"a\":[\"x\",\"y\"]}");
    NO("{\"a\":[{\"anything-but\":[1,2]}]}", "{\"a\":2e0}");
    YES("{\"a\":[{\"anything-but\":{\"prefix\":\"fo\"}}]}", "{\"a\":\"bar\"}");
    NO("{\"a\":[{\"anything-but\":{\"prefix\":\"fo\"}}]}", "{\"a\":\"foo\"}");
    YES("{\"a\":[{\"anything-but\":{\"prefix\":\"fo\"}}]}", "{\"a\":12}");
    YES("{\"a\":[{\"anything-but\":{\"prefix\":\"fo\"}}]}", "{\"a\":null}");
    NO("{\"a\":[{\"anything-but\":{\"prefix\":[\"b\",\"fo\"]}}]}",
       "{\"a\":\"foo\"}");
    NO("{\"a\":[{\"anything-but\":{\"suffix\":\"oo\"}}]}", "{\"a\":\"foo\"}");
    NO("{\"a\":[{\"anything-but\":{\"equals-ignore-case\":[\"FOO\"]}}]}",
       "{\"a\":\"foo\"}");
    YES("{\"a\":[{\"anything-but\":{\"equals-ignore-case\":\"FOO\"}}]}",
        "{\"a\":\"foo2\"}");
    NO("{\"a\":[{\"anything-but\":{\"wildcard\":\"f*\"}}]}", "{\"a\":\"foo\"}");
    YES("{\"a\":[{\"anything-but\":{\"wildcard\":\"\"}}]}", "{\"a\":\"foo\"}");
    NO("{\"a\":[{\"anything-but\":{\"wildcard\":\"\"}}]}", "{\"a\":\"\"}");
    assert_int_equal(fails, 0);
}

static void test_or(void **state) {
    (void)state;
    int fails = 0;
    const char *p = "{\"a\":[1],\"$or\":[{\"b\":[2]},{\"c\":[3]}]}";
    YES(p, "{\"a\":1,\"b\":2}");
    YES(p, "{\"a\":1,\"c\":3}");
    NO(p, "{\"a\":1}");
    NO(p, "{\"b\":2,\"c\":3}");
    p = "{\"x\":{\"$or\":[{\"b\":[2]},{\"$or\":[{\"c\":[3]},{\"d\":[4]}]}]}}";
    YES(p, "{\"x\":{\"d\":4}}");
    YES(p, "{\"x.b\":2}");
    NO(p, "{\"d\":4}");
    /* two $or at different levels multiply */
    p = "{\"$or\":[{\"a\":[1]},{\"a\":[2]}],"
        "\"x\":{\"$or\":[{\"b\":[1]},{\"b\":[2]}]}}";
    YES(p, "{\"a\":2,\"x\":{\"b\":1}}");
    NO(p, "{\"a\":3,\"x\":{\"b\":1}}");
    /* "$or" with non-object elements is an ordinary field */
    YES("{\"$or\":[\"a\",\"b\"]}", "{\"$or\":\"b\"}");
    NO("{\"$or\":[\"a\",\"b\"]}", "{\"a\":\"a\"}");
    /* duplicated key: the last wins (jansson keeps the last) */
    YES("{\"a\":[1],\"a\":[2]}", "{\"a\":2}");
    assert_int_equal(fails, 0);

    json_t *pj = evb_ref_loads("{\"$or\":[{\"a\":[1]},{\"b\":[1]},{\"c\":[1]}],"
                               "\"d\":{\"$or\":[{\"e\":[1]},{\"f\":[1]}]}}");
    evb_ref_pattern_t *rp = evb_ref_pattern_new(pj);
    assert_int_equal(evb_ref_pattern_alternatives(rp), 6);
    evb_ref_pattern_free(rp);
    json_decref(pj);
}

static void test_array_consistency(void **state) {
    (void)state;
    int fails = 0;
    const char *p = "{\"e\":{\"first\":[\"Anna\"],\"last\":[\"Jones\"]}}";
    NO(p, "{\"e\":[{\"first\":\"Anna\",\"last\":\"Smith\"},"
          "{\"first\":\"John\",\"last\":\"Jones\"}]}");
    YES(p, "{\"e\":[{\"first\":\"Anna\",\"last\":\"Smith\"},"
           "{\"first\":\"Anna\",\"last\":\"Jones\"}]}");
    /* the search must backtrack: first Anna is a dead end */
    YES(p, "{\"e\":[{\"first\":\"Anna\"},{\"first\":\"Anna\",\"last\":"
           "\"Jones\"}]}");
    /* different arrays do not constrain each other */
    YES("{\"a\":{\"x\":[1]},\"b\":{\"y\":[2]}}",
        "{\"a\":[{\"x\":0},{\"x\":1}],\"b\":[{\"y\":2},{\"y\":0}]}");
    /* scalars of one array under one field: any element */
    YES("{\"e\":{\"k\":[1],\"v\":[2]}}", "{\"e\":[{\"k\":[0,1],\"v\":[2,3]}]}");
    /* nested arrays: inner index matters only within the same inner array */
    p = "{\"o\":{\"i\":{\"a\":[1],\"b\":[2]}}}";
    YES(p, "{\"o\":[{\"i\":[{\"a\":1,\"b\":2}]},{\"i\":[{\"a\":9}]}]}");
    NO(p, "{\"o\":[{\"i\":[{\"a\":1},{\"b\":2}]}]}");
    NO(p, "{\"o\":[{\"i\":[{\"a\":1}]},{\"i\":[{\"b\":2}]}]}");
    /* a top-level field with an array-element field */
    YES("{\"t\":[1],\"e\":{\"a\":[2]}}",
        "{\"t\":1,\"e\":[{\"a\":3},{\"a\":2}]}");
    /* exists:true participates; exists:false is about the whole event */
    NO("{\"e\":{\"a\":[1],\"b\":[{\"exists\":true}]}}",
       "{\"e\":[{\"a\":1},{\"b\":2}]}");
    NO("{\"e\":{\"a\":[1],\"b\":[{\"exists\":false}]}}",
       "{\"e\":[{\"a\":1},{\"b\":2}]}");
    YES("{\"e\":{\"a\":[1],\"b\":[{\"exists\":false}]}}",
        "{\"e\":[{\"a\":1},{\"a\":2}]}");
    /* anything-but is per leaf */
    YES("{\"e\":{\"a\":[1],\"b\":[{\"anything-but\":\"x\"}]}}",
        "{\"e\":[{\"a\":1,\"b\":[\"x\",\"y\"]},{\"b\":\"z\"}]}");
    NO("{\"e\":{\"a\":[1],\"b\":[{\"anything-but\":\"x\"}]}}",
       "{\"e\":[{\"a\":1,\"b\":\"x\"},{\"b\":\"z\"}]}");
    /* $or alternatives are each array-consistent */
    YES("{\"e\":{\"a\":[1],\"$or\":[{\"b\":[2]},{\"c\":[3]}]}}",
        "{\"e\":[{\"a\":1,\"b\":0,\"c\":3},{\"b\":2}]}");
    NO("{\"e\":{\"a\":[1],\"$or\":[{\"b\":[2]},{\"c\":[3]}]}}",
       "{\"e\":[{\"a\":1,\"b\":0,\"c\":0},{\"b\":2,\"c\":3}]}");
    assert_int_equal(fails, 0);
}

/* Every match / no-match case recorded against AWS. */
static void test_conformance_data(void **state) {
    (void)state;
    const char *path = EVB_TEST_DATA_DIR "/conformance/event_patterns.jsonl";
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        fail();
    }
    char *line = NULL;
    size_t cap = 0;
    int cases = 0, fails = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *c = evb_ref_loads(line);
        assert_non_null(c);
        json_t *expect = json_object_get(c, "expect");
        json_t *event = json_object_get(c, "event");
        if (!json_is_boolean(expect) || !json_is_object(event)) {
            json_decref(c);
            continue;
        }
        json_t *pat = json_object_get(c, "pattern");
        json_t *owned = NULL;
        if (!pat) {
            owned = evb_ref_loads(
                json_string_value(json_object_get(c, "pattern_text")));
            pat = owned;
        }
        assert_non_null(pat);
        bool got = evb_ref_match(pat, event);
        cases++;
        if (got != json_is_true(expect)) {
            fprintf(stderr, "conformance case %s: expected %s\n",
                    json_string_value(json_object_get(c, "name")),
                    json_is_true(expect) ? "match" : "no match");
            fails++;
        }
        json_decref(owned);
        json_decref(c);
    }
    free(line);
    fclose(f);
    assert_true(cases > 100);
    assert_int_equal(fails, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_and_dots),
        cmocka_unit_test(test_types_and_numbers),
        cmocka_unit_test(test_representable),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_wildcard),
        cmocka_unit_test(test_cidr_numeric),
        cmocka_unit_test(test_exists_anything_but),
        cmocka_unit_test(test_or),
        cmocka_unit_test(test_array_consistency),
        cmocka_unit_test(test_conformance_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
