#!/usr/bin/env bash
# DISK=plx (the default): nodes boot from clones of the root in one plx
# store served by plxd. Separate disks, a crash mid-write leaves the store
# sound, the node comes back with its data, --fresh re-clones, plxd owns the
# served VDIs through the lock server, the exported disk passes e2fsck, and
# ROOT is never written. PLACEMENT=spread (the default) runs each node on one
# CPU with plxd serving its disk from there; PLACEMENT=none pins nothing.
. "$(dirname "$0")/lib.sh"
C=plx$$
use_cluster $C
store=$HOME/.ssiuml/clusters/$C/disk/cluster.plx
root_sum=$(sha256sum < "$SSI_ROOT_IMAGE")

check "ssi-start 3 on plx" ssi-start --cluster $C 3
expect_output "status says plx disks" "plx disks" ssi-status --cluster $C
expect_output "node1 boots from the vhost-user disk" "^/dev/vda " ssi-exec --cluster $C 1 -- 'df / | tail -1'
check "node1 writes a file" ssi-exec --cluster $C 1 -- 'echo one > /root/mine && sync'
expect_output "node2 does not see it" "No such file" ssi-exec --cluster $C 2 -- cat /root/mine
check "node3 writes and syncs" ssi-exec --cluster $C 3 -- 'echo kept > /root/mark && sync'
ssi-exec --cluster $C 3 -- 'setsid sh -c "while :; do dd if=/dev/urandom of=/root/churn bs=64k count=32 2>/dev/null; done" </dev/null >/dev/null 2>&1 &'
sleep 1
check "ssi-rm 3 in the middle of its writes" ssi-rm --cluster $C 3
check "ssi-add 3 brings it back" ssi-add --cluster $C 3
expect_output "node3 kept what it synced" "^kept$" ssi-exec --cluster $C 3 -- cat /root/mark
# A live snapshot while node 3 writes, and a new node booted from it.
ssi-exec --cluster $C 3 -- 'echo in-snapshot > /root/snapped && sync'
expect_output "ssi-snap takes a live snapshot" "^node3@mid-write$" ssi-snap --cluster $C 3 mid-write
check "ssi-add --from boots node 4 from it" ssi-add --cluster $C --from node3@mid-write 4
expect_output "node 4 has node 3's synced data" "^in-snapshot$" ssi-exec --cluster $C 4 -- cat /root/snapped
expect_output "and its own identity" "^node4$" ssi-exec --cluster $C 4 -- hostname
expect_output "a snapshot that does not exist is refused" "no snapshot 'nope'" ssi-add --cluster $C --from node3@nope 5
expect_output "plxd reports the disks it serves" '"vdi":"node3"' \
  sh -c "echo '{\"v\":1,\"cmd\":\"stats\"}' | $SSI_BIN/sockcat $HOME/.ssiuml/run/$C/disk/plxd.ctl"
# PLACEMENT=spread: every process of node N on its host_cpu, and its disk
# served from a plxd thread pinned there.
plxd_list() { echo '{"v":1,"cmd":"list"}' | $SSI_BIN/sockcat $HOME/.ssiuml/run/$C/disk/plxd.ctl; }
node_cpus() {  # the distinct CPU lists of node $1's processes
  for p in $(pgrep -f "umid=$C-n$1( |$)"); do awk '/Cpus_allowed_list/ { print $2 }' /proc/$p/status; done | sort -u
}
node_cpu() {  # node $1's host_cpu in ssi-status (keys come sorted)
  ssi-status --cluster $C --json | tr -d ' \n' | grep -o '{[^{}]*"node":'"$1"',[^{}]*}' | sed -n 's/.*"host_cpu":\([0-9]*\).*/\1/p'
}
placed() {  # placed N: node N and its disk are on node N's CPU
  local cpu; cpu=$(node_cpu "$1")
  [ -n "$cpu" ] && [ "$(node_cpus "$1")" = "$cpu" ] && plxd_list | grep -q '"cpu":'"$cpu"',[^{}]*"vdi":"node'"$1"'"'
}
check "node 1 runs on its CPU alone, its disk served from there" placed 1
check "so does node 2" placed 2
if [ "$(nproc)" -gt 1 ]; then
  check "nodes 1 and 2 are on different CPUs" test "$(node_cpu 1)" != "$(node_cpu 2)"
fi
# plxd owns the served VDIs through the cluster's lock server.
expect_output "the lock server lists plxd as node1's owner" "holder name=plx:[0-9a-f]{16}:node1 mode=EX .* by=plxd-" \
  ssi-lock --cluster $C --host status
expect_output "plx --cluster cannot write a served VDI, and says who does" \
  "^plx: error: VDI node1 is open for writing by plxd-[0-9]+@" plx --cluster $C vdi snap node1 sneaky
check "but reads its snapshots" plx --cluster $C vdi export node3@mid-write "$TEST_HOME/mid.img"
check "ssi-stop" ssi-stop --cluster $C
check "stopped, plx --cluster writes with STORE.lock alone" plx --cluster $C vdi snap node1 stopped
check "plx check finds the store sound" plx -s "$store" check
check "node3's disk exports" plx -s "$store" vdi export node3 "$TEST_HOME/node3.img"
check "and passes e2fsck" e2fsck -n -f "$TEST_HOME/node3.img"
check "the shared ROOT is unchanged" test "$(sha256sum < "$SSI_ROOT_IMAGE")" = "$root_sum"

echo PLACEMENT=none > "$SSIUML_CONF"
check "the cluster starts again (PLACEMENT=none)" ssi-start --cluster $C 1
check "node 1 is not pinned" test "$(node_cpus 1)" = "$(awk '/Cpus_allowed_list/ { print $2 }' /proc/self/status)"
check "nor is its disk" sh -c "! echo '{\"v\":1,\"cmd\":\"list\"}' | $SSI_BIN/sockcat $HOME/.ssiuml/run/$C/disk/plxd.ctl | grep -q '\"cpu\"'"
expect_output "node1 kept its file across ssi-stop" "^one$" ssi-exec --cluster $C 1 -- cat /root/mine
check "ssi-rm 1" ssi-rm --cluster $C 1
check "ssi-add --fresh 1 re-clones" ssi-add --cluster $C --fresh 1
expect_output "its changes are gone" "No such file" ssi-exec --cluster $C 1 -- cat /root/mine
check "ssi-stop" ssi-stop --cluster $C
