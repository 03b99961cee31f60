/*
 * apply_internal.h: what the files of the apply module share.
 *
 *   tree.c     YAML and JSON into evb_apply_node_t trees (line numbers)
 *   doc.c      the document schema (one table per resource shape): checks
 *              a tree and converts each resource into its API request
 *   client.c   libcurl client for the server's AWS JSON APIs
 *   state.c    reading the live state; the preflight pattern check
 *   plan.c     comparing document and state into a plan; printing it
 *   execute.c  carrying a plan out
 *   util.c     diagnostics, JSON helpers, the ownership record's keys
 *
 * Adding a kind: a value in evb_apply_kind_t at its place in the
 * dependency order, its code in util.c, its shape and KINDS row in doc.c
 * (then regenerate docs/cli/apply.md with `evbus apply --reference`), its
 * listing in state.c, its comparison (COMPARE) in plan.c and its calls
 * (DO) in execute.c. Schemas and pipes use the REST calls of client.c
 * (evb__apply_rest) rather than evb_apply_call.
 *
 * A converted resource (evb__apply_res_t.spec) is a jansson object whose
 * members carry the API's member names ("EventPattern", "Targets"...)
 * plus apply's own members, whose names start with '@': "@line" (the line
 * of the object), "@lines" ({member: line}), and references to resolve
 * ("@bus", "@queue", "@connection", ...). evb__apply_api_body strips the
 * '@' members before a request is sent.
 */
#ifndef EVB_APPLY_INTERNAL_H
#define EVB_APPLY_INTERNAL_H

#include <stdarg.h>

#include "apply.h"

/* One resource of the document. */
typedef struct evb__apply_res {
    evb_apply_kind_t kind;
    const char *id; /* identity: the name; "bus/name" for rules */
    unsigned line;
    json_t *spec; /* owned */
} evb__apply_res_t;

struct evb_apply_doc {
    evb_arena_t arena; /* the tree, ids, path */
    const char *path;
    const char *stack;
    evb_apply_node_t *root;
    evb__apply_res_t *res[EVB_APPLY_KIND_COUNT]; /* malloc'd arrays */
    size_t nres[EVB_APPLY_KIND_COUNT];
};

/* tree.c */
evb_err_t evb__apply_tree_parse(evb_arena_t *a, const char *text, size_t len,
                                evb_apply_format_t format,
                                const evb_apply_load_opts_t *opts,
                                evb_apply_node_t **out, unsigned *err_line,
                                char *errstr, size_t errstr_size);
/* The value of key in a MAP node, or NULL. */
const evb_apply_node_t *evb__apply_get(const evb_apply_node_t *map,
                                       const char *key);

/* util.c: diagnostics */
void evb__apply_diag(evb_apply_diags_t *d, const char *file, unsigned line,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void evb__apply_vdiag(evb_apply_diags_t *d, const char *file, unsigned line,
                      const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* util.c: JSON */
/* A deep copy of v without the members whose names start with '@'. */
json_t *evb__apply_api_body(const json_t *v);
/* A deep copy without nulls, empty arrays, empty objects and
 * "IsValueSecret": false, for comparing what the document says with what
 * the server answers (which drops or keeps empties as it likes). */
json_t *evb__apply_normalize(const json_t *v);
/* Are a and b the same after evb__apply_normalize? */
bool evb__apply_same(const json_t *a, const json_t *b);
/* Are two JSON texts (NULL or "" for none) the same JSON value? Texts
 * that do not parse are compared as text. */
bool evb__apply_same_json_text(const char *a, const char *b);
/* String member or "" when absent. */
const char *evb__apply_str(const json_t *o, const char *key);
/* A compact, deterministic JSON text (caller frees). */
char *evb__apply_dump(const json_t *v);
/* The line of member key of o ("@lines"), else o's own "@line". */
unsigned evb__apply_line_of(const json_t *o, const char *key);

/* util.c: the ownership record */
#define EVB__APPLY_RECORD_PREFIX "evbus:apply:"
/* Tag key for a resource: "evbus:apply:<kind code>:<16 hex>". */
void evb__apply_record_key(evb_apply_kind_t k, const char *id, char out[64]);
/* Tag value "<stack>:<digest>:<id>" cut to 256 characters (caller
 * frees). digest NULL: "-". */
char *evb__apply_record_value(const char *stack, const char *digest,
                              const char *id);
/* Split a value; false if it is not one. stack and digest are copied into
 * the buffers (64 and 80 bytes). */
bool evb__apply_record_parse(const char *value, char stack[65],
                             char digest[81]);
/* The short code of a kind in record keys ("bus", "rule", ...). */
const char *evb__apply_kind_code(evb_apply_kind_t k);
/* A salted digest of a connection's secrets (the AuthParameters with their
 * secret members), "salt.md5hex"; salt NULL: a new random one. Caller
 * frees. */
char *evb__apply_secret_digest(const json_t *auth, const char *salt);
/* The secrets of AuthParameters, as a new object of only the secret
 * members (Password, ApiKeyValue, ClientSecret, secret parameter values). */
json_t *evb__apply_secrets_of(const json_t *auth);
/* Replace, in text (a buffer of size bytes), every secret of the
 * document's connections by "(secret)": for server messages that quote a
 * value. */
void evb__apply_scrub(char *text, size_t size, const evb_apply_doc_t *doc);
/* A copy of AuthParameters without any secret value (what the server
 * shows). */
json_t *evb__apply_redact(const json_t *auth);

/* ARNs in the server's account and region. Caller frees. */
char *evb__apply_bus_arn(const json_t *state, const char *bus);
char *evb__apply_queue_arn(const json_t *state, const char *queue);
char *evb__apply_log_group_arn(const json_t *state, const char *group);
/* http://host:port/<account>/<queue> */
char *evb__apply_queue_url(const json_t *state, const char *queue);

/* client.c: the endpoint the client calls (with a trailing '/'). */
const char *evb__apply_client_endpoint(const evb_apply_client_t *c);
/* client.c: a REST call (the schema registry's and Pipes' APIs on the same
 * port): method on path ("/subjects/x/versions", starting with '/', already
 * escaped) with the JSON body req (borrowed; NULL: none). On success
 * *resp is the answer (any JSON value; {} when empty), owned by the
 * caller; *status (may be NULL) gets the HTTP status whenever there was an
 * answer. Errors: EVB_ERR_IO (transport, err->type ""), EVB_ERR_INVALID_ARG
 * (an error answer: err->type is the registry's error_code ("42201") or
 * the x-amzn-ErrorType ("ValidationException"), err->message its
 * message). */
evb_err_t evb__apply_rest(evb_apply_client_t *c, const char *method,
                          const char *path, const json_t *req, json_t **resp,
                          long *status, evb_apply_call_error_t *err);
/* s escaped for one path segment (caller frees), NULL: out of memory. */
char *evb__apply_escape(evb_apply_client_t *c, const char *s);

/* doc.c: the resource of kind k with identity id, or NULL. */
const evb__apply_res_t *evb__apply_doc_find(const evb_apply_doc_t *doc,
                                            evb_apply_kind_t k, const char *id);

/* state.c: the state's object for kind k ("buses", ...). */
const char *evb__apply_state_key(evb_apply_kind_t k);

#endif
