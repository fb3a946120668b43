#!/usr/bin/env bash
# Two clusters run at once without touching each other.
. "$(dirname "$0")/lib.sh"
A=alpha$$ B=beta$$
use_cluster $A
use_cluster $B
check "start cluster A with 2 nodes" ssi-start --cluster $A 2
check "start cluster B with 1 node" ssi-start --cluster $B 1
expect_output "A has its own ssid and nodes" "^2 +running" ssi-status --cluster $A
expect_output "B reports only its node" "^1 +running" ssi-status --cluster $B
check "B's node1 cannot reach A's node2 (separate switches)" \
  sh -c "! ssi-exec --cluster $B 1 -- ping -c 1 -W 1 node2 >/dev/null"
check "stop A" ssi-stop --cluster $A
check "B still answers after A stopped" ssi-exec --cluster $B 1 -- true
check "A's nodes are gone" test -z "$(pgrep -f "umid=$A-n")"
check "stop B" ssi-stop --cluster $B
