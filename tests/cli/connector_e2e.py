#!/usr/bin/env python3
"""`evbus connector` end to end: kafka-mock -> connector -> evbus serve.

Usage: connector_e2e.py PATH/TO/evbus

- command line: usage and configuration errors (status 64), --check,
  --properties equal to the table in docs/cli/connector.md;
- JSON values (keys, null keys, tombstones, headers): the exact event
  shape, detail keys in upstream's order; the JSON form of the config;
- string values (JSON text stays a string; invalid UTF-8 -> U+FFFD);
- Avro values through evbus's own registry, Confluent and Glue framing;
- detail types: template, static, per-topic map with fallback, JSONPath;
  topics.regex;
- batching: at most 10 entries and 262144 bytes per call (through a
  recording proxy), an oversized record dead-lettered;
- dead letters: a value that does not convert and an entry PutEvents
  refuses go to the DLQ topic with the original record and Kafka
  Connect's __connect.errors.* headers (read back by a second connector);
- errors.tolerance=none stops at the bad record (status 1) without
  committing it; a restart with tolerance all skips it.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from connector_lib import Env, b64, check, summary  # noqa: E402

EVBUS = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(HERE, "..", "..", "docs", "cli", "connector.md")
DETAIL_KEYS = ["topic", "partition", "offset", "timestamp", "timestampType", "headers", "key", "value"]


def run_until(env, name, props, url, want, form="properties", timeout=40, extra_env=None, proc=None):
    """Start a connector (or take the one started), drain `want` records
    from its queue, stop it."""
    p = proc or env.connector(name, props, form=form, env=extra_env)
    events, dups = env.drain(url, want, timeout=timeout)
    rc = env.stop(p)
    check(rc == 0, f"{name}: exit status {rc} after SIGTERM: {env.log_of(p)[-800:]}")
    check("evbus connector: stopped" in env.log_of(p), f"{name}: no stop line")
    return events, dups, p


def started(env, name, props, form="properties"):
    """A connector started now, for run_until(proc=...) later: connectors
    of independent steps run at once (each joins its group in ~3 s)."""
    return env.connector(name, props, form=form)


def cli_checks(env):
    yield
    r = subprocess.run([EVBUS, "connector"], capture_output=True, timeout=20)
    check(r.returncode == 64, f"no --config: status {r.returncode}")
    bad = env.config("bad", {"topics": "t", "aws.eventbridge.region": "us-east-1"})
    r = subprocess.run([EVBUS, "connector", "--config", bad], capture_output=True, timeout=20)
    check(r.returncode == 64 and b"aws.eventbridge.connector.id: required" in r.stderr,
          f"missing id: {r.returncode} {r.stderr!r}")
    bad = env.config("bad2", {**env.base_props("x", "t"), "aws.eventbridge.retries.max": "99"})
    r = subprocess.run([EVBUS, "connector", "--config", bad], capture_output=True, timeout=20)
    check(r.returncode == 64 and b"bad2.properties:" in r.stderr and b"not an integer from -1 to 10" in r.stderr,
          f"retries.max=99: {r.returncode} {r.stderr!r}")
    good = env.config("good", env.base_props("x", "t"))
    r = subprocess.run([EVBUS, "connector", "--config", good, "--check"], capture_output=True, timeout=20)
    check(r.returncode == 0 and b"configuration OK" in r.stdout, f"--check: {r.returncode} {r.stderr!r}")
    r = subprocess.run([EVBUS, "connector", "--properties"], capture_output=True, timeout=20)
    doc = open(DOC).read()
    start = doc.index("<!-- properties:begin -->\n") + len("<!-- properties:begin -->\n")
    end = doc.index("<!-- properties:end -->")
    check(r.returncode == 0 and r.stdout.decode() == doc[start:end],
          "docs/cli/connector.md's property table differs from `evbus connector --properties` "
          "(regenerate it)")


def json_values(env):
    url = env.sink("json")
    recs = []
    for i in range(30):
        r = {"topic": "j", "partition": i % 2, "key": f"user-{i}",
             "value": json.dumps({"n": i, "total": 100.5 + i, "tags": ["a", "b"], "nested": {"ok": True}}, indent=1),
             "headers": [["trace", f"t-{i}"], ["count", str(i)]]}
        if i % 10 == 3:
            r["key"] = None
        if i % 10 == 7:
            r["value"] = None  # tombstone
            r["headers"] = []
        recs.append(r)
    env.produce(recs)
    props = env.base_props("json", "j")
    p = started(env, "json", props, form="json")
    yield
    events, dups, _ = run_until(env, "json", props, url, 30, proc=p)
    check(len(events) == 30 and dups == 0, f"json: {len(events)} events, {dups} duplicates")
    by = {}
    for e in events:
        by[(e["detail"]["partition"], e["detail"]["offset"])] = e
    offsets = {0: 0, 1: 0}
    ok_shape = ok_values = True
    for i, r in enumerate(recs):
        p = r["partition"]
        e = by.get((p, offsets[p]))
        offsets[p] += 1
        if not e:
            ok_values = False
            continue
        d = e["detail"]
        ok_shape &= list(d.keys()) == DETAIL_KEYS
        ok_shape &= e["source"] == "kafka-connect.json" and e["detail-type"] == "kafka-connect-j"
        ok_shape &= d["timestampType"] == "CreateTime" and isinstance(d["timestamp"], int)
        want_value = None if r["value"] is None else json.loads(r["value"])
        want_headers = [{"trace": f"t-{i}"}, {"count": i}] if r["headers"] else []
        ok_values &= d["topic"] == "j" and d["key"] == r["key"] and d["value"] == want_value
        ok_values &= d["headers"] == want_headers
    check(ok_shape, "json: source, detail-type or detail key order differ from upstream's")
    check(ok_values, "json: a detail's topic, key, value or headers differ from the record's")


def string_values(env):
    url = env.sink("strs")
    env.produce([
        {"topic": "s", "key": "k1", "value": '{"looks":"like json"}'},
        {"topic": "s", "key": "k2", "value_b64": b64(b"caf\xc3\xa9 \xff\xfe end")},
        {"topic": "s", "key": None, "value": ""},
    ])
    props = env.base_props("strs", "s", **{"value_converter": "org.apache.kafka.connect.storage.StringConverter"})
    p = started(env, "strs", props)
    yield
    events, dups, _ = run_until(env, "strs", props, url, 3, proc=p)
    vals = sorted((e["detail"]["offset"], e["detail"]["key"], e["detail"]["value"]) for e in events)
    check(vals == [(0, "k1", '{"looks":"like json"}'), (1, "k2", "caf\u00e9 \ufffd\ufffd end"), (2, None, "")],
          f"strings: {vals}")


AVRO_SCHEMA = {
    "type": "record", "name": "Notification", "namespace": "demo",
    "fields": [
        {"name": "source", "type": "string"},
        {"name": "eventType", "type": {"type": "enum", "name": "Kind", "symbols": ["suspiciousActivity", "other"]}},
        {"name": "total", "type": "double"},
        {"name": "userId", "type": ["null", "string"], "default": None},
        {"name": "tag", "type": ["null", "string", "int"], "default": None},
        {"name": "raw", "type": "bytes"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "items", "type": {"type": "array", "items": "int"}},
        {"name": "attrs", "type": {"type": "map", "values": "string"}},
    ]}


def avro_values(env):
    url = env.sink("avro")
    schema = env.path("notification.avsc")
    with open(schema, "w") as f:
        json.dump(AVRO_SCHEMA, f)
    docs = [{"source": "transactionAnalyzer", "eventType": "suspiciousActivity", "total": 197.52 + i,
             "userId": f"u-{i}" if i % 2 else None, "tag": {"int": i} if i % 3 else {"string": "s"},
             "raw": "AQID", "at": 1695000000000 + i, "items": [i, i + 1], "attrs": {"k": str(i)}}
            for i in range(6)]
    conf = env.avro_encode("a-value", schema, docs[:3])
    glue = env.avro_encode("a-value", schema, docs[3:], glue=True)
    env.produce([{"topic": "a", "key": f"k{i}", "value_b64": v} for i, v in enumerate(conf + glue)])
    props = env.base_props("avro", "a", **{
        "value_converter": "io.confluent.connect.avro.AvroConverter",
        "value_converter_schema_registry_url": f"http://127.0.0.1:{env.port}"})
    p = started(env, "avro", props)
    yield
    events, dups, _ = run_until(env, "avro", props, url, 6, proc=p)
    got = {e["detail"]["offset"]: e["detail"]["value"] for e in events}
    want = {}
    for i, d in enumerate(docs):
        w = dict(d)
        w["tag"] = {"string": None, "int": i} if i % 3 else {"string": "s", "int": None}
        want[i] = w
    check(got == want, f"avro: decoded values differ:\n got {json.dumps(got, sort_keys=True)}\n"
                       f"want {json.dumps(want, sort_keys=True)}")


def detail_types(env):
    env.produce([{"topic": t, "key": "k", "value": json.dumps({"kind": k})}
                 for t, k in (("dt1", "Created"), ("dt2", "Deleted"), ("dt2", ""), ("dt1", None))])
    cases = [
        ("dtmap", {"aws.eventbridge.detail.types": "dt1:TypeOne"},
         {"dt1": ["TypeOne", "TypeOne"], "dt2": ["kafka-connect-dt2", "kafka-connect-dt2"]}),
        ("dttpl", {"aws.eventbridge.detail.types": "orders-${topic}"},
         {"dt1": ["orders-dt1"] * 2, "dt2": ["orders-dt2"] * 2}),
        ("dtstatic", {"aws.eventbridge.detail.types": "Static"}, {"dt1": ["Static"] * 2, "dt2": ["Static"] * 2}),
        ("dtpath", {"aws.eventbridge.detail.types.mapper.class":
                    "software.amazon.event.kafkaconnector.mapping.JsonPathDetailTypeMapper",
                    "aws.eventbridge.detail.types.jsonpathmapper.fieldref": "$.kind"},
         {"dt1": ["Created", "dt1"], "dt2": ["Deleted", "dt2"]}),
    ]
    runs = []
    for cid, extra, want in cases:
        url = env.sink(cid)
        props = {**env.base_props(cid, "dt1,dt2"), **extra}
        if cid == "dtpath":  # and topics.regex
            del props["topics"]
            props["topics.regex"] = "dt[0-9]"
        runs.append((cid, props, url, want, started(env, cid, props)))
    yield
    for cid, props, url, want, p in runs:
        events, dups, _ = run_until(env, cid, props, url, 4, proc=p)
        got = {}
        for e in sorted(events, key=lambda e: (e["detail"]["topic"], e["detail"]["offset"])):
            got.setdefault(e["detail"]["topic"], []).append(e["detail-type"])
        check(got == want, f"{cid}: detail types {got}, want {want}")


def batching(env):
    url = env.sink("batch")
    proxy = env.proxy()
    small = [{"topic": "big", "key": f"s{i}", "value": json.dumps({"i": i})} for i in range(12)]
    large = [{"topic": "big", "key": f"l{i}", "value": json.dumps({"pad": "x" * 100000, "i": i})} for i in range(25)]
    huge = [{"topic": "big", "key": "huge", "value": json.dumps({"pad": "y" * 300000}),
             "headers": [["origin", "test"]]}]
    env.produce(small + large + huge)
    props = env.base_props("batch", "big", endpoint=proxy.url(), **{
        "errors_tolerance": "all", "errors.deadletterqueue.topic.name": "big-dlq",
        "evbus.max.in.flight": "2"})
    p = started(env, "batch", props)
    yield
    events, dups, p = run_until(env, "batch", props, url, 37, timeout=60, proc=p)
    check(len(events) == 37 and dups == 0, f"batching: {len(events)} events, {dups} duplicates")
    calls = proxy.calls
    check(calls and all(len(s) <= 10 for _, s, _, _ in calls), "batching: a call with more than 10 entries")
    check(all(sum(s) <= 262144 for _, s, _, _ in calls), "batching: a call over 262144 bytes")
    check(any(len(s) == 10 for _, s, _, _ in calls), f"batching: no full batch of 10: {[len(s) for _, s, _, _ in calls]}")
    check(sum(len(s) for _, s, _, _ in calls) == 37, "batching: the oversized entry was sent")
    # the oversized record in the DLQ, read back by another connector
    dl = env.sink("batchdlq")
    props = env.base_props("batchdlq", "big-dlq", **{"value_converter": "string",
                                                      "evbus.batch.max.bytes": "1048576"})
    events, _, _ = run_until(env, "batchdlq", props, dl, 1)
    hdrs = {}
    for h in events[0]["detail"]["headers"] if events else []:
        hdrs.update(h)
    check(len(events) == 1 and events[0]["detail"]["key"] == "huge" and
          len(events[0]["detail"]["value"]) > 300000, "batching: oversized record not in the DLQ")
    check(hdrs.get("origin") == "test" and hdrs.get("__connect.errors.stage") == "TASK_PUT" and
          "batch size limit exceeded" in str(hdrs.get("__connect.errors.exception.message")),
          f"batching: DLQ headers {hdrs}")


def dead_letters(env):
    url = env.sink("dlq")
    proxy = env.proxy()
    proxy.mode = "reject"
    env.produce([
        {"topic": "bad", "key": "a", "value": '{"ok":1}'},
        {"topic": "bad", "key": "b", "value": "{broken", "headers": [["orig", "h"]]},
        {"topic": "bad", "key": "c", "value": '{"say":"reject-me"}'},
        {"topic": "bad", "key": "d", "value": '{"ok":2}'},
    ])
    props = env.base_props("dlq", "bad", endpoint=proxy.url(), **{
        "errors_tolerance": "all", "errors.deadletterqueue.topic.name": "bad-dlq"})
    p = started(env, "dlq", props)
    yield
    events, dups, p = run_until(env, "dlq", props, url, 2, proc=p)
    check(sorted(e["detail"]["key"] for e in events) == ["a", "d"], f"dlq: sent {[e['detail']['key'] for e in events]}")
    check("dead-lettered=2" in env.log_of(p), f"dlq: stats {env.log_of(p)[-400:]}")
    url2 = env.sink("dlqread")
    props = env.base_props("dlqread", "bad-dlq", **{"value_converter": "string"})
    events, _, _ = run_until(env, "dlqread", props, url2, 2)
    by = {e["detail"]["key"]: e["detail"] for e in events}
    b, c = by.get("b"), by.get("c")
    check(b is not None and c is not None, f"dlq: dead letters {list(by)}")
    if not (b and c):
        return
    hb = {}
    for h in b["headers"]:
        hb.update(h)
    check(b["value"] == "{broken" and b["headers"][0] == {"orig": "h"}, f"dlq: original record {b}")
    want_b = {"__connect.errors.topic": "bad", "__connect.errors.partition": 0,
              "__connect.errors.offset": 1, "__connect.errors.connector.name": "dlq",
              "__connect.errors.task.id": 0, "__connect.errors.stage": "VALUE_CONVERTER",
              "__connect.errors.class.name": "org.apache.kafka.connect.json.JsonConverter",
              "__connect.errors.exception.class.name": "org.apache.kafka.connect.errors.DataException"}
    check(all(hb.get(k) == v for k, v in want_b.items()), f"dlq: headers of the bad value {hb}")
    check("Converting byte[] to Kafka Connect data failed" in hb.get("__connect.errors.exception.message", ""),
          f"dlq: message {hb.get('__connect.errors.exception.message')}")
    hc = {}
    for h in c["headers"]:
        hc.update(h)
    check(hc.get("__connect.errors.stage") == "TASK_PUT" and hc.get("__connect.errors.offset") == 2 and
          hc.get("__connect.errors.exception.class.name", "").endswith("EventBridgePartialFailureResponse") and
          "MalformedDetail" in hc.get("__connect.errors.exception.message", ""), f"dlq: headers of the refused entry {hc}")


def tolerance_none(env):
    url = env.sink("strict")
    env.produce([{"topic": "none1", "key": "a", "value": '{"ok":1}'},
                 {"topic": "none1", "key": "b", "value": "nope"},
                 {"topic": "none1", "key": "c", "value": '{"ok":3}'}])
    props = env.base_props("strict", "none1")
    p = env.connector("strict", props)
    yield
    try:
        rc = p.wait(timeout=40)
    except subprocess.TimeoutExpired:
        rc = None
    log = env.log_of(p)
    check(rc == 1 and "none1 [0] offset 1 failed (VALUE_CONVERTER)" in log and
          "errors.tolerance=none stops the connector" in log, f"tolerance none: status {rc}: {log[-600:]}")
    events, _ = env.drain(url, 1, timeout=10)
    check([e["detail"]["key"] for e in events] == ["a"], f"tolerance none: sent {[e['detail']['key'] for e in events]}")
    # the same group again, tolerating: the bad record is skipped, c is sent
    props["errors.tolerance"] = "all"
    p = env.connector("strict", props, run=1)
    events, dups = env.drain(url, 1, timeout=40)
    check([e["detail"]["key"] for e in events] == ["c"], f"restart: sent {[e['detail']['key'] for e in events]}")
    env.stop(p)
    check("dead-letter queue not configured: skipping failed record" in env.log_of(p), "restart: no skip line")


def main():
    steps = [cli_checks, json_values, string_values, avro_values, detail_types, batching,
             dead_letters, tolerance_none]
    with Env(EVBUS) as env:
        env.start_mock(["j:2", "s:1", "a:1", "dt1:1", "dt2:1", "big:1", "bad:1", "none1:1"])
        env.start_serve()
        t0 = time.monotonic()
        running = []
        for f in steps:  # set up every step and start its connectors ...
            g = f(env)
            try:
                next(g)
                running.append((f, g))
            except StopIteration:
                pass
            except Exception as e:  # a broken step must not hide the others
                check(False, f"{f.__name__}: {type(e).__name__}: {e}")
        for f, g in running:  # ... then check each
            try:
                next(g)
            except StopIteration:
                pass
            except Exception as e:
                check(False, f"{f.__name__}: {type(e).__name__}: {e}")
            print(f"{f.__name__}: done at {time.monotonic() - t0:.1f} s", flush=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
