/*
 * bus_internal.h: what bus.c (control plane), targets.c (targets and
 * tags) and ingest.c (PutEvents) share.
 */
#ifndef EVB_BUS_INTERNAL_H
#define EVB_BUS_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "bus.h"

typedef struct target_mem {
    char *id, *arn, *spec;
} target_mem_t;

typedef struct rule_mem {
    char *name, *arn, *pattern, *schedule, *description, *role_arn;
    bool enabled;
    int64_t created; /* epoch seconds; kept when PutRule replaces it */
    target_mem_t *targets;
    size_t ntargets;
} rule_mem_t;

typedef struct bus_mem {
    char *name, *arn, *description;
    int64_t created, modified;
    rule_mem_t **rules;
    size_t nrules, cap_rules;
    evb_ruleset_t *rs; /* enabled rules with a pattern */
} bus_mem_t;

/* Immutable routing snapshot of one bus. */
typedef struct route_target {
    const char *id, *arn;
} route_target_t;

typedef struct route_rule {
    const char *name, *arn;
    route_target_t *targets;
    size_t ntargets;
} route_rule_t;

typedef struct route {
    atomic_int ref;
    evb_arena_t arena;
    evb_matcher_t *matcher;
    route_rule_t *rules; /* sorted by name */
    size_t nrules;
} route_t;

struct evb_bus_service {
    evb_bus_config_t cfg;
    char account[32];
    char region[64];
    evb_store_t *store;
    pthread_mutex_t ctl; /* control plane and the mirror */
    bus_mem_t **buses;
    size_t nbuses, cap_buses;
    pthread_mutex_t route_lock; /* the published snapshots */
    route_t **routes;
    char **route_names; /* borrowed from the mirror's bus names */
    size_t nroutes, cap_routes;
    atomic_uint_fast64_t accepted, failed, deliveries, dropped;
    atomic_uint_fast64_t generation; /* evb_bus_generation */
    evb_bus_capture_fn capture;
    evb_bus_capture_wants_fn capture_wants;
    void *capture_arg;
    _Atomic(evb_bus_tap_fn) tap; /* evb_bus_set_tap */
    void *_Atomic tap_arg;
};

char *evb__strdup0(const char *s);
int64_t evb__now_s(void);
bus_mem_t *evb__find_bus(evb_bus_service_t *svc, const char *name);
route_t *evb__route_acquire(evb_bus_service_t *svc, const char *bus);
void evb__route_unref(route_t *r);
const route_rule_t *evb__route_rule(const route_t *r, const char *name);
/* Pagination tokens: the hex of the last name returned (heap string). */
char *evb__make_token(const char *last);
int evb__parse_token(const char *tok, char *out, size_t out_size);
evb_err_t evb__sql_exec(sqlite3 *db, const char *sql, const char *types,
                        char *errstr, size_t errstr_size, ...);
/* Rebuild and publish b's route (control lock held). */
evb_err_t evb__publish_route(evb_bus_service_t *svc, bus_mem_t *b);
rule_mem_t *evb__find_rule(bus_mem_t *b, const char *name, size_t *idx);

#endif
