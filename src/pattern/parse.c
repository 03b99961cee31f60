/*
 * parse.c: pattern text -> validated sub-rules.
 *
 * The text is parsed into a DOM (json.c), then walked in document order so
 * that the first error reported is the one EventBridge reports. Nested
 * object keys are joined with '.' (Ruler's dot-joining), and every $or is
 * expanded: the result is a disjunction of sub-rules, each a conjunction
 * of field conditions, each condition a disjunction of value tests.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pattern_internal.h"

#define PREFIX "Event pattern is not valid. Reason: "

typedef struct pctx {
    evb_arena_t *a;
    const evb_pattern_limits_t *lim;
    char *errstr;
    size_t errstr_size;
    evb_err_t err;
    size_t or_product; /* product of the lengths of every $or array */
} pctx_t;

static evb_err_t fail(pctx_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static evb_err_t fail(pctx_t *c, const char *fmt, ...) {
    if (c->err)
        return c->err;
    c->err = EVB_ERR_INVALID_EVENT_PATTERN;
    if (c->errstr && c->errstr_size) {
        int n = snprintf(c->errstr, c->errstr_size, "%s", PREFIX);
        if (n >= 0 && (size_t)n < c->errstr_size) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->errstr + n, c->errstr_size - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return c->err;
}

static evb_err_t oom(pctx_t *c) {
    if (!c->err) {
        c->err = EVB_ERR_NOMEM;
        evb_err_set(c->err, c->errstr, c->errstr_size, "out of memory");
    }
    return c->err;
}

/* A list of alternatives, each a list of conditions. */
typedef struct condlist {
    evb__cond_t **items;
    size_t n;
} condlist_t;

typedef struct alts {
    condlist_t *v;
    size_t n;
} alts_t;

static bool is_string(const evb_jval_t *v) {
    return v->type == EVB_JSON_STRING;
}

static evb__str_t sdup(pctx_t *c, const char *s, size_t n) {
    evb__str_t r = {evb_arena_strndup(c->a, s, n), n};
    if (!r.s)
        oom(c);
    return r;
}

static evb__str_t sfold(pctx_t *c, const char *s, size_t n) {
    char *o = evb_arena_alloc(c->a, 2 * n + 1);
    evb__str_t r = {o, 0};
    if (!o) {
        oom(c);
        return r;
    }
    r.len = evb__fold(s, n, o);
    return r;
}

static int number(pctx_t *c, const evb_jval_t *v, double *out) {
    if (evb__num_representable(v->u.str.s, v->u.str.len, out)) {
        fail(c, "Cannot compare number %.*s", (int)v->u.str.len, v->u.str.s);
        return -1;
    }
    return 0;
}

/* Members of an object with duplicates resolved: the last value wins, at
 * the position of the first occurrence. Returns the value to use for
 * member i, or NULL if member i is a duplicate of an earlier key. */
static const evb_jval_t *member_value(const evb_jval_t *obj, size_t i) {
    const evb_jmember_t *m = obj->u.obj.members;
    for (size_t j = 0; j < i; j++)
        if (m[j].klen == m[i].klen &&
            memcmp(m[j].key, m[i].key, m[i].klen) == 0)
            return NULL;
    const evb_jval_t *v = m[i].val;
    for (size_t j = i + 1; j < obj->u.obj.n; j++)
        if (m[j].klen == m[i].klen &&
            memcmp(m[j].key, m[i].key, m[i].klen) == 0)
            v = m[j].val;
    return v;
}

/* Sole member of an operator object (after duplicate resolution). */
static int sole_member(pctx_t *c, const evb_jval_t *obj, const char **key,
                       size_t *klen, const evb_jval_t **val) {
    size_t distinct = 0;
    for (size_t i = 0; i < obj->u.obj.n; i++) {
        const evb_jval_t *v = member_value(obj, i);
        if (!v)
            continue;
        if (++distinct > 1) {
            fail(c, "Only one key allowed in match expression");
            return -1;
        }
        *key = obj->u.obj.members[i].key;
        *klen = obj->u.obj.members[i].klen;
        *val = v;
    }
    if (distinct == 0) {
        fail(c, "Empty objects are not allowed");
        return -1;
    }
    return 0;
}

static bool key_is(const char *k, size_t kl, const char *lit) {
    size_t n = strlen(lit);
    return kl == n && memcmp(k, lit, n) == 0;
}

static int parse_numeric(pctx_t *c, const evb_jval_t *arr, evb__test_t *t) {
    t->kind = T_NUMERIC;
    t->lo = -INFINITY;
    t->hi = INFINITY;
    size_t n = arr->u.arr.n;
    if (n == 0) {
        fail(c, "Empty arrays are not allowed");
        return -1;
    }
    bool have_lo = false, have_hi = false, have_eq = false;
    for (size_t i = 0; i < n; i += 2) {
        if (i >= 4) {
            fail(c, "Too many terms in numeric range expression");
            return -1;
        }
        const evb_jval_t *op = arr->u.arr.items[i];
        if (!is_string(op)) {
            fail(c, "Unrecognized numeric range operator: %.*s",
                 (int)op->src_len, op->src);
            return -1;
        }
        const char *o = op->u.str.s;
        size_t ol = op->u.str.len;
        int kind; /* 0 '=', 1 lower, 2 upper */
        bool incl;
        if (key_is(o, ol, "=")) {
            kind = 0;
            incl = true;
        } else if (key_is(o, ol, ">")) {
            kind = 1;
            incl = false;
        } else if (key_is(o, ol, ">=")) {
            kind = 1;
            incl = true;
        } else if (key_is(o, ol, "<")) {
            kind = 2;
            incl = false;
        } else if (key_is(o, ol, "<=")) {
            kind = 2;
            incl = true;
        } else {
            fail(c, "Unrecognized numeric range operator: %.*s", (int)ol, o);
            return -1;
        }
        if (have_eq || (kind == 0 && i > 0) || (kind == 1 && have_lo) ||
            (kind == 2 && have_hi)) {
            fail(c, "Bad numeric range operator: %.*s", (int)ol, o);
            return -1;
        }
        if (i + 1 >= n || arr->u.arr.items[i + 1]->type != EVB_JSON_NUMBER) {
            fail(c, "Value of %.*s must be numeric", (int)ol, o);
            return -1;
        }
        double d;
        if (number(c, arr->u.arr.items[i + 1], &d))
            return -1;
        if (kind == 0) {
            have_eq = true;
            t->lo = t->hi = d;
            t->lo_incl = t->hi_incl = true;
        } else if (kind == 1) {
            have_lo = true;
            t->lo = d;
            t->lo_incl = incl;
        } else {
            have_hi = true;
            t->hi = d;
            t->hi_incl = incl;
        }
    }
    if (have_lo && have_hi && !(t->lo < t->hi)) {
        fail(c, "Bottom must be less than top");
        return -1;
    }
    if (have_eq) {
        t->kind = T_EXACT_NUM;
        t->num = t->lo;
    }
    return 0;
}

/* A string or a non-empty list of strings; fills t->strs. what_err is the
 * reason used for a non-string. */
static int string_list(pctx_t *c, const evb_jval_t *v, evb__test_t *t,
                       const char *what_err, bool fold, bool nonempty) {
    const evb_jval_t *const *items = &v;
    size_t n = 1;
    if (v->type == EVB_JSON_ARRAY) {
        items = (const evb_jval_t *const *)v->u.arr.items;
        n = v->u.arr.n;
        if (n == 0) {
            fail(c, "Empty arrays are not allowed");
            return -1;
        }
    }
    t->strs = evb_arena_calloc(c->a, n, sizeof *t->strs);
    if (!t->strs) {
        oom(c);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_string(items[i])) {
            fail(c, "%s", what_err);
            return -1;
        }
        if (nonempty && items[i]->u.str.len == 0) {
            fail(c, "Null prefix/suffix not allowed");
            return -1;
        }
        t->strs[i] = fold ? sfold(c, items[i]->u.str.s, items[i]->u.str.len)
                          : sdup(c, items[i]->u.str.s, items[i]->u.str.len);
        if (c->err)
            return -1;
    }
    t->nstrs = n;
    return 0;
}

static int parse_anything_but(pctx_t *c, const evb_jval_t *v, evb__test_t *t) {
    static const char bad_value[] =
        "Value of anything-but must be an array or single string/number value.";
    switch (v->type) {
    case EVB_JSON_STRING:
        t->kind = T_AB_STR;
        return string_list(c, v, t, bad_value, false, false);
    case EVB_JSON_NUMBER:
        t->kind = T_AB_NUM;
        t->nums = evb_arena_alloc(c->a, sizeof(double));
        if (!t->nums) {
            oom(c);
            return -1;
        }
        t->nnums = 1;
        return number(c, v, &t->nums[0]);
    case EVB_JSON_ARRAY: {
        size_t n = v->u.arr.n;
        if (n == 0) {
            fail(c, "Empty arrays are not allowed");
            return -1;
        }
        evb_json_type_t first = v->u.arr.items[0]->type;
        for (size_t i = 0; i < n; i++) {
            evb_json_type_t ty = v->u.arr.items[i]->type;
            if ((ty != EVB_JSON_STRING && ty != EVB_JSON_NUMBER) ||
                ty != first) {
                fail(c, "Inside anything but list, start|null|boolean is not "
                        "supported.");
                return -1;
            }
        }
        if (first == EVB_JSON_STRING) {
            t->kind = T_AB_STR;
            return string_list(c, v, t, bad_value, false, false);
        }
        t->kind = T_AB_NUM;
        t->nums = evb_arena_calloc(c->a, n, sizeof(double));
        if (!t->nums) {
            oom(c);
            return -1;
        }
        t->nnums = n;
        for (size_t i = 0; i < n; i++)
            if (number(c, v->u.arr.items[i], &t->nums[i]))
                return -1;
        return 0;
    }
    case EVB_JSON_OBJECT: {
        if (v->u.obj.n == 0) {
            fail(c, "%s", bad_value);
            return -1;
        }
        const char *k = NULL;
        size_t kl = 0;
        const evb_jval_t *inner = NULL;
        size_t distinct = 0;
        for (size_t i = 0; i < v->u.obj.n; i++) {
            const evb_jval_t *mv = member_value(v, i);
            if (!mv)
                continue;
            distinct++;
            k = v->u.obj.members[i].key;
            kl = v->u.obj.members[i].klen;
            inner = mv;
        }
        if (distinct != 1) {
            fail(c, "%s", bad_value);
            return -1;
        }
        if (key_is(k, kl, "prefix") || key_is(k, kl, "suffix")) {
            t->kind = key_is(k, kl, "prefix") ? T_AB_PREFIX : T_AB_SUFFIX;
            if (inner->type == EVB_JSON_OBJECT) {
                fail(c, "%s", bad_value);
                return -1;
            }
            return string_list(c, inner, t,
                               "prefix/suffix match pattern must be a string",
                               false, true);
        }
        if (key_is(k, kl, "equals-ignore-case")) {
            t->kind = T_AB_EIC;
            return string_list(c, inner, t,
                               "Inside anything-but/equals-ignore-case list, "
                               "number|start|null|boolean is not supported.",
                               true, false);
        }
        if (key_is(k, kl, "wildcard")) {
            t->kind = T_AB_WILDCARD;
            if (string_list(c, inner, t,
                            "wildcard match pattern must be a string", false,
                            false))
                return -1;
            t->wcs = evb_arena_calloc(c->a, t->nstrs, sizeof *t->wcs);
            if (!t->wcs) {
                oom(c);
                return -1;
            }
            for (size_t i = 0; i < t->nstrs; i++) {
                char why[200];
                if (evb__wildcard_compile(c->a, t->strs[i].s, t->strs[i].len,
                                          &t->wcs[i], why, sizeof why)) {
                    fail(c, "%s", why);
                    return -1;
                }
            }
            return 0;
        }
        fail(c, "%s", bad_value);
        return -1;
    }
    default: fail(c, "%s", bad_value); return -1;
    }
}

/* prefix / suffix with an optional {"equals-ignore-case": s} */
static int parse_affix(pctx_t *c, const evb_jval_t *v, evb__test_t *t,
                       bool prefix) {
    const char *err = prefix ? "prefix match pattern must be a string"
                             : "suffix match pattern must be a string";
    if (is_string(v)) {
        t->kind = prefix ? T_PREFIX : T_SUFFIX;
        t->str = sdup(c, v->u.str.s, v->u.str.len);
        return c->err ? -1 : 0;
    }
    if (v->type == EVB_JSON_OBJECT && v->u.obj.n > 0) {
        const char *k;
        size_t kl;
        const evb_jval_t *inner;
        if (sole_member(c, v, &k, &kl, &inner))
            return -1;
        if (key_is(k, kl, "equals-ignore-case") && is_string(inner)) {
            t->kind = prefix ? T_PREFIX_EIC : T_SUFFIX_EIC;
            t->str = sfold(c, inner->u.str.s, inner->u.str.len);
            return c->err ? -1 : 0;
        }
    }
    fail(c, "%s", err);
    return -1;
}

static int parse_operator(pctx_t *c, const evb_jval_t *obj, evb__test_t *t,
                          bool *exists_false) {
    const char *k;
    size_t kl;
    const evb_jval_t *v;
    if (sole_member(c, obj, &k, &kl, &v))
        return -1;
    if (key_is(k, kl, "prefix"))
        return parse_affix(c, v, t, true);
    if (key_is(k, kl, "suffix"))
        return parse_affix(c, v, t, false);
    if (key_is(k, kl, "equals-ignore-case")) {
        if (!is_string(v)) {
            fail(c, "equals-ignore-case match pattern must be a string");
            return -1;
        }
        t->kind = T_EIC;
        t->str = sfold(c, v->u.str.s, v->u.str.len);
        return c->err ? -1 : 0;
    }
    if (key_is(k, kl, "wildcard")) {
        if (!is_string(v)) {
            fail(c, "wildcard match pattern must be a string");
            return -1;
        }
        t->kind = T_WILDCARD;
        char why[200];
        if (evb__wildcard_compile(c->a, v->u.str.s, v->u.str.len, &t->wc, why,
                                  sizeof why)) {
            fail(c, "%s", why);
            return -1;
        }
        return 0;
    }
    if (key_is(k, kl, "cidr")) {
        if (!is_string(v)) {
            fail(c, "prefix match pattern must be a string");
            return -1;
        }
        t->kind = T_CIDR;
        char why[200];
        if (evb__cidr_parse(v->u.str.s, v->u.str.len, t, why, sizeof why)) {
            fail(c, "%s", why);
            return -1;
        }
        return 0;
    }
    if (key_is(k, kl, "numeric")) {
        if (v->type != EVB_JSON_ARRAY) {
            fail(c, "Value of numeric must be an array.");
            return -1;
        }
        return parse_numeric(c, v, t);
    }
    if (key_is(k, kl, "exists")) {
        if (v->type != EVB_JSON_TRUE && v->type != EVB_JSON_FALSE) {
            fail(c, "exists match pattern must be either true or false.");
            return -1;
        }
        t->kind = v->type == EVB_JSON_TRUE ? T_EXISTS_TRUE : T_EXISTS_FALSE;
        if (t->kind == T_EXISTS_FALSE)
            *exists_false = true;
        return 0;
    }
    if (key_is(k, kl, "anything-but"))
        return parse_anything_but(c, v, t);
    fail(c, "Unrecognized match type %.*s", (int)kl, k);
    return -1;
}

static evb__cond_t *parse_leaf(pctx_t *c, const evb_jval_t *arr,
                               const char *path, size_t plen) {
    size_t n = arr->u.arr.n;
    if (n == 0) {
        fail(c, "Empty arrays are not allowed");
        return NULL;
    }
    evb__cond_t *cond = evb_arena_calloc(c->a, 1, sizeof *cond);
    evb__test_t *tests = evb_arena_calloc(c->a, n, sizeof *tests);
    if (!cond || !tests) {
        oom(c);
        return NULL;
    }
    cond->path = path;
    cond->path_len = plen;
    cond->tests = tests;
    cond->ntests = n;
    cond->src = arr;
    for (size_t i = 0; i < n; i++) {
        const evb_jval_t *v = arr->u.arr.items[i];
        evb__test_t *t = &tests[i];
        switch (v->type) {
        case EVB_JSON_STRING:
            t->kind = T_EXACT_STR;
            t->str = sdup(c, v->u.str.s, v->u.str.len);
            break;
        case EVB_JSON_NUMBER:
            t->kind = T_EXACT_NUM;
            if (number(c, v, &t->num))
                return NULL;
            break;
        case EVB_JSON_NULL: t->kind = T_NULL; break;
        case EVB_JSON_TRUE: t->kind = T_TRUE; break;
        case EVB_JSON_FALSE: t->kind = T_FALSE; break;
        case EVB_JSON_ARRAY:
            fail(c, "Match value must be String, number, true, false, or null");
            return NULL;
        case EVB_JSON_OBJECT:
            if (parse_operator(c, v, t, &cond->has_exists_false))
                return NULL;
            break;
        }
        if (c->err)
            return NULL;
        if (t->kind != T_EXISTS_FALSE)
            cond->positive = true;
    }
    return cond;
}

static char *join_path(pctx_t *c, const char *base, size_t blen,
                       const char *key, size_t klen, size_t *outlen) {
    /* base is NULL at the top level; "" is the path of an empty key */
    size_t n = base ? blen + 1 + klen : klen;
    char *p = evb_arena_alloc(c->a, n + 1);
    if (!p) {
        oom(c);
        return NULL;
    }
    if (base) {
        memcpy(p, base, blen);
        p[blen] = '.';
        memcpy(p + blen + 1, key, klen);
    } else {
        memcpy(p, key, klen);
    }
    p[n] = '\0';
    *outlen = n;
    return p;
}

/* alternatives x alternatives */
static int cross(pctx_t *c, alts_t *acc, const alts_t *b) {
    size_t n = acc->n * b->n;
    if (n > c->lim->max_or_combinations) {
        fail(c, "Rule is too complex - the $or combinations exceed %zu",
             c->lim->max_or_combinations);
        return -1;
    }
    condlist_t *out = evb_arena_calloc(c->a, n ? n : 1, sizeof *out);
    if (!out) {
        oom(c);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < acc->n; i++)
        for (size_t j = 0; j < b->n; j++, k++) {
            size_t m = acc->v[i].n + b->v[j].n;
            out[k].items = evb_arena_alloc(c->a, (m ? m : 1) * sizeof(void *));
            if (!out[k].items) {
                oom(c);
                return -1;
            }
            if (acc->v[i].n)
                memcpy(out[k].items, acc->v[i].items,
                       acc->v[i].n * sizeof(void *));
            if (b->v[j].n)
                memcpy(out[k].items + acc->v[i].n, b->v[j].items,
                       b->v[j].n * sizeof(void *));
            out[k].n = m;
        }
    acc->v = out;
    acc->n = n;
    return 0;
}

static bool is_or_array(pctx_t *c, const evb_jval_t *v, int *err) {
    *err = 0;
    if (v->type != EVB_JSON_ARRAY || v->u.arr.n == 0 ||
        v->u.arr.items[0]->type != EVB_JSON_OBJECT)
        return false;
    for (size_t i = 0; i < v->u.arr.n; i++)
        if (v->u.arr.items[i]->type != EVB_JSON_OBJECT) {
            fail(c, "Only JSON object is allowed in array of $or "
                    "relationship.");
            *err = 1;
            return false;
        }
    if (v->u.arr.n < 2) {
        fail(c, "There must have at least 2 Objects in $or relationship.");
        *err = 1;
        return false;
    }
    return true;
}

static int parse_object(pctx_t *c, const evb_jval_t *obj, const char *path,
                        size_t plen, unsigned depth, alts_t *out);

static int parse_member(pctx_t *c, const char *key, size_t klen,
                        const evb_jval_t *v, const char *path, size_t plen,
                        unsigned depth, alts_t *acc) {
    if (key_is(key, klen, "$or")) {
        int err;
        if (is_or_array(c, v, &err)) {
            c->or_product *= v->u.arr.n;
            if (c->or_product > c->lim->max_or_combinations) {
                fail(c, "Rule is too complex - the $or combinations exceed %zu",
                     c->lim->max_or_combinations);
                return -1;
            }
            alts_t u = {NULL, 0};
            for (size_t i = 0; i < v->u.arr.n; i++) {
                alts_t sub;
                if (parse_object(c, v->u.arr.items[i], path, plen, depth + 1,
                                 &sub))
                    return -1;
                condlist_t *nv =
                    evb_arena_alloc(c->a, (u.n + sub.n) * sizeof *nv);
                if (!nv) {
                    oom(c);
                    return -1;
                }
                if (u.n)
                    memcpy(nv, u.v, u.n * sizeof *nv);
                memcpy(nv + u.n, sub.v, sub.n * sizeof *nv);
                u.v = nv;
                u.n += sub.n;
                if (u.n > c->lim->max_or_combinations) {
                    fail(c,
                         "Rule is too complex - the $or combinations "
                         "exceed %zu",
                         c->lim->max_or_combinations);
                    return -1;
                }
            }
            return cross(c, acc, &u);
        }
        if (err)
            return -1;
    }
    size_t nplen;
    char *npath = join_path(c, path, plen, key, klen, &nplen);
    if (!npath)
        return -1;
    if (v->type == EVB_JSON_OBJECT) {
        alts_t sub;
        if (parse_object(c, v, npath, nplen, depth + 1, &sub))
            return -1;
        return cross(c, acc, &sub);
    }
    if (v->type == EVB_JSON_ARRAY) {
        evb__cond_t *cond = parse_leaf(c, v, npath, nplen);
        if (!cond)
            return -1;
        for (size_t i = 0; i < acc->n; i++) {
            condlist_t *cl = &acc->v[i];
            evb__cond_t **items =
                evb_arena_alloc(c->a, (cl->n + 1) * sizeof *items);
            if (!items) {
                oom(c);
                return -1;
            }
            if (cl->n)
                memcpy(items, cl->items, cl->n * sizeof *items);
            items[cl->n] = cond;
            cl->items = items;
            cl->n++;
        }
        return 0;
    }
    fail(c, "\"%.*s\" must be an object or an array", (int)klen, key);
    return -1;
}

static int parse_object(pctx_t *c, const evb_jval_t *obj, const char *path,
                        size_t plen, unsigned depth, alts_t *out) {
    if (obj->u.obj.n == 0) {
        fail(c, "Empty objects are not allowed");
        return -1;
    }
    alts_t acc;
    acc.v = evb_arena_calloc(c->a, 1, sizeof *acc.v);
    if (!acc.v) {
        oom(c);
        return -1;
    }
    acc.n = 1;
    for (size_t i = 0; i < obj->u.obj.n; i++) {
        const evb_jval_t *v = member_value(obj, i);
        if (!v)
            continue;
        const evb_jmember_t *m = &obj->u.obj.members[i];
        if (parse_member(c, m->key, m->klen, v, path, plen, depth, &acc))
            return -1;
    }
    *out = acc;
    return 0;
}

evb_pattern_limits_t evb_pattern_limits_default(void) {
    evb_pattern_limits_t l = {4096, 1000, 1024 * 1024, 1000};
    return l;
}

evb_err_t evb__pattern_parse(evb_arena_t *a, const char *text, size_t len,
                             const evb_pattern_limits_t *limits,
                             evb__parsed_t *out, char *errstr,
                             size_t errstr_size) {
    evb_pattern_limits_t defl = evb_pattern_limits_default();
    pctx_t c = {a, limits ? limits : &defl, errstr, errstr_size, EVB_ERR_OK, 1};
    memset(out, 0, sizeof *out);
    if (c.lim->max_pattern_len && len > c.lim->max_pattern_len) {
        /* the limit counts characters, not bytes */
        size_t chars = 0;
        for (size_t i = 0; i < len; i++)
            chars += ((unsigned char)text[i] & 0xC0) != 0x80;
        if (chars > c.lim->max_pattern_len)
            return fail(&c, "Event pattern is too long");
    }
    evb_jval_t *root;
    char why[512];
    evb_err_t err = evb_json_parse(a, text, len, 1000, &root, why, sizeof why);
    if (err == EVB_ERR_NOMEM)
        return oom(&c);
    if (err)
        return fail(&c, "%s", why);
    if (root->type != EVB_JSON_OBJECT)
        return fail(&c, "Filter is not an object");
    alts_t alts;
    if (parse_object(&c, root, NULL, 0, 0, &alts))
        return c.err;
    out->subs = evb_arena_calloc(a, alts.n, sizeof *out->subs);
    if (!out->subs)
        return oom(&c);
    for (size_t i = 0; i < alts.n; i++) {
        evb__subrule_t *s = &out->subs[i];
        s->n = alts.v[i].n;
        s->conds = evb_arena_calloc(a, s->n ? s->n : 1, sizeof *s->conds);
        if (!s->conds)
            return oom(&c);
        for (size_t j = 0; j < s->n; j++)
            s->conds[j] = *alts.v[i].items[j];
    }
    out->nsubs = alts.n;
    return EVB_ERR_OK;
}
