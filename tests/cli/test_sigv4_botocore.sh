#!/usr/bin/env bash
# Requests signed by botocore's own SigV4 signers (header form, presigned
# query, S3 rules) must pass evbus's verifier, and tampered copies must
# not: tests/sigv4/botocore_sigv4.py through build/tools/sigv4.
# Usage: test_sigv4_botocore.sh PATH/TO/evbus
set -u
EVBUS=${1:?usage: $0 PATH/TO/evbus}
TOOL="$(dirname "$EVBUS")/tools/sigv4"
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ ! -x "$TOOL" ]; then
  echo "FAIL: $TOOL not built"
  echo "0 passed, 1 failed"
  exit 1
fi
exec python3 "$HERE/../sigv4/botocore_sigv4.py" "$TOOL"
