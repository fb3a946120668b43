#!/usr/bin/env bash
# Console benchmark: the dashboard's CPU while N nodes (default 32) print
# continuously, at its 10 refreshes a second, and keystroke-to-echo latency
# through the console path. Targets: under 5% of one core; under 20 ms median.
# Usage: bench/console.sh [N] [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SSI_BIN:-$here/build/bin}
nodes=${1:-32}
seconds=${2:-10}
export PATH="$bin:$PATH"
unset XDG_RUNTIME_DIR
work=$(mktemp -d /tmp/ssic.XXXXXX)
export HOME=$work SSIUML_CONF=$work/ssiuml.conf
: > "$SSIUML_CONF"
# The server's socket in the work folder: tmux leaves it behind after kill-server.
T="tmux -S $work/tmux.sock -f /dev/null"
cleanup() {
  $T kill-server 2>/dev/null || true
  ssi-stop --cluster cbench >/dev/null 2>&1 || true
  pkill -9 -f "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

ssi-start --cluster cbench "$nodes" >/dev/null
# Every node but node 1 prints; node 1 stays quiet for the latency probe.
for n in $(seq 2 "$nodes"); do
  ssi-exec --cluster cbench "$n" -- \
    'setsid sh -c "while :; do echo tick \$(date +%s.%N); usleep 50000; done" >/dev/console 2>&1 </dev/null &'
done
$T new-session -d -x 160 -y 48 "TERM=screen ssi-console --cluster cbench"
sleep 2
$T send-keys C-a s  # split view: four consoles streaming at once
sleep 1
pid=$(pgrep -f "ssi-console --cluster cbench" | head -1)
ssid=$(cat "$work/.ssiuml/run/cbench/ssid.pid")
hz=$(getconf CLK_TCK)
c0=$(cpu_ticks "$pid"); s0=$(cpu_ticks "$ssid")
sleep "$seconds"
c1=$(cpu_ticks "$pid"); s1=$(cpu_ticks "$ssid")
awk -v c=$((c1 - c0)) -v s=$((s1 - s0)) -v hz="$hz" -v t="$seconds" -v n="$nodes" 'BEGIN {
  printf "RESULT nodes=%d dashboard_cpu_pct=%.2f ssid_cpu_pct=%.2f (of one core, over %d s)\n",
         n, 100 * c / hz / t, 100 * s / hz / t, t }'
$T kill-server
"$bin/console_latency" cbench 1 200
