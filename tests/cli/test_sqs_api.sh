#!/usr/bin/env bash
# `evbus serve`'s AmazonSQS API end to end with the real AWS CLI and boto3:
# start the server on an ephemeral loopback port (read back from its
# stderr line), drive `aws sqs` through create / send / receive (long
# poll) / delete / batch / visibility / attributes / purge, check that a
# missing queue is reported as AWS.SimpleQueueService.NonExistentQueue,
# restart the server and check that queues and messages survived, then run
# tests/cli/sqs_api_test.py (boto3).
#
#   bash tests/cli/test_sqs_api.sh /path/to/evbus
#
# Dummy credentials; nothing outside 127.0.0.1 is contacted. Every wait is
# bounded and a trap kills the server on any exit. Prints "N passed, M
# failed"; exits non-zero on failure. Without the aws CLI or boto3 those
# checks are skipped and said so.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

check() { # check DESCRIPTION COMMAND...: passes if the command succeeds
  local what=$1
  shift
  if "$@"; then passed=$((passed + 1)); else
    failed=$((failed + 1))
    echo "FAIL: $what"
  fi
}

start_server || exit 1
EP="--endpoint-url http://127.0.0.1:$PORT --region us-east-1"

if command -v aws >/dev/null 2>&1; then
  sqs() { timeout 40 aws sqs "$@" $EP --output json; }
  out=$(sqs create-queue --queue-name cli-q --attributes VisibilityTimeout=2)
  URL=$(printf '%s' "$out" | python3 -c 'import json,sys;print(json.load(sys.stdin)["QueueUrl"])')
  check "queue url" test "$URL" = "http://127.0.0.1:$PORT/000000000000/cli-q"
  check "get-queue-url" test "$(timeout 40 aws sqs get-queue-url --queue-name cli-q $EP --output text)" = "$URL"
  out=$(sqs send-message --queue-url "$URL" --message-body "hello")
  check "send md5" grep -q '"MD5OfMessageBody": "5d41402abc4b2a76b9719d911017c592"' <<<"$out"
  # 5 s of visibility (not the queue's 2) so that a loaded machine still
  # sees the message in flight on the next call
  out=$(sqs receive-message --queue-url "$URL" --wait-time-seconds 2 --visibility-timeout 5 --attribute-names All)
  check "receive" grep -q '"Body": "hello"' <<<"$out"
  check "receive count" grep -q '"ApproximateReceiveCount": "1"' <<<"$out"
  RH=$(printf '%s' "$out" | python3 -c 'import json,sys;print(json.load(sys.stdin)["Messages"][0]["ReceiptHandle"])')
  out=$(sqs receive-message --queue-url "$URL")
  check "in flight" test -z "$out"
  # the visibility timeout ends inside a 15 s long poll
  start=$(date +%s)
  out=$(sqs receive-message --queue-url "$URL" --wait-time-seconds 15)
  check "reappears" grep -q '"Body": "hello"' <<<"$out"
  check "reappears early" test $(($(date +%s) - start)) -lt 12
  # a longer visibility first, so a slow machine cannot let the 2 s one run
  # out between this receive and the calls that use its receipt handle
  out=$(sqs receive-message --queue-url "$URL" --wait-time-seconds 10 --visibility-timeout 60)
  check "received again" grep -q '"Body": "hello"' <<<"$out"
  RH=$(printf '%s' "$out" | python3 -c 'import json,sys;print(json.load(sys.stdin)["Messages"][0]["ReceiptHandle"])')
  check "change-message-visibility" sqs change-message-visibility --queue-url "$URL" --receipt-handle "$RH" --visibility-timeout 60
  check "delete-message" sqs delete-message --queue-url "$URL" --receipt-handle "$RH"
  out=$(sqs send-message-batch --queue-url "$URL" --entries Id=a,MessageBody=one Id=b,MessageBody=two)
  check "batch" test "$(printf '%s' "$out" | grep -c '"Id"')" = 2
  out=$(sqs get-queue-attributes --queue-url "$URL" --attribute-names ApproximateNumberOfMessages VisibilityTimeout)
  check "attributes count" grep -q '"ApproximateNumberOfMessages": "2"' <<<"$out"
  check "set-queue-attributes" sqs set-queue-attributes --queue-url "$URL" --attributes VisibilityTimeout=40
  out=$(sqs get-queue-attributes --queue-url "$URL" --attribute-names VisibilityTimeout)
  check "attribute set" grep -q '"VisibilityTimeout": "40"' <<<"$out"
  err=$(timeout 40 aws sqs get-queue-url --queue-name nope $EP 2>&1)
  check "NonExistentQueue" grep -q 'AWS.SimpleQueueService.NonExistentQueue' <<<"$err"
  out=$(sqs list-queues --queue-name-prefix cli-)
  check "list-queues" grep -q "$URL" <<<"$out"

  # restart: queue, attributes and both messages are still there
  stop_server
  start_server || exit 1
  EP="--endpoint-url http://127.0.0.1:$PORT --region us-east-1"
  URL="http://127.0.0.1:$PORT/000000000000/cli-q"
  out=$(sqs get-queue-attributes --queue-url "$URL" --attribute-names All)
  check "persisted attribute" grep -q '"VisibilityTimeout": "40"' <<<"$out"
  check "persisted messages" grep -q '"ApproximateNumberOfMessages": "2"' <<<"$out"
  check "purge-queue" sqs purge-queue --queue-url "$URL"
  out=$(sqs get-queue-attributes --queue-url "$URL" --attribute-names ApproximateNumberOfMessages)
  check "purged" grep -q '"ApproximateNumberOfMessages": "0"' <<<"$out"
  check "delete-queue" sqs delete-queue --queue-url "$URL"
  err=$(timeout 40 aws sqs get-queue-url --queue-name cli-q $EP 2>&1)
  check "deleted" grep -q 'NonExistentQueue' <<<"$err"
else
  echo "aws CLI not installed: skipping its checks"
fi

if python3 -c 'import boto3' 2>/dev/null; then
  out=$(timeout 90 python3 "$HERE/sqs_api_test.py" "http://127.0.0.1:$PORT" 2>&1)
  rc=$?
  echo "$out" | grep -v ' passed, ' || true
  p=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p' <<<"$out")
  f=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p' <<<"$out")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ $rc -ne 0 ] && [ "${f:-0}" = 0 ]; then
    failed=$((failed + 1))
    echo "FAIL: sqs_api_test.py exited $rc"
  fi
else
  echo "boto3 not installed: skipping its checks"
fi

stop_server
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
