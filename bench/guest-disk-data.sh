#!/bin/sh
# Runs inside a node: the anchor disk workload (guest-disk.sh) with data that
# is not zeros. The anchor writes /dev/zero, which plx stores as unmapped
# blocks (no data written, none read back): this variant shows what plxd does
# when the blocks carry data, as every peer's always do. The data comes from
# a 64 MiB file in a tmpfs, written 8 times for the 512 MiB.
# Usage: guest-disk-data.sh DEVICE   (its contents are destroyed)
# Prints the same RESULT line as guest-disk.sh.
D=${1:?device}
now() { awk '{printf "%d", $1*1000}' /proc/uptime; }
mkdir -p /data && mount -t tmpfs -o size=80m none /data || exit 1
yes 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde | head -c 67108864 > /data/block
t0=$(now)
for i in 0 1 2 3 4 5 6 7; do dd if=/data/block of=$D bs=1M count=64 seek=$((i * 64)) conv=notrunc 2>/dev/null; done
dd if=/dev/null of=$D bs=1M count=0 conv=notrunc,fsync 2>/dev/null; t1=$(now)
echo 3 > /proc/sys/vm/drop_caches
t2=$(now); dd if=$D of=/dev/null bs=1M count=512 2>/dev/null; t3=$(now)
t4=$(now); dd if=/data/block of=$D bs=4k count=8192 oflag=direct 2>/dev/null; t5=$(now)
t6=$(now); dd if=$D of=/dev/null bs=4k count=8192 iflag=direct 2>/dev/null; t7=$(now)
echo "RESULT seqwrite_MBps=$((512*1000/(t1-t0+1))) seqread_MBps=$((512*1000/(t3-t2+1))) direct4kwrite_iops=$((8192*1000/(t5-t4+1))) direct4kread_iops=$((8192*1000/(t7-t6+1)))"
