// Logging set-up shared by every program: spdlog to stderr or a file, debug
// level with -v.
#pragma once

#include <string>

namespace ssiuml {

// Installs the default logger named after the program. An empty file logs to
// stderr; otherwise the file is appended to (daemons).
void SetupLogging(const std::string& program, bool verbose, const std::string& file = "");

}  // namespace ssiuml
