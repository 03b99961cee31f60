/*
 * archive: EventBridge archives and replays over the store and the bus.
 *
 * An archive belongs to one bus and keeps a copy of every event accepted
 * on that bus that matches its optional EventPattern, except replayed
 * events (those carrying a top-level "replay-name"), which are never
 * archived. Ingestion calls evb_archive_capture inside its own store unit,
 * so an event is archived atomically with its acceptance. In memory each
 * bus with archives has a rule set (pattern engine) of its archives'
 * patterns plus one guard rule that recognises replayed events; archives
 * without a pattern are kept in a plain list and take every other event.
 *
 * A replay walks the archived events whose event time lies in
 * [EventStartTime, EventEndTime) in one-minute slices of event time
 * (empty stretches are skipped), re-routes each one on the archive's bus
 * with "replay-name" inserted between "region" and "resources" (same id),
 * restricted to the rules named by FilterArns when given, and commits the
 * events, their deliveries and the replay's progress (the slice's end, as
 * EventLastReplayedTime) in one store unit. Its state lives in the store
 * (table replays), so after a restart a STARTING or RUNNING replay goes on
 * from the last committed slice, and a CANCELLING one becomes CANCELLED.
 * States: STARTING -> RUNNING -> COMPLETED, or CANCELLING -> CANCELLED.
 *
 * Retention: events archived more than RetentionDays days ago are deleted
 * by evb_archive_sweep (the worker runs it periodically); 0 keeps them.
 *
 * Threading: every function may be called from any thread. One worker
 * thread (when cfg->start_thread) runs the replays and the sweep; without
 * it the caller drives them with evb_archive_run_once / evb_archive_sweep.
 *
 * Strings in the out-structs are heap-allocated and freed with the
 * matching *_free function. Times are epoch milliseconds.
 */
#ifndef EVB_ARCHIVE_H
#define EVB_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "../bus/bus.h"
#include "../common/common.h"
#include "../delivery/delivery.h"
#include "../store/store.h"

typedef struct evb_archive_config {
    int64_t slice_ms;            /* replay slice of event time; 60000 */
    unsigned max_active_replays; /* STARTING/RUNNING/CANCELLING; 10 */
    int64_t sweep_interval_ms;   /* retention sweep period; 3600000 */
    int64_t idle_wait_ms;        /* worker's wait when idle; 1000 */
    bool start_thread;           /* false: the caller drives the work */
    evb_delivery_t *delivery;    /* kicked after replayed deliveries
                                    commit; may be NULL (borrowed) */
} evb_archive_config_t;

/* The defaults above (start_thread true). */
evb_archive_config_t evb_archive_config_default(void);

typedef struct evb_archive_service evb_archive_service_t;

/*
 * Load the archives from the store, build the capture rule sets, and
 * (cfg->start_thread) start the worker, which resumes unfinished replays.
 * cfg NULL: the defaults. store and bus are borrowed and must outlive the
 * service. The caller frees *out with evb_archive_service_close.
 */
evb_err_t evb_archive_service_open(const evb_archive_config_t *cfg,
                                   evb_store_t *store, evb_bus_service_t *bus,
                                   evb_archive_service_t **out, char *errstr,
                                   size_t errstr_size);

/* Stop the worker (finishing the slice in hand) and free the service. */
void evb_archive_service_close(evb_archive_service_t *svc);

/* ---- archives --------------------------------------------------------------- */

typedef struct evb_archive_info {
    char *name, *arn;
    char *bus, *bus_arn;   /* the source bus, its name and ARN */
    char *description;     /* NULL if none */
    char *event_pattern;   /* NULL if none */
    char *state;           /* always "ENABLED" */
    int64_t retention_days; /* 0: indefinitely */
    int64_t event_count, size_bytes; /* computed on describe and list */
    int64_t created_ms;
} evb_archive_info_t;

void evb_archive_info_free(evb_archive_info_t *a);

/*
 * CreateArchive. source_arn must be the ARN of an existing bus of this
 * account and region (EVB_ERR_NOT_FOUND "Event bus <arn> does not
 * exist."); pattern (NULL: none) is validated as EventBridge does
 * (EVB_ERR_INVALID_EVENT_PATTERN with its message); retention_days >= 0.
 * A taken name: EVB_ERR_EXISTS "Archive <n> already exists.". out (may be
 * NULL) receives the new archive.
 */
evb_err_t evb_archive_create(evb_archive_service_t *svc, const char *name,
                             const char *source_arn, const char *description,
                             const char *pattern, int64_t retention_days,
                             evb_archive_info_t *out, char *errstr,
                             size_t errstr_size);

/* EVB_ERR_NOT_FOUND "Archive <n> does not exist." */
evb_err_t evb_archive_describe(evb_archive_service_t *svc, const char *name,
                               evb_archive_info_t *out, char *errstr,
                               size_t errstr_size);

/*
 * UpdateArchive: description or pattern NULL, retention_days < 0 keep the
 * current value. With none of the three: EVB_ERR_INVALID_ARG "At least one
 * of EventPattern, RetentionDays or Description must be provided.". An
 * empty pattern ("") removes the pattern.
 */
evb_err_t evb_archive_update(evb_archive_service_t *svc, const char *name,
                             const char *description, const char *pattern,
                             int64_t retention_days, evb_archive_info_t *out,
                             char *errstr, size_t errstr_size);

/* Deletes the archive and its events. Missing: EVB_ERR_NOT_FOUND. */
evb_err_t evb_archive_delete(evb_archive_service_t *svc, const char *name,
                             char *errstr, size_t errstr_size);

/*
 * ListArchives, in name order. Every filter may be NULL: name prefix,
 * source bus ARN, state. next_token NULL for the first page; *next_out
 * NULL when there is no more; limit 0 means 100. An unknown token is
 * EVB_ERR_INVALID_ARG.
 */
evb_err_t evb_archive_list(evb_archive_service_t *svc, const char *prefix,
                           const char *source_arn, const char *state,
                           const char *next_token, unsigned limit,
                           evb_archive_info_t **items, size_t *n,
                           char **next_out, char *errstr, size_t errstr_size);

/*
 * The capture hook. Ingestion calls it for every accepted event on bus,
 * inside its own store unit (db; called on the store's writer thread),
 * with the complete envelope and the event's own time. The event is
 * stored in every archive of that bus whose pattern it matches; an event
 * with a top-level "replay-name" is never archived. An error should roll
 * back the caller's unit (it is only ever a store or memory failure).
 */
evb_err_t evb_archive_capture(evb_archive_service_t *svc, sqlite3 *db,
                              const char *bus, const char *event, size_t len,
                              int64_t event_time_ms);

/* The same with the service as void * (for a hook table in the bus).
 * errstr may be NULL. */
evb_err_t evb_archive_capture_hook(void *svc, sqlite3 *db, const char *bus,
                                   const char *event, size_t len,
                                   int64_t event_time_ms, char *errstr,
                                   size_t errstr_size);

/* Does bus have any archive? Cheap; lets ingestion skip a store write
 * for events that owe no delivery and that no archive wants. */
bool evb_archive_bus_has_archives(evb_archive_service_t *svc, const char *bus);

/* The same as a bus capture "wants" hook (svc as void *). */
bool evb_archive_bus_wants(void *svc, const char *bus);

/* Delete the events whose retention has run out at now_ms; *deleted
 * (may be NULL) receives how many. */
evb_err_t evb_archive_sweep(evb_archive_service_t *svc, int64_t now_ms,
                            size_t *deleted, char *errstr, size_t errstr_size);

/* ---- replays ---------------------------------------------------------------- */

typedef struct evb_replay_spec {
    const char *name;
    const char *description;  /* NULL if none */
    const char *archive_arn;  /* EventSourceArn */
    int64_t start_ms, end_ms; /* EventStartTime, EventEndTime */
    const char *dest_arn;     /* Destination.Arn */
    const char *const *filter_arns; /* Destination.FilterArns */
    size_t nfilter;
} evb_replay_spec_t;

typedef struct evb_replay_info {
    char *name, *arn, *description, *state, *state_reason;
    char *archive_arn, *dest_arn;
    char **filter_arns;
    size_t nfilter;
    bool has_filter; /* FilterArns was given (possibly empty) */
    int64_t start_ms, end_ms;
    int64_t last_replayed_ms;  /* -1: nothing replayed yet */
    int64_t replay_start_ms;
    int64_t replay_end_ms;     /* -1: not ended */
} evb_replay_info_t;

void evb_replay_info_free(evb_replay_info_t *r);

/*
 * StartReplay. Checks, in this order (all EVB_ERR_INVALID_ARG but the
 * last two): the archive exists ("Parameter EventSourceArn is not valid.
 * Reason: Archive <n> does not exist."); dest_arn is the archive's bus
 * ("Parameter Destination.Arn is not valid. Reason: Cross event bus
 * replay is not permitted."); start < end ("Parameter EventEndTime is not
 * valid. Reason: EventStartTime must be before EventEndTime."); the name
 * is free (EVB_ERR_EXISTS "Replay <n> already exists."); fewer than
 * max_active_replays are active (EVB_ERR_LIMIT_EXCEEDED). The replay
 * starts in STARTING; the worker is woken.
 */
evb_err_t evb_replay_start(evb_archive_service_t *svc,
                           const evb_replay_spec_t *spec,
                           evb_replay_info_t *out, char *errstr,
                           size_t errstr_size);

/* EVB_ERR_NOT_FOUND "Replay <n> does not exist." */
evb_err_t evb_replay_describe(evb_archive_service_t *svc, const char *name,
                              evb_replay_info_t *out, char *errstr,
                              size_t errstr_size);

/* ListReplays, in name order; filters as evb_archive_list (archive_arn is
 * the replay's EventSourceArn). */
evb_err_t evb_replay_list(evb_archive_service_t *svc, const char *prefix,
                          const char *state, const char *archive_arn,
                          const char *next_token, unsigned limit,
                          evb_replay_info_t **items, size_t *n,
                          char **next_out, char *errstr, size_t errstr_size);

/*
 * CancelReplay: a STARTING or RUNNING replay becomes CANCELLING (the
 * worker makes it CANCELLED before it commits another slice). In any other
 * state: EVB_ERR_INVALID_ARG "Replay <n> is not in a valid state for this
 * operation." (AWS's IllegalStatusException). Missing: EVB_ERR_NOT_FOUND.
 */
evb_err_t evb_replay_cancel(evb_archive_service_t *svc, const char *name,
                            evb_replay_info_t *out, char *errstr,
                            size_t errstr_size);

/*
 * Advance every active replay by one slice (or one state change) and, if
 * the sweep is due, sweep. *steps (may be NULL) receives how many replays
 * moved: 0 means there is nothing to do. What the worker runs; call it
 * yourself when the service has no thread.
 */
evb_err_t evb_archive_run_once(evb_archive_service_t *svc, size_t *steps,
                               char *errstr, size_t errstr_size);

#endif
