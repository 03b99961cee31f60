/*
 * match.c: running one event through a compiled matcher.
 *
 * The event is scanned once (json/scan.c); the path trie tells the scanner
 * which members matter. Each interesting leaf probes its field's indexes
 * (compile.c) and marks the conditions it satisfies. Marks are epoch
 * stamps in the per-thread context, so nothing is cleared between events.
 * A sub-rule becomes a candidate when its count of satisfied triggering
 * conditions reaches its need; candidates (and the few sub-rules made only
 * of exists:false conditions) are then verified: exists:false conditions
 * hold when their field had no leaf, and the leaves chosen for the
 * conditions must be array-consistent (see docs/pattern-semantics.md).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "consistency.h"
#include "matcher_internal.h"

typedef struct occ {
    const evb_json_apos_t *apos;
    uint32_t depth;
    uint32_t next; /* index+1 of the next occurrence of the same cond */
} occ_t;

struct evb_match_ctx {
    evb_json_scanner_t scanner;
    const evb_matcher_t *m; /* the matcher of the last call ... */
    uint64_t m_id;          /* ... by id: arrays below are sized for it */
    uint32_t epoch;
    uint32_t *cond_stamp;
    uint32_t *cond_occ; /* head of occurrence list (index+1), 0 = none */
    uint8_t *cond_free; /* satisfied by a leaf outside any array */
    uint32_t *rule_stamp;
    uint32_t *field_stamp;
    uint32_t *ab_mark;
    uint32_t ab_epoch;
    uint32_t *cand;
    uint32_t ncand, cand_cap;
    occ_t *occ;
    uint32_t nocc, occ_cap;
    evb_arena_t snap; /* apos snapshots */
    const evb_json_apos_t *snap_ptr;
    uint32_t snap_version, snap_depth;
    bool snap_valid;
    const char **names;
    size_t names_cap;
    char *fold;
    size_t fold_cap;
    evb__trace_t *trace;
    evb_arena_t *trace_arena;
    bool oom;
    /* backtracking scratch */
    uint32_t *bt_conds;
    uint32_t *bt_choice;
    const occ_t **bt_sel;
    size_t bt_cap;
};

evb_match_ctx_t *evb_match_ctx_new(void) {
    evb_match_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    evb_json_scanner_init(&ctx->scanner, 1000);
    evb_arena_init(&ctx->snap, 4096);
    return ctx;
}

static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;

static void thread_ctx_destroy(void *p) { evb_match_ctx_free(p); }
static void thread_key_init(void) {
    pthread_key_create(&thread_key, thread_ctx_destroy);
}

evb_match_ctx_t *evb_match_ctx_thread(void) {
    pthread_once(&thread_once, thread_key_init);
    evb_match_ctx_t *ctx = pthread_getspecific(thread_key);
    if (!ctx && (ctx = evb_match_ctx_new()) &&
        pthread_setspecific(thread_key, ctx) != 0) {
        evb_match_ctx_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static void ctx_free_arrays(evb_match_ctx_t *ctx) {
    free(ctx->cond_stamp);
    free(ctx->cond_occ);
    free(ctx->cond_free);
    free(ctx->rule_stamp);
    free(ctx->field_stamp);
    free(ctx->ab_mark);
    ctx->cond_stamp = ctx->cond_occ = NULL;
    ctx->rule_stamp = ctx->field_stamp = ctx->ab_mark = NULL;
    ctx->cond_free = NULL;
}

void evb_match_ctx_free(evb_match_ctx_t *ctx) {
    if (!ctx)
        return;
    ctx_free_arrays(ctx);
    free(ctx->cand);
    free(ctx->occ);
    free(ctx->names);
    free(ctx->fold);
    free(ctx->bt_conds);
    free(ctx->bt_choice);
    free(ctx->bt_sel);
    evb_arena_free(&ctx->snap);
    evb_json_scanner_free(&ctx->scanner);
    free(ctx);
}

/* Size the stamp arrays for m and reset them (on a matcher change or when
 * the epoch counter wraps). */
static int ctx_prepare(evb_match_ctx_t *ctx, const evb_matcher_t *m) {
    ctx->m = m;
    if (ctx->m_id == m->id && ctx->epoch < UINT32_MAX - 1 &&
        ctx->ab_epoch < UINT32_MAX - (1u << 20))
        return 0;
    ctx_free_arrays(ctx);
    ctx->m_id = 0;
    size_t nc = m->ncond + 1, nr = m->nrules + 1, nf = m->nfields + 1,
           na = m->max_ab + 1;
    ctx->cond_stamp = calloc(nc, sizeof(uint32_t));
    ctx->cond_occ = calloc(nc, sizeof(uint32_t));
    ctx->cond_free = calloc(nc, 1);
    ctx->rule_stamp = calloc(nr, sizeof(uint32_t));
    ctx->field_stamp = calloc(nf, sizeof(uint32_t));
    ctx->ab_mark = calloc(na, sizeof(uint32_t));
    if (!ctx->cond_stamp || !ctx->cond_occ || !ctx->cond_free ||
        !ctx->rule_stamp || !ctx->field_stamp || !ctx->ab_mark) {
        ctx_free_arrays(ctx);
        return -1;
    }
    if (ctx->names_cap < nr) {
        free(ctx->names);
        ctx->names = malloc(nr * sizeof *ctx->names);
        ctx->names_cap = ctx->names ? nr : 0;
        if (!ctx->names)
            return -1;
    }
    ctx->epoch = 0;
    ctx->ab_epoch = 0;
    ctx->m_id = m->id;
    ctx->scanner.max_depth = m->max_depth;
    return 0;
}

/* ---- marking ----------------------------------------------------------------
 */

static const evb_json_apos_t *snapshot(evb_match_ctx_t *ctx,
                                       const evb_json_leaf_t *leaf) {
    if (ctx->snap_valid && ctx->snap_version == leaf->apos_version)
        return ctx->snap_ptr;
    evb_json_apos_t *p = evb_arena_alloc(&ctx->snap, leaf->depth * sizeof *p);
    if (!p) {
        ctx->oom = true;
        return NULL;
    }
    memcpy(p, leaf->apos, leaf->depth * sizeof *p);
    ctx->snap_ptr = p;
    ctx->snap_version = leaf->apos_version;
    ctx->snap_valid = true;
    return p;
}

static void hit(evb_match_ctx_t *ctx, uint32_t c, const evb_json_leaf_t *leaf) {
    const evb_matcher_t *m = ctx->m;
    uint32_t e = ctx->epoch;
    if (ctx->cond_stamp[c] != e) {
        ctx->cond_stamp[c] = e;
        ctx->cond_free[c] = 0;
        ctx->cond_occ[c] = 0;
        uint32_t b = m->anchor_off[c], n = m->anchor_off[c + 1] - b;
        if (n) {
            if (ctx->ncand + n > ctx->cand_cap) {
                uint32_t cap = ctx->cand_cap ? ctx->cand_cap : 64;
                while (cap < ctx->ncand + n)
                    cap *= 2;
                uint32_t *nc = realloc(ctx->cand, cap * sizeof *nc);
                if (!nc) {
                    ctx->oom = true;
                    return;
                }
                ctx->cand = nc;
                ctx->cand_cap = cap;
            }
            memcpy(ctx->cand + ctx->ncand, m->anchor_subs + b,
                   n * sizeof *ctx->cand);
            ctx->ncand += n;
        }
    }
    if (ctx->cond_free[c])
        return;
    if (leaf->depth == 0) {
        ctx->cond_free[c] = 1;
        return;
    }
    if (ctx->nocc == ctx->occ_cap) {
        uint32_t cap = ctx->occ_cap ? ctx->occ_cap * 2 : 256;
        occ_t *no = realloc(ctx->occ, cap * sizeof *no);
        if (!no) {
            ctx->oom = true;
            return;
        }
        ctx->occ = no;
        ctx->occ_cap = cap;
    }
    const evb_json_apos_t *ap = snapshot(ctx, leaf);
    if (!ap)
        return;
    ctx->occ[ctx->nocc] = (occ_t){ap, leaf->depth, ctx->cond_occ[c]};
    ctx->cond_occ[c] = ++ctx->nocc;
}

static inline void hit_list(evb_match_ctx_t *ctx, const uint32_t *ids,
                            uint32_t n, const evb_json_leaf_t *leaf) {
    for (uint32_t i = 0; i < n; i++)
        hit(ctx, ids[i], leaf);
}

static inline const evb__sent_t *smap_get(const evb__smap_t *mp, const char *k,
                                          size_t n) {
    uint64_t h = evb__hash(k, n);
    for (uint32_t s = (uint32_t)h & mp->mask;; s = (s + 1) & mp->mask) {
        const evb__sent_t *e = &mp->tab[s];
        if (!e->ids)
            return NULL;
        if (e->h == h && e->klen == n && memcmp(e->k, k, n) == 0)
            return e;
    }
}

static inline void probe(evb_match_ctx_t *ctx, const evb__smap_t *mp,
                         const char *k, size_t n, const evb_json_leaf_t *leaf) {
    if (!mp->tab)
        return;
    const evb__sent_t *e = smap_get(mp, k, n);
    if (e)
        hit_list(ctx, e->ids, e->n, leaf);
}

static inline void probe_prefixes(evb_match_ctx_t *ctx, const evb__smap_t *mp,
                                  const char *s, size_t n,
                                  const evb_json_leaf_t *leaf) {
    if (!mp->tab)
        return;
    for (uint32_t i = 0; i < mp->nlens && mp->lens[i] <= n; i++) {
        const evb__sent_t *e = smap_get(mp, s, mp->lens[i]);
        if (e)
            hit_list(ctx, e->ids, e->n, leaf);
    }
}

static inline void probe_suffixes(evb_match_ctx_t *ctx, const evb__smap_t *mp,
                                  const char *s, size_t n,
                                  const evb_json_leaf_t *leaf) {
    if (!mp->tab)
        return;
    for (uint32_t i = 0; i < mp->nlens && mp->lens[i] <= n; i++) {
        const evb__sent_t *e = smap_get(mp, s + n - mp->lens[i], mp->lens[i]);
        if (e)
            hit_list(ctx, e->ids, e->n, leaf);
    }
}

/* wildcard candidates from an affix map: verify each */
static void wc_affix(evb_match_ctx_t *ctx, const evb__field_t *f,
                     const evb__smap_t *mp, bool prefix, const char *s,
                     size_t n, const evb_json_leaf_t *leaf) {
    for (uint32_t i = 0; i < mp->nlens && mp->lens[i] <= n; i++) {
        const char *k = prefix ? s : s + n - mp->lens[i];
        const evb__sent_t *e = smap_get(mp, k, mp->lens[i]);
        if (!e)
            continue;
        for (uint32_t j = 0; j < e->n; j++) {
            const evb__vref_t *r = &f->wc[e->ids[j]];
            if (evb__wildcard_match(r->wc, s, n))
                hit(ctx, r->id, leaf);
        }
    }
}

static inline void ab_mark_list(evb_match_ctx_t *ctx, const evb__sent_t *e) {
    if (e)
        for (uint32_t j = 0; j < e->n; j++)
            ctx->ab_mark[e->ids[j]] = ctx->ab_epoch;
}

static const char *fold_value(evb_match_ctx_t *ctx, const char *s, size_t n,
                              size_t *outlen) {
    if (ctx->fold_cap < 2 * n + 1) {
        size_t cap = 2 * n + 64;
        char *nf = realloc(ctx->fold, cap);
        if (!nf) {
            ctx->oom = true;
            return NULL;
        }
        ctx->fold = nf;
        ctx->fold_cap = cap;
    }
    *outlen = evb__fold(s, n, ctx->fold);
    return ctx->fold;
}

static void match_string(evb_match_ctx_t *ctx, const evb__field_t *f,
                         const evb_json_leaf_t *leaf) {
    const char *s = leaf->text;
    size_t n = leaf->len;
    probe(ctx, &f->exact, s, n, leaf);
    probe_prefixes(ctx, &f->prefix, s, n, leaf);
    probe_suffixes(ctx, &f->suffix, s, n, leaf);
    const char *fs = NULL;
    size_t fn = 0;
    if (f->need_fold) {
        fs = fold_value(ctx, s, n, &fn);
        if (!fs)
            return;
        probe(ctx, &f->eic, fs, fn, leaf);
        probe_prefixes(ctx, &f->prefix_eic, fs, fn, leaf);
        probe_suffixes(ctx, &f->suffix_eic, fs, fn, leaf);
    }
    if (f->nwc) {
        if (f->wc_prefix.tab)
            wc_affix(ctx, f, &f->wc_prefix, true, s, n, leaf);
        if (f->wc_suffix.tab)
            wc_affix(ctx, f, &f->wc_suffix, false, s, n, leaf);
        for (uint32_t i = 0; i < f->nwc_other; i++) {
            const evb__vref_t *r = &f->wc[f->wc_other[i]];
            if (evb__wildcard_match(r->wc, s, n))
                hit(ctx, r->id, leaf);
        }
    }
    for (uint32_t i = 0; i < f->ncidr; i++)
        if (evb__cidr_match(f->cidr[i].test, s, n))
            hit(ctx, f->cidr[i].id, leaf);
    if (f->nab) {
        if (++ctx->ab_epoch == 0)
            ctx->ab_epoch = 1;
        if (f->ab_exact.tab)
            ab_mark_list(ctx, smap_get(&f->ab_exact, s, n));
        if (f->ab_eic.tab && fs)
            ab_mark_list(ctx, smap_get(&f->ab_eic, fs, fn));
        const evb__smap_t *mp = &f->ab_prefix;
        for (uint32_t i = 0; mp->tab && i < mp->nlens && mp->lens[i] <= n; i++)
            ab_mark_list(ctx, smap_get(mp, s, mp->lens[i]));
        mp = &f->ab_suffix;
        for (uint32_t i = 0; mp->tab && i < mp->nlens && mp->lens[i] <= n; i++)
            ab_mark_list(ctx, smap_get(mp, s + n - mp->lens[i], mp->lens[i]));
        for (uint32_t i = 0; i < f->nab_wc; i++)
            if (evb__wildcard_match(f->ab_wc[i].wc, s, n))
                ctx->ab_mark[f->ab_wc[i].id] = ctx->ab_epoch;
        for (uint32_t i = 0; i < f->nab; i++)
            if (ctx->ab_mark[i] != ctx->ab_epoch)
                hit(ctx, f->ab_cond[i], leaf);
    }
}

static void match_ranges(evb_match_ctx_t *ctx, const evb__ranges_t *r, double d,
                         const evb_json_leaf_t *leaf) {
    if (r->linear) {
        for (uint32_t i = 0; i < r->nlinear; i++) {
            const evb__test_t *t = r->linear[i].test;
            bool ok = (t->lo_incl ? d >= t->lo : d > t->lo) &&
                      (t->hi_incl ? d <= t->hi : d < t->hi);
            if (ok)
                hit(ctx, r->linear[i].id, leaf);
        }
        return;
    }
    if (!r->off)
        return;
    uint32_t lo = 0, hi = r->npts;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (r->pts[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t reg = (lo < r->npts && r->pts[lo] == d) ? 2 * lo + 1 : 2 * lo;
    hit_list(ctx, r->ids + r->off[reg], r->off[reg + 1] - r->off[reg], leaf);
}

static void match_number(evb_match_ctx_t *ctx, const evb__field_t *f,
                         const evb_json_leaf_t *leaf) {
    double d;
    bool finite = f->need_num && evb__num_value(leaf->text, leaf->len, &d) == 0;
    if (finite) {
        probe(ctx, &f->num, (const char *)&d, sizeof d, leaf);
        match_ranges(ctx, &f->ranges, d, leaf);
    }
    if (f->nab) {
        if (++ctx->ab_epoch == 0)
            ctx->ab_epoch = 1;
        if (finite && f->ab_num.tab)
            ab_mark_list(ctx, smap_get(&f->ab_num, (const char *)&d, sizeof d));
        for (uint32_t i = 0; i < f->nab; i++)
            if (ctx->ab_mark[i] != ctx->ab_epoch)
                hit(ctx, f->ab_cond[i], leaf);
    }
}

/* ---- scanner callbacks
 * -------------------------------------------------------- */

static evb__pnode_t *pnode_get(const evb__pnode_t *n, const char *seg,
                               size_t len) {
    if (!n->nchild)
        return NULL;
    uint64_t h = evb__hash(seg, len);
    for (uint32_t s = (uint32_t)h & n->mask;; s = (s + 1) & n->mask) {
        const evb__pchild_t *c = &n->child[s];
        if (!c->node)
            return NULL;
        if (c->h == h && c->len == len && memcmp(c->seg, seg, len) == 0)
            return c->node;
    }
}

static void *cb_child(void *ud, void *node, const char *key, size_t klen) {
    (void)ud;
    const evb__pnode_t *n = node;
    const char *dot = memchr(key, '.', klen);
    if (EVB_LIKELY(!dot))
        return pnode_get(n, key, klen);
    const char *end = key + klen;
    for (;;) {
        const char *segend = dot ? dot : end;
        n = pnode_get(n, key, (size_t)(segend - key));
        if (!n || !dot)
            return (void *)n;
        key = dot + 1;
        dot = memchr(key, '.', (size_t)(end - key));
    }
}

static bool cb_wants_leaves(void *ud, void *node) {
    (void)ud;
    return ((const evb__pnode_t *)node)->field >= 0;
}

static bool cb_wants_children(void *ud, void *node) {
    (void)ud;
    return ((const evb__pnode_t *)node)->nchild > 0;
}

static int cb_leaf(void *ud, void *node, const evb_json_leaf_t *leaf) {
    evb_match_ctx_t *ctx = ud;
    uint32_t fid = (uint32_t)((const evb__pnode_t *)node)->field;
    const evb__field_t *f = &ctx->m->fields[fid];
    ctx->field_stamp[fid] = ctx->epoch;
    if (EVB_UNLIKELY(ctx->trace) && !ctx->trace->first_text[fid]) {
        char *copy = evb_arena_strndup(ctx->trace_arena, leaf->text, leaf->len);
        if (copy) {
            ctx->trace->first_text[fid] = copy;
            ctx->trace->first_len[fid] = leaf->len;
            ctx->trace->first_type[fid] = leaf->type;
        }
    }
    switch (leaf->type) {
    case EVB_JSON_STRING: match_string(ctx, f, leaf); break;
    case EVB_JSON_NUMBER: match_number(ctx, f, leaf); break;
    case EVB_JSON_NULL:
        hit_list(ctx, f->null_ids, f->nnull, leaf);
        goto ab_other;
    case EVB_JSON_TRUE:
        hit_list(ctx, f->true_ids, f->ntrue, leaf);
        goto ab_other;
    case EVB_JSON_FALSE:
        hit_list(ctx, f->false_ids, f->nfalse, leaf);
    ab_other:
        /* null and booleans are excluded by no anything-but */
        for (uint32_t i = 0; i < f->nab; i++)
            hit(ctx, f->ab_cond[i], leaf);
        break;
    default: break;
    }
    hit_list(ctx, f->exists_ids, f->nexists, leaf);
    return ctx->oom ? -1 : 0;
}

static const evb_json_scan_ops_t scan_ops = {cb_child, cb_leaf, cb_wants_leaves,
                                             cb_wants_children};

/* ---- verification
 * ----------------------------------------------------------------- */

static bool apos_compatible(const occ_t *a, const occ_t *b) {
    uint32_t n = a->depth < b->depth ? a->depth : b->depth;
    for (uint32_t i = 0; i < n; i++) {
        if (a->apos[i].array_id != b->apos[i].array_id)
            return true;
        if (a->apos[i].index != b->apos[i].index)
            return false;
    }
    return true;
}

static int bt_reserve(evb_match_ctx_t *ctx, size_t n) {
    if (ctx->bt_cap >= n)
        return 0;
    free(ctx->bt_conds);
    free(ctx->bt_choice);
    free(ctx->bt_sel);
    ctx->bt_conds = malloc(n * sizeof *ctx->bt_conds);
    ctx->bt_choice = malloc(n * sizeof *ctx->bt_choice);
    ctx->bt_sel = malloc(n * sizeof *ctx->bt_sel);
    if (!ctx->bt_conds || !ctx->bt_choice || !ctx->bt_sel) {
        ctx->bt_cap = 0;
        ctx->oom = true;
        return -1;
    }
    ctx->bt_cap = n;
    return 0;
}

/* Steps the depth-first search may take before the question goes to the
 * polynomial fallback (consistency.c). */
#define DFS_BUDGET 20000

static bool consistent_dp(evb_match_ctx_t *ctx, const uint32_t *conds,
                          size_t k) {
    size_t n = 0;
    for (size_t j = 0; j < k; j++)
        for (uint32_t oi = ctx->cond_occ[conds[j]]; oi;
             oi = ctx->occ[oi - 1].next)
            n++;
    evb__occ_ref_t *refs = malloc((n ? n : 1) * sizeof *refs);
    if (!refs) {
        ctx->oom = true;
        return false;
    }
    n = 0;
    for (size_t j = 0; j < k; j++)
        for (uint32_t oi = ctx->cond_occ[conds[j]]; oi;
             oi = ctx->occ[oi - 1].next)
            refs[n++] = (evb__occ_ref_t){ctx->occ[oi - 1].apos,
                                         ctx->occ[oi - 1].depth, (unsigned)j};
    int rc = evb__consistent_dp(refs, n, (unsigned)k);
    free(refs);
    if (rc < 0)
        ctx->oom = true;
    return rc == 1;
}

/* Can one occurrence be chosen per condition, pairwise compatible? */
static bool consistent(evb_match_ctx_t *ctx, const uint32_t *conds, size_t k) {
    if (k < 2)
        return true;
    /* depth-first search over the occurrence lists */
    const occ_t **sel = ctx->bt_sel;
    size_t level = 0;
    uint32_t *cur = ctx->bt_choice; /* occurrence index+1 at each level */
    cur[0] = ctx->cond_occ[conds[0]];
    for (unsigned long steps = 0;; steps++) {
        if (steps == DFS_BUDGET && k <= 64)
            return consistent_dp(ctx, conds, k);
        uint32_t oi = cur[level];
        if (oi == 0) {
            if (level == 0)
                return false;
            level--;
            cur[level] = ctx->occ[cur[level] - 1].next;
            continue;
        }
        const occ_t *o = &ctx->occ[oi - 1];
        bool ok = true;
        for (size_t j = 0; j < level && ok; j++)
            ok = apos_compatible(sel[j], o);
        if (!ok) {
            cur[level] = o->next;
            continue;
        }
        sel[level] = o;
        if (level + 1 == k)
            return true;
        level++;
        cur[level] = ctx->cond_occ[conds[level]];
    }
}

static bool verify(evb_match_ctx_t *ctx, uint32_t s) {
    const evb_matcher_t *m = ctx->m;
    uint32_t e = ctx->epoch;
    uint32_t b = m->sub_off[s], n = m->sub_off[s + 1] - b;
    if (bt_reserve(ctx, n ? n : 1))
        return false;
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = m->sub_conds[b + i];
        if (ctx->cond_stamp[c] == e) {
            if (!ctx->cond_free[c])
                ctx->bt_conds[k++] = c;
            continue;
        }
        const evb__cond_t *cd = m->cond_def[c];
        if (cd->has_exists_false && ctx->field_stamp[m->cond_field[c]] != e)
            continue; /* satisfied by absence */
        return false;
    }
    if (consistent(ctx, ctx->bt_conds, k))
        return true;
    if (ctx->trace)
        ctx->trace->inconsistent = true;
    return false;
}

evb_err_t evb__matcher_match_traced(const evb_matcher_t *m,
                                    evb_match_ctx_t *ctx, const char *event,
                                    size_t len, const char *const **names,
                                    size_t *count, evb__trace_t *trace,
                                    char *errstr, size_t errstr_size) {
    *count = 0;
    *names = NULL;
    if (m->max_event_len && len > m->max_event_len)
        return evb_err_set(EVB_ERR_INVALID_EVENT, errstr, errstr_size,
                           "event is larger than %zu bytes", m->max_event_len);
    if (ctx_prepare(ctx, m))
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    uint32_t e = ++ctx->epoch;
    ctx->ncand = 0;
    ctx->nocc = 0;
    ctx->oom = false;
    ctx->snap_valid = false;
    ctx->trace = trace;
    evb_arena_reset(&ctx->snap);
    evb_err_t err = evb_json_scan(&ctx->scanner, event, len, &scan_ops, ctx,
                                  m->root, errstr, errstr_size);
    if (ctx->oom)
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    if (err)
        return err == EVB_ERR_INTERNAL ? EVB_ERR_NOMEM : err;
    size_t nn = 0;
    for (uint32_t i = 0; i < ctx->ncand + m->nalways; i++) {
        uint32_t s = i < ctx->ncand ? ctx->cand[i] : m->always[i - ctx->ncand];
        uint32_t r = m->sub_rule[s];
        if (ctx->rule_stamp[r] == e)
            continue;
        if (verify(ctx, s)) {
            ctx->rule_stamp[r] = e;
            ctx->names[nn++] = m->names[r];
        }
    }
    if (ctx->oom)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    *names = ctx->names;
    *count = nn;
    return EVB_ERR_OK;
}

evb_err_t evb_matcher_match(const evb_matcher_t *m, evb_match_ctx_t *ctx,
                            const char *event, size_t len,
                            const char *const **names, size_t *count,
                            char *errstr, size_t errstr_size) {
    return evb__matcher_match_traced(m, ctx, event, len, names, count, NULL,
                                     errstr, errstr_size);
}

bool evb__ctx_cond_hit(const evb_match_ctx_t *ctx, uint32_t cond) {
    return ctx->cond_stamp[cond] == ctx->epoch;
}

bool evb__ctx_field_seen(const evb_match_ctx_t *ctx, uint32_t field) {
    return ctx->field_stamp[field] == ctx->epoch;
}

void evb__ctx_set_trace_arena(evb_match_ctx_t *ctx, evb_arena_t *a);
void evb__ctx_set_trace_arena(evb_match_ctx_t *ctx, evb_arena_t *a) {
    ctx->trace_arena = a;
}
