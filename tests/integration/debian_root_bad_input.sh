#!/usr/bin/env bash
# mkroot-debian.sh refuses bad input in one line that says the fix: no
# debootstrap, no mirror configured, a mirror that does not answer, a package
# Debian does not have (a real debootstrap against the host's mirror), a
# kernel without modules, and a user who is not root.
. "$(dirname "$0")/lib.sh"
build=$(cd "$SSI_BIN/.." && pwd)
mkroot=$(cd "$(dirname "$0")/../../rootfs-tools" && pwd)/mkroot-debian.sh
out=$TEST_HOME/debian.img
args=(-o "$out" --guest-bin "$build/guest-bin" --cache "$TEST_HOME/cache")
one_line() {  # one_line DESCRIPTION PATTERN COMMAND...: fails, one line on stderr matching PATTERN
  local what=$1 pattern=$2 err; shift 2
  if err=$("$@" 2>&1 >/dev/null); then fail "$what: it succeeded"; return; fi
  if [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && printf '%s' "$err" | grep -Eq -- "$pattern"; then
    log "ok: $what"
  else
    fail "$what: expected one line /$pattern/, got: $err"
  fi
}

one_line "no debootstrap on PATH" "debootstrap is needed: apt-get install debootstrap" \
  env PATH=/usr/bin:/bin "$mkroot" "${args[@]}"
: > "$TEST_HOME/empty.sources"
one_line "no mirror configured" "no Debian mirror in .*empty.sources: add one .* or pass --mirror URL" \
  "$mkroot" "${args[@]}" --sources "$TEST_HOME/empty.sources"
one_line "a mirror that does not answer" "Debian mirror http://127.0.0.1:9/debian is unreachable.*check the network or pass --mirror URL" \
  "$mkroot" "${args[@]}" --mirror http://127.0.0.1:9/debian
printf '#!/bin/sh\necho 0.0.0-nomodules\n' > "$TEST_HOME/kernel"
chmod +x "$TEST_HOME/kernel"
one_line "a kernel without modules" "kernel .*kernel \(0.0.0-nomodules\) has no modules in /usr/lib/uml/modules/0.0.0-nomodules: install its modules .*or set KERNEL" \
  env KERNEL="$TEST_HOME/kernel" "$mkroot" "${args[@]}"
# Another user, who can read the build and write its own directory.
chmod 755 "$TEST_HOME" && mkdir -m 777 "$TEST_HOME/user"
one_line "not root" "debootstrap needs root: run as root" \
  setpriv --reuid=65534 --regid=65534 --clear-groups \
  "$mkroot" -o "$TEST_HOME/user/debian.img" --guest-bin "$build/guest-bin" --cache "$TEST_HOME/user/cache"
one_line "a bad package name" "no package no-such-package-ssiuml in bookworm on .*: check --packages" \
  nice -n 10 "$mkroot" "${args[@]}" --packages no-such-package-ssiuml
check "and nothing was built" test ! -e "$out"

# rootfs-tools mkroot, which runs the script, refuses bad input in one line.
one_line "mkroot: an unknown option" "^rootfs-tools: unrecognised option '--size' \(usage: rootfs-tools mkroot " \
  rootfs-tools mkroot --debian --size 1G
one_line "mkroot: an empty --packages" "--packages names no package: .* e.g. --packages etcd-server,etcd-client" \
  rootfs-tools mkroot --debian --packages ''
one_line "mkroot: an empty name in --packages" "bad package name '' in --packages 'etcd-server,,etcd-client'" \
  rootfs-tools mkroot --debian --packages etcd-server,,etcd-client
one_line "mkroot: a malformed name in --packages" "bad package name 'Etcd_Server' in --packages" \
  rootfs-tools mkroot --debian --packages Etcd_Server
one_line "mkroot: --packages without --debian" "--packages needs --debian" rootfs-tools mkroot --packages etcd-server
one_line "mkroot: not root" "^rootfs-tools: mkroot --debian needs root for debootstrap: run it as root" \
  setpriv --reuid=65534 --regid=65534 --clear-groups "$SSI_BIN/rootfs-tools" mkroot --debian -o "$TEST_HOME/user/debian.img"
one_line "an unknown command" "^rootfs-tools: unknown command 'mkfs' \(commands: import, mkroot" rootfs-tools mkfs
check "and still nothing was built" test ! -e "$TEST_HOME/user/debian.img"
