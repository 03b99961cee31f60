/*
 * pattern: EventBridge's event-pattern language.
 *
 * Parse and validate a pattern (with EventBridge's error texts), compile
 * many named rules into one immutable matcher, match raw JSON event text
 * against it, and explain why one pattern does not match one event.
 *
 * Threading: an evb_matcher_t is immutable and may be used by any number
 * of threads at once, each with its own evb_match_ctx_t. An evb_ruleset_t
 * is a mutable collection of rules that publishes a new matcher on every
 * change; readers take a reference with evb_ruleset_acquire() and never
 * wait for a rebuild (the rebuild happens outside the lock; only the
 * pointer swap and the reference count increment are serialised).
 */
#ifndef EVB_PATTERN_H
#define EVB_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

/* Limits, with EventBridge's defaults. */
typedef struct evb_pattern_limits {
    size_t max_pattern_len;     /* characters; default 4096 */
    size_t max_or_combinations; /* product of $or arities; default 1000 */
    size_t max_event_len;       /* bytes; default 1 MiB */
    unsigned max_event_depth;   /* nesting; default 1000 */
} evb_pattern_limits_t;

/* The defaults above. */
evb_pattern_limits_t evb_pattern_limits_default(void);

/*
 * Validate a pattern. On failure returns EVB_ERR_INVALID_EVENT_PATTERN and
 * writes the complete AWS message, e.g.
 * "Event pattern is not valid. Reason: Empty arrays are not allowed",
 * into errstr. limits may be NULL for the defaults.
 */
evb_err_t evb_pattern_validate(const char *pattern, size_t len,
                               const evb_pattern_limits_t *limits, char *errstr,
                               size_t errstr_size);

/*
 * Test one pattern against one event (TestEventPattern semantics, without
 * the envelope check). *matched receives the result.
 * Errors: EVB_ERR_INVALID_EVENT_PATTERN (errstr as above),
 * EVB_ERR_INVALID_EVENT (event is not a JSON object, is malformed, too large or
 * too deep; errstr says why).
 */
evb_err_t evb_pattern_test(const char *pattern, size_t plen, const char *event,
                           size_t elen, const evb_pattern_limits_t *limits,
                           bool *matched, char *errstr, size_t errstr_size);

/*
 * TestEventPattern's envelope check: the event must be a JSON object with
 * the fields id, source, detail-type, account, region and time.
 * Returns EVB_ERR_INVALID_EVENT with "Parameter Event is not valid." otherwise.
 */
evb_err_t evb_event_check_envelope(const char *event, size_t elen, char *errstr,
                                   size_t errstr_size);

/*
 * Explain a non-match: like evb_pattern_test, and when the event does not
 * match, writes into explain a one-line description of the first failed
 * condition, e.g.
 *   path "detail.state": expected one of ["running"], found "stopped"
 *   path "detail.count": expected numeric [">",10], found nothing
 * When it matches, explain is set to "".
 */
evb_err_t evb_pattern_explain(const char *pattern, size_t plen,
                              const char *event, size_t elen,
                              const evb_pattern_limits_t *limits, bool *matched,
                              char *explain, size_t explain_size, char *errstr,
                              size_t errstr_size);

/* ---- compiled matcher --------------------------------------------------- */

typedef struct evb_matcher evb_matcher_t;
typedef struct evb_match_ctx evb_match_ctx_t;

/* Per-thread scratch space for matching. NULL on allocation failure. */
evb_match_ctx_t *evb_match_ctx_new(void);
void evb_match_ctx_free(evb_match_ctx_t *ctx);
/* The calling thread's own context, made on first use and freed when the
 * thread exits (NULL on allocation failure). Shared by every caller on
 * the thread: use a match's names before anything else on the thread
 * matches again. */
evb_match_ctx_t *evb_match_ctx_thread(void);

/*
 * Match raw JSON event text against every rule of the matcher.
 * On success *names receives an array of *count rule names (each rule at
 * most once, in no particular order), owned by ctx and valid until the
 * next call with the same ctx. Errors: EVB_ERR_INVALID_EVENT (errstr says
 * why), EVB_ERR_NOMEM.
 */
evb_err_t evb_matcher_match(const evb_matcher_t *m, evb_match_ctx_t *ctx,
                            const char *event, size_t len,
                            const char *const **names, size_t *count,
                            char *errstr, size_t errstr_size);

/* Number of rules compiled into m. */
size_t evb_matcher_rule_count(const evb_matcher_t *m);

/* Reference counting; a matcher is freed when its last reference goes. */
evb_matcher_t *evb_matcher_ref(evb_matcher_t *m);
void evb_matcher_unref(evb_matcher_t *m);

/* ---- rule set ------------------------------------------------------------ */

typedef struct evb_ruleset evb_ruleset_t;

/* A new empty rule set; limits may be NULL. NULL on allocation failure.
 * The caller owns it and frees it with evb_ruleset_free. */
evb_ruleset_t *evb_ruleset_new(const evb_pattern_limits_t *limits);
void evb_ruleset_free(evb_ruleset_t *rs);

/*
 * Add (or replace, if name exists) a rule and publish a new matcher.
 * Errors: EVB_ERR_INVALID_EVENT_PATTERN (errstr holds the AWS message),
 * EVB_ERR_NOMEM. On error the published matcher is unchanged.
 */
evb_err_t evb_ruleset_add(evb_ruleset_t *rs, const char *name,
                          const char *pattern, size_t len, char *errstr,
                          size_t errstr_size);

/* Add many rules and publish once (bulk load). Stops at the first invalid
 * pattern, naming it in errstr, and then publishes nothing. */
evb_err_t evb_ruleset_add_many(evb_ruleset_t *rs, size_t n,
                               const char *const *names,
                               const char *const *patterns, const size_t *lens,
                               char *errstr, size_t errstr_size);

/* Remove a rule and publish. EVB_ERR_NOT_FOUND if there is none. */
evb_err_t evb_ruleset_remove(evb_ruleset_t *rs, const char *name);

/* A reference to the current matcher (never NULL once created; an empty
 * rule set has an empty matcher). Release with evb_matcher_unref. */
evb_matcher_t *evb_ruleset_acquire(evb_ruleset_t *rs);

#endif
