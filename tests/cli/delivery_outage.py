#!/usr/bin/env python3
"""Outage test: an API destination's receiver is down for 60 seconds under
steady PutEvents load, then comes back; every acknowledged event is
delivered (by event id), none is lost and none is dead-lettered.

A rule sends every event of source "outage.test" to an API destination on
the loopback test receiver (RetryPolicy 185 attempts / 3600 s, so nothing
may exhaust, and a dead-letter queue that must stay empty). A load thread
sends RATE events a second (PutEvents of 10 entries) for the whole run.
The receiver is killed (SIGKILL: connections refused) DOWN_AT seconds in,
started again on the same port DOWN seconds later, and the load stops a
few seconds after that. Recovery is bounded by the delivery's backoff:
with 1 s doubling to 5 minutes (jitter in the upper half), the retry that
crosses a 60 s outage is at most ~64 s away, so the test waits up to
RECOVERY_S for the backlog.

    delivery_outage.py EVBUS_PORT WORKDIR [DOWN_SECONDS] [RATE]

Prints what it measured and "N passed, M failed"; exits non-zero on a
failure.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import delivery_lib as dl  # noqa: E402

PORT = int(sys.argv[1])
WORK = sys.argv[2]
DOWN = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
RATE = int(sys.argv[4]) if len(sys.argv) > 4 else 100
DOWN_AT = 3.0      # seconds of load before the outage
TAIL = 5.0         # seconds of load after the receiver is back
RECOVERY_S = 75.0  # most time allowed for the backlog after it is back

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what, flush=True)


def load(stop, acked, errors):
    """RATE events a second, 10 per PutEvents, until stop is set."""
    api = dl.Api(PORT)
    n = 0
    t0 = time.time()
    while not stop.is_set():
        entries = [{"Source": "outage.test", "DetailType": "tick",
                    "Detail": '{"n": %d}' % (n + i)} for i in range(10)]
        n += 10
        try:
            r = api.events("PutEvents", {"Entries": entries})
            for e in r.get("Entries", []):
                if e.get("EventId") and not e.get("ErrorCode"):
                    acked.append(e["EventId"])
                else:
                    errors.append(e)
        except Exception as ex:  # counted; the test fails on any
            errors.append(str(ex))
        # keep the pace: the k-th batch goes out at k * 10 / RATE seconds
        delay = t0 + n / RATE - time.time()
        if delay > 0:
            stop.wait(delay)
    api.close()


def main():
    api = dl.Api(PORT)
    rcv = dl.Receiver(WORK, ttl=DOWN + 200)
    rcv.start()
    try:
        run(api, rcv)
    finally:
        rcv.kill()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def run(api, rcv):
    dest = dl.api_destination(
        api, "outage", "http://127.0.0.1:%d/outage" % rcv.port, rate=1000)
    dlq_url = dl.create_queue(api, "outage-dlq")
    api.events("PutRule", {"Name": "outage",
                           "EventPattern": '{"source":["outage.test"]}'})
    r = api.events("PutTargets", {"Rule": "outage", "Targets": [{
        "Id": "dest", "Arn": dest,
        "RetryPolicy": {"MaximumRetryAttempts": 185,
                        "MaximumEventAgeInSeconds": 3600},
        "DeadLetterConfig": {"Arn": dl.queue_arn("outage-dlq")}}]})
    check(r.get("FailedEntryCount") == 0, "PutTargets: %s" % r)

    acked, errors = [], []
    stop = threading.Event()
    loader = threading.Thread(target=load, args=(stop, acked, errors))
    t0 = time.time()
    loader.start()
    try:
        time.sleep(DOWN_AT)
        delivered_before = len(rcv.requests("/outage"))
        rcv.kill()
        t_down = time.time()
        acked_at_down = len(acked)
        print("receiver down at %.1f s (%d events acked, %d delivered)" %
              (t_down - t0, acked_at_down, delivered_before), flush=True)
        time.sleep(DOWN)
        rcv.start()
        t_up = time.time()
        print("receiver up again at %.1f s (%d events acked, %d during the "
              "outage)" % (t_up - t0, len(acked), len(acked) - acked_at_down),
              flush=True)
        time.sleep(TAIL)
    finally:
        stop.set()
        loader.join(30)
    check(not errors, "PutEvents failures: %s" % errors[:3])
    check(len(acked) >= RATE * (DOWN_AT + DOWN) * 0.8,
          "only %d events acknowledged, want about %d" %
          (len(acked), RATE * (DOWN_AT + DOWN + TAIL)))
    check(delivered_before > 0, "nothing delivered before the outage")

    # wait for the backlog
    want = set(acked)
    deadline = t_up + RECOVERY_S
    missing = want
    while time.time() < deadline:
        missing = want - set(dl.event_ids(rcv.requests("/outage")))
        if not missing:
            break
        time.sleep(0.5)
    t_done = time.time()
    reqs = rcv.requests("/outage")
    ids = dl.event_ids(reqs)
    print("%d events acknowledged, %d requests received (%d distinct "
          "events, %d duplicates); backlog cleared %.1f s after the "
          "receiver came back" %
          (len(want), len(reqs), len(set(ids) & want),
           len(ids) - len(set(ids)), t_done - t_up), flush=True)
    check(not missing, "%d of %d events never delivered (e.g. %s)" %
          (len(missing), len(want), sorted(missing)[:3]))
    check(set(ids) <= want, "deliveries of events nobody sent: %s" %
          sorted(set(ids) - want)[:3])
    # a delivery made during the outage would mean the receiver was not down
    during = [r for r in reqs if t_down + 0.5 < r["t"] < t_up - 0.5]
    check(not during, "%d requests received while the receiver was down" %
          len(during))
    # the API key of the connection was sent with every one
    check(all(r["headers"].get("x-api-key") == "k-outage" for r in reqs),
          "a request without the connection's API key")
    # nothing was dead-lettered
    dead = dl.receive_all(api, dlq_url)
    check(not dead, "%d events dead-lettered, e.g. %s" %
          (len(dead), dead[:1]))


if __name__ == "__main__":
    sys.exit(main())
