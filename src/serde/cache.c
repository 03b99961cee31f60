/*
 * cache.c: parsed schemas by registry id and by Glue schema version UUID.
 *
 * The hot path (every decoded record) is a lookup: a read lock, one hash
 * probe, an atomic reference on the schema and, at most, one relaxed
 * store of the entry's "used" bit. Nothing is reordered on a hit, so
 * readers never take the write lock. The bound is kept by CLOCK (second
 * chance): the entries sit in a ring of `max` slots; when a new one needs
 * a slot, the hand sweeps the ring, clearing used bits, and takes the
 * first entry that was not used since the hand last passed. Misses
 * (unknown ids, schemas that do not parse) are entries too, with an
 * expiry time, so they are bounded by the same ring.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serde_internal.h"

struct evb__serde_entry {
    evb__serde_key_t key;
    evb_avro_schema_t *schema; /* NULL: a remembered miss */
    int32_t id;                /* UUID keys: the schema's registry id */
    evb_err_t err;             /* misses */
    evb_registry_err_t rerr;
    uint64_t expires_ns;
    char *msg;
    atomic_bool used;
    size_t slot; /* index in the ring */
    evb__serde_entry_t *next;
};

static uint64_t key_hash(const evb__serde_key_t *k) {
    uint64_t h;
    if (k->by_uuid) {
        h = 0xcbf29ce484222325ull;
        for (int i = 0; i < 16; i++)
            h = (h ^ k->uuid[i]) * 0x100000001b3ull;
        h ^= 0x5bd1e995u;
    } else {
        h = (uint64_t)(uint32_t)k->id;
    }
    h ^= h >> 33; /* murmur3's finaliser */
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static bool key_eq(const evb__serde_key_t *a, const evb__serde_key_t *b) {
    if (a->by_uuid != b->by_uuid)
        return false;
    return a->by_uuid ? memcmp(a->uuid, b->uuid, 16) == 0 : a->id == b->id;
}

evb_err_t evb__serde_cache_init(evb__serde_cache_t *c, size_t max,
                                uint64_t miss_ttl_ns) {
    memset(c, 0, sizeof *c);
    c->max = max ? max : EVB_SERDE_DEFAULT_CACHE_MAX;
    c->miss_ttl_ns = miss_ttl_ns;
    size_t nb = 16;
    while (nb < c->max * 2 && nb < ((size_t)1 << 30))
        nb <<= 1;
    c->nbuckets = nb;
    c->buckets = calloc(nb, sizeof *c->buckets);
    c->ring = calloc(c->max, sizeof *c->ring);
    if (!c->buckets || !c->ring || pthread_rwlock_init(&c->lock, NULL)) {
        free(c->buckets);
        free(c->ring);
        return EVB_ERR_NOMEM;
    }
    return EVB_ERR_OK;
}

static void entry_free(evb__serde_entry_t *e) {
    evb_avro_schema_unref(e->schema);
    free(e->msg);
    free(e);
}

void evb__serde_cache_destroy(evb__serde_cache_t *c) {
    for (size_t i = 0; i < c->n; i++)
        entry_free(c->ring[i]);
    free(c->ring);
    free(c->buckets);
    pthread_rwlock_destroy(&c->lock);
}

/* Caller holds the lock (either kind). */
static evb__serde_entry_t *find(evb__serde_cache_t *c,
                                const evb__serde_key_t *key) {
    evb__serde_entry_t *e = c->buckets[key_hash(key) & (c->nbuckets - 1)];
    while (e && !key_eq(&e->key, key))
        e = e->next;
    return e;
}

evb__serde_lookup_t evb__serde_cache_get(evb__serde_cache_t *c,
                                         const evb__serde_key_t *key,
                                         evb_avro_schema_t **schema,
                                         int32_t *id, evb_err_t *err,
                                         evb_registry_err_t *rerr, char *errstr,
                                         size_t errstr_size, bool count) {
    evb__serde_lookup_t res = EVB__SERDE_ABSENT;
    pthread_rwlock_rdlock(&c->lock);
    evb__serde_entry_t *e = find(c, key);
    if (e && e->schema) {
        *schema = evb_avro_schema_ref(e->schema);
        if (id)
            *id = e->id;
        if (!atomic_load_explicit(&e->used, memory_order_relaxed))
            atomic_store_explicit(&e->used, true, memory_order_relaxed);
        res = EVB__SERDE_HIT;
    } else if (e && evb_now_ns() < e->expires_ns) {
        *err = e->err;
        *rerr = e->rerr;
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "%s", e->msg ? e->msg : "");
        res = EVB__SERDE_MISS;
    }
    pthread_rwlock_unlock(&c->lock);
    if (!count)
        return res;
    if (res == EVB__SERDE_HIT)
        atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
    else if (res == EVB__SERDE_MISS)
        atomic_fetch_add_explicit(&c->negative, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&c->misses, 1, memory_order_relaxed);
    return res;
}

static void unlink_entry(evb__serde_cache_t *c, evb__serde_entry_t *e) {
    evb__serde_entry_t **pp =
        &c->buckets[key_hash(&e->key) & (c->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
}

/* Caller holds the write lock. Returns the entry for key, new or old
 * (a new one is linked and has a slot), or NULL if memory ran out. */
static evb__serde_entry_t *slot_for(evb__serde_cache_t *c,
                                    const evb__serde_key_t *key) {
    evb__serde_entry_t *e = find(c, key);
    if (e)
        return e;
    e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->key = *key;
    size_t slot;
    if (c->n < c->max) {
        slot = c->n++;
    } else {
        /* second chance: at most two turns of the hand */
        for (;;) {
            evb__serde_entry_t *v = c->ring[c->hand];
            if (!atomic_load_explicit(&v->used, memory_order_relaxed)) {
                unlink_entry(c, v);
                entry_free(v);
                atomic_fetch_add_explicit(&c->evictions, 1,
                                          memory_order_relaxed);
                break;
            }
            atomic_store_explicit(&v->used, false, memory_order_relaxed);
            c->hand = (c->hand + 1) % c->max;
        }
        slot = c->hand;
        c->hand = (c->hand + 1) % c->max;
    }
    e->slot = slot;
    c->ring[slot] = e;
    evb__serde_entry_t **b = &c->buckets[key_hash(key) & (c->nbuckets - 1)];
    e->next = *b;
    *b = e;
    return e;
}

void evb__serde_cache_put(evb__serde_cache_t *c, const evb__serde_key_t *key,
                          evb_avro_schema_t *schema, int32_t id) {
    pthread_rwlock_wrlock(&c->lock);
    evb__serde_entry_t *e = slot_for(c, key);
    if (e) {
        evb_avro_schema_t *old = e->schema;
        e->schema = evb_avro_schema_ref(schema);
        e->id = id;
        free(e->msg);
        e->msg = NULL;
        e->err = EVB_ERR_OK;
        e->rerr = EVB_REGISTRY_ERR_OK;
        /* a new entry starts unused: one that is never read again is
         * the first to go */
        evb_avro_schema_unref(old);
    }
    pthread_rwlock_unlock(&c->lock);
}

void evb__serde_cache_put_miss(evb__serde_cache_t *c,
                               const evb__serde_key_t *key, evb_err_t err,
                               evb_registry_err_t rerr, const char *errstr) {
    if (!c->miss_ttl_ns)
        return;
    char *msg = strdup(errstr ? errstr : "");
    pthread_rwlock_wrlock(&c->lock);
    evb__serde_entry_t *e = slot_for(c, key);
    if (e && !e->schema) { /* never hide a schema another thread found */
        free(e->msg);
        e->msg = msg;
        msg = NULL;
        e->err = err;
        e->rerr = rerr;
        e->expires_ns = evb_now_ns() + c->miss_ttl_ns;
    }
    pthread_rwlock_unlock(&c->lock);
    free(msg);
}

void evb__serde_cache_stats(evb__serde_cache_t *c, evb_serde_stats_t *out) {
    out->hits = atomic_load(&c->hits);
    out->misses = atomic_load(&c->misses);
    out->negative = atomic_load(&c->negative);
    out->evictions = atomic_load(&c->evictions);
    pthread_rwlock_rdlock(&c->lock);
    out->entries = c->n;
    pthread_rwlock_unlock(&c->lock);
}
