/*
 * test_events_api.c: the EventBridge actions of api_events.c over the
 * wire, on a real store and bus service: the exact bodies of answers and
 * errors where the AWS CLI tests (tests/cli/test_events_api.sh) cannot
 * reach, because the clients check the model themselves or hide the
 * body: SerializationException for members of the wrong type, the
 * model's violations in AWS's words, what a stored target looks like when
 * it comes back, empty answers, schedule syntax, and InternalException
 * when the API has no bus service.
 *
 * Every test starts its own server on 127.0.0.1 with an ephemeral port
 * and a fresh data directory; every socket read has a 5 s timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/http.h"
#include "bus/bus.h"
#include "store/store.h"

#define IO_TIMEOUT_S 5
#define ACCT "000000000000"
#define ARN "arn:aws:events:us-east-1:" ACCT

/* ---- fixture ------------------------------------------------------------- */

typedef struct fixture {
    char dir[64];
    evb_store_t *store;
    evb_bus_service_t *bus;
    evb_api_t *api;
    evb_http_server_t *srv;
    uint16_t port;
    int fd;
    char buf[65536];
    size_t len;
} fixture_t;

static int start(void **state, bool with_bus) {
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->fd = -1;
    char errstr[512];
    evb_api_config_t acfg = {0};
    if (with_bus) {
        snprintf(f->dir, sizeof f->dir, "/tmp/evb-events-api-XXXXXX");
        if (!mkdtemp(f->dir))
            return -1;
        evb_store_opts_t so = {.dir = f->dir, .no_sync = true};
        if (evb_store_open(&so, &f->store, errstr, sizeof errstr) ||
            evb_bus_service_open(NULL, f->store, &f->bus, errstr,
                                 sizeof errstr)) {
            fprintf(stderr, "open: %s\n", errstr);
            return -1;
        }
        acfg.bus = f->bus;
        acfg.store = f->store;
    }
    if (evb_api_new(&acfg, &f->api, errstr, sizeof errstr))
        return -1;
    evb_http_config_t cfg = evb_http_config_default();
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.threads = 2;
    if (evb_http_server_start(&cfg, evb_api_handle, f->api, &f->srv, errstr,
                              sizeof errstr)) {
        fprintf(stderr, "server start: %s\n", errstr);
        return -1;
    }
    f->port = evb_http_server_port(f->srv);
    *state = f;
    return 0;
}

static int setup(void **state) {
    return start(state, true);
}
static int setup_no_bus(void **state) {
    return start(state, false);
}

static int teardown(void **state) {
    fixture_t *f = *state;
    if (f->fd >= 0)
        close(f->fd);
    evb_http_server_stop(f->srv);
    evb_api_free(f->api);
    evb_bus_service_close(f->bus);
    evb_store_close(f->store);
    int rc = 0;
    if (f->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        rc = system(cmd) == 0 ? 0 : -1;
    }
    free(f);
    return rc;
}

/* ---- one keep-alive connection ------------------------------------------- */

typedef struct response {
    int status;
    char body[65536];
    size_t body_len;
} response_t;

static void connect_fixture(fixture_t *f) {
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->fd >= 0);
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    setsockopt(f->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(f->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(f->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(f->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    f->len = 0;
}

static void send_all(int fd, const char *p, size_t len) {
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

static void fill(fixture_t *f) {
    assert_true(f->len < sizeof f->buf);
    ssize_t n;
    do
        n = recv(f->fd, f->buf + f->len, sizeof f->buf - f->len, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        fail_msg("connection closed or timed out");
    f->len += (size_t)n;
}

/* Call AWSEvents.<action> with body; the answer goes to r. */
static void call(fixture_t *f, const char *action, const char *body,
                 response_t *r) {
    if (f->fd < 0)
        connect_fixture(f);
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "X-Amz-Target: AWSEvents.%s\r\n"
                     "Content-Type: application/x-amz-json-1.1\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     action, strlen(body));
    assert_true(n > 0 && (size_t)n < sizeof head);
    send_all(f->fd, head, (size_t)n);
    send_all(f->fd, body, strlen(body));
    char *end;
    while (!(end = memmem(f->buf, f->len, "\r\n\r\n", 4)))
        fill(f);
    size_t head_len = (size_t)(end - f->buf) + 4;
    memset(r, 0, sizeof *r);
    assert_int_equal(sscanf(f->buf, "HTTP/1.%*d %d", &r->status), 1);
    size_t body_len = 0;
    const char *cl = strcasestr(f->buf, "\r\nContent-Length:");
    assert_true(cl && cl < end);
    body_len = strtoul(cl + 17, NULL, 10);
    assert_true(body_len < sizeof r->body);
    while (f->len < head_len + body_len)
        fill(f);
    memcpy(r->body, f->buf + head_len, body_len);
    r->body_len = body_len;
    memmove(f->buf, f->buf + head_len + body_len, f->len - head_len - body_len);
    f->len -= head_len + body_len;
}

/* Call and expect 200 with exactly want as the body. */
static void expect_ok(fixture_t *f, const char *action, const char *body,
                      const char *want) {
    response_t r;
    call(f, action, body, &r);
    if (r.status != 200)
        fail_msg("%s %s: status %d, body %s", action, body, r.status, r.body);
    if (want)
        assert_string_equal(r.body, want);
}

/* Call and expect an AWS error with this status, __type and message
 * (message NULL: any). */
static void expect_error(fixture_t *f, const char *action, const char *body,
                         int status, const char *type, const char *message) {
    response_t r;
    call(f, action, body, &r);
    char want[8192];
    if (r.status != status)
        fail_msg("%s %s: status %d, want %d; body %s", action, body, r.status,
                 status, r.body);
    snprintf(want, sizeof want, "{\"__type\":\"%s\",\"message\":\"", type);
    if (strncmp(r.body, want, strlen(want)) != 0)
        fail_msg("%s %s: body %s, want __type %s", action, body, r.body, type);
    if (message) {
        snprintf(want, sizeof want, "{\"__type\":\"%s\",\"message\":\"%s\"}",
                 type, message);
        assert_string_equal(r.body, want);
    }
}

#define VALIDATION(f, action, body, message)                                   \
    expect_error(f, action, body, 400, "ValidationException", message)

/* ---- tests --------------------------------------------------------------- */

static void wrong_types_are_serialization_errors(void **state) {
    fixture_t *f = *state;
    expect_error(f, "CreateEventBus", "{\"Name\":5}", 400,
                 "SerializationException",
                 "Expected a string for member 'Name', found a number");
    expect_error(f, "PutTargets", "{\"Rule\":\"r\",\"Targets\":\"x\"}", 400,
                 "SerializationException",
                 "Expected an array for member 'Targets', found a string");
    expect_error(f, "PutTargets", "{\"Rule\":\"r\",\"Targets\":[7]}", 400,
                 "SerializationException",
                 "Expected an object for member 'Targets', found a number");
    expect_error(f, "ListRules", "{\"Limit\":1.5}", 400,
                 "SerializationException",
                 "Expected an integer for member 'Limit', found a number");
    expect_error(f, "DeleteRule", "{\"Name\":\"r\",\"Force\":\"yes\"}", 400,
                 "SerializationException",
                 "Expected a boolean for member 'Force', found a string");
    expect_error(f, "PutEvents",
                 "{\"Entries\":[{\"Source\":\"s\",\"Time\":\"now\"}]}", 400,
                 "SerializationException",
                 "Expected a number for member 'Time', found a string");
    expect_error(f, "PutEvents",
                 "{\"Entries\":[{\"Source\":\"s\",\"Time\":1e300}]}", 400,
                 "SerializationException",
                 "Timestamp 1e300 for member 'Time' is out of range");
    expect_error(f, "UntagResource", "{\"ResourceARN\":\"a\",\"TagKeys\":[1]}",
                 400, "SerializationException",
                 "Expected a string for member 'TagKeys', found a number");
}

static void model_violations_in_aws_words(void **state) {
    fixture_t *f = *state;
    VALIDATION(f, "PutRule", "{}",
               "1 validation error detected: Value null at 'name' failed to "
               "satisfy constraint: Member must not be null");
    char body[512], msg[1024];
    char longname[80];
    memset(longname, 'a', 65);
    longname[65] = '\0';
    snprintf(body, sizeof body,
             "{\"Name\":\"%s\",\"EventBusName\":\"x y\",\"State\":\"on\"}",
             longname);
    snprintf(msg, sizeof msg,
             "3 validation errors detected: Value '%s' at 'name' failed to "
             "satisfy constraint: Member must have length less than or equal "
             "to 64; Value 'on' at 'state' failed to satisfy constraint: "
             "Member must satisfy enum value set: [ENABLED, DISABLED, "
             "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]; Value 'x y' at "
             "'eventBusName' failed to satisfy constraint: Member must "
             "satisfy regular expression pattern: (arn:aws[\\\\w-]*:events:"
             "[a-z]+-[a-z]+-[\\\\w-]+:[0-9]{12}:event-bus\\\\/)?"
             "[/\\\\.\\\\-_A-Za-z0-9]+",
             longname);
    VALIDATION(f, "PutRule", body, msg);
    VALIDATION(f, "PutTargets",
               "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"ok\",\"Arn\":\"a\"},"
               "{\"Arn\":\"\",\"RoleArn\":\"\","
               "\"SqsParameters\":{\"MessageGroupId\":\"" /* 101 chars */
               "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
               "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"},"
               "\"RetryPolicy\":{\"MaximumEventAgeInSeconds\":59}}]}",
               "5 validation errors detected: Value null at "
               "'targets.2.member.id' failed to satisfy constraint: Member "
               "must not be null; Value '' at 'targets.2.member.arn' failed "
               "to satisfy constraint: Member must have length greater than "
               "or equal to 1; Value '' at 'targets.2.member.roleArn' failed "
               "to satisfy constraint: Member must have length greater than "
               "or equal to 1; Value "
               "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
               "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' at "
               "'targets.2.member.sqsParameters.messageGroupId' failed to "
               "satisfy constraint: Member must have length less than or "
               "equal to 100; Value '59' at "
               "'targets.2.member.retryPolicy.maximumEventAgeInSeconds' "
               "failed to satisfy constraint: Member must have value greater "
               "than or equal to 60");
    VALIDATION(f, "PutTargets", "{\"Rule\":\"r\",\"Targets\":[]}",
               "1 validation error detected: Value '[]' at 'targets' failed "
               "to satisfy constraint: Member must have length greater than "
               "or equal to 1");
    VALIDATION(f, "TagResource",
               "{\"ResourceARN\":\"" ARN ":rule/r\",\"Tags\":[{\"Key\":\"\"}]}",
               "2 validation errors detected: Value '' at 'tags.1.member.key' "
               "failed to satisfy constraint: Member must have length greater "
               "than or equal to 1; Value null at 'tags.1.member.value' failed "
               "to satisfy constraint: Member must not be null");
    VALIDATION(f, "PutEvents",
               "{\"Entries\":[{\"Source\":\"s\",\"EventBusName\":"
               "\"arn:aws:events:us-east-1:123:event-bus/b\"}]}",
               "1 validation error detected: Value "
               "'arn:aws:events:us-east-1:123:event-bus/b' at "
               "'entries.1.member.eventBusName' failed to satisfy "
               "constraint: Member must satisfy regular expression pattern: "
               "(arn:aws[\\\\w-]*:events:[a-z]+-[a-z]+-[\\\\w-]+:[0-9]{12}:"
               "event-bus\\\\/)?[\\\\.\\\\-_A-Za-z0-9]+");
    VALIDATION(f, "PutEvents",
               "{\"Entries\":[{\"Source\":\"s\",\"Resources\":[\"a\",null]}]}",
               "1 validation error detected: Value '[a, null]' at "
               "'entries.1.member.resources' failed to satisfy constraint: "
               "Member must satisfy constraint: [Member must have length less "
               "than or equal to 2048, Member must not be null]");
    VALIDATION(f, "PutEvents", "{\"EndpointId\":\"abc\"}",
               "2 validation errors detected: Value null at 'entries' failed "
               "to satisfy constraint: Member must not be null; Value 'abc' "
               "at 'endpointId' failed to satisfy constraint: Member must "
               "satisfy regular expression pattern: "
               "^[A-Za-z0-9\\\\-]+[\\\\.][A-Za-z0-9\\\\-]+$");
    /* eleven entries: each quoted as AWS's Java prints it */
    char big[4096] = "{\"Entries\":[";
    for (int i = 0; i < 11; i++)
        strcat(big, i ? ",{\"Source\":\"s\"}"
                      : "{\"Source\":\"s\",\"Time\":0,\"Resources\":[\"r\"],"
                        "\"Detail\":\"{}\",\"TraceHeader\":\"t\"}");
    strcat(big, "]}");
    char want[8192] = "1 validation error detected: Value '[";
    strcat(want, "PutEventsRequestEntry(time=Thu Jan 01 00:00:00 UTC 1970, "
                 "source=s, resources=[r], detailType=null, detail={}, "
                 "eventBusName=null, traceHeader=t, kmsKeyIdentifier=null, "
                 "internalMetadata=null)");
    for (int i = 1; i < 11; i++)
        strcat(want, ", PutEventsRequestEntry(time=null, source=s, "
                     "resources=null, detailType=null, detail=null, "
                     "eventBusName=null, traceHeader=null, "
                     "kmsKeyIdentifier=null, internalMetadata=null)");
    strcat(want, "]' at 'entries' failed to satisfy constraint: Member must "
                 "have length less than or equal to 10");
    VALIDATION(f, "PutEvents", big, want);
}

static void buses(void **state) {
    fixture_t *f = *state;
    expect_ok(f, "CreateEventBus", "{\"Name\":\"b1\"}",
              "{\"EventBusArn\":\"" ARN ":event-bus/b1\"}");
    VALIDATION(f, "CreateEventBus",
               "{\"Name\":\"x/y\",\"LogConfig\":{\"Level\":\"LOUD\"}}",
               "1 validation error detected: Value 'LOUD' at 'logConfig.level' "
               "failed to satisfy constraint: Member must satisfy enum value "
               "set: [OFF, ERROR, INFO, TRACE]");
    VALIDATION(f, "CreateEventBus", "{\"Name\":\"x/y\"}",
               "Event bus name must not contain '/'.");
    expect_error(f, "CreateEventBus",
                 "{\"Name\":\"aws.partner/a/b\","
                 "\"EventSourceName\":\"aws.partner/a/b\"}",
                 400, "ResourceNotFoundException",
                 "Event source aws.partner/a/b does not exist.");
    VALIDATION(f, "CreateEventBus",
               "{\"Name\":\"b2\",\"EventSourceName\":\"aws.partner/a/b\"}",
               "Event bus name must match event source name.");
    VALIDATION(f, "CreateEventBus",
               "{\"Name\":\"b2\",\"EventSourceName\":\"aws.partner/a\"}",
               "1 validation error detected: Value 'aws.partner/a' at "
               "'eventSourceName' failed to satisfy constraint: Member must "
               "satisfy regular expression pattern: "
               "aws\\\\.partner(/[\\\\.\\\\-_A-Za-z0-9]+){2,}");
    /* an ARN of another region names no bus here */
    expect_error(f, "DescribeEventBus",
                 "{\"Name\":\"arn:aws:events:eu-west-1:" ACCT
                 ":event-bus/b1\"}",
                 400, "ResourceNotFoundException", NULL);
    /* UpdateEventBus keeps the description it is not given */
    expect_ok(f, "UpdateEventBus", "{\"Name\":\"b1\",\"Description\":\"d\"}",
              "{\"Arn\":\"" ARN ":event-bus/b1\",\"Name\":\"b1\","
              "\"Description\":\"d\"}");
    expect_ok(f, "UpdateEventBus", "{\"Name\":\"b1\"}",
              "{\"Arn\":\"" ARN ":event-bus/b1\",\"Name\":\"b1\","
              "\"Description\":\"d\"}");
    expect_error(f, "UpdateEventBus", "{\"Name\":\"nope\"}", 400,
                 "ResourceNotFoundException", "Event bus nope does not exist.");
    /* actions without an output shape answer with an empty body */
    expect_ok(f, "DeleteEventBus", "{\"Name\":\"b1\"}", "");
    expect_ok(f, "DeleteEventBus", "{\"Name\":\"b1\"}", "");
    expect_ok(f, "ListEventBuses", "{\"NamePrefix\":\"b\"}",
              "{\"EventBuses\":[]}");
}

static void targets_round_trip(void **state) {
    fixture_t *f = *state;
    expect_ok(
        f, "PutRule",
        "{\"Name\":\"r\",\"EventPattern\":\"{\\\"source\\\":[\\\"a\\\"]}\","
        "\"Tags\":[{\"Key\":\"k\",\"Value\":\"\"}]}",
        "{\"RuleArn\":\"" ARN ":rule/r\"}");
    expect_ok(f, "ListTagsForResource", "{\"ResourceARN\":\"" ARN ":rule/r\"}",
              "{\"Tags\":[{\"Key\":\"k\",\"Value\":\"\"}]}");
    /* unknown members and nulls are dropped; the rest comes back as put */
    expect_ok(f, "PutTargets",
              "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"t1\", \"Arn\":\"arn:aws:"
              "sqs:us-east-1:" ACCT ":q\", \"Foo\":1, \"RoleArn\":null, "
              "\"InputTransformer\": {\"InputPathsMap\": {\"s\": \"$.source\"},"
              " \"InputTemplate\": \"{\\\"s\\\": <s>}\"}, "
              "\"HttpParameters\": {\"HeaderParameters\": {\"h\": \"v\"}}}]}",
              "{\"FailedEntryCount\":0,\"FailedEntries\":[]}");
    expect_ok(
        f, "ListTargetsByRule", "{\"Rule\":\"r\"}",
        "{\"Targets\":[{\"Id\":\"t1\",\"Arn\":\"arn:aws:sqs:us-east-1:" ACCT
        ":q\",\"InputTransformer\":{\"InputPathsMap\":{\"s\":"
        "\"$.source\"},\"InputTemplate\":\"{\\\"s\\\": <s>}\"},"
        "\"HttpParameters\":{\"HeaderParameters\":{\"h\":\"v\"}}}]}");
    /* the transform module words these; the target index reaches it */
    char body[10000];
    int n = snprintf(body, sizeof body,
                     "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"a\",\"Arn\":"
                     "\"arn:aws:sqs:us-east-1:" ACCT ":q\"},{\"Id\":\"b\","
                     "\"Arn\":\"arn:aws:sqs:us-east-1:" ACCT ":q\","
                     "\"InputPath\":\"");
    for (int i = 0; i < 257; i++)
        body[n++] = 'x';
    snprintf(body + n, sizeof body - (size_t)n, "\"}]}");
    response_t r;
    call(f, "PutTargets", body, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "at 'targets.2.member.inputPath' failed "
                                   "to satisfy constraint: Member must have "
                                   "length less than or equal to 256"));
    VALIDATION(f, "PutTargets",
               "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"a\",\"Arn\":\"arn:aws:"
               "sqs:us-east-1:" ACCT
               ":q\",\"Input\":\"{\",\"InputPath\":\"$\"}]}",
               "Only one of Input, InputPath, or InputTransformer must be "
               "provided for target a.");
    VALIDATION(f, "PutTargets",
               "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"a\",\"Arn\":\"arn:aws:"
               "sqs:us-east-1:" ACCT ":q\",\"Input\":\"{\"}]}",
               "Input for target a is not a valid JSON text.");
    VALIDATION(f, "PutTargets",
               "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"a\",\"Arn\":\"arn::sqs:"
               "us-east-1:" ACCT ":q\"}]}",
               "Parameter arn::sqs:us-east-1:" ACCT ":q is not valid. Reason: "
               "Provided Arn is not in correct format.");
    expect_ok(f, "ListRuleNamesByTarget",
              "{\"TargetArn\":\"arn:aws:sqs:us-east-1:" ACCT ":q\"}",
              "{\"RuleNames\":[\"r\"]}");
    expect_ok(f, "RemoveTargets", "{\"Rule\":\"r\",\"Ids\":[\"t1\",\"zz\"]}",
              "{\"FailedEntryCount\":0,\"FailedEntries\":[]}");
    expect_ok(f, "ListTargetsByRule", "{\"Rule\":\"r\"}", "{\"Targets\":[]}");
    expect_ok(f, "DeleteRule", "{\"Name\":\"r\"}", "");
    expect_ok(f, "TagResource",
              "{\"ResourceARN\":\"" ARN ":event-bus/default\",\"Tags\":[]}",
              "{}");
    expect_error(f, "ListTagsForResource",
                 "{\"ResourceARN\":\"" ARN ":rule/bus1/r\"}", 400,
                 "ResourceNotFoundException",
                 "Rule r does not exist on EventBus bus1.");
    expect_error(f, "UntagResource",
                 "{\"ResourceARN\":\"" ARN ":event-bus/nope\",\"TagKeys\":[]}",
                 400, "ResourceNotFoundException",
                 "Event bus nope does not exist.");
}

/* HttpParameters, RetryPolicy and DeadLetterConfig of a target, checked
 * as the model and EventBridge say. */
static void target_parameters(void **state) {
    fixture_t *f = *state;
#define TGT                                                                    \
    "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"a\",\"Arn\":\"arn:aws:"            \
    "sqs:us-east-1:" ACCT ":q\","
#define HP "targets.1.member.httpParameters."
    /* PathParameterValues: each not blank, on one line */
    VALIDATION(f, "PutTargets",
               TGT "\"HttpParameters\":{\"PathParameterValues\":[\"a\",\" \","
                   "\"\"]}}]}",
               "1 validation error detected: Value '[a,  , ]' at '" HP
               "pathParameterValues' failed to satisfy constraint: Member "
               "must satisfy constraint: [Member must satisfy regular "
               "expression pattern: ^(?!\\\\s*$).+, Member must not be null]");
    VALIDATION(f, "PutTargets",
               TGT "\"HttpParameters\":{\"PathParameterValues\":[\"a\\nb\"]}}"
                   "]}",
               "1 validation error detected: Value '[a\\nb]' at '" HP
               "pathParameterValues' failed to satisfy constraint: Member "
               "must satisfy constraint: [Member must satisfy regular "
               "expression pattern: ^(?!\\\\s*$).+, Member must not be null]");
    /* HeaderParameters: the keys once, the values once, the map quoted */
    VALIDATION(f, "PutTargets",
               TGT "\"HttpParameters\":{\"HeaderParameters\":{\"X-Ok\":\"v\","
                   "\"bad key\":\"w\",\"X-Empty\":\"\"}}}]}",
               "2 validation errors detected: Value '{X-Ok=v, bad key=w, "
               "X-Empty=}' at '" HP "headerParameters' failed to satisfy "
               "constraint: Map keys must satisfy constraint: [Member must "
               "have length less than or equal to 512, Member must satisfy "
               "regular expression pattern: ^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$]; "
               "Value '{X-Ok=v, bad key=w, X-Empty=}' at '" HP
               "headerParameters' failed to satisfy constraint: Map value "
               "must satisfy constraint: [Member must have length less than or "
               "equal to 512, Member must satisfy regular expression pattern: "
               "^[ \\\\t]*[\\\\x20-\\\\x7E]+([ \\\\t]+[\\\\x20-\\\\x7E]+)*"
               "[ \\\\t]*$]");
    VALIDATION(f, "PutTargets",
               TGT "\"HttpParameters\":{\"HeaderParameters\":{\"X-Tab\":"
                   "\"\\t\",\"X-Null\":null}}}]}",
               "1 validation error detected: Value '{X-Tab=\\t, X-Null=null}' "
               "at '" HP "headerParameters' failed to satisfy constraint: Map "
               "value must satisfy constraint: [Member must have length less "
               "than or equal to 512, Member must satisfy regular expression "
               "pattern: ^[ \\\\t]*[\\\\x20-\\\\x7E]+([ \\\\t]+"
               "[\\\\x20-\\\\x7E]+)*[ \\\\t]*$]");
    /* QueryStringParameters: no control characters in keys; values may
     * hold line breaks but no other control character */
    VALIDATION(
        f, "PutTargets",
        TGT "\"HttpParameters\":{\"QueryStringParameters\":{\"\":"
            "\"x\",\"ok\":\"l1\\r\\nl2\"}}}]}",
        "1 validation error detected: Value '{=x, ok=l1\\r\\nl2}' at '" HP
        "queryStringParameters' failed to satisfy constraint: Map keys "
        "must satisfy constraint: [Member must have length less than or "
        "equal to 512, Member must satisfy regular expression pattern: "
        "[^\\\\x00-\\\\x1F\\\\x7F]+]");
    response_t r;
    call(f, "PutTargets",
         TGT "\"HttpParameters\":{\"QueryStringParameters\":{\"q\":"
             "\"a\\u0001\"}}}]}",
         &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "' at '" HP "queryStringParameters' failed "
                                   "to satisfy constraint: Map value must "
                                   "satisfy constraint: [Member must have "
                                   "length less than or equal to 512, Member "
                                   "must satisfy regular expression pattern: "
                                   "[^\\\\x00-\\\\x09\\\\x0B\\\\x0C"
                                   "\\\\x0E-\\\\x1F\\\\x7F]+]"));
    /* 512 UTF-16 code units at most, keys and values */
    char body[4096], want[4200];
    int n = snprintf(body, sizeof body,
                     TGT "\"HttpParameters\":{\"HeaderParameters\":{\"k\":\"");
    for (int i = 0; i < 513; i++)
        body[n++] = 'v';
    snprintf(body + n, sizeof body - (size_t)n, "\"}}}]}");
    call(f, "PutTargets", body, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "Map value must satisfy constraint"));
    body[n - 1] = '\0'; /* 512: fine as far as the model goes */
    snprintf(want, sizeof want, "%s\"}}}]}", body);
    call(f, "PutTargets", want, &r);
    assert_int_equal(r.status, 400); /* the rule does not exist yet */
    assert_non_null(strstr(r.body, "ResourceNotFoundException"));
    /* members of the wrong type */
    expect_error(f, "PutTargets", TGT "\"HttpParameters\":[]}]}", 400,
                 "SerializationException",
                 "Expected an object for member 'HttpParameters', found an "
                 "array");
    expect_error(f, "PutTargets",
                 TGT "\"HttpParameters\":{\"PathParameterValues\":\"a\"}}]}",
                 400, "SerializationException",
                 "Expected an array for member 'PathParameterValues', found a "
                 "string");
    expect_error(f, "PutTargets",
                 TGT "\"HttpParameters\":{\"HeaderParameters\":{\"h\":5}}}]}",
                 400, "SerializationException",
                 "Expected a string for member 'HeaderParameters', found a "
                 "number");
    expect_error(f, "PutTargets",
                 TGT "\"HttpParameters\":{\"QueryStringParameters\":[]}}]}",
                 400, "SerializationException",
                 "Expected an object for member 'QueryStringParameters', "
                 "found an array");
    /* RetryPolicy: 0..185 retries, 60..86400 seconds */
    VALIDATION(f, "PutTargets",
               "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"a\",\"Arn\":\"x\","
               "\"RetryPolicy\":{\"MaximumRetryAttempts\":186,"
               "\"MaximumEventAgeInSeconds\":86401}},{\"Id\":\"b\",\"Arn\":"
               "\"x\",\"RetryPolicy\":{\"MaximumRetryAttempts\":-1}}]}",
               "3 validation errors detected: Value '186' at "
               "'targets.1.member.retryPolicy.maximumRetryAttempts' failed to "
               "satisfy constraint: Member must have value less than or equal "
               "to 185; Value '86401' at "
               "'targets.1.member.retryPolicy.maximumEventAgeInSeconds' failed "
               "to satisfy constraint: Member must have value less than or "
               "equal to 86400; Value '-1' at "
               "'targets.2.member.retryPolicy.maximumRetryAttempts' failed to "
               "satisfy constraint: Member must have value greater than or "
               "equal to 0");
    expect_error(f, "PutTargets",
                 TGT "\"RetryPolicy\":{\"MaximumRetryAttempts\":\"3\"}}]}", 400,
                 "SerializationException",
                 "Expected an integer for member 'MaximumRetryAttempts', found "
                 "a string");
    VALIDATION(f, "PutTargets", TGT "\"DeadLetterConfig\":{\"Arn\":\"\"}}]}",
               "1 validation error detected: Value '' at "
               "'targets.1.member.deadLetterConfig.arn' failed to satisfy "
               "constraint: Member must have length greater than or equal to "
               "1");

    /* with the rule: what the model cannot say */
    expect_ok(
        f, "PutRule",
        "{\"Name\":\"r\",\"EventPattern\":\"{\\\"source\\\":[\\\"a\\\"]}\"}",
        "{\"RuleArn\":\"" ARN ":rule/r\"}");
    static const char *const not_queues[] = {
        "arn:aws:sns:us-east-1:" ACCT ":topic",
        "arn:aws:sqs:us-east-1:" ACCT ":",
        "arn:aws:sqs:us-east-1:12345:q",
        "arn:aws:sqs::" ACCT ":q",
        "arn:aws:sqs:us-east-1:" ACCT ":a/b",
        "arn:aws:sqs:us-east-1:" ACCT ":.fifo",
        "sqs-queue",
    };
    for (size_t i = 0; i < sizeof not_queues / sizeof *not_queues; i++) {
        snprintf(body, sizeof body,
                 TGT "\"DeadLetterConfig\":{\"Arn\":\"%s\"}}]}", not_queues[i]);
        VALIDATION(f, "PutTargets", body,
                   "Parameter DeadLetterConfig.Arn is not valid. Reason: "
                   "Provide a valid SQS queue ARN.");
    }
    VALIDATION(f, "PutTargets",
               TGT "\"DeadLetterConfig\":{\"Arn\":\"arn:aws:sqs:us-east-1:" ACCT
                   ":q\\u0000x\"}}]}",
               "Parameter DeadLetterConfig.Arn is not valid. Reason: "
               "Provide a valid SQS queue ARN.");
    /* within the limits: accepted and kept as put */
    expect_ok(f, "PutTargets",
              TGT "\"HttpParameters\":{\"PathParameterValues\":[\" a \"],"
                  "\"HeaderParameters\":{\"X-A,b.c\":\" v\\t1 \"},"
                  "\"QueryStringParameters\":{\"k\\u00e9\":\"l1\\nl2\"}},"
                  "\"RetryPolicy\":{\"MaximumRetryAttempts\":0,"
                  "\"MaximumEventAgeInSeconds\":60},\"DeadLetterConfig\":"
                  "{\"Arn\":\"arn:aws:sqs:us-east-1:" ACCT ":dl-q_1\"}}]}",
              "{\"FailedEntryCount\":0,\"FailedEntries\":[]}");
    expect_ok(f, "PutTargets", want, /* the 512-character value */
              "{\"FailedEntryCount\":0,\"FailedEntries\":[]}");
    expect_ok(f, "PutTargets",
              "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"a\",\"Arn\":\"arn:aws:"
              "sqs:us-east-1:" ACCT ":q\",\"DeadLetterConfig\":{\"Arn\":"
              "\"arn:aws-cn:sqs:cn-north-1:" ACCT ":q.fifo\"}}]}",
              "{\"FailedEntryCount\":0,\"FailedEntries\":[]}");
#undef HP
#undef TGT
}

static void schedules(void **state) {
    fixture_t *f = *state;
    static const char *const valid[] = {
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(2 days)",
        "cron(0 12 * * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0 8 ? * MON-FRI *)",
    };
    static const char *const invalid[] = {
        "rate(0 minutes)",  "rate(1 minutes)", "rate(5 minute)",
        "rate(5 weeks)",    "rate(x minutes)", "rate(5  minutes)",
        "cron(0 12 * * ?)", "every 5 minutes", "rate()",
    };
    char body[256];
    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
        snprintf(body, sizeof body,
                 "{\"Name\":\"s\",\"ScheduleExpression\":\"%s\"}", valid[i]);
        expect_ok(f, "PutRule", body, "{\"RuleArn\":\"" ARN ":rule/s\"}");
    }
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
        snprintf(body, sizeof body,
                 "{\"Name\":\"s\",\"ScheduleExpression\":\"%s\"}", invalid[i]);
        VALIDATION(f, "PutRule", body,
                   "Parameter ScheduleExpression is not valid.");
    }
    expect_ok(f, "DescribeRule", "{\"Name\":\"s\"}",
              "{\"Name\":\"s\",\"Arn\":\"" ARN ":rule/s\","
              "\"ScheduleExpression\":\"cron(0 8 ? * MON-FRI *)\","
              "\"State\":\"ENABLED\",\"EventBusName\":\"default\","
              "\"CreatedBy\":\"" ACCT "\"}");
}

static void put_events_answer(void **state) {
    fixture_t *f = *state;
    response_t r;
    call(f, "PutEvents",
         "{\"Entries\":[{\"Source\":\"s\",\"DetailType\":\"t\",\"Detail\":"
         "\"{}\",\"Time\":1700000000.75},{\"Source\":\"s\",\"DetailType\":"
         "\"t\",\"Detail\":\"1\"}]}",
         &r);
    assert_int_equal(r.status, 200);
    char id[64];
    assert_int_equal(sscanf(r.body,
                            "{\"FailedEntryCount\":1,\"Entries\":[{\"EventId\":"
                            "\"%36[0-9a-f-]\"}",
                            id),
                     1);
    char want[256];
    snprintf(want, sizeof want,
             "{\"FailedEntryCount\":1,\"Entries\":[{\"EventId\":\"%s\"},"
             "{\"ErrorCode\":\"MalformedDetail\",\"ErrorMessage\":\"Detail is "
             "malformed.\"}]}",
             id);
    assert_string_equal(r.body, want);
}

static void without_bus_service(void **state) {
    fixture_t *f = *state;
    /* the model is checked first, then the service is missing */
    VALIDATION(f, "CreateEventBus", "{}",
               "1 validation error detected: Value null at 'name' failed to "
               "satisfy constraint: Member must not be null");
    static const char *const actions[] = {
        "CreateEventBus", "DescribeEventBus", "ListEventBuses",
        "ListRules",      "PutEvents",        "ListTagsForResource",
    };
    static const char *const bodies[] = {
        "{\"Name\":\"b\"}",
        "{}",
        "{}",
        "{}",
        "{\"Entries\":[{\"Source\":\"s\"}]}",
        "{\"ResourceARN\":\"a\"}",
    };
    for (size_t i = 0; i < sizeof actions / sizeof *actions; i++)
        expect_error(f, actions[i], bodies[i], 500, "InternalException",
                     "The event bus service is not available.");
    /* TestEventPattern needs no bus */
    expect_ok(f, "TestEventPattern",
              "{\"EventPattern\":\"{\\\"source\\\":[\\\"s\\\"]}\",\"Event\":"
              "\"{\\\"id\\\":\\\"1\\\",\\\"source\\\":\\\"s\\\",\\\"detail-"
              "type\\\":\\\"t\\\",\\\"account\\\":\\\"1\\\",\\\"region\\\":"
              "\\\"r\\\",\\\"time\\\":\\\"2020-01-01T00:00:00Z\\\"}\"}",
              "{\"Result\":true}");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(wrong_types_are_serialization_errors,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(model_violations_in_aws_words, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(buses, setup, teardown),
        cmocka_unit_test_setup_teardown(targets_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(target_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(schedules, setup, teardown),
        cmocka_unit_test_setup_teardown(put_events_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(without_bus_service, setup_no_bus,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
