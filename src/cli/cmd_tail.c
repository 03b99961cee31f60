/*
 * cmd_tail.c: `evbus tail`, the events arriving on a bus, live.
 *
 * It reads the server's GET /_evbus/tail?bus=..&pattern=.. stream
 * (server-sent events, api_tail.c) and prints one line per event: by
 * default `TIME SOURCE DETAIL-TYPE ID DETAIL`, with --json the whole event
 * as compact JSON. Once the server confirms the subscription it says so
 * on stderr (`evbus tail: following bus NAME ...`), so scripts can wait
 * for that line before putting events. It runs until Ctrl-C (SIGINT) or
 * SIGTERM (status 0), or until the server ends the stream: shutting down,
 * or dropping a client that did not keep up (status 1, said on stderr).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "client.h"

enum { OPT_BUS = 1, OPT_PATTERN, OPT_JSON };

static const evb_cli_option_t tail_options[] = {
    {"bus", 0, EVB_CLI_STRING, "NAME", "default", 0, 0, NULL,
     "event bus to follow (name or ARN)", OPT_BUS, 0},
    {"pattern", 0, EVB_CLI_STRING, "JSON", NULL, 0, 0, NULL,
     "show only events that match this event pattern", OPT_PATTERN, 0},
    {"json", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "print each event as one line of JSON (the whole event)", OPT_JSON, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_group_t tail_group = {NULL, tail_options};
static const evb_cli_option_group_t *const tail_groups[] = {
    &tail_group, &evb__client_group, NULL};

const evb_cli_spec_t evb_cli_tail_spec = {
    .name = "tail",
    .summary = "print the events arriving on a bus as they come",
    .description =
        "Follow a bus of a running server: print every event that arrives "
        "on it from now on (put with PutEvents, forwarded from another bus "
        "by a rule, replayed from an archive, or fired by a schedule), one "
        "line each (TIME SOURCE DETAIL-TYPE ID DETAIL, or "
        "the whole event with --json), until Ctrl-C. With --pattern only "
        "matching events are shown. The server keeps a bounded buffer per "
        "client and disconnects a client that does not keep up rather than "
        "slow its ingestion down.",
    .groups = tail_groups,
    .exit_status = "  0   stopped with Ctrl-C (SIGINT) or SIGTERM\n"
                   "  1   the server could not be reached, refused, or ended "
                   "the stream\n"
                   "  64  usage\n",
};

void evb_cli_tail_usage(FILE *out) {
    evb_cli_usage(&evb_cli_tail_spec, out);
}

typedef struct tail_opts {
    const char *bus, *pattern;
    bool json;
    evb__client_opts_t client;
} tail_opts_t;

static bool set(void *ud, const evb_cli_option_t *opt, const evb_cli_value_t *v,
                char *why, size_t why_size) {
    (void)why;
    (void)why_size;
    tail_opts_t *o = ud;
    switch (opt->id) {
    case OPT_BUS: o->bus = v->str; return true;
    case OPT_PATTERN: o->pattern = v->str; return true;
    case OPT_JSON: o->json = true; return true;
    default: return evb__client_option(&o->client, opt, v);
    }
}

static volatile int stop_flag;

static void on_stop(int sig) {
    (void)sig;
    stop_flag = 1;
}

/* The server-sent events parser's state. */
typedef struct sse {
    const tail_opts_t *o;
    const char *endpoint;
    evb_buf_t line; /* the line being read */
    evb_buf_t data; /* the event's data lines */
    char event[32]; /* the event's type ("" = message) */
    bool announced, dropped, io_error;
    char drop_msg[512];
} sse_t;

static void print_event(const sse_t *s, const char *text, size_t len) {
    if (s->o->json) {
        fwrite(text, 1, len, stdout);
        fputc('\n', stdout);
        return;
    }
    json_error_t je;
    json_t *e = json_loadb(text, len, 0, &je);
    if (!e) {
        fwrite(text, 1, len, stdout);
        fputc('\n', stdout);
        return;
    }
    char *detail = json_dumps(json_object_get(e, "detail"),
                              JSON_COMPACT | JSON_ENCODE_ANY);
    const char *t = json_string_value(json_object_get(e, "time"));
    const char *src = json_string_value(json_object_get(e, "source"));
    const char *dt = json_string_value(json_object_get(e, "detail-type"));
    const char *id = json_string_value(json_object_get(e, "id"));
    printf("%s %s %s %s %s\n", t ? t : "-", src ? src : "-", dt ? dt : "-",
           id ? id : "-", detail ? detail : "{}");
    free(detail);
    json_decref(e);
}

/* A complete event (blank line). */
static void dispatch(sse_t *s) {
    if (strcmp(s->event, "dropped") == 0) {
        json_error_t je;
        json_t *j =
            json_loadb(s->data.data ? s->data.data : "", s->data.len, 0, &je);
        const char *m = json_string_value(json_object_get(j, "message"));
        snprintf(s->drop_msg, sizeof s->drop_msg, "%s",
                 m ? m : "the server dropped this client");
        json_decref(j);
        s->dropped = true;
    } else if (s->data.len) {
        print_event(s, s->data.data, s->data.len);
        if (fflush(stdout) != 0)
            s->io_error = true;
    }
    evb_buf_reset(&s->data);
    s->event[0] = '\0';
}

static void take_line(sse_t *s, const char *l, size_t n) {
    if (n == 0) {
        dispatch(s);
        return;
    }
    if (l[0] == ':') { /* a comment: the first says we are subscribed */
        if (!s->announced) {
            s->announced = true;
            fprintf(stderr,
                    "evbus tail: following bus %s at %s%s%s (Ctrl-C to "
                    "stop)\n",
                    s->o->bus, s->endpoint, s->o->pattern ? ", pattern " : "",
                    s->o->pattern ? s->o->pattern : "");
        }
        return;
    }
    const char *colon = memchr(l, ':', n);
    size_t flen = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    size_t vlen = colon ? n - flen - 1 : 0;
    if (vlen && *v == ' ') {
        v++;
        vlen--;
    }
    if (flen == 4 && memcmp(l, "data", 4) == 0) {
        if (s->data.len)
            evb_buf_putc(&s->data, '\n');
        evb_buf_append(&s->data, v, vlen);
    } else if (flen == 5 && memcmp(l, "event", 5) == 0) {
        snprintf(s->event, sizeof s->event, "%.*s", (int)vlen, v);
    }
}

static bool on_data(void *ud, const char *data, size_t len) {
    sse_t *s = ud;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n') {
            size_t n = s->line.len;
            if (n && s->line.data[n - 1] == '\r')
                n--;
            take_line(s, s->line.data ? s->line.data : "", n);
            evb_buf_reset(&s->line);
        } else if (evb_buf_putc(&s->line, data[i])) {
            s->io_error = true;
            return false;
        }
    }
    return !s->dropped && !s->io_error;
}

int evb_cli_tail(int argc, char **argv) {
    tail_opts_t o;
    memset(&o, 0, sizeof o);
    int first = 0;
    int rc = evb_cli_parse(&evb_cli_tail_spec, argc, argv, set, &o,
                           EVB_EXIT_USAGE, &first);
    if (rc != EVB_CLI_CONTINUE)
        return rc;
    if (first < argc)
        return evb_cli_usage_error(&evb_cli_tail_spec, EVB_EXIT_USAGE,
                                   "unexpected argument '%s'", argv[first]);
    evb__client_t *c = NULL;
    char why[1024];
    evb_err_t err = evb__client_new(&o.client, &c, why, sizeof why);
    if (err) {
        if (err == EVB_ERR_INVALID_ARG)
            return evb_cli_usage_error(&evb_cli_tail_spec, EVB_EXIT_USAGE, "%s",
                                       why);
        fprintf(stderr, "evbus tail: %s\n", why);
        return EVB_EXIT_FAILURE;
    }
    /* the query's names in order (bus, pattern): SigV4 sorts them */
    char *bus = evb__client_escape(c, o.bus);
    char *pat = o.pattern ? evb__client_escape(c, o.pattern) : NULL;
    evb_buf_t path;
    evb_buf_init(&path, 0);
    if (!bus || (o.pattern && !pat) ||
        evb_buf_appendf(&path, "/_evbus/tail?bus=%s%s%s", bus,
                        pat ? "&pattern=" : "", pat ? pat : "")) {
        free(bus);
        free(pat);
        evb__client_free(c);
        fprintf(stderr, "evbus tail: out of memory\n");
        return EVB_EXIT_FAILURE;
    }
    free(bus);
    free(pat);

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    sse_t s = {.o = &o, .endpoint = evb__client_endpoint(c)};
    evb_buf_init(&s.line, 8u << 20);
    evb_buf_init(&s.data, 8u << 20);
    err = evb__client_get_stream(c, path.data, on_data, &s, &stop_flag, why,
                                 sizeof why);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (s.dropped) {
        fprintf(stderr, "evbus tail: %s\n", s.drop_msg);
        rc = EVB_EXIT_FAILURE;
    } else if (s.io_error) {
        fprintf(stderr, "evbus tail: cannot write the events\n");
        rc = EVB_EXIT_FAILURE;
    } else if (stop_flag) {
        rc = EVB_EXIT_OK;
    } else if (err) {
        fprintf(stderr, "evbus tail: %s\n", why);
        rc = EVB_EXIT_FAILURE;
    } else {
        fprintf(stderr, "evbus tail: the server ended the stream\n");
        rc = EVB_EXIT_FAILURE;
    }
    evb_buf_free(&s.line);
    evb_buf_free(&s.data);
    evb_buf_free(&path);
    evb__client_free(c);
    return rc;
}
