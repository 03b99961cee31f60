/*
 * eval.c: precision and recall of findings against the generator's ground
 * truth. A finding is true when the transaction it names belongs to a
 * scenario instance; an instance is detected when at least one finding
 * names one of its transactions. Findings on transactions the truth does
 * not know count as false (and are reported apart).
 */
#include <stdlib.h>
#include <string.h>

#include "fraud.h"
#include "fraud_internal.h"

typedef struct truth {
    fraud_scenario_t scenario;
    uint32_t instance;
} truth_t;

struct fraud_eval {
    fraud_map_t index; /* txn id -> truth index */
    truth_t *truths;
    size_t ntruths, cap;
    uint32_t max_instance;
    uint8_t *detected; /* per instance key */
    uint8_t *complete; /* per instance key: its last transaction seen */
    fraud_scenario_t *instance_scenario;
    size_t inst_cap;
    uint32_t findings, true_findings, unknown_findings;
    uint32_t by_rule[FRAUD_RULE__COUNT];
};

fraud_eval_t *fraud_eval_new(void) {
    fraud_eval_t *e = calloc(1, sizeof *e);
    if (e)
        fraud__map_init(&e->index);
    return e;
}

void fraud_eval_free(fraud_eval_t *e) {
    if (!e)
        return;
    fraud__map_free(&e->index);
    free(e->truths);
    free(e->detected);
    free(e->complete);
    free(e->instance_scenario);
    free(e);
}

static bool ensure_instance(fraud_eval_t *e, uint32_t inst) {
    if (inst < e->inst_cap)
        return true;
    size_t cap = e->inst_cap ? e->inst_cap : 256;
    while (cap <= inst)
        cap *= 2;
    uint8_t *d = realloc(e->detected, cap);
    if (!d)
        return false;
    e->detected = d;
    uint8_t *c = realloc(e->complete, cap);
    if (!c)
        return false;
    e->complete = c;
    fraud_scenario_t *s = realloc(e->instance_scenario, cap * sizeof *s);
    if (!s)
        return false;
    e->instance_scenario = s;
    memset(d + e->inst_cap, 0, cap - e->inst_cap);
    memset(c + e->inst_cap, 0, cap - e->inst_cap);
    memset(s + e->inst_cap, 0, (cap - e->inst_cap) * sizeof *s);
    e->inst_cap = cap;
    return true;
}

/* Instance numbers are per scenario kind in the generator; combine them
 * into one key space. */
static uint32_t instance_key(fraud_scenario_t s, uint32_t instance) {
    return instance * FRAUD_SCENARIO__COUNT + (uint32_t)s;
}

bool fraud_eval_truth(fraud_eval_t *e, const char *txn_id,
                      const fraud_label_t *label) {
    if (e->ntruths == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 1024;
        truth_t *t = realloc(e->truths, cap * sizeof *t);
        if (!t)
            return false;
        e->truths = t;
        e->cap = cap;
    }
    bool inserted;
    uint32_t *slot =
        fraud__map_put(&e->index, txn_id, (uint32_t)e->ntruths, &inserted);
    if (!slot)
        return false;
    if (!inserted)
        return true; /* first truth wins */
    e->truths[e->ntruths++] = (truth_t){label->scenario, label->instance};
    if (label->scenario != FRAUD_SCENARIO_NONE) {
        uint32_t k = instance_key(label->scenario, label->instance);
        if (!ensure_instance(e, k))
            return false;
        e->instance_scenario[k] = label->scenario;
        if (label->last)
            e->complete[k] = 1;
        if (k > e->max_instance)
            e->max_instance = k;
    }
    return true;
}

bool fraud_eval_finding(fraud_eval_t *e, const char *txn_id, fraud_rule_t r) {
    e->findings++;
    if (r < FRAUD_RULE__COUNT)
        e->by_rule[r]++;
    uint32_t *slot = fraud__map_get(&e->index, txn_id);
    if (!slot) {
        e->unknown_findings++;
        return true;
    }
    const truth_t *t = &e->truths[*slot];
    if (t->scenario == FRAUD_SCENARIO_NONE)
        return true;
    e->true_findings++;
    e->detected[instance_key(t->scenario, t->instance)] = 1;
    return true;
}

void fraud_eval_result(const fraud_eval_t *e, fraud_eval_result_t *out) {
    memset(out, 0, sizeof *out);
    for (uint32_t k = 0; k < e->inst_cap; k++) {
        fraud_scenario_t s = e->instance_scenario[k];
        if (s == FRAUD_SCENARIO_NONE || !e->complete[k])
            continue;
        out->instances++;
        out->instances_by_scenario[s]++;
        if (e->detected[k]) {
            out->detected++;
            out->detected_by_scenario[s]++;
        }
    }
    out->findings = e->findings;
    out->true_findings = e->true_findings;
    out->unknown_findings = e->unknown_findings;
    memcpy(out->by_rule, e->by_rule, sizeof out->by_rule);
    out->recall = out->instances ? (double)out->detected / out->instances : 1.0;
    out->precision =
        out->findings ? (double)out->true_findings / out->findings : 1.0;
}
