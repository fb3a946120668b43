// STATE/events.jsonl: one JSON object per line for every node and cluster
// event, so tools and tests can follow what happened without parsing logs.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/env.h"

namespace ssiuml {

class EventLog {
 public:
  EventLog(Env* env, std::string path, std::string cluster)
      : env_(env), path_(std::move(path)), cluster_(std::move(cluster)) {}
  // Appends {"ts": <unix seconds, ms precision>, "cluster", "event", ...fields}.
  void Append(const std::string& event, nlohmann::json fields = nlohmann::json::object());
  // Sees every event as it is appended (the dashboard's live status line).
  void SetListener(std::function<void(const nlohmann::json&)> listener) {
    listener_ = std::move(listener);
  }

 private:
  Env* env_;
  std::string path_;
  std::string cluster_;
  std::function<void(const nlohmann::json&)> listener_;
};

}  // namespace ssiuml
