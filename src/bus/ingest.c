/*
 * ingest.c: PutEvents.
 *
 * Entries are validated and turned into envelopes without any lock;
 * each is matched against a reference to its bus's routing snapshot; then
 * the events and the deliveries they owe are committed in one unit of the
 * store's group commit. The call returns only after that commit, so every
 * EventId handed back names a durable event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../json/json.h"
#include "../metrics/metrics.h"
#include "bus_internal.h"

/* §1.6: (Time ? 14 : 0) + Source + DetailType + Detail + resources */
static size_t entry_size(const evb_put_entry_t *e) {
    size_t n = e->has_time ? 14 : 0;
    if (e->source)
        n += strlen(e->source);
    if (e->detail_type)
        n += strlen(e->detail_type);
    if (e->detail)
        n += e->detail_len;
    for (size_t i = 0; i < e->nresources; i++)
        n += strlen(e->resources[i]);
    return n;
}

typedef struct pending_delivery {
    size_t event; /* index into the batch */
    const char *rule, *target;
} pending_delivery_t;

typedef struct batch {
    const char *bus[10];
    evb_buf_t body[10];
    char *id[10];
    size_t nevents;
    pending_delivery_t *dl;
    size_t ndl, cap_dl;
    int64_t now_ms;
    route_t *routes[10];
    int64_t time_ms[10];
    evb_bus_service_t *svc; /* for the capture hook; NULL: none */
} batch_t;

static evb_err_t commit_batch(sqlite3 *db, void *arg, char *errstr,
                              size_t errstr_size) {
    batch_t *b = arg;
    sqlite3_stmt *ev = NULL, *dl = NULL;
    evb_err_t err = EVB_ERR_OK;
    if (!(ev = evb_store_stmt(db, "INSERT INTO events(id, bus, body, "
                                  "ingested_ms) VALUES (?,?,?,?)")) ||
        !(dl = evb_store_stmt(db, "INSERT INTO deliveries(event_seq, bus, "
                                  "rule, target_id, next_attempt_ms) "
                                  "VALUES (?,?,?,?,?)"))) {
        err = evb_store_sqlerr(db, "preparing PutEvents", errstr, errstr_size);
        goto out;
    }
    size_t d = 0;
    for (size_t i = 0; i < b->nevents && !err; i++) {
        if (b->svc && b->svc->capture &&
            (err = b->svc->capture(b->svc->capture_arg, db, b->bus[i],
                                   b->body[i].data, b->body[i].len,
                                   b->time_ms[i], errstr, errstr_size)))
            break;
        /* an event that owes nothing needs no storage */
        if (d >= b->ndl || b->dl[d].event != i)
            continue;
        sqlite3_bind_text(ev, 1, b->id[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(ev, 2, b->bus[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(ev, 3, b->body[i].data, (int)b->body[i].len,
                          SQLITE_STATIC);
        sqlite3_bind_int64(ev, 4, b->now_ms);
        if (sqlite3_step(ev) != SQLITE_DONE) {
            err = evb_store_sqlerr(db, "storing an event", errstr,
                                   errstr_size);
            break;
        }
        sqlite3_reset(ev);
        int64_t seq = sqlite3_last_insert_rowid(db);
        for (; d < b->ndl && b->dl[d].event == i; d++) {
            sqlite3_bind_int64(dl, 1, seq);
            sqlite3_bind_text(dl, 2, b->bus[i], -1, SQLITE_STATIC);
            sqlite3_bind_text(dl, 3, b->dl[d].rule, -1, SQLITE_STATIC);
            sqlite3_bind_text(dl, 4, b->dl[d].target, -1, SQLITE_STATIC);
            sqlite3_bind_int64(dl, 5, b->now_ms);
            if (sqlite3_step(dl) != SQLITE_DONE) {
                err = evb_store_sqlerr(db, "storing a delivery", errstr,
                                       errstr_size);
                break;
            }
            sqlite3_reset(dl);
        }
    }
out:
    evb_store_stmt_done(ev);
    evb_store_stmt_done(dl);
    return err;
}

static void fail_entry(evb_put_result_t *r, const char *code,
                       const char *msg) {
    r->event_id[0] = '\0';
    r->error_code = code;
    snprintf(r->error_message, sizeof r->error_message, "%s", msg);
}

static evb_err_t envelope(evb_bus_service_t *svc, const evb_put_entry_t *e,
                          const char *id, int64_t now, evb_buf_t *out) {
    time_t t = (time_t)(e->has_time ? e->time : now);
    struct tm tm;
    char ts[32];
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    evb_err_t err = evb_buf_appendf(out, "{\"version\":\"0\",\"id\":\"%s\","
                                         "\"detail-type\":",
                                    id);
    if (!err)
        err = evb_json_append_string(out, e->detail_type,
                                     strlen(e->detail_type));
    if (!err)
        err = evb_buf_append(out, ",\"source\":", 10);
    if (!err)
        err = evb_json_append_string(out, e->source, strlen(e->source));
    if (!err)
        err = evb_buf_appendf(out,
                              ",\"account\":\"%s\",\"time\":\"%s\","
                              "\"region\":\"%s\",\"resources\":[",
                              svc->account, ts, svc->region);
    for (size_t i = 0; !err && i < e->nresources; i++) {
        if (i)
            err = evb_buf_putc(out, ',');
        if (!err)
            err = evb_json_append_string(out, e->resources[i],
                                         strlen(e->resources[i]));
    }
    if (!err)
        err = evb_buf_append(out, "],\"detail\":", 11);
    if (!err)
        err = evb_json_append_compact(out, e->detail, e->detail_len);
    if (!err)
        err = evb_buf_putc(out, '}');
    return err;
}

/* Is the detail a JSON object? */
static bool detail_is_object(const char *d, size_t n) {
    if (evb_json_validate(d, n, 1000, NULL, 0))
        return false;
    while (n && (*d == ' ' || *d == '\n' || *d == '\r' || *d == '\t')) {
        d++;
        n--;
    }
    return n && *d == '{';
}

/* Validate, envelope and match one call's entries into b (request-level
 * errors returned; per-entry ones in results). */
static evb_err_t prepare(evb_bus_service_t *svc,
                         const evb_put_entry_t *entries, size_t n,
                         evb_put_result_t *results, batch_t *b, char *errstr,
                         size_t errstr_size) {
    memset(b, 0, sizeof *b);
    if (n == 0 || n > 10)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "1 validation error detected: Value at 'entries' "
                           "failed to satisfy constraint: Member must have "
                           "length %s",
                           n ? "less than or equal to 10"
                             : "greater than or equal to 1");
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += entry_size(&entries[i]);
    if (total > svc->cfg.max_entries_bytes)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Total size of the entries in the request is over "
                           "the limit.");
    int64_t now = evb__now_s();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    b->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    evb_err_t err = EVB_ERR_OK;
    evb_match_ctx_t *ctx = NULL;
    for (size_t i = 0; i < n && !err; i++) {
        const evb_put_entry_t *e = &entries[i];
        evb_put_result_t *r = &results[i];
        memset(r, 0, sizeof *r);
        if (!e->source || !*e->source) {
            fail_entry(r, "InvalidArgument",
                       "Parameter Source is not valid. Reason: Source is a "
                       "required argument.");
            continue;
        }
        if (!e->detail_type || !*e->detail_type) {
            fail_entry(r, "InvalidArgument",
                       "Parameter DetailType is not valid. Reason: "
                       "DetailType is a required argument.");
            continue;
        }
        if (!e->detail) {
            fail_entry(r, "InvalidArgument",
                       "Parameter Detail is not valid. Reason: Detail is a "
                       "required argument.");
            continue;
        }
        if (!detail_is_object(e->detail, e->detail_len)) {
            fail_entry(r, "MalformedDetail", "Detail is malformed.");
            continue;
        }
        char busname[1700];
        if (evb_bus_resolve_name(svc, e->bus, busname, sizeof busname, NULL,
                                 0)) {
            fail_entry(r, "InvalidArgument",
                       "Parameter EventBusName is not valid.");
            continue;
        }
        if (evb_uuid_v4(r->event_id)) {
            err = evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                              "cannot generate an event id");
            break;
        }
        route_t *route = evb__route_acquire(svc, busname);
        if (!route) {
            /* AWS acknowledges events for unknown buses and drops them */
            atomic_fetch_add(&svc->dropped, 1);
            continue;
        }
        size_t k = b->nevents++;
        b->routes[k] = route;
        b->time_ms[k] = (e->has_time ? e->time : now) * 1000;
        if (svc->capture && (!svc->capture_wants ||
                             svc->capture_wants(svc->capture_arg, busname)))
            b->svc = svc;
        b->id[k] = r->event_id;
        evb_buf_init(&b->body[k], 0);
        /* the bus name must outlive the commit: use the snapshot's copy
         * of nothing; keep our own */
        b->bus[k] = evb__strdup0(busname);
        if (!b->bus[k] || envelope(svc, e, r->event_id, now, &b->body[k])) {
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "out of memory");
            break;
        }
        if (!ctx && !(ctx = evb_match_ctx_thread())) {
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "out of memory");
            break;
        }
        const char *const *names;
        size_t nn;
        char why[256];
        evb_err_t me = evb_matcher_match(route->matcher, ctx, b->body[k].data,
                                         b->body[k].len, &names, &nn, why,
                                         sizeof why);
        if (me) {
            /* an envelope we built ourselves should always parse */
            err = evb_err_set(me, errstr, errstr_size, "matching: %s", why);
            break;
        }
        bool matched = false;
        for (size_t m = 0; m < nn; m++) {
            const route_rule_t *rr = evb__route_rule(route, names[m]);
            if (!rr)
                continue;
            evb_metrics_triggered_rule(busname, rr->name);
            if (!matched && (matched = true))
                evb_metrics_matched_event(busname);
            for (size_t t = 0; t < rr->ntargets; t++) {
                if (b->ndl == b->cap_dl) {
                    size_t cap = b->cap_dl ? b->cap_dl * 2 : 16;
                    pending_delivery_t *nd = realloc(b->dl, cap * sizeof *nd);
                    if (!nd) {
                        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                                          "out of memory");
                        break;
                    }
                    b->dl = nd;
                    b->cap_dl = cap;
                }
                b->dl[b->ndl++] =
                    (pending_delivery_t){k, rr->name, rr->targets[t].id};
            }
        }
    }
    return err;
}

/* After a successful commit: counters, metrics, the tap. */
static void acknowledge(evb_bus_service_t *svc, const batch_t *b, size_t n,
                        const evb_put_result_t *results, size_t *failed) {
    size_t nfailed = 0;
    for (size_t i = 0; i < n; i++)
        if (results[i].error_code)
            nfailed++;
    atomic_fetch_add(&svc->accepted, n - nfailed);
    atomic_fetch_add(&svc->failed, nfailed);
    atomic_fetch_add(&svc->deliveries, b->ndl);
    *failed = nfailed;
    evb_bus_tap_fn tap = atomic_load(&svc->tap);
    for (size_t k = 0; k < b->nevents; k++) {
        evb_metrics_put_events_entry(b->bus[k]);
        if (tap)
            tap(atomic_load(&svc->tap_arg), b->bus[k], b->body[k].data,
                b->body[k].len);
    }
    for (size_t i = 0; i < n; i++)
        if (results[i].error_code)
            evb_metrics_put_events_failed_entry(results[i].error_code);
    size_t dropped = n - nfailed - b->nevents; /* no such bus */
    for (size_t i = 0; i < dropped; i++)
        evb_metrics_put_events_entry("(unknown)");
}

static void batch_release(batch_t *b) {
    for (size_t k = 0; k < b->nevents; k++) {
        evb_buf_free(&b->body[k]);
        free((char *)b->bus[k]);
        evb__route_unref(b->routes[k]);
    }
    free(b->dl);
    memset(b, 0, sizeof *b);
}

static bool batch_needs_store(const batch_t *b) { return b->ndl || b->svc; }

evb_err_t evb_bus_put_events(evb_bus_service_t *svc,
                             const evb_put_entry_t *entries, size_t n,
                             evb_put_result_t *results, size_t *failed,
                             char *errstr, size_t errstr_size) {
    *failed = 0;
    batch_t b;
    evb_err_t err = prepare(svc, entries, n, results, &b, errstr, errstr_size);
    if (!err && batch_needs_store(&b))
        err = evb_store_write(svc->store, commit_batch, &b, errstr,
                              errstr_size);
    if (!err)
        acknowledge(svc, &b, n, results, failed);
    batch_release(&b);
    return err;
}

typedef struct multi {
    batch_t *b;
    size_t n;
} multi_t;

static evb_err_t commit_multi(sqlite3 *db, void *arg, char *errstr,
                              size_t errstr_size) {
    multi_t *m = arg;
    evb_err_t err = EVB_ERR_OK;
    for (size_t i = 0; i < m->n && !err; i++)
        if (batch_needs_store(&m->b[i]))
            err = commit_batch(db, &m->b[i], errstr, errstr_size);
    return err;
}

evb_err_t evb_bus_put_events_multi(evb_bus_service_t *svc,
                                   evb_put_call_t *calls, size_t ncalls,
                                   char *errstr, size_t errstr_size) {
    batch_t *b = calloc(ncalls ? ncalls : 1, sizeof *b);
    if (!b)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    evb_err_t err = EVB_ERR_OK;
    bool store = false;
    size_t prepared = 0;
    for (size_t i = 0; i < ncalls && !err; i++) {
        calls[i].failed = 0;
        err = prepare(svc, calls[i].entries, calls[i].n, calls[i].results,
                      &b[i], errstr, errstr_size);
        prepared = i + 1;
        store = store || batch_needs_store(&b[i]);
    }
    if (!err && store) {
        multi_t m = {b, ncalls};
        err = evb_store_write(svc->store, commit_multi, &m, errstr,
                              errstr_size);
    }
    for (size_t i = 0; !err && i < ncalls; i++)
        acknowledge(svc, &b[i], calls[i].n, calls[i].results,
                    &calls[i].failed);
    for (size_t i = 0; i < prepared; i++)
        batch_release(&b[i]);
    free(b);
    return err;
}

evb_err_t evb_bus_put_rule_event(evb_bus_service_t *svc, sqlite3 *db,
                                 const char *bus, const char *rule,
                                 const char *event_id, const char *event,
                                 size_t len, char *errstr,
                                 size_t errstr_size) {
    route_t *route = evb__route_acquire(svc, bus);
    if (!route)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "Event bus %s does not exist.", bus);
    const route_rule_t *rr = evb__route_rule(route, rule);
    evb_err_t err = EVB_ERR_OK;
    if (!rr) {
        err = evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                          "Rule %s does not exist on EventBus %s.", rule, bus);
        goto out;
    }
    if (!rr->ntargets)
        goto out;
    batch_t b;
    memset(&b, 0, sizeof b);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    b.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    b.nevents = 1;
    b.bus[0] = bus;
    b.id[0] = (char *)event_id;
    evb_buf_init(&b.body[0], 0);
    b.dl = calloc(rr->ntargets, sizeof *b.dl);
    if (!b.dl || evb_buf_append(&b.body[0], event, len)) {
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                          "out of memory");
    } else {
        for (size_t t = 0; t < rr->ntargets; t++)
            b.dl[b.ndl++] =
                (pending_delivery_t){0, rr->name, rr->targets[t].id};
        err = db ? commit_batch(db, &b, errstr, errstr_size)
                 : evb_store_write(svc->store, commit_batch, &b, errstr,
                                   errstr_size);
        if (!err)
            atomic_fetch_add(&svc->deliveries, b.ndl);
        evb_bus_tap_fn tap = err ? NULL : atomic_load(&svc->tap);
        if (!err)
            evb_metrics_triggered_rule(bus, rule);
        if (tap)
            tap(atomic_load(&svc->tap_arg), bus, event, len);
    }
    evb_buf_free(&b.body[0]);
    free(b.dl);
out:
    evb__route_unref(route);
    return err;
}

void evb_bus_set_capture(evb_bus_service_t *svc, evb_bus_capture_fn fn,
                         evb_bus_capture_wants_fn wants, void *arg) {
    svc->capture = fn;
    svc->capture_wants = wants;
    svc->capture_arg = arg;
}

void evb_bus_tap_event(evb_bus_service_t *svc, const char *bus,
                       const char *event, size_t len) {
    evb_bus_tap_fn tap = atomic_load(&svc->tap);
    if (tap)
        tap(atomic_load(&svc->tap_arg), bus, event, len);
}

void evb_bus_set_tap(evb_bus_service_t *svc, evb_bus_tap_fn fn, void *arg) {
    atomic_store(&svc->tap, NULL);
    atomic_store(&svc->tap_arg, arg);
    atomic_store(&svc->tap, fn);
}

void evb_bus_get_stats(evb_bus_service_t *svc, evb_bus_stats_t *out) {
    out->events_accepted = atomic_load(&svc->accepted);
    out->events_failed = atomic_load(&svc->failed);
    out->deliveries_created = atomic_load(&svc->deliveries);
    out->events_dropped_unknown_bus = atomic_load(&svc->dropped);
}
