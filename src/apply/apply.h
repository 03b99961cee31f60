/*
 * apply: declarative configuration for `evbus apply -f FILE`.
 *
 * A document (YAML through libyaml, or JSON; docs/cli/apply.md has the
 * format) lists the buses, connections, API destinations, rules with
 * targets, archives, queues, log groups, schema registry subjects and
 * pipes a running evbus server should have. apply reads the server's live state through its own APIs, computes
 * a plan (create, update, delete or unchanged for each resource), prints
 * it, and carries it out through the same APIs (AWS JSON 1.1 AWSEvents.*
 * and Logs_20140328.*, AWS JSON 1.0 AmazonSQS.*, the schema registry's
 * and Pipes' REST APIs) over HTTP with libcurl,
 * so every change goes through the API's validation.
 *
 * The pieces, each usable on its own (the tests drive them one by one):
 *
 *   text --evb_apply_doc_load--> doc        (schema errors with file:line)
 *   server --evb_apply_state_read--> state  (a JSON object, see below)
 *   doc + state --evb_apply_plan_compute--> plan
 *   plan --evb_apply_plan_execute--> server
 *
 * Ownership. apply deletes a resource that is not in the file only if it
 * manages it: the ownership record is a set of tags on the default event
 * bus, one per managed resource, key "evbus:apply:<kind>:<16 hex digits of
 * a hash of the resource's name>", value "<stack>:<digest>:<name>" (the
 * name cut to fit 256 characters; <digest> is "-" except for connections,
 * where it is a salted digest of the secrets so that a changed secret is
 * noticed although the server never shows secrets). The document's
 * `stack` (default "default") scopes the record: applying one stack never
 * deletes another stack's resources. --prune (opts.prune) also deletes
 * unmanaged resources that are not in the file.
 *
 * Memory: every object returned is owned by the caller and freed with its
 * _free function; strings handed out by accessors live as long as their
 * owner. Nothing here is thread-safe; use one set of objects per thread.
 */
#ifndef EVB_APPLY_H
#define EVB_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "../common/common.h"

/* The server apply talks to when no --endpoint-url is given (serve's
 * default listen address). */
#define EVB_APPLY_DEFAULT_ENDPOINT "http://127.0.0.1:4010"

/* ---- diagnostics ------------------------------------------------------- */

/* One problem found in a document, "file:line: message" when printed. */
typedef struct evb_apply_diag {
    char *file;    /* as given to evb_apply_doc_load */
    unsigned line; /* 1-based; 0 when the problem has no place */
    char *message;
} evb_apply_diag_t;

typedef struct evb_apply_diags {
    evb_apply_diag_t *items;
    size_t n;
    bool nomem; /* some diagnostic could not be recorded */
} evb_apply_diags_t;

void evb_apply_diags_init(evb_apply_diags_t *d);
void evb_apply_diags_free(evb_apply_diags_t *d);
/* Print each as "file:line: message" (or "file: message"), one a line. */
void evb_apply_diags_print(const evb_apply_diags_t *d, FILE *out);

/* ---- the generic document tree ----------------------------------------- */

/*
 * YAML and JSON are read into the same tree, every node with the line and
 * column it starts at. Plain YAML scalars are typed by the YAML 1.2 core
 * schema (null, true/false, integers, floats, else strings); quoted ones
 * are strings. ${NAME} in a string is replaced by the environment variable
 * NAME ($${ stands for a literal ${); a reference to an unset variable is
 * an error.
 */
typedef enum evb_apply_node_type {
    EVB_APPLY_NULL,
    EVB_APPLY_BOOL,
    EVB_APPLY_INT,
    EVB_APPLY_FLOAT,
    EVB_APPLY_STRING,
    EVB_APPLY_MAP,
    EVB_APPLY_SEQ,
} evb_apply_node_type_t;

typedef struct evb_apply_node evb_apply_node_t;

typedef struct evb_apply_member {
    const char *key;
    unsigned line, col; /* of the key */
    evb_apply_node_t *value;
} evb_apply_member_t;

struct evb_apply_node {
    evb_apply_node_type_t type;
    unsigned line, col; /* 1-based */
    /* scalars: the text (strings after ${} expansion; numbers as written;
     * bools "true"/"false"; null "null") */
    const char *str;
    size_t len;
    bool from_env;               /* a string that held a ${NAME} reference */
    evb_apply_member_t *members; /* MAP: in document order */
    evb_apply_node_t **items;    /* SEQ */
    size_t n;                    /* members or items */
};

typedef enum evb_apply_format {
    EVB_APPLY_FORMAT_AUTO, /* by extension (.json), else by content */
    EVB_APPLY_FORMAT_YAML,
    EVB_APPLY_FORMAT_JSON,
} evb_apply_format_t;

/* Looks up environment variables (getenv's contract); NULL: getenv. */
typedef const char *(*evb_apply_getenv_fn)(void *ud, const char *name);

/* ---- documents ---------------------------------------------------------- */

/* The resource kinds, in the order they are created (dependencies first);
 * deletes go in the reverse order. */
typedef enum evb_apply_kind {
    EVB_APPLY_SCHEMA, /* a schema registry subject */
    EVB_APPLY_LOG_GROUP,
    EVB_APPLY_QUEUE,
    EVB_APPLY_BUS,
    EVB_APPLY_CONNECTION,
    EVB_APPLY_API_DESTINATION,
    EVB_APPLY_ARCHIVE,
    EVB_APPLY_RULE,
    EVB_APPLY_PIPE, /* after rules: events it brings find them in place */
    EVB_APPLY_KIND_COUNT
} evb_apply_kind_t;

/* "log group", "queue", "bus", "connection", "api destination", ... */
const char *evb_apply_kind_name(evb_apply_kind_t k);
/* The document key of the kind's list: "logGroups", "queues", ... */
const char *evb_apply_kind_key(evb_apply_kind_t k);

typedef struct evb_apply_doc evb_apply_doc_t;

/* Print the reference of the document format (Markdown tables, one per
 * object, from the same tables that drive parsing): docs/cli/apply.md
 * holds a copy that the tests compare with this. */
void evb_apply_reference_print(FILE *out);

typedef struct evb_apply_load_opts {
    evb_apply_format_t format;
    evb_apply_getenv_fn getenv_fn; /* NULL: getenv */
    void *getenv_ud;
} evb_apply_load_opts_t;

/*
 * Parse and check the document text[0..len) read from path (path is only
 * used in messages; "-" for stdin). Checks everything that needs no
 * server: syntax, unknown keys, types, required keys, names against the
 * API's patterns and lengths (the API's ValidationException texts),
 * duplicates, ${} references, and event patterns, schedules and input
 * transformers with the code the API itself runs. On failure returns
 * EVB_ERR_INVALID_ARG (or EVB_ERR_NOMEM) with every problem found in
 * diags and *out NULL. Free the document with evb_apply_doc_free.
 */
evb_err_t evb_apply_doc_load(const char *path, const char *text, size_t len,
                             const evb_apply_load_opts_t *opts,
                             evb_apply_doc_t **out, evb_apply_diags_t *diags);
void evb_apply_doc_free(evb_apply_doc_t *doc);

/* The parsed tree (valid while the document lives). */
const evb_apply_node_t *evb_apply_doc_root(const evb_apply_doc_t *doc);
const char *evb_apply_doc_stack(const evb_apply_doc_t *doc);
const char *evb_apply_doc_path(const evb_apply_doc_t *doc);
/* Number of resources of kind k in the document. */
size_t evb_apply_doc_count(const evb_apply_doc_t *doc, evb_apply_kind_t k);
/* The line a resource starts at (rules: id "bus/name"), 0 if absent. */
unsigned evb_apply_doc_line(const evb_apply_doc_t *doc, evb_apply_kind_t k,
                            const char *id);

/*
 * Parse text into the generic tree only (no schema), for tests and tools.
 * The tree lives in arena a. Errors: EVB_ERR_INVALID_ARG with
 * "line N: why" in errstr, EVB_ERR_NOMEM.
 */
evb_err_t evb_apply_tree_parse(evb_arena_t *a, const char *text, size_t len,
                               evb_apply_format_t format,
                               const evb_apply_load_opts_t *opts,
                               evb_apply_node_t **out, char *errstr,
                               size_t errstr_size);

/* ---- the server --------------------------------------------------------- */

typedef struct evb_apply_client evb_apply_client_t;

/* A client for the evbus server at endpoint ("http://host:port"). */
evb_err_t evb_apply_client_new(const char *endpoint, evb_apply_client_t **out,
                               char *errstr, size_t errstr_size);
void evb_apply_client_free(evb_apply_client_t *c);

/* The outcome of one API call. */
typedef struct evb_apply_call_error {
    char type[128];     /* "ValidationException"; "" for transport errors */
    char message[1024]; /* the server's message, or why the call failed */
} evb_apply_call_error_t;

/*
 * Call target ("AWSEvents.PutRule", "Logs_20140328.CreateLogGroup",
 * "AmazonSQS.CreateQueue": the JSON protocol version follows the prefix)
 * with the JSON object req (borrowed). On success *resp is the answer
 * (an empty object for an empty body), owned by the caller. Errors:
 * EVB_ERR_IO (server unreachable or not speaking JSON; err->type ""),
 * EVB_ERR_INVALID_ARG (the server answered an error: err->type and
 * err->message are the API's).
 */
evb_err_t evb_apply_call(evb_apply_client_t *c, const char *target,
                         const json_t *req, json_t **resp,
                         evb_apply_call_error_t *err);

/*
 * Read the live state the document needs to be planned against, as a
 * JSON object (owned by the caller):
 *
 *   {"account": "000000000000", "region": "us-east-1",
 *    "endpoint": "http://127.0.0.1:4010",
 *    "record": {"<tag key>": "<tag value>", ...},
 *    "logGroups": {"<name>": {"retentionInDays": 7}, ...},
 *    "queues": {"<name>": {"Attributes": {...}}, ...},
 *    "buses": {"<name>": {"Arn": ..., "Description": ..., "Tags": {k: v}}},
 *    "connections": {"<name>": <DescribeConnection>, ...},
 *    "apiDestinations": {"<name>": <DescribeApiDestination>, ...},
 *    "archives": {"<name>": <DescribeArchive>, ...},
 *    "rules": {"<bus>/<name>": <DescribeRule> + "Targets": [...] +
 *              "Tags": {k: v}, ...},
 *    "schemas": {"<subject>": {"latest": <GET .../versions/latest>,
 *                "compatibility": "FULL" (the subject's own level, if any),
 *                "lookup": <POST /subjects/{s} of the file's schema>
 *                (absent when the subject lacks it)}, ...},
 *    "pipes": {"<name>": <DescribePipe>, ...}}
 *
 * A server without the schema registry or Pipes APIs is fine as long as
 * the document has no schemas or pipes.
 *
 * Details (Describe calls, targets, tags) are read for the resources the
 * document names or the record manages, and, with prune, for all. Errors:
 * EVB_ERR_IO with the reason in errstr.
 */
evb_err_t evb_apply_state_read(evb_apply_client_t *c,
                               const evb_apply_doc_t *doc, bool prune,
                               json_t **state, char *errstr,
                               size_t errstr_size);

/*
 * Check every event pattern of the document with the server's
 * TestEventPattern, and every schema with the registry's lookup (no side
 * effects; an invalid schema is its 42201), so that an invalid pattern or
 * schema stops the apply before anything changes. Problems go to diags as
 * "file:line: InvalidEventPatternException: ..."; returns
 * EVB_ERR_INVALID_ARG if there was any, EVB_ERR_IO if the server could not
 * be asked.
 */
evb_err_t evb_apply_preflight(evb_apply_client_t *c, const evb_apply_doc_t *doc,
                              evb_apply_diags_t *diags, char *errstr,
                              size_t errstr_size);

/* ---- plans -------------------------------------------------------------- */

typedef enum evb_apply_action {
    EVB_APPLY_CREATE,
    EVB_APPLY_UPDATE,
    EVB_APPLY_DELETE,
    EVB_APPLY_UNCHANGED,
    EVB_APPLY_ACTION_COUNT
} evb_apply_action_t;

/* "create", "update", "delete", "unchanged" */
const char *evb_apply_action_name(evb_apply_action_t a);

typedef struct evb_apply_step {
    evb_apply_action_t action;
    evb_apply_kind_t kind;
    const char *id;      /* name ("bus/name" for rules) */
    unsigned line;       /* in the document; 0 for deletes */
    const char *changes; /* updates: what changes ("description, targets"),
                            never a secret's value; else "" */
    const char *note;    /* e.g. "replaces: bus changes"; "" if none */
} evb_apply_step_t;

typedef struct evb_apply_plan evb_apply_plan_t;

typedef struct evb_apply_plan_opts {
    bool prune; /* also delete unmanaged resources missing from the file */
} evb_apply_plan_opts_t;

/*
 * Compare doc with state (evb_apply_state_read's shape) and decide what to
 * do, in execution order: creates and updates by kind in dependency order
 * (log groups, queues, buses, connections, API destinations, archives,
 * rules), then deletes in the reverse order; within a kind by id.
 * Resolving references (a rule's bus, a target's queue, ...) that are
 * neither in the document nor on the server fails with
 * EVB_ERR_INVALID_ARG and diags ("file:line: ..."). The state is borrowed
 * and must outlive the plan. Free with evb_apply_plan_free.
 */
evb_err_t evb_apply_plan_compute(const evb_apply_doc_t *doc,
                                 const json_t *state,
                                 const evb_apply_plan_opts_t *opts,
                                 evb_apply_plan_t **out,
                                 evb_apply_diags_t *diags);
void evb_apply_plan_free(evb_apply_plan_t *plan);

size_t evb_apply_plan_size(const evb_apply_plan_t *plan);
const evb_apply_step_t *evb_apply_plan_step(const evb_apply_plan_t *plan,
                                            size_t i);
/* How many steps have action a. */
size_t evb_apply_plan_count(const evb_apply_plan_t *plan, evb_apply_action_t a);
/* Print the plan, one step a line, then a summary line. Never prints a
 * secret. */
void evb_apply_plan_print(const evb_apply_plan_t *plan, FILE *out);

/*
 * Carry the plan out through c, printing one line per change to out (may
 * be NULL). Stops at the first failing call: EVB_ERR_INVALID_ARG (the
 * API refused; errstr "file:line: kind name: Action: Type: message") or
 * EVB_ERR_IO (transport). What was done before stays done; applying again
 * continues from there.
 */
evb_err_t evb_apply_plan_execute(evb_apply_plan_t *plan, evb_apply_client_t *c,
                                 FILE *out, char *errstr, size_t errstr_size);

#endif
