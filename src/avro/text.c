/*
 * text.c: the text primitives the Avro renderer and encoder need, written
 * to reproduce Java's output byte for byte where the connector's output
 * comes from Java (Double.toString, Float.toString, BigDecimal.toString,
 * BigInteger.toByteArray, Jackson's string escaping and base64).
 *
 * Design choice for doubles: the shortest digits that read back to the same
 * value. A fast path finds them exactly for values with few decimals in the
 * plain-notation range (r / 10^k == v with r and 10^k exact doubles is a
 * correctly rounded division, so the decimal r*10^-k reads back as v);
 * everything else goes through printf at 15, 16, then 17 digits (any
 * decimal of at most 15 digits that reads back as v IS the 15-digit
 * rounding of v, so trimming its zeros gives the shortest).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_internal.h"

/* ---- integers ------------------------------------------------------------ */

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

static size_t fmt_u64(uint64_t v, char *out) {
    char tmp[20];
    char *p = tmp + sizeof tmp;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        p -= 2;
        memcpy(p, digit_pairs + 2 * r, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    size_t n = (size_t)(tmp + sizeof tmp - p);
    memcpy(out, p, n);
    return n;
}

size_t evb__fmt_i64(int64_t v, char *out) {
    if (v < 0) {
        out[0] = '-';
        return 1 + fmt_u64((uint64_t)0 - (uint64_t)v, out + 1);
    }
    return fmt_u64((uint64_t)v, out);
}

/* ---- floating point ------------------------------------------------------ */

/* Lay out sign, significant digits d[0..nd) (no trailing zeros, nd >= 1)
 * and decimal exponent e (value = d0.d1d2... * 10^e) as Java does. */
static size_t java_layout(bool neg, const char *d, int nd, int e, char *out) {
    char *o = out;
    if (neg)
        *o++ = '-';
    if (e >= -3 && e < 7) {
        if (e >= 0) {
            for (int i = 0; i <= e; i++)
                *o++ = i < nd ? d[i] : '0';
            *o++ = '.';
            if (nd > e + 1) {
                memcpy(o, d + e + 1, (size_t)(nd - e - 1));
                o += nd - e - 1;
            } else {
                *o++ = '0';
            }
        } else {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -e - 1; i++)
                *o++ = '0';
            memcpy(o, d, (size_t)nd);
            o += nd;
        }
    } else {
        *o++ = d[0];
        *o++ = '.';
        if (nd > 1) {
            memcpy(o, d + 1, (size_t)(nd - 1));
            o += nd - 1;
        } else {
            *o++ = '0';
        }
        *o++ = 'E';
        o += evb__fmt_i64(e, o);
    }
    return (size_t)(o - out);
}

/* Split printf's "%.Ne" output into digits (trailing zeros dropped) and
 * exponent. */
static int split_exp(const char *buf, char *d, int *e) {
    const char *p = buf;
    if (*p == '-')
        p++;
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            d[nd++] = *p;
    *e = (*p == 'e') ? atoi(p + 1) : 0;
    while (nd > 1 && d[nd - 1] == '0')
        nd--;
    return nd;
}

static const double pow10_tab[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static size_t special(double v, char *out) {
    const char *s = isnan(v) ? "\"NaN\""
                    : v > 0  ? "\"Infinity\""
                             : "\"-Infinity\"";
    size_t n = strlen(s);
    memcpy(out, s, n);
    return n;
}

size_t evb__fmt_double(double v, char *out) {
    if (!isfinite(v))
        return special(v, out);
    bool neg = signbit(v);
    if (v == 0) {
        memcpy(out, neg ? "-0.0" : "0.0", neg ? 4 : 3);
        return neg ? 4 : 3;
    }
    double a = fabs(v);
    char d[32];
    int nd, e;
    if (a >= 1e-3 && a < 1e7) {
        for (int k = 0; k <= 17; k++) {
            double r = nearbyint(a * pow10_tab[k]);
            if (r >= 9007199254740992.0)
                break;
            if (r / pow10_tab[k] == a) {
                char tmp[24];
                nd = (int)fmt_u64((uint64_t)r, tmp);
                e = nd - 1 - k;
                while (nd > 1 && tmp[nd - 1] == '0')
                    nd--;
                return java_layout(neg, tmp, nd, e, out);
            }
        }
    }
    char buf[48];
    /* subnormals have fewer digits of precision: search from 2 digits (Java
     * prints at least two when one would do: 4.9E-324) */
    for (int prec = a < 2.2250738585072014e-308 ? 2 : 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, a);
        if (prec == 17 || strtod(buf, NULL) == a)
            break;
    }
    nd = split_exp(buf, d, &e);
    return java_layout(neg, d, nd, e, out);
}

size_t evb__fmt_float(float v, char *out) {
    if (!isfinite(v))
        return special((double)v, out);
    bool neg = signbit(v);
    if (v == 0) {
        memcpy(out, neg ? "-0.0" : "0.0", neg ? 4 : 3);
        return neg ? 4 : 3;
    }
    float a = fabsf(v);
    char buf[48], d[32];
    int e;
    for (int prec = a < 1.17549435e-38f ? 2 : 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, (double)a);
        if (prec == 9 || strtof(buf, NULL) == a)
            break;
    }
    int nd = split_exp(buf, d, &e);
    return java_layout(neg, d, nd, e, out);
}

/* ---- UTF-8 and JSON strings ---------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (2..4), or -k where k >= 1 is
 * the length of the maximal invalid subpart to replace. s[0] >= 0x80. */
static int utf8_seq(const uint8_t *s, size_t n) {
    uint8_t c = s[0], lo = 0x80, hi = 0xBF;
    int need;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c == 0xE0) {
        need = 2;
        lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
        need = 2;
    } else if (c == 0xED) {
        need = 2;
        hi = 0x9F;
    } else if (c == 0xF0) {
        need = 3;
        lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
        need = 3;
    } else if (c == 0xF4) {
        need = 3;
        hi = 0x8F;
    } else {
        return -1;
    }
    for (int k = 1; k <= need; k++) {
        if ((size_t)k >= n || s[k] < lo || s[k] > hi)
            return -k;
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

size_t evb__utf8_repair(const uint8_t *s, size_t len, uint8_t *out) {
    uint8_t *o = out;
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            *o++ = s[i++];
            continue;
        }
        int k = utf8_seq(s + i, len - i);
        if (k > 0) {
            memcpy(o, s + i, (size_t)k);
            o += k;
            i += (size_t)k;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += (size_t)-k;
        }
    }
    return (size_t)(o - out);
}

/* 0: copy as is; 1: escape; 2: start of a multi-byte sequence */
static const uint8_t esc_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

static const char hexdig[] = "0123456789ABCDEF";

size_t evb__json_escape(const uint8_t *s, size_t len, char *out) {
    char *o = out;
    *o++ = '"';
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && esc_class[s[j]] == 0)
            j++;
        memcpy(o, s + i, j - i);
        o += j - i;
        i = j;
        if (i >= len)
            break;
        uint8_t c = s[i];
        if (c < 0x80) {
            *o++ = '\\';
            switch (c) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '\b': *o++ = 'b'; break;
            case '\t': *o++ = 't'; break;
            case '\n': *o++ = 'n'; break;
            case '\f': *o++ = 'f'; break;
            case '\r': *o++ = 'r'; break;
            default:
                *o++ = 'u';
                *o++ = '0';
                *o++ = '0';
                *o++ = hexdig[c >> 4];
                *o++ = hexdig[c & 15];
            }
            i++;
        } else {
            int k = utf8_seq(s + i, len - i);
            if (k > 0) {
                memcpy(o, s + i, (size_t)k);
                o += k;
                i += (size_t)k;
            } else {
                memcpy(o, "\xEF\xBF\xBD", 3);
                o += 3;
                i += (size_t)-k;
            }
        }
    }
    *o++ = '"';
    return (size_t)(o - out);
}

/* ---- base64 ----------------------------------------------------------------
 */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t evb__base64_encode(const uint8_t *in, size_t n, char *out) {
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v =
            (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        o[0] = b64chars[v >> 18];
        o[1] = b64chars[(v >> 12) & 63];
        o[2] = b64chars[(v >> 6) & 63];
        o[3] = b64chars[v & 63];
        o += 4;
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        o[0] = b64chars[v >> 18];
        o[1] = b64chars[(v >> 12) & 63];
        o[2] = '=';
        o[3] = '=';
        o += 4;
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        o[0] = b64chars[v >> 18];
        o[1] = b64chars[(v >> 12) & 63];
        o[2] = b64chars[(v >> 6) & 63];
        o[3] = '=';
        o += 4;
    }
    return (size_t)(o - out);
}

static int b64val(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool evb__base64_decode(const char *in, size_t n, uint8_t *out,
                        size_t *out_len) {
    size_t pad = 0;
    if (n % 4 == 0 && n >= 4) {
        if (in[n - 1] == '=')
            pad++;
        if (in[n - 2] == '=')
            pad++;
    }
    size_t m = n - pad; /* significant characters */
    if (m % 4 == 1)
        return false;
    uint8_t *o = out;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < m; i++) {
        int v = b64val(in[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (uint8_t)(acc >> bits);
        }
    }
    *out_len = (size_t)(o - out);
    return true;
}

/* ---- decimals
 * ---------------------------------------------------------------- */

size_t evb__twos_minimal(const uint8_t *b, size_t n) {
    size_t i = 0;
    while (i + 1 < n && ((b[i] == 0x00 && !(b[i + 1] & 0x80)) ||
                         (b[i] == 0xFF && (b[i + 1] & 0x80))))
        i++;
    return i;
}

evb_err_t evb__decimal_to_text(const uint8_t *b, size_t n, int32_t scale,
                               evb_buf_t *out) {
    bool neg = (b[0] & 0x80) != 0;
    /* magnitude, little-endian base 1e9 limbs */
    size_t maxlimbs = n * 8 / 29 + 2; /* 2^29 < 1e9 */
    uint32_t *limbs = calloc(maxlimbs, sizeof *limbs);
    char *digits = malloc(maxlimbs * 9 + 1);
    uint8_t *mag = malloc(n);
    evb_err_t err = EVB_ERR_NOMEM;
    if (!limbs || !digits || !mag)
        goto done;
    memcpy(mag, b, n);
    if (neg) { /* negate: invert and add one */
        int carry = 1;
        for (size_t i = n; i-- > 0;) {
            unsigned v = (uint8_t)~mag[i] + (unsigned)carry;
            mag[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    size_t nl = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t carry = mag[i];
        for (size_t k = 0; k < nl; k++) {
            uint64_t v = (uint64_t)limbs[k] * 256 + carry;
            limbs[k] = (uint32_t)(v % 1000000000u);
            carry = v / 1000000000u;
        }
        while (carry) {
            limbs[nl++] = (uint32_t)(carry % 1000000000u);
            carry /= 1000000000u;
        }
    }
    size_t nd = 0;
    if (nl == 0) {
        digits[nd++] = '0';
    } else {
        nd = (size_t)snprintf(digits, 10, "%u", limbs[nl - 1]);
        for (size_t k = nl - 1; k-- > 0;) {
            snprintf(digits + nd, 10, "%09u", limbs[k]);
            nd += 9;
        }
    }
    /* BigDecimal.toString */
    int64_t adjusted = -(int64_t)scale + (int64_t)nd - 1;
    evb_buf_t *o = out;
    if (neg && (err = evb_buf_putc(o, '-')))
        goto done;
    if (scale == 0) {
        err = evb_buf_append(o, digits, nd);
    } else if (scale > 0 && adjusted >= -6) {
        if (nd > (size_t)scale) {
            size_t ip = nd - (size_t)scale;
            if (!(err = evb_buf_append(o, digits, ip)) &&
                !(err = evb_buf_putc(o, '.')))
                err = evb_buf_append(o, digits + ip, (size_t)scale);
        } else {
            if (!(err = evb_buf_append(o, "0.", 2))) {
                for (size_t z = nd; z < (size_t)scale && !err; z++)
                    err = evb_buf_putc(o, '0');
                if (!err)
                    err = evb_buf_append(o, digits, nd);
            }
        }
    } else {
        if (!(err = evb_buf_putc(o, digits[0])) && nd > 1 &&
            !(err = evb_buf_putc(o, '.')))
            err = evb_buf_append(o, digits + 1, nd - 1);
        if (!err)
            err = evb_buf_appendf(o, "E%s%lld", adjusted >= 0 ? "+" : "",
                                  (long long)adjusted);
    }
done:
    free(limbs);
    free(digits);
    free(mag);
    return err;
}

#define DECIMAL_MAX_DIGITS 10000

evb_err_t evb__decimal_from_text(const char *num, size_t len, int32_t scale,
                                 int32_t precision, size_t fixed_size,
                                 evb_buf_t *out, char *errstr,
                                 size_t errstr_size) {
    size_t i = 0;
    bool neg = false;
    if (i < len && num[i] == '-') {
        neg = true;
        i++;
    }
    const char *ip = num + i;
    size_t il = 0;
    while (i < len && num[i] >= '0' && num[i] <= '9')
        i++, il++;
    const char *fp = NULL;
    size_t fl = 0;
    if (i < len && num[i] == '.') {
        i++;
        fp = num + i;
        while (i < len && num[i] >= '0' && num[i] <= '9')
            i++, fl++;
    }
    long long ex = 0;
    if (i < len && (num[i] == 'e' || num[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (num[i] == '+' || num[i] == '-'))
            eneg = num[i++] == '-';
        if (i >= len)
            goto bad;
        while (i < len && num[i] >= '0' && num[i] <= '9') {
            if (ex < 100000000)
                ex = ex * 10 + (num[i] - '0');
            i++;
        }
        if (eneg)
            ex = -ex;
    }
    if (i != len || il + fl == 0)
        goto bad;
    /* digits = ip fp; value = digits * 10^(ex - fl); unscaled shift: */
    long long shift = ex - (long long)fl + scale;
    size_t total = il + fl;
    char *dg = malloc(total + 1);
    if (!dg)
        return EVB_ERR_NOMEM;
    memcpy(dg, ip, il);
    if (fl)
        memcpy(dg + il, fp, fl);
    size_t nd = total;
    if (shift < 0) {
        /* dropped digits must be zeros */
        for (long long k = 0; k < -shift; k++) {
            if (nd == 0)
                break;
            if (dg[nd - 1] != '0') {
                free(dg);
                return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                   "decimal %.*s has more fraction digits "
                                   "than the scale %d",
                                   (int)(len > 60 ? 60 : len), num, scale);
            }
            nd--;
        }
        shift = 0;
    }
    /* strip leading zeros */
    size_t lead = 0;
    while (lead < nd && dg[lead] == '0')
        lead++;
    size_t sig = nd - lead;
    if (sig > 0 && (long long)sig + shift > DECIMAL_MAX_DIGITS) {
        free(dg);
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "decimal %.*s has too many digits",
                           (int)(len > 60 ? 60 : len), num);
    }
    if (sig == 0)
        shift = 0;
    if (precision > 0 && (long long)sig + shift > precision) {
        free(dg);
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "decimal %.*s has more digits than the precision "
                           "%d at scale %d",
                           (int)(len > 60 ? 60 : len), num, precision, scale);
    }
    /* big-endian magnitude in base 2^32 limbs, little-endian limb order */
    size_t ndig = sig + (size_t)shift;
    size_t maxl = ndig / 9 + 2;
    uint32_t *l = calloc(maxl, sizeof *l);
    if (!l) {
        free(dg);
        return EVB_ERR_NOMEM;
    }
    size_t nl = 0;
    size_t pos = 0;
    while (pos < ndig) {
        size_t chunk = ndig - pos < 9 ? ndig - pos : 9;
        uint32_t mul = 1, add = 0;
        for (size_t k = 0; k < chunk; k++) {
            size_t di = pos + k;
            add = add * 10 + (di < sig ? (uint32_t)(dg[lead + di] - '0') : 0);
            mul *= 10;
        }
        uint64_t carry = add;
        for (size_t k = 0; k < nl; k++) {
            uint64_t v = (uint64_t)l[k] * mul + carry;
            l[k] = (uint32_t)v;
            carry = v >> 32;
        }
        if (carry)
            l[nl++] = (uint32_t)carry;
        pos += chunk;
    }
    free(dg);
    /* two's complement bytes: one extra leading byte for the sign */
    size_t nb = nl * 4 + 1;
    uint8_t *bytes = calloc(nb, 1);
    if (!bytes) {
        free(l);
        return EVB_ERR_NOMEM;
    }
    for (size_t k = 0; k < nl; k++) {
        size_t at = nb - 1 - 4 * k;
        bytes[at] = (uint8_t)l[k];
        bytes[at - 1] = (uint8_t)(l[k] >> 8);
        bytes[at - 2] = (uint8_t)(l[k] >> 16);
        bytes[at - 3] = (uint8_t)(l[k] >> 24);
    }
    free(l);
    if (neg && nl > 0) {
        int carry = 1;
        for (size_t k = nb; k-- > 0;) {
            unsigned v = (uint8_t)~bytes[k] + (unsigned)carry;
            bytes[k] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    size_t off = evb__twos_minimal(bytes, nb);
    size_t mlen = nb - off;
    evb_err_t err;
    if (fixed_size == 0) {
        err = evb_buf_append(out, bytes + off, mlen);
    } else if (mlen > fixed_size) {
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "decimal %.*s does not fit in fixed(%zu)",
                          (int)(len > 60 ? 60 : len), num, fixed_size);
    } else {
        uint8_t ext = (bytes[off] & 0x80) ? 0xFF : 0x00;
        err = EVB_ERR_OK;
        for (size_t k = mlen; k < fixed_size && !err; k++)
            err = evb_buf_putc(out, (char)ext);
        if (!err)
            err = evb_buf_append(out, bytes + off, mlen);
    }
    free(bytes);
    return err;
bad:
    return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                       "not a decimal number: %.*s", (int)(len > 60 ? 60 : len),
                       num);
}
