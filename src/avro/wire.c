/*
 * wire.c: the framings schema-registry serializers put around an Avro datum
 * in a Kafka record value (kafka-connector.md section 4).
 *
 *   Confluent: [0x00][schema id, 4 bytes big-endian][datum]
 *   AWS Glue:  [0x03][compression 0|5][schema version UUID, 16 bytes][datum]
 *              with compression 5 the datum is a zlib stream (Java's
 *              Deflater defaults)
 *
 * Inflation is bounded: the output buffer refuses to grow past the
 * caller's limit, so a small "zip bomb" costs at most that much memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "avro_internal.h"

const char *evb_wire_format_name(evb_wire_format_t f) {
    switch (f) {
    case EVB_WIRE_CONFLUENT: return "confluent";
    case EVB_WIRE_GLUE: return "glue";
    }
    return "unknown";
}

/* Make room for len + extra bytes plus the NUL, within b->max. */
static evb_err_t buf_room(evb_buf_t *b, size_t extra) {
    if (extra > b->max || b->len > b->max - extra)
        return EVB_ERR_TOO_LARGE;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return EVB_ERR_OK;
    char *p = realloc(b->data, need);
    if (!p)
        return EVB_ERR_NOMEM;
    b->data = p;
    b->cap = need;
    return EVB_ERR_OK;
}

static evb_err_t inflate_payload(const uint8_t *in, size_t n, evb_buf_t *out,
                                 size_t max, char *errstr, size_t errstr_size) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size,
                           "cannot initialise zlib");
    evb_err_t err = EVB_ERR_OK;
    z.next_in = (Bytef *)(uintptr_t)in;
    size_t left = n;
    for (;;) {
        uint8_t probe;
        size_t room;
        if (out->len >= max) {
            /* full: fine only if the stream ends without more output */
            z.next_out = &probe;
            room = 1;
        } else {
            size_t grow = out->len < 65536 ? 65536 : out->len;
            if (grow > max - out->len)
                grow = max - out->len;
            if (out->cap < out->len + 2 &&
                (err = buf_room(out, grow)) != EVB_ERR_OK) {
                evb_err_set(err, errstr, errstr_size,
                            "cannot inflate the AWS Glue payload: %s",
                            evb_err_message(err));
                break;
            }
            room = out->cap - 1 - out->len;
            if (room > max - out->len)
                room = max - out->len;
            z.next_out = (Bytef *)out->data + out->len;
        }
        uInt in_chunk = left > 0x40000000u ? 0x40000000u : (uInt)left;
        uInt out_chunk = room > 0x40000000u ? 0x40000000u : (uInt)room;
        z.avail_in = in_chunk;
        z.avail_out = out_chunk;
        int zr = inflate(&z, Z_NO_FLUSH);
        left -= in_chunk - z.avail_in;
        size_t produced = out_chunk - z.avail_out;
        if (out->len >= max) {
            if (produced) {
                err = evb_err_set(EVB_ERR_TOO_LARGE, errstr, errstr_size,
                                  "AWS Glue payload inflates to more than "
                                  "%zu bytes",
                                  max);
                break;
            }
        } else {
            out->len += produced;
            out->data[out->len] = '\0';
        }
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_BUF_ERROR && left == 0) {
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "AWS Glue payload: zlib stream is truncated");
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                              "AWS Glue payload: bad zlib data (%s)",
                              z.msg ? z.msg : zError(zr));
            break;
        }
    }
    if (!err && left != 0)
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "AWS Glue payload: %zu bytes after the end of the "
                          "zlib stream",
                          left);
    inflateEnd(&z);
    return err;
}

evb_err_t evb_wire_parse(const void *data, size_t len, evb_buf_t *scratch,
                         size_t max_payload, evb_wire_info_t *info,
                         char *errstr, size_t errstr_size) {
    const uint8_t *p = data;
    memset(info, 0, sizeof *info);
    if (len == 0)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "empty record value: no wire format header");
    if (p[0] == 0x00) {
        if (len < EVB_WIRE_CONFLUENT_HEADER)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "Confluent wire format: header truncated (%zu "
                               "of 5 bytes)",
                               len);
        info->format = EVB_WIRE_CONFLUENT;
        info->schema_id = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
                          (uint32_t)p[3] << 8 | p[4];
        info->payload = p + EVB_WIRE_CONFLUENT_HEADER;
        info->payload_len = len - EVB_WIRE_CONFLUENT_HEADER;
        return EVB_ERR_OK;
    }
    if (p[0] == 0x03) {
        if (len < EVB_WIRE_GLUE_HEADER)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "AWS Glue wire format: header truncated (%zu "
                               "of 18 bytes)",
                               len);
        info->format = EVB_WIRE_GLUE;
        info->glue_compression = p[1];
        memcpy(info->glue_uuid, p + 2, 16);
        const uint8_t *body = p + EVB_WIRE_GLUE_HEADER;
        size_t blen = len - EVB_WIRE_GLUE_HEADER;
        if (p[1] == EVB_WIRE_GLUE_COMPRESSION_NONE) {
            info->payload = body;
            info->payload_len = blen;
            return EVB_ERR_OK;
        }
        if (p[1] != EVB_WIRE_GLUE_COMPRESSION_ZLIB)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "AWS Glue wire format: unknown compression "
                               "byte %u (expected 0 or 5)",
                               p[1]);
        if (!scratch)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "AWS Glue wire format: compressed payload "
                               "and no buffer to inflate it into");
        size_t max = max_payload ? max_payload : EVB_WIRE_DEFAULT_MAX_PAYLOAD;
        if (scratch->max < max)
            max = scratch->max;
        evb_buf_reset(scratch);
        evb_err_t err =
            inflate_payload(body, blen, scratch, max, errstr, errstr_size);
        if (err) {
            evb_buf_reset(scratch);
            return err;
        }
        info->payload = scratch->data ? (const uint8_t *)scratch->data
                                      : (const uint8_t *)"";
        info->payload_len = scratch->len;
        return EVB_ERR_OK;
    }
    return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                       "Unknown magic byte! 0x%02x is neither Confluent's 0 "
                       "nor AWS Glue's header version 3",
                       p[0]);
}

evb_err_t evb_wire_confluent_header(evb_buf_t *out, uint32_t schema_id) {
    uint8_t h[5] = {0, (uint8_t)(schema_id >> 24), (uint8_t)(schema_id >> 16),
                    (uint8_t)(schema_id >> 8), (uint8_t)schema_id};
    return evb_buf_append(out, h, sizeof h);
}

evb_err_t evb_wire_glue_frame(evb_buf_t *out, const uint8_t uuid[16],
                              uint8_t compression, const void *payload,
                              size_t payload_len) {
    if (compression != EVB_WIRE_GLUE_COMPRESSION_NONE &&
        compression != EVB_WIRE_GLUE_COMPRESSION_ZLIB)
        return EVB_ERR_INVALID_ARG;
    size_t base = out->len;
    uint8_t h[2] = {3, compression};
    evb_err_t err = evb_buf_append(out, h, 2);
    if (!err)
        err = evb_buf_append(out, uuid, 16);
    if (!err && compression == EVB_WIRE_GLUE_COMPRESSION_NONE)
        err = evb_buf_append(out, payload, payload_len);
    if (!err && compression == EVB_WIRE_GLUE_COMPRESSION_ZLIB) {
        uLong bound = compressBound((uLong)payload_len);
        err = buf_room(out, bound);
        if (!err) {
            uLongf dl = bound;
            int zr = compress((Bytef *)out->data + out->len, &dl,
                              (const Bytef *)payload, (uLong)payload_len);
            if (zr != Z_OK)
                err = zr == Z_MEM_ERROR ? EVB_ERR_NOMEM : EVB_ERR_INTERNAL;
            else
                out->len += dl;
        }
    }
    if (err)
        out->len = base;
    if (out->data)
        out->data[out->len] = '\0';
    return err;
}

void evb_wire_uuid_format(const uint8_t uuid[16], char out[37]) {
    evb_uuid_format(uuid, out);
}

bool evb_wire_uuid_parse(const char *text, size_t len, uint8_t uuid[16]) {
    return evb_uuid_parse(text, len, uuid);
}
