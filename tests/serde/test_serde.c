/*
 * test_serde.c: the codec (src/serde) over evbus's own registry, in
 * process and, through an HTTP server this test starts on 127.0.0.1
 * (ephemeral port), as an external registry: decoding (auto-detection,
 * forced modes, JSON, text, bytes), cache hits, unknown ids and
 * remembered misses, malformed and truncated values, the bounded cache
 * and its eviction, concurrent decoding from several threads, writers and
 * encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "registry/registry.h"
#include "serde/serde.h"
#include "store/store.h"
#include "support/registry_server.h"

typedef struct fixture {
    char dir[64];
    evb_store_t *store;
    evb_registry_t *reg;
    evb_serde_t *serde;
    evb_buf_t out;
    char err[512];
} fixture_t;

static int setup(void **state) {
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/evb-serde-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char errstr[256];
    evb_store_opts_t o = {.dir = f->dir, .no_sync = true};
    if (evb_store_open(&o, &f->store, errstr, sizeof errstr) ||
        evb_registry_open(f->store, &f->reg, errstr, sizeof errstr))
        return -1;
    evb_serde_config_t cfg = {.registry = f->reg};
    if (evb_serde_new(&cfg, &f->serde, errstr, sizeof errstr))
        return -1;
    evb_buf_init(&f->out, 0);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    evb_serde_free(f->serde);
    evb_registry_close(f->reg);
    evb_store_close(f->store);
    evb_buf_free(&f->out);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* A schema with a general union, an enum, an array, a map, a decimal and
 * a nested record. */
#define RICH                                                                   \
    "{\"type\":\"record\",\"name\":\"Rich\",\"namespace\":\"t\",\"fields\":["  \
    "{\"name\":\"id\",\"type\":\"string\"},"                                   \
    "{\"name\":\"n\",\"type\":[\"null\",\"long\"],\"default\":null},"          \
    "{\"name\":\"u\",\"type\":[\"null\",\"string\",\"int\"]},"                 \
    "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\","        \
    "\"symbols\":[\"A\",\"B\"]}},"                                             \
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"  \
    "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":\"int\"}},"     \
    "{\"name\":\"price\",\"type\":{\"type\":\"bytes\",\"logicalType\":"        \
    "\"decimal\",\"precision\":9,\"scale\":2}},"                               \
    "{\"name\":\"inner\",\"type\":{\"type\":\"record\",\"name\":\"Inner\","    \
    "\"fields\":[{\"name\":\"x\",\"type\":\"double\"}]}}]}"

#define RICH_JSON                                                              \
    "{\"id\":\"r1\",\"n\":42,\"u\":{\"string\":\"hi\",\"int\":null},"          \
    "\"kind\":\"B\",\"tags\":[\"a\",\"b\"],\"attrs\":{\"k\":1,\"j\":2},"       \
    "\"price\":\"MDk=\",\"inner\":{\"x\":1.5}}"

/* A schema per index i, distinct ids: a record T<i> with one int. */
static void small_schema(int i, char *out, size_t n) {
    snprintf(out, n,
             "{\"type\":\"record\",\"name\":\"T%d\",\"fields\":[{\"name\":"
             "\"v\",\"type\":\"int\"}]}",
             i);
}

/* Register schema under subject and encode json with it (Confluent). */
static int32_t encode_with(fixture_t *f, evb_serde_t *s, const char *subject,
                           const char *schema, const char *json,
                           evb_buf_t *framed) {
    evb_serde_writer_t w;
    evb_registry_err_t rerr;
    assert_int_equal(evb_serde_writer_register(s, subject, schema,
                                               strlen(schema), 0, &w, &rerr,
                                               f->err, sizeof f->err),
                     EVB_ERR_OK);
    assert_int_equal(rerr, EVB_REGISTRY_ERR_OK);
    assert_true(w.id > 0);
    evb_buf_reset(framed);
    assert_int_equal(evb_serde_encode(&w, NULL, json, strlen(json), framed,
                                      f->err, sizeof f->err),
                     EVB_ERR_OK);
    int32_t id = w.id;
    evb_serde_writer_clear(&w);
    return id;
}

static evb_err_t dec(fixture_t *f, evb_serde_t *s, const void *data, size_t len,
                     const evb_serde_decode_opts_t *o, evb_serde_info_t *info) {
    evb_buf_reset(&f->out);
    f->err[0] = '\0';
    return evb_serde_decode(s, data, len, o, &f->out, info, f->err,
                            sizeof f->err);
}

/* ---- decoding --------------------------------------------------------------
 */

static void test_confluent_roundtrip_and_cache_hits(void **state) {
    fixture_t *f = *state;
    evb_buf_t framed;
    evb_buf_init(&framed, 0);
    int32_t id =
        encode_with(f, f->serde, "rich-value", RICH, RICH_JSON, &framed);
    assert_int_equal((unsigned char)framed.data[0], 0);
    assert_int_equal(((unsigned char)framed.data[4]), id);

    /* a codec with an empty cache: the first decode asks the registry */
    evb_serde_t *s;
    evb_serde_config_t cfg = {.registry = f->reg};
    assert_int_equal(evb_serde_new(&cfg, &s, f->err, sizeof f->err), 0);
    evb_serde_info_t info;
    evb_serde_stats_t st;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(dec(f, s, framed.data, framed.len, NULL, &info), 0);
        assert_string_equal(f->out.data, RICH_JSON);
        assert_int_equal(info.kind, EVB_SERDE_KIND_AVRO);
        assert_int_equal(info.wire, EVB_WIRE_CONFLUENT);
        assert_int_equal(info.schema_id, id);
        assert_int_equal(info.registry_err, EVB_REGISTRY_ERR_OK);
    }
    evb_serde_get_stats(s, &st);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.hits, 4);
    assert_int_equal(st.entries, 1);

    /* decoder options pass through: decimals as numbers */
    evb_serde_decode_opts_t o = {.avro = {.flags = EVB_AVRO_DECIMAL_NUMBER}};
    assert_int_equal(dec(f, s, framed.data, framed.len, &o, &info), 0);
    assert_non_null(strstr(f->out.data, "\"price\":123.45"));

    /* appends: what is in the buffer stays */
    evb_buf_reset(&f->out);
    evb_buf_append(&f->out, "[", 1);
    assert_int_equal(evb_serde_decode(s, framed.data, framed.len, NULL, &f->out,
                                      NULL, f->err, sizeof f->err),
                     0);
    assert_int_equal(f->out.data[0], '[');
    assert_string_equal(f->out.data + 1, RICH_JSON);

    /* the parsed schema itself */
    evb_avro_schema_t *sch;
    assert_int_equal(
        evb_serde_schema_by_id(s, id, &sch, NULL, f->err, sizeof f->err), 0);
    assert_string_equal(evb_avro_schema_name(sch), "t.Rich");
    evb_avro_schema_unref(sch);
    evb_serde_free(s);
    evb_buf_free(&framed);
}

static void test_unknown_ids_and_remembered_misses(void **state) {
    fixture_t *f = *state;
    evb_serde_t *s;
    evb_serde_config_t cfg = {.registry = f->reg, .miss_ttl_ms = 150};
    assert_int_equal(evb_serde_new(&cfg, &s, f->err, sizeof f->err), 0);
    const uint8_t v[] = {0, 0, 0, 0, 1, 2};
    evb_serde_info_t info;
    size_t before = f->out.len;
    assert_int_equal(dec(f, s, v, sizeof v, NULL, &info), EVB_ERR_NOT_FOUND);
    assert_int_equal(f->out.len, before);
    assert_int_equal(info.kind, EVB_SERDE_KIND_AVRO);
    assert_int_equal(info.schema_id, 1);
    assert_int_equal(info.registry_err, EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND);
    assert_int_equal(evb_registry_err_code(info.registry_err), 40403);
    assert_non_null(strstr(f->err, "Schema 1 not found"));
    assert_non_null(strstr(f->err, "40403"));
    /* asked again: the remembered miss answers, same error */
    assert_int_equal(dec(f, s, v, sizeof v, NULL, &info), EVB_ERR_NOT_FOUND);
    assert_non_null(strstr(f->err, "Schema 1 not found"));
    evb_serde_stats_t st;
    evb_serde_get_stats(s, &st);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.negative, 1);

    /* the id comes to exist; once the miss expires it decodes */
    char sch[128];
    small_schema(1, sch, sizeof sch);
    evb_buf_t framed;
    evb_buf_init(&framed, 0);
    assert_int_equal(
        encode_with(f, f->serde, "late-value", sch, "{\"v\":1}", &framed), 1);
    assert_int_equal(dec(f, s, v, sizeof v, NULL, &info), EVB_ERR_NOT_FOUND);
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(dec(f, s, v, sizeof v, NULL, &info), 0);
    assert_string_equal(f->out.data, "{\"v\":1}");
    const uint8_t trailing[] = {0, 0, 0, 0, 1, 2, 2};
    assert_int_equal(dec(f, s, trailing, sizeof trailing, NULL, &info),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(f->err, "trailing"));
    assert_int_equal(dec(f, s, trailing, 5, NULL, &info), EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(f->err, "truncated"));
    const uint8_t good[] = {0, 0, 0, 0, 1, 4};
    assert_int_equal(dec(f, s, good, sizeof good, NULL, &info), 0);
    assert_string_equal(f->out.data, "{\"v\":2}");

    /* ids that cannot exist: never asked */
    const uint8_t neg[] = {0, 0xff, 0xff, 0xff, 0xff, 0};
    assert_int_equal(dec(f, s, neg, sizeof neg, NULL, &info),
                     EVB_ERR_NOT_FOUND);
    assert_int_equal(info.registry_err, EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND);
    const uint8_t zero[] = {0, 0, 0, 0, 0, 0};
    assert_int_equal(dec(f, s, zero, sizeof zero, NULL, &info),
                     EVB_ERR_NOT_FOUND);
    evb_buf_free(&framed);
    evb_serde_free(s);

    /* misses not remembered at all */
    cfg.miss_ttl_ms = -1;
    assert_int_equal(evb_serde_new(&cfg, &s, f->err, sizeof f->err), 0);
    const uint8_t v9[] = {0, 0, 0, 0, 9, 0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(dec(f, s, v9, sizeof v9, NULL, &info),
                         EVB_ERR_NOT_FOUND);
    evb_serde_get_stats(s, &st);
    assert_int_equal(st.misses, 3);
    assert_int_equal(st.negative, 0);
    assert_int_equal(st.entries, 0);
    evb_serde_free(s);
}

static void test_malformed_values(void **state) {
    fixture_t *f = *state;
    evb_buf_t framed;
    evb_buf_init(&framed, 0);
    int32_t id =
        encode_with(f, f->serde, "rich-value", RICH, RICH_JSON, &framed);
    evb_serde_info_t info;
    /* every truncation of a valid value is an error, never a crash, and
     * leaves the output alone */
    for (size_t n = 1; n < framed.len; n++) {
        evb_buf_reset(&f->out);
        evb_buf_append(&f->out, "keep", 4);
        evb_err_t err = evb_serde_decode(f->serde, framed.data, n, NULL,
                                         &f->out, &info, f->err, sizeof f->err);
        assert_int_not_equal(err, EVB_ERR_OK);
        assert_string_equal(f->out.data, "keep");
        assert_int_equal(err, EVB_ERR_INVALID_ARG);
        assert_true(f->err[0] != '\0');
    }
    /* a bad union branch index */
    evb_buf_t bad;
    evb_buf_init(&bad, 0);
    evb_wire_confluent_header(&bad, (uint32_t)id);
    const uint8_t body[] = {4, 'r', '1', 0, 0x10};
    evb_buf_append(&bad, body, sizeof body);
    assert_int_equal(dec(f, f->serde, bad.data, bad.len, NULL, &info),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(f->err, "union"));
    assert_non_null(strstr(f->err, "schema"));
    /* Glue: short header, unknown compression, bad zlib */
    const uint8_t g1[] = {3, 0, 1, 2};
    assert_int_equal(dec(f, f->serde, g1, sizeof g1, NULL, &info),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(f->err, "truncated"));
    uint8_t g2[20] = {3, 9};
    assert_int_equal(dec(f, f->serde, g2, sizeof g2, NULL, &info),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(f->err, "compression"));
    g2[1] = 5;
    assert_int_equal(dec(f, f->serde, g2, sizeof g2, NULL, &info),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(f->err, "zlib"));
    /* forced modes that do not fit */
    evb_serde_decode_opts_t o = {.mode = EVB_SERDE_MODE_GLUE};
    assert_int_equal(dec(f, f->serde, framed.data, framed.len, &o, &info),
                     EVB_ERR_INVALID_ARG);
    o.mode = EVB_SERDE_MODE_CONFLUENT;
    assert_int_equal(dec(f, f->serde, "{}", 2, &o, &info), EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(f->err, "magic byte"));
    o.mode = EVB_SERDE_MODE_AVRO;
    assert_int_equal(dec(f, f->serde, "{}", 2, &o, &info), EVB_ERR_INVALID_ARG);
    assert_int_equal(dec(f, f->serde, "", 0, &o, &info), EVB_ERR_INVALID_ARG);
    o.mode = EVB_SERDE_MODE_JSON;
    assert_int_equal(dec(f, f->serde, "{\"a\":", 5, &o, &info),
                     EVB_ERR_INVALID_JSON);
    assert_int_equal(dec(f, f->serde, framed.data, framed.len, &o, &info),
                     EVB_ERR_INVALID_JSON);
    /* the output limit */
    evb_serde_decode_opts_t lim = {.avro = {.max_output = 10}};
    assert_int_equal(dec(f, f->serde, framed.data, framed.len, &lim, &info),
                     EVB_ERR_TOO_LARGE);
    assert_int_equal(f->out.len, 0);
    assert_int_equal(dec(f, f->serde, "\"abcdefghijklmnop\"", 18, &lim, &info),
                     EVB_ERR_TOO_LARGE);
    assert_int_equal(f->out.len, 0);
    /* no registry: Avro cannot be resolved, the rest still works */
    evb_serde_t *none;
    assert_int_equal(evb_serde_new(NULL, &none, f->err, sizeof f->err), 0);
    assert_false(evb_serde_has_registry(none));
    assert_int_equal(dec(f, none, framed.data, framed.len, NULL, &info),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(f->err, "no schema registry"));
    assert_int_equal(dec(f, none, "[1, 2]", 6, NULL, &info), 0);
    assert_string_equal(f->out.data, "[1,2]");
    evb_serde_free(none);
    evb_buf_free(&bad);
    evb_buf_free(&framed);
}

static void test_auto_detection_and_raw_modes(void **state) {
    fixture_t *f = *state;
    evb_serde_info_t info;
    /* JSON, compacted */
    const char *j = " { \"a\" : [1, 2.50, \"x y\"], \"b\": null }\n";
    assert_int_equal(dec(f, f->serde, j, strlen(j), NULL, &info), 0);
    assert_int_equal(info.kind, EVB_SERDE_KIND_JSON);
    assert_string_equal(f->out.data, "{\"a\":[1,2.50,\"x y\"],\"b\":null}");
    assert_int_equal(dec(f, f->serde, "42", 2, NULL, &info), 0);
    assert_int_equal(info.kind, EVB_SERDE_KIND_JSON);
    assert_string_equal(f->out.data, "42");
    /* text that is not JSON: a string, escaped */
    const char *t = "hello \"world\"\n\x01 caf\xc3\xa9";
    assert_int_equal(dec(f, f->serde, t, strlen(t), NULL, &info), 0);
    assert_int_equal(info.kind, EVB_SERDE_KIND_STRING);
    assert_string_equal(f->out.data,
                        "\"hello \\\"world\\\"\\n\\u0001 caf\xc3\xa9\"");
    /* binary: base64 */
    const uint8_t b[] = {0xff, 0xfe, 0x80, 0x01};
    assert_int_equal(dec(f, f->serde, b, sizeof b, NULL, &info), 0);
    assert_int_equal(info.kind, EVB_SERDE_KIND_BYTES);
    assert_string_equal(f->out.data, "\"//6AAQ==\"");
    /* empty and NULL: null (a tombstone) */
    assert_int_equal(dec(f, f->serde, "", 0, NULL, &info), 0);
    assert_int_equal(info.kind, EVB_SERDE_KIND_NULL);
    assert_string_equal(f->out.data, "null");
    assert_int_equal(dec(f, f->serde, NULL, 0, NULL, &info), 0);
    assert_string_equal(f->out.data, "null");
    /* forced: JSON text as a string, text as bytes, invalid UTF-8
     * repaired (one U+FFFD per maximal subpart) */
    evb_serde_decode_opts_t o = {.mode = EVB_SERDE_MODE_STRING};
    assert_int_equal(dec(f, f->serde, "{\"a\":1}", 7, &o, &info), 0);
    assert_string_equal(f->out.data, "\"{\\\"a\\\":1}\"");
    assert_int_equal(dec(f, f->serde, "a\xe2\x82z\xff", 5, &o, &info), 0);
    assert_string_equal(f->out.data, "\"a\xef\xbf\xbdz\xef\xbf\xbd\"");
    assert_int_equal(dec(f, f->serde, "", 0, &o, &info), 0);
    assert_string_equal(f->out.data, "\"\"");
    o.mode = EVB_SERDE_MODE_BYTES;
    assert_int_equal(dec(f, f->serde, "abcd", 4, &o, &info), 0);
    assert_int_equal(info.kind, EVB_SERDE_KIND_BYTES);
    assert_string_equal(f->out.data, "\"YWJjZA==\"");
    o.mode = EVB_SERDE_MODE_JSON;
    assert_int_equal(dec(f, f->serde, "", 0, &o, &info), 0);
    assert_string_equal(f->out.data, "null");
    /* a value starting with 0 or 3 is framed in auto mode */
    assert_int_equal(dec(f, f->serde, "\x03xyz", 4, NULL, &info),
                     EVB_ERR_INVALID_ARG);
    assert_int_equal(info.kind, EVB_SERDE_KIND_AVRO);
    /* names */
    evb_serde_mode_t m;
    assert_true(evb_serde_mode_parse("glue", &m));
    assert_int_equal(m, EVB_SERDE_MODE_GLUE);
    assert_false(evb_serde_mode_parse("protobuf", &m));
    assert_string_equal(evb_serde_mode_name(EVB_SERDE_MODE_BYTES), "bytes");
    assert_string_equal(evb_serde_kind_name(EVB_SERDE_KIND_AVRO), "avro");
}

/* ---- the bounded cache
 * ------------------------------------------------------- */

static void test_bounded_cache_eviction(void **state) {
    fixture_t *f = *state;
    enum { N = 10, MAX = 3 };
    evb_buf_t framed[N];
    char sch[128];
    for (int i = 0; i < N; i++) {
        evb_buf_init(&framed[i], 0);
        small_schema(i, sch, sizeof sch);
        char subj[32];
        snprintf(subj, sizeof subj, "s%d-value", i);
        encode_with(f, f->serde, subj, sch, "{\"v\":7}", &framed[i]);
    }
    evb_serde_t *s;
    evb_serde_config_t cfg = {.registry = f->reg, .cache_max = MAX};
    assert_int_equal(evb_serde_new(&cfg, &s, f->err, sizeof f->err), 0);
    evb_serde_stats_t st;
    /* schema 0 is hot: read between every new one, it is never evicted
     * (second chance), the others come and go */
    for (int i = 0; i < N; i++) {
        assert_int_equal(dec(f, s, framed[0].data, framed[0].len, NULL, NULL),
                         0);
        assert_int_equal(dec(f, s, framed[i].data, framed[i].len, NULL, NULL),
                         0);
        assert_string_equal(f->out.data, "{\"v\":7}");
        evb_serde_get_stats(s, &st);
        assert_true(st.entries <= MAX);
    }
    evb_serde_get_stats(s, &st);
    assert_int_equal(st.misses, N); /* each schema fetched once: 0 stayed */
    assert_int_equal(st.evictions, N - MAX);
    assert_int_equal(st.entries, MAX);
    /* everything still decodes, refetched as needed */
    for (int i = 0; i < N; i++)
        assert_int_equal(dec(f, s, framed[i].data, framed[i].len, NULL, NULL),
                         0);
    evb_serde_get_stats(s, &st);
    assert_true(st.misses > N);
    assert_int_equal(st.entries, MAX);
    evb_serde_free(s);
    for (int i = 0; i < N; i++)
        evb_buf_free(&framed[i]);
}

/* ---- threads
 * ----------------------------------------------------------------- */

enum { THREADS = 4, SCHEMAS = 6, ROUNDS = 1500 };

typedef struct racer {
    evb_serde_t *s;
    evb_buf_t *framed; /* SCHEMAS values */
    char **expect;     /* their JSON */
    int n, failures;
} racer_t;

static void *race(void *arg) {
    racer_t *r = arg;
    evb_buf_t out;
    evb_buf_init(&out, 0);
    char err[256];
    for (int i = 0; i < ROUNDS; i++) {
        int k = (i * 7 + r->n * 3) % SCHEMAS;
        evb_buf_reset(&out);
        evb_serde_info_t info;
        if (evb_serde_decode(r->s, r->framed[k].data, r->framed[k].len, NULL,
                             &out, &info, err, sizeof err) ||
            strcmp(out.data, r->expect[k]) != 0)
            r->failures++;
    }
    evb_buf_free(&out);
    return NULL;
}

static void test_concurrent_decode(void **state) {
    fixture_t *f = *state;
    evb_buf_t framed[SCHEMAS];
    char *expect[SCHEMAS];
    char sch[128];
    for (int i = 0; i < SCHEMAS; i++) {
        evb_buf_init(&framed[i], 0);
        small_schema(100 + i, sch, sizeof sch);
        char subj[32], json[32];
        snprintf(subj, sizeof subj, "race%d-value", i);
        snprintf(json, sizeof json, "{\"v\":%d}", i * 1000 - 7);
        expect[i] = strdup(json);
        if (i % 2 == 0) {
            encode_with(f, f->serde, subj, sch, json, &framed[i]);
        } else { /* half of them Glue, compressed */
            evb_serde_writer_t w;
            assert_int_equal(evb_serde_writer_register(f->serde, subj, sch,
                                                       strlen(sch), 0, &w, NULL,
                                                       f->err, sizeof f->err),
                             0);
            assert_true(w.has_uuid);
            evb_serde_encode_opts_t eo = {.wire = EVB_WIRE_GLUE,
                                          .glue_compression =
                                              EVB_WIRE_GLUE_COMPRESSION_ZLIB};
            assert_int_equal(evb_serde_encode(&w, &eo, json, strlen(json),
                                              &framed[i], f->err,
                                              sizeof f->err),
                             0);
            evb_serde_writer_clear(&w);
        }
    }
    /* a cache smaller than the working set: eviction races decoding */
    for (size_t max = 2; max <= 16; max += 14) {
        evb_serde_t *s;
        evb_serde_config_t cfg = {.registry = f->reg, .cache_max = max};
        assert_int_equal(evb_serde_new(&cfg, &s, f->err, sizeof f->err), 0);
        racer_t r[THREADS];
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++) {
            r[i] =
                (racer_t){.s = s, .framed = framed, .expect = expect, .n = i};
            assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
            pthread_join(t[i], NULL);
            assert_int_equal(r[i].failures, 0);
        }
        evb_serde_stats_t st;
        evb_serde_get_stats(s, &st);
        assert_int_equal(st.hits + st.misses, THREADS * ROUNDS);
        assert_true(st.entries <= max);
        if (max >= 16)
            assert_true(st.misses <= (uint64_t)THREADS * SCHEMAS);
        evb_serde_free(s);
    }
    for (int i = 0; i < SCHEMAS; i++) {
        evb_buf_free(&framed[i]);
        free(expect[i]);
    }
}

/* ---- writers and encoding
 * ---------------------------------------------------- */

static void test_writers_and_encoding(void **state) {
    fixture_t *f = *state;
    evb_serde_writer_t w1, w2, w3, w4;
    evb_registry_err_t rerr;
    char v1[128], v2[256];
    snprintf(v1, sizeof v1, "%s",
             "{\"type\":\"record\",\"name\":\"W\",\"fields\":[{\"name\":\"a\","
             "\"type\":\"int\"}]}");
    snprintf(v2, sizeof v2, "%s",
             "{\"type\":\"record\",\"name\":\"W\",\"fields\":[{\"name\":\"a\","
             "\"type\":\"int\"},{\"name\":\"b\",\"type\":\"string\","
             "\"default\":\"x\"}]}");
    assert_int_equal(evb_serde_writer_register(f->serde, "w-value", v1,
                                               strlen(v1), 0, &w1, &rerr,
                                               f->err, sizeof f->err),
                     0);
    assert_int_equal(w1.version, 1);
    assert_true(w1.has_uuid);
    /* idempotent */
    assert_int_equal(evb_serde_writer_register(f->serde, "w-value", v1,
                                               strlen(v1), 0, &w2, &rerr,
                                               f->err, sizeof f->err),
                     0);
    assert_int_equal(w2.id, w1.id);
    assert_memory_equal(w2.uuid, w1.uuid, 16);
    evb_serde_writer_clear(&w2);
    /* latest version, then a new version becomes the latest */
    assert_int_equal(evb_serde_writer_register(f->serde, "w-value", v2,
                                               strlen(v2), 0, &w2, &rerr,
                                               f->err, sizeof f->err),
                     0);
    assert_int_equal(w2.version, 2);
    assert_int_equal(evb_serde_writer_version(
                         f->serde, "w-value", EVB_REGISTRY_VERSION_LATEST, 0,
                         &w3, &rerr, f->err, sizeof f->err),
                     0);
    assert_int_equal(w3.id, w2.id);
    assert_int_equal(w3.version, 2);
    assert_memory_equal(w3.uuid, w2.uuid, 16);
    evb_serde_writer_clear(&w3);
    assert_int_equal(evb_serde_writer_version(f->serde, "w-value", 1, 0, &w3,
                                              &rerr, f->err, sizeof f->err),
                     0);
    assert_int_equal(w3.id, w1.id);
    evb_serde_writer_clear(&w3);
    /* missing subject / version */
    assert_int_equal(evb_serde_writer_version(
                         f->serde, "nope-value", EVB_REGISTRY_VERSION_LATEST, 0,
                         &w3, &rerr, f->err, sizeof f->err),
                     EVB_ERR_NOT_FOUND);
    assert_int_equal(rerr, EVB_REGISTRY_ERR_SUBJECT_NOT_FOUND);
    assert_null(w3.schema);
    assert_int_equal(evb_serde_writer_version(f->serde, "w-value", 9, 0, &w3,
                                              &rerr, f->err, sizeof f->err),
                     EVB_ERR_NOT_FOUND);
    assert_int_equal(rerr, EVB_REGISTRY_ERR_VERSION_NOT_FOUND);
    /* refused: incompatible, invalid */
    const char *bad =
        "{\"type\":\"record\",\"name\":\"W\",\"fields\":[{\"name\""
        ":\"a\",\"type\":\"string\"}]}";
    assert_int_equal(evb_serde_writer_register(f->serde, "w-value", bad,
                                               strlen(bad), 0, &w3, &rerr,
                                               f->err, sizeof f->err),
                     EVB_ERR_INVALID_ARG);
    assert_int_equal(rerr, EVB_REGISTRY_ERR_INCOMPATIBLE);
    assert_non_null(strstr(f->err, "incompatible"));
    assert_int_equal(evb_serde_writer_register(f->serde, "w-value", "{", 1, 0,
                                               &w3, &rerr, f->err,
                                               sizeof f->err),
                     EVB_ERR_INVALID_ARG);
    assert_int_equal(rerr, EVB_REGISTRY_ERR_INVALID_SCHEMA);
    /* by id and by uuid */
    assert_int_equal(
        evb_serde_writer_id(f->serde, w1.id, &w3, &rerr, f->err, sizeof f->err),
        0);
    assert_false(w3.has_uuid);
    assert_int_equal(evb_serde_writer_uuid(f->serde, w2.uuid, &w4, &rerr,
                                           f->err, sizeof f->err),
                     0);
    assert_int_equal(w4.id, w2.id);
    evb_serde_writer_t w5;
    assert_int_equal(
        evb_serde_writer_id(f->serde, 999, &w5, &rerr, f->err, sizeof f->err),
        EVB_ERR_NOT_FOUND);
    assert_null(w5.schema);

    /* encode: Confluent, Glue (plain and zlib); decode gives the JSON */
    evb_buf_t out;
    evb_buf_init(&out, 0);
    const char *js = "{\"a\":5}";
    assert_int_equal(evb_serde_encode(&w1, NULL, js, strlen(js), &out, f->err,
                                      sizeof f->err),
                     0);
    assert_int_equal(out.len, 6);
    assert_memory_equal(out.data, "\0\0\0\0\1\x0a", 6);
    evb_serde_info_t info;
    for (int c = 0; c < 2; c++) {
        evb_serde_encode_opts_t eo = {.wire = EVB_WIRE_GLUE,
                                      .glue_compression =
                                          c ? EVB_WIRE_GLUE_COMPRESSION_ZLIB
                                            : EVB_WIRE_GLUE_COMPRESSION_NONE};
        evb_buf_reset(&out);
        assert_int_equal(evb_serde_encode(&w2, &eo, js, strlen(js), &out,
                                          f->err, sizeof f->err),
                         0);
        assert_int_equal((uint8_t)out.data[0], 3);
        assert_int_equal((uint8_t)out.data[1], eo.glue_compression);
        assert_memory_equal(out.data + 2, w2.uuid, 16);
        assert_int_equal(dec(f, f->serde, out.data, out.len, NULL, &info), 0);
        assert_string_equal(f->out.data, "{\"a\":5,\"b\":\"x\"}");
        assert_int_equal(info.wire, EVB_WIRE_GLUE);
        assert_int_equal(info.schema_id, w2.id);
        assert_int_equal(info.glue_compression, eo.glue_compression);
    }
    /* Glue needs a UUID; bad JSON; JSON that does not fit; strict */
    evb_serde_encode_opts_t glue = {.wire = EVB_WIRE_GLUE};
    evb_buf_reset(&out);
    assert_int_equal(evb_serde_encode(&w3, &glue, js, strlen(js), &out, f->err,
                                      sizeof f->err),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(f->err, "UUID"));
    assert_int_equal(out.len, 0);
    assert_int_equal(
        evb_serde_encode(&w1, NULL, "{\"a\":", 5, &out, f->err, sizeof f->err),
        EVB_ERR_INVALID_JSON);
    assert_int_equal(out.len, 0);
    assert_int_equal(evb_serde_encode(&w1, NULL, "{\"a\":\"x\"}", 9, &out,
                                      f->err, sizeof f->err),
                     EVB_ERR_INVALID_ARG);
    assert_int_equal(out.len, 0);
    evb_serde_encode_opts_t strict = {.flags = EVB_AVRO_STRICT};
    assert_int_equal(evb_serde_encode(&w1, &strict, "{\"a\":1,\"z\":2}", 13,
                                      &out, f->err, sizeof f->err),
                     EVB_ERR_INVALID_ARG);
    assert_int_equal(evb_serde_encode(&w1, NULL, "{\"a\":1,\"z\":2}", 13, &out,
                                      f->err, sizeof f->err),
                     0);
    evb_serde_writer_t empty = {0};
    assert_int_equal(evb_serde_encode(&empty, NULL, js, strlen(js), &out,
                                      f->err, sizeof f->err),
                     EVB_ERR_INVALID_ARG);
    evb_serde_writer_clear(&empty);
    evb_buf_free(&out);
    evb_serde_writer_clear(&w1);
    evb_serde_writer_clear(&w2);
    evb_serde_writer_clear(&w3);
    evb_serde_writer_clear(&w4);
}

/* ---- an external registry
 * ------------------------------------------------------- */

static void test_external_registry(void **state) {
    fixture_t *f = *state;
    evb_test_registry_server_t sv;
    evb_test_registry_server_start(f->store, f->reg, &sv);
    evb_serde_t *prod, *cons;
    evb_serde_config_t cfg = {.registry_url = sv.url, .timeout_ms = 5000};
    assert_int_equal(evb_serde_new(&cfg, &prod, f->err, sizeof f->err), 0);
    assert_int_equal(evb_serde_new(&cfg, &cons, f->err, sizeof f->err), 0);
    assert_true(evb_serde_has_registry(prod));

    /* register over HTTP, encode, decode with another codec */
    evb_serde_writer_t w;
    evb_registry_err_t rerr;
    assert_int_equal(evb_serde_writer_register(prod, "ext-value", RICH,
                                               strlen(RICH), 0, &w, &rerr,
                                               f->err, sizeof f->err),
                     0);
    assert_false(w.has_uuid); /* not asked for */
    int32_t id = w.id;
    evb_buf_t framed;
    evb_buf_init(&framed, 0);
    assert_int_equal(evb_serde_encode(&w, NULL, RICH_JSON, strlen(RICH_JSON),
                                      &framed, f->err, sizeof f->err),
                     0);
    evb_serde_writer_clear(&w);
    evb_serde_info_t info;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(dec(f, cons, framed.data, framed.len, NULL, &info), 0);
        assert_string_equal(f->out.data, RICH_JSON);
        assert_int_equal(info.schema_id, id);
    }
    evb_serde_stats_t st;
    evb_serde_get_stats(cons, &st);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.hits, 2);

    /* the in-process registry sees what was registered over HTTP */
    evb_serde_writer_t local;
    assert_int_equal(evb_serde_writer_version(
                         f->serde, "ext-value", EVB_REGISTRY_VERSION_LATEST, 0,
                         &local, &rerr, f->err, sizeof f->err),
                     0);
    assert_int_equal(local.id, id);

    /* with the UUID flag: the subject version's UUID, over evbus's
     * extension endpoints; Glue values decode through GET
     * /schemas/uuids/{uuid} */
    assert_int_equal(evb_serde_writer_register(prod, "ext-value", RICH,
                                               strlen(RICH),
                                               EVB_SERDE_WRITER_UUID, &w, &rerr,
                                               f->err, sizeof f->err),
                     0);
    assert_true(w.has_uuid);
    assert_int_equal(w.version, 1);
    assert_memory_equal(w.uuid, local.uuid, 16);
    evb_serde_writer_clear(&w);
    assert_int_equal(evb_serde_writer_version(prod, "ext-value",
                                              EVB_REGISTRY_VERSION_LATEST,
                                              EVB_SERDE_WRITER_UUID, &w, &rerr,
                                              f->err, sizeof f->err),
                     0);
    assert_memory_equal(w.uuid, local.uuid, 16);
    evb_serde_encode_opts_t eo = {.wire = EVB_WIRE_GLUE,
                                  .glue_compression =
                                      EVB_WIRE_GLUE_COMPRESSION_ZLIB};
    evb_buf_t glue;
    evb_buf_init(&glue, 0);
    assert_int_equal(evb_serde_encode(&w, &eo, RICH_JSON, strlen(RICH_JSON),
                                      &glue, f->err, sizeof f->err),
                     0);
    evb_serde_writer_clear(&w);
    evb_serde_t *cons2;
    assert_int_equal(evb_serde_new(&cfg, &cons2, f->err, sizeof f->err), 0);
    assert_int_equal(dec(f, cons2, glue.data, glue.len, NULL, &info), 0);
    evb_buf_free(&glue);
    assert_string_equal(f->out.data, RICH_JSON);
    assert_int_equal(info.schema_id, id);
    /* the UUID's schema also answers its id now, no second request */
    evb_avro_schema_t *sch;
    assert_int_equal(
        evb_serde_schema_by_id(cons2, id, &sch, NULL, f->err, sizeof f->err),
        0);
    evb_avro_schema_unref(sch);
    evb_serde_get_stats(cons2, &st);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.hits, 1);
    evb_serde_free(cons2);

    /* unknown id and UUID: 40403 from the remote */
    const uint8_t v[] = {0, 0, 0, 0x30, 0x39, 0};
    assert_int_equal(dec(f, cons, v, sizeof v, NULL, &info), EVB_ERR_NOT_FOUND);
    assert_int_equal(info.registry_err, EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND);
    assert_non_null(strstr(f->err, "40403"));
    uint8_t g[19] = {3, 0};
    memset(g + 2, 0x42, 16);
    assert_int_equal(dec(f, cons, g, sizeof g, NULL, &info), EVB_ERR_NOT_FOUND);
    assert_int_equal(info.registry_err, EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND);
    /* remote refusals */
    const char *bad = "\"string\"";
    assert_int_equal(evb_serde_writer_register(prod, "ext-value", bad,
                                               strlen(bad), 0, &w, &rerr,
                                               f->err, sizeof f->err),
                     EVB_ERR_INVALID_ARG);
    assert_int_equal(rerr, EVB_REGISTRY_ERR_INCOMPATIBLE);
    assert_int_equal(evb_serde_writer_version(prod, "none-value",
                                              EVB_REGISTRY_VERSION_LATEST, 0,
                                              &w, &rerr, f->err, sizeof f->err),
                     EVB_ERR_NOT_FOUND);
    assert_int_equal(rerr, EVB_REGISTRY_ERR_SUBJECT_NOT_FOUND);

    /* the registry goes away: cached schemas keep decoding, new ids are
     * transport errors (EVB_ERR_IO) and are not remembered */
    evb_test_registry_server_stop(&sv);
    assert_int_equal(dec(f, cons, framed.data, framed.len, NULL, &info), 0);
    const uint8_t v2[] = {0, 0, 0, 0x30, 0x3a, 0};
    evb_serde_get_stats(cons, &st);
    uint64_t neg = st.negative;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(dec(f, cons, v2, sizeof v2, NULL, &info), EVB_ERR_IO);
        assert_int_equal(info.registry_err, EVB_REGISTRY_ERR_TRANSPORT);
    }
    evb_serde_get_stats(cons, &st);
    assert_int_equal(st.negative, neg);

    evb_serde_writer_clear(&local);
    evb_serde_free(prod);
    evb_serde_free(cons);
    evb_buf_free(&framed);

    /* configuration errors */
    evb_serde_t *x;
    evb_serde_config_t both = {.registry = f->reg, .registry_url = "http://a"};
    assert_int_equal(evb_serde_new(&both, &x, f->err, sizeof f->err),
                     EVB_ERR_INVALID_ARG);
    evb_serde_config_t ftp = {.registry_url = "ftp://127.0.0.1/"};
    assert_int_equal(evb_serde_new(&ftp, &x, f->err, sizeof f->err),
                     EVB_ERR_INVALID_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_confluent_roundtrip_and_cache_hits,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_ids_and_remembered_misses,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_detection_and_raw_modes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded_cache_eviction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_decode, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writers_and_encoding, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_external_registry, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
