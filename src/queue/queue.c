/*
 * queue.c: the queue service (queue.h) over the store's queues and
 * queue_messages tables.
 *
 * Design:
 * - Every change is one store unit run by evb_store_write (durable on
 *   return); lookups that change nothing use evb_store_read. SQL is
 *   static text with bound parameters only.
 * - A queue's attributes are a JSON object of SQS attribute name -> string
 *   value (defaults filled in at creation), so GetQueueAttributes reports
 *   exactly what was set; computed ones (counts, timestamps, QueueArn) are
 *   added on read.
 * - Receive first checks, on the read connection, whether anything is
 *   visible; only then does it run a write unit (an empty long poll costs
 *   no commits). The write unit expires messages past the retention
 *   period, moves messages past the RedrivePolicy's maxReceiveCount to
 *   the dead-letter queue, and marks the rest in flight with a fresh
 *   receipt handle.
 * - Long polls sleep on one condition variable (CLOCK_MONOTONIC) per
 *   service guarded by a generation counter that every send bumps; a
 *   woken receiver simply tries again. Waking every poller on any send is
 *   cheap at this scale and cannot lose a wake-up.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "queue_internal.h"

struct evb_queue_service {
    evb_store_t *store;
    char region[64];
    char account[13];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t gen; /* bumped by every send */
    bool stopping;
};

/* ---- errors ---------------------------------------------------------- */

#define SHAPE(name, shape, query, msg) shape,
#define QUERY(name, shape, query, msg) query,
#define MSG(name, shape, query, msg) msg,
static const char *const err_shapes[] = {EVB_QUEUE_ERRORS(SHAPE)};
static const char *const err_queries[] = {EVB_QUEUE_ERRORS(QUERY)};
static const char *const err_msgs[] = {EVB_QUEUE_ERRORS(MSG)};
#undef SHAPE
#undef QUERY
#undef MSG

const char *evb_queue_err_shape(evb_queue_err_t err) {
    return (unsigned)err < EVB_QUEUE_ERR__COUNT ? err_shapes[err] : "";
}

const char *evb_queue_err_query_code(evb_queue_err_t err) {
    return (unsigned)err < EVB_QUEUE_ERR__COUNT ? err_queries[err] : "";
}

const char *evb_queue_err_message(evb_queue_err_t err) {
    return (unsigned)err < EVB_QUEUE_ERR__COUNT ? err_msgs[err]
                                                : "Unknown error";
}

bool evb_queue_err_is_sender(evb_queue_err_t err) {
    return err != EVB_QUEUE_ERR_OK && err != EVB_QUEUE_ERR_NOMEM &&
           err != EVB_QUEUE_ERR_IO;
}

static evb_queue_err_t qerr(evb_queue_err_t err, char *errstr,
                            size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static evb_queue_err_t qerr(evb_queue_err_t err, char *errstr,
                            size_t errstr_size, const char *fmt, ...) {
    if (errstr && errstr_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return err;
}

static evb_queue_err_t sqlerr(sqlite3 *db, const char *what, char *errstr,
                              size_t errstr_size) {
    evb_store_sqlerr(db, what, errstr, errstr_size);
    return EVB_QUEUE_ERR_IO;
}

/* The store's units return evb_err_t; queue errors travel through it as
 * EVB_ERR_INTERNAL with the queue code in the unit's context. */
typedef struct unit_base {
    evb_queue_err_t qerr;
} unit_base_t;

static evb_err_t unit_fail(unit_base_t *u, evb_queue_err_t e) {
    u->qerr = e;
    return e == EVB_QUEUE_ERR_OK ? EVB_ERR_OK : EVB_ERR_INTERNAL;
}

/* Map what evb_store_write/read returned back to a queue error. */
static evb_queue_err_t unit_result(const unit_base_t *u, evb_err_t err) {
    if (err == EVB_ERR_OK)
        return EVB_QUEUE_ERR_OK;
    if (u->qerr != EVB_QUEUE_ERR_OK)
        return u->qerr;
    return err == EVB_ERR_NOMEM ? EVB_QUEUE_ERR_NOMEM : EVB_QUEUE_ERR_IO;
}

/* ---- small helpers ----------------------------------------------------- */

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st) {
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return false;
    }
    return true;
}

static void bind_str(sqlite3_stmt *st, int i, const char *s) {
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static bool parse_i64(const char *s, int64_t *out) {
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || (s[0] != '-' && (s[0] < '0' || s[0] > '9')))
        return false;
    *out = v;
    return true;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *evb_queue_base64_encode(evb_arena_t *arena, const void *data,
                              size_t len) {
    const unsigned char *p = data;
    char *out = evb_arena_alloc(arena, (len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        *o++ = b64chars[v >> 18 & 63];
        *o++ = b64chars[v >> 12 & 63];
        *o++ = i + 1 < len ? b64chars[v >> 6 & 63] : '=';
        *o++ = i + 2 < len ? b64chars[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static int b64val(char c) {
    const char *p = c ? strchr(b64chars, c) : NULL;
    return p ? (int)(p - b64chars) : -1;
}

bool evb_queue_base64_decode(evb_arena_t *arena, const char *s, size_t len,
                             char **out, size_t *out_len) {
    if (len % 4)
        return false;
    char *d = evb_arena_alloc(arena, len / 4 * 3 + 1);
    if (!d)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        for (int j = 0; j < 4; j++) {
            v[j] = b64val(s[i + j]);
            if (v[j] < 0 && !(s[i + j] == '=' && i + 4 == len && j >= 2))
                return false;
        }
        if (v[2] < 0 && v[3] >= 0)
            return false;
        uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
                     (uint32_t)(v[2] < 0 ? 0 : v[2]) << 6 |
                     (uint32_t)(v[3] < 0 ? 0 : v[3]);
        d[n++] = (char)(x >> 16);
        if (v[2] >= 0)
            d[n++] = (char)(x >> 8 & 255);
        if (v[3] >= 0)
            d[n++] = (char)(x & 255);
    }
    d[n] = '\0';
    *out = d;
    *out_len = n;
    return true;
}

/* ---- the service ------------------------------------------------------- */

evb_queue_err_t evb_queue_service_new(evb_store_t *store, const char *region,
                                      const char *account,
                                      evb_queue_service_t **out) {
    *out = NULL;
    evb_queue_service_t *s = calloc(1, sizeof *s);
    if (!s)
        return EVB_QUEUE_ERR_NOMEM;
    s->store = store;
    snprintf(s->region, sizeof s->region, "%s", region ? region : "us-east-1");
    snprintf(s->account, sizeof s->account, "%s",
             account ? account : "000000000000");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = s;
    return EVB_QUEUE_ERR_OK;
}

void evb_queue_service_shutdown(evb_queue_service_t *svc) {
    pthread_mutex_lock(&svc->mu);
    svc->stopping = true;
    pthread_cond_broadcast(&svc->cv);
    pthread_mutex_unlock(&svc->mu);
}

void evb_queue_service_free(evb_queue_service_t *svc) {
    if (!svc)
        return;
    pthread_cond_destroy(&svc->cv);
    pthread_mutex_destroy(&svc->mu);
    free(svc);
}

void evb_queue_service_notify(evb_queue_service_t *svc) {
    pthread_mutex_lock(&svc->mu);
    svc->gen++;
    pthread_cond_broadcast(&svc->cv);
    pthread_mutex_unlock(&svc->mu);
}

void evb_queue_arn(const evb_queue_service_t *svc, const char *name, char *out,
                   size_t out_size) {
    snprintf(out, out_size, "arn:aws:sqs:%s:%s:%s", svc->region, svc->account,
             name);
}

/* ---- queue attributes -------------------------------------------------- */

/* Settable attributes, their range (integers) and default. */
typedef struct attr_def {
    const char *name;
    bool integer;
    int64_t min, max;
    const char *dflt; /* NULL: absent unless set */
} attr_def_t;

static const attr_def_t settable[] = {
    {"DelaySeconds", true, 0, 900, "0"},
    {"MaximumMessageSize", true, 1024, 1048576, "1048576"},
    {"MessageRetentionPeriod", true, 60, 1209600, "345600"},
    {"ReceiveMessageWaitTimeSeconds", true, 0, 20, "0"},
    {"VisibilityTimeout", true, 0, 43200, "30"},
    {"RedrivePolicy", false, 0, 0, NULL},
    {"RedriveAllowPolicy", false, 0, 0, NULL},
    {"Policy", false, 0, 0, NULL},
    {"KmsMasterKeyId", false, 0, 0, NULL},
    {"KmsDataKeyReusePeriodSeconds", true, 60, 86400, NULL},
    {"SqsManagedSseEnabled", false, 0, 0, "false"},
};

/* Read-only attributes GetQueueAttributes computes. */
static const char *const computed[] = {
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
};

static const attr_def_t *find_settable(const char *name) {
    for (size_t i = 0; i < EVB_ARRAY_LEN(settable); i++)
        if (strcmp(settable[i].name, name) == 0)
            return &settable[i];
    return NULL;
}

/* Check one attribute to set. RedrivePolicy's target is checked by the
 * unit that writes it (it needs the store). */
static evb_queue_err_t check_attr(const evb_queue_attr_t *a, char *errstr,
                                  size_t errstr_size) {
    if (strcmp(a->name, "FifoQueue") == 0) {
        if (strcmp(a->value, "false") == 0)
            return EVB_QUEUE_ERR_OK;
        return qerr(EVB_QUEUE_ERR_INVALID_ATTRIBUTE_VALUE, errstr,
                    errstr_size,
                    "Invalid value for the parameter FifoQueue. Reason: FIFO "
                    "queues are not supported by evbus.");
    }
    const attr_def_t *d = find_settable(a->name);
    if (!d)
        return qerr(EVB_QUEUE_ERR_INVALID_ATTRIBUTE_NAME, errstr, errstr_size,
                    "Unknown Attribute %s.", a->name);
    int64_t v;
    if (d->integer && (!parse_i64(a->value, &v) || v < d->min || v > d->max))
        return qerr(EVB_QUEUE_ERR_INVALID_ATTRIBUTE_VALUE, errstr,
                    errstr_size, "Invalid value for the parameter %s.",
                    a->name);
    if (strcmp(a->name, "SqsManagedSseEnabled") == 0 &&
        strcmp(a->value, "true") != 0 && strcmp(a->value, "false") != 0)
        return qerr(EVB_QUEUE_ERR_INVALID_ATTRIBUTE_VALUE, errstr,
                    errstr_size, "Invalid value for the parameter %s.",
                    a->name);
    if (strcmp(a->name, "RedrivePolicy") == 0 && a->value[0]) {
        json_error_t je;
        json_t *j = json_loads(a->value, 0, &je);
        json_t *arn = j ? json_object_get(j, "deadLetterTargetArn") : NULL;
        json_t *mrc = j ? json_object_get(j, "maxReceiveCount") : NULL;
        int64_t n = -1;
        if (json_is_integer(mrc))
            n = json_integer_value(mrc);
        else if (json_is_string(mrc) && !parse_i64(json_string_value(mrc), &n))
            n = -1;
        bool ok = json_is_object(j) && json_is_string(arn) && n >= 1 &&
                  n <= 1000;
        json_decref(j);
        if (!ok)
            return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                        "Value %s for parameter RedrivePolicy is invalid. "
                        "Reason: Redrive policy is not a valid JSON map with "
                        "deadLetterTargetArn and maxReceiveCount (1 to "
                        "1000).",
                        a->value);
    }
    return EVB_QUEUE_ERR_OK;
}

static bool valid_queue_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > EVB_QUEUE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* The parsed configuration of a queue. */
typedef struct qconf {
    int64_t visibility_s, retention_s, max_size, delay_s, wait_s;
    char dlq_arn[300]; /* "" without a RedrivePolicy */
    int64_t max_receive;
} qconf_t;

static int64_t attr_int(json_t *o, const char *name, int64_t dflt) {
    int64_t v;
    json_t *j = json_object_get(o, name);
    return json_is_string(j) && parse_i64(json_string_value(j), &v) ? v
                                                                     : dflt;
}

static void qconf_from(json_t *o, qconf_t *c) {
    memset(c, 0, sizeof *c);
    c->visibility_s = attr_int(o, "VisibilityTimeout", 30);
    c->retention_s = attr_int(o, "MessageRetentionPeriod", 345600);
    c->max_size = attr_int(o, "MaximumMessageSize", 1048576);
    c->delay_s = attr_int(o, "DelaySeconds", 0);
    c->wait_s = attr_int(o, "ReceiveMessageWaitTimeSeconds", 0);
    json_t *rp = json_object_get(o, "RedrivePolicy");
    if (json_is_string(rp) && json_string_value(rp)[0]) {
        json_t *j = json_loads(json_string_value(rp), 0, NULL);
        json_t *arn = json_object_get(j, "deadLetterTargetArn");
        json_t *mrc = json_object_get(j, "maxReceiveCount");
        int64_t n = 0;
        if (json_is_integer(mrc))
            n = json_integer_value(mrc);
        else if (json_is_string(mrc))
            (void)parse_i64(json_string_value(mrc), &n);
        if (json_is_string(arn) && n > 0) {
            snprintf(c->dlq_arn, sizeof c->dlq_arn, "%s",
                     json_string_value(arn));
            c->max_receive = n;
        }
        json_decref(j);
    }
}

/* Load a queue's attribute object (by name, or by arn when name is NULL).
 * *found false when there is no such queue. The caller decrefs *attrs. */
static evb_queue_err_t load_queue(sqlite3 *db, const char *name,
                                  const char *arn, bool *found, json_t **attrs,
                                  char *real_name, size_t real_name_size,
                                  int64_t *created_ms, int64_t *modified_ms,
                                  char *errstr, size_t errstr_size) {
    *found = false;
    *attrs = NULL;
    sqlite3_stmt *st;
    if (!prepare(db,
                 name ? "SELECT name, attributes, created_ms, modified_ms "
                        "FROM queues WHERE name = ?1"
                      : "SELECT name, attributes, created_ms, modified_ms "
                        "FROM queues WHERE arn = ?1",
                 &st))
        return sqlerr(db, "looking up a queue", errstr, errstr_size);
    bind_str(st, 1, name ? name : arn);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found = true;
        if (real_name)
            snprintf(real_name, real_name_size, "%s",
                     (const char *)sqlite3_column_text(st, 0));
        const char *t = (const char *)sqlite3_column_text(st, 1);
        *attrs = json_loads(t ? t : "{}", 0, NULL);
        if (!*attrs)
            *attrs = json_object();
        if (created_ms)
            *created_ms = sqlite3_column_int64(st, 2);
        if (modified_ms)
            *modified_ms = sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlerr(db, "looking up a queue", errstr, errstr_size);
    if (*found && !*attrs)
        return EVB_QUEUE_ERR_NOMEM;
    return EVB_QUEUE_ERR_OK;
}

static evb_queue_err_t not_found(char *errstr, size_t errstr_size) {
    return qerr(EVB_QUEUE_ERR_NOT_FOUND, errstr, errstr_size,
                "The specified queue does not exist.");
}

/* load_queue by name for a unit that works on the queue: its attributes in
 * *attrs (the caller's to json_decref; NULL on failure), its times when
 * asked, or EVB_QUEUE_ERR_NOT_FOUND when there is no such queue. */
static evb_queue_err_t need_queue(sqlite3 *db, const char *name, json_t **attrs,
                                  int64_t *created_ms, int64_t *modified_ms,
                                  char *errstr, size_t errstr_size) {
    bool found;
    evb_queue_err_t e =
        load_queue(db, name, NULL, &found, attrs, NULL, 0, created_ms,
                   modified_ms, errstr, errstr_size);
    if (!e && !found)
        e = not_found(errstr, errstr_size);
    return e;
}

/* Does a queue with this ARN exist? (RedrivePolicy targets) */
static evb_queue_err_t check_dlq(sqlite3 *db, const char *policy,
                                 char *errstr, size_t errstr_size) {
    json_t *j = json_loads(policy, 0, NULL);
    json_t *arn = json_object_get(j, "deadLetterTargetArn");
    bool found = false;
    json_t *attrs = NULL;
    evb_queue_err_t e =
        json_is_string(arn)
            ? load_queue(db, NULL, json_string_value(arn), &found, &attrs,
                         NULL, 0, NULL, NULL, errstr, errstr_size)
            : EVB_QUEUE_ERR_OK;
    json_decref(attrs);
    json_decref(j);
    if (e)
        return e;
    if (!found)
        return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                    "Value %s for parameter RedrivePolicy is invalid. Reason: "
                    "Dead letter target does not exist.",
                    policy);
    return EVB_QUEUE_ERR_OK;
}

/* ---- create, delete, purge, list ---------------------------------------- */

typedef struct create_unit {
    unit_base_t base;
    evb_queue_service_t *svc;
    const char *name;
    const evb_queue_attr_t *attrs;
    size_t n;
} create_unit_t;

static evb_err_t create_fn(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    create_unit_t *u = arg;
    bool found;
    json_t *have;
    evb_queue_err_t e = load_queue(db, u->name, NULL, &found, &have, NULL, 0,
                                   NULL, NULL, errstr, errstr_size);
    if (e)
        return unit_fail(&u->base, e);
    if (found) {
        /* idempotent when every given attribute matches */
        for (size_t i = 0; i < u->n && !e; i++) {
            if (strcmp(u->attrs[i].name, "FifoQueue") == 0)
                continue;
            json_t *v = json_object_get(have, u->attrs[i].name);
            const char *hv = json_is_string(v) ? json_string_value(v) : "";
            if (strcmp(hv, u->attrs[i].value) != 0)
                e = qerr(EVB_QUEUE_ERR_NAME_EXISTS, errstr, errstr_size,
                         "A queue already exists with the same name and a "
                         "different value for attribute %s",
                         u->attrs[i].name);
        }
        json_decref(have);
        return unit_fail(&u->base, e);
    }
    json_t *o = json_object();
    if (!o)
        return unit_fail(&u->base, EVB_QUEUE_ERR_NOMEM);
    for (size_t i = 0; i < EVB_ARRAY_LEN(settable); i++)
        if (settable[i].dflt)
            json_object_set_new(o, settable[i].name,
                                json_string(settable[i].dflt));
    for (size_t i = 0; i < u->n && !e; i++) {
        if (strcmp(u->attrs[i].name, "FifoQueue") == 0)
            continue;
        if (strcmp(u->attrs[i].name, "RedrivePolicy") == 0 &&
            u->attrs[i].value[0])
            e = check_dlq(db, u->attrs[i].value, errstr, errstr_size);
        if (u->attrs[i].value[0] || find_settable(u->attrs[i].name)->dflt)
            json_object_set_new(o, u->attrs[i].name,
                                json_string(u->attrs[i].value));
    }
    char *text = e ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (e)
        return unit_fail(&u->base, e);
    if (!text)
        return unit_fail(&u->base, EVB_QUEUE_ERR_NOMEM);
    char arn[256];
    evb_queue_arn(u->svc, u->name, arn, sizeof arn);
    sqlite3_stmt *st;
    if (!prepare(db,
                 "INSERT INTO queues(name, arn, attributes, created_ms, "
                 "modified_ms) VALUES (?1, ?2, ?3, ?4, ?4)",
                 &st)) {
        free(text);
        return unit_fail(&u->base,
                         sqlerr(db, "creating a queue", errstr, errstr_size));
    }
    int64_t now = now_ms();
    bind_str(st, 1, u->name);
    bind_str(st, 2, arn);
    bind_str(st, 3, text);
    sqlite3_bind_int64(st, 4, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(text);
    if (rc != SQLITE_DONE)
        return unit_fail(&u->base,
                         sqlerr(db, "creating a queue", errstr, errstr_size));
    return EVB_ERR_OK;
}

evb_queue_err_t evb_queue_create(evb_queue_service_t *svc, const char *name,
                                 const evb_queue_attr_t *attrs, size_t n_attrs,
                                 char *errstr, size_t errstr_size) {
    if (!valid_queue_name(name))
        return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                    "Can only include alphanumeric characters, hyphens, or "
                    "underscores. 1 to 80 in length");
    for (size_t i = 0; i < n_attrs; i++) {
        evb_queue_err_t e = check_attr(&attrs[i], errstr, errstr_size);
        if (e)
            return e;
    }
    create_unit_t u = {{EVB_QUEUE_ERR_OK}, svc, name, attrs, n_attrs};
    return unit_result(&u.base, evb_store_write(svc->store, create_fn, &u,
                                                errstr, errstr_size));
}

typedef struct name_unit {
    unit_base_t base;
    const char *name;
    int op; /* 0 exists, 1 delete, 2 purge */
} name_unit_t;

static evb_err_t name_fn(sqlite3 *db, void *arg, char *errstr,
                         size_t errstr_size) {
    name_unit_t *u = arg;
    json_t *attrs;
    evb_queue_err_t e =
        need_queue(db, u->name, &attrs, NULL, NULL, errstr, errstr_size);
    json_decref(attrs);
    if (e)
        return unit_fail(&u->base, e);
    static const char *const sql[][2] = {
        {NULL, NULL},
        {"DELETE FROM queue_messages WHERE queue = ?1",
         "DELETE FROM queues WHERE name = ?1"},
        {"DELETE FROM queue_messages WHERE queue = ?1", NULL},
    };
    for (int i = 0; i < 2; i++) {
        if (!sql[u->op][i])
            continue;
        sqlite3_stmt *st;
        if (!prepare(db, sql[u->op][i], &st))
            return unit_fail(&u->base, sqlerr(db, "deleting", errstr,
                                              errstr_size));
        bind_str(st, 1, u->name);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return unit_fail(&u->base,
                             sqlerr(db, "deleting", errstr, errstr_size));
    }
    return EVB_ERR_OK;
}

static evb_queue_err_t name_op(evb_queue_service_t *svc, const char *name,
                               int op, char *errstr, size_t errstr_size) {
    name_unit_t u = {{EVB_QUEUE_ERR_OK}, name, op};
    evb_err_t err = op == 0 ? evb_store_read(svc->store, name_fn, &u, errstr,
                                             errstr_size)
                            : evb_store_write(svc->store, name_fn, &u, errstr,
                                              errstr_size);
    return unit_result(&u.base, err);
}

evb_queue_err_t evb_queue_exists(evb_queue_service_t *svc, const char *name,
                                 char *errstr, size_t errstr_size) {
    return name_op(svc, name, 0, errstr, errstr_size);
}

evb_queue_err_t evb_queue_delete(evb_queue_service_t *svc, const char *name,
                                 char *errstr, size_t errstr_size) {
    evb_queue_err_t e = name_op(svc, name, 1, errstr, errstr_size);
    if (!e)
        evb_queue_service_notify(svc); /* pollers of it find it gone */
    return e;
}

evb_queue_err_t evb_queue_purge(evb_queue_service_t *svc, const char *name,
                                char *errstr, size_t errstr_size) {
    return name_op(svc, name, 2, errstr, errstr_size);
}

typedef struct list_unit {
    unit_base_t base;
    const char *prefix, *after;
    size_t max;
    evb_arena_t *arena;
    char **names;
    size_t n;
    bool more;
} list_unit_t;

static evb_err_t list_fn(sqlite3 *db, void *arg, char *errstr,
                         size_t errstr_size) {
    list_unit_t *u = arg;
    sqlite3_stmt *st;
    if (!prepare(db,
                 "SELECT name FROM queues WHERE (?1 IS NULL OR "
                 "substr(name, 1, length(?1)) = ?1) AND (?2 IS NULL OR "
                 "name > ?2) ORDER BY name LIMIT ?3",
                 &st))
        return unit_fail(&u->base,
                         sqlerr(db, "listing queues", errstr, errstr_size));
    bind_str(st, 1, u->prefix);
    bind_str(st, 2, u->after);
    sqlite3_bind_int64(st, 3, (int64_t)u->max + 1);
    u->names = evb_arena_alloc(u->arena, (u->max + 1) * sizeof *u->names);
    int rc;
    while (u->names && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (u->n == u->max) {
            u->more = true;
            break;
        }
        const char *t = (const char *)sqlite3_column_text(st, 0);
        u->names[u->n] = evb_arena_strndup(u->arena, t, strlen(t));
        if (!u->names[u->n]) {
            u->names = NULL;
            break;
        }
        u->n++;
    }
    sqlite3_finalize(st);
    if (!u->names)
        return unit_fail(&u->base, EVB_QUEUE_ERR_NOMEM);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return unit_fail(&u->base,
                         sqlerr(db, "listing queues", errstr, errstr_size));
    return EVB_ERR_OK;
}

evb_queue_err_t evb_queue_list(evb_queue_service_t *svc, const char *prefix,
                               const char *after, size_t max,
                               evb_arena_t *arena, char ***names, size_t *n,
                               bool *more, char *errstr, size_t errstr_size) {
    list_unit_t u = {{EVB_QUEUE_ERR_OK}, prefix, after, max, arena, NULL, 0,
                     false};
    evb_queue_err_t e = unit_result(
        &u.base, evb_store_read(svc->store, list_fn, &u, errstr, errstr_size));
    *names = u.names;
    *n = u.n;
    *more = u.more;
    return e;
}

/* ---- attributes ------------------------------------------------------- */

typedef struct get_attrs_unit {
    unit_base_t base;
    evb_queue_service_t *svc;
    const char *name;
    const char *const *names;
    size_t n_names;
    evb_arena_t *arena;
    evb_queue_attr_t *out;
    size_t n_out;
} get_attrs_unit_t;

static bool wanted(const get_attrs_unit_t *u, const char *name) {
    for (size_t i = 0; i < u->n_names; i++)
        if (strcmp(u->names[i], "All") == 0 || strcmp(u->names[i], name) == 0)
            return true;
    return false;
}

static bool add_out(get_attrs_unit_t *u, const char *name, const char *value) {
    char *v = evb_arena_strndup(u->arena, value, strlen(value));
    if (!v)
        return false;
    u->out[u->n_out].name = name;
    u->out[u->n_out].value = v;
    u->n_out++;
    return true;
}

static evb_err_t get_attrs_fn(sqlite3 *db, void *arg, char *errstr,
                              size_t errstr_size) {
    get_attrs_unit_t *u = arg;
    json_t *attrs;
    int64_t created, modified;
    evb_queue_err_t e = need_queue(db, u->name, &attrs, &created, &modified,
                                   errstr, errstr_size);
    if (e)
        return unit_fail(&u->base, e);
    int64_t counts[3] = {0, 0, 0}; /* visible, in flight, delayed */
    sqlite3_stmt *st;
    if (!prepare(db,
                 "SELECT coalesce(sum(visible_at_ms <= ?2), 0),"
                 " coalesce(sum(visible_at_ms > ?2 AND receipt_handle IS NOT "
                 "NULL), 0),"
                 " coalesce(sum(visible_at_ms > ?2 AND receipt_handle IS "
                 "NULL), 0) FROM queue_messages WHERE queue = ?1",
                 &st)) {
        json_decref(attrs);
        return unit_fail(&u->base,
                         sqlerr(db, "counting messages", errstr, errstr_size));
    }
    bind_str(st, 1, u->name);
    sqlite3_bind_int64(st, 2, now_ms());
    if (sqlite3_step(st) == SQLITE_ROW)
        for (int i = 0; i < 3; i++)
            counts[i] = sqlite3_column_int64(st, i);
    sqlite3_finalize(st);

    size_t cap = EVB_ARRAY_LEN(settable) + EVB_ARRAY_LEN(computed) + 1;
    u->out = evb_arena_alloc(u->arena, cap * sizeof *u->out);
    bool ok = u->out != NULL;
    char buf[300];
    for (size_t i = 0; ok && i < EVB_ARRAY_LEN(computed); i++) {
        const char *n = computed[i];
        if (!wanted(u, n))
            continue;
        if (i < 3)
            snprintf(buf, sizeof buf, "%" PRId64, counts[i]);
        else if (i == 3)
            snprintf(buf, sizeof buf, "%" PRId64, created / 1000);
        else if (i == 4)
            snprintf(buf, sizeof buf, "%" PRId64, modified / 1000);
        else
            evb_queue_arn(u->svc, u->name, buf, sizeof buf);
        ok = add_out(u, n, buf);
    }
    for (size_t i = 0; ok && i < EVB_ARRAY_LEN(settable); i++) {
        json_t *v = json_object_get(attrs, settable[i].name);
        if (json_is_string(v) && wanted(u, settable[i].name))
            ok = add_out(u, settable[i].name, json_string_value(v));
    }
    json_decref(attrs);
    return ok ? EVB_ERR_OK : unit_fail(&u->base, EVB_QUEUE_ERR_NOMEM);
}

evb_queue_err_t evb_queue_get_attributes(evb_queue_service_t *svc,
                                         const char *name,
                                         const char *const *names,
                                         size_t n_names, evb_arena_t *arena,
                                         evb_queue_attr_t **out, size_t *n_out,
                                         char *errstr, size_t errstr_size) {
    *out = NULL;
    *n_out = 0;
    for (size_t i = 0; i < n_names; i++) {
        bool known = strcmp(names[i], "All") == 0 ||
                     find_settable(names[i]) ||
                     strcmp(names[i], "FifoQueue") == 0;
        for (size_t j = 0; !known && j < EVB_ARRAY_LEN(computed); j++)
            known = strcmp(names[i], computed[j]) == 0;
        if (!known)
            return qerr(EVB_QUEUE_ERR_INVALID_ATTRIBUTE_NAME, errstr,
                        errstr_size, "Unknown Attribute %s.", names[i]);
    }
    get_attrs_unit_t u = {{EVB_QUEUE_ERR_OK}, svc, name, names, n_names,
                          arena, NULL, 0};
    evb_queue_err_t e =
        unit_result(&u.base, evb_store_read(svc->store, get_attrs_fn, &u,
                                            errstr, errstr_size));
    if (!e) {
        *out = u.out;
        *n_out = u.n_out;
    }
    return e;
}

typedef struct set_attrs_unit {
    unit_base_t base;
    const char *name;
    const evb_queue_attr_t *attrs;
    size_t n;
} set_attrs_unit_t;

static evb_err_t set_attrs_fn(sqlite3 *db, void *arg, char *errstr,
                              size_t errstr_size) {
    set_attrs_unit_t *u = arg;
    json_t *attrs;
    evb_queue_err_t e =
        need_queue(db, u->name, &attrs, NULL, NULL, errstr, errstr_size);
    if (e)
        return unit_fail(&u->base, e);
    for (size_t i = 0; i < u->n && !e; i++) {
        const evb_queue_attr_t *a = &u->attrs[i];
        if (strcmp(a->name, "FifoQueue") == 0)
            continue;
        if (strcmp(a->name, "RedrivePolicy") == 0 && a->value[0])
            e = check_dlq(db, a->value, errstr, errstr_size);
        if (!a->value[0] && !find_settable(a->name)->dflt)
            json_object_del(attrs, a->name);
        else
            json_object_set_new(attrs, a->name, json_string(a->value));
    }
    char *text = e ? NULL : json_dumps(attrs, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(attrs);
    if (e)
        return unit_fail(&u->base, e);
    if (!text)
        return unit_fail(&u->base, EVB_QUEUE_ERR_NOMEM);
    sqlite3_stmt *st;
    int rc = SQLITE_ERROR;
    if (prepare(db,
                "UPDATE queues SET attributes = ?2, modified_ms = ?3 WHERE "
                "name = ?1",
                &st)) {
        bind_str(st, 1, u->name);
        bind_str(st, 2, text);
        sqlite3_bind_int64(st, 3, now_ms());
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
    }
    free(text);
    if (rc != SQLITE_DONE)
        return unit_fail(&u->base, sqlerr(db, "setting queue attributes",
                                          errstr, errstr_size));
    return EVB_ERR_OK;
}

evb_queue_err_t evb_queue_set_attributes(evb_queue_service_t *svc,
                                         const char *name,
                                         const evb_queue_attr_t *attrs,
                                         size_t n_attrs, char *errstr,
                                         size_t errstr_size) {
    for (size_t i = 0; i < n_attrs; i++) {
        evb_queue_err_t e = check_attr(&attrs[i], errstr, errstr_size);
        if (e)
            return e;
    }
    set_attrs_unit_t u = {{EVB_QUEUE_ERR_OK}, name, attrs, n_attrs};
    return unit_result(&u.base, evb_store_write(svc->store, set_attrs_fn, &u,
                                                errstr, errstr_size));
}

/* ---- message attributes ------------------------------------------------ */

static void md5_len_bytes(evb__md5_t *m, const void *p, size_t len) {
    unsigned char l[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                          (unsigned char)(len >> 8), (unsigned char)len};
    evb__md5_update(m, l, 4);
    evb__md5_update(m, p, len);
}

static int cmp_attr(const void *a, const void *b) {
    const evb_queue_msg_attr_t *x = *(const evb_queue_msg_attr_t *const *)a;
    const evb_queue_msg_attr_t *y = *(const evb_queue_msg_attr_t *const *)b;
    return strcmp(x->name, y->name);
}

evb_queue_err_t evb_queue_md5_of_attrs(const evb_queue_msg_attr_t *attrs,
                                       size_t n, char out[33]) {
    out[0] = '\0';
    if (n == 0)
        return EVB_QUEUE_ERR_OK;
    const evb_queue_msg_attr_t **sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return EVB_QUEUE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        sorted[i] = &attrs[i];
    qsort(sorted, n, sizeof *sorted, cmp_attr);
    evb__md5_t m;
    evb__md5_init(&m);
    for (size_t i = 0; i < n; i++) {
        const evb_queue_msg_attr_t *a = sorted[i];
        md5_len_bytes(&m, a->name, strlen(a->name));
        md5_len_bytes(&m, a->data_type, strlen(a->data_type));
        unsigned char t = a->binary ? 2 : 1;
        evb__md5_update(&m, &t, 1);
        md5_len_bytes(&m, a->value, a->value_len);
    }
    free(sorted);
    evb__md5_hex(&m, out);
    return EVB_QUEUE_ERR_OK;
}

/* SQS's allowed characters: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD
 * #x10000-#x10FFFF, in valid UTF-8. */
static bool valid_sqs_text(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t c = p[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
                                 : (c >> 3) == 30                    ? 4
                                                                     : 0;
        if (!n || i + n > len)
            return false;
        if (n > 1)
            c &= 0x3F >> (n - 1);
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            c = c << 6 | (p[i + k] & 0x3F);
        }
        static const uint32_t min_for[] = {0, 0, 0x80, 0x800, 0x10000};
        if (c < min_for[n])
            return false;
        if (c < 0x20 && c != 9 && c != 10 && c != 13)
            return false;
        if ((c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE || c == 0xFFFF ||
            c > 0x10FFFF)
            return false;
        i += n;
    }
    return true;
}

static bool valid_attr_name(const char *n) {
    size_t len = strlen(n);
    if (len == 0 || len > 256 || n[0] == '.' || n[len - 1] == '.' ||
        strstr(n, "..") || strncasecmp(n, "AWS.", 4) == 0 ||
        strncasecmp(n, "Amazon.", 7) == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static bool type_is(const char *t, const char *base) {
    size_t n = strlen(base);
    return strncmp(t, base, n) == 0 && (t[n] == '\0' || t[n] == '.');
}

static bool numeric(const char *s, size_t len) {
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    (void)strtod(buf, &end);
    return *end == '\0' && buf[0] != ' ';
}

evb_queue_err_t evb_queue_check_send(const evb_queue_send_t *msg,
                                     size_t max_size, char *errstr,
                                     size_t errstr_size) {
    if (!max_size)
        max_size = EVB_QUEUE_MESSAGE_MAX;
    if (msg->body_len == 0)
        return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                    "The request must contain the parameter MessageBody.");
    if (!valid_sqs_text(msg->body, msg->body_len))
        return qerr(EVB_QUEUE_ERR_INVALID_MESSAGE_CONTENTS, errstr,
                    errstr_size,
                    "Invalid binary character in the message body. Valid "
                    "characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
                    "#xE000 to #xFFFD | #x10000 to #x10FFFF");
    if (msg->delay_s > 900)
        return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                    "Value %d for parameter DelaySeconds is invalid. Reason: "
                    "DelaySeconds must be >= 0 and <= 900.",
                    msg->delay_s);
    if (msg->n_attrs > 10)
        return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                    "Number of message attributes [%zu] exceeds the allowed "
                    "maximum [10].",
                    msg->n_attrs);
    size_t total = msg->body_len;
    for (size_t i = 0; i < msg->n_attrs; i++) {
        const evb_queue_msg_attr_t *a = &msg->attrs[i];
        if (!valid_attr_name(a->name))
            return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                        "Message (user) attribute name '%s' is invalid.",
                        a->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(msg->attrs[j].name, a->name) == 0)
                return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr,
                            errstr_size,
                            "Message (user) attribute name '%s' is "
                            "duplicated.",
                            a->name);
        bool bin = type_is(a->data_type, "Binary");
        bool str = type_is(a->data_type, "String");
        bool num = type_is(a->data_type, "Number");
        if (!bin && !str && !num)
            return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                        "The type of message (user) attribute '%s' is "
                        "invalid. You must use only the following supported "
                        "type prefixes: Binary, Number, String.",
                        a->name);
        if (bin != a->binary || a->value_len == 0 || !a->value)
            return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                        "Message (user) attribute '%s' must contain a "
                        "non-empty value of type '%s'.",
                        a->name, bin ? "Binary" : a->data_type);
        if (num && !numeric(a->value, a->value_len))
            return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                        "Can't cast the value of message (user) attribute "
                        "'%s' to a number.",
                        a->name);
        if (!bin && !valid_sqs_text(a->value, a->value_len))
            return qerr(EVB_QUEUE_ERR_INVALID_MESSAGE_CONTENTS, errstr,
                        errstr_size,
                        "Invalid binary character in message attribute '%s'.",
                        a->name);
        total += strlen(a->name) + strlen(a->data_type) + a->value_len;
    }
    if (total > max_size)
        return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                    "One or more parameters are invalid. Reason: Message "
                    "must be shorter than %zu bytes.",
                    max_size);
    return EVB_QUEUE_ERR_OK;
}

/* The attributes as SQS's JSON shows them; malloc'd text (NULL: none or
 * out of memory, *nomem says which). */
static char *attrs_to_json(const evb_queue_msg_attr_t *attrs, size_t n,
                           bool *nomem) {
    *nomem = false;
    if (n == 0)
        return NULL;
    evb_arena_t a;
    evb_arena_init(&a, 0);
    json_t *o = json_object();
    bool ok = o != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *v = json_object();
        ok = v && json_object_set_new(o, attrs[i].name, v) == 0;
        if (ok)
            json_object_set_new(v, "DataType",
                                json_string(attrs[i].data_type));
        if (ok && attrs[i].binary) {
            char *b = evb_queue_base64_encode(&a, attrs[i].value,
                                              attrs[i].value_len);
            ok = b && json_object_set_new(v, "BinaryValue", json_string(b)) ==
                          0;
        } else if (ok) {
            ok = json_object_set_new(v, "StringValue",
                                     json_stringn(attrs[i].value,
                                                  attrs[i].value_len)) == 0;
        }
    }
    char *text = ok ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    evb_arena_free(&a);
    *nomem = text == NULL;
    return text;
}

/* Insert one message into queue (already known to exist, with conf). */
static evb_queue_err_t insert_message(sqlite3 *db, const char *queue,
                                      const qconf_t *conf,
                                      const evb_queue_send_t *m,
                                      evb_queue_sent_t *sent, char *errstr,
                                      size_t errstr_size) {
    evb_queue_err_t e =
        evb_queue_check_send(m, (size_t)conf->max_size, errstr, errstr_size);
    if (e)
        return e;
    evb_queue_sent_t s;
    if (evb_uuid_v4(s.message_id) != EVB_ERR_OK)
        return qerr(EVB_QUEUE_ERR_IO, errstr, errstr_size,
                    "cannot make a message id");
    evb_queue_md5_hex(m->body, m->body_len, s.md5_body);
    e = evb_queue_md5_of_attrs(m->attrs, m->n_attrs, s.md5_attrs);
    if (e)
        return e;
    bool nomem;
    char *attrs = attrs_to_json(m->attrs, m->n_attrs, &nomem);
    if (m->n_attrs && nomem)
        return EVB_QUEUE_ERR_NOMEM;
    int64_t now = now_ms();
    int64_t delay = m->delay_s >= 0 ? m->delay_s : conf->delay_s;
    sqlite3_stmt *st;
    if (!prepare(db,
                 "INSERT INTO queue_messages(queue, message_id, body, "
                 "body_md5, attributes, attributes_md5, sent_ms, "
                 "visible_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                 &st)) {
        free(attrs);
        return sqlerr(db, "sending a message", errstr, errstr_size);
    }
    bind_str(st, 1, queue);
    bind_str(st, 2, s.message_id);
    sqlite3_bind_text(st, 3, m->body, (int)m->body_len, SQLITE_STATIC);
    bind_str(st, 4, s.md5_body);
    bind_str(st, 5, attrs);
    bind_str(st, 6, s.md5_attrs[0] ? s.md5_attrs : NULL);
    sqlite3_bind_int64(st, 7, now);
    sqlite3_bind_int64(st, 8, now + delay * 1000);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(attrs);
    if (rc != SQLITE_DONE)
        return sqlerr(db, "sending a message", errstr, errstr_size);
    if (sent)
        *sent = s;
    return EVB_QUEUE_ERR_OK;
}

typedef struct send_unit {
    unit_base_t base;
    const char *name;
    const evb_queue_send_t *msgs;
    size_t n;
    evb_queue_sent_t *sent;
} send_unit_t;

static evb_err_t send_fn(sqlite3 *db, void *arg, char *errstr,
                         size_t errstr_size) {
    send_unit_t *u = arg;
    json_t *attrs;
    evb_queue_err_t e =
        need_queue(db, u->name, &attrs, NULL, NULL, errstr, errstr_size);
    if (e)
        return unit_fail(&u->base, e);
    qconf_t conf;
    qconf_from(attrs, &conf);
    json_decref(attrs);
    for (size_t i = 0; i < u->n && !e; i++)
        e = insert_message(db, u->name, &conf, &u->msgs[i], &u->sent[i],
                           errstr, errstr_size);
    return unit_fail(&u->base, e);
}

evb_queue_err_t evb_queue_send(evb_queue_service_t *svc, const char *name,
                               const evb_queue_send_t *msgs, size_t n,
                               evb_queue_sent_t *sent, char *errstr,
                               size_t errstr_size) {
    send_unit_t u = {{EVB_QUEUE_ERR_OK}, name, msgs, n, sent};
    evb_queue_err_t e = unit_result(
        &u.base, evb_store_write(svc->store, send_fn, &u, errstr, errstr_size));
    if (!e)
        evb_queue_service_notify(svc);
    return e;
}

evb_queue_err_t evb_queue_send_from_target(sqlite3 *db, const char *queue_arn,
                                           const char *body, size_t body_len,
                                           const evb_queue_msg_attr_t *attrs,
                                           size_t n_attrs,
                                           evb_queue_sent_t *sent,
                                           char *errstr, size_t errstr_size) {
    bool found;
    json_t *qattrs;
    char name[EVB_QUEUE_NAME_MAX + 1];
    evb_queue_err_t e = load_queue(db, NULL, queue_arn, &found, &qattrs, name,
                                   sizeof name, NULL, NULL, errstr,
                                   errstr_size);
    if (e)
        return e;
    if (!found)
        return not_found(errstr, errstr_size);
    qconf_t conf;
    qconf_from(qattrs, &conf);
    json_decref(qattrs);
    evb_queue_send_t m = {body, body_len, attrs, n_attrs, -1};
    return insert_message(db, name, &conf, &m, sent, errstr, errstr_size);
}

/* ---- receive ----------------------------------------------------------- */

/* Receipt handles: "EVB1-" + 16 hex digits of seq + "-" + 32 random hex. */
#define HANDLE_LEN (5 + 16 + 1 + 32)

static bool handle_well_formed(const char *h) {
    if (strlen(h) != HANDLE_LEN || strncmp(h, "EVB1-", 5) != 0 ||
        h[21] != '-')
        return false;
    for (size_t i = 5; i < HANDLE_LEN; i++)
        if (i != 21 && !strchr("0123456789abcdef", h[i]))
            return false;
    return true;
}

static bool make_handle(int64_t seq, char out[HANDLE_LEN + 1]) {
    char u1[37], u2[37];
    if (evb_uuid_v4(u1) || evb_uuid_v4(u2))
        return false;
    char r[33];
    size_t k = 0;
    for (size_t i = 0; i < 36 && k < 32; i++) {
        char c = i < 36 ? u1[i] : '0';
        if (c != '-')
            r[k++] = c;
    }
    /* a v4 UUID has 6 fixed bits; mix in the second one */
    for (size_t i = 0, j = 0; i < 36 && j < 8; i++)
        if (u2[i] != '-')
            r[j++] = u2[i];
    r[32] = '\0';
    snprintf(out, HANDLE_LEN + 1, "EVB1-%016" PRIx64 "-%s", (uint64_t)seq, r);
    return true;
}

/* Does this message attribute name match the requested names? */
static bool attr_requested(const evb_queue_receive_t *r, const char *name) {
    for (size_t i = 0; i < r->n_attr_names; i++) {
        const char *w = r->attr_names[i];
        size_t wl = strlen(w);
        if (strcmp(w, "All") == 0 || strcmp(w, ".*") == 0 ||
            strcmp(w, name) == 0)
            return true;
        if (wl > 2 && strcmp(w + wl - 2, ".*") == 0 &&
            strncmp(w, name, wl - 1) == 0)
            return true;
    }
    return false;
}

/* Fill m's attrs_json and md5_attrs with the requested subset of the
 * stored attributes. */
static evb_queue_err_t select_attrs(const evb_queue_receive_t *r,
                                    const char *stored, evb_arena_t *arena,
                                    evb_queue_message_t *m) {
    m->attrs_json = NULL;
    m->md5_attrs[0] = '\0';
    if (!stored || r->n_attr_names == 0)
        return EVB_QUEUE_ERR_OK;
    json_t *o = json_loads(stored, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return EVB_QUEUE_ERR_OK;
    }
    json_t *keep = json_object();
    size_t n = json_object_size(o);
    evb_queue_msg_attr_t *list = evb_arena_calloc(arena, n ? n : 1,
                                                  sizeof *list);
    evb_queue_err_t e = keep && list ? EVB_QUEUE_ERR_OK : EVB_QUEUE_ERR_NOMEM;
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (e || !attr_requested(r, key))
            continue;
        json_object_set(keep, key, v);
        evb_queue_msg_attr_t *a = &list[k++];
        a->name = evb_arena_strndup(arena, key, strlen(key));
        const char *dt = json_string_value(json_object_get(v, "DataType"));
        a->data_type = evb_arena_strndup(arena, dt ? dt : "", dt ? strlen(dt)
                                                                 : 0);
        json_t *bv = json_object_get(v, "BinaryValue");
        if (json_is_string(bv)) {
            char *raw;
            a->binary = true;
            if (!evb_queue_base64_decode(arena, json_string_value(bv),
                                         json_string_length(bv), &raw,
                                         &a->value_len))
                raw = NULL;
            a->value = raw;
        } else {
            json_t *sv = json_object_get(v, "StringValue");
            a->value_len = json_string_length(sv);
            a->value = evb_arena_strndup(arena, json_string_value(sv)
                                                    ? json_string_value(sv)
                                                    : "",
                                         a->value_len);
        }
        if (!a->name || !a->data_type || !a->value)
            e = EVB_QUEUE_ERR_NOMEM;
    }
    if (!e && k) {
        e = evb_queue_md5_of_attrs(list, k, m->md5_attrs);
        char *text = e ? NULL : json_dumps(keep, JSON_COMPACT | JSON_SORT_KEYS);
        if (!e && !text)
            e = EVB_QUEUE_ERR_NOMEM;
        if (text) {
            m->attrs_json = evb_arena_strndup(arena, text, strlen(text));
            if (!m->attrs_json)
                e = EVB_QUEUE_ERR_NOMEM;
            free(text);
        }
    }
    json_decref(keep);
    json_decref(o);
    return e;
}

typedef struct recv_unit {
    unit_base_t base;
    const char *name;
    const evb_queue_receive_t *r;
    evb_arena_t *arena;
    /* out */
    qconf_t conf;
    bool any_visible;
    int64_t next_visible_ms; /* earliest future visibility; 0: none */
    evb_queue_message_t *msgs;
    size_t n;
    bool dlq_moved; /* messages went to a dead-letter queue */
} recv_unit_t;

/* Read: the queue's configuration and whether anything is visible. */
static evb_err_t peek_fn(sqlite3 *db, void *arg, char *errstr,
                         size_t errstr_size) {
    recv_unit_t *u = arg;
    json_t *attrs;
    evb_queue_err_t e =
        need_queue(db, u->name, &attrs, NULL, NULL, errstr, errstr_size);
    if (e)
        return unit_fail(&u->base, e);
    qconf_from(attrs, &u->conf);
    json_decref(attrs);
    sqlite3_stmt *st;
    if (!prepare(db,
                 "SELECT (SELECT 1 FROM queue_messages WHERE queue = ?1 AND "
                 "visible_at_ms <= ?2 LIMIT 1), (SELECT min(visible_at_ms) "
                 "FROM queue_messages WHERE queue = ?1 AND visible_at_ms > ?2)",
                 &st))
        return unit_fail(&u->base,
                         sqlerr(db, "receiving", errstr, errstr_size));
    bind_str(st, 1, u->name);
    sqlite3_bind_int64(st, 2, now_ms());
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        u->any_visible = sqlite3_column_type(st, 0) != SQLITE_NULL;
        u->next_visible_ms = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return unit_fail(&u->base,
                         sqlerr(db, "receiving", errstr, errstr_size));
    return EVB_ERR_OK;
}

static evb_err_t take_fn(sqlite3 *db, void *arg, char *errstr,
                         size_t errstr_size) {
    recv_unit_t *u = arg;
    const evb_queue_receive_t *r = u->r;
    int64_t now = now_ms();
    int64_t vis = r->visibility_s >= 0 ? r->visibility_s : u->conf.visibility_s;
    char dlq_name[EVB_QUEUE_NAME_MAX + 1] = "";
    if (u->conf.dlq_arn[0]) {
        bool found;
        json_t *a;
        evb_queue_err_t e =
            load_queue(db, NULL, u->conf.dlq_arn, &found, &a, dlq_name,
                       sizeof dlq_name, NULL, NULL, errstr, errstr_size);
        json_decref(a);
        if (e)
            return unit_fail(&u->base, e);
        if (!found)
            dlq_name[0] = '\0';
    }
    sqlite3_stmt *expire = NULL, *sel = NULL, *upd = NULL, *move = NULL;
    bool ok = prepare(db,
                      "DELETE FROM queue_messages WHERE queue = ?1 AND "
                      "sent_ms < ?2",
                      &expire) &&
              prepare(db,
                      "SELECT seq, message_id, body, body_md5, attributes, "
                      "sent_ms, receive_count, first_receive_ms FROM "
                      "queue_messages WHERE queue = ?1 AND visible_at_ms <= "
                      "?2 ORDER BY visible_at_ms, seq LIMIT ?3",
                      &sel) &&
              prepare(db,
                      "UPDATE queue_messages SET receive_count = "
                      "receive_count + 1, first_receive_ms = "
                      "coalesce(first_receive_ms, ?2), visible_at_ms = ?3, "
                      "receipt_handle = ?4 WHERE seq = ?1",
                      &upd) &&
              prepare(db,
                      "UPDATE queue_messages SET queue = ?2, visible_at_ms = "
                      "?3, receive_count = 0, first_receive_ms = NULL, "
                      "receipt_handle = NULL, sent_ms = ?3 WHERE seq = ?1",
                      &move);
    int rc = SQLITE_DONE;
    evb_queue_err_t e = EVB_QUEUE_ERR_OK;
    if (ok) {
        bind_str(expire, 1, u->name);
        sqlite3_bind_int64(expire, 2, now - u->conf.retention_s * 1000);
        ok = sqlite3_step(expire) == SQLITE_DONE;
    }
    u->msgs = ok ? evb_arena_calloc(u->arena, (size_t)r->max_messages,
                                    sizeof *u->msgs)
                 : NULL;
    if (ok && !u->msgs)
        e = EVB_QUEUE_ERR_NOMEM;
    if (ok && !e) {
        bind_str(sel, 1, u->name);
        sqlite3_bind_int64(sel, 2, now);
        /* read a few more than wanted: some may go to the DLQ */
        sqlite3_bind_int64(sel, 3, r->max_messages + 16);
        while (!e && u->n < (size_t)r->max_messages &&
               (rc = sqlite3_step(sel)) == SQLITE_ROW) {
            int64_t seq = sqlite3_column_int64(sel, 0);
            int64_t count = sqlite3_column_int64(sel, 6);
            if (dlq_name[0] && count >= u->conf.max_receive) {
                sqlite3_reset(move);
                sqlite3_bind_int64(move, 1, seq);
                bind_str(move, 2, dlq_name);
                sqlite3_bind_int64(move, 3, now);
                if (sqlite3_step(move) != SQLITE_DONE) {
                    rc = SQLITE_ERROR;
                    break;
                }
                u->dlq_moved = true;
                continue;
            }
            evb_queue_message_t *m = &u->msgs[u->n];
            char handle[HANDLE_LEN + 1];
            if (!make_handle(seq, handle)) {
                e = EVB_QUEUE_ERR_IO;
                break;
            }
            const char *id = (const char *)sqlite3_column_text(sel, 1);
            snprintf(m->message_id, sizeof m->message_id, "%s", id ? id : "");
            m->receipt_handle = evb_arena_strndup(u->arena, handle, HANDLE_LEN);
            m->body_len = (size_t)sqlite3_column_bytes(sel, 2);
            const char *body = (const char *)sqlite3_column_text(sel, 2);
            m->body = evb_arena_strndup(u->arena, body ? body : "",
                                        m->body_len);
            const char *md5 = (const char *)sqlite3_column_text(sel, 3);
            snprintf(m->md5_body, sizeof m->md5_body, "%s", md5 ? md5 : "");
            m->sent_ms = sqlite3_column_int64(sel, 5);
            m->receive_count = count + 1;
            m->first_receive_ms = sqlite3_column_type(sel, 7) == SQLITE_NULL
                                      ? now
                                      : sqlite3_column_int64(sel, 7);
            if (!m->receipt_handle || !m->body) {
                e = EVB_QUEUE_ERR_NOMEM;
                break;
            }
            e = select_attrs(r, (const char *)sqlite3_column_text(sel, 4),
                             u->arena, m);
            if (e)
                break;
            sqlite3_reset(upd);
            sqlite3_bind_int64(upd, 1, seq);
            sqlite3_bind_int64(upd, 2, now);
            sqlite3_bind_int64(upd, 3, now + vis * 1000);
            bind_str(upd, 4, handle);
            if (sqlite3_step(upd) != SQLITE_DONE) {
                rc = SQLITE_ERROR;
                break;
            }
            u->n++;
        }
    }
    sqlite3_finalize(expire);
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    sqlite3_finalize(move);
    if (e)
        return unit_fail(&u->base, e);
    if (!ok || (rc != SQLITE_ROW && rc != SQLITE_DONE))
        return unit_fail(&u->base,
                         sqlerr(db, "receiving messages", errstr, errstr_size));
    return EVB_ERR_OK;
}

static struct timespec mono_after_ms(int64_t ms) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

evb_queue_err_t evb_queue_receive(evb_queue_service_t *svc, const char *name,
                                  const evb_queue_receive_t *r,
                                  evb_arena_t *arena,
                                  evb_queue_message_t **msgs, size_t *n,
                                  char *errstr, size_t errstr_size) {
    *msgs = NULL;
    *n = 0;
    if (r->max_messages < 1 || r->max_messages > EVB_QUEUE_MAX_RECEIVE)
        return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                    "Value %d for parameter MaxNumberOfMessages is invalid. "
                    "Reason: Must be between 1 and 10, if provided.",
                    r->max_messages);
    if (r->wait_s > EVB_QUEUE_MAX_WAIT_S)
        return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                    "Value %d for parameter WaitTimeSeconds is invalid. "
                    "Reason: Must be >= 0 and <= 20, if provided.",
                    r->wait_s);
    if (r->visibility_s > 43200)
        return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                    "Value %d for parameter VisibilityTimeout is invalid. "
                    "Reason: Must be >= 0 and <= 43200, if provided.",
                    r->visibility_s);
    int64_t deadline_mono_ms = -1; /* set after the first peek */
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int64_t start_ms = (int64_t)start.tv_sec * 1000 + start.tv_nsec / 1000000;
    for (;;) {
        pthread_mutex_lock(&svc->mu);
        uint64_t gen = svc->gen;
        bool stopping = svc->stopping;
        pthread_mutex_unlock(&svc->mu);

        recv_unit_t u = {.base = {EVB_QUEUE_ERR_OK},
                         .name = name,
                         .r = r,
                         .arena = arena};
        evb_queue_err_t e = unit_result(
            &u.base,
            evb_store_read(svc->store, peek_fn, &u, errstr, errstr_size));
        if (e)
            return e;
        if (deadline_mono_ms < 0) {
            int64_t wait = r->wait_s >= 0 ? r->wait_s : u.conf.wait_s;
            if (wait > EVB_QUEUE_MAX_WAIT_S)
                wait = EVB_QUEUE_MAX_WAIT_S;
            deadline_mono_ms = start_ms + wait * 1000;
        }
        if (u.any_visible) {
            e = unit_result(&u.base, evb_store_write(svc->store, take_fn, &u,
                                                     errstr, errstr_size));
            if (e)
                return e;
            if (u.n > 0) {
                *msgs = u.msgs;
                *n = u.n;
                return EVB_QUEUE_ERR_OK;
            }
            if (u.dlq_moved)
                evb_queue_service_notify(svc);
            continue; /* all went to the DLQ (or raced away): look again */
        }
        struct timespec nowts;
        clock_gettime(CLOCK_MONOTONIC, &nowts);
        int64_t mono_now =
            (int64_t)nowts.tv_sec * 1000 + nowts.tv_nsec / 1000000;
        int64_t left = deadline_mono_ms - mono_now;
        if (left <= 0 || stopping)
            return EVB_QUEUE_ERR_OK;
        if (u.next_visible_ms > 0) {
            int64_t until = u.next_visible_ms - now_ms() + 1;
            if (until < left)
                left = until < 1 ? 1 : until;
        }
        struct timespec at = mono_after_ms(left);
        pthread_mutex_lock(&svc->mu);
        while (svc->gen == gen && !svc->stopping) {
            if (pthread_cond_timedwait(&svc->cv, &svc->mu, &at) == ETIMEDOUT)
                break;
        }
        pthread_mutex_unlock(&svc->mu);
    }
}

/* ---- delete, change visibility ----------------------------------------- */

typedef struct handle_unit {
    unit_base_t base;
    const char *name, *handle;
    int visibility_s; /* < 0: delete */
} handle_unit_t;

static evb_err_t handle_fn(sqlite3 *db, void *arg, char *errstr,
                           size_t errstr_size) {
    handle_unit_t *u = arg;
    json_t *attrs;
    evb_queue_err_t e =
        need_queue(db, u->name, &attrs, NULL, NULL, errstr, errstr_size);
    json_decref(attrs);
    if (e)
        return unit_fail(&u->base, e);
    sqlite3_stmt *st;
    int64_t now = now_ms();
    if (u->visibility_s < 0) {
        if (!prepare(db,
                     "DELETE FROM queue_messages WHERE queue = ?1 AND "
                     "receipt_handle = ?2",
                     &st))
            return unit_fail(&u->base,
                             sqlerr(db, "deleting", errstr, errstr_size));
        bind_str(st, 1, u->name);
        bind_str(st, 2, u->handle);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return unit_fail(&u->base,
                             sqlerr(db, "deleting", errstr, errstr_size));
        return EVB_ERR_OK;
    }
    if (!prepare(db,
                 "SELECT seq, visible_at_ms FROM queue_messages WHERE queue = "
                 "?1 AND receipt_handle = ?2",
                 &st))
        return unit_fail(&u->base, sqlerr(db, "changing visibility", errstr,
                                          errstr_size));
    bind_str(st, 1, u->name);
    bind_str(st, 2, u->handle);
    int rc = sqlite3_step(st);
    int64_t seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int64_t visible_at = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return unit_fail(
            &u->base,
            qerr(EVB_QUEUE_ERR_RECEIPT_HANDLE_INVALID, errstr, errstr_size,
                 "Value %s for parameter ReceiptHandle is invalid. Reason: "
                 "The receipt handle has expired.",
                 u->handle));
    if (rc != SQLITE_ROW)
        return unit_fail(&u->base, sqlerr(db, "changing visibility", errstr,
                                          errstr_size));
    if (visible_at <= now)
        return unit_fail(&u->base,
                         qerr(EVB_QUEUE_ERR_MESSAGE_NOT_INFLIGHT, errstr,
                              errstr_size,
                              "The message referred to isn't in flight."));
    if (!prepare(db,
                 "UPDATE queue_messages SET visible_at_ms = ?2 WHERE seq = ?1",
                 &st))
        return unit_fail(&u->base, sqlerr(db, "changing visibility", errstr,
                                          errstr_size));
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, now + (int64_t)u->visibility_s * 1000);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return unit_fail(&u->base, sqlerr(db, "changing visibility", errstr,
                                          errstr_size));
    return EVB_ERR_OK;
}

static evb_queue_err_t bad_handle(const char *h, char *errstr,
                                  size_t errstr_size) {
    return qerr(EVB_QUEUE_ERR_RECEIPT_HANDLE_INVALID, errstr, errstr_size,
                "The input receipt handle \"%.100s\" is not a valid receipt "
                "handle.",
                h);
}

evb_queue_err_t evb_queue_delete_message(evb_queue_service_t *svc,
                                         const char *name,
                                         const char *receipt_handle,
                                         char *errstr, size_t errstr_size) {
    if (!handle_well_formed(receipt_handle))
        return bad_handle(receipt_handle, errstr, errstr_size);
    handle_unit_t u = {{EVB_QUEUE_ERR_OK}, name, receipt_handle, -1};
    return unit_result(&u.base, evb_store_write(svc->store, handle_fn, &u,
                                                errstr, errstr_size));
}

evb_queue_err_t evb_queue_change_visibility(evb_queue_service_t *svc,
                                            const char *name,
                                            const char *receipt_handle,
                                            int visibility_s, char *errstr,
                                            size_t errstr_size) {
    if (visibility_s < 0 || visibility_s > 43200)
        return qerr(EVB_QUEUE_ERR_INVALID_PARAMETER, errstr, errstr_size,
                    "Value %d for parameter VisibilityTimeout is invalid. "
                    "Reason: Must be >= 0 and <= 43200, if provided.",
                    visibility_s);
    if (!handle_well_formed(receipt_handle))
        return bad_handle(receipt_handle, errstr, errstr_size);
    handle_unit_t u = {{EVB_QUEUE_ERR_OK}, name, receipt_handle,
                       visibility_s};
    evb_queue_err_t e = unit_result(
        &u.base, evb_store_write(svc->store, handle_fn, &u, errstr,
                                 errstr_size));
    if (!e && visibility_s == 0)
        evb_queue_service_notify(svc);
    return e;
}
