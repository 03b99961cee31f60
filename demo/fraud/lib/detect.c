/*
 * detect.c: the fraud detector, per-card and per-user state machines over
 * event time (kafka-connector.md §6, rules R0 to R6 less R5 and R7).
 *
 * State is O(1) per card: the last 16 charge times (velocity), the time of
 * the last small charge (card testing), Welford's running mean and
 * variance of ln(amount) (outliers: amounts are log-normal, so the z-score
 * of the logarithm is the honest one, with the card's spread shrunk toward
 * a prior so that a short history cannot make a card look too steady), and the
 * last trusted location (travel); per user, the current tumbling spend window.
 * A charge that any rule flags is kept out of the baselines (amount history and
 * location), so one fraud does not hide or cause the next.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fraud.h"
#include "fraud_internal.h"

#define RING 16
#define NO_TIME INT64_MIN

typedef struct card_state {
    int64_t recent[RING]; /* ring of charge times */
    unsigned nrecent, head;
    int64_t velocity_quiet_until;
    int64_t last_small;
    double n, mean, m2; /* Welford over ln(amount) */
    bool has_loc;
    double lat, lon;
    int64_t loc_ms;
} card_state_t;

typedef struct user_state {
    int64_t window_start;
    double spend;
    bool reported;
} user_state_t;

struct fraud_detector {
    fraud_detect_config_t cfg;
    fraud_map_t card_index, user_index;
    card_state_t *cards;
    user_state_t *users;
    size_t ncards, cap_cards, nusers, cap_users;
};

const char *fraud_rule_id(fraud_rule_t r) {
    switch (r) {
    case FRAUD_RULE_THRESHOLD: return "threshold";
    case FRAUD_RULE_VELOCITY: return "velocity";
    case FRAUD_RULE_WINDOW_SPEND: return "window-spend";
    case FRAUD_RULE_SMALL_LARGE: return "small-then-large";
    case FRAUD_RULE_ZSCORE: return "amount-zscore";
    case FRAUD_RULE_TRAVEL: return "impossible-travel";
    default: return "unknown";
    }
}

fraud_detect_config_t fraud_detect_config_default(void) {
    return (fraud_detect_config_t){
        .threshold = 195.00,
        .velocity_count = 3,
        .velocity_window_ms = 60000,
        .window_spend = 1000.0,
        .spend_window_ms = 60000,
        .small_amount = 1.00,
        .large_amount = 500.00,
        .small_large_ms = 60000,
        .zscore = 5.0,
        .zscore_min_history = 10,
        .zscore_prior_sd = 0.5,
        .zscore_prior_weight = 5,
        .travel_kmh = 850.0,
        .travel_min_km = 300.0,
    };
}

fraud_detector_t *fraud_detector_new(const fraud_detect_config_t *cfg) {
    fraud_detector_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cfg = cfg ? *cfg : fraud_detect_config_default();
    if (d->cfg.velocity_count >= RING)
        d->cfg.velocity_count = RING - 1;
    if (d->cfg.velocity_window_ms <= 0)
        d->cfg.velocity_window_ms = 60000;
    if (d->cfg.spend_window_ms <= 0)
        d->cfg.spend_window_ms = 60000;
    if (d->cfg.zscore_min_history < 2)
        d->cfg.zscore_min_history = 2;
    fraud__map_init(&d->card_index);
    fraud__map_init(&d->user_index);
    return d;
}

void fraud_detector_free(fraud_detector_t *d) {
    if (!d)
        return;
    fraud__map_free(&d->card_index);
    fraud__map_free(&d->user_index);
    free(d->cards);
    free(d->users);
    free(d);
}

/* The index of key's state in an array of elem-sized states, appending a
 * zeroed one when new (*fresh); -1 when out of memory. */
static long state_for(fraud_map_t *index, void **arr, size_t *n, size_t *cap,
                      size_t elem, const char *key, bool *fresh) {
    uint32_t *slot = fraud__map_get(index, key);
    *fresh = slot == NULL;
    if (slot)
        return (long)*slot;
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 1024;
        void *a = realloc(*arr, ncap * elem);
        if (!a)
            return -1;
        *arr = a;
        *cap = ncap;
    }
    bool inserted;
    if (!fraud__map_put(index, key, (uint32_t)*n, &inserted))
        return -1;
    memset((char *)*arr + *n * elem, 0, elem);
    return (long)(*n)++;
}

static void add(fraud_finding_t *out, size_t max, int *n, fraud_rule_t r,
                double score, int64_t window, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void add(fraud_finding_t *out, size_t max, int *n, fraud_rule_t r,
                double score, int64_t window, const char *fmt, ...) {
    if ((size_t)*n >= max)
        return;
    fraud_finding_t *f = &out[(*n)++];
    f->rule = r;
    f->score = score < 0 ? 0 : score > 1 ? 1 : score;
    f->window_start_ms = window;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->reason, sizeof f->reason, fmt, ap);
    va_end(ap);
}

int fraud_detector_observe(fraud_detector_t *d, const fraud_txn_t *t,
                           fraud_finding_t *out, size_t max) {
    const fraud_detect_config_t *cfg = &d->cfg;
    bool fresh;
    long ci = state_for(&d->card_index, (void **)&d->cards, &d->ncards,
                        &d->cap_cards, sizeof *d->cards, t->card, &fresh);
    if (ci < 0)
        return -1;
    card_state_t *c = &d->cards[ci];
    if (fresh) {
        c->velocity_quiet_until = NO_TIME;
        c->last_small = NO_TIME;
    }
    long ui = state_for(&d->user_index, (void **)&d->users, &d->nusers,
                        &d->cap_users, sizeof *d->users, t->user_id, &fresh);
    if (ui < 0)
        return -1;
    user_state_t *u = &d->users[ui];
    if (fresh)
        u->window_start = NO_TIME;

    const int64_t ts = t->timestamp_ms;
    int n = 0;

    /* R0: the original demo's threshold */
    if (t->total > cfg->threshold)
        add(out, max, &n, FRAUD_RULE_THRESHOLD,
            0.5 + 0.4 * fmin(1.0, (t->total - cfg->threshold) /
                                      (4.0 * cfg->threshold)),
            ts, "amount %.2f above %.2f", t->total, cfg->threshold);

    /* R2: velocity, more than velocity_count charges within the window;
     * reported once, then quiet until that window has passed */
    c->recent[c->head] = ts;
    c->head = (c->head + 1) % RING;
    if (c->nrecent < RING)
        c->nrecent++;
    unsigned in_window = 0;
    int64_t oldest = ts;
    for (unsigned i = 0; i < c->nrecent; i++) {
        int64_t x = c->recent[i];
        if (x > ts - cfg->velocity_window_ms && x <= ts) {
            in_window++;
            if (x < oldest)
                oldest = x;
        }
    }
    if (in_window > cfg->velocity_count &&
        (c->velocity_quiet_until == NO_TIME || ts >= c->velocity_quiet_until)) {
        add(out, max, &n, FRAUD_RULE_VELOCITY,
            fmin(0.95, 0.6 + 0.05 * (in_window - cfg->velocity_count)), oldest,
            "%u charges within %lld s", in_window,
            (long long)(cfg->velocity_window_ms / 1000));
        c->velocity_quiet_until = ts + cfg->velocity_window_ms;
    }

    /* R1: spend per user in a tumbling window, reported once per window */
    int64_t ws = ts - ((ts % cfg->spend_window_ms) + cfg->spend_window_ms) %
                          cfg->spend_window_ms;
    if (u->window_start == NO_TIME || ws > u->window_start) {
        u->window_start = ws;
        u->spend = 0;
        u->reported = false;
    }
    if (ws == u->window_start) {
        u->spend += t->total;
        if (!u->reported && u->spend > cfg->window_spend) {
            add(out, max, &n, FRAUD_RULE_WINDOW_SPEND, 0.8, ws,
                "spent %.2f within %lld s (limit %.2f)", u->spend,
                (long long)(cfg->spend_window_ms / 1000), cfg->window_spend);
            u->reported = true;
        }
    }

    /* R3: card testing, a small charge then a large one */
    if (t->total < cfg->small_amount) {
        c->last_small = ts;
    } else if (t->total > cfg->large_amount && c->last_small != NO_TIME &&
               ts - c->last_small <= cfg->small_large_ms) {
        add(out, max, &n, FRAUD_RULE_SMALL_LARGE, 0.95, c->last_small,
            "charge of %.2f %lld s after one under %.2f", t->total,
            (long long)((ts - c->last_small) / 1000), cfg->small_amount);
        c->last_small = NO_TIME;
    }

    /* R4: amount outlier for the card (z-score of ln(amount)) */
    double x = log(t->total > 0.01 ? t->total : 0.01);
    bool outlier = false;
    if (c->n >= cfg->zscore_min_history) {
        /* the card's spread, shrunk toward a prior (prior_weight
         * pseudo-observations of prior_sd): ten charges alone can make a
         * card look far steadier than it is */
        double w = cfg->zscore_prior_weight;
        double sd =
            sqrt((c->m2 + w * cfg->zscore_prior_sd * cfg->zscore_prior_sd) /
                 (c->n - 1 + w));
        if (sd < 0.05)
            sd = 0.05;
        double z = (x - c->mean) / sd;
        if (z > cfg->zscore) {
            outlier = true;
            add(out, max, &n, FRAUD_RULE_ZSCORE, fmin(0.99, 0.5 + z / 20.0), ts,
                "amount %.2f is %.1f standard deviations above the card's "
                "usual",
                t->total, z);
        }
    }

    /* R6: impossible travel from the last trusted location */
    bool travel = false;
    if (c->has_loc) {
        double km =
            fraud__haversine_km(c->lat, c->lon, t->latitude, t->longitude);
        double hours = (double)(ts - c->loc_ms) / 3600000.0;
        if (hours < 1.0 / 3600.0)
            hours = 1.0 / 3600.0;
        double kmh = km / hours;
        if (km > cfg->travel_min_km && kmh > cfg->travel_kmh) {
            travel = true;
            add(out, max, &n, FRAUD_RULE_TRAVEL, 0.9, ts,
                "%.0f km from the last charge in %.0f min (%.0f km/h)", km,
                hours * 60.0, kmh);
        }
    }

    /* baselines learn only from charges nothing flagged */
    if (n == 0 && !outlier) {
        c->n += 1;
        double delta = x - c->mean;
        c->mean += delta / c->n;
        c->m2 += delta * (x - c->mean);
    }
    if (!travel) {
        c->has_loc = true;
        c->lat = t->latitude;
        c->lon = t->longitude;
        c->loc_ms = ts;
    }
    return n;
}
