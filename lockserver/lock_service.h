// LockService: sessions, membership and recovery around the LockTable. Pure:
// no I/O, and the caller passes the time, so the recovery order is tested
// with a fake clock and a fake fencer. Results come back as Outputs that the
// daemon delivers.
//
// Sessions: node sessions belong to a node incarnation (node id, boot id)
// and make it a cluster member; host sessions are named clients that are not
// members. A session ends cleanly with Close (BYE) or expires after
// expiry_missed heartbeat periods of silence. A lost connection is not an
// end: through the gateway it proves nothing about the process, so the
// session lives on until it expires.
//
// Recovery of an expired node session, in this order: every session of that
// incarnation stops acting (state kFencing), a kFence output asks the fencer
// to kill the node, and only FenceDone releases its locks (value blocks of
// PW/EX holders become VALNOTVALID), grants the waiters and announces the
// membership change. Host sessions expire without fencing; so does
// everything when fencing is off.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "lockserver/lock_table.h"

namespace ssiuml::lock {

struct ServiceOptions {
  uint64_t heartbeat_ms = 200;
  int expiry_missed = 5;
  bool fencing = true;
  size_t max_sessions = 1024;
  size_t max_resources = 65536;  // LockTable's bounds
  size_t max_locks = 1 << 20;
  size_t max_session_locks = 16384;
  uint64_t first_token = 0;
};

enum class SessionKind { kNode, kHost };
enum class SessionState { kLive, kFencing };

struct Session {
  SessionId id = 0;
  SessionKind kind = SessionKind::kHost;
  int node = 0;      // node sessions
  std::string boot;  // node sessions: 32 hex digits
  std::string name;
  SessionState state = SessionState::kLive;
  uint64_t last_seen_ms = 0;
  bool connected = true;
  bool watching = false;
};

struct MemberEvent {
  enum class Kind { kJoin, kLeave, kExpired };
  Kind kind = Kind::kJoin;
  uint64_t epoch = 0;
  int node = 0;
  std::string boot;
};

struct Output {
  enum class Kind { kLock, kMember, kFence, kEnded };
  Kind kind = Kind::kLock;
  SessionId session = 0;  // kLock, kMember: recipient; kEnded: the session
  LockEvent lock;
  MemberEvent member;
  int node = 0;        // kFence
  std::string boot;    // kFence
  std::string reason;  // kEnded
};
using Outputs = std::vector<Output>;

const char* MemberEventName(MemberEvent::Kind kind);

class LockService {
 public:
  explicit LockService(const ServiceOptions& options);

  // The supervisor's registry of each node's current boot id. A new boot id
  // (or none) ends the sessions of the old incarnation through recovery.
  void SetBoot(int node, const std::string& boot, uint64_t now_ms, Outputs* out);
  void Gone(int node, uint64_t now_ms, Outputs* out);

  // Opens a node session after the identity check: the registry must name
  // boot as node's current boot id. On failure *retry says whether waiting
  // may help (node not registered yet, registry not updated yet, previous
  // incarnation still being recovered).
  Status OpenNode(int node, const std::string& boot, const std::string& name, uint64_t now_ms,
                  SessionId* id, bool* retry, Outputs* out);
  Status OpenHost(const std::string& name, uint64_t now_ms, SessionId* id);

  // Any message from the session counts as a heartbeat.
  void Heartbeat(SessionId id, uint64_t now_ms);
  // FailedPrecondition-like errors (InvalidArgument) when the session is
  // unknown or expired; otherwise the lock table's own checks.
  Status Lock(SessionId id, const LockTable::Request& req, uint64_t now_ms, Outputs* out,
              LockTable::Bound* refused_by = nullptr);
  Status Convert(SessionId id, const LockTable::Request& req, const Lvb* write, uint64_t now_ms,
                 Outputs* out);
  Status Unlock(SessionId id, const std::string& name, const Lvb* write, Outputs* out);
  Status Cancel(SessionId id, const std::string& name, Outputs* out);
  Status Watch(SessionId id);
  // BYE: releases everything, no fencing.
  void Close(SessionId id, Outputs* out);
  // The connection went away: queued requests are cancelled (those they held
  // back may be granted now, and are told), locks stay.
  void Disconnected(SessionId id, Outputs* out);

  // Lock timeouts and session expiry.
  void Tick(uint64_t now_ms, Outputs* out);
  // The fencer confirmed node's incarnation boot is dead.
  void FenceDone(int node, const std::string& boot, Outputs* out);

  const std::map<SessionId, Session>& sessions() const { return sessions_; }
  const std::map<int, std::string>& members() const { return members_; }
  const std::map<int, std::string>& registry() const { return registry_; }
  // Incarnations waiting for the fencer: node -> boot.
  const std::set<std::pair<int, std::string>>& fencing() const { return fencing_; }
  uint64_t epoch() const { return epoch_; }
  const LockTable& table() const { return table_; }
  const ServiceOptions& options() const { return options_; }
  uint64_t expiry_ms() const { return options_.heartbeat_ms * static_cast<uint64_t>(options_.expiry_missed); }

 private:
  Status Usable(SessionId id) const;
  void Deliver(std::vector<LockEvent>& events, Outputs* out);
  void Expire(Session& s, Outputs* out);
  void ExpireIncarnation(int node, const std::string& boot, Outputs* out);
  void EndSession(SessionId id, bool died, const std::string& reason, Outputs* out);
  bool HasSessions(int node, const std::string& boot) const;
  void Announce(MemberEvent::Kind kind, int node, const std::string& boot, Outputs* out);

  ServiceOptions options_;
  LockTable table_;
  std::map<SessionId, Session> sessions_;
  std::map<int, std::string> registry_;
  std::map<int, std::string> members_;
  std::set<std::pair<int, std::string>> fencing_;
  SessionId next_id_ = 1;
  uint64_t epoch_ = 0;
};

}  // namespace ssiuml::lock
