#!/usr/bin/env bash
# `evbus serve --credentials`: AWS Signature V4 on every API request, end
# to end with the real AWS CLI and boto3 (tests/cli/sigv4_auth_test.py).
#   - matching credentials work; GET /health needs none
#   - wrong key id -> 403 UnrecognizedClientException, wrong secret -> 403
#     InvalidSignatureException, no signature -> 403
#     MissingAuthenticationTokenException; tampered body and signed
#     header, expired and future-dated requests (python part)
#   - --credentials env; a bad credentials file is a usage error
#   - without credentials a non-loopback --listen is refused
#
#   bash tests/cli/test_sigv4_auth.sh /path/to/evbus
#
# Nothing outside 127.0.0.1 is contacted; every wait is bounded and the
# server is stopped on any exit. Prints "N passed, M failed".
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

quiet() { "$@" >/dev/null; }
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then passed=$((passed + 1)); else
    failed=$((failed + 1))
    echo "FAIL: $what"
  fi
}

cat >"$TMP/credentials" <<CREDS
# evbus API keys
[default]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY

[team-b]
aws_access_key_id = AKIDTEAMB
aws_secret_access_key = team-b-secret
account_id = 111122223333
CREDS

# ---- refusals at start ----
"$EVBUS" serve --listen 0.0.0.0:0 --data-dir "$TMP/never" >/dev/null 2>"$TMP/anon.err"
check "non-loopback without credentials exits 64" test $? = 64
check "non-loopback message" grep -q "refusing to listen on 0.0.0.0 without --credentials" "$TMP/anon.err"
check "no data dir left" test ! -e "$TMP/never"
printf '[a]\naws_access_key_id = K\n' >"$TMP/bad-credentials"
"$EVBUS" serve --listen 127.0.0.1:0 --data-dir "$TMP/never" --credentials "$TMP/bad-credentials" >/dev/null 2>"$TMP/bad.err"
check "bad credentials file exits 64" test $? = 64
check "bad credentials message" grep -q "section \[a\] has no aws_secret_access_key" "$TMP/bad.err"
"$EVBUS" serve --listen 127.0.0.1:0 --data-dir "$TMP/never" --credentials "$TMP/none" >/dev/null 2>"$TMP/none.err"
check "missing credentials file is refused" test $? != 0

# ---- a server with the file's keys ----
start_server --credentials "$TMP/credentials" || exit 1
check "startup line" grep -q "AWS Signature V4 required (2 keys from" "$TMP/server.err"
E="http://127.0.0.1:$PORT"
EP="--endpoint-url $E --region us-east-1"
check "health needs no signature" test "$(curl -s -o /dev/null -w '%{http_code}' "$E/health")" = 200
out=$(curl -s -w ' %{http_code}' -X POST "$E/" -H 'X-Amz-Target: AWSEvents.ListEventBuses' \
  -H 'Content-Type: application/x-amz-json-1.1' -d '{}')
check "unsigned request is 403" grep -q '"__type":"MissingAuthenticationTokenException".* 403$' <<<"$out"

if command -v aws >/dev/null 2>&1; then
  check "aws cli with the right key" quiet timeout 40 aws events list-event-buses $EP --output json
  check "aws cli with the second key" quiet env AWS_ACCESS_KEY_ID=AKIDTEAMB AWS_SECRET_ACCESS_KEY=team-b-secret \
    timeout 40 aws events list-rules $EP --output json
  check "aws cli sqs" quiet timeout 40 aws sqs list-queues $EP --output json
  err=$(AWS_ACCESS_KEY_ID=AKIDWRONG timeout 40 aws events list-event-buses $EP 2>&1)
  check "aws cli wrong key id" grep -q "(UnrecognizedClientException).*The security token included in the request is invalid" <<<"$err"
  err=$(AWS_SECRET_ACCESS_KEY=not-the-secret timeout 40 aws events list-event-buses $EP 2>&1)
  check "aws cli wrong secret" grep -q "(InvalidSignatureException).*does not match the signature you provided" <<<"$err"
  err=$(AWS_SESSION_TOKEN=some-token timeout 40 aws events list-event-buses $EP 2>&1)
  check "aws cli unexpected session token" grep -q "(UnrecognizedClientException)" <<<"$err"
  err=$(timeout 40 aws events list-event-buses --endpoint-url "$E" --region eu-west-1 2>&1)
  check "aws cli wrong region" grep -q "(InvalidSignatureException).*region" <<<"$err"
else
  echo "aws CLI not installed: skipping its checks"
fi

if python3 -c 'import boto3' 2>/dev/null; then
  out=$(timeout 120 python3 "$HERE/sigv4_auth_test.py" "$E" 2>&1)
  rc=$?
  echo "$out" | grep -v ' passed, ' || true
  p=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p' <<<"$out")
  f=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p' <<<"$out")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ $rc -ne 0 ] && [ "${f:-0}" = 0 ]; then
    failed=$((failed + 1))
    echo "FAIL: sigv4_auth_test.py exited $rc"
  fi
else
  echo "boto3 not installed: skipping its checks"
fi
stop_server

# ---- --credentials env ----
start_server --credentials env || exit 1
check "env startup line" grep -q "1 key from the environment" "$TMP/server.err"
EP="--endpoint-url http://127.0.0.1:$PORT --region us-east-1"
if command -v aws >/dev/null 2>&1; then
  check "env key works" quiet timeout 40 aws events list-event-buses $EP --output json
  err=$(AWS_ACCESS_KEY_ID=AKIDTEAMB AWS_SECRET_ACCESS_KEY=team-b-secret timeout 40 aws events list-event-buses $EP 2>&1)
  check "file key not in env mode" grep -q "(UnrecognizedClientException)" <<<"$err"
fi
stop_server

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
