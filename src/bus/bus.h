/*
 * bus: event buses, rules and targets as objects, and ingestion.
 *
 * An evb_bus_service_t holds every bus of one account and region. Its
 * configuration lives in the store (the source of truth); in memory each
 * bus keeps a rule set of its enabled rules (pattern engine), republished
 * on every rule change, and a map from rule to targets, so PutEvents never
 * touches the database except to commit.
 *
 * Ingestion (evb_bus_put_events): every valid entry becomes an envelope
 * (UUIDv4 id, second-precision time, EventBridge's key order), is matched
 * against its bus's enabled rules, and is committed to the store together
 * with one delivery row per (rule, target) it owes, in one unit of a
 * group commit. Only then does the call return, so an acknowledged event
 * is durable with all the work it causes.
 *
 * Thread-safety: every function may be called from any thread. Control
 * operations are serialised by the service; ingestion runs concurrently
 * and reads an immutable snapshot of the routing tables.
 *
 * Strings returned in out-structs are heap-allocated and freed with the
 * matching *_free function.
 */
#ifndef EVB_BUS_H
#define EVB_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "../pattern/pattern.h"
#include "../store/store.h"

typedef struct evb_bus_config {
    const char *account; /* 12 digits; default "000000000000" */
    const char *region;  /* default "us-east-1" */
    size_t max_entries_bytes;   /* PutEvents total entry size; 1 MiB */
    unsigned max_targets_per_rule; /* 5 */
    evb_pattern_limits_t pattern_limits;
} evb_bus_config_t;

/* The defaults above. */
evb_bus_config_t evb_bus_config_default(void);

typedef struct evb_bus_service evb_bus_service_t;

/* Load every bus, rule and target from the store (creating the default
 * bus on first use) and build the routing tables. The store must outlive
 * the service. */
evb_err_t evb_bus_service_open(const evb_bus_config_t *cfg, evb_store_t *store,
                               evb_bus_service_t **out, char *errstr,
                               size_t errstr_size);
void evb_bus_service_close(evb_bus_service_t *svc);

const char *evb_bus_account(const evb_bus_service_t *svc);
const char *evb_bus_region(const evb_bus_service_t *svc);

/*
 * Resolve an EventBusName parameter (a name, an event-bus ARN of this
 * account and region, or NULL for "default") into the bus name. Writes
 * the name (NUL-terminated) into out. An ARN of another account, region
 * or shape gives EVB_ERR_NOT_FOUND ("Event bus <arn> does not exist.").
 */
evb_err_t evb_bus_resolve_name(const evb_bus_service_t *svc, const char *name,
                               char *out, size_t out_size, char *errstr,
                               size_t errstr_size);

/* ---- buses ------------------------------------------------------------------ */

typedef struct evb_bus_info {
    char *name, *arn, *description;
    int64_t created, modified; /* epoch seconds */
} evb_bus_info_t;

void evb_bus_info_free(evb_bus_info_t *b);

/* EVB_ERR_EXISTS "Event bus <n> already exists." */
evb_err_t evb_bus_create(evb_bus_service_t *svc, const char *name,
                         const char *description, char **arn_out,
                         char *errstr, size_t errstr_size);
/* Deleting a missing bus succeeds; "default" cannot be deleted
 * (EVB_ERR_INVALID_ARG "Cannot delete event bus default."); a bus with
 * rules cannot be deleted (EVB_ERR_INVALID_ARG). */
evb_err_t evb_bus_delete(evb_bus_service_t *svc, const char *name,
                         char *errstr, size_t errstr_size);
/* description NULL keeps the current one. */
evb_err_t evb_bus_update(evb_bus_service_t *svc, const char *name,
                         const char *description, evb_bus_info_t *out,
                         char *errstr, size_t errstr_size);
/* EVB_ERR_NOT_FOUND "Event bus <n> does not exist." */
evb_err_t evb_bus_describe(evb_bus_service_t *svc, const char *name,
                           evb_bus_info_t *out, char *errstr,
                           size_t errstr_size);

/* Pagination: next_token in (NULL for the first page) and out (NULL when
 * there is no more); limit 0 means 100. Tokens are opaque. */
evb_err_t evb_bus_list(evb_bus_service_t *svc, const char *prefix,
                       const char *next_token, unsigned limit,
                       evb_bus_info_t **items, size_t *n, char **next_out,
                       char *errstr, size_t errstr_size);

/* ---- rules ------------------------------------------------------------------ */

typedef struct evb_rule_info {
    char *bus, *name, *arn;
    char *event_pattern;  /* NULL if none */
    char *schedule;       /* NULL if none */
    char *state;          /* "ENABLED" / "DISABLED" */
    char *description, *role_arn;
} evb_rule_info_t;

void evb_rule_info_free(evb_rule_info_t *r);

/* Create or replace (PutRule). in->state NULL means ENABLED. Validates the
 * pattern (EVB_ERR_INVALID_EVENT_PATTERN), requires a pattern or schedule,
 * allows schedules only on the default bus; unknown bus: NOT_FOUND. */
evb_err_t evb_rule_put(evb_bus_service_t *svc, const evb_rule_info_t *in,
                       char **arn_out, char *errstr, size_t errstr_size);
evb_err_t evb_rule_describe(evb_bus_service_t *svc, const char *bus,
                            const char *name, evb_rule_info_t *out,
                            char *errstr, size_t errstr_size);
/* Fails with "Rule can't be deleted since it has targets."; a missing
 * rule on an existing bus succeeds. */
evb_err_t evb_rule_delete(evb_bus_service_t *svc, const char *bus,
                          const char *name, char *errstr, size_t errstr_size);
evb_err_t evb_rule_set_enabled(evb_bus_service_t *svc, const char *bus,
                               const char *name, bool enabled, char *errstr,
                               size_t errstr_size);
evb_err_t evb_rule_list(evb_bus_service_t *svc, const char *bus,
                        const char *prefix, const char *next_token,
                        unsigned limit, evb_rule_info_t **items, size_t *n,
                        char **next_out, char *errstr, size_t errstr_size);

/* ---- targets ---------------------------------------------------------------- */

typedef struct evb_target_info {
    char *id, *arn;
    char *spec; /* the whole target object as JSON text */
} evb_target_info_t;

void evb_target_info_free(evb_target_info_t *t);

/* Per-target outcome of PutTargets / RemoveTargets. */
typedef struct evb_target_failure {
    char *id;
    char *code;    /* e.g. "LimitExceededException" */
    char *message;
} evb_target_failure_t;

void evb_target_failures_free(evb_target_failure_t *f, size_t n);

/* Add or replace targets (by id). Targets that would exceed the per-rule
 * limit fail as a whole request with EVB_ERR_LIMIT_EXCEEDED, as AWS does. */
evb_err_t evb_targets_put(evb_bus_service_t *svc, const char *bus,
                          const char *rule, const evb_target_info_t *targets,
                          size_t n, evb_target_failure_t **failed,
                          size_t *nfailed, char *errstr, size_t errstr_size);
evb_err_t evb_targets_remove(evb_bus_service_t *svc, const char *bus,
                             const char *rule, const char *const *ids,
                             size_t n, evb_target_failure_t **failed,
                             size_t *nfailed, char *errstr,
                             size_t errstr_size);
evb_err_t evb_targets_list(evb_bus_service_t *svc, const char *bus,
                           const char *rule, const char *next_token,
                           unsigned limit, evb_target_info_t **items,
                           size_t *n, char **next_out, char *errstr,
                           size_t errstr_size);
evb_err_t evb_rule_names_by_target(evb_bus_service_t *svc, const char *bus,
                                   const char *target_arn,
                                   const char *next_token, unsigned limit,
                                   char ***names, size_t *n, char **next_out,
                                   char *errstr, size_t errstr_size);

/* ---- tags --------------------------------------------------------------------- */

typedef struct evb_tag {
    char *key, *value;
} evb_tag_t;

void evb_tags_free(evb_tag_t *t, size_t n);

/* The resource must be a bus or rule of this service (NOT_FOUND). */
evb_err_t evb_tags_put(evb_bus_service_t *svc, const char *arn,
                       const evb_tag_t *tags, size_t n, char *errstr,
                       size_t errstr_size);
evb_err_t evb_tags_remove(evb_bus_service_t *svc, const char *arn,
                          const char *const *keys, size_t n, char *errstr,
                          size_t errstr_size);
evb_err_t evb_tags_list(evb_bus_service_t *svc, const char *arn,
                        evb_tag_t **tags, size_t *n, char *errstr,
                        size_t errstr_size);

/* ---- events ------------------------------------------------------------------- */

typedef struct evb_put_entry {
    const char *source;      /* NULL if absent */
    const char *detail_type; /* NULL if absent */
    const char *detail;      /* JSON text; NULL if absent */
    size_t detail_len;
    const char *const *resources;
    size_t nresources;
    const char *bus;          /* EventBusName; NULL for default */
    bool has_time;
    int64_t time;             /* epoch seconds */
    const char *trace_header; /* NULL if absent */
} evb_put_entry_t;

typedef struct evb_put_result {
    char event_id[37];         /* set on success */
    const char *error_code;    /* NULL on success; static string */
    char error_message[160];
} evb_put_result_t;

/*
 * PutEvents. Per-entry failures are reported in results (which has n
 * slots); the call itself fails only for request-level errors
 * (EVB_ERR_INVALID_ARG with AWS's message: no entries or more than 10,
 * total size over the limit) or when the store cannot commit (EVB_ERR_IO:
 * nothing was acknowledged). *failed receives FailedEntryCount.
 */
evb_err_t evb_bus_put_events(evb_bus_service_t *svc,
                             const evb_put_entry_t *entries, size_t n,
                             evb_put_result_t *results, size_t *failed,
                             char *errstr, size_t errstr_size);

/*
 * Several PutEvents calls committed in one unit of the store: each call
 * (at most 10 entries) is validated, matched and answered as
 * evb_bus_put_events would (its results and failed filled), and all of
 * their events and deliveries become durable together, in call order, or
 * none does. A request-level error in any call (EVB_ERR_INVALID_ARG) or a
 * store failure fails the whole set: nothing was acknowledged. For
 * in-process producers with many small batches at once (a pipe's lane),
 * where one commit per call would make the commit the bottleneck.
 */
typedef struct evb_put_call {
    const evb_put_entry_t *entries;
    size_t n;
    evb_put_result_t *results; /* n slots, filled */
    size_t failed;             /* FailedEntryCount, filled */
} evb_put_call_t;

evb_err_t evb_bus_put_events_multi(evb_bus_service_t *svc,
                                   evb_put_call_t *calls, size_t ncalls,
                                   char *errstr, size_t errstr_size);

/* ---- for the delivery engine --------------------------------------------------- */

/* A target as a delivery needs it; every field heap-allocated. */
typedef struct evb_target_ref {
    char *arn, *spec, *rule_arn, *rule_name;
} evb_target_ref_t;

void evb_target_ref_free(evb_target_ref_t *t);

/* A number that changes whenever a rule or a target of any bus changes
 * (bumped under the control lock together with the change): a cache of
 * evb_bus_target_lookup answers, which reads it before its lookups, is
 * current as long as it has not changed since. Any thread. */
uint64_t evb_bus_generation(evb_bus_service_t *svc);

/* The current definition of a rule's target; EVB_ERR_NOT_FOUND if the
 * bus, rule or target is gone. */
evb_err_t evb_bus_target_lookup(evb_bus_service_t *svc, const char *bus,
                                const char *rule, const char *target_id,
                                evb_target_ref_t *out);

/* One (rule, target) an event owes on a bus. */
typedef struct evb_route_hit {
    char *rule, *target_id;
} evb_route_hit_t;

void evb_route_hits_free(evb_route_hit_t *h, size_t n);

/* Match an event (envelope JSON) against bus's enabled rules. A missing
 * bus gives EVB_ERR_NOT_FOUND. */
evb_err_t evb_bus_route_event(evb_bus_service_t *svc, const char *bus,
                              const char *event, size_t len,
                              evb_route_hit_t **hits, size_t *n, char *errstr,
                              size_t errstr_size);

/* Is arn an event bus of this account and region? Writes its name. */
bool evb_bus_arn_name(const evb_bus_service_t *svc, const char *arn,
                      char *name, size_t name_size);

/*
 * Commit an event (complete envelope JSON) that owes deliveries to one
 * rule's targets only, without matching: what a scheduled rule firing
 * does. db, when non-NULL, is the caller's open store unit (the event is
 * written there, atomically with the caller's other changes); with NULL
 * the function makes its own durable write. A missing bus or rule is
 * EVB_ERR_NOT_FOUND; a rule without targets commits nothing.
 */
evb_err_t evb_bus_put_rule_event(evb_bus_service_t *svc, sqlite3 *db,
                                 const char *bus, const char *rule,
                                 const char *event_id, const char *event,
                                 size_t len, char *errstr,
                                 size_t errstr_size);

/* Visit every rule that has a ScheduleExpression (the control lock is
 * held: visit must not call back into the service). A visit that fails
 * stops the walk and its error is returned. */
typedef evb_err_t (*evb_bus_scheduled_fn)(void *arg, const char *bus,
                                          const char *name, const char *arn,
                                          const char *schedule, bool enabled,
                                          int64_t created_ms);
evb_err_t evb_bus_list_scheduled(evb_bus_service_t *svc,
                                 evb_bus_scheduled_fn visit, void *arg);

/*
 * Ingestion's capture hook (the archives): called for every event
 * PutEvents accepts on a known bus, inside the store unit that commits
 * it (on the store's writer thread), with the envelope and the event's
 * time. An error rolls the unit back. Set once, before serving.
 */
typedef evb_err_t (*evb_bus_capture_fn)(void *arg, sqlite3 *db,
                                        const char *bus, const char *event,
                                        size_t len, int64_t event_time_ms,
                                        char *errstr, size_t errstr_size);
/* wants(arg, bus): is a store write needed for events that owe nothing? */
typedef bool (*evb_bus_capture_wants_fn)(void *arg, const char *bus);
void evb_bus_set_capture(evb_bus_service_t *svc, evb_bus_capture_fn fn,
                         evb_bus_capture_wants_fn wants, void *arg);

/*
 * The tap (evbus tail): called for every event accepted on an existing
 * bus, after its commit (a scheduled event written in the scheduler's own
 * store unit: once written), on the thread that put it, with the
 * envelope. It must be quick and must not block:
 * it copies what it wants and returns. Set or clear (NULL) at any time;
 * clearing waits for no call in progress, so arg must outlive the
 * service or the calls (cmd_serve clears it after the HTTP server stops).
 */
typedef void (*evb_bus_tap_fn)(void *arg, const char *bus, const char *event,
                               size_t len);
void evb_bus_set_tap(evb_bus_service_t *svc, evb_bus_tap_fn fn, void *arg);
/* Hand the tap an event that arrived on bus by another way than
 * PutEvents, once its store unit committed: forwarded from another bus
 * (the delivery engine) or replayed from an archive. Any thread. */
void evb_bus_tap_event(evb_bus_service_t *svc, const char *bus,
                       const char *event, size_t len);

typedef struct evb_bus_stats {
    uint64_t events_accepted, events_failed, deliveries_created;
    uint64_t events_dropped_unknown_bus;
} evb_bus_stats_t;

void evb_bus_get_stats(evb_bus_service_t *svc, evb_bus_stats_t *out);

#endif
