/*
 * fuzz_kafka_properties.c: fuzz target for the Java .properties reader of
 * the kafka module (evb_kafka_conf_parse_properties) and for Kafka topic
 * ARNs (evb_kafka_topic_arn_parse).
 *
 * Besides crashes and sanitizer reports the target aborts when:
 *   - parsing fails with anything but EVB_ERR_INVALID_ARG or NOMEM, or an
 *     error message that does not start with "fuzz:LINE: ";
 *   - a failed parse added properties to the list;
 *   - a parsed property has an empty name or a name with a control
 *     character, or an origin that is not "fuzz:LINE";
 *   - parsing the same text twice gives a different list;
 *   - a topic ARN parses into names that are not valid.
 * Seeds: fuzz/corpus/fuzz_kafka_properties/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static evb_kafka_conf_t *parse(const uint8_t *data, size_t size, evb_err_t *err,
                               char *errstr, size_t n) {
    evb_kafka_conf_t *c = evb_kafka_conf_new();
    if (!c)
        abort();
    *err = evb_kafka_conf_parse_properties(c, (const char *)data, size, "fuzz",
                                           errstr, n);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char errstr[512] = "";
    evb_err_t err;
    evb_kafka_conf_t *a = parse(data, size, &err, errstr, sizeof errstr);
    if (err) {
        if (err != EVB_ERR_INVALID_ARG && err != EVB_ERR_NOMEM)
            abort();
        if (err == EVB_ERR_INVALID_ARG && strncmp(errstr, "fuzz:", 5) != 0)
            abort();
        if (evb_kafka_conf_count(a) != 0)
            abort();
    }
    for (size_t i = 0; i < evb_kafka_conf_count(a); i++) {
        const char *k, *v, *o;
        evb_kafka_conf_entry(a, i, &k, &v, &o);
        if (!k[0] || !o || strncmp(o, "fuzz:", 5) != 0)
            abort();
        for (const unsigned char *p = (const unsigned char *)k; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                abort();
        if (strcmp(evb_kafka_conf_get(a, k), v) != 0)
            abort();
    }
    evb_buf_t d;
    evb_buf_init(&d, 0);
    evb_kafka_conf_describe(a, &d);
    evb_buf_free(&d);
    evb_err_t err2;
    evb_kafka_conf_t *b = parse(data, size, &err2, errstr, sizeof errstr);
    if (err2 != err || evb_kafka_conf_count(a) != evb_kafka_conf_count(b))
        abort();
    for (size_t i = 0; i < evb_kafka_conf_count(a); i++) {
        const char *k1, *v1, *k2, *v2;
        evb_kafka_conf_entry(a, i, &k1, &v1, NULL);
        evb_kafka_conf_entry(b, i, &k2, &v2, NULL);
        if (strcmp(k1, k2) || strcmp(v1, v2))
            abort();
    }
    evb_kafka_conf_free(a);
    evb_kafka_conf_free(b);

    /* the same bytes as a topic ARN */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    evb_kafka_topic_arn_t arn;
    if (evb_kafka_topic_arn_parse(s, &arn) &&
        (!evb_kafka_cluster_name_valid(arn.cluster) ||
         !evb_kafka_topic_name_valid(arn.topic, strlen(arn.topic))))
        abort();
    free(s);
    return 0;
}
