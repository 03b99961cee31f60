/* test_kafka_conf.c: librdkafka property lists: every rule of the Java
 * .properties reader (as a table of texts and the properties or the error
 * they give), key=value pairs, files, librdkafka's verdict with the
 * origin of the offending property, secrets kept out of descriptions and
 * errors, cluster names and topic ARNs. No broker needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kafka/kafka.h"

/* ---- the .properties table ------------------------------------------------
 *
 * want: "key=value@line" entries separated by '|' in the order the list
 * keeps them (values shown with C escapes in the source), or "!message"
 * for an error (the whole errstr, the name being "t.properties").
 */
typedef struct pcase {
    const char *what;
    const char *text;
    size_t len; /* 0: strlen(text) */
    const char *want[8];
} pcase_t;

static const pcase_t CASES[] = {
    {"the three separators", "a=1\nb:2\nc 3\n", 0, {"a=1@1", "b=2@2", "c=3@3"}},
    {"blanks around separators",
     "  a  =  1\n\tb\t:\t2\n\fc \f 3\n",
     0,
     {"a=1@1", "b=2@2", "c=3@3"}},
    {"only the first separator counts",
     "a==1\nb=:2\nc :=3\nd = = 4\n",
     0,
     {"a==1@1", "b=:2@2", "c==3@3", "d== 4@4"}},
    {"trailing blanks belong to the value",
     "a=1  \nb = \t\n",
     0,
     {"a=1  @1", "b=@2"}},
    {"a key alone has an empty value",
     "alone\nspaced   \n",
     0,
     {"alone=@1", "spaced=@2"}},
    {"comments",
     "# a comment\n! another\n   # indented\na=1 # not a comment\n",
     0,
     {"a=1 # not a comment@4"}},
    {"a comment does not continue", "# comment \\\na=1\n", 0, {"a=1@2"}},
    {"blank lines", "\n\n   \n\t\na=1\n\n\nb=2\n", 0, {"a=1@5", "b=2@8"}},
    {"continuation",
     "a=one \\\n    two \\\n\tthree\nb=2\n",
     0,
     {"a=one two three@1", "b=2@4"}},
    {"an even number of backslashes does not continue",
     "a=x\\\\\nb=2\n",
     0,
     {"a=x\\@1", "b=2@2"}},
    {"a continued line may start with #",
     "a=1\\\n# still a\n",
     0,
     {"a=1# still a@1"}},
    {"continuation into a blank line ends the value",
     "a=1\\\n\nb=2\n",
     0,
     {"a=1@1", "b=2@3"}},
    {"continuation at the end of the text", "a=1\\", 0, {"a=1@1"}},
    {"a key continued", "lo\\\n  ng=v\n", 0, {"long=v@1"}},
    {"no final newline", "a=1\nb=2", 0, {"a=1@1", "b=2@2"}},
    {"CRLF and CR line ends",
     "a=1\r\nb=2\rc=3\r\n\r\nd=4",
     0,
     {"a=1@1", "b=2@2", "c=3@3", "d=4@5"}},
    {"CRLF continuation", "a=1\\\r\n  2\r\nb=3\r\n", 0, {"a=12@1", "b=3@3"}},
    {"character escapes",
     "a=\\t\\n\\r\\f|\\\\|\\q\\z\n",
     0,
     {"a=\t\n\r\f|\\|qz@1"}},
    {"escaped separators in keys", "k\\=1\\:2\\ 3=v\n", 0, {"k=1:2 3=v@1"}},
    {"escaped comment characters", "\\#a=1\n\\!b=2\n", 0, {"#a=1@1", "!b=2@2"}},
    {"unicode escapes",
     "a=\\u0041\\u00e9\\u20AC\n",
     0,
     {"a=A\xc3\xa9\xe2\x82\xac@1"}},
    {"a surrogate pair", "a=\\uD83D\\uDE00\n", 0, {"a=\xf0\x9f\x98\x80@1"}},
    {"UTF-8 passes through",
     "caf\xc3\xa9=\xe2\x82\xac\n",
     0,
     {"caf\xc3\xa9=\xe2\x82\xac@1"}},
    {"a repeated key: the last wins, in the first place",
     "a=1\nb=2\na=3\n",
     0,
     {"a=3@3", "b=2@2"}},
    {"empty text", "", 0, {NULL}},
    {"only comments", "#x\n!y", 0, {NULL}},
    {"a malformed \\u escape",
     "a=1\nb=\\u12G4\n",
     0,
     {"!t.properties:2: malformed \\uxxxx escape"}},
    {"a short \\u escape",
     "\n\na=\\u12",
     0,
     {"!t.properties:3: malformed \\uxxxx escape"}},
    {"a lone high surrogate",
     "a=\\uD83Dx\n",
     0,
     {"!t.properties:1: \\u escape: a high surrogate without its low "
      "surrogate"}},
    {"a lone low surrogate",
     "a=\\uDE00\n",
     0,
     {"!t.properties:1: \\u escape: a low surrogate without its high "
      "surrogate"}},
    {"\\u0000",
     "x=1\ny=a\\u0000b\n",
     0,
     {"!t.properties:2: \\u0000: a NUL character cannot be passed on"}},
    {"a raw NUL", "x=1\ny=a\0b\n", 10, {"!t.properties:2: a NUL character"}},
    {"an empty key",
     "a=1\n=value\n",
     0,
     {"!t.properties:2: empty property name"}},
    {"an empty key after ':'",
     "# c\n  : value\n",
     0,
     {"!t.properties:2: empty property name"}},
    {"the error's line is where the logical line starts",
     "a=1\nb=x\\\n  \\u00\n",
     0,
     {"!t.properties:2: malformed \\uxxxx escape"}},
};

static void properties_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const pcase_t *c = &CASES[i];
        evb_kafka_conf_t *conf = evb_kafka_conf_new();
        assert_non_null(conf);
        /* a property set before must survive an error untouched */
        assert_int_equal(
            evb_kafka_conf_set(conf, "pre", "set", "before", NULL, 0),
            EVB_ERR_OK);
        char err[256] = "";
        size_t len = c->len ? c->len : strlen(c->text);
        evb_err_t e = evb_kafka_conf_parse_properties(
            conf, c->text, len, "t.properties", err, sizeof err);
        if (c->want[0] && c->want[0][0] == '!') {
            if (e != EVB_ERR_INVALID_ARG || strcmp(err, c->want[0] + 1)) {
                fail_msg("case '%s': got %d '%s', want error '%s'", c->what,
                         (int)e, err, c->want[0] + 1);
            }
            assert_int_equal(evb_kafka_conf_count(conf), 1);
            evb_kafka_conf_free(conf);
            continue;
        }
        if (e)
            fail_msg("case '%s': error %s", c->what, err);
        size_t n = 0;
        while (n < 8 && c->want[n])
            n++;
        if (evb_kafka_conf_count(conf) != n + 1)
            fail_msg("case '%s': %zu properties, want %zu", c->what,
                     evb_kafka_conf_count(conf) - 1, n);
        for (size_t k = 0; k < n; k++) {
            const char *key, *value, *origin;
            evb_kafka_conf_entry(conf, k + 1, &key, &value, &origin);
            char got[512];
            const char *line = strrchr(origin, ':');
            snprintf(got, sizeof got, "%s=%s@%s", key, value,
                     line ? line + 1 : "?");
            if (strcmp(got, c->want[k]) != 0)
                fail_msg("case '%s': property %zu is '%s', want '%s'", c->what,
                         k, got, c->want[k]);
            assert_true(strncmp(origin, "t.properties:", 13) == 0);
        }
        evb_kafka_conf_free(conf);
    }
}

static void pairs(void **state) {
    (void)state;
    evb_kafka_conf_t *c = evb_kafka_conf_new();
    char err[256];
    assert_int_equal(evb_kafka_conf_set_pair(c, "bootstrap.servers=h:1",
                                             "--kafka-config", err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(
        evb_kafka_conf_set_pair(c, "sasl.jaas=a=b=c", NULL, err, sizeof err),
        EVB_ERR_OK);
    assert_int_equal(
        evb_kafka_conf_set_pair(c, "empty=", NULL, err, sizeof err),
        EVB_ERR_OK);
    assert_string_equal(evb_kafka_conf_get(c, "bootstrap.servers"), "h:1");
    assert_string_equal(evb_kafka_conf_get(c, "sasl.jaas"), "a=b=c");
    assert_string_equal(evb_kafka_conf_get(c, "empty"), "");
    assert_null(evb_kafka_conf_get(c, "missing"));
    assert_int_equal(evb_kafka_conf_set_pair(c, "novalue", "--kafka-config",
                                             err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(err,
                        "--kafka-config: expected key=value, got 'novalue'");
    assert_int_equal(
        evb_kafka_conf_set_pair(c, "=v", "--kafka-config", err, sizeof err),
        EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "--kafka-config: empty property name");
    assert_int_equal(evb_kafka_conf_set(c, "a\nb", "v", NULL, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    /* later wins */
    assert_int_equal(evb_kafka_conf_set_pair(c, "bootstrap.servers=h:2",
                                             "--kafka-config", err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(evb_kafka_conf_get(c, "bootstrap.servers"), "h:2");
    assert_int_equal(evb_kafka_conf_count(c), 3);
    evb_kafka_conf_t *d = evb_kafka_conf_dup(c);
    assert_int_equal(evb_kafka_conf_count(d), 3);
    assert_string_equal(evb_kafka_conf_get(d, "sasl.jaas"), "a=b=c");
    evb_kafka_conf_free(d);
    evb_kafka_conf_free(c);
}

static char tmpdir[64];

static const char *write_file(const char *name, const char *text) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void files_and_librdkafka_verdicts(void **state) {
    (void)state;
    char err[600];
    evb_kafka_conf_t *c = evb_kafka_conf_new();
    const char *p =
        write_file("ok.properties", "# cluster\n"
                                    "bootstrap.servers = 127.0.0.1:9092\n"
                                    "client.id: evbus-test\n"
                                    "linger.ms 20\n");
    assert_int_equal(evb_kafka_conf_load_file(c, p, err, sizeof err),
                     EVB_ERR_OK);
    assert_string_equal(evb_kafka_conf_get(c, "linger.ms"), "20");
    assert_int_equal(evb_kafka_conf_check(c, err, sizeof err), EVB_ERR_OK);
    evb_kafka_conf_free(c);

    /* unknown property: file and line */
    c = evb_kafka_conf_new();
    p = write_file("unknown.properties", "a.b=1\n\nno.such.property=1\n");
    assert_int_equal(evb_kafka_conf_load_file(c, p, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(evb_kafka_conf_check(c, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    char want[300];
    snprintf(want, sizeof want,
             "%s:1: a.b: not a librdkafka configuration property", p);
    assert_string_equal(err, want);
    evb_kafka_conf_free(c);

    /* a bad value: librdkafka's reason, with file and line */
    c = evb_kafka_conf_new();
    p = write_file("bad.properties", "client.id=x\nlinger.ms=soon\n");
    assert_int_equal(evb_kafka_conf_load_file(c, p, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(evb_kafka_conf_check(c, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    snprintf(want, sizeof want, "%s:2: linger.ms: ", p);
    assert_true(strncmp(err, want, strlen(want)) == 0);
    evb_kafka_conf_free(c);

    /* a syntax error in a file names the file */
    c = evb_kafka_conf_new();
    p = write_file("syntax.properties", "ok=1\nbad=\\uZZZZ\n");
    assert_int_equal(evb_kafka_conf_load_file(c, p, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    snprintf(want, sizeof want, "%s:2: malformed \\uxxxx escape", p);
    assert_string_equal(err, want);
    assert_int_equal(evb_kafka_conf_count(c), 0);
    evb_kafka_conf_free(c);

    /* a missing file */
    c = evb_kafka_conf_new();
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none.properties", tmpdir);
    assert_int_equal(evb_kafka_conf_load_file(c, missing, err, sizeof err),
                     EVB_ERR_IO);
    snprintf(want, sizeof want, "%s: No such file or directory", missing);
    assert_string_equal(err, want);
    evb_kafka_conf_free(c);

    /* a pair's origin */
    c = evb_kafka_conf_new();
    assert_int_equal(evb_kafka_conf_set_pair(c, "acks=sometimes",
                                             "--kafka-config", err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(evb_kafka_conf_check(c, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_true(strncmp(err, "--kafka-config: acks: ", 22) == 0);
    evb_kafka_conf_free(c);
}

static void secrets(void **state) {
    (void)state;
    assert_true(evb_kafka_conf_is_secret("sasl.password"));
    assert_true(evb_kafka_conf_is_secret("ssl.key.password"));
    assert_true(evb_kafka_conf_is_secret("ssl.keystore.password"));
    assert_true(evb_kafka_conf_is_secret("sasl.oauthbearer.client.secret"));
    assert_true(evb_kafka_conf_is_secret("ssl.key.pem"));
    assert_true(evb_kafka_conf_is_secret("ssl_key"));
    assert_true(evb_kafka_conf_is_secret("sasl.oauthbearer.config"));
    assert_false(evb_kafka_conf_is_secret("sasl.username"));
    assert_false(evb_kafka_conf_is_secret("ssl.certificate.pem"));
    assert_false(evb_kafka_conf_is_secret("bootstrap.servers"));

    evb_kafka_conf_t *c = evb_kafka_conf_new();
    char err[300];
    assert_int_equal(
        evb_kafka_conf_parse_properties(c,
                                        "sasl.username=alice\n"
                                        "sasl.password=Hunter2Secret\n"
                                        "ssl.key.password=KeyPass99\n",
                                        75, "s", err, sizeof err),
        EVB_ERR_OK);
    evb_buf_t b;
    evb_buf_init(&b, 0);
    assert_int_equal(evb_kafka_conf_describe(c, &b), EVB_ERR_OK);
    assert_string_equal(b.data, "sasl.username=alice, "
                                "sasl.password=[redacted], "
                                "ssl.key.password=[redacted]");
    evb_buf_free(&b);
    evb_kafka_conf_free(c);
}

static void cluster_names_and_arns(void **state) {
    (void)state;
    assert_true(evb_kafka_cluster_name_valid("default"));
    assert_true(evb_kafka_cluster_name_valid("msk-prod_1.a"));
    assert_false(evb_kafka_cluster_name_valid(""));
    assert_false(evb_kafka_cluster_name_valid("a/b"));
    assert_false(evb_kafka_cluster_name_valid("a b"));
    char longname[80];
    memset(longname, 'x', 65);
    longname[65] = '\0';
    assert_false(evb_kafka_cluster_name_valid(longname));
    assert_true(evb_kafka_topic_name_valid("orders.v1_x-y", 13));
    assert_false(evb_kafka_topic_name_valid(".", 1));
    assert_false(evb_kafka_topic_name_valid("..", 2));
    assert_false(evb_kafka_topic_name_valid("a:b", 3));

    evb_kafka_topic_arn_t a;
    assert_true(evb_kafka_topic_arn_parse(
        "arn:aws:kafka:us-east-1:000000000000:topic/default/orders", &a));
    assert_string_equal(a.region, "us-east-1");
    assert_string_equal(a.account, "000000000000");
    assert_string_equal(a.cluster, "default");
    assert_string_equal(a.cluster_uuid, "");
    assert_string_equal(a.topic, "orders");
    assert_true(evb_kafka_topic_arn_parse(
        "arn:aws:kafka:eu-west-1:123456789012:topic/MyCluster/"
        "abcd1234-0123-abcd-5678-1234abcd-1/payments.v1",
        &a));
    assert_string_equal(a.cluster, "MyCluster");
    assert_string_equal(a.cluster_uuid, "abcd1234-0123-abcd-5678-1234abcd-1");
    assert_string_equal(a.topic, "payments.v1");
    static const char *const bad[] = {
        "arn:aws:kafka:us-east-1:000000000000:topic/default",
        "arn:aws:kafka:us-east-1:000000000000:topic/default/",
        "arn:aws:kafka:us-east-1:000000000000:topic//orders",
        "arn:aws:kafka:us-east-1:000000000000:topic/a/b/c/d",
        "arn:aws:kafka:us-east-1:000000000000:cluster/default/uuid",
        "arn:aws:kafka:us-east-1:000000000000:topic/default/bad topic",
        "arn:aws:kafka:us-east-1:000000000000:topic/default/uu.id/t",
        "arn:aws:sqs:us-east-1:000000000000:topic/default/orders",
        "arn:aws:kafka:us-east-1",
        "arn:aws:kafka:us-east-1:000000000000:topic/default/..",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (evb_kafka_topic_arn_parse(bad[i], NULL))
            fail_msg("accepted %s", bad[i]);
}

static void registry(void **state) {
    (void)state;
    evb_kafka_clusters_t *cl = evb_kafka_clusters_new();
    evb_kafka_conf_t *c = evb_kafka_conf_new();
    char err[600];
    evb_kafka_conf_set(c, "bootstrap.servers", "127.0.0.1:1", NULL, NULL, 0);
    assert_int_equal(evb_kafka_clusters_add(cl, "default", c, err, sizeof err),
                     EVB_ERR_OK);
    assert_int_equal(evb_kafka_clusters_add(cl, "default", c, err, sizeof err),
                     EVB_ERR_EXISTS);
    assert_int_equal(evb_kafka_clusters_add(cl, "bad/name", c, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    evb_kafka_conf_set(c, "nope", "1", "x.properties:7", NULL, 0);
    assert_int_equal(evb_kafka_clusters_add(cl, "other", c, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_string_equal(err, "Kafka cluster other: x.properties:7: nope: not "
                             "a librdkafka configuration property");
    assert_int_equal(evb_kafka_clusters_count(cl), 1);
    assert_string_equal(evb_kafka_clusters_name(cl, 0), "default");
    assert_non_null(evb_kafka_clusters_conf(cl, "default"));
    assert_null(evb_kafka_clusters_conf(cl, "other"));
    evb_kafka_producer_t *p;
    assert_int_equal(
        evb_kafka_clusters_producer(cl, "other", &p, err, sizeof err),
        EVB_ERR_NOT_FOUND);
    assert_string_equal(err, "no Kafka cluster named other is configured");
    assert_int_equal(
        evb_kafka_clusters_producer(NULL, "default", &p, err, sizeof err),
        EVB_ERR_NOT_FOUND);
    evb_kafka_conf_free(c);
    evb_kafka_clusters_free(cl);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/evb-kafka-conf-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(properties_table),
        cmocka_unit_test(pairs),
        cmocka_unit_test(files_and_librdkafka_verdicts),
        cmocka_unit_test(secrets),
        cmocka_unit_test(cluster_names_and_arns),
        cmocka_unit_test(registry),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 1;
    return rc;
}
