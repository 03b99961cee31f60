/*
 * main.c: the `evbus` command's entry point. Wiring only: it looks the
 * first argument up in the subcommand table and hands the rest of the
 * command line to that subcommand (cmd_<name>.c). New subcommands (e.g.
 * `serve`) are one table row and one file.
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

static const evb_cli_command_t commands[] = {
    {"serve", evb_cli_serve, evb_cli_serve_usage,
     "run the EventBridge-compatible API server in the foreground"},
    {"apply", evb_cli_apply, evb_cli_apply_usage,
     "make a running server match a YAML or JSON document"},
    {"connector", evb_cli_connector, evb_cli_connector_usage,
     "send Kafka records to an event bus (the EventBridge sink connector)"},
    {"test-pattern", evb_cli_test_pattern, evb_cli_test_pattern_usage,
     "test an event pattern against one event (TestEventPattern)"},
    {"avro", evb_cli_avro, evb_cli_avro_usage,
     "decode Kafka record values to JSON, encode JSON to framed Avro"},
    {"version", cmd_version, version_usage, "print the version"},
    {"help", cmd_help, help_usage, "show help for evbus or a subcommand"},
};

static const evb_cli_command_t *find_command(const char *name) {
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
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
    fprintf(out, "usage: evbus help [command]\n");
}

static void version_usage(FILE *out) {
    fprintf(out, "usage: evbus version\n");
}

static int cmd_help(int argc, char **argv) {
    if (argc == 1) {
        usage(stdout);
        return EVB_EXIT_OK;
    }
    const evb_cli_command_t *c = argc == 2 ? find_command(argv[1]) : NULL;
    if (!c) {
        if (argc == 2)
            fprintf(stderr, "evbus: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return EVB_EXIT_USAGE;
    }
    c->usage(stdout);
    return EVB_EXIT_OK;
}

static int cmd_version(int argc, char **argv) {
    if (argc > 1 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        version_usage(stdout);
        return EVB_EXIT_OK;
    }
    if (argc > 1) {
        fprintf(stderr, "evbus version: unexpected argument '%s'\n", argv[1]);
        version_usage(stderr);
        return EVB_EXIT_USAGE;
    }
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
