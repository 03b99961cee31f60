/*
 * fuzz_apply_doc.c: fuzz target for `evbus apply`'s document reader (the
 * YAML and JSON tree, the schema, the conversion into API requests) and
 * the plan computed against an empty server.
 *
 * The first byte picks the format (even: auto, odd: JSON) so both parsers
 * get inputs; the rest is the document. Every ${NAME} reads as "x". The
 * target checks the module's promises and aborts when one is broken:
 *   - a refused document yields EVB_ERR_INVALID_ARG (or NOMEM) with at
 *     least one diagnostic and no document, an accepted one no diagnostic;
 *   - an accepted document plans against the empty state without error
 *     (references may fail: EVB_ERR_INVALID_ARG with a diagnostic), and
 *     the plan only creates.
 * Seeds: fuzz/corpus/fuzz_apply_doc/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/apply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *any_env(void *ud, const char *name) {
    (void)ud;
    (void)name;
    return "x";
}

static json_t *empty_state(void) {
    return json_pack("{s:s,s:s,s:s,s:{},s:{},s:{},s:{s:{s:s,s:s}},s:{},s:{},"
                     "s:{},s:{}}",
                     "account", "000000000000", "region", "us-east-1",
                     "endpoint", "http://127.0.0.1:4010/", "record",
                     "logGroups", "queues", "buses", "default", "Name",
                     "default", "Arn",
                     "arn:aws:events:us-east-1:000000000000:event-bus/default",
                     "connections", "apiDestinations", "archives", "rules");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    evb_apply_load_opts_t o = {.format = (data[0] & 1) ? EVB_APPLY_FORMAT_JSON
                                                       : EVB_APPLY_FORMAT_AUTO,
                               .getenv_fn = any_env};
    evb_apply_diags_t d;
    evb_apply_diags_init(&d);
    evb_apply_doc_t *doc = NULL;
    evb_err_t err = evb_apply_doc_load("fuzz.yaml", (const char *)data + 1,
                                       size - 1, &o, &doc, &d);
    if (err) {
        if ((err != EVB_ERR_INVALID_ARG && err != EVB_ERR_NOMEM) || doc ||
            (err == EVB_ERR_INVALID_ARG && d.n == 0))
            abort();
        evb_apply_diags_free(&d);
        return 0;
    }
    if (!doc || d.n)
        abort();
    json_t *state = empty_state();
    evb_apply_plan_t *plan = NULL;
    err = evb_apply_plan_compute(doc, state, NULL, &plan, &d);
    if (err == EVB_ERR_OK) {
        if (evb_apply_plan_count(plan, EVB_APPLY_CREATE) !=
            evb_apply_plan_size(plan))
            abort();
        FILE *devnull = fopen("/dev/null", "w");
        if (devnull) {
            evb_apply_plan_print(plan, devnull);
            fclose(devnull);
        }
    } else if (err != EVB_ERR_NOMEM && (err != EVB_ERR_INVALID_ARG || !d.n)) {
        abort();
    }
    evb_apply_plan_free(plan);
    json_decref(state);
    evb_apply_diags_free(&d);
    evb_apply_doc_free(doc);
    return 0;
}
