/*
 * tools/sigv4: the SigV4 library on the command line, for checking other
 * signers against the verifier (tests/sigv4/botocore_sigv4.py) and for
 * looking at what a request's canonical form is.
 *
 *   sigv4 verify --region R [--service S] [--now EPOCH] [--s3]
 *                (--credentials FILE | --key ID:SECRET[:ACCOUNT]) < REQUEST
 *
 * REQUEST is an HTTP/1.1 request as sent: "METHOD TARGET HTTP/1.1", header
 * lines, a blank line, the body (CRLF or LF line ends). It prints one JSON
 * line {"status":..., "type":..., "message":..., "access_key_id":...,
 * "account_id":...} and exits 0 when the request verifies, 1 when it is
 * refused, 64 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4/sigv4.h"

#define MAX_HEADERS 128

static int usage(void) {
    fprintf(stderr, "usage: sigv4 verify --region R [--service S] [--now "
                    "EPOCH] [--s3]\n"
                    "                    (--credentials FILE | --key "
                    "ID:SECRET[:ACCOUNT]) < REQUEST\n");
    return 64;
}

static void json_str(const char *s) {
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* Split text into the request line, headers and body (in place). */
static bool parse(char *t, size_t len, char *method, size_t msize,
                  evb_sigv4_request_t *r, evb_sigv4_header_t *h) {
    char *end = t + len, *s = t;
    char *nl = memchr(s, '\n', len);
    if (!nl)
        return false;
    char *le = nl > s && nl[-1] == '\r' ? nl - 1 : nl;
    *le = '\0';
    char *sp = strchr(s, ' ');
    char *http = sp ? strstr(sp + 1, " HTTP/") : NULL;
    if (!sp || !http || (size_t)(sp - s) >= msize)
        return false;
    memcpy(method, s, (size_t)(sp - s));
    method[sp - s] = '\0';
    *http = '\0';
    char *target = sp + 1, *q = strchr(target, '?');
    r->method = method;
    r->path = target;
    r->path_len = q ? (size_t)(q - target) : strlen(target);
    r->query = q ? q + 1 : NULL;
    r->query_len = q ? strlen(q + 1) : 0;
    size_t n = 0;
    s = nl + 1;
    while (s < end) {
        nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl)
            nl = end;
        le = nl > s && nl[-1] == '\r' ? nl - 1 : nl;
        if (le == s) {
            s = nl < end ? nl + 1 : end;
            break;
        }
        *le = '\0';
        char *colon = strchr(s, ':');
        if (!colon || n >= MAX_HEADERS)
            return false;
        h[n].name = s;
        h[n].name_len = (size_t)(colon - s);
        h[n].value = colon + 1;
        h[n].value_len = strlen(colon + 1);
        n++;
        s = nl < end ? nl + 1 : end;
    }
    r->headers = h;
    r->nheaders = n;
    r->body = s;
    r->body_len = (size_t)(end - s);
    return true;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "verify") != 0)
        return usage();
    const char *region = NULL, *service = NULL, *creds = NULL, *key = NULL;
    long long now = 0;
    bool s3 = false;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--region") && i + 1 < argc)
            region = argv[++i];
        else if (!strcmp(argv[i], "--service") && i + 1 < argc)
            service = argv[++i];
        else if (!strcmp(argv[i], "--credentials") && i + 1 < argc)
            creds = argv[++i];
        else if (!strcmp(argv[i], "--key") && i + 1 < argc)
            key = argv[++i];
        else if (!strcmp(argv[i], "--now") && i + 1 < argc)
            now = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--s3"))
            s3 = true;
        else
            return usage();
    }
    if (!region || (!creds == !key))
        return usage();
    char why[512];
    evb_sigv4_verifier_config_t cfg = {.region = region, .s3 = s3};
    evb_sigv4_verifier_t *v = NULL;
    evb_err_t err = evb_sigv4_verifier_new(&cfg, &v, why, sizeof why);
    if (!err && creds)
        err = evb_sigv4_verifier_load_file(v, creds, why, sizeof why);
    if (!err && key) {
        char *copy = strdup(key);
        char *c1 = copy ? strchr(copy, ':') : NULL;
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c1) {
            free(copy);
            evb_sigv4_verifier_free(v);
            return usage();
        }
        *c1 = '\0';
        if (c2)
            *c2 = '\0';
        err = evb_sigv4_verifier_add_key(v, copy, c1 + 1, NULL,
                                         c2 ? c2 + 1 : NULL, why, sizeof why);
        free(copy);
    }
    if (err) {
        fprintf(stderr, "sigv4: %s\n", why);
        evb_sigv4_verifier_free(v);
        return 64;
    }
    evb_buf_t in;
    evb_buf_init(&in, 64u * 1024 * 1024);
    if (evb_buf_read_file(&in, "-", why, sizeof why) ||
        evb_buf_append(&in, "", 0)) {
        fprintf(stderr, "sigv4: %s\n", why);
        evb_buf_free(&in);
        evb_sigv4_verifier_free(v);
        return 1;
    }
    char method[32];
    static evb_sigv4_header_t h[MAX_HEADERS];
    evb_sigv4_request_t r;
    memset(&r, 0, sizeof r);
    int rc = 1;
    if (!parse(in.data, in.len, method, sizeof method, &r, h)) {
        fprintf(stderr, "sigv4: not an HTTP request\n");
    } else {
        evb_sigv4_result_t res;
        evb_sigv4_status_t st = evb_sigv4_verify(
            v, &r, service, now ? (time_t)now : time(NULL), &res);
        printf("{\"status\":");
        json_str(evb_sigv4_status_name(st));
        printf(",\"type\":");
        json_str(evb_sigv4_status_aws_type(st, res.query_form));
        printf(",\"message\":");
        json_str(res.message);
        printf(",\"access_key_id\":");
        json_str(res.access_key_id);
        printf(",\"account_id\":");
        if (res.account_id)
            json_str(res.account_id);
        else
            printf("null");
        printf("}\n");
        rc = st == EVB_SIGV4_OK ? 0 : 1;
    }
    evb_buf_free(&in);
    evb_sigv4_verifier_free(v);
    return rc;
}
