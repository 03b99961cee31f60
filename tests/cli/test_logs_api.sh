#!/usr/bin/env bash
# The CloudWatch Logs API of `evbus serve` end to end with the real AWS
# CLI: create, describe (prefix, pattern, retention) and delete log groups
# with their error cases; then, when the EventBridge control plane answers,
# a rule with a log-group target, PutEvents, and the event found again
# with `aws logs filter-log-events` (polled, 10 s at most),
# describe-log-streams (the stream is named after the event id),
# get-log-events and `aws logs tail` (AWS CLI v2 only: v1 has no tail).
# Last, logs_api_test.py does the same through boto3's paginators.
#
#   bash tests/cli/test_logs_api.sh /path/to/evbus
#
# Dummy credentials come from the environment; nothing outside 127.0.0.1
# is contacted. Every wait has a timeout, and a trap kills the server on
# any exit. Prints "N passed, M failed"; exits non-zero on failure. Parts
# whose client (aws, aws v2, boto3) or server feature (PutRule) is missing
# are skipped and said so.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
if [ ! -x "$EVBUS" ]; then
  echo "not executable: $EVBUS" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
HAVE_AWS=0
HAVE_BOTO3=0
command -v aws >/dev/null && HAVE_AWS=1
python3 -c 'import boto3' 2>/dev/null && HAVE_BOTO3=1
if [ "$HAVE_AWS" = 0 ] && [ "$HAVE_BOTO3" = 0 ]; then
  echo "SKIP: neither the aws CLI nor boto3 is installed"
  exit 0
fi
# `aws logs tail` exists in AWS CLI v2 only (Debian's awscli package is
# v2; pip's awscli is v1): use the first v2 found.
AWS2=
for cand in $(type -ap aws) /usr/bin/aws /usr/local/bin/aws; do
  [ -x "$cand" ] || continue
  if timeout 30 "$cand" --version 2>&1 | grep -q '^aws-cli/2'; then
    AWS2=$cand
    break
  fi
done

TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

if ! start_server; then
  bad "server start"
  echo "$passed passed, $failed failed"
  exit 1
fi
ENDPOINT="http://127.0.0.1:$PORT"

# run_aws CLI ARGS...: one CLI call (30 s at most); stdout in $TMP/out,
# stderr in $TMP/err, the status in $RC.
RC=0
run_aws() {
  local cli=$1
  shift
  timeout 30 "$cli" --endpoint-url "$ENDPOINT" --region us-east-1 \
    --cli-connect-timeout 10 --cli-read-timeout 10 "$@" >"$TMP/out" 2>"$TMP/err"
  RC=$?
}

# expect_ok WHAT ARGS...: the call succeeds.
expect_ok() {
  local what=$1
  shift
  run_aws aws "$@"
  if [ "$RC" = 0 ]; then ok; else bad "$what: exit status $RC: $(cat "$TMP/err")"; fi
}

# expect_out WHAT REGEX ARGS...: the call succeeds and stdout matches.
expect_out() {
  local what=$1 re=$2
  shift 2
  run_aws aws "$@"
  if [ "$RC" != 0 ]; then
    bad "$what: exit status $RC: $(cat "$TMP/err")"
  elif ! grep -Eq -- "$re" "$TMP/out"; then
    bad "$what: stdout $(cat "$TMP/out") does not match /$re/"
  else
    ok
  fi
}

# expect_error WHAT TYPE MESSAGE ARGS...: the call fails with the CLI's
# "An error occurred (TYPE) when calling the ... operation: MESSAGE".
expect_error() {
  local what=$1 type=$2 msg=$3
  shift 3
  run_aws aws "$@"
  if [ "$RC" = 0 ]; then
    bad "$what: succeeded, want $type"
  elif ! grep -Fq "($type)" "$TMP/err" || ! grep -Fq -- ": $msg" "$TMP/err"; then
    bad "$what: stderr $(cat "$TMP/err"), want ($type) ...: $msg"
  else
    ok
  fi
}

# ---- log groups with the AWS CLI --------------------------------------------
if [ "$HAVE_AWS" = 1 ]; then
  expect_ok "create /evbus/cli-a" logs create-log-group --log-group-name /evbus/cli-a
  expect_ok "create /evbus/cli-b" logs create-log-group --log-group-name /evbus/cli-b
  expect_ok "create /other" logs create-log-group --log-group-name /other
  expect_error "create again" ResourceAlreadyExistsException \
    "The specified log group already exists" \
    logs create-log-group --log-group-name /evbus/cli-a
  expect_error "create with a bad name" InvalidParameterException \
    "1 validation error detected: Value 'a b' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+" \
    logs create-log-group --log-group-name 'a b'
  expect_out "describe by prefix" '^/evbus/cli-a[[:space:]]+/evbus/cli-b$' \
    logs describe-log-groups --log-group-name-prefix /evbus/cli- \
    --query 'logGroups[].logGroupName' --output text
  expect_out "describe by pattern" '^/other$' \
    logs describe-log-groups --log-group-name-pattern the \
    --query 'logGroups[].logGroupName' --output text
  expect_out "group ARN" '^arn:aws:logs:us-east-1:000000000000:log-group:/evbus/cli-a:\*$' \
    logs describe-log-groups --log-group-name-prefix /evbus/cli-a \
    --query 'logGroups[0].arn' --output text
  expect_ok "put retention" logs put-retention-policy --log-group-name /evbus/cli-a \
    --retention-in-days 30
  expect_out "retention reported" '^30$' \
    logs describe-log-groups --log-group-name-prefix /evbus/cli-a \
    --query 'logGroups[0].retentionInDays' --output text
  expect_error "bad retention" InvalidParameterException \
    "1 validation error detected: Value '2' at 'retentionInDays'" \
    logs put-retention-policy --log-group-name /evbus/cli-a --retention-in-days 2
  # the CLI pages through with a page size of 1 (printing a line a page):
  # nothing lost, nothing repeated
  run_aws aws logs describe-log-groups --page-size 1 \
    --query 'logGroups[].logGroupName' --output text
  listed=$(tr -s '[:space:]' ' ' <"$TMP/out")
  if [ "$RC" = 0 ] && [ "$listed" = "/evbus/cli-a /evbus/cli-b /other " ]; then
    ok
  else
    bad "describe page by page: exit status $RC: '$listed' $(cat "$TMP/err")"
  fi
  expect_ok "delete /evbus/cli-b" logs delete-log-group --log-group-name /evbus/cli-b
  expect_error "delete again" ResourceNotFoundException \
    "The specified log group does not exist." \
    logs delete-log-group --log-group-name /evbus/cli-b
  expect_out "deleted group gone" '^/evbus/cli-a$' \
    logs describe-log-groups --log-group-name-prefix /evbus/cli- \
    --query 'logGroups[].logGroupName' --output text
  expect_error "streams of a missing group" ResourceNotFoundException \
    "The specified log group does not exist." \
    logs describe-log-streams --log-group-name /evbus/cli-b
  expect_error "JSON filter pattern" InvalidParameterException \
    "JSON ({ \$.field = value }) filter patterns are not supported" \
    logs filter-log-events --log-group-name /evbus/cli-a \
    --filter-pattern '{ $.detail.x = "y" }'
else
  echo "SKIP: aws CLI not found; the log group checks were not run"
fi

# ---- rule -> log group -> the Logs API ---------------------------------------
# Whether the EventBridge control plane is there: PutRule answers
# UnknownOperationException until it is.
EVENTS_API=0
if [ "$HAVE_AWS" = 1 ]; then
  run_aws aws events put-rule --name to-logs \
    --event-pattern '{"source":["evbus.logs-test"]}'
  if [ "$RC" = 0 ]; then
    EVENTS_API=1
    ok
  elif grep -q 'UnknownOperationException' "$TMP/err"; then
    echo "SKIP: events put-rule is not supported by this evbus yet; the end-to-end checks were not run"
  else
    bad "put-rule: exit status $RC: $(cat "$TMP/err")"
  fi
fi

if [ "$EVENTS_API" = 1 ]; then
  GROUP=/evbus/e2e
  GROUP_ARN="arn:aws:logs:us-east-1:000000000000:log-group:$GROUP"
  MARK="mark-$$-$RANDOM"
  expect_ok "put-targets" events put-targets --rule to-logs \
    --targets "Id=logs,Arn=$GROUP_ARN"
  printf '[{"Source":"evbus.logs-test","DetailType":"Test","Detail":"{\\"mark\\":\\"%s\\"}"}]' \
    "$MARK" >"$TMP/entries.json"
  run_aws aws events put-events --entries "file://$TMP/entries.json" \
    --query 'Entries[0].EventId' --output text
  EVENT_ID=$(tr -d '[:space:]' <"$TMP/out")
  if [ "$RC" = 0 ] && [ -n "$EVENT_ID" ] && [ "$EVENT_ID" != None ]; then
    ok
  else
    bad "put-events: exit status $RC: $(cat "$TMP/out" "$TMP/err")"
  fi

  # the delivery is asynchronous: poll (10 s at most)
  found=0
  for _ in $(seq 50); do
    run_aws aws logs filter-log-events --log-group-name "$GROUP" \
      --filter-pattern "\"$MARK\"" --query 'events[].message' --output text
    if [ "$RC" = 0 ] && grep -Fq "$MARK" "$TMP/out"; then
      found=1
      break
    fi
    sleep 0.2
  done
  if [ "$found" = 1 ]; then ok; else bad "filter-log-events: the event never arrived: $(cat "$TMP/out" "$TMP/err")"; fi

  if [ "$found" = 1 ]; then
    expect_out "filter by ?alternatives" "$MARK" \
      logs filter-log-events --log-group-name "$GROUP" \
      --filter-pattern "?nothing-like-this ?$MARK" --query 'events[].message' --output text
    expect_out "filter by group ARN" "$MARK" \
      logs filter-log-events --log-group-identifier "$GROUP_ARN" \
      --query 'events[].message' --output text
    expect_out "no match" '^0$' \
      logs filter-log-events --log-group-name "$GROUP" \
      --filter-pattern "\"$MARK-not\"" --query 'length(events)' --output text
    expect_out "the stream is named after the event" "^$EVENT_ID\$" \
      logs describe-log-streams --log-group-name "$GROUP" \
      --query 'logStreams[].logStreamName' --output text
    expect_out "get-log-events" "$MARK" \
      logs get-log-events --log-group-name "$GROUP" --log-stream-name "$EVENT_ID" \
      --start-from-head --query 'events[].message' --output text
    expect_out "the group was created by the delivery" "^$GROUP\$" \
      logs describe-log-groups --log-group-name-prefix "$GROUP" \
      --query 'logGroups[].logGroupName' --output text
    if [ -n "$AWS2" ]; then
      run_aws "$AWS2" logs tail "$GROUP" --since 1h
      if [ "$RC" = 0 ] && grep -Fq "$MARK" "$TMP/out" && grep -Fq "$EVENT_ID" "$TMP/out"; then
        ok
      else
        bad "logs tail: exit status $RC: $(cat "$TMP/out" "$TMP/err")"
      fi
      run_aws "$AWS2" logs tail "$GROUP" --since 1h --format short --filter-pattern "\"$MARK\""
      if [ "$RC" = 0 ] && grep -Eq "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8} .*$MARK" "$TMP/out"; then
        ok
      else
        bad "logs tail --format short: exit status $RC: $(cat "$TMP/out" "$TMP/err")"
      fi
    else
      echo "SKIP: no AWS CLI v2 found (aws logs tail is v2 only; Debian's awscli package is v2); the tail checks were not run"
    fi
  fi
fi

# ---- boto3 --------------------------------------------------------------------
if [ "$HAVE_BOTO3" = 1 ]; then
  timeout 60 python3 "$HERE/logs_api_test.py" "$ENDPOINT" "$EVENTS_API" \
    >"$TMP/py.out" 2>&1
  rc=$?
  cat "$TMP/py.out"
  if [ "$rc" = 0 ]; then ok; else bad "logs_api_test.py (rc=$rc)"; fi
else
  echo "SKIP: boto3 not importable; logs_api_test.py was not run"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
