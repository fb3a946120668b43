#!/bin/sh
# lockserver beside etcd in one run, on this machine: uncontended lock+unlock
# round trips per second from 1 and 16 clients, each with its own
# connection and lock name. etcd is etcd-server from Debian (installed with
# apt-get when missing), on 127.0.0.1 with a scratch data dir, driven through
# its JSON gateway (lease grant, /v3/lock/lock, /v3/lock/unlock) over
# kept-alive HTTP/1.1. Target: lockserver >= 10x etcd.
#
#   bench/lock.sh [BIN_DIR]    (default build/bin; LOCK_BENCH_SECONDS=5)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$here/build/bin}" && pwd)
secs=${LOCK_BENCH_SECONDS:-5}
for t in "$bin/lockserver" "$bin/lock_bench"; do
  [ -x "$t" ] || { echo "lock.sh: $t is missing; build it first (cmake --build build --target lockserver lock_bench)" >&2; exit 1; }
done
if ! command -v etcd >/dev/null; then
  echo "installing etcd-server"
  apt-get install -y etcd-server >/dev/null || { echo "lock.sh: apt-get install etcd-server failed" >&2; exit 1; }
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/lock-bench.XXXXXX")
server= etcd_pid=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

"$bin/lockserver" --tcp 127.0.0.1:0 --port-file "$dir/port" --log "$dir/lockserver.log" &
server=$!
# Free ports for etcd: ask the kernel, as lockserver just did.
etcd_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
peer_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ETCD_UNSUPPORTED_ARCH= etcd --name bench --data-dir "$dir/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "bench=http://127.0.0.1:$peer_port" >"$dir/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 100); do
  [ -s "$dir/port" ] && curl -sf "http://127.0.0.1:$etcd_port/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$etcd_port/health" >/dev/null || { echo "lock.sh: etcd did not start:" >&2; tail "$dir/etcd.log" >&2; exit 1; }
lock_addr=127.0.0.1:$(cat "$dir/port")
echo "etcd $(etcd --version | head -1 | awk '{print $3}') vs lockserver, ${secs}s per run, $(nproc) cores"

rate() { "$bin/lock_bench" "$1" "$2" "$3" "$secs" | awk '/ops_per_sec/ {print $2}'; }
printf '%-8s %14s %14s %8s\n' clients "lockserver/s" "etcd/s" ratio
for n in 1 16; do
  l=$(rate lockserver "$lock_addr" "$n")
  e=$(rate etcd "127.0.0.1:$etcd_port" "$n")
  printf '%-8s %14s %14s %7.1fx\n' "$n" "$l" "$e" "$(echo "$l / $e" | bc -l)"
done
