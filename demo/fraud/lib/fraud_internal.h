/* fraud_internal.h: helpers shared by the files of demo/fraud/lib. */
#ifndef EVB_FRAUD_INTERNAL_H
#define EVB_FRAUD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* xoshiro256** seeded through splitmix64: fast, reproducible per seed. */
typedef struct fraud_rng {
    uint64_t s[4];
} fraud_rng_t;

void fraud__rng_seed(fraud_rng_t *r, uint64_t seed);
uint64_t fraud__rng_u64(fraud_rng_t *r);
double fraud__rng_unit(fraud_rng_t *r); /* [0, 1) */
double fraud__rng_range(fraud_rng_t *r, double lo, double hi);
unsigned fraud__rng_below(fraud_rng_t *r, unsigned n); /* [0, n) */
double fraud__rng_normal(fraud_rng_t *r);              /* N(0, 1) */
double fraud__rng_exp(fraud_rng_t *r, double rate);    /* Exp(rate) */

/* Great-circle distance in km. */
double fraud__haversine_km(double lat1, double lon1, double lat2, double lon2);

/*
 * A string-keyed open-addressing map from short keys (< 40 bytes) to
 * uint32 values, for per-card, per-user and per-transaction state.
 */
typedef struct fraud_map {
    struct fraud_map_slot {
        char key[40];
        uint32_t value;
        bool used;
    } * slots;
    size_t cap, len;
} fraud_map_t;

void fraud__map_init(fraud_map_t *m);
void fraud__map_free(fraud_map_t *m);
/* The value for key, or NULL. */
uint32_t *fraud__map_get(fraud_map_t *m, const char *key);
/* The value slot for key, inserting value when absent (*inserted says
 * which); NULL when out of memory or key is 40 bytes or longer. */
uint32_t *fraud__map_put(fraud_map_t *m, const char *key, uint32_t value,
                         bool *inserted);

#endif
