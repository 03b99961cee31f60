#!/usr/bin/env python3
"""`evbus connector` when things go wrong; nothing may be lost.

Usage: connector_failures.py PATH/TO/evbus

- outage: the endpoint answers 503 for a while, then recovers; every
  record arrives exactly once, and the retries of a batch wait
  exponentially longer (with jitter);
- throttling: entries answered ThrottlingException are retried (upstream
  drops them); every record arrives exactly once;
- retries exhausted: the connector stops (status 1) with the reason and
  commits nothing it did not send; a restart after the endpoint recovered
  sends everything;
- kill -9 in the middle of a stream, then a restart: every record
  arrives, and the duplicates are at most one cycle
  (evbus.poll.max.records) of records.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from connector_lib import Env, check, summary  # noqa: E402

EVBUS = sys.argv[1]


def wait_for(cond, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def outage(env):
    url = env.sink("outage")
    proxy = env.proxy()
    proxy.mode = "down"
    env.produce([{"topic": "f1", "partition": i % 2, "key": f"k{i}", "value": json.dumps({"i": i})}
                 for i in range(50)])
    props = env.base_props("outage", "f1", endpoint=proxy.url(), **{
        "aws.eventbridge.retries.max": "10", "aws.eventbridge.retries.delay": "100",
        "evbus.retries.delay.max": "1600"})
    p = env.connector("outage", props)
    yield
    # a batch failed at least 4 times in a row
    def failures_of_one_batch():
        by = {}
        for t, _, st, first in list(proxy.calls):
            if st == 503:
                by.setdefault(first, []).append(t)
        return max(by.values(), key=len) if by else []
    check(wait_for(lambda: len(failures_of_one_batch()) >= 4, 30), "outage: fewer than 4 failed calls")
    times = failures_of_one_batch()
    gaps = [b - a for a, b in zip(times, times[1:])]
    # delay n is in [100*2^(n-1)/2, 100*2^(n-1)] ms: each at least the one before
    check(len(gaps) >= 3 and gaps[0] >= 0.045 and gaps[1] >= 0.095 and gaps[2] >= 0.195 and
          gaps[0] <= gaps[1] + 0.05 and gaps[1] <= gaps[2] + 0.05,
          f"outage: retry gaps {[round(g, 3) for g in gaps]} are not exponential")
    proxy.mode = "ok"
    events, dups = env.drain(url, 50, timeout=30)
    check(len(events) == 50 and dups == 0, f"outage: {len(events)} records, {dups} duplicates")
    rc = env.stop(p)
    log = env.log_of(p)
    check(rc == 0 and "ServiceUnavailable" in log and "retried in" in log, f"outage: status {rc}: {log[-600:]}")


def throttling(env):
    url = env.sink("throttle")
    proxy = env.proxy()
    proxy.mode = "throttle"
    proxy.throttle_budget = 25
    env.produce([{"topic": "f2", "key": f"k{i}", "value": json.dumps({"i": i})} for i in range(40)])
    props = env.base_props("throttle", "f2", endpoint=proxy.url(), **{
        "aws.eventbridge.retries.max": "10", "aws.eventbridge.retries.delay": "50"})
    p = env.connector("throttle", props)
    yield
    events, dups = env.drain(url, 40, timeout=30)
    check(len(events) == 40 and dups == 0, f"throttling: {len(events)} records, {dups} duplicates")
    check(proxy.throttle_budget == 0, f"throttling: budget left {proxy.throttle_budget}")
    rc = env.stop(p)
    log = env.log_of(p)
    check(rc == 0 and "failed with ThrottlingException" in log and " retries=0 " not in log.splitlines()[-2],
          f"throttling: {log[-600:]}")


def exhausted(env):
    url = env.sink("exhaust")
    proxy = env.proxy()
    proxy.mode = "down"
    env.produce([{"topic": "f3", "key": f"k{i}", "value": json.dumps({"i": i})} for i in range(10)])
    props = env.base_props("exhaust", "f3", endpoint=proxy.url(), **{
        "aws.eventbridge.retries.max": "2", "aws.eventbridge.retries.delay": "50"})
    p = env.connector("exhaust", props)
    yield
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        rc = None
    log = env.log_of(p)
    check(rc == 1 and "PutEvents failed 3 times (aws.eventbridge.retries.max=2)" in log and
          "left uncommitted" in log and "HTTP 503 ServiceUnavailable" in log, f"exhausted: status {rc}: {log[-800:]}")
    proxy.mode = "ok"
    p = env.connector("exhaust", props, run=1)
    events, dups = env.drain(url, 10, timeout=30)
    check(len(events) == 10 and dups == 0, f"exhausted, restarted: {len(events)} records, {dups} duplicates")
    env.stop(p)


def crash(env):
    n, cycle = 3000, 100
    url = env.sink("crash")
    proxy = env.proxy()
    proxy.mode = "slow"
    proxy.delay = 0.01
    env.produce([{"topic": "crash", "partition": i % 4, "key": f"k{i}", "value": json.dumps({"i": i})}
                 for i in range(n)])
    props = env.base_props("crash", "crash", endpoint=proxy.url(), **{
        "evbus.poll.max.records": str(cycle), "evbus.max.in.flight": "2"})
    yield
    p = env.connector("crash", props)
    state = {}
    env.drain(url, 700, timeout=40, quiet=0, state=state)
    check(len(state["seen"]) >= 700, f"crash: only {len(state['seen'])} records before the kill")
    check(len(state["seen"]) < n, "crash: everything was sent before the kill")
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    before = len(state["seen"])
    p = env.connector("crash", props, run=1)
    events, dups = env.drain(url, n, timeout=45, state=state)
    check(len(events) == n, f"crash: {len(events)} of {n} records after the restart ({before} before the kill)")
    check(dups <= cycle, f"crash: {dups} duplicates, more than one cycle ({cycle})")
    print(f"crash: {before} records before kill -9, {dups} duplicates after the restart", flush=True)
    rc = env.stop(p)
    check(rc == 0, f"crash: restarted connector exit status {rc}")


def main():
    steps = [outage, throttling, exhausted, crash]
    with Env(EVBUS) as env:
        env.start_mock(["f1:2", "f2:1", "f3:1", "crash:4"])
        env.start_serve()
        t0 = time.monotonic()
        running = []
        for f in steps:
            g = f(env)
            try:
                next(g)
                running.append((f, g))
            except StopIteration:
                pass
            except Exception as e:
                check(False, f"{f.__name__}: {type(e).__name__}: {e}")
        for f, g in running:
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
