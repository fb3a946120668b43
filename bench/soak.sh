#!/usr/bin/env bash
# Soak: random add / rm / pause / resume on a 16-node cluster for a long time
# (an hour by default; --short runs a minute for CI), then checks that ssid's
# file descriptors and memory stayed flat, no process was orphaned and no
# stale socket or umid directory remains.
# Usage: bench/soak.sh [--short] [--seconds N] [--nodes N]
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SSI_BIN:-$here/build/bin}
seconds=3600 nodes=16 seed=${SOAK_SEED:-$RANDOM}
while [ $# -gt 0 ]; do
  case "$1" in
    --short) seconds=60 ;;
    --seconds) seconds=$2; shift ;;
    --nodes) nodes=$2; shift ;;
    *) echo "usage: soak.sh [--short] [--seconds N] [--nodes N]" >&2; exit 2 ;;
  esac
  shift
done
export PATH="$bin:$PATH"
unset XDG_RUNTIME_DIR
work=$(mktemp -d /tmp/ssis.XXXXXX)
export HOME=$work SSIUML_CONF=$work/ssiuml.conf
printf 'MEM=64M\n' > "$SSIUML_CONF"
C=soak
cleanup() {
  ssi-stop --cluster $C >/dev/null 2>&1
  pkill -9 -f "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
RANDOM=$seed
failures=0
fail() { echo "soak: FAIL: $*"; failures=$((failures + 1)); }

ssi-start --cluster $C "$nodes" >/dev/null || { echo "soak: ssi-start failed"; exit 1; }
ssid=$(cat "$work/.ssiuml/run/$C/ssid.pid")
fds() { ls "/proc/$ssid/fd" | wc -l; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$ssid/status"; }
# Warm up once around the loop so caches and buffers reach their size.
ssi-rm --cluster $C 1 >/dev/null; ssi-add --cluster $C 1 >/dev/null
fd0=$(fds) rss0=$(rss)
ops=0 end=$(( $(date +%s) + seconds ))
while [ "$(date +%s)" -lt $end ]; do
  n=$(( RANDOM % nodes + 1 ))
  state=$(ssi-status --cluster $C | awk -v n=$n '$1 == n {print $2}')
  case "$state:$(( RANDOM % 4 ))" in
    running:0|running:1) ssi-rm --cluster $C $n >/dev/null ;;
    running:2) ssi-pause --cluster $C $n >/dev/null ;;
    running:3) ssi-exec --cluster $C $n -- 'echo $RANDOM > /root/soak; sync' >/dev/null ;;
    paused:*) ssi-resume --cluster $C $n >/dev/null ;;
    crashed:*) ssi-add --cluster $C $n >/dev/null ;;
  esac
  ops=$((ops + 1))
done
# Bring every node back, then compare.
for n in $(seq "$nodes"); do
  case "$(ssi-status --cluster $C | awk -v n=$n '$1 == n {print $2}')" in
    paused) ssi-resume --cluster $C $n >/dev/null ;;
    crashed) ssi-add --cluster $C $n >/dev/null ;;
  esac
done
fd1=$(fds) rss1=$(rss)
running=$(ssi-status --cluster $C | grep -c ' running ')
[ "$running" -eq "$nodes" ] || fail "$running of $nodes nodes running at the end"
[ "$fd1" -le "$fd0" ] || fail "ssid's descriptors grew from $fd0 to $fd1"
[ "$rss1" -le $(( rss0 + rss0 / 4 + 2048 )) ] || fail "ssid's memory grew from ${rss0} to ${rss1} KiB"
# Each node is one UML started by ssid; anything else of the cluster's
# re-parented to ssid is an orphaned helper.
mains=$(pgrep -P "$ssid" -f "uml_dir=$work/.ssiuml/run/$C/uml" | wc -l)
[ "$mains" -eq "$nodes" ] || fail "$mains UML processes under ssid for $nodes nodes (orphans?)"
orphans=$(pgrep -f "uml_dir=$work/.ssiuml/run/$C/uml" | while read -r p; do
  parent=$(ps -o ppid= -p "$p" | tr -d ' ')
  [ "$parent" = 1 ] && echo "$p"; done | wc -l)
[ "$orphans" -eq 0 ] || fail "$orphans UML helpers orphaned to init"
dirs=$(ls "$work/.ssiuml/run/$C/uml" | wc -l)
[ "$dirs" -eq "$nodes" ] || fail "$dirs umid directories for $nodes nodes (stale ones?)"
ssi-stop --cluster $C >/dev/null
left=$(pgrep -af "$work" | grep -v pgrep)
[ -z "$left" ] || fail "processes left after ssi-stop: $left"
echo "RESULT soak_seconds=$seconds nodes=$nodes seed=$seed operations=$ops ssid_fds=$fd0->$fd1 ssid_rss_kib=$rss0->$rss1"
echo "soak: $([ $failures -eq 0 ] && echo passed || echo "$failures failure(s)")"
[ $failures -eq 0 ]
