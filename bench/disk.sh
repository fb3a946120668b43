#!/usr/bin/env bash
# Disk benchmark: the anchor workload (bench/guest-disk.sh: 512 MiB sequential
# write and read, 4 KiB O_DIRECT writes and reads) inside a node, on a data
# disk served by each back end in turn, in one run: plxd serving a clone in
# a plx store, ubd COW over a base image, qemu-storage-daemon raw, and
# qemu-storage-daemon with a qcow2 overlay over the same base.
# Usage: bench/disk.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=${SSI_ROOT_IMAGE:-$here/build/share/ssiuml/root.img}
bin=${SSI_BIN:-$here/build/bin}
work=$(mktemp -d /tmp/ssid.XXXXXX)
cleanup() {
  pkill -9 -f "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cp "$here/bench/guest-disk.sh" "$work/guest-disk.sh"
truncate -s 600M "$work/base.img"

# run_guest NAME DEVICE [UML ARGS...]: boots a node whose console runs the
# workload on DEVICE and prints its RESULT line.
run_guest() {
  local name=$1 device=$2
  shift 2
  local prep=""
  case "$device" in /dev/vd*) prep="insmod /lib/modules/virtio_blk.ko; sleep 1;" ;; esac
  # The console shell reads the commands; the feeder outlives the guest, so
  # it is a process substitution nobody waits for.
  timeout 600 linux.uml umid="disk-$name-$$" uml_dir="$work/uml" mem=256M \
      ubd0="$work/$name-root.cow,$root" root=/dev/ubda rw con=null ssl=null con0=fd:0,fd:1 \
      ssi.node=1 ssi.cluster=bench ssi.subnet=10.77.0 "$@" > "$work/$name.console" 2>&1 \
      < <(sleep 4; echo "$prep mount -t hostfs none /mnt -o $work && sh /mnt/guest-disk.sh $device > /mnt/$name.result 2>&1; poweroff -f"; sleep 600) || true
  grep -h RESULT "$work/$name.result" 2>/dev/null || echo "RESULT failed (see console)"
}

qsd_start() {  # NAME BLOCKDEV-ARGS...: serves a disk at $work/NAME.sock
  local name=$1
  shift
  qemu-storage-daemon "$@" --export type=vhost-user-blk,id=e,node-name=disk,addr.type=unix,addr.path="$work/$name.sock",writable=on \
    > "$work/$name.qsd.log" 2>&1 &
  for _ in $(seq 100); do [ -S "$work/$name.sock" ] && return 0; sleep 0.05; done
  echo "qemu-storage-daemon did not start: $(cat "$work/$name.qsd.log")" >&2
  return 1
}

declare -A results
# plxd: a clone of an empty 600 MiB base, as a node's disk is a clone of root.
"$bin/plx" mkfs "$work/store.plx" >/dev/null
"$bin/plx" -s "$work/store.plx" vdi create base --size 600M >/dev/null
"$bin/plx" -s "$work/store.plx" vdi snap base empty >/dev/null
"$bin/plx" -s "$work/store.plx" vdi create data --from base@empty >/dev/null
"$bin/plxd" --store "$work/store.plx" --control "$work/plxd.ctl" > "$work/plxd.log" 2>&1 &
for _ in $(seq 100); do [ -S "$work/plxd.ctl" ] && break; sleep 0.05; done
echo '{"v":1,"cmd":"open","vdi":"data","socket":"'"$work"'/plx.sock"}' | "$bin/sockcat" "$work/plxd.ctl" 500 >/dev/null 2>&1 || true  # plxd keeps the connection open
results[plxd-clone]=$(run_guest plxd /dev/vda virtio_uml.device="$work/plx.sock:2")
pkill -f "plxd --store $work" || true; wait 2>/dev/null

results[ubd-cow]=$(run_guest ubd /dev/ubdb ubd1="$work/data.cow,$work/base.img")

cp --sparse=always "$work/base.img" "$work/raw.img"
qsd_start raw --blockdev driver=file,node-name=disk,filename="$work/raw.img"
results[qsd-raw]=$(run_guest qsdraw /dev/vda virtio_uml.device="$work/raw.sock:2")
pkill -f "addr.path=$work/raw.sock" || true; wait 2>/dev/null

qemu-img create -q -f qcow2 -b "$work/base.img" -F raw "$work/overlay.qcow2"
qsd_start qcow2 --blockdev driver=file,node-name=f,filename="$work/overlay.qcow2" \
  --blockdev driver=qcow2,node-name=disk,file=f
results[qsd-qcow2]=$(run_guest qsdqcow2 /dev/vda virtio_uml.device="$work/qcow2.sock:2")
pkill -f "addr.path=$work/qcow2.sock" || true; wait 2>/dev/null

printf '%-10s %s\n' backend "figures (MB/s, IOPS)"
for b in plxd-clone ubd-cow qsd-raw qsd-qcow2; do printf '%-10s %s\n' "$b" "${results[$b]#RESULT }"; done
