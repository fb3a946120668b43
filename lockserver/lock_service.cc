#include "lockserver/lock_service.h"

#include <vector>

namespace ssiuml::lock {

const char* MemberEventName(MemberEvent::Kind kind) {
  switch (kind) {
    case MemberEvent::Kind::kJoin: return "join";
    case MemberEvent::Kind::kLeave: return "leave";
    case MemberEvent::Kind::kExpired: return "expired";
  }
  return "?";
}

LockService::LockService(const ServiceOptions& options) : options_(options), table_(options.first_token, options.max_resources, options.max_locks, options.max_session_locks) {}

void LockService::SetBoot(int node, const std::string& boot, uint64_t now_ms, Outputs* out) {
  registry_[node] = boot;
  // Any other incarnation of the node is gone, as far as the supervisor knows.
  std::set<std::string> old;
  for (const auto& [id, s] : sessions_)
    if (s.kind == SessionKind::kNode && s.node == node && s.boot != boot) old.insert(s.boot);
  for (const std::string& b : old) ExpireIncarnation(node, b, out);
}

void LockService::Gone(int node, uint64_t now_ms, Outputs* out) {
  registry_.erase(node);
  std::set<std::string> old;
  for (const auto& [id, s] : sessions_)
    if (s.kind == SessionKind::kNode && s.node == node) old.insert(s.boot);
  for (const std::string& b : old) ExpireIncarnation(node, b, out);
}

Status LockService::OpenNode(int node, const std::string& boot, const std::string& name, uint64_t now_ms,
                             SessionId* id, bool* retry, Outputs* out) {
  *retry = false;
  if (sessions_.size() >= options_.max_sessions)
    return Status::Busy("too many sessions (max " + std::to_string(options_.max_sessions) + ")");
  auto reg = registry_.find(node);
  if (reg == registry_.end()) {
    *retry = true;
    return Status::NotFound("node " + std::to_string(node) + " has no registered boot id");
  }
  if (reg->second != boot) {
    *retry = true;  // the supervisor may not have heard of the new boot yet
    return Status::InvalidArgument("boot id is not node " + std::to_string(node) + "'s current boot id");
  }
  for (const auto& [other, s] : sessions_) {
    if (s.kind == SessionKind::kNode && s.node == node && s.boot != boot) {
      *retry = true;
      return Status::Busy("node " + std::to_string(node) + "'s previous incarnation is being recovered");
    }
  }
  Session s;
  s.id = next_id_++;
  s.kind = SessionKind::kNode;
  s.node = node;
  s.boot = boot;
  s.name = name;
  s.last_seen_ms = now_ms;
  sessions_[s.id] = s;
  *id = s.id;
  if (members_.count(node) == 0) {
    members_[node] = boot;
    Announce(MemberEvent::Kind::kJoin, node, boot, out);
  }
  return Status::OK();
}

Status LockService::OpenHost(const std::string& name, uint64_t now_ms, SessionId* id) {
  if (sessions_.size() >= options_.max_sessions)
    return Status::Busy("too many sessions (max " + std::to_string(options_.max_sessions) + ")");
  Session s;
  s.id = next_id_++;
  s.kind = SessionKind::kHost;
  s.name = name;
  s.last_seen_ms = now_ms;
  sessions_[s.id] = s;
  *id = s.id;
  return Status::OK();
}

void LockService::Heartbeat(SessionId id, uint64_t now_ms) {
  auto it = sessions_.find(id);
  if (it != sessions_.end() && it->second.state == SessionState::kLive) it->second.last_seen_ms = now_ms;
}

Status LockService::Usable(SessionId id) const {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return Status::InvalidArgument("no session");
  if (it->second.state != SessionState::kLive) return Status::TimedOut("session expired");
  return Status::OK();
}

void LockService::Deliver(std::vector<LockEvent>& events, Outputs* out) {
  for (LockEvent& e : events) {
    Output o;
    o.kind = Output::Kind::kLock;
    o.session = e.session;
    o.lock = std::move(e);
    out->push_back(std::move(o));
  }
  events.clear();
}

Status LockService::Lock(SessionId id, const LockTable::Request& req, uint64_t now_ms, Outputs* out,
                         LockTable::Bound* refused_by) {
  Status s = Usable(id);
  if (!s.ok()) return s;
  LockTable::Request r = req;
  r.session = id;
  std::vector<LockEvent> events;
  s = table_.Lock(r, now_ms, &events, refused_by);
  Deliver(events, out);
  return s;
}

Status LockService::Convert(SessionId id, const LockTable::Request& req, const Lvb* write, uint64_t now_ms,
                            Outputs* out) {
  Status s = Usable(id);
  if (!s.ok()) return s;
  LockTable::Request r = req;
  r.session = id;
  std::vector<LockEvent> events;
  s = table_.Convert(r, write, now_ms, &events);
  Deliver(events, out);
  return s;
}

Status LockService::Unlock(SessionId id, const std::string& name, const Lvb* write, Outputs* out) {
  Status s = Usable(id);
  if (!s.ok()) return s;
  std::vector<LockEvent> events;
  s = table_.Unlock(id, name, write, &events);
  Deliver(events, out);
  return s;
}

Status LockService::Cancel(SessionId id, const std::string& name, Outputs* out) {
  Status s = Usable(id);
  if (!s.ok()) return s;
  std::vector<LockEvent> events;
  s = table_.Cancel(id, name, &events);
  Deliver(events, out);
  return s;
}

Status LockService::Watch(SessionId id) {
  Status s = Usable(id);
  if (s.ok()) sessions_[id].watching = true;
  return s;
}

void LockService::Close(SessionId id, Outputs* out) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.state != SessionState::kLive) return;
  EndSession(id, /*died=*/false, "closed", out);
}

void LockService::Disconnected(SessionId id, Outputs* out) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  it->second.connected = false;
  it->second.watching = false;
  std::vector<LockEvent> events;
  table_.CancelAll(id, &events);
  Deliver(events, out);
}

void LockService::Tick(uint64_t now_ms, Outputs* out) {
  std::vector<LockEvent> events;
  table_.Tick(now_ms, &events);
  Deliver(events, out);
  std::vector<SessionId> expired;
  for (const auto& [id, s] : sessions_)
    if (s.state == SessionState::kLive && now_ms > s.last_seen_ms + expiry_ms()) expired.push_back(id);
  for (SessionId id : expired) {
    auto it = sessions_.find(id);
    if (it != sessions_.end() && it->second.state == SessionState::kLive) Expire(it->second, out);
  }
}

void LockService::Expire(Session& s, Outputs* out) {
  if (s.kind == SessionKind::kHost) {
    EndSession(s.id, /*died=*/true, "expired", out);
    return;
  }
  ExpireIncarnation(s.node, s.boot, out);
}

void LockService::ExpireIncarnation(int node, const std::string& boot, Outputs* out) {
  // The whole incarnation goes: fencing kills every process on the node.
  std::vector<LockEvent> events;
  for (auto& [id, s] : sessions_) {
    if (s.kind != SessionKind::kNode || s.node != node || s.boot != boot) continue;
    s.state = SessionState::kFencing;
    s.watching = false;
    table_.CancelAll(id, &events);
  }
  Deliver(events, out);
  if (!options_.fencing) {
    FenceDone(node, boot, out);
    return;
  }
  if (!fencing_.insert({node, boot}).second) return;
  Output o;
  o.kind = Output::Kind::kFence;
  o.node = node;
  o.boot = boot;
  out->push_back(std::move(o));
}

void LockService::FenceDone(int node, const std::string& boot, Outputs* out) {
  fencing_.erase({node, boot});
  std::vector<SessionId> ids;
  for (const auto& [id, s] : sessions_)
    if (s.kind == SessionKind::kNode && s.node == node && s.boot == boot && s.state == SessionState::kFencing)
      ids.push_back(id);
  for (SessionId id : ids) EndSession(id, /*died=*/true, "fenced", out);
}

void LockService::EndSession(SessionId id, bool died, const std::string& reason, Outputs* out) {
  Session s = sessions_[id];
  sessions_.erase(id);
  std::vector<LockEvent> events;
  table_.Release(id, died, &events);
  Output ended;
  ended.kind = Output::Kind::kEnded;
  ended.session = id;
  ended.reason = reason;
  out->push_back(std::move(ended));
  Deliver(events, out);
  if (s.kind != SessionKind::kNode || HasSessions(s.node, s.boot)) return;
  auto m = members_.find(s.node);
  if (m == members_.end() || m->second != s.boot) return;
  members_.erase(m);
  Announce(died ? MemberEvent::Kind::kExpired : MemberEvent::Kind::kLeave, s.node, s.boot, out);
}

bool LockService::HasSessions(int node, const std::string& boot) const {
  for (const auto& [id, s] : sessions_)
    if (s.kind == SessionKind::kNode && s.node == node && s.boot == boot) return true;
  return false;
}

void LockService::Announce(MemberEvent::Kind kind, int node, const std::string& boot, Outputs* out) {
  MemberEvent e{kind, ++epoch_, node, boot};
  for (const auto& [id, s] : sessions_) {
    if (!s.watching || !s.connected) continue;
    Output o;
    o.kind = Output::Kind::kMember;
    o.session = id;
    o.member = e;
    out->push_back(std::move(o));
  }
}

}  // namespace ssiuml::lock
