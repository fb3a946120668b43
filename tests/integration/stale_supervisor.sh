#!/usr/bin/env bash
# A supervisor killed with SIGKILL leaves RUN and orphaned nodes; the next
# command finds them, kills them and cleans RUN.
. "$(dirname "$0")/lib.sh"
C=stale$$
use_cluster $C
check "ssi-start 2" ssi-start --cluster $C 2
ssid_pid=$(cat "$HOME/.ssiuml/run/$C/ssid.pid")
kill -9 "$ssid_pid"
sleep 0.5
check "nodes survive their supervisor for now" test -n "$(pgrep -f "umid=$C-n1( |$)")"
expect_output "the next command cleans up" "not running \(cleaned up after a supervisor that died\)" \
  ssi-status --cluster $C
check "no node, switch or plug of the dead cluster remains" test -z "$(our_processes)"
check "RUN is gone" test ! -e "$HOME/.ssiuml/run/$C"
check "the cluster starts again" ssi-start --cluster $C 1
check "its node answers" ssi-exec --cluster $C 1 -- true
check "ssi-stop" ssi-stop --cluster $C
