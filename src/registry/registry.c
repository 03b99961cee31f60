/*
 * registry.c: the schema registry in evbus's store (tables of migration 5:
 * registry_schemas, registry_versions, registry_config).
 *
 * Every change is one unit of work on the store's writer thread, so a
 * registration reads the subject's versions, checks compatibility, picks
 * or creates the schema id and adds the version in one transaction: two
 * registrations racing on one subject cannot both pass their check
 * against the same latest version. The check itself (microseconds for
 * real schemas) therefore runs on the writer thread. Reads use the
 * calling thread's read connection.
 *
 * Lookups by id are served from an in-memory cache (cache.c) after the
 * first one; a permanent delete empties it, since an id may stop
 * resolving then.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "registry_internal.h"

struct evb_registry {
    evb_store_t *store;
    evb__cache_t cache;
};

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

evb_err_t evb_registry_open(evb_store_t *store, evb_registry_t **out,
                            char *errstr, size_t errstr_size) {
    *out = NULL;
    evb_registry_t *r = calloc(1, sizeof *r);
    if (!r)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    r->store = store;
    evb__cache_init(&r->cache, 0);
    *out = r;
    return EVB_ERR_OK;
}

void evb_registry_close(evb_registry_t *r) {
    if (!r)
        return;
    evb__cache_destroy(&r->cache);
    free(r);
}

/* ---- shared pieces of the units -------------------------------------------- */

/* What every unit carries: its registry error (set with a message when
 * the unit fails for a reason of the registry's) and the caller's msg. */
typedef struct unit {
    evb_registry_err_t rerr;
    evb_buf_t *msg;
} unit_t;

/* Fail a unit with a registry error; the return value makes the store
 * roll the unit back. */
__attribute__((format(printf, 3, 4))) static evb_err_t
ufail(unit_t *u, evb_registry_err_t err, const char *fmt, ...) {
    u->rerr = err;
    va_list ap;
    va_start(ap, fmt);
    evb__vmsg(u->msg, fmt, ap);
    va_end(ap);
    return EVB_ERR_INVALID_ARG;
}

static evb_registry_err_t finish(evb_err_t err, const unit_t *u,
                                 const char *errstr) {
    if (u->rerr)
        return u->rerr;
    if (err == EVB_ERR_NOMEM) {
        evb__msg(u->msg, "Out of memory");
        return EVB_REGISTRY_ERR_NOMEM;
    }
    if (err) {
        evb__msg(u->msg, "Error in the backend data store: %s", errstr);
        return EVB_REGISTRY_ERR_STORE;
    }
    return EVB_REGISTRY_ERR_OK;
}

static evb_err_t prep(sqlite3 *db, const char *sql, sqlite3_stmt **st,
                      char *errstr, size_t errstr_size) {
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return evb_store_sqlerr(db, "preparing a registry query", errstr,
                                errstr_size);
    }
    return EVB_ERR_OK;
}

static char *col_dup(sqlite3_stmt *st, int col, size_t *len) {
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char *r = malloc(n + 1);
    if (!r)
        return NULL;
    if (n)
        memcpy(r, t, n);
    r[n] = '\0';
    if (len)
        *len = n;
    return r;
}

static bool valid_subject(const char *s) {
    if (!s || !s[0])
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return false;
    return true;
}

static evb_registry_err_t bad_subject(const char *s, evb_buf_t *msg) {
    evb__msg(msg, "The specified subject '%.200s' is not valid.", s ? s : "");
    return EVB_REGISTRY_ERR_INVALID_SUBJECT;
}

/* The schema type given with a schema: AVRO (or none) only. */
static evb_registry_err_t check_type(const char *type, evb_buf_t *msg) {
    if (!type || strcmp(type, "AVRO") == 0)
        return EVB_REGISTRY_ERR_OK;
    evb__msg(msg, "Invalid schema type %.100s", type);
    return EVB_REGISTRY_ERR_INVALID_SCHEMA;
}

/* Parse a schema given by a client; invalid ones get Confluent's
 * "Invalid schema ..., details: ..." message. */
static evb_registry_err_t parse_given(const char *schema, size_t len,
                                      const char *type, evb__avro_t **out,
                                      evb_buf_t *norm, evb_buf_t *msg) {
    *out = NULL;
    evb_registry_err_t err = check_type(type, msg);
    if (err)
        return err;
    if (len == 0) {
        evb__msg(msg, "Empty schema");
        return EVB_REGISTRY_ERR_INVALID_SCHEMA;
    }
    evb_buf_t why;
    evb_buf_init(&why, 0);
    err = evb__avro_parse(schema, len, out, &why);
    if (err == EVB_REGISTRY_ERR_INVALID_SCHEMA)
        evb__msg(msg, "Invalid schema %.*s, details: %s",
                 (int)(len > 1000 ? 1000 : len), schema,
                 why.data ? why.data : "");
    else if (err)
        evb__msg(msg, "Out of memory");
    evb_buf_free(&why);
    if (err)
        return err;
    if (norm && evb__avro_normalized(*out, norm)) {
        evb__avro_free(*out);
        *out = NULL;
        evb__msg(msg, "Out of memory");
        return EVB_REGISTRY_ERR_NOMEM;
    }
    return EVB_REGISTRY_ERR_OK;
}

/* ---- configuration --------------------------------------------------------- */

/* The column (compatibility or mode) of subject's row ('' for global):
 * *out gets a malloc'd copy, or NULL when there is none. */
static evb_err_t config_get(sqlite3 *db, const char *subject, bool mode,
                            char **out, char *errstr, size_t errstr_size) {
    *out = NULL;
    sqlite3_stmt *st;
    evb_err_t err = prep(db,
                         mode ? "SELECT mode FROM registry_config WHERE "
                                "subject=?1"
                              : "SELECT compatibility FROM registry_config "
                                "WHERE subject=?1",
                         &st, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_bind_text(st, 1, subject ? subject : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *out = col_dup(st, 0, NULL);
        if (!*out)
            err = EVB_ERR_NOMEM;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = evb_store_sqlerr(db, "reading the registry configuration", errstr,
                               errstr_size);
    }
    sqlite3_finalize(st);
    return err;
}

/* The level that applies to subject: its own, else the global one, else
 * BACKWARD. */
static evb_err_t effective_compat(sqlite3 *db, const char *subject,
                                  evb_registry_compat_t *out, char *errstr,
                                  size_t errstr_size) {
    *out = EVB_REGISTRY_DEFAULT_COMPAT;
    char *v = NULL;
    evb_err_t err = config_get(db, subject, false, &v, errstr, errstr_size);
    if (!err && !v)
        err = config_get(db, NULL, false, &v, errstr, errstr_size);
    if (v)
        (void)evb_registry_compat_parse(v, out);
    free(v);
    return err;
}

static evb_err_t effective_mode(sqlite3 *db, const char *subject,
                                evb_registry_mode_t *out, char *errstr,
                                size_t errstr_size) {
    *out = EVB_REGISTRY_MODE_READWRITE;
    char *v = NULL;
    evb_err_t err = config_get(db, subject, true, &v, errstr, errstr_size);
    if (!err && !v)
        err = config_get(db, NULL, true, &v, errstr, errstr_size);
    if (v)
        (void)evb_registry_mode_parse(v, out);
    free(v);
    return err;
}

/* Set (value non-NULL) or clear one column of subject's row. */
static evb_err_t config_put(sqlite3 *db, const char *subject, bool mode,
                            const char *value, char *errstr,
                            size_t errstr_size) {
    const char *sql =
        mode ? "INSERT INTO registry_config(subject, mode) VALUES(?1, ?2) "
               "ON CONFLICT(subject) DO UPDATE SET mode=excluded.mode"
             : "INSERT INTO registry_config(subject, compatibility) "
               "VALUES(?1, ?2) ON CONFLICT(subject) DO UPDATE SET "
               "compatibility=excluded.compatibility";
    sqlite3_stmt *st;
    evb_err_t err = prep(db, sql, &st, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_bind_text(st, 1, subject ? subject : "", -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    if (sqlite3_step(st) != SQLITE_DONE)
        err = evb_store_sqlerr(db, "writing the registry configuration",
                               errstr, errstr_size);
    sqlite3_finalize(st);
    if (!err && !value &&
        sqlite3_exec(db,
                     "DELETE FROM registry_config WHERE compatibility IS NULL "
                     "AND mode IS NULL",
                     NULL, NULL, NULL) != SQLITE_OK)
        err = evb_store_sqlerr(db, "writing the registry configuration",
                               errstr, errstr_size);
    return err;
}

static evb_err_t config_drop_subject(sqlite3 *db, const char *subject,
                                     char *errstr, size_t errstr_size) {
    sqlite3_stmt *st;
    evb_err_t err = prep(db, "DELETE FROM registry_config WHERE subject=?1",
                         &st, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        err = evb_store_sqlerr(db, "deleting a subject's configuration",
                               errstr, errstr_size);
    sqlite3_finalize(st);
    return err;
}

/* ---- a subject's versions ---------------------------------------------------- */

typedef struct vrow {
    int32_t version;
    int32_t id;
    bool deleted;
    char *schema;
    size_t len;
} vrow_t;

typedef struct vlist {
    vrow_t *v;
    size_t n, cap;
} vlist_t;

static void vlist_free(vlist_t *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].schema);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Every version of subject, ascending, with schema texts when
 * with_schema. */
static evb_err_t load_versions(sqlite3 *db, const char *subject,
                               bool with_schema, vlist_t *out, char *errstr,
                               size_t errstr_size) {
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    evb_err_t err = prep(
        db,
        with_schema
            ? "SELECT v.version, v.schema_id, v.deleted, s.schema FROM "
              "registry_versions v JOIN registry_schemas s ON s.id = "
              "v.schema_id WHERE v.subject=?1 ORDER BY v.version"
            : "SELECT version, schema_id, deleted FROM registry_versions "
              "WHERE subject=?1 ORDER BY version",
        &st, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    int rc;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 8;
            vrow_t *v = realloc(out->v, cap * sizeof *v);
            if (!v) {
                err = EVB_ERR_NOMEM;
                break;
            }
            out->v = v;
            out->cap = cap;
        }
        vrow_t *row = &out->v[out->n];
        memset(row, 0, sizeof *row);
        row->version = sqlite3_column_int(st, 0);
        row->id = sqlite3_column_int(st, 1);
        row->deleted = sqlite3_column_int(st, 2) != 0;
        if (with_schema && !(row->schema = col_dup(st, 3, &row->len))) {
            err = EVB_ERR_NOMEM;
            break;
        }
        out->n++;
    }
    if (!err && rc != SQLITE_DONE)
        err = evb_store_sqlerr(db, "reading subject versions", errstr,
                               errstr_size);
    sqlite3_finalize(st);
    if (err)
        vlist_free(out);
    return err;
}

static size_t live_count(const vlist_t *l) {
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += !l->v[i].deleted;
    return n;
}

/* ---- compatibility against stored versions ------------------------------- */

static bool level_backward(evb_registry_compat_t l) {
    return l == EVB_REGISTRY_COMPAT_BACKWARD ||
           l == EVB_REGISTRY_COMPAT_BACKWARD_TRANSITIVE ||
           l == EVB_REGISTRY_COMPAT_FULL ||
           l == EVB_REGISTRY_COMPAT_FULL_TRANSITIVE;
}

static bool level_forward(evb_registry_compat_t l) {
    return l == EVB_REGISTRY_COMPAT_FORWARD ||
           l == EVB_REGISTRY_COMPAT_FORWARD_TRANSITIVE ||
           l == EVB_REGISTRY_COMPAT_FULL ||
           l == EVB_REGISTRY_COMPAT_FULL_TRANSITIVE;
}

static bool level_transitive(evb_registry_compat_t l) {
    return l == EVB_REGISTRY_COMPAT_BACKWARD_TRANSITIVE ||
           l == EVB_REGISTRY_COMPAT_FORWARD_TRANSITIVE ||
           l == EVB_REGISTRY_COMPAT_FULL_TRANSITIVE;
}

static evb_err_t append_jstr(evb_buf_t *b, const char *s, size_t len) {
    evb_err_t err = b->len ? evb_buf_putc(b, ',') : EVB_ERR_OK;
    return err ? err : evb_json_append_string_lower(b, s, len);
}

/*
 * Check the new schema against the old versions in rows[] (live ones,
 * newest first, as Confluent does) at level, stopping at the first that
 * fails. *ok gets the verdict; messages (JSON strings, comma-separated)
 * gets that version's incompatibilities and Confluent's three trailing
 * entries. A stored schema that no longer parses fails with
 * EVB_ERR_INTERNAL.
 */
static evb_err_t check_rows(const evb__avro_t *new_schema, vrow_t *const *rows,
                            size_t n, evb_registry_compat_t level, bool *ok,
                            evb_buf_t *messages) {
    *ok = true;
    for (size_t i = 0; i < n && *ok; i++) {
        evb__avro_t *old = NULL;
        evb_registry_err_t perr =
            evb__avro_parse(rows[i]->schema, rows[i]->len, &old, NULL);
        if (perr)
            return perr == EVB_REGISTRY_ERR_NOMEM ? EVB_ERR_NOMEM
                                                  : EVB_ERR_INTERNAL;
        bool nomem = false, good = true;
        if (level_backward(level))
            good = evb__avro_can_read(new_schema, old, "new", "old", messages,
                                      &nomem);
        if (!nomem && level_forward(level))
            good = evb__avro_can_read(old, new_schema, "old", "new", messages,
                                      &nomem) &&
                   good;
        evb__avro_free(old);
        if (nomem)
            return EVB_ERR_NOMEM;
        if (good)
            continue;
        *ok = false;
        char tail[160];
        evb_err_t err = EVB_ERR_OK;
        if (messages) {
            int k = snprintf(tail, sizeof tail, "{oldSchemaVersion: %d}",
                             (int)rows[i]->version);
            err = append_jstr(messages, tail, (size_t)k);
            evb_buf_t os;
            evb_buf_init(&os, 0);
            if (!err)
                err = evb_buf_appendf(&os, "{oldSchema: '%s'}",
                                      rows[i]->schema);
            if (!err)
                err = append_jstr(messages, os.data, os.len);
            evb_buf_free(&os);
            k = snprintf(tail, sizeof tail,
                         "{validateFields: 'false', compatibility: '%s'}",
                         evb_registry_compat_name(level));
            if (!err)
                err = append_jstr(messages, tail, (size_t)k);
        }
        if (err)
            return err;
    }
    return EVB_ERR_OK;
}

/* The rows a check at level runs against: the live versions, newest
 * first; only the latest unless the level is transitive. *out is
 * malloc'd (free()). */
static evb_err_t rows_for_level(const vlist_t *l, evb_registry_compat_t level,
                                vrow_t ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (level == EVB_REGISTRY_COMPAT_NONE || !l->n)
        return EVB_ERR_OK;
    vrow_t **v = malloc(l->n * sizeof *v);
    if (!v)
        return EVB_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = l->n; i-- > 0;) {
        if (l->v[i].deleted)
            continue;
        v[k++] = &l->v[i];
        if (!level_transitive(level))
            break;
    }
    *out = v;
    *n = k;
    return EVB_ERR_OK;
}

/* "[a, b, c]" from comma-separated JSON strings (Java's List.toString). */
static evb_err_t details_text(const evb_buf_t *messages, evb_buf_t *out) {
    evb_buf_t arr;
    evb_buf_init(&arr, 0);
    evb_err_t err = evb_buf_putc(&arr, '[');
    if (!err && messages->len)
        err = evb_buf_append(&arr, messages->data, messages->len);
    if (!err)
        err = evb_buf_putc(&arr, ']');
    json_t *a = err ? NULL : json_loadb(arr.data, arr.len, 0, NULL);
    evb_buf_free(&arr);
    if (!a)
        return EVB_ERR_NOMEM;
    err = evb_buf_putc(out, '[');
    for (size_t i = 0; !err && i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        err = evb_buf_appendf(out, "%s%s", i ? ", " : "", s ? s : "");
    }
    if (!err)
        err = evb_buf_putc(out, ']');
    json_decref(a);
    return err;
}

/* ---- register ------------------------------------------------------------------ */

typedef struct reg_arg {
    unit_t u;
    const evb_registry_register_req_t *req;
    const evb__avro_t *parsed;
    const char *normalized;
    int32_t id, version;
} reg_arg_t;

static evb_err_t find_schema_id(sqlite3 *db, const char *normalized,
                                int32_t *id, char *errstr,
                                size_t errstr_size) {
    *id = 0;
    sqlite3_stmt *st;
    evb_err_t err = prep(db,
                         "SELECT id FROM registry_schemas WHERE type='AVRO' "
                         "AND normalized=?1",
                         &st, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_bind_text(st, 1, normalized, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int(st, 0);
    else if (rc != SQLITE_DONE)
        err = evb_store_sqlerr(db, "looking a schema up", errstr, errstr_size);
    sqlite3_finalize(st);
    return err;
}

static evb_err_t register_unit(sqlite3 *db, void *arg, char *errstr,
                               size_t errstr_size) {
    reg_arg_t *a = arg;
    const evb_registry_register_req_t *req = a->req;
    evb_registry_mode_t mode;
    evb_err_t err = effective_mode(db, req->subject, &mode, errstr, errstr_size);
    if (err)
        return err;
    if (mode == EVB_REGISTRY_MODE_READONLY)
        return ufail(&a->u, EVB_REGISTRY_ERR_OPERATION_NOT_PERMITTED,
                     "Subject %s is in read-only mode", req->subject);
    int32_t existing = 0;
    err = find_schema_id(db, a->normalized, &existing, errstr, errstr_size);
    vlist_t l;
    if (!err)
        err = load_versions(db, req->subject, true, &l, errstr, errstr_size);
    if (err)
        return err;

    /* idempotent: a live version already holds the schema */
    for (size_t i = l.n; existing && i-- > 0;)
        if (!l.v[i].deleted && l.v[i].id == existing) {
            if (mode == EVB_REGISTRY_MODE_IMPORT && req->id &&
                req->id != existing) {
                vlist_free(&l);
                return ufail(&a->u, EVB_REGISTRY_ERR_ID_MISMATCH,
                             "Schema already registered with id %d instead "
                             "of input id %d",
                             (int)existing, (int)req->id);
            }
            a->id = existing;
            a->version = l.v[i].version;
            vlist_free(&l);
            return EVB_ERR_OK;
        }

    if (mode != EVB_REGISTRY_MODE_IMPORT) {
        evb_registry_compat_t level;
        vrow_t **rows = NULL;
        size_t nrows = 0;
        bool ok = true;
        evb_buf_t messages;
        evb_buf_init(&messages, 0);
        err = effective_compat(db, req->subject, &level, errstr, errstr_size);
        if (!err)
            err = rows_for_level(&l, level, &rows, &nrows);
        if (!err)
            err = check_rows(a->parsed, rows, nrows, level, &ok, &messages);
        free(rows);
        if (!err && !ok) {
            evb_buf_t details;
            evb_buf_init(&details, 0);
            err = details_text(&messages, &details);
            if (!err)
                ufail(&a->u, EVB_REGISTRY_ERR_INCOMPATIBLE,
                      "Schema being registered is incompatible with an "
                      "earlier schema for subject \"%s\", details: %s",
                      req->subject, details.data);
            evb_buf_free(&details);
            if (!err)
                err = EVB_ERR_INVALID_ARG;
        }
        evb_buf_free(&messages);
        if (err) {
            vlist_free(&l);
            return err;
        }
    }

    int32_t version = l.n ? l.v[l.n - 1].version + 1 : 1;
    if (mode == EVB_REGISTRY_MODE_IMPORT && req->version > 0) {
        for (size_t i = 0; i < l.n; i++)
            if (l.v[i].version == req->version) {
                vlist_free(&l);
                return ufail(&a->u, EVB_REGISTRY_ERR_OPERATION_NOT_PERMITTED,
                             "Version %d of subject %s already exists",
                             (int)req->version, req->subject);
            }
        version = req->version;
    }
    vlist_free(&l);
    if (version < 1) /* past 2^31-1 versions */
        return ufail(&a->u, EVB_REGISTRY_ERR_OPERATION_NOT_PERMITTED,
                     "Subject %s has no version numbers left", req->subject);

    sqlite3_stmt *st;
    int32_t id = existing;
    if (mode == EVB_REGISTRY_MODE_IMPORT && req->id) {
        if (existing && existing != req->id)
            return ufail(&a->u, EVB_REGISTRY_ERR_ID_MISMATCH,
                         "Schema already registered with id %d instead of "
                         "input id %d",
                         (int)existing, (int)req->id);
        if (!existing) {
            err = prep(db, "SELECT 1 FROM registry_schemas WHERE id=?1", &st,
                       errstr, errstr_size);
            if (err)
                return err;
            sqlite3_bind_int(st, 1, req->id);
            int rc = sqlite3_step(st);
            sqlite3_finalize(st);
            if (rc == SQLITE_ROW)
                return ufail(&a->u, EVB_REGISTRY_ERR_ID_MISMATCH,
                             "Overwrite new schema with id %d is not "
                             "permitted.",
                             (int)req->id);
            if (rc != SQLITE_DONE)
                return evb_store_sqlerr(db, "looking a schema id up", errstr,
                                        errstr_size);
            id = req->id;
        }
    }
    if (!existing) {
        err = prep(db,
                   "INSERT INTO registry_schemas(id, type, normalized, schema, "
                   "created_ms) VALUES(?1, 'AVRO', ?2, ?3, ?4)",
                   &st, errstr, errstr_size);
        if (err)
            return err;
        if (id)
            sqlite3_bind_int(st, 1, id);
        else
            sqlite3_bind_null(st, 1);
        sqlite3_bind_text(st, 2, a->normalized, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, req->schema, (int)req->schema_len,
                          SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now_ms());
        if (sqlite3_step(st) != SQLITE_DONE)
            err = evb_store_sqlerr(db, "storing a schema", errstr,
                                   errstr_size);
        sqlite3_finalize(st);
        if (err)
            return err;
        sqlite3_int64 rowid = sqlite3_last_insert_rowid(db);
        if (rowid > INT32_MAX)
            return ufail(&a->u, EVB_REGISTRY_ERR_STORE,
                         "Error in the backend data store: schema ids "
                         "exhausted");
        id = (int32_t)rowid;
    }

    char uuid[37];
    if (evb_uuid_v4(uuid))
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "cannot make a schema version UUID");
    err = prep(db,
               "INSERT INTO registry_versions(subject, version, schema_id, "
               "uuid, deleted, created_ms) VALUES(?1, ?2, ?3, ?4, 0, ?5)",
               &st, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_bind_text(st, 1, req->subject, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, version);
    sqlite3_bind_int(st, 3, id);
    sqlite3_bind_text(st, 4, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now_ms());
    if (sqlite3_step(st) != SQLITE_DONE)
        err = evb_store_sqlerr(db, "storing a subject version", errstr,
                               errstr_size);
    sqlite3_finalize(st);
    if (err)
        return err;
    a->id = id;
    a->version = version;
    return EVB_ERR_OK;
}

evb_registry_err_t evb_registry_register(evb_registry_t *r,
                                         const evb_registry_register_req_t *req,
                                         int32_t *id, int32_t *version,
                                         evb_buf_t *msg) {
    *id = 0;
    if (version)
        *version = 0;
    if (!valid_subject(req->subject))
        return bad_subject(req->subject, msg);
    evb__avro_t *parsed;
    evb_buf_t norm;
    evb_buf_init(&norm, 0);
    evb_registry_err_t rerr = parse_given(req->schema, req->schema_len,
                                          req->schema_type, &parsed, &norm, msg);
    if (rerr) {
        evb_buf_free(&norm);
        return rerr;
    }
    reg_arg_t a = {.u = {.msg = msg},
                   .req = req,
                   .parsed = parsed,
                   .normalized = norm.data};
    char errstr[256] = "";
    evb_err_t err =
        evb_store_write(r->store, register_unit, &a, errstr, sizeof errstr);
    evb__avro_free(parsed);
    evb_buf_free(&norm);
    rerr = finish(err, &a.u, errstr);
    if (rerr)
        return rerr;
    *id = a.id;
    if (version)
        *version = a.version;
    return EVB_REGISTRY_ERR_OK;
}

/* ---- reads by subject ----------------------------------------------------- */

typedef struct get_arg {
    unit_t u;
    const char *subject;
    int32_t version;
    bool include_deleted;
    const char *normalized; /* lookup by schema */
    int32_t id;             /* lookup by id */
    const uint8_t *uuid;    /* lookup by uuid */
    evb_registry_schema_t *out;
} get_arg_t;

/* Fill out from a row (version, schema_id, deleted, uuid, schema,
 * subject). */
static evb_err_t fill_from_row(sqlite3_stmt *st, evb_registry_schema_t *out) {
    memset(out, 0, sizeof *out);
    out->version = sqlite3_column_int(st, 0);
    out->id = sqlite3_column_int(st, 1);
    out->deleted = sqlite3_column_int(st, 2) != 0;
    const char *u = (const char *)sqlite3_column_text(st, 3);
    if (u)
        (void)evb_registry_uuid_parse(u, out->uuid);
    out->type = "AVRO";
    out->schema = col_dup(st, 4, &out->schema_len);
    out->subject = col_dup(st, 5, NULL);
    if (!out->schema || !out->subject) {
        evb_registry_schema_clear(out);
        return EVB_ERR_NOMEM;
    }
    return EVB_ERR_OK;
}

#define VERSION_COLUMNS                                                        \
    "SELECT v.version, v.schema_id, v.deleted, v.uuid, s.schema, v.subject "   \
    "FROM registry_versions v JOIN registry_schemas s ON s.id = v.schema_id "

/* Run a one-row query; *found tells whether it had a row (then out is
 * filled). */
static evb_err_t one_row(sqlite3 *db, sqlite3_stmt *st,
                         evb_registry_schema_t *out, bool *found, char *errstr,
                         size_t errstr_size) {
    *found = false;
    int rc = sqlite3_step(st);
    evb_err_t err = EVB_ERR_OK;
    if (rc == SQLITE_ROW) {
        err = fill_from_row(st, out);
        *found = !err;
    } else if (rc != SQLITE_DONE) {
        err = evb_store_sqlerr(db, "reading the registry", errstr,
                               errstr_size);
    }
    sqlite3_finalize(st);
    return err;
}

/* Does subject have versions (live ones unless include_deleted)? */
static evb_err_t subject_exists(sqlite3 *db, const char *subject,
                                bool include_deleted, bool *exists,
                                char *errstr, size_t errstr_size) {
    *exists = false;
    sqlite3_stmt *st;
    evb_err_t err = prep(db,
                         include_deleted
                             ? "SELECT 1 FROM registry_versions WHERE "
                               "subject=?1 LIMIT 1"
                             : "SELECT 1 FROM registry_versions WHERE "
                               "subject=?1 AND deleted=0 LIMIT 1",
                         &st, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *exists = true;
    else if (rc != SQLITE_DONE)
        err = evb_store_sqlerr(db, "reading the registry", errstr,
                               errstr_size);
    sqlite3_finalize(st);
    return err;
}

static evb_err_t subject_not_found(unit_t *u, const char *subject) {
    return ufail(u, EVB_REGISTRY_ERR_SUBJECT_NOT_FOUND,
                 "Subject '%s' not found.", subject);
}

static evb_err_t get_version_unit(sqlite3 *db, void *arg, char *errstr,
                                  size_t errstr_size) {
    get_arg_t *a = arg;
    sqlite3_stmt *st;
    const char *sql;
    if (a->version == EVB_REGISTRY_VERSION_LATEST)
        sql = a->include_deleted
                  ? VERSION_COLUMNS "WHERE v.subject=?1 ORDER BY v.version "
                                    "DESC LIMIT 1"
                  : VERSION_COLUMNS "WHERE v.subject=?1 AND v.deleted=0 "
                                    "ORDER BY v.version DESC LIMIT 1";
    else
        sql = a->include_deleted
                  ? VERSION_COLUMNS "WHERE v.subject=?1 AND v.version=?2"
                  : VERSION_COLUMNS "WHERE v.subject=?1 AND v.version=?2 AND "
                                    "v.deleted=0";
    evb_err_t err = prep(db, sql, &st, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_bind_text(st, 1, a->subject, -1, SQLITE_STATIC);
    if (a->version != EVB_REGISTRY_VERSION_LATEST)
        sqlite3_bind_int(st, 2, a->version);
    bool found;
    err = one_row(db, st, a->out, &found, errstr, errstr_size);
    if (err || found)
        return err;
    bool exists;
    err = subject_exists(db, a->subject, a->include_deleted, &exists, errstr,
                         errstr_size);
    if (err)
        return err;
    if (!exists)
        return subject_not_found(&a->u, a->subject);
    return ufail(&a->u, EVB_REGISTRY_ERR_VERSION_NOT_FOUND,
                 "Version %d not found.", (int)a->version);
}

evb_registry_err_t evb_registry_get_version(evb_registry_t *r,
                                            const char *subject,
                                            int32_t version,
                                            bool include_deleted,
                                            evb_registry_schema_t *out,
                                            evb_buf_t *msg) {
    memset(out, 0, sizeof *out);
    get_arg_t a = {.u = {.msg = msg},
                   .subject = subject,
                   .version = version,
                   .include_deleted = include_deleted,
                   .out = out};
    char errstr[256] = "";
    evb_err_t err =
        evb_store_read(r->store, get_version_unit, &a, errstr, sizeof errstr);
    evb_registry_err_t rerr = finish(err, &a.u, errstr);
    if (rerr)
        evb_registry_schema_clear(out);
    return rerr;
}

static evb_err_t lookup_schema_unit(sqlite3 *db, void *arg, char *errstr,
                                    size_t errstr_size) {
    get_arg_t *a = arg;
    bool exists;
    evb_err_t err = subject_exists(db, a->subject, a->include_deleted, &exists,
                                   errstr, errstr_size);
    if (err)
        return err;
    if (!exists)
        return subject_not_found(&a->u, a->subject);
    sqlite3_stmt *st;
    err = prep(db,
               a->include_deleted
                   ? VERSION_COLUMNS "WHERE v.subject=?1 AND s.type='AVRO' AND "
                                     "s.normalized=?2 ORDER BY v.version DESC "
                                     "LIMIT 1"
                   : VERSION_COLUMNS "WHERE v.subject=?1 AND s.type='AVRO' AND "
                                     "s.normalized=?2 AND v.deleted=0 ORDER BY "
                                     "v.version DESC LIMIT 1",
               &st, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_bind_text(st, 1, a->subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->normalized, -1, SQLITE_STATIC);
    bool found;
    err = one_row(db, st, a->out, &found, errstr, errstr_size);
    if (err || found)
        return err;
    return ufail(&a->u, EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND, "Schema not found");
}

evb_registry_err_t evb_registry_lookup_schema(evb_registry_t *r,
                                              const char *subject,
                                              const char *schema, size_t len,
                                              const char *schema_type,
                                              bool include_deleted,
                                              evb_registry_schema_t *out,
                                              evb_buf_t *msg) {
    memset(out, 0, sizeof *out);
    evb__avro_t *parsed;
    evb_buf_t norm;
    evb_buf_init(&norm, 0);
    evb_registry_err_t rerr =
        parse_given(schema, len, schema_type, &parsed, &norm, msg);
    if (rerr) {
        evb_buf_free(&norm);
        return rerr;
    }
    evb__avro_free(parsed);
    get_arg_t a = {.u = {.msg = msg},
                   .subject = subject,
                   .include_deleted = include_deleted,
                   .normalized = norm.data,
                   .out = out};
    char errstr[256] = "";
    evb_err_t err = evb_store_read(r->store, lookup_schema_unit, &a, errstr,
                                   sizeof errstr);
    evb_buf_free(&norm);
    rerr = finish(err, &a.u, errstr);
    if (rerr)
        evb_registry_schema_clear(out);
    return rerr;
}

/* ---- lists ------------------------------------------------------------------ */

typedef struct list_arg {
    unit_t u;
    const char *subject;
    int32_t id;
    bool include_deleted;
    char **subjects; /* list_subjects */
    int32_t *versions;
    size_t n;
    evb_registry_subject_version_t *pairs; /* id_versions */
} list_arg_t;

static evb_err_t list_subjects_unit(sqlite3 *db, void *arg, char *errstr,
                                    size_t errstr_size) {
    list_arg_t *a = arg;
    sqlite3_stmt *st;
    evb_err_t err =
        prep(db,
             a->include_deleted
                 ? "SELECT DISTINCT subject FROM registry_versions ORDER BY "
                   "subject"
                 : "SELECT DISTINCT subject FROM registry_versions WHERE "
                   "deleted=0 ORDER BY subject",
             &st, errstr, errstr_size);
    if (err)
        return err;
    size_t n = 0, cap = 8;
    char **v = calloc(cap, sizeof *v);
    int rc = SQLITE_DONE;
    if (!v)
        err = EVB_ERR_NOMEM;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n + 1 >= cap) {
            char **nv = realloc(v, cap * 2 * sizeof *v);
            if (!nv) {
                err = EVB_ERR_NOMEM;
                break;
            }
            v = nv;
            cap *= 2;
        }
        if (!(v[n] = col_dup(st, 0, NULL))) {
            err = EVB_ERR_NOMEM;
            break;
        }
        v[++n] = NULL;
    }
    if (!err && rc != SQLITE_DONE)
        err = evb_store_sqlerr(db, "listing subjects", errstr, errstr_size);
    sqlite3_finalize(st);
    if (err) {
        evb_registry_strv_free(v);
        return err;
    }
    a->subjects = v;
    return EVB_ERR_OK;
}

evb_registry_err_t evb_registry_list_subjects(evb_registry_t *r,
                                              bool include_deleted,
                                              char ***out, evb_buf_t *msg) {
    *out = NULL;
    list_arg_t a = {.u = {.msg = msg}, .include_deleted = include_deleted};
    char errstr[256] = "";
    evb_err_t err = evb_store_read(r->store, list_subjects_unit, &a, errstr,
                                   sizeof errstr);
    evb_registry_err_t rerr = finish(err, &a.u, errstr);
    if (!rerr)
        *out = a.subjects;
    return rerr;
}

static evb_err_t list_versions_unit(sqlite3 *db, void *arg, char *errstr,
                                    size_t errstr_size) {
    list_arg_t *a = arg;
    vlist_t l;
    evb_err_t err = load_versions(db, a->subject, false, &l, errstr,
                                  errstr_size);
    if (err)
        return err;
    size_t n = a->include_deleted ? l.n : live_count(&l);
    if (!n) {
        vlist_free(&l);
        return subject_not_found(&a->u, a->subject);
    }
    a->versions = malloc(n * sizeof *a->versions);
    if (!a->versions) {
        vlist_free(&l);
        return EVB_ERR_NOMEM;
    }
    for (size_t i = 0; i < l.n; i++)
        if (a->include_deleted || !l.v[i].deleted)
            a->versions[a->n++] = l.v[i].version;
    vlist_free(&l);
    return EVB_ERR_OK;
}

evb_registry_err_t evb_registry_list_versions(evb_registry_t *r,
                                              const char *subject,
                                              bool include_deleted,
                                              int32_t **out, size_t *n,
                                              evb_buf_t *msg) {
    *out = NULL;
    *n = 0;
    list_arg_t a = {.u = {.msg = msg},
                    .subject = subject,
                    .include_deleted = include_deleted};
    char errstr[256] = "";
    evb_err_t err = evb_store_read(r->store, list_versions_unit, &a, errstr,
                                   sizeof errstr);
    evb_registry_err_t rerr = finish(err, &a.u, errstr);
    if (rerr) {
        free(a.versions);
        return rerr;
    }
    *out = a.versions;
    *n = a.n;
    return EVB_REGISTRY_ERR_OK;
}

/* ---- lookups by id and UUID ------------------------------------------------ */

static evb_err_t schema_not_found_id(unit_t *u, int32_t id) {
    return ufail(u, EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND, "Schema %d not found",
                 (int)id);
}

static evb_err_t lookup_id_unit(sqlite3 *db, void *arg, char *errstr,
                                size_t errstr_size) {
    get_arg_t *a = arg;
    sqlite3_stmt *st;
    evb_err_t err = prep(db,
                         "SELECT s.schema FROM registry_schemas s WHERE "
                         "s.id=?1 AND EXISTS (SELECT 1 FROM registry_versions "
                         "v WHERE v.schema_id = s.id)",
                         &st, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_bind_int(st, 1, a->id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        a->out->id = a->id;
        a->out->type = "AVRO";
        if (!(a->out->schema = col_dup(st, 0, &a->out->schema_len)))
            err = EVB_ERR_NOMEM;
    } else if (rc == SQLITE_DONE) {
        err = schema_not_found_id(&a->u, a->id);
    } else {
        err = evb_store_sqlerr(db, "reading a schema", errstr, errstr_size);
    }
    sqlite3_finalize(st);
    return err;
}

evb_registry_err_t evb_registry_lookup_id(evb_registry_t *r, int32_t id,
                                          evb_registry_schema_t *out,
                                          evb_buf_t *msg) {
    memset(out, 0, sizeof *out);
    if (evb__cache_get(&r->cache, id, out))
        return EVB_REGISTRY_ERR_OK;
    /* a permanent delete that commits while we read clears the cache
     * after us: the generation keeps our answer out of it then */
    uint64_t gen = evb__cache_gen(&r->cache);
    get_arg_t a = {.u = {.msg = msg}, .id = id, .out = out};
    char errstr[256] = "";
    evb_err_t err =
        evb_store_read(r->store, lookup_id_unit, &a, errstr, sizeof errstr);
    evb_registry_err_t rerr = finish(err, &a.u, errstr);
    if (rerr) {
        evb_registry_schema_clear(out);
        return rerr;
    }
    evb__cache_put(&r->cache, id, out->schema, out->schema_len, gen);
    return EVB_REGISTRY_ERR_OK;
}

static evb_err_t lookup_uuid_unit(sqlite3 *db, void *arg, char *errstr,
                                  size_t errstr_size) {
    get_arg_t *a = arg;
    char text[37];
    evb_registry_uuid_format(a->uuid, text);
    sqlite3_stmt *st;
    evb_err_t err = prep(db, VERSION_COLUMNS "WHERE v.uuid=?1", &st, errstr,
                         errstr_size);
    if (err)
        return err;
    sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    bool found;
    err = one_row(db, st, a->out, &found, errstr, errstr_size);
    if (err || found)
        return err;
    return ufail(&a->u, EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND,
                 "Schema %s not found", text);
}

evb_registry_err_t evb_registry_lookup_uuid(evb_registry_t *r,
                                            const uint8_t uuid[16],
                                            evb_registry_schema_t *out,
                                            evb_buf_t *msg) {
    memset(out, 0, sizeof *out);
    get_arg_t a = {.u = {.msg = msg}, .uuid = uuid, .out = out};
    char errstr[256] = "";
    evb_err_t err =
        evb_store_read(r->store, lookup_uuid_unit, &a, errstr, sizeof errstr);
    evb_registry_err_t rerr = finish(err, &a.u, errstr);
    if (rerr)
        evb_registry_schema_clear(out);
    return rerr;
}

static evb_err_t id_versions_unit(sqlite3 *db, void *arg, char *errstr,
                                  size_t errstr_size) {
    list_arg_t *a = arg;
    sqlite3_stmt *st;
    evb_err_t err = prep(db,
                         "SELECT subject, version, deleted FROM "
                         "registry_versions WHERE schema_id=?1 ORDER BY "
                         "subject, version",
                         &st, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_bind_int(st, 1, a->id);
    size_t cap = 0, any = 0;
    int rc;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        any++;
        if (!a->include_deleted && sqlite3_column_int(st, 2))
            continue;
        if (a->n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            evb_registry_subject_version_t *v =
                realloc(a->pairs, ncap * sizeof *v);
            if (!v) {
                err = EVB_ERR_NOMEM;
                break;
            }
            a->pairs = v;
            cap = ncap;
        }
        a->pairs[a->n].version = sqlite3_column_int(st, 1);
        if (!(a->pairs[a->n].subject = col_dup(st, 0, NULL))) {
            err = EVB_ERR_NOMEM;
            break;
        }
        a->n++;
    }
    if (!err && rc != SQLITE_DONE)
        err = evb_store_sqlerr(db, "reading a schema's versions", errstr,
                               errstr_size);
    sqlite3_finalize(st);
    if (!err && !any)
        err = schema_not_found_id(&a->u, a->id);
    return err;
}

evb_registry_err_t evb_registry_id_versions(
    evb_registry_t *r, int32_t id, bool include_deleted,
    evb_registry_subject_version_t **out, size_t *n, evb_buf_t *msg) {
    *out = NULL;
    *n = 0;
    list_arg_t a = {.u = {.msg = msg}, .id = id, .include_deleted = include_deleted};
    char errstr[256] = "";
    evb_err_t err =
        evb_store_read(r->store, id_versions_unit, &a, errstr, sizeof errstr);
    evb_registry_err_t rerr = finish(err, &a.u, errstr);
    if (rerr) {
        evb_registry_subject_versions_free(a.pairs, a.n);
        return rerr;
    }
    *out = a.pairs;
    *n = a.n;
    return EVB_REGISTRY_ERR_OK;
}

/* ---- deletes ----------------------------------------------------------------- */

typedef struct del_arg {
    unit_t u;
    const char *subject;
    int32_t version;
    bool permanent;
    int32_t *versions;
    size_t n;
    int32_t deleted;
} del_arg_t;

static evb_err_t refuse_readonly(sqlite3 *db, unit_t *u, const char *subject,
                                 char *errstr, size_t errstr_size) {
    evb_registry_mode_t mode;
    evb_err_t err = effective_mode(db, subject, &mode, errstr, errstr_size);
    if (!err && mode == EVB_REGISTRY_MODE_READONLY)
        err = ufail(u, EVB_REGISTRY_ERR_OPERATION_NOT_PERMITTED,
                    "Subject %s is in read-only mode", subject);
    return err;
}

static evb_err_t exec_subject(sqlite3 *db, const char *sql,
                              const char *subject, int32_t version,
                              char *errstr, size_t errstr_size) {
    sqlite3_stmt *st;
    evb_err_t err = prep(db, sql, &st, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(st) >= 2)
        sqlite3_bind_int(st, 2, version);
    if (sqlite3_step(st) != SQLITE_DONE)
        err = evb_store_sqlerr(db, "deleting from the registry", errstr,
                               errstr_size);
    sqlite3_finalize(st);
    return err;
}

static evb_err_t delete_subject_unit(sqlite3 *db, void *arg, char *errstr,
                                     size_t errstr_size) {
    del_arg_t *a = arg;
    evb_err_t err = refuse_readonly(db, &a->u, a->subject, errstr, errstr_size);
    vlist_t l;
    if (!err)
        err = load_versions(db, a->subject, false, &l, errstr, errstr_size);
    if (err)
        return err;
    size_t live = live_count(&l);
    if (!l.n)
        err = subject_not_found(&a->u, a->subject);
    else if (!a->permanent && !live)
        err = ufail(&a->u, EVB_REGISTRY_ERR_SUBJECT_SOFT_DELETED,
                    "Subject '%s' was soft deleted.Set permanent=true to "
                    "delete permanently",
                    a->subject);
    else if (a->permanent && live)
        err = ufail(&a->u, EVB_REGISTRY_ERR_SUBJECT_NOT_SOFT_DELETED,
                    "Subject '%s' was not deleted first before being "
                    "permanently deleted",
                    a->subject);
    if (!err && !(a->versions = malloc(l.n * sizeof *a->versions)))
        err = EVB_ERR_NOMEM;
    for (size_t i = 0; !err && i < l.n; i++)
        if (a->permanent || !l.v[i].deleted)
            a->versions[a->n++] = l.v[i].version;
    vlist_free(&l);
    if (!err)
        err = exec_subject(db,
                           a->permanent
                               ? "DELETE FROM registry_versions WHERE "
                                 "subject=?1"
                               : "UPDATE registry_versions SET deleted=1 "
                                 "WHERE subject=?1 AND deleted=0",
                           a->subject, 0, errstr, errstr_size);
    if (!err)
        err = config_drop_subject(db, a->subject, errstr, errstr_size);
    return err;
}

evb_registry_err_t evb_registry_delete_subject(evb_registry_t *r,
                                               const char *subject,
                                               bool permanent, int32_t **out,
                                               size_t *n, evb_buf_t *msg) {
    *out = NULL;
    *n = 0;
    del_arg_t a = {.u = {.msg = msg}, .subject = subject, .permanent = permanent};
    char errstr[256] = "";
    evb_err_t err = evb_store_write(r->store, delete_subject_unit, &a, errstr,
                                    sizeof errstr);
    evb_registry_err_t rerr = finish(err, &a.u, errstr);
    if (rerr) {
        free(a.versions);
        return rerr;
    }
    if (permanent)
        evb__cache_clear(&r->cache);
    *out = a.versions;
    *n = a.n;
    return EVB_REGISTRY_ERR_OK;
}

static evb_err_t delete_version_unit(sqlite3 *db, void *arg, char *errstr,
                                     size_t errstr_size) {
    del_arg_t *a = arg;
    evb_err_t err = refuse_readonly(db, &a->u, a->subject, errstr, errstr_size);
    vlist_t l;
    if (!err)
        err = load_versions(db, a->subject, false, &l, errstr, errstr_size);
    if (err)
        return err;
    const vrow_t *row = NULL;
    for (size_t i = l.n; i-- > 0 && !row;) {
        if (a->version == EVB_REGISTRY_VERSION_LATEST) {
            if (a->permanent || !l.v[i].deleted)
                row = &l.v[i];
        } else if (l.v[i].version == a->version) {
            row = &l.v[i];
        }
    }
    if (!l.n)
        err = subject_not_found(&a->u, a->subject);
    else if (!row)
        err = ufail(&a->u, EVB_REGISTRY_ERR_VERSION_NOT_FOUND,
                    "Version %d not found.", (int)a->version);
    else if (!a->permanent && row->deleted)
        err = ufail(&a->u, EVB_REGISTRY_ERR_VERSION_SOFT_DELETED,
                    "Subject '%s' Version %d was soft deleted.Set "
                    "permanent=true to delete permanently",
                    a->subject, (int)row->version);
    else if (a->permanent && !row->deleted)
        err = ufail(&a->u, EVB_REGISTRY_ERR_VERSION_NOT_SOFT_DELETED,
                    "Subject '%s' Version %d was not deleted first before "
                    "being permanently deleted",
                    a->subject, (int)row->version);
    if (!err) {
        a->deleted = row->version;
        err = exec_subject(db,
                           a->permanent
                               ? "DELETE FROM registry_versions WHERE "
                                 "subject=?1 AND version=?2"
                               : "UPDATE registry_versions SET deleted=1 "
                                 "WHERE subject=?1 AND version=?2",
                           a->subject, row->version, errstr, errstr_size);
    }
    vlist_free(&l);
    return err;
}

evb_registry_err_t evb_registry_delete_version(evb_registry_t *r,
                                               const char *subject,
                                               int32_t version, bool permanent,
                                               int32_t *deleted,
                                               evb_buf_t *msg) {
    *deleted = 0;
    del_arg_t a = {.u = {.msg = msg},
                   .subject = subject,
                   .version = version,
                   .permanent = permanent};
    char errstr[256] = "";
    evb_err_t err = evb_store_write(r->store, delete_version_unit, &a, errstr,
                                    sizeof errstr);
    evb_registry_err_t rerr = finish(err, &a.u, errstr);
    if (rerr)
        return rerr;
    if (permanent)
        evb__cache_clear(&r->cache);
    *deleted = a.deleted;
    return EVB_REGISTRY_ERR_OK;
}

/* ---- compatibility tests --------------------------------------------------- */

typedef struct test_arg {
    unit_t u;
    const char *subject;
    int32_t version;
    const evb__avro_t *parsed;
    bool compatible;
    evb_buf_t *messages;
} test_arg_t;

static evb_err_t test_unit(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    test_arg_t *a = arg;
    vlist_t l;
    evb_registry_compat_t level;
    evb_err_t err =
        effective_compat(db, a->subject, &level, errstr, errstr_size);
    if (!err)
        err = load_versions(db, a->subject, true, &l, errstr, errstr_size);
    if (err)
        return err;
    if (!live_count(&l)) {
        vlist_free(&l);
        return subject_not_found(&a->u, a->subject);
    }
    vrow_t **rows = NULL;
    size_t n = 0;
    if (a->version == 0) {
        err = rows_for_level(&l, level, &rows, &n);
    } else {
        vrow_t *row = NULL;
        for (size_t i = l.n; i-- > 0 && !row;)
            if (!l.v[i].deleted &&
                (a->version == EVB_REGISTRY_VERSION_LATEST ||
                 l.v[i].version == a->version))
                row = &l.v[i];
        if (!row)
            err = ufail(&a->u, EVB_REGISTRY_ERR_VERSION_NOT_FOUND,
                        "Version %d not found.", (int)a->version);
        else if (level != EVB_REGISTRY_COMPAT_NONE &&
                 !(rows = malloc(sizeof *rows)))
            err = EVB_ERR_NOMEM;
        else if (rows) {
            rows[0] = row;
            n = 1;
        }
    }
    if (!err)
        err = check_rows(a->parsed, rows, n, level, &a->compatible,
                         a->messages);
    free(rows);
    vlist_free(&l);
    return err;
}

evb_registry_err_t evb_registry_test_compatibility(
    evb_registry_t *r, const char *subject, int32_t version,
    const char *schema, size_t len, const char *schema_type, bool *compatible,
    evb_buf_t *messages, evb_buf_t *msg) {
    *compatible = false;
    evb__avro_t *parsed;
    evb_registry_err_t rerr =
        parse_given(schema, len, schema_type, &parsed, NULL, msg);
    if (rerr)
        return rerr;
    test_arg_t a = {.u = {.msg = msg},
                    .subject = subject,
                    .version = version,
                    .parsed = parsed,
                    .messages = messages};
    char errstr[256] = "";
    evb_err_t err =
        evb_store_read(r->store, test_unit, &a, errstr, sizeof errstr);
    evb__avro_free(parsed);
    rerr = finish(err, &a.u, errstr);
    if (!rerr)
        *compatible = a.compatible;
    return rerr;
}

/* ---- configuration and modes ----------------------------------------------- */

typedef struct cfg_arg {
    unit_t u;
    const char *subject;
    bool mode; /* the mode column, else compatibility */
    bool default_to_global;
    const char *value; /* set */
    char *got;         /* get / delete: the value found */
} cfg_arg_t;

static evb_err_t cfg_get_unit(sqlite3 *db, void *arg, char *errstr,
                              size_t errstr_size) {
    cfg_arg_t *a = arg;
    evb_err_t err =
        config_get(db, a->subject, a->mode, &a->got, errstr, errstr_size);
    if (err || a->got || !a->subject)
        return err;
    if (a->default_to_global)
        return config_get(db, NULL, a->mode, &a->got, errstr, errstr_size);
    if (a->mode)
        return ufail(&a->u, EVB_REGISTRY_ERR_SUBJECT_MODE_NOT_CONFIGURED,
                     "Subject '%s' does not have subject-level mode "
                     "configured",
                     a->subject);
    return ufail(&a->u, EVB_REGISTRY_ERR_SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
                 "Subject '%s' does not have subject-level compatibility "
                 "configured",
                 a->subject);
}

static evb_err_t cfg_set_unit(sqlite3 *db, void *arg, char *errstr,
                              size_t errstr_size) {
    cfg_arg_t *a = arg;
    return config_put(db, a->subject, a->mode, a->value, errstr, errstr_size);
}

static evb_err_t cfg_delete_unit(sqlite3 *db, void *arg, char *errstr,
                                 size_t errstr_size) {
    cfg_arg_t *a = arg;
    evb_err_t err =
        config_get(db, a->subject, a->mode, &a->got, errstr, errstr_size);
    if (err)
        return err;
    if (!a->got && a->subject)
        return subject_not_found(&a->u, a->subject);
    return config_put(db, a->subject, a->mode, NULL, errstr, errstr_size);
}

static evb_registry_err_t cfg_run(evb_registry_t *r, cfg_arg_t *a,
                                  evb_store_fn fn, bool write) {
    char errstr[256] = "";
    if (a->subject && !valid_subject(a->subject))
        return bad_subject(a->subject, a->u.msg);
    evb_err_t err = write ? evb_store_write(r->store, fn, a, errstr,
                                            sizeof errstr)
                          : evb_store_read(r->store, fn, a, errstr,
                                           sizeof errstr);
    return finish(err, &a->u, errstr);
}

evb_registry_err_t evb_registry_get_compat(evb_registry_t *r,
                                           const char *subject,
                                           bool default_to_global,
                                           evb_registry_compat_t *out,
                                           evb_buf_t *msg) {
    *out = EVB_REGISTRY_DEFAULT_COMPAT;
    cfg_arg_t a = {.u = {.msg = msg},
                   .subject = subject,
                   .default_to_global = default_to_global};
    evb_registry_err_t rerr = cfg_run(r, &a, cfg_get_unit, false);
    if (!rerr && a.got)
        (void)evb_registry_compat_parse(a.got, out);
    free(a.got);
    return rerr;
}

evb_registry_err_t evb_registry_set_compat(evb_registry_t *r,
                                           const char *subject,
                                           evb_registry_compat_t level,
                                           evb_buf_t *msg) {
    cfg_arg_t a = {.u = {.msg = msg},
                   .subject = subject,
                   .value = evb_registry_compat_name(level)};
    return cfg_run(r, &a, cfg_set_unit, true);
}

evb_registry_err_t evb_registry_delete_compat(evb_registry_t *r,
                                              const char *subject,
                                              evb_registry_compat_t *old,
                                              evb_buf_t *msg) {
    cfg_arg_t a = {.u = {.msg = msg}, .subject = subject};
    evb_registry_err_t rerr = cfg_run(r, &a, cfg_delete_unit, true);
    if (old) {
        *old = EVB_REGISTRY_DEFAULT_COMPAT;
        if (a.got)
            (void)evb_registry_compat_parse(a.got, old);
    }
    free(a.got);
    return rerr;
}

evb_registry_err_t evb_registry_get_mode(evb_registry_t *r,
                                         const char *subject,
                                         bool default_to_global,
                                         evb_registry_mode_t *out,
                                         evb_buf_t *msg) {
    *out = EVB_REGISTRY_MODE_READWRITE;
    cfg_arg_t a = {.u = {.msg = msg},
                   .subject = subject,
                   .mode = true,
                   .default_to_global = default_to_global};
    evb_registry_err_t rerr = cfg_run(r, &a, cfg_get_unit, false);
    if (!rerr && a.got)
        (void)evb_registry_mode_parse(a.got, out);
    free(a.got);
    return rerr;
}

evb_registry_err_t evb_registry_set_mode(evb_registry_t *r,
                                         const char *subject,
                                         evb_registry_mode_t mode,
                                         evb_buf_t *msg) {
    cfg_arg_t a = {.u = {.msg = msg},
                   .subject = subject,
                   .mode = true,
                   .value = evb_registry_mode_name(mode)};
    return cfg_run(r, &a, cfg_set_unit, true);
}

evb_registry_err_t evb_registry_delete_mode(evb_registry_t *r,
                                            const char *subject,
                                            evb_registry_mode_t *old,
                                            evb_buf_t *msg) {
    cfg_arg_t a = {.u = {.msg = msg}, .subject = subject, .mode = true};
    evb_registry_err_t rerr = cfg_run(r, &a, cfg_delete_unit, true);
    if (old) {
        *old = EVB_REGISTRY_MODE_READWRITE;
        if (a.got)
            (void)evb_registry_mode_parse(a.got, old);
    }
    free(a.got);
    return rerr;
}
