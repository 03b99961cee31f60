/*
 * fuzz_sigv4.c: fuzz target for the SigV4 verifier (and the canonical
 * request builder and signer under it).
 *
 * The input is an HTTP request as the suite's .sreq files write it: a
 * request line "METHOD TARGET HTTP/1.1", header lines "Name:value", a
 * blank line and the body; anything is accepted (a missing part is
 * empty). The request is verified, at the AWS suite's time and at the
 * time its X-Amz-Date names, by a verifier that holds the suite's key
 * AKIDEXAMPLE, and by a second verifier that holds the same key id with
 * another secret. Besides crashes and sanitizer reports the target
 * aborts when:
 *   - both verifiers accept the same request (a signature that does not
 *     depend on the secret);
 *   - a refusal has no message, or a message quotes the secret (unless
 *     the request itself carried that text: messages quote the client);
 *   - a request that evb_sigv4_sign signed (header form) with the key is
 *     refused, for requests simple enough to be signed as they are (a
 *     Host header, token-like header names, no signature material of
 *     their own).
 * Seeds: fuzz/corpus/fuzz_sigv4/ (the suite's signed requests).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigv4/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define MAXH 64

static evb_sigv4_verifier_t *good, *other;

static evb_sigv4_verifier_t *make(const char *secret) {
    static const char *const services[] = {"service", "events", NULL};
    evb_sigv4_verifier_config_t cfg = {.region = "us-east-1",
                                       .services = services};
    evb_sigv4_verifier_t *v = NULL;
    char why[256];
    if (evb_sigv4_verifier_new(&cfg, &v, why, sizeof why) ||
        evb_sigv4_verifier_add_key(v, AKID, secret, NULL, "123456789012", why,
                                   sizeof why))
        abort();
    return v;
}

typedef struct req {
    char method[32];
    evb_sigv4_header_t h[MAXH + 3];
    evb_sigv4_request_t r;
} req_t;

/* Lenient parse of text (NUL-terminated copy of the input, modified). */
static void parse(char *t, size_t len, req_t *q) {
    memset(q, 0, sizeof *q);
    char *end = t + len, *s = t;
    char *nl = memchr(s, '\n', len);
    char *le = nl ? nl : end;
    *le = '\0';
    char *sp = strchr(s, ' ');
    snprintf(q->method, sizeof q->method, "%.*s",
             (int)(sp ? sp - s : le - s), s);
    q->r.method = q->method;
    char *target = sp ? sp + 1 : le;
    char *http = strstr(target, " HTTP/");
    if (http)
        *http = '\0';
    char *qm = strchr(target, '?');
    q->r.path = target;
    q->r.path_len = qm ? (size_t)(qm - target) : strlen(target);
    q->r.query = qm ? qm + 1 : NULL;
    q->r.query_len = qm ? strlen(qm + 1) : 0;
    s = nl ? nl + 1 : end;
    size_t n = 0;
    while (s < end && n < MAXH) {
        nl = memchr(s, '\n', (size_t)(end - s));
        le = nl ? nl : end;
        if (le == s) {
            s = nl ? nl + 1 : end;
            break;
        }
        *le = '\0';
        char *colon = strchr(s, ':');
        q->h[n].name = s;
        q->h[n].name_len = colon ? (size_t)(colon - s) : strlen(s);
        q->h[n].value = colon ? colon + 1 : "";
        q->h[n].value_len = colon ? strlen(colon + 1) : 0;
        n++;
        s = nl ? nl + 1 : end;
    }
    q->r.headers = q->h;
    q->r.nheaders = n;
    q->r.body = s < end ? s : "";
    q->r.body_len = s < end ? (size_t)(end - s) : 0;
}

/* input_has_secret: the request itself carries the secret's text, which
 * a message may then quote (it echoes what the client sent). */
static void check_result(const evb_sigv4_result_t *res,
                         bool input_has_secret) {
    if (res->status != EVB_SIGV4_OK && !res->message[0])
        abort();
    if (!input_has_secret && (strstr(res->message, "EXAMPLEKEY") ||
                              strstr(res->message, "bPxRfiCY")))
        abort();
    if (!evb_sigv4_status_aws_type(res->status, res->query_form))
        abort();
}

static bool token_name(const evb_sigv4_header_t *h) {
    if (h->name_len == 0)
        return false;
    for (size_t i = 0; i < h->name_len; i++) {
        char c = h->name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

static bool has(const evb_sigv4_request_t *r, const char *name) {
    for (size_t i = 0; i < r->nheaders; i++)
        if (r->headers[i].name_len == strlen(name) &&
            strncasecmp(r->headers[i].name, name, strlen(name)) == 0)
            return true;
    return false;
}

/* Sign q as it is and verify the result. */
static void round_trip(req_t *q, time_t when) {
    const evb_sigv4_request_t *r = &q->r;
    if (!has(r, "host") || has(r, "authorization") ||
        has(r, "x-amz-security-token") || has(r, "x-amz-content-sha256") ||
        has(r, "x-amz-date") || r->method[0] == '\0')
        return;
    for (size_t i = 0; i < r->nheaders; i++)
        if (!token_name(&r->headers[i]) ||
            memchr(r->headers[i].value, '\r', r->headers[i].value_len))
            return;
    if (r->query && (strstr(r->query, "X-Amz") || strchr(r->query, '%')))
        return;
    for (const char *m = r->method; *m; m++)
        if (*m < 'A' || *m > 'Z')
            return;
    evb_sigv4_credentials_t creds = {AKID, SECRET, NULL};
    evb_sigv4_sign_opts_t o = {.region = "us-east-1", .service = "service",
                               .when = when};
    evb_sigv4_signed_t s;
    char why[256];
    if (evb_sigv4_sign(r, &creds, &o, &s, why, sizeof why)) {
        evb_sigv4_signed_free(&s);
        return;
    }
    size_t n = r->nheaders;
    q->h[n++] = (evb_sigv4_header_t){"X-Amz-Date", 10, s.amz_date, 16};
    q->h[n++] = (evb_sigv4_header_t){"Authorization", 13, s.authorization,
                                     strlen(s.authorization)};
    evb_sigv4_request_t signed_req = *r;
    signed_req.headers = q->h;
    signed_req.nheaders = n;
    evb_sigv4_result_t res;
    if (evb_sigv4_verify(good, &signed_req, "service", when, &res) !=
        EVB_SIGV4_OK) {
        fprintf(stderr, "signed request refused: %s: %s\n",
                evb_sigv4_status_name(res.status), res.message);
        abort();
    }
    evb_sigv4_signed_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!good) {
        good = make(SECRET);
        other = make("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ");
    }
    if (size > 1 << 20)
        return 0;
    char *t = malloc(size + 1);
    if (!t)
        return 0;
    memcpy(t, data, size);
    t[size] = '\0';
    req_t *q = malloc(sizeof *q);
    if (!q) {
        free(t);
        return 0;
    }
    parse(t, size, q);

    time_t times[2] = {1440938160, 0}; /* the suite's 20150830T123600Z */
    for (size_t i = 0; i < q->r.nheaders; i++)
        if (q->h[i].name_len == 10 &&
            strncasecmp(q->h[i].name, "x-amz-date", 10) == 0)
            evb_sigv4_parse_date(q->h[i].value, q->h[i].value_len, &times[1]);
    for (int k = 0; k < 2; k++) {
        if (k == 1 && !times[1])
            break;
        evb_sigv4_result_t a, b;
        evb_sigv4_status_t sa =
            evb_sigv4_verify(good, &q->r, k ? NULL : "service", times[k], &a);
        evb_sigv4_status_t sb =
            evb_sigv4_verify(other, &q->r, k ? NULL : "service", times[k], &b);
        bool echo = memmem(data, size, "EXAMPLEKEY", 10) ||
                    memmem(data, size, "bPxRfiCY", 8);
        check_result(&a, echo);
        check_result(&b, echo);
        if (sa == EVB_SIGV4_OK && sb == EVB_SIGV4_OK)
            abort();
    }
    evb_buf_t out;
    evb_buf_init(&out, 0);
    if (q->r.method[0]) {
        (void)evb_sigv4_canonical_request(&q->r, "host;x-amz-date;;x",
                                          EVB_SIGV4_EMPTY_SHA256, false, true,
                                          &out);
        evb_buf_reset(&out);
        (void)evb_sigv4_canonical_request(&q->r, "", "x", true, false, &out);
    }
    evb_buf_free(&out);
    round_trip(q, times[0]);
    free(q);
    free(t);
    return 0;
}
