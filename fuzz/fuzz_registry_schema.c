/*
 * fuzz_registry_schema.c: fuzz target for the schema registry's Avro
 * schema parser, canonicalizer and compatibility checker.
 *
 * The input is schema text. It is validated and canonicalized
 * (evb_registry_avro_canonical) and, when valid, checked for
 * compatibility against itself and against a few fixed schemas at FULL
 * (both directions). Besides crashes, hangs and sanitizer reports the
 * target aborts when:
 *   - validation fails with anything but INVALID_SCHEMA (or NOMEM), or
 *     without a message;
 *   - the canonical form of a valid schema is not valid JSON;
 *   - a valid schema is not FULL-compatible with itself, or a compatibility
 *     check of two valid schemas fails with an error;
 *   - an incompatible verdict comes without a message, or a compatible one
 *     with messages.
 * Seeds: fuzz/corpus/fuzz_registry_schema/.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const others[] = {
    "\"long\"",
    "[\"null\",\"string\",\"int\"]",
    "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"n\",\"fields\":["
    "{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":[\"null\","
    "\"R\"],\"default\":null},{\"name\":\"e\",\"type\":{\"type\":\"enum\","
    "\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}},{\"name\":\"f\",\"type\":{"
    "\"type\":\"fixed\",\"name\":\"F\",\"size\":4}},{\"name\":\"m\",\"type\":"
    "{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":\"double\"}}}"
    "]}",
};

static void fail(const char *what, const uint8_t *data, size_t size) {
    fprintf(stderr, "fuzz_registry_schema: %s\nschema: %.*s\n", what,
            (int)(size > 2000 ? 2000 : size), (const char *)data);
    abort();
}

static void compat(const char *a, size_t alen, const char *b, size_t blen,
                   bool must_pass, const uint8_t *data, size_t size) {
    bool ok = false;
    evb_buf_t m, msg;
    evb_buf_init(&m, 0);
    evb_buf_init(&msg, 0);
    evb_registry_err_t err = evb_registry_avro_compatible(
        a, alen, b, blen, EVB_REGISTRY_COMPAT_FULL, &ok, &m, &msg);
    if (err && err != EVB_REGISTRY_ERR_NOMEM)
        fail("compatibility check of valid schemas failed", data, size);
    if (!err) {
        if (must_pass && !ok)
            fail("a schema is not compatible with itself", data, size);
        if (!ok && m.len == 0)
            fail("incompatible without a message", data, size);
        if (ok && m.len != 0)
            fail("compatible with messages", data, size);
    }
    evb_buf_free(&m);
    evb_buf_free(&msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    evb_buf_t pcf, msg;
    evb_buf_init(&pcf, 0);
    evb_buf_init(&msg, 0);
    evb_registry_err_t err = evb_registry_avro_canonical(text, size, &pcf, &msg);
    if (err == EVB_REGISTRY_ERR_INVALID_SCHEMA) {
        if (msg.len == 0)
            fail("invalid without a message", data, size);
    } else if (err == EVB_REGISTRY_ERR_OK) {
        json_t *j = json_loadb(pcf.data, pcf.len, JSON_DECODE_ANY, NULL);
        if (!j)
            fail("canonical form is not JSON", data, size);
        json_decref(j);
        (void)evb_registry_avro_fingerprint64(pcf.data, pcf.len);
        compat(text, size, text, size, true, data, size);
        for (size_t i = 0; i < sizeof others / sizeof *others; i++)
            compat(text, size, others[i], strlen(others[i]), false, data, size);
    } else if (err != EVB_REGISTRY_ERR_NOMEM) {
        fail("unexpected error", data, size);
    }
    evb_buf_free(&pcf);
    evb_buf_free(&msg);
    return 0;
}
