/*
 * pipes_env: what the pipes end-to-end tests share: a store in a temporary
 * directory, the bus, queue, API-destination and delivery services, the
 * pipe service over them, an in-process Kafka cluster (kafka_mock.h), and
 * helpers to create pipes, wait for states and read log groups.
 */
#ifndef EVB_TEST_PIPES_ENV_H
#define EVB_TEST_PIPES_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "delivery/delivery.h"
#include "pipes/pipes.h"
#include "support/kafka_mock.h"

typedef struct evb_test_pipes {
    char dir[256];
    evb_store_t *store;
    evb_bus_service_t *bus;
    evb_queue_service_t *queues;
    evb_apidest_invoker_t *inv;
    evb_delivery_t *dv;
    evb_pipe_service_t *pipes;
    evb_test_kafka_t *kafka;
    evb_pipe_service_config_t pcfg;
} evb_test_pipes_t;

/* Everything up; kafka_target may be NULL. 0 on success. */
int evb_test_pipes_open(evb_test_pipes_t *e, evb_pipe_kafka_target_fn kt,
                        void *kt_ud);
/* Close the pipe service and open it again on the same store (a restart
 * of the server's pipes). 0 on success. */
int evb_test_pipes_reopen(evb_test_pipes_t *e);
void evb_test_pipes_close(evb_test_pipes_t *e);

/* CreatePipe with a printf-formatted JSON body; 0 on success (errors are
 * printed). */
int evb_test_pipe_create(evb_test_pipes_t *e, const char *name,
                         const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Poll DescribePipe until CurrentState is state; true if it got there. */
bool evb_test_pipe_wait_state(evb_test_pipes_t *e, const char *name,
                              const char *state, unsigned timeout_ms);
/* The messages of a log group, oldest first (a NULL-terminated array the
 * caller frees with evb_test_free_strings); *n gets the count. */
char **evb_test_log_messages(evb_test_pipes_t *e, const char *group,
                             size_t *n);
void evb_test_free_strings(char **v);
/* Wait until the log group has at least n messages; returns the count. */
size_t evb_test_wait_logs(evb_test_pipes_t *e, const char *group, size_t n,
                          unsigned timeout_ms);
/* Run one SQL query returning one integer (e.g. a count). */
long long evb_test_sql_int(evb_test_pipes_t *e, const char *sql);
void evb_test_sleep_ms(unsigned ms);

#endif
