/*
 * replay.c: replays (StartReplay .. CancelReplay) and the worker that
 * runs them and the retention sweep.
 *
 * A replay row holds its request as JSON (spec: archive, bus, window,
 * destination, filters), its state and its progress (last_replayed_ms:
 * the end of the last committed slice, in event time). One step of a
 * replay reads the next non-empty slice of archived events, routes each
 * replayed copy on the bus outside any store unit, then commits the
 * copies, their deliveries and the new progress in one unit that first
 * re-checks the state, so a cancel that lands in between wins and no
 * slice is ever committed twice. The worker is one thread for all
 * replays: each pass advances every active replay by one step.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../json/json.h"
#include "archive_internal.h"

void evb_replay_info_free(evb_replay_info_t *r) {
    if (!r)
        return;
    free(r->name);
    free(r->arn);
    free(r->description);
    free(r->state);
    free(r->state_reason);
    free(r->archive_arn);
    free(r->dest_arn);
    for (size_t i = 0; i < r->nfilter; i++)
        free(r->filter_arns[i]);
    free(r->filter_arns);
    memset(r, 0, sizeof *r);
}

/* ---- the stored spec ------------------------------------------------------- */

/* What the worker needs besides the public info. */
typedef struct spec_extra {
    char *archive, *bus;
} spec_extra_t;

static char *jstr(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? evb__archive_strdup(json_string_value(v))
                             : NULL;
}

static evb_err_t spec_parse(const char *text, evb_replay_info_t *r,
                            spec_extra_t *x) {
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        return EVB_ERR_INTERNAL;
    evb_err_t err = EVB_ERR_OK;
    r->description = jstr(j, "Description");
    r->archive_arn = jstr(j, "EventSourceArn");
    r->start_ms = json_integer_value(json_object_get(j, "EventStartTime"));
    r->end_ms = json_integer_value(json_object_get(j, "EventEndTime"));
    json_t *d = json_object_get(j, "Destination");
    r->dest_arn = jstr(d, "Arn");
    json_t *f = json_object_get(d, "FilterArns");
    if (json_is_array(f)) {
        r->has_filter = true;
        size_t n = json_array_size(f);
        r->filter_arns = n ? calloc(n, sizeof *r->filter_arns) : NULL;
        if (n && !r->filter_arns)
            err = EVB_ERR_NOMEM;
        for (size_t i = 0; !err && i < n; i++, r->nfilter++)
            if (!(r->filter_arns[i] = evb__archive_strdup(
                      json_string_value(json_array_get(f, i)))))
                err = EVB_ERR_NOMEM;
    }
    if (x) {
        x->archive = jstr(j, "ArchiveName");
        x->bus = jstr(j, "Bus");
        if (!x->archive || !x->bus)
            err = EVB_ERR_NOMEM;
    }
    if (!r->archive_arn || !r->dest_arn)
        err = EVB_ERR_NOMEM;
    json_decref(j);
    return err;
}

static char *spec_build(const evb_replay_spec_t *s, const char *archive,
                        const char *bus) {
    json_t *j = json_object();
    json_t *d = json_object();
    json_t *f = s->filter_arns ? json_array() : NULL;
    char *text = NULL;
    if (!j || !d || (s->filter_arns && !f))
        goto out;
    json_object_set_new(j, "ArchiveName", json_string(archive));
    json_object_set_new(j, "Bus", json_string(bus));
    json_object_set_new(j, "EventSourceArn", json_string(s->archive_arn));
    if (s->description)
        json_object_set_new(j, "Description", json_string(s->description));
    json_object_set_new(j, "EventStartTime", json_integer(s->start_ms));
    json_object_set_new(j, "EventEndTime", json_integer(s->end_ms));
    json_object_set_new(d, "Arn", json_string(s->dest_arn));
    for (size_t i = 0; f && i < s->nfilter; i++)
        json_array_append_new(f, json_string(s->filter_arns[i]));
    if (f) {
        json_object_set_new(d, "FilterArns", f);
        f = NULL;
    }
    json_object_set_new(j, "Destination", d);
    d = NULL;
    text = json_dumps(j, JSON_COMPACT);
out:
    json_decref(f);
    json_decref(d);
    json_decref(j);
    return text;
}

/* ---- reading replays ------------------------------------------------------- */

#define REPLAY_COLUMNS                                                         \
    "name, arn, spec, state, state_reason, last_replayed_ms, started_ms, "     \
    "ended_ms"

static char *col_text(sqlite3_stmt *st, int i) {
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? evb__archive_strdup((const char *)s) : NULL;
}

static evb_err_t row_to_replay(sqlite3_stmt *st, evb_replay_info_t *r,
                               spec_extra_t *x) {
    memset(r, 0, sizeof *r);
    r->name = col_text(st, 0);
    r->arn = col_text(st, 1);
    r->state = col_text(st, 3);
    r->state_reason = col_text(st, 4);
    r->last_replayed_ms = sqlite3_column_type(st, 5) == SQLITE_NULL
                              ? -1
                              : sqlite3_column_int64(st, 5);
    r->replay_start_ms = sqlite3_column_int64(st, 6);
    r->replay_end_ms = sqlite3_column_type(st, 7) == SQLITE_NULL
                           ? -1
                           : sqlite3_column_int64(st, 7);
    evb_err_t err = EVB_ERR_NOMEM;
    const char *spec = (const char *)sqlite3_column_text(st, 2);
    if (r->name && r->arn && r->state && spec)
        err = spec_parse(spec, r, x);
    if (err)
        evb_replay_info_free(r);
    return err;
}

typedef struct describe_arg {
    const char *name;
    evb_replay_info_t *out;
} describe_arg_t;

static evb_err_t describe_unit(sqlite3 *db, void *arg, char *errstr,
                               size_t errstr_size) {
    describe_arg_t *d = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT " REPLAY_COLUMNS
                           " FROM replays WHERE name = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "reading a replay", errstr, errstr_size);
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    evb_err_t err = EVB_ERR_OK;
    if (rc == SQLITE_ROW) {
        if ((err = row_to_replay(st, d->out, NULL)))
            evb_err_set(err, errstr, errstr_size, "reading replay %s",
                        d->name);
    } else if (rc == SQLITE_DONE) {
        err = evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                          "Replay %s does not exist.", d->name);
    } else {
        err = evb_store_sqlerr(db, "reading a replay", errstr, errstr_size);
    }
    sqlite3_finalize(st);
    return err;
}

evb_err_t evb_replay_describe(evb_archive_service_t *svc, const char *name,
                              evb_replay_info_t *out, char *errstr,
                              size_t errstr_size) {
    describe_arg_t d = {name, out};
    return evb_store_read(svc->store, describe_unit, &d, errstr, errstr_size);
}

typedef struct list_arg {
    const char *prefix, *state, *archive_arn, *after;
    unsigned limit;
    evb_replay_info_t *items;
    size_t n;
    bool more;
} list_arg_t;

static evb_err_t list_unit(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    list_arg_t *l = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            db,
            "SELECT " REPLAY_COLUMNS " FROM replays WHERE "
            "(?1 IS NULL OR substr(name, 1, length(?1)) = ?1) AND "
            "(?2 IS NULL OR state = ?2) AND (?3 IS NULL OR name > ?3) "
            "ORDER BY name",
            -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "listing replays", errstr, errstr_size);
    sqlite3_bind_text(st, 1, l->prefix, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, l->state, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, l->after, -1, SQLITE_STATIC);
    l->items = calloc(l->limit, sizeof *l->items);
    evb_err_t err = l->items ? EVB_ERR_OK : EVB_ERR_NOMEM;
    int rc = SQLITE_DONE;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        evb_replay_info_t r;
        if ((err = row_to_replay(st, &r, NULL)))
            break;
        if (l->archive_arn && strcmp(r.archive_arn, l->archive_arn) != 0) {
            evb_replay_info_free(&r);
            continue;
        }
        if (l->n == l->limit) {
            evb_replay_info_free(&r);
            l->more = true;
            break;
        }
        l->items[l->n++] = r;
    }
    if (err)
        evb_err_set(err, errstr, errstr_size, "listing replays");
    else if (!l->more && rc != SQLITE_DONE)
        err = evb_store_sqlerr(db, "listing replays", errstr, errstr_size);
    sqlite3_finalize(st);
    return err;
}

evb_err_t evb_replay_list(evb_archive_service_t *svc, const char *prefix,
                          const char *state, const char *archive_arn,
                          const char *next_token, unsigned limit,
                          evb_replay_info_t **items, size_t *n,
                          char **next_out, char *errstr, size_t errstr_size) {
    *items = NULL;
    *n = 0;
    *next_out = NULL;
    list_arg_t l = {.prefix = prefix,
                    .state = state,
                    .archive_arn = archive_arn,
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
            evb_replay_info_free(&l.items[i]);
        free(l.items);
        return err;
    }
    *items = l.items;
    *n = l.n;
    return EVB_ERR_OK;
}

/* ---- start / cancel -------------------------------------------------------- */

typedef struct start_arg {
    const char *name, *arn, *spec;
    unsigned max_active;
    int64_t now;
} start_arg_t;

static evb_err_t start_unit(sqlite3 *db, void *arg, char *errstr,
                            size_t errstr_size) {
    start_arg_t *s = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT COUNT(*) FROM replays WHERE name ="
                           " ?1), (SELECT COUNT(*) FROM replays WHERE state "
                           "IN ('STARTING','RUNNING','CANCELLING'))",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "starting a replay", errstr, errstr_size);
    sqlite3_bind_text(st, 1, s->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t exists = sqlite3_column_int64(st, 0);
    int64_t active = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return evb_store_sqlerr(db, "starting a replay", errstr, errstr_size);
    if (exists)
        return evb_err_set(EVB_ERR_EXISTS, errstr, errstr_size,
                           "Replay %s already exists.", s->name);
    if (active >= s->max_active)
        return evb_err_set(EVB_ERR_LIMIT_EXCEEDED, errstr, errstr_size,
                           "%s", evb_err_message(EVB_ERR_LIMIT_EXCEEDED));
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO replays(name, arn, spec, state, "
                           "started_ms) VALUES (?,?,?,'STARTING',?)",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "starting a replay", errstr, errstr_size);
    sqlite3_bind_text(st, 1, s->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s->arn, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, s->spec, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, s->now);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "starting a replay", errstr, errstr_size);
    return EVB_ERR_OK;
}

evb_err_t evb_replay_start(evb_archive_service_t *svc,
                           const evb_replay_spec_t *spec,
                           evb_replay_info_t *out, char *errstr,
                           size_t errstr_size) {
    const char *slash = strrchr(spec->archive_arn, '/');
    const char *archive = slash ? slash + 1 : spec->archive_arn;
    evb_archive_info_t a = {0};
    if (evb_archive_describe(svc, archive, &a, NULL, 0) ||
        strcmp(a.arn, spec->archive_arn) != 0) {
        evb_archive_info_free(&a);
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Parameter EventSourceArn is not valid. Reason: "
                           "Archive %s does not exist.",
                           archive);
    }
    char dest[1700];
    evb_err_t err = EVB_ERR_OK;
    if (!evb_bus_arn_name(svc->bus, spec->dest_arn, dest, sizeof dest) ||
        strcmp(dest, a.bus) != 0)
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "Parameter Destination.Arn is not valid. Reason: "
                          "Cross event bus replay is not permitted.");
    else if (spec->start_ms >= spec->end_ms)
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "Parameter EventEndTime is not valid. Reason: "
                          "EventStartTime must be before EventEndTime.");
    char *text = err ? NULL : spec_build(spec, a.name, a.bus);
    char *arn = err ? NULL : evb__archive_arn(svc, "replay", spec->name);
    if (!err && (!text || !arn))
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                          "out of memory");
    if (!err) {
        start_arg_t s = {spec->name, arn, text, svc->cfg.max_active_replays,
                         evb__archive_now_ms()};
        err = evb_store_write(svc->store, start_unit, &s, errstr,
                              errstr_size);
    }
    free(text);
    free(arn);
    evb_archive_info_free(&a);
    if (err)
        return err;
    /* describe before waking the worker: StartReplay answers the state the
     * replay was created in (STARTING), not wherever the worker got to */
    err = out ? evb_replay_describe(svc, spec->name, out, errstr, errstr_size)
              : EVB_ERR_OK;
    evb__archive_kick(svc);
    return err;
}

static evb_err_t cancel_unit(sqlite3 *db, void *arg, char *errstr,
                             size_t errstr_size) {
    const char *name = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT state FROM replays WHERE name = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "cancelling a replay", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    bool cancellable = false;
    if (rc == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(st, 0);
        cancellable = state && (strcmp(state, "STARTING") == 0 ||
                                strcmp(state, "RUNNING") == 0);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "Replay %s does not exist.", name);
    if (rc != SQLITE_ROW)
        return evb_store_sqlerr(db, "cancelling a replay", errstr,
                                errstr_size);
    if (!cancellable)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Replay %s is not in a valid state for this "
                           "operation.",
                           name);
    if (sqlite3_prepare_v2(db,
                           "UPDATE replays SET state = 'CANCELLING' WHERE "
                           "name = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "cancelling a replay", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "cancelling a replay", errstr,
                                errstr_size);
    return EVB_ERR_OK;
}

evb_err_t evb_replay_cancel(evb_archive_service_t *svc, const char *name,
                            evb_replay_info_t *out, char *errstr,
                            size_t errstr_size) {
    evb_err_t err = evb_store_write(svc->store, cancel_unit, (void *)name,
                                    errstr, errstr_size);
    if (err)
        return err;
    evb__archive_kick(svc);
    return out ? evb_replay_describe(svc, name, out, errstr, errstr_size)
               : EVB_ERR_OK;
}

/* ---- one step of a replay ------------------------------------------------- */

/* One replayed event: its copy and the deliveries it owes. */
typedef struct replayed {
    char id[64];
    evb_buf_t body;
    evb_route_hit_t *hits;
    size_t nhits;
} replayed_t;

typedef struct step {
    const char *name, *archive, *bus;
    int64_t lo, hi, end, now;
    bool have_min;
    int64_t min_time;
    replayed_t *ev;
    size_t nev, cap;
    bool cancelled, completed; /* outcome of the commit */
    size_t ndeliveries;
} step_t;

static evb_err_t min_unit(sqlite3 *db, void *arg, char *errstr,
                          size_t errstr_size) {
    step_t *s = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT MIN(event_time_ms) FROM archive_events "
                           "WHERE archive = ? AND event_time_ms >= ? AND "
                           "event_time_ms < ?",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "replaying", errstr, errstr_size);
    sqlite3_bind_text(st, 1, s->archive, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s->lo);
    sqlite3_bind_int64(st, 3, s->end);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        s->have_min = true;
        s->min_time = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW
               ? EVB_ERR_OK
               : evb_store_sqlerr(db, "replaying", errstr, errstr_size);
}

/* The copy of an archived event that a replay sends: "replay-name"
 * between "region" and "resources" (the envelope's key order), or last
 * when the event has no top-level "resources" where we expect it. */
static evb_err_t replay_copy(const char *body, size_t len, const char *name,
                             evb_buf_t *out) {
    static const char key[] = ",\"resources\":";
    const char *at = memmem(body, len, key, sizeof key - 1);
    size_t cut = at ? (size_t)(at - body) : len;
    if (!at)
        while (cut && body[cut - 1] != '}')
            cut--;
    if (!at && cut)
        cut--; /* before the closing brace */
    evb_err_t err = evb_buf_append(out, body, cut);
    if (!err)
        err = evb_buf_append(out, ",\"replay-name\":", 15);
    if (!err)
        err = evb_json_append_string(out, name, strlen(name));
    if (!err)
        err = evb_buf_append(out, body + cut, len - cut);
    return err;
}

/* The envelope's "id" value (our envelopes are compact). */
static void event_id(const char *body, size_t len, char *out, size_t size) {
    static const char key[] = "\"id\":\"";
    const char *at = memmem(body, len, key, sizeof key - 1);
    out[0] = '\0';
    if (!at)
        return;
    at += sizeof key - 1;
    const char *q = memchr(at, '"', len - (size_t)(at - body));
    if (q && (size_t)(q - at) < size) {
        memcpy(out, at, (size_t)(q - at));
        out[q - at] = '\0';
    }
}

typedef struct slice_read {
    step_t *s;
    evb_archive_service_t *svc;
    const evb_replay_info_t *r;
} slice_read_t;

static bool rule_allowed(const evb_archive_service_t *svc,
                         const evb_replay_info_t *r, const char *bus,
                         const char *rule) {
    if (!r->has_filter || !r->nfilter)
        return true;
    char arn[2048];
    if (strcmp(bus, "default") == 0)
        snprintf(arn, sizeof arn, "arn:aws:events:%s:%s:rule/%s",
                 svc->region, svc->account, rule);
    else
        snprintf(arn, sizeof arn, "arn:aws:events:%s:%s:rule/%s/%s",
                 svc->region, svc->account, bus, rule);
    for (size_t i = 0; i < r->nfilter; i++)
        if (strcmp(r->filter_arns[i], arn) == 0)
            return true;
    return false;
}

static evb_err_t slice_unit(sqlite3 *db, void *arg, char *errstr,
                            size_t errstr_size) {
    slice_read_t *sr = arg;
    step_t *s = sr->s;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT body FROM archive_events WHERE archive = ?"
                           " AND event_time_ms >= ? AND event_time_ms < ? "
                           "ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "replaying", errstr, errstr_size);
    sqlite3_bind_text(st, 1, s->archive, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s->lo);
    sqlite3_bind_int64(st, 3, s->hi);
    evb_err_t err = EVB_ERR_OK;
    int rc;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        if (s->nev == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 16;
            replayed_t *ev = realloc(s->ev, cap * sizeof *ev);
            if (!ev) {
                err = EVB_ERR_NOMEM;
                break;
            }
            s->ev = ev;
            s->cap = cap;
        }
        replayed_t *e = &s->ev[s->nev];
        memset(e, 0, sizeof *e);
        evb_buf_init(&e->body, 0);
        s->nev++;
        event_id(body, len, e->id, sizeof e->id);
        if ((err = replay_copy(body, len, s->name, &e->body)))
            break;
        evb_route_hit_t *hits = NULL;
        size_t nh = 0;
        char why[256];
        if (evb_bus_route_event(sr->svc->bus, s->bus, e->body.data,
                                e->body.len, &hits, &nh, why, sizeof why))
            continue; /* the bus is gone or the event unreadable */
        /* keep the hits of the allowed rules in front, free the rest */
        size_t k = 0;
        for (size_t i = 0; i < nh; i++) {
            if (rule_allowed(sr->svc, sr->r, s->bus, hits[i].rule)) {
                evb_route_hit_t tmp = hits[k];
                hits[k++] = hits[i];
                hits[i] = tmp;
            }
        }
        for (size_t i = k; i < nh; i++) {
            free(hits[i].rule);
            free(hits[i].target_id);
        }
        e->hits = hits;
        e->nhits = k;
        s->ndeliveries += k;
    }
    if (err)
        evb_err_set(err, errstr, errstr_size, "out of memory");
    else if (rc != SQLITE_DONE)
        err = evb_store_sqlerr(db, "replaying", errstr, errstr_size);
    sqlite3_finalize(st);
    return err;
}

static evb_err_t set_state(sqlite3 *db, const char *name, const char *state,
                           int64_t progress, bool ended, int64_t now,
                           char *errstr, size_t errstr_size) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "UPDATE replays SET state = ?2, "
                           "last_replayed_ms = CASE WHEN ?3 IS NULL THEN "
                           "last_replayed_ms ELSE ?3 END, "
                           "ended_ms = CASE WHEN ?4 THEN ?5 ELSE ended_ms END"
                           " WHERE name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "replaying", errstr, errstr_size);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    if (progress >= 0)
        sqlite3_bind_int64(st, 3, progress);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int(st, 4, ended);
    sqlite3_bind_int64(st, 5, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE
               ? EVB_ERR_OK
               : evb_store_sqlerr(db, "replaying", errstr, errstr_size);
}

static evb_err_t commit_unit(sqlite3 *db, void *arg, char *errstr,
                             size_t errstr_size) {
    step_t *s = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT state FROM replays WHERE name = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "replaying", errstr, errstr_size);
    sqlite3_bind_text(st, 1, s->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    const char *state =
        rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    bool running = state && (strcmp(state, "STARTING") == 0 ||
                             strcmp(state, "RUNNING") == 0);
    bool cancelling = state && strcmp(state, "CANCELLING") == 0;
    sqlite3_finalize(st);
    if (cancelling) {
        s->cancelled = true;
        return set_state(db, s->name, "CANCELLED", -1, true, s->now, errstr,
                         errstr_size);
    }
    if (!running)
        return EVB_ERR_OK; /* deleted or finished meanwhile */
    sqlite3_stmt *ev = NULL, *dl = NULL;
    evb_err_t err = EVB_ERR_OK;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO events(id, bus, body, ingested_ms) "
                           "VALUES (?,?,?,?)",
                           -1, &ev, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO deliveries(event_seq, bus, rule, "
                           "target_id, next_attempt_ms) VALUES (?,?,?,?,?)",
                           -1, &dl, NULL) != SQLITE_OK) {
        err = evb_store_sqlerr(db, "replaying", errstr, errstr_size);
        goto out;
    }
    for (size_t i = 0; i < s->nev && !err; i++) {
        const replayed_t *e = &s->ev[i];
        if (!e->nhits)
            continue;
        sqlite3_bind_text(ev, 1, e->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ev, 2, s->bus, -1, SQLITE_STATIC);
        sqlite3_bind_text(ev, 3, e->body.data, (int)e->body.len,
                          SQLITE_STATIC);
        sqlite3_bind_int64(ev, 4, s->now);
        if (sqlite3_step(ev) != SQLITE_DONE) {
            err = evb_store_sqlerr(db, "replaying", errstr, errstr_size);
            break;
        }
        sqlite3_reset(ev);
        int64_t seq = sqlite3_last_insert_rowid(db);
        for (size_t h = 0; h < e->nhits && !err; h++) {
            sqlite3_bind_int64(dl, 1, seq);
            sqlite3_bind_text(dl, 2, s->bus, -1, SQLITE_STATIC);
            sqlite3_bind_text(dl, 3, e->hits[h].rule, -1, SQLITE_STATIC);
            sqlite3_bind_text(dl, 4, e->hits[h].target_id, -1,
                              SQLITE_STATIC);
            sqlite3_bind_int64(dl, 5, s->now);
            if (sqlite3_step(dl) != SQLITE_DONE)
                err = evb_store_sqlerr(db, "replaying", errstr, errstr_size);
            sqlite3_reset(dl);
        }
    }
    if (!err) {
        s->completed = s->hi >= s->end;
        err = set_state(db, s->name, s->completed ? "COMPLETED" : "RUNNING",
                        s->hi, s->completed, s->now, errstr, errstr_size);
    }
out:
    sqlite3_finalize(ev);
    sqlite3_finalize(dl);
    return err;
}

static void step_free(step_t *s) {
    for (size_t i = 0; i < s->nev; i++) {
        evb_buf_free(&s->ev[i].body);
        evb_route_hits_free(s->ev[i].hits, s->ev[i].nhits);
    }
    free(s->ev);
}

/* Advance replay r by one step. */
static evb_err_t replay_step(evb_archive_service_t *svc,
                             const evb_replay_info_t *r,
                             const spec_extra_t *x, char *errstr,
                             size_t errstr_size) {
    step_t s = {.name = r->name,
                .archive = x->archive,
                .bus = x->bus,
                .end = r->end_ms,
                .now = evb__archive_now_ms()};
    s.lo = r->last_replayed_ms >= r->start_ms ? r->last_replayed_ms
                                              : r->start_ms;
    evb_err_t err = EVB_ERR_OK;
    if (strcmp(r->state, "CANCELLING") != 0 && s.lo < s.end)
        err = evb_store_read(svc->store, min_unit, &s, errstr, errstr_size);
    if (err)
        return err;
    if (!s.have_min) {
        /* nothing left: the commit finishes the replay (or cancels it) */
        s.lo = s.hi = s.end;
    } else {
        int64_t slice = svc->cfg.slice_ms;
        if (s.min_time >= s.lo + slice) /* skip the empty minutes */
            s.lo = r->start_ms + (s.min_time - r->start_ms) / slice * slice;
        s.hi = s.lo + slice < s.end ? s.lo + slice : s.end;
        slice_read_t sr = {&s, svc, r};
        err = evb_store_read(svc->store, slice_unit, &sr, errstr,
                             errstr_size);
    }
    if (!err)
        err = evb_store_write(svc->store, commit_unit, &s, errstr,
                              errstr_size);
    if (!err && s.ndeliveries && !s.cancelled && svc->cfg.delivery)
        evb_delivery_kick(svc->cfg.delivery);
    for (size_t i = 0; !err && !s.cancelled && i < s.nev; i++)
        evb_bus_tap_event(svc->bus, s.bus, s.ev[i].body.data,
                          s.ev[i].body.len);
    step_free(&s);
    return err;
}

typedef struct active_arg {
    evb_replay_info_t *items;
    spec_extra_t *extra;
    size_t n, cap;
} active_arg_t;

static evb_err_t active_unit(sqlite3 *db, void *arg, char *errstr,
                             size_t errstr_size) {
    active_arg_t *a = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT " REPLAY_COLUMNS
                           " FROM replays WHERE state IN ('STARTING',"
                           "'RUNNING','CANCELLING') ORDER BY started_ms",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "listing replays", errstr, errstr_size);
    evb_err_t err = EVB_ERR_OK;
    int rc;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 8;
            evb_replay_info_t *it = realloc(a->items, cap * sizeof *it);
            if (it)
                a->items = it;
            spec_extra_t *ex = it ? realloc(a->extra, cap * sizeof *ex) : NULL;
            if (ex)
                a->extra = ex;
            if (!it || !ex) {
                err = EVB_ERR_NOMEM;
                break;
            }
            a->cap = cap;
        }
        memset(&a->extra[a->n], 0, sizeof a->extra[a->n]);
        if ((err = row_to_replay(st, &a->items[a->n], &a->extra[a->n]))) {
            free(a->extra[a->n].archive);
            free(a->extra[a->n].bus);
            break;
        }
        a->n++;
    }
    if (err)
        evb_err_set(err, errstr, errstr_size, "reading replays");
    else if (rc != SQLITE_DONE)
        err = evb_store_sqlerr(db, "listing replays", errstr, errstr_size);
    sqlite3_finalize(st);
    return err;
}

evb_err_t evb_archive_run_once(evb_archive_service_t *svc, size_t *steps,
                               char *errstr, size_t errstr_size) {
    active_arg_t a = {0};
    size_t moved = 0;
    evb_err_t err =
        evb_store_read(svc->store, active_unit, &a, errstr, errstr_size);
    for (size_t i = 0; !err && i < a.n; i++) {
        if ((err = replay_step(svc, &a.items[i], &a.extra[i], errstr,
                               errstr_size)))
            break;
        moved++;
    }
    for (size_t i = 0; i < a.n; i++) {
        evb_replay_info_free(&a.items[i]);
        free(a.extra[i].archive);
        free(a.extra[i].bus);
    }
    free(a.items);
    free(a.extra);
    if (!err) {
        int64_t now = evb__archive_now_ms();
        pthread_mutex_lock(&svc->wlock);
        bool due = now >= svc->next_sweep_ms;
        if (due)
            svc->next_sweep_ms = now + svc->cfg.sweep_interval_ms;
        pthread_mutex_unlock(&svc->wlock);
        if (due)
            err = evb_archive_sweep(svc, now, NULL, errstr, errstr_size);
    }
    if (steps)
        *steps = moved;
    return err;
}

/* ---- the worker ------------------------------------------------------------- */

void evb__archive_kick(evb_archive_service_t *svc) {
    pthread_mutex_lock(&svc->wlock);
    svc->kicked = true;
    pthread_cond_signal(&svc->wcond);
    pthread_mutex_unlock(&svc->wlock);
}

static void *worker(void *arg) {
    evb_archive_service_t *svc = arg;
    for (;;) {
        pthread_mutex_lock(&svc->wlock);
        bool stop = svc->stop;
        svc->kicked = false;
        pthread_mutex_unlock(&svc->wlock);
        if (stop)
            break;
        size_t steps = 0;
        char errstr[256] = "";
        if (evb_archive_run_once(svc, &steps, errstr, sizeof errstr))
            evb_log(EVB_LOG_ERROR, "archive", "%s", errstr);
        if (steps)
            continue; /* more slices to go */
        pthread_mutex_lock(&svc->wlock);
        if (!svc->stop && !svc->kicked) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + (svc->cfg.idle_wait_ms % 1000) * 1000000;
            ts.tv_sec += (time_t)(svc->cfg.idle_wait_ms / 1000 + ns / 1000000000);
            ts.tv_nsec = (long)(ns % 1000000000);
            pthread_cond_timedwait(&svc->wcond, &svc->wlock, &ts);
        }
        pthread_mutex_unlock(&svc->wlock);
    }
    return NULL;
}

evb_err_t evb__archive_worker_start(evb_archive_service_t *svc, char *errstr,
                                    size_t errstr_size) {
    if (pthread_create(&svc->thread, NULL, worker, svc) != 0)
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "cannot start the archive worker");
    svc->has_thread = true;
    return EVB_ERR_OK;
}

void evb__archive_worker_stop(evb_archive_service_t *svc) {
    if (!svc->has_thread)
        return;
    pthread_mutex_lock(&svc->wlock);
    svc->stop = true;
    pthread_cond_signal(&svc->wcond);
    pthread_mutex_unlock(&svc->wlock);
    pthread_join(svc->thread, NULL);
    svc->has_thread = false;
}
