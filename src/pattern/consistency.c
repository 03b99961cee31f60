/*
 * consistency.c: array-consistent matching when a quick search is not
 * enough.
 *
 * The matcher first tries a depth-first search over the conditions'
 * occurrences (match.c), which settles ordinary events at once. An
 * adversarial event (thousands of array elements, most partial choices
 * compatible, no complete one) could make that search exponential, so
 * after a bounded number of steps the question is answered here instead,
 * in time polynomial in the number of occurrences for a fixed number of
 * conditions.
 *
 * The occurrences' array positions form a tree: the event's arrays, each
 * with its elements. Working bottom-up, each node gets the family of
 * condition sets that can be satisfied consistently inside it: everything
 * found directly in an element can be combined, and from each array under
 * it at most one element's family can be added. Families are kept as
 * antichains of maximal bit masks (a subset of a satisfiable set is
 * satisfiable), so they stay small in practice.
 */
#include <stdlib.h>
#include <string.h>

#include "consistency.h"

typedef struct item {
    const evb_json_apos_t *apos;
    uint32_t depth;
    uint64_t bit;
} item_t;

typedef struct fam {
    uint64_t *m;
    size_t n, cap;
} fam_t;

static int fam_add(fam_t *f, uint64_t x) {
    /* keep only maximal masks */
    for (size_t i = 0; i < f->n; i++)
        if ((f->m[i] | x) == f->m[i])
            return 0; /* x is covered */
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++)
        if ((f->m[i] | x) != x)
            f->m[k++] = f->m[i]; /* drop those x covers */
    f->n = k;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 4;
        uint64_t *nm = realloc(f->m, cap * sizeof *nm);
        if (!nm)
            return -1;
        f->m = nm;
        f->cap = cap;
    }
    f->m[f->n++] = x;
    return 0;
}

static int item_cmp(const void *a, const void *b) {
    const item_t *x = a, *y = b;
    uint32_t n = x->depth < y->depth ? x->depth : y->depth;
    for (uint32_t i = 0; i < n; i++) {
        if (x->apos[i].array_id != y->apos[i].array_id)
            return x->apos[i].array_id < y->apos[i].array_id ? -1 : 1;
        if (x->apos[i].index != y->apos[i].index)
            return x->apos[i].index < y->apos[i].index ? -1 : 1;
    }
    return x->depth < y->depth ? -1 : x->depth > y->depth;
}

/* Family of the node reached by the first `level` positions shared by
 * items[lo, hi). Returns 0, or -1 on no memory. */
static int solve(const item_t *items, size_t lo, size_t hi, uint32_t level,
                 uint64_t full, fam_t *out) {
    uint64_t direct = 0;
    size_t i = lo;
    while (i < hi && items[i].depth == level)
        direct |= items[i++].bit;
    out->n = 0;
    if (fam_add(out, direct))
        return -1;
    while (i < hi) {
        /* one array: items whose position at `level` names it */
        uint32_t aid = items[i].apos[level].array_id;
        size_t aend = i;
        while (aend < hi && items[aend].apos[level].array_id == aid)
            aend++;
        fam_t arr = {0}, sub = {0}, next = {0};
        int rc = 0;
        for (size_t j = i; j < aend && !rc;) {
            uint32_t idx = items[j].apos[level].index;
            size_t eend = j;
            while (eend < aend && items[eend].apos[level].index == idx)
                eend++;
            rc = solve(items, j, eend, level + 1, full, &sub);
            for (size_t s = 0; s < sub.n && !rc; s++)
                rc = fam_add(&arr, sub.m[s]);
            j = eend;
        }
        for (size_t x = 0; x < out->n && !rc; x++) {
            rc = fam_add(&next, out->m[x]);
            for (size_t y = 0; y < arr.n && !rc; y++)
                rc = fam_add(&next, out->m[x] | arr.m[y]);
        }
        free(arr.m);
        free(sub.m);
        if (rc) {
            free(next.m);
            return -1;
        }
        free(out->m);
        *out = next;
        i = aend;
        for (size_t x = 0; x < out->n; x++)
            if (out->m[x] == full) {
                out->m[0] = full;
                out->n = 1;
                return 0;
            }
    }
    return 0;
}

int evb__consistent_dp(const evb__occ_ref_t *occ, size_t nocc, unsigned k) {
    if (k > 64)
        return -1;
    uint64_t full = k == 64 ? UINT64_MAX : ((uint64_t)1 << k) - 1;
    item_t *items = malloc((nocc ? nocc : 1) * sizeof *items);
    if (!items)
        return -1;
    for (size_t i = 0; i < nocc; i++)
        items[i] =
            (item_t){occ[i].apos, occ[i].depth, (uint64_t)1 << occ[i].cond};
    qsort(items, nocc, sizeof *items, item_cmp);
    fam_t f = {0};
    int rc = solve(items, 0, nocc, 0, full, &f);
    int result = -1;
    if (!rc) {
        result = 0;
        for (size_t i = 0; i < f.n; i++)
            if (f.m[i] == full)
                result = 1;
    }
    free(f.m);
    free(items);
    return result;
}
