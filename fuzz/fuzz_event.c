/*
 * fuzz_event.c: fuzz target for event parsing and matching.
 *
 * The input is event text. It is matched against one fixed matcher whose
 * rules together use every operator of the pattern language (exact values
 * of each type, prefix, suffix, equals-ignore-case and their
 * case-insensitive forms, wildcard, cidr, numeric, exists, every
 * anything-but form, $or, nested fields), tested with evb_pattern_test
 * against each of those rules, and checked with evb_event_check_envelope.
 * Besides crashes and sanitizer reports the target aborts when:
 *   - matching fails with anything but EVB_ERR_INVALID_EVENT or NOMEM;
 *   - the matcher returns a name that is not a rule, or one twice;
 *   - the matcher and evb_pattern_test disagree, for any rule, on whether
 *     it matches or on whether the event is valid.
 * The matcher is built once, on the first call, and kept for the process.
 * Seeds: fuzz/corpus/fuzz_event/.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fixed_rule {
    const char *name;
    const char *pattern;
} fixed_rule_t;

static const fixed_rule_t rules[] = {
    {"exact", "{\"source\":[\"aws.ec2\",\"aws.s3\"],\"detail\":{\"state\":"
              "[\"running\"]}}"},
    {"exact-types", "{\"detail\":{\"count\":[5,300.0,-1e-3],\"ok\":[true],"
                    "\"none\":[null]}}"},
    {"prefix", "{\"detail-type\":[{\"prefix\":\"EC2 \"}],\"properties\":{"
               "\"STREET\":[{\"prefix\":{\"equals-ignore-case\":\"un\"}}]}}"},
    {"suffix", "{\"resources\":[{\"suffix\":\"/i-abc\"},{\"suffix\":{"
               "\"equals-ignore-case\":\".PNG\"}}]}"},
    {"eic", "{\"detail\":{\"state\":[{\"equals-ignore-case\":\"STOPPED\"},"
            "{\"equals-ignore-case\":\"\xc3\x89t\xc3\xa9\"}]}}"},
    {"wildcard",
     "{\"detail\":{\"path\":[{\"wildcard\":\"dir/*/file\\\\*.txt\"},"
     "{\"wildcard\":\"*.jpg\"}]}}"},
    {"cidr", "{\"detail\":{\"ip\":[{\"cidr\":\"10.0.0.0/24\"},{\"cidr\":"
             "\"2001:db8::/32\"}]}}"},
    {"numeric",
     "{\"detail\":{\"count\":[{\"numeric\":[\">\",0,\"<=\",5]},"
     "{\"numeric\":[\"=\",3e2]}],\"ratio\":[{\"numeric\":[\"<\",1]}]}}"},
    {"exists", "{\"detail\":{\"instance-id\":[{\"exists\":true}],\"gone\":"
               "[{\"exists\":false}]}}"},
    {"anything-but", "{\"detail\":{\"state\":[{\"anything-but\":[\"running\","
                     "\"pending\"]}],\"count\":[{\"anything-but\":[1,2]}]}}"},
    {"anything-but-str", "{\"region\":[{\"anything-but\":\"us-east-1\"}],"
                         "\"account\":[{\"anything-but\":5}]}"},
    {"anything-but-prefix", "{\"source\":[{\"anything-but\":{\"prefix\":"
                            "\"aws.\"}}]}"},
    {"anything-but-suffix", "{\"source\":[{\"anything-but\":{\"suffix\":"
                            "[\".internal\",\".test\"]}}]}"},
    {"anything-but-eic", "{\"detail\":{\"state\":[{\"anything-but\":{"
                         "\"equals-ignore-case\":[\"RUNNING\",\"x\"]}}]}}"},
    {"anything-but-wildcard", "{\"detail\":{\"path\":[{\"anything-but\":{"
                              "\"wildcard\":\"*/tmp/*\"}}]}}"},
    {"or", "{\"source\":[\"aws.ec2\"],\"$or\":[{\"detail\":{\"count\":"
           "[{\"numeric\":[\">\",10]}]}},{\"detail\":{\"ok\":[true]}},"
           "{\"resources\":[{\"exists\":true}]}]}"},
    {"arrays", "{\"e\":{\"first\":[\"Anna\"],\"last\":[\"Jones\",\"Smith\"]}}"},
    {"dotted", "{\"a\":{\"b.c\":[1]},\"geometry\":{\"type\":[\"Polygon\"]}}"},
};

#define N_RULES (sizeof rules / sizeof rules[0])

static evb_matcher_t *matcher;
static evb_match_ctx_t *ctx;

static void fail(const char *what, const char *rule, const uint8_t *data,
                 size_t size) {
    fprintf(stderr, "fuzz_event: %s (rule %s)\nevent: %.*s\n", what,
            rule ? rule : "-", (int)(size > 2000 ? 2000 : size),
            (const char *)data);
    abort();
}

/* Build the fixed matcher; any failure here is a bug in the engine or in
 * the table above, so it aborts. */
static void setup(void) {
    const char *names[N_RULES], *patterns[N_RULES];
    size_t lens[N_RULES];
    char errstr[1024];
    for (size_t i = 0; i < N_RULES; i++) {
        names[i] = rules[i].name;
        patterns[i] = rules[i].pattern;
        lens[i] = strlen(rules[i].pattern);
    }
    evb_ruleset_t *rs = evb_ruleset_new(NULL);
    ctx = evb_match_ctx_new();
    if (!rs || !ctx) {
        fprintf(stderr, "fuzz_event: out of memory in setup\n");
        abort();
    }
    evb_err_t err = evb_ruleset_add_many(rs, N_RULES, names, patterns, lens,
                                         errstr, sizeof errstr);
    if (err != EVB_ERR_OK) {
        fprintf(stderr, "fuzz_event: fixed rules rejected: %s\n", errstr);
        abort();
    }
    matcher = evb_ruleset_acquire(rs);
    evb_ruleset_free(rs); /* the matcher holds its own reference */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!matcher)
        setup();
    const char *event = (const char *)data;
    char errstr[1024];
    const char *const *names;
    size_t count = 0;
    evb_err_t err = evb_matcher_match(matcher, ctx, event, size, &names, &count,
                                      errstr, sizeof errstr);
    if (err == EVB_ERR_NOMEM)
        return 0;
    if (err != EVB_ERR_OK && err != EVB_ERR_INVALID_EVENT)
        fail("unexpected error from evb_matcher_match", NULL, data, size);

    bool hit[N_RULES] = {false};
    if (err == EVB_ERR_OK) {
        if (count > N_RULES)
            fail("more matches than rules", NULL, data, size);
        for (size_t k = 0; k < count; k++) {
            size_t i = 0;
            while (i < N_RULES && strcmp(rules[i].name, names[k]) != 0)
                i++;
            if (i == N_RULES)
                fail("matcher returned an unknown rule name", names[k], data,
                     size);
            if (hit[i])
                fail("matcher returned a rule twice", names[k], data, size);
            hit[i] = true;
        }
    }

    /* Differential check: each rule on its own through evb_pattern_test. */
    for (size_t i = 0; i < N_RULES; i++) {
        bool matched = false;
        char terr[1024];
        evb_err_t e2 =
            evb_pattern_test(rules[i].pattern, strlen(rules[i].pattern), event,
                             size, NULL, &matched, terr, sizeof terr);
        if (e2 == EVB_ERR_NOMEM)
            return 0;
        if (e2 != err)
            fail(err == EVB_ERR_OK
                     ? "evb_pattern_test rejects an event the matcher accepts"
                     : "evb_pattern_test accepts an event the matcher rejects",
                 rules[i].name, data, size);
        if (err == EVB_ERR_OK && matched != hit[i])
            fail(matched ? "evb_pattern_test matches, the matcher does not"
                         : "the matcher matches, evb_pattern_test does not",
                 rules[i].name, data, size);
    }

    err = evb_event_check_envelope(event, size, errstr, sizeof errstr);
    if (err != EVB_ERR_OK && err != EVB_ERR_INVALID_EVENT &&
        err != EVB_ERR_NOMEM)
        fail("unexpected error from evb_event_check_envelope", NULL, data,
             size);
    return 0;
}
