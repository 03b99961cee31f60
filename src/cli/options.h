/*
 * options.h: the one table behind every command's command line and docs.
 *
 * A command is described once (evb_cli_spec_t): its synopsis, summary,
 * description, exit statuses and groups of options, each option a row
 * (evb_cli_option_t: name, value type and range, default, help). From
 * that one description come
 *   - parsing (evb_cli_parse: getopt_long built from the rows, values
 *     checked against the row's type and range, defaults applied, --help),
 *   - `evbus <command> --help` and `evbus help <command>` (evb_cli_usage),
 *   - the man page docs/man/evbus-<command>.1 (evb_cli_man), and
 *   - the configuration reference docs/configuration.md
 *     (evb_cli_markdown),
 * so nothing is written twice; tests/cli/test_docs.sh checks that the
 * committed docs are what the code generates (scripts/gen-docs.sh writes
 * them).
 *
 * Adding an option is one row in a group and one case in the command's
 * set function (the row's id). A module that brings options of its own
 * to a command (serve_kafka.c's Kafka group) exports an
 * evb_cli_option_group_t and the command lists it in its spec's groups;
 * its ids take a range of their own (EVB_CLI_ID_* below) so that one set
 * function can route them.
 */
#ifndef EVB_CLI_OPTIONS_H
#define EVB_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum evb_cli_opt_type {
    EVB_CLI_FLAG,   /* no value */
    EVB_CLI_STRING, /* any text */
    EVB_CLI_UINT,   /* a decimal number in [min, max] */
    EVB_CLI_CHOICE, /* one of the words of choices ("text|json") */
} evb_cli_opt_type_t;

/* Row flags. */
#define EVB_CLI_REPEATABLE                                                     \
    1u /* each occurrence adds (said in the docs);                             \
          otherwise the last one given wins */
#define EVB_CLI_DEFAULT_DOC                                                    \
    2u /* def is documentation only (the code                                  \
          works the default out); not applied */

/* Id ranges, so that groups from several files can share a set function:
 * a command's own options below 0x100, Kafka 0x100.., pipes 0x200..,
 * the client's 0x300.. */
#define EVB_CLI_ID_KAFKA 0x100
#define EVB_CLI_ID_PIPES 0x200
#define EVB_CLI_ID_CLIENT 0x300 /* client.h's --endpoint-url, ... */

typedef struct evb_cli_option {
    const char *name; /* long name without "--"; NULL ends a group */
    char short_name;  /* 0: none */
    evb_cli_opt_type_t type;
    const char *arg;             /* the value's name in docs ("HOST:PORT") */
    const char *def;             /* default value, as given on the command
                                    line; NULL: none */
    unsigned long long min, max; /* EVB_CLI_UINT */
    const char *choices;         /* EVB_CLI_CHOICE */
    const char *help;            /* one paragraph, wrapped when printed */
    int id;                      /* > 0; handed to the set function */
    unsigned flags;
} evb_cli_option_t;

/* The row that ends a group. */
#define EVB_CLI_OPTIONS_END                                                    \
    { NULL, 0, 0, NULL, NULL, 0, 0, NULL, NULL, 0, 0 }

typedef struct evb_cli_option_group {
    const char *title;               /* NULL: the command's own options */
    const evb_cli_option_t *options; /* ends with a row whose name is NULL */
} evb_cli_option_group_t;

typedef struct evb_cli_spec {
    const char *name;        /* "serve"; a subcommand's "avro decode" */
    const char *synopsis;    /* what follows `evbus <name>`; NULL:
                                "[options]" */
    const char *summary;     /* one line, for `evbus --help` and NAME */
    const char *description; /* paragraphs separated by blank lines */
    const evb_cli_option_group_t *const *groups; /* NULL-terminated */
    const char *exit_status; /* one line per status, "0  meaning" */
    const char *notes;       /* more paragraphs after the options, or NULL */
    /* Groups parsed like groups but left out of the usage, man page and
     * Markdown, and their defaults not applied (NULL-terminated, or
     * NULL): a sibling subcommand's options, so that set can say which
     * subcommand they belong to rather than the parser calling them
     * unknown. */
    const evb_cli_option_group_t *const *unlisted;
    /* A command made of subcommands (`evbus avro decode ...`): their
     * specs, NULL-terminated, each named "<name> <subcommand>"; NULL for
     * a plain command. The command's usage lists them; its man page and
     * Markdown hold each one's synopsis, description and options in full,
     * and the command's exit status and notes (a subcommand's own exit
     * status shows in its usage only). */
    const struct evb_cli_spec *const *subcommands;
} evb_cli_spec_t;

/* A parsed value: str is the text as given (NULL for a flag); num its
 * value for EVB_CLI_UINT. */
typedef struct evb_cli_value {
    const char *str;
    unsigned long long num;
} evb_cli_value_t;

/*
 * Take one option (or a default, before the command line is read).
 * Return true, or false with a message (without the command's name) in
 * why, which makes it a usage error.
 */
typedef bool (*evb_cli_set_fn)(void *ud, const evb_cli_option_t *opt,
                               const evb_cli_value_t *v, char *why,
                               size_t why_size);

/* evb_cli_parse's result when the command should go on. */
#define EVB_CLI_CONTINUE (-1)

/*
 * Parse argv (argv[0] is the command's name): defaults first (rows of
 * the spec's groups with def and without EVB_CLI_DEFAULT_DOC), then
 * every option in order, each checked against its row and handed to set.
 * Options stop at the first operand or "--"; *first_operand receives its
 * index. -h and --help print the usage on stdout.
 * Returns EVB_CLI_CONTINUE, or the exit status to leave with: 0 after
 * --help, usage_status after a usage error (printed on stderr as
 * "evbus <name>: <message>" and the usage: unknown option '--x', option
 * '--x' needs a value, option '--x' takes no value, ambiguous option
 * '--x' (--xa, --xb), or set's message).
 */
int evb_cli_parse(const evb_cli_spec_t *spec, int argc, char **argv,
                  evb_cli_set_fn set, void *ud, int usage_status,
                  int *first_operand);

/*
 * For a command with subcommands: parse the options before the
 * subcommand's name (--help, and the spec's own groups when it has any;
 * set may be NULL when it has none), then look the name up. `evbus <name>
 * help [SUB]` is --help (of SUB when given). Returns EVB_CLI_CONTINUE with
 * *sub set and *sub_index the index of the subcommand's name in argv
 * (hand argv + *sub_index to evb_cli_parse with *sub), or the exit status
 * to leave with: 0 after help, usage_status after a usage error ("missing
 * subcommand: decode or encode", "unknown subcommand 'x' (decode or
 * encode)", or evb_cli_parse's).
 */
int evb_cli_parse_subcommand(const evb_cli_spec_t *spec, int argc, char **argv,
                             evb_cli_set_fn set, void *ud, int usage_status,
                             const evb_cli_spec_t **sub, int *sub_index);

/* A subcommand's spec by its name ("decode" in spec "avro"), or NULL. */
const evb_cli_spec_t *evb_cli_find_subcommand(const evb_cli_spec_t *spec,
                                              const char *name);

/* Print "evbus <name>: <message>" and the usage on stderr; returns
 * status. */
int evb_cli_usage_error(const evb_cli_spec_t *spec, int status, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));

/* `evbus <name> --help`. */
void evb_cli_usage(const evb_cli_spec_t *spec, FILE *out);

/* The man page (roff, man(7) macros). version goes in the footer. */
void evb_cli_man(const evb_cli_spec_t *spec, const char *version, FILE *out);

/* The command's section of the configuration reference (Markdown). */
void evb_cli_markdown(const evb_cli_spec_t *spec, FILE *out);

/* Man page and Markdown for a command without a spec, from its usage
 * text (kept preformatted). */
void evb_cli_man_from_usage(const char *name, const char *summary,
                            void (*usage)(FILE *), const char *version,
                            FILE *out);
void evb_cli_markdown_from_usage(const char *name, const char *summary,
                                 void (*usage)(FILE *), FILE *out);

/* Find a row by long name in spec's groups and unlisted groups (tests
 * and tools). */
const evb_cli_option_t *evb_cli_find_option(const evb_cli_spec_t *spec,
                                            const char *name);

#endif
