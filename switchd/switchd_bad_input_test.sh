#!/usr/bin/env bash
# Bad input to switchd: malformed, short and wrong-magic requests, clients
# that connect and vanish or never speak, frames over the MTU, a flood
# from one port and a control client that never reads its replies are
# refused or dropped and counted, and everybody else is still served.
. "$(dirname "$0")/test_lib.sh"
start_switchd sw --gateway || exit 1
SW=$T/sw

head -c 300 /dev/urandom | sockcat "$SW/ctl" 300 >/dev/null 2>&1          # malformed, too long
printf 'short' | sockcat "$SW/ctl" 300 >/dev/null 2>&1                    # short
python3 -c "import sys,struct; sys.stdout.buffer.write(struct.pack('<III',0xdeadbeef,3,0)+b'\0'*140)" |
  sockcat "$SW/ctl" 300 >/dev/null 2>&1                                   # wrong magic
for _ in 1 2 3; do sockcat "$SW/ctl" 10 </dev/null >/dev/null 2>&1; done  # connect and vanish
sleep 1.3 | sockcat "$SW/ctl" 1500 >/dev/null 2>&1                        # connects, never speaks
expect_output "bad handshakes are refused and counted" '"refused_clients":([6-9]|[1-9][0-9])' \
  ctl sw '{"v":1,"cmd":"status"}'

vde_probe send "$SW" --node 1 --to all --size 2000 --count 5 >/dev/null
expect_output "frames over the MTU are dropped and counted" '"departed_drops":\{"oversize":5' ctl sw '{"v":1,"cmd":"status"}'

# Node 1 floods for three seconds; node 2 pings the gateway meanwhile.
vde_probe recv "$SW" --node 3 --seconds 4 >/dev/null & r=$!
vde_probe send "$SW" --node 1 --to all --seconds 3 >/dev/null & f=$!
sleep 1
expect_output "the gateway still answers during a flood" "[1-9]/5 replies" vde_probe ping "$SW" 10.77.0.254 --node 2 --count 5
wait $f $r
expect_output "a vanished client's port is closed" '"ports":\[\{"description":"gateway' ctl sw '{"v":1,"cmd":"status"}'
expect_output "a bad control request gets an error" '"ok":false' ctl sw '{"v":1,"cmd":"partition","groups":"all"}'
# 20000 requests whose replies the client does not read for a second: once
# their backlog passes 4 MiB the switch closes that connection (sockcat exits
# 0, not 3).
never_reads() { yes '{"v":1,"cmd":"status"}' | head -n 20000 | sockcat "$T/sw.ctl" 3000 1000 >/dev/null; echo "exit $?"; }
expect_output "a control client that never reads is dropped" '^exit 0$' never_reads
expect_output "and the switch still answers" '"ok":true' ctl sw '{"v":1,"cmd":"status"}'
expect_output "a real vde_plug still gets a port and a reply" "[1-9]/3 replies" \
  vde_probe ping "$SW" 10.77.0.254 --node 4 --plug
