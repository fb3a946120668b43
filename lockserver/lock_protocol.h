// The lock server's wire protocol, SSIL/1 (lockserver/PROTOCOL.md): text
// lines "VERB key=value ... flag ...", one message per line. Shared by the
// server and the client library, so it uses nothing beyond the C++ library
// (the client links statically into guest binaries).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "lockserver/lock_mode.h"

namespace ssiuml::lock::wire {

constexpr std::string_view kVersion = "SSIL/1";
// Longest line either side accepts, without its '\n'.
constexpr size_t kMaxLine = 1024;
constexpr size_t kMaxName = 255;
constexpr size_t kBootHexLen = 32;  // 128-bit boot id
constexpr size_t kLvbBytes = 32;
constexpr uint64_t kMaxTimeoutMs = 86400000;
constexpr int kMaxNode = 65535;

// One parsed line: the verb, its key=value fields in order and its bare
// flags. "msg=" takes the rest of the line, so error text may hold spaces.
struct Message {
  std::string verb;
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<std::string> flags;
  // The value of key, or nullptr.
  const std::string* Find(std::string_view key) const;
  bool HasFlag(std::string_view flag) const;
};

// Splits a line; InvalidArgument for control characters, empty tokens or
// duplicate keys. Does not know the verbs.
Status ParseMessage(std::string_view line, Message* msg);

enum class Verb { kHello, kLock, kConvert, kUnlock, kCancel, kPing, kWatch, kStatus, kBye };

// A client request, validated.
struct Request {
  Verb verb = Verb::kPing;
  uint64_t id = 0;
  std::string name;        // resource (LOCK...CANCEL) or client name (HELLO)
  Mode mode = Mode::kNL;   // LOCK, CONVERT
  bool try_lock = false;   // LOCK, CONVERT
  uint64_t timeout_ms = 0; // LOCK, CONVERT; 0 = forever
  bool has_lvb = false;    // CONVERT, UNLOCK
  std::array<uint8_t, kLvbBytes> lvb{};
  bool host = false;       // HELLO: a host client, not a node
  int node = 0;            // HELLO of a node
  std::string boot;        // HELLO of a node: lower-case hex
};

// Parses one request line. On error, *code is the ERR code to answer with
// (malformed, unknown-verb, bad-mode, version) and req->id is set if the
// line carried a readable id, so pipelined clients can match the error.
Status ParseRequest(std::string_view line, Request* req, std::string* code);

std::string HexEncode(const uint8_t* data, size_t len);
// Exactly 2*len hex digits of either case.
bool HexDecode(std::string_view text, uint8_t* data, size_t len);
bool ParseU64(std::string_view text, uint64_t* value);
// Resource and client names: 1..255 of [A-Za-z0-9._:/@+-].
bool ValidName(std::string_view name);

// Splits a byte stream into lines of at most kMaxLine. A longer line is
// reported once as overlong and the rest of it is skipped, so a peer cannot
// grow memory without bound.
class LineReader {
 public:
  void Feed(std::string_view bytes);
  enum class Result { kNone, kLine, kOverlong };
  Result Next(std::string* line);

 private:
  std::string buffer_;
  size_t start_ = 0;    // first byte not yet returned
  size_t scanned_ = 0;  // no '\n' in [start_, scanned_)
  bool skipping_ = false;  // inside an overlong line, until its '\n'
};

}  // namespace ssiuml::lock::wire
