#!/usr/bin/env bash
# EventBridge Pipes over an Avro topic, end to end through `evbus serve
# --embedded-kafka`:
# - `evbus avro encode` registers a schema in the server's own registry
#   and writes Confluent- and Glue-framed values, build/tools/kafka-produce
#   puts them (and one value with an unknown schema id) on a topic of the
#   embedded cluster;
# - a pipe from that topic (smk:// the embedded cluster's bootstrap) with a
#   filter on a decoded Avro field and a template using decoded fields,
#   into the default bus, where a rule sends the events to a log group;
# - the value with the unknown schema id passes as binary and does not
#   hold up the record after it;
# - a second pipe to a Kafka-topic target (topic/default/TOPIC, the
#   embedded cluster), read back with build/tools/kafka-consume.
#
#   bash tests/cli/test_pipes_avro.sh /path/to/evbus
#
# curl and python3 only; loopback only; every wait is bounded.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
TOOLS=$(cd "$(dirname "$EVBUS")" && pwd)/tools
PRODUCE=$TOOLS/kafka-produce
CONSUME=$TOOLS/kafka-consume
[ -x "$PRODUCE" ] && [ -x "$CONSUME" ] || { echo "missing $PRODUCE or $CONSUME" >&2; exit 2; }
TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

check() { # check WHAT CMD...
  local what=$1
  shift
  if "$@"; then ok; else bad "$what"; fi
}
call() { # call TARGET JSON
  curl -s --max-time 20 -X POST "http://127.0.0.1:$PORT/" -H "X-Amz-Target: $1" \
    -H 'Content-Type: application/x-amz-json-1.1' -d "$2"
}
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
log_details() { # the details of the log group's events, one JSON line each
  call Logs_20140328.FilterLogEvents '{"logGroupName":"/cli/avro"}' |
    python3 -c '
import json,sys
for e in json.load(sys.stdin).get("events",[]):
    print(json.dumps(json.loads(e["message"])["detail"], sort_keys=True))' 2>/dev/null
}
wait_logs() { # wait_logs N
  local n=0
  for _ in $(seq 300); do
    n=$(log_details | wc -l)
    [ "$n" -ge "$1" ] && return 0
    sleep 0.1
  done
  echo "log events: $n, want $1" >&2
  return 1
}

# --registry-url must be an http(s) URL: a usage error otherwise
timeout 20 "$EVBUS" serve --listen 127.0.0.1:0 --data-dir "$TMP/never" --registry-url ftp://x >/dev/null 2>"$TMP/usage.err"
rc=$?
check "--registry-url ftp://x: status $rc, $(head -1 "$TMP/usage.err")" \
  test "$rc" = 64 -a ! -e "$TMP/never"

start_server --embedded-kafka --kafka-property session.timeout.ms=4000 \
  --kafka-property heartbeat.interval.ms=500 || exit 1
BS=$(sed -n 's/^evbus: kafka: embedded test cluster .* at \([^;]*\);.*/\1/p' "$TMP/server.err")
check "embedded bootstrap servers logged" test -n "$BS"
REG=http://127.0.0.1:$PORT

# ---- Avro values on topic tx ----------------------------------------------
cat >"$TMP/tx.avsc" <<'AVSC'
{"type":"record","name":"Tx","namespace":"cli.test","fields":[
 {"name":"id","type":"int"},{"name":"amount","type":"double"},
 {"name":"user","type":"string"}]}
AVSC
printf '%s\n' '{"id":1,"amount":50.0,"user":"ann"}' '{"id":2,"amount":150.5,"user":"bob"}' |
  "$EVBUS" avro encode --registry "$REG" --subject tx-value --schema "$TMP/tx.avsc" >"$TMP/values.hex"
check "avro encode (Confluent)" test "$(wc -l <"$TMP/values.hex")" = 2
echo 0000002710deadbeef >>"$TMP/values.hex" # schema id 10000: unknown
printf '%s\n' '{"id":3,"amount":300.0,"user":"cy"}' |
  "$EVBUS" avro encode --registry "$REG" --subject tx-value --glue >>"$TMP/values.hex"
check "avro encode (Glue)" test "$(wc -l <"$TMP/values.hex")" = 4
python3 -c '
import base64, json, sys
for line in sys.stdin:
    if line.strip():
        print(json.dumps({"topic": "tx", "partition": 0,
                          "value_b64": base64.b64encode(bytes.fromhex(line.strip())).decode()}))
' <"$TMP/values.hex" >"$TMP/values.jsonl"
check "kafka-produce" "$PRODUCE" --bootstrap-servers "$BS" <"$TMP/values.jsonl"

# ---- a rule from the pipe to a log group ------------------------------------
out=$(call AWSEvents.PutRule '{"Name":"from-avro","EventPattern":"{\"source\":[\"Pipe avro-pipe\"]}"}')
check "PutRule" grep -q RuleArn <<<"$out"
out=$(call AWSEvents.PutTargets '{"Rule":"from-avro","Targets":[{"Id":"l","Arn":"arn:aws:logs:us-east-1:000000000000:log-group:/cli/avro"}]}')
check "PutTargets" grep -q '"FailedEntryCount":0' <<<"$out"

ROLE=arn:aws:iam::000000000000:role/pipes
create() { # create NAME BODY
  curl -s -o "$TMP/create.out" -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/v1/pipes/$1" \
    -H 'Content-Type: application/json' -d "$2"
}
code=$(create avro-pipe '{"Source":"smk://'"$BS"'","RoleArn":"'$ROLE'",
  "SourceParameters":{"SelfManagedKafkaParameters":{"TopicName":"tx","StartingPosition":"TRIM_HORIZON"},
    "FilterCriteria":{"Filters":[{"Pattern":"{\"value\":{\"amount\":[{\"numeric\":[\">\",100]}]}}"}]}},
  "Target":"arn:aws:events:us-east-1:000000000000:event-bus/default",
  "TargetParameters":{"InputTemplate":"{\"id\": <$.value.id>, \"amount\": <$.value.amount>, \"who\": \"<$.value.user>\"}"}}')
check "CreatePipe avro-pipe: $code $(cat "$TMP/create.out")" test "$code" = 200
code=$(create avro-kafka '{"Source":"smk://'"$BS"'","RoleArn":"'$ROLE'",
  "SourceParameters":{"SelfManagedKafkaParameters":{"TopicName":"tx","StartingPosition":"TRIM_HORIZON"}},
  "Target":"arn:aws:kafka:us-east-1:000000000000:topic/default/tx-out",
  "TargetParameters":{"InputTemplate":"{\"id\": <$.value.id>}"}}')
check "CreatePipe avro-kafka: $code $(cat "$TMP/create.out")" test "$code" = 200
check "avro-pipe RUNNING" wait_state avro-pipe RUNNING
check "avro-kafka RUNNING" wait_state avro-kafka RUNNING

# ---- what arrived ---------------------------------------------------------
check "3 events in the log group" wait_logs 3
got=$(log_details)
want='{"amount": 150.5, "id": 2, "who": "bob"}
{"amount": null, "id": null, "who": ""}
{"amount": 300.0, "id": 3, "who": "cy"}'
check "events: $got" test "$got" = "$want"

out=$("$CONSUME" --bootstrap-servers "$BS" --topic tx-out --count 4 --timeout 30 2>"$TMP/consume.err")
vals=$(python3 -c '
import json,sys
for l in sys.stdin:
    print(json.loads(l)["value"])' <<<"$out" | sort)
# no key: the partitioner spreads them over the topic's partitions
want='{"id": 1}
{"id": 2}
{"id": 3}
{"id": null}'
check "Kafka target: $vals $(cat "$TMP/consume.err")" test "$vals" = "$want"

stop_server
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
