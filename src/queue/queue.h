/*
 * queue: durable SQS-compatible standard queues over the store.
 *
 * Queues live in the store's `queues` table (attributes as a JSON object
 * of name -> string value, as SQS reports them) and their messages in
 * `queue_messages`. Every change runs through evb_store_write, so when a
 * call returns EVB_QUEUE_OK the change is durable.
 *
 * A message is visible when visible_at_ms <= now. Receiving it moves
 * visible_at_ms to now + visibility timeout and gives it a fresh receipt
 * handle; unless it is deleted by that handle it becomes visible again.
 * A message sent with a delay is stored with visible_at_ms in the future
 * and no receipt handle (that is how "delayed" differs from "in flight").
 *
 * Long polling: a receive with wait_s > 0 that finds nothing sleeps on
 * the service's condition variable until a send (through this service, or
 * evb_queue_service_notify after a delivery's commit) bumps its
 * generation, until the earliest invisible message of the queue becomes
 * visible, until the deadline, or until evb_queue_service_shutdown. It
 * never busy-waits.
 *
 * Errors: every function returns an evb_queue_err_t from the table below,
 * which also gives the SQS exception (the JSON protocol's shape name) and
 * the query-protocol code that SQS reports in x-amzn-query-error.
 *
 * Threading: every function is thread-safe; receive may block up to
 * EVB_QUEUE_MAX_WAIT_S seconds.
 */
#ifndef EVB_QUEUE_H
#define EVB_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "../common/common.h"
#include "../store/store.h"

/* X(enum suffix, SQS exception shape, query error code, default message) */
#define EVB_QUEUE_ERRORS(X)                                                    \
    X(OK, "", "", "Success")                                                   \
    X(NOMEM, "InternalError", "InternalError", "Out of memory")                \
    X(IO, "InternalError", "InternalError", "Input/output error")              \
    X(NOT_FOUND, "QueueDoesNotExist",                                          \
      "AWS.SimpleQueueService.NonExistentQueue",                               \
      "The specified queue does not exist.")                                   \
    X(NAME_EXISTS, "QueueNameExists", "QueueAlreadyExists",                    \
      "A queue already exists with the same name and a different value for "  \
      "attribute(s)")                                                          \
    X(INVALID_PARAMETER, "InvalidParameterValue", "InvalidParameterValue",     \
      "Invalid parameter value")                                               \
    X(INVALID_ATTRIBUTE_NAME, "InvalidAttributeName", "InvalidAttributeName",  \
      "Unknown Attribute")                                                     \
    X(INVALID_ATTRIBUTE_VALUE, "InvalidAttributeValue",                        \
      "InvalidAttributeValue", "Invalid value for the parameter")             \
    X(INVALID_MESSAGE_CONTENTS, "InvalidMessageContents",                      \
      "InvalidMessageContents",                                                \
      "Invalid binary character in the message body")                         \
    X(RECEIPT_HANDLE_INVALID, "ReceiptHandleIsInvalid",                        \
      "ReceiptHandleIsInvalid", "The input receipt handle is invalid.")        \
    X(MESSAGE_NOT_INFLIGHT, "MessageNotInflight",                              \
      "AWS.SimpleQueueService.MessageNotInflight",                             \
      "The message referred to isn't in flight.")

typedef enum evb_queue_err {
#define EVB__QUEUE_ERR_ENUM(name, shape, query, msg) EVB_QUEUE_ERR_##name,
    EVB_QUEUE_ERRORS(EVB__QUEUE_ERR_ENUM)
#undef EVB__QUEUE_ERR_ENUM
        EVB_QUEUE_ERR__COUNT
} evb_queue_err_t;

/* "QueueDoesNotExist" ("" for OK). Never NULL. */
const char *evb_queue_err_shape(evb_queue_err_t err);
/* "AWS.SimpleQueueService.NonExistentQueue" ("" for OK). Never NULL. */
const char *evb_queue_err_query_code(evb_queue_err_t err);
/* Default message. Never NULL. */
const char *evb_queue_err_message(evb_queue_err_t err);
/* True for errors that are the caller's fault (SQS's "Sender" type). */
bool evb_queue_err_is_sender(evb_queue_err_t err);

#define EVB_QUEUE_NAME_MAX 80
#define EVB_QUEUE_MAX_WAIT_S 20
#define EVB_QUEUE_MAX_RECEIVE 10
#define EVB_QUEUE_MESSAGE_MAX ((size_t)1024 * 1024)

typedef struct evb_queue_service evb_queue_service_t;

/*
 * Create the service over store (borrowed; it must outlive the service).
 * region and account (12 digits) are copied and make queue ARNs
 * arn:aws:sqs:REGION:ACCOUNT:NAME. The caller frees it with
 * evb_queue_service_free, after every call into it has returned.
 */
evb_queue_err_t evb_queue_service_new(evb_store_t *store, const char *region,
                                      const char *account,
                                      evb_queue_service_t **out);
/* Wake every long poll and make later ones return at once (server
 * shutdown). Any thread. */
void evb_queue_service_shutdown(evb_queue_service_t *svc);
void evb_queue_service_free(evb_queue_service_t *svc);

/* Wake long polls: call after a store transaction that sent messages
 * (evb_queue_send_from_target) has committed. Any thread, cheap. */
void evb_queue_service_notify(evb_queue_service_t *svc);

/* "arn:aws:sqs:REGION:ACCOUNT:" + name into out. */
void evb_queue_arn(const evb_queue_service_t *svc, const char *name, char *out,
                   size_t out_size);

/* ---- queues ------------------------------------------------------------ */

/* A queue attribute as SQS names it, its value as text. */
typedef struct evb_queue_attr {
    const char *name;
    const char *value;
} evb_queue_attr_t;

/*
 * Create queue name with attributes (settable ones only: VisibilityTimeout,
 * MessageRetentionPeriod, MaximumMessageSize, DelaySeconds,
 * ReceiveMessageWaitTimeSeconds, RedrivePolicy, Policy, ...). Creating a
 * queue that exists succeeds when every given attribute has the value the
 * queue has, else EVB_QUEUE_ERR_NAME_EXISTS. Errors also INVALID_PARAMETER
 * (name), INVALID_ATTRIBUTE_NAME / _VALUE. errstr gets AWS's message.
 */
evb_queue_err_t evb_queue_create(evb_queue_service_t *svc, const char *name,
                                 const evb_queue_attr_t *attrs, size_t n_attrs,
                                 char *errstr, size_t errstr_size);

/* EVB_QUEUE_OK if queue name exists, else NOT_FOUND. */
evb_queue_err_t evb_queue_exists(evb_queue_service_t *svc, const char *name,
                                 char *errstr, size_t errstr_size);

/*
 * Names of queues starting with prefix (NULL: all), in name order, after
 * the name `after` (NULL: from the start), at most max. *names is an array
 * of *n strings from arena; *more says whether there are further names.
 */
evb_queue_err_t evb_queue_list(evb_queue_service_t *svc, const char *prefix,
                               const char *after, size_t max,
                               evb_arena_t *arena, char ***names, size_t *n,
                               bool *more, char *errstr, size_t errstr_size);

/* Delete the queue and its messages. */
evb_queue_err_t evb_queue_delete(evb_queue_service_t *svc, const char *name,
                                 char *errstr, size_t errstr_size);

/* Delete every message of the queue. */
evb_queue_err_t evb_queue_purge(evb_queue_service_t *svc, const char *name,
                                char *errstr, size_t errstr_size);

/*
 * The attributes named in names (n_names; "All" means every one) with
 * their current values, into *out (arena array of *n_out). Unknown names:
 * INVALID_ATTRIBUTE_NAME.
 */
evb_queue_err_t evb_queue_get_attributes(evb_queue_service_t *svc,
                                         const char *name,
                                         const char *const *names,
                                         size_t n_names, evb_arena_t *arena,
                                         evb_queue_attr_t **out, size_t *n_out,
                                         char *errstr, size_t errstr_size);

/* Set settable attributes (as for create); an empty value resets
 * RedrivePolicy and Policy. */
evb_queue_err_t evb_queue_set_attributes(evb_queue_service_t *svc,
                                         const char *name,
                                         const evb_queue_attr_t *attrs,
                                         size_t n_attrs, char *errstr,
                                         size_t errstr_size);

/* ---- messages ---------------------------------------------------------- */

/* A message attribute. value holds the StringValue (String, Number and
 * custom String.x / Number.x types) or the raw bytes of the BinaryValue
 * (Binary types; binary true). */
typedef struct evb_queue_msg_attr {
    const char *name;
    const char *data_type;
    const char *value;
    size_t value_len;
    bool binary;
} evb_queue_msg_attr_t;

/* A message to send. delay_s < 0: the queue's DelaySeconds. */
typedef struct evb_queue_send {
    const char *body;
    size_t body_len;
    const evb_queue_msg_attr_t *attrs;
    size_t n_attrs;
    int delay_s;
} evb_queue_send_t;

typedef struct evb_queue_sent {
    char message_id[37];
    char md5_body[33];
    char md5_attrs[33]; /* "" when there are no attributes */
} evb_queue_sent_t;

/* The MD5s SQS returns: of the body bytes, and of the message attributes
 * in SQS's binary encoding (names sorted; each of name, data type and
 * value as a 4-byte big-endian length and the bytes, with a transport
 * byte 1 (string) or 2 (binary) before the value). Lowercase hex. */
void evb_queue_md5_hex(const void *data, size_t len, char out[33]);
evb_queue_err_t evb_queue_md5_of_attrs(const evb_queue_msg_attr_t *attrs,
                                       size_t n, char out[33]);

/* Base64 (RFC 4648, with padding) as SQS's JSON carries binary values.
 * encode: NUL-terminated text from arena, NULL when out of memory.
 * decode: false when s is not base64; the bytes (NUL-terminated) go to
 * arena. */
char *evb_queue_base64_encode(evb_arena_t *arena, const void *data,
                              size_t len);
bool evb_queue_base64_decode(evb_arena_t *arena, const char *s, size_t len,
                             char **out, size_t *out_len);

/*
 * Send n messages (a batch commits together) to queue name; sent[i] gets
 * the id and MD5s of msgs[i]. Errors: NOT_FOUND, INVALID_MESSAGE_CONTENTS
 * (a NUL or invalid UTF-8 in the body), INVALID_PARAMETER (body empty or
 * over MaximumMessageSize, delay outside 0..900, bad attribute). One bad
 * message fails the whole call; the API checks batch entries one by one
 * first (evb_queue_check_send).
 */
evb_queue_err_t evb_queue_send(evb_queue_service_t *svc, const char *name,
                               const evb_queue_send_t *msgs, size_t n,
                               evb_queue_sent_t *sent, char *errstr,
                               size_t errstr_size);

/* The checks evb_queue_send makes on one message that do not need the
 * queue (max_size 0: 1 MiB). */
evb_queue_err_t evb_queue_check_send(const evb_queue_send_t *msg,
                                     size_t max_size, char *errstr,
                                     size_t errstr_size);

/* The system attributes a receive can ask for. */
enum {
    EVB_QUEUE_SYS_SENDER_ID = 1u << 0,
    EVB_QUEUE_SYS_SENT_TIMESTAMP = 1u << 1,
    EVB_QUEUE_SYS_RECEIVE_COUNT = 1u << 2,
    EVB_QUEUE_SYS_FIRST_RECEIVE = 1u << 3,
    EVB_QUEUE_SYS_ALL = 0xF,
};

typedef struct evb_queue_receive {
    int max_messages;     /* 1..10 */
    int visibility_s;     /* < 0: the queue's VisibilityTimeout */
    int wait_s;           /* < 0: ReceiveMessageWaitTimeSeconds; max 20 */
    const char *const *attr_names; /* message attributes: names, "All",
                                      ".*", or "prefix.*" */
    size_t n_attr_names;
} evb_queue_receive_t;

typedef struct evb_queue_message {
    char message_id[37];
    const char *receipt_handle;
    const char *body;
    size_t body_len;
    char md5_body[33];
    /* The requested message attributes as a JSON object in SQS's JSON
     * form ({"n":{"DataType":"String","StringValue":"v"}}, binary values
     * base64), NULL when none is returned; md5_attrs is over those. */
    const char *attrs_json;
    char md5_attrs[33];
    int64_t sent_ms;
    int64_t first_receive_ms;
    int64_t receive_count;
} evb_queue_message_t;

/*
 * Receive up to r->max_messages visible messages (oldest first), long
 * polling as the header comment says. *msgs (*n of them, possibly 0) and
 * their strings are allocated from arena. Messages whose receive count
 * has reached the RedrivePolicy's maxReceiveCount move to the dead-letter
 * queue instead of being returned. Errors: NOT_FOUND, INVALID_PARAMETER.
 */
evb_queue_err_t evb_queue_receive(evb_queue_service_t *svc, const char *name,
                                  const evb_queue_receive_t *r,
                                  evb_arena_t *arena,
                                  evb_queue_message_t **msgs, size_t *n,
                                  char *errstr, size_t errstr_size);

/*
 * Delete the message received with receipt_handle. A well-formed handle
 * that no longer names a message (already deleted, or received again
 * since) succeeds, as on SQS; a malformed one is RECEIPT_HANDLE_INVALID.
 */
evb_queue_err_t evb_queue_delete_message(evb_queue_service_t *svc,
                                         const char *name,
                                         const char *receipt_handle,
                                         char *errstr, size_t errstr_size);

/* Make the message visible again visibility_s (0..43200) seconds from
 * now. Errors: RECEIPT_HANDLE_INVALID (malformed, or no longer current),
 * MESSAGE_NOT_INFLIGHT, INVALID_PARAMETER. */
evb_queue_err_t evb_queue_change_visibility(evb_queue_service_t *svc,
                                            const char *name,
                                            const char *receipt_handle,
                                            int visibility_s, char *errstr,
                                            size_t errstr_size);

/*
 * For the delivery engine: enqueue one message (body, optional attributes)
 * on the queue whose ARN is queue_arn, inside the caller's store unit (db
 * is that unit's connection, so the message commits atomically with the
 * delivery). The queue's DelaySeconds applies. Call
 * evb_queue_service_notify after the unit's commit to wake long polls.
 * Errors: NOT_FOUND (no queue has that ARN), INVALID_PARAMETER,
 * INVALID_MESSAGE_CONTENTS, IO. sent may be NULL.
 */
evb_queue_err_t evb_queue_send_from_target(sqlite3 *db, const char *queue_arn,
                                           const char *body, size_t body_len,
                                           const evb_queue_msg_attr_t *attrs,
                                           size_t n_attrs,
                                           evb_queue_sent_t *sent,
                                           char *errstr, size_t errstr_size);

#endif
