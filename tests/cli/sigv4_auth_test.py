#!/usr/bin/env python3
"""SigV4 authentication of `evbus serve --credentials` over the wire.

Usage: sigv4_auth_test.py http://127.0.0.1:PORT

The server's credentials file has AKIDEVBUSTEST / evbus-test-secret (and
the environment says the same, as tests/cli/lib/server.sh sets it). boto3
with matching credentials works (EventBridge, CloudWatch Logs, SQS);
requests signed by botocore and then altered, or signed with the wrong key,
secret or clock, are refused with 403 and AWS's error type. Prints
"N passed, M failed".
"""
import datetime
import http.client
import json
import sys
import types
from unittest import mock
from urllib.parse import urlsplit

import boto3
import botocore.auth
import botocore.exceptions
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

ENDPOINT = sys.argv[1]
HOST = urlsplit(ENDPOINT).netloc
KEY, SECRET = "AKIDEVBUSTEST", "evbus-test-secret"
passed = failed = 0


def check(what, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what} {detail}")


def client(service, key=KEY, secret=SECRET):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def error_code(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], \
            e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


# ---- boto3 with the right key ----
ev = client("events")
ev.create_event_bus(Name="auth-bus")
r = ev.put_events(Entries=[{"Source": "auth.test", "DetailType": "t",
                            "Detail": "{\"a\":1}", "EventBusName": "auth-bus"}])
check("boto3 put_events", r["FailedEntryCount"] == 0, r)
names = [b["Name"] for b in ev.list_event_buses()["EventBuses"]]
check("boto3 list_event_buses", "auth-bus" in names, names)
logs = client("logs")
logs.create_log_group(logGroupName="/auth/test")
check("boto3 logs", any(g["logGroupName"] == "/auth/test"
                        for g in logs.describe_log_groups()["logGroups"]))
sqs = client("sqs")
url = sqs.create_queue(QueueName="auth-q")["QueueUrl"]
sqs.send_message(QueueUrl=url, MessageBody="hi")
check("boto3 sqs", sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"]
      == "hi")

# ---- boto3 with the wrong key or secret ----
code, status = error_code(lambda: client("events", key="AKIDNOSUCHKEY")
                          .list_event_buses())
check("wrong key id", (code, status) == ("UnrecognizedClientException", 403),
      (code, status))
code, status = error_code(lambda: client("events", secret="wrong-secret")
                          .list_event_buses())
check("wrong secret", (code, status) == ("InvalidSignatureException", 403),
      (code, status))


# ---- raw requests signed by botocore, then sent (altered or not) ----
def signed(body=b"{}", target="AWSEvents.ListEventBuses", when=None,
           key=KEY, secret=SECRET, service="events", region="us-east-1"):
    req = AWSRequest(method="POST", url=ENDPOINT + "/", data=body, headers={
        "X-Amz-Target": target,
        "Content-Type": "application/x-amz-json-1.1"})
    auth = SigV4Auth(Credentials(key, secret), service, region)
    if when is None:
        auth.add_auth(req)
    else:
        class Clock:  # botocore.auth reads datetime.datetime.utcnow()
            @staticmethod
            def utcnow():
                return when

        if hasattr(botocore.auth, "get_current_datetime"):  # newer botocore
            patch = mock.patch.object(botocore.auth, "get_current_datetime",
                                      lambda *a, **k: when)
        else:
            patch = mock.patch.object(botocore.auth, "datetime",
                                      types.SimpleNamespace(datetime=Clock))
        with patch:
            auth.add_auth(req)
    return dict(req.headers.items()), body


def send(headers, body, method="POST", path="/"):
    c = http.client.HTTPConnection(HOST, timeout=20)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        doc = json.loads(data)
    except ValueError:
        doc = {}
    return r.status, doc.get("__type"), doc.get("message", "")


h, b = signed()
st, typ, _ = send(h, b)
check("botocore-signed raw request", st == 200, (st, typ))

h, b = signed(body=b'{"NamePrefix":"a"}')
st, typ, msg = send(h, b'{"NamePrefix":"b"}')
check("tampered body", (st, typ) == (403, "InvalidSignatureException"),
      (st, typ))
check("no hint of the secret", "Secret" in msg and SECRET not in msg, msg)

h, b = signed()
h["X-Amz-Target"] = "AWSEvents.ListRules"
st, typ, _ = send(h, b)
check("tampered signed header", (st, typ) == (403, "InvalidSignatureException"),
      (st, typ))

now = datetime.datetime.utcnow()
h, b = signed(when=now - datetime.timedelta(minutes=6))
st, typ, msg = send(h, b)
check("expired", (st, typ) == (403, "InvalidSignatureException") and
      msg.startswith("Signature expired"), (st, typ, msg))
h, b = signed(when=now + datetime.timedelta(minutes=6))
st, typ, msg = send(h, b)
check("future", (st, typ) == (403, "InvalidSignatureException") and
      msg.startswith("Signature not yet current"), (st, typ, msg))
h, b = signed(when=now - datetime.timedelta(minutes=4))
check("4 minutes old is fine", send(h, b)[0] == 200)

st, typ, _ = send({"X-Amz-Target": "AWSEvents.ListEventBuses",
                   "Content-Type": "application/x-amz-json-1.1"}, b"{}")
check("missing auth", (st, typ) == (403, "MissingAuthenticationTokenException"),
      (st, typ))
h, b = signed()
h["Authorization"] = "AWS4-HMAC-SHA256 Credential=" + KEY
st, typ, _ = send(h, b)
check("incomplete", (st, typ) == (403, "IncompleteSignatureException"),
      (st, typ))
h, b = signed(region="eu-west-1")
st, typ, msg = send(h, b)
check("wrong region", (st, typ) == (403, "InvalidSignatureException") and
      "region" in msg, (st, typ, msg))
h, b = signed(service="logs")
st, typ, msg = send(h, b)
check("wrong service", (st, typ) == (403, "InvalidSignatureException") and
      "service" in msg, (st, typ, msg))
h, b = signed()
h["X-Amz-Meta-Extra"] = "x"
st, typ, msg = send(h, b)
check("unsigned x-amz header", (st, typ) == (403, "InvalidSignatureException")
      and "x-amz-meta-extra" in msg, (st, typ, msg))

# ---- presigned query form ----
req = AWSRequest(method="GET", url=ENDPOINT + "/?Action=ListEventBuses")
SigV4QueryAuth(Credentials(KEY, SECRET), "events", "us-east-1",
               expires=60).add_auth(req)
u = urlsplit(req.prepare().url)
path = u.path + "?" + u.query
st, typ, _ = send({}, None, method="GET", path=path)
# past authentication, the JSON API refuses GET itself
check("presigned accepted", (st, typ) == (405, "UnknownOperationException"),
      (st, typ))
st, typ, _ = send({}, None, method="GET",
                  path=path.replace("ListEventBuses", "ListRules"))
check("presigned tampered", (st, typ) == (403, "SignatureDoesNotMatch"),
      (st, typ))

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
