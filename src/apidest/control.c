/*
 * control.c: the connection and API destination control plane over the
 * store.
 *
 * A connection row keeps two JSON texts: `secrets` is the connection's
 * whole AuthParameters as last set (the only place a Password,
 * ApiKeyValue, ClientSecret or secret parameter value is kept), and
 * `spec` is everything Describe may show: Description, AuthorizationType,
 * the AuthParameters redacted, KmsKeyIdentifier and the connectivity
 * parameters. Answers are built from `spec` alone, so a secret cannot leak
 * through Describe or List by construction.
 *
 * Updates merge the given AuthParameters into the stored ones member by
 * member (objects recursively; lists and values replaced), which is how
 * UpdateConnection lets a caller change the password alone. A connection
 * is AUTHORIZED when its AuthParameters hold everything its type needs,
 * DEAUTHORIZED otherwise (after DeauthorizeConnection, which drops the
 * secrets).
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apidest_internal.h"

#define SPEC_MAX_LIST 100

static atomic_uint_fast64_t generation;

uint64_t evb__apidest_generation(void) {
    return atomic_load(&generation);
}

void evb__apidest_changed(void) {
    atomic_fetch_add(&generation, 1);
}

int64_t evb__apidest_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- JSON helpers --------------------------------------------------------- */

static const char *jstr(const json_t *obj, const char *key) {
    return json_string_value(json_object_get(obj, key));
}

static json_t *ms_time(int64_t ms) {
    return json_real((double)ms / 1000.0);
}

/* Merge src into dst: objects recursively, everything else replaced. */
static int merge(json_t *dst, const json_t *src) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v) {
        json_t *cur = json_object_get(dst, k);
        if (json_is_object(v) && json_is_object(cur)) {
            if (merge(cur, v))
                return -1;
        } else if (json_object_set_new(dst, k, json_deep_copy(v))) {
            return -1;
        }
    }
    return 0;
}

/* Drop Value from every {Key, Value, IsValueSecret: true} of the lists of
 * an *HttpParameters object. */
static void redact_params(json_t *hp) {
    static const char *const lists[] = {"HeaderParameters",
                                        "QueryStringParameters",
                                        "BodyParameters"};
    if (!json_is_object(hp))
        return;
    for (size_t i = 0; i < EVB_ARRAY_LEN(lists); i++) {
        json_t *l = json_object_get(hp, lists[i]);
        size_t j;
        json_t *item;
        json_array_foreach(l, j, item) {
            if (json_is_true(json_object_get(item, "IsValueSecret")))
                json_object_del(item, "Value");
        }
    }
}

/* A deep copy of AuthParameters without any secret value. */
static json_t *redact(const json_t *auth) {
    json_t *r = json_deep_copy(auth);
    if (!r)
        return NULL;
    json_object_del(json_object_get(r, "BasicAuthParameters"), "Password");
    json_object_del(json_object_get(r, "ApiKeyAuthParameters"), "ApiKeyValue");
    json_t *oauth = json_object_get(r, "OAuthParameters");
    json_object_del(json_object_get(oauth, "ClientParameters"), "ClientSecret");
    redact_params(json_object_get(oauth, "OAuthHttpParameters"));
    redact_params(json_object_get(r, "InvocationHttpParameters"));
    return r;
}

static const char *const AUTH_MEMBER[][2] = {
    {"BASIC", "BasicAuthParameters"},
    {"API_KEY", "ApiKeyAuthParameters"},
    {"OAUTH_CLIENT_CREDENTIALS", "OAuthParameters"},
};

static const char *auth_member(const char *type) {
    for (size_t i = 0; i < EVB_ARRAY_LEN(AUTH_MEMBER); i++)
        if (type && strcmp(type, AUTH_MEMBER[i][0]) == 0)
            return AUTH_MEMBER[i][1];
    return NULL;
}

/* Whether auth holds everything type needs to authorize. */
static bool auth_complete(const char *type, const json_t *auth) {
    const json_t *p = json_object_get(auth, auth_member(type) ? auth_member(type) : "");
    if (!json_is_object(p))
        return false;
    if (strcmp(type, "BASIC") == 0)
        return jstr(p, "Username") && jstr(p, "Password");
    if (strcmp(type, "API_KEY") == 0)
        return jstr(p, "ApiKeyName") && jstr(p, "ApiKeyValue");
    const json_t *cp = json_object_get(p, "ClientParameters");
    return jstr(cp, "ClientID") && jstr(cp, "ClientSecret") &&
           jstr(p, "AuthorizationEndpoint") && jstr(p, "HttpMethod");
}

/* The AuthParameters must carry the type's own member and no other type's
 * (a choice: AWS's behaviour with extra members is not documented). */
static evb_err_t check_auth_members(const char *type, const json_t *auth,
                                    bool need_own, char *errstr,
                                    size_t errstr_size) {
    const char *own = auth_member(type);
    if (!own)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Unsupported AuthorizationType.");
    for (size_t i = 0; i < EVB_ARRAY_LEN(AUTH_MEMBER); i++) {
        const char *m = AUTH_MEMBER[i][1];
        if (strcmp(m, own) != 0 && json_object_get(auth, m))
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "%s is not valid for AuthorizationType %s.", m,
                               type);
    }
    if (need_own && !json_object_get(auth, own))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "AuthParameters must contain %s for "
                           "AuthorizationType %s.",
                           own, type);
    return EVB_ERR_OK;
}

/* ---- rows ------------------------------------------------------------------ */

typedef struct conn_row {
    char *name, *arn, *state;
    json_t *spec, *secrets;
    int64_t created_ms, modified_ms, authorized_ms; /* authorized: -1 null */
} conn_row_t;

typedef struct dest_row {
    char *name, *arn, *state;
    json_t *spec;
    int64_t created_ms, modified_ms;
} dest_row_t;

static void conn_row_clear(conn_row_t *r) {
    free(r->name);
    free(r->arn);
    free(r->state);
    json_decref(r->spec);
    json_decref(r->secrets);
    memset(r, 0, sizeof *r);
}

static void dest_row_clear(dest_row_t *r) {
    free(r->name);
    free(r->arn);
    free(r->state);
    json_decref(r->spec);
    memset(r, 0, sizeof *r);
}

static char *col_dup(sqlite3_stmt *st, int i) {
    const unsigned char *s = sqlite3_column_text(st, i);
    return strdup(s ? (const char *)s : "");
}

static json_t *col_json(sqlite3_stmt *st, int i) {
    const char *s = (const char *)sqlite3_column_text(st, i);
    return json_loads(s ? s : "{}", 0, NULL);
}

#define CONN_COLS                                                              \
    "name, arn, spec, secrets, state, created_ms, modified_ms, authorized_ms"
#define DEST_COLS "name, arn, spec, state, created_ms, modified_ms"

static evb_err_t conn_row_read(sqlite3_stmt *st, conn_row_t *r) {
    r->name = col_dup(st, 0);
    r->arn = col_dup(st, 1);
    r->spec = col_json(st, 2);
    r->secrets = col_json(st, 3);
    r->state = col_dup(st, 4);
    r->created_ms = sqlite3_column_int64(st, 5);
    r->modified_ms = sqlite3_column_int64(st, 6);
    r->authorized_ms = sqlite3_column_type(st, 7) == SQLITE_NULL
                           ? -1
                           : sqlite3_column_int64(st, 7);
    if (!r->name || !r->arn || !r->spec || !r->secrets || !r->state) {
        conn_row_clear(r);
        return EVB_ERR_NOMEM;
    }
    return EVB_ERR_OK;
}

static evb_err_t dest_row_read(sqlite3_stmt *st, dest_row_t *r) {
    r->name = col_dup(st, 0);
    r->arn = col_dup(st, 1);
    r->spec = col_json(st, 2);
    r->state = col_dup(st, 3);
    r->created_ms = sqlite3_column_int64(st, 4);
    r->modified_ms = sqlite3_column_int64(st, 5);
    if (!r->name || !r->arn || !r->spec || !r->state) {
        dest_row_clear(r);
        return EVB_ERR_NOMEM;
    }
    return EVB_ERR_OK;
}

/* SELECT one row by a text key; *found tells whether there was one. */
static evb_err_t select_one(sqlite3 *db, const char *sql, const char *key,
                            bool conn, void *row, bool *found, char *errstr,
                            size_t errstr_size) {
    sqlite3_stmt *st;
    *found = false;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "reading a connection", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    evb_err_t err = EVB_ERR_OK;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        err = conn ? conn_row_read(st, row) : dest_row_read(st, row);
        *found = err == EVB_ERR_OK;
    } else if (rc != SQLITE_DONE) {
        err = evb_store_sqlerr(db, "reading a row", errstr, errstr_size);
    }
    sqlite3_finalize(st);
    return err;
}

static evb_err_t exec_bind(sqlite3 *db, const char *sql, const char *what,
                           const char *const *texts, size_t ntexts,
                           const int64_t *ints, size_t nints, int *changes,
                           char *errstr, size_t errstr_size) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, what, errstr, errstr_size);
    int i = 1;
    for (size_t k = 0; k < ntexts; k++, i++)
        sqlite3_bind_text(st, i, texts[k], -1, SQLITE_STATIC);
    for (size_t k = 0; k < nints; k++, i++) {
        if (ints[k] < 0)
            sqlite3_bind_null(st, i);
        else
            sqlite3_bind_int64(st, i, ints[k]);
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, what, errstr, errstr_size);
    if (changes)
        *changes = sqlite3_changes(db);
    return EVB_ERR_OK;
}

static evb_err_t count_rows(sqlite3 *db, const char *table, int64_t *n,
                            char *errstr, size_t errstr_size) {
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "counting", errstr, errstr_size);
    *n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

/* ---- answers ---------------------------------------------------------------- */

static void set_times(json_t *o, int64_t created, int64_t modified,
                      int64_t authorized) {
    json_object_set_new(o, "CreationTime", ms_time(created));
    json_object_set_new(o, "LastModifiedTime", ms_time(modified));
    if (authorized >= 0)
        json_object_set_new(o, "LastAuthorizedTime", ms_time(authorized));
}

/* {ConnectionArn, ConnectionState, CreationTime, LastModifiedTime,
 *  LastAuthorizedTime}: the answer of Create/Update/Delete/Deauthorize. */
static json_t *conn_state_answer(const conn_row_t *r, const char *state) {
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "ConnectionArn", json_string(r->arn));
    json_object_set_new(o, "ConnectionState", json_string(state));
    set_times(o, r->created_ms, r->modified_ms, r->authorized_ms);
    return o;
}

static json_t *conn_summary(const conn_row_t *r) {
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "ConnectionArn", json_string(r->arn));
    json_object_set_new(o, "Name", json_string(r->name));
    json_object_set_new(o, "ConnectionState", json_string(r->state));
    if (jstr(r->spec, "StateReason"))
        json_object_set(o, "StateReason", json_object_get(r->spec, "StateReason"));
    json_object_set(o, "AuthorizationType",
                    json_object_get(r->spec, "AuthorizationType"));
    set_times(o, r->created_ms, r->modified_ms, r->authorized_ms);
    return o;
}

static json_t *dest_summary(const dest_row_t *r, bool describe) {
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "ApiDestinationArn", json_string(r->arn));
    json_object_set_new(o, "Name", json_string(r->name));
    if (describe && jstr(r->spec, "Description"))
        json_object_set(o, "Description", json_object_get(r->spec, "Description"));
    json_object_set_new(o, "ApiDestinationState", json_string(r->state));
    static const char *const keys[] = {"ConnectionArn", "InvocationEndpoint",
                                       "HttpMethod",
                                       "InvocationRateLimitPerSecond"};
    for (size_t i = 0; i < EVB_ARRAY_LEN(keys); i++)
        if (json_object_get(r->spec, keys[i]))
            json_object_set(o, keys[i], json_object_get(r->spec, keys[i]));
    json_object_set_new(o, "CreationTime", ms_time(r->created_ms));
    json_object_set_new(o, "LastModifiedTime", ms_time(r->modified_ms));
    return o;
}

/* ---- connections ------------------------------------------------------------ */

typedef struct conn_op {
    const evb_apidest_scope_t *sc;
    const json_t *req;
    const char *verb; /* "create", "update", ... for messages */
    conn_row_t row;   /* the row after the change */
    const char *answer_state; /* the state to answer with */
} conn_op_t;

static evb_err_t conn_not_found(const char *verb, const char *name,
                                char *errstr, size_t errstr_size) {
    return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                       "Failed to %s the connection(s). Connection '%s' does "
                       "not exist.",
                       verb, name);
}

/* Build spec (the shown part) from the request's non-secret members and
 * the redacted auth. */
static json_t *conn_spec(const json_t *base, const json_t *req,
                         const char *type, const json_t *auth) {
    json_t *spec = base ? json_deep_copy(base) : json_object();
    if (!spec)
        return NULL;
    static const char *const keys[] = {"Description", "KmsKeyIdentifier",
                                       "InvocationConnectivityParameters"};
    for (size_t i = 0; i < EVB_ARRAY_LEN(keys); i++)
        if (json_object_get(req, keys[i]))
            json_object_set(spec, keys[i], json_object_get(req, keys[i]));
    json_object_set_new(spec, "AuthorizationType", json_string(type));
    json_t *red = redact(auth);
    if (!red || json_object_set_new(spec, "AuthParameters", red)) {
        json_decref(spec);
        return NULL;
    }
    return spec;
}

static evb_err_t conn_create_unit(sqlite3 *db, void *arg, char *errstr,
                                  size_t errstr_size) {
    conn_op_t *op = arg;
    const char *name = jstr(op->req, "Name");
    const char *type = jstr(op->req, "AuthorizationType");
    const json_t *auth = json_object_get(op->req, "AuthParameters");
    evb_err_t err = check_auth_members(type, auth, true, errstr, errstr_size);
    if (err)
        return err;
    conn_row_t old;
    bool found;
    err = select_one(db, "SELECT " CONN_COLS " FROM connections WHERE name=?",
                     name, true, &old, &found, errstr, errstr_size);
    if (err)
        return err;
    if (found) {
        conn_row_clear(&old);
        return evb_err_set(EVB_ERR_EXISTS, errstr, errstr_size,
                           "Connection %s already exists.", name);
    }
    int64_t n;
    if ((err = count_rows(db, "connections", &n, errstr, errstr_size)))
        return err;
    if (n >= EVB_APIDEST_MAX_CONNECTIONS)
        return evb_err_set(EVB_ERR_LIMIT_EXCEEDED, errstr, errstr_size,
                           "The requested resource exceeds the maximum "
                           "number allowed.");
    char uuid[37];
    if (evb_uuid_v4(uuid))
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size, "getrandom failed");
    conn_row_t *r = &op->row;
    int64_t now = evb__apidest_now_ms();
    r->name = strdup(name);
    r->arn = malloc(strlen(name) + strlen(op->sc->region) + 128);
    r->secrets = json_deep_copy(auth);
    r->spec = conn_spec(NULL, op->req, type, auth);
    bool ok = auth_complete(type, auth);
    r->state = strdup(ok ? "AUTHORIZED" : "DEAUTHORIZED");
    r->created_ms = r->modified_ms = now;
    r->authorized_ms = ok ? now : -1;
    if (!r->name || !r->arn || !r->secrets || !r->spec || !r->state)
        return EVB_ERR_NOMEM;
    sprintf(r->arn, "arn:aws:events:%s:%s:connection/%s/%s", op->sc->region,
            op->sc->account, name, uuid);
    char *spec = json_dumps(r->spec, JSON_COMPACT);
    char *sec = json_dumps(r->secrets, JSON_COMPACT);
    if (!spec || !sec) {
        free(spec);
        free(sec);
        return EVB_ERR_NOMEM;
    }
    const char *t[] = {r->name, r->arn, spec, sec, r->state};
    int64_t ints[] = {r->created_ms, r->modified_ms, r->authorized_ms};
    err = exec_bind(db,
                    "INSERT INTO connections (" CONN_COLS
                    ") VALUES (?,?,?,?,?,?,?,?)",
                    "creating a connection", t, 5, ints, 3, NULL, errstr,
                    errstr_size);
    free(spec);
    free(sec);
    op->answer_state = r->state;
    return err;
}

/* Update, Deauthorize and Delete: read the row, change it, write it. */
typedef enum conn_change { CH_UPDATE, CH_DEAUTHORIZE, CH_DELETE } conn_change_t;

typedef struct conn_change_op {
    conn_op_t op;
    conn_change_t change;
} conn_change_op_t;

static evb_err_t conn_change_unit(sqlite3 *db, void *arg, char *errstr,
                                  size_t errstr_size) {
    conn_change_op_t *co = arg;
    conn_op_t *op = &co->op;
    const char *name = jstr(op->req, "Name");
    conn_row_t *r = &op->row;
    bool found;
    evb_err_t err =
        select_one(db, "SELECT " CONN_COLS " FROM connections WHERE name=?",
                   name, true, r, &found, errstr, errstr_size);
    if (err)
        return err;
    if (!found)
        return conn_not_found(op->verb, name, errstr, errstr_size);
    int64_t now = evb__apidest_now_ms();
    if (co->change == CH_DELETE) {
        const char *t[] = {name};
        op->answer_state = "DELETING";
        return exec_bind(db, "DELETE FROM connections WHERE name=?",
                         "deleting a connection", t, 1, NULL, 0, NULL, errstr,
                         errstr_size);
    }
    const char *old_type = jstr(r->spec, "AuthorizationType");
    const char *type = old_type;
    json_t *auth = NULL;
    if (co->change == CH_DEAUTHORIZE) {
        /* keep what Describe shows; forget every secret */
        auth = redact(r->secrets);
        if (!auth)
            return EVB_ERR_NOMEM;
    } else {
        if (jstr(op->req, "AuthorizationType"))
            type = jstr(op->req, "AuthorizationType");
        const json_t *given = json_object_get(op->req, "AuthParameters");
        bool type_changed = strcmp(type, old_type) != 0;
        if (type_changed) {
            /* a new type starts from its own parameters only */
            auth = json_object();
            json_t *ihp = json_object_get(r->secrets, "InvocationHttpParameters");
            if (auth && ihp)
                json_object_set(auth, "InvocationHttpParameters", ihp);
        } else {
            auth = json_deep_copy(r->secrets);
        }
        if (!auth)
            return EVB_ERR_NOMEM;
        err = check_auth_members(type, given ? given : auth, type_changed,
                                 errstr, errstr_size);
        if (!err && given && merge(auth, given))
            err = EVB_ERR_NOMEM;
        if (err) {
            json_decref(auth);
            return err;
        }
    }
    /* type may point into r->spec: use it before that is replaced */
    bool ok = co->change == CH_UPDATE && auth_complete(type, auth);
    json_t *spec = conn_spec(r->spec, op->req, type, auth);
    if (!spec) {
        json_decref(auth);
        return EVB_ERR_NOMEM;
    }
    json_decref(r->spec);
    r->spec = spec;
    json_decref(r->secrets);
    r->secrets = auth;
    free(r->state);
    r->state = strdup(ok ? "AUTHORIZED" : "DEAUTHORIZED");
    if (!r->state)
        return EVB_ERR_NOMEM;
    r->modified_ms = now;
    if (ok)
        r->authorized_ms = now;
    op->answer_state = co->change == CH_DEAUTHORIZE ? "DEAUTHORIZING" : r->state;
    char *spec_s = json_dumps(r->spec, JSON_COMPACT);
    char *sec_s = json_dumps(r->secrets, JSON_COMPACT);
    if (!spec_s || !sec_s) {
        free(spec_s);
        free(sec_s);
        return EVB_ERR_NOMEM;
    }
    const char *t[] = {spec_s, sec_s, r->state, name};
    int64_t ints[] = {r->modified_ms, r->authorized_ms};
    /* texts first, then ints: the placeholders follow that order */
    err = exec_bind(db,
                    "UPDATE connections SET spec=?1, secrets=?2, state=?3, "
                    "modified_ms=?5, authorized_ms=?6 WHERE name=?4",
                    "updating a connection", t, 4, ints, 2, NULL, errstr,
                    errstr_size);
    free(spec_s);
    free(sec_s);
    return err;
}

static evb_err_t answer_conn(conn_op_t *op, evb_err_t err, json_t **resp) {
    if (!err) {
        *resp = conn_state_answer(&op->row, op->answer_state);
        if (!*resp)
            err = EVB_ERR_NOMEM;
    }
    conn_row_clear(&op->row);
    return err;
}

evb_err_t evb_apidest_connection_create(const evb_apidest_scope_t *sc,
                                        const json_t *req, json_t **resp,
                                        char *errstr, size_t errstr_size) {
    conn_op_t op = {.sc = sc, .req = req, .verb = "create"};
    evb_err_t err =
        evb_store_write(sc->store, conn_create_unit, &op, errstr, errstr_size);
    if (!err)
        evb__apidest_changed();
    return answer_conn(&op, err, resp);
}

static evb_err_t conn_change(const evb_apidest_scope_t *sc, const json_t *req,
                             json_t **resp, conn_change_t ch, const char *verb,
                             char *errstr, size_t errstr_size) {
    conn_change_op_t co = {.op = {.sc = sc, .req = req, .verb = verb},
                           .change = ch};
    evb_err_t err =
        evb_store_write(sc->store, conn_change_unit, &co, errstr, errstr_size);
    if (!err)
        evb__apidest_changed();
    return answer_conn(&co.op, err, resp);
}

evb_err_t evb_apidest_connection_update(const evb_apidest_scope_t *sc,
                                        const json_t *req, json_t **resp,
                                        char *errstr, size_t errstr_size) {
    return conn_change(sc, req, resp, CH_UPDATE, "update", errstr,
                       errstr_size);
}

evb_err_t evb_apidest_connection_delete(const evb_apidest_scope_t *sc,
                                        const json_t *req, json_t **resp,
                                        char *errstr, size_t errstr_size) {
    return conn_change(sc, req, resp, CH_DELETE, "delete", errstr,
                       errstr_size);
}

evb_err_t evb_apidest_connection_deauthorize(const evb_apidest_scope_t *sc,
                                             const json_t *req, json_t **resp,
                                             char *errstr, size_t errstr_size) {
    return conn_change(sc, req, resp, CH_DEAUTHORIZE, "deauthorize", errstr,
                       errstr_size);
}

typedef struct read_op {
    const evb_apidest_scope_t *sc;
    const json_t *req;
    json_t *out;
} read_op_t;

static evb_err_t conn_describe_unit(sqlite3 *db, void *arg, char *errstr,
                                    size_t errstr_size) {
    read_op_t *op = arg;
    const char *name = jstr(op->req, "Name");
    conn_row_t r;
    bool found;
    evb_err_t err =
        select_one(db, "SELECT " CONN_COLS " FROM connections WHERE name=?",
                   name, true, &r, &found, errstr, errstr_size);
    if (err)
        return err;
    if (!found)
        return conn_not_found("describe", name, errstr, errstr_size);
    json_t *o = json_object();
    if (o) {
        const char *uuid = strrchr(r.arn, '/') + 1;
        char secret_arn[512];
        snprintf(secret_arn, sizeof secret_arn,
                 "arn:aws:secretsmanager:%s:%s:secret:events!connection/%s/%s",
                 op->sc->region, op->sc->account, r.name, uuid);
        json_object_set_new(o, "ConnectionArn", json_string(r.arn));
        json_object_set_new(o, "Name", json_string(r.name));
        if (json_object_get(r.spec, "Description"))
            json_object_set(o, "Description",
                            json_object_get(r.spec, "Description"));
        json_object_set_new(o, "ConnectionState", json_string(r.state));
        json_object_set(o, "AuthorizationType",
                        json_object_get(r.spec, "AuthorizationType"));
        json_object_set_new(o, "SecretArn", json_string(secret_arn));
        if (json_object_get(r.spec, "KmsKeyIdentifier"))
            json_object_set(o, "KmsKeyIdentifier",
                            json_object_get(r.spec, "KmsKeyIdentifier"));
        json_object_set(o, "AuthParameters",
                        json_object_get(r.spec, "AuthParameters"));
        set_times(o, r.created_ms, r.modified_ms, r.authorized_ms);
    }
    conn_row_clear(&r);
    op->out = o;
    return o ? EVB_ERR_OK : EVB_ERR_NOMEM;
}

evb_err_t evb_apidest_connection_describe(const evb_apidest_scope_t *sc,
                                          const json_t *req, json_t **resp,
                                          char *errstr, size_t errstr_size) {
    read_op_t op = {.sc = sc, .req = req};
    evb_err_t err =
        evb_store_read(sc->store, conn_describe_unit, &op, errstr, errstr_size);
    *resp = op.out;
    return err;
}

/* Pagination: NextToken is the name of the last row of the page before. */
static evb_err_t list_unit(sqlite3 *db, void *arg, bool conn, char *errstr,
                           size_t errstr_size) {
    read_op_t *op = arg;
    const char *prefix = jstr(op->req, "NamePrefix");
    const char *state = jstr(op->req, "ConnectionState");
    const char *conn_arn = jstr(op->req, "ConnectionArn");
    const char *after = jstr(op->req, "NextToken");
    json_int_t limit = json_integer_value(json_object_get(op->req, "Limit"));
    if (limit <= 0 || limit > 100)
        limit = 100;
    sqlite3_stmt *st;
    const char *sql = conn ? "SELECT " CONN_COLS
                             " FROM connections WHERE name > ? ORDER BY name"
                           : "SELECT " DEST_COLS " FROM api_destinations "
                             "WHERE name > ? ORDER BY name";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "listing", errstr, errstr_size);
    sqlite3_bind_text(st, 1, after ? after : "", -1, SQLITE_STATIC);
    json_t *items = json_array();
    json_t *o = json_object();
    evb_err_t err = items && o ? EVB_ERR_OK : EVB_ERR_NOMEM;
    char *last = NULL;
    int rc;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (prefix && strncmp(name, prefix, strlen(prefix)) != 0)
            continue;
        if ((json_int_t)json_array_size(items) == limit) {
            json_object_set_new(o, "NextToken", json_string(last));
            break;
        }
        json_t *item = NULL;
        if (conn) {
            conn_row_t r;
            if ((err = conn_row_read(st, &r)))
                break;
            if (!state || strcmp(state, r.state) == 0)
                item = conn_summary(&r);
            else
                item = json_null();
            conn_row_clear(&r);
        } else {
            dest_row_t r;
            if ((err = dest_row_read(st, &r)))
                break;
            const char *ca = jstr(r.spec, "ConnectionArn");
            if (!conn_arn || (ca && strcmp(conn_arn, ca) == 0))
                item = dest_summary(&r, false);
            else
                item = json_null();
            dest_row_clear(&r);
        }
        if (!item) {
            err = EVB_ERR_NOMEM;
            break;
        }
        if (json_is_null(item))
            continue;
        free(last);
        last = strdup(name);
        if (!last || json_array_append_new(items, item))
            err = EVB_ERR_NOMEM;
    }
    sqlite3_finalize(st);
    free(last);
    if (!err && json_object_set_new(o, conn ? "Connections" : "ApiDestinations",
                                    items) == 0)
        items = NULL;
    else if (!err)
        err = EVB_ERR_NOMEM;
    json_decref(items);
    if (err) {
        json_decref(o);
        return err;
    }
    op->out = o;
    return EVB_ERR_OK;
}

static evb_err_t conn_list_unit(sqlite3 *db, void *arg, char *errstr,
                                size_t errstr_size) {
    return list_unit(db, arg, true, errstr, errstr_size);
}

static evb_err_t dest_list_unit(sqlite3 *db, void *arg, char *errstr,
                                size_t errstr_size) {
    return list_unit(db, arg, false, errstr, errstr_size);
}

evb_err_t evb_apidest_connection_list(const evb_apidest_scope_t *sc,
                                      const json_t *req, json_t **resp,
                                      char *errstr, size_t errstr_size) {
    read_op_t op = {.sc = sc, .req = req};
    evb_err_t err =
        evb_store_read(sc->store, conn_list_unit, &op, errstr, errstr_size);
    *resp = op.out;
    return err;
}

/* ---- API destinations --------------------------------------------------- */

static evb_err_t dest_not_found(const char *verb, const char *name,
                                char *errstr, size_t errstr_size) {
    return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                       "Failed to %s the api-destination(s). An "
                       "api-destination '%s' does not exist.",
                       verb, name);
}

/* The connection with ARN arn must exist. */
static evb_err_t check_connection(sqlite3 *db, const char *arn, char *errstr,
                                  size_t errstr_size) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM connections WHERE arn=?", -1,
                           &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "reading a connection", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return EVB_ERR_OK;
    const char *p = strstr(arn, ":connection/");
    const char *name = p ? p + 12 : arn;
    const char *slash = strchr(name, '/');
    return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                       "Connection '%.*s' does not exist.",
                       slash ? (int)(slash - name) : (int)strlen(name), name);
}

typedef struct dest_op {
    const evb_apidest_scope_t *sc;
    const json_t *req;
    bool create, del;
    dest_row_t row;
} dest_op_t;

static evb_err_t dest_write_unit(sqlite3 *db, void *arg, char *errstr,
                                 size_t errstr_size) {
    dest_op_t *op = arg;
    const char *name = jstr(op->req, "Name");
    dest_row_t *r = &op->row;
    bool found;
    evb_err_t err =
        select_one(db, "SELECT " DEST_COLS " FROM api_destinations WHERE name=?",
                   name, false, r, &found, errstr, errstr_size);
    if (err)
        return err;
    if (op->create && found)
        return evb_err_set(EVB_ERR_EXISTS, errstr, errstr_size,
                           "An api-destination '%s' already exists.", name);
    if (!op->create && !found)
        return dest_not_found(op->del ? "delete" : "update", name, errstr,
                              errstr_size);
    if (op->del) {
        const char *t[] = {name};
        return exec_bind(db, "DELETE FROM api_destinations WHERE name=?",
                         "deleting an api-destination", t, 1, NULL, 0, NULL,
                         errstr, errstr_size);
    }
    const char *ca = jstr(op->req, "ConnectionArn");
    if (ca && (err = check_connection(db, ca, errstr, errstr_size)))
        return err;
    int64_t now = evb__apidest_now_ms();
    if (op->create) {
        int64_t n;
        if ((err = count_rows(db, "api_destinations", &n, errstr, errstr_size)))
            return err;
        if (n >= EVB_APIDEST_MAX_DESTINATIONS)
            return evb_err_set(EVB_ERR_LIMIT_EXCEEDED, errstr, errstr_size,
                               "The requested resource exceeds the maximum "
                               "number allowed.");
        char uuid[37];
        if (evb_uuid_v4(uuid))
            return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                               "getrandom failed");
        r->name = strdup(name);
        r->arn = malloc(strlen(name) + strlen(op->sc->region) + 128);
        r->state = strdup("ACTIVE");
        r->spec = json_object();
        if (!r->name || !r->arn || !r->state || !r->spec)
            return EVB_ERR_NOMEM;
        sprintf(r->arn, "arn:aws:events:%s:%s:api-destination/%s/%s",
                op->sc->region, op->sc->account, name, uuid);
        r->created_ms = now;
        json_object_set_new(r->spec, "InvocationRateLimitPerSecond",
                            json_integer(EVB_APIDEST_DEFAULT_RATE));
    }
    static const char *const keys[] = {"Description", "ConnectionArn",
                                       "InvocationEndpoint", "HttpMethod",
                                       "InvocationRateLimitPerSecond"};
    for (size_t i = 0; i < EVB_ARRAY_LEN(keys); i++)
        if (json_object_get(op->req, keys[i]) &&
            json_object_set(r->spec, keys[i], json_object_get(op->req, keys[i])))
            return EVB_ERR_NOMEM;
    r->modified_ms = now;
    char *spec = json_dumps(r->spec, JSON_COMPACT);
    if (!spec)
        return EVB_ERR_NOMEM;
    if (op->create) {
        const char *t[] = {r->name, r->arn, spec, r->state};
        int64_t ints[] = {r->created_ms, r->modified_ms};
        err = exec_bind(db,
                        "INSERT INTO api_destinations (" DEST_COLS
                        ") VALUES (?,?,?,?,?,?)",
                        "creating an api-destination", t, 4, ints, 2, NULL,
                        errstr, errstr_size);
    } else {
        const char *t[] = {spec, name};
        int64_t ints[] = {r->modified_ms};
        err = exec_bind(db,
                        "UPDATE api_destinations SET spec=?1, modified_ms=?3 "
                        "WHERE name=?2",
                        "updating an api-destination", t, 2, ints, 1, NULL,
                        errstr, errstr_size);
    }
    free(spec);
    return err;
}

static evb_err_t dest_write(const evb_apidest_scope_t *sc, const json_t *req,
                            json_t **resp, bool create, bool del, char *errstr,
                            size_t errstr_size) {
    dest_op_t op = {.sc = sc, .req = req, .create = create, .del = del};
    evb_err_t err =
        evb_store_write(sc->store, dest_write_unit, &op, errstr, errstr_size);
    if (!err) {
        evb__apidest_changed();
        json_t *o = json_object();
        if (o && !del) {
            json_object_set_new(o, "ApiDestinationArn", json_string(op.row.arn));
            json_object_set_new(o, "ApiDestinationState",
                                json_string(op.row.state));
            json_object_set_new(o, "CreationTime", ms_time(op.row.created_ms));
            json_object_set_new(o, "LastModifiedTime",
                                ms_time(op.row.modified_ms));
        }
        *resp = o;
        if (!o)
            err = EVB_ERR_NOMEM;
    }
    dest_row_clear(&op.row);
    return err;
}

evb_err_t evb_apidest_destination_create(const evb_apidest_scope_t *sc,
                                         const json_t *req, json_t **resp,
                                         char *errstr, size_t errstr_size) {
    return dest_write(sc, req, resp, true, false, errstr, errstr_size);
}

evb_err_t evb_apidest_destination_update(const evb_apidest_scope_t *sc,
                                         const json_t *req, json_t **resp,
                                         char *errstr, size_t errstr_size) {
    return dest_write(sc, req, resp, false, false, errstr, errstr_size);
}

evb_err_t evb_apidest_destination_delete(const evb_apidest_scope_t *sc,
                                         const json_t *req, json_t **resp,
                                         char *errstr, size_t errstr_size) {
    return dest_write(sc, req, resp, false, true, errstr, errstr_size);
}

static evb_err_t dest_describe_unit(sqlite3 *db, void *arg, char *errstr,
                                    size_t errstr_size) {
    read_op_t *op = arg;
    const char *name = jstr(op->req, "Name");
    dest_row_t r;
    bool found;
    evb_err_t err =
        select_one(db, "SELECT " DEST_COLS " FROM api_destinations WHERE name=?",
                   name, false, &r, &found, errstr, errstr_size);
    if (err)
        return err;
    if (!found)
        return dest_not_found("describe", name, errstr, errstr_size);
    op->out = dest_summary(&r, true);
    dest_row_clear(&r);
    return op->out ? EVB_ERR_OK : EVB_ERR_NOMEM;
}

evb_err_t evb_apidest_destination_describe(const evb_apidest_scope_t *sc,
                                           const json_t *req, json_t **resp,
                                           char *errstr, size_t errstr_size) {
    read_op_t op = {.sc = sc, .req = req};
    evb_err_t err =
        evb_store_read(sc->store, dest_describe_unit, &op, errstr, errstr_size);
    *resp = op.out;
    return err;
}

evb_err_t evb_apidest_destination_list(const evb_apidest_scope_t *sc,
                                       const json_t *req, json_t **resp,
                                       char *errstr, size_t errstr_size) {
    read_op_t op = {.sc = sc, .req = req};
    evb_err_t err =
        evb_store_read(sc->store, dest_list_unit, &op, errstr, errstr_size);
    *resp = op.out;
    return err;
}

/* ---- for the invoker -------------------------------------------------------- */

typedef struct resolve_op {
    const char *arn;
    evb__apidest_target_t *t;
} resolve_op_t;

static evb_err_t resolve_unit(sqlite3 *db, void *arg, char *errstr,
                              size_t errstr_size) {
    resolve_op_t *op = arg;
    dest_row_t d;
    bool found;
    evb_err_t err =
        select_one(db, "SELECT " DEST_COLS " FROM api_destinations WHERE arn=?",
                   op->arn, false, &d, &found, errstr, errstr_size);
    if (err)
        return err;
    if (!found)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "API destination does not exist");
    const char *ca = jstr(d.spec, "ConnectionArn");
    conn_row_t c;
    err = select_one(db, "SELECT " CONN_COLS " FROM connections WHERE arn=?",
                     ca ? ca : "", true, &c, &found, errstr, errstr_size);
    if (err || !found) {
        dest_row_clear(&d);
        return err ? err
                   : evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                                 "Connection of the API destination does not "
                                 "exist");
    }
    evb__apidest_target_t *t = op->t;
    t->dest = json_incref(d.spec);
    t->conn_arn = strdup(c.arn);
    t->conn_state = strdup(c.state);
    t->auth = json_incref(c.secrets);
    t->auth_type = strdup(jstr(c.spec, "AuthorizationType")
                              ? jstr(c.spec, "AuthorizationType")
                              : "");
    t->conn_modified_ms = c.modified_ms;
    dest_row_clear(&d);
    conn_row_clear(&c);
    if (!t->conn_arn || !t->conn_state || !t->auth_type)
        return EVB_ERR_NOMEM;
    return EVB_ERR_OK;
}

evb_err_t evb__apidest_resolve(const evb_apidest_scope_t *sc, const char *arn,
                               evb__apidest_target_t *out, char *errstr,
                               size_t errstr_size) {
    memset(out, 0, sizeof *out);
    resolve_op_t op = {.arn = arn, .t = out};
    evb_err_t err =
        evb_store_read(sc->store, resolve_unit, &op, errstr, errstr_size);
    if (err)
        evb__apidest_target_free(out);
    return err;
}

void evb__apidest_target_free(evb__apidest_target_t *t) {
    json_decref(t->dest);
    json_decref(t->auth);
    free(t->conn_arn);
    free(t->conn_state);
    free(t->auth_type);
    memset(t, 0, sizeof *t);
}
