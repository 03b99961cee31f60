#!/usr/bin/env bash
# `evbus serve`'s Kafka options end to end:
# - bad Kafka configuration is a usage error (status 64) that names the
#   option, or the file and line, and starts nothing;
# - --embedded-kafka: the server logs its test cluster's bootstrap
#   servers; a rule whose Kafka target is `default` receives PutEvents
#   events, read back with build/tools/kafka-consume and compared (ids,
#   keys from the target's JSONPath, whole events, transformed input);
# - --kafka-cluster NAME=FILE: a named cluster (a kafka-mock process),
#   reached through MSK's topic ARN form;
# - a target whose cluster is not configured: the event goes to the
#   target's dead-letter queue (the built-in SQS) with ERROR_CODE
#   NO_RESOURCE;
# - a secret property (sasl.password) never reaches the log.
#
#   bash tests/cli/test_kafka_serve.sh /path/to/evbus
#
# Loopback only; every wait is bounded; a trap stops everything started.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
TOOLS=$(cd "$(dirname "$EVBUS")" && pwd)/tools
MOCK=$TOOLS/kafka-mock
CONSUME=$TOOLS/kafka-consume
[ -x "$MOCK" ] && [ -x "$CONSUME" ] || { echo "missing $MOCK or $CONSUME" >&2; exit 2; }
TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

MOCK_PID=
stop_all() {
  if [ -n "$MOCK_PID" ] && kill -0 "$MOCK_PID" 2>/dev/null; then
    kill -TERM "$MOCK_PID" 2>/dev/null
    wait "$MOCK_PID" 2>/dev/null
  fi
  cleanup
}
trap stop_all EXIT

call() { # call SERVICE.ACTION JSON [CONTENT-TYPE-VERSION]: body on stdout
  curl -s --max-time 20 -X POST "http://127.0.0.1:$PORT/" -H "X-Amz-Target: $1" \
    -H "Content-Type: application/x-amz-json-${3:-1.1}" -d "$2"
}
expect_in() { # expect_in WHAT TEXT NEEDLE
  case "$2" in *"$3"*) ok ;; *) bad "$1: '$3' not in: $2" ;; esac
}

# ---- usage errors: status 64, a clear message, no data dir ---------------
printf 'bootstrap.servers=127.0.0.1:1\n\n  no.such.property = 1\n' >"$TMP/unknown.properties"
printf 'ok=1\nbad=\\u12\n' >"$TMP/syntax.properties"
usage_case() { # usage_case NEEDLE ARGS...
  local needle=$1
  shift
  timeout 20 "$EVBUS" serve --listen 127.0.0.1:0 --data-dir "$TMP/never" "$@" >/dev/null 2>"$TMP/usage.err"
  local rc=$?
  [ "$rc" = 64 ] && grep -qF -- "$needle" "$TMP/usage.err" && [ ! -e "$TMP/never" ] && ok ||
    bad "serve $*: status $rc, want 64 and '$needle': $(head -3 "$TMP/usage.err")"
}
usage_case "--kafka-config: expected key=value, got 'nonsense'" --kafka-config nonsense
usage_case "Kafka cluster default: --kafka-config: no.such: not a librdkafka configuration property" \
  --kafka-config no.such=1
usage_case "Kafka cluster default: --kafka-config: linger.ms: " --kafka-config linger.ms=soon
usage_case "$TMP/missing.properties: No such file or directory" --kafka-config-file "$TMP/missing.properties"
usage_case "$TMP/unknown.properties:3: no.such.property: not a librdkafka configuration property" \
  --kafka-config-file "$TMP/unknown.properties"
usage_case "$TMP/syntax.properties:2: malformed \\uxxxx escape" --kafka-config-file "$TMP/syntax.properties"
usage_case "Kafka cluster other: $TMP/unknown.properties:3: no.such.property" \
  --kafka-cluster "other=$TMP/unknown.properties"
usage_case "--kafka-cluster: expected NAME=FILE" --kafka-cluster justaname
usage_case "--kafka-cluster: not a valid cluster name: 'a/b'" --kafka-cluster "a/b=$TMP/x"
usage_case "--kafka-cluster: \`default\` is configured with" --kafka-cluster "default=$TMP/x"
usage_case "--embedded-kafka makes the embedded cluster \`default\`" --embedded-kafka \
  --kafka-config bootstrap.servers=127.0.0.1:1

# ---- a named cluster: a kafka-mock process -----------------------------
"$MOCK" >"$TMP/mock.out" 2>"$TMP/mock.err" &
MOCK_PID=$!
BS2=
for _ in $(seq 100); do
  BS2=$(head -n 1 "$TMP/mock.out" 2>/dev/null)
  [ -n "$BS2" ] && break
  sleep 0.1
done
[ -n "$BS2" ] || { echo "kafka-mock did not start" >&2; exit 1; }
printf '# the second cluster\nbootstrap.servers: %s\nclient.id = evbus-test\n' "$BS2" >"$TMP/ext.properties"

start_server --embedded-kafka --kafka-cluster "ext=$TMP/ext.properties" \
  --kafka-config client.id=evbus-default --kafka-config sasl.username=alice \
  --kafka-config sasl.password=Sup3rSecretPw || exit 1
BS=$(sed -n 's/^evbus: kafka: embedded test cluster .* at \([^;]*\);.*/\1/p' "$TMP/server.err")
printf '%s' "$BS" | grep -Eq '^127\.0\.0\.1:[0-9]+$' && ok || bad "no embedded bootstrap line: $(cat "$TMP/server.err")"
grep -q "not for production" "$TMP/server.err" && ok || bad "no test-cluster warning"
grep -qF "evbus: kafka: cluster ext: bootstrap.servers=$BS2, client.id=evbus-test" "$TMP/server.err" && ok ||
  bad "no line for cluster ext: $(cat "$TMP/server.err")"
grep -qF "sasl.password=[redacted]" "$TMP/server.err" && ok || bad "the password is not shown redacted"

call AWSEvents.PutRule '{"Name":"k","EventPattern":"{\"source\":[\"kafka-test\"]}"}' >/dev/null
call AmazonSQS.CreateQueue '{"QueueName":"dlq"}' 1.0 >/dev/null
out=$(call AWSEvents.PutTargets '{"Rule":"k","Targets":[
 {"Id":"whole","Arn":"arn:aws:kafka:us-east-1:000000000000:topic/default/orders","KafkaParameters":{"PartitionKeyPath":"$.detail.user"}},
 {"Id":"shaped","Arn":"arn:aws:kafka:eu-west-1:123456789012:topic/ext/abcd1234-0123-abcd-5678-1234abcd-1/shaped",
  "InputTransformer":{"InputPathsMap":{"u":"$.detail.user","n":"$.detail.n"},"InputTemplate":"{\"who\":<u>,\"n\":<n>}"},
  "KinesisParameters":{"PartitionKeyPath":"$.detail.n"}},
 {"Id":"lost","Arn":"arn:aws:kafka:us-east-1:000000000000:topic/nowhere/t",
  "DeadLetterConfig":{"Arn":"arn:aws:sqs:us-east-1:000000000000:dlq"}}]}')
[ "$out" = '{"FailedEntryCount":0,"FailedEntries":[]}' ] && ok || bad "PutTargets: $out"
out=$(call AWSEvents.PutTargets '{"Rule":"k","Targets":[{"Id":"x","Arn":"arn:aws:kafka:us-east-1:000000000000:topic/default"}]}')
expect_in "PutTargets with a bad Kafka ARN" "$out" "Provided Arn is not in correct format."
out=$(call AWSEvents.ListTargetsByRule '{"Rule":"k"}')
expect_in "ListTargetsByRule keeps KafkaParameters" "$out" '"KafkaParameters":{"PartitionKeyPath":"$.detail.user"}'

entries=$(python3 -c 'import json
print(json.dumps({"Entries":[{"Source":"kafka-test","DetailType":"Order","Detail":json.dumps({"user":"user-%d" % i,"n":i})} for i in range(5)]}))')
call AWSEvents.PutEvents "$entries" >"$TMP/put.json"
expect_in PutEvents "$(cat "$TMP/put.json")" '"FailedEntryCount":0'

timeout 60 "$CONSUME" --bootstrap-servers "$BS" --topic orders --count 5 --timeout 40 >"$TMP/orders.jsonl" 2>"$TMP/c1.err" &&
  ok || bad "kafka-consume orders: $(cat "$TMP/c1.err")"
timeout 60 "$CONSUME" --bootstrap-servers "$BS2" --topic shaped --count 5 --timeout 40 >"$TMP/shaped.jsonl" 2>"$TMP/c2.err" &&
  ok || bad "kafka-consume shaped: $(cat "$TMP/c2.err")"
python3 - "$TMP/put.json" "$TMP/orders.jsonl" "$TMP/shaped.jsonl" >"$TMP/py.out" 2>&1 <<'PY' && ok || bad "compare: $(cat "$TMP/py.out")"
import json, sys
ids = [e["EventId"] for e in json.load(open(sys.argv[1]))["Entries"]]
orders = [json.loads(l) for l in open(sys.argv[2])]
assert len(orders) == 5
by_id = {}
for m in orders:
    ev = json.loads(m["value"])
    assert ev["source"] == "kafka-test" and ev["detail-type"] == "Order", ev
    assert m["key"] == ev["detail"]["user"] == "user-%d" % ev["detail"]["n"], m
    assert set(ev) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}, ev
    by_id[ev["id"]] = ev
assert sorted(by_id) == sorted(ids), (sorted(by_id), ids)
shaped = sorted((json.loads(l) for l in open(sys.argv[3])), key=lambda m: m["key"])
assert [m["key"] for m in shaped] == ["0", "1", "2", "3", "4"], shaped
assert [json.loads(m["value"]) for m in shaped] == [{"who": "user-%d" % i, "n": i} for i in range(5)], shaped
PY

# the unknown cluster: five dead letters, NO_RESOURCE
got=0
for _ in $(seq 50); do
  out=$(call AmazonSQS.ReceiveMessage '{"QueueUrl":"http://127.0.0.1:'"$PORT"'/000000000000/dlq","MaxNumberOfMessages":10,"MessageAttributeNames":["All"],"VisibilityTimeout":60}' 1.0)
  n=$(printf '%s' "$out" | python3 -c 'import json,sys
ms = json.load(sys.stdin).get("Messages", [])
for m in ms:
    a = m["MessageAttributes"]
    assert a["ERROR_CODE"]["StringValue"] == "NO_RESOURCE", a
    assert "no Kafka cluster named nowhere" in a["ERROR_MESSAGE"]["StringValue"], a
    assert a["TARGET_ARN"]["StringValue"].endswith(":topic/nowhere/t"), a
    assert json.loads(m["Body"])["source"] == "kafka-test"
print(len(ms))' 2>"$TMP/dlq.err") || { bad "dead letters: $(cat "$TMP/dlq.err")"; break; }
  got=$((got + n))
  [ "$got" -ge 5 ] && break
  sleep 0.2
done
[ "$got" = 5 ] && ok || bad "dead letters: $got, want 5"

grep -q "Sup3rSecretPw" "$TMP/server.err" && bad "the password leaked into the log" || ok
stop_server
grep -q "Sup3rSecretPw" "$TMP/server.err" && bad "the password leaked into the log at shutdown" || ok

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
