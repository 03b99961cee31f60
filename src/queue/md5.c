/*
 * md5.c: MD5 (RFC 1321) for the digests SQS returns with every message
 * (MD5OfMessageBody, MD5OfMessageAttributes). Not used for security.
 * The core library links no crypto library, so this is the small
 * textbook implementation: one context, blocks of 64 bytes.
 */
#include <string.h>

#include "queue_internal.h"

static const uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
    0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
    0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
    0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
    0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
static const unsigned R[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                               7, 12, 17, 22, 5, 9,  14, 20, 5, 9,  14, 20,
                               5, 9,  14, 20, 5, 9,  14, 20, 4, 11, 16, 23,
                               4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                               6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
                               6, 10, 15, 21};

static void block(uint32_t h[4], const unsigned char *p) {
    uint32_t w[16];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[i * 4] | (uint32_t)p[i * 4 + 1] << 8 |
               (uint32_t)p[i * 4 + 2] << 16 | (uint32_t)p[i * 4 + 3] << 24;
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (unsigned i = 0; i < 64; i++) {
        uint32_t f;
        unsigned g;
        if (i < 16) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (i < 32) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) % 16;
        } else if (i < 48) {
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
        }
        uint32_t t = d;
        d = c;
        c = b;
        uint32_t x = a + f + K[i] + w[g];
        b = b + (x << R[i] | x >> (32 - R[i]));
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

void evb__md5_init(evb__md5_t *m) {
    m->h[0] = 0x67452301;
    m->h[1] = 0xefcdab89;
    m->h[2] = 0x98badcfe;
    m->h[3] = 0x10325476;
    m->len = 0;
    m->nbuf = 0;
}

void evb__md5_update(evb__md5_t *m, const void *data, size_t len) {
    const unsigned char *p = data;
    m->len += len;
    if (m->nbuf) {
        size_t take = 64 - m->nbuf < len ? 64 - m->nbuf : len;
        memcpy(m->buf + m->nbuf, p, take);
        m->nbuf += take;
        p += take;
        len -= take;
        if (m->nbuf < 64)
            return;
        block(m->h, m->buf);
        m->nbuf = 0;
    }
    for (; len >= 64; p += 64, len -= 64)
        block(m->h, p);
    memcpy(m->buf, p, len);
    m->nbuf = len;
}

void evb__md5_hex(evb__md5_t *m, char out[33]) {
    uint64_t bits = m->len * 8;
    static const unsigned char pad[64] = {0x80};
    size_t padlen = m->nbuf < 56 ? 56 - m->nbuf : 120 - m->nbuf;
    evb__md5_update(m, pad, padlen);
    unsigned char lenb[8];
    for (int i = 0; i < 8; i++)
        lenb[i] = (unsigned char)(bits >> (8 * i));
    evb__md5_update(m, lenb, 8);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        unsigned char c = (unsigned char)(m->h[i / 4] >> (8 * (i % 4)));
        out[2 * i] = hex[c >> 4];
        out[2 * i + 1] = hex[c & 15];
    }
    out[32] = '\0';
}

void evb_queue_md5_hex(const void *data, size_t len, char out[33]) {
    evb__md5_t m;
    evb__md5_init(&m);
    evb__md5_update(&m, data, len);
    evb__md5_hex(&m, out);
}
