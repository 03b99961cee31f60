/*
 * ruleset.c: a mutable set of named rules that publishes immutable
 * matchers, and the one-pattern entry points (validate, test, explain).
 *
 * Writers (add/remove) are serialised by write_lock and rebuild the whole
 * matcher outside the publication lock; readers only take pub_lock long
 * enough to increment the current matcher's reference count, so matching
 * never waits for a rebuild.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matcher_internal.h"

struct evb_ruleset {
    pthread_mutex_t write_lock;
    pthread_mutex_t pub_lock;
    evb_pattern_limits_t limits;
    evb__rule_t **rules;
    size_t n, cap;
    evb_matcher_t *current;
};

static evb_err_t rule_new(const char *name, const char *pattern, size_t len,
                          const evb_pattern_limits_t *lim, evb__rule_t **out,
                          char *errstr, size_t errstr_size) {
    evb__rule_t *r = calloc(1, sizeof *r);
    if (!r)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    atomic_init(&r->refcnt, 1);
    evb_arena_init(&r->arena, 4096);
    r->name = evb_arena_strndup(&r->arena, name, strlen(name));
    /* the parsed rule points into its text (conditions are told apart by
     * their source text when matchers are built): keep a copy */
    const char *text = r->name ? evb_arena_strndup(&r->arena, pattern, len)
                               : NULL;
    evb_err_t err = text ? evb__pattern_parse(&r->arena, text, len, lim,
                                              &r->parsed, errstr, errstr_size)
                         : EVB_ERR_NOMEM;
    if (err) {
        evb__rule_unref(r);
        return err;
    }
    *out = r;
    return EVB_ERR_OK;
}

evb_ruleset_t *evb_ruleset_new(const evb_pattern_limits_t *limits) {
    evb_ruleset_t *rs = calloc(1, sizeof *rs);
    if (!rs)
        return NULL;
    rs->limits = limits ? *limits : evb_pattern_limits_default();
    pthread_mutex_init(&rs->write_lock, NULL);
    pthread_mutex_init(&rs->pub_lock, NULL);
    rs->current = evb__matcher_build(NULL, 0, &rs->limits);
    if (!rs->current) {
        evb_ruleset_free(rs);
        return NULL;
    }
    return rs;
}

void evb_ruleset_free(evb_ruleset_t *rs) {
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        evb__rule_unref(rs->rules[i]);
    free(rs->rules);
    evb_matcher_unref(rs->current);
    pthread_mutex_destroy(&rs->write_lock);
    pthread_mutex_destroy(&rs->pub_lock);
    free(rs);
}

static evb_err_t publish(evb_ruleset_t *rs) {
    evb_matcher_t *m = evb__matcher_build(rs->rules, rs->n, &rs->limits);
    if (!m)
        return EVB_ERR_NOMEM;
    pthread_mutex_lock(&rs->pub_lock);
    evb_matcher_t *old = rs->current;
    rs->current = m;
    pthread_mutex_unlock(&rs->pub_lock);
    evb_matcher_unref(old);
    return EVB_ERR_OK;
}

static ssize_t find_rule(const evb_ruleset_t *rs, const char *name) {
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->rules[i]->name, name) == 0)
            return (ssize_t)i;
    return -1;
}

/* Put r in the set (replacing a rule of the same name); takes r's
 * reference. The previous rule, if any, is returned for rollback. */
static int put_rule(evb_ruleset_t *rs, evb__rule_t *r, evb__rule_t **prev,
                    size_t *slot) {
    ssize_t i = find_rule(rs, r->name);
    if (i >= 0) {
        *prev = rs->rules[i];
        rs->rules[i] = r;
        *slot = (size_t)i;
        return 0;
    }
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        evb__rule_t **nr = realloc(rs->rules, cap * sizeof *nr);
        if (!nr)
            return -1;
        rs->rules = nr;
        rs->cap = cap;
    }
    *prev = NULL;
    *slot = rs->n;
    rs->rules[rs->n++] = r;
    return 0;
}

static void undo_put(evb_ruleset_t *rs, evb__rule_t *prev, size_t slot) {
    evb__rule_t *r = rs->rules[slot];
    if (prev) {
        rs->rules[slot] = prev;
    } else {
        /* appended: it is at the end only if nothing came after; remove
         * by moving the last into the slot */
        rs->rules[slot] = rs->rules[--rs->n];
    }
    evb__rule_unref(r);
}

evb_err_t evb_ruleset_add_many(evb_ruleset_t *rs, size_t n,
                               const char *const *names,
                               const char *const *patterns, const size_t *lens,
                               char *errstr, size_t errstr_size) {
    evb__rule_t **parsed = calloc(n ? n : 1, sizeof *parsed);
    evb__rule_t **prevs = calloc(n ? n : 1, sizeof *prevs);
    size_t *slots = calloc(n ? n : 1, sizeof *slots);
    evb_err_t err = EVB_ERR_OK;
    if (!parsed || !prevs || !slots) {
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char why[1024];
        err = rule_new(names[i], patterns[i], lens[i], &rs->limits, &parsed[i],
                       why, sizeof why);
        if (err) {
            if (n == 1)
                evb_err_set(err, errstr, errstr_size, "%s", why);
            else
                evb_err_set(err, errstr, errstr_size, "rule %s: %s", names[i],
                            why);
            for (size_t j = 0; j < i; j++)
                evb__rule_unref(parsed[j]);
            goto out;
        }
    }
    pthread_mutex_lock(&rs->write_lock);
    size_t done = 0;
    for (; done < n; done++)
        if (put_rule(rs, parsed[done], &prevs[done], &slots[done]))
            break;
    if (done == n)
        err = publish(rs);
    else
        err = EVB_ERR_NOMEM;
    if (err) {
        size_t put = done;
        while (done > 0) {
            done--;
            undo_put(rs, prevs[done], slots[done]);
        }
        for (size_t j = put; j < n; j++)
            evb__rule_unref(parsed[j]);
        evb_err_set(err, errstr, errstr_size, "out of memory");
    } else {
        for (size_t j = 0; j < n; j++)
            evb__rule_unref(prevs[j]);
    }
    pthread_mutex_unlock(&rs->write_lock);
out:
    free(parsed);
    free(prevs);
    free(slots);
    return err;
}

evb_err_t evb_ruleset_add(evb_ruleset_t *rs, const char *name,
                          const char *pattern, size_t len, char *errstr,
                          size_t errstr_size) {
    return evb_ruleset_add_many(rs, 1, &name, &pattern, &len, errstr,
                                errstr_size);
}

evb_err_t evb_ruleset_remove(evb_ruleset_t *rs, const char *name) {
    pthread_mutex_lock(&rs->write_lock);
    ssize_t i = find_rule(rs, name);
    if (i < 0) {
        pthread_mutex_unlock(&rs->write_lock);
        return EVB_ERR_NOT_FOUND;
    }
    evb__rule_t *r = rs->rules[i];
    rs->rules[i] = rs->rules[--rs->n];
    evb_err_t err = publish(rs);
    if (err) {
        rs->rules[rs->n++] = rs->rules[i];
        rs->rules[i] = r;
    } else {
        evb__rule_unref(r);
    }
    pthread_mutex_unlock(&rs->write_lock);
    return err;
}

evb_matcher_t *evb_ruleset_acquire(evb_ruleset_t *rs) {
    pthread_mutex_lock(&rs->pub_lock);
    evb_matcher_t *m = evb_matcher_ref(rs->current);
    pthread_mutex_unlock(&rs->pub_lock);
    return m;
}

/* ---- one pattern
 * ---------------------------------------------------------------- */

evb_err_t evb_pattern_validate(const char *pattern, size_t len,
                               const evb_pattern_limits_t *limits, char *errstr,
                               size_t errstr_size) {
    evb_arena_t a;
    evb_arena_init(&a, 4096);
    evb__parsed_t p;
    evb_err_t err =
        evb__pattern_parse(&a, pattern, len, limits, &p, errstr, errstr_size);
    evb_arena_free(&a);
    return err;
}

void evb__ctx_set_trace_arena(evb_match_ctx_t *ctx, evb_arena_t *a);

static void describe_leaf(char *out, size_t n, evb_json_type_t t,
                          const char *text, size_t len) {
    if (t == EVB_JSON_STRING)
        snprintf(out, n, "\"%.*s\"", (int)(len > 200 ? 200 : len), text);
    else
        snprintf(out, n, "%.*s", (int)(len > 200 ? 200 : len), text);
}

static evb_err_t test_impl(const char *pattern, size_t plen, const char *event,
                           size_t elen, const evb_pattern_limits_t *limits,
                           bool *matched, char *explain, size_t explain_size,
                           char *errstr, size_t errstr_size) {
    evb_pattern_limits_t lim = limits ? *limits : evb_pattern_limits_default();
    *matched = false;
    if (explain && explain_size)
        explain[0] = '\0';
    evb__rule_t *r;
    evb_err_t err =
        rule_new("pattern", pattern, plen, &lim, &r, errstr, errstr_size);
    if (err)
        return err;
    evb_matcher_t *m = evb__matcher_build(&r, 1, &lim);
    evb__rule_unref(r);
    evb_match_ctx_t *ctx = m ? evb_match_ctx_new() : NULL;
    evb_arena_t ta;
    evb_arena_init(&ta, 1024);
    evb__trace_t tr = {0};
    if (!ctx)
        goto nomem;
    if (explain) {
        size_t nf = m->nfields ? m->nfields : 1;
        tr.first_text = evb_arena_calloc(&ta, nf, sizeof *tr.first_text);
        tr.first_len = evb_arena_calloc(&ta, nf, sizeof *tr.first_len);
        tr.first_type = evb_arena_calloc(&ta, nf, sizeof *tr.first_type);
        if (!tr.first_text || !tr.first_len || !tr.first_type)
            goto nomem;
        evb__ctx_set_trace_arena(ctx, &ta);
    }
    const char *const *names;
    size_t count;
    err = evb__matcher_match_traced(m, ctx, event, elen, &names, &count,
                                    explain ? &tr : NULL, errstr, errstr_size);
    if (err == EVB_ERR_INVALID_EVENT) {
        char why[512];
        snprintf(why, sizeof why, "%s", errstr ? errstr : "");
        evb_err_set(err, errstr, errstr_size,
                    "Parameter Event is not valid: %s", why);
    }
    if (!err) {
        *matched = count > 0;
        if (!*matched && explain && explain_size) {
            /* the sub-rule with the most satisfied conditions */
            uint32_t best = 0, best_ok = 0;
            for (uint32_t s = 0; s < m->nsub; s++) {
                uint32_t ok = 0;
                for (uint32_t i = m->sub_off[s]; i < m->sub_off[s + 1]; i++) {
                    uint32_t c = m->sub_conds[i];
                    if (evb__ctx_cond_hit(ctx, c) ||
                        (m->cond_def[c]->has_exists_false &&
                         !evb__ctx_field_seen(ctx, m->cond_field[c])))
                        ok++;
                }
                if (s == 0 || ok > best_ok) {
                    best = s;
                    best_ok = ok;
                }
            }
            bool said = false;
            for (uint32_t i = m->sub_off[best]; i < m->sub_off[best + 1]; i++) {
                uint32_t c = m->sub_conds[i];
                const evb__cond_t *cd = m->cond_def[c];
                uint32_t f = m->cond_field[c];
                if (evb__ctx_cond_hit(ctx, c) ||
                    (cd->has_exists_false && !evb__ctx_field_seen(ctx, f)))
                    continue;
                char found[256] = "nothing";
                if (tr.first_text[f])
                    describe_leaf(found, sizeof found, tr.first_type[f],
                                  tr.first_text[f], tr.first_len[f]);
                snprintf(explain, explain_size,
                         "path \"%s\": expected %.*s, found %s", cd->path,
                         (int)(cd->src->src_len > 300 ? 300 : cd->src->src_len),
                         cd->src->src, found);
                said = true;
                break;
            }
            if (!said)
                snprintf(explain, explain_size,
                         "every field matches, but not within the same "
                         "element of an array of objects");
        }
    }
    evb_match_ctx_free(ctx);
    evb_matcher_unref(m);
    evb_arena_free(&ta);
    return err;
nomem:
    evb_match_ctx_free(ctx);
    evb_matcher_unref(m);
    evb_arena_free(&ta);
    return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
}

evb_err_t evb_pattern_test(const char *pattern, size_t plen, const char *event,
                           size_t elen, const evb_pattern_limits_t *limits,
                           bool *matched, char *errstr, size_t errstr_size) {
    return test_impl(pattern, plen, event, elen, limits, matched, NULL, 0,
                     errstr, errstr_size);
}

evb_err_t evb_pattern_explain(const char *pattern, size_t plen,
                              const char *event, size_t elen,
                              const evb_pattern_limits_t *limits, bool *matched,
                              char *explain, size_t explain_size, char *errstr,
                              size_t errstr_size) {
    return test_impl(pattern, plen, event, elen, limits, matched, explain,
                     explain_size, errstr, errstr_size);
}

evb_err_t evb_event_check_envelope(const char *event, size_t elen, char *errstr,
                                   size_t errstr_size) {
    static const char *const required[] = {"id",      "source", "detail-type",
                                           "account", "region", "time"};
    evb_arena_t a;
    evb_arena_init(&a, 4096);
    evb_jval_t *v;
    char why[256];
    evb_err_t err = evb_json_parse(&a, event, elen, 1000, &v, why, sizeof why);
    bool ok = !err && v->type == EVB_JSON_OBJECT;
    for (size_t i = 0; ok && i < EVB_ARRAY_LEN(required); i++) {
        bool found = false;
        for (size_t j = 0; j < v->u.obj.n && !found; j++)
            found = strcmp(v->u.obj.members[j].key, required[i]) == 0;
        ok = found;
    }
    evb_arena_free(&a);
    if (err == EVB_ERR_NOMEM)
        return evb_err_set(err, errstr, errstr_size, "out of memory");
    if (!ok)
        return evb_err_set(EVB_ERR_INVALID_EVENT, errstr, errstr_size,
                           "Parameter Event is not valid.");
    return EVB_ERR_OK;
}
