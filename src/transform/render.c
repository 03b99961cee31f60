/*
 * render.c: evb_transform_apply, the payload a target receives.
 *
 * Design: the event is parsed (into a per-call arena) only when something
 * reads it, each variable is evaluated at most once per call, and the
 * output is written straight into the caller's bounded buffer. The quoting
 * rules (reference §3.3, recorded on AWS) are decided per placeholder by
 * three rendering modes:
 *
 * - VALUE: outside any JSON string in a JSON template; a string becomes a
 *   JSON string literal, anything else compact JSON, missing becomes "".
 * - SPLICE: inside a JSON string in a JSON template; EventBridge does not
 *   escape, so the value's characters (or its compact JSON) go in as they
 *   are, and a quote or newline in them breaks the output, which the final
 *   JSON check then refuses.
 * - TEXT: a string template; like SPLICE, but objects and arrays lose
 *   every '"' ({acc_id:0a787ecb-4015,sf_id:baz}), as recorded on AWS.
 *
 * A JSON null is treated like a missing path: EventBridge's path reader
 * (Jayway JsonPath) returns the same null for both.
 */
#include <string.h>

#include "../json/json.h"
#include "transform_internal.h"

typedef enum { MODE_VALUE, MODE_SPLICE, MODE_TEXT } render_mode_t;

/* ---- compact JSON -------------------------------------------------------- */

evb_err_t evb__emit_json_string(evb_buf_t *b, const char *s, size_t len) {
    return evb_json_append_string(b, s, len);
}

/* Recursion is bounded by the event's depth (EVB_TRANSFORM_MAX_DEPTH). */
evb_err_t evb__emit_json(evb_buf_t *b, const evb_jval_t *v) {
    evb_err_t err = EVB_ERR_OK;
    switch (v->type) {
    case EVB_JSON_NULL: return evb_buf_append(b, "null", 4);
    case EVB_JSON_TRUE: return evb_buf_append(b, "true", 4);
    case EVB_JSON_FALSE: return evb_buf_append(b, "false", 5);
    case EVB_JSON_NUMBER: return evb_buf_append(b, v->u.str.s, v->u.str.len);
    case EVB_JSON_STRING:
        return evb__emit_json_string(b, v->u.str.s, v->u.str.len);
    case EVB_JSON_ARRAY:
        err = evb_buf_putc(b, '[');
        for (size_t i = 0; i < v->u.arr.n && !err; i++) {
            if (i)
                err = evb_buf_putc(b, ',');
            if (!err)
                err = evb__emit_json(b, v->u.arr.items[i]);
        }
        return err ? err : evb_buf_putc(b, ']');
    case EVB_JSON_OBJECT:
        err = evb_buf_putc(b, '{');
        for (size_t i = 0; i < v->u.obj.n && !err; i++) {
            const evb_jmember_t *m = &v->u.obj.members[i];
            if (i)
                err = evb_buf_putc(b, ',');
            if (!err)
                err = evb__emit_json_string(b, m->key, m->klen);
            if (!err)
                err = evb_buf_putc(b, ':');
            if (!err)
                err = evb__emit_json(b, m->val);
        }
        return err ? err : evb_buf_putc(b, '}');
    }
    return EVB_ERR_INTERNAL;
}

/* Compact JSON with every '"' removed (string templates). */
static evb_err_t emit_stripped(evb_buf_t *b, const evb_jval_t *v) {
    size_t start = b->len;
    evb_err_t err = evb__emit_json(b, v);
    if (err)
        return err;
    size_t o = start;
    for (size_t i = start; i < b->len; i++)
        if (b->data[i] != '"')
            b->data[o++] = b->data[i];
    b->len = o;
    b->data[o] = '\0';
    return EVB_ERR_OK;
}

static evb_err_t emit_value(evb_buf_t *b, const evb_jval_t *v,
                            render_mode_t mode) {
    if (!v || v->type == EVB_JSON_NULL)
        return mode == MODE_VALUE ? evb_buf_append(b, "\"\"", 2) : EVB_ERR_OK;
    switch (v->type) {
    case EVB_JSON_STRING:
        if (mode == MODE_VALUE)
            return evb__emit_json_string(b, v->u.str.s, v->u.str.len);
        return evb_buf_append(b, v->u.str.s, v->u.str.len);
    case EVB_JSON_ARRAY:
    case EVB_JSON_OBJECT:
        return mode == MODE_TEXT ? emit_stripped(b, v) : evb__emit_json(b, v);
    default: return evb__emit_json(b, v);
    }
}

/* ---- variables ----------------------------------------------------------- */

evb_err_t evb__parse_event(evb_arena_t *a, const char *text, size_t len,
                           const evb_jval_t **root, char *errstr,
                           size_t errstr_size) {
    char why[256] = "";
    evb_jval_t *v = NULL;
    evb_err_t err = evb_json_parse(a, text, len, EVB_TRANSFORM_MAX_DEPTH, &v,
                                   why, sizeof why);
    if (err == EVB_ERR_NOMEM)
        return evb_err_set(err, errstr, errstr_size, "out of memory");
    if (err)
        return evb_err_set(EVB_ERR_INVALID_EVENT, errstr, errstr_size,
                           "event is not valid JSON: %s", why);
    *root = v;
    return EVB_ERR_OK;
}

static evb_jval_t *new_string(evb_arena_t *a, const char *s) {
    evb_jval_t *v = evb_arena_calloc(a, 1, sizeof *v);
    if (v) {
        v->type = EVB_JSON_STRING;
        v->u.str.s = s;
        v->u.str.len = strlen(s);
    }
    return v;
}

/* <aws.events.event>: the envelope without detail, in the key order and
 * with the detailType spelling recorded on AWS, time = ingestion time. */
static const evb_jval_t *event_summary(evb_arena_t *a, const evb_jval_t *root,
                                       const evb_transform_vars_t *vars) {
    static const char *const keys[][2] = {
        {"id", "id"},
        {"account", "account"},
        {"detail-type", "detailType"},
        {"time", "time"},
        {"source", "source"},
        {"region", "region"},
        {"resources", "resources"},
        {"version", "version"},
    };
    evb_jval_t *o = evb_arena_calloc(a, 1, sizeof *o);
    evb_jmember_t *ms = evb_arena_calloc(a, EVB_ARRAY_LEN(keys), sizeof *ms);
    if (!o || !ms)
        return NULL;
    o->type = EVB_JSON_OBJECT;
    o->u.obj.members = ms;
    for (size_t i = 0; i < EVB_ARRAY_LEN(keys); i++) {
        const evb_jval_t *v =
            evb__json_member(root, keys[i][0], strlen(keys[i][0]));
        if (strcmp(keys[i][0], "time") == 0 && vars && vars->ingestion_time) {
            v = new_string(a, vars->ingestion_time);
            if (!v)
                return NULL;
        }
        if (!v)
            continue;
        ms[o->u.obj.n].key = keys[i][1];
        ms[o->u.obj.n].klen = strlen(keys[i][1]);
        ms[o->u.obj.n].val = (evb_jval_t *)v;
        o->u.obj.n++;
    }
    return o;
}

/* Per-call evaluation state. */
typedef struct {
    evb_arena_t *a;
    const char *event;
    size_t event_len;
    const evb_jval_t **root; /* parsed on first need */
    const evb_transform_vars_t *vars;
    const evb_jval_t **values; /* one per variable */
    bool *done;
    char *errstr;
    size_t errstr_size;
} eval_t;

static evb_err_t need_root(eval_t *e) {
    if (*e->root)
        return EVB_ERR_OK;
    return evb__parse_event(e->a, e->event, e->event_len, e->root, e->errstr,
                            e->errstr_size);
}

static evb_err_t nomem(eval_t *e) {
    return evb_err_set(EVB_ERR_NOMEM, e->errstr, e->errstr_size,
                       "out of memory");
}

static evb_err_t var_value(eval_t *e, const evb__tvar_t *var, int idx,
                           const evb_jval_t **out) {
    if (e->done[idx]) {
        *out = e->values[idx];
        return EVB_ERR_OK;
    }
    const evb_jval_t *v = NULL;
    const char *s = NULL;
    evb_err_t err = EVB_ERR_OK;
    bool oom = false;
    switch (var->kind) {
    case EVB__TVAR_RULE_ARN: s = e->vars ? e->vars->rule_arn : NULL; break;
    case EVB__TVAR_RULE_NAME: s = e->vars ? e->vars->rule_name : NULL; break;
    case EVB__TVAR_INGESTION_TIME:
        s = e->vars ? e->vars->ingestion_time : NULL;
        if (!s) {
            if ((err = need_root(e)) != EVB_ERR_OK)
                return err;
            v = evb__json_member(*e->root, "time", 4);
        }
        break;
    case EVB__TVAR_EVENT:
        if ((err = need_root(e)) != EVB_ERR_OK)
            return err;
        v = event_summary(e->a, *e->root, e->vars);
        oom = v == NULL;
        break;
    case EVB__TVAR_EVENT_JSON:
        if ((err = need_root(e)) != EVB_ERR_OK)
            return err;
        v = *e->root;
        break;
    case EVB__TVAR_PATH:
        if ((err = need_root(e)) != EVB_ERR_OK)
            return err;
        v = evb__tpath_eval(e->a, &var->path, *e->root, &oom);
        break;
    }
    if (s) {
        v = new_string(e->a, s);
        oom = v == NULL;
    }
    if (oom)
        return nomem(e);
    e->values[idx] = v;
    e->done[idx] = true;
    *out = v;
    return EVB_ERR_OK;
}

static evb_err_t out_err(evb_err_t err, char *errstr, size_t errstr_size) {
    if (err == EVB_ERR_TOO_LARGE)
        return evb_err_set(err, errstr, errstr_size,
                           "the payload exceeds the output limit");
    if (err == EVB_ERR_NOMEM)
        return evb_err_set(err, errstr, errstr_size, "out of memory");
    return err;
}

evb_err_t evb__render_template(const evb_transform_t *t, evb_arena_t *a,
                               const char *event_text, size_t event_len,
                               const evb_transform_vars_t *vars,
                               const evb_jval_t **root, evb_buf_t *out,
                               char *errstr, size_t errstr_size) {
    eval_t e = {.a = a,
                .event = event_text,
                .event_len = event_len,
                .root = root,
                .vars = vars,
                .errstr = errstr,
                .errstr_size = errstr_size};
    if (t->nvars) {
        e.values = evb_arena_calloc(a, t->nvars, sizeof *e.values);
        e.done = evb_arena_calloc(a, t->nvars, sizeof *e.done);
        if (!e.values || !e.done)
            return nomem(&e);
    }
    for (size_t i = 0; i < t->nsegs; i++) {
        const evb__tseg_t *sg = &t->segs[i];
        evb_err_t err;
        if (sg->var < 0) {
            err = evb_buf_append(out, t->text + sg->off, sg->len);
        } else {
            const evb_jval_t *v = NULL;
            err = var_value(&e, &t->vars[sg->var], sg->var, &v);
            if (err)
                return err;
            render_mode_t mode = !t->json_template ? MODE_TEXT
                                 : sg->in_string   ? MODE_SPLICE
                                                   : MODE_VALUE;
            err = emit_value(out, v, mode);
        }
        if (err)
            return out_err(err, errstr, errstr_size);
    }
    return EVB_ERR_OK;
}

/* ---- apply --------------------------------------------------------------- */

/* A short, printable excerpt of the output for messages. */
static void excerpt(const char *s, size_t len, char *o, size_t osize) {
    size_t n = 0;
    for (size_t i = 0; i < len && n + 5 < osize; i++) {
        unsigned char c = (unsigned char)s[i];
        o[n++] = c < 0x20 ? '?' : (char)c;
    }
    if (n < len && n + 4 < osize) {
        memcpy(o + n, "...", 3);
        n += 3;
    }
    o[n] = '\0';
}

static evb_err_t apply_in(const evb_transform_t *t, evb_arena_t *a,
                          const char *event_text, size_t event_len,
                          const evb_transform_vars_t *vars, evb_buf_t *out,
                          char *errstr, size_t errstr_size) {
    const evb_jval_t *root = NULL;
    evb_err_t err;
    switch (t->kind) {
    case EVB_TRANSFORM_EVENT:
        return out_err(evb_buf_append(out, event_text, event_len), errstr,
                       errstr_size);
    case EVB_TRANSFORM_INPUT:
        return out_err(evb_buf_append(out, t->text, t->text_len), errstr,
                       errstr_size);
    case EVB_TRANSFORM_INPUT_PATH: {
        err = evb__parse_event(a, event_text, event_len, &root, errstr,
                               errstr_size);
        if (err)
            return err;
        bool oom = false;
        const evb_jval_t *v = evb__tpath_eval(a, &t->input_path, root, &oom);
        if (oom)
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        err = v ? evb__emit_json(out, v) : evb_buf_append(out, "null", 4);
        return out_err(err, errstr, errstr_size);
    }
    case EVB_TRANSFORM_TRANSFORMER: break;
    }
    size_t start = out->len;
    err = evb__render_template(t, a, event_text, event_len, vars, &root, out,
                               errstr, errstr_size);
    if (err || !t->json_template)
        return err;
    char why[256] = "";
    /* The template's own nesting comes on top of the event's. */
    unsigned depth = EVB_TRANSFORM_MAX_DEPTH + EVB_TRANSFORM_MAX_TEMPLATE;
    err = evb_json_validate(out->data + start, out->len - start, depth, why,
                            sizeof why);
    if (err == EVB_ERR_NOMEM)
        return evb_err_set(err, errstr, errstr_size, "out of memory");
    if (err) {
        char ex[120];
        excerpt(out->data + start, out->len - start, ex, sizeof ex);
        const char *reason = why;
        if (strncmp(reason, "invalid JSON: ", 14) == 0)
            reason += 14;
        return evb_err_set(EVB_TRANSFORM_ERR_UNDELIVERABLE, errstr, errstr_size,
                           "InputTemplate of target %s rendered invalid JSON "
                           "(%s); the event is not delivered: %s",
                           t->target_id, reason, ex);
    }
    return EVB_ERR_OK;
}

evb_err_t evb_transform_apply(const evb_transform_t *t, const char *event_text,
                              size_t event_len,
                              const evb_transform_vars_t *vars, evb_buf_t *out,
                              char *errstr, size_t errstr_size) {
    evb_arena_t a;
    evb_arena_init(&a, 0);
    size_t start = out->len;
    evb_err_t err =
        apply_in(t, &a, event_text, event_len, vars, out, errstr, errstr_size);
    evb_arena_free(&a);
    if (err && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return err;
}
