#include "cow/progress.h"

#include <fmt/core.h>
#include <unistd.h>

#include "common/env.h"

namespace ssiuml::plx {

Progress::Progress(std::string label, uint64_t total_bytes)
    : label_(std::move(label)), total_(total_bytes), tty_(::isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
  if (shown_) fmt::print(stderr, "\r\033[K");
}

void Progress::Update(uint64_t done) {
  if (!tty_ || total_ == 0) return;
  uint64_t now = Env::Default()->MonotonicMicros();
  if (now - last_us_ < 100000 && done < total_) return;
  last_us_ = now;
  shown_ = true;
  fmt::print(stderr, "\r{}: {:3}% ({}/{} MiB)\033[K", label_, done * 100 / total_, done >> 20, total_ >> 20);
  std::fflush(stderr);
}

}  // namespace ssiuml::plx
