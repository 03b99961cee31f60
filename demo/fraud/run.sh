#!/usr/bin/env bash
# demo/fraud/run.sh: the fraud-detection reference application, end to end
# on one machine (`make demo` runs it; demo/fraud/README.md explains it).
#
#   demo/fraud/run.sh [--duration S] [--rate TX_PER_S] [--dir DIR]
#                     [--kafka BOOTSTRAP] [--registry URL] [--check]
#
# Starts the CRM stand-in (HTTPS), evbus (embedded Kafka test cluster and
# schema registry unless --kafka / --registry point elsewhere), applies
# demo/fraud/stack.yaml, starts the fraud analytics, the sink connector and
# the transaction generator, shows a progress line for --duration seconds
# (default 60), waits for the pipeline to drain, prints the summary, and
# stops everything it started (also on Ctrl-C). The data stay in --dir
# (default ./demo-data). --check makes the exit status say whether the
# demo met its bar (recall, precision, audit log, CRM, dead letters).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${EVBUS_BUILD_DIR:-$ROOT/build}
EVBUS=$BUILD/evbus
DURATION=60 RATE=20 DIR=$ROOT/demo-data KAFKA= REGISTRY= CHECK= STACK=demo/fraud/stack.yaml
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --kafka) KAFKA=$2; shift 2 ;;
    --registry) REGISTRY=$2; shift 2 ;;
    --check) CHECK=--check; shift ;;
    --stack) STACK=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 64 ;;
  esac
done

PIDS=()
cleanup() {
  local i
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do
    kill -TERM "${PIDS[$i]}" 2>/dev/null || true
  done
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do
    # bounded: anything still there after 15 s is killed
    for _ in $(seq 150); do kill -0 "${PIDS[$i]}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${PIDS[$i]}" 2>/dev/null || true
    wait "${PIDS[$i]}" 2>/dev/null || true
  done
  PIDS=()
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted"; exit 130' INT TERM

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
# wait_for FILE PATTERN SECONDS: until FILE has a line matching PATTERN
wait_for() {
  for _ in $(seq $(($3 * 10))); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

for p in "$EVBUS" "$BUILD/demo/fraud-gen" "$BUILD/demo/fraud-detect" "$BUILD/demo/fraud-report"; do
  [ -x "$p" ] || die "$p is missing: run make first"
done
command -v openssl >/dev/null || die "openssl is needed for the CRM's certificate"

rm -rf "$DIR"
mkdir -p "$DIR"
cd "$ROOT"

# 1. the CRM stand-in, over HTTPS with a certificate made now
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$DIR/crm.key" \
  -out "$DIR/crm.crt" 2>/dev/null
CRM_API_KEY=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
python3 demo/fraud/crm.py --cert "$DIR/crm.crt" --key "$DIR/crm.key" \
  --api-key "$CRM_API_KEY" --record "$DIR/crm.jsonl" \
  --port-file "$DIR/crm.port" >"$DIR/crm.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$DIR/crm.port" ] && break; sleep 0.1; done
[ -s "$DIR/crm.port" ] || die "the CRM stand-in did not start ($DIR/crm.log)"
CRM_URL=https://127.0.0.1:$(cat "$DIR/crm.port")

# 2. evbus
KOPT=(--embedded-kafka)
[ -n "$KAFKA" ] && KOPT=(--kafka-config "bootstrap.servers=$KAFKA")
ROPT=()
[ -n "$REGISTRY" ] && ROPT=(--registry-url "$REGISTRY")
"$EVBUS" serve --listen 127.0.0.1:0 --data-dir "$DIR/evbus" "${KOPT[@]}" \
  "${ROPT[@]}" --ca-bundle "$DIR/crm.crt" >"$DIR/evbus.log" 2>&1 &
PIDS+=($!)
wait_for "$DIR/evbus.log" 'listening on http://' 30 || die "evbus did not start ($DIR/evbus.log)"
EP=$(grep -oE 'listening on http://[0-9.:]+' "$DIR/evbus.log" | head -1 | sed 's/listening on //')
if [ -z "$KAFKA" ]; then
  KAFKA=$(grep -oE 'embedded test cluster .* at [^;]+' "$DIR/evbus.log" | head -1 | sed 's/.* at //')
fi
[ -n "$REGISTRY" ] || REGISTRY=$EP
say "evbus at $EP, Kafka at $KAFKA, schema registry at $REGISTRY, CRM at $CRM_URL"

# 3. the stack
KAFKA_BOOTSTRAP=$KAFKA CRM_URL=$CRM_URL CRM_API_KEY=$CRM_API_KEY \
  "$EVBUS" apply -f "$STACK" --endpoint-url "$EP" >"$DIR/apply.log" 2>&1 ||
  { cat "$DIR/apply.log" >&2; die "evbus apply failed"; }
say "stack applied ($(grep -c '^ *create' "$DIR/apply.log" || true) resources created)"

# 4. the analytics, the connector, the generator
"$BUILD/demo/fraud-detect" --registry "$REGISTRY" --bootstrap "$KAFKA" \
  --stats "$DIR/detect.json" >"$DIR/detect.log" 2>&1 &
PIDS+=($!)
sed -e "s|@KAFKA@|$KAFKA|; s|@ENDPOINT@|$EP|; s|@REGISTRY@|$REGISTRY|" \
  demo/fraud/connector.json >"$DIR/connector.json"
"$EVBUS" connector --config "$DIR/connector.json" >"$DIR/connector.log" 2>&1 &
PIDS+=($!)
"$BUILD/demo/fraud-gen" --registry "$REGISTRY" --bootstrap "$KAFKA" \
  --rate "$RATE" --duration "$DURATION" --truth "$DIR/truth.jsonl" \
  --stats "$DIR/gen.json" >"$DIR/gen.log" 2>&1 &
GEN=$!
PIDS+=($GEN)

REPORT=("$BUILD/demo/fraud-report" --endpoint-url "$EP" --truth "$DIR/truth.jsonl"
        --gen-stats "$DIR/gen.json" --detect-stats "$DIR/detect.json"
        --crm "$DIR/crm.jsonl" --audit-log /evbus/fraud-audit
        --connector-log /evbus/fraud-connector-audit --dlq fraud-dlq)
say "running for ${DURATION} s at ${RATE} transactions/s (Ctrl-C stops everything)"
"${REPORT[@]}" --watch 1 &
WATCH=$!
PIDS+=($WATCH)
wait "$GEN" || die "the generator failed ($DIR/gen.log)"

# 5. drain: until the audit log and the CRM stop growing (at most 30 s)
last= same=0
for _ in $(seq 60); do
  now=$(cat "$DIR/detect.json" 2>/dev/null; wc -l <"$DIR/crm.jsonl" 2>/dev/null || true)
  now+=$("${REPORT[@]}" 2>/dev/null | grep -E 'audit-all|high-risk' || true)
  if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; fi
  [ $same -ge 4 ] && break
  last=$now
  sleep 0.5
done
kill -TERM "$WATCH" 2>/dev/null || true
wait "$WATCH" 2>/dev/null || true

# 6. the summary
rc=0
"${REPORT[@]}" $CHECK || rc=$?
cat <<MSG

The data stay in $DIR. To look at them, start evbus on them again:
  $EVBUS serve --data-dir $DIR/evbus &
  aws logs tail /evbus/fraud-audit --endpoint-url http://127.0.0.1:4010
  aws sqs receive-message --queue-url http://127.0.0.1:4010/000000000000/fraud-dlq --endpoint-url http://127.0.0.1:4010
MSG
exit $rc
