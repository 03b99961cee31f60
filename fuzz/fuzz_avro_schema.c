/*
 * fuzz_avro_schema.c: fuzz target for Avro schema parsing and compiling.
 *
 * The input is schema text. When it is accepted, the target also checks:
 *   - the Parsing Canonical Form parses as a schema, and its own canonical
 *     form and fingerprint are the same (the form is stable), unless named
 *     types of the null namespace sit beside namespaced ones (see
 *     mixed_namespaces);
 *   - two fixed inputs (64 zero bytes, 64 bytes of 0x02) decode with the
 *     schema or fail cleanly, and whatever decodes encodes back and decodes
 *     again to the same JSON.
 * Besides crashes, sanitizer reports, leaks and hangs (schema recursion and
 * defaults that need themselves are bounded), it aborts on any error code
 * other than INVALID_ARG / TOO_LARGE / NOMEM, or a broken invariant above.
 * Seeds: fuzz/corpus/fuzz_avro_schema/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/avro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_avro_schema: %s\n%s\n", what, detail ? detail : "");
    abort();
}

static bool acceptable(evb_err_t e) {
    return e == EVB_ERR_INVALID_ARG || e == EVB_ERR_TOO_LARGE ||
           e == EVB_ERR_NOMEM;
}

static void round_trip(evb_avro_schema_t *s, const uint8_t *bytes, size_t n) {
    char err[512];
    evb_avro_json_opts_t o = {.flags = EVB_AVRO_ALLOW_TRAILING,
                              .max_output = 1u << 16};
    evb_buf_t json, bin, again;
    evb_buf_init(&json, 0);
    evb_buf_init(&bin, 1u << 20);
    evb_buf_init(&again, 0);
    evb_err_t e =
        evb_avro_to_json(s, bytes, n, &o, &json, NULL, err, sizeof err);
    if (e != EVB_ERR_OK) {
        if (!acceptable(e))
            die("unexpected decode error code", err);
        goto done;
    }
    e = evb_avro_from_json(s, json.data, json.len, EVB_AVRO_STRICT, &bin, err,
                           sizeof err);
    if (e == EVB_ERR_NOMEM || e == EVB_ERR_TOO_LARGE)
        goto done;
    if (e != EVB_ERR_OK)
        die("the decoder's JSON does not encode back", err);
    o.flags = 0;
    o.max_output = 1u << 20;
    e = evb_avro_to_json(s, bin.data, bin.len, &o, &again, NULL, err,
                         sizeof err);
    if (e == EVB_ERR_NOMEM || e == EVB_ERR_TOO_LARGE)
        goto done;
    if (e != EVB_ERR_OK)
        die("re-encoded bytes do not decode", err);
    if (strcmp(again.data, json.data) != 0)
        die("decode(encode(json)) differs from json", json.data);
done:
    evb_buf_free(&json);
    evb_buf_free(&bin);
    evb_buf_free(&again);
}

/* The canonical form writes a named type of the null namespace by its bare
 * name, which inside a namespaced record reads back as a name in that
 * namespace (Avro's spec has this gap; Java's SchemaNormalization writes
 * the same text). The stability check is skipped for such mixtures. */
static bool mixed_namespaces(const char *pcf) {
    bool dotted = false, bare = false;
    for (const char *p = pcf; (p = strstr(p, "{\"name\":\"")) != NULL;) {
        p += 9;
        const char *q = strchr(p, '"');
        if (!q)
            break;
        if (strncmp(q, "\",\"type\":\"record\"", 17) == 0 ||
            strncmp(q, "\",\"type\":\"enum\"", 15) == 0 ||
            strncmp(q, "\",\"type\":\"fixed\"", 16) == 0) {
            if (memchr(p, '.', (size_t)(q - p)))
                dotted = true;
            else
                bare = true;
        }
        p = q;
    }
    return dotted && bare;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[1024];
    evb_avro_schema_t *s = NULL;
    evb_err_t e =
        evb_avro_schema_parse((const char *)data, size, &s, err, sizeof err);
    if (e != EVB_ERR_OK) {
        if (!acceptable(e) || s)
            die("unexpected schema error code", err);
        return 0;
    }
    size_t plen;
    const char *pcf = evb_avro_schema_canonical(s, &plen);
    evb_avro_schema_t *s2 = NULL;
    if (!mixed_namespaces(pcf)) {
        e = evb_avro_schema_parse(pcf, plen, &s2, err, sizeof err);
        if (e == EVB_ERR_OK) {
            size_t plen2;
            const char *pcf2 = evb_avro_schema_canonical(s2, &plen2);
            if (plen2 != plen || memcmp(pcf, pcf2, plen) != 0 ||
                evb_avro_schema_fingerprint64(s) !=
                    evb_avro_schema_fingerprint64(s2))
                die("the canonical form is not stable", pcf);
            evb_avro_schema_unref(s2);
        } else if (e != EVB_ERR_NOMEM) {
            die("the canonical form does not parse", err);
        }
    }
    uint8_t zeros[64], twos[64];
    memset(zeros, 0, sizeof zeros);
    memset(twos, 2, sizeof twos);
    round_trip(s, zeros, sizeof zeros);
    round_trip(s, twos, sizeof twos);
    evb_avro_schema_unref(s);
    return 0;
}
