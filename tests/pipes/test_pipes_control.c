/* test_pipes_control.c: the Pipes control plane without Kafka (the
 * service runs with no_runners): validation and its messages, states,
 * UpdatePipe's merge rules, ListPipes' filters and paging, tags, delete,
 * persistence across a restart, and the librdkafka configuration a pipe's
 * credentials, CA and MSK mapping turn into. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "pipes/pipes.h"

static char dir[256];
static evb_store_t *store;
static evb_bus_service_t *bus;
static evb_pipe_service_t *svc;
static char secret_dir[300];

#define ROLE "arn:aws:iam::000000000000:role/pipes"
#define BUS "arn:aws:events:us-east-1:000000000000:event-bus/default"
#define SECRET(n) "arn:aws:secretsmanager:us-east-1:000000000000:secret:" n
#define MSK_ARN "arn:aws:kafka:us-east-1:000000000000:cluster/demo/abc-1"

static const char *const props[] = {"session.timeout.ms", "30000"};
static evb_pipe_secret_t secrets[5];
static char secret_paths[5][400];
static const evb_pipe_msk_cluster_t msk[] = {{MSK_ARN, "b-1:9092,b-2:9092"}};

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void open_service(void) {
    evb_pipe_service_config_t c = {
        .store = store,
        .bus = bus,
        .no_runners = true,
        .msk = msk,
        .nmsk = 1,
        .secrets = secrets,
        .nsecrets = 5,
        .kafka_props = props,
        .nkafka_props = 1,
        .max_pipes = 8,
    };
    char err[512];
    assert_int_equal(evb_pipe_service_open(&c, &svc, err, sizeof err), 0);
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/evb-pipes-ctl-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char err[512];
    evb_store_opts_t o = {.dir = dir, .no_sync = true};
    if (evb_store_open(&o, &store, err, sizeof err) ||
        evb_bus_service_open(NULL, store, &bus, err, sizeof err))
        return -1;
    snprintf(secret_dir, sizeof secret_dir, "%s/secrets", dir);
    const char *names[] = {"basic", "scram", "mtls", "ca", "broken"};
    const char *bodies[] = {
        "{\"username\":\"u\",\"password\":\"p\"}",
        "{\"username\":\"u2\",\"password\":\"p2\",\"properties\":{"
        "\"security.protocol\":\"SASL_PLAINTEXT\"}}",
        "{\"certificate\":\"CERT\",\"privateKey\":\"KEY\","
        "\"privateKeyPassword\":\"PW\"}",
        "{\"certificate\":\"CA\"}",
        "not json",
    };
    for (int i = 0; i < 5; i++) {
        snprintf(secret_paths[i], sizeof secret_paths[i], "%s/%s.json", dir,
                 names[i]);
        write_file(secret_paths[i], bodies[i]);
        static char arns[5][200];
        snprintf(arns[i], sizeof arns[i],
                 "arn:aws:secretsmanager:us-east-1:000000000000:secret:%s",
                 names[i]);
        secrets[i] = (evb_pipe_secret_t){arns[i], secret_paths[i]};
    }
    open_service();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    evb_pipe_service_close(svc);
    evb_bus_service_close(bus);
    evb_store_close(store);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Create; returns the error code and leaves the message in err. */
static evb_err_t create(const char *name, const char *body, char *err,
                        size_t err_size) {
    json_error_t je;
    json_t *req = json_loads(body, 0, &je);
    if (!req)
        fail_msg("bad test JSON: %s: %s", je.text, body);
    json_t *resp = NULL;
    evb_err_t e = evb_pipe_create(svc, name, req, &resp, err, err_size);
    if (!e) {
        assert_string_equal(
            json_string_value(json_object_get(resp, "CurrentState")),
            "CREATING");
    }
    json_decref(req);
    json_decref(resp);
    return e;
}

static evb_err_t update(const char *name, const char *body, char *err,
                        size_t err_size) {
    json_t *req = json_loads(body, 0, NULL);
    assert_non_null(req);
    json_t *resp = NULL;
    evb_err_t e = evb_pipe_update(svc, name, req, &resp, err, err_size);
    json_decref(req);
    json_decref(resp);
    return e;
}

static json_t *describe(const char *name) {
    json_t *d = NULL;
    char err[256];
    if (evb_pipe_describe(svc, name, &d, err, sizeof err))
        return NULL;
    return d;
}

static const char *state_of(const char *name, char *buf, size_t n) {
    json_t *d = describe(name);
    snprintf(buf, n, "%s",
             d ? json_string_value(json_object_get(d, "CurrentState"))
               : "GONE");
    json_decref(d);
    return buf;
}

static void wait_state(const char *name, const char *want) {
    char buf[64];
    for (int i = 0; i < 200; i++) {
        if (strcmp(state_of(name, buf, sizeof buf), want) == 0)
            return;
        sleep_ms(20);
    }
    fail_msg("%s: state %s, want %s", name, buf, want);
}

#define SMK_BODY(params)                                                       \
    "{\"Source\":\"smk://broker-1.example.com:9092\",\"SourceParameters\":{" \
    "\"SelfManagedKafkaParameters\":{\"TopicName\":\"orders\"" params "}},"   \
    "\"Target\":\"" BUS "\",\"RoleArn\":\"" ROLE "\"}"

static void expect_invalid(const char *name, const char *body,
                           const char *needle) {
    char err[2048] = "";
    evb_err_t e = create(name, body, err, sizeof err);
    if (e != EVB_ERR_INVALID_ARG || !strstr(err, needle))
        fail_msg("%s: wanted ValidationException with '%s', got %d '%s'", name,
                 needle, e, err);
}

static void test_validation(void **state) {
    (void)state;
    expect_invalid("bad name!", SMK_BODY(""),
                   "Value 'bad name!' at 'name' failed to satisfy constraint: "
                   "Member must satisfy regular expression pattern");
    expect_invalid("v1", "{}",
                   "3 validation errors detected: Value null at 'source' "
                   "failed to satisfy constraint: Member must not be null; "
                   "Value null at 'target'");
    expect_invalid("v2",
                   "{\"Source\":\"arn:aws:sqs:us-east-1:000000000000:q\","
                   "\"Target\":\"" BUS "\",\"RoleArn\":\"" ROLE "\"}",
                   "is not supported: evbus pipes read Kafka topics");
    expect_invalid("v3",
                   "{\"Source\":\"smk://b:9092\",\"Target\":\"" BUS
                   "\",\"RoleArn\":\"" ROLE "\"}",
                   "SelfManagedKafkaParameters is required");
    expect_invalid("v4", SMK_BODY(",\"BatchSize\":0"),
                   "at 'sourceParameters.selfManagedKafkaParameters.batchSize' "
                   "failed to satisfy constraint: Member must have value "
                   "greater than or equal to 1");
    expect_invalid("v5", SMK_BODY(",\"BatchSize\":20"),
                   "BatchSize 20 is larger than the target supports (10)");
    expect_invalid("v6", SMK_BODY(",\"StartingPosition\":\"EARLIEST\""),
                   "Member must satisfy enum value set: [TRIM_HORIZON, "
                   "LATEST]");
    expect_invalid("v7",
                   SMK_BODY(",\"Credentials\":{\"BasicAuth\":\"" SECRET("a")
                            "\",\"SaslScram512Auth\":\"" SECRET("b") "\"}"),
                   "Credentials must name exactly one of its members");
    expect_invalid("v8",
                   SMK_BODY(",\"Credentials\":{\"BasicAuth\":\"nope\"}"),
                   "credentials.basicAuth' failed to satisfy constraint");
    expect_invalid(
        "v9",
        "{\"Source\":\"smk://b:9092\",\"SourceParameters\":{"
        "\"SelfManagedKafkaParameters\":{\"TopicName\":\"t\"},"
        "\"FilterCriteria\":{\"Filters\":[{\"Pattern\":\"{\\\"value\\\":"
        "{\\\"a\\\":\\\"x\\\"}}\"}]}},\"Target\":\"" BUS "\",\"RoleArn\":\"" ROLE
        "\"}",
        "Invalid FilterCriteria.Filters[0].Pattern: Event pattern is not "
        "valid.");
    expect_invalid("v10",
                   "{\"Source\":\"smk://b:9092\",\"SourceParameters\":{"
                   "\"SelfManagedKafkaParameters\":{\"TopicName\":\"t\"}},"
                   "\"Target\":\"" BUS "\",\"TargetParameters\":{"
                   "\"InputTemplate\":\"{\\\"a\\\": <$.>}\"},\"RoleArn\":\"" ROLE
                   "\"}",
                   "invalid JSONPath");
    expect_invalid("v11",
                   "{\"Source\":\"smk://b:9092\",\"SourceParameters\":{"
                   "\"SelfManagedKafkaParameters\":{\"TopicName\":\"t\","
                   "\"BatchSize\":5}},\"Enrichment\":\"arn:aws:events:us-east-"
                   "1:000000000000:api-destination/d/1\",\"Target\":\"" BUS
                   "\",\"RoleArn\":\"" ROLE "\"}",
                   "BatchSize must be 1 with an API destination enrichment");
    expect_invalid("v12",
                   "{\"Source\":\"smk://b:9092\",\"SourceParameters\":{"
                   "\"SelfManagedKafkaParameters\":{\"TopicName\":\"t\"}},"
                   "\"Target\":\"arn:aws:kafka:us-east-1:000000000000:topic/c/"
                   "u/t\",\"RoleArn\":\"" ROLE "\"}",
                   "Kafka topic targets need evbus's Kafka module");
    expect_invalid("v13",
                   "{\"Source\":\"smk://b:9092\",\"SourceParameters\":{"
                   "\"SelfManagedKafkaParameters\":{\"TopicName\":\"t\"}},"
                   "\"Target\":\"arn:aws:lambda:us-east-1:000000000000:"
                   "function:f\",\"RoleArn\":\"" ROLE "\"}",
                   "Target arn:aws:lambda:us-east-1:000000000000:function:f is "
                   "not supported");
    expect_invalid("v14",
                   "{\"Source\":\"smk://b:9092\",\"SourceParameters\":{"
                   "\"SelfManagedKafkaParameters\":{\"TopicName\":\"t\"}},"
                   "\"Target\":\"" BUS "\",\"TargetParameters\":{"
                   "\"EventBridgeEventBusParameters\":{\"Source\":\"aws.x\"}},"
                   "\"RoleArn\":\"" ROLE "\"}",
                   "eventBridgeEventBusParameters.source' failed to satisfy");
}

static void test_lifecycle_and_update(void **state) {
    (void)state;
    char err[2048];
    assert_int_equal(
        create("p1",
               "{\"Description\":\"first\",\"Source\":\"smk://b:9092\","
               "\"SourceParameters\":{\"SelfManagedKafkaParameters\":{"
               "\"TopicName\":\"orders\",\"StartingPosition\":\"TRIM_HORIZON\","
               "\"BatchSize\":5,\"MaximumBatchingWindowInSeconds\":3,"
               "\"ConsumerGroupID\":\"grp\"},\"FilterCriteria\":{\"Filters\":"
               "[{\"Pattern\":\"{\\\"partition\\\":[0]}\"}]}},\"Target\":\"" BUS
               "\",\"RoleArn\":\"" ROLE "\",\"Tags\":{\"team\":\"a\"}}",
               err, sizeof err),
        0);
    assert_int_equal(create("p1", SMK_BODY(""), err, sizeof err),
                     EVB_ERR_EXISTS);
    assert_non_null(strstr(err, "already exists"));
    wait_state("p1", "RUNNING");
    assert_int_equal(create("p2",
                            "{\"DesiredState\":\"STOPPED\",\"Source\":\"smk://"
                            "b:9092\",\"SourceParameters\":{"
                            "\"SelfManagedKafkaParameters\":{\"TopicName\":"
                            "\"t2\"}},\"Target\":\"" BUS "\",\"RoleArn\":\"" ROLE
                            "\"}",
                            err, sizeof err),
                     0);
    wait_state("p2", "STOPPED");

    /* update: the Kafka parameters object is replaced (window back to its
     * default), the filter and everything else kept */
    assert_int_equal(update("p1",
                            "{\"RoleArn\":\"" ROLE "\",\"SourceParameters\":{"
                            "\"SelfManagedKafkaParameters\":{\"BatchSize\":"
                            "7}}}",
                            err, sizeof err),
                     0);
    json_t *d = describe("p1");
    json_t *kp = json_object_get(json_object_get(d, "SourceParameters"),
                                 "SelfManagedKafkaParameters");
    assert_int_equal(json_integer_value(json_object_get(kp, "BatchSize")), 7);
    assert_null(json_object_get(kp, "MaximumBatchingWindowInSeconds"));
    assert_string_equal(json_string_value(json_object_get(kp, "TopicName")),
                        "orders");
    assert_string_equal(
        json_string_value(json_object_get(kp, "ConsumerGroupID")), "grp");
    assert_non_null(json_object_get(json_object_get(d, "SourceParameters"),
                                    "FilterCriteria"));
    assert_string_equal(json_string_value(json_object_get(d, "Description")),
                        "first");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(d, "Tags"), "team")),
        "a");
    json_decref(d);
    wait_state("p1", "RUNNING");
    /* what cannot change */
    assert_int_equal(update("p1",
                            "{\"RoleArn\":\"" ROLE "\",\"SourceParameters\":{"
                            "\"SelfManagedKafkaParameters\":{\"TopicName\":"
                            "\"other\"}}}",
                            err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "TopicName cannot be changed"));
    assert_int_equal(update("p1", "{\"Source\":\"smk://c:1\",\"RoleArn\":\"" ROLE
                                  "\"}",
                            err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    assert_int_equal(update("p1", "{}", err, sizeof err), EVB_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "Value null at 'roleArn'"));
    assert_int_equal(update("nope", "{\"RoleArn\":\"" ROLE "\"}", err,
                            sizeof err),
                     EVB_ERR_NOT_FOUND);
    /* an update that sets DesiredState STOPPED */
    assert_int_equal(update("p1",
                            "{\"RoleArn\":\"" ROLE "\",\"DesiredState\":"
                            "\"STOPPED\",\"Description\":\"second\"}",
                            err, sizeof err),
                     0);
    wait_state("p1", "STOPPED");
    d = describe("p1");
    assert_string_equal(json_string_value(json_object_get(d, "DesiredState")),
                        "STOPPED");
    assert_string_equal(json_string_value(json_object_get(d, "Description")),
                        "second");
    json_decref(d);

    /* start and stop */
    json_t *r = NULL;
    assert_int_equal(evb_pipe_start(svc, "p2", &r, err, sizeof err), 0);
    assert_string_equal(json_string_value(json_object_get(r, "CurrentState")),
                        "STARTING");
    assert_string_equal(json_string_value(json_object_get(r, "DesiredState")),
                        "RUNNING");
    json_decref(r);
    wait_state("p2", "RUNNING");
    assert_int_equal(evb_pipe_stop(svc, "p2", &r, err, sizeof err), 0);
    assert_string_equal(json_string_value(json_object_get(r, "CurrentState")),
                        "STOPPING");
    json_decref(r);
    wait_state("p2", "STOPPED");
    assert_int_equal(evb_pipe_stop(svc, "zz", &r, err, sizeof err),
                     EVB_ERR_NOT_FOUND);
    assert_string_equal(err, "Pipe zz does not exist.");
}

static void test_list_tags_delete_restart(void **state) {
    (void)state;
    char err[1024];
    const char *names[] = {"q-a", "q-b", "q-c", "r-a"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(create(names[i], SMK_BODY(""), err, sizeof err), 0);
    for (size_t i = 0; i < 4; i++)
        wait_state(names[i], "RUNNING");
    /* quota: max_pipes 8 (p1, p2 and these four exist) */
    assert_int_equal(create("s-1", SMK_BODY(""), err, sizeof err), 0);
    assert_int_equal(create("s-2", SMK_BODY(""), err, sizeof err), 0);
    assert_int_equal(create("s-3", SMK_BODY(""), err, sizeof err),
                     EVB_ERR_LIMIT_EXCEEDED);

    evb_pipe_list_query_t q = {.name_prefix = "q-", .limit = 2};
    json_t *resp = NULL;
    assert_int_equal(evb_pipe_list(svc, &q, &resp, err, sizeof err), 0);
    json_t *l = json_object_get(resp, "Pipes");
    assert_int_equal(json_array_size(l), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(l, 0), "Name")),
        "q-a");
    char tok[256];
    snprintf(tok, sizeof tok, "%s",
             json_string_value(json_object_get(resp, "NextToken")));
    json_decref(resp);
    q.next_token = tok;
    assert_int_equal(evb_pipe_list(svc, &q, &resp, err, sizeof err), 0);
    l = json_object_get(resp, "Pipes");
    assert_int_equal(json_array_size(l), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(l, 0), "Name")),
        "q-c");
    assert_null(json_object_get(resp, "NextToken"));
    json_decref(resp);
    evb_pipe_list_query_t q2 = {.desired_state = "STOPPED"};
    assert_int_equal(evb_pipe_list(svc, &q2, &resp, err, sizeof err), 0);
    assert_int_equal(json_array_size(json_object_get(resp, "Pipes")), 2);
    json_decref(resp);
    evb_pipe_list_query_t q3 = {.target_prefix = "arn:aws:sqs"};
    assert_int_equal(evb_pipe_list(svc, &q3, &resp, err, sizeof err), 0);
    assert_int_equal(json_array_size(json_object_get(resp, "Pipes")), 0);
    json_decref(resp);
    evb_pipe_list_query_t q4 = {.next_token = "zz"};
    assert_int_equal(evb_pipe_list(svc, &q4, &resp, err, sizeof err),
                     EVB_ERR_INVALID_ARG);

    /* tags */
    const char *arn = "arn:aws:pipes:us-east-1:000000000000:pipe/q-a";
    json_t *tags = json_loads("{\"a\":\"1\",\"b\":\"2\"}", 0, NULL);
    assert_int_equal(evb_pipe_tag(svc, arn, tags, err, sizeof err), 0);
    json_decref(tags);
    const char *keys[] = {"a"};
    assert_int_equal(evb_pipe_untag(svc, arn, keys, 1, err, sizeof err), 0);
    assert_int_equal(evb_pipe_list_tags(svc, arn, &resp, err, sizeof err), 0);
    char *txt = json_dumps(json_object_get(resp, "tags"), JSON_COMPACT);
    assert_string_equal(txt, "{\"b\":\"2\"}");
    free(txt);
    json_decref(resp);
    assert_int_equal(evb_pipe_list_tags(svc, "arn:aws:pipes:us-east-1:"
                                             "000000000000:pipe/none",
                                        &resp, err, sizeof err),
                     EVB_ERR_NOT_FOUND);
    tags = json_object();
    for (int i = 0; i < 51; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        json_object_set_new(tags, k, json_string("v"));
    }
    assert_int_equal(evb_pipe_tag(svc, arn, tags, err, sizeof err),
                     EVB_ERR_INVALID_ARG);
    json_decref(tags);

    /* delete */
    assert_int_equal(evb_pipe_delete(svc, "r-a", &resp, err, sizeof err), 0);
    assert_string_equal(json_string_value(json_object_get(resp, "DesiredState")),
                        "DELETED");
    assert_string_equal(json_string_value(json_object_get(resp, "CurrentState")),
                        "DELETING");
    json_decref(resp);
    wait_state("r-a", "GONE");

    /* a restart keeps pipes, states and tags */
    evb_pipe_service_close(svc);
    open_service();
    wait_state("q-a", "RUNNING");
    wait_state("p2", "STOPPED");
    wait_state("p1", "STOPPED");
    wait_state("r-a", "GONE");
    assert_int_equal(evb_pipe_list_tags(svc, arn, &resp, err, sizeof err), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(resp, "tags"), "b")),
        "2");
    json_decref(resp);
}

static void source_config(const char *name, const char *body, char *out,
                          size_t out_size) {
    char err[1024];
    assert_int_equal(create(name, body, err, sizeof err), 0);
    evb_buf_t b;
    evb_buf_init(&b, 0);
    evb_err_t e = evb_pipe_describe_source_config(svc, name, &b, err,
                                                  sizeof err);
    snprintf(out, out_size, "%s", e ? err : b.data);
    evb_buf_free(&b);
    json_t *r = NULL;
    evb_pipe_delete(svc, name, &r, err, sizeof err);
    json_decref(r);
    wait_state(name, "GONE");
}

static void test_credentials(void **state) {
    (void)state;
    char out[2048];
    source_config("c1",
                  SMK_BODY(",\"ConsumerGroupID\":\"g1\",\"Credentials\":{"
                           "\"BasicAuth\":\"" SECRET("basic") "\"}"),
                  out, sizeof out);
    assert_string_equal(out, "bootstrap.servers=broker-1.example.com:9092\n"
                             "group.id=g1\n"
                             "session.timeout.ms=30000\n"
                             "security.protocol=SASL_SSL\n"
                             "sasl.mechanisms=PLAIN\n"
                             "sasl.username=u\n"
                             "sasl.password=(secret)\n");
    source_config("c2",
                  SMK_BODY(",\"ConsumerGroupID\":\"g2\",\"Credentials\":{"
                           "\"SaslScram256Auth\":\"" SECRET("scram") "\"},"
                           "\"AdditionalBootstrapServers\":[\"b2:9093\"]"),
                  out, sizeof out);
    assert_non_null(strstr(out, "bootstrap.servers=broker-1.example.com:9092,"
                                "b2:9093\n"));
    assert_non_null(strstr(out, "sasl.mechanisms=SCRAM-SHA-256\n"));
    /* the secret's own properties win */
    assert_non_null(strstr(out, "security.protocol=SASL_PLAINTEXT\n"));
    source_config("c3",
                  SMK_BODY(",\"ConsumerGroupID\":\"g3\",\"Credentials\":{"
                           "\"ClientCertificateTlsAuth\":\"" SECRET("mtls")
                           "\"},\"ServerRootCaCertificate\":\"" SECRET("ca")
                           "\""),
                  out, sizeof out);
    assert_non_null(strstr(out, "security.protocol=SSL\n"));
    assert_non_null(strstr(out, "ssl.certificate.pem=CERT\n"));
    assert_non_null(strstr(out, "ssl.key.pem=(secret)\n"));
    assert_non_null(strstr(out, "ssl.key.password=(secret)\n"));
    assert_non_null(strstr(out, "ssl.ca.pem=CA\n"));
    source_config("c4",
                  "{\"Source\":\"" MSK_ARN "\",\"SourceParameters\":{"
                  "\"ManagedStreamingKafkaParameters\":{\"TopicName\":\"t\","
                  "\"ConsumerGroupID\":\"g4\",\"Credentials\":{"
                  "\"SaslScram512Auth\":\"" SECRET("scram") "\"}}},"
                  "\"Target\":\"" BUS "\",\"RoleArn\":\"" ROLE "\"}",
                  out, sizeof out);
    assert_non_null(strstr(out, "bootstrap.servers=b-1:9092,b-2:9092\n"));
    assert_non_null(strstr(out, "sasl.mechanisms=SCRAM-SHA-512\n"));
    source_config("c5",
                  "{\"Source\":\"arn:aws:kafka:us-east-1:000000000000:cluster/"
                  "other/1\",\"SourceParameters\":{"
                  "\"ManagedStreamingKafkaParameters\":{\"TopicName\":\"t\"}},"
                  "\"Target\":\"" BUS "\",\"RoleArn\":\"" ROLE "\"}",
                  out, sizeof out);
    assert_non_null(strstr(out, "is not mapped to bootstrap servers"));
    source_config("c6",
                  SMK_BODY(",\"Credentials\":{\"BasicAuth\":\"" SECRET("broken")
                           "\"}"),
                  out, sizeof out);
    assert_non_null(strstr(out, "is not a JSON object"));
    source_config("c7",
                  SMK_BODY(",\"Credentials\":{\"BasicAuth\":\"" SECRET("mtls")
                           "\"}"),
                  out, sizeof out);
    assert_non_null(strstr(out, "needs \"username\" and \"password\""));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_lifecycle_and_update),
        cmocka_unit_test(test_list_tags_delete_restart),
        cmocka_unit_test(test_credentials),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
