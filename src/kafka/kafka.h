/*
 * kafka: evbus's only way to Kafka, thin wrappers over librdkafka.
 *
 * - Configuration pass-through. A evb_kafka_conf_t is an ordered list of
 *   librdkafka properties (librdkafka's own names: bootstrap.servers,
 *   security.protocol, sasl.*, ssl.*, ...), filled from `key=value` pairs
 *   and Java-style .properties files. Nothing is interpreted here: every
 *   property goes to librdkafka as it is, so SASL, TLS, OAUTHBEARER and MSK
 *   need no code. Each property remembers where it came from ("FILE:LINE",
 *   "--kafka-config") so every error names it.
 * - Named clusters: `default` plus any others from configuration, each
 *   with its own properties and one shared, lazily created producer.
 * - A producer (idempotent, acks=all) whose delivery reports come back to
 *   the caller through a per-message callback on the producer's own
 *   thread, and a consumer (consumer groups, manual commit after
 *   processing, poll with a timeout).
 * - librdkafka's mock cluster (a test cluster, never a production broker).
 *
 * Secrets. Properties whose name says password or secret, and private
 * keys (evb_kafka_conf_is_secret), are never written to a log nor to an
 * errstr; librdkafka's log lines are scrubbed of their values too.
 *
 * Logging. librdkafka's logs and this module's own go to one process-wide
 * sink (evb_kafka_set_log), by default stderr as "evbus: kafka: ...",
 * like the rest of the server's log.
 */
#ifndef EVB_KAFKA_H
#define EVB_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

/* ---- logging ------------------------------------------------------------- */

/* One log line (no newline) at a syslog(3) level (3 error, 4 warning, 6
 * info, 7 debug). Called from librdkafka's threads: must be thread-safe
 * and must not call back into this module. */
typedef void (*evb_kafka_log_fn)(void *ud, int level, const char *line);

/* Route every Kafka log line to fn (NULL: the default, stderr). Set it
 * before creating clients; not synchronised with clients already running. */
void evb_kafka_set_log(evb_kafka_log_fn fn, void *ud);

/* ---- configuration ------------------------------------------------------- */

typedef struct evb_kafka_conf evb_kafka_conf_t;

/* An empty property list; NULL when memory runs out. Free with
 * evb_kafka_conf_free. */
evb_kafka_conf_t *evb_kafka_conf_new(void);
void evb_kafka_conf_free(evb_kafka_conf_t *c);
/* A deep copy; NULL when memory runs out. */
evb_kafka_conf_t *evb_kafka_conf_dup(const evb_kafka_conf_t *c);

/*
 * Set property key to value (both copied). origin (copied; may be NULL)
 * says where it came from, for messages. A key set again keeps its place
 * and takes the new value and origin: the last one wins, as in a
 * .properties file. Only the name is checked here (not empty, no control
 * characters); librdkafka judges names and values in
 * evb_kafka_conf_check. Errors: EVB_ERR_INVALID_ARG, EVB_ERR_NOMEM.
 */
evb_err_t evb_kafka_conf_set(evb_kafka_conf_t *c, const char *key,
                             const char *value, const char *origin,
                             char *errstr, size_t errstr_size);

/* "key=value", split at the first '=' (the value may be empty or hold
 * more '='; no escapes, no trimming). EVB_ERR_INVALID_ARG without '='. */
evb_err_t evb_kafka_conf_set_pair(evb_kafka_conf_t *c, const char *pair,
                                  const char *origin, char *errstr,
                                  size_t errstr_size);

/*
 * Add the properties of a Java .properties text (java.util.Properties
 * load rules): lines end at \n, \r or \r\n; leading blanks (space, tab,
 * form feed) are skipped; blank lines and lines whose first non-blank
 * character is '#' or '!' are ignored; a line ending in an odd number of
 * backslashes continues on the next one (whose leading blanks are
 * dropped); the key ends at the first unescaped '=', ':' or blank, then
 * blanks and at most one '=' or ':' (and blanks) are skipped and the rest
 * of the line, trailing blanks included, is the value ("key" alone has
 * the value ""); in keys and values \t \n \r \f are control characters,
 * \uXXXX is a UTF-16 code unit (surrogate pairs are joined; written as
 * UTF-8) and a backslash before any other character stands for that
 * character (\= \: \# \! \\ and "\ " included). Other bytes pass through
 * unchanged (UTF-8 is expected). A repeated key: the last one wins.
 *
 * Every property's origin is "NAME:LINE" (the line where its logical line
 * starts). Errors (EVB_ERR_INVALID_ARG, "NAME:LINE: ..."): a malformed
 * \uXXXX escape, an unpaired surrogate, a NUL character (raw or \u0000),
 * an empty key. Nothing is added when there is an error.
 */
evb_err_t evb_kafka_conf_parse_properties(evb_kafka_conf_t *c, const char *text,
                                          size_t len, const char *name,
                                          char *errstr, size_t errstr_size);

/* The same from a file. A file that cannot be read is EVB_ERR_IO
 * ("FILE: reason"). */
evb_err_t evb_kafka_conf_load_file(evb_kafka_conf_t *c, const char *path,
                                   char *errstr, size_t errstr_size);

/* The value of key, NULL when unset. Borrowed until the next change. */
const char *evb_kafka_conf_get(const evb_kafka_conf_t *c, const char *key);
size_t evb_kafka_conf_count(const evb_kafka_conf_t *c);
/* Property i (0-based, in first-set order); origin may come back NULL. */
void evb_kafka_conf_entry(const evb_kafka_conf_t *c, size_t i, const char **key,
                          const char **value, const char **origin);

/* True for properties whose value is a secret: a name containing
 * "password" or "secret", and ssl.key.pem, ssl_key,
 * sasl.oauthbearer.config. */
bool evb_kafka_conf_is_secret(const char *key);

/*
 * Ask librdkafka about every property (on a scratch configuration): an
 * unknown name or a bad value is EVB_ERR_INVALID_ARG "ORIGIN: KEY:
 * librdkafka's reason" (a secret's value is never quoted).
 */
evb_err_t evb_kafka_conf_check(const evb_kafka_conf_t *c, char *errstr,
                               size_t errstr_size);

/* Append "key=value, key=value" to out, secrets as "[redacted]". */
evb_err_t evb_kafka_conf_describe(const evb_kafka_conf_t *c, evb_buf_t *out);

/* ---- producer ------------------------------------------------------------ */

typedef struct evb_kafka_producer evb_kafka_producer_t;

/* A message header (both copied by evb_kafka_produce). */
typedef struct evb_kafka_header {
    const char *name;
    const void *value;
    size_t len;
} evb_kafka_header_t;

/* One message to produce. key NULL: no key (the partitioner picks a
 * partition); partition -1: the partitioner decides. */
typedef struct evb_kafka_out_msg {
    const char *topic;
    int32_t partition;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    const evb_kafka_header_t *headers;
    size_t nheaders;
} evb_kafka_out_msg_t;

/* How a produced message ended: its delivery report. */
typedef struct evb_kafka_report {
    bool ok;        /* written to the topic with the configured acks */
    bool retriable; /* when !ok: producing again may succeed */
    int error;      /* librdkafka's rd_kafka_resp_err_t; 0 when ok */
    /* Short class, used as a dead letter's ERROR_CODE: "OK",
     * "NO_RESOURCE" (unknown cluster, topic or partition), "TIMEOUT",
     * "NOT_AUTHORIZED", "INVALID_PARAMETERS" (bad topic name, message too
     * large), "SHUTDOWN" (the producer closed first), "KAFKA_ERROR". */
    const char *code;
    char message[200]; /* never holds a secret */
    int32_t partition; /* when ok */
    int64_t offset;    /* when ok; -1 if the broker did not say */
} evb_kafka_report_t;

/* Delivery report. Runs on the producer's thread, exactly once per
 * accepted message (with "SHUTDOWN", retriable, for messages still
 * pending when the producer is freed). Must not block for long nor free
 * the producer; may produce. */
typedef void (*evb_kafka_report_fn)(void *ud, const evb_kafka_report_t *r);

/*
 * Create a producer over conf (read, not kept). name (copied) labels its
 * log lines. evbus's defaults come first and conf overrides them:
 * partitioner=murmur2_random (Java's, so keys land where Java clients put
 * them), message.timeout.ms=10000 (a report within 10 s; 0, infinite, is
 * refused). enable.idempotence=true and acks=all are always set; conf
 * may repeat them but not contradict them. Errors: EVB_ERR_INVALID_ARG
 * (librdkafka refused the configuration: "ORIGIN: KEY: reason"),
 * EVB_ERR_NOMEM, EVB_ERR_INTERNAL. Free with evb_kafka_producer_free.
 */
evb_err_t evb_kafka_producer_new(const evb_kafka_conf_t *conf, const char *name,
                                 evb_kafka_producer_t **out, char *errstr,
                                 size_t errstr_size);

/*
 * Queue one message (everything copied); returns at once. done(ud,
 * report) follows exactly once. When librdkafka's queue is full this
 * waits (up to message.timeout.ms) for room. Thread-safe.
 *
 * On failure done is not called and, when why is not NULL, *why is
 * filled as a report would be: EVB_ERR_INVALID_ARG (bad topic name,
 * message too large, unknown partition: not retriable), EVB_ERR_IO (a
 * fatal producer error, the queue stayed full, the producer is closing:
 * retriable).
 */
evb_err_t evb_kafka_produce(evb_kafka_producer_t *p,
                            const evb_kafka_out_msg_t *m,
                            evb_kafka_report_fn done, void *ud,
                            evb_kafka_report_t *why);

/* Wait until every queued message has its report, or timeout_ms passed
 * (EVB_ERR_IO, "N messages still in flight"). */
evb_err_t evb_kafka_producer_flush(evb_kafka_producer_t *p, int timeout_ms,
                                   char *errstr, size_t errstr_size);

/* True once librdkafka raised a fatal error (the idempotent producer
 * cannot go on); errstr gets its reason. Such a producer fails every
 * message: replace it. */
bool evb_kafka_producer_failed(evb_kafka_producer_t *p, char *errstr,
                               size_t errstr_size);

/* Messages queued or in flight (without a report yet). */
size_t evb_kafka_producer_in_flight(evb_kafka_producer_t *p);

/* Flush (up to message.timeout.ms), report what is left as "SHUTDOWN",
 * stop the thread, free. NULL is fine. */
void evb_kafka_producer_free(evb_kafka_producer_t *p);

/* ---- consumer ------------------------------------------------------------ */

typedef struct evb_kafka_consumer evb_kafka_consumer_t;

/* A consumed message. The pointers live as long as the message. */
typedef struct evb_kafka_msg {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const void *key; /* NULL: no key */
    size_t key_len;
    const void *value; /* NULL: a null value (tombstone) */
    size_t value_len;
    int64_t timestamp_ms; /* -1 when there is none */
    void *evb__rkm;       /* private: librdkafka's message */
} evb_kafka_msg_t;

/*
 * Join consumer group group_id (NULL: conf's group.id, which must then be
 * set) and subscribe to topics (a name that starts with '^' is a regular
 * expression: librdkafka's regex subscription). Offsets are committed only by
 * evb_kafka_consumer_commit (enable.auto.commit and
 * enable.auto.offset.store are false; conf may not turn them on); a new
 * group starts at the earliest offset (auto.offset.reset=earliest unless
 * conf says otherwise). name (copied) labels log lines. Errors as
 * evb_kafka_producer_new. Free with evb_kafka_consumer_free.
 */
evb_err_t evb_kafka_consumer_new(const evb_kafka_conf_t *conf,
                                 const char *group_id,
                                 const char *const *topics, size_t ntopics,
                                 const char *name, evb_kafka_consumer_t **out,
                                 char *errstr, size_t errstr_size);

/*
 * Wait up to timeout_ms for the next message: *out is a message to free
 * with evb_kafka_msg_free, or NULL when none came in time. Group
 * rebalances happen inside poll. A consumer error (an unknown topic, a
 * broker gone) is EVB_ERR_IO with librdkafka's reason and *out NULL; the
 * consumer stays usable and the caller may poll again. A fatal error is
 * EVB_ERR_INTERNAL. One thread at a time.
 */
evb_err_t evb_kafka_consumer_poll(evb_kafka_consumer_t *c, int timeout_ms,
                                  evb_kafka_msg_t **out, char *errstr,
                                  size_t errstr_size);

/* The value of header name (the last one when repeated); false if the
 * message has none. */
bool evb_kafka_msg_header(const evb_kafka_msg_t *m, const char *name,
                          const void **value, size_t *len);
void evb_kafka_msg_free(evb_kafka_msg_t *m);

/* A message's timestamp type (Kafka's TimestampType). */
typedef enum evb_kafka_ts_type {
    EVB_KAFKA_TS_NONE,           /* NoTimestampType (timestamp_ms is -1) */
    EVB_KAFKA_TS_CREATE_TIME,    /* CreateTime: set by the producer */
    EVB_KAFKA_TS_LOG_APPEND_TIME /* LogAppendTime: set by the broker */
} evb_kafka_ts_type_t;
evb_kafka_ts_type_t evb_kafka_msg_timestamp_type(const evb_kafka_msg_t *m);

/* The message's headers, in the order they were produced (repeated names
 * included): how many, and header i (0-based; false past the end). The
 * name and value live as long as m; a null header value is value NULL,
 * len 0. */
size_t evb_kafka_msg_header_count(const evb_kafka_msg_t *m);
bool evb_kafka_msg_header_at(const evb_kafka_msg_t *m, size_t i,
                             evb_kafka_header_t *out);

/* Commit, synchronously, that m was processed: its partition's committed
 * offset becomes m->offset + 1. Errors: EVB_ERR_IO (librdkafka's reason;
 * e.g. the partition was revoked by a rebalance). */
evb_err_t evb_kafka_consumer_commit(evb_kafka_consumer_t *c,
                                    const evb_kafka_msg_t *m, char *errstr,
                                    size_t errstr_size);

/* The group's committed offset of (topic, partition): the next offset to
 * read, or -1 when nothing was committed. */
evb_err_t evb_kafka_consumer_committed(evb_kafka_consumer_t *c,
                                       const char *topic, int32_t partition,
                                       int timeout_ms, int64_t *offset,
                                       char *errstr, size_t errstr_size);

/* The broker's low and high watermarks of (topic, partition): the first
 * offset still held and the offset the next message will get (so high -
 * low messages are in the partition; high - committed is the lag). */
evb_err_t evb_kafka_consumer_watermarks(evb_kafka_consumer_t *c,
                                        const char *topic, int32_t partition,
                                        int timeout_ms, int64_t *low,
                                        int64_t *high, char *errstr,
                                        size_t errstr_size);

/* Leave the group (without committing anything) and free. NULL is fine. */
void evb_kafka_consumer_free(evb_kafka_consumer_t *c);

/* ---- named clusters ------------------------------------------------------ */

typedef struct evb_kafka_clusters evb_kafka_clusters_t;

#define EVB_KAFKA_DEFAULT_CLUSTER "default"
#define EVB_KAFKA_MAX_CLUSTER_NAME 64
#define EVB_KAFKA_MAX_TOPIC 249

/* A cluster name: 1..64 of [A-Za-z0-9._-]. */
bool evb_kafka_cluster_name_valid(const char *name);
/* A Kafka topic name: 1..249 of [A-Za-z0-9._-], not "." nor "..". */
bool evb_kafka_topic_name_valid(const char *name, size_t len);

/* An empty registry; NULL when memory runs out. Thread-safe. */
evb_kafka_clusters_t *evb_kafka_clusters_new(void);

/* Add cluster name with a copy of conf, after evb_kafka_conf_check.
 * Errors: EVB_ERR_INVALID_ARG (bad name, bad property), EVB_ERR_EXISTS,
 * EVB_ERR_NOMEM. */
evb_err_t evb_kafka_clusters_add(evb_kafka_clusters_t *cl, const char *name,
                                 const evb_kafka_conf_t *conf, char *errstr,
                                 size_t errstr_size);

size_t evb_kafka_clusters_count(const evb_kafka_clusters_t *cl);
/* Name of cluster i, in the order added. */
const char *evb_kafka_clusters_name(const evb_kafka_clusters_t *cl, size_t i);
/* Cluster name's properties (borrowed, unchanging); NULL if unknown. */
const evb_kafka_conf_t *evb_kafka_clusters_conf(const evb_kafka_clusters_t *cl,
                                                const char *name);

/*
 * The producer of cluster name, created on first use and shared by every
 * caller (owned by the registry: do not free). A producer that failed
 * fatally is replaced. Errors: EVB_ERR_NOT_FOUND (no such cluster; cl may
 * be NULL), as evb_kafka_producer_new.
 */
evb_err_t evb_kafka_clusters_producer(evb_kafka_clusters_t *cl,
                                      const char *name,
                                      evb_kafka_producer_t **out, char *errstr,
                                      size_t errstr_size);

/* Free the producers (each flushes first), then the registry. */
void evb_kafka_clusters_free(evb_kafka_clusters_t *cl);

/* ---- topic ARNs ---------------------------------------------------------- */

/* A Kafka topic target's ARN, parsed. */
typedef struct evb_kafka_topic_arn {
    char region[64], account[64];
    char cluster[EVB_KAFKA_MAX_CLUSTER_NAME + 1];
    char cluster_uuid[128]; /* "" in the evbus form */
    char topic[EVB_KAFKA_MAX_TOPIC + 1];
} evb_kafka_topic_arn_t;

/*
 * Parse arn:aws:kafka:REGION:ACCOUNT:topic/CLUSTER/TOPIC (evbus's form:
 * CLUSTER names a configured cluster) or MSK's
 * arn:aws:kafka:REGION:ACCOUNT:topic/CLUSTER/CLUSTER_UUID/TOPIC (the UUID
 * is kept but not used). False when arn is neither, or a name is not
 * valid. out may be NULL.
 */
bool evb_kafka_topic_arn_parse(const char *arn, evb_kafka_topic_arn_t *out);

/* ---- mock cluster (tests and demos only) --------------------------------- */

typedef struct evb_kafka_mock evb_kafka_mock_t;

/*
 * Start librdkafka's mock cluster with brokers (1..64) brokers listening
 * on 127.0.0.1. It is a test cluster held in memory, without durability
 * or security: never a production broker. Topics a producer asks for are
 * created on demand with librdkafka's default of 4 partitions (2.0.2 has
 * no setting for it); evb_kafka_mock_topic_create makes others. Errors:
 * EVB_ERR_INVALID_ARG, EVB_ERR_INTERNAL. Free with evb_kafka_mock_free.
 */
evb_err_t evb_kafka_mock_new(int brokers, evb_kafka_mock_t **out, char *errstr,
                             size_t errstr_size);

/* "127.0.0.1:PORT,..." for bootstrap.servers; lives as long as m. */
const char *evb_kafka_mock_bootstrap_servers(const evb_kafka_mock_t *m);

/* Create topic with partitions (1..10000) partitions. */
evb_err_t evb_kafka_mock_topic_create(evb_kafka_mock_t *m, const char *topic,
                                      int partitions, char *errstr,
                                      size_t errstr_size);

/* Take broker id (1..brokers) down or bring it back (for failure tests). */
evb_err_t evb_kafka_mock_broker_set_up(evb_kafka_mock_t *m, int broker_id,
                                       bool up, char *errstr,
                                       size_t errstr_size);

/* Make the mock answer metadata requests for topic as a cluster without it
 * and without auto-creation does (UNKNOWN_TOPIC_OR_PART), or stop doing
 * so (for failure tests). */
void evb_kafka_mock_topic_set_missing(evb_kafka_mock_t *m, const char *topic,
                                      bool missing);

void evb_kafka_mock_free(evb_kafka_mock_t *m);

#endif
