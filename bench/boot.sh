#!/usr/bin/env bash
# Boot benchmark: time until all N nodes answer, ssi-start N against N bare
# linux.uml processes booting the same image with the same options, in the
# same run; and how much of the cluster's memory ssid and its daemons take.
# ssi-start boots twice: on ubd overlays like the bare peer, and on plx
# clones served by plxd (the default disk), for the plx/ubd ratio.
# Usage: bench/boot.sh [N ...]     (default: 1 4 8 16 32)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SSI_BIN:-$here/build/bin}
root=${SSI_ROOT_IMAGE:-$here/build/share/ssiuml/root.img}
sizes=${*:-1 4 8 16 32}
export PATH="$bin:$PATH"
unset XDG_RUNTIME_DIR
work=$(mktemp -d /tmp/ssib.XXXXXX)
export HOME=$work SSIUML_CONF=$work/ssiuml.conf
cleanup() {
  ssi-stop --cluster bench >/dev/null 2>&1 || true
  pkill -9 -f "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

# Sum of proportional set sizes (KiB) of the given pids.
pss_kib() {
  local total=0 pid v
  for pid in "$@"; do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

bare_boot() {  # N -> ms until every console printed its ready line
  local n=$1 dir=$work/bare i
  rm -rf "$dir"; mkdir -p "$dir/uml"
  vde_switch --sock "$dir/sw" -d -p "$dir/sw.pid" >/dev/null 2>&1
  while [ ! -S "$dir/sw/ctl" ] || [ ! -s "$dir/sw.pid" ]; do sleep 0.01; done
  local sw; sw=$(cat "$dir/sw.pid")
  local t0; t0=$(now_ms)
  for i in $(seq "$n"); do
    setsid linux.uml umid="bare-n$i" uml_dir="$dir/uml" mem=128M \
      ubd0="$dir/node$i.cow,$root" root=/dev/ubda rw \
      eth0=vde,"$dir/sw",02:55:4d:00:00:$(printf %02x "$i") \
      con=null ssl=null con0=null,fd:1 ssl1=null \
      ssi.cluster=bare ssi.node="$i" ssi.subnet=10.77.0 \
      </dev/null >"$dir/console$i" 2>&1 &
  done
  for i in $(seq "$n"); do
    until grep -q "ssiuml: node$i of cluster bare up" "$dir/console$i" 2>/dev/null; do sleep 0.01; done
  done
  local t1; t1=$(now_ms)
  pkill -TERM -f "uml_dir=$dir/uml" || true
  for _ in $(seq 100); do pgrep -f "uml_dir=$dir/uml" >/dev/null || break; sleep 0.05; done
  pkill -9 -f "uml_dir=$dir/uml" || true
  kill "$sw" 2>/dev/null || true
  wait 2>/dev/null || true
  echo $((t1 - t0))
}

ssi_boot() {  # N ubd|plx -> "ms supervisor_pss_kib cluster_pss_kib"
  local n=$1
  echo "DISK=$2" > "$SSIUML_CONF"
  local t0; t0=$(now_ms)
  ssi-start --cluster bench --fresh "$n" >/dev/null
  local t1; t1=$(now_ms)
  local ssid_pid; ssid_pid=$(cat "$work/.ssiuml/run/bench/ssid.pid")
  local daemons=("$ssid_pid" $(pgrep -P "$ssid_pid" -x 'switchd|lockserver|plxd' || true))
  local all=("${daemons[@]}" $(pgrep -f "uml_dir=$work/.ssiuml/run/bench/uml" || true))
  local sup; sup=$(pss_kib "${daemons[@]}")
  local total; total=$(pss_kib "${all[@]}")
  ssi-stop --cluster bench >/dev/null
  echo "$((t1 - t0)) $sup $total"
}

# The store and its root VDI are made once, at a cluster's first start.
ssi_boot 1 plx >/dev/null
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
printf '%-4s %9s %9s %9s %8s %8s %14s %14s %7s\n' N bare_ms ubd_ms plx_ms ubd/bare plx/ubd daemons_KiB cluster_KiB share
for n in $sizes; do
  bare=$(bare_boot "$n")
  read -r ubd _ _ <<<"$(ssi_boot "$n" ubd)"
  read -r plx sup total <<<"$(ssi_boot "$n" plx)"
  share=$(awk -v a="$sup" -v b="$total" 'BEGIN {printf "%.1f%%", 100 * a / b}')
  printf '%-4s %9s %9s %9s %8s %8s %14s %14s %7s\n' "$n" "$bare" "$ubd" "$plx" "$(ratio "$ubd" "$bare")" \
    "$(ratio "$plx" "$ubd")" "$sup" "$total" "$share"
done
