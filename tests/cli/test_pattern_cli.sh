#!/usr/bin/env bash
# The command-line contract of `evbus test-pattern` (and of evbus's usage
# handling): outputs, exit statuses 0/1/2/64, the exact stderr line for an
# invalid pattern, stdin and file inputs, and the shape of --explain.
#
#   bash tests/cli/test_pattern_cli.sh /path/to/evbus
#
# Prints one line per failed check and "N passed, M failed" at the end;
# exits non-zero if any check failed.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
if [ ! -x "$EVBUS" ]; then
  echo "not executable: $EVBUS" >&2
  exit 2
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0
OUT= ERR= RC=

# run [--stdin TEXT] ARGS...: run evbus, capturing OUT, ERR and RC.
run() {
  local input=""
  if [ $# -gt 0 ] && [ "$1" = "--stdin" ]; then
    input=$2
    shift 2
  fi
  printf '%s' "$input" | "$EVBUS" "$@" >"$TMP/out" 2>"$TMP/err"
  RC=$?
  OUT=$(cat "$TMP/out")
  ERR=$(cat "$TMP/err")
}

ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $1"
  echo "      args: ${LAST_ARGS:-}"
  echo "      rc=$RC stdout=$(printf '%q' "$OUT") stderr=$(printf '%q' "$ERR")"
}

# check NAME EXPECTED_RC EXPECTED_STDOUT [EXPECTED_STDERR]: exact comparison;
# an omitted EXPECTED_STDERR means stderr must be empty when rc is 0 and is
# not checked otherwise.
check() {
  local name=$1 rc=$2 out=$3
  if [ "$RC" != "$rc" ]; then
    bad "$name: exit status $RC, want $rc"
  elif [ "$OUT" != "$out" ]; then
    bad "$name: stdout $(printf '%q' "$OUT"), want $(printf '%q' "$out")"
  elif [ $# -ge 4 ] && [ "$ERR" != "$4" ]; then
    bad "$name: stderr $(printf '%q' "$ERR"), want $(printf '%q' "$4")"
  elif [ $# -lt 4 ] && [ "$rc" = 0 ] && [ -n "$ERR" ]; then
    bad "$name: unexpected stderr"
  else
    ok
  fi
}

# check_grep NAME EXPECTED_RC STREAM REGEX: rc exact, STREAM (out|err) matches.
check_grep() {
  local name=$1 rc=$2 stream=$3 re=$4 text
  if [ "$stream" = out ]; then text=$OUT; else text=$ERR; fi
  if [ "$RC" != "$rc" ]; then
    bad "$name: exit status $RC, want $rc"
  elif ! printf '%s\n' "$text" | grep -Eq -- "$re"; then
    bad "$name: std$stream does not match /$re/"
  else
    ok
  fi
}

tp() { LAST_ARGS="test-pattern $*"; run test-pattern "$@"; }

EC2_PATTERN='{"source":["aws.ec2"],"detail":{"state":["running"]}}'
EC2_EVENT='{"id":"1","source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","account":"123456789012","region":"us-east-1","time":"2022-07-13T13:48:01Z","resources":[],"detail":{"state":"running"}}'
STOPPED_EVENT='{"source":"aws.ec2","detail":{"state":"stopped"}}'
PREFIX='InvalidEventPatternException: Event pattern is not valid. Reason: '

# ---- true / false ------------------------------------------------------------
tp --pattern "$EC2_PATTERN" --event "$EC2_EVENT"
check "match prints true" 0 true
tp --pattern "$EC2_PATTERN" --event "$STOPPED_EVENT"
check "non-match prints false" 0 false
tp --pattern='{"a":[{"numeric":[">",0,"<=",5]}]}' --event='{"a":5}'
check "--opt=value form, numeric" 0 true
tp --pattern '{"a":[{"prefix":"ab"}]}' --event '{"a":"xab"}'
check "prefix non-match" 0 false
tp --pattern '{"a":["0"]}' --event '{"a":0}'
check "typed exact values" 0 false
tp --event '{"a":{"b":{"c":1}}}' --pattern '{"a.b":{"c":[1]}}'
check "options in any order, dotted keys" 0 true
tp --pattern '{"a":[{"exists":false}]}' --event '{"b":1}'
check "exists false on a missing field" 0 true

# ---- invalid patterns: exact stderr line, exit 2 -----------------------------
tp --pattern '{"a":[]}' --event '{"a":1}'
check "empty array" 2 "" "${PREFIX}Empty arrays are not allowed"
tp --pattern '{"int":42}' --event '{"a":1}'
check "scalar leaf" 2 "" "${PREFIX}\"int\" must be an object or an array"
tp --pattern '{}' --event '{"a":1}'
check "empty pattern object" 2 "" "${PREFIX}Empty objects are not allowed"
tp --pattern '["a"]' --event '{"a":1}'
check "pattern not an object" 2 "" "${PREFIX}Filter is not an object"
tp --pattern '{"a":[{"wildcard":"a**b"}]}' --event '{"a":"ab"}'
check "consecutive wildcards" 2 "" "${PREFIX}Consecutive wildcard characters at pos 2"
tp --pattern '{"a":[{"numeric":[">",5,"<",1]}]}' --event '{"a":1}'
check "numeric bottom above top" 2 "" "${PREFIX}Bottom must be less than top"
tp --pattern '{"a":[{"EXISTS":true}]}' --event '{"a":1}'
check "miscased operator" 2 "" "${PREFIX}Unrecognized match type EXISTS"
tp --pattern 'this is not json' --event '{"a":1}'
check_grep "malformed pattern JSON" 2 err "^${PREFIX}Unrecognized token 'this'"
tp --pattern '{"a":[]}' --event 'not json either'
check_grep "invalid pattern and event: exit 2" 2 err "^Invalid"

# ---- invalid events: exit 2, clear message ----------------------------------
tp --pattern '{"a":[1]}' --event '{"a":1'
check_grep "truncated event" 2 err '^InvalidEvent: Parameter Event is not valid'
[ -z "$OUT" ] && ok || bad "truncated event: stdout not empty"
tp --pattern '{"a":[1]}' --event '[1,2]'
check_grep "event not an object" 2 err '^InvalidEvent: Parameter Event is not valid'
tp --pattern '{"a":[1]}' --event ''
check_grep "empty event" 2 err '^InvalidEvent: '
tp --pattern "$EC2_PATTERN" --event "$STOPPED_EVENT" --envelope
check_grep "--envelope requires the envelope fields" 2 err '^InvalidEvent: Parameter Event is not valid'
tp --pattern "$EC2_PATTERN" --event "$EC2_EVENT" --envelope
check "--envelope accepts a full event" 0 true

# ---- stdin and files --------------------------------------------------------
printf '%s\n' "$EC2_PATTERN" >"$TMP/pattern.json"
printf '%s\n' "$EC2_EVENT" >"$TMP/event.json"
tp --pattern-file "$TMP/pattern.json" --event-file "$TMP/event.json"
check "both from files" 0 true
LAST_ARGS="test-pattern --pattern-file - --event ..."
run --stdin "$EC2_PATTERN" test-pattern --pattern-file - --event "$STOPPED_EVENT"
check "pattern from stdin" 0 false
LAST_ARGS="test-pattern --pattern ... --event-file -"
run --stdin "$EC2_EVENT" test-pattern --pattern "$EC2_PATTERN" --event-file -
check "event from stdin" 0 true
LAST_ARGS="test-pattern --pattern-file - (invalid)"
run --stdin '{"a":[]}' test-pattern --pattern-file - --event-file "$TMP/event.json"
check "invalid pattern from stdin" 2 "" "${PREFIX}Empty arrays are not allowed"
tp --pattern-file "$TMP/does-not-exist.json" --event '{"a":1}'
check_grep "missing pattern file: exit 1" 1 err 'does-not-exist'
tp --pattern-file - --event-file -
check_grep "pattern and event both stdin: usage" 64 err 'usage:'

# ---- --explain --------------------------------------------------------------
tp --pattern "$EC2_PATTERN" --event "$STOPPED_EVENT" --explain
if [ "$RC" = 0 ] && [ "$(printf '%s\n' "$OUT" | wc -l)" -eq 2 ] &&
   [ "$(printf '%s\n' "$OUT" | head -1)" = false ] &&
   printf '%s\n' "$OUT" | sed -n 2p | grep -Eq '^path "detail\.state": expected .*, found "stopped"$'; then
  ok
else
  bad "--explain on a non-match: want false and 'path \"detail.state\": expected ..., found \"stopped\"'"
fi
tp --pattern '{"detail":{"count":[{"numeric":[">",10]}]}}' --event '{"detail":{}}' --explain
if [ "$RC" = 0 ] && [ "$(printf '%s\n' "$OUT" | head -1)" = false ] &&
   printf '%s\n' "$OUT" | sed -n 2p | grep -Eq '^path "detail\.count": expected .*found nothing$'; then
  ok
else
  bad "--explain on a missing field: want 'path \"detail.count\": expected ..., found nothing'"
fi
tp --pattern "$EC2_PATTERN" --event "$EC2_EVENT" --explain
check "--explain on a match prints only true" 0 true
tp --pattern '{"a":[]}' --event '{"a":1}' --explain
check "--explain with an invalid pattern" 2 "" "${PREFIX}Empty arrays are not allowed"

# ---- usage, help, version ---------------------------------------------------
LAST_ARGS="(none)"
run
check_grep "no arguments: usage on stderr" 64 err '^usage: evbus'
[ -z "$OUT" ] && ok || bad "no arguments: stdout not empty"
LAST_ARGS="no-such-command"
run no-such-command
check_grep "unknown command" 64 err '^usage: evbus'
LAST_ARGS="--bogus"
run --bogus
check_grep "unknown global option" 64 err '^usage: evbus'
tp --pattern '{"a":[1]}' --event '{"a":1}' --bogus
check_grep "unknown test-pattern option" 64 err "unknown option '--bogus'"
tp --pattern '{"a":[1]}'
check_grep "missing event" 64 err 'usage: evbus test-pattern'
tp --event '{"a":1}'
check_grep "missing pattern" 64 err 'usage: evbus test-pattern'
tp --pattern '{"a":[1]}' --event '{"a":1}' extra
check_grep "stray argument" 64 err "unexpected argument 'extra'"
tp --pattern '{"a":[1]}' --pattern '{"a":[2]}' --event '{"a":1}'
check_grep "pattern given twice" 64 err 'only once'
tp --pattern
check_grep "option without its value" 64 err "needs a value"
LAST_ARGS="--help"
run --help
check_grep "--help: usage on stdout" 0 out '^usage: evbus'
check_grep "--help lists test-pattern" 0 out 'test-pattern'
tp --help
check_grep "test-pattern --help" 0 out '^usage: evbus test-pattern'
LAST_ARGS="help test-pattern"
run help test-pattern
check_grep "help test-pattern" 0 out '^usage: evbus test-pattern'
LAST_ARGS="version"
run version
check_grep "version" 0 out '^evbus [0-9]+\.[0-9]+\.[0-9]+'
LAST_ARGS="--version"
run --version
check_grep "--version" 0 out '^evbus [0-9]+\.[0-9]+\.[0-9]+'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
