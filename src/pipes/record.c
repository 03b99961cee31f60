/*
 * record.c: Kafka records as a pipe sees them (reference §6.2), and the
 * decoded views that filters (§6.3) and templates (§6.5) read.
 *
 * One pass over a record builds three things: the event (the §6.2 JSON
 * object, key and value in base64, header values as arrays of byte
 * numbers), the filter view (the filterable metadata with key and value
 * decoded) and the decoded key and value themselves. Decoding tries the
 * decode hook first (Avro through the schema registry plugs in there),
 * then the built-in rule: a JSON object or array is JSON, other valid
 * UTF-8 is text, anything else binary. JSON scalars ("42", "true") count
 * as text: only a JSON document is "valid JSON" in the sense of §6.3's
 * format-match table, so a plain-string pattern such as ["42"] can match
 * them.
 *
 * Everything is appended to the shaped record's buffers, which keep their
 * memory between records (a runner reuses one shaped record per slot).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../json/json.h"
#include "pipes_internal.h"

void evb_pipe_shaped_init(evb_pipe_shaped_t *s) {
    memset(s, 0, sizeof *s);
    evb_buf_init(&s->event, 0);
    evb_buf_init(&s->filter_view, 0);
    evb_buf_init(&s->key_json, 0);
    evb_buf_init(&s->value_json, 0);
}

void evb_pipe_shaped_free(evb_pipe_shaped_t *s) {
    evb_buf_free(&s->event);
    evb_buf_free(&s->filter_view);
    evb_buf_free(&s->key_json);
    evb_buf_free(&s->value_json);
    free(s->topic);
    memset(s, 0, sizeof *s);
}

static const char B64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

evb_err_t evb_pipe_base64(evb_buf_t *out, const void *data, size_t len) {
    const unsigned char *s = data;
    char chunk[256];
    size_t n = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < len)
            v |= s[i + 2];
        chunk[n++] = B64[(v >> 18) & 63];
        chunk[n++] = B64[(v >> 12) & 63];
        chunk[n++] = i + 1 < len ? B64[(v >> 6) & 63] : '=';
        chunk[n++] = i + 2 < len ? B64[v & 63] : '=';
        if (n + 4 > sizeof chunk) {
            evb_err_t e = evb_buf_append(out, chunk, n);
            if (e)
                return e;
            n = 0;
        }
    }
    return n ? evb_buf_append(out, chunk, n) : EVB_ERR_OK;
}

/* A JSON document: an object or array, valid. */
static bool json_document(const char *s, size_t len) {
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
                       s[i] == '\r'))
        i++;
    if (i == len || (s[i] != '{' && s[i] != '['))
        return false;
    return evb_json_validate(s, len, EVB__PIPE_MAX_DEPTH, NULL, 0) ==
           EVB_ERR_OK;
}

/* Decode one data field into kind and json. */
static evb_pipe_decode_result_t decode_field(const evb_pipe_record_t *rec,
                                             bool is_key, const void *data,
                                             size_t len,
                                             evb_pipe_decode_fn decode,
                                             void *ud, evb_pipe_data_kind_t *kind,
                                             evb_buf_t *json,
                                             evb_pipe_decode_info_t *info,
                                             unsigned *undecodable,
                                             char *errstr,
                                             size_t errstr_size) {
    evb_buf_reset(json);
    memset(info, 0, sizeof *info);
    if (!data) {
        *kind = EVB_PIPE_DATA_NONE;
        return EVB_PIPE_DECODE_PASS;
    }
    if (decode) {
        evb_pipe_decode_result_t r = decode(ud, rec, is_key, data, len, json,
                                            info, errstr, errstr_size);
        if (r == EVB_PIPE_DECODE_RETRY)
            return r;
        if (r == EVB_PIPE_DECODE_JSON && json->len &&
            evb_json_validate(json->data, json->len, EVB__PIPE_MAX_DEPTH, NULL,
                              0) == EVB_ERR_OK) {
            *kind = EVB_PIPE_DATA_JSON;
            info->data_format[sizeof info->data_format - 1] = '\0';
            info->schema_id[sizeof info->schema_id - 1] = '\0';
            return r;
        }
        evb_buf_reset(json);
        memset(info, 0, sizeof *info);
        if (r == EVB_PIPE_DECODE_BINARY || r == EVB_PIPE_DECODE_JSON) {
            /* the hook's data, but not decodable (or not JSON after all) */
            (*undecodable)++;
            *kind = EVB_PIPE_DATA_BINARY;
            return EVB_PIPE_DECODE_PASS;
        }
    }
    if (!evb_utf8_valid(data, len)) {
        *kind = EVB_PIPE_DATA_BINARY;
    } else if (json_document(data, len)) {
        *kind = EVB_PIPE_DATA_JSON;
        if (evb_buf_append(json, data, len)) {
            evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
            return EVB_PIPE_DECODE_RETRY;
        }
    } else {
        *kind = EVB_PIPE_DATA_TEXT;
    }
    return EVB_PIPE_DECODE_PASS;
}

static const char *ts_type_name(evb_pipe_ts_type_t t) {
    switch (t) {
    case EVB_PIPE_TS_CREATE: return "CREATE_TIME";
    case EVB_PIPE_TS_LOG_APPEND: return "LOG_APPEND_TIME";
    default: return "NO_TIMESTAMP_TYPE";
    }
}

/* "topic":..,"partition":..,"offset":..,"timestamp":..,"timestampType":.. */
static evb_err_t put_position(evb_buf_t *b, const evb_pipe_record_t *r) {
    evb_err_t e = evb_buf_append(b, "\"topic\":", 8);
    if (!e)
        e = evb_json_append_string(b, r->topic, strlen(r->topic));
    if (!e)
        e = evb_buf_appendf(b,
                            ",\"partition\":%d,\"offset\":%lld,\"timestamp\":"
                            "%lld,\"timestampType\":\"%s\"",
                            (int)r->partition, (long long)r->offset,
                            (long long)r->timestamp_ms,
                            ts_type_name(r->ts_type));
    return e;
}

/* "headers":[{"name":[1,2,3]},...] */
static evb_err_t put_headers(evb_buf_t *b, const evb_pipe_record_t *r) {
    evb_err_t e = evb_buf_append(b, "\"headers\":[", 11);
    for (size_t i = 0; !e && i < r->nheaders; i++) {
        const evb_pipe_header_t *h = &r->headers[i];
        if (i)
            e = evb_buf_putc(b, ',');
        if (!e)
            e = evb_buf_putc(b, '{');
        if (!e)
            e = evb_json_append_string(b, h->name, strlen(h->name));
        if (!e)
            e = evb_buf_append(b, ":[", 2);
        const unsigned char *v = h->value;
        for (size_t k = 0; !e && v && k < h->len; k++) {
            char d[4];
            size_t n = 0;
            if (k)
                d[n++] = ',';
            if (v[k] >= 100)
                d[n++] = (char)('0' + v[k] / 100);
            if (v[k] >= 10)
                d[n++] = (char)('0' + v[k] / 10 % 10);
            d[n++] = (char)('0' + v[k] % 10);
            e = evb_buf_append(b, d, n);
        }
        if (!e)
            e = evb_buf_append(b, "]}", 2);
    }
    if (!e)
        e = evb_buf_putc(b, ']');
    return e;
}

/* ,"name":<decoded> for the filter view (nothing for binary / none). */
static evb_err_t put_decoded(evb_buf_t *b, const char *name,
                             evb_pipe_data_kind_t kind, const evb_buf_t *json,
                             const void *raw, size_t raw_len) {
    if (kind != EVB_PIPE_DATA_JSON && kind != EVB_PIPE_DATA_TEXT)
        return EVB_ERR_OK;
    evb_err_t e = evb_buf_appendf(b, ",\"%s\":", name);
    if (e)
        return e;
    if (kind == EVB_PIPE_DATA_JSON)
        return evb_buf_append(b, json->data, json->len);
    return evb_json_append_string(b, raw, raw_len);
}

/* ,"name":"<base64>" in the event: of the raw bytes, or of the JSON the
 * decode hook gave, then ,"nameSchemaMetadata":{...} when it said what it
 * decoded. */
static evb_err_t put_data(evb_buf_t *b, const char *name, const void *raw,
                          size_t raw_len, const evb_pipe_decode_info_t *info,
                          const evb_buf_t *json) {
    bool decoded = info->data_format[0] != '\0';
    evb_err_t e = evb_buf_appendf(b, ",\"%s\":\"", name);
    if (!e)
        e = decoded ? evb_pipe_base64(b, json->data, json->len)
                    : evb_pipe_base64(b, raw, raw_len);
    if (!e)
        e = evb_buf_putc(b, '"');
    if (!e && decoded) {
        e = evb_buf_appendf(b, ",\"%sSchemaMetadata\":{\"dataFormat\":", name);
        if (!e)
            e = evb_json_append_string(b, info->data_format,
                                       strlen(info->data_format));
        if (!e)
            e = evb_buf_append(b, ",\"schemaId\":", 12);
        if (!e)
            e = evb_json_append_string(b, info->schema_id,
                                       strlen(info->schema_id));
        if (!e)
            e = evb_buf_putc(b, '}');
    }
    return e;
}

evb_pipe_decode_result_t evb_pipe_shape(const evb_pipe_origin_t *origin,
                                        const evb_pipe_record_t *rec,
                                        evb_pipe_decode_fn decode, void *ud,
                                        evb_pipe_shaped_t *out, char *errstr,
                                        size_t errstr_size) {
    evb_buf_reset(&out->event);
    evb_buf_reset(&out->filter_view);
    out->partition = rec->partition;
    out->offset = rec->offset;
    if (!out->topic || strcmp(out->topic, rec->topic) != 0) {
        free(out->topic);
        out->topic = strdup(rec->topic);
        if (!out->topic)
            goto nomem;
    }
    out->undecodable = 0;
    evb_pipe_decode_result_t kr = decode_field(
        rec, true, rec->key, rec->key_len, decode, ud, &out->key_kind,
        &out->key_json, &out->key_info, &out->undecodable, errstr,
        errstr_size);
    if (kr == EVB_PIPE_DECODE_RETRY)
        return kr;
    evb_pipe_decode_result_t vr = decode_field(
        rec, false, rec->value, rec->value_len, decode, ud, &out->value_kind,
        &out->value_json, &out->value_info, &out->undecodable, errstr,
        errstr_size);
    if (vr == EVB_PIPE_DECODE_RETRY)
        return vr;

    /* the event (§6.2) */
    evb_buf_t *b = &out->event;
    const char *src = origin && origin->source ? origin->source : "";
    bool msk = origin && origin->msk;
    evb_err_t e = evb_buf_appendf(
        b, "{\"eventSource\":\"%s\",\"%s\":",
        msk ? "aws:kafka" : "SelfManagedKafka",
        msk ? "eventSourceArn" : "bootstrapServers");
    if (!e)
        e = evb_json_append_string(b, src, strlen(src));
    if (!e)
        e = evb_buf_append(b, ",\"eventSourceKey\":", 18);
    if (!e) {
        char part[16];
        int n = snprintf(part, sizeof part, "-%d", (int)rec->partition);
        evb_buf_t k;
        evb_buf_init(&k, 0);
        e = evb_buf_append(&k, rec->topic, strlen(rec->topic));
        if (!e)
            e = evb_buf_append(&k, part, (size_t)n);
        if (!e)
            e = evb_json_append_string(b, k.data, k.len);
        evb_buf_free(&k);
    }
    if (!e)
        e = evb_buf_putc(b, ',');
    if (!e)
        e = put_position(b, rec);
    if (!e && rec->key)
        e = put_data(b, "key", rec->key, rec->key_len, &out->key_info,
                     &out->key_json);
    if (!e && rec->value)
        e = put_data(b, "value", rec->value, rec->value_len, &out->value_info,
                     &out->value_json);
    if (!e)
        e = evb_buf_putc(b, ',');
    if (!e)
        e = put_headers(b, rec);
    if (!e)
        e = evb_buf_putc(b, '}');

    /* the filter view (§6.3): filterable metadata, decoded data */
    b = &out->filter_view;
    if (!e)
        e = evb_buf_putc(b, '{');
    if (!e && !msk) {
        e = evb_buf_append(b, "\"bootstrapServers\":", 19);
        if (!e)
            e = evb_json_append_string(b, src, strlen(src));
        if (!e)
            e = evb_buf_putc(b, ',');
    }
    if (!e)
        e = put_position(b, rec);
    if (!e)
        e = evb_buf_putc(b, ',');
    if (!e)
        e = put_headers(b, rec);
    if (!e)
        e = put_decoded(b, "key", out->key_kind, &out->key_json, rec->key,
                        rec->key_len);
    if (!e)
        e = put_decoded(b, "value", out->value_kind, &out->value_json,
                        rec->value, rec->value_len);
    if (!e)
        e = evb_buf_putc(b, '}');
    if (e)
        goto nomem;
    return vr == EVB_PIPE_DECODE_JSON || kr == EVB_PIPE_DECODE_JSON
               ? EVB_PIPE_DECODE_JSON
               : EVB_PIPE_DECODE_PASS;
nomem:
    evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    return EVB_PIPE_DECODE_RETRY;
}

static bool wanted(const evb__view_need_t *need, const char *k, size_t klen) {
    for (size_t i = 0; i < need->nvalue_keys; i++)
        if (strlen(need->value_keys[i]) == klen &&
            memcmp(need->value_keys[i], k, klen) == 0)
            return true;
    return false;
}

/* The value with only the members the paths go through: the members'
 * texts are found with the json module's parser (no allocation per
 * node) and only they are loaded. NULL: load the whole value (not an
 * object, or no memory: the caller's path reports that). */
static json_t *value_members(const evb_pipe_shaped_t *s,
                             const evb__view_need_t *need) {
    evb_arena_t a;
    evb_arena_init(&a, 4096);
    evb_jval_t *root = NULL;
    json_t *obj = NULL;
    if (evb_json_parse(&a, s->value_json.data, s->value_json.len,
                       EVB__PIPE_MAX_DEPTH, &root, NULL, 0) == EVB_ERR_OK &&
        root->type == EVB_JSON_OBJECT && (obj = json_object())) {
        /* document order, so that a repeated key ends as its last value,
         * as when the whole value is loaded */
        for (size_t i = 0; i < root->u.obj.n; i++) {
            const evb_jmember_t *m = &root->u.obj.members[i];
            if (!wanted(need, m->key, m->klen))
                continue;
            json_t *v = evb__json_load(m->val->src, m->val->src_len);
            if (!v || json_object_setn_new(obj, m->key, m->klen, v)) {
                json_decref(obj);
                obj = NULL;
                break;
            }
        }
    }
    evb_arena_free(&a);
    return obj;
}

/* ev (consumed) with "key" and "value" set to the record's decoded JSON
 * where asked; the value reduced to need's members unless need is NULL
 * or reads the whole value. NULL on allocation failure. */
static json_t *with_decoded(json_t *ev, const evb_pipe_shaped_t *s, bool key,
                            bool value, const evb__view_need_t *need) {
    if (!ev)
        return NULL;
    if (key) {
        json_t *k = evb__json_load(s->key_json.data, s->key_json.len);
        if (!k || json_object_set_new(ev, "key", k))
            goto fail;
    }
    if (value) {
        json_t *v = need && !need->whole_value ? value_members(s, need) : NULL;
        if (!v)
            v = evb__json_load(s->value_json.data, s->value_json.len);
        if (!v || json_object_set_new(ev, "value", v))
            goto fail;
    }
    return ev;
fail:
    json_decref(ev);
    return NULL;
}

json_t *evb_pipe_shaped_template_view(const evb_pipe_shaped_t *s) {
    return with_decoded(evb__json_load(s->event.data ? s->event.data : "{}",
                                       s->event.data ? s->event.len : 2),
                        s, s->key_kind == EVB_PIPE_DATA_JSON,
                        s->value_kind == EVB_PIPE_DATA_JSON, NULL);
}

json_t *evb__shaped_view(const evb_pipe_shaped_t *s,
                         const evb__view_need_t *need) {
    unsigned roots = need->roots;
    if ((roots & EVB__ROOT_ALL) ||
        ((roots & EVB__ROOT_VALUE) && s->value_kind != EVB_PIPE_DATA_JSON) ||
        ((roots & EVB__ROOT_KEY) && s->key_kind != EVB_PIPE_DATA_JSON))
        return evb_pipe_shaped_template_view(s);
    /* only decoded members are read: leave the rest of the event (its
     * metadata, the base64 of key and value) unparsed */
    return with_decoded(json_object(), s, roots & EVB__ROOT_KEY,
                        roots & EVB__ROOT_VALUE, need);
}

json_t *evb__json_load(const char *text, size_t len) {
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!v && json_error_code(&je) == json_error_numeric_overflow)
        v = json_loadb(text, len,
                       JSON_DECODE_ANY | JSON_ALLOW_NUL |
                           JSON_DECODE_INT_AS_REAL,
                       NULL);
    return v;
}
