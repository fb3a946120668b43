#!/usr/bin/env bash
# cmd:// uplinks: two switchd joined through a real vde_plug on the command's
# stdin and stdout. A command that exits, one that sends what is not VDE's
# stream format and one that ignores SIGTERM each end their uplink alone: the
# switch goes on serving, and exits promptly, leaving no command behind.
. "$(dirname "$0")/test_lib.sh"
alive() { kill -0 "$1" 2>/dev/null; }
gone_within() {  # PID TENTHS: true once PID has exited, false if it still runs after TENTHS
  for _ in $(seq "$2"); do alive "$1" || return 0; sleep 0.1; done
  ! alive "$1"
}
command_pid() { sed -n 's/.*uplink cmd:.* is port [0-9]* (pid \([0-9]*\)).*/\1/p' "$T/$1.log" | head -1; }
logged_within() {  # NAME PATTERN TENTHS
  for _ in $(seq "$3"); do grep -q -- "$2" "$T/$1.log" && return 0; sleep 0.1; done
  return 1
}

start_switchd b
start_switchd a --gateway --uplink "cmd://vde_plug $T/b"
expect_joined a b "through cmd://vde_plug"
expect_output "switch A shows the uplink as a port" '"uplink cmd://vde_plug' ctl a '{"v":1,"cmd":"status"}'

plug=$(command_pid a)
check "the command's pid is logged" test -n "$plug"
kill -- "-$plug"  # the shell and vde_plug under it
check "a command that exits ends its uplink, logged" logged_within a "ended: the command closed its output" 50
no_uplink_port() { ! ctl a '{"v":1,"cmd":"status"}' | grep -q '"uplink cmd://'; }
check "and its port leaves the switch" no_uplink_port
expect_output "and switch A goes on serving" "[1-9]/3 replies" vde_probe ping "$T/a" 10.77.0.254 --node 7 --plug

start_switchd g --uplink "cmd://exec yes ssiuml"
check "a command that sends garbage ends its uplink" logged_within g "not VDE's stream format" 50
check "and is stopped" gone_within "$(command_pid g)" 30
expect_output "switch G goes on serving" '"ok":true' ctl g '{"v":1,"cmd":"status"}'

start_switchd s --uplink "cmd://trap '' TERM; exec sleep 300"
s_pid=${PIDS##* }
stubborn=$(command_pid s)
kill -TERM "$s_pid"
check "switchd exits at once though its command ignores SIGTERM" gone_within "$s_pid" 50
check "and leaves no command behind" gone_within "$stubborn" 10

# ARP requests for the gateway, in VDE's stream format, from a command that
# exits at once: the answers come after its uplink ended, and are dropped.
arp='\x00\x3c\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x07\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01'
arp+='\x02\x00\x00\x00\x00\x07\x0a\x4d\x00\x07\x00\x00\x00\x00\x00\x00\x0a\x4d\x00\xfe'
arp+=$(printf '\\x00%.0s' $(seq 18))
for _ in $(seq 2000); do printf "$arp"; done > "$T/arp.bin"
start_switchd q --gateway --uplink "cmd://exec cat $T/arp.bin"
check "a command whose frames the gateway answers after it exits ends its uplink once" logged_within q "ended: " 50
expect_output "the gateway took all its frames" '"rx_frames":2000' ctl q '{"v":1,"cmd":"status"}'
check "and its uplink ended once" test "$(grep -c "uplink cmd://.* ended" "$T/q.log")" -eq 1

out=$(switchd "$T/e" --uplink "cmd://" 2>&1); rc=$?
check "cmd:// with no command is refused" test $rc -eq 1
check "saying what to give" grep -q "uplink cmd:// needs a command" <<<"$out"
