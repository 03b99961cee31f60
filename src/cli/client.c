/*
 * client.c: the commands' HTTP client (client.h) on libcurl's easy
 * interface: one handle per client, reused, so calls share a kept-alive
 * connection. Signature V4 is libcurl's own (CURLOPT_AWS_SIGV4), which
 * signs the method, path, query, the headers it sends and the body's
 * hash; the session token, when there is one, travels in
 * X-Amz-Security-Token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "client.h"

#define MAX_ANSWER ((size_t)64 << 20)

struct evb__client {
    CURL *curl;
    char *endpoint; /* without a trailing '/' */
    char *ca_bundle;
    char sigv4[128]; /* "aws:amz:REGION:events"; "" when unsigned */
    char *userpwd;   /* "AKID:SECRET" */
    char *token_hdr; /* "X-Amz-Security-Token: ..." or NULL */
};

enum { OPT_ENDPOINT = EVB_CLI_ID_CLIENT, OPT_CA_BUNDLE, OPT_REGION };

static const evb_cli_option_t client_options[] = {
    {"endpoint-url", 0, EVB_CLI_STRING, "URL", NULL, 0, 0, NULL,
     "the evbus server (default $EVBUS_ENDPOINT_URL, else "
     "http://127.0.0.1:4010); https:// for a server with --tls-cert",
     OPT_ENDPOINT, 0},
    {"ca-bundle", 0, EVB_CLI_STRING, "FILE", NULL, 0, 0, NULL,
     "PEM CA certificates to verify the server's certificate with (default "
     "$AWS_CA_BUNDLE, else the system's)",
     OPT_CA_BUNDLE, 0},
    {"region", 0, EVB_CLI_STRING, "NAME", NULL, 0, 0, NULL,
     "region to sign requests for when AWS_ACCESS_KEY_ID and "
     "AWS_SECRET_ACCESS_KEY are set (default $AWS_REGION, "
     "$AWS_DEFAULT_REGION, else us-east-1)",
     OPT_REGION, 0},
    EVB_CLI_OPTIONS_END,
};

const evb_cli_option_group_t evb__client_group = {"Server", client_options};

bool evb__client_option(evb__client_opts_t *opts, const evb_cli_option_t *opt,
                        const evb_cli_value_t *v) {
    switch (opt->id) {
    case OPT_ENDPOINT: opts->endpoint = v->str; return true;
    case OPT_CA_BUNDLE: opts->ca_bundle = v->str; return true;
    case OPT_REGION: opts->region = v->str; return true;
    default: return false;
    }
}

static char *dupstr(const char *s) {
    return s ? strdup(s) : NULL;
}

static const char *env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

evb_err_t evb__client_new(const evb__client_opts_t *opts, evb__client_t **out,
                          char *errstr, size_t errstr_size) {
    *out = NULL;
    const char *endpoint =
        opts->endpoint ? opts->endpoint : env("EVBUS_ENDPOINT_URL");
    if (!endpoint)
        endpoint = EVB_CLI_DEFAULT_ENDPOINT;
    if (strncmp(endpoint, "http://", 7) != 0 &&
        strncmp(endpoint, "https://", 8) != 0)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "--endpoint-url: expected http://HOST:PORT or "
                           "https://HOST:PORT, got '%s'",
                           endpoint);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "libcurl could not be initialised");
    evb__client_t *c = calloc(1, sizeof *c);
    bool ok =
        c && (c->endpoint = dupstr(endpoint)) && (c->curl = curl_easy_init());
    if (ok) {
        size_t n = strlen(c->endpoint);
        while (n > 0 && c->endpoint[n - 1] == '/')
            c->endpoint[--n] = '\0';
        const char *ca =
            opts->ca_bundle ? opts->ca_bundle : env("AWS_CA_BUNDLE");
        if (ca && !(c->ca_bundle = dupstr(ca)))
            ok = false;
    }
    const char *id = env("AWS_ACCESS_KEY_ID");
    const char *secret = env("AWS_SECRET_ACCESS_KEY");
    if (ok && id && secret) {
        const char *region = opts->region ? opts->region : env("AWS_REGION");
        if (!region)
            region = env("AWS_DEFAULT_REGION");
        if (!region)
            region = "us-east-1";
        snprintf(c->sigv4, sizeof c->sigv4, "aws:amz:%s:events", region);
        size_t n = strlen(id) + strlen(secret) + 2;
        if (!(c->userpwd = malloc(n)))
            ok = false;
        else
            snprintf(c->userpwd, n, "%s:%s", id, secret);
        const char *token = env("AWS_SESSION_TOKEN");
        if (ok && token) {
            n = strlen(token) + 32;
            if (!(c->token_hdr = malloc(n)))
                ok = false;
            else
                snprintf(c->token_hdr, n, "X-Amz-Security-Token: %s", token);
        }
    }
    if (!ok) {
        evb__client_free(c);
        if (!c)
            curl_global_cleanup();
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    *out = c;
    return EVB_ERR_OK;
}

void evb__client_free(evb__client_t *c) {
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->endpoint);
    free(c->ca_bundle);
    if (c->userpwd) {
        explicit_bzero(c->userpwd, strlen(c->userpwd));
        free(c->userpwd);
    }
    free(c->token_hdr);
    free(c);
    curl_global_cleanup();
}

const char *evb__client_endpoint(const evb__client_t *c) {
    return c->endpoint;
}

char *evb__client_escape(evb__client_t *c, const char *s) {
    char *e = curl_easy_escape(c->curl, s, 0);
    char *copy = e ? strdup(e) : NULL;
    curl_free(e);
    return copy;
}

/* The options every request has. */
static void common_setup(evb__client_t *c, const char *url, char *curl_err) {
    CURL *k = c->curl;
    curl_easy_reset(k);
    curl_easy_setopt(k, CURLOPT_URL, url);
    curl_easy_setopt(k, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(k, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(k, CURLOPT_USERAGENT,
                     "evbus-cli/"
                     "1");
    if (c->ca_bundle)
        curl_easy_setopt(k, CURLOPT_CAINFO, c->ca_bundle);
    if (c->sigv4[0]) {
        curl_easy_setopt(k, CURLOPT_AWS_SIGV4, c->sigv4);
        curl_easy_setopt(k, CURLOPT_USERPWD, c->userpwd);
    }
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
    evb_buf_t *b = ud;
    size_t n = size * nmemb;
    return evb_buf_append(b, data, n) ? 0 : n;
}

/* "Type: message" of an AWS error body (or what there is). */
static void error_text(long status, const char *body, size_t len, char *errstr,
                       size_t errstr_size) {
    json_error_t je;
    json_t *j = body && len ? json_loadb(body, len, 0, &je) : NULL;
    const char *type = json_string_value(json_object_get(j, "__type"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(j, "Message"));
    if (type && strchr(type, '#'))
        type = strchr(type, '#') + 1;
    if (type)
        snprintf(errstr, errstr_size, "%s: %s", type, msg ? msg : "");
    else
        snprintf(errstr, errstr_size, "HTTP %ld", status);
    json_decref(j);
}

evb_err_t evb__client_call(evb__client_t *c, const char *target,
                           const json_t *request, json_t **answer, char *errstr,
                           size_t errstr_size) {
    *answer = NULL;
    char *body = json_dumps(request, JSON_COMPACT);
    char target_h[256], url[2048], curl_err[CURL_ERROR_SIZE] = "";
    snprintf(target_h, sizeof target_h, "X-Amz-Target: %s", target);
    snprintf(url, sizeof url, "%s/", c->endpoint);
    struct curl_slist *h = NULL, *t;
    bool ok = body != NULL;
    const char *hdrs[] = {target_h, "Content-Type: application/x-amz-json-1.1",
                          "Expect:", c->token_hdr};
    for (size_t i = 0; ok && i < 4; i++) {
        if (!hdrs[i])
            continue;
        if (!(t = curl_slist_append(h, hdrs[i])))
            ok = false;
        else
            h = t;
    }
    if (!ok) {
        free(body);
        curl_slist_free_all(h);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    evb_buf_t ans;
    evb_buf_init(&ans, MAX_ANSWER);
    common_setup(c, url, curl_err);
    CURL *k = c->curl;
    curl_easy_setopt(k, CURLOPT_POST, 1L);
    curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(k, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(k, CURLOPT_WRITEDATA, &ans);
    curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, 60000L);
    CURLcode rc = curl_easy_perform(k);
    long status = 0;
    curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    free(body);
    evb_err_t err = EVB_ERR_OK;
    if (rc != CURLE_OK) {
        err =
            evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                        "cannot reach the evbus server at %s: %s", c->endpoint,
                        curl_err[0] ? curl_err : curl_easy_strerror(rc));
    } else if (status != 200) {
        error_text(status, ans.data, ans.len, errstr, errstr_size);
        err = EVB_ERR_INVALID_ARG;
    } else {
        json_error_t je;
        *answer =
            ans.len ? json_loadb(ans.data, ans.len, 0, &je) : json_object();
        if (!json_is_object(*answer)) {
            json_decref(*answer);
            *answer = NULL;
            err = evb_err_set(EVB_ERR_IO, errstr, errstr_size,
                              "the server at %s answered %s with no JSON "
                              "object: is it an evbus server?",
                              c->endpoint, target);
        }
    }
    evb_buf_free(&ans);
    return err;
}

typedef struct stream_ctx {
    evb__client_data_fn fn;
    void *ud;
    CURL *k;
    bool ok200, decided, stopped;
    evb_buf_t err_body;
    volatile int *stop;
} stream_ctx_t;

static size_t on_stream(char *data, size_t size, size_t nmemb, void *ud) {
    stream_ctx_t *s = ud;
    size_t n = size * nmemb;
    if (!s->decided) {
        long status = 0;
        curl_easy_getinfo(s->k, CURLINFO_RESPONSE_CODE, &status);
        s->ok200 = status == 200;
        s->decided = true;
    }
    if (!s->ok200)
        return evb_buf_append(&s->err_body, data, n) ? 0 : n;
    if (!s->fn(s->ud, data, n)) {
        s->stopped = true;
        return 0; /* ends the transfer */
    }
    return n;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
                       curl_off_t d) {
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    stream_ctx_t *s = ud;
    if (s->stop && *s->stop) {
        s->stopped = true;
        return 1;
    }
    return 0;
}

evb_err_t evb__client_get_stream(evb__client_t *c, const char *path,
                                 evb__client_data_fn on_data, void *ud,
                                 volatile int *stop, char *errstr,
                                 size_t errstr_size) {
    char url[8192], curl_err[CURL_ERROR_SIZE] = "";
    if ((size_t)snprintf(url, sizeof url, "%s%s", c->endpoint, path) >=
        sizeof url)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "the request is too long");
    stream_ctx_t s = {.fn = on_data, .ud = ud, .k = c->curl, .stop = stop};
    evb_buf_init(&s.err_body, 1u << 20);
    struct curl_slist *h = NULL;
    if (c->token_hdr && !(h = curl_slist_append(NULL, c->token_hdr)))
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    common_setup(c, url, curl_err);
    CURL *k = c->curl;
    if (h)
        curl_easy_setopt(k, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(k, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(k, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(k, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(k, CURLOPT_XFERINFODATA, &s);
    CURLcode rc = curl_easy_perform(k);
    long status = 0;
    curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    evb_err_t err = EVB_ERR_OK;
    if (s.stopped) {
        err = EVB_ERR_OK;
    } else if (s.decided && !s.ok200) {
        error_text(status, s.err_body.data, s.err_body.len, errstr,
                   errstr_size);
        err = EVB_ERR_INVALID_ARG;
    } else if (rc != CURLE_OK) {
        err = evb_err_set(EVB_ERR_IO, errstr, errstr_size, "%s: %s",
                          s.decided ? "the stream broke"
                                    : "cannot reach the evbus server",
                          curl_err[0] ? curl_err : curl_easy_strerror(rc));
    } else if (status != 200) {
        error_text(status, s.err_body.data, s.err_body.len, errstr,
                   errstr_size);
        err = EVB_ERR_INVALID_ARG;
    }
    evb_buf_free(&s.err_body);
    return err;
}
