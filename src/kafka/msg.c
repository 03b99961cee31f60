/*
 * msg.c: more of a consumed message than evb_kafka_msg_t's fields: its
 * timestamp type and every header in order (the connector's event detail
 * carries both, as Kafka Connect's SinkRecord does).
 */
#include "kafka_internal.h"

evb_kafka_ts_type_t evb_kafka_msg_timestamp_type(const evb_kafka_msg_t *m) {
    rd_kafka_timestamp_type_t tt = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    (void)rd_kafka_message_timestamp(m->evb__rkm, &tt);
    switch (tt) {
    case RD_KAFKA_TIMESTAMP_CREATE_TIME: return EVB_KAFKA_TS_CREATE_TIME;
    case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME:
        return EVB_KAFKA_TS_LOG_APPEND_TIME;
    default: return EVB_KAFKA_TS_NONE;
    }
}

size_t evb_kafka_msg_header_count(const evb_kafka_msg_t *m) {
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m->evb__rkm, &h) || !h)
        return 0;
    return rd_kafka_header_cnt(h);
}

bool evb_kafka_msg_header_at(const evb_kafka_msg_t *m, size_t i,
                             evb_kafka_header_t *out) {
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m->evb__rkm, &h) || !h)
        return false;
    const char *name;
    const void *value;
    size_t len;
    if (rd_kafka_header_get_all(h, i, &name, &value, &len))
        return false;
    out->name = name;
    out->value = value;
    out->len = value ? len : 0;
    return true;
}
