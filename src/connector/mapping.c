/*
 * mapping.c: a Kafka record -> one PutEvents request entry, exactly as
 * upstream's DefaultEventBridgeMapper and SinkRecordJsonMapper build it
 * (reference kafka-connector.md section 2.2), and the batching rule of
 * its DefaultEventBridgeBatching (section 2.3).
 *
 * The detail's keys are always, in this order: topic, partition, offset,
 * timestamp (null when the record has none), timestampType, headers (an
 * array of one-key objects), key (null for a null key), value (null for
 * a tombstone). Key and value are their converter's JSON (convert.c).
 *
 * Detail types: DefaultDetailTypeMapper (one template, where every
 * "${topic}" is replaced by the topic; or a per-topic map with the
 * fallback kafka-connect-TOPIC) or JsonPathDetailTypeMapper (a string
 * selected in the value's JSON, else the topic's name).
 *
 * The entry's size is EventBridge's: UTF-8 bytes of Source, DetailType,
 * Detail and each Resource (no Time, no TraceHeader are set).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../json/json.h"
#include "../transform/transform.h"
#include "connector_internal.h"

#define MAX_RECORD_JSON (64u << 20)

struct evb_connector_mapper {
    const evb_connector_config_t *cfg;
    evb__conv_t *key, *value;
    char *source;           /* "kafka-connect." + id */
    evb_buf_t prefix;       /* {"Source":"...", */
    evb_buf_t tail;         /* ,"EventBusName":"...","Resources":[...]} */
    size_t resources_bytes; /* their UTF-8 size */
    evb_transform_t *fieldref;
    evb_arena_t arena;
    evb_buf_t kbuf, vbuf, detail, dt, tmp;
};

void evb_connector_mapper_free(evb_connector_mapper_t *m) {
    if (!m)
        return;
    evb__conv_free(m->key);
    evb__conv_free(m->value);
    free(m->source);
    evb_buf_free(&m->prefix);
    evb_buf_free(&m->tail);
    evb_transform_free(m->fieldref);
    evb_arena_free(&m->arena);
    evb_buf_free(&m->kbuf);
    evb_buf_free(&m->vbuf);
    evb_buf_free(&m->detail);
    evb_buf_free(&m->dt);
    evb_buf_free(&m->tmp);
    free(m);
}

evb_err_t evb_connector_mapper_new(const evb_connector_config_t *c,
                                   evb_connector_mapper_t **out, char *errstr,
                                   size_t errstr_size) {
    *out = NULL;
    evb_connector_mapper_t *m = calloc(1, sizeof *m);
    if (!m)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    m->cfg = c;
    evb_arena_init(&m->arena, 0);
    evb_buf_init(&m->prefix, 1u << 20);
    evb_buf_init(&m->tail, 1u << 20);
    evb_buf_init(&m->kbuf, MAX_RECORD_JSON);
    evb_buf_init(&m->vbuf, MAX_RECORD_JSON);
    evb_buf_init(&m->detail, 2 * MAX_RECORD_JSON);
    evb_buf_init(&m->dt, 1u << 20);
    evb_buf_init(&m->tmp, MAX_RECORD_JSON);
    evb_err_t err;
    if ((err =
             evb__conv_new(&c->key_conv, true, &m->key, errstr, errstr_size)) ||
        (err = evb__conv_new(&c->value_conv, false, &m->value, errstr,
                             errstr_size)))
        goto fail;
    const char *id = evb__cfg_str(c, P_CONNECTOR_ID);
    size_t sl = strlen(id) + 15;
    if (!(m->source = malloc(sl))) {
        err = EVB_ERR_NOMEM;
        goto nomem;
    }
    snprintf(m->source, sl, "kafka-connect.%s", id);
    if ((err = evb_buf_append(&m->prefix, "{\"Source\":", 10)) ||
        (err = evb_json_append_string(&m->prefix, m->source,
                                      strlen(m->source))) ||
        (err = evb_buf_append(&m->tail, ",\"EventBusName\":", 16)) ||
        (err = evb_json_append_string(&m->tail, evb__cfg_str(c, P_BUS_ARN),
                                      strlen(evb__cfg_str(c, P_BUS_ARN)))))
        goto nomem;
    if (c->nresources) {
        if ((err = evb_buf_append(&m->tail, ",\"Resources\":[", 14)))
            goto nomem;
        for (size_t i = 0; i < c->nresources; i++) {
            m->resources_bytes += strlen(c->resources[i]);
            if ((i && (err = evb_buf_putc(&m->tail, ','))) ||
                (err = evb_json_append_string(&m->tail, c->resources[i],
                                              strlen(c->resources[i]))))
                goto nomem;
        }
        if ((err = evb_buf_putc(&m->tail, ']')))
            goto nomem;
    }
    if ((err = evb_buf_putc(&m->tail, '}')))
        goto nomem;
    if (c->jsonpath_mapper) {
        const char *ref = evb__cfg_str(c, P_DT_FIELDREF);
        evb_transform_spec_t spec = {.input_path = ref,
                                     .input_path_len = strlen(ref)};
        if ((err = evb_transform_compile(&spec, "fieldref", &m->fieldref,
                                         errstr, errstr_size)))
            goto fail;
    }
    *out = m;
    return EVB_ERR_OK;
nomem:
    err = evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
fail:
    evb_connector_mapper_free(m);
    return err;
}

static evb_err_t append_template(evb_buf_t *b, const char *tpl,
                                 const char *topic) {
    evb_err_t err = EVB_ERR_OK;
    const char *p = tpl;
    for (const char *q; !err && (q = strstr(p, "${topic}")); p = q + 8) {
        err = evb_buf_append(b, p, (size_t)(q - p));
        if (!err)
            err = evb_buf_append(b, topic, strlen(topic));
    }
    if (!err)
        err = evb_buf_append(b, p, strlen(p));
    return err;
}

/* JsonPathDetailTypeMapper: the string at the path in the value's JSON
 * when it is a string that is not blank, else the topic. */
static evb_err_t jsonpath_type(evb_connector_mapper_t *m, const char *topic,
                               const char *value, size_t vlen, bool is_null) {
    evb_buf_t *dt = &m->dt;
    if (!is_null) {
        evb_buf_reset(&m->tmp);
        evb_err_t err = evb_transform_apply(m->fieldref, value, vlen, NULL,
                                            &m->tmp, NULL, 0);
        if (err == EVB_ERR_NOMEM)
            return err;
        if (!err && m->tmp.len && m->tmp.data[0] == '"') {
            evb_arena_reset(&m->arena);
            evb_jval_t *v = NULL;
            if (evb_json_parse(&m->arena, m->tmp.data, m->tmp.len, 4, &v, NULL,
                               0) == EVB_ERR_OK &&
                v->type == EVB_JSON_STRING) {
                bool blank = true;
                for (size_t i = 0; blank && i < v->u.str.len; i++)
                    blank = v->u.str.s[i] == ' ' || v->u.str.s[i] == '\t' ||
                            v->u.str.s[i] == '\n' || v->u.str.s[i] == '\r' ||
                            (unsigned char)v->u.str.s[i] < 0x20;
                if (!blank)
                    return evb_buf_append(dt, v->u.str.s, v->u.str.len);
            }
        }
    }
    return evb_buf_append(dt, topic, strlen(topic));
}

static evb_err_t detail_type(evb_connector_mapper_t *m, const char *topic) {
    const evb_connector_config_t *c = m->cfg;
    if (c->dt_single)
        return append_template(&m->dt, c->dt_single, topic);
    for (size_t i = 0; i < c->ndt; i++)
        if (strcmp(c->dt_topics[i], topic) == 0)
            return evb_buf_append(&m->dt, c->dt_types[i],
                                  strlen(c->dt_types[i]));
    return append_template(&m->dt, "kafka-connect-${topic}", topic);
}

static void fail(evb_connector_failure_t *why, const char *stage,
                 const char *class_name, const char *exception,
                 const char *msg) {
    why->stage = stage;
    why->class_name = class_name;
    why->exception = exception;
    snprintf(why->message, sizeof why->message, "%s", msg);
}

static const char *ts_name(evb_kafka_ts_type_t t) {
    switch (t) {
    case EVB_KAFKA_TS_CREATE_TIME: return "CreateTime";
    case EVB_KAFKA_TS_LOG_APPEND_TIME: return "LogAppendTime";
    default: return "NoTimestampType";
    }
}

/* Convert key or value; on failure fill why. EVB_ERR_IO (a registry that
 * cannot be reached) is returned as it is, for the runner to retry. */
static evb_err_t convert(evb_connector_mapper_t *m, evb__conv_t *conv,
                         const char *stage, const char *topic, const void *data,
                         size_t len, evb_buf_t *out,
                         evb_connector_failure_t *why) {
    evb_buf_reset(out);
    if (!data)
        return evb_buf_append(out, "null", 4);
    const char *exception;
    char msg[500];
    evb_err_t err = evb__conv_to_json(conv, topic, data, len, out, &exception,
                                      msg, sizeof msg);
    (void)m;
    if (err && err != EVB_ERR_NOMEM)
        fail(why, stage, evb__conv_class(conv), exception, msg);
    return err;
}

evb_err_t evb_connector_map_detail(evb_connector_mapper_t *m,
                                   const evb_connector_record_t *r,
                                   evb_buf_t *out, evb_buf_t *dt_out,
                                   evb_connector_failure_t *why) {
    evb_err_t err;
    if ((err = convert(m, m->key, "KEY_CONVERTER", r->topic, r->key, r->key_len,
                       &m->kbuf, why)) ||
        (err = convert(m, m->value, "VALUE_CONVERTER", r->topic, r->value,
                       r->value_len, &m->vbuf, why)))
        return err;
    size_t base = out->len;
    err = evb_buf_append(out, "{\"topic\":", 9);
    if (!err)
        err = evb_json_append_string(out, r->topic, strlen(r->topic));
    if (!err)
        err = evb_buf_appendf(out, ",\"partition\":%d,\"offset\":%lld",
                              (int)r->partition, (long long)r->offset);
    if (!err)
        err = r->timestamp_ms >= 0
                  ? evb_buf_appendf(out, ",\"timestamp\":%lld",
                                    (long long)r->timestamp_ms)
                  : evb_buf_append(out, ",\"timestamp\":null", 17);
    if (!err)
        err =
            evb_buf_appendf(out, ",\"timestampType\":\"%s\",\"headers\":[",
                            ts_name(r->timestamp_ms >= 0 ? r->timestamp_type
                                                         : EVB_KAFKA_TS_NONE));
    for (size_t i = 0; !err && i < r->nheaders; i++) {
        const evb_kafka_header_t *h = &r->headers[i];
        err = evb_buf_append(out, i ? ",{" : "{", i ? 2 : 1);
        if (!err)
            err = evb__json_string_utf8(out, h->name, strlen(h->name));
        if (!err)
            err = evb_buf_putc(out, ':');
        if (!err)
            err = evb__header_to_json(h->value, h->len, out);
        if (!err)
            err = evb_buf_putc(out, '}');
    }
    if (!err)
        err = evb_buf_append(out, "],\"key\":", 8);
    if (!err)
        err = evb_buf_append(out, m->kbuf.data, m->kbuf.len);
    if (!err)
        err = evb_buf_append(out, ",\"value\":", 9);
    if (!err)
        err = evb_buf_append(out, m->vbuf.data, m->vbuf.len);
    if (!err)
        err = evb_buf_putc(out, '}');
    if (!err) {
        evb_buf_reset(&m->dt);
        err = m->fieldref ? jsonpath_type(m, r->topic, m->vbuf.data,
                                          m->vbuf.len, r->value == NULL)
                          : detail_type(m, r->topic);
    }
    if (!err && dt_out)
        err = evb_buf_append(dt_out, m->dt.data, m->dt.len);
    if (err) {
        out->len = base;
        if (out->data)
            out->data[base] = 0;
        if (err == EVB_ERR_TOO_LARGE)
            fail(why, "TASK_PUT", EVB__CONNECTOR_CLASS, EVB__DATA_EXCEPTION,
                 "the record's JSON is larger than evbus handles (64 MiB)");
        else
            err = EVB_ERR_NOMEM;
    }
    return err;
}

evb_err_t evb_connector_map(evb_connector_mapper_t *m,
                            const evb_connector_record_t *r, evb_buf_t *entry,
                            size_t *size, evb_connector_failure_t *why) {
    evb_buf_reset(&m->detail);
    evb_err_t err = evb_connector_map_detail(m, r, &m->detail, NULL, why);
    if (err)
        return err == EVB_ERR_TOO_LARGE ? EVB_ERR_INVALID_ARG : err;
    size_t base = entry->len;
    err = evb_buf_append(entry, m->prefix.data, m->prefix.len);
    if (!err)
        err = evb_buf_append(entry, ",\"DetailType\":", 14);
    if (!err)
        err = evb_json_append_string(entry, m->dt.data, m->dt.len);
    if (!err)
        err = evb_buf_append(entry, ",\"Detail\":", 10);
    if (!err)
        err = evb_json_append_string(entry, m->detail.data, m->detail.len);
    if (!err)
        err = evb_buf_append(entry, m->tail.data, m->tail.len);
    if (err) {
        entry->len = base;
        if (entry->data)
            entry->data[base] = 0;
        if (err == EVB_ERR_TOO_LARGE) {
            fail(why, "TASK_PUT", EVB__CONNECTOR_CLASS, EVB__DATA_EXCEPTION,
                 "the entry does not fit the request buffer");
            return EVB_ERR_INVALID_ARG;
        }
        return EVB_ERR_NOMEM;
    }
    *size = strlen(m->source) + m->dt.len + m->detail.len + m->resources_bytes;
    return EVB_ERR_OK;
}

size_t evb_connector_batch_plan(const size_t *sizes, size_t n,
                                size_t max_entries, size_t max_bytes,
                                size_t *ends) {
    size_t nb = 0, count = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (count > 0 &&
            (count >= max_entries || bytes + sizes[i] > max_bytes)) {
            ends[nb++] = i;
            count = 0;
            bytes = 0;
        }
        count++;
        bytes += sizes[i];
    }
    if (count)
        ends[nb++] = n;
    return nb;
}
