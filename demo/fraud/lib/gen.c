/*
 * gen.c: the transaction generator.
 *
 * Every card has an owner (one user per card, with the original demo's
 * SSN-shaped user id), a home city with a small jitter, and a typical
 * amount: normal charges are log-normal around it (sigma 0.5), made near
 * home. Live traffic is a Poisson process at cfg.rate; each arrival either
 * is a normal charge on a random idle card or, with probability
 * cfg.fraud_share, starts a scenario instance on an idle card, whose
 * charges are scheduled on a min-heap and interleaved with the normal
 * arrivals in timestamp order. A card stays busy for two minutes after its
 * scenario ends, so normal charges cannot blur what the instance shows.
 *
 * Before live traffic, the first cfg.seasoned_cards cards get cfg.history
 * charges spread over the previous day: the amount-spike scenario needs a
 * per-card baseline, and only seasoned cards are chosen for it.
 *
 * The parameters make false alarms rare by construction, which is what
 * lets the demo measure precision: with 20,000 cards at 20 charges/s a
 * card sees 0.06 charges a minute, so "more than 3 within 60 s" happens by
 * chance about once in 30,000 charges.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fraud.h"
#include "fraud_internal.h"

#define DAY_MS (24LL * 3600 * 1000)
#define BUSY_AFTER_MS (120LL * 1000)
#define AMOUNT_SIGMA 0.5

static const char *const first_names[] = {
    "Ana",   "Ben",   "Chloe", "Dev",  "Elena", "Farid", "Grace", "Hugo",
    "Ines",  "Jonas", "Kai",   "Lena", "Mateo", "Nora",  "Omar",  "Priya",
    "Quinn", "Rosa",  "Sven",  "Tara", "Umar",  "Vera",  "Wen",   "Yara"};
static const char *const last_names[] = {
    "Adams",  "Becker", "Costa",  "Dubois", "Evans",  "Fischer", "Garcia",
    "Haas",   "Ito",    "Jensen", "Kowal",  "Lopez",  "Moreau",  "Novak",
    "Okafor", "Petrov", "Rossi",  "Silva",  "Tanaka", "Varga",   "Weber"};
static const char *const streets[] = {
    "Market Street", "High Street", "Rue de Rivoli", "Hauptstrasse",
    "Calle Mayor",   "King Road",   "Elm Avenue",    "Harbour Lane"};
static const struct {
    const char *name, *category;
} merchants[] = {{"Corner Grocer", "grocery"},   {"Metro Fuel", "fuel"},
                 {"Bean There", "coffee"},       {"Pixel Store", "electronics"},
                 {"Northwind Books", "books"},   {"City Pharmacy", "pharmacy"},
                 {"Blue Plate Diner", "dining"}, {"Transit Pass", "transport"},
                 {"Style Loft", "apparel"},      {"Home Hardware", "hardware"}};
static const struct {
    const char *country;
    double lat, lon;
} cities[] = {{"US", 40.7128, -74.0060},  {"US", 34.0522, -118.2437},
              {"US", 41.8781, -87.6298},  {"CA", 43.6532, -79.3832},
              {"GB", 51.5074, -0.1278},   {"FR", 48.8566, 2.3522},
              {"DE", 52.5200, 13.4050},   {"ES", 40.4168, -3.7038},
              {"IT", 45.4642, 9.1900},    {"NL", 52.3676, 4.9041},
              {"SE", 59.3293, 18.0686},   {"PL", 52.2297, 21.0122},
              {"JP", 35.6762, 139.6503},  {"SG", 1.3521, 103.8198},
              {"AU", -33.8688, 151.2093}, {"BR", -23.5505, -46.6333},
              {"MX", 19.4326, -99.1332},  {"ZA", -26.2041, 28.0473},
              {"IN", 19.0760, 72.8777},   {"AE", 25.2048, 55.2708}};

#define COUNT(a) (sizeof(a) / sizeof *(a))

typedef struct card {
    char number[17];
    char user_id[12];
    uint8_t first, last, street, city;
    double lat, lon; /* home */
    double mu;       /* ln of the typical amount */
    int64_t busy_until;
} card_t;

typedef struct pending {
    fraud_txn_t txn;
    fraud_label_t label;
    uint64_t seq; /* ties keep scheduling order */
} pending_t;

struct fraud_gen {
    fraud_gen_config_t cfg;
    fraud_rng_t rng;
    card_t *cards;
    /* history: card index and charge index within it */
    unsigned hist_card, hist_i;
    int64_t *hist_times; /* cfg.history sorted offsets for hist_card */
    double next_normal_ms;
    pending_t *heap;
    size_t heap_len, heap_cap;
    uint64_t seq;
    uint32_t instances[FRAUD_SCENARIO__COUNT];
};

const char *fraud_scenario_name(fraud_scenario_t s) {
    switch (s) {
    case FRAUD_SCENARIO_CARD_TESTING: return "card_testing";
    case FRAUD_SCENARIO_IMPOSSIBLE_TRAVEL: return "impossible_travel";
    case FRAUD_SCENARIO_AMOUNT_SPIKE: return "amount_spike";
    case FRAUD_SCENARIO_VELOCITY_BURST: return "velocity_burst";
    default: return "none";
    }
}

bool fraud_luhn_valid(const char *digits) {
    size_t n = strlen(digits);
    if (n < 2)
        return false;
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        char c = digits[n - 1 - i];
        if (c < '0' || c > '9')
            return false;
        unsigned d = (unsigned)(c - '0');
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

void fraud_txn_total_string(const fraud_txn_t *t, char *buf) {
    snprintf(buf, 32, "%.2f", t->total);
}

/* A 16-digit number starting with 4 whose last digit makes it Luhn-valid. */
static void make_card_number(fraud_rng_t *r, char out[17]) {
    out[0] = '4';
    for (int i = 1; i < 15; i++)
        out[i] = (char)('0' + fraud__rng_below(r, 10));
    out[15] = '0';
    out[16] = '\0';
    unsigned sum = 0;
    for (int i = 0; i < 16; i++) {
        unsigned d = (unsigned)(out[15 - i] - '0');
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    out[15] = (char)('0' + (10 - sum % 10) % 10);
}

static void make_uuid(fraud_rng_t *r, char out[37]) {
    uint64_t a = fraud__rng_u64(r), b = fraud__rng_u64(r);
    a = (a & ~0xf000ULL) | 0x4000ULL;       /* version 4 */
    b = (b & ~(3ULL << 62)) | (2ULL << 62); /* variant 10 */
    snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xffff,
             (unsigned)(b >> 48), (unsigned long long)(b & 0xffffffffffffULL));
}

static double round2(double x) {
    return round(x * 100.0) / 100.0;
}

/* A charge on card c at time ts near home, amount not yet set. */
static void base_txn(fraud_gen_t *g, const card_t *c, int64_t ts,
                     fraud_txn_t *t) {
    memset(t, 0, sizeof *t);
    make_uuid(&g->rng, t->id);
    memcpy(t->card, c->number, sizeof t->card);
    memcpy(t->user_id, c->user_id, sizeof t->user_id);
    snprintf(t->first_name, sizeof t->first_name, "%s", first_names[c->first]);
    snprintf(t->last_name, sizeof t->last_name, "%s", last_names[c->last]);
    snprintf(t->street, sizeof t->street, "%u %s",
             1 + fraud__rng_below(&g->rng, 200), streets[c->street]);
    unsigned m = fraud__rng_below(&g->rng, COUNT(merchants));
    snprintf(t->merchant, sizeof t->merchant, "%s", merchants[m].name);
    snprintf(t->category, sizeof t->category, "%s", merchants[m].category);
    memcpy(t->country, cities[c->city].country, 3);
    t->latitude = c->lat + 0.03 * fraud__rng_normal(&g->rng);
    t->longitude = c->lon + 0.03 * fraud__rng_normal(&g->rng);
    t->timestamp_ms = ts;
}

static double normal_amount(fraud_gen_t *g, const card_t *c) {
    double a = round2(exp(c->mu + AMOUNT_SIGMA * fraud__rng_normal(&g->rng)));
    return a < 1.00 ? 1.00 : a;
}

fraud_gen_t *fraud_gen_new(const fraud_gen_config_t *cfg) {
    fraud_gen_t *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->cfg = *cfg;
    if (!g->cfg.seed)
        g->cfg.seed = 1;
    if (!g->cfg.cards)
        g->cfg.cards = 20000;
    if (!g->cfg.seasoned_cards)
        g->cfg.seasoned_cards = 2000;
    if (g->cfg.seasoned_cards > g->cfg.cards)
        g->cfg.seasoned_cards = g->cfg.cards;
    if (!g->cfg.history)
        g->cfg.history = 16;
    if (!(g->cfg.rate > 0))
        g->cfg.rate = 20;
    if (!(g->cfg.fraud_share > 0))
        g->cfg.fraud_share = 0.03;
    fraud__rng_seed(&g->rng, g->cfg.seed);
    g->cards = calloc(g->cfg.cards, sizeof *g->cards);
    g->hist_times = calloc(g->cfg.history, sizeof *g->hist_times);
    if (!g->cards || !g->hist_times) {
        fraud_gen_free(g);
        return NULL;
    }
    for (unsigned i = 0; i < g->cfg.cards; i++) {
        card_t *c = &g->cards[i];
        make_card_number(&g->rng, c->number);
        snprintf(c->user_id, sizeof c->user_id, "%03u-%02u-%04u",
                 100 + fraud__rng_below(&g->rng, 800),
                 10 + fraud__rng_below(&g->rng, 90),
                 1000 + fraud__rng_below(&g->rng, 9000));
        c->first = (uint8_t)fraud__rng_below(&g->rng, COUNT(first_names));
        c->last = (uint8_t)fraud__rng_below(&g->rng, COUNT(last_names));
        c->street = (uint8_t)fraud__rng_below(&g->rng, COUNT(streets));
        c->city = (uint8_t)fraud__rng_below(&g->rng, COUNT(cities));
        c->lat = cities[c->city].lat + 0.1 * fraud__rng_normal(&g->rng);
        c->lon = cities[c->city].lon + 0.1 * fraud__rng_normal(&g->rng);
        c->mu = log(fraud__rng_range(&g->rng, 10.0, 30.0));
    }
    g->next_normal_ms =
        (double)g->cfg.start_ms + 1000.0 * fraud__rng_exp(&g->rng, g->cfg.rate);
    return g;
}

void fraud_gen_free(fraud_gen_t *g) {
    if (!g)
        return;
    free(g->cards);
    free(g->hist_times);
    free(g->heap);
    free(g);
}

uint32_t fraud_gen_instances(const fraud_gen_t *g, fraud_scenario_t s) {
    if (s == FRAUD_SCENARIO_NONE) {
        uint32_t n = 0;
        for (int i = 1; i < FRAUD_SCENARIO__COUNT; i++)
            n += g->instances[i];
        return n;
    }
    return s < FRAUD_SCENARIO__COUNT ? g->instances[s] : 0;
}

/* ---- the heap of scheduled scenario charges ------------------------------ */

static bool before(const pending_t *a, const pending_t *b) {
    if (a->txn.timestamp_ms != b->txn.timestamp_ms)
        return a->txn.timestamp_ms < b->txn.timestamp_ms;
    return a->seq < b->seq;
}

static bool heap_push(fraud_gen_t *g, const fraud_txn_t *t,
                      const fraud_label_t *l) {
    if (g->heap_len == g->heap_cap) {
        size_t cap = g->heap_cap ? g->heap_cap * 2 : 64;
        pending_t *h = realloc(g->heap, cap * sizeof *h);
        if (!h)
            return false;
        g->heap = h;
        g->heap_cap = cap;
    }
    size_t i = g->heap_len++;
    g->heap[i] = (pending_t){*t, *l, g->seq++};
    while (i > 0 && before(&g->heap[i], &g->heap[(i - 1) / 2])) {
        pending_t tmp = g->heap[i];
        g->heap[i] = g->heap[(i - 1) / 2];
        g->heap[(i - 1) / 2] = tmp;
        i = (i - 1) / 2;
    }
    return true;
}

static void heap_pop(fraud_gen_t *g, pending_t *out) {
    *out = g->heap[0];
    g->heap[0] = g->heap[--g->heap_len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->heap_len && before(&g->heap[l], &g->heap[m]))
            m = l;
        if (r < g->heap_len && before(&g->heap[r], &g->heap[m]))
            m = r;
        if (m == i)
            break;
        pending_t tmp = g->heap[i];
        g->heap[i] = g->heap[m];
        g->heap[m] = tmp;
        i = m;
    }
}

/* ---- scenarios --------------------------------------------------------------
 */

/* An idle card at time ts, from [0, limit); -1 when none was found. */
static long idle_card(fraud_gen_t *g, unsigned limit, int64_t ts) {
    for (int tries = 0; tries < 64; tries++) {
        unsigned i = fraud__rng_below(&g->rng, limit);
        if (g->cards[i].busy_until <= ts)
            return (long)i;
    }
    return -1;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Schedule one instance of s starting at ts; false when out of memory.
 * No card free: nothing is scheduled (true). */
static bool start_scenario(fraud_gen_t *g, fraud_scenario_t s, int64_t ts) {
    unsigned limit =
        s == FRAUD_SCENARIO_AMOUNT_SPIKE ? g->cfg.seasoned_cards : g->cfg.cards;
    long ci = idle_card(g, limit, ts);
    if (ci < 0)
        return true;
    card_t *c = &g->cards[ci];
    fraud_label_t l = {s, ++g->instances[s], false, false};
    fraud_txn_t t;
    int64_t at = ts;
    switch (s) {
    case FRAUD_SCENARIO_CARD_TESTING: {
        unsigned k = 5 + fraud__rng_below(&g->rng, 6); /* 5..10 */
        for (unsigned i = 0; i < k; i++) {
            if (i)
                at += (int64_t)fraud__rng_range(&g->rng, 1000, 4000);
            base_txn(g, c, at, &t);
            snprintf(t.merchant, sizeof t.merchant, "Quick Donate Online");
            snprintf(t.category, sizeof t.category, "online");
            t.total = round2(fraud__rng_range(&g->rng, 0.10, 0.99));
            if (!heap_push(g, &t, &l))
                return false;
        }
        at += (int64_t)fraud__rng_range(&g->rng, 2000, 8000);
        base_txn(g, c, at, &t);
        l.last = true;
        snprintf(t.category, sizeof t.category, "electronics");
        snprintf(t.merchant, sizeof t.merchant, "Pixel Store");
        t.total = round2(fraud__rng_range(&g->rng, 500.01, 1500.00));
        if (!heap_push(g, &t, &l))
            return false;
        break;
    }
    case FRAUD_SCENARIO_IMPOSSIBLE_TRAVEL: {
        base_txn(g, c, at, &t);
        t.total = normal_amount(g, c);
        if (!heap_push(g, &t, &l))
            return false;
        unsigned far = c->city;
        for (int tries = 0; tries < 100; tries++) {
            unsigned x = fraud__rng_below(&g->rng, COUNT(cities));
            if (fraud__haversine_km(c->lat, c->lon, cities[x].lat,
                                    cities[x].lon) > 2000.0) {
                far = x;
                break;
            }
        }
        at += (int64_t)fraud__rng_range(&g->rng, 10000, 60000);
        base_txn(g, c, at, &t);
        l.last = true;
        memcpy(t.country, cities[far].country, 3);
        t.latitude = cities[far].lat + 0.03 * fraud__rng_normal(&g->rng);
        t.longitude = cities[far].lon + 0.03 * fraud__rng_normal(&g->rng);
        t.total = normal_amount(g, c);
        if (!heap_push(g, &t, &l))
            return false;
        break;
    }
    case FRAUD_SCENARIO_AMOUNT_SPIKE:
        base_txn(g, c, at, &t);
        l.last = true;
        t.total = round2(
            exp(c->mu + AMOUNT_SIGMA * fraud__rng_range(&g->rng, 8.0, 10.0)));
        if (!heap_push(g, &t, &l))
            return false;
        break;
    case FRAUD_SCENARIO_VELOCITY_BURST: {
        unsigned k = 5 + fraud__rng_below(&g->rng, 4); /* 5..8 */
        for (unsigned i = 0; i < k; i++) {
            if (i)
                at += (int64_t)fraud__rng_range(&g->rng, 2000, 6000);
            base_txn(g, c, at, &t);
            l.last = i + 1 == k;
            t.total =
                round2(exp(c->mu + 1.8 + 0.3 * fraud__rng_normal(&g->rng)));
            if (!heap_push(g, &t, &l))
                return false;
        }
        break;
    }
    default: return true;
    }
    c->busy_until = at + BUSY_AFTER_MS;
    return true;
}

bool fraud_gen_next_pending(fraud_gen_t *g, fraud_txn_t *out,
                            fraud_label_t *label) {
    if (!g->heap_len)
        return false;
    pending_t p;
    heap_pop(g, &p);
    *out = p.txn;
    *label = p.label;
    return true;
}

/* ---- the stream -------------------------------------------------------------
 */

bool fraud_gen_next(fraud_gen_t *g, fraud_txn_t *out, fraud_label_t *label) {
    /* history of the seasoned cards, card by card */
    while (g->hist_card < g->cfg.seasoned_cards) {
        if (g->hist_i == 0) {
            for (unsigned i = 0; i < g->cfg.history; i++)
                g->hist_times[i] = g->cfg.start_ms - DAY_MS +
                                   (int64_t)fraud__rng_range(
                                       &g->rng, 0, (double)DAY_MS - 600000);
            qsort(g->hist_times, g->cfg.history, sizeof *g->hist_times,
                  cmp_i64);
        }
        if (g->hist_i < g->cfg.history) {
            const card_t *c = &g->cards[g->hist_card];
            base_txn(g, c, g->hist_times[g->hist_i++], out);
            out->total = normal_amount(g, c);
            *label = (fraud_label_t){FRAUD_SCENARIO_NONE, 0, true, false};
            return true;
        }
        g->hist_card++;
        g->hist_i = 0;
    }
    for (;;) {
        if (g->heap_len > 0 &&
            (double)g->heap[0].txn.timestamp_ms <= g->next_normal_ms) {
            pending_t p;
            heap_pop(g, &p);
            *out = p.txn;
            *label = p.label;
            return true;
        }
        int64_t ts = (int64_t)g->next_normal_ms;
        g->next_normal_ms += 1000.0 * fraud__rng_exp(&g->rng, g->cfg.rate);
        if (fraud__rng_unit(&g->rng) < g->cfg.fraud_share) {
            fraud_scenario_t s =
                (fraud_scenario_t)(1 + fraud__rng_below(
                                           &g->rng, FRAUD_SCENARIO__COUNT - 1));
            if (!start_scenario(g, s, ts))
                return false;
            continue;
        }
        long ci = idle_card(g, g->cfg.cards, ts);
        if (ci < 0)
            continue;
        base_txn(g, &g->cards[ci], ts, out);
        out->total = normal_amount(g, &g->cards[ci]);
        *label = (fraud_label_t){FRAUD_SCENARIO_NONE, 0, false, false};
        return true;
    }
}
