#!/usr/bin/env bash
# The EventBridge control plane and PutEvents of `evbus serve` end to end,
# with the real AWS CLI: buses, rules, targets, tags and events, each with
# the error cases the compatibility reference documents (duplicate bus,
# missing bus, deleting "default", PutRule without pattern, a schedule on
# a custom bus, DeleteRule with targets, the sixth target, invalid target
# ids, ARNs and placeholders, ListRules pagination, PutEvents with bad
# entries among good ones, events for an unknown bus acknowledged). Then
# the server is restarted on the same data directory and everything must
# still be there. Last, events_api_test.py runs a subset with boto3 (10
# events in one PutEvents, the paginators, modelled exception classes).
#
#   bash tests/cli/test_events_api.sh /path/to/evbus
#
# Dummy credentials come from the environment; nothing outside 127.0.0.1
# is contacted. Every wait has a timeout, and a trap kills the server on
# any exit. Prints "N passed, M failed"; exits non-zero on failure. When
# the aws CLI or boto3 is missing, or too old to know the 2024 model
# (UpdateEventBus), its part is skipped and said so.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
if [ ! -x "$EVBUS" ]; then
  echo "not executable: $EVBUS" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
HAVE_AWS=0
HAVE_BOTO3=0
WHY_NO_AWS="aws CLI not found"
WHY_NO_BOTO3="boto3 not importable"
if AWS=$(command -v aws); then
  # a pyenv shim costs a process per call: use what it points to
  case "$AWS" in
    */shims/aws) AWS=$(pyenv which aws 2>/dev/null) || AWS=$(command -v aws) ;;
  esac
  if timeout 30 "$AWS" events update-event-bus --generate-cli-skeleton >/dev/null 2>&1; then
    HAVE_AWS=1
  else
    WHY_NO_AWS="$(timeout 30 "$AWS" --version 2>&1) predates UpdateEventBus"
  fi
fi
if python3 -c 'import boto3' 2>/dev/null; then
  if timeout 30 python3 -c '
import botocore.session
m = botocore.session.get_session().get_service_model("events")
assert "Description" in m.operation_model("CreateEventBus").input_shape.members
' 2>/dev/null; then
    HAVE_BOTO3=1
  else
    WHY_NO_BOTO3="boto3's EventBridge model predates CreateEventBus Description"
  fi
fi
if [ "$HAVE_AWS" = 0 ] && [ "$HAVE_BOTO3" = 0 ]; then
  echo "SKIP: $WHY_NO_AWS; $WHY_NO_BOTO3"
  exit 0
fi

TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

# ev ARGS...: aws events ARGS against the server; stdout and stderr go to
# $TMP/out and $TMP/err.
ev() {
  timeout 30 "$AWS" --endpoint-url "http://127.0.0.1:$PORT" --region us-east-1 \
    --cli-connect-timeout 10 --cli-read-timeout 10 \
    events "$@" >"$TMP/out" 2>"$TMP/err"
}

# expect_out WANT ARGS...: the call succeeds and prints exactly WANT (use
# --query with --output text).
expect_out() {
  local want=$1 got
  shift
  if ! ev "$@"; then
    bad "aws events $*: failed: $(cat "$TMP/err")"
    return
  fi
  got=$(cat "$TMP/out")
  [ "$got" = "$want" ] && ok || bad "aws events $*: got '$got', want '$want'"
}

# expect_page NAMES more|last ARGS...: a List call (JSON output) returns
# the rules or targets NAMES (space-separated), and a NextToken (more) or
# none (last). The token is left in $token for the next page.
token=
expect_page() {
  local want=$1 want_more=$2 got
  shift 2
  if ! ev "$@" --output json; then
    bad "aws events $*: failed: $(cat "$TMP/err")"
    return
  fi
  got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
items = d.get("Rules", d.get("Targets", []))
print(" ".join(i.get("Name", i.get("Id", "")) for i in items))
print(d.get("NextToken") or "")' "$TMP/out" 2>&1)
  token=$(sed -n 2p <<<"$got")
  got=$(sed -n 1p <<<"$got")
  local more=last
  [ -n "$token" ] && more="more"
  [ "$got" = "$want" ] && [ "$more" = "$want_more" ] && ok ||
    bad "aws events $*: got '$got' ($more), want '$want' ($want_more)"
}

# expect_ok ARGS...: the call succeeds.
expect_ok() {
  ev "$@" && ok || bad "aws events $*: failed: $(cat "$TMP/err")"
}

# expect_err CODE MESSAGE ARGS...: the call fails with exception CODE and
# exactly MESSAGE; a MESSAGE starting with '~' need only be contained.
expect_err() {
  local code=$1 msg=$2 line got_code got_msg
  shift 2
  if ev "$@"; then
    bad "aws events $*: succeeded, want $code"
    return
  fi
  line=$(grep -m1 '^An error occurred' "$TMP/err")
  got_code=$(sed -n 's/^An error occurred (\([A-Za-z]*\)).*/\1/p' <<<"$line")
  got_msg=$(sed 's/^An error occurred ([A-Za-z]*) when calling the [A-Za-z]* operation\( (reached max retries: [0-9]*)\)\{0,1\}: //' <<<"$line")
  if [ "$got_code" != "$code" ]; then
    bad "aws events $*: exception '$got_code', want '$code' ($(cat "$TMP/err"))"
  elif [ "${msg#\~}" != "$msg" ]; then
    case "$got_msg" in
      *"${msg#\~}"*) ok ;;
      *) bad "aws events $*: message '$got_msg' does not contain '${msg#\~}'" ;;
    esac
  elif [ "$got_msg" != "$msg" ]; then
    bad "aws events $*: message '$got_msg', want '$msg'"
  else
    ok
  fi
}

if ! start_server; then
  bad "server start"
  echo "$passed passed, $failed failed"
  exit 1
fi

ACCT=000000000000
ARN=arn:aws:events:us-east-1:$ACCT
Q1=arn:aws:sqs:us-east-1:$ACCT:q1
LOGS=arn:aws:logs:us-east-1:$ACCT:log-group:orders
TARGETS='[{"Id":"t-log","Arn":"'$LOGS'"},
 {"Id":"t-in","Arn":"'$Q1'","Input":"{\"a\":1}"},
 {"Id":"t-tr","Arn":"'$Q1'","RetryPolicy":{"MaximumRetryAttempts":3},
  "InputTransformer":{"InputPathsMap":{"src":"$.source"},"InputTemplate":"{\"from\": <src>}"}}]'

if [ "$HAVE_AWS" = 1 ]; then
  # ---- buses -------------------------------------------------------------
  expect_out "$ARN:event-bus/orders" create-event-bus --name orders \
    --description "Order events" --tags Key=team,Value=core \
    --query EventBusArn --output text
  expect_err ResourceAlreadyExistsException "Event bus orders already exists." \
    create-event-bus --name orders
  expect_err ValidationException "Event bus name must not contain '/'." \
    create-event-bus --name a/b
  expect_err ValidationException \
    "1 validation error detected: Value 'bad name' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+" \
    create-event-bus --name "bad name"
  expect_out "orders	Order events" describe-event-bus --name "$ARN:event-bus/orders" \
    --query '[Name,Description]' --output text
  expect_out "default	$ARN:event-bus/default" describe-event-bus \
    --query '[Name,Arn]' --output text
  expect_err ResourceNotFoundException "Event bus nope does not exist." \
    describe-event-bus --name nope
  expect_err ValidationException "Cannot delete event bus default." \
    delete-event-bus --name default
  expect_ok delete-event-bus --name never-existed
  expect_out "Orders v2" update-event-bus --name orders --description "Orders v2" \
    --query Description --output text
  expect_out "default orders" list-event-buses \
    --query 'join(`" "`, EventBuses[].Name)' --output text
  expect_out "team	core" list-tags-for-resource --resource-arn "$ARN:event-bus/orders" \
    --query 'Tags[].[Key,Value]' --output text

  # ---- rules -------------------------------------------------------------
  expect_out "$ARN:rule/orders/r-orders" put-rule --name r-orders \
    --event-bus-name orders --event-pattern '{"source":["shop"]}' \
    --description first --tags Key=owner,Value=me --query RuleArn --output text
  expect_err ValidationException \
    "Parameter(s) EventPattern or ScheduleExpression must be specified." \
    put-rule --name r-none --event-bus-name orders
  expect_err ValidationException \
    "ScheduleExpression is supported only on the default event bus." \
    put-rule --name r-sched --event-bus-name orders --schedule-expression 'rate(5 minutes)'
  expect_err InvalidEventPatternException \
    'Event pattern is not valid. Reason: "source" must be an object or an array' \
    put-rule --name r-bad --event-pattern '{"source":"shop"}'
  expect_err ValidationException "Parameter ScheduleExpression is not valid." \
    put-rule --name r-sched --schedule-expression 'rate(1 minutes)'
  expect_out "$ARN:rule/r-sched" put-rule --name r-sched \
    --schedule-expression 'rate(5 minutes)' --query RuleArn --output text
  expect_err ResourceNotFoundException "Rule nope does not exist on EventBus orders." \
    describe-rule --name nope --event-bus-name orders
  expect_ok disable-rule --name r-orders --event-bus-name "$ARN:event-bus/orders"
  expect_out "orders	DISABLED	first" describe-rule --name r-orders \
    --event-bus-name orders --query '[EventBusName,State,Description]' --output text
  expect_ok enable-rule --name r-orders --event-bus-name orders
  # PutRule replaces: the description goes, the new tags are ignored
  expect_ok put-rule --name r-orders --event-bus-name orders \
    --event-pattern '{"source":["shop","store"]}' --tags Key=ignored,Value=x
  expect_out 'ENABLED	{"source":["shop","store"]}	None' describe-rule --name r-orders \
    --event-bus-name orders --query '[State,EventPattern,Description]' --output text
  expect_out "owner	me" list-tags-for-resource --resource-arn "$ARN:rule/orders/r-orders" \
    --query 'Tags[].[Key,Value]' --output text
  # pagination over three rules p1..p3, by the CLI and by hand
  for i in 1 2 3; do
    ev put-rule --name "p$i" --event-pattern '{"source":["p"]}' || bad "put-rule p$i"
  done
  expect_page "p1 p2" more list-rules --name-prefix p --max-items 2
  expect_page "p3" last list-rules --name-prefix p --max-items 2 --starting-token "$token"
  expect_page "p1 p2 p3" last list-rules --name-prefix p --page-size 2
  expect_page "p1 p2" more list-rules --name-prefix p --limit 2
  expect_page "p3" last list-rules --name-prefix p --limit 2 --next-token "$token"

  # ---- targets -----------------------------------------------------------
  expect_out "0" put-targets --rule r-orders --event-bus-name orders \
    --targets "$TARGETS" --query FailedEntryCount --output text
  # Input and InputTransformer come back as they were put
  expect_out 't-in t-log t-tr	{"a":1}	{"from": <src>}	$.source	3' \
    list-targets-by-rule --rule r-orders --event-bus-name orders --output text \
    --query "[join(' ', Targets[].Id), Targets[?Id=='t-in'].Input | [0], Targets[?Id=='t-tr'] | [0].InputTransformer.InputTemplate, Targets[?Id=='t-tr'] | [0].InputTransformer.InputPathsMap.src, Targets[?Id=='t-tr'] | [0].RetryPolicy.MaximumRetryAttempts]"
  expect_ok put-targets --rule r-orders --event-bus-name orders \
    --targets "Id=t4,Arn=$Q1" "Id=t5,Arn=$Q1"
  expect_err LimitExceededException \
    "The requested resource exceeds the maximum number allowed." \
    put-targets --rule r-orders --event-bus-name orders --targets "Id=t6,Arn=$Q1"
  expect_err ValidationException \
    "1 validation error detected: Value '!@#\$@!#\$' at 'targets.1.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+" \
    put-targets --rule r-orders --event-bus-name orders \
    --targets '[{"Id":"!@#$@!#$","Arn":"'$Q1'"}]'
  expect_err ValidationException \
    "InputTemplate for target t-bad contains invalid placeholder nope." \
    put-targets --rule r-orders --event-bus-name orders \
    --targets '[{"Id":"t-bad","Arn":"'$Q1'","InputTransformer":{"InputPathsMap":{"src":"$.source"},"InputTemplate":"\"<nope>\""}}]'
  expect_err ValidationException \
    "Input for target t-logs is not a valid JSON text." \
    put-targets --rule r-sched \
    --targets '[{"Id":"t-logs","Arn":"'$LOGS'","InputTransformer":{"InputTemplate":"\"text\""}}]'
  expect_err ValidationException \
    "Parameter notarn is not valid. Reason: Provided Arn is not in correct format." \
    put-targets --rule r-sched --targets Id=x,Arn=notarn
  expect_err ResourceNotFoundException "Rule nope does not exist on EventBus orders." \
    put-targets --rule nope --event-bus-name orders --targets "Id=x,Arn=$Q1"
  expect_err ValidationException "Rule can't be deleted since it has targets." \
    delete-rule --name r-orders --event-bus-name orders
  expect_out "r-orders" list-rule-names-by-target --target-arn "$Q1" \
    --event-bus-name orders --query 'RuleNames' --output text
  expect_out "0" remove-targets --rule r-orders --event-bus-name orders \
    --ids t4 t5 --query FailedEntryCount --output text
  # a rule without targets can go, and deleting it again succeeds
  expect_ok delete-rule --name r-sched
  expect_ok delete-rule --name r-sched
  expect_err ResourceNotFoundException "Event bus nope does not exist." \
    delete-rule --name r-sched --event-bus-name nope

  # ---- PutEvents -----------------------------------------------------------
  expect_out "2	MalformedDetail	Parameter Source is not valid. Reason: Source is a required argument.	True" \
    put-events --output text --query '[FailedEntryCount, Entries[1].ErrorCode, Entries[2].ErrorMessage, length(Entries[0].EventId) == `36`]' \
    --entries '[{"Source":"shop","DetailType":"order","Detail":"{\"id\":1}","EventBusName":"orders"},
                {"Source":"shop","DetailType":"order","Detail":"[1]"},
                {"DetailType":"order","Detail":"{}"},
                {"Source":"shop","DetailType":"order","Detail":"{}","Time":"2024-01-01T00:00:00Z","Resources":["arn:aws:x"]}]'
  # an unknown bus: acknowledged (and dropped), as on AWS
  expect_out "0	True" put-events --output text \
    --query '[FailedEntryCount, length(Entries[0].EventId) == `36`]' \
    --entries '[{"Source":"shop","DetailType":"order","Detail":"{}","EventBusName":"no-such-bus"}]'
  ELEVEN=$(python3 -c 'import json; print(json.dumps([{"Source":"s","DetailType":"t","Detail":"{}"}]*11))')
  expect_err ValidationException \
    "~at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10" \
    put-events --entries "$ELEVEN"

  # ---- tags ------------------------------------------------------------------
  expect_ok tag-resource --resource-arn "$ARN:rule/orders/r-orders" --tags Key=env,Value=prod
  expect_ok untag-resource --resource-arn "$ARN:rule/orders/r-orders" --tag-keys owner
  expect_out "env	prod" list-tags-for-resource --resource-arn "$ARN:rule/orders/r-orders" \
    --query 'Tags[].[Key,Value]' --output text
  expect_err ResourceNotFoundException "Rule nope does not exist on EventBus default." \
    tag-resource --resource-arn "$ARN:rule/nope" --tags Key=a,Value=b

  # ---- everything survives a restart ----------------------------------------
  stop_server
  if start_server; then
    ok
    expect_out "default orders	Orders v2" list-event-buses --output text \
      --query '[join(`" "`, EventBuses[].Name), EventBuses[?Name==`orders`] | [0].Description]'
    expect_out 'ENABLED	{"source":["shop","store"]}' describe-rule --name r-orders \
      --event-bus-name orders --query '[State,EventPattern]' --output text
    expect_out 't-in t-log t-tr	{"a":1}	{"from": <src>}' list-targets-by-rule \
      --rule r-orders --event-bus-name orders --output text \
      --query "[join(' ', Targets[].Id), Targets[?Id=='t-in'].Input | [0], Targets[?Id=='t-tr'] | [0].InputTransformer.InputTemplate]"
    expect_out "team	core" list-tags-for-resource --resource-arn "$ARN:event-bus/orders" \
      --query 'Tags[].[Key,Value]' --output text
    expect_out "env	prod" list-tags-for-resource --resource-arn "$ARN:rule/orders/r-orders" \
      --query 'Tags[].[Key,Value]' --output text
  else
    bad "restart"
  fi
else
  echo "SKIP: $WHY_NO_AWS; its checks were not run"
fi

# ---- boto3 ---------------------------------------------------------------------
if [ "$HAVE_BOTO3" = 1 ]; then
  timeout 60 python3 "$HERE/events_api_test.py" "http://127.0.0.1:$PORT" \
    >"$TMP/boto.out" 2>&1
  rc=$?
  summary=$(grep -E '^boto3: [0-9]+ passed, [0-9]+ failed$' "$TMP/boto.out")
  if [ -n "$summary" ]; then
    bp=$(sed 's/^boto3: \([0-9]*\) passed.*/\1/' <<<"$summary")
    bf=$(sed 's/.* \([0-9]*\) failed$/\1/' <<<"$summary")
    passed=$((passed + bp))
    failed=$((failed + bf))
    grep '^FAIL' "$TMP/boto.out"
  fi
  if [ "$rc" != 0 ] && { [ -z "$summary" ] || [ "$bf" = 0 ]; }; then
    bad "events_api_test.py exited $rc: $(cat "$TMP/boto.out")"
  fi
else
  echo "SKIP: $WHY_NO_BOTO3; events_api_test.py was not run"
fi

[ -n "$SERVER_PID" ] && stop_server
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
