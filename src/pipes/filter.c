/*
 * filter.c: FilterCriteria (reference §6.3) on the bus's pattern engine.
 *
 * Up to five patterns, ORed. The format-match table says when a data
 * field's condition applies: JSON data is filtered by an object pattern,
 * plain-string data by an array pattern, and any other combination (and
 * non-UTF-8 data) falls back to "metadata filters only", that is the
 * pattern without its condition on that field. So each pattern is
 * compiled in up to four variants (as written; without "value"; without
 * "key"; without both), all into one matcher, and a record is matched
 * once: it passes when, for some pattern, the variant its formats select
 * matched. A variant with no condition left matches everything.
 *
 * Variants are cut from the pattern's own text (member by member, values
 * as written), so numbers and nesting reach the matcher unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../json/json.h"
#include "pipes_internal.h"

#define MAX_FILTERS 5
#define STRIP_VALUE 1u
#define STRIP_KEY 2u

typedef enum { PAT_NONE, PAT_OBJECT, PAT_ARRAY, PAT_OTHER } pat_kind_t;

typedef struct one_filter {
    pat_kind_t key, value;
    bool always[4]; /* variant has no condition left */
    bool exists[4];  /* variant compiled */
} one_filter_t;

struct evb_pipe_filter {
    size_t n;
    one_filter_t f[MAX_FILTERS];
    evb_ruleset_t *rs;
    evb_matcher_t *m;
};

static pat_kind_t kind_of(const evb_jval_t *v) {
    if (!v)
        return PAT_NONE;
    if (v->type == EVB_JSON_OBJECT)
        return PAT_OBJECT;
    if (v->type == EVB_JSON_ARRAY)
        return PAT_ARRAY;
    return PAT_OTHER;
}

/* The last member called name (the one the pattern engine uses). */
static const evb_jval_t *member(const evb_jval_t *o, const char *name) {
    const evb_jval_t *found = NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < o->u.obj.n; i++)
        if (o->u.obj.members[i].klen == n &&
            memcmp(o->u.obj.members[i].key, name, n) == 0)
            found = o->u.obj.members[i].val;
    return found;
}

/* The pattern without the stripped top-level members, into b. *empty:
 * nothing is left. */
static evb_err_t variant_text(const evb_jval_t *o, unsigned strip,
                              evb_buf_t *b, bool *empty) {
    evb_err_t e = evb_buf_putc(b, '{');
    size_t kept = 0;
    for (size_t i = 0; !e && i < o->u.obj.n; i++) {
        const evb_jmember_t *m = &o->u.obj.members[i];
        if ((strip & STRIP_VALUE) && m->klen == 5 &&
            memcmp(m->key, "value", 5) == 0)
            continue;
        if ((strip & STRIP_KEY) && m->klen == 3 &&
            memcmp(m->key, "key", 3) == 0)
            continue;
        if (kept++)
            e = evb_buf_putc(b, ',');
        if (!e)
            e = evb_json_append_string(b, m->key, m->klen);
        if (!e)
            e = evb_buf_putc(b, ':');
        if (!e)
            e = evb_buf_append(b, m->val->src, m->val->src_len);
    }
    if (!e)
        e = evb_buf_putc(b, '}');
    *empty = kept == 0;
    return e;
}

void evb_pipe_filter_free(evb_pipe_filter_t *f) {
    if (!f)
        return;
    if (f->m)
        evb_matcher_unref(f->m);
    evb_ruleset_free(f->rs);
    free(f);
}

evb_err_t evb_pipe_filter_compile(const char *const *patterns,
                                  const size_t *lens, size_t n,
                                  evb_pipe_filter_t **out, char *errstr,
                                  size_t errstr_size) {
    *out = NULL;
    if (n > MAX_FILTERS)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "FilterCriteria holds at most %d filters",
                           MAX_FILTERS);
    evb_pipe_filter_t *f = calloc(1, sizeof *f);
    if (!f || !(f->rs = evb_ruleset_new(NULL))) {
        free(f);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    f->n = n;
    evb_err_t err = EVB_ERR_OK;
    for (size_t i = 0; i < n && !err; i++) {
        char why[1024];
        if (evb_pattern_validate(patterns[i], lens[i], NULL, why,
                                 sizeof why)) {
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "Invalid FilterCriteria.Filters[%zu].Pattern: "
                              "%s",
                              i, why);
            break;
        }
        evb_arena_t a;
        evb_arena_init(&a, 4096);
        evb_jval_t *root;
        if (evb_json_parse(&a, patterns[i], lens[i], EVB__PIPE_MAX_DEPTH,
                           &root, why, sizeof why) ||
            root->type != EVB_JSON_OBJECT) {
            evb_arena_free(&a);
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "Invalid FilterCriteria.Filters[%zu].Pattern",
                              i);
            break;
        }
        one_filter_t *of = &f->f[i];
        of->key = kind_of(member(root, "key"));
        of->value = kind_of(member(root, "value"));
        for (unsigned v = 0; v < 4 && !err; v++) {
            if (((v & STRIP_VALUE) && of->value == PAT_NONE) ||
                ((v & STRIP_KEY) && of->key == PAT_NONE))
                continue; /* same as a variant with fewer strips */
            evb_buf_t b;
            evb_buf_init(&b, 0);
            bool empty;
            err = variant_text(root, v, &b, &empty);
            if (!err && empty) {
                of->always[v] = true;
            } else if (!err) {
                char name[4] = {(char)('0' + i), (char)('0' + v), 0, 0};
                err = evb_ruleset_add(f->rs, name, b.data, b.len, why,
                                      sizeof why);
                if (err)
                    evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                "Invalid FilterCriteria.Filters[%zu]."
                                "Pattern: %s",
                                i, why);
            } else {
                evb_err_set(err, errstr, errstr_size, "out of memory");
            }
            of->exists[v] = true;
            evb_buf_free(&b);
        }
        evb_arena_free(&a);
    }
    if (err) {
        evb_pipe_filter_free(f);
        return err;
    }
    f->m = evb_ruleset_acquire(f->rs);
    *out = f;
    return EVB_ERR_OK;
}

/* Does a data field's condition apply to data of this kind? */
static bool applies(pat_kind_t pat, evb_pipe_data_kind_t data) {
    switch (data) {
    case EVB_PIPE_DATA_JSON: return pat == PAT_OBJECT;
    case EVB_PIPE_DATA_TEXT: return pat == PAT_ARRAY;
    case EVB_PIPE_DATA_NONE: return true; /* the field is missing */
    default: return false;                /* non-UTF-8: metadata only */
    }
}

evb_err_t evb_pipe_filter_match(const evb_pipe_filter_t *f,
                                evb_match_ctx_t *ctx,
                                const evb_pipe_shaped_t *rec, bool *pass,
                                char *errstr, size_t errstr_size) {
    *pass = true;
    if (!f || f->n == 0)
        return EVB_ERR_OK;
    unsigned want[MAX_FILTERS];
    bool need_match = false;
    for (size_t i = 0; i < f->n; i++) {
        const one_filter_t *of = &f->f[i];
        unsigned v = 0;
        if (of->value != PAT_NONE && !applies(of->value, rec->value_kind))
            v |= STRIP_VALUE;
        if (of->key != PAT_NONE && !applies(of->key, rec->key_kind))
            v |= STRIP_KEY;
        if (of->always[v])
            return EVB_ERR_OK; /* passes */
        want[i] = v;
        need_match = true;
    }
    *pass = false;
    if (!need_match)
        return EVB_ERR_OK;
    const char *const *names;
    size_t nn;
    evb_err_t e =
        evb_matcher_match(f->m, ctx, rec->filter_view.data,
                          rec->filter_view.len, &names, &nn, errstr,
                          errstr_size);
    if (e)
        return e;
    for (size_t k = 0; k < nn; k++) {
        size_t i = (size_t)(names[k][0] - '0');
        unsigned v = (unsigned)(names[k][1] - '0');
        if (i < f->n && want[i] == v) {
            *pass = true;
            break;
        }
    }
    return EVB_ERR_OK;
}
