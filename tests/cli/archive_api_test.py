#!/usr/bin/env python3
"""Archives and replays of a running `evbus serve` through boto3.

    python3 tests/cli/archive_api_test.py http://127.0.0.1:PORT

Run by test_archive_api.sh against its server. Uses its own bus and
names. Covers timestamps parsed into datetimes, the paginators, modelled
exception classes, the replay state machine, cancel, and the limit of
10 active replays. Prints one line per failure and "boto3: N passed, M
failed"; exits 1 on failure.
"""
import datetime
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = sys.argv[1]
ARN = "arn:aws:events:us-east-1:000000000000"
cfg = Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=10)
events = boto3.client("events", endpoint_url=ENDPOINT, region_name="us-east-1",
                      aws_access_key_id="AKIDEVBUSTEST",
                      aws_secret_access_key="secret", config=cfg)
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def error_of(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    return None, None


bus_arn = events.create_event_bus(Name="boto-arc")["EventBusArn"]
r = events.create_archive(ArchiveName="boto-a", EventSourceArn=bus_arn,
                          Description="d", RetentionDays=0)
check(isinstance(r["CreationTime"], datetime.datetime), "CreationTime type")
check(r["State"] == "ENABLED", "State")
for i in range(3):
    events.create_archive(ArchiveName=f"boto-p{i}", EventSourceArn=bus_arn)
pages = events.get_paginator("list_archives") if events.can_paginate(
    "list_archives") else None
names = []
tok = None
while True:
    kw = {"NamePrefix": "boto-", "Limit": 2}
    if tok:
        kw["NextToken"] = tok
    page = events.list_archives(**kw)
    names += [a["ArchiveName"] for a in page["Archives"]]
    tok = page.get("NextToken")
    if not tok:
        break
check(names == ["boto-a", "boto-p0", "boto-p1", "boto-p2"], f"paging {names}")

d = events.describe_archive(ArchiveName="boto-a")
check(d["EventSourceArn"] == bus_arn and d["Description"] == "d"
      and d["EventCount"] == 0 and d["SizeBytes"] == 0, f"describe {d}")
u = events.update_archive(ArchiveName="boto-a", EventPattern='{"source":["x"]}')
check(u["ArchiveArn"] == f"{ARN}:archive/boto-a", "update arn")
check(events.describe_archive(ArchiveName="boto-a")["EventPattern"]
      == '{"source":["x"]}', "pattern kept")
code, msg = error_of(events.describe_archive, ArchiveName="nope")
check(code == "ResourceNotFoundException" and msg == "Archive nope does not exist.",
      f"describe missing: {code} {msg}")

now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
start = now - datetime.timedelta(hours=2)
end = now - datetime.timedelta(hours=1)
dest = {"Arn": bus_arn}
r = events.start_replay(ReplayName="boto-r", EventSourceArn=f"{ARN}:archive/boto-a",
                        EventStartTime=start, EventEndTime=end, Destination=dest)
check(r["State"] == "STARTING", "start state")
check(isinstance(r["ReplayStartTime"], datetime.datetime), "ReplayStartTime")
for _ in range(100):
    d = events.describe_replay(ReplayName="boto-r")
    if d["State"] == "COMPLETED":
        break
    time.sleep(0.1)
check(d["State"] == "COMPLETED", f"state {d['State']}")
check(d["EventStartTime"] == start and d["EventEndTime"] == end,
      f"window {d['EventStartTime']} {d['EventEndTime']}")
check(d["Destination"] == dest, f"destination {d['Destination']}")
check("ReplayEndTime" in d, "ReplayEndTime")
code, _ = error_of(events.cancel_replay, ReplayName="boto-r")
check(code == "IllegalStatusException", f"cancel completed: {code}")
code, msg = error_of(events.start_replay, ReplayName="boto-r",
                     EventSourceArn=f"{ARN}:archive/boto-a",
                     EventStartTime=start, EventEndTime=end, Destination=dest)
check(code == "ResourceAlreadyExistsException", f"dup replay: {code} {msg}")

# replays of an empty archive finish quickly, so the limit of 10 active
# replays may or may not be reached here (the unit tests pin it down);
# whichever happens, the answers must be the modelled ones
far = datetime.datetime(1971, 1, 1, tzinfo=datetime.timezone.utc)
started = []
limit_hit = False
for i in range(11):
    try:
        events.start_replay(ReplayName=f"boto-l{i}",
                            EventSourceArn=f"{ARN}:archive/boto-a",
                            EventStartTime=far, EventEndTime=now,
                            Destination=dest)
        started.append(f"boto-l{i}")
    except ClientError as e:
        limit_hit = e.response["Error"]["Code"] == "LimitExceededException"
        break
check(len(started) == 11 or limit_hit, "started or LimitExceededException")
for name in started:
    try:
        c = events.cancel_replay(ReplayName=name)
        check(c["State"] == "CANCELLING", f"cancel {name}: {c['State']}")
    except ClientError as e:
        # already finished: the only other answer allowed
        check(e.response["Error"]["Code"] == "IllegalStatusException", str(e))
listed = events.list_replays(NamePrefix="boto-l")["Replays"]
check(all(r["State"] in ("CANCELLING", "CANCELLED", "COMPLETED") for r in listed),
      f"states {[r['State'] for r in listed]}")
print(f"boto3: {passed} passed, {failed} failed (limit hit: {limit_hit})")
sys.exit(1 if failed else 0)
