/*
 * consistency.h: the polynomial fallback for array-consistent matching
 * (internal to the pattern module; see consistency.c).
 */
#ifndef EVB_PATTERN_CONSISTENCY_H
#define EVB_PATTERN_CONSISTENCY_H

#include <stddef.h>
#include <stdint.h>

#include "../json/json.h"

typedef struct evb__occ_ref {
    const evb_json_apos_t *apos;
    uint32_t depth;
    unsigned cond; /* 0 .. k-1 */
} evb__occ_ref_t;

/* Can one occurrence be chosen for each of the k conditions (k <= 64)
 * such that no two chosen ones sit in different elements of one array?
 * Every condition must have at least one occurrence among occ. Returns 1
 * (yes), 0 (no) or -1 (no memory, or k > 64). */
int evb__consistent_dp(const evb__occ_ref_t *occ, size_t nocc, unsigned k);

#endif
