# Shared by the shell tests that run a real lockserver (here and in cow/): the
# build's binaries, a private directory $D, checks, and a cleanup that stops
# the lockserver in $SERVER after the test's own before_cleanup.
set -u
BIN=${SSI_BIN:-$(dirname "$0")/../build/bin}
D=$(mktemp -d "/tmp/$(basename "$0" .sh).XXXXXX")
SERVER=
fails=0
before_cleanup() { :; }  # a test redefines it to stop what else it started
cleanup() {
  before_cleanup
  [ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$D"
}
trap cleanup EXIT
check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
# The verdict and the exit status.
finish() {
  [ $fails -eq 0 ] && echo PASS || { echo "FAIL: $fails checks"; exit 1; }
}
