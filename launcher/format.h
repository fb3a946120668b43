// Human-readable figures shared by ssi-status and the dashboard.
#pragma once

#include <cstdint>
#include <string>

namespace ssiuml {

// "42s", "3m07s", "2h05m".
std::string FormatUptime(uint64_t seconds);
// "38M", "1.2G".
std::string FormatMemory(uint64_t kib);

}  // namespace ssiuml
