#!/usr/bin/env python3
"""InvocationRateLimitPerSecond end to end: PutEvents -> rule -> API
destination -> the loopback test receiver, through `evbus serve`.

A burst of N events for a destination limited to RATE invocations a
second must reach the receiver at that rate (measured over the arrivals,
within 10%), every one of them (excess invocations wait, they are not
dropped), and none dead-lettered.

    delivery_rate.py EVBUS_PORT WORKDIR [RATE] [N]

Prints what it measured and "N passed, M failed"; exits non-zero on a
failure.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import delivery_lib as dl  # noqa: E402

PORT = int(sys.argv[1])
WORK = sys.argv[2]
RATE = int(sys.argv[3]) if len(sys.argv) > 3 else 20
N = int(sys.argv[4]) if len(sys.argv) > 4 else 81

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what, flush=True)


def main():
    api = dl.Api(PORT)
    rcv = dl.Receiver(WORK, ttl=120)
    rcv.start()
    try:
        run(api, rcv)
    finally:
        rcv.kill()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def run(api, rcv):
    dest = dl.api_destination(
        api, "slow", "http://127.0.0.1:%d/slow" % rcv.port, rate=RATE)
    d = api.events("DescribeApiDestination", {"Name": "slow"})
    check(d.get("InvocationRateLimitPerSecond") == RATE,
          "DescribeApiDestination: %s" % d)
    dlq = dl.create_queue(api, "rate-dlq")
    api.events("PutRule", {"Name": "rate",
                           "EventPattern": '{"source":["rate.test"]}'})
    api.events("PutTargets", {"Rule": "rate", "Targets": [{
        "Id": "slow", "Arn": dest,
        "DeadLetterConfig": {"Arn": dl.queue_arn("rate-dlq")}}]})
    ids = []
    t0 = time.time()
    for k in range(0, N, 10):
        r = api.events("PutEvents", {"Entries": [
            {"Source": "rate.test", "DetailType": "t",
             "Detail": '{"n":%d}' % i} for i in range(k, min(N, k + 10))]})
        check(r.get("FailedEntryCount") == 0, "PutEvents: %s" % r)
        ids += [e["EventId"] for e in r["Entries"]]
    sent = time.time() - t0
    deadline = t0 + N / RATE * 1.5 + 10
    reqs = []
    while time.time() < deadline:
        reqs = rcv.requests("/slow")
        if len(reqs) >= N:
            break
        time.sleep(0.2)
    got = dl.event_ids(reqs)
    check(set(got) == set(ids), "%d of %d events delivered" %
          (len(set(got) & set(ids)), N))
    check(len(got) == N, "%d requests for %d events" % (len(got), N))
    if len(reqs) >= 2:
        ts = sorted(r["t"] for r in reqs)
        rate = (len(ts) - 1) / (ts[-1] - ts[0])
        print("sent %d events in %.2f s; %d arrived at %.2f invocations/s "
              "(configured %d)" % (N, sent, len(ts), rate, RATE), flush=True)
        check(abs(rate - RATE) <= RATE * 0.10,
              "measured %.2f invocations/s, configured %d" % (rate, RATE))
        # no second of arrivals holds more than the rate (burst 1)
        worst = max(sum(1 for t in ts if s <= t < s + 1.0) for s in ts)
        check(worst <= RATE + 1, "%d arrivals within one second" % worst)
    check(not dl.receive_all(api, dlq), "events were dead-lettered")


if __name__ == "__main__":
    sys.exit(main())
