#!/usr/bin/env bash
# ssi-test runs the shipped scenarios end to end (etcd.scn, which needs the
# Debian root, in debian_etcd.sh); ssi-nemesis applies and heals random
# faults; bad scenarios are refused by line; an interrupted run heals what it
# did and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
SCENARIOS=$(cd "$(dirname "$0")/../scenarios" && pwd)

for s in "$SCENARIOS"/*.scn; do
  [ "$(basename "$s")" != etcd.scn ] || continue  # needs the Debian root: debian_etcd.sh runs it
  out=$(ssi-test --cluster sc$$ "$s" 2>&1); rc=$?
  use_cluster sc$$
  if [ $rc -eq 0 ]; then log "ok: scenario $(basename "$s")"; else fail "scenario $(basename "$s"): $out"; fi
done

# Bad scenarios name the line.
printf 'nodes 2\nsetup 1: true\nstep crash 7\ncheck 1: true exit 0\n' > "$TEST_HOME/bad.scn"
expect_output "a bad target names its line" "bad.scn:3: bad target '7'" ssi-test "$TEST_HOME/bad.scn"
printf 'nodes 2\ncheck 3: true exit 0\n' > "$TEST_HOME/unknown.scn"
expect_output "an unknown node names its line" "unknown.scn:2: node 3 is not in this scenario" ssi-test "$TEST_HOME/unknown.scn"
expect_output "a missing scenario file" "cannot read scenario $TEST_HOME/none.scn" ssi-test "$TEST_HOME/none.scn"

# A scenario whose check fails reports it, with the console, and exits 1.
printf 'nodes 1\ncheck 1: echo apple == pear\n' > "$TEST_HOME/failing.scn"
out=$(ssi-test --cluster fl$$ "$TEST_HOME/failing.scn" 2>&1); rc=$?
use_cluster fl$$
check "a failing check exits 1" test $rc -eq 1
check "the report names the failing line" grep -q "FAIL  line 2 " <<<"$out"
check "and says why" grep -q "output was 'apple'" <<<"$out"
check "the report has the node's console" grep -q "console of node 1" <<<"$out"
check "the closing line counts" grep -q "^0 passed, 1 failed$" <<<"$out"

# Interrupted mid-run: the network and disk faults are healed and the
# cluster stopped. (Not a pause: a node paused past the lock server's expiry
# is fenced, as it should be.)
printf 'nodes 2\nstep delay 1 30ms\nstep disk-stall 2\nstep wait 60s\ncheck 1: true exit 0\n' > "$TEST_HOME/long.scn"
ssi-test --cluster ab$$ "$TEST_HOME/long.scn" > "$TEST_HOME/long.out" 2>&1 &
tester=$!
use_cluster ab$$
for _ in $(seq 100); do grep -q '"disk_stall"' "$HOME/.ssiuml/clusters/ab$$/events.jsonl" 2>/dev/null && break; sleep 0.2; done
kill -INT $tester
wait $tester; rc=$?
check "an interrupted run exits 130" test $rc -eq 130
check "it reports the abort" grep -q "ABORTED  interrupted" "$TEST_HOME/long.out"
check "with every node's console, as an aborted run names no node" \
  sh -c "grep -q 'console of node 1' '$TEST_HOME/long.out' && grep -q 'console of node 2' '$TEST_HOME/long.out'"
check "it healed the network" grep -q '"event":"net_heal"' "$HOME/.ssiuml/clusters/ab$$/events.jsonl"
check "and the disk" grep -q '"event":"disk_none"' "$HOME/.ssiuml/clusters/ab$$/events.jsonl"
check "and stopped its cluster" test ! -e "$HOME/.ssiuml/run/ab$$"

# ssi-nemesis: faults and heals on a running cluster.
N=nm$$
use_cluster $N
check "ssi-start 3" ssi-start --cluster $N 3
check "ssi-nemesis runs crash and pause faults" \
  ssi-nemesis --cluster $N --seed 3 --count 3 --interval 300ms crash pause
check "every node runs again afterwards" test "$(ssi-status --cluster $N | grep -c ' running ')" -eq 3
check "its faults are events" grep -q '"event":"nemesis_' "$HOME/.ssiuml/clusters/$N/events.jsonl"
check "ssi-nemesis runs network and disk faults" \
  ssi-nemesis --cluster $N --seed 4 --count 3 --interval 300ms isolate delay disk-stall disk-error
check "every node still runs" test "$(ssi-status --cluster $N | grep -c ' running ')" -eq 3
check "the network is healed" ssi-exec --cluster $N 1 -- ping -c 1 -W 2 node2
check "and the disks" ssi-exec --cluster $N 2 -- 'echo ok > /root/after-faults && sync'
check "ssi-nemesis runs a majorities ring" ssi-nemesis --cluster $N --seed 5 --count 1 --interval 300ms ring
check "the ring is an event" grep -q '"event":"net_ring"' "$HOME/.ssiuml/clusters/$N/events.jsonl"
check "every node still runs after it" test "$(ssi-status --cluster $N | grep -c ' running ')" -eq 3
expect_output "an unknown fault is refused" "unknown fault 'meteor'" ssi-nemesis --cluster $N meteor
check "ssi-stop" ssi-stop --cluster $N
