#!/usr/bin/env bash
# ssi-console under tmux, as a person would use it: the dashboard lists the
# nodes, keys reach the selected node, a crash shows within a second, resize
# and detach leave a sane terminal, a re-attach shows the history, and
# `ssi-console N` attaches straight to a node (and refuses a node it cannot).
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { log "skipped: tmux is not installed"; exit 0; }
C=con$$
use_cluster $C
# The server's socket in the private HOME: tmux leaves it behind after kill-server.
T="tmux -S $TEST_HOME/tmux.sock -f $TEST_HOME/tmux.conf"
printf 'set -g default-terminal screen\nset -g remain-on-exit on\n' > "$TEST_HOME/tmux.conf"
stop_tmux() { $T kill-server 2>/dev/null || true; }
trap 'stop_tmux; finish' EXIT

# The visible screen and recent history: what a program prints after leaving
# the alternate screen may have scrolled up.
screen() { $T capture-pane -p -S -50 -t "$1"; }
# wait_for TARGET PATTERN [TENTHS]: poll the pane until PATTERN shows.
wait_for() {
  local tries=${3:-50}
  for _ in $(seq "$tries"); do
    screen "$1" | grep -Eq -- "$2" && return 0
    sleep 0.1
  done
  echo "--- pane $1:"; screen "$1" | grep -v "^$"
  return 1
}

expect_output "without a terminal it points at ssi-status" "needs a terminal; from scripts use ssi-status" \
  sh -c "ssi-console --cluster $C </dev/null"
check "ssi-start 2" ssi-start --cluster $C 2

$T new-session -d -s dash -x 150 -y 40 "ssi-console --cluster $C"
check "the dashboard lists both nodes" wait_for dash "^ 2 +running"
check "it shows node 1's console" wait_for dash "node 1: running"
$T send-keys -t dash "echo typed-into-node1" Enter
check "keys reach node 1 and its output shows" wait_for dash "^.*│typed-into-node1"
$T send-keys -t dash C-a n
check "C-a n selects node 2" wait_for dash "node 2: running"
$T send-keys -t dash "hostname" Enter
check "node 2 answers" wait_for dash "│node2 *$"
ssi-rm --cluster $C 1 >/dev/null
check "a crash shows within a second" wait_for dash "crashed" 10
check "with its cause on the status bar" wait_for dash "node 1 crashed: removed by ssi-rm" 10
$T send-keys -t dash C-a '?'
check "C-a ? shows the key bindings" wait_for dash "split view"
$T send-keys -t dash q
$T resize-window -t dash -x 90 -y 20
check "a resize redraws the dashboard" wait_for dash "^ NODE"
$T resize-window -t dash -x 30 -y 4
check "a tiny terminal is refused politely" wait_for dash "terminal too small"
$T resize-window -t dash -x 150 -y 40
check "and it recovers" wait_for dash "^ 2 +running"
$T send-keys -t dash C-a d
check "C-a d detaches" wait_for dash "^\[detached from cluster $C\]"
pane_dead() {
  for _ in $(seq 50); do [ "$($T display -p -t "$1" '#{pane_dead}')" = 1 ] && return 0; sleep 0.1; done
  return 1
}
check "the dashboard process ended" pane_dead dash

$T new-window -t dash -n again "ssi-console --cluster $C"
$T send-keys -t dash:again C-a 1
check "a new dashboard still has node 1's history" wait_for dash:again "typed-into-node1"
$T send-keys -t dash:again C-a d

$T new-window -t dash -n direct "ssi-console --cluster $C 2"
check "ssi-console 2 attaches to node 2 with its history" wait_for dash:direct "^node2"
$T send-keys -t dash:direct "echo direct-\$((6*7))" Enter
check "typing reaches node 2" wait_for dash:direct "^direct-42"
$T send-keys -t dash:direct C-a d
check "C-a d detaches from node 2" wait_for dash:direct "^\[detached from node 2 of cluster $C\]"
$T new-window -t dash -n far "ssi-console --cluster $C 300"
check "a node past the cluster's range is refused in one line" wait_for dash:far "^ssi-console: node 300 is out of range"
expect_output "a node number with letters is refused" "expected one node number" ssi-console --cluster $C 2abc
check "ssi-stop" ssi-stop --cluster $C
