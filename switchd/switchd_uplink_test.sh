#!/usr/bin/env bash
# Two switchd, each in its own network namespace, joined by --uplink over
# udp:// across a veth pair: a client of switch B pings the gateway of
# switch A, and frames cross both ways and are learned like any port's.
. "$(dirname "$0")/test_lib.sh"
# switchd's uplink loads libvdeplug's plugins with RTLD_DEEPBIND, which ASan refuses.
if [ "${SSIUML_SANITIZED:-OFF}" = ON ]; then log "SKIP: the uplink cannot run under ASan"; exit 0; fi
if ! netns_ok; then log "SKIP: cannot create network namespaces here"; exit 0; fi
A=swt-a-$$ B=swt-b-$$
add_netns $A
add_netns $B
ip link add "va$$" netns $A type veth peer name "vb$$" netns $B
ip netns exec $A ip addr add 10.99.0.1/24 dev "va$$"
ip netns exec $B ip addr add 10.99.0.2/24 dev "vb$$"
ip netns exec $A ip link set "va$$" up
ip netns exec $B ip link set "vb$$" up
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
PATH_FOR_NS="PATH=$PATH"
in_ns $A env "$PATH_FOR_NS" switchd "$T/a" --control "$T/a.ctl" --log "$T/a.log" --gateway \
  --uplink "udp://2000->10.99.0.2:2000" & PIDS="$PIDS $!"
in_ns $B env "$PATH_FOR_NS" switchd "$T/b" --control "$T/b.ctl" --log "$T/b.log" \
  --uplink "udp://2000->10.99.0.1:2000" & PIDS="$PIDS $!"
for _ in $(seq 100); do [ -S "$T/a.ctl" ] && [ -S "$T/b.ctl" ] && break; sleep 0.05; done
expect_joined a b "over the udp:// uplink"
expect_output "switch B learned node 1 behind its uplink" '"mac":"02:55:4d:00:00:01","port":1000' \
  ctl b '{"v":1,"cmd":"status"}'
