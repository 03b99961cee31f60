/*
 * cmd_put.c: `evbus put`, PutEvents from the command line.
 *
 * Each operand, or each line of stdin when there is none (or the operand
 * is "-"), is one JSON object: a PutEvents entry when it has any of
 * Source, DetailType, Detail, EventBusName, Resources, Time (Detail may
 * be an object or its JSON text), else the event's detail itself, sent
 * with --source and --detail-type. --bus names the bus of entries that do
 * not. Entries go in batches of 10 (PutEvents' limit), a batch at a time;
 * for each entry one line on stdout: its EventId, or, on stderr,
 * `evbus put: entry N: ErrorCode: message`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "client.h"

#define LINE_MAX_BYTES ((size_t)4 << 20)
#define BATCH 10

enum { OPT_BUS = 1, OPT_SOURCE, OPT_DETAIL_TYPE };

static const evb_cli_option_t put_options[] = {
    {"bus", 0, EVB_CLI_STRING, "NAME", "default", 0, 0, NULL,
     "event bus (name or ARN) of the entries that name none", OPT_BUS, 0},
    {"source", 0, EVB_CLI_STRING, "SOURCE", "evbus.cli", 0, 0, NULL,
     "Source of events given as a bare detail", OPT_SOURCE, 0},
    {"detail-type", 0, EVB_CLI_STRING, "TYPE", "evbus put", 0, 0, NULL,
     "DetailType of events given as a bare detail", OPT_DETAIL_TYPE, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_group_t put_group = {NULL, put_options};
static const evb_cli_option_group_t *const put_groups[] = {
    &put_group, &evb__client_group, NULL};

const evb_cli_spec_t evb_cli_put_spec = {
    .name = "put",
    .synopsis = "[options] [JSON ...]",
    .summary = "send events to a bus (PutEvents) from arguments or stdin",
    .description =
        "Send events to a running server with PutEvents. Each JSON operand, "
        "or each line of stdin when there is none (or the operand is -), is "
        "one event: a PutEvents entry when it has Source, DetailType, "
        "Detail, EventBusName, Resources or Time (Detail may be an object), "
        "else the event's detail, sent with --source and --detail-type. "
        "Blank lines are skipped. Prints each accepted event's EventId, one "
        "a line; refused entries are reported on stderr.",
    .groups = put_groups,
    .notes = "Example: echo '{\"orderId\":1}' | evbus put --bus orders "
             "--source shop --detail-type OrderPlaced",
    .exit_status = "  0   every entry accepted\n"
                   "  1   an entry was refused, or the server could not be "
                   "reached\n"
                   "  2   an operand or line is not a JSON object\n"
                   "  64  usage\n",
};

void evb_cli_put_usage(FILE *out) {
    evb_cli_usage(&evb_cli_put_spec, out);
}

typedef struct put_opts {
    const char *bus, *source, *detail_type;
    evb__client_opts_t client;
} put_opts_t;

static bool set(void *ud, const evb_cli_option_t *opt, const evb_cli_value_t *v,
                char *why, size_t why_size) {
    (void)why;
    (void)why_size;
    put_opts_t *o = ud;
    switch (opt->id) {
    case OPT_BUS: o->bus = v->str; return true;
    case OPT_SOURCE: o->source = v->str; return true;
    case OPT_DETAIL_TYPE: o->detail_type = v->str; return true;
    default: return evb__client_option(&o->client, opt, v);
    }
}

typedef struct batch {
    json_t *entries; /* array */
    size_t first;    /* number of its first entry (1-based) */
    int failed;      /* entries refused so far */
    int rc;
} batch_t;

/* Turn one input object into a PutEvents entry (a new reference), or
 * NULL with why. */
static json_t *entry_of(const put_opts_t *o, json_t *in, char *why,
                        size_t why_size) {
    static const char *const keys[] = {
        "Source",    "DetailType", "Detail", "EventBusName",
        "Resources", "Time",       NULL};
    bool is_entry = false;
    for (size_t i = 0; keys[i]; i++)
        is_entry |= json_object_get(in, keys[i]) != NULL;
    json_t *e;
    if (is_entry) {
        e = json_deep_copy(in);
        json_t *d = e ? json_object_get(e, "Detail") : NULL;
        if (d && !json_is_string(d)) {
            char *text = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!text || json_object_set_new(e, "Detail", json_string(text))) {
                free(text);
                json_decref(e);
                snprintf(why, why_size, "out of memory");
                return NULL;
            }
            free(text);
        }
    } else {
        char *text = json_dumps(in, JSON_COMPACT);
        e = text ? json_pack("{s:s, s:s, s:s}", "Source", o->source,
                             "DetailType", o->detail_type, "Detail", text)
                 : NULL;
        free(text);
    }
    if (e && !json_object_get(e, "EventBusName") &&
        json_object_set_new(e, "EventBusName", json_string(o->bus))) {
        json_decref(e);
        e = NULL;
    }
    if (!e)
        snprintf(why, why_size, "out of memory");
    return e;
}

/* Send the batch; print the ids; reset it. */
static void flush(evb__client_t *c, batch_t *b) {
    size_t n = json_array_size(b->entries);
    if (!n)
        return;
    json_t *req = json_pack("{s:O}", "Entries", b->entries);
    json_t *ans = NULL;
    char why[1024];
    evb_err_t err = req ? evb__client_call(c, "AWSEvents.PutEvents", req, &ans,
                                           why, sizeof why)
                        : EVB_ERR_NOMEM;
    json_decref(req);
    if (err) {
        fprintf(stderr, "evbus put: entries %zu..%zu: %s\n", b->first,
                b->first + n - 1, err == EVB_ERR_NOMEM ? "out of memory" : why);
        b->failed += (int)n;
        b->rc = EVB_EXIT_FAILURE;
    } else {
        json_t *results = json_object_get(ans, "Entries");
        for (size_t i = 0; i < n; i++) {
            json_t *r = json_array_get(results, i);
            const char *id = json_string_value(json_object_get(r, "EventId"));
            if (id) {
                printf("%s\n", id);
                continue;
            }
            const char *code =
                json_string_value(json_object_get(r, "ErrorCode"));
            const char *msg =
                json_string_value(json_object_get(r, "ErrorMessage"));
            fprintf(stderr, "evbus put: entry %zu: %s: %s\n", b->first + i,
                    code ? code : "Error", msg ? msg : "(no message)");
            b->failed++;
            b->rc = EVB_EXIT_FAILURE;
        }
    }
    json_decref(ans);
    fflush(stdout);
    json_array_clear(b->entries);
    b->first += n;
}

/* Add one input text (an operand or a line). */
static int add(evb__client_t *c, const put_opts_t *o, batch_t *b,
               const char *text, size_t len, const char *where) {
    json_error_t je;
    json_t *in = json_loadb(text, len, 0, &je);
    if (!json_is_object(in)) {
        fprintf(stderr, "evbus put: %s: not a JSON object%s%s\n", where,
                in ? "" : ": ", in ? "" : je.text);
        json_decref(in);
        return EVB_EXIT_INVALID;
    }
    char why[128];
    json_t *e = entry_of(o, in, why, sizeof why);
    json_decref(in);
    if (!e || json_array_append_new(b->entries, e)) {
        fprintf(stderr, "evbus put: %s\n", why);
        return EVB_EXIT_FAILURE;
    }
    if (json_array_size(b->entries) == BATCH)
        flush(c, b);
    return EVB_EXIT_OK;
}

static bool blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

static int read_stdin(evb__client_t *c, const put_opts_t *o, batch_t *b) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    int rc = EVB_EXIT_OK;
    while (rc == EVB_EXIT_OK && (n = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if ((size_t)n > LINE_MAX_BYTES) {
            fprintf(stderr,
                    "evbus put: stdin line %lu: longer than %zu "
                    "bytes\n",
                    lineno, LINE_MAX_BYTES);
            rc = EVB_EXIT_INVALID;
            break;
        }
        if (blank(line, (size_t)n))
            continue;
        char where[64];
        snprintf(where, sizeof where, "stdin line %lu", lineno);
        rc = add(c, o, b, line, (size_t)n, where);
    }
    free(line);
    return rc;
}

int evb_cli_put(int argc, char **argv) {
    put_opts_t o;
    memset(&o, 0, sizeof o);
    int first = 0;
    int rc = evb_cli_parse(&evb_cli_put_spec, argc, argv, set, &o,
                           EVB_EXIT_USAGE, &first);
    if (rc != EVB_CLI_CONTINUE)
        return rc;
    evb__client_t *c = NULL;
    char why[512];
    evb_err_t err = evb__client_new(&o.client, &c, why, sizeof why);
    if (err)
        return err == EVB_ERR_INVALID_ARG
                   ? evb_cli_usage_error(&evb_cli_put_spec, EVB_EXIT_USAGE,
                                         "%s", why)
                   : (fprintf(stderr, "evbus put: %s\n", why),
                      EVB_EXIT_FAILURE);
    batch_t b = {json_array(), 1, 0, EVB_EXIT_OK};
    if (!b.entries) {
        evb__client_free(c);
        fprintf(stderr, "evbus put: out of memory\n");
        return EVB_EXIT_FAILURE;
    }
    rc = EVB_EXIT_OK;
    if (first >= argc) {
        rc = read_stdin(c, &o, &b);
    } else {
        for (int i = first; i < argc && rc == EVB_EXIT_OK; i++) {
            if (strcmp(argv[i], "-") == 0) {
                rc = read_stdin(c, &o, &b);
                continue;
            }
            char where[32];
            snprintf(where, sizeof where, "argument %d", i - first + 1);
            rc = add(c, &o, &b, argv[i], strlen(argv[i]), where);
        }
    }
    flush(c, &b); /* what was read before a bad line is sent too */
    json_decref(b.entries);
    evb__client_free(c);
    if (rc == EVB_EXIT_OK && fflush(stdout) != 0)
        rc = EVB_EXIT_FAILURE;
    return rc != EVB_EXIT_OK ? rc : b.rc;
}
