/*
 * test_options.c: the option table (src/cli/options.h) and every
 * command's rows: parsing (defaults, ranges, choices, errors, --help,
 * operands), the tables' consistency (names, ids, defaults that parse,
 * defaults equal to the code's constants), and the generated usage, man
 * page and Markdown.
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
#include "cli/cli.h"
#include "cli/options.h"

static const evb_cli_spec_t *const all_specs[] = {
    &evb_cli_serve_spec,
    &evb_cli_put_spec,
    &evb_cli_tail_spec,
    &evb_cli_test_pattern_spec,
    &evb_cli_apply_spec,
};

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
    for (size_t s = 0; s < sizeof all_specs / sizeof *all_specs; s++) {
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
    for (size_t s = 0; s < sizeof all_specs / sizeof *all_specs; s++) {
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parser_defaults_and_values),
        cmocka_unit_test(parser_errors),
        cmocka_unit_test(tables_are_consistent),
        cmocka_unit_test(serve_defaults_match_the_code),
        cmocka_unit_test(generated_docs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
