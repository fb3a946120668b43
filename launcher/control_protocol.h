// The control protocol between the ssi-* commands and ssid over RUN/ssid.sock:
// one JSON object per line, each carrying "v" (the protocol version). A
// client sends one request per connection; ssid answers with zero or more
// progress messages and exactly one final "result" message, then closes.
// ssid takes 256 connections at once; it closes one that sends no request
// within 10 s or leaves its result unread for 10 s. "timeout_ms" is 1 ms to
// a day. A client may shut down its sending side after its request.
//
//   request  {"v":1,"cmd":"add","nodes":[1,2],"fresh":false,"wait":true,"timeout_ms":120000}
//            {"v":1,"cmd":"rm","nodes":[2]}      {"v":1,"cmd":"stop"}
//            {"v":1,"cmd":"status"}              {"v":1,"cmd":"ping"}
//            {"v":1,"cmd":"exec","node":1,"command":"ping -c1 node2","timeout_ms":60000}
//            {"v":1,"cmd":"pause","nodes":[3]}   {"v":1,"cmd":"resume","nodes":[3]}
//            {"v":1,"cmd":"event","event":"nemesis_crash","fields":{"node":2}}
//            {"v":1,"cmd":"snap","node":3,"name":"before"}  -> {"snapshot":"node3@before"}
//   add also takes "from":"node3@before": the new nodes' disks are clones of it.
//            {"v":1,"cmd":"net","request":{"cmd":"partition","groups":[[1,2],[3]]}}
//              forwarded to switchd (switchd/PROTOCOL.md); its reply comes back as "net".
//            {"v":1,"cmd":"disk","node":3,"fault":"stall"}  stall, error or none (DISK=plx)
//   A console session stays open: {"v":1,"cmd":"attach","nodes":[1],"events":true}
//   gets the followed nodes' console history and then their output as it
//   comes, and events as they happen; on the same connection the client may
//   then send {"v":1,"cmd":"follow","nodes":[2,3]}, {"v":1,"cmd":"input",
//   "node":2,"data":"<base64>"} and {"v":1,"cmd":"status"}.
//   progress {"v":1,"type":"node","node":2,"ok":false,"error":"node 2 is already running"}
//            {"v":1,"type":"output","fd":1,"data":"<base64>"}
//            {"v":1,"type":"console","node":2,"data":"<base64>"}
//            {"v":1,"type":"event", ...the events.jsonl record}
//            {"v":1,"type":"status", ...as the status result}
//   final    {"v":1,"type":"result","ok":true, ...command-specific fields}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace ssiuml {

constexpr int kControlVersion = 1;
// Longest request line ssid reads; a longer one is refused.
constexpr size_t kMaxRequestLine = 64 * 1024;

enum class Command {
  kPing, kAdd, kRm, kStop, kStatus, kExec, kPause, kResume,
  kAttach, kFollow, kInput,  // console sessions
  kEvent,                    // record an event (ssi-nemesis, ssi-test)
  kSnap,                     // live snapshot of a node's disk (DISK=plx)
  kNet,                      // a request for the switch (ssi-net)
  kDisk,                     // a disk fault on a node's VDI (ssi-nemesis)
};

struct Request {
  Command cmd = Command::kPing;
  std::vector<int> nodes;  // add, rm, pause, resume, attach, follow
  bool fresh = false;      // add: discard the node's disk changes first
  bool wait = true;        // add: answer once the nodes are up
  uint64_t timeout_ms = 120000;
  int node = 0;         // exec, input
  std::string command;  // exec
  std::string data;     // input: keystrokes (base64 on the wire)
  bool events = false;  // attach: also stream events
  std::string name;              // snap: the snapshot's name (empty: numbered)
  std::string from;              // add: clone the disks from this VDI@SNAP
  nlohmann::json net;            // net: the request for switchd
  std::string fault;             // disk: stall, error or none
  std::string event;             // event: its name, [a-z_]
  nlohmann::json event_fields;   // event: an object of details
};

// Parses and validates one request line; node numbers are checked against
// max_nodes so a hand-written request cannot reach past the limit.
Status ParseRequest(const std::string& line, int max_nodes, Request* request);
nlohmann::json EncodeRequest(const Request& request);

// A message of the given type with the version stamped in.
nlohmann::json Message(const char* type);
// Serialises a message as one line; invalid UTF-8 is replaced, never thrown.
std::string ToLine(const nlohmann::json& message);

}  // namespace ssiuml
