#!/usr/bin/env bash
# The command lines of `evbus apply`, `evbus avro` (decode, encode),
# `evbus connector`, `evbus help` and `evbus version`, which parse with
# option tables (src/cli/options.c) like every other command:
# - help: `evbus help CMD`, `evbus CMD --help` and `-h` print the same
#   usage on stdout, name every option, and exit 0; avro's subcommands
#   have their own (`evbus help avro decode`, `evbus avro decode --help`,
#   `evbus avro help decode`);
# - bad command lines (unknown option, missing value, a value for a flag,
#   a bad choice, a stray operand, a sibling subcommand's option) say what
#   is wrong on stderr as "evbus CMD: message", print the usage there, print
#   nothing on stdout and exit with the command's usage status: 2 for apply
#   (its documented "invalid file or command line"), 64 (EX_USAGE) for the
#   others; never a crash (no status above 125).
# No server is needed: every case stops at the command line.
#
#   bash tests/cli/test_cli_usage.sh /path/to/evbus
set -u
EVBUS=${1:?usage: $0 /path/to/evbus}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $*"
}

# run ARGS...: evbus ARGS with stdin empty; stdout, stderr, status in
# $TMP/out, $TMP/err, $RC
run() {
  timeout 20 "$EVBUS" "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
  RC=$?
}

# help_is WANT_FIRST_LINE ARGS...: a help that exits 0 on stdout, nothing
# on stderr, starting with WANT_FIRST_LINE
help_is() {
  local want=$1
  shift
  run "$@"
  if [ "$RC" = 0 ] && [ ! -s "$TMP/err" ] && [ "$(head -1 "$TMP/out")" = "$want" ]; then
    ok
  else
    bad "evbus $*: rc=$RC, first line '$(head -1 "$TMP/out")', stderr '$(head -2 "$TMP/err")'"
  fi
}

# same_help ARGS_A -- ARGS_B: both print the same text
same_help() {
  local a=() b=()
  while [ "$1" != -- ]; do a+=("$1"); shift; done
  shift
  b=("$@")
  run "${a[@]}"
  cp "$TMP/out" "$TMP/help_a"
  run "${b[@]}"
  cmp -s "$TMP/help_a" "$TMP/out" && ok || bad "evbus ${a[*]} and evbus ${b[*]} differ"
}

# names OPTION...: the last help names each option
names() {
  for o in "$@"; do
    grep -qF -- "$o" "$TMP/out" && ok || bad "help of the last command lacks $o"
  done
}
# lacks OPTION...: the last help does not name it
lacks() {
  for o in "$@"; do
    grep -qF -- "$o" "$TMP/out" && bad "help of the last command names $o" || ok
  done
}

# refused STATUS MESSAGE ARGS...: a usage error: status STATUS, stderr's
# first line exactly MESSAGE, the usage after it, stdout empty
refused() {
  local status=$1 msg=$2
  shift 2
  run "$@"
  if [ "$RC" -gt 125 ]; then
    bad "evbus $*: crashed (status $RC): $(head -3 "$TMP/err")"
    return
  fi
  [ "$RC" = "$status" ] && ok || bad "evbus $*: status $RC, want $status"
  [ "$(head -1 "$TMP/err")" = "$msg" ] && ok ||
    bad "evbus $*: stderr '$(head -1 "$TMP/err")', want '$msg'"
  sed -n 2,3p "$TMP/err" | grep -q "^usage: evbus " && ok ||
    bad "evbus $*: no usage after the message: $(head -3 "$TMP/err")"
  [ ! -s "$TMP/out" ] && ok || bad "evbus $*: wrote on stdout: $(head -2 "$TMP/out")"
}

# ---- apply ----------------------------------------------------------------
help_is "usage: evbus apply -f FILE [--endpoint-url URL] [--dry-run] [--prune] [options]" apply --help
names -f --file --endpoint-url --dry-run --prune --format --reference "exit status:"
grep -q "^  2   invalid file or command line" "$TMP/out" && ok || bad "apply --help: no exit status 2"
same_help apply --help -- help apply
same_help apply --help -- apply -h

refused 2 "evbus apply: unknown option '--bogus'" apply -f x.yaml --bogus
refused 2 "evbus apply: unknown option '-x'" apply -x
refused 2 "evbus apply: unknown option '--bogus=1'" apply --bogus=1
refused 2 "evbus apply: option '-f' needs a value" apply -f
refused 2 "evbus apply: option '--file' needs a value" apply --file
refused 2 "evbus apply: option '--endpoint-url' needs a value" apply -f x.yaml --endpoint-url
refused 2 "evbus apply: option '--format' needs a value" apply -f x.yaml --format
refused 2 "evbus apply: --format: expected one of yaml|json, got 'xml'" apply -f x.yaml --format xml
refused 2 "evbus apply: option '--dry-run' takes no value" apply -f x.yaml --dry-run=yes
refused 2 "evbus apply: -f FILE is required" apply
refused 2 "evbus apply: -f FILE is required" apply --dry-run --prune
refused 2 "evbus apply: unexpected argument 'extra'" apply -f x.yaml extra
refused 2 "evbus apply: unexpected argument 'extra'" apply --reference extra
# --reference needs no file
run apply --reference
[ "$RC" = 0 ] && [ -s "$TMP/out" ] && ok || bad "apply --reference: rc=$RC"

# ---- avro -----------------------------------------------------------------
help_is "usage: evbus avro decode [--registry URL] [--hex | --base64] [options]" help avro
names "evbus avro encode --registry URL --subject SUBJECT" "commands:" decode encode \
  "evbus avro COMMAND --help" "exit status:"
same_help help avro -- avro --help
same_help help avro -- avro -h
same_help help avro -- avro help

help_is "usage: evbus avro decode [--registry URL] [--hex | --base64] [options]" avro decode --help
names --mode --decimal-number --hex --base64 --registry --user-info "exit status:"
lacks --subject --schema --glue --zlib --strict
same_help avro decode --help -- help avro decode
same_help avro decode --help -- avro help decode
same_help avro decode --help -- avro decode -h

help_is "usage: evbus avro encode --registry URL --subject SUBJECT [options]" avro encode --help
names --subject --schema --version --glue --zlib --strict --hex --base64 --registry --user-info
lacks --mode --decimal-number
same_help avro encode --help -- help avro encode

refused 64 "evbus avro: missing subcommand: decode or encode" avro
refused 64 "evbus avro: unknown subcommand 'frobnicate' (decode or encode)" avro frobnicate
refused 64 "evbus avro: unknown option '--bogus'" avro --bogus
refused 64 "evbus avro: unknown subcommand 'x' (decode or encode)" avro help x
refused 64 "evbus avro decode: unknown option '--bogus'" avro decode --bogus
refused 64 "evbus avro encode: unknown option '-z'" avro encode -z
refused 64 "evbus avro decode: option '--registry' needs a value" avro decode --registry
refused 64 "evbus avro decode: option '--mode' needs a value" avro decode --hex --mode
refused 64 "evbus avro encode: option '--subject' needs a value" avro encode --registry http://127.0.0.1:1 --subject
refused 64 "evbus avro encode: option '--version' needs a value" avro encode --version
refused 64 "evbus avro encode: option '--user-info' needs a value" avro encode --user-info
refused 64 "evbus avro decode: option '--hex' takes no value" avro decode --hex=1
refused 64 "evbus avro decode: --mode: expected one of auto|avro|confluent|glue|json|string|bytes, got 'protobuf'" \
  avro decode --mode protobuf
refused 64 "evbus avro encode: --version: not a number in 1..2147483647: '0'" avro encode --version 0
refused 64 "evbus avro encode: --version: not a number in 1..2147483647: 'two'" avro encode --version two
refused 64 "evbus avro decode: give only one of --hex and --base64" avro decode --hex --base64
refused 64 "evbus avro decode: --subject is for encode" avro decode --subject x
refused 64 "evbus avro decode: --glue is for encode" avro decode --glue
refused 64 "evbus avro encode: --mode is for decode" avro encode --mode json
refused 64 "evbus avro encode: --decimal-number is for decode" avro encode --decimal-number
refused 64 "evbus avro encode: --registry URL is required" avro encode --subject x
refused 64 "evbus avro encode: --subject SUBJECT is required" avro encode --registry http://127.0.0.1:1
refused 64 "evbus avro encode: --zlib goes with --glue" avro encode --registry http://127.0.0.1:1 --subject x --zlib
refused 64 "evbus avro encode: give --schema or --version, not both" \
  avro encode --registry http://127.0.0.1:1 --subject x --schema s.avsc --version 2
refused 64 "evbus avro decode: unexpected argument 'stray'" avro decode stray
refused 64 "evbus avro decode: schema registry URL 'ftp://x' is not http:// or https://" \
  avro decode --registry ftp://x
refused 64 "evbus avro encode: ambiguous option '--s' (--subject, --schema, ...)" avro encode --s x

# ---- connector --------------------------------------------------------------
help_is "usage: evbus connector --config FILE [--check | --print-config]" connector --help
names -c --config --check --print-config --properties
same_help connector --help -- help connector
refused 64 "evbus connector: --config FILE is required" connector
refused 64 "evbus connector: unknown option '--bogus'" connector --bogus
refused 64 "evbus connector: option '--config' needs a value" connector --config
refused 64 "evbus connector: option '--check' takes no value" connector --check=1
refused 64 "evbus connector: give --check or --print-config, not both" \
  connector --config c.json --check --print-config
refused 64 "evbus connector: unexpected argument 'x'" connector x

# ---- help and version -------------------------------------------------------
help_is "usage: evbus help [--man | --markdown] [COMMAND [SUBCOMMAND]]" help help
names --man --markdown
same_help help help -- help --help
help_is "usage: evbus version [options]" version --help
run version
[ "$RC" = 0 ] && grep -q "^evbus [0-9]" "$TMP/out" && ok || bad "evbus version: rc=$RC"
refused 64 "evbus help: unknown option '--bogus'" help --bogus
refused 64 "evbus help: give --man or --markdown, not both" help --man --markdown
refused 64 "evbus help: unexpected argument 'x'" help serve x
refused 64 "evbus help: unexpected argument 'x'" help avro decode x
refused 64 "evbus help: unknown subcommand 'avro x'" help avro x
refused 64 "evbus version: unexpected argument 'x'" version x
refused 64 "evbus version: unknown option '--bogus'" version --bogus

# ---- nothing odd crashes ------------------------------------------------------
long=$(head -c 5000 /dev/zero | tr '\0' x)
for args in "apply --$long" "apply -f" "apply --" "apply - -" "apply --=" "apply -f ''" \
  "avro decode --$long" "avro --" "avro '' decode" "avro decode -- --hex" "avro encode --registry=" \
  "connector --=x" "help --man ''" "help ''" "version --"; do
  eval "run $args"
  [ "$RC" -le 125 ] && ok || bad "evbus $args: crashed (status $RC)"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
