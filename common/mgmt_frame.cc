#include "common/mgmt_frame.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace ssiuml::mgmt {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct VerbName {
  Verb verb;
  std::string_view name;
  bool has_num;
  bool has_payload;
};

constexpr VerbName kVerbs[] = {
    {Verb::kHello, "HELLO", true, true}, {Verb::kPing, "PING", false, false},
    {Verb::kPong, "PONG", false, true},  {Verb::kExec, "EXEC", false, true},
    {Verb::kKill, "KILL", false, false},  {Verb::kOut, "OUT", true, true},
    {Verb::kExit, "EXIT", true, false},   {Verb::kErr, "ERR", false, true},
};

const VerbName* Lookup(Verb verb) {
  for (const auto& v : kVerbs)
    if (v.verb == verb) return &v;
  return nullptr;
}

// Splits off the next space-separated field.
std::string_view NextField(std::string_view* rest) {
  size_t sp = rest->find(' ');
  std::string_view field = rest->substr(0, sp);
  *rest = sp == std::string_view::npos ? std::string_view() : rest->substr(sp + 1);
  return field;
}

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < data.size()) {
    uint32_t v = uint8_t(data[i]) << 16;
    if (i + 1 < data.size()) v |= uint8_t(data[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool Base64Decode(std::string_view text, std::string* out) {
  out->clear();
  if (text.size() % 4 != 0) return false;
  out->reserve(text.size() / 4 * 3);
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int a = value(text[i]), b = value(text[i + 1]);
    int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    int c = pad >= 2 ? 0 : value(text[i + 2]);
    int d = pad >= 1 ? 0 : value(text[i + 3]);
    if (a < 0 || b < 0 || c < 0 || d < 0) return false;
    uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    out->push_back(char(v >> 16));
    if (pad < 2) out->push_back(char((v >> 8) & 0xff));
    if (pad < 1) out->push_back(char(v & 0xff));
  }
  return true;
}

std::string Encode(const Frame& frame) {
  const VerbName* v = Lookup(frame.verb);
  std::string line(v->name);
  line += ' ';
  line += std::to_string(frame.id);
  if (v->has_num) {
    line += ' ';
    line += std::to_string(frame.num);
  }
  if (v->has_payload) {
    line += ' ';
    line += Base64Encode(frame.payload);
  }
  line += '\n';
  return line;
}

Status Parse(std::string_view line, Frame* frame) {
  std::string_view rest = line;
  std::string_view name = NextField(&rest);
  const VerbName* verb = nullptr;
  for (const auto& v : kVerbs)
    if (v.name == name) verb = &v;
  if (verb == nullptr) return Status::InvalidArgument("unknown frame verb");
  *frame = Frame();
  frame->verb = verb->verb;
  if (!ParseNumber(NextField(&rest), &frame->id))
    return Status::InvalidArgument("bad frame id");
  if (verb->has_num && !ParseNumber(NextField(&rest), &frame->num))
    return Status::InvalidArgument("bad frame number");
  if (verb->has_payload) {
    if (!Base64Decode(NextField(&rest), &frame->payload))
      return Status::InvalidArgument("bad frame payload");
  }
  if (!rest.empty()) return Status::InvalidArgument("trailing data in frame");
  return Status::OK();
}

void LineSplitter::Feed(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view piece = bytes.substr(0, nl);
    if (!discarding_) {
      partial_.append(piece);
      if (partial_.size() > kMaxLine) {
        partial_.clear();
        discarding_ = true;
        ++dropped_;
      }
    }
    if (nl == std::string_view::npos) return;
    if (!discarding_) {
      if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
      lines_.push_back(std::move(partial_));
    }
    partial_.clear();
    discarding_ = false;
    bytes.remove_prefix(nl + 1);
  }
}

bool LineSplitter::FeedFrom(int fd) {
  char buf[16384];
  for (int round = 0; round < kMaxFeedReads;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      Feed(std::string_view(buf, static_cast<size_t>(n)));
      ++round;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
  return true;
}

bool LineSplitter::Next(std::string* line) {
  if (lines_.empty()) return false;
  *line = std::move(lines_.front());
  lines_.pop_front();
  return true;
}

}  // namespace ssiuml::mgmt
