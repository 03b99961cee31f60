/*
 * serde_internal.h: what the files of the serde module share.
 *
 *   cache.c   the bounded CLOCK cache of parsed schemas (by id and by
 *             Glue UUID), with remembered misses
 *   source.c  where schemas come from: the in-process registry, or an
 *             external one (src/registry's client, plus evbus's UUID
 *             endpoints over libcurl)
 *   serde.c   the codec: decode (auto-detection, framings, JSON, raw),
 *             writers and encode
 */
#ifndef EVB_SERDE_INTERNAL_H
#define EVB_SERDE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "serde.h"

/* ---- cache ----------------------------------------------------------------
 */

typedef struct evb__serde_key {
    bool by_uuid;
    int32_t id;       /* the key when !by_uuid */
    uint8_t uuid[16]; /* the key when by_uuid */
} evb__serde_key_t;

typedef struct evb__serde_entry evb__serde_entry_t;

typedef struct evb__serde_cache {
    pthread_rwlock_t lock;
    evb__serde_entry_t **buckets; /* chained hash on the key */
    size_t nbuckets;              /* power of two */
    evb__serde_entry_t **ring;    /* the CLOCK: every entry, max slots */
    size_t max, n, hand;
    uint64_t miss_ttl_ns; /* 0: misses are not remembered */
    _Atomic uint64_t hits, misses, negative, evictions;
} evb__serde_cache_t;

/* A cache answer. */
typedef enum evb__serde_lookup {
    EVB__SERDE_ABSENT, /* not known (or a miss that has expired) */
    EVB__SERDE_HIT,    /* *schema holds a new reference */
    EVB__SERDE_MISS    /* a remembered failure: *err, *rerr, errstr */
} evb__serde_lookup_t;

evb_err_t evb__serde_cache_init(evb__serde_cache_t *c, size_t max,
                                uint64_t miss_ttl_ns);
void evb__serde_cache_destroy(evb__serde_cache_t *c);

/*
 * Look key up. HIT: *schema gets a new reference and *id (may be NULL)
 * the schema's registry id (for UUID keys; 0 if unknown). MISS: *err,
 * *rerr and errstr get the remembered failure. Read lock only. With
 * count, the answer goes into the statistics (hits, misses, negative).
 */
evb__serde_lookup_t evb__serde_cache_get(evb__serde_cache_t *c,
                                         const evb__serde_key_t *key,
                                         evb_avro_schema_t **schema,
                                         int32_t *id, evb_err_t *err,
                                         evb_registry_err_t *rerr, char *errstr,
                                         size_t errstr_size, bool count);

/* Remember a schema (the cache takes its own reference) and, for UUID
 * keys, its registry id. Allocation failures are silent (only a cache). */
void evb__serde_cache_put(evb__serde_cache_t *c, const evb__serde_key_t *key,
                          evb_avro_schema_t *schema, int32_t id);

/* Remember a failure for miss_ttl (nothing when misses are not kept). */
void evb__serde_cache_put_miss(evb__serde_cache_t *c,
                               const evb__serde_key_t *key, evb_err_t err,
                               evb_registry_err_t rerr, const char *errstr);

void evb__serde_cache_stats(evb__serde_cache_t *c, evb_serde_stats_t *out);

/* ---- schema sources --------------------------------------------------------
 */

typedef struct evb__serde_remote evb__serde_remote_t;

struct evb_serde {
    evb_registry_t *registry;      /* in-process, borrowed */
    evb_registry_client_t *client; /* external, owned */
    evb__serde_remote_t *remote;   /* external: evbus's UUID endpoints */
    evb__serde_cache_t cache;
};

/* The registry error as an evb_err_t (NOT_FOUND, IO, INVALID_ARG, ...). */
evb_err_t evb__serde_err_of(evb_registry_err_t rerr);

/* An external registry for the requests the client lacks. */
evb_err_t evb__serde_remote_new(const evb_serde_config_t *cfg,
                                evb__serde_remote_t **out, char *errstr,
                                size_t errstr_size);
void evb__serde_remote_free(evb__serde_remote_t *r);

/*
 * Fetch the schema text with registry id id / version UUID uuid from the
 * codec's source (out: as evb_registry_lookup_id/_uuid fill it; clear it
 * with evb_registry_schema_clear). No source: INVALID_ARG. Errors carry
 * the registry's error in *rerr and its message in errstr.
 */
evb_err_t evb__serde_fetch_id(evb_serde_t *s, int32_t id,
                              evb_registry_schema_t *out,
                              evb_registry_err_t *rerr, char *errstr,
                              size_t errstr_size);
evb_err_t evb__serde_fetch_uuid(evb_serde_t *s, const uint8_t uuid[16],
                                evb_registry_schema_t *out,
                                evb_registry_err_t *rerr, char *errstr,
                                size_t errstr_size);

/* Register schema under subject: *id and *version (0 when the source does
 * not say) of the subject version holding it. */
evb_err_t evb__serde_register(evb_serde_t *s, const char *subject,
                              const char *schema, size_t len, int32_t *id,
                              int32_t *version, evb_registry_err_t *rerr,
                              char *errstr, size_t errstr_size);

/* A subject version (or EVB_REGISTRY_VERSION_LATEST): id, version, schema
 * text and, for the in-process registry, its UUID. */
evb_err_t evb__serde_fetch_version(evb_serde_t *s, const char *subject,
                                   int32_t version, evb_registry_schema_t *out,
                                   evb_registry_err_t *rerr, char *errstr,
                                   size_t errstr_size);

/* External registries: the version of subject holding schema text
 * (POST /subjects/{s}), and the UUID of a subject version (evbus's
 * GET /subjects/{s}/versions/{v}/uuid). */
evb_err_t evb__serde_remote_version_of(evb__serde_remote_t *r,
                                       const char *subject, const char *schema,
                                       size_t len, int32_t *version,
                                       evb_registry_err_t *rerr, char *errstr,
                                       size_t errstr_size);
evb_err_t evb__serde_remote_uuid_of(evb__serde_remote_t *r, const char *subject,
                                    int32_t version, uint8_t uuid[16],
                                    evb_registry_err_t *rerr, char *errstr,
                                    size_t errstr_size);

#endif
