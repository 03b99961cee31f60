/*
 * fraud-report: the demo's progress line and closing summary.
 *
 * It reads what each part of the demo left behind and asks evbus for the
 * rest over its own APIs (CloudWatch Logs FilterLogEvents for the audit
 * logs, SQS GetQueueAttributes for the dead-letter queue):
 *   --truth      the generator's ground truth (a JSON line per transaction)
 *   --gen-stats, --detect-stats   the programs' counters
 *   --crm        the CRM stand-in's record of the cases it accepted
 * Precision and recall are computed from the audit log, that is from the
 * fraud events that really reached the bus, joined with the ground truth
 * by transactionId (fraud.h's evaluation).
 *
 * --watch S prints one progress line every S seconds until SIGINT or
 * SIGTERM. Without it, the summary is printed once; with --check the exit
 * status says whether the demo met its bar: recall >= 0.95, precision >=
 * 0.9, exactly one audit entry per fraud event, every high-risk finding
 * in the CRM exactly as the input transformer renders it, no dead
 * letters.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/app.h"

typedef struct opts {
    const char *endpoint, *truth, *gen_stats, *detect_stats, *crm;
    const char *audit_log, *connector_log, *dlq;
    double high_risk_score, high_risk_amount;
    double watch;
    bool check;
} opts_t;

/* ---- evbus over HTTP ----------------------------------------------------- */

static size_t collect(char *p, size_t size, size_t n, void *ud) {
    return evb_buf_append(ud, p, size * n) ? 0 : size * n;
}

/* POST an AWS JSON call; the parsed answer (NULL on a transport error or
 * a non-200 answer, *status says which). */
static json_t *aws_call(const char *endpoint, const char *target,
                        const char *ctype, json_t *body, long *status) {
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    char *text = json_dumps(body, JSON_COMPACT);
    evb_buf_t out;
    evb_buf_init(&out, 0);
    char th[200], ch[100];
    snprintf(th, sizeof th, "X-Amz-Target: %s", target);
    snprintf(ch, sizeof ch, "Content-Type: %s", ctype);
    struct curl_slist *h = curl_slist_append(NULL, th);
    h = curl_slist_append(h, ch);
    curl_easy_setopt(c, CURLOPT_URL, endpoint);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, text ? text : "{}");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    *status = 0;
    json_t *res = NULL;
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        if (*status == 200 && out.len)
            res = json_loadb(out.data, out.len, 0, NULL);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(text);
    evb_buf_free(&out);
    return res;
}

/* Every event of a log group, as parsed JSON messages (an array); an
 * empty array when the group does not exist. */
static json_t *log_events(const char *endpoint, const char *group) {
    json_t *all = json_array();
    char *token = NULL;
    for (int page = 0; page < 10000; page++) {
        json_t *req = json_pack("{s:s}", "logGroupName", group);
        if (token)
            json_object_set_new(req, "nextToken", json_string(token));
        long status;
        json_t *res = aws_call(endpoint, "Logs_20140328.FilterLogEvents",
                               "application/x-amz-json-1.1", req, &status);
        json_decref(req);
        free(token);
        token = NULL;
        if (!res)
            break;
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(res, "events"), i, e) {
            const char *msg = json_string_value(json_object_get(e, "message"));
            json_t *m = msg ? json_loads(msg, 0, NULL) : NULL;
            if (m)
                json_array_append_new(all, m);
        }
        const char *next = json_string_value(json_object_get(res, "nextToken"));
        if (next)
            token = strdup(next);
        json_decref(res);
        if (!token)
            break;
    }
    free(token);
    return all;
}

/* Messages in the queue named name (visible and in flight); -1 if unknown. */
static long queue_depth(const char *endpoint, const char *name) {
    long status;
    json_t *req = json_pack("{s:s}", "QueueName", name);
    json_t *res = aws_call(endpoint, "AmazonSQS.GetQueueUrl",
                           "application/x-amz-json-1.0", req, &status);
    json_decref(req);
    const char *url =
        res ? json_string_value(json_object_get(res, "QueueUrl")) : NULL;
    long n = -1;
    if (url) {
        req = json_pack("{s:s,s:[s,s]}", "QueueUrl", url, "AttributeNames",
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible");
        json_t *a = aws_call(endpoint, "AmazonSQS.GetQueueAttributes",
                             "application/x-amz-json-1.0", req, &status);
        json_decref(req);
        json_t *attrs = a ? json_object_get(a, "Attributes") : NULL;
        if (attrs) {
            const char *v = json_string_value(
                json_object_get(attrs, "ApproximateNumberOfMessages"));
            const char *w = json_string_value(json_object_get(
                attrs, "ApproximateNumberOfMessagesNotVisible"));
            n = (v ? atol(v) : 0) + (w ? atol(w) : 0);
        }
        json_decref(a);
    }
    json_decref(res);
    return n;
}

/* ---- files ----------------------------------------------------------------
 */

static json_t *load_json_file(const char *path) {
    if (!path)
        return NULL;
    return json_load_file(path, 0, NULL);
}

/* Parse a file of JSON lines; calls fn for each object. Returns lines. */
static size_t each_line(const char *path, void (*fn)(json_t *, void *),
                        void *ud) {
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0, n = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        if (o) {
            fn(o, ud);
            json_decref(o);
            n++;
        }
    }
    free(line);
    fclose(f);
    return n;
}

static unsigned long long num(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (unsigned long long)json_integer_value(v) : 0;
}

/* ---- ground truth ---------------------------------------------------------
 */

typedef struct truth_ctx {
    fraud_eval_t *eval;
    json_t *warmup; /* txn id -> true, for the history */
} truth_ctx_t;

static fraud_scenario_t scenario_by_name(const char *s) {
    for (int i = 0; i < FRAUD_SCENARIO__COUNT; i++)
        if (s && strcmp(s, fraud_scenario_name((fraud_scenario_t)i)) == 0)
            return (fraud_scenario_t)i;
    return FRAUD_SCENARIO_NONE;
}

static void on_truth(json_t *o, void *ud) {
    truth_ctx_t *t = ud;
    const char *id = json_string_value(json_object_get(o, "id"));
    if (!id)
        return;
    fraud_label_t l = {
        scenario_by_name(json_string_value(json_object_get(o, "scenario"))),
        (uint32_t)num(o, "instance"),
        json_is_true(json_object_get(o, "warmup")),
        json_is_true(json_object_get(o, "last"))};
    fraud_eval_truth(t->eval, id, &l);
    if (l.warmup)
        json_object_set_new(t->warmup, id, json_true());
}

static fraud_rule_t rule_by_id(const char *s) {
    for (int i = 0; i < FRAUD_RULE__COUNT; i++)
        if (s && strcmp(s, fraud_rule_id((fraud_rule_t)i)) == 0)
            return (fraud_rule_t)i;
    return FRAUD_RULE__COUNT;
}

/* ---- CRM ------------------------------------------------------------------
 */

typedef struct crm_ctx {
    json_t *cases;     /* array of case objects */
    json_t *latencies; /* array of ms, live transactions only */
    json_t *warmup;
} crm_ctx_t;

static void on_case(json_t *o, void *ud) {
    crm_ctx_t *c = ud;
    json_t *cs = json_object_get(o, "case");
    if (!cs)
        return;
    json_array_append(c->cases, cs);
    json_t *tt = json_object_get(cs, "transactionTime");
    const char *id = json_string_value(json_object_get(cs, "transactionId"));
    if (json_is_integer(tt) && id && !json_object_get(c->warmup, id))
        json_array_append_new(c->latencies,
                              json_integer((json_int_t)num(o, "received_ms") -
                                           json_integer_value(tt)));
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static long long percentile(json_t *arr, double p) {
    size_t n = json_array_size(arr);
    if (!n)
        return -1;
    long long *v = malloc(n * sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++)
        v[i] = (long long)json_integer_value(json_array_get(arr, i));
    qsort(v, n, sizeof *v, cmp_ll);
    size_t k = (size_t)ceil(p * (double)n);
    long long r = v[k ? k - 1 : 0];
    free(v);
    return r;
}

/* The CRM case the `high-risk` rule's input transformer renders for an
 * audit-log event (demo/fraud/stack.yaml; kept in step with it). */
static json_t *expected_case(json_t *ev) {
    json_t *d = json_object_get(ev, "detail");
    json_t *ed = json_object_get(d, "eventDetail");
    return json_pack(
        "{s:s,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "type", "fraud-case",
        "eventId", json_object_get(ev, "id"), "cardId",
        json_object_get(d, "cardId"), "userId", json_object_get(ed, "userId"),
        "amount", json_object_get(ed, "total"), "rule",
        json_object_get(d, "ruleId"), "score", json_object_get(d, "score"),
        "reason", json_object_get(d, "reason"), "transactionId",
        json_object_get(d, "transactionId"), "transactionTime",
        json_object_get(d, "transactionTime"));
}

static bool high_risk(json_t *ev, const opts_t *o) {
    json_t *d = json_object_get(ev, "detail");
    double score = json_number_value(json_object_get(d, "score"));
    double total = json_number_value(
        json_object_get(json_object_get(d, "eventDetail"), "total"));
    return score >= o->high_risk_score || total > o->high_risk_amount;
}

/* ---- the two outputs -------------------------------------------------------
 */

static void progress(const opts_t *o) {
    json_t *g = load_json_file(o->gen_stats),
           *d = load_json_file(o->detect_stats);
    json_t *audit = log_events(o->endpoint, o->audit_log);
    crm_ctx_t crm = {json_array(), json_array(), json_object()};
    each_line(o->crm, on_case, &crm);
    long dlq = o->dlq ? queue_depth(o->endpoint, o->dlq) : 0;
    json_t *f = json_object_get(d, "findings");
    printf("\rtx %llu | findings %llu (thr %llu vel %llu spend %llu s>l %llu "
           "z %llu geo %llu) | bus %zu | log %zu | crm %zu | dlq %ld   ",
           num(g, "produced"), num(d, "emitted"), num(f, "threshold"),
           num(f, "velocity"), num(f, "window-spend"),
           num(f, "small-then-large"), num(f, "amount-zscore"),
           num(f, "impossible-travel"), json_array_size(audit),
           json_array_size(audit), json_array_size(crm.cases),
           dlq < 0 ? 0 : dlq);
    fflush(stdout);
    json_decref(g);
    json_decref(d);
    json_decref(audit);
    json_decref(crm.cases);
    json_decref(crm.latencies);
    json_decref(crm.warmup);
}

static int summary(const opts_t *o) {
    json_t *g = load_json_file(o->gen_stats),
           *d = load_json_file(o->detect_stats);
    truth_ctx_t truth = {fraud_eval_new(), json_object()};
    if (!truth.eval)
        return 1;
    each_line(o->truth, on_truth, &truth);
    json_t *audit = log_events(o->endpoint, o->audit_log);
    json_t *conn =
        o->connector_log ? log_events(o->endpoint, o->connector_log) : NULL;
    crm_ctx_t crm = {json_array(), json_array(), truth.warmup};
    each_line(o->crm, on_case, &crm);
    long dlq = o->dlq ? queue_depth(o->endpoint, o->dlq) : 0;

    /* findings as they reached the bus */
    json_t *seen = json_object();
    size_t dup = 0, expected_crm = 0, i;
    json_t *ev, *expected = json_array();
    json_array_foreach(audit, i, ev) {
        json_t *dt = json_object_get(ev, "detail");
        const char *tx =
            json_string_value(json_object_get(dt, "transactionId"));
        const char *rule = json_string_value(json_object_get(dt, "ruleId"));
        char key[200];
        snprintf(key, sizeof key, "%s/%s", tx ? tx : "?", rule ? rule : "?");
        if (json_object_get(seen, key))
            dup++;
        json_object_set_new(seen, key, json_true());
        fraud_eval_finding(truth.eval, tx ? tx : "", rule_by_id(rule));
        if (high_risk(ev, o)) {
            expected_crm++;
            json_array_append_new(expected, expected_case(ev));
        }
    }
    /* every expected case in the CRM exactly once, nothing else there */
    size_t matched = 0;
    json_t *cases = json_copy(crm.cases);
    json_array_foreach(expected, i, ev) {
        size_t j;
        json_t *c;
        json_array_foreach(cases, j, c) {
            if (json_equal(c, ev)) {
                json_array_remove(cases, j);
                matched++;
                break;
            }
        }
    }
    size_t unexpected = json_array_size(cases);
    json_decref(cases);

    fraud_eval_result_t r;
    fraud_eval_result(truth.eval, &r);
    unsigned long long emitted = num(d, "emitted");
    json_t *sc = json_object_get(g, "scenarios");

    printf("\n== evbus fraud demo: summary ==\n");
    printf("  transactions produced      %llu (%llu history, %llu live)\n",
           num(g, "produced"), num(g, "warmup"), num(g, "live"));
    printf("  fraud scenarios injected   %u complete:", r.instances);
    for (int s = 1; s < FRAUD_SCENARIO__COUNT; s++)
        printf(" %s %u", fraud_scenario_name((fraud_scenario_t)s),
               r.instances_by_scenario[s]);
    (void)sc;
    printf("\n  findings by rule           ");
    for (int k = 0; k < FRAUD_RULE__COUNT; k++)
        printf("%s%s %u", k ? ", " : "", fraud_rule_id((fraud_rule_t)k),
               r.by_rule[k]);
    printf("\n  fraud events emitted       %llu (analytics), %zu on bus "
           "`fraud` via the pipe",
           emitted, json_array_size(audit));
    if (conn)
        printf(", %zu on bus `fraud-connector` via the connector",
               json_array_size(conn));
    printf("\n  detection                  recall %.3f (%u of %u scenarios), "
           "precision %.3f (%u of %u findings true)\n",
           r.recall, r.detected, r.instances, r.precision, r.true_findings,
           r.findings);
    printf("  rule audit-all             %zu log entries in %s (%zu "
           "duplicates)\n",
           json_array_size(audit), o->audit_log, dup);
    printf("  rule high-risk             %zu matched, %zu delivered to the "
           "CRM as rendered, %zu unexpected\n",
           expected_crm, matched, unexpected);
    printf("  dead letters               %ld\n", dlq < 0 ? 0 : dlq);
    long long p50 = percentile(crm.latencies, 0.50),
              p99 = percentile(crm.latencies, 0.99);
    if (p50 >= 0)
        printf("  transaction -> CRM         p50 %lld ms, p99 %lld ms (%zu "
               "live cases)\n",
               p50, p99, json_array_size(crm.latencies));
    else
        printf("  transaction -> CRM         no live cases\n");

    int rc = 0;
    if (o->check) {
        const char *why = NULL;
        if (r.instances == 0)
            why = "no scenario was injected";
        else if (r.recall < 0.95)
            why = "recall below 0.95";
        else if (r.precision < 0.9)
            why = "precision below 0.9";
        else if (json_array_size(audit) != emitted || dup)
            why = "the audit log does not hold exactly one entry per fraud "
                  "event";
        else if (matched != expected_crm || unexpected)
            why = "the CRM did not receive exactly the high-risk cases";
        else if (dlq != 0)
            why = dlq < 0 ? "the dead-letter queue is missing"
                          : "there are dead letters";
        printf("  check                      %s%s\n", why ? "FAILED: " : "ok",
               why ? why : "");
        rc = why ? 1 : 0;
    }
    fraud_eval_free(truth.eval);
    json_decref(truth.warmup);
    json_decref(g);
    json_decref(d);
    json_decref(audit);
    json_decref(conn);
    json_decref(seen);
    json_decref(expected);
    json_decref(crm.cases);
    json_decref(crm.latencies);
    return rc;
}

int main(int argc, char **argv) {
    opts_t o = {.endpoint = "http://127.0.0.1:4010",
                .audit_log = "/evbus/fraud-audit",
                .high_risk_score = 0.8,
                .high_risk_amount = 1000};
    enum {
        O_EP = 1,
        O_TRUTH,
        O_GEN,
        O_DET,
        O_CRM,
        O_AUDIT,
        O_CONN,
        O_DLQ,
        O_SCORE,
        O_AMOUNT,
        O_WATCH,
        O_CHECK,
        O_HELP
    };
    static const struct option opts[] = {
        {"endpoint-url", required_argument, NULL, O_EP},
        {"truth", required_argument, NULL, O_TRUTH},
        {"gen-stats", required_argument, NULL, O_GEN},
        {"detect-stats", required_argument, NULL, O_DET},
        {"crm", required_argument, NULL, O_CRM},
        {"audit-log", required_argument, NULL, O_AUDIT},
        {"connector-log", required_argument, NULL, O_CONN},
        {"dlq", required_argument, NULL, O_DLQ},
        {"high-risk-score", required_argument, NULL, O_SCORE},
        {"high-risk-amount", required_argument, NULL, O_AMOUNT},
        {"watch", required_argument, NULL, O_WATCH},
        {"check", no_argument, NULL, O_CHECK},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_EP: o.endpoint = optarg; break;
        case O_TRUTH: o.truth = optarg; break;
        case O_GEN: o.gen_stats = optarg; break;
        case O_DET: o.detect_stats = optarg; break;
        case O_CRM: o.crm = optarg; break;
        case O_AUDIT: o.audit_log = optarg; break;
        case O_CONN: o.connector_log = optarg; break;
        case O_DLQ: o.dlq = optarg; break;
        case O_SCORE: o.high_risk_score = atof(optarg); break;
        case O_AMOUNT: o.high_risk_amount = atof(optarg); break;
        case O_WATCH: o.watch = atof(optarg); break;
        case O_CHECK: o.check = true; break;
        case O_HELP:
        default:
            fprintf(c == O_HELP ? stdout : stderr,
                    "usage: fraud-report [--endpoint-url URL] --truth F "
                    "--gen-stats F --detect-stats F --crm F\n"
                    "                    [--audit-log G] [--connector-log G] "
                    "[--dlq QUEUE]\n"
                    "                    [--high-risk-score S] "
                    "[--high-risk-amount A] [--watch SECONDS | --check]\n");
            return c == O_HELP ? 0 : 64;
        }
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 0;
    if (o.watch > 0) {
        fraud_app_signals();
        while (!fraud_app_stop) {
            progress(&o);
            fraud_app_sleep_ms((int64_t)(o.watch * 1000));
        }
        printf("\n");
    } else {
        rc = summary(&o);
    }
    curl_global_cleanup();
    return rc;
}
