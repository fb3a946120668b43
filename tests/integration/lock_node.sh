#!/usr/bin/env bash
# INITRD_MEMEXP: the lock server runs in a UML lock node on the cluster's
# switch, as SSI/UML's memexpd did. It has a console (ssi-status, the
# dashboard) but is no cluster node, and no lock server runs on the host.
# The shipped lock scenarios pass as with the host's lock server
# (integration:membership_lock_node runs membership.sh against it too). A
# lock node that dies is an event, one that panics while it boots is booted
# once more; bad settings are refused in one line.
. "$(dirname "$0")/lib.sh"
build=$(cd "$SSI_BIN/.." && pwd)
initrd=$build/share/ssiuml/lock-initrd.gz
SCENARIOS=$(cd "$(dirname "$0")/../scenarios" && pwd)
C=ln$$
use_cluster $C
printf 'INITRD_MEMEXP=%s\nMAX_NODES=253\n' "$initrd" >> "$SSIUML_CONF"
state=$HOME/.ssiuml/clusters/$C

check "ssi-start 2 with INITRD_MEMEXP" ssi-start --cluster $C 2
check "no lock server runs on the host" sh -c "! pgrep -f '^$SSI_BIN/lockserver' >/dev/null"
expect_output "ssi-status shows the lock node" "^lock node: running at 10\.77\.0\.253, pid [0-9]+" \
  ssi-status --cluster $C
expect_output "its console shows the lock server" "lock server at 10\.77\.0\.253:7400" cat "$state/log/lock-node.console"
expect_output "the nodes are members" "members: 1 2$" ssi-lock --cluster $C status
expect_output "a node locks through it" "^held [0-9]+$" \
  ssi-exec --cluster $C 2 -- 'ssi-lock -m EX job -- sh -c "echo held \$SSI_LOCK_TOKEN"'
check "the host locks through it" ssi-lock --cluster $C -m EX job -- true
expect_output "node 253 is refused: that is the lock node's address" "lock node" ssi-add --cluster $C 253
expect_output "ssi-rm cannot reach the lock node" "out of range" ssi-rm --cluster $C 255
check "ssi-stop" ssi-stop --cluster $C
check "the lock node is gone" sh -c "! pgrep -f 'umid=$C-n25[5]' >/dev/null"

# The scenarios that check locks and membership under faults, as ssi-test runs them.
out=$(ssi-test --cluster ls$$ "$SCENARIOS/partition-heal.scn" "$SCENARIOS/crash-and-rejoin.scn" 2>&1); rc=$?
use_cluster ls$$
if [ $rc -eq 0 ]; then log "ok: partition-heal and crash-and-rejoin pass with the lock node"; else fail "scenarios: $out"; fi

# The lock node dies under a running cluster: an event and an error, and
# ssi-stop still takes everything down.
K=lk$$
use_cluster $K
check "ssi-start 1 --lock-node (without INITRD_MEMEXP)" env SSIUML_CONF=/dev/null ssi-start --cluster $K --lock-node 1
pkill -9 -f "umid=$K-n255"
for _ in $(seq 300); do grep -q lock_node_exited "$HOME/.ssiuml/clusters/$K/events.jsonl" && break; sleep 0.1; done
check "its death is an event" grep -q '"event":"lock_node_exited"' "$HOME/.ssiuml/clusters/$K/events.jsonl"
check "ssi-stop after it" ssi-stop --cluster $K

# Bad settings.
echo "INITRD_MEMEXP=$TEST_HOME/none.gz" > "$TEST_HOME/missing.conf"
expect_output "a missing INITRD_MEMEXP names the fix" "INITRD_MEMEXP .*none.gz does not exist" \
  env SSIUML_CONF="$TEST_HOME/missing.conf" ssi-start --cluster bad$$ 1
printf 'INITRD_MEMEXP=%s\nCIDEV=/tmp/elsewhere\n' "$initrd" > "$TEST_HOME/cidev.conf"
expect_output "a lock node on another switch is refused" "needs the cluster's own switch" \
  env SSIUML_CONF="$TEST_HOME/cidev.conf" ssi-start --cluster bad$$ 1
printf '#!/bin/sh\necho "not a lock server"\n' > "$TEST_HOME/init"
chmod +x "$TEST_HOME/init"
(cd "$TEST_HOME" && echo init | cpio -o -H newc 2>/dev/null | gzip > "$TEST_HOME/broken.gz")
echo "INITRD_MEMEXP=$TEST_HOME/broken.gz" > "$TEST_HOME/broken.conf"
expect_output "an initramfs that runs no lock server fails the start, naming the console" "lock-node.console" \
  env SSIUML_CONF="$TEST_HOME/broken.conf" ssi-start --cluster br$$ 1
use_cluster br$$
check "its kernel panicked, and it was booted once more" \
  test "$(grep -c '"event":"node_boot_retry","node":255' "$HOME/.ssiuml/clusters/br$$/events.jsonl")" -eq 1
finish
