#!/usr/bin/env bash
# Outage test (issue 4): an API destination's receiver is down for 60
# seconds under steady PutEvents load (100 events/s), then comes back;
# every acknowledged event is delivered by id, none lost, none
# dead-lettered (see delivery_outage.py). About two minutes: 3 s of load,
# the 60 s outage, then the backlog, which the delivery's exponential
# backoff (1 s doubling to 5 minutes) clears within ~65 s.
#
#   bash tests/cli/test_delivery_outage.sh /path/to/evbus [DOWN_SECONDS]
set -u

EVBUS=${1:?usage: $0 /path/to/evbus [DOWN_SECONDS]}
DOWN=${2:-60}
[ -x "$EVBUS" ] || { echo "not executable: $EVBUS" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
. "$HERE/lib/server.sh"

start_server || exit 1
timeout 200 python3 "$HERE/delivery_outage.py" "$PORT" "$TMP" "$DOWN" 100
rc=$?
[ "$rc" = 0 ] && ok || bad "delivery_outage.py exited with $rc"
stop_server
if grep -q 'evbus: delivery:' "$TMP/server.err"; then
  bad "delivery errors in the server log: $(grep 'evbus: delivery:' "$TMP/server.err" | head -3)"
else ok; fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
