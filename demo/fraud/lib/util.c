/* util.c: random numbers, distances and the string map of fraud_internal.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fraud_internal.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void fraud__rng_seed(fraud_rng_t *r, uint64_t seed) {
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t fraud__rng_u64(fraud_rng_t *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double fraud__rng_unit(fraud_rng_t *r) {
    return (double)(fraud__rng_u64(r) >> 11) * 0x1.0p-53;
}

double fraud__rng_range(fraud_rng_t *r, double lo, double hi) {
    return lo + (hi - lo) * fraud__rng_unit(r);
}

unsigned fraud__rng_below(fraud_rng_t *r, unsigned n) {
    return n ? (unsigned)(fraud__rng_unit(r) * n) % n : 0;
}

double fraud__rng_normal(fraud_rng_t *r) {
    double u1 = fraud__rng_unit(r), u2 = fraud__rng_unit(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double fraud__rng_exp(fraud_rng_t *r, double rate) {
    double u = fraud__rng_unit(r);
    return -log(1.0 - u) / rate;
}

double fraud__haversine_km(double lat1, double lon1, double lat2, double lon2) {
    const double rad = M_PI / 180.0, earth_km = 6371.0088;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a =
        sin(dlat / 2) * sin(dlat / 2) +
        cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    if (a > 1.0)
        a = 1.0;
    return 2.0 * earth_km * asin(sqrt(a));
}

/* ---- map ----------------------------------------------------------------- */

static uint64_t hash_key(const char *k) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 0x100000001b3ULL;
    return h;
}

void fraud__map_init(fraud_map_t *m) {
    memset(m, 0, sizeof *m);
}

void fraud__map_free(fraud_map_t *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static struct fraud_map_slot *find_slot(struct fraud_map_slot *slots,
                                        size_t cap, const char *key) {
    size_t i = (size_t)hash_key(key) & (cap - 1);
    while (slots[i].used && strcmp(slots[i].key, key) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static bool grow(fraud_map_t *m) {
    size_t cap = m->cap ? m->cap * 2 : 1024;
    struct fraud_map_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].used)
            *find_slot(slots, cap, m->slots[i].key) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return true;
}

uint32_t *fraud__map_get(fraud_map_t *m, const char *key) {
    if (!m->cap)
        return NULL;
    struct fraud_map_slot *s = find_slot(m->slots, m->cap, key);
    return s->used ? &s->value : NULL;
}

uint32_t *fraud__map_put(fraud_map_t *m, const char *key, uint32_t value,
                         bool *inserted) {
    *inserted = false;
    if (strlen(key) >= sizeof m->slots[0].key)
        return NULL;
    if ((m->len + 1) * 4 > m->cap * 3 && !grow(m))
        return NULL;
    struct fraud_map_slot *s = find_slot(m->slots, m->cap, key);
    if (!s->used) {
        s->used = true;
        strcpy(s->key, key);
        s->value = value;
        m->len++;
        *inserted = true;
    }
    return &s->value;
}
