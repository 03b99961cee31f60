#!/usr/bin/env python3
"""The EventBridge API of a running `evbus serve` through boto3.

    python3 tests/cli/events_api_test.py http://127.0.0.1:PORT

Run by test_events_api.sh against its server. Covers what the AWS CLI
does not show well: a PutEvents of 10 entries, the paginators over
ListRules, ListTargetsByRule and ListRuleNamesByTarget, timestamps parsed
into datetimes, modelled exception classes, and actions whose answer is
empty. Uses its own bus and rule names, so it can share a server. Prints
one line per failure and "boto3: N passed, M failed"; exits 1 on failure.
"""
import datetime
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = sys.argv[1]
ACCOUNT = "000000000000"
ARN = f"arn:aws:events:us-east-1:{ACCOUNT}"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:boto-q"

events = boto3.client(
    "events", endpoint_url=ENDPOINT, region_name="us-east-1",
    aws_access_key_id="AKIDEVBUSTEST", aws_secret_access_key="secret",
    config=Config(retries={"max_attempts": 1}, connect_timeout=10,
                  read_timeout=10))

# the same without botocore's own checks, to reach the server's
raw = boto3.client(
    "events", endpoint_url=ENDPOINT, region_name="us-east-1",
    aws_access_key_id="AKIDEVBUSTEST", aws_secret_access_key="secret",
    config=Config(retries={"max_attempts": 1}, connect_timeout=10,
                  read_timeout=10, parameter_validation=False))

passed = 0
failed = 0


def check(name, got, want):
    global passed, failed
    if got == want:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {name}: got {got!r}, want {want!r}")


def expect_error(name, code, fn, message=None, exc_class=None, **kwargs):
    """fn(**kwargs) raises a ClientError with this code (and message)."""
    global passed, failed
    try:
        fn(**kwargs)
    except ClientError as e:
        err = e.response["Error"]
        check(name + " code", err["Code"], code)
        if message is not None:
            check(name + " message", err["Message"], message)
        check(name + " status", e.response["ResponseMetadata"]["HTTPStatusCode"],
              500 if code == "InternalException" else 400)
        if exc_class is not None:
            check(name + " class", isinstance(e, exc_class), True)
        return
    failed += 1
    print(f"FAIL: {name}: no exception")


def run():
    # a bus with a description and tags
    r = events.create_event_bus(Name="boto-bus", Description="from boto3",
                                Tags=[{"Key": "k", "Value": "v"}])
    check("create arn", r["EventBusArn"], f"{ARN}:event-bus/boto-bus")
    d = events.describe_event_bus(Name="boto-bus")
    check("describe description", d.get("Description"), "from boto3")
    check("creation time type",
          isinstance(d.get("CreationTime"), datetime.datetime), True)
    age = datetime.datetime.now(datetime.timezone.utc) - d["CreationTime"]
    check("creation time recent", abs(age.total_seconds()) < 600, True)
    check("modified time type",
          isinstance(d.get("LastModifiedTime"), datetime.datetime), True)
    expect_error("duplicate bus", "ResourceAlreadyExistsException",
                 events.create_event_bus, "Event bus boto-bus already exists.",
                 events.exceptions.ResourceAlreadyExistsException,
                 Name="boto-bus")
    expect_error("missing bus", "ResourceNotFoundException",
                 events.describe_event_bus, "Event bus nope does not exist.",
                 events.exceptions.ResourceNotFoundException, Name="nope")
    tags = events.list_tags_for_resource(ResourceARN=r["EventBusArn"])["Tags"]
    check("bus tags", tags, [{"Key": "k", "Value": "v"}])

    # rules for the paginators
    names = [f"boto-r{i}" for i in range(5)]
    for name in names:
        events.put_rule(Name=name, EventBusName="boto-bus",
                        EventPattern=json.dumps({"source": ["boto"]}))
    pages = events.get_paginator("list_rules").paginate(
        EventBusName="boto-bus", NamePrefix="boto-r",
        PaginationConfig={"PageSize": 2})
    got, npages = [], 0
    for page in pages:
        npages += 1
        got += [rule["Name"] for rule in page["Rules"]]
    check("list_rules paginator names", got, names)
    check("list_rules paginator pages", npages, 3)
    rule = events.describe_rule(Name="boto-r0", EventBusName="boto-bus")
    check("describe_rule bus", rule["EventBusName"], "boto-bus")
    check("describe_rule state", rule["State"], "ENABLED")

    # targets, with transformations that must come back as they were put
    targets = [
        {"Id": "a", "Arn": QUEUE, "Input": json.dumps({"x": [1, 2]})},
        {"Id": "b", "Arn": QUEUE, "InputPath": "$.detail"},
        {"Id": "c", "Arn": QUEUE,
         "InputTransformer": {"InputPathsMap": {"t": "$.detail-type"},
                              "InputTemplate": '"type <t>"'},
         "RetryPolicy": {"MaximumRetryAttempts": 5,
                         "MaximumEventAgeInSeconds": 120},
         "DeadLetterConfig": {"Arn": QUEUE + "-dlq"}},
    ]
    r = events.put_targets(Rule="boto-r0", EventBusName="boto-bus",
                           Targets=targets)
    check("put_targets failed", r["FailedEntryCount"], 0)
    check("put_targets failed entries", r["FailedEntries"], [])
    for name in names[1:3]:
        events.put_targets(Rule=name, EventBusName="boto-bus",
                           Targets=[{"Id": "a", "Arn": QUEUE}])
    got = []
    for page in events.get_paginator("list_targets_by_rule").paginate(
            Rule="boto-r0", EventBusName="boto-bus",
            PaginationConfig={"PageSize": 1}):
        got += page["Targets"]
    check("list_targets_by_rule round trip", got, targets)
    got = []
    for page in events.get_paginator("list_rule_names_by_target").paginate(
            TargetArn=QUEUE, EventBusName="boto-bus",
            PaginationConfig={"PageSize": 2}):
        got += page["RuleNames"]
    check("list_rule_names_by_target", got, names[:3])
    expect_error("sixth target", "LimitExceededException", events.put_targets,
                 "The requested resource exceeds the maximum number allowed.",
                 events.exceptions.LimitExceededException,
                 Rule="boto-r0", EventBusName="boto-bus",
                 Targets=[{"Id": f"n{i}", "Arn": QUEUE} for i in range(3)])
    expect_error("retry policy range", "ValidationException",
                 events.put_targets,
                 "1 validation error detected: Value '200' at "
                 "'targets.1.member.retryPolicy.maximumRetryAttempts' failed "
                 "to satisfy constraint: Member must have value less than or "
                 "equal to 185",
                 Rule="boto-r0", EventBusName="boto-bus",
                 Targets=[{"Id": "z", "Arn": QUEUE,
                           "RetryPolicy": {"MaximumRetryAttempts": 200}}])
    expect_error("dead-letter queue not a queue", "ValidationException",
                 events.put_targets,
                 "Parameter DeadLetterConfig.Arn is not valid. Reason: "
                 "Provide a valid SQS queue ARN.",
                 Rule="boto-r0", EventBusName="boto-bus",
                 Targets=[{"Id": "z", "Arn": QUEUE, "DeadLetterConfig": {
                     "Arn": f"arn:aws:sns:us-east-1:{ACCOUNT}:topic"}}])
    expect_error("header parameter key", "ValidationException",
                 events.put_targets,
                 "1 validation error detected: Value '{bad key=v}' at "
                 "'targets.1.member.httpParameters.headerParameters' failed "
                 "to satisfy constraint: Map keys must satisfy constraint: "
                 "[Member must have length less than or equal to 512, Member "
                 "must satisfy regular expression pattern: "
                 "^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$]",
                 Rule="boto-r0", EventBusName="boto-bus",
                 Targets=[{"Id": "z", "Arn": QUEUE, "HttpParameters": {
                     "HeaderParameters": {"bad key": "v"}}}])
    expect_error("blank path parameter", "ValidationException",
                 events.put_targets,
                 "1 validation error detected: Value '[ ]' at "
                 "'targets.1.member.httpParameters.pathParameterValues' "
                 "failed to satisfy constraint: Member must satisfy "
                 "constraint: [Member must satisfy regular expression "
                 "pattern: ^(?!\\s*$).+, Member must not be null]",
                 Rule="boto-r0", EventBusName="boto-bus",
                 Targets=[{"Id": "z", "Arn": QUEUE, "HttpParameters": {
                     "PathParameterValues": [" "]}}])
    expect_error("two input options", "ValidationException",
                 events.put_targets,
                 "Only one of Input, InputPath, or InputTransformer must be "
                 "provided for target z.",
                 Rule="boto-r0", EventBusName="boto-bus",
                 Targets=[{"Id": "z", "Arn": QUEUE, "Input": "{}",
                           "InputPath": "$.detail"}])
    r = events.remove_targets(Rule="boto-r0", EventBusName="boto-bus",
                              Ids=["a", "b", "c"])
    check("remove_targets failed", r["FailedEntryCount"], 0)
    # actions without an answer
    for name in names[1:3]:
        events.remove_targets(Rule=name, EventBusName="boto-bus", Ids=["a"])
    r = events.disable_rule(Name="boto-r0", EventBusName="boto-bus")
    check("disable_rule status", r["ResponseMetadata"]["HTTPStatusCode"], 200)
    for name in names:
        events.delete_rule(Name=name, EventBusName="boto-bus")
    check("rules deleted",
          events.list_rules(EventBusName="boto-bus")["Rules"], [])
    events.delete_event_bus(Name="boto-bus")
    expect_error("deleted bus", "ResourceNotFoundException",
                 events.describe_event_bus, Name="boto-bus")

    # PutEvents: ten entries, all accepted
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    entries = [{"Source": "boto", "DetailType": "n", "Time": when,
                "Detail": json.dumps({"i": i}), "Resources": [f"arn:x:{i}"]}
               for i in range(10)]
    r = events.put_events(Entries=entries)
    check("put_events failed", r["FailedEntryCount"], 0)
    ids = [e.get("EventId", "") for e in r["Entries"]]
    check("put_events ids", len(set(ids)), 10)
    check("put_events id length", {len(i) for i in ids}, {36})
    # a bad entry among good ones
    r = events.put_events(Entries=[
        {"Source": "boto", "DetailType": "n", "Detail": "{}"},
        {"Source": "boto", "DetailType": "n", "Detail": "not json"},
        {"Source": "boto", "Detail": "{}"},
    ])
    check("mixed failed", r["FailedEntryCount"], 2)
    check("mixed codes", [e.get("ErrorCode") for e in r["Entries"]],
          [None, "MalformedDetail", "InvalidArgument"])
    check("mixed message", r["Entries"][2].get("ErrorMessage"),
          "Parameter DetailType is not valid. Reason: DetailType is a "
          "required argument.")
    expect_error("eleven entries", "ValidationException", events.put_events,
                 Entries=entries + entries[:1])
    # the model's constraints, checked by the server
    expect_error("trace header", "ValidationException", raw.put_events,
                 "1 validation error detected: Value '' at "
                 "'entries.1.member.traceHeader' failed to satisfy "
                 "constraint: Member must have length greater than or equal "
                 "to 1",
                 Entries=[{"Source": "s", "DetailType": "t", "Detail": "{}",
                           "TraceHeader": ""}])
    expect_error("no entries", "ValidationException", raw.put_events,
                 "1 validation error detected: Value '[]' at 'entries' "
                 "failed to satisfy constraint: Member must have length "
                 "greater than or equal to 1",
                 Entries=[])
    expect_error("limit 0", "ValidationException", raw.list_rules,
                 "1 validation error detected: Value '0' at 'limit' failed "
                 "to satisfy constraint: Member must have value greater "
                 "than or equal to 1",
                 Limit=0)
    expect_error("empty name", "ValidationException", raw.put_rule,
                 "2 validation errors detected: Value '' at 'name' failed "
                 "to satisfy constraint: Member must have length greater "
                 "than or equal to 1; Value '' at 'name' failed to satisfy "
                 "constraint: Member must satisfy regular expression "
                 "pattern: [\\.\\-_A-Za-z0-9]+",
                 Name="", EventPattern="{}")
    expect_error("missing members", "ValidationException", raw.put_targets,
                 "2 validation errors detected: Value null at 'rule' "
                 "failed to satisfy constraint: Member must not be null; "
                 "Value null at 'targets' failed to satisfy constraint: "
                 "Member must not be null")
    expect_error("tag key", "ValidationException", raw.untag_resource,
                 "1 validation error detected: Value '[]' at 'tagKeys' failed "
                 "to satisfy constraint: Member must satisfy constraint: "
                 "[Member must have length less than or equal to 128, Member "
                 "must have length greater than or equal to 1, Member must "
                 "not be null]",
                 ResourceARN=f"{ARN}:event-bus/default", TagKeys=[""])

try:
    run()
except Exception as e:  # noqa: BLE001 - any surprise is a failure
    failed += 1
    print(f"FAIL: unexpected {type(e).__name__}: {e}")
print(f"boto3: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
