"""What the connector's end-to-end tests share (tests/cli/connector_*.py).

- Env: a private temp dir and every process a test starts (kafka-mock,
  `evbus serve`, `evbus connector`), all stopped on exit; records produced
  with build/tools/kafka-produce; a queue per connector behind a rule that
  matches its source, drained with boto3 (127.0.0.1 only).
- Proxy: an HTTP server in this process between the connector and evbus
  that records every PutEvents call (time, entries, entry sizes by
  EventBridge's formula) and can misbehave on demand: "down" (503),
  "throttle" (some entries answered ThrottlingException, not forwarded),
  "reject" (entries whose detail holds "reject-me" answered
  MalformedDetail), "slow" (a delay before forwarding).
- check(): pass/fail counters; the caller prints "N passed, M failed".

Every wait is bounded; nothing listens beyond 127.0.0.1.
"""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.config import Config

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what, flush=True)
    return cond


def summary():
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


def eb_size(entry):
    n = len(entry.get("Source", "").encode()) + len(entry.get("DetailType", "").encode())
    n += len(entry.get("Detail", "").encode())
    for r in entry.get("Resources", []):
        n += len(r.encode())
    return n


class Proxy:
    """PutEvents proxy with a switchable failure mode."""

    def __init__(self, upstream_port):
        self.upstream = f"http://127.0.0.1:{upstream_port}/"
        self.mode = "ok"
        self.throttle_budget = 0
        self.delay = 0.0
        self.calls = []  # (time, [entry sizes], status, first record)
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                req = json.loads(raw)
                entries = req.get("Entries", [])
                sizes = [eb_size(e) for e in entries]
                try:
                    d0 = json.loads(entries[0]["Detail"])
                    first = (d0["topic"], d0["partition"], d0["offset"])
                except (KeyError, IndexError, ValueError):
                    first = None
                mode = proxy.mode
                if mode == "down":
                    with proxy.lock:
                        proxy.calls.append((time.monotonic(), sizes, 503, first))
                    return self.reply(503, {"__type": "ServiceUnavailable", "message": "down for a test"})
                if mode == "slow":
                    time.sleep(proxy.delay)
                fake = {}
                with proxy.lock:
                    for i, e in enumerate(entries):
                        if mode == "throttle" and proxy.throttle_budget > 0 and i % 2 == 0:
                            proxy.throttle_budget -= 1
                            fake[i] = {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}
                        elif mode == "reject" and "reject-me" in e.get("Detail", ""):
                            fake[i] = {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
                forward = [e for i, e in enumerate(entries) if i not in fake]
                results = []
                status = 200
                if forward:
                    body = json.dumps({"Entries": forward}).encode()
                    r = urllib.request.Request(proxy.upstream, data=body, method="POST", headers={
                        "Content-Type": "application/x-amz-json-1.1",
                        "X-Amz-Target": "AWSEvents.PutEvents"})
                    try:
                        with urllib.request.urlopen(r, timeout=20) as resp:
                            results = json.loads(resp.read())["Entries"]
                    except urllib.error.HTTPError as e:
                        status = e.code
                        with proxy.lock:
                            proxy.calls.append((time.monotonic(), sizes, status, first))
                        return self.reply(status, json.loads(e.read() or b"{}"))
                it = iter(results)
                out = [fake[i] if i in fake else next(it) for i in range(len(entries))]
                with proxy.lock:
                    proxy.calls.append((time.monotonic(), sizes, status, first))
                self.reply(200, {"FailedEntryCount": sum(1 for r in out if "ErrorCode" in r), "Entries": out})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def reset(self):
        with self.lock:
            self.calls = []

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Env:
    def __init__(self, evbus):
        self.evbus = os.path.abspath(evbus)
        self.tools = os.path.join(os.path.dirname(self.evbus), "tools")
        self.tmp = tempfile.mkdtemp(prefix="evbus-connector-")
        self.procs = []
        self.port = None
        self.bs = None
        self.proxies = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: sys.exit(130))

    def path(self, name):
        return os.path.join(self.tmp, name)

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        for p in self.proxies:
            p.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    # ---- processes ------------------------------------------------------
    def _first_line(self, proc, path, pattern, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                with open(path, errors="replace") as f:
                    for line in f:
                        m = re.search(pattern, line)
                        if m:
                            return m
            except FileNotFoundError:
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"no '{pattern}' in {path}: {open(path, errors='replace').read()[-2000:]}")

    def start_mock(self, topics):
        args = [os.path.join(self.tools, "kafka-mock")]
        for t in topics:
            args += ["--topic", t]
        out = open(self.path("mock.out"), "w")
        p = subprocess.Popen(args, stdout=out, stderr=open(self.path("mock.err"), "w"))
        self.procs.append(p)
        self.bs = self._first_line(p, self.path("mock.out"), r"^(\S+)$").group(1)
        return self.bs

    def start_serve(self, *extra, name="serve"):
        log = self.path(name + ".log")
        p = subprocess.Popen([self.evbus, "serve", "--listen", "127.0.0.1:0",
                              "--data-dir", self.path(name + "-data"), *extra],
                             stdout=subprocess.DEVNULL, stderr=open(log, "w"))
        self.procs.append(p)
        port = int(self._first_line(p, log, r"listening on http://127\.0\.0\.1:(\d+) ").group(1))
        if self.port is None:
            self.port = port
        return port

    def proxy(self, upstream_port=None):
        p = Proxy(upstream_port or self.port)
        self.proxies.append(p)
        return p

    def produce(self, records):
        data = "".join(json.dumps(r) + "\n" for r in records)
        r = subprocess.run([os.path.join(self.tools, "kafka-produce"), "--bootstrap-servers", self.bs],
                           input=data.encode(), capture_output=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("kafka-produce: " + r.stderr.decode())
        return r

    def avro_encode(self, subject, schema_file, docs, glue=False, registry_port=None):
        args = [self.evbus, "avro", "encode", "--registry",
                f"http://127.0.0.1:{registry_port or self.port}", "--subject", subject,
                "--schema", schema_file, "--base64"]
        if glue:
            args.append("--glue")
        r = subprocess.run(args, input="".join(json.dumps(d) + "\n" for d in docs).encode(),
                           capture_output=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("evbus avro encode: " + r.stderr.decode())
        return r.stdout.decode().split()

    def config(self, name, props, form="properties"):
        path = self.path(name + (".json" if form == "json" else ".properties"))
        with open(path, "w") as f:
            if form == "json":
                json.dump({"name": name, "config": props}, f, indent=1)
            else:
                for k, v in props.items():
                    f.write(f"{k}={v}\n")
        return path

    def base_props(self, cid, topics, endpoint=None, **extra):
        props = {
            "name": cid,
            "topics": topics,
            "aws.eventbridge.connector.id": cid,
            "aws.eventbridge.region": "us-east-1",
            "aws.eventbridge.eventbus.arn": "arn:aws:events:us-east-1:000000000000:event-bus/default",
            "aws.eventbridge.endpoint.uri": endpoint or f"http://127.0.0.1:{self.port}",
            "kafka.bootstrap.servers": self.bs,
            "kafka.session.timeout.ms": "6000",
            "kafka.heartbeat.interval.ms": "500",
            "evbus.stats.interval.ms": "500",
            "evbus.poll.wait.ms": "50",
        }
        for k, v in extra.items():
            props[k.replace("_", ".")] = v
        return props

    def connector(self, name, props, form="properties", env=None, run=0):
        cfg = self.config(name, props, form)
        log = self.path(f"{name}.{run}.log")
        p = subprocess.Popen([self.evbus, "connector", "--config", cfg],
                             stdout=subprocess.DEVNULL, stderr=open(log, "w"),
                             env={**os.environ, **(env or {})})
        p.log = log
        self.procs.append(p)
        return p

    @staticmethod
    def log_of(p):
        with open(p.log, errors="replace") as f:
            return f.read()

    def wait_log(self, p, pattern, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(pattern, self.log_of(p))
            if m:
                return m
            if p.poll() is not None:
                return re.search(pattern, self.log_of(p))
            time.sleep(0.05)
        return None

    def stop(self, p, sig=signal.SIGTERM, timeout=20):
        if p.poll() is None:
            p.send_signal(sig)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return None

    # ---- the bus side ---------------------------------------------------
    def client(self, service, port=None):
        return boto3.client(service, endpoint_url=f"http://127.0.0.1:{port or self.port}",
                            region_name="us-east-1", aws_access_key_id="AKIDEVBUSTEST",
                            aws_secret_access_key="evbus-test-secret",
                            config=Config(retries={"max_attempts": 1}))

    def sink(self, cid, port=None):
        """A queue receiving every event whose source is kafka-connect.CID."""
        sqs, ev = self.client("sqs", port), self.client("events", port)
        url = sqs.create_queue(QueueName="q-" + cid)["QueueUrl"]
        ev.put_rule(Name="r-" + cid, EventPattern=json.dumps({"source": ["kafka-connect." + cid]}))
        ev.put_targets(Rule="r-" + cid, Targets=[{
            "Id": "q", "Arn": f"arn:aws:sqs:us-east-1:000000000000:q-{cid}"}])
        return url

    def drain(self, url, want, timeout=30, port=None, quiet=0.5, state=None):
        """Events from queue url until `want` distinct records (by topic,
        partition, offset) came and nothing more arrived for `quiet`
        seconds (quiet 0: return at once), or timeout. Returns (events in
        arrival order, duplicates). state (a dict) carries what was seen
        over several calls."""
        sqs = self.client("sqs", port)
        st = state if state is not None else {}
        events = st.setdefault("events", [])
        seen = st.setdefault("seen", set())
        st.setdefault("dups", 0)
        end = time.monotonic() + timeout
        last = time.monotonic()
        while time.monotonic() < end:
            if len(seen) >= want and quiet == 0:
                break
            r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            msgs = r.get("Messages", [])
            if msgs:
                sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
                last = time.monotonic()
            for m in msgs:
                ev = json.loads(m["Body"])
                d = ev["detail"]
                k = (d["topic"], d["partition"], d["offset"])
                if k in seen:
                    st["dups"] += 1
                else:
                    seen.add(k)
                    events.append(ev)
            if not msgs:
                if len(seen) >= want and time.monotonic() - last >= quiet:
                    break
                time.sleep(0.05)
        return events, st["dups"]


def b64(b):
    return base64.b64encode(b).decode()
