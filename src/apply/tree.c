/*
 * tree.c: YAML (libyaml's event parser) and JSON (the json module's DOM
 * parser, which keeps lines) into one tree of evb_apply_node_t, every node
 * with its line and column, allocated from an arena.
 *
 * YAML: one document per stream; plain scalars typed by the YAML 1.2 core
 * schema; quoted and block scalars, and scalars tagged !!str, are strings;
 * anchors and aliases are followed (an alias shares the anchored node, so
 * no copy is made); duplicate keys are errors; nesting is bounded. JSON:
 * syntax errors come from jansson, which says where; the tree comes from
 * evb_json_parse. ${NAME} references in strings are expanded as each
 * string node is made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "../json/json.h"
#include "apply_internal.h"

#define MAX_DEPTH 64
#define MAX_ANCHORS 1024
/* Keys in one mapping at most (duplicates are looked for pairwise). */
#define MAX_KEYS 10000

typedef struct tp {
    evb_arena_t *a;
    const evb_apply_load_opts_t *opts;
    unsigned err_line;
    char *errstr;
    size_t errstr_size;
    evb_err_t err;
    struct {
        const char *name;
        evb_apply_node_t *node;
    } anchors[MAX_ANCHORS];
    size_t nanchors;
} tp_t;

static evb_err_t tp_fail(tp_t *t, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static evb_err_t tp_fail(tp_t *t, unsigned line, const char *fmt, ...) {
    if (t->err)
        return t->err;
    va_list ap;
    va_start(ap, fmt);
    if (t->errstr && t->errstr_size)
        vsnprintf(t->errstr, t->errstr_size, fmt, ap);
    va_end(ap);
    t->err_line = line;
    t->err = EVB_ERR_INVALID_ARG;
    return t->err;
}

static evb_err_t tp_nomem(tp_t *t) {
    if (!t->err) {
        evb_err_set(EVB_ERR_NOMEM, t->errstr, t->errstr_size, "out of memory");
        t->err = EVB_ERR_NOMEM;
    }
    return t->err;
}

static evb_apply_node_t *new_node(tp_t *t, evb_apply_node_type_t type,
                                  unsigned line, unsigned col) {
    evb_apply_node_t *n = evb_arena_calloc(t->a, 1, sizeof *n);
    if (!n) {
        tp_nomem(t);
        return NULL;
    }
    n->type = type;
    n->line = line;
    n->col = col;
    return n;
}

static evb_err_t expand_string(tp_t *t, evb_apply_node_t *n);

/* ---- YAML scalars ------------------------------------------------------ */

static bool all_digits(const char *s, size_t len, bool hex, bool oct) {
    if (!len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= '0' && c <= '9') && (!oct || c <= '7');
        if (hex)
            ok = ok || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!ok)
            return false;
    }
    return true;
}

static bool text_in(const char *s, size_t len, const char *const *set) {
    for (size_t i = 0; set[i]; i++)
        if (strlen(set[i]) == len && memcmp(set[i], s, len) == 0)
            return true;
    return false;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool float_text(const char *s, size_t len) {
    size_t i = 0, digits = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (!digits)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t e = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == e)
            return false;
    }
    return i == len;
}

/* The core schema's type of a plain scalar. */
static evb_apply_node_type_t plain_type(const char *s, size_t len) {
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const bools[] = {"true",  "True",  "TRUE", "false",
                                        "False", "FALSE", NULL};
    static const char *const specials[] = {
        ".inf",  ".Inf",  ".INF", "-.inf", "-.Inf", "-.INF", "+.inf",
        "+.Inf", "+.INF", ".nan", ".NaN",  ".NAN",  NULL};
    if (text_in(s, len, nulls))
        return EVB_APPLY_NULL;
    if (text_in(s, len, bools))
        return EVB_APPLY_BOOL;
    size_t sign = len && (s[0] == '-' || s[0] == '+');
    if (all_digits(s + sign, len - sign, false, false))
        return EVB_APPLY_INT;
    if (len > 2 && s[0] == '0' && s[1] == 'x' &&
        all_digits(s + 2, len - 2, true, false))
        return EVB_APPLY_INT;
    if (len > 2 && s[0] == '0' && s[1] == 'o' &&
        all_digits(s + 2, len - 2, false, true))
        return EVB_APPLY_INT;
    if (float_text(s, len) || text_in(s, len, specials))
        return EVB_APPLY_FLOAT;
    return EVB_APPLY_STRING;
}

static evb_apply_node_t *yaml_scalar(tp_t *t, const yaml_event_t *ev) {
    unsigned line = (unsigned)ev->start_mark.line + 1;
    unsigned col = (unsigned)ev->start_mark.column + 1;
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    evb_apply_node_type_t type = EVB_APPLY_STRING;
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        !(tag && strcmp(tag, YAML_STR_TAG) == 0))
        type = plain_type(s, len);
    evb_apply_node_t *n = new_node(t, type, line, col);
    if (!n)
        return NULL;
    if (type == EVB_APPLY_BOOL) {
        n->str = (s[0] == 't' || s[0] == 'T') ? "true" : "false";
        n->len = strlen(n->str);
    } else if (type == EVB_APPLY_NULL) {
        n->str = "null";
        n->len = 4;
    } else {
        n->str = evb_arena_strndup(t->a, s, len);
        n->len = len;
        if (!n->str) {
            tp_nomem(t);
            return NULL;
        }
        if (type == EVB_APPLY_STRING && expand_string(t, n))
            return NULL;
    }
    return n;
}

/* ---- YAML structure ---------------------------------------------------- */

static evb_err_t yaml_next(tp_t *t, yaml_parser_t *p, yaml_event_t *ev) {
    if (!yaml_parser_parse(p, ev)) {
        unsigned line = (unsigned)p->problem_mark.line + 1;
        if (p->error == YAML_MEMORY_ERROR)
            return tp_nomem(t);
        if (p->context) /* "while scanning a quoted scalar": where it began */
            return tp_fail(t, (unsigned)p->context_mark.line + 1,
                           "YAML syntax error: %s %s (line %u)", p->context,
                           p->problem ? p->problem : "", line);
        return tp_fail(t, line, "YAML syntax error: %s",
                       p->problem ? p->problem : "invalid YAML");
    }
    return EVB_ERR_OK;
}

static evb_err_t remember_anchor(tp_t *t, const yaml_char_t *anchor,
                                 evb_apply_node_t *n, unsigned line) {
    if (!anchor)
        return EVB_ERR_OK;
    if (t->nanchors == MAX_ANCHORS)
        return tp_fail(t, line, "too many YAML anchors (at most %d)",
                       MAX_ANCHORS);
    const char *name = evb_arena_strndup(t->a, (const char *)anchor,
                                         strlen((const char *)anchor));
    if (!name)
        return tp_nomem(t);
    t->anchors[t->nanchors].name = name;
    t->anchors[t->nanchors].node = n;
    t->nanchors++;
    return EVB_ERR_OK;
}

static evb_apply_node_t *yaml_node(tp_t *t, yaml_parser_t *p, yaml_event_t *ev,
                                   unsigned depth);

/* Grow an arena array by doubling (old contents copied). */
static void *grow(tp_t *t, void *old, size_t n, size_t *cap, size_t size) {
    if (n < *cap)
        return old;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = evb_arena_alloc(t->a, ncap * size);
    if (!p) {
        tp_nomem(t);
        return NULL;
    }
    if (old)
        memcpy(p, old, n * size);
    *cap = ncap;
    return p;
}

static evb_apply_node_t *yaml_mapping(tp_t *t, yaml_parser_t *p,
                                      yaml_event_t *start, unsigned depth) {
    evb_apply_node_t *n =
        new_node(t, EVB_APPLY_MAP, (unsigned)start->start_mark.line + 1,
                 (unsigned)start->start_mark.column + 1);
    if (!n || remember_anchor(t, start->data.mapping_start.anchor, n, n->line))
        return NULL;
    size_t cap = 0;
    for (;;) {
        yaml_event_t kev;
        if (yaml_next(t, p, &kev))
            return NULL;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            return n;
        }
        unsigned kline = (unsigned)kev.start_mark.line + 1;
        unsigned kcol = (unsigned)kev.start_mark.column + 1;
        if (kev.type != YAML_SCALAR_EVENT) {
            yaml_event_delete(&kev);
            tp_fail(t, kline, "mapping keys must be plain strings");
            return NULL;
        }
        const char *key = evb_arena_strndup(
            t->a, (const char *)kev.data.scalar.value, kev.data.scalar.length);
        yaml_event_delete(&kev);
        if (!key) {
            tp_nomem(t);
            return NULL;
        }
        if (n->n == MAX_KEYS) {
            tp_fail(t, kline, "more than %d keys in one mapping", MAX_KEYS);
            return NULL;
        }
        for (size_t i = 0; i < n->n; i++)
            if (strcmp(n->members[i].key, key) == 0) {
                tp_fail(t, kline, "duplicate key '%s' (first at line %u)", key,
                        n->members[i].line);
                return NULL;
            }
        yaml_event_t vev;
        if (yaml_next(t, p, &vev))
            return NULL;
        evb_apply_node_t *v = yaml_node(t, p, &vev, depth + 1);
        yaml_event_delete(&vev);
        if (!v)
            return NULL;
        evb_apply_member_t *m =
            grow(t, n->members, n->n, &cap, sizeof *n->members);
        if (!m)
            return NULL;
        n->members = m;
        m[n->n].key = key;
        m[n->n].line = kline;
        m[n->n].col = kcol;
        m[n->n].value = v;
        n->n++;
    }
}

static evb_apply_node_t *yaml_sequence(tp_t *t, yaml_parser_t *p,
                                       yaml_event_t *start, unsigned depth) {
    evb_apply_node_t *n =
        new_node(t, EVB_APPLY_SEQ, (unsigned)start->start_mark.line + 1,
                 (unsigned)start->start_mark.column + 1);
    if (!n || remember_anchor(t, start->data.sequence_start.anchor, n, n->line))
        return NULL;
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (yaml_next(t, p, &ev))
            return NULL;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return n;
        }
        evb_apply_node_t *v = yaml_node(t, p, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!v)
            return NULL;
        evb_apply_node_t **items =
            grow(t, n->items, n->n, &cap, sizeof *n->items);
        if (!items)
            return NULL;
        n->items = items;
        items[n->n++] = v;
    }
}

/* The node that starts with event ev (the caller deletes ev). */
static evb_apply_node_t *yaml_node(tp_t *t, yaml_parser_t *p, yaml_event_t *ev,
                                   unsigned depth) {
    unsigned line = (unsigned)ev->start_mark.line + 1;
    if (depth > MAX_DEPTH) {
        tp_fail(t, line, "nesting deeper than %d levels", MAX_DEPTH);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        evb_apply_node_t *n = yaml_scalar(t, ev);
        if (n && remember_anchor(t, ev->data.scalar.anchor, n, line))
            return NULL;
        return n;
    }
    case YAML_MAPPING_START_EVENT: return yaml_mapping(t, p, ev, depth);
    case YAML_SEQUENCE_START_EVENT: return yaml_sequence(t, p, ev, depth);
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        for (size_t i = t->nanchors; i-- > 0;)
            if (strcmp(t->anchors[i].name, name) == 0)
                return t->anchors[i].node;
        tp_fail(t, line, "unknown YAML alias '*%s'", name);
        return NULL;
    }
    default: tp_fail(t, line, "unexpected YAML structure"); return NULL;
    }
}

static evb_apply_node_t *parse_yaml(tp_t *t, const char *text, size_t len) {
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        tp_nomem(t);
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    evb_apply_node_t *root = NULL;
    yaml_event_t ev;
    bool done = false;
    while (!done && !yaml_next(t, &p, &ev)) {
        switch (ev.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT: break;
        case YAML_DOCUMENT_START_EVENT:
            if (root)
                tp_fail(t, (unsigned)ev.start_mark.line + 1,
                        "only one YAML document is allowed in a file");
            break;
        case YAML_STREAM_END_EVENT: done = true; break;
        default: root = yaml_node(t, &p, &ev, 0); break;
        }
        yaml_event_delete(&ev);
        if (t->err)
            break;
    }
    yaml_parser_delete(&p);
    if (t->err)
        return NULL;
    if (!root) /* an empty document */
        root = new_node(t, EVB_APPLY_NULL, 1, 1);
    return root;
}

/* ---- JSON ------------------------------------------------------------------
 */

static evb_apply_node_t *from_jval(tp_t *t, const evb_jval_t *v) {
    evb_apply_node_t *n;
    switch (v->type) {
    case EVB_JSON_NULL:
        if ((n = new_node(t, EVB_APPLY_NULL, v->line, v->col))) {
            n->str = "null";
            n->len = 4;
        }
        return n;
    case EVB_JSON_TRUE:
    case EVB_JSON_FALSE:
        if ((n = new_node(t, EVB_APPLY_BOOL, v->line, v->col))) {
            n->str = v->type == EVB_JSON_TRUE ? "true" : "false";
            n->len = strlen(n->str);
        }
        return n;
    case EVB_JSON_NUMBER: {
        bool integer = true;
        for (size_t i = 0; i < v->u.str.len; i++)
            if (strchr(".eE", v->u.str.s[i]))
                integer = false;
        n = new_node(t, integer ? EVB_APPLY_INT : EVB_APPLY_FLOAT, v->line,
                     v->col);
        if (n) {
            n->str = v->u.str.s;
            n->len = v->u.str.len;
        }
        return n;
    }
    case EVB_JSON_STRING:
        if ((n = new_node(t, EVB_APPLY_STRING, v->line, v->col))) {
            n->str = v->u.str.s;
            n->len = v->u.str.len;
            if (expand_string(t, n))
                return NULL;
        }
        return n;
    case EVB_JSON_ARRAY:
        if (!(n = new_node(t, EVB_APPLY_SEQ, v->line, v->col)))
            return NULL;
        n->items = evb_arena_calloc(t->a, v->u.arr.n + 1, sizeof *n->items);
        if (!n->items) {
            tp_nomem(t);
            return NULL;
        }
        for (size_t i = 0; i < v->u.arr.n; i++)
            if (!(n->items[n->n++] = from_jval(t, v->u.arr.items[i])))
                return NULL;
        return n;
    case EVB_JSON_OBJECT:
        if (!(n = new_node(t, EVB_APPLY_MAP, v->line, v->col)))
            return NULL;
        if (v->u.obj.n > MAX_KEYS) {
            tp_fail(t, v->line, "more than %d keys in one mapping", MAX_KEYS);
            return NULL;
        }
        n->members = evb_arena_calloc(t->a, v->u.obj.n + 1, sizeof *n->members);
        if (!n->members) {
            tp_nomem(t);
            return NULL;
        }
        for (size_t i = 0; i < v->u.obj.n; i++) {
            const evb_jmember_t *jm = &v->u.obj.members[i];
            if (memchr(jm->key, 0, jm->klen)) {
                tp_fail(t, jm->val->line, "keys must not contain NUL");
                return NULL;
            }
            for (size_t k = 0; k < n->n; k++)
                if (strcmp(n->members[k].key, jm->key) == 0) {
                    tp_fail(t, jm->val->line,
                            "duplicate key '%s' (first at line %u)", jm->key,
                            n->members[k].line);
                    return NULL;
                }
            evb_apply_member_t *m = &n->members[n->n];
            m->key = jm->key;
            m->line = jm->val->line;
            m->col = jm->val->col;
            if (!(m->value = from_jval(t, jm->val)))
                return NULL;
            n->n++;
        }
        return n;
    }
    tp_fail(t, v->line, "unexpected JSON value");
    return NULL;
}

static evb_apply_node_t *parse_json(tp_t *t, const char *text, size_t len) {
    json_error_t jerr;
    json_t *check = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    if (!check) {
        tp_fail(t, jerr.line > 0 ? (unsigned)jerr.line : 1,
                "JSON syntax error: %s", jerr.text);
        return NULL;
    }
    json_decref(check);
    evb_jval_t *v = NULL;
    char why[256] = "";
    evb_err_t err =
        evb_json_parse(t->a, text, len, MAX_DEPTH, &v, why, sizeof why);
    if (err == EVB_ERR_NOMEM) {
        tp_nomem(t);
        return NULL;
    }
    if (err) {
        tp_fail(t, 1, "JSON syntax error: %s", why);
        return NULL;
    }
    return from_jval(t, v);
}

/* ---- ${NAME} ------------------------------------------------------------ */

static bool name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c) {
    return name_start(c) || (c >= '0' && c <= '9');
}

/* Expand ${NAME} in a string node, once, when it is made (an alias shares
 * the node, so nothing is expanded twice). */
static evb_err_t expand_string(tp_t *t, evb_apply_node_t *n) {
    const evb_apply_load_opts_t *opts = t->opts;
    if (!memchr(n->str, '$', n->len))
        return EVB_ERR_OK;
    evb_buf_t b;
    evb_buf_init(&b, 0);
    evb_err_t err = EVB_ERR_OK;
    bool any = false;
    for (size_t i = 0; i < n->len && !err;) {
        const char *s = n->str;
        if (s[i] == '$' && i + 2 < n->len && s[i + 1] == '$' &&
            s[i + 2] == '{') {
            err = evb_buf_append(&b, "${", 2); /* $${ is a literal ${ */
            i += 3;
            any = true;
            continue;
        }
        if (s[i] == '$' && i + 1 < n->len && s[i + 1] == '{') {
            size_t j = i + 2;
            while (j < n->len && name_char(s[j]))
                j++;
            if (j == i + 2 || !name_start(s[i + 2]) || j >= n->len ||
                s[j] != '}') {
                evb_buf_free(&b);
                return tp_fail(t, n->line,
                               "malformed ${...} reference (want ${NAME}, "
                               "NAME of letters, digits and _; $${ for a "
                               "literal ${)");
            }
            char name[256];
            if (j - i - 2 >= sizeof name) {
                evb_buf_free(&b);
                return tp_fail(t, n->line,
                               "environment variable name too "
                               "long");
            }
            memcpy(name, s + i + 2, j - i - 2);
            name[j - i - 2] = 0;
            const char *val = opts && opts->getenv_fn
                                  ? opts->getenv_fn(opts->getenv_ud, name)
                                  : getenv(name);
            if (!val) {
                evb_buf_free(&b);
                return tp_fail(t, n->line, "environment variable %s is not set",
                               name);
            }
            err = evb_buf_append(&b, val, strlen(val));
            n->from_env = true;
            any = true;
            i = j + 1;
            continue;
        }
        err = evb_buf_putc(&b, s[i]);
        i++;
    }
    if (!err && any) {
        char *copy = evb_arena_strndup(t->a, b.data ? b.data : "", b.len);
        if (!copy)
            err = EVB_ERR_NOMEM;
        else {
            n->str = copy;
            n->len = b.len;
        }
    }
    evb_buf_free(&b);
    return err ? tp_nomem(t) : EVB_ERR_OK;
}

/* ---- entry points ---------------------------------------------------------
 */

static bool looks_like_json(const char *text, size_t len) {
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        return c == '{' || c == '[';
    }
    return false;
}

evb_err_t evb__apply_tree_parse(evb_arena_t *a, const char *text, size_t len,
                                evb_apply_format_t format,
                                const evb_apply_load_opts_t *opts,
                                evb_apply_node_t **out, unsigned *err_line,
                                char *errstr, size_t errstr_size) {
    tp_t *t = calloc(1, sizeof *t);
    if (!t)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    t->a = a;
    t->opts = opts;
    t->errstr = errstr;
    t->errstr_size = errstr_size;
    *out = NULL;
    if (format == EVB_APPLY_FORMAT_AUTO)
        format = looks_like_json(text, len) ? EVB_APPLY_FORMAT_JSON
                                            : EVB_APPLY_FORMAT_YAML;
    evb_apply_node_t *root = format == EVB_APPLY_FORMAT_JSON
                                 ? parse_json(t, text, len)
                                 : parse_yaml(t, text, len);
    evb_err_t err = t->err;
    if (err_line)
        *err_line = t->err_line;
    free(t);
    if (!err)
        *out = root;
    return err;
}

evb_err_t evb_apply_tree_parse(evb_arena_t *a, const char *text, size_t len,
                               evb_apply_format_t format,
                               const evb_apply_load_opts_t *opts,
                               evb_apply_node_t **out, char *errstr,
                               size_t errstr_size) {
    unsigned line = 0;
    char why[768] = "";
    evb_err_t err = evb__apply_tree_parse(a, text, len, format, opts, out,
                                          &line, why, sizeof why);
    if (err == EVB_ERR_INVALID_ARG)
        evb_err_set(err, errstr, errstr_size, "line %u: %s", line, why);
    else if (err)
        evb_err_set(err, errstr, errstr_size, "%s", why);
    return err;
}

const evb_apply_node_t *evb__apply_get(const evb_apply_node_t *map,
                                       const char *key) {
    if (!map || map->type != EVB_APPLY_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->members[i].key, key) == 0)
            return map->members[i].value;
    return NULL;
}
