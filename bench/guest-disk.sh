#!/bin/sh
# Runs inside a node: the disk workload behind the compass's disk figures (the
# project anchor workload, kept identical so figures compare).
# Usage: guest-disk.sh DEVICE   (e.g. /dev/vdb or /dev/ubdb; its contents are destroyed)
# Prints one line: RESULT seqwrite_MBps=.. seqread_MBps=.. direct4kwrite_iops=.. direct4kread_iops=..
D=${1:?device}
now() { awk '{printf "%d", $1*1000}' /proc/uptime; }
t0=$(now); dd if=/dev/zero of=$D bs=1M count=512 conv=fsync 2>/dev/null; t1=$(now)
echo 3 > /proc/sys/vm/drop_caches
t2=$(now); dd if=$D of=/dev/null bs=1M count=512 2>/dev/null; t3=$(now)
t4=$(now); dd if=/dev/zero of=$D bs=4k count=8192 oflag=direct 2>/dev/null; t5=$(now)
t6=$(now); dd if=$D of=/dev/null bs=4k count=8192 iflag=direct 2>/dev/null; t7=$(now)
echo "RESULT seqwrite_MBps=$((512*1000/(t1-t0+1))) seqread_MBps=$((512*1000/(t3-t2+1))) direct4kwrite_iops=$((8192*1000/(t5-t4+1))) direct4kread_iops=$((8192*1000/(t7-t6+1)))"
