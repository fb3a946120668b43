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

# A switch at that path that takes the connection and never answers: the
# uplink's open waits on a thread of its own, and switchd goes on.
mkdir -p "$T/b"
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
time.sleep(120)' "$T/b/ctl" &
mute=$!
PIDS="$PIDS $mute"
for _ in $(seq 50); do [ -S "$T/b/ctl" ] && break; sleep 0.1; done
waiting_on_mute() {  # a rejoin attempt connected (in the listen queue) and waits for an answer
  for _ in $(seq 50); do
    [ "$(ss -xlH | awk -v p="$T/b/ctl" '$5 == p { print $3 }')" = 1 ] && return 0
    sleep 0.1
  done
  return 1
}
check "a rejoin attempt waits on a switch that never answers" waiting_on_mute
expect_output "while a switch that never answers holds the uplink's open, switchd answers its control" \
  '"ok":true' ctl a '{"v":1,"cmd":"status"}'
expect_output "and switchd goes on serving" "[1-9]/3 replies" vde_probe ping "$T/a" 10.77.0.254 --node 10 --plug
kill "$mute"
wait "$mute" 2>/dev/null
rm -rf "$T/b"

start_vde_switch
check "the uplink joins the vde_switch again once it is back" logged_within a "uplink $T/b joined again" 80
check "as one port" test "$(uplink_ports)" -eq 1
expect_output "and a client of the new vde_switch pings switchd's gateway" "[1-9]/3 replies" \
  vde_probe ping "$T/b" 10.77.0.254 --node 9 --plug
