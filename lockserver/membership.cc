#include "lockserver/membership.h"

#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "lockserver/lock_client.h"

namespace ssiuml::lock {
namespace {

constexpr const char* kMembersFile = "/run/ssi/members";
constexpr auto kRetry = std::chrono::milliseconds(500);

// Readers never see half a file.
void WriteFileAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".new";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (ok) ::rename(tmp.c_str(), path.c_str());
}

void WriteMembers(uint64_t epoch, const std::set<int>& members) {
  WriteFileAtomically(kMembersFile, MembersFileText(epoch, members));
}

void Say(const std::string& line) {
  // stdout is the console under busybox init.
  std::printf("ssi: %s\n", line.c_str());
  std::fflush(stdout);
}

// A guest takes the host's wall clock when it boots, but a boot under load
// leaves guests tens of ms to seconds apart (the early boot clock runs on
// late ticks), and lock histories compare the records of different nodes.
// The lock server's clock, read over the heartbeats, puts every guest within
// half a round trip of the host. Samples taken under load are poor, so the clock is
// measured again every while and set again when it is clearly off.
class ClockSync {
 public:
  explicit ClockSync(LockClient* client) : client_(client) {}

  // At the session's start, before the node joins and its workloads run:
  // under load a guest's clock can be seconds behind (seen: 8 s).
  void First() {
    for (int wait = 0; wait < 300 && client_->alive() && !Measured(); ++wait)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (Measured()) Adjust(kCloseEnoughNs);
    started_ = std::chrono::steady_clock::now();
  }

  // Called every while during the session; every second while the bound is
  // too wide for histories to compare.
  void Again() {
    auto period = bound_ns_ <= kComparableNs ? kPeriod : kRefinePeriod;
    if (std::chrono::steady_clock::now() - started_ < period || !Measured()) return;
    // Once set, only an error beyond the measure's own bound is one.
    Adjust(Bounded() ? std::max<int64_t>(kCloseEnoughNs, static_cast<int64_t>(round_trip_)) : kCloseEnoughNs);
    started_ = std::chrono::steady_clock::now();
  }

 private:
  static constexpr int kSamples = 5;
  static constexpr int64_t kCloseEnoughNs = 1000000;
  // Half of the lock-history check's allowance for two nodes.
  static constexpr uint64_t kComparableNs = kGuestClockSkewNs / 2;
  static constexpr auto kPeriod = std::chrono::seconds(5);
  static constexpr auto kRefinePeriod = std::chrono::seconds(1);
  // A node whose every round trip stays slow (a delayed link) is marked
  // anyway, with its bound, rather than leave ssi-lock --history waiting.
  static constexpr auto kMarkWithin = std::chrono::seconds(10);

  bool Measured() { return client_->ClockOffset(kSamples, &offset_, &round_trip_); }
  // Measured and, if need be, set.
  bool Bounded() const { return bound_ns_ != UINT64_MAX; }

  // Then measures afresh: samples taken before the clock was set are stale.
  void Adjust(int64_t tolerance_ns) {
    if (std::llabs(offset_) < tolerance_ns) {
      client_->RestartClockSamples();
      // Left as it is, the clock is within both this measure's bound and
      // every earlier one's.
      uint64_t bound = static_cast<uint64_t>(std::llabs(offset_)) + round_trip_ / 2;
      Bound(std::min(bound, bound_ns_));
      return;
    }
    struct timespec now;
    ::clock_gettime(CLOCK_REALTIME, &now);
    int64_t ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec + offset_;
    struct timespec set = {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    bool set_ok = ::clock_settime(CLOCK_REALTIME, &set) == 0;
    client_->RestartClockSamples();
    if (!set_ok) return;
    Bound(round_trip_ / 2);
    char line[128];
    std::snprintf(line, sizeof line, "set the clock %+.1f ms to the host's (within %.1f ms)", offset_ / 1e6,
                  round_trip_ / 2e6);
    Say(line);
  }

  // Tells ssi-lock --history that this node's records compare with others',
  // once the bound is tight enough for that (or it has had its time to be).
  void Bound(uint64_t bound_ns) {
    bound_ns_ = bound_ns;
    bool comparable = bound_ns <= kComparableNs || std::chrono::steady_clock::now() - created_ >= kMarkWithin;
    if (comparable && bound_ns != marked_ns_) {
      WriteFileAtomically(kGuestClockFile, std::to_string(bound_ns) + "\n");
      marked_ns_ = bound_ns;
    }
  }

  LockClient* client_;
  int64_t offset_ = 0;
  uint64_t round_trip_ = 0;
  uint64_t bound_ns_ = UINT64_MAX;
  uint64_t marked_ns_ = UINT64_MAX;  // the bound kGuestClockFile holds
  const std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point started_ = created_;
};

// One session, until it is lost.
void Serve(const std::string& address, int node, const std::string& boot) {
  std::unique_ptr<LockClient> client;
  if (!LockClient::Connect(address, &client).ok()) return;
  if (!client->HelloNode(node, boot, "ssi-agent").ok()) return;
  ClockSync clock(client.get());
  clock.First();
  std::mutex mu;
  std::set<int> members;
  uint64_t epoch = 0;
  std::vector<int> initial;
  uint64_t initial_epoch = 0;
  Status s = client->Watch(
      [&](const MemberChange& change) {
        std::lock_guard<std::mutex> lock(mu);
        epoch = change.epoch;
        members = std::set<int>(change.members.begin(), change.members.end());
        if (change.event == "join") {
          if (change.node != node) Say("node " + std::to_string(change.node) + " joined the cluster");
        } else {
          if (change.node != node)
            Say("node " + std::to_string(change.node) + " left the cluster" +
                (change.event == "expired" ? " (missed heartbeats)" : ""));
        }
        WriteMembers(epoch, members);
      },
      &initial, &initial_epoch);
  if (!s.ok()) return;
  {
    // A change may have come before Watch returned; it carried the newer list.
    std::lock_guard<std::mutex> lock(mu);
    if (epoch == 0) {
      members.insert(initial.begin(), initial.end());
      epoch = initial_epoch;
    }
    WriteMembers(epoch, members);
  }
  Say("node " + std::to_string(node) + " joined the cluster (" + std::to_string(members.size()) + " members)");
  while (client->alive()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    clock.Again();
  }
  Say("lost the lock server; rejoining");
  WriteMembers(0, {});
}

}  // namespace

std::string MembersFileText(uint64_t epoch, const std::set<int>& members) {
  std::string text = "epoch " + std::to_string(epoch) + "\n";
  for (int n : members) text += std::to_string(n) + "\n";
  return text;
}

void StartMembership() {
  int node = 0;
  std::string boot;
  if (!ReadGuestIdentity("/proc/cmdline", "/run/ssi/boot_id", &node, &boot).ok()) return;
  // The host's lock server through the gateway, or a lock node's (ssi.lock=).
  std::string address = DefaultServerAddress("");
  std::thread([node, boot, address] {
    for (;;) {
      Serve(address, node, boot);
      std::this_thread::sleep_for(kRetry);
    }
  }).detach();
}

}  // namespace ssiuml::lock
