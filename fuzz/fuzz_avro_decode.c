/*
 * fuzz_avro_decode.c: fuzz target for Avro binary -> JSON.
 *
 * Input: byte 0 picks a schema from avro_schemas.h and the decoding options
 * (bit 7: decimals as numbers); the rest is the Avro datum. Besides crashes,
 * sanitizer reports, leaks and unbounded work (output is capped at 1 MiB),
 * the target aborts when:
 *   - decoding fails with anything but INVALID_ARG, TOO_LARGE or NOMEM;
 *   - a failed decode changed the output buffer;
 *   - the JSON it produced is not valid JSON;
 *   - (base64 decimals) encoding that JSON back fails, or decoding the
 *     re-encoded bytes does not give the very same JSON text.
 * The schemas are compiled once, on the first call.
 * Seeds: fuzz/corpus/fuzz_avro_decode/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/avro.h"
#include "avro_schemas.h"
#include "json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static evb_avro_schema_t *schemas[FUZZ_AVRO_NSCHEMAS];

static void die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_avro_decode: %s\n%s\n", what, detail ? detail : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[1024];
    if (!schemas[0]) {
        for (size_t i = 0; i < FUZZ_AVRO_NSCHEMAS; i++)
            if (evb_avro_schema_parse(fuzz_avro_schemas[i],
                                      strlen(fuzz_avro_schemas[i]), &schemas[i],
                                      err, sizeof err))
                die("fixed schema rejected", err);
    }
    if (size == 0)
        return 0;
    evb_avro_schema_t *s = schemas[(data[0] & 0x7f) % FUZZ_AVRO_NSCHEMAS];
    evb_avro_json_opts_t opts = {
        .flags = (data[0] & 0x80) ? EVB_AVRO_DECIMAL_NUMBER : 0,
        .max_output = 1u << 20};
    evb_buf_t out;
    evb_buf_init(&out, 0);
    evb_buf_append(&out, "<", 1);
    evb_err_t e = evb_avro_to_json(s, data + 1, size - 1, &opts, &out, NULL,
                                   err, sizeof err);
    if (e != EVB_ERR_OK) {
        if (e != EVB_ERR_INVALID_ARG && e != EVB_ERR_TOO_LARGE &&
            e != EVB_ERR_NOMEM)
            die("unexpected error code", err);
        if (out.len != 1 || strcmp(out.data, "<") != 0)
            die("a failed decode changed the output", NULL);
        evb_buf_free(&out);
        return 0;
    }
    const char *json = out.data + 1;
    size_t jlen = out.len - 1;
    if (evb_json_validate(json, jlen, 100000, err, sizeof err) != EVB_ERR_OK)
        die("output is not valid JSON", json);
    if (!(opts.flags & EVB_AVRO_DECIMAL_NUMBER)) {
        evb_buf_t bin, again;
        evb_buf_init(&bin, 0);
        evb_buf_init(&again, 0);
        e = evb_avro_from_json(s, json, jlen, EVB_AVRO_STRICT, &bin, err,
                               sizeof err);
        if (e == EVB_ERR_NOMEM) {
            evb_buf_free(&bin);
            evb_buf_free(&out);
            return 0;
        }
        if (e != EVB_ERR_OK)
            die("the decoder's JSON does not encode back", err);
        e = evb_avro_to_json(s, bin.data, bin.len, &opts, &again, NULL, err,
                             sizeof err);
        if (e != EVB_ERR_OK && e != EVB_ERR_NOMEM)
            die("re-encoded bytes do not decode", err);
        if (e == EVB_ERR_OK && strcmp(again.data, json) != 0)
            die("decode(encode(json)) differs from json", json);
        evb_buf_free(&bin);
        evb_buf_free(&again);
    }
    evb_buf_free(&out);
    return 0;
}
