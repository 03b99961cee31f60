/* test_kafka_client.c: the producer and the consumer against librdkafka's
 * mock cluster in this process: round trips with keys and headers,
 * delivery reports, committed offsets that survive a consumer restart,
 * two members of one consumer group sharing the partitions, the settings
 * evbus imposes, failure reports (a broker down, a producer closed with
 * messages pending) and librdkafka's log lines scrubbed of secrets. Every
 * wait is bounded. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kafka/kafka.h"

static evb_kafka_mock_t *mock;
static evb_kafka_conf_t *base; /* bootstrap.servers of the mock */

/* ---- captured log -------------------------------------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static evb_buf_t logbuf;

static void capture(void *ud, int level, const char *line) {
    (void)ud;
    (void)level;
    pthread_mutex_lock(&log_lock);
    evb_buf_appendf(&logbuf, "%s\n", line);
    pthread_mutex_unlock(&log_lock);
}

static bool log_has(const char *s) {
    pthread_mutex_lock(&log_lock);
    bool has = logbuf.data && strstr(logbuf.data, s);
    pthread_mutex_unlock(&log_lock);
    return has;
}

/* ---- delivery reports ---------------------------------------------------- */

typedef struct reports {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    size_t n, ok;
    evb_kafka_report_t last;
} reports_t;

static void on_report(void *ud, const evb_kafka_report_t *r) {
    reports_t *rs = ud;
    pthread_mutex_lock(&rs->lock);
    rs->n++;
    rs->ok += r->ok;
    rs->last = *r;
    pthread_cond_broadcast(&rs->cv);
    pthread_mutex_unlock(&rs->lock);
}

static void reports_init(reports_t *rs) {
    memset(rs, 0, sizeof *rs);
    pthread_mutex_init(&rs->lock, NULL);
    pthread_cond_init(&rs->cv, NULL);
}

static void reports_wait(reports_t *rs, size_t n, int seconds) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += seconds;
    pthread_mutex_lock(&rs->lock);
    while (rs->n < n)
        if (pthread_cond_timedwait(&rs->cv, &rs->lock, &ts))
            break;
    pthread_mutex_unlock(&rs->lock);
}

static void reports_destroy(reports_t *rs) {
    pthread_mutex_destroy(&rs->lock);
    pthread_cond_destroy(&rs->cv);
}

static int setup(void **state) {
    (void)state;
    evb_buf_init(&logbuf, 0);
    evb_kafka_set_log(capture, NULL);
    char err[256];
    if (evb_kafka_mock_new(1, &mock, err, sizeof err))
        return -1;
    base = evb_kafka_conf_new();
    evb_kafka_conf_set(base, "bootstrap.servers",
                       evb_kafka_mock_bootstrap_servers(mock), "test", NULL, 0);
    /* the mock waits up to a session timeout for a group to settle after
     * a member leaves: keep it short (the brokers' minimum) */
    evb_kafka_conf_set(base, "session.timeout.ms", "6000", "test", NULL, 0);
    if (getenv("EVB_TEST_KAFKA_DEBUG"))
        evb_kafka_conf_set(base, "debug", getenv("EVB_TEST_KAFKA_DEBUG"), NULL,
                           NULL, 0);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    if (getenv("EVB_TEST_DUMP_LOG") && logbuf.data)
        fputs(logbuf.data, stderr);
    evb_kafka_conf_free(base);
    evb_kafka_mock_free(mock);
    evb_kafka_set_log(NULL, NULL);
    evb_buf_free(&logbuf);
    return 0;
}

static void produce_n(evb_kafka_producer_t *p, const char *topic, int from,
                      int to, reports_t *rs) {
    for (int i = from; i < to; i++) {
        char key[16], value[64];
        snprintf(key, sizeof key, "key-%d", i);
        snprintf(value, sizeof value, "{\"n\":%d}", i);
        evb_kafka_header_t h = {"evbus-n", value, strlen(value)};
        evb_kafka_out_msg_t m = {topic,         -1, key, strlen(key), value,
                                 strlen(value), &h, 1};
        evb_kafka_report_t why;
        assert_int_equal(evb_kafka_produce(p, &m, on_report, rs, &why),
                         EVB_ERR_OK);
    }
}

/* Read until want messages came or the deadline passed; marks seen[n]. */
static int consume(evb_kafka_consumer_t *c, int want, int *seen, int max_n,
                   bool commit, int seconds) {
    int got = 0;
    time_t end = time(NULL) + seconds;
    char err[256];
    while (got < want && time(NULL) < end) {
        evb_kafka_msg_t *m = NULL;
        evb_err_t e = evb_kafka_consumer_poll(c, 200, &m, err, sizeof err);
        if (e || !m)
            continue;
        int n = -1;
        sscanf((const char *)m->value, "{\"n\":%d}", &n);
        assert_true(n >= 0 && n < max_n);
        char key[16];
        snprintf(key, sizeof key, "key-%d", n);
        assert_int_equal(m->key_len, strlen(key));
        assert_memory_equal(m->key, key, m->key_len);
        const void *hv;
        size_t hl;
        assert_true(evb_kafka_msg_header(m, "evbus-n", &hv, &hl));
        assert_int_equal(hl, m->value_len);
        assert_false(evb_kafka_msg_header(m, "absent", &hv, &hl));
        assert_true(m->timestamp_ms > 0);
        seen[n]++;
        got++;
        if (commit)
            assert_int_equal(evb_kafka_consumer_commit(c, m, err, sizeof err),
                             EVB_ERR_OK);
        evb_kafka_msg_free(m);
    }
    return got;
}

static void round_trip_and_restart(void **state) {
    (void)state;
    char err[512];
    assert_int_equal(
        evb_kafka_mock_topic_create(mock, "rt", 3, err, sizeof err),
        EVB_ERR_OK);
    evb_kafka_producer_t *p;
    assert_int_equal(evb_kafka_producer_new(base, "test", &p, err, sizeof err),
                     EVB_ERR_OK);
    reports_t rs;
    reports_init(&rs);
    produce_n(p, "rt", 0, 20, &rs);
    assert_int_equal(evb_kafka_producer_flush(p, 10000, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(rs.n, 20);
    assert_int_equal(rs.ok, 20);
    assert_string_equal(rs.last.code, "OK");
    assert_true(rs.last.offset >= 0);
    assert_int_equal(evb_kafka_producer_in_flight(p), 0);

    const char *topics[] = {"rt"};
    evb_kafka_consumer_t *c;
    assert_int_equal(evb_kafka_consumer_new(base, "g-rt", topics, 1, "c1", &c,
                                            err, sizeof err),
                     EVB_ERR_OK);
    int seen[40] = {0};
    assert_int_equal(consume(c, 20, seen, 40, true, 30), 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(seen[i], 1);
    int64_t total = 0;
    for (int part = 0; part < 3; part++) {
        int64_t off;
        assert_int_equal(evb_kafka_consumer_committed(c, "rt", part, 5000, &off,
                                                      err, sizeof err),
                         EVB_ERR_OK);
        total += off > 0 ? off : 0;
    }
    assert_int_equal(total, 20);
    int64_t in_topic = 0;
    for (int part = 0; part < 3; part++) {
        int64_t lo, hi;
        assert_int_equal(evb_kafka_consumer_watermarks(c, "rt", part, 5000, &lo,
                                                       &hi, err, sizeof err),
                         EVB_ERR_OK);
        in_topic += hi - lo;
    }
    assert_int_equal(in_topic, 20);
    evb_kafka_consumer_free(c);

    /* more messages; a restarted member of the group reads only those */
    produce_n(p, "rt", 20, 30, &rs);
    assert_int_equal(evb_kafka_producer_flush(p, 10000, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(rs.ok, 30);
    assert_int_equal(evb_kafka_consumer_new(base, "g-rt", topics, 1, "c2", &c,
                                            err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(consume(c, 10, seen, 40, false, 30), 10);
    for (int i = 0; i < 30; i++)
        assert_int_equal(seen[i], 1);
    /* nothing more arrives (and nothing was committed this time) */
    assert_int_equal(consume(c, 1, seen, 40, false, 2), 0);
    evb_kafka_consumer_free(c);

    /* uncommitted: the next member reads those 10 again */
    assert_int_equal(evb_kafka_consumer_new(base, "g-rt", topics, 1, "c3", &c,
                                            err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(consume(c, 10, seen, 40, true, 30), 10);
    for (int i = 20; i < 30; i++)
        assert_int_equal(seen[i], 2);
    evb_kafka_consumer_free(c);
    evb_kafka_producer_free(p);
    reports_destroy(&rs);
}

typedef struct member {
    evb_kafka_consumer_t *c;
    int seen[200];
    int got;
    volatile bool stop;
} member_t;

static void *member_run(void *arg) {
    member_t *m = arg;
    char err[256];
    while (!m->stop) {
        evb_kafka_msg_t *msg = NULL;
        if (evb_kafka_consumer_poll(m->c, 100, &msg, err, sizeof err) || !msg)
            continue;
        int n = -1;
        sscanf((const char *)msg->value, "{\"n\":%d}", &n);
        if (getenv("EVB_TEST_TRACE"))
            fprintf(stderr, "%p n=%d p=%d o=%lld\n", (void *)m, n,
                    (int)msg->partition, (long long)msg->offset);
        if (n >= 0 && n < 200) {
            m->seen[n]++;
            __atomic_add_fetch(&m->got, 1, __ATOMIC_SEQ_CST);
        }
        evb_kafka_consumer_commit(m->c, msg, err, sizeof err);
        evb_kafka_msg_free(msg);
    }
    return NULL;
}

static void consumer_group_shares_partitions(void **state) {
    (void)state;
    char err[512];
    assert_int_equal(
        evb_kafka_mock_topic_create(mock, "grp", 4, err, sizeof err),
        EVB_ERR_OK);
    const char *topics[] = {"grp"};
    member_t a = {0}, b = {0};
    assert_int_equal(evb_kafka_consumer_new(base, "g-share", topics, 1, "a",
                                            &a.c, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(evb_kafka_consumer_new(base, "g-share", topics, 1, "b",
                                            &b.c, err, sizeof err),
                     EVB_ERR_OK);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, member_run, &a);
    pthread_create(&tb, NULL, member_run, &b);
    evb_kafka_producer_t *p;
    assert_int_equal(evb_kafka_producer_new(base, "test", &p, err, sizeof err),
                     EVB_ERR_OK);
    reports_t rs;
    reports_init(&rs);
    /* produce in waves until both members have had messages (the group
     * settles within a few seconds), then wait for the rest */
    int sent = 0;
    time_t end = time(NULL) + 40;
    while (time(NULL) < end && sent < 200 &&
           !(__atomic_load_n(&a.got, __ATOMIC_SEQ_CST) > 0 &&
             __atomic_load_n(&b.got, __ATOMIC_SEQ_CST) > 0)) {
        produce_n(p, "grp", sent, sent + 10, &rs);
        sent += 10;
        usleep(500000);
    }
    assert_int_equal(evb_kafka_producer_flush(p, 10000, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(rs.ok, (size_t)sent);
    for (int i = 0; i < 300; i++) {
        int have = 0;
        for (int n = 0; n < sent; n++)
            have += a.seen[n] + b.seen[n] > 0;
        if (have == sent)
            break;
        usleep(100000);
    }
    a.stop = b.stop = true;
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    print_message("%d sent; member a: %d messages, member b: %d\n", sent, a.got,
                  b.got);
    assert_true(a.got > 0);
    assert_true(b.got > 0);
    /* at least once: a message whose commit raced a rebalance may come
     * twice, never not at all */
    for (int i = 0; i < sent; i++)
        assert_true(a.seen[i] + b.seen[i] >= 1);
    evb_kafka_consumer_free(a.c);
    evb_kafka_consumer_free(b.c);
    evb_kafka_producer_free(p);
    reports_destroy(&rs);
}

static void imposed_settings(void **state) {
    (void)state;
    char err[512];
    evb_kafka_producer_t *p = NULL;
    evb_kafka_conf_t *c = evb_kafka_conf_dup(base);
    evb_kafka_conf_set(c, "acks", "1", "p.properties:3", NULL, 0);
    assert_int_equal(evb_kafka_producer_new(c, "t", &p, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_true(strncmp(err,
                        "p.properties:3: acks: evbus producers use "
                        "acks=all",
                        50) == 0);
    evb_kafka_conf_set(c, "acks", "all", "p.properties:3", NULL, 0);
    evb_kafka_conf_set(c, "enable.idempotence", "false", "--kafka-config", NULL,
                       0);
    assert_int_equal(evb_kafka_producer_new(c, "t", &p, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_true(strstr(err, "--kafka-config: enable.idempotence: evbus "
                            "producers are idempotent"));
    evb_kafka_conf_set(c, "enable.idempotence", "true", NULL, NULL, 0);
    evb_kafka_conf_set(c, "message.timeout.ms", "0", "m:1", NULL, 0);
    assert_int_equal(evb_kafka_producer_new(c, "t", &p, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_true(strstr(err, "m:1: message.timeout.ms: must be finite"));
    evb_kafka_conf_set(c, "message.timeout.ms", "5000", NULL, NULL, 0);
    evb_kafka_conf_set(c, "no.such.thing", "1", "f:9", NULL, 0);
    assert_int_equal(evb_kafka_producer_new(c, "t", &p, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(err,
                        "f:9: no.such.thing: not a librdkafka configuration "
                        "property");
    evb_kafka_conf_free(c);

    c = evb_kafka_conf_dup(base);
    evb_kafka_consumer_t *k = NULL;
    const char *topics[] = {"x"};
    evb_kafka_conf_set(c, "enable.auto.commit", "true", "c:2", NULL, 0);
    assert_int_equal(
        evb_kafka_consumer_new(c, "g", topics, 1, "t", &k, err, sizeof err),
        EVB_ERR_INVALID_ARG);
    assert_true(strstr(err, "c:2: enable.auto.commit: evbus consumers commit "
                            "offsets after processing"));
    evb_kafka_conf_free(c);
    assert_int_equal(
        evb_kafka_consumer_new(base, NULL, topics, 1, "t", &k, err, sizeof err),
        EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "a consumer needs a group.id");
    const char *bad[] = {"bad topic"};
    assert_int_equal(
        evb_kafka_consumer_new(base, "g", bad, 1, "t", &k, err, sizeof err),
        EVB_ERR_INVALID_ARG);
}

static void failures_are_reported(void **state) {
    (void)state;
    char err[512];
    evb_kafka_mock_t *m2;
    assert_int_equal(evb_kafka_mock_new(1, &m2, err, sizeof err), EVB_ERR_OK);
    evb_kafka_conf_t *c = evb_kafka_conf_new();
    evb_kafka_conf_set(c, "bootstrap.servers",
                       evb_kafka_mock_bootstrap_servers(m2), NULL, NULL, 0);
    evb_kafka_conf_set(c, "message.timeout.ms", "1500", NULL, NULL, 0);
    evb_kafka_producer_t *p;
    assert_int_equal(evb_kafka_producer_new(c, "down", &p, err, sizeof err),
                     EVB_ERR_OK);
    reports_t rs;
    reports_init(&rs);
    /* a bad topic name is refused at once, without a report */
    evb_kafka_out_msg_t bad = {"no spaces", -1, NULL, 0, "x", 1, NULL, 0};
    evb_kafka_report_t why;
    assert_int_equal(evb_kafka_produce(p, &bad, on_report, &rs, &why),
                     EVB_ERR_INVALID_ARG);
    assert_false(why.retriable);
    assert_string_equal(why.code, "INVALID_PARAMETERS");

    /* the broker is down: the message times out, a retriable failure */
    assert_int_equal(
        evb_kafka_mock_broker_set_up(m2, 1, false, err, sizeof err),
        EVB_ERR_OK);
    evb_kafka_out_msg_t m = {"down", -1, NULL, 0, "x", 1, NULL, 0};
    assert_int_equal(evb_kafka_produce(p, &m, on_report, &rs, &why),
                     EVB_ERR_OK);
    reports_wait(&rs, 1, 20);
    assert_int_equal(rs.n, 1);
    assert_false(rs.last.ok);
    assert_true(rs.last.retriable);
    assert_string_equal(rs.last.code, "TIMEOUT");

    /* closing with a message still pending reports it (SHUTDOWN) */
    assert_int_equal(evb_kafka_produce(p, &m, on_report, &rs, &why),
                     EVB_ERR_OK);
    evb_kafka_producer_free(p);
    assert_int_equal(rs.n, 2);
    assert_false(rs.last.ok);
    assert_true(rs.last.retriable);
    assert_true(strcmp(rs.last.code, "TIMEOUT") == 0 ||
                strcmp(rs.last.code, "SHUTDOWN") == 0);
    reports_destroy(&rs);
    evb_kafka_conf_free(c);
    evb_kafka_mock_free(m2);
}

static void unknown_topic_is_no_resource(void **state) {
    (void)state;
    char err[512];
    evb_kafka_conf_t *c = evb_kafka_conf_dup(base);
    evb_kafka_conf_set(c, "topic.metadata.propagation.max.ms", "200", NULL,
                       NULL, 0);
    evb_kafka_mock_topic_set_missing(mock, "never-created", true);
    evb_kafka_producer_t *p;
    assert_int_equal(evb_kafka_producer_new(c, "t", &p, err, sizeof err),
                     EVB_ERR_OK);
    reports_t rs;
    reports_init(&rs);
    evb_kafka_out_msg_t m = {"never-created", -1, NULL, 0, "x", 1, NULL, 0};
    evb_kafka_report_t why;
    evb_err_t e = evb_kafka_produce(p, &m, on_report, &rs, &why);
    if (e == EVB_ERR_OK) {
        reports_wait(&rs, 1, 20);
        assert_int_equal(rs.n, 1);
        why = rs.last;
    }
    assert_false(why.ok);
    assert_false(why.retriable);
    assert_string_equal(why.code, "NO_RESOURCE");
    evb_kafka_producer_free(p);
    reports_destroy(&rs);
    evb_kafka_conf_free(c);
    evb_kafka_mock_topic_set_missing(mock, "never-created", false);
}

static void secrets_never_logged(void **state) {
    (void)state;
    char err[512];
    evb_kafka_conf_t *c = evb_kafka_conf_dup(base);
    evb_kafka_conf_set(c, "sasl.username", "alice", NULL, NULL, 0);
    evb_kafka_conf_set(c, "sasl.password", "Hunter2Secret", NULL, NULL, 0);
    evb_kafka_conf_set(c, "ssl.key.password", "KeyPass99", NULL, NULL, 0);
    evb_kafka_conf_set(c, "debug", "conf,generic", NULL, NULL, 0);
    evb_kafka_producer_t *p;
    assert_int_equal(
        evb_kafka_producer_new(c, "secretive", &p, err, sizeof err),
        EVB_ERR_OK);
    evb_kafka_producer_free(p);
    assert_true(log_has("secretive: "));
    assert_false(log_has("Hunter2Secret"));
    assert_false(log_has("KeyPass99"));
    evb_kafka_conf_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_and_restart),
        cmocka_unit_test(consumer_group_shares_partitions),
        cmocka_unit_test(imposed_settings),
        cmocka_unit_test(failures_are_reported),
        cmocka_unit_test(unknown_topic_is_no_resource),
        cmocka_unit_test(secrets_never_logged),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
