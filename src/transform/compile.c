/*
 * compile.c: PutTargets-time validation and compilation of a target's
 * Input, InputPath or InputTransformer (see transform.h for the messages).
 *
 * Design: validation runs in the order AWS runs it. First the API model's
 * constraints (lengths, map size, key pattern), all of them collected and
 * reported in one "N validation errors detected" message as AWS's request
 * validator does; then EventBridge's own checks, first failure wins. The
 * reserved aws.events.* names need no check of their own: the key pattern
 * [A-Za-z0-9\_\-]+ has no '.', so the model already refuses them.
 *
 * The template is scanned once. A placeholder is '<' name '>' with a name
 * made of the characters a key or a reserved name may hold
 * ([A-Za-z0-9_.-]); any other '<' is text ("a < b" stays as it is). In a
 * JSON template the scan also tracks JSON strings (with their backslash
 * escapes) and containers, so that each placeholder is known to stand
 * inside or outside a string, and a bare placeholder where an object key
 * belongs is refused.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transform_internal.h"

static const char *const reserved_names[] = {
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event",
    "aws.events.event.json",
};
static const evb__tvar_kind_t reserved_kinds[] = {
    EVB__TVAR_RULE_ARN, EVB__TVAR_RULE_NAME,  EVB__TVAR_INGESTION_TIME,
    EVB__TVAR_EVENT,    EVB__TVAR_EVENT_JSON,
};

/* ---- the API model's constraints ----------------------------------------- */

/* Length as AWS counts it: UTF-16 code units. */
static size_t utf16_len(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            n += c >= 0xF0 ? 2 : 1;
    }
    return n;
}

static bool key_pattern_ok(const char *s, size_t len) {
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Collected model violations, each "Value '...' at '...' failed to satisfy
 * constraint: ...". */
typedef struct {
    evb_buf_t msg;
    size_t count;
    unsigned index;
    evb_err_t err; /* NOMEM while collecting */
} model_t;

static void model_begin(model_t *m, const char *value, size_t vlen,
                        bool is_null, const char *field) {
    if (m->err)
        return;
    if (m->count++)
        m->err = evb_buf_append(&m->msg, "; ", 2);
    if (!m->err && is_null)
        m->err = evb_buf_append(&m->msg, "Value null", 10);
    else if (!m->err) {
        m->err = evb_buf_append(&m->msg, "Value '", 7);
        if (!m->err)
            m->err = evb_buf_append(&m->msg, value, vlen);
        if (!m->err)
            m->err = evb_buf_putc(&m->msg, '\'');
    }
    if (!m->err)
        m->err = evb_buf_appendf(&m->msg,
                                 " at 'targets.%u.member.%s' failed to "
                                 "satisfy constraint: ",
                                 m->index, field);
}

static void model_add(model_t *m, const char *value, size_t vlen, bool is_null,
                      const char *field, const char *constraint) {
    model_begin(m, value, vlen, is_null, field);
    if (!m->err)
        m->err = evb_buf_append(&m->msg, constraint, strlen(constraint));
}

static void check_len(model_t *m, const char *s, size_t len, const char *field,
                      size_t min, size_t max) {
    size_t n = utf16_len(s, len);
    char c[96];
    if (n > max)
        snprintf(c, sizeof c,
                 "Member must have length less than or equal to %zu", max);
    else if (n < min)
        snprintf(c, sizeof c,
                 "Member must have length greater than or equal to %zu", min);
    else
        return;
    model_add(m, s, len, false, field, c);
}

/* The map as Java prints it: {k1=v1, k2=v2}. */
static evb_err_t map_text(const evb_transform_spec_t *spec, evb_buf_t *b) {
    evb_err_t err = evb_buf_putc(b, '{');
    for (size_t i = 0; i < spec->npaths && !err; i++) {
        const evb_transform_path_entry_t *e = &spec->paths[i];
        if (i)
            err = evb_buf_append(b, ", ", 2);
        if (!err)
            err = evb_buf_append(b, e->key, e->key_len);
        if (!err)
            err = evb_buf_putc(b, '=');
        if (!err)
            err = evb_buf_append(b, e->path, e->path_len);
    }
    return err ? err : evb_buf_putc(b, '}');
}

static void check_map(model_t *m, const evb_transform_spec_t *spec) {
    static const char field[] = "inputTransformer.inputPathsMap";
    bool key_long = false, key_short = false, key_pattern = false;
    bool value_long = false;
    for (size_t i = 0; i < spec->npaths; i++) {
        const evb_transform_path_entry_t *e = &spec->paths[i];
        size_t kn = utf16_len(e->key, e->key_len);
        key_long |= kn > EVB_TRANSFORM_MAX_KEY;
        key_short |= kn < 1;
        key_pattern |= !key_pattern_ok(e->key, e->key_len);
        value_long |=
            utf16_len(e->path, e->path_len) > EVB_TRANSFORM_MAX_INPUT_PATH;
    }
    bool too_many = spec->npaths > EVB_TRANSFORM_MAX_PATHS;
    if (!too_many && !key_long && !key_short && !key_pattern && !value_long)
        return;
    if (m->err)
        return;
    evb_buf_t v;
    evb_buf_init(&v, 0);
    if ((m->err = map_text(spec, &v)) != EVB_ERR_OK) {
        evb_buf_free(&v);
        return;
    }
    if (too_many)
        model_add(m, v.data, v.len, false, field,
                  "Member must have length less than or equal to 100");
    if (key_long || key_short || key_pattern) {
        model_begin(m, v.data, v.len, false, field);
        const char *sep = "";
        char c[400];
        size_t o = (size_t)snprintf(c, sizeof c,
                                    "Map keys must satisfy constraint: [");
        if (key_long) {
            o += (size_t)snprintf(c + o, sizeof c - o,
                                  "%sMember must have length less than or "
                                  "equal to 256",
                                  sep);
            sep = ", ";
        }
        if (key_short) {
            o += (size_t)snprintf(c + o, sizeof c - o,
                                  "%sMember must have length greater than or "
                                  "equal to 1",
                                  sep);
            sep = ", ";
        }
        if (key_pattern)
            o += (size_t)snprintf(c + o, sizeof c - o,
                                  "%sMember must satisfy regular expression "
                                  "pattern: [A-Za-z0-9\\_\\-]+",
                                  sep);
        snprintf(c + o, sizeof c - o, "]");
        if (!m->err)
            m->err = evb_buf_append(&m->msg, c, strlen(c));
    }
    if (value_long)
        model_add(m, v.data, v.len, false, field,
                  "Map value must satisfy constraint: [Member must have "
                  "length less than or equal to 256]");
    evb_buf_free(&v);
}

static evb_err_t check_model(const evb_transform_spec_t *spec, char *errstr,
                             size_t errstr_size) {
    model_t m = {.index = spec->target_index ? spec->target_index : 1};
    evb_buf_init(&m.msg, 0);
    if (spec->input)
        check_len(&m, spec->input, spec->input_len, "input", 0,
                  EVB_TRANSFORM_MAX_INPUT);
    if (spec->input_path)
        check_len(&m, spec->input_path, spec->input_path_len, "inputPath", 0,
                  EVB_TRANSFORM_MAX_INPUT_PATH);
    if (spec->has_transformer) {
        check_map(&m, spec);
        if (!spec->input_template)
            model_add(&m, NULL, 0, true, "inputTransformer.inputTemplate",
                      "Member must not be null");
        else
            check_len(&m, spec->input_template, spec->input_template_len,
                      "inputTransformer.inputTemplate", 1,
                      EVB_TRANSFORM_MAX_TEMPLATE);
    }
    evb_err_t err = m.err;
    if (err)
        evb_err_set(err, errstr, errstr_size, "out of memory");
    else if (m.count)
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "%zu validation error%s detected: %s", m.count,
                          m.count == 1 ? "" : "s", m.msg.data);
    evb_buf_free(&m.msg);
    return err;
}

/* ---- template ------------------------------------------------------------ */

static bool placeholder_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

static bool starts_json(const char *s, size_t len) {
    size_t i = 0;
    while (i < len &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i < len && s[i] == '{';
}

typedef struct {
    evb_transform_t *t;
    size_t var_cap;
    size_t seg_cap;
    const char *id;
    char *errstr;
    size_t errstr_size;
} build_t;

static evb_err_t nomem(build_t *b) {
    return evb_err_set(EVB_ERR_NOMEM, b->errstr, b->errstr_size,
                       "out of memory");
}

/* Index of the variable called name, adding a reserved one on first use;
 * -1 if name is unknown. */
static int find_var(build_t *b, const char *name, size_t nlen) {
    evb_transform_t *t = b->t;
    for (size_t i = 0; i < t->nvars; i++)
        if (t->vars[i].nlen == nlen && memcmp(t->vars[i].name, name, nlen) == 0)
            return (int)i;
    for (size_t r = 0; r < EVB_ARRAY_LEN(reserved_names); r++) {
        if (strlen(reserved_names[r]) != nlen ||
            memcmp(reserved_names[r], name, nlen) != 0)
            continue;
        /* var_cap leaves room for every reserved name, each added once */
        assert(t->nvars < b->var_cap);
        evb__tvar_t *v = &t->vars[t->nvars];
        memset(v, 0, sizeof *v);
        v->kind = reserved_kinds[r];
        v->name = reserved_names[r];
        v->nlen = nlen;
        return (int)t->nvars++;
    }
    return -1;
}

static bool push_seg(build_t *b, size_t off, size_t len, int var,
                     bool in_string) {
    evb_transform_t *t = b->t;
    if (var < 0 && len == 0)
        return true;
    if (t->nsegs == b->seg_cap)
        return false;
    t->segs[t->nsegs++] = (evb__tseg_t){
        .off = off, .len = len, .var = var, .in_string = in_string};
    return true;
}

/* The template with every placeholder replaced by a value of its kind
 * (0 outside strings, nothing inside), for the structural check. */
static evb_err_t check_json_shape(build_t *b) {
    evb_transform_t *t = b->t;
    evb_buf_t d;
    evb_buf_init(&d, 0);
    evb_err_t err = EVB_ERR_OK;
    for (size_t i = 0; i < t->nsegs && !err; i++) {
        const evb__tseg_t *s = &t->segs[i];
        if (s->var < 0)
            err = evb_buf_append(&d, t->text + s->off, s->len);
        else if (!s->in_string)
            err = evb_buf_putc(&d, '0');
    }
    if (err) {
        evb_buf_free(&d);
        return nomem(b);
    }
    char why[200] = "";
    err = evb_json_validate(d.data ? d.data : "", d.len,
                            EVB_TRANSFORM_MAX_TEMPLATE + 1, why, sizeof why);
    const char *reason = why;
    if (strncmp(reason, "invalid JSON: ", 14) == 0)
        reason += 14;
    evb_buf_free(&d);
    if (err == EVB_ERR_NOMEM)
        return nomem(b);
    if (err)
        return evb_err_set(EVB_ERR_INVALID_ARG, b->errstr, b->errstr_size,
                           "InputTemplate for target %s is not valid JSON: "
                           "%s.",
                           b->id, reason);
    return EVB_ERR_OK;
}

static evb_err_t compile_template(build_t *b) {
    evb_transform_t *t = b->t;
    const char *s = t->text;
    size_t len = t->text_len;
    t->json_template = starts_json(s, len);

    size_t lt = 0;
    for (size_t i = 0; i < len; i++)
        lt += s[i] == '<';
    b->seg_cap = 2 * lt + 1;
    t->segs = evb_arena_calloc(&t->arena, b->seg_cap, sizeof *t->segs);
    /* Container kinds of the JSON template, one byte a level. */
    char *stack = evb_arena_alloc(&t->arena, len + 1);
    if (!t->segs || !stack)
        return nomem(b);

    size_t depth = 0, lit = 0;
    bool in_str = false, esc = false, expect_key = false;
    const bool json = t->json_template;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str && esc) {
            esc = false;
            continue;
        }
        if (c == '<') {
            size_t j = i + 1;
            while (j < len && placeholder_char(s[j]))
                j++;
            if (j > i + 1 && j < len && s[j] == '>') {
                const char *name = s + i + 1;
                size_t nlen = j - i - 1;
                int var = find_var(b, name, nlen);
                if (var < 0)
                    return evb_err_set(EVB_ERR_INVALID_ARG, b->errstr,
                                       b->errstr_size,
                                       "InputTemplate for target %s contains "
                                       "invalid placeholder %.*s.",
                                       b->id, (int)nlen, name);
                evb__tvar_kind_t k = t->vars[var].kind;
                if (!json &&
                    (k == EVB__TVAR_EVENT || k == EVB__TVAR_EVENT_JSON))
                    return evb_err_set(EVB_ERR_INVALID_ARG, b->errstr,
                                       b->errstr_size,
                                       "InputTemplate for target %s contains "
                                       "placeholder %.*s valid only for JSON "
                                       "template.",
                                       b->id, (int)nlen, name);
                if (json && !in_str && expect_key && depth &&
                    stack[depth - 1] == '{')
                    return evb_err_set(EVB_ERR_INVALID_ARG, b->errstr,
                                       b->errstr_size,
                                       "InputTemplate for target %s uses "
                                       "placeholder %.*s as an object key.",
                                       b->id, (int)nlen, name);
                if (!push_seg(b, lit, i - lit, -1, false) ||
                    !push_seg(b, 0, 0, var, json && in_str))
                    return nomem(b);
                lit = j + 1;
                i = j;
                continue;
            }
        }
        if (!json)
            continue;
        if (in_str) {
            if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            expect_key = false;
            break;
        case '{':
            stack[depth++] = '{';
            expect_key = true;
            break;
        case '[':
            stack[depth++] = '[';
            expect_key = false;
            break;
        case '}':
        case ']':
            if (depth)
                depth--;
            expect_key = false;
            break;
        case ',': expect_key = depth && stack[depth - 1] == '{'; break;
        case ':': expect_key = false; break;
        default: break;
        }
    }
    if (!push_seg(b, lit, len - lit, -1, false))
        return nomem(b);
    return json ? check_json_shape(b) : EVB_ERR_OK;
}

/* ---- compile ------------------------------------------------------------- */

static evb_err_t invalid_path(build_t *b) {
    return evb_err_set(EVB_ERR_INVALID_ARG, b->errstr, b->errstr_size,
                       "InputPath for target %s is invalid.", b->id);
}

static evb_err_t compile_spec(build_t *b, const evb_transform_spec_t *spec) {
    evb_transform_t *t = b->t;
    evb_err_t err = check_model(spec, b->errstr, b->errstr_size);
    if (err)
        return err;
    int options = (spec->input != NULL) + (spec->input_path != NULL) +
                  (spec->has_transformer ? 1 : 0);
    if (options > 1)
        return evb_err_set(EVB_ERR_INVALID_ARG, b->errstr, b->errstr_size,
                           "Only one of Input, InputPath, or InputTransformer "
                           "must be provided for target %s.",
                           b->id);
    bool oom = false;
    if (spec->input) {
        t->kind = EVB_TRANSFORM_INPUT;
        err = evb_json_validate(spec->input, spec->input_len,
                                EVB_TRANSFORM_MAX_INPUT + 1, NULL, 0);
        if (err == EVB_ERR_NOMEM)
            return nomem(b);
        if (err)
            return evb_err_set(EVB_ERR_INVALID_ARG, b->errstr, b->errstr_size,
                               "Input for target %s is not a valid JSON text.",
                               b->id);
        t->text = evb_arena_strndup(&t->arena, spec->input, spec->input_len);
        t->text_len = spec->input_len;
        return t->text ? EVB_ERR_OK : nomem(b);
    }
    if (spec->input_path) {
        t->kind = EVB_TRANSFORM_INPUT_PATH;
        if (!evb__tpath_parse(&t->arena, spec->input_path, spec->input_path_len,
                              &t->input_path, &oom))
            return oom ? nomem(b) : invalid_path(b);
        return EVB_ERR_OK;
    }
    if (!spec->has_transformer) {
        t->kind = EVB_TRANSFORM_EVENT;
        return EVB_ERR_OK;
    }

    t->kind = EVB_TRANSFORM_TRANSFORMER;
    b->var_cap = spec->npaths + EVB_ARRAY_LEN(reserved_names);
    t->vars = evb_arena_calloc(&t->arena, b->var_cap, sizeof *t->vars);
    if (!t->vars)
        return nomem(b);
    for (size_t i = 0; i < spec->npaths; i++) {
        const evb_transform_path_entry_t *e = &spec->paths[i];
        bool later = false; /* a repeated key: the last one counts */
        for (size_t j = i + 1; j < spec->npaths && !later; j++)
            later = spec->paths[j].key_len == e->key_len &&
                    memcmp(spec->paths[j].key, e->key, e->key_len) == 0;
        evb__tvar_t *v = &t->vars[t->nvars];
        if (!evb__tpath_parse(&t->arena, e->path, e->path_len, &v->path, &oom))
            return oom ? nomem(b) : invalid_path(b);
        if (later)
            continue;
        v->kind = EVB__TVAR_PATH;
        v->name = evb_arena_strndup(&t->arena, e->key, e->key_len);
        v->nlen = e->key_len;
        if (!v->name)
            return nomem(b);
        t->nvars++;
    }
    t->text = evb_arena_strndup(&t->arena, spec->input_template,
                                spec->input_template_len);
    t->text_len = spec->input_template_len;
    if (!t->text)
        return nomem(b);
    return compile_template(b);
}

evb_err_t evb_transform_compile(const evb_transform_spec_t *spec,
                                const char *target_id, evb_transform_t **out,
                                char *errstr, size_t errstr_size) {
    *out = NULL;
    if (!target_id)
        target_id = "";
    evb_transform_t *t = calloc(1, sizeof *t);
    if (!t)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    evb_arena_init(&t->arena, 4096);
    build_t b = {
        .t = t, .id = target_id, .errstr = errstr, .errstr_size = errstr_size};
    evb_err_t err = compile_spec(&b, spec);
    if (!err) {
        t->target_id =
            evb_arena_strndup(&t->arena, target_id, strlen(target_id));
        if (!t->target_id)
            err = nomem(&b);
    }
    if (err) {
        evb_transform_free(t);
        return err;
    }
    *out = t;
    return EVB_ERR_OK;
}

void evb_transform_free(evb_transform_t *t) {
    if (!t)
        return;
    evb_arena_free(&t->arena);
    free(t);
}

evb_transform_kind_t evb_transform_kind(const evb_transform_t *t) {
    return t->kind;
}

bool evb_transform_is_json_template(const evb_transform_t *t) {
    return t->kind == EVB_TRANSFORM_TRANSFORMER && t->json_template;
}

const char *evb_transform_target_id(const evb_transform_t *t) {
    return t->target_id;
}

/* ---- from a target's JSON ------------------------------------------------ */

/* A member that must be a string (or absent / null). */
static evb_err_t string_member(const evb_jval_t *obj, const char *key,
                               const char **s, size_t *len, char *errstr,
                               size_t errstr_size) {
    const evb_jval_t *v = evb__json_member(obj, key, strlen(key));
    *s = NULL;
    *len = 0;
    if (!v || v->type == EVB_JSON_NULL)
        return EVB_ERR_OK;
    if (v->type != EVB_JSON_STRING)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s must be a string", key);
    *s = v->u.str.s;
    *len = v->u.str.len;
    return EVB_ERR_OK;
}

static evb_err_t compile_json_in(evb_arena_t *a, const char *text, size_t len,
                                 unsigned target_index, evb_transform_t **out,
                                 char *errstr, size_t errstr_size) {
    evb_jval_t *root = NULL;
    evb_err_t err = evb_json_parse(a, text, len, EVB_TRANSFORM_MAX_DEPTH, &root,
                                   errstr, errstr_size);
    if (err)
        return err;
    if (root->type != EVB_JSON_OBJECT)
        return evb_err_set(EVB_ERR_INVALID_JSON, errstr, errstr_size,
                           "a target must be a JSON object");
    evb_transform_spec_t spec = {.target_index = target_index};
    const char *id;
    size_t id_len;
    if ((err = string_member(root, "Id", &id, &id_len, errstr, errstr_size)) !=
            EVB_ERR_OK ||
        (err = string_member(root, "Input", &spec.input, &spec.input_len,
                             errstr, errstr_size)) != EVB_ERR_OK ||
        (err = string_member(root, "InputPath", &spec.input_path,
                             &spec.input_path_len, errstr, errstr_size)) !=
            EVB_ERR_OK)
        return err;
    const evb_jval_t *it = evb__json_member(root, "InputTransformer", 16);
    if (it && it->type != EVB_JSON_NULL) {
        if (it->type != EVB_JSON_OBJECT)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "InputTransformer must be an object");
        spec.has_transformer = true;
        err = string_member(it, "InputTemplate", &spec.input_template,
                            &spec.input_template_len, errstr, errstr_size);
        if (err)
            return err;
        const evb_jval_t *map = evb__json_member(it, "InputPathsMap", 13);
        if (map && map->type != EVB_JSON_NULL) {
            if (map->type != EVB_JSON_OBJECT)
                return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                   "InputPathsMap must be an object");
            evb_transform_path_entry_t *paths =
                evb_arena_calloc(a, map->u.obj.n, sizeof *paths);
            if (!paths)
                return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                                   "out of memory");
            for (size_t i = 0; i < map->u.obj.n; i++) {
                const evb_jmember_t *m = &map->u.obj.members[i];
                if (m->val->type != EVB_JSON_STRING)
                    return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                       "InputPathsMap values must be strings");
                paths[i] =
                    (evb_transform_path_entry_t){.key = m->key,
                                                 .key_len = m->klen,
                                                 .path = m->val->u.str.s,
                                                 .path_len = m->val->u.str.len};
            }
            spec.paths = paths;
            spec.npaths = map->u.obj.n;
        }
    }
    char *idz = evb_arena_strndup(a, id ? id : "", id_len);
    if (!idz)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    return evb_transform_compile(&spec, idz, out, errstr, errstr_size);
}

evb_err_t evb_transform_compile_json(const char *target_json, size_t len,
                                     unsigned target_index,
                                     evb_transform_t **out, char *errstr,
                                     size_t errstr_size) {
    *out = NULL;
    evb_arena_t a;
    evb_arena_init(&a, 0);
    evb_err_t err = compile_json_in(&a, target_json, len, target_index, out,
                                    errstr, errstr_size);
    evb_arena_free(&a);
    return err;
}
