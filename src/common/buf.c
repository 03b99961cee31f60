/* buf.c: bounded growable buffer, file reading, clock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

void evb_buf_init(evb_buf_t *b, size_t max) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : SIZE_MAX / 2;
}

static evb_err_t buf_reserve(evb_buf_t *b, size_t extra) {
    if (extra > b->max || b->len > b->max - extra)
        return EVB_ERR_TOO_LARGE;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return EVB_ERR_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return EVB_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return EVB_ERR_OK;
}

evb_err_t evb_buf_append(evb_buf_t *b, const void *data, size_t len) {
    evb_err_t err = buf_reserve(b, len);
    if (err)
        return err;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return EVB_ERR_OK;
}

evb_err_t evb_buf_putc(evb_buf_t *b, char c) {
    return evb_buf_append(b, &c, 1);
}

evb_err_t evb_buf_appendf(evb_buf_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return EVB_ERR_INTERNAL;
    evb_err_t err = buf_reserve(b, (size_t)n);
    if (err)
        return err;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return EVB_ERR_OK;
}

void evb_buf_reset(evb_buf_t *b) {
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void evb_buf_free(evb_buf_t *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

evb_err_t evb_buf_read_file(evb_buf_t *b, const char *path, char *errstr,
                            size_t errstr_size) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size, "%s: %s", path,
                           strerror(errno));
    char chunk[65536];
    evb_err_t err = EVB_ERR_OK;
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        err = evb_buf_append(b, chunk, n);
        if (err) {
            evb_err_set(err, errstr, errstr_size, "%s: %s", path,
                        err == EVB_ERR_TOO_LARGE ? "file too large"
                                                 : "out of memory");
            break;
        }
    }
    if (!err && ferror(f))
        err = evb_err_set(EVB_ERR_IO, errstr, errstr_size, "%s: read error",
                          path);
    if (!err && !b->data)
        err = evb_buf_append(b, "", 0);
    if (f != stdin)
        fclose(f);
    return err;
}

uint64_t evb_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
