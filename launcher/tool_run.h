// Short helper commands (plx, qemu-img) run to completion with their output
// captured, for the callers that need their answer or their error line.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace ssiuml {

struct ToolResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string out;
  std::string err;
  // The last line the tool printed on stderr, without a "prog: error: "
  // prefix: its one-line reason for failing.
  std::string ErrorLine() const;
};

// Runs argv (argv[0] is looked up on PATH unless it holds a '/') with this
// process's environment and stdin from /dev/null. NotFound when the program
// is missing; any exit status is OK (see result->exit_code).
Status RunTool(const std::vector<std::string>& argv, ToolResult* result);

}  // namespace ssiuml
