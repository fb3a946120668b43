#!/usr/bin/env bash
# switchd under real nodes: partitions cut exactly the links between groups,
# a majorities ring those across the ring, and heal in one step, loss and
# delay act on a node's traffic, every fault is an event, a guest cannot
# pass for another node or slip a partition by its MAC, vde_plug connects
# unchanged, and garbage on the switch's ctl socket is refused while the
# nodes keep talking. The lock server's expiry is long here, so cut-off
# nodes are not fenced: membership.sh tests that.
. "$(dirname "$0")/lib.sh"
printf 'EXPIRY_MISSED=100\n' > "$SSIUML_CONF"
C=net$$
use_cluster $C
sw=$HOME/.ssiuml/run/$C/switch

check "ssi-start 3" ssi-start --cluster $C 3
check "node1 reaches node3" ssi-exec --cluster $C 1 -- ping -c 1 -W 2 node3
check "ssi-net partition 1,2 3" ssi-net --cluster $C partition 1,2 3
expect_output "node1 no longer reaches node3" "100% packet loss" ssi-exec --cluster $C 1 -- ping -c 1 -W 1 node3
check "node1 still reaches node2" ssi-exec --cluster $C 1 -- ping -c 1 -W 2 node2
expect_output "node3 reaches nobody" "100% packet loss" ssi-exec --cluster $C 3 -- ping -c 1 -W 1 node2
check "ssi-net heal" ssi-net --cluster $C heal
check "node1 reaches node3 again" ssi-exec --cluster $C 1 -- ping -c 1 -W 2 node3
check "ssi-net isolate 2" ssi-net --cluster $C isolate 2
expect_output "node2 is cut off" "100% packet loss" ssi-exec --cluster $C 1 -- ping -c 1 -W 1 node2
check "node1 and node3 still talk" ssi-exec --cluster $C 1 -- ping -c 1 -W 2 node3
check "heal" ssi-net --cluster $C heal
check "ssi-net partition ring" ssi-net --cluster $C partition ring
expect_output "status shows the ring" "ring 1,2,3" ssi-net --cluster $C status
expect_output "in a ring of three the ends are cut" "100% packet loss" ssi-exec --cluster $C 1 -- ping -c 1 -W 1 node3
check "the middle reaches both ends" ssi-exec --cluster $C 2 -- ping -c 1 -W 2 node3
check "heal" ssi-net --cluster $C heal
check "ssi-net down 3" ssi-net --cluster $C down 3
expect_output "node3's link is down" "100% packet loss" ssi-exec --cluster $C 1 -- ping -c 1 -W 1 node3
check "ssi-net up 3" ssi-net --cluster $C up 3
check "node3 is back" ssi-exec --cluster $C 1 -- ping -c 1 -W 2 node3
check "ssi-net loss 2 100%" ssi-net --cluster $C loss 2 100%
expect_output "all of node2's frames are lost" "100% packet loss" ssi-exec --cluster $C 1 -- ping -c 2 -W 1 node2
check "ssi-net delay 2 200ms" ssi-net --cluster $C delay 2 200ms
check "heal clears loss" ssi-net --cluster $C heal
check "ssi-net delay 2 200ms" ssi-net --cluster $C delay 2 200ms
rtt=$(ssi-exec --cluster $C 1 -- ping -c 1 -W 3 node2 | sed -n 's/.*time=\([0-9]*\).*/\1/p')
check "the delay shows in the round trip ($rtt ms)" test "${rtt:-0}" -ge 200
check "heal" ssi-net --cluster $C heal
expect_output "status counts drops by cause" "partition=|loss=" ssi-net --cluster $C status
events=$HOME/.ssiuml/clusters/$C/events.jsonl
check "faults are events" test "$(grep -c '"event":"net_' "$events")" -ge 10
check "the ring is an event" grep -q '"event":"net_ring".*"nodes":\[1,2,3\]' "$events"

# A guest that writes another address on its frames is still its own node to
# the switch (ssid binds each port to its node): frames claiming another
# node's MAC are dropped as spoofed, and a MAC that is nobody's is cut by a
# partition like the node's own.
mac3() { ssi-exec --cluster $C 3 -- "ip link set eth0 down && ip link set eth0 address $1 && ip link set eth0 up"; }
expect_output "a node's port is bound to it at connect" "port [0-9]+ up: ssiuml-node=3 " cat "$HOME/.ssiuml/clusters/$C/log/switch.log"
check "node3 takes node1's MAC" mac3 02:55:4d:00:00:01
expect_output "node3 posing as node1 reaches nobody" "100% packet loss" ssi-exec --cluster $C 3 -- ping -c 1 -W 1 node2
check "node1 still reaches node2" ssi-exec --cluster $C 1 -- ping -c 1 -W 2 node2
expect_output "status counts spoofed frames" "spoof=[1-9]" ssi-net --cluster $C status
check "node3 takes a MAC that is nobody's" mac3 0a:00:00:00:00:03
check "ssi-net partition 1,2 3" ssi-net --cluster $C partition 1,2 3
expect_output "the partition still cuts node3 off" "100% packet loss" ssi-exec --cluster $C 3 -- ping -c 1 -W 1 node2
check "heal" ssi-net --cluster $C heal
check "node3 takes its own MAC back" mac3 02:55:4d:00:00:03
check "node3 reaches node2 again" ssi-exec --cluster $C 3 -- ping -c 1 -W 2 node2

# Bad input on the ctl socket and from clients that vanish.
head -c 300 /dev/urandom | $SSI_BIN/sockcat "$sw/ctl" 500 >/dev/null 2>&1
printf 'short' | $SSI_BIN/sockcat "$sw/ctl" 500 >/dev/null 2>&1
for _ in $(seq 10); do $SSI_BIN/sockcat "$sw/ctl" 50 </dev/null >/dev/null 2>&1; done
expect_output "garbage handshakes are refused and counted" '"refused_clients":[1-9]' \
  sh -c "echo '{\"v\":1,\"cmd\":\"status\"}' | $SSI_BIN/sockcat $HOME/.ssiuml/run/$C/switch.ctl 500"
expect_output "a bad control request gets an error" '"ok":false' \
  sh -c "echo '{\"v\":1,\"cmd\":\"partition\",\"groups\":\"all\"}' | $SSI_BIN/sockcat $HOME/.ssiuml/run/$C/switch.ctl 500"
expect_output "ssi-net refuses a bad node" "isolate needs a node number" ssi-net --cluster $C isolate zero
check "the nodes still talk" ssi-exec --cluster $C 2 -- ping -c 1 -W 2 node3

# The real vde_plug connects to switchd as to vde_switch.
timeout 3 vde_plug "$sw" </dev/null >/dev/null 2>&1 &
sleep 1
check "vde_plug got a port" grep -q "port .* up: .*vde_plug\|port .* up:.*user=" "$HOME/.ssiuml/clusters/$C/log/switch.log"
wait
check "ssi-stop" ssi-stop --cluster $C
