/*
 * clusters.c: named Kafka clusters, their shared producers, and topic
 * ARNs.
 *
 * A registry maps a cluster name (`default`, and the names given in
 * configuration) to its properties and one producer, created when first
 * asked for: librdkafka producers are thread-safe and batch best when
 * shared, so one per cluster serves every target. A producer that failed
 * fatally (the idempotent producer can) is set aside and replaced; the
 * ones set aside are freed with the registry, after their last reports.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

typedef struct cluster {
    char *name;
    evb_kafka_conf_t *conf;
    evb_kafka_producer_t *producer;
} cluster_t;

struct evb_kafka_clusters {
    pthread_mutex_t lock;
    cluster_t *items;
    size_t n, cap;
    evb_kafka_producer_t **retired;
    size_t nretired;
};

static bool name_byte(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool evb_kafka_cluster_name_valid(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > EVB_KAFKA_MAX_CLUSTER_NAME)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!name_byte(name[i]))
            return false;
    return true;
}

bool evb_kafka_topic_name_valid(const char *name, size_t len) {
    if (len == 0 || len > EVB_KAFKA_MAX_TOPIC)
        return false;
    if ((len == 1 && name[0] == '.') ||
        (len == 2 && name[0] == '.' && name[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!name_byte(name[i]))
            return false;
    return true;
}

evb_kafka_clusters_t *evb_kafka_clusters_new(void) {
    evb_kafka_clusters_t *cl = calloc(1, sizeof *cl);
    if (cl)
        pthread_mutex_init(&cl->lock, NULL);
    return cl;
}

static cluster_t *find(const evb_kafka_clusters_t *cl, const char *name) {
    for (size_t i = 0; cl && i < cl->n; i++)
        if (strcmp(cl->items[i].name, name) == 0)
            return &cl->items[i];
    return NULL;
}

evb_err_t evb_kafka_clusters_add(evb_kafka_clusters_t *cl, const char *name,
                                 const evb_kafka_conf_t *conf, char *errstr,
                                 size_t errstr_size) {
    if (!evb_kafka_cluster_name_valid(name))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "not a valid Kafka cluster name: '%.*s' (1 to %d "
                           "of A-Z a-z 0-9 . _ -)",
                           (int)strnlen(name, 80), name,
                           EVB_KAFKA_MAX_CLUSTER_NAME);
    char why[600];
    evb_err_t err = evb_kafka_conf_check(conf, why, sizeof why);
    if (err)
        return evb_err_set(err, errstr, errstr_size, "Kafka cluster %s: %s",
                           name, why);
    pthread_mutex_lock(&cl->lock);
    if (find(cl, name)) {
        pthread_mutex_unlock(&cl->lock);
        return evb_err_set(EVB_ERR_EXISTS, errstr, errstr_size,
                           "Kafka cluster %s is configured twice", name);
    }
    if (cl->n == cl->cap) {
        size_t cap = cl->cap ? cl->cap * 2 : 4;
        cluster_t *ni = realloc(cl->items, cap * sizeof *ni);
        if (!ni) {
            pthread_mutex_unlock(&cl->lock);
            return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                               "out of memory");
        }
        cl->items = ni;
        cl->cap = cap;
    }
    cluster_t c = {evb__kstrdup(name), evb_kafka_conf_dup(conf), NULL};
    if (!c.name || !c.conf) {
        pthread_mutex_unlock(&cl->lock);
        free(c.name);
        evb_kafka_conf_free(c.conf);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    cl->items[cl->n++] = c;
    pthread_mutex_unlock(&cl->lock);
    return EVB_ERR_OK;
}

size_t evb_kafka_clusters_count(const evb_kafka_clusters_t *cl) {
    return cl->n;
}

const char *evb_kafka_clusters_name(const evb_kafka_clusters_t *cl, size_t i) {
    return cl->items[i].name;
}

const evb_kafka_conf_t *evb_kafka_clusters_conf(const evb_kafka_clusters_t *cl,
                                                const char *name) {
    const cluster_t *c = find(cl, name);
    return c ? c->conf : NULL;
}

evb_err_t evb_kafka_clusters_producer(evb_kafka_clusters_t *cl,
                                      const char *name,
                                      evb_kafka_producer_t **out, char *errstr,
                                      size_t errstr_size) {
    *out = NULL;
    if (!cl)
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "no Kafka cluster named %s is configured", name);
    pthread_mutex_lock(&cl->lock);
    cluster_t *c = find(cl, name);
    evb_err_t err = EVB_ERR_OK;
    if (!c) {
        err = evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                          "no Kafka cluster named %s is configured", name);
        goto out;
    }
    if (c->producer && evb_kafka_producer_failed(c->producer, NULL, 0)) {
        evb_kafka_producer_t **nr =
            realloc(cl->retired, (cl->nretired + 1) * sizeof *cl->retired);
        if (!nr) {
            err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                              "out of memory");
            goto out;
        }
        cl->retired = nr;
        cl->retired[cl->nretired++] = c->producer;
        c->producer = NULL;
    }
    if (!c->producer) {
        char label[EVB_KAFKA_MAX_CLUSTER_NAME + 20];
        snprintf(label, sizeof label, "cluster %s", name);
        err = evb_kafka_producer_new(c->conf, label, &c->producer, errstr,
                                     errstr_size);
    }
    *out = c->producer;
out:
    pthread_mutex_unlock(&cl->lock);
    return err;
}

void evb_kafka_clusters_free(evb_kafka_clusters_t *cl) {
    if (!cl)
        return;
    for (size_t i = 0; i < cl->n; i++) {
        evb_kafka_producer_free(cl->items[i].producer);
        evb_kafka_conf_free(cl->items[i].conf);
        free(cl->items[i].name);
    }
    for (size_t i = 0; i < cl->nretired; i++)
        evb_kafka_producer_free(cl->retired[i]);
    free(cl->retired);
    free(cl->items);
    pthread_mutex_destroy(&cl->lock);
    free(cl);
}

/* ---- topic ARNs ------------------------------------------------------------
 */

/* Copy s[0..n) into out (size out_size); false if it does not fit. */
static bool take(const char *s, size_t n, char *out, size_t out_size) {
    if (n >= out_size)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

bool evb_kafka_topic_arn_parse(const char *arn, evb_kafka_topic_arn_t *out) {
    evb_kafka_topic_arn_t tmp;
    evb_kafka_topic_arn_t *a = out ? out : &tmp;
    memset(a, 0, sizeof *a);
    static const char prefix[] = "arn:aws:kafka:";
    if (strncmp(arn, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *region = arn + sizeof prefix - 1;
    const char *colon = strchr(region, ':');
    if (!colon ||
        !take(region, (size_t)(colon - region), a->region, sizeof a->region))
        return false;
    const char *account = colon + 1;
    colon = strchr(account, ':');
    if (!colon || !take(account, (size_t)(colon - account), a->account,
                        sizeof a->account))
        return false;
    const char *res = colon + 1;
    if (strncmp(res, "topic/", 6) != 0)
        return false;
    res += 6;
    const char *part[4];
    size_t len[4], n = 0;
    const char *p = res;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (n == 3)
            return false; /* more than three segments */
        part[n] = p;
        len[n] = slash ? (size_t)(slash - p) : strlen(p);
        n++;
        if (!slash)
            break;
        p = slash + 1;
    }
    if (n < 2)
        return false;
    if (!take(part[0], len[0], a->cluster, sizeof a->cluster) ||
        !evb_kafka_cluster_name_valid(a->cluster))
        return false;
    if (n == 3) {
        if (!take(part[1], len[1], a->cluster_uuid, sizeof a->cluster_uuid) ||
            !a->cluster_uuid[0])
            return false;
        for (const char *u = a->cluster_uuid; *u; u++)
            if (!name_byte(*u) || *u == '.')
                return false;
    }
    const char *topic = part[n - 1];
    size_t tlen = len[n - 1];
    if (!evb_kafka_topic_name_valid(topic, tlen))
        return false;
    return take(topic, tlen, a->topic, sizeof a->topic);
}
