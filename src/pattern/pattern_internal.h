/*
 * pattern_internal.h: what the files of the pattern module share.
 *
 * parse.c turns pattern text into a list of sub-rules (conjunctions of
 * field conditions, one per $or alternative); compile.c indexes the
 * conditions of many rules by field; match.c runs events through the
 * index; values.c holds the value-level primitives (numbers, case folding,
 * wildcards, CIDR) that the parser, the compiler and the matcher share.
 */
#ifndef EVB_PATTERN_INTERNAL_H
#define EVB_PATTERN_INTERNAL_H

#include "../json/json.h"
#include "pattern.h"

typedef enum evb__test_kind {
    T_EXACT_STR,
    T_EXACT_NUM,
    T_NULL,
    T_TRUE,
    T_FALSE,
    T_PREFIX,
    T_PREFIX_EIC,
    T_SUFFIX,
    T_SUFFIX_EIC,
    T_EIC,
    T_WILDCARD,
    T_CIDR,
    T_NUMERIC,
    T_EXISTS_TRUE,
    T_EXISTS_FALSE,
    T_AB_STR,
    T_AB_NUM,
    T_AB_PREFIX,
    T_AB_SUFFIX,
    T_AB_EIC,
    T_AB_WILDCARD,
} evb__test_kind_t;

typedef struct evb__str {
    const char *s;
    size_t len;
} evb__str_t;

/* A compiled wildcard: literal segments between stars. */
typedef struct evb__wildcard {
    evb__str_t *segs;
    size_t nsegs;
    bool lead_star, trail_star; /* pattern starts / ends with '*' */
} evb__wildcard_t;

typedef struct evb__test {
    evb__test_kind_t kind;
    evb__str_t str; /* exact/prefix/suffix (folded for *_EIC kinds) */
    double num;     /* T_EXACT_NUM */
    double lo, hi;  /* T_NUMERIC; -inf/+inf when absent */
    bool lo_incl, hi_incl;
    uint8_t addr[16]; /* T_CIDR: network, masked */
    int family;       /* 4 or 6 */
    int bits;
    evb__wildcard_t wc; /* T_WILDCARD */
    /* anything-but lists (T_AB_*): strings (folded for T_AB_EIC) or
     * numbers; wildcards for T_AB_WILDCARD */
    evb__str_t *strs;
    size_t nstrs;
    double *nums;
    size_t nnums;
    evb__wildcard_t *wcs;
} evb__test_t;

typedef struct evb__cond {
    const char *path; /* dot-joined field path */
    size_t path_len;
    evb__test_t *tests; /* ORed */
    size_t ntests;
    bool has_exists_false; /* satisfied too when the field has no leaf */
    bool positive;         /* some test needs a leaf (not only exists:false) */
    const evb_jval_t *src; /* the leaf array in the pattern (explain) */
} evb__cond_t;

typedef struct evb__subrule {
    evb__cond_t *conds;
    size_t n;
} evb__subrule_t;

typedef struct evb__parsed {
    evb__subrule_t *subs;
    size_t nsubs;
} evb__parsed_t;

/* Parse and validate; everything is allocated from a. On error returns
 * EVB_ERR_INVALID_EVENT_PATTERN with the full AWS message in errstr. */
evb_err_t evb__pattern_parse(evb_arena_t *a, const char *text, size_t len,
                             const evb_pattern_limits_t *limits,
                             evb__parsed_t *out, char *errstr,
                             size_t errstr_size);

/* ---- values.c ------------------------------------------------------------ */

/* Parse JSON number text to a double. Returns 0 and sets *out when the
 * number is finite; -1 otherwise. Fast for short numbers. -0 becomes 0. */
int evb__num_value(const char *text, size_t len, double *out);

/* Pattern rule: 0 if the number is representable (see the semantics doc). */
int evb__num_representable(const char *text, size_t len, double *out);

/* Case-fold s (UTF-8) into out (capacity >= 2*len+1). Returns the length. */
size_t evb__fold(const char *s, size_t len, char *out);

/* Validate a wildcard value and compile it. Returns 0, or -1 with the
 * reason (without the "Event pattern is not valid" prefix) in err. */
int evb__wildcard_compile(evb_arena_t *a, const char *s, size_t len,
                          evb__wildcard_t *out, char *err, size_t errsz);
bool evb__wildcard_match(const evb__wildcard_t *w, const char *s, size_t len);

/* Parse a CIDR value into t (addr, family, bits). Returns 0, or -1 with
 * the reason in err. */
int evb__cidr_parse(const char *s, size_t len, evb__test_t *t, char *err,
                    size_t errsz);
/* Does the string s (an IP address) fall inside t's range? */
bool evb__cidr_match(const evb__test_t *t, const char *s, size_t len);

/* Hash for byte strings (also used by the index). */
static inline uint64_t evb__hash(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull ^ (n * 0x9E3779B97F4A7C15ull);
    while (n >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, s, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    if (n)
        __builtin_memcpy(&w, s, n);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 32;
    h *= 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    return h;
}

#endif
