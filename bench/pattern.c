/*
 * bench/pattern: the pattern-matching benchmark (contract:
 * bench/README.md in the shared benchmark kit).
 *
 * Reads the city-lots events (one compact JSON object per line, gzip or
 * plain) into memory once, then for each workload (bench/rules/<w>.jsonl)
 * compiles its rules into one matcher, runs a warm-up pass that counts
 * matches per rule and checks them against expected/<w>.json, and times
 * --passes passes of matching the raw text of every event with one
 * evb_match_ctx_t on one thread. It prints one JSON line per workload with
 * the median pass; file reading and rule loading are not timed.
 *
 * Design choices: the data is decompressed by spawning `gzip -dc` so the
 * benchmark needs no link dependency beyond evbus_core; the rule text
 * handed to the engine is the exact byte span of the "rule" value in the
 * rules file (not a re-serialisation), so numbers reach the engine as
 * written.
 *
 * Exit status: 0 when every workload's counts match, 1 when one does not
 * (or a workload could not be run), 64 on a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/common.h"
#include "pattern/pattern.h"

#define EXIT_USAGE 64
#define MAX_SHOWN_DIFFS 10

/* ---- small helpers ---------------------------------------------------------
 */

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: pattern --data FILE.json[.gz] --rules DIR --expected DIR\n"
        "               [--workload NAME]... [--passes N] [--target FILE | "
        "--no-target]\n"
        "\n"
        "  --data FILE      events, one JSON object per line (gzip if *.gz)\n"
        "  --rules DIR      workloads: DIR/<name>.jsonl, one "
        "{\"name\":...,\"rule\":...} per line\n"
        "  --expected DIR   expected counts: DIR/<name>.json\n"
        "  --workload NAME  run only NAME (repeatable; default: all, "
        "sorted)\n"
        "  --passes N       timed passes, median reported (default 5)\n"
        "  --target FILE    TSV of workload<TAB>events_per_s targets\n"
        "                   (default: <rules>/../targets.tsv if present)\n"
        "  --no-target      do not compare against targets\n");
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "pattern: out of memory\n");
        exit(1);
    }
    return p;
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "pattern: out of memory\n");
        exit(1);
    }
    return p;
}

static char *xstrndup(const char *s, size_t len) {
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

/* Current resident set size in MiB from /proc/self/status (key "VmRSS:"
 * or "VmHWM:"); -1 if unavailable. */
static double proc_status_mb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    double mb = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0) {
            unsigned long kb = strtoul(line + klen, NULL, 10);
            mb = (double)kb / 1024.0;
            break;
        }
    }
    fclose(f);
    return mb;
}

/* ---- event data ------------------------------------------------------------
 */

typedef struct event {
    const char *text;
    size_t len;
} event_t;

typedef struct dataset {
    evb_buf_t raw; /* all event text; lines NUL-terminated in place */
    event_t *events;
    size_t n;
} dataset_t;

/* Quote s for /bin/sh in single quotes into out (evb_buf). */
static evb_err_t shell_quote(evb_buf_t *out, const char *s) {
    evb_err_t err = evb_buf_putc(out, '\'');
    for (; !err && *s; s++)
        err = *s == '\'' ? evb_buf_append(out, "'\\''", 4)
                         : evb_buf_putc(out, *s);
    return err ? err : evb_buf_putc(out, '\'');
}

/* Read the whole data file into ds->raw; *.gz goes through `gzip -dc`. */
static bool dataset_read(dataset_t *ds, const char *path) {
    bool gz = ends_with(path, ".gz");
    FILE *f;
    evb_buf_t cmd;
    evb_buf_init(&cmd, 0);
    if (gz) {
        if (access(path, R_OK) != 0) {
            fprintf(stderr, "pattern: %s: %s\n", path, strerror(errno));
            return false;
        }
        if (evb_buf_append(&cmd, "gzip -dc -- ", 12) ||
            shell_quote(&cmd, path)) {
            fprintf(stderr, "pattern: out of memory\n");
            return false;
        }
        f = popen(cmd.data, "r");
    } else {
        f = fopen(path, "rb");
    }
    if (!f) {
        fprintf(stderr, "pattern: %s: %s\n", path, strerror(errno));
        evb_buf_free(&cmd);
        return false;
    }
    evb_buf_init(&ds->raw, 0);
    size_t chunk = 1u << 20;
    char *tmp = xmalloc(chunk);
    size_t got;
    bool ok = true;
    while ((got = fread(tmp, 1, chunk, f)) > 0) {
        if (evb_buf_append(&ds->raw, tmp, got)) {
            fprintf(stderr, "pattern: out of memory reading %s\n", path);
            ok = false;
            break;
        }
    }
    if (ok && ferror(f)) {
        fprintf(stderr, "pattern: error reading %s\n", path);
        ok = false;
    }
    free(tmp);
    if (gz) {
        int st = pclose(f);
        if (ok && st != 0) {
            fprintf(stderr, "pattern: `%s` failed (status %d)\n", cmd.data, st);
            ok = false;
        }
    } else {
        fclose(f);
    }
    evb_buf_free(&cmd);
    return ok;
}

/* Split ds->raw into lines (blank lines skipped, CR stripped). */
static void dataset_split(dataset_t *ds) {
    size_t cap = 1024;
    ds->events = xmalloc(cap * sizeof *ds->events);
    ds->n = 0;
    char *p = ds->raw.data, *end = ds->raw.data + ds->raw.len;
    while (p && p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        *eol = '\0';
        size_t len = (size_t)(eol - p);
        if (len && p[len - 1] == '\r')
            p[--len] = '\0';
        if (len) {
            if (ds->n == cap) {
                cap *= 2;
                event_t *e = realloc(ds->events, cap * sizeof *ds->events);
                if (!e) {
                    fprintf(stderr, "pattern: out of memory\n");
                    exit(1);
                }
                ds->events = e;
            }
            ds->events[ds->n].text = p;
            ds->events[ds->n].len = len;
            ds->n++;
        }
        p = eol + 1;
    }
}

static void dataset_free(dataset_t *ds) {
    evb_buf_free(&ds->raw);
    free(ds->events);
}

/* ---- raw JSON spans --------------------------------------------------------
 */

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at '"': return the position after the closing quote, or NULL. */
static const char *skip_string(const char *p, const char *end) {
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Skip one JSON value (already known to be well formed, since jansson
 * parsed the line): return the position after it, or NULL. */
static const char *skip_value(const char *p, const char *end) {
    p = skip_ws(p, end);
    if (p >= end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = skip_string(p, end);
                if (!p)
                    return NULL;
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return NULL;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' &&
           *p != '\t' && *p != '\n' && *p != '\r')
        p++;
    return p;
}

/* Find the raw text of the top-level member `key` of the object in
 * [p, end). Keys are compared as written (no unescaping). */
static bool raw_member(const char *p, const char *end, const char *key,
                       const char **vstart, size_t *vlen) {
    size_t klen = strlen(key);
    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return false;
    p++;
    for (;;) {
        p = skip_ws(p, end);
        if (p >= end || *p != '"')
            return false;
        const char *ks = p + 1;
        p = skip_string(p, end);
        if (!p)
            return false;
        size_t kl = (size_t)(p - 1 - ks);
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return false;
        const char *vs = skip_ws(p + 1, end);
        const char *ve = skip_value(vs, end);
        if (!ve)
            return false;
        if (kl == klen && memcmp(ks, key, klen) == 0) {
            *vstart = vs;
            *vlen = (size_t)(ve - vs);
            return true;
        }
        p = skip_ws(ve, end);
        if (p >= end || *p != ',')
            return false;
        p++;
    }
}

/* ---- rules -----------------------------------------------------------------
 */

typedef struct rules {
    size_t n;
    char **names;
    char **patterns;
    size_t *lens;
} rules_t;

static void rules_free(rules_t *r) {
    for (size_t i = 0; i < r->n; i++) {
        free(r->names[i]);
        free(r->patterns[i]);
    }
    free(r->names);
    free(r->patterns);
    free(r->lens);
    memset(r, 0, sizeof *r);
}

/* Parse a rules file: one {"name": ..., "rule": ...} per line. */
static bool rules_load(rules_t *r, const char *path) {
    char errstr[512];
    evb_buf_t buf;
    evb_buf_init(&buf, 0);
    memset(r, 0, sizeof *r);
    if (evb_buf_read_file(&buf, path, errstr, sizeof errstr)) {
        fprintf(stderr, "pattern: %s\n", errstr);
        return false;
    }
    size_t cap = 16;
    r->names = xmalloc(cap * sizeof *r->names);
    r->patterns = xmalloc(cap * sizeof *r->patterns);
    r->lens = xmalloc(cap * sizeof *r->lens);
    bool ok = true;
    size_t lineno = 0;
    char *p = buf.data, *end = buf.data + buf.len;
    while (ok && p && p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        size_t len = (size_t)(eol - p);
        lineno++;
        const char *line = p;
        p = eol + 1;
        if (skip_ws(line, line + len) == line + len)
            continue;
        json_error_t jerr;
        json_t *obj = json_loadb(line, len, 0, &jerr);
        json_t *name = obj ? json_object_get(obj, "name") : NULL;
        json_t *rule = obj ? json_object_get(obj, "rule") : NULL;
        if (!obj || !json_is_string(name) || !rule) {
            fprintf(stderr, "pattern: %s:%zu: %s\n", path, lineno,
                    obj ? "expected {\"name\": string, \"rule\": pattern}"
                        : jerr.text);
            json_decref(obj);
            ok = false;
            break;
        }
        if (r->n == cap) {
            cap *= 2;
            char **nn = realloc(r->names, cap * sizeof *nn);
            if (nn)
                r->names = nn;
            char **pp = realloc(r->patterns, cap * sizeof *pp);
            if (pp)
                r->patterns = pp;
            size_t *ll = realloc(r->lens, cap * sizeof *ll);
            if (ll)
                r->lens = ll;
            if (!nn || !pp || !ll) {
                fprintf(stderr, "pattern: out of memory\n");
                exit(1);
            }
        }
        r->names[r->n] =
            xstrndup(json_string_value(name), json_string_length(name));
        const char *vs;
        size_t vl;
        if (raw_member(line, line + len, "rule", &vs, &vl)) {
            r->patterns[r->n] = xstrndup(vs, vl);
            r->lens[r->n] = vl;
        } else {
            /* Escaped key or odd layout: fall back to re-serialising. */
            char *s = json_dumps(rule, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!s) {
                fprintf(stderr, "pattern: out of memory\n");
                exit(1);
            }
            r->patterns[r->n] = s;
            r->lens[r->n] = strlen(s);
        }
        r->n++;
        json_decref(obj);
    }
    evb_buf_free(&buf);
    if (!ok)
        rules_free(r);
    return ok;
}

/* ---- name -> rule index
 * ------------------------------------------------------ */

typedef struct name_index {
    size_t mask;
    size_t *slots; /* rule index + 1; 0 = empty */
    char *const *names;
} name_index_t;

static uint64_t fnv1a(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void name_index_init(name_index_t *ix, char *const *names, size_t n) {
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    ix->mask = cap - 1;
    ix->slots = xcalloc(cap, sizeof *ix->slots);
    ix->names = names;
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)fnv1a(names[i], strlen(names[i])) & ix->mask;
        while (ix->slots[h] && strcmp(names[ix->slots[h] - 1], names[i]) != 0)
            h = (h + 1) & ix->mask;
        if (!ix->slots[h])
            ix->slots[h] = i + 1; /* a duplicate name keeps its first index */
    }
}

/* Index of the rule called name, or -1. */
static long name_index_find(const name_index_t *ix, const char *name) {
    size_t h = (size_t)fnv1a(name, strlen(name)) & ix->mask;
    while (ix->slots[h]) {
        if (strcmp(ix->names[ix->slots[h] - 1], name) == 0)
            return (long)(ix->slots[h] - 1);
        h = (h + 1) & ix->mask;
    }
    return -1;
}

static void name_index_free(name_index_t *ix) {
    free(ix->slots);
}

/* ---- targets
 * ----------------------------------------------------------------- */

typedef struct target {
    char *workload;
    uint64_t events_per_s;
} target_t;

typedef struct targets {
    target_t *v;
    size_t n;
} targets_t;

/* Load a TSV of workload<TAB>events_per_s ('#' comments, blank lines ok). */
static bool targets_load(targets_t *t, const char *path) {
    char errstr[512];
    evb_buf_t buf;
    evb_buf_init(&buf, 0);
    memset(t, 0, sizeof *t);
    if (evb_buf_read_file(&buf, path, errstr, sizeof errstr)) {
        fprintf(stderr, "pattern: %s\n", errstr);
        return false;
    }
    size_t cap = 64;
    t->v = xmalloc(cap * sizeof *t->v);
    char *save = NULL;
    size_t lineno = 0;
    for (char *line = strtok_r(buf.data ? buf.data : (char *)"", "\n", &save);
         line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        if (!len || line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        char *numend = NULL;
        unsigned long long v = tab ? strtoull(tab + 1, &numend, 10) : 0;
        if (!tab || numend == tab + 1 || (*numend && *numend != '\t')) {
            fprintf(stderr, "pattern: %s: bad line: %s\n", path, line);
            continue;
        }
        if (t->n == cap) {
            cap *= 2;
            target_t *nv = realloc(t->v, cap * sizeof *nv);
            if (!nv) {
                fprintf(stderr, "pattern: out of memory\n");
                exit(1);
            }
            t->v = nv;
        }
        t->v[t->n].workload = xstrndup(line, (size_t)(tab - line));
        t->v[t->n].events_per_s = v;
        t->n++;
    }
    evb_buf_free(&buf);
    return true;
}

static const target_t *targets_find(const targets_t *t, const char *w) {
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].workload, w) == 0)
            return &t->v[i];
    return NULL;
}

static void targets_free(targets_t *t) {
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].workload);
    free(t->v);
}

/* ---- expected counts
 * ----------------------------------------------------------- */

/* Compare counts with expected/<w>.json; print differences to stderr. */
static bool check_counts(const char *workload, const char *path,
                         const rules_t *r, const uint64_t *per_rule,
                         uint64_t matched_events, uint64_t total_matches,
                         size_t events) {
    json_error_t jerr;
    json_t *exp = json_load_file(path, 0, &jerr);
    if (!exp) {
        fprintf(stderr, "pattern: %s: %s: %s\n", workload, path, jerr.text);
        return false;
    }
    bool ok = true;
    int shown = 0;
    json_t *per = json_object_get(exp, "per_rule");
    if (!json_is_object(per)) {
        fprintf(stderr, "pattern: %s: %s has no per_rule object\n", workload,
                path);
        ok = false;
    }
    json_t *je = json_object_get(exp, "events");
    if (json_is_integer(je) && (uint64_t)json_integer_value(je) != events) {
        fprintf(stderr,
                "pattern: %s: expected counts are for %" PRIu64
                " events, data has %zu\n",
                workload, (uint64_t)json_integer_value(je), events);
        ok = false;
    }
    for (size_t i = 0; per && i < r->n; i++) {
        json_t *v = json_object_get(per, r->names[i]);
        if (!json_is_integer(v)) {
            ok = false;
            if (shown++ < MAX_SHOWN_DIFFS)
                fprintf(stderr, "pattern: %s: rule %s: no expected count\n",
                        workload, r->names[i]);
            continue;
        }
        if ((uint64_t)json_integer_value(v) != per_rule[i]) {
            ok = false;
            if (shown++ < MAX_SHOWN_DIFFS)
                fprintf(stderr,
                        "pattern: %s: rule %s: expected %" JSON_INTEGER_FORMAT
                        " matches, got %" PRIu64 "; rule %s\n",
                        workload, r->names[i], json_integer_value(v),
                        per_rule[i], r->patterns[i]);
        }
    }
    if (json_is_object(per) && json_object_size(per) > r->n) {
        ok = false;
        fprintf(stderr,
                "pattern: %s: expected file names %zu rules, rules "
                "file has %zu\n",
                workload, json_object_size(per), r->n);
    }
    const char *keys[2] = {"matched_events", "total_matches"};
    uint64_t got[2] = {matched_events, total_matches};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(exp, keys[k]);
        if (!json_is_integer(v) || (uint64_t)json_integer_value(v) != got[k]) {
            ok = false;
            fprintf(stderr,
                    "pattern: %s: %s: expected %" JSON_INTEGER_FORMAT
                    ", got %" PRIu64 "\n",
                    workload, keys[k],
                    json_is_integer(v) ? json_integer_value(v) : -1, got[k]);
        }
    }
    if (shown > MAX_SHOWN_DIFFS)
        fprintf(stderr, "pattern: %s: ... %d differing rules in all\n",
                workload, shown);
    json_decref(exp);
    return ok;
}

/* ---- one workload
 * ------------------------------------------------------------ */

typedef struct options {
    const char *data;
    const char *rules_dir;
    const char *expected_dir;
    const char **workloads;
    size_t n_workloads;
    unsigned passes;
    const char *target_file;
    bool no_target;
} options_t;

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Print a JSON string (with quotes) to stdout. */
static void print_json_string(const char *s) {
    json_t *j = json_string(s);
    char *out = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    fputs(out ? out : "\"?\"", stdout);
    free(out);
    json_decref(j);
}

static void print_failure(const char *workload, size_t rules, size_t events,
                          const char *why) {
    printf("{\"bench\":\"pattern\",\"workload\":");
    print_json_string(workload);
    printf(",\"rules\":%zu,\"events\":%zu,\"error\":", rules, events);
    print_json_string(why);
    printf(",\"counts_ok\":false}\n");
    fflush(stdout);
}

/* Run one workload; returns whether its counts were right. */
static bool run_workload(const options_t *o, const dataset_t *ds,
                         const targets_t *targets, const char *workload) {
    char path[4096], errstr[1024];
    rules_t r;
    snprintf(path, sizeof path, "%s/%s.jsonl", o->rules_dir, workload);
    if (!rules_load(&r, path)) {
        print_failure(workload, 0, ds->n, "cannot read rules");
        return false;
    }

    evb_ruleset_t *rs = evb_ruleset_new(NULL);
    evb_match_ctx_t *ctx = evb_match_ctx_new();
    if (!rs || !ctx) {
        fprintf(stderr, "pattern: out of memory\n");
        exit(1);
    }
    evb_err_t err = evb_ruleset_add_many(rs, r.n, (const char *const *)r.names,
                                         (const char *const *)r.patterns,
                                         r.lens, errstr, sizeof errstr);
    if (err) {
        fprintf(stderr, "pattern: %s: loading rules: %s: %s\n", workload,
                evb_err_name(err), errstr);
        print_failure(workload, r.n, ds->n, errstr);
        evb_match_ctx_free(ctx);
        evb_ruleset_free(rs);
        rules_free(&r);
        return false;
    }
    evb_matcher_t *m = evb_ruleset_acquire(rs);

    /* Warm-up pass: count matches per rule. */
    name_index_t ix;
    name_index_init(&ix, r.names, r.n);
    uint64_t *per_rule = xcalloc(r.n, sizeof *per_rule);
    uint64_t matched_events = 0, total = 0, errors = 0, unknown = 0;
    for (size_t i = 0; i < ds->n; i++) {
        const char *const *names;
        size_t count;
        err = evb_matcher_match(m, ctx, ds->events[i].text, ds->events[i].len,
                                &names, &count, errstr, sizeof errstr);
        if (err) {
            if (errors++ < 3)
                fprintf(stderr, "pattern: %s: event %zu: %s: %s\n", workload,
                        i + 1, evb_err_name(err), errstr);
            continue;
        }
        matched_events += count > 0;
        total += count;
        for (size_t k = 0; k < count; k++) {
            long idx = name_index_find(&ix, names[k]);
            if (idx < 0) {
                if (unknown++ < 3)
                    fprintf(stderr,
                            "pattern: %s: event %zu matched unknown "
                            "rule \"%s\"\n",
                            workload, i + 1, names[k]);
                continue;
            }
            per_rule[idx]++;
        }
    }
    if (errors)
        fprintf(stderr, "pattern: %s: %" PRIu64 " events failed to match\n",
                workload, errors);
    snprintf(path, sizeof path, "%s/%s.json", o->expected_dir, workload);
    bool counts_ok = check_counts(workload, path, &r, per_rule, matched_events,
                                  total, ds->n) &&
                     errors == 0 && unknown == 0;

    /* Timed passes. */
    uint64_t *ns = xmalloc(o->passes * sizeof *ns);
    size_t sink = 0;
    for (unsigned p = 0; p < o->passes; p++) {
        uint64_t t0 = evb_now_ns();
        for (size_t i = 0; i < ds->n; i++) {
            const char *const *names;
            size_t count = 0;
            if (evb_matcher_match(m, ctx, ds->events[i].text, ds->events[i].len,
                                  &names, &count, errstr,
                                  sizeof errstr) == EVB_ERR_OK)
                sink += count;
        }
        ns[p] = evb_now_ns() - t0;
    }
    qsort(ns, o->passes, sizeof *ns, cmp_u64);
    double median =
        o->passes % 2
            ? (double)ns[o->passes / 2]
            : ((double)ns[o->passes / 2 - 1] + (double)ns[o->passes / 2]) / 2.0;
    if (median < 1)
        median = 1;
    if (sink != total * o->passes)
        fprintf(stderr,
                "pattern: %s: timed passes found %zu matches, "
                "warm-up %" PRIu64 " per pass\n",
                workload, sink, total);
    double eps = ds->n ? (double)ds->n * 1e9 / median : 0;
    double ns_per = ds->n ? median / (double)ds->n : 0;
    double rss = proc_status_mb("VmRSS:");

    printf("{\"bench\":\"pattern\",\"workload\":");
    print_json_string(workload);
    printf(",\"rules\":%zu,\"events\":%zu,\"events_per_s\":%.0f,"
           "\"ns_per_event\":%.0f,\"rss_mb\":%.1f,\"counts_ok\":%s",
           evb_matcher_rule_count(m), ds->n, eps, ns_per, rss,
           counts_ok ? "true" : "false");
    const target_t *t = targets ? targets_find(targets, workload) : NULL;
    if (t)
        printf(",\"target\":%" PRIu64 ",\"target_ok\":%s", t->events_per_s,
               eps >= (double)t->events_per_s ? "true" : "false");
    printf("}\n");
    fflush(stdout);

    free(ns);
    free(per_rule);
    name_index_free(&ix);
    evb_matcher_unref(m);
    evb_match_ctx_free(ctx);
    evb_ruleset_free(rs);
    rules_free(&r);
    return counts_ok;
}

/* ---- main -------------------------------------------------------------------
 */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every DIR/<name>.jsonl, sorted; *n receives the count. */
static char **list_workloads(const char *dir, size_t *n) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "pattern: %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    size_t cap = 64;
    char **v = xmalloc(cap * sizeof *v);
    *n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !ends_with(de->d_name, ".jsonl"))
            continue;
        if (*n == cap) {
            cap *= 2;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                fprintf(stderr, "pattern: out of memory\n");
                exit(1);
            }
            v = nv;
        }
        v[(*n)++] = xstrndup(de->d_name, strlen(de->d_name) - 6);
    }
    closedir(d);
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

/* Value of option `name` at argv[*i] ("--name V" or "--name=V"), or NULL
 * if argv[*i] is not that option. Exits with usage if the value is missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *name) {
    size_t nl = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, nl) != 0)
        return NULL;
    if (a[nl] == '=')
        return a + nl + 1;
    if (a[nl] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "pattern: %s needs a value\n", name);
        usage(stderr);
        exit(EXIT_USAGE);
    }
    return argv[++*i];
}

int main(int argc, char **argv) {
    options_t o = {.passes = 5};
    o.workloads = xmalloc((size_t)argc * sizeof *o.workloads);
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--no-target") == 0) {
            o.no_target = true;
        } else if ((v = opt_value(argc, argv, &i, "--data")) != NULL) {
            o.data = v;
        } else if ((v = opt_value(argc, argv, &i, "--rules")) != NULL) {
            o.rules_dir = v;
        } else if ((v = opt_value(argc, argv, &i, "--expected")) != NULL) {
            o.expected_dir = v;
        } else if ((v = opt_value(argc, argv, &i, "--workload")) != NULL) {
            o.workloads[o.n_workloads++] = v;
        } else if ((v = opt_value(argc, argv, &i, "--target")) != NULL) {
            o.target_file = v;
        } else if ((v = opt_value(argc, argv, &i, "--passes")) != NULL) {
            char *endp;
            unsigned long n = strtoul(v, &endp, 10);
            if (*v == '\0' || *endp || n < 1 || n > 100000) {
                fprintf(stderr,
                        "pattern: --passes: not a positive number: %s\n", v);
                return EXIT_USAGE;
            }
            o.passes = (unsigned)n;
        } else {
            fprintf(stderr, "pattern: unknown argument: %s\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!o.data || !o.rules_dir || !o.expected_dir) {
        fprintf(stderr,
                "pattern: --data, --rules and --expected are required\n");
        usage(stderr);
        return EXIT_USAGE;
    }

    /* Targets: explicit file, else <rules>/../targets.tsv if it exists. */
    targets_t targets = {0};
    bool have_targets = false;
    char default_targets[4096];
    if (!o.no_target) {
        const char *tf = o.target_file;
        if (!tf) {
            snprintf(default_targets, sizeof default_targets,
                     "%s/../targets.tsv", o.rules_dir);
            if (access(default_targets, R_OK) == 0)
                tf = default_targets;
        }
        if (tf) {
            if (!targets_load(&targets, tf))
                return 1;
            have_targets = true;
        }
    }

    /* Workload list: named ones (checked) or every rules file. */
    char **names = NULL;
    size_t n_names = 0;
    if (o.n_workloads) {
        names = xmalloc(o.n_workloads * sizeof *names);
        for (size_t i = 0; i < o.n_workloads; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.jsonl", o.rules_dir,
                     o.workloads[i]);
            if (access(path, R_OK) != 0) {
                fprintf(stderr, "pattern: no such workload: %s (%s)\n",
                        o.workloads[i], path);
                return EXIT_USAGE;
            }
            names[n_names++] = xstrndup(o.workloads[i], strlen(o.workloads[i]));
        }
    } else {
        names = list_workloads(o.rules_dir, &n_names);
        if (!names)
            return 1;
    }

    dataset_t ds;
    if (!dataset_read(&ds, o.data))
        return 1;
    dataset_split(&ds);
    if (ds.n == 0) {
        fprintf(stderr, "pattern: %s: no events\n", o.data);
        return 1;
    }

    bool all_ok = true;
    for (size_t i = 0; i < n_names; i++)
        all_ok &=
            run_workload(&o, &ds, have_targets ? &targets : NULL, names[i]);

    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    free(o.workloads);
    dataset_free(&ds);
    targets_free(&targets);
    return all_ok ? 0 : 1;
}
