#!/usr/bin/env bash
# kill -9 the server under PutEvents load (5 times) and check that every
# acknowledged event reached its log group (see crash_durability.py).
set -u
exec timeout 240 python3 "$(dirname "$0")/crash_durability.py" "$1" 5 1.0
