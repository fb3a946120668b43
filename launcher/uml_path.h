// Paths that go on a UML command line: the kernel splits its command line at
// white space and UML splits ubd0=, eth0= and con0= at commas, so a path
// with either boots a node that panics instead of a clear error.
#pragma once

#include <string>

#include "common/status.h"

namespace ssiuml {

// InvalidArgument naming what (e.g. "ROOT") if path cannot be passed to UML.
Status CheckUmlPath(const std::string& what, const std::string& path);

}  // namespace ssiuml
