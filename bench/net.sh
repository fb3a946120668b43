#!/usr/bin/env bash
# Network benchmark, switchd against Debian's vde_switch, side by side in one
# run, alternating, REPS times each; the table shows medians.
#  - frames/s: node 1 -> node 2, 60-byte frames for 3 s, through two
#    switchd/vde_probe clients (libvdeplug; sendmmsg and recvmmsg; the sender
#    blocks on the switch's queue), measured twice: where the scheduler puts
#    the three processes, and with the switch alone on one CPU and both
#    clients on another. Unplaced, three processes share two CPUs, and the
#    figure is bound by how fast they wake each other and by the clients'
#    own kernel work as much as by the switch; placed, each switch has a CPU
#    of its own, the figure is the switch's capacity unless the clients'
#    CPU runs out first (it does for switchd on two CPUs: the figure is then
#    a lower bound). The switch's CPU per frame (utime+stime over the frames
#    delivered, unplaced runs) is its own cost, shown beside them.
#  - round trip: one 60-byte frame at a time between two clients, one an
#    echo, 20000 times: each frame wakes the switch alone, as a ping or a TCP
#    ack does, so this is the switch's latency and CPU where it cannot batch,
#    measured without the guests' noise (20 pings in UML vary by 20%).
#  - TCP MB/s and ping RTT between two UML nodes: the anchor workload
#    bench/guest-net.sh (200 MiB over nc, then 20 pings). Two clusters, each
#    in a HOME of its own, boot with CIDEV on the two switches above, so they
#    differ in the switch alone (neither has a gateway, so neither has lock
#    server heartbeats); both stay up and the runs alternate between them.
#    RTT is the anchor's (the median of each run's 20-ping average) and,
#    beside it, the median of every ping of every run: a ping that meets the
#    host's noise takes 5-12 ms where most take 1, and one such in a run moves
#    its average by a fifth, on either switch.
#  - switch CPU per MiB of that TCP run (utime+stime of the switch process):
#    on two cores the guests' own cost (busybox nc copies 1 KiB per syscall,
#    each a ptrace round trip in UML) bounds the TCP figure for both switches
#    alike, so what the switch itself spends is shown beside it.
# Each switch runs in a session of its own (vde_switch -d daemonizes, ssid
# starts switchd with setsid): where the kernel groups tasks by session
# (autogroup), a switch in the clients' session would share their CPU share.
# Every figure is checked: the receiver must get frames from the sender only,
# every round trip must come back, and the guest receiver must count all
# 209715200 bytes. A failed run is
# retried once; a figure that stays invalid fails the benchmark.
# Ratios are switchd / vde_switch (for RTT and CPU, vde_switch / switchd), so
# above 1 is better everywhere.
# Usage: bench/net.sh [--frames-only] [--reps N] [--uml-reps N]
# (RTT moves by 20% between runs of 20 pings: --uml-reps 6 or more to compare it.)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SSI_BIN:-$here/build/bin}
export PATH="$bin:$PATH"
frames_only=false reps=5 uml_reps=3
while [ $# -gt 0 ]; do
  case "$1" in
    --frames-only) frames_only=true ;;
    --reps) reps=$2; shift ;;
    --uml-reps) uml_reps=$2; shift ;;
    *) echo "usage: bench/net.sh [--frames-only] [--reps N] [--uml-reps N]" >&2; exit 2 ;;
  esac
  shift
done
work=$(mktemp -d /tmp/ssinet.XXXXXX)
pids=""
cleanup() {
  for c in sw vde; do
    [ -d "$work/home-$c" ] && HOME=$work/home-$c ssi-stop --cluster netbench-$c >/dev/null 2>&1 || true
  done
  for p in $pids $(jobs -p); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
log() { printf '[net] %s\n' "$*" >&2; }
. "$here/bench/stats.sh"

# The process that switches the frames: switchd, or the vde_switch daemon.
switch_pid() { if [ "$1" = vde ]; then cat "$work/vde.pid"; else echo "$sw_pid"; fi; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# retried CMD...: what CMD prints, running it once more if it printed nothing
# (each *_once prints a valid figure or nothing).
retried() { local got; got=$("$@"); [ -n "$got" ] || got=$("$@"); printf '%s' "$got"; }

# The CPUs this benchmark may use: with two or more, the placed runs put the
# switch on the first and both clients on the second.
all_cpus=$(taskset -pc $$ | sed 's/.*: //')
mapfile -t cpus < <(tr ',' '\n' <<< "$all_cpus" |
  awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++) print c }')

# frames_once DIR LABEL PLACED: "FPS NS_PER_FRAME" delivered node 1 -> node 2,
# or nothing if invalid. PLACED=true: switch on cpus[0], clients on cpus[1]
# (frames puts the switch back on every CPU after).
frames_once() {
  local pid ticks0 client=()
  pid=$(switch_pid "$2")
  if $3; then taskset -pc "${cpus[0]}" "$pid" >/dev/null; client=(taskset -c "${cpus[1]}"); fi
  ticks0=$(cpu_ticks "$pid")
  "${client[@]}" vde_probe recv "$1" --node 2 --seconds 4 > "$work/recv" & local r=$!
  sleep 0.5
  "${client[@]}" vde_probe send "$1" --node 1 --to 2 --seconds 3 > "$work/send"
  wait $r
  local sent got ns
  sent=$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' "$work/send")
  got=$(sed -n 's/.*from=1:\([0-9]*\),$/\1/p' "$work/recv")
  ns=$(awk -v t=$(( $(cpu_ticks "$pid") - ticks0 )) -v hz="$(getconf CLK_TCK)" -v n="${got:-0}" \
    'BEGIN { if (n > 0) printf "%.0f", t * 1e9 / hz / n }')
  # Only node 1's frames, and most of them: a switch that lost half of them
  # (or a receiver that fell behind) is not what this figure means.
  if [ -n "$sent" ] && [ -n "$got" ] && [ "$got" -le "$sent" ] && [ $((got * 2)) -gt "$sent" ]; then
    echo "$(sed -n 's/.*fps=\([0-9]*\) .*/\1/p' "$work/recv") $ns"
  else
    log "invalid frames run on $1: $(cat "$work/send") / $(cat "$work/recv")"
  fi
}
frames() {  # DIR LABEL: one valid figure each way, each retried once
  local dir=$1 label=$2 placed got fps ns
  for placed in false true; do
    $placed && [ "${#cpus[@]}" -lt 2 ] && continue
    got=$(retried frames_once "$dir" "$label" $placed)
    [ -n "$got" ] || { log "no valid frames/s figure for $label (placed: $placed)"; exit 1; }
    log "frames/s, switch ns per frame $label (placed: $placed): $got"
    read -r fps ns <<< "$got"
    if $placed; then echo "$fps" >> "$work/pfps-$label"; else
      echo "$fps" >> "$work/fps-$label"
      echo "$ns" >> "$work/nsf-$label"
    fi
  done
  taskset -pc "$all_cpus" "$(switch_pid "$label")" >/dev/null  # the TCP runs leave placement to the scheduler
}

# trips sw|vde: 20000 round trips between an echo (node 2) and node 1; adds
# the mean in µs and the switch's CPU µs per round trip (retried once).
trips_once() {
  local dir=$work/$1 pid ticks0 out n=20000
  pid=$(switch_pid "$1")
  vde_probe echo "$dir" --node 2 --seconds 120 > /dev/null & local e=$!
  sleep 0.5
  ticks0=$(cpu_ticks "$pid")
  out=$(vde_probe rtt "$dir" --node 1 --to 2 --count $n || true)
  local t=$(( $(cpu_ticks "$pid") - ticks0 ))
  kill $e 2>/dev/null; wait $e 2>/dev/null || true
  # All of them back: a lost frame waits a second, which is not latency.
  if [[ $out =~ ^trips=$n\ lost=0\ mean_us=([0-9.]+) ]]; then
    echo "${BASH_REMATCH[1]} $(awk -v t=$t -v hz="$(getconf CLK_TCK)" -v n=$n 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
  else
    log "invalid round-trip run on $1: $out"
  fi
}
trips() {
  local got us cpu
  got=$(retried trips_once "$1")
  [ -n "$got" ] || { log "no valid round-trip figure for $1"; exit 1; }
  log "round trip µs, switch CPU µs per trip $1: $got"
  read -r us cpu <<< "$got"
  echo "$us" >> "$work/trip-$1"
  echo "$cpu" >> "$work/tripcpu-$1"
}

# Not a group leader (no job control here), so setsid runs switchd in place: $! is switchd.
setsid switchd "$work/sw" > "$work/switchd.log" 2>&1 & sw_pid=$! pids="$pids $!"
vde_switch -s "$work/vde" -d -p "$work/vde.pid" > /dev/null 2>&1
pids="$pids $(cat "$work/vde.pid")"
sleep 0.5
[ "$(cat "/proc/$sw_pid/comm")" = switchd ] || { log "switchd did not start: $(cat "$work/switchd.log")"; exit 1; }
for i in $(seq "$reps"); do  # alternating, each first every other time
  if [ $((i % 2)) -eq 1 ]; then frames "$work/sw" sw; frames "$work/vde" vde; trips sw; trips vde
  else frames "$work/vde" vde; frames "$work/sw" sw; trips vde; trips sw; fi
done

if ! $frames_only; then
  # ssi-exec runs one shell line in the guest: the workload travels base64'd.
  script="echo $(base64 -w0 "$here/bench/guest-net.sh") | base64 -d > /tmp/guest-net.sh && sh /tmp/guest-net.sh"
  boot() {  # sw|vde: a two-node cluster netbench-sw|vde in HOME=$work/home-sw|vde
    mkdir -p "$work/home-$1/.ssiuml"
    echo "CIDEV=$work/$1" > "$work/home-$1/.ssiuml/ssiuml.conf"
    HOME=$work/home-$1 ssi-start --cluster "netbench-$1" 2 >/dev/null
  }
  # uml_once sw|vde: the workload node 1 -> node 2; prints "MBPS RTT" if valid.
  uml_once() {
    local h=$work/home-$1 c=netbench-$1 out r pid ticks0
    pid=$(switch_pid "$1")
    ticks0=$(cpu_ticks "$pid")
    HOME=$h ssi-exec --cluster $c 2 -- "$script recv" > "$work/uml-recv" 2>&1 & r=$!
    sleep 2  # for nc to listen
    out=$(HOME=$h ssi-exec --cluster $c 1 -- "$script send 10.77.0.2" 2>&1 || true)
    wait $r || true
    local mbps rtt cpu
    # Clock ticks (CLK_TCK a second) over 200 MiB, in ms per MiB.
    cpu=$(awk -v t=$(( $(cpu_ticks "$pid") - ticks0 )) -v hz="$(getconf CLK_TCK)" \
      'BEGIN { printf "%.2f", t * 1000 / hz / 200 }')
    # MiB/s as the anchor counts it, to two decimals from the guest's ms.
    mbps=$(printf '%s\n' "$out" | sed -n 's/^RESULT tcp_ms=\([0-9]*\)$/\1/p' |
      awk '$1 > 0 { printf "%.2f", 200 * 1000 / $1 }')
    rtt=$(printf '%s\n' "$out" | sed -n 's|^round-trip min/avg/max = [0-9.]*/\([0-9.]*\)/.*|\1|p')
    # The receiver writes its byte count back to the sender (guest-net.sh).
    if printf '%s\n' "$out" | grep -qx ' *209715200' && [ -n "$mbps" ] && [ -n "$rtt" ]; then
      printf '%s\n' "$out" | sed -n 's/^RESULT ping_ms=\([0-9.]*\)$/\1/p' >> "$work/pings-$1"
      echo "$mbps $rtt $cpu"
    else
      log "invalid UML run on $1: $(printf '%s' "$out" | tr '\n' '|')"
    fi
  }
  uml() {  # sw|vde: one valid run, retried once
    local got
    got=$(retried uml_once "$1")
    [ -n "$got" ] || { log "no valid UML figure for $1"; exit 1; }
    log "UML $1: tcp_MBps rtt_ms switch_cpu_ms_per_MiB = $got"
    set -- "$1" $got
    echo "$2" >> "$work/tcp-$1"
    echo "$3" >> "$work/rtt-$1"
    echo "$4" >> "$work/cpu-$1"
  }
  boot sw
  boot vde
  for i in $(seq "$uml_reps"); do
    if [ $((i % 2)) -eq 1 ]; then uml sw; uml vde; else uml vde; uml sw; fi
  done
fi

fig() { if [ -f "$work/$1" ]; then median < "$work/$1"; else echo -; fi; }
all() { if [ -f "$work/$1" ]; then tr '\n' ' ' < "$work/$1"; fi; }
fps_sw=$(fig fps-sw) fps_vde=$(fig fps-vde) pfps_sw=$(fig pfps-sw) pfps_vde=$(fig pfps-vde) tcp_sw=$(fig tcp-sw) tcp_vde=$(fig tcp-vde)
rtt_sw=$(fig rtt-sw) rtt_vde=$(fig rtt-vde) cpu_sw=$(fig cpu-sw) cpu_vde=$(fig cpu-vde)
nsf_sw=$(fig nsf-sw) nsf_vde=$(fig nsf-vde) trip_sw=$(fig trip-sw) trip_vde=$(fig trip-vde)
tripcpu_sw=$(fig tripcpu-sw) tripcpu_vde=$(fig tripcpu-vde) ping_sw=$(fig pings-sw) ping_vde=$(fig pings-vde)
printf 'medians of %s frames runs and %s UML runs per switch, alternating\n' "$reps" "$($frames_only && echo 0 || echo "$uml_reps")"
printf '%-28s %14s %14s %8s\n' "figure" "switchd" "vde_switch" "ratio"
printf '%-28s %14s %14s %8s\n' "frames/s (60 B, 2 clients)" "$fps_sw" "$fps_vde" "$(ratio "$fps_sw" "$fps_vde")"
printf '%-28s %14s %14s %8s\n' "frames/s, switch on own CPU" "$pfps_sw" "$pfps_vde" "$(ratio "$pfps_sw" "$pfps_vde")"
printf '%-28s %14s %14s %8s\n' "switch CPU ns per frame" "$nsf_sw" "$nsf_vde" "$(ratio "$nsf_vde" "$nsf_sw")"
printf '%-28s %14s %14s %8s\n' "round trip, 1 frame (µs)" "$trip_sw" "$trip_vde" "$(ratio "$trip_vde" "$trip_sw")"
printf '%-28s %14s %14s %8s\n' "switch CPU µs per trip" "$tripcpu_sw" "$tripcpu_vde" "$(ratio "$tripcpu_vde" "$tripcpu_sw")"
printf '%-28s %14s %14s %8s\n' "TCP node to node (MB/s)" "$tcp_sw" "$tcp_vde" "$(ratio "$tcp_sw" "$tcp_vde")"
printf '%-28s %14s %14s %8s\n' "ping RTT avg (ms)" "$rtt_sw" "$rtt_vde" "$(ratio "$rtt_vde" "$rtt_sw")"
printf '%-28s %14s %14s %8s\n' "ping RTT, every ping (ms)" "$ping_sw" "$ping_vde" "$(ratio "$ping_vde" "$ping_sw")"
printf '%-28s %14s %14s %8s\n' "switch CPU ms per MiB (TCP)" "$cpu_sw" "$cpu_vde" "$(ratio "$cpu_vde" "$cpu_sw")"
printf 'runs: frames/s switchd %s| vde_switch %s; own CPU switchd %s| vde_switch %s; ns per frame switchd %s| vde_switch %s\n' \
  "$(all fps-sw)" "$(all fps-vde)" "$(all pfps-sw)" "$(all pfps-vde)" "$(all nsf-sw)" "$(all nsf-vde)"
printf 'runs: round trip µs switchd %s| vde_switch %s; CPU µs per trip switchd %s| vde_switch %s\n' \
  "$(all trip-sw)" "$(all trip-vde)" "$(all tripcpu-sw)" "$(all tripcpu-vde)"
$frames_only || printf 'runs: TCP MB/s switchd %s| vde_switch %s; RTT ms switchd %s| vde_switch %s; CPU ms/MiB switchd %s| vde_switch %s\n' \
  "$(all tcp-sw)" "$(all tcp-vde)" "$(all rtt-sw)" "$(all rtt-vde)" "$(all cpu-sw)" "$(all cpu-vde)"
