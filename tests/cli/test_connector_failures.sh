#!/usr/bin/env bash
# `evbus connector` under failures, against kafka-mock and `evbus serve`
# through a misbehaving proxy: an outage then recovery (exponential
# backoff, nothing lost), per-entry throttling retried, retries exhausted
# (status 1, nothing committed, a restart sends everything), kill -9 in
# the middle of a stream then a restart (nothing lost; duplicates at most
# one cycle). The work is tests/cli/connector_failures.py.
#
#   bash tests/cli/test_connector_failures.sh /path/to/evbus
set -u
EVBUS=${1:?usage: $0 /path/to/evbus}
exec python3 "$(dirname "$0")/connector_failures.py" "$EVBUS"
