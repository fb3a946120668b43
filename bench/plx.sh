#!/bin/sh
# plx beside qemu in one run, on the same files and page cache:
#   fill:      plx vdi fill of a 512 MiB image   vs  qemu-img convert to qcow2
#   randwrite: random 4 KiB writes into a fresh clone  vs  qemu-io on a qcow2 overlay
#   seqread:   sequential read of that clone      vs  qemu-io reads of the overlay
#   clone:     bytes a clone of the 512 MiB root costs until written
# Both sides make their writes durable at the end (plx flushes; qemu runs
# with cache=writeback, which flushes on close). Targets from issue 3:
# fill >= 0.8x, randwrite >= 1.0x, clone < 64 KiB.
#
#   bench/plx.sh [BIN_DIR]    (default build/bin; scratch in $TMPDIR)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$here/build/bin}" && pwd)
writes=${PLX_BENCH_WRITES:-20000}
for t in "$bin/plx" "$bin/plx_bench"; do
  [ -x "$t" ] || { echo "plx.sh: $t is missing; build it first (cmake --build build)" >&2; exit 1; }
done
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null ||
  { echo "plx.sh: qemu-img and qemu-io are needed; install qemu-utils" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/plx-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
export PLX_STORE="$dir/store.plx"

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }

echo "preparing a 512 MiB image of random data"
head -c 512M /dev/urandom > image.raw

# fill
"$bin/plx" mkfs "$PLX_STORE" >/dev/null
"$bin/plx" vdi create root
t0=$(now); "$bin/plx" vdi fill root image.raw >/dev/null; t1=$(now)
plx_fill=$(secs "$t0" "$t1")
t0=$(now); qemu-img convert -t writeback -f raw -O qcow2 image.raw root.qcow2; t1=$(now)
qemu_fill=$(secs "$t0" "$t1")

# clone cost
"$bin/plx" vdi snap root base >/dev/null
before=$(stat -c %b "$PLX_STORE")
"$bin/plx" vdi create node1 --from root@base
after=$(stat -c %b "$PLX_STORE")
clone_bytes=$(( (after - before) * 512 ))

# random 4 KiB writes into a fresh clone / overlay
plx_rw=$("$bin/plx_bench" randwrite "$PLX_STORE" node1 "$writes" 1 | awk '{print $7}')
qemu-img create -q -f qcow2 -b root.qcow2 -F qcow2 overlay.qcow2
awk -v n="$writes" 'BEGIN { srand(1); for (i = 0; i < n; i++) printf "write -P %d %d 4k\n", i % 255 + 1, int(rand() * 131072) * 4096 }' > writes.cmd
t0=$(now); qemu-io -t writeback -f qcow2 overlay.qcow2 < writes.cmd >/dev/null; t1=$(now)
qemu_rw=$(echo "$writes / ($(secs "$t0" "$t1"))" | bc -l)

# sequential read of the clone / overlay
plx_sr=$("$bin/plx_bench" seqread "$PLX_STORE" node1 | awk '{print $9}')
awk 'BEGIN { for (i = 0; i < 512; i++) printf "read %d 1M\n", i * 1048576 }' > reads.cmd
t0=$(now); qemu-io -t writeback -f qcow2 overlay.qcow2 < reads.cmd >/dev/null; t1=$(now)
qemu_sr=$(echo "512 / ($(secs "$t0" "$t1"))" | bc -l)

"$bin/plx" check >/dev/null

fill_ratio=$(ratio "$qemu_fill" "$plx_fill")
rw_ratio=$(ratio "$plx_rw" "$qemu_rw")
sr_ratio=$(ratio "$plx_sr" "$qemu_sr")
verdict() { if [ "$(echo "$1 >= $2" | bc -l)" = 1 ]; then echo ok; else echo BELOW; fi; }
printf '\n%-34s %14s %14s %7s  %s\n' "benchmark" "plx" "qemu" "ratio" "target"
printf '%-34s %12.2fs %12.2fs %6sx  >= 0.8x %s\n' "fill 512 MiB (qemu-img convert)" "$plx_fill" "$qemu_fill" "$fill_ratio" "$(verdict "$fill_ratio" 0.8)"
printf '%-34s %10.0f/s %12.0f/s %6sx  >= 1.0x %s\n' "random 4K writes into a clone" "$plx_rw" "$qemu_rw" "$rw_ratio" "$(verdict "$rw_ratio" 1.0)"
printf '%-34s %8.0f MiB/s %8.0f MiB/s %6sx\n' "sequential read of the clone" "$plx_sr" "$qemu_sr" "$sr_ratio"
printf '%-34s %12s B %14s %7s  < 64 KiB %s\n' "clone of the 512 MiB root" "$clone_bytes" "-" "-" "$([ "$clone_bytes" -lt 65536 ] && echo ok || echo ABOVE)"
