#!/usr/bin/env bash
# EventBridge Pipes end to end with the real AWS CLI against `evbus serve`:
# a Kafka cluster (build/tools/pipes-mock, librdkafka's mock cluster, fed
# records through a FIFO), a rule on the default bus that sends the
# pipe's events to a log group, and `aws pipes` through create / describe /
# list (paged) / update / stop / start / tags / delete, the REST error
# shapes (NotFoundException, ConflictException, ValidationException), a
# server restart that keeps the pipe, its tags and its progress, and a
# kill -9 while records flow that loses none of them.
#
#   bash tests/cli/test_pipes_api.sh /path/to/evbus
#
# Dummy credentials; nothing outside 127.0.0.1 is contacted; every wait is
# bounded. Prints "N passed, M failed"; exits non-zero on failure. Without
# the aws CLI the test is skipped and says so.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
MOCK=$(dirname "$EVBUS")/tools/pipes-mock
TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

if ! command -v aws >/dev/null 2>&1; then
  echo "SKIP: no aws CLI"
  exit 0
fi
if [ ! -x "$MOCK" ]; then
  echo "FAIL: $MOCK is not built"
  exit 1
fi

check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok; else bad "$what"; fi
}

# the Kafka cluster; fd 3 writes its commands
MOCK_PID=
mkfifo "$TMP/mock.in"
"$MOCK" --topic orders:2 --ttl 250 <"$TMP/mock.in" >"$TMP/mock.out" 2>"$TMP/mock.err" &
MOCK_PID=$!
exec 3>"$TMP/mock.in"
stop_mock() {
  exec 3>&- 2>/dev/null
  [ -n "$MOCK_PID" ] && wait "$MOCK_PID" 2>/dev/null
  MOCK_PID=
}
trap 'stop_mock; cleanup' EXIT
BOOT=
for _ in $(seq 100); do
  BOOT=$(sed -n 's/^bootstrap //p' "$TMP/mock.out")
  [ -n "$BOOT" ] && break
  sleep 0.1
done
[ -n "$BOOT" ] || { echo "FAIL: pipes-mock did not start: $(cat "$TMP/mock.err")"; exit 1; }
produce() { echo "produce orders $1 $2" >&3; }
flush_mock() {
  echo flush >&3
  local n0
  n0=$(grep -c '^ok' "$TMP/mock.out")
  for _ in $(seq 100); do
    [ "$(grep -c '^ok' "$TMP/mock.out")" -gt "$n0" ] && return 0
    sleep 0.1
  done
  return 1
}

# librdkafka's mock cluster makes a group that a member left wait
# session.timeout.ms - 1 s before it takes a new member: keep it short
SERVE_ARGS=(--kafka-property session.timeout.ms=4000 --kafka-property heartbeat.interval.ms=500)
start_server "${SERVE_ARGS[@]}" || exit 1
EP="--endpoint-url http://127.0.0.1:$PORT --region us-east-1"
pipes() { timeout 60 aws pipes "$@" $EP --output json; }
jq_() { python3 -c "import json,sys;d=json.load(sys.stdin);print(eval(sys.argv[1]))" "$1"; }
# polling goes through curl (the aws CLI takes most of a second a call)
state_of() {
  curl -s "http://127.0.0.1:$PORT/v1/pipes/$1" |
    python3 -c 'import json,sys;print(json.load(sys.stdin).get("CurrentState",""))' 2>/dev/null
}
wait_state() { # wait_state NAME STATE
  local s
  for _ in $(seq 300); do
    s=$(state_of "$1")
    [ "$s" = "$2" ] && return 0
    sleep 0.1
  done
  echo "state of $1: $s, want $2" >&2
  return 1
}
log_messages() {
  curl -s -X POST "http://127.0.0.1:$PORT/" -H 'X-Amz-Target: Logs_20140328.FilterLogEvents' \
    -H 'Content-Type: application/x-amz-json-1.1' -d '{"logGroupName":"/cli/pipe"}'
}
log_count() {
  curl -s -X POST "http://127.0.0.1:$PORT/" -H 'X-Amz-Target: Logs_20140328.FilterLogEvents' \
    -H 'Content-Type: application/x-amz-json-1.1' -d '{"logGroupName":"/cli/pipe"}' |
    python3 -c 'import json,sys;print(len(json.load(sys.stdin).get("events",[])))' 2>/dev/null
}
wait_logs() { # wait_logs N
  local n=0
  for _ in $(seq 300); do
    n=$(log_count)
    [ "${n:-0}" -ge "$1" ] && return 0
    sleep 0.1
  done
  echo "log events: $n, want $1" >&2
  return 1
}

ROLE=arn:aws:iam::000000000000:role/pipes
BUS=arn:aws:events:us-east-1:000000000000:event-bus/default
ARN=arn:aws:pipes:us-east-1:000000000000:pipe/cli-pipe
timeout 60 aws events put-rule --name from-pipe --event-pattern '{"source":["Pipe cli-pipe"]}' $EP >/dev/null
timeout 60 aws events put-targets --rule from-pipe $EP \
  --targets Id=l,Arn=arn:aws:logs:us-east-1:000000000000:log-group:/cli/pipe >/dev/null
check "put-targets" test $? = 0

# create
out=$(pipes create-pipe --name cli-pipe --source "smk://$BOOT" \
  --source-parameters '{"SelfManagedKafkaParameters":{"TopicName":"orders","StartingPosition":"TRIM_HORIZON"},"FilterCriteria":{"Filters":[{"Pattern":"{\"value\":{\"keep\":[true]}}"}]}}' \
  --target "$BUS" --role-arn "$ROLE" --tags team=pay \
  --target-parameters '{"InputTemplate":"{\"n\": <$.value.n>, \"gen\": 1}"}')
check "create-pipe CREATING" test "$(jq_ 'd["CurrentState"]' <<<"$out")" = CREATING
check "create-pipe arn" test "$(jq_ 'd["Arn"]' <<<"$out")" = "$ARN"
check "RUNNING" wait_state cli-pipe RUNNING
for i in 1 2 3 4 5 6; do
  if [ $((i % 2)) = 0 ]; then keep=false; else keep=true; fi
  produce $((i % 2)) "{\"n\":$i,\"keep\":$keep}"
done
flush_mock
check "3 records through the pipe" wait_logs 3
msgs=$(log_messages)
check "transformed detail" grep -q '\\"detail\\":{\\"n\\":1,\\"gen\\":1}' <<<"$msgs"

# describe, list (paged), tags
out=$(pipes describe-pipe --name cli-pipe)
check "describe source" test "$(jq_ 'd["Source"]' <<<"$out")" = "smk://$BOOT"
check "describe tags" test "$(jq_ 'd["Tags"]["team"]' <<<"$out")" = pay
check "describe filter" grep -q FilterCriteria <<<"$out"
pipes create-pipe --name cli-other --source "smk://$BOOT" --desired-state STOPPED \
  --source-parameters '{"SelfManagedKafkaParameters":{"TopicName":"orders"}}' \
  --target "$BUS" --role-arn "$ROLE" >/dev/null
out=$(pipes list-pipes --page-size 1)
check "list-pipes pages" test "$(jq_ 'len(d["Pipes"])' <<<"$out")" = 2
out=$(pipes list-pipes --name-prefix cli-o)
check "list-pipes prefix" test "$(jq_ 'd["Pipes"][0]["Name"]' <<<"$out")" = cli-other
out=$(curl -s "http://127.0.0.1:$PORT/v1/pipes?DesiredState=STOPPED")
check "list-pipes desired state" test "$(jq_ 'len(d["Pipes"])' <<<"$out")" = 1
check "tag-resource" pipes tag-resource --resource-arn "$ARN" --tags env=test,tier=1
check "untag-resource" pipes untag-resource --resource-arn "$ARN" --tag-keys tier
out=$(pipes list-tags-for-resource --resource-arn "$ARN")
check "list-tags" test "$(jq_ 'sorted(d["tags"].items())' <<<"$out")" = "[('env', 'test'), ('team', 'pay')]"

# errors
err=$(pipes describe-pipe --name nope 2>&1)
check "NotFoundException" grep -q 'NotFoundException.*Pipe nope does not exist' <<<"$err"
err=$(pipes create-pipe --name cli-pipe --source "smk://$BOOT" \
  --source-parameters '{"SelfManagedKafkaParameters":{"TopicName":"orders"}}' \
  --target "$BUS" --role-arn "$ROLE" 2>&1)
check "ConflictException" grep -q 'ConflictException.*already exists' <<<"$err"
err=$(pipes create-pipe --name cli-bad --source "smk://$BOOT" \
  --source-parameters '{"SelfManagedKafkaParameters":{"TopicName":"orders","BatchSize":50}}' \
  --target "$BUS" --role-arn "$ROLE" 2>&1)
check "ValidationException" grep -q 'ValidationException.*BatchSize 50 is larger than the target supports' <<<"$err"
code=$(curl -s -o /dev/null -w '%{http_code} %header{x-amzn-errortype}' \
  "http://127.0.0.1:$PORT/tags/arn%3Aaws%3Apipes%3Aus-east-1%3A000000000000%3Apipe%2Fnone")
check "tags NotFoundException" test "$code" = "404 NotFoundException"
code=$(curl -s -o "$TMP/body" -w '%{http_code} %header{x-amzn-errortype}' "http://127.0.0.1:$PORT/v1/pipes/nope")
check "REST status and x-amzn-ErrorType" test "$code" = "404 NotFoundException"
check "REST error body" grep -q '"message":"Pipe nope does not exist."' "$TMP/body"

# update: the new template applies to what comes next
out=$(pipes update-pipe --name cli-pipe --role-arn "$ROLE" \
  --target-parameters '{"InputTemplate":"{\"n\": <$.value.n>, \"gen\": 2}"}')
check "update-pipe UPDATING" test "$(jq_ 'd["CurrentState"]' <<<"$out")" = UPDATING
check "RUNNING after update" wait_state cli-pipe RUNNING
produce 1 '{"n":7,"keep":true}'
flush_mock
check "4 records" wait_logs 4
msgs=$(log_messages)
check "updated template" grep -q '\\"detail\\":{\\"n\\":7,\\"gen\\":2}' <<<"$msgs"

# stop, records wait; start, they arrive
out=$(pipes stop-pipe --name cli-pipe)
check "stop-pipe STOPPING" test "$(jq_ 'd["CurrentState"]' <<<"$out")" = STOPPING
check "STOPPED" wait_state cli-pipe STOPPED
produce 0 '{"n":9,"keep":true}'
flush_mock
sleep 0.5
check "nothing while stopped" test "$(log_count)" = 4
out=$(pipes start-pipe --name cli-pipe)
check "start-pipe STARTING" test "$(jq_ 'd["CurrentState"]' <<<"$out")" = STARTING
check "RUNNING after start" wait_state cli-pipe RUNNING
check "5 records" wait_logs 5

# restart: pipe, tags and progress are kept
stop_server
start_server "${SERVE_ARGS[@]}" || exit 1
EP="--endpoint-url http://127.0.0.1:$PORT --region us-east-1"
check "RUNNING after restart" wait_state cli-pipe RUNNING
check "STOPPED stays STOPPED" test "$(state_of cli-other)" = STOPPED
out=$(curl -s "http://127.0.0.1:$PORT/tags/arn%3Aaws%3Apipes%3Aus-east-1%3A000000000000%3Apipe%2Fcli-pipe")
check "tags after restart" test "$(jq_ 'd["tags"]["env"]' <<<"$out")" = test
produce 1 '{"n":11,"keep":true}'
flush_mock
check "6 records" wait_logs 6
sleep 0.5
check "none twice" test "$(log_count)" = 6

# kill -9 while records flow: after a restart every record is there (a
# batch whose offsets were not yet committed may come twice)
for i in $(seq 100 139); do produce $((i % 2)) "{\"n\":$i,\"keep\":true}"; done
flush_mock
for _ in $(seq 50); do [ "$(log_count)" -gt 6 ] && break; sleep 0.05; done
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
start_server "${SERVE_ARGS[@]}" || exit 1
EP="--endpoint-url http://127.0.0.1:$PORT --region us-east-1"
check "RUNNING after kill -9" wait_state cli-pipe RUNNING
all_there() {
  log_messages | python3 -c '
import json, sys
seen = set()
for e in json.load(sys.stdin)["events"]:
    seen.add(json.loads(e["message"])["detail"]["n"])
sys.exit(0 if all(n in seen for n in range(100, 140)) else 1)'
}
for _ in $(seq 300); do all_there && break; sleep 0.1; done
check "nothing lost after kill -9" all_there

# delete
out=$(pipes delete-pipe --name cli-pipe)
check "delete-pipe DELETING" test "$(jq_ 'd["CurrentState"]+d["DesiredState"]' <<<"$out")" = DELETINGDELETED
gone() { ! pipes describe-pipe --name cli-pipe >/dev/null 2>&1; }
for _ in $(seq 100); do gone && break; sleep 0.1; done
check "deleted" gone
pipes delete-pipe --name cli-other >/dev/null

stop_server
stop_mock
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
