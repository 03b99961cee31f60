/*
 * test_registry_http.c: evb_registry_http, the one libcurl exchange the
 * registry client (client.c) and the codec's own registry requests
 * (serde/source.c) share: what it sends (method, URL, Accept,
 * Content-Type, body, basic auth), what it collects (status, body, with
 * the size limit), how it reports a transport failure, and that a
 * caller's handle comes back reusable. Against a local server on
 * 127.0.0.1 (src/api/http.c) with an ephemeral port; every request has a
 * 5 s timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "registry/registry.h"

#define TIMEOUT_MS 5000L

/* What the server saw last (guarded by mu). */
typedef struct seen {
    pthread_mutex_t mu;
    char method[16], path[256], accept[256], content_type[128], auth[128];
    char body[256];
    unsigned count;
} seen_t;

static void copy(char *dst, size_t size, const char *src) {
    snprintf(dst, size, "%s", src ? src : "");
}

/* /ok: 200 {"ok":true}; /big: 200 with 4096 bytes; /teapot: 418. */
static void handler(void *ud, const evb_http_request_t *req,
                    evb_http_response_t *resp) {
    seen_t *s = ud;
    pthread_mutex_lock(&s->mu);
    copy(s->method, sizeof s->method, req->method);
    copy(s->path, sizeof s->path, req->path);
    copy(s->accept, sizeof s->accept, evb_http_request_header(req, "Accept"));
    copy(s->content_type, sizeof s->content_type,
         evb_http_request_header(req, "Content-Type"));
    copy(s->auth, sizeof s->auth,
         evb_http_request_header(req, "Authorization"));
    copy(s->body, sizeof s->body, req->body);
    s->count++;
    pthread_mutex_unlock(&s->mu);
    if (strcmp(req->path, "/big") == 0) {
        resp->status = 200;
        for (int i = 0; i < 4096; i++)
            if (evb_buf_putc(&resp->body, 'x'))
                break;
    } else if (strcmp(req->path, "/teapot") == 0) {
        resp->status = 418;
        (void)evb_buf_appendf(&resp->body, "{\"error_code\":418}");
    } else {
        resp->status = 200;
        (void)evb_buf_appendf(&resp->body, "{\"ok\":true}");
    }
}

typedef struct fixture {
    seen_t seen;
    evb_http_server_t *srv;
    char base[64];
} fixture_t;

static int setup(void **state) {
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    pthread_mutex_init(&f->seen.mu, NULL);
    evb_http_config_t cfg = evb_http_config_default();
    cfg.host = "127.0.0.1";
    cfg.threads = 1;
    char errstr[256];
    if (evb_http_server_start(&cfg, handler, &f->seen, &f->srv, errstr,
                              sizeof errstr)) {
        fprintf(stderr, "server: %s\n", errstr);
        free(f);
        return -1;
    }
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u",
             (unsigned)evb_http_server_port(f->srv));
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    evb_http_server_stop(f->srv);
    pthread_mutex_destroy(&f->seen.mu);
    free(f);
    return 0;
}

static evb_registry_http_request_t request(const char *method,
                                           const char *url) {
    return (evb_registry_http_request_t){
        .method = method,
        .url = url,
        .accept = "application/vnd.schemaregistry.v1+json, application/json",
        .timeout_ms = TIMEOUT_MS,
        .max_answer = 1024,
    };
}

static void get_sends_accept_and_collects_the_answer(void **state) {
    fixture_t *f = *state;
    char url[128];
    snprintf(url, sizeof url, "%s/ok", f->base);
    evb_registry_http_request_t rq = request("GET", url);
    evb_registry_http_answer_t ans;
    assert_int_equal(evb_registry_http(NULL, &rq, &ans), EVB_ERR_OK);
    assert_int_equal(ans.curl_code, 0);
    assert_string_equal(ans.error, "");
    assert_int_equal(ans.status, 200);
    assert_int_equal(ans.body.len, 11);
    assert_memory_equal(ans.body.data, "{\"ok\":true}", 11);
    evb_buf_free(&ans.body);
    assert_string_equal(f->seen.method, "GET");
    assert_string_equal(f->seen.path, "/ok");
    assert_string_equal(f->seen.accept,
                        "application/vnd.schemaregistry.v1+json, "
                        "application/json");
    assert_string_equal(f->seen.content_type, "");
    assert_string_equal(f->seen.auth, "");
    assert_string_equal(f->seen.body, "");
}

static void post_sends_the_body_as_registry_json_with_basic_auth(
    void **state) {
    fixture_t *f = *state;
    char url[128];
    snprintf(url, sizeof url, "%s/subjects/a", f->base);
    evb_registry_http_request_t rq = request("POST", url);
    rq.body = "{\"schema\":\"\\\"int\\\"\"}";
    rq.user_info = "user:secret";
    evb_registry_http_answer_t ans;
    assert_int_equal(evb_registry_http(NULL, &rq, &ans), EVB_ERR_OK);
    assert_int_equal(ans.curl_code, 0);
    assert_int_equal(ans.status, 200);
    evb_buf_free(&ans.body);
    assert_string_equal(f->seen.method, "POST");
    assert_string_equal(f->seen.path, "/subjects/a");
    assert_string_equal(f->seen.content_type,
                        "application/vnd.schemaregistry.v1+json");
    assert_string_equal(f->seen.body, rq.body);
    /* base64("user:secret") */
    assert_string_equal(f->seen.auth, "Basic dXNlcjpzZWNyZXQ=");
}

static void other_statuses_are_answers_not_failures(void **state) {
    fixture_t *f = *state;
    char url[128];
    snprintf(url, sizeof url, "%s/teapot", f->base);
    evb_registry_http_request_t rq = request("DELETE", url);
    evb_registry_http_answer_t ans;
    assert_int_equal(evb_registry_http(NULL, &rq, &ans), EVB_ERR_OK);
    assert_int_equal(ans.curl_code, 0);
    assert_int_equal(ans.status, 418);
    assert_non_null(ans.body.data);
    assert_string_equal(ans.body.data, "{\"error_code\":418}");
    evb_buf_free(&ans.body);
    assert_string_equal(f->seen.method, "DELETE");
}

static void a_too_long_answer_is_a_write_error(void **state) {
    fixture_t *f = *state;
    char url[128];
    snprintf(url, sizeof url, "%s/big", f->base);
    evb_registry_http_request_t rq = request("GET", url);
    evb_registry_http_answer_t ans;
    assert_int_equal(evb_registry_http(NULL, &rq, &ans), EVB_ERR_OK);
    assert_int_equal(ans.curl_code, CURLE_WRITE_ERROR);
    assert_true(ans.error[0] != '\0');
    assert_true(ans.body.len <= 1024);
    evb_buf_free(&ans.body);
    rq.max_answer = 8192;
    assert_int_equal(evb_registry_http(NULL, &rq, &ans), EVB_ERR_OK);
    assert_int_equal(ans.curl_code, 0);
    assert_int_equal(ans.body.len, 4096);
    evb_buf_free(&ans.body);
}

static void a_refused_connection_is_reported_in_words(void **state) {
    (void)state;
    /* a port nothing listens on: a server's, once it has stopped */
    evb_http_config_t cfg = evb_http_config_default();
    cfg.host = "127.0.0.1";
    cfg.threads = 1;
    evb_http_server_t *srv;
    char errstr[256], url[128];
    seen_t unused = {0};
    assert_int_equal(evb_http_server_start(&cfg, handler, &unused, &srv,
                                           errstr, sizeof errstr),
                     EVB_ERR_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/ok",
             (unsigned)evb_http_server_port(srv));
    evb_http_server_stop(srv);
    evb_registry_http_request_t rq = request("GET", url);
    evb_registry_http_answer_t ans;
    assert_int_equal(evb_registry_http(NULL, &rq, &ans), EVB_ERR_OK);
    assert_int_not_equal(ans.curl_code, 0);
    assert_true(ans.error[0] != '\0');
    assert_int_equal(ans.status, 0);
    evb_buf_free(&ans.body);
}

static void a_callers_handle_is_used_and_stays_reusable(void **state) {
    fixture_t *f = *state;
    CURL *h = curl_easy_init();
    assert_non_null(h);
    char url[128];
    snprintf(url, sizeof url, "%s/ok", f->base);
    unsigned before = f->seen.count;
    for (int i = 0; i < 3; i++) {
        evb_registry_http_request_t rq = request(i == 1 ? "PUT" : "GET", url);
        if (i == 1)
            rq.body = "{}";
        evb_registry_http_answer_t ans;
        curl_easy_reset(h);
        assert_int_equal(evb_registry_http(h, &rq, &ans), EVB_ERR_OK);
        assert_int_equal(ans.curl_code, 0);
        assert_int_equal(ans.status, 200);
        evb_buf_free(&ans.body);
    }
    assert_int_equal(f->seen.count, before + 3);
    assert_string_equal(f->seen.method, "GET");
    curl_easy_cleanup(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_sends_accept_and_collects_the_answer),
        cmocka_unit_test(post_sends_the_body_as_registry_json_with_basic_auth),
        cmocka_unit_test(other_statuses_are_answers_not_failures),
        cmocka_unit_test(a_too_long_answer_is_a_write_error),
        cmocka_unit_test(a_refused_connection_is_reported_in_words),
        cmocka_unit_test(a_callers_handle_is_used_and_stays_reusable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
