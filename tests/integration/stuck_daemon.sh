#!/usr/bin/env bash
# A helper daemon that stops answering (SIGSTOP: stopped, or stuck) costs
# ssid one short wait, not one per request: ssi-status still answers, says
# which daemon it left out and why, and the figures come back once the
# daemon does. Long leases keep the node a member through the stop (its
# lock-server traffic crosses switchd).
. "$(dirname "$0")/lib.sh"
C=stuck$$
use_cluster $C
printf 'HEARTBEAT_MS=1000\nEXPIRY_MISSED=30\n' >> "$SSIUML_CONF"
check "ssi-start 1" ssi-start --cluster $C 1
run=$HOME/.ssiuml/run/$C
switchd_pid=$(pgrep -f "/switchd $run/switch " | head -1)
plxd_pid=$(pgrep -f "/plxd .*--control $run/disk/" | head -1)
check "switchd and plxd are found" test -n "$switchd_pid" -a -n "$plxd_pid"
# Continued whatever happens, so the cleanup's ssi-stop finds them running.
trap 'kill -CONT $switchd_pid $plxd_pid 2>/dev/null; finish' EXIT
kill -STOP "$switchd_pid" "$plxd_pid"
expect_output "ssi-status answers while switchd is stopped, and says so" \
  "warning: switchd did not answer within 2000 ms \(stopped or stuck\?\); its figures are left out" \
  ssi-status --cluster $C
expect_output "and while plxd is stopped" "warning: plxd did not answer within 5000 ms" ssi-status --cluster $C
expect_output "the nodes are still listed" "^1 +running" ssi-status --cluster $C
expect_output "a request that needs switchd fails with the reason, not a hang" "switchd did not answer within 5000 ms" \
  ssi-net --cluster $C status
kill -CONT "$switchd_pid" "$plxd_pid"
answered() {
  for _ in $(seq 60); do
    ssi-status --cluster $C > "$TEST_HOME/status" 2>&1 && ! grep -q warning "$TEST_HOME/status" && return 0
    sleep 1
  done
  cat "$TEST_HOME/status"
  return 1
}
check "once they answer again the warnings go" answered
check "the node answers" ssi-exec --cluster $C 1 -- true
check "ssi-stop" ssi-stop --cluster $C
