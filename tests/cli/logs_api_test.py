"""The CloudWatch Logs API of `evbus serve` through boto3 and its paginators.

    python3 tests/cli/logs_api_test.py ENDPOINT EVENTS_API

ENDPOINT is a running evbus (http://127.0.0.1:PORT). EVENTS_API is 1 when
the server serves PutRule/PutTargets/PutEvents: then log events are made
the way users make them (a rule with a log-group target and PutEvents),
and the event paginators (filter_log_events, describe_log_streams) and
get_log_events are checked on them; with 0 those checks are skipped and
said so. Run by test_logs_api.sh; prints "N passed, M failed" and exits
non-zero on failure. Every wait is bounded.
"""

import json
import os
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = sys.argv[1]
EVENTS_API = len(sys.argv) > 2 and sys.argv[2] == "1"
CFG = Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=10)
logs = boto3.client("logs", endpoint_url=ENDPOINT, region_name="us-east-1",
                    config=CFG)
events = boto3.client("events", endpoint_url=ENDPOINT,
                      region_name="us-east-1", config=CFG)
ACCOUNT = "000000000000"
RUN = f"{os.getpid()}"

passed = 0
failed = 0


def check(name, got, want):
    global passed, failed
    if got == want:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {name}: got {got!r}, want {want!r}")


def expect_error(name, code, fn, **kwargs):
    """fn(**kwargs) must raise the modelled exception class named code."""
    global passed, failed
    try:
        fn(**kwargs)
    except getattr(logs.exceptions, code):
        passed += 1
        return
    except ClientError as e:  # a different code
        failed += 1
        print(f"FAIL: {name}: {e.response['Error']}, want {code}")
        return
    failed += 1
    print(f"FAIL: {name}: no exception, want {code}")


# ---- log groups -----------------------------------------------------------
prefix = f"/boto3/{RUN}/"
names = [f"{prefix}g{i:02d}" for i in range(7)]
for n in reversed(names):
    logs.create_log_group(logGroupName=n)
expect_error("create twice", "ResourceAlreadyExistsException",
             logs.create_log_group, logGroupName=names[0])
expect_error("bad limit", "InvalidParameterException",
             logs.describe_log_groups, limit=51)

pages = list(logs.get_paginator("describe_log_groups").paginate(
    logGroupNamePrefix=prefix, PaginationConfig={"PageSize": 2}))
check("group pages", len(pages), 4)
check("groups in order", [g["logGroupName"] for p in pages
                          for g in p["logGroups"]], names)
full = logs.get_paginator("describe_log_groups").paginate(
    logGroupNamePrefix=prefix,
    PaginationConfig={"PageSize": 3, "MaxItems": 5}).build_full_result()
check("MaxItems", len(full["logGroups"]), 5)
rest = logs.get_paginator("describe_log_groups").paginate(
    logGroupNamePrefix=prefix,
    PaginationConfig={"PageSize": 3,
                      "StartingToken": full["NextToken"]}).build_full_result()
check("resume from NextToken", [g["logGroupName"] for g in
                                full["logGroups"] + rest["logGroups"]], names)
g = logs.describe_log_groups(logGroupNamePrefix=names[0])["logGroups"][0]
check("arn", g["arn"], f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{names[0]}:*")
check("logGroupArn", g["logGroupArn"],
      f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{names[0]}")
check("metricFilterCount", g["metricFilterCount"], 0)
check("no retention", "retentionInDays" in g, False)
logs.put_retention_policy(logGroupName=names[0], retentionInDays=90)
g = logs.describe_log_groups(logGroupNamePrefix=names[0])["logGroups"][0]
check("retention", g.get("retentionInDays"), 90)
logs.delete_retention_policy(logGroupName=names[0])
for n in names[1:]:
    logs.delete_log_group(logGroupName=n)
left = logs.describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
check("after delete", [g["logGroupName"] for g in left], names[:1])
expect_error("delete missing", "ResourceNotFoundException",
             logs.delete_log_group, logGroupName=names[1])
expect_error("streams of a missing group", "ResourceNotFoundException",
             logs.describe_log_streams, logGroupName=names[1])

# ---- events through a rule ---------------------------------------------------
if EVENTS_API:
    group = f"/boto3/{RUN}/from-rule"
    group_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}"
    source = f"evbus.boto3.{RUN}"
    events.put_rule(Name=f"boto3-{RUN}",
                    EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=f"boto3-{RUN}",
                       Targets=[{"Id": "logs", "Arn": group_arn}])
    ids = []
    for batch in range(2):  # 12 events, PutEvents takes 10 at most
        entries = [{"Source": source, "DetailType": "Test",
                    "Detail": json.dumps({"n": f"m{batch * 6 + i:02d}"})}
                   for i in range(6)]
        r = events.put_events(Entries=entries)
        check("put_events failures", r["FailedEntryCount"], 0)
        ids += [e["EventId"] for e in r["Entries"]]

    deadline = time.monotonic() + 10
    got = []
    while time.monotonic() < deadline:
        try:
            got = [e for p in logs.get_paginator("filter_log_events").paginate(
                logGroupName=group, PaginationConfig={"PageSize": 5})
                for e in p["events"]]
        except logs.exceptions.ResourceNotFoundException:
            got = []  # the first delivery creates the group
        if len(got) >= len(ids):
            break
        time.sleep(0.2)
    check("events delivered", len(got), len(ids))
    # EventBridge "batches the entries sent to a log stream": the events
    # one delivery batch writes share a stream named after one of them
    by_stream = {}
    for e in got:
        by_stream.setdefault(e["logStreamName"], []).append(
            json.loads(e["message"])["id"])
    check("streams named after events", all(n in ids for n in by_stream),
          True)
    check("each stream holds the event it is named after",
          all(n in members for n, members in by_stream.items()), True)
    check("every event in one stream",
          sorted(i for m in by_stream.values() for i in m), sorted(ids))
    s0 = sorted(by_stream)[0]
    check("eventIds unique", len({e["eventId"] for e in got}), len(got))
    stamps = [(e["timestamp"], e["eventId"]) for e in got]
    check("interleaved in time order", stamps, sorted(stamps))
    pages = list(logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, interleaved=True,
        PaginationConfig={"PageSize": 5}))
    check("filter pages", [len(p["events"]) for p in pages], [5, 5, 2])
    check("searchedLogStreams", all(p["searchedLogStreams"] == []
                                    for p in pages), True)

    hits = logs.filter_log_events(logGroupName=group,
                                  filterPattern="?m03 ?m07")["events"]
    check("?alternatives", sorted(json.loads(e["message"])["detail"]["n"]
                                  for e in hits), ["m03", "m07"])
    hits = logs.filter_log_events(logGroupName=group,
                                  filterPattern='"m1"')["events"]
    check("quoted phrase", sorted(json.loads(e["message"])["detail"]["n"]
                                  for e in hits), ["m10", "m11"])
    hits = logs.filter_log_events(logGroupIdentifier=group_arn,
                                  logStreamNames=[s0])["events"]
    check("logStreamNames", sorted(json.loads(e["message"])["id"]
                                   for e in hits), sorted(by_stream[s0]))
    expect_error("JSON pattern", "InvalidParameterException",
                 logs.filter_log_events, logGroupName=group,
                 filterPattern='{ $.detail.n = "m01" }')

    streams = [s for p in logs.get_paginator("describe_log_streams").paginate(
        logGroupName=group, PaginationConfig={"PageSize": 5})
        for s in p["logStreams"]]
    check("streams", sorted(s["logStreamName"] for s in streams),
          sorted(by_stream))
    check("streams by name", [s["logStreamName"] for s in streams],
          sorted(by_stream))
    by_time = [s for p in logs.get_paginator("describe_log_streams").paginate(
        logGroupName=group, orderBy="LastEventTime", descending=True,
        PaginationConfig={"PageSize": 4}) for s in p["logStreams"]]
    check("streams by time", len(by_time), len(by_stream))
    check("descending time", [s["lastEventTimestamp"] for s in by_time],
          sorted((s["lastEventTimestamp"] for s in by_time), reverse=True))

    r = logs.get_log_events(logGroupName=group, logStreamName=s0,
                            startFromHead=True)
    check("get_log_events", sorted(json.loads(e["message"])["id"]
                                   for e in r["events"]), sorted(by_stream[s0]))
    again = logs.get_log_events(logGroupName=group, logStreamName=s0,
                                nextToken=r["nextForwardToken"])
    check("end of stream token", again["nextForwardToken"],
          r["nextForwardToken"])
    check("end of stream events", again["events"], [])
    expect_error("missing stream", "ResourceNotFoundException",
                 logs.get_log_events, logGroupName=group,
                 logStreamName="no-such-stream")
else:
    print("SKIP: the EventBridge control plane is not served; "
          "the event checks were not run")

print(f"boto3: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
