/*
 * convert.c: Kafka Connect's converters, as the connector's JSON sees
 * them. Upstream hands the key, the value and each header to Kafka
 * Connect's JsonConverter (schemas.enable=false) after the configured
 * converter read them; the JSON that comes out is what this file writes:
 *
 *   StringConverter     the bytes as UTF-8 text (invalid sequences become
 *                       U+FFFD, as Java decodes), a JSON string
 *   JsonConverter       the JSON text, compacted (an empty value is null);
 *                       with schemas.enable the payload of the
 *                       {"schema","payload"} envelope
 *   ByteArrayConverter  base64, a JSON string
 *   AvroConverter,      framed Avro (Confluent or Glue) decoded through
 *   AWSKafkaAvroConverter  the registry by the connector's rules
 *
 * The work is src/serde's codec (one per converter, each with its own
 * registry client and schema cache). A registry that cannot be reached is
 * EVB_ERR_IO: the runner retries it like a failed PutEvents call instead
 * of dead-lettering records because of an outage.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../json/json.h"
#include "../serde/serde.h"
#include "connector_internal.h"

#define DATA_EXCEPTION EVB__DATA_EXCEPTION
#define SERIALIZATION_EXCEPTION                                                \
    "org.apache.kafka.common.errors.SerializationException"

struct evb__conv {
    evb__conv_spec_t spec;
    bool is_key;
    evb_serde_t *serde;
    evb_serde_decode_opts_t opts;
    evb_arena_t arena;
    evb_buf_t scratch;
};

evb_err_t evb__conv_new(const evb__conv_spec_t *spec, bool is_key,
                        evb__conv_t **out, char *errstr, size_t errstr_size) {
    *out = NULL;
    evb__conv_t *c = calloc(1, sizeof *c);
    if (!c)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    c->spec = *spec;
    c->is_key = is_key;
    evb_arena_init(&c->arena, 0);
    evb_buf_init(&c->scratch, 64u << 20);
    evb_serde_config_t sc = {0};
    if (spec->kind == EVB__CONV_AVRO) {
        sc.registry_url = spec->registry_url;
        sc.user_info = *spec->user_info ? spec->user_info : NULL;
    }
    evb_err_t err = evb_serde_new(spec->kind == EVB__CONV_AVRO ? &sc : NULL,
                                  &c->serde, errstr, errstr_size);
    if (err) {
        evb__conv_free(c);
        return err;
    }
    switch (spec->kind) {
    case EVB__CONV_STRING: c->opts.mode = EVB_SERDE_MODE_STRING; break;
    case EVB__CONV_JSON: c->opts.mode = EVB_SERDE_MODE_JSON; break;
    case EVB__CONV_BYTES: c->opts.mode = EVB_SERDE_MODE_BYTES; break;
    case EVB__CONV_AVRO: c->opts.mode = EVB_SERDE_MODE_AVRO; break;
    }
    c->opts.avro.max_depth = 0;
    *out = c;
    return EVB_ERR_OK;
}

void evb__conv_free(evb__conv_t *c) {
    if (!c)
        return;
    evb_serde_free(c->serde);
    evb_arena_free(&c->arena);
    evb_buf_free(&c->scratch);
    free(c);
}

const char *evb__conv_class(const evb__conv_t *c) {
    return c->spec.class_name;
}

/* JsonConverter with schemas.enable: {"schema": ..., "payload": ...} and
 * nothing else; the payload, compact. */
static evb_err_t envelope(evb__conv_t *c, const char *json, size_t len,
                          evb_buf_t *out, char *errstr, size_t errstr_size) {
    evb_arena_reset(&c->arena);
    evb_jval_t *v = NULL;
    evb_err_t err = evb_json_parse(&c->arena, json, len, 1000, &v, NULL, 0);
    if (err == EVB_ERR_NOMEM)
        return evb_err_set(err, errstr, errstr_size, "out of memory");
    const evb_jval_t *payload = NULL;
    bool schema = false, other = false;
    if (!err && v->type == EVB_JSON_OBJECT)
        for (size_t i = 0; i < v->u.obj.n; i++) {
            const evb_jmember_t *m = &v->u.obj.members[i];
            if (m->klen == 7 && memcmp(m->key, "payload", 7) == 0)
                payload = m->val;
            else if (m->klen == 6 && memcmp(m->key, "schema", 6) == 0)
                schema = true;
            else
                other = true;
        }
    if (err || !payload || !schema || other)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "JsonConverter with schemas.enable requires "
                           "\"schema\" and \"payload\" fields and may not "
                           "contain additional fields. If you are trying to "
                           "deserialize plain JSON data, set "
                           "schemas.enable=false in your converter "
                           "configuration.");
    return evb_json_append_compact(out, payload->src, payload->src_len);
}

evb_err_t evb__conv_to_json(evb__conv_t *c, const char *topic, const void *data,
                            size_t len, evb_buf_t *out, const char **exception,
                            char *errstr, size_t errstr_size) {
    *exception = DATA_EXCEPTION;
    size_t base = out->len;
    evb_buf_t *dst = c->spec.schemas_enable ? &c->scratch : out;
    if (c->spec.schemas_enable)
        evb_buf_reset(&c->scratch);
    char why[400];
    evb_serde_info_t info;
    evb_err_t err = evb_serde_decode(c->serde, data, len, &c->opts, dst, &info,
                                     why, sizeof why);
    if (!err && c->spec.schemas_enable) {
        if (c->scratch.len == 4 && memcmp(c->scratch.data, "null", 4) == 0)
            err = evb_buf_append(out, "null", 4);
        else
            err = envelope(c, c->scratch.data, c->scratch.len, out, errstr,
                           errstr_size);
        if (err == EVB_ERR_INVALID_ARG)
            *exception = DATA_EXCEPTION;
        if (err) {
            out->len = base;
            if (out->data)
                out->data[base] = 0;
        }
        return err;
    }
    if (!err)
        return EVB_ERR_OK;
    switch (err) {
    case EVB_ERR_NOMEM:
        return evb_err_set(err, errstr, errstr_size, "out of memory");
    case EVB_ERR_IO:
        return evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                           "schema registry %s: %s", c->spec.registry_url, why);
    default: break;
    }
    if (c->spec.kind == EVB__CONV_JSON) {
        *exception = DATA_EXCEPTION;
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Converting byte[] to Kafka Connect data failed "
                           "due to serialization error: %s",
                           why);
    }
    if (c->spec.kind == EVB__CONV_AVRO) {
        *exception = DATA_EXCEPTION;
        const char *what = c->is_key ? "key" : "value";
        if (info.kind == EVB_SERDE_KIND_AVRO && info.wire == EVB_WIRE_GLUE)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "Converting byte[] to Kafka Connect data "
                               "failed due to serialization error of topic "
                               "%s (%s, Glue frame): %s",
                               topic, what, why);
        if (info.kind == EVB_SERDE_KIND_AVRO)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "Failed to deserialize data for topic %s to "
                               "Avro (%s, schema id %d): %s",
                               topic, what, (int)info.schema_id, why);
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Failed to deserialize data for topic %s to Avro "
                           "(%s): Unknown magic byte!",
                           topic, what);
    }
    return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size, "%s", why);
}

/* ---- strings and headers ------------------------------------------------ */

static evb_err_t esc(evb_buf_t *b, unsigned char ch) {
    static const char hex[] = "0123456789ABCDEF";
    switch (ch) {
    case '"': return evb_buf_append(b, "\\\"", 2);
    case '\\': return evb_buf_append(b, "\\\\", 2);
    case '\b': return evb_buf_append(b, "\\b", 2);
    case '\f': return evb_buf_append(b, "\\f", 2);
    case '\n': return evb_buf_append(b, "\\n", 2);
    case '\r': return evb_buf_append(b, "\\r", 2);
    case '\t': return evb_buf_append(b, "\\t", 2);
    default: {
        char u[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
        return evb_buf_append(b, u, 6);
    }
    }
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 with *skip the
 * length of the maximal invalid subpart to replace. */
static size_t utf8_seq(const unsigned char *p, size_t n, size_t *skip) {
    unsigned char c = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        *skip = 1;
        return 0;
    }
    for (size_t i = 1; i < need; i++) {
        unsigned char x = i < n ? p[i] : 0;
        unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (i >= n || x < l || x > h) {
            *skip = i;
            return 0;
        }
    }
    return need;
}

evb_err_t evb__json_string_utf8(evb_buf_t *b, const void *data, size_t len) {
    const unsigned char *p = data;
    evb_err_t err = evb_buf_putc(b, '"');
    size_t i = 0;
    while (!err && i < len) {
        size_t run = i;
        /* copy a run of plain bytes at once */
        while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' &&
               p[run] != '\\')
            run++;
        if (run > i) {
            err = evb_buf_append(b, p + i, run - i);
            i = run;
            continue;
        }
        if (p[i] < 0x80) {
            err = esc(b, p[i]);
            i++;
            continue;
        }
        size_t skip = 0, n = utf8_seq(p + i, len - i, &skip);
        if (n) {
            err = evb_buf_append(b, p + i, n);
            i += n;
        } else {
            err = evb_buf_append(b, "\xEF\xBF\xBD", 3);
            i += skip;
        }
    }
    if (!err)
        err = evb_buf_putc(b, '"');
    return err;
}

/* A JSON number literal (RFC 8259), all of s. */
static bool json_number(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        i++;
        size_t d = i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == d)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

/*
 * Kafka Connect reads headers with its SimpleHeaderConverter, which
 * infers a type from the text (Values.parseString), and upstream writes
 * the result with JsonConverter. evbus follows it for the common cases: a
 * null header is null; "true" and "false" are booleans; a JSON number is
 * that number; a JSON array or object is embedded; anything else
 * (including dates, which Kafka Connect would turn into epoch numbers) is
 * a string.
 */
evb_err_t evb__header_to_json(const void *value, size_t len, evb_buf_t *out) {
    if (!value)
        return evb_buf_append(out, "null", 4);
    const char *s = value;
    if ((len == 4 && memcmp(s, "true", 4) == 0) ||
        (len == 5 && memcmp(s, "false", 5) == 0))
        return evb_buf_append(out, s, len);
    if (len && len < 400 && json_number(s, len))
        return evb_buf_append(out, s, len);
    if (len && (s[0] == '[' || s[0] == '{') &&
        evb_json_validate(s, len, 100, NULL, 0) == EVB_ERR_OK)
        return evb_json_append_compact(out, s, len);
    return evb__json_string_utf8(out, s, len);
}
