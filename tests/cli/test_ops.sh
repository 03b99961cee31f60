#!/usr/bin/env bash
# Operability end to end (issue 8):
# - TLS: `evbus serve --tls-cert --tls-key` with a self-signed certificate
#   made here (SAN IP:127.0.0.1); the AWS CLI with --ca-bundle works and
#   without it refuses the certificate; `evbus put` over HTTPS;
#   `serve --ca-bundle` lets an API destination on that HTTPS server be
#   invoked;
# - /metrics after PutEvents with rules whose targets are a queue, an API
#   destination, a missing queue and a missing queue with a DLQ (values of
#   the EventBridge-named counters and the latency histogram), /ready;
# - evbus tail (all events; --pattern --json), evbus put from stdin and
#   arguments, test-pattern --bus, a tail client that does not read is
#   dropped while PutEvents goes on;
# - limits: --max-connections (503 ThrottlingException), the header
#   timeout against a client trickling its headers (ops_client.py);
# - logs: --log-format json --log-level debug gives JSON lines with request
#   ids, and no secret; /ready and --public-metrics without signatures.
#
#   bash tests/cli/test_ops.sh /path/to/evbus
#
# 127.0.0.1 only; every server and client started here is stopped; every
# wait is bounded. Prints "N passed, M failed".
set -u
EVBUS=${1:?usage: $0 /path/to/evbus}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
. "$HERE/lib/server.sh"

PIDS=()
cleanup_ops() {
  for p in "${PIDS[@]}"; do
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  cleanup
}
trap cleanup_ops EXIT

check() { # check NAME COMMAND...
  local name=$1
  shift
  if "$@" >/dev/null 2>&1; then ok; else bad "$name"; fi
}

# call ENDPOINT TARGET JSON: an AWS JSON call with curl; prints the body
call() {
  local ct=application/x-amz-json-1.1
  case $2 in AmazonSQS.*) ct=application/x-amz-json-1.0 ;; esac
  curl -s -m 10 -X POST "$1/" -H "X-Amz-Target: $2" -H "Content-Type: $ct" -d "$3"
}

# metric ENDPOINT 'name{labels}': the value of one series ("" if absent)
metric() {
  curl -s -m 10 "$1/metrics" | awk -v k="$2" 'index($0, k " ") == 1 { print $2 }'
}

# wait_metric ENDPOINT SERIES VALUE: poll until the series has VALUE (10 s)
wait_metric() {
  local v
  for _ in $(seq 100); do
    v=$(metric "$1" "$2")
    [ "$v" = "$3" ] && return 0
    sleep 0.1
  done
  echo "  $2 = '$v', want $3" >&2
  return 1
}

# start_named NAME ARGS...: a server of our own; sets NPID and NURL
start_named() {
  local name=$1
  shift
  "$EVBUS" serve --listen 127.0.0.1:0 --data-dir "$TMP/$name" "$@" 2>"$TMP/$name.log" >/dev/null &
  NPID=$!
  PIDS+=("$NPID")
  NURL=
  for _ in $(seq 100); do
    NURL=$(sed -n 's/.*listening on \(https\{0,1\}:\/\/127\.0\.0\.1:[0-9]*\) .*/\1/p' "$TMP/$name.log")
    [ -n "$NURL" ] && return 0
    kill -0 "$NPID" 2>/dev/null || break
    sleep 0.1
  done
  echo "server $name did not start: $(cat "$TMP/$name.log")" >&2
  return 1
}

stop_named() { # stop_named PID NAME: SIGTERM, exit 0 within 10 s
  kill -TERM "$1"
  for _ in $(seq 100); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$1" 2>/dev/null; then
    bad "$2 still running 10 s after SIGTERM"
  else
    wait "$1"
    [ $? = 0 ] && ok || bad "$2: exit status after SIGTERM"
  fi
}

HAVE_AWS=
command -v aws >/dev/null 2>&1 && HAVE_AWS=1

# ---- TLS ----------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
  -days 2 -subj "/CN=evbus-test" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
chmod 600 "$TMP/key.pem"
start_named tls --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" || exit 1
TLS_PID=$NPID
TLS=$NURL
case $TLS in https://*) ok ;; *) bad "TLS server does not say https: $TLS" ;; esac
check "https /health with the CA" test "$(curl -s -m 10 --cacert "$TMP/cert.pem" "$TLS/health")" = '{"status":"ok"}'
check "https without the CA is refused" test "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$TLS/health")" = 000
check "plain HTTP to the TLS port gets nothing" test "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "${TLS/https/http}/health")" = 000
if [ -n "$HAVE_AWS" ]; then
  out=$(timeout 60 aws events list-event-buses --endpoint-url "$TLS" --ca-bundle "$TMP/cert.pem" --output json 2>&1)
  grep -q '"Name": "default"' <<<"$out" && ok || bad "aws cli over TLS with --ca-bundle: $out"
  out=$(timeout 60 aws events put-events --endpoint-url "$TLS" --ca-bundle "$TMP/cert.pem" --output json \
    --entries '[{"Source":"tls.test","DetailType":"t","Detail":"{}"}]' 2>&1)
  grep -q '"FailedEntryCount": 0' <<<"$out" && ok || bad "aws cli put-events over TLS: $out"
  out=$(timeout 60 aws events list-event-buses --endpoint-url "$TLS" --output json 2>&1)
  [ $? != 0 ] && grep -qi 'certificate verify failed' <<<"$out" && ok ||
    bad "aws cli without --ca-bundle should refuse the self-signed certificate: $out"
else
  echo "aws cli not installed: its TLS checks are skipped"
fi
id=$(echo '{"over":"tls"}' | "$EVBUS" put --endpoint-url "$TLS" --ca-bundle "$TMP/cert.pem" 2>"$TMP/put.err")
grep -Eq '^[0-9a-f-]{36}$' <<<"$id" && ok || bad "evbus put over TLS: $id $(cat "$TMP/put.err")"

# ---- the main server: rules, targets, metrics --------------------------------
start_server --ca-bundle "$TMP/cert.pem" || exit 1
E="http://127.0.0.1:$PORT"
ACCT=000000000000
call "$E" AmazonSQS.CreateQueue '{"QueueName":"q1"}' >/dev/null
call "$E" AWSEvents.PutRule '{"Name":"to-queue","EventPattern":"{\"source\":[\"ops.test\"]}"}' >/dev/null
call "$E" AWSEvents.PutTargets "{\"Rule\":\"to-queue\",\"Targets\":[{\"Id\":\"q\",\"Arn\":\"arn:aws:sqs:us-east-1:$ACCT:q1\"}]}" >/dev/null
call "$E" AWSEvents.PutRule '{"Name":"to-nowhere","EventPattern":"{\"source\":[\"ops.test\"]}"}' >/dev/null
call "$E" AWSEvents.PutTargets "{\"Rule\":\"to-nowhere\",\"Targets\":[{\"Id\":\"gone\",\"Arn\":\"arn:aws:sqs:us-east-1:$ACCT:nope\"},{\"Id\":\"dlq\",\"Arn\":\"arn:aws:sqs:us-east-1:$ACCT:nope\",\"DeadLetterConfig\":{\"Arn\":\"arn:aws:sqs:us-east-1:$ACCT:q1\"}}]}" >/dev/null
conn=$(call "$E" AWSEvents.CreateConnection '{"Name":"c","AuthorizationType":"API_KEY","AuthParameters":{"ApiKeyAuthParameters":{"ApiKeyName":"x-key","ApiKeyValue":"k"}}}')
conn_arn=$(sed -n 's/.*"ConnectionArn":"\([^"]*\)".*/\1/p' <<<"$conn")
dest=$(call "$E" AWSEvents.CreateApiDestination "{\"Name\":\"d\",\"ConnectionArn\":\"$conn_arn\",\"InvocationEndpoint\":\"$TLS/health\",\"HttpMethod\":\"GET\"}")
dest_arn=$(sed -n 's/.*"ApiDestinationArn":"\([^"]*\)".*/\1/p' <<<"$dest")
[ -n "$dest_arn" ] && ok || bad "CreateApiDestination: $dest $conn"
call "$E" AWSEvents.PutRule '{"Name":"to-https","EventPattern":"{\"source\":[\"ops.test\"]}"}' >/dev/null
r=$(call "$E" AWSEvents.PutTargets "{\"Rule\":\"to-https\",\"Targets\":[{\"Id\":\"d\",\"Arn\":\"$dest_arn\"}]}")
grep -q '"FailedEntryCount":0' <<<"$r" && ok || bad "PutTargets to-https: $r"

check "/ready says ready" test "$(curl -s -m 10 "$E/ready")" = '{"status":"ready","store":"ok","delivery":"running","scheduler":"running"}'
ctype=$(curl -s -m 10 -o /dev/null -w '%{content_type}' "$E/metrics")
[ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ] && ok || bad "/metrics Content-Type: $ctype"

# 3 matching events (one request, from arguments), 2 others (stdin)
ids=$("$EVBUS" put --endpoint-url "$E" --source ops.test --detail-type T '{"n":1}' '{"n":2}' '{"n":3}')
[ "$(grep -Ec '^[0-9a-f-]{36}$' <<<"$ids")" = 3 ] && ok || bad "evbus put arguments: $ids"
ids=$(printf '{"Source":"ops.other","DetailType":"T","Detail":{"n":4}}\n\n{"n":5}\n' | "$EVBUS" put --endpoint-url "$E")
[ "$(grep -Ec '^[0-9a-f-]{36}$' <<<"$ids")" = 2 ] && ok || bad "evbus put stdin: $ids"

Q='bus="default",rule="to-queue",target="q"'
check "Invocations of the queue target" wait_metric "$E" "evbus_invocations_total{$Q}" 3
check "Invocations of the HTTPS API destination (serve --ca-bundle)" \
  wait_metric "$E" 'evbus_invocations_total{bus="default",rule="to-https",target="d"}' 3
check "FailedInvocations of a missing queue" \
  wait_metric "$E" 'evbus_failed_invocations_total{bus="default",rule="to-nowhere",target="gone"}' 3
check "InvocationsSentToDLQ" \
  wait_metric "$E" 'evbus_invocations_sent_to_dlq_total{bus="default",rule="to-nowhere",target="dlq"}' 3
curl -s -m 10 "$E/metrics" >"$TMP/metrics"
m() { awk -v k="$1" 'index($0, k " ") == 1 { print $2 }' "$TMP/metrics"; }
check "PutEvents requests" test "$(m evbus_put_events_requests_total)" = 2
check "PutEvents entries by bus" test "$(m 'evbus_put_events_entries_total{bus="default"}')" = 5
check "MatchedEvents" test "$(m 'evbus_matched_events_total{bus="default"}')" = 3
check "TriggeredRules" test "$(m 'evbus_triggered_rules_total{bus="default",rule="to-queue"}')" = 3
check "InvocationAttempts" test "$(m "evbus_invocation_attempts_total{$Q}")" = 3
check "no RetryInvocationAttempts" test -z "$(m "evbus_retry_invocation_attempts_total{$Q}")"
check "no FailedInvocations of the queue" test -z "$(m "evbus_failed_invocations_total{$Q}")"
check "a DLQ'd failure is not a FailedInvocation" \
  test -z "$(m 'evbus_failed_invocations_total{bus="default",rule="to-nowhere",target="dlq"}')"
check "latency histogram count" test "$(m "evbus_ingestion_to_invocation_success_latency_seconds_count{$Q}")" = 3
check "latency histogram +Inf bucket" test "$(m "evbus_ingestion_to_invocation_success_latency_seconds_bucket{$Q,le=\"+Inf\"}")" = 3
n=$(m evbus_store_commit_seconds_count)
[ -n "$n" ] && [ "$n" -gt 0 ] && ok || bad "store commit histogram: '$n'"
check "HELP names the CloudWatch metric" grep -q '^# HELP evbus_matched_events_total .*(MatchedEvents)' "$TMP/metrics"
check "TYPE histogram" grep -q '^# TYPE evbus_ingestion_to_invocation_success_latency_seconds histogram$' "$TMP/metrics"
badlines=$(grep -v '^#' "$TMP/metrics" | grep -Ev '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? ([-+]?[0-9.e+-]+|NaN|[+-]Inf)$' | head -3)
[ -z "$badlines" ] && ok || bad "lines not in the exposition format: $badlines"

# ---- test-pattern --bus ---------------------------------------------------------
EV='{"version":"0","id":"1","detail-type":"T","source":"ops.test","account":"000000000000","time":"2024-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{}}'
out=$("$EVBUS" test-pattern --bus default --event "$EV" --endpoint-url "$E")
rc=$?
[ "$rc" = 0 ] && grep -qx 'to-queue	true' <<<"$out" && ok || bad "test-pattern --bus: rc=$rc $out"
out=$("$EVBUS" test-pattern --bus default --event "${EV/ops.test/ops.zzz}" --endpoint-url "$E")
grep -q '^to-queue	false	path "source": expected' <<<"$out" && ok || bad "test-pattern --bus non-match: $out"
"$EVBUS" test-pattern --bus default --pattern '{}' --event "$EV" >/dev/null 2>&1
[ $? = 64 ] && ok || bad "test-pattern --bus with --pattern: usage"

# ---- evbus tail -----------------------------------------------------------------
"$EVBUS" tail --endpoint-url "$E" >"$TMP/tail1.out" 2>"$TMP/tail1.err" &
T1=$!
PIDS+=("$T1")
"$EVBUS" tail --endpoint-url "$E" --json --pattern '{"source":["ops.tail"]}' >"$TMP/tail2.out" 2>"$TMP/tail2.err" &
T2=$!
PIDS+=("$T2")
for _ in $(seq 100); do
  grep -q 'following bus default' "$TMP/tail1.err" && grep -q 'following bus default' "$TMP/tail2.err" && break
  sleep 0.1
done
check "tail says it follows" grep -q 'following bus default' "$TMP/tail2.err"
check "tail subscribers gauge" wait_metric "$E" evbus_tail_subscribers 2
printf '{"Source":"ops.tail","DetailType":"Tailed","Detail":{"k":"v"}}\n{"Source":"ops.skip","DetailType":"Skipped","Detail":{}}\n' |
  "$EVBUS" put --endpoint-url "$E" >"$TMP/tail.ids"
for _ in $(seq 100); do
  [ "$(wc -l <"$TMP/tail1.out")" -ge 2 ] && [ "$(wc -l <"$TMP/tail2.out")" -ge 1 ] && break
  sleep 0.1
done
check "tail prints both events" test "$(wc -l <"$TMP/tail1.out")" = 2
check "tail line: source, detail-type, id, detail" \
  grep -Eq "^[0-9T:-]+Z ops.tail Tailed $(head -1 "$TMP/tail.ids") \{\"k\":\"v\"\}$" "$TMP/tail1.out"
check "tail --pattern filters" test "$(wc -l <"$TMP/tail2.out")" = 1
python3 -c 'import json,sys; e=json.loads(open(sys.argv[1]).readline()); assert e["source"]=="ops.tail" and e["detail"]=={"k":"v"} and e["id"]==sys.argv[2]' \
  "$TMP/tail2.out" "$(head -1 "$TMP/tail.ids")" && ok || bad "tail --json: $(cat "$TMP/tail2.out")"
kill -INT "$T1" "$T2"
wait "$T1"
[ $? = 0 ] && ok || bad "tail exit status after Ctrl-C"
wait "$T2"
check "the server notices the tail clients left" wait_metric "$E" evbus_tail_subscribers 0
# an event forwarded from another bus arrives on its target bus: tail
# shows it there
call "$E" AWSEvents.CreateEventBus '{"Name":"ops-fwd"}' >/dev/null
call "$E" AWSEvents.PutRule '{"Name":"to-fwd","EventPattern":"{\"source\":[\"ops.fwd\"]}"}' >/dev/null
call "$E" AWSEvents.PutTargets "{\"Rule\":\"to-fwd\",\"Targets\":[{\"Id\":\"b\",\"Arn\":\"arn:aws:events:us-east-1:$ACCT:event-bus/ops-fwd\"}]}" >/dev/null
"$EVBUS" tail --endpoint-url "$E" --bus ops-fwd >"$TMP/tail3.out" 2>"$TMP/tail3.err" &
T3=$!
PIDS+=("$T3")
for _ in $(seq 100); do
  grep -q 'following bus ops-fwd' "$TMP/tail3.err" && break
  sleep 0.1
done
fid=$("$EVBUS" put --endpoint-url "$E" --source ops.fwd --detail-type Fwd '{"f":1}')
for _ in $(seq 100); do
  [ -s "$TMP/tail3.out" ] && break
  sleep 0.1
done
check "tail shows an event forwarded from another bus" \
  grep -Eq "^[0-9T:-]+Z ops.fwd Fwd $fid \{\"f\":1\}$" "$TMP/tail3.out"
kill -INT "$T3"
wait "$T3"
"$EVBUS" tail --endpoint-url "$E" --bus nosuch >/dev/null 2>"$TMP/t.err"
[ $? = 1 ] && grep -q 'ResourceNotFoundException' "$TMP/t.err" && ok || bad "tail of a missing bus: $(cat "$TMP/t.err")"
"$EVBUS" tail --endpoint-url "$E" --pattern '{"a":[]}' >/dev/null 2>"$TMP/t.err"
[ $? = 1 ] && grep -q 'InvalidEventPatternException' "$TMP/t.err" && ok || bad "tail with a bad pattern: $(cat "$TMP/t.err")"
echo '{not json' | "$EVBUS" put --endpoint-url "$E" >/dev/null 2>"$TMP/p.err"
[ $? = 2 ] && grep -q 'stdin line 1: not a JSON object' "$TMP/p.err" && ok || bad "put of bad JSON: $(cat "$TMP/p.err")"

# a tail client that reads nothing is dropped; PutEvents goes on
mkfifo "$TMP/go"
python3 "$HERE/ops_client.py" slowtail "$PORT" "$TMP/slow.out" <"$TMP/go" >"$TMP/slow.log" &
SLOW=$!
PIDS+=("$SLOW")
exec 7>"$TMP/go"
check "slow tail subscribed" wait_metric "$E" evbus_tail_subscribers 1
big=$(head -c 60000 /dev/zero | tr '\0' 'x')
python3 -c 'import sys; [print("{\"pad\":\"%s\",\"i\":%d}" % (sys.argv[1], i)) for i in range(200)]' "$big" >"$TMP/big.jsonl"
n=$("$EVBUS" put --endpoint-url "$E" <"$TMP/big.jsonl" | grep -Ec '^[0-9a-f-]{36}$')
check "200 large events accepted while the tail client stalls" test "$n" = 200
check "the stalled client is dropped" wait_metric "$E" evbus_tail_dropped_total 1
echo go >&7
exec 7>&-
wait "$SLOW"
check "the dropped client is told why" grep -q 'event: dropped' "$TMP/slow.out"
check "no subscriber left" wait_metric "$E" evbus_tail_subscribers 0
stop_server

# ---- limits ---------------------------------------------------------------------
start_named limits --max-connections 2 --header-timeout 2 --idle-timeout 30 || exit 1
LPID=$NPID
LPORT=${NURL##*:}
python3 "$HERE/ops_client.py" limits "$LPORT" 2 >"$TMP/limits.out" 2>&1
cat "$TMP/limits.out" | grep '^FAIL' | while read -r l; do echo "$l"; done
nfail=$(grep -c '^FAIL' "$TMP/limits.out")
nok=$(grep -c '^ok' "$TMP/limits.out")
[ "$nfail" = 0 ] && [ "$nok" -ge 9 ] && ok || bad "limits: $(grep -v '^ok' "$TMP/limits.out" | head -5)"
check "rejected max_connections counted" test -n "$(metric "$NURL" 'evbus_http_rejected_total{reason="max_connections"}')"
check "rejected header_timeout counted" test -n "$(metric "$NURL" 'evbus_http_rejected_total{reason="header_timeout"}')"
check "header timeout logged" grep -q 'header timeout' "$TMP/limits.log"
stop_named "$LPID" limits

# ---- logs, /ready and /metrics with credentials ------------------------------------
cat >"$TMP/creds" <<'CREDS'
[ops]
aws_access_key_id = AKIDOPSTEST
aws_secret_access_key = ops-very-secret-key
CREDS
start_named logs --credentials "$TMP/creds" --public-metrics --log-format json --log-level debug || exit 1
GPID=$NPID
G=$NURL
check "/ready needs no signature" test "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$G/ready")" = 200
check "--public-metrics: /metrics needs no signature" test "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$G/metrics")" = 200
check "tail needs a signature" test "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$G/_evbus/tail")" = 403
rid=$(curl -s -m 10 -D - -o /dev/null -X POST "$G/" -H 'X-Amz-Target: AWSEvents.ListEventBuses' \
  -H 'Content-Type: application/x-amz-json-1.1' -d '{}' | tr -d '\r' | sed -n 's/^x-amzn-RequestId: //p')
AWS_ACCESS_KEY_ID=AKIDOPSTEST AWS_SECRET_ACCESS_KEY=ops-very-secret-key \
  "$EVBUS" tail --endpoint-url "$G" --pattern '{"detail":{"signed":[true]}}' >"$TMP/st.out" 2>"$TMP/st.err" &
ST=$!
PIDS+=("$ST")
for _ in $(seq 100); do
  grep -q 'following bus' "$TMP/st.err" && break
  sleep 0.1
done
check "a signed tail (SigV4 with a query) is accepted" grep -q 'following bus' "$TMP/st.err"
out=$(AWS_ACCESS_KEY_ID=AKIDOPSTEST AWS_SECRET_ACCESS_KEY=ops-very-secret-key \
  "$EVBUS" put --endpoint-url "$G" '{"signed":true}' 2>&1)
grep -Eq '^[0-9a-f-]{36}$' <<<"$out" && ok || bad "evbus put signs with the environment's key: $out"
for _ in $(seq 50); do
  [ -s "$TMP/st.out" ] && break
  sleep 0.1
done
check "the signed tail gets the event" grep -q "$out" "$TMP/st.out"
kill -INT "$ST"
wait "$ST"
if [ -n "$HAVE_AWS" ]; then
  AWS_ACCESS_KEY_ID=AKIDOPSTEST AWS_SECRET_ACCESS_KEY=ops-very-secret-key \
    timeout 60 aws events list-rules --endpoint-url "$G" --output json >/dev/null 2>&1 && ok || bad "aws cli with the key"
fi
stop_named "$GPID" logs
python3 - "$TMP/logs.log" "$rid" <<'PY' && ok || bad "JSON log lines: $(head -3 "$TMP/logs.log")"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
recs = [json.loads(l) for l in lines]          # every line is JSON
assert all({"time", "level", "msg"} <= set(r) for r in recs)
reqs = [r for r in recs if r.get("msg") == "request"]
assert any(r.get("request_id") == sys.argv[2] and r.get("status") == 403 for r in reqs), reqs[:3]
assert any(r.get("target") == "AWSEvents.PutEvents" and r.get("status") == 200 for r in reqs)
assert any("listening on" in r["msg"] for r in recs)
PY
check "no secret in the log" bash -c "! grep -q -e 'ops-very-secret-key' -e 'Signature=' -e 'Credential=' '$TMP/logs.log'"

stop_named "$TLS_PID" tls
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
