/*
 * api_sqs.c: the Amazon SQS API (X-Amz-Target: AmazonSQS.<Action>, AWS
 * JSON 1.0) over the queue service (queue/queue.h): queue lifecycle,
 * attributes, send (single and batch), receive with long polling, delete
 * (single and batch), visibility and purge.
 *
 * Design:
 * - SQS moved from the query protocol to JSON with the awsQueryCompatible
 *   trait, so every error carries both a JSON __type
 *   ("com.amazonaws.sqs#QueueDoesNotExist") and the old query code in the
 *   x-amzn-query-error header ("AWS.SimpleQueueService.NonExistentQueue;
 *   Sender"); botocore reports the header's code as Error.Code and still
 *   raises the modelled exception class (QueueDoesNotExist).
 * - A queue URL is http://HOST/ACCOUNT/NAME with HOST from the request's
 *   Host header (127.0.0.1 without one); a request's QueueUrl names the
 *   queue by its last path segment.
 * - Batches check each entry on its own (bad entries go to Failed) and
 *   send or delete the good ones in one store unit each.
 * - ReceiveMessage long polls on the HTTP worker thread (at most 20 s),
 *   and returns early when the queue service shuts down.
 *
 * Threading: actions keep no state outside the call.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

#define SQS_SHAPE_PREFIX "com.amazonaws.sqs#"
#define BATCH_MAX 10

/* ---- errors ---------------------------------------------------------- */

/* Fail with an SQS error: shape and query code given directly. */
static void sqs_fail_raw(evb__api_call_t *call, unsigned status,
                         const char *shape, const char *query, bool sender,
                         const char *message) {
    if (call->status)
        return;
    evb__api_fail(call, status, shape, "%s", message);
    char *type = evb_arena_alloc(call->arena, strlen(SQS_SHAPE_PREFIX) +
                                                  strlen(shape) + 1);
    char *q = evb_arena_alloc(call->arena, strlen(query) + 10);
    if (type) {
        sprintf(type, "%s%s", SQS_SHAPE_PREFIX, shape);
        call->err_type = type;
    }
    if (q) {
        sprintf(q, "%s;%s", query, sender ? "Sender" : "Receiver");
        call->err_query = q;
    }
}

static void sqs_fail(evb__api_call_t *call, evb_queue_err_t e,
                     const char *errstr) {
    const char *msg = errstr && errstr[0] ? errstr : evb_queue_err_message(e);
    sqs_fail_raw(call, evb_queue_err_is_sender(e) ? 400 : 500,
                 evb_queue_err_shape(e), evb_queue_err_query_code(e),
                 evb_queue_err_is_sender(e), msg);
}

static void invalid_param(evb__api_call_t *call, const char *message) {
    sqs_fail_raw(call, 400, "InvalidParameterValue", "InvalidParameterValue",
                 true, message);
}

static void missing(evb__api_call_t *call, const char *name) {
    char msg[160];
    snprintf(msg, sizeof msg, "The request must contain the parameter %s.",
             name);
    sqs_fail_raw(call, 400, "MissingParameter", "MissingParameter", true, msg);
}

static void nomem(evb__api_call_t *call) {
    sqs_fail(call, EVB_QUEUE_ERR_NOMEM, NULL);
}

/* ---- reading members --------------------------------------------------- */

static const evb_jval_t *obj_member(const evb_jval_t *obj, const char *name) {
    size_t nlen = strlen(name);
    const evb_jval_t *found = NULL;
    for (size_t i = 0; i < obj->u.obj.n; i++) {
        const evb_jmember_t *m = &obj->u.obj.members[i];
        if (m->klen == nlen && memcmp(m->key, name, nlen) == 0)
            found = m->val;
    }
    return found && found->type != EVB_JSON_NULL ? found : NULL;
}

static void wrong_type(evb__api_call_t *call, const char *name,
                       const char *want, const evb_jval_t *v) {
    evb__api_fail(call, 400, "SerializationException",
                  "Expected %s for member '%s', found %s %s", want, name,
                  v->type == EVB_JSON_ARRAY || v->type == EVB_JSON_OBJECT ? "an"
                                                                          : "a",
                  evb_json_type_name(v->type));
}

/* String member of obj as an arena C string (NULL if absent). A string
 * holding NUL bytes is refused. */
static const char *str_of(evb__api_call_t *call, const evb_jval_t *obj,
                          const char *name, bool required, size_t *len_out) {
    const evb_jval_t *v = obj_member(obj, name);
    if (!v) {
        if (required)
            missing(call, name);
        return NULL;
    }
    if (v->type != EVB_JSON_STRING) {
        wrong_type(call, name, "a string", v);
        return NULL;
    }
    if (len_out)
        *len_out = v->u.str.len;
    else if (memchr(v->u.str.s, '\0', v->u.str.len)) {
        char msg[160];
        snprintf(msg, sizeof msg, "Value for parameter %s is invalid.", name);
        invalid_param(call, msg);
        return NULL;
    }
    return v->u.str.s; /* the DOM's strings are NUL-terminated */
}

/* Integer member (a JSON number without fraction), or dflt. */
static bool int_of(evb__api_call_t *call, const evb_jval_t *obj,
                   const char *name, int dflt, int *out) {
    *out = dflt;
    const evb_jval_t *v = obj_member(obj, name);
    if (!v)
        return true;
    if (v->type != EVB_JSON_NUMBER) {
        wrong_type(call, name, "an integer", v);
        return false;
    }
    char buf[32];
    size_t n = v->u.str.len;
    char *end;
    if (n == 0 || n >= sizeof buf)
        goto bad;
    memcpy(buf, v->u.str.s, n);
    buf[n] = '\0';
    long long x = strtoll(buf, &end, 10);
    if (*end || x < INT32_MIN || x > INT32_MAX)
        goto bad;
    *out = (int)x;
    return true;
bad:
    evb__api_fail(call, 400, "SerializationException",
                  "Expected an integer for member '%s'", name);
    return false;
}

/* A list of strings; *out (arena) gets *n C strings. */
static bool str_list_of(evb__api_call_t *call, const evb_jval_t *obj,
                        const char *name, const char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    const evb_jval_t *v = obj_member(obj, name);
    if (!v)
        return true;
    if (v->type != EVB_JSON_ARRAY) {
        wrong_type(call, name, "a list", v);
        return false;
    }
    const char **list =
        evb_arena_calloc(call->arena, v->u.arr.n + 1, sizeof *list);
    if (!list) {
        nomem(call);
        return false;
    }
    for (size_t i = 0; i < v->u.arr.n; i++) {
        const evb_jval_t *e = v->u.arr.items[i];
        if (e->type != EVB_JSON_STRING) {
            wrong_type(call, name, "a list of strings", e);
            return false;
        }
        list[i] = e->u.str.s;
    }
    *out = list;
    *n = v->u.arr.n;
    return true;
}

/* The Attributes map (name -> string) of CreateQueue/SetQueueAttributes. */
static bool attr_map_of(evb__api_call_t *call, const evb_jval_t *obj,
                        const char *name, evb_queue_attr_t **out, size_t *n) {
    *out = NULL;
    *n = 0;
    const evb_jval_t *v = obj_member(obj, name);
    if (!v)
        return true;
    if (v->type != EVB_JSON_OBJECT) {
        wrong_type(call, name, "a map", v);
        return false;
    }
    evb_queue_attr_t *a =
        evb_arena_calloc(call->arena, v->u.obj.n + 1, sizeof *a);
    if (!a) {
        nomem(call);
        return false;
    }
    for (size_t i = 0; i < v->u.obj.n; i++) {
        const evb_jmember_t *m = &v->u.obj.members[i];
        if (m->val->type != EVB_JSON_STRING) {
            wrong_type(call, name, "a map of strings", m->val);
            return false;
        }
        a[i].name = m->key;
        a[i].value = m->val->u.str.s;
    }
    *out = a;
    *n = v->u.obj.n;
    return true;
}

/* MessageAttributes of a send: name -> {DataType, StringValue |
 * BinaryValue (base64)}. */
static bool msg_attrs_of(evb__api_call_t *call, const evb_jval_t *obj,
                         evb_queue_msg_attr_t **out, size_t *n) {
    *out = NULL;
    *n = 0;
    const evb_jval_t *v = obj_member(obj, "MessageAttributes");
    if (!v)
        return true;
    if (v->type != EVB_JSON_OBJECT) {
        wrong_type(call, "MessageAttributes", "a map", v);
        return false;
    }
    evb_queue_msg_attr_t *a =
        evb_arena_calloc(call->arena, v->u.obj.n + 1, sizeof *a);
    if (!a) {
        nomem(call);
        return false;
    }
    for (size_t i = 0; i < v->u.obj.n; i++) {
        const evb_jmember_t *m = &v->u.obj.members[i];
        if (m->val->type != EVB_JSON_OBJECT) {
            wrong_type(call, "MessageAttributes", "a structure", m->val);
            return false;
        }
        a[i].name = m->key;
        a[i].data_type = str_of(call, m->val, "DataType", false, NULL);
        if (call->status)
            return false;
        if (!a[i].data_type) {
            char msg[400];
            snprintf(msg, sizeof msg,
                     "The message attribute '%.256s' must contain non-empty "
                     "message attribute type.",
                     m->key);
            invalid_param(call, msg);
            return false;
        }
        size_t len = 0;
        const char *sv = str_of(call, m->val, "StringValue", false, &len);
        const char *bv = str_of(call, m->val, "BinaryValue", false, &len);
        if (call->status)
            return false;
        if (bv) {
            char *raw;
            if (!evb_queue_base64_decode(call->arena, bv, len, &raw, &len)) {
                evb__api_fail(call, 400, "SerializationException",
                              "BinaryValue of message attribute '%.256s' is "
                              "not base64",
                              m->key);
                return false;
            }
            a[i].value = raw;
            a[i].binary = true;
        } else if (sv) {
            a[i].value = sv;
        }
        a[i].value_len = len;
    }
    *out = a;
    *n = v->u.obj.n;
    return true;
}

/* ---- queue URLs -------------------------------------------------------- */

static evb_queue_service_t *need_queues(evb__api_call_t *call) {
    if (!call->api->queues)
        sqs_fail_raw(call, 500, "InternalError", "InternalError", false,
                     "The queue service is not configured.");
    return call->api->queues;
}

/* The host[:port] queue URLs use: the request's Host header if it looks
 * like one. */
static const char *url_host(const evb__api_call_t *call) {
    const char *h = call->req ? evb_http_request_header(call->req, "Host")
                              : NULL;
    if (!h || !h[0] || strlen(h) > 255)
        return "127.0.0.1";
    for (const char *p = h; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || strchr(".-:[]", *p)))
            return "127.0.0.1";
    return h;
}

static void append_url(evb__api_call_t *call, evb_buf_t *b, const char *name,
                       evb_err_t *err) {
    char url[512];
    snprintf(url, sizeof url, "http://%s/%s/%s", url_host(call),
             evb_api_account(call->api), name);
    if (!*err)
        *err = evb_json_append_string(b, url, strlen(url));
}

/* The queue a QueueUrl names (its last path segment), or NULL after
 * failing the call. */
static const char *queue_of(evb__api_call_t *call) {
    const char *url = str_of(call, call->input, "QueueUrl", true, NULL);
    if (!url)
        return NULL;
    const char *slash = strrchr(url, '/');
    const char *name = slash ? slash + 1 : url;
    if (!name[0] || strlen(name) > EVB_QUEUE_NAME_MAX) {
        sqs_fail(call, EVB_QUEUE_ERR_NOT_FOUND, NULL);
        return NULL;
    }
    return name;
}

/* ---- output helpers ---------------------------------------------------- */

static void finish(evb__api_call_t *call, evb__rw_t *w) {
    if (w->err)
        nomem(call);
}

/* {} when e is OK, else the queue error e (errstr: its words). */
static void answer_empty(evb__api_call_t *call, evb_queue_err_t e,
                         const char *errstr) {
    if (e)
        sqs_fail(call, e, errstr);
    else if (evb_buf_append(call->out, "{}", 2))
        nomem(call);
}

/* ---- queue actions ------------------------------------------------------ */

static void create_queue(evb__api_call_t *call) {
    const char *name = str_of(call, call->input, "QueueName", true, NULL);
    evb_queue_attr_t *attrs;
    size_t n;
    if (!name || !attr_map_of(call, call->input, "Attributes", &attrs, &n))
        return;
    evb_queue_service_t *q = need_queues(call);
    if (!q)
        return;
    char errstr[512] = "";
    evb_queue_err_t e =
        evb_queue_create(q, name, attrs, n, errstr, sizeof errstr);
    if (e) {
        sqs_fail(call, e, errstr);
        return;
    }
    evb__rw_t w = {call->out, EVB_ERR_OK};
    evb__rw_raw(&w, "{\"QueueUrl\":");
    append_url(call, call->out, name, &w.err);
    evb__rw_raw(&w, "}");
    finish(call, &w);
}

static void get_queue_url(evb__api_call_t *call) {
    const char *name = str_of(call, call->input, "QueueName", true, NULL);
    (void)str_of(call, call->input, "QueueOwnerAWSAccountId", false, NULL);
    if (!name)
        return;
    evb_queue_service_t *q = need_queues(call);
    if (!q)
        return;
    char errstr[512] = "";
    evb_queue_err_t e = strlen(name) > EVB_QUEUE_NAME_MAX
                            ? EVB_QUEUE_ERR_NOT_FOUND
                            : evb_queue_exists(q, name, errstr, sizeof errstr);
    if (e) {
        sqs_fail(call, e, errstr);
        return;
    }
    evb__rw_t w = {call->out, EVB_ERR_OK};
    evb__rw_raw(&w, "{\"QueueUrl\":");
    append_url(call, call->out, name, &w.err);
    evb__rw_raw(&w, "}");
    finish(call, &w);
}

/*
 * ListQueues {QueueNamePrefix, NextToken, MaxResults (1..1000)} ->
 * {QueueUrls, NextToken}. Without MaxResults at most 1000 URLs and no
 * token, as SQS. The token is the last name returned.
 */
static void list_queues(evb__api_call_t *call) {
    const char *prefix =
        str_of(call, call->input, "QueueNamePrefix", false, NULL);
    const char *token = str_of(call, call->input, "NextToken", false, NULL);
    int max;
    if (call->status || !int_of(call, call->input, "MaxResults", 0, &max))
        return;
    bool paged = obj_member(call->input, "MaxResults") != NULL;
    if (paged && (max < 1 || max > 1000)) {
        invalid_param(call, "Value for parameter MaxResults is invalid. "
                            "Reason: MaxResults must be an integer between 1 "
                            "and 1000.");
        return;
    }
    if (!paged)
        max = 1000;
    evb_queue_service_t *q = need_queues(call);
    if (!q)
        return;
    char **names;
    size_t n;
    bool more;
    char errstr[512] = "";
    evb_queue_err_t e =
        evb_queue_list(q, prefix && prefix[0] ? prefix : NULL,
                       token && token[0] ? token : NULL, (size_t)max,
                       call->arena, &names, &n, &more, errstr, sizeof errstr);
    if (e) {
        sqs_fail(call, e, errstr);
        return;
    }
    evb__rw_t w = {call->out, EVB_ERR_OK};
    evb__rw_raw(&w, "{");
    if (n) {
        evb__rw_raw(&w, "\"QueueUrls\":[");
        for (size_t i = 0; i < n; i++) {
            if (i)
                evb__rw_raw(&w, ",");
            append_url(call, call->out, names[i], &w.err);
        }
        evb__rw_raw(&w, "]");
    }
    if (more && paged) {
        evb__rw_raw(&w, n ? "," : "");
        evb__rw_key_str(&w, true, "NextToken", names[n - 1]);
    }
    evb__rw_raw(&w, "}");
    finish(call, &w);
}

/* DeleteQueue and PurgeQueue {QueueUrl*} -> {}: op on the queue. */
static void queue_op(evb__api_call_t *call,
                     evb_queue_err_t (*op)(evb_queue_service_t *, const char *,
                                           char *, size_t)) {
    const char *name = queue_of(call);
    evb_queue_service_t *q = name ? need_queues(call) : NULL;
    if (!q)
        return;
    char errstr[512] = "";
    evb_queue_err_t e = op(q, name, errstr, sizeof errstr);
    answer_empty(call, e, errstr);
}

static void delete_queue(evb__api_call_t *call) {
    queue_op(call, evb_queue_delete);
}

static void purge_queue(evb__api_call_t *call) {
    queue_op(call, evb_queue_purge);
}

static void get_queue_attributes(evb__api_call_t *call) {
    const char *name = queue_of(call);
    const char **names;
    size_t n_names;
    if (!name || !str_list_of(call, call->input, "AttributeNames", &names,
                              &n_names))
        return;
    evb_queue_service_t *q = need_queues(call);
    if (!q)
        return;
    evb_queue_attr_t *attrs;
    size_t n;
    char errstr[512] = "";
    evb_queue_err_t e = evb_queue_get_attributes(
        q, name, names, n_names, call->arena, &attrs, &n, errstr,
        sizeof errstr);
    if (e) {
        sqs_fail(call, e, errstr);
        return;
    }
    evb__rw_t w = {call->out, EVB_ERR_OK};
    evb__rw_raw(&w, "{");
    if (n) {
        evb__rw_raw(&w, "\"Attributes\":{");
        for (size_t i = 0; i < n; i++)
            evb__rw_key_str(&w, i == 0, attrs[i].name, attrs[i].value);
        evb__rw_raw(&w, "}");
    }
    evb__rw_raw(&w, "}");
    finish(call, &w);
}

static void set_queue_attributes(evb__api_call_t *call) {
    const char *name = queue_of(call);
    evb_queue_attr_t *attrs;
    size_t n;
    if (!name || !attr_map_of(call, call->input, "Attributes", &attrs, &n))
        return;
    if (!obj_member(call->input, "Attributes")) {
        missing(call, "Attributes");
        return;
    }
    evb_queue_service_t *q = need_queues(call);
    if (!q)
        return;
    char errstr[512] = "";
    evb_queue_err_t e =
        evb_queue_set_attributes(q, name, attrs, n, errstr, sizeof errstr);
    answer_empty(call, e, errstr);
}

/* ---- messages ---------------------------------------------------------- */

/* Read one message to send from obj (the request or a batch entry). */
static bool read_send(evb__api_call_t *call, const evb_jval_t *obj,
                      evb_queue_send_t *m) {
    memset(m, 0, sizeof *m);
    size_t len = 0;
    m->body = str_of(call, obj, "MessageBody", true, &len);
    m->body_len = len;
    if (!m->body)
        return false;
    evb_queue_msg_attr_t *attrs;
    size_t n;
    if (!int_of(call, obj, "DelaySeconds", -1, &m->delay_s) ||
        !msg_attrs_of(call, obj, &attrs, &n))
        return false;
    (void)str_of(call, obj, "MessageGroupId", false, NULL);
    (void)str_of(call, obj, "MessageDeduplicationId", false, NULL);
    if (call->status)
        return false;
    if (obj_member(obj, "DelaySeconds") && m->delay_s < 0) {
        invalid_param(call, "Value for parameter DelaySeconds is invalid. "
                            "Reason: DelaySeconds must be >= 0 and <= 900.");
        return false;
    }
    m->attrs = attrs;
    m->n_attrs = n;
    return true;
}

static void write_sent(evb__rw_t *w, const evb_queue_sent_t *s) {
    evb__rw_key_str(w, false, "MessageId", s->message_id);
    evb__rw_key_str(w, false, "MD5OfMessageBody", s->md5_body);
    if (s->md5_attrs[0])
        evb__rw_key_str(w, false, "MD5OfMessageAttributes", s->md5_attrs);
}

static void send_message(evb__api_call_t *call) {
    const char *name = queue_of(call);
    evb_queue_send_t m;
    if (!name || !read_send(call, call->input, &m))
        return;
    evb_queue_service_t *q = need_queues(call);
    if (!q)
        return;
    evb_queue_sent_t sent;
    char errstr[512] = "";
    evb_queue_err_t e = evb_queue_send(q, name, &m, 1, &sent, errstr,
                                       sizeof errstr);
    if (e) {
        sqs_fail(call, e, errstr);
        return;
    }
    evb__rw_t w = {call->out, EVB_ERR_OK};
    evb__rw_raw(&w, "{\"MessageId\":");
    evb__rw_str(&w, sent.message_id, strlen(sent.message_id));
    evb__rw_key_str(&w, false, "MD5OfMessageBody", sent.md5_body);
    if (sent.md5_attrs[0])
        evb__rw_key_str(&w, false, "MD5OfMessageAttributes", sent.md5_attrs);
    evb__rw_raw(&w, "}");
    finish(call, &w);
}

/* A batch's Entries: 1..10 objects with distinct, valid Ids. */
static const evb_jval_t *batch_entries(evb__api_call_t *call) {
    const evb_jval_t *v = obj_member(call->input, "Entries");
    if (!v) {
        missing(call, "Entries");
        return NULL;
    }
    if (v->type != EVB_JSON_ARRAY) {
        wrong_type(call, "Entries", "a list", v);
        return NULL;
    }
    if (v->u.arr.n == 0) {
        sqs_fail_raw(call, 400, "EmptyBatchRequest",
                     "AWS.SimpleQueueService.EmptyBatchRequest", true,
                     "There should be at least one SendMessageBatchRequestEntry "
                     "in the request.");
        return NULL;
    }
    if (v->u.arr.n > BATCH_MAX) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 "Maximum number of entries per request are 10. You have "
                 "sent %zu.",
                 v->u.arr.n);
        sqs_fail_raw(call, 400, "TooManyEntriesInBatchRequest",
                     "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                     true, msg);
        return NULL;
    }
    for (size_t i = 0; i < v->u.arr.n; i++) {
        const evb_jval_t *e = v->u.arr.items[i];
        if (e->type != EVB_JSON_OBJECT) {
            wrong_type(call, "Entries", "a list of structures", e);
            return NULL;
        }
        const char *id = str_of(call, e, "Id", true, NULL);
        if (!id)
            return NULL;
        size_t idn = strlen(id);
        bool ok = idn > 0 && idn <= 80;
        for (size_t k = 0; ok && k < idn; k++)
            ok = (id[k] >= 'a' && id[k] <= 'z') ||
                 (id[k] >= 'A' && id[k] <= 'Z') ||
                 (id[k] >= '0' && id[k] <= '9') || id[k] == '-' ||
                 id[k] == '_';
        if (!ok) {
            char msg[256];
            snprintf(msg, sizeof msg,
                     "A batch entry id can only contain alphanumeric "
                     "characters, hyphens and underscores. It can be at most "
                     "80 letters long.");
            sqs_fail_raw(call, 400, "InvalidBatchEntryId",
                         "AWS.SimpleQueueService.InvalidBatchEntryId", true,
                         msg);
            return NULL;
        }
        for (size_t j = 0; j < i; j++) {
            const char *other = obj_member(v->u.arr.items[j], "Id")->u.str.s;
            if (strcmp(other, id) == 0) {
                char msg[160];
                snprintf(msg, sizeof msg, "Id %s repeated.", id);
                sqs_fail_raw(call, 400, "BatchEntryIdsNotDistinct",
                             "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                             true, msg);
                return NULL;
            }
        }
    }
    return v;
}

static void write_failed(evb__rw_t *w, bool first, const char *id,
                         evb_queue_err_t e, const char *message) {
    if (!first)
        evb__rw_raw(w, ",");
    evb__rw_raw(w, "{");
    evb__rw_key_str(w, true, "Id", id);
    evb__rw_raw(w, evb_queue_err_is_sender(e) ? ",\"SenderFault\":true"
                                              : ",\"SenderFault\":false");
    evb__rw_key_str(w, false, "Code", evb_queue_err_query_code(e));
    evb__rw_key_str(w, false, "Message",
                    message && message[0] ? message : evb_queue_err_message(e));
    evb__rw_raw(w, "}");
}

static void send_message_batch(evb__api_call_t *call) {
    const char *name = queue_of(call);
    const evb_jval_t *entries = name ? batch_entries(call) : NULL;
    if (!entries)
        return;
    evb_queue_service_t *q = need_queues(call);
    if (!q)
        return;
    size_t n = entries->u.arr.n;
    evb_queue_send_t msgs[BATCH_MAX];
    evb_queue_sent_t sent[BATCH_MAX];
    size_t good_idx[BATCH_MAX], n_good = 0;
    evb_queue_err_t errs[BATCH_MAX];
    const char *whys[BATCH_MAX];
    for (size_t i = 0; i < n; i++) {
        const evb_jval_t *e = entries->u.arr.items[i];
        if (!read_send(call, e, &msgs[n_good]))
            return; /* malformed entries fail the call */
        char errstr[512] = "";
        errs[i] = evb_queue_check_send(&msgs[n_good], 0, errstr,
                                       sizeof errstr);
        whys[i] = evb_arena_strndup(call->arena, errstr, strlen(errstr));
        if (!errs[i])
            good_idx[n_good++] = i;
    }
    char errstr[512] = "";
    evb_queue_err_t e = n_good ? evb_queue_send(q, name, msgs, n_good, sent,
                                                errstr, sizeof errstr)
                               : EVB_QUEUE_ERR_OK;
    if (e == EVB_QUEUE_ERR_NOT_FOUND || e == EVB_QUEUE_ERR_NOMEM ||
        e == EVB_QUEUE_ERR_IO) {
        sqs_fail(call, e, errstr);
        return;
    }
    if (e) { /* e.g. over the queue's MaximumMessageSize: send one by one */
        size_t k = 0;
        for (size_t g = 0; g < n_good; g++) {
            char why[512] = "";
            evb_queue_err_t e1 = evb_queue_send(q, name, &msgs[g], 1,
                                                &sent[k], why, sizeof why);
            if (e1 == EVB_QUEUE_ERR_NOMEM || e1 == EVB_QUEUE_ERR_IO ||
                e1 == EVB_QUEUE_ERR_NOT_FOUND) {
                sqs_fail(call, e1, why);
                return;
            }
            if (e1) {
                errs[good_idx[g]] = e1;
                whys[good_idx[g]] =
                    evb_arena_strndup(call->arena, why, strlen(why));
            } else {
                msgs[k] = msgs[g];
                good_idx[k++] = good_idx[g];
            }
        }
        n_good = k;
    }
    evb__rw_t w = {call->out, EVB_ERR_OK};
    evb__rw_raw(&w, "{\"Successful\":[");
    for (size_t g = 0; g < n_good; g++) {
        const char *id =
            obj_member(entries->u.arr.items[good_idx[g]], "Id")->u.str.s;
        evb__rw_raw(&w, g ? ",{" : "{");
        evb__rw_key_str(&w, true, "Id", id);
        write_sent(&w, &sent[g]);
        evb__rw_raw(&w, "}");
    }
    evb__rw_raw(&w, "],\"Failed\":[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!errs[i])
            continue;
        const char *id = obj_member(entries->u.arr.items[i], "Id")->u.str.s;
        write_failed(&w, first, id, errs[i], whys[i]);
        first = false;
    }
    evb__rw_raw(&w, "]}");
    finish(call, &w);
}

/* System attribute names of a receive (AttributeNames and
 * MessageSystemAttributeNames) as EVB_QUEUE_SYS_* bits. */
static unsigned sys_bits(const char **names, size_t n) {
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], "All") == 0)
            bits |= EVB_QUEUE_SYS_ALL;
        else if (strcmp(names[i], "SenderId") == 0)
            bits |= EVB_QUEUE_SYS_SENDER_ID;
        else if (strcmp(names[i], "SentTimestamp") == 0)
            bits |= EVB_QUEUE_SYS_SENT_TIMESTAMP;
        else if (strcmp(names[i], "ApproximateReceiveCount") == 0)
            bits |= EVB_QUEUE_SYS_RECEIVE_COUNT;
        else if (strcmp(names[i], "ApproximateFirstReceiveTimestamp") == 0)
            bits |= EVB_QUEUE_SYS_FIRST_RECEIVE;
    }
    return bits;
}

static void receive_message(evb__api_call_t *call) {
    const char *name = queue_of(call);
    const char **an1, **an2, **man;
    size_t n1, n2, nman;
    evb_queue_receive_t r = {0};
    if (!name || !str_list_of(call, call->input, "AttributeNames", &an1, &n1) ||
        !str_list_of(call, call->input, "MessageSystemAttributeNames", &an2,
                     &n2) ||
        !str_list_of(call, call->input, "MessageAttributeNames", &man,
                     &nman) ||
        !int_of(call, call->input, "MaxNumberOfMessages", 1,
                &r.max_messages) ||
        !int_of(call, call->input, "VisibilityTimeout", -1, &r.visibility_s) ||
        !int_of(call, call->input, "WaitTimeSeconds", -1, &r.wait_s))
        return;
    (void)str_of(call, call->input, "ReceiveRequestAttemptId", false, NULL);
    if (call->status)
        return;
    if ((obj_member(call->input, "VisibilityTimeout") && r.visibility_s < 0) ||
        (obj_member(call->input, "WaitTimeSeconds") && r.wait_s < 0)) {
        invalid_param(call, obj_member(call->input, "WaitTimeSeconds") &&
                                    r.wait_s < 0
                                ? "Value for parameter WaitTimeSeconds is "
                                  "invalid. Reason: Must be >= 0 and <= 20, "
                                  "if provided."
                                : "Value for parameter VisibilityTimeout is "
                                  "invalid. Reason: Must be >= 0 and <= "
                                  "43200, if provided.");
        return;
    }
    unsigned bits = sys_bits(an1, n1) | sys_bits(an2, n2);
    r.attr_names = man;
    r.n_attr_names = nman;
    evb_queue_service_t *q = need_queues(call);
    if (!q)
        return;
    evb_queue_message_t *msgs;
    size_t n;
    char errstr[512] = "";
    evb_queue_err_t e = evb_queue_receive(q, name, &r, call->arena, &msgs, &n,
                                          errstr, sizeof errstr);
    if (e) {
        sqs_fail(call, e, errstr);
        return;
    }
    evb__rw_t w = {call->out, EVB_ERR_OK};
    evb__rw_raw(&w, "{");
    if (n)
        evb__rw_raw(&w, "\"Messages\":[");
    for (size_t i = 0; i < n; i++) {
        const evb_queue_message_t *m = &msgs[i];
        evb__rw_raw(&w, i ? ",{" : "{");
        evb__rw_key_str(&w, true, "MessageId", m->message_id);
        evb__rw_key_str(&w, false, "ReceiptHandle", m->receipt_handle);
        evb__rw_key_str(&w, false, "MD5OfBody", m->md5_body);
        evb__rw_raw(&w, ",\"Body\":");
        evb__rw_str(&w, m->body, m->body_len);
        if (bits) {
            char v[4][32];
            const char *keys[4] = {"SenderId", "SentTimestamp",
                                   "ApproximateReceiveCount",
                                   "ApproximateFirstReceiveTimestamp"};
            snprintf(v[0], sizeof v[0], "%s", evb_api_account(call->api));
            snprintf(v[1], sizeof v[1], "%" PRId64, m->sent_ms);
            snprintf(v[2], sizeof v[2], "%" PRId64, m->receive_count);
            snprintf(v[3], sizeof v[3], "%" PRId64, m->first_receive_ms);
            evb__rw_raw(&w, ",\"Attributes\":{");
            bool first = true;
            for (int k = 0; k < 4; k++) {
                if (!(bits & (1u << k)))
                    continue;
                evb__rw_key_str(&w, first, keys[k], v[k]);
                first = false;
            }
            evb__rw_raw(&w, "}");
        }
        if (m->attrs_json) {
            evb__rw_key_str(&w, false, "MD5OfMessageAttributes", m->md5_attrs);
            evb__rw_raw(&w, ",\"MessageAttributes\":");
            evb__rw_raw(&w, m->attrs_json);
        }
        evb__rw_raw(&w, "}");
    }
    if (n)
        evb__rw_raw(&w, "]");
    evb__rw_raw(&w, "}");
    finish(call, &w);
}

static void delete_message(evb__api_call_t *call) {
    const char *name = queue_of(call);
    const char *h = name ? str_of(call, call->input, "ReceiptHandle", true,
                                  NULL)
                         : NULL;
    evb_queue_service_t *q = h ? need_queues(call) : NULL;
    if (!q)
        return;
    char errstr[512] = "";
    evb_queue_err_t e =
        evb_queue_delete_message(q, name, h, errstr, sizeof errstr);
    answer_empty(call, e, errstr);
}

static void delete_message_batch(evb__api_call_t *call) {
    const char *name = queue_of(call);
    const evb_jval_t *entries = name ? batch_entries(call) : NULL;
    if (!entries)
        return;
    evb_queue_service_t *q = need_queues(call);
    if (!q)
        return;
    size_t n = entries->u.arr.n;
    evb_queue_err_t errs[BATCH_MAX];
    const char *whys[BATCH_MAX];
    for (size_t i = 0; i < n; i++) {
        const char *h =
            str_of(call, entries->u.arr.items[i], "ReceiptHandle", true, NULL);
        if (!h)
            return;
        char errstr[512] = "";
        errs[i] = evb_queue_delete_message(q, name, h, errstr, sizeof errstr);
        if (errs[i] == EVB_QUEUE_ERR_NOT_FOUND || errs[i] == EVB_QUEUE_ERR_IO ||
            errs[i] == EVB_QUEUE_ERR_NOMEM) {
            sqs_fail(call, errs[i], errstr);
            return;
        }
        whys[i] = evb_arena_strndup(call->arena, errstr, strlen(errstr));
    }
    evb__rw_t w = {call->out, EVB_ERR_OK};
    evb__rw_raw(&w, "{\"Successful\":[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (errs[i])
            continue;
        evb__rw_raw(&w, first ? "{" : ",{");
        evb__rw_key_str(&w, true, "Id",
                        obj_member(entries->u.arr.items[i], "Id")->u.str.s);
        evb__rw_raw(&w, "}");
        first = false;
    }
    evb__rw_raw(&w, "],\"Failed\":[");
    first = true;
    for (size_t i = 0; i < n; i++) {
        if (!errs[i])
            continue;
        write_failed(&w, first,
                     obj_member(entries->u.arr.items[i], "Id")->u.str.s,
                     errs[i], whys[i]);
        first = false;
    }
    evb__rw_raw(&w, "]}");
    finish(call, &w);
}

static void change_message_visibility(evb__api_call_t *call) {
    const char *name = queue_of(call);
    const char *h = name ? str_of(call, call->input, "ReceiptHandle", true,
                                  NULL)
                         : NULL;
    int vis;
    if (!h || !int_of(call, call->input, "VisibilityTimeout", -1, &vis))
        return;
    if (!obj_member(call->input, "VisibilityTimeout")) {
        missing(call, "VisibilityTimeout");
        return;
    }
    evb_queue_service_t *q = need_queues(call);
    if (!q)
        return;
    char errstr[512] = "";
    evb_queue_err_t e =
        evb_queue_change_visibility(q, name, h, vis, errstr, sizeof errstr);
    answer_empty(call, e, errstr);
}

/* ---- the service ------------------------------------------------------- */

static const evb__api_action_t actions[] = {
    {"CreateQueue", create_queue},
    {"GetQueueUrl", get_queue_url},
    {"ListQueues", list_queues},
    {"DeleteQueue", delete_queue},
    {"PurgeQueue", purge_queue},
    {"GetQueueAttributes", get_queue_attributes},
    {"SetQueueAttributes", set_queue_attributes},
    {"SendMessage", send_message},
    {"SendMessageBatch", send_message_batch},
    {"ReceiveMessage", receive_message},
    {"DeleteMessage", delete_message},
    {"DeleteMessageBatch", delete_message_batch},
    {"ChangeMessageVisibility", change_message_visibility},
};

const evb__api_service_t evb__api_sqs_service = {
    .target_prefix = "AmazonSQS",
    .content_type = "application/x-amz-json-1.0",
    .actions = actions,
    .n_actions = EVB_ARRAY_LEN(actions),
};
