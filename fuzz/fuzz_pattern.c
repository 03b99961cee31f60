/*
 * fuzz_pattern.c: fuzz target for the event-pattern parser and compiler.
 *
 * The input is a pattern. It is validated; if valid it is compiled into a
 * rule set next to two fixed rules and matched against a few fixed events.
 * Besides crashes and sanitizer reports, the target checks the API's
 * promises and aborts when one is broken:
 *   - a rejected pattern yields EVB_ERR_INVALID_EVENT_PATTERN (or NOMEM)
 *     and a message starting "Event pattern is not valid. Reason: ";
 *   - a pattern that validates is accepted by evb_ruleset_add_many;
 *   - for every fixed event, the compiled matcher and evb_pattern_test
 *     agree on whether the pattern matches, and evb_pattern_explain agrees
 *     too (with an empty explanation exactly when it matches).
 * Seeds: fuzz/corpus/fuzz_pattern/.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REASON_PREFIX "Event pattern is not valid. Reason: "

static const char *const events[] = {
    "{\"id\":\"1\",\"source\":\"aws.ec2\",\"detail-type\":\"EC2 Instance "
    "State-change "
    "Notification\",\"account\":\"123456789012\",\"region\":\"us-east-1\","
    "\"time\":\"2022-07-13T13:48:01Z\",\"resources\":[\"arn:aws:ec2:us-east-1:"
    "123456789012:instance/i-abc\"],\"detail\":{\"state\":\"running\","
    "\"instance-id\":\"i-abc\",\"count\":5,\"ratio\":0.25,\"ok\":true,"
    "\"none\":null,\"ip\":\"10.0.0.7\",\"tags\":[\"a\",\"B\",\"\"]}}",
    "{\"type\":\"Feature\",\"properties\":{\"MAPBLKLOT\":\"1430022\","
    "\"BLKLOT\":\"1430022\",\"BLOCK_NUM\":\"1430\",\"LOT_NUM\":\"022\","
    "\"FROM_ST\":\"0\",\"TO_ST\":\"0\",\"STREET\":\"UNKNOWN\",\"ST_TYPE\":null,"
    "\"ODD_EVEN\":\"E\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
    "[[[-122.4224,37.8085,0],[-122.4222,37.8085,0]]]}}",
    "{\"a\":{\"b\":{\"c\":1}},\"a.b.c\":\"1\",\"x\":[[1,2],[3]],\"e\":[{"
    "\"first\":"
    "\"Anna\",\"last\":\"Smith\"},{\"first\":\"John\",\"last\":\"Jones\"}],"
    "\"s\":\"\\u0041bc\\u00e9\",\"n\":-0.0,\"big\":1e300,\"empty\":[],\"obj\":{"
    "}}",
    "{\"$or\":[\"a\",\"b\"],\"detail\":{\"state\":\"STOPPED\",\"count\":\"5\","
    "\"ip\":\"2001:db8::1\",\"path\":\"dir/sub*/file.txt\"},\"source\":"
    "[\"aws.s3\",null,true,false,300,3e2]}",
    "{}",
};

static void fail(const char *what, const uint8_t *data, size_t size) {
    fprintf(stderr, "fuzz_pattern: %s\npattern: %.*s\n", what,
            (int)(size > 2000 ? 2000 : size), (const char *)data);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *pattern = (const char *)data;
    char errstr[1024];
    evb_err_t err =
        evb_pattern_validate(pattern, size, NULL, errstr, sizeof errstr);
    if (err == EVB_ERR_NOMEM)
        return 0;
    if (err != EVB_ERR_OK) {
        if (err != EVB_ERR_INVALID_EVENT_PATTERN)
            fail("validate returned an unexpected error", data, size);
        if (strncmp(errstr, REASON_PREFIX, strlen(REASON_PREFIX)) != 0)
            fail("error message lacks the AWS prefix", data, size);
        return 0;
    }

    evb_ruleset_t *rs = evb_ruleset_new(NULL);
    evb_match_ctx_t *ctx = evb_match_ctx_new();
    if (!rs || !ctx)
        goto out;
    const char *const names[] = {"fixed-source", "fuzz", "fixed-type"};
    const char *const patterns[] = {
        "{\"source\":[\"aws.ec2\",{\"prefix\":\"aws.\"}]}", pattern,
        "{\"type\":[{\"anything-but\":\"Point\"}]}"};
    const size_t lens[] = {strlen(patterns[0]), size, strlen(patterns[2])};
    err = evb_ruleset_add_many(rs, 3, names, patterns, lens, errstr,
                               sizeof errstr);
    if (err == EVB_ERR_NOMEM)
        goto out;
    if (err != EVB_ERR_OK)
        fail("valid pattern rejected by evb_ruleset_add_many", data, size);

    evb_matcher_t *m = evb_ruleset_acquire(rs);
    if (evb_matcher_rule_count(m) != 3)
        fail("matcher does not hold 3 rules", data, size);
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        const char *const *matched;
        size_t count;
        size_t elen = strlen(events[i]);
        err = evb_matcher_match(m, ctx, events[i], elen, &matched, &count,
                                errstr, sizeof errstr);
        if (err == EVB_ERR_NOMEM)
            break;
        if (err != EVB_ERR_OK)
            fail("a fixed event failed to match", data, size);
        bool in_matcher = false;
        for (size_t k = 0; k < count; k++)
            if (strcmp(matched[k], "fuzz") == 0)
                in_matcher = true;

        bool tested = false, explained = false;
        char why[1024];
        err = evb_pattern_test(pattern, size, events[i], elen, NULL, &tested,
                               errstr, sizeof errstr);
        if (err == EVB_ERR_NOMEM)
            break;
        if (err != EVB_ERR_OK)
            fail("evb_pattern_test failed on a valid pattern", data, size);
        if (tested != in_matcher)
            fail("matcher and evb_pattern_test disagree", data, size);
        err = evb_pattern_explain(pattern, size, events[i], elen, NULL,
                                  &explained, why, sizeof why, errstr,
                                  sizeof errstr);
        if (err == EVB_ERR_NOMEM)
            break;
        if (err != EVB_ERR_OK || explained != tested)
            fail("evb_pattern_explain disagrees with evb_pattern_test", data,
                 size);
        if (explained != (why[0] == '\0'))
            fail("explanation empty iff matched is violated", data, size);
    }
    evb_matcher_unref(m);

    /* Replace and remove, exercising republication. */
    err = evb_ruleset_remove(rs, "fuzz");
    if (err != EVB_ERR_OK && err != EVB_ERR_NOMEM)
        fail("remove of a present rule failed", data, size);
out:
    evb_match_ctx_free(ctx);
    evb_ruleset_free(rs);
    return 0;
}
