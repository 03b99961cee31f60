/*
 * matcher_internal.h: the compiled matcher's layout, shared by compile.c
 * (which builds it) and match.c (which runs events through it).
 */
#ifndef EVB_MATCHER_INTERNAL_H
#define EVB_MATCHER_INTERNAL_H

#include <stdatomic.h>

#include "pattern_internal.h"

/* A rule as the rule set holds it: reference counted so that matchers
 * built from it can outlive its removal from the set. */
typedef struct evb__rule {
    atomic_int refcnt;
    char *name;
    evb_arena_t arena; /* owns name, text and the parsed form */
    evb__parsed_t parsed;
} evb__rule_t;

void evb__rule_unref(evb__rule_t *r);

/* string -> posting list (uint32 ids) */
typedef struct evb__sent {
    uint64_t h;
    const char *k;
    uint32_t klen;
    uint32_t n;          /* postings */
    const uint32_t *ids; /* NULL when the slot is empty */
} evb__sent_t;

typedef struct evb__smap {
    evb__sent_t *tab; /* NULL when the map is empty */
    uint32_t mask;
    uint32_t *lens; /* distinct key lengths, ascending (affix maps) */
    uint32_t nlens;
} evb__smap_t;

/* A test that needs checking against the value (wildcard, cidr). */
typedef struct evb__vref {
    uint32_t id; /* condition (positive lists) or anything-but index */
    const evb__test_t *test;
    const evb__wildcard_t *wc; /* for wildcards */
} evb__vref_t;

/* Numeric ranges: elementary regions between sorted distinct end points;
 * region r lists the conditions whose range covers it. */
typedef struct evb__ranges {
    double *pts;
    uint32_t npts;
    uint32_t *off; /* 2*npts+2 offsets into ids */
    uint32_t *ids;
    evb__vref_t *linear; /* fallback when the region table would be huge */
    uint32_t nlinear;
} evb__ranges_t;

typedef struct evb__field {
    const char *path;
    evb__smap_t exact, eic, prefix, prefix_eic, suffix, suffix_eic;
    evb__smap_t num;                  /* key: the double's 8 bytes */
    evb__smap_t wc_prefix, wc_suffix; /* ids index wc[] */
    evb__vref_t *wc;                  /* all wildcard tests of the field */
    uint32_t nwc;
    uint32_t
        *wc_other; /* wc[] entries with neither literal prefix nor suffix */
    uint32_t nwc_other;
    evb__vref_t *cidr;
    uint32_t ncidr;
    evb__ranges_t ranges;
    uint32_t *null_ids, *true_ids, *false_ids, *exists_ids;
    uint32_t nnull, ntrue, nfalse, nexists;
    /* anything-but: ab_cond[i] is the condition of the field's i-th
     * anything-but test; the maps below list the tests a value excludes */
    uint32_t *ab_cond;
    uint32_t nab;
    evb__smap_t ab_exact, ab_eic, ab_prefix, ab_suffix, ab_num;
    evb__vref_t *ab_wc;
    uint32_t nab_wc;
    bool need_fold; /* some test compares case-insensitively */
    bool need_num;  /* some test compares numbers */
    bool string_tests, number_tests;
} evb__field_t;

/* Path trie over dot-separated segments. */
typedef struct evb__pnode evb__pnode_t;
typedef struct evb__pchild {
    uint64_t h;
    const char *seg;
    uint32_t len;
    evb__pnode_t *node;
} evb__pchild_t;

struct evb__pnode {
    evb__pchild_t *child; /* open-addressed table of (mask+1) slots */
    uint32_t mask;
    uint32_t nchild;
    int32_t field; /* -1 if no condition names this exact path */
};

struct evb_matcher {
    atomic_int refcnt;
    uint64_t id; /* unique per process: contexts size themselves by it */
    evb_arena_t arena;
    evb__rule_t **rules;
    size_t nrules;
    const char **names;
    evb__pnode_t *root;
    evb__field_t *fields;
    uint32_t nfields;
    /* conditions, deduplicated across rules by path and source text */
    uint32_t ncond;
    uint32_t *cond_field;
    const evb__cond_t **cond_def;
    uint32_t *anchor_off;  /* ncond+1 offsets into anchor_subs */
    uint32_t *anchor_subs; /* sub-rules that a condition triggers */
    /* sub-rules */
    uint32_t nsub;
    uint32_t *sub_rule;
    uint32_t *sub_off; /* nsub+1 offsets into sub_conds */
    uint32_t *sub_conds;
    uint32_t *always; /* sub-rules with no triggering condition */
    uint32_t nalways;
    uint32_t max_ab;
    uint32_t max_depth;
    size_t max_event_len; /* 0: no limit */
};

/* Build a matcher over rules (each gets a reference). NULL on no memory. */
evb_matcher_t *evb__matcher_build(evb__rule_t *const *rules, size_t n,
                                  const evb_pattern_limits_t *limits);

/* Trace for explain: first leaf seen per field. */
typedef struct evb__trace {
    const char **first_text; /* per field, NULL if none */
    size_t *first_len;
    evb_json_type_t *first_type;
    bool inconsistent; /* a sub-rule failed only on array consistency */
} evb__trace_t;

evb_err_t evb__matcher_match_traced(const evb_matcher_t *m,
                                    evb_match_ctx_t *ctx, const char *event,
                                    size_t len, const char *const **names,
                                    size_t *count, evb__trace_t *trace,
                                    char *errstr, size_t errstr_size);

/* The conditions satisfied in the last match of ctx (explain). */
bool evb__ctx_cond_hit(const evb_match_ctx_t *ctx, uint32_t cond);
bool evb__ctx_field_seen(const evb_match_ctx_t *ctx, uint32_t field);

#endif
