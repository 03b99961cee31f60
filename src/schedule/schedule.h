/*
 * schedule: EventBridge scheduled rules, i.e. ScheduleExpression parsing,
 * next-firing arithmetic and the scheduler thread that fires due rules.
 *
 * Two layers:
 *
 * 1. Pure functions (schedule.c). evb_schedule_parse accepts exactly the
 *    grammar of the compatibility reference (§5.2): rate(value unit) and
 *    cron(Minutes Hours Day-of-month Month Day-of-week Year).
 *    evb_schedule_next gives the next firing strictly after a time, in
 *    UTC, at minute granularity, with Quartz's L, W and # semantics.
 *
 * 2. The scheduler (scheduler.c). It knows nothing of buses: the caller
 *    gives it a function that lists the scheduled rules and a function
 *    that fires one rule, which runs inside the store transaction that
 *    advances the rule's row in schedule_state(bus, rule, next_fire_ms).
 *    A firing and the bookkeeping that says it happened are therefore one
 *    commit: a restart neither loses nor repeats a firing.
 *
 * Choices where the reference is silent (docs in the final report too):
 * - Month and weekday names are case-insensitive (JAN, jan, Jan), as in
 *   Quartz, which upper-cases the expression; rate units are
 *   case-sensitive (recorded: rate(10 MINUTES) is rejected).
 * - cron fields are separated by one or more spaces; no whitespace after
 *   "cron(" or before ")" (as recorded for rate), no tabs.
 * - L, LW and nW in Day-of-month, and nL and n#k in Day-of-week, must be
 *   the only item of their field (Quartz's rule; "only one # expression").
 *   "L" alone in Day-of-week means 7 (Saturday), as in Quartz.
 * - nW where day n does not exist in a month (31W in April): no firing
 *   that month. nW never leaves the month (1W on a Saturday is Monday 3rd;
 *   30W on a Sunday that is the last day is Friday 28th).
 * - Ranges wrap in every field but Year (20-2, NOV-FEB, FRI-MON, 28-3).
 *   An increment must be 1..(size of the field).
 * - rate: value 1..2147483647 without sign; the first firing is one
 *   interval after the rule's creation minute, then every interval.
 * - Down across firing times: on restart the rule fires once, for the
 *   most recent missed minute, never once per missed minute.
 * - A disabled rule loses its schedule_state row: when enabled again it
 *   fires at its next time from then on, not for minutes it missed.
 */
#ifndef EVB_SCHEDULE_H
#define EVB_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "../common/common.h"
#include "../store/store.h"

/* ---- expressions ------------------------------------------------------- */

/* AWS's message for every invalid ScheduleExpression. */
#define EVB_SCHEDULE_INVALID_MSG "Parameter ScheduleExpression is not valid."

typedef struct evb_schedule evb_schedule_t;

/*
 * Parse a ScheduleExpression of len bytes (need not be NUL-terminated).
 * On success *out is a new schedule the caller frees with
 * evb_schedule_free. Errors: EVB_ERR_INVALID_ARG with
 * EVB_SCHEDULE_INVALID_MSG in errstr (the AWS message; the exact reason is
 * not given, as AWS gives none); EVB_ERR_NOMEM. Pure; any thread.
 */
evb_err_t evb_schedule_parse(const char *expr, size_t len, evb_schedule_t **out,
                             char *errstr, size_t errstr_size);

/* Validate only (PutRule): evb_schedule_parse without keeping the result. */
evb_err_t evb_schedule_validate(const char *expr, size_t len, char *errstr,
                                size_t errstr_size);

void evb_schedule_free(evb_schedule_t *s);

/* true for rate(...), false for cron(...). */
bool evb_schedule_is_rate(const evb_schedule_t *s);

/*
 * The first firing time (epoch ms, a whole UTC minute) strictly after
 * after_ms, or -1 if there is none (the cron's years are over). A rate
 * counts from created_ms's minute: it fires at that minute + k * interval
 * for k >= 1; created_ms is ignored for cron. Pure; any thread.
 */
int64_t evb_schedule_next(const evb_schedule_t *s, int64_t after_ms,
                          int64_t created_ms);

/* "YYYY-MM-DDTHH:MM:SSZ" for epoch ms (rounded down to the second). */
void evb_schedule_format_time(int64_t ms, char out[21]);

/* ---- the scheduler ------------------------------------------------------ */

/* One scheduled rule, as the list function reports it. Strings are
 * borrowed for the duration of the visit call only (the scheduler copies
 * what it keeps). */
typedef struct evb_schedule_rule {
    const char *bus, *name, *arn;
    const char *expression; /* ScheduleExpression */
    bool enabled;
    int64_t created_ms; /* rule creation; rates count from here */
} evb_schedule_rule_t;

/* Called by the list function once per scheduled rule; returns
 * EVB_ERR_NOMEM if the scheduler could not keep it. */
typedef evb_err_t (*evb_schedule_visit_fn)(void *visit_arg,
                                           const evb_schedule_rule_t *rule);

/*
 * List every rule that has a ScheduleExpression (enabled or not; a rule
 * missing from the list is treated as deleted) by calling visit for each.
 * Runs on the scheduler's thread, never inside a store transaction.
 */
typedef evb_err_t (*evb_schedule_list_fn)(void *ud, evb_schedule_visit_fn visit,
                                          void *visit_arg, char *errstr,
                                          size_t errstr_size);

/*
 * Fire one rule: commit event (the "Scheduled Event" envelope, JSON text
 * of len bytes) with one delivery per target of this rule only. Runs on
 * the store's writer thread inside the unit that also advances the rule's
 * schedule_state row: write with db and never call evb_store_write (it
 * would deadlock). Return EVB_ERR_OK to keep the firing; any other code
 * rolls back both. EVB_ERR_IO and EVB_ERR_NOMEM are retried a second
 * later; any other error (the rule or bus is gone: NOT_FOUND) drops this
 * firing and moves on to the next one.
 */
typedef evb_err_t (*evb_schedule_fire_fn)(void *ud, sqlite3 *db,
                                          const evb_schedule_rule_t *rule,
                                          const char *event, size_t len,
                                          char *errstr, size_t errstr_size);

/* After a firing is durable (e.g. evb_delivery_kick). Scheduler thread. */
typedef void (*evb_schedule_fired_fn)(void *ud, const evb_schedule_rule_t *rule,
                                      int64_t fire_ms);

/* Wall clock in epoch ms; NULL means CLOCK_REALTIME. Tests inject one. */
typedef int64_t (*evb_schedule_clock_fn)(void *ud);

typedef struct evb_scheduler_config {
    evb_store_t *store;          /* required; holds schedule_state */
    const char *account;         /* "account" of the event; "000000000000" */
    const char *region;          /* "region" of the event; "us-east-1" */
    evb_schedule_list_fn list;   /* required */
    evb_schedule_fire_fn fire;   /* required */
    evb_schedule_fired_fn fired; /* optional */
    evb_schedule_clock_fn clock; /* optional */
    void *ud;                    /* passed to the four functions above */
    /* How far into the scheduled minute a rule fires (AWS: "within that
     * minute, not at second 0"). 0 means the default, 1000 ms; clamped to
     * 59000. EVB_SCHEDULER_NO_OFFSET fires at second 0 (tests). */
    int fire_offset_ms;
    /* Longest sleep without a pass (wall-clock jumps, missed kicks);
     * 0 means 60000 ms. */
    unsigned max_sleep_ms;
} evb_scheduler_config_t;

#define EVB_SCHEDULER_NO_OFFSET (-1)

typedef struct evb_scheduler evb_scheduler_t;

typedef struct evb_scheduler_stats {
    uint64_t passes;  /* evb_scheduler_run_once calls, thread's included */
    uint64_t fired;   /* firings committed */
    uint64_t dropped; /* firings the fire function refused (not retried) */
    uint64_t errors;  /* failed passes or transient fire errors */
    uint64_t invalid; /* rules whose expression does not parse (skipped) */
} evb_scheduler_stats_t;

/*
 * Create a scheduler (no thread yet). The config's strings are copied;
 * the store must outlive the scheduler. The caller frees *out with
 * evb_scheduler_free. Errors: EVB_ERR_INVALID_ARG (missing store, list or
 * fire), EVB_ERR_NOMEM.
 */
evb_err_t evb_scheduler_new(const evb_scheduler_config_t *cfg,
                            evb_scheduler_t **out, char *errstr,
                            size_t errstr_size);

/* Start the background thread (one pass at once, then one per due time or
 * kick). Errors: EVB_ERR_INTERNAL if the thread cannot start. */
evb_err_t evb_scheduler_start(evb_scheduler_t *s, char *errstr,
                              size_t errstr_size);

/* Rules changed (PutRule, DeleteRule, Enable/DisableRule): run a pass now.
 * Cheap; any thread; harmless before start or after stop. */
void evb_scheduler_kick(evb_scheduler_t *s);

/*
 * One pass on the calling thread: list the rules, reconcile schedule_state
 * (new rules get their next time, deleted and disabled rules lose their
 * row, rows from a changed expression are recomputed) and fire every due
 * rule. *next_ms (if non-NULL) receives the earliest pending firing time,
 * INT64_MAX if none. *fired (if non-NULL) counts this pass's firings.
 * Passes are serialised with the thread's. Returns the first error (the
 * pass still went on with the other rules).
 */
evb_err_t evb_scheduler_run_once(evb_scheduler_t *s, int64_t *next_ms,
                                 size_t *fired, char *errstr,
                                 size_t errstr_size);

/* Stop the thread promptly (a pass in progress finishes first). Idempotent;
 * the scheduler may be started again. */
void evb_scheduler_stop(evb_scheduler_t *s);

void evb_scheduler_get_stats(evb_scheduler_t *s, evb_scheduler_stats_t *out);

/* Stop if running and free. NULL is fine. */
void evb_scheduler_free(evb_scheduler_t *s);

#endif
