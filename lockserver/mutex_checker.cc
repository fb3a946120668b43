#include "lockserver/mutex_checker.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace ssiuml::lock {

Status ParseHistory(std::string_view text, std::vector<HistoryEvent>* events) {
  std::istringstream in{std::string(text)};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    HistoryEvent e;
    std::string kind;
    if (!(fields >> e.time_ns >> e.client >> kind)) return Status::Corruption("history line " + std::to_string(number));
    if (kind == "fenced") {
      e.kind = HistoryEvent::Kind::kFenced;
    } else if (kind == "acquire" || kind == "release") {
      e.kind = kind == "acquire" ? HistoryEvent::Kind::kAcquire : HistoryEvent::Kind::kRelease;
      if (!(fields >> e.token)) return Status::Corruption("history line " + std::to_string(number) + ": no token");
    } else {
      return Status::Corruption("history line " + std::to_string(number) + ": unknown event " + kind);
    }
    events->push_back(std::move(e));
  }
  return Status::OK();
}

CheckResult CheckMutex(std::vector<HistoryEvent> events) {
  std::stable_sort(events.begin(), events.end(),
                   [](const HistoryEvent& a, const HistoryEvent& b) { return a.time_ns < b.time_ns; });
  CheckResult result;
  std::map<std::string, uint64_t> holding;  // client -> token
  std::set<std::string> dead;
  uint64_t last_token = 0;
  auto fail = [&](const HistoryEvent& e, const std::string& what) {
    result.violations.push_back("at " + std::to_string(e.time_ns) + " ns, " + e.client + ": " + what);
  };
  for (const HistoryEvent& e : events) {
    if (dead.count(e.client) && e.kind != HistoryEvent::Kind::kFenced) fail(e, "acted after it was fenced");
    switch (e.kind) {
      case HistoryEvent::Kind::kAcquire:
        ++result.acquires;
        if (e.token <= last_token)
          fail(e, "token " + std::to_string(e.token) + " does not exceed earlier token " + std::to_string(last_token));
        last_token = std::max(last_token, e.token);
        for (const auto& [other, token] : holding)
          if (other != e.client)
            fail(e, "acquired token " + std::to_string(e.token) + " while " + other + " still held token " +
                        std::to_string(token));
        if (holding.count(e.client)) fail(e, "acquired again without releasing");
        holding[e.client] = e.token;
        break;
      case HistoryEvent::Kind::kRelease: {
        ++result.releases;
        auto it = holding.find(e.client);
        if (it == holding.end() || it->second != e.token) {
          fail(e, "released token " + std::to_string(e.token) + " it did not hold");
        } else {
          holding.erase(it);
        }
        break;
      }
      case HistoryEvent::Kind::kFenced:
        ++result.fenced;
        holding.erase(e.client);
        dead.insert(e.client);
        break;
    }
  }
  return result;
}

}  // namespace ssiuml::lock
