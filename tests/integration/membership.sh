#!/usr/bin/env bash
# The seed behaviour: after ssi-rm 3 (a power cut nobody is told about),
# nodes 1 and 2 see node 3 leave through the lock server's heartbeats; a node
# cut off from the majority is fenced before its lock goes to anyone else;
# ssi-lock works in nodes and on the host against the cluster's lock server.
# With SSI_LOCK_NODE=1 the same checks run against a lock node's lock server.
. "$(dirname "$0")/lib.sh"
C=mb$$
use_cluster $C
start_options=() lock_ip=10.77.0.254
if [ -n "${SSI_LOCK_NODE:-}" ]; then start_options=(--lock-node) lock_ip=10.77.0.253; fi
members() { ssi-exec --cluster $C "$1" -- 'tail -n +2 /run/ssi/members | tr "\n" " "'; }
# wait_members NODE "1 2 " SECONDS: true once NODE's member list is exactly that.
wait_members() {
  local end=$(( $(date +%s) + $3 ))
  while [ "$(date +%s)" -le $end ]; do
    [ "$(members "$1")" = "$2" ] && return 0
    sleep 0.2
  done
  return 1
}

check "ssi-start 3" ssi-start --cluster $C "${start_options[@]}" 3
check "every node sees all three" wait_members 1 "1 2 3 " 10
check "ssi-status shows membership" test "$(ssi-status --cluster $C | grep -c ' member ')" -eq 3
check "a node takes a lock" ssi-exec --cluster $C 1 -- 'ssi-lock -m EX job -- sh -c "test -n \"\$SSI_LOCK_TOKEN\""'
check "the host takes the same lock" ssi-lock --cluster $C -m EX job -- true
expect_output "ssi-lock status lists the members" "members: 1 2 3" ssi-lock --cluster $C status

# Power cut: nobody is told; detection takes the expiry (5 x 200 ms) and a
# little; the bound here is generous because CI machines are slow.
check "ssi-rm 3" ssi-rm --cluster $C 3
check "node 1 sees node 3 leave" wait_members 1 "1 2 " 5
check "so does node 2" wait_members 2 "1 2 " 5
check "node 1's console says so" grep -q "ssi: node 3 left the cluster" "$HOME/.ssiuml/clusters/$C/log/node1.console"
# ssid learns it by polling the lock server, a moment after the nodes do.
left_event() {
  for _ in $(seq 50); do grep -q '"event":"member_left"' "$HOME/.ssiuml/clusters/$C/events.jsonl" && return 0; sleep 0.1; done
  return 1
}
check "ssid records it" left_event
check "node 3 comes back" ssi-add --cluster $C 3
check "and rejoins" wait_members 1 "1 2 3 " 10

# Node 2 holds a lock and is cut off from the majority (and the lock server):
# it is fenced, and only then does node 1 get the lock.
ssi-exec --cluster $C 2 -- 'ssi-lock -m EX disk -- sleep 600' >/dev/null 2>&1 &
holder=$!
for _ in $(seq 50); do ssi-lock --cluster $C status | grep -q 'holder name=disk' && break; sleep 0.2; done
check "node 2 holds the lock" sh -c "ssi-lock --cluster $C status | grep -q 'holder name=disk'"
check "isolate node 2" ssi-net --cluster $C isolate 2
check "node 1 gets the lock once node 2 is fenced" \
  ssi-exec --cluster $C 1 -- 'ssi-lock -m EX -w 10000 disk -- true'
events="$HOME/.ssiuml/clusters/$C/events.jsonl"
fenced=$(grep -n '"event":"node_fenced","node":2' "$events" | cut -d: -f1 | head -1)
check "node 2 was fenced" test -n "$fenced"
check "and is down" sh -c "ssi-status --cluster $C | grep -q '^2 .*crashed .*fenced'"
wait $holder 2>/dev/null
check "heal" ssi-net --cluster $C heal

# Bad input: a guest cannot open a session as another node.
expect_output "a forged identity is refused" "refused" ssi-exec --cluster $C 1 -- \
  'printf "SSIL/1 HELLO id=1 node=3 boot=00000000000000000000000000000000 name=x\n" | nc -w 5 '$lock_ip' 7400'

check "ssi-stop" ssi-stop --cluster $C
finish
