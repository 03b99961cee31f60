#!/usr/bin/env bash
# Regenerate the docs that come from evbus's option tables (src/cli):
# docs/man/evbus.1, docs/man/evbus-<command>.1 and docs/configuration.md.
# tests/cli/test_docs.sh fails when the committed files differ from this
# output, so run it after changing an option and commit the result.
#
#   bash scripts/gen-docs.sh [path/to/evbus]    (default build/evbus)
set -eu
cd "$(dirname "$0")/.."
EVBUS=${1:-build/evbus}
mkdir -p docs/man
"$EVBUS" help --man >docs/man/evbus.1
for cmd in $("$EVBUS" help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'); do
  "$EVBUS" help --man "$cmd" >"docs/man/evbus-$cmd.1"
done
"$EVBUS" help --markdown >docs/configuration.md
