/*
 * sigv4.c: the crypto primitives, canonicalisation and signing of
 * sigv4.h (verification is in verify.c).
 *
 * Design: every step is a pure function of the request as it is on the
 * wire, so the signer and the verifier share the one canonical-request
 * builder and cannot drift apart. SHA-256 goes through one EVP_MD fetched
 * once (OpenSSL 3 would otherwise look the algorithm up on every call);
 * HMAC is the RFC 2104 construction over it, which keeps the per-request
 * cost of verification (six HMACs and two digests) at a few microseconds.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4_internal.h"

/* ---- primitives ---------------------------------------------------------- */

static EVP_MD *fetched_sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void) {
    fetched_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256_md(void) {
    pthread_once(&sha256_once, sha256_fetch);
    return fetched_sha256 ? fetched_sha256 : EVP_sha256();
}

static const char hexdigits[] = "0123456789abcdef";

void evb__sigv4_hex(const uint8_t *in, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdigits[in[i] >> 4];
        out[2 * i + 1] = hexdigits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

bool evb__sigv4_sha256(const void *data, size_t len, uint8_t out[32]) {
    unsigned n = 0;
    return EVP_Digest(len ? data : "", len, out, &n, sha256_md(), NULL) == 1 &&
           n == 32;
}

void evb_sigv4_sha256_hex(const void *data, size_t len, char out[65]) {
    uint8_t d[32];
    if (!evb__sigv4_sha256(data, len, d)) {
        /* never a valid hash: a comparison against it fails */
        memset(out, '-', 64);
        out[64] = '\0';
        return;
    }
    evb__sigv4_hex(d, 32, out);
}

bool evb__sigv4_hmac(const uint8_t *key, size_t key_len, const void *msg,
                     size_t msg_len, uint8_t out[32]) {
    uint8_t k[64], pad[64], inner[32];
    memset(k, 0, sizeof k);
    if (key_len > sizeof k) {
        if (!evb__sigv4_sha256(key, key_len, k))
            return false;
    } else if (key_len) {
        memcpy(k, key, key_len);
    }
    bool ok = false;
    unsigned n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c) {
        for (size_t i = 0; i < sizeof pad; i++)
            pad[i] = k[i] ^ 0x36;
        ok = EVP_DigestInit_ex2(c, sha256_md(), NULL) == 1 &&
             EVP_DigestUpdate(c, pad, sizeof pad) == 1 &&
             (msg_len == 0 || EVP_DigestUpdate(c, msg, msg_len) == 1) &&
             EVP_DigestFinal_ex(c, inner, &n) == 1 && n == 32;
        for (size_t i = 0; ok && i < sizeof pad; i++)
            pad[i] = k[i] ^ 0x5c;
        ok = ok && EVP_DigestInit_ex2(c, sha256_md(), NULL) == 1 &&
             EVP_DigestUpdate(c, pad, sizeof pad) == 1 &&
             EVP_DigestUpdate(c, inner, sizeof inner) == 1 &&
             EVP_DigestFinal_ex(c, out, &n) == 1 && n == 32;
        EVP_MD_CTX_free(c);
    }
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    return ok;
}

void evb_sigv4_hmac(const uint8_t *key, size_t key_len, const void *msg,
                    size_t msg_len, uint8_t out[32]) {
    if (!evb__sigv4_hmac(key, key_len, msg, msg_len, out))
        memset(out, 0, 32);
}

bool evb__sigv4_signing_key(const char *secret, const char *date8,
                            const char *region, const char *service,
                            uint8_t out[32]) {
    size_t slen = strlen(secret);
    uint8_t *k0 = malloc(slen + 4);
    if (!k0)
        return false;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, slen);
    uint8_t a[32], b[32];
    bool ok = evb__sigv4_hmac(k0, slen + 4, date8, strlen(date8), a) &&
              evb__sigv4_hmac(a, 32, region, strlen(region), b) &&
              evb__sigv4_hmac(b, 32, service, strlen(service), a) &&
              evb__sigv4_hmac(a, 32, "aws4_request", 12, out);
    OPENSSL_cleanse(k0, slen + 4);
    free(k0);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    return ok;
}

void evb_sigv4_signing_key(const char *secret, const char *date8,
                           const char *region, const char *service,
                           uint8_t out[32]) {
    if (!evb__sigv4_signing_key(secret, date8, region, service, out))
        memset(out, 0, 32);
}

/* ---- dates --------------------------------------------------------------- */

void evb_sigv4_format_date(time_t t, char out[17]) {
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        snprintf(out, 17, "19700101T000000Z");
}

static bool digits(const char *s, size_t n, int *out) {
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool evb_sigv4_parse_date(const char *s, size_t len, time_t *out) {
    int y, mo, d, h, mi, se;
    if (len != 16 || s[8] != 'T' || s[15] != 'Z' || !digits(s, 4, &y) ||
        !digits(s + 4, 2, &mo) || !digits(s + 6, 2, &d) ||
        !digits(s + 9, 2, &h) || !digits(s + 11, 2, &mi) ||
        !digits(s + 13, 2, &se))
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        h > 23 || mi > 59 || se > 60)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *out = t;
    return true;
}

/* ---- canonicalisation ---------------------------------------------------- */

static bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

evb_err_t evb__sigv4_uri_encode(evb_buf_t *b, const char *s, size_t n,
                                bool keep_slash) {
    static const char HEX[] = "0123456789ABCDEF";
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/'))
            continue;
        evb_err_t err = evb_buf_append(b, s + start, i - start);
        char esc[3] = {'%', HEX[c >> 4], HEX[c & 15]};
        if (!err)
            err = evb_buf_append(b, esc, 3);
        if (err)
            return err;
        start = i + 1;
    }
    return evb_buf_append(b, s + start, n - start);
}

size_t evb__sigv4_uri_decode(const char *s, size_t n, char *out,
                             bool plus_space) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (plus_space && s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n &&
                   (hi = evb_hex_value(s[i + 1])) >= 0 &&
                   (lo = evb_hex_value(s[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    return o;
}

/* The canonical URI: normalised (unless s3) and encoded again. */
static evb_err_t canonical_uri(evb_buf_t *b, const char *path, size_t len,
                               bool s3) {
    if (len == 0)
        return evb_buf_putc(b, '/');
    if (s3)
        return evb_buf_append(b, path, len);
    /* remove dot segments and empty segments (RFC 3986 5.2.4 + AWS) */
    size_t cap = len / 2 + 2, n = 0;
    struct seg {
        const char *p;
        size_t n;
    } *segs = malloc(cap * sizeof *segs);
    if (!segs)
        return EVB_ERR_NOMEM;
    size_t i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t sl = j - i;
        if (sl == 0 || (sl == 1 && path[i] == '.')) {
            /* skip */
        } else if (sl == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (n)
                n--;
        } else if (n < cap) {
            segs[n].p = path + i;
            segs[n].n = sl;
            n++;
        }
        i = j + 1;
    }
    evb_err_t err = EVB_ERR_OK;
    if (path[0] == '/')
        err = evb_buf_putc(b, '/');
    for (size_t k = 0; !err && k < n; k++) {
        if (k)
            err = evb_buf_putc(b, '/');
        if (!err)
            err = evb__sigv4_uri_encode(b, segs[k].p, segs[k].n, false);
    }
    if (!err && n && path[len - 1] == '/')
        err = evb_buf_putc(b, '/');
    if (!err && path[0] != '/' && n == 0)
        err = evb_buf_putc(b, '/');
    free(segs);
    return err;
}

typedef struct qparam {
    size_t name_off, name_len, value_off, value_len;
} qparam_t;

static int qparam_cmp_base(const char *base, const qparam_t *a,
                           const qparam_t *b) {
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(base + a->name_off, base + b->name_off, n);
    if (c)
        return c;
    if (a->name_len != b->name_len)
        return a->name_len < b->name_len ? -1 : 1;
    n = a->value_len < b->value_len ? a->value_len : b->value_len;
    c = memcmp(base + a->value_off, base + b->value_off, n);
    if (c)
        return c;
    return a->value_len < b->value_len ? -1 : a->value_len > b->value_len;
}

/* Insertion sort for the usual handful of parameters, a merge sort
 * otherwise; stable and free of global state (qsort_r is not C11). */
static void sort_params(const char *base, qparam_t *p, size_t n,
                        qparam_t *tmp) {
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            qparam_t x = p[i];
            size_t j = i;
            while (j > 0 && qparam_cmp_base(base, &p[j - 1], &x) > 0) {
                p[j] = p[j - 1];
                j--;
            }
            p[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    sort_params(base, p, h, tmp);
    sort_params(base, p + h, n - h, tmp);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = qparam_cmp_base(base, &p[j], &p[i]) < 0 ? p[j++] : p[i++];
    while (i < h)
        tmp[k++] = p[i++];
    while (j < n)
        tmp[k++] = p[j++];
    memcpy(p, tmp, n * sizeof *p);
}

/* The canonical query string of a raw query. */
static evb_err_t canonical_query(evb_buf_t *b, const char *q, size_t len,
                                 bool exclude_signature) {
    if (!q || len == 0)
        return EVB_ERR_OK;
    size_t count = 1;
    for (size_t i = 0; i < len; i++)
        count += q[i] == '&';
    qparam_t *p = malloc(2 * count * sizeof *p);
    char *dec = malloc(len + 1);
    evb_buf_t enc;
    evb_buf_init(&enc, 0);
    evb_err_t err = p && dec ? EVB_ERR_OK : EVB_ERR_NOMEM;
    size_t n = 0, i = 0;
    while (!err && i <= len) {
        size_t j = i;
        while (j < len && q[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(q + i, '=', j - i);
            size_t nl = eq ? (size_t)(eq - (q + i)) : j - i;
            size_t dl = evb__sigv4_uri_decode(q + i, nl, dec, true);
            bool skip = exclude_signature && dl == 15 &&
                        memcmp(dec, "X-Amz-Signature", 15) == 0;
            if (!skip) {
                p[n].name_off = enc.len;
                err = evb__sigv4_uri_encode(&enc, dec, dl, false);
                p[n].name_len = enc.len - p[n].name_off;
                p[n].value_off = enc.len;
                if (!err && eq) {
                    dl = evb__sigv4_uri_decode(eq + 1, (size_t)(q + j - eq - 1),
                                               dec, true);
                    err = evb__sigv4_uri_encode(&enc, dec, dl, false);
                }
                p[n].value_len = enc.len - p[n].value_off;
                n++;
            }
        }
        i = j + 1;
    }
    if (!err && n) {
        sort_params(enc.data, p, n, p + count);
        for (size_t k = 0; !err && k < n; k++) {
            if (k)
                err = evb_buf_putc(b, '&');
            if (!err)
                err = evb_buf_append(b, enc.data + p[k].name_off,
                                     p[k].name_len);
            if (!err)
                err = evb_buf_putc(b, '=');
            if (!err)
                err = evb_buf_append(b, enc.data + p[k].value_off,
                                     p[k].value_len);
        }
    }
    evb_buf_free(&enc);
    free(dec);
    free(p);
    return err;
}

/* Append value trimmed, with inner runs of blanks as one space. */
static evb_err_t append_trimmed(evb_buf_t *b, const char *v, size_t n) {
    size_t i = 0;
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    while (n > i && (v[n - 1] == ' ' || v[n - 1] == '\t' ||
                     v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    size_t start = i;
    evb_err_t err = EVB_ERR_OK;
    while (!err && i < n) {
        if (v[i] == ' ' || v[i] == '\t') {
            err = evb_buf_append(b, v + start, i - start);
            if (!err)
                err = evb_buf_putc(b, ' ');
            while (i < n && (v[i] == ' ' || v[i] == '\t'))
                i++;
            start = i;
        } else {
            i++;
        }
    }
    if (!err)
        err = evb_buf_append(b, v + start, n - start);
    return err;
}

bool evb__sigv4_name_is(const evb_sigv4_header_t *h, const char *name,
                        size_t len) {
    return h->name_len == len && strncasecmp(h->name, name, len) == 0;
}

evb_err_t evb_sigv4_canonical_request(const evb_sigv4_request_t *req,
                                      const char *signed_headers,
                                      const char *payload_hash, bool s3,
                                      bool exclude_signature, evb_buf_t *out) {
    evb_err_t err = evb_buf_append(out, req->method, strlen(req->method));
    if (!err)
        err = evb_buf_putc(out, '\n');
    if (!err)
        err = canonical_uri(out, req->path ? req->path : "",
                            req->path ? req->path_len : 0, s3);
    if (!err)
        err = evb_buf_putc(out, '\n');
    if (!err)
        err = canonical_query(out, req->query, req->query_len,
                              exclude_signature);
    if (!err)
        err = evb_buf_putc(out, '\n');
    const char *s = signed_headers;
    while (!err && *s) {
        const char *e = strchr(s, ';');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n) {
            err = evb_buf_append(out, s, n);
            if (!err)
                err = evb_buf_putc(out, ':');
            bool first = true;
            for (size_t i = 0; !err && i < req->nheaders; i++) {
                const evb_sigv4_header_t *h = &req->headers[i];
                if (!evb__sigv4_name_is(h, s, n))
                    continue;
                if (!first)
                    err = evb_buf_putc(out, ',');
                if (!err)
                    err = append_trimmed(out, h->value, h->value_len);
                first = false;
            }
            if (!err)
                err = evb_buf_putc(out, '\n');
        }
        s += n + (e ? 1 : 0);
    }
    if (!err)
        err = evb_buf_putc(out, '\n');
    if (!err)
        err = evb_buf_append(out, signed_headers, strlen(signed_headers));
    if (!err)
        err = evb_buf_putc(out, '\n');
    if (!err)
        err = evb_buf_append(out, payload_hash, strlen(payload_hash));
    return err;
}

/* ---- string to sign and signature ---------------------------------------- */

bool evb__sigv4_signature(const uint8_t key[32], const char *amz_date,
                          const char *scope, const char *creq,
                          size_t creq_len, char sts_out_hash[65],
                          char signature[65], evb_buf_t *sts) {
    uint8_t h[32];
    if (!evb__sigv4_sha256(creq, creq_len, h))
        return false;
    evb__sigv4_hex(h, 32, sts_out_hash);
    char local[256];
    int n = snprintf(local, sizeof local, EVB_SIGV4_ALGORITHM "\n%s\n%s\n%s",
                     amz_date, scope, sts_out_hash);
    if (n < 0 || (size_t)n >= sizeof local)
        return false;
    if (sts && evb_buf_append(sts, local, (size_t)n))
        return false;
    uint8_t mac[32];
    if (!evb__sigv4_hmac(key, 32, local, (size_t)n, mac))
        return false;
    evb__sigv4_hex(mac, 32, signature);
    return true;
}

/* ---- signing -------------------------------------------------------------- */

void evb_sigv4_signed_free(evb_sigv4_signed_t *s) {
    if (!s)
        return;
    free(s->signed_headers);
    free(s->canonical_request);
    free(s->string_to_sign);
    free(s->authorization);
    free(s->query);
    s->signed_headers = s->canonical_request = s->string_to_sign = NULL;
    s->authorization = s->query = NULL;
}

/* Headers AWS's SDKs never sign. */
static bool unsignable(const evb_sigv4_header_t *h) {
    static const char *const names[] = {
        "authorization", "user-agent",        "expect",
        "x-amzn-trace-id", "connection",      "transfer-encoding",
    };
    for (size_t i = 0; i < EVB_ARRAY_LEN(names); i++)
        if (evb__sigv4_name_is(h, names[i], strlen(names[i])))
            return true;
    return false;
}

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted, de-duplicated ';'-list of the lower-cased names of hs
 * (skipping unsignable ones, and x-amz-date when skip_date). */
static char *signed_list(const evb_sigv4_header_t *hs, size_t n,
                         bool skip_date) {
    char **names = calloc(n ? n : 1, sizeof *names);
    if (!names)
        return NULL;
    size_t k = 0, total = 1;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        if (unsignable(&hs[i]) ||
            (skip_date && evb__sigv4_name_is(&hs[i], "x-amz-date", 10)) ||
            hs[i].name_len == 0)
            continue;
        char *s = malloc(hs[i].name_len + 1);
        if (!s) {
            ok = false;
            break;
        }
        for (size_t j = 0; j < hs[i].name_len; j++) {
            char c = hs[i].name[j];
            s[j] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
        }
        s[hs[i].name_len] = '\0';
        names[k++] = s;
        total += hs[i].name_len + 1;
    }
    char *out = ok ? malloc(total) : NULL;
    if (out) {
        qsort(names, k, sizeof *names, name_cmp);
        size_t o = 0;
        for (size_t i = 0; i < k; i++) {
            if (i && strcmp(names[i], names[i - 1]) == 0)
                continue;
            if (o)
                out[o++] = ';';
            size_t l = strlen(names[i]);
            memcpy(out + o, names[i], l);
            o += l;
        }
        out[o] = '\0';
    }
    for (size_t i = 0; i < k; i++)
        free(names[i]);
    free(names);
    return out;
}

static const evb_sigv4_header_t *find_header(const evb_sigv4_request_t *r,
                                             const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++)
        if (evb__sigv4_name_is(&r->headers[i], name, n))
            return &r->headers[i];
    return NULL;
}

static evb_err_t check_sign_args(const evb_sigv4_request_t *req,
                                 const evb_sigv4_credentials_t *creds,
                                 const evb_sigv4_sign_opts_t *opts,
                                 char *errstr, size_t errstr_size) {
    if (!creds || !creds->access_key_id || !creds->access_key_id[0] ||
        !creds->secret_access_key)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "no credentials to sign with");
    if (!opts || !opts->region || !opts->region[0] || !opts->service ||
        !opts->service[0])
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "signing needs a region and a service");
    if (!req->method || !find_header(req, "host"))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "the request has no method or no Host header");
    return EVB_ERR_OK;
}

/* The request date: X-Amz-Date if req has it, else opts->when (or now). */
static evb_err_t sign_date(const evb_sigv4_request_t *req,
                           const evb_sigv4_sign_opts_t *opts, char out[17],
                           bool *had, char *errstr, size_t errstr_size) {
    const evb_sigv4_header_t *d = find_header(req, "x-amz-date");
    *had = d != NULL;
    if (d) {
        evb_buf_t t;
        evb_buf_init(&t, 64);
        time_t when;
        bool ok = append_trimmed(&t, d->value, d->value_len) == EVB_ERR_OK &&
                  t.data && evb_sigv4_parse_date(t.data, t.len, &when);
        if (ok)
            memcpy(out, t.data, 17);
        evb_buf_free(&t);
        if (!ok)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "X-Amz-Date is not YYYYMMDDTHHMMSSZ");
        return EVB_ERR_OK;
    }
    evb_sigv4_format_date(opts->when ? opts->when : time(NULL), out);
    return EVB_ERR_OK;
}

evb_err_t evb_sigv4_sign(const evb_sigv4_request_t *req,
                         const evb_sigv4_credentials_t *creds,
                         const evb_sigv4_sign_opts_t *opts,
                         evb_sigv4_signed_t *out, char *errstr,
                         size_t errstr_size) {
    memset(out, 0, sizeof *out);
    evb_err_t err = check_sign_args(req, creds, opts, errstr, errstr_size);
    bool had_date = false;
    if (!err)
        err = sign_date(req, opts, out->amz_date, &had_date, errstr,
                        errstr_size);
    if (err)
        return err;
    if (opts->payload_hash)
        snprintf(out->payload_hash, sizeof out->payload_hash, "%s",
                 opts->payload_hash);
    else
        evb_sigv4_sha256_hex(req->body, req->body_len, out->payload_hash);

    /* the request's headers plus the ones signing adds */
    evb_sigv4_header_t *hs = calloc(req->nheaders + 3, sizeof *hs);
    if (!hs)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    if (req->nheaders)
        memcpy(hs, req->headers, req->nheaders * sizeof *hs);
    size_t n = req->nheaders;
    if (!had_date)
        hs[n++] = (evb_sigv4_header_t){"X-Amz-Date", 10, out->amz_date, 16};
    if (creds->session_token && creds->session_token[0] &&
        !find_header(req, "x-amz-security-token"))
        hs[n++] = (evb_sigv4_header_t){"X-Amz-Security-Token", 20,
                                       creds->session_token,
                                       strlen(creds->session_token)};
    if (opts->content_sha256_header && !find_header(req, "x-amz-content-sha256"))
        hs[n++] = (evb_sigv4_header_t){"X-Amz-Content-Sha256", 20,
                                       out->payload_hash,
                                       strlen(out->payload_hash)};
    evb_sigv4_request_t r = *req;
    r.headers = hs;
    r.nheaders = n;

    out->signed_headers = signed_list(hs, n, false);
    evb_buf_t creq, sts;
    evb_buf_init(&creq, 0);
    evb_buf_init(&sts, 0);
    err = out->signed_headers ? EVB_ERR_OK : EVB_ERR_NOMEM;
    if (!err)
        err = evb_sigv4_canonical_request(&r, out->signed_headers,
                                          out->payload_hash, opts->s3, false,
                                          &creq);
    char scope[256], date8[9], hash[65];
    memcpy(date8, out->amz_date, 8);
    date8[8] = '\0';
    int sl = snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", date8,
                      opts->region, opts->service);
    if (!err && (sl < 0 || (size_t)sl >= sizeof scope))
        err = EVB_ERR_INVALID_ARG;
    uint8_t key[32];
    if (!err) {
        if (opts->signing_key)
            memcpy(key, opts->signing_key, 32);
        else if (!evb__sigv4_signing_key(creds->secret_access_key, date8,
                                         opts->region, opts->service, key))
            err = EVB_ERR_NOMEM;
    }
    if (!err && !evb__sigv4_signature(key, out->amz_date, scope, creq.data,
                                      creq.len, hash, out->signature, &sts))
        err = EVB_ERR_NOMEM;
    OPENSSL_cleanse(key, sizeof key);
    evb_buf_t az;
    evb_buf_init(&az, 0);
    if (!err)
        err = evb_buf_appendf(&az,
                              EVB_SIGV4_ALGORITHM " Credential=%s/%s, "
                              "SignedHeaders=%s, Signature=%s",
                              creds->access_key_id, scope,
                              out->signed_headers, out->signature);
    if (!err) {
        out->canonical_request = creq.data;
        out->string_to_sign = sts.data;
        out->authorization = az.data;
    } else {
        evb_buf_free(&creq);
        evb_buf_free(&sts);
        evb_buf_free(&az);
    }
    free(hs);
    if (err)
        return evb_err_set(err, errstr, errstr_size, "%s",
                           err == EVB_ERR_INVALID_ARG
                               ? "region or service too long"
                               : "out of memory");
    return EVB_ERR_OK;
}

evb_err_t evb_sigv4_presign(const evb_sigv4_request_t *req,
                            const evb_sigv4_credentials_t *creds,
                            const evb_sigv4_sign_opts_t *opts,
                            evb_sigv4_signed_t *out, char *errstr,
                            size_t errstr_size) {
    memset(out, 0, sizeof *out);
    evb_err_t err = check_sign_args(req, creds, opts, errstr, errstr_size);
    bool had_date = false;
    if (!err)
        err = sign_date(req, opts, out->amz_date, &had_date, errstr,
                        errstr_size);
    unsigned expires = opts && opts->expires_s ? opts->expires_s : 3600;
    if (!err && expires > EVB_SIGV4_MAX_EXPIRES_S)
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "X-Amz-Expires must be at most %u seconds",
                          EVB_SIGV4_MAX_EXPIRES_S);
    if (err)
        return err;
    if (opts->payload_hash)
        snprintf(out->payload_hash, sizeof out->payload_hash, "%s",
                 opts->payload_hash);
    else
        evb_sigv4_sha256_hex(req->body, req->body_len, out->payload_hash);

    out->signed_headers = signed_list(req->headers, req->nheaders, true);
    if (!out->signed_headers)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    char scope[256], date8[9];
    memcpy(date8, out->amz_date, 8);
    date8[8] = '\0';
    int sl = snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", date8,
                      opts->region, opts->service);
    if (sl < 0 || (size_t)sl >= sizeof scope)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "region or service too long");

    /* the new query: the request's own, then the X-Amz-* parameters */
    evb_buf_t q, cred;
    evb_buf_init(&q, 0);
    evb_buf_init(&cred, 0);
    err = evb_buf_appendf(&cred, "%s/%s", creds->access_key_id, scope);
    if (!err && req->query && req->query_len) {
        err = evb_buf_append(&q, req->query, req->query_len);
        if (!err)
            err = evb_buf_putc(&q, '&');
    }
    if (!err)
        err = evb_buf_append(&q, "X-Amz-Algorithm=" EVB_SIGV4_ALGORITHM
                                 "&X-Amz-Credential=",
                             sizeof "X-Amz-Algorithm=" EVB_SIGV4_ALGORITHM
                                    "&X-Amz-Credential=" -
                                 1);
    if (!err)
        err = evb__sigv4_uri_encode(&q, cred.data, cred.len, false);
    if (!err)
        err = evb_buf_appendf(&q, "&X-Amz-Date=%s&X-Amz-Expires=%u",
                              out->amz_date, expires);
    if (!err)
        err = evb_buf_append(&q, "&X-Amz-SignedHeaders=", 21);
    if (!err)
        err = evb__sigv4_uri_encode(&q, out->signed_headers,
                                    strlen(out->signed_headers), false);
    if (!err && creds->session_token && creds->session_token[0]) {
        err = evb_buf_append(&q, "&X-Amz-Security-Token=", 22);
        if (!err)
            err = evb__sigv4_uri_encode(&q, creds->session_token,
                                        strlen(creds->session_token), false);
    }
    evb_buf_free(&cred);
    evb_sigv4_request_t r = *req;
    r.query = q.data;
    r.query_len = q.len;
    evb_buf_t creq, sts;
    evb_buf_init(&creq, 0);
    evb_buf_init(&sts, 0);
    if (!err)
        err = evb_sigv4_canonical_request(&r, out->signed_headers,
                                          out->payload_hash, opts->s3, true,
                                          &creq);
    uint8_t key[32];
    char hash[65];
    if (!err) {
        if (opts->signing_key)
            memcpy(key, opts->signing_key, 32);
        else if (!evb__sigv4_signing_key(creds->secret_access_key, date8,
                                         opts->region, opts->service, key))
            err = EVB_ERR_NOMEM;
    }
    if (!err && !evb__sigv4_signature(key, out->amz_date, scope, creq.data,
                                      creq.len, hash, out->signature, &sts))
        err = EVB_ERR_NOMEM;
    OPENSSL_cleanse(key, sizeof key);
    if (!err)
        err = evb_buf_appendf(&q, "&X-Amz-Signature=%s", out->signature);
    if (err) {
        evb_buf_free(&q);
        evb_buf_free(&creq);
        evb_buf_free(&sts);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    out->query = q.data;
    out->canonical_request = creq.data;
    out->string_to_sign = sts.data;
    return EVB_ERR_OK;
}
