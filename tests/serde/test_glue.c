/*
 * test_glue.c: AWS Glue-framed record values (header version 3,
 * compression 0 or 5 = zlib, 16-byte schema version UUID) resolve their
 * schema through evbus's registry UUIDs (evb_registry_lookup_uuid) and
 * decode, through the codec (src/serde). The frames are built here by
 * hand (zlib's compress2 at the default level, as Java's Deflater), not
 * with evbus's own encoder, so the decoder is checked against the format,
 * not against itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "registry/registry.h"
#include "serde/serde.h"
#include "store/store.h"

#define SCHEMA_DIR EVB_TEST_DATA_DIR "/../../demo/fraud/schemas"

typedef struct fixture {
    char dir[64];
    evb_store_t *store;
    evb_registry_t *reg;
    evb_serde_t *serde;
    evb_buf_t out, msg;
    char err[512];
} fixture_t;

static int setup(void **state) {
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/evb-glue-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char errstr[256];
    evb_store_opts_t o = {.dir = f->dir, .no_sync = true};
    evb_serde_config_t cfg;
    if (evb_store_open(&o, &f->store, errstr, sizeof errstr) ||
        evb_registry_open(f->store, &f->reg, errstr, sizeof errstr))
        return -1;
    cfg = (evb_serde_config_t){.registry = f->reg};
    if (evb_serde_new(&cfg, &f->serde, errstr, sizeof errstr))
        return -1;
    evb_buf_init(&f->out, 0);
    evb_buf_init(&f->msg, 0);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    evb_serde_free(f->serde);
    evb_registry_close(f->reg);
    evb_store_close(f->store);
    evb_buf_free(&f->out);
    evb_buf_free(&f->msg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static char *read_text(const char *path, size_t *len) {
    evb_buf_t b;
    evb_buf_init(&b, 0);
    char err[256];
    assert_int_equal(evb_buf_read_file(&b, path, err, sizeof err), 0);
    *len = b.len;
    return b.data;
}

/* Register schema under subject; *uuid gets the new version's UUID. */
static int32_t reg(fixture_t *f, const char *subject, const char *schema,
                   size_t len, uint8_t uuid[16]) {
    evb_registry_register_req_t rq = {
        .subject = subject, .schema = schema, .schema_len = len};
    int32_t id, version;
    assert_int_equal(evb_registry_register(f->reg, &rq, &id, &version, &f->msg),
                     0);
    evb_registry_schema_t s;
    assert_int_equal(
        evb_registry_get_version(f->reg, subject, version, false, &s, &f->msg),
        0);
    memcpy(uuid, s.uuid, 16);
    evb_registry_schema_clear(&s);
    /* the registry resolves the UUID back to this subject version */
    assert_int_equal(evb_registry_lookup_uuid(f->reg, uuid, &s, &f->msg), 0);
    assert_int_equal(s.id, id);
    assert_string_equal(s.subject, subject);
    assert_int_equal(s.version, version);
    evb_registry_schema_clear(&s);
    return id;
}

/* The Avro binary datum of json under schema text. */
static void datum(const char *schema, size_t slen, const char *json,
                  evb_buf_t *out) {
    evb_avro_schema_t *s;
    char err[512];
    assert_int_equal(evb_avro_schema_parse(schema, slen, &s, err, sizeof err),
                     0);
    evb_buf_reset(out);
    assert_int_equal(
        evb_avro_from_json(s, json, strlen(json), 0, out, err, sizeof err), 0);
    evb_avro_schema_unref(s);
}

/* [3][compression][uuid][payload, zlib-compressed when compression is 5] */
static void glue_frame(const uint8_t uuid[16], int compression,
                       const evb_buf_t *payload, evb_buf_t *out) {
    evb_buf_reset(out);
    uint8_t h[2] = {3, (uint8_t)compression};
    evb_buf_append(out, h, 2);
    evb_buf_append(out, uuid, 16);
    if (compression == 0) {
        evb_buf_append(out, payload->data, payload->len);
        return;
    }
    uLongf n = compressBound(payload->len);
    Bytef *z = malloc(n);
    assert_non_null(z);
    assert_int_equal(compress2(z, &n, (const Bytef *)payload->data,
                               payload->len, Z_DEFAULT_COMPRESSION),
                     Z_OK);
    evb_buf_append(out, z, n);
    free(z);
}

#define TX_JSON                                                                \
    "{\"creditCard\":\"4111-1111-1111-1111\",\"firstName\":\"Chlo\xc3\xa9\","  \
    "\"id\":\"3.1.4\",\"lastName\":\"O'Brien\",\"streetAddress\":null,"        \
    "\"total\":\"153.27\",\"userId\":\"123-45-6789\",\"merchant\":\"Fuel&"     \
    "Go\","                                                                    \
    "\"category\":\"fuel\",\"country\":\"US\",\"latitude\":40.7128,"           \
    "\"longitude\":-74.006,\"timestamp\":1700000000000}"

static void test_glue_values_resolve_through_registry_uuids(void **state) {
    fixture_t *f = *state;
    size_t slen;
    char *tx = read_text(SCHEMA_DIR "/transaction.avsc", &slen);
    uint8_t uuid[16];
    int32_t id = reg(f, "transactions-value", tx, slen, uuid);
    evb_buf_t payload, frame;
    evb_buf_init(&payload, 0);
    evb_buf_init(&frame, 0);
    datum(tx, slen, TX_JSON, &payload);
    for (int c = 0; c <= 5; c += 5) {
        glue_frame(uuid, c, &payload, &frame);
        for (int forced = 0; forced < 2; forced++) {
            evb_serde_decode_opts_t o = {.mode = forced ? EVB_SERDE_MODE_GLUE
                                                        : EVB_SERDE_MODE_AUTO};
            evb_serde_info_t info;
            evb_buf_reset(&f->out);
            assert_int_equal(evb_serde_decode(f->serde, frame.data, frame.len,
                                              &o, &f->out, &info, f->err,
                                              sizeof f->err),
                             0);
            assert_string_equal(f->out.data, TX_JSON);
            assert_int_equal(info.kind, EVB_SERDE_KIND_AVRO);
            assert_int_equal(info.wire, EVB_WIRE_GLUE);
            assert_int_equal(info.glue_compression, c);
            assert_memory_equal(info.glue_uuid, uuid, 16);
            assert_int_equal(info.schema_id, id);
        }
    }
    /* the UUID's lookup is cached; the id came with it */
    evb_serde_stats_t st;
    evb_serde_get_stats(f->serde, &st);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.hits, 3);
    evb_avro_schema_t *s;
    int32_t got;
    assert_int_equal(evb_serde_schema_by_uuid(f->serde, uuid, &s, &got, NULL,
                                              f->err, sizeof f->err),
                     0);
    assert_int_equal(got, id);
    assert_string_equal(evb_avro_schema_name(s),
                        "software.amazon.event.kafkaconnector.Event");
    evb_avro_schema_unref(s);
    free(tx);
    evb_buf_free(&payload);
    evb_buf_free(&frame);
}

static void test_glue_versions_subjects_and_deletes(void **state) {
    fixture_t *f = *state;
    /* the fraud demo's first notification schema (inline: the demo's
     * file gains fields over time), then v2 with one more field */
    const char *nt =
        "{\"type\":\"record\",\"name\":\"Notification\",\"fields\":["
        "{\"name\":\"source\",\"type\":\"string\"},"
        "{\"name\":\"eventType\",\"type\":\"string\"},"
        "{\"name\":\"eventDetail\",\"type\":{\"type\":\"record\",\"name\":"
        "\"EventDetail\",\"fields\":[{\"name\":\"userId\",\"type\":\"string\"},"
        "{\"name\":\"total\",\"type\":\"double\"}]}},"
        "{\"name\":\"ruleId\",\"type\":[\"null\",\"string\"],\"default\":null},"
        "{\"name\":\"cardId\",\"type\":[\"null\",\"string\"],\"default\":null},"
        "{\"name\":\"score\",\"type\":[\"null\",\"double\"],\"default\":null},"
        "{\"name\":\"reason\",\"type\":[\"null\",\"string\"],\"default\":null}]"
        "}";
    size_t nlen = strlen(nt);
    const char *v2 =
        "{\"type\":\"record\",\"name\":\"Notification\",\"fields\":["
        "{\"name\":\"source\",\"type\":\"string\"},"
        "{\"name\":\"eventType\",\"type\":\"string\"},"
        "{\"name\":\"eventDetail\",\"type\":{\"type\":\"record\",\"name\":"
        "\"EventDetail\",\"fields\":[{\"name\":\"userId\",\"type\":\"string\"},"
        "{\"name\":\"total\",\"type\":\"double\"}]}},"
        "{\"name\":\"ruleId\",\"type\":[\"null\",\"string\"],\"default\":null},"
        "{\"name\":\"cardId\",\"type\":[\"null\",\"string\"],\"default\":null},"
        "{\"name\":\"score\",\"type\":[\"null\",\"double\"],\"default\":null},"
        "{\"name\":\"reason\",\"type\":[\"null\",\"string\"],\"default\":null},"
        "{\"name\":\"severity\",\"type\":{\"type\":\"enum\",\"name\":\"Sev\","
        "\"symbols\":[\"LOW\",\"HIGH\"]},\"default\":\"LOW\"}]}";
    uint8_t u1[16], u2[16], u3[16];
    int32_t id1 = reg(f, "notifications-value", nt, nlen, u1);
    int32_t id2 = reg(f, "notifications-value", v2, strlen(v2), u2);
    /* the same schema under another subject: same id, its own UUID */
    int32_t id3 = reg(f, "alerts-value", nt, nlen, u3);
    assert_int_not_equal(id1, id2);
    assert_int_equal(id1, id3);
    assert_memory_not_equal(u1, u2, 16);
    assert_memory_not_equal(u1, u3, 16);

    const char *j1 = "{\"source\":\"fraud\",\"eventType\":\"suspicious\","
                     "\"eventDetail\":{\"userId\":\"u1\",\"total\":1999.0},"
                     "\"ruleId\":\"R0-amount-threshold\",\"cardId\":null,"
                     "\"score\":4.25,\"reason\":null}";
    const char *j2 = "{\"source\":\"fraud\",\"eventType\":\"suspicious\","
                     "\"eventDetail\":{\"userId\":\"u1\",\"total\":1999.0},"
                     "\"ruleId\":null,\"cardId\":\"c9\",\"score\":null,"
                     "\"reason\":\"velocity\",\"severity\":\"HIGH\"}";
    evb_buf_t payload, frame;
    evb_buf_init(&payload, 0);
    evb_buf_init(&frame, 0);
    struct {
        const uint8_t *uuid;
        const char *schema, *json;
        int32_t id;
    } cases[] = {{u1, nt, j1, id1}, {u2, v2, j2, id2}, {u3, nt, j1, id1}};
    for (size_t i = 0; i < EVB_ARRAY_LEN(cases); i++) {
        datum(cases[i].schema, strlen(cases[i].schema), cases[i].json,
              &payload);
        glue_frame(cases[i].uuid, i == 1 ? 5 : 0, &payload, &frame);
        evb_serde_info_t info;
        evb_buf_reset(&f->out);
        assert_int_equal(evb_serde_decode(f->serde, frame.data, frame.len, NULL,
                                          &f->out, &info, f->err,
                                          sizeof f->err),
                         0);
        assert_string_equal(f->out.data, cases[i].json);
        assert_int_equal(info.schema_id, cases[i].id);
    }

    /* a soft-deleted version's UUID still resolves (in a fresh codec) */
    int32_t deleted;
    assert_int_equal(evb_registry_delete_version(f->reg, "alerts-value", 1,
                                                 false, &deleted, &f->msg),
                     0);
    evb_serde_t *s2;
    evb_serde_config_t cfg = {.registry = f->reg};
    assert_int_equal(evb_serde_new(&cfg, &s2, f->err, sizeof f->err), 0);
    datum(nt, nlen, j1, &payload);
    glue_frame(u3, 5, &payload, &frame);
    evb_buf_reset(&f->out);
    assert_int_equal(evb_serde_decode(s2, frame.data, frame.len, NULL, &f->out,
                                      NULL, f->err, sizeof f->err),
                     0);
    assert_string_equal(f->out.data, j1);

    /* an unknown UUID: 40403, not a crash; output untouched */
    uint8_t unknown[16];
    memset(unknown, 0x5a, 16);
    glue_frame(unknown, 5, &payload, &frame);
    evb_serde_info_t info;
    evb_buf_reset(&f->out);
    assert_int_equal(evb_serde_decode(s2, frame.data, frame.len, NULL, &f->out,
                                      &info, f->err, sizeof f->err),
                     EVB_ERR_NOT_FOUND);
    assert_int_equal(info.registry_err, EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND);
    assert_non_null(strstr(f->err, "5a5a5a5a-5a5a-5a5a-5a5a-5a5a5a5a5a5a"));
    assert_int_equal(f->out.len, 0);

    /* a zlib stream cut short, and trailing bytes after it */
    glue_frame(u1, 5, &payload, &frame);
    assert_int_equal(evb_serde_decode(s2, frame.data, frame.len - 3, NULL,
                                      &f->out, NULL, f->err, sizeof f->err),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(f->err, "zlib"));
    evb_buf_append(&frame, "xx", 2);
    assert_int_equal(evb_serde_decode(s2, frame.data, frame.len, NULL, &f->out,
                                      NULL, f->err, sizeof f->err),
                     EVB_ERR_INVALID_ARG);
    assert_int_equal(f->out.len, 0);
    evb_serde_free(s2);
    evb_buf_free(&payload);
    evb_buf_free(&frame);
}

/* A large value: the zlib stream inflates over several output chunks, and
 * the payload bound is enforced. */
static void test_glue_large_compressed_value(void **state) {
    fixture_t *f = *state;
    const char *schema = "{\"type\":\"record\",\"name\":\"Blob\",\"fields\":["
                         "{\"name\":\"text\",\"type\":\"string\"}]}";
    uint8_t uuid[16];
    reg(f, "blobs-value", schema, strlen(schema), uuid);
    size_t n = 300000;
    char *json = malloc(n + 32);
    assert_non_null(json);
    memcpy(json, "{\"text\":\"", 9);
    for (size_t i = 0; i < n; i++)
        json[9 + i] = (char)('a' + i % 26);
    memcpy(json + 9 + n, "\"}", 3);
    evb_buf_t payload, frame;
    evb_buf_init(&payload, 0);
    evb_buf_init(&frame, 0);
    datum(schema, strlen(schema), json, &payload);
    glue_frame(uuid, 5, &payload, &frame);
    assert_true(frame.len < payload.len / 10);
    evb_buf_reset(&f->out);
    assert_int_equal(evb_serde_decode(f->serde, frame.data, frame.len, NULL,
                                      &f->out, NULL, f->err, sizeof f->err),
                     0);
    assert_string_equal(f->out.data, json);
    evb_serde_decode_opts_t o = {.max_payload = 100000};
    evb_buf_reset(&f->out);
    assert_int_equal(evb_serde_decode(f->serde, frame.data, frame.len, &o,
                                      &f->out, NULL, f->err, sizeof f->err),
                     EVB_ERR_TOO_LARGE);
    assert_int_equal(f->out.len, 0);
    free(json);
    evb_buf_free(&payload);
    evb_buf_free(&frame);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_glue_values_resolve_through_registry_uuids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_glue_versions_subjects_and_deletes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_glue_large_compressed_value, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
