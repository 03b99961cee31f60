/*
 * client.c: the HTTP client apply calls the server's AWS JSON APIs with
 * (libcurl's easy interface, one handle reused so the connection is kept
 * alive). A call is a POST of the request object to "/" with the
 * X-Amz-Target and Content-Type of its protocol (AWS JSON 1.1 for
 * AWSEvents and Logs_20140328, 1.0 for AmazonSQS); an answer other than
 * 200 is an AWS error {"__type", "message"} whose type is reported without
 * any "namespace#" prefix (SQS answers "com.amazonaws.sqs#QueueDoesNotExist").
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "apply_internal.h"

/* Answers larger than this are refused (a listing page is far smaller). */
#define MAX_ANSWER (64u << 20)

struct evb_apply_client {
    CURL *curl;
    char *endpoint; /* with a trailing '/' */
};

evb_err_t evb_apply_client_new(const char *endpoint, evb_apply_client_t **out,
                               char *errstr, size_t errstr_size) {
    *out = NULL;
    if (strncmp(endpoint, "http://", 7) != 0 &&
        strncmp(endpoint, "https://", 8) != 0)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "endpoint URL '%s' must start with http:// or "
                           "https://",
                           endpoint);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return evb_err_set(EVB_ERR_INTERNAL, errstr, errstr_size,
                           "libcurl could not be initialised");
    evb_apply_client_t *c = calloc(1, sizeof *c);
    size_t n = strlen(endpoint);
    if (c)
        c->endpoint = malloc(n + 2);
    if (c && c->endpoint) {
        memcpy(c->endpoint, endpoint, n + 1);
        if (n && endpoint[n - 1] != '/')
            strcpy(c->endpoint + n, "/");
        c->curl = curl_easy_init();
    }
    if (!c || !c->endpoint || !c->curl) {
        evb_apply_client_free(c);
        if (!c)
            curl_global_cleanup();
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    *out = c;
    return EVB_ERR_OK;
}

void evb_apply_client_free(evb_apply_client_t *c) {
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->endpoint);
    free(c);
    curl_global_cleanup();
}

const char *evb__apply_client_endpoint(const evb_apply_client_t *c) {
    return c->endpoint;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
    evb_buf_t *b = ud;
    size_t n = size * nmemb;
    return evb_buf_append(b, data, n) ? 0 : n;
}

static void set_error(evb_apply_call_error_t *err, const char *type,
                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(evb_apply_call_error_t *err, const char *type,
                      const char *fmt, ...) {
    snprintf(err->type, sizeof err->type, "%s", type);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

evb_err_t evb_apply_call(evb_apply_client_t *c, const char *target,
                         const json_t *req, json_t **resp,
                         evb_apply_call_error_t *err) {
    *resp = NULL;
    err->type[0] = err->message[0] = 0;
    const char *ctype = strncmp(target, "AmazonSQS.", 10) == 0
                            ? "Content-Type: application/x-amz-json-1.0"
                            : "Content-Type: application/x-amz-json-1.1";
    char target_h[256];
    snprintf(target_h, sizeof target_h, "X-Amz-Target: %s", target);
    char *body = json_dumps(req, JSON_COMPACT);
    struct curl_slist *h = curl_slist_append(NULL, target_h);
    struct curl_slist *h2 = h ? curl_slist_append(h, ctype) : NULL;
    struct curl_slist *h3 = h2 ? curl_slist_append(h2, "Expect:") : NULL;
    if (!body || !h3) {
        free(body);
        curl_slist_free_all(h2 ? h2 : h);
        set_error(err, "", "out of memory");
        return EVB_ERR_NOMEM;
    }
    h = h3;
    evb_buf_t answer;
    evb_buf_init(&answer, MAX_ANSWER);
    char curl_err[CURL_ERROR_SIZE] = "";
    CURL *k = c->curl;
    curl_easy_reset(k);
    curl_easy_setopt(k, CURLOPT_URL, c->endpoint);
    curl_easy_setopt(k, CURLOPT_POST, 1L);
    curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(k, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(k, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(k, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(k, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(k, CURLOPT_USERAGENT,
                     "evbus-apply/"
                     "1");
    CURLcode rc = curl_easy_perform(k);
    long status = 0;
    curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    free(body);
    if (rc != CURLE_OK) {
        set_error(err, "", "cannot reach the evbus server at %s: %s",
                  c->endpoint, curl_err[0] ? curl_err : curl_easy_strerror(rc));
        evb_buf_free(&answer);
        return EVB_ERR_IO;
    }
    json_t *j = NULL;
    if (answer.len == 0) {
        j = json_object();
    } else {
        json_error_t jerr;
        j = json_loadb(answer.data, answer.len, 0, &jerr);
    }
    if (!json_is_object(j)) {
        set_error(err, "",
                  "the server at %s answered %s with HTTP %ld and no JSON "
                  "object: is it an evbus server?",
                  c->endpoint, target, status);
        json_decref(j);
        evb_buf_free(&answer);
        return EVB_ERR_IO;
    }
    evb_buf_free(&answer);
    if (status == 200) {
        *resp = j;
        return EVB_ERR_OK;
    }
    const char *type = json_string_value(json_object_get(j, "__type"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(j, "Message"));
    if (type && strchr(type, '#'))
        type = strchr(type, '#') + 1;
    set_error(err, type ? type : "UnknownError", "%s",
              msg ? msg : "(no message)");
    json_decref(j);
    return EVB_ERR_INVALID_ARG;
}

/* ---- REST calls (schema registry, Pipes) --------------------------------- */

typedef struct hdr {
    char type[128];
} hdr_t;

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud) {
    hdr_t *h = ud;
    size_t n = size * nmemb;
    static const char name[] = "x-amzn-errortype:";
    if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *v = data + sizeof name - 1;
        size_t vl = n - (sizeof name - 1);
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' ||
                      v[vl - 1] == ' '))
            vl--;
        const char *colon = memchr(v, ':', vl); /* "Type:http://..." */
        if (colon)
            vl = (size_t)(colon - v);
        snprintf(h->type, sizeof h->type, "%.*s", (int)vl, v);
    }
    return n;
}

char *evb__apply_escape(evb_apply_client_t *c, const char *s) {
    char *e = curl_easy_escape(c->curl, s, 0);
    char *out = e ? strdup(e) : NULL;
    curl_free(e);
    return out;
}

evb_err_t evb__apply_rest(evb_apply_client_t *c, const char *method,
                          const char *path, const json_t *req, json_t **resp,
                          long *status_out, evb_apply_call_error_t *err) {
    *resp = NULL;
    if (status_out)
        *status_out = 0;
    err->type[0] = err->message[0] = 0;
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    size_t ul = strlen(c->endpoint) + strlen(path) + 1;
    char *url = malloc(ul);
    struct curl_slist *h =
        curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *h2 = h ? curl_slist_append(h, "Expect:") : NULL;
    if ((req && !body) || !url || !h2) {
        free(body);
        free(url);
        curl_slist_free_all(h2 ? h2 : h);
        set_error(err, "", "out of memory");
        return EVB_ERR_NOMEM;
    }
    h = h2;
    /* endpoint ends with '/', path starts with '/' */
    snprintf(url, ul, "%.*s%s", (int)strlen(c->endpoint) - 1, c->endpoint,
             path);
    evb_buf_t answer;
    evb_buf_init(&answer, MAX_ANSWER);
    hdr_t hd = {""};
    char curl_err[CURL_ERROR_SIZE] = "";
    CURL *k = c->curl;
    curl_easy_reset(k);
    curl_easy_setopt(k, CURLOPT_URL, url);
    curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(k, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(k, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(k, CURLOPT_HEADERDATA, &hd);
    curl_easy_setopt(k, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(k, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(k, CURLOPT_USERAGENT, "evbus-apply/1");
    CURLcode rc = curl_easy_perform(k);
    long status = 0;
    curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    free(body);
    if (rc != CURLE_OK) {
        set_error(err, "", "cannot reach the evbus server at %s: %s",
                  c->endpoint, curl_err[0] ? curl_err : curl_easy_strerror(rc));
        free(url);
        evb_buf_free(&answer);
        return EVB_ERR_IO;
    }
    if (status_out)
        *status_out = status;
    json_t *j = NULL;
    if (answer.len == 0) {
        j = json_object();
    } else {
        json_error_t jerr;
        j = json_loadb(answer.data, answer.len, JSON_DECODE_ANY, &jerr);
    }
    if (!j) {
        set_error(err, "",
                  "the server at %s answered %s %s with HTTP %ld and no JSON: "
                  "is it an evbus server?",
                  c->endpoint, method, path, status);
        free(url);
        evb_buf_free(&answer);
        return EVB_ERR_IO;
    }
    free(url);
    evb_buf_free(&answer);
    if (status >= 200 && status < 300) {
        *resp = j;
        return EVB_ERR_OK;
    }
    /* the registry: {"error_code": N, "message"}; REST-JSON: the header */
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(j, "Message"));
    json_t *code = json_object_get(j, "error_code");
    if (json_is_integer(code))
        set_error(err, "", "%lld", (long long)json_integer_value(code));
    else
        set_error(err, "", "%s", hd.type[0] ? hd.type : "UnknownError");
    memcpy(err->type, err->message, sizeof err->type - 1);
    err->type[sizeof err->type - 1] = 0;
    snprintf(err->message, sizeof err->message, "%s",
             msg ? msg : "(no message)");
    json_decref(j);
    return EVB_ERR_INVALID_ARG;
}
