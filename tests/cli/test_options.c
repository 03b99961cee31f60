/*
 * test_options.c: the option table (src/cli/options.h) and every
 * command's rows: parsing (defaults, ranges, choices, errors, --help,
 * operands), the tables' consistency (names, ids, defaults that parse,
 * defaults equal to the code's constants), and the generated usage, man
 * page and Markdown; commands made of subcommands (parsing, unlisted
 * rows, their generated docs) and `evbus avro`'s own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api.h"
#include "api/http.h"
#include "apply/apply.h"
#include "cli/cli.h"
#include "cli/options.h"

/* Every spec with options: the commands' and their subcommands'
 * (evb_cli_avro_spec has none of its own; its subcommands do). */
static const evb_cli_spec_t *all_specs[32];
static size_t n_specs;

static int collect_specs(void **state) {
    (void)state;
    static const evb_cli_spec_t *const top[] = {
        &evb_cli_serve_spec, &evb_cli_put_spec,
        &evb_cli_tail_spec,  &evb_cli_test_pattern_spec,
        &evb_cli_apply_spec, &evb_cli_connector_spec,
        &evb_cli_avro_spec,
    };
    n_specs = 0;
    for (size_t i = 0; i < sizeof top / sizeof *top; i++) {
        if (top[i]->groups)
            all_specs[n_specs++] = top[i];
        for (size_t j = 0; top[i]->subcommands && top[i]->subcommands[j]; j++)
            all_specs[n_specs++] = top[i]->subcommands[j];
    }
    return 0;
}

/* ---- a spec of our own for the parser --------------------------------- */

enum { T_NAME = 1, T_COUNT, T_MODE, T_FLAG, T_ADD, T_FILE };

static const evb_cli_option_t t_rows[] = {
    {"name", 0, EVB_CLI_STRING, "NAME", "anon", 0, 0, NULL, "a name", T_NAME,
     0},
    {"count", 'c', EVB_CLI_UINT, "N", "3", 1, 10, NULL, "a count", T_COUNT, 0},
    {"mode", 0, EVB_CLI_CHOICE, "MODE", "fast", 0, 0, "fast|slow", "a mode",
     T_MODE, 0},
    {"flag", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL, "a flag", T_FLAG, 0},
    {"add", 0, EVB_CLI_STRING, "X", NULL, 0, 0, NULL, "adds", T_ADD,
     EVB_CLI_REPEATABLE},
    {"file", 'f', EVB_CLI_STRING, "FILE", NULL, 0, 0, NULL, "refused: bad",
     T_FILE, 0},
    EVB_CLI_OPTIONS_END,
};
static const evb_cli_option_group_t t_group = {NULL, t_rows};
static const evb_cli_option_group_t *const t_groups[] = {&t_group, NULL};
static const evb_cli_spec_t t_spec = {
    .name = "t",
    .synopsis = "[options] FILE...",
    .summary = "a test command",
    .description = "Tests the table.",
    .groups = t_groups,
    .exit_status = "  0  fine\n",
};

typedef struct got {
    const char *name, *mode;
    unsigned long long count;
    bool flag;
    int adds;
    int defaults_seen;
} got_t;

static bool t_set(void *ud, const evb_cli_option_t *o, const evb_cli_value_t *v,
                  char *why, size_t why_size) {
    got_t *g = ud;
    switch (o->id) {
    case T_NAME: g->name = v->str; break;
    case T_COUNT: g->count = v->num; break;
    case T_MODE: g->mode = v->str; break;
    case T_FLAG:
        assert_null(v->str);
        g->flag = true;
        break;
    case T_ADD: g->adds++; break;
    case T_FILE:
        if (strcmp(v->str, "bad") == 0) {
            snprintf(why, why_size, "--file: '%s' will not do", v->str);
            return false;
        }
        break;
    default: fail();
    }
    return true;
}

/* Run the parser with stderr and stdout captured into err/out. */
static char out[65536], err[65536];
static int parse(got_t *g, int *first, int argc, char **argv) {
    fflush(stdout);
    fflush(stderr);
    FILE *fo = tmpfile(), *fe = tmpfile();
    int so = dup(1), se = dup(2);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    memset(g, 0, sizeof *g);
    int rc = evb_cli_parse(&t_spec, argc, argv, t_set, g, 64, first);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    rewind(fo);
    rewind(fe);
    out[fread(out, 1, sizeof out - 1, fo)] = '\0';
    err[fread(err, 1, sizeof err - 1, fe)] = '\0';
    fclose(fo);
    fclose(fe);
    return rc;
}

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))
#define PARSE(g, f, ...) parse(g, f, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static void parser_defaults_and_values(void **state) {
    (void)state;
    got_t g;
    int first = -1;
    assert_int_equal(PARSE(&g, &first, "t"), EVB_CLI_CONTINUE);
    assert_string_equal(g.name, "anon");
    assert_int_equal(g.count, 3);
    assert_string_equal(g.mode, "fast");
    assert_false(g.flag);
    assert_int_equal(first, 1);

    assert_int_equal(PARSE(&g, &first, "t", "--name", "x", "-c", "10",
                           "--mode=slow", "--flag", "--add", "1", "--add", "2",
                           "--name", "y", "op1", "--flag"),
                     EVB_CLI_CONTINUE);
    assert_string_equal(g.name, "y"); /* the last one wins */
    assert_int_equal(g.count, 10);
    assert_string_equal(g.mode, "slow");
    assert_true(g.flag);
    assert_int_equal(g.adds, 2);
    assert_int_equal(first, 13); /* options stop at the first operand */

    assert_int_equal(PARSE(&g, &first, "t", "--", "--flag"), EVB_CLI_CONTINUE);
    assert_int_equal(first, 2);
    assert_false(g.flag);
}

static void parser_errors(void **state) {
    (void)state;
    got_t g;
    int first;
    assert_int_equal(PARSE(&g, &first, "t", "--count", "11"), 64);
    assert_non_null(strstr(err, "evbus t: --count: not a number in 1..10: "
                                "'11'\n"));
    assert_non_null(strstr(err, "usage: evbus t [options] FILE..."));
    assert_int_equal(PARSE(&g, &first, "t", "--count", "1x"), 64);
    assert_non_null(strstr(err, "not a number in 1..10: '1x'"));
    assert_int_equal(PARSE(&g, &first, "t", "--count", "-1"), 64);
    assert_int_equal(PARSE(&g, &first, "t", "--mode", "medium"), 64);
    assert_non_null(
        strstr(err, "--mode: expected one of fast|slow, got 'medium'"));
    assert_int_equal(PARSE(&g, &first, "t", "--mode", "fas"), 64);
    assert_int_equal(PARSE(&g, &first, "t", "--bogus"), 64);
    assert_non_null(strstr(err, "evbus t: unknown option '--bogus'"));
    assert_int_equal(PARSE(&g, &first, "t", "-z"), 64);
    assert_non_null(strstr(err, "unknown option '-z'"));
    assert_int_equal(PARSE(&g, &first, "t", "--name"), 64);
    assert_non_null(strstr(err, "option '--name' needs a value"));
    assert_int_equal(PARSE(&g, &first, "t", "-f", "bad"), 64);
    assert_non_null(strstr(err, "evbus t: --file: 'bad' will not do"));
    assert_int_equal(PARSE(&g, &first, "t", "--help"), 0);
    assert_true(strncmp(out, "usage: evbus t [options] FILE...\n", 33) == 0);
    assert_string_equal(err, "");
    assert_int_equal(PARSE(&g, &first, "t", "-h"), 0);
    assert_non_null(strstr(out, "  -c, --count N         a count (default "
                                "3)\n"));
    assert_non_null(strstr(out, "  --add X               adds "
                                "(repeatable)\n"));
    assert_non_null(strstr(out, "\nexit status:\n  0  fine\n"));
}

/* ---- every command's table ---------------------------------------------- */

static bool valid_default(const evb_cli_option_t *o) {
    if (o->type == EVB_CLI_UINT) {
        char *end;
        unsigned long long v = strtoull(o->def, &end, 10);
        return !*end && v >= o->min && v <= o->max;
    }
    if (o->type == EVB_CLI_CHOICE) {
        size_t n = strlen(o->def);
        for (const char *p = o->choices; p;
             p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL)
            if (strncmp(p, o->def, n) == 0 && (p[n] == '|' || !p[n]))
                return true;
        return false;
    }
    return o->type != EVB_CLI_FLAG;
}

static void tables_are_consistent(void **state) {
    (void)state;
    assert_true(n_specs >= 8);
    for (size_t s = 0; s < n_specs; s++) {
        const evb_cli_spec_t *sp = all_specs[s];
        assert_non_null(sp->name);
        assert_non_null(sp->summary);
        assert_non_null(sp->groups);
        const evb_cli_option_t *rows[256];
        size_t n = 0;
        for (size_t g = 0; sp->groups[g]; g++)
            for (const evb_cli_option_t *o = sp->groups[g]->options; o->name;
                 o++)
                rows[n++] = o;
        /* unlisted rows share the parser's table: no name or id twice */
        for (size_t g = 0; sp->unlisted && sp->unlisted[g]; g++)
            for (const evb_cli_option_t *o = sp->unlisted[g]->options; o->name;
                 o++)
                rows[n++] = o;
        assert_true(n > 0);
        for (size_t i = 0; i < n; i++) {
            const evb_cli_option_t *o = rows[i];
            if (!o->help || !o->help[0] || o->id <= 0)
                fail_msg("%s --%s: no help or no id", sp->name, o->name);
            if (o->type != EVB_CLI_FLAG && !o->arg)
                fail_msg("%s --%s: a value without a name", sp->name, o->name);
            if (o->type == EVB_CLI_CHOICE && !o->choices)
                fail_msg("%s --%s: no choices", sp->name, o->name);
            if (o->type == EVB_CLI_UINT && o->min > o->max)
                fail_msg("%s --%s: min above max", sp->name, o->name);
            if (o->def && !valid_default(o))
                fail_msg("%s --%s: default '%s' does not parse", sp->name,
                         o->name, o->def);
            if (strcmp(o->name, "help") == 0 || o->short_name == 'h')
                fail_msg("%s: --help is the parser's", sp->name);
            for (size_t j = 0; j < i; j++) {
                if (strcmp(rows[j]->name, o->name) == 0)
                    fail_msg("%s: --%s twice", sp->name, o->name);
                if (rows[j]->id == o->id)
                    fail_msg("%s: --%s and --%s share id %d", sp->name,
                             rows[j]->name, o->name, o->id);
                if (o->short_name && rows[j]->short_name == o->short_name)
                    fail_msg("%s: -%c twice", sp->name, o->short_name);
            }
            assert_ptr_equal(evb_cli_find_option(sp, o->name), o);
        }
    }
}

static unsigned long long def_num(const char *cmd_opt) {
    const evb_cli_option_t *o =
        evb_cli_find_option(&evb_cli_serve_spec, cmd_opt);
    assert_non_null(o);
    assert_non_null(o->def);
    return strtoull(o->def, NULL, 10);
}

/* The documented defaults are the ones the code uses when nothing is
 * given. */
static void serve_defaults_match_the_code(void **state) {
    (void)state;
    assert_int_equal(def_num("max-body-bytes"), EVB_HTTP_DEFAULT_MAX_BODY);
    assert_int_equal(def_num("max-connections"),
                     EVB_HTTP_DEFAULT_MAX_CONNECTIONS);
    assert_int_equal(def_num("idle-timeout"), EVB_HTTP_DEFAULT_TIMEOUT_S);
    assert_int_equal(def_num("header-timeout"),
                     EVB_HTTP_DEFAULT_HEADER_TIMEOUT_S);
    assert_int_equal(def_num("drain-timeout") * 1000,
                     EVB_HTTP_DEFAULT_DRAIN_MS);
    assert_int_equal(def_num("max-tail-clients"),
                     EVB_API_DEFAULT_MAX_TAIL_CLIENTS);
    assert_string_equal(
        evb_cli_find_option(&evb_cli_serve_spec, "account")->def,
        EVB_API_DEFAULT_ACCOUNT);
    assert_string_equal(evb_cli_find_option(&evb_cli_serve_spec, "region")->def,
                        EVB_API_DEFAULT_REGION);
    /* the Kafka group is part of serve's table */
    assert_non_null(evb_cli_find_option(&evb_cli_serve_spec, "kafka-config"));
    assert_non_null(evb_cli_find_option(&evb_cli_serve_spec, "embedded-kafka"));
}

/* Generated text: every line of the usage within 79 columns (a single
 * word longer than that excepted); the man page and the Markdown name
 * every option. */
static void generated_docs(void **state) {
    (void)state;
    for (size_t s = 0; s < n_specs; s++) {
        const evb_cli_spec_t *sp = all_specs[s];
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        evb_cli_usage(sp, f);
        fclose(f);
        char want[64];
        snprintf(want, sizeof want, "usage: evbus %s ", sp->name);
        assert_true(strncmp(text, want, strlen(want)) == 0);
        for (char *line = text; *line;) {
            char *nl = strchr(line, '\n');
            size_t n = nl ? (size_t)(nl - line) : strlen(line);
            if (n > 79 && memchr(line, ' ', n) && memchr(line, ' ', n) != line)
                fail_msg("%s: usage line longer than 79: %.*s", sp->name,
                         (int)n, line);
            line += n + (nl ? 1 : 0);
        }
        free(text);

        f = open_memstream(&text, &len);
        evb_cli_man(sp, "9.9.9", f);
        fclose(f);
        assert_non_null(strstr(text, ".TH EVBUS-"));
        assert_non_null(strstr(text, "\"evbus 9.9.9\""));
        assert_non_null(strstr(text, ".SH OPTIONS\n"));
        char *md = NULL;
        size_t mdlen = 0;
        FILE *m = open_memstream(&md, &mdlen);
        evb_cli_markdown(sp, m);
        fclose(m);
        for (size_t g = 0; sp->groups[g]; g++)
            for (const evb_cli_option_t *o = sp->groups[g]->options; o->name;
                 o++) {
                char man_name[128], md_name[128];
                size_t k = 0;
                for (const char *p = o->name; *p && k + 3 < sizeof man_name;
                     p++) {
                    if (*p == '-')
                        man_name[k++] = '\\';
                    man_name[k++] = *p;
                }
                man_name[k] = '\0';
                if (!strstr(text, man_name))
                    fail_msg("%s: --%s is not in the man page", sp->name,
                             o->name);
                snprintf(md_name, sizeof md_name, "`--%s`", o->name);
                if (!strstr(md, md_name))
                    fail_msg("%s: --%s is not in the Markdown", sp->name,
                             o->name);
            }
        /* no line of roff starts with a stray dot or quote */
        for (char *line = text; line && *line;) {
            if (*line == '\'')
                fail_msg("%s: a roff line starts with a quote", sp->name);
            line = strchr(line, '\n');
            if (line)
                line++;
        }
        free(text);
        free(md);
    }
}

/* ---- a command made of subcommands ------------------------------------- */

enum { S_SHARED = 1, S_A_ONLY, S_B_ONLY, S_B_DEF };

static const evb_cli_option_t s_shared_rows[] = {
    {"shared", 0, EVB_CLI_STRING, "X", NULL, 0, 0, NULL, "both take it",
     S_SHARED, 0},
    EVB_CLI_OPTIONS_END,
};
static const evb_cli_option_t s_a_rows[] = {
    {"alpha", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL, "a's flag", S_A_ONLY, 0},
    EVB_CLI_OPTIONS_END,
};
static const evb_cli_option_t s_b_rows[] = {
    {"beta", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL, "b's flag", S_B_ONLY, 0},
    {"bdef", 0, EVB_CLI_STRING, "V", "dflt", 0, 0, NULL, "b's default", S_B_DEF,
     0},
    EVB_CLI_OPTIONS_END,
};
static const evb_cli_option_group_t s_shared = {"Shared", s_shared_rows};
static const evb_cli_option_group_t s_a = {NULL, s_a_rows};
static const evb_cli_option_group_t s_b = {NULL, s_b_rows};
static const evb_cli_option_group_t *const s_a_groups[] = {&s_a, &s_shared,
                                                           NULL};
static const evb_cli_option_group_t *const s_b_groups[] = {&s_b, &s_shared,
                                                           NULL};
static const evb_cli_option_group_t *const s_a_unlisted[] = {&s_b, NULL};
static const evb_cli_spec_t s_spec_a = {
    .name = "p a",
    .synopsis = "[--alpha] [options]",
    .summary = "the first subcommand",
    .description = "Does a.",
    .groups = s_a_groups,
    .unlisted = s_a_unlisted,
    .exit_status = "  0  fine\n",
};
static const evb_cli_spec_t s_spec_b = {
    .name = "p b",
    .summary = "the second subcommand",
    .description = "Does b.",
    .groups = s_b_groups,
    .notes = "B's notes.",
};
static const evb_cli_spec_t *const s_subs[] = {&s_spec_a, &s_spec_b, NULL};
static const evb_cli_spec_t s_parent = {
    .name = "p",
    .summary = "a command of two",
    .description = "Has a and b.",
    .exit_status = "  0  fine\n  64  usage\n",
    .subcommands = s_subs,
};

typedef struct s_got {
    const char *shared, *bdef;
    bool alpha, beta_refused;
} s_got_t;

static bool s_set(void *ud, const evb_cli_option_t *o, const evb_cli_value_t *v,
                  char *why, size_t why_size) {
    s_got_t *g = ud;
    switch (o->id) {
    case S_SHARED: g->shared = v->str; return true;
    case S_A_ONLY: g->alpha = true; return true;
    case S_B_DEF: g->bdef = v->str; return true;
    case S_B_ONLY:
        g->beta_refused = true;
        snprintf(why, why_size, "--%s is for b", o->name);
        return false;
    default: fail(); return false;
    }
}

/* Capture stdout and stderr into out/err around fn. */
#define CAPTURE(rc, call)                                                      \
    do {                                                                       \
        fflush(stdout);                                                        \
        fflush(stderr);                                                        \
        FILE *fo_ = tmpfile(), *fe_ = tmpfile();                               \
        int so_ = dup(1), se_ = dup(2);                                        \
        dup2(fileno(fo_), 1);                                                  \
        dup2(fileno(fe_), 2);                                                  \
        (rc) = (call);                                                         \
        fflush(stdout);                                                        \
        fflush(stderr);                                                        \
        dup2(so_, 1);                                                          \
        dup2(se_, 2);                                                          \
        close(so_);                                                            \
        close(se_);                                                            \
        rewind(fo_);                                                           \
        rewind(fe_);                                                           \
        out[fread(out, 1, sizeof out - 1, fo_)] = '\0';                        \
        err[fread(err, 1, sizeof err - 1, fe_)] = '\0';                        \
        fclose(fo_);                                                           \
        fclose(fe_);                                                           \
    } while (0)

#define SUB(rc, sub, at, ...)                                                  \
    CAPTURE(rc, evb_cli_parse_subcommand(&s_parent, ARGC(__VA_ARGS__),         \
                                         ARGV(__VA_ARGS__), NULL, NULL, 64,    \
                                         &(sub), &(at)))

static void subcommands_dispatch(void **state) {
    (void)state;
    const evb_cli_spec_t *sub;
    int rc, at = -1;
    SUB(rc, sub, at, "p");
    assert_int_equal(rc, 64);
    assert_null(sub);
    assert_non_null(strstr(err, "evbus p: missing subcommand: a or b\n"));
    assert_non_null(strstr(err, "usage: evbus p a [--alpha] [options]\n"
                                "       evbus p b [options]\n"));
    SUB(rc, sub, at, "p", "c");
    assert_int_equal(rc, 64);
    assert_non_null(strstr(err, "evbus p: unknown subcommand 'c' (a or b)"));
    SUB(rc, sub, at, "p", "--bogus", "a");
    assert_int_equal(rc, 64);
    assert_non_null(strstr(err, "evbus p: unknown option '--bogus'"));
    SUB(rc, sub, at, "p", "--help");
    assert_int_equal(rc, 0);
    assert_string_equal(err, "");
    assert_non_null(strstr(out, "\ncommands:\n  a                     the "
                                "first subcommand\n"));
    assert_non_null(strstr(out, "Run `evbus p COMMAND --help`"));
    SUB(rc, sub, at, "p", "help");
    assert_int_equal(rc, 0);
    assert_true(strncmp(out, "usage: evbus p a ", 17) == 0);
    SUB(rc, sub, at, "p", "help", "b");
    assert_int_equal(rc, 0);
    assert_true(strncmp(out, "usage: evbus p b [options]\n", 27) == 0);
    SUB(rc, sub, at, "p", "help", "z");
    assert_int_equal(rc, 64);
    assert_non_null(strstr(err, "unknown subcommand 'z' (a or b)"));
    SUB(rc, sub, at, "p", "help", "b", "x");
    assert_int_equal(rc, 64);
    assert_non_null(strstr(err, "unexpected argument 'x'"));
    SUB(rc, sub, at, "p", "b", "--beta");
    assert_int_equal(rc, EVB_CLI_CONTINUE);
    assert_ptr_equal(sub, &s_spec_b);
    assert_int_equal(at, 1);
    assert_ptr_equal(evb_cli_find_subcommand(&s_parent, "a"), &s_spec_a);
    assert_null(evb_cli_find_subcommand(&s_parent, "p a"));
    assert_null(evb_cli_find_subcommand(&s_parent, ""));
}

#define SUBPARSE(rc, spec, g, first, ...)                                      \
    do {                                                                       \
        memset(&(g), 0, sizeof(g));                                            \
        CAPTURE(rc,                                                            \
                evb_cli_parse(&(spec), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__),   \
                              s_set, &(g), 64, &(first)));                     \
    } while (0)

/* A subcommand parses its sibling's unlisted rows (set refuses them by
 * name) but does not apply their defaults, and the parser says what is
 * wrong with a long option: a value for a flag, an ambiguous prefix. */
static void subcommand_rows(void **state) {
    (void)state;
    s_got_t g;
    int rc, first;
    SUBPARSE(rc, s_spec_a, g, first, "a", "--alpha", "--shared", "s");
    assert_int_equal(rc, EVB_CLI_CONTINUE);
    assert_true(g.alpha);
    assert_string_equal(g.shared, "s");
    assert_null(g.bdef); /* b's default is not a's */
    SUBPARSE(rc, s_spec_b, g, first, "b");
    assert_int_equal(rc, EVB_CLI_CONTINUE);
    assert_string_equal(g.bdef, "dflt");
    SUBPARSE(rc, s_spec_a, g, first, "a", "--beta");
    assert_int_equal(rc, 64);
    assert_true(g.beta_refused);
    assert_non_null(strstr(err, "evbus p a: --beta is for b\n"));
    assert_non_null(strstr(err, "usage: evbus p a [--alpha] [options]\n"));
    /* unlisted: not in a's usage */
    assert_null(strstr(strstr(err, "usage:"), "--beta"));
    SUBPARSE(rc, s_spec_b, g, first, "b", "--alpha");
    assert_int_equal(rc, 64);
    assert_non_null(strstr(err, "evbus p b: unknown option '--alpha'"));
    SUBPARSE(rc, s_spec_a, g, first, "a", "--alpha=1");
    assert_int_equal(rc, 64);
    assert_non_null(strstr(err, "option '--alpha' takes no value"));
    SUBPARSE(rc, s_spec_a, g, first, "a", "--al=1");
    assert_non_null(strstr(err, "option '--alpha' takes no value"));
    SUBPARSE(rc, s_spec_a, g, first, "a", "--help=1");
    assert_int_equal(rc, 64);
    assert_non_null(strstr(err, "option '--help' takes no value"));
    SUBPARSE(rc, s_spec_b, g, first, "b", "--b");
    assert_int_equal(rc, 64);
    assert_non_null(strstr(err, "ambiguous option '--b' (--beta, --bdef)"));
    SUBPARSE(rc, s_spec_b, g, first, "b", "--bogus=2");
    assert_non_null(strstr(err, "unknown option '--bogus=2'"));
    SUBPARSE(rc, s_spec_a, g, first, "a", "--shared");
    assert_non_null(strstr(err, "option '--shared' needs a value"));
}

static char *man_of(const evb_cli_spec_t *sp) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    evb_cli_man(sp, "9.9.9", f);
    fclose(f);
    char *copy = strdup(text); /* (GCC takes text for a local) */
    free(text);
    assert_non_null(copy);
    return copy;
}

static char *markdown_of(const evb_cli_spec_t *sp) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    evb_cli_markdown(sp, f);
    fclose(f);
    char *copy = strdup(text); /* (GCC takes text for a local) */
    free(text);
    assert_non_null(copy);
    return copy;
}

static char *usage_of(const evb_cli_spec_t *sp) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    evb_cli_usage(sp, f);
    fclose(f);
    char *copy = strdup(text); /* (GCC takes text for a local) */
    free(text);
    assert_non_null(copy);
    return copy;
}

/* The command's page holds every subcommand, with its options, once; an
 * unlisted row only where it is listed. */
static void subcommand_docs(void **state) {
    (void)state;
    char *man = man_of(&s_parent);
    assert_non_null(strstr(man, ".SH SYNOPSIS\n.B evbus p a\n[\\-\\-alpha] "
                                "[options]\n.br\n.B evbus p b\n[options]\n"));
    assert_non_null(strstr(man, ".SH \"EVBUS P A\"\n"));
    assert_non_null(strstr(man, ".SH \"EVBUS P B\"\n"));
    assert_non_null(strstr(man, ".SS Shared\n"));
    assert_non_null(strstr(man, "B's notes."));
    assert_non_null(strstr(man, ".SH EXIT STATUS\n"));
    const char *beta = strstr(man, "\\-\\-beta");
    assert_non_null(beta);
    assert_null(strstr(beta + 1, "\\-\\-beta")); /* once: b's */
    assert_true(beta > strstr(man, ".SH \"EVBUS P B\""));
    free(man);

    char *md = markdown_of(&s_parent);
    assert_non_null(strstr(md, "## evbus p\n\na command of two.\n\n```\n"
                               "evbus p a [--alpha] [options]\n"
                               "evbus p b [options]\n```\n"));
    assert_non_null(strstr(md, "### evbus p a\n"));
    assert_non_null(strstr(md, "#### Shared\n"));
    const char *b = strstr(md, "`--beta`");
    assert_non_null(b);
    assert_null(strstr(b + 1, "`--beta`"));
    free(md);
}

/* evbus avro: decode's and encode's help name their own options only;
 * the command's page names them all. apply's default endpoint is the
 * code's. */
static void avro_and_apply_specs(void **state) {
    (void)state;
    const evb_cli_spec_t *dec =
        evb_cli_find_subcommand(&evb_cli_avro_spec, "decode");
    const evb_cli_spec_t *enc =
        evb_cli_find_subcommand(&evb_cli_avro_spec, "encode");
    assert_non_null(dec);
    assert_non_null(enc);
    char *u = usage_of(dec);
    assert_non_null(strstr(u, "usage: evbus avro decode "));
    assert_non_null(strstr(u, "--mode MODE"));
    assert_non_null(strstr(u, "--registry URL"));
    assert_null(strstr(u, "--subject"));
    free(u);
    u = usage_of(enc);
    assert_non_null(strstr(u, "usage: evbus avro encode --registry URL "
                              "--subject SUBJECT"));
    assert_non_null(strstr(u, "--zlib"));
    assert_null(strstr(u, "--mode"));
    free(u);
    /* encode's options are decode's unlisted rows and the other way */
    assert_non_null(evb_cli_find_option(dec, "subject"));
    assert_non_null(evb_cli_find_option(enc, "decimal-number"));
    u = usage_of(&evb_cli_avro_spec);
    assert_non_null(strstr(u, "usage: evbus avro decode "));
    assert_non_null(strstr(u, "\n       evbus avro encode "));
    free(u);
    char *man = man_of(&evb_cli_avro_spec);
    char *md = markdown_of(&evb_cli_avro_spec);
    static const char *const all[] = {
        "registry", "user-info", "hex",     "base64", "mode", "decimal-number",
        "subject",  "schema",    "version", "glue",   "zlib", "strict"};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        char want[64];
        snprintf(want, sizeof want, "`--%s`", all[i]);
        if (!strstr(md, want))
            fail_msg("avro Markdown lacks --%s", all[i]);
        snprintf(want, sizeof want, "\\fB\\-\\-%s", all[i]);
        if (strchr(all[i], '-') == NULL && !strstr(man, want))
            fail_msg("avro man page lacks --%s", all[i]);
    }
    free(man);
    free(md);
    assert_string_equal(
        evb_cli_find_option(&evb_cli_apply_spec, "endpoint-url")->def,
        EVB_APPLY_DEFAULT_ENDPOINT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parser_defaults_and_values),
        cmocka_unit_test(parser_errors),
        cmocka_unit_test(tables_are_consistent),
        cmocka_unit_test(serve_defaults_match_the_code),
        cmocka_unit_test(generated_docs),
        cmocka_unit_test(subcommands_dispatch),
        cmocka_unit_test(subcommand_rows),
        cmocka_unit_test(subcommand_docs),
        cmocka_unit_test(avro_and_apply_specs),
    };
    return cmocka_run_group_tests(tests, collect_specs, NULL);
}
