#!/usr/bin/env bash
# The shipped etcd scenario (tests/scenarios/etcd.scn): a 3-member etcd
# cluster in the Debian root, built by `rootfs-tools mkroot --debian` (the
# same image and cache as debian_root.sh), keeps every acknowledged write
# through a crash, a pause and a partition, and is whole again after the heal.
. "$(dirname "$0")/lib.sh"
build=$(cd "$SSI_BIN/.." && pwd)
want=$build/share/ssiuml/debian-etcd.img
C=etcd$$
use_cluster $C

image=$(nice -n 10 rootfs-tools mkroot --debian --packages etcd-server,etcd-client -o "$want")
check "rootfs-tools mkroot --debian builds or reuses the root and prints its path" test "$image" = "$want" -a -f "$want"
started=$SECONDS
out=$(ssi-test --cluster $C --root "$image" "$(dirname "$0")/../scenarios/etcd.scn" 2>&1); rc=$?
if [ $rc -eq 0 ]; then
  log "ok: the etcd scenario passed in $((SECONDS - started)) s"
else
  fail "the etcd scenario: $out"
fi
check "its report lists every check" grep -q "^6 passed, 0 failed$" <<< "$out"
