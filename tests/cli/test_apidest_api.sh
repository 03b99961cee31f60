#!/usr/bin/env bash
# Connections and API destinations through `evbus serve`, with the real
# AWS CLI and boto3 (apidest_api_test.py): create, describe, update,
# deauthorize, list (with filters and pagination) and delete, for each
# authorization type; secrets (Password, ApiKeyValue, ClientSecret, secret
# parameter values) never appear in any answer nor in the server's log;
# the modelled errors (ResourceNotFound, ResourceAlreadyExists, validation
# messages); everything survives a restart on the same data directory.
#
#   bash tests/cli/test_apidest_api.sh /path/to/evbus
#
# SKIPs (exit 0) when the aws CLI and boto3 are both missing, or when the
# server does not know the actions yet (the wiring is not in). Loopback
# only; every wait is bounded; a trap kills the server on any exit.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
[ -x "$EVBUS" ] || { echo "not executable: $EVBUS" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
HAVE_AWS=0
HAVE_BOTO3=0
if AWS=$(command -v aws); then
  case "$AWS" in
    */shims/aws) AWS=$(pyenv which aws 2>/dev/null) || AWS=$(command -v aws) ;;
  esac
  timeout 30 "$AWS" events create-connection --generate-cli-skeleton >/dev/null 2>&1 && HAVE_AWS=1
fi
python3 -c 'import boto3' 2>/dev/null && HAVE_BOTO3=1
if [ "$HAVE_AWS" = 0 ] && [ "$HAVE_BOTO3" = 0 ]; then
  echo "SKIP: neither the aws CLI nor boto3 is available"
  exit 0
fi

TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

# The CLI must not fetch https:// parameter values (InvocationEndpoint).
printf '[default]\ncli_follow_urlparam = false\n' >"$TMP/aws.config"
export AWS_CONFIG_FILE="$TMP/aws.config"

ev() {
  timeout 30 "$AWS" --endpoint-url "http://127.0.0.1:$PORT" --region us-east-1 \
    --cli-connect-timeout 10 --cli-read-timeout 10 \
    events "$@" >"$TMP/out" 2>"$TMP/err"
}
# expect_out WANT ARGS...: succeeds and prints exactly WANT
expect_out() {
  local want=$1 got
  shift
  if ! ev "$@"; then bad "aws events $*: $(cat "$TMP/err")"; return; fi
  got=$(tr "\t" " " <"$TMP/out")
  [ "$got" = "$want" ] && ok || bad "aws events $*: got '$got', want '$want'"
}
# expect_err CODE TEXT ARGS...: fails with CODE and a message containing TEXT
expect_err() {
  local code=$1 text=$2
  shift 2
  if ev "$@"; then bad "aws events $*: succeeded, want $code"; return; fi
  if grep -q "($code)" "$TMP/err" && grep -qF -- "$text" "$TMP/err"; then ok
  else bad "aws events $*: want $code '$text', got: $(cat "$TMP/err")"; fi
}
no_secrets() { # FILE
  if grep -qE 'S3cretPW|KeyValue42|ClientSecret77|HiddenHdr' "$1"; then
    bad "a secret leaked in $1: $(cat "$1")"
  else ok; fi
}

start_server || exit 1

# Is the wiring in? An unknown action answers UnknownOperationException.
if ! timeout 30 python3 - "$PORT" <<'PY' >/dev/null 2>&1
import sys, urllib.request
req = urllib.request.Request("http://127.0.0.1:%s/" % sys.argv[1], data=b"{}",
    headers={"X-Amz-Target": "AWSEvents.ListConnections",
             "Content-Type": "application/x-amz-json-1.1"})
urllib.request.urlopen(req, timeout=10).read()
PY
then
  echo "SKIP: this evbus does not serve ListConnections yet (wiring not in)"
  exit 0
fi

if [ "$HAVE_AWS" = 1 ]; then
  expect_out "AUTHORIZED" create-connection --name basic --authorization-type BASIC \
    --auth-parameters '{"BasicAuthParameters":{"Username":"user","Password":"S3cretPW"},"InvocationHttpParameters":{"HeaderParameters":[{"Key":"X-H","Value":"HiddenHdr","IsValueSecret":true},{"Key":"X-V","Value":"visible","IsValueSecret":false}]}}' \
    --query ConnectionState --output text
  no_secrets "$TMP/out"
  expect_out "AUTHORIZED" create-connection --name key --authorization-type API_KEY \
    --auth-parameters '{"ApiKeyAuthParameters":{"ApiKeyName":"x-api-key","ApiKeyValue":"KeyValue42"}}' \
    --query ConnectionState --output text
  expect_out "AUTHORIZED" create-connection --name oauth --authorization-type OAUTH_CLIENT_CREDENTIALS \
    --auth-parameters '{"OAuthParameters":{"ClientParameters":{"ClientID":"cid","ClientSecret":"ClientSecret77"},"AuthorizationEndpoint":"https://auth.example.com/token","HttpMethod":"POST"}}' \
    --query ConnectionState --output text
  expect_err ResourceAlreadyExistsException "Connection basic already exists." \
    create-connection --name basic --authorization-type BASIC \
    --auth-parameters '{"BasicAuthParameters":{"Username":"u","Password":"p"}}'
  expect_err ValidationException "at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern" \
    create-connection --name 'bad name' --authorization-type BASIC \
    --auth-parameters '{"BasicAuthParameters":{"Username":"u","Password":"p"}}'
  expect_err ResourceNotFoundException "Failed to describe the connection(s). Connection 'nope' does not exist." \
    describe-connection --name nope

  for c in basic key oauth; do
    ev describe-connection --name $c && ok || bad "describe $c: $(cat "$TMP/err")"
    no_secrets "$TMP/out"
  done
  expect_out "user visible" describe-connection --name basic \
    --query '[AuthParameters.BasicAuthParameters.Username, AuthParameters.InvocationHttpParameters.HeaderParameters[1].Value]' --output text
  expect_out "x-api-key" describe-connection --name key \
    --query AuthParameters.ApiKeyAuthParameters.ApiKeyName --output text
  expect_out "cid" describe-connection --name oauth \
    --query AuthParameters.OAuthParameters.ClientParameters.ClientID --output text
  CONN_ARN=$(ev describe-connection --name key --query ConnectionArn --output text && cat "$TMP/out")
  case "$CONN_ARN" in
    arn:aws:events:us-east-1:000000000000:connection/key/*) ok ;;
    *) bad "connection ARN $CONN_ARN" ;;
  esac

  expect_out "AUTHORIZED" update-connection --name key \
    --auth-parameters '{"ApiKeyAuthParameters":{"ApiKeyValue":"KeyValue42"}}' \
    --query ConnectionState --output text
  expect_out "DEAUTHORIZING" deauthorize-connection --name oauth --query ConnectionState --output text
  expect_out "DEAUTHORIZED" describe-connection --name oauth --query ConnectionState --output text
  expect_out "basic key oauth" list-connections --query 'Connections[].Name' --output text
  expect_out "oauth" list-connections --connection-state DEAUTHORIZED --query 'Connections[].Name' --output text
  ev list-connections && no_secrets "$TMP/out"

  expect_out "ACTIVE" create-api-destination --name dest1 --connection-arn "$CONN_ARN" \
    --invocation-endpoint 'https://example.com/items/*' --http-method POST \
    --invocation-rate-limit-per-second 5 --query ApiDestinationState --output text
  expect_err ResourceAlreadyExistsException "already exists" create-api-destination --name dest1 \
    --connection-arn "$CONN_ARN" --invocation-endpoint https://example.com --http-method GET
  expect_err ValidationException "Member must satisfy enum value set" create-api-destination \
    --name dest2 --connection-arn "$CONN_ARN" --invocation-endpoint https://example.com --http-method TRACE
  expect_err ResourceNotFoundException "Connection 'gone' does not exist." create-api-destination \
    --name dest2 --connection-arn arn:aws:events:us-east-1:000000000000:connection/gone/abc \
    --invocation-endpoint https://example.com --http-method GET
  expect_out "POST 5 https://example.com/items/*" describe-api-destination --name dest1 \
    --query '[HttpMethod, InvocationRateLimitPerSecond, InvocationEndpoint]' --output text
  ev update-api-destination --name dest1 --http-method PUT --invocation-rate-limit-per-second 9 && ok || bad "update-api-destination"
  expect_out "PUT 9" describe-api-destination --name dest1 \
    --query '[HttpMethod, InvocationRateLimitPerSecond]' --output text
  expect_out "dest1" list-api-destinations --connection-arn "$CONN_ARN" --query 'ApiDestinations[].Name' --output text

  # restart: everything is still there
  stop_server
  start_server || exit 1
  expect_out "PUT" describe-api-destination --name dest1 --query HttpMethod --output text
  expect_out "basic key oauth" list-connections --query 'Connections[].Name' --output text

  ev delete-api-destination --name dest1 && ok || bad "delete-api-destination"
  expect_err ResourceNotFoundException "An api-destination 'dest1' does not exist." \
    describe-api-destination --name dest1
  for c in basic key oauth; do
    expect_out "DELETING" delete-connection --name $c --query ConnectionState --output text
  done
  expect_out "" list-connections --query 'Connections[].Name' --output text
fi

if [ "$HAVE_BOTO3" = 1 ]; then
  if timeout 120 python3 "$HERE/apidest_api_test.py" "http://127.0.0.1:$PORT" >"$TMP/py.out" 2>&1; then
    ok
  else
    bad "apidest_api_test.py: $(cat "$TMP/py.out")"
  fi
fi

stop_server
cat "$TMP"/server.*.log >"$TMP/server.log"
no_secrets "$TMP/server.log"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
