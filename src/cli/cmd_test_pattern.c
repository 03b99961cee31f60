/*
 * cmd_test_pattern.c: `evbus test-pattern`, EventBridge's TestEventPattern
 * on the command line.
 *
 *   evbus test-pattern (--pattern JSON | --pattern-file F | --bus NAME)
 *                      (--event JSON | --event-file F) [--explain] [--envelope]
 *
 * With --bus NAME the patterns are the rules of that bus on a running
 * server (ListRules through client.h), each explained against the event
 * with the same engine, one line per rule.
 *
 * Prints `true` or `false` on stdout and exits 0. With --explain, a
 * non-match adds a second line saying which condition failed
 * (evb_pattern_explain). An invalid pattern prints
 * `InvalidEventPatternException: Event pattern is not valid. Reason: ...`
 * on stderr and exits 2; an invalid event prints
 * `InvalidEvent: Parameter Event is not valid: <why>` and exits 2.
 * The envelope check (id, source, detail-type, account, region, time) is
 * off by default so that bare events can be tried; --envelope turns it on.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "client.h"
#include "pattern/pattern.h"

/* Largest input read from a file or stdin; the engine's own limits (4 KiB
 * patterns, 1 MiB events) are checked after reading. */
#define INPUT_MAX (64u << 20)

enum {
    OPT_PATTERN = 1,
    OPT_PATTERN_FILE,
    OPT_EVENT,
    OPT_EVENT_FILE,
    OPT_EXPLAIN,
    OPT_ENVELOPE,
    OPT_BUS,
};

/* The inputs may be given once each; set() says so. */
static const evb_cli_option_t tp_options[] = {
    {"pattern", 0, EVB_CLI_STRING, "JSON", NULL, 0, 0, NULL,
     "the event pattern", OPT_PATTERN, 0},
    {"pattern-file", 0, EVB_CLI_STRING, "F", NULL, 0, 0, NULL,
     "read the pattern from F (- for stdin)", OPT_PATTERN_FILE,
     0},
    {"event", 0, EVB_CLI_STRING, "JSON", NULL, 0, 0, NULL, "the event",
     OPT_EVENT, 0},
    {"event-file", 0, EVB_CLI_STRING, "F", NULL, 0, 0, NULL,
     "read the event from F (- for stdin)", OPT_EVENT_FILE,
     0},
    {"explain", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "on a non-match, print why on a second line", OPT_EXPLAIN, 0},
    {"envelope", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "require the event fields id, source, detail-type, account, region "
     "and time, as TestEventPattern does",
     OPT_ENVELOPE, 0},
    {"bus", 0, EVB_CLI_STRING, "NAME", NULL, 0, 0, NULL,
     "instead of --pattern, test the event against every rule of this bus "
     "of a running server (ListRules), explaining each non-match",
     OPT_BUS, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_group_t tp_group = {NULL, tp_options};
static const evb_cli_option_group_t *const tp_groups[] = {
    &tp_group, &evb__client_group, NULL};

const evb_cli_spec_t evb_cli_test_pattern_spec = {
    .name = "test-pattern",
    .synopsis = "(--pattern JSON | --pattern-file F | --bus NAME) "
                "(--event JSON | --event-file F) [--explain] [--envelope]",
    .summary = "test an event pattern against one event, or a bus's rules",
    .description =
        "Test an EventBridge event pattern against one event; prints true or "
        "false. With --bus, the patterns are the rules of that bus on a "
        "running server: one line per rule, RULE<TAB>true, or "
        "RULE<TAB>false<TAB>why (the first condition that failed), or "
        "RULE<TAB>-<TAB>schedule only; matching is done here with the same "
        "engine as the server's.",
    .groups = tp_groups,
    .exit_status = "  0   matched or not\n"
                   "  1   I/O error, or the server could not be reached\n"
                   "  2   invalid pattern or event\n"
                   "  64  usage\n",
};

void evb_cli_test_pattern_usage(FILE *out) {
    evb_cli_usage(&evb_cli_test_pattern_spec, out);
}

/* Where one input (pattern or event) comes from. */
typedef struct input {
    const char *what;    /* "pattern" or "event" */
    const char *literal; /* --pattern / --event */
    const char *file;    /* --pattern-file / --event-file */
    evb_buf_t buf;
    const char *text;
    size_t len;
} input_t;

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Print "evbus test-pattern: <message>" and the usage on stderr. */
static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("evbus test-pattern: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    evb_cli_test_pattern_usage(stderr);
    return EVB_EXIT_USAGE;
}

/* Resolve in->text/len from the literal or the file. */
static int input_load(input_t *in) {
    char errstr[512];
    if (in->literal) {
        in->text = in->literal;
        in->len = strlen(in->literal);
        return EVB_EXIT_OK;
    }
    evb_buf_init(&in->buf, INPUT_MAX);
    evb_err_t err =
        evb_buf_read_file(&in->buf, in->file, errstr, sizeof errstr);
    if (err) {
        fprintf(stderr, "evbus test-pattern: cannot read %s: %s\n", in->what,
                errstr);
        return EVB_EXIT_FAILURE;
    }
    in->text = in->buf.data;
    in->len = in->buf.len;
    return EVB_EXIT_OK;
}

/* Print the diagnostic for an engine error and return the exit status. */
static int report_error(evb_err_t err, const char *errstr) {
    if (!errstr[0])
        errstr = evb_err_message(err);
    switch (err) {
    case EVB_ERR_INVALID_EVENT_PATTERN:
        fprintf(stderr, "%s: %s\n", evb_err_aws_type(err), errstr);
        return EVB_EXIT_INVALID;
    case EVB_ERR_INVALID_EVENT: {
        const char *prefix = "Parameter Event is not valid";
        if (strncmp(errstr, prefix, strlen(prefix)) == 0)
            fprintf(stderr, "InvalidEvent: %s\n", errstr);
        else
            fprintf(stderr, "InvalidEvent: %s: %s\n", prefix, errstr);
        return EVB_EXIT_INVALID;
    }
    default:
        fprintf(stderr, "evbus test-pattern: %s: %s\n", evb_err_name(err),
                errstr);
        return EVB_EXIT_FAILURE;
    }
}

typedef struct tp_opts {
    input_t pattern, event;
    bool explain, envelope;
    const char *bus;
    evb__client_opts_t client;
} tp_opts_t;

static bool set(void *ud, const evb_cli_option_t *opt, const evb_cli_value_t *v,
                char *why, size_t why_size) {
    tp_opts_t *o = ud;
    switch (opt->id) {
    case OPT_PATTERN:
    case OPT_PATTERN_FILE:
        if (o->pattern.literal || o->pattern.file) {
            snprintf(why, why_size, "give the pattern only once");
            return false;
        }
        *(opt->id == OPT_PATTERN ? &o->pattern.literal : &o->pattern.file) =
            v->str;
        return true;
    case OPT_EVENT:
    case OPT_EVENT_FILE:
        if (o->event.literal || o->event.file) {
            snprintf(why, why_size, "give the event only once");
            return false;
        }
        *(opt->id == OPT_EVENT ? &o->event.literal : &o->event.file) = v->str;
        return true;
    case OPT_EXPLAIN: o->explain = true; return true;
    case OPT_ENVELOPE: o->envelope = true; return true;
    case OPT_BUS: o->bus = v->str; return true;
    default: return evb__client_option(&o->client, opt, v);
    }
}

/* --bus: explain the event against every rule of the bus (ListRules). */
static int test_bus(tp_opts_t *o, const input_t *event) {
    evb__client_t *c = NULL;
    char why[2048], errstr[1024];
    evb_err_t err = evb__client_new(&o->client, &c, why, sizeof why);
    if (err) {
        if (err == EVB_ERR_INVALID_ARG)
            return usage_error("%s", why);
        fprintf(stderr, "evbus test-pattern: %s\n", why);
        return EVB_EXIT_FAILURE;
    }
    int rc = EVB_EXIT_OK;
    if (o->envelope &&
        (err = evb_event_check_envelope(event->text, event->len, errstr,
                                        sizeof errstr)))
        rc = report_error(err, errstr);
    char *token = NULL;
    size_t rules = 0;
    while (rc == EVB_EXIT_OK) {
        json_t *req = json_pack("{s:s, s:i}", "EventBusName", o->bus, "Limit",
                                100);
        if (req && token)
            json_object_set_new(req, "NextToken", json_string(token));
        json_t *ans = NULL;
        err = req ? evb__client_call(c, "AWSEvents.ListRules", req, &ans, why,
                                     sizeof why)
                  : EVB_ERR_NOMEM;
        json_decref(req);
        if (err) {
            fprintf(stderr, "evbus test-pattern: ListRules: %s\n",
                    err == EVB_ERR_NOMEM ? "out of memory" : why);
            json_decref(ans);
            rc = EVB_EXIT_FAILURE;
            break;
        }
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(ans, "Rules"), i, r) {
            const char *name = json_string_value(json_object_get(r, "Name"));
            const char *p =
                json_string_value(json_object_get(r, "EventPattern"));
            rules++;
            if (!p) {
                printf("%s\t-\tschedule only\n", name ? name : "?");
                continue;
            }
            bool matched = false;
            errstr[0] = why[0] = '\0';
            err = evb_pattern_explain(p, strlen(p), event->text, event->len,
                                      NULL, &matched, why, sizeof why, errstr,
                                      sizeof errstr);
            if (err == EVB_ERR_INVALID_EVENT) {
                rc = report_error(err, errstr);
                break;
            }
            if (err)
                printf("%s\terror\t%s\n", name ? name : "?",
                       errstr[0] ? errstr : evb_err_message(err));
            else if (matched)
                printf("%s\ttrue\n", name ? name : "?");
            else
                printf("%s\tfalse\t%s\n", name ? name : "?", why);
        }
        free(token);
        token = NULL;
        const char *next = json_string_value(json_object_get(ans, "NextToken"));
        if (next && !(token = strdup(next)))
            rc = EVB_EXIT_FAILURE;
        json_decref(ans);
        if (!token)
            break;
    }
    free(token);
    evb__client_free(c);
    if (rc == EVB_EXIT_OK && rules == 0)
        fprintf(stderr, "evbus test-pattern: bus %s has no rules\n", o->bus);
    if (fflush(stdout) != 0) {
        perror("evbus test-pattern: stdout");
        rc = EVB_EXIT_FAILURE;
    }
    return rc;
}

int evb_cli_test_pattern(int argc, char **argv) {
    tp_opts_t o;
    memset(&o, 0, sizeof o);
    o.pattern.what = "pattern";
    o.event.what = "event";
    int first = 0;
    int rc = evb_cli_parse(&evb_cli_test_pattern_spec, argc, argv, set, &o,
                           EVB_EXIT_USAGE, &first);
    if (rc != EVB_CLI_CONTINUE)
        return rc;
    input_t pattern = o.pattern, event = o.event;
    bool explain = o.explain, envelope = o.envelope;
    if (first < argc)
        return usage_error("unexpected argument '%s'", argv[first]);
    if (o.bus && (pattern.literal || pattern.file))
        return usage_error("%s", "give --bus or a pattern, not both");
    if (!o.bus && !pattern.literal && !pattern.file)
        return usage_error("%s", "missing --pattern or --pattern-file");
    if (!event.literal && !event.file)
        return usage_error("%s", "missing --event or --event-file");
    if (pattern.file && event.file && strcmp(pattern.file, "-") == 0 &&
        strcmp(event.file, "-") == 0)
        return usage_error("%s", "only one of pattern and event can be stdin");
    if (o.bus) {
        rc = input_load(&event);
        if (rc == EVB_EXIT_OK)
            rc = test_bus(&o, &event);
        if (event.file)
            evb_buf_free(&event.buf);
        return rc;
    }

    rc = input_load(&pattern);
    if (rc == EVB_EXIT_OK)
        rc = input_load(&event);

    char errstr[1024] = "", why[2048] = "";
    bool matched = false;
    if (rc == EVB_EXIT_OK) {
        evb_err_t err =
            explain ? evb_pattern_explain(pattern.text, pattern.len, event.text,
                                          event.len, NULL, &matched, why,
                                          sizeof why, errstr, sizeof errstr)
                    : evb_pattern_test(pattern.text, pattern.len, event.text,
                                       event.len, NULL, &matched, errstr,
                                       sizeof errstr);
        if (!err && envelope)
            err = evb_event_check_envelope(event.text, event.len, errstr,
                                           sizeof errstr);
        if (err)
            rc = report_error(err, errstr);
    }
    if (rc == EVB_EXIT_OK) {
        puts(matched ? "true" : "false");
        if (explain && !matched)
            puts(why);
        if (fflush(stdout) != 0) {
            perror("evbus test-pattern: stdout");
            rc = EVB_EXIT_FAILURE;
        }
    }
    if (pattern.file)
        evb_buf_free(&pattern.buf);
    if (event.file)
        evb_buf_free(&event.buf);
    return rc;
}
