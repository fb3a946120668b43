#!/usr/bin/env bash
# An uplink to a real vde_switch through libvdeplug: when that switch exits,
# the uplink's port leaves switchd, which goes on serving; when it is back,
# the uplink joins it again by itself.
. "$(dirname "$0")/test_lib.sh"
# switchd's uplink loads libvdeplug's plugins with RTLD_DEEPBIND, which ASan refuses.
if [ "${SSIUML_SANITIZED:-OFF}" = ON ]; then log "SKIP: the uplink cannot run under ASan"; exit 0; fi
logged_within() {  # NAME PATTERN TENTHS
  for _ in $(seq "$3"); do grep -q -- "$2" "$T/$1.log" && return 0; sleep 0.1; done
  return 1
}
start_vde_switch() {
  vde_switch -s "$T/b" -d -p "$T/b.pid" >/dev/null 2>&1
  for _ in $(seq 100); do [ -s "$T/b.pid" ] && [ -S "$T/b/ctl" ] && break; sleep 0.05; done
  PIDS="$PIDS $(cat "$T/b.pid")"
}
uplink_ports() { ctl a '{"v":1,"cmd":"status"}' | grep -o "\"uplink $T/b\"" | wc -l; }

start_vde_switch
start_switchd a --gateway --uplink "$T/b"
expect_output "a client of the vde_switch pings switchd's gateway across the uplink" "[1-9]/3 replies" \
  vde_probe ping "$T/b" 10.77.0.254 --node 7 --plug

kill "$(cat "$T/b.pid")"
rm -f "$T/b.pid"
check "the vde_switch's exit is noticed and logged" logged_within a "uplink $T/b lost: its switch closed" 50
check "and the uplink's port leaves switchd" test "$(uplink_ports)" -eq 0
expect_output "switchd goes on serving its own clients" "[1-9]/3 replies" \
  vde_probe ping "$T/a" 10.77.0.254 --node 8 --plug

start_vde_switch
check "the uplink joins the vde_switch again once it is back" logged_within a "uplink $T/b joined again" 50
check "as one port" test "$(uplink_ports)" -eq 1
expect_output "and a client of the new vde_switch pings switchd's gateway" "[1-9]/3 replies" \
  vde_probe ping "$T/b" 10.77.0.254 --node 9 --plug
