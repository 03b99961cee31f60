/*
 * fuzz_serde.c: fuzz target for the codec's decoding of record values
 * (src/serde): auto-detection, forced modes, the JSON, text and bytes
 * paths, and framed values without a registry behind them.
 *
 * The input is a record value, decoded in every mode by a codec that has
 * no registry (so framed Avro must fail cleanly). Besides crashes,
 * sanitizer reports and leaks, the target aborts when:
 *   - a decode fails with an error code the header does not list;
 *   - a failed decode changed the output buffer;
 *   - a successful decode did not append exactly one valid JSON text;
 *   - auto mode calls a value JSON, text or bytes and the forced mode of
 *     that name disagrees.
 * Seeds: fuzz/corpus/fuzz_serde/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "serde/serde.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static evb_serde_t *codec;

static void die(const char *what) {
    fprintf(stderr, "fuzz_serde: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[512];
    if (!codec && evb_serde_new(NULL, &codec, err, sizeof err))
        die(err);
    static const evb_serde_mode_t modes[] = {
        EVB_SERDE_MODE_AUTO,   EVB_SERDE_MODE_AVRO, EVB_SERDE_MODE_CONFLUENT,
        EVB_SERDE_MODE_GLUE,   EVB_SERDE_MODE_JSON, EVB_SERDE_MODE_STRING,
        EVB_SERDE_MODE_BYTES};
    evb_buf_t out, auto_out;
    evb_buf_init(&out, 0);
    evb_buf_init(&auto_out, 0);
    evb_serde_kind_t auto_kind = EVB_SERDE_KIND_NULL;
    bool auto_ok = false;
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        evb_serde_decode_opts_t o = {.mode = modes[m],
                                     .max_payload = 1u << 20,
                                     .avro = {.max_output = 1u << 22}};
        evb_serde_info_t info;
        evb_buf_reset(&out);
        evb_buf_append(&out, "x", 1);
        evb_err_t e = evb_serde_decode(codec, data, size, &o, &out, &info,
                                       err, sizeof err);
        if (e) {
            if (e != EVB_ERR_INVALID_ARG && e != EVB_ERR_NOT_FOUND &&
                e != EVB_ERR_INVALID_JSON && e != EVB_ERR_TOO_LARGE &&
                e != EVB_ERR_NOMEM)
                die("unexpected error code");
            if (out.len != 1 || out.data[0] != 'x')
                die("a failed decode changed the output");
            continue;
        }
        if (evb_json_validate(out.data + 1, out.len - 1, 100000, err,
                              sizeof err))
            die("the output is not one JSON text");
        if (modes[m] == EVB_SERDE_MODE_AUTO) {
            auto_ok = true;
            auto_kind = info.kind;
            evb_buf_append(&auto_out, out.data + 1, out.len - 1);
        } else if (auto_ok && ((modes[m] == EVB_SERDE_MODE_JSON &&
                                auto_kind == EVB_SERDE_KIND_JSON) ||
                               (modes[m] == EVB_SERDE_MODE_STRING &&
                                auto_kind == EVB_SERDE_KIND_STRING) ||
                               (modes[m] == EVB_SERDE_MODE_BYTES &&
                                auto_kind == EVB_SERDE_KIND_BYTES))) {
            if (auto_out.len != out.len - 1 ||
                memcmp(auto_out.data, out.data + 1, auto_out.len) != 0)
                die("auto mode and the forced mode disagree");
        }
    }
    evb_buf_free(&out);
    evb_buf_free(&auto_out);
    return 0;
}
