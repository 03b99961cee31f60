/*
 * transform: what a rule target receives, as EventBridge computes it.
 *
 * A target says what to send with at most one of three options (reference
 * §3): Input (constant JSON text), InputPath (one JSONPath into the event)
 * or InputTransformer (an InputPathsMap of variables plus an InputTemplate
 * that uses them); with none of them the whole event is sent.
 *
 * The work is split the way EventBridge splits it:
 *
 * - evb_transform_compile() runs at PutTargets time. It checks the API
 *   model's constraints and EventBridge's own rules and returns
 *   EventBridge's messages (the target id is taken for them), then keeps
 *   everything apply needs pre-parsed: JSONPaths as step lists, the
 *   template as literal pieces and placeholders, each placeholder marked
 *   as standing inside or outside a JSON string.
 * - evb_transform_apply() runs once per delivery and renders the payload
 *   byte for byte (the quoting rules are documented at the function).
 *
 * A compiled evb_transform_t is immutable: any number of threads may
 * apply it at once. apply allocates only from a private arena that it
 * frees before returning.
 */
#ifndef EVB_TRANSFORM_H
#define EVB_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

/* Limits from EventBridge's API model (lengths in UTF-16 code units, as
 * AWS counts them). */
#define EVB_TRANSFORM_MAX_INPUT 8192     /* Input */
#define EVB_TRANSFORM_MAX_INPUT_PATH 256 /* InputPath, InputPathsMap values */
#define EVB_TRANSFORM_MAX_PATHS 100      /* InputPathsMap entries */
#define EVB_TRANSFORM_MAX_KEY 256        /* InputPathsMap keys */
#define EVB_TRANSFORM_MAX_TEMPLATE 8192  /* InputTemplate (min 1) */
/* Event nesting accepted at apply time (the pattern engine's default). */
#define EVB_TRANSFORM_MAX_DEPTH 1000

/*
 * The code apply and log_message return when the rendered payload cannot
 * be delivered (a JSON template whose output is not valid JSON; a log
 * message of the wrong shape). EventBridge drops such events silently, so
 * the caller drops and counts them and must not retry. It is common.h's
 * EVB_ERR_INVALID_OUTPUT, distinct from the EVB_ERR_INVALID_ARG of
 * PutTargets-time validation; test against this name.
 */
#define EVB_TRANSFORM_ERR_UNDELIVERABLE EVB_ERR_INVALID_OUTPUT

typedef enum evb_transform_kind {
    EVB_TRANSFORM_EVENT,       /* no option: the whole event */
    EVB_TRANSFORM_INPUT,       /* Input: a constant JSON text */
    EVB_TRANSFORM_INPUT_PATH,  /* InputPath: part of the event */
    EVB_TRANSFORM_TRANSFORMER, /* InputTransformer */
} evb_transform_kind_t;

/* One InputPathsMap entry. Byte ranges, not NUL-terminated strings, so
 * that a NUL inside a key is seen (and rejected). */
typedef struct evb_transform_path_entry {
    const char *key;
    size_t key_len;
    const char *path;
    size_t path_len;
} evb_transform_path_entry_t;

/* A target's input options as PutTargets received them. NULL means the
 * option (or InputTemplate) is absent; an empty string is present. */
typedef struct evb_transform_spec {
    unsigned target_index; /* 1-based position in the request, for model
                              messages ("targets.1.member..."); 0 means 1 */
    const char *input;
    size_t input_len;
    const char *input_path;
    size_t input_path_len;
    bool has_transformer;                    /* InputTransformer present */
    const evb_transform_path_entry_t *paths; /* InputPathsMap; a repeated
                                                key: the last one counts */
    size_t npaths;
    const char *input_template;
    size_t input_template_len;
} evb_transform_spec_t;

typedef struct evb_transform evb_transform_t;

/*
 * Validate a target's input options and compile them. target_id (the
 * target's Id, NUL-terminated) is copied and used in messages.
 *
 * Errors, all EVB_ERR_INVALID_ARG (a ValidationException), checked in
 * this order, with these messages:
 * - the API model's constraints, in AWS's form: "1 validation error
 *   detected: Value '...' at 'targets.1.member.inputTransformer.
 *   inputTemplate' failed to satisfy constraint: Member must have length
 *   less than or equal to 8192" (several are joined with "; " after
 *   "N validation errors detected: "). InputPathsMap keys must match
 *   [A-Za-z0-9\_\-]+, which is also what keeps the reserved aws.events.*
 *   names from being redefined;
 * - "Only one of Input, InputPath, or InputTransformer must be provided
 *   for target <id>.";
 * - "Input for target <id> is not a valid JSON text.";
 * - "InputPath for target <id> is invalid." (for InputPath and for every
 *   InputPathsMap value: a JSONPath must be $ followed by .name, .*, [n]
 *   or [*] steps);
 * - "InputTemplate for target <id> contains invalid placeholder <name>."
 *   (a <name> that is neither in the map nor reserved);
 * - "InputTemplate for target <id> contains placeholder <name> valid only
 *   for JSON template." (aws.events.event or aws.events.event.json in a
 *   template that does not start with '{');
 * - evbus's own checks of a JSON template, where AWS's wording is not
 *   known: "InputTemplate for target <id> uses placeholder <name> as an
 *   object key." and "InputTemplate for target <id> is not valid JSON:
 *   <reason>." (checked with every placeholder replaced by a value).
 * Also EVB_ERR_NOMEM. On success *out is owned by the caller
 * (evb_transform_free).
 */
evb_err_t evb_transform_compile(const evb_transform_spec_t *spec,
                                const char *target_id, evb_transform_t **out,
                                char *errstr, size_t errstr_size);

/*
 * The same from a target as JSON text, the PutTargets shape:
 * {"Id": "...", "Input": "...", "InputPath": "...", "InputTransformer":
 * {"InputPathsMap": {...}, "InputTemplate": "..."}, ...}. Other members
 * are ignored; JSON null means absent. A member of the wrong JSON type is
 * EVB_ERR_INVALID_ARG ("InputTransformer must be an object", ...); text
 * that is not a JSON object is EVB_ERR_INVALID_JSON.
 */
evb_err_t evb_transform_compile_json(const char *target_json, size_t len,
                                     unsigned target_index,
                                     evb_transform_t **out, char *errstr,
                                     size_t errstr_size);

void evb_transform_free(evb_transform_t *t);

evb_transform_kind_t evb_transform_kind(const evb_transform_t *t);
/* True for an InputTransformer whose template starts with '{' (after
 * whitespace): its output is checked to be JSON at apply time. */
bool evb_transform_is_json_template(const evb_transform_t *t);
const char *evb_transform_target_id(const evb_transform_t *t);

/*
 * Reserved variables that do not come from the event. Any field (or vars
 * itself) may be NULL: the variable is then empty, like a missing path.
 * <aws.events.event> and <aws.events.event.json> are built from the event
 * text given to apply.
 */
typedef struct evb_transform_vars {
    const char *rule_arn;       /* <aws.events.rule-arn> */
    const char *rule_name;      /* <aws.events.rule-name> */
    const char *ingestion_time; /* <aws.events.event.ingestion-time>, ISO
                                   8601; NULL: the event's "time" */
} evb_transform_vars_t;

/*
 * Render the payload for one event (the EventBridge envelope as JSON
 * text) and append it to out. On error out keeps its previous length.
 *
 * - EVENT: the event text, unchanged. INPUT: the Input text, unchanged.
 * - INPUT_PATH: the selected value as compact JSON (a string arrives as
 *   "baz", quotes included). A missing path, or a JSON null, gives null.
 * - TRANSFORMER with a JSON template (starts with '{'): the template text
 *   with each placeholder replaced; whitespace and layout are kept.
 *   Outside a JSON string: a string value is written as a JSON string
 *   (escaped: \" \\ \n \r \t \b \f, \u00XX for other control characters,
 *   UTF-8 kept as is); a number as its source text; true / false; an
 *   object or array as compact JSON; a missing path or JSON null as "".
 *   Inside a JSON string: the value is spliced in unescaped (a string's
 *   characters, a number's text, an object or array as compact JSON with
 *   its quotes), missing or null as nothing. The result must be valid
 *   JSON; if it is not (a quote or newline spliced into a string, an
 *   object inside quotes, ...) apply returns
 *   EVB_TRANSFORM_ERR_UNDELIVERABLE and the event is not delivered.
 * - TRANSFORMER with any other template (a string template such as
 *   "Event <x>", with its quotes, or several lines of them): the text is
 *   kept as is, quotes and newlines included; strings are spliced in
 *   unescaped, numbers and booleans as text, objects and arrays as compact
 *   JSON with every '"' removed ({a:1,b:x}), missing or null as nothing.
 *   Not checked.
 * - Reserved variables: rule ARN, rule name and ingestion time are strings
 *   and follow the rules above. <aws.events.event> is
 *   {"id","account","detailType","time","source","region","resources",
 *   "version"} from the event (time is the ingestion time when given);
 *   <aws.events.event.json> is the whole event; both as compact JSON.
 * - JSONPath: .name selects a member (the last one when a key repeats),
 *   [n] an array element; a path with a wildcard (.* or [*], matching
 *   every member or element) selects the array of all matches, possibly
 *   empty.
 *
 * Errors: EVB_TRANSFORM_ERR_UNDELIVERABLE (above; errstr says why),
 * EVB_ERR_INVALID_EVENT (the event is not valid JSON or is nested deeper
 * than EVB_TRANSFORM_MAX_DEPTH), EVB_ERR_TOO_LARGE (out's maximum),
 * EVB_ERR_NOMEM.
 */
evb_err_t evb_transform_apply(const evb_transform_t *t, const char *event_text,
                              size_t event_len,
                              const evb_transform_vars_t *vars, evb_buf_t *out,
                              char *errstr, size_t errstr_size);

/* ---- CloudWatch Logs targets (reference §3.4) ---------------------------- */

/*
 * PutTargets check for a target that is a CloudWatch log group: an
 * InputTransformer must have a JSON template (the template must be
 * {"timestamp":<timestamp>,"message":<message>}); otherwise
 * EVB_ERR_INVALID_ARG "Input for target <id> is not a valid JSON text."
 */
evb_err_t evb_transform_check_log_target(const evb_transform_t *t, char *errstr,
                                         size_t errstr_size);

/*
 * The log event for one event: its message is appended to message and
 * its time goes to *timestamp_ms (milliseconds since the epoch).
 * - Without an InputTransformer the payload (evb_transform_apply) is the
 *   message and the event's "time" is the timestamp (the ingestion time
 *   if the event has no usable time).
 * - With one, the rendered template must be a JSON object whose "message"
 *   is a string (its characters are the log message) and whose optional
 *   "timestamp" is epoch milliseconds (an integer) or an ISO-8601 time;
 *   without "timestamp" the event's time is used.
 * Errors as evb_transform_apply; a payload of the wrong shape or a time
 * that cannot be read is EVB_TRANSFORM_ERR_UNDELIVERABLE.
 */
evb_err_t evb_transform_log_message(const evb_transform_t *t,
                                    const char *event_text, size_t event_len,
                                    const evb_transform_vars_t *vars,
                                    evb_buf_t *message, int64_t *timestamp_ms,
                                    char *errstr, size_t errstr_size);

/* Parse an ISO-8601 date-time (YYYY-MM-DDTHH:MM:SS, optional fraction,
 * then Z, +HH:MM, +HHMM or nothing for UTC) into epoch milliseconds.
 * Returns false if text is not one. */
bool evb_transform_parse_time(const char *text, size_t len, int64_t *ms);

#endif
