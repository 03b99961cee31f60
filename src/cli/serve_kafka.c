/*
 * serve_kafka.c: `evbus serve`'s Kafka options and clusters (see
 * serve_kafka.h). Wiring only: the work is the kafka module's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve_kafka.h"

typedef struct named {
    char *name, *file;
} named_t;

struct evb__serve_kafka {
    evb_kafka_conf_t *def; /* `default`: --kafka-config(-file), in order */
    bool have_default;
    /* --kafka-config-file files, applied in order with the pairs */
    named_t *clusters;
    size_t nclusters;
    bool embedded;
    evb_kafka_conf_t **confs; /* the named clusters' properties */
    evb_kafka_clusters_t *registry;
    evb_kafka_mock_t *mock;
};

evb__serve_kafka_t *evb__serve_kafka_new(void) {
    evb__serve_kafka_t *k = calloc(1, sizeof *k);
    if (k && !(k->def = evb_kafka_conf_new())) {
        free(k);
        return NULL;
    }
    return k;
}

static char *dupn(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

bool evb__serve_kafka_option(evb__serve_kafka_t *k, int opt, const char *arg,
                             char *why, size_t why_size) {
    switch (opt) {
    case EVB_SERVE_OPT_KAFKA_CONFIG:
        k->have_default = true;
        return !evb_kafka_conf_set_pair(k->def, arg, "--kafka-config", why,
                                        why_size);
    case EVB_SERVE_OPT_KAFKA_CONFIG_FILE:
        /* read now, so that pairs and files keep command-line order */
        k->have_default = true;
        return !evb_kafka_conf_load_file(k->def, arg, why, why_size);
    case EVB_SERVE_OPT_KAFKA_CLUSTER: {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg || !eq[1]) {
            snprintf(why, why_size,
                     "--kafka-cluster: expected NAME=FILE, got '%.100s'", arg);
            return false;
        }
        char *name = dupn(arg, (size_t)(eq - arg));
        if (name && !evb_kafka_cluster_name_valid(name)) {
            snprintf(why, why_size,
                     "--kafka-cluster: not a valid cluster name: '%.64s' (1 "
                     "to 64 of A-Z a-z 0-9 . _ -)",
                     name);
            free(name);
            return false;
        }
        if (name && strcmp(name, EVB_KAFKA_DEFAULT_CLUSTER) == 0) {
            free(name);
            snprintf(why, why_size,
                     "--kafka-cluster: `default` is configured with "
                     "--kafka-config and --kafka-config-file");
            return false;
        }
        for (size_t i = 0; name && i < k->nclusters; i++)
            if (strcmp(k->clusters[i].name, name) == 0) {
                snprintf(why, why_size,
                         "--kafka-cluster: cluster %s is given twice", name);
                free(name);
                return false;
            }
        char *file = dupn(eq + 1, strlen(eq + 1));
        named_t *nc =
            name && file ? realloc(k->clusters, (k->nclusters + 1) * sizeof *nc)
                         : NULL;
        if (!nc) {
            free(name);
            free(file);
            snprintf(why, why_size, "out of memory");
            return false;
        }
        k->clusters = nc;
        k->clusters[k->nclusters++] = (named_t){name, file};
        return true;
    }
    case EVB_SERVE_OPT_EMBEDDED_KAFKA: k->embedded = true; return true;
    default: snprintf(why, why_size, "not a Kafka option"); return false;
    }
}

bool evb__serve_kafka_prepare(evb__serve_kafka_t *k, char *why,
                              size_t why_size) {
    if (k->embedded && evb_kafka_conf_get(k->def, "bootstrap.servers")) {
        snprintf(why, why_size,
                 "--embedded-kafka makes the embedded cluster `default`: "
                 "drop bootstrap.servers from --kafka-config / "
                 "--kafka-config-file, or drop --embedded-kafka");
        return false;
    }
    char err[600];
    if ((k->have_default || k->embedded) &&
        evb_kafka_conf_check(k->def, err, sizeof err)) {
        snprintf(why, why_size, "Kafka cluster default: %s", err);
        return false;
    }
    k->confs = calloc(k->nclusters + 1, sizeof *k->confs);
    if (!k->confs) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    for (size_t i = 0; i < k->nclusters; i++) {
        if (!(k->confs[i] = evb_kafka_conf_new())) {
            snprintf(why, why_size, "out of memory");
            return false;
        }
        if (evb_kafka_conf_load_file(k->confs[i], k->clusters[i].file, err,
                                     sizeof err) ||
            evb_kafka_conf_check(k->confs[i], err, sizeof err)) {
            snprintf(why, why_size, "Kafka cluster %s: %s", k->clusters[i].name,
                     err);
            return false;
        }
    }
    return true;
}

static evb_err_t add(evb__serve_kafka_t *k, const char *name,
                     const evb_kafka_conf_t *conf, char *errstr,
                     size_t errstr_size) {
    evb_err_t err =
        evb_kafka_clusters_add(k->registry, name, conf, errstr, errstr_size);
    if (err)
        return err;
    evb_buf_t b;
    evb_buf_init(&b, 0);
    if (!evb_kafka_conf_describe(conf, &b))
        evb_log(EVB_LOG_INFO, "kafka", "cluster %s: %s", name,
                b.data ? b.data : "(librdkafka's defaults)");
    evb_buf_free(&b);
    evb_kafka_producer_t *p; /* at start, so a bad setup fails now */
    char why[512];
    err = evb_kafka_clusters_producer(k->registry, name, &p, why, sizeof why);
    if (err)
        evb_err_set(err, errstr, errstr_size, "Kafka cluster %s: %s", name,
                    why);
    return err;
}

evb_err_t evb__serve_kafka_start(evb__serve_kafka_t *k, char *errstr,
                                 size_t errstr_size) {
    if (!(k->registry = evb_kafka_clusters_new()))
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    evb_err_t err = EVB_ERR_OK;
    if (k->embedded) {
        err = evb_kafka_mock_new(1, &k->mock, errstr, errstr_size);
        if (err)
            return err;
        const char *bs = evb_kafka_mock_bootstrap_servers(k->mock);
        evb_log(EVB_LOG_INFO, "kafka",
                "embedded test cluster (librdkafka's mock: in memory, not "
                "for production) at %s; it is the `default` cluster",
                bs);
        err = evb_kafka_conf_set(k->def, "bootstrap.servers", bs,
                                 "--embedded-kafka", errstr, errstr_size);
    }
    if (!err && (k->have_default || k->embedded))
        err = add(k, EVB_KAFKA_DEFAULT_CLUSTER, k->def, errstr, errstr_size);
    for (size_t i = 0; !err && i < k->nclusters; i++)
        err = add(k, k->clusters[i].name, k->confs[i], errstr, errstr_size);
    return err;
}

evb_kafka_clusters_t *evb__serve_kafka_clusters(evb__serve_kafka_t *k) {
    return k->registry;
}

void evb__serve_kafka_free(evb__serve_kafka_t *k) {
    if (!k)
        return;
    evb_kafka_clusters_free(k->registry);
    evb_kafka_mock_free(k->mock);
    for (size_t i = 0; i < k->nclusters; i++) {
        free(k->clusters[i].name);
        free(k->clusters[i].file);
        if (k->confs)
            evb_kafka_conf_free(k->confs[i]);
    }
    free(k->confs);
    free(k->clusters);
    evb_kafka_conf_free(k->def);
    free(k);
}

static const evb_cli_option_t kafka_options[] = {
    {"kafka-config", 0, EVB_CLI_STRING, "K=V", NULL, 0, 0, NULL,
     "a librdkafka property of the `default` Kafka cluster (any property, "
     "e.g. bootstrap.servers=host:9092); the last one given wins",
     EVB_SERVE_OPT_KAFKA_CONFIG, EVB_CLI_REPEATABLE},
    {"kafka-config-file", 0, EVB_CLI_STRING, "FILE", NULL, 0, 0, NULL,
     ".properties file for `default`, applied in command-line order with "
     "--kafka-config",
     EVB_SERVE_OPT_KAFKA_CONFIG_FILE, EVB_CLI_REPEATABLE},
    {"kafka-cluster", 0, EVB_CLI_STRING, "NAME=FILE", NULL, 0, 0, NULL,
     "another Kafka cluster, from a .properties file; rule targets name it "
     "in arn:aws:kafka:...:topic/NAME/TOPIC",
     EVB_SERVE_OPT_KAFKA_CLUSTER, EVB_CLI_REPEATABLE},
    {"embedded-kafka", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "start a Kafka TEST cluster (librdkafka's mock, in memory) in this "
     "process as `default`; logs its bootstrap servers",
     EVB_SERVE_OPT_EMBEDDED_KAFKA, 0},
    EVB_CLI_OPTIONS_END,
};

const evb_cli_option_group_t evb__serve_kafka_group = {"Kafka",
                                                       kafka_options};
