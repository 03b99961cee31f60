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
 *
 * Avro: with KafkaParameters.ValueSchemaSubject the payload (JSON) is
 * encoded as one Avro datum of that subject's schema (its latest version,
 * or ValueSchemaVersion) through src/serde and framed in the Confluent
 * wire format (magic 0, schema id) or, with ValueWireFormat "GLUE", AWS
 * Glue's (3, 0, schema version UUID). A payload that does not fit the
 * schema, or a subject or version the registry does not have, fails the
 * delivery with INVALID_PARAMETERS (not retried; dead-lettered); a
 * registry that cannot be reached is retried like a broker error.
 * Resolved writers are cached per subject/version/format for 30 s.
 */
#include <errno.h>
#include <pthread.h>
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

/* ---- resolved writers ---------------------------------------------------- */

#define WRITERS_MAX 32
#define WRITER_TTL_NS (30ull * 1000000000ull)
#define MAX_SUBJECT 255

typedef struct writer_entry {
    char *subject; /* NULL: free slot */
    int32_t version;
    bool glue;
    uint64_t at_ns;
    evb_serde_writer_t w;
} writer_entry_t;

struct evb__kafka_writers {
    evb_serde_t *serde; /* borrowed; may be NULL */
    pthread_mutex_t lock;
    writer_entry_t e[WRITERS_MAX];
};

evb__kafka_writers_t *evb__kafka_writers_new(evb_serde_t *serde) {
    evb__kafka_writers_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->serde = serde;
    pthread_mutex_init(&w->lock, NULL);
    return w;
}

static void entry_clear(writer_entry_t *e) {
    free(e->subject);
    evb_serde_writer_clear(&e->w);
    memset(e, 0, sizeof *e);
}

void evb__kafka_writers_free(evb__kafka_writers_t *w) {
    if (!w)
        return;
    for (size_t i = 0; i < WRITERS_MAX; i++)
        entry_clear(&w->e[i]);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* A copy of the cached writer (its own schema reference), if fresh. */
static bool writer_cached(evb__kafka_writers_t *c, const char *subject,
                          int32_t version, bool glue, evb_serde_writer_t *out) {
    bool hit = false;
    uint64_t now = evb_now_ns();
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < WRITERS_MAX && !hit; i++) {
        writer_entry_t *e = &c->e[i];
        if (!e->subject || e->version != version || e->glue != glue ||
            strcmp(e->subject, subject) != 0)
            continue;
        if (now - e->at_ns >= WRITER_TTL_NS) {
            entry_clear(e);
            break;
        }
        *out = e->w;
        evb_avro_schema_ref(out->schema);
        hit = true;
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

/* Remember w (a copy with its own reference), replacing the oldest entry
 * when the table is full. Best effort: out of memory skips it. */
static void writer_remember(evb__kafka_writers_t *c, const char *subject,
                            int32_t version, bool glue,
                            const evb_serde_writer_t *w) {
    char *s = evb__strdup_delivery(subject);
    if (!s)
        return;
    pthread_mutex_lock(&c->lock);
    writer_entry_t *slot = NULL;
    for (size_t i = 0; i < WRITERS_MAX; i++) {
        writer_entry_t *e = &c->e[i];
        if (e->subject && e->version == version && e->glue == glue &&
            strcmp(e->subject, subject) == 0) {
            slot = e; /* another thread resolved it too */
            break;
        }
        if (!slot || (slot->subject && (!e->subject || e->at_ns < slot->at_ns)))
            slot = e;
    }
    entry_clear(slot);
    slot->subject = s;
    slot->version = version;
    slot->glue = glue;
    slot->at_ns = evb_now_ns();
    slot->w = *w;
    evb_avro_schema_ref(slot->w.schema);
    pthread_mutex_unlock(&c->lock);
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

/* The members KafkaParameters may have. */
static const char *const KAFKA_PARAMETERS[] = {
    "PartitionKeyPath", "ValueSchemaSubject", "ValueSchemaVersion",
    "ValueWireFormat"};

/* What KafkaParameters asks for the value. */
typedef struct avro_spec {
    const char *subject; /* NULL: the value is the payload as it is */
    int32_t version;     /* EVB_REGISTRY_VERSION_LATEST when not given */
    bool glue;
} avro_spec_t;

/* Read the Avro members of a target spec; false (with a message in why)
 * when one has the wrong type or value. */
static bool avro_spec(const evb_jval_t *target, avro_spec_t *a, char *why,
                      size_t why_size) {
    memset(a, 0, sizeof *a);
    a->version = EVB_REGISTRY_VERSION_LATEST;
    const evb_jval_t *kp = member(target, "KafkaParameters");
    const evb_jval_t *subj = member(kp, "ValueSchemaSubject");
    const evb_jval_t *ver = member(kp, "ValueSchemaVersion");
    const evb_jval_t *wire = member(kp, "ValueWireFormat");
    if (subj && (subj->type != EVB_JSON_STRING || subj->u.str.len == 0 ||
                 subj->u.str.len > MAX_SUBJECT ||
                 memchr(subj->u.str.s, '\0', subj->u.str.len))) {
        snprintf(why, why_size,
                 "KafkaParameters.ValueSchemaSubject must be a string of 1 "
                 "to %d characters.",
                 MAX_SUBJECT);
        return false;
    }
    if (ver) {
        char *end = NULL;
        long v = 0;
        if (ver->type == EVB_JSON_NUMBER) {
            errno = 0;
            v = strtol(ver->u.str.s, &end, 10);
        }
        if (ver->type != EVB_JSON_NUMBER || errno || !end ||
            end != ver->u.str.s + ver->u.str.len || v < 1 || v > INT32_MAX) {
            snprintf(why, why_size,
                     "KafkaParameters.ValueSchemaVersion must be a positive "
                     "integer.");
            return false;
        }
        a->version = (int32_t)v;
    }
    if (wire) {
        if (wire->type != EVB_JSON_STRING ||
            (strcmp(wire->u.str.s, "CONFLUENT") != 0 &&
             strcmp(wire->u.str.s, "GLUE") != 0)) {
            snprintf(why, why_size,
                     "KafkaParameters.ValueWireFormat must be CONFLUENT or "
                     "GLUE.");
            return false;
        }
        a->glue = strcmp(wire->u.str.s, "GLUE") == 0;
    }
    if ((ver || wire) && !subj) {
        snprintf(why, why_size,
                 "KafkaParameters.%s needs "
                 "KafkaParameters.ValueSchemaSubject.",
                 ver ? "ValueSchemaVersion" : "ValueWireFormat");
        return false;
    }
    a->subject = subj ? subj->u.str.s : NULL;
    return true;
}

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
                                  "PartitionKeyPath, ValueSchemaSubject, "
                                  "ValueSchemaVersion, ValueWireFormat).",
                                  target_id, kp->u.obj.members[i].key);
        }
        avro_spec_t as;
        char why[160];
        if (!err && !avro_spec(v, &as, why, sizeof why))
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "%s (target %s)", why, target_id);
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

/* Encode the payload in value as Avro when the target asks for it.
 * false: o says why; *unavailable then tells a retriable failure (the
 * registry could not be reached, out of memory) from a final one. */
static bool encode_value(evb__kafka_writers_t *c, const evb_jval_t *target,
                         evb_buf_t *value, outcome_t *o, bool *unavailable) {
    *unavailable = false;
    avro_spec_t as;
    if (!avro_spec(target, &as, o->error_message, sizeof o->error_message)) {
        o->error_code = "INVALID_PARAMETERS";
        return false;
    }
    if (!as.subject)
        return true;
    evb_serde_t *serde = c ? c->serde : NULL;
    if (!serde || !evb_serde_has_registry(serde)) {
        o->error_code = "INVALID_PARAMETERS";
        snprintf(o->error_message, sizeof o->error_message,
                 "no schema registry for ValueSchemaSubject %.64s",
                 as.subject);
        return false;
    }
    evb_serde_writer_t w = {0};
    evb_err_t e = EVB_ERR_OK;
    char why[sizeof o->error_message] = "";
    if (!writer_cached(c, as.subject, as.version, as.glue, &w)) {
        e = evb_serde_writer_version(serde, as.subject, as.version,
                                     as.glue ? EVB_SERDE_WRITER_UUID : 0, &w,
                                     NULL, why, sizeof why);
        if (!e)
            writer_remember(c, as.subject, as.version, as.glue, &w);
    }
    evb_buf_t out;
    evb_buf_init(&out, 0);
    if (!e) {
        evb_serde_encode_opts_t eo = {
            .wire = as.glue ? EVB_WIRE_GLUE : EVB_WIRE_CONFLUENT};
        e = evb_serde_encode(&w, &eo, value->data ? value->data : "",
                             value->len, &out, why, sizeof why);
    }
    evb_serde_writer_clear(&w);
    if (e) {
        evb_buf_free(&out);
        *unavailable = e == EVB_ERR_IO || e == EVB_ERR_NOMEM ||
                       e == EVB_ERR_INTERNAL;
        o->error_code = *unavailable ? "INTERNAL_ERROR" : "INVALID_PARAMETERS";
        snprintf(o->error_message, sizeof o->error_message,
                 "Avro encoding with subject %.64s failed: %s", as.subject,
                 why[0] ? why : evb_err_name(e));
        return false;
    }
    evb_buf_free(value);
    *value = out;
    return true;
}

void evb__target_kafka(evb_bus_service_t *svc, evb__kafka_writers_t *avro,
                       const due_t *d, const evb_target_ref_t *t,
                       outcome_t *o) {
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
    bool unavailable = false;
    bool ok = !bad && encode_value(avro, spec, &body, o, &unavailable) &&
              message_key(d, path, &k.key, &k.key_len);
    evb_arena_free(&a);
    if (!ok) {
        evb_buf_free(&body);
        if (!unavailable)
            return;
        /* retriable: through evb__kafka_submit, so retries and
         * RetryPolicy apply as for a broker error */
        k.unavailable = true;
        body.data = evb__strdup_delivery(o->error_message);
        body.len = body.data ? strlen(body.data) : 0;
        o->error_code = NULL;
        o->error_message[0] = '\0';
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
    evb_apidest_result_t res = {EVB_APIDEST_RETRIABLE, 0, "KAFKA_ERROR", "",
                               false};
    if (o->kafka.unavailable) {
        res.code = "INTERNAL_ERROR";
        snprintf(res.message, sizeof res.message, "%s", o->kafka.value);
        done(ud, &res);
        return;
    }
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
