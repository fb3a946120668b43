#!/bin/sh
# Runs inside two nodes: the network workload behind the compass's switch figures.
# Receiver: guest-net.sh recv        Sender: guest-net.sh send RECEIVER_IP
# The send side is the anchor's, unchanged. The receiver differs: the anchor's
# `nc -l -p 5000 > /dev/null` quits early when its stdin is at EOF (as under
# ssi-exec: 10 KiB arrived, not 200 MiB), so it runs wc on the connection and
# its byte count comes back to the sender, which prints it for the check.
# The sender also prints the milliseconds (at 1-2 MB/s the anchor's whole MB/s
# cannot tell two switches apart) and each ping's time: one ping in 20 that
# meets the host's noise (5-12 ms where most take 1) moves the anchor's
# average by a fifth, so the bench also takes the median of all pings.
now() { awk '{printf "%d", $1*1000}' /proc/uptime; }
case "$1" in
  recv) nc -l -p 5000 -e wc -c ;;
  send) t0=$(now); dd if=/dev/zero bs=64k count=3200 2>/dev/null | nc "$2" 5000; t1=$(now)
        echo "RESULT tcp_MBps=$((200*1000/(t1-t0+1)))"
        echo "RESULT tcp_ms=$((t1-t0))"
        ping -c 20 -i 0.2 "$2" > /tmp/ping.out
        sed -n 's/.*time=\([0-9.]*\) ms$/RESULT ping_ms=\1/p' /tmp/ping.out
        tail -1 /tmp/ping.out ;;
  *) echo "usage: guest-net.sh recv | send IP" >&2; exit 2 ;;
esac
