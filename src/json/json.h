/*
 * json: JSON for evbus's own parsers.
 *
 * Two tools live here:
 *
 * 1. A small DOM parser (evb_json_parse) for texts evbus must validate
 *    exactly and report on like AWS does (event patterns): it keeps object
 *    members in document order (duplicates included), keeps the source
 *    text of numbers, records line and column of each value, and words its
 *    syntax errors the way Jackson (the parser behind EventBridge) does.
 *    Everything is allocated from a caller's arena.
 *
 * 2. A fast streaming flattener (evb_json_scan) for event text: it walks an
 *    event once, asks the caller which object keys are interesting, skips
 *    (while still validating) every subtree nobody asked for, and hands the
 *    caller each interesting leaf with its array positions. This is the
 *    matcher's hot path; it allocates nothing.
 *
 * Both reject invalid JSON with a message saying where and why.
 */
#ifndef EVB_JSON_H
#define EVB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

typedef enum evb_json_type {
    EVB_JSON_NULL,
    EVB_JSON_FALSE,
    EVB_JSON_TRUE,
    EVB_JSON_NUMBER,
    EVB_JSON_STRING,
    EVB_JSON_ARRAY,
    EVB_JSON_OBJECT
} evb_json_type_t;

typedef struct evb_jval evb_jval_t;
typedef struct evb_jmember {
    const char *key; /* unescaped, NUL-terminated (may contain NULs) */
    size_t klen;
    evb_jval_t *val;
} evb_jmember_t;

struct evb_jval {
    evb_json_type_t type;
    uint32_t line, col; /* 1-based position of the value's first byte */
    const char *src;    /* the value's source text ... */
    size_t src_len;     /* ... and its length */
    union {
        struct {
            const char *s; /* unescaped (string) or source text (number) */
            size_t len;
        } str;
        struct {
            evb_jval_t **items;
            size_t n;
        } arr;
        struct {
            evb_jmember_t *members; /* document order, duplicates kept */
            size_t n;
        } obj;
    } u;
};

/*
 * Parse text into a DOM allocated from arena a. Rejects trailing content
 * and nesting deeper than max_depth. On error returns EVB_ERR_INVALID_JSON
 * with a Jackson-style reason in errstr (e.g. "Unrecognized token 'this':
 * was expecting (JSON String, Number, Array, Object or token 'null',
 * 'true' or 'false')"), or EVB_ERR_NOMEM.
 */
evb_err_t evb_json_parse(evb_arena_t *a, const char *text, size_t len,
                         unsigned max_depth, evb_jval_t **out, char *errstr,
                         size_t errstr_size);

/* Name of a type for messages ("string", "number", ...). */
const char *evb_json_type_name(evb_json_type_t t);

/* ---- streaming flattener ------------------------------------------------ */

/* One array level enclosing a leaf: which array (unique per event) and the
 * element index within it. */
typedef struct evb_json_apos {
    uint32_t array_id;
    uint32_t index;
} evb_json_apos_t;

typedef struct evb_json_leaf {
    evb_json_type_t type; /* never ARRAY or OBJECT */
    const char *text;     /* string: unescaped bytes; number: source text */
    size_t len;
    const evb_json_apos_t *apos; /* enclosing arrays, outermost first */
    uint32_t depth;              /* number of entries in apos */
    uint32_t apos_version;       /* changes whenever apos changes */
} evb_json_leaf_t;

/*
 * Callbacks. Nodes are the caller's opaque path nodes; the root node is
 * given to evb_json_scan.
 * - child(node, key, klen): the node for member key under node, or NULL to
 *   skip the member's value (it is still validated).
 * - leaf(node, leaf): a scalar found at node. Return non-zero to abort.
 * - wants_leaves(node) / wants_children(node) let the scanner skip values
 *   that cannot matter (a scalar where only objects are interesting).
 */
typedef struct evb_json_scan_ops {
    void *(*child)(void *ud, void *node, const char *key, size_t klen);
    int (*leaf)(void *ud, void *node, const evb_json_leaf_t *leaf);
    bool (*wants_leaves)(void *ud, void *node);
    bool (*wants_children)(void *ud, void *node);
} evb_json_scan_ops_t;

/* Scratch for the scanner (unescape buffer, array stack). Reusable. */
typedef struct evb_json_scanner {
    char *buf; /* unescape buffer */
    size_t buf_cap;
    evb_json_apos_t *stack;
    uint32_t stack_cap;
    uint32_t max_depth;
    uint64_t *kinds; /* container kinds while skipping, one bit a level */
    size_t kinds_cap;
} evb_json_scanner_t;

void evb_json_scanner_init(evb_json_scanner_t *s, uint32_t max_depth);
void evb_json_scanner_free(evb_json_scanner_t *s);

/*
 * Scan event text whose top level must be an object. Returns EVB_ERR_OK,
 * EVB_ERR_INVALID_EVENT (errstr: why and where), EVB_ERR_NOMEM, or
 * EVB_ERR_INTERNAL if a callback aborted.
 */
evb_err_t evb_json_scan(evb_json_scanner_t *s, const char *text, size_t len,
                        const evb_json_scan_ops_t *ops, void *ud, void *root,
                        char *errstr, size_t errstr_size);

/* Append s as a JSON string literal (quotes included) to b: \" \\ \n \r
 * \t \b \f, \u00XX (upper-case hex, as Jackson) for other control
 * characters; UTF-8 is copied as it is. */
evb_err_t evb_json_append_string(evb_buf_t *b, const char *s, size_t len);
/* The same with lower-case hex in \u00xx (as the schema registry writes). */
evb_err_t evb_json_append_string_lower(evb_buf_t *b, const char *s, size_t len);

/* Append the JSON text with every insignificant white-space byte removed
 * (the text must already be valid JSON). */
evb_err_t evb_json_append_compact(evb_buf_t *b, const char *text, size_t len);

/* Validate that text is one JSON value (no DOM). */
evb_err_t evb_json_validate(const char *text, size_t len, unsigned max_depth,
                            char *errstr, size_t errstr_size);

#endif
