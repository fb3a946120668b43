#!/usr/bin/env bash
# The gateway with a real TCP/IP stack behind the switch: a network namespace
# whose tap device joins switchd through vde_plug plays a node (10.77.0.5).
# It pings 10.77.0.254, reaches a host unix socket through
# --gateway-forward, is reached from the host through "forward", and nothing
# else leaves (restricted mode).
. "$(dirname "$0")/test_lib.sh"
if ! netns_ok; then log "SKIP: cannot create network namespaces here"; exit 0; fi
cat > "$T/echo_unix.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); s.settimeout(10)
c, _ = s.accept(); c.sendall(b"lock:" + c.recv(100)); c.close()
PY
python3 "$T/echo_unix.py" "$T/lock.sock" & PIDS="$PIDS $!"
# A host service that hangs up at once, as the lock server does on a session it expired.
cat > "$T/hangup_unix.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.close()
PY
python3 "$T/hangup_unix.py" "$T/hangup.sock" & PIDS="$PIDS $!"
start_switchd sw --gateway --gateway-forward "7400=unix:$T/lock.sock" --gateway-forward "7401=unix:$T/hangup.sock" || exit 1
N=swt-gw-$$
add_netns $N
ip netns exec $N ip tuntap add dev tap0 mode tap
ip netns exec $N ip link set tap0 address 02:55:4d:00:00:05 up
ip netns exec $N ip addr add 10.77.0.5/24 dev tap0
ip netns exec $N sysctl -qw net.ipv4.ping_group_range="0 0"  # unprivileged ICMP sockets for root
HP=$((20000 + $$ % 10000))
ip netns exec $N vde_plug "tap://tap0" "$T/sw" & PIDS="$PIDS $!"
sleep 1
in_node() { ip netns exec $N python3 -c "$1"; }
expect_output "the node pings the gateway" "1/1 replies|ok" in_node "
import socket,os
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM,socket.IPPROTO_ICMP)
s.settimeout(2); s.sendto(b'\x08\0\0\0\0\1\0\1ping',('10.77.0.254',0)); print('ok' if s.recv(100) else '')" 
expect_output "guest TCP to 10.77.0.254:7400 reaches the host unix socket" "lock:hello" in_node "
import socket; s=socket.create_connection(('10.77.0.254',7400),timeout=5); s.sendall(b'hello'); print(s.recv(100))"
# The guest writes after the host hung up and keeps its side open, as a
# node that died would: switchd must not spin on the dead host socket.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sw_pid=$(pgrep -f "switchd $T/sw " | head -1)
in_node "
import socket,time; s=socket.create_connection(('10.77.0.254',7401),timeout=5)
time.sleep(0.5); s.sendall(b'x'*4000); print('sent', flush=True); time.sleep(5)" > "$T/holder.out" 2>&1 & holder=$!
for _ in $(seq 100); do grep -q sent "$T/holder.out" && break; sleep 0.1; done
if [ -n "$sw_pid" ] && grep -q sent "$T/holder.out"; then
  sleep 0.5
  t0=$(cpu_ticks "$sw_pid"); sleep 2; t1=$(cpu_ticks "$sw_pid")
  # Idle, switchd takes no tick in 2 s; the busy loop took all 200 of a CPU.
  check "switchd idles while a guest holds a connection the host closed ($((t1 - t0)) ticks in 2 s)" \
    test $((t1 - t0)) -lt 20
else
  fail "the guest did not write after the host hung up (switchd pid '$sw_pid'): $(cat "$T/holder.out")"
fi
wait $holder
expect_output "forward" '"listen":"127.0.0.1:'"$HP"'"' ctl sw '{"v":1,"cmd":"forward","host_port":'"$HP"',"node":5,"port":5000}'
in_node "
import socket; l=socket.socket(); l.bind(('10.77.0.5',5000)); l.listen(1); l.settimeout(8)
c,a=l.accept(); c.sendall(('from '+a[0]).encode()); c.close()" & srv=$!
sleep 0.5
expect_output "the host reaches the node through the forward, seen from .254" "from 10.77.0.254" python3 -c "
import socket; print(socket.create_connection(('127.0.0.1',$HP),timeout=5).recv(100).decode())"
wait $srv
expect_output "forwards lists it" '"forwards":\[\{"host_port":'"$HP" ctl sw '{"v":1,"cmd":"forwards"}'
expect_output "restricted: other gateway ports are refused" "refused" in_node "
import socket
try: socket.create_connection(('10.77.0.254',22),timeout=3); print('LEAK')
except OSError as e: print('refused', e)"
expect_output "restricted: nothing beyond the gateway" "refused|timed out|unreachable" in_node "
import socket,subprocess
subprocess.run(['ip','route','add','default','via','10.77.0.254'])
try: socket.create_connection(('192.0.2.1',80),timeout=3); print('LEAK')
except OSError as e: print('refused', e)"
rm -f "$T/lock.sock" "$T/hangup.sock"  # the test's own sockets, not switchd's
