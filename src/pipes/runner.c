/*
 * runner.c: one running pipe: its source, its batches, its offsets.
 *
 * A runner is one thread. It opens the source (joining the consumer
 * group), then loops: gather a batch (up to BatchSize records, waiting at
 * most MaximumBatchingWindowInSeconds after the first; with a window of 0
 * a batch is whatever is available now), run it through the pipe
 * (targets.c), and only when the batch is settled commit its positions.
 * A batch that fails is kept and retried whole after an exponential
 * backoff with jitter (200 ms doubling to 30 s by default); it is never
 * skipped. Records are copied into the batch's slots as they arrive, so a
 * retry needs nothing from the source, and one thread means records of a
 * partition are handled in the order they were read.
 *
 * Stopping (StopPipe, UpdatePipe, DeletePipe, shutdown) interrupts the
 * gathering or the backoff; a batch not yet settled is left uncommitted,
 * and since the consumer is closed its records are read again by the next
 * runner (nothing lost, nothing skipped). Settled positions are committed
 * synchronously before the consumer closes.
 *
 * Besides Kafka's committed offsets, the runner records the pipe's
 * progress in the store (pipe_offsets, at most once a second and at the
 * end); a partition the group has no offset for resumes there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../metrics/metrics.h"
#include "pipes_internal.h"

/* ---- source configuration ----------------------------------------------------- */

void evb__free_props(char **props, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(props[i]);
    free(props);
}

typedef struct props {
    char **kv;
    size_t n, cap;
    bool nomem;
} props_t;

static void prop(props_t *p, const char *k, const char *v) {
    if (p->nomem)
        return;
    for (size_t i = 0; i + 1 < p->n; i += 2) /* a later value wins */
        if (strcmp(p->kv[i], k) == 0) {
            char *nv = strdup(v);
            if (!nv) {
                p->nomem = true;
                return;
            }
            free(p->kv[i + 1]);
            p->kv[i + 1] = nv;
            return;
        }
    if (p->n + 2 > p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        char **nk = realloc(p->kv, nc * sizeof *nk);
        if (!nk) {
            p->nomem = true;
            return;
        }
        p->kv = nk;
        p->cap = nc;
    }
    p->kv[p->n] = strdup(k);
    p->kv[p->n + 1] = strdup(v);
    if (!p->kv[p->n] || !p->kv[p->n + 1]) {
        free(p->kv[p->n]);
        free(p->kv[p->n + 1]);
        p->nomem = true;
        return;
    }
    p->n += 2;
}

/* The secret named arn, loaded from its file. New reference or NULL. */
static json_t *load_secret(const evb_pipe_service_t *svc, const char *arn,
                           char *errstr, size_t errstr_size) {
    for (size_t i = 0; i < svc->cfg.nsecrets; i++) {
        if (strcmp(svc->secrets[i].arn, arn) != 0)
            continue;
        json_error_t je;
        json_t *j = json_load_file(svc->secrets[i].path, 0, &je);
        if (!json_is_object(j)) {
            json_decref(j);
            evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                        "secret %s: %s is not a JSON object (%s)", arn,
                        svc->secrets[i].path, je.text);
            return NULL;
        }
        return j;
    }
    evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                "secret %s is not configured: start evbus serve with "
                "--kafka-secret %s=FILE",
                arn, arn);
    return NULL;
}

static const char *sval(const json_t *s, const char *k) {
    return json_string_value(json_object_get(s, k));
}

static void secret_props(props_t *p, const json_t *s, bool redact) {
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(s, "properties"), k, v) {
        if (json_is_string(v))
            prop(p, k,
                 redact && (strstr(k, "password") || strstr(k, "key"))
                     ? "(secret)"
                     : json_string_value(v));
    }
}

evb_err_t evb__pipe_source_props(const evb_pipe_service_t *svc,
                                 const evb__pipe_spec_t *spec, bool redact,
                                 char **bootstrap, char ***props_out,
                                 size_t *nprops, char *errstr,
                                 size_t errstr_size) {
    *bootstrap = NULL;
    *props_out = NULL;
    *nprops = 0;
    evb_buf_t b;
    evb_buf_init(&b, 0);
    evb_err_t err = EVB_ERR_OK;
    if (spec->msk) {
        const char *bs = NULL;
        for (size_t i = 0; i < svc->cfg.nmsk; i++)
            if (strcmp(svc->msk[i].arn, spec->source) == 0)
                bs = svc->msk[i].bootstrap;
        if (!bs)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "MSK cluster %s is not mapped to bootstrap "
                               "servers: start evbus serve with "
                               "--msk-cluster %s=HOST:PORT",
                               spec->source, spec->source);
        err = evb_buf_append(&b, bs, strlen(bs));
    } else {
        err = evb_buf_append(&b, spec->smk_server, strlen(spec->smk_server));
        for (size_t i = 0; !err && i < spec->nextra; i++)
            err = evb_buf_appendf(&b, ",%s", spec->extra_servers[i]);
    }
    if (err) {
        evb_buf_free(&b);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    props_t p = {0};
    for (size_t i = 0; i < svc->cfg.nkafka_props; i++)
        prop(&p, svc->cfg.kafka_props[2 * i], svc->cfg.kafka_props[2 * i + 1]);
    json_t *cred = NULL, *ca = NULL;
    if (spec->cred_secret &&
        !(cred = load_secret(svc, spec->cred_secret, errstr, errstr_size)))
        err = EVB_ERR_INVALID_ARG;
    if (!err && spec->ca_secret &&
        !(ca = load_secret(svc, spec->ca_secret, errstr, errstr_size)))
        err = EVB_ERR_INVALID_ARG;
    if (!err) {
        const char *mech = NULL;
        switch (spec->cred) {
        case EVB__CRED_BASIC: mech = "PLAIN"; break;
        case EVB__CRED_SCRAM256: mech = "SCRAM-SHA-256"; break;
        case EVB__CRED_SCRAM512: mech = "SCRAM-SHA-512"; break;
        default: break;
        }
        if (mech) {
            const char *u = sval(cred, "username"), *pw = sval(cred, "password");
            if (!u || !pw)
                err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                  "secret %s needs \"username\" and "
                                  "\"password\"",
                                  spec->cred_secret);
            prop(&p, "security.protocol", "SASL_SSL");
            prop(&p, "sasl.mechanisms", mech);
            if (u)
                prop(&p, "sasl.username", u);
            if (pw)
                prop(&p, "sasl.password", redact ? "(secret)" : pw);
        } else if (spec->cred == EVB__CRED_MTLS) {
            const char *c = sval(cred, "certificate"),
                       *k = sval(cred, "privateKey"),
                       *kp = sval(cred, "privateKeyPassword");
            if (!c || !k)
                err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                  "secret %s needs \"certificate\" and "
                                  "\"privateKey\"",
                                  spec->cred_secret);
            prop(&p, "security.protocol", "SSL");
            if (c)
                prop(&p, "ssl.certificate.pem", c);
            if (k)
                prop(&p, "ssl.key.pem", redact ? "(secret)" : k);
            if (kp)
                prop(&p, "ssl.key.password", redact ? "(secret)" : kp);
        }
    }
    if (!err && ca) {
        const char *c = sval(ca, "certificate");
        if (!c)
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "secret %s needs \"certificate\"",
                              spec->ca_secret);
        else {
            if (spec->cred == EVB__CRED_NONE)
                prop(&p, "security.protocol", "SSL");
            prop(&p, "ssl.ca.pem", c);
        }
    }
    if (!err && cred)
        secret_props(&p, cred, redact);
    if (!err && ca)
        secret_props(&p, ca, redact);
    json_decref(cred);
    json_decref(ca);
    if (!err && p.nomem)
        err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    if (err) {
        evb__free_props(p.kv, p.n);
        evb_buf_free(&b);
        return err;
    }
    *bootstrap = b.data;
    *props_out = p.kv;
    *nprops = p.n / 2;
    return EVB_ERR_OK;
}

/* ---- progress in the store ------------------------------------------------------ */

typedef struct posmap {
    evb_pipe_position_t *p;
    size_t n, cap;
    bool dirty;
} posmap_t;

static void posmap_free(posmap_t *m) {
    for (size_t i = 0; i < m->n; i++)
        free((char *)m->p[i].topic);
    free(m->p);
    memset(m, 0, sizeof *m);
}

static bool posmap_set(posmap_t *m, const char *topic, int32_t part,
                       int64_t next) {
    for (size_t i = 0; i < m->n; i++)
        if (m->p[i].partition == part && strcmp(m->p[i].topic, topic) == 0) {
            if (next > m->p[i].next_offset)
                m->p[i].next_offset = next;
            m->dirty = true;
            return true;
        }
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 8;
        evb_pipe_position_t *np = realloc(m->p, nc * sizeof *np);
        if (!np)
            return false;
        m->p = np;
        m->cap = nc;
    }
    char *t = strdup(topic);
    if (!t)
        return false;
    m->p[m->n++] = (evb_pipe_position_t){t, part, next};
    m->dirty = true;
    return true;
}

typedef struct ckpt {
    const char *pipe;
    posmap_t *m;
} ckpt_t;

static evb_err_t read_progress(sqlite3 *db, void *arg, char *errstr,
                               size_t errstr_size) {
    ckpt_t *c = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT topic, partition, next_offset FROM "
                           "pipe_offsets WHERE pipe = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "reading pipe progress", errstr,
                                errstr_size);
    sqlite3_bind_text(st, 1, c->pipe, -1, SQLITE_STATIC);
    evb_err_t err = EVB_ERR_OK;
    while (sqlite3_step(st) == SQLITE_ROW)
        if (!posmap_set(c->m, (const char *)sqlite3_column_text(st, 0),
                        sqlite3_column_int(st, 1),
                        sqlite3_column_int64(st, 2))) {
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "out of memory");
            break;
        }
    sqlite3_finalize(st);
    return err;
}

static evb_err_t write_progress(sqlite3 *db, void *arg, char *errstr,
                                size_t errstr_size) {
    ckpt_t *c = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO pipe_offsets(pipe, topic, partition, "
                           "next_offset, updated_ms) VALUES (?,?,?,?,?) ON "
                           "CONFLICT(pipe, topic, partition) DO UPDATE SET "
                           "next_offset = excluded.next_offset, updated_ms = "
                           "excluded.updated_ms",
                           -1, &st, NULL) != SQLITE_OK)
        return evb_store_sqlerr(db, "recording pipe progress", errstr,
                                errstr_size);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    evb_err_t err = EVB_ERR_OK;
    for (size_t i = 0; i < c->m->n && !err; i++) {
        sqlite3_bind_text(st, 1, c->pipe, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->m->p[i].topic, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, c->m->p[i].partition);
        sqlite3_bind_int64(st, 4, c->m->p[i].next_offset);
        sqlite3_bind_int64(st, 5, now);
        if (sqlite3_step(st) != SQLITE_DONE)
            err = evb_store_sqlerr(db, "recording pipe progress", errstr,
                                   errstr_size);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return err;
}

/* ---- slots ------------------------------------------------------------------------ */

static void slot_init(evb__slot_t *s) {
    memset(s, 0, sizeof *s);
    evb_pipe_shaped_init(&s->shaped);
    evb_buf_init(&s->key, 0);
    evb_buf_init(&s->value, 0);
    evb_buf_init(&s->hdr_data, 0);
}

static void slot_free(evb__slot_t *s) {
    evb_pipe_shaped_free(&s->shaped);
    evb_buf_free(&s->key);
    evb_buf_free(&s->value);
    evb_buf_free(&s->hdr_data);
    free(s->headers);
    free(s->topic);
    json_decref(s->tview);
}

/* Copy a borrowed record into s. */
static bool slot_fill(evb__slot_t *s, const evb_pipe_record_t *r) {
    if (!s->topic || strcmp(s->topic, r->topic) != 0) {
        free(s->topic);
        if (!(s->topic = strdup(r->topic)))
            return false;
    }
    s->partition = r->partition;
    s->offset = r->offset;
    s->timestamp_ms = r->timestamp_ms;
    s->ts_type = r->ts_type;
    evb_buf_reset(&s->key);
    evb_buf_reset(&s->value);
    evb_buf_reset(&s->hdr_data);
    s->has_key = r->key != NULL;
    s->has_value = r->value != NULL;
    if ((r->key && evb_buf_append(&s->key, r->key, r->key_len)) ||
        (r->value && evb_buf_append(&s->value, r->value, r->value_len)))
        return false;
    if (r->nheaders > s->cap_headers) {
        evb_pipe_header_t *nh =
            realloc(s->headers, r->nheaders * sizeof *nh);
        if (!nh)
            return false;
        s->headers = nh;
        s->cap_headers = r->nheaders;
    }
    /* names and values back to back; offsets first, pointers after */
    size_t *offs = r->nheaders ? calloc(2 * r->nheaders, sizeof *offs) : NULL;
    if (r->nheaders && !offs)
        return false;
    for (size_t i = 0; i < r->nheaders; i++) {
        const evb_pipe_header_t *h = &r->headers[i];
        offs[2 * i] = s->hdr_data.len;
        if (evb_buf_append(&s->hdr_data, h->name, strlen(h->name) + 1)) {
            free(offs);
            return false;
        }
        offs[2 * i + 1] = s->hdr_data.len;
        if (h->value && h->len &&
            evb_buf_append(&s->hdr_data, h->value, h->len)) {
            free(offs);
            return false;
        }
        s->headers[i].len = h->len;
    }
    for (size_t i = 0; i < r->nheaders; i++) {
        s->headers[i].name = s->hdr_data.data + offs[2 * i];
        s->headers[i].value =
            r->headers[i].value ? s->hdr_data.data + offs[2 * i + 1] : NULL;
    }
    free(offs);
    s->nheaders = r->nheaders;
    return true;
}

/* Shape the slot's record (again). */
static evb_pipe_decode_result_t slot_shape(evb__runner_t *r, evb__slot_t *s,
                                           char *errstr, size_t errstr_size) {
    evb_pipe_record_t rec = {
        .topic = s->topic,
        .partition = s->partition,
        .offset = s->offset,
        .timestamp_ms = s->timestamp_ms,
        .ts_type = s->ts_type,
        .key = s->has_key ? (s->key.data ? s->key.data : "") : NULL,
        .key_len = s->key.len,
        .value = s->has_value ? (s->value.data ? s->value.data : "") : NULL,
        .value_len = s->value.len,
        .headers = s->headers,
        .nheaders = s->nheaders,
    };
    evb_pipe_origin_t o = {r->spec->msk, r->spec->msk ? r->spec->source
                                                      : r->spec->smk_server};
    char *bs = NULL;
    if (!r->spec->msk && r->spec->nextra) {
        /* bootstrapServers names every server the pipe was given */
        evb_buf_t b;
        evb_buf_init(&b, 0);
        evb_buf_append(&b, r->spec->smk_server, strlen(r->spec->smk_server));
        for (size_t i = 0; i < r->spec->nextra; i++)
            evb_buf_appendf(&b, ",%s", r->spec->extra_servers[i]);
        bs = b.data;
        if (bs)
            o.source = bs;
    }
    json_decref(s->tview);
    s->tview = NULL;
    evb_pipe_decode_result_t res =
        evb_pipe_shape(&o, &rec, r->svc->cfg.decode, r->svc->cfg.decode_ud,
                       &s->shaped, errstr, errstr_size);
    free(bs);
    s->shaped_ok = res != EVB_PIPE_DECODE_RETRY;
    return res;
}

evb_pipe_decode_result_t evb__slot_reshape(evb__runner_t *r, evb__slot_t *s,
                                           char *errstr, size_t errstr_size) {
    return slot_shape(r, s, errstr, errstr_size);
}

/* ---- the thread --------------------------------------------------------------------- */

static uint64_t now_ms(void) { return evb_now_ns() / 1000000; }

static void set_error(evb__runner_t *r, const char *msg) {
    pthread_mutex_lock(&r->mu);
    snprintf(r->last_error, sizeof r->last_error, "%s", msg);
    pthread_mutex_unlock(&r->mu);
}

/* Sleep ms unless asked to stop; true if asked to stop. */
static bool wait_or_stop(evb__runner_t *r, unsigned ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    while (!atomic_load(&r->stop))
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&r->mu);
    return atomic_load(&r->stop);
}

static void fail_start(evb__runner_t *r, const char *why) {
    pthread_mutex_lock(&r->mu);
    snprintf(r->reason, sizeof r->reason, "%s", why);
    pthread_mutex_unlock(&r->mu);
    atomic_store(&r->failed, true);
}

/* ---- lanes --------------------------------------------------------------------------
 *
 * Records of partition p go to lane p % EVB__PIPE_LANES, so a partition's
 * batches are handled one after the other, in order, while batches of
 * different partitions are handled at once (AWS runs up to one consumer
 * per partition; here it also lets their store commits share a group
 * commit). The runner thread polls, copies and shapes records; each lane
 * thread runs its batches through the pipe and, once a batch is settled,
 * records its positions, which the runner thread commits.
 */

typedef struct batch {
    struct batch *next;
    evb__slot_t *slots;
    size_t n;
} batch_t;

typedef struct run run_t;

typedef struct lane {
    run_t *run;
    pthread_t thread;
    bool thread_started;
    /* under r->mu */
    batch_t *head, *tail;
    size_t queued;
    batch_t *free;
    /* runner thread only */
    batch_t *open;
    uint64_t deadline;
} lane_t;

struct run {
    evb__runner_t *r;
    size_t nslots;
    size_t depth; /* full batches a lane may have waiting */
    lane_t lanes[EVB__PIPE_LANES];
    posmap_t done;  /* settled positions, under r->mu */
    bool done_new;  /* settled since the last commit, under r->mu */
    bool failed;    /* a lane could not get memory, under r->mu */
};

/* Full batches a lane may have waiting, and how many of them its thread
 * settles at once: a consumer hands out records a partition at a time,
 * so one lane's queue fills while the others wait, and settling its
 * queued batches together (one store commit for all of them when the
 * target is a bus) is what keeps the pipe from waiting on one commit per
 * batch. */
#define LANE_RECORDS 512 /* queued records a lane aims at */
#define LANE_TAKE 32      /* the most batches queued, and settled at once */

static batch_t *batch_new(size_t nslots) {
    batch_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->slots = calloc(nslots, sizeof *b->slots);
    if (!b->slots) {
        free(b);
        return NULL;
    }
    for (size_t i = 0; i < nslots; i++)
        slot_init(&b->slots[i]);
    return b;
}

static void batch_free(batch_t *b, size_t nslots) {
    if (!b)
        return;
    for (size_t i = 0; i < nslots; i++)
        slot_free(&b->slots[i]);
    free(b->slots);
    free(b);
}

/* Run batches (a lane's, in order) until they are settled (true) or the
 * runner stops (false). */
static bool settle(evb__runner_t *r, evb_match_ctx_t *ctx,
                   const evb__batch_ref_t *refs, size_t nb) {
    evb_pipe_service_t *svc = r->svc;
    unsigned initial = svc->cfg.retry_initial_ms ? svc->cfg.retry_initial_ms
                                                 : 200;
    unsigned maxb = svc->cfg.retry_max_ms ? svc->cfg.retry_max_ms : 30000;
    char err[512];
    for (unsigned attempt = 0; !atomic_load(&r->stop); attempt++) {
        err[0] = '\0';
        if (evb__process_batches(r, ctx, refs, nb, err, sizeof err) ==
            EVB_ERR_OK)
            return true;
        atomic_fetch_add(&r->batch_failures, 1);
        set_error(r, err);
        unsigned d = initial;
        for (unsigned k = 0; k < attempt && d < maxb; k++)
            d *= 2;
        if (d > maxb)
            d = maxb;
        unsigned jitter = (unsigned)(evb_now_ns() % (d / 4 + 1));
        if (wait_or_stop(r, d - d / 8 + jitter))
            break;
    }
    return false;
}

static void *lane_main(void *arg) {
    lane_t *l = arg;
    run_t *run = l->run;
    evb__runner_t *r = run->r;
    evb_match_ctx_t *ctx = evb_match_ctx_new();
    batch_t *took[LANE_TAKE];
    evb__batch_ref_t refs[LANE_TAKE];
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (!l->head && !atomic_load(&r->stop))
            pthread_cond_wait(&r->cv, &r->mu);
        if (atomic_load(&r->stop) || !ctx) {
            if (!ctx)
                run->failed = true;
            pthread_mutex_unlock(&r->mu);
            break;
        }
        /* everything queued, in order, up to LANE_TAKE batches */
        size_t nb = 0;
        while (l->head && nb < LANE_TAKE) {
            batch_t *b = l->head;
            l->head = b->next;
            l->queued--;
            took[nb] = b;
            refs[nb] = (evb__batch_ref_t){b->slots, b->n};
            nb++;
        }
        if (!l->head)
            l->tail = NULL;
        pthread_cond_broadcast(&r->cv); /* room in the queue */
        pthread_mutex_unlock(&r->mu);

        bool ok = settle(r, ctx, refs, nb);
        pthread_mutex_lock(&r->mu);
        if (ok) {
            r->last_error[0] = '\0';
            atomic_fetch_add(&r->batches, nb);
            evb_metrics_pipe_batches(r->name, nb);
            bool mem = true;
            for (size_t k = 0; k < nb; k++)
                for (size_t i = 0; i < took[k]->n && mem; i++)
                    mem = posmap_set(&run->done, took[k]->slots[i].topic,
                                     took[k]->slots[i].partition,
                                     took[k]->slots[i].offset + 1);
            if (!mem) {
                /* cannot record the positions: stop; the batches are
                 * read again by the next runner */
                run->failed = true;
                atomic_store(&r->stop, true);
                pthread_cond_broadcast(&r->cv);
            }
            run->done_new = true;
        }
        for (size_t k = 0; k < nb; k++) {
            took[k]->n = 0;
            took[k]->next = l->free;
            l->free = took[k];
        }
        pthread_mutex_unlock(&r->mu);
        if (!ok)
            break;
    }
    evb_match_ctx_free(ctx);
    return NULL;
}

/* Hand the lane's open batch to its thread (runner thread). False when
 * the runner is stopping. */
static bool submit(run_t *run, lane_t *l) {
    evb__runner_t *r = run->r;
    batch_t *b = l->open;
    l->open = NULL;
    pthread_mutex_lock(&r->mu);
    while (l->queued >= run->depth && !atomic_load(&r->stop))
        pthread_cond_wait(&r->cv, &r->mu);
    bool stopping = atomic_load(&r->stop);
    if (stopping) {
        b->n = 0;
        b->next = l->free;
        l->free = b;
    } else {
        b->next = NULL;
        if (l->tail)
            l->tail->next = b;
        else
            l->head = b;
        l->tail = b;
        l->queued++;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return !stopping;
}

/* The lane's open batch, made or taken from its free list. */
static batch_t *open_batch(run_t *run, lane_t *l) {
    if (l->open)
        return l->open;
    pthread_mutex_lock(&run->r->mu);
    batch_t *b = l->free;
    if (b)
        l->free = b->next;
    pthread_mutex_unlock(&run->r->mu);
    if (!b)
        b = batch_new(run->nslots);
    if (b) {
        b->n = 0;
        b->next = NULL;
    }
    return l->open = b;
}

/* Commit what the lanes settled since the last call (runner thread). */
static void commit_done(run_t *run, const evb_pipe_source_ops_t *ops,
                        void *src, bool sync, posmap_t *ckpt) {
    evb__runner_t *r = run->r;
    posmap_t snap = {0};
    bool ok = true;
    pthread_mutex_lock(&r->mu);
    if (run->done_new || sync)
        for (size_t i = 0; i < run->done.n && ok; i++)
            ok = posmap_set(&snap, run->done.p[i].topic,
                            run->done.p[i].partition,
                            run->done.p[i].next_offset);
    run->done_new = false;
    pthread_mutex_unlock(&r->mu);
    char err[512];
    if (ok && snap.n) {
        if (ops->commit(src, snap.p, snap.n, sync, err, sizeof err))
            set_error(r, err);
        else
            atomic_fetch_add(&r->commits, 1);
        for (size_t i = 0; i < snap.n; i++)
            posmap_set(ckpt, snap.p[i].topic, snap.p[i].partition,
                       snap.p[i].next_offset);
    }
    posmap_free(&snap);
}

/* The consumer lag of every partition the runner has committed for: the
 * source's end offset minus the committed next offset. */
static void report_lag(const evb__runner_t *r, const evb_pipe_source_ops_t *ops,
                       void *src, const posmap_t *committed) {
    if (!ops->end_offset)
        return;
    for (size_t i = 0; i < committed->n; i++) {
        const evb_pipe_position_t *p = &committed->p[i];
        int64_t end;
        if (ops->end_offset(src, p->topic, p->partition, &end))
            evb_metrics_pipe_consumer_lag(
                r->name, p->topic, p->partition,
                end > p->next_offset ? end - p->next_offset : 0);
    }
}

static void *runner_main(void *arg) {
    evb__runner_t *r = arg;
    evb_pipe_service_t *svc = r->svc;
    const evb_pipe_source_ops_t *ops =
        svc->cfg.source ? svc->cfg.source : &evb_pipe_kafka_source;
    char err[512] = "";
    char *bootstrap = NULL;
    char **props = NULL;
    size_t nprops = 0;
    posmap_t resume = {0}, ckpt = {0};
    void *src = NULL;
    run_t *run = calloc(1, sizeof *run);
    if (!run) {
        fail_start(r, "out of memory");
        goto out;
    }
    run->r = r;
    run->nslots = r->spec->batch ? r->spec->batch : 1;
    /* 2 (one settling, one filling) up to LANE_TAKE small batches */
    run->depth = LANE_RECORDS / run->nslots;
    if (run->depth < 2)
        run->depth = 2;
    if (run->depth > LANE_TAKE)
        run->depth = LANE_TAKE;

    ckpt_t rc = {r->name, &resume};
    if (evb__pipe_source_props(svc, r->spec, false, &bootstrap, &props,
                               &nprops, err, sizeof err) ||
        evb_store_read(svc->cfg.store, read_progress, &rc, err, sizeof err)) {
        fail_start(r, err);
        goto out;
    }
    for (size_t i = 0; i < EVB__PIPE_LANES; i++) {
        lane_t *l = &run->lanes[i];
        l->run = run;
        if (pthread_create(&l->thread, NULL, lane_main, l) != 0) {
            fail_start(r, "cannot start the pipe's threads");
            goto out;
        }
        l->thread_started = true;
    }
    evb_pipe_source_config_t sc = {
        .bootstrap_servers = bootstrap,
        .topic = r->spec->topic,
        .group_id = r->spec->group_id ? r->spec->group_id : r->group_id,
        .from_latest = r->spec->from_latest,
        .props = (const char *const *)props,
        .nprops = nprops,
        .client_id = r->name,
        .resume = resume.p,
        .nresume = resume.n,
    };
    if (ops->open(&sc, &src, err, sizeof err)) {
        fail_start(r, err);
        goto out;
    }
    if (!ops->ready) {
        atomic_store(&r->started, true);
        evb__pipe_kick(svc);
    }

    uint64_t last_ckpt = now_ms(), last_commit = now_ms(), last_lag = 0;
    while (!atomic_load(&r->stop)) {
        /* how long to wait: until the first open batch is due */
        bool any_open = false;
        uint64_t due = UINT64_MAX;
        for (size_t i = 0; i < EVB__PIPE_LANES; i++)
            if (run->lanes[i].open && run->lanes[i].open->n) {
                any_open = true;
                if (run->lanes[i].deadline < due)
                    due = run->lanes[i].deadline;
            }
        int timeout = 100;
        if (any_open) {
            uint64_t t = now_ms();
            timeout = r->spec->window_ms == 0 ? 0
                      : due > t ? (int)(due - t > 100 ? 100 : due - t)
                                : 0;
        }
        evb_pipe_record_t rec;
        int got = ops->poll(src, timeout, &rec, err, sizeof err);
        if (!atomic_load(&r->started) && ops->ready && ops->ready(src)) {
            atomic_store(&r->started, true);
            evb__pipe_kick(svc);
        }
        if (got < 0) {
            set_error(r, err);
            if (!any_open)
                wait_or_stop(r, 100);
        } else if (got == 1) {
            lane_t *l = &run->lanes[(uint32_t)rec.partition % EVB__PIPE_LANES];
            batch_t *b = open_batch(run, l);
            if (!b || !slot_fill(&b->slots[b->n], &rec)) {
                /* leave at once: nothing after this record may be
                 * committed; the next runner reads it again */
                set_error(r, "out of memory");
                evb__runner_request_stop(r);
                break;
            }
            slot_shape(r, &b->slots[b->n], err, sizeof err);
            atomic_fetch_add(&r->records_in, 1);
            evb_metrics_pipe_records(r->name, 1);
            if (b->n++ == 0)
                l->deadline = now_ms() + r->spec->window_ms;
            if (b->n == run->nslots && !submit(run, l))
                break;
        } else {
            uint64_t t = now_ms();
            for (size_t i = 0; i < EVB__PIPE_LANES; i++) {
                lane_t *l = &run->lanes[i];
                if (l->open && l->open->n &&
                    (r->spec->window_ms == 0 || t >= l->deadline) &&
                    !submit(run, l))
                    break;
            }
        }
        uint64_t t = now_ms();
        if (t - last_commit >= 50) {
            commit_done(run, ops, src, false, &ckpt);
            last_commit = t;
        }
        if (t - last_lag >= 1000) { /* also while a batch is retried */
            report_lag(r, ops, src, &ckpt);
            last_lag = t;
        }
        if (ckpt.dirty && t - last_ckpt >= 1000) {
            ckpt_t c = {r->name, &ckpt};
            if (evb_store_write(svc->cfg.store, write_progress, &c, err,
                                sizeof err) == EVB_ERR_OK)
                ckpt.dirty = false;
            last_ckpt = t;
        }
    }
out:
    /* stop the lanes (a batch in hand is finished or abandoned) */
    evb__runner_request_stop(r);
    if (run)
        for (size_t i = 0; i < EVB__PIPE_LANES; i++)
            if (run->lanes[i].thread_started)
                pthread_join(run->lanes[i].thread, NULL);
    if (src) {
        commit_done(run, ops, src, true, &ckpt);
        if (ckpt.dirty) {
            ckpt_t c = {r->name, &ckpt};
            evb_store_write(svc->cfg.store, write_progress, &c, err,
                            sizeof err);
        }
        ops->close(src);
    }
    if (run) {
        for (size_t i = 0; i < EVB__PIPE_LANES; i++) {
            lane_t *l = &run->lanes[i];
            batch_free(l->open, run->nslots);
            while (l->head) {
                batch_t *b = l->head;
                l->head = b->next;
                batch_free(b, run->nslots);
            }
            while (l->free) {
                batch_t *b = l->free;
                l->free = b->next;
                batch_free(b, run->nslots);
            }
        }
        posmap_free(&run->done);
        free(run);
    }
    posmap_free(&ckpt);
    posmap_free(&resume);
    free(bootstrap);
    evb__free_props(props, nprops * 2);
    atomic_store(&r->finished, true);
    evb__pipe_kick(svc);
    return NULL;
}

evb_err_t evb__runner_start(evb_pipe_service_t *svc, const evb__pipe_t *p,
                            evb__pipe_spec_t *spec, evb__runner_t **out,
                            char *errstr, size_t errstr_size) {
    *out = NULL;
    evb__runner_t *r = calloc(1, sizeof *r);
    if (!r) {
        evb__pipe_spec_free(spec);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "out of memory");
    }
    r->svc = svc;
    r->spec = spec;
    r->generation = p->generation;
    r->name = strdup(p->name);
    r->arn = strdup(p->arn);
    r->group_id = strdup(p->group_id);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (!r->name || !r->arn || !r->group_id ||
        pthread_create(&r->thread, NULL, runner_main, r) != 0) {
        free(r->name);
        free(r->arn);
        free(r->group_id);
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        evb__pipe_spec_free(spec);
        free(r);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "cannot start the pipe's thread");
    }
    *out = r;
    return EVB_ERR_OK;
}

void evb__runner_request_stop(evb__runner_t *r) {
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->stop, true);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void evb__runner_join_free(evb__runner_t *r) {
    if (!r)
        return;
    evb__runner_request_stop(r);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    evb__pipe_spec_free(r->spec);
    free(r->name);
    free(r->arn);
    free(r->group_id);
    free(r);
}

void evb__runner_stats(const evb__runner_t *r, evb_pipe_stats_t *out) {
    out->records_in = atomic_load(&r->records_in);
    out->records_filtered = atomic_load(&r->records_filtered);
    out->records_out = atomic_load(&r->records_out);
    out->records_invalid = atomic_load(&r->records_invalid);
    out->records_undecodable = atomic_load(&r->records_undecodable);
    out->batches = atomic_load(&r->batches);
    out->batch_failures = atomic_load(&r->batch_failures);
    out->commits = atomic_load(&r->commits);
}
