#!/usr/bin/env bash
# `evbus apply` end to end, against a server this script starts:
#   - create: examples/apply/basic.yaml (every kind of resource), checked
#     with the AWS CLI; the second apply plans everything unchanged;
#   - --dry-run prints the plan and changes nothing;
#   - change: a changed copy updates each resource (checked with the AWS
#     CLI), then is unchanged on the next apply;
#   - delete: a smaller file deletes what apply manages and nothing made
#     by hand, until --prune; another stack's resources are left alone;
#   - errors: a locally invalid file (exit 2, file:line, nothing applied),
#     an invalid event pattern found by the server before any change
#     (exit 2, file:line), a call the server refuses half way (exit 1,
#     file:line of the resource), an unreachable server (exit 1), usage
#     (exit 2, --help 0);
#   - the connection's secret (an ${ENV} reference) is never printed by
#     apply nor logged by the server.
#
#   bash tests/cli/test_apply.sh /path/to/evbus
#
# The AWS CLI checks are skipped when the aws command is missing (the
# apply checks still run). Loopback only; every wait is bounded; a trap
# kills the server on any exit.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
[ -x "$EVBUS" ] || { echo "not executable: $EVBUS" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
EXAMPLE="$ROOT/examples/apply/basic.yaml"

HAVE_AWS=0
if AWS=$(command -v aws); then
  case "$AWS" in
    */shims/aws) AWS=$(pyenv which aws 2>/dev/null) || AWS=$(command -v aws) ;;
  esac
  timeout 30 "$AWS" --version >/dev/null 2>&1 && HAVE_AWS=1
fi
[ "$HAVE_AWS" = 1 ] || echo "note: no aws CLI; its checks are skipped"

TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

SECRET="evbus-apply-test-secret-$$"
export CRM_API_KEY="$SECRET"
: >"$TMP/all-output"

# apply ARGS...: run evbus apply against the server; stdout in $TMP/out,
# stderr in $TMP/err, status in $RC; everything also kept in all-output
apply() {
  timeout 60 "$EVBUS" apply --endpoint-url "http://127.0.0.1:$PORT" "$@" \
    >"$TMP/out" 2>"$TMP/err"
  RC=$?
  cat "$TMP/out" "$TMP/err" >>"$TMP/all-output"
}
# expect_rc WANT WHAT
expect_rc() {
  [ "$RC" = "$1" ] && ok || bad "$2: exit status $RC, want $1: $(cat "$TMP/out" "$TMP/err")"
}
# has FILE TEXT WHAT: FILE contains TEXT (fixed string)
has() {
  grep -qF -- "$2" "$TMP/$1" && ok || bad "$3: no '$2' in $1: $(cat "$TMP/$1")"
}
hasnt() {
  grep -qF -- "$2" "$TMP/$1" && bad "$3: '$2' in $1: $(cat "$TMP/$1")" || ok
}

aws_() {
  timeout 30 "$AWS" --endpoint-url "http://127.0.0.1:$PORT" --region us-east-1 \
    --cli-connect-timeout 10 --cli-read-timeout 10 "$@" >"$TMP/aws.out" 2>"$TMP/aws.err"
}
# aws_is WANT ARGS...: the AWS CLI succeeds and prints exactly WANT
aws_is() {
  [ "$HAVE_AWS" = 1 ] || return 0
  local want=$1 got
  shift
  if ! aws_ "$@"; then bad "aws $*: $(cat "$TMP/aws.err")"; return; fi
  got=$(tr '\t\n' '  ' <"$TMP/aws.out" | sed 's/ *$//')
  [ "$got" = "$want" ] && ok || bad "aws $*: got '$got', want '$want'"
}
# aws_fails CODE ARGS...: the AWS CLI fails with CODE
aws_fails() {
  [ "$HAVE_AWS" = 1 ] || return 0
  local code=$1
  shift
  if aws_ "$@"; then bad "aws $*: succeeded, want $code"; return; fi
  grep -q "$code" "$TMP/aws.err" && ok || bad "aws $*: want $code, got $(cat "$TMP/aws.err")"
}

start_server || exit 1
Q="http://127.0.0.1:$PORT/000000000000"

# ---- usage --------------------------------------------------------------
"$EVBUS" apply --help >"$TMP/out" 2>&1
RC=$?
expect_rc 0 "--help"
has out "usage: evbus apply -f FILE" "--help"
apply
expect_rc 2 "no -f"
has err "-f FILE is required" "no -f"
apply -f "$EXAMPLE" --bogus
expect_rc 2 "unknown option"
apply -f "$TMP/does-not-exist.yaml"
expect_rc 2 "missing file"
timeout 30 "$EVBUS" apply -f "$EXAMPLE" --endpoint-url http://127.0.0.1:1 >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc 1 "unreachable server"
has err "cannot reach the evbus server" "unreachable server"

# ---- create -------------------------------------------------------------
apply -f "$EXAMPLE" --dry-run
expect_rc 0 "dry run of the example"
has out "Plan: 10 to create, 0 to update, 0 to delete, 0 unchanged." "dry run plan"
has out "Dry run: nothing was changed." "dry run"
aws_fails ResourceNotFoundException events describe-event-bus --name orders

apply -f "$EXAMPLE"
expect_rc 0 "apply the example"
has out "Plan: 10 to create, 0 to update, 0 to delete, 0 unchanged." "create plan"
has out "+ create    rule            orders/big-orders" "create plan line"
has out "Apply complete: 10 created, 0 updated, 0 deleted." "create summary"

aws_is "Order lifecycle events" events describe-event-bus --name orders --query Description --output text
aws_is "audit-all big-orders" events list-rules --event-bus-name orders --query 'Rules[].Name' --output text
aws_is "nightly-report" events list-rules --query 'Rules[].Name' --output text
aws_is "3 arn:aws:sqs:us-east-1:000000000000:orders-dlq" events list-targets-by-rule \
  --rule big-orders --event-bus-name orders \
  --query 'Targets[?Id==`crm`].[RetryPolicy.MaximumRetryAttempts,DeadLetterConfig.Arn]' --output text
aws_is '{"subject": "Big order <order>", "amount": <total>}' events list-targets-by-rule \
  --rule big-orders --event-bus-name orders \
  --query 'Targets[?Id==`crm`].InputTransformer.InputTemplate' --output text
aws_is "arn:aws:logs:us-east-1:000000000000:log-group:/evbus/orders-audit" events \
  list-targets-by-rule --rule audit-all --event-bus-name orders --query 'Targets[].Arn' --output text
aws_is "API_KEY x-api-key AUTHORIZED" events describe-connection --name crm \
  --query '[AuthorizationType,AuthParameters.ApiKeyAuthParameters.ApiKeyName,ConnectionState]' --output text
aws_is "https://crm.example.com/api/cases POST 20" events describe-api-destination --name crm-cases \
  --query '[InvocationEndpoint,HttpMethod,InvocationRateLimitPerSecond]' --output text
aws_is "30" events describe-archive --archive-name orders-archive --query RetentionDays --output text
aws_is "60" sqs get-queue-attributes --queue-url "$Q/orders-work" \
  --attribute-names VisibilityTimeout --query Attributes.VisibilityTimeout --output text
aws_is "14" logs describe-log-groups --log-group-name-prefix /evbus/orders-audit \
  --query 'logGroups[].retentionInDays' --output text

# the ownership record: one tag per resource on the default bus
aws_is "basic:-:orders" events list-tags-for-resource \
  --resource-arn arn:aws:events:us-east-1:000000000000:event-bus/default \
  --query 'Tags[?starts_with(Key, `evbus:apply:bus:`)].Value' --output text

# idempotence: the same file again changes nothing
apply -f "$EXAMPLE"
expect_rc 0 "second apply"
has out "Plan: 0 to create, 0 to update, 0 to delete, 10 unchanged." "second apply is unchanged"
has out "Nothing to change." "second apply"
hasnt out "+ create" "second apply"

# ---- change -------------------------------------------------------------
sed -e 's/description: Order lifecycle events/description: Every order event/' \
    -e 's/VisibilityTimeout: 60/VisibilityTimeout: 90/' \
    -e 's/retentionInDays: 14/retentionInDays: 30/' \
    -e 's/maximumRetryAttempts: 3/maximumRetryAttempts: 5/' \
    -e 's/invocationRateLimitPerSecond: 20/invocationRateLimitPerSecond: 5/' \
    -e 's/retentionDays: 30/retentionDays: 7/' \
    -e 's/team: checkout/team: payments/' \
    -e 's/detail-type: \[OrderPlaced\]/detail-type: [OrderPlaced, OrderUpdated]/' \
    "$EXAMPLE" >"$TMP/changed.yaml"

apply -f "$TMP/changed.yaml" --dry-run
expect_rc 0 "dry run of the change"
has out "~ update    bus             orders: description: Order lifecycle events -> Every order event, tags" "change plan: bus"
has out "~ update    queue           orders-work: VisibilityTimeout: 60 -> 90" "change plan: queue"
has out "~ update    rule            orders/big-orders: eventPattern, targets (~crm)" "change plan: rule"
has out "Plan: 0 to create, 6 to update, 0 to delete, 4 unchanged." "change plan"
# the dry run changed nothing
aws_is "Order lifecycle events" events describe-event-bus --name orders --query Description --output text
aws_is "60" sqs get-queue-attributes --queue-url "$Q/orders-work" \
  --attribute-names VisibilityTimeout --query Attributes.VisibilityTimeout --output text

# a new secret is noticed (the server never shows it; the record's digest does)
CRM_API_KEY="$SECRET-2" apply -f "$TMP/changed.yaml"
expect_rc 0 "apply the change"
has out "~ update    connection      crm: secrets" "changed secret"
has out "Apply complete: 0 created, 7 updated, 0 deleted." "change summary"
export CRM_API_KEY="$SECRET-2"
aws_is "Every order event" events describe-event-bus --name orders --query Description --output text
aws_is "team payments" events list-tags-for-resource \
  --resource-arn arn:aws:events:us-east-1:000000000000:event-bus/orders --query 'Tags[].[Key,Value]' --output text
aws_is "90" sqs get-queue-attributes --queue-url "$Q/orders-work" \
  --attribute-names VisibilityTimeout --query Attributes.VisibilityTimeout --output text
aws_is "30" logs describe-log-groups --log-group-name-prefix /evbus/orders-audit \
  --query 'logGroups[].retentionInDays' --output text
aws_is "5" events list-targets-by-rule --rule big-orders --event-bus-name orders \
  --query 'Targets[?Id==`crm`].RetryPolicy.MaximumRetryAttempts' --output text
aws_is "5" events describe-api-destination --name crm-cases --query InvocationRateLimitPerSecond --output text
aws_is "7" events describe-archive --archive-name orders-archive --query RetentionDays --output text

apply -f "$TMP/changed.yaml"
expect_rc 0 "apply the change again"
has out "Plan: 0 to create, 0 to update, 0 to delete, 10 unchanged." "change is idempotent"

# ---- delete -------------------------------------------------------------
# a rule made by hand on a managed bus, and a queue of another stack
aws_ events put-rule --name handmade --event-bus-name orders --event-pattern '{"source":["x"]}' ||
  [ "$HAVE_AWS" = 0 ] || bad "put-rule handmade: $(cat "$TMP/aws.err")"
printf '{"stack": "other", "queues": [{"name": "other-queue"}]}\n' >"$TMP/other.json"
apply -f "$TMP/other.json"
expect_rc 0 "a JSON document of another stack"
has out "+ create    queue           other-queue" "other stack"

cat >"$TMP/small.yaml" <<'EOF'
version: 1
stack: basic
logGroups:
  - name: /evbus/orders-audit
    retentionInDays: 30
rules:
  - name: audit-all
    bus: orders
    description: Every order event to the audit log
    eventPattern:
      source: [shop.orders]
    targets:
      - id: audit
        logGroup: /evbus/orders-audit
buses:
  - name: orders
    description: Every order event
    tags: {team: payments}
EOF
apply -f "$TMP/small.yaml"
expect_rc 0 "apply the smaller file"
has out "Plan: 0 to create, 0 to update, 7 to delete, 3 unchanged." "delete plan"
for line in "- delete    rule            default/nightly-report" \
            "- delete    rule            orders/big-orders" \
            "- delete    archive         orders-archive" \
            "- delete    api destination crm-cases" \
            "- delete    connection      crm" \
            "- delete    queue           orders-dlq" \
            "- delete    queue           orders-work"; do
  has out "$line" "delete plan"
done
# deletes run in reverse dependency order: rules first, queues last
order=$(grep -n '^  deleted' "$TMP/out" | sed 's/:.*//' | tr '\n' ' ')
first_rule=$(grep -n '^  deleted rule' "$TMP/out" | head -1 | cut -d: -f1)
last_queue=$(grep -n '^  deleted queue' "$TMP/out" | tail -1 | cut -d: -f1)
[ -n "$first_rule" ] && [ -n "$last_queue" ] && [ "$first_rule" -lt "$last_queue" ] && ok ||
  bad "delete order: $order: $(cat "$TMP/out")"
hasnt out "handmade" "the hand-made rule is not apply's"
hasnt out "other-queue" "another stack's queue is not this one's"
aws_is "audit-all handmade" events list-rules --event-bus-name orders --query 'Rules[].Name' --output text
aws_fails ResourceNotFoundException events describe-archive --archive-name orders-archive
aws_fails ResourceNotFoundException events describe-connection --name crm
aws_is "$Q/other-queue" sqs list-queues --query 'QueueUrls' --output text

apply -f "$TMP/small.yaml"
expect_rc 0 "the smaller file again"
has out "Plan: 0 to create, 0 to update, 0 to delete, 3 unchanged." "delete is idempotent"

apply -f "$TMP/small.yaml" --prune --dry-run
expect_rc 0 "prune dry run"
has out "- delete    rule            orders/handmade [--prune: not managed by apply]" "prune plan"
hasnt out "other-queue" "prune leaves other stacks alone"
apply -f "$TMP/small.yaml" --prune
expect_rc 0 "prune"
aws_is "audit-all" events list-rules --event-bus-name orders --query 'Rules[].Name' --output text

# ---- errors ---------------------------------------------------------------
# locally invalid: every problem reported with file:line, nothing applied
cat >"$TMP/invalid.yaml" <<'EOF'
stack: basic
queues:
  - name: new-queue
buses:
  - name: orders
    descripton: typo
rules:
  - name: r1
    eventPattern: {source: [a]}
    targets:
      - id: t
        queue: new-queue
        retryPolicy: {maximumRetryAttempts: lots}
EOF
apply -f "$TMP/invalid.yaml"
expect_rc 2 "locally invalid file"
has err "$TMP/invalid.yaml:6: unknown key 'descripton' in bus" "unknown key with file:line"
has err "$TMP/invalid.yaml:13: 'maximumRetryAttempts' in retryPolicy must be an integer, found a string" "wrong type with file:line"
hasnt out "Plan:" "no plan for an invalid file"
aws_fails NonExistentQueue sqs get-queue-url --queue-name new-queue

# the server finds an invalid event pattern before anything changes
cat >"$TMP/badpattern.yaml" <<'EOF'
stack: basic
queues:
  - name: new-queue
rules:
  - name: bad-pattern
    eventPattern:
      source: not-a-list
EOF
apply -f "$TMP/badpattern.yaml"
expect_rc 2 "invalid event pattern"
has err "$TMP/badpattern.yaml:6: rule default/bad-pattern: InvalidEventPatternException: Event pattern is not valid." "server pattern error with file:line"
aws_fails NonExistentQueue sqs get-queue-url --queue-name new-queue

# the server refuses a call half way: its exception at the resource's line
cat >"$TMP/toomany.yaml" <<'EOF'
stack: errors
rules:
  - name: fine
    eventPattern: {source: [a]}
  - name: too-many
    eventPattern: {source: [a]}
    targets:
      - {id: t1, logGroup: /evbus/orders-audit}
      - {id: t2, logGroup: /evbus/orders-audit}
      - {id: t3, logGroup: /evbus/orders-audit}
      - {id: t4, logGroup: /evbus/orders-audit}
      - {id: t5, logGroup: /evbus/orders-audit}
      - {id: t6, logGroup: /evbus/orders-audit}
  - name: wrong-state
    state: SOMETIMES
    eventPattern: {source: [a]}
EOF
apply -f "$TMP/toomany.yaml"
expect_rc 1 "server-side error"
has err "$TMP/toomany.yaml:5: rule default/too-many: PutTargets: LimitExceededException:" "server error with file:line"
sed -i -e '/id: t[3-6]/d' "$TMP/toomany.yaml"
apply -f "$TMP/toomany.yaml"
expect_rc 1 "server-side validation error"
has err "$TMP/toomany.yaml:10: rule default/wrong-state: PutRule: ValidationException: 1 validation error detected: Value 'SOMETIMES' at 'state'" "server validation error with file:line"

# a server message that quotes a refused secret does not show it
cat >"$TMP/leaky.yaml" <<'EOF2'
stack: leak
connections:
  - name: leaky
    authorizationType: API_KEY
    authParameters:
      apiKeyAuthParameters: {apiKeyName: x-key, apiKeyValue: "${LEAKY_KEY}"}
EOF2
LEAKY_KEY="$SECRET:has-a-colon" apply -f "$TMP/leaky.yaml"
expect_rc 1 "a secret the server refuses"
has err "$TMP/leaky.yaml:3: connection leaky: CreateConnection: ValidationException: 1 validation error detected: Value '(secret)' at 'authParameters.apiKeyAuthParameters.apiKeyValue'" "refused secret masked"

# ---- schemas and pipes -----------------------------------------------------
# a server with the in-process Kafka test cluster: pipes read from it
stop_server
start_server --embedded-kafka || exit 1
KAFKA=$(sed -n 's/.*embedded test cluster .* at \([0-9.]*:[0-9]*\).*/\1/p' "$TMP/server.err" | head -1)
[ -n "$KAFKA" ] && ok || bad "no embedded Kafka address in the server's log: $(cat "$TMP/server.err")"
export KAFKA_BOOTSTRAP=$KAFKA
mkdir -p "$TMP/stream/schemas"
cat >"$TMP/stream/schemas/transaction.avsc" <<'EOF2'
{"type": "record", "name": "Transaction", "namespace": "demo",
 "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "double"}]}
EOF2
cat >"$TMP/stream/stack.yaml" <<'EOF2'
version: 1
stack: stream
schemas:
  - subject: transactions-value
    file: schemas/transaction.avsc
    compatibility: FULL
buses:
  - name: fraud
pipes:
  - name: fraud-events
    description: Fraud events onto the bus
    source: smk://${KAFKA_BOOTSTRAP}
    sourceParameters:
      selfManagedKafkaParameters:
        topicName: notifications
        startingPosition: TRIM_HORIZON
        batchSize: 10
      filterCriteria:
        filters:
          - pattern: {value: {score: [{numeric: [">", 0.5]}]}}
    target: {bus: fraud}
    targetParameters:
      inputTemplate: '<$.value>'
      eventBridgeEventBusParameters:
        source: fraud.analytics
        detailType: Fraud Detected
    tags: {team: risk}
EOF2
S="$TMP/stream/stack.yaml"
apply -f "$S" --dry-run
expect_rc 0 "dry run: schemas and pipes"
has out "+ create    schema          transactions-value" "dry run: schema"
has out "+ create    pipe            fraud-events" "dry run: pipe"
curl -s "http://127.0.0.1:$PORT/subjects" >"$TMP/subjects"
has subjects "[]" "dry run registers nothing"

apply -f "$S"
expect_rc 0 "create a schema and a pipe"
has out "Plan: 3 to create, 0 to update, 0 to delete, 0 unchanged." "create plan: schemas and pipes"
has out "created pipe fraud-events" "pipe created"
curl -s "http://127.0.0.1:$PORT/subjects/transactions-value/versions" >"$TMP/versions"
has versions "[1]" "schema registered"
curl -s "http://127.0.0.1:$PORT/config/transactions-value" >"$TMP/config"
has config '"FULL"' "subject's compatibility set"
aws_is "notifications arn:aws:events:us-east-1:000000000000:event-bus/fraud" pipes describe-pipe \
  --name fraud-events --query '[SourceParameters.SelfManagedKafkaParameters.TopicName,Target]' --output text
aws_is "smk://$KAFKA" pipes describe-pipe --name fraud-events --query Source --output text

apply -f "$S"
expect_rc 0 "apply again: schemas and pipes"
has out "Plan: 0 to create, 0 to update, 0 to delete, 3 unchanged." "unchanged: schemas and pipes"
has out "Nothing to change." "nothing to change: schemas and pipes"

# a changed filter: UpdatePipe
sed -i 's/">", 0.5/">", 0.8/' "$S"
apply -f "$S"
expect_rc 0 "change the filter"
has out "~ update    pipe            fraud-events: filterCriteria" "filter: update"
has out "Apply complete: 0 created, 1 updated, 0 deleted." "filter: summary"
aws_is '{"value":{"score":[{"numeric":[">",0.8]}]}}' pipes describe-pipe --name fraud-events \
  --query 'SourceParameters.FilterCriteria.Filters[0].Pattern' --output text
apply -f "$S"
has out "3 unchanged" "filter: then unchanged"

# a changed topic: UpdatePipe cannot, so the pipe is replaced
sed -i 's/topicName: notifications/topicName: notifications-v2/' "$S"
apply -f "$S"
expect_rc 0 "change the topic"
has out "~ update    pipe            fraud-events: topicName: notifications -> notifications-v2 [replaces it" "topic: replace"
aws_is "notifications-v2" pipes describe-pipe --name fraud-events \
  --query 'SourceParameters.SelfManagedKafkaParameters.TopicName' --output text
aws_is "risk" pipes describe-pipe --name fraud-events --query 'Tags.team' --output text
apply -f "$S"
has out "3 unchanged" "topic: then unchanged"

# a compatible new schema version
sed -i 's/"type": "double"}]}/"type": "double"}, {"name": "note", "type": ["null", "string"], "default": null}]}/' \
  "$TMP/stream/schemas/transaction.avsc"
apply -f "$S"
expect_rc 0 "a new schema version"
has out "~ update    schema          transactions-value: schema (a new version)" "schema: update"
curl -s "http://127.0.0.1:$PORT/subjects/transactions-value/versions" >"$TMP/versions"
has versions "[1,2]" "schema: version 2"

# a bad schema: the registry's 42201 at the file's line, nothing changed
cat >"$TMP/stream/bad.yaml" <<'EOF2'
stack: stream-bad
buses:
  - name: not-created
schemas:
  - subject: broken-value
    schema: {type: record, name: B, fields: [{name: a, type: nosuch}]}
EOF2
apply -f "$TMP/stream/bad.yaml"
expect_rc 2 "invalid schema"
has err "$TMP/stream/bad.yaml:6: schema broken-value: 42201: Invalid schema" "invalid schema: 42201 with file:line"
aws_fails ResourceNotFoundException events describe-event-bus --name not-created
# an incompatible one: the registry's 409 at the file's line
# (another stack: it takes the subject over, and removes it at the end)
cat >"$TMP/stream/incompatible.yaml" <<'EOF2'
stack: stream-inc
schemas:
  - subject: transactions-value
    schema: {type: record, name: Transaction, namespace: demo, fields: [{name: other, type: int}]}
EOF2
apply -f "$TMP/stream/incompatible.yaml" --dry-run
expect_rc 0 "incompatible schema: dry run"
has out "~ update    schema          transactions-value: schema (a new version) [taken over from stack stream]" "incompatible: planned"
apply -f "$TMP/stream/incompatible.yaml"
expect_rc 1 "incompatible schema"
has err "$TMP/stream/incompatible.yaml:4: schema transactions-value: RegisterSchema: 409: Schema being registered is incompatible" "incompatible: 409 with file:line"
curl -s "http://127.0.0.1:$PORT/subjects/transactions-value/versions" >"$TMP/versions"
has versions "[1,2]" "incompatible: no new version"

# gone from the file: deleted (the pipe first, the schema's subject for good)
cat >"$S" <<'EOF2'
version: 1
stack: stream
EOF2
apply -f "$S"
expect_rc 0 "remove schemas and pipes"
has out "- delete    pipe            fraud-events" "pipe deleted"
has out "- delete    bus             fraud" "bus deleted"
has out "Apply complete: 0 created, 0 updated, 2 deleted." "delete summary: pipes"
aws_fails NotFoundException pipes describe-pipe --name fraud-events
printf 'stack: stream-inc\n' >"$TMP/stream/inc-empty.yaml"
apply -f "$TMP/stream/inc-empty.yaml"
expect_rc 0 "remove the schema"
has out "- delete    schema          transactions-value" "schema deleted"
curl -s "http://127.0.0.1:$PORT/subjects?deleted=true" >"$TMP/subjects"
has subjects "[]" "subject deleted for good"
apply -f "$S"
has out "(nothing: the file declares no resources and apply manages none)" "nothing left: schemas and pipes"

# ---- secrets --------------------------------------------------------------
grep -qF -- "$SECRET" "$TMP/all-output" && bad "apply printed the secret" || ok
grep -qF -- "$SECRET" "$TMP"/server.*.log && bad "the server logged the secret" || ok

stop_server
echo "test_apply: $passed passed, $failed failed"
[ "$failed" = 0 ]
