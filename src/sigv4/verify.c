/*
 * verify.c: the SigV4 verifier of sigv4.h and its key store (AWS shared-
 * credentials files and the environment).
 *
 * The checks run in the order a client can best act on: the form of the
 * signature (MissingAuthenticationToken, IncompleteSignature), the key
 * (UnrecognizedClient), the clock (Signature expired / not yet current),
 * the credential scope, the signed-header rules, the session token, then
 * the signature itself, and last the X-Amz-Content-Sha256 header against
 * the body. Only the signature comparison touches the secret, and its
 * failure says nothing about where the two signatures differ (CRYPTO_memcmp
 * over the whole hex string).
 *
 * Keys live in a small array searched linearly: deployments hold a handful
 * and the search is not the cost of a request (the HMACs are). Each key
 * remembers the last signing key derived for it (day and service), so a
 * request costs the body's SHA-256, the canonical request's and one HMAC.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "sigv4_internal.h"

#define MAX_KEY_ID 128
#define MAX_SECRET 512
#define MAX_TOKEN 8192
#define MAX_SIGNED_HEADERS 4096

typedef struct vkey {
    char *id, *secret, *token, *account;
    /* the last signing key derived for it (under the verifier's mu):
     * derivation is four HMACs, and a key signs for a whole day */
    bool cached;
    char cache_scope[80]; /* "<date8>/<service>" */
    uint8_t cache_key[32];
} vkey_t;

struct evb_sigv4_verifier {
    char *region;
    char **services; /* NULL: any */
    size_t nservices;
    unsigned max_skew_s;
    bool allow_unsigned_payload;
    bool s3;
    vkey_t *keys;
    size_t nkeys, cap;
    pthread_mutex_t mu; /* guards the keys' signing-key caches */
};

/* ---- status names ---------------------------------------------------------- */

const char *evb_sigv4_status_name(evb_sigv4_status_t st) {
    switch (st) {
#define EVB_SIGV4__NAME(n)                                                     \
    case EVB_SIGV4_##n: return #n;
        EVB_SIGV4_STATUS_MAP(EVB_SIGV4__NAME)
#undef EVB_SIGV4__NAME
    }
    return "UNKNOWN";
}

const char *evb_sigv4_status_aws_type(evb_sigv4_status_t st, bool query_form) {
    switch (st) {
    case EVB_SIGV4_OK: return "";
    case EVB_SIGV4_MISSING: return "MissingAuthenticationTokenException";
    case EVB_SIGV4_INCOMPLETE:
        return query_form ? "IncompleteSignature"
                          : "IncompleteSignatureException";
    case EVB_SIGV4_UNKNOWN_KEY:
    case EVB_SIGV4_BAD_TOKEN:
        return query_form ? "InvalidClientTokenId"
                          : "UnrecognizedClientException";
    case EVB_SIGV4_NOMEM: return "InternalFailure";
    default:
        return query_form ? "SignatureDoesNotMatch"
                          : "InvalidSignatureException";
    }
}

/* ---- key store ------------------------------------------------------------- */

static char *dup_str(const char *s) {
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

static void key_free(vkey_t *k) {
    if (k->secret)
        OPENSSL_cleanse(k->secret, strlen(k->secret));
    if (k->token)
        OPENSSL_cleanse(k->token, strlen(k->token));
    OPENSSL_cleanse(k->cache_key, sizeof k->cache_key);
    free(k->id);
    free(k->secret);
    free(k->token);
    free(k->account);
}

evb_err_t evb_sigv4_verifier_new(const evb_sigv4_verifier_config_t *cfg,
                                 evb_sigv4_verifier_t **out, char *errstr,
                                 size_t errstr_size) {
    *out = NULL;
    if (!cfg || !cfg->region || !cfg->region[0])
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "the verifier needs the server's region");
    evb_sigv4_verifier_t *v = calloc(1, sizeof *v);
    if (!v)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    v->region = dup_str(cfg->region);
    v->max_skew_s =
        cfg->max_skew_s ? cfg->max_skew_s : EVB_SIGV4_DEFAULT_MAX_SKEW_S;
    v->allow_unsigned_payload = cfg->allow_unsigned_payload;
    v->s3 = cfg->s3;
    if (pthread_mutex_init(&v->mu, NULL) != 0) {
        free(v->region);
        free(v);
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "cannot create a mutex");
    }
    bool ok = v->region != NULL;
    if (ok && cfg->services) {
        size_t n = 0;
        while (cfg->services[n])
            n++;
        v->services = calloc(n + 1, sizeof *v->services);
        ok = v->services != NULL;
        for (size_t i = 0; ok && i < n; i++) {
            v->services[i] = dup_str(cfg->services[i]);
            ok = v->services[i] != NULL;
            v->nservices = i + 1;
        }
    }
    if (!ok) {
        evb_sigv4_verifier_free(v);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    *out = v;
    return EVB_ERR_OK;
}

void evb_sigv4_verifier_free(evb_sigv4_verifier_t *v) {
    if (!v)
        return;
    for (size_t i = 0; i < v->nkeys; i++)
        key_free(&v->keys[i]);
    free(v->keys);
    for (size_t i = 0; i < v->nservices; i++)
        free(v->services[i]);
    free(v->services);
    free(v->region);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

size_t evb_sigv4_verifier_key_count(const evb_sigv4_verifier_t *v) {
    return v->nkeys;
}

static bool printable(const char *s, bool allow_space) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e) {
            if (!(allow_space && *s == ' '))
                return false;
        }
    return true;
}

static const vkey_t *find_key(const evb_sigv4_verifier_t *v, const char *id,
                              size_t len) {
    for (size_t i = 0; i < v->nkeys; i++)
        if (strlen(v->keys[i].id) == len && memcmp(v->keys[i].id, id, len) == 0)
            return &v->keys[i];
    return NULL;
}

evb_err_t evb_sigv4_verifier_add_key(evb_sigv4_verifier_t *v,
                                     const char *access_key_id,
                                     const char *secret_access_key,
                                     const char *session_token,
                                     const char *account_id, char *errstr,
                                     size_t errstr_size) {
    if (!access_key_id || !access_key_id[0] ||
        strlen(access_key_id) > MAX_KEY_ID || !printable(access_key_id, false) ||
        strpbrk(access_key_id, "/,;="))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "an access key id must be 1 to %d printable "
                           "characters without '/', ',', ';' or '='",
                           MAX_KEY_ID);
    if (!secret_access_key || !secret_access_key[0] ||
        strlen(secret_access_key) > MAX_SECRET ||
        !printable(secret_access_key, false))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "the secret access key of '%s' must be 1 to %d "
                           "printable characters",
                           access_key_id, MAX_SECRET);
    if (session_token && (strlen(session_token) > MAX_TOKEN ||
                          !printable(session_token, false)))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "the session token of '%s' is not valid",
                           access_key_id);
    if (account_id) {
        size_t n = 0;
        while (account_id[n] >= '0' && account_id[n] <= '9')
            n++;
        if (n != 12 || account_id[n])
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "the account_id of '%s' is not 12 digits",
                               access_key_id);
    }
    if (find_key(v, access_key_id, strlen(access_key_id)))
        return evb_err_set(EVB_ERR_EXISTS, errstr, errstr_size,
                           "access key id '%s' is given twice", access_key_id);
    if (v->nkeys == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        vkey_t *k = realloc(v->keys, cap * sizeof *k);
        if (!k)
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        v->keys = k;
        v->cap = cap;
    }
    vkey_t k;
    memset(&k, 0, sizeof k);
    k.id = dup_str(access_key_id);
    k.secret = dup_str(secret_access_key);
    k.token = session_token && session_token[0] ? dup_str(session_token) : NULL;
    k.account = account_id ? dup_str(account_id) : NULL;
    if (!k.id || !k.secret || (session_token && session_token[0] && !k.token) ||
        (account_id && !k.account)) {
        key_free(&k);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    v->keys[v->nkeys++] = k;
    return EVB_ERR_OK;
}

/* Trim blanks (and a trailing CR) in place. */
static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

typedef struct ini_section {
    char name[128];
    unsigned line;
    char *id, *secret, *token, *account; /* point into the text copy */
    bool open;
} ini_section_t;

static evb_err_t ini_flush(evb_sigv4_verifier_t *v, ini_section_t *s,
                           const char *source, char *errstr,
                           size_t errstr_size) {
    if (!s->open)
        return EVB_ERR_OK;
    s->open = false;
    if (!s->id && !s->secret)
        return EVB_ERR_OK; /* e.g. a section with only a region */
    if (!s->id || !s->secret)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s:%u: section [%s] has no %s", source, s->line,
                           s->name,
                           s->id ? "aws_secret_access_key"
                                 : "aws_access_key_id");
    char why[256];
    evb_err_t err = evb_sigv4_verifier_add_key(v, s->id, s->secret, s->token,
                                               s->account, why, sizeof why);
    if (err)
        return evb_err_set(err, errstr, errstr_size, "%s:%u: section [%s]: %s",
                           source, s->line, s->name, why);
    return EVB_ERR_OK;
}

evb_err_t evb_sigv4_verifier_load_ini(evb_sigv4_verifier_t *v,
                                      const char *text, size_t len,
                                      const char *source, char *errstr,
                                      size_t errstr_size) {
    char *copy = malloc(len + 1);
    if (!copy)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (memchr(copy, '\0', len)) {
        free(copy);
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s: not a text file", source);
    }
    size_t before = v->nkeys;
    ini_section_t sec;
    memset(&sec, 0, sizeof sec);
    evb_err_t err = EVB_ERR_OK;
    unsigned lineno = 0;
    char *save = NULL;
    for (char *line = copy; !err && line; line = save) {
        save = strchr(line, '\n');
        if (save)
            *save++ = '\0';
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (!e || trim(e + 1)[0])
                err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                  "%s:%u: malformed section header", source,
                                  lineno);
            if (!err)
                err = ini_flush(v, &sec, source, errstr, errstr_size);
            if (!err) {
                *e = '\0';
                memset(&sec, 0, sizeof sec);
                snprintf(sec.name, sizeof sec.name, "%s", trim(s + 1));
                sec.line = lineno;
                sec.open = true;
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "%s:%u: expected 'key = value'", source, lineno);
            break;
        }
        if (!sec.open) {
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "%s:%u: a key before any [section]", source,
                              lineno);
            break;
        }
        *eq = '\0';
        char *k = trim(s), *val = trim(eq + 1);
        if (strcasecmp(k, "aws_access_key_id") == 0)
            sec.id = val;
        else if (strcasecmp(k, "aws_secret_access_key") == 0)
            sec.secret = val;
        else if (strcasecmp(k, "aws_session_token") == 0)
            sec.token = val;
        else if (strcasecmp(k, "account_id") == 0 ||
                 strcasecmp(k, "aws_account_id") == 0)
            sec.account = val;
    }
    if (!err)
        err = ini_flush(v, &sec, source, errstr, errstr_size);
    OPENSSL_cleanse(copy, len);
    free(copy);
    if (!err && v->nkeys == before)
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "%s: no section with aws_access_key_id and "
                          "aws_secret_access_key",
                          source);
    return err;
}

evb_err_t evb_sigv4_verifier_load_file(evb_sigv4_verifier_t *v,
                                       const char *path, char *errstr,
                                       size_t errstr_size) {
    evb_buf_t b;
    evb_buf_init(&b, 16u * 1024 * 1024);
    char why[256];
    evb_err_t err = evb_buf_read_file(&b, path, why, sizeof why);
    if (err) {
        evb_buf_free(&b);
        return evb_err_set(err == EVB_ERR_NOMEM ? err : EVB_ERR_IO, errstr,
                           errstr_size, "cannot read credentials file: %s",
                           why);
    }
    err = evb_sigv4_verifier_load_ini(v, b.data ? b.data : "", b.len, path,
                                      errstr, errstr_size);
    if (b.data)
        OPENSSL_cleanse(b.data, b.len);
    evb_buf_free(&b);
    return err;
}

evb_err_t evb_sigv4_verifier_load_env(evb_sigv4_verifier_t *v,
                                      const char *account_id, char *errstr,
                                      size_t errstr_size) {
    const char *id = getenv("AWS_ACCESS_KEY_ID");
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv("AWS_SESSION_TOKEN");
    if (!id || !id[0] || !secret || !secret[0])
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must "
                           "both be set");
    return evb_sigv4_verifier_add_key(v, id, secret, token, account_id, errstr,
                                      errstr_size);
}

/* ---- request inspection ------------------------------------------------------ */

static const evb_sigv4_header_t *header(const evb_sigv4_request_t *r,
                                        const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++)
        if (evb__sigv4_name_is(&r->headers[i], name, n))
            return &r->headers[i];
    return NULL;
}

/* A header's value trimmed, as a (pointer, length) view. */
static const char *trimmed(const evb_sigv4_header_t *h, size_t *len) {
    const char *s = h->value;
    size_t n = h->value_len;
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    *len = n;
    return s;
}

/* The decoded value of query parameter name (first occurrence) into out
 * (NUL-terminated, truncated to size - 1; *len gets the full length).
 * False when absent. */
static bool query_param(const evb_sigv4_request_t *r, const char *name,
                        char *out, size_t size, size_t *len) {
    if (!r->query)
        return false;
    size_t nl = strlen(name), i = 0;
    const char *q = r->query;
    while (i <= r->query_len) {
        size_t j = i;
        while (j < r->query_len && q[j] != '&')
            j++;
        const char *eq = memchr(q + i, '=', j - i);
        size_t kl = eq ? (size_t)(eq - (q + i)) : j - i;
        /* names are compared decoded; they are short */
        char kbuf[64];
        if (kl < sizeof kbuf) {
            size_t dl = evb__sigv4_uri_decode(q + i, kl, kbuf, true);
            if (dl == nl && memcmp(kbuf, name, nl) == 0) {
                size_t vl = eq ? (size_t)(q + j - eq - 1) : 0;
                char *tmp = malloc(vl + 1);
                if (!tmp)
                    return false;
                size_t dv = eq ? evb__sigv4_uri_decode(eq + 1, vl, tmp, true) : 0;
                size_t c = dv < size - 1 ? dv : size - 1;
                memcpy(out, tmp, c);
                out[c] = '\0';
                *len = dv;
                free(tmp);
                return true;
            }
        }
        i = j + 1;
    }
    return false;
}

static evb_sigv4_status_t fail(evb_sigv4_result_t *res, evb_sigv4_status_t st,
                               const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static evb_sigv4_status_t fail(evb_sigv4_result_t *res, evb_sigv4_status_t st,
                               const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
    res->status = st;
    res->account_id = NULL;
    return st;
}

static const char mismatch_msg[] =
    "The request signature we calculated does not match the signature you "
    "provided. Check your AWS Secret Access Key and signing method. Consult "
    "the service documentation for details.";
static const char bad_token_msg[] =
    "The security token included in the request is invalid.";

/* The parts of a signature, whichever form carried it. */
typedef struct sigparts {
    char credential[512];
    size_t credential_len;
    char signed_headers[MAX_SIGNED_HEADERS];
    size_t signed_headers_len;
    char signature[80];
    size_t signature_len;
    char date[40];
    size_t date_len;
    char token[MAX_TOKEN + 1];
    size_t token_len;
    bool has_token;
    unsigned long expires;
} sigparts_t;

/* Parse "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
 */
static evb_sigv4_status_t parse_authorization(const char *a, size_t n,
                                              sigparts_t *p,
                                              evb_sigv4_result_t *res) {
    const size_t alen = sizeof EVB_SIGV4_ALGORITHM - 1;
    size_t sp = 0;
    while (sp < n && a[sp] != ' ')
        sp++;
    if (sp != alen || memcmp(a, EVB_SIGV4_ALGORITHM, alen) != 0) {
        if (sp >= 5 && memcmp(a, "AWS4-", 5) == 0)
            return fail(res, EVB_SIGV4_INCOMPLETE,
                        "Unsupported AWS 'algorithm': '%.*s'. Only "
                        "'" EVB_SIGV4_ALGORITHM "' is supported.",
                        (int)(sp > 64 ? 64 : sp), a);
        /* not a SigV4 header at all: AWS lists what a SigV4 one needs */
        return fail(res, EVB_SIGV4_INCOMPLETE,
                    "Authorization header requires 'Credential' parameter. "
                    "Authorization header requires 'Signature' parameter. "
                    "Authorization header requires 'SignedHeaders' "
                    "parameter.");
    }
    bool have_c = false, have_h = false, have_s = false;
    size_t i = sp;
    while (i < n) {
        while (i < n && (a[i] == ' ' || a[i] == ','))
            i++;
        size_t j = i;
        while (j < n && a[j] != ',')
            j++;
        size_t e = j;
        while (e > i && a[e - 1] == ' ')
            e--;
        const char *eq = memchr(a + i, '=', e - i);
        if (eq) {
            size_t kl = (size_t)(eq - (a + i)), vl = (size_t)(a + e - eq - 1);
            const char *val = eq + 1;
            char *dst = NULL;
            size_t cap = 0, *dlen = NULL;
            bool *flag = NULL;
            if (kl == 10 && memcmp(a + i, "Credential", 10) == 0) {
                dst = p->credential, cap = sizeof p->credential;
                dlen = &p->credential_len, flag = &have_c;
            } else if (kl == 13 && memcmp(a + i, "SignedHeaders", 13) == 0) {
                dst = p->signed_headers, cap = sizeof p->signed_headers;
                dlen = &p->signed_headers_len, flag = &have_h;
            } else if (kl == 9 && memcmp(a + i, "Signature", 9) == 0) {
                dst = p->signature, cap = sizeof p->signature;
                dlen = &p->signature_len, flag = &have_s;
            }
            if (flag) {
                if (*flag)
                    return fail(res, EVB_SIGV4_INCOMPLETE,
                                "Authorization header has the '%.*s' "
                                "parameter more than once.",
                                (int)kl, a + i);
                if (vl >= cap)
                    return fail(res, EVB_SIGV4_INCOMPLETE,
                                "Authorization header parameter '%.*s' is "
                                "too long.",
                                (int)kl, a + i);
                memcpy(dst, val, vl);
                dst[vl] = '\0';
                *dlen = vl;
                *flag = true;
            }
        }
        i = j;
    }
    if (!have_c || !have_h || !have_s || !p->credential_len ||
        !p->signed_headers_len || !p->signature_len)
        return fail(res, EVB_SIGV4_INCOMPLETE, "%s%s%s",
                    have_c && p->credential_len
                        ? ""
                        : "Authorization header requires 'Credential' "
                          "parameter. ",
                    have_s && p->signature_len
                        ? ""
                        : "Authorization header requires 'Signature' "
                          "parameter. ",
                    have_h && p->signed_headers_len
                        ? ""
                        : "Authorization header requires 'SignedHeaders' "
                          "parameter. ");
    return EVB_SIGV4_OK;
}

static bool in_list(const char *list, const char *name, size_t n) {
    const char *s = list;
    while (*s) {
        const char *e = strchr(s, ';');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (l == n && strncasecmp(s, name, n) == 0)
            return true;
        if (!e)
            break;
        s = e + 1;
    }
    return false;
}

/* The signing key of key for date8 and service, from its cache or
 * derived (and cached). The cache is the one mutable part of a verifier. */
static bool signing_key(const evb_sigv4_verifier_t *v, const vkey_t *key,
                        const char *date8, const char *service,
                        uint8_t out[32]) {
    evb_sigv4_verifier_t *mv = (evb_sigv4_verifier_t *)v;
    vkey_t *mk = (vkey_t *)key;
    char scope[80];
    int n = snprintf(scope, sizeof scope, "%s/%s", date8, service);
    bool cacheable = n > 0 && (size_t)n < sizeof scope;
    bool hit = false;
    if (cacheable) {
        pthread_mutex_lock(&mv->mu);
        if (mk->cached && strcmp(mk->cache_scope, scope) == 0) {
            memcpy(out, mk->cache_key, 32);
            hit = true;
        }
        pthread_mutex_unlock(&mv->mu);
    }
    if (hit)
        return true;
    if (!evb__sigv4_signing_key(key->secret, date8, v->region, service, out))
        return false;
    if (cacheable) {
        pthread_mutex_lock(&mv->mu);
        memcpy(mk->cache_scope, scope, (size_t)n + 1);
        memcpy(mk->cache_key, out, 32);
        mk->cached = true;
        pthread_mutex_unlock(&mv->mu);
    }
    return true;
}

static bool ct_equal(const char *a, size_t an, const char *b, size_t bn) {
    if (an != bn)
        return false;
    return CRYPTO_memcmp(a, b, an) == 0;
}

evb_sigv4_status_t evb_sigv4_verify(const evb_sigv4_verifier_t *v,
                                    const evb_sigv4_request_t *req,
                                    const char *service, time_t now,
                                    evb_sigv4_result_t *res) {
    memset(res, 0, sizeof *res);
    sigparts_t *p = calloc(1, sizeof *p);
    if (!p)
        return fail(res, EVB_SIGV4_NOMEM, "Out of memory");
    evb_sigv4_status_t st = EVB_SIGV4_OK;
    const evb_sigv4_header_t *auth = header(req, "authorization");
    char alg[64];
    size_t alg_len = 0;
    bool q_alg = query_param(req, "X-Amz-Algorithm", alg, sizeof alg, &alg_len);
    bool q_sig = query_param(req, "X-Amz-Signature", p->signature,
                             sizeof p->signature, &p->signature_len);

    /* ---- the form and its parts ---- */
    if (auth && (q_alg || q_sig)) {
        st = fail(res, EVB_SIGV4_INCOMPLETE,
                  "Only one auth mechanism allowed; only the X-Amz-Algorithm "
                  "query parameter, Signature query string parameter or the "
                  "Authorization header should be specified");
        goto out;
    }
    if (!auth && !q_alg && !q_sig) {
        st = fail(res, EVB_SIGV4_MISSING,
                  "Request is missing Authentication Token");
        goto out;
    }
    res->query_form = !auth;
    if (auth) {
        size_t an;
        const char *a = trimmed(auth, &an);
        st = parse_authorization(a, an, p, res);
        if (st)
            goto out;
        const evb_sigv4_header_t *d = header(req, "x-amz-date");
        if (!d) {
            st = fail(res, EVB_SIGV4_INCOMPLETE,
                      "Authorization header requires existence of either a "
                      "'X-Amz-Date' or a 'Date' header.");
            goto out;
        }
        const char *dv = trimmed(d, &p->date_len);
        memcpy(p->date, dv, p->date_len < 39 ? p->date_len : 39);
        p->date[p->date_len < 39 ? p->date_len : 39] = '\0';
        const evb_sigv4_header_t *t = header(req, "x-amz-security-token");
        if (t) {
            size_t tn;
            const char *tv = trimmed(t, &tn);
            p->has_token = true;
            p->token_len = tn;
            memcpy(p->token, tv, tn < MAX_TOKEN ? tn : MAX_TOKEN);
            p->token[tn < MAX_TOKEN ? tn : MAX_TOKEN] = '\0';
        }
    } else {
        char exp[32];
        size_t exp_len = 0;
        bool have_c = query_param(req, "X-Amz-Credential", p->credential,
                                  sizeof p->credential, &p->credential_len);
        bool have_d =
            query_param(req, "X-Amz-Date", p->date, sizeof p->date, &p->date_len);
        bool have_h = query_param(req, "X-Amz-SignedHeaders", p->signed_headers,
                                  sizeof p->signed_headers,
                                  &p->signed_headers_len);
        bool have_e = query_param(req, "X-Amz-Expires", exp, sizeof exp,
                                  &exp_len);
        if (!q_alg || !q_sig || !have_c || !have_d || !have_h || !have_e) {
            st = fail(res, EVB_SIGV4_INCOMPLETE,
                      "AWS query-string parameters must include "
                      "'X-Amz-Algorithm', 'X-Amz-Credential', "
                      "'X-Amz-Signature', 'X-Amz-Date', "
                      "'X-Amz-SignedHeaders', and 'X-Amz-Expires'. "
                      "Re-examine the query-string parameters.");
            goto out;
        }
        if (alg_len != sizeof EVB_SIGV4_ALGORITHM - 1 ||
            strcmp(alg, EVB_SIGV4_ALGORITHM) != 0) {
            st = fail(res, EVB_SIGV4_INCOMPLETE,
                      "X-Amz-Algorithm only supports \"" EVB_SIGV4_ALGORITHM
                      "\"");
            goto out;
        }
        if (p->credential_len >= sizeof p->credential ||
            p->signed_headers_len >= sizeof p->signed_headers ||
            p->signature_len >= sizeof p->signature) {
            st = fail(res, EVB_SIGV4_INCOMPLETE,
                      "An X-Amz-* query-string parameter is too long.");
            goto out;
        }
        char *end = NULL;
        errno = 0;
        unsigned long e = exp_len && exp_len < sizeof exp &&
                                  exp[0] >= '0' && exp[0] <= '9'
                              ? strtoul(exp, &end, 10)
                              : 0;
        if (!end || *end || errno || e < 1 || e > EVB_SIGV4_MAX_EXPIRES_S) {
            st = fail(res, EVB_SIGV4_INCOMPLETE,
                      "X-Amz-Expires must be a number of seconds from 1 to "
                      "%u.",
                      EVB_SIGV4_MAX_EXPIRES_S);
            goto out;
        }
        p->expires = e;
        p->has_token = query_param(req, "X-Amz-Security-Token", p->token,
                                   sizeof p->token, &p->token_len);
    }

    /* ---- credential: <key id>/<date>/<region>/<service>/aws4_request ---- */
    const char *part[5];
    size_t plen[5], np = 0;
    {
        const char *s = p->credential, *e = s + p->credential_len;
        while (np < 5) {
            const char *slash = memchr(s, '/', (size_t)(e - s));
            part[np] = s;
            plen[np] = slash ? (size_t)(slash - s) : (size_t)(e - s);
            np++;
            if (!slash)
                break;
            s = slash + 1;
        }
        if (np != 5 || memchr(part[4], '/', (size_t)(e - part[4])) ||
            plen[0] == 0) {
            st = fail(res, EVB_SIGV4_INCOMPLETE,
                      "Credential should be of the form '<access key "
                      "id>/<YYYYMMDD>/<region>/<service>/aws4_request'.");
            goto out;
        }
    }
    snprintf(res->access_key_id, sizeof res->access_key_id, "%.*s",
             (int)(plen[0] < 128 ? plen[0] : 128), part[0]);
    const vkey_t *key = find_key(v, part[0], plen[0]);
    if (!key) {
        st = fail(res, EVB_SIGV4_UNKNOWN_KEY, "%s",
                  res->query_form ? "The AWS Access Key Id you provided does "
                                    "not exist in our records."
                                  : bad_token_msg);
        goto out;
    }

    /* ---- the clock ---- */
    time_t when;
    if (!evb_sigv4_parse_date(p->date, p->date_len, &when)) {
        st = fail(res, EVB_SIGV4_INCOMPLETE,
                  "Date must be in ISO-8601 'basic format'. Got '%.40s'. "
                  "See http://en.wikipedia.org/wiki/ISO_8601",
                  p->date);
        goto out;
    }
    char nowstr[17], edge[17];
    evb_sigv4_format_date(now, nowstr);
    long long skew = (long long)v->max_skew_s;
    if ((long long)when > (long long)now + skew) {
        evb_sigv4_format_date((time_t)((long long)now + skew), edge);
        st = fail(res, EVB_SIGV4_NOT_YET_VALID,
                  "Signature not yet current: %s is still later than %s (%s "
                  "+ %lld min.)",
                  p->date, edge, nowstr, skew / 60);
        goto out;
    }
    if (!res->query_form && (long long)when < (long long)now - skew) {
        evb_sigv4_format_date((time_t)((long long)now - skew), edge);
        st = fail(res, EVB_SIGV4_EXPIRED,
                  "Signature expired: %s is now earlier than %s (%s - %lld "
                  "min.)",
                  p->date, edge, nowstr, skew / 60);
        goto out;
    }
    if (res->query_form &&
        (long long)now > (long long)when + (long long)p->expires) {
        st = fail(res, EVB_SIGV4_EXPIRED, "Request has expired");
        goto out;
    }

    /* ---- the credential scope ---- */
    if (plen[1] != 8 || memcmp(part[1], p->date, 8) != 0) {
        st = fail(res, EVB_SIGV4_BAD_SCOPE,
                  "Date in Credential scope does not match YYYYMMDD from "
                  "ISO-8601 version of date from HTTP: '%.*s' != '%.8s', from "
                  "'X-Amz-Date'.",
                  (int)(plen[1] < 32 ? plen[1] : 32), part[1], p->date);
        goto out;
    }
    if (plen[2] != strlen(v->region) ||
        memcmp(part[2], v->region, plen[2]) != 0) {
        st = fail(res, EVB_SIGV4_BAD_SCOPE,
                  "Credential should be scoped to a valid region, not "
                  "'%.*s'.",
                  (int)(plen[2] < 64 ? plen[2] : 64), part[2]);
        goto out;
    }
    bool service_ok;
    if (service)
        service_ok = plen[3] == strlen(service) &&
                     memcmp(part[3], service, plen[3]) == 0;
    else if (!v->services)
        service_ok = plen[3] > 0;
    else {
        service_ok = false;
        for (size_t i = 0; i < v->nservices && !service_ok; i++)
            service_ok = plen[3] == strlen(v->services[i]) &&
                         memcmp(part[3], v->services[i], plen[3]) == 0;
    }
    if (!service_ok) {
        if (service)
            st = fail(res, EVB_SIGV4_BAD_SCOPE,
                      "Credential should be scoped to correct service: "
                      "'%s'.",
                      service);
        else
            st = fail(res, EVB_SIGV4_BAD_SCOPE,
                      "Credential should be scoped to correct service, not "
                      "'%.*s'.",
                      (int)(plen[3] < 64 ? plen[3] : 64), part[3]);
        goto out;
    }
    if (plen[4] != 12 || memcmp(part[4], "aws4_request", 12) != 0) {
        st = fail(res, EVB_SIGV4_INCOMPLETE,
                  "Credential should be scoped with a valid terminator: "
                  "'aws4_request', not '%.*s'.",
                  (int)(plen[4] < 64 ? plen[4] : 64), part[4]);
        goto out;
    }

    /* ---- signed headers ---- */
    const char *sh = p->signed_headers;
    if (!in_list(sh, "host", 4)) {
        st = fail(res, EVB_SIGV4_UNSIGNED_HEADER,
                  "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                  "Authorization.");
        goto out;
    }
    if (!res->query_form && !in_list(sh, "x-amz-date", 10)) {
        st = fail(res, EVB_SIGV4_UNSIGNED_HEADER,
                  "'X-Amz-Date' must be a 'SignedHeader' in the AWS "
                  "Authorization.");
        goto out;
    }
    {
        char unsigned_names[200];
        size_t un = 0;
        unsigned_names[0] = '\0';
        for (size_t i = 0; i < req->nheaders; i++) {
            const evb_sigv4_header_t *h = &req->headers[i];
            if (h->name_len < 6 || strncasecmp(h->name, "x-amz-", 6) != 0 ||
                evb__sigv4_name_is(h, "x-amz-security-token", 20) ||
                (res->query_form && evb__sigv4_name_is(h, "x-amz-date", 10)) ||
                in_list(sh, h->name, h->name_len))
                continue;
            int w = snprintf(unsigned_names + un, sizeof unsigned_names - un,
                             "%s%.*s", un ? "," : "",
                             (int)(h->name_len < 64 ? h->name_len : 64),
                             h->name);
            if (w > 0 && (size_t)w < sizeof unsigned_names - un)
                un += (size_t)w;
        }
        if (un || unsigned_names[0]) {
            for (size_t i = 0; i < un; i++)
                if (unsigned_names[i] >= 'A' && unsigned_names[i] <= 'Z')
                    unsigned_names[i] = (char)(unsigned_names[i] + 32);
            st = fail(res, EVB_SIGV4_UNSIGNED_HEADER,
                      "There were headers present in the request which were "
                      "not signed: %s",
                      unsigned_names);
            goto out;
        }
    }

    /* ---- session token ---- */
    if (key->token ? !p->has_token || p->token_len > MAX_TOKEN ||
                         !ct_equal(p->token, p->token_len, key->token,
                                   strlen(key->token))
                   : p->has_token) {
        st = fail(res, EVB_SIGV4_BAD_TOKEN, "%s", bad_token_msg);
        goto out;
    }

    /* ---- payload hash ---- */
    char body_hash[65] = "";
    char payload[80];
    const evb_sigv4_header_t *ph = header(req, "x-amz-content-sha256");
    bool hashed_header = false;
    if (ph) {
        size_t pl;
        const char *pv = trimmed(ph, &pl);
        if (pl == 16 && memcmp(pv, EVB_SIGV4_UNSIGNED_PAYLOAD, 16) == 0) {
            if (!v->allow_unsigned_payload) {
                st = fail(res, EVB_SIGV4_BAD_PAYLOAD,
                          "UNSIGNED-PAYLOAD is not accepted: the payload must "
                          "be signed.");
                goto out;
            }
        } else if (pl >= 10 && memcmp(pv, "STREAMING-", 10) == 0) {
            st = fail(res, EVB_SIGV4_BAD_PAYLOAD,
                      "Streaming (chunked) payload signing is not "
                      "supported.");
            goto out;
        } else {
            hashed_header = true;
        }
        if (pl >= sizeof payload) {
            st = fail(res, EVB_SIGV4_BAD_PAYLOAD,
                      "The provided 'x-amz-content-sha256' header does not "
                      "match what was computed.");
            goto out;
        }
        memcpy(payload, pv, pl);
        payload[pl] = '\0';
    }
    if (!ph || hashed_header) {
        uint8_t d[32];
        if (!evb__sigv4_sha256(req->body, req->body_len, d)) {
            st = fail(res, EVB_SIGV4_NOMEM, "Out of memory");
            goto out;
        }
        evb__sigv4_hex(d, 32, body_hash);
        if (!ph)
            memcpy(payload, body_hash, 65);
    }

    /* ---- the signature ---- */
    {
        evb_buf_t creq;
        evb_buf_init(&creq, 0);
        evb_err_t err = evb_sigv4_canonical_request(
            req, sh, payload, v->s3, res->query_form, &creq);
        char scope[128], date8[9], hash[65], sig[65];
        memcpy(date8, p->date, 8);
        date8[8] = '\0';
        int sl = snprintf(scope, sizeof scope, "%s/%s/%.*s/aws4_request",
                          date8, v->region, (int)plen[3], part[3]);
        char svc[64];
        snprintf(svc, sizeof svc, "%.*s", (int)(plen[3] < 63 ? plen[3] : 63),
                 part[3]);
        bool sized = sl > 0 && (size_t)sl < sizeof scope && plen[3] < 63;
        uint8_t k[32];
        bool ok = !err && sized && signing_key(v, key, date8, svc, k) &&
                  evb__sigv4_signature(k, p->date, scope, creq.data, creq.len,
                                       hash, sig, NULL);
        OPENSSL_cleanse(k, sizeof k);
        evb_buf_free(&creq);
        if (!ok) {
            if (sized)
                st = fail(res, EVB_SIGV4_NOMEM, "Out of memory");
            else
                st = fail(res, EVB_SIGV4_MISMATCH, "%s", mismatch_msg);
            goto out;
        }
        if (!ct_equal(sig, 64, p->signature, p->signature_len)) {
            st = fail(res, EVB_SIGV4_MISMATCH, "%s", mismatch_msg);
            goto out;
        }
    }
    if (hashed_header && !ct_equal(payload, strlen(payload), body_hash, 64)) {
        st = fail(res, EVB_SIGV4_BAD_PAYLOAD,
                  "The provided 'x-amz-content-sha256' header does not match "
                  "what was computed.");
        goto out;
    }
    res->status = EVB_SIGV4_OK;
    res->account_id = key->account;
out:
    OPENSSL_cleanse(p, sizeof *p);
    free(p);
    return st;
}
