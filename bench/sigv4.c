/*
 * sigv4.c: the cost of SigV4 on one core, without the network.
 *
 * It signs a PutEvents request of the size bench/putevents sends (10
 * entries of about 1 KB) and then times, on this thread alone:
 *   verify  evb_sigv4_verify on it (what `serve --credentials` adds to
 *           every request: header parsing, body SHA-256, canonical request,
 *           signing-key derivation, HMAC, constant-time compare)
 *   sign    evb_sigv4_sign with a cached signing key and a known body hash
 *           (what a client such as bench/putevents --auth does)
 *   sha256  the body's SHA-256 alone
 * and prints one JSON line with the median of 7 passes, in microseconds
 * of this thread's CPU time:
 *   {"bench":"sigv4","body_bytes":...,"verify_us":...,"sign_us":...,
 *    "sha256_us":...}
 *
 *   build/bench/sigv4 [--iterations N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4/sigv4.h"

/* This thread's CPU time: on a machine shared with other work the wall
 * clock would count the time other processes had the core. */
static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    long iters = 20000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
            iters = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: sigv4 [--iterations N]\n");
            return 64;
        }
    }
    if (iters < 1)
        return 64;
    static char body[16384];
    size_t o = (size_t)snprintf(body, sizeof body, "{\"Entries\":[");
    for (int i = 0; i < 10; i++) {
        char pad[900];
        memset(pad, 'x', sizeof pad - 1);
        pad[sizeof pad - 1] = '\0';
        o += (size_t)snprintf(body + o, sizeof body - o,
                              "%s{\"Source\":\"bench\",\"DetailType\":\"load\","
                              "\"EventBusName\":\"bench\",\"Detail\":\"{\\\""
                              "bucket\\\":%d,\\\"pad\\\":\\\"%s\\\"}\"}",
                              i ? "," : "", i * 97, pad);
    }
    o += (size_t)snprintf(body + o, sizeof body - o, "]}");

    time_t now = time(NULL);
    char date[17], d8[9], hash[65];
    evb_sigv4_format_date(now, date);
    memcpy(d8, date, 8);
    d8[8] = '\0';
    evb_sigv4_sha256_hex(body, o, hash);
    uint8_t key[32];
    evb_sigv4_signing_key("bench-secret", d8, "us-east-1", "events", key);
    evb_sigv4_header_t hs[8] = {
        {"Host", 4, "127.0.0.1:4010", 14},
        {"X-Amz-Target", 12, "AWSEvents.PutEvents", 19},
        {"Content-Type", 12, "application/x-amz-json-1.1", 26},
        {"X-Amz-Date", 10, date, 16},
        {"Content-Length", 14, "11000", 5},
        {"User-Agent", 10, "aws-cli/2.9.19 Python/3.11.2", 28},
    };
    evb_sigv4_request_t r = {"POST", "/", 1, NULL, 0, hs, 4, body, o};
    evb_sigv4_credentials_t creds = {"AKIDBENCH", "bench-secret", NULL};
    evb_sigv4_sign_opts_t opts = {.region = "us-east-1",
                                  .service = "events",
                                  .when = now,
                                  .payload_hash = hash,
                                  .signing_key = key};
    evb_sigv4_signed_t s;
    char why[256];
    if (evb_sigv4_sign(&r, &creds, &opts, &s, why, sizeof why)) {
        fprintf(stderr, "sigv4: %s\n", why);
        return 1;
    }
    hs[6] = (evb_sigv4_header_t){"Authorization", 13, s.authorization,
                                 strlen(s.authorization)};
    evb_sigv4_request_t in = r;
    in.nheaders = 7;
    hs[4] = hs[5]; /* a User-Agent instead of the Content-Length */
    hs[5] = (evb_sigv4_header_t){"Content-Length", 14, "11000", 5};
    evb_sigv4_verifier_config_t cfg = {.region = "us-east-1"};
    evb_sigv4_verifier_t *v;
    if (evb_sigv4_verifier_new(&cfg, &v, why, sizeof why) ||
        evb_sigv4_verifier_add_key(v, "AKIDBENCH", "bench-secret", NULL, NULL,
                                   why, sizeof why)) {
        fprintf(stderr, "sigv4: %s\n", why);
        return 1;
    }
    evb_sigv4_result_t res;
    if (evb_sigv4_verify(v, &in, "events", now, &res) != EVB_SIGV4_OK) {
        fprintf(stderr, "sigv4: own request refused: %s\n", res.message);
        return 1;
    }
    enum { PASSES = 7 };
    double tv[PASSES], ts[PASSES], th[PASSES];
    for (int p = 0; p < PASSES; p++) {
        double t0 = now_us();
        for (long i = 0; i < iters; i++)
            if (evb_sigv4_verify(v, &in, "events", now, &res) != EVB_SIGV4_OK)
                return 1;
        double t1 = now_us();
        for (long i = 0; i < iters; i++) {
            evb_sigv4_signed_t x;
            if (evb_sigv4_sign(&r, &creds, &opts, &x, why, sizeof why))
                return 1;
            evb_sigv4_signed_free(&x);
        }
        double t2 = now_us();
        char h[65];
        for (long i = 0; i < iters; i++)
            evb_sigv4_sha256_hex(body, o, h);
        double t3 = now_us();
        tv[p] = (t1 - t0) / (double)iters;
        ts[p] = (t2 - t1) / (double)iters;
        th[p] = (t3 - t2) / (double)iters;
    }
    qsort(tv, PASSES, sizeof *tv, cmp);
    qsort(ts, PASSES, sizeof *ts, cmp);
    qsort(th, PASSES, sizeof *th, cmp);
    printf("{\"bench\":\"sigv4\",\"body_bytes\":%zu,\"iterations\":%ld,"
           "\"verify_us\":%.2f,\"sign_us\":%.2f,\"sha256_us\":%.2f}\n",
           o, iters, tv[PASSES / 2], ts[PASSES / 2], th[PASSES / 2]);
    evb_sigv4_signed_free(&s);
    evb_sigv4_verifier_free(v);
    return 0;
}
