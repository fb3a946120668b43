// A raw pseudo-terminal pair: ssid keeps the master, the node gets the slave
// as its con0 or ssl1. Raw because the guest's own tty layer does the line
// editing; the host side must pass bytes through untouched.
#pragma once

#include "common/fd.h"
#include "common/status.h"

namespace ssiuml {

// The master is non-blocking and close-on-exec.
Status OpenRawPty(UniqueFd* master, UniqueFd* slave);

}  // namespace ssiuml
