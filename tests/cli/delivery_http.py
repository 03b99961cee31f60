#!/usr/bin/env python3
"""API destinations end to end: PutEvents -> rule -> API destination ->
the loopback test receiver, through `evbus serve`.

- InvocationRateLimitPerSecond: a burst of N events for a destination
  limited to RATE invocations a second reaches the receiver at that rate
  (measured over the arrivals, within 10%), every one of them (excess
  invocations wait, they are not dropped), none dead-lettered.
- HttpParameters: the target's PathParameterValues fill the endpoint's
  '*', its headers and query parameters are sent, merged with the
  connection's InvocationHttpParameters (the connection wins), with the
  connection's Basic authorization and EventBridge's headers; an
  InputTransformer shapes the body.

    delivery_http.py EVBUS_PORT WORKDIR [RATE] [N]

Prints what it measured and "N passed, M failed"; exits non-zero on a
failure.
"""
import http.client
import json
import os
import re
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
        rate_limit(api, rcv)
        parameters(api, rcv)
    finally:
        rcv.kill()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def rate_limit(api, rcv):
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
    # waiting for the destination's rate limit is a throttled rule
    # (ThrottledRules): most of the N events waited their turn
    c = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    m = re.search(r'^evbus_throttled_rules_total\{bus="default",'
                  r'rule="rate"\} (\d+)$', text, re.M)
    throttled = int(m.group(1)) if m else 0
    check(N // 2 <= throttled <= N,
          "ThrottledRules for the rate-limited rule: %d of %d" % (throttled, N))


def parameters(api, rcv):
    conn = api.events("CreateConnection", {
        "Name": "basic", "AuthorizationType": "BASIC",
        "AuthParameters": {
            "BasicAuthParameters": {"Username": "u", "Password": "p"},
            "InvocationHttpParameters": {
                "HeaderParameters": [
                    {"Key": "X-Both", "Value": "conn"},
                    {"Key": "X-Conn", "Value": "c", "IsValueSecret": True}],
                "QueryStringParameters": [
                    {"Key": "both", "Value": "conn"}]}}})
    dest = api.events("CreateApiDestination", {
        "Name": "params", "ConnectionArn": conn["ConnectionArn"],
        "InvocationEndpoint": "http://127.0.0.1:%d/p/*/items/*" % rcv.port,
        "HttpMethod": "PUT"})["ApiDestinationArn"]
    api.events("PutRule", {"Name": "params",
                           "EventPattern": '{"source":["params.test"]}'})
    r = api.events("PutTargets", {"Rule": "params", "Targets": [{
        "Id": "p", "Arn": dest,
        "HttpParameters": {
            "PathParameterValues": ["a b", "7"],
            "HeaderParameters": {"X-Both": "target", "X-Target": "t"},
            "QueryStringParameters": {"both": "target", "q": "1 2"}},
        "InputTransformer": {"InputPathsMap": {"n": "$.detail.n"},
                             "InputTemplate": '{"number": <n>}'}}]})
    check(r.get("FailedEntryCount") == 0, "PutTargets: %s" % r)
    r = api.events("PutEvents", {"Entries": [{
        "Source": "params.test", "DetailType": "t", "Detail": '{"n": 42}'}]})
    check(r.get("FailedEntryCount") == 0, "PutEvents: %s" % r)
    path = "/p/a%20b/items/7"
    deadline = time.time() + 10
    reqs = []
    while time.time() < deadline and not reqs:
        reqs = rcv.requests(path)
        time.sleep(0.1)
    check(len(reqs) == 1, "%d requests on %s: %s" %
          (len(reqs), path, [x["path"] for x in rcv.requests()][-3:]))
    if not reqs:
        return
    q = reqs[0]
    h = q["headers"]
    want = {"x-both": "conn", "x-conn": "c", "x-target": "t",
            "authorization": "Basic dTpw",
            "user-agent": "Amazon/EventBridge/ApiDestinations",
            "content-type": "application/json; charset=utf-8"}
    got = {k: h.get(k) for k in want}
    check(got == want, "headers %s, want %s" % (got, want))
    check(q["method"] == "PUT", "method %s" % q["method"])
    query = sorted(q["query"].split("&"))
    check(query in (["both=conn", "q=1%202"], ["both=conn", "q=1+2"]),
          "query %s" % q["query"])
    check(json.loads(q["body"]) == {"number": 42}, "body %r" % q["body"])


if __name__ == "__main__":
    sys.exit(main())
