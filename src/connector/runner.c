/*
 * runner.c: the connector's loop.
 *
 * A cycle:
 *   1. poll up to evbus.poll.max.records records (waiting at most
 *      evbus.poll.wait.ms for more once the first arrived);
 *   2. map each to a PutEvents entry (a record that does not convert, or
 *      whose entry is larger than evbus.batch.max.bytes, has failed);
 *   3. pack the entries into batches (at most 10 entries within the size
 *      limit) and send them, evbus.max.in.flight calls at once. A call
 *      that fails as a whole (network, timeout, 5xx, throttling, other
 *      4xx) is retried with exponential backoff and jitter; of a call that
 *      succeeded, the entries that failed with ThrottlingException or
 *      InternalFailure are retried the same way and the other failed
 *      entries have failed for good; a 413 splits the batch into single
 *      entries, and a single entry that gets 413 has failed. When a
 *      batch's retries run out (aws.eventbridge.retries.max) the task
 *      fails;
 *   4. failed records: with errors.tolerance=none the task fails; with
 *      all they are produced to the dead-letter topic (with the error
 *      headers; the producer's delivery reports are awaited) or, without
 *      one, logged and skipped;
 *   5. commit, for each partition, the offset after the last record that
 *      is settled (sent, dead-lettered or skipped) with nothing unsettled
 *      before it.
 * When the task fails or is stopped midway, step 5 still runs for what
 * was settled, so a restart re-reads exactly the records not settled:
 * nothing is lost, and what a restart sends again is at most one cycle.
 *
 * Nothing sleeps after a success; a retry waits base * 2^(n-1) (capped)
 * times a random factor between 0.5 and 1.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "connector_internal.h"

#define PARTIAL_FAILURE                                                        \
    "software.amazon.event.kafkaconnector.exceptions."                         \
    "EventBridgePartialFailureResponse"
#define EB_EXCEPTION                                                           \
    "software.amazon.awssdk.services.eventbridge.model.EventBridgeException"
#define MAX_HEADERS_ADDED 10

typedef enum {
    RS_PENDING,
    RS_OK,      /* accepted by PutEvents */
    RS_FAILED,  /* failed for good, to dead-letter or stop on */
    RS_DEAD,    /* dead-lettered */
    RS_SKIPPED, /* failed, tolerated, no dead-letter topic */
} rstate_t;

typedef struct rec {
    evb_kafka_msg_t *msg;
    size_t off, len, size; /* the entry in k->entries, its EB size */
    rstate_t state;
    evb_connector_failure_t *why; /* when failed */
} rec_t;

typedef struct batch {
    size_t *idx; /* records still to send */
    size_t n;
    unsigned attempt; /* calls made */
    uint64_t next_at; /* monotonic ns */
    bool in_flight, done;
} batch_t;

struct evb_connector {
    const evb_connector_config_t *cfg;
    evb_connector_mapper_t *mapper;
    evb__pe_client_t *pe;
    evb_connector_credentials_t creds;
    bool has_creds;
    evb_kafka_consumer_t *consumer;
    evb_kafka_producer_t *dlq;
    volatile sig_atomic_t stop;
    evb_connector_stats_t stats;
    uint64_t rng;
    uint64_t last_stats;
    /* the cycle */
    rec_t *recs;
    size_t nrecs, cap;
    evb_buf_t entries, body;
    evb_kafka_header_t *hdrs;
    size_t hcap;
    batch_t *batches;
    size_t nbatches, bcap;
    /* dead-letter reports (from the producer's thread) */
    pthread_mutex_t mu;
    size_t dlq_pending, dlq_failed;
    char dlq_error[300];
};

/* ---- logging ------------------------------------------------------------- */

static void logf_(const evb_connector_t *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void logf_(const evb_connector_t *k, const char *fmt, ...) {
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "evbus connector: %s: %s\n", k->cfg->name, line);
}

static void log_stats(evb_connector_t *k) {
    const evb_connector_stats_t *s = &k->stats;
    logf_(k,
          "records=%" PRIu64 " sent=%" PRIu64 " dead-lettered=%" PRIu64
          " skipped=%" PRIu64 " requests=%" PRIu64 " retries=%" PRIu64
          " commits=%" PRIu64,
          s->records, s->sent, s->dead_lettered, s->skipped, s->requests,
          s->retries, s->commits);
}

/* ---- setup --------------------------------------------------------------- */

evb_err_t evb_connector_new(const evb_connector_config_t *c,
                            evb_connector_t **out, char *errstr,
                            size_t errstr_size) {
    *out = NULL;
    evb_connector_t *k = calloc(1, sizeof *k);
    if (!k)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    k->cfg = c;
    pthread_mutex_init(&k->mu, NULL);
    evb_buf_init(&k->entries, SIZE_MAX / 2);
    evb_buf_init(&k->body, 64u << 20);
    if (getrandom(&k->rng, sizeof k->rng, 0) != sizeof k->rng)
        k->rng = evb_now_ns() ^ (uint64_t)getpid();
    k->rng |= 1;
    evb_err_t err =
        evb_connector_mapper_new(c, &k->mapper, errstr, errstr_size);
    if (err)
        goto fail;
    char why[400];
    err = evb_connector_credentials_find(evb__cfg_str(c, P_PROFILE), &k->creds,
                                         why, sizeof why);
    if (err == EVB_ERR_OK) {
        k->has_creds = true;
    } else if (err == EVB_ERR_NOT_FOUND) {
        if (!*evb__cfg_str(c, P_ENDPOINT)) {
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "no AWS credentials (environment, or the "
                              "shared credentials file) for Amazon "
                              "EventBridge");
            goto fail;
        }
    } else {
        err = evb_err_set(err, errstr, errstr_size, "%s", why);
        goto fail;
    }
    evb__pe_client_config_t pc = {
        .endpoint = evb__cfg_str(c, P_ENDPOINT),
        .region = evb__cfg_str(c, P_REGION),
        .creds = k->has_creds ? &k->creds : NULL,
        .timeout_ms = evb__cfg_int(c, P_REQUEST_TIMEOUT),
        .max_in_flight = (unsigned)evb__cfg_int(c, P_MAX_IN_FLIGHT),
    };
    if ((err = evb__pe_client_new(&pc, &k->pe, errstr, errstr_size)))
        goto fail;
    if (*evb__cfg_str(c, P_DLQ_TOPIC) &&
        (err = evb_kafka_producer_new(c->producer, "connector-dlq", &k->dlq,
                                      errstr, errstr_size)))
        goto fail;
    *out = k;
    return EVB_ERR_OK;
fail:
    evb_connector_free(k);
    return err;
}

void evb_connector_stop(evb_connector_t *k) {
    k->stop = 1;
}

void evb_connector_get_stats(const evb_connector_t *k,
                             evb_connector_stats_t *out) {
    *out = k->stats;
}

static void cycle_reset(evb_connector_t *k) {
    for (size_t i = 0; i < k->nrecs; i++) {
        evb_kafka_msg_free(k->recs[i].msg);
        free(k->recs[i].why);
    }
    k->nrecs = 0;
    for (size_t i = 0; i < k->nbatches; i++)
        free(k->batches[i].idx);
    k->nbatches = 0;
    evb_buf_reset(&k->entries);
}

void evb_connector_free(evb_connector_t *k) {
    if (!k)
        return;
    cycle_reset(k);
    free(k->recs);
    free(k->batches);
    free(k->hdrs);
    evb_kafka_consumer_free(k->consumer);
    evb_kafka_producer_free(k->dlq);
    evb__pe_client_free(k->pe);
    evb_connector_mapper_free(k->mapper);
    evb_buf_free(&k->entries);
    evb_buf_free(&k->body);
    pthread_mutex_destroy(&k->mu);
    memset(&k->creds, 0, sizeof k->creds);
    free(k);
}

/* ---- helpers ------------------------------------------------------------- */

static uint64_t rnd(evb_connector_t *k) {
    k->rng ^= k->rng << 13;
    k->rng ^= k->rng >> 7;
    k->rng ^= k->rng << 17;
    return k->rng;
}

/* The delay before retry n (1-based), in ms. */
static uint64_t backoff_ms(evb_connector_t *k, unsigned n) {
    uint64_t base = (uint64_t)evb__cfg_int(k->cfg, P_RETRIES_DELAY);
    uint64_t cap = (uint64_t)evb__cfg_int(k->cfg, P_RETRIES_DELAY_MAX);
    uint64_t d = base;
    for (unsigned i = 1; i < n && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    if (d < 2)
        return d;
    return d / 2 + rnd(k) % (d / 2 + 1);
}

static bool retries_left(const evb_connector_t *k, unsigned calls_made) {
    long max = evb__cfg_int(k->cfg, P_RETRIES_MAX);
    return max < 0 || calls_made <= (unsigned long)max;
}

static void sleep_ms(evb_connector_t *k, uint64_t ms) {
    uint64_t end = evb_now_ns() + ms * 1000000u;
    while (!k->stop) {
        uint64_t now = evb_now_ns();
        if (now >= end)
            break;
        uint64_t left = (end - now) / 1000000u;
        if (left > 100)
            left = 100;
        struct timespec ts = {0, (long)(left ? left : 1) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void set_failure(rec_t *r, const char *stage, const char *class_name,
                        const char *exception, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void set_failure(rec_t *r, const char *stage, const char *class_name,
                        const char *exception, const char *fmt, ...) {
    r->state = RS_FAILED;
    if (!r->why && !(r->why = calloc(1, sizeof *r->why)))
        return;
    r->why->stage = stage;
    r->why->class_name = class_name;
    r->why->exception = exception;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why->message, sizeof r->why->message, fmt, ap);
    va_end(ap);
}

static const char *why_text(const rec_t *r) {
    return r->why ? r->why->message : "out of memory";
}

/* ---- 1. poll ------------------------------------------------------------- */

static evb_err_t poll_cycle(evb_connector_t *k, char *errstr,
                            size_t errstr_size) {
    size_t max = (size_t)evb__cfg_int(k->cfg, P_POLL_MAX_RECORDS);
    uint64_t wait_ns = (uint64_t)evb__cfg_int(k->cfg, P_POLL_WAIT) * 1000000u;
    uint64_t deadline = 0;
    while (!k->stop && k->nrecs < max) {
        int timeout = 200;
        if (k->nrecs) {
            uint64_t now = evb_now_ns();
            if (now >= deadline)
                break;
            timeout = (int)((deadline - now) / 1000000u);
        }
        evb_kafka_msg_t *m = NULL;
        char why[400];
        evb_err_t err =
            evb_kafka_consumer_poll(k->consumer, timeout, &m, why, sizeof why);
        if (err == EVB_ERR_IO) {
            logf_(k, "%s", why);
            if (!k->nrecs)
                sleep_ms(k, 100);
            continue;
        }
        if (err)
            return evb_err_set(err, errstr, errstr_size, "%s", why);
        if (!m) {
            if (!k->nrecs)
                return EVB_ERR_OK; /* idle: let the caller look around */
            continue;
        }
        if (k->nrecs == k->cap) {
            size_t nc = k->cap ? k->cap * 2 : 64;
            rec_t *nr = realloc(k->recs, nc * sizeof *nr);
            if (!nr) {
                evb_kafka_msg_free(m);
                return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                                   "out of memory");
            }
            k->recs = nr;
            k->cap = nc;
        }
        if (!k->nrecs)
            deadline = evb_now_ns() + wait_ns;
        k->recs[k->nrecs++] = (rec_t){.msg = m, .state = RS_PENDING};
        k->stats.records++;
    }
    return EVB_ERR_OK;
}

/* ---- 2. map -------------------------------------------------------------- */

static evb_err_t record_of(evb_connector_t *k, const evb_kafka_msg_t *m,
                           evb_connector_record_t *r) {
    size_t nh = evb_kafka_msg_header_count(m);
    if (nh > k->hcap) {
        evb_kafka_header_t *h = realloc(k->hdrs, nh * sizeof *h);
        if (!h)
            return EVB_ERR_NOMEM;
        k->hdrs = h;
        k->hcap = nh;
    }
    size_t got = 0;
    for (size_t i = 0; i < nh; i++)
        if (evb_kafka_msg_header_at(m, i, &k->hdrs[got]))
            got++;
    *r = (evb_connector_record_t){
        .topic = m->topic,
        .partition = m->partition,
        .offset = m->offset,
        .timestamp_ms = m->timestamp_ms,
        .timestamp_type = evb_kafka_msg_timestamp_type(m),
        .key = m->key,
        .key_len = m->key_len,
        .value = m->value,
        .value_len = m->value_len,
        .headers = k->hdrs,
        .nheaders = got,
    };
    return EVB_ERR_OK;
}

static evb_err_t map_cycle(evb_connector_t *k, char *errstr,
                           size_t errstr_size) {
    size_t max_bytes = (size_t)evb__cfg_int(k->cfg, P_BATCH_MAX_BYTES);
    for (size_t i = 0; i < k->nrecs; i++) {
        rec_t *r = &k->recs[i];
        evb_connector_record_t cr;
        if (record_of(k, r->msg, &cr))
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        evb_connector_failure_t why;
        size_t base = k->entries.len;
        unsigned attempt = 0;
        evb_err_t err;
        for (;;) {
            err =
                evb_connector_map(k->mapper, &cr, &k->entries, &r->size, &why);
            if (err != EVB_ERR_IO)
                break;
            /* the schema registry is down: wait for it like for
             * PutEvents, never dead-letter because of it */
            attempt++;
            if (!retries_left(k, attempt) || k->stop)
                return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                                   "%s [%d] offset %lld: %s%s", cr.topic,
                                   (int)cr.partition, (long long)cr.offset,
                                   why.message,
                                   k->stop ? "" : " (retries exhausted)");
            uint64_t d = backoff_ms(k, attempt);
            logf_(k, "%s; retry %u in %" PRIu64 " ms", why.message, attempt, d);
            sleep_ms(k, d);
        }
        if (err == EVB_ERR_NOMEM)
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        if (err) {
            set_failure(r, why.stage, why.class_name, why.exception, "%s",
                        why.message);
            continue;
        }
        r->off = base;
        r->len = k->entries.len - base;
        if (r->size > max_bytes)
            set_failure(r, "TASK_PUT", EVB__CONNECTOR_CLASS, EB_EXCEPTION,
                        "EventBridge batch size limit exceeded: the entry is "
                        "%zu bytes, the limit %zu",
                        r->size, max_bytes);
    }
    return EVB_ERR_OK;
}

/* ---- 3. send ------------------------------------------------------------- */

static batch_t *add_batch(evb_connector_t *k, const size_t *idx, size_t n) {
    if (k->nbatches == k->bcap) {
        size_t nc = k->bcap ? k->bcap * 2 : 64;
        batch_t *nb = realloc(k->batches, nc * sizeof *nb);
        if (!nb)
            return NULL;
        k->batches = nb;
        k->bcap = nc;
    }
    batch_t *b = &k->batches[k->nbatches];
    memset(b, 0, sizeof *b);
    if (!(b->idx = malloc(n * sizeof *b->idx)))
        return NULL;
    memcpy(b->idx, idx, n * sizeof *idx);
    b->n = n;
    k->nbatches++;
    return b;
}

static evb_err_t plan(evb_connector_t *k, char *errstr, size_t errstr_size) {
    size_t n = 0, nstopped = 0;
    const char **stopped_topic = NULL;
    int32_t *stopped_part = NULL;
    size_t *idx = malloc((k->nrecs + 1) * sizeof *idx);
    size_t *sizes = malloc((k->nrecs + 1) * sizeof *sizes);
    size_t *ends = malloc((k->nrecs + 1) * sizeof *ends);
    evb_err_t err = EVB_ERR_OK;
    if (!idx || !sizes || !ends) {
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto done;
    }
    /* With errors.tolerance=none a failed record stops the task: records
     * after it in its partition are not sent (they stay uncommitted). */
    if (!k->cfg->tolerance_all) {
        stopped_topic = malloc((k->nrecs + 1) * sizeof *stopped_topic);
        stopped_part = malloc((k->nrecs + 1) * sizeof *stopped_part);
        if (!stopped_topic || !stopped_part) {
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "out of memory");
            goto done;
        }
    }
    for (size_t i = 0; i < k->nrecs; i++) {
        const rec_t *r = &k->recs[i];
        bool blocked = false;
        for (size_t j = 0; j < nstopped && !blocked; j++)
            blocked = stopped_part[j] == r->msg->partition &&
                      strcmp(stopped_topic[j], r->msg->topic) == 0;
        if (blocked)
            continue;
        if (r->state == RS_FAILED && stopped_topic) {
            stopped_topic[nstopped] = r->msg->topic;
            stopped_part[nstopped++] = r->msg->partition;
        }
        if (r->state == RS_PENDING) {
            idx[n] = i;
            sizes[n++] = r->size;
        }
    }
    size_t nb = evb_connector_batch_plan(
        sizes, n, (size_t)evb__cfg_int(k->cfg, P_BATCH_MAX_ENTRIES),
        (size_t)evb__cfg_int(k->cfg, P_BATCH_MAX_BYTES), ends);
    size_t start = 0;
    for (size_t b = 0; b < nb; b++) {
        if (!add_batch(k, idx + start, ends[b] - start)) {
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "out of memory");
            goto done;
        }
        start = ends[b];
    }
done:
    free(idx);
    free(sizes);
    free(ends);
    free(stopped_topic);
    free(stopped_part);
    return err;
}

static evb_err_t start_batch(evb_connector_t *k, size_t bi, char *errstr,
                             size_t errstr_size) {
    batch_t *b = &k->batches[bi];
    evb_buf_reset(&k->body);
    evb_err_t err = evb_buf_append(&k->body, "{\"Entries\":[", 12);
    for (size_t i = 0; !err && i < b->n; i++) {
        const rec_t *r = &k->recs[b->idx[i]];
        if (i)
            err = evb_buf_putc(&k->body, ',');
        if (!err)
            err = evb_buf_append(&k->body, k->entries.data + r->off, r->len);
    }
    if (!err)
        err = evb_buf_append(&k->body, "]}", 2);
    if (err)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    err = evb__pe_start(k->pe, k->body.data, k->body.len, b->n,
                        (void *)(uintptr_t)bi, errstr, errstr_size);
    if (err)
        return err;
    b->in_flight = true;
    k->stats.requests++;
    if (b->attempt)
        k->stats.retries++;
    b->attempt++;
    return EVB_ERR_OK;
}

/* A batch (still holding its records to retry) failed as a call or in
 * part: schedule the retry, or fail the task. */
static evb_err_t retry_later(evb_connector_t *k, batch_t *b, const char *what,
                             char *errstr, size_t errstr_size) {
    if (!retries_left(k, b->attempt)) {
        const rec_t *r = &k->recs[b->idx[0]];
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "PutEvents failed %u times (aws.eventbridge."
                           "retries.max=%ld), last: %s; %zu record(s) from %s "
                           "[%d] offset %lld left uncommitted",
                           b->attempt, evb__cfg_int(k->cfg, P_RETRIES_MAX),
                           what, b->n, r->msg->topic, (int)r->msg->partition,
                           (long long)r->msg->offset);
    }
    uint64_t d = backoff_ms(k, b->attempt);
    b->next_at = evb_now_ns() + d * 1000000u;
    logf_(k, "PutEvents: %s; %zu entr%s retried in %" PRIu64 " ms (retry %u)",
          what, b->n, b->n == 1 ? "y" : "ies", d, b->attempt);
    return EVB_ERR_OK;
}

static evb_err_t settle(evb_connector_t *k, size_t bi,
                        const evb__pe_result_t *res, char *errstr,
                        size_t errstr_size) {
    batch_t *b = &k->batches[bi];
    b->in_flight = false;
    if (res->outcome == EVB__PE_RETRY)
        return retry_later(k, b, res->error, errstr, errstr_size);
    if (res->outcome == EVB__PE_TOO_LARGE) {
        if (b->n > 1) { /* split: one call per entry */
            size_t n = b->n;
            size_t *idx = b->idx;
            b->idx = NULL;
            b->n = 0;
            b->done = true;
            for (size_t i = 0; i < n; i++) {
                if (!add_batch(k, &idx[i], 1)) {
                    free(idx);
                    return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                                       "out of memory");
                }
            }
            free(idx);
            logf_(k, "PutEvents: %s; the %zu entries are sent one by one",
                  res->error, n);
            return EVB_ERR_OK;
        }
        set_failure(&k->recs[b->idx[0]], "TASK_PUT", EVB__CONNECTOR_CLASS,
                    EB_EXCEPTION, "EventBridge batch size limit exceeded: %s",
                    res->error);
        b->n = 0;
        b->done = true;
        return EVB_ERR_OK;
    }
    size_t keep = 0;
    const char *retry_code = NULL;
    for (size_t i = 0; i < b->n; i++) {
        rec_t *r = &k->recs[b->idx[i]];
        const evb__pe_entry_result_t *e = &res->entries[i];
        if (e->ok) {
            r->state = RS_OK;
            k->stats.sent++;
        } else if (e->retriable) {
            b->idx[keep++] = b->idx[i];
            retry_code = e->code;
        } else {
            set_failure(r, "TASK_PUT", EVB__CONNECTOR_CLASS, PARTIAL_FAILURE,
                        "errorMessage=%s: %s topic=%s partition=%d "
                        "offset=%lld",
                        e->code, e->message, r->msg->topic,
                        (int)r->msg->partition, (long long)r->msg->offset);
        }
    }
    b->n = keep;
    if (!keep) {
        b->done = true;
        return EVB_ERR_OK;
    }
    char what[120];
    snprintf(what, sizeof what, "%zu entr%s failed with %s", keep,
             keep == 1 ? "y" : "ies", retry_code);
    return retry_later(k, b, what, errstr, errstr_size);
}

/* Send every batch until done. On a task failure, calls in flight are
 * still waited for (their records may be settled). */
static evb_err_t send_cycle(evb_connector_t *k, char *errstr,
                            size_t errstr_size) {
    evb_err_t fatal = EVB_ERR_OK;
    unsigned slots = (unsigned)evb__cfg_int(k->cfg, P_MAX_IN_FLIGHT);
    for (;;) {
        bool stopping = k->stop || fatal;
        uint64_t now = evb_now_ns(), next = UINT64_MAX;
        bool pending = false;
        for (size_t i = 0; i < k->nbatches; i++) {
            batch_t *b = &k->batches[i];
            if (b->done || b->in_flight)
                continue;
            pending = true;
            if (stopping)
                continue;
            if (b->next_at > now) {
                if (b->next_at < next)
                    next = b->next_at;
                continue;
            }
            if (evb__pe_in_flight(k->pe) >= slots)
                break;
            evb_err_t err = start_batch(k, i, errstr, errstr_size);
            if (err) {
                fatal = err;
                stopping = true;
            }
        }
        if (!evb__pe_in_flight(k->pe)) {
            if (!pending || stopping)
                break;
            uint64_t ms = next == UINT64_MAX ? 10 : (next - now) / 1000000u;
            sleep_ms(k, ms ? ms : 1);
            continue;
        }
        int wait = 100;
        if (next != UINT64_MAX && !stopping) {
            uint64_t ms = next > now ? (next - now) / 1000000u : 0;
            if (ms < (uint64_t)wait)
                wait = (int)ms;
        }
        evb__pe_result_t res;
        void *tag;
        if (!evb__pe_wait(k->pe, wait, &res, &tag))
            continue;
        size_t bi = (size_t)(uintptr_t)tag;
        char why[600];
        evb_err_t err = settle(k, bi, &res, why, sizeof why);
        if (err && !fatal) {
            fatal = evb_err_set(err, errstr, errstr_size, "%s", why);
        }
    }
    return fatal;
}

/* ---- 4. failures --------------------------------------------------------- */

static void on_dlq_report(void *ud, const evb_kafka_report_t *r) {
    evb_connector_t *k = ud;
    pthread_mutex_lock(&k->mu);
    k->dlq_pending--;
    if (!r->ok) {
        k->dlq_failed++;
        snprintf(k->dlq_error, sizeof k->dlq_error, "%s: %s", r->code,
                 r->message);
    }
    pthread_mutex_unlock(&k->mu);
}

static evb_err_t dead_letter(evb_connector_t *k, rec_t *r, char *errstr,
                             size_t errstr_size) {
    const evb_kafka_msg_t *m = r->msg;
    size_t nh = evb_kafka_msg_header_count(m);
    evb_kafka_header_t *h = calloc(nh + MAX_HEADERS_ADDED, sizeof *h);
    if (!h)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < nh; i++)
        if (evb_kafka_msg_header_at(m, i, &h[n]))
            n++;
    char part[16], off[24];
    snprintf(part, sizeof part, "%d", (int)m->partition);
    snprintf(off, sizeof off, "%lld", (long long)m->offset);
    const evb_connector_failure_t *w = r->why;
    if (evb__cfg_int(k->cfg, P_DLQ_HEADERS) && w) {
        const char *kv[][2] = {
            {"__connect.errors.topic", m->topic},
            {"__connect.errors.partition", part},
            {"__connect.errors.offset", off},
            {"__connect.errors.connector.name", k->cfg->name},
            {"__connect.errors.task.id", "0"},
            {"__connect.errors.stage", w->stage},
            {"__connect.errors.class.name", w->class_name},
            {"__connect.errors.exception.class.name", w->exception},
            {"__connect.errors.exception.message", w->message},
        };
        for (size_t i = 0; i < EVB_ARRAY_LEN(kv); i++)
            h[n++] = (evb_kafka_header_t){kv[i][0], kv[i][1], strlen(kv[i][1])};
    }
    evb_kafka_out_msg_t om = {
        .topic = evb__cfg_str(k->cfg, P_DLQ_TOPIC),
        .partition = -1,
        .key = m->key,
        .key_len = m->key_len,
        .value = m->value,
        .value_len = m->value_len,
        .headers = h,
        .nheaders = n,
    };
    pthread_mutex_lock(&k->mu);
    k->dlq_pending++;
    pthread_mutex_unlock(&k->mu);
    evb_kafka_report_t why;
    evb_err_t err = evb_kafka_produce(k->dlq, &om, on_dlq_report, k, &why);
    free(h);
    if (err) {
        pthread_mutex_lock(&k->mu);
        k->dlq_pending--;
        pthread_mutex_unlock(&k->mu);
        return evb_err_set(err, errstr, errstr_size, "dead-letter topic %s: %s",
                           om.topic, why.message);
    }
    return EVB_ERR_OK;
}

static evb_err_t handle_failures(evb_connector_t *k, char *errstr,
                                 size_t errstr_size) {
    bool log_all = evb__cfg_int(k->cfg, P_ERRORS_LOG) != 0;
    size_t produced = 0;
    for (size_t i = 0; i < k->nrecs; i++) {
        rec_t *r = &k->recs[i];
        if (r->state != RS_FAILED)
            continue;
        const evb_kafka_msg_t *m = r->msg;
        if (!k->cfg->tolerance_all)
            return evb_err_set(
                EVB_ERR_INVALID_ARG, errstr, errstr_size,
                "%s [%d] offset %lld failed (%s): %s; errors.tolerance=none "
                "stops the connector (the record is not committed; set "
                "errors.tolerance=all and a dead-letter topic to go on)",
                m->topic, (int)m->partition, (long long)m->offset,
                r->why ? r->why->stage : "TASK_PUT", why_text(r));
        if (log_all || !k->dlq)
            logf_(k, "%s [%d] offset %lld failed (%s): %s%s", m->topic,
                  (int)m->partition, (long long)m->offset,
                  r->why ? r->why->stage : "TASK_PUT", why_text(r),
                  k->dlq ? "; dead-lettered"
                         : "; dead-letter queue not configured: skipping "
                           "failed record");
        if (!k->dlq) {
            r->state = RS_SKIPPED;
            k->stats.skipped++;
            continue;
        }
        evb_err_t err = dead_letter(k, r, errstr, errstr_size);
        if (err)
            return err;
        produced++;
    }
    if (!produced)
        return EVB_ERR_OK;
    char why[300];
    evb_err_t err = evb_kafka_producer_flush(k->dlq, 60000, why, sizeof why);
    pthread_mutex_lock(&k->mu);
    size_t failed = k->dlq_failed, pending = k->dlq_pending;
    char dlq_error[300];
    snprintf(dlq_error, sizeof dlq_error, "%s", k->dlq_error);
    k->dlq_failed = 0;
    pthread_mutex_unlock(&k->mu);
    if (err || failed || pending)
        return evb_err_set(
            EVB_ERR_IO, errstr, errstr_size, "dead-letter topic %s: %s",
            evb__cfg_str(k->cfg, P_DLQ_TOPIC), err ? why : dlq_error);
    for (size_t i = 0; i < k->nrecs; i++)
        if (k->recs[i].state == RS_FAILED) {
            k->recs[i].state = RS_DEAD;
            k->stats.dead_lettered++;
        }
    return EVB_ERR_OK;
}

/* ---- 5. commit ----------------------------------------------------------- */

static void commit_settled(evb_connector_t *k) {
    /* for each partition: the last record of the settled prefix */
    size_t nparts = 0;
    struct part {
        const char *topic;
        int32_t partition;
        bool blocked;
        const evb_kafka_msg_t *last;
    } *parts = calloc(k->nrecs + 1, sizeof *parts);
    if (!parts) {
        logf_(k, "out of memory: offsets not committed");
        return;
    }
    for (size_t i = 0; i < k->nrecs; i++) {
        const evb_kafka_msg_t *m = k->recs[i].msg;
        struct part *p = NULL;
        for (size_t j = 0; j < nparts && !p; j++)
            if (parts[j].partition == m->partition &&
                strcmp(parts[j].topic, m->topic) == 0)
                p = &parts[j];
        if (!p) {
            p = &parts[nparts++];
            p->topic = m->topic;
            p->partition = m->partition;
        }
        rstate_t s = k->recs[i].state;
        bool settled = s == RS_OK || s == RS_DEAD || s == RS_SKIPPED;
        if (!settled)
            p->blocked = true;
        else if (!p->blocked)
            p->last = m;
    }
    for (size_t j = 0; j < nparts; j++) {
        if (!parts[j].last)
            continue;
        char why[400];
        if (evb_kafka_consumer_commit(k->consumer, parts[j].last, why,
                                      sizeof why))
            logf_(k, "%s (the records may be sent again)", why);
        else
            k->stats.commits++;
    }
    free(parts);
}

/* ---- the loop ------------------------------------------------------------ */

evb_err_t evb_connector_run(evb_connector_t *k, char *errstr,
                            size_t errstr_size) {
    const evb_connector_config_t *c = k->cfg;
    evb_err_t err = evb_kafka_consumer_new(
        c->consumer, c->group_id, (const char *const *)c->topics, c->ntopics,
        "connector", &k->consumer, errstr, errstr_size);
    if (err)
        return err;
    char topics[600] = "";
    for (size_t i = 0; i < c->ntopics; i++)
        snprintf(topics + strlen(topics), sizeof topics - strlen(topics),
                 "%s%s", i ? "," : "", c->topics[i]);
    logf_(k, "started: topics %s, group %s -> %s, bus %s, %s%s", topics,
          c->group_id, evb__pe_client_url(k->pe), evb__cfg_str(c, P_BUS_ARN),
          k->has_creds ? "signed with the key of " : "unsigned",
          k->has_creds ? k->creds.source : "");
    uint64_t interval = (uint64_t)evb__cfg_int(c, P_STATS_INTERVAL) * 1000000u;
    k->last_stats = evb_now_ns();
    evb_connector_stats_t last = k->stats;
    while (!k->stop) {
        err = poll_cycle(k, errstr, errstr_size);
        if (!err && k->nrecs)
            err = map_cycle(k, errstr, errstr_size);
        if (!err && k->nrecs)
            err = plan(k, errstr, errstr_size);
        if (!err && k->nrecs)
            err = send_cycle(k, errstr, errstr_size);
        if (!err && k->nrecs && !k->stop)
            err = handle_failures(k, errstr, errstr_size);
        if (k->nrecs)
            commit_settled(k);
        cycle_reset(k);
        if (err)
            break;
        uint64_t now = evb_now_ns();
        if (interval && now - k->last_stats >= interval) {
            k->last_stats = now;
            if (memcmp(&last, &k->stats, sizeof last) != 0)
                log_stats(k);
            last = k->stats;
        }
    }
    if (err)
        logf_(k, "stopping: %s", errstr);
    log_stats(k);
    return err;
}
