/*
 * doc.c: the document schema. One table per object shape drives parsing,
 * type checks, required keys and the conversion into API requests, and is
 * what docs/cli/apply.md describes: every key is the API member's name in
 * lowerCamelCase ("eventPattern" for EventPattern), except apply's own
 * keys (references by name such as a rule's `bus` or a target's `queue`,
 * and `tags` as a mapping), which the tables mark with an API name that
 * starts with '@'.
 *
 * Loading runs in passes, each collecting every problem it finds (so one
 * run reports them all): the tree (syntax, ${} references), the schema
 * (keys, types, required keys), then each resource's own rules (names
 * against the API's patterns, exactly one target destination, duplicates)
 * and the expressions the API would refuse (schedules, input
 * transformers), checked with the same functions the API calls, so the
 * messages are the API's.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../json/json.h"
#include "../schedule/schedule.h"
#include "../transform/transform.h"
#include "apply_internal.h"

/* ---- the tables -----------------------------------------------------------
 */

typedef enum ftype {
    F_STRING,    /* a string */
    F_INT,       /* an integer */
    F_BOOL,      /* true or false */
    F_JSON_TEXT, /* a mapping or list (sent as JSON text) or a JSON string */
    F_STRMAP,    /* a mapping of scalars (sent as an object of strings) */
    F_STRLIST,   /* a list of scalars (sent as a list of strings) */
    F_ATTRS,     /* a mapping of scalars or mappings (sent as strings,
                    mappings as JSON text): SQS attributes */
    F_OBJECT,    /* a mapping of the field's shape */
    F_LIST,      /* a list of mappings of the field's shape */
    F_STR_OR_OBJECT, /* a string, or a mapping of the field's shape */
} ftype_t;

#define REQ 1u    /* required */
#define SECRET 2u /* never printed */

typedef struct shape shape_t;

typedef struct field {
    const char *key; /* in the document */
    const char *api; /* in the request; '@': apply's own */
    ftype_t type;
    unsigned flags;
    const shape_t *shape; /* F_OBJECT and F_LIST */
    const char *help;     /* one line for the reference */
} field_t;

struct shape {
    const char *what; /* for messages: "rule", "target", ... */
    const field_t *fields;
    size_t n;
};

#define SHAPE(name, what, fields)                                              \
    static const shape_t name = {what, fields, EVB_ARRAY_LEN(fields)}

static const field_t LOG_GROUP_F[] = {
    {"name", "logGroupName", F_STRING, REQ, NULL,
     "the group's name: 1 to 512 of `A-Za-z0-9._/#-`"},
    {"retentionInDays", "retentionInDays", F_INT, 0, NULL,
     "days to keep events (CloudWatch Logs' values: 1, 3, 5, 7, 14, 30, "
     "...); absent: no retention policy"},
};
SHAPE(LOG_GROUP_S, "log group", LOG_GROUP_F);

static const field_t QUEUE_F[] = {
    {"name", "QueueName", F_STRING, REQ, NULL,
     "the queue's name: 1 to 80 of `A-Za-z0-9_-`"},
    {"attributes", "Attributes", F_ATTRS, 0, NULL,
     "SQS attributes by SQS's names (`VisibilityTimeout`, "
     "`MessageRetentionPeriod`, `DelaySeconds`, `MaximumMessageSize`, "
     "`ReceiveMessageWaitTimeSeconds`, `RedrivePolicy`, `Policy`, ...); "
     "numbers are sent as text and mappings as JSON text; an attribute left "
     "out goes back to SQS's default"},
};
SHAPE(QUEUE_S, "queue", QUEUE_F);

static const field_t BUS_F[] = {
    {"name", "Name", F_STRING, REQ, NULL,
     "a custom bus: 1 to 256 of `A-Za-z0-9._-`; not `default`, which always "
     "exists"},
    {"description", "Description", F_STRING, 0, NULL, "up to 512 characters"},
    {"tags", "@tags", F_STRMAP, 0, NULL,
     "tag keys to values (TagResource/UntagResource keep them in step); "
     "keys starting `evbus:apply` are reserved"},
};
SHAPE(BUS_S, "bus", BUS_F);

static const field_t PARAM_F[] = {
    {"key", "Key", F_STRING, REQ, NULL, "the header, query or body name"},
    {"value", "Value", F_STRING, 0, NULL, "its value"},
    {"isValueSecret", "IsValueSecret", F_BOOL, 0, NULL,
     "true: treated as a secret (never shown by the server nor apply)"},
};
SHAPE(PARAM_S, "parameter", PARAM_F);

static const field_t HTTP_PARAMS_F[] = {
    {"headerParameters", "HeaderParameters", F_LIST, 0, &PARAM_S,
     "headers sent with every request"},
    {"queryStringParameters", "QueryStringParameters", F_LIST, 0, &PARAM_S,
     "query string parameters"},
    {"bodyParameters", "BodyParameters", F_LIST, 0, &PARAM_S,
     "body parameters"},
};
SHAPE(HTTP_PARAMS_S, "HTTP parameters", HTTP_PARAMS_F);

static const field_t BASIC_F[] = {
    {"username", "Username", F_STRING, REQ, NULL, "the user"},
    {"password", "Password", F_STRING, REQ | SECRET, NULL,
     "secret: use `${ENV_VAR}`"},
};
SHAPE(BASIC_S, "basicAuthParameters", BASIC_F);

static const field_t API_KEY_F[] = {
    {"apiKeyName", "ApiKeyName", F_STRING, REQ, NULL,
     "the header that carries the key"},
    {"apiKeyValue", "ApiKeyValue", F_STRING, REQ | SECRET, NULL,
     "secret: use `${ENV_VAR}`"},
};
SHAPE(API_KEY_S, "apiKeyAuthParameters", API_KEY_F);

static const field_t CLIENT_F[] = {
    {"clientID", "ClientID", F_STRING, REQ, NULL, "the OAuth client id"},
    {"clientSecret", "ClientSecret", F_STRING, REQ | SECRET, NULL,
     "secret: use `${ENV_VAR}`"},
};
SHAPE(CLIENT_S, "clientParameters", CLIENT_F);

static const field_t OAUTH_F[] = {
    {"clientParameters", "ClientParameters", F_OBJECT, REQ, &CLIENT_S,
     "the client's credentials"},
    {"authorizationEndpoint", "AuthorizationEndpoint", F_STRING, REQ, NULL,
     "the token endpoint URL"},
    {"httpMethod", "HttpMethod", F_STRING, REQ, NULL, "GET, POST or PUT"},
    {"oAuthHttpParameters", "OAuthHttpParameters", F_OBJECT, 0, &HTTP_PARAMS_S,
     "extra parameters of the token request"},
};
SHAPE(OAUTH_S, "oAuthParameters", OAUTH_F);

static const field_t AUTH_F[] = {
    {"basicAuthParameters", "BasicAuthParameters", F_OBJECT, 0, &BASIC_S,
     "for `BASIC`"},
    {"apiKeyAuthParameters", "ApiKeyAuthParameters", F_OBJECT, 0, &API_KEY_S,
     "for `API_KEY`"},
    {"oAuthParameters", "OAuthParameters", F_OBJECT, 0, &OAUTH_S,
     "for `OAUTH_CLIENT_CREDENTIALS`"},
    {"invocationHttpParameters", "InvocationHttpParameters", F_OBJECT, 0,
     &HTTP_PARAMS_S, "parameters added to every invocation"},
};
SHAPE(AUTH_S, "authParameters", AUTH_F);

static const field_t CONNECTION_F[] = {
    {"name", "Name", F_STRING, REQ, NULL, "1 to 64 of `A-Za-z0-9._-`"},
    {"description", "Description", F_STRING, 0, NULL, "up to 512 characters"},
    {"authorizationType", "AuthorizationType", F_STRING, REQ, NULL,
     "`BASIC`, `API_KEY` or `OAUTH_CLIENT_CREDENTIALS`"},
    {"authParameters", "AuthParameters", F_OBJECT, REQ, &AUTH_S,
     "the credentials of that type"},
};
SHAPE(CONNECTION_S, "connection", CONNECTION_F);

static const field_t API_DEST_F[] = {
    {"name", "Name", F_STRING, REQ, NULL, "1 to 64 of `A-Za-z0-9._-`"},
    {"description", "Description", F_STRING, 0, NULL, "up to 512 characters"},
    {"connection", "@connection", F_STRING, 0, NULL,
     "the name of a connection (in the file or on the server)"},
    {"connectionArn", "ConnectionArn", F_STRING, 0, NULL,
     "or the connection's ARN (one of the two)"},
    {"invocationEndpoint", "InvocationEndpoint", F_STRING, REQ, NULL,
     "the URL called"},
    {"httpMethod", "HttpMethod", F_STRING, REQ, NULL,
     "POST, GET, HEAD, OPTIONS, PUT, PATCH or DELETE"},
    {"invocationRateLimitPerSecond", "InvocationRateLimitPerSecond", F_INT, 0,
     NULL, "calls a second at most; absent: 300"},
};
SHAPE(API_DEST_S, "api destination", API_DEST_F);

static const field_t ARCHIVE_F[] = {
    {"name", "ArchiveName", F_STRING, REQ, NULL, "1 to 48 of `A-Za-z0-9._-`"},
    {"bus", "@bus", F_STRING, 0, NULL,
     "the name of the bus archived; absent: `default`. Changing it replaces "
     "the archive (its events are lost)"},
    {"eventSourceArn", "EventSourceArn", F_STRING, 0, NULL,
     "or the bus's ARN (not with `bus`)"},
    {"description", "Description", F_STRING, 0, NULL, "up to 512 characters"},
    {"eventPattern", "EventPattern", F_JSON_TEXT, 0, NULL,
     "only events matching it are archived; absent: all"},
    {"retentionDays", "RetentionDays", F_INT, 0, NULL,
     "days to keep events; absent or 0: forever"},
};
SHAPE(ARCHIVE_S, "archive", ARCHIVE_F);

static const field_t TRANSFORMER_F[] = {
    {"inputPathsMap", "InputPathsMap", F_STRMAP, 0, NULL,
     "variable names to JSON paths into the event"},
    {"inputTemplate", "InputTemplate", F_STRING, REQ, NULL,
     "the text sent, with `<variable>` placeholders"},
};
SHAPE(TRANSFORMER_S, "inputTransformer", TRANSFORMER_F);

static const field_t RETRY_F[] = {
    {"maximumRetryAttempts", "MaximumRetryAttempts", F_INT, 0, NULL,
     "0 to 185; absent: 185"},
    {"maximumEventAgeInSeconds", "MaximumEventAgeInSeconds", F_INT, 0, NULL,
     "60 to 86400; absent: 86400"},
};
SHAPE(RETRY_S, "retryPolicy", RETRY_F);

static const field_t DLC_F[] = {
    {"arn", "Arn", F_STRING, 0, NULL, "the dead-letter queue's ARN"},
    {"queue", "@queue", F_STRING, 0, NULL,
     "or its name (in the file or on the server); one of the two"},
};
SHAPE(DLC_S, "deadLetterConfig", DLC_F);

static const field_t TARGET_HTTP_F[] = {
    {"pathParameterValues", "PathParameterValues", F_STRLIST, 0, NULL,
     "values for the endpoint's `*` wildcards"},
    {"headerParameters", "HeaderParameters", F_STRMAP, 0, NULL,
     "headers to send"},
    {"queryStringParameters", "QueryStringParameters", F_STRMAP, 0, NULL,
     "query string parameters to send"},
};
SHAPE(TARGET_HTTP_S, "httpParameters", TARGET_HTTP_F);

static const field_t SQS_PARAMS_F[] = {
    {"messageGroupId", "MessageGroupId", F_STRING, 0, NULL, "for FIFO queues"},
};
SHAPE(SQS_PARAMS_S, "sqsParameters", SQS_PARAMS_F);

static const field_t TARGET_F[] = {
    {"id", "Id", F_STRING, REQ, NULL,
     "unique in the rule: 1 to 64 of `A-Za-z0-9._-`"},
    {"arn", "Arn", F_STRING, 0, NULL, "the target's ARN, or one of:"},
    {"bus", "@bus", F_STRING, 0, NULL, "the name of an event bus"},
    {"queue", "@queue", F_STRING, 0, NULL, "the name of a queue"},
    {"logGroup", "@logGroup", F_STRING, 0, NULL, "the name of a log group"},
    {"apiDestination", "@apiDestination", F_STRING, 0, NULL,
     "the name of an API destination"},
    {"roleArn", "RoleArn", F_STRING, 0, NULL, "kept, not used by evbus"},
    {"input", "Input", F_JSON_TEXT, 0, NULL,
     "constant JSON sent instead of the event"},
    {"inputPath", "InputPath", F_STRING, 0, NULL,
     "JSON path of the part of the event sent"},
    {"inputTransformer", "InputTransformer", F_OBJECT, 0, &TRANSFORMER_S,
     "reshapes the event"},
    {"retryPolicy", "RetryPolicy", F_OBJECT, 0, &RETRY_S,
     "how long and how often delivery is retried"},
    {"deadLetterConfig", "DeadLetterConfig", F_OBJECT, 0, &DLC_S,
     "where events go when delivery gives up"},
    {"httpParameters", "HttpParameters", F_OBJECT, 0, &TARGET_HTTP_S,
     "for API destinations"},
    {"sqsParameters", "SqsParameters", F_OBJECT, 0, &SQS_PARAMS_S,
     "for queues"},
};
SHAPE(TARGET_S, "target", TARGET_F);

static const field_t RULE_F[] = {
    {"name", "Name", F_STRING, REQ, NULL, "1 to 64 of `A-Za-z0-9._-`"},
    {"bus", "@bus", F_STRING, 0, NULL,
     "the name of its bus; absent: `default`. A rule is known by bus and "
     "name, so moving it deletes it from the old bus"},
    {"description", "Description", F_STRING, 0, NULL, "up to 512 characters"},
    {"state", "State", F_STRING, 0, NULL,
     "`ENABLED` (when absent) or `DISABLED`"},
    {"eventPattern", "EventPattern", F_JSON_TEXT, 0, NULL, "the event pattern"},
    {"scheduleExpression", "ScheduleExpression", F_STRING, 0, NULL,
     "`rate(...)` or `cron(...)`, default bus only; a rule needs a pattern, "
     "a schedule or both"},
    {"roleArn", "RoleArn", F_STRING, 0, NULL, "kept, not used by evbus"},
    {"tags", "@tags", F_STRMAP, 0, NULL, "tag keys to values"},
    {"targets", "@targets", F_LIST, 0, &TARGET_S,
     "up to 5 targets (the server's limit)"},
};
SHAPE(RULE_S, "rule", RULE_F);

/* ---- schemas ---- */

static const field_t SCHEMA_F[] = {
    {"subject", "subject", F_STRING, REQ, NULL,
     "the registry subject (`<topic>-value`, `<topic>-key`, ...): 1 to 255 "
     "characters, no `/`"},
    {"file", "@file", F_STRING, 0, NULL,
     "a file holding the schema, relative to the document's directory"},
    {"schema", "schema", F_JSON_TEXT, 0, NULL,
     "or the schema itself, as a mapping or as JSON text (one of the two)"},
    {"schemaType", "schemaType", F_STRING, 0, NULL,
     "`AVRO` (when absent; the only type evbus's registry takes)"},
    {"compatibility", "@compatibility", F_STRING, 0, NULL,
     "the subject's compatibility level (`BACKWARD`, `BACKWARD_TRANSITIVE`, "
     "`FORWARD`, `FORWARD_TRANSITIVE`, `FULL`, `FULL_TRANSITIVE`, `NONE`), "
     "set before the schema is registered; absent: left as it is"},
};
SHAPE(SCHEMA_S, "schema", SCHEMA_F);

/* ---- pipes ---- */

static const field_t PIPE_FILTER_F[] = {
    {"pattern", "Pattern", F_JSON_TEXT, 0, NULL,
     "an event pattern over the record (`value`, `key`, `topic`, ...)"},
};
SHAPE(PIPE_FILTER_S, "filter", PIPE_FILTER_F);

static const field_t PIPE_FILTERS_F[] = {
    {"filters", "Filters", F_LIST, 0, &PIPE_FILTER_S,
     "up to 5 filters, ORed; only matching records go on"},
};
SHAPE(PIPE_FILTERS_S, "filterCriteria", PIPE_FILTERS_F);

static const field_t PIPE_CREDS_F[] = {
    {"basicAuth", "BasicAuth", F_STRING, 0, NULL,
     "a Secrets Manager secret ARN (SASL/PLAIN); self-managed Kafka only"},
    {"saslScram512Auth", "SaslScram512Auth", F_STRING, 0, NULL,
     "a secret ARN (SCRAM-SHA-512)"},
    {"saslScram256Auth", "SaslScram256Auth", F_STRING, 0, NULL,
     "a secret ARN (SCRAM-SHA-256); self-managed Kafka only"},
    {"clientCertificateTlsAuth", "ClientCertificateTlsAuth", F_STRING, 0, NULL,
     "a secret ARN (TLS client certificate)"},
};
SHAPE(PIPE_CREDS_S, "credentials", PIPE_CREDS_F);

static const field_t PIPE_VPC_F[] = {
    {"subnets", "Subnets", F_STRLIST, 0, NULL, "accepted, ignored by evbus"},
    {"securityGroup", "SecurityGroup", F_STRLIST, 0, NULL,
     "accepted, ignored by evbus"},
};
SHAPE(PIPE_VPC_S, "vpc", PIPE_VPC_F);

static const field_t PIPE_SMK_F[] = {
    {"topicName", "TopicName", F_STRING, REQ, NULL,
     "the topic read; changing it replaces the pipe"},
    {"startingPosition", "StartingPosition", F_STRING, 0, NULL,
     "`TRIM_HORIZON` or `LATEST` (when absent); changing it replaces the "
     "pipe"},
    {"batchSize", "BatchSize", F_INT, 0, NULL,
     "records a batch at most (at most what the target takes: 10 for buses "
     "and queues)"},
    {"maximumBatchingWindowInSeconds", "MaximumBatchingWindowInSeconds", F_INT,
     0, NULL, "0 to 300"},
    {"consumerGroupID", "ConsumerGroupID", F_STRING, 0, NULL,
     "the consumer group; absent: one of the pipe's own. Changing it "
     "replaces the pipe"},
    {"consumerGroupId", "ConsumerGroupID", F_STRING, 0, NULL,
     "the same as `consumerGroupID`"},
    {"additionalBootstrapServers", "AdditionalBootstrapServers", F_STRLIST, 0,
     NULL, "up to 2 more `host:port`; changing them replaces the pipe"},
    {"credentials", "Credentials", F_OBJECT, 0, &PIPE_CREDS_S,
     "how to authenticate (one member)"},
    {"serverRootCaCertificate", "ServerRootCaCertificate", F_STRING, 0, NULL,
     "a secret ARN holding the CA certificate"},
    {"vpc", "Vpc", F_OBJECT, 0, &PIPE_VPC_S, "accepted, ignored by evbus"},
};
SHAPE(PIPE_SMK_S, "selfManagedKafkaParameters", PIPE_SMK_F);

static const field_t PIPE_MSK_F[] = {
    {"topicName", "TopicName", F_STRING, REQ, NULL,
     "the topic read; changing it replaces the pipe"},
    {"startingPosition", "StartingPosition", F_STRING, 0, NULL,
     "`TRIM_HORIZON` or `LATEST` (when absent); changing it replaces the "
     "pipe"},
    {"batchSize", "BatchSize", F_INT, 0, NULL, "records a batch at most"},
    {"maximumBatchingWindowInSeconds", "MaximumBatchingWindowInSeconds", F_INT,
     0, NULL, "0 to 300"},
    {"consumerGroupID", "ConsumerGroupID", F_STRING, 0, NULL,
     "the consumer group; changing it replaces the pipe"},
    {"consumerGroupId", "ConsumerGroupID", F_STRING, 0, NULL,
     "the same as `consumerGroupID`"},
    {"credentials", "Credentials", F_OBJECT, 0, &PIPE_CREDS_S,
     "how to authenticate (one member)"},
};
SHAPE(PIPE_MSK_S, "managedStreamingKafkaParameters", PIPE_MSK_F);

static const field_t PIPE_SOURCE_F[] = {
    {"selfManagedKafkaParameters", "SelfManagedKafkaParameters", F_OBJECT, 0,
     &PIPE_SMK_S, "for an `smk://host:port` source"},
    {"managedStreamingKafkaParameters", "ManagedStreamingKafkaParameters",
     F_OBJECT, 0, &PIPE_MSK_S, "for an MSK cluster ARN source"},
    {"filterCriteria", "FilterCriteria", F_OBJECT, 0, &PIPE_FILTERS_S,
     "which records go on"},
};
SHAPE(PIPE_SOURCE_S, "sourceParameters", PIPE_SOURCE_F);

static const field_t PIPE_ENRICH_F[] = {
    {"inputTemplate", "InputTemplate", F_STRING, 0, NULL,
     "the request body, with `<$.path>` placeholders"},
    {"httpParameters", "HttpParameters", F_OBJECT, 0, &TARGET_HTTP_S,
     "path, header and query values"},
};
SHAPE(PIPE_ENRICH_S, "enrichmentParameters", PIPE_ENRICH_F);

static const field_t PIPE_BUS_PARAMS_F[] = {
    {"detailType", "DetailType", F_STRING, 0, NULL,
     "the events' `detail-type` (a constant or a JSONPath)"},
    {"source", "Source", F_STRING, 0, NULL, "the events' `source`"},
    {"resources", "Resources", F_STRLIST, 0, NULL, "the events' `resources`"},
    {"time", "Time", F_STRING, 0, NULL, "a JSONPath to the events' time"},
    {"endpointId", "EndpointId", F_STRING, 0, NULL, "kept, not used"},
};
SHAPE(PIPE_BUS_PARAMS_S, "eventBridgeEventBusParameters", PIPE_BUS_PARAMS_F);

static const field_t PIPE_LOGS_PARAMS_F[] = {
    {"logStreamName", "LogStreamName", F_STRING, 0, NULL,
     "the stream written; absent: the pipe's name"},
    {"timestamp", "Timestamp", F_STRING, 0, NULL,
     "a JSONPath to the time of each entry"},
};
SHAPE(PIPE_LOGS_PARAMS_S, "cloudWatchLogsParameters", PIPE_LOGS_PARAMS_F);

static const field_t PIPE_SQS_PARAMS_F[] = {
    {"messageGroupId", "MessageGroupId", F_STRING, 0, NULL,
     "accepted, ignored"},
    {"messageDeduplicationId", "MessageDeduplicationId", F_STRING, 0, NULL,
     "accepted, ignored"},
};
SHAPE(PIPE_SQS_PARAMS_S, "sqsQueueParameters", PIPE_SQS_PARAMS_F);

static const field_t PIPE_TARGET_PARAMS_F[] = {
    {"inputTemplate", "InputTemplate", F_STRING, 0, NULL,
     "what is sent for each record, with `<$.path>` placeholders"},
    {"eventBridgeEventBusParameters", "EventBridgeEventBusParameters",
     F_OBJECT, 0, &PIPE_BUS_PARAMS_S, "for a bus target"},
    {"cloudWatchLogsParameters", "CloudWatchLogsParameters", F_OBJECT, 0,
     &PIPE_LOGS_PARAMS_S, "for a log group target"},
    {"sqsQueueParameters", "SqsQueueParameters", F_OBJECT, 0,
     &PIPE_SQS_PARAMS_S, "for a queue target"},
    {"httpParameters", "HttpParameters", F_OBJECT, 0, &TARGET_HTTP_S,
     "for an API destination target"},
};
SHAPE(PIPE_TARGET_PARAMS_S, "targetParameters", PIPE_TARGET_PARAMS_F);

static const field_t PIPE_TARGET_REF_F[] = {
    {"bus", "@bus", F_STRING, 0, NULL, "the name of an event bus"},
    {"queue", "@queue", F_STRING, 0, NULL, "the name of a queue"},
    {"logGroup", "@logGroup", F_STRING, 0, NULL, "the name of a log group"},
    {"apiDestination", "@apiDestination", F_STRING, 0, NULL,
     "the name of an API destination"},
};
SHAPE(PIPE_TARGET_REF_S, "pipe target", PIPE_TARGET_REF_F);

static const field_t PIPE_F[] = {
    {"name", "Name", F_STRING, REQ, NULL, "1 to 64 of `A-Za-z0-9._-`"},
    {"description", "Description", F_STRING, 0, NULL, "up to 512 characters"},
    {"desiredState", "DesiredState", F_STRING, 0, NULL,
     "`RUNNING` (when absent) or `STOPPED`"},
    {"source", "Source", F_STRING, REQ, NULL,
     "`smk://host:port` or an MSK cluster ARN; changing it replaces the "
     "pipe"},
    {"sourceParameters", "SourceParameters", F_OBJECT, 0, &PIPE_SOURCE_S,
     "the Kafka parameters and filters"},
    {"enrichment", "Enrichment", F_STRING, 0, NULL,
     "an API destination ARN called for each record"},
    {"enrichmentApiDestination", "@enrichmentApiDestination", F_STRING, 0,
     NULL, "or the API destination's name (one of the two)"},
    {"enrichmentParameters", "EnrichmentParameters", F_OBJECT, 0,
     &PIPE_ENRICH_S, "the enrichment's request"},
    {"target", "Target", F_STR_OR_OBJECT, REQ, &PIPE_TARGET_REF_S,
     "the target's ARN, or a mapping of one of `bus`, `queue`, `logGroup`, "
     "`apiDestination` to a name (in the file or on the server)"},
    {"targetParameters", "TargetParameters", F_OBJECT, 0,
     &PIPE_TARGET_PARAMS_S, "how records are sent"},
    {"roleArn", "RoleArn", F_STRING, 0, NULL,
     "kept, not used by evbus; absent: `arn:aws:iam::<account>:role/"
     "evbus-apply` on create, the pipe's own afterwards"},
    {"tags", "@tags", F_STRMAP, 0, NULL, "tag keys to values"},
};
SHAPE(PIPE_S, "pipe", PIPE_F);

/* Top-level keys: the kinds' lists plus these. */
static const char *const TOP_KEYS[] = {"version", "stack"};

/* Per kind: its shape, the request member holding its name, and the name's
 * constraints as the API states them. */
typedef enum name_chars {
    N_NAME,      /* [\.\-_A-Za-z0-9]+ */
    N_BUS,       /* [/\.\-_A-Za-z0-9]+ */
    N_LOG_GROUP, /* [\.\-_/#A-Za-z0-9]+ */
    N_QUEUE,     /* alphanumerics, '-', '_' (SQS's own message) */
    N_SUBJECT,   /* printable, no '/' */
} name_chars_t;

static const struct kind_info {
    const char *name, *key;
    const shape_t *shape;
    const char *name_member, *name_path;
    size_t max;
    name_chars_t chars;
} KINDS[EVB_APPLY_KIND_COUNT] = {
    [EVB_APPLY_SCHEMA] = {"schema", "schemas", &SCHEMA_S, "subject", "subject",
                          255, N_SUBJECT},
    [EVB_APPLY_LOG_GROUP] = {"log group", "logGroups", &LOG_GROUP_S,
                             "logGroupName", "logGroupName", 512, N_LOG_GROUP},
    [EVB_APPLY_QUEUE] = {"queue", "queues", &QUEUE_S, "QueueName", "queueName",
                         80, N_QUEUE},
    [EVB_APPLY_BUS] = {"bus", "buses", &BUS_S, "Name", "name", 256, N_BUS},
    [EVB_APPLY_CONNECTION] = {"connection", "connections", &CONNECTION_S,
                              "Name", "name", 64, N_NAME},
    [EVB_APPLY_API_DESTINATION] = {"api destination", "apiDestinations",
                                   &API_DEST_S, "Name", "name", 64, N_NAME},
    [EVB_APPLY_ARCHIVE] = {"archive", "archives", &ARCHIVE_S, "ArchiveName",
                           "archiveName", 48, N_NAME},
    [EVB_APPLY_RULE] = {"rule", "rules", &RULE_S, "Name", "name", 64, N_NAME},
    [EVB_APPLY_PIPE] = {"pipe", "pipes", &PIPE_S, "Name", "name", 64, N_NAME},
};

const char *evb_apply_kind_name(evb_apply_kind_t k) {
    return (unsigned)k < EVB_APPLY_KIND_COUNT ? KINDS[k].name : "?";
}

const char *evb_apply_kind_key(evb_apply_kind_t k) {
    return (unsigned)k < EVB_APPLY_KIND_COUNT ? KINDS[k].key : "?";
}

/* ---- conversion -----------------------------------------------------------
 */

typedef struct ctx {
    evb_apply_doc_t *doc;
    evb_apply_diags_t *diags;
    bool nomem;
} ctx_t;

static void problem(ctx_t *c, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(ctx_t *c, unsigned line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    evb__apply_vdiag(c->diags, c->doc->path, line, fmt, ap);
    va_end(ap);
}

static const char *type_text(const evb_apply_node_t *n) {
    switch (n->type) {
    case EVB_APPLY_NULL: return "nothing (null)";
    case EVB_APPLY_BOOL: return "a boolean";
    case EVB_APPLY_INT: return "an integer";
    case EVB_APPLY_FLOAT: return "a number";
    case EVB_APPLY_STRING: return "a string";
    case EVB_APPLY_MAP: return "a mapping";
    case EVB_APPLY_SEQ: return "a list";
    }
    return "?";
}

static bool is_scalar(const evb_apply_node_t *n) {
    return n->type == EVB_APPLY_BOOL || n->type == EVB_APPLY_INT ||
           n->type == EVB_APPLY_FLOAT || n->type == EVB_APPLY_STRING;
}

/* An integer scalar (decimal, 0x hex, 0o octal; or a string that came from
 * ${} and reads as decimal). */
static bool node_int(const evb_apply_node_t *n, long long *out) {
    if (n->type != EVB_APPLY_INT &&
        !(n->type == EVB_APPLY_STRING && n->from_env))
        return false;
    const char *s = n->str;
    int base = 10;
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (s[0] == '0' && s[1] == 'x')
        base = 16, s += 2;
    else if (s[0] == '0' && s[1] == 'o')
        base = 8, s += 2;
    if (!*s)
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, base);
    if (*end || errno || v > (unsigned long long)INT64_MAX)
        return false;
    *out = neg ? -(long long)v : (long long)v;
    return true;
}

/* Append node as JSON text. Returns false (with a problem recorded) when
 * the node cannot be written (inf/nan) or memory runs out. */
static bool node_json(ctx_t *c, evb_buf_t *b, const evb_apply_node_t *n,
                      unsigned depth) {
    evb_err_t err = EVB_ERR_OK;
    if (depth > 64) {
        problem(c, n->line, "value nested too deeply");
        return false;
    }
    switch (n->type) {
    case EVB_APPLY_NULL: err = evb_buf_append(b, "null", 4); break;
    case EVB_APPLY_BOOL: err = evb_buf_append(b, n->str, n->len); break;
    case EVB_APPLY_STRING:
        err = evb_json_append_string(b, n->str, n->len);
        break;
    case EVB_APPLY_INT: {
        long long v;
        if (!node_int(n, &v)) {
            problem(c, n->line, "integer %s is out of range", n->str);
            return false;
        }
        err = evb_buf_appendf(b, "%lld", v);
        break;
    }
    case EVB_APPLY_FLOAT: {
        bool json_ok = n->len && n->str[0] != '+' && n->str[0] != '.' &&
                       !(n->str[0] == '-' && n->str[1] == '.') &&
                       !strstr(n->str, "inf") && !strstr(n->str, "Inf") &&
                       !strstr(n->str, "INF") && !strchr(n->str, 'n') &&
                       !strchr(n->str, 'N') && n->str[n->len - 1] != '.' &&
                       !strstr(n->str, ".e") && !strstr(n->str, ".E");
        /* leading zeros ("01.5") are not JSON either */
        const char *d = n->str[0] == '-' ? n->str + 1 : n->str;
        if (d[0] == '0' && d[1] >= '0' && d[1] <= '9')
            json_ok = false;
        if (json_ok) {
            err = evb_buf_append(b, n->str, n->len);
            break;
        }
        double v = strtod(n->str, NULL);
        if (!isfinite(v)) {
            problem(c, n->line, "%s cannot be written in JSON", n->str);
            return false;
        }
        err = evb_buf_appendf(b, "%.17g", v);
        break;
    }
    case EVB_APPLY_SEQ:
        err = evb_buf_putc(b, '[');
        for (size_t i = 0; i < n->n && !err; i++) {
            if (i)
                err = evb_buf_putc(b, ',');
            if (!err && !node_json(c, b, n->items[i], depth + 1))
                return false;
        }
        if (!err)
            err = evb_buf_putc(b, ']');
        break;
    case EVB_APPLY_MAP:
        err = evb_buf_putc(b, '{');
        for (size_t i = 0; i < n->n && !err; i++) {
            const evb_apply_member_t *m = &n->members[i];
            if (i)
                err = evb_buf_putc(b, ',');
            if (!err)
                err = evb_json_append_string(b, m->key, strlen(m->key));
            if (!err)
                err = evb_buf_putc(b, ':');
            if (!err && !node_json(c, b, m->value, depth + 1))
                return false;
        }
        if (!err)
            err = evb_buf_putc(b, '}');
        break;
    }
    if (err) {
        problem(c, n->line,
                err == EVB_ERR_TOO_LARGE ? "value too large" : "out of memory");
        return false;
    }
    return true;
}

/* A scalar's text as a string value (integers normalised). */
static json_t *scalar_string(const evb_apply_node_t *n) {
    long long v;
    if (n->type == EVB_APPLY_INT && node_int(n, &v)) {
        char num[32];
        snprintf(num, sizeof num, "%lld", v);
        return json_string(num);
    }
    return json_stringn(n->str, n->len);
}

static json_t *convert_object(ctx_t *c, const evb_apply_node_t *n,
                              const shape_t *shape);

static void type_problem(ctx_t *c, const shape_t *shape, const field_t *f,
                         const evb_apply_node_t *v, const char *want) {
    problem(c, v->line, "'%s' in %s must be %s, found %s%s", f->key,
            shape->what, want, type_text(v),
            f->type == F_STRING && is_scalar(v) ? " (quote it)" : "");
}

/* The value of field f, or NULL after recording a problem. */
static json_t *convert_value(ctx_t *c, const shape_t *shape, const field_t *f,
                             const evb_apply_node_t *v) {
    long long num;
    switch (f->type) {
    case F_STRING:
        if (v->type != EVB_APPLY_STRING) {
            type_problem(c, shape, f, v, "a string");
            return NULL;
        }
        return json_stringn(v->str, v->len);
    case F_INT:
        if (!node_int(v, &num)) {
            type_problem(c, shape, f, v, "an integer");
            return NULL;
        }
        return json_integer(num);
    case F_BOOL:
        if (v->type != EVB_APPLY_BOOL) {
            type_problem(c, shape, f, v, "true or false");
            return NULL;
        }
        return json_boolean(v->str[0] == 't');
    case F_JSON_TEXT: {
        if (v->type == EVB_APPLY_STRING)
            return json_stringn(v->str, v->len);
        if (v->type != EVB_APPLY_MAP && v->type != EVB_APPLY_SEQ) {
            type_problem(c, shape, f, v, "a mapping, a list or a JSON string");
            return NULL;
        }
        evb_buf_t b;
        evb_buf_init(&b, 1 << 20);
        json_t *s = node_json(c, &b, v, 0) ? json_stringn(b.data, b.len) : NULL;
        evb_buf_free(&b);
        return s;
    }
    case F_STRMAP:
    case F_ATTRS: {
        if (v->type != EVB_APPLY_MAP) {
            type_problem(c, shape, f, v, "a mapping");
            return NULL;
        }
        json_t *o = json_object();
        bool ok = o != NULL;
        for (size_t i = 0; o && i < v->n; i++) {
            const evb_apply_node_t *mv = v->members[i].value;
            json_t *s = NULL;
            if (is_scalar(mv)) {
                s = scalar_string(mv);
            } else if (f->type == F_ATTRS && (mv->type == EVB_APPLY_MAP ||
                                              mv->type == EVB_APPLY_SEQ)) {
                evb_buf_t b;
                evb_buf_init(&b, 1 << 20);
                if (node_json(c, &b, mv, 0))
                    s = json_stringn(b.data, b.len);
                evb_buf_free(&b);
                if (!s) {
                    ok = false;
                    continue;
                }
            } else {
                problem(c, mv->line, "'%s.%s' in %s must be %s, found %s",
                        f->key, v->members[i].key, shape->what,
                        f->type == F_ATTRS ? "a scalar or a mapping"
                                           : "a scalar",
                        type_text(mv));
                ok = false;
                continue;
            }
            if (!s || json_object_set_new(o, v->members[i].key, s))
                c->nomem = ok = false;
        }
        if (!ok) {
            json_decref(o);
            return NULL;
        }
        return o;
    }
    case F_STRLIST: {
        if (v->type != EVB_APPLY_SEQ) {
            type_problem(c, shape, f, v, "a list");
            return NULL;
        }
        json_t *a = json_array();
        bool ok = a != NULL;
        for (size_t i = 0; a && i < v->n; i++) {
            if (!is_scalar(v->items[i])) {
                problem(c, v->items[i]->line,
                        "items of '%s' in %s must be scalars, found %s", f->key,
                        shape->what, type_text(v->items[i]));
                ok = false;
                continue;
            }
            if (json_array_append_new(a, scalar_string(v->items[i])))
                c->nomem = ok = false;
        }
        if (!ok) {
            json_decref(a);
            return NULL;
        }
        return a;
    }
    case F_OBJECT:
        if (v->type != EVB_APPLY_MAP) {
            type_problem(c, shape, f, v, "a mapping");
            return NULL;
        }
        return convert_object(c, v, f->shape);
    case F_STR_OR_OBJECT:
        if (v->type == EVB_APPLY_STRING)
            return json_stringn(v->str, v->len);
        if (v->type != EVB_APPLY_MAP) {
            type_problem(c, shape, f, v, "a string or a mapping");
            return NULL;
        }
        return convert_object(c, v, f->shape);
    case F_LIST: {
        if (v->type != EVB_APPLY_SEQ) {
            type_problem(c, shape, f, v, "a list");
            return NULL;
        }
        json_t *a = json_array();
        bool ok = a != NULL;
        for (size_t i = 0; a && i < v->n; i++) {
            const evb_apply_node_t *item = v->items[i];
            if (item->type != EVB_APPLY_MAP) {
                problem(c, item->line,
                        "items of '%s' in %s must be mappings "
                        "(a %s each), found %s",
                        f->key, shape->what, f->shape->what, type_text(item));
                ok = false;
                continue;
            }
            json_t *o = convert_object(c, item, f->shape);
            if (!o || json_array_append_new(a, o))
                ok = false;
        }
        if (!ok) {
            json_decref(a);
            return NULL;
        }
        return a;
    }
    }
    return NULL;
}

static void known_keys(const shape_t *shape, char *out, size_t size) {
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < shape->n && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "",
                                 shape->fields[i].key);
}

/* Convert a MAP node of shape into an object with "@line" and "@lines".
 * NULL when some member had a problem (recorded). */
static json_t *convert_object(ctx_t *c, const evb_apply_node_t *n,
                              const shape_t *shape) {
    json_t *o = json_object(), *lines = json_object();
    bool ok = o && lines;
    if (ok && (json_object_set_new(o, "@line", json_integer(n->line)) ||
               json_object_set(o, "@lines", lines)))
        ok = false;
    if (!ok)
        c->nomem = true;
    for (size_t i = 0; ok && i < n->n; i++) {
        const evb_apply_member_t *m = &n->members[i];
        const field_t *f = NULL;
        for (size_t k = 0; k < shape->n && !f; k++)
            if (strcmp(shape->fields[k].key, m->key) == 0)
                f = &shape->fields[k];
        if (!f) {
            char keys[512];
            known_keys(shape, keys, sizeof keys);
            problem(c, m->line, "unknown key '%s' in %s (known keys: %s)",
                    m->key, shape->what, keys);
            ok = false;
            continue;
        }
        if (m->value->type == EVB_APPLY_NULL)
            continue; /* key: with nothing is the same as no key */
        json_t *v = convert_value(c, shape, f, m->value);
        if (!v) {
            ok = false;
            continue;
        }
        if (json_object_set_new(o, f->api, v) ||
            json_object_set_new(lines, f->api, json_integer(m->line)))
            c->nomem = ok = false;
    }
    for (size_t k = 0; ok && k < shape->n; k++)
        if ((shape->fields[k].flags & REQ) &&
            !json_object_get(o, shape->fields[k].api)) {
            problem(c, n->line, "%s is missing required key '%s'", shape->what,
                    shape->fields[k].key);
            ok = false;
        }
    json_decref(lines);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- names ------------------------------------------------------------------
 */

static bool name_char_ok(name_chars_t chars, char c) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9');
    switch (chars) {
    case N_NAME: return alnum || c == '.' || c == '-' || c == '_';
    case N_BUS: return alnum || c == '.' || c == '-' || c == '_' || c == '/';
    case N_LOG_GROUP:
        return alnum || c == '.' || c == '-' || c == '_' || c == '/' ||
               c == '#';
    case N_QUEUE: return alnum || c == '-' || c == '_';
    case N_SUBJECT: return (unsigned char)c >= 0x20 && c != 0x7f && c != '/';
    }
    return false;
}

static const char *const name_pattern[] = {
    [N_NAME] = "[\\.\\-_A-Za-z0-9]+",
    [N_BUS] = "[/\\.\\-_A-Za-z0-9]+",
    [N_LOG_GROUP] = "[\\.\\-_/#A-Za-z0-9]+",
    [N_QUEUE] = "[A-Za-z0-9_-]+",
    [N_SUBJECT] = "[^/]+ (printable)",
};

static size_t utf16_len(const char *s) {
    size_t n = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch & 0xC0) != 0x80)
            n += ch >= 0xF0 ? 2 : 1;
    }
    return n;
}

/* Check name (at path, for the kind's constraints) as the API would,
 * recording its exception and message. */
static bool check_name(ctx_t *c, const char *what, unsigned line,
                       const char *name, const char *path, size_t max,
                       name_chars_t chars) {
    size_t n = utf16_len(name);
    bool chars_ok = n > 0;
    for (const char *p = name; *p && chars_ok; p++)
        chars_ok = name_char_ok(chars, *p);
    if (chars == N_QUEUE) {
        if (chars_ok && n <= max)
            return true;
        problem(c, line,
                "%s: InvalidParameterValue: Can only include alphanumeric "
                "characters, hyphens, or underscores. 1 to 80 in length",
                what);
        return false;
    }
    char why[3][256];
    int k = 0;
    if (n > max)
        snprintf(why[k++], sizeof why[0],
                 "Value '%s' at '%s' failed to satisfy constraint: "
                 "Member must have length less than or equal to %zu",
                 name, path, max);
    if (n < 1)
        snprintf(why[k++], sizeof why[0],
                 "Value '%s' at '%s' failed to satisfy constraint: "
                 "Member must have length greater than or equal to 1",
                 name, path);
    if (!chars_ok)
        snprintf(why[k++], sizeof why[0],
                 "Value '%s' at '%s' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern: %s",
                 name, path, name_pattern[chars]);
    if (!k)
        return true;
    problem(c, line,
            "%s: ValidationException: %d validation error%s detected: "
            "%s%s%s%s%s",
            what, k, k == 1 ? "" : "s", why[0], k > 1 ? "; " : "",
            k > 1 ? why[1] : "", k > 2 ? "; " : "", k > 2 ? why[2] : "");
    return false;
}

/* ---- per-kind rules
 * ------------------------------------------------------------ */

static bool set_ref_default(ctx_t *c, json_t *o, const char *key,
                            const char *value) {
    if (json_object_get(o, key))
        return true;
    if (json_object_set_new(o, key, json_string(value))) {
        c->nomem = true;
        return false;
    }
    return true;
}

/* How many of keys o has. */
static int count_members(const json_t *o, const char *const *keys, size_t n) {
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += json_object_get(o, keys[i]) != NULL;
    return k;
}

static bool check_tags(ctx_t *c, const json_t *o) {
    const char *k;
    json_t *v;
    bool ok = true;
    json_object_foreach(json_object_get(o, "@tags"), k, v) {
        if (strncmp(k, "evbus:apply", 11) == 0) {
            problem(c, evb__apply_line_of(o, "@tags"),
                    "tag keys starting with 'evbus:apply' are reserved for "
                    "apply's ownership record");
            ok = false;
        }
    }
    return ok;
}

static bool check_target(ctx_t *c, json_t *rule, json_t *t, size_t idx,
                         const char *rule_id) {
    static const char *const dests[] = {"Arn", "@bus", "@queue", "@logGroup",
                                        "@apiDestination"};
    unsigned line = evb__apply_line_of(t, NULL);
    bool ok = true;
    if (count_members(t, dests, EVB_ARRAY_LEN(dests)) != 1) {
        problem(c, line,
                "target '%s' of rule %s needs exactly one of arn, bus, queue, "
                "logGroup and apiDestination",
                evb__apply_str(t, "Id"), rule_id);
        ok = false;
    }
    char path[64];
    snprintf(path, sizeof path, "targets.%zu.member.id", idx + 1);
    char what[600];
    snprintf(what, sizeof what, "rule %s", rule_id);
    if (!check_name(c, what, evb__apply_line_of(t, "Id"),
                    evb__apply_str(t, "Id"), path, 64, N_NAME))
        ok = false;
    json_t *dlc = json_object_get(t, "DeadLetterConfig");
    static const char *const dlq[] = {"Arn", "@queue"};
    if (dlc && count_members(dlc, dlq, 2) != 1) {
        problem(c, evb__apply_line_of(t, "DeadLetterConfig"),
                "deadLetterConfig of target '%s' needs exactly one of arn "
                "and queue",
                evb__apply_str(t, "Id"));
        ok = false;
    }
    if (!ok)
        return false;
    /* Input, InputPath and InputTransformer: what PutTargets would say */
    json_t *body = evb__apply_api_body(t);
    char *text = body ? evb__apply_dump(body) : NULL;
    json_decref(body);
    if (!text) {
        c->nomem = true;
        return false;
    }
    char errstr[1024] = "";
    evb_transform_t *tf = NULL;
    evb_err_t err = evb_transform_compile_json(
        text, strlen(text), (unsigned)(idx + 1), &tf, errstr, sizeof errstr);
    const char *arn = evb__apply_str(t, "Arn");
    const char *svc = strlen(arn) > 4 ? strchr(arn + 4, ':') : NULL;
    bool logs = json_object_get(t, "@logGroup") ||
                (svc && strncmp(svc, ":logs:", 6) == 0);
    if (!err && logs)
        err = evb_transform_check_log_target(tf, errstr, sizeof errstr);
    evb_transform_free(tf);
    free(text);
    if (err == EVB_ERR_NOMEM) {
        c->nomem = true;
        return false;
    }
    if (err) {
        const char *type = evb_err_aws_type(err);
        unsigned at = evb__apply_line_of(t, "InputTransformer");
        if (!json_object_get(t, "InputTransformer"))
            at = evb__apply_line_of(
                t, json_object_get(t, "InputPath") ? "InputPath" : "Input");
        problem(c, at, "rule %s: %s: %s", rule_id,
                type[0] ? type : "ValidationException", errstr);
        return false;
    }
    (void)rule;
    return true;
}

static bool check_rule(ctx_t *c, json_t *o, const char *id) {
    bool ok = check_tags(c, o);
    unsigned line = evb__apply_line_of(o, NULL);
    const char *schedule =
        json_string_value(json_object_get(o, "ScheduleExpression"));
    if (!json_object_get(o, "EventPattern") && !schedule) {
        problem(c, line,
                "rule %s: ValidationException: Parameter(s) EventPattern or "
                "ScheduleExpression must be specified.",
                id);
        ok = false;
    }
    if (schedule) {
        unsigned sl = evb__apply_line_of(o, "ScheduleExpression");
        if (evb_schedule_validate(schedule, strlen(schedule), NULL, 0)) {
            problem(c, sl,
                    "rule %s: ValidationException: Parameter "
                    "ScheduleExpression is not valid.",
                    id);
            ok = false;
        } else if (strcmp(evb__apply_str(o, "@bus"), "default") != 0) {
            problem(c, sl,
                    "rule %s: ValidationException: ScheduleExpression is "
                    "supported only on the default event bus.",
                    id);
            ok = false;
        }
    }
    json_t *targets = json_object_get(o, "@targets");
    size_t i;
    json_t *t;
    json_array_foreach(targets, i, t) {
        for (size_t k = 0; k < i; k++) {
            json_t *prev = json_array_get(targets, k);
            if (strcmp(evb__apply_str(prev, "Id"), evb__apply_str(t, "Id")) ==
                0) {
                problem(c, evb__apply_line_of(t, NULL),
                        "rule %s has two targets with id '%s' (the other at "
                        "line %u)",
                        id, evb__apply_str(t, "Id"),
                        evb__apply_line_of(prev, NULL));
                ok = false;
            }
        }
        if (!check_target(c, o, t, i, id))
            ok = false;
    }
    return ok;
}


/* The largest schema file read. */
#define SCHEMA_FILE_MAX (4u << 20)

/* Read a schema's `file` (relative to the document's directory) into its
 * "schema" member. */
static bool load_schema_file(ctx_t *c, json_t *o, const char *what) {
    const char *file = evb__apply_str(o, "@file");
    unsigned line = evb__apply_line_of(o, "@file");
    const char *doc = c->doc->path;
    const char *slash = strrchr(doc, '/');
    size_t dl = file[0] != '/' && slash && strcmp(doc, "-") != 0
                    ? (size_t)(slash - doc) + 1
                    : 0;
    size_t n = dl + strlen(file) + 1;
    char *path = malloc(n);
    if (!path) {
        c->nomem = true;
        return false;
    }
    snprintf(path, n, "%.*s%s", (int)dl, doc, file);
    evb_buf_t b;
    evb_buf_init(&b, SCHEMA_FILE_MAX);
    char errstr[512];
    bool ok = true;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* a FIFO or a device could block or never end */
        problem(c, line, "%s: cannot read its file: %s is not a regular file",
                what, path);
        ok = false;
    } else if (evb_buf_read_file(&b, path, errstr, sizeof errstr)) {
        problem(c, line, "%s: cannot read its file: %s", what, errstr);
        ok = false;
    } else if (b.len == 0) {
        problem(c, line, "%s: its file %s is empty", what, path);
        ok = false;
    } else if (json_object_set_new(o, "schema", json_stringn(b.data, b.len))) {
        c->nomem = true;
        ok = false;
    }
    evb_buf_free(&b);
    free(path);
    return ok;
}

static bool check_schema(ctx_t *c, json_t *o, const char *what) {
    unsigned line = evb__apply_line_of(o, NULL);
    bool ok = true;
    static const char *const src[] = {"@file", "schema"};
    if (count_members(o, src, 2) != 1) {
        problem(c, line, "%s needs exactly one of file and schema", what);
        return false;
    }
    if (json_object_get(o, "@file") && !load_schema_file(c, o, what))
        ok = false;
    const char *comp = json_string_value(json_object_get(o, "@compatibility"));
    static const char *const levels[] = {
        "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE",
        "FULL",     "FULL_TRANSITIVE",     "NONE"};
    bool known = !comp;
    for (size_t i = 0; comp && i < EVB_ARRAY_LEN(levels); i++)
        known = known || strcmp(comp, levels[i]) == 0;
    if (!known) {
        problem(c, evb__apply_line_of(o, "@compatibility"),
                "%s: 42203: Invalid compatibility level. Valid values are "
                "none, backward, forward, full, backward_transitive, "
                "forward_transitive, and full_transitive",
                what);
        ok = false;
    }
    return ok;
}

static bool check_pipe(ctx_t *c, json_t *o, const char *what) {
    unsigned line = evb__apply_line_of(o, NULL);
    bool ok = check_tags(c, o);
    const char *ds = json_string_value(json_object_get(o, "DesiredState"));
    if (ds && strcmp(ds, "RUNNING") != 0 && strcmp(ds, "STOPPED") != 0) {
        problem(c, evb__apply_line_of(o, "DesiredState"),
                "%s: ValidationException: 1 validation error detected: Value "
                "'%s' at 'desiredState' failed to satisfy constraint: Member "
                "must satisfy enum value set: [RUNNING, STOPPED]",
                what, ds);
        ok = false;
    }
    static const char *const enr[] = {"Enrichment",
                                      "@enrichmentApiDestination"};
    if (count_members(o, enr, 2) > 1) {
        problem(c, line,
                "%s takes one of enrichment and enrichmentApiDestination",
                what);
        ok = false;
    }
    json_t *sp = json_object_get(o, "SourceParameters");
    if (json_object_get(sp, "SelfManagedKafkaParameters") &&
        json_object_get(sp, "ManagedStreamingKafkaParameters")) {
        problem(c, evb__apply_line_of(o, "SourceParameters"),
                "%s takes one of selfManagedKafkaParameters and "
                "managedStreamingKafkaParameters",
                what);
        ok = false;
    }
    /* what CreatePipe would refuse about the batch size (targets by name) */
    json_t *kp = json_object_get(sp, "SelfManagedKafkaParameters");
    if (!kp)
        kp = json_object_get(sp, "ManagedStreamingKafkaParameters");
    json_t *bs = json_object_get(kp, "BatchSize");
    json_t *t = json_object_get(o, "Target");
    if (json_is_integer(bs)) {
        long long n = json_integer_value(bs);
        bool enriched = json_object_get(o, "Enrichment") ||
                        json_object_get(o, "@enrichmentApiDestination");
        long long max = json_object_get(t, "@apiDestination") ? 1
                        : json_object_get(t, "@logGroup")     ? 10000
                        : json_is_object(t)                   ? 10
                                                              : 10000;
        if (enriched && n > 1) {
            problem(c, evb__apply_line_of(kp, "BatchSize"),
                    "%s: ValidationException: BatchSize must be 1 with an "
                    "API destination enrichment",
                    what);
            ok = false;
        } else if (n > max) {
            problem(c, evb__apply_line_of(kp, "BatchSize"),
                    "%s: ValidationException: BatchSize %lld is larger than "
                    "the target supports (%lld)",
                    what, n, max);
            ok = false;
        }
    }
    if (json_is_object(t)) {
        static const char *const refs[] = {"@bus", "@queue", "@logGroup",
                                           "@apiDestination"};
        if (count_members(t, refs, EVB_ARRAY_LEN(refs)) != 1) {
            problem(c, evb__apply_line_of(o, "Target"),
                    "the target of %s needs exactly one of bus, queue, "
                    "logGroup and apiDestination",
                    what);
            ok = false;
        } else {
            /* by name: resolved when planning */
            json_object_set_new(t, "@line",
                                json_integer(evb__apply_line_of(o, "Target")));
            if (json_object_set(o, "@target", t) ||
                json_object_del(o, "Target"))
                c->nomem = ok = false;
        }
    }
    return ok;
}

/* Kind-specific checks and defaults; sets *id (arena). */
static bool finish_resource(ctx_t *c, evb_apply_kind_t k, json_t *o,
                            const char **id) {
    const struct kind_info *ki = &KINDS[k];
    const char *name = evb__apply_str(o, ki->name_member);
    unsigned line = evb__apply_line_of(o, NULL);
    bool ok = true;
    if (k == EVB_APPLY_RULE)
        ok = set_ref_default(c, o, "@bus", "default");
    char *buf;
    if (k == EVB_APPLY_RULE) {
        const char *bus = evb__apply_str(o, "@bus");
        size_t n = strlen(bus) + strlen(name) + 2;
        buf = evb_arena_alloc(&c->doc->arena, n);
        if (buf)
            snprintf(buf, n, "%s/%s", bus, name);
    } else {
        buf = evb_arena_strndup(&c->doc->arena, name, strlen(name));
    }
    if (!buf) {
        c->nomem = true;
        return false;
    }
    *id = buf;
    char what[700];
    snprintf(what, sizeof what, "%s %s", ki->name, buf);
    ok = check_name(c, what, evb__apply_line_of(o, ki->name_member), name,
                    ki->name_path, ki->max, ki->chars) &&
         ok;
    switch (k) {
    case EVB_APPLY_BUS:
        ok = check_tags(c, o) && ok;
        if (strcmp(name, "default") == 0) {
            problem(c, line,
                    "the default bus always exists and cannot be "
                    "created or deleted: leave it out of 'buses'");
            ok = false;
        } else if (strchr(name, '/')) {
            problem(c, line,
                    "%s: ValidationException: Event bus name must not "
                    "contain '/'.",
                    what);
            ok = false;
        }
        break;
    case EVB_APPLY_API_DESTINATION: {
        static const char *const conn[] = {"@connection", "ConnectionArn"};
        if (count_members(o, conn, 2) != 1) {
            problem(c, line,
                    "%s needs exactly one of connection and connectionArn",
                    what);
            ok = false;
        }
        break;
    }
    case EVB_APPLY_SCHEMA: ok = check_schema(c, o, what) && ok; break;
    case EVB_APPLY_PIPE: ok = check_pipe(c, o, what) && ok; break;
    case EVB_APPLY_ARCHIVE: {
        static const char *const src[] = {"@bus", "EventSourceArn"};
        if (count_members(o, src, 2) > 1) {
            problem(c, line, "%s takes one of bus and eventSourceArn", what);
            ok = false;
        } else if (!json_object_get(o, "EventSourceArn"))
            ok = set_ref_default(c, o, "@bus", "default") && ok;
        break;
    }
    default: break;
    }
    if (ok && k == EVB_APPLY_RULE)
        ok = check_rule(c, o, buf);
    return ok;
}

static void load_kind(ctx_t *c, evb_apply_kind_t k,
                      const evb_apply_node_t *list) {
    const struct kind_info *ki = &KINDS[k];
    if (list->type == EVB_APPLY_NULL)
        return;
    if (list->type != EVB_APPLY_SEQ) {
        problem(c, list->line, "'%s' must be a list of %s mappings, found %s",
                ki->key, ki->name, type_text(list));
        return;
    }
    evb_apply_doc_t *doc = c->doc;
    doc->res[k] = calloc(list->n ? list->n : 1, sizeof *doc->res[k]);
    if (!doc->res[k]) {
        c->nomem = true;
        return;
    }
    for (size_t i = 0; i < list->n; i++) {
        const evb_apply_node_t *item = list->items[i];
        if (item->type != EVB_APPLY_MAP) {
            problem(c, item->line, "items of '%s' must be mappings, found %s",
                    ki->key, type_text(item));
            continue;
        }
        json_t *o = convert_object(c, item, ki->shape);
        if (!o)
            continue;
        const char *id = NULL;
        if (!finish_resource(c, k, o, &id)) {
            json_decref(o);
            continue;
        }
        const evb__apply_res_t *dup = evb__apply_doc_find(doc, k, id);
        if (dup) {
            problem(c, item->line, "%s %s is declared twice (first at line %u)",
                    ki->name, id, dup->line);
            json_decref(o);
            continue;
        }
        evb__apply_res_t *r = &doc->res[k][doc->nres[k]++];
        r->kind = k;
        r->id = id;
        r->line = item->line;
        r->spec = o;
    }
}

static bool stack_name_ok(const char *s) {
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return false;
    for (; *s; s++)
        if (!name_char_ok(N_NAME, *s))
            return false;
    return true;
}

static void load_top(ctx_t *c, const evb_apply_node_t *root) {
    evb_apply_doc_t *doc = c->doc;
    if (root->type == EVB_APPLY_NULL)
        return; /* an empty document manages nothing */
    if (root->type != EVB_APPLY_MAP) {
        problem(c, root->line, "the document must be a mapping, found %s",
                type_text(root));
        return;
    }
    for (size_t i = 0; i < root->n; i++) {
        const evb_apply_member_t *m = &root->members[i];
        const evb_apply_node_t *v = m->value;
        bool known = false;
        for (int k = 0; k < EVB_APPLY_KIND_COUNT; k++)
            if (strcmp(m->key, KINDS[k].key) == 0) {
                known = true;
                load_kind(c, (evb_apply_kind_t)k, v);
            }
        for (size_t k = 0; k < EVB_ARRAY_LEN(TOP_KEYS); k++)
            known = known || strcmp(m->key, TOP_KEYS[k]) == 0;
        if (!known) {
            problem(c, m->line,
                    "unknown key '%s' at the top of the document (known "
                    "keys: version, stack, schemas, logGroups, queues, "
                    "buses, connections, apiDestinations, archives, rules, "
                    "pipes)",
                    m->key);
        } else if (strcmp(m->key, "version") == 0) {
            long long ver;
            if (!node_int(v, &ver) || ver != 1)
                problem(c, v->line,
                        "version must be 1 (the only version of "
                        "the format)");
        } else if (strcmp(m->key, "stack") == 0) {
            if (v->type != EVB_APPLY_STRING || !stack_name_ok(v->str))
                problem(c, v->line,
                        "stack must be a name of 1 to 64 letters, digits, "
                        "'.', '-' and '_'");
            else
                doc->stack = v->str;
        }
    }
}

/* ---- the reference
 * ------------------------------------------------------------- */

static const char *type_name(const field_t *f) {
    switch (f->type) {
    case F_STRING: return "string";
    case F_INT: return "integer";
    case F_BOOL: return "boolean";
    case F_JSON_TEXT: return "mapping, list or JSON string";
    case F_STRMAP: return "mapping of strings";
    case F_STRLIST: return "list of strings";
    case F_ATTRS: return "mapping";
    case F_OBJECT: return "mapping";
    case F_LIST: return "list of mappings";
    case F_STR_OR_OBJECT: return "string or mapping";
    }
    return "?";
}

static void print_shape(FILE *out, const shape_t *shape, const char *heading) {
    fprintf(out, "### %s\n\n", heading);
    fprintf(out, "| key | type | required | API member | meaning |\n");
    fprintf(out, "|---|---|---|---|---|\n");
    for (size_t i = 0; i < shape->n; i++) {
        const field_t *f = &shape->fields[i];
        char type[96];
        if (f->type == F_OBJECT || f->type == F_LIST ||
            f->type == F_STR_OR_OBJECT)
            snprintf(type, sizeof type, "%s (%s)", type_name(f),
                     f->shape->what);
        else
            snprintf(type, sizeof type, "%s", type_name(f));
        fprintf(out, "| `%s` | %s | %s | %s | %s |\n", f->key, type,
                (f->flags & REQ) ? "yes" : "",
                strcmp(f->api, "@tags") == 0      ? "Tags"
                : strcmp(f->api, "@targets") == 0 ? "PutTargets"
                : f->api[0] == '@'                ? "(apply's own)"
                                                  : f->api,
                f->help);
    }
    fputc('\n', out);
}

void evb_apply_reference_print(FILE *out) {
    static const struct {
        const shape_t *shape;
        const char *heading;
    } order[] = {
        {&LOG_GROUP_S, "`logGroups`: log groups (CloudWatch Logs)"},
        {&QUEUE_S, "`queues`: queues (SQS)"},
        {&BUS_S, "`buses`: event buses"},
        {&CONNECTION_S, "`connections`: connections"},
        {&AUTH_S, "`authParameters` of a connection"},
        {&BASIC_S, "`basicAuthParameters`"},
        {&API_KEY_S, "`apiKeyAuthParameters`"},
        {&OAUTH_S, "`oAuthParameters`"},
        {&CLIENT_S, "`clientParameters`"},
        {&HTTP_PARAMS_S,
         "`invocationHttpParameters` and `oAuthHttpParameters`"},
        {&PARAM_S, "one header, query string or body parameter"},
        {&API_DEST_S, "`apiDestinations`: API destinations"},
        {&ARCHIVE_S, "`archives`: archives"},
        {&RULE_S, "`rules`: rules"},
        {&TARGET_S, "`targets` of a rule"},
        {&TRANSFORMER_S, "`inputTransformer` of a target"},
        {&RETRY_S, "`retryPolicy` of a target"},
        {&DLC_S, "`deadLetterConfig` of a target"},
        {&TARGET_HTTP_S, "`httpParameters` of a target"},
        {&SQS_PARAMS_S, "`sqsParameters` of a target"},
        {&SCHEMA_S, "`schemas`: schema registry subjects"},
        {&PIPE_S, "`pipes`: EventBridge Pipes"},
        {&PIPE_TARGET_REF_S, "`target` of a pipe, by name"},
        {&PIPE_SOURCE_S, "`sourceParameters` of a pipe"},
        {&PIPE_SMK_S, "`selfManagedKafkaParameters`"},
        {&PIPE_MSK_S, "`managedStreamingKafkaParameters`"},
        {&PIPE_CREDS_S, "`credentials` of a Kafka source"},
        {&PIPE_VPC_S, "`vpc` of a Kafka source"},
        {&PIPE_FILTERS_S, "`filterCriteria`"},
        {&PIPE_FILTER_S, "one filter"},
        {&PIPE_ENRICH_S, "`enrichmentParameters` of a pipe"},
        {&PIPE_TARGET_PARAMS_S, "`targetParameters` of a pipe"},
        {&PIPE_BUS_PARAMS_S, "`eventBridgeEventBusParameters`"},
        {&PIPE_LOGS_PARAMS_S, "`cloudWatchLogsParameters`"},
        {&PIPE_SQS_PARAMS_S, "`sqsQueueParameters`"},
    };
    for (size_t i = 0; i < EVB_ARRAY_LEN(order); i++)
        print_shape(out, order[i].shape, order[i].heading);
}

/* ---- the document
 * --------------------------------------------------------------- */

const evb__apply_res_t *evb__apply_doc_find(const evb_apply_doc_t *doc,
                                            evb_apply_kind_t k,
                                            const char *id) {
    for (size_t i = 0; i < doc->nres[k]; i++)
        if (strcmp(doc->res[k][i].id, id) == 0)
            return &doc->res[k][i];
    return NULL;
}

void evb_apply_doc_free(evb_apply_doc_t *doc) {
    if (!doc)
        return;
    for (int k = 0; k < EVB_APPLY_KIND_COUNT; k++) {
        for (size_t i = 0; i < doc->nres[k]; i++)
            json_decref(doc->res[k][i].spec);
        free(doc->res[k]);
    }
    evb_arena_free(&doc->arena);
    free(doc);
}

evb_err_t evb_apply_doc_load(const char *path, const char *text, size_t len,
                             const evb_apply_load_opts_t *opts,
                             evb_apply_doc_t **out, evb_apply_diags_t *diags) {
    *out = NULL;
    evb_apply_doc_t *doc = calloc(1, sizeof *doc);
    if (!doc) {
        diags->nomem = true;
        return EVB_ERR_NOMEM;
    }
    evb_arena_init(&doc->arena, 0);
    if (!path)
        path = "-";
    doc->path = evb_arena_strndup(&doc->arena, path, strlen(path));
    doc->stack = "default";
    if (!doc->path) {
        evb_apply_doc_free(doc);
        diags->nomem = true;
        return EVB_ERR_NOMEM;
    }
    size_t before = diags->n;
    char why[768] = "";
    unsigned line = 0;
    evb_apply_format_t fmt = opts ? opts->format : EVB_APPLY_FORMAT_AUTO;
    if (fmt == EVB_APPLY_FORMAT_AUTO) {
        size_t pl = strlen(path);
        if (pl > 5 && strcmp(path + pl - 5, ".json") == 0)
            fmt = EVB_APPLY_FORMAT_JSON;
        else if ((pl > 5 && strcmp(path + pl - 5, ".yaml") == 0) ||
                 (pl > 4 && strcmp(path + pl - 4, ".yml") == 0))
            fmt = EVB_APPLY_FORMAT_YAML;
    }
    evb_err_t err = evb__apply_tree_parse(&doc->arena, text, len, fmt, opts,
                                          &doc->root, &line, why, sizeof why);
    if (err) {
        evb__apply_diag(diags, doc->path, line, "%s", why);
        evb_apply_doc_free(doc);
        return err;
    }
    ctx_t c = {.doc = doc, .diags = diags};
    load_top(&c, doc->root);
    if (c.nomem)
        diags->nomem = true;
    if (c.nomem || diags->n > before || diags->nomem) {
        evb_apply_doc_free(doc);
        return c.nomem ? EVB_ERR_NOMEM : EVB_ERR_INVALID_ARG;
    }
    *out = doc;
    return EVB_ERR_OK;
}

const evb_apply_node_t *evb_apply_doc_root(const evb_apply_doc_t *doc) {
    return doc->root;
}

const char *evb_apply_doc_stack(const evb_apply_doc_t *doc) {
    return doc->stack;
}

const char *evb_apply_doc_path(const evb_apply_doc_t *doc) {
    return doc->path;
}

size_t evb_apply_doc_count(const evb_apply_doc_t *doc, evb_apply_kind_t k) {
    return (unsigned)k < EVB_APPLY_KIND_COUNT ? doc->nres[k] : 0;
}

unsigned evb_apply_doc_line(const evb_apply_doc_t *doc, evb_apply_kind_t k,
                            const char *id) {
    const evb__apply_res_t *r = (unsigned)k < EVB_APPLY_KIND_COUNT
                                    ? evb__apply_doc_find(doc, k, id)
                                    : NULL;
    return r ? r->line : 0;
}
