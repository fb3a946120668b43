#!/usr/bin/env bash
# VDI write ownership between real processes through a real lockserver:
# while plxd serves node1, plx cannot write it (and is told plxd does),
# snapshots still read; closing frees it; a killed plxd's ownership ends
# when its session expires; a hung plxd keeps its VDI on this host and,
# resumed, finds it has lost the ownership and refuses to write.
. "$(dirname "$0")/../lockserver/test_lib.sh"
PLXD=
before_cleanup() { [ -n "$PLXD" ] && kill -CONT "$PLXD" 2>/dev/null && kill -KILL "$PLXD" 2>/dev/null; }
control() {  # control JSON: one request to plxd, its reply on stdout
  echo "$1" | "$BIN/sockcat" "$D/plxd.ctl" 300 2>/dev/null  # it waits for an end plxd never sends
}
ctl_ok() { control "$1" | grep -q '"ok":true'; }
open_node1() { ctl_ok '{"v":1,"cmd":"open","vdi":"node1","socket":"'"$D"'/node1.sock"}'; }
start_plxd() {
  rm -f "$D/plxd.ctl" "$D/node1.sock"  # a killed plxd leaves them
  "$BIN/plxd" --store "$S" --control "$D/plxd.ctl" --locks "$D/port" --log "$D/plxd.log" &
  PLXD=$!
  for _ in $(seq 200); do [ -S "$D/plxd.ctl" ] && break; sleep 0.05; done
  open_node1
}
lacks() { ! grep -q -- "$1" <<<"$2"; }
lock_status() { "$BIN/ssi-lock" --host --server "127.0.0.1:$(cat "$D/port")" status; }
# A session expires after 10 missed heartbeats of 100 ms: time enough to see
# a dead holder's lock still held, and short enough to wait out.
"$BIN/lockserver" --tcp 127.0.0.1:0 --port-file "$D/port" --heartbeat-ms 100 --expiry-missed 10 \
  --log "$D/lock.log" &
SERVER=$!
for _ in $(seq 100); do [ -s "$D/port" ] && break; sleep 0.05; done
S=$D/s.plx
PLX="$BIN/plx -s $S"
LOCKED="$PLX --locks $D/port"
head -c 1048576 /dev/urandom > "$D/img"
$PLX mkfs "$S" && $PLX vdi create node1 --size 4M >/dev/null
check "plx --locks writes a free VDI" $LOCKED vdi fill node1 "$D/img"
check "and snapshots it" $LOCKED vdi snap node1 s1

check "plxd --locks serves node1" start_plxd
out=$(lock_status)
check "the lock server lists plxd as node1's owner" grep -Eq "holder name=plx:[0-9a-f]{16}:node1 mode=EX .* by=plxd-$PLXD@" <<<"$out"
$LOCKED vdi fill node1 "$D/img" 2>"$D/err"; rc=$?
check "a second writer is refused" test $rc -eq 1
check "in one line naming the VDI and plxd" grep -q "^plx: error: VDI node1 is open for writing by plxd-$PLXD@.*; close it there first" "$D/err"
check "that is the only line" test "$(wc -l < "$D/err")" -eq 1
$PLX vdi fill node1 "$D/img" 2>"$D/err"; rc=$?
check "plx without the lock server is refused too (STORE.lock)" test $rc -eq 1
check "saying so" grep -q "VDI node1 is open for writing by another process on this host" "$D/err"
check "a snapshot still reads" $LOCKED vdi export node1@s1 "$D/out"
check "with what was written" cmp -n 1048576 "$D/img" "$D/out"
check "the VDIs still list" $LOCKED vdi list >/dev/null
check "plxd closes node1" ctl_ok '{"v":1,"cmd":"close","vdi":"node1"}'
check "then plx writes it" $LOCKED vdi fill node1 "$D/img"

check "plxd serves node1 again" open_node1
kill -KILL $PLXD; wait $PLXD 2>/dev/null
dead=$PLXD; PLXD=
$LOCKED vdi fill node1 "$D/img" 2>"$D/err"; rc=$?
check "a killed plxd still owns node1 until its session expires" test $rc -eq 1
check "and is named" grep -q "open for writing by plxd-$dead@" "$D/err"
for _ in $(seq 60); do $LOCKED vdi fill node1 "$D/img" 2>/dev/null && break; sleep 0.1; done
check "after the expiry the write works" $LOCKED vdi fill node1 "$D/img"

check "a new plxd serves node1" start_plxd
kill -STOP $PLXD
sleep 2  # past the 1 s expiry
$LOCKED vdi fill node1 "$D/img" 2>"$D/err"; rc=$?
check "a hung plxd's session expires, but it keeps node1 on this host" test $rc -eq 1
check "through STORE.lock" grep -q "open for writing by another process on this host" "$D/err"
kill -CONT $PLXD
out=$(control '{"v":1,"cmd":"snapshot","vdi":"node1","name":"late"}')
check "resumed, plxd refuses to write node1" grep -q '"error":"lost write ownership of VDI node1: ' <<<"$out"
control '{"v":1,"cmd":"close","vdi":"node1"}' >/dev/null
check "closed and opened again, it owns node1 anew" open_node1
kill -TERM $PLXD; wait $PLXD; rc=$?
PLXD=
check "plxd exits cleanly" test $rc -eq 0
check "and leaves no lock behind" lacks "holder name=plx:" "$(lock_status)"
check "plx check finds the store sound" $PLX check >/dev/null
finish
