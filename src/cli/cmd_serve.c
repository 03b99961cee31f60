/*
 * cmd_serve.c: `evbus serve`, the server in the foreground.
 *
 *   evbus serve [--listen HOST:PORT] [--data-dir DIR] [--account ID]
 *               [--region NAME] [--max-body-bytes N] [--max-connections N]
 *               [--idle-timeout SECONDS] [--msk-cluster ARN=HOST:PORT]...
 *               [--kafka-secret ARN=FILE]... [--kafka-property KEY=VALUE]...
 *               [--registry-url URL]
 *               [--credentials FILE|env] [--allow-anonymous]
 *
 * Wiring only: it starts the HTTP server (api/http.h) with the AWS API
 * handler (api/api.h), prints one line with the bound address on stderr,
 * and waits for SIGINT or SIGTERM. The default address is 127.0.0.1:4010:
 * loopback, and a port clear of LocalStack's 4566 so both can run side by
 * side. Authentication: with --credentials every request but GET /health
 * must carry a valid AWS Signature V4 from one of the keys of that AWS
 * shared-credentials file (or, with the word `env`, the one key in
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; a file
 * called "env" is given as ./env). Without credentials the server only
 * listens on loopback addresses unless --allow-anonymous says otherwise.
 *
 * Signals: the handler only writes the signal number to a pipe (async-
 * signal-safe); the main thread waits on the pipe and then shuts the
 * server down cleanly (requests in flight finish). SIGINT and SIGTERM are
 * blocked while the server's threads are created, so they inherit the
 * mask and the signal is always taken on the main thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "apidest/apidest.h"
#include "api/http.h"
#include "bus/bus.h"
#include "cli.h"
#include "delivery/delivery.h"
#include "registry/registry.h"
#include "pipes/pipes.h"
#include "schedule/schedule.h"
#include "serde/serde.h"
#include "sigv4/sigv4.h"
#include "serve_kafka.h"
#include "store/store.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define DEFAULT_LISTEN "127.0.0.1:4010"
#define DEFAULT_DATA_DIR "evbus-data"
/* HTTP worker loops. PutEvents waits for its group commit on the worker
 * that runs it, so more loops than cores let many requests wait at once
 * and share one commit. */
#define DEFAULT_HTTP_THREADS 32

void evb_cli_serve_usage(FILE *out) {
    fprintf(
        out,
        "usage: evbus serve [--listen HOST:PORT] [--data-dir DIR]\n"
        "                   [--account ID] [--region NAME]\n"
        "                   [--max-body-bytes N] [--max-connections N]\n"
        "                   [--idle-timeout SECONDS] [--max-entry-bytes N]\n"
        "                   [--credentials FILE|env] [--allow-anonymous]\n"
        "                   [--msk-cluster ARN=HOST:PORT[,HOST:PORT]]...\n"
        "                   [--kafka-secret ARN=FILE]...\n"
        "                   [--kafka-property KEY=VALUE]...\n"
        "                   [--registry-url URL]\n"
        "\n"
        "Run the EventBridge-compatible API server in the foreground until\n"
        "SIGINT or SIGTERM; requests in flight are finished first. Point "
        "the\n"
        "AWS CLI or an SDK at it with --endpoint-url http://HOST:PORT.\n"
        "State lives in the data dir and survives restarts; GET /health "
        "answers 200.\n"
        "\n"
        "  --listen HOST:PORT   address to listen on (default %s;\n"
        "                       [::1]:PORT for IPv6; port 0 picks a free "
        "port)\n"
        "  --data-dir DIR       where state is kept (SQLite, WAL); created "
        "if\n"
        "                       missing (default ./" DEFAULT_DATA_DIR ")\n"
        "  --account ID         12-digit account id in ARNs (default %s)\n"
        "  --region NAME        region in ARNs (default %s)\n"
        "  --max-body-bytes N   largest request body (default %zu); larger\n"
        "                       requests get 413\n"
        "  --max-connections N  simultaneous connections (default %u)\n"
        "  --idle-timeout S     close connections idle for S seconds "
        "(default %u)\n"
        "  --max-entry-bytes N  PutEvents limit on the total entry size "
        "(default\n"
        "                       1048576, EventBridge's since 2026; 262144 "
        "for the\n"
        "                       legacy 256 KB limit)\n"
        "  --credentials FILE   require AWS Signature V4 on every request "
        "(GET\n"
        "                       /health excepted), with the keys of an AWS\n"
        "                       shared-credentials file: one [section] per "
        "key with\n"
        "                       aws_access_key_id, aws_secret_access_key, "
        "optional\n"
        "                       aws_session_token and account_id; `env` "
        "takes the\n"
        "                       key from AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY\n"
        "  --allow-anonymous    listen on a non-loopback address without\n"
        "                       --credentials (refused otherwise)\n"
        "  --msk-cluster ARN=BOOTSTRAP\n"
        "                       EventBridge Pipes: read the MSK cluster ARN "
        "at these\n"
        "                       bootstrap servers (repeatable)\n"
        "  --kafka-secret ARN=FILE\n"
        "                       EventBridge Pipes: the Secrets Manager ARN "
        "that a\n"
        "                       pipe's Credentials or ServerRootCaCertificate "
        "names\n"
        "                       is the JSON in FILE (repeatable; see "
        "docs/pipes.md)\n"
        "  --kafka-property KEY=VALUE\n"
        "                       EventBridge Pipes: a librdkafka property for "
        "every\n"
        "                       pipe's consumer (repeatable)\n"
        "  --registry-url URL   EventBridge Pipes: decode Avro values "
        "(Confluent or\n"
        "                       Glue framing) with this Confluent-compatible "
        "schema\n"
        "                       registry instead of evbus's own\n",
        DEFAULT_LISTEN, EVB_API_DEFAULT_ACCOUNT, EVB_API_DEFAULT_REGION,
        EVB_HTTP_DEFAULT_MAX_BODY, EVB_HTTP_DEFAULT_MAX_CONNECTIONS,
        EVB_HTTP_DEFAULT_TIMEOUT_S);
    evb__serve_kafka_usage(out);
    fprintf(out,
            "\n"
            "On start it prints `evbus: listening on http://HOST:PORT ...` on "
            "stderr.\n"
            "exit status: 0 after a clean shutdown, 1 if the server cannot "
            "start,\n"
            "64 usage\n");
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("evbus serve: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    evb_cli_serve_usage(stderr);
    return EVB_EXIT_USAGE;
}

/* Parse a decimal number in [min, max]. */
static bool parse_uint(const char *s, unsigned long long min,
                       unsigned long long max, unsigned long long *out) {
    if (!s[0] || s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Split HOST:PORT (or [V6]:PORT) into host (copied into hostbuf) and port. */
static bool parse_listen(const char *s, char *hostbuf, size_t hostsize,
                         uint16_t *port) {
    const char *colon = strrchr(s, ':');
    if (!colon)
        return false;
    const char *h = s;
    size_t hlen = (size_t)(colon - s);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen)) {
        return false; /* a bare IPv6 address needs brackets */
    }
    if (hlen == 0 || hlen >= hostsize)
        return false;
    unsigned long long p;
    if (!parse_uint(colon + 1, 0, 65535, &p))
        return false;
    memcpy(hostbuf, h, hlen);
    hostbuf[hlen] = '\0';
    *port = (uint16_t)p;
    return true;
}

/* mkdir -p: create dir and its missing parents. */
static int make_dirs(const char *dir) {
    char path[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0750) != 0 && errno != EEXIST)
            return -1;
        path[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* ---- signals --------------------------------------------------------------
 */

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig) {
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t r = write(signal_pipe[1], &b, 1); /* full pipe: one is enough */
    (void)r;
    errno = saved;
}

static void http_log(void *ud, const char *line) {
    (void)ud;
    fprintf(stderr, "evbus: http: %s\n", line);
}

enum {
    OPT_LISTEN = 1,
    OPT_DATA_DIR,
    OPT_ACCOUNT,
    OPT_REGION,
    OPT_MAX_BODY,
    OPT_MAX_CONN,
    OPT_IDLE_TIMEOUT,
    OPT_MAX_ENTRY,
    OPT_CREDENTIALS,
    OPT_ALLOW_ANONYMOUS,
    OPT_MSK_CLUSTER,
    OPT_KAFKA_SECRET,
    OPT_KAFKA_PROPERTY,
    OPT_REGISTRY_URL,
    OPT_HELP
};

static const struct option long_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
    {"account", required_argument, NULL, OPT_ACCOUNT},
    {"region", required_argument, NULL, OPT_REGION},
    {"max-body-bytes", required_argument, NULL, OPT_MAX_BODY},
    {"max-connections", required_argument, NULL, OPT_MAX_CONN},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"max-entry-bytes", required_argument, NULL, OPT_MAX_ENTRY},
    {"credentials", required_argument, NULL, OPT_CREDENTIALS},
    {"allow-anonymous", no_argument, NULL, OPT_ALLOW_ANONYMOUS},
    {"msk-cluster", required_argument, NULL, OPT_MSK_CLUSTER},
    {"kafka-secret", required_argument, NULL, OPT_KAFKA_SECRET},
    {"kafka-property", required_argument, NULL, OPT_KAFKA_PROPERTY},
    {"registry-url", required_argument, NULL, OPT_REGISTRY_URL},
    {"help", no_argument, NULL, OPT_HELP},
    EVB_SERVE_KAFKA_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

/* ---- scheduled rules: the scheduler's view of the bus service ---------- */

typedef struct sched_glue {
    evb_bus_service_t *bus;
    evb_delivery_t *delivery;
} sched_glue_t;

typedef struct sched_visit {
    evb_schedule_visit_fn visit;
    void *arg;
} sched_visit_t;

static evb_err_t sched_visit_rule(void *arg, const char *bus, const char *name,
                                  const char *arn, const char *schedule,
                                  bool enabled, int64_t created_ms) {
    const sched_visit_t *v = arg;
    evb_schedule_rule_t r = {bus, name, arn, schedule, enabled, created_ms};
    return v->visit(v->arg, &r);
}

static evb_err_t sched_list(void *ud, evb_schedule_visit_fn visit,
                            void *visit_arg, char *errstr, size_t errstr_size) {
    const sched_glue_t *g = ud;
    sched_visit_t v = {visit, visit_arg};
    evb_err_t err = evb_bus_list_scheduled(g->bus, sched_visit_rule, &v);
    if (err)
        evb_err_set(err, errstr, errstr_size, "listing scheduled rules");
    return err;
}

/* The event's id: the scheduler writes {"version":"0","id":"<uuid>",...}. */
static bool event_id(const char *event, size_t len, char out[64]) {
    const char *p = memmem(event, len, "\"id\":\"", 6);
    if (!p)
        return false;
    p += 6;
    const char *q = memchr(p, '"', len - (size_t)(p - event));
    if (!q || q - p >= 64)
        return false;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    return true;
}

static evb_err_t sched_fire(void *ud, sqlite3 *db,
                            const evb_schedule_rule_t *rule, const char *event,
                            size_t len, char *errstr, size_t errstr_size) {
    const sched_glue_t *g = ud;
    char id[64];
    if (!event_id(event, len, id))
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "scheduled event without an id");
    return evb_bus_put_rule_event(g->bus, db, rule->bus, rule->name, id, event,
                                  len, errstr, errstr_size);
}

static void sched_fired(void *ud, const evb_schedule_rule_t *rule,
                        int64_t fire_ms) {
    (void)rule;
    (void)fire_ms;
    evb_delivery_kick(((const sched_glue_t *)ud)->delivery);
}

/* Run the server until a signal arrives; returns the exit status. */
/* Pipes options, as given on the command line (ARN=VALUE, split in place). */
#define MAX_PIPE_OPTS 64
typedef struct pipe_opts {
    evb_pipe_msk_cluster_t msk[MAX_PIPE_OPTS];
    size_t nmsk;
    evb_pipe_secret_t secrets[MAX_PIPE_OPTS];
    size_t nsecrets;
    const char *props[2 * MAX_PIPE_OPTS];
    size_t nprops; /* pairs */
    const char *registry_url; /* NULL: decode with the in-process registry */
} pipe_opts_t;

static int serve(const evb_http_config_t *hcfg, evb_api_config_t *acfg,
                 const char *data_dir, size_t max_entry_bytes,
                 evb__serve_kafka_t *kafka, const pipe_opts_t *popts) {
    char errstr[512] = "";
    evb_store_t *store = NULL;
    evb_bus_service_t *bus = NULL;
    evb_delivery_t *delivery = NULL;
    evb_queue_service_t *queues = NULL;
    evb_scheduler_t *scheduler = NULL;
    evb_archive_service_t *archive = NULL;
    evb_apidest_invoker_t *invoker = NULL;
    evb_registry_t *registry = NULL;
    evb_pipe_service_t *pipes = NULL;
    evb_serde_t *serde = NULL; /* Avro for pipes and Kafka targets */
    sched_glue_t glue = {NULL, NULL};
    evb_api_t *api = NULL;
    evb_store_opts_t sopts = {.dir = data_dir};
    evb_err_t err = evb_store_open(&sopts, &store, errstr, sizeof errstr);
    if (!err) {
        evb_bus_config_t bcfg = evb_bus_config_default();
        if (acfg->account_id)
            bcfg.account = acfg->account_id;
        if (acfg->region)
            bcfg.region = acfg->region;
        if (max_entry_bytes)
            bcfg.max_entries_bytes = max_entry_bytes;
        err = evb_bus_service_open(&bcfg, store, &bus, errstr, sizeof errstr);
    }
    if (!err &&
        evb_queue_service_new(store, evb_bus_region(bus), evb_bus_account(bus),
                              &queues) != EVB_QUEUE_ERR_OK)
        err =
            evb_err_set(EVB_ERR_NOMEM, errstr, sizeof errstr, "out of memory");
    if (!err) {
        evb_apidest_scope_t scope = {store, evb_bus_account(bus),
                                     evb_bus_region(bus)};
        err = evb_apidest_invoker_new(&scope, NULL, &invoker, errstr,
                                      sizeof errstr);
    }
    if (!err)
        err = evb__serve_kafka_start(kafka, errstr, sizeof errstr);
    if (!err)
        err = evb_registry_open(store, &registry, errstr, sizeof errstr);
    if (!err) {
        /* one codec for every pipe and for Kafka targets' Avro values,
         * over evbus's registry or --registry-url */
        evb_serde_config_t scfg = {.registry = popts->registry_url ? NULL
                                                                   : registry,
                                   .registry_url = popts->registry_url};
        err = evb_serde_new(&scfg, &serde, errstr, sizeof errstr);
    }
    if (!err) {
        evb_delivery_config_t dcfg = {
            .queues = queues, .invoker = invoker, .serde = serde};
        dcfg.kafka = evb__serve_kafka_clusters(kafka);
        err = evb_delivery_new(&dcfg, store, bus, true, &delivery, errstr,
                               sizeof errstr);
    }
    if (!err) {
        glue.bus = bus;
        glue.delivery = delivery;
        evb_scheduler_config_t scfg = {
            .store = store,
            .account = evb_bus_account(bus),
            .region = evb_bus_region(bus),
            .list = sched_list,
            .fire = sched_fire,
            .fired = sched_fired,
            .ud = &glue,
        };
        err = evb_scheduler_new(&scfg, &scheduler, errstr, sizeof errstr);
        if (!err)
            err = evb_scheduler_start(scheduler, errstr, sizeof errstr);
    }
    if (!err) {
        evb_archive_config_t arcfg = evb_archive_config_default();
        arcfg.delivery = delivery;
        err = evb_archive_service_open(&arcfg, store, bus, &archive, errstr,
                                       sizeof errstr);
        if (!err)
            evb_bus_set_capture(bus, evb_archive_capture_hook,
                                evb_archive_bus_wants, archive);
    }
    if (!err) {
        acfg->registry = registry;
        evb_pipe_service_config_t pcfg = {
            .store = store,
            .bus = bus,
            .delivery = delivery,
            .queues = queues,
            .invoker = invoker,
            .msk = popts->msk,
            .nmsk = popts->nmsk,
            .secrets = popts->secrets,
            .nsecrets = popts->nsecrets,
            .kafka_props = popts->props,
            .nkafka_props = popts->nprops,
            .decode = evb_pipe_serde_decode,
            .decode_ud = serde,
            .kafka_target = evb_pipe_kafka_produce,
            .kafka_target_ud = evb__serve_kafka_clusters(kafka),
        };
        err = evb_pipe_service_open(&pcfg, &pipes, errstr, sizeof errstr);
    }
    if (!err) {
        acfg->pipes = pipes;
        acfg->archive = archive;
        acfg->scheduler = scheduler;
        acfg->queues = queues;
        acfg->bus = bus;
        acfg->store = store;
        acfg->delivery = delivery;
        err = evb_api_new(acfg, &api, errstr, sizeof errstr);
    }
    if (err) {
        fprintf(stderr, "evbus serve: %s\n", errstr);
        evb_pipe_service_close(pipes);
        if (bus)
            evb_bus_set_capture(bus, NULL, NULL, NULL);
        evb_archive_service_close(archive);
        evb_scheduler_free(scheduler);
        evb_delivery_free(delivery);
        evb_apidest_invoker_free(invoker);
        evb_queue_service_free(queues);
        evb_bus_service_close(bus);
        evb_serde_free(serde);
        evb_registry_close(registry);
        evb_store_close(store);
        return err == EVB_ERR_INVALID_ARG ? EVB_EXIT_USAGE : EVB_EXIT_FAILURE;
    }
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        perror("evbus serve: pipe");
        evb_api_free(api);
        evb_pipe_service_close(pipes);
        if (bus)
            evb_bus_set_capture(bus, NULL, NULL, NULL);
        evb_archive_service_close(archive);
        evb_scheduler_free(scheduler);
        evb_delivery_free(delivery);
        evb_apidest_invoker_free(invoker);
        evb_queue_service_free(queues);
        evb_bus_service_close(bus);
        evb_serde_free(serde);
        evb_registry_close(registry);
        evb_store_close(store);
        return EVB_EXIT_FAILURE;
    }

    struct sigaction sa, old_int, old_term, old_pipe;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);

    /* the server's threads inherit a mask without SIGINT and SIGTERM */
    sigset_t block, old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old_mask);
    evb_http_server_t *srv = NULL;
    err = evb_http_server_start(hcfg, evb_api_handle, api, &srv, errstr,
                                sizeof errstr);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);

    int rc = EVB_EXIT_OK;
    if (err) {
        fprintf(stderr, "evbus serve: %s\n", errstr);
        rc = err == EVB_ERR_INVALID_ARG ? EVB_EXIT_USAGE : EVB_EXIT_FAILURE;
    } else {
        fprintf(stderr,
                "evbus: listening on http://%s (EventBridge API; account %s, "
                "region %s)\n",
                evb_http_server_address(srv), evb_api_account(api),
                evb_api_region(api));
        unsigned char sig = 0;
        for (;;) {
            struct pollfd pfd = {.fd = signal_pipe[0], .events = POLLIN};
            int n = poll(&pfd, 1, -1);
            if (n < 0 && errno != EINTR) {
                perror("evbus serve: poll");
                rc = EVB_EXIT_FAILURE;
                break;
            }
            if (n > 0 && read(signal_pipe[0], &sig, 1) == 1)
                break;
        }
        if (sig)
            fprintf(stderr, "evbus: %s received, shutting down\n",
                    sig == SIGINT ? "SIGINT" : "SIGTERM");
        evb_queue_service_shutdown(queues); /* end long polls */
        evb_http_server_stop(srv);
        fprintf(stderr, "evbus: stopped\n");
    }

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    signal_pipe[0] = signal_pipe[1] = -1;
    evb_api_free(api);
    /* the HTTP server has stopped: nothing can reach these any more */
    evb_pipe_service_close(pipes); /* runners stop, offsets committed */
    evb_bus_set_capture(bus, NULL, NULL, NULL);
    evb_archive_service_close(archive);
    evb_scheduler_free(scheduler);
    evb_delivery_free(delivery);
    evb_apidest_invoker_free(invoker);
    evb_queue_service_free(queues);
    evb_bus_service_close(bus);
    evb_serde_free(serde);
    evb_registry_close(registry);
    evb_store_close(store);
    return rc;
}

/* True if every address host resolves to is a loopback one (127/8, ::1,
 * ::ffff:127.x). A host that does not resolve is left for the server to
 * report. */
static bool host_is_loopback(const char *host) {
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai)
        return true;
    bool loop = true;
    for (struct addrinfo *a = ai; a && loop; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            const struct sockaddr_in *in = (const void *)a->ai_addr;
            loop = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        } else if (a->ai_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const void *)a->ai_addr;
            const uint8_t *b = in6->sin6_addr.s6_addr;
            loop = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
                   (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127);
        } else {
            loop = false;
        }
    }
    freeaddrinfo(ai);
    return loop;
}

/* The verifier for --credentials: the file's keys, or the environment's
 * key for "env". NULL after printing why. */
static evb_sigv4_verifier_t *load_credentials(const char *what,
                                              const char *region, int *rc) {
    /* the signing names of the APIs evbus serves */
    static const char *const services[] = {"events", "logs",    "sqs",
                                           "pipes",  "schemas", NULL};
    evb_sigv4_verifier_config_t vc = {.region = region, .services = services};
    evb_sigv4_verifier_t *v = NULL;
    char why[512];
    evb_err_t err = evb_sigv4_verifier_new(&vc, &v, why, sizeof why);
    if (!err && strcmp(what, "env") == 0)
        err = evb_sigv4_verifier_load_env(v, NULL, why, sizeof why);
    else if (!err)
        err = evb_sigv4_verifier_load_file(v, what, why, sizeof why);
    if (err) {
        fprintf(stderr, "evbus serve: --credentials: %s\n", why);
        evb_sigv4_verifier_free(v);
        *rc = err == EVB_ERR_NOMEM ? EVB_EXIT_FAILURE : EVB_EXIT_USAGE;
        return NULL;
    }
    return v;
}

static int serve_main(int argc, char **argv, evb__serve_kafka_t *kafka) {
    const char *listen = DEFAULT_LISTEN, *data_dir = DEFAULT_DATA_DIR;
    size_t max_entry_bytes = 0;
    const char *credentials = NULL;
    bool allow_anonymous = false;
    evb_http_config_t hcfg = evb_http_config_default();
    evb_api_config_t acfg = {.account_id = NULL, .region = NULL};
    static pipe_opts_t popts;
    memset(&popts, 0, sizeof popts);
    unsigned long long v;
    char kwhy[700];
    char *eq;

    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+:h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: listen = optarg; break;
        case OPT_DATA_DIR: data_dir = optarg; break;
        case OPT_ACCOUNT: acfg.account_id = optarg; break;
        case OPT_REGION: acfg.region = optarg; break;
        case OPT_MAX_BODY:
            if (!parse_uint(optarg, 1, SIZE_MAX / 4, &v))
                return usage_error("--max-body-bytes: not a positive number: "
                                   "'%s'",
                                   optarg);
            hcfg.max_body_bytes = (size_t)v;
            break;
        case OPT_MAX_CONN:
            if (!parse_uint(optarg, 1, 1000000, &v))
                return usage_error("--max-connections: not a number in "
                                   "1..1000000: '%s'",
                                   optarg);
            hcfg.max_connections = (unsigned)v;
            break;
        case OPT_IDLE_TIMEOUT:
            if (!parse_uint(optarg, 1, 86400, &v))
                return usage_error("--idle-timeout: not a number of seconds "
                                   "in 1..86400: '%s'",
                                   optarg);
            hcfg.timeout_s = (unsigned)v;
            break;
        case 'h':
        case OPT_MAX_ENTRY:
            if (!parse_uint(optarg, 1, 64ull * 1024 * 1024, &v))
                return usage_error("--max-entry-bytes: not a number in "
                                   "1..67108864: '%s'",
                                   optarg);
            max_entry_bytes = (size_t)v;
            break;
        case OPT_CREDENTIALS: credentials = optarg; break;
        case OPT_ALLOW_ANONYMOUS: allow_anonymous = true; break;
        case EVB_SERVE_OPT_KAFKA_CONFIG:
        case EVB_SERVE_OPT_KAFKA_CONFIG_FILE:
        case EVB_SERVE_OPT_KAFKA_CLUSTER:
        case EVB_SERVE_OPT_EMBEDDED_KAFKA:
            if (!evb__serve_kafka_option(kafka, c, optarg, kwhy, sizeof kwhy))
                return usage_error("%s", kwhy);
            break;
        case OPT_MSK_CLUSTER:
            eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1] || popts.nmsk == MAX_PIPE_OPTS)
                return usage_error("--msk-cluster: expected ARN=HOST:PORT, "
                                   "got '%s'",
                                   optarg);
            *eq = '\0';
            popts.msk[popts.nmsk++] = (evb_pipe_msk_cluster_t){optarg, eq + 1};
            break;
        case OPT_KAFKA_SECRET:
            eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1] ||
                popts.nsecrets == MAX_PIPE_OPTS)
                return usage_error("--kafka-secret: expected ARN=FILE, got "
                                   "'%s'",
                                   optarg);
            *eq = '\0';
            popts.secrets[popts.nsecrets++] =
                (evb_pipe_secret_t){optarg, eq + 1};
            break;
        case OPT_REGISTRY_URL:
            if (strncmp(optarg, "http://", 7) != 0 &&
                strncmp(optarg, "https://", 8) != 0)
                return usage_error("--registry-url: expected an http:// or "
                                   "https:// URL, got '%s'",
                                   optarg);
            popts.registry_url = optarg;
            break;
        case OPT_KAFKA_PROPERTY:
            eq = strchr(optarg, '=');
            if (!eq || eq == optarg || popts.nprops == MAX_PIPE_OPTS)
                return usage_error("--kafka-property: expected KEY=VALUE, "
                                   "got '%s'",
                                   optarg);
            *eq = '\0';
            popts.props[2 * popts.nprops] = optarg;
            popts.props[2 * popts.nprops + 1] = eq + 1;
            popts.nprops++;
            break;
        case OPT_HELP: evb_cli_serve_usage(stdout); return EVB_EXIT_OK;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);

    char host[256];
    if (!parse_listen(listen, host, sizeof host, &hcfg.port))
        return usage_error("--listen: expected HOST:PORT, got '%s'", listen);
    hcfg.host = host;
    hcfg.log = http_log;

    if (!hcfg.threads)
        hcfg.threads = DEFAULT_HTTP_THREADS;
    /* refuse bad settings before the data dir and the store exist */
    char why[256];
    if (evb_api_config_check(&acfg, why, sizeof why))
        return usage_error("%s", why);
    if (!credentials && !allow_anonymous && !host_is_loopback(host))
        return usage_error("refusing to listen on %s without --credentials: "
                           "anyone who can reach it could use the API (give "
                           "--credentials FILE, or --allow-anonymous)",
                           host);
    evb_sigv4_verifier_t *verifier = NULL;
    if (credentials) {
        int rc = EVB_EXIT_FAILURE;
        verifier = load_credentials(
            credentials, acfg.region ? acfg.region : EVB_API_DEFAULT_REGION,
            &rc);
        if (!verifier)
            return rc;
        acfg.verifier = verifier;
        fprintf(
            stderr, "evbus: AWS Signature V4 required (%zu key%s from %s)\n",
            evb_sigv4_verifier_key_count(verifier),
            evb_sigv4_verifier_key_count(verifier) == 1 ? "" : "s",
            strcmp(credentials, "env") == 0 ? "the environment" : credentials);
    }
    if (!evb__serve_kafka_prepare(kafka, kwhy, sizeof kwhy)) {
        evb_sigv4_verifier_free(verifier);
        return usage_error("%s", kwhy);
    }
    if (make_dirs(data_dir) != 0) {
        fprintf(stderr, "evbus serve: cannot create data dir '%s': %s\n",
                data_dir, strerror(errno));
        evb_sigv4_verifier_free(verifier);
        return EVB_EXIT_FAILURE;
    }
    int rc = serve(&hcfg, &acfg, data_dir, max_entry_bytes, kafka, &popts);
    evb_sigv4_verifier_free(verifier);
    return rc;
}

int evb_cli_serve(int argc, char **argv) {
    evb__serve_kafka_t *kafka = evb__serve_kafka_new();
    if (!kafka) {
        fprintf(stderr, "evbus serve: out of memory\n");
        return EVB_EXIT_FAILURE;
    }
    int rc = serve_main(argc, argv, kafka);
    /* after the delivery engine: producers flush, then the embedded
     * cluster stops */
    evb__serve_kafka_free(kafka);
    return rc;
}
