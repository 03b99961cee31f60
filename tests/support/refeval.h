/*
 * refeval: a deliberately simple reference evaluator for event patterns.
 *
 * This is the test oracle for the pattern engine (src/pattern). It
 * implements docs/pattern-semantics.md independently of the engine, as
 * plainly as possible, over jansson values: the pattern is expanded into
 * its $or alternatives, each a list of (dot-joined field path, leaf array);
 * the event is flattened into leaves that each carry the (array, index)
 * pairs of the arrays they sit in; and a rule matches when, for some
 * alternative, every field can be given one matching leaf such that no two
 * chosen leaves sit in the same array at different indexes (a field whose
 * leaf array holds {"exists":false} and that has no leaf at all needs none).
 * Clarity over speed: everything is a linear scan or a backtracking search.
 *
 * The pattern must already be valid (the engine validates); the evaluator
 * does not check it. Parse texts with JSON_DECODE_INT_AS_REAL (see
 * evb_ref_loads) so that large integers do not fail to parse.
 *
 * Event numbers: an event number stands for its nearest double, but one
 * outside the double range (1e400) is present and equals nothing; jansson
 * cannot hold such a number at all. An event number may therefore be given
 * as the marker object made by evb_ref_number(text); the evaluator treats
 * it as a number leaf with that exact text (strtod'ed). Plain jansson
 * numbers are always finite.
 */
#ifndef EVB_TEST_REFEVAL_H
#define EVB_TEST_REFEVAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The single key of an event-number marker object (not valid in events
 * the generator writes, because of the control character). */
#define EVB_REF_NUMBER_KEY "\x01number"

/* A new reference to {EVB_REF_NUMBER_KEY: text}: an event number leaf that
 * keeps its source text. NULL on allocation failure. */
json_t *evb_ref_number(const char *text);

/* json_loads(text, JSON_DECODE_INT_AS_REAL); NULL if it does not parse. */
json_t *evb_ref_loads(const char *text);

/* The representability rule of the semantics doc (it decides which
 * pattern numbers are valid), applied to the source text of a JSON number:
 * finite, and printed back with as many significant digits as written
 * (trailing zeros ignored, at most 17) it gives the same digits and decimal
 * exponent. Zero (any spelling) is representable. */
bool evb_ref_number_representable(const char *text);

/* Does the (valid) pattern match the event (a JSON object)? */
bool evb_ref_match(const json_t *pattern, const json_t *event);

/* The same in two steps, so that a pattern or an event used many times is
 * prepared once. Both borrow the json_t they are made from: keep it alive
 * until the prepared value is freed. NULL only on allocation failure. */
typedef struct evb_ref_pattern evb_ref_pattern_t;
typedef struct evb_ref_event evb_ref_event_t;

evb_ref_pattern_t *evb_ref_pattern_new(const json_t *pattern);
void evb_ref_pattern_free(evb_ref_pattern_t *p);
/* Number of $or alternatives the pattern expanded into. */
size_t evb_ref_pattern_alternatives(const evb_ref_pattern_t *p);
/* False when some alternative names one field path twice (for instance
 * {"a":{"b":[1]},"a.b":[2]}). The evaluator ANDs such conditions, but the
 * semantics doc does not say what they mean, so generators avoid them. */
bool evb_ref_pattern_fields_unique(const evb_ref_pattern_t *p);

evb_ref_event_t *evb_ref_event_new(const json_t *event);
void evb_ref_event_free(evb_ref_event_t *e);
/* Number of leaves the event flattened into. */
size_t evb_ref_event_leaves(const evb_ref_event_t *e);

bool evb_ref_match_prepared(const evb_ref_pattern_t *p,
                            const evb_ref_event_t *e);

/* Case folding of the semantics doc, on UTF-8 (exposed for tests): a new
 * malloc'd NUL-terminated string, its length in *out_len. */
char *evb_ref_fold(const char *s, size_t len, size_t *out_len);

#endif
