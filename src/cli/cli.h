/*
 * cli: the `evbus` command's subcommands, shared between main.c (which
 * only parses the subcommand name and dispatches through a table) and one
 * cmd_<name>.c file per subcommand.
 *
 * Every subcommand has the signature of evb_cli_fn: it receives its own
 * argument vector (argv[0] is the subcommand name), prints its result on
 * stdout and diagnostics on stderr, and returns the process exit status
 * (one of EVB_EXIT_*).
 */
#ifndef EVB_CLI_H
#define EVB_CLI_H

#include <stdio.h>

#ifndef EVB_VERSION
#define EVB_VERSION "0.1.0"
#endif

#include "options.h"

/* Exit statuses shared by every subcommand. */
#define EVB_EXIT_OK 0 /* success (test-pattern: whether or not it matched) */
#define EVB_EXIT_FAILURE 1 /* I/O or internal error */
#define EVB_EXIT_INVALID 2 /* invalid pattern or event */
#define EVB_EXIT_USAGE 64  /* bad command line (sysexits' EX_USAGE) */

typedef int (*evb_cli_fn)(int argc, char **argv);

/* One row of the subcommand table in main.c. */
typedef struct evb_cli_command {
    const char *name;
    evb_cli_fn run;
    void (*usage)(FILE *out); /* the subcommand's own help text */
    const char *summary;      /* one line for `evbus --help` */
} evb_cli_command_t;

/* `evbus test-pattern`: TestEventPattern on the command line. */
int evb_cli_test_pattern(int argc, char **argv);
void evb_cli_test_pattern_usage(FILE *out);

/* `evbus serve`: the API server in the foreground until SIGINT/SIGTERM. */
int evb_cli_serve(int argc, char **argv);
void evb_cli_serve_usage(FILE *out);
extern const evb_cli_spec_t evb_cli_serve_spec;

/* `evbus put`: PutEvents from arguments or stdin (JSON lines). */
int evb_cli_put(int argc, char **argv);
void evb_cli_put_usage(FILE *out);
extern const evb_cli_spec_t evb_cli_put_spec;

/* `evbus tail`: the events arriving on a bus, live. */
int evb_cli_tail(int argc, char **argv);
void evb_cli_tail_usage(FILE *out);
extern const evb_cli_spec_t evb_cli_tail_spec;

extern const evb_cli_spec_t evb_cli_test_pattern_spec;

/* `evbus apply`: make a running server match a YAML or JSON document. */
int evb_cli_apply(int argc, char **argv);
void evb_cli_apply_usage(FILE *out);
extern const evb_cli_spec_t evb_cli_apply_spec;

/* `evbus avro`: record values to JSON and JSON to framed Avro. */
int evb_cli_avro(int argc, char **argv);
void evb_cli_avro_usage(FILE *out);
extern const evb_cli_spec_t evb_cli_avro_spec; /* decode and encode are its
                                                  subcommands */

/* `evbus connector`: the EventBridge sink connector for Kafka. */
int evb_cli_connector(int argc, char **argv);
void evb_cli_connector_usage(FILE *out);
extern const evb_cli_spec_t evb_cli_connector_spec;

#endif
