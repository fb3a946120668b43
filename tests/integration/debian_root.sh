#!/usr/bin/env bash
# The Debian 12 root from rootfs-tools/mkroot-debian.sh, with etcd-server (and
# etcd-client, as debian_etcd.sh builds it, so the two share one image):
# built once and then reused from the build directory's cache, it boots nodes
# exactly like the busybox root (ssid sees the agent, names, addresses), and
# real Debian software runs in it, on plx disks (initramfs, switch_root) and
# on ubd.
. "$(dirname "$0")/lib.sh"
build=$(cd "$SSI_BIN/.." && pwd)
image=$build/share/ssiuml/debian-etcd.img
C=deb$$
use_cluster $C

check "mkroot-debian builds or reuses a Debian root with etcd" \
  nice -n 10 "$(dirname "$0")/../../rootfs-tools/mkroot-debian.sh" -o "$image" \
  --guest-bin "$build/guest-bin" --cache "$build/debian-cache" --packages etcd-server,etcd-client
echo "ROOT=$image" >> "$SSIUML_CONF"

check "ssi-start 2 from the Debian root" ssi-start --cluster $C 2
for n in 1 2; do
  expect_output "node$n runs Debian 12" "^12\.[0-9]+$" ssi-exec --cluster $C $n -- cat /etc/debian_version
  expect_output "node$n has its name" "^node$n$" ssi-exec --cluster $C $n -- hostname
done
check "node1 pings node2 by name" ssi-exec --cluster $C 1 -- ping -c 2 -W 5 node2
check "node2 pings node1 by name" ssi-exec --cluster $C 2 -- ping -c 2 -W 5 node1
expect_output "etcd runs" "^etcd Version: 3\." ssi-exec --cluster $C 1 -- etcd --version
expect_output "ssi-lock works inside" "^held [0-9]+$" \
  ssi-exec --cluster $C 2 -- 'ssi-lock -m EX job -- sh -c "echo held \$SSI_LOCK_TOKEN"'
expect_output "modprobe finds the kernel's modules" "^loop " \
  ssi-exec --cluster $C 1 -- 'modprobe loop && grep "^loop " /proc/modules'
check "ssi-stop" ssi-stop --cluster $C

# DISK=ubd: the kernel mounts the image itself and runs its /sbin/init.
U=debu$$
use_cluster $U
echo "DISK=ubd" >> "$SSIUML_CONF"
check "ssi-start 1 from the Debian root with DISK=ubd" ssi-start --cluster $U 1
expect_output "it runs Debian 12 from ubda" "^ubda .*12\.[0-9]+$" \
  ssi-exec --cluster $U 1 -- 'echo $(ls /sys/block) $(cat /etc/debian_version)'
check "ssi-stop" ssi-stop --cluster $U
