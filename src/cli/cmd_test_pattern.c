/*
 * cmd_test_pattern.c: `evbus test-pattern`, EventBridge's TestEventPattern
 * on the command line.
 *
 *   evbus test-pattern (--pattern JSON | --pattern-file F)
 *                      (--event JSON | --event-file F) [--explain] [--envelope]
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
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pattern/pattern.h"

/* Largest input read from a file or stdin; the engine's own limits (4 KiB
 * patterns, 1 MiB events) are checked after reading. */
#define INPUT_MAX (64u << 20)

void evb_cli_test_pattern_usage(FILE *out) {
    fprintf(out,
            "usage: evbus test-pattern (--pattern JSON | --pattern-file F)\n"
            "                          (--event JSON | --event-file F)\n"
            "                          [--explain] [--envelope]\n"
            "\n"
            "Test an EventBridge event pattern against one event; prints true "
            "or false.\n"
            "\n"
            "  --pattern JSON      the event pattern\n"
            "  --pattern-file F    read the pattern from F (- for stdin)\n"
            "  --event JSON        the event\n"
            "  --event-file F      read the event from F (- for stdin)\n"
            "  --explain           on a non-match, print why on a second line\n"
            "  --envelope          require the event fields id, source, "
            "detail-type,\n"
            "                      account, region and time, as "
            "TestEventPattern does\n"
            "\n"
            "exit status: 0 matched or not, 2 invalid pattern or event, 1 "
            "I/O error, 64 usage\n");
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

enum {
    OPT_PATTERN = 1,
    OPT_PATTERN_FILE,
    OPT_EVENT,
    OPT_EVENT_FILE,
    OPT_EXPLAIN,
    OPT_ENVELOPE,
    OPT_HELP
};

static const struct option long_options[] = {
    {"pattern", required_argument, NULL, OPT_PATTERN},
    {"pattern-file", required_argument, NULL, OPT_PATTERN_FILE},
    {"event", required_argument, NULL, OPT_EVENT},
    {"event-file", required_argument, NULL, OPT_EVENT_FILE},
    {"explain", no_argument, NULL, OPT_EXPLAIN},
    {"envelope", no_argument, NULL, OPT_ENVELOPE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

int evb_cli_test_pattern(int argc, char **argv) {
    input_t pattern = {.what = "pattern"}, event = {.what = "event"};
    bool explain = false, envelope = false;

    opterr = 0;
    optind = 1;
    int c;
    /* '+': stop at the first non-option; ':': report missing values. */
    while ((c = getopt_long(argc, argv, "+:h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_PATTERN:
        case OPT_PATTERN_FILE:
            if (pattern.literal || pattern.file)
                return usage_error("%s", "give the pattern only once");
            *(c == OPT_PATTERN ? &pattern.literal : &pattern.file) = optarg;
            break;
        case OPT_EVENT:
        case OPT_EVENT_FILE:
            if (event.literal || event.file)
                return usage_error("%s", "give the event only once");
            *(c == OPT_EVENT ? &event.literal : &event.file) = optarg;
            break;
        case OPT_EXPLAIN: explain = true; break;
        case OPT_ENVELOPE: envelope = true; break;
        case 'h':
        case OPT_HELP: evb_cli_test_pattern_usage(stdout); return EVB_EXIT_OK;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (!pattern.literal && !pattern.file)
        return usage_error("%s", "missing --pattern or --pattern-file");
    if (!event.literal && !event.file)
        return usage_error("%s", "missing --event or --event-file");
    if (pattern.file && event.file && strcmp(pattern.file, "-") == 0 &&
        strcmp(event.file, "-") == 0)
        return usage_error("%s", "only one of pattern and event can be stdin");

    int rc = input_load(&pattern);
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
