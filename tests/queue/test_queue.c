/* test_queue.c: the queue service over a temporary store: send, receive
 * and delete; visibility expiry; long polls woken by a send from another
 * thread; SQS's MD5s; purge; attributes; redrive; persistence across a
 * close and reopen. */
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

#include "queue/queue.h"

static char dir[256];
static evb_store_t *store;
static evb_queue_service_t *svc;
static char errstr[512];

static void open_all(void) {
    evb_store_opts_t o = {.dir = dir, .no_sync = true};
    assert_int_equal(evb_store_open(&o, &store, errstr, sizeof errstr),
                     EVB_ERR_OK);
    assert_int_equal(evb_queue_service_new(store, "us-east-1", "123456789012",
                                           &svc),
                     EVB_QUEUE_ERR_OK);
}

static void close_all(void) {
    evb_queue_service_shutdown(svc);
    evb_queue_service_free(svc);
    evb_store_close(store);
    svc = NULL;
    store = NULL;
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/evb-queue-test-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    open_all();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    close_all();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void send1(const char *q, const char *body) {
    evb_queue_send_t m = {body, strlen(body), NULL, 0, -1};
    evb_queue_sent_t s;
    assert_int_equal(evb_queue_send(svc, q, &m, 1, &s, errstr, sizeof errstr),
                     EVB_QUEUE_ERR_OK);
}

static size_t recv_n(const char *q, int max, int vis, int wait,
                     evb_arena_t *a, evb_queue_message_t **msgs) {
    evb_queue_receive_t r = {max, vis, wait, NULL, 0};
    size_t n;
    assert_int_equal(evb_queue_receive(svc, q, &r, a, msgs, &n, errstr,
                                       sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    return n;
}

static void test_md5_known(void **state) {
    (void)state;
    char out[33];
    evb_queue_md5_hex("This is a test message", 22, out);
    assert_string_equal(out, "fafb00f5732ab283681e124bf8747ed1");
    evb_queue_md5_hex("hello", 5, out);
    assert_string_equal(out, "5d41402abc4b2a76b9719d911017c592");
    evb_queue_msg_attr_t one[] = {{"a", "String", "x", 1, false}};
    assert_int_equal(evb_queue_md5_of_attrs(one, 1, out), EVB_QUEUE_ERR_OK);
    assert_string_equal(out, "a512aac9938034acb0b3c3d965944bf1");
    /* unsorted input, a number and a binary value */
    evb_queue_msg_attr_t three[] = {
        {"count", "Number", "42", 2, false},
        {"city", "String", "Any City", 8, false},
        {"blob", "Binary", "\x00\x01\xff", 3, true},
    };
    assert_int_equal(evb_queue_md5_of_attrs(three, 3, out), EVB_QUEUE_ERR_OK);
    assert_string_equal(out, "a22c4c45c6a2ed3a814f70a756d26f7a");
    evb_queue_md5_of_attrs(NULL, 0, out);
    assert_string_equal(out, "");
}

static void test_base64(void **state) {
    (void)state;
    evb_arena_t a;
    evb_arena_init(&a, 0);
    char *e = evb_queue_base64_encode(&a, "\x00\x01\xff", 3);
    assert_string_equal(e, "AAH/");
    char *d;
    size_t n;
    assert_true(evb_queue_base64_decode(&a, "aGk=", 4, &d, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(d, "hi", 2);
    assert_false(evb_queue_base64_decode(&a, "a=Gk", 4, &d, &n));
    assert_false(evb_queue_base64_decode(&a, "abc", 3, &d, &n));
    evb_arena_free(&a);
}

static void test_send_receive_delete(void **state) {
    (void)state;
    assert_int_equal(evb_queue_create(svc, "q1", NULL, 0, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    /* idempotent create; conflicting attributes refused */
    evb_queue_attr_t same = {"VisibilityTimeout", "30"};
    evb_queue_attr_t other = {"VisibilityTimeout", "5"};
    assert_int_equal(evb_queue_create(svc, "q1", &same, 1, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(evb_queue_create(svc, "q1", &other, 1, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_NAME_EXISTS);
    assert_int_equal(evb_queue_create(svc, "bad name", NULL, 0, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_INVALID_PARAMETER);

    evb_queue_msg_attr_t at[] = {{"a", "String", "x", 1, false},
                                 {"b", "Binary", "\x00\x01\xff", 3, true}};
    evb_queue_send_t m = {"hello", 5, at, 2, -1};
    evb_queue_sent_t s;
    assert_int_equal(evb_queue_send(svc, "q1", &m, 1, &s, errstr,
                                    sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_string_equal(s.md5_body, "5d41402abc4b2a76b9719d911017c592");
    assert_int_equal(strlen(s.md5_attrs), 32);

    evb_arena_t a;
    evb_arena_init(&a, 0);
    const char *names[] = {"All"};
    evb_queue_receive_t r = {10, 30, 0, names, 1};
    evb_queue_message_t *msgs;
    size_t n;
    assert_int_equal(evb_queue_receive(svc, "q1", &r, &a, &msgs, &n, errstr,
                                       sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(msgs[0].body, "hello", 5);
    assert_string_equal(msgs[0].message_id, s.message_id);
    assert_string_equal(msgs[0].md5_attrs, s.md5_attrs);
    assert_non_null(strstr(msgs[0].attrs_json, "\"BinaryValue\":\"AAH/\""));
    assert_int_equal(msgs[0].receive_count, 1);

    /* only attribute a: the MD5 is over the returned subset */
    const char *only_a[] = {"a"};
    assert_int_equal(evb_queue_change_visibility(svc, "q1",
                                                 msgs[0].receipt_handle, 0,
                                                 errstr, sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    evb_queue_receive_t r2 = {1, 30, 0, only_a, 1};
    assert_int_equal(evb_queue_receive(svc, "q1", &r2, &a, &msgs, &n, errstr,
                                       sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(msgs[0].md5_attrs,
                        "a512aac9938034acb0b3c3d965944bf1");
    assert_int_equal(msgs[0].receive_count, 2);

    const char *h = msgs[0].receipt_handle;
    /* in flight: nothing more to receive */
    evb_queue_message_t *none;
    assert_int_equal(recv_n("q1", 10, 30, 0, &a, &none), 0);
    /* a malformed handle is refused; a stale one is accepted */
    assert_int_equal(evb_queue_delete_message(svc, "q1", "nope", errstr,
                                              sizeof errstr),
                     EVB_QUEUE_ERR_RECEIPT_HANDLE_INVALID);
    assert_int_equal(evb_queue_delete_message(svc, "q1", h, errstr,
                                              sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(evb_queue_delete_message(svc, "q1", h, errstr,
                                              sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(evb_queue_change_visibility(svc, "q1", h, 5, errstr,
                                                 sizeof errstr),
                     EVB_QUEUE_ERR_RECEIPT_HANDLE_INVALID);
    assert_int_equal(evb_queue_delete_message(svc, "nosuch", h, errstr,
                                              sizeof errstr),
                     EVB_QUEUE_ERR_NOT_FOUND);
    /* bad bodies */
    evb_queue_send_t bad = {"a\x01", 2, NULL, 0, -1};
    assert_int_equal(evb_queue_send(svc, "q1", &bad, 1, &s, errstr,
                                    sizeof errstr),
                     EVB_QUEUE_ERR_INVALID_MESSAGE_CONTENTS);
    evb_arena_free(&a);
}

static void test_visibility_expiry(void **state) {
    (void)state;
    evb_queue_attr_t vt = {"VisibilityTimeout", "1"};
    assert_int_equal(evb_queue_create(svc, "vq", &vt, 1, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    send1("vq", "m1");
    evb_arena_t a;
    evb_arena_init(&a, 0);
    evb_queue_message_t *msgs;
    assert_int_equal(recv_n("vq", 1, -1, 0, &a, &msgs), 1);
    assert_int_equal(recv_n("vq", 1, -1, 0, &a, &msgs), 0);
    /* a long poll returns it when its 1 s timeout ends, well before 5 s */
    double t0 = mono_s();
    assert_int_equal(recv_n("vq", 1, -1, 5, &a, &msgs), 1);
    double dt = mono_s() - t0;
    assert_true(dt > 0.3 && dt < 4.0);
    assert_int_equal(msgs[0].receive_count, 2);
    evb_arena_free(&a);
}

static void *sender(void *arg) {
    (void)arg;
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    send1("lp", "wake up");
    return NULL;
}

static void test_long_poll_woken(void **state) {
    (void)state;
    assert_int_equal(evb_queue_create(svc, "lp", NULL, 0, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    pthread_t t;
    pthread_create(&t, NULL, sender, NULL);
    evb_arena_t a;
    evb_arena_init(&a, 0);
    evb_queue_message_t *msgs;
    double t0 = mono_s();
    size_t n = recv_n("lp", 10, 30, 10, &a, &msgs);
    double dt = mono_s() - t0;
    pthread_join(t, NULL);
    assert_int_equal(n, 1);
    assert_memory_equal(msgs[0].body, "wake up", 7);
    assert_true(dt < 5.0); /* woken, not timed out */
    /* an empty long poll times out */
    t0 = mono_s();
    assert_int_equal(recv_n("lp", 1, 30, 1, &a, &msgs), 0);
    dt = mono_s() - t0;
    assert_true(dt >= 0.9 && dt < 5.0);
    evb_arena_free(&a);
}

static void *stopper(void *arg) {
    (void)arg;
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    evb_queue_service_shutdown(svc);
    return NULL;
}

static void test_shutdown_ends_poll(void **state) {
    (void)state;
    assert_int_equal(evb_queue_create(svc, "sd", NULL, 0, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    pthread_t t;
    pthread_create(&t, NULL, stopper, NULL);
    evb_arena_t a;
    evb_arena_init(&a, 0);
    evb_queue_message_t *msgs;
    double t0 = mono_s();
    assert_int_equal(recv_n("sd", 1, 30, 20, &a, &msgs), 0);
    assert_true(mono_s() - t0 < 5.0);
    pthread_join(t, NULL);
    evb_arena_free(&a);
}

static const char *attr_of(evb_queue_attr_t *at, size_t n, const char *k) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(at[i].name, k) == 0)
            return at[i].value;
    return NULL;
}

static void test_attributes_purge(void **state) {
    (void)state;
    evb_queue_attr_t set[] = {{"DelaySeconds", "0"},
                              {"MaximumMessageSize", "2048"}};
    assert_int_equal(evb_queue_create(svc, "aq", set, 2, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    send1("aq", "1");
    send1("aq", "2");
    evb_queue_send_t delayed = {"3", 1, NULL, 0, 60};
    evb_queue_sent_t s;
    assert_int_equal(evb_queue_send(svc, "aq", &delayed, 1, &s, errstr,
                                    sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    evb_arena_t a;
    evb_arena_init(&a, 0);
    evb_queue_message_t *msgs;
    assert_int_equal(recv_n("aq", 1, 30, 0, &a, &msgs), 1);
    const char *all[] = {"All"};
    evb_queue_attr_t *at;
    size_t n;
    assert_int_equal(evb_queue_get_attributes(svc, "aq", all, 1, &a, &at, &n,
                                              errstr, sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_string_equal(attr_of(at, n, "ApproximateNumberOfMessages"), "1");
    assert_string_equal(
        attr_of(at, n, "ApproximateNumberOfMessagesNotVisible"), "1");
    assert_string_equal(attr_of(at, n, "ApproximateNumberOfMessagesDelayed"),
                        "1");
    assert_string_equal(attr_of(at, n, "VisibilityTimeout"), "30");
    assert_string_equal(attr_of(at, n, "MessageRetentionPeriod"), "345600");
    assert_string_equal(attr_of(at, n, "MaximumMessageSize"), "2048");
    assert_string_equal(attr_of(at, n, "QueueArn"),
                        "arn:aws:sqs:us-east-1:123456789012:aq");
    assert_non_null(attr_of(at, n, "CreatedTimestamp"));
    assert_non_null(attr_of(at, n, "LastModifiedTimestamp"));

    /* message over MaximumMessageSize */
    static char big[4096];
    memset(big, 'x', sizeof big);
    evb_queue_send_t toobig = {big, sizeof big, NULL, 0, -1};
    assert_int_equal(evb_queue_send(svc, "aq", &toobig, 1, &s, errstr,
                                    sizeof errstr),
                     EVB_QUEUE_ERR_INVALID_PARAMETER);

    evb_queue_attr_t vt = {"VisibilityTimeout", "7"};
    assert_int_equal(evb_queue_set_attributes(svc, "aq", &vt, 1, errstr,
                                              sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    evb_queue_attr_t bad = {"VisibilityTimeout", "99999"};
    assert_int_equal(evb_queue_set_attributes(svc, "aq", &bad, 1, errstr,
                                              sizeof errstr),
                     EVB_QUEUE_ERR_INVALID_ATTRIBUTE_VALUE);
    evb_queue_attr_t ro = {"QueueArn", "x"};
    assert_int_equal(evb_queue_set_attributes(svc, "aq", &ro, 1, errstr,
                                              sizeof errstr),
                     EVB_QUEUE_ERR_INVALID_ATTRIBUTE_NAME);
    const char *vtn[] = {"VisibilityTimeout"};
    assert_int_equal(evb_queue_get_attributes(svc, "aq", vtn, 1, &a, &at, &n,
                                              errstr, sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(at[0].value, "7");
    const char *unknown[] = {"Nope"};
    assert_int_equal(evb_queue_get_attributes(svc, "aq", unknown, 1, &a, &at,
                                              &n, errstr, sizeof errstr),
                     EVB_QUEUE_ERR_INVALID_ATTRIBUTE_NAME);

    assert_int_equal(evb_queue_purge(svc, "aq", errstr, sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(evb_queue_get_attributes(svc, "aq", all, 1, &a, &at, &n,
                                              errstr, sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_string_equal(attr_of(at, n, "ApproximateNumberOfMessages"), "0");
    assert_string_equal(
        attr_of(at, n, "ApproximateNumberOfMessagesNotVisible"), "0");

    /* list by prefix, paged */
    char **names;
    size_t nn;
    bool more;
    assert_int_equal(evb_queue_create(svc, "aq2", NULL, 0, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(evb_queue_list(svc, "aq", NULL, 1, &a, &names, &nn, &more,
                                    errstr, sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(nn, 1);
    assert_true(more);
    assert_string_equal(names[0], "aq");
    assert_int_equal(evb_queue_list(svc, "aq", "aq", 1, &a, &names, &nn,
                                    &more, errstr, sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(nn, 1);
    assert_false(more);
    assert_string_equal(names[0], "aq2");
    assert_int_equal(evb_queue_delete(svc, "aq2", errstr, sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(evb_queue_exists(svc, "aq2", errstr, sizeof errstr),
                     EVB_QUEUE_ERR_NOT_FOUND);
    evb_arena_free(&a);
}

static void test_redrive(void **state) {
    (void)state;
    assert_int_equal(evb_queue_create(svc, "dlq", NULL, 0, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    evb_queue_attr_t rp = {
        "RedrivePolicy",
        "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:123456789012:dlq\","
        "\"maxReceiveCount\":\"1\"}"};
    assert_int_equal(evb_queue_create(svc, "src", &rp, 1, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    evb_queue_attr_t missing_dlq = {
        "RedrivePolicy",
        "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:123456789012:zz\","
        "\"maxReceiveCount\":2}"};
    assert_int_equal(evb_queue_create(svc, "src2", &missing_dlq, 1, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_INVALID_PARAMETER);
    send1("src", "poison");
    evb_arena_t a;
    evb_arena_init(&a, 0);
    evb_queue_message_t *msgs;
    assert_int_equal(recv_n("src", 1, 0, 0, &a, &msgs), 1);
    /* received once (= maxReceiveCount): the next receive moves it */
    assert_int_equal(recv_n("src", 1, 0, 0, &a, &msgs), 0);
    assert_int_equal(recv_n("dlq", 1, 30, 0, &a, &msgs), 1);
    assert_memory_equal(msgs[0].body, "poison", 6);
    evb_arena_free(&a);
}

/* the delivery engine's entry point, inside a store unit */
typedef struct target_send {
    const char *arn;
    evb_queue_err_t qe;
} target_send_t;

static evb_err_t target_unit(sqlite3 *db, void *arg, char *es, size_t n) {
    target_send_t *t = arg;
    evb_queue_msg_attr_t at = {"src", "String", "rule", 4, false};
    t->qe = evb_queue_send_from_target(db, t->arn, "{\"x\":1}", 7, &at, 1,
                                       NULL, es, n);
    return t->qe ? EVB_ERR_INTERNAL : EVB_ERR_OK;
}

static void test_send_from_target(void **state) {
    (void)state;
    assert_int_equal(evb_queue_create(svc, "tq", NULL, 0, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    target_send_t t = {"arn:aws:sqs:us-east-1:123456789012:tq",
                       EVB_QUEUE_ERR_OK};
    assert_int_equal(evb_store_write(store, target_unit, &t, errstr,
                                     sizeof errstr),
                     EVB_ERR_OK);
    evb_queue_service_notify(svc);
    target_send_t none = {"arn:aws:sqs:us-east-1:123456789012:none",
                          EVB_QUEUE_ERR_OK};
    assert_int_not_equal(evb_store_write(store, target_unit, &none, errstr,
                                         sizeof errstr),
                         EVB_ERR_OK);
    assert_int_equal(none.qe, EVB_QUEUE_ERR_NOT_FOUND);
    evb_arena_t a;
    evb_arena_init(&a, 0);
    const char *all[] = {"All"};
    evb_queue_receive_t r = {10, 30, 0, all, 1};
    evb_queue_message_t *msgs;
    size_t n;
    assert_int_equal(evb_queue_receive(svc, "tq", &r, &a, &msgs, &n, errstr,
                                       sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(msgs[0].body, "{\"x\":1}", 7);
    assert_non_null(msgs[0].attrs_json);
    evb_arena_free(&a);
}

static void test_persistence(void **state) {
    (void)state;
    evb_queue_attr_t vt = {"VisibilityTimeout", "45"};
    assert_int_equal(evb_queue_create(svc, "pq", &vt, 1, errstr,
                                      sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    send1("pq", "durable");
    close_all();
    open_all();
    evb_arena_t a;
    evb_arena_init(&a, 0);
    const char *vtn[] = {"VisibilityTimeout"};
    evb_queue_attr_t *at;
    size_t n;
    assert_int_equal(evb_queue_get_attributes(svc, "pq", vtn, 1, &a, &at, &n,
                                              errstr, sizeof errstr),
                     EVB_QUEUE_ERR_OK);
    assert_string_equal(at[0].value, "45");
    evb_queue_message_t *msgs;
    assert_int_equal(recv_n("pq", 10, 30, 0, &a, &msgs), 1);
    assert_memory_equal(msgs[0].body, "durable", 7);
    evb_arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5_known),
        cmocka_unit_test(test_base64),
        cmocka_unit_test_setup_teardown(test_send_receive_delete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_visibility_expiry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_long_poll_woken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_ends_poll, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_attributes_purge, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_redrive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_from_target, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
