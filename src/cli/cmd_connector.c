/*
 * cmd_connector.c: `evbus connector --config FILE`, the EventBridge sink
 * connector for Kafka as a process of its own (docs/cli/connector.md).
 *
 * Wiring only; the work is the connector module's
 * (src/connector/connector.h): load and check the configuration, find the
 * credentials, then run until SIGINT or SIGTERM (the handler only sets
 * the connector's stop flag, which is async-signal-safe) or until the
 * task fails.
 *
 * Exit status: 0 after a stop by signal, 1 the task failed (the reason is
 * the last line on stderr), 64 a bad command line or configuration. The
 * command line comes from the option table below (options.h), which also
 * gives `evbus help connector`, the man page and the reference section.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "connector/connector.h"

enum { OPT_CONFIG = 1, OPT_CHECK, OPT_PRINT_CONFIG, OPT_PROPERTIES };

static const evb_cli_option_t connector_options[] = {
    {"config", 'c', EVB_CLI_STRING, "FILE", NULL, 0, 0, NULL,
     "the connector's properties: a JSON object (flat, or Kafka Connect's "
     "{\"name\",\"config\"}) or a .properties file; required",
     OPT_CONFIG, 0},
    {"check", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "check the configuration and the credentials, then exit", OPT_CHECK, 0},
    {"print-config", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "print every property's effective value (secrets redacted), then exit",
     OPT_PRINT_CONFIG, 0},
    {"properties", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "print the reference table of every property (Markdown) and exit; "
     "needs no --config",
     OPT_PROPERTIES, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_group_t connector_group = {NULL, connector_options};
static const evb_cli_option_group_t *const connector_groups[] = {
    &connector_group, NULL};

const evb_cli_spec_t evb_cli_connector_spec = {
    .name = "connector",
    .synopsis = "--config FILE [--check | --print-config]",
    .summary =
        "send Kafka records to an event bus (the EventBridge sink connector)",
    .description =
        "Read Kafka topics and send every record to an EventBridge bus with "
        "PutEvents, as the EventBridge sink connector for Kafka Connect does "
        "(same properties, same events), until SIGINT or SIGTERM. `evbus "
        "connector --properties` prints the reference of every property "
        "(docs/cli/connector.md).",
    .groups = connector_groups,
    .exit_status = "  0   stopped by a signal (or --check, --print-config, "
                   "--properties done)\n"
                   "  1   the connector failed (the reason is the last line "
                   "on stderr)\n"
                   "  64  bad command line or configuration\n",
};

void evb_cli_connector_usage(FILE *out) {
    evb_cli_usage(&evb_cli_connector_spec, out);
}

typedef struct connector_opts {
    const char *path;
    bool check, print, properties;
} connector_opts_t;

static bool set(void *ud, const evb_cli_option_t *opt, const evb_cli_value_t *v,
                char *why, size_t why_size) {
    (void)why;
    (void)why_size;
    connector_opts_t *o = ud;
    switch (opt->id) {
    case OPT_CONFIG: o->path = v->str; return true;
    case OPT_CHECK: o->check = true; return true;
    case OPT_PRINT_CONFIG: o->print = true; return true;
    case OPT_PROPERTIES: o->properties = true; return true;
    default: return false;
    }
}

static evb_connector_t *running;

static void on_signal(int sig) {
    (void)sig;
    if (running)
        evb_connector_stop(running);
}

int evb_cli_connector(int argc, char **argv) {
    connector_opts_t o = {0};
    int first;
    int rc = evb_cli_parse(&evb_cli_connector_spec, argc, argv, set, &o,
                           EVB_EXIT_USAGE, &first);
    if (rc != EVB_CLI_CONTINUE)
        return rc;
    if (first < argc)
        return evb_cli_usage_error(&evb_cli_connector_spec, EVB_EXIT_USAGE,
                                   "unexpected argument '%s'", argv[first]);
    if (o.properties) {
        evb_buf_t b;
        evb_buf_init(&b, 1u << 20);
        evb_err_t err = evb_connector_config_doc(&b);
        if (!err)
            fwrite(b.data, 1, b.len, stdout);
        evb_buf_free(&b);
        return err ? EVB_EXIT_FAILURE : EVB_EXIT_OK;
    }
    if (!o.path)
        return evb_cli_usage_error(&evb_cli_connector_spec, EVB_EXIT_USAGE,
                                   "--config FILE is required");
    if (o.check && o.print)
        return evb_cli_usage_error(&evb_cli_connector_spec, EVB_EXIT_USAGE,
                                   "give --check or --print-config, not both");
    const char *path = o.path;
    bool check = o.check, print = o.print;
    char errstr[1024];
    evb_connector_config_t *cfg = NULL;
    evb_err_t err =
        evb_connector_config_load(path, &cfg, errstr, sizeof errstr);
    if (err) {
        fprintf(stderr, "evbus connector: %s\n", errstr);
        return err == EVB_ERR_NOMEM ? EVB_EXIT_FAILURE : EVB_EXIT_USAGE;
    }
    if (print) {
        evb_buf_t b;
        evb_buf_init(&b, 1u << 20);
        err = evb_connector_config_describe(cfg, &b);
        if (!err)
            fwrite(b.data, 1, b.len, stdout);
        evb_buf_free(&b);
        evb_connector_config_free(cfg);
        return err ? EVB_EXIT_FAILURE : EVB_EXIT_OK;
    }
    evb_connector_t *k = NULL;
    err = evb_connector_new(cfg, &k, errstr, sizeof errstr);
    if (err) {
        fprintf(stderr, "evbus connector: %s\n", errstr);
        evb_connector_config_free(cfg);
        return err == EVB_ERR_INVALID_ARG ? EVB_EXIT_USAGE : EVB_EXIT_FAILURE;
    }
    if (check) {
        printf("%s: configuration OK\n", path);
        evb_connector_free(k);
        evb_connector_config_free(cfg);
        return EVB_EXIT_OK;
    }
    running = k;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    err = evb_connector_run(k, errstr, sizeof errstr);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, NULL);
    running = NULL;
    evb_connector_free(k);
    evb_connector_config_free(cfg);
    if (err) {
        fprintf(stderr, "evbus connector: failed: %s\n", errstr);
        return EVB_EXIT_FAILURE;
    }
    fprintf(stderr, "evbus connector: stopped\n");
    return EVB_EXIT_OK;
}
