/*
 * targets.c: PutTargets, RemoveTargets, ListTargetsByRule,
 * ListRuleNamesByTarget, and tags on buses and rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_internal.h"

void evb_target_info_free(evb_target_info_t *t) {
    if (!t)
        return;
    free(t->id);
    free(t->arn);
    free(t->spec);
    memset(t, 0, sizeof *t);
}

void evb_target_failures_free(evb_target_failure_t *f, size_t n) {
    for (size_t i = 0; f && i < n; i++) {
        free(f[i].id);
        free(f[i].code);
        free(f[i].message);
    }
    free(f);
}

static evb_err_t rule_of(evb_bus_service_t *svc, const char *bus,
                         const char *rule, bus_mem_t **bout, rule_mem_t **rout,
                         char *errstr, size_t errstr_size) {
    bus_mem_t *b = evb__find_bus(svc, bus ? bus : "default");
    if (!b)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "Event bus %s does not exist.", bus);
    rule_mem_t *r = evb__find_rule(b, rule, NULL);
    if (!r)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "Rule %s does not exist on EventBus %s.", rule,
                           b->name);
    *bout = b;
    *rout = r;
    return EVB_ERR_OK;
}

typedef struct targets_job {
    const char *bus, *rule;
    const evb_target_info_t *put;
    const char *const *remove;
    size_t n;
} targets_job_t;

static evb_err_t write_targets(sqlite3 *db, void *arg, char *errstr,
                               size_t errstr_size) {
    targets_job_t *j = arg;
    evb_err_t err = EVB_ERR_OK;
    for (size_t i = 0; !err && i < j->n; i++) {
        if (j->put)
            err = evb__sql_exec(
                db,
                "INSERT INTO targets(bus, rule, id, arn, spec) VALUES "
                "(?,?,?,?,?) ON CONFLICT(bus, rule, id) DO UPDATE SET "
                "arn=excluded.arn, spec=excluded.spec",
                "ttttt", errstr, errstr_size, j->bus, j->rule, j->put[i].id,
                j->put[i].arn, j->put[i].spec);
        else
            err = evb__sql_exec(db,
                                "DELETE FROM targets WHERE bus=? AND rule=? "
                                "AND id=?",
                                "ttt", errstr, errstr_size, j->bus, j->rule,
                                j->remove[i]);
    }
    return err;
}

static ssize_t target_index(const rule_mem_t *r, const char *id) {
    for (size_t i = 0; i < r->ntargets; i++)
        if (strcmp(r->targets[i].id, id) == 0)
            return (ssize_t)i;
    return -1;
}

evb_err_t evb_targets_put(evb_bus_service_t *svc, const char *bus,
                          const char *rule, const evb_target_info_t *targets,
                          size_t n, evb_target_failure_t **failed,
                          size_t *nfailed, char *errstr, size_t errstr_size) {
    *failed = NULL;
    *nfailed = 0;
    pthread_mutex_lock(&svc->ctl);
    bus_mem_t *b;
    rule_mem_t *r;
    evb_err_t err = rule_of(svc, bus, rule, &b, &r, errstr, errstr_size);
    if (err)
        goto out;
    /* how many targets the rule would have */
    size_t total = r->ntargets;
    for (size_t i = 0; i < n; i++) {
        bool seen = target_index(r, targets[i].id) >= 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(targets[j].id, targets[i].id) == 0;
        if (!seen)
            total++;
    }
    if (total > svc->cfg.max_targets_per_rule) {
        err = evb_err_set(EVB_ERR_LIMIT_EXCEEDED, errstr, errstr_size,
                          "The requested resource exceeds the maximum number "
                          "allowed.");
        goto out;
    }
    /* copies first, so a failure leaves the mirror untouched */
    target_mem_t *copies = calloc(n ? n : 1, sizeof *copies);
    if (!copies)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        copies[i].id = evb__strdup0(targets[i].id);
        copies[i].arn = evb__strdup0(targets[i].arn);
        copies[i].spec = evb__strdup0(targets[i].spec);
        if (!copies[i].id || !copies[i].arn || !copies[i].spec) {
            for (size_t k = 0; k <= i; k++) {
                free(copies[k].id);
                free(copies[k].arn);
                free(copies[k].spec);
            }
            free(copies);
            goto nomem;
        }
    }
    target_mem_t *grown = realloc(r->targets, (total ? total : 1) *
                                                  sizeof *grown);
    if (!grown) {
        for (size_t k = 0; k < n; k++) {
            free(copies[k].id);
            free(copies[k].arn);
            free(copies[k].spec);
        }
        free(copies);
        goto nomem;
    }
    r->targets = grown;
    targets_job_t job = {b->name, r->name, targets, NULL, n};
    err = evb_store_write(svc->store, write_targets, &job, errstr,
                          errstr_size);
    if (err) {
        for (size_t k = 0; k < n; k++) {
            free(copies[k].id);
            free(copies[k].arn);
            free(copies[k].spec);
        }
        free(copies);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ssize_t at = target_index(r, copies[i].id);
        if (at >= 0) {
            free(r->targets[at].id);
            free(r->targets[at].arn);
            free(r->targets[at].spec);
            r->targets[at] = copies[i];
        } else {
            r->targets[r->ntargets++] = copies[i];
        }
    }
    free(copies);
    err = evb__publish_route(svc, b);
    if (err)
        goto nomem;
    goto out;
nomem:
    err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
out:
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

evb_err_t evb_targets_remove(evb_bus_service_t *svc, const char *bus,
                             const char *rule, const char *const *ids,
                             size_t n, evb_target_failure_t **failed,
                             size_t *nfailed, char *errstr,
                             size_t errstr_size) {
    *failed = NULL;
    *nfailed = 0;
    pthread_mutex_lock(&svc->ctl);
    bus_mem_t *b;
    rule_mem_t *r;
    evb_err_t err = rule_of(svc, bus, rule, &b, &r, errstr, errstr_size);
    if (err)
        goto out;
    targets_job_t job = {b->name, r->name, NULL, ids, n};
    err = evb_store_write(svc->store, write_targets, &job, errstr,
                          errstr_size);
    if (err)
        goto out;
    for (size_t i = 0; i < n; i++) {
        ssize_t at = target_index(r, ids[i]);
        if (at < 0)
            continue; /* removing a missing id succeeds, as on AWS */
        free(r->targets[at].id);
        free(r->targets[at].arn);
        free(r->targets[at].spec);
        r->targets[at] = r->targets[--r->ntargets];
    }
    err = evb__publish_route(svc, b);
    if (err)
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                          "out of memory");
out:
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

static int target_cmp(const void *a, const void *b) {
    return strcmp(((const target_mem_t *)a)->id, ((const target_mem_t *)b)->id);
}

evb_err_t evb_targets_list(evb_bus_service_t *svc, const char *bus,
                           const char *rule, const char *next_token,
                           unsigned limit, evb_target_info_t **items,
                           size_t *n, char **next_out, char *errstr,
                           size_t errstr_size) {
    *items = NULL;
    *n = 0;
    *next_out = NULL;
    pthread_mutex_lock(&svc->ctl);
    bus_mem_t *b;
    rule_mem_t *r;
    evb_err_t err = rule_of(svc, bus, rule, &b, &r, errstr, errstr_size);
    if (err)
        goto out;
    char after[256] = "";
    if (next_token && evb__parse_token(next_token, after, sizeof after)) {
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "The NextToken is not valid.");
        goto out;
    }
    if (!limit || limit > 100)
        limit = 100;
    if (r->ntargets) /* qsort may not be given a NULL array */
        qsort(r->targets, r->ntargets, sizeof *r->targets, target_cmp);
    *items = calloc(r->ntargets ? r->ntargets : 1, sizeof **items);
    if (!*items)
        goto nomem;
    size_t i = 0;
    for (; i < r->ntargets && *n < limit; i++) {
        if (next_token && strcmp(r->targets[i].id, after) <= 0)
            continue;
        evb_target_info_t *t = &(*items)[(*n)++];
        t->id = evb__strdup0(r->targets[i].id);
        t->arn = evb__strdup0(r->targets[i].arn);
        t->spec = evb__strdup0(r->targets[i].spec);
        if (!t->id || !t->arn || !t->spec)
            goto nomem;
    }
    if (i < r->ntargets && *n &&
        !(*next_out = evb__make_token((*items)[*n - 1].id)))
        goto nomem;
    goto out;
nomem:
    for (size_t k = 0; *items && k < *n; k++)
        evb_target_info_free(&(*items)[k]);
    free(*items);
    *items = NULL;
    *n = 0;
    err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
out:
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

static int cstr_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

evb_err_t evb_rule_names_by_target(evb_bus_service_t *svc, const char *bus,
                                   const char *target_arn,
                                   const char *next_token, unsigned limit,
                                   char ***names, size_t *n, char **next_out,
                                   char *errstr, size_t errstr_size) {
    *names = NULL;
    *n = 0;
    *next_out = NULL;
    pthread_mutex_lock(&svc->ctl);
    evb_err_t err = EVB_ERR_OK;
    bus_mem_t *b = evb__find_bus(svc, bus ? bus : "default");
    if (!b) {
        err = evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                          "Event bus %s does not exist.", bus);
        goto out;
    }
    char after[256] = "";
    if (next_token && evb__parse_token(next_token, after, sizeof after)) {
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "The NextToken is not valid.");
        goto out;
    }
    if (!limit || limit > 100)
        limit = 100;
    char **all = calloc(b->nrules + 1, sizeof *all);
    if (!all)
        goto nomem;
    size_t na = 0;
    for (size_t i = 0; i < b->nrules; i++)
        for (size_t t = 0; t < b->rules[i]->ntargets; t++)
            if (strcmp(b->rules[i]->targets[t].arn, target_arn) == 0) {
                all[na++] = b->rules[i]->name;
                break;
            }
    qsort(all, na, sizeof *all, cstr_cmp);
    *names = calloc(na + 1, sizeof **names);
    if (!*names) {
        free(all);
        goto nomem;
    }
    size_t i = 0;
    for (; i < na && *n < limit; i++) {
        if (next_token && strcmp(all[i], after) <= 0)
            continue;
        if (!((*names)[(*n)++] = evb__strdup0(all[i]))) {
            free(all);
            goto nomem;
        }
    }
    bool more = false;
    for (; i < na && !more; i++)
        more = !next_token || strcmp(all[i], after) > 0;
    free(all);
    if (more && *n && !(*next_out = evb__make_token((*names)[*n - 1])))
        goto nomem;
    goto out;
nomem:
    for (size_t k = 0; *names && k < *n; k++)
        free((*names)[k]);
    free(*names);
    *names = NULL;
    *n = 0;
    err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
out:
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

/* ---- tags ---------------------------------------------------------------------- */

void evb_tags_free(evb_tag_t *t, size_t n) {
    for (size_t i = 0; t && i < n; i++) {
        free(t[i].key);
        free(t[i].value);
    }
    free(t);
}

/* Is arn a bus or rule of this service? (control lock held) */
static bool resource_exists(evb_bus_service_t *svc, const char *arn) {
    for (size_t i = 0; i < svc->nbuses; i++) {
        bus_mem_t *b = svc->buses[i];
        if (strcmp(b->arn, arn) == 0)
            return true;
        for (size_t r = 0; r < b->nrules; r++)
            if (strcmp(b->rules[r]->arn, arn) == 0)
                return true;
    }
    return false;
}

typedef struct tags_job {
    const char *arn;
    const evb_tag_t *put;
    const char *const *remove;
    size_t n;
} tags_job_t;

static evb_err_t write_tags(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    tags_job_t *j = arg;
    evb_err_t err = EVB_ERR_OK;
    for (size_t i = 0; !err && i < j->n; i++) {
        if (j->put)
            err = evb__sql_exec(db,
                                "INSERT INTO tags(arn, key, value) VALUES "
                                "(?,?,?) ON CONFLICT(arn, key) DO UPDATE SET "
                                "value=excluded.value",
                                "ttt", errstr, errstr_size, j->arn,
                                j->put[i].key, j->put[i].value);
        else
            err = evb__sql_exec(db, "DELETE FROM tags WHERE arn=? AND key=?",
                                "tt", errstr, errstr_size, j->arn,
                                j->remove[i]);
    }
    return err;
}

static evb_err_t tags_write(evb_bus_service_t *svc, tags_job_t *job,
                           char *errstr, size_t errstr_size) {
    pthread_mutex_lock(&svc->ctl);
    evb_err_t err;
    if (!resource_exists(svc, job->arn))
        err = evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                          "Resource %s does not exist.", job->arn);
    else
        err = evb_store_write(svc->store, write_tags, job, errstr,
                              errstr_size);
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

evb_err_t evb_tags_put(evb_bus_service_t *svc, const char *arn,
                       const evb_tag_t *tags, size_t n, char *errstr,
                       size_t errstr_size) {
    tags_job_t job = {arn, tags, NULL, n};
    return tags_write(svc, &job, errstr, errstr_size);
}

evb_err_t evb_tags_remove(evb_bus_service_t *svc, const char *arn,
                          const char *const *keys, size_t n, char *errstr,
                          size_t errstr_size) {
    tags_job_t job = {arn, NULL, keys, n};
    return tags_write(svc, &job, errstr, errstr_size);
}

typedef struct tags_read {
    const char *arn;
    evb_tag_t *tags;
    size_t n;
} tags_read_t;

static evb_err_t read_tags(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    tags_read_t *t = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT key, value FROM tags WHERE arn=? ORDER BY "
                           "key",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "reading tags", errstr, errstr_size);
    sqlite3_bind_text(st, 1, t->arn, -1, SQLITE_TRANSIENT);
    evb_err_t err = EVB_ERR_OK;
    while (!err && sqlite3_step(st) == SQLITE_ROW) {
        evb_tag_t *nt = realloc(t->tags, (t->n + 1) * sizeof *nt);
        if (!nt) {
            err = EVB_ERR_NOMEM;
            break;
        }
        t->tags = nt;
        nt[t->n].key = evb__strdup0((const char *)sqlite3_column_text(st, 0));
        nt[t->n].value =
            evb__strdup0((const char *)sqlite3_column_text(st, 1));
        t->n++;
        if (!nt[t->n - 1].key || !nt[t->n - 1].value)
            err = EVB_ERR_NOMEM;
    }
    sqlite3_finalize(st);
    if (err)
        evb_err_set(err, errstr, errstr_size, "out of memory");
    return err;
}

evb_err_t evb_tags_list(evb_bus_service_t *svc, const char *arn,
                        evb_tag_t **tags, size_t *n, char *errstr,
                        size_t errstr_size) {
    *tags = NULL;
    *n = 0;
    pthread_mutex_lock(&svc->ctl);
    bool exists = resource_exists(svc, arn);
    pthread_mutex_unlock(&svc->ctl);
    if (!exists)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "Resource %s does not exist.", arn);
    tags_read_t t = {arn, NULL, 0};
    evb_err_t err = evb_store_read(svc->store, read_tags, &t, errstr,
                                   errstr_size);
    if (err) {
        evb_tags_free(t.tags, t.n);
        return err;
    }
    *tags = t.tags;
    *n = t.n;
    return EVB_ERR_OK;
}

/* ---- for the delivery engine ------------------------------------------------------ */

void evb_target_ref_free(evb_target_ref_t *t) {
    if (!t)
        return;
    free(t->arn);
    free(t->spec);
    free(t->rule_arn);
    free(t->rule_name);
    memset(t, 0, sizeof *t);
}

uint64_t evb_bus_generation(evb_bus_service_t *svc) {
    return atomic_load(&svc->generation);
}

evb_err_t evb_bus_target_lookup(evb_bus_service_t *svc, const char *bus,
                                const char *rule, const char *target_id,
                                evb_target_ref_t *out) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&svc->ctl);
    bus_mem_t *b;
    rule_mem_t *r;
    evb_err_t err = rule_of(svc, bus, rule, &b, &r, NULL, 0);
    if (!err) {
        ssize_t at = target_index(r, target_id);
        if (at < 0) {
            err = EVB_ERR_NOT_FOUND;
        } else {
            out->arn = evb__strdup0(r->targets[at].arn);
            out->spec = evb__strdup0(r->targets[at].spec);
            out->rule_arn = evb__strdup0(r->arn);
            out->rule_name = evb__strdup0(r->name);
            if (!out->arn || !out->spec || !out->rule_arn || !out->rule_name) {
                evb_target_ref_free(out);
                err = EVB_ERR_NOMEM;
            }
        }
    }
    pthread_mutex_unlock(&svc->ctl);
    return err;
}

void evb_route_hits_free(evb_route_hit_t *h, size_t n) {
    for (size_t i = 0; h && i < n; i++) {
        free(h[i].rule);
        free(h[i].target_id);
    }
    free(h);
}

evb_err_t evb_bus_route_event(evb_bus_service_t *svc, const char *bus,
                              const char *event, size_t len,
                              evb_route_hit_t **hits, size_t *n, char *errstr,
                              size_t errstr_size) {
    *hits = NULL;
    *n = 0;
    route_t *route = evb__route_acquire(svc, bus);
    if (!route)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "Event bus %s does not exist.", bus);
    evb_match_ctx_t *ctx = evb_match_ctx_new();
    evb_err_t err = ctx ? EVB_ERR_OK : EVB_ERR_NOMEM;
    const char *const *names = NULL;
    size_t nn = 0;
    if (!err)
        err = evb_matcher_match(route->matcher, ctx, event, len, &names, &nn,
                                errstr, errstr_size);
    size_t total = 0;
    for (size_t m = 0; !err && m < nn; m++) {
        const route_rule_t *rr = evb__route_rule(route, names[m]);
        total += rr ? rr->ntargets : 0;
    }
    if (!err && total) {
        *hits = calloc(total, sizeof **hits);
        if (!*hits)
            err = EVB_ERR_NOMEM;
        for (size_t m = 0; !err && m < nn; m++) {
            const route_rule_t *rr = evb__route_rule(route, names[m]);
            for (size_t t = 0; rr && !err && t < rr->ntargets; t++) {
                evb_route_hit_t *h = &(*hits)[(*n)++];
                h->rule = evb__strdup0(rr->name);
                h->target_id = evb__strdup0(rr->targets[t].id);
                if (!h->rule || !h->target_id)
                    err = EVB_ERR_NOMEM;
            }
        }
    }
    if (err) {
        evb_route_hits_free(*hits, *n);
        *hits = NULL;
        *n = 0;
        if (err == EVB_ERR_NOMEM)
            evb_err_set(err, errstr, errstr_size, "out of memory");
    }
    evb_match_ctx_free(ctx);
    evb__route_unref(route);
    return err;
}

bool evb_bus_arn_name(const evb_bus_service_t *svc, const char *arn,
                      char *name, size_t name_size) {
    char prefix[256];
    snprintf(prefix, sizeof prefix, "arn:aws:events:%s:%s:event-bus/",
             svc->region, svc->account);
    size_t pl = strlen(prefix);
    if (strncmp(arn, prefix, pl) != 0 || !arn[pl] ||
        strlen(arn + pl) >= name_size)
        return false;
    strcpy(name, arn + pl);
    return true;
}
