# tests/cli/lib/node.sh: what the Node.js interoperability tests share.
# Source it after lib/server.sh, with EVBUS and NODE_DIR set.
#
# node_prepare WHAT LOCK_WAIT: skip the test (exit 0, saying so) when node is not
# installed; fail it when npm is missing or `npm ci` of
# tests/node/package-lock.json fails. The packages go once into
# node-cache/ beside the evbus binary, under a lock shared by every Node
# test, waited for at most LOCK_WAIT seconds; on return NODE_MODULES
# names them.
#
# node_run FILE MIN [VAR=VALUE]...: run `node --test FILE` (with the
# variables set) against the started server, add its pass and fail counts
# to passed/failed, and fail when it exited badly or ran fewer than MIN
# tests.

node_prepare() {
  if ! command -v node >/dev/null 2>&1; then
    echo "SKIP: node is not installed, so the Node.js $1 test cannot run (scripts/deps.sh installs nodejs and npm)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "FAIL: node is installed but npm is not (scripts/deps.sh installs it)"
    echo "0 passed, 1 failed"
    exit 1
  fi
  local cache
  cache="$(cd "$(dirname "$EVBUS")" && pwd)/node-cache"
  mkdir -p "$cache"
  (
    flock -w "$2" 9 || exit 1
    if ! cmp -s "$NODE_DIR/package-lock.json" "$cache/package-lock.json" ||
      [ ! -d "$cache/node_modules/@kafkajs/confluent-schema-registry" ]; then
      cp "$NODE_DIR/package.json" "$NODE_DIR/package-lock.json" "$cache/"
      (cd "$cache" && timeout 200 npm ci --no-audit --no-fund --loglevel=error) || exit 1
    fi
  ) 9>"$cache/.lock"
  if [ $? -ne 0 ]; then
    echo "FAIL: npm ci of tests/node/package-lock.json into $cache failed"
    echo "0 passed, 1 failed"
    exit 1
  fi
  NODE_MODULES="$cache/node_modules"
}

node_run() {
  local file=$1 min=$2 out rc p f
  shift 2
  out=$(cd "$NODE_DIR" && env REGISTRY_URL="http://127.0.0.1:$PORT" \
    REGISTRY_NODE_MODULES="$NODE_MODULES" "$@" \
    timeout 120 node --test "$NODE_DIR/$file" 2>&1)
  rc=$?
  echo "$out"
  p=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' <<<"$out")
  f=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' <<<"$out")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ $rc -ne 0 ] && [ "${f:-0}" = 0 ]; then
    failed=$((failed + 1))
    echo "FAIL: node --test exited $rc"
  fi
  [ "${p:-0}" -ge "$min" ] || { failed=$((failed + 1)); echo "FAIL: fewer node tests ran than written"; }
}
