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
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apply/apply.h"
#include "cli.h"

/* The largest document read. */
#define FILE_MAX (16u << 20)

void evb_cli_apply_usage(FILE *out) {
    fprintf(out,
            "usage: evbus apply -f FILE [--endpoint-url URL] [--dry-run] "
            "[--prune]\n"
            "                   [--format yaml|json]\n"
            "\n"
            "Make a running evbus server match FILE: its buses, connections, "
            "API\n"
            "destinations, rules and targets, archives, queues, log groups, "
            "schema\n"
            "registry subjects and pipes.\n"
            "Prints the plan (create, update, delete, unchanged), then "
            "applies it.\n"
            "\n"
            "  -f, --file FILE       the document, YAML or JSON (- reads "
            "stdin)\n"
            "      --endpoint-url URL\n"
            "                        the server (default %s)\n"
            "      --dry-run         print the plan and change nothing\n"
            "      --prune           also delete resources missing from "
            "FILE that apply\n"
            "                        does not manage (hand-made ones)\n"
            "      --format FMT      yaml or json (default: by extension, "
            "then content)\n"
            "      --reference       print the reference of the file format "
            "(Markdown)\n"
            "  -h, --help            this help\n"
            "\n"
            "${NAME} in a string is the environment variable NAME (secrets "
            "belong there).\n"
            "Only resources apply created or adopted for the file's stack "
            "are deleted\n"
            "when they leave the file (see docs/cli/apply.md).\n"
            "\n"
            "exit status: 0 success, 1 the apply failed, 2 invalid file or "
            "usage\n",
            EVB_APPLY_DEFAULT_ENDPOINT);
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("evbus apply: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    evb_cli_apply_usage(stderr);
    return EVB_EXIT_INVALID;
}

typedef struct opts {
    const char *file;
    const char *endpoint;
    bool dry_run, prune, reference;
    evb_apply_format_t format;
} opts_t;

static int parse_args(int argc, char **argv, opts_t *o, bool *help) {
    enum { O_ENDPOINT = 256, O_DRY_RUN, O_PRUNE, O_FORMAT, O_REFERENCE };
    static const struct option longopts[] = {
        {"file", required_argument, NULL, 'f'},
        {"endpoint-url", required_argument, NULL, O_ENDPOINT},
        {"dry-run", no_argument, NULL, O_DRY_RUN},
        {"prune", no_argument, NULL, O_PRUNE},
        {"format", required_argument, NULL, O_FORMAT},
        {"reference", no_argument, NULL, O_REFERENCE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *help = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': o->file = optarg; break;
        case O_ENDPOINT: o->endpoint = optarg; break;
        case O_DRY_RUN: o->dry_run = true; break;
        case O_PRUNE: o->prune = true; break;
        case O_FORMAT:
            if (strcmp(optarg, "yaml") == 0)
                o->format = EVB_APPLY_FORMAT_YAML;
            else if (strcmp(optarg, "json") == 0)
                o->format = EVB_APPLY_FORMAT_JSON;
            else
                return usage_error("--format must be yaml or json, not '%s'",
                                   optarg);
            break;
        case 'h': *help = true; return EVB_EXIT_OK;
        case O_REFERENCE: o->reference = true; return EVB_EXIT_OK;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (!o->file)
        return usage_error("-f FILE is required");
    return EVB_EXIT_OK;
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
    bool help;
    int rc = parse_args(argc, argv, &o, &help);
    if (rc)
        return rc;
    if (help) {
        evb_cli_apply_usage(stdout);
        return EVB_EXIT_OK;
    }
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
