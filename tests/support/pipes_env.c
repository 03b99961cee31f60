/* pipes_env.c: see pipes_env.h. */
#include "pipes_env.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void evb_test_sleep_ms(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* librdkafka's mock cluster waits session.timeout.ms - 1 s before a group
 * that a member left takes a new member (and it must be over the 3 s it
 * waits for the first members of a group): 4 s */
static const char *const test_props[] = {"session.timeout.ms", "4000",
                                         "heartbeat.interval.ms", "500"};

int evb_test_pipes_open(evb_test_pipes_t *e, evb_pipe_kafka_target_fn kt,
                        void *kt_ud) {
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/evb-pipes-XXXXXX");
    if (!mkdtemp(e->dir))
        return -1;
    char err[512];
    evb_store_opts_t o = {.dir = e->dir, .no_sync = true};
    if (evb_store_open(&o, &e->store, err, sizeof err) ||
        evb_bus_service_open(NULL, e->store, &e->bus, err, sizeof err) ||
        evb_queue_service_new(e->store, "us-east-1", "000000000000",
                              &e->queues) != EVB_QUEUE_ERR_OK) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    evb_apidest_scope_t sc = {e->store, "000000000000", "us-east-1"};
    if (evb_apidest_invoker_new(&sc, NULL, &e->inv, err, sizeof err))
        return -1;
    evb_delivery_config_t dc = {.queues = e->queues, .invoker = e->inv,
                                .poll_ms = 50};
    if (evb_delivery_new(&dc, e->store, e->bus, true, &e->dv, err, sizeof err))
        return -1;
    e->kafka = evb_test_kafka_start();
    if (!e->kafka)
        return -1;
    e->pcfg = (evb_pipe_service_config_t){
        .store = e->store,
        .bus = e->bus,
        .delivery = e->dv,
        .queues = e->queues,
        .invoker = e->inv,
        .kafka_target = kt,
        .kafka_target_ud = kt_ud,
        .retry_initial_ms = 50,
        .retry_max_ms = 400,
        .kafka_props = test_props,
        .nkafka_props = 2,
    };
    if (evb_pipe_service_open(&e->pcfg, &e->pipes, err, sizeof err)) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    return 0;
}

int evb_test_pipes_reopen(evb_test_pipes_t *e) {
    evb_pipe_service_close(e->pipes);
    e->pipes = NULL;
    char err[512];
    if (evb_pipe_service_open(&e->pcfg, &e->pipes, err, sizeof err)) {
        fprintf(stderr, "reopen: %s\n", err);
        return -1;
    }
    return 0;
}

void evb_test_pipes_close(evb_test_pipes_t *e) {
    evb_pipe_service_close(e->pipes);
    evb_delivery_free(e->dv);
    evb_apidest_invoker_free(e->inv);
    evb_queue_service_free(e->queues);
    evb_bus_service_close(e->bus);
    evb_store_close(e->store);
    evb_test_kafka_stop(e->kafka);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", e->dir);
}

int evb_test_pipe_create(evb_test_pipes_t *e, const char *name,
                         const char *fmt, ...) {
    char body[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    json_error_t je;
    json_t *req = json_loads(body, 0, &je);
    if (!req) {
        fprintf(stderr, "create %s: bad JSON: %s\n%s\n", name, je.text, body);
        return -1;
    }
    json_t *resp = NULL;
    char err[2048];
    evb_err_t rc =
        evb_pipe_create(e->pipes, name, req, &resp, err, sizeof err);
    json_decref(req);
    json_decref(resp);
    if (rc)
        fprintf(stderr, "create %s: %s\n", name, err);
    return rc ? -1 : 0;
}

bool evb_test_pipe_wait_state(evb_test_pipes_t *e, const char *name,
                              const char *state, unsigned timeout_ms) {
    for (unsigned t = 0; t <= timeout_ms; t += 50) {
        json_t *d = NULL;
        char err[512];
        if (evb_pipe_describe(e->pipes, name, &d, err, sizeof err) == 0) {
            const char *s =
                json_string_value(json_object_get(d, "CurrentState"));
            bool ok = s && strcmp(s, state) == 0;
            json_decref(d);
            if (ok)
                return true;
        } else if (strcmp(state, "GONE") == 0) {
            return true;
        }
        evb_test_sleep_ms(50);
    }
    return false;
}

typedef struct logs_q {
    const char *group;
    char **v;
    size_t n;
} logs_q_t;

static evb_err_t read_logs(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    (void)errstr;
    (void)errstr_size;
    logs_q_t *q = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT message FROM log_events WHERE grp = ? "
                           "ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return EVB_ERR_IO;
    sqlite3_bind_text(st, 1, q->group, -1, SQLITE_STATIC);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (q->n + 1 >= cap) {
            cap = cap ? cap * 2 : 64;
            q->v = realloc(q->v, cap * sizeof *q->v);
        }
        q->v[q->n++] = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

char **evb_test_log_messages(evb_test_pipes_t *e, const char *group,
                             size_t *n) {
    logs_q_t q = {group, NULL, 0};
    char err[256];
    evb_store_read(e->store, read_logs, &q, err, sizeof err);
    if (!q.v)
        q.v = calloc(1, sizeof *q.v);
    else
        q.v[q.n] = NULL;
    *n = q.n;
    return q.v;
}

void evb_test_free_strings(char **v) {
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

size_t evb_test_wait_logs(evb_test_pipes_t *e, const char *group, size_t n,
                          unsigned timeout_ms) {
    size_t have = 0;
    for (unsigned t = 0; t <= timeout_ms; t += 50) {
        char **v = evb_test_log_messages(e, group, &have);
        evb_test_free_strings(v);
        if (have >= n)
            break;
        evb_test_sleep_ms(50);
    }
    return have;
}

typedef struct int_q {
    const char *sql;
    long long v;
} int_q_t;

static evb_err_t read_int(sqlite3 *db, void *arg, char *errstr,
                          size_t errstr_size) {
    (void)errstr;
    (void)errstr_size;
    int_q_t *q = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, q->sql, -1, &st, NULL) != SQLITE_OK)
        return EVB_ERR_IO;
    q->v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return EVB_ERR_OK;
}

long long evb_test_sql_int(evb_test_pipes_t *e, const char *sql) {
    int_q_t q = {sql, -1};
    char err[256];
    evb_store_read(e->store, read_int, &q, err, sizeof err);
    return q.v;
}
