/*
 * arena.c: a bump allocator made of a chain of blocks. Allocation is a
 * pointer bump; a request larger than the block size gets a block of its
 * own. Reset keeps the first block so a per-event arena stops calling
 * malloc once it has warmed up.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

struct evb_arena_block {
    evb_arena_block_t *next;
    size_t size; /* usable bytes in data */
    size_t used;
    _Alignas(16) unsigned char data[];
};

void evb_arena_init(evb_arena_t *a, size_t block_size) {
    a->head = NULL;
    a->block_size = block_size ? block_size : 16384;
    a->total = 0;
}

void *evb_arena_alloc(evb_arena_t *a, size_t size) {
    size = (size + 15u) & ~(size_t)15u;
    evb_arena_block_t *b = a->head;
    if (EVB_UNLIKELY(!b || b->size - b->used < size)) {
        size_t bs = size > a->block_size ? size : a->block_size;
        if (bs > SIZE_MAX - sizeof(*b))
            return NULL;
        evb_arena_block_t *nb = malloc(sizeof(*nb) + bs);
        if (!nb)
            return NULL;
        nb->size = bs;
        nb->used = 0;
        if (b && size > a->block_size && b->size - b->used >= 64) {
            /* keep bump-allocating from the current block */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    a->total += size;
    return p;
}

void *evb_arena_calloc(evb_arena_t *a, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = evb_arena_alloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

char *evb_arena_strndup(evb_arena_t *a, const char *s, size_t len) {
    char *p = evb_arena_alloc(a, len + 1);
    if (p) {
        if (len)
            memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

void evb_arena_reset(evb_arena_t *a) {
    evb_arena_block_t *b = a->head;
    if (!b)
        return;
    /* keep the largest block, free the rest */
    evb_arena_block_t *keep = b;
    for (evb_arena_block_t *it = b->next; it; it = it->next)
        if (it->size > keep->size)
            keep = it;
    while (b) {
        evb_arena_block_t *next = b->next;
        if (b != keep)
            free(b);
        b = next;
    }
    keep->next = NULL;
    keep->used = 0;
    a->head = keep;
    a->total = 0;
}

void evb_arena_free(evb_arena_t *a) {
    evb_arena_block_t *b = a->head;
    while (b) {
        evb_arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}
