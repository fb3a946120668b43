#!/usr/bin/env bash
# The lockserver and ssi-lock command lines: flock-like runs, exit codes,
# status, bad options, and a clean exit that removes the sockets.
. "$(dirname "$0")/test_lib.sh"

out=$("$BIN/lockserver" 2>&1); rc=$?
check "lockserver without listeners is a usage error" test $rc -eq 2
check "and says what to give" grep -q -- "give --tcp" <<<"$out"
out=$("$BIN/lockserver" --tcp 10.0.0.1:7400 2>&1); rc=$?
check "a non-loopback listener is refused" test $rc -eq 1
check "with the reason" grep -q "must be a loopback address" <<<"$out"
out=$("$BIN/lockserver" --tcp 127.0.0.1:0 --heartbeat-ms 1 2>&1); rc=$?
check "a silly heartbeat is refused" test $rc -eq 2
out=$("$BIN/lockserver" --tcp 127.0.0.1:0 --max-resources 0 2>&1); rc=$?
check "no room for locks is refused" test $rc -eq 2
check "with the range" grep -q -- "--max-resources 1-100000000" <<<"$out"
out=$("$BIN/lockserver" --tcp 127.0.0.1:0 --max-locks 0 2>&1); rc=$?
check "no room for lock requests is refused" test $rc -eq 2
check "with its range" grep -q -- "--max-locks 1-100000000" <<<"$out"
out=$("$BIN/lockserver" --tcp 127.0.0.1:0 --max-session-locks 0 2>&1); rc=$?
check "no room for one session's locks is refused" test $rc -eq 2
check "with the range of that" grep -q -- "--max-session-locks 1-100000000" <<<"$out"

"$BIN/lockserver" --tcp 127.0.0.1:0 --port-file "$D/port" --control "$D/ctl" --gateway-socket "$D/gw" \
  --log "$D/server.log" &
SERVER=$!
for _ in $(seq 100); do [ -s "$D/port" ] && break; sleep 0.05; done
export SSI_LOCK_SERVER=127.0.0.1:$(cat "$D/port")
LOCK="$BIN/ssi-lock --host"

out=$($LOCK job -- sh -c 'echo "token=$SSI_LOCK_TOKEN"; exit 3'); rc=$?
check "the command's exit code comes back" test $rc -eq 3
check "the command sees its fencing token" grep -Eq '^token=[0-9]+$' <<<"$out"
t1=${out#token=}
$LOCK job -- sleep 3 &
holder=$!
sleep 0.3
$LOCK -n job -- true 2>"$D/err"; rc=$?
check "-n on a held lock exits 1" test $rc -eq 1
check "and says why" grep -q "job not obtained: busy" "$D/err"
$LOCK -w 200 job -- true 2>"$D/err"; rc=$?
check "--timeout on a held lock exits 1" test $rc -eq 1
check "and says it timed out" grep -q "timeout" "$D/err"
out=$($LOCK status)
check "status lists the holder" grep -q "holder name=job mode=EX" <<<"$out"
check "status lists members" grep -q "^members: none" <<<"$out"
out=$($LOCK -m PR -w 5000 job -- sh -c 'echo "token=$SSI_LOCK_TOKEN"'); rc=$?
check "a waiter runs after the holder" test $rc -eq 0
t2=${out#token=}
check "tokens grow" test "$t2" -gt "$t1"
wait $holder
# Killed while it waits, ssi-lock says goodbye: a silent session would expire,
# and inside a node that gets the whole node fenced.
$LOCK job -- sleep 2 &
holder=$!
sleep 0.3
$LOCK job -- true &
waiter=$!
sleep 0.3
kill -TERM $waiter
wait $waiter; rc=$?
check "a waiter killed by SIGTERM exits 143" test $rc -eq 143
out=$($LOCK status)
check "and leaves the queue at once" test "$(grep -c "waiting name=job" <<<"$out")" -eq 0
sleep 1.5  # past the expiry
check "its session ended, it did not expire" test "$(grep -c expired "$D/server.log")" -eq 0
wait $holder
out=$("$BIN/ssi-lock-guest" --host status); rc=$?
check "the static guest build works on the host too" test $rc -eq 0
$LOCK -m XX job true 2>/dev/null; check "an unknown mode is a usage error" test $? -eq 2
$LOCK 2>/dev/null; check "no name is a usage error" test $? -eq 2
"$BIN/ssi-lock" --host --server 127.0.0.1:1 job true 2>"$D/err"; rc=$?
check "no server exits 3" test $rc -eq 3
check "with the address" grep -q "lock server 127.0.0.1:1" "$D/err"
$LOCK job -- /nonexistent/cmd 2>/dev/null; check "a missing command exits 127" test $? -eq 127
# On the host, --cluster finds the cluster's lock server through RUN/lock/port.
mkdir -p "$D/xdg/ssiuml/c1/lock"
cp "$D/port" "$D/xdg/ssiuml/c1/lock/port"
env -u SSI_LOCK_SERVER XDG_RUNTIME_DIR="$D/xdg" "$BIN/ssi-lock" --cluster c1 status >/dev/null
check "--cluster finds the lock server" test $? -eq 0
env -u SSI_LOCK_SERVER XDG_RUNTIME_DIR="$D/xdg" "$BIN/ssi-lock" --cluster c2 status 2>"$D/err"; rc=$?
check "a cluster without a lock server exits 3" test $rc -eq 3
check "and says how to start one" grep -q "cluster c2 has no lock server.*start it with ssi-start" "$D/err"

kill -TERM $SERVER
wait $SERVER; rc=$?
SERVER=
check "SIGTERM exits cleanly" test $rc -eq 0
check "and removes the control socket" test ! -e "$D/ctl"
check "and the gateway socket" test ! -e "$D/gw"
finish
