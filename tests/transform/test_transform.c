/*
 * Data-driven tests for the transform module (Input, InputPath,
 * InputTransformer), plus unit tests of the limits and the API contract.
 *
 * Loads EVB_TEST_DATA_DIR/transform/input_transformers.jsonl (24 cases
 * recorded against AWS, a copy of the shared conformance file) and
 * EVB_TEST_DATA_DIR/transform/cases.jsonl (evbus's own cases; fields are
 * described in tests/data/transform/README.md). Every case is compiled
 * twice, from an evb_transform_spec_t and from the target's JSON text, and
 * both must agree; then it is applied to its event:
 *
 *   expect_output         the payload, byte for byte
 *   expect_output_json    the payload, compared as a JSON value
 *   expect_error          with error_stage "PutTargets": the exact message
 *                         (<target-id> replaced by the target's Id) and
 *                         EVB_ERR_INVALID_ARG; with "delivery": apply
 *                         returns EVB_TRANSFORM_ERR_UNDELIVERABLE (or, with
 *                         error_code "InvalidEvent", EVB_ERR_INVALID_EVENT)
 *   expect_error_prefix   a PutTargets message that starts with this text
 *
 * Each failure prints "FAIL <file>:<name>: <what>"; the summary line is
 * "transform: N passed, M failed".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transform/transform.h"

#ifndef EVB_TEST_DATA_DIR
#error "EVB_TEST_DATA_DIR must be defined"
#endif

/* The own suite must not silently shrink. */
#define MIN_OWN_CASES 60
#define ERRSZ 16384

static const char default_target_id[] = "target-1";
static const char default_rule_arn[] =
    "arn:aws:events:us-east-1:123456789012:rule/test-rule";

typedef struct {
    size_t passed, failed, own, recorded;
} totals_t;

static totals_t g_totals;

/* ---- helpers ------------------------------------------------------------- */

static char *xstrndup(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p)
        abort();
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* s with every "<target-id>" replaced by id (malloc'ed). */
static char *subst_id(const char *s, const char *id) {
    static const char pat[] = "<target-id>";
    size_t pl = strlen(pat), il = strlen(id), n = 0;
    for (const char *p = strstr(s, pat); p; p = strstr(p + pl, pat))
        n++;
    char *o = malloc(strlen(s) + n * il + 1);
    if (!o)
        abort();
    char *w = o;
    for (;;) {
        const char *p = strstr(s, pat);
        if (!p) {
            strcpy(w, s);
            break;
        }
        memcpy(w, s, (size_t)(p - s));
        w += p - s;
        memcpy(w, id, il);
        w += il;
        s = p + pl;
    }
    return o;
}

/* A printable excerpt for messages (static buffer, 4 in rotation). */
static const char *show(const char *s, size_t len) {
    static char buf[4][600];
    static int which;
    char *b = buf[which++ & 3];
    size_t o = 0;
    if (!s)
        return "(null)";
    for (size_t i = 0; i < len && o < 500; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20)
            o += (size_t)snprintf(b + o, sizeof buf[0] - o, "\\x%02x", c);
        else
            b[o++] = (char)c;
    }
    if (o >= 500)
        o += (size_t)snprintf(b + o, sizeof buf[0] - o, "...(%zu bytes)", len);
    b[o] = '\0';
    return b;
}

typedef struct {
    const char *file, *name;
    bool failed;
} ctx_t;

static void case_fail(ctx_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void case_fail(ctx_t *c, const char *fmt, ...) {
    va_list ap;
    printf("FAIL %s:%s: ", c->file, c->name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    c->failed = true;
}

static const char *const known_keys[] = {
    "name",
    "event",
    "event_text",
    "target_id",
    "target_index",
    "target_json",
    "input",
    "input_path",
    "input_paths_map",
    "input_template",
    "vars",
    "log",
    "expect_output",
    "expect_output_json",
    "expect_error",
    "expect_error_prefix",
    "expect_timestamp",
    "error_stage",
    "error_code",
    "comment",
    "origin",
    "validated",
};

/* ---- one case ------------------------------------------------------------ */

/* Text of the event: "event_text" as is, or "event" serialised compactly. */
static char *event_text(json_t *obj, size_t *len) {
    json_t *t = json_object_get(obj, "event_text");
    if (json_is_string(t)) {
        *len = json_string_length(t);
        return xstrndup(json_string_value(t), *len);
    }
    char *s = json_dumps(json_object_get(obj, "event"),
                         JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    if (!s)
        abort();
    *len = strlen(s);
    return s;
}

static const char *opt_string(json_t *obj, const char *key, size_t *len) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

/* The PutTargets target object for the case, as JSON text. */
static char *target_json(json_t *obj, const char *id) {
    json_t *tj = json_object_get(obj, "target_json");
    if (json_is_string(tj))
        return subst_id(json_string_value(tj), id);
    json_t *t = json_object();
    json_object_set_new(t, "Id", json_string(id));
    json_object_set_new(t, "Arn",
                        json_string("arn:aws:sqs:us-east-1:123456789012:q"));
    json_t *v;
    if ((v = json_object_get(obj, "input")) != NULL)
        json_object_set(t, "Input", v);
    if ((v = json_object_get(obj, "input_path")) != NULL)
        json_object_set(t, "InputPath", v);
    json_t *map = json_object_get(obj, "input_paths_map");
    json_t *tpl = json_object_get(obj, "input_template");
    if (map || tpl) {
        json_t *it = json_object();
        if (map && !json_is_null(map))
            json_object_set(it, "InputPathsMap", map);
        if (tpl)
            json_object_set(it, "InputTemplate", tpl);
        json_object_set_new(t, "InputTransformer", it);
    }
    char *s = json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(t);
    if (!s)
        abort();
    return s;
}

/* Compile from an evb_transform_spec_t built from the case's fields. */
static evb_err_t compile_spec(json_t *obj, const char *id, evb_transform_t **t,
                              char *err) {
    evb_transform_spec_t spec = {0};
    json_t *ti = json_object_get(obj, "target_index");
    spec.target_index =
        json_is_integer(ti) ? (unsigned)json_integer_value(ti) : 1;
    spec.input = opt_string(obj, "input", &spec.input_len);
    spec.input_path = opt_string(obj, "input_path", &spec.input_path_len);
    json_t *map = json_object_get(obj, "input_paths_map");
    json_t *tpl = json_object_get(obj, "input_template");
    evb_transform_path_entry_t *paths = NULL;
    if (map || tpl) {
        spec.has_transformer = true;
        spec.input_template =
            opt_string(obj, "input_template", &spec.input_template_len);
        if (json_is_object(map) && json_object_size(map)) {
            paths = calloc(json_object_size(map), sizeof *paths);
            if (!paths)
                abort();
            const char *k;
            json_t *v;
            json_object_foreach(map, k, v) {
                evb_transform_path_entry_t *e = &paths[spec.npaths++];
                e->key = k;
                e->key_len = strlen(k);
                e->path = json_string_value(v);
                e->path_len = json_string_length(v);
            }
            spec.paths = paths;
        }
    }
    evb_err_t rc = evb_transform_compile(&spec, id, t, err, ERRSZ);
    free(paths);
    return rc;
}

static void get_vars(json_t *obj, evb_transform_vars_t *vars,
                     const evb_transform_vars_t **out) {
    json_t *v = json_object_get(obj, "vars");
    memset(vars, 0, sizeof *vars);
    *out = vars;
    if (!v) {
        vars->rule_arn = default_rule_arn;
        vars->rule_name = "test-rule";
        return;
    }
    if (json_is_null(v)) {
        *out = NULL;
        return;
    }
    vars->rule_arn = json_string_value(json_object_get(v, "rule_arn"));
    vars->rule_name = json_string_value(json_object_get(v, "rule_name"));
    vars->ingestion_time =
        json_string_value(json_object_get(v, "ingestion_time"));
}

static void check_payload(ctx_t *c, json_t *obj, const char *out, size_t len) {
    json_t *eo = json_object_get(obj, "expect_output");
    json_t *ej = json_object_get(obj, "expect_output_json");
    if (eo) {
        size_t el = json_string_length(eo);
        if (el != len || memcmp(json_string_value(eo), out, len) != 0)
            case_fail(c, "payload %s, expected %s", show(out, len),
                      show(json_string_value(eo), el));
    } else if (ej) {
        json_error_t jerr;
        json_t *got =
            json_loadb(out, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!got)
            case_fail(c, "payload is not JSON (%s): %s", jerr.text,
                      show(out, len));
        else if (!json_equal(got, ej))
            case_fail(c, "payload %s differs from expect_output_json",
                      show(out, len));
        json_decref(got);
    }
}

static void run_case(ctx_t *c, json_t *obj) {
    char *err1 = calloc(1, ERRSZ), *err2 = calloc(1, ERRSZ);
    if (!err1 || !err2)
        abort();
    json_t *jid = json_object_get(obj, "target_id");
    const char *id =
        json_is_string(jid) ? json_string_value(jid) : default_target_id;
    const char *stage = json_string_value(json_object_get(obj, "error_stage"));
    const char *code = json_string_value(json_object_get(obj, "error_code"));
    json_t *jerr = json_object_get(obj, "expect_error");
    json_t *jpfx = json_object_get(obj, "expect_error_prefix");
    bool log = json_is_true(json_object_get(obj, "log"));
    bool put_error =
        (jerr || jpfx) && stage && strcmp(stage, "PutTargets") == 0;
    bool delivery_error = jerr && stage && strcmp(stage, "delivery") == 0;

    /* 1. PutTargets: both ways of compiling must agree. */
    evb_transform_t *t1 = NULL, *t2 = NULL;
    evb_err_t rc1 = EVB_ERR_OK;
    bool from_spec = !json_object_get(obj, "target_json");
    json_t *ti = json_object_get(obj, "target_index");
    unsigned index = json_is_integer(ti) ? (unsigned)json_integer_value(ti) : 1;
    if (from_spec)
        rc1 = compile_spec(obj, id, &t1, err1);
    char *tj = target_json(obj, id);
    evb_err_t rc2 =
        evb_transform_compile_json(tj, strlen(tj), index, &t2, err2, ERRSZ);
    if (from_spec) {
        if (rc1 != rc2 || (rc1 && strcmp(err1, err2) != 0))
            case_fail(c,
                      "compile from spec (%s \"%s\") and from JSON (%s \"%s\") "
                      "disagree",
                      evb_err_name(rc1), err1, evb_err_name(rc2), err2);
    } else {
        rc1 = rc2;
        memcpy(err1, err2, ERRSZ);
    }
    free(tj);
    evb_transform_t *t = t2 ? t2 : t1;
    evb_err_t rc = rc1;
    const char *msg = err1;
    if (!rc && log) {
        rc = evb_transform_check_log_target(t, err1, ERRSZ);
        msg = err1;
    }

    if (put_error) {
        char *want = subst_id(json_string_value(jerr ? jerr : jpfx), id);
        bool ok = rc == EVB_ERR_INVALID_ARG &&
                  (jerr ? strcmp(msg, want) == 0
                        : strncmp(msg, want, strlen(want)) == 0);
        if (!ok)
            case_fail(
                c, "PutTargets: expected INVALID_ARG \"%s\"%s, got %s \"%s\"",
                want, jerr ? "" : "...", evb_err_name(rc), rc ? msg : "");
        if (code && strcmp(code, "ValidationException") != 0)
            case_fail(c, "error_code %s is not a PutTargets error", code);
        free(want);
        goto done;
    }
    if (rc != EVB_ERR_OK) {
        case_fail(c, "PutTargets: unexpected %s \"%s\"", evb_err_name(rc), msg);
        goto done;
    }

    /* 2. Delivery, into a buffer that already holds a prefix. */
    size_t elen;
    char *event = event_text(obj, &elen);
    evb_transform_vars_t vbuf;
    const evb_transform_vars_t *vars;
    get_vars(obj, &vbuf, &vars);
    static const char prefix[] = "prefix:";
    evb_buf_t out;
    evb_buf_init(&out, 0);
    if (evb_buf_append(&out, prefix, strlen(prefix)))
        abort();
    int64_t ts = 0;
    err1[0] = '\0';
    rc = log ? evb_transform_log_message(t, event, elen, vars, &out, &ts, err1,
                                         ERRSZ)
             : evb_transform_apply(t, event, elen, vars, &out, err1, ERRSZ);
    size_t pl = strlen(prefix);
    if (out.len < pl || memcmp(out.data, prefix, pl) != 0)
        case_fail(c, "the output buffer's previous content was changed");
    if (delivery_error) {
        evb_err_t want = code && strcmp(code, "InvalidEvent") == 0
                             ? EVB_ERR_INVALID_EVENT
                             : EVB_TRANSFORM_ERR_UNDELIVERABLE;
        if (rc != want)
            case_fail(c, "delivery: expected %s, got %s \"%s\" (payload %s)",
                      evb_err_name(want), evb_err_name(rc), err1,
                      show(out.data + pl, out.len - pl));
        else if (out.len != pl)
            case_fail(c, "delivery failed but the output grew");
        else if (!err1[0])
            case_fail(c, "delivery failed without a message");
    } else if (rc != EVB_ERR_OK) {
        case_fail(c, "delivery: unexpected %s \"%s\"", evb_err_name(rc), err1);
    } else {
        check_payload(c, obj, out.data + pl, out.len - pl);
        json_t *et = json_object_get(obj, "expect_timestamp");
        if (et && ts != (int64_t)json_integer_value(et))
            case_fail(c, "timestamp %lld, expected %lld", (long long)ts,
                      (long long)json_integer_value(et));
        /* The two compiled forms render the same. */
        if (t1 && t2 && !log) {
            evb_buf_t again;
            evb_buf_init(&again, 0);
            if (evb_transform_apply(t1, event, elen, vars, &again, err2,
                                    ERRSZ) != EVB_ERR_OK ||
                again.len != out.len - pl ||
                memcmp(again.data, out.data + pl, again.len) != 0)
                case_fail(c, "the spec-compiled transform renders differently");
            evb_buf_free(&again);
        }
    }
    evb_buf_free(&out);
    free(event);
done:
    evb_transform_free(t1);
    evb_transform_free(t2);
    free(err1);
    free(err2);
}

/* ---- loading ------------------------------------------------------------- */

static void run_file(const char *base, bool own) {
    char path[4096];
    snprintf(path, sizeof path, "%s/transform/%s", EVB_TEST_DATA_DIR, base);
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("FAIL %s: cannot open\n", path);
        g_totals.failed++;
        return;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    char **names = NULL;
    size_t nnames = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t l = (size_t)n;
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            l--;
        if (l == 0)
            continue;
        json_error_t jerr;
        json_t *obj = json_loadb(line, l, JSON_ALLOW_NUL, &jerr);
        const char *name =
            obj ? json_string_value(json_object_get(obj, "name")) : NULL;
        ctx_t c = {.file = base, .name = name ? name : "?"};
        if (!obj || !name) {
            printf("FAIL %s:line %zu: %s\n", base, lineno,
                   obj ? "no name" : jerr.text);
            g_totals.failed++;
            json_decref(obj);
            continue;
        }
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v) {
            bool known = false;
            for (size_t i = 0; i < EVB_ARRAY_LEN(known_keys); i++)
                known |= strcmp(k, known_keys[i]) == 0;
            if (!known)
                case_fail(&c, "unknown field \"%s\"", k);
        }
        for (size_t i = 0; i < nnames; i++)
            if (strcmp(names[i], name) == 0)
                case_fail(&c, "duplicate case name");
        names = realloc(names, (nnames + 1) * sizeof *names);
        if (!names)
            abort();
        names[nnames++] = xstrndup(name, strlen(name));
        if (!c.failed)
            run_case(&c, obj);
        if (c.failed)
            g_totals.failed++;
        else
            g_totals.passed++;
        if (own)
            g_totals.own++;
        else
            g_totals.recorded++;
        json_decref(obj);
    }
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    free(line);
    fclose(f);
}

static void test_cases(void **state) {
    (void)state;
    memset(&g_totals, 0, sizeof g_totals);
    run_file("input_transformers.jsonl", false);
    run_file("cases.jsonl", true);
    printf("transform: %zu passed, %zu failed\n", g_totals.passed,
           g_totals.failed);
    printf("transform: %zu cases recorded on AWS, %zu of evbus's own\n",
           g_totals.recorded, g_totals.own);
    fflush(stdout);
    assert_int_equal(g_totals.recorded, 24);
    assert_true(g_totals.own >= MIN_OWN_CASES);
    assert_int_equal(g_totals.failed, 0);
}

/* ---- unit tests ---------------------------------------------------------- */

static evb_err_t compile_template(const char *tpl, size_t tlen,
                                  const evb_transform_path_entry_t *paths,
                                  size_t npaths, evb_transform_t **t,
                                  char *err) {
    evb_transform_spec_t spec = {.has_transformer = true,
                                 .paths = paths,
                                 .npaths = npaths,
                                 .input_template = tpl,
                                 .input_template_len = tlen};
    return evb_transform_compile(&spec, "t1", t, err, ERRSZ);
}

static void test_limits(void **state) {
    (void)state;
    static char err[ERRSZ], big[4 * ERRSZ];
    evb_transform_t *t = NULL;
    /* InputPathsMap: 100 entries, not 101. */
    evb_transform_path_entry_t paths[101];
    char keys[101][8];
    for (int i = 0; i < 101; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        paths[i] =
            (evb_transform_path_entry_t){keys[i], strlen(keys[i]), "$.a", 3};
    }
    assert_int_equal(compile_template("\"<k99>\"", 7, paths, 100, &t, err),
                     EVB_ERR_OK);
    evb_transform_free(t);
    assert_int_equal(compile_template("\"<k99>\"", 7, paths, 101, &t, err),
                     EVB_ERR_INVALID_ARG);
    assert_null(t);
    assert_true(strncmp(err,
                        "1 validation error detected: Value '{k0=$.a, k1=$.a, ",
                        52) == 0);
    const char *tail = "k100=$.a}' at 'targets.1.member.inputTransformer."
                       "inputPathsMap' failed to satisfy constraint: Member "
                       "must have length less than or equal to 100";
    assert_non_null(strstr(err, tail));

    /* InputTemplate: 8192 UTF-16 code units; an emoji counts two. */
    char *tpl = malloc(4 * 4097 + 3);
    assert_non_null(tpl);
    size_t n = 0;
    tpl[n++] = '"';
    for (int i = 0; i < 4095; i++) {
        memcpy(tpl + n, "\xF0\x9F\x98\x80", 4);
        n += 4;
    }
    tpl[n++] = '"'; /* 2 + 2 * 4095 = 8192 */
    assert_int_equal(compile_template(tpl, n, NULL, 0, &t, err), EVB_ERR_OK);
    evb_transform_free(t);
    memmove(tpl + 5, tpl + 1, n - 1);
    memcpy(tpl + 1, "\xF0\x9F\x98\x80", 4);
    n += 4; /* 8194 */
    evb_transform_spec_t tspec = {.has_transformer = true,
                                  .input_template = tpl,
                                  .input_template_len = n};
    /* AWS quotes the whole value, so the message is long. */
    assert_int_equal(evb_transform_compile(&tspec, "t1", &t, big, sizeof big),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(big, "at 'targets.1.member.inputTransformer."
                                "inputTemplate' failed to satisfy constraint: "
                                "Member must have length less than or equal "
                                "to 8192"));
    free(tpl);

    /* Input: 8192 characters. */
    char *in = malloc(8194);
    assert_non_null(in);
    memset(in, 'x', 8193);
    in[0] = '"';
    in[8191] = '"';
    evb_transform_spec_t spec = {.input = in, .input_len = 8192};
    assert_int_equal(evb_transform_compile(&spec, "t1", &t, err, ERRSZ),
                     EVB_ERR_OK);
    assert_int_equal(evb_transform_kind(t), EVB_TRANSFORM_INPUT);
    evb_transform_free(t);
    in[8191] = 'x';
    in[8192] = '"';
    spec.input_len = 8193;
    assert_int_equal(evb_transform_compile(&spec, "t1", &t, err, ERRSZ),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "at 'targets.1.member.input' failed to "
                                "satisfy constraint: Member must have length "
                                "less than or equal to 8192"));
    free(in);

    /* Keys: 256 characters; values: 256. */
    char key[258], val[258];
    memset(key, 'k', sizeof key);
    memcpy(val, "$.", 2);
    memset(val + 2, 'v', sizeof val - 2);
    evb_transform_path_entry_t e = {key, 256, val, 256};
    assert_int_equal(compile_template("\"x\"", 3, &e, 1, &t, err), EVB_ERR_OK);
    evb_transform_free(t);
    e.key_len = 257;
    assert_int_equal(compile_template("\"x\"", 3, &e, 1, &t, err),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "Map keys must satisfy constraint: [Member "
                                "must have length less than or equal to "
                                "256]"));
    e.key_len = 256;
    e.path_len = 257;
    assert_int_equal(compile_template("\"x\"", 3, &e, 1, &t, err),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "Map value must satisfy constraint: [Member "
                                "must have length less than or equal to "
                                "256]"));
    /* A NUL in a key is not a key character. */
    evb_transform_path_entry_t z = {"a\0b", 3, "$.a", 3};
    assert_int_equal(compile_template("\"x\"", 3, &z, 1, &t, err),
                     EVB_ERR_INVALID_ARG);
}

static void test_repeated_key_last_wins(void **state) {
    (void)state;
    char err[ERRSZ];
    evb_transform_t *t = NULL;
    evb_transform_path_entry_t paths[] = {{"v", 1, "$.a", 3},
                                          {"v", 1, "$.b", 3}};
    assert_int_equal(compile_template("{\"x\": <v>}", 10, paths, 2, &t, err),
                     EVB_ERR_OK);
    evb_buf_t out;
    evb_buf_init(&out, 0);
    const char ev[] = "{\"a\": 1, \"b\": 2}";
    assert_int_equal(
        evb_transform_apply(t, ev, strlen(ev), NULL, &out, err, ERRSZ),
        EVB_ERR_OK);
    assert_string_equal(out.data, "{\"x\": 2}");
    evb_buf_free(&out);
    evb_transform_free(t);
}

static void test_accessors_and_errors(void **state) {
    (void)state;
    char err[ERRSZ];
    evb_transform_t *t = NULL;
    evb_transform_spec_t none = {0};
    assert_int_equal(evb_transform_compile(&none, "my-target", &t, err, ERRSZ),
                     EVB_ERR_OK);
    assert_int_equal(evb_transform_kind(t), EVB_TRANSFORM_EVENT);
    assert_false(evb_transform_is_json_template(t));
    assert_string_equal(evb_transform_target_id(t), "my-target");
    evb_transform_free(t);
    evb_transform_free(NULL);

    assert_int_equal(compile_template("{\"a\": 1}", 8, NULL, 0, &t, err),
                     EVB_ERR_OK);
    assert_int_equal(evb_transform_kind(t), EVB_TRANSFORM_TRANSFORMER);
    assert_true(evb_transform_is_json_template(t));
    assert_int_equal(evb_transform_check_log_target(t, err, ERRSZ), EVB_ERR_OK);

    /* Undeliverable output is told apart from a PutTargets error. */
    assert_int_not_equal(EVB_TRANSFORM_ERR_UNDELIVERABLE, EVB_ERR_INVALID_ARG);

    /* The output limit: TOO_LARGE, and the buffer is left as it was. */
    evb_buf_t out;
    evb_buf_init(&out, 8);
    assert_int_equal(evb_buf_append(&out, "ab", 2), EVB_ERR_OK);
    assert_int_equal(evb_transform_apply(t, "{}", 2, NULL, &out, err, ERRSZ),
                     EVB_ERR_TOO_LARGE);
    assert_int_equal(out.len, 2);
    assert_string_equal(out.data, "ab");
    evb_buf_free(&out);
    evb_transform_free(t);

    /* compile_json: text that is not a JSON object. */
    assert_int_equal(evb_transform_compile_json("[1]", 3, 1, &t, err, ERRSZ),
                     EVB_ERR_INVALID_JSON);
    assert_null(t);
    assert_int_equal(evb_transform_compile_json("{", 1, 1, &t, err, ERRSZ),
                     EVB_ERR_INVALID_JSON);
    assert_int_equal(
        evb_transform_compile_json("{\"Id\": 5}", 9, 1, &t, err, ERRSZ),
        EVB_ERR_INVALID_ARG);
    const char *bad_map = "{\"Id\": \"x\", \"InputTransformer\": "
                          "{\"InputPathsMap\": {\"a\": 1}, "
                          "\"InputTemplate\": \"\\\"x\\\"\"}}";
    assert_int_equal(
        evb_transform_compile_json(bad_map, strlen(bad_map), 1, &t, err, ERRSZ),
        EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "InputPathsMap values must be strings");
}

static void test_parse_time(void **state) {
    (void)state;
    int64_t ms = -1;
    assert_true(evb_transform_parse_time("1970-01-01T00:00:00Z", 20, &ms));
    assert_int_equal(ms, 0);
    assert_true(evb_transform_parse_time("2024-02-29T23:59:59.5Z", 22, &ms));
    assert_int_equal(ms, 1709251199500);
    assert_true(evb_transform_parse_time("2024-03-01T00:00:00-0130", 24, &ms));
    assert_int_equal(ms, 1709256600000);
    assert_true(evb_transform_parse_time("1969-12-31T23:59:59Z", 20, &ms));
    assert_int_equal(ms, -1000);
    assert_true(evb_transform_parse_time("2022-07-13T13:48:01", 19, &ms));
    assert_int_equal(ms, 1657720081000);
    assert_false(evb_transform_parse_time("2023-02-29T00:00:00Z", 20, &ms));
    assert_false(evb_transform_parse_time("2024-13-01T00:00:00Z", 20, &ms));
    assert_false(evb_transform_parse_time("2024-03-01 00:00:00Z", 20, &ms));
    assert_false(evb_transform_parse_time("2024-03-01T00:00:00.Z", 21, &ms));
    assert_false(evb_transform_parse_time("2024-03-01T00:00:00+1", 21, &ms));
    assert_false(evb_transform_parse_time("2024-03-01T00:00:00Zx", 21, &ms));
    assert_false(evb_transform_parse_time("2024-03-01", 10, &ms));
}

/* A compiled transform is shared by threads. */
typedef struct {
    const evb_transform_t *t;
    const char *event;
    const char *want;
    int bad;
} worker_t;

static void *worker(void *arg) {
    worker_t *w = arg;
    char err[256];
    evb_buf_t out;
    evb_buf_init(&out, 0);
    for (int i = 0; i < 500; i++) {
        evb_buf_reset(&out);
        if (evb_transform_apply(w->t, w->event, strlen(w->event), NULL, &out,
                                err, sizeof err) != EVB_ERR_OK ||
            strcmp(out.data, w->want) != 0)
            w->bad++;
    }
    evb_buf_free(&out);
    return NULL;
}

static void test_threads(void **state) {
    (void)state;
    char err[ERRSZ];
    evb_transform_t *t = NULL;
    evb_transform_path_entry_t paths[] = {{"a", 1, "$.a[*].b", 8},
                                          {"c", 1, "$.c", 3}};
    const char tpl[] =
        "{\"x\": <a>, \"y\": \"<c>\", \"z\": <aws.events.event>}";
    assert_int_equal(compile_template(tpl, strlen(tpl), paths, 2, &t, err),
                     EVB_ERR_OK);
    worker_t w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_t){
            t,
            "{\"id\":\"1\",\"a\":[{\"b\":1},{\"b\":[2]}],\"c\":"
            "\"s\"}",
            "{\"x\": [1,[2]], \"y\": \"s\", \"z\": {\"id\":\"1\"}}", 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].bad, 0);
    }
    evb_transform_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_repeated_key_last_wins),
        cmocka_unit_test(test_accessors_and_errors),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
