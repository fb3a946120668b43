#!/usr/bin/env bash
# rootfs-tools import: a qcow2 and a raw image of a root become VDIs of the
# cluster's plx store, with the cluster stopped (the store is created) and
# running (plx owns the VDI through the lock server); ssi-start --root boots
# every node as a clone of the snapshot and ssi-add clones the same. Bad
# images and bad --root values get one-line errors before anything boots.
. "$(dirname "$0")/lib.sh"
C=imp$$
use_cluster $C
store=$HOME/.ssiuml/clusters/$C/disk/cluster.plx

# The built root with a marker file, so a node shows which root it booted.
raw=$TEST_HOME/marked.img
cp --sparse=always "$SSI_ROOT_IMAGE" "$raw"
echo imported > "$TEST_HOME/marker"
debugfs -w -R "write $TEST_HOME/marker /etc/imported" "$raw" >/dev/null 2>&1
qemu-img convert -O qcow2 "$raw" "$TEST_HOME/marked.qcow2"

# Bad images: nothing reaches the store.
expect_output "a missing image" "^rootfs-tools: cannot read image $TEST_HOME/nope.img: No such file" \
  rootfs-tools import --cluster $C "$TEST_HOME/nope.img"
: > "$TEST_HOME/empty.img"
expect_output "an empty image" "empty.img is empty" rootfs-tools import --cluster $C "$TEST_HOME/empty.img"
echo "not a disk" > "$TEST_HOME/notes.txt"
expect_output "a file that is no image" "notes.txt holds no ext2/3/4 file system" \
  rootfs-tools import --cluster $C "$TEST_HOME/notes.txt"
head -c 1M /dev/urandom > "$TEST_HOME/noise.bin"
expect_output "an unknown format" "noise.bin holds no ext2/3/4 file system" \
  rootfs-tools import --cluster $C "$TEST_HOME/noise.bin"
printf 'QFI\373\0\0\0\3' > "$TEST_HOME/broken.qcow2"; head -c 504 /dev/zero | tr '\0' '\377' >> "$TEST_HOME/broken.qcow2"
expect_output "a damaged qcow2" "broken.qcow2 is not a disk image qemu-img can read" \
  rootfs-tools import --cluster $C "$TEST_HOME/broken.qcow2"
qemu-img create -q -f qcow2 "$TEST_HOME/huge.qcow2" 600G
expect_output "an image larger than a VDI" "huge.qcow2 is 614400 MiB, more than a VDI holds" \
  rootfs-tools import --cluster $C "$TEST_HOME/huge.qcow2"
expect_output "without qemu-img" "qemu-img is needed to read disk images: apt-get install qemu-utils" \
  env PATH=/nonexistent "$SSI_BIN/rootfs-tools" import --cluster $C "$raw"
expect_output "the cluster's own VDI names" "VDI root is the cluster's own" \
  rootfs-tools import --cluster $C --name root "$raw"
check "no store was made" test ! -e "$store"

# Stopped cluster: the import creates the store.
expect_output "a qcow2 import prints VDI@SNAP" "^marked@base$" rootfs-tools import --cluster $C "$TEST_HOME/marked.qcow2"
check "the store is sound" plx -s "$store" check

# Bad --root values are refused before any node boots.
expect_output "a bad VDI@SNAP" "'marked@' is not VDI@SNAP" ssi-start --cluster $C --root marked@ 2
expect_output "an unknown snapshot names the fix" \
  "no snapshot marked@nope in cluster $C's store; \`rootfs-tools import --cluster $C --name marked IMAGE\` makes one" \
  ssi-start --cluster $C --root marked@nope 2
echo DISK=ubd > "$SSIUML_CONF"
expect_output "DISK=ubd cannot boot a snapshot" "snapshot of the cluster's plx store, which DISK=ubd cannot boot" \
  ssi-start --cluster $C --root marked@base 2
echo ROOT=marked@nope > "$SSIUML_CONF"
expect_output "ROOT=VDI@SNAP is checked as --root is" "no snapshot marked@nope" ssi-add --cluster $C 1
: > "$SSIUML_CONF"
check "no cluster was left behind by the refused starts" test ! -e "$HOME/.ssiuml/run/$C/ssid.sock"

check "ssi-start --root marked@base 2" ssi-start --cluster $C --root marked@base 2
for n in 1 2; do
  expect_output "node$n runs the imported root" "^imported$" ssi-exec --cluster $C $n -- cat /etc/imported
done
check "node2 writes to its clone" ssi-exec --cluster $C 2 -- 'echo mine > /root/mine && sync'
expect_output "node1 does not see it" "No such file" ssi-exec --cluster $C 1 -- cat /root/mine
expect_output "ssi-status names the root" '"root": "marked@base"' ssi-status --cluster $C --json

# Running cluster: plx owns the new VDI through the lock server.
expect_output "a raw import while the cluster runs" "^rawroot@base$" \
  rootfs-tools import --cluster $C --name rawroot "$raw"
expect_output "importing again takes a new snapshot" "^rawroot@base-2$" \
  rootfs-tools import --cluster $C --name rawroot "$raw"
echo ROOT=rawroot@base > "$SSIUML_CONF"
expect_output "a running cluster keeps its root" "cluster $C runs root marked@base, not rawroot@base; ssi-stop it first" \
  ssi-add --cluster $C 3
: > "$SSIUML_CONF"
plxd_ctl=$HOME/.ssiuml/run/$C/disk/plxd.ctl
echo "{\"v\":1,\"cmd\":\"open\",\"vdi\":\"rawroot\",\"socket\":\"$HOME/.ssiuml/run/$C/disk/rawroot.sock\"}" |
  "$SSI_BIN/sockcat" "$plxd_ctl" >/dev/null
expect_output "a VDI plxd writes is not imported over; the lock server names its owner" \
  "plx vdi fill failed: VDI rawroot is open for writing by plxd-[0-9]+@" rootfs-tools import --cluster $C --name rawroot "$raw"
echo '{"v":1,"cmd":"close","vdi":"rawroot"}' | "$SSI_BIN/sockcat" "$plxd_ctl" >/dev/null
check "ssi-add 3 clones the same snapshot" ssi-add --cluster $C 3
expect_output "node3 runs the imported root" "^imported$" ssi-exec --cluster $C 3 -- cat /etc/imported
check "ssi-stop" ssi-stop --cluster $C
check "the store is sound after it all" plx -s "$store" check

# The built-in root again: the nodes cloned from the import are refused.
expect_output "a node disk from another root is refused" "node1's disk is a clone of marked@base, not of root@" \
  ssi-start --cluster $C 1
check "no cluster was left behind" test ! -e "$HOME/.ssiuml/run/$C/ssid.sock"
