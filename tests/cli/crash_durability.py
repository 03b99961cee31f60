#!/usr/bin/env python3
"""Crash test: acknowledged events are never lost.

Starts `evbus serve` on a fixed free loopback port and a fresh data dir,
creates a rule that sends every event from source "crash" to a log group,
then drives PutEvents from several keep-alive connections while killing
the server with SIGKILL at random moments (KILLS times) and restarting it
on the same data dir. Every EventId the server acknowledged (HTTP 200,
entry without ErrorCode) is recorded. At the end the server is left to
drain its deliveries, stopped cleanly, and the log group is read straight
from the SQLite file: every acknowledged EventId must be there at least
once.

usage: crash_durability.py EVBUS [KILLS] [SECONDS_BETWEEN_KILLS]
Prints "N passed, M failed" and exits non-zero on a lost event.
"""
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

EVBUS = sys.argv[1]
KILLS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
GAP = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
rng = random.Random(20261126)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


PORT = free_port()
DATA = tempfile.mkdtemp(prefix="evb-crash-")
server = None


def start():
    global server
    server = subprocess.Popen(
        [EVBUS, "serve", "--listen", "127.0.0.1:%d" % PORT, "--data-dir",
         os.path.join(DATA, "d")],
        stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            c = socket.create_connection(("127.0.0.1", PORT), timeout=0.2)
            c.close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def call(conn, action, body):
    conn.request("POST", "/", json.dumps(body), {
        "X-Amz-Target": "AWSEvents." + action,
        "Content-Type": "application/x-amz-json-1.1"})
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"{}")


acked = set()
acked_lock = threading.Lock()
stop = threading.Event()
errors = [0]


def loader(n):
    conn = None
    seq = 0
    while not stop.is_set():
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            entries = [{"Source": "crash", "DetailType": "t",
                        "Detail": json.dumps({"w": n, "i": seq + k})}
                       for k in range(10)]
            seq += 10
            st, body = call(conn, "PutEvents", {"Entries": entries})
            if st == 200:
                ids = [e["EventId"] for e in body.get("Entries", [])
                       if "EventId" in e and "ErrorCode" not in e]
                with acked_lock:
                    acked.update(ids)
        except (OSError, http.client.HTTPException, ValueError):
            # the server died under us: nothing from this call was acked
            errors[0] += 1
            if conn is not None:
                conn.close()
            conn = None
            time.sleep(0.05)


def main():
    passed = failed = 0
    start()
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
    st, _ = call(conn, "PutRule", {"Name": "all",
                                   "EventPattern": '{"source":["crash"]}'})
    st2, _ = call(conn, "PutTargets", {"Rule": "all", "Targets": [{
        "Id": "log",
        "Arn": "arn:aws:logs:us-east-1:000000000000:log-group:/crash"}]})
    conn.close()
    if st != 200 or st2 != 200:
        print("setup failed: PutRule %d PutTargets %d" % (st, st2))
        print("0 passed, 1 failed")
        return 1
    threads = [threading.Thread(target=loader, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for k in range(KILLS):
        time.sleep(GAP * (0.5 + rng.random()))
        server.send_signal(signal.SIGKILL)
        server.wait()
        start()
    time.sleep(GAP)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    # let the delivery worker drain, then stop cleanly
    db = os.path.join(DATA, "d", "evbus.db")
    deadline = time.time() + 30
    while time.time() < deadline:
        c = sqlite3.connect(db, timeout=5)
        pending = c.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        c.close()
        if pending == 0:
            break
        time.sleep(0.2)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    c = sqlite3.connect(db)
    logged = set()
    for (msg,) in c.execute("SELECT message FROM log_events WHERE grp='/crash'"):
        try:
            logged.add(json.loads(msg)["id"])
        except (ValueError, KeyError):
            pass
    c.close()
    lost = acked - logged
    print("acknowledged %d events over %d kills (%d calls cut off); "
          "%d logged, %d lost" % (len(acked), KILLS, errors[0], len(logged),
                                  len(lost)))
    if len(acked) < 100:
        print("FAIL too few events were acknowledged to mean anything")
        failed += 1
    else:
        passed += 1
    if lost:
        print("FAIL lost, e.g. %s" % sorted(lost)[:5])
        failed += 1
    else:
        passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


try:
    rc = main()
finally:
    if server and server.poll() is None:
        server.kill()
        server.wait()
    shutil.rmtree(DATA, ignore_errors=True)
sys.exit(rc)
