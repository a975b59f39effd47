# Shared by the scripts: paths and small helpers. Sourced, not run.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$HOME/.cargo/bin:$ROOT/tests/node_modules/.bin:$PATH"
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export CHROME_BIN=${CHROME_BIN:-/usr/bin/chromium}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}
export GECKODRIVER_BIN=${GECKODRIVER_BIN:-$HOME/.cargo/bin/geckodriver}
export SAFARIDRIVER_BIN=${SAFARIDRIVER_BIN:-/usr/bin/WebKitWebDriver}

# step NAME: prints a header and starts timing NAME; step_table prints every step's time and the
# disk left after it (a CI run once died of a full disk: the table shows which step filled it).
STEP_NAMES=(); STEP_SECS=(); STEP_FREE=(); _step_name=; _step_t0=0
_disk_free() { df -h --output=avail "$ROOT" 2>/dev/null | tail -1 | tr -d ' '; }
_step_end() {
  if [ -n "$_step_name" ]; then
    STEP_NAMES+=("$_step_name"); STEP_SECS+=($(( $(date +%s) - _step_t0 ))); STEP_FREE+=("$(_disk_free)")
    _step_name=
  fi
}
step() { _step_end; _step_name="$*"; _step_t0=$(date +%s); printf '\n\033[1m== %s\033[0m (disk free: %s)\n' "$*" "$(_disk_free)"; }
step_table() {
  _step_end
  local i total=0
  printf '\n| step | seconds | disk free after |\n|---|---:|---:|\n'
  for i in "${!STEP_NAMES[@]}"; do
    printf '| %s | %d | %s |\n' "${STEP_NAMES[$i]}" "${STEP_SECS[$i]}" "${STEP_FREE[$i]}"
    total=$(( total + STEP_SECS[i] ))
  done
  printf '| total | %d | |\n' "$total"
}

# Starts chat-server in the background on a free port and sets SERVER_URL and SERVER_PID.
# Usage: start_server [extra chat-server flags...]; stop with stop_server.
start_server() {
  local ready
  ready=$(mktemp -u "${TMPDIR:-/tmp}/chat-server-ready.XXXXXX")
  "$ROOT/target/release/chat-server" --listen 127.0.0.1:0 --ready-file "$ready" "$@" \
    > "${SERVER_LOG:-/dev/null}" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    [ -s "$ready" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "chat-server exited early" >&2; return 1; }
    sleep 0.05
  done
  SERVER_URL=$(cat "$ready")
  rm -f "$ready"
  export SERVER_URL SERVER_PID
}

stop_server() {
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
