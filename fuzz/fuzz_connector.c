/*
 * fuzz_connector.c: fuzz target for the connector's configuration parser
 * (JSON and .properties forms through the property table) and for its
 * record mapping (converters, header values, UTF-8 repair, the detail
 * and the entry).
 *
 * The first byte picks what runs. Even: the rest is a configuration text;
 * a refusal must be EVB_ERR_INVALID_ARG (or NOMEM) with a message and no
 * configuration, an accepted one must describe itself. Odd: the rest is
 * a record (bytes 1-2: key length, 3-4: header value length, then key,
 * header value and value) mapped by one of four mappers (byte 0 / 2 % 4:
 * string, JSON, JSON with schemas, bytes values; the JSONPath detail-type
 * mapper on); an accepted record's detail and entry must be valid JSON,
 * a refused one must say at which stage.
 * Seeds: fuzz/corpus/fuzz_connector/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector/connector.h"
#include "json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static evb_connector_config_t *cfgs[4];
static evb_connector_mapper_t *mappers[4];

static void init(void) {
    static const char *const values[4] = {
        "value.converter=string\n", "value.converter=json\n",
        "value.converter=json\nvalue.converter.schemas.enable=true\n",
        "value.converter=bytes\nkey.converter=bytes\n"};
    for (int i = 0; i < 4; i++) {
        char text[1024], err[512];
        snprintf(text, sizeof text,
                 "topics=t\naws.eventbridge.connector.id=fuzz\n"
                 "aws.eventbridge.region=us-east-1\n"
                 "aws.eventbridge.eventbus.arn=arn:aws:events:us-east-1:"
                 "123456789012:event-bus/b\n"
                 "aws.eventbridge.eventbus.resources=r\n"
                 "aws.eventbridge.detail.types.jsonpathmapper.fieldref="
                 "$.a.b[0]\nkafka.bootstrap.servers=127.0.0.1:1\n%s",
                 values[i]);
        if (evb_connector_config_parse(text, strlen(text), "fuzz", &cfgs[i],
                                       err, sizeof err) ||
            evb_connector_mapper_new(cfgs[i], &mappers[i], err, sizeof err)) {
            fprintf(stderr, "fuzz_connector: %s\n", err);
            abort();
        }
    }
}

static void config(const uint8_t *data, size_t size) {
    evb_connector_config_t *c = NULL;
    char err[1024] = "";
    evb_err_t e = evb_connector_config_parse((const char *)data, size, "fuzz",
                                             &c, err, sizeof err);
    if (e) {
        if ((e != EVB_ERR_INVALID_ARG && e != EVB_ERR_NOMEM) || c || !err[0])
            abort();
        return;
    }
    evb_buf_t b;
    evb_buf_init(&b, 1u << 24);
    if (evb_connector_config_describe(c, &b))
        abort();
    evb_buf_free(&b);
    evb_connector_config_free(c);
}

static void record(unsigned which, const uint8_t *data, size_t size) {
    if (size < 4)
        return;
    size_t klen = (size_t)data[0] | (size_t)data[1] << 8;
    size_t hlen = (size_t)data[2] | (size_t)data[3] << 8;
    data += 4;
    size -= 4;
    if (klen > size)
        klen = size;
    if (hlen > size - klen)
        hlen = size - klen;
    evb_kafka_header_t h[2] = {{"h", data + klen, hlen}, {"n", NULL, 0}};
    evb_connector_record_t r = {
        .topic = "t",
        .partition = 1,
        .offset = 7,
        .timestamp_ms = (which & 1) ? -1 : 1,
        .timestamp_type = EVB_KAFKA_TS_CREATE_TIME,
        .key = klen ? data : NULL,
        .key_len = klen,
        .value = data + klen + hlen,
        .value_len = size - klen - hlen,
        .headers = h,
        .nheaders = 2,
    };
    evb_buf_t entry, detail;
    evb_buf_init(&entry, 1u << 26);
    evb_buf_init(&detail, 1u << 26);
    evb_connector_failure_t why;
    size_t esize = 0;
    evb_connector_mapper_t *m = mappers[which % 4];
    evb_err_t e = evb_connector_map(m, &r, &entry, &esize, &why);
    if (e == EVB_ERR_OK) {
        if (evb_json_validate(entry.data, entry.len, 64, NULL, 0) ||
            esize == 0)
            abort();
        if (evb_connector_map_detail(m, &r, &detail, NULL, &why) ||
            evb_json_validate(detail.data, detail.len, 2000, NULL, 0))
            abort();
    } else if (e == EVB_ERR_INVALID_ARG) {
        if (!why.stage || !why.message[0] || entry.len)
            abort();
    } else if (e != EVB_ERR_NOMEM) {
        abort();
    }
    evb_buf_free(&entry);
    evb_buf_free(&detail);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!mappers[0])
        init();
    if (size < 1)
        return 0;
    if (data[0] % 2 == 0)
        config(data + 1, size - 1);
    else
        record((unsigned)data[0] / 2, data + 1, size - 1);
    return 0;
}
