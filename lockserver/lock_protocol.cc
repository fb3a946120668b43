#include "lockserver/lock_protocol.h"

#include <algorithm>
#include <cstring>

namespace ssiuml::lock::wire {
namespace {

struct VerbName {
  std::string_view text;
  Verb verb;
};
constexpr VerbName kVerbs[] = {
    {"HELLO", Verb::kHello}, {"LOCK", Verb::kLock},     {"CONVERT", Verb::kConvert},
    {"UNLOCK", Verb::kUnlock}, {"CANCEL", Verb::kCancel}, {"PING", Verb::kPing},
    {"WATCH", Verb::kWatch}, {"STATUS", Verb::kStatus}, {"BYE", Verb::kBye},
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The fields each verb may carry; anything else is malformed, so a typo
// ("timout=") is an error rather than silently ignored.
bool Allowed(Verb verb, std::string_view key) {
  if (key == "id") return true;
  switch (verb) {
    case Verb::kHello: return key == "node" || key == "boot" || key == "name";
    case Verb::kLock: return key == "name" || key == "mode" || key == "timeout";
    case Verb::kConvert: return key == "name" || key == "mode" || key == "timeout" || key == "lvb";
    case Verb::kUnlock: return key == "name" || key == "lvb";
    case Verb::kCancel: return key == "name";
    case Verb::kStatus: return key == "name";  // one resource's holders and waiters
    default: return false;
  }
}

bool AllowedFlag(Verb verb, std::string_view flag) {
  if (verb == Verb::kHello) return flag == "host";
  if (verb == Verb::kLock || verb == Verb::kConvert) return flag == "try";
  return false;
}

}  // namespace

const std::string* Message::Find(std::string_view key) const {
  for (const auto& [k, v] : fields)
    if (k == key) return &v;
  return nullptr;
}

bool Message::HasFlag(std::string_view flag) const {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

Status ParseMessage(std::string_view line, Message* msg) {
  *msg = Message();
  for (char c : line)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return Status::InvalidArgument("control character in line");
  size_t pos = 0;
  bool first = true;
  while (pos < line.size()) {
    size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    std::string_view token = line.substr(pos, end - pos);
    if (token.empty()) return Status::InvalidArgument("empty field (two spaces in a row?)");
    if (first) {
      msg->verb = std::string(token);
      first = false;
    } else if (token.substr(0, 4) == "msg=") {
      msg->fields.emplace_back("msg", std::string(line.substr(pos + 4)));
      return Status::OK();
    } else if (size_t eq = token.find('='); eq != std::string_view::npos) {
      std::string key(token.substr(0, eq));
      if (key.empty()) return Status::InvalidArgument("field without a name");
      if (msg->Find(key)) return Status::InvalidArgument("duplicate field " + key);
      msg->fields.emplace_back(std::move(key), std::string(token.substr(eq + 1)));
    } else {
      msg->flags.emplace_back(token);
    }
    pos = end + 1;
    if (end == line.size() - 1) return Status::InvalidArgument("trailing space");
  }
  if (first) return Status::InvalidArgument("empty line");
  return Status::OK();
}

Status ParseRequest(std::string_view line, Request* req, std::string* code) {
  *req = Request();
  *code = "malformed";
  Message msg;
  Status s = ParseMessage(line, &msg);
  if (!s.ok()) return s;
  if (const std::string* id = msg.Find("id"); id && !ParseU64(*id, &req->id))
    return Status::InvalidArgument("id must be a decimal number");
  if (msg.verb.substr(0, 5) == "SSIL/") {
    if (msg.verb != kVersion) {
      *code = "version";
      return Status::NotSupported("server speaks " + std::string(kVersion));
    }
    // The versioned line is HELLO's: "SSIL/1 HELLO ...".
    if (msg.flags.empty() || msg.flags.front() != "HELLO")
      return Status::InvalidArgument("expected " + std::string(kVersion) + " HELLO");
    msg.flags.erase(msg.flags.begin());
    msg.verb = "HELLO";
  } else if (msg.verb == "HELLO") {
    *code = "version";
    return Status::NotSupported("HELLO must start with " + std::string(kVersion));
  }
  auto known = std::find_if(std::begin(kVerbs), std::end(kVerbs), [&](const VerbName& v) { return v.text == msg.verb; });
  if (known == std::end(kVerbs)) {
    *code = "unknown-verb";
    return Status::NotSupported("unknown verb '" + msg.verb.substr(0, 32) + "'");
  }
  req->verb = known->verb;
  if (!msg.Find("id")) return Status::InvalidArgument(msg.verb + " needs id=");
  for (const auto& [key, value] : msg.fields)
    if (!Allowed(req->verb, key)) return Status::InvalidArgument(msg.verb + " takes no field " + key.substr(0, 32));
  for (const std::string& flag : msg.flags) {
    if (!AllowedFlag(req->verb, flag)) return Status::InvalidArgument(msg.verb + " takes no flag " + flag.substr(0, 32));
    if (flag == "try") req->try_lock = true;
    if (flag == "host") req->host = true;
  }
  const std::string* name = msg.Find("name");
  if (name && !ValidName(*name)) return Status::InvalidArgument("bad name (1-255 of A-Za-z0-9._:/@+-)");
  if (name) req->name = *name;
  bool needs_name = req->verb == Verb::kLock || req->verb == Verb::kConvert || req->verb == Verb::kUnlock ||
                    req->verb == Verb::kCancel;
  if (needs_name && !name) return Status::InvalidArgument(msg.verb + " needs name=");
  if (req->verb == Verb::kLock || req->verb == Verb::kConvert) {
    const std::string* mode = msg.Find("mode");
    if (!mode) return Status::InvalidArgument(msg.verb + " needs mode=");
    s = ParseMode(*mode, &req->mode);
    if (!s.ok()) {
      *code = "bad-mode";
      return s;
    }
    if (const std::string* t = msg.Find("timeout");
        t && (!ParseU64(*t, &req->timeout_ms) || req->timeout_ms == 0 || req->timeout_ms > kMaxTimeoutMs))
      return Status::InvalidArgument("timeout must be 1 to " + std::to_string(kMaxTimeoutMs) + " ms");
  }
  if (const std::string* lvb = msg.Find("lvb")) {
    if (!HexDecode(*lvb, req->lvb.data(), kLvbBytes))
      return Status::InvalidArgument("lvb must be " + std::to_string(2 * kLvbBytes) + " hex digits");
    req->has_lvb = true;
  }
  if (req->verb == Verb::kHello) {
    const std::string* node = msg.Find("node");
    const std::string* boot = msg.Find("boot");
    if (req->host) {
      if (node || boot) return Status::InvalidArgument("a host HELLO has no node or boot");
      if (!name) return Status::InvalidArgument("a host HELLO needs name=");
    } else {
      uint64_t n = 0;
      if (!node || !ParseU64(*node, &n) || n < 1 || n > kMaxNode)
        return Status::InvalidArgument("HELLO needs node=1.." + std::to_string(kMaxNode) + " (or the host flag)");
      uint8_t bytes[kBootHexLen / 2];
      if (!boot || !HexDecode(*boot, bytes, sizeof bytes))
        return Status::InvalidArgument("HELLO needs boot= with " + std::to_string(kBootHexLen) + " hex digits");
      req->node = static_cast<int>(n);
      req->boot = HexEncode(bytes, sizeof bytes);
    }
  }
  code->clear();
  return Status::OK();
}

std::string HexEncode(const uint8_t* data, size_t len) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(2 * len, '0');
  for (size_t i = 0; i < len; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

bool HexDecode(std::string_view text, uint8_t* data, size_t len) {
  if (text.size() != 2 * len) return false;
  for (size_t i = 0; i < len; ++i) {
    int hi = HexDigit(text[2 * i]), lo = HexDigit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    data[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

bool ParseU64(std::string_view text, uint64_t* value) {
  if (text.empty() || text.size() > 19) return false;  // 19 digits cannot overflow
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *value = v;
  return true;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxName) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::strchr("._:/@+-", c) != nullptr;
    if (!ok || c == '\0') return false;
  }
  return true;
}

void LineReader::Feed(std::string_view bytes) {
  if (skipping_) {
    size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) return;
    skipping_ = false;
    bytes.remove_prefix(nl + 1);
  }
  // Compact lazily: erasing each line from the front would be quadratic in
  // a burst of pipelined requests.
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    buffer_.erase(0, start_);
    scanned_ -= start_;
    start_ = 0;
  }
  buffer_.append(bytes);
}

LineReader::Result LineReader::Next(std::string* line) {
  size_t nl = buffer_.find('\n', scanned_);
  if (nl == std::string::npos) {
    scanned_ = buffer_.size();
    if (buffer_.size() - start_ <= kMaxLine) return Result::kNone;
    buffer_.clear();
    start_ = scanned_ = 0;
    skipping_ = true;
    return Result::kOverlong;
  }
  Result result = Result::kLine;
  if (nl - start_ > kMaxLine) {
    result = Result::kOverlong;
  } else {
    line->assign(buffer_, start_, nl - start_);
    if (!line->empty() && line->back() == '\r') line->pop_back();
  }
  start_ = scanned_ = nl + 1;
  return result;
}

}  // namespace ssiuml::lock::wire
