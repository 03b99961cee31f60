#!/usr/bin/env python3
"""boto3 against `evbus serve`'s AmazonSQS API: create, send (single and
batch, with message attributes whose MD5s are checked against an
independent implementation of SQS's algorithm), receive with long polling
woken by a send, visibility timeout expiry, delete (single and batch),
errors as botocore reports them, attributes, purge, list and delete queue.

    python3 tests/cli/sqs_api_test.py http://127.0.0.1:PORT

Prints "N passed, M failed"; exits non-zero on failure.
"""
import hashlib
import struct
import sys
import threading
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
sqs = boto3.client(
    "sqs", endpoint_url=endpoint, region_name="us-east-1",
    aws_access_key_id="AKIDEVBUSTEST", aws_secret_access_key="secret",
    config=Config(retries={"max_attempts": 1}, read_timeout=40))

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def md5_attrs(attrs):
    """SQS's MD5OfMessageAttributes, written from the SQS documentation."""
    out = b""
    enc = lambda b: struct.pack(">I", len(b)) + b
    for name in sorted(attrs):
        a = attrs[name]
        out += enc(name.encode()) + enc(a["DataType"].encode())
        if "BinaryValue" in a:
            out += b"\x02" + enc(a["BinaryValue"])
        else:
            out += b"\x01" + enc(a["StringValue"].encode())
    return hashlib.md5(out).hexdigest()


def error_of(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e
    return None


url = sqs.create_queue(QueueName="boto-q",
                       Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
check(url.endswith("/000000000000/boto-q"), "queue url " + url)
check(sqs.get_queue_url(QueueName="boto-q")["QueueUrl"] == url, "get url")

# send with attributes
attrs = {"city": {"DataType": "String", "StringValue": "Any City"},
         "n": {"DataType": "Number", "StringValue": "42"},
         "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"}}
r = sqs.send_message(QueueUrl=url, MessageBody="hello ✓", MessageAttributes=attrs)
check(r["MD5OfMessageBody"] == hashlib.md5("hello ✓".encode()).hexdigest(),
      "body md5")
check(r.get("MD5OfMessageAttributes") == md5_attrs(attrs), "attrs md5")

m = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                        MessageAttributeNames=["All"],
                        MessageSystemAttributeNames=["All"])["Messages"]
check(len(m) == 1 and m[0]["Body"] == "hello ✓", "receive body")
check(m[0]["MessageAttributes"]["blob"]["BinaryValue"] == b"\x00\x01\xff",
      "binary attribute round trip")
check(m[0]["MD5OfMessageAttributes"] == md5_attrs(attrs), "receive attrs md5")
check(m[0]["Attributes"]["ApproximateReceiveCount"] == "1", "receive count")
check("SentTimestamp" in m[0]["Attributes"], "sent timestamp")

# visibility: invisible now, back after 1 s (long poll picks it up)
check("Messages" not in sqs.receive_message(QueueUrl=url), "in flight")
t0 = time.time()
m2 = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5,
                         AttributeNames=["ApproximateReceiveCount"])
check(len(m2.get("Messages", [])) == 1 and time.time() - t0 < 4,
      "reappears after the visibility timeout")
check(m2["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "2",
      "receive count 2")
h = m2["Messages"][0]["ReceiptHandle"]
sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=h,
                              VisibilityTimeout=30)
sqs.delete_message(QueueUrl=url, ReceiptHandle=h)
a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
check(a["ApproximateNumberOfMessages"] == "0" and
      a["ApproximateNumberOfMessagesNotVisible"] == "0", "deleted")
check(a["VisibilityTimeout"] == "1" and a["QueueArn"] ==
      "arn:aws:sqs:us-east-1:000000000000:boto-q", "attributes")

# long poll woken by a send from another thread
def later():
    time.sleep(0.5)
    sqs.send_message(QueueUrl=url, MessageBody="late")
threading.Thread(target=later).start()
t0 = time.time()
m3 = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
dt = time.time() - t0
check(m3.get("Messages", [{}])[0].get("Body") == "late" and dt < 5,
      "long poll woken by a send (%.2fs)" % dt)
sqs.delete_message(QueueUrl=url,
                   ReceiptHandle=m3["Messages"][0]["ReceiptHandle"])

# batches
b = sqs.send_message_batch(QueueUrl=url, Entries=[
    {"Id": "a", "MessageBody": "one"},
    {"Id": "b", "MessageBody": "two", "DelaySeconds": 0},
    {"Id": "c", "MessageBody": "bad \x01"}])
check(sorted(e["Id"] for e in b["Successful"]) == ["a", "b"], "batch ok")
check(len(b["Failed"]) == 1 and b["Failed"][0]["Id"] == "c" and
      b["Failed"][0]["SenderFault"], "batch failed entry")
got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                          VisibilityTimeout=30)["Messages"]
check(sorted(x["Body"] for x in got) == ["one", "two"], "batch receive")
d = sqs.delete_message_batch(QueueUrl=url, Entries=[
    {"Id": str(i), "ReceiptHandle": x["ReceiptHandle"]}
    for i, x in enumerate(got)] + [{"Id": "bad", "ReceiptHandle": "junk"}])
check(len(d["Successful"]) == 2 and d["Failed"][0]["Id"] == "bad" and
      d["Failed"][0]["Code"] == "ReceiptHandleIsInvalid", "delete batch")
e = error_of(sqs.send_message_batch, QueueUrl=url, Entries=[
    {"Id": "x", "MessageBody": "1"}, {"Id": "x", "MessageBody": "2"}])
check(e is not None and isinstance(e, sqs.exceptions.BatchEntryIdsNotDistinct),
      "duplicate batch ids")

# errors
e = error_of(sqs.get_queue_url, QueueName="missing")
check(isinstance(e, sqs.exceptions.QueueDoesNotExist) and
      e.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue",
      "QueueDoesNotExist %r" % (e and e.response["Error"],))
e = error_of(sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=11)
check(e is not None and e.response["Error"]["Code"] == "InvalidParameterValue",
      "MaxNumberOfMessages 11")
e = error_of(sqs.create_queue, QueueName="boto-q",
             Attributes={"VisibilityTimeout": "9"})
check(isinstance(e, sqs.exceptions.QueueNameExists), "QueueNameExists")
e = error_of(sqs.delete_message, QueueUrl=url, ReceiptHandle="junk")
check(isinstance(e, sqs.exceptions.ReceiptHandleIsInvalid), "bad handle")
e = error_of(sqs.set_queue_attributes, QueueUrl=url,
             Attributes={"VisibilityTimeout": "-1"})
check(isinstance(e, sqs.exceptions.InvalidAttributeValue), "bad attr value")

# purge, list, delete
sqs.send_message(QueueUrl=url, MessageBody="x")
sqs.purge_queue(QueueUrl=url)
check("Messages" not in sqs.receive_message(QueueUrl=url), "purged")
sqs.create_queue(QueueName="boto-q2")
urls = sqs.list_queues(QueueNamePrefix="boto-")["QueueUrls"]
check(len(urls) == 2, "list by prefix")
p = sqs.list_queues(QueueNamePrefix="boto-", MaxResults=1)
check(len(p["QueueUrls"]) == 1 and "NextToken" in p, "list paged")
p2 = sqs.list_queues(QueueNamePrefix="boto-", MaxResults=1,
                     NextToken=p["NextToken"])
check(p2["QueueUrls"][0].endswith("boto-q2") and "NextToken" not in p2,
      "list page 2")
sqs.delete_queue(QueueUrl=url)
e = error_of(sqs.send_message, QueueUrl=url, MessageBody="x")
check(isinstance(e, sqs.exceptions.QueueDoesNotExist), "deleted queue")

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
