/*
 * sigv4_internal.h: what sigv4.c (primitives, canonicalisation, signing)
 * shares with verify.c (the verifier). The bool-returning primitives
 * report an OpenSSL or allocation failure instead of producing bytes.
 */
#ifndef EVB_SIGV4_INTERNAL_H
#define EVB_SIGV4_INTERNAL_H

#include "sigv4.h"

void evb__sigv4_hex(const uint8_t *in, size_t n, char *out);
bool evb__sigv4_sha256(const void *data, size_t len, uint8_t out[32]);
bool evb__sigv4_hmac(const uint8_t *key, size_t key_len, const void *msg,
                     size_t msg_len, uint8_t out[32]);
bool evb__sigv4_signing_key(const char *secret, const char *date8,
                            const char *region, const char *service,
                            uint8_t out[32]);

/* Percent-encode every byte but the unreserved ones (and '/' when
 * keep_slash), upper-case hex. */
evb_err_t evb__sigv4_uri_encode(evb_buf_t *b, const char *s, size_t n,
                                bool keep_slash);
/* Percent-decode s into out (at least n bytes); malformed escapes are
 * kept as they are; '+' becomes a space when plus_space (query strings,
 * as AWS's front ends decode them). Returns the decoded length. */
size_t evb__sigv4_uri_decode(const char *s, size_t n, char *out,
                             bool plus_space);

bool evb__sigv4_name_is(const evb_sigv4_header_t *h, const char *name,
                        size_t len);

/* The string to sign for creq under scope, and its signature with key:
 * sts_hash receives the hex hash of creq, signature the hex signature;
 * the string to sign is appended to sts when sts is not NULL. */
bool evb__sigv4_signature(const uint8_t key[32], const char *amz_date,
                          const char *scope, const char *creq,
                          size_t creq_len, char sts_hash[65],
                          char signature[65], evb_buf_t *sts);

#endif
