#include "lockserver/lock_status.h"

namespace ssiuml::lock {
namespace {

// A row is at most about 330 bytes (a 255-byte name): under 700 KB, inside
// the default 1 MB a peer may have queued.
constexpr size_t kMaxLockRows = 2000;

}  // namespace

nlohmann::json StatusJson(const LockService& service, uint64_t now_ms, bool with_locks) {
  using nlohmann::json;
  json sessions = json::array(), members = json::array(), registry = json::array(), fences = json::array(),
       locks = json::array();
  for (const auto& [id, s] : service.sessions()) {
    json j = {{"id", id},
              {"kind", s.kind == SessionKind::kNode ? "node" : "host"},
              {"name", s.name},
              {"state", s.state == SessionState::kLive ? "live" : "fencing"},
              {"connected", s.connected},
              {"idle_ms", now_ms > s.last_seen_ms ? now_ms - s.last_seen_ms : 0}};
    if (s.kind == SessionKind::kNode) {
      j["node"] = s.node;
      j["boot"] = s.boot;
    }
    sessions.push_back(j);
  }
  for (const auto& [node, boot] : service.members()) {
    bool fencing = service.fencing().count({node, boot}) != 0;
    members.push_back({{"node", node}, {"boot", boot}, {"state", fencing ? "fencing" : "member"}});
  }
  for (const auto& [node, boot] : service.registry()) registry.push_back({{"node", node}, {"boot", boot}});
  for (const auto& [node, boot] : service.fencing()) fences.push_back({{"node", node}, {"boot", boot}});
  std::vector<ResourceInfo> resources;
  if (with_locks) resources = service.table().Snapshot(kMaxLockRows);
  for (const ResourceInfo& r : resources) {
    json granted = json::array(), converting = json::array(), waiting = json::array();
    for (const auto& e : r.granted)
      granted.push_back({{"session", e.session}, {"mode", ModeName(e.mode)}, {"token", e.token}});
    for (const auto& e : r.converting)
      converting.push_back({{"session", e.session}, {"from", ModeName(e.from)}, {"to", ModeName(e.mode)}});
    for (const auto& e : r.waiting) waiting.push_back({{"session", e.session}, {"mode", ModeName(e.mode)}});
    locks.push_back({{"name", r.name},
                     {"lvb_valid", r.lvb_valid},
                     {"lvb_seq", r.lvb_seq},
                     {"granted", granted},
                     {"converting", converting},
                     {"waiting", waiting}});
  }
  json status = {{"v", 1},
                 {"ok", true},
                 {"epoch", service.epoch()},
                 {"heartbeat_ms", service.options().heartbeat_ms},
                 {"expiry_missed", service.options().expiry_missed},
                 {"fencing", service.options().fencing},
                 {"last_token", service.table().last_token()},
                 {"sessions", sessions},
                 {"members", members},
                 {"registry", registry},
                 {"pending_fences", fences}};
  if (with_locks) {
    status["locks"] = locks;
    status["locks_total"] = service.table().resource_count();
  }
  return status;
}

}  // namespace ssiuml::lock
