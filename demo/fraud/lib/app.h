/*
 * app.h: what the fraud demo's programs share beyond the pure logic of
 * fraud.h: Kafka configuration from the command line, the codec to the
 * schema registry, JSON renderings of transactions and notifications,
 * atomic stats files, and a stop flag set by SIGINT/SIGTERM.
 */
#ifndef EVB_FRAUD_APP_H
#define EVB_FRAUD_APP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../../src/common/common.h"
#include "../../../src/kafka/kafka.h"
#include "../../../src/serde/serde.h"
#include "fraud.h"

/* Set by SIGINT and SIGTERM once fraud_app_signals() ran. */
extern volatile sig_atomic_t fraud_app_stop;
void fraud_app_signals(void);

int64_t fraud_app_now_ms(void);
void fraud_app_sleep_ms(int64_t ms);

/*
 * The codec to the schema registry at registry_url (*serde, new) and a
 * writer of the Avro schema in the file schema_path, registered under
 * subject "<topic>-value" (written into subject). On failure errstr says
 * why ("cannot read PATH: ..." or the registry's answer) and *serde is
 * whatever was made (NULL or open): free it with evb_serde_free.
 */
evb_err_t fraud_app_writer_open(const char *registry_url,
                                const char *schema_path, const char *topic,
                                evb_serde_t **serde, evb_serde_writer_t *writer,
                                char *subject, size_t subject_size,
                                char *errstr, size_t errstr_size);

/* Write text to path atomically (path.tmp then rename). */
bool fraud_app_write_file(const char *path, const char *text);

/* The transaction as transaction.avsc's JSON (nullable unions bare). */
evb_err_t fraud_app_txn_json(const fraud_txn_t *t, evb_buf_t *out);

/* A transaction from its JSON (as the codec decodes it); false when a
 * required field (id, creditCard, userId, total, timestamp) is missing or
 * malformed. */
bool fraud_app_txn_parse(const char *json, size_t len, fraud_txn_t *t);

/* The fraud event for finding f on t, as notification.avsc's JSON. */
evb_err_t fraud_app_notification_json(const fraud_txn_t *t,
                                      const fraud_finding_t *f, evb_buf_t *out);

#endif
