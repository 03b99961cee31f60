#!/usr/bin/env bash
# build/tools/kafka-mock, the standalone test cluster: its usage errors,
# its first stdout line (the bootstrap servers of every broker), topics
# pre-created with --topic NAME:P (messages produced through `evbus serve
# --kafka-config bootstrap.servers=...` land on exactly P partitions and
# are read back with build/tools/kafka-consume), and a clean stop on
# SIGTERM and on SIGINT (exit status 0, its "stopped" line).
#
#   bash tests/cli/test_kafka_mock.sh /path/to/evbus
#
# Loopback only; every wait is bounded; a trap stops every process it
# started.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
TOOLS=$(cd "$(dirname "$EVBUS")" && pwd)/tools
MOCK=$TOOLS/kafka-mock
CONSUME=$TOOLS/kafka-consume
[ -x "$MOCK" ] && [ -x "$CONSUME" ] || { echo "missing $MOCK or $CONSUME" >&2; exit 2; }
TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

MOCK_PID=
stop_mock_on_exit() {
  if [ -n "$MOCK_PID" ] && kill -0 "$MOCK_PID" 2>/dev/null; then
    kill -KILL "$MOCK_PID" 2>/dev/null
    wait "$MOCK_PID" 2>/dev/null
  fi
  cleanup
}
trap stop_mock_on_exit EXIT

# start_mock ARGS...: run kafka-mock, set MOCK_PID and BS (its first line)
start_mock() {
  # a fresh file: the redirection below happens in the background job, so
  # a file left by the previous mock could be read before it is truncated
  rm -f "$TMP/mock.out" "$TMP/mock.err"
  "$MOCK" "$@" >"$TMP/mock.out" 2>"$TMP/mock.err" &
  MOCK_PID=$!
  BS=
  for _ in $(seq 100); do
    BS=$(head -n 1 "$TMP/mock.out" 2>/dev/null)
    [ -n "$BS" ] && return 0
    kill -0 "$MOCK_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "kafka-mock did not start: $(cat "$TMP/mock.err")" >&2
  return 1
}

# stop_mock SIGNAL: it must stop within 10 s with status 0
stop_mock() {
  local sig=$1 rc
  kill -"$sig" "$MOCK_PID"
  for _ in $(seq 100); do
    kill -0 "$MOCK_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$MOCK_PID" 2>/dev/null; then
    bad "kafka-mock still running 10 s after SIG$sig"
    kill -KILL "$MOCK_PID"
  fi
  wait "$MOCK_PID"
  rc=$?
  [ "$rc" = 0 ] && ok || bad "kafka-mock exit status $rc after SIG$sig"
  grep -q "SIG$sig received, stopping" "$TMP/mock.err" && grep -q "kafka-mock: stopped" "$TMP/mock.err" &&
    ok || bad "no stop lines after SIG$sig: $(cat "$TMP/mock.err")"
  MOCK_PID=
}

# usage
"$MOCK" --help >"$TMP/help" 2>&1 && grep -q "never a production broker" "$TMP/help" && ok ||
  bad "--help: $(cat "$TMP/help")"
for args in "--brokers 0" "--brokers x" "--partitions 0" "--topic bad/name" "--topic t:0" \
    "--nope" "extra"; do
  # shellcheck disable=SC2086
  timeout 10 "$MOCK" $args >"$TMP/out" 2>"$TMP/err"
  rc=$?
  [ "$rc" = 64 ] && [ ! -s "$TMP/out" ] && ok || bad "kafka-mock $args: status $rc, stdout '$(cat "$TMP/out")'"
done

# three brokers; the first line lists them all
start_mock --brokers 3 --partitions 2 --topic two --topic three:3 || exit 1
if printf '%s' "$BS" | grep -Eq '^127\.0\.0\.1:[0-9]+(,127\.0\.0\.1:[0-9]+){2}$'; then ok
else bad "first line '$BS'"; fi
[ "$(wc -l <"$TMP/mock.out")" = 1 ] && ok || bad "more than one stdout line"
grep -q "test cluster" "$TMP/mock.err" && ok || bad "no test-cluster line: $(cat "$TMP/mock.err")"

# produce through evbus (a rule with two Kafka targets), read back
start_server --kafka-config "bootstrap.servers=$BS" || exit 1
call() { # call TARGET JSON: AWS JSON 1.1 request; body on stdout
  curl -s --max-time 20 -X POST "http://127.0.0.1:$PORT/" -H "X-Amz-Target: AWSEvents.$1" \
    -H "Content-Type: application/x-amz-json-1.1" -d "$2"
}
call PutRule '{"Name":"r","EventPattern":"{\"source\":[\"mock-test\"]}"}' >/dev/null
out=$(call PutTargets '{"Rule":"r","Targets":[
  {"Id":"two","Arn":"arn:aws:kafka:us-east-1:000000000000:topic/default/two","KafkaParameters":{"PartitionKeyPath":"$.detail.k"}},
  {"Id":"three","Arn":"arn:aws:kafka:us-east-1:000000000000:topic/default/three","KafkaParameters":{"PartitionKeyPath":"$.detail.k"}}]}')
[ "$out" = '{"FailedEntryCount":0,"FailedEntries":[]}' ] && ok || bad "PutTargets: $out"
for i in 0 1 2; do
  entries=$(python3 -c 'import json,sys
b=int(sys.argv[1])
print(json.dumps({"Entries":[{"Source":"mock-test","DetailType":"t","Detail":json.dumps({"k":"key-%d"%(b*10+j)})} for j in range(10)]}))' "$i")
  out=$(call PutEvents "$entries")
  case "$out" in *'"FailedEntryCount":0'*) ok ;; *) bad "PutEvents: $out" ;; esac
done
for t in two three; do
  timeout 60 "$CONSUME" --bootstrap-servers "$BS" --topic "$t" --count 30 --timeout 40 >"$TMP/$t.jsonl" 2>"$TMP/$t.err" &&
    ok || bad "kafka-consume $t: $(cat "$TMP/$t.err")"
done
python3 - "$TMP/two.jsonl" "$TMP/three.jsonl" >"$TMP/py.out" 2>&1 <<'PY' && ok || bad "partitions: $(cat "$TMP/py.out")"
import json, sys
for path, parts in ((sys.argv[1], 2), (sys.argv[2], 3)):
    msgs = [json.loads(l) for l in open(path)]
    assert len(msgs) == 30, (path, len(msgs))
    seen = {m["partition"] for m in msgs}
    assert seen == set(range(parts)), (path, seen)
    keys = sorted(m["key"] for m in msgs)
    assert keys == sorted("key-%d" % i for i in range(30)), keys
    for m in msgs:
        assert json.loads(m["value"])["detail"]["k"] == m["key"]
PY
stop_server

stop_mock TERM
start_mock || exit 1
printf '%s' "$BS" | grep -Eq '^127\.0\.0\.1:[0-9]+$' && ok || bad "one broker: '$BS'"
stop_mock INT

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
