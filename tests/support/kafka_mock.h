/*
 * kafka_mock: an in-process Kafka cluster for tests (librdkafka's mock
 * cluster, one broker on a loopback port) with a producer to fill it.
 * For the pipes tests; the Kafka module's tools/kafka-mock may replace it.
 */
#ifndef EVB_TEST_KAFKA_MOCK_H
#define EVB_TEST_KAFKA_MOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct evb_test_kafka evb_test_kafka_t;

/* Start a one-broker cluster; NULL on failure. */
evb_test_kafka_t *evb_test_kafka_start(void);
void evb_test_kafka_stop(evb_test_kafka_t *k);

/* "127.0.0.1:PORT" */
const char *evb_test_kafka_bootstrap(const evb_test_kafka_t *k);

/* Create a topic; 0 on success. */
int evb_test_kafka_topic(evb_test_kafka_t *k, const char *topic,
                         int partitions);

/* Produce one record (copied) to a partition (-1: any); key and value may
 * be NULL; hname/hval one optional header. 0 on success. */
int evb_test_kafka_produce(evb_test_kafka_t *k, const char *topic,
                           int partition, const void *key, size_t klen,
                           const void *value, size_t vlen, const char *hname,
                           const char *hval);

/* Wait until every record produced so far is acknowledged; 0 on success. */
int evb_test_kafka_flush(evb_test_kafka_t *k);

#endif
