// The management-line protocol between ssid (host) and ssi-agent (guest),
// carried over the node's ssl1 serial line. A serial line is a byte stream
// with no framing of its own, so every message is one text line:
//
//   VERB ID [NUM] [PAYLOAD]\n
//
// PAYLOAD is base64, so a frame never contains a control character and line
// noise from before the agent opened the line parses as garbage, not as a
// request. Frames:
//   host -> guest: PING id | EXEC id b64(command) | KILL id
//   guest -> host: HELLO 0 version b64(boot) | PONG id b64(boot) |
//                  OUT id fd b64(data) | EXIT id status | ERR id b64(message)
// boot is the node's boot id: a random secret ssi-agent makes once per boot
// (/run/ssi/boot_id). This line is the only channel physically tied to the
// node, so ssid learns it here and the lock server trusts a session that
// presents it as node N's.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ssiuml::mgmt {

constexpr int kProtocolVersion = 1;
// Longest frame either side accepts; longer lines are dropped whole.
constexpr size_t kMaxLine = 64 * 1024;
// Output chunk carried by one OUT frame, before base64.
constexpr size_t kOutChunk = 3 * 1024;

enum class Verb { kHello, kPing, kPong, kExec, kKill, kOut, kExit, kErr };

struct Frame {
  Verb verb = Verb::kPing;
  uint64_t id = 0;
  int64_t num = 0;      // HELLO: version; OUT: fd; EXIT: status
  std::string payload;  // HELLO, PONG: boot id; EXEC: command; OUT: data; ERR: message (decoded)
};

std::string Encode(const Frame& frame);
Status Parse(std::string_view line, Frame* frame);

std::string Base64Encode(std::string_view data);
bool Base64Decode(std::string_view text, std::string* out);

// Splits a byte stream into lines. Lines longer than kMaxLine are discarded
// and counted, so a peer spewing garbage cannot grow memory without bound.
class LineSplitter {
 public:
  void Feed(std::string_view bytes);
  // Feeds what a non-blocking fd holds now, up to kMaxFeedReads reads (for a
  // level-triggered watch: the rest wakes it again, so a peer that writes
  // without pause cannot hold a loop or pile up lines). False once the peer
  // closed it or reading failed (on a pty master, EIO: the other end exited).
  bool FeedFrom(int fd);
  static constexpr int kMaxFeedReads = 16;  // of 16 KiB
  // Pops the next complete line (without '\n' or a trailing '\r').
  bool Next(std::string* line);
  uint64_t dropped_lines() const { return dropped_; }

 private:
  std::deque<std::string> lines_;
  std::string partial_;
  bool discarding_ = false;
  uint64_t dropped_ = 0;
};

}  // namespace ssiuml::mgmt
