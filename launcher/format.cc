#include "launcher/format.h"

#include <cstdio>

namespace ssiuml {

std::string FormatUptime(uint64_t seconds) {
  char buf[32];
  auto s = static_cast<unsigned long long>(seconds);
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llus", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%llum%02llus", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lluh%02llum", s / 3600, s / 60 % 60);
  }
  return buf;
}

std::string FormatMemory(uint64_t kib) {
  char buf[32];
  if (kib < 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%lluM", static_cast<unsigned long long>(kib / 1024));
  } else {
    std::snprintf(buf, sizeof buf, "%.1fG", static_cast<double>(kib) / (1024.0 * 1024.0));
  }
  return buf;
}

}  // namespace ssiuml
