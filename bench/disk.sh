#!/usr/bin/env bash
# Disk benchmark: the anchor workload (bench/guest-disk.sh: 512 MiB sequential
# write and read, 4 KiB O_DIRECT writes and reads) inside a node, on a data
# disk served by each back end in turn, in one run: plxd serving a clone in
# a plx store, ubd COW over a base image, qemu-storage-daemon raw, and
# qemu-storage-daemon with a qcow2 overlay over the same base.
# This host's speed drifts by 2-5x within a minute, so the back ends run in
# ROUNDS rounds (default 5), each in another order and each on fresh disks;
# the table shows each back end's median and, for plxd against its two
# peers, the median of the rounds' ratios (a round's back ends run within
# minutes of each other, the whole run over many: a ratio of medians would set a
# fast round's figure against a slow one's).
# --pin CPU runs every guest and every server on that one CPU (plxd serves
# from a thread there, as with ssid's PLACEMENT=spread, the default): on this
# VM a request that crosses CPUs (guest process to UML kernel to I/O thread
# or server and back) waits for an idle virtual CPU to wake, which costs more
# than the I/O itself.
# --data runs bench/guest-disk-data.sh instead: the same workload with data
# that is not zeros (the anchor's zeros are unmapped blocks to plx, so plxd
# writes and reads no data for them; the peers write and read them all).
# --write-back has the guest set every virtio disk's cache to write back
# before the workload, so that the anchor's fsync sends a FLUSH to each back
# end. qemu-storage-daemon's export offers its cache as write-through (the
# guest then sends no FLUSH) yet writes into the host's page cache and never
# syncs it: by default its sequential write ends with nothing durable, while
# plxd (which offers a write-back cache) and ubd sync all 512 MiB in it.
# Usage: bench/disk.sh [--rounds N] [--pin CPU] [--data] [--write-back]
set -euo pipefail
rounds=5 pin=() workload=guest-disk.sh write_back=""
usage() { echo "usage: bench/disk.sh [--rounds N] [--pin CPU] [--data] [--write-back]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) [ $# -ge 2 ] || usage; rounds=$2; shift ;;
    --pin) [ $# -ge 2 ] || usage; pin=(taskset -c "$2"); shift ;;
    --data) workload=guest-disk-data.sh ;;
    --write-back) write_back="echo 'write back' > /sys/block/vda/cache_type;" ;;
    *) usage ;;
  esac
  shift
done
here=$(cd "$(dirname "$0")/.." && pwd)
root=${SSI_ROOT_IMAGE:-$here/build/share/ssiuml/root.img}
bin=${SSI_BIN:-$here/build/bin}
. "$here/bench/stats.sh"
work=$(mktemp -d /tmp/ssid.XXXXXX)
cleanup() {
  pkill -9 -f "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cp "$here/bench/$workload" "$work/guest-disk.sh"
truncate -s 600M "$work/base.img"

# run_guest NAME DEVICE [UML ARGS...]: boots a node whose console runs the
# workload on DEVICE and prints its RESULT line.
run_guest() {
  local name=$1 device=$2
  shift 2
  local prep=""
  case "$device" in /dev/vd*) prep="insmod /lib/modules/virtio_blk.ko; sleep 1; $write_back" ;; esac
  # The console shell reads the commands; the feeder outlives the guest, so
  # it is a process substitution nobody waits for.
  timeout 600 "${pin[@]}" linux.uml umid="disk-$name-$$" uml_dir="$work/uml" mem=256M \
      ubd0="$work/$name-root.cow,$root" root=/dev/ubda rw con=null ssl=null con0=fd:0,fd:1 \
      ssi.node=1 ssi.cluster=bench ssi.subnet=10.77.0 "$@" > "$work/$name.console" 2>&1 \
      < <(sleep 4; echo "$prep mount -t hostfs none /mnt -o $work && sh /mnt/guest-disk.sh $device > /mnt/$name.result 2>&1; poweroff -f"; sleep 600) || true
  grep -h RESULT "$work/$name.result" 2>/dev/null || echo "RESULT failed (see console)"
}

qsd_start() {  # NAME BLOCKDEV-ARGS...: serves a disk at $work/NAME.sock
  local name=$1
  shift
  "${pin[@]}" qemu-storage-daemon "$@" --export type=vhost-user-blk,id=e,node-name=disk,addr.type=unix,addr.path="$work/$name.sock",writable=on \
    > "$work/$name.qsd.log" 2>&1 &
  for _ in $(seq 100); do [ -S "$work/$name.sock" ] && return 0; sleep 0.05; done
  echo "qemu-storage-daemon did not start: $(cat "$work/$name.qsd.log")" >&2
  return 1
}

# Each back end serves a fresh 600 MiB disk; NAME's RESULT line comes back.
bench_plxd() {
  # A clone of an empty base, as a node's disk is a clone of root.
  "$bin/plx" mkfs "$work/store.plx" >/dev/null
  "$bin/plx" -s "$work/store.plx" vdi create base --size 600M >/dev/null
  "$bin/plx" -s "$work/store.plx" vdi snap base empty >/dev/null
  "$bin/plx" -s "$work/store.plx" vdi create data --from base@empty >/dev/null
  # Pinned, plxd serves the disk from the guest's CPU as ssid has it do.
  "$bin/plxd" --store "$work/store.plx" --control "$work/plxd.ctl" > "$work/plxd.log" 2>&1 &
  for _ in $(seq 100); do [ -S "$work/plxd.ctl" ] && break; sleep 0.05; done
  echo '{"v":1,"cmd":"open","vdi":"data","socket":"'"$work"'/plx.sock"'"${pin:+,\"cpu\":${pin[2]}}"'}' |
    "$bin/sockcat" "$work/plxd.ctl" 500 >/dev/null 2>&1 || true  # plxd keeps the connection open
  run_guest plxd /dev/vda virtio_uml.device="$work/plx.sock:2"
  pkill -f "plxd --store $work" || true; wait 2>/dev/null
  rm -rf "$work/store.plx" "$work/plxd.ctl"
}
bench_ubd() {
  run_guest ubd /dev/ubdb ubd1="$work/data.cow,$work/base.img"
  rm -f "$work/data.cow"
}
bench_qsdraw() {
  cp --sparse=always "$work/base.img" "$work/raw.img"
  qsd_start raw --blockdev driver=file,node-name=disk,filename="$work/raw.img"
  run_guest qsdraw /dev/vda virtio_uml.device="$work/raw.sock:2"
  pkill -f "addr.path=$work/raw.sock" || true; wait 2>/dev/null
  rm -f "$work/raw.img"
}
bench_qsdqcow2() {
  qemu-img create -q -f qcow2 -b "$work/base.img" -F raw "$work/overlay.qcow2"
  qsd_start qcow2 --blockdev driver=file,node-name=f,filename="$work/overlay.qcow2" \
    --blockdev driver=qcow2,node-name=disk,file=f
  run_guest qsdqcow2 /dev/vda virtio_uml.device="$work/qcow2.sock:2"
  pkill -f "addr.path=$work/qcow2.sock" || true; wait 2>/dev/null
  rm -f "$work/overlay.qcow2"
}

backends=(plxd ubd qsdraw qsdqcow2)
figures=(seqwrite_MBps seqread_MBps direct4kwrite_iops direct4kread_iops)
for round in $(seq "$rounds"); do
  # Round r starts at back end r: each goes first, second, ... in turn.
  for k in 0 1 2 3; do
    b=${backends[$(( (round - 1 + k) % 4 ))]}
    line=$("bench_$b")
    echo "[disk] round $round $b: ${line#RESULT }" >&2
    for f in "${figures[@]}"; do
      v=$(printf '%s\n' "$line" | sed -n "s/.*$f=\([0-9]*\).*/\1/p")
      [ -n "$v" ] || { echo "bench/disk.sh: $b gave no $f in round $round; its console ends:" >&2; tail -n 20 "$work/$b.console" >&2; exit 1; }
      echo "$v" >> "$work/fig-$b-$f"
    done
  done
done

# round_ratio PEER FIGURE: the median over the rounds of plxd's figure / PEER's.
round_ratio() {
  ratio "$(paste "$work/fig-plxd-$2" "$work/fig-$1-$2" | awk '{ print $1 / $2 }' | median)" 1
}
printf 'medians of %s rounds of %s, each back end on a fresh disk, order rotated%s%s\n' "$rounds" "$workload" \
  "${pin:+, all on CPU ${pin[2]}}" "${write_back:+, every virtio disk write-back (fsync flushes every back end)}"
printf '%-20s %10s %10s %10s %10s %12s %10s\n' figure plxd ubd-cow qsd-raw qsd-qcow2 "plxd/qcow2*" "plxd/ubd*"
for f in "${figures[@]}"; do
  p=$(median < "$work/fig-plxd-$f") u=$(median < "$work/fig-ubd-$f")
  r=$(median < "$work/fig-qsdraw-$f") q=$(median < "$work/fig-qsdqcow2-$f")
  printf '%-20s %10s %10s %10s %10s %12s %10s\n' "$f" "$p" "$u" "$r" "$q" "$(round_ratio qsdqcow2 "$f")" "$(round_ratio ubd "$f")"
done
echo "* the median of the rounds' ratios"
for b in "${backends[@]}"; do
  printf 'runs %-9s' "$b"
  for f in "${figures[@]}"; do printf ' %s: %s;' "$f" "$(tr '\n' ' ' < "$work/fig-$b-$f")"; done
  echo
done
