// UML's management console: datagrams of {magic 0xcafebabe, version 2, len,
// data[512]} to RUN/uml/<umid>/mconsole (reference/vde-mconsole-locks.md §2).
#pragma once

#include <string>

#include "common/status.h"

namespace ssiuml {

// Sends one command without waiting for the reply. UML sends its reply
// non-blocking, so an unread reply costs the guest nothing; ssid uses this
// for halt, where waiting could stall the supervisor on a wedged guest.
Status MconsoleSend(const std::string& socket_path, const std::string& command);

}  // namespace ssiuml
