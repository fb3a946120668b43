#!/bin/sh
# Builds the node initramfs for DISK=plx without root privileges: busybox,
# the virtio_blk module of the UML kernel, and an /init that mounts the
# vhost-user disk (/dev/vda) and switches to it.
# Usage: mkinitrd.sh OUTPUT KERNEL [MODULES_DIR]
set -eu
out=${1:?usage: mkinitrd.sh OUTPUT KERNEL [MODULES_DIR]}
kernel=${2:?usage: mkinitrd.sh OUTPUT KERNEL [MODULES_DIR]}
here=$(cd "$(dirname "$0")" && pwd)

kernel_path=$(command -v "$kernel" || true)
[ -n "$kernel_path" ] || { echo "mkinitrd: kernel $kernel not found: apt-get install user-mode-linux" >&2; exit 1; }
release=$("$kernel_path" --version 2>/dev/null | head -1)
modules=${3:-/usr/lib/uml/modules/$release}
module=$(find "$modules" -name virtio_blk.ko 2>/dev/null | head -1)
if [ -z "$module" ]; then
  echo "mkinitrd: no virtio_blk.ko for kernel $release under $modules: install the kernel's" \
       "modules (user-mode-linux) or pass MODULES_DIR" >&2
  exit 1
fi
busybox=$(command -v busybox || echo /bin/busybox)
file -L "$busybox" | grep -q 'statically linked' ||
  { echo "mkinitrd: a static busybox is needed: apt-get install busybox-static" >&2; exit 1; }

staging=$(mktemp -d "${TMPDIR:-/tmp}/ssiuml-initrd.XXXXXX")
trap 'rm -rf "$staging" "$out.tmp"' EXIT
mkdir -p "$staging/bin" "$staging/dev" "$staging/proc" "$staging/sys" "$staging/newroot" "$staging/lib"
cp "$busybox" "$staging/bin/busybox"
for applet in sh mount umount insmod switch_root sleep cat poweroff echo; do
  ln -s busybox "$staging/bin/$applet"
done
cp "$module" "$staging/lib/virtio_blk.ko"
install -m 0755 "$here/initrd-init" "$staging/init"
(cd "$staging" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -9 > "$out.tmp")
mv "$out.tmp" "$out"
trap 'rm -rf "$staging"' EXIT
echo "mkinitrd: built $out for kernel $release"
