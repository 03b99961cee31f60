/*
 * registry: a Confluent-compatible schema registry in evbus's store, Avro
 * schema handling (validation, canonical forms, compatibility), and a
 * client for any Confluent-compatible registry.
 *
 * Model (as Confluent's): a subject holds versions 1, 2, ...; each version
 * names one schema by its global id. Ids are global and stable: a schema
 * that is the same as one already stored (same normalized form, see
 * below), under any subject, gets that schema's id again. Each
 * (subject, version) also gets a random UUID when it is registered: the
 * "schema version id" that the AWS Glue wire format carries in its 16
 * header bytes (reference kafka-connector.md §4.3), so Glue-framed records
 * can be resolved here too (evb_registry_lookup_uuid).
 *
 * Deletes are soft first (the version stays, marked deleted: its id still
 * resolves, it no longer counts for compatibility and is not listed) and
 * permanent second (the version row is removed; permanent=true on a
 * version that was not soft-deleted first is refused, as Confluent does).
 * A schema id stays reserved for its schema forever, so registering the
 * same schema again after a permanent delete gives the same id back; it
 * resolves only while some version (soft-deleted or not) refers to it.
 *
 * Schema equality: two Avro schemas are "the same" when their normalized
 * forms are equal. The normalized form is the Parsing Canonical Form of
 * the Avro specification (whitespace, attribute order, namespaces and
 * primitive spellings do not matter) plus the attributes that change what
 * the data means or how it resolves, which PCF strips: field defaults,
 * aliases, enum defaults and logical types (with precision and scale).
 * Documentation and custom properties do not separate two schemas. The
 * schema text kept for an id is the text it was first registered with.
 *
 * Compatibility follows Avro's schema-resolution rules (the Java
 * implementation's SchemaCompatibility), with Confluent's messages.
 * BACKWARD: the new schema reads data written with the previous one;
 * FORWARD: the previous schema reads data written with the new one; FULL:
 * both; *_TRANSITIVE: against every live version, not just the latest.
 *
 * Only the AVRO schema type is supported; JSON and PROTOBUF are refused
 * with Confluent's "Invalid schema type" error (42201).
 *
 * Errors: every registry function returns an evb_registry_err_t from the
 * table below, which also gives Confluent's error_code and HTTP status.
 * When a function takes an evb_buf_t *msg (which may be NULL), a failure
 * replaces its contents with the message Confluent would send.
 *
 * Threading: an evb_registry_t and an evb_registry_client_t are safe to
 * use from any number of threads at once.
 */
#ifndef EVB_REGISTRY_H
#define EVB_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "../store/store.h"

/* X(enum suffix, Confluent error_code, HTTP status, default message) */
#define EVB_REGISTRY_ERRORS(X)                                                 \
    X(OK, 0, 200, "Success")                                                   \
    X(SUBJECT_NOT_FOUND, 40401, 404, "Subject not found.")                     \
    X(VERSION_NOT_FOUND, 40402, 404, "Version not found.")                     \
    X(SCHEMA_NOT_FOUND, 40403, 404, "Schema not found")                        \
    X(SUBJECT_SOFT_DELETED, 40404, 404, "Subject was soft deleted.")           \
    X(SUBJECT_NOT_SOFT_DELETED, 40405, 404,                                    \
      "Subject was not deleted first before being permanently deleted")        \
    X(VERSION_SOFT_DELETED, 40406, 404, "Version was soft deleted.")           \
    X(VERSION_NOT_SOFT_DELETED, 40407, 404,                                    \
      "Version was not deleted first before being permanently deleted")        \
    X(SUBJECT_COMPATIBILITY_NOT_CONFIGURED, 40408, 404,                        \
      "Subject does not have subject-level compatibility configured")          \
    X(SUBJECT_MODE_NOT_CONFIGURED, 40409, 404,                                 \
      "Subject does not have subject-level mode configured")                   \
    X(INCOMPATIBLE, 409, 409,                                                  \
      "Schema being registered is incompatible with an earlier schema")        \
    X(INVALID_SCHEMA, 42201, 422, "Invalid schema")                            \
    X(INVALID_VERSION, 42202, 422, "Invalid version")                          \
    X(INVALID_COMPATIBILITY, 42203, 422,                                       \
      "Invalid compatibility level. Valid values are none, backward, "         \
      "forward, full, backward_transitive, forward_transitive, and "           \
      "full_transitive")                                                       \
    X(INVALID_MODE, 42204, 422,                                                \
      "Invalid mode. Valid values are READWRITE, READONLY, and IMPORT.")       \
    X(OPERATION_NOT_PERMITTED, 42205, 422, "Operation not permitted")          \
    X(ID_MISMATCH, 42207, 422,                                                 \
      "Schema already registered with another id")                             \
    X(INVALID_SUBJECT, 42208, 422, "Invalid subject")                          \
    X(STORE, 50001, 500, "Error in the backend data store")                    \
    X(TIMEOUT, 50002, 500, "Operation timed out")                              \
    X(NOMEM, 50001, 500, "Out of memory")                                      \
    /* client side only (never served) */                                      \
    X(TRANSPORT, 0, 0, "The schema registry could not be reached")             \
    X(BAD_RESPONSE, 0, 0, "The schema registry's answer is not understood")    \
    X(REMOTE, 0, 0, "The schema registry answered with an error")

typedef enum evb_registry_err {
#define EVB__REGISTRY_ERR_ENUM(name, code, status, msg)                        \
    EVB_REGISTRY_ERR_##name,
    EVB_REGISTRY_ERRORS(EVB__REGISTRY_ERR_ENUM)
#undef EVB__REGISTRY_ERR_ENUM
        EVB_REGISTRY_ERR__COUNT
} evb_registry_err_t;

/* Confluent's error_code (40401, 409, 42201, ...); 0 for OK and the
 * client-side errors. */
int evb_registry_err_code(evb_registry_err_t err);
/* The HTTP status Confluent answers with (404, 409, 422, 500); 200 for OK,
 * 0 for client-side errors. */
unsigned evb_registry_err_status(evb_registry_err_t err);
/* Default message. Never NULL. */
const char *evb_registry_err_message(evb_registry_err_t err);
/* The error whose Confluent error_code is code; REMOTE when none is. */
evb_registry_err_t evb_registry_err_from_code(int code);

/* ---- compatibility levels and modes ------------------------------------- */

typedef enum evb_registry_compat {
    EVB_REGISTRY_COMPAT_NONE,
    EVB_REGISTRY_COMPAT_BACKWARD,
    EVB_REGISTRY_COMPAT_BACKWARD_TRANSITIVE,
    EVB_REGISTRY_COMPAT_FORWARD,
    EVB_REGISTRY_COMPAT_FORWARD_TRANSITIVE,
    EVB_REGISTRY_COMPAT_FULL,
    EVB_REGISTRY_COMPAT_FULL_TRANSITIVE,
} evb_registry_compat_t;

#define EVB_REGISTRY_DEFAULT_COMPAT EVB_REGISTRY_COMPAT_BACKWARD

/* "BACKWARD_TRANSITIVE". Never NULL. */
const char *evb_registry_compat_name(evb_registry_compat_t level);
/* Parse a level name, case-insensitively. False if s names none. */
bool evb_registry_compat_parse(const char *s, evb_registry_compat_t *out);

typedef enum evb_registry_mode {
    EVB_REGISTRY_MODE_READWRITE,
    EVB_REGISTRY_MODE_READONLY,
    EVB_REGISTRY_MODE_IMPORT,
} evb_registry_mode_t;

const char *evb_registry_mode_name(evb_registry_mode_t mode);
/* Parse READWRITE, READONLY or IMPORT (case-insensitive). */
bool evb_registry_mode_parse(const char *s, evb_registry_mode_t *out);

/* ---- versions ------------------------------------------------------------- */

/* "latest" (also spelled -1 by Confluent's clients). */
#define EVB_REGISTRY_VERSION_LATEST (-1)

/*
 * Parse a version path segment: an integer in [1, 2^31-1], "latest" or
 * "-1". Errors: INVALID_VERSION with Confluent's message ("The specified
 * version 'x' is not a valid version id. Allowed values are between
 * [1, 2^31-1] and the string \"latest\"").
 */
evb_registry_err_t evb_registry_parse_version(const char *s, int32_t *out,
                                              evb_buf_t *msg);

/* ---- results ---------------------------------------------------------------- */

/*
 * A schema as the registry returns it. Filled by the lookup functions;
 * the caller owns the strings and releases them with
 * evb_registry_schema_clear (which leaves an all-zero value that may be
 * filled again).
 */
typedef struct evb_registry_schema {
    int32_t id;
    const char *type; /* "AVRO" (static) */
    char *schema;     /* the schema text, NUL-terminated */
    size_t schema_len;
    /* For lookups that name a subject version (else NULL / 0 / zeros): */
    char *subject;
    int32_t version;
    bool deleted;     /* that version is soft-deleted */
    uint8_t uuid[16]; /* its schema version UUID (AWS Glue wire format) */
} evb_registry_schema_t;

void evb_registry_schema_clear(evb_registry_schema_t *s);

/* One (subject, version) pair. */
typedef struct evb_registry_subject_version {
    char *subject;
    int32_t version;
} evb_registry_subject_version_t;

/* Free n pairs and the array (NULL is fine). */
void evb_registry_subject_versions_free(evb_registry_subject_version_t *v,
                                        size_t n);
/* Free a NULL-terminated string array and its strings (NULL is fine). */
void evb_registry_strv_free(char **v);

/* UUID text form ("3f1c9a52-8d0e-4b7a-9c61-0e2f5d7a1b34") from 16 bytes,
 * and back from a NUL-terminated s (false when s is NULL or not a UUID):
 * evb_uuid_format and evb_uuid_parse of common.h. */
void evb_registry_uuid_format(const uint8_t uuid[16], char out[37]);
bool evb_registry_uuid_parse(const char *s, uint8_t out[16]);

/* ---- Avro schemas --------------------------------------------------------- */

/*
 * Validate an Avro schema (JSON text, len bytes) and write its Parsing
 * Canonical Form (Avro specification, "Parsing Canonical Form for
 * Schemas") to pcf (which is reset first; may be NULL to validate only).
 * Errors: INVALID_SCHEMA (msg says why), NOMEM.
 */
evb_registry_err_t evb_registry_avro_canonical(const char *schema, size_t len,
                                               evb_buf_t *pcf, evb_buf_t *msg);

/* The 64-bit Rabin fingerprint (CRC-64-AVRO) of a canonical form. */
uint64_t evb_registry_avro_fingerprint64(const char *pcf, size_t len);

/*
 * Check new_schema against old_schema at one level, ignoring
 * transitivity (NONE is always compatible). *compatible receives the
 * verdict; when messages is non-NULL, every incompatibility found is
 * appended to it as a JSON string (comma-separated, no brackets), in
 * Confluent's form "{errorType:'...', description:'...',
 * additionalInfo:'...'}". Errors: INVALID_SCHEMA when either schema is
 * not a valid Avro schema, NOMEM.
 */
evb_registry_err_t evb_registry_avro_compatible(
    const char *new_schema, size_t new_len, const char *old_schema,
    size_t old_len, evb_registry_compat_t level, bool *compatible,
    evb_buf_t *messages, evb_buf_t *msg);

/* ---- the registry in the store ------------------------------------------- */

typedef struct evb_registry evb_registry_t;

/*
 * A registry over store (borrowed: it must outlive the registry; its
 * schema must be migrated, which evb_store_open does). The caller frees
 * the result with evb_registry_close. Errors: EVB_ERR_NOMEM.
 */
evb_err_t evb_registry_open(evb_store_t *store, evb_registry_t **out,
                            char *errstr, size_t errstr_size);
void evb_registry_close(evb_registry_t *r);

/* A request to register a schema (POST /subjects/{s}/versions). */
typedef struct evb_registry_register_req {
    const char *subject;
    const char *schema; /* the schema text, schema_len bytes */
    size_t schema_len;
    const char *schema_type; /* NULL or "AVRO"; others are refused */
    /* IMPORT mode only (0: not given): the id and version to use. */
    int32_t id;
    int32_t version;
} evb_registry_register_req_t;

/*
 * Register a schema under a subject; *id receives its global id and
 * *version (may be NULL) the subject version that holds it. Idempotent:
 * a schema that a live version of the subject already holds returns that
 * version's id without a new version. The write is durable on return.
 * Errors: INVALID_SUBJECT, INVALID_SCHEMA, INCOMPATIBLE (msg holds
 * Confluent's "Schema being registered is incompatible with an earlier
 * schema for subject ..., details: [...]"), OPERATION_NOT_PERMITTED
 * (READONLY mode), ID_MISMATCH (IMPORT with an id already used by another
 * schema), STORE, NOMEM.
 */
evb_registry_err_t evb_registry_register(evb_registry_t *r,
                                         const evb_registry_register_req_t *req,
                                         int32_t *id, int32_t *version,
                                         evb_buf_t *msg);

/*
 * Find the version of subject that holds schema (POST /subjects/{s}):
 * out gets subject, version, id, schema text (the stored one) and UUID.
 * include_deleted also searches soft-deleted versions.
 * Errors: SUBJECT_NOT_FOUND, SCHEMA_NOT_FOUND, INVALID_SCHEMA, STORE,
 * NOMEM.
 */
evb_registry_err_t evb_registry_lookup_schema(evb_registry_t *r,
                                              const char *subject,
                                              const char *schema, size_t len,
                                              const char *schema_type,
                                              bool include_deleted,
                                              evb_registry_schema_t *out,
                                              evb_buf_t *msg);

/* Subjects with at least one live version (or any version, with
 * include_deleted), sorted; *out is a NULL-terminated array to free with
 * evb_registry_strv_free. Errors: STORE, NOMEM. */
evb_registry_err_t evb_registry_list_subjects(evb_registry_t *r,
                                              bool include_deleted,
                                              char ***out, evb_buf_t *msg);

/* The versions of subject, ascending; *out (malloc'd, free()) has *n
 * entries. Errors: SUBJECT_NOT_FOUND, STORE, NOMEM. */
evb_registry_err_t evb_registry_list_versions(evb_registry_t *r,
                                              const char *subject,
                                              bool include_deleted,
                                              int32_t **out, size_t *n,
                                              evb_buf_t *msg);

/* One version of subject (EVB_REGISTRY_VERSION_LATEST: the latest live
 * one). Errors: SUBJECT_NOT_FOUND, VERSION_NOT_FOUND, STORE, NOMEM. */
evb_registry_err_t evb_registry_get_version(evb_registry_t *r,
                                            const char *subject,
                                            int32_t version,
                                            bool include_deleted,
                                            evb_registry_schema_t *out,
                                            evb_buf_t *msg);

/*
 * The schema with global id (for decoders of the Confluent wire format):
 * out gets id, type and schema text (subject stays NULL). Served from an
 * in-memory cache after the first lookup. Errors: SCHEMA_NOT_FOUND
 * ("Schema <id> not found"), STORE, NOMEM.
 */
evb_registry_err_t evb_registry_lookup_id(evb_registry_t *r, int32_t id,
                                          evb_registry_schema_t *out,
                                          evb_buf_t *msg);

/*
 * The subject version whose schema version UUID is uuid (for decoders of
 * the AWS Glue wire format): out gets everything, subject and version
 * included. Soft-deleted versions resolve too. Errors: SCHEMA_NOT_FOUND,
 * STORE, NOMEM.
 */
evb_registry_err_t evb_registry_lookup_uuid(evb_registry_t *r,
                                            const uint8_t uuid[16],
                                            evb_registry_schema_t *out,
                                            evb_buf_t *msg);

/* The (subject, version) pairs that hold schema id, ordered by subject
 * then version; *out has *n entries (free with
 * evb_registry_subject_versions_free). Errors: SCHEMA_NOT_FOUND, STORE,
 * NOMEM. */
evb_registry_err_t evb_registry_id_versions(
    evb_registry_t *r, int32_t id, bool include_deleted,
    evb_registry_subject_version_t **out, size_t *n, evb_buf_t *msg);

/*
 * Delete every version of subject: soft (marked deleted) or, with
 * permanent, removed (only once soft-deleted). The subject's
 * configuration and mode go with it. *out (free()) receives the versions
 * deleted, *n their count. Errors: SUBJECT_NOT_FOUND,
 * SUBJECT_SOFT_DELETED (soft delete of a subject already soft-deleted),
 * SUBJECT_NOT_SOFT_DELETED, OPERATION_NOT_PERMITTED, STORE, NOMEM.
 */
evb_registry_err_t evb_registry_delete_subject(evb_registry_t *r,
                                               const char *subject,
                                               bool permanent, int32_t **out,
                                               size_t *n, evb_buf_t *msg);

/* Delete one version (or the latest live one); *deleted gets its number.
 * Errors: SUBJECT_NOT_FOUND, VERSION_NOT_FOUND, VERSION_SOFT_DELETED,
 * VERSION_NOT_SOFT_DELETED, OPERATION_NOT_PERMITTED, STORE, NOMEM. */
evb_registry_err_t evb_registry_delete_version(evb_registry_t *r,
                                               const char *subject,
                                               int32_t version, bool permanent,
                                               int32_t *deleted,
                                               evb_buf_t *msg);

/*
 * Test a schema against subject's versions without registering it
 * (POST /compatibility/...): against one version (a number or
 * EVB_REGISTRY_VERSION_LATEST), or with version 0 against the versions
 * the subject's level names (the latest, or all for *_TRANSITIVE).
 * *compatible gets the verdict; messages (may be NULL) gets the
 * comma-separated JSON strings Confluent's verbose answer lists.
 * Errors: SUBJECT_NOT_FOUND, VERSION_NOT_FOUND, INVALID_SCHEMA, STORE,
 * NOMEM.
 */
evb_registry_err_t evb_registry_test_compatibility(
    evb_registry_t *r, const char *subject, int32_t version,
    const char *schema, size_t len, const char *schema_type, bool *compatible,
    evb_buf_t *messages, evb_buf_t *msg);

/*
 * Compatibility configuration; subject NULL means the global one. get:
 * with default_to_global a subject without its own level gets the global
 * level; without it, SUBJECT_COMPATIBILITY_NOT_CONFIGURED. The global
 * level defaults to BACKWARD. delete: *old (may be NULL) gets the level
 * removed; a subject without one is SUBJECT_NOT_FOUND (as Confluent
 * answers); the global one returns to BACKWARD.
 */
evb_registry_err_t evb_registry_get_compat(evb_registry_t *r,
                                           const char *subject,
                                           bool default_to_global,
                                           evb_registry_compat_t *out,
                                           evb_buf_t *msg);
evb_registry_err_t evb_registry_set_compat(evb_registry_t *r,
                                           const char *subject,
                                           evb_registry_compat_t level,
                                           evb_buf_t *msg);
evb_registry_err_t evb_registry_delete_compat(evb_registry_t *r,
                                              const char *subject,
                                              evb_registry_compat_t *old,
                                              evb_buf_t *msg);

/* Modes, as the compatibility configuration (global default
 * READWRITE; SUBJECT_MODE_NOT_CONFIGURED for a subject without one
 * unless default_to_global). READONLY refuses registrations and deletes
 * with OPERATION_NOT_PERMITTED; IMPORT skips compatibility checks and
 * honours the id and version given to evb_registry_register. */
evb_registry_err_t evb_registry_get_mode(evb_registry_t *r,
                                         const char *subject,
                                         bool default_to_global,
                                         evb_registry_mode_t *out,
                                         evb_buf_t *msg);
evb_registry_err_t evb_registry_set_mode(evb_registry_t *r,
                                         const char *subject,
                                         evb_registry_mode_t mode,
                                         evb_buf_t *msg);
evb_registry_err_t evb_registry_delete_mode(evb_registry_t *r,
                                            const char *subject,
                                            evb_registry_mode_t *old,
                                            evb_buf_t *msg);

/* ---- client for a Confluent-compatible registry ------------------------- */

/*
 * One HTTP exchange with a registry over libcurl: what the client below
 * and the codec's own registry requests (src/serde/source.c) share. Each
 * caller turns the answer into its errors.
 */
typedef struct evb_registry_http_request {
    const char *method;    /* "GET", "POST", ... */
    const char *url;       /* the whole URL, already escaped */
    const char *accept;    /* the Accept header's value */
    const char *body;      /* sent as application/vnd.schemaregistry.v1+json,
                              or NULL */
    const char *user_info; /* "user:password" for HTTP basic auth, or NULL */
    long timeout_ms;       /* connection and whole-exchange timeout */
    size_t max_answer;     /* a longer answer fails the transfer */
} evb_registry_http_request_t;

typedef struct evb_registry_http_answer {
    int curl_code;   /* a CURLcode: 0 when an answer came, of any status;
                        CURLE_WRITE_ERROR (23) when it was too long */
    char error[256]; /* curl_code != 0: libcurl's words (CURL_ERROR_SIZE) */
    long status;     /* the HTTP status, 0 without an answer */
    evb_buf_t body;  /* the answer's body; the caller frees it */
} evb_registry_http_answer_t;

/*
 * Send req and collect the answer into *ans (always initialised, so
 * ans->body can be freed whatever happens). easy is a libcurl easy handle
 * (CURL *) fresh or reset by the caller, which keeps it (no pointer into
 * req or ans is left in it); NULL: a handle of its own, cleaned up before
 * returning. Returns EVB_ERR_NOMEM (nothing sent) when the headers or the
 * handle cannot be allocated, else EVB_ERR_OK, even when the transfer
 * failed (ans->curl_code). Any thread; blocks for up to the timeout.
 */
evb_err_t evb_registry_http(void *easy, const evb_registry_http_request_t *req,
                            evb_registry_http_answer_t *ans);

typedef struct evb_registry_client evb_registry_client_t;

typedef struct evb_registry_client_config {
    const char *url;       /* base URL, e.g. "http://127.0.0.1:8081" */
    const char *user_info; /* "user:password" for HTTP basic auth, or NULL */
    long timeout_ms;       /* per request; 0: 10000 */
    size_t cache_max;      /* ids kept in the cache; 0: 10000 */
} evb_registry_client_config_t;

/*
 * A client for the registry at cfg->url (strings are copied). Free it
 * with evb_registry_client_free. Errors: EVB_ERR_INVALID_ARG (no URL, or
 * not http:// or https://), EVB_ERR_NOMEM, EVB_ERR_INTERNAL (libcurl
 * could not be initialised).
 */
evb_err_t evb_registry_client_new(const evb_registry_client_config_t *cfg,
                                  evb_registry_client_t **out, char *errstr,
                                  size_t errstr_size);
void evb_registry_client_free(evb_registry_client_t *c);

/*
 * GET /schemas/ids/{id}: out gets id, type and schema. Answers from the
 * client's id cache when it can (a schema id never changes meaning).
 * Errors: the remote's (SCHEMA_NOT_FOUND, ...), TRANSPORT, BAD_RESPONSE,
 * REMOTE, NOMEM.
 */
evb_registry_err_t evb_registry_client_get_by_id(evb_registry_client_t *c,
                                                 int32_t id,
                                                 evb_registry_schema_t *out,
                                                 evb_buf_t *msg);

/* GET /subjects/{s}/versions/{v|latest}: out gets subject, version, id
 * and schema (and the id goes into the cache). */
evb_registry_err_t evb_registry_client_get_version(evb_registry_client_t *c,
                                                   const char *subject,
                                                   int32_t version,
                                                   evb_registry_schema_t *out,
                                                   evb_buf_t *msg);

/* POST /subjects/{s}/versions: *id gets the schema's id (and the schema
 * goes into the cache under it). schema_type NULL means AVRO. */
evb_registry_err_t evb_registry_client_register(evb_registry_client_t *c,
                                                const char *subject,
                                                const char *schema, size_t len,
                                                const char *schema_type,
                                                int32_t *id, evb_buf_t *msg);

/* Cache statistics: lookups answered from the cache, and requests sent. */
void evb_registry_client_stats(evb_registry_client_t *c, uint64_t *hits,
                               uint64_t *requests);

#endif
