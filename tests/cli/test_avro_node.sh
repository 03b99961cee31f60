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
. "$(dirname "$0")/lib/node.sh"

node_prepare Avro 120

start_server || exit 1
node_run avro.test.mjs 6 EVBUS="$EVBUS"
stop_server

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
