#!/usr/bin/env bash
# The generated docs and every command's help:
# - docs/man/evbus.1, docs/man/evbus-<command>.1 and docs/configuration.md
#   are exactly what `evbus help --man` / `--markdown` print now (they are
#   generated from the option tables; scripts/gen-docs.sh rewrites them);
# - the man pages render without warnings (groff -ww, when installed);
# - `evbus help COMMAND`, `evbus COMMAND --help` and `-h` print the usage
#   on stdout and exit 0 for every command; `evbus help nosuch` exits 64.
#
#   bash tests/cli/test_docs.sh /path/to/evbus
set -u
EVBUS=${1:?usage: $0 /path/to/evbus}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $*"
}

commands=$("$EVBUS" help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
[ -n "$commands" ] && ok || bad "evbus help lists no command"
for c in serve put tail test-pattern apply avro connector; do
  grep -qx "$c" <<<"$commands" && ok || bad "evbus help does not list $c"
done

# ---- the committed docs are the generated ones ----
check_doc() { # check_doc FILE ARGS...
  local file=$1
  shift
  if ! "$EVBUS" help "$@" >"$TMP/gen"; then
    bad "evbus help $* failed"
  elif ! [ -f "$ROOT/$file" ]; then
    bad "$file is missing: run scripts/gen-docs.sh"
  elif cmp -s "$TMP/gen" "$ROOT/$file"; then
    ok
  else
    bad "$file is not what 'evbus help $*' prints: run scripts/gen-docs.sh ($(diff "$ROOT/$file" "$TMP/gen" | head -3 | tr '\n' ' '))"
  fi
}
check_doc docs/man/evbus.1 --man
check_doc docs/configuration.md --markdown
for c in $commands; do
  check_doc "docs/man/evbus-$c.1" --man "$c"
done
extra=$(cd "$ROOT/docs/man" && ls evbus-*.1 | sed 's/^evbus-\(.*\)\.1$/\1/' | grep -vxF "$commands")
[ -z "$extra" ] && ok || bad "man pages of no command: $extra"

if command -v groff >/dev/null 2>&1; then
  for f in "$ROOT"/docs/man/*.1; do
    w=$(groff -man -Tutf8 -ww -z "$f" 2>&1)
    [ -z "$w" ] && ok || bad "$(basename "$f"): groff warns: $w"
  done
else
  echo "groff not installed: man pages not rendered"
fi

# the reference documents every serve option the parser knows
for o in listen tls-cert tls-key ca-bundle max-connections header-timeout \
  idle-timeout drain-timeout log-format log-level public-metrics kafka-config; do
  grep -q -- "\`--$o\`" "$ROOT/docs/configuration.md" && ok || bad "--$o is not in docs/configuration.md"
done

# ---- help for every command ----
for c in $commands; do
  "$EVBUS" help "$c" >"$TMP/h1" 2>"$TMP/e1"
  rc=$?
  [ "$rc" = 0 ] && grep -q "^usage: evbus $c" "$TMP/h1" && ok ||
    bad "evbus help $c: rc=$rc $(head -2 "$TMP/h1" "$TMP/e1")"
  "$EVBUS" "$c" --help >"$TMP/h2" 2>&1
  rc=$?
  [ "$rc" = 0 ] && cmp -s "$TMP/h1" "$TMP/h2" && ok ||
    bad "evbus $c --help: rc=$rc, or not the same as evbus help $c"
  "$EVBUS" "$c" -h >"$TMP/h3" 2>&1
  rc=$?
  [ "$rc" = 0 ] && grep -q "^usage: evbus $c" "$TMP/h3" && ok || bad "evbus $c -h: rc=$rc"
done
"$EVBUS" help nosuch >/dev/null 2>"$TMP/e"
[ $? = 64 ] && grep -q "unknown command 'nosuch'" "$TMP/e" && ok || bad "evbus help nosuch"
"$EVBUS" help --man nosuch >/dev/null 2>&1
[ $? = 64 ] && ok || bad "evbus help --man nosuch"
"$EVBUS" serve --log-level loud >/dev/null 2>"$TMP/e"
[ $? = 64 ] && grep -q "log-level: expected one of debug|info|warn|error, got 'loud'" "$TMP/e" && ok ||
  bad "serve --log-level loud: $(head -1 "$TMP/e")"
"$EVBUS" serve --header-timeout 0 >/dev/null 2>"$TMP/e"
[ $? = 64 ] && grep -q "header-timeout: not a number in 1..3600: '0'" "$TMP/e" && ok ||
  bad "serve --header-timeout 0: $(head -1 "$TMP/e")"
"$EVBUS" serve --tls-cert /etc/hostname >/dev/null 2>"$TMP/e"
[ $? = 64 ] && grep -q "tls-cert and --tls-key go together" "$TMP/e" && ok ||
  bad "serve --tls-cert alone: $(head -1 "$TMP/e")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
