/*
 * api_json.c: the writer the AWSEvents actions answer with (api_internal.h):
 * it places the commas, leaves absent (NULL) strings out as AWS does, and
 * turns an allocation failure into the call's InternalException. Also the
 * raw writer of the Logs and SQS answers, whose callers write the
 * punctuation themselves.
 */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "../json/json.h"
#include "api_internal.h"

void evb__jw_init(evb__jw_t *w, evb__api_call_t *call) {
    memset(w, 0, sizeof *w);
    w->b = call->out;
}

void evb__jw_append(evb__jw_t *w, const char *s, size_t len) {
    if (!w->err)
        w->err = evb_buf_append(w->b, s, len);
}

/* The separator and "key": (key NULL inside an array). */
void evb__jw_keyn(evb__jw_t *w, const char *key, size_t klen) {
    if (w->comma[w->depth])
        evb__jw_append(w, ",", 1);
    w->comma[w->depth] = true;
    if (key) {
        if (!w->err)
            w->err = evb_json_append_string(w->b, key, klen);
        evb__jw_append(w, ":", 1);
    }
}

void evb__jw_key(evb__jw_t *w, const char *key) {
    evb__jw_keyn(w, key, key ? strlen(key) : 0);
}

void evb__jw_open(evb__jw_t *w, const char *key, char c) {
    if (w->depth)
        evb__jw_key(w, key);
    evb__jw_append(w, &c, 1);
    assert(w->depth + 1 < EVB__JW_MAX_DEPTH);
    w->comma[++w->depth] = false;
}

void evb__jw_close(evb__jw_t *w, char c) {
    evb__jw_append(w, &c, 1);
    w->depth--;
}

void evb__jw_strn(evb__jw_t *w, const char *key, const char *s, size_t len) {
    evb__jw_key(w, key);
    if (!w->err)
        w->err = evb_json_append_string(w->b, s, len);
}

/* Nothing when s is NULL (AWS leaves absent members out). */
void evb__jw_str(evb__jw_t *w, const char *key, const char *s) {
    if (s)
        evb__jw_strn(w, key, s, strlen(s));
}

void evb__jw_int(evb__jw_t *w, const char *key, int64_t v) {
    evb__jw_key(w, key);
    if (!w->err)
        w->err = evb_buf_appendf(w->b, "%" PRId64, v);
}

/* JSON text (valid, from the request or the store), compacted. */
void evb__jw_json(evb__jw_t *w, const char *key, size_t klen, const char *json,
                  size_t len) {
    evb__jw_keyn(w, key, klen);
    if (!w->err)
        w->err = evb_json_append_compact(w->b, json, len);
}

/* Finish: an allocation failure fails the call. */
void evb__jw_done(evb__api_call_t *call, evb__jw_t *w) {
    if (w->err)
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
}

/* Epoch seconds (AWS JSON timestamps) from milliseconds, with the
 * fraction when there is one; nothing when ms < 0. */
void evb__jw_time(evb__jw_t *w, const char *key, int64_t ms) {
    if (ms < 0)
        return;
    evb__jw_key(w, key);
    if (w->err)
        return;
    if (ms % 1000)
        w->err = evb_buf_appendf(w->b, "%" PRId64 ".%03d", ms / 1000,
                                 (int)(ms % 1000));
    else
        w->err = evb_buf_appendf(w->b, "%" PRId64, ms / 1000);
}

void evb__jw_list_begin(evb__jw_t *w, evb__api_call_t *call, const char *key) {
    evb__jw_init(w, call);
    evb__jw_open(w, NULL, '{');
    evb__jw_open(w, key, '[');
}

void evb__jw_list_end(evb__api_call_t *call, evb__jw_t *w, const char *next) {
    evb__jw_close(w, ']');
    evb__jw_str(w, "NextToken", next);
    evb__jw_close(w, '}');
    evb__jw_done(call, w);
}

/* ---- the raw writer ------------------------------------------------------ */

void evb__rw_raw(evb__rw_t *w, const char *s) {
    if (!w->err)
        w->err = evb_buf_append(w->b, s, strlen(s));
}

void evb__rw_str(evb__rw_t *w, const char *s, size_t len) {
    if (!w->err)
        w->err = evb_json_append_string(w->b, s, len);
}

void evb__rw_i64(evb__rw_t *w, int64_t v) {
    if (!w->err)
        w->err = evb_buf_appendf(w->b, "%" PRId64, v);
}

/* ,"key": (without the comma when first) */
static void rw_key(evb__rw_t *w, bool first, const char *key) {
    if (!first)
        evb__rw_raw(w, ",");
    evb__rw_str(w, key, strlen(key));
    evb__rw_raw(w, ":");
}

void evb__rw_key_strn(evb__rw_t *w, bool first, const char *key, const char *s,
                      size_t len) {
    rw_key(w, first, key);
    evb__rw_str(w, s, len);
}

void evb__rw_key_str(evb__rw_t *w, bool first, const char *key, const char *s) {
    evb__rw_key_strn(w, first, key, s, strlen(s));
}

void evb__rw_key_i64(evb__rw_t *w, bool first, const char *key, int64_t v) {
    rw_key(w, first, key);
    evb__rw_i64(w, v);
}
