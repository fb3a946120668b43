#!/bin/sh
# Builds the lock node initramfs (INITRD_MEMEXP) without root privileges:
# busybox, the static lockserver and an /init (lock-init) that brings up
# eth0 at SUBNET.253 and runs the lock server on the console. No disk.
# Usage: mkinitrd-lock.sh OUTPUT LOCKSERVER_BINARY
set -eu
usage="usage: mkinitrd-lock.sh OUTPUT LOCKSERVER_BINARY"
out=${1:?$usage}
lockserver=${2:?$usage}
here=$(cd "$(dirname "$0")" && pwd)

[ -x "$lockserver" ] ||
  { echo "mkinitrd-lock: no lockserver binary at $lockserver: build the lockserver-guest target" >&2; exit 1; }
file -L "$lockserver" | grep -Eq 'statically linked|static-pie linked' ||
  { echo "mkinitrd-lock: $lockserver is not static: give the lockserver-guest build" >&2; exit 1; }
busybox=$(command -v busybox || echo /bin/busybox)
file -L "$busybox" | grep -q 'statically linked' ||
  { echo "mkinitrd-lock: a static busybox is needed: apt-get install busybox-static" >&2; exit 1; }

staging=$(mktemp -d "${TMPDIR:-/tmp}/ssiuml-lock-initrd.XXXXXX")
trap 'rm -rf "$staging" "$out.tmp"' EXIT
mkdir -p "$staging/bin" "$staging/dev" "$staging/proc" "$staging/sys" "$staging/tmp"
cp "$busybox" "$staging/bin/busybox"
for applet in sh mount cat echo ip poweroff sleep ps; do
  ln -s busybox "$staging/bin/$applet"
done
strip --strip-debug -o "$staging/bin/lockserver" "$lockserver" 2>/dev/null || cp "$lockserver" "$staging/bin/lockserver"
install -m 0755 "$here/lock-init" "$staging/init"
(cd "$staging" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -9 > "$out.tmp")
mv "$out.tmp" "$out"
trap 'rm -rf "$staging"' EXIT
echo "mkinitrd-lock: built $out"
