/*
 * main.c: the `evbus` command's entry point. Wiring only: it looks the
 * first argument up in the subcommand table and hands the rest of the
 * command line to that subcommand (cmd_<name>.c). New subcommands (e.g.
 * `serve`) are one table row and one file, and one row of specs[]: the
 * command's options spec (options.h), which gives it its usage, man page
 * and reference section. help and version are specs of this file.
 *
 * `evbus help`:
 *   evbus help [COMMAND [SUB]]       usage of evbus, a command or one
 *                                    of a command's subcommands
 *   evbus help --man [COMMAND]       the man page (roff); evbus(1) alone
 *   evbus help --markdown [COMMAND]  the configuration reference, or a
 *                                    command's section of it
 * docs/man/ and docs/configuration.md are this output, committed
 * (scripts/gen-docs.sh; tests/cli/test_docs.sh checks they are current).
 *
 * Exit statuses: see EVB_EXIT_* in cli.h; a command line that names no
 * known subcommand prints the usage on stderr and exits 64.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static void help_usage(FILE *out);
static void version_usage(FILE *out);

enum { OPT_MAN = 1, OPT_MARKDOWN };

static const evb_cli_option_t help_options[] = {
    {"man", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "print the man page (roff) instead: evbus(1) without COMMAND", OPT_MAN, 0},
    {"markdown", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "print the configuration reference (Markdown) instead: COMMAND's "
     "section, or the whole reference without COMMAND",
     OPT_MARKDOWN, 0},
    EVB_CLI_OPTIONS_END,
};
static const evb_cli_option_group_t help_group = {NULL, help_options};
static const evb_cli_option_group_t *const help_groups[] = {&help_group, NULL};

static const evb_cli_spec_t help_spec = {
    .name = "help",
    .synopsis = "[--man | --markdown] [COMMAND [SUBCOMMAND]]",
    .summary = "show help for evbus or a subcommand",
    .description = "Print the usage of evbus, of COMMAND, or of one of "
                   "COMMAND's subcommands (`evbus help avro decode`).",
    .groups = help_groups,
    .notes = "docs/man/ and docs/configuration.md are this command's output "
             "(scripts/gen-docs.sh writes them).",
    .exit_status = "  0   printed\n"
                   "  64  usage, or no such command\n",
};

static const evb_cli_spec_t version_spec = {
    .name = "version",
    .summary = "print the version",
    .description = "Print the version of evbus (`evbus --version` does too).",
    .exit_status = "  0   printed\n"
                   "  64  usage\n",
};

static const evb_cli_command_t commands[] = {
    {"serve", evb_cli_serve, evb_cli_serve_usage,
     "run the EventBridge-compatible API server in the foreground"},
    {"apply", evb_cli_apply, evb_cli_apply_usage,
     "make a running server match a YAML or JSON document"},
    {"connector", evb_cli_connector, evb_cli_connector_usage,
     "send Kafka records to an event bus (the EventBridge sink connector)"},
    {"put", evb_cli_put, evb_cli_put_usage,
     "send events to a bus (PutEvents) from arguments or stdin"},
    {"tail", evb_cli_tail, evb_cli_tail_usage,
     "print the events arriving on a bus as they come"},
    {"test-pattern", evb_cli_test_pattern, evb_cli_test_pattern_usage,
     "test an event pattern against one event, or a bus's rules"},
    {"avro", evb_cli_avro, evb_cli_avro_usage,
     "decode Kafka record values to JSON, encode JSON to framed Avro"},
    {"version", cmd_version, version_usage, "print the version"},
    {"help", cmd_help, help_usage, "show help for evbus or a subcommand"},
};

/* Commands whose options and docs come from a spec (options.h): all of
 * them. */
static const evb_cli_spec_t *const specs[] = {
    &help_spec,          &version_spec,      &evb_cli_serve_spec,
    &evb_cli_put_spec,   &evb_cli_tail_spec, &evb_cli_test_pattern_spec,
    &evb_cli_apply_spec, &evb_cli_avro_spec, &evb_cli_connector_spec,
};

static const evb_cli_command_t *find_command(const char *name) {
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static const evb_cli_spec_t *find_spec(const char *name) {
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (strcmp(specs[i]->name, name) == 0)
            return specs[i];
    return NULL;
}

static void usage(FILE *out) {
    fprintf(out, "usage: evbus <command> [options]\n"
                 "       evbus --help | --version\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun `evbus help <command>` for a command's options.\n");
}

static void help_usage(FILE *out) {
    evb_cli_usage(&help_spec, out);
}

static void version_usage(FILE *out) {
    evb_cli_usage(&version_spec, out);
}

/* evbus(1): the overview page. */
static void man_overview(FILE *out) {
    fprintf(out,
            ".\\\" Generated by `evbus help --man`; do not edit.\n"
            ".TH EVBUS 1 \"\" \"evbus %s\" \"evbus manual\"\n"
            ".SH NAME\nevbus \\- a self-hosted event bus that speaks Amazon "
            "EventBridge's API\n"
            ".SH SYNOPSIS\n.B evbus\n\\fIcommand\\fR [options]\n"
            ".SH COMMANDS\n",
            EVB_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, ".TP\n\\fBevbus\\-%s\\fR(1)\n%s\n", commands[i].name,
                commands[i].summary);
    fputs(".SH SEE ALSO\ndocs/configuration.md\n", out);
}

/* The configuration reference: every command's options. */
static void markdown_reference(FILE *out) {
    fputs("# evbus configuration reference\n\n"
          "<!-- Generated by `evbus help --markdown`; do not edit. -->\n\n"
          "Every option of every `evbus` command, from the tables the "
          "commands parse\ntheir command lines with. `evbus help COMMAND` "
          "prints the same, and\n`man docs/man/evbus-COMMAND.1` shows it "
          "as a man page.\n\n",
          out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const evb_cli_spec_t *s = find_spec(commands[i].name);
        if (s)
            evb_cli_markdown(s, out);
        else
            evb_cli_markdown_from_usage(commands[i].name, commands[i].summary,
                                        commands[i].usage, out);
    }
}

typedef struct help_opts {
    bool man, markdown;
} help_opts_t;

static bool help_set(void *ud, const evb_cli_option_t *opt,
                     const evb_cli_value_t *v, char *why, size_t why_size) {
    (void)v;
    help_opts_t *o = ud;
    if ((opt->id == OPT_MAN && o->markdown) ||
        (opt->id == OPT_MARKDOWN && o->man)) {
        snprintf(why, why_size, "give --man or --markdown, not both");
        return false;
    }
    o->man |= opt->id == OPT_MAN;
    o->markdown |= opt->id == OPT_MARKDOWN;
    return true;
}

static int cmd_help(int argc, char **argv) {
    help_opts_t o = {false, false};
    int i;
    int rc =
        evb_cli_parse(&help_spec, argc, argv, help_set, &o, EVB_EXIT_USAGE, &i);
    if (rc != EVB_CLI_CONTINUE)
        return rc;
    bool man = o.man, markdown = o.markdown;
    /* COMMAND SUBCOMMAND for a command made of subcommands */
    const evb_cli_spec_t *sub = NULL;
    if (argc - i >= 2) {
        const evb_cli_spec_t *s = find_spec(argv[i]);
        sub = s ? evb_cli_find_subcommand(s, argv[i + 1]) : NULL;
        if (s && s->subcommands && !sub) {
            return evb_cli_usage_error(&help_spec, EVB_EXIT_USAGE,
                                       "unknown subcommand '%s %s'", argv[i],
                                       argv[i + 1]);
        }
    }
    int operands = sub ? 2 : 1; /* the most there may be */
    if (argc - i > operands)
        return evb_cli_usage_error(&help_spec, EVB_EXIT_USAGE,
                                   "unexpected argument '%s'",
                                   argv[i + operands]);
    if (i == argc) {
        if (man)
            man_overview(stdout);
        else if (markdown)
            markdown_reference(stdout);
        else
            usage(stdout);
        return EVB_EXIT_OK;
    }
    const evb_cli_command_t *c = find_command(argv[i]);
    if (!c) {
        fprintf(stderr, "evbus: unknown command '%s'\n", argv[i]);
        usage(stderr);
        return EVB_EXIT_USAGE;
    }
    const evb_cli_spec_t *s = sub ? sub : find_spec(c->name);
    if (man && s)
        evb_cli_man(s, EVB_VERSION, stdout);
    else if (man)
        evb_cli_man_from_usage(c->name, c->summary, c->usage, EVB_VERSION,
                               stdout);
    else if (markdown && s)
        evb_cli_markdown(s, stdout);
    else if (markdown)
        evb_cli_markdown_from_usage(c->name, c->summary, c->usage, stdout);
    else if (s)
        evb_cli_usage(s, stdout);
    else
        c->usage(stdout);
    return EVB_EXIT_OK;
}

static int cmd_version(int argc, char **argv) {
    int first;
    int rc = evb_cli_parse(&version_spec, argc, argv, NULL, NULL,
                           EVB_EXIT_USAGE, &first);
    if (rc != EVB_CLI_CONTINUE)
        return rc;
    if (first < argc)
        return evb_cli_usage_error(&version_spec, EVB_EXIT_USAGE,
                                   "unexpected argument '%s'", argv[first]);
    printf("evbus %s\n", EVB_VERSION);
    return EVB_EXIT_OK;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EVB_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        usage(stdout);
        return EVB_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
        name = "version";
    const evb_cli_command_t *c = find_command(name);
    if (!c) {
        if (name[0] == '-')
            fprintf(stderr, "evbus: unknown option '%s'\n", name);
        else
            fprintf(stderr, "evbus: unknown command '%s'\n", name);
        usage(stderr);
        return EVB_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
