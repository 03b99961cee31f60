#!/usr/bin/env bash
# `evbus connector` end to end against kafka-mock and `evbus serve`:
# command line and configuration errors, the property table in
# docs/cli/connector.md, JSON / string / Avro (Confluent and Glue framing,
# through evbus's registry) values with upstream's exact event shape,
# every detail-type strategy and topics.regex, batching limits, dead
# letters with Kafka Connect's error headers, errors.tolerance=none.
# The work is tests/cli/connector_e2e.py (helpers: connector_lib.py).
#
#   bash tests/cli/test_connector.sh /path/to/evbus
#
# Loopback only; every wait is bounded; every process started is stopped.
set -u
EVBUS=${1:?usage: $0 /path/to/evbus}
exec python3 "$(dirname "$0")/connector_e2e.py" "$EVBUS"
