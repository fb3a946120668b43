#!/usr/bin/env bash
# switchd with real clients (vde_plug and libvdeplug): learning, flooding,
# partitions, a majorities ring and a loss rate within bounds.
. "$(dirname "$0")/test_lib.sh"
start_switchd sw || exit 1
SW=$T/sw

# Node 2 behind a real vde_plug, node 3 through libvdeplug; both announce
# themselves, then node 1 sends 100 unicast frames to 2 and 50 broadcasts.
vde_probe recv "$SW" --node 2 --seconds 3 --plug > "$T/r2" & r2=$!
vde_probe recv "$SW" --node 3 --seconds 3 > "$T/r3" & r3=$!
sleep 0.7
vde_probe send "$SW" --node 1 --to 2 --count 100 --plug >/dev/null
vde_probe send "$SW" --node 1 --to all --count 50 >/dev/null
wait $r2 ${r3:-}
expect_output "node 2 gets its unicast and the broadcasts" "from=.*1:150," cat "$T/r2"
expect_output "node 3 gets only the broadcasts (learning)" "from=.*1:50," cat "$T/r3"
expect_output "ports are gone once clients leave" '"ports":\[\]' ctl sw '{"v":1,"cmd":"status"}'

# Round trips, one frame at a time, to an echo behind a real vde_plug.
vde_probe echo "$SW" --node 2 --seconds 5 --plug > /dev/null & e=$!
sleep 0.7
expect_output "round trips to an echo" "^trips=200 lost=0 mean_us=" vde_probe rtt "$SW" --node 1 --to 2 --count 200
kill $e; wait $e 2>/dev/null
expect_output "round trips with no echo fail, saying why" "no round trip: is an echo at node 9" \
  vde_probe rtt "$SW" --node 1 --to 9 --count 1

# Partition: 1,2 | 3.
expect_output "partition" '"ok":true' ctl sw '{"v":1,"cmd":"partition","groups":[[1,2],[3]]}'
vde_probe recv "$SW" --node 2 --seconds 2 > "$T/r2" & r2=$!
vde_probe recv "$SW" --node 3 --seconds 2 > "$T/r3" & r3=$!
sleep 0.7
vde_probe send "$SW" --node 1 --to all --count 20 >/dev/null
sleep 0.2
expect_output "partition drops are counted" '"partition":[1-9]' ctl sw '{"v":1,"cmd":"status"}'
wait $r2 ${r3:-}
expect_output "node 2 is on node 1's side" "from=.*1:20," cat "$T/r2"
check "node 3 is cut off" sh -c "! grep -q '1:' $T/r3"
ctl sw '{"v":1,"cmd":"heal"}' >/dev/null

# A majorities ring of five: node 1 reaches its neighbours 2 and 5 only.
expect_output "ring" '"ok":true' ctl sw '{"v":1,"cmd":"ring","nodes":[1,2,3,4,5]}'
expect_output "status shows the ring" '"cut":\{"groups":\[\[1,2,3,4,5\]\],"reach":\{"1":\[2,5\],' \
  ctl sw '{"v":1,"cmd":"status"}'
expect_output "a ring of two is refused" '"error":"a ring needs at least 3 nodes' \
  ctl sw '{"v":1,"cmd":"ring","nodes":[1,2]}'
ring=""
for n in 2 3 4 5; do vde_probe recv "$SW" --node $n --seconds 2 > "$T/ring$n" & ring="$ring $!"; done
sleep 0.7
vde_probe send "$SW" --node 1 --to all --count 20 >/dev/null
wait $ring
for n in 2 5; do expect_output "node $n, beside node 1, gets its frames" "[=,]1:20," cat "$T/ring$n"; done
for n in 3 4; do check "node $n, across the ring, gets none" sh -c "grep -q ^frames= $T/ring$n && ! grep -Eq '[=,]1:' $T/ring$n"; done
ctl sw '{"v":1,"cmd":"heal"}' >/dev/null
expect_output "heal clears the ring" '"cut":null' ctl sw '{"v":1,"cmd":"status"}'

# 30% loss on node 2: 1000 frames, about 700 arrive.
expect_output "loss" '"ok":true' ctl sw '{"v":1,"cmd":"loss","node":2,"percent":30}'
vde_probe recv "$SW" --node 2 --seconds 3 > "$T/r2" & r2=$!
sleep 0.7
vde_probe send "$SW" --node 1 --to 2 --count 1000 >/dev/null
wait $r2 ${r3:-}
got=$(sed -n 's/.*from=.*1:\([0-9]*\),.*/\1/p' "$T/r2")
check "loss rate within bounds (${got:-0} of 1000 arrived, want 600-800)" test "${got:-0}" -ge 600 -a "${got:-0}" -le 800
