#!/usr/bin/env bash
# The command-line contract of `evbus avro` against `evbus serve`'s
# registry: encode then decode (Confluent, Glue, Glue with zlib; hex and
# base64), a raw value on stdin, JSON and text values, decimals as
# numbers, per-line errors with exit status 2, an unreachable registry
# (1) and usage errors (64).
#
#   bash tests/cli/test_avro_cli.sh /path/to/evbus
#
# Prints one line per failed check and "N passed, M failed" at the end;
# exits non-zero if any check failed. The server listens on 127.0.0.1.
set -u

EVBUS=${1:?usage: $0 /path/to/evbus}
TMP=$(mktemp -d)
. "$(dirname "$0")/lib/server.sh"

OUT= ERR= RC=
# run STDIN ARGS...: run `evbus avro ARGS`, capturing OUT, ERR and RC.
run() {
  local input=$1
  shift
  printf '%s' "$input" | "$EVBUS" avro "$@" >"$TMP/out" 2>"$TMP/err"
  RC=$?
  OUT=$(cat "$TMP/out")
  ERR=$(cat "$TMP/err")
}
check() { # check DESCRIPTION CONDITION...
  local what=$1
  shift
  if "$@"; then ok; else bad "$what (rc=$RC out=$OUT err=$ERR)"; fi
}

start_server || exit 1
R="http://127.0.0.1:$PORT"

# the fraud demo's first notification schema (the demo's file grows)
cat >"$TMP/notes.avsc" <<'EOF'
{"type": "record", "name": "Notification", "fields": [
  {"name": "source", "type": "string"},
  {"name": "eventType", "type": "string"},
  {"name": "eventDetail", "type": {"type": "record", "name": "EventDetail",
   "fields": [{"name": "userId", "type": "string"},
              {"name": "total", "type": "double"}]}},
  {"name": "ruleId", "type": ["null", "string"], "default": null},
  {"name": "cardId", "type": ["null", "string"], "default": null},
  {"name": "score", "type": ["null", "double"], "default": null},
  {"name": "reason", "type": ["null", "string"], "default": null}]}
EOF
N1='{"source":"s","eventType":"t","eventDetail":{"userId":"u","total":12.5},"ruleId":null,"cardId":"c","score":1.0,"reason":null}'
N2='{"source":"s2","eventType":"t2","eventDetail":{"userId":"v","total":-0.5},"ruleId":"R1","cardId":null,"score":null,"reason":"why"}'

# encode (registers the schema), then decode: the same JSON back
run "$N1
$N2
" encode --registry "$R" --subject notes-value --schema "$TMP/notes.avsc"
check "encode exits 0" [ "$RC" = 0 ]
check "encode prints two hex lines" [ "$(wc -l <<<"$OUT")" = 2 ]
check "Confluent header, schema id 1" [ "${OUT:0:10}" = 0000000001 ]
HEX=$OUT
run "$HEX" decode --registry "$R" --hex
check "decode exits 0" [ "$RC" = 0 ]
check "decode gives the JSON back" [ "$OUT" = "$N1
$N2" ]

# base64, Glue (plain and zlib), --version, the latest version
for fmt in "" "--glue" "--glue --zlib"; do
  # shellcheck disable=SC2086
  run "$N2" encode --registry "$R" --subject notes-value --base64 $fmt
  check "encode --base64 $fmt" [ "$RC" = 0 ]
  B64=$OUT
  run "$B64" decode --registry "$R" --base64
  check "decode --base64 after encode $fmt" [ "$OUT" = "$N2" ]
done
run "$N2" encode --registry "$R" --subject notes-value --glue
check "Glue header" [ "${OUT:0:4}" = 0300 ]
run "$N2" encode --registry "$R" --subject notes-value --version 1
check "--version 1" eval '[ "$RC" = 0 ] && [ "${OUT:0:10}" = 0000000001 ]'

# one raw binary value on stdin
FIRST=${HEX%%$'\n'*}
# shellcheck disable=SC2059
printf "$(sed 's/../\\x&/g' <<<"$FIRST")" >"$TMP/raw.bin"
"$EVBUS" avro decode --registry "$R" <"$TMP/raw.bin" >"$TMP/out" 2>"$TMP/err"
RC=$?
OUT=$(cat "$TMP/out")
check "raw value on stdin" eval '[ "$RC" = 0 ] && [ "$OUT" = "$N1" ]'

# JSON, text and bytes need no registry
run '{ "a" : [1, 2] }' decode
check "JSON value compacted" [ "$OUT" = '{"a":[1,2]}' ]
run 'plain text' decode
check "text value as a string" [ "$OUT" = '"plain text"' ]
run "68690a
" decode --hex --mode bytes
check "--mode bytes" [ "$OUT" = '"aGkK"' ]

# decimals as numbers
D='{"type":"record","name":"D","fields":[{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2}}]}'
printf '%s' "$D" >"$TMP/d.avsc"
run '{"d":12.34}' encode --registry "$R" --subject dec-value --schema "$TMP/d.avsc"
DH=$OUT
run "$DH" decode --registry "$R" --hex
check "decimal as base64" [ "$OUT" = '{"d":"BNI="}' ]
run "$DH" decode --registry "$R" --hex --decimal-number
check "decimal as a number" [ "$OUT" = '{"d":12.34}' ]

# bad values: reported per line, the rest still decoded, exit 2
run "00000000630000
zz
${HEX%%$'\n'*}
000000
" decode --registry "$R" --hex
check "bad values exit 2" [ "$RC" = 2 ]
check "good value still decoded" [ "$OUT" = "$N1" ]
check "unknown id is 40403 on line 1" grep -q "line 1: Schema 99 not found (schema registry error 40403)" "$TMP/err"
check "bad hex on line 2" grep -q "line 2: not hexadecimal" "$TMP/err"
check "truncated header on line 4" grep -q "line 4: .*truncated" "$TMP/err"
run '{"source":1}
' encode --registry "$R" --subject notes-value
check "JSON that does not fit: exit 2" eval '[ "$RC" = 2 ] && grep -q "line 1:" "$TMP/err"'
run '{' encode --registry "$R" --subject notes-value
check "JSON that does not parse: exit 2" [ "$RC" = 2 ]
run '' encode --registry "$R" --subject missing-value
check "missing subject: exit 2, 40401" eval '[ "$RC" = 2 ] && grep -q 40401 "$TMP/err"'
printf '"int"' >"$TMP/int.avsc"
run '' encode --registry "$R" --subject notes-value --schema "$TMP/int.avsc"
check "incompatible schema: exit 2, 409" eval '[ "$RC" = 2 ] && grep -q "incompatible" "$TMP/err"'

# registry unreachable: exit 1
run "0000000001
" decode --registry http://127.0.0.1:1 --hex
check "unreachable registry: exit 1" [ "$RC" = 1 ]
run '{}' encode --registry http://127.0.0.1:1 --subject x
check "unreachable registry on encode: exit 1" [ "$RC" = 1 ]

# usage
run '' ; check "no subcommand: 64" [ "$RC" = 64 ]
run '' frobnicate; check "unknown subcommand: 64" [ "$RC" = 64 ]
run '' decode --bogus; check "unknown option: 64" [ "$RC" = 64 ]
run '' decode --hex --base64; check "--hex and --base64: 64" [ "$RC" = 64 ]
run '' decode --subject x; check "encode option on decode: 64" [ "$RC" = 64 ]
run '' encode --subject x; check "encode without --registry: 64" [ "$RC" = 64 ]
run '' encode --registry "$R"; check "encode without --subject: 64" [ "$RC" = 64 ]
run '' encode --registry "$R" --subject x --zlib; check "--zlib without --glue: 64" [ "$RC" = 64 ]
run '' decode --registry ftp://x; check "not an http URL: 64" [ "$RC" = 64 ]
run '' decode --mode protobuf; check "unknown mode: 64" [ "$RC" = 64 ]
run '' --help
check "--help: 0" eval '[ "$RC" = 0 ] && grep -q "evbus avro decode" "$TMP/out"'
"$EVBUS" help avro >/dev/null; check "evbus help avro" [ $? = 0 ]

stop_server
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
