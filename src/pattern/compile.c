/*
 * compile.c: many rules -> one immutable matcher.
 *
 * Design (predicate indexing with counting; see also match.c):
 *
 * Every rule is parsed into sub-rules (one per $or alternative); each
 * sub-rule is a conjunction of conditions on field paths; each condition
 * is a disjunction of value tests. The matcher indexes every test by its
 * field and kind, so that one leaf value of an event finds all conditions
 * it satisfies with a constant number of hash probes, independent of how
 * many rules there are:
 *
 *   exact strings, exact numbers   one hash probe (numbers by double bits)
 *   equals-ignore-case             one probe with the folded value
 *   prefix / suffix (+ignore-case) one probe per distinct affix length
 *   numeric ranges                 binary search over the sorted end
 *                                  points; each elementary region lists
 *                                  the conditions that cover it
 *   exists                         a list per field
 *   anything-but                   the excluded values are indexed like
 *                                  the positive ones; every other
 *                                  anything-but test of the field matches
 *                                  (work proportional to matches)
 *   wildcard                       indexed by literal prefix or suffix,
 *                                  then verified; only wildcards that
 *                                  start and end with '*' are scanned
 *   cidr                           scanned (rare)
 *
 * Fields are found through a trie of dot-separated key segments, which
 * both gives Ruler's dot-joining behaviour and lets the event scanner
 * skip every subtree that no rule mentions.
 *
 * Identical conditions (same path, same source text) are shared by all
 * the sub-rules that use them, so a popular condition such as
 * "ODD_EVEN":["O"] is marked once per event however many rules name it.
 * Each sub-rule is triggered by one anchor condition, its most selective
 * one (the least shared, preferring exact-style tests over numeric ranges
 * and both over exists and anything-but); only sub-rules whose anchor was
 * satisfied are verified, by reading the marks of their other conditions.
 * Sub-rules made only of conditions that absence satisfies (exists:false)
 * are verified for every event.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matcher_internal.h"

/* ---- growable vectors (heap, build time only) ------------------------ */

/* Make room for one more element in a heap vector. */
static int vec_grow(void **items, size_t *cap, size_t n, size_t elem) {
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *ni = realloc(*items, ncap * elem);
    if (!ni)
        return -1;
    *items = ni;
    *cap = ncap;
    return 0;
}

#define VEC_PUSH(vec, item)                                                    \
    (vec_grow((void **)&(vec)->v, &(vec)->cap, (vec)->n, sizeof *(vec)->v)     \
         ? -1                                                                  \
         : ((vec)->v[(vec)->n++] = (item), 0))

typedef struct kv {
    const char *k;
    uint32_t klen;
    uint32_t id;
} kv_t;

typedef struct kvvec {
    kv_t *v;
    size_t n, cap;
} kvvec_t;

static int kv_push(kvvec_t *vec, const char *k, size_t klen, uint32_t id) {
    return VEC_PUSH(vec, ((kv_t){k, (uint32_t)klen, id}));
}

typedef struct u32vec {
    uint32_t *v;
    size_t n, cap;
} u32vec_t;

static int u32_push(u32vec_t *vec, uint32_t x) {
    return VEC_PUSH(vec, x);
}

typedef struct vrefvec {
    evb__vref_t *v;
    size_t n, cap;
} vrefvec_t;

static int vref_push(vrefvec_t *vec, evb__vref_t r) {
    return VEC_PUSH(vec, r);
}

/* Everything a field collects before it is frozen into the arena. */
typedef struct fbuild {
    kvvec_t exact, eic, prefix, prefix_eic, suffix, suffix_eic, num;
    kvvec_t wc_prefix, wc_suffix;
    kvvec_t ab_exact, ab_eic, ab_prefix, ab_suffix, ab_num;
    vrefvec_t wc, cidr, ranges, ab_wc;
    u32vec_t wc_other, nulls, trues, falses, exists, ab_cond;
    bool need_fold, need_num, string_tests, number_tests;
} fbuild_t;

static void fbuild_free(fbuild_t *b) {
    kvvec_t *kvs[] = {&b->exact,     &b->eic,        &b->prefix, &b->prefix_eic,
                      &b->suffix,    &b->suffix_eic, &b->num,    &b->wc_prefix,
                      &b->wc_suffix, &b->ab_exact,   &b->ab_eic, &b->ab_prefix,
                      &b->ab_suffix, &b->ab_num};
    for (size_t i = 0; i < EVB_ARRAY_LEN(kvs); i++)
        free(kvs[i]->v);
    free(b->wc.v);
    free(b->cidr.v);
    free(b->ranges.v);
    free(b->ab_wc.v);
    u32vec_t *us[] = {&b->wc_other, &b->nulls,  &b->trues,
                      &b->falses,   &b->exists, &b->ab_cond};
    for (size_t i = 0; i < EVB_ARRAY_LEN(us); i++)
        free(us[i]->v);
}

/* ---- freezing ------------------------------------------------------------ */

static int kv_cmp(const void *a, const void *b) {
    const kv_t *x = a, *y = b;
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    int c = memcmp(x->k, y->k, x->klen);
    if (c)
        return c;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int smap_freeze(evb_arena_t *a, kvvec_t *in, evb__smap_t *out,
                       bool want_lens) {
    memset(out, 0, sizeof *out);
    if (in->n == 0)
        return 0;
    qsort(in->v, in->n, sizeof *in->v, kv_cmp);
    size_t groups = 0, nlens = 0;
    for (size_t i = 0; i < in->n; i++) {
        if (i == 0 || kv_cmp(&(kv_t){in->v[i].k, in->v[i].klen, 0},
                             &(kv_t){in->v[i - 1].k, in->v[i - 1].klen, 0}))
            groups++;
        if (i == 0 || in->v[i].klen != in->v[i - 1].klen)
            nlens++;
    }
    uint32_t size = 8;
    while (size < groups * 2)
        size *= 2;
    out->tab = evb_arena_calloc(a, size, sizeof *out->tab);
    uint32_t *ids = evb_arena_alloc(a, in->n * sizeof *ids);
    if (!out->tab || !ids)
        return -1;
    out->mask = size - 1;
    if (want_lens) {
        out->lens = evb_arena_alloc(a, nlens * sizeof *out->lens);
        if (!out->lens)
            return -1;
    }
    size_t i = 0, k = 0;
    while (i < in->n) {
        size_t j = i;
        uint32_t *start = ids + k;
        uint32_t last = UINT32_MAX;
        while (j < in->n && in->v[j].klen == in->v[i].klen &&
               memcmp(in->v[j].k, in->v[i].k, in->v[i].klen) == 0) {
            if (in->v[j].id != last) /* dedupe */
                ids[k++] = last = in->v[j].id;
            j++;
        }
        uint64_t h = evb__hash(in->v[i].k, in->v[i].klen);
        uint32_t s = (uint32_t)h & out->mask;
        while (out->tab[s].ids)
            s = (s + 1) & out->mask;
        out->tab[s] = (evb__sent_t){h, in->v[i].k, in->v[i].klen,
                                    (uint32_t)(ids + k - start), start};
        if (want_lens &&
            (out->nlens == 0 || out->lens[out->nlens - 1] != in->v[i].klen))
            out->lens[out->nlens++] = in->v[i].klen;
        i = j;
    }
    return 0;
}

static uint32_t *u32_freeze(evb_arena_t *a, const u32vec_t *v, uint32_t *n) {
    *n = (uint32_t)v->n;
    if (!v->n)
        return NULL;
    uint32_t *p = evb_arena_alloc(a, v->n * sizeof *p);
    if (p)
        memcpy(p, v->v, v->n * sizeof *p);
    return p;
}

static evb__vref_t *vref_freeze(evb_arena_t *a, const vrefvec_t *v,
                                uint32_t *n) {
    *n = (uint32_t)v->n;
    if (!v->n)
        return NULL;
    evb__vref_t *p = evb_arena_alloc(a, v->n * sizeof *p);
    if (p)
        memcpy(p, v->v, v->n * sizeof *p);
    return p;
}

static int dbl_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* index of p in pts (present by construction) */
static uint32_t pt_index(const double *pts, uint32_t n, double p) {
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (pts[mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#define RANGE_TABLE_MAX (8u * 1024 * 1024)

static int ranges_freeze(evb_arena_t *a, const vrefvec_t *in,
                         evb__ranges_t *out) {
    memset(out, 0, sizeof *out);
    if (!in->n)
        return 0;
    double *pts = malloc(2 * in->n * sizeof *pts);
    if (!pts)
        return -1;
    uint32_t np = 0;
    for (size_t i = 0; i < in->n; i++) {
        const evb__test_t *t = in->v[i].test;
        if (isfinite(t->lo))
            pts[np++] = t->lo;
        if (isfinite(t->hi))
            pts[np++] = t->hi;
    }
    qsort(pts, np, sizeof *pts, dbl_cmp);
    uint32_t u = 0;
    for (uint32_t i = 0; i < np; i++)
        if (u == 0 || pts[u - 1] != pts[i])
            pts[u++] = pts[i];
    np = u;
    uint32_t nreg = 2 * np + 1;
    /* region span of each test; total size decides table vs linear */
    size_t total = 0;
    uint32_t *span = malloc(2 * in->n * sizeof *span);
    if (!span) {
        free(pts);
        return -1;
    }
    for (size_t i = 0; i < in->n; i++) {
        const evb__test_t *t = in->v[i].test;
        uint32_t rlo = 0, rhi = nreg - 1;
        if (isfinite(t->lo)) {
            uint32_t k = pt_index(pts, np, t->lo);
            rlo = t->lo_incl ? 2 * k + 1 : 2 * k + 2;
        }
        if (isfinite(t->hi)) {
            uint32_t k = pt_index(pts, np, t->hi);
            rhi = t->hi_incl ? 2 * k + 1 : 2 * k;
        }
        span[2 * i] = rlo;
        span[2 * i + 1] = rhi;
        if (rhi >= rlo)
            total += rhi - rlo + 1;
    }
    int rc = 0;
    if (total > RANGE_TABLE_MAX) {
        out->linear = vref_freeze(a, in, &out->nlinear);
        rc = out->linear ? 0 : -1;
        goto done;
    }
    out->pts = evb_arena_alloc(a, (np ? np : 1) * sizeof *out->pts);
    out->off = evb_arena_calloc(a, nreg + 1, sizeof *out->off);
    out->ids = evb_arena_alloc(a, (total ? total : 1) * sizeof *out->ids);
    if (!out->pts || !out->off || !out->ids) {
        rc = -1;
        goto done;
    }
    memcpy(out->pts, pts, np * sizeof *pts);
    out->npts = np;
    /* counting sort into regions */
    for (size_t i = 0; i < in->n; i++)
        for (uint32_t r = span[2 * i]; r <= span[2 * i + 1] && r < nreg; r++)
            out->off[r + 1]++;
    for (uint32_t r = 0; r < nreg; r++)
        out->off[r + 1] += out->off[r];
    uint32_t *fill = calloc(nreg, sizeof *fill);
    if (!fill) {
        rc = -1;
        goto done;
    }
    for (size_t i = 0; i < in->n; i++)
        for (uint32_t r = span[2 * i]; r <= span[2 * i + 1] && r < nreg; r++)
            out->ids[out->off[r] + fill[r]++] = in->v[i].id;
    free(fill);
done:
    free(pts);
    free(span);
    return rc;
}

/* ---- path trie -------------------------------------------------------------
 */

static evb__pnode_t *pnode_new(evb_arena_t *a) {
    evb__pnode_t *n = evb_arena_calloc(a, 1, sizeof *n);
    if (n)
        n->field = -1;
    return n;
}

/* Children are added at build time into a heap table, then frozen. */
static evb__pnode_t *pnode_child(evb_arena_t *a, evb__pnode_t *n,
                                 const char *seg, size_t len) {
    uint64_t h = evb__hash(seg, len);
    if (n->child) {
        for (uint32_t s = (uint32_t)h & n->mask;; s = (s + 1) & n->mask) {
            evb__pchild_t *c = &n->child[s];
            if (!c->node)
                break;
            if (c->h == h && c->len == len && memcmp(c->seg, seg, len) == 0)
                return c->node;
        }
    }
    /* grow at load 1/2 */
    if (!n->child || (n->nchild + 1) * 2 > n->mask + 1) {
        uint32_t size = n->child ? (n->mask + 1) * 2 : 4;
        evb__pchild_t *nt = evb_arena_calloc(a, size, sizeof *nt);
        if (!nt)
            return NULL;
        for (uint32_t i = 0; n->child && i <= n->mask; i++) {
            evb__pchild_t *c = &n->child[i];
            if (!c->node)
                continue;
            uint32_t s = (uint32_t)c->h & (size - 1);
            while (nt[s].node)
                s = (s + 1) & (size - 1);
            nt[s] = *c;
        }
        n->child = nt;
        n->mask = size - 1;
    }
    evb__pnode_t *child = pnode_new(a);
    char *copy = evb_arena_strndup(a, seg, len);
    if (!child || !copy)
        return NULL;
    uint32_t s = (uint32_t)h & n->mask;
    while (n->child[s].node)
        s = (s + 1) & n->mask;
    n->child[s] = (evb__pchild_t){h, copy, (uint32_t)len, child};
    n->nchild++;
    return child;
}

/* ---- building -------------------------------------------------------------
 */

typedef struct builder {
    evb_matcher_t *m;
    fbuild_t *fb;
    uint32_t nfields, cap_fields;
} builder_t;

static int field_for(builder_t *b, const char *path, size_t len,
                     uint32_t *out) {
    evb_matcher_t *m = b->m;
    evb__pnode_t *n = m->root;
    const char *p = path, *end = path + len;
    for (;;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        const char *segend = dot ? dot : end;
        n = pnode_child(&m->arena, n, p, (size_t)(segend - p));
        if (!n)
            return -1;
        if (!dot)
            break;
        p = dot + 1;
    }
    if (n->field < 0) {
        if (b->nfields == b->cap_fields) {
            uint32_t cap = b->cap_fields ? b->cap_fields * 2 : 16;
            fbuild_t *nf = realloc(b->fb, cap * sizeof *nf);
            if (!nf)
                return -1;
            b->fb = nf;
            b->cap_fields = cap;
        }
        memset(&b->fb[b->nfields], 0, sizeof b->fb[b->nfields]);
        n->field = (int32_t)b->nfields++;
    }
    *out = (uint32_t)n->field;
    return 0;
}

static int add_wc(fbuild_t *f, uint32_t wid, const evb__wildcard_t *w) {
    /* literal prefix (first segment) or literal suffix (last) */
    if (!w->lead_star && w->segs[0].len > 0)
        return kv_push(&f->wc_prefix, w->segs[0].s, w->segs[0].len, wid);
    if (!w->trail_star && w->segs[w->nsegs - 1].len > 0)
        return kv_push(&f->wc_suffix, w->segs[w->nsegs - 1].s,
                       w->segs[w->nsegs - 1].len, wid);
    return u32_push(&f->wc_other, wid);
}

static int add_test(evb_matcher_t *m, fbuild_t *f, uint32_t cid,
                    const evb__test_t *t) {
    int rc = 0;
    switch (t->kind) {
    case T_EXACT_STR:
        f->string_tests = true;
        return kv_push(&f->exact, t->str.s, t->str.len, cid);
    case T_EXACT_NUM: {
        f->need_num = f->number_tests = true;
        double *d = evb_arena_alloc(&m->arena, sizeof *d);
        if (!d)
            return -1;
        *d = t->num;
        return kv_push(&f->num, (const char *)d, sizeof *d, cid);
    }
    case T_NULL: return u32_push(&f->nulls, cid);
    case T_TRUE: return u32_push(&f->trues, cid);
    case T_FALSE: return u32_push(&f->falses, cid);
    case T_PREFIX:
        f->string_tests = true;
        return kv_push(&f->prefix, t->str.s, t->str.len, cid);
    case T_SUFFIX:
        f->string_tests = true;
        return kv_push(&f->suffix, t->str.s, t->str.len, cid);
    case T_PREFIX_EIC:
        f->string_tests = f->need_fold = true;
        return kv_push(&f->prefix_eic, t->str.s, t->str.len, cid);
    case T_SUFFIX_EIC:
        f->string_tests = f->need_fold = true;
        return kv_push(&f->suffix_eic, t->str.s, t->str.len, cid);
    case T_EIC:
        f->string_tests = f->need_fold = true;
        return kv_push(&f->eic, t->str.s, t->str.len, cid);
    case T_WILDCARD:
        f->string_tests = true;
        rc = vref_push(&f->wc, (evb__vref_t){cid, t, &t->wc});
        return rc ? rc : add_wc(f, (uint32_t)f->wc.n - 1, &t->wc);
    case T_CIDR:
        f->string_tests = true;
        return vref_push(&f->cidr, (evb__vref_t){cid, t, NULL});
    case T_NUMERIC:
        f->need_num = f->number_tests = true;
        return vref_push(&f->ranges, (evb__vref_t){cid, t, NULL});
    case T_EXISTS_TRUE: return u32_push(&f->exists, cid);
    case T_EXISTS_FALSE: return 0;
    case T_AB_STR:
    case T_AB_NUM:
    case T_AB_PREFIX:
    case T_AB_SUFFIX:
    case T_AB_EIC:
    case T_AB_WILDCARD: {
        uint32_t ab = (uint32_t)f->ab_cond.n;
        if (u32_push(&f->ab_cond, cid))
            return -1;
        f->string_tests = true;
        for (size_t i = 0; i < t->nstrs && !rc; i++) {
            const evb__str_t *s = &t->strs[i];
            switch (t->kind) {
            case T_AB_STR: rc = kv_push(&f->ab_exact, s->s, s->len, ab); break;
            case T_AB_PREFIX:
                rc = kv_push(&f->ab_prefix, s->s, s->len, ab);
                break;
            case T_AB_SUFFIX:
                rc = kv_push(&f->ab_suffix, s->s, s->len, ab);
                break;
            case T_AB_EIC:
                f->need_fold = true;
                rc = kv_push(&f->ab_eic, s->s, s->len, ab);
                break;
            case T_AB_WILDCARD:
                rc = vref_push(&f->ab_wc, (evb__vref_t){ab, t, &t->wcs[i]});
                break;
            default: break;
            }
        }
        for (size_t i = 0; i < t->nnums && !rc; i++) {
            f->need_num = f->number_tests = true;
            double *d = evb_arena_alloc(&m->arena, sizeof *d);
            if (!d)
                return -1;
            *d = t->nums[i];
            rc = kv_push(&f->ab_num, (const char *)d, sizeof *d, ab);
        }
        return rc;
    }
    }
    return 0;
}

static int freeze_field(evb_arena_t *a, fbuild_t *b, evb__field_t *f) {
    int rc = 0;
    rc |= smap_freeze(a, &b->exact, &f->exact, false);
    rc |= smap_freeze(a, &b->eic, &f->eic, false);
    rc |= smap_freeze(a, &b->num, &f->num, false);
    rc |= smap_freeze(a, &b->prefix, &f->prefix, true);
    rc |= smap_freeze(a, &b->prefix_eic, &f->prefix_eic, true);
    rc |= smap_freeze(a, &b->suffix, &f->suffix, true);
    rc |= smap_freeze(a, &b->suffix_eic, &f->suffix_eic, true);
    rc |= smap_freeze(a, &b->wc_prefix, &f->wc_prefix, true);
    rc |= smap_freeze(a, &b->wc_suffix, &f->wc_suffix, true);
    rc |= smap_freeze(a, &b->ab_exact, &f->ab_exact, false);
    rc |= smap_freeze(a, &b->ab_eic, &f->ab_eic, false);
    rc |= smap_freeze(a, &b->ab_num, &f->ab_num, false);
    rc |= smap_freeze(a, &b->ab_prefix, &f->ab_prefix, true);
    rc |= smap_freeze(a, &b->ab_suffix, &f->ab_suffix, true);
    rc |= ranges_freeze(a, &b->ranges, &f->ranges);
    if (rc)
        return -1;
    f->wc = vref_freeze(a, &b->wc, &f->nwc);
    f->cidr = vref_freeze(a, &b->cidr, &f->ncidr);
    f->ab_wc = vref_freeze(a, &b->ab_wc, &f->nab_wc);
    f->wc_other = u32_freeze(a, &b->wc_other, &f->nwc_other);
    f->null_ids = u32_freeze(a, &b->nulls, &f->nnull);
    f->true_ids = u32_freeze(a, &b->trues, &f->ntrue);
    f->false_ids = u32_freeze(a, &b->falses, &f->nfalse);
    f->exists_ids = u32_freeze(a, &b->exists, &f->nexists);
    f->ab_cond = u32_freeze(a, &b->ab_cond, &f->nab);
    if ((b->wc.n && !f->wc) || (b->cidr.n && !f->cidr) ||
        (b->ab_wc.n && !f->ab_wc) || (b->wc_other.n && !f->wc_other) ||
        (b->nulls.n && !f->null_ids) || (b->trues.n && !f->true_ids) ||
        (b->falses.n && !f->false_ids) || (b->exists.n && !f->exists_ids) ||
        (b->ab_cond.n && !f->ab_cond))
        return -1;
    f->need_fold = b->need_fold;
    f->need_num = b->need_num;
    f->string_tests = b->string_tests;
    f->number_tests = b->number_tests;
    return 0;
}

void evb__rule_unref(evb__rule_t *r) {
    if (r && atomic_fetch_sub(&r->refcnt, 1) == 1) {
        evb_arena_free(&r->arena);
        free(r);
    }
}

static void matcher_free(evb_matcher_t *m) {
    for (size_t i = 0; i < m->nrules; i++)
        evb__rule_unref(m->rules[i]);
    free(m->rules);
    evb_arena_free(&m->arena);
    free(m);
}

evb_matcher_t *evb__matcher_build(evb__rule_t *const *rules, size_t n,
                                  const evb_pattern_limits_t *limits) {
    evb_matcher_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    static atomic_uint_fast64_t next_id = 1;
    atomic_init(&m->refcnt, 1);
    m->id = atomic_fetch_add(&next_id, 1);
    evb_arena_init(&m->arena, 64 * 1024);
    m->max_depth = limits->max_event_depth ? limits->max_event_depth : 1000;
    m->max_event_len = limits->max_event_len;
    builder_t b = {.m = m};
    m->rules = calloc(n ? n : 1, sizeof *m->rules);
    m->names = evb_arena_alloc(&m->arena, (n ? n : 1) * sizeof *m->names);
    m->root = pnode_new(&m->arena);
    if (!m->rules || !m->names || !m->root)
        goto fail;
    size_t nsub = 0, nref = 0;
    for (size_t i = 0; i < n; i++) {
        m->rules[i] = rules[i];
        atomic_fetch_add(&rules[i]->refcnt, 1);
        m->nrules++;
        m->names[i] = rules[i]->name;
        nsub += rules[i]->parsed.nsubs;
        for (size_t s = 0; s < rules[i]->parsed.nsubs; s++)
            nref += rules[i]->parsed.subs[s].n;
    }
    if (nsub > UINT32_MAX / 4 || nref > UINT32_MAX / 4)
        goto fail;
    evb_arena_t *a = &m->arena;
    m->nsub = (uint32_t)nsub;
    m->sub_rule = evb_arena_alloc(a, (nsub + 1) * sizeof(uint32_t));
    m->sub_off = evb_arena_alloc(a, (nsub + 1) * sizeof(uint32_t));
    m->sub_conds = evb_arena_alloc(a, (nref + 1) * sizeof(uint32_t));
    m->always = evb_arena_alloc(a, (nsub + 1) * sizeof(uint32_t));
    m->cond_field = evb_arena_alloc(a, (nref + 1) * sizeof(uint32_t));
    m->cond_def = evb_arena_alloc(a, (nref + 1) * sizeof(void *));
    uint32_t *refs = calloc(nref + 1, sizeof *refs);     /* per cond */
    uint32_t *anchor = calloc(nsub + 1, sizeof *anchor); /* per sub */
    /* dedupe table: path + '\0' + leaf source text -> cond id */
    uint32_t dsize = 16;
    while (dsize < 2 * nref)
        dsize *= 2;
    uint32_t *dtab = calloc(dsize, sizeof *dtab); /* cond id + 1 */
    if (!m->sub_rule || !m->sub_off || !m->sub_conds || !m->always ||
        !m->cond_field || !m->cond_def || !refs || !anchor || !dtab) {
        free(refs);
        free(anchor);
        free(dtab);
        goto fail;
    }
    uint32_t si = 0, ri = 0, nc = 0;
    for (size_t r = 0; r < n; r++) {
        const evb__parsed_t *p = &rules[r]->parsed;
        for (size_t s = 0; s < p->nsubs; s++, si++) {
            const evb__subrule_t *sr = &p->subs[s];
            m->sub_rule[si] = (uint32_t)r;
            m->sub_off[si] = ri;
            for (size_t c = 0; c < sr->n; c++) {
                const evb__cond_t *cd = &sr->conds[c];
                uint64_t h = evb__hash(cd->path, cd->path_len) ^
                             evb__hash(cd->src->src, cd->src->src_len) * 31;
                uint32_t slot = (uint32_t)h & (dsize - 1), cid;
                for (;; slot = (slot + 1) & (dsize - 1)) {
                    if (!dtab[slot]) {
                        uint32_t fid;
                        if (field_for(&b, cd->path, cd->path_len, &fid))
                            goto fail_tmp;
                        cid = nc++;
                        dtab[slot] = cid + 1;
                        m->cond_field[cid] = fid;
                        m->cond_def[cid] = cd;
                        for (size_t t = 0; t < cd->ntests; t++)
                            if (add_test(m, &b.fb[fid], cid, &cd->tests[t]))
                                goto fail_tmp;
                        break;
                    }
                    const evb__cond_t *o = m->cond_def[dtab[slot] - 1];
                    if (o->path_len == cd->path_len &&
                        o->src->src_len == cd->src->src_len &&
                        memcmp(o->path, cd->path, cd->path_len) == 0 &&
                        memcmp(o->src->src, cd->src->src, cd->src->src_len) ==
                            0) {
                        cid = dtab[slot] - 1;
                        break;
                    }
                }
                bool dup = false;
                for (uint32_t k = m->sub_off[si]; k < ri && !dup; k++)
                    dup = m->sub_conds[k] == cid;
                if (!dup) {
                    m->sub_conds[ri++] = cid;
                    refs[cid]++;
                }
            }
        }
    }
    m->sub_off[si] = ri;
    m->ncond = nc;
    /* anchors: the most selective triggering condition of each sub-rule */
    m->anchor_off = evb_arena_calloc(a, nc + 2, sizeof(uint32_t));
    m->anchor_subs = evb_arena_alloc(a, (nsub + 1) * sizeof(uint32_t));
    if (!m->anchor_off || !m->anchor_subs)
        goto fail_tmp;
    for (uint32_t s = 0; s < m->nsub; s++) {
        uint64_t best_score = UINT64_MAX;
        uint32_t best = UINT32_MAX;
        for (uint32_t k = m->sub_off[s]; k < m->sub_off[s + 1]; k++) {
            uint32_t c = m->sub_conds[k];
            const evb__cond_t *cd = m->cond_def[c];
            if (!cd->positive || cd->has_exists_false)
                continue;
            uint64_t weight = 1;
            for (size_t t = 0; t < cd->ntests; t++) {
                evb__test_kind_t kd = cd->tests[t].kind;
                uint64_t w = kd == T_NUMERIC                           ? 4
                             : (kd == T_EXISTS_TRUE || kd >= T_AB_STR) ? 64
                             : (kd == T_NULL || kd == T_TRUE || kd == T_FALSE)
                                 ? 8
                                 : 1;
                if (w > weight)
                    weight = w;
            }
            uint64_t score = (uint64_t)refs[c] * weight * (cd->ntests + 1);
            if (score < best_score) {
                best_score = score;
                best = c;
            }
        }
        anchor[s] = best;
        if (best == UINT32_MAX)
            m->always[m->nalways++] = s;
        else
            m->anchor_off[best + 1]++;
    }
    for (uint32_t c = 0; c < nc; c++)
        m->anchor_off[c + 1] += m->anchor_off[c];
    memset(refs, 0, (nc + 1) * sizeof *refs); /* reuse as fill counters */
    for (uint32_t s = 0; s < m->nsub; s++)
        if (anchor[s] != UINT32_MAX)
            m->anchor_subs[m->anchor_off[anchor[s]] + refs[anchor[s]]++] = s;
    free(refs);
    free(anchor);
    free(dtab);
    m->nfields = b.nfields;
    m->fields =
        evb_arena_calloc(a, b.nfields ? b.nfields : 1, sizeof *m->fields);
    if (!m->fields)
        goto fail;
    for (uint32_t f = 0; f < b.nfields; f++) {
        if (freeze_field(a, &b.fb[f], &m->fields[f]))
            goto fail;
        if (m->fields[f].nab > m->max_ab)
            m->max_ab = m->fields[f].nab;
    }
    for (uint32_t f = 0; f < b.nfields; f++)
        fbuild_free(&b.fb[f]);
    free(b.fb);
    /* field paths for explain */
    for (uint32_t c = 0; c < m->ncond; c++)
        m->fields[m->cond_field[c]].path = m->cond_def[c]->path;
    return m;
fail_tmp:
    free(refs);
    free(anchor);
    free(dtab);
fail:
    for (uint32_t f = 0; f < b.nfields; f++)
        fbuild_free(&b.fb[f]);
    free(b.fb);
    matcher_free(m);
    return NULL;
}

size_t evb_matcher_rule_count(const evb_matcher_t *m) {
    return m->nrules;
}

evb_matcher_t *evb_matcher_ref(evb_matcher_t *m) {
    atomic_fetch_add(&m->refcnt, 1);
    return m;
}

void evb_matcher_unref(evb_matcher_t *m) {
    if (m && atomic_fetch_sub(&m->refcnt, 1) == 1)
        matcher_free(m);
}
