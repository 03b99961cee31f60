/*
 * util.c: the small pieces the apply module's files share: diagnostics,
 * JSON comparison helpers, secrets handling, ARNs, and the keys and values
 * of the ownership record (see apply.h for the record's design).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../queue/queue.h"
#include "apply_internal.h"

/* ---- diagnostics -------------------------------------------------------- */

void evb_apply_diags_init(evb_apply_diags_t *d) {
    memset(d, 0, sizeof *d);
}

void evb_apply_diags_free(evb_apply_diags_t *d) {
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].file);
        free(d->items[i].message);
    }
    free(d->items);
    memset(d, 0, sizeof *d);
}

void evb_apply_diags_print(const evb_apply_diags_t *d, FILE *out) {
    for (size_t i = 0; i < d->n; i++) {
        const evb_apply_diag_t *g = &d->items[i];
        if (g->line)
            fprintf(out, "%s:%u: %s\n", g->file, g->line, g->message);
        else
            fprintf(out, "%s: %s\n", g->file, g->message);
    }
    if (d->nomem)
        fprintf(out, "(out of memory: some problems were not recorded)\n");
}

void evb__apply_vdiag(evb_apply_diags_t *d, const char *file, unsigned line,
                      const char *fmt, va_list ap) {
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    evb_apply_diag_t *items = realloc(d->items, (d->n + 1) * sizeof *items);
    if (!items) {
        d->nomem = true;
        return;
    }
    d->items = items;
    evb_apply_diag_t *g = &items[d->n];
    g->file = strdup(file ? file : "-");
    g->message = strdup(buf);
    g->line = line;
    if (!g->file || !g->message) {
        free(g->file);
        free(g->message);
        d->nomem = true;
        return;
    }
    d->n++;
}

void evb__apply_diag(evb_apply_diags_t *d, const char *file, unsigned line,
                     const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    evb__apply_vdiag(d, file, line, fmt, ap);
    va_end(ap);
}

/* ---- JSON --------------------------------------------------------------- */

static bool empty(const json_t *v) {
    return json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0);
}

/* A deep copy of v without the members named '@...'; with normalize, also
 * without "IsValueSecret": false and the members empty once copied. */
static json_t *copy(const json_t *v, bool normalize) {
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *m;
        if (!o)
            return NULL;
        json_object_foreach((json_t *)v, k, m) {
            if (k[0] == '@' || (normalize && strcmp(k, "IsValueSecret") == 0 &&
                                json_is_false(m)))
                continue;
            json_t *c = copy(m, normalize);
            if (c && normalize && empty(c)) {
                json_decref(c);
                continue;
            }
            if (!c || json_object_set_new(o, k, c)) {
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *m;
        if (!a)
            return NULL;
        json_array_foreach(v, i, m) {
            json_t *c = copy(m, normalize);
            if (!c || json_array_append_new(a, c)) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    return json_deep_copy(v);
}

json_t *evb__apply_api_body(const json_t *v) {
    return copy(v, false);
}

json_t *evb__apply_normalize(const json_t *v) {
    return copy(v, true);
}

bool evb__apply_same(const json_t *a, const json_t *b) {
    json_t *na = a ? evb__apply_normalize(a) : json_null();
    json_t *nb = b ? evb__apply_normalize(b) : json_null();
    if (na && empty(na)) {
        json_decref(na);
        na = json_null();
    }
    if (nb && empty(nb)) {
        json_decref(nb);
        nb = json_null();
    }
    bool same = na && nb && json_equal(na, nb);
    json_decref(na);
    json_decref(nb);
    return same;
}

bool evb__apply_same_json_text(const char *a, const char *b) {
    if (!a)
        a = "";
    if (!b)
        b = "";
    if (strcmp(a, b) == 0)
        return true;
    if (!*a || !*b)
        return false;
    json_t *ja = json_loads(a, JSON_DECODE_ANY, NULL);
    json_t *jb = json_loads(b, JSON_DECODE_ANY, NULL);
    bool same = ja && jb && json_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return same;
}

const char *evb__apply_str(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

char *evb__apply_dump(const json_t *v) {
    return json_dumps(v,
                      JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
}

unsigned evb__apply_line_of(const json_t *o, const char *key) {
    json_t *l = json_object_get(json_object_get(o, "@lines"), key);
    if (json_is_integer(l))
        return (unsigned)json_integer_value(l);
    return (unsigned)json_integer_value(json_object_get(o, "@line"));
}

/* ---- secrets ------------------------------------------------------------ */

static void drop_secret_values(json_t *hp) {
    static const char *const lists[] = {
        "HeaderParameters", "QueryStringParameters", "BodyParameters"};
    for (size_t i = 0; i < EVB_ARRAY_LEN(lists); i++) {
        size_t j;
        json_t *item;
        json_array_foreach(json_object_get(hp, lists[i]), j, item) {
            if (json_is_true(json_object_get(item, "IsValueSecret")))
                json_object_del(item, "Value");
        }
    }
}

json_t *evb__apply_redact(const json_t *auth) {
    json_t *r = evb__apply_api_body(auth);
    if (!r)
        return NULL;
    json_object_del(json_object_get(r, "BasicAuthParameters"), "Password");
    json_object_del(json_object_get(r, "ApiKeyAuthParameters"), "ApiKeyValue");
    json_t *oauth = json_object_get(r, "OAuthParameters");
    json_object_del(json_object_get(oauth, "ClientParameters"), "ClientSecret");
    drop_secret_values(json_object_get(oauth, "OAuthHttpParameters"));
    drop_secret_values(json_object_get(r, "InvocationHttpParameters"));
    return r;
}

static int add_secret(json_t *out, const char *name, const json_t *v) {
    if (!json_is_string(v))
        return 0;
    return json_object_set(out, name, (json_t *)v);
}

static int add_secret_params(json_t *out, const char *prefix,
                             const json_t *hp) {
    static const char *const lists[] = {
        "HeaderParameters", "QueryStringParameters", "BodyParameters"};
    for (size_t i = 0; i < EVB_ARRAY_LEN(lists); i++) {
        size_t j;
        json_t *item;
        json_array_foreach(json_object_get(hp, lists[i]), j, item) {
            if (!json_is_true(json_object_get(item, "IsValueSecret")))
                continue;
            char name[512];
            snprintf(name, sizeof name, "%s.%s.%s", prefix, lists[i],
                     evb__apply_str(item, "Key"));
            if (add_secret(out, name, json_object_get(item, "Value")))
                return -1;
        }
    }
    return 0;
}

json_t *evb__apply_secrets_of(const json_t *auth) {
    json_t *s = json_object();
    if (!s)
        return NULL;
    const json_t *oauth = json_object_get(auth, "OAuthParameters");
    if (add_secret(s, "Password",
                   json_object_get(json_object_get(auth, "BasicAuthParameters"),
                                   "Password")) ||
        add_secret(
            s, "ApiKeyValue",
            json_object_get(json_object_get(auth, "ApiKeyAuthParameters"),
                            "ApiKeyValue")) ||
        add_secret(s, "ClientSecret",
                   json_object_get(json_object_get(oauth, "ClientParameters"),
                                   "ClientSecret")) ||
        add_secret_params(s, "OAuthHttpParameters",
                          json_object_get(oauth, "OAuthHttpParameters")) ||
        add_secret_params(s, "InvocationHttpParameters",
                          json_object_get(auth, "InvocationHttpParameters"))) {
        json_decref(s);
        return NULL;
    }
    return s;
}

char *evb__apply_secret_digest(const json_t *auth, const char *salt) {
    char fresh[9];
    if (!salt) {
        char uuid[37];
        if (evb_uuid_v4(uuid))
            return NULL;
        memcpy(fresh, uuid, 8);
        fresh[8] = 0;
        salt = fresh;
    }
    json_t *secrets = evb__apply_secrets_of(auth);
    char *text =
        secrets ? json_dumps(secrets, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(secrets);
    if (!text)
        return NULL;
    evb_buf_t b;
    evb_buf_init(&b, 0);
    char *out = NULL;
    if (!evb_buf_appendf(&b, "evbus-apply\n%s\n%s", salt, text)) {
        char hex[33];
        evb_queue_md5_hex(b.data, b.len, hex);
        size_t n = strlen(salt) + 34;
        out = malloc(n);
        if (out)
            snprintf(out, n, "%s.%s", salt, hex);
    }
    evb_buf_free(&b);
    free(text);
    return out;
}

/* Replace every occurrence of secret in text (size bytes) by the mask,
 * scanning forward (a mask holding the secret is never scanned again). */
static void scrub_one(char *text, size_t size, const char *secret) {
    static const char mask[] = "(secret)";
    size_t sl = strlen(secret);
    if (!sl || !strstr(text, secret))
        return;
    evb_buf_t b;
    evb_buf_init(&b, 0);
    bool nomem = false;
    for (const char *p = text; *p && !nomem;) {
        const char *at = strstr(p, secret);
        size_t keep = at ? (size_t)(at - p) : strlen(p);
        nomem = evb_buf_append(&b, p, keep) != EVB_ERR_OK;
        if (!at)
            break;
        nomem = nomem || evb_buf_append(&b, mask, sizeof mask - 1);
        p = at + sl;
    }
    if (nomem) /* no memory to rewrite it: say nothing rather than leak */
        snprintf(text, size, "(message withheld: it may hold a secret)");
    else
        snprintf(text, size, "%s", b.data ? b.data : "");
    evb_buf_free(&b);
}

void evb__apply_scrub(char *text, size_t size, const evb_apply_doc_t *doc) {
    for (size_t i = 0; i < doc->nres[EVB_APPLY_CONNECTION]; i++) {
        json_t *secrets = evb__apply_secrets_of(json_object_get(
            doc->res[EVB_APPLY_CONNECTION][i].spec, "AuthParameters"));
        if (!secrets) {
            snprintf(text, size, "(message withheld: it may hold a secret)");
            return;
        }
        const char *k;
        json_t *v;
        json_object_foreach(secrets, k, v) {
            if (json_string_value(v))
                scrub_one(text, size, json_string_value(v));
        }
        json_decref(secrets);
    }
}

/* ---- the ownership record ------------------------------------------------ */

const char *evb__apply_kind_code(evb_apply_kind_t k) {
    static const char *const codes[] = {
        [EVB_APPLY_SCHEMA] = "schema",
        [EVB_APPLY_LOG_GROUP] = "log-group",
        [EVB_APPLY_QUEUE] = "queue",
        [EVB_APPLY_BUS] = "bus",
        [EVB_APPLY_CONNECTION] = "connection",
        [EVB_APPLY_API_DESTINATION] = "api-destination",
        [EVB_APPLY_ARCHIVE] = "archive",
        [EVB_APPLY_RULE] = "rule",
        [EVB_APPLY_PIPE] = "pipe",
    };
    return (unsigned)k < EVB_ARRAY_LEN(codes) ? codes[k] : "?";
}

void evb__apply_record_key(evb_apply_kind_t k, const char *id, char out[64]) {
    /* FNV-1a, 64 bits, over "<code>\0<id>" */
    uint64_t h = 0xcbf29ce484222325ULL;
    const char *code = evb__apply_kind_code(k);
    for (const char *p = code;; p++) {
        h ^= (unsigned char)*p;
        h *= 0x100000001b3ULL;
        if (!*p)
            break;
    }
    for (const char *p = id; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 0x100000001b3ULL;
    }
    snprintf(out, 64, EVB__APPLY_RECORD_PREFIX "%s:%016llx", code,
             (unsigned long long)h);
}

char *evb__apply_record_value(const char *stack, const char *digest,
                              const char *id) {
    if (!digest)
        digest = "-";
    char *v = malloc(257);
    if (!v)
        return NULL;
    int n = snprintf(v, 257, "%s:%s:%s", stack, digest, id);
    if (n > 256) { /* cut on a UTF-8 boundary */
        size_t end = 256;
        while (end > 0 && ((unsigned char)v[end] & 0xC0) == 0x80)
            end--;
        v[end] = 0;
    }
    return v;
}

bool evb__apply_record_parse(const char *value, char stack[65],
                             char digest[81]) {
    const char *c1 = strchr(value, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || c1 == value || c1 - value > 64 || c2 - c1 - 1 > 80)
        return false;
    memcpy(stack, value, (size_t)(c1 - value));
    stack[c1 - value] = 0;
    memcpy(digest, c1 + 1, (size_t)(c2 - c1 - 1));
    digest[c2 - c1 - 1] = 0;
    return true;
}

/* ---- ARNs -----------------------------------------------------------------
 */

/* "arn:aws:<service>:<region>:<account>:<sep><name>" */
static char *fmt_arn(const json_t *state, const char *service, const char *sep,
                     const char *name) {
    const char *region = evb__apply_str(state, "region");
    const char *account = evb__apply_str(state, "account");
    size_t n = strlen(service) + strlen(sep) + strlen(region) +
               strlen(account) + strlen(name) + 16;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "arn:aws:%s:%s:%s:%s%s", service, region, account, sep,
                 name);
    return s;
}

char *evb__apply_bus_arn(const json_t *state, const char *bus) {
    return fmt_arn(state, "events", "event-bus/", bus);
}

char *evb__apply_queue_arn(const json_t *state, const char *queue) {
    return fmt_arn(state, "sqs", "", queue);
}

char *evb__apply_log_group_arn(const json_t *state, const char *group) {
    return fmt_arn(state, "logs", "log-group:", group);
}

char *evb__apply_queue_url(const json_t *state, const char *queue) {
    const char *endpoint = evb__apply_str(state, "endpoint");
    const char *account = evb__apply_str(state, "account");
    size_t elen = strlen(endpoint);
    while (elen && endpoint[elen - 1] == '/')
        elen--;
    size_t n = elen + strlen(account) + strlen(queue) + 3;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%.*s/%s/%s", (int)elen, endpoint, account, queue);
    return s;
}
