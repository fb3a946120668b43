#include "launcher/control_protocol.h"

#include <cctype>

#include "common/mgmt_frame.h"
#include "launcher/cluster_paths.h"

namespace ssiuml {
namespace {

struct CommandName {
  Command cmd;
  const char* name;
};
constexpr CommandName kCommands[] = {
    {Command::kPing, "ping"},     {Command::kAdd, "add"},       {Command::kRm, "rm"},
    {Command::kStop, "stop"},     {Command::kStatus, "status"}, {Command::kExec, "exec"},
    {Command::kPause, "pause"},   {Command::kResume, "resume"}, {Command::kAttach, "attach"},
    {Command::kFollow, "follow"}, {Command::kInput, "input"},   {Command::kEvent, "event"},
    {Command::kSnap, "snap"},     {Command::kNet, "net"}, {Command::kDisk, "disk"},
};

bool TakesNodeList(Command cmd) {
  return cmd == Command::kAdd || cmd == Command::kRm || cmd == Command::kPause ||
         cmd == Command::kResume || cmd == Command::kAttach || cmd == Command::kFollow;
}

const char* NameOf(Command cmd) {
  for (const auto& c : kCommands)
    if (c.cmd == cmd) return c.name;
  return "?";
}

}  // namespace

Status ParseRequest(const std::string& line, int max_nodes, Request* request) {
  if (line.size() > kMaxRequestLine) return Status::InvalidArgument("request too long");
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument("request is not a JSON object");
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer())
    return Status::InvalidArgument("request has no protocol version \"v\"");
  if (v->get<int64_t>() != kControlVersion)
    return Status::NotSupported("ssid speaks control protocol version " +
                                std::to_string(kControlVersion) + ", the client " +
                                v->dump() + ": use the ssi-* commands of the same build");
  auto cmd = j.find("cmd");
  if (cmd == j.end() || !cmd->is_string()) return Status::InvalidArgument("request has no \"cmd\"");
  bool known = false;
  for (const auto& c : kCommands) {
    if (*cmd == c.name) {
      request->cmd = c.cmd;
      known = true;
    }
  }
  if (!known) return Status::InvalidArgument("unknown command " + cmd->dump());

  // Consoles also include the lock node's.
  bool console = request->cmd == Command::kAttach || request->cmd == Command::kFollow || request->cmd == Command::kInput;
  auto check_node = [&](const nlohmann::json& n, int* out) {
    if (console && n.is_number_integer() && n.get<int64_t>() == kLockNode) {
      *out = kLockNode;
      return Status::OK();
    }
    if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() > max_nodes)
      return Status::InvalidArgument("node " + n.dump() + " is out of range (1-" +
                                     std::to_string(max_nodes) + ")");
    *out = n.get<int>();
    return Status::OK();
  };
  auto nodes = j.find("nodes");
  bool nodes_optional = request->cmd == Command::kAttach;
  if (TakesNodeList(request->cmd) && !(nodes_optional && nodes == j.end())) {
    if (nodes == j.end() || !nodes->is_array() || nodes->size() > 1024)
      return Status::InvalidArgument("\"nodes\" must be an array of node numbers");
    for (const auto& n : *nodes) {
      int node = 0;
      Status s = check_node(n, &node);
      if (!s.ok()) return s;
      request->nodes.push_back(node);
    }
  }
  auto flag = [&](const char* key, bool* out) {
    auto it = j.find(key);
    if (it == j.end()) return Status::OK();
    if (!it->is_boolean()) return Status::InvalidArgument(std::string("\"") + key + "\" must be true or false");
    *out = it->get<bool>();
    return Status::OK();
  };
  Status s = flag("fresh", &request->fresh);
  if (s.ok()) s = flag("wait", &request->wait);
  if (s.ok()) s = flag("events", &request->events);
  if (!s.ok()) return s;
  if (auto t = j.find("timeout_ms"); t != j.end()) {
    if (!t->is_number_unsigned() || t->get<uint64_t>() == 0 || t->get<uint64_t>() > 24ull * 3600 * 1000)
      return Status::InvalidArgument("\"timeout_ms\" must be a number of milliseconds from 1 up to a day");
    request->timeout_ms = t->get<uint64_t>();
  }
  if (request->cmd == Command::kExec) {
    auto node = j.find("node");
    if (node == j.end()) return Status::InvalidArgument("exec needs \"node\"");
    s = check_node(*node, &request->node);
    if (!s.ok()) return s;
    auto command = j.find("command");
    if (command == j.end() || !command->is_string() || command->get<std::string>().empty())
      return Status::InvalidArgument("exec needs a non-empty \"command\"");
    request->command = command->get<std::string>();
  }
  // Snapshot and VDI names end up in plx names and paths: keep them plain.
  auto plain_name = [](const std::string& text, bool allow_at) {
    bool ok = !text.empty() && text.size() <= 64;
    for (char c : text)
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
                  (allow_at && c == '@'));
    return ok;
  };
  if (request->cmd == Command::kSnap) {
    auto node = j.find("node");
    if (node == j.end()) return Status::InvalidArgument("snap needs \"node\"");
    s = check_node(*node, &request->node);
    if (!s.ok()) return s;
    if (auto name = j.find("name"); name != j.end()) {
      if (!name->is_string() || (!name->get<std::string>().empty() && !plain_name(*name, false)))
        return Status::InvalidArgument("snapshot names are letters, digits, '-', '_' and '.'");
      request->name = name->get<std::string>();
    }
  }
  if (auto from = j.find("from"); from != j.end() && request->cmd == Command::kAdd) {
    if (!from->is_string() || !plain_name(*from, true) || from->get<std::string>().find('@') == std::string::npos)
      return Status::InvalidArgument("\"from\" must name a snapshot as VDI@SNAP");
    request->from = from->get<std::string>();
  }
  if (request->cmd == Command::kNet) {
    auto net = j.find("request");
    if (net == j.end() || !net->is_object() || !net->contains("cmd") || !(*net)["cmd"].is_string() ||
        net->dump().size() > 4096)
      return Status::InvalidArgument("net needs a \"request\" object with a \"cmd\"");
    request->net = *net;
  }
  if (request->cmd == Command::kDisk) {
    auto node = j.find("node");
    if (node == j.end()) return Status::InvalidArgument("disk needs \"node\"");
    s = check_node(*node, &request->node);
    if (!s.ok()) return s;
    auto fault = j.find("fault");
    if (fault == j.end() || !fault->is_string() ||
        (*fault != "stall" && *fault != "error" && *fault != "none"))
      return Status::InvalidArgument("disk needs \"fault\": stall, error or none");
    request->fault = fault->get<std::string>();
  }
  if (request->cmd == Command::kEvent) {
    auto name = j.find("event");
    bool good = name != j.end() && name->is_string() && !name->get<std::string>().empty() &&
                name->get<std::string>().size() <= 32;
    if (good)
      for (char c : name->get<std::string>()) good = good && ((c >= 'a' && c <= 'z') || c == '_');
    if (!good) return Status::InvalidArgument("event needs a name of 1-32 letters a-z and _");
    request->event = name->get<std::string>();
    auto fields = j.find("fields");
    if (fields != j.end() && (!fields->is_object() || fields->dump().size() > 4096))
      return Status::InvalidArgument("event \"fields\" must be an object under 4 KiB");
    request->event_fields = fields != j.end() ? *fields : nlohmann::json::object();
  }
  if (request->cmd == Command::kInput) {
    auto node = j.find("node");
    if (node == j.end()) return Status::InvalidArgument("input needs \"node\"");
    s = check_node(*node, &request->node);
    if (!s.ok()) return s;
    auto data = j.find("data");
    if (data == j.end() || !data->is_string() ||
        !mgmt::Base64Decode(data->get<std::string>(), &request->data))
      return Status::InvalidArgument("input needs base64 \"data\"");
  }
  return Status::OK();
}

nlohmann::json EncodeRequest(const Request& request) {
  nlohmann::json j = {{"v", kControlVersion}, {"cmd", NameOf(request.cmd)}};
  switch (request.cmd) {
    case Command::kAdd:
      j["fresh"] = request.fresh;
      j["wait"] = request.wait;
      j["timeout_ms"] = request.timeout_ms;
      if (!request.from.empty()) j["from"] = request.from;
      [[fallthrough]];
    case Command::kAttach:
      j["events"] = request.events;
      [[fallthrough]];
    case Command::kRm:
    case Command::kPause:
    case Command::kResume:
    case Command::kFollow:
      j["nodes"] = request.nodes;
      break;
    case Command::kInput:
      j["node"] = request.node;
      j["data"] = mgmt::Base64Encode(request.data);
      break;
    case Command::kNet:
      j["request"] = request.net;
      break;
    case Command::kSnap:
      j["node"] = request.node;
      j["name"] = request.name;
      break;
    case Command::kDisk:
      j["node"] = request.node;
      j["fault"] = request.fault;
      break;
    case Command::kEvent:
      j["event"] = request.event;
      j["fields"] = request.event_fields.is_object() ? request.event_fields : nlohmann::json::object();
      break;
    case Command::kExec:
      j["node"] = request.node;
      j["command"] = request.command;
      j["timeout_ms"] = request.timeout_ms;
      break;
    case Command::kStop:
      j["timeout_ms"] = request.timeout_ms;
      break;
    default:
      break;
  }
  return j;
}

nlohmann::json Message(const char* type) { return {{"v", kControlVersion}, {"type", type}}; }

std::string ToLine(const nlohmann::json& message) {
  return message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace ssiuml
