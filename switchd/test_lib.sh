# Shared by switchd's *_test.sh: a private directory, switchd started there,
# checks, and a cleanup that stops what the test started and removes the
# network namespaces it made.
set -u
: "${SSI_BIN:?set SSI_BIN to the bin directory of a build}"
export PATH="$SSI_BIN:$PATH"
T=$(mktemp -d /tmp/swt.XXXXXX)
NAME=$(basename "$0" .sh)
FAILURES=0
PIDS=""
NETNS=""
log() { printf '[%s] %s\n' "$NAME" "$*"; }
fail() { printf '[%s] FAIL: %s\n' "$NAME" "$*"; FAILURES=$((FAILURES + 1)); }
check() { local what=$1; shift; if "$@"; then log "ok: $what"; else fail "$what"; fi; }
expect_output() {  # DESCRIPTION PATTERN COMMAND...
  local what=$1 pattern=$2 out; shift 2
  out=$("$@" 2>&1)
  if printf '%s' "$out" | grep -Eq -- "$pattern"; then log "ok: $what"; else fail "$what: expected /$pattern/, got: $out"; fi
}
# start_switchd NAME ARGS...: switchd on $T/NAME with control socket $T/NAME.ctl.
start_switchd() {
  local name=$1; shift
  switchd "$T/$name" --control "$T/$name.ctl" --log "$T/$name.log" "$@" &
  PIDS="$PIDS $!"
  for _ in $(seq 100); do [ -S "$T/$name.ctl" ] && return 0; sleep 0.05; done
  fail "switchd $name did not start: $(cat "$T/$name.log")"
  return 1
}
ctl() {  # NAME JSON: one control request, its reply
  echo "$2" | sockcat "$T/$1.ctl" 500 2>/dev/null
}
# expect_joined A B HOW: switch A (with --gateway) and switch B are joined:
# a client of B pings A's gateway, and unicast frames from B reach a client of A.
expect_joined() {
  local a=$1 b=$2 how=$3 r
  expect_output "a client of switch $b pings switch $a's gateway $how" "[1-9]/3 replies" \
    vde_probe ping "$T/$b" 10.77.0.254 --node 7 --plug
  vde_probe recv "$T/$a" --node 1 --seconds 2 > "$T/$a.received" & r=$!
  sleep 0.5
  vde_probe send "$T/$b" --node 2 --to 1 --count 30 >/dev/null
  wait $r
  expect_output "unicast frames cross $how" "from=.*2:30," cat "$T/$a.received"
}
netns_ok() {  # creates a scratch namespace to see whether we may
  ip netns add "swt-probe-$$" 2>/dev/null && ip netns del "swt-probe-$$"
}
add_netns() { ip netns add "$1" && NETNS="$NETNS $1" && ip netns exec "$1" ip link set lo up; }
finish() {
  PIDS="$PIDS $(jobs -p)"  # and the test's own background clients
  for p in $PIDS; do kill "$p" 2>/dev/null; done
  for p in $PIDS; do wait "$p" 2>/dev/null; done
  for n in $NETNS; do
    for p in $(ip netns pids "$n" 2>/dev/null); do kill "$p" 2>/dev/null; done
    sleep 0.2
    ip netns del "$n" 2>/dev/null
  done
  local left
  left=$(find "$T" -type s 2>/dev/null)
  [ -z "$left" ] || fail "sockets left behind: $left"
  [ "$FAILURES" -eq 0 ] || for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
  rm -rf "$T"
  if [ "$FAILURES" -ne 0 ]; then log "$FAILURES check(s) failed"; exit 1; fi
  log passed
  exit 0
}
trap finish EXIT
trap 'fail "stopped by a signal"; exit 1' INT TERM HUP  # finish runs then too
