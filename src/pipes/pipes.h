/*
 * pipes: EventBridge Pipes from Kafka topics to targets (reference §6).
 *
 * A pipe reads one Kafka topic in a consumer group (self-managed Kafka,
 * `smk://host:port`, or an MSK cluster ARN mapped to bootstrap servers by
 * evbus's configuration), and for every batch of records: shapes each
 * record as a pipe sees it (§6.2), filters it (FilterCriteria, the bus's
 * pattern engine, with §6.3's format-match table), optionally enriches it
 * through an API destination (§6.4), renders the target's InputTemplate
 * (§6.5) and hands the batch to the target: an event bus (PutEvents
 * through bus ingestion), an API destination, a CloudWatch log group (this
 * store's log tables), a queue of the built-in SQS service, or a Kafka
 * topic (a hook, filled by the Kafka module). Offsets are committed only
 * after the target accepted the whole batch; a batch that fails is retried
 * whole, with exponential backoff, never skipped. Records of a partition
 * are processed in order.
 *
 * The module is split into pieces that are usable, and tested, alone:
 *
 * - records (record.c): §6.2 shaping, and the decoded views filters and
 *   templates see. A decode hook (evb_pipe_decode_fn) turns a record's
 *   key or value into JSON before the built-in rules apply: this is where
 *   Avro decoding through the schema registry plugs in.
 * - filters (filter.c): FilterCriteria compiled into one matcher.
 * - templates (template.c): pipe InputTemplates with <$.path> and the
 *   reserved aws.pipes.* variables, and JSONPath dynamic parameters.
 * - sources (source_kafka.c): a small interface (evb_pipe_source_ops_t)
 *   with a built-in librdkafka implementation; the shared Kafka wrapper
 *   can replace it without touching the rest.
 * - the service (control.c, spec.c, runner.c, targets.c): the Pipes
 *   control plane over the store, and one runner thread per running pipe.
 *
 * Threading: every evb_pipe_* control function is thread-safe. Filters
 * and templates are immutable once compiled.
 */
#ifndef EVB_PIPES_H
#define EVB_PIPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../apidest/apidest.h"
#include "../bus/bus.h"
#include "../common/common.h"
#include "../delivery/delivery.h"
#include "../pattern/pattern.h"
#include "../queue/queue.h"
#include "../store/store.h"

/* ---- records (§6.2) ---------------------------------------------------- */

typedef enum evb_pipe_ts_type {
    EVB_PIPE_TS_NONE,       /* "NO_TIMESTAMP_TYPE" */
    EVB_PIPE_TS_CREATE,     /* "CREATE_TIME" */
    EVB_PIPE_TS_LOG_APPEND, /* "LOG_APPEND_TIME" */
} evb_pipe_ts_type_t;

typedef struct evb_pipe_header {
    const char *name; /* NUL-terminated */
    const void *value; /* NULL: a header without a value */
    size_t len;
} evb_pipe_header_t;

/* One source record, borrowed from the source (valid until its next
 * poll). key NULL: the record has no key; value NULL: a tombstone. */
typedef struct evb_pipe_record {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* -1 when there is none */
    evb_pipe_ts_type_t ts_type;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    const evb_pipe_header_t *headers;
    size_t nheaders;
} evb_pipe_record_t;

/* Where records come from, as each record names it. */
typedef struct evb_pipe_origin {
    bool msk; /* MSK: eventSource "aws:kafka" and eventSourceArn; else
                 "SelfManagedKafka" and bootstrapServers */
    const char *source; /* MSK: the cluster ARN; self-managed: the bootstrap
                           servers, comma-separated */
} evb_pipe_origin_t;

/* What a key or a value holds once decoded. */
typedef enum evb_pipe_data_kind {
    EVB_PIPE_DATA_NONE,   /* no key, or a null value */
    EVB_PIPE_DATA_JSON,   /* valid JSON text (or JSON from the decode hook) */
    EVB_PIPE_DATA_TEXT,   /* valid UTF-8 that is not JSON */
    EVB_PIPE_DATA_BINARY, /* not UTF-8 */
} evb_pipe_data_kind_t;

typedef enum evb_pipe_decode_result {
    EVB_PIPE_DECODE_PASS,  /* not mine: apply the built-in JSON/UTF-8 rules */
    EVB_PIPE_DECODE_JSON,  /* json holds the decoded value as JSON text */
    EVB_PIPE_DECODE_RETRY, /* cannot decode now (registry unreachable, ...):
                              the batch is retried later (errstr: why) */
    EVB_PIPE_DECODE_BINARY, /* mine, but it cannot be decoded for good
                               (unknown schema id, malformed): the data is
                               binary (base64, metadata filters only) and
                               the record is counted as undecodable */
} evb_pipe_decode_result_t;

/* What the decode hook says about data it decoded (EVB_PIPE_DECODE_JSON):
 * zeroed on entry; when data_format is set, the record as the pipe passes
 * it on gets "valueSchemaMetadata" (or "keySchemaMetadata"):
 * {"dataFormat": data_format, "schemaId": schema_id}. */
typedef struct evb_pipe_decode_info {
    char data_format[16]; /* "AVRO" */
    char schema_id[64];   /* the registry id ("7"), or a Glue schema
                             version UUID */
} evb_pipe_decode_info_t;

/*
 * THE DECODE HOOK. Called for a record's key (is_key) and value before the
 * built-in rules, with the raw bytes; it may append the value as JSON text
 * to json (empty on entry), fill info, and answer EVB_PIPE_DECODE_JSON.
 * This is where Avro values (Confluent framing: magic byte 0 and a 4-byte
 * schema id; AWS Glue framing) are decoded through the schema registry
 * (evb_pipe_serde_decode below). Called on the pipe's runner thread; must
 * be thread-safe across pipes.
 */
typedef evb_pipe_decode_result_t (*evb_pipe_decode_fn)(
    void *ud, const evb_pipe_record_t *rec, bool is_key, const void *data,
    size_t len, evb_buf_t *json, evb_pipe_decode_info_t *info, char *errstr,
    size_t errstr_size);

/*
 * The decode hook over the serde codec: ud is an evb_serde_t (src/serde).
 * Values that start with 0x00 (Confluent) or 0x03 (AWS Glue) are framed
 * Avro, decoded through the codec's registry to JSON
 * (EVB_PIPE_DECODE_JSON, info "AVRO" and the schema id or UUID);
 * anything else is left to the built-in rules (EVB_PIPE_DECODE_PASS).
 * An unknown schema id or UUID, malformed framing or Avro data, and a
 * value too large to decode are EVB_PIPE_DECODE_BINARY; a registry that
 * cannot be reached (or a store error, or no memory) is
 * EVB_PIPE_DECODE_RETRY.
 */
evb_pipe_decode_result_t evb_pipe_serde_decode(void *ud,
                                               const evb_pipe_record_t *rec,
                                               bool is_key, const void *data,
                                               size_t len, evb_buf_t *json,
                                               evb_pipe_decode_info_t *info,
                                               char *errstr,
                                               size_t errstr_size);

/* A record shaped for the pipe's stages. Initialise with
 * evb_pipe_shaped_init, reuse with evb_pipe_shape, free with
 * evb_pipe_shaped_free. */
typedef struct evb_pipe_shaped {
    /* §6.2: the record as the pipe passes it on (key and value base64,
     * header values as arrays of byte numbers), compact JSON text */
    evb_buf_t event;
    /* what filters see (§6.3): the filterable metadata (topic, partition,
     * offset, timestamp, timestampType, bootstrapServers, headers) and key
     * and value decoded: JSON as JSON, UTF-8 text as a string, binary
     * left out */
    evb_buf_t filter_view;
    evb_pipe_data_kind_t key_kind, value_kind;
    evb_buf_t key_json, value_json; /* the decoded JSON when kind is JSON */
    /* what the decode hook said of them (data_format "" when nothing) */
    evb_pipe_decode_info_t key_info, value_info;
    /* how many of key and value the hook could not decode (0..2) */
    unsigned undecodable;
    /* bookkeeping */
    char *topic;
    int32_t partition;
    int64_t offset;
} evb_pipe_shaped_t;

void evb_pipe_shaped_init(evb_pipe_shaped_t *s);
void evb_pipe_shaped_free(evb_pipe_shaped_t *s);

/*
 * Shape one record. decode may be NULL. Returns EVB_PIPE_DECODE_JSON or
 * _PASS on success (whatever the record held; out->undecodable counts the
 * fields the hook answered _BINARY for), EVB_PIPE_DECODE_RETRY when the
 * hook asked for a retry (errstr says why). Allocation failure gives
 * _RETRY with "out of memory".
 *
 * The event (§6.2) carries key and value in base64. A field the hook
 * decoded to JSON is carried as the base64 of that JSON text (so a target
 * receives Avro values as it would receive the same JSON values), followed
 * by "keySchemaMetadata" / "valueSchemaMetadata" when the hook filled
 * info (the shape AWS Lambda's Kafka event source mappings use with a
 * schema registry and EventRecordFormat JSON). A field the hook could not
 * decode is carried as its raw bytes in base64.
 */
evb_pipe_decode_result_t evb_pipe_shape(const evb_pipe_origin_t *origin,
                                        const evb_pipe_record_t *rec,
                                        evb_pipe_decode_fn decode, void *ud,
                                        evb_pipe_shaped_t *out, char *errstr,
                                        size_t errstr_size);

/*
 * The record as templates and dynamic parameters see it (§6.5): the
 * event, with key and value replaced by their decoded JSON when they hold
 * JSON (they stay base64 otherwise). A new reference, NULL on allocation
 * failure.
 */
json_t *evb_pipe_shaped_template_view(const evb_pipe_shaped_t *s);

/* Standard base64 (with padding) of data, appended to out. */
evb_err_t evb_pipe_base64(evb_buf_t *out, const void *data, size_t len);

/* ---- filters (§6.3) ----------------------------------------------------- */

typedef struct evb_pipe_filter evb_pipe_filter_t;

/*
 * Compile FilterCriteria.Filters[].Pattern (at most 5, ORed). n == 0 is
 * "no filtering". A pattern that is not valid is EVB_ERR_INVALID_ARG with
 * the pattern engine's message ("Event pattern is not valid. Reason:
 * ...") and the filter's index. Free with evb_pipe_filter_free.
 */
evb_err_t evb_pipe_filter_compile(const char *const *patterns,
                                  const size_t *lens, size_t n,
                                  evb_pipe_filter_t **out, char *errstr,
                                  size_t errstr_size);
void evb_pipe_filter_free(evb_pipe_filter_t *f);

/*
 * Does the record pass? Each filter is applied with §6.3's format-match
 * table: a data field (key, value) condition applies only when the
 * record's data and the pattern agree in format (JSON data with an object
 * pattern, plain UTF-8 text with an array pattern); otherwise, and for
 * non-UTF-8 data, only the metadata conditions of that filter apply.
 * ctx is the caller's per-thread match context.
 */
evb_err_t evb_pipe_filter_match(const evb_pipe_filter_t *f,
                                evb_match_ctx_t *ctx,
                                const evb_pipe_shaped_t *rec, bool *pass,
                                char *errstr, size_t errstr_size);

/* ---- templates and JSONPath (§6.5) ------------------------------------------ */

typedef struct evb_pipe_template evb_pipe_template_t;

/* The reserved variables; NULL fields render as missing. */
typedef struct evb_pipe_vars {
    const char *pipe_arn, *pipe_name, *source_arn, *enrichment_arn,
        *target_arn;
    const char *ingestion_time; /* ISO 8601; NULL: now */
    const char *event_text;     /* <aws.pipes.event>: the event as received,
                                   as text (a string value) */
} evb_pipe_vars_t;

/*
 * Compile an InputTemplate: free text, one bare <$.path>, or JSON (it
 * starts with '{' or '[') with inline <$.path> and <aws.pipes.*>
 * placeholders. Errors (EVB_ERR_INVALID_ARG): a <$...> that is not a
 * JSONPath, an unknown <aws.pipes.*> variable, <aws.pipes.event.json>
 * anywhere but a JSON value position.
 */
evb_err_t evb_pipe_template_compile(const char *text, size_t len,
                                    evb_pipe_template_t **out, char *errstr,
                                    size_t errstr_size);
void evb_pipe_template_free(evb_pipe_template_t *t);
bool evb_pipe_template_is_json(const evb_pipe_template_t *t);

/*
 * Render for one event (a JSON value: the record's template view, or the
 * enrichment's answer) and append to out. Quoting (§6.5):
 * - JSON template, placeholder outside a string: strings are quoted and
 *   escaped, numbers, booleans and null as they are, objects and arrays as
 *   compact JSON; a missing path gives null.
 * - inside a string, and in free text: strings are spliced in (escaped
 *   for JSON inside a JSON string), objects and arrays as compact JSON
 *   with their quotes removed ({key:value}); a missing path gives nothing.
 * - <aws.pipes.event.json> is the event as compact JSON.
 * A JSON template whose result is not valid JSON gives
 * EVB_ERR_INVALID_OUTPUT (the record cannot be delivered). Also
 * EVB_ERR_NOMEM, EVB_ERR_TOO_LARGE (out's limit).
 */
evb_err_t evb_pipe_template_render(const evb_pipe_template_t *t,
                                   const json_t *event,
                                   const evb_pipe_vars_t *vars, evb_buf_t *out,
                                   char *errstr, size_t errstr_size);

/* Is s a JSONPath as Pipes accepts one: $ then .name ([\w/-]), .*, [n]
 * or [*] steps? */
bool evb_pipe_jsonpath_valid(const char *s, size_t len);

/* Evaluate a JSONPath. A path with a wildcard gives a new array of every
 * match; otherwise the value itself. Always a new reference (NULL when the
 * path selects nothing or is not valid). */
json_t *evb_pipe_jsonpath_eval(const char *path, const json_t *root);

/* ---- sources ---------------------------------------------------------------- */

/* What a source is opened with. */
typedef struct evb_pipe_source_config {
    const char *bootstrap_servers; /* comma-separated host:port */
    const char *topic;
    const char *group_id;
    bool from_latest; /* StartingPosition LATEST (else TRIM_HORIZON) */
    /* extra client properties as key, value pairs (credentials, TLS) */
    const char *const *props;
    size_t nprops;
    const char *client_id;
    /* the pipe's progress as evbus recorded it: where a partition without
     * a committed offset in the group resumes (instead of the starting
     * position) */
    const struct evb_pipe_position *resume;
    size_t nresume;
} evb_pipe_source_config_t;

/* A position: the next offset to read in a partition. */
typedef struct evb_pipe_position evb_pipe_position_t;
struct evb_pipe_position {
    const char *topic;
    int32_t partition;
    int64_t next_offset;
};

/*
 * A record source. The built-in one (evb_pipe_kafka_source) is a
 * librdkafka consumer in a consumer group; the shared Kafka wrapper can
 * stand in for it. Every call is made from the pipe's runner thread.
 *
 * - open: join the group. A partition without a committed offset starts
 *   at the configured position, and that position is committed at once, so
 *   that a pipe stopped before its first batch resumes there (LATEST is
 *   fixed when the pipe first starts, not each time it starts).
 * - poll: wait up to timeout_ms for the next record: 1 and *rec filled
 *   (valid until the next poll), 0 none, -1 error (errstr). A source may
 *   drop records of partitions it lost in a rebalance (they were not
 *   committed; their new owner reads them).
 * - commit: positions processed (sync: wait for the broker).
 * - close: leave the group; nothing is committed that was not given to
 *   commit.
 * - ready (optional): true once the source has joined its group and been
 *   given its partitions (possibly none), so that records produced from
 *   now on will be read. The pipe reports RUNNING from then on.
 * - end_offset (optional): the partition's last known end (high
 *   watermark: the offset the next record produced gets), without asking
 *   the broker; false when not known. The runner reports the consumer
 *   lag from it (evbus_pipe_consumer_lag: end minus the committed next
 *   offset).
 */
typedef struct evb_pipe_source_ops {
    evb_err_t (*open)(const evb_pipe_source_config_t *cfg, void **src,
                      char *errstr, size_t errstr_size);
    int (*poll)(void *src, int timeout_ms, evb_pipe_record_t *rec,
                char *errstr, size_t errstr_size);
    evb_err_t (*commit)(void *src, const evb_pipe_position_t *pos, size_t n,
                        bool sync, char *errstr, size_t errstr_size);
    void (*close)(void *src);
    bool (*ready)(void *src);
    bool (*end_offset)(void *src, const char *topic, int32_t partition,
                       int64_t *end);
} evb_pipe_source_ops_t;

/* The built-in librdkafka source. */
extern const evb_pipe_source_ops_t evb_pipe_kafka_source;

/* ---- configuration ------------------------------------------------------------ */

/* An MSK cluster ARN and the bootstrap servers evbus reaches it by. */
typedef struct evb_pipe_msk_cluster {
    const char *arn;
    const char *bootstrap; /* host:port[,host:port...] */
} evb_pipe_msk_cluster_t;

/*
 * A secret that Credentials or ServerRootCaCertificate may name: the
 * Secrets Manager ARN and a local file holding the secret's JSON, in
 * Secrets Manager's shapes: {"username","password"} for BasicAuth and the
 * SASL/SCRAM kinds; {"certificate","privateKey","privateKeyPassword"} for
 * ClientCertificateTlsAuth; {"certificate"} for ServerRootCaCertificate.
 * Any secret may add {"properties": {librdkafka property: value}} (e.g.
 * "security.protocol": "SASL_PLAINTEXT"), applied last. The file is read
 * when the pipe starts.
 */
typedef struct evb_pipe_secret {
    const char *arn;
    const char *path;
} evb_pipe_secret_t;

/* One target item for the Kafka-topic hook. */
typedef struct evb_pipe_kafka_item {
    const char *payload;
    size_t len;
} evb_pipe_kafka_item_t;

/*
 * THE KAFKA TARGET HOOK: deliver items (in order) to the Kafka topic named
 * by target_arn (an MSK topic ARN, arn:aws:kafka:REGION:ACCOUNT:topic/
 * CLUSTER/UUID/TOPIC). Return EVB_ERR_OK only when every item is durably
 * produced (acks=all); any error retries the whole batch.
 */
typedef evb_err_t (*evb_pipe_kafka_target_fn)(
    void *ud, const char *target_arn, const evb_pipe_kafka_item_t *items,
    size_t n, char *errstr, size_t errstr_size);

/*
 * The Kafka target hook over src/kafka's named clusters: ud is an
 * evb_kafka_clusters_t. The target ARN's CLUSTER names a configured
 * cluster (`default` is evbus serve's --kafka-config / --embedded-kafka;
 * MSK's topic/CLUSTER/UUID/TOPIC form is accepted, the UUID unused), and
 * the items are produced to TOPIC with the cluster's shared idempotent
 * producer (acks=all), without a key, then waited for: EVB_ERR_OK once
 * every item has its successful delivery report. An unknown cluster is
 * EVB_ERR_NOT_FOUND, a refused message or failed report EVB_ERR_IO (the
 * pipe retries the batch in either case).
 */
evb_err_t evb_pipe_kafka_produce(void *ud, const char *target_arn,
                                 const evb_pipe_kafka_item_t *items, size_t n,
                                 char *errstr, size_t errstr_size);

typedef struct evb_pipe_service_config {
    evb_store_t *store;            /* required */
    evb_bus_service_t *bus;        /* required (event-bus targets, ARNs) */
    evb_delivery_t *delivery;      /* kicked after PutEvents; may be NULL */
    evb_queue_service_t *queues;   /* notified after queueing; may be NULL */
    evb_apidest_invoker_t *invoker; /* enrichment, API-destination targets;
                                       NULL: they fail (and are retried) */
    const evb_pipe_msk_cluster_t *msk; /* copied */
    size_t nmsk;
    const evb_pipe_secret_t *secrets; /* copied */
    size_t nsecrets;
    /* librdkafka properties for every pipe's consumer, as key, value,
     * key, value... (copied); a secret's "properties" override them */
    const char *const *kafka_props;
    size_t nkafka_props; /* pairs */
    const evb_pipe_source_ops_t *source; /* NULL: evb_pipe_kafka_source */
    evb_pipe_decode_fn decode;           /* NULL: JSON values only */
    void *decode_ud;
    evb_pipe_kafka_target_fn kafka_target; /* NULL: Kafka targets refused */
    void *kafka_target_ud;
    bool no_runners;           /* control plane only: pipes never run */
    unsigned retry_initial_ms; /* backoff of a failed batch; 0 = 200 */
    unsigned retry_max_ms;     /* 0 = 30000 */
    unsigned max_pipes;        /* 0 = 1000 (AWS's quota) */
} evb_pipe_service_config_t;

typedef struct evb_pipe_service evb_pipe_service_t;

/*
 * Load every pipe from the store and start the runners of those whose
 * desired state is RUNNING (a pipe caught in a transition by a shutdown
 * or crash settles to its desired state). Everything in cfg must outlive
 * the service; the arrays are copied. Free with evb_pipe_service_close,
 * which stops every runner first (a batch in hand is finished or left
 * uncommitted).
 */
evb_err_t evb_pipe_service_open(const evb_pipe_service_config_t *cfg,
                                evb_pipe_service_t **out, char *errstr,
                                size_t errstr_size);
void evb_pipe_service_close(evb_pipe_service_t *svc);

/* ---- control plane (§6.1) ---------------------------------------------------
 *
 * Requests are JSON objects with the members the REST body carries (the
 * name comes from the path); answers are new JSON objects in the model's
 * shapes (times as epoch seconds), freed by the caller with json_decref.
 * Errors, with AWS's message in errstr:
 *   EVB_ERR_INVALID_ARG        ValidationException (400)
 *   EVB_ERR_NOT_FOUND          NotFoundException (404)
 *   EVB_ERR_EXISTS,
 *   EVB_ERR_CONCURRENT_MODIFICATION  ConflictException (409)
 *   EVB_ERR_LIMIT_EXCEEDED     ServiceQuotaExceededException (402)
 *   EVB_ERR_IO, EVB_ERR_NOMEM  InternalException (500)
 *
 * States: a created pipe is CREATING, then RUNNING (or STOPPED when its
 * DesiredState is STOPPED) once its runner has joined the consumer group;
 * Stop goes through STOPPING, Start through STARTING, Update through
 * UPDATING, Delete through DELETING and the pipe then disappears. A runner
 * that cannot start (an unknown secret, an unmapped MSK cluster) leaves
 * CREATE_FAILED, START_FAILED or UPDATE_FAILED with a StateReason.
 * Start, Stop, Update and Delete of a pipe in CREATING, UPDATING or
 * DELETING are a ConflictException.
 */
evb_err_t evb_pipe_create(evb_pipe_service_t *svc, const char *name,
                          const json_t *req, json_t **resp, char *errstr,
                          size_t errstr_size);
/* Top-level members omitted keep their values; SourceParameters members
 * given replace theirs (the Kafka parameters object atomically: its
 * omitted optional members go back to their defaults), as do
 * EnrichmentParameters, TargetParameters and LogConfiguration. Source,
 * TopicName, StartingPosition and ConsumerGroupID cannot change. */
evb_err_t evb_pipe_update(evb_pipe_service_t *svc, const char *name,
                          const json_t *req, json_t **resp, char *errstr,
                          size_t errstr_size);
evb_err_t evb_pipe_describe(evb_pipe_service_t *svc, const char *name,
                            json_t **resp, char *errstr, size_t errstr_size);
evb_err_t evb_pipe_delete(evb_pipe_service_t *svc, const char *name,
                          json_t **resp, char *errstr, size_t errstr_size);
evb_err_t evb_pipe_start(evb_pipe_service_t *svc, const char *name,
                         json_t **resp, char *errstr, size_t errstr_size);
evb_err_t evb_pipe_stop(evb_pipe_service_t *svc, const char *name,
                        json_t **resp, char *errstr, size_t errstr_size);

/* ListPipes' query; NULL members are absent, limit 0 means 100. */
typedef struct evb_pipe_list_query {
    const char *name_prefix, *desired_state, *current_state, *source_prefix,
        *target_prefix, *next_token;
    unsigned limit;
} evb_pipe_list_query_t;

evb_err_t evb_pipe_list(evb_pipe_service_t *svc, const evb_pipe_list_query_t *q,
                        json_t **resp, char *errstr, size_t errstr_size);

/* Tags of a pipe by ARN (NotFoundException for any other ARN). tags is
 * the TagMap object. */
evb_err_t evb_pipe_tag(evb_pipe_service_t *svc, const char *arn,
                       const json_t *tags, char *errstr, size_t errstr_size);
evb_err_t evb_pipe_untag(evb_pipe_service_t *svc, const char *arn,
                         const char *const *keys, size_t n, char *errstr,
                         size_t errstr_size);
/* *resp: {"tags": {...}} */
evb_err_t evb_pipe_list_tags(evb_pipe_service_t *svc, const char *arn,
                             json_t **resp, char *errstr, size_t errstr_size);

/* ---- observing a pipe --------------------------------------------------------- */

typedef struct evb_pipe_stats {
    uint64_t records_in;      /* records read from the source */
    uint64_t records_filtered; /* dropped by FilterCriteria or by an empty
                                  enrichment answer */
    uint64_t records_out;     /* items accepted by the target */
    uint64_t records_invalid; /* items the target template or the target
                                 itself refused for good (dropped) */
    uint64_t records_undecodable; /* records whose key or value the decode
                                     hook could not decode for good (passed
                                     on as binary) */
    uint64_t batches;         /* batches settled (target done, committed) */
    uint64_t batch_failures;  /* failed attempts (each retried) */
    uint64_t commits;         /* offset commits */
} evb_pipe_stats_t;

/* The counters of the pipe's runners since the service opened (summed
 * over restarts of the pipe). EVB_ERR_NOT_FOUND if there is no such pipe. */
evb_err_t evb_pipe_get_stats(evb_pipe_service_t *svc, const char *name,
                             evb_pipe_stats_t *out);

/* The librdkafka properties a pipe's source would be opened with
 * (bootstrap.servers, group.id, security.protocol, sasl.*, ssl.*), as
 * key=value lines into out; for documentation and tests. Secrets are
 * replaced by "(secret)". */
evb_err_t evb_pipe_describe_source_config(evb_pipe_service_t *svc,
                                          const char *name, evb_buf_t *out,
                                          char *errstr, size_t errstr_size);

#endif
