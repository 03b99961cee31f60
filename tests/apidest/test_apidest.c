/* test_apidest.c: connections and API destinations over a temporary
 * store (secrets never answered), and the invoker against the loopback
 * test receiver (tools/test-receiver/receiver.py, HTTP and HTTPS with a
 * certificate made here with the openssl command): each auth type, the
 * merging of parameters (the connection wins), '*' path substitution,
 * the retry classes, timeouts, OAuth tokens cached and refreshed after a
 * 401 or a 407 and when they expire, TLS verification, and the
 * per-destination rate limit. Every wait is bounded; the receiver is
 * killed in the group teardown. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "apidest/apidest.h"

#define RECEIVER EVB_TEST_DATA_DIR "/../../tools/test-receiver/receiver.py"

static char dir[256];
static evb_store_t *store;
static evb_apidest_scope_t sc;
static char errstr[1024];
static pid_t receiver_pid;
static int http_port, https_port;
static char cert_path[300];

/* ---- helpers ----------------------------------------------------------- */

/* Call fn with the request text; return the answer (or NULL and *err). */
static json_t *call(evb_err_t (*fn)(const evb_apidest_scope_t *,
                                    const json_t *, json_t **, char *, size_t),
                    evb_err_t want, const char *req_text) {
    json_t *req = json_loads(req_text, 0, NULL);
    assert_non_null(req);
    json_t *resp = NULL;
    errstr[0] = 0;
    evb_err_t err = fn(&sc, req, &resp, errstr, sizeof errstr);
    json_decref(req);
    if (err != want)
        fail_msg("want %d got %d: %s", want, err, errstr);
    return resp;
}

static char *dumps(const json_t *j) { return json_dumps(j, JSON_COMPACT); }

static void assert_no_secret(const json_t *j, const char *secret) {
    char *s = dumps(j);
    if (strstr(s, secret))
        fail_msg("secret %s leaked in %s", secret, s);
    free(s);
}

static size_t sink(char *p, size_t size, size_t n, void *ud) {
    evb_buf_append(ud, p, size * n);
    return size * n;
}

/* A control request to the receiver; the answer parsed. */
static json_t *control(const char *path, const char *body) {
    CURL *e = curl_easy_init();
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", http_port, path);
    evb_buf_t b;
    evb_buf_init(&b, 0);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    if (body)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(e);
    json_t *j = json_loads(b.data ? b.data : "null", JSON_DECODE_ANY, NULL);
    evb_buf_free(&b);
    assert_non_null(j);
    return j;
}

static void respond(const char *path, int status, int delay_ms, int times) {
    char body[256];
    snprintf(body, sizeof body,
             "{\"path\":\"%s\",\"status\":%d,\"delay_ms\":%d,\"times\":%d}",
             path, status, delay_ms, times);
    json_decref(control("/_control/respond", body));
}

/* The recorded requests whose path is path (all if NULL). */
static json_t *requests(const char *path) {
    json_t *all = control("/_control/requests", NULL), *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) {
        if (!path || strcmp(json_string_value(json_object_get(r, "path")),
                            path) == 0)
            json_array_append(out, r);
    }
    json_decref(all);
    return out;
}

static const char *hdr(const json_t *rec, const char *name) {
    return json_string_value(
        json_object_get(json_object_get(rec, "headers"), name));
}

/* Synchronous invocation over the asynchronous API. */
typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, want;
    evb_apidest_result_t last;
    double t_done[64];
} waiter_t;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_done(void *ud, const evb_apidest_result_t *r) {
    waiter_t *w = ud;
    pthread_mutex_lock(&w->mu);
    w->last = *r;
    if (w->done < 64)
        w->t_done[w->done] = now_s();
    w->done++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void waiter_init(waiter_t *w, int want) {
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->want = want;
}

/* Wait (at most secs) until w->want completions came. */
static void waiter_wait(waiter_t *w, double secs) {
    double deadline = now_s() + secs;
    pthread_mutex_lock(&w->mu);
    while (w->done < w->want && now_s() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    int done = w->done;
    pthread_mutex_unlock(&w->mu);
    if (done < w->want)
        fail_msg("only %d of %d completions within %.0f s", done, w->want,
                 secs);
}

static void waiter_destroy(waiter_t *w) {
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

static evb_apidest_result_t invoke(evb_apidest_invoker_t *inv,
                                   const char *arn, const char *hp,
                                   const char *body) {
    waiter_t w;
    waiter_init(&w, 1);
    assert_int_equal(evb_apidest_invoke(inv, arn, hp, body, strlen(body),
                                        on_done, &w, errstr, sizeof errstr),
                     EVB_ERR_OK);
    waiter_wait(&w, 15);
    evb_apidest_result_t r = w.last;
    waiter_destroy(&w);
    return r;
}

static evb_apidest_invoker_t *invoker(unsigned timeout_ms, bool with_ca,
                                      bool insecure) {
    evb_apidest_invoker_opts_t o = {.timeout_ms = timeout_ms,
                                    .ca_file = with_ca ? cert_path : NULL,
                                    .insecure_skip_verify = insecure};
    evb_apidest_invoker_t *inv = NULL;
    assert_int_equal(evb_apidest_invoker_new(&sc, &o, &inv, errstr,
                                             sizeof errstr),
                     EVB_ERR_OK);
    return inv;
}

/* Create a connection (request text) and return its ARN (malloc'd). */
static char *make_connection(const char *req) {
    json_t *r = call(evb_apidest_connection_create, EVB_ERR_OK, req);
    char *arn = strdup(json_string_value(json_object_get(r, "ConnectionArn")));
    json_decref(r);
    return arn;
}

static char *make_destination(const char *name, const char *conn_arn,
                              const char *endpoint, const char *method,
                              int rate) {
    char req[2048];
    snprintf(req, sizeof req,
             "{\"Name\":\"%s\",\"ConnectionArn\":\"%s\","
             "\"InvocationEndpoint\":\"%s\",\"HttpMethod\":\"%s\","
             "\"InvocationRateLimitPerSecond\":%d}",
             name, conn_arn, endpoint, method, rate);
    json_t *r = call(evb_apidest_destination_create, EVB_ERR_OK, req);
    char *arn =
        strdup(json_string_value(json_object_get(r, "ApiDestinationArn")));
    json_decref(r);
    return arn;
}

/* ---- fixtures -------------------------------------------------------------- */

static int group_setup(void **state) {
    (void)state;
    curl_global_init(CURL_GLOBAL_ALL);
    snprintf(dir, sizeof dir, "/tmp/evb-apidest-test-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char cmd[1200];
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
             "-keyout '%s/key.pem' -out '%s' >/dev/null 2>&1",
             dir, cert_path);
    if (system(cmd) != 0)
        return -1;
    char port_file[300], key[300];
    snprintf(port_file, sizeof port_file, "%s/ports", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    receiver_pid = fork();
    if (receiver_pid == 0) {
        execlp("python3", "python3", RECEIVER, "--port-file", port_file,
               "--cert", cert_path, "--key", key, "--ttl", "300",
               (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) { /* 10 s */
        FILE *f = fopen(port_file, "r");
        if (f) {
            int n = fscanf(f, "%d %d", &http_port, &https_port);
            fclose(f);
            if (n == 2)
                break;
        }
        usleep(50000);
    }
    if (!http_port || !https_port)
        return -1;
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    if (receiver_pid > 0) {
        kill(receiver_pid, SIGTERM);
        waitpid(receiver_pid, NULL, 0);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    curl_global_cleanup();
    return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state) {
    (void)state;
    char sub[300];
    static int n;
    snprintf(sub, sizeof sub, "%s/store-%d", dir, n++);
    evb_store_opts_t o = {.dir = sub, .no_sync = true};
    if (evb_store_open(&o, &store, errstr, sizeof errstr))
        return -1;
    sc = (evb_apidest_scope_t){store, "123456789012", "us-east-1"};
    if (http_port)
        json_decref(control("/_control/reset", "{}"));
    return 0;
}

static int teardown(void **state) {
    (void)state;
    evb_store_close(store);
    store = NULL;
    return 0;
}

/* ---- control plane ---------------------------------------------------------- */

static void test_connection_lifecycle(void **state) {
    (void)state;
    json_t *r = call(evb_apidest_connection_create, EVB_ERR_OK,
                     "{\"Name\":\"c1\",\"AuthorizationType\":\"BASIC\","
                     "\"Description\":\"d\",\"AuthParameters\":{"
                     "\"BasicAuthParameters\":{\"Username\":\"user\","
                     "\"Password\":\"S3cretPW\"},\"InvocationHttpParameters\":"
                     "{\"HeaderParameters\":[{\"Key\":\"X-S\",\"Value\":"
                     "\"HiddenVal\",\"IsValueSecret\":true},{\"Key\":\"X-P\","
                     "\"Value\":\"shown\",\"IsValueSecret\":false}]}}}");
    const char *arn = json_string_value(json_object_get(r, "ConnectionArn"));
    assert_true(strncmp(arn, "arn:aws:events:us-east-1:123456789012:connection/c1/",
                        52) == 0);
    if (strlen(arn) != 52 + 36)
        fail_msg("ARN %s", arn);
    assert_string_equal(json_string_value(json_object_get(r, "ConnectionState")),
                        "AUTHORIZED");
    assert_true(json_is_number(json_object_get(r, "CreationTime")));
    json_decref(r);

    call(evb_apidest_connection_create, EVB_ERR_EXISTS,
         "{\"Name\":\"c1\",\"AuthorizationType\":\"BASIC\",\"AuthParameters\":"
         "{\"BasicAuthParameters\":{\"Username\":\"u\",\"Password\":\"p\"}}}");
    call(evb_apidest_connection_create, EVB_ERR_INVALID_ARG,
         "{\"Name\":\"c2\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
         "{\"BasicAuthParameters\":{\"Username\":\"u\",\"Password\":\"p\"}}}");

    r = call(evb_apidest_connection_describe, EVB_ERR_OK, "{\"Name\":\"c1\"}");
    assert_no_secret(r, "S3cretPW");
    assert_no_secret(r, "HiddenVal");
    char *s = dumps(r);
    assert_non_null(strstr(s, "\"Username\":\"user\""));
    assert_non_null(strstr(s, "\"shown\""));
    assert_non_null(strstr(s, "secretsmanager"));
    free(s);
    json_decref(r);

    r = call(evb_apidest_connection_list, EVB_ERR_OK, "{}");
    assert_int_equal(json_array_size(json_object_get(r, "Connections")), 1);
    assert_no_secret(r, "S3cretPW");
    json_decref(r);

    r = call(evb_apidest_connection_update, EVB_ERR_OK,
             "{\"Name\":\"c1\",\"AuthParameters\":{\"BasicAuthParameters\":"
             "{\"Password\":\"NewPW\"}}}");
    assert_string_equal(json_string_value(json_object_get(r, "ConnectionState")),
                        "AUTHORIZED");
    assert_no_secret(r, "NewPW");
    json_decref(r);
    r = call(evb_apidest_connection_describe, EVB_ERR_OK, "{\"Name\":\"c1\"}");
    s = dumps(r);
    assert_non_null(strstr(s, "\"Username\":\"user\"")); /* kept */
    assert_null(strstr(s, "NewPW"));
    free(s);
    json_decref(r);

    r = call(evb_apidest_connection_deauthorize, EVB_ERR_OK, "{\"Name\":\"c1\"}");
    assert_string_equal(json_string_value(json_object_get(r, "ConnectionState")),
                        "DEAUTHORIZING");
    json_decref(r);
    r = call(evb_apidest_connection_describe, EVB_ERR_OK, "{\"Name\":\"c1\"}");
    assert_string_equal(json_string_value(json_object_get(r, "ConnectionState")),
                        "DEAUTHORIZED");
    json_decref(r);
    r = call(evb_apidest_connection_list, EVB_ERR_OK,
             "{\"ConnectionState\":\"AUTHORIZED\"}");
    assert_int_equal(json_array_size(json_object_get(r, "Connections")), 0);
    json_decref(r);

    r = call(evb_apidest_connection_delete, EVB_ERR_OK, "{\"Name\":\"c1\"}");
    assert_string_equal(json_string_value(json_object_get(r, "ConnectionState")),
                        "DELETING");
    json_decref(r);
    call(evb_apidest_connection_describe, EVB_ERR_NOT_FOUND, "{\"Name\":\"c1\"}");
    assert_string_equal(errstr, "Failed to describe the connection(s). "
                                "Connection 'c1' does not exist.");
    call(evb_apidest_connection_delete, EVB_ERR_NOT_FOUND, "{\"Name\":\"c1\"}");
}

static void test_secrets_not_in_spec(void **state) {
    (void)state;
    char *arn = make_connection(
        "{\"Name\":\"k\",\"AuthorizationType\":\"OAUTH_CLIENT_CREDENTIALS\","
        "\"AuthParameters\":{\"OAuthParameters\":{\"ClientParameters\":"
        "{\"ClientID\":\"cid\",\"ClientSecret\":\"TopSecret\"},"
        "\"AuthorizationEndpoint\":\"https://a.example/t\",\"HttpMethod\":"
        "\"POST\"}}}");
    free(arn);
    sqlite3 *db;
    char file[500];
    snprintf(file, sizeof file, "%s/store-1/evbus.db", dir);
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 0077, 0);
    assert_int_equal(sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT spec, secrets FROM connections",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_null(strstr((const char *)sqlite3_column_text(q, 0), "TopSecret"));
    assert_non_null(strstr((const char *)sqlite3_column_text(q, 1), "TopSecret"));
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void test_destination_lifecycle(void **state) {
    (void)state;
    char *conn = make_connection(
        "{\"Name\":\"c\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
        "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"x-api-key\","
        "\"ApiKeyValue\":\"kv\"}}}");
    char req[1024];
    snprintf(req, sizeof req,
             "{\"Name\":\"d\",\"ConnectionArn\":\"%s\",\"InvocationEndpoint\":"
             "\"https://example.com/*\",\"HttpMethod\":\"POST\"}",
             conn);
    json_t *r = call(evb_apidest_destination_create, EVB_ERR_OK, req);
    const char *arn = json_string_value(json_object_get(r, "ApiDestinationArn"));
    assert_true(strncmp(arn, "arn:aws:events:us-east-1:123456789012:"
                             "api-destination/d/", 56) == 0);
    assert_string_equal(
        json_string_value(json_object_get(r, "ApiDestinationState")), "ACTIVE");
    json_decref(r);
    call(evb_apidest_destination_create, EVB_ERR_EXISTS, req);
    call(evb_apidest_destination_create, EVB_ERR_NOT_FOUND,
         "{\"Name\":\"e\",\"ConnectionArn\":\"arn:aws:events:us-east-1:"
         "123456789012:connection/nope/0000\",\"InvocationEndpoint\":"
         "\"https://x\",\"HttpMethod\":\"GET\"}");
    assert_string_equal(errstr, "Connection 'nope' does not exist.");

    r = call(evb_apidest_destination_describe, EVB_ERR_OK, "{\"Name\":\"d\"}");
    assert_int_equal(json_integer_value(json_object_get(
                         r, "InvocationRateLimitPerSecond")),
                     300);
    assert_string_equal(json_string_value(json_object_get(r, "ConnectionArn")),
                        conn);
    json_decref(r);
    json_decref(call(evb_apidest_destination_update, EVB_ERR_OK,
                     "{\"Name\":\"d\",\"HttpMethod\":\"PUT\","
                     "\"InvocationRateLimitPerSecond\":7}"));
    r = call(evb_apidest_destination_describe, EVB_ERR_OK, "{\"Name\":\"d\"}");
    assert_string_equal(json_string_value(json_object_get(r, "HttpMethod")),
                        "PUT");
    assert_int_equal(json_integer_value(json_object_get(
                         r, "InvocationRateLimitPerSecond")),
                     7);
    json_decref(r);

    /* pagination and filters */
    for (int i = 0; i < 3; i++) {
        char n[16];
        snprintf(n, sizeof n, "p%d", i);
        free(make_destination(n, conn, "https://example.com", "GET", 1));
    }
    r = call(evb_apidest_destination_list, EVB_ERR_OK,
             "{\"NamePrefix\":\"p\",\"Limit\":2}");
    assert_int_equal(json_array_size(json_object_get(r, "ApiDestinations")), 2);
    const char *tok = json_string_value(json_object_get(r, "NextToken"));
    assert_non_null(tok);
    snprintf(req, sizeof req, "{\"NamePrefix\":\"p\",\"NextToken\":\"%s\"}",
             tok);
    json_decref(r);
    r = call(evb_apidest_destination_list, EVB_ERR_OK, req);
    assert_int_equal(json_array_size(json_object_get(r, "ApiDestinations")), 1);
    assert_null(json_object_get(r, "NextToken"));
    json_decref(r);
    snprintf(req, sizeof req, "{\"ConnectionArn\":\"%s\"}", conn);
    r = call(evb_apidest_destination_list, EVB_ERR_OK, req);
    assert_int_equal(json_array_size(json_object_get(r, "ApiDestinations")), 4);
    json_decref(r);

    json_decref(call(evb_apidest_destination_delete, EVB_ERR_OK,
                     "{\"Name\":\"d\"}"));
    call(evb_apidest_destination_describe, EVB_ERR_NOT_FOUND, "{\"Name\":\"d\"}");
    assert_string_equal(errstr, "Failed to describe the api-destination(s). An "
                                "api-destination 'd' does not exist.");
    free(conn);
}

/* ---- invoker ---------------------------------------------------------------- */

static void test_invoke_basic_and_merge(void **state) {
    (void)state;
    char *conn = make_connection(
        "{\"Name\":\"b\",\"AuthorizationType\":\"BASIC\",\"AuthParameters\":{"
        "\"BasicAuthParameters\":{\"Username\":\"user\",\"Password\":\"pass\"},"
        "\"InvocationHttpParameters\":{\"HeaderParameters\":[{\"Key\":"
        "\"X-Both\",\"Value\":\"conn\"},{\"Key\":\"X-Conn\",\"Value\":\"c\","
        "\"IsValueSecret\":true}],\"QueryStringParameters\":[{\"Key\":\"q2\","
        "\"Value\":\"conn\"}],\"BodyParameters\":[{\"Key\":\"extra\","
        "\"Value\":\"fromconn\"}]}}}");
    char ep[256];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d/items/*/sub/*", http_port);
    char *dest = make_destination("d", conn, ep, "POST", 100);
    evb_apidest_invoker_t *inv = invoker(0, false, false);
    evb_apidest_result_t r = invoke(
        inv, dest,
        "{\"PathParameterValues\":[\"a\",\"b c\"],\"HeaderParameters\":"
        "{\"X-Both\":\"target\",\"X-Target\":\"t\"},\"QueryStringParameters\":"
        "{\"q1\":\"t\",\"q2\":\"target\"}}",
        "{\"detail\":{\"x\":1}}");
    assert_int_equal(r.outcome, EVB_APIDEST_SUCCESS);
    assert_int_equal(r.status, 200);
    json_t *reqs = requests(NULL);
    assert_int_equal(json_array_size(reqs), 1);
    json_t *q = json_array_get(reqs, 0);
    assert_string_equal(json_string_value(json_object_get(q, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(q, "path")),
                        "/items/a/sub/b%20c");
    assert_string_equal(json_string_value(json_object_get(q, "query")),
                        "q1=t&q2=conn");
    assert_string_equal(hdr(q, "x-both"), "conn");
    assert_string_equal(hdr(q, "x-conn"), "c");
    assert_string_equal(hdr(q, "x-target"), "t");
    assert_string_equal(hdr(q, "authorization"), "Basic dXNlcjpwYXNz");
    assert_string_equal(hdr(q, "content-type"), "application/json; charset=utf-8");
    assert_string_equal(hdr(q, "user-agent"), "Amazon/EventBridge/ApiDestinations");
    assert_string_equal(hdr(q, "range"), "bytes=0-1048575");
    assert_string_equal(hdr(q, "accept-encoding"), "gzip,deflate");
    assert_string_equal(hdr(q, "accept"), "*/*");
    assert_null(hdr(q, "expect"));
    json_t *body =
        json_loads(json_string_value(json_object_get(q, "body")), 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "extra")),
                        "fromconn");
    assert_non_null(json_object_get(body, "detail"));
    json_decref(body);
    json_decref(reqs);

    /* too few path values: not retriable */
    r = invoke(inv, dest, "{\"PathParameterValues\":[\"a\"]}", "{}");
    assert_int_equal(r.outcome, EVB_APIDEST_FAILED);
    assert_string_equal(r.code, "INVALID_PARAMETERS");
    /* unknown destination */
    r = invoke(inv, "arn:aws:events:us-east-1:123456789012:api-destination/x/y",
               NULL, "{}");
    assert_int_equal(r.outcome, EVB_APIDEST_FAILED);
    assert_string_equal(r.code, "NO_RESOURCE");
    /* deauthorized connection */
    json_decref(call(evb_apidest_connection_deauthorize, EVB_ERR_OK,
                     "{\"Name\":\"b\"}"));
    r = invoke(inv, dest, "{\"PathParameterValues\":[\"a\",\"b\"]}", "{}");
    assert_int_equal(r.outcome, EVB_APIDEST_FAILED);
    assert_string_equal(r.code, "NOT_AUTHORIZED");
    evb_apidest_invoker_free(inv);
    free(conn);
    free(dest);
}

static void test_invoke_api_key_and_methods(void **state) {
    (void)state;
    char *conn = make_connection(
        "{\"Name\":\"k\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
        "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"x-api-key\","
        "\"ApiKeyValue\":\"kv1\"},\"InvocationHttpParameters\":{"
        "\"HeaderParameters\":[{\"Key\":\"x-api-key\",\"Value\":\"nope\"}]}}}");
    char ep[256];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d/k", http_port);
    const char *methods[] = {"PUT", "GET", "DELETE", "PATCH", "HEAD",
                             "OPTIONS"};
    evb_apidest_invoker_t *inv = invoker(0, false, false);
    for (size_t i = 0; i < EVB_ARRAY_LEN(methods); i++) {
        char name[16];
        snprintf(name, sizeof name, "m%zu", i);
        char *dest = make_destination(name, conn, ep, methods[i], 50);
        evb_apidest_result_t r = invoke(inv, dest, NULL, "{\"a\":1}");
        assert_int_equal(r.outcome, EVB_APIDEST_SUCCESS);
        free(dest);
    }
    json_t *reqs = requests("/k");
    assert_int_equal(json_array_size(reqs), EVB_ARRAY_LEN(methods));
    for (size_t i = 0; i < EVB_ARRAY_LEN(methods); i++) {
        json_t *q = json_array_get(reqs, i);
        assert_string_equal(json_string_value(json_object_get(q, "method")),
                            methods[i]);
        assert_string_equal(hdr(q, "x-api-key"), "kv1"); /* auth wins */
    }
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(reqs, 0), "body")),
        "{\"a\":1}");
    json_decref(reqs);
    evb_apidest_invoker_free(inv);
    free(conn);
}

static void test_invoke_retry_classes(void **state) {
    (void)state;
    char *conn = make_connection(
        "{\"Name\":\"k\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
        "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"k\",\"ApiKeyValue\":\"v\"}}}");
    char ep[256];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d/s", http_port);
    char *dest = make_destination("d", conn, ep, "POST", 300);
    static const struct {
        int status;
        evb_apidest_outcome_t want;
    } cases[] = {
        {200, EVB_APIDEST_SUCCESS},   {204, EVB_APIDEST_SUCCESS},
        {301, EVB_APIDEST_FAILED},    {400, EVB_APIDEST_FAILED},
        {401, EVB_APIDEST_RETRIABLE}, {403, EVB_APIDEST_FAILED},
        {404, EVB_APIDEST_FAILED},    {407, EVB_APIDEST_RETRIABLE},
        {409, EVB_APIDEST_RETRIABLE}, {413, EVB_APIDEST_FAILED},
        {429, EVB_APIDEST_RETRIABLE}, {500, EVB_APIDEST_RETRIABLE},
        {502, EVB_APIDEST_RETRIABLE}, {503, EVB_APIDEST_RETRIABLE},
    };
    evb_apidest_invoker_t *inv = invoker(0, false, false);
    for (size_t i = 0; i < EVB_ARRAY_LEN(cases); i++) {
        respond("/s", cases[i].status, 0, 1);
        evb_apidest_result_t r = invoke(inv, dest, NULL, "{}");
        if (r.outcome != cases[i].want || r.status != cases[i].status)
            fail_msg("status %d: outcome %d (%s: %s)", cases[i].status,
                     r.outcome, r.code, r.message);
    }
    evb_apidest_invoker_free(inv);

    /* timeouts and refused connections are retriable */
    inv = invoker(300, false, false);
    respond("/s", 200, 1500, 1);
    evb_apidest_result_t r = invoke(inv, dest, NULL, "{}");
    assert_int_equal(r.outcome, EVB_APIDEST_RETRIABLE);
    assert_string_equal(r.code, "TIMEOUT");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd); /* nothing listens there now */
    snprintf(ep, sizeof ep, "{\"Name\":\"d\",\"InvocationEndpoint\":"
                            "\"http://127.0.0.1:%d/s\"}",
             ntohs(a.sin_port));
    json_decref(call(evb_apidest_destination_update, EVB_ERR_OK, ep));
    r = invoke(inv, dest, NULL, "{}");
    assert_int_equal(r.outcome, EVB_APIDEST_RETRIABLE);
    assert_string_equal(r.code, "NETWORK_ERROR");
    evb_apidest_invoker_free(inv);
    free(conn);
    free(dest);
}

static void test_invoke_oauth(void **state) {
    (void)state;
    char req[1024];
    snprintf(req, sizeof req,
             "{\"Name\":\"o\",\"AuthorizationType\":\"OAUTH_CLIENT_CREDENTIALS\","
             "\"AuthParameters\":{\"OAuthParameters\":{\"ClientParameters\":"
             "{\"ClientID\":\"cid\",\"ClientSecret\":\"csecret\"},"
             "\"AuthorizationEndpoint\":\"http://127.0.0.1:%d/oauth/token\","
             "\"HttpMethod\":\"POST\",\"OAuthHttpParameters\":{"
             "\"HeaderParameters\":[{\"Key\":\"X-Tok\",\"Value\":\"1\"}],"
             "\"BodyParameters\":[{\"Key\":\"scope\",\"Value\":\"all\"}]}}}}",
             http_port);
    char *conn = make_connection(req);
    char ep[256];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d/protected/x", http_port);
    char *dest = make_destination("d", conn, ep, "POST", 300);
    evb_apidest_invoker_t *inv = invoker(0, false, false);

    /* several at once share one token request */
    waiter_t w;
    waiter_init(&w, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(evb_apidest_invoke(inv, dest, NULL, "{}", 2, on_done,
                                            &w, errstr, sizeof errstr),
                         EVB_ERR_OK);
    waiter_wait(&w, 15);
    assert_int_equal(w.last.outcome, EVB_APIDEST_SUCCESS);
    waiter_destroy(&w);
    assert_int_equal(invoke(inv, dest, NULL, "{}").outcome,
                     EVB_APIDEST_SUCCESS);
    json_t *toks = requests("/oauth/token");
    assert_int_equal(json_array_size(toks), 1);
    json_t *t = json_array_get(toks, 0);
    const char *body = json_string_value(json_object_get(t, "body"));
    assert_non_null(strstr(body, "grant_type=client_credentials"));
    assert_non_null(strstr(body, "client_id=cid"));
    assert_non_null(strstr(body, "client_secret=csecret"));
    assert_non_null(strstr(body, "scope=all"));
    assert_string_equal(hdr(t, "x-tok"), "1");
    json_decref(toks);
    json_t *calls = requests("/protected/x");
    assert_string_equal(hdr(json_array_get(calls, 0), "authorization"),
                        "Bearer tok-1");
    json_decref(calls);

    /* the token is refused: a retriable 401, then a new token */
    json_decref(control("/_control/revoke", "{}"));
    evb_apidest_result_t r = invoke(inv, dest, NULL, "{}");
    assert_int_equal(r.outcome, EVB_APIDEST_RETRIABLE);
    assert_int_equal(r.status, 401);
    r = invoke(inv, dest, NULL, "{}");
    assert_int_equal(r.outcome, EVB_APIDEST_SUCCESS);
    toks = requests("/oauth/token");
    assert_int_equal(json_array_size(toks), 2);
    json_decref(toks);
    calls = requests("/protected/x");
    assert_string_equal(
        hdr(json_array_get(calls, json_array_size(calls) - 1), "authorization"),
        "Bearer tok-2");
    json_decref(calls);

    /* a token endpoint that refuses: not retriable */
    respond("/oauth/token", 400, 0, 1);
    json_decref(control("/_control/revoke", "{}"));
    r = invoke(inv, dest, NULL, "{}"); /* 401 drops tok-2 */
    assert_int_equal(r.status, 401);
    r = invoke(inv, dest, NULL, "{}");
    assert_int_equal(r.outcome, EVB_APIDEST_FAILED);
    assert_string_equal(r.code, "NOT_AUTHORIZED");
    assert_null(strstr(r.message, "csecret"));
    evb_apidest_invoker_free(inv);
    free(conn);
    free(dest);
}

/* OAuth tokens are also dropped on a 407 and refreshed when they expire
 * (an expires_in of 2 s keeps the token for half of that). The target is
 * not /protected, so the Authorization header each request carried shows
 * which token was used. */
static void test_invoke_oauth_refresh(void **state) {
    (void)state;
    char req[1024];
    snprintf(
        req, sizeof req,
        "{\"Name\":\"o\",\"AuthorizationType\":\"OAUTH_CLIENT_CREDENTIALS\","
        "\"AuthParameters\":{\"OAuthParameters\":{\"ClientParameters\":"
        "{\"ClientID\":\"cid\",\"ClientSecret\":\"csecret\"},"
        "\"AuthorizationEndpoint\":\"http://127.0.0.1:%d/oauth/token\","
        "\"HttpMethod\":\"POST\"}}}",
        http_port);
    char *conn = make_connection(req);
    char ep[256];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d/plain", http_port);
    char *dest = make_destination("d", conn, ep, "POST", 300);
    evb_apidest_invoker_t *inv = invoker(0, false, false);

    /* a token is used until the target answers 407 (the receiver numbers
     * them across tests: compare, do not name them) */
    assert_int_equal(invoke(inv, dest, NULL, "{}").outcome,
                     EVB_APIDEST_SUCCESS);
    respond("/plain", 407, 0, 1);
    evb_apidest_result_t r = invoke(inv, dest, NULL, "{}");
    assert_int_equal(r.outcome, EVB_APIDEST_RETRIABLE);
    assert_int_equal(r.status, 407);
    assert_int_equal(invoke(inv, dest, NULL, "{}").outcome,
                     EVB_APIDEST_SUCCESS);
    json_t *calls = requests("/plain");
    assert_int_equal(json_array_size(calls), 3);
    const char *first = hdr(json_array_get(calls, 0), "authorization");
    assert_non_null(first);
    assert_int_equal(strncmp(first, "Bearer tok-", 11), 0);
    assert_string_equal(hdr(json_array_get(calls, 1), "authorization"), first);
    const char *second = hdr(json_array_get(calls, 2), "authorization");
    assert_non_null(second);
    assert_int_equal(strncmp(second, "Bearer tok-", 11), 0);
    assert_string_not_equal(second, first);
    json_decref(calls);
    evb_apidest_invoker_stats_t st;
    evb_apidest_invoker_get_stats(inv, &st);
    assert_int_equal(st.token_fetches, 2);

    /* a token that expires: kept while valid, fetched again after */
    json_decref(control(
        "/_control/respond",
        "{\"path\":\"/oauth/token\",\"status\":200,\"times\":3,\"body\":"
        "\"{\\\"access_token\\\":\\\"short\\\",\\\"token_type\\\":"
        "\\\"bearer\\\",\\\"expires_in\\\":2}\"}"));
    respond("/plain", 401, 0, 1); /* drops the second token */
    assert_int_equal(invoke(inv, dest, NULL, "{}").status, 401);
    double t0 = now_s();
    assert_int_equal(invoke(inv, dest, NULL, "{}").outcome,
                     EVB_APIDEST_SUCCESS);
    assert_int_equal(invoke(inv, dest, NULL, "{}").outcome,
                     EVB_APIDEST_SUCCESS);
    bool quick = now_s() - t0 < 0.9; /* both within the token's life */
    usleep(1300000);
    assert_int_equal(invoke(inv, dest, NULL, "{}").outcome,
                     EVB_APIDEST_SUCCESS);
    calls = requests("/plain");
    size_t n = json_array_size(calls);
    assert_int_equal(n, 7);
    assert_string_equal(hdr(json_array_get(calls, 4), "authorization"),
                        "Bearer short");
    if (quick)
        assert_string_equal(hdr(json_array_get(calls, 5), "authorization"),
                            "Bearer short");
    assert_string_equal(hdr(json_array_get(calls, 6), "authorization"),
                        "Bearer short"); /* a later planned answer */
    json_decref(calls);
    evb_apidest_invoker_get_stats(inv, &st);
    assert_int_equal(st.token_fetches, quick ? 4 : 5);
    json_t *toks = requests("/oauth/token");
    assert_int_equal(json_array_size(toks), quick ? 4 : 5);
    json_decref(toks);
    evb_apidest_invoker_free(inv);
    free(conn);
    free(dest);
}

static void test_invoke_https(void **state) {
    (void)state;
    char *conn = make_connection(
        "{\"Name\":\"k\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
        "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"k\",\"ApiKeyValue\":\"v\"}}}");
    char ep[256];
    snprintf(ep, sizeof ep, "https://127.0.0.1:%d/tls", https_port);
    char *dest = make_destination("d", conn, ep, "POST", 300);
    evb_apidest_invoker_t *inv = invoker(0, true, false);
    evb_apidest_result_t r = invoke(inv, dest, NULL, "{\"s\":1}");
    assert_int_equal(r.outcome, EVB_APIDEST_SUCCESS);
    evb_apidest_invoker_free(inv);
    /* the system's CAs do not know the test certificate */
    inv = invoker(0, false, false);
    r = invoke(inv, dest, NULL, "{}");
    assert_int_equal(r.outcome, EVB_APIDEST_RETRIABLE);
    assert_string_equal(r.code, "NETWORK_ERROR");
    evb_apidest_invoker_free(inv);
    inv = invoker(0, false, true);
    assert_int_equal(invoke(inv, dest, NULL, "{}").outcome, EVB_APIDEST_SUCCESS);
    evb_apidest_invoker_free(inv);
    json_t *reqs = requests("/tls");
    assert_int_equal(json_array_size(reqs), 2);
    json_decref(reqs);
    free(conn);
    free(dest);
}

static void test_invoke_rate_limit(void **state) {
    (void)state;
    char *conn = make_connection(
        "{\"Name\":\"k\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
        "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"k\",\"ApiKeyValue\":\"v\"}}}");
    char ep[256];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d/rate", http_port);
    char *dest = make_destination("d", conn, ep, "POST", 10);
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d/fast", http_port);
    char *fast = make_destination("f", conn, ep, "POST", 1000);
    evb_apidest_invoker_t *inv = invoker(0, false, false);
    enum { N = 31 };
    waiter_t w, wf;
    waiter_init(&w, N);
    waiter_init(&wf, 20);
    double t0 = now_s();
    for (int i = 0; i < N; i++)
        assert_int_equal(evb_apidest_invoke(inv, dest, NULL, "{}", 2, on_done,
                                            &w, errstr, sizeof errstr),
                         EVB_ERR_OK);
    /* another destination is not held up by this one's bucket */
    for (int i = 0; i < 20; i++)
        assert_int_equal(evb_apidest_invoke(inv, fast, NULL, "{}", 2, on_done,
                                            &wf, errstr, sizeof errstr),
                         EVB_ERR_OK);
    double submitted = now_s() - t0;
    assert_true(submitted < 0.5); /* submission never waits */
    waiter_wait(&wf, 10);
    assert_true(wf.t_done[19] - t0 < 1.5);
    evb_apidest_invoker_stats_t st;
    evb_apidest_invoker_get_stats(inv, &st);
    assert_true(st.waiting > 0);
    waiter_wait(&w, 20);
    json_t *reqs = requests("/rate");
    assert_int_equal(json_array_size(reqs), N);
    double first = json_real_value(json_object_get(json_array_get(reqs, 0), "t"));
    double last =
        json_real_value(json_object_get(json_array_get(reqs, N - 1), "t"));
    double rate = (N - 1) / (last - first);
    print_message("measured %.2f invocations/s (configured 10)\n", rate);
    assert_true(rate > 9.0 && rate < 11.0);
    json_decref(reqs);
    waiter_destroy(&w);
    waiter_destroy(&wf);
    evb_apidest_invoker_free(inv);
    free(conn);
    free(dest);
    free(fast);
}

/* The invoker keeps resolved destinations, but every committed change to a
 * connection or destination applies to the next invocation. */
static void test_invoke_follows_changes(void **state) {
    (void)state;
    char *conn = make_connection(
        "{\"Name\":\"k\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
        "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"x-key\",\"ApiKeyValue\":"
        "\"one\"}}}");
    char ep[256];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d/a", http_port);
    char *dest = make_destination("d", conn, ep, "POST", 300);
    evb_apidest_invoker_t *inv = invoker(0, false, false);
    /* twice: the second from the cache, with the prebuilt headers */
    for (int i = 0; i < 2; i++)
        assert_int_equal(invoke(inv, dest, NULL, "{}").outcome,
                         EVB_APIDEST_SUCCESS);
    /* target HttpParameters on a cached destination */
    assert_int_equal(invoke(inv, dest,
                            "{\"HeaderParameters\":{\"X-T\":\"t\"},"
                            "\"QueryStringParameters\":{\"q\":\"1\"}}",
                            "{}")
                         .outcome,
                     EVB_APIDEST_SUCCESS);
    json_t *reqs = requests("/a");
    assert_int_equal(json_array_size(reqs), 3);
    assert_string_equal(hdr(json_array_get(reqs, 1), "x-key"), "one");
    assert_null(hdr(json_array_get(reqs, 1), "x-t"));
    assert_string_equal(hdr(json_array_get(reqs, 2), "x-t"), "t");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(reqs, 2), "query")),
        "q=1");
    json_decref(reqs);
    /* a new key */
    json_decref(call(evb_apidest_connection_update, EVB_ERR_OK,
                     "{\"Name\":\"k\",\"AuthParameters\":{"
                     "\"ApiKeyAuthParameters\":{\"ApiKeyValue\":\"two\"}}}"));
    assert_int_equal(invoke(inv, dest, NULL, "{}").outcome,
                     EVB_APIDEST_SUCCESS);
    reqs = requests("/a");
    assert_string_equal(hdr(json_array_get(reqs, 3), "x-key"), "two");
    json_decref(reqs);
    /* a new endpoint */
    char upd[512];
    snprintf(upd, sizeof upd,
             "{\"Name\":\"d\",\"InvocationEndpoint\":"
             "\"http://127.0.0.1:%d/b\"}",
             http_port);
    json_decref(call(evb_apidest_destination_update, EVB_ERR_OK, upd));
    assert_int_equal(invoke(inv, dest, NULL, "{}").outcome,
                     EVB_APIDEST_SUCCESS);
    reqs = requests("/b");
    assert_int_equal(json_array_size(reqs), 1);
    json_decref(reqs);
    /* gone */
    json_decref(
        call(evb_apidest_destination_delete, EVB_ERR_OK, "{\"Name\":\"d\"}"));
    evb_apidest_result_t r = invoke(inv, dest, NULL, "{}");
    assert_int_equal(r.outcome, EVB_APIDEST_FAILED);
    assert_string_equal(r.code, "NO_RESOURCE");
    evb_apidest_invoker_free(inv);
    free(conn);
    free(dest);
}

static bool mine_if_odd(void *ud, void *arg) {
    (void)arg;
    return ((waiter_t *)ud)->want % 2 == 1;
}

/* Cancelling what waits on a rate limit: only the submitter's, at once. */
static void test_invoker_cancel_waiting(void **state) {
    (void)state;
    char *conn = make_connection(
        "{\"Name\":\"k\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
        "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"k\",\"ApiKeyValue\":\"v\"}}}");
    char ep[256];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d/slow", http_port);
    char *dest = make_destination("d", conn, ep, "POST", 1);
    evb_apidest_invoker_t *inv = invoker(0, false, false);
    waiter_t odd, even; /* want 5 and 4: mine_if_odd tells them apart */
    waiter_init(&odd, 5);
    waiter_init(&even, 4);
    for (int i = 0; i < 5; i++)
        assert_int_equal(evb_apidest_invoke(inv, dest, NULL, "{}", 2, on_done,
                                            &odd, errstr, sizeof errstr),
                         EVB_ERR_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(evb_apidest_invoke(inv, dest, NULL, "{}", 2, on_done,
                                            &even, errstr, sizeof errstr),
                         EVB_ERR_OK);
    double t0 = now_s();
    evb_apidest_invoker_cancel_waiting(inv, on_done, mine_if_odd, NULL);
    waiter_wait(&odd, 3);
    assert_true(now_s() - t0 < 2); /* not a rate-limited second each */
    /* the other submitter's still wait (one may have started since) */
    pthread_mutex_lock(&even.mu);
    int started = even.done;
    pthread_mutex_unlock(&even.mu);
    assert_true(started <= 1);
    evb_apidest_invoker_cancel_waiting(inv, on_done, NULL, NULL);
    waiter_wait(&even, 3);
    assert_true(now_s() - t0 < 3);
    waiter_destroy(&odd);
    waiter_destroy(&even);
    evb_apidest_invoker_free(inv);
    free(conn);
    free(dest);
}

static void test_invoker_shutdown_completes_pending(void **state) {
    (void)state;
    char *conn = make_connection(
        "{\"Name\":\"k\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
        "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"k\",\"ApiKeyValue\":\"v\"}}}");
    char ep[256];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d/slow", http_port);
    char *dest = make_destination("d", conn, ep, "POST", 1);
    respond("/slow", 200, 3000, 1);
    evb_apidest_invoker_t *inv = invoker(0, false, false);
    waiter_t w;
    waiter_init(&w, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(evb_apidest_invoke(inv, dest, NULL, "{}", 2, on_done,
                                            &w, errstr, sizeof errstr),
                         EVB_ERR_OK);
    usleep(300000);
    evb_apidest_invoker_free(inv);
    assert_int_equal(w.done, 5);
    assert_string_equal(w.last.code, "SHUTDOWN");
    waiter_destroy(&w);
    free(conn);
    free(dest);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connection_lifecycle, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_secrets_not_in_spec, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_destination_lifecycle, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invoke_basic_and_merge, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invoke_api_key_and_methods, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invoke_retry_classes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invoke_oauth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invoke_oauth_refresh, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invoke_https, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invoke_rate_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invoke_follows_changes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invoker_cancel_waiting, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invoker_shutdown_completes_pending,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
