#!/usr/bin/env python3
"""Crash test with retries pending (driven by test_retry_crash.sh).

One rule, four API-destination targets on the loopback test receiver,
each with its own RetryPolicy and dead-letter queue:

  keep     /keep     185 retries, 3600 s   503 before the crash, 200 after:
                                           every event delivered, DLQ empty
  exhaust  /exhaust  3 retries             503 always: every event in its
                                           DLQ, EXHAUSTED_RETRY_CONDITION
                                           MaximumRetryAttempts,
                                           RETRY_ATTEMPTS 3
  zero     /zero     0 retries             503: DLQ at once, RETRY_ATTEMPTS 0
  bad      /bad      (defaults)            400, not retriable: DLQ at once,
                                           no EXHAUSTED_RETRY_CONDITION

Phases (the script keeps its state in WORKDIR/state.json):

  before PORT WORKDIR RPORT   set up, send N events, return as soon as the
                              first attempts of keep and exhaust reached
                              the receiver (their retries are pending)
  between WORKDIR RPORT       (server dead) the receiver now answers /keep
  after PORT WORKDIR RPORT    (server restarted on the same data dir)
                              check every event's fate

Prints "N passed, M failed" per phase; exits non-zero on a failure.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import delivery_lib as dl  # noqa: E402

N = 10
RULE_ARN = "arn:aws:events:%s:%s:rule/crash" % (dl.REGION, dl.ACCOUNT)
TARGETS = {  # id: (RetryPolicy or None, answer)
    "keep": ({"MaximumRetryAttempts": 185,
              "MaximumEventAgeInSeconds": 3600}, 503),
    "exhaust": ({"MaximumRetryAttempts": 3}, 503),
    "zero": ({"MaximumRetryAttempts": 0}, 503),
    "bad": (None, 400),
}
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what, flush=True)


def receiver(work, rport):
    r = dl.Receiver(work, port=rport)
    return r


def plan(rcv, keep_ok):
    rcv.control("/_control/reset")
    for tid, (_, status) in TARGETS.items():
        if tid == "keep" and keep_ok:
            continue
        rcv.respond("/" + tid, status, times=100000)


def before(port, work, rport):
    api = dl.Api(port)
    rcv = receiver(work, rport)
    plan(rcv, keep_ok=False)
    state = {"dest": {}, "dlq": {}}
    targets = []
    for tid, (policy, _) in TARGETS.items():
        arn = dl.api_destination(api, tid,
                                 "http://127.0.0.1:%d/%s" % (rport, tid))
        state["dest"][tid] = arn
        state["dlq"][tid] = dl.create_queue(api, "dlq-" + tid)
        t = {"Id": tid, "Arn": arn,
             "DeadLetterConfig": {"Arn": dl.queue_arn("dlq-" + tid)}}
        if policy:
            t["RetryPolicy"] = policy
        targets.append(t)
    api.events("PutRule", {"Name": "crash",
                           "EventPattern": '{"source":["crash.test"]}'})
    r = api.events("PutTargets", {"Rule": "crash", "Targets": targets})
    check(r.get("FailedEntryCount") == 0, "PutTargets: %s" % r)
    r = api.events("PutEvents", {"Entries": [
        {"Source": "crash.test", "DetailType": "t", "Detail": '{"n":%d}' % i}
        for i in range(N)]})
    check(r.get("FailedEntryCount") == 0, "PutEvents: %s" % r)
    state["ids"] = [e["EventId"] for e in r["Entries"]]
    # the first attempts of keep and exhaust: then retries are pending
    deadline = time.time() + 15
    while time.time() < deadline:
        if (len(rcv.requests("/keep")) >= N and
                len(rcv.requests("/exhaust")) >= N):
            break
        time.sleep(0.05)
    first = {t: len(rcv.requests("/" + t)) for t in TARGETS}
    print("before the crash: attempts per target %s" % first, flush=True)
    check(first["keep"] >= N and first["exhaust"] >= N,
          "first attempts did not come: %s" % first)
    # exhaust needs 3 more attempts, 3.5 s apart at least: not done yet
    check(first["exhaust"] < 4 * N,
          "exhaust finished its retries before the crash: %s" % first)
    state["t_crash"] = time.time()
    with open(os.path.join(work, "state.json"), "w") as f:
        json.dump(state, f)


def between(work, rport):
    plan(receiver(work, rport), keep_ok=True)


def after(port, work, rport):
    with open(os.path.join(work, "state.json")) as f:
        state = json.load(f)
    ids = set(state["ids"])
    api = dl.Api(port)
    rcv = receiver(work, rport)

    # keep: every event delivered (answered 200) after the restart
    deadline = time.time() + 30
    got = set()
    while time.time() < deadline:
        got = set(dl.event_ids(r for r in rcv.requests("/keep")
                               if r["t"] > state["t_crash"]))
        if ids <= got:
            break
        time.sleep(0.2)
    check(ids <= got, "keep: %d of %d events delivered after the restart" %
          (len(ids & got), N))
    check(not dl.receive_all(api, state["dlq"]["keep"]),
          "keep: something was dead-lettered")

    # the others: everything in its DLQ, with the right attributes
    want = {
        "exhaust": {"EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
                    "RETRY_ATTEMPTS": "3", "ERROR_CODE": "HTTP_ERROR"},
        "zero": {"EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
                 "RETRY_ATTEMPTS": "0", "ERROR_CODE": "HTTP_ERROR"},
        "bad": {"EXHAUSTED_RETRY_CONDITION": None, "RETRY_ATTEMPTS": "0",
                "ERROR_CODE": "HTTP_ERROR"},
    }
    status = {"exhaust": 503, "zero": 503, "bad": 400}
    for tid, w in want.items():
        msgs = dl.receive_all(api, state["dlq"][tid], max_wait=30, want=N)
        bodies = [json.loads(m["Body"]) for m in msgs]
        check(len(msgs) == N and {b["id"] for b in bodies} == ids,
              "%s: %d dead letters for %d events" % (tid, len(msgs), N))
        for m, b in zip(msgs, bodies):
            a = dl.attrs(m)
            exp = dict(w, RULE_ARN=RULE_ARN, TARGET_ARN=state["dest"][tid])
            bad = {k: (a.get(k), v) for k, v in exp.items() if a.get(k) != v}
            check(not bad, "%s: attributes (got, want) %s" % (tid, bad))
            check(("HTTP %d" % status[tid]) in (a.get("ERROR_MESSAGE") or ""),
                  "%s: ERROR_MESSAGE %r" % (tid, a.get("ERROR_MESSAGE")))
            check(b.get("source") == "crash.test" and "detail" in b,
                  "%s: the body is not the original event: %s" % (tid, b))
        # nothing more arrives later
        check(not dl.receive_all(api, state["dlq"][tid], max_wait=2),
              "%s: more dead letters than events" % tid)
    # exhaust: 1 + 3 attempts per event; an attempt cut short by the crash
    # (made, not yet recorded) may be repeated once after the restart
    per = {}
    for i in dl.event_ids(rcv.requests("/exhaust")):
        per[i] = per.get(i, 0) + 1
    check(set(per) == ids and all(4 <= n <= 5 for n in per.values()),
          "exhaust: attempts per event %s" % sorted(per.values()))
    late = [r for r in rcv.requests("/exhaust") if r["t"] > state["t_crash"]]
    check(late, "exhaust: no retry after the restart (none was pending?)")
    for tid in ("zero", "bad"):
        per = {}
        for i in dl.event_ids(rcv.requests("/" + tid)):
            per[i] = per.get(i, 0) + 1
        check(set(per) == ids and all(n <= 2 for n in per.values()),
              "%s: attempts per event %s" % (tid, sorted(per.values())))
    print("after the restart: keep delivered %d/%d; exhaust attempts %d "
          "(%d after the restart)" %
          (len(ids & got), N, len(rcv.requests("/exhaust")), len(late)),
          flush=True)


def main():
    phase = sys.argv[1]
    if phase == "before":
        before(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    elif phase == "between":
        between(sys.argv[2], int(sys.argv[3]))
    elif phase == "after":
        after(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    else:
        raise SystemExit("unknown phase " + phase)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
