#!/usr/bin/env bash
# Failure detection as the survivors see it: SIGKILL of a node's processes to
# the moment node 1's /run/ssi/members drops it, over CRASHES crashes, while
# the rest of a 32-node cluster boots (the boot storm that must cause no
# false expiry). A loop inside node 1 polls the member file every 10 ms and
# prints the wall clock; UML guests keep the host's wall clock, so the guest
# time minus the host time of the kill is the latency. Default settings:
# heartbeat 200 ms, expiry after 5 missed. Target: p99 under 1.5 s, zero
# false expiries. ssid boots at most BOOT_PARALLEL nodes at once (default
# twice the CPUs); the rest of the storm waits its turn in ssid's queue.
#   bench/detect.sh [NODES] [CRASHES]     (defaults 32 and 20)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
export PATH="${SSI_BIN:-$here/build/bin}:$PATH"
nodes=${1:-32} crashes=${2:-20}
unset XDG_RUNTIME_DIR
work=$(mktemp -d /tmp/ssidet.XXXXXX)
export HOME=$work SSIUML_CONF=$work/ssiuml.conf
printf 'MEM=64M\n' > "$SSIUML_CONF"
C=detect
keep=${DETECT_KEEP:-/tmp/ssidetect-last}  # the run's events and logs, for a failed figure
cleanup() {
  ssi-stop --cluster $C >/dev/null 2>&1
  rm -rf "$keep" && mkdir -p "$keep" && cp -r "$work/.ssiuml/clusters/$C/." "$work"/watch.* "$keep/" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Survivor (1) and victims (2..5) first; the storm boots the rest meanwhile.
ssi-start --cluster $C 5 >/dev/null || { echo "detect.sh: ssi-start failed" >&2; exit 1; }
ssi-add --cluster $C "6-$nodes" >/dev/null 2>&1 &
storm=$!
latencies=() missed=0
# The guest's wall clock in ns: busybox date has no %N, adjtimex has microseconds.
guest_now='adjtimex | awk '"'"'/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { printf "%d%06d000", s, u }'"'"
for i in $(seq "$crashes"); do
  # The survivor itself fenced is a false expiry: nothing left to measure.
  ssi-status --cluster $C | grep -Eq '^1 +running' || { echo "detect.sh: node 1 is no longer running" >&2; break; }
  # The victim: any other node that node 1 counts a member (the first four,
  # then storm nodes as they come up; a victim boots again at the queue's end).
  victim=""
  for _ in $(seq 600); do
    victim=$(ssi-exec --cluster $C 1 -- "cat /run/ssi/members" 2>/dev/null | grep -x '[0-9]*' | grep -vx 1 | shuf -n 1)
    [ -n "$victim" ] && break
    sleep 0.2
  done
  [ -n "$victim" ] || { echo "detect.sh: node 1 counts no other member" >&2; break; }
  out=$work/watch.$i
  # Builtins only: a fork per poll would load node 1 and delay what it measures.
  ssi-exec --cluster $C 1 -- "member() { while read -r n; do [ \"\$n\" = $victim ] && return 0; done < /run/ssi/members; return 1; }; while member; do usleep 10000; done; $guest_now" \
    >"$out" 2>&1 &
  watcher=$!
  sleep 0.3
  # The SIGKILL itself, to the node's process group (as ssi-rm does, but
  # without ssi-rm's own start-up in the figure); ssid sees a crash.
  # ssid starts each node in a session of its own: its pid is the group's id.
  pgid=$(ssi-status --cluster $C | awk -v n="$victim" '$1 == n && $2 == "running" { print $4 }')
  [ -n "$pgid" ] || { echo "detect.sh: node $victim is not running" >&2; continue; }
  t0=$(date +%s%N)
  kill -KILL -- "-$pgid"
  echo "crash $i: killed node $victim at $(date -d @"${t0:0:10}" +%T).${t0:10:3}" >&2
  wait $watcher
  t1=$(tr -dc 0-9 <"$out")
  if [ -z "$t1" ]; then
    echo "detect.sh: crash $i (node $victim): no answer from node 1: $(cat "$out")" >&2
    missed=$((missed + 1))
  else
    latencies+=($(( (t1 - t0) / 1000000 )))
    echo "crash $i: node $victim seen gone after ${latencies[-1]} ms" >&2
  fi
  ssi-add --cluster $C $victim >/dev/null 2>&1 &
done
wait $storm
wait
sorted=$(printf '%s\n' "${latencies[@]}" | sort -n)
pct() { printf '%s\n' "$sorted" | awk -v p="$1" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; print a[i]}'; }
# Every fence not caused by a crash above is a false expiry.
fenced=$(grep -c '"event":"node_fenced"' "$work/.ssiuml/clusters/$C/events.jsonl")
false_expiries=$(grep '"event":"node_exited"' "$work/.ssiuml/clusters/$C/events.jsonl" | grep -c 'fenced:')
up=$(ssi-status --cluster $C | grep -c ' running ')
echo "detection latency over ${#latencies[@]} of $crashes crashes (ms): median $(pct 50), p90 $(pct 90), p99 $(pct 99), max $(pct 100)"
echo "nodes running at the end: $up of $nodes; fence requests $fenced; live nodes fenced (false expiries) $false_expiries; crashes not measured $missed (logs in $keep)"
