/*
 * fuzz_wire.c: fuzz target for the Kafka wire formats (Confluent, AWS Glue
 * with and without zlib).
 *
 * The input is a record value. It is parsed with a 1 MiB bound on inflated
 * payloads; every payload is then decoded with the first schema of
 * avro_schemas.h (trailing bytes allowed). Besides crashes, sanitizer
 * reports and leaks, the target aborts when:
 *   - parsing fails with anything but INVALID_ARG, TOO_LARGE or NOMEM;
 *   - a payload is longer than the bound;
 *   - framing the parsed parts again does not reproduce the input
 *     (Confluent, uncompressed Glue), or re-compressing a zlib payload and
 *     parsing that does not give the same payload back.
 * Seeds: fuzz/corpus/fuzz_wire/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/avro.h"
#include "avro_schemas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BOUND (1u << 20)

static evb_avro_schema_t *schema;

static void die(const char *what) {
    fprintf(stderr, "fuzz_wire: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[512];
    if (!schema && evb_avro_schema_parse(fuzz_avro_schemas[0],
                                         strlen(fuzz_avro_schemas[0]), &schema,
                                         err, sizeof err))
        die(err);
    evb_buf_t scratch, framed, scratch2, json;
    evb_buf_init(&scratch, 0);
    evb_buf_init(&framed, 0);
    evb_buf_init(&scratch2, 0);
    evb_buf_init(&json, 0);
    evb_wire_info_t wi;
    evb_err_t e =
        evb_wire_parse(data, size, &scratch, BOUND, &wi, err, sizeof err);
    if (e != EVB_ERR_OK) {
        if (e != EVB_ERR_INVALID_ARG && e != EVB_ERR_TOO_LARGE &&
            e != EVB_ERR_NOMEM)
            die("unexpected error code");
        goto done;
    }
    if (wi.payload_len > BOUND || (wi.payload_len && !wi.payload))
        die("payload beyond the bound");
    if (wi.format == EVB_WIRE_CONFLUENT) {
        if (evb_wire_confluent_header(&framed, wi.schema_id) ||
            evb_buf_append(&framed, wi.payload, wi.payload_len))
            goto done;
        if (framed.len != size || memcmp(framed.data, data, size) != 0)
            die("Confluent framing does not round-trip");
    } else if (wi.glue_compression == EVB_WIRE_GLUE_COMPRESSION_NONE) {
        if (evb_wire_glue_frame(&framed, wi.glue_uuid, 0, wi.payload,
                                wi.payload_len))
            goto done;
        if (framed.len != size || memcmp(framed.data, data, size) != 0)
            die("Glue framing does not round-trip");
    } else {
        if (evb_wire_glue_frame(&framed, wi.glue_uuid, 5, wi.payload,
                                wi.payload_len))
            goto done;
        evb_wire_info_t w2;
        if (evb_wire_parse(framed.data, framed.len, &scratch2, BOUND, &w2, err,
                           sizeof err) != EVB_ERR_OK)
            die("a re-compressed Glue payload does not parse");
        if (w2.payload_len != wi.payload_len ||
            memcmp(w2.payload, wi.payload, wi.payload_len) != 0 ||
            memcmp(w2.glue_uuid, wi.glue_uuid, 16) != 0)
            die("Glue zlib payload does not round-trip");
    }
    evb_avro_json_opts_t opts = {.flags = EVB_AVRO_ALLOW_TRAILING,
                                 .max_output = BOUND};
    e = evb_avro_to_json(schema, wi.payload, wi.payload_len, &opts, &json, NULL,
                         err, sizeof err);
    if (e != EVB_ERR_OK && e != EVB_ERR_INVALID_ARG && e != EVB_ERR_TOO_LARGE &&
        e != EVB_ERR_NOMEM)
        die("unexpected decode error code");
done:
    evb_buf_free(&scratch);
    evb_buf_free(&framed);
    evb_buf_free(&scratch2);
    evb_buf_free(&json);
    return 0;
}
