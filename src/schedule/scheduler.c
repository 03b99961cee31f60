/*
 * scheduler.c: the thread that fires scheduled rules.
 *
 * State machine of one rule, kept in schedule_state(bus, rule,
 * next_fire_ms), the only durable state:
 *
 *   no row ---(enabled rule seen)---> row = next(now)
 *   row, next_fire_ms + offset <= now ---(fire)---> row = next(F)
 *   row, rule disabled, deleted or unparsable ---> no row
 *   row not a firing time of the current expression (PutRule changed
 *   it) ---> row = next(now)
 *
 * A firing is one store unit: it checks the row still holds the time it
 * is about to fire, calls the caller's fire function with the unit's db
 * (which commits the event and its deliveries), and moves the row to the
 * next time. Both happen or neither does, so a crash at any point neither
 * loses nor repeats a firing. F is the most recent firing time that is
 * due: a scheduler that was down across several firing times fires once,
 * for the latest, as a cron daemon catching up would not flood targets.
 *
 * Passes are serialised (pass_lock). The thread sleeps on a condition
 * variable (CLOCK_MONOTONIC) until the earliest due time, at most
 * max_sleep_ms, or until kicked or stopped. The wall clock comes from the
 * config (tests inject a fake one) and is read once per decision.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schedule.h"

#define SCH_MINUTE_MS INT64_C(60000)
#define SCH_RETRY_MS 1000
#define SCH_DEFAULT_OFFSET_MS 1000
#define SCH_MAX_OFFSET_MS 59000
#define SCH_DEFAULT_MAX_SLEEP_MS 60000

/* A listed rule, copied. */
typedef struct sch_rule {
    evb_schedule_rule_t r;
    evb_schedule_t *sched; /* NULL if the expression does not parse */
    bool reset;            /* this pass gave it a new row (in the future) */
} sch_rule_t;

typedef struct sch_rules {
    sch_rule_t *v;
    size_t n, cap;
} sch_rules_t;

/* A schedule_state row. */
typedef struct sch_row {
    char *bus, *rule;
    int64_t next_ms;
    bool seen; /* a listed, enabled rule owns it */
} sch_row_t;

typedef struct sch_rows {
    sch_row_t *v;
    size_t n, cap;
} sch_rows_t;

struct evb_scheduler {
    evb_scheduler_config_t cfg;
    char *account, *region;
    int64_t offset_ms;
    pthread_mutex_t pass_lock; /* one pass at a time */
    pthread_mutex_t lock;      /* the fields below */
    pthread_cond_t cond;
    bool running, stopping, kicked;
    pthread_t thread;
    evb_scheduler_stats_t stats;
};

/* ---- small helpers ----------------------------------------------------- */

static int64_t sch_now(const evb_scheduler_t *s) {
    if (s->cfg.clock)
        return s->cfg.clock(s->cfg.ud);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sch_stat_add(evb_scheduler_t *s, uint64_t *field, uint64_t n) {
    pthread_mutex_lock(&s->lock);
    *field += n;
    pthread_mutex_unlock(&s->lock);
}

static char *sch_strdup(const char *p) {
    size_t n = strlen(p) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, p, n) : NULL;
}

static void sch_rules_free(sch_rules_t *rs) {
    for (size_t i = 0; i < rs->n; i++) {
        free((char *)rs->v[i].r.bus);
        free((char *)rs->v[i].r.name);
        free((char *)rs->v[i].r.arn);
        free((char *)rs->v[i].r.expression);
        evb_schedule_free(rs->v[i].sched);
    }
    free(rs->v);
    memset(rs, 0, sizeof *rs);
}

static void sch_rows_free(sch_rows_t *rows) {
    for (size_t i = 0; i < rows->n; i++) {
        free(rows->v[i].bus);
        free(rows->v[i].rule);
    }
    free(rows->v);
    memset(rows, 0, sizeof *rows);
}

static evb_err_t sch_visit(void *arg, const evb_schedule_rule_t *rule) {
    sch_rules_t *rs = arg;
    if (!rule || !rule->bus || !rule->name || !rule->arn || !rule->expression)
        return EVB_ERR_OK; /* not a scheduled rule: nothing to keep */
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        sch_rule_t *v = realloc(rs->v, cap * sizeof *v);
        if (!v)
            return EVB_ERR_NOMEM;
        rs->v = v;
        rs->cap = cap;
    }
    sch_rule_t *r = &rs->v[rs->n];
    memset(r, 0, sizeof *r);
    r->r.enabled = rule->enabled;
    r->r.created_ms = rule->created_ms;
    if (!(r->r.bus = sch_strdup(rule->bus)) ||
        !(r->r.name = sch_strdup(rule->name)) ||
        !(r->r.arn = sch_strdup(rule->arn)) ||
        !(r->r.expression = sch_strdup(rule->expression))) {
        free((char *)r->r.bus);
        free((char *)r->r.name);
        free((char *)r->r.arn);
        return EVB_ERR_NOMEM;
    }
    rs->n++;
    evb_err_t err = evb_schedule_parse(r->r.expression, strlen(r->r.expression),
                                       &r->sched, NULL, 0);
    return err == EVB_ERR_NOMEM ? err : EVB_ERR_OK;
}

/* ---- schedule_state ------------------------------------------------------ */

static evb_err_t sch_read_rows(sqlite3 *db, void *arg, char *errstr,
                               size_t errstr_size) {
    sch_rows_t *rows = arg;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT bus, rule, next_fire_ms FROM schedule_state",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "reading schedule_state", errstr,
                                errstr_size);
    evb_err_t err = EVB_ERR_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows->n == rows->cap) {
            size_t cap = rows->cap ? rows->cap * 2 : 16;
            sch_row_t *v = realloc(rows->v, cap * sizeof *v);
            if (!v) {
                err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                                  "out of memory");
                break;
            }
            rows->v = v;
            rows->cap = cap;
        }
        sch_row_t *r = &rows->v[rows->n];
        const char *b = (const char *)sqlite3_column_text(st, 0);
        const char *n = (const char *)sqlite3_column_text(st, 1);
        r->bus = sch_strdup(b ? b : "");
        r->rule = sch_strdup(n ? n : "");
        r->next_ms = sqlite3_column_int64(st, 2);
        r->seen = false;
        if (!r->bus || !r->rule) {
            free(r->bus);
            free(r->rule);
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "out of memory");
            break;
        }
        rows->n++;
    }
    if (!err && rc != SQLITE_DONE)
        err =
            evb_store_sqlerr(db, "reading schedule_state", errstr, errstr_size);
    sqlite3_finalize(st);
    return err;
}

/* Row changes of one pass: set (bus, rule) to next_ms, or delete it. */
typedef struct sch_change {
    const char *bus, *rule;
    int64_t next_ms;
    bool del;
} sch_change_t;

typedef struct sch_changes {
    sch_change_t *v;
    size_t n, cap;
} sch_changes_t;

static bool sch_change_add(sch_changes_t *c, const char *bus, const char *rule,
                           int64_t next_ms, bool del) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        sch_change_t *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return false;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (sch_change_t){bus, rule, next_ms, del};
    return true;
}

static evb_err_t sch_apply_changes(sqlite3 *db, void *arg, char *errstr,
                                   size_t errstr_size) {
    sch_changes_t *c = arg;
    sqlite3_stmt *up = NULL, *del = NULL;
    evb_err_t err = EVB_ERR_OK;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO schedule_state(bus, rule, next_fire_ms)"
                           " VALUES (?,?,?) ON CONFLICT(bus, rule) DO UPDATE"
                           " SET next_fire_ms = excluded.next_fire_ms",
                           -1, &up, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "DELETE FROM schedule_state WHERE bus = ? AND "
                           "rule = ?",
                           -1, &del, NULL) != SQLITE_OK) {
        err = evb_store_sqlerr(db, "preparing schedule_state", errstr,
                               errstr_size);
        goto out;
    }
    for (size_t i = 0; i < c->n; i++) {
        sqlite3_stmt *st = c->v[i].del ? del : up;
        sqlite3_bind_text(st, 1, c->v[i].bus, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->v[i].rule, -1, SQLITE_STATIC);
        if (!c->v[i].del)
            sqlite3_bind_int64(st, 3, c->v[i].next_ms);
        if (sqlite3_step(st) != SQLITE_DONE) {
            err = evb_store_sqlerr(db, "writing schedule_state", errstr,
                                   errstr_size);
            break;
        }
        sqlite3_reset(st);
    }
out:
    sqlite3_finalize(up);
    sqlite3_finalize(del);
    return err;
}

/* ---- firing -------------------------------------------------------------- */

typedef struct sch_fire {
    evb_scheduler_t *s;
    const evb_schedule_rule_t *rule;
    int64_t expect_ms, next_ms;
    const char *event; /* NULL: advance the row without firing */
    size_t len;
} sch_fire_t;

static evb_err_t sch_fire_unit(sqlite3 *db, void *arg, char *errstr,
                               size_t errstr_size) {
    sch_fire_t *f = arg;
    sqlite3_stmt *st = NULL;
    evb_err_t err = EVB_ERR_OK;
    if (sqlite3_prepare_v2(db,
                           "SELECT next_fire_ms FROM schedule_state WHERE "
                           "bus = ? AND rule = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "reading schedule_state", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, f->rule->bus, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->rule->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        err =
            evb_store_sqlerr(db, "reading schedule_state", errstr, errstr_size);
    else if (rc == SQLITE_DONE || sqlite3_column_int64(st, 0) != f->expect_ms)
        err = evb_err_set(EVB_ERR_CONCURRENT_MODIFICATION, errstr, errstr_size,
                          "schedule of rule %s changed", f->rule->name);
    sqlite3_finalize(st);
    st = NULL;
    if (err)
        return err;
    if (f->event && (err = f->s->cfg.fire(f->s->cfg.ud, db, f->rule, f->event,
                                          f->len, errstr, errstr_size)))
        return err;
    if (sqlite3_prepare_v2(db,
                           "UPDATE schedule_state SET next_fire_ms = ? WHERE "
                           "bus = ? AND rule = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "updating schedule_state", errstr,
                                errstr_size);
    sqlite3_bind_int64(st, 1, f->next_ms);
    sqlite3_bind_text(st, 2, f->rule->bus, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, f->rule->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        err = evb_store_sqlerr(db, "updating schedule_state", errstr,
                               errstr_size);
    sqlite3_finalize(st);
    return err;
}

/* JSON string body (no quotes) of p into b. */
static evb_err_t sch_json_str(evb_buf_t *b, const char *p) {
    evb_err_t err = EVB_ERR_OK;
    for (; *p && !err; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            err = evb_buf_appendf(b, "\\%c", c);
        else if (c < 0x20)
            err = evb_buf_appendf(b, "\\u%04x", c);
        else
            err = evb_buf_putc(b, (char)c);
    }
    return err;
}

/* §1.6's "Scheduled Event", key order as AWS sends it. */
static evb_err_t sch_build_event(const evb_scheduler_t *s,
                                 const evb_schedule_rule_t *rule,
                                 int64_t fire_ms, evb_buf_t *b) {
    char id[37], when[21];
    evb_err_t err = evb_uuid_v4(id);
    if (err)
        return err;
    evb_schedule_format_time(fire_ms, when);
    if ((err = evb_buf_appendf(b,
                               "{\"version\":\"0\",\"id\":\"%s\","
                               "\"detail-type\":\"Scheduled Event\","
                               "\"source\":\"aws.events\",\"account\":\"",
                               id)) ||
        (err = sch_json_str(b, s->account)) ||
        (err = evb_buf_appendf(b, "\",\"time\":\"%s\",\"region\":\"", when)) ||
        (err = sch_json_str(b, s->region)) ||
        (err = evb_buf_append(b, "\",\"resources\":[\"", 16)) ||
        (err = sch_json_str(b, rule->arn)))
        return err;
    return evb_buf_append(b, "\"],\"detail\":{}}", 15);
}

/* The latest firing time <= limit, given that first (a firing) is. */
static int64_t sch_latest(const evb_schedule_t *sc, int64_t first,
                          int64_t limit, int64_t created_ms) {
    static const int64_t windows[] = {SCH_MINUTE_MS,
                                      60 * SCH_MINUTE_MS,
                                      1440 * SCH_MINUTE_MS,
                                      32 * 1440 * SCH_MINUTE_MS,
                                      367 * 1440 * SCH_MINUTE_MS,
                                      5 * 366 * 1440 * SCH_MINUTE_MS};
    int64_t f = first;
    /* jump close to limit: the smallest window before it with a firing */
    for (size_t i = 0; i < EVB_ARRAY_LEN(windows); i++) {
        int64_t from = limit - windows[i];
        if (from <= f)
            break;
        int64_t c = evb_schedule_next(sc, from, created_ms);
        if (c != -1 && c <= limit) {
            f = c;
            break;
        }
    }
    for (;;) {
        int64_t n = evb_schedule_next(sc, f, created_ms);
        if (n == -1 || n > limit)
            return f;
        f = n;
    }
}

/*
 * Fire rule r for firing time fire_ms (its row holds expect_ms) and move
 * the row to next_ms. Returns true if fired; *retry says a transient error
 * wants another try soon.
 */
static bool sch_fire_rule(evb_scheduler_t *s, const sch_rule_t *r,
                          int64_t expect_ms, int64_t fire_ms, int64_t next_ms,
                          bool *retry, evb_err_t *first_err, char *errstr,
                          size_t errstr_size) {
    evb_buf_t ev;
    evb_buf_init(&ev, 0);
    char why[256] = "";
    evb_err_t err = sch_build_event(s, &r->r, fire_ms, &ev);
    if (!err) {
        sch_fire_t f = {s, &r->r, expect_ms, next_ms, ev.data, ev.len};
        err = evb_store_write(s->cfg.store, sch_fire_unit, &f, why, sizeof why);
    }
    evb_buf_free(&ev);
    if (!err) {
        sch_stat_add(s, &s->stats.fired, 1);
        if (s->cfg.fired)
            s->cfg.fired(s->cfg.ud, &r->r, fire_ms);
        return true;
    }
    if (err == EVB_ERR_IO || err == EVB_ERR_NOMEM || err == EVB_ERR_INTERNAL ||
        err == EVB_ERR_CONCURRENT_MODIFICATION) {
        *retry = true;
        sch_stat_add(s, &s->stats.errors, 1);
        if (!*first_err)
            *first_err = evb_err_set(err, errstr, errstr_size,
                                     "firing rule %s: %s", r->r.name, why);
        return false;
    }
    /* refused (the rule is gone, ...): drop this firing, keep the schedule */
    sch_stat_add(s, &s->stats.dropped, 1);
    sch_fire_t adv = {s, &r->r, expect_ms, next_ms, NULL, 0};
    if (evb_store_write(s->cfg.store, sch_fire_unit, &adv, why, sizeof why))
        *retry = true;
    return false;
}

static sch_row_t *sch_find_row(sch_rows_t *rows, const char *bus,
                               const char *rule) {
    for (size_t i = 0; i < rows->n; i++)
        if (strcmp(rows->v[i].bus, bus) == 0 &&
            strcmp(rows->v[i].rule, rule) == 0)
            return &rows->v[i];
    return NULL;
}

static evb_err_t sch_pass(evb_scheduler_t *s, int64_t *next_out,
                          size_t *fired_out, char *errstr, size_t errstr_size) {
    sch_rules_t rules = {0};
    sch_rows_t rows = {0};
    sch_changes_t changes = {0};
    int64_t pending = INT64_MAX;
    size_t fired = 0;
    evb_err_t first_err = EVB_ERR_OK;
    evb_err_t err =
        s->cfg.list(s->cfg.ud, sch_visit, &rules, errstr, errstr_size);
    if (!err)
        err = evb_store_read(s->cfg.store, sch_read_rows, &rows, errstr,
                             errstr_size);
    if (err) {
        /* try again later rather than spin */
        pending = sch_now(s) - s->offset_ms + SCH_RETRY_MS;
        goto out;
    }
    int64_t now = sch_now(s);
    int64_t due = now - s->offset_ms; /* fire times <= due are due */
    /* 1. reconcile: every enabled rule gets a valid row */
    for (size_t i = 0; i < rules.n; i++) {
        sch_rule_t *r = &rules.v[i];
        if (!r->sched) {
            sch_stat_add(s, &s->stats.invalid, 1);
            continue;
        }
        if (!r->r.enabled)
            continue;
        sch_row_t *row = sch_find_row(&rows, r->r.bus, r->r.name);
        int64_t created = r->r.created_ms;
        bool valid = false;
        if (row) {
            row->seen = true;
            valid = row->next_ms == -1
                        ? evb_schedule_next(r->sched, now, created) == -1
                        : evb_schedule_next(r->sched, row->next_ms - 1,
                                            created) == row->next_ms;
        }
        if (!valid) {
            int64_t nf = evb_schedule_next(r->sched, now, created);
            if (!sch_change_add(&changes, r->r.bus, r->r.name, nf, false)) {
                err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                                  "out of memory");
                goto out;
            }
            r->reset = true;
            if (nf != -1 && nf < pending)
                pending = nf;
        }
    }
    for (size_t i = 0; i < rows.n; i++)
        if (!rows.v[i].seen &&
            !sch_change_add(&changes, rows.v[i].bus, rows.v[i].rule, 0, true)) {
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "out of memory");
            goto out;
        }
    if (changes.n && (err = evb_store_write(s->cfg.store, sch_apply_changes,
                                            &changes, errstr, errstr_size))) {
        pending = due + SCH_RETRY_MS;
        goto out;
    }
    /* 2. fire what is due, once per rule, for its latest due time */
    for (size_t i = 0; i < rules.n; i++) {
        sch_rule_t *r = &rules.v[i];
        if (!r->sched || !r->r.enabled || r->reset)
            continue;
        sch_row_t *row = sch_find_row(&rows, r->r.bus, r->r.name);
        if (!row || row->next_ms == -1)
            continue;
        int64_t created = r->r.created_ms;
        if (row->next_ms > due) {
            if (row->next_ms < pending)
                pending = row->next_ms;
            continue;
        }
        int64_t f = sch_latest(r->sched, row->next_ms, due, created);
        int64_t nf = evb_schedule_next(r->sched, f, created);
        bool retry = false;
        if (sch_fire_rule(s, r, row->next_ms, f, nf, &retry, &first_err, errstr,
                          errstr_size))
            fired++;
        int64_t want = retry ? due + SCH_RETRY_MS : nf;
        if (want != -1 && want < pending)
            pending = want;
    }
    err = first_err;
out:
    sch_rules_free(&rules);
    sch_rows_free(&rows);
    free(changes.v);
    if (err && !first_err) /* transient fire errors are already counted */
        sch_stat_add(s, &s->stats.errors, 1);
    sch_stat_add(s, &s->stats.passes, 1);
    if (next_out)
        *next_out = pending;
    if (fired_out)
        *fired_out = fired;
    return err;
}

evb_err_t evb_scheduler_run_once(evb_scheduler_t *s, int64_t *next_ms,
                                 size_t *fired, char *errstr,
                                 size_t errstr_size) {
    pthread_mutex_lock(&s->pass_lock);
    evb_err_t err = sch_pass(s, next_ms, fired, errstr, errstr_size);
    pthread_mutex_unlock(&s->pass_lock);
    return err;
}

/* ---- the thread
 * -------------------------------------------------------------- */

static void *sch_main(void *arg) {
    evb_scheduler_t *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        s->kicked = false;
        pthread_mutex_unlock(&s->lock);
        int64_t next = INT64_MAX;
        char errstr[256];
        (void)evb_scheduler_run_once(s, &next, NULL, errstr, sizeof errstr);
        pthread_mutex_lock(&s->lock);
        while (!s->stopping && !s->kicked) {
            int64_t now = sch_now(s);
            int64_t wait = s->cfg.max_sleep_ms;
            if (next != INT64_MAX && next + s->offset_ms - now < wait)
                wait = next + s->offset_ms - now;
            if (wait <= 0)
                break;
            struct timespec dl;
            clock_gettime(CLOCK_MONOTONIC, &dl);
            dl.tv_sec += wait / 1000;
            dl.tv_nsec += (long)(wait % 1000) * 1000000L;
            if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
            }
            if (pthread_cond_timedwait(&s->cond, &s->lock, &dl) == ETIMEDOUT)
                break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

evb_err_t evb_scheduler_new(const evb_scheduler_config_t *cfg,
                            evb_scheduler_t **out, char *errstr,
                            size_t errstr_size) {
    *out = NULL;
    if (!cfg || !cfg->store || !cfg->list || !cfg->fire)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "scheduler: store, list and fire are required");
    evb_scheduler_t *s = calloc(1, sizeof *s);
    if (!s)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    s->cfg = *cfg;
    if (!s->cfg.max_sleep_ms)
        s->cfg.max_sleep_ms = SCH_DEFAULT_MAX_SLEEP_MS;
    s->offset_ms = cfg->fire_offset_ms == EVB_SCHEDULER_NO_OFFSET ? 0
                   : cfg->fire_offset_ms <= 0 ? SCH_DEFAULT_OFFSET_MS
                   : cfg->fire_offset_ms > SCH_MAX_OFFSET_MS
                       ? SCH_MAX_OFFSET_MS
                       : cfg->fire_offset_ms;
    s->account = sch_strdup(cfg->account ? cfg->account : "000000000000");
    s->region = sch_strdup(cfg->region ? cfg->region : "us-east-1");
    pthread_condattr_t ca;
    bool cond_ok = false;
    if (pthread_condattr_init(&ca) == 0) {
        cond_ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
                  pthread_cond_init(&s->cond, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (!s->account || !s->region || !cond_ok) {
        if (cond_ok)
            pthread_cond_destroy(&s->cond);
        free(s->account);
        free(s->region);
        free(s);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    s->cfg.account = s->account;
    s->cfg.region = s->region;
    pthread_mutex_init(&s->pass_lock, NULL);
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return EVB_ERR_OK;
}

evb_err_t evb_scheduler_start(evb_scheduler_t *s, char *errstr,
                              size_t errstr_size) {
    pthread_mutex_lock(&s->lock);
    if (s->running) {
        pthread_mutex_unlock(&s->lock);
        return EVB_ERR_OK;
    }
    s->stopping = false;
    s->kicked = false;
    int rc = pthread_create(&s->thread, NULL, sch_main, s);
    s->running = rc == 0;
    pthread_mutex_unlock(&s->lock);
    if (rc != 0)
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "scheduler: cannot start thread: %s", strerror(rc));
    return EVB_ERR_OK;
}

void evb_scheduler_kick(evb_scheduler_t *s) {
    pthread_mutex_lock(&s->lock);
    s->kicked = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

void evb_scheduler_stop(evb_scheduler_t *s) {
    pthread_mutex_lock(&s->lock);
    if (!s->running) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    s->stopping = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_mutex_lock(&s->lock);
    s->running = false;
    pthread_mutex_unlock(&s->lock);
}

void evb_scheduler_get_stats(evb_scheduler_t *s, evb_scheduler_stats_t *out) {
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

void evb_scheduler_free(evb_scheduler_t *s) {
    if (!s)
        return;
    evb_scheduler_stop(s);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->pass_lock);
    free(s->account);
    free(s->region);
    free(s);
}
