/*
 * cmd_serve.c: `evbus serve`, the server in the foreground.
 *
 * Wiring only: it starts the HTTP server (api/http.h) with the AWS API
 * handler (api/api.h), prints one line with the bound address on stderr,
 * and waits for SIGINT or SIGTERM. The default address is 127.0.0.1:4010:
 * loopback, and a port clear of LocalStack's 4566 so both can run side by
 * side. Authentication: with --credentials every request but GET /health
 * and GET /ready (and GET /metrics with --public-metrics) must carry a
 * valid AWS Signature V4 from one of the keys of that AWS
 * shared-credentials file (or, with the word `env`, the one key in
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; a file
 * called "env" is given as ./env). Without credentials the server only
 * listens on loopback addresses unless --allow-anonymous says otherwise.
 *
 * Options: one table (serve_groups below, plus serve_kafka.c's group)
 * drives parsing, --help, the man page and the configuration reference
 * (options.h). To add an option: a row in a group and a case in set().
 *
 * Signals: the handler only writes the signal number to a pipe (async-
 * signal-safe); the main thread waits on the pipe and then shuts the
 * server down cleanly: /ready turns 503, requests in flight finish
 * (--drain-timeout), then the workers stop (the delivery batch in hand
 * is settled). A watchdog bounds the whole shutdown: past twice the
 * drain timeout plus 10 s the process exits at once with status 1, which
 * loses nothing acknowledged (every acknowledged event and delivery is
 * committed; a delivery cut off is made again on restart). SIGINT and
 * SIGTERM are blocked while the server's threads are created, so they
 * inherit the mask and the signal is always taken on the main thread.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "apidest/apidest.h"
#include "api/http.h"
#include "bus/bus.h"
#include "cli.h"
#include "delivery/delivery.h"
#include "metrics/metrics.h"
#include "options.h"
#include "pipes/pipes.h"
#include "registry/registry.h"
#include "schedule/schedule.h"
#include "serde/serde.h"
#include "sigv4/sigv4.h"
#include "serve_kafka.h"
#include "store/store.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* HTTP worker loops. PutEvents waits for its group commit on the worker
 * that runs it, so more loops than cores let many requests wait at once
 * and share one commit. */
#define DEFAULT_HTTP_THREADS 32

/* ---- the options ------------------------------------------------------------
 */

enum {
    OPT_LISTEN = 1,
    OPT_DATA_DIR,
    OPT_ACCOUNT,
    OPT_REGION,
    OPT_MAX_ENTRY,
    OPT_CREDENTIALS,
    OPT_ALLOW_ANONYMOUS,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_CA_BUNDLE,
    OPT_MAX_CONN,
    OPT_MAX_BODY,
    OPT_IDLE_TIMEOUT,
    OPT_HEADER_TIMEOUT,
    OPT_DRAIN_TIMEOUT,
    OPT_MAX_TAIL,
    OPT_LOG_FORMAT,
    OPT_LOG_LEVEL,
    OPT_PUBLIC_METRICS,
};

static const evb_cli_option_t serve_options[] = {
    {"listen", 0, EVB_CLI_STRING, "HOST:PORT", "127.0.0.1:4010", 0, 0, NULL,
     "address to listen on ([::1]:PORT for IPv6; port 0 picks a free port)",
     OPT_LISTEN, 0},
    {"data-dir", 0, EVB_CLI_STRING, "DIR", "evbus-data", 0, 0, NULL,
     "where state is kept (SQLite, WAL); created if missing", OPT_DATA_DIR, 0},
    {"account", 0, EVB_CLI_STRING, "ID", EVB_API_DEFAULT_ACCOUNT, 0, 0, NULL,
     "12-digit account id in ARNs", OPT_ACCOUNT, 0},
    {"region", 0, EVB_CLI_STRING, "NAME", EVB_API_DEFAULT_REGION, 0, 0, NULL,
     "region in ARNs", OPT_REGION, 0},
    {"max-entry-bytes", 0, EVB_CLI_UINT, "N", "1048576", 1, 64ull << 20, NULL,
     "PutEvents limit on the total entry size (EventBridge's since 2026; "
     "262144 for the legacy 256 KB limit)",
     OPT_MAX_ENTRY, 0},
    {"credentials", 0, EVB_CLI_STRING, "FILE|env", NULL, 0, 0, NULL,
     "require AWS Signature V4 on every request (GET /health and /ready "
     "excepted) with the keys of an AWS shared-credentials file: one "
     "[section] per key with aws_access_key_id, aws_secret_access_key, "
     "optional aws_session_token and account_id; `env` takes the key from "
     "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
     OPT_CREDENTIALS, 0},
    {"allow-anonymous", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "listen on a non-loopback address without --credentials (refused "
     "otherwise)",
     OPT_ALLOW_ANONYMOUS, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_t tls_options[] = {
    {"tls-cert", 0, EVB_CLI_STRING, "FILE", NULL, 0, 0, NULL,
     "serve HTTPS (TLS 1.2 and 1.3) with this PEM certificate (chain); "
     "needs --tls-key",
     OPT_TLS_CERT, 0},
    {"tls-key", 0, EVB_CLI_STRING, "FILE", NULL, 0, 0, NULL,
     "the certificate's PEM private key (unencrypted; keep it readable by "
     "the server only)",
     OPT_TLS_KEY, 0},
    {"ca-bundle", 0, EVB_CLI_STRING, "FILE", NULL, 0, 0, NULL,
     "PEM CA certificates to trust, instead of the system's, for outgoing "
     "HTTPS to API destinations",
     OPT_CA_BUNDLE, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_t limit_options[] = {
    {"max-connections", 0, EVB_CLI_UINT, "N", "1024", 1, 1000000, NULL,
     "simultaneous connections served; past it a request is answered 503 "
     "ThrottlingException and its connection closed",
     OPT_MAX_CONN, 0},
    {"max-body-bytes", 0, EVB_CLI_UINT, "N", "1310720", 1, SIZE_MAX / 4, NULL,
     "largest request body; larger requests get 413 "
     "RequestEntityTooLargeException",
     OPT_MAX_BODY, 0},
    {"idle-timeout", 0, EVB_CLI_UINT, "SECONDS", "60", 1, 86400, NULL,
     "close connections idle for this long", OPT_IDLE_TIMEOUT, 0},
    {"header-timeout", 0, EVB_CLI_UINT, "SECONDS", "10", 1, 3600, NULL,
     "close a connection whose request headers (and, for its first request, "
     "TLS handshake) take longer than this from their first byte, however "
     "slowly they trickle in",
     OPT_HEADER_TIMEOUT, 0},
    {"drain-timeout", 0, EVB_CLI_UINT, "SECONDS", "10", 1, 3600, NULL,
     "on SIGTERM/SIGINT, how long requests in flight may take to finish; "
     "the whole shutdown is bounded by twice this plus 10 s",
     OPT_DRAIN_TIMEOUT, 0},
    {"max-tail-clients", 0, EVB_CLI_UINT, "N", "64", 1, 10000, NULL,
     "simultaneous `evbus tail` clients; past it 503 ThrottlingException",
     OPT_MAX_TAIL, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_t obs_options[] = {
    {"log-format", 0, EVB_CLI_CHOICE, "FORMAT", "text", 0, 0, "text|json",
     "text lines (`evbus: component: message key=value`) or JSON lines with "
     "time, level, component, msg and fields",
     OPT_LOG_FORMAT, 0},
    {"log-level", 0, EVB_CLI_CHOICE, "LEVEL", "info", 0, 0,
     "debug|info|warn|error",
     "least level logged; debug adds one line per request with its request "
     "id",
     OPT_LOG_LEVEL, 0},
    {"public-metrics", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "answer GET /metrics without authentication when --credentials is "
     "given (Prometheus cannot sign requests)",
     OPT_PUBLIC_METRICS, 0},
    EVB_CLI_OPTIONS_END,
};

/* EventBridge Pipes (ids in options.h's pipes range) */
enum {
    OPT_MSK_CLUSTER = EVB_CLI_ID_PIPES,
    OPT_KAFKA_SECRET,
    OPT_KAFKA_PROPERTY,
    OPT_REGISTRY_URL,
};

static const evb_cli_option_t pipes_options[] = {
    {"msk-cluster", 0, EVB_CLI_STRING, "ARN=HOST:PORT[,HOST:PORT]", NULL, 0, 0,
     NULL, "read the MSK cluster ARN at these bootstrap servers",
     OPT_MSK_CLUSTER, EVB_CLI_REPEATABLE},
    {"kafka-secret", 0, EVB_CLI_STRING, "ARN=FILE", NULL, 0, 0, NULL,
     "the Secrets Manager ARN that a pipe's Credentials or "
     "ServerRootCaCertificate names is the JSON in FILE (see docs/pipes.md)",
     OPT_KAFKA_SECRET, EVB_CLI_REPEATABLE},
    {"kafka-property", 0, EVB_CLI_STRING, "KEY=VALUE", NULL, 0, 0, NULL,
     "a librdkafka property for every pipe's consumer", OPT_KAFKA_PROPERTY,
     EVB_CLI_REPEATABLE},
    {"registry-url", 0, EVB_CLI_STRING, "URL", NULL, 0, 0, NULL,
     "decode pipes' Avro values (Confluent or Glue framing) with this "
     "Confluent-compatible schema registry instead of evbus's own",
     OPT_REGISTRY_URL, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_group_t serve_group = {NULL, serve_options};
static const evb_cli_option_group_t pipes_group = {"EventBridge Pipes",
                                                   pipes_options};
static const evb_cli_option_group_t tls_group = {"TLS", tls_options};
static const evb_cli_option_group_t limit_group = {"Limits", limit_options};
static const evb_cli_option_group_t obs_group = {"Logs and metrics",
                                                 obs_options};

static const evb_cli_option_group_t *const serve_groups[] = {
    &serve_group, &tls_group, &limit_group, &obs_group, &evb__serve_kafka_group,
    &pipes_group, NULL,
};

const evb_cli_spec_t evb_cli_serve_spec = {
    .name = "serve",
    .summary = "run the EventBridge-compatible API server in the foreground",
    .description =
        "Run the EventBridge-compatible API server in the foreground until "
        "SIGINT or SIGTERM; requests in flight are finished first. Point the "
        "AWS CLI or an SDK at it with --endpoint-url http://HOST:PORT (or "
        "https:// with --tls-cert). State lives in the data dir and survives "
        "restarts.",
    .groups = serve_groups,
    .notes = "Endpoints besides the AWS APIs: GET /health (200 while the "
             "server runs), GET /ready (200 once every worker runs and the "
             "store answers, 503 while starting or shutting down), GET "
             "/metrics (Prometheus text, metrics named after EventBridge's "
             "CloudWatch metrics), GET /_evbus/tail (server-sent events, "
             "for evbus tail).\n\n"
             "On start it prints `evbus: listening on http://HOST:PORT ...` "
             "(https:// with TLS) on stderr.",
    .exit_status = "  0   clean shutdown\n"
                   "  1   the server cannot start, or the shutdown passed "
                   "its bound\n"
                   "  64  usage\n",
};

void evb_cli_serve_usage(FILE *out) {
    evb_cli_usage(&evb_cli_serve_spec, out);
}

/* Pipes options, as given on the command line (ARN=VALUE, split in place:
 * argv is writable). */
#define MAX_PIPE_OPTS 64
typedef struct pipe_opts {
    evb_pipe_msk_cluster_t msk[MAX_PIPE_OPTS];
    size_t nmsk;
    evb_pipe_secret_t secrets[MAX_PIPE_OPTS];
    size_t nsecrets;
    const char *props[2 * MAX_PIPE_OPTS];
    size_t nprops;            /* pairs */
    const char *registry_url; /* NULL: decode with the in-process registry */
} pipe_opts_t;

/* Split "A=B" in place; false if it is not of that form (B may be empty
 * when empty_ok). */
static bool split_pair(const char *arg, bool empty_ok, char **a, char **b) {
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (!eq[1] && !empty_ok))
        return false;
    *eq = '\0';
    *a = (char *)arg;
    *b = eq + 1;
    return true;
}

static bool pipes_option(pipe_opts_t *p, int id, const char *arg, char *why,
                         size_t why_size) {
    char *a, *b;
    switch (id) {
    case OPT_MSK_CLUSTER:
        if (p->nmsk == MAX_PIPE_OPTS || !split_pair(arg, false, &a, &b)) {
            snprintf(why, why_size,
                     "--msk-cluster: expected ARN=HOST:PORT, got '%s'", arg);
            return false;
        }
        p->msk[p->nmsk++] = (evb_pipe_msk_cluster_t){a, b};
        return true;
    case OPT_KAFKA_SECRET:
        if (p->nsecrets == MAX_PIPE_OPTS || !split_pair(arg, false, &a, &b)) {
            snprintf(why, why_size,
                     "--kafka-secret: expected ARN=FILE, got '%s'", arg);
            return false;
        }
        p->secrets[p->nsecrets++] = (evb_pipe_secret_t){a, b};
        return true;
    case OPT_KAFKA_PROPERTY:
        if (p->nprops == MAX_PIPE_OPTS || !split_pair(arg, true, &a, &b)) {
            snprintf(why, why_size,
                     "--kafka-property: expected KEY=VALUE, got '%s'", arg);
            return false;
        }
        p->props[2 * p->nprops] = a;
        p->props[2 * p->nprops + 1] = b;
        p->nprops++;
        return true;
    case OPT_REGISTRY_URL:
        if (strncmp(arg, "http://", 7) != 0 &&
            strncmp(arg, "https://", 8) != 0) {
            snprintf(why, why_size,
                     "--registry-url: expected an http:// or https:// URL, "
                     "got '%s'",
                     arg);
            return false;
        }
        p->registry_url = arg;
        return true;
    default: snprintf(why, why_size, "not a pipes option"); return false;
    }
}

typedef struct serve_opts {
    const char *listen, *data_dir, *credentials, *ca_bundle;
    bool allow_anonymous;
    size_t max_entry_bytes;
    unsigned drain_s;
    evb_http_config_t hcfg;
    evb_api_config_t acfg;
    evb_log_format_t log_format;
    evb_log_level_t log_level;
    evb__serve_kafka_t *kafka;
    pipe_opts_t pipes;
} serve_opts_t;

static bool set(void *ud, const evb_cli_option_t *opt, const evb_cli_value_t *v,
                char *why, size_t why_size) {
    serve_opts_t *o = ud;
    switch (opt->id) {
    case OPT_LISTEN: o->listen = v->str; break;
    case OPT_DATA_DIR: o->data_dir = v->str; break;
    case OPT_ACCOUNT: o->acfg.account_id = v->str; break;
    case OPT_REGION: o->acfg.region = v->str; break;
    case OPT_MAX_ENTRY: o->max_entry_bytes = (size_t)v->num; break;
    case OPT_CREDENTIALS: o->credentials = v->str; break;
    case OPT_ALLOW_ANONYMOUS: o->allow_anonymous = true; break;
    case OPT_TLS_CERT: o->hcfg.tls_cert_file = v->str; break;
    case OPT_TLS_KEY: o->hcfg.tls_key_file = v->str; break;
    case OPT_CA_BUNDLE: o->ca_bundle = v->str; break;
    case OPT_MAX_CONN: o->hcfg.max_connections = (unsigned)v->num; break;
    case OPT_MAX_BODY: o->hcfg.max_body_bytes = (size_t)v->num; break;
    case OPT_IDLE_TIMEOUT: o->hcfg.timeout_s = (unsigned)v->num; break;
    case OPT_HEADER_TIMEOUT: o->hcfg.header_timeout_s = (unsigned)v->num; break;
    case OPT_DRAIN_TIMEOUT: o->drain_s = (unsigned)v->num; break;
    case OPT_MAX_TAIL: o->acfg.max_tail_clients = (unsigned)v->num; break;
    case OPT_LOG_FORMAT: evb_log_parse_format(v->str, &o->log_format); break;
    case OPT_LOG_LEVEL: evb_log_parse_level(v->str, &o->log_level); break;
    case OPT_PUBLIC_METRICS: o->acfg.public_metrics = true; break;
    default:
        if (opt->id >= EVB_CLI_ID_KAFKA && opt->id < EVB_CLI_ID_PIPES)
            return evb__serve_kafka_option(o->kafka, opt->id, v->str, why,
                                           why_size);
        if (opt->id >= EVB_CLI_ID_PIPES && opt->id < EVB_CLI_ID_CLIENT)
            return pipes_option(&o->pipes, opt->id, v->str, why, why_size);
        snprintf(why, why_size, "--%s: not handled", opt->name);
        return false;
    }
    return true;
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

/* ---- signals, logs, the shutdown watchdog
 * ------------------------------------ */

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
    evb_log(EVB_LOG_INFO, "http", "%s", line);
}

/* librdkafka's syslog levels to ours. */
static void kafka_log(void *ud, int level, const char *line) {
    (void)ud;
    evb_log(level <= 3   ? EVB_LOG_ERROR
            : level <= 4 ? EVB_LOG_WARN
            : level <= 6 ? EVB_LOG_INFO
                         : EVB_LOG_DEBUG,
            "kafka", "%s", line);
}

typedef struct watchdog {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    unsigned seconds;
} watchdog_t;

/* Exit at once if the shutdown takes longer than its bound: everything
 * acknowledged is committed, so nothing is lost. */
static void *watchdog_main(void *arg) {
    watchdog_t *w = arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += w->seconds;
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT)
            break;
    bool done = w->done;
    pthread_mutex_unlock(&w->mu);
    if (!done) {
        evb_log(EVB_LOG_ERROR, NULL,
                "shutdown did not finish within %u s; exiting now (nothing "
                "acknowledged is lost)",
                w->seconds);
        _exit(EVB_EXIT_FAILURE);
    }
    return NULL;
}

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
static int serve(serve_opts_t *o) {
    const evb_http_config_t *hcfg = &o->hcfg;
    evb_api_config_t *acfg = &o->acfg;
    const char *data_dir = o->data_dir;
    size_t max_entry_bytes = o->max_entry_bytes;
    evb__serve_kafka_t *kafka = o->kafka;
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
    const pipe_opts_t *popts = &o->pipes;
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
        evb_apidest_invoker_opts_t iopts = {.ca_file = o->ca_bundle};
        err = evb_apidest_invoker_new(&scope, &iopts, &invoker, errstr,
                                      sizeof errstr);
    }
    if (!err)
        err = evb__serve_kafka_start(kafka, errstr, sizeof errstr);
    if (!err)
        err = evb_registry_open(store, &registry, errstr, sizeof errstr);
    if (!err) {
        /* one codec for every pipe and for Kafka targets' Avro values,
         * over evbus's registry or --registry-url */
        evb_serde_config_t scfg = {.registry =
                                       popts->registry_url ? NULL : registry,
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
        evb_log(EVB_LOG_ERROR, NULL, "%s", errstr);
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
    watchdog_t wd = {.done = false, .seconds = 2 * o->drain_s + 10};
    pthread_mutex_init(&wd.mu, NULL);
    pthread_cond_init(&wd.cv, NULL);
    pthread_t wd_thread;
    bool wd_started = false, ran = false;
    if (err) {
        evb_log(EVB_LOG_ERROR, NULL, "%s", errstr);
        rc = err == EVB_ERR_INVALID_ARG ? EVB_EXIT_USAGE : EVB_EXIT_FAILURE;
    } else {
        ran = true;
        evb_bus_set_tap(bus, evb_api_tail_publish, api);
        evb_api_set_ready(api, true);
        evb_log(EVB_LOG_INFO, NULL,
                "listening on %s://%s (EventBridge API; account %s, region "
                "%s)",
                evb_http_server_tls(srv) ? "https" : "http",
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
            evb_log(EVB_LOG_INFO, NULL, "%s received, shutting down",
                    sig == SIGINT ? "SIGINT" : "SIGTERM");
        evb_api_set_ready(api, false);
        wd_started = pthread_create(&wd_thread, NULL, watchdog_main, &wd) == 0;
        evb_bus_set_tap(bus, NULL, NULL);   /* tail streams end with http */
        evb_queue_service_shutdown(queues); /* end long polls */
        evb_http_server_stop(srv);
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
    if (wd_started) {
        pthread_mutex_lock(&wd.mu);
        wd.done = true;
        pthread_cond_signal(&wd.cv);
        pthread_mutex_unlock(&wd.mu);
        pthread_join(wd_thread, NULL);
    }
    if (ran)
        evb_log(EVB_LOG_INFO, NULL, "stopped");
    pthread_mutex_destroy(&wd.mu);
    pthread_cond_destroy(&wd.cv);
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
    serve_opts_t o;
    memset(&o, 0, sizeof o);
    o.hcfg = evb_http_config_default();
    o.kafka = kafka;
    o.log_format = EVB_LOG_TEXT;
    o.log_level = EVB_LOG_INFO;
    int optind_out = 0;
    int rc = evb_cli_parse(&evb_cli_serve_spec, argc, argv, set, &o,
                           EVB_EXIT_USAGE, &optind_out);
    if (rc != EVB_CLI_CONTINUE)
        return rc;
    if (optind_out < argc)
        return usage_error("unexpected argument '%s'", argv[optind_out]);
    evb_log_setup(o.log_format, o.log_level, NULL);
    evb_kafka_set_log(kafka_log, NULL);

    char host[256];
    if (!parse_listen(o.listen, host, sizeof host, &o.hcfg.port))
        return usage_error("--listen: expected HOST:PORT, got '%s'", o.listen);
    o.hcfg.host = host;
    o.hcfg.log = http_log;
    o.hcfg.drain_ms = o.drain_s * 1000;
    if (!o.hcfg.threads)
        o.hcfg.threads = DEFAULT_HTTP_THREADS;
    if (!o.hcfg.tls_cert_file != !o.hcfg.tls_key_file)
        return usage_error("--tls-cert and --tls-key go together");
    /* refuse bad settings before the data dir and the store exist */
    char why[256];
    if (evb_api_config_check(&o.acfg, why, sizeof why))
        return usage_error("%s", why);
    if (!o.credentials && !o.allow_anonymous && !host_is_loopback(host))
        return usage_error("refusing to listen on %s without --credentials: "
                           "anyone who can reach it could use the API (give "
                           "--credentials FILE, or --allow-anonymous)",
                           host);
    const char *files[] = {o.hcfg.tls_cert_file, o.hcfg.tls_key_file,
                           o.ca_bundle};
    const char *names[] = {"--tls-cert", "--tls-key", "--ca-bundle"};
    for (size_t i = 0; i < 3; i++)
        if (files[i] && access(files[i], R_OK) != 0)
            return usage_error("%s: cannot read '%s': %s", names[i], files[i],
                               strerror(errno));
    evb_sigv4_verifier_t *verifier = NULL;
    if (o.credentials) {
        rc = EVB_EXIT_FAILURE;
        verifier = load_credentials(
            o.credentials,
            o.acfg.region ? o.acfg.region : EVB_API_DEFAULT_REGION, &rc);
        if (!verifier)
            return rc;
        o.acfg.verifier = verifier;
        evb_log(EVB_LOG_INFO, NULL,
                "AWS Signature V4 required (%zu key%s from %s)",
                evb_sigv4_verifier_key_count(verifier),
                evb_sigv4_verifier_key_count(verifier) == 1 ? "" : "s",
                strcmp(o.credentials, "env") == 0 ? "the environment"
                                                  : o.credentials);
    }
    char kwhy[700];
    if (!evb__serve_kafka_prepare(kafka, kwhy, sizeof kwhy)) {
        evb_sigv4_verifier_free(verifier);
        return usage_error("%s", kwhy);
    }
    if (make_dirs(o.data_dir) != 0) {
        evb_log(EVB_LOG_ERROR, NULL, "cannot create data dir '%s': %s",
                o.data_dir, strerror(errno));
        evb_sigv4_verifier_free(verifier);
        return EVB_EXIT_FAILURE;
    }
    evb_metrics_init(); /* /metrics lists every family from the start */
    rc = serve(&o);
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
