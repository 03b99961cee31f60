/*
 * options.c: parsing, usage text, man pages and Markdown from a command's
 * spec (options.h).
 *
 * Parsing builds getopt_long's tables from the spec's rows (long option
 * codes are row indices offset by 0x1000, so rows need no getopt code of
 * their own), with "+:" so that options stop at the first operand and a
 * missing value is reported as such. Everything printed is generated
 * from the same rows: the usage text wraps each row's help at 79 columns
 * beside the option (or under it when the option is long), the man page
 * escapes it for roff, the Markdown puts it in a table.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "options.h"

#define WIDTH 79
#define HELP_COL 24
#define CODE_BASE 0x1000

/* ---- rows ------------------------------------------------------------------
 */

typedef struct rows {
    const evb_cli_option_t *row[256];
    size_t n;
    size_t listed; /* row[0..listed) are the spec's groups', the rest its
                      unlisted groups' */
} rows_t;

static void collect_groups(const evb_cli_option_group_t *const *groups,
                           rows_t *r) {
    for (size_t g = 0; groups && groups[g]; g++)
        for (const evb_cli_option_t *o = groups[g]->options;
             o && o->name && r->n < EVB_ARRAY_LEN(r->row); o++)
            r->row[r->n++] = o;
}

/* The rows parsed: the groups', then the unlisted groups'. */
static void collect(const evb_cli_spec_t *spec, rows_t *r) {
    r->n = 0;
    collect_groups(spec->groups, r);
    r->listed = r->n;
    collect_groups(spec->unlisted, r);
}

const evb_cli_option_t *evb_cli_find_option(const evb_cli_spec_t *spec,
                                            const char *name) {
    rows_t r;
    collect(spec, &r);
    for (size_t i = 0; i < r.n; i++)
        if (strcmp(r.row[i]->name, name) == 0)
            return r.row[i];
    return NULL;
}

/* ---- parsing ---------------------------------------------------------------
 */

int evb_cli_usage_error(const evb_cli_spec_t *spec, int status, const char *fmt,
                        ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "evbus %s: ", spec->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    evb_cli_usage(spec, stderr);
    return status;
}

static bool parse_uint(const char *s, unsigned long long *out) {
    if (!s[0] || s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool choice_ok(const char *choices, const char *v) {
    size_t n = strlen(v);
    for (const char *p = choices; n && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return true;
        if (!bar)
            break;
        p = bar + 1;
    }
    return false;
}

/* Check v against the row and hand it to set. */
static bool take(const evb_cli_option_t *o, const char *arg, evb_cli_set_fn set,
                 void *ud, char *why, size_t why_size) {
    evb_cli_value_t v = {arg, 0};
    switch (o->type) {
    case EVB_CLI_UINT:
        if (!parse_uint(arg, &v.num) || v.num < o->min || v.num > o->max) {
            snprintf(why, why_size, "--%s: not a number in %llu..%llu: '%s'",
                     o->name, o->min, o->max, arg);
            return false;
        }
        break;
    case EVB_CLI_CHOICE:
        if (!choice_ok(o->choices, arg)) {
            snprintf(why, why_size, "--%s: expected one of %s, got '%s'",
                     o->name, o->choices, arg);
            return false;
        }
        break;
    default: break;
    }
    why[0] = '\0';
    if (set(ud, o, &v, why, why_size))
        return true;
    if (!why[0])
        snprintf(why, why_size, "--%s: invalid value '%s'", o->name,
                 arg ? arg : "");
    return false;
}

/* getopt_long refused arg, a long option: say whether it gave a value to
 * a flag, was an ambiguous abbreviation, or is unknown. */
static int long_option_error(const evb_cli_spec_t *spec, const rows_t *r,
                             const char *arg, int usage_status) {
    const char *name = arg + 2;
    size_t len = strcspn(name, "=");
    const char *match[2] = {NULL, NULL};
    size_t n = 0;
    for (size_t i = 0; i <= r->n; i++) {
        const char *row = i < r->n ? r->row[i]->name : "help";
        if (strncmp(row, name, len) != 0)
            continue;
        if (row[len] == '\0') { /* exact */
            match[0] = row;
            n = 1;
            break;
        }
        if (n < 2)
            match[n] = row;
        n++;
    }
    if (len > 0 && n == 1 && name[len] == '=')
        return evb_cli_usage_error(spec, usage_status,
                                   "option '--%s' takes no value", match[0]);
    if (len > 0 && n > 1)
        return evb_cli_usage_error(
            spec, usage_status, "ambiguous option '--%.*s' (--%s, --%s%s)",
            (int)len, name, match[0], match[1], n > 2 ? ", ..." : "");
    return evb_cli_usage_error(spec, usage_status, "unknown option '%s'", arg);
}

int evb_cli_parse(const evb_cli_spec_t *spec, int argc, char **argv,
                  evb_cli_set_fn set, void *ud, int usage_status,
                  int *first_operand) {
    rows_t r;
    collect(spec, &r);
    struct option lopts[EVB_ARRAY_LEN(r.row) + 2];
    char shorts[2 * EVB_ARRAY_LEN(r.row) + 8] = "+:h";
    size_t ns = 3;
    for (size_t i = 0; i < r.n; i++) {
        const evb_cli_option_t *o = r.row[i];
        lopts[i] = (struct option){
            o->name, o->type == EVB_CLI_FLAG ? no_argument : required_argument,
            NULL, CODE_BASE + (int)i};
        if (o->short_name) {
            shorts[ns++] = o->short_name;
            if (o->type != EVB_CLI_FLAG)
                shorts[ns++] = ':';
        }
    }
    shorts[ns] = '\0';
    lopts[r.n] = (struct option){"help", no_argument, NULL, 'h'};
    lopts[r.n + 1] = (struct option){NULL, 0, NULL, 0};

    char why[600];
    for (size_t i = 0; i < r.listed; i++) {
        const evb_cli_option_t *o = r.row[i];
        if (o->def && !(o->flags & EVB_CLI_DEFAULT_DOC) &&
            !take(o, o->def, set, ud, why, sizeof why))
            return evb_cli_usage_error(spec, usage_status, "%s", why);
    }

    opterr = 0;
    optind = 0; /* glibc's full reset: a command may parse twice (its own
                   options, then its subcommand's) */
    int c;
    while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
        const evb_cli_option_t *o = NULL;
        if (c >= CODE_BASE && (size_t)(c - CODE_BASE) < r.n) {
            o = r.row[c - CODE_BASE];
        } else if (c == 'h') {
            evb_cli_usage(spec, stdout);
            return 0;
        } else if (c == ':') {
            return evb_cli_usage_error(spec, usage_status,
                                       "option '%s' needs a value",
                                       argv[optind - 1]);
        } else {
            for (size_t i = 0; i < r.n && !o; i++)
                if (r.row[i]->short_name && r.row[i]->short_name == c)
                    o = r.row[i];
            if (!o && strncmp(argv[optind - 1], "--", 2) == 0)
                return long_option_error(spec, &r, argv[optind - 1],
                                         usage_status);
            if (!o) {
                if (optopt && optopt < CODE_BASE && optopt != '?')
                    return evb_cli_usage_error(spec, usage_status,
                                               "unknown option '-%c'", optopt);
                return evb_cli_usage_error(spec, usage_status,
                                           "unknown option '%s'",
                                           argv[optind - 1]);
            }
        }
        if (!take(o, o->type == EVB_CLI_FLAG ? NULL : optarg, set, ud, why,
                  sizeof why))
            return evb_cli_usage_error(spec, usage_status, "%s", why);
    }
    *first_operand = optind;
    return EVB_CLI_CONTINUE;
}

/* The last word of a subcommand's name ("decode" of "avro decode"). */
static const char *sub_word(const evb_cli_spec_t *sub) {
    const char *sp = strrchr(sub->name, ' ');
    return sp ? sp + 1 : sub->name;
}

const evb_cli_spec_t *evb_cli_find_subcommand(const evb_cli_spec_t *spec,
                                              const char *name) {
    size_t n = strlen(spec->name);
    for (size_t i = 0; spec->subcommands && spec->subcommands[i]; i++) {
        const char *full = spec->subcommands[i]->name;
        if (strncmp(full, spec->name, n) == 0 && full[n] == ' ' &&
            strcmp(full + n + 1, name) == 0)
            return spec->subcommands[i];
    }
    return NULL;
}

/* "decode or encode", "a, b or c": the subcommands' names. */
static void subcommand_list(const evb_cli_spec_t *spec, char *buf,
                            size_t size) {
    size_t len = 0, count = 0;
    while (spec->subcommands[count])
        count++;
    buf[0] = '\0';
    for (size_t i = 0; i < count && len < size; i++) {
        const char *sep = i == 0 ? "" : i + 1 == count ? " or " : ", ";
        int w = snprintf(buf + len, size - len, "%s%s", sep,
                         sub_word(spec->subcommands[i]));
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

int evb_cli_parse_subcommand(const evb_cli_spec_t *spec, int argc, char **argv,
                             evb_cli_set_fn set, void *ud, int usage_status,
                             const evb_cli_spec_t **sub, int *sub_index) {
    assert(spec->subcommands && spec->subcommands[0]);
    *sub = NULL;
    int first;
    int rc = evb_cli_parse(spec, argc, argv, set, ud, usage_status, &first);
    if (rc != EVB_CLI_CONTINUE)
        return rc;
    char names[256];
    subcommand_list(spec, names, sizeof names);
    if (first >= argc)
        return evb_cli_usage_error(spec, usage_status, "missing subcommand: %s",
                                   names);
    if (strcmp(argv[first], "help") == 0) {
        if (first + 1 >= argc) {
            evb_cli_usage(spec, stdout);
            return 0;
        }
        const evb_cli_spec_t *s =
            evb_cli_find_subcommand(spec, argv[first + 1]);
        if (!s)
            return evb_cli_usage_error(spec, usage_status,
                                       "unknown subcommand '%s' (%s)",
                                       argv[first + 1], names);
        if (first + 2 < argc)
            return evb_cli_usage_error(spec, usage_status,
                                       "unexpected argument '%s'",
                                       argv[first + 2]);
        evb_cli_usage(s, stdout);
        return 0;
    }
    *sub = evb_cli_find_subcommand(spec, argv[first]);
    if (!*sub)
        return evb_cli_usage_error(spec, usage_status,
                                   "unknown subcommand '%s' (%s)", argv[first],
                                   names);
    *sub_index = first;
    return EVB_CLI_CONTINUE;
}

/* ---- usage text ------------------------------------------------------------
 */

/* Print text wrapped to WIDTH, every line indented by indent (the first
 * by first_indent, which may be less when something stands before it). */
static void wrap(FILE *out, const char *text, int indent, int first_col) {
    int col = first_col;
    const char *p = text;
    bool line_start = true;
    while (*p) {
        if (*p == '\n') {
            fputc('\n', out);
            col = 0;
            line_start = true;
            p++;
            continue;
        }
        if (*p == ' ') {
            p++;
            continue;
        }
        size_t w = strcspn(p, " \n");
        if (!line_start && col + 1 + (int)w > WIDTH) {
            fputc('\n', out);
            col = 0;
            line_start = true;
        }
        if (line_start) {
            for (; col < indent; col++)
                fputc(' ', out);
        } else {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, w, out);
        col += (int)w;
        p += w;
        line_start = false;
    }
    if (col > 0 || line_start)
        fputc('\n', out);
}

/* "  -f, --file FILE" */
static int option_label(const evb_cli_option_t *o, char *buf, size_t size) {
    int n;
    if (o->short_name)
        n = snprintf(buf, size, "  -%c, --%s", o->short_name, o->name);
    else
        n = snprintf(buf, size, "  --%s", o->name);
    if (o->type != EVB_CLI_FLAG && n >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, " %s",
                      o->arg ? o->arg : "VALUE");
    return n;
}

/* The help of a row with its default and repeatability appended. */
static void row_help(const evb_cli_option_t *o, char *buf, size_t size) {
    int n = snprintf(buf, size, "%s", o->help ? o->help : "");
    if (o->def && n >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, " (default %s)", o->def);
    if ((o->flags & EVB_CLI_REPEATABLE) && n >= 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, " (repeatable)");
}

/* "usage: evbus NAME SYNOPSIS" (lead "usage:"), or its continuation
 * line for another subcommand (lead "      "). */
static void usage_line(const evb_cli_spec_t *spec, const char *lead,
                       FILE *out) {
    char head[256];
    int n = snprintf(head, sizeof head, "%s evbus %s ", lead, spec->name);
    fputs(head, out);
    wrap(out, spec->synopsis ? spec->synopsis : "[options]", n, n);
}

void evb_cli_usage(const evb_cli_spec_t *spec, FILE *out) {
    if (spec->subcommands && spec->subcommands[0]) {
        for (size_t i = 0; spec->subcommands[i]; i++)
            usage_line(spec->subcommands[i], i ? "      " : "usage:", out);
    } else {
        usage_line(spec, "usage:", out);
    }
    if (spec->description) {
        fputc('\n', out);
        wrap(out, spec->description, 0, 0);
    }
    if (spec->subcommands && spec->subcommands[0]) {
        fputs("\ncommands:\n", out);
        for (size_t i = 0; spec->subcommands[i]; i++) {
            char label[128];
            int len = snprintf(label, sizeof label, "  %s",
                               sub_word(spec->subcommands[i]));
            fputs(label, out);
            if (len >= HELP_COL - 1) {
                fputc('\n', out);
                len = 0;
            }
            wrap(out, spec->subcommands[i]->summary, HELP_COL, len);
        }
    }
    for (size_t g = 0; spec->groups && spec->groups[g]; g++) {
        const evb_cli_option_group_t *grp = spec->groups[g];
        if (!grp->options || !grp->options->name)
            continue;
        fprintf(out, "\n%s:\n", grp->title ? grp->title : "options");
        for (const evb_cli_option_t *o = grp->options; o->name; o++) {
            char label[128], help[2048];
            int len = option_label(o, label, sizeof label);
            row_help(o, help, sizeof help);
            fputs(label, out);
            if (len >= HELP_COL - 1) {
                fputc('\n', out);
                wrap(out, help, HELP_COL, 0);
            } else {
                wrap(out, help, HELP_COL, len);
            }
        }
    }
    fprintf(out, "\n  -h, --help            this help\n");
    if (spec->subcommands && spec->subcommands[0]) {
        fputc('\n', out);
        char more[256];
        snprintf(more, sizeof more,
                 "Run `evbus %s COMMAND --help` for a command's options.",
                 spec->name);
        wrap(out, more, 0, 0);
    }
    if (spec->notes) {
        fputc('\n', out);
        wrap(out, spec->notes, 0, 0);
    }
    if (spec->exit_status)
        fprintf(out, "\nexit status:\n%s", spec->exit_status);
}

/* ---- man page
 * ------------------------------------------------------------------ */

/* Text for roff: backslashes, leading dots and quotes, hyphens in option
 * names (\-) handled; paragraphs become .PP. */
static void roff_text(FILE *out, const char *s, bool paragraphs,
                      bool preformatted) {
    bool bol = true, dash_word = false;
    for (const char *p = s; *p; p++) {
        if (p == s || p[-1] == ' ' || p[-1] == '\n' || p[-1] == '(' ||
            p[-1] == '[' || p[-1] == '`')
            dash_word = *p == '-'; /* an option: every hyphen is \- */
        else if (*p == ' ')
            dash_word = false;
        if (*p == '\n') {
            if (paragraphs && p[1] == '\n') {
                fputs("\n.PP\n", out);
                p++;
            } else {
                fputc('\n', out);
            }
            bol = true;
            continue;
        }
        if (bol && (*p == '.' || *p == '\''))
            fputs("\\&", out);
        if (bol && *p == ' ' && !preformatted) /* roff would keep them */
            continue;
        bol = false;
        if (*p == '\\')
            fputs("\\e", out);
        else if (*p == '-' && dash_word)
            fputs("\\-", out);
        else
            fputc(*p, out);
    }
    fputc('\n', out);
}

/* s with every hyphen as \- (option names, values' names). */
static void roff_dashes(FILE *out, const char *s) {
    for (; *s; s++)
        if (*s == '-')
            fputs("\\-", out);
        else if (*s == '\\')
            fputs("\\e", out);
        else
            fputc(*s, out);
}

static void upper(char *dst, size_t size, const char *a, const char *b) {
    snprintf(dst, size, "%s%s", a, b);
    for (char *p = dst; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
        else if (*p == ' ')
            *p = '-';
}

/* The rows of spec's groups as .TP paragraphs, each titled group under
 * .SS title, then -h; in a subcommand's section (sub) every group is a
 * .SS, the untitled one "Options", and -h is left to the page's OPTIONS. */
static void man_options(const evb_cli_spec_t *spec, bool sub, FILE *out) {
    for (size_t g = 0; spec->groups && spec->groups[g]; g++) {
        const evb_cli_option_group_t *grp = spec->groups[g];
        if (!grp->options || !grp->options->name)
            continue;
        if (grp->title || sub)
            fprintf(out, ".SS %s\n", grp->title ? grp->title : "Options");
        for (const evb_cli_option_t *o = grp->options; o->name; o++) {
            fputs(".TP\n", out);
            if (o->short_name)
                fprintf(out, "\\fB\\-%c\\fR, ", o->short_name);
            fputs("\\fB\\-\\-", out);
            roff_dashes(out, o->name);
            fputs("\\fR", out);
            if (o->type != EVB_CLI_FLAG) {
                fputs(" \\fI", out);
                roff_dashes(out, o->arg ? o->arg : "VALUE");
                fputs("\\fR", out);
            }
            fputc('\n', out);
            char help[2048];
            row_help(o, help, sizeof help);
            roff_text(out, help, false, false);
        }
    }
    if (sub)
        return;
    fputs(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nprint this help", out);
    if (spec->subcommands && spec->subcommands[0])
        fputs("; after a subcommand, that subcommand's", out);
    fputc('\n', out);
}

/* ".B evbus NAME" and the synopsis. */
static void man_synopsis(const evb_cli_spec_t *spec, FILE *out) {
    fprintf(out, ".B evbus %s\n", spec->name);
    roff_text(out, spec->synopsis ? spec->synopsis : "[options]", false, false);
}

/* A subcommand's section of its command's page: synopsis, description,
 * options, notes. */
static void man_subcommand(const evb_cli_spec_t *sub, FILE *out) {
    char title[128];
    snprintf(title, sizeof title, "evbus %s", sub->name);
    for (char *p = title; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    fprintf(out, ".SH \"%s\"\n", title);
    man_synopsis(sub, out);
    if (sub->description) {
        fputs(".PP\n", out);
        roff_text(out, sub->description, true, false);
    }
    man_options(sub, true, out);
    if (sub->notes) {
        fputs(".PP\n", out);
        roff_text(out, sub->notes, true, false);
    }
}

void evb_cli_man(const evb_cli_spec_t *spec, const char *version, FILE *out) {
    char title[128];
    upper(title, sizeof title, "evbus-", spec->name);
    fprintf(out,
            ".\\\" Generated by `evbus help --man %s`; do not edit.\n"
            ".TH %s 1 \"\" \"evbus %s\" \"evbus manual\"\n"
            ".SH NAME\nevbus\\-%s \\- ",
            spec->name, title, version, spec->name);
    roff_text(out, spec->summary, false, false);
    fputs(".SH SYNOPSIS\n", out);
    bool has_subs = spec->subcommands && spec->subcommands[0];
    if (has_subs)
        for (size_t i = 0; spec->subcommands[i]; i++) {
            if (i)
                fputs(".br\n", out);
            man_synopsis(spec->subcommands[i], out);
        }
    else
        man_synopsis(spec, out);
    if (spec->description) {
        fputs(".SH DESCRIPTION\n", out);
        roff_text(out, spec->description, true, false);
    }
    fputs(".SH OPTIONS\n", out);
    man_options(spec, false, out);
    for (size_t i = 0; has_subs && spec->subcommands[i]; i++)
        man_subcommand(spec->subcommands[i], out);
    if (spec->notes) {
        fputs(".SH NOTES\n", out);
        roff_text(out, spec->notes, true, false);
    }
    if (spec->exit_status) {
        fputs(".SH EXIT STATUS\n.nf\n", out);
        roff_text(out, spec->exit_status, false, true);
        fputs(".fi\n", out);
    }
    fputs(".SH SEE ALSO\n\\fBevbus\\fR(1), docs/configuration.md\n", out);
}

void evb_cli_man_from_usage(const char *name, const char *summary,
                            void (*usage)(FILE *), const char *version,
                            FILE *out) {
    char title[128];
    upper(title, sizeof title, "evbus-", name);
    fprintf(out,
            ".\\\" Generated by `evbus help --man %s`; do not edit.\n"
            ".TH %s 1 \"\" \"evbus %s\" \"evbus manual\"\n"
            ".SH NAME\nevbus\\-%s \\- ",
            name, title, version, name);
    roff_text(out, summary, false, false);
    fputs(".SH DESCRIPTION\n.nf\n", out);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
        usage(mem);
        fclose(mem);
        if (text)
            roff_text(out, text, false, true);
        free(text);
    }
    fputs(".fi\n.SH SEE ALSO\n\\fBevbus\\fR(1)\n", out);
}

/* ---- Markdown
 * ------------------------------------------------------------------- */

/* Text in a table cell: pipes escaped, newlines as spaces. */
static void md_cell(FILE *out, const char *s) {
    for (const char *p = s; *p; p++) {
        if (*p == '|')
            fputs("\\|", out);
        else if (*p == '\n')
            fputc(' ', out);
        else
            fputc(*p, out);
    }
}

/* The tables of spec's groups, a titled group under a heading of level
 * hashes ("###"). */
static void md_groups(const evb_cli_spec_t *spec, const char *hashes,
                      FILE *out) {
    for (size_t g = 0; spec->groups && spec->groups[g]; g++) {
        const evb_cli_option_group_t *grp = spec->groups[g];
        if (!grp->options || !grp->options->name)
            continue;
        if (grp->title)
            fprintf(out, "%s %s\n\n", hashes, grp->title);
        fputs("| Option | Value | Default | Description |\n"
              "|---|---|---|---|\n",
              out);
        for (const evb_cli_option_t *o = grp->options; o->name; o++) {
            fputs("| `", out);
            if (o->short_name)
                fprintf(out, "-%c`, `", o->short_name);
            fprintf(out, "--%s` | ", o->name);
            if (o->type == EVB_CLI_UINT)
                fprintf(out, "%s (%llu..%llu)", o->arg ? o->arg : "N", o->min,
                        o->max);
            else if (o->type == EVB_CLI_CHOICE)
                md_cell(out, o->choices);
            else if (o->type == EVB_CLI_STRING)
                md_cell(out, o->arg ? o->arg : "VALUE");
            fputs(" | ", out);
            if (o->def) {
                fputc('`', out);
                md_cell(out, o->def);
                fputc('`', out);
            }
            fputs(" | ", out);
            md_cell(out, o->help ? o->help : "");
            if (o->flags & EVB_CLI_REPEATABLE)
                fputs(" Repeatable.", out);
            fputs(" |\n", out);
        }
        fputc('\n', out);
    }
}

void evb_cli_markdown(const evb_cli_spec_t *spec, FILE *out) {
    bool has_subs = spec->subcommands && spec->subcommands[0];
    fprintf(out, "## evbus %s\n\n%s.\n\n```\n", spec->name, spec->summary);
    for (size_t i = 0; has_subs && spec->subcommands[i]; i++)
        fprintf(out, "evbus %s %s\n", spec->subcommands[i]->name,
                spec->subcommands[i]->synopsis ? spec->subcommands[i]->synopsis
                                               : "[options]");
    if (!has_subs)
        fprintf(out, "evbus %s %s\n", spec->name,
                spec->synopsis ? spec->synopsis : "[options]");
    fputs("```\n\n", out);
    if (spec->description)
        fprintf(out, "%s\n\n", spec->description);
    md_groups(spec, "###", out);
    for (size_t i = 0; has_subs && spec->subcommands[i]; i++) {
        const evb_cli_spec_t *sub = spec->subcommands[i];
        fprintf(out, "### evbus %s\n\n```\nevbus %s %s\n```\n\n", sub->name,
                sub->name, sub->synopsis ? sub->synopsis : "[options]");
        if (sub->description)
            fprintf(out, "%s\n\n", sub->description);
        md_groups(sub, "####", out);
        if (sub->notes)
            fprintf(out, "%s\n\n", sub->notes);
    }
    if (spec->notes)
        fprintf(out, "%s\n\n", spec->notes);
    if (spec->exit_status)
        fprintf(out, "Exit status:\n\n```\n%s```\n\n", spec->exit_status);
}

void evb_cli_markdown_from_usage(const char *name, const char *summary,
                                 void (*usage)(FILE *), FILE *out) {
    fprintf(out, "## evbus %s\n\n%s.\n\n```\n", name, summary);
    usage(out);
    fputs("```\n\n", out);
}
