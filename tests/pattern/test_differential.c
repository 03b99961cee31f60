/*
 * Randomized differential test of the pattern engine against the reference
 * evaluator (tests/support/refeval.c, itself tested by test_refeval.c).
 *
 * Per fixed seed (xorshift64*, no rand()): pick a "theme" (a few keys,
 * strings and number classes, so that patterns and events meet often),
 * generate 50-200 patterns and load the valid ones into a rule set (half
 * with evb_ruleset_add_many, half one by one), then match 200 events with
 * evb_matcher_match and compare the returned names with the reference
 * evaluator over every rule. Three rules per event also go through
 * evb_pattern_test and one through evb_pattern_explain. Afterwards a third
 * of the rules are removed (the old matcher must still answer for the old
 * set), a fifth of the rest replaced, and some events matched again; a few
 * events the engine must refuse (truncated, too deep, over 1 MiB, ...)
 * are tried too. One more run loads 1,500 rules at once.
 *
 * Patterns: nested objects, dotted and unicode keys, leaf arrays of 1-4
 * values of every kind (exact strings / numbers in several spellings /
 * null / booleans, prefix, suffix and their equals-ignore-case forms,
 * equals-ignore-case, wildcard, cidr v4/v6, numeric ranges, exists
 * true/false, every anything-but form), $or at any level (and "$or" as an
 * ordinary field), duplicated keys, wide patterns (up to 99 fields),
 * array-consistency puzzles, repeated patterns, and texts padded to the
 * 4,096-character limit. About 5% get one deliberate error, which the
 * engine must report with the doc's exact message.
 *
 * Events: the theme's keys with scalars, arrays of scalars, objects, arrays
 * of objects (nested), nested arrays, long arrays, [] and {}, numbers in
 * other spellings and out of range, long strings and keys, escapes; 40%
 * are aimed at one rule (its fields filled in, inside arrays with decoys,
 * sometimes spoiled for a near miss), and some are hard array-consistency
 * instances.
 *
 * On a disagreement the case is shrunk (other rules, event members,
 * pattern members and $or alternatives dropped while the disagreement
 * stays) and printed with its seed; the test fails.
 *
 * Environment (optional): EVB_DIFF_SEEDS (number of seeds, default 24),
 * EVB_DIFF_SEED0 (first seed, default 1), EVB_DIFF_EVENTS (events per
 * seed, default 200), EVB_DIFF_MAX_REPORTS (shrunk reports, default 5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "pattern/pattern.h"
#include "support/refeval.h"

/* ---- PRNG: xorshift64* --------------------------------------------------- */

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t rnext(rng_t *r) {
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void rseed(rng_t *r, uint64_t seed) {
    r->s = (seed + 1) * 0x9E3779B97F4A7C15ULL;
    if (!r->s)
        r->s = 1;
    for (int i = 0; i < 8; i++)
        rnext(r);
}

static size_t rnd(rng_t *r, size_t n) {
    return (size_t)((rnext(r) >> 32) % n);
}

static bool chance(rng_t *r, unsigned pct) {
    return rnd(r, 100) < pct;
}

#define PICK(r, arr) ((arr)[rnd((r), EVB_ARRAY_LEN(arr))])

/* ---- memory and strings ---------------------------------------------------
 */

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

typedef struct {
    char *s;
    size_t n, cap;
} sb_t;

static void sb_put(sb_t *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void sb_puts(sb_t *b, const char *s) {
    sb_put(b, s, strlen(s));
}

static void sb_putc(sb_t *b, char c) {
    sb_put(b, &c, 1);
}

/* ---- generated JSON trees ------------------------------------------------ */

/* Our own tree, so that numbers keep their spelling and strings their
 * escaping style; emitted as text for the engine and converted to jansson
 * for the reference evaluator. */
typedef enum { G_OBJ, G_ARR, G_STR, G_NUM, G_TRUE, G_FALSE, G_NULL } gkind_t;

typedef struct gnode gnode_t;
struct gnode {
    gkind_t k;
    char *s; /* G_STR: the value (UTF-8); G_NUM: the spelling */
    int esc; /* G_STR: 0 raw, 1 \u for non-ASCII, 2 also for letters */
    size_t n, cap;
    char **keys; /* G_OBJ */
    int *kesc;   /* G_OBJ: escaping style of each key */
    gnode_t **kids;
};

static gnode_t *g_new(gkind_t k) {
    gnode_t *g = xmalloc(sizeof *g);
    memset(g, 0, sizeof *g);
    g->k = k;
    return g;
}

static gnode_t *g_str(const char *s, int esc) {
    gnode_t *g = g_new(G_STR);
    g->s = xstrdup(s);
    g->esc = esc;
    return g;
}

static gnode_t *g_num(const char *text) {
    gnode_t *g = g_new(G_NUM);
    g->s = xstrdup(text);
    return g;
}

static void g_insert(gnode_t *g, size_t i, const char *key, int kesc,
                     gnode_t *kid) {
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 4;
        g->kids = xrealloc(g->kids, g->cap * sizeof *g->kids);
        g->keys = xrealloc(g->keys, g->cap * sizeof *g->keys);
        g->kesc = xrealloc(g->kesc, g->cap * sizeof *g->kesc);
    }
    memmove(g->kids + i + 1, g->kids + i, (g->n - i) * sizeof *g->kids);
    memmove(g->keys + i + 1, g->keys + i, (g->n - i) * sizeof *g->keys);
    memmove(g->kesc + i + 1, g->kesc + i, (g->n - i) * sizeof *g->kesc);
    g->kids[i] = kid;
    g->keys[i] = key ? xstrdup(key) : NULL;
    g->kesc[i] = kesc;
    g->n++;
}

static void g_add(gnode_t *g, const char *key, gnode_t *kid) {
    g_insert(g, g->n, key, 0, kid);
}

static void g_push(gnode_t *g, gnode_t *kid) {
    g_insert(g, g->n, NULL, 0, kid);
}

/* Take member i out (its key is freed unless *key is wanted). */
static gnode_t *g_detach(gnode_t *g, size_t i, char **key, int *kesc) {
    gnode_t *kid = g->kids[i];
    *key = g->keys[i];
    *kesc = g->kesc[i];
    memmove(g->kids + i, g->kids + i + 1, (g->n - i - 1) * sizeof *g->kids);
    memmove(g->keys + i, g->keys + i + 1, (g->n - i - 1) * sizeof *g->keys);
    memmove(g->kesc + i, g->kesc + i + 1, (g->n - i - 1) * sizeof *g->kesc);
    g->n--;
    return kid;
}

static void g_free(gnode_t *g) {
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++) {
        g_free(g->kids[i]);
        free(g->keys[i]);
    }
    free(g->kids);
    free(g->keys);
    free(g->kesc);
    free(g->s);
    free(g);
}

static gnode_t *g_copy(const gnode_t *g) {
    gnode_t *c = g_new(g->k);
    c->s = g->s ? xstrdup(g->s) : NULL;
    c->esc = g->esc;
    for (size_t i = 0; i < g->n; i++)
        g_insert(c, i, g->keys[i], g->kesc[i], g_copy(g->kids[i]));
    return c;
}

static gnode_t *g_get(const gnode_t *g, const char *key) {
    for (size_t i = 0; i < g->n; i++)
        if (g->keys[i] && strcmp(g->keys[i], key) == 0)
            return g->kids[i];
    return NULL;
}

/* -- emission -- */

static uint32_t utf8_decode(const unsigned char *s, size_t *used) {
    unsigned char b = s[0];
    if (b < 0x80) {
        *used = 1;
        return b;
    }
    size_t n = (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : 4;
    uint32_t c = n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (size_t i = 1; i < n; i++)
        c = (c << 6) | (s[i] & 0x3F);
    *used = n;
    return c;
}

static void emit_u(sb_t *b, uint32_t u, bool upper) {
    char tmp[8];
    snprintf(tmp, sizeof tmp, upper ? "\\u%04X" : "\\u%04x", (unsigned)u);
    sb_puts(b, tmp);
}

static void emit_str(sb_t *b, const char *s, int esc) {
    sb_putc(b, '"');
    for (size_t i = 0; s[i];) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            sb_puts(b, "\\\"");
        } else if (c == '\\') {
            sb_puts(b, "\\\\");
        } else if (c == '\n') {
            sb_puts(b, "\\n");
        } else if (c == '\t') {
            sb_puts(b, esc ? "\\u0009" : "\\t");
        } else if (c < 0x20) {
            emit_u(b, c, false);
        } else if (c >= 0x80 && esc) {
            size_t used;
            uint32_t u = utf8_decode((const unsigned char *)s + i, &used);
            if (u >= 0x10000) {
                u -= 0x10000;
                emit_u(b, 0xD800 + (u >> 10), esc == 2);
                emit_u(b, 0xDC00 + (u & 0x3FF), esc == 2);
            } else {
                emit_u(b, u, esc == 2);
            }
            i += used;
            continue;
        } else if (esc == 2 &&
                   ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            emit_u(b, c, true);
        } else if (esc == 2 && c == '/') {
            sb_puts(b, "\\/");
        } else if (esc == 2 && c == '.') {
            emit_u(b, c, true);
        } else {
            sb_putc(b, (char)c);
        }
        i++;
    }
    sb_putc(b, '"');
}

/* ws: 0 compact, 1 spaces after ':' and ',', 2 newlines and indents */
static void emit(sb_t *b, const gnode_t *g, int ws, int depth) {
    switch (g->k) {
    case G_OBJ:
    case G_ARR: {
        bool obj = g->k == G_OBJ;
        sb_putc(b, obj ? '{' : '[');
        for (size_t i = 0; i < g->n; i++) {
            if (i)
                sb_puts(b, ws == 1 ? ", " : ws == 3 ? "\t,\r\n" : ",");
            if (ws == 2) {
                sb_putc(b, '\n');
                for (int d = 0; d <= depth; d++)
                    sb_puts(b, "  ");
            }
            if (obj) {
                emit_str(b, g->keys[i], g->kesc[i]);
                sb_puts(b, ws == 3 ? "\t:\t" : ws ? ": " : ":");
            }
            emit(b, g->kids[i], ws, depth + 1);
        }
        if (ws == 2 && g->n) {
            sb_putc(b, '\n');
            for (int d = 0; d < depth; d++)
                sb_puts(b, "  ");
        }
        sb_putc(b, obj ? '}' : ']');
        return;
    }
    case G_STR: emit_str(b, g->s, g->esc); return;
    case G_NUM: sb_puts(b, g->s); return;
    case G_TRUE: sb_puts(b, "true"); return;
    case G_FALSE: sb_puts(b, "false"); return;
    case G_NULL: sb_puts(b, "null"); return;
    }
}

static char *g_text(const gnode_t *g, int ws) {
    sb_t b = {NULL, 0, 0};
    emit(&b, g, ws, 0);
    return b.s;
}

/* jansson value for the reference evaluator; event numbers keep their
 * text (evb_ref_number), pattern numbers become doubles. */
static json_t *g_json(const gnode_t *g, bool event) {
    switch (g->k) {
    case G_OBJ: {
        json_t *o = json_object();
        for (size_t i = 0; i < g->n; i++)
            json_object_set_new(o, g->keys[i], g_json(g->kids[i], event));
        return o;
    }
    case G_ARR: {
        json_t *a = json_array();
        for (size_t i = 0; i < g->n; i++)
            json_array_append_new(a, g_json(g->kids[i], event));
        return a;
    }
    case G_STR: return json_string(g->s);
    case G_NUM: {
        if (event)
            return evb_ref_number(g->s);
        double d = strtod(g->s, NULL);
        return isfinite(d) ? json_real(d) : json_null();
    }
    case G_TRUE: return json_true();
    case G_FALSE: return json_false();
    case G_NULL: return json_null();
    }
    return json_null();
}

/* ---- vocabulary ------------------------------------------------------------
 */

static const char *const KEYS[] = {"a", "b", "c", "x", "y", "x.y"};
static const char *const RARE_KEYS[] = {"ключ", "k\"q",        "é", "a.b",
                                        "",     "back\\slash", "0", "ab"};

static const char *const STRS[] = {
    "foo", "Foo", "FOO", "foobar", "barfoo", "bar", "", "fo", "f", "a*b",
    "a\\b", "axb", "*", "Äbc", "äbc", "ÄBC", "Σοφία", "σοφία", "ς", "Привет",
    "привет", "ПРИВЕТ", "Ёж", "ёж", "Łódź", "łódź", "ŁÓDŹ", "日本", "😀", "Ǆ",
    "ǆ", "Ａ", "10.0.0.5", "10.0.1.7", "192.168.1.1", "2001:db8::1",
    "2001:DB8:0:0:0:0:0:1", "::1", "fe80::1", "10.0.0.256", "1.2.3", "null",
    "true", "0", "1", "x/dir/y", "/dir/", "tab\there", "quote\"in", "new\nline",
    "fOO", "BAR", "a.b",
    /* letters the doc does not fold: Kelvin sign, capital sharp s,
     * Armenian */
    "\u212A", "k", "\u1E9E", "\u00DF", "\u0531", "\u0561",
    /* not quite addresses */
    "::ffff:10.0.0.5", "10.0.0.5/32", "010.0.0.5", "1.2.3.4.5",
    "2001:db8::1:2:3:4:5:6:7", " 10.0.0.5"};

static const char *const PREFIXES[] = {
    "",       "f",  "fo", "Fo",    "FO", "foo", "ba", "bar", "10.",
    "10.0.0", "Пр", "ПР", "пр",    "ä",  "Ä",   "Σ",  "σ",   "日",
    "😀",      "a",  "x/", "2001:", "Ł",  "ł",   "*"};

static const char *const SUFFIXES[] = {
    "",   "o",  "oo", "OO", "bar", "Bar", "BC", "bc", "вет", "ВЕТ",
    "ία", "ΊΑ", "ΙΑ", "本", "1",   ".5",  "/",  "ź",  "Ź",   "😀"};

static const char *const EICS[] = {
    "foo",      "FOOBAR",  "äBC",    "ΣΟΦΊΑ",  "ΣΟΦΙΑ", "ŁÓDŹ",
    "ǆ",        "ЁЖ",      "привет", "",       "BAR",   "ς",
    "Σ",        "Ａ",      "a*B",    "NULL",   "True",  "日本",
    "10.0.0.5", "FE80::1", "K",      "\u212A", "SS",    "\u0561"};

/* Wildcard values, unescaped (the emitter escapes the backslashes). */
static const char *const WILDCARDS[] = {
    "*",    "f*",   "*o",    "f*o",     "*oo*",    "F*",     "foo",   "",
    "*bar", "b*r*", "a\\*b", "a\\\\b",  "*\\\\*",  "10.0.*", "*::1",  "П*т",
    "*ία",  "*😀*",  "x/*/y", "*/dir/*", "*.*.*.*", "a*b",    "*a*b*", "\\*x*"};

static const char *const CIDRS[] = {
    "10.0.0.0/8",     "10.0.0.0/24", "10.0.1.0/24",   "10.0.0.5/32",
    "192.168.0.0/16", "0.0.0.0/0",   "2001:db8::/32", "2001:DB8::/48",
    "::1/128",        "::/0",        "fe80::/10",     "10.0.0.4/31"};

/* Number classes: every spelling of a class is the same double. */
static const char *const NUMS[][8] = {
    {"0", "-0", "0.0", "0e5", "-0.0E-3", "-0e-0", "0E+00"},
    {"1", "1.0", "1e0", "10e-1", "0.1e1", "1E+0", NULL},
    {"0.5", "5e-1", "0.50", "5E-1", "50e-2", NULL},
    {"100", "1e2", "100.0", "1E+2", "1000e-1", NULL},
    {"-3", "-3.0", "-3e0", "-0.3e1", NULL},
    {"2.5", "25e-1", "2.50", NULL},
    {"300", "3e2", "300.0", NULL},
    {"0.3", "3e-1", "0.30", NULL},
    {"0.30000000000000004", "3.0000000000000004e-1", NULL},
    {"1000000000", "1e9", "1E9", NULL},
    {"9007199254740992", "9.007199254740992e15", NULL},
    {"-1e-7", "-0.0000001", NULL},
    {"1e20", "100000000000000000000", NULL},
    {"1.7976931348623157e308", "1.7976931348623157E+308", NULL},
    {"-1.7976931348623157e308", NULL},
    {"5e-324", "4.9406564584124654e-324", NULL},
};
#define NCLASSES EVB_ARRAY_LEN(NUMS)

/* Event-only numbers: nearest doubles of other classes, or out of range. */
static const char *const EVENT_NUMS[] = {"0.30000000000000001",
                                         "9007199254740993",
                                         "1e-400",
                                         "1e400",
                                         "-1e400",
                                         "1.00000000000000000000001",
                                         "100000000000000000001",
                                         "5e-324",
                                         "123456789012345678901234567890",
                                         "1e-330",
                                         "-0.0e-99999"};

/* ---- statistics ------------------------------------------------------------
 */

enum {
    K_STR,
    K_NUM,
    K_LIT,
    K_PREFIX,
    K_PREFIX_EIC,
    K_SUFFIX,
    K_SUFFIX_EIC,
    K_EIC,
    K_WILDCARD,
    K_CIDR,
    K_NUMERIC,
    K_EXISTS_T,
    K_EXISTS_F,
    K_AB_STR,
    K_AB_STRS,
    K_AB_NUM,
    K_AB_NUMS,
    K_AB_PREFIX,
    K_AB_SUFFIX,
    K_AB_EIC,
    K_AB_WILDCARD,
    K_OR,
    K_OR_FIELD,
    K_NESTED,
    K_WIDE,
    K_DUP_KEY,
    K_PUZZLE,
    K__N
};
static const char *const KIND_NAMES[K__N] = {
    "str",          "num",           "null/bool",         "prefix",
    "prefix-eic",   "suffix",        "suffix-eic",        "eic",
    "wildcard",     "cidr",          "numeric",           "exists:true",
    "exists:false", "ab-str",        "ab-strs",           "ab-num",
    "ab-nums",      "ab-prefix",     "ab-suffix",         "ab-eic",
    "ab-wildcard",  "$or",           "$or-as-field",      "nested",
    "wide-pattern", "duplicate-key", "consistency-puzzle"};

typedef struct {
    unsigned long seeds, patterns, rejected, invalid_dups, injected,
        injected_ok, events, pairs, matches, events_matching, tests, explains,
        removed_pairs, disagreements, validation_mismatches, guided, too_long,
        replaced, padded, same, bad_events;
    unsigned long kind[K__N];
    uint64_t ns;
} stats_t;

static stats_t g_total;
static unsigned long g_reports, g_max_reports = 5;

/* ---- pattern generator ------------------------------------------------------
 */

/* Each seed draws on a subset of the vocabulary (its "theme"), so that
 * patterns and events meet often; across seeds everything is used. */
typedef struct {
    rng_t r;
    stats_t *st;
    int ors; /* $or arrays so far in this pattern */
    const char *keys[EVB_ARRAY_LEN(KEYS)];
    size_t nkeys;
    const char *strs[EVB_ARRAY_LEN(STRS)];
    size_t nstrs;
    size_t cls[NCLASSES];
    size_t ncls;
    char long_str[512]; /* a long string, sometimes in the theme */
    char long_key[200]; /* a long key, sometimes in the theme */
    bool wide;          /* events get many "kNN" members now and then */
    bool pad;           /* the pattern's text is to be padded too long */
    unsigned puzzles;   /* % of array-consistency puzzles */
    bool wide_e;        /* a wide pattern under "e" was made */
    bool broad;         /* puzzle conditions that most values satisfy */
} gen_t;

static int pick_esc(gen_t *g) {
    size_t x = rnd(&g->r, 100);
    return x < 75 ? 0 : x < 93 ? 1 : 2;
}

static void choose_theme(gen_t *g) {
    size_t idx[EVB_ARRAY_LEN(STRS)];
    for (size_t i = 0; i < EVB_ARRAY_LEN(STRS); i++)
        idx[i] = i;
    for (size_t i = EVB_ARRAY_LEN(STRS); i > 1; i--) {
        size_t j = rnd(&g->r, i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
    g->nstrs = 3 + rnd(&g->r, 4);
    for (size_t i = 0; i < g->nstrs; i++)
        g->strs[i] = STRS[idx[i]];
    for (size_t i = 0; i < EVB_ARRAY_LEN(KEYS); i++)
        idx[i] = i;
    for (size_t i = EVB_ARRAY_LEN(KEYS); i > 1; i--) {
        size_t j = rnd(&g->r, i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
    g->nkeys = 2 + rnd(&g->r, 3);
    for (size_t i = 0; i < g->nkeys; i++)
        g->keys[i] = KEYS[idx[i]];
    for (size_t i = 0; i < NCLASSES; i++)
        idx[i] = i;
    for (size_t i = NCLASSES; i > 1; i--) {
        size_t j = rnd(&g->r, i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
    g->ncls = 2 + rnd(&g->r, 2);
    for (size_t i = 0; i < g->ncls; i++)
        g->cls[i] = idx[i];
    /* long values and keys (past any small inline buffer) */
    size_t want = 70 + rnd(&g->r, 300), n = 0;
    g->long_str[0] = '\0';
    while (n < want) {
        const char *piece = g->strs[rnd(&g->r, g->nstrs)];
        size_t len = strlen(piece);
        if (n + len + 1 >= sizeof g->long_str)
            break;
        memcpy(g->long_str + n, piece, len + 1);
        n += len;
    }
    if (n && chance(&g->r, 50))
        g->strs[g->nstrs++] = g->long_str;
    snprintf(g->long_key, sizeof g->long_key, "%s",
             "a-rather-long-key-name-that-goes-on.and-on-past-sixty-four-"
             "bytes-and-then-some-more-to-be-sure-0123456789-abcdefghijk");
    g->long_key[60 + rnd(&g->r, 80)] = '\0';
    if (chance(&g->r, 25))
        g->keys[g->nkeys++] = g->long_key;
    g->wide = chance(&g->r, 15);
    g->puzzles = chance(&g->r, 25) ? 20 : 3;
}

/* A string value: mostly from the seed's theme. */
static const char *pick_str(gen_t *g) {
    if (chance(&g->r, 88))
        return g->strs[rnd(&g->r, g->nstrs)];
    return PICK(&g->r, STRS);
}

/* Start offsets of the code points of s (at most 63); returns the count
 * and sets offs[count] to the length. */
static size_t cp_offsets(const char *s, size_t *offs) {
    size_t n = 0, i = 0;
    while (s[i] && n < 63) {
        offs[n++] = i;
        size_t used;
        utf8_decode((const unsigned char *)s + i, &used);
        i += used;
    }
    offs[n] = i;
    return n;
}

/* An operand derived from a theme string, so that it often matches:
 * 'p' a prefix, 's' a suffix, 'e' the whole string (case flipped), 'w' a
 * wildcard with runs replaced by '*'. Returns a new string. */
static char *derive(gen_t *g, char kind) {
    const char *s = pick_str(g);
    size_t offs[64];
    size_t n = cp_offsets(s, offs);
    sb_t b = {NULL, 0, 0};
    if (kind == 'p') {
        sb_put(&b, s, offs[rnd(&g->r, n + 1)]);
    } else if (kind == 's') {
        size_t k = rnd(&g->r, n + 1);
        sb_put(&b, s + offs[k], offs[n] - offs[k]);
    } else if (kind == 'e') {
        sb_puts(&b, s);
    } else {
        int stars = 0;
        bool last_star = false, last_lit_star = false;
        for (size_t i = 0; i <= n;) {
            if (stars < 3 && !last_star && !last_lit_star &&
                chance(&g->r, 25)) {
                sb_putc(&b, '*');
                stars++;
                last_star = true;
                i += rnd(&g->r, 3); /* skip 0-2 code points */
                continue;
            }
            if (i == n)
                break;
            bool special = s[offs[i]] == '*' || s[offs[i]] == '\\';
            if (special && last_star) { /* keep \* away from a star */
                i++;
                continue;
            }
            if (special)
                sb_putc(&b, '\\');
            sb_put(&b, s + offs[i], offs[i + 1] - offs[i]);
            last_star = false;
            last_lit_star = s[offs[i]] == '*';
            i++;
        }
    }
    if (!b.s)
        return xstrdup("");
    if (kind != 'w' && chance(&g->r, 40)) /* flip the case of ASCII letters */
        for (char *c = b.s; *c; c++)
            if (((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')) &&
                chance(&g->r, 50))
                *c ^= 0x20;
    return b.s;
}

/* An operand string for kind ('x' exact, 'p', 's', 'e', 'w'): half the
 * time derived from the theme, otherwise from the operator's vocabulary. */
static gnode_t *gen_operand(gen_t *g, char kind, bool nonempty) {
    for (;;) {
        char *s;
        if (kind == 'x')
            s = xstrdup(pick_str(g));
        else if (chance(&g->r, 50))
            s = derive(g, kind);
        else
            s = xstrdup(kind == 'p'   ? PICK(&g->r, PREFIXES)
                        : kind == 's' ? PICK(&g->r, SUFFIXES)
                        : kind == 'e' ? PICK(&g->r, EICS)
                                      : PICK(&g->r, WILDCARDS));
        if (nonempty && !*s) {
            free(s);
            continue;
        }
        gnode_t *n = g_str(s, pick_esc(g));
        free(s);
        return n;
    }
}

static gnode_t *gen_num(gen_t *g, size_t *cls) {
    size_t c = chance(&g->r, 90) ? g->cls[rnd(&g->r, g->ncls)]
                                 : rnd(&g->r, NCLASSES),
           n = 0;
    while (NUMS[c][n])
        n++;
    if (cls)
        *cls = c;
    return g_num(NUMS[c][rnd(&g->r, n)]);
}

static gnode_t *gen_lit(gen_t *g) {
    size_t x = rnd(&g->r, 3);
    return g_new(x == 0 ? G_NULL : x == 1 ? G_TRUE : G_FALSE);
}

static gnode_t *op1(const char *op, gnode_t *arg) {
    gnode_t *o = g_new(G_OBJ);
    g_add(o, op, arg);
    return o;
}

/* An operand, or (pct% of the time) a list of 1-3 of them. */
static gnode_t *str_or_list(gen_t *g, char kind, unsigned pct, bool nonempty) {
    if (!chance(&g->r, pct))
        return gen_operand(g, kind, nonempty);
    gnode_t *a = g_new(G_ARR);
    size_t k = 1 + rnd(&g->r, 3);
    for (size_t i = 0; i < k; i++)
        g_push(a, gen_operand(g, kind, nonempty));
    return a;
}

static gnode_t *gen_numeric(gen_t *g) {
    gnode_t *a = g_new(G_ARR);
    size_t shape = rnd(&g->r, 4);
    size_t c1, c2;
    if (shape == 0) { /* = v */
        g_push(a, g_str("=", 0));
        g_push(a, gen_num(g, NULL));
    } else if (shape == 1) { /* lower only */
        g_push(a, g_str(chance(&g->r, 50) ? ">" : ">=", 0));
        g_push(a, gen_num(g, NULL));
    } else if (shape == 2) { /* upper only */
        g_push(a, g_str(chance(&g->r, 50) ? "<" : "<=", 0));
        g_push(a, gen_num(g, NULL));
    } else { /* both, lower value < upper value */
        gnode_t *x = gen_num(g, &c1), *y;
        do {
            y = gen_num(g, &c2);
            if (strtod(NUMS[c1][0], NULL) != strtod(NUMS[c2][0], NULL))
                break;
            g_free(y);
        } while (1);
        if (strtod(NUMS[c1][0], NULL) > strtod(NUMS[c2][0], NULL)) {
            gnode_t *t = x;
            x = y;
            y = t;
        }
        bool upper_first = chance(&g->r, 15);
        gnode_t *lo_op = g_str(chance(&g->r, 50) ? ">" : ">=", 0);
        gnode_t *hi_op = g_str(chance(&g->r, 50) ? "<" : "<=", 0);
        if (upper_first) {
            g_push(a, hi_op);
            g_push(a, y);
            g_push(a, lo_op);
            g_push(a, x);
        } else {
            g_push(a, lo_op);
            g_push(a, x);
            g_push(a, hi_op);
            g_push(a, y);
        }
    }
    return op1("numeric", a);
}

static gnode_t *gen_anything_but(gen_t *g) {
    size_t x = rnd(&g->r, 8);
    stats_t *st = g->st;
    switch (x) {
    case 0:
        st->kind[K_AB_STR]++;
        return op1("anything-but", gen_operand(g, 'x', false));
    case 1:
        st->kind[K_AB_STRS]++;
        return op1("anything-but", str_or_list(g, 'x', 100, false));
    case 2: st->kind[K_AB_NUM]++; return op1("anything-but", gen_num(g, NULL));
    case 3: {
        st->kind[K_AB_NUMS]++;
        gnode_t *a = g_new(G_ARR);
        size_t k = 1 + rnd(&g->r, 3);
        for (size_t i = 0; i < k; i++)
            g_push(a, gen_num(g, NULL));
        return op1("anything-but", a);
    }
    case 4:
        st->kind[K_AB_PREFIX]++;
        return op1("anything-but",
                   op1("prefix", str_or_list(g, 'p', 40, true)));
    case 5:
        st->kind[K_AB_SUFFIX]++;
        return op1("anything-but",
                   op1("suffix", str_or_list(g, 's', 40, true)));
    case 6:
        st->kind[K_AB_EIC]++;
        return op1("anything-but",
                   op1("equals-ignore-case", str_or_list(g, 'e', 40, false)));
    default:
        st->kind[K_AB_WILDCARD]++;
        return op1("anything-but",
                   op1("wildcard", str_or_list(g, 'w', 40, false)));
    }
}

/* One element of a leaf array. */
static gnode_t *gen_matcher(gen_t *g) {
    size_t x = rnd(&g->r, 100);
    stats_t *st = g->st;
    if (x < 14) {
        st->kind[K_STR]++;
        return gen_operand(g, 'x', false);
    }
    if (x < 25) {
        st->kind[K_NUM]++;
        return gen_num(g, NULL);
    }
    if (x < 29) {
        st->kind[K_LIT]++;
        return gen_lit(g);
    }
    if (x < 36) {
        bool eic = chance(&g->r, 30);
        st->kind[eic ? K_PREFIX_EIC : K_PREFIX]++;
        gnode_t *s = gen_operand(g, 'p', false);
        return op1("prefix", eic ? op1("equals-ignore-case", s) : s);
    }
    if (x < 43) {
        bool eic = chance(&g->r, 30);
        st->kind[eic ? K_SUFFIX_EIC : K_SUFFIX]++;
        gnode_t *s = gen_operand(g, 's', false);
        return op1("suffix", eic ? op1("equals-ignore-case", s) : s);
    }
    if (x < 49) {
        st->kind[K_EIC]++;
        return op1("equals-ignore-case", gen_operand(g, 'e', false));
    }
    if (x < 56) {
        st->kind[K_WILDCARD]++;
        return op1("wildcard", gen_operand(g, 'w', false));
    }
    if (x < 62) {
        st->kind[K_CIDR]++;
        return op1("cidr", g_str(PICK(&g->r, CIDRS), 0));
    }
    if (x < 72) {
        st->kind[K_NUMERIC]++;
        return gen_numeric(g);
    }
    if (x < 79) {
        bool t = chance(&g->r, 55);
        st->kind[t ? K_EXISTS_T : K_EXISTS_F]++;
        return op1("exists", g_new(t ? G_TRUE : G_FALSE));
    }
    return gen_anything_but(g);
}

static gnode_t *gen_leaf_array(gen_t *g) {
    gnode_t *a = g_new(G_ARR);
    size_t x = rnd(&g->r, 100);
    size_t n = x < 25 ? 1 : x < 65 ? 2 : x < 90 ? 3 : 4;
    for (size_t i = 0; i < n; i++)
        g_push(a, gen_matcher(g));
    return a;
}

static const char *pick_key(gen_t *g) {
    if (chance(&g->r, 2))
        return PICK(&g->r, RARE_KEYS);
    if (chance(&g->r, 5))
        return PICK(&g->r, KEYS);
    return g->keys[rnd(&g->r, g->nkeys)];
}

static gnode_t *gen_pobj(gen_t *g, int depth) {
    gnode_t *o = g_new(G_OBJ);
    size_t nf = 1 + rnd(&g->r, 2);
    for (size_t i = 0; i < nf; i++) {
        const char *k = pick_key(g);
        if (g_get(o, k))
            continue;
        gnode_t *v;
        if (depth < 2 && chance(&g->r, 16)) {
            g->st->kind[K_NESTED]++;
            v = gen_pobj(g, depth + 1);
        } else {
            v = gen_leaf_array(g);
        }
        g_insert(o, o->n, k, pick_esc(g), v);
    }
    if (g->ors < 2 && depth < 3 && chance(&g->r, depth == 0 ? 18 : 8)) {
        g->ors++;
        g->st->kind[K_OR]++;
        gnode_t *alts = g_new(G_ARR);
        size_t k = chance(&g->r, 25) ? 3 : 2;
        for (size_t i = 0; i < k; i++)
            g_push(alts, gen_pobj(g, depth + 1));
        g_insert(o, rnd(&g->r, o->n + 1), "$or", 0, alts);
    } else if (chance(&g->r, 2) && !g_get(o, "$or")) {
        /* "$or" whose elements are not objects: an ordinary field */
        g->st->kind[K_OR_FIELD]++;
        gnode_t *a = g_new(G_ARR);
        g_push(a, g_str(chance(&g->r, 50) ? "a" : "b", 0));
        if (chance(&g->r, 50))
            g_push(a, gen_matcher(g));
        g_insert(o, rnd(&g->r, o->n + 1), "$or", 0, a);
    }
    return o;
}

/* -- deliberate errors -- */

/* All leaf arrays of a pattern tree (not $or arrays of objects). */
static void collect_leaf_arrays(gnode_t *o, gnode_t ***out, size_t *n) {
    for (size_t i = 0; i < o->n; i++) {
        gnode_t *v = o->kids[i];
        if (v->k == G_OBJ) {
            collect_leaf_arrays(v, out, n);
        } else if (v->k == G_ARR && v->n && v->kids[0]->k == G_OBJ &&
                   strcmp(o->keys[i], "$or") == 0) {
            for (size_t j = 0; j < v->n; j++)
                collect_leaf_arrays(v->kids[j], out, n);
        } else if (v->k == G_ARR && strcmp(o->keys[i], "$or") != 0) {
            /* ($or as an ordinary field is left alone: a bad object in
             * it could turn it into a real $or) */
            *out = xrealloc(*out, (*n + 1) * sizeof **out);
            (*out)[(*n)++] = v;
        }
    }
}

static gnode_t *parse_tree(const json_t *j); /* below */

/* One bad matcher (JSON text) and the reason the engine must give. */
static const struct {
    const char *matcher;
    const char *reason;
    const char *spelling; /* if set: the spelling of the (first) number */
} BAD_MATCHERS[] = {
    {"{\"exists\":\"true\"}",
     "exists match pattern must be either true or false.", NULL},
    {"{\"prefix\":1}", "prefix match pattern must be a string", NULL},
    {"{\"suffix\":null}", "suffix match pattern must be a string", NULL},
    {"{\"prefix\":{\"equals-ignore-case\":5}}",
     "prefix match pattern must be a string", NULL},
    {"{\"wildcard\":\"ab**c\"}", "Consecutive wildcard characters at pos 3",
     NULL},
    {"{\"wildcard\":\"a\\\\b\"}", "Invalid escape character at pos 1", NULL},
    {"{\"wildcard\":\"*a*b*c*d*e*\"}",
     "Rule is too complex - try using fewer wildcard characters or fewer "
     "repeating character sequences after a wildcard character",
     NULL},
    {"{\"wildcard\":5}", "wildcard match pattern must be a string", NULL},
    {"{\"numeric\":[\">\",5,\"<\",1]}", "Bottom must be less than top", NULL},
    {"{\"numeric\":[\">\",1,\">\",2]}", "Bad numeric range operator: >", NULL},
    {"{\"numeric\":[\"=\",1,\"<\",2]}", "Bad numeric range operator: <", NULL},
    {"{\"numeric\":\">\"}", "Value of numeric must be an array.", NULL},
    {"{\"numeric\":[\"!=\",1]}",
     "Unrecognized numeric range operator: !=", NULL},
    {"{\"numeric\":[\"<\",\"5\"]}", "Value of < must be numeric", NULL},
    {"{\"numeric\":[\"<\"]}", "Value of < must be numeric", NULL},
    {"0", "Cannot compare number 0.30000000000000001", "0.30000000000000001"},
    {"0", "Cannot compare number 9007199254740993", "9007199254740993"},
    {"0", "Cannot compare number 1e400", "1e400"},
    {"{\"numeric\":[\">\",0]}", "Cannot compare number 1e400", "1e400"},
    {"{\"anything-but\":[0,2]}", "Cannot compare number 0.30000000000000001",
     "0.30000000000000001"},
    {"{\"anything-but\":[\"a\",1]}",
     "Inside anything but list, start|null|boolean is not supported.", NULL},
    {"{\"anything-but\":null}",
     "Value of anything-but must be an array or single string/number "
     "value.",
     NULL},
    {"{\"anything-but\":[]}", "Empty arrays are not allowed", NULL},
    {"{\"anything-but\":{\"prefix\":\"\"}}", "Null prefix/suffix not allowed",
     NULL},
    {"{\"anything-but\":{\"equals-ignore-case\":5}}",
     "Inside anything-but/equals-ignore-case list, number|start|null|boolean "
     "is not supported.",
     NULL},
    {"{\"anything-but\":{\"exists\":true}}",
     "Value of anything-but must be an array or single string/number "
     "value.",
     NULL},
    {"{\"cidr\":\"10.0.0.0\"}", "Malformed CIDR, one '/' required", NULL},
    {"{\"cidr\":\"10.0.0.0/33\"}",
     "Malformed CIDR, mask bits must be an integer", NULL},
    {"{\"cidr\":\"10.0.0.300/8\"}", "Nonstandard IP address: 10.0.0.300", NULL},
    {"{\"cidr\":5}", "prefix match pattern must be a string", NULL},
    {"{\"EXISTS\":true}", "Unrecognized match type EXISTS", NULL},
    {"{\"prefix\":\"a\",\"suffix\":\"b\"}",
     "Only one key allowed in match expression", NULL},
    {"[1]", "Match value must be String, number, true, false, or null", NULL},
    {"{\"equals-ignore-case\":5}",
     "equals-ignore-case match pattern must be a string", NULL},
};

/* Give the valid pattern o exactly one error; returns the reason. */
static const char *inject_error(gen_t *g, gnode_t *o, char *buf, size_t bufsz) {
    gnode_t **leaves = NULL;
    size_t nleaves = 0;
    collect_leaf_arrays(o, &leaves, &nleaves);
    size_t x = rnd(&g->r, EVB_ARRAY_LEN(BAD_MATCHERS) + 7);
    const char *reason = NULL;
    if (x < EVB_ARRAY_LEN(BAD_MATCHERS) && nleaves) {
        gnode_t *leaf = leaves[rnd(&g->r, nleaves)];
        json_t *j = json_loads(BAD_MATCHERS[x].matcher,
                               JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);
        assert_non_null(j);
        gnode_t *bad = parse_tree(j);
        json_decref(j);
        if (BAD_MATCHERS[x].spelling) { /* respell the first number */
            gnode_t *stack[16];
            size_t ns = 0;
            stack[ns++] = bad;
            while (ns) {
                gnode_t *c = stack[--ns];
                if (c->k == G_NUM) {
                    free(c->s);
                    c->s = xstrdup(BAD_MATCHERS[x].spelling);
                    break;
                }
                for (size_t i = c->n; i-- > 0 && ns < 16;)
                    stack[ns++] = c->kids[i];
            }
        }
        size_t at = rnd(&g->r, leaf->n);
        char *k;
        int ke;
        g_free(g_detach(leaf, at, &k, &ke));
        g_insert(leaf, at, NULL, 0, bad);
        reason = BAD_MATCHERS[x].reason;
    } else if (x == EVB_ARRAY_LEN(BAD_MATCHERS) && nleaves) {
        gnode_t *leaf = leaves[rnd(&g->r, nleaves)];
        while (leaf->n) {
            char *k;
            int ke;
            g_free(g_detach(leaf, 0, &k, &ke));
        }
        reason = "Empty arrays are not allowed";
    } else if (x == EVB_ARRAY_LEN(BAD_MATCHERS) + 1 && nleaves) {
        gnode_t *leaf = leaves[rnd(&g->r, nleaves)];
        while (leaf->n) {
            char *k;
            int ke;
            g_free(g_detach(leaf, 0, &k, &ke));
        }
        leaf->k = G_OBJ;
        reason = "Empty objects are not allowed";
    } else if (x == EVB_ARRAY_LEN(BAD_MATCHERS) + 2 && !g_get(o, "$or")) {
        gnode_t *alts = g_new(G_ARR);
        gnode_t *alt = g_new(G_OBJ);
        gnode_t *la = g_new(G_ARR);
        g_push(la, g_num("1"));
        g_add(alt, "zz", la);
        g_push(alts, alt);
        g_add(o, "$or", alts);
        reason = "There must have at least 2 Objects in $or relationship.";
    } else if (x == EVB_ARRAY_LEN(BAD_MATCHERS) + 3 && !g_get(o, "$or")) {
        gnode_t *alts = g_new(G_ARR);
        gnode_t *alt = g_new(G_OBJ);
        gnode_t *la = g_new(G_ARR);
        g_push(la, g_num("1"));
        g_add(alt, "zz", la);
        g_push(alts, alt);
        g_push(alts, g_str("b", 0));
        g_add(o, "$or", alts);
        reason = "Only JSON object is allowed in array of $or relationship.";
    } else if (x == EVB_ARRAY_LEN(BAD_MATCHERS) + 5) {
        g->pad = true; /* run_seed pads the text past 4096 characters */
        reason = "Event pattern is too long";
    } else if (x == EVB_ARRAY_LEN(BAD_MATCHERS) + 6 && !g_get(o, "$or") &&
               !g_get(o, "zy")) {
        /* 32 x 32 = 1024 combinations */
        gnode_t *top = g_new(G_ARR), *inner = g_new(G_ARR);
        for (int i = 0; i < 32; i++) {
            char num[16];
            snprintf(num, sizeof num, "%d", i);
            gnode_t *a1 = g_new(G_OBJ), *l1 = g_new(G_ARR);
            g_push(l1, g_num(num));
            g_add(a1, "zz", l1);
            g_push(top, a1);
            gnode_t *a2 = g_new(G_OBJ), *l2 = g_new(G_ARR);
            g_push(l2, g_num(num));
            g_add(a2, "zw", l2);
            g_push(inner, a2);
        }
        gnode_t *zy = g_new(G_OBJ);
        g_add(zy, "$or", inner);
        g_add(o, "$or", top);
        g_add(o, "zy", zy);
        reason = "Rule is too complex - the $or combinations exceed 1000";
    } else {
        /* a top-level field whose value is a number */
        for (size_t i = 0; i < o->n; i++) {
            if (o->kids[i]->k == G_ARR && strcmp(o->keys[i], "$or") != 0 &&
                strspn(o->keys[i], "abcxy.") == strlen(o->keys[i])) {
                g_free(o->kids[i]);
                o->kids[i] = g_num("42");
                snprintf(buf, bufsz, "\"%s\" must be an object or an array",
                         o->keys[i]);
                reason = buf;
                break;
            }
        }
    }
    free(leaves);
    return reason;
}

/* A gnode tree from a jansson value (for the bad matchers above). */
static gnode_t *parse_tree(const json_t *j) {
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        gnode_t *o = g_new(G_OBJ);
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) g_add(o, k, parse_tree(v));
        return o;
    }
    case JSON_ARRAY: {
        gnode_t *a = g_new(G_ARR);
        for (size_t i = 0; i < json_array_size(j); i++)
            g_push(a, parse_tree(json_array_get(j, i)));
        return a;
    }
    case JSON_STRING: return g_str(json_string_value(j), 0);
    case JSON_INTEGER:
    case JSON_REAL: {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%.17g", json_number_value(j));
        return g_num(tmp);
    }
    case JSON_TRUE: return g_new(G_TRUE);
    case JSON_FALSE: return g_new(G_FALSE);
    case JSON_NULL: return g_new(G_NULL);
    }
    return g_new(G_NULL);
}

/* ---- event generator --------------------------------------------------------
 */

static gnode_t *gen_escalar(gen_t *g) {
    size_t x = rnd(&g->r, 100);
    if (x < 45) {
        /* one random draw per argument list: the order is unspecified */
        const char *str = pick_str(g);
        return g_str(str, pick_esc(g));
    }
    if (x < 83)
        return gen_num(g, NULL);
    if (x < 86)
        return g_num(PICK(&g->r, EVENT_NUMS));
    return gen_lit(g);
}

static gnode_t *gen_eobj(gen_t *g, int depth);

static gnode_t *gen_evalue(gen_t *g, int depth) {
    size_t x = rnd(&g->r, 100);
    if (x < 35 || depth >= 3)
        return gen_escalar(g);
    if (x < 57) {
        gnode_t *a = g_new(G_ARR);
        size_t n = 1 + rnd(&g->r, 4);
        for (size_t i = 0; i < n; i++)
            g_push(a, gen_escalar(g));
        return a;
    }
    if (x < 72)
        return gen_eobj(g, depth + 1);
    if (x < 88) {
        gnode_t *a = g_new(G_ARR);
        size_t n = 1 + rnd(&g->r, 3);
        for (size_t i = 0; i < n; i++)
            g_push(a,
                   chance(&g->r, 90) ? gen_eobj(g, depth + 1) : gen_escalar(g));
        return a;
    }
    if (x < 93) { /* nested arrays, possibly with objects inside */
        gnode_t *a = g_new(G_ARR);
        size_t n = 1 + rnd(&g->r, 3);
        for (size_t i = 0; i < n; i++)
            g_push(a, chance(&g->r, 60) ? gen_evalue(g, depth + 1)
                                        : gen_escalar(g));
        return a;
    }
    if (x < 95) { /* a long array (past any small index or bit set) */
        gnode_t *a = g_new(G_ARR);
        size_t n = 40 + rnd(&g->r, 260);
        for (size_t i = 0; i < n; i++)
            g_push(a, depth < 2 && chance(&g->r, 30) ? gen_eobj(g, 3)
                                                     : gen_escalar(g));
        return a;
    }
    return g_new(chance(&g->r, 50) ? G_ARR : G_OBJ); /* [] or {} */
}

static gnode_t *gen_eobj(gen_t *g, int depth) {
    gnode_t *o = g_new(G_OBJ);
    size_t order[EVB_ARRAY_LEN(KEYS)];
    for (size_t i = 0; i < EVB_ARRAY_LEN(KEYS); i++)
        order[i] = i;
    for (size_t i = EVB_ARRAY_LEN(KEYS); i > 1; i--) {
        size_t j = rnd(&g->r, i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < EVB_ARRAY_LEN(KEYS); i++) {
        const char *k = KEYS[order[i]];
        bool themed = false;
        for (size_t j = 0; j < g->nkeys; j++)
            themed |= g->keys[j] == k;
        if (chance(&g->r, themed ? (depth == 0 ? 95 : 80) : 10)) {
            int kesc = pick_esc(g);
            g_insert(o, o->n, k, kesc, gen_evalue(g, depth));
        }
    }
    for (size_t j = 0; j < g->nkeys; j++) /* themed keys not in KEYS */
        if (g->keys[j] == g->long_key && chance(&g->r, depth == 0 ? 90 : 60))
            g_add(o, g->long_key, gen_evalue(g, depth));
    if (depth == 0 && chance(&g->r, g->wide ? 30 : 3)) {
        size_t n = 30 + rnd(&g->r, 70);
        for (size_t j = 0; j < n; j++) {
            char k[16];
            snprintf(k, sizeof k, "k%zu", rnd(&g->r, 100));
            if (!g_get(o, k))
                g_add(o, k, gen_escalar(g));
        }
    }
    if (depth == 0 && g->wide_e && chance(&g->r, 30) && !g_get(o, "e")) {
        gnode_t *arr = g_new(G_ARR);
        size_t ne = 1 + rnd(&g->r, 4);
        for (size_t i = 0; i < ne; i++) {
            gnode_t *el = g_new(G_OBJ);
            size_t n = 60 + rnd(&g->r, 40);
            for (size_t j = 0; j < n; j++) {
                char k[16];
                snprintf(k, sizeof k, "k%zu", rnd(&g->r, 100));
                if (!g_get(el, k))
                    g_add(el, k, gen_escalar(g));
            }
            g_push(arr, el);
        }
        g_add(o, "e", arr);
    }
    if (chance(&g->r, 5)) {
        const char *k = PICK(&g->r, RARE_KEYS);
        if (!g_get(o, k))
            g_add(o, k, gen_evalue(g, depth));
    }
    if (chance(&g->r, 3))
        g_add(o, "$or",
              chance(&g->r, 50) ? g_str(chance(&g->r, 50) ? "a" : "b", 0)
                                : gen_evalue(g, depth));
    return o;
}

/* -- events aimed at a pattern -- */

/* The number class and spelling index of a spelling, if it is one. */
static bool find_class(const char *text, size_t *cls) {
    for (size_t c = 0; c < NCLASSES; c++)
        for (size_t i = 0; NUMS[c][i]; i++)
            if (strcmp(NUMS[c][i], text) == 0) {
                *cls = c;
                return true;
            }
    return false;
}

static gnode_t *respell(gen_t *g, const gnode_t *num) {
    size_t c, n = 0;
    if (!find_class(num->s, &c) || chance(&g->r, 50))
        return g_num(num->s);
    while (NUMS[c][n])
        n++;
    return g_num(NUMS[c][rnd(&g->r, n)]);
}

static void flip_case(gen_t *g, char *s) {
    for (char *c = s; *c; c++)
        if (((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')) &&
            chance(&g->r, 50))
            *c ^= 0x20;
}

static const char *const FILLERS[] = {"", "a", "zz", "/", "Ä", "*", "o"};

static gnode_t *with_case(gen_t *g, const char *pre, const char *s,
                          const char *post, bool flip) {
    sb_t b = {NULL, 0, 0};
    sb_puts(&b, pre);
    size_t at = b.n;
    sb_puts(&b, s);
    sb_puts(&b, post);
    if (flip)
        flip_case(g, b.s + at);
    gnode_t *n = g_str(b.s, pick_esc(g));
    free(b.s);
    return n;
}

/* An address inside a CIDR range (host bits random). */
static gnode_t *in_cidr(gen_t *g, const char *range) {
    char buf[128], out[128];
    snprintf(buf, sizeof buf, "%s", range);
    char *slash = strchr(buf, '/');
    if (!slash)
        return g_str("10.0.0.1", 0);
    *slash = '\0';
    int bits = atoi(slash + 1);
    unsigned char a[16];
    int fam = strchr(buf, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(fam, buf, a) != 1)
        return g_str(buf, 0);
    int nb = fam == AF_INET ? 32 : 128;
    for (int b = bits; b < nb; b++)
        if (chance(&g->r, 50))
            a[b / 8] ^= (unsigned char)(0x80 >> (b % 8));
    inet_ntop(fam, a, out, sizeof out);
    if (fam == AF_INET6 && chance(&g->r, 30))
        for (char *c = out; *c; c++)
            if (*c >= 'a' && *c <= 'f')
                *c ^= 0x20;
    return g_str(out, 0);
}

static bool in_range(double x, const gnode_t *arr) {
    for (size_t i = 0; i + 1 < arr->n; i += 2) {
        const char *op = arr->kids[i]->s;
        double v = strtod(arr->kids[i + 1]->s, NULL);
        bool ok = strcmp(op, "=") == 0    ? x == v
                  : strcmp(op, "<") == 0  ? x < v
                  : strcmp(op, "<=") == 0 ? x <= v
                  : strcmp(op, ">") == 0  ? x > v
                                          : x >= v;
        if (!ok)
            return false;
    }
    return true;
}

/* A value that (probably) satisfies one element of a leaf array; NULL for
 * exists:false (the field is left out). */
static gnode_t *satisfy(gen_t *g, const gnode_t *m) {
    if (m->k == G_NUM)
        return respell(g, m);
    if (m->k != G_OBJ)
        return g_copy(m); /* string, null, true, false */
    const char *op = m->keys[0];
    const gnode_t *arg = m->kids[0];
    const char *fill = PICK(&g->r, FILLERS);
    if (strcmp(op, "prefix") == 0 || strcmp(op, "suffix") == 0) {
        bool eic = arg->k == G_OBJ;
        const char *s = eic ? arg->kids[0]->s : arg->s;
        return op[0] == 'p' ? with_case(g, "", s, fill, eic)
                            : with_case(g, fill, s, "", eic);
    }
    if (strcmp(op, "equals-ignore-case") == 0)
        return with_case(g, "", arg->s, "", true);
    if (strcmp(op, "wildcard") == 0) {
        sb_t b = {NULL, 0, 0};
        for (const char *p = arg->s; *p; p++) {
            if (*p == '*')
                sb_puts(&b, PICK(&g->r, FILLERS));
            else if (*p == '\\' && p[1])
                sb_putc(&b, *++p);
            else
                sb_putc(&b, *p);
        }
        gnode_t *n = g_str(b.s ? b.s : "", pick_esc(g));
        free(b.s);
        return n;
    }
    if (strcmp(op, "cidr") == 0)
        return in_cidr(g, arg->s);
    if (strcmp(op, "numeric") == 0) {
        size_t start = rnd(&g->r, NCLASSES);
        for (size_t i = 0; i < NCLASSES; i++) {
            size_t c = (start + i) % NCLASSES, n = 0;
            if (in_range(strtod(NUMS[c][0], NULL), arg)) {
                while (NUMS[c][n])
                    n++;
                return g_num(NUMS[c][rnd(&g->r, n)]);
            }
        }
        return g_num(arg->n > 1 ? arg->kids[1]->s : "0");
    }
    if (strcmp(op, "exists") == 0)
        return arg->k == G_TRUE ? gen_escalar(g) : NULL;
    return gen_escalar(g); /* anything-but: most values do */
}

static void e_set(gnode_t *o, const char *key, gnode_t *v) {
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0) {
            g_free(o->kids[i]);
            o->kids[i] = v;
            return;
        }
    g_add(o, key, v);
}

/* Fill event object e so that it (probably) satisfies pattern object p;
 * values go into arrays (with decoys) now and then. */
static void fill_for(gen_t *g, gnode_t *e, const gnode_t *p, int depth) {
    for (size_t i = 0; i < p->n; i++) {
        const char *k = p->keys[i];
        const gnode_t *v = p->kids[i];
        if (strcmp(k, "$or") == 0 && v->k == G_ARR && v->n &&
            v->kids[0]->k == G_OBJ) {
            fill_for(g, e, v->kids[rnd(&g->r, v->n)], depth);
            if (chance(&g->r, 20))
                fill_for(g, e, v->kids[rnd(&g->r, v->n)], depth);
            continue;
        }
        if (v->k == G_OBJ) {
            gnode_t *child = g_get(e, k);
            if (child && child->k == G_OBJ) {
                fill_for(g, child, v, depth + 1);
                continue;
            }
            child = chance(&g->r, 50) ? gen_eobj(g, depth + 1) : g_new(G_OBJ);
            fill_for(g, child, v, depth + 1);
            if (chance(&g->r, 35)) { /* an array of objects with decoys */
                gnode_t *arr = g_new(G_ARR);
                size_t n = 1 + rnd(&g->r, 3), at = rnd(&g->r, n + 1);
                for (size_t j = 0; j < n; j++) {
                    if (j == at)
                        g_push(arr, child);
                    gnode_t *decoy = g_new(G_OBJ);
                    fill_for(g, decoy, v, depth + 1);
                    /* spoil or drop a member of the decoy */
                    if (decoy->n) {
                        size_t d = rnd(&g->r, decoy->n);
                        if (chance(&g->r, 50)) {
                            g_free(decoy->kids[d]);
                            decoy->kids[d] = gen_escalar(g);
                        } else {
                            char *key;
                            int kesc;
                            g_free(g_detach(decoy, d, &key, &kesc));
                            free(key);
                        }
                    }
                    g_push(arr, decoy);
                }
                if (at == n)
                    g_push(arr, child);
                e_set(e, k, arr);
            } else {
                e_set(e, k, child);
            }
            continue;
        }
        if (v->k != G_ARR || v->n == 0)
            continue;
        gnode_t *val = satisfy(g, v->kids[rnd(&g->r, v->n)]);
        if (!val) {
            for (size_t j = 0; j < e->n; j++)
                if (strcmp(e->keys[j], k) == 0) {
                    char *key;
                    int kesc;
                    g_free(g_detach(e, j, &key, &kesc));
                    free(key);
                    break;
                }
            continue;
        }
        if (chance(&g->r, 25)) {
            gnode_t *arr = g_new(G_ARR);
            if (chance(&g->r, 50))
                g_push(arr, gen_escalar(g));
            g_push(arr, val);
            if (chance(&g->r, 50))
                g_push(arr, gen_escalar(g));
            val = arr;
        }
        e_set(e, k, val);
    }
}

/* An event aimed at pattern p: random members, then p's fields filled,
 * then (sometimes) one value spoiled for a near miss. */
static gnode_t *gen_event_for(gen_t *g, const gnode_t *p) {
    gnode_t *e = chance(&g->r, 60) ? gen_eobj(g, 0) : g_new(G_OBJ);
    fill_for(g, e, p, 0);
    if (e->n && chance(&g->r, 25)) {
        size_t d = rnd(&g->r, e->n);
        g_free(e->kids[d]);
        e->kids[d] = gen_escalar(g);
    }
    return e;
}

/* ---- special patterns and events, and whole patterns -----------------------
 */

/* A pattern with many fields ("k0".."k99"; past any 64-bit set). */
static gnode_t *gen_wide(gen_t *g) {
    if (chance(&g->r, 40)) { /* under an array of objects in events */
        g->wide_e = true;
        gnode_t *w = gen_wide(g), *o = g_new(G_OBJ);
        g_add(o, "e", w);
        return o;
    }
    gnode_t *o = g_new(G_OBJ);
    size_t n = 40 + rnd(&g->r, 60);
    for (size_t i = 0; i < n; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%zu", rnd(&g->r, 100));
        if (!g_get(o, k)) {
            gnode_t *a = g_new(G_ARR);
            g_push(a, gen_matcher(g));
            g_add(o, k, a);
        }
    }
    return o;
}

/* -- array-consistency puzzles: many fields under one array of objects -- */

static const char *const CKEYS[] = {"p", "q", "r", "s", "t"};

static gnode_t *gen_cmatcher(gen_t *g) {
    static const char *const vals[] = {"1", "2", "3"};
    size_t x = rnd(&g->r, 100);
    if (g->broad) { /* conditions that most leaves satisfy */
        gnode_t *a;
        switch (rnd(&g->r, 4)) {
        case 0: return op1("exists", g_new(G_TRUE));
        case 1: return op1("anything-but", g_num("9"));
        case 2:
            a = g_new(G_ARR);
            g_push(a, g_str(">", 0));
            g_push(a, g_num("0"));
            return op1("numeric", a);
        default: return g_num(PICK(&g->r, vals));
        }
    }
    if (x < 60)
        return g_num(PICK(&g->r, vals));
    if (x < 70)
        return op1("anything-but", g_num(PICK(&g->r, vals)));
    if (x < 78)
        return op1("exists", g_new(G_TRUE));
    if (x < 84)
        return op1("exists", g_new(G_FALSE));
    gnode_t *a = g_new(G_ARR);
    g_push(a, g_str(chance(&g->r, 50) ? ">" : "<=", 0));
    g_push(a, g_num(PICK(&g->r, vals)));
    return op1("numeric", a);
}

static gnode_t *gen_cleaf(gen_t *g) {
    gnode_t *a = g_new(G_ARR);
    size_t n = 1 + rnd(&g->r, 2);
    for (size_t i = 0; i < n; i++)
        g_push(a, gen_cmatcher(g));
    return a;
}

static gnode_t *gen_cobj(gen_t *g, int depth) {
    gnode_t *o = g_new(G_OBJ);
    size_t n = g->broad ? 4 + rnd(&g->r, 3) : 2 + rnd(&g->r, 4);
    for (size_t i = 0; i < n; i++) {
        const char *k = PICK(&g->r, CKEYS);
        if (!g_get(o, k))
            g_add(o, k, gen_cleaf(g));
    }
    if (depth < 2 && chance(&g->r, 40))
        g_add(o, "n", gen_cobj(g, depth + 1));
    if (depth < 2 && chance(&g->r, 15)) {
        gnode_t *alts = g_new(G_ARR);
        for (int i = 0; i < 2; i++) {
            gnode_t *alt = g_new(G_OBJ);
            const char *k = chance(&g->r, 50) ? "u" : "v";
            g_add(alt, k, gen_cleaf(g));
            g_push(alts, alt);
        }
        g_add(o, "$or", alts);
    }
    return o;
}

/* {"e": {...}} or {"e": {...}, "f": {...}} */
static gnode_t *gen_cpattern(gen_t *g) {
    gnode_t *o = g_new(G_OBJ);
    g->broad = chance(&g->r, 40);
    g_add(o, "e", gen_cobj(g, 0));
    if (chance(&g->r, 25))
        g_add(o, "f", gen_cobj(g, 1));
    g->broad = false;
    return o;
}

static gnode_t *gen_cvalue(gen_t *g) {
    static const char *const vals[] = {"1", "2", "3", "1.0", "2e0"};
    if (chance(&g->r, 75))
        return g_num(PICK(&g->r, vals));
    gnode_t *a = g_new(G_ARR);
    size_t n = rnd(&g->r, 4);
    for (size_t i = 0; i < n; i++)
        g_push(a, g_num(PICK(&g->r, vals)));
    return a;
}

static gnode_t *gen_cevent_obj(gen_t *g, int depth) {
    gnode_t *o = g_new(G_OBJ);
    for (size_t i = 0; i < EVB_ARRAY_LEN(CKEYS); i++)
        if (chance(&g->r, 55))
            g_add(o, CKEYS[i], gen_cvalue(g));
    if (chance(&g->r, 20)) {
        const char *k = chance(&g->r, 50) ? "u" : "v";
        g_add(o, k, gen_cvalue(g));
    }
    if (depth < 2 && chance(&g->r, 45)) {
        gnode_t *arr = g_new(G_ARR);
        size_t n = 1 + rnd(&g->r, 3);
        for (size_t i = 0; i < n; i++)
            g_push(arr, gen_cevent_obj(g, depth + 1));
        g_add(o, "n",
              chance(&g->r, 80) ? arr
                                : (g_free(arr), gen_cevent_obj(g, depth + 1)));
    }
    return o;
}

/* A hard instance: many elements, each missing one key (now and then
 * none), values that match most conditions: the search has to look at
 * many combinations (past the engine's depth-first budget). */
static gnode_t *gen_hard_obj(gen_t *g, int depth, bool complete) {
    static const char *const vals[] = {"1", "2", "3"};
    gnode_t *o = g_new(G_OBJ);
    size_t miss = complete ? 99 : rnd(&g->r, EVB_ARRAY_LEN(CKEYS));
    for (size_t i = 0; i < EVB_ARRAY_LEN(CKEYS); i++) {
        if (i == miss)
            continue;
        gnode_t *a = g_new(G_ARR);
        for (size_t j = 0; j < 3; j++)
            if (chance(&g->r, 80))
                g_push(a, g_num(vals[j]));
        g_add(o, CKEYS[i], a);
    }
    if (depth < 1 && chance(&g->r, 50)) {
        gnode_t *arr = g_new(G_ARR);
        size_t n = 2 + rnd(&g->r, 4), full = rnd(&g->r, 2 * n);
        for (size_t i = 0; i < n; i++)
            g_push(arr, gen_hard_obj(g, depth + 1, i == full));
        g_add(o, "n", arr);
    }
    return o;
}

static gnode_t *gen_hard_cevent(gen_t *g) {
    gnode_t *o = g_new(G_OBJ);
    const char *outer[] = {"e", "f"};
    for (int k = 0; k < 2; k++) {
        gnode_t *arr = g_new(G_ARR);
        size_t n = 8 + rnd(&g->r, 12);
        /* at most one complete element, often at an end */
        size_t x = rnd(&g->r, 4);
        size_t full = x == 0 ? 0 : x == 1 ? n - 1 : x == 2 ? rnd(&g->r, n) : n;
        for (size_t i = 0; i < n; i++)
            g_push(arr, gen_hard_obj(g, 0, i == full));
        g_add(o, outer[k], arr);
    }
    return o;
}

static gnode_t *gen_cevent(gen_t *g) {
    if (chance(&g->r, 35))
        return gen_hard_cevent(g);
    gnode_t *o = g_new(G_OBJ);
    const char *outer[] = {"e", "f"};
    for (int k = 0; k < 2; k++) {
        if (k == 1 && chance(&g->r, 50))
            continue;
        gnode_t *arr = g_new(G_ARR);
        size_t n = 1 + rnd(&g->r, 6);
        for (size_t i = 0; i < n; i++)
            g_push(arr, gen_cevent_obj(g, 0));
        g_add(o, outer[k], arr);
    }
    return o;
}

/* All objects of a pattern tree (including $or alternatives). */
static void collect_objects(gnode_t *o, gnode_t ***out, size_t *n) {
    *out = xrealloc(*out, (*n + 1) * sizeof **out);
    (*out)[(*n)++] = o;
    for (size_t i = 0; i < o->n; i++) {
        gnode_t *v = o->kids[i];
        if (v->k == G_OBJ)
            collect_objects(v, out, n);
        else if (v->k == G_ARR && strcmp(o->keys[i], "$or") == 0 && v->n &&
                 v->kids[0]->k == G_OBJ) /* a real $or, not a leaf array */
            for (size_t j = 0; j < v->n; j++)
                collect_objects(v->kids[j], out, n);
    }
}

/* Put a decoy member with the same key before one member: the pattern
 * text has a duplicated key, and the last one wins. */
static void add_duplicate_key(gen_t *g, gnode_t *p) {
    gnode_t **objs = NULL;
    size_t n = 0;
    collect_objects(p, &objs, &n);
    gnode_t *o = objs[rnd(&g->r, n)];
    free(objs);
    size_t i = rnd(&g->r, o->n);
    if (strcmp(o->keys[i], "$or") == 0)
        return;
    gnode_t *v = chance(&g->r, 75) ? gen_leaf_array(g) : gen_pobj(g, 2);
    g_insert(o, i, o->keys[i], o->kesc[i], v);
    g->st->kind[K_DUP_KEY]++;
}

/* Generate a valid pattern with unique fields (or one with an injected
 * error, whose reason goes to *reason). */
static gnode_t *gen_pattern(gen_t *g, const char **reason, char *buf,
                            size_t bufsz) {
    *reason = NULL;
    g->pad = false;
    for (;;) {
        g->ors = 0;
        gnode_t *p;
        if (chance(&g->r, 2)) {
            p = gen_wide(g);
            g->st->kind[K_WIDE]++;
        } else if (chance(&g->r, g->puzzles)) {
            p = gen_cpattern(g);
            g->st->kind[K_PUZZLE]++;
        } else {
            p = gen_pobj(g, 0);
        }
        json_t *j = g_json(p, false);
        evb_ref_pattern_t *rp = evb_ref_pattern_new(j);
        bool unique = evb_ref_pattern_fields_unique(rp);
        evb_ref_pattern_free(rp);
        json_decref(j);
        if (!unique) {
            g->st->invalid_dups++;
            g_free(p);
            continue;
        }
        if (chance(&g->r, 5))
            *reason = inject_error(g, p, buf, bufsz);
        else if (chance(&g->r, 4))
            add_duplicate_key(g, p);
        return p;
    }
}

/* ---- engine vs reference on one case (used by the shrinker) ---------------
 */

typedef struct {
    gnode_t **pats; /* the rule set (owned copies) */
    size_t n;
    size_t target; /* the rule the disagreement is about */
    bool use_test; /* evb_pattern_test instead of a rule set */
} repro_t;

static bool pattern_ok(const char *text) {
    char err[512];
    if (evb_pattern_validate(text, strlen(text), NULL, err, sizeof err) !=
        EVB_ERR_OK)
        return false;
    json_t *j = evb_ref_loads(text);
    if (!j)
        return false;
    evb_ref_pattern_t *p = evb_ref_pattern_new(j);
    bool ok = evb_ref_pattern_fields_unique(p);
    evb_ref_pattern_free(p);
    json_decref(j);
    return ok;
}

/* 1: engine and reference disagree about the target; 0: they agree;
 * -1: not a usable case (an invalid pattern, an engine error). */
static int repro_check(const repro_t *rp, const gnode_t *ev, bool *eng_out,
                       bool *ref_out) {
    char **texts = xmalloc(rp->n * sizeof *texts);
    for (size_t i = 0; i < rp->n; i++)
        texts[i] = g_text(rp->pats[i], 0);
    char *etext = g_text(ev, 0);
    int rc = -1;
    bool eng = false;
    char err[512];
    for (size_t i = 0; i < rp->n; i++)
        if (!pattern_ok(texts[i]))
            goto out;
    if (rp->use_test) {
        const char *t = texts[rp->target];
        if (evb_pattern_test(t, strlen(t), etext, strlen(etext), NULL, &eng,
                             err, sizeof err) != EVB_ERR_OK)
            goto out;
    } else {
        evb_ruleset_t *rs = evb_ruleset_new(NULL);
        char **names = xmalloc(rp->n * sizeof *names);
        size_t *lens = xmalloc(rp->n * sizeof *lens);
        for (size_t i = 0; i < rp->n; i++) {
            names[i] = xmalloc(24);
            snprintf(names[i], 24, "r%zu", i);
            lens[i] = strlen(texts[i]);
        }
        evb_err_t e = evb_ruleset_add_many(
            rs, rp->n, (const char *const *)names, (const char *const *)texts,
            lens, err, sizeof err);
        if (e == EVB_ERR_OK) {
            evb_matcher_t *m = evb_ruleset_acquire(rs);
            evb_match_ctx_t *ctx = evb_match_ctx_new();
            const char *const *got;
            size_t count;
            e = evb_matcher_match(m, ctx, etext, strlen(etext), &got, &count,
                                  err, sizeof err);
            if (e == EVB_ERR_OK)
                for (size_t i = 0; i < count; i++)
                    if (strcmp(got[i], names[rp->target]) == 0)
                        eng = true;
            evb_match_ctx_free(ctx);
            evb_matcher_unref(m);
        }
        for (size_t i = 0; i < rp->n; i++)
            free(names[i]);
        free(names);
        free(lens);
        evb_ruleset_free(rs);
        if (e != EVB_ERR_OK)
            goto out;
    }
    {
        json_t *pj = g_json(rp->pats[rp->target], false);
        json_t *ej = g_json(ev, true);
        bool ref = evb_ref_match(pj, ej);
        json_decref(pj);
        json_decref(ej);
        if (eng_out)
            *eng_out = eng;
        if (ref_out)
            *ref_out = ref;
        rc = eng != ref;
    }
out:
    for (size_t i = 0; i < rp->n; i++)
        free(texts[i]);
    free(texts);
    free(etext);
    return rc;
}

/* Remove members of *tree (depth first) while the disagreement stays. */
static bool shrink_tree(repro_t *rp, gnode_t *tree, gnode_t *ev) {
    bool any = false, progress = true;
    while (progress) {
        progress = false;
        /* containers in pre-order */
        gnode_t **stack = NULL, **list = NULL;
        size_t ns = 0, nl = 0;
        stack = xrealloc(stack, sizeof *stack);
        stack[ns++] = tree;
        while (ns) {
            gnode_t *c = stack[--ns];
            if (c->k != G_OBJ && c->k != G_ARR)
                continue;
            list = xrealloc(list, (nl + 1) * sizeof *list);
            list[nl++] = c;
            stack = xrealloc(stack, (ns + c->n) * sizeof *stack);
            for (size_t i = 0; i < c->n; i++)
                stack[ns++] = c->kids[i];
        }
        for (size_t li = 0; li < nl && !progress; li++) {
            gnode_t *c = list[li];
            for (size_t i = c->n; i-- > 0 && !progress;) {
                char *key;
                int kesc;
                gnode_t *kid = g_detach(c, i, &key, &kesc);
                if (repro_check(rp, ev, NULL, NULL) == 1) {
                    g_free(kid);
                    free(key);
                    progress = any = true;
                } else {
                    g_insert(c, i, key, kesc, kid);
                    free(key);
                }
            }
        }
        free(stack);
        free(list);
    }
    return any;
}

/* Replace a "$or" member by the members of one of its alternatives while
 * the disagreement stays (removal alone cannot go below two). */
static bool shrink_or(repro_t *rp, gnode_t *tree, gnode_t *ev) {
    gnode_t **objs = NULL;
    size_t n = 0;
    bool any = false;
    if (tree->k != G_OBJ)
        return false;
    collect_objects(tree, &objs, &n);
    for (size_t oi = 0; oi < n && !any; oi++) {
        gnode_t *o = objs[oi];
        for (size_t i = 0; i < o->n && !any; i++) {
            gnode_t *v = o->kids[i];
            if (strcmp(o->keys[i], "$or") != 0 || v->k != G_ARR || !v->n ||
                v->kids[0]->k != G_OBJ)
                continue;
            for (size_t a = 0; a < v->n && !any; a++) {
                gnode_t *trial = g_copy(tree), **tobjs = NULL;
                size_t tn = 0;
                collect_objects(trial, &tobjs, &tn);
                gnode_t *to = tobjs[oi];
                free(tobjs);
                char *key;
                int kesc;
                gnode_t *ors = g_detach(to, i, &key, &kesc);
                free(key);
                gnode_t *alt = ors->kids[a];
                for (size_t j = 0; j < alt->n; j++)
                    g_insert(to, i + j, alt->keys[j], alt->kesc[j],
                             g_copy(alt->kids[j]));
                g_free(ors);
                /* swap the trial in place of the tree's contents */
                gnode_t saved = *tree;
                *tree = *trial;
                if (repro_check(rp, ev, NULL, NULL) == 1) {
                    *trial = saved;
                    any = true;
                } else {
                    *trial = *tree;
                    *tree = saved;
                }
                g_free(trial);
            }
        }
    }
    free(objs);
    return any;
}

/* Drop other rules from the set while the disagreement stays. */
static void shrink_set(repro_t *rp, gnode_t *ev) {
    for (size_t chunk = rp->n / 2; chunk >= 1; chunk /= 2) {
        size_t start = 0;
        while (start < rp->n) {
            size_t end = start + chunk < rp->n ? start + chunk : rp->n;
            if (rp->target >= start && rp->target < end) {
                start = end;
                continue;
            }
            repro_t trial = *rp;
            trial.pats = xmalloc(rp->n * sizeof *trial.pats);
            trial.n = 0;
            for (size_t i = 0; i < rp->n; i++)
                if (i < start || i >= end)
                    trial.pats[trial.n++] = rp->pats[i];
            trial.target = rp->target - (rp->target >= end ? end - start : 0);
            if (repro_check(&trial, ev, NULL, NULL) == 1) {
                for (size_t i = start; i < end; i++)
                    g_free(rp->pats[i]);
                free(rp->pats);
                *rp = trial;
            } else {
                free(trial.pats);
                start = end;
            }
        }
        if (chunk == 1)
            break;
    }
}

static void print_case(const char *what, const gnode_t *g) {
    char *t = g_text(g, 0);
    fprintf(stderr, "  %s %s\n", what, t);
    free(t);
}

/* A disagreement found in the run: shrink it and print it. */
static void report(uint64_t seed, const char *where, gnode_t *const *all,
                   size_t nall, size_t target, const gnode_t *event,
                   bool engine, bool ref) {
    /* one report per rule (a bad rule tends to fail on many events) */
    static struct {
        uint64_t seed;
        const gnode_t *rule;
    } reported[64];
    static size_t nreported;
    g_total.disagreements++;
    for (size_t i = 0; i < nreported; i++)
        if (reported[i].seed == seed && reported[i].rule == all[target])
            return;
    if (nreported < EVB_ARRAY_LEN(reported)) {
        reported[nreported].seed = seed;
        reported[nreported++].rule = all[target];
    }
    if (++g_reports > g_max_reports) {
        if (g_reports == g_max_reports + 1)
            fprintf(stderr, "(further disagreements not shown)\n");
        return;
    }
    fprintf(stderr,
            "\nDISAGREEMENT seed=%llu (%s): engine says %s, reference says "
            "%s\n",
            (unsigned long long)seed, where, engine ? "match" : "no match",
            ref ? "match" : "no match");

    gnode_t *ev = g_copy(event);
    repro_t rp = {NULL, 0, 0, true};
    rp.pats = xmalloc(sizeof *rp.pats);
    rp.pats[0] = g_copy(all[target]);
    rp.n = 1;
    const char *mode = "evb_pattern_test";
    if (repro_check(&rp, ev, NULL, NULL) != 1) {
        rp.use_test = false;
        mode = "a rule set of this rule alone";
        if (repro_check(&rp, ev, NULL, NULL) != 1) {
            g_free(rp.pats[0]);
            free(rp.pats);
            rp.pats = xmalloc(nall * sizeof *rp.pats);
            for (size_t i = 0; i < nall; i++)
                rp.pats[i] = g_copy(all[i]);
            rp.n = nall;
            rp.target = target;
            mode = "the rule set";
            if (repro_check(&rp, ev, NULL, NULL) != 1) {
                fprintf(stderr, "  (does not reproduce outside the run)\n");
                print_case("pattern:", all[target]);
                print_case("event:  ", event);
                goto done;
            }
            shrink_set(&rp, ev);
        }
    }
    for (int round = 0; round < 4; round++) {
        bool a = shrink_tree(&rp, ev, ev);
        bool b = shrink_tree(&rp, rp.pats[rp.target], ev);
        bool c = shrink_or(&rp, rp.pats[rp.target], ev);
        if (!a && !b && !c)
            break;
    }
    bool e = false, r = false;
    repro_check(&rp, ev, &e, &r);
    fprintf(stderr,
            "  minimal reproduction (via %s): engine %s, reference %s\n", mode,
            e ? "match" : "no match", r ? "match" : "no match");
    print_case("  pattern:", rp.pats[rp.target]);
    print_case("  event:  ", ev);
    for (size_t i = 0; i < rp.n; i++)
        if (i != rp.target)
            print_case("  other rule in the set:", rp.pats[i]);
done:
    for (size_t i = 0; i < rp.n; i++)
        g_free(rp.pats[i]);
    free(rp.pats);
    g_free(ev);
}

/* ---- the run
 * ----------------------------------------------------------------- */

typedef struct {
    gnode_t *tree;
    char *text;
    json_t *json;
    evb_ref_pattern_t *ref;
    char name[24];
    bool valid;
} rule_t;

typedef struct {
    gnode_t *tree;
    char *text;
    json_t *json;
    evb_ref_event_t *ref;
} event_t;

static unsigned long env_ul(const char *name, unsigned long dflt) {
    const char *v = getenv(name);
    return v && *v ? strtoul(v, NULL, 10) : dflt;
}

/* Events the engine must refuse with EVB_ERR_INVALID_EVENT. */
static void check_bad_event(uint64_t seed, const evb_matcher_t *m,
                            evb_match_ctx_t *ctx, const char *text, size_t len,
                            const char *what, stats_t *st) {
    const char *const *names;
    size_t count;
    char err[512];
    bool matched;
    evb_err_t e1 =
        evb_matcher_match(m, ctx, text, len, &names, &count, err, sizeof err);
    evb_err_t e2 = evb_pattern_test("{\"a\":[1]}", 9, text, len, NULL, &matched,
                                    err, sizeof err);
    st->bad_events++;
    if (e1 != EVB_ERR_INVALID_EVENT || e2 != EVB_ERR_INVALID_EVENT) {
        fprintf(stderr,
                "seed=%llu: %s: expected EVB_ERR_INVALID_EVENT, got %s from "
                "evb_matcher_match and %s from evb_pattern_test; event "
                "%.200s%s\n",
                (unsigned long long)seed, what, evb_err_name(e1),
                evb_err_name(e2), text, len > 200 ? "..." : "");
        g_total.disagreements++;
    }
}

static void check_limits(uint64_t seed, const evb_matcher_t *m,
                         evb_match_ctx_t *ctx, stats_t *st) {
    /* more than 1000 levels (whichever way they are counted) */
    sb_t b = {NULL, 0, 0};
    sb_puts(&b, "{\"a\":");
    for (int i = 0; i < 1002; i++)
        sb_putc(&b, '[');
    sb_putc(&b, '1');
    for (int i = 0; i < 1002; i++)
        sb_putc(&b, ']');
    sb_putc(&b, '}');
    check_bad_event(seed, m, ctx, b.s, b.n, "1003 levels of nesting", st);
    free(b.s);
    /* more than 1 MiB */
    size_t big = 1024 * 1024;
    char *t = xmalloc(big + 16);
    memcpy(t, "{\"a\":\"", 6);
    memset(t + 6, 'x', big);
    memcpy(t + 6 + big, "\"}", 3);
    check_bad_event(seed, m, ctx, t, strlen(t), "an event over 1 MiB", st);
    free(t);
    check_bad_event(seed, m, ctx, "[1]", 3, "an array", st);
    check_bad_event(seed, m, ctx, "\"s\"", 3, "a string", st);
    check_bad_event(seed, m, ctx, "{\"a\":1}x", 8, "trailing garbage", st);
    check_bad_event(seed, m, ctx, "{\"a\":\"\\ud800\"}", 13, "a lone surrogate",
                    st);
    check_bad_event(seed, m, ctx, "{\"a\":\"\xff\"}", 8, "invalid UTF-8", st);
    check_bad_event(seed, m, ctx, "", 0, "nothing", st);
}

/* Compare the engine's names with the reference over all rules. */
static void compare_event(uint64_t seed, const char *where, rule_t *rules,
                          size_t nrules, gnode_t **trees, size_t *tree_idx,
                          size_t ntrees, const bool *present, const event_t *ev,
                          const char *const *names, size_t count, stats_t *st,
                          bool count_stats) {
    bool *got = xmalloc(nrules * sizeof *got);
    memset(got, 0, nrules * sizeof *got);
    for (size_t i = 0; i < count; i++) {
        unsigned long idx = strtoul(names[i] + 1, NULL, 10);
        if (names[i][0] != 'r' || idx >= nrules || !present[idx] || got[idx]) {
            fprintf(stderr,
                    "seed=%llu (%s): bad or repeated rule name \"%s\" for "
                    "event %s\n",
                    (unsigned long long)seed, where, names[i], ev->text);
            g_total.disagreements++;
            continue;
        }
        got[idx] = true;
    }
    bool any = false;
    for (size_t i = 0; i < nrules; i++) {
        if (!present[i])
            continue;
        bool ref = evb_ref_match_prepared(rules[i].ref, ev->ref);
        any |= ref;
        if (count_stats) {
            st->pairs++;
            st->matches += ref;
        } else {
            st->removed_pairs++;
        }
        if (ref != got[i]) {
            size_t t = 0;
            for (size_t k = 0; k < ntrees; k++)
                if (tree_idx[k] == i)
                    t = k;
            report(seed, where, trees, ntrees, t, ev->tree, got[i], ref);
        }
    }
    if (count_stats)
        st->events_matching += any;
    free(got);
}

static void run_seed(uint64_t seed, size_t nrules_want, size_t nevents,
                     stats_t *st) {
    gen_t g;
    rseed(&g.r, seed);
    g.st = st;
    g.ors = 0;
    choose_theme(&g);
    char err[1024], buf[256];
    size_t nrules = nrules_want ? nrules_want : 50 + rnd(&g.r, 151);
    rule_t *rules = xmalloc(nrules * sizeof *rules);
    memset(rules, 0, nrules * sizeof *rules);
    size_t nvalid = 0;

    for (size_t i = 0; i < nrules; i++) {
        rule_t *r = &rules[i];
        const char *reason;
        r->tree = gen_pattern(&g, &reason, buf, sizeof buf);
        if (i > 0 && chance(&g.r, 3)) { /* the same pattern again */
            size_t j = rnd(&g.r, i);
            if (rules[j].valid) {
                g_free(r->tree);
                r->tree = g_copy(rules[j].tree);
                reason = NULL;
                g.pad = false;
                st->same++;
            }
        }
        r->text = g_text(r->tree, (int)rnd(&g.r, 4));
        if (strlen(r->text) > 4000) {
            free(r->text);
            r->text = g_text(r->tree, 0);
        }
        size_t chars = 0, ascii = 1;
        for (const char *c = r->text; *c; c++) {
            chars += ((unsigned char)*c & 0xC0) != 0x80;
            ascii &= (unsigned char)*c < 0x80;
        }
        bool pad_valid = !reason && ascii && chars < 4096 && chance(&g.r, 2);
        if (g.pad || pad_valid) {
            /* blanks after the '{' up to 4097 characters (code points, so
             * also at least 4097 bytes or UTF-16 units), or exactly 4096
             * (ASCII only) which is still allowed */
            size_t len = strlen(r->text), target = g.pad ? 4097 : 4096;
            size_t add = chars < target ? target - chars : 1;
            char *t = xmalloc(len + add + 1);
            t[0] = '{';
            memset(t + 1, ' ', add);
            memcpy(t + 1 + add, r->text + 1, len);
            free(r->text);
            r->text = t;
            st->padded += pad_valid;
        } else if (chars > 4096) {
            /* a wide pattern that came out too long: not what we want */
            snprintf(r->name, sizeof r->name, "r%zu", i);
            st->too_long++;
            continue;
        }
        snprintf(r->name, sizeof r->name, "r%zu", i);
        st->patterns++;
        evb_err_t e = evb_pattern_validate(r->text, strlen(r->text), NULL, err,
                                           sizeof err);
        if (reason) {
            char want[512];
            snprintf(want, sizeof want,
                     "Event pattern is not valid. Reason: %s", reason);
            st->injected++;
            if (e == EVB_ERR_INVALID_EVENT_PATTERN && strcmp(err, want) == 0) {
                st->injected_ok++;
            } else {
                st->validation_mismatches++;
                if (st->validation_mismatches <= 5)
                    fprintf(stderr,
                            "VALIDATION seed=%llu: pattern %s\n  expected: "
                            "%s\n  engine:   %s\n",
                            (unsigned long long)seed, r->text, want,
                            e == EVB_ERR_OK ? "(accepted)" : err);
            }
            continue;
        }
        if (e != EVB_ERR_OK) {
            st->rejected++;
            if (st->rejected <= 5)
                fprintf(stderr, "REJECTED seed=%llu: pattern %s\n  %s\n",
                        (unsigned long long)seed, r->text, err);
            continue;
        }
        r->json = g_json(r->tree, false);
        /* the emitter and the tree agree (escapes, spellings) */
        json_t *parsed = evb_ref_loads(r->text);
        if (!parsed || !json_equal(parsed, r->json)) {
            fprintf(stderr, "generator bug: %s does not parse back\n", r->text);
            fail();
        }
        json_decref(parsed);
        r->ref = evb_ref_pattern_new(r->json);
        r->valid = true;
        nvalid++;
    }

    /* Load: half in one evb_ruleset_add_many, the rest one by one. */
    evb_ruleset_t *rs = evb_ruleset_new(NULL);
    assert_non_null(rs);
    const char **names = xmalloc(nrules * sizeof *names);
    const char **texts = xmalloc(nrules * sizeof *texts);
    size_t *lens = xmalloc(nrules * sizeof *lens);
    gnode_t **trees = xmalloc(nrules * sizeof *trees);
    size_t *tree_idx = xmalloc(nrules * sizeof *tree_idx);
    bool *present = xmalloc(nrules * sizeof *present);
    size_t nbulk = 0, ntrees = 0;
    for (size_t i = 0; i < nrules; i++) {
        present[i] = rules[i].valid;
        if (!rules[i].valid)
            continue;
        trees[ntrees] = rules[i].tree;
        tree_idx[ntrees++] = i;
        if (nbulk < nvalid / 2) {
            names[nbulk] = rules[i].name;
            texts[nbulk] = rules[i].text;
            lens[nbulk++] = strlen(rules[i].text);
        }
    }
    assert_int_equal(
        evb_ruleset_add_many(rs, nbulk, names, texts, lens, err, sizeof err),
        EVB_ERR_OK);
    size_t seen = 0;
    for (size_t i = 0; i < nrules; i++) {
        if (!rules[i].valid || seen++ < nbulk)
            continue;
        evb_err_t e = evb_ruleset_add(rs, rules[i].name, rules[i].text,
                                      strlen(rules[i].text), err, sizeof err);
        if (e != EVB_ERR_OK)
            fprintf(stderr, "evb_ruleset_add %s: %s\n", rules[i].text, err);
        assert_int_equal(e, EVB_ERR_OK);
    }
    evb_matcher_t *m = evb_ruleset_acquire(rs);
    assert_non_null(m);
    assert_int_equal(evb_matcher_rule_count(m), nvalid);
    evb_match_ctx_t *ctx = evb_match_ctx_new();
    assert_non_null(ctx);

    event_t *events = xmalloc(nevents * sizeof *events);
    for (size_t k = 0; k < nevents; k++) {
        event_t *ev = &events[k];
        if (ntrees && chance(&g.r, 40)) {
            ev->tree = gen_event_for(&g, trees[rnd(&g.r, ntrees)]);
            st->guided++;
        } else if (chance(&g.r, g.puzzles)) {
            ev->tree = gen_cevent(&g);
            if (chance(&g.r, 50)) { /* with some ordinary members too */
                gnode_t *o = gen_eobj(&g, 0);
                for (size_t j = 0; j < o->n; j++)
                    if (!g_get(ev->tree, o->keys[j]))
                        g_add(ev->tree, o->keys[j], g_copy(o->kids[j]));
                g_free(o);
            }
        } else {
            ev->tree = gen_eobj(&g, 0);
        }
        ev->text = g_text(ev->tree, (int)rnd(&g.r, 4));
        ev->json = g_json(ev->tree, true);
        ev->ref = evb_ref_event_new(ev->json);
        st->events++;

        const char *const *got;
        size_t count;
        evb_err_t e = evb_matcher_match(m, ctx, ev->text, strlen(ev->text),
                                        &got, &count, err, sizeof err);
        if (e != EVB_ERR_OK) {
            fprintf(stderr, "seed=%llu: evb_matcher_match failed on %s: %s\n",
                    (unsigned long long)seed, ev->text, err);
            g_total.disagreements++;
            continue;
        }
        compare_event(seed, "matcher", rules, nrules, trees, tree_idx, ntrees,
                      present, ev, got, count, st, true);
        if (chance(&g.r, 3)) { /* cut short: never valid */
            size_t len = strlen(ev->text);
            check_bad_event(seed, m, ctx, ev->text, rnd(&g.r, len),
                            "a truncated event", st);
        }

        /* a sample through evb_pattern_test and evb_pattern_explain */
        for (int s = 0; s < 3 && ntrees; s++) {
            size_t t = rnd(&g.r, ntrees);
            rule_t *r = &rules[tree_idx[t]];
            bool ref = evb_ref_match_prepared(r->ref, ev->ref), eng = false;
            e = evb_pattern_test(r->text, strlen(r->text), ev->text,
                                 strlen(ev->text), NULL, &eng, err, sizeof err);
            st->tests++;
            if (e != EVB_ERR_OK) {
                fprintf(stderr, "seed=%llu: evb_pattern_test failed: %s\n",
                        (unsigned long long)seed, err);
                g_total.disagreements++;
            } else if (eng != ref) {
                report(seed, "evb_pattern_test", trees, ntrees, t, ev->tree,
                       eng, ref);
            }
            if (s == 0) {
                char explain[1024];
                bool em = false;
                e = evb_pattern_explain(r->text, strlen(r->text), ev->text,
                                        strlen(ev->text), NULL, &em, explain,
                                        sizeof explain, err, sizeof err);
                st->explains++;
                if ((e != EVB_ERR_OK || em != ref ||
                     (explain[0] == '\0') != em) &&
                    ++g_reports <= g_max_reports) {
                    char *pt = g_text(r->tree, 0), *et = g_text(ev->tree, 0);
                    fprintf(stderr,
                            "seed=%llu: evb_pattern_explain: rc=%d matched=%d "
                            "(reference %d) explain=\"%s\"\n  pattern %s\n  "
                            "event %s\n",
                            (unsigned long long)seed, (int)e, em, ref,
                            e == EVB_ERR_OK ? explain : err, pt, et);
                    free(pt);
                    free(et);
                }
                if (e != EVB_ERR_OK || em != ref || (explain[0] == '\0') != em)
                    g_total.disagreements++;
            }
        }
    }

    check_limits(seed, m, ctx, st);

    /* Remove every third rule; the old matcher must still answer for the
     * old set, the new one for the new set. */
    assert_int_equal(evb_ruleset_remove(rs, "no-such-rule"), EVB_ERR_NOT_FOUND);
    bool *kept = xmalloc(nrules * sizeof *kept);
    size_t nkept = 0;
    for (size_t i = 0; i < nrules; i++) {
        kept[i] = present[i];
        if (present[i] && i % 3 == 0) {
            assert_int_equal(evb_ruleset_remove(rs, rules[i].name), EVB_ERR_OK);
            kept[i] = false;
        }
        nkept += kept[i];
    }
    evb_matcher_t *m2 = evb_ruleset_acquire(rs);
    assert_int_equal(evb_matcher_rule_count(m2), nkept);
    gnode_t **ktrees = xmalloc(nrules * sizeof *ktrees);
    size_t *kidx = xmalloc(nrules * sizeof *kidx);
    size_t nk = 0;
    for (size_t i = 0; i < nrules; i++)
        if (kept[i]) {
            ktrees[nk] = rules[i].tree;
            kidx[nk++] = i;
        }
    for (size_t k = 0; k < nevents && k < 40; k++) {
        const char *const *got;
        size_t count;
        evb_matcher_t *mm = k % 8 == 7 ? m : m2; /* now and then the old one */
        evb_err_t e =
            evb_matcher_match(mm, ctx, events[k].text, strlen(events[k].text),
                              &got, &count, err, sizeof err);
        assert_int_equal(e, EVB_ERR_OK);
        if (mm == m)
            compare_event(seed, "matcher before removal", rules, nrules, trees,
                          tree_idx, ntrees, present, &events[k], got, count, st,
                          false);
        else
            compare_event(seed, "matcher after removal", rules, nrules, ktrees,
                          kidx, nk, kept, &events[k], got, count, st, false);
    }

    /* Replace some rules (same name, new pattern). */
    for (size_t i = 0; i < nrules; i++) {
        if (!kept[i] || i % 5 != 1)
            continue;
        rule_t *r = &rules[i];
        const char *reason;
        gnode_t *t;
        char *text;
        do {
            t = gen_pattern(&g, &reason, buf, sizeof buf);
            text = g_text(t, 0);
            if (!reason && !g.pad && strlen(text) <= 4096 && pattern_ok(text))
                break;
            g_free(t);
            free(text);
        } while (1);
        evb_err_t e =
            evb_ruleset_add(rs, r->name, text, strlen(text), err, sizeof err);
        assert_int_equal(e, EVB_ERR_OK);
        g_free(r->tree);
        free(r->text);
        json_decref(r->json);
        evb_ref_pattern_free(r->ref);
        r->tree = t;
        r->text = text;
        r->json = g_json(t, false);
        r->ref = evb_ref_pattern_new(r->json);
        st->replaced++;
    }
    nk = 0;
    for (size_t i = 0; i < nrules; i++)
        if (kept[i]) {
            ktrees[nk] = rules[i].tree;
            kidx[nk++] = i;
        }
    evb_matcher_t *m3 = evb_ruleset_acquire(rs);
    assert_int_equal(evb_matcher_rule_count(m3), nkept);
    for (size_t k = 40; k < nevents && k < 80; k++) {
        const char *const *got;
        size_t count;
        evb_err_t e =
            evb_matcher_match(m3, ctx, events[k].text, strlen(events[k].text),
                              &got, &count, err, sizeof err);
        assert_int_equal(e, EVB_ERR_OK);
        compare_event(seed, "matcher after replacement", rules, nrules, ktrees,
                      kidx, nk, kept, &events[k], got, count, st, false);
    }

    evb_matcher_unref(m3);
    evb_matcher_unref(m2);
    evb_matcher_unref(m);
    evb_match_ctx_free(ctx);
    evb_ruleset_free(rs);
    for (size_t k = 0; k < nevents; k++) {
        g_free(events[k].tree);
        free(events[k].text);
        json_decref(events[k].json);
        evb_ref_event_free(events[k].ref);
    }
    free(events);
    for (size_t i = 0; i < nrules; i++) {
        g_free(rules[i].tree);
        free(rules[i].text);
        json_decref(rules[i].json);
        evb_ref_pattern_free(rules[i].ref);
    }
    free(rules);
    free(names);
    free(texts);
    free(lens);
    free(trees);
    free(tree_idx);
    free(present);
    free(kept);
    free(ktrees);
    free(kidx);
    st->seeds++;
}

static void add_stats(stats_t *to, const stats_t *from) {
    unsigned long *a = (unsigned long *)to;
    const unsigned long *b = (const unsigned long *)from;
    size_t n = offsetof(stats_t, ns) / sizeof(unsigned long);
    for (size_t i = 0; i < n; i++)
        a[i] += b[i];
    to->ns += from->ns;
}

/* Each cmocka test runs one quarter of the seeds. */
static void run_quarter(int q) {
    unsigned long nseeds = env_ul("EVB_DIFF_SEEDS", 24);
    unsigned long seed0 = env_ul("EVB_DIFF_SEED0", 1);
    size_t nevents = env_ul("EVB_DIFF_EVENTS", 200);
    g_max_reports = env_ul("EVB_DIFF_MAX_REPORTS", 5);
    stats_t st;
    memset(&st, 0, sizeof st);
    unsigned long before = g_total.disagreements;
    uint64_t t0 = evb_now_ns();
    for (unsigned long s = (unsigned long)q; s < nseeds; s += 4)
        run_seed(seed0 + s, 0, nevents, &st);
    st.ns = evb_now_ns() - t0;
    unsigned long dis = g_total.disagreements - before;
    printf("  seeds %lu: %lu patterns (%lu rejected, %lu/%lu bad ones "
           "rejected correctly), %lu events, %lu pairs, %.1f%% matching, "
           "%lu disagreements, %.2fs\n",
           st.seeds, st.patterns, st.rejected, st.injected_ok, st.injected,
           st.events, st.pairs, st.pairs ? 100.0 * st.matches / st.pairs : 0.0,
           dis, st.ns / 1e9);
    add_stats(&g_total, &st);
    assert_int_equal(dis, 0);
    assert_int_equal(st.validation_mismatches, 0);
    /* the generator aims at valid patterns */
    assert_true(st.rejected * 20 <= st.patterns);
}

static void test_seeds_q0(void **state) {
    (void)state;
    run_quarter(0);
}
static void test_seeds_q1(void **state) {
    (void)state;
    run_quarter(1);
}
static void test_seeds_q2(void **state) {
    (void)state;
    run_quarter(2);
}
static void test_seeds_q3(void **state) {
    (void)state;
    run_quarter(3);
}

/* One big rule set (shared structure across many rules). */
static void test_big_ruleset(void **state) {
    (void)state;
    unsigned long seed0 = env_ul("EVB_DIFF_SEED0", 1);
    stats_t st;
    memset(&st, 0, sizeof st);
    unsigned long before = g_total.disagreements;
    uint64_t t0 = evb_now_ns();
    run_seed(1000000 + seed0, 1500, 100, &st);
    st.ns = evb_now_ns() - t0;
    unsigned long dis = g_total.disagreements - before;
    printf("  big rule set: %lu patterns (%lu rejected), %lu events, %lu "
           "pairs, %.1f%% matching, %lu disagreements, %.2fs\n",
           st.patterns, st.rejected, st.events, st.pairs,
           st.pairs ? 100.0 * st.matches / st.pairs : 0.0, dis, st.ns / 1e9);
    add_stats(&g_total, &st);
    assert_int_equal(dis, 0);
    assert_int_equal(st.validation_mismatches, 0);
}

static int summary(void **state) {
    (void)state;
    stats_t *t = &g_total;
    printf("differential: %lu seeds, %lu patterns (%lu valid, %lu rejected, "
           "%lu injected errors of which %lu rejected with the right "
           "message; %lu regenerated for a repeated field), %lu events (%lu "
           "guided at one rule), %lu rule/event pairs + %lu after removal, "
           "match rate %.1f%% of "
           "pairs, %.1f%% of events match some rule, %lu evb_pattern_test "
           "and %lu explain samples, %lu disagreements, %lu validation "
           "mismatches; %lu patterns replaced, %lu skipped as too long, "
           "%lu valid ones padded to 4096 characters, %lu repeated; %lu "
           "invalid events refused; %.2fs\n",
           t->seeds, t->patterns, t->patterns - t->rejected - t->injected,
           t->rejected, t->injected, t->injected_ok, t->invalid_dups, t->events,
           t->guided, t->pairs, t->removed_pairs,
           t->pairs ? 100.0 * t->matches / t->pairs : 0.0,
           t->events ? 100.0 * t->events_matching / t->events : 0.0, t->tests,
           t->explains, t->disagreements, t->validation_mismatches, t->replaced,
           t->too_long, t->padded, t->same, t->bad_events, t->ns / 1e9);
    printf("generated operators:");
    for (int k = 0; k < K__N; k++)
        printf(" %s=%lu", KIND_NAMES[k], t->kind[k]);
    printf("\n");
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeds_q0),    cmocka_unit_test(test_seeds_q1),
        cmocka_unit_test(test_seeds_q2),    cmocka_unit_test(test_seeds_q3),
        cmocka_unit_test(test_big_ruleset),
    };
    return cmocka_run_group_tests(tests, NULL, summary);
}
