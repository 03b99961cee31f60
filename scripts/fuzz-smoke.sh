#!/usr/bin/env bash
# Run every libFuzzer target in DIR for SECONDS each (`make fuzz-smoke`).
#
#   scripts/fuzz-smoke.sh DIR SECONDS
#
# Each target fuzz_<name> starts from a temporary copy of its seed corpus
# fuzz/corpus/fuzz_<name>/ (so the repository's corpus is never modified)
# with -max_total_time=SECONDS -timeout=10 -rss_limit_mb=2048. Crash,
# timeout and leak inputs are written to DIR/artifacts/ and the target's
# log to DIR/artifacts/fuzz_<name>.log. Prints one line per target and
# exits non-zero if any target failed (or none was found).
set -uo pipefail

if [ $# -ne 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 DIR SECONDS" >&2
  exit 64
fi
dir=$1
seconds=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
artifacts="$dir/artifacts"
mkdir -p "$artifacts"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ran=0
failed=0
for bin in "$dir"/fuzz_*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  name=$(basename "$bin")
  corpus="$tmp/$name"
  mkdir -p "$corpus"
  if [ -d "$root/fuzz/corpus/$name" ]; then
    cp -R "$root/fuzz/corpus/$name/." "$corpus/"
  fi
  seeds=$(find "$corpus" -type f | wc -l)
  log="$artifacts/$name.log"
  start=$(date +%s)
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/$name-" -print_final_stats=1 \
    "$corpus" >"$log" 2>&1
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  ran=$((ran + 1))
  if [ $rc -eq 0 ]; then
    printf '%-20s ok      %ss, %s runs, cov %s, %s seeds\n' "$name" "$elapsed" \
      "${runs:-?}" "${cov:-?}" "$seeds"
  else
    failed=$((failed + 1))
    printf '%-20s FAILED  exit %s after %ss; log %s\n' "$name" "$rc" "$elapsed" "$log"
    grep -E 'ERROR|SUMMARY|Test unit written|fuzz_[a-z]+:' "$log" | head -8 | sed 's/^/    /'
  fi
done

if [ $ran -eq 0 ]; then
  echo "fuzz-smoke: no fuzz_* executables in $dir" >&2
  exit 1
fi
echo "fuzz-smoke: $ran targets, $failed failed"
[ $failed -eq 0 ]
