// Requests to the control sockets of ssid's helper daemons (plxd, switchd):
// one JSON line out, one JSON line back, {"ok":false,"error":...} turned
// into a Status that names the daemon.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace ssiuml {

// A daemon answers at once; reply_timeout_ms bounds the wait for its whole
// reply. ssid's loop waits meanwhile. plxd may write and sync its store
// first (snapshot, open); switchd answers from memory, so waiting longer for
// it only holds ssid up.
constexpr int kDaemonReplyTimeoutMs = 30000;
constexpr int kSwitchdReplyTimeoutMs = 5000;

Status DaemonRequest(const std::string& daemon, const std::string& control, const nlohmann::json& request,
                     nlohmann::json* reply = nullptr, int reply_timeout_ms = kDaemonReplyTimeoutMs);

// Status queries of one daemon, for what ssid can go without (figures, the
// membership view): ssid's loop waits for them, so a daemon that is stopped
// or stuck must cost it one short wait, not one per ssi-status or poll. Each
// query waits at most timeout_ms, and after one goes unanswered the daemon
// is left alone, queries failing at once, for quiet_ms, twice that after the
// next unanswered one, and so on up to max_quiet_ms, until it answers again.
class DaemonStatusQuery {
 public:
  static constexpr int kTimeoutMs = 2000;
  // For a daemon that may take longer to answer while well: plxd's disk
  // usage flushes its store; a lock node answers from a UML guest.
  static constexpr int kSlowTimeoutMs = 5000;
  static constexpr uint64_t kQuietMs = 4000;
  static constexpr uint64_t kMaxQuietMs = 32000;
  explicit DaemonStatusQuery(std::string daemon, int timeout_ms = kTimeoutMs, uint64_t quiet_ms = kQuietMs,
                             uint64_t max_quiet_ms = kMaxQuietMs)
      : daemon_(std::move(daemon)),
        timeout_ms_(timeout_ms),
        first_quiet_ms_(quiet_ms),
        max_quiet_ms_(max_quiet_ms),
        quiet_ms_(quiet_ms) {}

  Status Ask(const std::string& control, const nlohmann::json& request, nlohmann::json* reply);
  // The daemon is gone (or another took its place): forget its trouble.
  void Reset() {
    trouble_.clear();
    quiet_until_ms_ = 0;
    quiet_ms_ = first_quiet_ms_;
  }
  // Why the daemon is being left alone, in one line for ssi-status; empty
  // while it answers.
  const std::string& trouble() const { return trouble_; }

 private:
  std::string daemon_;
  int timeout_ms_;
  uint64_t first_quiet_ms_, max_quiet_ms_;
  uint64_t quiet_ms_;  // the next quiet period
  uint64_t quiet_until_ms_ = 0;
  std::string trouble_;
};

}  // namespace ssiuml
