/*
 * test_queue_missing.c: every operation on one queue answers SQS's
 * "The specified queue does not exist." (EVB_QUEUE_ERR_NOT_FOUND) for a
 * queue that is not there, and works on one that is: the store units of
 * queue.c share that check (need_queue).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/queue.h"

#define GONE "The specified queue does not exist."

typedef struct fixture {
    char dir[64];
    evb_store_t *store;
    evb_queue_service_t *svc;
    evb_arena_t arena;
    char errstr[512];
} fixture_t;

static int setup(void **state) {
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/evb-queue-missing-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    evb_store_opts_t o = {.dir = f->dir, .no_sync = true};
    if (evb_store_open(&o, &f->store, f->errstr, sizeof f->errstr) ||
        evb_queue_service_new(f->store, "us-east-1", "123456789012", &f->svc))
        return -1;
    evb_arena_init(&f->arena, 0);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    evb_arena_free(&f->arena);
    evb_queue_service_shutdown(f->svc);
    evb_queue_service_free(f->svc);
    evb_store_close(f->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* e is NOT_FOUND with SQS's words. */
static void gone(fixture_t *f, evb_queue_err_t e) {
    assert_int_equal(e, EVB_QUEUE_ERR_NOT_FOUND);
    assert_string_equal(f->errstr, GONE);
    f->errstr[0] = '\0';
}

static void every_operation_on_a_missing_queue_is_not_found(void **state) {
    fixture_t *f = *state;
    char *es = f->errstr;
    size_t esz = sizeof f->errstr;
    /* a well-formed receipt handle, from a queue that exists */
    assert_int_equal(evb_queue_create(f->svc, "here", NULL, 0, es, esz),
                     EVB_QUEUE_ERR_OK);
    evb_queue_send_t m = {"hello", 5, NULL, 0, -1};
    evb_queue_sent_t sent;
    assert_int_equal(evb_queue_send(f->svc, "here", &m, 1, &sent, es, esz),
                     EVB_QUEUE_ERR_OK);
    evb_queue_receive_t r = {1, 30, 0, NULL, 0};
    evb_queue_message_t *msgs;
    size_t n;
    assert_int_equal(
        evb_queue_receive(f->svc, "here", &r, &f->arena, &msgs, &n, es, esz),
        EVB_QUEUE_ERR_OK);
    assert_int_equal(n, 1);
    const char *handle = msgs[0].receipt_handle;

    gone(f, evb_queue_exists(f->svc, "nosuch", es, esz));
    gone(f, evb_queue_delete(f->svc, "nosuch", es, esz));
    gone(f, evb_queue_purge(f->svc, "nosuch", es, esz));
    gone(f, evb_queue_send(f->svc, "nosuch", &m, 1, &sent, es, esz));
    gone(f, evb_queue_receive(f->svc, "nosuch", &r, &f->arena, &msgs, &n, es,
                              esz));
    static const char *const all[] = {"All"};
    evb_queue_attr_t *attrs;
    size_t nattrs;
    gone(f, evb_queue_get_attributes(f->svc, "nosuch", all, 1, &f->arena,
                                     &attrs, &nattrs, es, esz));
    evb_queue_attr_t set = {"VisibilityTimeout", "10"};
    gone(f, evb_queue_set_attributes(f->svc, "nosuch", &set, 1, es, esz));
    gone(f, evb_queue_change_visibility(f->svc, "nosuch", handle, 5, es, esz));
    gone(f, evb_queue_delete_message(f->svc, "nosuch", handle, es, esz));

    /* the queue that exists answers each of them */
    assert_int_equal(evb_queue_exists(f->svc, "here", es, esz),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(evb_queue_get_attributes(f->svc, "here", all, 1, &f->arena,
                                              &attrs, &nattrs, es, esz),
                     EVB_QUEUE_ERR_OK);
    assert_true(nattrs > 0);
    assert_int_equal(evb_queue_set_attributes(f->svc, "here", &set, 1, es, esz),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(
        evb_queue_change_visibility(f->svc, "here", handle, 5, es, esz),
        EVB_QUEUE_ERR_OK);
    assert_int_equal(evb_queue_delete_message(f->svc, "here", handle, es, esz),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(evb_queue_purge(f->svc, "here", es, esz),
                     EVB_QUEUE_ERR_OK);
    assert_int_equal(evb_queue_delete(f->svc, "here", es, esz),
                     EVB_QUEUE_ERR_OK);
    gone(f, evb_queue_exists(f->svc, "here", es, esz));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            every_operation_on_a_missing_queue_is_not_found, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
