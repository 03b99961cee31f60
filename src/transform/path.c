/*
 * path.c: the JSONPath subset of InputPath and InputPathsMap values.
 *
 * EventBridge documents its subset as dot notation, dashes, underscores,
 * alphanumerics, array indices, wildcards and forward slashes, and refuses
 * bracketed names ($.detail['key']) and paths that do not start at $. The
 * grammar accepted here is:
 *
 *     path := '$' step*
 *     step := '.' name | '.*' | '[' digits ']' | '[*]'
 *     name := one or more bytes other than . [ ] * ' " and ASCII
 *             whitespace or control characters
 *
 * Names are a little wider than the documented set (a colon or a non-ASCII
 * letter is accepted) because refusing a path EventBridge takes would break
 * a working configuration, while accepting one it refuses costs nothing.
 *
 * Evaluation follows Jayway JsonPath, the library EventBridge's behaviour
 * matches: a definite path gives one value or nothing; a path with a
 * wildcard gives the array of all matches (possibly empty).
 */
#include <string.h>

#include "transform_internal.h"

/* Bounds an index so that parsing cannot overflow; no event has more
 * elements than bytes. */
#define MAX_INDEX 999999999u

static bool name_byte(unsigned char c) {
    if (c <= 0x20 || c == 0x7f)
        return false;
    return c != '.' && c != '[' && c != ']' && c != '*' && c != '\'' &&
           c != '"';
}

bool evb__tpath_parse(evb_arena_t *a, const char *s, size_t len,
                      evb__tpath_t *out, bool *nomem) {
    *nomem = false;
    memset(out, 0, sizeof *out);
    if (len == 0 || s[0] != '$')
        return false;
    /* Each step takes at least two bytes, so len / 2 bounds the count. */
    size_t cap = len / 2 + 1;
    char *copy = evb_arena_strndup(a, s, len);
    evb__tstep_t *steps = evb_arena_calloc(a, cap, sizeof *steps);
    if (!copy || !steps) {
        *nomem = true;
        return false;
    }
    size_t n = 0;
    size_t i = 1;
    while (i < len) {
        evb__tstep_t *st = &steps[n];
        if (copy[i] == '.') {
            i++;
            if (i < len && copy[i] == '*') {
                st->kind = EVB__TSTEP_ANY;
                out->wildcard = true;
                i++;
            } else {
                size_t start = i;
                while (i < len && name_byte((unsigned char)copy[i]))
                    i++;
                if (i == start)
                    return false; /* "$.", "$..a", "$.a*" */
                st->kind = EVB__TSTEP_KEY;
                st->key = copy + start;
                st->klen = i - start;
            }
        } else if (copy[i] == '[') {
            i++;
            if (i < len && copy[i] == '*') {
                st->kind = EVB__TSTEP_ANY;
                out->wildcard = true;
                i++;
            } else {
                size_t start = i, v = 0;
                while (i < len && copy[i] >= '0' && copy[i] <= '9') {
                    v = v * 10 + (size_t)(copy[i] - '0');
                    if (v > MAX_INDEX)
                        return false;
                    i++;
                }
                if (i == start)
                    return false; /* "[]", "['a']", "[-1]" */
                st->kind = EVB__TSTEP_INDEX;
                st->index = v;
            }
            if (i >= len || copy[i] != ']')
                return false;
            i++;
        } else {
            return false; /* "$a", "$ .a" */
        }
        n++;
    }
    out->steps = n ? steps : NULL;
    out->n = n;
    return true;
}

const evb_jval_t *evb__json_member(const evb_jval_t *obj, const char *key,
                                   size_t klen) {
    if (!obj || obj->type != EVB_JSON_OBJECT)
        return NULL;
    /* Jackson's tree keeps the last of repeated keys; so do we. */
    for (size_t i = obj->u.obj.n; i-- > 0;) {
        const evb_jmember_t *m = &obj->u.obj.members[i];
        if (m->klen == klen && memcmp(m->key, key, klen) == 0)
            return m->val;
    }
    return NULL;
}

static const evb_jval_t *step_one(const evb__tstep_t *st, const evb_jval_t *v) {
    if (st->kind == EVB__TSTEP_KEY)
        return evb__json_member(v, st->key, st->klen);
    if (v->type != EVB_JSON_ARRAY || st->index >= v->u.arr.n)
        return NULL;
    return v->u.arr.items[st->index];
}

/* Matches collected for a wildcard path. */
typedef struct {
    evb_arena_t *a;
    evb_jval_t **items;
    size_t n, cap;
    bool nomem;
} matches_t;

static void push(matches_t *m, const evb_jval_t *v) {
    if (m->nomem)
        return;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        evb_jval_t **p = evb_arena_alloc(m->a, cap * sizeof *p);
        if (!p) {
            m->nomem = true;
            return;
        }
        if (m->n)
            memcpy(p, m->items, m->n * sizeof *p);
        m->items = p;
        m->cap = cap;
    }
    m->items[m->n++] = (evb_jval_t *)v;
}

/* Recursion depth is bounded by the number of steps (at most 128, since a
 * path has at most 256 characters). */
static void collect(matches_t *m, const evb__tpath_t *p, size_t k,
                    const evb_jval_t *v) {
    for (; k < p->n; k++) {
        const evb__tstep_t *st = &p->steps[k];
        if (st->kind == EVB__TSTEP_ANY) {
            if (v->type == EVB_JSON_OBJECT) {
                for (size_t i = 0; i < v->u.obj.n && !m->nomem; i++)
                    collect(m, p, k + 1, v->u.obj.members[i].val);
            } else if (v->type == EVB_JSON_ARRAY) {
                for (size_t i = 0; i < v->u.arr.n && !m->nomem; i++)
                    collect(m, p, k + 1, v->u.arr.items[i]);
            }
            return;
        }
        v = step_one(st, v);
        if (!v)
            return;
    }
    push(m, v);
}

const evb_jval_t *evb__tpath_eval(evb_arena_t *a, const evb__tpath_t *p,
                                  const evb_jval_t *root, bool *nomem) {
    *nomem = false;
    if (!p->wildcard) {
        const evb_jval_t *v = root;
        for (size_t k = 0; k < p->n && v; k++)
            v = step_one(&p->steps[k], v);
        return v;
    }
    matches_t m = {.a = a};
    collect(&m, p, 0, root);
    evb_jval_t *arr = m.nomem ? NULL : evb_arena_calloc(a, 1, sizeof *arr);
    if (!arr) {
        *nomem = true;
        return NULL;
    }
    arr->type = EVB_JSON_ARRAY;
    arr->u.arr.items = m.items;
    arr->u.arr.n = m.n;
    return arr;
}
