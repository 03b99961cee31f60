/*
 * bus.c: buses, rules and targets, their routing snapshots, and tags.
 *
 * The control plane keeps a mutable in-memory mirror of the store, guarded
 * by one mutex: every change is written to the store first (durably) and
 * applied to the mirror only when the write succeeded, so the two never
 * disagree. After a rule or target change the bus's routing snapshot is
 * rebuilt: an immutable, reference-counted pair of (compiled matcher of
 * the enabled rules, rule -> targets table). Ingestion (ingest.c) takes a
 * reference to a snapshot under a short lock and never waits for control
 * operations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus_internal.h"

/* ---- small helpers -------------------------------------------------------- */

char *evb__strdup0(const char *s) {
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static bool dup_ok(const char *src, const char *copy) {
    return !src || copy;
}

int64_t evb__now_s(void) { return (int64_t)time(NULL); }

evb_bus_config_t evb_bus_config_default(void) {
    evb_bus_config_t c = {"000000000000", "us-east-1", 1024 * 1024, 5,
                          evb_pattern_limits_default()};
    return c;
}

const char *evb_bus_account(const evb_bus_service_t *svc) {
    return svc->account;
}
const char *evb_bus_region(const evb_bus_service_t *svc) {
    return svc->region;
}

static char *bus_arn(const evb_bus_service_t *svc, const char *name) {
    size_t n = strlen(svc->region) + strlen(svc->account) + strlen(name) + 40;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "arn:aws:events:%s:%s:event-bus/%s", svc->region,
                 svc->account, name);
    return p;
}

static char *rule_arn(const evb_bus_service_t *svc, const char *bus,
                      const char *name) {
    size_t n = strlen(svc->region) + strlen(svc->account) + strlen(bus) +
               strlen(name) + 40;
    char *p = malloc(n);
    if (!p)
        return NULL;
    if (strcmp(bus, "default") == 0)
        snprintf(p, n, "arn:aws:events:%s:%s:rule/%s", svc->region,
                 svc->account, name);
    else
        snprintf(p, n, "arn:aws:events:%s:%s:rule/%s/%s", svc->region,
                 svc->account, bus, name);
    return p;
}

evb_err_t evb_bus_resolve_name(const evb_bus_service_t *svc, const char *name,
                               char *out, size_t out_size, char *errstr,
                               size_t errstr_size) {
    if (!name || !*name)
        name = "default";
    if (strncmp(name, "arn:", 4) == 0) {
        char prefix[256];
        snprintf(prefix, sizeof prefix, "arn:aws:events:%s:%s:event-bus/",
                 svc->region, svc->account);
        size_t pl = strlen(prefix);
        if (strncmp(name, prefix, pl) != 0 || !name[pl])
            return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                               "Event bus %s does not exist.", name);
        name += pl;
    }
    if (strlen(name) >= out_size)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Event bus name is too long.");
    strcpy(out, name);
    return EVB_ERR_OK;
}

/* ---- mirror ------------------------------------------------------------------ */

static void target_mem_free(target_mem_t *t) {
    free(t->id);
    free(t->arn);
    free(t->spec);
}

static void rule_mem_free(rule_mem_t *r) {
    if (!r)
        return;
    free(r->name);
    free(r->arn);
    free(r->pattern);
    free(r->schedule);
    free(r->description);
    free(r->role_arn);
    for (size_t i = 0; i < r->ntargets; i++)
        target_mem_free(&r->targets[i]);
    free(r->targets);
    free(r);
}

static void bus_mem_free(bus_mem_t *b) {
    if (!b)
        return;
    free(b->name);
    free(b->arn);
    free(b->description);
    for (size_t i = 0; i < b->nrules; i++)
        rule_mem_free(b->rules[i]);
    free(b->rules);
    evb_ruleset_free(b->rs);
    free(b);
}

bus_mem_t *evb__find_bus(evb_bus_service_t *svc, const char *name) {
    for (size_t i = 0; i < svc->nbuses; i++)
        if (strcmp(svc->buses[i]->name, name) == 0)
            return svc->buses[i];
    return NULL;
}

rule_mem_t *evb__find_rule(bus_mem_t *b, const char *name, size_t *idx) {
    for (size_t i = 0; i < b->nrules; i++)
        if (strcmp(b->rules[i]->name, name) == 0) {
            if (idx)
                *idx = i;
            return b->rules[i];
        }
    return NULL;
}

void evb__route_unref(route_t *r) {
    if (r && atomic_fetch_sub(&r->ref, 1) == 1) {
        evb_matcher_unref(r->matcher);
        evb_arena_free(&r->arena);
        free(r);
    }
}

route_t *evb__route_acquire(evb_bus_service_t *svc, const char *bus) {
    pthread_mutex_lock(&svc->route_lock);
    route_t *r = NULL;
    for (size_t i = 0; i < svc->nroutes; i++)
        if (strcmp(svc->route_names[i], bus) == 0) {
            r = svc->routes[i];
            atomic_fetch_add(&r->ref, 1);
            break;
        }
    pthread_mutex_unlock(&svc->route_lock);
    return r;
}

static int route_rule_cmp(const void *a, const void *b) {
    return strcmp(((const route_rule_t *)a)->name,
                  ((const route_rule_t *)b)->name);
}

const route_rule_t *evb__route_rule(const route_t *r, const char *name) {
    route_rule_t key = {.name = name};
    return bsearch(&key, r->rules, r->nrules, sizeof *r->rules,
                   route_rule_cmp);
}

/* Build b's routing snapshot from its mirror and publish it. Called with
 * the control lock held. */
evb_err_t evb__publish_route(evb_bus_service_t *svc, bus_mem_t *b) {
    atomic_fetch_add(&svc->generation, 1); /* the mirror has changed */
    route_t *r = calloc(1, sizeof *r);
    if (!r)
        return EVB_ERR_NOMEM;
    atomic_init(&r->ref, 1);
    evb_arena_init(&r->arena, 4096);
    r->matcher = evb_ruleset_acquire(b->rs);
    r->rules = evb_arena_calloc(&r->arena, b->nrules ? b->nrules : 1,
                                sizeof *r->rules);
    if (!r->rules)
        goto nomem;
    for (size_t i = 0; i < b->nrules; i++) {
        const rule_mem_t *rm = b->rules[i];
        route_rule_t *rr = &r->rules[r->nrules++];
        rr->name = evb_arena_strndup(&r->arena, rm->name, strlen(rm->name));
        rr->arn = evb_arena_strndup(&r->arena, rm->arn, strlen(rm->arn));
        rr->ntargets = rm->ntargets;
        rr->targets = evb_arena_calloc(&r->arena, rm->ntargets ? rm->ntargets : 1,
                                       sizeof *rr->targets);
        if (!rr->name || !rr->arn || !rr->targets)
            goto nomem;
        for (size_t t = 0; t < rm->ntargets; t++) {
            rr->targets[t].id = evb_arena_strndup(
                &r->arena, rm->targets[t].id, strlen(rm->targets[t].id));
            rr->targets[t].arn = evb_arena_strndup(
                &r->arena, rm->targets[t].arn, strlen(rm->targets[t].arn));
            if (!rr->targets[t].id || !rr->targets[t].arn)
                goto nomem;
        }
    }
    qsort(r->rules, r->nrules, sizeof *r->rules, route_rule_cmp);
    pthread_mutex_lock(&svc->route_lock);
    route_t *old = NULL;
    size_t i = 0;
    for (; i < svc->nroutes; i++)
        if (strcmp(svc->route_names[i], b->name) == 0)
            break;
    if (i == svc->nroutes) {
        if (svc->nroutes == svc->cap_routes) {
            size_t cap = svc->cap_routes ? svc->cap_routes * 2 : 8;
            route_t **nr = realloc(svc->routes, cap * sizeof *nr);
            char **nn = nr ? realloc(svc->route_names, cap * sizeof *nn) : NULL;
            if (nr)
                svc->routes = nr;
            if (!nr || !nn) {
                pthread_mutex_unlock(&svc->route_lock);
                goto nomem;
            }
            svc->route_names = nn;
            svc->cap_routes = cap;
        }
        svc->route_names[i] = b->name; /* owned by the mirror */
        svc->routes[i] = NULL;
        svc->nroutes++;
    }
    old = svc->routes[i];
    svc->routes[i] = r;
    pthread_mutex_unlock(&svc->route_lock);
    evb__route_unref(old);
    return EVB_ERR_OK;
nomem:
    evb__route_unref(r);
    return EVB_ERR_NOMEM;
}

static void unpublish_route(evb_bus_service_t *svc, const char *bus) {
    atomic_fetch_add(&svc->generation, 1);
    pthread_mutex_lock(&svc->route_lock);
    route_t *old = NULL;
    for (size_t i = 0; i < svc->nroutes; i++)
        if (strcmp(svc->route_names[i], bus) == 0) {
            old = svc->routes[i];
            svc->routes[i] = svc->routes[svc->nroutes - 1];
            svc->route_names[i] = svc->route_names[svc->nroutes - 1];
            svc->nroutes--;
            break;
        }
    pthread_mutex_unlock(&svc->route_lock);
    evb__route_unref(old);
}

/* (Re)compile rule r into b's rule set according to its state. */
static evb_err_t rule_to_ruleset(bus_mem_t *b, const rule_mem_t *r,
                                 char *errstr, size_t errstr_size) {
    if (r->enabled && r->pattern)
        return evb_ruleset_add(b->rs, r->name, r->pattern, strlen(r->pattern),
                               errstr, errstr_size);
    evb_err_t err = evb_ruleset_remove(b->rs, r->name);
    return err == EVB_ERR_NOT_FOUND ? EVB_ERR_OK : err;
}

static bus_mem_t *bus_mem_new(evb_bus_service_t *svc, const char *name,
                              const char *description, int64_t created,
                              int64_t modified) {
    bus_mem_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->name = evb__strdup0(name);
    b->arn = bus_arn(svc, name);
    b->description = evb__strdup0(description);
    b->created = created;
    b->modified = modified;
    b->rs = evb_ruleset_new(&svc->cfg.pattern_limits);
    if (!b->name || !b->arn || !dup_ok(description, b->description) ||
        !b->rs) {
        bus_mem_free(b);
        return NULL;
    }
    return b;
}

static int add_bus_mem(evb_bus_service_t *svc, bus_mem_t *b) {
    if (svc->nbuses == svc->cap_buses) {
        size_t cap = svc->cap_buses ? svc->cap_buses * 2 : 8;
        bus_mem_t **nb = realloc(svc->buses, cap * sizeof *nb);
        if (!nb)
            return -1;
        svc->buses = nb;
        svc->cap_buses = cap;
    }
    svc->buses[svc->nbuses++] = b;
    return 0;
}

static int add_rule_mem(bus_mem_t *b, rule_mem_t *r) {
    if (b->nrules == b->cap_rules) {
        size_t cap = b->cap_rules ? b->cap_rules * 2 : 8;
        rule_mem_t **nr = realloc(b->rules, cap * sizeof *nr);
        if (!nr)
            return -1;
        b->rules = nr;
        b->cap_rules = cap;
    }
    b->rules[b->nrules++] = r;
    return 0;
}

/* ---- SQL helpers ---------------------------------------------------------------- */

/* Run one statement with text/int parameters: types is a string of 't'
 * (const char *, NULL binds NULL) and 'i' (int64_t). */
evb_err_t evb__sql_exec(sqlite3 *db, const char *sql, const char *types,
                        char *errstr, size_t errstr_size, ...) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, sql, errstr, errstr_size);
    va_list ap;
    va_start(ap, errstr_size);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't') {
            const char *v = va_arg(ap, const char *);
            if (v)
                sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(st, i + 1);
        } else {
            sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        }
    }
    va_end(ap);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return evb_store_sqlerr(db, sql, errstr, errstr_size);
    return EVB_ERR_OK;
}

static const char *col(sqlite3_stmt *st, int i) {
    return (const char *)sqlite3_column_text(st, i);
}

static evb_err_t load_all(sqlite3 *db, void *arg, char *errstr,
                          size_t errstr_size) {
    evb_bus_service_t *svc = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT name, description, created, modified "
                           "FROM event_buses ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "loading buses", errstr, errstr_size);
    evb_err_t err = EVB_ERR_OK;
    while (!err && sqlite3_step(st) == SQLITE_ROW) {
        bus_mem_t *b = bus_mem_new(svc, col(st, 0), col(st, 1),
                                   sqlite3_column_int64(st, 2),
                                   sqlite3_column_int64(st, 3));
        if (!b || add_bus_mem(svc, b)) {
            bus_mem_free(b);
            err = EVB_ERR_NOMEM;
        }
    }
    sqlite3_finalize(st);
    if (err)
        return evb_err_set(err, errstr, errstr_size, "out of memory");
    if (sqlite3_prepare_v2(db,
                           "SELECT bus, name, event_pattern, schedule, state, "
                           "description, role_arn, created FROM rules ORDER "
                           "BY bus, name",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "loading rules", errstr, errstr_size);
    while (!err && sqlite3_step(st) == SQLITE_ROW) {
        bus_mem_t *b = evb__find_bus(svc, col(st, 0));
        if (!b)
            continue;
        rule_mem_t *r = calloc(1, sizeof *r);
        if (!r) {
            err = EVB_ERR_NOMEM;
            break;
        }
        r->name = evb__strdup0(col(st, 1));
        r->arn = rule_arn(svc, b->name, col(st, 1));
        r->pattern = evb__strdup0(col(st, 2));
        r->schedule = evb__strdup0(col(st, 3));
        r->enabled = col(st, 4) && strcmp(col(st, 4), "DISABLED") != 0;
        r->description = evb__strdup0(col(st, 5));
        r->role_arn = evb__strdup0(col(st, 6));
        r->created = sqlite3_column_int64(st, 7);
        if (!r->name || !r->arn || add_rule_mem(b, r)) {
            rule_mem_free(r);
            err = EVB_ERR_NOMEM;
        }
    }
    sqlite3_finalize(st);
    if (err)
        return evb_err_set(err, errstr, errstr_size, "out of memory");
    if (sqlite3_prepare_v2(db,
                           "SELECT bus, rule, id, arn, spec FROM targets "
                           "ORDER BY bus, rule, id",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "loading targets", errstr, errstr_size);
    while (!err && sqlite3_step(st) == SQLITE_ROW) {
        bus_mem_t *b = evb__find_bus(svc, col(st, 0));
        rule_mem_t *r = b ? evb__find_rule(b, col(st, 1), NULL) : NULL;
        if (!r)
            continue;
        target_mem_t *nt =
            realloc(r->targets, (r->ntargets + 1) * sizeof *nt);
        if (!nt) {
            err = EVB_ERR_NOMEM;
            break;
        }
        r->targets = nt;
        target_mem_t *t = &r->targets[r->ntargets];
        t->id = evb__strdup0(col(st, 2));
        t->arn = evb__strdup0(col(st, 3));
        t->spec = evb__strdup0(col(st, 4));
        r->ntargets++;
        if (!t->id || !t->arn || !t->spec)
            err = EVB_ERR_NOMEM;
    }
    sqlite3_finalize(st);
    if (err)
        return evb_err_set(err, errstr, errstr_size, "out of memory");
    return EVB_ERR_OK;
}

typedef struct bus_row {
    const char *name, *arn, *description;
    int64_t created, modified;
} bus_row_t;

static evb_err_t insert_bus(sqlite3 *db, void *arg, char *errstr,
                            size_t errstr_size) {
    bus_row_t *r = arg;
    return evb__sql_exec(db,
                         "INSERT INTO event_buses(name, arn, description, "
                         "created, modified) VALUES (?,?,?,?,?)",
                         "tttii", errstr, errstr_size, r->name, r->arn,
                         r->description, r->created, r->modified);
}

evb_err_t evb_bus_service_open(const evb_bus_config_t *cfg, evb_store_t *store,
                               evb_bus_service_t **out, char *errstr,
                               size_t errstr_size) {
    *out = NULL;
    evb_bus_service_t *svc = calloc(1, sizeof *svc);
    if (!svc)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    svc->cfg = cfg ? *cfg : evb_bus_config_default();
    evb_bus_config_t defl = evb_bus_config_default();
    snprintf(svc->account, sizeof svc->account, "%s",
             svc->cfg.account ? svc->cfg.account : defl.account);
    snprintf(svc->region, sizeof svc->region, "%s",
             svc->cfg.region ? svc->cfg.region : defl.region);
    svc->cfg.account = svc->account;
    svc->cfg.region = svc->region;
    if (!svc->cfg.max_entries_bytes)
        svc->cfg.max_entries_bytes = defl.max_entries_bytes;
    if (!svc->cfg.max_targets_per_rule)
        svc->cfg.max_targets_per_rule = defl.max_targets_per_rule;
    svc->store = store;
    pthread_mutex_init(&svc->ctl, NULL);
    pthread_mutex_init(&svc->route_lock, NULL);
    evb_err_t err = evb_store_read(store, load_all, svc, errstr, errstr_size);
    if (!err && !evb__find_bus(svc, "default")) {
        int64_t now = evb__now_s();
        char *arn = bus_arn(svc, "default");
        bus_row_t row = {"default", arn, NULL, now, now};
        err = arn ? evb_store_write(store, insert_bus, &row, errstr,
                                    errstr_size)
                  : EVB_ERR_NOMEM;
        free(arn);
        if (!err) {
            bus_mem_t *b = bus_mem_new(svc, "default", NULL, now, now);
            if (!b || add_bus_mem(svc, b)) {
                bus_mem_free(b);
                err = EVB_ERR_NOMEM;
            }
        }
    }
    /* compile every bus's enabled rules and publish the routes */
    for (size_t i = 0; !err && i < svc->nbuses; i++) {
        bus_mem_t *b = svc->buses[i];
        for (size_t r = 0; !err && r < b->nrules; r++)
            err = rule_to_ruleset(b, b->rules[r], errstr, errstr_size);
        if (!err)
            err = evb__publish_route(svc, b);
    }
    if (err) {
        if (err == EVB_ERR_NOMEM)
            evb_err_set(err, errstr, errstr_size, "out of memory");
        evb_bus_service_close(svc);
        return err;
    }
    *out = svc;
    return EVB_ERR_OK;
}

void evb_bus_service_close(evb_bus_service_t *svc) {
    if (!svc)
        return;
    for (size_t i = 0; i < svc->nroutes; i++)
        evb__route_unref(svc->routes[i]);
    free(svc->routes);
    free(svc->route_names);
    for (size_t i = 0; i < svc->nbuses; i++)
        bus_mem_free(svc->buses[i]);
    free(svc->buses);
    pthread_mutex_destroy(&svc->ctl);
    pthread_mutex_destroy(&svc->route_lock);
    free(svc);
}

/* ---- buses ------------------------------------------------------------------------ */

void evb_bus_info_free(evb_bus_info_t *b) {
    if (!b)
        return;
    free(b->name);
    free(b->arn);
    free(b->description);
    memset(b, 0, sizeof *b);
}

static evb_err_t bus_info_fill(const bus_mem_t *b, evb_bus_info_t *out) {
    out->name = evb__strdup0(b->name);
    out->arn = evb__strdup0(b->arn);
    out->description = evb__strdup0(b->description);
    out->created = b->created;
    out->modified = b->modified;
    if (!out->name || !out->arn || !dup_ok(b->description, out->description)) {
        evb_bus_info_free(out);
        return EVB_ERR_NOMEM;
    }
    return EVB_ERR_OK;
}

evb_err_t evb_bus_create(evb_bus_service_t *svc, const char *name,
                         const char *description, char **arn_out,
                         char *errstr, size_t errstr_size) {
    pthread_mutex_lock(&svc->ctl);
    evb_err_t err = EVB_ERR_OK;
    if (evb__find_bus(svc, name)) {
        err = evb_err_set(EVB_ERR_EXISTS, errstr, errstr_size,
                          "Event bus %s already exists.", name);
        goto out;
    }
    int64_t now = evb__now_s();
    bus_mem_t *b = bus_mem_new(svc, name, description, now, now);
    if (!b) {
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto out;
    }
    bus_row_t row = {name, b->arn, description, now, now};
    err = evb_store_write(svc->store, insert_bus, &row, errstr, errstr_size);
    if (!err && add_bus_mem(svc, b))
        err = EVB_ERR_NOMEM;
    if (!err)
        err = evb__publish_route(svc, b);
    if (err) {
        /* the row may be committed; the mirror is rebuilt on restart */
        if (svc->nbuses && svc->buses[svc->nbuses - 1] == b)
            svc->nbuses--;
        bus_mem_free(b);
        if (err == EVB_ERR_NOMEM)
            evb_err_set(err, errstr, errstr_size, "out of memory");
        goto out;
    }
    if (arn_out && !(*arn_out = evb__strdup0(b->arn)))
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
out:
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

typedef struct bus_key {
    const char *name, *arn;
} bus_key_t;

static evb_err_t delete_bus_row(sqlite3 *db, void *arg, char *errstr,
                                size_t errstr_size) {
    const bus_key_t *k = arg;
    evb_err_t err = evb__sql_exec(db, "DELETE FROM event_buses WHERE name=?",
                                  "t", errstr, errstr_size, k->name);
    if (!err)
        err = evb__sql_exec(db, "DELETE FROM tags WHERE arn=?", "t", errstr,
                            errstr_size, k->arn);
    return err;
}

evb_err_t evb_bus_delete(evb_bus_service_t *svc, const char *name,
                         char *errstr, size_t errstr_size) {
    if (strcmp(name, "default") == 0)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Cannot delete event bus default.");
    pthread_mutex_lock(&svc->ctl);
    evb_err_t err = EVB_ERR_OK;
    size_t i = 0;
    for (; i < svc->nbuses; i++)
        if (strcmp(svc->buses[i]->name, name) == 0)
            break;
    if (i == svc->nbuses)
        goto out; /* deleting a missing bus succeeds */
    bus_mem_t *b = svc->buses[i];
    if (b->nrules) {
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "Cannot delete event bus %s because it has rules.",
                          name);
        goto out;
    }
    bus_key_t key = {b->name, b->arn};
    err = evb_store_write(svc->store, delete_bus_row, &key, errstr,
                          errstr_size);
    if (err)
        goto out;
    unpublish_route(svc, b->name);
    svc->buses[i] = svc->buses[--svc->nbuses];
    bus_mem_free(b);
out:
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

typedef struct bus_upd {
    const char *name, *description;
    int64_t modified;
} bus_upd_t;

static evb_err_t update_bus_row(sqlite3 *db, void *arg, char *errstr,
                                size_t errstr_size) {
    bus_upd_t *u = arg;
    return evb__sql_exec(db,
                         "UPDATE event_buses SET description=?, modified=? "
                         "WHERE name=?",
                         "tit", errstr, errstr_size, u->description,
                         u->modified, u->name);
}

evb_err_t evb_bus_update(evb_bus_service_t *svc, const char *name,
                         const char *description, evb_bus_info_t *out,
                         char *errstr, size_t errstr_size) {
    pthread_mutex_lock(&svc->ctl);
    evb_err_t err;
    bus_mem_t *b = evb__find_bus(svc, name ? name : "default");
    if (!b) {
        err = evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                          "Event bus %s does not exist.", name);
        goto out;
    }
    /* NULL keeps the current description */
    const char *want = description ? description : b->description;
    char *d = evb__strdup0(want);
    if (!dup_ok(want, d)) {
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto out;
    }
    bus_upd_t u = {b->name, want, evb__now_s()};
    err = evb_store_write(svc->store, update_bus_row, &u, errstr, errstr_size);
    if (err) {
        free(d);
        goto out;
    }
    free(b->description);
    b->description = d;
    b->modified = u.modified;
    if (out && bus_info_fill(b, out))
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
out:
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

evb_err_t evb_bus_describe(evb_bus_service_t *svc, const char *name,
                           evb_bus_info_t *out, char *errstr,
                           size_t errstr_size) {
    pthread_mutex_lock(&svc->ctl);
    evb_err_t err = EVB_ERR_OK;
    bus_mem_t *b = evb__find_bus(svc, name ? name : "default");
    if (!b)
        err = evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                          "Event bus %s does not exist.", name);
    else if (bus_info_fill(b, out))
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

/* Tokens: hex of the last name returned. */
char *evb__make_token(const char *last) {
    size_t n = strlen(last);
    char *t = malloc(2 * n + 1);
    if (!t)
        return NULL;
    for (size_t i = 0; i < n; i++)
        snprintf(t + 2 * i, 3, "%02x", (unsigned char)last[i]);
    t[2 * n] = '\0';
    return t;
}

/* Decode a token into out; -1 if it is not one of ours. */
int evb__parse_token(const char *tok, char *out, size_t out_size) {
    size_t n = strlen(tok);
    if (n % 2 || n / 2 >= out_size)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(tok + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (char)v;
    }
    out[n / 2] = '\0';
    return 0;
}

static int str_ptr_cmp(const void *a, const void *b) {
    return strcmp(**(const char *const *const *)a,
                  **(const char *const *const *)b);
}

/* Collect, sorted by name, the items (given as pointers to their name
 * pointer) after the token and with the prefix; returns the page. */
typedef struct page {
    size_t start, count;
    bool more;
} page_t;

static evb_err_t paginate(const char ***names, size_t n, const char *prefix,
                          const char *token, unsigned limit, page_t *pg,
                          char *errstr, size_t errstr_size) {
    qsort(names, n, sizeof *names, str_ptr_cmp);
    char after[2048] = "";
    bool has_after = false;
    if (token) {
        if (evb__parse_token(token, after, sizeof after))
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "The NextToken is not valid.");
        has_after = true;
    }
    if (!limit || limit > 100)
        limit = 100;
    size_t plen = prefix ? strlen(prefix) : 0;
    pg->start = 0;
    pg->count = 0;
    pg->more = false;
    /* filter in place: keep matching ones */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *nm = *names[i];
        if (plen && strncmp(nm, prefix, plen) != 0)
            continue;
        if (has_after && strcmp(nm, after) <= 0)
            continue;
        names[k++] = names[i];
    }
    pg->count = k < limit ? k : limit;
    pg->more = k > limit;
    return EVB_ERR_OK;
}

evb_err_t evb_bus_list(evb_bus_service_t *svc, const char *prefix,
                       const char *next_token, unsigned limit,
                       evb_bus_info_t **items, size_t *n, char **next_out,
                       char *errstr, size_t errstr_size) {
    *items = NULL;
    *n = 0;
    *next_out = NULL;
    pthread_mutex_lock(&svc->ctl);
    evb_err_t err = EVB_ERR_OK;
    const char ***names = malloc((svc->nbuses + 1) * sizeof *names);
    if (!names) {
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < svc->nbuses; i++)
        names[i] = (const char **)&svc->buses[i]->name;
    page_t pg;
    err = paginate(names, svc->nbuses, prefix, next_token, limit, &pg, errstr,
                   errstr_size);
    if (err)
        goto out;
    *items = calloc(pg.count ? pg.count : 1, sizeof **items);
    if (!*items)
        goto nomem;
    for (size_t i = 0; i < pg.count; i++) {
        const bus_mem_t *b = evb__find_bus(svc, *names[i]);
        if (bus_info_fill(b, &(*items)[i]))
            goto nomem;
        (*n)++;
    }
    if (pg.more && pg.count && !(*next_out = evb__make_token(*names[pg.count - 1])))
        goto nomem;
    goto out;
nomem:
    for (size_t i = 0; i < *n; i++)
        evb_bus_info_free(&(*items)[i]);
    free(*items);
    *items = NULL;
    *n = 0;
    err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
out:
    free(names);
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

/* ---- rules ------------------------------------------------------------------------- */

void evb_rule_info_free(evb_rule_info_t *r) {
    if (!r)
        return;
    free(r->bus);
    free(r->name);
    free(r->arn);
    free(r->event_pattern);
    free(r->schedule);
    free(r->state);
    free(r->description);
    free(r->role_arn);
    memset(r, 0, sizeof *r);
}

static evb_err_t rule_info_fill(const bus_mem_t *b, const rule_mem_t *r,
                                evb_rule_info_t *out) {
    memset(out, 0, sizeof *out);
    out->bus = evb__strdup0(b->name);
    out->name = evb__strdup0(r->name);
    out->arn = evb__strdup0(r->arn);
    out->event_pattern = evb__strdup0(r->pattern);
    out->schedule = evb__strdup0(r->schedule);
    out->state = evb__strdup0(r->enabled ? "ENABLED" : "DISABLED");
    out->description = evb__strdup0(r->description);
    out->role_arn = evb__strdup0(r->role_arn);
    if (!out->bus || !out->name || !out->arn || !out->state ||
        !dup_ok(r->pattern, out->event_pattern) ||
        !dup_ok(r->schedule, out->schedule) ||
        !dup_ok(r->description, out->description) ||
        !dup_ok(r->role_arn, out->role_arn)) {
        evb_rule_info_free(out);
        return EVB_ERR_NOMEM;
    }
    return EVB_ERR_OK;
}

static evb_err_t find_bus_for_rule(evb_bus_service_t *svc, const char *bus,
                                   bus_mem_t **out, char *errstr,
                                   size_t errstr_size) {
    *out = evb__find_bus(svc, bus ? bus : "default");
    if (!*out)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "Event bus %s does not exist.", bus);
    return EVB_ERR_OK;
}

typedef struct rule_row {
    const char *bus;
    const rule_mem_t *r;
} rule_row_t;

static evb_err_t upsert_rule_row(sqlite3 *db, void *arg, char *errstr,
                                 size_t errstr_size) {
    rule_row_t *rr = arg;
    const rule_mem_t *r = rr->r;
    return evb__sql_exec(
        db,
        "INSERT INTO rules(bus, name, arn, event_pattern, schedule, state, "
        "description, role_arn, created) VALUES (?,?,?,?,?,?,?,?,?) "
        "ON CONFLICT(bus, name) DO UPDATE SET event_pattern=excluded."
        "event_pattern, schedule=excluded.schedule, state=excluded.state, "
        "description=excluded.description, role_arn=excluded.role_arn",
        "tttttttti", errstr, errstr_size, rr->bus, r->name, r->arn,
        r->pattern, r->schedule, r->enabled ? "ENABLED" : "DISABLED",
        r->description, r->role_arn, (int64_t)evb__now_s());
}

evb_err_t evb_rule_put(evb_bus_service_t *svc, const evb_rule_info_t *in,
                       char **arn_out, char *errstr, size_t errstr_size) {
    if (!in->event_pattern && !in->schedule)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Parameter(s) EventPattern or ScheduleExpression "
                           "must be specified.");
    bool enabled = true;
    if (in->state) {
        if (strcmp(in->state, "DISABLED") == 0)
            enabled = false;
        else if (strcmp(in->state, "ENABLED") != 0 &&
                 strcmp(in->state,
                        "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") != 0)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "1 validation error detected: Value '%s' at "
                               "'state' failed to satisfy constraint: Member "
                               "must satisfy enum value set: [ENABLED, "
                               "DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_"
                               "MANAGEMENT_EVENTS]",
                               in->state);
    }
    if (in->event_pattern) {
        evb_err_t err = evb_pattern_validate(
            in->event_pattern, strlen(in->event_pattern),
            &svc->cfg.pattern_limits, errstr, errstr_size);
        if (err)
            return err;
    }
    pthread_mutex_lock(&svc->ctl);
    bus_mem_t *b;
    evb_err_t err = find_bus_for_rule(svc, in->bus, &b, errstr, errstr_size);
    if (err)
        goto out;
    if (in->schedule && strcmp(b->name, "default") != 0) {
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "ScheduleExpression is supported only on the "
                          "default event bus.");
        goto out;
    }
    rule_mem_t *nr = calloc(1, sizeof *nr);
    if (!nr)
        goto nomem;
    nr->name = evb__strdup0(in->name);
    nr->arn = rule_arn(svc, b->name, in->name);
    nr->pattern = evb__strdup0(in->event_pattern);
    nr->schedule = evb__strdup0(in->schedule);
    nr->description = evb__strdup0(in->description);
    nr->role_arn = evb__strdup0(in->role_arn);
    nr->enabled = enabled;
    nr->created = evb__now_s();
    if (!nr->name || !nr->arn || !dup_ok(in->event_pattern, nr->pattern) ||
        !dup_ok(in->schedule, nr->schedule) ||
        !dup_ok(in->description, nr->description) ||
        !dup_ok(in->role_arn, nr->role_arn)) {
        rule_mem_free(nr);
        goto nomem;
    }
    rule_row_t row = {b->name, nr};
    err = evb_store_write(svc->store, upsert_rule_row, &row, errstr,
                          errstr_size);
    if (err) {
        rule_mem_free(nr);
        goto out;
    }
    /* replace in the mirror, keeping the targets */
    size_t idx;
    rule_mem_t *old = evb__find_rule(b, in->name, &idx);
    if (old) {
        nr->created = old->created; /* the store keeps it too */
        nr->targets = old->targets;
        nr->ntargets = old->ntargets;
        old->targets = NULL;
        old->ntargets = 0;
        b->rules[idx] = nr;
        rule_mem_free(old);
    } else if (add_rule_mem(b, nr)) {
        rule_mem_free(nr);
        goto nomem;
    }
    err = rule_to_ruleset(b, nr, errstr, errstr_size);
    if (!err)
        err = evb__publish_route(svc, b);
    if (!err && arn_out && !(*arn_out = evb__strdup0(nr->arn)))
        goto nomem;
    goto out;
nomem:
    err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
out:
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

evb_err_t evb_rule_describe(evb_bus_service_t *svc, const char *bus,
                            const char *name, evb_rule_info_t *out,
                            char *errstr, size_t errstr_size) {
    pthread_mutex_lock(&svc->ctl);
    bus_mem_t *b;
    evb_err_t err = find_bus_for_rule(svc, bus, &b, errstr, errstr_size);
    if (!err) {
        rule_mem_t *r = evb__find_rule(b, name, NULL);
        if (!r)
            err = evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                              "Rule %s does not exist on EventBus %s.", name,
                              b->name);
        else if (rule_info_fill(b, r, out))
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "out of memory");
    }
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

typedef struct rule_key {
    const char *bus, *name, *arn;
} rule_key_t;

static evb_err_t delete_rule_row(sqlite3 *db, void *arg, char *errstr,
                                 size_t errstr_size) {
    rule_key_t *k = arg;
    evb_err_t err = evb__sql_exec(db, "DELETE FROM rules WHERE bus=? AND name=?",
                                  "tt", errstr, errstr_size, k->bus, k->name);
    if (!err)
        err = evb__sql_exec(db, "DELETE FROM tags WHERE arn=?", "t", errstr,
                            errstr_size, k->arn);
    return err;
}

evb_err_t evb_rule_delete(evb_bus_service_t *svc, const char *bus,
                          const char *name, char *errstr, size_t errstr_size) {
    pthread_mutex_lock(&svc->ctl);
    bus_mem_t *b;
    evb_err_t err = find_bus_for_rule(svc, bus, &b, errstr, errstr_size);
    if (err)
        goto out;
    size_t idx;
    rule_mem_t *r = evb__find_rule(b, name, &idx);
    if (!r)
        goto out; /* deleting a missing rule succeeds */
    if (r->ntargets) {
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "Rule can't be deleted since it has targets.");
        goto out;
    }
    rule_key_t k = {b->name, r->name, r->arn};
    err = evb_store_write(svc->store, delete_rule_row, &k, errstr,
                          errstr_size);
    if (err)
        goto out;
    b->rules[idx] = b->rules[--b->nrules];
    evb_err_t rm = evb_ruleset_remove(b->rs, name);
    (void)rm; /* NOT_FOUND when it was disabled or had no pattern */
    rule_mem_free(r);
    err = evb__publish_route(svc, b);
    if (err)
        evb_err_set(err, errstr, errstr_size, "out of memory");
out:
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

static evb_err_t set_state_row(sqlite3 *db, void *arg, char *errstr,
                               size_t errstr_size) {
    rule_key_t *k = arg; /* arn field carries the state */
    return evb__sql_exec(db, "UPDATE rules SET state=? WHERE bus=? AND name=?",
                         "ttt", errstr, errstr_size, k->arn, k->bus, k->name);
}

evb_err_t evb_rule_set_enabled(evb_bus_service_t *svc, const char *bus,
                               const char *name, bool enabled, char *errstr,
                               size_t errstr_size) {
    pthread_mutex_lock(&svc->ctl);
    bus_mem_t *b;
    evb_err_t err = find_bus_for_rule(svc, bus, &b, errstr, errstr_size);
    if (err)
        goto out;
    rule_mem_t *r = evb__find_rule(b, name, NULL);
    if (!r) {
        err = evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                          "Rule %s does not exist on EventBus %s.", name,
                          b->name);
        goto out;
    }
    rule_key_t k = {b->name, r->name, enabled ? "ENABLED" : "DISABLED"};
    err = evb_store_write(svc->store, set_state_row, &k, errstr, errstr_size);
    if (err)
        goto out;
    r->enabled = enabled;
    err = rule_to_ruleset(b, r, errstr, errstr_size);
    if (!err)
        err = evb__publish_route(svc, b);
out:
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

evb_err_t evb_rule_list(evb_bus_service_t *svc, const char *bus,
                        const char *prefix, const char *next_token,
                        unsigned limit, evb_rule_info_t **items, size_t *n,
                        char **next_out, char *errstr, size_t errstr_size) {
    *items = NULL;
    *n = 0;
    *next_out = NULL;
    pthread_mutex_lock(&svc->ctl);
    const char ***names = NULL;
    bus_mem_t *b;
    evb_err_t err = find_bus_for_rule(svc, bus, &b, errstr, errstr_size);
    if (err)
        goto out;
    names = malloc((b->nrules + 1) * sizeof *names);
    if (!names)
        goto nomem;
    for (size_t i = 0; i < b->nrules; i++)
        names[i] = (const char **)&b->rules[i]->name;
    page_t pg;
    err = paginate(names, b->nrules, prefix, next_token, limit, &pg, errstr,
                   errstr_size);
    if (err)
        goto out;
    *items = calloc(pg.count ? pg.count : 1, sizeof **items);
    if (!*items)
        goto nomem;
    for (size_t i = 0; i < pg.count; i++) {
        if (rule_info_fill(b, evb__find_rule(b, *names[i], NULL), &(*items)[i]))
            goto nomem;
        (*n)++;
    }
    if (pg.more && pg.count && !(*next_out = evb__make_token(*names[pg.count - 1])))
        goto nomem;
    goto out;
nomem:
    for (size_t i = 0; i < *n; i++)
        evb_rule_info_free(&(*items)[i]);
    free(*items);
    *items = NULL;
    *n = 0;
    err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
out:
    free(names);
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

evb_err_t evb_bus_list_scheduled(evb_bus_service_t *svc,
                                 evb_bus_scheduled_fn visit, void *arg) {
    pthread_mutex_lock(&svc->ctl);
    evb_err_t err = EVB_ERR_OK;
    for (size_t i = 0; !err && i < svc->nbuses; i++) {
        const bus_mem_t *b = svc->buses[i];
        for (size_t r = 0; !err && r < b->nrules; r++) {
            const rule_mem_t *rm = b->rules[r];
            if (rm->schedule)
                err = visit(arg, b->name, rm->name, rm->arn, rm->schedule,
                            rm->enabled, rm->created * 1000);
        }
    }
    pthread_mutex_unlock(&svc->ctl);
    return err;
}
