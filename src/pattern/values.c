/*
 * values.c: value-level primitives of the pattern language: number
 * conversion and the representability rule, case folding, wildcard
 * compilation and matching, CIDR parsing and matching.
 */
#include <arpa/inet.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern_internal.h"

static const double pow10_exact[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Decompose JSON number text: significant digits (leading/trailing zeros
 * removed) and decimal exponent of the last significant digit. */
typedef struct numparts {
    bool neg;
    uint64_t mant;   /* valid when nd <= 19 */
    int nd;          /* significant digits */
    long exp10;      /* value = mant * 10^exp10 */
    char digits[32]; /* first digits, for the representability check */
} numparts_t;

static void num_decompose(const char *t, size_t len, numparts_t *np) {
    const char *p = t, *end = t + len;
    memset(np, 0, sizeof *np);
    if (p < end && *p == '-') {
        np->neg = true;
        p++;
    }
    long exp_adj = 0;
    int nd = 0;
    uint64_t mant = 0;
    int pending_zeros = 0; /* zeros after the last nonzero digit */
    bool started = false;
    bool frac = false;
    for (; p < end; p++) {
        char c = *p;
        if (c == '.') {
            frac = true;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        if (frac)
            exp_adj--;
        if (c == '0') {
            if (started)
                pending_zeros++;
            continue;
        }
        /* flush zeros */
        while (pending_zeros > 0) {
            if (nd < 19)
                mant *= 10;
            if (nd < (int)sizeof np->digits - 1)
                np->digits[nd] = '0';
            nd++;
            pending_zeros--;
        }
        started = true;
        if (nd < 19)
            mant = mant * 10 + (uint64_t)(c - '0');
        if (nd < (int)sizeof np->digits - 1)
            np->digits[nd] = c;
        nd++;
    }
    long e = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (e < 100000)
                e = e * 10 + (*p - '0');
        if (eneg)
            e = -e;
    }
    np->mant = mant;
    np->nd = nd;
    /* trailing zeros that were dropped raise the exponent */
    np->exp10 = e + exp_adj + pending_zeros;
}

static double slow_strtod(const char *text, size_t len) {
    char small[80];
    char *buf = small;
    if (len >= sizeof small) {
        buf = malloc(len + 1);
        if (!buf)
            return NAN;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    double d = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    return d;
}

int evb__num_value(const char *text, size_t len, double *out) {
    numparts_t np;
    num_decompose(text, len, &np);
    double d;
    if (np.nd == 0) {
        d = 0.0;
    } else if (np.nd <= 15 && np.exp10 >= -22 && np.exp10 <= 22) {
        /* exact: mant < 2^53 and 10^|e| exact, so one rounding */
        d = (double)np.mant;
        d = np.exp10 < 0 ? d / pow10_exact[-np.exp10]
                         : d * pow10_exact[np.exp10];
        if (np.neg)
            d = -d;
    } else {
        d = slow_strtod(text, len);
    }
    if (!isfinite(d))
        return -1;
    *out = d == 0 ? 0.0 : d;
    return 0;
}

int evb__num_representable(const char *text, size_t len, double *out) {
    double d;
    if (evb__num_value(text, len, &d))
        return -1;
    numparts_t np;
    num_decompose(text, len, &np);
    if (np.nd == 0) {
        *out = 0.0;
        return 0;
    }
    if (d == 0) /* underflow */
        return -1;
    if (np.nd > 17)
        return -1;
    /* up to 15 digits always survive the trip through a normal double;
     * subnormals have fewer digits of precision, so check them too */
    if (np.nd > 15 || fabs(d) < DBL_MIN) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.*e", np.nd - 1, fabs(d));
        /* buf: d.ddddde[+-]xx ; compare digits and exponent */
        char dg[32];
        int k = 0;
        const char *q = buf;
        for (; *q && *q != 'e'; q++)
            if (*q >= '0' && *q <= '9')
                dg[k++] = *q;
        long e = *q == 'e' ? strtol(q + 1, NULL, 10) : 0;
        /* strip trailing zeros of the printed digits */
        while (k > 1 && dg[k - 1] == '0') {
            k--;
        }
        long printed_exp = e - (k - 1);
        if (k != np.nd || memcmp(dg, np.digits, (size_t)k) != 0 ||
            printed_exp != np.exp10)
            return -1;
    }
    *out = d;
    return 0;
}

/* ---- case folding ----------------------------------------------------------
 */

static uint32_t fold_cp(uint32_t c) {
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    if (c >= 0x100 && c <= 0x17F) {
        /* Latin Extended-A: pairs, with a shifted run 0x139..0x148 and
         * 0x179..0x17E */
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c & 1) ? c + 1 : c;
        if (c == 0x178)
            return 0xFF;
        if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F)
            return c;
        return (c & 1) ? c : c + 1;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
        return c + 32;
    if (c >= 0x410 && c <= 0x42F)
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    return c;
}

size_t evb__fold(const char *s, size_t len, char *out) {
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            out[o++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
            p++;
            continue;
        }
        uint32_t cp;
        int n;
        if ((c & 0xE0) == 0xC0 && end - p >= 2 && (p[1] & 0xC0) == 0x80) {
            cp = (uint32_t)(c & 0x1F) << 6 | (p[1] & 0x3F);
            n = 2;
        } else {
            /* outside the folded ranges (all 2-byte): copy as is */
            out[o++] = (char)c;
            p++;
            continue;
        }
        uint32_t f = fold_cp(cp);
        if (f < 0x80) {
            out[o++] = (char)f;
        } else {
            out[o++] = (char)(0xC0 | (f >> 6));
            out[o++] = (char)(0x80 | (f & 0x3F));
        }
        p += n;
    }
    out[o] = '\0';
    return o;
}

/* ---- wildcard --------------------------------------------------------------
 */

int evb__wildcard_compile(evb_arena_t *a, const char *s, size_t len,
                          evb__wildcard_t *out, char *err, size_t errsz) {
    memset(out, 0, sizeof *out);
    size_t stars = 0;
    long pos = -1; /* character index */
    bool prev_star = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            pos++;
        if (c == '\\') {
            if (i + 1 < len && (s[i + 1] == '*' || s[i + 1] == '\\')) {
                i++;
                pos++;
                prev_star = false;
                continue;
            }
            snprintf(err, errsz, "Invalid escape character at pos %ld", pos);
            return -1;
        }
        if (c == '*') {
            if (prev_star) {
                snprintf(err, errsz,
                         "Consecutive wildcard characters at pos %ld", pos);
                return -1;
            }
            prev_star = true;
            stars++;
        } else {
            prev_star = false;
        }
    }
    if (stars > 5) {
        snprintf(err, errsz,
                 "Rule is too complex - try using fewer wildcard characters "
                 "or fewer repeating character sequences after a wildcard "
                 "character");
        return -1;
    }
    out->segs = evb_arena_calloc(a, stars + 1, sizeof *out->segs);
    char *buf = evb_arena_alloc(a, len + 1);
    if (!out->segs || !buf) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    size_t nseg = 0, o = 0, seg_start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\\') {
            buf[o++] = s[++i];
            continue;
        }
        if (c == '*') {
            if (i == 0)
                out->lead_star = true;
            out->segs[nseg].s = buf + seg_start;
            out->segs[nseg].len = o - seg_start;
            nseg++;
            seg_start = o;
            if (i == len - 1)
                out->trail_star = true;
            continue;
        }
        buf[o++] = c;
    }
    out->segs[nseg].s = buf + seg_start;
    out->segs[nseg].len = o - seg_start;
    nseg++;
    buf[o] = '\0';
    out->nsegs = nseg;
    return 0;
}

bool evb__wildcard_match(const evb__wildcard_t *w, const char *s, size_t len) {
    /* segs[0] must be a prefix, segs[n-1] a suffix (they are empty when
     * the pattern starts / ends with a star); the middle ones are found
     * left to right, leftmost first, which is optimal for '*' only. */
    size_t n = w->nsegs;
    const evb__str_t *first = &w->segs[0];
    if (n == 1)
        return len == first->len && memcmp(s, first->s, len) == 0;
    const evb__str_t *last = &w->segs[n - 1];
    if (first->len + last->len > len)
        return false;
    if (memcmp(s, first->s, first->len) != 0)
        return false;
    if (memcmp(s + len - last->len, last->s, last->len) != 0)
        return false;
    size_t pos = first->len, lim = len - last->len;
    for (size_t i = 1; i + 1 < n; i++) {
        const evb__str_t *sg = &w->segs[i];
        if (sg->len == 0)
            continue;
        if (lim - pos < sg->len)
            return false;
        const char *hit = memmem(s + pos, lim - pos, sg->s, sg->len);
        if (!hit)
            return false;
        pos = (size_t)(hit - s) + sg->len;
    }
    return true;
}

/* ---- CIDR ------------------------------------------------------------------
 */

static int parse_ip(const char *s, size_t len, uint8_t addr[16], int *family) {
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(addr, 0, 16);
    if (memchr(buf, ':', len)) {
        if (inet_pton(AF_INET6, buf, addr) != 1)
            return -1;
        *family = 6;
    } else {
        if (inet_pton(AF_INET, buf, addr) != 1)
            return -1;
        *family = 4;
    }
    return 0;
}

int evb__cidr_parse(const char *s, size_t len, evb__test_t *t, char *err,
                    size_t errsz) {
    const char *slash = memchr(s, '/', len);
    if (!slash || memchr(slash + 1, '/', len - (size_t)(slash + 1 - s))) {
        snprintf(err, errsz, "Malformed CIDR, one '/' required");
        return -1;
    }
    const char *m = slash + 1, *mend = s + len;
    int bits = 0;
    bool ok = m < mend && mend - m <= 3;
    for (const char *q = m; ok && q < mend; q++) {
        if (*q < '0' || *q > '9')
            ok = false;
        else
            bits = bits * 10 + (*q - '0');
    }
    if (!ok) {
        snprintf(err, errsz, "Malformed CIDR, mask bits must be an integer");
        return -1;
    }
    size_t iplen = (size_t)(slash - s);
    if (parse_ip(s, iplen, t->addr, &t->family)) {
        snprintf(err, errsz, "Nonstandard IP address: %.*s", (int)iplen, s);
        return -1;
    }
    if (bits > (t->family == 4 ? 32 : 128)) {
        snprintf(err, errsz, "Malformed CIDR, mask bits must be an integer");
        return -1;
    }
    t->bits = bits;
    int nbytes = t->family == 4 ? 4 : 16;
    for (int i = 0; i < nbytes; i++) {
        int keep = bits - i * 8;
        uint8_t mask = keep >= 8   ? 0xFF
                       : keep <= 0 ? 0
                                   : (uint8_t)(0xFF << (8 - keep));
        t->addr[i] &= mask;
    }
    return 0;
}

bool evb__cidr_match(const evb__test_t *t, const char *s, size_t len) {
    uint8_t a[16];
    int fam;
    if (parse_ip(s, len, a, &fam) || fam != t->family)
        return false;
    int bits = t->bits;
    for (int i = 0; bits > 0; i++, bits -= 8) {
        uint8_t mask = bits >= 8 ? 0xFF : (uint8_t)(0xFF << (8 - bits));
        if ((a[i] & mask) != t->addr[i])
            return false;
    }
    return true;
}
