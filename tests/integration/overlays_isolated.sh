#!/usr/bin/env bash
# DISK=ubd: each node writes to its own UML overlay: a file on node1 is not on
# node2, the shared ROOT never changes, and --fresh discards a node's changes.
. "$(dirname "$0")/lib.sh"
echo "DISK=ubd" > "$SSIUML_CONF"
C=ovl$$
use_cluster $C
root=$SSI_ROOT_IMAGE
before=$(sha256sum < "$root")

check "ssi-start 2" ssi-start --cluster $C 2
check "node1 writes a file" ssi-exec --cluster $C 1 -- 'echo mine > /root/only-on-node1; sync'
expect_output "node2 does not see it" "No such file" ssi-exec --cluster $C 2 -- cat /root/only-on-node1
check "ssi-stop" ssi-stop --cluster $C
check "the shared ROOT is unchanged" test "$(sha256sum < "$root")" = "$before"
check "each node has its own overlay" test -s "$HOME/.ssiuml/clusters/$C/disk/node1.cow" -a -s "$HOME/.ssiuml/clusters/$C/disk/node2.cow"

check "restart node1 alone" ssi-start --cluster $C 1
expect_output "node1 kept its file across ssi-stop" "^mine$" ssi-exec --cluster $C 1 -- cat /root/only-on-node1
check "ssi-rm 1" ssi-rm --cluster $C 1
check "ssi-add --fresh 1" ssi-add --cluster $C --fresh 1
expect_output "--fresh discarded node1's changes" "No such file" ssi-exec --cluster $C 1 -- cat /root/only-on-node1
check "ssi-stop" ssi-stop --cluster $C

# An overlay made over another ROOT is refused with the fix, not booted.
cp "$root" "$TEST_HOME/other.img"
touch -d '2001-01-01' "$TEST_HOME/other.img"
printf 'DISK=ubd\nROOT=%s\n' "$TEST_HOME/other.img" > "$SSIUML_CONF"
expect_output "an overlay over a different ROOT is refused" \
  "made over a different ROOT.*ssi-add --fresh 1" ssi-start --cluster $C 1
check "ssi-stop" ssi-stop --cluster $C
check "the shared ROOT is still unchanged" test "$(sha256sum < "$root")" = "$before"
