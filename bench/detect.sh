#!/usr/bin/env bash
# Failure detection as the survivors see it: SIGKILL of a node (ssi-rm) to
# the moment node 1's /run/ssi/members drops it, over CRASHES crashes, while
# the rest of a 32-node cluster boots (the boot storm that must cause no
# false expiry). A loop inside node 1 polls the member file every 10 ms and
# prints the wall clock; UML guests keep the host's wall clock, so the guest
# time minus the host time of the kill is the latency. Default settings:
# heartbeat 200 ms, expiry after 5 missed. Target: p99 under 1.5 s, zero
# false expiries.
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
cleanup() { ssi-stop --cluster $C >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT INT TERM

# Survivor (1) and victims (2..5) first; the storm boots the rest meanwhile.
ssi-start --cluster $C 5 >/dev/null || { echo "detect.sh: ssi-start failed" >&2; exit 1; }
ssi-add --cluster $C "6-$nodes" >/dev/null 2>&1 &
storm=$!
latencies=()
for i in $(seq "$crashes"); do
  victim=$(( 2 + (i - 1) % 4 ))
  # Wait until node 1 counts the victim a member again (it rebooted).
  for _ in $(seq 300); do
    ssi-exec --cluster $C 1 -- "grep -qx $victim /run/ssi/members" && break
    sleep 0.2
  done
  out=$work/watch.$i
  ssi-exec --cluster $C 1 -- "while grep -qx $victim /run/ssi/members; do usleep 10000; done; date +%s%N" \
    >"$out" 2>&1 &
  watcher=$!
  sleep 0.3
  t0=$(date +%s%N)
  ssi-rm --cluster $C $victim >/dev/null
  wait $watcher
  t1=$(tr -dc 0-9 <"$out")
  latencies+=($(( (t1 - t0) / 1000000 )))
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
echo "detection latency over $crashes crashes (ms): median $(pct 50), p90 $(pct 90), p99 $(pct 99), max $(pct 100)"
echo "nodes running at the end: $up of $nodes; fence requests $fenced; live nodes fenced (false expiries) $false_expiries"
