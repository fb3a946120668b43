# Shared set-up for integration tests: a private HOME (so RUN, STATE and the
# config are the test's own), helpers, and a cleanup that proves nothing was
# left behind.
set -u
: "${SSI_BIN:?set SSI_BIN to the bin directory of a build}"
export PATH="$SSI_BIN:$PATH"
unset XDG_RUNTIME_DIR
TEST_HOME=$(mktemp -d /tmp/ssit.XXXXXX)
export HOME=$TEST_HOME
export SSIUML_CONF=$TEST_HOME/ssiuml.conf
: > "$SSIUML_CONF"
CLUSTERS=""
FAILURES=0
TEST_NAME=$(basename "$0" .sh)

log() { printf '[%s] %s\n' "$TEST_NAME" "$*"; }
fail() { printf '[%s] FAIL: %s\n' "$TEST_NAME" "$*"; FAILURES=$((FAILURES + 1)); }
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then log "ok: $what"; else fail "$what"; fi
}
# expect_output DESCRIPTION PATTERN COMMAND...: stdout+stderr must match PATTERN.
expect_output() {
  local what=$1 pattern=$2; shift 2
  local out
  out=$("$@" 2>&1)
  if printf '%s' "$out" | grep -Eq -- "$pattern"; then
    log "ok: $what"
  else
    fail "$what: expected /$pattern/, got: $out"
  fi
}
use_cluster() { CLUSTERS="$CLUSTERS $1"; }

# Processes of this test: everything naming the private HOME.
our_processes() {
  pgrep -af "$TEST_HOME" | grep -v pgrep || true
  for c in $CLUSTERS; do pgrep -af "ssid --cluster $c( |$)" || true; done
}

finish() {
  for c in $CLUSTERS; do ssi-stop --cluster "$c" >/dev/null 2>&1; done
  local left
  left=$(our_processes)
  if [ -n "$left" ]; then
    fail "processes left behind: $left"
    pkill -9 -f "$TEST_HOME" || true
  fi
  if [ -n "$(find "$TEST_HOME/.ssiuml/run" -mindepth 1 2>/dev/null)" ]; then
    fail "files left in RUN: $(find "$TEST_HOME/.ssiuml/run" -mindepth 1)"
  fi
  if [ "$FAILURES" -ne 0 ]; then
    log "node consoles and ssid log of the failed run:"
    for f in "$TEST_HOME"/.ssiuml/clusters/*/log/*; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }
    done
  fi
  rm -rf "$TEST_HOME"
  if [ "$FAILURES" -ne 0 ]; then
    log "$FAILURES check(s) failed"
    exit 1
  fi
  log "passed"
  exit 0
}
trap finish EXIT
