/* connector_internal.h: what the connector module's files share. */
#ifndef EVB_CONNECTOR_INTERNAL_H
#define EVB_CONNECTOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../sigv4/sigv4.h"
#include "connector.h"

/* ---- the property table (config.c) ---------------------------------------
 *
 * X(ID, name, type, default, min, max, flags, check, doc)
 *   type     STR, INT, BOOL, LIST, ENUM (min/max unused but for INT;
 *            ENUM's allowed values are the check's business), PREFIX (a
 *            family of properties: name ends in '.', passed through)
 *   default  the value when the property is not given (NULL: required)
 *   flags    F_SECRET (redacted), F_UNSUPPORTED (must be empty),
 *            F_IGNORED (accepted for compatibility, no effect),
 *            F_EVBUS (an evbus extension), F_KC (a Kafka Connect property)
 */
#define F_NONE 0u
#define F_SECRET 1u
#define F_UNSUPPORTED 2u
#define F_IGNORED 4u
#define F_EVBUS 8u
#define F_KC 16u

#define EVB__DEFAULT_MAPPER                                                    \
    "software.amazon.event.kafkaconnector.mapping.DefaultDetailTypeMapper"
#define EVB__JSONPATH_MAPPER                                                   \
    "software.amazon.event.kafkaconnector.mapping.JsonPathDetailTypeMapper"
#define EVB__DEFAULT_TIME_MAPPER                                               \
    "software.amazon.event.kafkaconnector.mapping.DefaultTimeMapper"
#define EVB__CONNECTOR_CLASS                                                   \
    "software.amazon.event.kafkaconnector.EventBridgeSinkConnector"
#define EVB__DATA_EXCEPTION "org.apache.kafka.connect.errors.DataException"
#define EVB__STRING_CONVERTER "org.apache.kafka.connect.storage.StringConverter"
#define EVB__JSON_CONVERTER "org.apache.kafka.connect.json.JsonConverter"
#define EVB__BYTES_CONVERTER                                                   \
    "org.apache.kafka.connect.converters.ByteArrayConverter"
#define EVB__AVRO_CONVERTER "io.confluent.connect.avro.AvroConverter"
#define EVB__GLUE_CONVERTER                                                    \
    "com.amazonaws.services.schemaregistry.kafkaconnect.AWSKafkaAvroConverter"

/* The converter properties, once for key and once for value. */
#define EVB__CONVERTER_PROPS(X, ID, P, DEF)                                    \
    X(ID, P ".converter", STR, DEF, 0, 0, F_KC, check_converter,               \
      "How the record's " P " is read: `" EVB__STRING_CONVERTER                \
      "` (or `string`): its bytes as "                                         \
      "UTF-8 text, a JSON string; `" EVB__JSON_CONVERTER "` (or `json`): "     \
      "JSON, embedded as JSON; `" EVB__BYTES_CONVERTER "` (or `bytes`): "      \
      "base64 text; `" EVB__AVRO_CONVERTER                                     \
      "` (or `avro`) and `" EVB__GLUE_CONVERTER                                \
      "`: Avro in Confluent or Glue framing (either one, told apart by the "   \
      "first byte), decoded through a schema registry into JSON by the "       \
      "connector's rules (docs/avro-json.md).")                                \
    X(ID##_SCHEMAS, P ".converter.schemas.enable", BOOL, "false", 0, 0, F_KC,  \
      NULL,                                                                    \
      "JsonConverter only: the " P                                             \
      " is a `{\"schema\":...,\"payload\":...}` envelope and the payload is "  \
      "used. Kafka Connect's default is `true`; evbus's is `false`, the "      \
      "setting every upstream example uses.")                                  \
    X(ID##_REGISTRY, P ".converter.schema.registry.url", STR, "", 0, 0, F_KC,  \
      check_url_list,                                                          \
      "Avro: the schema registry's URL (a Confluent-compatible registry; "     \
      "evbus serve's own is `http://HOST:PORT`). Several comma-separated "     \
      "URLs: the first is used.")                                              \
    X(ID##_AUTH, P ".converter.basic.auth.user.info", STR, "", 0, 0,           \
      F_KC | F_SECRET, NULL,                                                   \
      "Avro: `USER:PASSWORD` for the registry's HTTP basic authentication.")   \
    X(ID##_AUTH_SOURCE, P ".converter.basic.auth.credentials.source", STR,     \
      "USER_INFO", 0, 0, F_KC, check_auth_source,                              \
      "Avro: only `USER_INFO` (the user info property above) is supported.")   \
    X(ID##_ENDPOINT, P ".converter.endpoint", STR, "", 0, 0, F_KC, check_url,  \
      "AWSKafkaAvroConverter: the registry evbus asks instead of AWS Glue "    \
      "(evbus serve's registry resolves Glue schema version ids); used when "  \
      "`" P ".converter.schema.registry.url` is not set.")                     \
    X(ID##_REGION, P ".converter.region", STR, "", 0, 0, F_KC | F_IGNORED,     \
      NULL, "AWSKafkaAvroConverter: accepted and not used.")                   \
    X(ID##_REGISTRY_NAME, P ".converter.registry.name", STR, "", 0, 0,         \
      F_KC | F_IGNORED, NULL,                                                  \
      "AWSKafkaAvroConverter: accepted and not used (schema version ids are "  \
      "unique across evbus's registry).")                                      \
    X(ID##_RECORD_TYPE, P ".converter.avroRecordType", STR, "GENERIC_RECORD",  \
      0, 0, F_KC, check_record_type,                                           \
      "AWSKafkaAvroConverter: only `GENERIC_RECORD`.")

#define EVB__CONNECTOR_PROPS(X)                                                \
    X(P_NAME, "name", STR, "", 0, 0, F_KC, check_name,                         \
      "The connector's name (Kafka Connect's). Default: the connector id. "    \
      "The consumer group is `connect-NAME`, as Kafka Connect's, unless "      \
      "`kafka.group.id` is set; dead letters carry it in "                     \
      "`__connect.errors.connector.name`.")                                    \
    X(P_CONNECTOR_CLASS, "connector.class", STR, EVB__CONNECTOR_CLASS, 0, 0,   \
      F_KC, check_connector_class,                                             \
      "Accepted so that a Kafka Connect configuration works as it is; only "   \
      "the EventBridge sink connector's class.")                               \
    X(P_TASKS_MAX, "tasks.max", INT, "1", 1, 1000000, F_KC | F_IGNORED, NULL,  \
      "Accepted and not used: a process is one task. Run several processes "   \
      "with the same name to share the partitions.")                           \
    X(P_TOPICS, "topics", LIST, "", 0, 0, F_KC, check_topics,                  \
      "The topics to read, comma-separated. Exactly one of `topics` and "      \
      "`topics.regex`.")                                                       \
    X(P_TOPICS_REGEX, "topics.regex", STR, "", 0, 0, F_KC, check_regex,        \
      "The topics to read, as a regular expression matched against the "       \
      "whole topic name (librdkafka's regex subscription: POSIX extended "     \
      "syntax, not Java's); topics created later are picked up.")              \
    X(P_CONNECTOR_ID, "aws.eventbridge.connector.id", STR, NULL, 0, 0, F_NONE, \
      check_nonblank,                                                          \
      "Required. Every event's source is `kafka-connect.` followed by it.")    \
    X(P_REGION, "aws.eventbridge.region", STR, NULL, 0, 0, F_NONE,             \
      check_region,                                                            \
      "Required. The bus's region: the SigV4 signing region and, without an "  \
      "endpoint, the endpoint `https://events.REGION.amazonaws.com`.")         \
    X(P_BUS_ARN, "aws.eventbridge.eventbus.arn", STR, NULL, 0, 0, F_NONE,      \
      check_bus_arn,                                                           \
      "Required. The bus's ARN "                                               \
      "(`arn:aws:events:REGION:ACCOUNT:event-bus/NAME`), sent as each "        \
      "entry's EventBusName.")                                                 \
    X(P_ENDPOINT, "aws.eventbridge.endpoint.uri", STR, "", 0, 0, F_NONE,       \
      check_url,                                                               \
      "Where PutEvents goes: an `http://` or `https://` URL, e.g. evbus "      \
      "serve's `http://127.0.0.1:4010`. Default: Amazon EventBridge in the "   \
      "region.")                                                               \
    X(P_DETAIL_TYPES, "aws.eventbridge.detail.types", LIST,                    \
      "kafka-connect-${topic}", 0, 0, F_NONE, check_detail_types,              \
      "The detail type: one template where `${topic}` stands for the "         \
      "record's topic (`orders-${topic}`), a static value (`Order`), or a "    \
      "per-topic list `topic:type,topic:type` (a single item with `:` is a "   \
      "list too) where a topic not listed gets `kafka-connect-TOPIC`.")        \
    X(P_DT_MAPPER, "aws.eventbridge.detail.types.mapper.class", STR,           \
      EVB__DEFAULT_MAPPER, 0, 0, F_NONE, check_mapper,                         \
      "`DefaultDetailTypeMapper` (the rules of "                               \
      "`aws.eventbridge.detail.types`) or `JsonPathDetailTypeMapper` (a "      \
      "string taken from the value; full class names or these short ones). "   \
      "Setting the field reference below chooses the JSONPath mapper too.")    \
    X(P_DT_FIELDREF, "aws.eventbridge.detail.types.jsonpathmapper.fieldref",   \
      STR, "", 0, 0, F_NONE, check_fieldref,                                   \
      "JSONPath mapper: a definite JSONPath into the record's value as JSON "  \
      "(`$.type`, `$.meta.kind`, `$.items[0].sku`); when it does not select "  \
      "a non-blank string the detail type is the topic's name.")               \
    X(P_RESOURCES, "aws.eventbridge.eventbus.resources", LIST, "", 0, 0,       \
      F_NONE, NULL,                                                            \
      "Comma-separated values copied into every entry's Resources.")           \
    X(P_RETRIES_MAX, "aws.eventbridge.retries.max", INT, "2", -1, 10, F_NONE,  \
      NULL,                                                                    \
      "Retries of a record after its first attempt (0 to 10, as upstream), "   \
      "for failed calls and for entries that failed with "                     \
      "ThrottlingException or InternalFailure; -1 (evbus) retries for "        \
      "ever. When they run out the connector stops with an error and the "     \
      "records stay uncommitted.")                                             \
    X(P_RETRIES_DELAY, "aws.eventbridge.retries.delay", INT, "200", 0,         \
      3600000, F_NONE, NULL,                                                   \
      "Milliseconds before the first retry; each further retry waits twice "   \
      "as long (up to `evbus.retries.delay.max`), with jitter: a random "      \
      "delay between half and all of it. Nothing waits after a success.")      \
    X(P_PROFILE, "aws.eventbridge.iam.profile.name", STR, "", 0, 0, F_NONE,    \
      NULL,                                                                    \
      "A profile of the shared credentials file "                              \
      "(`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`). "        \
      "Without it: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`"                \
      "(/`AWS_SESSION_TOKEN`), else the profile `AWS_PROFILE` or "             \
      "`default` of that file; without any credentials requests go "           \
      "unsigned (evbus serve without `--credentials` accepts them).")          \
    X(P_TIME_MAPPER, "aws.eventbridge.time.mapper.class", STR,                 \
      EVB__DEFAULT_TIME_MAPPER, 0, 0, F_NONE, check_time_mapper,               \
      "Only the default (no Time in the entry: the bus sets the time).")       \
    X(P_GLOBAL_ENDPOINT, "aws.eventbridge.eventbus.global.endpoint.id", STR,   \
      "", 0, 0, F_UNSUPPORTED, NULL,                                           \
      "Not supported (global endpoints need SigV4a).")                         \
    X(P_ROLE_ARN, "aws.eventbridge.iam.role.arn", STR, "", 0, 0,               \
      F_UNSUPPORTED, NULL, "Not supported (no STS AssumeRole).")               \
    X(P_EXTERNAL_ID, "aws.eventbridge.iam.external.id", STR, "", 0, 0,         \
      F_UNSUPPORTED, NULL, "Not supported (no STS AssumeRole).")               \
    X(P_CRED_PROVIDER, "aws.eventbridge.auth.credentials_provider.class", STR, \
      "", 0, 0, F_UNSUPPORTED, NULL, "Not supported (Java classes).")          \
    X(P_OFFLOAD_BUCKET, "aws.eventbridge.offloading.default.s3.bucket", STR,   \
      "", 0, 0, F_UNSUPPORTED, NULL, "Not supported (no S3 offloading).")      \
    X(P_OFFLOAD_ENDPOINT,                                                      \
      "aws.eventbridge.offloading.default.s3.endpoint.uri", STR, "", 0, 0,     \
      F_UNSUPPORTED, NULL, "Not supported (no S3 offloading).")                \
    X(P_OFFLOAD_FIELDREF, "aws.eventbridge.offloading.default.fieldref", STR,  \
      "$.detail.value", 0, 0, F_IGNORED, NULL,                                 \
      "Accepted and not used (no S3 offloading).")                             \
    EVB__CONVERTER_PROPS(X, P_KEY_CONV, "key", EVB__STRING_CONVERTER)          \
    EVB__CONVERTER_PROPS(X, P_VALUE_CONV, "value", EVB__JSON_CONVERTER)        \
    X(P_TOLERANCE, "errors.tolerance", ENUM, "none", 0, 0, F_KC,               \
      check_tolerance,                                                         \
      "`none`: a record that cannot be converted or that PutEvents refuses "   \
      "(an entry error other than throttling or an internal failure, an "      \
      "entry too large) stops the connector, and it is not committed. "        \
      "`all`: such a record goes to the dead-letter topic, or without one is " \
      "logged and skipped.")                                                   \
    X(P_DLQ_TOPIC, "errors.deadletterqueue.topic.name", STR, "", 0, 0, F_KC,   \
      check_topic_name,                                                        \
      "With `errors.tolerance=all`: the topic failed records are produced "    \
      "to (same key, value and headers, plus the error headers); their "       \
      "offsets are committed once the topic has them.")                        \
    X(P_DLQ_HEADERS, "errors.deadletterqueue.context.headers.enable", BOOL,    \
      "true", 0, 0, F_KC, NULL,                                                \
      "Add Kafka Connect's `__connect.errors.*` headers (topic, partition, "   \
      "offset, connector.name, task.id, stage, class.name, "                   \
      "exception.class.name, exception.message) to dead letters. Kafka "       \
      "Connect's default is `false`; evbus's is `true`.")                      \
    X(P_DLQ_RF, "errors.deadletterqueue.topic.replication.factor", INT, "3",   \
      -1, 32767, F_KC | F_IGNORED, NULL,                                       \
      "Accepted and not used: evbus does not create the topic (the "           \
      "cluster's auto-creation or an administrator does).")                    \
    X(P_ERRORS_LOG, "errors.log.enable", BOOL, "false", 0, 0, F_KC, NULL,      \
      "Log every failed record (topic, partition, offset, reason), also when " \
      "it is dead-lettered.")                                                  \
    X(P_ERRORS_LOG_MSGS, "errors.log.include.messages", BOOL, "false", 0, 0,   \
      F_KC | F_IGNORED, NULL,                                                  \
      "Accepted and not used: record contents are never logged.")              \
    X(P_KAFKA, "kafka.", PREFIX, NULL, 0, 0, F_EVBUS, NULL,                    \
      "`kafka.PROPERTY`: a librdkafka property for the consumer and the "      \
      "dead-letter producer (`kafka.bootstrap.servers` is required; "          \
      "`kafka.security.protocol`, `kafka.sasl.*`, `kafka.ssl.*`, "             \
      "`kafka.group.id`, ...).")                                               \
    X(P_CONSUMER, "consumer.override.", PREFIX, NULL, 0, 0, F_KC, NULL,        \
      "`consumer.override.PROPERTY`: a librdkafka property for the consumer "  \
      "only (wins over `kafka.`); `consumer.override.max.poll.records` is "    \
      "`evbus.poll.max.records`.")                                             \
    X(P_PRODUCER, "producer.override.", PREFIX, NULL, 0, 0, F_EVBUS, NULL,     \
      "`producer.override.PROPERTY`: a librdkafka property for the "           \
      "dead-letter producer only (wins over `kafka.`).")                       \
    X(P_MAX_IN_FLIGHT, "evbus.max.in.flight", INT, "4", 1, 64, F_EVBUS, NULL,  \
      "PutEvents calls sent at once. 1 sends batches one after the other, in " \
      "partition order, as upstream does (EventBridge does not keep order "    \
      "anyway).")                                                              \
    X(P_BATCH_MAX_ENTRIES, "evbus.batch.max.entries", INT, "10", 1, 10,        \
      F_EVBUS, NULL, "Entries per PutEvents call (EventBridge allows 10).")    \
    X(P_BATCH_MAX_BYTES, "evbus.batch.max.bytes", INT, "262144", 1, 1048576,   \
      F_EVBUS, NULL,                                                           \
      "Entry bytes per PutEvents call, by EventBridge's size formula (its "    \
      "classic limit, upstream's; EventBridge has accepted 1048576 since "     \
      "2026). A single entry larger than this is not sent: it fails as "       \
      "upstream's does with 413 (`errors.tolerance`).")                        \
    X(P_POLL_MAX_RECORDS, "evbus.poll.max.records", INT, "500", 1, 100000,     \
      F_EVBUS, NULL,                                                           \
      "Records per cycle (Kafka Connect's `max.poll.records`): they are "      \
      "sent, then their offsets committed; a crash re-sends at most one "      \
      "cycle.")                                                                \
    X(P_POLL_WAIT, "evbus.poll.wait.ms", INT, "200", 0, 60000, F_EVBUS, NULL,  \
      "How long a cycle waits for more records once it has some.")             \
    X(P_RETRIES_DELAY_MAX, "evbus.retries.delay.max", INT, "30000", 0,         \
      3600000, F_EVBUS, NULL, "The longest retry delay, in milliseconds.")     \
    X(P_REQUEST_TIMEOUT, "evbus.request.timeout.ms", INT, "5000", 100, 600000, \
      F_EVBUS, NULL,                                                           \
      "A PutEvents call that takes longer failed (and is retried); "           \
      "upstream's is 5000.")                                                   \
    X(P_STATS_INTERVAL, "evbus.stats.interval.ms", INT, "60000", 0, 86400000,  \
      F_EVBUS, NULL,                                                           \
      "How often the totals (records, sent, dead-lettered, ...) are logged; "  \
      "0: only at exit.")

typedef enum evb__prop_id {
#define EVB__PROP_ENUM(id, ...) id,
    EVB__CONNECTOR_PROPS(EVB__PROP_ENUM)
#undef EVB__PROP_ENUM
        EVB__P_COUNT
} evb__prop_id_t;

typedef enum evb__conv_kind {
    EVB__CONV_STRING,
    EVB__CONV_JSON,
    EVB__CONV_BYTES,
    EVB__CONV_AVRO
} evb__conv_kind_t;

typedef struct evb__conv_spec {
    evb__conv_kind_t kind;
    const char *class_name; /* the full class name */
    bool schemas_enable;
    const char *registry_url; /* Avro: "" when none */
    const char *user_info;    /* Avro: "" when none */
} evb__conv_spec_t;

struct evb_connector_config {
    char *vals[EVB__P_COUNT];    /* effective values (never NULL) */
    char *origins[EVB__P_COUNT]; /* where given; NULL: the default */
    /* derived */
    char *name;
    char *group_id;
    char **topics;
    size_t ntopics;
    char **resources;
    size_t nresources;
    char *dt_single; /* the template or static value, or NULL for a map */
    char **dt_topics, **dt_types;
    size_t ndt;
    bool jsonpath_mapper;
    evb__conv_spec_t key_conv, value_conv;
    bool tolerance_all;
    evb_kafka_conf_t *consumer, *producer;
    long ints[EVB__P_COUNT]; /* INT and BOOL values */
};

/* The INT or BOOL value of property id. */
static inline long evb__cfg_int(const evb_connector_config_t *c,
                                evb__prop_id_t id) {
    return c->ints[id];
}
static inline const char *evb__cfg_str(const evb_connector_config_t *c,
                                       evb__prop_id_t id) {
    return c->vals[id];
}

/* ---- converters (convert.c) ---------------------------------------------
 */

typedef struct evb__conv evb__conv_t;

evb_err_t evb__conv_new(const evb__conv_spec_t *spec, bool is_key,
                        evb__conv_t **out, char *errstr, size_t errstr_size);
void evb__conv_free(evb__conv_t *c);

/* The JSON text of data (len bytes; not NULL) appended to out. A record
 * that does not convert: EVB_ERR_INVALID_ARG, errstr holding the
 * exception's message; *exception its class. */
evb_err_t evb__conv_to_json(evb__conv_t *c, const char *topic, const void *data,
                            size_t len, evb_buf_t *out, const char **exception,
                            char *errstr, size_t errstr_size);
const char *evb__conv_class(const evb__conv_t *c);

/* Append bytes as a JSON string (quotes included), bytes that are not
 * UTF-8 replaced by U+FFFD as Java's decoder does (one per maximal
 * invalid subpart); Jackson's escapes. */
evb_err_t evb__json_string_utf8(evb_buf_t *b, const void *data, size_t len);

/* A header value as Kafka Connect's SimpleHeaderConverter and
 * JsonConverter make it, in part (see convert.c). */
evb_err_t evb__header_to_json(const void *value, size_t len, evb_buf_t *out);

/* ---- PutEvents over HTTP (putevents.c) ---------------------------------- */

typedef struct evb__pe_client evb__pe_client_t;

typedef struct evb__pe_client_config {
    const char *endpoint; /* URL; "" or NULL: Amazon EventBridge */
    const char *region;
    const evb_connector_credentials_t *creds; /* NULL: unsigned */
    long timeout_ms;
    unsigned max_in_flight;
} evb__pe_client_config_t;

evb_err_t evb__pe_client_new(const evb__pe_client_config_t *cfg,
                             evb__pe_client_t **out, char *errstr,
                             size_t errstr_size);
void evb__pe_client_free(evb__pe_client_t *c);
/* The URL requests go to. */
const char *evb__pe_client_url(const evb__pe_client_t *c);

/* The outcome of one call. */
typedef enum evb__pe_outcome {
    EVB__PE_OK,        /* HTTP 200, entries in the result */
    EVB__PE_RETRY,     /* transport error, 5xx, throttled, other 4xx */
    EVB__PE_TOO_LARGE, /* HTTP 413 */
} evb__pe_outcome_t;

/* Per-entry result of a 200. */
typedef struct evb__pe_entry_result {
    bool ok;
    bool retriable; /* ThrottlingException, InternalFailure */
    char code[64];
    char message[256];
} evb__pe_entry_result_t;

typedef struct evb__pe_result {
    evb__pe_outcome_t outcome;
    long http_status; /* 0: no response */
    char error[400];  /* what went wrong (not OK) */
    size_t nentries;  /* OK: results[0..nentries) */
    evb__pe_entry_result_t *entries;
} evb__pe_result_t;

/* Start a call (body: the whole PutEvents request JSON, copied); tag
 * comes back with its result. Fails only when no handle is free or
 * memory runs out. */
evb_err_t evb__pe_start(evb__pe_client_t *c, const char *body, size_t len,
                        size_t nentries, void *tag, char *errstr,
                        size_t errstr_size);
/* Calls started and not yet returned by evb__pe_wait. */
unsigned evb__pe_in_flight(const evb__pe_client_t *c);
/*
 * Drive the calls for up to timeout_ms; when one finishes, fill *res
 * (entries owned by the client until the next call of wait) and *tag, and
 * return true. False when none finished in time.
 */
bool evb__pe_wait(evb__pe_client_t *c, int timeout_ms, evb__pe_result_t *res,
                  void **tag);

/* Interpret a PutEvents answer (for tests): status and body as received;
 * nentries the number of entries sent. Entries go to res->entries
 * (malloc'ed, caller frees). */
void evb__pe_parse_response(long status, const char *body, size_t len,
                            size_t nentries, evb__pe_result_t *res);

/*
 * The signed headers of a request (the connector's signing path, used for
 * every call; for tests too): method POST, the given host and path, the
 * JSON body, X-Amz-Target AWSEvents.PutEvents. Fills hdrs[] with
 * "Name: value" lines (Host, Content-Type, X-Amz-Target, X-Amz-Date,
 * X-Amz-Security-Token when there is a token, Authorization), returns
 * their count (at most 8), or -1 with errstr. when 0 means now.
 */
int evb__pe_sign(const evb_connector_credentials_t *creds, const char *region,
                 const char *host, const char *path, const char *body,
                 size_t len, time_t when, char hdrs[][2600], char *errstr,
                 size_t errstr_size);

#endif
