/*
 * test_api_internal.c: helpers the api_<family>.c files share
 * (api_internal.h): NextToken and Limit read with the model's violations
 * and SerializationException (evb__api_paging over evb__api_int_member),
 * what a wrong-typed member is said to be (evb__api_found_text), the List
 * answer with its NextToken (evb__jw_list_begin/_end), the raw writer of
 * the Logs and SQS answers (evb__rw_*) and the AWS JSON error body
 * (evb__api_error_body), and the member lookup and UTF-16 length every
 * family's readers use (evb__api_member, evb__api_utf16_len). The calls are
 * built here directly on a parsed body, with no server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

typedef struct fixture {
    evb_arena_t arena;
    evb_buf_t out;
    evb__api_call_t call;
} fixture_t;

static int setup(void **state) {
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    evb_arena_init(&f->arena, 0);
    evb_buf_init(&f->out, 0);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    evb_buf_free(&f->out);
    evb_arena_free(&f->arena);
    free(f);
    return 0;
}

/* A fresh call on request body json. */
static evb__api_call_t *call_on(fixture_t *f, const char *json) {
    evb_arena_reset(&f->arena);
    evb_buf_reset(&f->out);
    memset(&f->call, 0, sizeof f->call);
    evb_jval_t *input = NULL;
    char errstr[256];
    assert_int_equal(evb_json_parse(&f->arena, json, strlen(json), 16, &input,
                                    errstr, sizeof errstr),
                     EVB_ERR_OK);
    f->call.input = input;
    f->call.arena = &f->arena;
    f->call.out = &f->out;
    f->call.action = "ListRules";
    evb_api_validation_init(&f->call.validation, &f->arena);
    return &f->call;
}

/* The error the call ends with ("" when it may go on): "Type: message". */
static const char *outcome(evb__api_call_t *call) {
    static char text[8192];
    if (evb__api_validated(call))
        return "";
    snprintf(text, sizeof text, "%s: %s", call->err_type, call->err_message);
    return text;
}

static void paging_reads_token_and_limit(void **state) {
    fixture_t *f = *state;
    evb__api_page_t pg;
    evb__api_call_t *c = call_on(f, "{\"NextToken\":\"abc\",\"Limit\":7}");
    evb__api_paging(c, &pg);
    assert_string_equal(outcome(c), "");
    assert_string_equal(pg.next_token, "abc");
    assert_int_equal(pg.limit, 7);

    c = call_on(f, "{}");
    evb__api_paging(c, &pg);
    assert_string_equal(outcome(c), "");
    assert_null(pg.next_token);
    assert_int_equal(pg.limit, 0);

    /* JSON null is absent; a repeated key: the last one wins */
    c = call_on(f, "{\"NextToken\":null,\"Limit\":null}");
    evb__api_paging(c, &pg);
    assert_string_equal(outcome(c), "");
    assert_null(pg.next_token);
    assert_int_equal(pg.limit, 0);
    c = call_on(f, "{\"Limit\":1,\"Limit\":100}");
    evb__api_paging(c, &pg);
    assert_string_equal(outcome(c), "");
    assert_int_equal(pg.limit, 100);
}

static void paging_records_the_models_violations(void **state) {
    fixture_t *f = *state;
    evb__api_page_t pg;
    evb__api_call_t *c = call_on(f, "{\"Limit\":0}");
    evb__api_paging(c, &pg);
    assert_int_equal(pg.limit, 0);
    assert_string_equal(outcome(c),
                        "ValidationException: 1 validation error detected: "
                        "Value '0' at 'limit' failed to satisfy constraint: "
                        "Member must have value greater than or equal to 1");

    c = call_on(f, "{\"Limit\":101}");
    evb__api_paging(c, &pg);
    assert_int_equal(pg.limit, 0);
    assert_string_equal(outcome(c),
                        "ValidationException: 1 validation error detected: "
                        "Value '101' at 'limit' failed to satisfy "
                        "constraint: Member must have value less than or "
                        "equal to 100");

    /* beyond long long: still "at most 100" */
    c = call_on(f, "{\"Limit\":99999999999999999999999}");
    evb__api_paging(c, &pg);
    assert_int_equal(pg.limit, 0);
    assert_non_null(strstr(outcome(c), "Member must have value less than or "
                                       "equal to 100"));

    c = call_on(f, "{\"NextToken\":\"\",\"Limit\":-1}");
    evb__api_paging(c, &pg);
    assert_string_equal(
        outcome(c),
        "ValidationException: 2 validation errors detected: "
        "Value '' at 'nextToken' failed to satisfy constraint: Member must "
        "have length greater than or equal to 1; Value '-1' at 'limit' "
        "failed to satisfy constraint: Member must have value greater than "
        "or equal to 1");

    char body[2100 + 32], tok[2050];
    memset(tok, 't', 2049);
    tok[2049] = '\0';
    snprintf(body, sizeof body, "{\"NextToken\":\"%s\"}", tok);
    c = call_on(f, body);
    evb__api_paging(c, &pg);
    assert_non_null(strstr(outcome(c), "at 'nextToken' failed to satisfy "
                                       "constraint: Member must have length "
                                       "less than or equal to 2048"));
    tok[2048] = '\0'; /* exactly 2048: fine */
    snprintf(body, sizeof body, "{\"NextToken\":\"%s\"}", tok);
    c = call_on(f, body);
    evb__api_paging(c, &pg);
    assert_string_equal(outcome(c), "");
    assert_int_equal(strlen(pg.next_token), 2048);
}

static void paging_refuses_wrong_types(void **state) {
    fixture_t *f = *state;
    evb__api_page_t pg;
    static const struct {
        const char *body, *error;
    } cases[] = {
        {"{\"Limit\":1.5}", "SerializationException: Expected an integer for "
                            "member 'Limit', found a number"},
        {"{\"Limit\":1e1}", "SerializationException: Expected an integer for "
                            "member 'Limit', found a number"},
        {"{\"Limit\":\"5\"}", "SerializationException: Expected an integer "
                              "for member 'Limit', found a string"},
        {"{\"Limit\":true}", "SerializationException: Expected an integer for "
                             "member 'Limit', found a boolean"},
        {"{\"Limit\":[1]}", "SerializationException: Expected an integer for "
                            "member 'Limit', found an array"},
        {"{\"NextToken\":5}", "SerializationException: Expected a string for "
                              "member 'NextToken', found a number"},
    };
    for (size_t i = 0; i < EVB_ARRAY_LEN(cases); i++) {
        evb__api_call_t *c = call_on(f, cases[i].body);
        evb__api_paging(c, &pg);
        assert_string_equal(outcome(c), cases[i].error);
        assert_int_equal(pg.limit, 0);
    }
}

static void int_member_reads_nested_objects_and_open_ranges(void **state) {
    fixture_t *f = *state;
    evb__api_call_t *c =
        call_on(f, "{\"RetryPolicy\":{\"MaximumRetryAttempts\":186},"
                   "\"RetentionDays\":2147483648}");
    const evb_jval_t *rp = c->input->u.obj.members[0].val;
    long long v = -1;
    assert_true(evb__api_int_member(c, rp, "MaximumRetryAttempts",
                                    "retryPolicy.maximumRetryAttempts", 0, 185,
                                    &v));
    assert_int_equal(v, 186);
    assert_false(evb__api_int_member(c, rp, "Missing", "missing", 0, 1, &v));
    assert_int_equal(v, 186); /* untouched */
    /* max 0: no upper bound; only a value past long long is refused, and
     * then as "at most" Java's int */
    assert_true(evb__api_int_member(c, c->input, "RetentionDays",
                                    "retentionDays", 0, 0, &v));
    assert_int_equal(v, 2147483648LL);
    assert_string_equal(outcome(c),
                        "ValidationException: 1 validation error detected: "
                        "Value '186' at 'retryPolicy.maximumRetryAttempts' "
                        "failed to satisfy constraint: Member must have value "
                        "less than or equal to 185");

    c = call_on(f, "{\"RetentionDays\":99999999999999999999}");
    assert_true(evb__api_int_member(c, c->input, "RetentionDays",
                                    "retentionDays", 0, 0, &v));
    assert_non_null(strstr(outcome(c), "Member must have value less than or "
                                       "equal to 2147483647"));
}

static void found_text_names_every_type(void **state) {
    fixture_t *f = *state;
    evb__api_call_t *c = call_on(
        f, "{\"a\":true,\"b\":false,\"c\":1,\"d\":\"s\",\"e\":[],\"f\":{},"
           "\"g\":null}");
    static const char *const want[] = {"a boolean", "a boolean", "a number",
                                       "a string",  "an array",  "an object",
                                       "null"};
    assert_int_equal(c->input->u.obj.n, EVB_ARRAY_LEN(want));
    for (size_t i = 0; i < EVB_ARRAY_LEN(want); i++)
        assert_string_equal(evb__api_found_text(c->input->u.obj.members[i].val),
                            want[i]);
    evb__api_fail_type(c, "Targets", "an array",
                       c->input->u.obj.members[5].val);
    assert_int_equal(c->status, 400);
    assert_string_equal(outcome(c), "SerializationException: Expected an "
                                    "array for member 'Targets', found an "
                                    "object");
}

static void list_answer_carries_next_token_when_there_is_one(void **state) {
    fixture_t *f = *state;
    evb__api_call_t *c = call_on(f, "{}");
    evb__jw_t w;
    evb__jw_list_begin(&w, c, "Rules");
    evb__jw_open(&w, NULL, '{');
    evb__jw_str(&w, "Name", "r1");
    evb__jw_close(&w, '}');
    evb__jw_open(&w, NULL, '{');
    evb__jw_str(&w, "Name", "r2");
    evb__jw_close(&w, '}');
    evb__jw_list_end(c, &w, "tok");
    assert_string_equal(outcome(c), "");
    assert_string_equal(f->out.data, "{\"Rules\":[{\"Name\":\"r1\"},"
                                     "{\"Name\":\"r2\"}],\"NextToken\":"
                                     "\"tok\"}");

    c = call_on(f, "{}");
    evb__jw_list_begin(&w, c, "RuleNames");
    evb__jw_str(&w, NULL, "a");
    evb__jw_str(&w, NULL, "b");
    evb__jw_list_end(c, &w, NULL);
    assert_string_equal(f->out.data, "{\"RuleNames\":[\"a\",\"b\"]}");

    c = call_on(f, "{}");
    evb__jw_list_begin(&w, c, "Archives");
    evb__jw_list_end(c, &w, NULL);
    assert_string_equal(f->out.data, "{\"Archives\":[]}");
}

static void list_answer_turns_a_full_buffer_into_internal_error(void **state) {
    fixture_t *f = *state;
    evb__api_call_t *c = call_on(f, "{}");
    f->out.max = 8; /* refuses to grow past 8 bytes */
    evb__jw_t w;
    evb__jw_list_begin(&w, c, "EventBuses");
    evb__jw_list_end(c, &w, "a-token-too-long-to-fit");
    assert_int_equal(c->status, 500);
    assert_string_equal(c->err_type, "InternalException");
    f->out.max = SIZE_MAX / 2;
}

static void error_body_replaces_the_body_and_sets_the_status(void **state) {
    (void)state;
    evb_http_response_t resp;
    memset(&resp, 0, sizeof resp);
    evb_buf_init(&resp.body, 0);
    assert_int_equal(evb_buf_appendf(&resp.body, "partial answer"), EVB_ERR_OK);
    assert_int_equal(evb__api_error_body(&resp, 403, "AccessDeniedException",
                                         "No \"key\"\n"),
                     EVB_ERR_OK);
    assert_int_equal(resp.status, 403);
    assert_string_equal(resp.body.data, "{\"__type\":\"AccessDeniedException\","
                                        "\"message\":\"No \\\"key\\\"\\n\"}");
    evb_buf_free(&resp.body);

    evb_buf_init(&resp.body, 16); /* too small for the body */
    assert_int_not_equal(
        evb__api_error_body(&resp, 400, "ValidationException", "m"),
        EVB_ERR_OK);
    assert_int_equal(resp.status, 400);
    evb_buf_free(&resp.body);
}

static void raw_writer_writes_what_it_is_told(void **state) {
    fixture_t *f = *state;
    evb__api_call_t *c = call_on(f, "{}");
    evb__rw_t w = {c->out, EVB_ERR_OK};
    evb__rw_raw(&w, "{");
    evb__rw_key_str(&w, true, "QueueUrl", "http://h/1/q");
    evb__rw_key_strn(&w, false, "message", "a\"b\0c", 5);
    evb__rw_key_i64(&w, false, "timestamp", INT64_MIN);
    evb__rw_raw(&w, ",\"list\":[");
    evb__rw_str(&w, "x", 1);
    evb__rw_raw(&w, ",");
    evb__rw_i64(&w, 42);
    evb__rw_raw(&w, "]}");
    assert_int_equal(w.err, EVB_ERR_OK);
    assert_string_equal(f->out.data,
                        "{\"QueueUrl\":\"http://h/1/q\",\"message\":"
                        "\"a\\\"b\\u0000c\",\"timestamp\":"
                        "-9223372036854775808,\"list\":[\"x\",42]}");

    /* the first failure sticks; later writes are skipped */
    c = call_on(f, "{}");
    f->out.max = 4;
    evb__rw_t small = {c->out, EVB_ERR_OK};
    evb__rw_raw(&small, "{");
    evb__rw_key_str(&small, true, "long-key", "v");
    assert_int_equal(small.err, EVB_ERR_TOO_LARGE);
    evb__rw_raw(&small, "}");
    assert_int_equal(small.err, EVB_ERR_TOO_LARGE);
    assert_null(strchr(f->out.data, '}'));
    f->out.max = SIZE_MAX / 2;
}

static void member_lookup_takes_the_last_and_keeps_null(void **state) {
    fixture_t *f = *state;
    evb__api_call_t *c =
        call_on(f, "{\"A\":1,\"B\":null,\"A\":2,\"a\":3,\"\":4}");
    const evb_jval_t *v = evb__api_member(c->input, "A");
    assert_non_null(v);
    assert_string_equal(v->u.str.s, "2");
    v = evb__api_member(c->input, "B");
    assert_non_null(v);
    assert_int_equal(v->type, EVB_JSON_NULL);
    assert_string_equal(evb__api_member(c->input, "a")->u.str.s, "3");
    assert_string_equal(evb__api_member(c->input, "")->u.str.s, "4");
    assert_null(evb__api_member(c->input, "C"));
    assert_null(evb__api_member(c->input, "AA"));
}

static void utf16_len_counts_as_java_does(void **state) {
    (void)state;
    assert_int_equal(evb__api_utf16_len("", 0), 0);
    assert_int_equal(evb__api_utf16_len("abc", 3), 3);
    assert_int_equal(evb__api_utf16_len("\xc3\xa9", 2), 1);         /* é */
    assert_int_equal(evb__api_utf16_len("\xe2\x82\xac", 3), 1);     /* € */
    assert_int_equal(evb__api_utf16_len("\xf0\x9f\x98\x80", 4), 2); /* 😀 */
    assert_int_equal(evb__api_utf16_len("a\0b", 3), 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paging_reads_token_and_limit),
        cmocka_unit_test(paging_records_the_models_violations),
        cmocka_unit_test(paging_refuses_wrong_types),
        cmocka_unit_test(int_member_reads_nested_objects_and_open_ranges),
        cmocka_unit_test(found_text_names_every_type),
        cmocka_unit_test(list_answer_carries_next_token_when_there_is_one),
        cmocka_unit_test(list_answer_turns_a_full_buffer_into_internal_error),
        cmocka_unit_test(error_body_replaces_the_body_and_sets_the_status),
        cmocka_unit_test(raw_writer_writes_what_it_is_told),
        cmocka_unit_test(member_lookup_takes_the_last_and_keeps_null),
        cmocka_unit_test(utf16_len_counts_as_java_does),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
