#!/usr/bin/env bash
# plxd torture: kill -9 the disk server while the nodes append records to a
# file and fsync after each, at many random moments, on one store. After each
# kill the cluster is stopped (UML never reconnects a vhost-user disk, so
# plxd cannot be restarted under running nodes) and started again on the same
# store, so damage would accumulate. Each point checks offline that
# `plx check` is clean, that each node's disk, exported from the store and
# with its ext4 journal replayed, passes `e2fsck -fn`, and that its file holds
# every record acknowledged after an fsync and every record seen before.
# --seconds N starts no new point after N seconds (a time-boxed run).
# Usage: bench/torture-plx.sh [--short] [--points N] [--seconds N] [--nodes N] [--seed S]
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SSI_BIN:-$here/build/bin}
points=200 budget=0 nodes=1 seed=$RANDOM
while [ $# -gt 0 ]; do
  case "$1" in
    --short) points=5 ;;
    --points) points=$2; shift ;;
    --seconds) budget=$2; shift ;;
    --nodes) nodes=$2; shift ;;
    --seed) seed=$2; shift ;;
    *) echo "usage: torture-plx.sh [--short] [--points N] [--seconds N] [--nodes N] [--seed S]" >&2; exit 2 ;;
  esac
  shift
done
export PATH="$bin:$PATH:/usr/sbin:/sbin"
unset XDG_RUNTIME_DIR
work=$(mktemp -d /tmp/ssit.XXXXXX)
export HOME=$work SSIUML_CONF=$work/ssiuml.conf
printf 'MEM=64M\n' > "$SSIUML_CONF"
C=torture
store=$work/.ssiuml/clusters/$C/disk/cluster.plx
failures=0 point=0 execs=()
cleanup() {
  kill "${execs[@]}" 2>/dev/null
  timeout 60 ssi-stop --cluster $C >/dev/null 2>&1
  pkill -9 -f "$work" 2>/dev/null
  # A failed run keeps its store, logs and last exports for a post-mortem.
  if [ $failures -eq 0 ]; then rm -rf "$work"; else echo "torture-plx: kept $work"; fi
}
trap cleanup EXIT
RANDOM=$seed
fail() { echo "torture-plx: point $point: FAIL: $*"; failures=$((failures + 1)); }

# Runs in each node: appends record i (its number and a filler whose length
# varies with i, so appends both rewrite the last block and take new ones)
# with one dd that fsyncs its own descriptor, and acknowledges the record only
# when dd succeeded: sync(1) cannot report an I/O error, fsync does. A record
# torn by the previous kill (no newline) is cut off first, so record i is
# always line i.
workload='f=/root/torture; touch $f
n=$(wc -l < $f); truncate -s $(head -n $n $f | wc -c) $f
p=$(printf "%4000s" "" | tr " " .)
i=$n
while :; do
  i=$((i + 1))
  echo "$i ${p:0:$((i * 797 % 4000))}" | dd of=$f bs=8k oflag=append conv=notrunc,fsync 2>/dev/null || break
  echo "ack $i"
done'
# Checks a node's file (FILE) against the number of records acknowledged or
# seen at an earlier point (FLOOR); prints the number of whole records, or
# what is wrong (and fails).
check_records() {
  awk -v lines="$(wc -l < "$1")" -v floor="$2" '
    BEGIN { pad = sprintf("%4000s", ""); gsub(/ /, ".", pad) }
    { want = NR " " substr(pad, 1, NR * 797 % 4000) }
    NR <= lines && $0 != want { printf "record %d is damaged\n", NR; bad = 1; exit 1 }
    NR > lines && index(want, $0) != 1 { printf "the torn last record is not a prefix of record %d\n", NR; bad = 1; exit 1 }
    END {
      if (bad) exit 1
      if (lines < floor) { printf "%d whole records, %d were acknowledged or seen before\n", lines, floor; exit 1 }
      print lines
    }' "$1"
}

declare -A floor
for n in $(seq "$nodes"); do floor[$n]=0; done
acked_total=0 stop_max_ms=0
start=$(date +%s)
for point in $(seq "$points"); do
  [ $budget -gt 0 ] && [ $(( $(date +%s) - start )) -ge $budget ] && { point=$((point - 1)); break; }
  ssi-start --cluster $C "$nodes" >/dev/null || { fail "ssi-start failed"; break; }
  ssid=$(cat "$work/.ssiuml/run/$C/ssid.pid")
  plxd=$(pgrep -P "$ssid" -x plxd) || { fail "no plxd under ssid"; break; }
  execs=()
  for n in $(seq "$nodes"); do
    ssi-exec --cluster $C $n -- "$workload" > "$work/acks.$n" 2>/dev/null &
    execs+=($!)
  done
  # 0 to 4 s: some kills come before the first record, most among them.
  delay=$(( (RANDOM * 32768 + RANDOM) % 4000 ))
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  kill -9 "$plxd"
  # The nodes have lost their disks; stopping must still be bounded.
  t0=$(date +%s%N)
  timeout 60 ssi-stop --cluster $C >/dev/null
  rc=$? t=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ $t -gt $stop_max_ms ] && stop_max_ms=$t
  [ $rc -eq 124 ] && { fail "ssi-stop hung for 60 s after plxd was killed"; break; }
  for pid in "${execs[@]}"; do
    timeout 10 tail --pid="$pid" -f /dev/null || fail "ssi-exec $pid still running after ssi-stop"
    wait "$pid" 2>/dev/null
  done
  lost=$(grep -c '"event":"plxd_exited"' "$work/.ssiuml/clusters/$C/events.jsonl")
  [ "$lost" -eq "$point" ] || fail "ssid recorded $lost plxd_exited events in $point points"
  left=$(pgrep -af "$work" | grep -v pgrep)
  [ -z "$left" ] || { fail "processes left after ssi-stop: $left"; break; }
  out=$(plx -s "$store" check 2>&1) || { fail "plx check: $(head -3 <<< "$out")"; break; }
  for n in $(seq "$nodes"); do
    img=$work/node$n.img
    rm -f "$img"
    plx -s "$store" vdi export node$n "$img" >/dev/null || { fail "plx vdi export node$n failed"; continue; }
    # What the guest's next mount would do, then a read-only check.
    e2fsck -E journal_only -y "$img" >/dev/null 2>&1
    [ $? -le 1 ] || fail "node$n: e2fsck could not replay the journal"
    e2fsck -fn "$img" > "$work/e2fsck.$n" 2>&1 || fail "node$n: e2fsck -fn: $(tail -3 "$work/e2fsck.$n")"
    debugfs -R 'cat /root/torture' "$img" > "$work/torture.$n" 2>/dev/null
    acked=$(awk '$1 == "ack" { n = $2 } END { print n + 0 }' "$work/acks.$n")
    acked_now=$(grep -c '^ack ' "$work/acks.$n")
    acked_total=$((acked_total + acked_now))
    want=${floor[$n]}
    [ "$acked" -gt "$want" ] && want=$acked
    res=$(check_records "$work/torture.$n" "$want") || { fail "node$n: $res"; continue; }
    floor[$n]=$res
  done
  [ $failures -eq 0 ] || break
done
seconds=$(( $(date +%s) - start ))
leaked=$(plx -s "$store" check 2>/dev/null | sed -n 's/^store is sound: .*, \([0-9]*\) leaked.*/\1/p')
records=0
for n in $(seq "$nodes"); do records=$((records + floor[$n])); done
echo "RESULT torture_points=$point nodes=$nodes seed=$seed acked_writes=$acked_total records=$records failures=$failures stop_max_ms=$stop_max_ms leaked_blocks=${leaked:-?} seconds=$seconds"
echo "torture-plx: $([ $failures -eq 0 ] && echo passed || echo "$failures failure(s)")"
[ $failures -eq 0 ]
