#!/usr/bin/env bash
# plxd serving disks from CPUs: a VDI opened with "cpu" is served from a
# thread pinned to that CPU, and everything else on it (list, stats, fault,
# snapshot, close) still works; a bad or forbidden CPU is refused in one
# reply, and the VDI stays free to open.
. "$(dirname "$0")/../lockserver/test_lib.sh"
PLXD=
before_cleanup() { [ -n "$PLXD" ] && kill -KILL "$PLXD" 2>/dev/null; }
control() { echo "$1" | "$BIN/sockcat" "$D/plxd.ctl" 300 2>/dev/null; }
ctl_ok() { control "$1" | grep -q '"ok":true'; }
open_with() {  # open_with VDI CPU-JSON: plxd's reply
  control '{"v":1,"cmd":"open","vdi":"'"$1"'","socket":"'"$D/$1.sock"'"'"$2"'}'
}
refused() {  # refused CPU-JSON WHAT: the open fails, saying WHAT
  local out; out=$(open_with node2 "$1")
  grep -q '"ok":false' <<<"$out" && grep -q "$2" <<<"$out"
}
# How many of plxd's threads may run on CPU $1 alone.
pinned_threads() {
  grep -h Cpus_allowed_list /proc/"$PLXD"/task/*/status | awk '{ print $2 }' | grep -Ec "^$1$"
}
S=$D/s.plx
PLX="$BIN/plx -s $S"
store_sound() { $PLX check >/dev/null; }
first=$(awk '/Cpus_allowed_list/ { sub(/[-,].*/, "", $2); print $2 }' /proc/self/status)
$PLX mkfs "$S" && $PLX vdi create node1 --size 4M >/dev/null && $PLX vdi create node2 --size 4M >/dev/null
"$BIN/plxd" --store "$S" --control "$D/plxd.ctl" --log "$D/plxd.log" &
PLXD=$!
for _ in $(seq 200); do [ -S "$D/plxd.ctl" ] && break; sleep 0.05; done

check "plxd serves node1 from CPU $first" ctl_ok "$(printf '{"v":1,"cmd":"open","vdi":"node1","socket":"%s","cpu":%s}' "$D/node1.sock" "$first")"
check "from a thread pinned there" test "$(pinned_threads "$first")" -ge 1
check "list says so" grep -q '{"connected":false,"cpu":'"$first"',"fault":"none","socket":"[^"]*","vdi":"node1"}' <<<"$(control '{"v":1,"cmd":"list"}')"
check "stats of a disk on a thread" grep -q '"stats":{' <<<"$(control '{"v":1,"cmd":"stats"}')"
check "a fault on it" ctl_ok '{"v":1,"cmd":"fault","vdi":"node1","fault":"stall"}'
check "shows in list" grep -q '"fault":"stall"' <<<"$(control '{"v":1,"cmd":"list"}')"
check "and heals" ctl_ok '{"v":1,"cmd":"fault","vdi":"node1","fault":"none"}'
check "a live snapshot of it" ctl_ok '{"v":1,"cmd":"snapshot","vdi":"node1","name":"s1"}'
check "a second open of it is refused" grep -q '"error":"node1 is already served"' <<<"$(open_with node1 ',"cpu":'"$first")"

check "cpu -1 is refused" refused ',"cpu":-1' '"cpu\\" must be a CPU number'
check "a cpu as a string is refused" refused ',"cpu":"0"' '"cpu\\" must be a CPU number'
check "a fractional cpu is refused" refused ',"cpu":0.5' '"cpu\\" must be a CPU number'
check "a cpu past CPU_SETSIZE is refused" refused ',"cpu":99999' '"cpu\\" must be a CPU number'
check "a cpu plxd may not run on is refused" refused ',"cpu":1023' 'CPU 1023 is not one this process may run on'
check "node2 is still free: it opens on the main loop" ctl_ok '{"v":1,"cmd":"open","vdi":"node2","socket":"'"$D/node2.sock"'"}'
check "and has no cpu in list" grep -q '{"connected":false,"fault":"none","socket":"[^"]*node2.sock","vdi":"node2"}' <<<"$(control '{"v":1,"cmd":"list"}')"

check "node1 closes" ctl_ok '{"v":1,"cmd":"close","vdi":"node1"}'
check "and its socket is gone" test ! -e "$D/node1.sock"
check "it opens again on the same CPU" ctl_ok "$(printf '{"v":1,"cmd":"open","vdi":"node1","socket":"%s","cpu":%s}' "$D/node1.sock" "$first")"
kill -TERM $PLXD; wait $PLXD; rc=$?
PLXD=
check "plxd exits cleanly with a disk on a thread" test $rc -eq 0
check "plx check finds the store sound" store_sound
finish
