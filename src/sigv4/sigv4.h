/*
 * sigv4: AWS Signature Version 4 (AWS4-HMAC-SHA256), both ends.
 *
 * Signing (outgoing requests: the Kafka connector, benchmarks, tests):
 * evb_sigv4_sign builds the canonical request, the string to sign and the
 * Authorization header value, adding X-Amz-Date, X-Amz-Security-Token
 * (when the credentials carry one) and X-Amz-Content-Sha256 (when asked)
 * to what is signed; evb_sigv4_presign builds the query-string form.
 *
 * Verification (incoming requests: `evbus serve --credentials`):
 * evb_sigv4_verify checks a request signed in the header form
 * (Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
 * Signature=...) or the presigned-query form (X-Amz-Algorithm,
 * X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
 * X-Amz-Signature): the access key is known, the credential scope's date
 * matches the request date and its region and service are the server's,
 * the request date is within the allowed clock skew (5 minutes) or the
 * presigned URL has not expired, host and x-amz-date are signed, every
 * x-amz-* header present is signed (X-Amz-Security-Token excepted, as
 * AWS's suite shows, and the X-Amz-Date header in the query form), the
 * session token matches the key's, the signature matches (compared in
 * constant time) and an X-Amz-Content-Sha256 header agrees with the body.
 * The result says what failed in AWS's terms (evb_sigv4_status_t and an
 * AWS-worded message) without ever telling which part of the secret or
 * of the signature was wrong.
 *
 * Canonicalisation follows AWS exactly:
 *   - URI: the path as sent (still percent-encoded); unless s3 is set,
 *     dot segments are removed and runs of '/' collapsed (RFC 3986 5.2.4
 *     plus AWS's slash rule), then every byte but A-Z a-z 0-9 - . _ ~ /
 *     is percent-encoded, so "%20" on the wire becomes "%2520" (AWS's
 *     double encoding); with s3 the path is used as sent. Empty: "/".
 *   - Query: each name and value percent-decoded, then encoded again
 *     with the unreserved set (upper-case hex; a raw '+' is a space, as
 *     form encoding and AWS's front ends have it, so it becomes %20),
 *     sorted by encoded name then encoded value; a bare `name` is
 *     `name=`; X-Amz-Signature is left out in the query form.
 *   - Headers: names lower-cased; repeated headers joined with ',' in the
 *     order received; values trimmed and runs of spaces and tabs inside
 *     collapsed to one space.
 *   - Payload: the X-Amz-Content-Sha256 value if the request has that
 *     header, else the hex SHA-256 of the body.
 *
 * Crypto: OpenSSL's libcrypto (SHA-256 through a digest fetched once;
 * HMAC built on it), CRYPTO_memcmp for comparisons.
 *
 * Threading: the functions are thread-safe; an evb_sigv4_verifier_t is
 * immutable once its keys are loaded (but for a mutex-guarded cache of
 * derived signing keys) and may be used by any number of threads at once.
 */
#ifndef EVB_SIGV4_H
#define EVB_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../common/common.h"

#define EVB_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
/* The clock skew AWS allows between a request's date and the server's. */
#define EVB_SIGV4_DEFAULT_MAX_SKEW_S 300
/* The longest X-Amz-Expires AWS accepts (7 days). */
#define EVB_SIGV4_MAX_EXPIRES_S 604800
#define EVB_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* hex SHA-256 of nothing */
#define EVB_SIGV4_EMPTY_SHA256                                                 \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One request header as received (name in any case; value untrimmed).
 * A header that appears several times is several entries. */
typedef struct evb_sigv4_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} evb_sigv4_header_t;

/* A request as it is (or will be) on the wire. Nothing is copied. */
typedef struct evb_sigv4_request {
    const char *method; /* "POST" */
    const char *path;   /* the path as sent, still percent-encoded */
    size_t path_len;
    const char *query; /* the raw query string without '?', or NULL */
    size_t query_len;
    const evb_sigv4_header_t *headers;
    size_t nheaders;
    const void *body; /* may be NULL when body_len is 0 */
    size_t body_len;
} evb_sigv4_request_t;

typedef struct evb_sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL: none */
} evb_sigv4_credentials_t;

/* ---- primitives ---------------------------------------------------------- */

/* hex SHA-256 of data (65 bytes with the NUL). */
void evb_sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/* HMAC-SHA256. */
void evb_sigv4_hmac(const uint8_t *key, size_t key_len, const void *msg,
                    size_t msg_len, uint8_t out[32]);

/* The signing key: HMAC chain over "AWS4"+secret, date (YYYYMMDD), region,
 * service and "aws4_request". Constant for a key, day, region and service,
 * so a client may derive it once a day (see opts.signing_key). */
void evb_sigv4_signing_key(const char *secret, const char *date8,
                           const char *region, const char *service,
                           uint8_t out[32]);

/* ---- signing ------------------------------------------------------------- */

typedef struct evb_sigv4_sign_opts {
    const char *region;  /* "us-east-1" */
    const char *service; /* "events" */
    time_t when;         /* the signing time (UTC seconds); 0: now */
    bool s3; /* S3 rules: the path is neither normalised nor re-encoded */
    /* Add X-Amz-Content-Sha256 to the signed headers (S3 needs it; other
     * services accept it). */
    bool content_sha256_header;
    /* Hex SHA-256 of the body when the caller already knows it (or
     * "UNSIGNED-PAYLOAD"); NULL: computed. */
    const char *payload_hash;
    /* The signing key for the date of `when`, region and service, if the
     * caller caches it; NULL: derived from the secret. */
    const uint8_t *signing_key;
    /* presign only: X-Amz-Expires in seconds (1..604800; 0: 3600) */
    unsigned expires_s;
} evb_sigv4_sign_opts_t;

/*
 * The result of signing. The caller adds to the request: X-Amz-Date
 * (amz_date), Authorization (authorization), X-Amz-Security-Token when
 * the credentials have a token, X-Amz-Content-Sha256 (payload_hash) when
 * content_sha256_header was set. For a presigned request, `query` is the
 * whole new query string (the request's own parameters, then the X-Amz-*
 * ones and the signature) to send instead of the original one.
 * The malloc'ed strings are freed by evb_sigv4_signed_free.
 */
typedef struct evb_sigv4_signed {
    char amz_date[17];     /* "20150830T123600Z" */
    char payload_hash[65]; /* or "UNSIGNED-PAYLOAD" */
    char signature[65];
    char *signed_headers;    /* "host;x-amz-date" */
    char *canonical_request; /* for tests and debugging */
    char *string_to_sign;
    char *authorization; /* header form: the Authorization value */
    char *query;         /* presign: the new query string */
} evb_sigv4_signed_t;

void evb_sigv4_signed_free(evb_sigv4_signed_t *s);

/*
 * Sign req in the header form. Every header of req is signed except
 * Authorization, User-Agent, Expect, X-Amzn-Trace-Id, Connection and
 * Transfer-Encoding (what AWS's SDKs leave out); X-Amz-Date,
 * X-Amz-Security-Token and X-Amz-Content-Sha256 are added to the signed
 * set when req lacks them (a request that already has X-Amz-Date is
 * signed with that date and opts.when is ignored). The request must have
 * a Host header. On success *out is filled (free it with
 * evb_sigv4_signed_free, also after a failure).
 * Errors: EVB_ERR_INVALID_ARG (no Host, no credentials, bad X-Amz-Date),
 * EVB_ERR_NOMEM.
 */
evb_err_t evb_sigv4_sign(const evb_sigv4_request_t *req,
                         const evb_sigv4_credentials_t *creds,
                         const evb_sigv4_sign_opts_t *opts,
                         evb_sigv4_signed_t *out, char *errstr,
                         size_t errstr_size);

/*
 * Sign req in the presigned-query form: only Host (and the headers req
 * has, but for the ones signing leaves out) are signed, the X-Amz-*
 * parameters go in the query, and out->query is the query string to use.
 * The payload is the body's hash (or opts.payload_hash, e.g.
 * "UNSIGNED-PAYLOAD" for S3). Errors as evb_sigv4_sign.
 */
evb_err_t evb_sigv4_presign(const evb_sigv4_request_t *req,
                            const evb_sigv4_credentials_t *creds,
                            const evb_sigv4_sign_opts_t *opts,
                            evb_sigv4_signed_t *out, char *errstr,
                            size_t errstr_size);

/*
 * The canonical request of req for the given signed headers (a ';'-list
 * of lower-case names, used as given) and payload hash, appended to out.
 * exclude_signature leaves X-Amz-Signature out of the query (query form).
 * Errors: EVB_ERR_NOMEM, EVB_ERR_TOO_LARGE (out's limit).
 */
evb_err_t evb_sigv4_canonical_request(const evb_sigv4_request_t *req,
                                      const char *signed_headers,
                                      const char *payload_hash, bool s3,
                                      bool exclude_signature, evb_buf_t *out);

/* ---- verification -------------------------------------------------------- */

/* What a verification found. Each maps to an AWS error type (below). */
#define EVB_SIGV4_STATUS_MAP(X)                                                \
    X(OK)                                                                      \
    X(MISSING)         /* no Authorization header, no X-Amz-Algorithm */       \
    X(INCOMPLETE)      /* malformed or partial signature information */        \
    X(UNKNOWN_KEY)     /* the access key id is not configured */               \
    X(BAD_TOKEN)       /* the session token is missing, extra or wrong */      \
    X(EXPIRED)         /* too old (skew) or past X-Amz-Expires */              \
    X(NOT_YET_VALID)   /* dated too far in the future */                       \
    X(BAD_SCOPE)       /* credential scope date, region or service */          \
    X(UNSIGNED_HEADER) /* host, x-amz-date or an x-amz-* header unsigned */    \
    X(BAD_PAYLOAD)     /* X-Amz-Content-Sha256 wrong or not accepted */        \
    X(MISMATCH)        /* the signature does not match */                      \
    X(NOMEM)

typedef enum evb_sigv4_status {
#define EVB_SIGV4__ENUM(n) EVB_SIGV4_##n,
    EVB_SIGV4_STATUS_MAP(EVB_SIGV4__ENUM)
#undef EVB_SIGV4__ENUM
} evb_sigv4_status_t;

const char *evb_sigv4_status_name(evb_sigv4_status_t st);

/*
 * The AWS error type for a failed verification, in the naming of the
 * service protocol: JSON services (query_form false) answer
 * MissingAuthenticationTokenException, IncompleteSignatureException,
 * UnrecognizedClientException or InvalidSignatureException; a request
 * signed in the query form gets the query-protocol names
 * (IncompleteSignature, InvalidClientTokenId, SignatureDoesNotMatch).
 */
const char *evb_sigv4_status_aws_type(evb_sigv4_status_t st, bool query_form);

typedef struct evb_sigv4_verifier evb_sigv4_verifier_t;

typedef struct evb_sigv4_verifier_config {
    const char *region; /* the server's region; required */
    /* The signing names accepted in the credential scope when the caller
     * does not name the service (NULL-terminated; NULL: any). */
    const char *const *services;
    unsigned max_skew_s;         /* 0: EVB_SIGV4_DEFAULT_MAX_SKEW_S */
    bool allow_unsigned_payload; /* accept X-Amz-Content-Sha256:
                                    UNSIGNED-PAYLOAD (S3 does; off) */
    bool s3;                     /* S3 path rules */
} evb_sigv4_verifier_config_t;

/* Create a verifier with no keys (strings are copied). Free with
 * evb_sigv4_verifier_free. Errors: EVB_ERR_INVALID_ARG, EVB_ERR_NOMEM. */
evb_err_t evb_sigv4_verifier_new(const evb_sigv4_verifier_config_t *cfg,
                                 evb_sigv4_verifier_t **out, char *errstr,
                                 size_t errstr_size);
void evb_sigv4_verifier_free(evb_sigv4_verifier_t *v);

/*
 * Add a key (strings copied; session_token and account_id may be NULL).
 * Not thread-safe: load every key before the first verification.
 * Errors: EVB_ERR_INVALID_ARG (empty or malformed id or secret, account
 * not 12 digits), EVB_ERR_EXISTS (id already added), EVB_ERR_NOMEM.
 */
evb_err_t evb_sigv4_verifier_add_key(evb_sigv4_verifier_t *v,
                                     const char *access_key_id,
                                     const char *secret_access_key,
                                     const char *session_token,
                                     const char *account_id, char *errstr,
                                     size_t errstr_size);

/*
 * Load keys from an AWS shared-credentials file: INI sections, each with
 * aws_access_key_id and aws_secret_access_key, optionally
 * aws_session_token and account_id (12 digits); '#' and ';' start
 * comments; other keys are ignored. A section with only some of the
 * required keys, or a file with no key at all, is an error (errstr names
 * the file, line and section, never a secret).
 * Errors: EVB_ERR_IO, EVB_ERR_INVALID_ARG, EVB_ERR_EXISTS, EVB_ERR_NOMEM.
 */
evb_err_t evb_sigv4_verifier_load_file(evb_sigv4_verifier_t *v,
                                       const char *path, char *errstr,
                                       size_t errstr_size);

/* The same from the text of such a file (for tests and fuzzing). */
evb_err_t evb_sigv4_verifier_load_ini(evb_sigv4_verifier_t *v,
                                      const char *text, size_t len,
                                      const char *source, char *errstr,
                                      size_t errstr_size);

/* One key from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (if set)
 * AWS_SESSION_TOKEN; account_id may be NULL. Errors: EVB_ERR_INVALID_ARG
 * when the variables are not set, as evb_sigv4_verifier_add_key. */
evb_err_t evb_sigv4_verifier_load_env(evb_sigv4_verifier_t *v,
                                      const char *account_id, char *errstr,
                                      size_t errstr_size);

size_t evb_sigv4_verifier_key_count(const evb_sigv4_verifier_t *v);

typedef struct evb_sigv4_result {
    evb_sigv4_status_t status;
    bool query_form; /* the request used the presigned-query form */
    /* the access key id the request named (truncated), "" if none */
    char access_key_id[129];
    /* the key's account_id, NULL when it has none (owned by the
     * verifier); set only when status is EVB_SIGV4_OK */
    const char *account_id;
    /* AWS's message for the failure, "" on success */
    char message[320];
} evb_sigv4_result_t;

/*
 * Verify req at time now (UTC seconds). service is the signing name the
 * request's API answers to ("events"); NULL accepts any of cfg.services.
 * Returns res->status.
 */
evb_sigv4_status_t evb_sigv4_verify(const evb_sigv4_verifier_t *v,
                                    const evb_sigv4_request_t *req,
                                    const char *service, time_t now,
                                    evb_sigv4_result_t *res);

/* ---- helpers ----------------------------------------------------------- */

/* "YYYYMMDDTHHMMSSZ" <-> UTC seconds. _parse returns false when s is not
 * exactly such a date. */
void evb_sigv4_format_date(time_t t, char out[17]);
bool evb_sigv4_parse_date(const char *s, size_t len, time_t *out);

#endif
