// LockClient: a blocking client of the lock server (lockserver/PROTOCOL.md).
// Plain C++ and libc only, so it links into the static guest binaries.
//
// A caller reads its own reply from the socket when no other thread is
// reading (leader/follower), so a round trip costs no thread hand-off. A
// background thread sends a heartbeat every period the server asked for and
// reads while no call is waiting, so callbacks also arrive when idle. The client keeps its own, shorter lease: it counts from
// the send time of the last answered heartbeat, and when it runs out (or
// the connection or session ends) alive() turns false, every waiting call
// fails and on_lost runs once. From then on the locks must not be used: the
// server is about to give them away.
//
// Thread safety: every method may be called from any thread. Callbacks run
// one at a time, in the order the server sent them, on whichever thread is
// reading: the background thread or one inside a call (even a call of
// another thread). So they must not call into the client, nor wait for a
// mutex that is held around client calls.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "lockserver/lock_mode.h"
#include "lockserver/lock_protocol.h"

namespace ssiuml::lock {

using ValueBlock = std::array<uint8_t, 32>;

struct Grant {
  Mode mode = Mode::kNL;
  uint64_t token = 0;     // fencing token: strictly grows, server-wide
  bool has_lvb = false;   // granted mode >= CR
  bool lvb_valid = true;  // false: a writer died without writing it
  ValueBlock lvb{};
};

struct MemberChange {
  std::string event;  // join, leave, expired
  uint64_t epoch = 0;
  int node = 0;
  std::string boot;
  std::vector<int> members;  // everyone after this change, ascending
};

struct LockOptions {
  bool try_lock = false;    // fail with Busy instead of waiting
  uint64_t timeout_ms = 0;  // 0: wait forever; else TimedOut
};

class LockClient {
 public:
  ~LockClient();
  // address: "HOST:PORT" (IPv4 literal or localhost) or "unix:PATH".
  static Status Connect(const std::string& address, std::unique_ptr<LockClient>* client);

  // Exactly one HELLO per connection. A node needs the boot id the
  // supervisor registered for it; a host client only a name.
  Status HelloNode(int node, const std::string& boot_hex, const std::string& name);
  Status HelloHost(const std::string& name);

  // Errors: Busy (try failed), TimedOut, IOError (session lost), others
  // with the server's message ("code: text").
  Status Lock(const std::string& name, Mode mode, const LockOptions& options, Grant* grant);
  // write: the new value block, used when converting down from PW/EX.
  Status Convert(const std::string& name, Mode mode, const LockOptions& options, const ValueBlock* write,
                 Grant* grant);
  Status Unlock(const std::string& name, const ValueBlock* write = nullptr);
  // Cancels a Lock/Convert another thread is waiting in (it gets an error).
  Status Cancel(const std::string& name);
  // Current members and epoch; on_change then runs for every join, leave
  // and expiry, in epoch order, with the whole membership after the change
  // in MemberChange::members (it may run before Watch returns, so use that
  // rather than merging changes into the snapshot).
  Status Watch(std::function<void(const MemberChange&)> on_change, std::vector<int>* members, uint64_t* epoch);
  // The server's STATUS lines (members, holders, waiters), without prefix;
  // with a name, only that resource's holders and waiters.
  Status QueryStatus(std::vector<std::string>* lines, const std::string& name = "");
  // Ends the session cleanly: locks released, no fencing.
  Status Bye();

  // A holder blocks someone waiting for name in mode (DLM's BAST).
  void OnBlocking(std::function<void(const std::string& name, Mode mode)> callback);
  void OnLost(std::function<void(const std::string& why)> callback);
  bool alive() const;
  // Whether the session's lease still lasts: no lock and no I/O, so cheap
  // enough to check before every use of what the locks protect. It ends
  // when alive() turns false, or earlier: at the lease's end, which the
  // background thread may notice late.
  bool LeaseHeld() const { return NowMs() < held_until_ms_.load(std::memory_order_acquire); }
  uint64_t session() const { return session_; }
  // How far the server's wall clock is ahead of ours, from the answered
  // heartbeat with the shortest round trip (the error is within half of it);
  // false until min_samples heartbeats were answered.
  bool ClockOffset(int min_samples, int64_t* offset_ns, uint64_t* round_trip_ns) const;
  // Forgets the samples so far: after our clock was set they measure nothing.
  void RestartClockSamples();

 private:
  struct Reply {
    bool done = false;
    std::vector<std::string> info;  // STATUS lines
    std::string line;               // the final reply
  };

  explicit LockClient(int fd);
  Status Call(const std::string& verb, const std::string& args, Reply* reply);
  Status Hello(const std::string& args);
  void Run();
  void Poke();  // wakes the background thread
  // Reads what arrives within timeout_ms and dispatches it; only the holder
  // of the reading role calls it. False when the connection is gone.
  bool ReadSome(int timeout_ms, bool watch_wake);
  void HandleLine(const std::string& line);
  void Lose(const std::string& why);
  Status WriteLine(const std::string& line);
  static uint64_t NowMs();
  static uint64_t ClockNs(clockid_t clock);
  struct PingSent {
    uint64_t ms;  // monotonic, for the lease
    // Monotonic too: the round trip must not see our wall clock being set.
    uint64_t ns;
  };

  int fd_;
  int wake_[2] = {-1, -1};  // pipe that stops the thread
  std::thread thread_;
  mutable std::mutex mu_;
  std::mutex write_mu_;
  std::condition_variable cv_;
  std::map<uint64_t, Reply*> waiting_;
  bool reading_ = false;     // some thread holds the reading role
  bool bg_reading_ = false;  // ...and it is the background thread
  wire::LineReader reader_;  // touched only by the reading role
  uint64_t next_id_ = 1;
  bool lost_ = false;
  bool stop_ = false;
  bool leaving_ = false;  // BYE sent
  std::string lost_why_;
  uint64_t session_ = 0;
  uint64_t heartbeat_ms_ = 0;  // 0 until WELCOME
  int expiry_missed_ = 5;
  uint64_t lease_until_ms_ = 0;
  std::atomic<uint64_t> held_until_ms_{0};  // lease_until_ms_ while the session lives, else 0
  std::map<uint64_t, PingSent> pings_;
  int clock_samples_ = 0;
  int64_t clock_offset_ns_ = 0;
  uint64_t clock_round_trip_ns_ = 0;
  std::function<void(const std::string&, Mode)> on_blocking_;
  std::function<void(const std::string&)> on_lost_;
  std::function<void(const MemberChange&)> on_member_;
  std::set<int> members_;  // as of the last MEMBERS/MEMBER line
};

// Where ssi-lock and ssi-agent find the server: the flag, else
// $SSI_LOCK_SERVER, else GuestServerAddress of the kernel command line.
std::string DefaultServerAddress(const std::string& flag, const std::string& cmdline_path = "/proc/cmdline");
// The lock server a guest reaches, from its kernel command line: ssi.lock=
// IP:PORT when a lock node serves the cluster, else the host's lock server
// behind the switch's gateway, .254:7400 of ssi.subnet= (default 10.77.0).
std::string GuestServerAddress(const std::string& cmdline);
// On the host, a cluster's lock server listens on a loopback port that ssid
// writes to RUN/lock/port (RUN as ARCHITECTURE.md defines it).
std::string ClusterPortFile(const std::string& cluster);
// "127.0.0.1:PORT" from such a port file; NotFound when it is missing or empty.
Status AddressFromPortFile(const std::string& port_file, std::string* address);
// A guest's identity: ssi.node=N from cmdline_path and the boot id ssi-agent
// wrote to boot_path. NotFound when cmdline has no ssi.node (not a guest).
Status ReadGuestIdentity(const std::string& cmdline_path, const std::string& boot_path, int* node,
                         std::string* boot);
// How far apart two guests' wall clocks may be when lock histories of
// different nodes are checked together (launcher/lock_history.cc).
inline constexpr uint64_t kGuestClockSkewNs = 5'000'000;
// ssi-agent writes it once the guest's wall clock was measured against the
// lock server's and set if it was off: its error bound in ns, one line. It
// waits for a bound of half kGuestClockSkewNs or less, or 10 s of measuring,
// whichever comes first.
inline constexpr const char* kGuestClockFile = "/run/ssi/clock";

}  // namespace ssiuml::lock
