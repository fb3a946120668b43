// Finding a node's processes by its command line. UML's winch helpers call
// setsid() to take the console pty as their controlling terminal, so they
// escape the node's process group; they still carry the node's umid=
// argument, which is unique to the node.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ssiuml {

// Live processes one of whose argv elements equals arg exactly.
std::vector<pid_t> ProcessesWithArgument(const std::string& arg);

}  // namespace ssiuml
