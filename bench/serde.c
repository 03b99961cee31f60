/*
 * bench/serde: what the codec (src/serde) costs over src/avro on the
 * decode hot path, with the fraud demo's transaction schema.
 *
 * Registers demo/fraud/schemas/transaction.avsc in an in-process registry
 * (a SQLite store in a temporary directory), encodes --records generated
 * transactions once through a codec writer (Confluent framing, and Glue
 * framing with zlib for one line), then times --passes passes of:
 *   direct:     evb_wire_parse + evb_avro_to_json with the schema already
 *               in hand (what src/avro alone costs)
 *   codec:      evb_serde_decode (auto-detection, the schema from the
 *               codec's cache: the hit path) into one reused buffer
 *   codec_glue_zlib: the same on Glue-framed, zlib-compressed values
 *               (inflate included)
 *   codec_threads: evb_serde_decode from --threads threads sharing one
 *               codec (records/s over all threads)
 * and prints one JSON line per op with the median pass. Every decoded
 * record is checked against the direct decode first; a mismatch exits 1.
 *
 * Target (issue 5): >= 300,000 records/s on one core for the codec line
 * ("target", "target_ok"; informational).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/avro.h"
#include "registry/registry.h"
#include "serde/serde.h"
#include "store/store.h"

#define TARGET 300000.0

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static unsigned rndn(unsigned n) {
    return (unsigned)(rnd() % n);
}

static const char *names[] = {"Ann",  "Bob",   "Chloé", "Dmitri", "Emma",
                              "José", "Kwame", "Li",    "Maria",  "Noah"};
static const char *merchants[] = {"Acme Grocery", "ElectroMart",   "Fuel&Go",
                                  "BookNook",     "Luxe Jewelers", "CityCab"};
static const char *categories[] = {"grocery", "electronics", "fuel",
                                   "books",   "jewelry",     "transport"};

static char *gen_record(void) {
    char *s = NULL;
    if (asprintf(&s,
                 "{\"creditCard\":\"4%03u-%04u-%04u-%04u\",\"firstName\":"
                 "\"%s\",\"id\":\"%u.%u.%u\",\"lastName\":\"%s\","
                 "\"streetAddress\":\"%u Main Street\",\"total\":\"%u.%02u\","
                 "\"userId\":\"%03u-%02u-%04u\",\"merchant\":\"%s\","
                 "\"category\":\"%s\",\"country\":\"US\",\"latitude\":%u.%04u,"
                 "\"longitude\":-%u.%05u,\"timestamp\":%llu}",
                 rndn(1000), rndn(10000), rndn(10000), rndn(10000),
                 names[rndn(10)], rndn(10), rndn(20), rndn(30), names[rndn(10)],
                 1 + rndn(999), 100 + rndn(900), rndn(100), 100 + rndn(800),
                 rndn(100), rndn(10000), merchants[rndn(6)],
                 categories[rndn(6)], 25 + rndn(24), rndn(10000), 67 + rndn(57),
                 rndn(100000), 1700000000000ULL + rndn(1000000000)) < 0)
        return NULL;
    return s;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what, const char *err) {
    fprintf(stderr, "serde: %s: %s\n", what, err);
    exit(1);
}

typedef struct job {
    evb_serde_t *s;
    evb_buf_t *framed;
    size_t n, from, count;
    int failures;
} job_t;

static void *decode_range(void *arg) {
    job_t *j = arg;
    evb_buf_t out;
    evb_buf_init(&out, 0);
    char err[256];
    for (size_t k = 0; k < j->count; k++) {
        size_t i = (j->from + k) % j->n;
        evb_buf_reset(&out);
        if (evb_serde_decode(j->s, j->framed[i].data, j->framed[i].len, NULL,
                             &out, NULL, err, sizeof err))
            j->failures++;
    }
    evb_buf_free(&out);
    return NULL;
}

int main(int argc, char **argv) {
    size_t nrec = 20000;
    int passes = 5, threads = 2;
    const char *schema_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            nrec = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
            passes = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--schema") == 0 && i + 1 < argc)
            schema_path = argv[++i];
        else {
            fprintf(stderr, "usage: serde [--records N] [--passes N] "
                            "[--threads N] [--schema transaction.avsc]\n");
            return 64;
        }
    }
    if (nrec == 0 || passes < 1 || threads < 1 || threads > 64) {
        fprintf(stderr, "serde: bad --records, --passes or --threads\n");
        return 64;
    }
    char default_schema[4096];
    if (!schema_path) {
        snprintf(default_schema, sizeof default_schema, "%s", __FILE__);
        char *slash = strrchr(default_schema, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(default_schema, sizeof default_schema, ".");
        strncat(default_schema, "/../demo/fraud/schemas/transaction.avsc",
                sizeof default_schema - strlen(default_schema) - 1);
        schema_path = default_schema;
    }
    char err[1024];
    evb_buf_t schema;
    evb_buf_init(&schema, 0);
    if (evb_buf_read_file(&schema, schema_path, err, sizeof err))
        die(schema_path, err);

    char dir[] = "/tmp/evb-bench-serde-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp", "failed");
    evb_store_t *store;
    evb_registry_t *reg;
    evb_serde_t *s;
    evb_store_opts_t so = {.dir = dir, .no_sync = true};
    if (evb_store_open(&so, &store, err, sizeof err))
        die("store", err);
    if (evb_registry_open(store, &reg, err, sizeof err))
        die("registry", err);
    evb_serde_config_t cfg = {.registry = reg};
    if (evb_serde_new(&cfg, &s, err, sizeof err))
        die("codec", err);
    evb_serde_writer_t w;
    if (evb_serde_writer_register(s, "transactions-value", schema.data,
                                  schema.len, 0, &w, NULL, err, sizeof err))
        die("register", err);

    evb_buf_t *framed = calloc(nrec, sizeof *framed);
    evb_buf_t *glue = calloc(nrec, sizeof *glue);
    if (!framed || !glue)
        die("memory", "out of memory");
    size_t bytes = 0;
    evb_serde_encode_opts_t gz = {.wire = EVB_WIRE_GLUE,
                                  .glue_compression =
                                      EVB_WIRE_GLUE_COMPRESSION_ZLIB};
    for (size_t i = 0; i < nrec; i++) {
        char *json = gen_record();
        if (!json)
            die("generate", "out of memory");
        evb_buf_init(&framed[i], 0);
        evb_buf_init(&glue[i], 0);
        if (evb_serde_encode(&w, NULL, json, strlen(json), &framed[i], err,
                             sizeof err) ||
            evb_serde_encode(&w, &gz, json, strlen(json), &glue[i], err,
                             sizeof err))
            die("encode", err);
        bytes += framed[i].len;
        free(json);
    }

    /* correctness: the codec gives what src/avro alone gives */
    evb_buf_t a, b;
    evb_buf_init(&a, 0);
    evb_buf_init(&b, 0);
    for (size_t i = 0; i < nrec; i++) {
        evb_wire_info_t wi;
        evb_buf_reset(&a);
        evb_buf_reset(&b);
        if (evb_wire_parse(framed[i].data, framed[i].len, NULL, 0, &wi, err,
                           sizeof err) ||
            evb_avro_to_json(w.schema, wi.payload, wi.payload_len, NULL, &a,
                             NULL, err, sizeof err))
            die("direct decode", err);
        if (evb_serde_decode(s, framed[i].data, framed[i].len, NULL, &b, NULL,
                             err, sizeof err))
            die("codec decode", err);
        if (strcmp(a.data, b.data) != 0) {
            fprintf(stderr, "serde: record %zu: codec gives\n%s\ndirect\n%s\n",
                    i, b.data, a.data);
            return 1;
        }
        evb_buf_reset(&b);
        if (evb_serde_decode(s, glue[i].data, glue[i].len, NULL, &b, NULL, err,
                             sizeof err) ||
            strcmp(a.data, b.data) != 0)
            die("glue decode", err);
    }

    double *rate = calloc((size_t)passes, sizeof *rate);
    const char *ops[] = {"direct", "codec", "codec_glue_zlib", "codec_threads"};
    double direct_rate = 0;
    for (size_t op = 0; op < EVB_ARRAY_LEN(ops); op++) {
        for (int p = -1; p < passes; p++) { /* pass -1: warm-up */
            uint64_t t0 = evb_now_ns();
            if (op == 3) {
                pthread_t t[64];
                job_t jobs[64];
                for (int k = 0; k < threads; k++) {
                    jobs[k] = (job_t){.s = s,
                                      .framed = framed,
                                      .n = nrec,
                                      .from = (size_t)k * nrec / threads,
                                      .count = nrec};
                    pthread_create(&t[k], NULL, decode_range, &jobs[k]);
                }
                for (int k = 0; k < threads; k++) {
                    pthread_join(t[k], NULL);
                    if (jobs[k].failures)
                        die("threads", "a decode failed");
                }
            } else {
                for (size_t i = 0; i < nrec; i++) {
                    evb_buf_reset(&a);
                    if (op == 0) {
                        evb_wire_info_t wi;
                        if (evb_wire_parse(framed[i].data, framed[i].len, NULL,
                                           0, &wi, err, sizeof err) ||
                            evb_avro_to_json(w.schema, wi.payload,
                                             wi.payload_len, NULL, &a, NULL,
                                             err, sizeof err))
                            die("direct", err);
                    } else {
                        evb_buf_t *v = op == 1 ? &framed[i] : &glue[i];
                        if (evb_serde_decode(s, v->data, v->len, NULL, &a, NULL,
                                             err, sizeof err))
                            die("codec", err);
                    }
                }
            }
            double secs = (double)(evb_now_ns() - t0) / 1e9;
            size_t n = op == 3 ? nrec * (size_t)threads : nrec;
            if (p >= 0)
                rate[p] = secs > 0 ? (double)n / secs : 0;
        }
        qsort(rate, (size_t)passes, sizeof *rate, cmp_double);
        double median = rate[passes / 2];
        if (op == 0)
            direct_rate = median;
        printf("{\"bench\":\"serde\",\"op\":\"%s\",\"schema\":"
               "\"transaction.avsc\",\"records\":%zu,\"passes\":%d,",
               ops[op], nrec, passes);
        if (op == 3)
            printf("\"threads\":%d,", threads);
        printf("\"avg_value_bytes\":%.1f,\"records_per_s\":%.0f",
               (double)bytes / (double)nrec, median);
        if (op == 1)
            printf(",\"vs_direct\":%.3f,\"target\":%.0f,\"target_ok\":%s",
                   direct_rate > 0 ? median / direct_rate : 0, TARGET,
                   median >= TARGET ? "true" : "false");
        printf("}\n");
    }
    evb_serde_stats_t st;
    evb_serde_get_stats(s, &st);
    fprintf(stderr, "serde: cache hits %llu, misses %llu, entries %zu\n",
            (unsigned long long)st.hits, (unsigned long long)st.misses,
            st.entries);

    for (size_t i = 0; i < nrec; i++) {
        evb_buf_free(&framed[i]);
        evb_buf_free(&glue[i]);
    }
    free(framed);
    free(glue);
    free(rate);
    evb_buf_free(&a);
    evb_buf_free(&b);
    evb_buf_free(&schema);
    evb_serde_writer_clear(&w);
    evb_serde_free(s);
    evb_registry_close(reg);
    evb_store_close(store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
