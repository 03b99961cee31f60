/*
 * serde: Kafka record values <-> JSON, with a schema registry behind it.
 *
 * What Pipes, the Kafka sink connector and the fraud demo share: turn a
 * record value into the JSON EventBridge would put in detail.value, and
 * JSON into a framed Avro value. An evb_serde_t is a thread-safe codec
 * that owns
 *   - a schema source: evbus's own registry in the same process
 *     (evb_registry_t, borrowed), or any Confluent-compatible registry at
 *     a URL (through src/registry's libcurl client; Glue UUIDs through
 *     evbus's extension GET /schemas/uuids/{uuid}), or none (then only
 *     JSON and raw values decode);
 *   - a bounded cache of parsed schemas (evb_avro_schema_t) by registry
 *     id and by AWS Glue schema version UUID, so the hot path of a decode
 *     is a hash lookup under a read lock, no registry call and no parse.
 *     Eviction is CLOCK (second chance). Unknown ids are remembered for a
 *     short while (miss_ttl_ms) so a topic full of bad records does not
 *     turn into one registry request per record.
 *
 * Decoding (evb_serde_decode). With EVB_SERDE_MODE_AUTO the first byte
 * decides:
 *   0x00          Confluent wire format: 4-byte id, Avro datum
 *   0x03          AWS Glue wire format: compression (0, or 5 = zlib),
 *                 16-byte schema version UUID, Avro datum
 *   empty value   JSON null (what a tombstone becomes)
 *   otherwise     the value itself if it is one JSON text (written back
 *                 compact: insignificant white space removed); else a JSON
 *                 string if it is valid UTF-8 (as Kafka's StringConverter
 *                 would give); else a base64 string (as ByteArrayConverter)
 * A JSON text never starts with 0x00 or 0x03, so framed Avro and JSON
 * cannot be confused; binary values that start with those bytes are
 * taken as framed (use EVB_SERDE_MODE_BYTES for raw binary topics).
 * Avro goes to JSON with src/avro's rules (docs/avro-json.md): the
 * decoder options (EVB_AVRO_DECIMAL_NUMBER, depth and output limits)
 * pass through evb_serde_decode_opts_t.avro unchanged.
 *
 * Encoding: resolve a writer once (evb_serde_writer_*: register a schema
 * text under a subject, idempotently, or take a subject's latest or a
 * given version, or an id, or a Glue UUID), then evb_serde_encode any
 * number of JSON documents with it, framed for Confluent or for Glue (the
 * latter needs the writer's schema version UUID, which evbus's registry
 * has for every subject version). Resolving a writer talks to the
 * registry (and registering is a durable write): do it once per
 * configuration, not once per record.
 *
 * Errors (evb_err_t, reason in errstr; on error the output buffer is left
 * as it was):
 *   EVB_ERR_NOT_FOUND    the registry has no such schema id / UUID /
 *                        subject / version (info.registry_err then says
 *                        which Confluent error it was: 40403 for a schema)
 *   EVB_ERR_INVALID_ARG  malformed value: truncated header, unknown
 *                        compression, bad zlib, Avro data that does not
 *                        match its schema, a schema that is not AVRO or
 *                        does not parse, no registry configured, forced
 *                        mode the value does not fit, JSON of the wrong
 *                        shape for the writer schema; and registry refusals
 *                        of a schema (invalid, incompatible)
 *   EVB_ERR_INVALID_JSON the JSON given to the encoder (or forced JSON
 *                        mode) does not parse
 *   EVB_ERR_IO           the external registry could not be reached or
 *                        answered something that is not a registry answer
 *                        (retriable); the in-process store failed
 *   EVB_ERR_TOO_LARGE    output past a limit
 *   EVB_ERR_NOMEM
 * None of these ever crashes or hangs: every length is checked.
 *
 * Threads: every function may be called from any number of threads at
 * once on the same evb_serde_t. A writer (evb_serde_writer_t) is
 * immutable once resolved and may be shared between threads.
 *
 * A schema id never changes meaning, so a cached schema is kept even if
 * every version holding it is later deleted from the registry: values
 * written with it keep decoding in this process until it is evicted.
 */
#ifndef EVB_SERDE_H
#define EVB_SERDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../avro/avro.h"
#include "../common/common.h"
#include "../registry/registry.h"

typedef struct evb_serde evb_serde_t;

#define EVB_SERDE_DEFAULT_CACHE_MAX 1000
#define EVB_SERDE_DEFAULT_MISS_TTL_MS 1000

typedef struct evb_serde_config {
    /* The schema source: at most one of these two. Neither: no registry
     * (Avro values are refused). */
    evb_registry_t *registry; /* in-process registry (borrowed; must
                                 outlive the codec) */
    const char *registry_url; /* Confluent-compatible registry, http(s) */
    const char *user_info;    /* "user:password" for the URL, or NULL */
    long timeout_ms;          /* per registry request; 0: 10000 */
    size_t cache_max; /* parsed schemas kept (ids and UUIDs together, and
                         remembered misses); 0: EVB_SERDE_DEFAULT_CACHE_MAX */
    long miss_ttl_ms; /* how long an unknown id/UUID is remembered;
                         0: EVB_SERDE_DEFAULT_MISS_TTL_MS; < 0: never */
} evb_serde_config_t;

/*
 * Create a codec (strings in cfg are copied; cfg may be NULL for a codec
 * without a registry). Free it with evb_serde_free. Errors:
 * EVB_ERR_INVALID_ARG (both sources given, or a URL that is not http://
 * or https://), EVB_ERR_NOMEM, EVB_ERR_INTERNAL (libcurl).
 */
evb_err_t evb_serde_new(const evb_serde_config_t *cfg, evb_serde_t **out,
                        char *errstr, size_t errstr_size);
/* Free the codec and its cache. Writers resolved from it stay valid (they
 * hold their own schema reference). NULL is ignored. */
void evb_serde_free(evb_serde_t *s);

/* Whether the codec has a schema source. */
bool evb_serde_has_registry(const evb_serde_t *s);

/* ---- decoding -------------------------------------------------------------
 */

typedef enum evb_serde_mode {
    EVB_SERDE_MODE_AUTO = 0,  /* see the top of this file */
    EVB_SERDE_MODE_AVRO,      /* Confluent or Glue framing, else an error */
    EVB_SERDE_MODE_CONFLUENT, /* Confluent framing only */
    EVB_SERDE_MODE_GLUE,      /* Glue framing only */
    EVB_SERDE_MODE_JSON,      /* one JSON text, else an error */
    EVB_SERDE_MODE_STRING,    /* always a JSON string (invalid UTF-8 is
                                 replaced by U+FFFD, as Java decodes) */
    EVB_SERDE_MODE_BYTES,     /* always a base64 JSON string */
} evb_serde_mode_t;

/* "auto", "avro", "confluent", "glue", "json", "string", "bytes"; and
 * back (false if the name is none of them). */
const char *evb_serde_mode_name(evb_serde_mode_t m);
bool evb_serde_mode_parse(const char *name, evb_serde_mode_t *out);

typedef struct evb_serde_decode_opts {
    evb_serde_mode_t mode;
    /* Avro -> JSON options (flags EVB_AVRO_DECIMAL_NUMBER and
     * EVB_AVRO_ALLOW_TRAILING, max_depth, max_output); max_depth and
     * max_output also bound JSON values. */
    evb_avro_json_opts_t avro;
    size_t max_payload; /* Glue zlib payload bound; 0: 64 MiB */
} evb_serde_decode_opts_t;

/* What a value turned out to be. */
typedef enum evb_serde_kind {
    EVB_SERDE_KIND_NULL = 0, /* empty value: JSON null */
    EVB_SERDE_KIND_AVRO,     /* framed Avro, decoded with its schema */
    EVB_SERDE_KIND_JSON,     /* a JSON text */
    EVB_SERDE_KIND_STRING,   /* text, written as a JSON string */
    EVB_SERDE_KIND_BYTES,    /* binary, written as a base64 JSON string */
} evb_serde_kind_t;

const char *evb_serde_kind_name(evb_serde_kind_t k); /* "avro", ... */

typedef struct evb_serde_info {
    evb_serde_kind_t kind;
    /* Avro only (also filled when the schema lookup failed): */
    evb_wire_format_t wire; /* EVB_WIRE_CONFLUENT or EVB_WIRE_GLUE */
    int32_t schema_id;      /* Confluent: from the header; Glue: the
                               registry id of the UUID's schema when known */
    uint8_t glue_uuid[16];
    uint8_t glue_compression;
    /* When a registry lookup failed: the registry's error
     * (EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND for an unknown id, code 40403);
     * else EVB_REGISTRY_ERR_OK. */
    evb_registry_err_t registry_err;
} evb_serde_info_t;

/*
 * Decode one record value (len bytes at data; data may be NULL when len
 * is 0) and append its JSON text to out (NUL-terminated; bounded by
 * out->max and opts->avro.max_output). opts may be NULL (AUTO, defaults);
 * info may be NULL. On error out is unchanged and info (if given) says
 * as much as was learnt (kind, wire format, id).
 */
evb_err_t evb_serde_decode(evb_serde_t *s, const void *data, size_t len,
                           const evb_serde_decode_opts_t *opts, evb_buf_t *out,
                           evb_serde_info_t *info, char *errstr,
                           size_t errstr_size);

/*
 * The parsed schema with registry id `id` (from the cache, or fetched and
 * cached): *out gets a new reference (release with evb_avro_schema_unref).
 * Errors as for decoding (NOT_FOUND with *rerr = SCHEMA_NOT_FOUND, ...);
 * rerr may be NULL.
 */
evb_err_t evb_serde_schema_by_id(evb_serde_t *s, int32_t id,
                                 evb_avro_schema_t **out,
                                 evb_registry_err_t *rerr, char *errstr,
                                 size_t errstr_size);
/* The same by Glue schema version UUID; *id (may be NULL) gets the
 * registry id of the schema. */
evb_err_t evb_serde_schema_by_uuid(evb_serde_t *s, const uint8_t uuid[16],
                                   evb_avro_schema_t **out, int32_t *id,
                                   evb_registry_err_t *rerr, char *errstr,
                                   size_t errstr_size);

/* ---- encoding -------------------------------------------------------------
 */

/* The schema a producer writes with. Resolve it with evb_serde_writer_*,
 * release it with evb_serde_writer_clear. */
typedef struct evb_serde_writer {
    int32_t id;      /* registry schema id */
    int32_t version; /* subject version, 0 when not known */
    bool has_uuid;   /* the Glue schema version UUID is known */
    uint8_t uuid[16];
    evb_avro_schema_t *schema; /* one reference, owned by the writer */
} evb_serde_writer_t;

/* Flags for writer resolution */
#define EVB_SERDE_WRITER_UUID                                                  \
    0x1u /* also find the Glue schema version                                  \
            UUID; an error if the registry has                                 \
            none (an external registry that is                                 \
            not evbus) */

/*
 * Register schema text (len bytes) under subject (idempotent: a schema
 * the subject already holds gives its id back, no new version) and make
 * a writer of it. Registry refusals come back as EVB_ERR_INVALID_ARG with
 * the registry's message (rerr, may be NULL, gets its error: INCOMPATIBLE,
 * INVALID_SCHEMA, ...). With the in-process registry the UUID is always
 * filled; with an external one only with EVB_SERDE_WRITER_UUID.
 */
evb_err_t evb_serde_writer_register(evb_serde_t *s, const char *subject,
                                    const char *schema, size_t len,
                                    unsigned flags, evb_serde_writer_t *w,
                                    evb_registry_err_t *rerr, char *errstr,
                                    size_t errstr_size);

/* A writer for version `version` of subject (EVB_REGISTRY_VERSION_LATEST:
 * the latest). NOT_FOUND if the subject or version does not exist. */
evb_err_t evb_serde_writer_version(evb_serde_t *s, const char *subject,
                                   int32_t version, unsigned flags,
                                   evb_serde_writer_t *w,
                                   evb_registry_err_t *rerr, char *errstr,
                                   size_t errstr_size);

/* A writer for schema id `id` (Confluent framing only: no UUID). */
evb_err_t evb_serde_writer_id(evb_serde_t *s, int32_t id, evb_serde_writer_t *w,
                              evb_registry_err_t *rerr, char *errstr,
                              size_t errstr_size);

/* A writer for Glue schema version UUID `uuid` (either framing). */
evb_err_t evb_serde_writer_uuid(evb_serde_t *s, const uint8_t uuid[16],
                                evb_serde_writer_t *w, evb_registry_err_t *rerr,
                                char *errstr, size_t errstr_size);

/* Release the writer's schema and zero it. A zeroed writer is fine. */
void evb_serde_writer_clear(evb_serde_writer_t *w);

typedef struct evb_serde_encode_opts {
    evb_wire_format_t wire;   /* 0 or EVB_WIRE_CONFLUENT, or EVB_WIRE_GLUE */
    uint8_t glue_compression; /* EVB_WIRE_GLUE_COMPRESSION_NONE or _ZLIB */
    unsigned flags;           /* 0 or EVB_AVRO_STRICT */
} evb_serde_encode_opts_t;

/*
 * Encode the JSON document (len bytes) as one Avro datum of w's schema
 * and append it, framed, to out. opts may be NULL (Confluent, no flags).
 * Glue framing needs w->has_uuid (else EVB_ERR_INVALID_ARG). Errors:
 * EVB_ERR_INVALID_JSON, EVB_ERR_INVALID_ARG (does not fit the schema;
 * errstr says where), EVB_ERR_TOO_LARGE, EVB_ERR_NOMEM.
 */
evb_err_t evb_serde_encode(const evb_serde_writer_t *w,
                           const evb_serde_encode_opts_t *opts,
                           const char *json, size_t len, evb_buf_t *out,
                           char *errstr, size_t errstr_size);

/* ---- statistics -----------------------------------------------------------
 */

typedef struct evb_serde_stats {
    uint64_t hits;      /* schema lookups answered from the cache */
    uint64_t misses;    /* lookups that went to the registry */
    uint64_t negative;  /* lookups answered by a remembered miss */
    uint64_t evictions; /* entries pushed out by the bound */
    size_t entries;     /* entries now held */
} evb_serde_stats_t;

void evb_serde_get_stats(evb_serde_t *s, evb_serde_stats_t *out);

#endif
