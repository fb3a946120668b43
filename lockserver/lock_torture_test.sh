#!/usr/bin/env bash
# Real processes against a real lockserver: clients take and release one EX
# lock in a loop while a nemesis pauses them past their session expiry,
# resumes them and kills them. The fencer answers fence requests by killing
# the expired client; lock-torture check then verifies the history: tokens
# grow, and no grant ever overlaps a holder that was neither released nor
# fenced. LOCK_TORTURE_SECONDS sets the length (20).
#
# With --unfenced the server runs with --no-fencing and no fencer: paused
# holders lose their lock while they still think they hold it, and the test
# passes only if the checker catches that (it proves the checker can fail).
set -u
UNFENCED=0
[ "${1:-}" = --unfenced ] && UNFENCED=1
BIN=${SSI_BIN:-$(dirname "$0")/../build/bin}
SECONDS_TO_RUN=${LOCK_TORTURE_SECONDS:-20}
CLIENTS=${LOCK_TORTURE_CLIENTS:-8}
D=$(mktemp -d /tmp/lock-torture.XXXXXX)
declare -a PIDS
SERVER= FENCER=

cleanup() {
  for p in "${PIDS[@]}" $FENCER; do kill -KILL "$p" 2>/dev/null; kill -CONT "$p" 2>/dev/null; done
  [ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$D"
}
trap cleanup EXIT

FENCING=
[ $UNFENCED = 1 ] && FENCING=--no-fencing
"$BIN/lockserver" --tcp 127.0.0.1:0 --port-file "$D/port" --control "$D/ctl" \
  --heartbeat-ms 50 --expiry-missed 4 --log "$D/server.log" $FENCING &
SERVER=$!
for _ in $(seq 100); do [ -s "$D/port" ] && [ -S "$D/ctl" ] && break; sleep 0.05; done
[ -s "$D/port" ] || { echo "FAIL: lockserver did not start"; exit 1; }
ADDR=127.0.0.1:$(cat "$D/port")
if [ $UNFENCED = 0 ]; then
  "$BIN/lock-torture" fencer --control "$D/ctl" --dir "$D" --history "$D/history" &
  FENCER=$!
fi
exec 3>&2 2>>"$D/harness.log"  # bash's "Killed" notices for the nemesis' victims

start_client() {
  "$BIN/lock-torture" client --server "$ADDR" --control "$D/ctl" --node "$1" --dir "$D" \
    --history "$D/history" 2>>"$D/clients.log" &
  PIDS[$1]=$!
}
running() {  # alive and not a zombie
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$state" != Z ]
}

for i in $(seq "$CLIENTS"); do start_client "$i"; done
stops=0 kills=0 restarts=0
end=$((SECONDS + SECONDS_TO_RUN))
while [ $SECONDS -lt $end ]; do
  i=$((RANDOM % CLIENTS + 1)) p=${PIDS[$i]}
  case $((RANDOM % 4)) in
    0) kill -STOP "$p" 2>/dev/null; sleep 0.$((3 + RANDOM % 5)); kill -CONT "$p" 2>/dev/null; stops=$((stops + 1)) ;;
    1) kill -STOP "$p" 2>/dev/null; sleep 0.05; kill -CONT "$p" 2>/dev/null ;;  # shorter than expiry
    2) kill -KILL "$p" 2>/dev/null; kills=$((kills + 1)) ;;
    3) sleep 0.2 ;;
  esac
  for j in $(seq "$CLIENTS"); do
    if ! running "${PIDS[$j]}"; then wait "${PIDS[$j]}" 2>/dev/null; start_client "$j"; restarts=$((restarts + 1)); fi
  done
done
for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
sleep 0.5  # let the last expiries be fenced

echo "nemesis: $stops long pauses, $kills kills, $restarts restarts"
result=$("$BIN/lock-torture" check "$D/history"); rc=$?
echo "$result"
exec 2>&3
acquires=$(awk '{print $1}' <<<"$result" | head -1)
fenced=$(grep -o '[0-9]* fenced' <<<"$result" | awk '{print $1}')
if ! kill -0 "$SERVER" 2>/dev/null; then echo "FAIL: lockserver died"; exit 1; fi
if [ $UNFENCED = 1 ]; then
  [ $rc -eq 1 ] && { echo "PASS: the checker caught the unfenced holders"; exit 0; }
  echo "FAIL: no violation found without fencing"; exit 1
fi
if [ $rc -ne 0 ]; then echo "FAIL: mutex violated"; tail -20 "$D/server.log"; exit 1; fi
if [ "${acquires:-0}" -lt 100 ] || [ "${fenced:-0}" -lt 1 ]; then
  echo "FAIL: too little happened (acquires $acquires, fenced $fenced)"; exit 1
fi
echo "PASS"
