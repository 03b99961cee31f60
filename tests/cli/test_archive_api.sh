#!/usr/bin/env bash
# Archives and replays of `evbus serve` end to end with the AWS CLI: an
# archive on a custom bus, PutEvents, EventCount, the documented errors
# (UpdateArchive without fields, cross-bus replay, start after end, an
# unknown archive), a replay of a time window into an SQS-queue target
# whose messages carry "replay-name", CancelReplay on a finished replay
# (IllegalStatusException), and everything still there after a restart.
# Then archive_api_test.py runs the boto3 part.
#
#   bash tests/cli/test_archive_api.sh /path/to/evbus
#
# SKIPs (exit 0, saying why) when the aws CLI is missing or when the
# server does not know the archive actions yet (not wired). Every wait is
# bounded; a trap kills the server on any exit.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
[ -x "$EVBUS" ] || { echo "not executable: $EVBUS" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
if ! AWS=$(command -v aws); then
  echo "SKIP: aws CLI not found"
  exit 0
fi
case "$AWS" in
  */shims/aws) AWS=$(pyenv which aws 2>/dev/null) || AWS=$(command -v aws) ;;
esac

TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

aws_() {
  local svc=$1
  shift
  timeout 30 "$AWS" --endpoint-url "http://127.0.0.1:$PORT" --region us-east-1 \
    --cli-connect-timeout 10 --cli-read-timeout 10 \
    "$svc" "$@" >"$TMP/out" 2>"$TMP/err"
}
ev() { aws_ events "$@"; }

expect_out() {
  local want=$1 got
  shift
  if ! ev "$@"; then
    bad "aws events $*: failed: $(cat "$TMP/err")"
    return
  fi
  got=$(cat "$TMP/out")
  [ "$got" = "$want" ] && ok || bad "aws events $*: got '$got', want '$want'"
}

# expect_err CODE MESSAGE ARGS...: the call fails with that code and the
# message (a substring of the CLI's error line).
expect_err() {
  local code=$1 msg=$2
  shift 2
  if ev "$@"; then
    bad "aws events $*: succeeded, want $code"
    return
  fi
  if grep -q "($code)" "$TMP/err" && grep -qF -- "$msg" "$TMP/err"; then
    ok
  else
    bad "aws events $*: want ($code) $msg, got: $(cat "$TMP/err")"
  fi
}

start_server || exit 1
ARN=arn:aws:events:us-east-1:000000000000
BUS_ARN=$ARN:event-bus/shop

# Not wired yet? Then skip, saying so.
ev list-archives
if grep -q "UnknownOperationException" "$TMP/err"; then
  echo "SKIP: the server does not know ListArchives (archive actions not wired into serve yet)"
  exit 0
fi

expect_out "$BUS_ARN" create-event-bus --name shop --query EventBusArn --output text
aws_ sqs create-queue --queue-name replayed || bad "create-queue: $(cat "$TMP/err")"
QURL=$(sed -n 's/.*"QueueUrl": "\(.*\)".*/\1/p' "$TMP/out")
Q_ARN=arn:aws:sqs:us-east-1:000000000000:replayed
expect_out "$ARN:rule/shop/orders" put-rule --name orders --event-bus-name shop \
  --event-pattern '{"source":["shop"]}' --query RuleArn --output text
expect_out 0 put-targets --rule orders --event-bus-name shop \
  --targets "Id=q,Arn=$Q_ARN" --query FailedEntryCount --output text

expect_out "$ARN:archive/shop-all	ENABLED" create-archive --archive-name shop-all \
  --event-source-arn "$BUS_ARN" --retention-days 3 \
  --query '[ArchiveArn,State]' --output text
expect_out "$ARN:archive/shop-big" create-archive --archive-name shop-big \
  --event-source-arn "$BUS_ARN" --event-pattern '{"detail":{"n":[{"numeric":[">",1]}]}}' \
  --query ArchiveArn --output text
expect_err ResourceAlreadyExistsException "Archive shop-all already exists." \
  create-archive --archive-name shop-all --event-source-arn "$BUS_ARN"
expect_err InvalidEventPatternException "Event pattern is not valid." \
  create-archive --archive-name bad --event-source-arn "$BUS_ARN" --event-pattern '{"a":[]}'
expect_err ResourceNotFoundException "does not exist." \
  create-archive --archive-name nobus --event-source-arn "$ARN:event-bus/nope"
expect_err ValidationException "At least one of EventPattern, RetentionDays or Description must be provided." \
  update-archive --archive-name shop-all
expect_err ValidationException "failed to satisfy constraint" \
  create-archive --archive-name 'bad name' --event-source-arn "$BUS_ARN"

# three events an hour ago, one a minute apart
T=$(( $(date +%s) / 60 * 60 - 3600 ))
for i in 1 2 3; do
  t=$((T + (i - 1) * 60))
  expect_out 0 put-events --entries "[{\"EventBusName\":\"shop\",\"Source\":\"shop\",\"DetailType\":\"o\",\"Detail\":\"{\\\"n\\\":$i}\",\"Time\":$t}]" \
    --query FailedEntryCount --output text
done
expect_out "3" describe-archive --archive-name shop-all --query EventCount --output text
expect_out "2" describe-archive --archive-name shop-big --query EventCount --output text
expect_out "shop-all	3
shop-big	2" list-archives --event-source-arn "$BUS_ARN" \
  --query 'Archives[].[ArchiveName,EventCount]' --output text

# drain the original deliveries (bounded)
drain() {
  local n=0
  for _ in $(seq 20); do
    aws_ sqs receive-message --queue-url "$QURL" --max-number-of-messages 10 --wait-time-seconds 1 || break
    local k
    k=$(grep -c '"MessageId"' "$TMP/out")
    n=$((n + k))
    cat "$TMP/out" >>"$TMP/received"
    [ "$n" -ge "$1" ] && break
  done
  echo "$n"
}
: >"$TMP/received"
got=$(drain 3)
[ "$got" = 3 ] && ok || bad "original deliveries: got $got, want 3"

expect_err ValidationException "Parameter EventSourceArn is not valid. Reason: Archive nope does not exist." \
  start-replay --replay-name r0 --event-source-arn "$ARN:archive/nope" \
  --event-start-time "$T" --event-end-time "$((T + 60))" --destination "Arn=$BUS_ARN"
expect_err ValidationException "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted." \
  start-replay --replay-name r0 --event-source-arn "$ARN:archive/shop-all" \
  --event-start-time "$T" --event-end-time "$((T + 60))" --destination "Arn=$ARN:event-bus/default"
expect_err ValidationException "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime." \
  start-replay --replay-name r0 --event-source-arn "$ARN:archive/shop-all" \
  --event-start-time "$((T + 60))" --event-end-time "$T" --destination "Arn=$BUS_ARN"

# replay the first two minutes, only to rule orders; evbus tail follows
# the bus and sees the replayed copies arrive
"$EVBUS" tail --endpoint-url "http://127.0.0.1:$PORT" --bus shop --json \
  >"$TMP/tail.out" 2>"$TMP/tail.err" &
TAIL=$!
for _ in $(seq 100); do
  grep -q 'following bus shop' "$TMP/tail.err" && break
  sleep 0.1
done
expect_out "$ARN:replay/r1	STARTING" start-replay --replay-name r1 \
  --event-source-arn "$ARN:archive/shop-all" --event-start-time "$T" \
  --event-end-time "$((T + 120))" \
  --destination "{\"Arn\":\"$BUS_ARN\",\"FilterArns\":[\"$ARN:rule/shop/orders\"]}" \
  --query '[ReplayArn,State]' --output text
state=
for _ in $(seq 100); do
  ev describe-replay --replay-name r1 --query State --output text && state=$(cat "$TMP/out")
  [ "$state" = COMPLETED ] && break
  sleep 0.1
done
[ "$state" = COMPLETED ] && ok || bad "replay r1 state $state, want COMPLETED"
expect_out "$((T + 120))" describe-replay --replay-name r1 --query EventLastReplayedTime --output text
: >"$TMP/received"
got=$(drain 2)
[ "$got" = 2 ] && ok || bad "replayed deliveries: got $got, want 2"
n=$(grep -c 'replay-name\\": \\"r1\|replay-name\\":\\"r1' "$TMP/received")
[ "$n" = 2 ] && ok || bad "replayed messages with replay-name r1: $n, want 2: $(cat "$TMP/received")"
for _ in $(seq 50); do
  [ "$(grep -c '"replay-name":"r1"' "$TMP/tail.out")" -ge 2 ] && break
  sleep 0.1
done
kill -INT "$TAIL"
wait "$TAIL"
n=$(grep -c '"replay-name":"r1"' "$TMP/tail.out")
[ "$n" -ge 2 ] && ok || bad "evbus tail saw $n replayed events: $(cat "$TMP/tail.out" "$TMP/tail.err")"
# the replayed copies were not archived again
expect_out "3" describe-archive --archive-name shop-all --query EventCount --output text
expect_err IllegalStatusException "is not in a valid state" cancel-replay --replay-name r1
expect_err ResourceNotFoundException "Replay zz does not exist." describe-replay --replay-name zz
expect_out "r1	COMPLETED" list-replays --name-prefix r --query 'Replays[].[ReplayName,State]' --output text

# restart: archives, events and replays are still there
stop_server
start_server || exit 1
expect_out "3	3" describe-archive --archive-name shop-all --query '[EventCount,RetentionDays]' --output text
expect_out "COMPLETED" describe-replay --replay-name r1 --query State --output text
expect_out "" delete-archive --archive-name shop-big
expect_err ResourceNotFoundException "Archive shop-big does not exist." describe-archive --archive-name shop-big

if python3 -c 'import boto3' 2>/dev/null; then
  if timeout 120 python3 "$HERE/archive_api_test.py" "http://127.0.0.1:$PORT"; then ok; else bad "archive_api_test.py"; fi
else
  echo "SKIP boto3 part: boto3 not importable"
fi

stop_server
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
