/* test_avro_schema.c: schema parsing and compiling: every rejection (with
 * Java Avro's wording), names and namespaces, recursion, Parsing Canonical
 * Form and fingerprints, references, avro-c's second opinion, and the fraud
 * demo's schemas as supersets of the blog's originals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <cmocka.h>

#include "avro/avro.h"

static evb_avro_schema_t *parse_ok(const char *text) {
    evb_avro_schema_t *s = NULL;
    char err[512];
    evb_err_t e =
        evb_avro_schema_parse(text, strlen(text), &s, err, sizeof err);
    if (e)
        fprintf(stderr, "rejected: %s\n  %s\n", err, text);
    assert_int_equal(e, EVB_ERR_OK);
    assert_non_null(s);
    return s;
}

typedef struct bad_case {
    const char *schema;
    const char *error;
} bad_case_t;

static const bad_case_t bad[] = {
    {"", "Schema is not valid JSON"},
    {"{", "Schema is not valid JSON"},
    {"{\"type\":\"int\"} x", "Schema is not valid JSON"},
    {"\"foo\"", "Undefined name: \"foo\""},
    {"42", "Schema not yet supported: 42"},
    {"true", "Schema not yet supported"},
    {"{}", "No type: {}"},
    {"{\"type\":{\"type\":\"int\"}}", "No type"},
    {"{\"type\":\"nope\"}", "Type not supported: nope"},
    {"{\"type\":\"error\",\"name\":\"E\",\"fields\":[]}",
     "Type not supported: error"},
    {"{\"type\":\"record\",\"fields\":[]}", "No name in schema"},
    {"{\"type\":\"record\",\"name\":\"R\"}", "Record has no fields"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":{}}",
     "Record has no fields"},
    {"{\"type\":\"record\",\"name\":\"1R\",\"fields\":[]}",
     "Illegal initial character: 1R"},
    {"{\"type\":\"record\",\"name\":\"R-x\",\"fields\":[]}",
     "Illegal character in: R-x"},
    {"{\"type\":\"record\",\"name\":\"a..b\",\"fields\":[]}", "Empty name"},
    {"{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"a.1b\","
     "\"fields\":[]}",
     "Illegal initial character: 1b"},
    {"{\"type\":\"record\",\"name\":\"R\",\"namespace\":5,\"fields\":[]}",
     "namespace not a string"},
    {"{\"type\":\"enum\",\"name\":\"int\",\"symbols\":[\"A\"]}",
     "Schemas may not be named after primitives: int"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":\"int\"},{\"name\":\"a\",\"type\":\"long\"}]}",
     "Duplicate field a in record R"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"type\":\"int\"}]}",
     "No field name"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\"}]}",
     "No field type"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[7]}",
     "Field not an object"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a-b\","
     "\"type\":\"int\"}]}",
     "Illegal character in: a-b"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":\"int\",\"order\":\"sideways\"}]}",
     "Illegal order"},
    {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"A\"]}",
     "Duplicate enum symbol: A"},
    {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[]}",
     "at least one symbol"},
    {"{\"type\":\"enum\",\"name\":\"E\"}", "Enum has no symbols"},
    {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"1A\"]}",
     "Illegal initial character: 1A"},
    {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[3]}",
     "Enum symbol not a string"},
    {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"],\"default\":"
     "\"B\"}",
     "The Enum Default: \"B\" is not in the enum symbol set"},
    {"{\"type\":\"fixed\",\"name\":\"F\"}", "Invalid or no size"},
    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":-1}", "Invalid or no size"},
    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":2.5}", "Invalid or no size"},
    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":\"2\"}",
     "Invalid or no size"},
    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":4294967296}",
     "Invalid or no size"},
    {"{\"type\":\"array\"}", "Array has no items type"},
    {"{\"type\":\"map\"}", "Map has no values type"},
    {"[[\"null\"]]", "Nested union"},
    {"[\"int\",[\"null\"]]", "Nested union"},
    {"[]", "at least one branch"},
    {"[\"int\",\"int\"]", "Duplicate in union:int"},
    {"[\"int\",{\"type\":\"int\",\"logicalType\":\"date\"}]",
     "Duplicate in union:int"},
    {"[{\"type\":\"fixed\",\"name\":\"F\",\"size\":1},\"F\"]",
     "Duplicate in union:F"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":{\"type\":\"enum\",\"name\":\"R\",\"symbols\":[\"X\"]}}]}",
     "Can't redefine: R"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":\"R2\"}]}",
     "Undefined name: \"R2\""},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":\"int\",\"default\":\"x\"}]}",
     "Invalid default for field a: \"x\" not a int"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":\"int\",\"default\":1.5}]}",
     "Invalid default for field a"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":\"int\",\"default\":2147483648}]}",
     "Invalid default for field a"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":[\"null\",\"int\"],\"default\":\"x\"}]}",
     "Invalid default for field a"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":2},"
     "\"default\":\"abc\"}]}",
     "Invalid default for field a"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":\"bytes\",\"default\":\"\\u0100\"}]}",
     "character above U+00FF"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]},"
     "\"default\":\"B\"}]}",
     "Invalid default for field a"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":"
     "\"b\",\"type\":\"int\"}]},\"default\":{}}]}",
     "missing required field \"b\""},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":{\"type\":\"array\",\"items\":\"int\"},\"default\":[1,\"x\"]}]}",
     "Invalid default for field a"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":{\"type\":\"map\",\"values\":\"int\"},\"default\":[]}]}",
     "Invalid default for field a"},
    /* a default that needs itself: must be refused, not recurse forever */
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":"
     "\"b\",\"type\":\"S\",\"default\":{}}]},\"default\":{}}]}",
     "nesting deeper than"},
    /* Java falls back to the null namespace; avro-c does not, and says so */
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
     "\"type\":{\"type\":\"record\",\"name\":\"Q\",\"namespace\":\"other\","
     "\"fields\":[{\"name\":\"b\",\"type\":[\"null\",\"R\"]}]}}]}",
     "Unknown Avro \"type\""},
};

static void rejects(void **state) {
    (void)state;
    int failed = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        evb_avro_schema_t *s = (evb_avro_schema_t *)0x1;
        char err[512] = "";
        evb_err_t e = evb_avro_schema_parse(
            bad[i].schema, strlen(bad[i].schema), &s, err, sizeof err);
        if (e != EVB_ERR_INVALID_ARG || s != NULL ||
            !strstr(err, bad[i].error)) {
            fprintf(stderr,
                    "schema %s\n  want error containing '%s'\n  got %s "
                    "'%s'\n",
                    bad[i].schema, bad[i].error, evb_err_name(e), err);
            failed++;
            if (e == EVB_ERR_OK)
                evb_avro_schema_unref(s);
        }
    }
    assert_int_equal(failed, 0);
}

static void too_deep(void **state) {
    (void)state;
    char *text = malloc(20000);
    size_t n = 0;
    for (int i = 0; i < 300; i++)
        n += (size_t)sprintf(text + n, "{\"type\":\"array\",\"items\":");
    n += (size_t)sprintf(text + n, "\"int\"");
    for (int i = 0; i < 300; i++)
        text[n++] = '}';
    evb_avro_schema_t *s;
    char err[256];
    assert_int_equal(evb_avro_schema_parse(text, n, &s, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    free(text);
}

static void canonical_form_and_fingerprint(void **state) {
    (void)state;
    struct {
        const char *in, *pcf;
        uint64_t fp; /* 0: not checked */
    } cases[] = {
        {"\"int\"", "\"int\"", 8247732601305521295ull},
        {"{\"type\":\"int\"}", "\"int\"", 8247732601305521295ull},
        {"\"null\"", "\"null\"", 7195948357588979594ull},
        {"{\"type\":\"fixed\",\"name\":\"foo\",\"size\":15}",
         "{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}",
         1756455273707447556ull},
        {"{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}", "\"long\"",
         0},
        {" { \"namespace\" : \"a.b\", \"type\" : \"record\", \"name\" : \"R\","
         " \"doc\" : \"d\", \"aliases\" : [\"X\"], \"fields\" : [ {\"name\":"
         "\"f\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\","
         "\"B\"]},\"default\":\"A\",\"doc\":\"x\"},{\"name\":\"g\",\"type\":"
         "[\"null\",\"E\",{\"type\":\"fixed\",\"name\":\"c.F\",\"size\":1}]},"
         "{\"name\":\"h\",\"type\":{\"type\":"
         "\"array\",\"items\":{\"type\":\"map\",\"values\":\"R\"}}}]}",
         "{\"name\":\"a.b.R\",\"type\":\"record\",\"fields\":[{\"name\":\"f\","
         "\"type\":{\"name\":\"a.b.E\",\"type\":\"enum\",\"symbols\":[\"A\","
         "\"B\"]}},{\"name\":\"g\",\"type\":[\"null\",\"a.b.E\",{\"name\":"
         "\"c.F\",\"type\":\"fixed\",\"size\":1}]},"
         "{\"name\":\"h\",\"type\":{\"type\":\"array\",\"items\":{\"type\":"
         "\"map\",\"values\":\"a.b.R\"}}}]}",
         0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *in = cases[i].in;
        evb_avro_schema_t *s = parse_ok(in);
        size_t len;
        const char *pcf = evb_avro_schema_canonical(s, &len);
        const char *want = cases[i].pcf;
        assert_string_equal(pcf, want);
        assert_int_equal(len, strlen(want));
        if (cases[i].fp)
            assert_true(evb_avro_schema_fingerprint64(s) == cases[i].fp);
        evb_avro_schema_unref(s);
    }
}

static void names_and_namespaces(void **state) {
    (void)state;
    /* a dotted name sets the namespace for what it contains; an explicit
     * namespace overrides; short references resolve in the current
     * namespace; full names anywhere */
    evb_avro_schema_t *s = parse_ok(
        "{\"type\":\"record\",\"name\":\"a.b.Outer\",\"namespace\":\"ignored\","
        "\"fields\":["
        "{\"name\":\"x\",\"type\":{\"type\":\"fixed\",\"name\":\"Id\","
        "\"size\":2}},"
        "{\"name\":\"y\",\"type\":{\"type\":\"record\",\"name\":\"In\","
        "\"namespace\":\"c\",\"fields\":[{\"name\":\"z\",\"type\":"
        "\"a.b.Id\"},{\"name\":\"w\",\"type\":{\"type\":\"enum\",\"name\":"
        "\"E\",\"symbols\":[\"A\"]}}]}},"
        "{\"name\":\"v\",\"type\":\"Id\"},"
        "{\"name\":\"u\",\"type\":\"c.E\"},"
        "{\"name\":\"t\",\"type\":{\"type\":\"a.b.Outer\"}}"
        "]}");
    assert_string_equal(evb_avro_schema_name(s), "a.b.Outer");
    const char *pcf = evb_avro_schema_canonical(s, NULL);
    assert_non_null(strstr(pcf, "{\"name\":\"a.b.Id\",\"type\":\"fixed\""));
    assert_non_null(strstr(pcf, "{\"name\":\"c.In\",\"type\":\"record\""));
    assert_non_null(strstr(pcf, "{\"name\":\"z\",\"type\":\"a.b.Id\"}"));
    assert_non_null(strstr(pcf, "{\"name\":\"c.E\",\"type\":\"enum\""));
    assert_non_null(strstr(pcf, "{\"name\":\"v\",\"type\":\"a.b.Id\"}"));
    assert_non_null(strstr(pcf, "{\"name\":\"u\",\"type\":\"c.E\"}"));
    assert_non_null(strstr(pcf, "{\"name\":\"t\",\"type\":\"a.b.Outer\"}"));
    evb_avro_schema_unref(s);

    /* the root's kind names unnamed schemas */
    s = parse_ok("{\"type\":\"array\",\"items\":\"int\"}");
    assert_string_equal(evb_avro_schema_name(s), "array");
    evb_avro_schema_unref(s);
    s = parse_ok("[\"null\",\"int\"]");
    assert_string_equal(evb_avro_schema_name(s), "union");
    evb_avro_schema_unref(s);
    /* namespace "" is the null namespace */
    s = parse_ok("{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"\","
                 "\"fields\":[]}");
    assert_string_equal(evb_avro_schema_name(s), "R");
    evb_avro_schema_unref(s);
}

static void recursion_and_references(void **state) {
    (void)state;
    evb_avro_schema_t *s = parse_ok(
        "{\"type\":\"record\",\"name\":\"Node\",\"fields\":["
        "{\"name\":\"v\",\"type\":\"int\"},"
        "{\"name\":\"next\",\"type\":[\"null\",\"Node\"],\"default\":null}]}");
    /* 1 -> 2 -> 3 */
    const uint8_t data[] = {0x02, 0x02, 0x04, 0x02, 0x06, 0x00};
    evb_buf_t out;
    evb_buf_init(&out, 0);
    char err[256];
    assert_int_equal(evb_avro_to_json(s, data, sizeof data, NULL, &out, NULL,
                                      err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(out.data, "{\"v\":1,\"next\":{\"v\":2,\"next\":{\"v\":"
                                  "3,\"next\":null}}}");
    evb_buf_free(&out);
    evb_avro_schema_unref(s);

    /* mutual recursion through arrays and maps */
    s = parse_ok("{\"type\":\"record\",\"name\":\"A\",\"fields\":["
                 "{\"name\":\"bs\",\"type\":{\"type\":\"array\",\"items\":"
                 "{\"type\":\"record\",\"name\":\"B\",\"fields\":[{\"name\":"
                 "\"as\",\"type\":{\"type\":\"map\",\"values\":\"A\"}}]}}}]}");
    evb_avro_schema_unref(s);
}

static void references_counted(void **state) {
    (void)state;
    evb_avro_schema_t *s = parse_ok("\"string\"");
    assert_ptr_equal(evb_avro_schema_ref(s), s);
    evb_avro_schema_unref(s);
    /* still usable */
    assert_string_equal(evb_avro_schema_name(s), "string");
    evb_avro_schema_unref(s);
    evb_avro_schema_unref(NULL);
}

static void avro_c_handle(void **state) {
    (void)state;
    evb_avro_schema_t *s =
        parse_ok("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":"
                 "\"a\",\"type\":\"int\"}]}");
    avro_schema_t as = (avro_schema_t)evb_avro_schema_avro_c(s);
    assert_non_null(as);
    assert_true(is_avro_record(as));
    assert_string_equal(avro_schema_name(as), "R");
    evb_avro_schema_unref(s);
}

static void logical_types_ignored_when_invalid(void **state) {
    (void)state;
    /* invalid logical types fall back to the underlying type, as in Java */
    const char *ok[] = {
        "{\"type\":\"string\",\"logicalType\":\"date\"}",
        "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":2,"
        "\"scale\":5}",
        "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"scale\":-1}",
        "{\"type\":\"fixed\",\"name\":\"D\",\"size\":3,\"logicalType\":"
        "\"duration\"}",
        "{\"type\":\"long\",\"logicalType\":\"no-such-type\"}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        evb_avro_schema_unref(parse_ok(ok[i]));
}

/* ---- the fraud demo's schemas ----------------------------------------------
 */

static char *read_all(const char *path) {
    evb_buf_t b;
    evb_buf_init(&b, 0);
    char err[256];
    if (evb_buf_read_file(&b, path, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    return b.data;
}

#define DEMO_DIR EVB_TEST_DATA_DIR "/../../demo/fraud/schemas"

/* The blog's originals, as described in kafka-connector.md 1.2 and 1.5. */
static const char payload_avsc[] =
    "{\"type\":\"record\",\"name\":\"Event\",\"namespace\":"
    "\"software.amazon.event.kafkaconnector\",\"fields\":["
    "{\"name\":\"creditCard\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"firstName\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"id\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"lastName\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"streetAddress\",\"type\":[\"null\",\"string\"],\"default\":"
    "null},"
    "{\"name\":\"total\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"userId\",\"type\":[\"null\",\"string\"],\"default\":null}]}";

static const char notification_avsc[] =
    "{\"type\":\"record\",\"name\":\"Notification\",\"fields\":["
    "{\"name\":\"source\",\"type\":\"string\"},"
    "{\"name\":\"eventType\",\"type\":\"string\"},"
    "{\"name\":\"eventDetail\",\"type\":{\"type\":\"record\",\"name\":"
    "\"EventDetail\",\"fields\":[{\"name\":\"userId\",\"type\":\"string\"},"
    "{\"name\":\"total\",\"type\":\"double\"}]}}]}";

/* The demo schema keeps the original's name, namespace and fields (same
 * order, same types), and every added field is optional with a default:
 * its canonical form starts with the original's fields. Then avro-c must
 * resolve data written with the demo schema for a reader of the original. */
static void superset_of(const char *demo_path, const char *original,
                        const char *added[], size_t nadded) {
    char *text = read_all(demo_path);
    assert_non_null(text);
    evb_avro_schema_t *demo = parse_ok(text);
    evb_avro_schema_t *orig = parse_ok(original);
    assert_string_equal(evb_avro_schema_name(demo), evb_avro_schema_name(orig));
    const char *pd = evb_avro_schema_canonical(demo, NULL);
    const char *po = evb_avro_schema_canonical(orig, NULL);
    /* original minus its closing "]}" is a prefix of the demo's */
    size_t lo = strlen(po) - 2;
    assert_true(strncmp(pd, po, lo) == 0);
    for (size_t i = 0; i < nadded; i++) {
        char want[128];
        snprintf(want, sizeof want, "{\"name\":\"%s\",", added[i]);
        assert_non_null(strstr(pd + lo, want));
    }
    /* FORWARD: the original reads data of the demo schema (avro-c) */
    avro_schema_t wd = (avro_schema_t)evb_avro_schema_avro_c(demo);
    avro_schema_t ro = (avro_schema_t)evb_avro_schema_avro_c(orig);
    avro_value_iface_t *res = avro_resolved_writer_new(wd, ro);
    assert_non_null(res);
    avro_value_iface_decref(res);
    evb_avro_schema_unref(demo);
    evb_avro_schema_unref(orig);
    free(text);
}

static void demo_transaction_schema(void **state) {
    (void)state;
    const char *added[] = {"merchant", "category",  "country",
                           "latitude", "longitude", "timestamp"};
    superset_of(DEMO_DIR "/transaction.avsc", payload_avsc, added, 6);
    char *text = read_all(DEMO_DIR "/transaction.avsc");
    evb_avro_schema_t *s = parse_ok(text);
    /* timestamp is a nullable timestamp-millis: unwrapped, a number */
    const char *json = "{\"creditCard\":\"4111-1111-1111-1111\",\"firstName\":"
                       "\"Ann\",\"id\":\"1.2.3\",\"lastName\":\"Lee\","
                       "\"streetAddress\":\"Lee\",\"total\":\"153.27\","
                       "\"userId\":\"123-45-6789\",\"merchant\":\"Acme\","
                       "\"category\":\"grocery\",\"country\":\"US\","
                       "\"latitude\":40.7128,\"longitude\":-74.006,"
                       "\"timestamp\":1695000000000}";
    evb_buf_t bin, out;
    evb_buf_init(&bin, 0);
    evb_buf_init(&out, 0);
    char err[256];
    assert_int_equal(evb_avro_from_json(s, json, strlen(json), EVB_AVRO_STRICT,
                                        &bin, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(evb_avro_to_json(s, bin.data, bin.len, NULL, &out, NULL,
                                      err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(out.data, json);
    /* the original's seven fields alone: the rest default to null */
    evb_buf_reset(&bin);
    evb_buf_reset(&out);
    const char *old = "{\"creditCard\":\"c\",\"firstName\":\"f\",\"id\":\"i\","
                      "\"lastName\":\"l\",\"streetAddress\":\"s\",\"total\":"
                      "\"199.99\",\"userId\":\"u\"}";
    assert_int_equal(
        evb_avro_from_json(s, old, strlen(old), 0, &bin, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(evb_avro_to_json(s, bin.data, bin.len, NULL, &out, NULL,
                                      err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(out.data,
                        "{\"creditCard\":\"c\",\"firstName\":\"f\",\"id\":"
                        "\"i\",\"lastName\":\"l\",\"streetAddress\":\"s\","
                        "\"total\":\"199.99\",\"userId\":\"u\",\"merchant\":"
                        "null,\"category\":null,\"country\":null,\"latitude\":"
                        "null,\"longitude\":null,\"timestamp\":null}");
    evb_buf_free(&bin);
    evb_buf_free(&out);
    evb_avro_schema_unref(s);
    free(text);
}

static void demo_notification_schema(void **state) {
    (void)state;
    const char *added[] = {"ruleId",        "cardId",          "score",
                           "reason",        "transactionId",   "transactionTime",
                           "windowStart"};
    superset_of(DEMO_DIR "/notification.avsc", notification_avsc, added, 7);
    /* the blog's event value (kafka-connector.md 1.7), rule fields null */
    char *text = read_all(DEMO_DIR "/notification.avsc");
    evb_avro_schema_t *s = parse_ok(text);
    const char *blog = "{\"source\":\"transactionAnalyzer\",\"eventType\":"
                       "\"suspiciousActivity\",\"eventDetail\":{\"userId\":"
                       "\"9f1c\",\"total\":197.52}}";
    evb_buf_t bin, out;
    evb_buf_init(&bin, 0);
    evb_buf_init(&out, 0);
    char err[256];
    assert_int_equal(
        evb_avro_from_json(s, blog, strlen(blog), 0, &bin, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(evb_avro_to_json(s, bin.data, bin.len, NULL, &out, NULL,
                                      err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(out.data,
                        "{\"source\":\"transactionAnalyzer\",\"eventType\":"
                        "\"suspiciousActivity\",\"eventDetail\":{\"userId\":"
                        "\"9f1c\",\"total\":197.52},\"ruleId\":null,"
                        "\"cardId\":null,\"score\":null,\"reason\":null,"
                        "\"transactionId\":null,\"transactionTime\":null,"
                        "\"windowStart\":null}");
    evb_buf_free(&bin);
    evb_buf_free(&out);
    evb_avro_schema_unref(s);
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rejects),
        cmocka_unit_test(too_deep),
        cmocka_unit_test(canonical_form_and_fingerprint),
        cmocka_unit_test(names_and_namespaces),
        cmocka_unit_test(recursion_and_references),
        cmocka_unit_test(references_counted),
        cmocka_unit_test(avro_c_handle),
        cmocka_unit_test(logical_types_ignored_when_invalid),
        cmocka_unit_test(demo_transaction_schema),
        cmocka_unit_test(demo_notification_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
