#include "launcher/event_log.h"

#include <spdlog/spdlog.h>

#include "launcher/control_protocol.h"

namespace ssiuml {

void EventLog::Append(const std::string& event, nlohmann::json fields) {
  fields["ts"] = static_cast<double>(env_->NowMicros() / 1000) / 1000.0;
  fields["cluster"] = cluster_;
  fields["event"] = event;
  Status s = env_->AppendToFile(path_, ToLine(fields));
  if (!s.ok()) spdlog::warn("cannot record event {}: {}", event, s.ToString());
  if (listener_) listener_(fields);
}

}  // namespace ssiuml
