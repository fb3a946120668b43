#include "lockserver/lock_table.h"

#include <algorithm>

namespace ssiuml::lock {
namespace {

// A conversion that blocks nothing the old mode did not already block
// (EX->anything, PW->PR): DLM grants these at once, whatever is queued.
bool IsDownConversion(Mode from, Mode to) {
  for (int m = 0; m < kModeCount; ++m)
    if (Compatible(from, Mode(m)) && !Compatible(to, Mode(m))) return false;
  return true;
}

uint8_t Bit(Mode m) { return static_cast<uint8_t>(1u << static_cast<int>(m)); }

}  // namespace

LockEvent LockTable::Terminal(LockEvent::Kind kind, const std::string& name, const Pending& p) {
  LockEvent e;
  e.kind = kind;
  e.session = p.session;
  e.request_id = p.request_id;
  e.name = name;
  e.mode = p.mode;
  return e;
}

bool LockTable::CompatibleWithGranted(const Resource& r, SessionId self, Mode mode) const {
  for (const auto& [session, holder] : r.granted)
    if (session != self && !Compatible(holder.mode, mode)) return false;
  return true;
}

Status LockTable::FindOrMake(const std::string& name, Resource** r) {
  auto it = resources_.find(name);
  if (it == resources_.end()) {
    if (resources_.size() >= max_resources_) {
      if (idle_.empty())
        return Status::Busy("too many lock resources in use (max " + std::to_string(max_resources_) +
                            "); unlock some, or start lockserver with a larger --max-resources");
      // DLM frees a cached resource the same way: its value block is lost.
      resources_.erase(idle_.front());
      idle_.pop_front();
    }
    it = resources_.emplace(name, Resource{}).first;
  }
  *r = &it->second;
  return Status::OK();
}

Status LockTable::Lock(const Request& req, uint64_t now_ms, std::vector<LockEvent>* out, Bound* refused_by) {
  Bound unused;
  Bound& refused = refused_by ? *refused_by : unused;
  refused = Bound::kNone;
  auto mine = by_session_.find(req.session);
  // One it already has is refused below as such, whatever the bound.
  if (mine != by_session_.end() && mine->second.size() >= max_session_locks_ && !mine->second.count(req.name)) {
    refused = Bound::kSessionLocks;
    return Status::Busy("this session holds or queues too many locks (max " + std::to_string(max_session_locks_) +
                        "); unlock some, or start lockserver with a larger --max-session-locks");
  }
  if (lock_count_ >= max_locks_) {
    refused = Bound::kLocks;
    return Status::Busy("too many locks held or queued (max " + std::to_string(max_locks_) +
                        "); unlock some, or start lockserver with a larger --max-locks");
  }
  Resource* found = nullptr;
  Status s = FindOrMake(req.name, &found);
  if (s.IsBusy()) refused = Bound::kResources;
  if (!s.ok()) return s;
  Resource& r = *found;
  bool known = r.granted.count(req.session) != 0 ||
               std::any_of(r.waiting.begin(), r.waiting.end(),
                           [&](const Pending& p) { return p.session == req.session; });
  if (known) {
    MaybeErase(req.name);
    return Status::InvalidArgument("already holds or waits for " + req.name + "; use CONVERT");
  }
  if (r.idle) {
    idle_.erase(r.idle_pos);
    r.idle = false;
  }
  uint64_t deadline = req.timeout_ms ? now_ms + req.timeout_ms : 0;
  r.waiting.push_back({req.session, req.request_id, req.mode, deadline, req.try_lock});
  by_session_[req.session].insert(req.name);
  ++lock_count_;
  if (deadline) deadlines_.emplace(deadline, req.name, req.session);
  GrantPass(req.name, r, out);
  if (req.try_lock) FailTry(req.name, r, req.session, req.request_id, out);
  SendBlocking(req.name, r, out);
  return Status::OK();
}

Status LockTable::Convert(const Request& req, const Lvb* write, uint64_t now_ms,
                          std::vector<LockEvent>* out) {
  auto rit = resources_.find(req.name);
  if (rit == resources_.end() || rit->second.granted.count(req.session) == 0)
    return Status::InvalidArgument("no granted lock on " + req.name + " to convert");
  Resource& r = rit->second;
  for (const Pending& p : r.converting)
    if (p.session == req.session) return Status::InvalidArgument("a conversion of " + req.name + " is already queued");
  Holder& held = r.granted[req.session];
  Pending p{req.session, req.request_id, req.mode, req.timeout_ms ? now_ms + req.timeout_ms : 0, req.try_lock};
  if (IsDownConversion(held.mode, req.mode)) {
    WriteLvb(r, held.mode, write);
    Grant(req.name, r, p, out);
    GrantPass(req.name, r, out);
    SendBlocking(req.name, r, out);
    return Status::OK();
  }
  // Two conversions that each wait for the other's granted mode would wait
  // forever; like DLM, refuse the later one (it keeps its mode).
  for (const Pending& other : r.converting) {
    Mode other_held = r.granted[other.session].mode;
    if (!Compatible(req.mode, other_held) && !Compatible(other.mode, held.mode)) {
      out->push_back(Terminal(LockEvent::Kind::kDeadlock, req.name, p));
      return Status::OK();
    }
  }
  r.converting.push_back(p);
  if (p.deadline_ms) deadlines_.emplace(p.deadline_ms, req.name, req.session);
  GrantPass(req.name, r, out);
  if (req.try_lock) FailTry(req.name, r, req.session, req.request_id, out);
  SendBlocking(req.name, r, out);
  return Status::OK();
}

Status LockTable::Unlock(SessionId session, const std::string& name, const Lvb* write,
                         std::vector<LockEvent>* out) {
  auto rit = resources_.find(name);
  if (rit == resources_.end()) return Status::NotFound("no lock on " + name);
  Resource& r = rit->second;
  Pending removed;
  bool was_queued = RemovePending(name, r, session, &removed);
  if (was_queued) out->push_back(Terminal(LockEvent::Kind::kCancelled, name, removed));
  auto held = r.granted.find(session);
  if (held == r.granted.end() && !was_queued) return Status::NotFound("no lock on " + name);
  if (held != r.granted.end()) {
    WriteLvb(r, held->second.mode, write);
    r.granted.erase(held);
  }
  Forget(name, session);
  GrantPass(name, r, out);
  SendBlocking(name, r, out);
  MaybeErase(name);
  return Status::OK();
}

Status LockTable::Cancel(SessionId session, const std::string& name, std::vector<LockEvent>* out) {
  auto rit = resources_.find(name);
  Pending removed;
  if (rit == resources_.end() || !RemovePending(name, rit->second, session, &removed))
    return Status::NotFound("no queued request on " + name);
  out->push_back(Terminal(LockEvent::Kind::kCancelled, name, removed));
  if (rit->second.granted.count(session) == 0) Forget(name, session);
  GrantPass(name, rit->second, out);
  SendBlocking(name, rit->second, out);
  MaybeErase(name);
  return Status::OK();
}

void LockTable::Tick(uint64_t now_ms, std::vector<LockEvent>* out) {
  while (!deadlines_.empty() && std::get<0>(*deadlines_.begin()) <= now_ms) {
    auto [deadline, name, session] = *deadlines_.begin();
    deadlines_.erase(deadlines_.begin());
    auto rit = resources_.find(name);
    if (rit == resources_.end()) continue;
    Resource& r = rit->second;
    Pending removed;
    if (!RemovePending(name, r, session, &removed)) continue;
    out->push_back(Terminal(LockEvent::Kind::kTimedOut, name, removed));
    if (r.granted.count(session) == 0) Forget(name, session);
    // The expired request may have been what held the queue back.
    GrantPass(name, r, out);
    SendBlocking(name, r, out);
    MaybeErase(name);
  }
}

uint64_t LockTable::NextDeadline() const {
  return deadlines_.empty() ? 0 : std::get<0>(*deadlines_.begin());
}

void LockTable::CancelAll(SessionId session, std::vector<LockEvent>* out) {
  auto it = by_session_.find(session);
  if (it == by_session_.end()) return;
  std::set<std::string> names = it->second;
  for (const std::string& name : names) (void)Cancel(session, name, out);
}

void LockTable::Release(SessionId session, bool died, std::vector<LockEvent>* out) {
  auto it = by_session_.find(session);
  if (it == by_session_.end()) return;
  std::set<std::string> names = std::move(it->second);
  by_session_.erase(it);
  lock_count_ -= names.size();
  for (const std::string& name : names) {
    auto rit = resources_.find(name);
    if (rit == resources_.end()) continue;
    Resource& r = rit->second;
    Pending removed;
    RemovePending(name, r, session, &removed);  // nobody is left to tell
    auto held = r.granted.find(session);
    if (held != r.granted.end()) {
      if (died && IsWriteMode(held->second.mode)) r.lvb_valid = false;
      r.granted.erase(held);
    }
    GrantPass(name, r, out);
    SendBlocking(name, r, out);
    MaybeErase(name);
  }
}

void LockTable::GrantPass(const std::string& name, Resource& r, std::vector<LockEvent>* out) {
  // Conversions first, in order; one is granted when it fits the granted
  // modes and every conversion queued ahead of it. Loop: a grant changes
  // the granted modes and may unblock an earlier one.
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; i < r.converting.size(); ++i) {
      const Pending p = r.converting[i];
      bool fits = CompatibleWithGranted(r, p.session, p.mode);
      for (size_t j = 0; fits && j < i; ++j) fits = Compatible(r.converting[j].mode, p.mode);
      if (!fits) continue;
      r.converting.erase(r.converting.begin() + static_cast<long>(i));
      if (p.deadline_ms) deadlines_.erase({p.deadline_ms, name, p.session});
      Grant(name, r, p, out);
      progress = true;
      break;
    }
  }
  // New requests strictly FIFO, and only once no conversion waits.
  while (r.converting.empty() && !r.waiting.empty()) {
    const Pending p = r.waiting.front();
    if (!CompatibleWithGranted(r, p.session, p.mode)) break;
    r.waiting.pop_front();
    if (p.deadline_ms) deadlines_.erase({p.deadline_ms, name, p.session});
    Grant(name, r, p, out);
  }
}

void LockTable::Grant(const std::string& name, Resource& r, const Pending& p, std::vector<LockEvent>* out) {
  LockEvent e = Terminal(LockEvent::Kind::kGranted, name, p);
  e.token = ++last_token_;
  if (p.mode != Mode::kNL) {
    e.has_lvb = true;
    e.lvb = r.lvb;
    e.lvb_valid = r.lvb_valid;
  }
  r.granted[p.session] = Holder{p.mode, e.token, 0};
  out->push_back(std::move(e));
}

void LockTable::SendBlocking(const std::string& name, Resource& r, std::vector<LockEvent>* out) {
  auto notify = [&](const Pending& p) {
    for (auto& [session, holder] : r.granted) {
      if (session == p.session || Compatible(holder.mode, p.mode) || (holder.basts_sent & Bit(p.mode))) continue;
      holder.basts_sent |= Bit(p.mode);
      LockEvent e;
      e.kind = LockEvent::Kind::kBlocking;
      e.session = session;
      e.name = name;
      e.mode = p.mode;
      out->push_back(std::move(e));
    }
  };
  for (const Pending& p : r.converting) notify(p);
  for (const Pending& p : r.waiting) notify(p);
}

void LockTable::FailTry(const std::string& name, Resource& r, SessionId session, uint64_t request_id,
                        std::vector<LockEvent>* out) {
  Pending removed;
  if (!RemovePending(name, r, session, &removed)) return;  // granted
  out->push_back(Terminal(LockEvent::Kind::kTryFailed, name, removed));
  if (r.granted.count(session) == 0) Forget(name, session);
  GrantPass(name, r, out);  // a failed try conversion may have held waiters back
  MaybeErase(name);
}

bool LockTable::RemovePending(const std::string& name, Resource& r, SessionId session, Pending* removed) {
  for (auto* queue : {&r.converting, &r.waiting}) {
    auto it = std::find_if(queue->begin(), queue->end(), [&](const Pending& p) { return p.session == session; });
    if (it == queue->end()) continue;
    *removed = *it;
    if (it->deadline_ms) deadlines_.erase({it->deadline_ms, name, session});
    queue->erase(it);
    return true;
  }
  return false;
}

void LockTable::WriteLvb(Resource& r, Mode held, const Lvb* write) {
  if (!write || !IsWriteMode(held)) return;
  r.lvb = *write;
  r.lvb_valid = true;
  ++r.lvb_seq;
}

void LockTable::Forget(const std::string& name, SessionId session) {
  auto it = by_session_.find(session);
  if (it == by_session_.end()) return;
  lock_count_ -= it->second.erase(name);
  if (it->second.empty()) by_session_.erase(it);
}

void LockTable::MaybeErase(const std::string& name) {
  auto it = resources_.find(name);
  if (it == resources_.end()) return;
  Resource& r = it->second;
  if (!r.granted.empty() || !r.converting.empty() || !r.waiting.empty() || r.idle) return;
  // A written or invalidated value block outlives its locks (DLM keeps it
  // while the resource is cached); an untouched resource is dropped.
  if (r.lvb_seq == 0 && r.lvb_valid) {
    resources_.erase(it);
    return;
  }
  r.idle = true;
  r.idle_pos = idle_.insert(idle_.end(), name);
}

ResourceInfo LockTable::Info(const std::string& name, const Resource& r) {
  ResourceInfo info;
  info.name = name;
  info.lvb_valid = r.lvb_valid;
  info.lvb_seq = r.lvb_seq;
  for (const auto& [session, h] : r.granted) info.granted.push_back({session, h.mode, h.mode, h.token});
  for (const Pending& p : r.converting)
    info.converting.push_back({p.session, p.mode, r.granted.at(p.session).mode, 0});
  for (const Pending& p : r.waiting) info.waiting.push_back({p.session, p.mode, p.mode, 0});
  return info;
}

std::vector<ResourceInfo> LockTable::Snapshot(size_t max_rows) const {
  std::vector<ResourceInfo> result;
  size_t rows = 0;
  for (const auto& [name, r] : resources_) {
    rows += 1 + r.granted.size() + r.converting.size() + r.waiting.size();
    if (rows > max_rows) break;
    result.push_back(Info(name, r));
  }
  return result;
}

bool LockTable::Describe(const std::string& name, ResourceInfo* info) const {
  auto it = resources_.find(name);
  if (it == resources_.end()) return false;
  *info = Info(name, it->second);
  return true;
}

}  // namespace ssiuml::lock
