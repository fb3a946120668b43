#!/bin/sh
# Installs the Debian 12 packages ssiuml needs that are missing. Needs root
# (or sudo) only when something is missing.
set -eu
packages="
  g++ clang libclang-rt-14-dev cmake make pkg-config file
  libboost-dev libboost-program-options-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev catch2 libncurses-dev
  user-mode-linux vde2 vdeplug uml-utilities busybox-static e2fsprogs debootstrap
  qemu-utils qemu-system-common procps tmux iproute2 libslirp-dev libvdeplug-dev python3
"
missing=""
for p in $packages; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
  esac
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "install-deps: run as root: apt-get install -y$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Wait for a package manager that is already running rather than fail.
$as_root apt-get -o DPkg::Lock::Timeout=300 update -q
# shellcheck disable=SC2086
$as_root apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends $missing
