#include "launcher/boot_priority.h"

#include <spdlog/spdlog.h>

#include <string>

namespace ssiuml {
namespace {

constexpr uint64_t kRetryMs = 110;  // the kernel's limit is 100 ms

}  // namespace

void BootPriority::Set(pid_t pid, int nice) {
  pending_.emplace_back(pid, nice);
  if (timer_ == 0) Apply();
}

void BootPriority::Apply() {
  timer_ = 0;
  while (!pending_.empty()) {
    auto [pid, nice] = pending_.front();
    const std::string path = "/proc/" + std::to_string(pid) + "/autogroup";
    // A plain write: the file cannot seek, so pwrite fails.
    Status s = env_->AppendToFile(path, std::to_string(nice));
    if (s.IsBusy()) {
      timer_ = loop_->After(kRetryMs, [this] { Apply(); });
      return;
    }
    if (!s.ok()) spdlog::debug("boot priority of pid {} left as it is: {}", pid, s.ToString());
    pending_.pop_front();
  }
}

}  // namespace ssiuml
