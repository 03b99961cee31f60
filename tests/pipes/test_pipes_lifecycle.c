/* test_pipes_lifecycle.c: what a pipe must not lose (reference §6.2, §6.6):
 * - stop, start and update while records keep arriving: every record is
 *   delivered, none twice, none skipped;
 * - a restart of the pipe service (the server) resumes from the committed
 *   offsets of the consumer group;
 * - a failing target makes the batch fail, StateReason says why, and the
 *   batch is retried with backoff until the target is there: nothing is
 *   skipped;
 * - StartingPosition LATEST starts where the pipe first joined;
 * - a pipe whose secret is not configured ends in CREATE_FAILED. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "support/pipes_env.h"

static evb_test_pipes_t env;

#define ROLE "arn:aws:iam::000000000000:role/pipes"

static int setup(void **state) {
    (void)state;
    return evb_test_pipes_open(&env, NULL, NULL);
}

static int teardown(void **state) {
    (void)state;
    evb_test_pipes_close(&env);
    return 0;
}

static void produce(const char *topic, int from, int to, int partitions) {
    for (int i = from; i < to; i++) {
        char v[64];
        snprintf(v, sizeof v, "{\"i\":%d}", i);
        assert_int_equal(evb_test_kafka_produce(env.kafka, topic,
                                                i % partitions, NULL, 0, v,
                                                strlen(v), NULL, NULL),
                         0);
    }
    assert_int_equal(evb_test_kafka_flush(env.kafka), 0);
}

/* Count how often each "i" occurs in the group's messages (JSON {"i":..}
 * at the top or in "v"). Returns the number of messages. */
static size_t tally(const char *group, int *seen, int max) {
    memset(seen, 0, (size_t)max * sizeof *seen);
    size_t n;
    char **msgs = evb_test_log_messages(&env, group, &n);
    for (size_t k = 0; k < n; k++) {
        json_t *m = json_loads(msgs[k], 0, NULL);
        json_t *i = json_object_get(m, "i");
        if (!i)
            i = json_object_get(m, "v");
        long long v = json_integer_value(i);
        if (v >= 0 && v < max)
            seen[v]++;
        json_decref(m);
    }
    evb_test_free_strings(msgs);
    return n;
}

static void call(evb_err_t (*fn)(evb_pipe_service_t *, const char *, json_t **,
                                 char *, size_t),
                 const char *name) {
    json_t *r = NULL;
    char err[512];
    evb_err_t e = fn(env.pipes, name, &r, err, sizeof err);
    if (e)
        fail_msg("%s: %s", name, err);
    json_decref(r);
}

static void test_stop_start_update_restart(void **state) {
    (void)state;
    const char *bs = evb_test_kafka_bootstrap(env.kafka);
    assert_int_equal(evb_test_kafka_topic(env.kafka, "tl", 3), 0);
    assert_int_equal(
        evb_test_pipe_create(
            &env, "pl",
            "{\"Source\":\"smk://%s\",\"SourceParameters\":{"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"tl\","
            "\"StartingPosition\":\"TRIM_HORIZON\",\"BatchSize\":7}},"
            "\"Target\":\"arn:aws:logs:us-east-1:000000000000:log-group:/l\","
            "\"TargetParameters\":{\"InputTemplate\":\"{\\\"v\\\": "
            "<$.value.i>, \\\"gen\\\": 1}\"},\"RoleArn\":\"" ROLE "\"}",
            bs),
        0);
    produce("tl", 0, 30, 3);
    assert_true(evb_test_pipe_wait_state(&env, "pl", "RUNNING", 20000));
    assert_int_equal(evb_test_wait_logs(&env, "/l", 30, 20000), 30);

    /* stopped: records wait in Kafka */
    call(evb_pipe_stop, "pl");
    assert_true(evb_test_pipe_wait_state(&env, "pl", "STOPPED", 20000));
    produce("tl", 30, 60, 3);
    evb_test_sleep_ms(500);
    int seen[200];
    assert_int_equal(tally("/l", seen, 200), 30);

    /* started again: they arrive, nothing twice */
    call(evb_pipe_start, "pl");
    assert_true(evb_test_pipe_wait_state(&env, "pl", "RUNNING", 20000));
    assert_int_equal(evb_test_wait_logs(&env, "/l", 60, 20000), 60);

    /* updated while records arrive */
    produce("tl", 60, 75, 3);
    json_t *upd = json_loads(
        "{\"RoleArn\":\"" ROLE "\",\"TargetParameters\":{\"InputTemplate\":"
        "\"{\\\"v\\\": <$.value.i>, \\\"gen\\\": 2}\"}}",
        0, NULL);
    json_t *r = NULL;
    char err[512];
    assert_int_equal(evb_pipe_update(env.pipes, "pl", upd, &r, err, sizeof err),
                     0);
    assert_string_equal(json_string_value(json_object_get(r, "CurrentState")),
                        "UPDATING");
    json_decref(r);
    json_decref(upd);
    produce("tl", 75, 90, 3);
    assert_true(evb_test_pipe_wait_state(&env, "pl", "RUNNING", 20000));
    assert_int_equal(evb_test_wait_logs(&env, "/l", 90, 20000), 90);

    /* the server restarts (pipe service closed and opened again) */
    produce("tl", 90, 100, 3);
    assert_int_equal(evb_test_pipes_reopen(&env), 0);
    produce("tl", 100, 120, 3);
    assert_true(evb_test_pipe_wait_state(&env, "pl", "RUNNING", 20000));
    assert_int_equal(evb_test_wait_logs(&env, "/l", 120, 20000), 120);
    evb_test_sleep_ms(300);
    size_t n = tally("/l", seen, 200);
    for (int i = 0; i < 120; i++)
        if (seen[i] != 1)
            fail_msg("record %d delivered %d times", i, seen[i]);
    assert_int_equal(n, 120);
    /* the new template applies after the update */
    size_t nm;
    char **msgs = evb_test_log_messages(&env, "/l", &nm);
    json_t *lastm = json_loads(msgs[nm - 1], 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(lastm, "gen")), 2);
    json_decref(lastm);
    evb_test_free_strings(msgs);
    /* progress is recorded in the store too */
    assert_true(evb_test_sql_int(&env, "SELECT sum(next_offset) FROM "
                                       "pipe_offsets WHERE pipe = 'pl'") >= 90);
}

static void test_retry_until_target_exists(void **state) {
    (void)state;
    const char *bs = evb_test_kafka_bootstrap(env.kafka);
    assert_int_equal(evb_test_kafka_topic(env.kafka, "tr", 1), 0);
    produce("tr", 0, 5, 1);
    assert_int_equal(
        evb_test_pipe_create(
            &env, "pr",
            "{\"Source\":\"smk://%s\",\"SourceParameters\":{"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"tr\","
            "\"StartingPosition\":\"TRIM_HORIZON\"}},"
            "\"Target\":\"arn:aws:sqs:us-east-1:000000000000:later\","
            "\"RoleArn\":\"" ROLE "\"}",
            bs),
        0);
    assert_true(evb_test_pipe_wait_state(&env, "pr", "RUNNING", 20000));
    evb_pipe_stats_t st;
    for (int t = 0; t < 200; t++) {
        evb_pipe_get_stats(env.pipes, "pr", &st);
        if (st.batch_failures >= 3)
            break;
        evb_test_sleep_ms(50);
    }
    assert_true(st.batch_failures >= 3);
    assert_int_equal(st.records_out, 0);
    json_t *d = NULL;
    char err[512];
    assert_int_equal(evb_pipe_describe(env.pipes, "pr", &d, err, sizeof err), 0);
    const char *why = json_string_value(json_object_get(d, "StateReason"));
    assert_non_null(why);
    assert_non_null(strstr(why, "later"));
    json_decref(d);
    /* the queue appears: the batch goes through, all of it */
    assert_int_equal(evb_queue_create(env.queues, "later", NULL, 0, err,
                                      sizeof err),
                     EVB_QUEUE_ERR_OK);
    long long q = 0;
    for (int t = 0; t < 200 && q < 5; t++) {
        q = evb_test_sql_int(&env, "SELECT count(*) FROM queue_messages "
                                   "WHERE queue = 'later'");
        if (q < 5)
            evb_test_sleep_ms(50);
    }
    assert_int_equal(q, 5);
    evb_test_sleep_ms(200);
    assert_int_equal(evb_test_sql_int(&env, "SELECT count(*) FROM "
                                            "queue_messages WHERE queue = "
                                            "'later'"),
                     5);
    assert_int_equal(evb_pipe_describe(env.pipes, "pr", &d, err, sizeof err), 0);
    assert_null(json_object_get(d, "StateReason"));
    json_decref(d);
}

static void test_latest_and_failed_start(void **state) {
    (void)state;
    const char *bs = evb_test_kafka_bootstrap(env.kafka);
    assert_int_equal(evb_test_kafka_topic(env.kafka, "tz", 2), 0);
    produce("tz", 0, 5, 2); /* before the pipe: not read */
    assert_int_equal(
        evb_test_pipe_create(
            &env, "pz",
            "{\"Source\":\"smk://%s\",\"SourceParameters\":{"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"tz\","
            "\"StartingPosition\":\"LATEST\"}},"
            "\"Target\":\"arn:aws:logs:us-east-1:000000000000:log-group:/z\","
            "\"TargetParameters\":{\"InputTemplate\":\"{\\\"i\\\": "
            "<$.value.i>}\"},\"RoleArn\":\"" ROLE "\"}",
            bs),
        0);
    /* and one whose credentials name a secret evbus does not have */
    assert_int_equal(
        evb_test_pipe_create(
            &env, "px",
            "{\"Source\":\"smk://%s\",\"SourceParameters\":{"
            "\"SelfManagedKafkaParameters\":{\"TopicName\":\"tz\","
            "\"Credentials\":{\"BasicAuth\":\"arn:aws:secretsmanager:us-east-"
            "1:000000000000:secret:nope\"}}},"
            "\"Target\":\"arn:aws:logs:us-east-1:000000000000:log-group:/x\","
            "\"RoleArn\":\"" ROLE "\"}",
            bs),
        0);
    assert_true(evb_test_pipe_wait_state(&env, "pz", "RUNNING", 20000));
    assert_true(evb_test_pipe_wait_state(&env, "px", "CREATE_FAILED", 20000));
    json_t *d = NULL;
    char err[512];
    assert_int_equal(evb_pipe_describe(env.pipes, "px", &d, err, sizeof err), 0);
    assert_non_null(strstr(json_string_value(json_object_get(d, "StateReason")),
                           "--kafka-secret"));
    json_decref(d);
    /* stopped before any record: LATEST stays where it was pinned */
    call(evb_pipe_stop, "pz");
    assert_true(evb_test_pipe_wait_state(&env, "pz", "STOPPED", 20000));
    produce("tz", 5, 10, 2);
    call(evb_pipe_start, "pz");
    assert_true(evb_test_pipe_wait_state(&env, "pz", "RUNNING", 20000));
    produce("tz", 10, 12, 2);
    if (evb_test_wait_logs(&env, "/z", 7, 20000) != 7) {
        evb_pipe_stats_t st;
        evb_pipe_get_stats(env.pipes, "pz", &st);
        json_t *dd = NULL;
        evb_pipe_describe(env.pipes, "pz", &dd, err, sizeof err);
        char *txt = json_dumps(dd, 0);
        fail_msg("in %llu out %llu fail %llu: %s",
                 (unsigned long long)st.records_in,
                 (unsigned long long)st.records_out,
                 (unsigned long long)st.batch_failures, txt);
    }
    evb_test_sleep_ms(300);
    int seen[20];
    assert_int_equal(tally("/z", seen, 20), 7);
    for (int i = 0; i < 12; i++)
        assert_int_equal(seen[i], i < 5 ? 0 : 1);
    /* deleting removes the pipe and its rows */
    call(evb_pipe_delete, "pz");
    assert_true(evb_test_pipe_wait_state(&env, "pz", "GONE", 20000));
    assert_int_equal(evb_test_sql_int(&env, "SELECT count(*) FROM pipes WHERE "
                                            "name = 'pz'"),
                     0);
    assert_int_equal(evb_test_sql_int(&env, "SELECT count(*) FROM "
                                            "pipe_offsets WHERE pipe = 'pz'"),
                     0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_start_update_restart),
        cmocka_unit_test(test_retry_until_target_exists),
        cmocka_unit_test(test_latest_and_failed_start),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
