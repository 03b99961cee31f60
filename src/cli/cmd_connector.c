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
 * the last line on stderr), 64 a bad command line or configuration.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "connector/connector.h"

void evb_cli_connector_usage(FILE *out) {
    fprintf(out,
            "usage: evbus connector --config FILE [--check | --print-config]\n"
            "       evbus connector --properties\n"
            "\n"
            "Read Kafka topics and send every record to an EventBridge bus "
            "with\n"
            "PutEvents, as the EventBridge sink connector for Kafka Connect "
            "does\n"
            "(same properties, same events), until SIGINT or SIGTERM.\n"
            "\n"
            "  --config FILE    the connector's properties: a JSON object "
            "(flat, or\n"
            "                   Kafka Connect's {\"name\",\"config\"}) or a "
            ".properties file\n"
            "  --check          check the configuration and the credentials, "
            "then exit\n"
            "  --print-config   print every property's effective value "
            "(secrets\n"
            "                   redacted), then exit\n"
            "  --properties     print the reference table of every property "
            "(Markdown)\n"
            "  -h, --help       this help\n"
            "\n"
            "exit status: 0 stopped by a signal, 1 the connector failed, 64 "
            "bad\n"
            "command line or configuration\n");
}

static evb_connector_t *running;

static void on_signal(int sig) {
    (void)sig;
    if (running)
        evb_connector_stop(running);
}

int evb_cli_connector(int argc, char **argv) {
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, 'k'},
        {"print-config", no_argument, NULL, 'p'},
        {"properties", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    bool check = false, print = false, properties = false;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "hc:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg; break;
        case 'k': check = true; break;
        case 'p': print = true; break;
        case 'P': properties = true; break;
        case 'h': evb_cli_connector_usage(stdout); return EVB_EXIT_OK;
        default:
            fprintf(stderr, "evbus connector: bad option '%s'\n",
                    argv[optind - 1]);
            evb_cli_connector_usage(stderr);
            return EVB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "evbus connector: unexpected argument '%s'\n",
                argv[optind]);
        return EVB_EXIT_USAGE;
    }
    if (properties) {
        evb_buf_t b;
        evb_buf_init(&b, 1u << 20);
        evb_err_t err = evb_connector_config_doc(&b);
        if (!err)
            fwrite(b.data, 1, b.len, stdout);
        evb_buf_free(&b);
        return err ? EVB_EXIT_FAILURE : EVB_EXIT_OK;
    }
    if (!path || (check && print)) {
        evb_cli_connector_usage(stderr);
        return EVB_EXIT_USAGE;
    }
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
