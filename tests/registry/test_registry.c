/*
 * test_registry.c: the schema registry in the store (ids, versions,
 * equality, compatibility levels including the transitive ones, soft and
 * permanent deletes, UUIDs, configuration and modes, concurrency), and
 * the libcurl client against evbus's own registry served by an HTTP
 * server this test starts on 127.0.0.1 (ephemeral port).
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

#include "registry/registry.h"
#include "store/store.h"
#include "support/registry_server.h"

typedef struct fixture {
    char dir[64];
    evb_store_t *store;
    evb_registry_t *reg;
    evb_buf_t msg;
} fixture_t;

static int setup(void **state) {
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/evb-registry-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char errstr[256];
    evb_store_opts_t o = {.dir = f->dir, .no_sync = true};
    if (evb_store_open(&o, &f->store, errstr, sizeof errstr) ||
        evb_registry_open(f->store, &f->reg, errstr, sizeof errstr))
        return -1;
    evb_buf_init(&f->msg, 0);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    evb_registry_close(f->reg);
    evb_store_close(f->store);
    evb_buf_free(&f->msg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

#define REC1 "{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}"
/* REC1 with b (default "x") */
#define REC2                                                                   \
    "{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"a\","         \
    "\"type\":\"int\"},{\"name\":\"b\",\"type\":\"string\",\"default\":\"x\"}]}"
/* REC1 with b (no default) */
#define REC3                                                                   \
    "{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"a\","         \
    "\"type\":\"int\"},{\"name\":\"b\",\"type\":\"string\"}]}"

static evb_registry_err_t reg(fixture_t *f, const char *subject,
                              const char *schema, int32_t *id, int32_t *ver) {
    evb_registry_register_req_t rq = {
        .subject = subject, .schema = schema, .schema_len = strlen(schema)};
    return evb_registry_register(f->reg, &rq, id, ver, &f->msg);
}

static void test_register_ids_and_versions(void **state) {
    fixture_t *f = *state;
    int32_t id, v;
    assert_int_equal(reg(f, "a-value", REC1, &id, &v), 0);
    assert_int_equal(id, 1);
    assert_int_equal(v, 1);
    /* idempotent */
    assert_int_equal(reg(f, "a-value", REC1, &id, &v), 0);
    assert_int_equal(id, 1);
    assert_int_equal(v, 1);
    /* the same schema, laid out differently and documented, under another
     * subject: the same id, version 1 there */
    const char *same = " { \"fields\": [ {\"type\": {\"type\":\"int\"}, "
                       "\"name\": \"a\", \"doc\": \"words\"} ], \"name\": "
                       "\"T\", \"type\": \"record\" }";
    assert_int_equal(reg(f, "b-value", same, &id, &v), 0);
    assert_int_equal(id, 1);
    assert_int_equal(v, 1);
    /* a new schema: id 2, version 2 */
    assert_int_equal(reg(f, "a-value", REC2, &id, &v), 0);
    assert_int_equal(id, 2);
    assert_int_equal(v, 2);
    /* REC3 differs from REC2 only by the default: another id */
    evb_registry_compat_t none = EVB_REGISTRY_COMPAT_NONE;
    assert_int_equal(evb_registry_set_compat(f->reg, "c", none, &f->msg), 0);
    assert_int_equal(reg(f, "c", REC3, &id, &v), 0);
    assert_int_equal(id, 3);

    char **subjects;
    assert_int_equal(evb_registry_list_subjects(f->reg, false, &subjects, NULL),
                     0);
    assert_string_equal(subjects[0], "a-value");
    assert_string_equal(subjects[1], "b-value");
    assert_string_equal(subjects[2], "c");
    assert_null(subjects[3]);
    evb_registry_strv_free(subjects);

    int32_t *vs;
    size_t n;
    assert_int_equal(evb_registry_list_versions(f->reg, "a-value", false, &vs,
                                                &n, NULL),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(vs[0], 1);
    assert_int_equal(vs[1], 2);
    free(vs);

    evb_registry_schema_t s;
    assert_int_equal(evb_registry_get_version(f->reg, "a-value",
                                              EVB_REGISTRY_VERSION_LATEST,
                                              false, &s, NULL),
                     0);
    assert_int_equal(s.version, 2);
    assert_int_equal(s.id, 2);
    assert_string_equal(s.subject, "a-value");
    assert_string_equal(s.schema, REC2);
    uint8_t uuid[16];
    memcpy(uuid, s.uuid, 16);
    evb_registry_schema_clear(&s);
    /* the UUID resolves to that subject version */
    assert_int_equal(evb_registry_lookup_uuid(f->reg, uuid, &s, NULL), 0);
    assert_string_equal(s.subject, "a-value");
    assert_int_equal(s.version, 2);
    assert_int_equal(s.id, 2);
    assert_string_equal(s.schema, REC2);
    evb_registry_schema_clear(&s);
    uuid[0] ^= 0xff;
    assert_int_equal(evb_registry_lookup_uuid(f->reg, uuid, &s, &f->msg),
                     EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND);

    /* by id: the text first registered */
    assert_int_equal(evb_registry_lookup_id(f->reg, 1, &s, NULL), 0);
    assert_string_equal(s.schema, REC1);
    assert_string_equal(s.type, "AVRO");
    evb_registry_schema_clear(&s);
    assert_int_equal(evb_registry_lookup_id(f->reg, 1, &s, NULL), 0); /* cached */
    assert_string_equal(s.schema, REC1);
    evb_registry_schema_clear(&s);
    assert_int_equal(evb_registry_lookup_id(f->reg, 99, &s, &f->msg),
                     EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND);
    assert_string_equal(f->msg.data, "Schema 99 not found");

    evb_registry_subject_version_t *pairs;
    assert_int_equal(evb_registry_id_versions(f->reg, 1, false, &pairs, &n,
                                              NULL),
                     0);
    assert_int_equal(n, 2);
    assert_string_equal(pairs[0].subject, "a-value");
    assert_string_equal(pairs[1].subject, "b-value");
    evb_registry_subject_versions_free(pairs, n);

    /* lookup by schema under a subject */
    assert_int_equal(evb_registry_lookup_schema(f->reg, "b-value", REC1,
                                                strlen(REC1), NULL, false, &s,
                                                NULL),
                     0);
    assert_int_equal(s.id, 1);
    assert_int_equal(s.version, 1);
    evb_registry_schema_clear(&s);
    assert_int_equal(evb_registry_lookup_schema(f->reg, "b-value", REC2,
                                                strlen(REC2), NULL, false, &s,
                                                &f->msg),
                     EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND);
    assert_string_equal(f->msg.data, "Schema not found");
    assert_int_equal(evb_registry_lookup_schema(f->reg, "zz", REC2,
                                                strlen(REC2), NULL, false, &s,
                                                &f->msg),
                     EVB_REGISTRY_ERR_SUBJECT_NOT_FOUND);
    assert_string_equal(f->msg.data, "Subject 'zz' not found.");
}

static void test_errors(void **state) {
    fixture_t *f = *state;
    int32_t id, v;
    assert_int_equal(reg(f, "s", "{\"type\":\"nope\"}", &id, &v),
                     EVB_REGISTRY_ERR_INVALID_SCHEMA);
    assert_non_null(strstr(f->msg.data, "Invalid schema"));
    assert_non_null(strstr(f->msg.data, "Type not supported: nope"));
    evb_registry_register_req_t rq = {.subject = "s",
                                      .schema = "\"int\"",
                                      .schema_len = 5,
                                      .schema_type = "PROTOBUF"};
    assert_int_equal(evb_registry_register(f->reg, &rq, &id, NULL, &f->msg),
                     EVB_REGISTRY_ERR_INVALID_SCHEMA);
    assert_string_equal(f->msg.data, "Invalid schema type PROTOBUF");
    rq.schema_type = NULL;
    rq.subject = "bad\nsubject";
    assert_int_equal(evb_registry_register(f->reg, &rq, &id, NULL, &f->msg),
                     EVB_REGISTRY_ERR_INVALID_SUBJECT);
    evb_registry_schema_t s;
    assert_int_equal(evb_registry_get_version(f->reg, "s", 1, false, &s,
                                              &f->msg),
                     EVB_REGISTRY_ERR_SUBJECT_NOT_FOUND);
    assert_int_equal(reg(f, "s", "\"int\"", &id, &v), 0);
    assert_int_equal(evb_registry_get_version(f->reg, "s", 7, false, &s,
                                              &f->msg),
                     EVB_REGISTRY_ERR_VERSION_NOT_FOUND);
    assert_string_equal(f->msg.data, "Version 7 not found.");
    /* incompatible under the default BACKWARD: Confluent's message */
    assert_int_equal(reg(f, "s", "\"string\"", &id, &v),
                     EVB_REGISTRY_ERR_INCOMPATIBLE);
    assert_string_equal(
        f->msg.data,
        "Schema being registered is incompatible with an earlier schema for "
        "subject \"s\", details: [{errorType:'TYPE_MISMATCH', "
        "description:'The type (path '/') of a field in the new schema does "
        "not match with the old schema', additionalInfo:'reader type: STRING "
        "not compatible with writer type: INT'}, {oldSchemaVersion: 1}, "
        "{oldSchema: '\"int\"'}, {validateFields: 'false', compatibility: "
        "'BACKWARD'}]");
    /* promotion allowed */
    assert_int_equal(reg(f, "s", "\"long\"", &id, &v), 0);
    assert_int_equal(v, 2);
}

/* BACKWARD checks the latest version only, BACKWARD_TRANSITIVE all. */
static void test_transitive_levels(void **state) {
    fixture_t *f = *state;
    int32_t id, v;
    /* backward: REC3 reads REC2's data but not REC1's */
    assert_int_equal(reg(f, "bt", REC1, &id, &v), 0);
    assert_int_equal(reg(f, "bt", REC2, &id, &v), 0);
    assert_int_equal(evb_registry_set_compat(
                         f->reg, "bt", EVB_REGISTRY_COMPAT_BACKWARD_TRANSITIVE,
                         NULL),
                     0);
    assert_int_equal(reg(f, "bt", REC3, &id, &v),
                     EVB_REGISTRY_ERR_INCOMPATIBLE);
    assert_non_null(strstr(f->msg.data, "{oldSchemaVersion: 1}"));
    assert_non_null(strstr(f->msg.data, "compatibility: 'BACKWARD_TRANSITIVE'"));
    bool ok;
    assert_int_equal(evb_registry_test_compatibility(f->reg, "bt", 2, REC3,
                                                     strlen(REC3), NULL, &ok,
                                                     NULL, NULL),
                     0);
    assert_true(ok); /* against version 2 alone */
    assert_int_equal(evb_registry_test_compatibility(f->reg, "bt", 0, REC3,
                                                     strlen(REC3), NULL, &ok,
                                                     NULL, NULL),
                     0);
    assert_false(ok); /* against every version the level names */
    assert_int_equal(evb_registry_set_compat(f->reg, "bt",
                                             EVB_REGISTRY_COMPAT_BACKWARD,
                                             NULL),
                     0);
    assert_int_equal(reg(f, "bt", REC3, &id, &v), 0);
    assert_int_equal(v, 3);

    /* forward: REC2 (with a default) reads REC1's shape; REC3 does not */
    assert_int_equal(evb_registry_set_compat(
                         f->reg, "ft", EVB_REGISTRY_COMPAT_FORWARD_TRANSITIVE,
                         NULL),
                     0);
    assert_int_equal(reg(f, "ft", REC3, &id, &v), 0);
    assert_int_equal(reg(f, "ft", REC2, &id, &v), 0);
    assert_int_equal(reg(f, "ft", REC1, &id, &v),
                     EVB_REGISTRY_ERR_INCOMPATIBLE);
    assert_non_null(strstr(f->msg.data, "in the old schema has no default"));
    assert_int_equal(evb_registry_set_compat(f->reg, "ft",
                                             EVB_REGISTRY_COMPAT_FORWARD, NULL),
                     0);
    assert_int_equal(reg(f, "ft", REC1, &id, &v), 0);

    /* full transitive */
    assert_int_equal(evb_registry_set_compat(
                         f->reg, "fu", EVB_REGISTRY_COMPAT_FULL_TRANSITIVE,
                         NULL),
                     0);
    assert_int_equal(reg(f, "fu", REC1, &id, &v), 0);
    assert_int_equal(reg(f, "fu", REC2, &id, &v), 0);
    assert_int_equal(reg(f, "fu", REC3, &id, &v),
                     EVB_REGISTRY_ERR_INCOMPATIBLE);
    /* NONE accepts anything */
    assert_int_equal(evb_registry_set_compat(f->reg, "fu",
                                             EVB_REGISTRY_COMPAT_NONE, NULL),
                     0);
    assert_int_equal(reg(f, "fu", "\"string\"", &id, &v), 0);
}

static void test_deletes(void **state) {
    fixture_t *f = *state;
    int32_t id, v, deleted;
    assert_int_equal(reg(f, "d", REC1, &id, &v), 0);
    assert_int_equal(reg(f, "d", REC2, &id, &v), 0);
    assert_int_equal(id, 2);
    /* permanent before soft is refused */
    assert_int_equal(evb_registry_delete_version(f->reg, "d", 2, true,
                                                 &deleted, &f->msg),
                     EVB_REGISTRY_ERR_VERSION_NOT_SOFT_DELETED);
    assert_string_equal(f->msg.data,
                        "Subject 'd' Version 2 was not deleted first before "
                        "being permanently deleted");
    assert_int_equal(evb_registry_delete_version(f->reg, "d",
                                                 EVB_REGISTRY_VERSION_LATEST,
                                                 false, &deleted, NULL),
                     0);
    assert_int_equal(deleted, 2);
    assert_int_equal(evb_registry_delete_version(f->reg, "d", 2, false,
                                                 &deleted, &f->msg),
                     EVB_REGISTRY_ERR_VERSION_SOFT_DELETED);
    assert_string_equal(f->msg.data,
                        "Subject 'd' Version 2 was soft deleted.Set "
                        "permanent=true to delete permanently");
    /* soft-deleted: not listed, not latest, but its id still resolves */
    int32_t *vs;
    size_t n;
    assert_int_equal(evb_registry_list_versions(f->reg, "d", false, &vs, &n,
                                                NULL),
                     0);
    assert_int_equal(n, 1);
    free(vs);
    assert_int_equal(evb_registry_list_versions(f->reg, "d", true, &vs, &n,
                                                NULL),
                     0);
    assert_int_equal(n, 2);
    free(vs);
    evb_registry_schema_t s;
    assert_int_equal(evb_registry_get_version(f->reg, "d",
                                              EVB_REGISTRY_VERSION_LATEST,
                                              false, &s, NULL),
                     0);
    assert_int_equal(s.version, 1);
    evb_registry_schema_clear(&s);
    assert_int_equal(evb_registry_get_version(f->reg, "d", 2, false, &s,
                                              &f->msg),
                     EVB_REGISTRY_ERR_VERSION_NOT_FOUND);
    assert_int_equal(evb_registry_get_version(f->reg, "d", 2, true, &s, NULL),
                     0);
    assert_true(s.deleted);
    evb_registry_schema_clear(&s);
    assert_int_equal(evb_registry_lookup_id(f->reg, 2, &s, NULL), 0);
    evb_registry_schema_clear(&s);
    /* no longer counts for compatibility: REC3 is checked against REC1 */
    assert_int_equal(reg(f, "d", REC3, &id, &v),
                     EVB_REGISTRY_ERR_INCOMPATIBLE);
    /* re-registering the deleted schema makes a new version, same id */
    assert_int_equal(reg(f, "d", REC2, &id, &v), 0);
    assert_int_equal(id, 2);
    assert_int_equal(v, 3);

    /* the whole subject */
    int32_t *dv;
    assert_int_equal(evb_registry_delete_subject(f->reg, "d", true, &dv, &n,
                                                 &f->msg),
                     EVB_REGISTRY_ERR_SUBJECT_NOT_SOFT_DELETED);
    assert_int_equal(evb_registry_delete_subject(f->reg, "d", false, &dv, &n,
                                                 NULL),
                     0);
    assert_int_equal(n, 2); /* 1 and 3 (2 was already deleted) */
    assert_int_equal(dv[0], 1);
    assert_int_equal(dv[1], 3);
    free(dv);
    assert_int_equal(evb_registry_delete_subject(f->reg, "d", false, &dv, &n,
                                                 &f->msg),
                     EVB_REGISTRY_ERR_SUBJECT_SOFT_DELETED);
    assert_string_equal(f->msg.data, "Subject 'd' was soft deleted.Set "
                                     "permanent=true to delete permanently");
    char **subjects;
    assert_int_equal(evb_registry_list_subjects(f->reg, false, &subjects, NULL),
                     0);
    assert_null(subjects[0]);
    evb_registry_strv_free(subjects);
    assert_int_equal(evb_registry_list_subjects(f->reg, true, &subjects, NULL),
                     0);
    assert_string_equal(subjects[0], "d");
    evb_registry_strv_free(subjects);
    assert_int_equal(evb_registry_delete_subject(f->reg, "d", true, &dv, &n,
                                                 NULL),
                     0);
    assert_int_equal(n, 3);
    free(dv);
    /* gone: ids no longer resolve, the subject is unknown */
    assert_int_equal(evb_registry_lookup_id(f->reg, 2, &s, &f->msg),
                     EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND);
    assert_int_equal(evb_registry_delete_subject(f->reg, "d", false, &dv, &n,
                                                 &f->msg),
                     EVB_REGISTRY_ERR_SUBJECT_NOT_FOUND);
    /* the same schema again: its old id, versions from 1 */
    assert_int_equal(reg(f, "d", REC2, &id, &v), 0);
    assert_int_equal(id, 2);
    assert_int_equal(v, 1);
}

static void test_config_and_modes(void **state) {
    fixture_t *f = *state;
    evb_registry_compat_t l;
    assert_int_equal(evb_registry_get_compat(f->reg, NULL, false, &l, NULL), 0);
    assert_int_equal(l, EVB_REGISTRY_COMPAT_BACKWARD);
    assert_int_equal(evb_registry_set_compat(f->reg, NULL,
                                             EVB_REGISTRY_COMPAT_FULL, NULL),
                     0);
    assert_int_equal(evb_registry_get_compat(f->reg, NULL, false, &l, NULL), 0);
    assert_int_equal(l, EVB_REGISTRY_COMPAT_FULL);
    assert_int_equal(evb_registry_get_compat(f->reg, "x", false, &l, &f->msg),
                     EVB_REGISTRY_ERR_SUBJECT_COMPATIBILITY_NOT_CONFIGURED);
    assert_string_equal(f->msg.data, "Subject 'x' does not have subject-level "
                                     "compatibility configured");
    assert_int_equal(evb_registry_get_compat(f->reg, "x", true, &l, NULL), 0);
    assert_int_equal(l, EVB_REGISTRY_COMPAT_FULL);
    assert_int_equal(evb_registry_set_compat(f->reg, "x",
                                             EVB_REGISTRY_COMPAT_NONE, NULL),
                     0);
    assert_int_equal(evb_registry_get_compat(f->reg, "x", false, &l, NULL), 0);
    assert_int_equal(l, EVB_REGISTRY_COMPAT_NONE);
    assert_int_equal(evb_registry_delete_compat(f->reg, "x", &l, NULL), 0);
    assert_int_equal(l, EVB_REGISTRY_COMPAT_NONE);
    assert_int_equal(evb_registry_delete_compat(f->reg, "x", &l, &f->msg),
                     EVB_REGISTRY_ERR_SUBJECT_NOT_FOUND);
    assert_int_equal(evb_registry_delete_compat(f->reg, NULL, &l, NULL), 0);
    assert_int_equal(l, EVB_REGISTRY_COMPAT_FULL);
    assert_int_equal(evb_registry_get_compat(f->reg, NULL, false, &l, NULL), 0);
    assert_int_equal(l, EVB_REGISTRY_COMPAT_BACKWARD);

    /* READONLY refuses writes */
    int32_t id, v;
    assert_int_equal(reg(f, "m", REC1, &id, &v), 0);
    assert_int_equal(evb_registry_set_mode(f->reg, "m",
                                           EVB_REGISTRY_MODE_READONLY, NULL),
                     0);
    assert_int_equal(reg(f, "m", REC2, &id, &v),
                     EVB_REGISTRY_ERR_OPERATION_NOT_PERMITTED);
    int32_t deleted;
    assert_int_equal(evb_registry_delete_version(f->reg, "m", 1, false,
                                                 &deleted, NULL),
                     EVB_REGISTRY_ERR_OPERATION_NOT_PERMITTED);
    assert_int_equal(reg(f, "other", REC1, &id, &v), 0); /* subject-level */
    evb_registry_mode_t md;
    assert_int_equal(evb_registry_get_mode(f->reg, "m", false, &md, NULL), 0);
    assert_int_equal(md, EVB_REGISTRY_MODE_READONLY);
    assert_int_equal(evb_registry_get_mode(f->reg, "other", false, &md,
                                           &f->msg),
                     EVB_REGISTRY_ERR_SUBJECT_MODE_NOT_CONFIGURED);
    assert_int_equal(evb_registry_delete_mode(f->reg, "m", &md, NULL), 0);
    assert_int_equal(md, EVB_REGISTRY_MODE_READONLY);
    assert_int_equal(reg(f, "m", REC2, &id, &v), 0);

    /* IMPORT: the given id and version, no compatibility check */
    assert_int_equal(evb_registry_set_mode(f->reg, NULL,
                                           EVB_REGISTRY_MODE_IMPORT, NULL),
                     0);
    evb_registry_register_req_t rq = {.subject = "imp",
                                      .schema = "\"string\"",
                                      .schema_len = 8,
                                      .id = 100,
                                      .version = 5};
    assert_int_equal(evb_registry_register(f->reg, &rq, &id, &v, NULL), 0);
    assert_int_equal(id, 100);
    assert_int_equal(v, 5);
    rq.schema = "\"bytes\"";
    rq.schema_len = 7;
    rq.version = 6;
    assert_int_equal(evb_registry_register(f->reg, &rq, &id, &v, &f->msg),
                     EVB_REGISTRY_ERR_ID_MISMATCH);
    assert_int_equal(evb_registry_get_mode(f->reg, NULL, false, &md, NULL), 0);
    assert_int_equal(md, EVB_REGISTRY_MODE_IMPORT);
    assert_int_equal(evb_registry_set_mode(f->reg, NULL,
                                           EVB_REGISTRY_MODE_READWRITE, NULL),
                     0);
    /* ids go on after the imported one */
    assert_int_equal(reg(f, "z", "\"float\"", &id, &v), 0);
    assert_int_equal(id, 101);
}

/* The registry survives a restart of the store. */
static void test_durable(void **state) {
    fixture_t *f = *state;
    int32_t id, v;
    assert_int_equal(reg(f, "p", REC1, &id, &v), 0);
    evb_registry_close(f->reg);
    evb_store_close(f->store);
    char errstr[256];
    evb_store_opts_t o = {.dir = f->dir, .no_sync = true};
    assert_int_equal(evb_store_open(&o, &f->store, errstr, sizeof errstr), 0);
    assert_int_equal(evb_registry_open(f->store, &f->reg, errstr, sizeof errstr),
                     0);
    evb_registry_schema_t s;
    assert_int_equal(evb_registry_get_version(f->reg, "p", 1, false, &s, NULL),
                     0);
    assert_int_equal(s.id, id);
    evb_registry_schema_clear(&s);
}

typedef struct racer {
    fixture_t *f;
    int n;
    int32_t id;
    evb_registry_err_t err;
} racer_t;

static void *race(void *arg) {
    racer_t *r = arg;
    char subject[32];
    snprintf(subject, sizeof subject, "race-%d", r->n);
    evb_registry_register_req_t rq = {
        .subject = subject, .schema = REC2, .schema_len = strlen(REC2)};
    r->err = evb_registry_register(r->f->reg, &rq, &r->id, NULL, NULL);
    return NULL;
}

/* Concurrent registrations of one schema under many subjects agree on
 * its id. */
static void test_concurrent_registrations(void **state) {
    fixture_t *f = *state;
    racer_t r[8];
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        r[i] = (racer_t){.f = f, .n = i};
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(r[i].err, 0);
        assert_int_equal(r[i].id, r[0].id);
    }
}

/* ---- the client against our own server --------------------------------- */

static void test_client(void **state) {
    fixture_t *f = *state;
    evb_test_registry_server_t sv;
    evb_test_registry_server_start(f->store, f->reg, &sv);
    evb_registry_client_config_t cc = {.url = sv.url, .timeout_ms = 5000};
    evb_registry_client_t *c;
    char errstr[256];
    assert_int_equal(evb_registry_client_new(&cc, &c, errstr, sizeof errstr),
                     0);
    int32_t id;
    evb_buf_t msg;
    evb_buf_init(&msg, 0);
    /* register (a subject that needs escaping in the URL) */
    assert_int_equal(evb_registry_client_register(c, "orders value+x", REC1,
                                                  strlen(REC1), NULL, &id,
                                                  &msg),
                     0);
    assert_int_equal(id, 1);
    assert_int_equal(evb_registry_client_register(c, "orders value+x", REC1,
                                                  strlen(REC1), NULL, &id,
                                                  &msg),
                     0);
    assert_int_equal(id, 1);
    /* incompatible: the server's code and message come through */
    assert_int_equal(evb_registry_client_register(c, "orders value+x", REC3,
                                                  strlen(REC3), "AVRO", &id,
                                                  &msg),
                     EVB_REGISTRY_ERR_INCOMPATIBLE);
    assert_non_null(strstr(msg.data, "Schema being registered is incompatible"));
    /* by id: from the server once, then from the cache */
    evb_registry_schema_t s;
    uint64_t hits0, req0, hits1, req1;
    evb_registry_client_stats(c, &hits0, &req0);
    assert_int_equal(evb_registry_client_get_by_id(c, 1, &s, &msg), 0);
    assert_string_equal(s.schema, REC1);
    assert_string_equal(s.type, "AVRO");
    evb_registry_schema_clear(&s);
    evb_registry_client_stats(c, &hits1, &req1);
    assert_int_equal(req1, req0); /* register had cached it */
    assert_int_equal(hits1, hits0 + 1);
    /* by subject and version */
    assert_int_equal(evb_registry_client_get_version(
                         c, "orders value+x", EVB_REGISTRY_VERSION_LATEST, &s,
                         &msg),
                     0);
    assert_int_equal(s.id, 1);
    assert_int_equal(s.version, 1);
    assert_string_equal(s.subject, "orders value+x");
    evb_registry_schema_clear(&s);
    /* a fresh client asks the server */
    evb_registry_client_t *c2;
    assert_int_equal(evb_registry_client_new(&cc, &c2, errstr, sizeof errstr),
                     0);
    assert_int_equal(evb_registry_client_get_by_id(c2, 1, &s, &msg), 0);
    assert_string_equal(s.schema, REC1);
    evb_registry_schema_clear(&s);
    assert_int_equal(evb_registry_client_get_by_id(c2, 1, &s, &msg), 0);
    evb_registry_schema_clear(&s);
    evb_registry_client_stats(c2, &hits1, &req1);
    assert_int_equal(req1, 1);
    assert_int_equal(hits1, 1);
    /* errors */
    assert_int_equal(evb_registry_client_get_by_id(c2, 42, &s, &msg),
                     EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND);
    assert_string_equal(msg.data, "Schema 42 not found");
    assert_int_equal(evb_registry_client_get_version(c2, "nope", 1, &s, &msg),
                     EVB_REGISTRY_ERR_SUBJECT_NOT_FOUND);
    assert_int_equal(evb_registry_client_get_version(c2, "orders value+x", 9,
                                                     &s, &msg),
                     EVB_REGISTRY_ERR_VERSION_NOT_FOUND);
    evb_registry_client_free(c2);

    /* a thread-safe cache: many threads, one client */
    evb_test_registry_server_stop(&sv);
    /* the server is gone: cached ids still answer, others fail cleanly */
    assert_int_equal(evb_registry_client_get_by_id(c, 1, &s, &msg), 0);
    evb_registry_schema_clear(&s);
    assert_int_equal(evb_registry_client_get_by_id(c, 2, &s, &msg),
                     EVB_REGISTRY_ERR_TRANSPORT);
    evb_registry_client_free(c);
    evb_buf_free(&msg);

    cc.url = "ftp://example";
    assert_int_equal(evb_registry_client_new(&cc, &c, errstr, sizeof errstr),
                     EVB_ERR_INVALID_ARG);
}

typedef struct getter {
    evb_registry_client_t *c;
    int ok;
} getter_t;

static void *get_many(void *arg) {
    getter_t *g = arg;
    for (int i = 0; i < 200; i++) {
        evb_registry_schema_t s;
        if (evb_registry_client_get_by_id(g->c, 1 + i % 3, &s, NULL) == 0 &&
            s.schema)
            g->ok++;
        evb_registry_schema_clear(&s);
    }
    return NULL;
}

static void test_client_threads(void **state) {
    fixture_t *f = *state;
    int32_t id, v;
    assert_int_equal(reg(f, "t1", "\"int\"", &id, &v), 0);
    assert_int_equal(reg(f, "t2", "\"string\"", &id, &v), 0);
    assert_int_equal(reg(f, "t3", "\"double\"", &id, &v), 0);
    evb_test_registry_server_t sv;
    evb_test_registry_server_start(f->store, f->reg, &sv);
    evb_registry_client_config_t cc = {.url = sv.url, .cache_max = 2};
    evb_registry_client_t *c;
    char errstr[256];
    assert_int_equal(evb_registry_client_new(&cc, &c, errstr, sizeof errstr),
                     0);
    getter_t g[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        g[i] = (getter_t){.c = c};
        assert_int_equal(pthread_create(&t[i], NULL, get_many, &g[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(g[i].ok, 200);
    }
    uint64_t hits, reqs;
    evb_registry_client_stats(c, &hits, &reqs);
    assert_int_equal(hits + reqs, 800);
    evb_registry_client_free(c);
    evb_test_registry_server_stop(&sv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_ids_and_versions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transitive_levels, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_and_modes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_registrations, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
