/*
 * archive_internal.h: what archive.c (archives, capture, retention) and
 * replay.c (replays and the worker) share: the service struct and small
 * helpers.
 */
#ifndef EVB_ARCHIVE_INTERNAL_H
#define EVB_ARCHIVE_INTERNAL_H

#include <pthread.h>

#include "../pattern/pattern.h"
#include "archive.h"

/* Name of the guard rule in every bus's rule set: it matches replayed
 * events. Archive names cannot contain '#'. */
#define EVB__ARCHIVE_GUARD "#replay"

/* The capture tables of one bus. */
typedef struct evb__archive_bus {
    char *bus;
    evb_ruleset_t *rs;  /* guard + archives with a pattern */
    char **all;         /* archives without a pattern */
    size_t nall;
    size_t narchives;   /* with or without a pattern */
    struct evb__archive_bus *next;
} evb__archive_bus_t;

struct evb_archive_service {
    evb_archive_config_t cfg;
    evb_store_t *store;
    evb_bus_service_t *bus;
    char account[16], region[64];

    pthread_mutex_t ctl;  /* serialises control operations */
    pthread_mutex_t lock; /* guards buses; never held across a store call */
    evb__archive_bus_t *buses;

    pthread_mutex_t wlock; /* guards the worker's fields */
    pthread_cond_t wcond;
    bool stop, kicked, has_thread;
    pthread_t thread;
    int64_t next_sweep_ms;
};

int64_t evb__archive_now_ms(void);
char *evb__archive_strdup(const char *s);

/* Wake the worker. */
void evb__archive_kick(evb_archive_service_t *svc);

/* arn:aws:events:<region>:<account>:<kind>/<name> into a new string. */
char *evb__archive_arn(const evb_archive_service_t *svc, const char *kind,
                       const char *name);

/* replay.c: start and stop the worker thread. */
evb_err_t evb__archive_worker_start(evb_archive_service_t *svc, char *errstr,
                                    size_t errstr_size);
void evb__archive_worker_stop(evb_archive_service_t *svc);

#endif
