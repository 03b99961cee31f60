#!/usr/bin/env bash
# `evbus serve` end to end with the real AWS CLI and boto3: start the
# server on an ephemeral loopback port (read back from its stderr line),
# call TestEventPattern for a match, a non-match, an invalid pattern and an
# invalid event, check the exception names and messages the clients print,
# then stop the server with SIGTERM (and a second one with SIGINT) and
# check that it exits 0. Also: --data-dir is created, a bad --listen is a
# usage error.
#
#   bash tests/cli/test_serve_aws_cli.sh /path/to/evbus
#
# Dummy credentials come from the environment; nothing outside 127.0.0.1
# is contacted. Every wait has a timeout, and a trap kills the server on
# any exit. Prints "N passed, M failed"; exits non-zero on failure. When
# the aws CLI (or boto3) is not installed, its checks are skipped and said
# so.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
if [ ! -x "$EVBUS" ]; then
  echo "not executable: $EVBUS" >&2
  exit 2
fi
TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

EVENT='{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2022-07-13T13:48:01Z","region":"us-east-1","resources":[],"detail":{"state":"running"}}'
MATCH='{"source":["aws.ec2"],"detail":{"state":["running"]}}'
NOMATCH='{"source":["aws.ec2"],"detail":{"state":["stopped"]}}'
INVALID='{"source":[]}'
NO_ENVELOPE='{"source":"aws.ec2","detail":{"state":"running"}}'

# ---- command line ----------------------------------------------------------
"$EVBUS" serve --listen nonsense >/dev/null 2>"$TMP/err"
rc=$?
[ "$rc" = 64 ] && grep -q 'expected HOST:PORT' "$TMP/err" && ok ||
  bad "--listen nonsense: rc=$rc, want 64 and a usage error"
"$EVBUS" serve --account 12 >/dev/null 2>"$TMP/err"
rc=$?
[ "$rc" = 64 ] && ok || bad "--account 12: rc=$rc, want 64"
"$EVBUS" serve --help >"$TMP/out" 2>&1
rc=$?
[ "$rc" = 0 ] && grep -q '^usage: evbus serve' "$TMP/out" && ok ||
  bad "serve --help: rc=$rc"

# ---- the server --------------------------------------------------------------
if ! start_server --data-dir "$TMP/data/nested"; then
  bad "server start"
  echo "$passed passed, $failed failed"
  exit 1
fi
ok
[ -d "$TMP/data/nested" ] && ok || bad "--data-dir was not created"
ENDPOINT="http://127.0.0.1:$PORT"

if command -v curl >/dev/null; then
  code=$(curl -s -m 10 -o "$TMP/out" -w '%{http_code}' "$ENDPOINT/health")
  [ "$code" = 200 ] && ok || bad "GET /health: HTTP $code"
fi

# ---- the AWS CLI -----------------------------------------------------------
# matches FILE REGEX: FILE matches REGEX; the regex EMPTY means FILE is empty.
matches() {
  if [ "$2" = EMPTY ]; then [ ! -s "$1" ]; else grep -Eq -- "$2" "$1"; fi
}

# awscli EXPECTED_RC STDOUT_REGEX STDERR_REGEX ARGS... (EXPECTED_RC 1 means
# any failure status)
awscli() {
  local want_rc=$1 out_re=$2 err_re=$3 rc
  shift 3
  timeout 60 aws --endpoint-url "$ENDPOINT" --region us-east-1 \
    --cli-connect-timeout 10 --cli-read-timeout 10 \
    events test-event-pattern "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  if { [ "$want_rc" = 0 ] && [ "$rc" != 0 ]; } ||
     { [ "$want_rc" != 0 ] && [ "$rc" = 0 ]; }; then
    bad "aws $*: exit status $rc; stderr: $(cat "$TMP/err")"
  elif ! matches "$TMP/out" "$out_re"; then
    bad "aws $*: stdout $(cat "$TMP/out") does not match /$out_re/"
  elif ! matches "$TMP/err" "$err_re"; then
    bad "aws $*: stderr $(cat "$TMP/err") does not match /$err_re/"
  else
    ok
  fi
}

if command -v aws >/dev/null; then
  # the CLI may add " (reached max retries: 0)" before the colon
  CALLED='when calling the TestEventPattern operation( \(reached max retries: [0-9]+\))?: '
  awscli 0 '"Result": true' EMPTY --event-pattern "$MATCH" --event "$EVENT"
  awscli 0 '"Result": false' EMPTY --event-pattern "$NOMATCH" --event "$EVENT"
  awscli 1 EMPTY \
    "\\(InvalidEventPatternException\\) ${CALLED}Event pattern is not valid\\. Reason: Empty arrays are not allowed\$" \
    --event-pattern "$INVALID" --event "$EVENT"
  awscli 1 EMPTY \
    "\\(ValidationException\\) ${CALLED}Parameter Event is not valid\\.\$" \
    --event-pattern "$MATCH" --event "$NO_ENVELOPE"
else
  echo "SKIP: aws CLI not found; its 4 checks were not run"
fi

# ---- boto3 --------------------------------------------------------------------
if python3 -c 'import boto3' 2>/dev/null; then
  timeout 60 python3 - "$ENDPOINT" "$EVENT" "$MATCH" "$NOMATCH" "$INVALID" \
    "$NO_ENVELOPE" >"$TMP/out" 2>&1 <<'PY'
import sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, event, match, nomatch, invalid, no_envelope = sys.argv[1:7]
events = boto3.client(
    "events", endpoint_url=endpoint, region_name="us-east-1",
    config=Config(retries={"max_attempts": 1}, connect_timeout=10,
                  read_timeout=10))
failures = []

def expect(name, got, want):
    if got != want:
        failures.append(f"{name}: got {got!r}, want {want!r}")

r = events.test_event_pattern(EventPattern=match, Event=event)
expect("match", r["Result"], True)
expect("status", r["ResponseMetadata"]["HTTPStatusCode"], 200)
rid = r["ResponseMetadata"].get("RequestId", "")
expect("request id length", len(rid), 36)
r = events.test_event_pattern(EventPattern=nomatch, Event=event)
expect("no match", r["Result"], False)

for name, pattern, ev, code, message in [
    ("invalid pattern", invalid, event, "InvalidEventPatternException",
     "Event pattern is not valid. Reason: Empty arrays are not allowed"),
    ("invalid event", match, no_envelope, "ValidationException",
     "Parameter Event is not valid."),
]:
    try:
        events.test_event_pattern(EventPattern=pattern, Event=ev)
        failures.append(f"{name}: no exception")
    except ClientError as e:
        expect(name + " code", e.response["Error"]["Code"], code)
        expect(name + " message", e.response["Error"]["Message"], message)
        expect(name + " status", e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
    if code == "InvalidEventPatternException":
        try:
            events.test_event_pattern(EventPattern=pattern, Event=ev)
        except events.exceptions.InvalidEventPatternException:
            pass  # the modelled exception class is raised
        except Exception as e:  # noqa: BLE001
            failures.append(f"{name}: raised {type(e).__name__}")

for f in failures:
    print("FAIL:", f)
print("boto3:", "ok" if not failures else f"{len(failures)} failed")
sys.exit(1 if failures else 0)
PY
  rc=$?
  if [ "$rc" = 0 ]; then ok; else bad "boto3 checks (rc=$rc): $(cat "$TMP/out")"; fi
else
  echo "SKIP: boto3 not importable; its checks were not run"
fi

stop_server TERM
if command -v curl >/dev/null; then
  curl -s -m 5 -o /dev/null "$ENDPOINT/health" && bad "server still answers after SIGTERM" || ok
fi

# ---- SIGINT stops it too -------------------------------------------------------
if start_server; then
  ok
  stop_server INT
else
  bad "second server start"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
