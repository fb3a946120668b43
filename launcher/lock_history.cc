#include "launcher/lock_history.h"

#include <algorithm>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "lockserver/lock_client.h"

namespace ssiuml {
namespace {

// Each guest sets its wall clock from the lock server's over its first
// heartbeats (ssi-agent), to within half a round trip: a millisecond or two
// through the gateway (a boot under load had left guests tens of ms apart).
// A release is taken as happening up to lock::kGuestClockSkewNs earlier than its
// node recorded it, so clock skew is not mistaken for two holders; a real
// double hold lasts a whole hold.
void AllowForClockSkew(std::vector<lock::HistoryEvent>* node_events) {
  std::map<std::string, uint64_t> acquired;  // client -> time of its open hold
  for (lock::HistoryEvent& e : *node_events) {
    if (e.kind == lock::HistoryEvent::Kind::kAcquire) acquired[e.client] = e.time_ns;
    if (e.kind != lock::HistoryEvent::Kind::kRelease || e.time_ns < lock::kGuestClockSkewNs) continue;
    e.time_ns = std::max(acquired[e.client] + 1, e.time_ns - lock::kGuestClockSkewNs);
  }
}

// Node N's exits (ns), from events.jsonl, in order.
std::map<int, std::vector<uint64_t>> NodeExits(const std::string& events) {
  std::map<int, std::vector<uint64_t>> exits;
  std::istringstream in(events);
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
    if (!e.is_object() || e.value("event", "") != "node_exited" || !e["ts"].is_number()) continue;
    exits[e.value("node", 0)].push_back(static_cast<uint64_t>(e["ts"].get<double>() * 1e9));
  }
  for (auto& [node, times] : exits) std::sort(times.begin(), times.end());
  return exits;
}

}  // namespace

Status CheckLockHistory(const std::map<int, std::string>& histories, const std::string& events,
                        lock::CheckResult* result) {
  std::vector<lock::HistoryEvent> all;
  for (const auto& [node, text] : histories) {
    std::vector<lock::HistoryEvent> mine;
    Status s = lock::ParseHistory(text, &mine);
    if (!s.ok()) return Status::Corruption("node " + std::to_string(node) + ": " + s.message());
    AllowForClockSkew(&mine);
    all.insert(all.end(), mine.begin(), mine.end());
  }
  // A client whose last record is an acquire held the lock until its node
  // died: the first exit of that node after the record closes the hold.
  std::map<std::string, lock::HistoryEvent> last;
  for (const auto& e : all)
    if (!last.count(e.client) || last[e.client].time_ns <= e.time_ns) last[e.client] = e;
  auto exits = NodeExits(events);
  for (const auto& [client, e] : last) {
    if (e.kind != lock::HistoryEvent::Kind::kAcquire || client.size() < 2 || client[0] != 'n') continue;
    int node = std::atoi(client.c_str() + 1);
    for (uint64_t t : exits[node]) {
      if (t < e.time_ns) continue;
      all.push_back({t, client, lock::HistoryEvent::Kind::kFenced, 0});
      break;
    }
  }
  *result = lock::CheckMutex(std::move(all));
  return Status::OK();
}

}  // namespace ssiuml
