/*
 * target_logs.c: CloudWatch Logs log groups as targets.
 *
 * The log event is computed with the target's input options (reference
 * §3.4: the payload is the message and the event's time the timestamp;
 * with an InputTransformer the template yields {"timestamp", "message"})
 * and stored in this store's log tables, which the Logs API serves. Each
 * event goes to a log stream named after the event id. A log group that
 * does not exist yet is created by the first delivery to it (evbus's
 * choice; AWS requires it to exist).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../transform/transform.h"
#include "delivery_internal.h"

/* arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*] -> NAME */
static char *group_name(const char *arn) {
    const char *p = strstr(arn, ":log-group:");
    if (!p)
        return NULL;
    p += strlen(":log-group:");
    size_t n = strlen(p);
    if (n >= 2 && strcmp(p + n - 2, ":*") == 0)
        n -= 2;
    if (n == 0)
        return NULL;
    char *g = malloc(n + 1);
    if (g) {
        memcpy(g, p, n);
        g[n] = '\0';
    }
    return g;
}

void evb__target_logs(evb_bus_service_t *svc, const due_t *d,
                      const evb_target_ref_t *t, outcome_t *o) {
    (void)svc;
    o->kind = OUT_DROPPED;
    char *group = group_name(t->arn);
    if (!group)
        return;
    evb_transform_t *own = NULL;
    const evb_transform_t *tf = d->ct ? d->ct->tf : NULL;
    char err[256];
    if (!tf && (d->ct || evb_transform_compile_json(t->spec, strlen(t->spec), 1,
                                                    &own, err, sizeof err))) {
        free(group);
        return;
    }
    if (!tf)
        tf = own;
    char ingest[32];
    time_t secs = (time_t)(d->ingested_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(ingest, sizeof ingest, "%Y-%m-%dT%H:%M:%SZ", &tm);
    evb_transform_vars_t vars = {t->rule_arn, t->rule_name, ingest};
    evb_buf_t msg;
    evb_buf_init(&msg, 0);
    int64_t ts = 0;
    evb_err_t e = evb_transform_log_message(tf, d->body, d->body_len, &vars,
                                            &msg, &ts, err, sizeof err);
    evb_transform_free(own);
    if (e) {
        o->invalid_output = e == EVB_TRANSFORM_ERR_UNDELIVERABLE;
        evb_buf_free(&msg);
        free(group);
        return;
    }
    o->log.group = group;
    o->log.stream = evb__strdup_delivery(d->event_id);
    o->log.message = msg.data ? msg.data : evb__strdup_delivery("");
    o->log.ts_ms = ts;
    if (!o->log.stream || !o->log.message) {
        evb__outcome_free(o);
        o->kind = OUT_DROPPED;
        return;
    }
    o->kind = OUT_DONE;
}

evb_err_t evb__logs_write(sqlite3 *db, const char *account,
                          const char *region, const log_write_t *w,
                          bool ensure_group, int64_t now_ms, char *errstr,
                          size_t errstr_size) {
    /* both statements come from the connection's cache: this runs once
     * per delivered event */
    sqlite3_stmt *st;
    int rc;
    if (ensure_group) {
        char arn[1200];
        snprintf(arn, sizeof arn, "arn:aws:logs:%s:%s:log-group:%s:*",
                 region, account, w->group);
        st = evb_store_stmt(db, "INSERT OR IGNORE INTO "
                                "log_groups(name, arn, created_ms) "
                                "VALUES (?,?,?)");
        if (!st)
            return evb_store_sqlerr(db, "creating a log group", errstr,
                                    errstr_size);
        sqlite3_bind_text(st, 1, w->group, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, arn, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now_ms);
        rc = sqlite3_step(st);
        evb_store_stmt_done(st);
        if (rc != SQLITE_DONE)
            return evb_store_sqlerr(db, "creating a log group", errstr,
                                    errstr_size);
    }
    st = evb_store_stmt(db, "INSERT INTO log_events(grp, stream, ts_ms, "
                            "ingested_ms, message) VALUES (?,?,?,?,?)");
    if (!st)
        return evb_store_sqlerr(db, "writing a log event", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, w->group, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, w->ts_ms);
    sqlite3_bind_int64(st, 4, now_ms);
    sqlite3_bind_text(st, 5, w->message, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    evb_store_stmt_done(st);
    if (rc != SQLITE_DONE)
        return evb_store_sqlerr(db, "writing a log event", errstr,
                                errstr_size);
    return EVB_ERR_OK;
}
