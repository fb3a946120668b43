// The control socket's commands (switchd/PROTOCOL.md): one JSON request in,
// one JSON reply out, {"v":1,"ok":...}. Free of sockets so tests call it
// directly.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "switchd/fabric.h"

namespace ssiuml::vde {

class Gateway;
class VdePorts;

constexpr int kProtocolVersion = 1;

class Commands {
 public:
  // gateway may be null (switchd without --gateway).
  Commands(Fabric* fabric, const VdePorts* ports, Gateway* gateway)
      : fabric_(fabric), ports_(ports), gateway_(gateway) {}

  // One request line's reply. Every field is read before anything changes:
  // one of another type throws nlohmann::json::exception, which
  // JsonLineServer answers as an error.
  nlohmann::json Execute(const std::string& line);

 private:
  nlohmann::json Run(nlohmann::json req);
  nlohmann::json Status() const;
  nlohmann::json Forward(const nlohmann::json& request);
  nlohmann::json Forwards() const;

  Fabric* fabric_;
  const VdePorts* ports_;
  Gateway* gateway_;
};

}  // namespace ssiuml::vde
