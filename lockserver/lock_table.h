// LockTable: the DLM-style lock state of every resource, with no I/O and no
// clock of its own (callers pass now_ms), so every rule is tested directly.
//
// Each resource has a grant queue, a conversion queue and a waiting queue.
// Conversions are served before new requests; new requests are granted FIFO
// and only while no conversion is queued, so a compatible newcomer never
// jumps a queued incompatible request (no starvation). A session holds at
// most one lock per resource; it changes mode with Convert.
//
// Every accepted Lock/Convert ends with exactly one terminal event for its
// request id: kGranted, kTryFailed, kTimedOut, kCancelled or kDeadlock.
// kBlocking (DLM's BAST) goes to holders that block a queued request.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/status.h"
#include "lockserver/lock_mode.h"

namespace ssiuml::lock {

using SessionId = uint64_t;
constexpr size_t kLvbSize = 32;
using Lvb = std::array<uint8_t, kLvbSize>;

struct LockEvent {
  enum class Kind { kGranted, kBlocking, kTryFailed, kTimedOut, kCancelled, kDeadlock };
  Kind kind = Kind::kGranted;
  SessionId session = 0;
  uint64_t request_id = 0;  // 0 for kBlocking
  std::string name;
  Mode mode = Mode::kNL;  // kGranted: the granted mode; kBlocking: the mode that waits
  uint64_t token = 0;     // kGranted: the fencing token of this grant
  bool has_lvb = false;   // kGranted with a mode >= CR
  bool lvb_valid = true;  // false: DLM's VALNOTVALID, a writer died
  Lvb lvb{};
};

// What the status command shows of one resource.
struct ResourceInfo {
  struct Entry {
    SessionId session;
    Mode mode;       // granted mode (granted), requested mode (queues)
    Mode from;       // converting: the mode still held
    uint64_t token;  // granted only
  };
  std::string name;
  bool lvb_valid = true;
  uint64_t lvb_seq = 0;
  std::vector<Entry> granted, converting, waiting;
};

class LockTable {
 public:
  // Tokens start above first_token; pass something that grows across
  // restarts (the server uses its wall-clock start time in microseconds).
  // At most max_resources resources exist at once: a resource kept for its
  // value block alone is dropped, oldest first, to make room for a new one,
  // and a Lock that finds none to drop is refused (Busy). At most max_locks
  // locks are held or queued at once, in all sessions together: each costs
  // memory and the queues stop nothing else from growing. One session holds
  // or queues at most max_session_locks of them, so that a client locking
  // name after name in a loop is refused itself before it fills the table
  // (or its resources) for every other session.
  explicit LockTable(uint64_t first_token = 0, size_t max_resources = 65536, size_t max_locks = 1 << 20,
                     size_t max_session_locks = 16384)
      : last_token_(first_token),
        max_resources_(max_resources),
        max_locks_(max_locks),
        max_session_locks_(max_session_locks) {}

  // The bound that refused a Lock; the protocol names each one apart.
  enum class Bound { kNone, kSessionLocks, kLocks, kResources };

  struct Request {
    SessionId session = 0;
    uint64_t request_id = 0;
    std::string name;
    Mode mode = Mode::kNL;
    bool try_lock = false;    // NOQUEUE: fail at once instead of waiting
    uint64_t timeout_ms = 0;  // 0 = wait forever
  };
  // A new lock. InvalidArgument if the session already has one on name;
  // Busy if a bound refused it (the session's locks, all locks, resources in
  // use), which *refused_by (if given) names.
  Status Lock(const Request& req, uint64_t now_ms, std::vector<LockEvent>* out, Bound* refused_by = nullptr);
  // Changes the mode of a held lock. When a PW/EX lock converts down, *write
  // (if given) becomes the resource's value block. InvalidArgument if the
  // lock is not held or already converting.
  Status Convert(const Request& req, const Lvb* write, uint64_t now_ms, std::vector<LockEvent>* out);
  // Drops the session's lock on name; a queued request is cancelled instead.
  Status Unlock(SessionId session, const std::string& name, const Lvb* write,
                std::vector<LockEvent>* out);
  // Cancels the session's queued request on name (kCancelled).
  Status Cancel(SessionId session, const std::string& name, std::vector<LockEvent>* out);
  // Expires queued requests whose timeout passed.
  void Tick(uint64_t now_ms, std::vector<LockEvent>* out);
  // Earliest request deadline, or 0 when nothing waits with a timeout.
  uint64_t NextDeadline() const;
  // Cancels every queued request of the session (its connection is gone).
  void CancelAll(SessionId session, std::vector<LockEvent>* out);
  // Releases everything the session holds or waits for. died: it did not
  // unlock, so value blocks it could write (PW/EX) become VALNOTVALID.
  void Release(SessionId session, bool died, std::vector<LockEvent>* out);

  // The resources in name order, up to max_rows rows (a resource and each of
  // its holders and queued requests is a row).
  std::vector<ResourceInfo> Snapshot(size_t max_rows = SIZE_MAX) const;
  // One resource; false if it does not exist.
  bool Describe(const std::string& name, ResourceInfo* info) const;
  size_t resource_count() const { return resources_.size(); }
  size_t lock_count() const { return lock_count_; }  // held or queued
  uint64_t last_token() const { return last_token_; }

 private:
  struct Holder {
    Mode mode;
    uint64_t token;
    uint8_t basts_sent;  // modes a BAST was sent for since this grant
  };
  struct Pending {
    SessionId session;
    uint64_t request_id;
    Mode mode;
    uint64_t deadline_ms;
    bool try_lock;
  };
  struct Resource {
    std::map<SessionId, Holder> granted;  // includes locks that are converting
    std::deque<Pending> converting;
    std::deque<Pending> waiting;
    Lvb lvb{};
    bool lvb_valid = true;
    uint64_t lvb_seq = 0;  // writes so far; a resource with a value is kept
    bool idle = false;     // kept for its value block alone, listed in idle_
    std::list<std::string>::iterator idle_pos;
  };
  using Deadline = std::tuple<uint64_t, std::string, SessionId>;

  void GrantPass(const std::string& name, Resource& r, std::vector<LockEvent>* out);
  void Grant(const std::string& name, Resource& r, const Pending& p, std::vector<LockEvent>* out);
  bool CompatibleWithGranted(const Resource& r, SessionId self, Mode mode) const;
  void SendBlocking(const std::string& name, Resource& r, std::vector<LockEvent>* out);
  // Removes a try request still queued after a grant pass (kTryFailed).
  void FailTry(const std::string& name, Resource& r, SessionId session, uint64_t request_id,
               std::vector<LockEvent>* out);
  bool RemovePending(const std::string& name, Resource& r, SessionId session, Pending* removed);
  void WriteLvb(Resource& r, Mode held, const Lvb* write);
  void Forget(const std::string& name, SessionId session);
  // Drops a resource nobody uses, or lists it in idle_ if its value block is kept.
  void MaybeErase(const std::string& name);
  // The resource for a new lock: made, if need be, in room taken from idle_.
  Status FindOrMake(const std::string& name, Resource** r);
  static ResourceInfo Info(const std::string& name, const Resource& r);
  static LockEvent Terminal(LockEvent::Kind kind, const std::string& name, const Pending& p);

  std::map<std::string, Resource> resources_;
  std::map<SessionId, std::set<std::string>> by_session_;
  std::set<Deadline> deadlines_;
  std::list<std::string> idle_;  // idle resources, the longest idle first
  uint64_t last_token_;
  size_t max_resources_;
  size_t max_locks_;
  size_t max_session_locks_;
  size_t lock_count_ = 0;  // the names in by_session_, all sessions
};

}  // namespace ssiuml::lock
