#!/usr/bin/env bash
# The lock node's listeners with the real lockserver and ssi-lock: on
# --listen and --control-listen the --host-peer address gets host sessions and
# the control protocol; any other peer gets node sessions only, and its
# control connections are closed at once. Both run on 127.0.0.1 here: the
# host peer is 127.0.0.1, or 127.0.0.2 to make 127.0.0.1 a node.
# With --guest it tests the static lockserver-guest of the lock node's initramfs.
. "$(dirname "$0")/test_lib.sh"
SERVER_BIN=$BIN/lockserver
[ "${1:-}" = --guest ] && SERVER_BIN=$BIN/lockserver-guest
BOOT=0123456789abcdef0123456789abcdef
start() {  # start HOST_PEER: a lockserver on free ports of 127.0.0.1; sets P and Q
  : >"$D/server.log"
  "$SERVER_BIN" --listen 127.0.0.1:0 --control-listen 127.0.0.1:0 --host-peer "$1" --hello-wait-ms 200 \
    --log "$D/server.log" &
  SERVER=$!
  P='' Q=''
  for _ in $(seq 100); do
    P=$(sed -n 's/.* listening on 127\.0\.0\.1:\([0-9]*\) (host sessions.*/\1/p' "$D/server.log")
    Q=$(sed -n 's/.*control listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$D/server.log")
    [ -n "$P" ] && [ -n "$Q" ] && return 0
    sleep 0.05
  done
  echo "FAIL: lockserver --host-peer $1 did not start"; cat "$D/server.log"; exit 1
}
stop() {
  kill -TERM "$SERVER"
  wait "$SERVER"; local rc=$?
  SERVER=
  return $rc
}
ask() {  # ask PORT LINE...: sends the lines, prints the first reply ("" when closed)
  local port=$1 reply=; shift
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf '%s\n' "$@" >&3
  read -r -t 5 reply <&3 2>/dev/null  # a refused connection may be reset
  exec 3<&-
  printf '%s\n' "$reply"
}

out=$("$SERVER_BIN" --listen 127.0.0.1:0 2>&1); rc=$?
check "--listen without --host-peer is a usage error" test $rc -eq 2
check "and says what to give" grep -q -- "need --host-peer IP" <<<"$out"
out=$("$SERVER_BIN" --tcp 127.0.0.1:0 --control-listen 127.0.0.1:0 2>&1); rc=$?
check "so is --control-listen without it" test $rc -eq 2
out=$("$SERVER_BIN" --listen 127.0.0.1:0 --host-peer 10.77.0 2>&1); rc=$?
check "a --host-peer that is no IPv4 address is a usage error" test $rc -eq 2
check "with the reason" grep -q "host-peer wants an IPv4 address, not '10.77.0'" <<<"$out"
out=$("$SERVER_BIN" --listen localhost:7400 --host-peer 127.0.0.1 2>&1); rc=$?
check "a bad --listen address is refused" test $rc -eq 1
check "with the reason" grep -q -- "--listen wants IPV4:PORT, not 'localhost:7400'" <<<"$out"

start 127.0.0.1
LOCK="$BIN/ssi-lock --host --server 127.0.0.1:$P"
$LOCK status >/dev/null; rc=$?
check "the host peer opens host sessions" test $rc -eq 0
out=$($LOCK job -- sh -c 'echo "token=$SSI_LOCK_TOKEN"'); rc=$?
check "and takes locks" grep -Eq '^token=[0-9]+$' <<<"$out"
out=$(ask "$Q" '{"v":1,"cmd":"boot","node":3,"boot":"'$BOOT'"}')
check "the host peer speaks the control protocol" grep -q '"ok":true' <<<"$out"
out=$(ask "$P" "SSIL/1 HELLO id=1 node=3 boot=$BOOT name=t" "BYE id=2")
check "node sessions work from the host peer too" grep -q "^SSIL/1 WELCOME id=1 " <<<"$out"
out=$(ask "$Q" '{"v":1,"cmd":"status"}')
check "control status answers" grep -q '"refused":0' <<<"$out"
# The host's clock, an hour ahead here: PONG reports it.
host_ns=$(( ($(date +%s) + 3600) * 1000000000 ))
out=$(ask "$Q" '{"v":1,"cmd":"clock","host_ns":'$host_ns'}')
check "control clock takes the host's time" grep -q '"offset_ns":3[56][0-9]\{11\}' <<<"$out"
offset=$(sed -n 's/.*"offset_ns":\([0-9]*\).*/\1/p' <<<"$out")
out=$(ask "$Q" '{"v":1,"cmd":"clock","host_ns":'$((host_ns - 500000000))'}')
check "a later sample that came 0.5 s late moves nothing" grep -q '"offset_ns":'"$offset"'[,}]' <<<"$out"
exec 3<>"/dev/tcp/127.0.0.1/$P"
printf '%s\n' "SSIL/1 HELLO id=1 host name=t" "PING id=2" >&3
pong=0
for _ in 1 2; do read -r -t 5 line <&3 && [[ $line =~ ^PONG\ id=2\ time=([0-9]+) ]] && pong=${BASH_REMATCH[1]}; done
exec 3<&-
check "and PONG reports it" test "$pong" -ge "$host_ns"
out=$(ask "$Q" '{"v":1,"cmd":"clock","host_ns":-5}')
check "a bad clock is refused" grep -q 'clock needs \\"host_ns\\"' <<<"$out"
stop; check "SIGTERM exits cleanly" test $? -eq 0

start 127.0.0.2
LOCK="$BIN/ssi-lock --host --server 127.0.0.1:$P"
$LOCK status 2>"$D/err"; rc=$?
check "any other peer cannot open a host session" test $rc -eq 3
check "and is told why" grep -q "host sessions are only allowed from the host" "$D/err"
out=$(ask "$P" "SSIL/1 HELLO id=1 node=3 boot=$BOOT name=t")
check "its node HELLO goes to the identity check" grep -q "^ERR id=1 code=refused msg=node 3 has no registered" <<<"$out"
out=$(ask "$Q" '{"v":1,"cmd":"status"}')
check "its control connection is closed unanswered" test -z "$out"
check "and the refusal logged" grep -q "refused: control connection from 127.0.0.1 (only 127.0.0.2 may connect)" \
  "$D/server.log"
check "the server keeps serving" kill -0 "$SERVER"
stop; check "and exits cleanly" test $? -eq 0
finish
