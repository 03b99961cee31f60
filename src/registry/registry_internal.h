/*
 * registry_internal.h: what the files of the registry module share.
 *
 *   avro_schema.c  parse and validate Avro schemas into a graph; canonical
 *                  and normalized forms
 *   avro_compat.c  reader/writer compatibility (Avro schema resolution)
 *   cache.c        a thread-safe id -> schema text cache
 *   registry.c     the registry in the store
 *   client.c       the libcurl client
 *   util.c         error table, levels, modes, versions, UUIDs
 */
#ifndef EVB_REGISTRY_INTERNAL_H
#define EVB_REGISTRY_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../json/json.h"
#include "registry.h"

/* Nesting depth accepted in a schema document (jansson's own limit is
 * 2048); deeper schemas are refused as invalid. */
#define EVB__AVRO_MAX_DEPTH 512

/* ---- parsed Avro schemas ------------------------------------------------- */

typedef enum evb__avro_kind {
    EVB__AV_NULL,
    EVB__AV_BOOLEAN,
    EVB__AV_INT,
    EVB__AV_LONG,
    EVB__AV_FLOAT,
    EVB__AV_DOUBLE,
    EVB__AV_BYTES,
    EVB__AV_STRING,
    EVB__AV_RECORD,
    EVB__AV_ENUM,
    EVB__AV_ARRAY,
    EVB__AV_MAP,
    EVB__AV_UNION,
    EVB__AV_FIXED,
} evb__avro_kind_t;

typedef struct evb__avro_node evb__avro_node_t;

typedef struct evb__avro_field {
    const char *name;
    evb__avro_node_t *type;
    const void *def; /* json_t * from the document, or NULL */
    const char **aliases;
    size_t naliases;
} evb__avro_field_t;

struct evb__avro_node {
    evb__avro_kind_t kind;
    unsigned idx; /* node number, 0.. */
    /* named types (record, enum, fixed) */
    const char *fullname;
    const char *name; /* the unqualified name */
    const char **aliases; /* full names */
    size_t naliases;
    /* record */
    evb__avro_field_t *fields;
    size_t nfields;
    /* enum */
    const char **symbols;
    size_t nsymbols;
    const char *enum_default; /* NULL if none */
    /* fixed */
    int64_t size;
    /* array items, map values */
    evb__avro_node_t *child;
    /* union */
    evb__avro_node_t **branches;
    size_t nbranches;
    /* a valid logical type, or NULL */
    const char *logical;
    int64_t precision, scale; /* decimal */
};

typedef struct evb__avro evb__avro_t;

/*
 * Parse and validate text as an Avro schema. *out (free with
 * evb__avro_free) owns the graph. Errors: INVALID_SCHEMA with the reason
 * in msg (may be NULL), NOMEM.
 */
evb_registry_err_t evb__avro_parse(const char *text, size_t len,
                                   evb__avro_t **out, evb_buf_t *msg);
void evb__avro_free(evb__avro_t *s);
const evb__avro_node_t *evb__avro_root(const evb__avro_t *s);
unsigned evb__avro_node_count(const evb__avro_t *s);

/* Append the Parsing Canonical Form (b is not reset). */
evb_err_t evb__avro_canonical(const evb__avro_t *s, evb_buf_t *b);
/* Append the normalized form (registry.h: PCF plus defaults, aliases,
 * enum defaults and logical types); the registry's equality key. */
evb_err_t evb__avro_normalized(const evb__avro_t *s, evb_buf_t *b);

/*
 * Can data written with writer be read with reader? Returns true if so.
 * Each incompatibility found is appended to messages (if non-NULL) as a
 * JSON string holding Confluent's "{errorType:'...', description:'...',
 * additionalInfo:'...'}", comma-separated from what is already there;
 * reader_role and writer_role ("new", "old") fill the descriptions.
 * *nomem is set when memory ran out (the verdict is then false).
 */
bool evb__avro_can_read(const evb__avro_t *reader, const evb__avro_t *writer,
                        const char *reader_role, const char *writer_role,
                        evb_buf_t *messages, bool *nomem);

/* Set msg (if non-NULL) to the printf-formatted text (any length). */
void evb__vmsg(evb_buf_t *msg, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void evb__msg(evb_buf_t *msg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- id cache ----------------------------------------------------------- */

typedef struct evb__cache_entry evb__cache_entry_t;
typedef struct evb__cache {
    pthread_mutex_t mu;
    evb__cache_entry_t **slots; /* open addressing on id */
    size_t cap;                 /* power of two */
    size_t n;
    size_t max; /* entries kept; when full the cache is emptied */
    uint64_t gen; /* bumped by evb__cache_clear */
} evb__cache_t;

void evb__cache_init(evb__cache_t *c, size_t max);
void evb__cache_destroy(evb__cache_t *c);
/* Copy the entry for id into out (schema malloc'd); false if absent or
 * memory ran out. */
bool evb__cache_get(evb__cache_t *c, int32_t id, evb_registry_schema_t *out);
/* Remember (id, schema); failures are silent (it is only a cache). With
 * gen != 0 (a value of evb__cache_gen taken before the schema was read),
 * nothing is kept if the cache was cleared since. */
void evb__cache_put(evb__cache_t *c, int32_t id, const char *schema,
                    size_t len, uint64_t gen);
uint64_t evb__cache_gen(evb__cache_t *c);
void evb__cache_clear(evb__cache_t *c);

#endif
