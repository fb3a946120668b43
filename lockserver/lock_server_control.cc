// The control socket of LockServer: status, the fencer, the registry.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "lockserver/lock_server.h"
#include "lockserver/lock_status.h"

namespace ssiuml::lock {
namespace {

constexpr size_t kClockSamples = 120;  // a minute of ssid's, one every 500 ms

}  // namespace

void LockServer::SendFence(uint64_t id) {
  auto it = fences_.find(id);
  if (it == fences_.end() || fencer_fd_ < 0) return;
  nlohmann::json j = {{"v", 1}, {"fence", it->second.node}, {"boot", it->second.boot}, {"id", id}};
  Send(fencer_fd_, j.dump());
}

void LockServer::HandleControl(int fd, const std::string& line) {
  nlohmann::json req = nlohmann::json::parse(line, nullptr, false);
  nlohmann::json reply;
  try {
    reply = ExecuteControl(fd, req);
  } catch (const nlohmann::json::exception& e) {  // a field of another type: read before any change
    reply = {{"v", 1}, {"ok", false}, {"error", std::string("a field has the wrong type: ") + e.what()}};
  }
  if (!reply.is_null()) Send(fd, reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

nlohmann::json LockServer::ExecuteControl(int fd, const nlohmann::json& req) {
  auto fail = [](const std::string& error) { return nlohmann::json{{"v", 1}, {"ok", false}, {"error", error}}; };
  if (!req.is_object() || req.value("v", 0) != 1) return fail("expected {\"v\":1,...}");
  uint64_t now = EventLoop::NowMs();
  Outputs out;
  // The fencer's answer to a fence request.
  if (req.contains("fenced")) {
    uint64_t id = req.value("id", uint64_t{0});
    auto it = fences_.find(id);
    if (fd != fencer_fd_ || it == fences_.end() || req["fenced"] != it->second.node) {
      spdlog::warn("ignoring unexpected fence answer: {}", req.dump());
      return nullptr;
    }
    if (req.value("ok", false) != true) {
      spdlog::warn("fencer could not fence node {}: {}; retrying", it->second.node, req.value("error", "no reason"));
      return nullptr;
    }
    Fence fence = it->second;
    fences_.erase(it);
    spdlog::info("node {} fenced: releasing its locks", fence.node);
    service_.FenceDone(fence.node, fence.boot, &out);
    Deliver(out);
    RetryPendingHellos();
    return nullptr;
  }
  if (!req.contains("cmd") || !req["cmd"].is_string()) return fail("expected {\"v\":1,\"cmd\":...}");
  std::string cmd = req["cmd"];
  nlohmann::json ok = {{"v", 1}, {"ok", true}};
  auto node_of = [&](int* node) {
    if (!req.contains("node") || !req["node"].is_number_integer()) return false;
    int64_t n = req["node"].get<int64_t>();
    if (n < 1 || n > wire::kMaxNode) return false;
    *node = static_cast<int>(n);
    return true;
  };
  int node = 0;
  if (cmd == "status") {
    nlohmann::json j = StatusJson(service_, now, req.value("locks", true));
    j["connections"] = conns_.size();
    j["fencer_connected"] = fencer_fd_ >= 0;
    j["refused"] = refused_;
    return j;
  }
  if (cmd == "fencer") {
    if (fencer_fd_ >= 0 && fencer_fd_ != fd) spdlog::warn("a new fencer replaces the old one");
    fencer_fd_ = fd;
    spdlog::info("fencer connected");
    Send(fd, ok.dump());
    for (const auto& [id, fence] : fences_) SendFence(id);
    return nullptr;
  }
  if (cmd == "boot") {
    uint8_t bytes[wire::kBootHexLen / 2];
    if (!node_of(&node) || !req.contains("boot") || !req["boot"].is_string() ||
        !wire::HexDecode(req["boot"].get<std::string>(), bytes, sizeof bytes))
      return fail("boot needs \"node\" (1-65535) and \"boot\" (32 hex digits)");
    service_.SetBoot(node, wire::HexEncode(bytes, sizeof bytes), now, &out);
  } else if (cmd == "clock") {
    // In a lock node the guest's clock is off the host's (by 100 ms and
    // more after a loaded boot); guests take their time from PONG, so it
    // reports the host's time that ssid sends here, a loopback hop late.
    // Each sample is short by its hop's delay: the largest of the last
    // minute's is the least delayed, and it does not jump with every hop
    // (under load the hops differed by more than the nodes' clock skew
    // allowance, and nodes set their clocks at different samples).
    if (!req.contains("host_ns") || !req["host_ns"].is_number_unsigned())
      return fail("clock needs \"host_ns\" (the host's wall clock, ns since the epoch)");
    clock_samples_.push_back(static_cast<int64_t>(req["host_ns"].get<uint64_t>() - WallClockNs()));
    if (clock_samples_.size() > kClockSamples) clock_samples_.pop_front();
    clock_offset_ns_ = *std::max_element(clock_samples_.begin(), clock_samples_.end());
    ok["offset_ns"] = clock_offset_ns_;
    return ok;
  } else if (cmd == "gone") {
    if (!node_of(&node)) return fail("gone needs \"node\" (1-65535)");
    service_.Gone(node, now, &out);
  } else {
    return fail("unknown command " + cmd.substr(0, 32));
  }
  spdlog::info("registry: {}", req.dump());
  Deliver(out);
  RetryPendingHellos();
  return ok;
}

}  // namespace ssiuml::lock
