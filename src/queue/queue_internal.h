/*
 * queue_internal.h: what the files of the queue module share (MD5 and
 * base64 helpers).
 */
#ifndef EVB_QUEUE_INTERNAL_H
#define EVB_QUEUE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "queue.h"

typedef struct evb__md5 {
    uint32_t h[4];
    uint64_t len;
    unsigned char buf[64];
    size_t nbuf;
} evb__md5_t;

void evb__md5_init(evb__md5_t *m);
void evb__md5_update(evb__md5_t *m, const void *data, size_t len);
void evb__md5_hex(evb__md5_t *m, char out[33]);

#endif
