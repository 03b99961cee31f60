/*
 * cache.c: schema id -> schema text, for decoders that look the same few
 * ids up for every record. One mutex around an open-addressing table;
 * lookups copy the text out, so an entry may be dropped at any time.
 * When the table holds its maximum it is emptied rather than managed as
 * an LRU: a schema's id never changes meaning, so the cost of a miss is
 * one request, and real workloads use far fewer ids than the limit.
 */
#include <stdlib.h>
#include <string.h>

#include "registry_internal.h"

struct evb__cache_entry {
    int32_t id;
    size_t len;
    char text[]; /* NUL-terminated */
};

void evb__cache_init(evb__cache_t *c, size_t max) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->max = max ? max : 10000;
    c->gen = 1;
}

static void drop_all(evb__cache_t *c) {
    for (size_t i = 0; i < c->cap; i++)
        free(c->slots[i]);
    free(c->slots);
    c->slots = NULL;
    c->cap = 0;
    c->n = 0;
}

void evb__cache_destroy(evb__cache_t *c) {
    drop_all(c);
    pthread_mutex_destroy(&c->mu);
}

static size_t slot_of(const evb__cache_t *c, int32_t id) {
    size_t mask = c->cap - 1;
    size_t i = ((uint32_t)id * 2654435761u) & mask;
    while (c->slots[i] && c->slots[i]->id != id)
        i = (i + 1) & mask;
    return i;
}

bool evb__cache_get(evb__cache_t *c, int32_t id, evb_registry_schema_t *out) {
    bool found = false;
    pthread_mutex_lock(&c->mu);
    if (c->cap) {
        const evb__cache_entry_t *e = c->slots[slot_of(c, id)];
        if (e) {
            char *t = malloc(e->len + 1);
            if (t) {
                memcpy(t, e->text, e->len + 1);
                memset(out, 0, sizeof *out);
                out->id = id;
                out->type = "AVRO";
                out->schema = t;
                out->schema_len = e->len;
                found = true;
            }
        }
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

uint64_t evb__cache_gen(evb__cache_t *c) {
    pthread_mutex_lock(&c->mu);
    uint64_t g = c->gen;
    pthread_mutex_unlock(&c->mu);
    return g;
}

void evb__cache_put(evb__cache_t *c, int32_t id, const char *schema,
                    size_t len, uint64_t gen) {
    evb__cache_entry_t *e = malloc(sizeof *e + len + 1);
    if (!e)
        return;
    e->id = id;
    e->len = len;
    memcpy(e->text, schema, len);
    e->text[len] = '\0';
    pthread_mutex_lock(&c->mu);
    if (gen && gen != c->gen) { /* cleared while the caller read */
        pthread_mutex_unlock(&c->mu);
        free(e);
        return;
    }
    if (c->n >= c->max)
        drop_all(c);
    if ((c->n + 1) * 2 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        evb__cache_entry_t **slots = calloc(cap, sizeof *slots);
        if (!slots) {
            pthread_mutex_unlock(&c->mu);
            free(e);
            return;
        }
        evb__cache_entry_t **old = c->slots;
        size_t old_cap = c->cap;
        c->slots = slots;
        c->cap = cap;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i])
                c->slots[slot_of(c, old[i]->id)] = old[i];
        free(old);
    }
    size_t i = slot_of(c, id);
    if (c->slots[i]) {
        free(c->slots[i]); /* the same id again: keep the newer copy */
    } else {
        c->n++;
    }
    c->slots[i] = e;
    pthread_mutex_unlock(&c->mu);
}

void evb__cache_clear(evb__cache_t *c) {
    pthread_mutex_lock(&c->mu);
    drop_all(c);
    c->gen++;
    pthread_mutex_unlock(&c->mu);
}
