#!/usr/bin/env bash
# Boot admission: with BOOT_PARALLEL=1 a second and third node wait their
# turn (state queued) instead of starving the running ones; a queued node can
# be removed before it boots, and the others still come up.
. "$(dirname "$0")/lib.sh"
C=queue$$
use_cluster $C
echo "BOOT_PARALLEL=1" > "$SSIUML_CONF"

check "ssi-start 1 boots the first node" ssi-start --cluster $C 1
ssi-add --cluster $C 2 3 4 > "$TEST_HOME/add.out" 2>&1 &
adder=$!
for _ in $(seq 50); do ssi-status --cluster $C 2>/dev/null | grep -Eq '^4 +queued' && break; sleep 0.1; done
expect_output "nodes beyond the limit are queued" "^3 +queued" ssi-status --cluster $C
expect_output "one node boots at a time" "^2 +starting" ssi-status --cluster $C
expect_output "exec on a queued node says to wait" "node 4 is queued to boot" ssi-exec --cluster $C 4 -- true
expect_output "adding a queued node again is an error" "node 3 is already queued to boot" ssi-add --cluster $C 3
expect_output "a queued node can be removed" "node 4: removed" ssi-rm --cluster $C 4
wait $adder
check "ssi-add reports the removed node as not booted" grep -q "node 4 was removed before its turn to boot" "$TEST_HOME/add.out"
expect_output "the queued node boots in its turn" "^3 +running" ssi-status --cluster $C
expect_output "node2 is running" "^2 +running" ssi-status --cluster $C
check "the removed node never started" \
  test -z "$(grep '"event":"node_started","node":4' "$HOME/.ssiuml/clusters/$C/events.jsonl")"
events=$HOME/.ssiuml/clusters/$C/events.jsonl
line_of() { grep -n "$1" "$events" | head -1 | cut -d: -f1; }
check "node3 started only after node2 was up" \
  test "$(line_of '"event":"node_started","node":3')" -gt "$(line_of '"event":"node_ready".*"node":2,')"
finish
