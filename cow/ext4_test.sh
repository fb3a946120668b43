#!/bin/sh
# plx with a real file system: fill a root VDI from an ext4 image (raw and
# qcow2), validate it, clone it, change the clone, check the exported clone
# with e2fsck -n, commit the clone and check again.
set -eu
PLX=${1:?usage: ext4_test.sh PATH/TO/plx}
export PATH="$PATH:/usr/sbin:/sbin"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
export PLX_STORE="$dir/store.plx"
fail() { echo "ext4_test: $*" >&2; exit 1; }

mkdir -p tree/etc tree/data
echo "node image" > tree/etc/motd
head -c 3000000 /dev/urandom > tree/data/blob
mke2fs -q -t ext4 -d tree -F root.img 64M >/dev/null
qemu-img convert -f raw -O qcow2 root.img root.qcow2

"$PLX" mkfs "$PLX_STORE"
"$PLX" vdi create root
"$PLX" vdi fill root root.img
"$PLX" vdi validate root root.img
"$PLX" vdi create fromqcow
"$PLX" vdi fill fromqcow root.qcow2
"$PLX" vdi validate fromqcow root.img
"$PLX" vdi snap root base
"$PLX" vdi create node1 --from root@base

# Change the clone: a file added with debugfs to a copy, filled back in.
"$PLX" vdi export node1 node1.img
e2fsck -fn node1.img >/dev/null 2>&1 || fail "the exported clone does not pass e2fsck"
echo "written on node1" > note
debugfs -w -R "write note note" node1.img >/dev/null 2>&1
"$PLX" vdi fill node1 node1.img
"$PLX" vdi validate node1 node1.img
"$PLX" vdi validate root root.img
"$PLX" vdi export node1 again.img
e2fsck -fn again.img >/dev/null 2>&1 || fail "the changed clone does not pass e2fsck"
debugfs -R "cat note" again.img 2>/dev/null | grep -q "written on node1" || fail "the clone lost its change"

"$PLX" vdi du
"$PLX" vdi commit node1
"$PLX" vdi validate root node1.img
"$PLX" vdi validate node1 node1.img
"$PLX" vdi validate root@base root.img
"$PLX" vdi export root merged.img
e2fsck -fn merged.img >/dev/null 2>&1 || fail "the committed root does not pass e2fsck"
"$PLX" vdi du --json | grep -q '"name":"node1","private_blocks":0' || fail "node1 is not empty after commit"
"$PLX" vdi delete fromqcow
"$PLX" gc
"$PLX" check
"$PLX" vdi tree | grep -q '"root" -> "node1"' || fail "vdi tree lacks root -> node1"
"$PLX" vdi list --json | grep -q '"origin":"root@node1-commit2"' || fail "node1 is not a clone of the commit"
echo "ext4_test: ok"
