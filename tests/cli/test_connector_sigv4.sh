#!/usr/bin/env bash
# `evbus connector` signing PutEvents with AWS Signature V4 against
# `evbus serve --credentials FILE` (which verifies every request): keys
# from the environment, from a named profile (with a session token), from
# AWS_PROFILE; a wrong secret and unsigned calls refused, nothing
# committed. The work is tests/cli/connector_sigv4.py.
#
#   bash tests/cli/test_connector_sigv4.sh /path/to/evbus
set -u
EVBUS=${1:?usage: $0 /path/to/evbus}
exec python3 "$(dirname "$0")/connector_sigv4.py" "$EVBUS"
