"""What the delivery end-to-end tests (delivery_outage.py, retry_crash.py)
share: a raw AWS JSON client for `evbus serve` (EventBridge and SQS), the
loopback test receiver (tools/test-receiver/receiver.py) run as a child
process that can be killed and started again on the same port, and the
set-up of a connection, an API destination, a rule and its targets.

Loopback only; every wait is bounded.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RECEIVER = os.path.join(HERE, "..", "..", "tools", "test-receiver",
                        "receiver.py")
ACCOUNT = "000000000000"
REGION = "us-east-1"


class ApiError(Exception):
    def __init__(self, action, status, body):
        super().__init__("%s: HTTP %d %s" % (action, status, body))
        self.status = status
        self.body = body


class Api:
    """One keep-alive connection to `evbus serve` (not thread-safe: one
    per thread)."""

    def __init__(self, port, timeout=30):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def _call(self, target, ctype, body):
        data = json.dumps(body)
        for attempt in range(2):  # a dropped keep-alive connection: once more
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request("POST", "/", data, {
                    "X-Amz-Target": target, "Content-Type": ctype})
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        out = json.loads(raw) if raw else {}
        if r.status != 200:
            raise ApiError(target, r.status, out)
        return out

    def events(self, action, body):
        return self._call("AWSEvents." + action,
                          "application/x-amz-json-1.1", body)

    def sqs(self, action, body):
        return self._call("AmazonSQS." + action,
                          "application/x-amz-json-1.0", body)

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Receiver:
    """tools/test-receiver/receiver.py as a child process. Every request it
    answers is appended to its record file before the answer goes out, so
    requests() sees them all across kills and restarts."""

    def __init__(self, workdir, port=None, ttl=300):
        self.workdir = workdir
        self.port = port or free_port()
        self.ttl = ttl
        self.proc = None
        self.starts = 0
        self.record = os.path.join(workdir, "receiver.jsonl")

    def start(self):
        self.starts += 1
        pf = os.path.join(self.workdir, "ports.%d" % self.starts)
        self.proc = subprocess.Popen(
            ["python3", RECEIVER, "--port-file", pf, "--port",
             str(self.port), "--record", self.record, "--ttl",
             str(self.ttl)], stdout=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.path.exists(pf):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("the receiver did not start on port %d" %
                           self.port)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def control(self, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("POST", path, json.dumps(body or {}))
            r = c.getresponse()
            return json.loads(r.read() or b"{}")
        finally:
            c.close()

    def respond(self, path, status, times=1, delay_ms=0):
        self.control("/_control/respond", {"path": path, "status": status,
                                           "times": times,
                                           "delay_ms": delay_ms})

    def requests(self, path=None):
        """Every request recorded so far (from the record file)."""
        out = []
        try:
            with open(self.record, encoding="utf-8") as f:
                for line in f:
                    if not line.endswith("\n"):
                        break  # being written
                    rec = json.loads(line)
                    if path is None or rec["path"] == path:
                        out.append(rec)
        except FileNotFoundError:
            pass
        return out


def event_ids(requests):
    """The event id of each recorded request body (an EventBridge event)."""
    ids = []
    for r in requests:
        try:
            ids.append(json.loads(r["body"])["id"])
        except (ValueError, KeyError, TypeError):
            ids.append(None)
    return ids


def api_destination(api, name, endpoint, rate=1000):
    """A connection (API_KEY) and an API destination; returns its ARN."""
    conn = api.events("CreateConnection", {
        "Name": name + "-conn", "AuthorizationType": "API_KEY",
        "AuthParameters": {"ApiKeyAuthParameters": {
            "ApiKeyName": "x-api-key", "ApiKeyValue": "k-" + name}}})
    dest = api.events("CreateApiDestination", {
        "Name": name, "ConnectionArn": conn["ConnectionArn"],
        "InvocationEndpoint": endpoint, "HttpMethod": "POST",
        "InvocationRateLimitPerSecond": rate})
    return dest["ApiDestinationArn"]


def queue_arn(name):
    return "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, name)


def create_queue(api, name):
    return api.sqs("CreateQueue", {"QueueName": name})["QueueUrl"]


def receive_all(api, url, max_wait=10, want=None):
    """Receive (and delete) messages from url until want arrived, or the
    queue stays empty for one short poll, or max_wait seconds pass."""
    msgs = []
    deadline = time.time() + max_wait
    while time.time() < deadline:
        r = api.sqs("ReceiveMessage", {
            "QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1,
            "MessageAttributeNames": ["All"], "VisibilityTimeout": 60})
        got = r.get("Messages", [])
        for m in got:
            api.sqs("DeleteMessage", {"QueueUrl": url,
                                      "ReceiptHandle": m["ReceiptHandle"]})
        msgs += got
        if want is not None and len(msgs) >= want:
            break
        if not got and want is None:
            break
    return msgs


def attrs(msg):
    """A message's attributes as {name: string value}."""
    return {k: v.get("StringValue")
            for k, v in msg.get("MessageAttributes", {}).items()}
