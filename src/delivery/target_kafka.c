/*
 * target_kafka.c: Kafka topics as rule targets (an evbus extension;
 * EventBridge has no Kafka target).
 *
 * ARN: arn:aws:kafka:REGION:ACCOUNT:topic/CLUSTER/TOPIC, CLUSTER naming a
 * cluster of evbus's configuration (`default`: the one --kafka-config
 * gives), or MSK's topic ARN arn:aws:kafka:REGION:ACCOUNT:topic/
 * CLUSTER_NAME/CLUSTER_UUID/TOPIC (the UUID is not used). Region and
 * account are not checked: a cluster is found by its name alone.
 *
 * The value is the payload every target gets (the event, or Input,
 * InputPath, InputTransformer's rendering). The key is taken from the
 * event with the JSONPath in KafkaParameters.PartitionKeyPath (evbus's
 * member) or, so that the AWS CLI and SDKs (whose model has no
 * KafkaParameters) can set it, KinesisParameters.PartitionKeyPath: a
 * string gives its characters, a number or boolean its JSON text, an
 * object or array its compact JSON; a missing path or null gives no key
 * (librdkafka's partitioner then spreads the messages).
 *
 * Like API destinations, producing is asynchronous: decide() prepares the
 * message here (OUT_INFLIGHT), delivery.c submits a batch's calls
 * together and waits for their completions, and evb__kafka_submit turns
 * the producer's delivery report into the same result an invocation
 * gives, so retries, RetryPolicy and dead letters work as for any
 * target: an unknown cluster or topic (NO_RESOURCE), a bad topic name or
 * a message too large (INVALID_PARAMETERS) and authorization failures
 * are not retried; timeouts and broker errors are, with backoff.
 * The producer is the cluster's shared idempotent one (acks=all).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../json/json.h"
#include "../kafka/kafka.h"
#include "../transform/transform.h"
#include "delivery_internal.h"

#define MAX_KEY_PATH 256

void evb__kafka_call_free(kafka_call_t *k) {
    free(k->cluster);
    free(k->topic);
    free(k->key);
    free(k->value);
    memset(k, 0, sizeof *k);
}

/* A member of object v by name (the last one when a key repeats). */
static const evb_jval_t *member(const evb_jval_t *v, const char *name) {
    const evb_jval_t *found = NULL;
    if (v && v->type == EVB_JSON_OBJECT)
        for (size_t i = 0; i < v->u.obj.n; i++)
            if (strcmp(v->u.obj.members[i].key, name) == 0)
                found = v->u.obj.members[i].val;
    return found;
}

/* The key's JSONPath member of a target (KafkaParameters first), or
 * NULL; *bad when it is there but not a string. */
static const evb_jval_t *key_path(const evb_jval_t *target, bool *bad,
                                  const char **where) {
    *bad = false;
    const evb_jval_t *p =
        member(member(target, "KafkaParameters"), "PartitionKeyPath");
    *where = "KafkaParameters.PartitionKeyPath";
    if (!p) {
        p = member(member(target, "KinesisParameters"), "PartitionKeyPath");
        *where = "KinesisParameters.PartitionKeyPath";
    }
    if (p && p->type != EVB_JSON_STRING) {
        *bad = true;
        return NULL;
    }
    return p;
}

/* The members KafkaParameters may have. EXTENSION POINT (Avro): the
 * members that will ask for Avro encoding with a registered schema go
 * here and are checked below; see encode_value. */
static const char *const KAFKA_PARAMETERS[] = {"PartitionKeyPath"};

evb_err_t evb_delivery_kafka_target_check(const char *target_id,
                                          const char *arn,
                                          const char *target_json, size_t len,
                                          char *errstr, size_t errstr_size) {
    if (!evb_kafka_topic_arn_parse(arn, NULL))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Parameter %s is not valid. Reason: Provided Arn "
                           "is not in correct format.",
                           arn);
    evb_arena_t a;
    evb_arena_init(&a, 1024);
    evb_jval_t *v;
    evb_err_t err = evb_json_parse(&a, target_json, len, 64, &v, NULL, 0);
    if (err || v->type != EVB_JSON_OBJECT) {
        evb_arena_free(&a);
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Target %s is not a JSON object.", target_id);
    }
    const evb_jval_t *kp = member(v, "KafkaParameters");
    if (kp && kp->type != EVB_JSON_NULL) {
        if (kp->type != EVB_JSON_OBJECT)
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "KafkaParameters for target %s must be an "
                              "object.",
                              target_id);
        for (size_t i = 0; !err && i < kp->u.obj.n; i++) {
            bool known = false;
            for (size_t k = 0; k < EVB_ARRAY_LEN(KAFKA_PARAMETERS); k++)
                known |=
                    strcmp(kp->u.obj.members[i].key, KAFKA_PARAMETERS[k]) == 0;
            if (!known)
                err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                  "KafkaParameters for target %s has an "
                                  "unknown member %.64s (known: "
                                  "PartitionKeyPath).",
                                  target_id, kp->u.obj.members[i].key);
        }
    }
    bool bad;
    const char *where;
    const evb_jval_t *p = err ? NULL : key_path(v, &bad, &where);
    if (!err && bad)
        err =
            evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                        "%s for target %s must be a string.", where, target_id);
    if (!err && p) {
        evb_transform_spec_t spec = {.input_path = p->u.str.s,
                                     .input_path_len = p->u.str.len};
        evb_transform_t *tf = NULL;
        if (p->u.str.len == 0 || p->u.str.len > MAX_KEY_PATH ||
            evb_transform_compile(&spec, target_id, &tf, NULL, 0))
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "%s for target %s is invalid.", where, target_id);
        evb_transform_free(tf);
    }
    evb_arena_free(&a);
    return err;
}

/* The key for event d: *key NULL when there is none. */
static bool message_key(const due_t *d, const evb_jval_t *path, char **key,
                        size_t *key_len) {
    *key = NULL;
    *key_len = 0;
    if (!path)
        return true;
    evb_transform_spec_t spec = {.input_path = path->u.str.s,
                                 .input_path_len = path->u.str.len};
    evb_transform_t *tf = NULL;
    if (evb_transform_compile(&spec, "kafka", &tf, NULL, 0))
        return true; /* checked at PutTargets; treat as no key */
    evb_buf_t out;
    evb_buf_init(&out, 0);
    char err[128];
    evb_err_t e = evb_transform_apply(tf, d->body, d->body_len, NULL, &out, err,
                                      sizeof err);
    evb_transform_free(tf);
    if (e) {
        evb_buf_free(&out);
        return e != EVB_ERR_NOMEM;
    }
    evb_arena_t a;
    evb_arena_init(&a, 256);
    evb_jval_t *v;
    bool ok = true;
    if (out.data && !evb_json_parse(&a, out.data, out.len, 1000, &v, NULL, 0)) {
        const char *s = NULL;
        size_t n = 0;
        if (v->type == EVB_JSON_STRING || v->type == EVB_JSON_NUMBER) {
            s = v->u.str.s;
            n = v->u.str.len;
        } else if (v->type != EVB_JSON_NULL) {
            s = out.data; /* true, false, objects and arrays as compact JSON */
            n = out.len;
        }
        if (s) {
            *key = malloc(n + 1);
            if (*key) {
                memcpy(*key, s, n);
                (*key)[n] = '\0';
                *key_len = n;
            } else {
                ok = false;
            }
        }
    }
    evb_arena_free(&a);
    evb_buf_free(&out);
    return ok;
}

/*
 * EXTENSION POINT (Avro). The value is the rendered payload, JSON text,
 * as it is. When the Avro and schema-registry modules are wired in, a
 * target whose KafkaParameters asks for Avro (new members, added to
 * KAFKA_PARAMETERS above and checked there) will have the payload encoded
 * here with its registered schema in the Confluent wire format (magic 0,
 * schema id); an encoding failure is then a non-retriable
 * INVALID_PARAMETERS failure (set o->error_code and return false).
 */
static bool encode_value(const evb_jval_t *target, evb_buf_t *value,
                         outcome_t *o) {
    (void)target;
    (void)value;
    (void)o;
    return true;
}

void evb__target_kafka(evb_bus_service_t *svc, const due_t *d,
                       const evb_target_ref_t *t, outcome_t *o) {
    (void)svc;
    o->kind = OUT_DROPPED;
    evb_kafka_topic_arn_t arn;
    if (!evb_kafka_topic_arn_parse(t->arn, &arn)) {
        o->error_code = "INVALID_PARAMETERS";
        snprintf(o->error_message, sizeof o->error_message,
                 "not a Kafka topic ARN");
        return;
    }
    evb_buf_t body;
    evb_buf_init(&body, 0);
    if (!evb__render_payload(d, t, o, &body))
        return;
    evb_arena_t a;
    evb_arena_init(&a, 1024);
    evb_jval_t *spec = NULL;
    bool bad = false;
    const char *where;
    const evb_jval_t *path = NULL;
    if (!evb_json_parse(&a, t->spec, strlen(t->spec), 64, &spec, NULL, 0))
        path = key_path(spec, &bad, &where);
    kafka_call_t k = {0};
    bool ok = !bad && encode_value(spec, &body, o) &&
              message_key(d, path, &k.key, &k.key_len);
    evb_arena_free(&a);
    if (!ok) {
        evb_buf_free(&body);
        return;
    }
    k.cluster = evb__strdup_delivery(arn.cluster);
    k.topic = evb__strdup_delivery(arn.topic);
    k.value = body.data ? body.data : evb__strdup_delivery("");
    k.len = body.len;
    if (!k.cluster || !k.topic || !k.value) {
        evb__kafka_call_free(&k);
        return;
    }
    o->kafka = k;
    o->kind = OUT_INFLIGHT;
}

typedef struct submit_ctx {
    evb_apidest_done_fn done;
    void *ud;
} submit_ctx_t;

static void to_result(const evb_kafka_report_t *r, evb_apidest_result_t *res) {
    memset(res, 0, sizeof *res);
    res->outcome = r->ok          ? EVB_APIDEST_SUCCESS
                   : r->retriable ? EVB_APIDEST_RETRIABLE
                                  : EVB_APIDEST_FAILED;
    res->code = r->code;
    snprintf(res->message, sizeof res->message, "%.159s", r->message);
}

static void on_report(void *ud, const evb_kafka_report_t *r) {
    submit_ctx_t *c = ud;
    evb_apidest_result_t res;
    to_result(r, &res);
    c->done(c->ud, &res);
    free(c);
}

void evb__kafka_submit(evb_kafka_clusters_t *clusters, const outcome_t *o,
                       evb_apidest_done_fn done, void *ud) {
    evb_apidest_result_t res = {EVB_APIDEST_RETRIABLE, 0, "KAFKA_ERROR", ""};
    evb_kafka_producer_t *p;
    evb_err_t e = evb_kafka_clusters_producer(clusters, o->kafka.cluster, &p,
                                              res.message, sizeof res.message);
    if (e) {
        if (e == EVB_ERR_NOT_FOUND) {
            res.outcome = EVB_APIDEST_FAILED;
            res.code = "NO_RESOURCE";
        } else if (e == EVB_ERR_INVALID_ARG) {
            res.outcome = EVB_APIDEST_FAILED;
            res.code = "INVALID_PARAMETERS";
        }
        done(ud, &res);
        return;
    }
    submit_ctx_t *c = malloc(sizeof *c);
    if (!c) {
        snprintf(res.message, sizeof res.message, "out of memory");
        done(ud, &res);
        return;
    }
    c->done = done;
    c->ud = ud;
    evb_kafka_out_msg_t m = {
        o->kafka.topic, -1,           o->kafka.key, o->kafka.key_len,
        o->kafka.value, o->kafka.len, NULL,         0};
    evb_kafka_report_t why;
    if (evb_kafka_produce(p, &m, on_report, c, &why)) {
        free(c);
        to_result(&why, &res);
        done(ud, &res);
    }
}
