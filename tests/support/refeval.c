/*
 * refeval: the reference evaluator (see refeval.h). Written for obviousness:
 * every step follows a sentence of docs/pattern-semantics.md.
 */
#include "refeval.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- small helpers ---------------------------------------------------- */

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "refeval: out of memory\n");
        abort();
    }
    return p;
}

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "refeval: out of memory\n");
        abort();
    }
    return p;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = xmalloc(n);
    memcpy(d, s, n);
    return d;
}

/* Dot-join a path: the root has no prefix. */
static char *join_path(const char *prefix, bool root, const char *key) {
    if (root)
        return xstrdup(key);
    size_t a = strlen(prefix), b = strlen(key);
    char *p = xmalloc(a + 1 + b + 1);
    memcpy(p, prefix, a);
    p[a] = '.';
    memcpy(p + a + 1, key, b + 1);
    return p;
}

json_t *evb_ref_number(const char *text) {
    return json_pack("{s:s}", EVB_REF_NUMBER_KEY, text);
}

json_t *evb_ref_loads(const char *text) {
    return json_loads(text, JSON_DECODE_INT_AS_REAL, NULL);
}

/* ---- numbers ------------------------------------------------------------ */

bool evb_ref_number_representable(const char *text) {
    /* Split the JSON number into its significand digits S (integer part
     * then fraction), the count of integer digits, and the exponent. */
    const char *p = text;
    char digits[1024];
    size_t nd = 0, nint = 0;
    long long exp10 = 0;
    if (*p == '-')
        p++;
    while (*p >= '0' && *p <= '9') {
        if (nd + 1 >= sizeof digits)
            return false;
        digits[nd++] = *p++;
        nint++;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            if (nd + 1 >= sizeof digits)
                return false;
            digits[nd++] = *p++;
        }
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        int sign = 1;
        if (*p == '+' || *p == '-')
            sign = *p++ == '-' ? -1 : 1;
        while (*p >= '0' && *p <= '9') {
            if (exp10 < 100000000)
                exp10 = exp10 * 10 + (*p - '0');
            p++;
        }
        exp10 *= sign;
    }
    if (*p != '\0' || nd == 0)
        return false; /* not a JSON number */

    /* Significant digits: drop leading zeros (noting where the first
     * significant one sits) and trailing zeros. */
    size_t k = 0;
    while (k < nd && digits[k] == '0')
        k++;
    double d = strtod(text, NULL);
    if (!isfinite(d))
        return false;
    if (k == nd)
        return true; /* zero, however spelled */
    size_t end = nd;
    while (end > k && digits[end - 1] == '0')
        end--;
    size_t nsig = end - k;
    if (nsig > 17)
        return false;
    /* Written value = D[0].D[1..] x 10^x with x as below. */
    long long x = (long long)nint - (long long)k - 1 + exp10;

    /* Print the double back with nsig significant digits. */
    char buf[64];
    snprintf(buf, sizeof buf, "%.*e", (int)nsig - 1, fabs(d));
    char pd[32];
    size_t npd = 0;
    const char *q = buf;
    while (*q && *q != 'e') {
        if (*q >= '0' && *q <= '9')
            pd[npd++] = *q;
        q++;
    }
    long long px = *q == 'e' ? strtoll(q + 1, NULL, 10) : 0;
    return npd == nsig && memcmp(pd, digits + k, nsig) == 0 && px == x;
}

/* ---- case folding ------------------------------------------------------- */

static uint32_t fold_cp(uint32_t c) {
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) /* Latin-1 */
        return c + 0x20;
    if (c >= 0x100 && c <= 0x17F) { /* Latin Extended-A pairs */
        if ((c <= 0x12F || (c >= 0x132 && c <= 0x137) ||
             (c >= 0x14A && c <= 0x177)) &&
            c % 2 == 0)
            return c + 1;
        if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) &&
            c % 2 == 1)
            return c + 1;
        if (c == 0x178)
            return 0xFF;
        return c;
    }
    if (c >= 0x391 && c <= 0x3A9) /* Greek */
        return c + 0x20;
    if (c >= 0x410 && c <= 0x42F) /* Cyrillic */
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F)
        return c + 0x50;
    return c;
}

/* Decode one UTF-8 sequence at s (len > 0 bytes left); invalid bytes are
 * passed through one at a time as themselves. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *used) {
    unsigned char b = s[0];
    size_t n = b < 0x80         ? 1
               : (b >> 5) == 6  ? 2
               : (b >> 4) == 14 ? 3
               : (b >> 3) == 30 ? 4
                                : 0;
    if (n == 0 || n > len) {
        *used = 1;
        return 0xFFFFFFFFu; /* marker: copy the byte as is */
    }
    uint32_t c = n == 1   ? b
                 : n == 2 ? (b & 0x1F)
                 : n == 3 ? (b & 0x0F)
                          : (b & 0x07);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *used = 1;
            return 0xFFFFFFFFu;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *used = n;
    return c;
}

static size_t utf8_put(uint32_t c, char *out) {
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

char *evb_ref_fold(const char *s, size_t len, size_t *out_len) {
    char *out = xmalloc(4 * len + 1);
    size_t o = 0, i = 0;
    while (i < len) {
        size_t used;
        uint32_t c = utf8_next((const unsigned char *)s + i, len - i, &used);
        if (c == 0xFFFFFFFFu)
            out[o++] = s[i];
        else
            o += utf8_put(fold_cp(c), out + o);
        i += used;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* ---- event flattening --------------------------------------------------- */

typedef enum { LV_STR, LV_NUM, LV_TRUE, LV_FALSE, LV_NULL } leaf_kind;

typedef struct {
    size_t arr; /* identity of the array (a counter, unique per event) */
    size_t idx; /* index of the element within it */
} ref_pos;

typedef struct {
    char *path;
    leaf_kind kind;
    const char *str; /* LV_STR: borrowed from the json_t */
    size_t len;
    double num;  /* LV_NUM */
    bool num_ok; /* LV_NUM: representable (equals, ranges) */
    ref_pos *pos;
    size_t npos;
} ref_leaf;

struct evb_ref_event {
    ref_leaf *leaves;
    size_t n, cap;
    size_t next_arr;
};

static bool number_marker(const json_t *v, const char **text) {
    if (!json_is_object(v) || json_object_size(v) != 1)
        return false;
    const json_t *t = json_object_get(v, EVB_REF_NUMBER_KEY);
    if (!json_is_string(t))
        return false;
    *text = json_string_value(t);
    return true;
}

static ref_leaf *add_leaf(evb_ref_event_t *e, const char *path,
                          const ref_pos *pos, size_t npos) {
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 16;
        e->leaves = xrealloc(e->leaves, e->cap * sizeof *e->leaves);
    }
    ref_leaf *l = &e->leaves[e->n++];
    memset(l, 0, sizeof *l);
    l->path = xstrdup(path);
    l->npos = npos;
    l->pos = xmalloc(npos * sizeof *pos);
    if (npos)
        memcpy(l->pos, pos, npos * sizeof *pos);
    return l;
}

static void flatten(evb_ref_event_t *e, const json_t *v, const char *path,
                    bool root, const ref_pos *pos, size_t npos) {
    const char *numtext;
    if (!root && number_marker(v, &numtext)) {
        ref_leaf *l = add_leaf(e, path, pos, npos);
        l->kind = LV_NUM;
        /* an event number stands for its nearest double; one outside the
         * double range is present but equals nothing */
        l->num = strtod(numtext, NULL);
        l->num_ok = isfinite(l->num);
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)v, key, child) {
            char *p = join_path(path, root, key);
            flatten(e, child, p, false, pos, npos);
            free(p);
        }
        return;
    }
    case JSON_ARRAY: {
        size_t id = e->next_arr++;
        ref_pos *np = xmalloc((npos + 1) * sizeof *np);
        if (npos)
            memcpy(np, pos, npos * sizeof *np);
        for (size_t i = 0; i < json_array_size(v); i++) {
            np[npos].arr = id;
            np[npos].idx = i;
            flatten(e, json_array_get(v, i), path, false, np, npos + 1);
        }
        free(np);
        return;
    }
    case JSON_STRING: {
        ref_leaf *l = add_leaf(e, path, pos, npos);
        l->kind = LV_STR;
        l->str = json_string_value(v);
        l->len = json_string_length(v);
        return;
    }
    case JSON_INTEGER:
    case JSON_REAL: {
        ref_leaf *l = add_leaf(e, path, pos, npos);
        l->kind = LV_NUM;
        l->num = json_number_value(v);
        l->num_ok = isfinite(l->num);
        return;
    }
    case JSON_TRUE: add_leaf(e, path, pos, npos)->kind = LV_TRUE; return;
    case JSON_FALSE: add_leaf(e, path, pos, npos)->kind = LV_FALSE; return;
    case JSON_NULL: add_leaf(e, path, pos, npos)->kind = LV_NULL; return;
    }
}

evb_ref_event_t *evb_ref_event_new(const json_t *event) {
    evb_ref_event_t *e = xmalloc(sizeof *e);
    memset(e, 0, sizeof *e);
    if (json_is_object(event))
        flatten(e, event, "", true, NULL, 0);
    return e;
}

void evb_ref_event_free(evb_ref_event_t *e) {
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++) {
        free(e->leaves[i].path);
        free(e->leaves[i].pos);
    }
    free(e->leaves);
    free(e);
}

size_t evb_ref_event_leaves(const evb_ref_event_t *e) {
    return e->n;
}

/* ---- pattern expansion -------------------------------------------------- */

typedef struct {
    char *path;
    const json_t *values; /* the leaf array (borrowed) */
} ref_field;

typedef struct {
    ref_field *f;
    size_t n;
} ref_alt;

typedef struct {
    ref_alt *a;
    size_t n;
} alt_list;

struct evb_ref_pattern {
    alt_list alts;
};

static void alt_free(ref_alt *a) {
    for (size_t i = 0; i < a->n; i++)
        free(a->f[i].path);
    free(a->f);
}

static void alts_free(alt_list *l) {
    for (size_t i = 0; i < l->n; i++)
        alt_free(&l->a[i]);
    free(l->a);
    l->a = NULL;
    l->n = 0;
}

static void alts_push(alt_list *l, ref_alt a) {
    l->a = xrealloc(l->a, (l->n + 1) * sizeof *l->a);
    l->a[l->n++] = a;
}

/* Every alternative of x joined with every alternative of y (AND). */
static alt_list alts_cross(const alt_list *x, const alt_list *y) {
    alt_list r = {NULL, 0};
    for (size_t i = 0; i < x->n; i++)
        for (size_t j = 0; j < y->n; j++) {
            ref_alt a;
            a.n = x->a[i].n + y->a[j].n;
            a.f = xmalloc(a.n * sizeof *a.f);
            for (size_t k = 0; k < x->a[i].n; k++) {
                a.f[k].path = xstrdup(x->a[i].f[k].path);
                a.f[k].values = x->a[i].f[k].values;
            }
            for (size_t k = 0; k < y->a[j].n; k++) {
                a.f[x->a[i].n + k].path = xstrdup(y->a[j].f[k].path);
                a.f[x->a[i].n + k].values = y->a[j].f[k].values;
            }
            alts_push(&r, a);
        }
    return r;
}

/* "$or" is $or only when its value is an array whose elements are all
 * objects (validation guarantees at least two of them). */
static bool is_or(const char *key, const json_t *v) {
    if (strcmp(key, "$or") != 0 || !json_is_array(v) || json_array_size(v) == 0)
        return false;
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!json_is_object(json_array_get(v, i)))
            return false;
    return true;
}

/* The alternatives of one pattern object at path (root: no prefix). */
static alt_list expand(const json_t *obj, const char *path, bool root) {
    alt_list acc = {NULL, 0};
    alts_push(&acc, (ref_alt){NULL, 0}); /* one empty alternative */
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        alt_list part = {NULL, 0};
        if (is_or(key, v)) {
            /* the rest of this object AND (any one of the listed objects) */
            for (size_t i = 0; i < json_array_size(v); i++) {
                alt_list sub = expand(json_array_get(v, i), path, root);
                for (size_t j = 0; j < sub.n; j++)
                    alts_push(&part, sub.a[j]);
                free(sub.a);
            }
        } else if (json_is_object(v)) {
            char *p = join_path(path, root, key);
            part = expand(v, p, false);
            free(p);
        } else {
            ref_alt a;
            a.n = 1;
            a.f = xmalloc(sizeof *a.f);
            a.f[0].path = join_path(path, root, key);
            a.f[0].values = v;
            alts_push(&part, a);
        }
        alt_list next = alts_cross(&acc, &part);
        alts_free(&acc);
        alts_free(&part);
        acc = next;
    }
    return acc;
}

evb_ref_pattern_t *evb_ref_pattern_new(const json_t *pattern) {
    evb_ref_pattern_t *p = xmalloc(sizeof *p);
    p->alts = expand(pattern, "", true);
    return p;
}

void evb_ref_pattern_free(evb_ref_pattern_t *p) {
    if (!p)
        return;
    alts_free(&p->alts);
    free(p);
}

size_t evb_ref_pattern_alternatives(const evb_ref_pattern_t *p) {
    return p->alts.n;
}

bool evb_ref_pattern_fields_unique(const evb_ref_pattern_t *p) {
    for (size_t i = 0; i < p->alts.n; i++) {
        const ref_alt *a = &p->alts.a[i];
        for (size_t j = 0; j < a->n; j++)
            for (size_t k = j + 1; k < a->n; k++)
                if (strcmp(a->f[j].path, a->f[k].path) == 0)
                    return false;
    }
    return true;
}

/* ---- matching one value against one leaf -------------------------------- */

static bool is_str(const ref_leaf *l) {
    return l->kind == LV_STR;
}

/* Typed exact equality of a pattern scalar and a leaf. */
static bool exact_eq(const json_t *m, const ref_leaf *l) {
    switch (json_typeof(m)) {
    case JSON_STRING:
        return l->kind == LV_STR && l->len == json_string_length(m) &&
               memcmp(l->str, json_string_value(m), l->len) == 0;
    case JSON_INTEGER:
    case JSON_REAL:
        return l->kind == LV_NUM && l->num_ok && l->num == json_number_value(m);
    case JSON_TRUE: return l->kind == LV_TRUE;
    case JSON_FALSE: return l->kind == LV_FALSE;
    case JSON_NULL: return l->kind == LV_NULL;
    default: return false;
    }
}

static bool starts_with(const char *s, size_t n, const char *p, size_t pn) {
    return pn <= n && memcmp(s, p, pn) == 0;
}

static bool ends_with(const char *s, size_t n, const char *p, size_t pn) {
    return pn <= n && memcmp(s + n - pn, p, pn) == 0;
}

/* mode: 'p' prefix, 's' suffix, 'e' equal; fold: ignore case. */
static bool str_cmp(const ref_leaf *l, const json_t *pat, char mode,
                    bool fold) {
    if (!is_str(l))
        return false;
    const char *s = l->str, *p = json_string_value(pat);
    size_t n = l->len, pn = json_string_length(pat);
    char *fs = NULL, *fp = NULL;
    if (fold) {
        fs = evb_ref_fold(s, n, &n);
        fp = evb_ref_fold(p, pn, &pn);
        s = fs;
        p = fp;
    }
    bool r = mode == 'p'   ? starts_with(s, n, p, pn)
             : mode == 's' ? ends_with(s, n, p, pn)
                           : (n == pn && memcmp(s, p, n) == 0);
    free(fs);
    free(fp);
    return r;
}

/* Wildcard: '*' is any run of bytes, '\x' is the literal x. */
static bool wc(const char *p, const char *pend, const char *s,
               const char *send) {
    while (p < pend) {
        if (*p == '*') {
            for (const char *t = s; t <= send; t++)
                if (wc(p + 1, pend, t, send))
                    return true;
            return false;
        }
        char c = *p;
        if (c == '\\' && p + 1 < pend)
            c = *++p;
        if (s == send || *s != c)
            return false;
        p++;
        s++;
    }
    return s == send;
}

static bool wildcard(const ref_leaf *l, const json_t *pat) {
    if (!is_str(l))
        return false;
    const char *p = json_string_value(pat);
    return wc(p, p + json_string_length(pat), l->str, l->str + l->len);
}

static bool cidr(const ref_leaf *l, const json_t *pat) {
    if (!is_str(l) || l->len >= 64 || memchr(l->str, '\0', l->len))
        return false;
    char range[128], addr[64];
    snprintf(range, sizeof range, "%s", json_string_value(pat));
    char *slash = strchr(range, '/');
    if (!slash)
        return false;
    *slash = '\0';
    int bits = atoi(slash + 1);
    unsigned char net[16], ip[16];
    int fam = AF_INET;
    if (inet_pton(AF_INET, range, net) != 1) {
        fam = AF_INET6;
        if (inet_pton(AF_INET6, range, net) != 1)
            return false;
    }
    memcpy(addr, l->str, l->len);
    addr[l->len] = '\0';
    if (inet_pton(fam, addr, ip) != 1)
        return false;
    for (int b = 0; b < bits; b++) {
        int mask = 0x80 >> (b % 8);
        if ((net[b / 8] & mask) != (ip[b / 8] & mask))
            return false;
    }
    return true;
}

static bool numeric(const ref_leaf *l, const json_t *arr) {
    if (l->kind != LV_NUM || !l->num_ok)
        return false;
    double x = l->num;
    for (size_t i = 0; i + 1 < json_array_size(arr); i += 2) {
        const char *op = json_string_value(json_array_get(arr, i));
        double v = json_number_value(json_array_get(arr, i + 1));
        bool ok = strcmp(op, "=") == 0    ? x == v
                  : strcmp(op, "<") == 0  ? x < v
                  : strcmp(op, "<=") == 0 ? x <= v
                  : strcmp(op, ">") == 0  ? x > v
                  : strcmp(op, ">=") == 0 ? x >= v
                                          : false;
        if (!ok)
            return false;
    }
    return true;
}

/* anything-but {"prefix"|"suffix"|"equals-ignore-case"|"wildcard": s or
 * [s, ...]}: a leaf that is not a string matching any of them. */
static bool anything_but_op(const ref_leaf *l, const char *op,
                            const json_t *arg) {
    size_t n = json_is_array(arg) ? json_array_size(arg) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_is_array(arg) ? json_array_get(arg, i) : arg;
        bool hit = strcmp(op, "prefix") == 0   ? str_cmp(l, s, 'p', false)
                   : strcmp(op, "suffix") == 0 ? str_cmp(l, s, 's', false)
                   : strcmp(op, "equals-ignore-case") == 0
                       ? str_cmp(l, s, 'e', true)
                       : wildcard(l, s);
        if (hit)
            return false;
    }
    return true;
}

static bool anything_but(const ref_leaf *l, const json_t *arg) {
    if (json_is_object(arg)) {
        const char *op = json_object_iter_key(json_object_iter((json_t *)arg));
        return anything_but_op(l, op, json_object_get(arg, op));
    }
    if (json_is_array(arg)) {
        for (size_t i = 0; i < json_array_size(arg); i++)
            if (exact_eq(json_array_get(arg, i), l))
                return false;
        return true;
    }
    return !exact_eq(arg, l);
}

/* One element of a leaf array against one leaf. */
static bool value_matches(const json_t *m, const ref_leaf *l) {
    if (!json_is_object(m))
        return exact_eq(m, l);
    const char *op = json_object_iter_key(json_object_iter((json_t *)m));
    const json_t *arg = json_object_get(m, op);
    if (strcmp(op, "prefix") == 0 || strcmp(op, "suffix") == 0) {
        char mode = op[0] == 'p' ? 'p' : 's';
        if (json_is_object(arg))
            return str_cmp(l, json_object_get(arg, "equals-ignore-case"), mode,
                           true);
        return str_cmp(l, arg, mode, false);
    }
    if (strcmp(op, "equals-ignore-case") == 0)
        return str_cmp(l, arg, 'e', true);
    if (strcmp(op, "wildcard") == 0)
        return wildcard(l, arg);
    if (strcmp(op, "cidr") == 0)
        return cidr(l, arg);
    if (strcmp(op, "numeric") == 0)
        return numeric(l, arg);
    if (strcmp(op, "exists") == 0)
        return json_is_true(arg); /* a leaf exists; exists:false fails */
    if (strcmp(op, "anything-but") == 0)
        return anything_but(l, arg);
    return false;
}

static bool field_matches_leaf(const ref_field *f, const ref_leaf *l) {
    for (size_t i = 0; i < json_array_size(f->values); i++)
        if (value_matches(json_array_get(f->values, i), l))
            return true;
    return false;
}

static bool has_exists_false(const ref_field *f) {
    for (size_t i = 0; i < json_array_size(f->values); i++) {
        const json_t *m = json_array_get(f->values, i);
        if (json_is_object(m) && json_is_false(json_object_get(m, "exists")))
            return true;
    }
    return false;
}

/* ---- array-consistent search ------------------------------------------- */

/* Two leaves conflict when they sit in the same array at different
 * indexes. */
static bool conflict(const ref_leaf *a, const ref_leaf *b) {
    for (size_t i = 0; i < a->npos; i++)
        for (size_t j = 0; j < b->npos; j++)
            if (a->pos[i].arr == b->pos[j].arr &&
                a->pos[i].idx != b->pos[j].idx)
                return true;
    return false;
}

typedef struct {
    size_t nfields;
    const ref_leaf ***cand; /* per field: matching leaves */
    size_t *ncand;
    bool *absent_ok; /* per field: satisfied without a leaf */
    const ref_leaf **chosen;
} search_t;

static bool search(search_t *s, size_t i) {
    if (i == s->nfields)
        return true;
    if (s->absent_ok[i]) {
        s->chosen[i] = NULL;
        if (search(s, i + 1))
            return true;
    }
    for (size_t c = 0; c < s->ncand[i]; c++) {
        const ref_leaf *l = s->cand[i][c];
        bool ok = true;
        for (size_t j = 0; j < i && ok; j++)
            if (s->chosen[j] && conflict(s->chosen[j], l))
                ok = false;
        if (!ok)
            continue;
        s->chosen[i] = l;
        if (search(s, i + 1))
            return true;
    }
    return false;
}

static bool alt_matches(const ref_alt *a, const evb_ref_event_t *e) {
    search_t s;
    s.nfields = a->n;
    s.cand = xmalloc(a->n * sizeof *s.cand);
    s.ncand = xmalloc(a->n * sizeof *s.ncand);
    s.absent_ok = xmalloc(a->n * sizeof *s.absent_ok);
    s.chosen = xmalloc(a->n * sizeof *s.chosen);
    bool possible = true;
    for (size_t i = 0; i < a->n; i++) {
        s.cand[i] = xmalloc(e->n * sizeof **s.cand);
        s.ncand[i] = 0;
        bool any_leaf = false;
        for (size_t k = 0; k < e->n; k++) {
            const ref_leaf *l = &e->leaves[k];
            if (strcmp(l->path, a->f[i].path) != 0)
                continue;
            any_leaf = true;
            if (field_matches_leaf(&a->f[i], l))
                s.cand[i][s.ncand[i]++] = l;
        }
        s.absent_ok[i] = !any_leaf && has_exists_false(&a->f[i]);
        if (!s.absent_ok[i] && s.ncand[i] == 0)
            possible = false;
    }
    bool r = possible && search(&s, 0);
    for (size_t i = 0; i < a->n; i++)
        free(s.cand[i]);
    free(s.cand);
    free(s.ncand);
    free(s.absent_ok);
    free(s.chosen);
    return r;
}

bool evb_ref_match_prepared(const evb_ref_pattern_t *p,
                            const evb_ref_event_t *e) {
    for (size_t i = 0; i < p->alts.n; i++)
        if (alt_matches(&p->alts.a[i], e))
            return true;
    return false;
}

bool evb_ref_match(const json_t *pattern, const json_t *event) {
    evb_ref_pattern_t *p = evb_ref_pattern_new(pattern);
    evb_ref_event_t *e = evb_ref_event_new(event);
    bool r = evb_ref_match_prepared(p, e);
    evb_ref_pattern_free(p);
    evb_ref_event_free(e);
    return r;
}
