/*
 * The connector's signing path (evb__pe_sign, used for every PutEvents
 * call):
 *   - known answers: the Authorization botocore's SigV4Auth computes for
 *     the same PutEvents request at the same time (with and without a
 *     session token; AWS's example credentials from the published SigV4
 *     test suite);
 *   - what it signs is accepted by src/sigv4's verifier (the one `evbus
 *     serve --credentials` runs), and a tampered body, another region, a
 *     wrong secret or a stale date are refused;
 *   - unsigned requests carry only Host, Content-Type and X-Amz-Target.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "connector/connector_internal.h"

#define KEY "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define HOST "events.us-east-1.amazonaws.com"
#define BODY                                                                   \
    "{\"Entries\":[{\"Source\":\"kafka-connect.vector\",\"DetailType\":"       \
    "\"kafka-connect-orders\",\"Detail\":\"{\\\"topic\\\":\\\"orders\\\"}\","  \
    "\"EventBusName\":\"arn:aws:events:us-east-1:123456789012:event-bus/"      \
    "default\"}]}"
/* 2015-08-30T12:36:00Z, the suite's date */
#define WHEN ((time_t)1440938160)

static evb_connector_credentials_t creds(const char *token) {
    evb_connector_credentials_t c;
    memset(&c, 0, sizeof c);
    snprintf(c.access_key_id, sizeof c.access_key_id, "%s", KEY);
    snprintf(c.secret_access_key, sizeof c.secret_access_key, "%s", SECRET);
    snprintf(c.session_token, sizeof c.session_token, "%s", token ? token : "");
    return c;
}

static const char *header(char hdrs[][2600], int n, const char *name) {
    size_t len = strlen(name);
    for (int i = 0; i < n; i++)
        if (strncasecmp(hdrs[i], name, len) == 0 && hdrs[i][len] == ':')
            return hdrs[i] + len + 2;
    return NULL;
}

static void test_known_answer(void **state) {
    (void)state;
    evb_connector_credentials_t c = creds(NULL);
    char hdrs[8][2600], err[200];
    int n = evb__pe_sign(&c, "us-east-1", HOST, "/", BODY, strlen(BODY), WHEN,
                         hdrs, err, sizeof err);
    assert_int_equal(n, 5);
    assert_string_equal(header(hdrs, n, "Host"), HOST);
    assert_string_equal(header(hdrs, n, "X-Amz-Date"), "20150830T123600Z");
    assert_string_equal(header(hdrs, n, "X-Amz-Target"), "AWSEvents.PutEvents");
    assert_string_equal(
        header(hdrs, n, "Authorization"),
        "AWS4-HMAC-SHA256 "
        "Credential=AKIDEXAMPLE/20150830/us-east-1/events/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
        "Signature="
        "d6782b436f3eca8d9d46d6ccbb021d4d4568114f695fe81e9da67a3e861b8fd8");
    assert_null(header(hdrs, n, "X-Amz-Security-Token"));

    c = creds("session-token/example+=");
    n = evb__pe_sign(&c, "us-east-1", HOST, "/", BODY, strlen(BODY), WHEN, hdrs,
                     err, sizeof err);
    assert_int_equal(n, 6);
    assert_string_equal(header(hdrs, n, "X-Amz-Security-Token"),
                        "session-token/example+=");
    assert_string_equal(
        header(hdrs, n, "Authorization"),
        "AWS4-HMAC-SHA256 "
        "Credential=AKIDEXAMPLE/20150830/us-east-1/events/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;"
        "x-amz-target, "
        "Signature="
        "09d05673550e3afaa15dd67156134bff426e4742d9890e5740451b84e8936df2");
}

/* Verify the signed request (optionally with another body) with a
 * verifier for region, at time now. */
static evb_sigv4_status_t verify(const char *token, const char *region,
                                 const char *secret, const char *body,
                                 time_t now) {
    evb_connector_credentials_t c = creds(token);
    char hdrs[8][2600], err[200];
    int n = evb__pe_sign(&c, "us-east-1", "127.0.0.1:4010", "/", BODY,
                         strlen(BODY), WHEN, hdrs, err, sizeof err);
    assert_true(n > 0);
    evb_sigv4_header_t h[8];
    for (int i = 0; i < n; i++) {
        char *colon = strchr(hdrs[i], ':');
        h[i] = (evb_sigv4_header_t){hdrs[i], (size_t)(colon - hdrs[i]),
                                    colon + 2, strlen(colon + 2)};
    }
    evb_sigv4_request_t req = {.method = "POST",
                               .path = "/",
                               .path_len = 1,
                               .headers = h,
                               .nheaders = (size_t)n,
                               .body = body,
                               .body_len = strlen(body)};
    evb_sigv4_verifier_config_t vc = {.region = region};
    evb_sigv4_verifier_t *v = NULL;
    assert_int_equal(evb_sigv4_verifier_new(&vc, &v, err, sizeof err), 0);
    assert_int_equal(evb_sigv4_verifier_add_key(v, KEY, secret, token, NULL,
                                                err, sizeof err),
                     0);
    evb_sigv4_result_t res;
    evb_sigv4_status_t st = evb_sigv4_verify(v, &req, "events", now, &res);
    evb_sigv4_verifier_free(v);
    return st;
}

static void test_verifier_accepts(void **state) {
    (void)state;
    assert_int_equal(verify(NULL, "us-east-1", SECRET, BODY, WHEN),
                     EVB_SIGV4_OK);
    assert_int_equal(verify("tok", "us-east-1", SECRET, BODY, WHEN + 60),
                     EVB_SIGV4_OK);
}

static void test_verifier_refuses(void **state) {
    (void)state;
    assert_int_equal(
        verify(NULL, "us-east-1", SECRET, "{\"Entries\":[]}", WHEN),
        EVB_SIGV4_MISMATCH);
    assert_int_equal(verify(NULL, "eu-west-1", SECRET, BODY, WHEN),
                     EVB_SIGV4_BAD_SCOPE);
    assert_int_equal(verify(NULL, "us-east-1", "another-secret", BODY, WHEN),
                     EVB_SIGV4_MISMATCH);
    assert_int_equal(verify(NULL, "us-east-1", SECRET, BODY, WHEN + 3600),
                     EVB_SIGV4_EXPIRED);
}

static void test_unsigned(void **state) {
    (void)state;
    char hdrs[8][2600], err[200];
    int n = evb__pe_sign(NULL, "us-east-1", "h:1", "/", BODY, strlen(BODY), 0,
                         hdrs, err, sizeof err);
    assert_int_equal(n, 3);
    assert_string_equal(hdrs[0], "Host: h:1");
    assert_string_equal(hdrs[1], "Content-Type: application/x-amz-json-1.1");
    assert_string_equal(hdrs[2], "X-Amz-Target: AWSEvents.PutEvents");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_verifier_accepts),
        cmocka_unit_test(test_verifier_refuses),
        cmocka_unit_test(test_unsigned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
