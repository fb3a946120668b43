#!/usr/bin/env bash
# Bad input on plxd's control socket: what is not a request, a request of
# another version, an unknown command, a command without what it needs, a
# field of the wrong type, a line over the limit and a client that never
# reads its replies each get an error or lose their connection, and plxd
# goes on serving the others.
. "$(dirname "$0")/../lockserver/test_lib.sh"
PLXD=
before_cleanup() { [ -n "$PLXD" ] && kill -KILL "$PLXD" 2>/dev/null; }
control() { echo "$1" | "$BIN/sockcat" "$D/plxd.ctl" 300 2>/dev/null; }
error_says() {  # error_says REQUEST TEXT: plxd refuses REQUEST, saying TEXT
  local out; out=$(control "$1")
  grep -q '"ok":false' <<<"$out" && grep -qF "$2" <<<"$out"
}
S=$D/s.plx
PLX="$BIN/plx -s $S"
store_sound() { $PLX check >/dev/null; }
$PLX mkfs "$S" && $PLX vdi create node1 --size 4M >/dev/null
"$BIN/plxd" --store "$S" --control "$D/plxd.ctl" --log "$D/plxd.log" &
PLXD=$!
for _ in $(seq 200); do [ -S "$D/plxd.ctl" ] && break; sleep 0.05; done
control '{"v":1,"cmd":"open","vdi":"node1","socket":"'"$D/node1.sock"'"}' >/dev/null

check "not JSON" error_says 'open node1' 'expected {\"v\":1,\"cmd\":...}'
check "another protocol version" error_says '{"v":2,"cmd":"list"}' 'expected {\"v\":1'
check "a command that is not a string" error_says '{"v":1,"cmd":7}' 'expected {\"v\":1'
check "an unknown command" error_says '{"v":1,"cmd":"format","vdi":"node1"}' 'unknown command format'
check "a command without its VDI" error_says '{"v":1,"cmd":"close"}' 'close needs \"vdi\"'
check "open without a socket" error_says '{"v":1,"cmd":"open","vdi":"node2"}' 'open needs \"socket\"'
check "a VDI that is not served" error_says '{"v":1,"cmd":"snapshot","vdi":"node9"}' 'node9 is not served'
check "an unknown fault" error_says '{"v":1,"cmd":"fault","vdi":"node1","fault":"melt"}' 'fault must be none, stall or error'
check "deleting a served VDI" error_says '{"v":1,"cmd":"delete","vdi":"node1"}' 'node1 is being served; close it first'
check "a version that is a string" error_says '{"v":"1","cmd":"list"}' 'a field has the wrong type'
check "a fault that is a number" error_says '{"v":1,"cmd":"fault","vdi":"node1","fault":3}' 'a field has the wrong type'
check "a snapshot name that is a number" error_says '{"v":1,"cmd":"snapshot","vdi":"node1","name":5}' 'a field has the wrong type'

# A line over 64 KiB is dropped whole with its connection: no reply, EOF.
long_line() { { head -c 70000 /dev/zero | tr '\0' x; echo; } | "$BIN/sockcat" "$D/plxd.ctl" 3000 2>/dev/null; }
check "a line over the limit ends its connection unanswered" test -z "$(long_line)"
# 60000 requests whose replies (over 6 MiB) the client does not read for a
# second: past 4 MiB unread, plxd closes that connection (sockcat exits 0, not 3).
never_reads() {
  yes '{"v":1,"cmd":"list"}' | head -n 60000 | "$BIN/sockcat" "$D/plxd.ctl" 3000 1000 >/dev/null 2>&1
}
check "a control client that never reads is dropped" never_reads
check "plxd still answers the others" grep -q '"vdi":"node1"' <<<"$(control '{"v":1,"cmd":"list"}')"
check "and still serves node1's socket" test -S "$D/node1.sock"
kill -TERM $PLXD; wait $PLXD; rc=$?
PLXD=
check "plxd exits cleanly" test $rc -eq 0
check "plx check finds the store sound" store_sound
finish
