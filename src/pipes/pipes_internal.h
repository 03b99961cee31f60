/*
 * pipes_internal.h: what the pipes module's files share (not public).
 *
 * spec.c validates requests and compiles a pipe's stored definition (the
 * JSON that DescribePipe answers with) into an evb__pipe_spec_t; control.c
 * keeps the pipes (memory and store) and runs the supervisor that starts
 * and stops runners; runner.c is one pipe's consumer loop; targets.c its
 * enrichment and target calls.
 */
#ifndef EVB_PIPES_INTERNAL_H
#define EVB_PIPES_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "pipes.h"

#define EVB__PIPE_MAX_DEPTH 1000
#define EVB__PIPE_MAX_FILTERS 5
/* a runner's lane threads; partition p is handled by lane p % LANES */
#define EVB__PIPE_LANES 4
/* enrichment answers are at most 6 MB (reference §6.4) */
#define EVB__PIPE_MAX_ENRICH_RESPONSE ((size_t)6 * 1024 * 1024)

/* ---- record.c / template.c helpers ---------------------------------------- */

/* Compact JSON of v (insertion order; reals in their shortest form). */
evb_err_t evb__json_dump(evb_buf_t *out, const json_t *v);
/* Parse JSON text of any type; integers too big for int64 fall back to
 * reals. New reference or NULL. */
json_t *evb__json_load(const char *text, size_t len);
/* ISO 8601 UTC now, "2024-05-01T12:00:00Z". */
void evb__iso_now(char out[32]);

/*
 * What a pipe's templates and JSONPaths read of a record's template view.
 * roots: EVB__ROOT_VALUE ($.value...), EVB__ROOT_KEY ($.key...),
 * EVB__ROOT_ALL (anything else: metadata, the whole event, a wildcard
 * first step, aws.pipes.event). Under value, value_keys lists the members
 * the paths go through ($.value.total: "total") unless whole_value (a
 * path reads $.value itself, or $.value[0], $.value.*). The runner builds
 * only that much of the view (evb__shaped_view); what it leaves out no
 * path could have read.
 */
#define EVB__ROOT_VALUE 1u
#define EVB__ROOT_KEY 2u
#define EVB__ROOT_ALL 4u
typedef struct evb__view_need {
    unsigned roots;
    bool whole_value;
    char **value_keys;
    size_t nvalue_keys;
} evb__view_need_t;
/* Add what t, or a parameter (a JSONPath, or a constant that reads
 * nothing; NULL too), reads. EVB_ERR_NOMEM. */
evb_err_t evb__view_need_template(evb__view_need_t *n,
                                  const evb_pipe_template_t *t);
evb_err_t evb__view_need_path(evb__view_need_t *n, const char *path);
void evb__view_need_free(evb__view_need_t *n);
/* The template view reduced to what need says is read (the whole view
 * when need says everything, or when a member asked for is not decoded
 * JSON). A new reference, NULL on allocation failure. */
json_t *evb__shaped_view(const evb_pipe_shaped_t *s,
                         const evb__view_need_t *need);

/* ---- spec.c ----------------------------------------------------------------- */

typedef enum evb__tgt_kind {
    EVB__TGT_BUS,
    EVB__TGT_APIDEST,
    EVB__TGT_LOGS,
    EVB__TGT_SQS,
    EVB__TGT_KAFKA,
} evb__tgt_kind_t;

typedef enum evb__cred_kind {
    EVB__CRED_NONE,
    EVB__CRED_BASIC,
    EVB__CRED_SCRAM256,
    EVB__CRED_SCRAM512,
    EVB__CRED_MTLS,
} evb__cred_kind_t;

/* A pipe's definition compiled for its runner. Immutable. */
typedef struct evb__pipe_spec {
    char *source;       /* smk://host:port or the MSK cluster ARN */
    bool msk;
    char *smk_server;   /* host:port of an smk:// source */
    char *topic;
    bool from_latest;
    unsigned batch;     /* records per batch */
    unsigned window_ms; /* MaximumBatchingWindowInSeconds */
    char *group_id;     /* ConsumerGroupID, NULL: the generated one */
    char **extra_servers; /* AdditionalBootstrapServers */
    size_t nextra;
    evb__cred_kind_t cred;
    char *cred_secret; /* secret ARN, or NULL */
    char *ca_secret;   /* ServerRootCaCertificate, or NULL */

    evb_pipe_filter_t *filter; /* NULL: none */

    char *enrichment;  /* API destination ARN, or NULL */
    evb_pipe_template_t *enrich_tpl;
    json_t *enrich_http; /* HttpParameters, or NULL */

    char *target;
    evb__tgt_kind_t tkind;
    char *target_name; /* bus name, log group name */
    unsigned target_max; /* the target's largest batch */
    evb_pipe_template_t *target_tpl;
    /* EventBridgeEventBusParameters: constants or JSONPaths */
    char *bus_source, *bus_detail_type, *bus_time;
    char **bus_resources;
    size_t nbus_resources;
    /* CloudWatchLogsParameters */
    char *log_stream, *log_timestamp;
    json_t *target_http; /* HttpParameters of an API-destination target */
    /* what the paths above read of a record's template view */
    evb__view_need_t view_need;
} evb__pipe_spec_t;

/* Account and region the ARNs are checked against. */
typedef struct evb__pipe_scope {
    const char *account, *region;
    bool kafka_target; /* the Kafka-topic hook is there */
} evb__pipe_scope_t;

/*
 * Validate a CreatePipe request (the body; name from the path) and build
 * the stored definition (*def, a new object with Description, Source,
 * SourceParameters, Enrichment, EnrichmentParameters, Target,
 * TargetParameters, RoleArn, LogConfiguration, KmsKeyIdentifier as given)
 * and the desired state. EVB_ERR_INVALID_ARG with AWS's message.
 */
evb_err_t evb__pipe_validate_create(const evb__pipe_scope_t *sc,
                                    const char *name, const json_t *req,
                                    json_t **def, const char **desired,
                                    char *errstr, size_t errstr_size);

/* Merge an UpdatePipe request into a copy of the stored definition
 * (*def_out, new) and validate the result. *desired is NULL when the
 * request does not set DesiredState. */
evb_err_t evb__pipe_validate_update(const evb__pipe_scope_t *sc,
                                    const char *name, const json_t *old_def,
                                    const json_t *req, json_t **def_out,
                                    const char **desired, char *errstr,
                                    size_t errstr_size);

/* Validate a TagMap (1..50 entries, key 1..128, value 0..256). */
evb_err_t evb__pipe_validate_tags(const json_t *tags, const char *path,
                                  char *errstr, size_t errstr_size);

/* Compile a stored definition. */
evb_err_t evb__pipe_spec_compile(const evb__pipe_scope_t *sc,
                                 const json_t *def, evb__pipe_spec_t **out,
                                 char *errstr, size_t errstr_size);
void evb__pipe_spec_free(evb__pipe_spec_t *s);

/* ---- control.c: the service ------------------------------------------------- */

typedef struct evb__runner evb__runner_t;

typedef struct evb__pipe {
    struct evb__pipe *next;
    char *name, *arn;
    json_t *def; /* the stored definition */
    char desired[16];
    char current[32];
    char *reason; /* StateReason, or NULL */
    char *group_id;
    int64_t created_ms, modified_ms;
    uint64_t generation;  /* bumped by every change the runner must see */
    uint64_t failed_gen;  /* the generation whose runner failed to start */
    bool deleting;
    evb__runner_t *runner;
    evb_pipe_stats_t stats; /* of runners that have finished */
} evb__pipe_t;

struct evb_pipe_service {
    evb_pipe_service_config_t cfg; /* arrays below are copies */
    evb_pipe_msk_cluster_t *msk;
    evb_pipe_secret_t *secrets;
    char **kafka_props; /* 2 * cfg.nkafka_props strings */
    char account[16], region[64];
    pthread_mutex_t mu; /* the pipe list and every pipe's fields; runners
                           never take it */
    evb__pipe_t *pipes;
    size_t npipes;
    /* the supervisor's wake-up (a lock of its own: a runner that finishes
     * kicks while the supervisor may hold mu to join another) */
    pthread_mutex_t kick_mu;
    pthread_cond_t kick_cv;
    bool stop, kicked; /* under kick_mu */
    pthread_t supervisor;
    bool supervisor_started;
};

/* Wake the supervisor. */
void evb__pipe_kick(evb_pipe_service_t *svc);

/* ---- runner.c --------------------------------------------------------------- */

struct evb__runner {
    evb_pipe_service_t *svc;
    char *name, *arn, *group_id;
    evb__pipe_spec_t *spec; /* owned */
    uint64_t generation;
    pthread_t thread;
    atomic_bool stop;      /* asked to stop */
    atomic_bool started;   /* the source is open */
    atomic_bool finished;  /* the thread is done (join it) */
    atomic_bool failed;    /* could not start: reason says why */
    pthread_mutex_t mu;    /* reason, last_error, the stop wait */
    pthread_cond_t cv;
    char reason[512];
    char last_error[512]; /* the last failed attempt, "" after success */
    /* counters */
    atomic_uint_least64_t records_in, records_filtered, records_out,
        records_invalid, records_undecodable, batches, batch_failures, commits;
};

/* Start a runner thread for a pipe (spec is taken over). */
evb_err_t evb__runner_start(evb_pipe_service_t *svc, const evb__pipe_t *p,
                            evb__pipe_spec_t *spec, evb__runner_t **out,
                            char *errstr, size_t errstr_size);
/* Ask it to stop (returns at once). */
void evb__runner_request_stop(evb__runner_t *r);
/* Join a finished (or stopping) runner and free it. */
void evb__runner_join_free(evb__runner_t *r);
void evb__runner_stats(const evb__runner_t *r, evb_pipe_stats_t *out);

/* Build the source configuration of a pipe: bootstrap servers (MSK
 * mapping), group, properties from secrets. *props (key, value, key,
 * value, ...) and *bootstrap are heap-allocated (evb__free_props).
 * redact: secret values become "(secret)". */
evb_err_t evb__pipe_source_props(const evb_pipe_service_t *svc,
                                 const evb__pipe_spec_t *spec, bool redact,
                                 char **bootstrap, char ***props,
                                 size_t *nprops, char *errstr,
                                 size_t errstr_size);
void evb__free_props(char **props, size_t n);

/* ---- targets.c ---------------------------------------------------------------- */

/* One record's slot in a batch: a copy of the raw record, its shape. */
typedef struct evb__slot {
    evb_pipe_shaped_t shaped;
    bool shaped_ok;
    /* raw copy, for shaping again after a decode retry */
    char *topic;
    int32_t partition;
    int64_t offset, timestamp_ms;
    evb_pipe_ts_type_t ts_type;
    evb_buf_t key, value;
    bool has_key, has_value;
    evb_pipe_header_t *headers;
    size_t nheaders, cap_headers;
    evb_buf_t hdr_data; /* header names and values, back to back */
    json_t *tview;       /* template view, made on demand */
} evb__slot_t;

/* Shape a slot's record again (after the decode hook asked for a retry). */
evb_pipe_decode_result_t evb__slot_reshape(evb__runner_t *r, evb__slot_t *s,
                                           char *errstr, size_t errstr_size);

/*
 * Run one batch through filter, enrichment, template and target. Returns
 * EVB_ERR_OK when the batch is settled (every item accepted by the target,
 * filtered out, or refused for good and counted) and its offsets may be
 * committed; any other code means retry the whole batch (errstr: why).
 */
evb_err_t evb__process_batch(evb__runner_t *r, evb_match_ctx_t *ctx,
                             evb__slot_t *slots, size_t n, char *errstr,
                             size_t errstr_size);

/*
 * Several batches of one lane, in order, settled together: each is
 * filtered, enriched and templated on its own and handed to the target
 * in its own calls, but an event-bus target commits all their PutEvents
 * calls in one store unit. Same answer as evb__process_batch, for all of
 * them: EVB_ERR_OK when every batch is settled, anything else means retry
 * them all (the target may have taken some: at least once, as ever).
 */
typedef struct evb__batch_ref {
    evb__slot_t *slots;
    size_t n;
} evb__batch_ref_t;

evb_err_t evb__process_batches(evb__runner_t *r, evb_match_ctx_t *ctx,
                               const evb__batch_ref_t *batches, size_t nb,
                               char *errstr, size_t errstr_size);

#endif
