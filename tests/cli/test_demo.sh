#!/usr/bin/env bash
# test_demo.sh: a short run of the fraud demo (demo/fraud/run.sh --check):
# recall >= 0.95, precision >= 0.9, one audit entry per fraud event, the
# CRM got exactly the high-risk cases as rendered, no dead letters.
# Usage: test_demo.sh path/to/evbus
set -uo pipefail
EVBUS=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
EVBUS_BUILD_DIR=$(dirname "$EVBUS") timeout 270 bash "$ROOT/demo/fraud/run.sh" \
  --duration 30 --rate 20 --dir "$TMP/demo" --check >"$TMP/out" 2>&1
rc=$?
cat "$TMP/out" | tr '\r' '\n' | grep -v '^tx ' | tail -25
if [ $rc -ne 0 ]; then
  echo "--- evbus log"; tail -20 "$TMP/demo/evbus.log" 2>/dev/null
  echo "--- connector log"; tail -5 "$TMP/demo/connector.log" 2>/dev/null
  echo "FAIL: demo exited $rc"
  exit 1
fi
grep -q 'check                      ok' "$TMP/out" || { echo "FAIL: no check line"; exit 1; }
echo "PASS"
