/*
 * cmd_apply.c: `evbus apply -f FILE`, declarative configuration: make a
 * running evbus server match a YAML or JSON document (docs/cli/apply.md).
 *
 * Wiring only; the work is the apply module's (src/apply/apply.h):
 * load and check the document, ask the server to check its event
 * patterns, read the live state, compute and print the plan, then
 * (unless --dry-run) carry it out. Nothing changes on the server unless
 * the document passed every check that can be made before the first
 * change.
 *
 * Output: the plan and the progress on stdout; problems on stderr, as
 * "FILE:LINE: message" for the document's, "evbus apply: message" else.
 * Exit status: 0 success (or nothing to do), 1 the apply failed (the
 * server refused a call or could not be reached), 2 invalid file or
 * command line.
 */
#include <stdio.h>
#include <string.h>

#include "apply/apply.h"
#include "cli.h"

/* The largest document read. */
#define FILE_MAX (16u << 20)

enum {
    OPT_FILE = 1,
    OPT_ENDPOINT,
    OPT_DRY_RUN,
    OPT_PRUNE,
    OPT_FORMAT,
    OPT_REFERENCE
};

static const evb_cli_option_t apply_options[] = {
    {"file", 'f', EVB_CLI_STRING, "FILE", NULL, 0, 0, NULL,
     "the document, YAML or JSON (- reads stdin); required", OPT_FILE, 0},
    {"endpoint-url", 0, EVB_CLI_STRING, "URL", EVB_APPLY_DEFAULT_ENDPOINT, 0, 0,
     NULL, "the evbus server", OPT_ENDPOINT, 0},
    {"dry-run", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "print the plan and change nothing", OPT_DRY_RUN, 0},
    {"prune", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "also delete resources missing from FILE that apply does not manage "
     "(hand-made ones)",
     OPT_PRUNE, 0},
    {"format", 0, EVB_CLI_CHOICE, "FORMAT", NULL, 0, 0, "yaml|json",
     "yaml or json (default: by the file's extension, then by its content)",
     OPT_FORMAT, 0},
    {"reference", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "print the reference of the file format (Markdown) and exit; needs no "
     "FILE",
     OPT_REFERENCE, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_group_t apply_group = {NULL, apply_options};
static const evb_cli_option_group_t *const apply_groups[] = {&apply_group,
                                                             NULL};

const evb_cli_spec_t evb_cli_apply_spec = {
    .name = "apply",
    .synopsis = "-f FILE [--endpoint-url URL] [--dry-run] [--prune] "
                "[options]",
    .summary = "make a running server match a YAML or JSON document",
    .description =
        "Make a running evbus server match FILE: its buses, connections, API "
        "destinations, rules and targets, archives, queues, log groups, "
        "schema registry subjects and pipes. Prints the plan (create, "
        "update, delete, unchanged), then applies it. Nothing changes on "
        "the server unless the document passed every check that can be made "
        "before the first change.",
    .groups = apply_groups,
    .notes = "${NAME} in a string is the environment variable NAME (secrets "
             "belong there). Only resources apply created or adopted for the "
             "file's stack are deleted when they leave the file (see "
             "docs/cli/apply.md).",
    .exit_status = "  0   success, or nothing to change\n"
                   "  1   the apply failed: the server refused a call or "
                   "could not be reached\n"
                   "  2   invalid file or command line\n",
};

void evb_cli_apply_usage(FILE *out) {
    evb_cli_usage(&evb_cli_apply_spec, out);
}

typedef struct opts {
    const char *file;
    const char *endpoint;
    bool dry_run, prune, reference;
    evb_apply_format_t format;
} opts_t;

static bool set(void *ud, const evb_cli_option_t *opt, const evb_cli_value_t *v,
                char *why, size_t why_size) {
    (void)why;
    (void)why_size;
    opts_t *o = ud;
    switch (opt->id) {
    case OPT_FILE: o->file = v->str; return true;
    case OPT_ENDPOINT: o->endpoint = v->str; return true;
    case OPT_DRY_RUN: o->dry_run = true; return true;
    case OPT_PRUNE: o->prune = true; return true;
    case OPT_FORMAT:
        o->format = strcmp(v->str, "json") == 0 ? EVB_APPLY_FORMAT_JSON
                                                : EVB_APPLY_FORMAT_YAML;
        return true;
    case OPT_REFERENCE: o->reference = true; return true;
    default: return false;
    }
}

/* The command line into *o: EVB_CLI_CONTINUE, or the exit status. Usage
 * errors exit 2, as an invalid file does. */
static int parse_args(int argc, char **argv, opts_t *o) {
    int first;
    int rc = evb_cli_parse(&evb_cli_apply_spec, argc, argv, set, o,
                           EVB_EXIT_INVALID, &first);
    if (rc != EVB_CLI_CONTINUE)
        return rc;
    if (first < argc)
        return evb_cli_usage_error(&evb_cli_apply_spec, EVB_EXIT_INVALID,
                                   "unexpected argument '%s'", argv[first]);
    if (!o->file && !o->reference)
        return evb_cli_usage_error(&evb_cli_apply_spec, EVB_EXIT_INVALID,
                                   "-f FILE is required");
    return EVB_CLI_CONTINUE;
}

/* Load FILE into *doc; prints the problems. */
static int load(const opts_t *o, evb_apply_doc_t **doc) {
    evb_buf_t text;
    evb_buf_init(&text, FILE_MAX);
    char errstr[512];
    if (evb_buf_read_file(&text, o->file, errstr, sizeof errstr)) {
        fprintf(stderr, "evbus apply: %s\n", errstr);
        evb_buf_free(&text);
        return EVB_EXIT_INVALID;
    }
    evb_apply_diags_t diags;
    evb_apply_diags_init(&diags);
    evb_apply_load_opts_t lo = {.format = o->format};
    evb_err_t err = evb_apply_doc_load(o->file, text.data ? text.data : "",
                                       text.len, &lo, doc, &diags);
    evb_buf_free(&text);
    evb_apply_diags_print(&diags, stderr);
    evb_apply_diags_free(&diags);
    if (err == EVB_ERR_NOMEM) {
        fprintf(stderr, "evbus apply: out of memory\n");
        return EVB_EXIT_FAILURE;
    }
    return err ? EVB_EXIT_INVALID : EVB_EXIT_OK;
}

static int run(const opts_t *o, evb_apply_doc_t *doc) {
    char errstr[2048] = "";
    evb_apply_client_t *client = NULL;
    if (evb_apply_client_new(o->endpoint, &client, errstr, sizeof errstr)) {
        fprintf(stderr, "evbus apply: %s\n", errstr);
        return EVB_EXIT_INVALID;
    }
    int rc = EVB_EXIT_FAILURE;
    json_t *state = NULL;
    evb_apply_plan_t *plan = NULL;
    evb_apply_diags_t diags;
    evb_apply_diags_init(&diags);

    evb_err_t err =
        evb_apply_preflight(client, doc, &diags, errstr, sizeof errstr);
    if (err == EVB_ERR_INVALID_ARG) {
        evb_apply_diags_print(&diags, stderr);
        rc = EVB_EXIT_INVALID;
        goto out;
    }
    if (!err)
        err = evb_apply_state_read(client, doc, o->prune, &state, errstr,
                                   sizeof errstr);
    if (err) {
        fprintf(stderr, "evbus apply: %s\n", errstr);
        goto out;
    }
    evb_apply_plan_opts_t po = {.prune = o->prune};
    err = evb_apply_plan_compute(doc, state, &po, &plan, &diags);
    if (err) {
        evb_apply_diags_print(&diags, stderr);
        rc = err == EVB_ERR_INVALID_ARG ? EVB_EXIT_INVALID : EVB_EXIT_FAILURE;
        goto out;
    }
    evb_apply_plan_print(plan, stdout);
    size_t todo = evb_apply_plan_size(plan) -
                  evb_apply_plan_count(plan, EVB_APPLY_UNCHANGED);
    if (o->dry_run) {
        printf("Dry run: nothing was changed.\n");
        rc = EVB_EXIT_OK;
        goto out;
    }
    if (todo)
        printf("Applying to %s:\n", o->endpoint);
    fflush(stdout);
    err = evb_apply_plan_execute(plan, client, stdout, errstr, sizeof errstr);
    fflush(stdout);
    if (err) {
        if (err == EVB_ERR_INVALID_ARG)
            fprintf(stderr, "%s\n", errstr);
        else
            fprintf(stderr, "evbus apply: %s\n", errstr);
        fprintf(stderr, "evbus apply: stopped: the changes listed above were "
                        "made, the failing one may be partly made, the rest "
                        "were not; fix the cause and apply again\n");
        goto out;
    }
    if (todo)
        printf("Apply complete: %zu created, %zu updated, %zu deleted.\n",
               evb_apply_plan_count(plan, EVB_APPLY_CREATE),
               evb_apply_plan_count(plan, EVB_APPLY_UPDATE),
               evb_apply_plan_count(plan, EVB_APPLY_DELETE));
    else
        printf("Nothing to change.\n");
    rc = EVB_EXIT_OK;
out:
    evb_apply_diags_free(&diags);
    evb_apply_plan_free(plan);
    json_decref(state);
    evb_apply_client_free(client);
    return rc;
}

int evb_cli_apply(int argc, char **argv) {
    opts_t o = {.endpoint = EVB_APPLY_DEFAULT_ENDPOINT};
    int rc = parse_args(argc, argv, &o);
    if (rc != EVB_CLI_CONTINUE)
        return rc;
    if (o.reference) {
        evb_apply_reference_print(stdout);
        return EVB_EXIT_OK;
    }
    evb_apply_doc_t *doc = NULL;
    if ((rc = load(&o, &doc)))
        return rc;
    rc = run(&o, doc);
    evb_apply_doc_free(doc);
    return rc;
}
