// The client end of an attach session with ssid (see control_protocol.h):
// console output and events stream in, keystrokes and follow changes go out.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/fd.h"
#include "common/mgmt_frame.h"
#include "common/status.h"
#include "launcher/cluster_paths.h"

namespace ssiuml {

class ConsoleSession {
 public:
  Status Open(const ClusterPaths& paths, const std::vector<int>& nodes, bool events);
  int fd() const { return fd_.get(); }
  Status Follow(const std::vector<int>& nodes);
  Status Input(int node, const std::string& bytes);
  Status RequestStatus();
  // Appends what arrived to *messages; false once ssid closed the session.
  bool Read(std::vector<nlohmann::json>* messages);

 private:
  Status SendLine(const nlohmann::json& request);

  UniqueFd fd_;
  mgmt::LineSplitter lines_;
};

}  // namespace ssiuml
