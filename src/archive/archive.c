/*
 * archive.c: archives (CreateArchive .. ListArchives), the capture hook
 * ingestion calls, and the retention sweep.
 *
 * The store is the source of truth (table archives; archived events in
 * archive_events). The in-memory capture tables (one per bus that has
 * archives) are rebuilt from it on open and changed after each committed
 * control operation, under svc->lock. Capture runs on the store's writer
 * thread inside the ingesting unit: it takes a reference to the bus's
 * current matcher under svc->lock and matches without it. Control
 * operations are serialised by svc->ctl, which they hold across their
 * store write; they take svc->lock only to change the tables, never while
 * waiting for the store (the writer thread takes svc->lock in capture).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../json/json.h"
#include "archive_internal.h"

#define ARCHIVE_STATE "ENABLED"
#define MS_PER_DAY 86400000LL

evb_archive_config_t evb_archive_config_default(void) {
    evb_archive_config_t c = {
        .slice_ms = 60000,
        .max_active_replays = 10,
        .sweep_interval_ms = 3600000,
        .idle_wait_ms = 1000,
        .start_thread = true,
        .delivery = NULL,
    };
    return c;
}

int64_t evb__archive_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *evb__archive_strdup(const char *s) {
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char *evb__archive_arn(const evb_archive_service_t *svc, const char *kind,
                       const char *name) {
    size_t n = strlen(svc->region) + strlen(svc->account) + strlen(kind) +
               strlen(name) + 32;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "arn:aws:events:%s:%s:%s/%s", svc->region,
                 svc->account, kind, name);
    return s;
}

void evb_archive_info_free(evb_archive_info_t *a) {
    if (!a)
        return;
    free(a->name);
    free(a->arn);
    free(a->bus);
    free(a->bus_arn);
    free(a->description);
    free(a->event_pattern);
    free(a->state);
    memset(a, 0, sizeof *a);
}

/* ---- capture tables -------------------------------------------------------- */

static evb__archive_bus_t *bus_find(evb_archive_service_t *svc,
                                    const char *bus) {
    for (evb__archive_bus_t *b = svc->buses; b; b = b->next)
        if (strcmp(b->bus, bus) == 0)
            return b;
    return NULL;
}

static void bus_free(evb__archive_bus_t *b) {
    evb_ruleset_free(b->rs);
    for (size_t i = 0; i < b->nall; i++)
        free(b->all[i]);
    free(b->all);
    free(b->bus);
    free(b);
}

static const char GUARD_PATTERN[] = "{\"replay-name\":[{\"exists\":true}]}";

/* The bus's tables, created if missing. Caller holds svc->lock. */
static evb__archive_bus_t *bus_get(evb_archive_service_t *svc,
                                   const char *bus) {
    evb__archive_bus_t *b = bus_find(svc, bus);
    if (b)
        return b;
    b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->bus = evb__archive_strdup(bus);
    b->rs = evb_ruleset_new(NULL);
    if (!b->bus || !b->rs ||
        evb_ruleset_add(b->rs, EVB__ARCHIVE_GUARD, GUARD_PATTERN,
                        sizeof GUARD_PATTERN - 1, NULL, 0)) {
        bus_free(b);
        return NULL;
    }
    b->next = svc->buses;
    svc->buses = b;
    return b;
}

/* Forget archive name on bus (it may be in either table). Caller holds
 * svc->lock. */
static void table_remove(evb_archive_service_t *svc, const char *bus,
                         const char *name) {
    evb__archive_bus_t **pp = &svc->buses;
    while (*pp && strcmp((*pp)->bus, bus) != 0)
        pp = &(*pp)->next;
    evb__archive_bus_t *b = *pp;
    if (!b)
        return;
    bool found = evb_ruleset_remove(b->rs, name) == EVB_ERR_OK;
    for (size_t i = 0; i < b->nall; i++)
        if (strcmp(b->all[i], name) == 0) {
            free(b->all[i]);
            b->all[i] = b->all[--b->nall];
            found = true;
            break;
        }
    if (found && --b->narchives == 0) {
        *pp = b->next;
        bus_free(b);
    }
}

/* Record archive name on bus with pattern (NULL: every event). Caller
 * holds svc->lock. */
static evb_err_t table_add(evb_archive_service_t *svc, const char *bus,
                           const char *name, const char *pattern,
                           char *errstr, size_t errstr_size) {
    evb__archive_bus_t *b = bus_get(svc, bus);
    if (!b)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    if (pattern) {
        evb_err_t err = evb_ruleset_add(b->rs, name, pattern, strlen(pattern),
                                        errstr, errstr_size);
        if (err)
            return err;
    } else {
        char **all = realloc(b->all, (b->nall + 1) * sizeof *all);
        if (!all)
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        b->all = all;
        if (!(all[b->nall] = evb__archive_strdup(name)))
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        b->nall++;
    }
    b->narchives++;
    return EVB_ERR_OK;
}

bool evb_archive_bus_has_archives(evb_archive_service_t *svc,
                                  const char *bus) {
    pthread_mutex_lock(&svc->lock);
    bool has = bus_find(svc, bus) != NULL;
    pthread_mutex_unlock(&svc->lock);
    return has;
}

bool evb_archive_bus_wants(void *svc, const char *bus) {
    return evb_archive_bus_has_archives(svc, bus);
}

/* ---- capture ------------------------------------------------------------------ */

static evb_err_t capture_insert(sqlite3 *db, sqlite3_stmt *st,
                                const char *archive, const char *event,
                                size_t len, int64_t event_time_ms,
                                int64_t now, char *errstr,
                                size_t errstr_size) {
    sqlite3_bind_text(st, 1, archive, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, event_time_ms);
    sqlite3_bind_text(st, 3, event, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "archiving an event", errstr,
                                errstr_size);
    return EVB_ERR_OK;
}

evb_err_t evb_archive_capture_hook(void *arg, sqlite3 *db, const char *bus,
                                   const char *event, size_t len,
                                   int64_t event_time_ms, char *errstr,
                                   size_t errstr_size) {
    evb_archive_service_t *svc = arg;
    pthread_mutex_lock(&svc->lock);
    evb__archive_bus_t *b = bus_find(svc, bus);
    evb_matcher_t *m = b ? evb_ruleset_acquire(b->rs) : NULL;
    char **all = NULL;
    size_t nall = 0;
    evb_err_t err = EVB_ERR_OK;
    if (b && b->nall) {
        /* copy the names: the table may change once we unlock */
        all = calloc(b->nall, sizeof *all);
        if (!all)
            err = EVB_ERR_NOMEM;
        for (size_t i = 0; all && i < b->nall; i++, nall++)
            if (!(all[i] = evb__archive_strdup(b->all[i]))) {
                err = EVB_ERR_NOMEM;
                break;
            }
    }
    pthread_mutex_unlock(&svc->lock);
    if (!b)
        return EVB_ERR_OK;
    if (err) {
        evb_err_set(err, errstr, errstr_size, "out of memory");
        goto out;
    }
    evb_match_ctx_t *ctx = evb_match_ctx_thread();
    if (!ctx) {
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                          "out of memory");
        goto out;
    }
    const char *const *names = NULL;
    size_t nn = 0;
    char why[256];
    if (evb_matcher_match(m, ctx, event, len, &names, &nn, why, sizeof why)) {
        /* not an event we can read: nothing to archive */
        goto out;
    }
    for (size_t i = 0; i < nn; i++)
        if (strcmp(names[i], EVB__ARCHIVE_GUARD) == 0)
            goto out; /* replayed events are never archived */
    if (!nn && !nall)
        goto out;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO archive_events(archive, "
                           "event_time_ms, body, archived_ms) SELECT "
                           "?1,?2,?3,?4 WHERE EXISTS (SELECT 1 FROM "
                           "archives WHERE name = ?1)",
                           -1, &st, NULL) != SQLITE_OK) {
        err = evb_store_sqlerr(db, "archiving an event", errstr, errstr_size);
        goto out;
    }
    int64_t now = evb__archive_now_ms();
    for (size_t i = 0; i < nn && !err; i++)
        err = capture_insert(db, st, names[i], event, len, event_time_ms, now,
                             errstr, errstr_size);
    for (size_t i = 0; i < nall && !err; i++)
        err = capture_insert(db, st, all[i], event, len, event_time_ms, now,
                             errstr, errstr_size);
    sqlite3_finalize(st);
out:
    if (m)
        evb_matcher_unref(m);
    for (size_t i = 0; i < nall; i++)
        free(all[i]);
    free(all);
    return err;
}

evb_err_t evb_archive_capture(evb_archive_service_t *svc, sqlite3 *db,
                              const char *bus, const char *event, size_t len,
                              int64_t event_time_ms) {
    return evb_archive_capture_hook(svc, db, bus, event, len, event_time_ms,
                                    NULL, 0);
}

/* ---- reading archives ----------------------------------------------------- */

#define ARCHIVE_COLUMNS                                                        \
    "a.name, a.arn, a.bus, a.description, a.event_pattern, "                  \
    "a.retention_days, a.state, a.created_ms, "                                \
    "(SELECT COUNT(*) FROM archive_events e WHERE e.archive = a.name), "       \
    "(SELECT COALESCE(SUM(LENGTH(CAST(e.body AS BLOB))), 0) FROM "             \
    "archive_events e WHERE e.archive = a.name)"

static char *col_text(sqlite3_stmt *st, int i) {
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? evb__archive_strdup((const char *)s) : NULL;
}

static evb_err_t row_to_info(const evb_archive_service_t *svc,
                             sqlite3_stmt *st, evb_archive_info_t *a) {
    memset(a, 0, sizeof *a);
    a->name = col_text(st, 0);
    a->arn = col_text(st, 1);
    a->bus = col_text(st, 2);
    a->description = col_text(st, 3);
    a->event_pattern = col_text(st, 4);
    a->retention_days = sqlite3_column_int64(st, 5);
    a->state = col_text(st, 6);
    a->created_ms = sqlite3_column_int64(st, 7);
    a->event_count = sqlite3_column_int64(st, 8);
    a->size_bytes = sqlite3_column_int64(st, 9);
    a->bus_arn = a->bus ? evb__archive_arn(svc, "event-bus", a->bus) : NULL;
    if (!a->name || !a->arn || !a->bus || !a->state || !a->bus_arn) {
        evb_archive_info_free(a);
        return EVB_ERR_NOMEM;
    }
    return EVB_ERR_OK;
}

typedef struct describe_arg {
    const evb_archive_service_t *svc;
    const char *name;
    evb_archive_info_t *out;
} describe_arg_t;

static evb_err_t describe_unit(sqlite3 *db, void *arg, char *errstr,
                               size_t errstr_size) {
    describe_arg_t *d = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT " ARCHIVE_COLUMNS
                           " FROM archives a WHERE a.name = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "reading an archive", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    evb_err_t err = EVB_ERR_OK;
    if (rc == SQLITE_ROW)
        err = row_to_info(d->svc, st, d->out);
    else if (rc == SQLITE_DONE)
        err = evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                          "Archive %s does not exist.", d->name);
    else
        err = evb_store_sqlerr(db, "reading an archive", errstr, errstr_size);
    if (err == EVB_ERR_NOMEM)
        evb_err_set(err, errstr, errstr_size, "out of memory");
    sqlite3_finalize(st);
    return err;
}

evb_err_t evb_archive_describe(evb_archive_service_t *svc, const char *name,
                               evb_archive_info_t *out, char *errstr,
                               size_t errstr_size) {
    describe_arg_t d = {svc, name, out};
    return evb_store_read(svc->store, describe_unit, &d, errstr, errstr_size);
}

/* ---- create / update / delete ------------------------------------------------ */

typedef struct write_arg {
    const char *name, *arn, *bus, *description, *pattern;
    int64_t retention_days, now;
    bool set_description, set_pattern, set_retention;
    char *old_bus;     /* update/delete: the archive's bus (out) */
    char *old_pattern; /* update: the pattern before (out) */
} write_arg_t;

static evb_err_t create_unit(sqlite3 *db, void *arg, char *errstr,
                             size_t errstr_size) {
    write_arg_t *w = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO archives(name, arn, bus, description, "
                           "event_pattern, retention_days, state, created_ms)"
                           " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(name) DO "
                           "NOTHING",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "creating an archive", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, w->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->arn, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, w->bus, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, w->description, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, w->pattern, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, w->retention_days);
    sqlite3_bind_text(st, 7, ARCHIVE_STATE, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, w->now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "creating an archive", errstr,
                                errstr_size);
    if (sqlite3_changes(db) == 0)
        return evb_err_set(EVB_ERR_EXISTS, errstr, errstr_size,
                           "Archive %s already exists.", w->name);
    return EVB_ERR_OK;
}

/* Validate a pattern with EventBridge's errors. */
static evb_err_t check_pattern(const char *pattern, char *errstr,
                               size_t errstr_size) {
    return evb_pattern_validate(pattern, strlen(pattern), NULL, errstr,
                                errstr_size);
}

evb_err_t evb_archive_create(evb_archive_service_t *svc, const char *name,
                             const char *source_arn, const char *description,
                             const char *pattern, int64_t retention_days,
                             evb_archive_info_t *out, char *errstr,
                             size_t errstr_size) {
    if (!name || !*name || strchr(name, '#'))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Archive name is not valid.");
    if (retention_days < 0)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Parameter RetentionDays is not valid.");
    char bus[1700];
    if (!source_arn ||
        !evb_bus_arn_name(svc->bus, source_arn, bus, sizeof bus))
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "Event bus %s does not exist.",
                           source_arn ? source_arn : "");
    evb_bus_info_t bi = {0};
    if (evb_bus_describe(svc->bus, bus, &bi, NULL, 0))
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "Event bus %s does not exist.", bus);
    evb_bus_info_free(&bi);
    if (pattern && !*pattern)
        pattern = NULL;
    evb_err_t err;
    if (pattern && (err = check_pattern(pattern, errstr, errstr_size)))
        return err;
    char *arn = evb__archive_arn(svc, "archive", name);
    if (!arn)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    write_arg_t w = {.name = name,
                     .arn = arn,
                     .bus = bus,
                     .description = description,
                     .pattern = pattern,
                     .retention_days = retention_days,
                     .now = evb__archive_now_ms()};
    pthread_mutex_lock(&svc->ctl);
    err = evb_store_write(svc->store, create_unit, &w, errstr, errstr_size);
    if (!err) {
        pthread_mutex_lock(&svc->lock);
        err = table_add(svc, bus, name, pattern, errstr, errstr_size);
        pthread_mutex_unlock(&svc->lock);
    }
    pthread_mutex_unlock(&svc->ctl);
    free(arn);
    if (!err && out)
        err = evb_archive_describe(svc, name, out, errstr, errstr_size);
    return err;
}

static evb_err_t update_unit(sqlite3 *db, void *arg, char *errstr,
                             size_t errstr_size) {
    write_arg_t *w = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT bus, event_pattern FROM archives WHERE "
                           "name = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "updating an archive", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, w->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        w->old_bus = col_text(st, 0);
        w->old_pattern = col_text(st, 1);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "Archive %s does not exist.", w->name);
    if (rc != SQLITE_ROW)
        return evb_store_sqlerr(db, "updating an archive", errstr,
                                errstr_size);
    if (!w->old_bus)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    if (sqlite3_prepare_v2(
            db,
            "UPDATE archives SET "
            "description = CASE WHEN ?2 THEN ?3 ELSE description END, "
            "event_pattern = CASE WHEN ?4 THEN ?5 ELSE event_pattern END, "
            "retention_days = CASE WHEN ?6 THEN ?7 ELSE retention_days END "
            "WHERE name = ?1",
            -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "updating an archive", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, w->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, w->set_description);
    sqlite3_bind_text(st, 3, w->description, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, w->set_pattern);
    sqlite3_bind_text(st, 5, w->pattern, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, w->set_retention);
    sqlite3_bind_int64(st, 7, w->retention_days);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "updating an archive", errstr,
                                errstr_size);
    return EVB_ERR_OK;
}

evb_err_t evb_archive_update(evb_archive_service_t *svc, const char *name,
                             const char *description, const char *pattern,
                             int64_t retention_days, evb_archive_info_t *out,
                             char *errstr, size_t errstr_size) {
    if (!description && !pattern && retention_days < 0)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "At least one of EventPattern, RetentionDays or "
                           "Description must be provided.");
    evb_err_t err;
    if (pattern && *pattern &&
        (err = check_pattern(pattern, errstr, errstr_size)))
        return err;
    write_arg_t w = {.name = name,
                     .description = description,
                     .set_description = description != NULL,
                     .pattern = pattern && *pattern ? pattern : NULL,
                     .set_pattern = pattern != NULL,
                     .retention_days = retention_days,
                     .set_retention = retention_days >= 0};
    pthread_mutex_lock(&svc->ctl);
    err = evb_store_write(svc->store, update_unit, &w, errstr, errstr_size);
    if (!err && w.set_pattern) {
        pthread_mutex_lock(&svc->lock);
        table_remove(svc, w.old_bus, name);
        err = table_add(svc, w.old_bus, name, w.pattern, errstr, errstr_size);
        pthread_mutex_unlock(&svc->lock);
    }
    pthread_mutex_unlock(&svc->ctl);
    free(w.old_bus);
    free(w.old_pattern);
    if (!err && out)
        err = evb_archive_describe(svc, name, out, errstr, errstr_size);
    return err;
}

static evb_err_t delete_unit(sqlite3 *db, void *arg, char *errstr,
                             size_t errstr_size) {
    write_arg_t *w = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT bus FROM archives WHERE name = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "deleting an archive", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, w->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        w->old_bus = col_text(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "Archive %s does not exist.", w->name);
    if (rc != SQLITE_ROW || !w->old_bus)
        return evb_store_sqlerr(db, "deleting an archive", errstr,
                                errstr_size);
    static const char *const sql[] = {
        "DELETE FROM archive_events WHERE archive = ?",
        "DELETE FROM archives WHERE name = ?",
    };
    for (size_t i = 0; i < EVB_ARRAY_LEN(sql); i++) {
        if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK)
            return evb_store_sqlerr(db, "deleting an archive", errstr,
                                    errstr_size);
        sqlite3_bind_text(st, 1, w->name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return evb_store_sqlerr(db, "deleting an archive", errstr,
                                    errstr_size);
    }
    return EVB_ERR_OK;
}

evb_err_t evb_archive_delete(evb_archive_service_t *svc, const char *name,
                             char *errstr, size_t errstr_size) {
    write_arg_t w = {.name = name};
    pthread_mutex_lock(&svc->ctl);
    evb_err_t err =
        evb_store_write(svc->store, delete_unit, &w, errstr, errstr_size);
    if (!err) {
        pthread_mutex_lock(&svc->lock);
        table_remove(svc, w.old_bus, name);
        pthread_mutex_unlock(&svc->lock);
    }
    pthread_mutex_unlock(&svc->ctl);
    free(w.old_bus);
    return err;
}

/* ---- list ------------------------------------------------------------------- */

typedef struct list_arg {
    const evb_archive_service_t *svc;
    const char *prefix, *bus, *state, *after;
    unsigned limit;
    evb_archive_info_t *items;
    size_t n;
    bool more;
} list_arg_t;

static evb_err_t list_unit(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    list_arg_t *l = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            db,
            "SELECT " ARCHIVE_COLUMNS " FROM archives a WHERE "
            "(?1 IS NULL OR substr(a.name, 1, length(?1)) = ?1) AND "
            "(?2 IS NULL OR a.bus = ?2) AND (?3 IS NULL OR a.state = ?3) AND "
            "(?4 IS NULL OR a.name > ?4) ORDER BY a.name LIMIT ?5",
            -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "listing archives", errstr, errstr_size);
    sqlite3_bind_text(st, 1, l->prefix, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, l->bus, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, l->state, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, l->after, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (int64_t)l->limit + 1);
    l->items = calloc(l->limit + 1, sizeof *l->items);
    evb_err_t err = l->items ? EVB_ERR_OK : EVB_ERR_NOMEM;
    int rc;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (l->n == l->limit) {
            l->more = true;
            break;
        }
        if ((err = row_to_info(l->svc, st, &l->items[l->n])) == EVB_ERR_OK)
            l->n++;
    }
    if (!err && !l->more && rc != SQLITE_DONE)
        err = evb_store_sqlerr(db, "listing archives", errstr, errstr_size);
    else if (err == EVB_ERR_NOMEM)
        evb_err_set(err, errstr, errstr_size, "out of memory");
    sqlite3_finalize(st);
    return err;
}

evb_err_t evb_archive_list(evb_archive_service_t *svc, const char *prefix,
                           const char *source_arn, const char *state,
                           const char *next_token, unsigned limit,
                           evb_archive_info_t **items, size_t *n,
                           char **next_out, char *errstr,
                           size_t errstr_size) {
    *items = NULL;
    *n = 0;
    *next_out = NULL;
    char bus[1700];
    if (source_arn &&
        !evb_bus_arn_name(svc->bus, source_arn, bus, sizeof bus))
        return EVB_ERR_OK; /* no archive can have that source */
    list_arg_t l = {.svc = svc,
                    .prefix = prefix,
                    .bus = source_arn ? bus : NULL,
                    .state = state,
                    .after = next_token,
                    .limit = limit ? limit : 100};
    evb_err_t err =
        evb_store_read(svc->store, list_unit, &l, errstr, errstr_size);
    if (!err && l.more && l.n &&
        !(*next_out = evb__archive_strdup(l.items[l.n - 1].name)))
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                          "out of memory");
    if (err) {
        for (size_t i = 0; i < l.n; i++)
            evb_archive_info_free(&l.items[i]);
        free(l.items);
        return err;
    }
    *items = l.items;
    *n = l.n;
    return EVB_ERR_OK;
}

/* ---- retention ---------------------------------------------------------------- */

typedef struct sweep_arg {
    int64_t now;
    size_t deleted;
} sweep_arg_t;

static evb_err_t sweep_unit(sqlite3 *db, void *arg, char *errstr,
                            size_t errstr_size) {
    sweep_arg_t *s = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            db,
            "DELETE FROM archive_events WHERE seq IN (SELECT e.seq FROM "
            "archive_events e JOIN archives a ON a.name = e.archive WHERE "
            "a.retention_days > 0 AND e.archived_ms < ?1 - "
            "a.retention_days * ?2)",
            -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "expiring archived events", errstr,
                                errstr_size);
    sqlite3_bind_int64(st, 1, s->now);
    sqlite3_bind_int64(st, 2, MS_PER_DAY);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "expiring archived events", errstr,
                                errstr_size);
    s->deleted = (size_t)sqlite3_changes(db);
    return EVB_ERR_OK;
}

evb_err_t evb_archive_sweep(evb_archive_service_t *svc, int64_t now_ms,
                            size_t *deleted, char *errstr,
                            size_t errstr_size) {
    sweep_arg_t s = {now_ms, 0};
    evb_err_t err =
        evb_store_write(svc->store, sweep_unit, &s, errstr, errstr_size);
    if (deleted)
        *deleted = err ? 0 : s.deleted;
    return err;
}

/* ---- open / close ------------------------------------------------------------ */

static evb_err_t load_unit(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    evb_archive_service_t *svc = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT name, bus, event_pattern FROM archives",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "loading archives", errstr, errstr_size);
    evb_err_t err = EVB_ERR_OK;
    int rc;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
        err = table_add(svc, (const char *)sqlite3_column_text(st, 1),
                        (const char *)sqlite3_column_text(st, 0),
                        (const char *)sqlite3_column_text(st, 2), errstr,
                        errstr_size);
    if (!err && rc != SQLITE_DONE)
        err = evb_store_sqlerr(db, "loading archives", errstr, errstr_size);
    sqlite3_finalize(st);
    return err;
}

evb_err_t evb_archive_service_open(const evb_archive_config_t *cfg,
                                   evb_store_t *store, evb_bus_service_t *bus,
                                   evb_archive_service_t **out, char *errstr,
                                   size_t errstr_size) {
    *out = NULL;
    evb_archive_service_t *svc = calloc(1, sizeof *svc);
    if (!svc)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    svc->cfg = cfg ? *cfg : evb_archive_config_default();
    if (svc->cfg.slice_ms <= 0)
        svc->cfg.slice_ms = 60000;
    if (!svc->cfg.max_active_replays)
        svc->cfg.max_active_replays = 10;
    if (svc->cfg.sweep_interval_ms <= 0)
        svc->cfg.sweep_interval_ms = 3600000;
    if (svc->cfg.idle_wait_ms <= 0)
        svc->cfg.idle_wait_ms = 1000;
    svc->store = store;
    svc->bus = bus;
    snprintf(svc->account, sizeof svc->account, "%s", evb_bus_account(bus));
    snprintf(svc->region, sizeof svc->region, "%s", evb_bus_region(bus));
    pthread_mutex_init(&svc->lock, NULL);
    pthread_mutex_init(&svc->ctl, NULL);
    pthread_mutex_init(&svc->wlock, NULL);
    pthread_cond_init(&svc->wcond, NULL);
    pthread_mutex_lock(&svc->lock);
    evb_err_t err = evb_store_read(store, load_unit, svc, errstr, errstr_size);
    pthread_mutex_unlock(&svc->lock);
    if (!err && svc->cfg.start_thread)
        err = evb__archive_worker_start(svc, errstr, errstr_size);
    if (err) {
        evb_archive_service_close(svc);
        return err;
    }
    *out = svc;
    return EVB_ERR_OK;
}

void evb_archive_service_close(evb_archive_service_t *svc) {
    if (!svc)
        return;
    evb__archive_worker_stop(svc);
    while (svc->buses) {
        evb__archive_bus_t *b = svc->buses;
        svc->buses = b->next;
        bus_free(b);
    }
    pthread_cond_destroy(&svc->wcond);
    pthread_mutex_destroy(&svc->wlock);
    pthread_mutex_destroy(&svc->ctl);
    pthread_mutex_destroy(&svc->lock);
    free(svc);
}
