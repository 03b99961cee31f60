/*
 * Tests of the apply module without a server: the document tree (YAML and
 * JSON, types, line numbers, anchors, ${} references), the schema (every
 * document in tests/data/apply/invalid must be refused with the expected
 * message at the expected line), the conversion into API requests, and
 * plan computation against hand-built live states (create, update,
 * delete, unchanged; order; ownership record and stacks; --prune;
 * references; secrets).
 *
 * The end-to-end behaviour against a running server is
 * tests/cli/test_apply.sh's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/apply.h"
#include "apply/apply_internal.h"
#include "apply/plan_internal.h"

#ifndef EVB_TEST_DATA_DIR
#error "EVB_TEST_DATA_DIR must be defined"
#endif

/* ---- helpers --------------------------------------------------------------
 */

static const char *fake_env(void *ud, const char *name) {
    (void)ud;
    if (strcmp(name, "CRM_API_KEY") == 0)
        return "s3cr3t";
    if (strcmp(name, "OTHER_KEY") == 0)
        return "0th3r";
    if (strcmp(name, "PORT") == 0)
        return "8080";
    return NULL;
}

static evb_apply_doc_t *load_ok(const char *text) {
    evb_apply_diags_t d;
    evb_apply_diags_init(&d);
    evb_apply_load_opts_t o = {.getenv_fn = fake_env};
    evb_apply_doc_t *doc = NULL;
    evb_err_t err =
        evb_apply_doc_load("t.yaml", text, strlen(text), &o, &doc, &d);
    if (err)
        evb_apply_diags_print(&d, stderr);
    assert_int_equal(err, EVB_ERR_OK);
    assert_non_null(doc);
    evb_apply_diags_free(&d);
    return doc;
}

static const json_t *spec_of(const evb_apply_doc_t *doc, evb_apply_kind_t k,
                             const char *id) {
    const evb__apply_res_t *r = evb__apply_doc_find(doc, k, id);
    assert_non_null(r);
    return r->spec;
}

/* ---- the tree ---------------------------------------------------------------
 */

static void test_yaml_types_and_lines(void **state) {
    (void)state;
    static const char text[] = "a: 1\n"
                               "b: '1'\n"
                               "c: true\n"
                               "d: ~\n"
                               "e: 1.5\n"
                               "f: hello world\n"
                               "g:\n"
                               "  - x\n"
                               "  - {k: v}\n"
                               "h: 0x1F\n"
                               "i: !!str 12\n"
                               "j: |\n"
                               "  block\n";
    evb_arena_t a;
    evb_arena_init(&a, 0);
    evb_apply_node_t *root = NULL;
    char errstr[256];
    assert_int_equal(evb_apply_tree_parse(&a, text, strlen(text),
                                          EVB_APPLY_FORMAT_AUTO, NULL, &root,
                                          errstr, sizeof errstr),
                     EVB_ERR_OK);
    assert_int_equal(root->type, EVB_APPLY_MAP);
    assert_int_equal(root->n, 10);
    static const struct {
        const char *key;
        evb_apply_node_type_t type;
        unsigned line;
        const char *text;
    } want[] = {
        {"a", EVB_APPLY_INT, 1, "1"},
        {"b", EVB_APPLY_STRING, 2, "1"},
        {"c", EVB_APPLY_BOOL, 3, "true"},
        {"d", EVB_APPLY_NULL, 4, "null"},
        {"e", EVB_APPLY_FLOAT, 5, "1.5"},
        {"f", EVB_APPLY_STRING, 6, "hello world"},
        {"g", EVB_APPLY_SEQ, 8, NULL},
        {"h", EVB_APPLY_INT, 10, "0x1F"},
        {"i", EVB_APPLY_STRING, 11, "12"},
        {"j", EVB_APPLY_STRING, 12, "block\n"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const evb_apply_node_t *n = evb__apply_get(root, want[i].key);
        assert_non_null(n);
        assert_int_equal(n->type, want[i].type);
        assert_int_equal(n->line, want[i].line);
        if (want[i].text)
            assert_string_equal(n->str, want[i].text);
    }
    const evb_apply_node_t *g = evb__apply_get(root, "g");
    assert_int_equal(g->n, 2);
    assert_int_equal(g->items[1]->type, EVB_APPLY_MAP);
    assert_int_equal(g->items[1]->line, 9);
    assert_int_equal(g->items[1]->col, 5);
    assert_int_equal(root->members[6].line, 7); /* the key "g" */
    evb_arena_free(&a);
}

static void test_json_tree_lines(void **state) {
    (void)state;
    static const char text[] = "{\n"
                               "  \"buses\": [\n"
                               "    {\"name\": \"b\",\n"
                               "     \"description\": \"d\"}\n"
                               "  ],\n"
                               "  \"n\": 2.5e3\n"
                               "}\n";
    evb_arena_t a;
    evb_arena_init(&a, 0);
    evb_apply_node_t *root = NULL;
    char errstr[256];
    assert_int_equal(evb_apply_tree_parse(&a, text, strlen(text),
                                          EVB_APPLY_FORMAT_AUTO, NULL, &root,
                                          errstr, sizeof errstr),
                     EVB_ERR_OK);
    const evb_apply_node_t *buses = evb__apply_get(root, "buses");
    assert_int_equal(buses->line, 2);
    const evb_apply_node_t *bus = buses->items[0];
    assert_int_equal(bus->line, 3);
    assert_int_equal(evb__apply_get(bus, "description")->line, 4);
    assert_int_equal(evb__apply_get(root, "n")->type, EVB_APPLY_FLOAT);
    evb_arena_free(&a);

    /* a JSON document gives the same resources as the YAML one */
    static const char doc_text[] = "{\n"
                                   "  \"buses\": [\n"
                                   "    {\"name\": \"b\",\n"
                                   "     \"description\": \"d\"}\n"
                                   "  ]\n"
                                   "}\n";
    evb_apply_doc_t *doc = load_ok(doc_text);
    assert_int_equal(evb_apply_doc_count(doc, EVB_APPLY_BUS), 1);
    assert_int_equal(evb_apply_doc_line(doc, EVB_APPLY_BUS, "b"), 3);
    evb_apply_doc_free(doc);
}

static void test_tree_errors(void **state) {
    (void)state;
    static const struct {
        const char *text;
        evb_apply_format_t format;
        const char *want;
    } cases[] = {
        {"a: 1\n---\nb: 2\n", EVB_APPLY_FORMAT_YAML,
         "line 2: only one YAML document"},
        {"a: 1\na: 2\n", EVB_APPLY_FORMAT_YAML,
         "line 2: duplicate key 'a' (first at line 1)"},
        {"a: *nope\n", EVB_APPLY_FORMAT_YAML, "line 1:"},
        {"{\"a\": 1, \"a\": 2}", EVB_APPLY_FORMAT_JSON,
         "line 1: duplicate key 'a'"},
        {"{\n\"a\": [1,\n}\n", EVB_APPLY_FORMAT_JSON,
         "line 3: JSON syntax error"},
        {"? [a, b]\n: c\n", EVB_APPLY_FORMAT_YAML,
         "line 1: mapping keys must be plain strings"},
        {"a: \"${NOPE_NOT_SET}\"\n", EVB_APPLY_FORMAT_YAML,
         "line 1: environment variable NOPE_NOT_SET is not set"},
        {"a: \"${bad-name}\"\n", EVB_APPLY_FORMAT_YAML,
         "line 1: malformed ${...} reference"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        evb_arena_t a;
        evb_arena_init(&a, 0);
        evb_apply_node_t *root = NULL;
        char errstr[512] = "";
        evb_apply_load_opts_t o = {.getenv_fn = fake_env};
        evb_err_t err = evb_apply_tree_parse(
            &a, cases[i].text, strlen(cases[i].text), cases[i].format, &o,
            &root, errstr, sizeof errstr);
        if (!strstr(errstr, cases[i].want))
            fprintf(stderr, "case %zu: want '%s', got '%s'\n", i, cases[i].want,
                    errstr);
        assert_int_equal(err, EVB_ERR_INVALID_ARG);
        assert_non_null(strstr(errstr, cases[i].want));
        evb_arena_free(&a);
    }
}

static void test_env_and_anchors(void **state) {
    (void)state;
    static const char text[] =
        "connections:\n"
        "  - name: crm\n"
        "    authorizationType: API_KEY\n"
        "    authParameters:\n"
        "      apiKeyAuthParameters:\n"
        "        apiKeyName: key-${PORT}\n"
        "        apiKeyValue: ${CRM_API_KEY}\n"
        "    description: costs $${CRM_API_KEY} and $5\n"
        "logGroups:\n"
        "  - name: /a\n"
        "    retentionInDays: ${PORT}\n" /* an integer from the environment */
        "rules:\n"
        "  - name: r1\n"
        "    eventPattern: &p {source: [shop]}\n"
        "    targets: [{id: t, logGroup: /a}]\n"
        "  - name: r2\n"
        "    eventPattern: *p\n";
    evb_apply_doc_t *doc = load_ok(text);
    const json_t *c = spec_of(doc, EVB_APPLY_CONNECTION, "crm");
    const json_t *k = json_object_get(json_object_get(c, "AuthParameters"),
                                      "ApiKeyAuthParameters");
    assert_string_equal(evb__apply_str(k, "ApiKeyName"), "key-8080");
    assert_string_equal(evb__apply_str(k, "ApiKeyValue"), "s3cr3t");
    assert_string_equal(evb__apply_str(c, "Description"),
                        "costs ${CRM_API_KEY} and $5");
    assert_int_equal(
        json_integer_value(json_object_get(
            spec_of(doc, EVB_APPLY_LOG_GROUP, "/a"), "retentionInDays")),
        8080);
    assert_string_equal(
        evb__apply_str(spec_of(doc, EVB_APPLY_RULE, "default/r2"),
                       "EventPattern"),
        "{\"source\":[\"shop\"]}");
    evb_apply_doc_free(doc);
}

/* ---- the schema
 * ---------------------------------------------------------------- */

static void test_conversion(void **state) {
    (void)state;
    static const char text[] =
        "stack: s1\n"
        "rules:\n"
        "  - name: big\n"
        "    bus: orders\n"
        "    eventPattern:\n"
        "      source: [shop]\n"
        "      detail:\n"
        "        total: [{numeric: ['>=', 1000.50]}]\n"
        "        n: [0x10, -3, 1e3, .5]\n"
        "    targets:\n"
        "      - id: crm\n"
        "        apiDestination: crm-cases\n"
        "        input: {a: [1, true, null]}\n"
        "        retryPolicy: {maximumRetryAttempts: 3}\n"
        "        deadLetterConfig: {queue: dlq}\n"
        "        httpParameters:\n"
        "          headerParameters: {X-Team: risk, X-N: 5}\n"
        "buses:\n"
        "  - name: orders\n"
        "    tags: {team: risk}\n";
    evb_apply_doc_t *doc = load_ok(text);
    assert_string_equal(evb_apply_doc_stack(doc), "s1");
    assert_int_equal(evb_apply_doc_line(doc, EVB_APPLY_RULE, "orders/big"), 3);
    assert_int_equal(evb_apply_doc_line(doc, EVB_APPLY_BUS, "orders"), 19);
    assert_int_equal(evb_apply_doc_line(doc, EVB_APPLY_RULE, "nope"), 0);
    const json_t *r = spec_of(doc, EVB_APPLY_RULE, "orders/big");
    assert_string_equal(
        evb__apply_str(r, "EventPattern"),
        "{\"source\":[\"shop\"],\"detail\":{\"total\":[{\"numeric\":[\">=\","
        "1000.50]}],\"n\":[16,-3,1e3,0.5]}}");
    assert_int_equal(evb__apply_line_of(r, "EventPattern"), 5);
    json_t *t = json_array_get(json_object_get(r, "@targets"), 0);
    assert_int_equal(evb__apply_line_of(t, NULL), 11);
    json_t *body = evb__apply_api_body(t);
    char *text_body = evb__apply_dump(body);
    assert_string_equal(
        text_body,
        "{\"Id\":\"crm\",\"Input\":\"{\\\"a\\\":[1,true,null]}\","
        "\"RetryPolicy\":{\"MaximumRetryAttempts\":3},"
        "\"DeadLetterConfig\":{},\"HttpParameters\":{\"HeaderParameters\":"
        "{\"X-Team\":\"risk\",\"X-N\":\"5\"}}}");
    free(text_body);
    json_decref(body);
    evb_apply_doc_free(doc);

    /* the example file of the docs loads */
    evb_buf_t b;
    evb_buf_init(&b, 0);
    char errstr[256];
    assert_int_equal(evb_buf_read_file(&b,
                                       EVB_TEST_DATA_DIR
                                       "/../../examples/apply/basic.yaml",
                                       errstr, sizeof errstr),
                     EVB_ERR_OK);
    doc = load_ok(b.data);
    assert_int_equal(evb_apply_doc_count(doc, EVB_APPLY_RULE), 3);
    assert_int_equal(evb_apply_doc_count(doc, EVB_APPLY_QUEUE), 2);
    evb_apply_doc_free(doc);
    evb_buf_free(&b);

    /* an empty document is valid and manages nothing */
    doc = load_ok("# nothing\n");
    assert_string_equal(evb_apply_doc_stack(doc), "default");
    evb_apply_doc_free(doc);
}

/* Every file of tests/data/apply/invalid is refused as its expectation
 * says. */
static void test_invalid_documents(void **state) {
    (void)state;
    const char *dir = EVB_TEST_DATA_DIR "/apply/invalid";
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int cases = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        bool yaml = n > 5 && strcmp(e->d_name + n - 5, ".yaml") == 0;
        bool json = n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
        if (!yaml && !json)
            continue;
        char path[1024], expect[1024] = "";
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        evb_buf_t b;
        evb_buf_init(&b, 0);
        char errstr[256];
        assert_int_equal(evb_buf_read_file(&b, path, errstr, sizeof errstr),
                         EVB_ERR_OK);
        if (yaml) {
            assert_true(strncmp(b.data, "# expect: ", 10) == 0);
            const char *nl = strchr(b.data, '\n');
            snprintf(expect, sizeof expect, "%.*s", (int)(nl - b.data - 10),
                     b.data + 10);
        } else {
            char ep[1100];
            snprintf(ep, sizeof ep, "%s.expect", path);
            FILE *f = fopen(ep, "r");
            assert_non_null(f);
            assert_non_null(fgets(expect, sizeof expect, f));
            fclose(f);
            expect[strcspn(expect, "\n")] = 0;
        }
        unsigned line = (unsigned)strtoul(expect, NULL, 10);
        const char *want = strstr(expect, ": ") + 2;
        evb_apply_diags_t diags;
        evb_apply_diags_init(&diags);
        evb_apply_load_opts_t o = {.getenv_fn = fake_env};
        evb_apply_doc_t *doc = NULL;
        evb_err_t err =
            evb_apply_doc_load(e->d_name, b.data, b.len, &o, &doc, &diags);
        bool found = false;
        for (size_t i = 0; i < diags.n && !found; i++)
            found = diags.items[i].line == line &&
                    strstr(diags.items[i].message, want) &&
                    strcmp(diags.items[i].file, e->d_name) == 0;
        if (!found || !err) {
            fprintf(stderr, "FAIL %s: want %u: %s\ngot:\n", e->d_name, line,
                    want);
            evb_apply_diags_print(&diags, stderr);
        }
        assert_int_equal(err, EVB_ERR_INVALID_ARG);
        assert_null(doc);
        assert_true(found);
        evb_apply_diags_free(&diags);
        evb_buf_free(&b);
        cases++;
    }
    closedir(d);
    assert_true(cases >= 25);
}

static void test_many_problems_at_once(void **state) {
    (void)state;
    static const char text[] = "buses:\n"
                               "  - name: a\n"
                               "    colour: red\n"
                               "queues:\n"
                               "  - name: q\n"
                               "    attributes: 5\n"
                               "rules:\n"
                               "  - name: r\n"
                               "    eventPattern: 7\n";
    evb_apply_diags_t d;
    evb_apply_diags_init(&d);
    evb_apply_doc_t *doc = NULL;
    assert_int_equal(
        evb_apply_doc_load("x.yaml", text, strlen(text), NULL, &doc, &d),
        EVB_ERR_INVALID_ARG);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.items[0].line, 3);
    assert_int_equal(d.items[1].line, 6);
    assert_int_equal(d.items[2].line, 9);
    assert_string_equal(d.items[2].message,
                        "'eventPattern' in rule must be a mapping, a list or "
                        "a JSON string, found an integer");
    evb_apply_diags_free(&d);
}

/* ---- plans
 * ----------------------------------------------------------------------- */

static json_t *base_state(void) {
    json_t *s = json_pack(
        "{s:s,s:s,s:s,s:{},s:{},s:{},s:{s:{s:s,s:s}},s:{},s:{},s:{},s:{}}",
        "account", "000000000000", "region", "us-east-1", "endpoint",
        "http://127.0.0.1:4010/", "record", "logGroups", "queues", "buses",
        "default", "Name", "default", "Arn",
        "arn:aws:events:us-east-1:000000000000:event-bus/default",
        "connections", "apiDestinations", "archives", "rules");
    json_object_set_new(s, "schemas", json_object());
    json_object_set_new(s, "pipes", json_object());
    assert_non_null(s);
    return s;
}

/* A queue's attributes as the server reports them: every default, then
 * the given overrides (name, value, ..., NULL). */
static json_t *queue_attrs(const char *name, ...) {
    json_t *a =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "DelaySeconds", "0",
                  "MaximumMessageSize", "1048576", "MessageRetentionPeriod",
                  "345600", "ReceiveMessageWaitTimeSeconds", "0",
                  "VisibilityTimeout", "30", "SqsManagedSseEnabled", "false");
    va_list ap;
    va_start(ap, name);
    for (const char *k = name; k; k = va_arg(ap, const char *))
        json_object_set_new(a, k, json_string(va_arg(ap, const char *)));
    va_end(ap);
    return json_pack("{s:o}", "Attributes", a);
}

static void add_live(json_t *state, const char *kind_key, const char *id,
                     json_t *obj) {
    assert_int_equal(
        json_object_set_new(json_object_get(state, kind_key), id, obj), 0);
}

static void add_record(json_t *state, evb_apply_kind_t k, const char *id,
                       const char *stack, const char *digest) {
    char key[64];
    evb__apply_record_key(k, id, key);
    char *v = evb__apply_record_value(stack, digest, id);
    json_object_set_new(json_object_get(state, "record"), key, json_string(v));
    free(v);
}

static evb_apply_plan_t *plan_ok(const evb_apply_doc_t *doc,
                                 const json_t *state, bool prune) {
    evb_apply_diags_t d;
    evb_apply_diags_init(&d);
    evb_apply_plan_opts_t o = {.prune = prune};
    evb_apply_plan_t *p = NULL;
    evb_err_t err = evb_apply_plan_compute(doc, state, &o, &p, &d);
    if (err)
        evb_apply_diags_print(&d, stderr);
    assert_int_equal(err, EVB_ERR_OK);
    evb_apply_diags_free(&d);
    return p;
}

/* "action kind id" of step i */
static void assert_step(const evb_apply_plan_t *p, size_t i,
                        evb_apply_action_t a, evb_apply_kind_t k,
                        const char *id) {
    const evb_apply_step_t *s = evb_apply_plan_step(p, i);
    assert_non_null(s);
    if (s->action != a || s->kind != k || strcmp(s->id, id) != 0)
        fprintf(stderr, "step %zu: got %s %s %s, want %s %s %s\n", i,
                evb_apply_action_name(s->action), evb_apply_kind_name(s->kind),
                s->id, evb_apply_action_name(a), evb_apply_kind_name(k), id);
    assert_int_equal(s->action, a);
    assert_int_equal(s->kind, k);
    assert_string_equal(s->id, id);
}

static const char FULL_DOC[] =
    "stack: shop\n"
    "rules:\n"
    "  - name: zeta\n"
    "    bus: orders\n"
    "    eventPattern: {source: [shop]}\n"
    "    targets:\n"
    "      - {id: log, logGroup: /audit}\n"
    "  - name: alpha\n"
    "    bus: orders\n"
    "    state: DISABLED\n"
    "    eventPattern: {source: [shop]}\n"
    "    targets:\n"
    "      - id: q\n"
    "        queue: work\n"
    "        inputTransformer:\n"
    "          inputPathsMap: {id: $.id}\n"
    "          inputTemplate: '{\"id\": <id>}'\n"
    "buses:\n"
    "  - name: orders\n"
    "    description: Orders\n"
    "    tags: {team: shop}\n"
    "queues:\n"
    "  - name: work\n"
    "    attributes: {VisibilityTimeout: 60}\n"
    "logGroups:\n"
    "  - name: /audit\n"
    "    retentionInDays: 7\n"
    "connections:\n"
    "  - name: crm\n"
    "    authorizationType: API_KEY\n"
    "    authParameters:\n"
    "      apiKeyAuthParameters: {apiKeyName: k, apiKeyValue: "
    "'${CRM_API_KEY}'}\n"
    "apiDestinations:\n"
    "  - name: crm-cases\n"
    "    connection: crm\n"
    "    invocationEndpoint: https://crm.example.com/cases\n"
    "    httpMethod: POST\n"
    "archives:\n"
    "  - name: keep\n"
    "    bus: orders\n";

static void test_plan_create_order(void **state) {
    (void)state;
    evb_apply_doc_t *doc = load_ok(FULL_DOC);
    json_t *st = base_state();
    evb_apply_plan_t *p = plan_ok(doc, st, false);
    assert_int_equal(evb_apply_plan_size(p), 8);
    assert_int_equal(evb_apply_plan_count(p, EVB_APPLY_CREATE), 8);
    /* dependencies first, then by id within a kind */
    assert_step(p, 0, EVB_APPLY_CREATE, EVB_APPLY_LOG_GROUP, "/audit");
    assert_step(p, 1, EVB_APPLY_CREATE, EVB_APPLY_QUEUE, "work");
    assert_step(p, 2, EVB_APPLY_CREATE, EVB_APPLY_BUS, "orders");
    assert_step(p, 3, EVB_APPLY_CREATE, EVB_APPLY_CONNECTION, "crm");
    assert_step(p, 4, EVB_APPLY_CREATE, EVB_APPLY_API_DESTINATION, "crm-cases");
    assert_step(p, 5, EVB_APPLY_CREATE, EVB_APPLY_ARCHIVE, "keep");
    assert_step(p, 6, EVB_APPLY_CREATE, EVB_APPLY_RULE, "orders/alpha");
    assert_step(p, 7, EVB_APPLY_CREATE, EVB_APPLY_RULE, "orders/zeta");
    assert_int_equal(evb_apply_plan_step(p, 6)->line, 8);
    evb_apply_plan_free(p);
    json_decref(st);
    evb_apply_doc_free(doc);
}

/* The live state FULL_DOC leaves behind, as the server describes it. */
static json_t *applied_state(void) {
    json_t *st = base_state();
    add_live(st, "logGroups", "/audit",
             json_pack("{s:i}", "retentionInDays", 7));
    add_live(st, "queues", "work",
             queue_attrs("VisibilityTimeout", "60", "QueueArn",
                         "arn:aws:sqs:us-east-1:000000000000:work",
                         "ApproximateNumberOfMessages", "0", NULL));
    add_live(st, "buses", "orders",
             json_pack("{s:s,s:s,s:s,s:{s:s}}", "Name", "orders", "Arn",
                       "arn:aws:events:us-east-1:000000000000:event-bus/orders",
                       "Description", "Orders", "Tags", "team", "shop"));
    add_live(
        st, "connections", "crm",
        json_pack(
            "{s:s,s:s,s:s,s:s,s:{s:{s:s}}}", "Name", "crm", "ConnectionArn",
            "arn:aws:events:us-east-1:000000000000:connection/crm/u1",
            "ConnectionState", "AUTHORIZED", "AuthorizationType", "API_KEY",
            "AuthParameters", "ApiKeyAuthParameters", "ApiKeyName", "k"));
    add_live(
        st, "apiDestinations", "crm-cases",
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:i}", "Name", "crm-cases",
                  "ApiDestinationArn",
                  "arn:aws:events:us-east-1:000000000000:api-destination/"
                  "crm-cases/u2",
                  "ConnectionArn",
                  "arn:aws:events:us-east-1:000000000000:connection/crm/u1",
                  "InvocationEndpoint", "https://crm.example.com/cases",
                  "HttpMethod", "POST", "InvocationRateLimitPerSecond", 300));
    add_live(st, "archives", "keep",
             json_pack("{s:s,s:s,s:i}", "ArchiveName", "keep", "EventSourceArn",
                       "arn:aws:events:us-east-1:000000000000:event-bus/orders",
                       "RetentionDays", 0));
    add_live(st, "rules", "orders/zeta",
             json_pack("{s:s,s:s,s:s,s:[{s:s,s:s}],s:{}}", "Name", "zeta",
                       "EventPattern", "{\"source\": [\"shop\"]}", "State",
                       "ENABLED", "Targets", "Id", "log", "Arn",
                       "arn:aws:logs:us-east-1:000000000000:log-group:/audit",
                       "Tags"));
    add_live(st, "rules", "orders/alpha",
             json_pack("{s:s,s:s,s:s,s:[{s:s,s:s,s:{s:{s:s},s:s}}],s:{}}",
                       "Name", "alpha", "EventPattern",
                       "{\"source\":[\"shop\"]}", "State", "DISABLED",
                       "Targets", "Id", "q", "Arn",
                       "arn:aws:sqs:us-east-1:000000000000:work",
                       "InputTransformer", "InputPathsMap", "id", "$.id",
                       "InputTemplate", "{\"id\": <id>}", "Tags"));
    /* the record, as the first apply wrote it */
    add_record(st, EVB_APPLY_LOG_GROUP, "/audit", "shop", NULL);
    add_record(st, EVB_APPLY_QUEUE, "work", "shop", NULL);
    add_record(st, EVB_APPLY_BUS, "orders", "shop", NULL);
    json_t *auth = json_pack("{s:{s:s,s:s}}", "ApiKeyAuthParameters",
                             "ApiKeyName", "k", "ApiKeyValue", "s3cr3t");
    char *digest = evb__apply_secret_digest(auth, NULL);
    json_decref(auth);
    add_record(st, EVB_APPLY_CONNECTION, "crm", "shop", digest);
    free(digest);
    add_record(st, EVB_APPLY_API_DESTINATION, "crm-cases", "shop", NULL);
    add_record(st, EVB_APPLY_ARCHIVE, "keep", "shop", NULL);
    add_record(st, EVB_APPLY_RULE, "orders/zeta", "shop", NULL);
    add_record(st, EVB_APPLY_RULE, "orders/alpha", "shop", NULL);
    return st;
}

static void test_plan_unchanged(void **state) {
    (void)state;
    evb_apply_doc_t *doc = load_ok(FULL_DOC);
    json_t *st = applied_state();
    evb_apply_plan_t *p = plan_ok(doc, st, false);
    for (size_t i = 0; i < evb_apply_plan_size(p); i++) {
        const evb_apply_step_t *s = evb_apply_plan_step(p, i);
        if (s->action != EVB_APPLY_UNCHANGED)
            fprintf(stderr, "not unchanged: %s %s: %s\n",
                    evb_apply_kind_name(s->kind), s->id, s->changes);
    }
    assert_int_equal(evb_apply_plan_count(p, EVB_APPLY_UNCHANGED), 8);
    assert_int_equal(json_array_size(p->stale), 0);
    evb_apply_plan_free(p);
    json_decref(st);
    evb_apply_doc_free(doc);
}

static void test_plan_updates(void **state) {
    (void)state;
    /* the same document with every kind changed */
    char *text = strdup(FULL_DOC);
    static const char *const edits[][2] = {
        {"description: Orders", "description: Sales!"},
        {"VisibilityTimeout: 60", "VisibilityTimeout: 90"},
        {"retentionInDays: 7", "retentionInDays: 9"},
        {"'${CRM_API_KEY}'", "'${OTHER_KEY}'  "},
        {"httpMethod: POST", "httpMethod: PUT "},
        {"state: DISABLED", "state: ENABLED "},
        {"{id: log, logGroup: /audit}", "{id: lg2, logGroup: /audit}"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *at = strstr(text, edits[i][0]);
        assert_non_null(at);
        assert_int_equal(strlen(edits[i][0]), strlen(edits[i][1]));
        memcpy(at, edits[i][1], strlen(edits[i][1]));
    }
    evb_apply_doc_t *doc = load_ok(text);
    free(text);
    json_t *st = applied_state();
    /* the archive moved to another bus: replaced */
    json_object_set_new(
        json_object_get(json_object_get(st, "archives"), "keep"),
        "EventSourceArn",
        json_string("arn:aws:events:us-east-1:000000000000:event-bus/other"));
    evb_apply_plan_t *p = plan_ok(doc, st, false);
    static const struct {
        evb_apply_kind_t kind;
        const char *id, *changes;
    } want[] = {
        {EVB_APPLY_LOG_GROUP, "/audit", "retentionInDays: 7 -> 9"},
        {EVB_APPLY_QUEUE, "work", "VisibilityTimeout: 60 -> 90"},
        {EVB_APPLY_BUS, "orders", "description: Orders -> Sales!"},
        {EVB_APPLY_CONNECTION, "crm", "secrets"},
        {EVB_APPLY_API_DESTINATION, "crm-cases", "httpMethod: POST -> PUT"},
        {EVB_APPLY_ARCHIVE, "keep", "bus"},
        {EVB_APPLY_RULE, "orders/alpha", "state: DISABLED -> ENABLED"},
        {EVB_APPLY_RULE, "orders/zeta", "targets (+lg2 -log)"},
    };
    assert_int_equal(evb_apply_plan_size(p), 8);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_step(p, i, EVB_APPLY_UPDATE, want[i].kind, want[i].id);
        assert_string_equal(evb_apply_plan_step(p, i)->changes,
                            want[i].changes);
    }
    assert_non_null(strstr(evb_apply_plan_step(p, 5)->note, "replaces"));
    /* the plan never shows a secret */
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    evb_apply_plan_print(p, f);
    fclose(f);
    assert_null(strstr(out, "s3cr3t"));
    assert_null(strstr(out, "0th3r"));
    assert_non_null(strstr(out, "Plan: 0 to create, 8 to update, 0 to "
                                "delete, 0 unchanged."));
    free(out);
    evb_apply_plan_free(p);
    json_decref(st);
    evb_apply_doc_free(doc);
}

static void test_plan_deletes_and_ownership(void **state) {
    (void)state;
    /* only the log group stays in the file */
    evb_apply_doc_t *doc = load_ok(
        "stack: shop\nlogGroups:\n  - {name: /audit, retentionInDays: 7}\n");
    json_t *st = applied_state();
    /* hand-made resources, and one of another stack */
    add_live(st, "queues", "handmade", queue_attrs(NULL));
    add_live(st, "rules", "default/other-stack", json_object());
    add_record(st, EVB_APPLY_RULE, "default/other-stack", "billing", NULL);
    /* a record entry whose resource is gone */
    add_record(st, EVB_APPLY_QUEUE, "vanished", "shop", NULL);

    evb_apply_plan_t *p = plan_ok(doc, st, false);
    assert_int_equal(evb_apply_plan_size(p), 8);
    assert_step(p, 0, EVB_APPLY_UNCHANGED, EVB_APPLY_LOG_GROUP, "/audit");
    /* deletes in reverse dependency order */
    assert_step(p, 1, EVB_APPLY_DELETE, EVB_APPLY_RULE, "orders/alpha");
    assert_step(p, 2, EVB_APPLY_DELETE, EVB_APPLY_RULE, "orders/zeta");
    assert_step(p, 3, EVB_APPLY_DELETE, EVB_APPLY_ARCHIVE, "keep");
    assert_step(p, 4, EVB_APPLY_DELETE, EVB_APPLY_API_DESTINATION, "crm-cases");
    assert_step(p, 5, EVB_APPLY_DELETE, EVB_APPLY_CONNECTION, "crm");
    assert_step(p, 6, EVB_APPLY_DELETE, EVB_APPLY_BUS, "orders");
    assert_step(p, 7, EVB_APPLY_DELETE, EVB_APPLY_QUEUE, "work");
    assert_int_equal(evb_apply_plan_step(p, 7)->line, 0);
    assert_int_equal(json_array_size(p->stale), 1);
    evb_apply_plan_free(p);

    /* --prune also deletes the hand-made queue, never another stack's
     * resources nor the default bus */
    p = plan_ok(doc, st, true);
    assert_int_equal(evb_apply_plan_size(p), 9);
    assert_step(p, 8, EVB_APPLY_DELETE, EVB_APPLY_QUEUE, "work");
    assert_step(p, 7, EVB_APPLY_DELETE, EVB_APPLY_QUEUE, "handmade");
    assert_non_null(strstr(evb_apply_plan_step(p, 7)->note, "--prune"));
    evb_apply_plan_free(p);
    evb_apply_doc_free(doc);

    /* another stack's file does not delete shop's resources */
    doc = load_ok("stack: billing\n");
    p = plan_ok(doc, st, false);
    assert_int_equal(evb_apply_plan_size(p), 1);
    assert_step(p, 0, EVB_APPLY_DELETE, EVB_APPLY_RULE, "default/other-stack");
    evb_apply_plan_free(p);
    evb_apply_doc_free(doc);
    json_decref(st);
}

static void test_plan_adopt_and_take_over(void **state) {
    (void)state;
    evb_apply_doc_t *doc = load_ok(
        "stack: shop\nqueues:\n  - name: q1\n  - name: q2\n  - name: q3\n");
    json_t *st = base_state();
    json_t *attrs = queue_attrs(NULL);
    add_live(st, "queues", "q1", json_deep_copy(attrs)); /* hand-made */
    add_live(st, "queues", "q2", json_deep_copy(attrs)); /* other stack */
    add_live(st, "queues", "q3", json_deep_copy(attrs)); /* ours */
    json_decref(attrs);
    add_record(st, EVB_APPLY_QUEUE, "q2", "billing", NULL);
    add_record(st, EVB_APPLY_QUEUE, "q3", "shop", NULL);
    evb_apply_plan_t *p = plan_ok(doc, st, false);
    assert_int_equal(evb_apply_plan_count(p, EVB_APPLY_UNCHANGED), 3);
    assert_string_equal(evb_apply_plan_step(p, 0)->note,
                        "now managed by apply");
    assert_string_equal(evb_apply_plan_step(p, 1)->note,
                        "taken over from stack billing");
    assert_string_equal(evb_apply_plan_step(p, 2)->note, "");
    evb_apply_plan_free(p);
    json_decref(st);
    evb_apply_doc_free(doc);
}

static void test_plan_reference_errors(void **state) {
    (void)state;
    evb_apply_doc_t *doc = load_ok("stack: shop\n"
                                   "rules:\n"
                                   "  - name: r\n"
                                   "    bus: nowhere\n"
                                   "    eventPattern: {source: [a]}\n"
                                   "    targets:\n"
                                   "      - id: t\n"
                                   "        queue: work\n"
                                   "      - id: u\n"
                                   "        apiDestination: missing\n");
    json_t *st = base_state();
    add_live(st, "queues", "work", json_object());
    add_record(st, EVB_APPLY_QUEUE, "work", "shop", NULL);
    evb_apply_diags_t d;
    evb_apply_diags_init(&d);
    evb_apply_plan_t *p = NULL;
    assert_int_equal(evb_apply_plan_compute(doc, st, NULL, &p, &d),
                     EVB_ERR_INVALID_ARG);
    assert_null(p);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.items[0].line, 4);
    assert_string_equal(d.items[0].message,
                        "rule nowhere/r refers to bus 'nowhere', which is "
                        "neither in the file nor on the server");
    assert_int_equal(d.items[1].line, 8);
    assert_non_null(strstr(d.items[1].message, "which this plan deletes"));
    assert_int_equal(d.items[2].line, 10);
    evb_apply_diags_free(&d);
    json_decref(st);
    evb_apply_doc_free(doc);
}

static void test_plan_queue_defaults_and_targets(void **state) {
    (void)state;
    /* a queue the file leaves at the defaults, and a target whose ARN
     * comes from an API destination still to be created */
    evb_apply_doc_t *doc =
        load_ok("queues:\n  - name: q\n"
                "connections:\n"
                "  - name: c\n    authorizationType: BASIC\n"
                "    authParameters: {basicAuthParameters: {username: u, "
                "password: p}}\n"
                "apiDestinations:\n"
                "  - {name: d, connection: c, invocationEndpoint: "
                "'https://x.example/a', "
                "httpMethod: POST}\n"
                "rules:\n  - name: r\n    eventPattern: {source: [a]}\n"
                "    targets: [{id: t, apiDestination: d}]\n");
    json_t *st = base_state();
    add_live(st, "queues", "q",
             queue_attrs("VisibilityTimeout", "45", "RedrivePolicy",
                         "{\"maxReceiveCount\":\"5\"}", NULL));
    add_live(st, "rules", "default/r",
             json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "Name", "r", "EventPattern",
                       "{\"source\":[\"a\"]}", "Targets", "Id", "t", "Arn",
                       "arn:aws:events:us-east-1:000000000000:api-destination/"
                       "d/old"));
    evb_apply_plan_t *p = plan_ok(doc, st, false);
    assert_step(p, 0, EVB_APPLY_UPDATE, EVB_APPLY_QUEUE, "q");
    assert_string_equal(evb_apply_plan_step(p, 0)->changes,
                        "VisibilityTimeout: 45 -> 30, RedrivePolicy: "
                        "{\"maxReceiveCount\":\"5\"} -> (none)");
    assert_step(p, 1, EVB_APPLY_CREATE, EVB_APPLY_CONNECTION, "c");
    assert_step(p, 2, EVB_APPLY_CREATE, EVB_APPLY_API_DESTINATION, "d");
    assert_step(p, 3, EVB_APPLY_UPDATE, EVB_APPLY_RULE, "default/r");
    assert_string_equal(evb_apply_plan_step(p, 3)->changes, "targets (~t)");
    /* once execution learnt the destination's ARN, the target resolves */
    json_object_set_new(
        p->arns, "api-destination/d",
        json_string("arn:aws:events:us-east-1:000000000000:api-destination/"
                    "d/new"));
    bool unresolved = false;
    json_t *body = evb__apply_target_body(
        p,
        json_array_get(
            json_object_get(
                evb__apply_doc_find(doc, EVB_APPLY_RULE, "default/r")->spec,
                "@targets"),
            0),
        &unresolved);
    assert_false(unresolved);
    assert_string_equal(evb__apply_str(body, "Arn"),
                        "arn:aws:events:us-east-1:000000000000:"
                        "api-destination/d/new");
    json_decref(body);
    evb_apply_plan_free(p);
    json_decref(st);
    evb_apply_doc_free(doc);
}

static void test_record_helpers(void **state) {
    (void)state;
    char k1[64], k2[64], k3[64];
    evb__apply_record_key(EVB_APPLY_QUEUE, "a", k1);
    evb__apply_record_key(EVB_APPLY_QUEUE, "b", k2);
    evb__apply_record_key(EVB_APPLY_BUS, "a", k3);
    assert_string_not_equal(k1, k2);
    assert_string_not_equal(k1, k3);
    assert_true(strncmp(k1, "evbus:apply:queue:", 18) == 0);
    assert_int_equal(strlen(k1), 18 + 16);
    char stack[65], digest[81];
    char *v = evb__apply_record_value("shop", NULL, "orders/r");
    assert_string_equal(v, "shop:-:orders/r");
    assert_true(evb__apply_record_parse(v, stack, digest));
    assert_string_equal(stack, "shop");
    assert_string_equal(digest, "-");
    free(v);
    char longname[600];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    v = evb__apply_record_value("shop", NULL, longname);
    assert_int_equal(strlen(v), 256);
    free(v);
    /* digests: the same secrets and salt give the same digest; another
     * secret another one; the digest never holds the secret */
    json_t *a = json_pack("{s:{s:s,s:s}}", "BasicAuthParameters", "Username",
                          "u", "Password", "hunter2");
    json_t *b = json_pack("{s:{s:s,s:s}}", "BasicAuthParameters", "Username",
                          "u", "Password", "hunter3");
    char *d1 = evb__apply_secret_digest(a, "salt1234");
    char *d2 = evb__apply_secret_digest(a, "salt1234");
    char *d3 = evb__apply_secret_digest(b, "salt1234");
    char *d4 = evb__apply_secret_digest(a, NULL);
    assert_string_equal(d1, d2);
    assert_string_not_equal(d1, d3);
    assert_string_not_equal(d1, d4);
    assert_null(strstr(d1, "hunter2"));
    assert_true(strncmp(d1, "salt1234.", 9) == 0);
    free(d1);
    free(d2);
    free(d3);
    free(d4);
    /* server messages that quote a secret are scrubbed */
    evb_apply_doc_t *doc = load_ok(
        "connections:\n  - name: c\n    authorizationType: BASIC\n"
        "    authParameters:\n      basicAuthParameters: {username: u, "
        "password: '${CRM_API_KEY}'}\n"
        "      invocationHttpParameters:\n        headerParameters:\n"
        "          - {key: k, value: hidden-value, isValueSecret: true}\n"
        "          - {key: k2, value: shown-value}\n");
    char msg[64] = "Value 's3cr3t' and hidden-value, shown-value, s3cr3t";
    evb__apply_scrub(msg, sizeof msg, doc);
    assert_string_equal(msg,
                        "Value '(secret)' and (secret), shown-value, (secret)");
    char tiny[12] = "x s3cr3t y";
    evb__apply_scrub(tiny, sizeof tiny, doc);
    assert_string_equal(tiny, "x (secret) ");
    evb_apply_doc_free(doc);
    json_t *red = evb__apply_redact(a);
    assert_null(json_object_get(json_object_get(red, "BasicAuthParameters"),
                                "Password"));
    json_decref(red);
    json_decref(a);
    json_decref(b);
}

/* ---- schemas and pipes ------------------------------------------------------ */

static const char PIPE_DOC[] =
    "stack: fraud\n"                                    /* 1 */
    "schemas:\n"                                        /* 2 */
    "  - subject: inline-value\n"                       /* 3 */
    "    schema: {type: record, name: X, fields: [{name: a, type: int}]}\n"
    "    compatibility: FULL\n"                         /* 5 */
    "  - subject: file-value\n"                         /* 6 */
    "    file: schemas/t.avsc\n"                        /* 7 */
    "buses:\n"                                          /* 8 */
    "  - name: fraud\n"                                 /* 9 */
    "pipes:\n"                                          /* 10 */
    "  - name: p1\n"                                    /* 11 */
    "    source: smk://127.0.0.1:${PORT}\n"             /* 12 */
    "    sourceParameters:\n"                           /* 13 */
    "      selfManagedKafkaParameters:\n"               /* 14 */
    "        topicName: notifications\n"                /* 15 */
    "        startingPosition: TRIM_HORIZON\n"          /* 16 */
    "        batchSize: 10\n"                           /* 17 */
    "        consumerGroupId: g1\n"                     /* 18 */
    "      filterCriteria:\n"                           /* 19 */
    "        filters:\n"                                /* 20 */
    "          - pattern: {value: {score: [{numeric: ['>', 0.5]}]}}\n"
    "    target: {bus: fraud}\n"                        /* 22 */
    "    targetParameters:\n"                           /* 23 */
    "      inputTemplate: '<$.value>'\n"                /* 24 */
    "      eventBridgeEventBusParameters:\n"            /* 25 */
    "        source: fraud.analytics\n"                 /* 26 */
    "        detailType: Fraud Detected\n"              /* 27 */
    "    tags: {team: risk}\n";                         /* 28 */

static evb_apply_doc_t *load_at(const char *path, const char *text) {
    evb_apply_diags_t d;
    evb_apply_diags_init(&d);
    evb_apply_load_opts_t o = {.getenv_fn = fake_env};
    evb_apply_doc_t *doc = NULL;
    evb_err_t err = evb_apply_doc_load(path, text, strlen(text), &o, &doc, &d);
    if (err)
        evb_apply_diags_print(&d, stderr);
    assert_int_equal(err, EVB_ERR_OK);
    evb_apply_diags_free(&d);
    return doc;
}

static void test_schemas_and_pipes_parse(void **state) {
    (void)state;
    evb_apply_doc_t *doc =
        load_at(EVB_TEST_DATA_DIR "/apply/doc.yaml", PIPE_DOC);
    assert_int_equal(evb_apply_doc_count(doc, EVB_APPLY_SCHEMA), 2);
    assert_int_equal(evb_apply_doc_count(doc, EVB_APPLY_PIPE), 1);
    assert_int_equal(evb_apply_doc_line(doc, EVB_APPLY_SCHEMA, "file-value"),
                     6);
    assert_int_equal(evb_apply_doc_line(doc, EVB_APPLY_PIPE, "p1"), 11);
    /* a file relative to the document, read at load; a mapping as JSON */
    const json_t *f = spec_of(doc, EVB_APPLY_SCHEMA, "file-value");
    assert_non_null(strstr(evb__apply_str(f, "schema"), "\"name\": \"T\""));
    assert_int_equal(evb__apply_line_of(f, "@file"), 7);
    const json_t *in = spec_of(doc, EVB_APPLY_SCHEMA, "inline-value");
    assert_string_equal(evb__apply_str(in, "schema"),
                        "{\"type\":\"record\",\"name\":\"X\",\"fields\":[{"
                        "\"name\":\"a\",\"type\":\"int\"}]}");
    assert_string_equal(evb__apply_str(in, "@compatibility"), "FULL");
    /* the pipe: PascalCase members, ${} expanded, target by name */
    const json_t *p = spec_of(doc, EVB_APPLY_PIPE, "p1");
    assert_string_equal(evb__apply_str(p, "Source"), "smk://127.0.0.1:8080");
    const json_t *kp = json_object_get(json_object_get(p, "SourceParameters"),
                                       "SelfManagedKafkaParameters");
    assert_string_equal(evb__apply_str(kp, "ConsumerGroupID"), "g1");
    assert_int_equal(json_integer_value(json_object_get(kp, "BatchSize")), 10);
    const json_t *flt = json_array_get(
        json_object_get(json_object_get(json_object_get(p, "SourceParameters"),
                                        "FilterCriteria"),
                        "Filters"),
        0);
    assert_string_equal(evb__apply_str(flt, "Pattern"),
                        "{\"value\":{\"score\":[{\"numeric\":[\">\",0.5]}]}}");
    assert_null(json_object_get(p, "Target"));
    assert_string_equal(evb__apply_str(json_object_get(p, "@target"), "@bus"),
                        "fraud");
    assert_int_equal(evb__apply_line_of(json_object_get(p, "@target"), NULL),
                     22);
    evb_apply_doc_free(doc);
}

/* The live state PIPE_DOC leaves behind, as the server describes it. */
static json_t *pipe_state(void) {
    json_t *st = base_state();
    add_live(st, "buses", "fraud",
             json_pack("{s:s,s:s,s:{}}", "Name", "fraud", "Arn",
                       "arn:aws:events:us-east-1:000000000000:event-bus/fraud",
                       "Tags"));
    add_live(st, "schemas", "inline-value",
             json_pack("{s:{s:i,s:i},s:s,s:{s:i,s:i}}", "latest", "version", 2,
                       "id", 7, "compatibility", "FULL", "lookup", "version",
                       2, "id", 7));
    add_live(st, "schemas", "file-value",
             json_pack("{s:{s:i,s:i},s:{s:i,s:i}}", "latest", "version", 1,
                       "id", 3, "lookup", "version", 1, "id", 3));
    json_t *pipe = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:{s:{s:s,s:s,s:i,s:s},s:{s:[{s:s}]}},"
        "s:s,s:{s:s,s:{s:s,s:s}},s:s,s:{s:s}}",
        "Name", "p1", "Arn", "arn:aws:pipes:us-east-1:000000000000:pipe/p1",
        "DesiredState", "RUNNING", "CurrentState", "RUNNING", "Source",
        "smk://127.0.0.1:8080", "SourceParameters",
        "SelfManagedKafkaParameters", "TopicName", "notifications",
        "StartingPosition", "TRIM_HORIZON", "BatchSize", 10,
        "ConsumerGroupID", "g1", "FilterCriteria", "Filters", "Pattern",
        "{\"value\": {\"score\": [{\"numeric\": [\">\", 0.5]}]}}", "Target",
        "arn:aws:events:us-east-1:000000000000:event-bus/fraud",
        "TargetParameters", "InputTemplate", "<$.value>",
        "EventBridgeEventBusParameters", "Source", "fraud.analytics",
        "DetailType", "Fraud Detected", "RoleArn",
        "arn:aws:iam::000000000000:role/evbus-apply", "Tags", "team", "risk");
    assert_non_null(pipe);
    add_live(st, "pipes", "p1", pipe);
    add_record(st, EVB_APPLY_BUS, "fraud", "fraud", NULL);
    add_record(st, EVB_APPLY_SCHEMA, "inline-value", "fraud", NULL);
    add_record(st, EVB_APPLY_SCHEMA, "file-value", "fraud", NULL);
    add_record(st, EVB_APPLY_PIPE, "p1", "fraud", NULL);
    return st;
}

static const evb_apply_step_t *find_step(const evb_apply_plan_t *p,
                                         evb_apply_kind_t k, const char *id) {
    for (size_t i = 0; i < evb_apply_plan_size(p); i++) {
        const evb_apply_step_t *s = evb_apply_plan_step(p, i);
        if (s->kind == k && strcmp(s->id, id) == 0)
            return s;
    }
    fail_msg("no step for %s %s", evb_apply_kind_name(k), id);
    return NULL;
}

static void test_plan_schemas_and_pipes(void **state) {
    (void)state;
    /* create: schemas first, pipes after the bus */
    evb_apply_doc_t *doc =
        load_at(EVB_TEST_DATA_DIR "/apply/doc.yaml", PIPE_DOC);
    json_t *st = base_state();
    evb_apply_plan_t *p = plan_ok(doc, st, false);
    assert_int_equal(evb_apply_plan_size(p), 4);
    assert_step(p, 0, EVB_APPLY_CREATE, EVB_APPLY_SCHEMA, "file-value");
    assert_step(p, 1, EVB_APPLY_CREATE, EVB_APPLY_SCHEMA, "inline-value");
    assert_step(p, 2, EVB_APPLY_CREATE, EVB_APPLY_BUS, "fraud");
    assert_step(p, 3, EVB_APPLY_CREATE, EVB_APPLY_PIPE, "p1");
    evb_apply_plan_free(p);
    json_decref(st);

    /* applied: unchanged (patterns compared as JSON) */
    st = pipe_state();
    p = plan_ok(doc, st, false);
    assert_int_equal(evb_apply_plan_count(p, EVB_APPLY_UNCHANGED), 4);
    evb_apply_plan_free(p);

    /* the registry holds the schema, but not as the latest version */
    json_t *in = json_object_get(json_object_get(st, "schemas"), "inline-value");
    json_object_set_new(json_object_get(in, "latest"), "version",
                        json_integer(3));
    p = plan_ok(doc, st, false);
    const evb_apply_step_t *s = find_step(p, EVB_APPLY_SCHEMA, "inline-value");
    assert_int_equal(s->action, EVB_APPLY_UNCHANGED);
    assert_non_null(strstr(s->note, "version 2; the latest is 3"));
    evb_apply_plan_free(p);
    /* not there at all, and another level: a new version, the level set */
    json_object_del(in, "lookup");
    json_object_set_new(in, "compatibility", json_string("BACKWARD"));
    p = plan_ok(doc, st, false);
    s = find_step(p, EVB_APPLY_SCHEMA, "inline-value");
    assert_int_equal(s->action, EVB_APPLY_UPDATE);
    assert_string_equal(s->changes,
                        "schema (a new version), compatibility: BACKWARD -> "
                        "FULL");
    evb_apply_plan_free(p);
    json_decref(st);
    evb_apply_doc_free(doc);

    /* a changed filter, batch size and tags: an update */
    static const struct {
        const char *from, *to, *changes;
        bool replace;
    } cases[] = {
        {"0.5]", "0.7]", "filterCriteria", false},
        {"batchSize: 10", "batchSize: 5", "selfManagedKafkaParameters", false},
        {"{team: risk}", "{team: fraud}", "tags", false},
        {"Fraud Detected", "Fraud", "targetParameters", false},
        {"    tags:", "    desiredState: STOPPED\n    tags:",
         "desiredState: RUNNING -> STOPPED", false},
        {"topicName: notifications", "topicName: other",
         "topicName: notifications -> other", true},
        {"consumerGroupId: g1", "consumerGroupId: g2",
         "consumerGroupID: g1 -> g2", true},
        {"startingPosition: TRIM_HORIZON", "startingPosition: LATEST",
         "startingPosition: TRIM_HORIZON -> LATEST", true},
        {"${PORT}", "9", "source: smk://127.0.0.1:8080 -> smk://127.0.0.1:9",
         true},
    };
    for (size_t i = 0; i < EVB_ARRAY_LEN(cases); i++) {
        const char *at = strstr(PIPE_DOC, cases[i].from);
        assert_non_null(at);
        char buf[4096];
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - PIPE_DOC), PIPE_DOC,
                 cases[i].to, at + strlen(cases[i].from));
        doc = load_at(EVB_TEST_DATA_DIR "/apply/doc.yaml", buf);
        st = pipe_state();
        p = plan_ok(doc, st, false);
        s = find_step(p, EVB_APPLY_PIPE, "p1");
        if (s->action != EVB_APPLY_UPDATE ||
            strcmp(s->changes, cases[i].changes) != 0)
            fail_msg("case %zu: %s '%s' [%s]", i,
                     evb_apply_action_name(s->action), s->changes, s->note);
        const evb__apply_step_t *is =
            (const evb__apply_step_t *)((const char *)s -
                                        offsetof(evb__apply_step_t, pub));
        assert_int_equal(is->replace, cases[i].replace);
        if (cases[i].replace)
            assert_non_null(strstr(s->note, "replaces it"));
        evb_apply_plan_free(p);
        json_decref(st);
        evb_apply_doc_free(doc);
    }

    /* gone from the file: deleted, pipes before the bus they send to,
     * schemas last */
    doc = load_at("t.yaml", "stack: fraud\n");
    st = pipe_state();
    p = plan_ok(doc, st, false);
    assert_int_equal(evb_apply_plan_size(p), 4);
    assert_step(p, 0, EVB_APPLY_DELETE, EVB_APPLY_PIPE, "p1");
    assert_step(p, 1, EVB_APPLY_DELETE, EVB_APPLY_BUS, "fraud");
    assert_step(p, 2, EVB_APPLY_DELETE, EVB_APPLY_SCHEMA, "file-value");
    assert_step(p, 3, EVB_APPLY_DELETE, EVB_APPLY_SCHEMA, "inline-value");
    evb_apply_plan_free(p);
    json_decref(st);
    evb_apply_doc_free(doc);
}

static void test_plan_pipe_references(void **state) {
    (void)state;
    static const char text[] = "pipes:\n"
                               "  - name: p\n"
                               "    source: smk://k:9092\n"
                               "    sourceParameters:\n"
                               "      selfManagedKafkaParameters: {topicName: "
                               "t}\n"
                               "    enrichmentApiDestination: nowhere\n"
                               "    target: {queue: missing}\n";
    evb_apply_doc_t *doc = load_ok(text);
    json_t *st = base_state();
    evb_apply_diags_t d;
    evb_apply_diags_init(&d);
    evb_apply_plan_t *p = NULL;
    assert_int_equal(evb_apply_plan_compute(doc, st, NULL, &p, &d),
                     EVB_ERR_INVALID_ARG);
    assert_null(p);
    assert_int_equal(d.n, 2);
    bool q = false, e = false;
    for (size_t i = 0; i < d.n; i++) {
        q = q || (d.items[i].line == 7 &&
                  strstr(d.items[i].message, "queue 'missing'"));
        e = e || (d.items[i].line == 6 &&
                  strstr(d.items[i].message, "api destination 'nowhere'"));
    }
    assert_true(q && e);
    evb_apply_diags_free(&d);
    json_decref(st);
    evb_apply_doc_free(doc);
}

/* docs/cli/apply.md holds the reference exactly as the code prints it. */
static void test_reference_doc(void **state) {
    (void)state;
    char *ref = NULL;
    size_t reflen = 0;
    FILE *f = open_memstream(&ref, &reflen);
    evb_apply_reference_print(f);
    fclose(f);
    evb_buf_t doc;
    evb_buf_init(&doc, 0);
    char errstr[256];
    assert_int_equal(
        evb_buf_read_file(&doc, EVB_TEST_DATA_DIR "/../../docs/cli/apply.md",
                          errstr, sizeof errstr),
        EVB_ERR_OK);
    const char *start = strstr(doc.data, "<!-- reference:");
    assert_non_null(start);
    start = strchr(start, '\n') + 1;
    const char *end = strstr(start, "<!-- end of reference -->");
    assert_non_null(end);
    bool same =
        (size_t)(end - start) == reflen && memcmp(start, ref, reflen) == 0;
    if (!same)
        fprintf(stderr, "docs/cli/apply.md's reference differs from `evbus "
                        "apply --reference`: regenerate it\n");
    assert_true(same);
    /* and a copy of the example file */
    evb_buf_t ex;
    evb_buf_init(&ex, 0);
    assert_int_equal(evb_buf_read_file(&ex,
                                       EVB_TEST_DATA_DIR
                                       "/../../examples/apply/basic.yaml",
                                       errstr, sizeof errstr),
                     EVB_ERR_OK);
    if (!strstr(doc.data, ex.data))
        fprintf(stderr, "docs/cli/apply.md lacks a copy of "
                        "examples/apply/basic.yaml\n");
    assert_non_null(strstr(doc.data, ex.data));
    evb_buf_free(&ex);
    free(ref);
    evb_buf_free(&doc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_types_and_lines),
        cmocka_unit_test(test_json_tree_lines),
        cmocka_unit_test(test_tree_errors),
        cmocka_unit_test(test_env_and_anchors),
        cmocka_unit_test(test_conversion),
        cmocka_unit_test(test_invalid_documents),
        cmocka_unit_test(test_many_problems_at_once),
        cmocka_unit_test(test_plan_create_order),
        cmocka_unit_test(test_plan_unchanged),
        cmocka_unit_test(test_plan_updates),
        cmocka_unit_test(test_plan_deletes_and_ownership),
        cmocka_unit_test(test_plan_adopt_and_take_over),
        cmocka_unit_test(test_plan_reference_errors),
        cmocka_unit_test(test_plan_queue_defaults_and_targets),
        cmocka_unit_test(test_record_helpers),
        cmocka_unit_test(test_schemas_and_pipes_parse),
        cmocka_unit_test(test_plan_schemas_and_pipes),
        cmocka_unit_test(test_plan_pipe_references),
        cmocka_unit_test(test_reference_doc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
