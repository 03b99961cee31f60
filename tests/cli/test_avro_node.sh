#!/usr/bin/env bash
# Avro interoperability with a client nobody here wrote: tests/node/
# avro.test.mjs has the npm package @kafkajs/confluent-schema-registry
# register schemas in `evbus serve`'s registry and encode records that
# `evbus avro decode` turns into the connector's JSON, and decodes records
# that `evbus avro encode` wrote (Node's built-in test runner).
#
#   bash tests/cli/test_avro_node.sh /path/to/evbus
#
# The package is installed as tests/cli/test_registry_node.sh installs it:
# `npm ci` from tests/node/package-lock.json into node-cache/ beside the
# evbus binary, once, under a lock shared with that test. Skipped, and
# says so, only when node is not installed (scripts/deps.sh installs
# nodejs and npm); a missing npm or a failed install fails it. The server
# listens on 127.0.0.1 only; a trap kills it on any exit.
# Prints "N passed, M failed"; exits non-zero on failure.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
EVBUS=$(cd "$(dirname "$EVBUS")" && pwd)/$(basename "$EVBUS")
HERE=$(cd "$(dirname "$0")" && pwd)
NODE_DIR=$(cd "$HERE/../node" && pwd)
TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node is not installed, so the Node.js Avro test cannot run (scripts/deps.sh installs nodejs and npm)"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "FAIL: node is installed but npm is not (scripts/deps.sh installs it)"
  echo "0 passed, 1 failed"
  exit 1
fi

CACHE="$(dirname "$EVBUS")/node-cache"
mkdir -p "$CACHE"
(
  flock -w 120 9 || exit 1
  if ! cmp -s "$NODE_DIR/package-lock.json" "$CACHE/package-lock.json" ||
    [ ! -d "$CACHE/node_modules/@kafkajs/confluent-schema-registry" ]; then
    cp "$NODE_DIR/package.json" "$NODE_DIR/package-lock.json" "$CACHE/"
    (cd "$CACHE" && timeout 200 npm ci --no-audit --no-fund --loglevel=error) || exit 1
  fi
) 9>"$CACHE/.lock"
if [ $? -ne 0 ]; then
  echo "FAIL: npm ci of tests/node/package-lock.json into $CACHE failed"
  echo "0 passed, 1 failed"
  exit 1
fi

start_server || exit 1
out=$(cd "$NODE_DIR" && REGISTRY_URL="http://127.0.0.1:$PORT" \
  REGISTRY_NODE_MODULES="$CACHE/node_modules" EVBUS="$EVBUS" \
  timeout 120 node --test "$NODE_DIR/avro.test.mjs" 2>&1)
rc=$?
echo "$out"
p=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' <<<"$out")
f=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' <<<"$out")
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-0}))
if [ $rc -ne 0 ] && [ "${f:-0}" = 0 ]; then
  failed=$((failed + 1))
  echo "FAIL: node --test exited $rc"
fi
[ "${p:-0}" -ge 6 ] || { failed=$((failed + 1)); echo "FAIL: fewer node tests ran than written"; }
stop_server

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
