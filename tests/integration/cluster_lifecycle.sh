#!/usr/bin/env bash
# The seed scenario end to end: start 3 nodes, they reach each other, a node
# crashes like a power cut while the others keep running, it comes back with
# its disk, and ssi-stop leaves nothing behind, even with a frozen node.
. "$(dirname "$0")/lib.sh"
C=life$$
use_cluster $C

check "ssi-start 3 returns with every node up" ssi-start --cluster $C 3
expect_output "status lists three running nodes" "^3 +running" ssi-status --cluster $C
check "node1 pings node2" ssi-exec --cluster $C 1 -- ping -c 1 -W 5 node2
check "node1 pings node3" ssi-exec --cluster $C 1 -- ping -c 1 -W 5 10.77.0.3
expect_output "the real uml_mconsole reaches node1" "^OK Linux node1 " \
  uml_mconsole "$HOME/.ssiuml/run/$C/uml/$C-n1/mconsole" version
expect_output "hostname comes from ssi.node" "^node3$" ssi-exec --cluster $C 3 -- hostname
ssi-exec --cluster $C 2 -- 'exit 7'
check "ssi-exec returns the command's exit status" test $? -eq 7
check "stdout arrives on stdout" \
  test "$(ssi-exec --cluster $C 2 -- 'echo out; echo err >&2' 2>/dev/null)" = out
check "stderr arrives on stderr" \
  test "$(ssi-exec --cluster $C 2 -- 'echo out; echo err >&2' 2>&1 >/dev/null)" = err
check "node2 writes a file and syncs" ssi-exec --cluster $C 2 -- 'echo kept > /root/mark && sync'

node2_pid=$(ssi-status --cluster $C --json | sed -n 's/.*"pid": \([0-9]*\).*/\1/p' | sed -n 2p)
check "ssi-rm 2 succeeds" ssi-rm --cluster $C 2
check "node2's processes are gone" test -z "$(pgrep -f "umid=$C-n2( |$)")"
check "node2's process group is gone" test -z "$(pgrep -g "$node2_pid" 2>/dev/null)"
check "node2's umid dir is removed" test ! -e "$HOME/.ssiuml/run/$C/uml/$C-n2"
expect_output "status shows node2 crashed" "^2 +crashed .*removed by ssi-rm" ssi-status --cluster $C
check "node1 still answers" ssi-exec --cluster $C 1 -- true
check "node3 still answers" ssi-exec --cluster $C 3 -- true
expect_output "node1 no longer reaches node2" "100% packet loss" \
  ssi-exec --cluster $C 1 -- ping -c 1 -W 1 node2
expect_output "ssi-rm of a crashed node is an error" "node 2 is not running" ssi-rm --cluster $C 2

check "ssi-add 2 brings it back" ssi-add --cluster $C 2
expect_output "node2 kept its disk changes" "^kept$" ssi-exec --cluster $C 2 -- cat /root/mark
expect_output "adding a running node is an error" "node 1 is already running" ssi-add --cluster $C 1

events=$HOME/.ssiuml/clusters/$C/events.jsonl
check "events record the crash" grep -q '"cause":"removed by ssi-rm".*"event":"node_exited".*"node":2' "$events"
check "events record the restart" test "$(grep -c '"event":"node_started","node":2' "$events")" -eq 2
check "the console log holds the boot" grep -q "ssiuml: node2 of cluster $C up" "$HOME/.ssiuml/clusters/$C/log/node2.console"

# A frozen node ignores halt and SIGTERM; ssi-stop must still finish.
node3_pid=$(pgrep -f "umid=$C-n3( |$)" | head -1)
kill -STOP -- "-$(ps -o pgid= -p "$node3_pid" | tr -d ' ')"
start=$(date +%s)
check "ssi-stop succeeds with a frozen node" ssi-stop --cluster $C
check "ssi-stop is bounded (under 30 s)" test $(( $(date +%s) - start )) -lt 30
check "no linux.uml, vde_switch or vde_plug is left" test -z "$(our_processes)"
check "RUN is removed" test ! -e "$HOME/.ssiuml/run/$C"
check "events record the stop" grep -q '"event":"cluster_stopped"' "$events"
expect_output "status after stop says not running" "is not running" ssi-status --cluster $C
