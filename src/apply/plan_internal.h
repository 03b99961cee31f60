/*
 * plan_internal.h: the plan as plan.c builds it and execute.c runs it.
 */
#ifndef EVB_APPLY_PLAN_INTERNAL_H
#define EVB_APPLY_PLAN_INTERNAL_H

#include "apply_internal.h"

typedef struct evb__apply_step {
    evb_apply_step_t pub;
    const evb__apply_res_t *res; /* the document's resource; NULL: delete */
    const json_t *live;          /* the server's; NULL: create */
    bool replace;                /* an update done as delete + create */
    bool record;                 /* the record entry must be (re)written */
    bool secrets_changed;        /* connections: send the secrets again */
    char *id, *changes, *note;   /* owned (pub points at them) */
} evb__apply_step_t;

struct evb_apply_plan {
    const evb_apply_doc_t *doc;
    const json_t *state;
    evb__apply_step_t *steps;
    size_t n;
    json_t *arns;  /* "<kind code>/<name>" -> ARN learnt while executing */
    json_t *stale; /* record keys of this stack whose resource is gone */
};

/* The ARN of a referenced resource (kind k, name), from what execution
 * learnt, else the state, else for buses, queues and log groups the ARN
 * they will have; NULL when not known yet (a connection or an API
 * destination still to be created). Caller frees. */
char *evb__apply_ref_arn(const evb_apply_plan_t *plan, evb_apply_kind_t k,
                         const char *name);

/* A target of the document as PutTargets wants it, references resolved;
 * *unresolved is set when some ARN is not known yet. Caller decrefs. */
json_t *evb__apply_target_body(const evb_apply_plan_t *plan,
                               const json_t *target, bool *unresolved);

/* A pipe of the document as CreatePipe wants it (no Name, no Tags):
 * target and enrichment references resolved (*unresolved set when some ARN
 * is not known yet). Caller decrefs. */
json_t *evb__apply_pipe_body(const evb_apply_plan_t *plan, const json_t *spec,
                             bool *unresolved);
/* Is member one of the Kafka parameters UpdatePipe cannot change? */
bool evb__apply_kafka_fixed(const char *member);

/* Queue attributes the server should end with: the file's over SQS's
 * defaults. Caller decrefs. */
json_t *evb__apply_queue_desired(const json_t *spec);
/* The attribute names apply compares and resets. */
bool evb__apply_queue_attr_settable(const char *name);

#endif
