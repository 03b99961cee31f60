/*
 * metrics.c: the registry, its series tables and the text exposition
 * (metrics.h).
 *
 * Lookup without a lock: a family's series are found through an
 * open-addressing table of atomic pointers (linear probing, at most half
 * full). A reader loads the table pointer and probes; a writer (holding
 * the family's mutex) fills an empty slot with a release store, or, when
 * the table would pass half full, builds a table twice the size and
 * publishes it. Replaced tables are kept (on a list) until the family is
 * freed, so a reader still probing one is never left with freed memory;
 * they add up to less than the live table. Series never move and are
 * never freed before the registry.
 *
 * Values: a counter is EVB_METRICS_STRIPES atomic 64-bit integers, each on
 * its own cache line; a thread adds to the stripe it was given on its
 * first update. A histogram stripe is its bucket counts (the bucket of
 * the observation only, made cumulative when rendered), the count and the
 * sum (a double updated by compare-and-swap on its bits). A gauge is one
 * double, likewise. Exposition reads the stripes with relaxed loads: a
 * scrape that races an update may see a histogram whose count and
 * buckets differ by the observations in flight, which Prometheus
 * tolerates.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define CACHE_LINE 64

typedef struct table {
    size_t cap; /* a power of two */
    struct table *retired_next;
    _Atomic(evb_metric_t *) slots[];
} table_t;

struct evb_metric {
    evb_metric_family_t *fam;
    evb_metric_t *next; /* creation order */
    uint64_t hash;
    const char *values[EVB_METRICS_MAX_LABELS];
    char *strings;          /* the values' storage */
    _Atomic uint64_t gauge; /* bits of a double */
    size_t stride;          /* bytes per stripe (counters, histograms) */
    unsigned char *stripes; /* CACHE_LINE-aligned */
};

struct evb_metric_family {
    evb_metrics_t *reg;
    evb_metric_family_t *next;
    evb_metric_type_t type;
    char *name, *help;
    size_t nlabels;
    char *labels[EVB_METRICS_MAX_LABELS];
    size_t nbuckets;
    double buckets[EVB_METRICS_MAX_BUCKETS];

    _Atomic(table_t *) table;
    pthread_mutex_t mu; /* guards creation: table writes, the list, n */
    table_t *retired;
    evb_metric_t *first, *last;
    size_t n;
    evb_metric_t *overflow;
};

typedef struct collector {
    evb_metrics_collect_fn fn;
    void *ud;
    struct collector *next;
} collector_t;

struct evb_metrics {
    pthread_mutex_t mu; /* guards the family list */
    evb_metric_family_t *first, *last;
    pthread_mutex_t collect_mu; /* guards collectors and their calls */
    collector_t *collectors;
};

/* ---- registry ------------------------------------------------------------ */

evb_metrics_t *evb_metrics_new(void) {
    evb_metrics_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->collect_mu, NULL);
    return r;
}

static void series_free(evb_metric_t *m) {
    free(m->strings);
    free(m->stripes);
    free(m);
}

static void family_free(evb_metric_family_t *f) {
    for (evb_metric_t *m = f->first; m;) {
        evb_metric_t *next = m->next;
        series_free(m);
        m = next;
    }
    if (f->overflow)
        series_free(f->overflow);
    free(atomic_load(&f->table));
    for (table_t *t = f->retired; t;) {
        table_t *next = t->retired_next;
        free(t);
        t = next;
    }
    for (size_t i = 0; i < f->nlabels; i++)
        free(f->labels[i]);
    free(f->name);
    free(f->help);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

void evb_metrics_free(evb_metrics_t *r) {
    if (!r)
        return;
    for (evb_metric_family_t *f = r->first; f;) {
        evb_metric_family_t *next = f->next;
        family_free(f);
        f = next;
    }
    for (collector_t *c = r->collectors; c;) {
        collector_t *next = c->next;
        free(c);
        c = next;
    }
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->collect_mu);
    free(r);
}

static evb_metrics_t *default_registry;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void) {
    default_registry = evb_metrics_new();
}

evb_metrics_t *evb_metrics_default(void) {
    pthread_once(&default_once, default_init);
    return default_registry;
}

static bool valid_name(const char *s, bool colon) {
    if (!s || !*s)
        return false;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '_' || (colon && c == ':') ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static char *dup(const char *s) {
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static table_t *table_new(size_t cap) {
    table_t *t = calloc(1, sizeof *t + cap * sizeof(t->slots[0]));
    if (t)
        t->cap = cap;
    return t;
}

/* Do f's type and labels equal these? */
static bool family_same(const evb_metric_family_t *f, evb_metric_type_t type,
                        const char *const *labels, size_t nlabels) {
    if (f->type != type || f->nlabels != nlabels)
        return false;
    for (size_t i = 0; i < nlabels; i++)
        if (strcmp(f->labels[i], labels[i]) != 0)
            return false;
    return true;
}

evb_metric_family_t *
evb_metrics_family(evb_metrics_t *r, evb_metric_type_t type, const char *name,
                   const char *help, const char *const *labels,
                   const double *buckets, size_t nbuckets) {
    if (!r || !valid_name(name, true))
        return NULL;
    size_t nlabels = 0;
    while (labels && labels[nlabels]) {
        if (nlabels == EVB_METRICS_MAX_LABELS ||
            !valid_name(labels[nlabels], false) ||
            strncmp(labels[nlabels], "__", 2) == 0 ||
            (type == EVB_METRIC_HISTOGRAM &&
             strcmp(labels[nlabels], "le") == 0))
            return NULL;
        nlabels++;
    }
    if (type == EVB_METRIC_HISTOGRAM) {
        if (nbuckets > EVB_METRICS_MAX_BUCKETS || (nbuckets && !buckets))
            return NULL;
        for (size_t i = 0; i < nbuckets; i++)
            if (isnan(buckets[i]) || (i && buckets[i] <= buckets[i - 1]))
                return NULL;
    } else {
        nbuckets = 0;
    }

    pthread_mutex_lock(&r->mu);
    for (evb_metric_family_t *f = r->first; f; f = f->next)
        if (strcmp(f->name, name) == 0) {
            pthread_mutex_unlock(&r->mu);
            return family_same(f, type, labels, nlabels) ? f : NULL;
        }
    evb_metric_family_t *f = calloc(1, sizeof *f);
    bool ok = f && (f->name = dup(name)) && (f->help = dup(help ? help : ""));
    for (size_t i = 0; ok && i < nlabels; i++)
        ok = (f->labels[i] = dup(labels[i])) != NULL;
    table_t *t = ok ? table_new(16) : NULL;
    if (!t) {
        if (f) {
            for (size_t i = 0; i < nlabels; i++)
                free(f->labels[i]);
            free(f->name);
            free(f->help);
            free(f);
        }
        pthread_mutex_unlock(&r->mu);
        return NULL;
    }
    f->reg = r;
    f->type = type;
    f->nlabels = nlabels;
    f->nbuckets = nbuckets;
    if (nbuckets)
        memcpy(f->buckets, buckets, nbuckets * sizeof *buckets);
    atomic_init(&f->table, t);
    pthread_mutex_init(&f->mu, NULL);
    if (r->last)
        r->last->next = f;
    else
        r->first = f;
    r->last = f;
    pthread_mutex_unlock(&r->mu);
    return f;
}

/* ---- series -------------------------------------------------------------- */

static uint64_t hash_values(const evb_metric_family_t *f,
                            const char *const *values) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < f->nlabels; i++) {
        const char *v = values[i] ? values[i] : "";
        for (; *v; v++) {
            h ^= (unsigned char)*v;
            h *= 1099511628211ull;
        }
        h ^= 0xff; /* separator: ("ab","") differs from ("a","b") */
        h *= 1099511628211ull;
    }
    return h;
}

static bool values_equal(const evb_metric_t *m, const char *const *values) {
    for (size_t i = 0; i < m->fam->nlabels; i++)
        if (strcmp(m->values[i], values[i] ? values[i] : "") != 0)
            return false;
    return true;
}

static evb_metric_t *table_find(table_t *t, uint64_t hash,
                                const char *const *values) {
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        evb_metric_t *m =
            atomic_load_explicit(&t->slots[i], memory_order_acquire);
        if (!m)
            return NULL;
        if (m->hash == hash && values_equal(m, values))
            return m;
    }
}

static void table_put(table_t *t, evb_metric_t *m) {
    size_t mask = t->cap - 1;
    size_t i = (size_t)m->hash & mask;
    while (atomic_load_explicit(&t->slots[i], memory_order_relaxed))
        i = (i + 1) & mask;
    atomic_store_explicit(&t->slots[i], m, memory_order_release);
}

/* Bytes of one stripe of a series of family f, a multiple of the cache
 * line. */
static size_t stripe_size(const evb_metric_family_t *f) {
    size_t words = f->type == EVB_METRIC_HISTOGRAM ? f->nbuckets + 3 : 1;
    size_t bytes = words * sizeof(uint64_t);
    return (bytes + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
}

static evb_metric_t *series_new(evb_metric_family_t *f, uint64_t hash,
                                const char *const *values) {
    evb_metric_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->fam = f;
    m->hash = hash;
    size_t total = 1;
    for (size_t i = 0; i < f->nlabels; i++)
        total += strlen(values[i] ? values[i] : "") + 1;
    m->strings = malloc(total);
    if (!m->strings) {
        free(m);
        return NULL;
    }
    char *p = m->strings;
    for (size_t i = 0; i < f->nlabels; i++) {
        const char *v = values[i] ? values[i] : "";
        size_t n = strlen(v) + 1;
        memcpy(p, v, n);
        m->values[i] = p;
        p += n;
    }
    atomic_init(&m->gauge, 0);
    if (f->type != EVB_METRIC_GAUGE) {
        m->stride = stripe_size(f);
        m->stripes = aligned_alloc(CACHE_LINE, m->stride * EVB_METRICS_STRIPES);
        if (!m->stripes) {
            series_free(m);
            return NULL;
        }
        memset(m->stripes, 0, m->stride * EVB_METRICS_STRIPES);
    }
    return m;
}

evb_metric_t *evb_metric_series(evb_metric_family_t *f,
                                const char *const *values) {
    if (!f)
        return NULL;
    static const char *const none[1] = {NULL};
    if (!values)
        values = none;
    uint64_t hash = hash_values(f, values);
    evb_metric_t *m = table_find(
        atomic_load_explicit(&f->table, memory_order_acquire), hash, values);
    if (EVB_LIKELY(m != NULL))
        return m;

    pthread_mutex_lock(&f->mu);
    table_t *t = atomic_load_explicit(&f->table, memory_order_relaxed);
    m = table_find(t, hash, values);
    if (m)
        goto out;
    if (f->n >= EVB_METRICS_MAX_SERIES) {
        if (!f->overflow) {
            const char *ov[EVB_METRICS_MAX_LABELS];
            for (size_t i = 0; i < f->nlabels; i++)
                ov[i] = EVB_METRICS_OVERFLOW;
            f->overflow = series_new(f, hash_values(f, ov), ov);
        }
        m = f->overflow;
        goto out;
    }
    if ((f->n + 1) * 2 > t->cap) {
        table_t *bigger = table_new(t->cap * 2);
        if (!bigger)
            goto out; /* m stays NULL */
        for (evb_metric_t *s = f->first; s; s = s->next)
            table_put(bigger, s);
        atomic_store_explicit(&f->table, bigger, memory_order_release);
        t->retired_next = f->retired;
        f->retired = t;
        t = bigger;
    }
    m = series_new(f, hash, values);
    if (!m)
        goto out;
    table_put(t, m);
    if (f->last)
        f->last->next = m;
    else
        f->first = m;
    f->last = m;
    f->n++;
out:
    pthread_mutex_unlock(&f->mu);
    return m;
}

evb_metric_t *evb_metric_series0(evb_metric_family_t *f) {
    return evb_metric_series(f, NULL);
}

evb_metric_t *evb_metric_series1(evb_metric_family_t *f, const char *v1) {
    const char *v[1] = {v1};
    return evb_metric_series(f, v);
}

evb_metric_t *evb_metric_series2(evb_metric_family_t *f, const char *v1,
                                 const char *v2) {
    const char *v[2] = {v1, v2};
    return evb_metric_series(f, v);
}

evb_metric_t *evb_metric_series3(evb_metric_family_t *f, const char *v1,
                                 const char *v2, const char *v3) {
    const char *v[3] = {v1, v2, v3};
    return evb_metric_series(f, v);
}

/* ---- updates ------------------------------------------------------------- */

static _Thread_local unsigned my_stripe = ~0u;
static atomic_uint next_stripe;

static unsigned stripe(void) {
    if (EVB_UNLIKELY(my_stripe == ~0u))
        my_stripe =
            atomic_fetch_add_explicit(&next_stripe, 1, memory_order_relaxed) %
            EVB_METRICS_STRIPES;
    return my_stripe;
}

/* Word i of stripe s. */
static _Atomic uint64_t *word(const evb_metric_t *m, unsigned s, size_t i) {
    return (_Atomic uint64_t *)(void *)(m->stripes + (size_t)s * m->stride) + i;
}

static uint64_t dbits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double bitsd(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static void add_double(_Atomic uint64_t *w, double delta) {
    uint64_t old = atomic_load_explicit(w, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(
        w, &old, dbits(bitsd(old) + delta), memory_order_relaxed,
        memory_order_relaxed))
        ;
}

void evb_metric_inc(evb_metric_t *m, uint64_t n) {
    if (!m || m->fam->type != EVB_METRIC_COUNTER)
        return;
    atomic_fetch_add_explicit(word(m, stripe(), 0), n, memory_order_relaxed);
}

void evb_metric_set(evb_metric_t *m, double v) {
    if (!m || m->fam->type != EVB_METRIC_GAUGE)
        return;
    atomic_store_explicit(&m->gauge, dbits(v), memory_order_relaxed);
}

void evb_metric_add(evb_metric_t *m, double delta) {
    if (!m || m->fam->type != EVB_METRIC_GAUGE)
        return;
    add_double(&m->gauge, delta);
}

/* Histogram stripe layout: words 0..nbuckets are the per-bucket counts
 * (the last one: above every bound), then the count, then the sum. */
void evb_metric_observe(evb_metric_t *m, double v) {
    if (!m || m->fam->type != EVB_METRIC_HISTOGRAM || isnan(v))
        return;
    const evb_metric_family_t *f = m->fam;
    size_t b = 0;
    while (b < f->nbuckets && v > f->buckets[b])
        b++;
    unsigned s = stripe();
    atomic_fetch_add_explicit(word(m, s, b), 1, memory_order_relaxed);
    atomic_fetch_add_explicit(word(m, s, f->nbuckets + 1), 1,
                              memory_order_relaxed);
    add_double(word(m, s, f->nbuckets + 2), v);
}

static uint64_t sum_word(const evb_metric_t *m, size_t i) {
    uint64_t n = 0;
    for (unsigned s = 0; s < EVB_METRICS_STRIPES; s++)
        n += atomic_load_explicit(word(m, s, i), memory_order_relaxed);
    return n;
}

static double sum_double(const evb_metric_t *m, size_t i) {
    double d = 0;
    for (unsigned s = 0; s < EVB_METRICS_STRIPES; s++)
        d += bitsd(atomic_load_explicit(word(m, s, i), memory_order_relaxed));
    return d;
}

uint64_t evb_metric_count(const evb_metric_t *m) {
    if (!m)
        return 0;
    switch (m->fam->type) {
    case EVB_METRIC_COUNTER: return sum_word(m, 0);
    case EVB_METRIC_HISTOGRAM: return sum_word(m, m->fam->nbuckets + 1);
    default: return 0;
    }
}

double evb_metric_value(const evb_metric_t *m) {
    if (!m)
        return 0;
    switch (m->fam->type) {
    case EVB_METRIC_COUNTER: return (double)sum_word(m, 0);
    case EVB_METRIC_HISTOGRAM: return sum_double(m, m->fam->nbuckets + 2);
    default:
        return bitsd(atomic_load_explicit(&((evb_metric_t *)m)->gauge,
                                          memory_order_relaxed));
    }
}

uint64_t evb_metric_bucket(const evb_metric_t *m, size_t i) {
    if (!m || m->fam->type != EVB_METRIC_HISTOGRAM || i > m->fam->nbuckets)
        return 0;
    uint64_t n = 0;
    for (size_t b = 0; b <= i; b++)
        n += sum_word(m, b);
    return n;
}

/* ---- collectors ---------------------------------------------------------- */

evb_err_t evb_metrics_add_collector(evb_metrics_t *r, evb_metrics_collect_fn fn,
                                    void *ud) {
    if (!r)
        return EVB_ERR_NOMEM;
    collector_t *c = malloc(sizeof *c);
    if (!c)
        return EVB_ERR_NOMEM;
    c->fn = fn;
    c->ud = ud;
    pthread_mutex_lock(&r->collect_mu);
    c->next = r->collectors;
    r->collectors = c;
    pthread_mutex_unlock(&r->collect_mu);
    return EVB_ERR_OK;
}

void evb_metrics_remove_collector(evb_metrics_t *r, evb_metrics_collect_fn fn,
                                  void *ud) {
    if (!r)
        return;
    pthread_mutex_lock(&r->collect_mu);
    for (collector_t **p = &r->collectors; *p; p = &(*p)->next)
        if ((*p)->fn == fn && (*p)->ud == ud) {
            collector_t *c = *p;
            *p = c->next;
            free(c);
            break;
        }
    pthread_mutex_unlock(&r->collect_mu);
}

/* ---- exposition ---------------------------------------------------------- */

/* A double in the exposition format: shortest text that reads back the
 * same, "+Inf", "-Inf", "NaN". */
static evb_err_t put_double(evb_buf_t *out, double v) {
    if (isnan(v))
        return evb_buf_append(out, "NaN", 3);
    if (isinf(v))
        return v > 0 ? evb_buf_append(out, "+Inf", 4)
                     : evb_buf_append(out, "-Inf", 4);
    char s[40];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, v);
        if (strtod(s, NULL) == v)
            break;
    }
    return evb_buf_append(out, s, strlen(s));
}

/* Escape for HELP (backslash, newline) or, with quote, a label value
 * (also the double quote). */
static evb_err_t put_escaped(evb_buf_t *out, const char *s, bool quote) {
    evb_err_t err = EVB_ERR_OK;
    const char *run = s;
    for (; !err && *s; s++) {
        const char *esc = *s == '\\'           ? "\\\\"
                          : *s == '\n'         ? "\\n"
                          : quote && *s == '"' ? "\\\""
                                               : NULL;
        if (!esc)
            continue;
        err = evb_buf_append(out, run, (size_t)(s - run));
        if (!err)
            err = evb_buf_append(out, esc, 2);
        run = s + 1;
    }
    if (!err)
        err = evb_buf_append(out, run, (size_t)(s - run));
    return err;
}

/* name{labels[,le="bound"]} with the series' label values. */
static evb_err_t put_series_name(evb_buf_t *out, const evb_metric_family_t *f,
                                 const evb_metric_t *m, const char *suffix,
                                 const double *le) {
    evb_err_t err = evb_buf_append(out, f->name, strlen(f->name));
    if (!err && suffix)
        err = evb_buf_append(out, suffix, strlen(suffix));
    if (err || (f->nlabels == 0 && !le))
        return err;
    err = evb_buf_putc(out, '{');
    for (size_t i = 0; !err && i < f->nlabels; i++) {
        if (i)
            err = evb_buf_putc(out, ',');
        if (!err)
            err = evb_buf_appendf(out, "%s=\"", f->labels[i]);
        if (!err)
            err = put_escaped(out, m->values[i], true);
        if (!err)
            err = evb_buf_putc(out, '"');
    }
    if (!err && le) {
        if (f->nlabels)
            err = evb_buf_putc(out, ',');
        if (!err)
            err = evb_buf_append(out, "le=\"", 4);
        if (!err)
            err = put_double(out, *le);
        if (!err)
            err = evb_buf_putc(out, '"');
    }
    if (!err)
        err = evb_buf_putc(out, '}');
    return err;
}

static evb_err_t render_series(evb_buf_t *out, const evb_metric_family_t *f,
                               const evb_metric_t *m) {
    evb_err_t err;
    switch (f->type) {
    case EVB_METRIC_COUNTER:
        err = put_series_name(out, f, m, NULL, NULL);
        return err ? err
                   : evb_buf_appendf(out, " %llu\n",
                                     (unsigned long long)sum_word(m, 0));
    case EVB_METRIC_GAUGE:
        err = put_series_name(out, f, m, NULL, NULL);
        if (!err)
            err = evb_buf_putc(out, ' ');
        if (!err)
            err = put_double(out, evb_metric_value(m));
        return err ? err : evb_buf_putc(out, '\n');
    case EVB_METRIC_HISTOGRAM: {
        uint64_t cum = 0;
        err = EVB_ERR_OK;
        for (size_t b = 0; !err && b <= f->nbuckets; b++) {
            cum += sum_word(m, b);
            double le = b < f->nbuckets ? f->buckets[b] : INFINITY;
            err = put_series_name(out, f, m, "_bucket", &le);
            if (!err)
                err = evb_buf_appendf(out, " %llu\n", (unsigned long long)cum);
        }
        if (!err)
            err = put_series_name(out, f, m, "_sum", NULL);
        if (!err)
            err = evb_buf_putc(out, ' ');
        if (!err)
            err = put_double(out, sum_double(m, f->nbuckets + 2));
        if (!err)
            err = evb_buf_putc(out, '\n');
        if (!err)
            err = put_series_name(out, f, m, "_count", NULL);
        return err ? err
                   : evb_buf_appendf(out, " %llu\n", (unsigned long long)cum);
    }
    }
    return EVB_ERR_INTERNAL;
}

static const char *type_name(evb_metric_type_t t) {
    return t == EVB_METRIC_COUNTER ? "counter"
           : t == EVB_METRIC_GAUGE ? "gauge"
                                   : "histogram";
}

static evb_err_t render_family(evb_metric_family_t *f, evb_buf_t *out) {
    pthread_mutex_lock(&f->mu);
    evb_err_t err = EVB_ERR_OK;
    if (f->first) {
        err = evb_buf_appendf(out, "# HELP %s ", f->name);
        if (!err)
            err = put_escaped(out, f->help, false);
        if (!err)
            err = evb_buf_appendf(out, "\n# TYPE %s %s\n", f->name,
                                  type_name(f->type));
        for (const evb_metric_t *m = f->first; !err && m; m = m->next)
            err = render_series(out, f, m);
        if (!err && f->overflow)
            err = render_series(out, f, f->overflow);
    }
    pthread_mutex_unlock(&f->mu);
    return err;
}

evb_err_t evb_metrics_render(evb_metrics_t *r, evb_buf_t *out) {
    if (!r)
        return EVB_ERR_NOMEM;
    pthread_mutex_lock(&r->collect_mu);
    for (collector_t *c = r->collectors; c; c = c->next)
        c->fn(c->ud);
    pthread_mutex_unlock(&r->collect_mu);

    pthread_mutex_lock(&r->mu);
    evb_err_t err = EVB_ERR_OK;
    for (evb_metric_family_t *f = r->first; f && !err; f = f->next)
        err = render_family(f, out);
    pthread_mutex_unlock(&r->mu);
    return err;
}
