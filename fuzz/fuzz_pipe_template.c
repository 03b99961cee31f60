/*
 * fuzz_pipe_template.c: fuzz target for Pipes input templates and
 * JSONPath (src/pipes/template.c).
 *
 * The input is an InputTemplate. It is compiled; if it compiles it is
 * rendered against a few fixed events. The target checks the API's
 * promises and aborts when one is broken:
 *   - compile fails only with EVB_ERR_INVALID_ARG (or NOMEM);
 *   - render fails only with EVB_ERR_INVALID_OUTPUT (JSON templates),
 *     NOMEM or TOO_LARGE, and a JSON template's successful output is
 *     valid JSON;
 *   - the output buffer is unchanged after a failure.
 * Every '$'-led placeholder body is also given to the JSONPath evaluator.
 * Seeds: fuzz/corpus/fuzz_pipe_template/.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "pipes/pipes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const events[] = {
    "{\"topic\":\"orders\",\"partition\":0,\"offset\":5,\"value\":{\"id\":1,"
    "\"name\":\"A \\\"q\\\"\\n\",\"items\":[{\"sku\":\"x\"},{\"sku\":2.5}],"
    "\"ok\":true,\"none\":null}}",
    "[1,\"two\",{\"three\":[3]}]",
    "\"just a string\"",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 16384)
        return 0;
    evb_pipe_template_t *t = NULL;
    char err[512];
    evb_err_t e =
        evb_pipe_template_compile((const char *)data, size, &t, err, sizeof err);
    if (e) {
        if (e != EVB_ERR_INVALID_ARG && e != EVB_ERR_NOMEM)
            abort();
        return 0;
    }
    evb_pipe_vars_t vars = {.pipe_arn = "arn:aws:pipes:us-east-1:1:pipe/p",
                            .pipe_name = "p",
                            .ingestion_time = "2024-01-01T00:00:00Z"};
    for (size_t i = 0; i < sizeof events / sizeof *events; i++) {
        json_t *ev = json_loads(events[i], JSON_DECODE_ANY, NULL);
        if (!ev)
            abort();
        evb_buf_t out;
        evb_buf_init(&out, 1 << 20);
        evb_buf_append(&out, "x", 1);
        e = evb_pipe_template_render(t, ev, &vars, &out, err, sizeof err);
        if (e) {
            if (e != EVB_ERR_INVALID_OUTPUT && e != EVB_ERR_NOMEM &&
                e != EVB_ERR_TOO_LARGE)
                abort();
            if (out.len != 1)
                abort();
        } else if (evb_pipe_template_is_json(t) &&
                   evb_json_validate(out.data + 1, out.len - 1, 1000, NULL,
                                     0) != EVB_ERR_OK) {
            abort();
        }
        evb_buf_free(&out);
        /* JSONPath on its own */
        char path[256];
        size_t n = size < sizeof path - 1 ? size : sizeof path - 1;
        memcpy(path, data, n);
        path[n] = '\0';
        json_decref(evb_pipe_jsonpath_eval(path, ev));
        json_decref(ev);
    }
    evb_pipe_template_free(t);
    return 0;
}
