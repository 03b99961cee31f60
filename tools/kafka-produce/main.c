/*
 * kafka-produce: write Kafka records described by JSON lines, for tests
 * and demos. Built on evbus's own producer (src/kafka: idempotent,
 * acks=all).
 *
 *   kafka-produce --bootstrap-servers LIST [-X KEY=VALUE]... < LINES
 *
 * Each line of stdin is one record:
 *   {"topic": "t",                      required
 *    "partition": 0,                    default -1 (the partitioner)
 *    "key": "text" | null,              or "key_b64": "..." (bytes)
 *    "value": "text" | null,            or "value_b64": "..." (bytes);
 *                                       absent or null: a tombstone
 *    "headers": [["name", "text" | null], ...]}
 * Blank lines are skipped. It waits for every delivery report, prints
 * "produced N" on stdout and exits 0 when all were written, 1 when some
 * failed (each failure on stderr), 64 on a bad command line or line.
 */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kafka/kafka.h"

#define EXIT_USAGE 64

static atomic_size_t failures;

static void usage(FILE *out) {
    fputs("usage: kafka-produce --bootstrap-servers LIST [-X KEY=VALUE]... "
          "< LINES\n"
          "\n"
          "Produce one record per JSON line of stdin: {\"topic\", "
          "\"partition\",\n"
          "\"key\" | \"key_b64\", \"value\" | \"value_b64\", \"headers\": "
          "[[name, value]]}.\n"
          "  -X KEY=VALUE   any librdkafka property (repeatable)\n",
          out);
}

static void on_report(void *ud, const evb_kafka_report_t *r) {
    (void)ud;
    if (!r->ok) {
        atomic_fetch_add(&failures, 1);
        fprintf(stderr, "kafka-produce: %s: %s\n", r->code, r->message);
    }
}

static void log_line(void *ud, int level, const char *line) {
    (void)ud;
    if (level <= 3)
        fprintf(stderr, "kafka-produce: %s\n", line);
}

static int b64val(int c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decode base64 (padding optional) into a new buffer. */
static unsigned char *unbase64(const char *s, size_t *len) {
    size_t n = strlen(s);
    unsigned char *out = malloc(n / 4 * 3 + 4);
    if (!out)
        return NULL;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=' || s[i] == '\n' || s[i] == '\r')
            continue;
        int v = b64val((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    *len = o;
    return out;
}

/* The bytes of member name (text) or name_b64; *present false for JSON
 * null or absence. */
static bool bytes_of(json_t *rec, const char *name, unsigned char **buf,
                     const void **data, size_t *len) {
    char b64[64];
    snprintf(b64, sizeof b64, "%s_b64", name);
    json_t *v = json_object_get(rec, name), *w = json_object_get(rec, b64);
    *data = NULL;
    *len = 0;
    *buf = NULL;
    if (json_is_string(w)) {
        *buf = unbase64(json_string_value(w), len);
        if (!*buf)
            return false;
        *data = *buf;
        return true;
    }
    if (json_is_string(v)) {
        *data = json_string_value(v);
        *len = json_string_length(v);
        return true;
    }
    return v == NULL || json_is_null(v);
}

int main(int argc, char **argv) {
    static const struct option opts[] = {
        {"bootstrap-servers", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    evb_kafka_conf_t *conf = evb_kafka_conf_new();
    char err[512];
    const char *bs = NULL;
    int ch;
    if (!conf)
        return 1;
    evb_kafka_set_log(log_line, NULL);
    while ((ch = getopt_long(argc, argv, "hX:", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': bs = optarg; break;
        case 'X':
            if (evb_kafka_conf_set_pair(conf, optarg, "-X", err, sizeof err)) {
                fprintf(stderr, "kafka-produce: %s\n", err);
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (!bs) {
        usage(stderr);
        return EXIT_USAGE;
    }
    evb_kafka_producer_t *p = NULL;
    if (evb_kafka_conf_set(conf, "bootstrap.servers", bs, "--bootstrap-servers",
                           err, sizeof err) ||
        evb_kafka_conf_set(conf, "linger.ms", "5", "kafka-produce", err,
                           sizeof err) ||
        evb_kafka_producer_new(conf, "kafka-produce", &p, err, sizeof err)) {
        fprintf(stderr, "kafka-produce: %s\n", err);
        evb_kafka_conf_free(conf);
        return EXIT_USAGE;
    }
    evb_kafka_conf_free(conf);
    char *line = NULL;
    size_t cap = 0, count = 0, lineno = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        size_t i = 0;
        while (i < (size_t)n && (line[i] == ' ' || line[i] == '\n' ||
                                 line[i] == '\r' || line[i] == '\t'))
            i++;
        if (i == (size_t)n)
            continue;
        json_error_t je;
        json_t *rec = json_loadb(line, (size_t)n, 0, &je);
        json_t *topic = json_object_get(rec, "topic");
        json_t *part = json_object_get(rec, "partition");
        json_t *hdrs = json_object_get(rec, "headers");
        unsigned char *kbuf = NULL, *vbuf = NULL;
        evb_kafka_out_msg_t m = {.partition = -1};
        evb_kafka_header_t h[64];
        bool ok = json_is_object(rec) && json_is_string(topic) &&
                  (!part || json_is_integer(part)) &&
                  (!hdrs || (json_is_array(hdrs) &&
                             json_array_size(hdrs) <= EVB_ARRAY_LEN(h)));
        if (ok) {
            m.topic = json_string_value(topic);
            if (part)
                m.partition = (int32_t)json_integer_value(part);
            ok = bytes_of(rec, "key", &kbuf, &m.key, &m.key_len) &&
                 bytes_of(rec, "value", &vbuf, &m.value, &m.value_len);
        }
        for (size_t j = 0; ok && hdrs && j < json_array_size(hdrs); j++) {
            json_t *pair = json_array_get(hdrs, j);
            json_t *hn = json_array_get(pair, 0), *hv = json_array_get(pair, 1);
            ok = json_is_array(pair) && json_array_size(pair) == 2 &&
                 json_is_string(hn) && (json_is_string(hv) || json_is_null(hv));
            if (ok)
                h[m.nheaders++] = (evb_kafka_header_t){
                    json_string_value(hn),
                    json_is_string(hv) ? json_string_value(hv) : NULL,
                    json_is_string(hv) ? json_string_length(hv) : 0};
        }
        m.headers = h;
        if (!ok) {
            fprintf(stderr, "kafka-produce: line %zu: not a record\n", lineno);
            rc = EXIT_USAGE;
        } else {
            evb_kafka_report_t why;
            if (evb_kafka_produce(p, &m, on_report, NULL, &why)) {
                fprintf(stderr, "kafka-produce: line %zu: %s\n", lineno,
                        why.message);
                rc = 1;
            } else {
                count++;
            }
        }
        free(kbuf);
        free(vbuf);
        json_decref(rec);
        if (rc)
            break;
    }
    free(line);
    if (evb_kafka_producer_flush(p, 30000, err, sizeof err)) {
        fprintf(stderr, "kafka-produce: %s\n", err);
        rc = rc ? rc : 1;
    }
    evb_kafka_producer_free(p);
    if (atomic_load(&failures))
        rc = rc ? rc : 1;
    printf("produced %zu\n", count - atomic_load(&failures));
    return rc;
}
