/*
 * fraud: the logic of the fraud-detection reference application, free of
 * any I/O so that it can be tested as a specification.
 *
 * Three parts:
 *  - the generator (gen.c): card transactions with a home location per
 *    card, log-normal amounts and Poisson arrivals, plus injected fraud
 *    scenarios, each transaction labelled with the scenario instance it
 *    belongs to (the ground truth);
 *  - the detector (detect.c): per-card state machines over event time that
 *    turn transactions into findings, one per rule hit;
 *  - the evaluation (eval.c): precision and recall of findings against the
 *    ground truth.
 *
 * The programs under demo/fraud/ add Kafka, Avro and the schema registry
 * around these (see demo/fraud/README.md). Reference:
 * kafka-connector.md §1 (the original demo) and §6 (fraud rules).
 *
 * Threading: every object here is single-threaded; use one per thread.
 */
#ifndef EVB_FRAUD_H
#define EVB_FRAUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- transactions ------------------------------------------------------- */

typedef struct fraud_txn {
    char id[37];      /* UUID text */
    char card[17];    /* 16 digits, Luhn-valid */
    char user_id[12]; /* "123-45-6789", the original demo's SSN form */
    char first_name[16];
    char last_name[16];
    char street[40];
    char merchant[32];
    char category[16];
    char country[3]; /* ISO 3166 alpha-2 */
    double latitude, longitude;
    double total;         /* amount, 2 decimals */
    int64_t timestamp_ms; /* event time, Unix ms */
} fraud_txn_t;

/* Render total the way the original schema carries it: a string such as
 * "153.27". buf must hold 32 bytes. */
void fraud_txn_total_string(const fraud_txn_t *t, char *buf);

/* True when digits (NUL-terminated) passes the Luhn check. */
bool fraud_luhn_valid(const char *digits);

/* ---- scenarios ---------------------------------------------------------- */

typedef enum fraud_scenario {
    FRAUD_SCENARIO_NONE = 0,
    FRAUD_SCENARIO_CARD_TESTING,      /* charges under 1.00, then one > 500 */
    FRAUD_SCENARIO_IMPOSSIBLE_TRAVEL, /* far away minutes after home */
    FRAUD_SCENARIO_AMOUNT_SPIKE,      /* one amount far above the card's */
    FRAUD_SCENARIO_VELOCITY_BURST,    /* many charges within a minute */
    FRAUD_SCENARIO__COUNT
} fraud_scenario_t;

/* "card_testing", "impossible_travel", ... ("none" for NONE). */
const char *fraud_scenario_name(fraud_scenario_t s);

/* The ground truth for one transaction. */
typedef struct fraud_label {
    fraud_scenario_t scenario;
    uint32_t instance; /* scenario instance number, from 1; 0 for NONE */
    bool warmup;       /* part of the history emitted before live traffic */
    bool last;         /* the instance's final transaction */
} fraud_label_t;

/* ---- generator ---------------------------------------------------------- */

typedef struct fraud_gen_config {
    uint64_t seed;           /* 0: 1 */
    int64_t start_ms;        /* live traffic starts here (event time) */
    unsigned cards;          /* 0: 20000 */
    unsigned seasoned_cards; /* cards given a history first; 0: 2000 */
    unsigned history;        /* transactions per seasoned card; 0: 16 */
    double rate;             /* live transactions per second; 0: 20 */
    double fraud_share;      /* chance that a live arrival starts a
                                scenario instead; 0: 0.03 */
} fraud_gen_config_t;

typedef struct fraud_gen fraud_gen_t;

/* Create a generator; NULL when out of memory. Free with fraud_gen_free. */
fraud_gen_t *fraud_gen_new(const fraud_gen_config_t *cfg);
void fraud_gen_free(fraud_gen_t *g);

/*
 * The next transaction, in event-time order per card: first the history of
 * the seasoned cards (timestamps in the 24 hours before start_ms, card by
 * card, label.warmup set), then live traffic from start_ms on, globally in
 * timestamp order. Live traffic is endless: the caller decides when to
 * stop (and paces itself on timestamp_ms). Returns false only when out of
 * memory.
 */
bool fraud_gen_next(fraud_gen_t *g, fraud_txn_t *out, fraud_label_t *label);

/* The next transaction of a scenario instance already started, in
 * timestamp order, without starting anything new: what a run that stops
 * calls to finish its instances. false when none is pending. */
bool fraud_gen_next_pending(fraud_gen_t *g, fraud_txn_t *out,
                            fraud_label_t *label);

/* Scenario instances started so far, per kind and in all. */
uint32_t fraud_gen_instances(const fraud_gen_t *g, fraud_scenario_t s);

/* ---- detector ----------------------------------------------------------- */

typedef enum fraud_rule {
    FRAUD_RULE_THRESHOLD = 0, /* R0: total > threshold (the original) */
    FRAUD_RULE_VELOCITY,      /* R2: more than N charges in a window */
    FRAUD_RULE_WINDOW_SPEND,  /* R1: spend per user in a tumbling window */
    FRAUD_RULE_SMALL_LARGE,   /* R3: small charge, then a large one */
    FRAUD_RULE_ZSCORE,        /* R4: amount outlier for the card */
    FRAUD_RULE_TRAVEL,        /* R6: impossible travel */
    FRAUD_RULE__COUNT
} fraud_rule_t;

/* Stable rule ids used in fraud events: "threshold", "velocity",
 * "window-spend", "small-then-large", "amount-zscore",
 * "impossible-travel". */
const char *fraud_rule_id(fraud_rule_t r);

typedef struct fraud_detect_config {
    double threshold;            /* R0; default 195.00 (the original demo) */
    unsigned velocity_count;     /* R2: more than this many...; default 3 */
    int64_t velocity_window_ms;  /* ...within this window; default 60 s */
    double window_spend;         /* R1: spend above this...; default 1000 */
    int64_t spend_window_ms;     /* ...per tumbling window; default 60 s */
    double small_amount;         /* R3: a charge below this...; 1.00 */
    double large_amount;         /* ...then one above this...; 500.00 */
    int64_t small_large_ms;      /* ...within this time; default 60 s */
    double zscore;               /* R4: z of ln(amount) above; default 5 */
    unsigned zscore_min_history; /* R4: history needed; default 10 */
    double zscore_prior_sd;      /* R4: prior spread of ln(amount); 0.5 */
    double zscore_prior_weight;  /* R4: its weight in charges; default 5 */
    double travel_kmh;           /* R6: speed above; default 850 km/h */
    double travel_min_km;        /* R6: and distance above; default 300 */
} fraud_detect_config_t;

/* Every field at its default. */
fraud_detect_config_t fraud_detect_config_default(void);

typedef struct fraud_finding {
    fraud_rule_t rule;
    double score;            /* 0..1: how sure the rule is */
    int64_t window_start_ms; /* R1 and R2: the window; else the txn time */
    char reason[160];        /* human-readable, e.g. "4 charges in 60 s" */
} fraud_finding_t;

typedef struct fraud_detector fraud_detector_t;

/* Create a detector (cfg NULL: defaults); NULL when out of memory. */
fraud_detector_t *fraud_detector_new(const fraud_detect_config_t *cfg);
void fraud_detector_free(fraud_detector_t *d);

/*
 * Feed one transaction (per card in event-time order) and receive the
 * findings it causes, at most max of them in out (one per rule, so
 * FRAUD_RULE__COUNT is always enough). Returns the number of findings, or
 * -1 when out of memory (the transaction is then not accounted).
 */
int fraud_detector_observe(fraud_detector_t *d, const fraud_txn_t *t,
                           fraud_finding_t *out, size_t max);

/* ---- evaluation --------------------------------------------------------- */

typedef struct fraud_eval fraud_eval_t;

fraud_eval_t *fraud_eval_new(void);
void fraud_eval_free(fraud_eval_t *e);

/* Record the ground truth of one transaction (any label, NONE too).
 * An instance counts (for recall) once its last transaction is recorded:
 * a run that stops in the middle of an instance does not count it, while
 * findings on its transactions still count as true. false when out of
 * memory. */
bool fraud_eval_truth(fraud_eval_t *e, const char *txn_id,
                      const fraud_label_t *label);

/* Record one finding on transaction txn_id. false when out of memory. */
bool fraud_eval_finding(fraud_eval_t *e, const char *txn_id, fraud_rule_t r);

typedef struct fraud_eval_result {
    uint32_t instances;        /* complete scenario instances */
    uint32_t detected;         /* instances with a finding on one of their
                                  transactions */
    uint32_t findings;         /* all findings */
    uint32_t true_findings;    /* findings on scenario transactions */
    uint32_t unknown_findings; /* findings on transactions without truth */
    double recall;             /* detected / instances (1 when none) */
    double precision;          /* true_findings / findings (1 when none) */
    uint32_t by_rule[FRAUD_RULE__COUNT];
    uint32_t instances_by_scenario[FRAUD_SCENARIO__COUNT];
    uint32_t detected_by_scenario[FRAUD_SCENARIO__COUNT];
} fraud_eval_result_t;

void fraud_eval_result(const fraud_eval_t *e, fraud_eval_result_t *out);

#endif
