#!/usr/bin/env bash
# Crash test with retries pending (issue 4): events go to four API
# destination targets whose receiver answers 503 (or 400); as soon as the
# first attempts are in, the server is killed with SIGKILL, the receiver
# starts answering one of them, and the server is restarted on the same
# data dir. Every event is then delivered or dead-lettered exactly as its
# target's RetryPolicy and DeadLetterConfig say, with the DLQ attributes
# RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
# EXHAUSTED_RETRY_CONDITION and RETRY_ATTEMPTS (see retry_crash.py).
# About 15 seconds.
#
#   bash tests/cli/test_retry_crash.sh /path/to/evbus
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
[ -x "$EVBUS" ] || { echo "not executable: $EVBUS" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
. "$HERE/lib/server.sh"

RECV_PID=
trap 'if [ -n "$RECV_PID" ]; then kill "$RECV_PID" 2>/dev/null; wait "$RECV_PID" 2>/dev/null; fi; cleanup' EXIT

python3 "$HERE/../../tools/test-receiver/receiver.py" --port-file "$TMP/ports" \
  --record "$TMP/receiver.jsonl" --ttl 120 >/dev/null &
RECV_PID=$!
RPORT=
for _ in $(seq 100); do
  [ -s "$TMP/ports" ] && RPORT=$(cut -d' ' -f1 "$TMP/ports") && break
  sleep 0.1
done
[ -n "$RPORT" ] || { echo "the receiver did not start" >&2; exit 1; }

phase() {
  if timeout 60 python3 "$HERE/retry_crash.py" "$@"; then ok
  else bad "retry_crash.py $1"; fi
}

start_server || exit 1
phase before "$PORT" "$TMP" "$RPORT"
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
phase between "$TMP" "$RPORT"
start_server || exit 1
phase after "$PORT" "$TMP" "$RPORT"
stop_server
if grep -q 'evbus: delivery:' "$TMP/server.err"; then
  bad "delivery errors in the server log: $(grep 'evbus: delivery:' "$TMP/server.err" | head -3)"
else ok; fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
