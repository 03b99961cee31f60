/*
 * control.c: the Pipes control plane (reference §6.1) and the supervisor
 * that makes each pipe's runner match its desired state.
 *
 * The store is the source of truth (tables pipes, pipe_tags,
 * pipe_offsets); memory holds every pipe with its state and its runner.
 * Control calls validate, write the store, update memory and kick the
 * supervisor; they never wait for a runner. The supervisor thread then
 * reconciles each pipe: it stops runners whose pipe was stopped, updated
 * or deleted (a runner stops between batches or during a backoff), joins
 * finished runners, starts runners for pipes that should run, and moves
 * CurrentState along: CREATING, STARTING and UPDATING become RUNNING when
 * the runner has joined its consumer group, STOPPING becomes STOPPED when
 * the runner is gone, DELETING ends with the rows deleted. A runner that
 * cannot start leaves CREATE_FAILED, START_FAILED or UPDATE_FAILED with a
 * StateReason until the pipe is started or updated again.
 *
 * Lock order: svc->mu, then a runner's mu (for its last error). Runners
 * never take svc->mu; they wake the supervisor through kick_mu.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipes_internal.h"

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void evb__pipe_kick(evb_pipe_service_t *svc) {
    pthread_mutex_lock(&svc->kick_mu);
    svc->kicked = true;
    pthread_cond_signal(&svc->kick_cv);
    pthread_mutex_unlock(&svc->kick_mu);
}

static evb__pipe_scope_t scope_of(const evb_pipe_service_t *svc) {
    return (evb__pipe_scope_t){svc->account, svc->region,
                               svc->cfg.kafka_target != NULL};
}

static void pipe_free(evb__pipe_t *p) {
    if (!p)
        return;
    free(p->name);
    free(p->arn);
    json_decref(p->def);
    free(p->reason);
    free(p->group_id);
    free(p);
}

static evb__pipe_t *find(evb_pipe_service_t *svc, const char *name) {
    for (evb__pipe_t *p = svc->pipes; p; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static evb__pipe_t *find_arn(evb_pipe_service_t *svc, const char *arn) {
    for (evb__pipe_t *p = svc->pipes; p; p = p->next)
        if (strcmp(p->arn, arn) == 0)
            return p;
    return NULL;
}

static void set_reason(evb__pipe_t *p, const char *reason) {
    free(p->reason);
    p->reason = reason && *reason ? strdup(reason) : NULL;
}

/* ---- store units ------------------------------------------------------------ */

typedef struct row_arg {
    const evb__pipe_t *p;
    const char *spec; /* definition text, or NULL: keep */
    const json_t *tags;
} row_arg_t;

static evb_err_t exec_sql(sqlite3 *db, const char *what, const char *sql,
                          char *errstr, size_t errstr_size) {
    (void)sql;
    return evb_store_sqlerr(db, what, errstr, errstr_size);
}

static evb_err_t put_tags(sqlite3 *db, const char *arn, const json_t *tags,
                          char *errstr, size_t errstr_size) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT OR REPLACE INTO pipe_tags(arn, key, value) "
                           "VALUES (?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return exec_sql(db, "tagging a pipe", NULL, errstr, errstr_size);
    const char *k;
    json_t *v;
    evb_err_t err = EVB_ERR_OK;
    json_object_foreach((json_t *)tags, k, v) {
        sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, k, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, json_string_value(v), -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            err = exec_sql(db, "tagging a pipe", NULL, errstr, errstr_size);
            break;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return err;
}

static evb_err_t insert_row(sqlite3 *db, void *arg, char *errstr,
                            size_t errstr_size) {
    const row_arg_t *a = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO pipes(name, arn, spec, desired_state, "
                           "current_state, state_reason, group_id, "
                           "created_ms, modified_ms) VALUES "
                           "(?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return exec_sql(db, "creating a pipe", NULL, errstr, errstr_size);
    sqlite3_bind_text(st, 1, a->p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->p->arn, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->spec, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->p->desired, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, a->p->current, -1, SQLITE_STATIC);
    sqlite3_bind_null(st, 6);
    sqlite3_bind_text(st, 7, a->p->group_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, a->p->created_ms);
    sqlite3_bind_int64(st, 9, a->p->modified_ms);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return exec_sql(db, "creating a pipe", NULL, errstr, errstr_size);
    /* a pipe of the same name deleted earlier left nothing behind, but
     * make sure no stale progress is picked up */
    if (sqlite3_prepare_v2(db, "DELETE FROM pipe_offsets WHERE pipe = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return exec_sql(db, "creating a pipe", NULL, errstr, errstr_size);
    sqlite3_bind_text(st, 1, a->p->name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return exec_sql(db, "creating a pipe", NULL, errstr, errstr_size);
    return a->tags ? put_tags(db, a->p->arn, a->tags, errstr, errstr_size)
                   : EVB_ERR_OK;
}

static evb_err_t update_row(sqlite3 *db, void *arg, char *errstr,
                            size_t errstr_size) {
    const row_arg_t *a = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "UPDATE pipes SET spec = coalesce(?, spec), "
                           "desired_state = ?, current_state = ?, "
                           "state_reason = ?, modified_ms = ? WHERE name = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return exec_sql(db, "updating a pipe", NULL, errstr, errstr_size);
    if (a->spec)
        sqlite3_bind_text(st, 1, a->spec, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_text(st, 2, a->p->desired, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->p->current, -1, SQLITE_STATIC);
    if (a->p->reason)
        sqlite3_bind_text(st, 4, a->p->reason, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, a->p->modified_ms);
    sqlite3_bind_text(st, 6, a->p->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE
               ? EVB_ERR_OK
               : exec_sql(db, "updating a pipe", NULL, errstr, errstr_size);
}

static evb_err_t delete_rows(sqlite3 *db, void *arg, char *errstr,
                             size_t errstr_size) {
    const evb__pipe_t *p = arg;
    static const char *const sql[] = {
        "DELETE FROM pipes WHERE name = ?1",
        "DELETE FROM pipe_tags WHERE arn = ?2",
        "DELETE FROM pipe_offsets WHERE pipe = ?1",
    };
    for (size_t i = 0; i < EVB_ARRAY_LEN(sql); i++) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK)
            return exec_sql(db, "deleting a pipe", NULL, errstr, errstr_size);
        sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
        if (sqlite3_bind_parameter_count(st) >= 2)
            sqlite3_bind_text(st, 2, p->arn, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return exec_sql(db, "deleting a pipe", NULL, errstr, errstr_size);
    }
    return EVB_ERR_OK;
}

/* Persist p's state (and definition when def_text is set). */
static evb_err_t persist(evb_pipe_service_t *svc, const evb__pipe_t *p,
                         const char *def_text, char *errstr,
                         size_t errstr_size) {
    row_arg_t a = {p, def_text, NULL};
    return evb_store_write(svc->cfg.store, update_row, &a, errstr,
                           errstr_size);
}

/* Move p to state (and reason), in the store and in memory. Used by the
 * supervisor: a store failure is logged, memory still moves. */
static void move(evb_pipe_service_t *svc, evb__pipe_t *p, const char *state,
                 const char *reason) {
    snprintf(p->current, sizeof p->current, "%s", state);
    set_reason(p, reason);
    char err[256];
    if (persist(svc, p, NULL, err, sizeof err))
        fprintf(stderr, "evbus: pipe %s: cannot record state %s: %s\n",
                p->name, state, err);
}

/* ---- loading --------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static evb_err_t load_rows(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    evb_pipe_service_t *svc = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT name, arn, spec, desired_state, "
                           "current_state, state_reason, group_id, "
                           "created_ms, modified_ms FROM pipes ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return exec_sql(db, "loading pipes", NULL, errstr, errstr_size);
    evb_err_t err = EVB_ERR_OK;
    evb__pipe_t **tail = &svc->pipes;
    while (!err && sqlite3_step(st) == SQLITE_ROW) {
        evb__pipe_t *p = calloc(1, sizeof *p);
        const char *spec = (const char *)sqlite3_column_text(st, 2);
        if (p) {
            p->name = strdup((const char *)sqlite3_column_text(st, 0));
            p->arn = strdup((const char *)sqlite3_column_text(st, 1));
            p->def = json_loads(spec ? spec : "{}", 0, NULL);
            snprintf(p->desired, sizeof p->desired, "%s",
                     (const char *)sqlite3_column_text(st, 3));
            snprintf(p->current, sizeof p->current, "%s",
                     (const char *)sqlite3_column_text(st, 4));
            if (sqlite3_column_type(st, 5) != SQLITE_NULL)
                p->reason = strdup((const char *)sqlite3_column_text(st, 5));
            p->group_id = strdup((const char *)sqlite3_column_text(st, 6));
            p->created_ms = sqlite3_column_int64(st, 7);
            p->modified_ms = sqlite3_column_int64(st, 8);
        }
        if (!p || !p->name || !p->arn || !p->def || !p->group_id) {
            pipe_free(p);
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "loading pipes: out of memory");
            break;
        }
        p->generation = 1;
        /* settle what a shutdown or crash interrupted */
        if (strcmp(p->current, "DELETING") == 0)
            p->deleting = true;
        else if (ends_with(p->current, "_FAILED"))
            p->failed_gen = p->generation;
        else if (strcmp(p->desired, "RUNNING") == 0)
            snprintf(p->current, sizeof p->current, "STARTING");
        else
            snprintf(p->current, sizeof p->current, "STOPPING");
        *tail = p;
        tail = &p->next;
        svc->npipes++;
    }
    sqlite3_finalize(st);
    return err;
}

/* ---- the supervisor ---------------------------------------------------------------- */

static void add_stats(evb_pipe_stats_t *a, const evb_pipe_stats_t *b) {
    a->records_in += b->records_in;
    a->records_filtered += b->records_filtered;
    a->records_out += b->records_out;
    a->records_invalid += b->records_invalid;
    a->batches += b->batches;
    a->batch_failures += b->batch_failures;
    a->commits += b->commits;
}

static const char *failed_state(const char *current) {
    if (strcmp(current, "CREATING") == 0)
        return "CREATE_FAILED";
    if (strcmp(current, "UPDATING") == 0)
        return "UPDATE_FAILED";
    return "START_FAILED";
}

/* One pass over every pipe (svc->mu held). */
static void reconcile(evb_pipe_service_t *svc) {
    evb__pipe_scope_t sc = scope_of(svc);
    for (evb__pipe_t **pp = &svc->pipes; *pp;) {
        evb__pipe_t *p = *pp;
        evb__runner_t *r = p->runner;
        if (r && atomic_load(&r->finished)) {
            evb_pipe_stats_t st;
            evb__runner_stats(r, &st);
            add_stats(&p->stats, &st);
            bool failed = atomic_load(&r->failed);
            uint64_t gen = r->generation;
            char reason[512];
            snprintf(reason, sizeof reason, "%s", r->reason);
            evb__runner_join_free(r);
            p->runner = r = NULL;
            if (failed && gen == p->generation && !p->deleting &&
                strcmp(p->desired, "RUNNING") == 0) {
                p->failed_gen = gen;
                move(svc, p, failed_state(p->current), reason);
            }
        }
        bool want = !p->deleting && strcmp(p->desired, "RUNNING") == 0 &&
                    p->failed_gen != p->generation;
        if (r && (!want || r->generation != p->generation))
            evb__runner_request_stop(r);
        if (!r) {
            if (p->deleting) {
                char err[256];
                if (evb_store_write(svc->cfg.store, delete_rows, p, err,
                                    sizeof err)) {
                    fprintf(stderr, "evbus: pipe %s: cannot delete: %s\n",
                            p->name, err);
                    pp = &p->next;
                    continue;
                }
                *pp = p->next;
                svc->npipes--;
                pipe_free(p);
                continue;
            }
            if (want && svc->cfg.no_runners) {
                if (strcmp(p->current, "RUNNING") != 0)
                    move(svc, p, "RUNNING", NULL);
            } else if (want) {
                evb__pipe_spec_t *spec = NULL;
                char err[512];
                evb_err_t e =
                    evb__pipe_spec_compile(&sc, p->def, &spec, err, sizeof err);
                if (!e)
                    e = evb__runner_start(svc, p, spec, &p->runner, err,
                                          sizeof err);
                if (e) {
                    p->failed_gen = p->generation;
                    move(svc, p, failed_state(p->current), err);
                }
            } else if (strcmp(p->desired, "STOPPED") == 0 &&
                       strcmp(p->current, "STOPPED") != 0 &&
                       !ends_with(p->current, "_FAILED")) {
                move(svc, p, "STOPPED", NULL);
            }
        } else if (atomic_load(&r->started) && r->generation == p->generation &&
                   !atomic_load(&r->stop) &&
                   strcmp(p->current, "RUNNING") != 0) {
            move(svc, p, "RUNNING", NULL);
        }
        pp = &p->next;
    }
}

static void *supervisor_main(void *arg) {
    evb_pipe_service_t *svc = arg;
    for (;;) {
        pthread_mutex_lock(&svc->mu);
        reconcile(svc);
        pthread_mutex_unlock(&svc->mu);

        pthread_mutex_lock(&svc->kick_mu);
        if (!svc->kicked && !svc->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 250 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&svc->kick_cv, &svc->kick_mu, &ts);
        }
        svc->kicked = false;
        bool stop = svc->stop;
        pthread_mutex_unlock(&svc->kick_mu);
        if (stop)
            break;
    }
    return NULL;
}

/* ---- open and close ------------------------------------------------------------------ */

evb_err_t evb_pipe_service_open(const evb_pipe_service_config_t *cfg,
                                evb_pipe_service_t **out, char *errstr,
                                size_t errstr_size) {
    *out = NULL;
    if (!cfg || !cfg->store || !cfg->bus)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "the pipe service needs a store and a bus service");
    evb_pipe_service_t *svc = calloc(1, sizeof *svc);
    if (!svc)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    svc->cfg = *cfg;
    snprintf(svc->account, sizeof svc->account, "%s",
             evb_bus_account(cfg->bus));
    snprintf(svc->region, sizeof svc->region, "%s", evb_bus_region(cfg->bus));
    pthread_mutex_init(&svc->mu, NULL);
    pthread_mutex_init(&svc->kick_mu, NULL);
    pthread_cond_init(&svc->kick_cv, NULL);
    bool nomem = false;
    if (cfg->nmsk) {
        svc->msk = calloc(cfg->nmsk, sizeof *svc->msk);
        nomem |= !svc->msk;
        for (size_t i = 0; svc->msk && i < cfg->nmsk; i++) {
            svc->msk[i].arn = strdup(cfg->msk[i].arn);
            svc->msk[i].bootstrap = strdup(cfg->msk[i].bootstrap);
            nomem |= !svc->msk[i].arn || !svc->msk[i].bootstrap;
        }
    }
    if (cfg->nsecrets) {
        svc->secrets = calloc(cfg->nsecrets, sizeof *svc->secrets);
        nomem |= !svc->secrets;
        for (size_t i = 0; svc->secrets && i < cfg->nsecrets; i++) {
            svc->secrets[i].arn = strdup(cfg->secrets[i].arn);
            svc->secrets[i].path = strdup(cfg->secrets[i].path);
            nomem |= !svc->secrets[i].arn || !svc->secrets[i].path;
        }
    }
    if (cfg->nkafka_props) {
        svc->kafka_props = calloc(2 * cfg->nkafka_props, sizeof(char *));
        nomem |= !svc->kafka_props;
        for (size_t i = 0; svc->kafka_props && i < 2 * cfg->nkafka_props; i++)
            nomem |= !(svc->kafka_props[i] = strdup(cfg->kafka_props[i]));
    }
    svc->cfg.msk = svc->msk;
    svc->cfg.secrets = svc->secrets;
    svc->cfg.kafka_props = (const char *const *)svc->kafka_props;
    evb_err_t err = nomem ? evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                                        "out of memory")
                          : evb_store_read(cfg->store, load_rows, svc, errstr,
                                           errstr_size);
    if (!err) {
        if (pthread_create(&svc->supervisor, NULL, supervisor_main, svc) != 0)
            err = evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                              "cannot start the pipe supervisor");
        else
            svc->supervisor_started = true;
    }
    if (err) {
        evb_pipe_service_close(svc);
        return err;
    }
    *out = svc;
    return EVB_ERR_OK;
}

void evb_pipe_service_close(evb_pipe_service_t *svc) {
    if (!svc)
        return;
    if (svc->supervisor_started) {
        pthread_mutex_lock(&svc->kick_mu);
        svc->stop = true;
        pthread_cond_signal(&svc->kick_cv);
        pthread_mutex_unlock(&svc->kick_mu);
        pthread_join(svc->supervisor, NULL);
    }
    /* stop every runner at once, then wait for them */
    for (evb__pipe_t *p = svc->pipes; p; p = p->next)
        if (p->runner)
            evb__runner_request_stop(p->runner);
    while (svc->pipes) {
        evb__pipe_t *p = svc->pipes;
        svc->pipes = p->next;
        evb__runner_join_free(p->runner);
        pipe_free(p);
    }
    for (size_t i = 0; svc->msk && i < svc->cfg.nmsk; i++) {
        free((char *)svc->msk[i].arn);
        free((char *)svc->msk[i].bootstrap);
    }
    free(svc->msk);
    for (size_t i = 0; svc->secrets && i < svc->cfg.nsecrets; i++) {
        free((char *)svc->secrets[i].arn);
        free((char *)svc->secrets[i].path);
    }
    free(svc->secrets);
    for (size_t i = 0; svc->kafka_props && i < 2 * svc->cfg.nkafka_props; i++)
        free(svc->kafka_props[i]);
    free(svc->kafka_props);
    pthread_mutex_destroy(&svc->mu);
    pthread_mutex_destroy(&svc->kick_mu);
    pthread_cond_destroy(&svc->kick_cv);
    free(svc);
}

/* ---- answers ----------------------------------------------------------------------------- */

static json_t *epoch(int64_t ms) {
    return ms % 1000 ? json_real((double)ms / 1000.0)
                     : json_integer(ms / 1000);
}

static const char *shown_desired(const evb__pipe_t *p) {
    return p->deleting ? "DELETED" : p->desired;
}

/* {Arn, Name, DesiredState, CurrentState, CreationTime, LastModifiedTime} */
static json_t *summary(const evb__pipe_t *p) {
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "Arn", json_string(p->arn));
    json_object_set_new(o, "Name", json_string(p->name));
    json_object_set_new(o, "DesiredState", json_string(shown_desired(p)));
    json_object_set_new(o, "CurrentState", json_string(p->current));
    json_object_set_new(o, "CreationTime", epoch(p->created_ms));
    json_object_set_new(o, "LastModifiedTime", epoch(p->modified_ms));
    return o;
}

/* StateReason: the stored one, or what the runner's last batch hit. */
static char *reason_of(const evb__pipe_t *p) {
    if (p->reason)
        return strdup(p->reason);
    if (!p->runner)
        return NULL;
    char *s = NULL;
    pthread_mutex_lock(&p->runner->mu);
    if (p->runner->last_error[0])
        s = strdup(p->runner->last_error);
    pthread_mutex_unlock(&p->runner->mu);
    return s;
}

typedef struct tags_arg {
    const char *arn;
    json_t *tags;
} tags_arg_t;

static evb_err_t read_tags(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    tags_arg_t *a = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT key, value FROM pipe_tags WHERE arn = ? "
                           "ORDER BY key",
                           -1, &st, NULL) != SQLITE_OK)
        return exec_sql(db, "reading tags", NULL, errstr, errstr_size);
    sqlite3_bind_text(st, 1, a->arn, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW)
        json_object_set_new(a->tags, (const char *)sqlite3_column_text(st, 0),
                            json_string((const char *)sqlite3_column_text(
                                st, 1)));
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

static evb_err_t not_found(const char *name, char *errstr,
                           size_t errstr_size) {
    return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                       "Pipe %s does not exist.", name);
}

static bool busy(const evb__pipe_t *p) {
    return strcmp(p->current, "CREATING") == 0 ||
           strcmp(p->current, "UPDATING") == 0 ||
           strcmp(p->current, "DELETING") == 0;
}

static evb_err_t conflict(const evb__pipe_t *p, char *errstr,
                          size_t errstr_size) {
    return evb_err_set(EVB_ERR_CONCURRENT_MODIFICATION, errstr, errstr_size,
                       "Pipe %s is in state %s; try again when the change "
                       "in progress has finished.",
                       p->name, p->current);
}

/* ---- control calls ------------------------------------------------------------------------ */

evb_err_t evb_pipe_create(evb_pipe_service_t *svc, const char *name,
                          const json_t *req, json_t **resp, char *errstr,
                          size_t errstr_size) {
    *resp = NULL;
    evb__pipe_scope_t sc = scope_of(svc);
    json_t *def = NULL;
    const char *desired;
    evb_err_t err = evb__pipe_validate_create(&sc, name, req, &def, &desired,
                                              errstr, errstr_size);
    if (err)
        return err;
    char *text = json_dumps(def, JSON_COMPACT | JSON_PRESERVE_ORDER);
    evb__pipe_t *p = calloc(1, sizeof *p);
    char uuid[37];
    if (!text || !p || evb_uuid_v4(uuid)) {
        free(text);
        free(p);
        json_decref(def);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    char arn[256], group[64];
    snprintf(arn, sizeof arn, "arn:aws:pipes:%s:%s:pipe/%s", svc->region,
             svc->account, name);
    snprintf(group, sizeof group, "evbus-pipe-%s", uuid);
    p->name = strdup(name);
    p->arn = strdup(arn);
    p->group_id = strdup(group);
    p->def = def;
    snprintf(p->desired, sizeof p->desired, "%s", desired);
    snprintf(p->current, sizeof p->current, "CREATING");
    p->created_ms = p->modified_ms = wall_ms();
    p->generation = 1;
    if (!p->name || !p->arn || !p->group_id) {
        free(text);
        pipe_free(p);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    pthread_mutex_lock(&svc->mu);
    unsigned max = svc->cfg.max_pipes ? svc->cfg.max_pipes : 1000;
    if (find(svc, name))
        err = evb_err_set(EVB_ERR_EXISTS, errstr, errstr_size,
                          "Pipe %s already exists.", name);
    else if (svc->npipes >= max)
        err = evb_err_set(EVB_ERR_LIMIT_EXCEEDED, errstr, errstr_size,
                          "Maximum number of pipes (%u) reached.", max);
    if (!err) {
        const json_t *tags = json_object_get(req, "Tags");
        row_arg_t a = {p, text, json_is_object(tags) ? tags : NULL};
        err = evb_store_write(svc->cfg.store, insert_row, &a, errstr,
                              errstr_size);
    }
    if (!err) {
        *resp = summary(p);
        p->next = svc->pipes;
        svc->pipes = p;
        svc->npipes++;
        p = NULL;
    }
    pthread_mutex_unlock(&svc->mu);
    free(text);
    pipe_free(p);
    if (!err) {
        evb__pipe_kick(svc);
        if (!*resp)
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "out of memory");
    }
    return err;
}

evb_err_t evb_pipe_update(evb_pipe_service_t *svc, const char *name,
                          const json_t *req, json_t **resp, char *errstr,
                          size_t errstr_size) {
    *resp = NULL;
    evb__pipe_scope_t sc = scope_of(svc);
    pthread_mutex_lock(&svc->mu);
    evb__pipe_t *p = find(svc, name);
    evb_err_t err = EVB_ERR_OK;
    json_t *def = NULL;
    const char *desired = NULL;
    char *text = NULL;
    if (!p)
        err = not_found(name, errstr, errstr_size);
    else if (busy(p))
        err = conflict(p, errstr, errstr_size);
    if (!err)
        err = evb__pipe_validate_update(&sc, name, p->def, req, &def, &desired,
                                        errstr, errstr_size);
    if (!err && !(text = json_dumps(def, JSON_COMPACT | JSON_PRESERVE_ORDER)))
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                          "out of memory");
    if (!err) {
        evb__pipe_t saved = *p;
        if (desired)
            snprintf(p->desired, sizeof p->desired, "%s", desired);
        snprintf(p->current, sizeof p->current, "UPDATING");
        char *old_reason = p->reason;
        p->reason = NULL;
        p->modified_ms = wall_ms();
        err = persist(svc, p, text, errstr, errstr_size);
        if (err) { /* memory as it was */
            memcpy(p->desired, saved.desired, sizeof p->desired);
            memcpy(p->current, saved.current, sizeof p->current);
            p->reason = old_reason;
            p->modified_ms = saved.modified_ms;
        } else {
            free(old_reason);
            json_decref(p->def);
            p->def = def;
            def = NULL;
            p->generation++;
            *resp = summary(p);
        }
    }
    pthread_mutex_unlock(&svc->mu);
    json_decref(def);
    free(text);
    if (!err) {
        evb__pipe_kick(svc);
        if (!*resp)
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "out of memory");
    }
    return err;
}

/* Start or stop. */
static evb_err_t set_desired(evb_pipe_service_t *svc, const char *name,
                             bool run, json_t **resp, char *errstr,
                             size_t errstr_size) {
    *resp = NULL;
    pthread_mutex_lock(&svc->mu);
    evb__pipe_t *p = find(svc, name);
    evb_err_t err = EVB_ERR_OK;
    if (!p)
        err = not_found(name, errstr, errstr_size);
    else if (busy(p) || strcmp(p->current, run ? "STOPPING" : "STARTING") == 0)
        err = conflict(p, errstr, errstr_size);
    if (!err) {
        evb__pipe_t saved = *p;
        char *old_reason = p->reason;
        bool change = false;
        if (run && strcmp(p->current, "RUNNING") != 0 &&
            strcmp(p->current, "STARTING") != 0) {
            snprintf(p->current, sizeof p->current, "STARTING");
            p->reason = NULL;
            p->generation++; /* a failed start is tried again */
            change = true;
        } else if (!run && strcmp(p->current, "STOPPED") != 0 &&
                   strcmp(p->current, "STOPPING") != 0) {
            snprintf(p->current, sizeof p->current, "STOPPING");
            p->reason = NULL;
            change = true;
        }
        const char *want = run ? "RUNNING" : "STOPPED";
        if (strcmp(p->desired, want) != 0)
            change = true;
        snprintf(p->desired, sizeof p->desired, "%s", want);
        if (change) {
            p->modified_ms = wall_ms();
            err = persist(svc, p, NULL, errstr, errstr_size);
        }
        if (err) {
            memcpy(p->desired, saved.desired, sizeof p->desired);
            memcpy(p->current, saved.current, sizeof p->current);
            p->reason = old_reason;
            p->modified_ms = saved.modified_ms;
            p->generation = saved.generation;
        } else {
            if (p->reason != old_reason)
                free(old_reason);
            *resp = summary(p);
        }
    }
    pthread_mutex_unlock(&svc->mu);
    if (!err) {
        evb__pipe_kick(svc);
        if (!*resp)
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "out of memory");
    }
    return err;
}

evb_err_t evb_pipe_start(evb_pipe_service_t *svc, const char *name,
                         json_t **resp, char *errstr, size_t errstr_size) {
    return set_desired(svc, name, true, resp, errstr, errstr_size);
}

evb_err_t evb_pipe_stop(evb_pipe_service_t *svc, const char *name,
                        json_t **resp, char *errstr, size_t errstr_size) {
    return set_desired(svc, name, false, resp, errstr, errstr_size);
}

evb_err_t evb_pipe_delete(evb_pipe_service_t *svc, const char *name,
                          json_t **resp, char *errstr, size_t errstr_size) {
    *resp = NULL;
    pthread_mutex_lock(&svc->mu);
    evb__pipe_t *p = find(svc, name);
    evb_err_t err = EVB_ERR_OK;
    if (!p)
        err = not_found(name, errstr, errstr_size);
    else if (p->deleting)
        err = conflict(p, errstr, errstr_size);
    if (!err) {
        char saved[32];
        memcpy(saved, p->current, sizeof saved);
        snprintf(p->current, sizeof p->current, "DELETING");
        err = persist(svc, p, NULL, errstr, errstr_size);
        if (err) {
            memcpy(p->current, saved, sizeof saved);
        } else {
            p->deleting = true;
            *resp = summary(p);
        }
    }
    pthread_mutex_unlock(&svc->mu);
    if (!err) {
        evb__pipe_kick(svc);
        if (!*resp)
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "out of memory");
    }
    return err;
}

evb_err_t evb_pipe_describe(evb_pipe_service_t *svc, const char *name,
                            json_t **resp, char *errstr, size_t errstr_size) {
    *resp = NULL;
    pthread_mutex_lock(&svc->mu);
    evb__pipe_t *p = find(svc, name);
    if (!p) {
        pthread_mutex_unlock(&svc->mu);
        return not_found(name, errstr, errstr_size);
    }
    json_t *o = json_object();
    json_t *tags = json_object();
    char *arn = strdup(p->arn);
    if (o && tags && arn) {
        json_object_set_new(o, "Arn", json_string(p->arn));
        json_object_set_new(o, "Name", json_string(p->name));
        static const char *const order[] = {"Description", NULL};
        for (size_t i = 0; order[i]; i++)
            if (json_object_get(p->def, order[i]))
                json_object_set(o, order[i], json_object_get(p->def, order[i]));
        json_object_set_new(o, "DesiredState", json_string(shown_desired(p)));
        json_object_set_new(o, "CurrentState", json_string(p->current));
        char *reason = reason_of(p);
        if (reason)
            json_object_set_new(o, "StateReason", json_string(reason));
        free(reason);
        static const char *const rest[] = {
            "Source", "SourceParameters", "Enrichment",
            "EnrichmentParameters", "Target", "TargetParameters", "RoleArn",
            NULL};
        for (size_t i = 0; rest[i]; i++)
            if (json_object_get(p->def, rest[i]))
                json_object_set_new(
                    o, rest[i], json_deep_copy(json_object_get(p->def, rest[i])));
        json_object_set_new(o, "CreationTime", epoch(p->created_ms));
        json_object_set_new(o, "LastModifiedTime", epoch(p->modified_ms));
        static const char *const tail[] = {"LogConfiguration",
                                           "KmsKeyIdentifier", NULL};
        for (size_t i = 0; tail[i]; i++)
            if (json_object_get(p->def, tail[i]))
                json_object_set_new(
                    o, tail[i], json_deep_copy(json_object_get(p->def, tail[i])));
    }
    pthread_mutex_unlock(&svc->mu);
    if (!o || !tags || !arn) {
        json_decref(o);
        json_decref(tags);
        free(arn);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    tags_arg_t ta = {arn, tags};
    evb_err_t err =
        evb_store_read(svc->cfg.store, read_tags, &ta, errstr, errstr_size);
    free(arn);
    if (err) {
        json_decref(o);
        json_decref(tags);
        return err;
    }
    if (json_object_size(tags))
        json_object_set_new(o, "Tags", tags);
    else
        json_decref(tags);
    *resp = o;
    return EVB_ERR_OK;
}

/* NextToken: hex of the last name returned. */
static void hex(const char *s, char *out, size_t out_size) {
    size_t n = 0;
    for (; *s && n + 3 <= out_size; s++, n += 2)
        snprintf(out + n, 3, "%02x", (unsigned char)*s);
    out[n] = '\0';
}

static bool unhex(const char *s, char *out, size_t out_size) {
    size_t n = strlen(s);
    if (n % 2 || n / 2 >= out_size)
        return false;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = (char)v;
    }
    out[n / 2] = '\0';
    return true;
}

static bool prefixed(const char *s, const char *prefix) {
    return !prefix || strncmp(s ? s : "", prefix, strlen(prefix)) == 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(evb__pipe_t *const *)a)->name,
                  (*(evb__pipe_t *const *)b)->name);
}

evb_err_t evb_pipe_list(evb_pipe_service_t *svc, const evb_pipe_list_query_t *q,
                        json_t **resp, char *errstr, size_t errstr_size) {
    *resp = NULL;
    char after[128] = "";
    if (q->next_token && !unhex(q->next_token, after, sizeof after))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "The NextToken is not valid.");
    unsigned limit = q->limit ? q->limit : 100;
    json_t *o = json_object(), *list = json_array();
    if (!o || !list) {
        json_decref(o);
        json_decref(list);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    pthread_mutex_lock(&svc->mu);
    evb__pipe_t **all = svc->npipes ? calloc(svc->npipes, sizeof *all) : NULL;
    size_t n = 0;
    for (evb__pipe_t *p = svc->pipes; all && p; p = p->next)
        all[n++] = p;
    if (n)
        qsort(all, n, sizeof *all, by_name);
    char last[128] = "";
    bool more = false;
    for (size_t i = 0; i < n; i++) {
        const evb__pipe_t *p = all[i];
        if (after[0] && strcmp(p->name, after) <= 0)
            continue;
        const char *src = json_string_value(json_object_get(p->def, "Source"));
        const char *tgt = json_string_value(json_object_get(p->def, "Target"));
        if (!prefixed(p->name, q->name_prefix) ||
            (q->desired_state &&
             strcmp(shown_desired(p), q->desired_state) != 0) ||
            (q->current_state && strcmp(p->current, q->current_state) != 0) ||
            !prefixed(src, q->source_prefix) || !prefixed(tgt, q->target_prefix))
            continue;
        if (json_array_size(list) == limit) {
            more = true;
            break;
        }
        json_t *it = json_object();
        if (!it)
            break;
        json_object_set_new(it, "Name", json_string(p->name));
        json_object_set_new(it, "Arn", json_string(p->arn));
        json_object_set_new(it, "DesiredState", json_string(shown_desired(p)));
        json_object_set_new(it, "CurrentState", json_string(p->current));
        char *reason = reason_of(p);
        if (reason)
            json_object_set_new(it, "StateReason", json_string(reason));
        free(reason);
        json_object_set_new(it, "CreationTime", epoch(p->created_ms));
        json_object_set_new(it, "LastModifiedTime", epoch(p->modified_ms));
        if (src)
            json_object_set_new(it, "Source", json_string(src));
        if (tgt)
            json_object_set_new(it, "Target", json_string(tgt));
        const char *enr =
            json_string_value(json_object_get(p->def, "Enrichment"));
        if (enr)
            json_object_set_new(it, "Enrichment", json_string(enr));
        json_array_append_new(list, it);
        snprintf(last, sizeof last, "%s", p->name);
    }
    pthread_mutex_unlock(&svc->mu);
    free(all);
    json_object_set_new(o, "Pipes", list);
    if (more) {
        char tok[260];
        hex(last, tok, sizeof tok);
        json_object_set_new(o, "NextToken", json_string(tok));
    }
    *resp = o;
    return EVB_ERR_OK;
}

/* ---- tags ---------------------------------------------------------------------------------------- */

typedef struct untag_arg {
    const char *arn;
    const char *const *keys;
    size_t n;
} untag_arg_t;

static evb_err_t tag_unit(sqlite3 *db, void *arg, char *errstr,
                          size_t errstr_size) {
    const tags_arg_t *a = arg;
    evb_err_t err = put_tags(db, a->arn, a->tags, errstr, errstr_size);
    if (err)
        return err;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pipe_tags WHERE arn = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return exec_sql(db, "tagging a pipe", NULL, errstr, errstr_size);
    sqlite3_bind_text(st, 1, a->arn, -1, SQLITE_STATIC);
    int count = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (count > 50)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "A pipe can have at most 50 tags.");
    return EVB_ERR_OK;
}

static evb_err_t untag_unit(sqlite3 *db, void *arg, char *errstr,
                            size_t errstr_size) {
    const untag_arg_t *a = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "DELETE FROM pipe_tags WHERE arn = ? AND key = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return exec_sql(db, "untagging a pipe", NULL, errstr, errstr_size);
    evb_err_t err = EVB_ERR_OK;
    for (size_t i = 0; i < a->n && !err; i++) {
        sqlite3_bind_text(st, 1, a->arn, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, a->keys[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            err = exec_sql(db, "untagging a pipe", NULL, errstr, errstr_size);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return err;
}

static evb_err_t pipe_by_arn(evb_pipe_service_t *svc, const char *arn,
                             char *errstr, size_t errstr_size) {
    pthread_mutex_lock(&svc->mu);
    evb__pipe_t *p = find_arn(svc, arn);
    bool ok = p && !p->deleting;
    pthread_mutex_unlock(&svc->mu);
    return ok ? EVB_ERR_OK
              : evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                            "Resource %s does not exist.", arn);
}

evb_err_t evb_pipe_tag(evb_pipe_service_t *svc, const char *arn,
                       const json_t *tags, char *errstr, size_t errstr_size) {
    evb_err_t err = evb__pipe_validate_tags(tags, "tags", errstr, errstr_size);
    if (!err)
        err = pipe_by_arn(svc, arn, errstr, errstr_size);
    if (err)
        return err;
    tags_arg_t a = {arn, (json_t *)tags};
    return evb_store_write(svc->cfg.store, tag_unit, &a, errstr, errstr_size);
}

evb_err_t evb_pipe_untag(evb_pipe_service_t *svc, const char *arn,
                         const char *const *keys, size_t n, char *errstr,
                         size_t errstr_size) {
    if (n > 50)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "1 validation error detected: Value at 'tagKeys' "
                           "failed to satisfy constraint: Member must have "
                           "length less than or equal to 50");
    evb_err_t err = pipe_by_arn(svc, arn, errstr, errstr_size);
    if (err)
        return err;
    untag_arg_t a = {arn, keys, n};
    return evb_store_write(svc->cfg.store, untag_unit, &a, errstr,
                           errstr_size);
}

evb_err_t evb_pipe_list_tags(evb_pipe_service_t *svc, const char *arn,
                             json_t **resp, char *errstr, size_t errstr_size) {
    *resp = NULL;
    evb_err_t err = pipe_by_arn(svc, arn, errstr, errstr_size);
    if (err)
        return err;
    json_t *tags = json_object(), *o = json_object();
    if (!tags || !o) {
        json_decref(tags);
        json_decref(o);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    tags_arg_t a = {arn, tags};
    err = evb_store_read(svc->cfg.store, read_tags, &a, errstr, errstr_size);
    if (err) {
        json_decref(tags);
        json_decref(o);
        return err;
    }
    json_object_set_new(o, "tags", tags);
    *resp = o;
    return EVB_ERR_OK;
}

/* ---- observing ------------------------------------------------------------------------------------- */

evb_err_t evb_pipe_get_stats(evb_pipe_service_t *svc, const char *name,
                             evb_pipe_stats_t *out) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&svc->mu);
    evb__pipe_t *p = find(svc, name);
    if (p) {
        *out = p->stats;
        if (p->runner) {
            evb_pipe_stats_t st;
            evb__runner_stats(p->runner, &st);
            add_stats(out, &st);
        }
    }
    pthread_mutex_unlock(&svc->mu);
    return p ? EVB_ERR_OK : EVB_ERR_NOT_FOUND;
}

evb_err_t evb_pipe_describe_source_config(evb_pipe_service_t *svc,
                                          const char *name, evb_buf_t *out,
                                          char *errstr, size_t errstr_size) {
    evb__pipe_scope_t sc = scope_of(svc);
    pthread_mutex_lock(&svc->mu);
    evb__pipe_t *p = find(svc, name);
    evb__pipe_spec_t *spec = NULL;
    char group[128] = "";
    evb_err_t err = p ? evb__pipe_spec_compile(&sc, p->def, &spec, errstr,
                                               errstr_size)
                      : not_found(name, errstr, errstr_size);
    if (p)
        snprintf(group, sizeof group, "%s", p->group_id);
    pthread_mutex_unlock(&svc->mu);
    if (err)
        return err;
    char *bootstrap = NULL;
    char **props = NULL;
    size_t n = 0;
    err = evb__pipe_source_props(svc, spec, true, &bootstrap, &props, &n,
                                 errstr, errstr_size);
    if (!err) {
        evb_buf_appendf(out, "bootstrap.servers=%s\ngroup.id=%s\n", bootstrap,
                        spec->group_id ? spec->group_id : group);
        for (size_t i = 0; i < n; i++)
            evb_buf_appendf(out, "%s=%s\n", props[2 * i], props[2 * i + 1]);
    }
    free(bootstrap);
    evb__free_props(props, 2 * n);
    evb__pipe_spec_free(spec);
    return err;
}
