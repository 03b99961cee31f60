#!/usr/bin/env bash
# API destinations through `evbus serve` (issue 4), see delivery_http.py:
# a burst of events for a destination limited to 20 invocations a second
# reaches the loopback receiver at 20/s (within 10%), every one, none
# dead-lettered; a target's HttpParameters (path, headers, query) merged
# with its connection's (the connection wins). About 6 seconds.
#
#   bash tests/cli/test_delivery_http.sh /path/to/evbus
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
[ -x "$EVBUS" ] || { echo "not executable: $EVBUS" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
. "$HERE/lib/server.sh"

start_server || exit 1
if timeout 60 python3 "$HERE/delivery_http.py" "$PORT" "$TMP" 20 81; then ok
else bad "delivery_http.py"; fi
stop_server
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
