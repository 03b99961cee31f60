/*
 * template.c: Pipes input templates and JSONPath (reference §6.5).
 *
 * Pipes templates differ from a rule's InputTransformer: there is no
 * InputPathsMap; placeholders are JSONPaths (<$.value.id>) or reserved
 * variables (<aws.pipes.pipe-name>), strings are quoted automatically, and
 * the data is a JSON value of any shape (a record with its decoded value,
 * or whatever an enrichment answered). The bus transformer's quoting rules
 * (src/transform) are close but keyed by InputPathsMap names, so pipes
 * have their own small compiler and renderer here, over jansson values.
 *
 * Compile splits the template into literal pieces and placeholders, each
 * marked as standing inside or outside a JSON string (only meaningful in a
 * JSON template: one whose first non-blank character is '{' or '['), and
 * parses each JSONPath once. Render walks the pieces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../json/json.h"
#include "pipes_internal.h"

/* ---- JSONPath ----------------------------------------------------------- */

typedef enum { STEP_KEY, STEP_INDEX, STEP_ANY } step_kind_t;

typedef struct step {
    step_kind_t kind;
    char *key; /* STEP_KEY, NUL-terminated */
    size_t index;
} step_t;

typedef struct jpath {
    step_t *steps;
    size_t n;
    bool wildcard;
} jpath_t;

static bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '/';
}

static void jpath_free(jpath_t *p) {
    for (size_t i = 0; i < p->n; i++)
        free(p->steps[i].key);
    free(p->steps);
    memset(p, 0, sizeof *p);
}

/* Parse s[0..len) into p. Returns 0, -1 (not a JSONPath), -2 (no memory). */
static int jpath_parse(const char *s, size_t len, jpath_t *p) {
    memset(p, 0, sizeof *p);
    if (len == 0 || s[0] != '$')
        return -1;
    size_t i = 1, cap = 0;
    while (i < len) {
        step_t st = {0};
        if (s[i] == '.') {
            i++;
            if (i < len && s[i] == '*') {
                st.kind = STEP_ANY;
                i++;
            } else {
                size_t b = i;
                while (i < len && name_char(s[i]))
                    i++;
                if (i == b) {
                    jpath_free(p);
                    return -1;
                }
                st.kind = STEP_KEY;
                st.key = strndup(s + b, i - b);
                if (!st.key) {
                    jpath_free(p);
                    return -2;
                }
            }
        } else if (s[i] == '[') {
            i++;
            if (i < len && s[i] == '*') {
                st.kind = STEP_ANY;
                i++;
            } else {
                size_t b = i, v = 0;
                while (i < len && s[i] >= '0' && s[i] <= '9' &&
                       i - b < 9) {
                    v = v * 10 + (size_t)(s[i] - '0');
                    i++;
                }
                if (i == b) {
                    jpath_free(p);
                    return -1;
                }
                st.kind = STEP_INDEX;
                st.index = v;
            }
            if (i >= len || s[i] != ']') {
                jpath_free(p);
                return -1;
            }
            i++;
        } else {
            jpath_free(p);
            return -1;
        }
        if (st.kind == STEP_ANY)
            p->wildcard = true;
        if (p->n == cap) {
            cap = cap ? cap * 2 : 4;
            step_t *ns = realloc(p->steps, cap * sizeof *ns);
            if (!ns) {
                free(st.key);
                jpath_free(p);
                return -2;
            }
            p->steps = ns;
        }
        p->steps[p->n++] = st;
    }
    return 0;
}

/* Apply steps[from..] to v, appending matches to acc (wildcard paths) or
 * returning the single match (borrowed). */
static json_t *jpath_walk(const jpath_t *p, size_t from, json_t *v,
                          json_t *acc) {
    for (size_t i = from; v && i < p->n; i++) {
        const step_t *st = &p->steps[i];
        switch (st->kind) {
        case STEP_KEY:
            v = json_is_object(v) ? json_object_get(v, st->key) : NULL;
            break;
        case STEP_INDEX:
            v = json_is_array(v) ? json_array_get(v, st->index) : NULL;
            break;
        case STEP_ANY:
            if (json_is_array(v)) {
                size_t k;
                json_t *e;
                json_array_foreach(v, k, e) jpath_walk(p, i + 1, e, acc);
            } else if (json_is_object(v)) {
                const char *k;
                json_t *e;
                json_object_foreach(v, k, e) jpath_walk(p, i + 1, e, acc);
            }
            return NULL;
        }
    }
    if (v && acc)
        json_array_append(acc, v);
    return v;
}

/* New reference or NULL. */
static json_t *jpath_eval(const jpath_t *p, const json_t *root) {
    if (!p->wildcard) {
        json_t *v = jpath_walk(p, 0, (json_t *)root, NULL);
        return v ? json_incref(v) : NULL;
    }
    json_t *acc = json_array();
    if (acc)
        jpath_walk(p, 0, (json_t *)root, acc);
    return acc;
}

bool evb_pipe_jsonpath_valid(const char *s, size_t len) {
    jpath_t p;
    if (jpath_parse(s, len, &p) != 0)
        return false;
    jpath_free(&p);
    return true;
}

static evb_err_t need_add(evb__view_need_t *n, const jpath_t *p) {
    if (p->n == 0 || p->steps[0].kind != STEP_KEY) {
        n->roots |= EVB__ROOT_ALL;
        return EVB_ERR_OK;
    }
    const char *root = p->steps[0].key;
    if (strcmp(root, "key") == 0) {
        n->roots |= EVB__ROOT_KEY;
        return EVB_ERR_OK;
    }
    if (strcmp(root, "value") != 0) {
        n->roots |= EVB__ROOT_ALL;
        return EVB_ERR_OK;
    }
    n->roots |= EVB__ROOT_VALUE;
    if (p->n < 2 || p->steps[1].kind != STEP_KEY) {
        n->whole_value = true;
        return EVB_ERR_OK;
    }
    const char *k = p->steps[1].key;
    for (size_t i = 0; i < n->nvalue_keys; i++)
        if (strcmp(n->value_keys[i], k) == 0)
            return EVB_ERR_OK;
    char **nk = realloc(n->value_keys, (n->nvalue_keys + 1) * sizeof *nk);
    if (!nk)
        return EVB_ERR_NOMEM;
    n->value_keys = nk;
    if (!(nk[n->nvalue_keys] = strdup(k)))
        return EVB_ERR_NOMEM;
    n->nvalue_keys++;
    return EVB_ERR_OK;
}

evb_err_t evb__view_need_path(evb__view_need_t *n, const char *path) {
    jpath_t p;
    if (!path || path[0] != '$')
        return EVB_ERR_OK; /* a constant */
    int rc = jpath_parse(path, strlen(path), &p);
    if (rc == -1)
        return EVB_ERR_OK; /* not a path: used as a constant */
    if (rc != 0)
        return EVB_ERR_NOMEM;
    evb_err_t e = need_add(n, &p);
    jpath_free(&p);
    return e;
}

void evb__view_need_free(evb__view_need_t *n) {
    for (size_t i = 0; i < n->nvalue_keys; i++)
        free(n->value_keys[i]);
    free(n->value_keys);
    memset(n, 0, sizeof *n);
}

json_t *evb_pipe_jsonpath_eval(const char *path, const json_t *root) {
    jpath_t p;
    if (!path || jpath_parse(path, strlen(path), &p) != 0)
        return NULL;
    json_t *v = jpath_eval(&p, root);
    jpath_free(&p);
    return v;
}

/* ---- templates ------------------------------------------------------------ */

typedef enum {
    VAR_PATH,
    VAR_PIPE_ARN,
    VAR_PIPE_NAME,
    VAR_SOURCE_ARN,
    VAR_ENRICHMENT_ARN,
    VAR_TARGET_ARN,
    VAR_INGESTION_TIME,
    VAR_EVENT,
    VAR_EVENT_JSON,
} var_kind_t;

static const struct {
    const char *name;
    var_kind_t kind;
} RESERVED[] = {
    {"aws.pipes.pipe-arn", VAR_PIPE_ARN},
    {"aws.pipes.pipe-name", VAR_PIPE_NAME},
    {"aws.pipes.source-arn", VAR_SOURCE_ARN},
    {"aws.pipes.enrichment-arn", VAR_ENRICHMENT_ARN},
    {"aws.pipes.target-arn", VAR_TARGET_ARN},
    {"aws.pipes.event.ingestion-time", VAR_INGESTION_TIME},
    {"aws.pipes.event.json", VAR_EVENT_JSON},
    {"aws.pipes.event", VAR_EVENT},
};

typedef struct seg {
    bool literal;
    size_t off, len; /* literal: text[off, off+len) */
    var_kind_t var;
    jpath_t path;
    bool in_string;
} seg_t;

struct evb_pipe_template {
    char *text;
    size_t len;
    bool json;
    seg_t *segs;
    size_t nsegs;
};

void evb_pipe_template_free(evb_pipe_template_t *t) {
    if (!t)
        return;
    for (size_t i = 0; i < t->nsegs; i++)
        jpath_free(&t->segs[i].path);
    free(t->segs);
    free(t->text);
    free(t);
}

evb_err_t evb__view_need_template(evb__view_need_t *n,
                                  const evb_pipe_template_t *t) {
    evb_err_t e = EVB_ERR_OK;
    for (size_t i = 0; t && i < t->nsegs && !e; i++) {
        const seg_t *s = &t->segs[i];
        if (s->literal)
            continue;
        if (s->var == VAR_PATH)
            e = need_add(n, &s->path);
        else if (s->var == VAR_EVENT || s->var == VAR_EVENT_JSON)
            n->roots |= EVB__ROOT_ALL;
    }
    return e;
}

bool evb_pipe_template_is_json(const evb_pipe_template_t *t) {
    return t->json;
}

static bool add_seg(evb_pipe_template_t *t, size_t *cap, const seg_t *s) {
    if (t->nsegs == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        seg_t *ns = realloc(t->segs, nc * sizeof *ns);
        if (!ns)
            return false;
        t->segs = ns;
        *cap = nc;
    }
    t->segs[t->nsegs++] = *s;
    return true;
}

evb_err_t evb_pipe_template_compile(const char *text, size_t len,
                                    evb_pipe_template_t **out, char *errstr,
                                    size_t errstr_size) {
    *out = NULL;
    evb_pipe_template_t *t = calloc(1, sizeof *t);
    if (!t || !(t->text = malloc(len + 1))) {
        free(t);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    memcpy(t->text, text, len);
    t->text[len] = '\0';
    t->len = len;
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' ||
                       text[i] == '\r'))
        i++;
    t->json = i < len && (text[i] == '{' || text[i] == '[');

    size_t cap = 0, lit = 0;
    bool in_string = false, escaped = false;
    evb_err_t err = EVB_ERR_OK;
    for (i = 0; i < len && !err;) {
        char c = text[i];
        if (c == '<') {
            const char *end = memchr(text + i + 1, '>', len - i - 1);
            size_t plen = end ? (size_t)(end - (text + i + 1)) : 0;
            const char *p = text + i + 1;
            bool is_path = end && plen > 0 && p[0] == '$';
            bool is_var = end && plen > 10 && memcmp(p, "aws.pipes.", 10) == 0;
            if (is_path || is_var) {
                seg_t s = {0};
                if (i > lit) {
                    s.literal = true;
                    s.off = lit;
                    s.len = i - lit;
                    if (!add_seg(t, &cap, &s)) {
                        err = EVB_ERR_NOMEM;
                        break;
                    }
                    memset(&s, 0, sizeof s);
                }
                s.in_string = t->json && in_string;
                if (is_path) {
                    int r = jpath_parse(p, plen, &s.path);
                    if (r) {
                        err = r == -2 ? EVB_ERR_NOMEM : EVB_ERR_INVALID_ARG;
                        if (r == -1)
                            evb_err_set(err, errstr, errstr_size,
                                        "InputTemplate contains an invalid "
                                        "JSONPath <%.*s>",
                                        (int)plen, p);
                        break;
                    }
                    s.var = VAR_PATH;
                } else {
                    bool found = false;
                    for (size_t k = 0; k < EVB_ARRAY_LEN(RESERVED); k++)
                        if (strlen(RESERVED[k].name) == plen &&
                            memcmp(RESERVED[k].name, p, plen) == 0) {
                            s.var = RESERVED[k].kind;
                            found = true;
                        }
                    if (!found) {
                        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr,
                                          errstr_size,
                                          "InputTemplate contains an unknown "
                                          "reserved variable <%.*s>",
                                          (int)plen, p);
                        break;
                    }
                    if (s.var == VAR_EVENT_JSON && (!t->json || s.in_string)) {
                        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr,
                                          errstr_size,
                                          "InputTemplate uses "
                                          "<aws.pipes.event.json> outside a "
                                          "JSON value position");
                        break;
                    }
                }
                if (!add_seg(t, &cap, &s)) {
                    jpath_free(&s.path);
                    err = EVB_ERR_NOMEM;
                    break;
                }
                i += plen + 2;
                lit = i;
                continue;
            }
        }
        if (t->json) {
            if (escaped)
                escaped = false;
            else if (in_string && c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = !in_string;
        }
        i++;
    }
    if (!err && len > lit) {
        seg_t s = {.literal = true, .off = lit, .len = len - lit};
        if (!add_seg(t, &cap, &s))
            err = EVB_ERR_NOMEM;
    }
    if (err) {
        if (err == EVB_ERR_NOMEM)
            evb_err_set(err, errstr, errstr_size, "out of memory");
        evb_pipe_template_free(t);
        return err;
    }
    *out = t;
    return EVB_ERR_OK;
}

/* Shortest text that reads back as the same double. */
static evb_err_t emit_real(evb_buf_t *out, double d) {
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    /* keep it a JSON number that reads as a real */
    if (!strpbrk(buf, ".eEni"))
        strcat(buf, ".0");
    return evb_buf_append(out, buf, strlen(buf));
}

evb_err_t evb__json_dump(evb_buf_t *out, const json_t *v) {
    evb_err_t e = EVB_ERR_OK;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        size_t klen;
        json_t *m;
        bool first = true;
        e = evb_buf_putc(out, '{');
        json_object_keylen_foreach((json_t *)v, k, klen, m) {
            if (e)
                break;
            if (!first)
                e = evb_buf_putc(out, ',');
            first = false;
            if (!e)
                e = evb_json_append_string(out, k, klen);
            if (!e)
                e = evb_buf_putc(out, ':');
            if (!e)
                e = evb__json_dump(out, m);
        }
        return e ? e : evb_buf_putc(out, '}');
    }
    case JSON_ARRAY: {
        e = evb_buf_putc(out, '[');
        for (size_t i = 0; !e && i < json_array_size(v); i++) {
            if (i)
                e = evb_buf_putc(out, ',');
            if (!e)
                e = evb__json_dump(out, json_array_get(v, i));
        }
        return e ? e : evb_buf_putc(out, ']');
    }
    case JSON_STRING:
        return evb_json_append_string(out, json_string_value(v),
                                      json_string_length(v));
    case JSON_INTEGER:
        return evb_buf_appendf(out, "%lld",
                               (long long)json_integer_value(v));
    case JSON_REAL: return emit_real(out, json_real_value(v));
    case JSON_TRUE: return evb_buf_append(out, "true", 4);
    case JSON_FALSE: return evb_buf_append(out, "false", 5);
    default: return evb_buf_append(out, "null", 4);
    }
}

/* compact JSON of v with every '"' removed ({key:value}) */
static evb_err_t emit_unquoted(evb_buf_t *out, const json_t *v) {
    evb_buf_t tmp;
    evb_buf_init(&tmp, 0);
    evb_err_t e = evb__json_dump(&tmp, v);
    for (size_t i = 0; !e && i < tmp.len; i++)
        if (tmp.data[i] != '"')
            e = evb_buf_putc(out, tmp.data[i]);
    evb_buf_free(&tmp);
    return e;
}

/* s escaped for the inside of a JSON string (no quotes around) */
static evb_err_t emit_escaped(evb_buf_t *out, const char *s, size_t len) {
    evb_buf_t tmp;
    evb_buf_init(&tmp, 0);
    evb_err_t e = evb_json_append_string(&tmp, s, len);
    if (!e)
        e = evb_buf_append(out, tmp.data + 1, tmp.len - 2);
    evb_buf_free(&tmp);
    return e;
}

/* One value in its position. v NULL: missing. */
static evb_err_t emit_value(evb_buf_t *out, const json_t *v, bool json_mode,
                            bool in_string) {
    if (!v)
        return json_mode && !in_string ? evb_buf_append(out, "null", 4)
                                       : EVB_ERR_OK;
    if (json_mode && !in_string)
        return evb__json_dump(out, v);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        return json_mode ? emit_escaped(out, s, n) : evb_buf_append(out, s, n);
    }
    if (json_is_object(v) || json_is_array(v)) {
        if (!json_mode)
            return emit_unquoted(out, v);
        evb_buf_t tmp;
        evb_buf_init(&tmp, 0);
        evb_err_t e = emit_unquoted(&tmp, v);
        if (!e)
            e = emit_escaped(out, tmp.data ? tmp.data : "", tmp.len);
        evb_buf_free(&tmp);
        return e;
    }
    return evb__json_dump(out, v); /* number, true, false, null */
}

static evb_err_t emit_string(evb_buf_t *out, const char *s, bool json_mode,
                             bool in_string) {
    if (!s)
        return emit_value(out, NULL, json_mode, in_string);
    json_t *v = json_string(s);
    if (!v)
        return EVB_ERR_NOMEM;
    evb_err_t e = emit_value(out, v, json_mode, in_string);
    json_decref(v);
    return e;
}

void evb__iso_now(char out[32]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

evb_err_t evb_pipe_template_render(const evb_pipe_template_t *t,
                                   const json_t *event,
                                   const evb_pipe_vars_t *vars, evb_buf_t *out,
                                   char *errstr, size_t errstr_size) {
    static const evb_pipe_vars_t none;
    if (!vars)
        vars = &none;
    size_t start = out->len;
    evb_err_t e = EVB_ERR_OK;
    char now[32];
    for (size_t i = 0; i < t->nsegs && !e; i++) {
        const seg_t *s = &t->segs[i];
        if (s->literal) {
            e = evb_buf_append(out, t->text + s->off, s->len);
            continue;
        }
        switch (s->var) {
        case VAR_PATH: {
            json_t *v = event ? jpath_eval(&s->path, event) : NULL;
            e = emit_value(out, v, t->json, s->in_string);
            json_decref(v);
            break;
        }
        case VAR_PIPE_ARN:
            e = emit_string(out, vars->pipe_arn, t->json, s->in_string);
            break;
        case VAR_PIPE_NAME:
            e = emit_string(out, vars->pipe_name, t->json, s->in_string);
            break;
        case VAR_SOURCE_ARN:
            e = emit_string(out, vars->source_arn, t->json, s->in_string);
            break;
        case VAR_ENRICHMENT_ARN:
            e = emit_string(out, vars->enrichment_arn, t->json, s->in_string);
            break;
        case VAR_TARGET_ARN:
            e = emit_string(out, vars->target_arn, t->json, s->in_string);
            break;
        case VAR_INGESTION_TIME:
            if (!vars->ingestion_time)
                evb__iso_now(now);
            e = emit_string(out,
                            vars->ingestion_time ? vars->ingestion_time : now,
                            t->json, s->in_string);
            break;
        case VAR_EVENT:
            if (vars->event_text) {
                e = emit_string(out, vars->event_text, t->json, s->in_string);
            } else {
                evb_buf_t tmp;
                evb_buf_init(&tmp, 0);
                e = event ? evb__json_dump(&tmp, event) : EVB_ERR_OK;
                if (!e)
                    e = emit_string(out, tmp.data ? tmp.data : "", t->json,
                                    s->in_string);
                evb_buf_free(&tmp);
            }
            break;
        case VAR_EVENT_JSON:
            e = event ? evb__json_dump(out, event)
                      : evb_buf_append(out, "null", 4);
            break;
        }
    }
    if (e) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        return evb_err_set(e, errstr, errstr_size,
                           e == EVB_ERR_TOO_LARGE ? "payload too large"
                                                  : "out of memory");
    }
    if (t->json) {
        char why[256];
        if (evb_json_validate(out->data + start, out->len - start,
                              EVB__PIPE_MAX_DEPTH, why, sizeof why)) {
            out->len = start;
            out->data[start] = '\0';
            return evb_err_set(EVB_ERR_INVALID_OUTPUT, errstr, errstr_size,
                               "the rendered InputTemplate is not valid "
                               "JSON: %s",
                               why);
        }
    }
    return EVB_ERR_OK;
}
