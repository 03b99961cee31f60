# tests/cli/lib/server.sh: what the end-to-end scripts share. Source it
# after setting EVBUS (the evbus binary) and TMP (a private temp dir).
#
# It sets the cleanup trap (the server is killed and TMP removed on any
# exit), the pass/fail counters (ok, bad), an AWS client environment that
# ignores any local configuration and uses dummy credentials, and
#   start_server [ARGS...]  start `evbus serve` on 127.0.0.1:0 with the data
#                           dir $TMP/data, set SERVER_PID and PORT from its
#                           "listening on" line (10 s at most); its stderr
#                           goes to $TMP/server.N.log and $TMP/server.err
#   stop_server [SIGNAL]    send SIGNAL (default TERM); the server must
#                           log its shutdown line and exit with status 0
#                           within 10 s (counted as checks)

SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $*"
}

export AWS_ACCESS_KEY_ID=AKIDEVBUSTEST AWS_SECRET_ACCESS_KEY=evbus-test-secret
export AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER=
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL 2>/dev/null

PORT=
STARTS=0
start_server() {
  STARTS=$((STARTS + 1))
  local log="$TMP/server.$STARTS.log"
  "$EVBUS" serve --listen 127.0.0.1:0 --data-dir "$TMP/data" "$@" 2>"$log" >/dev/null &
  SERVER_PID=$!
  PORT=
  for _ in $(seq 100); do
    PORT=$(sed -n 's/^evbus: listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' "$log" 2>/dev/null)
    if [ -n "$PORT" ]; then
      ln -sf "$log" "$TMP/server.err"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not start:" >&2
  cat "$log" >&2
  return 1
}

stop_server() {
  local sig=${1:-TERM} rc
  kill -"$sig" "$SERVER_PID"
  for _ in $(seq 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    bad "server still running 10 s after SIG$sig"
    kill -KILL "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null
  else
    wait "$SERVER_PID"
    rc=$?
    [ "$rc" = 0 ] && ok || bad "exit status $rc after SIG$sig, want 0"
    grep -q "SIG$sig received, shutting down" "$TMP/server.err" && ok ||
      bad "no shutdown line after SIG$sig: $(cat "$TMP/server.err")"
  fi
  SERVER_PID=
}
