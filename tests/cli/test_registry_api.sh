#!/usr/bin/env bash
# `evbus serve`'s Confluent Schema Registry REST API end to end: start the
# server on an ephemeral loopback port, check a few answers with curl
# (content type, error body), run tests/cli/registry_api_test.py (every
# endpoint and error code), restart the server on the same data dir and
# check that subjects, versions and ids survived.
#
#   bash tests/cli/test_registry_api.sh /path/to/evbus
#
# Nothing outside 127.0.0.1 is contacted; every wait is bounded and a trap
# kills the server on any exit. Prints "N passed, M failed"; exits non-zero
# on failure.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

check() { # check DESCRIPTION COMMAND...: passes if the command succeeds
  local what=$1
  shift
  if "$@"; then passed=$((passed + 1)); else
    failed=$((failed + 1))
    echo "FAIL: $what"
  fi
}

run_py() { # run_py PHASE: add the script's counts to ours
  local out rc p f
  out=$(timeout 120 python3 "$HERE/registry_api_test.py" "http://127.0.0.1:$PORT" "$1" 2>&1)
  rc=$?
  echo "$out" | grep -v ' passed, ' || true
  p=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p' <<<"$out")
  f=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p' <<<"$out")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ $rc -ne 0 ] && [ "${f:-0}" = 0 ]; then
    failed=$((failed + 1))
    echo "FAIL: registry_api_test.py $1 exited $rc"
  fi
}

start_server || exit 1
U="http://127.0.0.1:$PORT"
CT='Content-Type: application/vnd.schemaregistry.v1+json'

run_py main
hdrs=$(curl -s -D - -o "$TMP/body" "$U/subjects/none/versions")
check "404 status" grep -q '^HTTP/1.1 404' <<<"$hdrs"
check "content type" grep -qi '^Content-Type: application/vnd.schemaregistry.v1+json' <<<"$hdrs"
check "error body" test "$(cat "$TMP/body")" = '{"error_code":40401,"message":"Subject '"'none'"' not found."}'
# no Content-Type at all is accepted
out=$(curl -s -H 'Content-Type:' --data-binary '{"schema":"{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}"}' "$U/subjects/curl-value/versions")
id=$(sed -n 's/^{"id":\([0-9][0-9]*\)}$/\1/p' <<<"$out")
check "register with curl, no Content-Type ($out)" test -n "$id"
out=$(curl -s "$U/schemas/ids/$id")
check "schema by id" test "$out" = '{"schema":"{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}"}'
out=$(curl -s -o /dev/null -w '%{http_code}' "$U/health")
check "the server's own routes still answer" test "$out" = 200
stop_server

start_server || exit 1
run_py after-restart
stop_server

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
