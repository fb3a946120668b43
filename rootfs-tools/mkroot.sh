#!/bin/sh
# Builds the default node root image without root privileges: busybox-static,
# our static guest binaries (and kernel modules, *.ko) from GUEST_BIN_DIR and
# the files under rootfs/, packed into ext4 by mke2fs -d (which needs no
# mount and no loop device).
# Usage: mkroot.sh OUTPUT.img GUEST_BIN_DIR [SIZE_MIB]
set -eu
out=${1:?usage: mkroot.sh OUTPUT.img GUEST_BIN_DIR [SIZE_MIB]}
guest_bin=${2:?usage: mkroot.sh OUTPUT.img GUEST_BIN_DIR [SIZE_MIB]}
size_mib=${3:-256}
here=$(cd "$(dirname "$0")" && pwd)

busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
  for candidate in /bin/busybox /usr/bin/busybox; do
    if [ -x "$candidate" ] && file -L "$candidate" | grep -q 'statically linked'; then
      busybox=$candidate
    fi
  done
fi
if [ -z "$busybox" ] || ! file -L "$busybox" | grep -q 'statically linked'; then
  echo "mkroot: a static busybox is needed: apt-get install busybox-static" >&2
  exit 1
fi
mke2fs=$(command -v mke2fs || echo /sbin/mke2fs)
[ -x "$mke2fs" ] || { echo "mkroot: mke2fs is needed: apt-get install e2fsprogs" >&2; exit 1; }

staging=$(mktemp -d "${TMPDIR:-/tmp}/ssiuml-root.XXXXXX")
trap 'rm -rf "$staging" "$out.tmp"' EXIT
cd "$staging"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev run tmp root var/log mnt
chmod 1777 tmp
cp "$busybox" bin/busybox
# One symlink per applet, as `busybox --install -s` would make at boot.
for applet in $("$busybox" --list-full); do
  [ -e "$applet" ] || ln -s /bin/busybox "$applet"
done
cp -R "$here/rootfs/." .
mkdir -p lib/modules
for file in "$guest_bin"/*; do
  case "$file" in
    *.ko) install -m 0644 "$file" "lib/modules/$(basename "$file")" ;;
    *) install -m 0755 "$file" "sbin/$(basename "$file")" ;;
  esac
done
chmod 0755 etc/init.d/rcS

rm -f "$out.tmp"
# 4 KiB blocks: vhost-user disks have a 4096-byte logical block size.
"$mke2fs" -q -t ext4 -b 4096 -L ssiroot -E root_owner=0:0 -d "$staging" "$out.tmp" "${size_mib}M"
mv "$out.tmp" "$out"
trap 'rm -rf "$staging"' EXIT
echo "mkroot: built $out (${size_mib} MiB ext4)"
