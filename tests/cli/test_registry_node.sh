#!/usr/bin/env bash
# The npm package @kafkajs/confluent-schema-registry (a client nobody here
# wrote) against `evbus serve`'s schema registry: tests/node/
# registry.test.mjs registers schemas, encodes records in the Confluent
# wire format and decodes them through a fresh client that fetches the
# schema by id (Node's built-in test runner).
#
#   bash tests/cli/test_registry_node.sh /path/to/evbus
#
# The package is installed with `npm ci` from tests/node/package-lock.json
# into node-cache/ beside the evbus binary (build/node-cache), once. It is
# skipped, and says so, only when node is not installed (scripts/deps.sh
# installs nodejs and npm); a missing npm or a failed install fails it.
# The server listens on 127.0.0.1 only; a trap kills it on any exit.
# Prints "N passed, M failed"; exits non-zero on failure.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
HERE=$(cd "$(dirname "$0")" && pwd)
NODE_DIR=$(cd "$HERE/../node" && pwd)
TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"
. "$(dirname "$0")/lib/node.sh"

node_prepare registry 60

start_server || exit 1
node_run registry.test.mjs 5
stop_server

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
