#!/bin/sh
# Builds a Debian 12 (bookworm) node root image with debootstrap from the
# host's configured Debian mirror: minbase, the packages asked for, our static
# guest binaries, the UML kernel's modules, and the busybox root's start-up
# (busybox init from Debian's busybox-static runs rootfs/etc/init.d/rcS and
# ssi-agent), so ssid boots it exactly like the default root; the files under
# debian/ go in last.
#
# Two caches under --cache: the debootstrapped tree, keyed by mirror and
# packages (so new guest binaries cost seconds), and the image itself, keyed
# by every input (so a repeated build is instant). Needs root to build the tree.
#
# Usage: mkroot-debian.sh -o OUT.img --guest-bin DIR [--packages A,B]
#          [--kernel KERNEL] [--mirror URL] [--sources FILE] [--cache DIR]
set -eu
usage="usage: mkroot-debian.sh -o OUT.img --guest-bin DIR [--packages A,B] [--kernel KERNEL] [--mirror URL] [--sources FILE] [--cache DIR]"
here=$(cd "$(dirname "$0")" && pwd)
suite=bookworm
# Bump when the debootstrap step below changes: it invalidates cached trees.
tree_version=1
# Enough for real software; --packages adds to these.
default_packages="iproute2,iputils-ping,procps,netcat-openbsd"
# What the start-up itself needs: busybox init, modprobe, the shell on the console.
base_packages="busybox-static,kmod,bash"

die() { echo "mkroot-debian: $*" >&2; exit 1; }
# A debootstrap that was killed leaves its mounts in the tree (in a container,
# bind mounts of the host's /dev nodes): unmount them before removing it.
remove_tree() {
  awk -v t="$1/" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$1"
}

out="" guest_bin="" packages="" kernel=${KERNEL:-linux.uml} mirror="" sources="" cache=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=${2:?$usage}; shift 2 ;;
    --guest-bin) guest_bin=${2:?$usage}; shift 2 ;;
    --packages) packages=${2?$usage}; shift 2 ;;
    --kernel) kernel=${2:?$usage}; shift 2 ;;
    --mirror) mirror=${2:?$usage}; shift 2 ;;
    --sources) sources=${2:?$usage}; shift 2 ;;
    --cache) cache=${2:?$usage}; shift 2 ;;
    *) die "$usage" ;;
  esac
done
[ -n "$out" ] && [ -n "$guest_bin" ] || die "$usage"
for binary in ssi-agent ssi-lock; do
  [ -x "$guest_bin/$binary" ] || die "no $binary in $guest_bin: build first (make) or pass --guest-bin DIR"
done
case "$packages" in *[!a-z0-9.+,-]*) die "bad --packages '$packages': Debian package names, comma-separated" ;; esac
all_packages=$(printf '%s' "$base_packages,$default_packages,$packages" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)
cache=${cache:-$(dirname "$out")/debian-cache}
mkdir -p "$cache" "$(dirname "$out")"
# Absolute: debootstrap wants them so, and the image is packed in another directory.
cache=$(cd "$cache" && pwd)
guest_bin=$(cd "$guest_bin" && pwd)
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

kernel_path=$(command -v "$kernel" || true)
[ -n "$kernel_path" ] || die "kernel $kernel not found: apt-get install user-mode-linux or set KERNEL"
release=$("$kernel_path" --version 2>/dev/null | head -1 || true)
[ -n "$release" ] || die "cannot tell the release of kernel $kernel_path ($kernel_path --version): set KERNEL to a UML kernel"
modules=/usr/lib/uml/modules/$release
[ -f "$modules/modules.dep" ] ||
  die "kernel $kernel_path ($release) has no modules in $modules: install its modules (user-mode-linux) or set KERNEL to a kernel that has them"

# The mirror of the host's Debian (deb822 .sources or a one-line sources.list).
mirror_from() {
  for file in "$@"; do
    [ -f "$file" ] || continue
    case "$file" in
      *.sources) awk 'tolower($1) == "uris:" { print $2; exit }' "$file" ;;
      *) awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; exit } }' "$file" ;;
    esac
  done | grep -v security | head -1
}
if [ -z "$mirror" ]; then
  if [ -n "$sources" ]; then
    mirror=$(mirror_from "$sources")
    where=$sources
  else
    mirror=$(mirror_from /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list)
    where="/etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
  fi
  [ -n "$mirror" ] || die "no Debian mirror in $where: add one (e.g. URIs: http://deb.debian.org/debian) or pass --mirror URL"
fi
mirror=${mirror%/}

# The inputs of each cache level. One tree is kept per package set.
packages_key=$(printf '%s' "$all_packages" | sha256sum | cut -c1-8)
tree_key=$packages_key-$(printf '%s\n' "$tree_version" "$suite" "$mirror" | sha256sum | cut -c1-16)
image_key=$(
  { printf '%s\n' "$tree_key" "$release"
    cat "$0" "$here/rootfs/etc/init.d/rcS" "$guest_bin/ssi-agent" "$guest_bin/ssi-lock" "$modules/modules.dep"
    (cd "$here/debian" && find . -type f | sort | xargs sha256sum); } | sha256sum | cut -c1-16)
# One build at a time per cache (make debian-root and a test may race).
exec 9> "$cache/.lock"
flock 9
if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$image_key" ]; then
  echo "mkroot-debian: $out is up to date ($all_packages)"
  exit 0
fi

tree=$cache/tree-$tree_key
if [ ! -f "$tree/.complete" ]; then
  command -v debootstrap >/dev/null || die "debootstrap is needed: apt-get install debootstrap"
  [ "$(id -u)" -eq 0 ] || die "debootstrap needs root: run as root (e.g. sudo)"
  fetch_ok() { wget -q -T 15 -t 1 -O /dev/null "$1" 2>/dev/null || curl -fsS -m 15 -o /dev/null "$1" 2>/dev/null; }
  fetch_ok "$mirror/dists/$suite/Release" ||
    die "Debian mirror $mirror is unreachable (no dists/$suite/Release): check the network or pass --mirror URL"
  for old in "$cache/tree-$packages_key"-*; do
    [ ! -e "$old" ] || remove_tree "$old"
  done
  log=$cache/debootstrap.log
  mkdir -p "$cache/debs"
  echo "mkroot-debian: debootstrap $suite from $mirror with $all_packages (log: $log)"
  if ! debootstrap --variant=minbase --include="$all_packages" --cache-dir="$cache/debs" \
        "$suite" "$tree.tmp" "$mirror" > "$log" 2>&1; then
    remove_tree "$tree.tmp"
    missing=$(sed -n "s/.*Couldn't find these debs: *//p" "$log" | head -1)
    [ -z "$missing" ] || die "no package $missing in $suite on $mirror: check --packages"
    die "debootstrap failed: $(grep -E '^(E|W): ' "$log" | tail -1) (full log: $log)"
  fi
  # Nothing in the guest reaches a mirror or DNS: drop what only apt and
  # the host's resolver need.
  rm -rf "$tree.tmp"/var/cache/apt/*.bin "$tree.tmp"/var/cache/apt/archives/*.deb \
         "$tree.tmp"/var/lib/apt/lists/* "$tree.tmp"/etc/resolv.conf
  touch "$tree.tmp/.complete"
  mv "$tree.tmp" "$tree"
fi

mke2fs=$(command -v mke2fs || echo /sbin/mke2fs)
[ -x "$mke2fs" ] || die "mke2fs is needed: apt-get install e2fsprogs"
staging=$(mktemp -d "${TMPDIR:-/tmp}/ssiuml-debian.XXXXXX")
trap 'rm -rf "$staging" "$out.tmp"' EXIT
cp -a "$tree/." "$staging/"
rm -f "$staging/.complete"
cd "$staging"
# Paths through the merged-usr links (sbin -> usr/sbin, lib -> usr/lib).
install -m 0755 "$guest_bin/ssi-agent" "$guest_bin/ssi-lock" usr/sbin/
mkdir -p usr/lib/modules etc/ssi
cp -R "$modules" "usr/lib/modules/$release"
install -m 0755 "$here/rootfs/etc/init.d/rcS" etc/ssi/rcS
# The overlay: busybox init's inittab, etcd-demo.
cp -R --preserve=mode "$here/debian/." .
ln -sf /bin/busybox usr/sbin/init

# Room for what the nodes write into their copy-on-write disks: a quarter
# more than the files, plus 256 MiB; the image file is sparse.
used_mib=$(du -sm . | cut -f1)
size_mib=$((used_mib + used_mib / 4 + 256))
inodes=$(($(find . | wc -l) * 2 + 16384))
cd /
rm -f "$out.tmp"
truncate -s "${size_mib}M" "$out.tmp"  # mke2fs says "Creating regular file" otherwise
# 4 KiB blocks: vhost-user disks have a 4096-byte logical block size.
"$mke2fs" -q -t ext4 -b 4096 -N "$inodes" -L ssiroot -d "$staging" "$out.tmp"
mv "$out.tmp" "$out"
echo "$image_key" > "$out.key"
echo "mkroot-debian: built $out (${size_mib} MiB ext4, Debian $suite, $all_packages)"
