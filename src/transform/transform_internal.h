/*
 * transform_internal.h: the compiled form shared by the transform module's
 * files (compile.c builds it, path.c evaluates paths, render.c renders,
 * logs.c formats log events). Not part of the public API.
 *
 * Design: compile does all the parsing once, so apply is a walk over
 * small arrays: a JSONPath is a list of steps, a template a list of
 * segments (literal byte ranges of the template, or a variable marked as
 * standing inside or outside a JSON string).
 */
#ifndef EVB_TRANSFORM_INTERNAL_H
#define EVB_TRANSFORM_INTERNAL_H

#include "../json/json.h"
#include "transform.h"

typedef enum {
    EVB__TSTEP_KEY,   /* .name */
    EVB__TSTEP_INDEX, /* [n] */
    EVB__TSTEP_ANY,   /* .* or [*] */
} evb__tstep_kind_t;

typedef struct evb__tstep {
    evb__tstep_kind_t kind;
    const char *key; /* KEY: bytes of the name */
    size_t klen;
    size_t index; /* INDEX */
} evb__tstep_t;

typedef struct evb__tpath {
    evb__tstep_t *steps; /* none: the path is $ */
    size_t n;
    bool wildcard; /* some step is ANY: the result is an array */
} evb__tpath_t;

typedef enum {
    EVB__TVAR_PATH,           /* an InputPathsMap entry */
    EVB__TVAR_RULE_ARN,       /* aws.events.rule-arn */
    EVB__TVAR_RULE_NAME,      /* aws.events.rule-name */
    EVB__TVAR_INGESTION_TIME, /* aws.events.event.ingestion-time */
    EVB__TVAR_EVENT,          /* aws.events.event */
    EVB__TVAR_EVENT_JSON,     /* aws.events.event.json */
} evb__tvar_kind_t;

typedef struct evb__tvar {
    evb__tvar_kind_t kind;
    const char *name; /* NUL-terminated */
    size_t nlen;
    evb__tpath_t path; /* PATH */
} evb__tvar_t;

/* A template piece: var < 0 is the literal text[off, off+len). */
typedef struct evb__tseg {
    size_t off, len;
    int var;
    bool in_string; /* JSON template: inside a string literal */
} evb__tseg_t;

struct evb_transform {
    evb_transform_kind_t kind;
    evb_arena_t arena; /* everything below */
    char *target_id;
    char *text; /* Input, or InputTemplate */
    size_t text_len;
    evb__tpath_t input_path;
    evb__tvar_t *vars; /* InputPathsMap entries, then reserved ones used */
    size_t nvars;
    evb__tseg_t *segs;
    size_t nsegs;
    bool json_template;
};

/* ---- path.c -------------------------------------------------------------- */

/* Parse a JSONPath into steps allocated from a (names point into a copy
 * made in a). false if it is not one evbus (and EventBridge) accepts;
 * *nomem tells an allocation failure apart. */
bool evb__tpath_parse(evb_arena_t *a, const char *s, size_t len,
                      evb__tpath_t *out, bool *nomem);

/* Evaluate against a parsed event. Returns the value, NULL when it is
 * missing; with a wildcard, a new array (from a) of every match. Sets
 * *nomem on allocation failure. */
const evb_jval_t *evb__tpath_eval(evb_arena_t *a, const evb__tpath_t *p,
                                  const evb_jval_t *root, bool *nomem);

/* A member of an object by key, the last one if the key repeats. */
const evb_jval_t *evb__json_member(const evb_jval_t *obj, const char *key,
                                   size_t klen);

/* ---- render.c ------------------------------------------------------------ */

/* Compact JSON for v (key order and duplicates kept, numbers as written,
 * strings escaped as in evb__emit_json_string). */
evb_err_t evb__emit_json(evb_buf_t *b, const evb_jval_t *v);
/* s as a JSON string literal, quotes included. */
evb_err_t evb__emit_json_string(evb_buf_t *b, const char *s, size_t len);

/* Render an InputTransformer template (no output check). The event is
 * parsed into a only if a variable needs it; errors as apply's. */
evb_err_t evb__render_template(const evb_transform_t *t, evb_arena_t *a,
                               const char *event_text, size_t event_len,
                               const evb_transform_vars_t *vars,
                               const evb_jval_t **root, evb_buf_t *out,
                               char *errstr, size_t errstr_size);

/* Parse event text into a, with apply's error reporting. */
evb_err_t evb__parse_event(evb_arena_t *a, const char *text, size_t len,
                           const evb_jval_t **root, char *errstr,
                           size_t errstr_size);

#endif
