#include "launcher/config.h"

#include <charconv>
#include <cstdlib>
#include <utility>
#include <vector>

#include "launcher/uml_path.h"

namespace ssiuml {
namespace {

constexpr const char* kKnownKeys =
    "KERNEL, ROOT, CIDEV, INITRD, INITRD_MEMEXP, MEM, NODES, MAX_NODES, SUBNET, DISK, HEARTBEAT_MS, "
    "EXPIRY_MISSED, BOOT_PARALLEL, PLACEMENT";

std::string Home() {
  const char* home = std::getenv("HOME");
  return home != nullptr ? home : "/";
}

// Appends $HOME for "$HOME" or "${HOME}" at raw[*i] and moves *i past it;
// any other $ is refused rather than silently left unexpanded.
Status ExpandVariable(std::string_view raw, size_t* i, std::string* out) {
  for (std::string_view name : {std::string_view("$HOME"), std::string_view("${HOME}")}) {
    if (raw.substr(*i, name.size()) == name) {
      out->append(Home());
      *i += name.size();
      return Status::OK();
    }
  }
  return Status::InvalidArgument("only $HOME may be expanded in a value");
}

// Unquotes a shell-style value: 'single', "double" (with \" \\ \$ escapes),
// or bare words ending at an unquoted '#'. Expands a leading ~/ and $HOME.
Status Unquote(std::string_view raw, std::string* out) {
  out->clear();
  size_t i = 0;
  bool expandable_start = true;
  while (i < raw.size()) {
    char c = raw[i];
    if (c == '\'') {
      size_t end = raw.find('\'', i + 1);
      if (end == std::string_view::npos) return Status::InvalidArgument("unterminated ' quote");
      out->append(raw.substr(i + 1, end - i - 1));
      i = end + 1;
    } else if (c == '"') {
      ++i;
      for (;;) {
        if (i >= raw.size()) return Status::InvalidArgument("unterminated \" quote");
        if (raw[i] == '"') break;
        if (raw[i] == '\\' && i + 1 < raw.size() && std::string_view("\"\\$").find(raw[i + 1]) != std::string_view::npos) {
          out->push_back(raw[i + 1]);
          i += 2;
        } else if (raw[i] == '$') {
          Status s = ExpandVariable(raw, &i, out);
          if (!s.ok()) return s;
        } else {
          out->push_back(raw[i++]);
        }
      }
      ++i;
    } else if (c == '#' && (i == 0 || raw[i - 1] == ' ' || raw[i - 1] == '\t')) {
      break;
    } else if (c == ' ' || c == '\t') {
      size_t rest = raw.find_first_not_of(" \t", i);
      if (rest != std::string_view::npos && raw[rest] != '#')
        return Status::InvalidArgument("unquoted space in value (quote it)");
      break;
    } else if (c == '~' && expandable_start && (i + 1 == raw.size() || raw[i + 1] == '/')) {
      out->append(Home());
      ++i;
    } else if (c == '$') {
      Status s = ExpandVariable(raw, &i, out);
      if (!s.ok()) return s;
    } else if (c == '`' || c == '\\') {
      return Status::InvalidArgument(std::string("'") + c + "' is not allowed in a value");
    } else {
      out->push_back(c);
      ++i;
    }
    expandable_start = false;
  }
  return Status::OK();
}

bool ParseInt(std::string_view text, int64_t* value) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// "128", "128M", "2G" -> MiB.
Status ParseMemory(const std::string& value, uint64_t* mib) {
  std::string_view digits = value;
  int64_t scale = 1;
  if (!digits.empty() && (digits.back() == 'M' || digits.back() == 'm')) {
    digits.remove_suffix(1);
  } else if (!digits.empty() && (digits.back() == 'G' || digits.back() == 'g')) {
    digits.remove_suffix(1);
    scale = 1024;
  }
  int64_t n = 0;
  if (!ParseInt(digits, &n) || n <= 0)
    return Status::InvalidArgument("MEM must be a size such as 128M or 1G, not '" + value + "'");
  if (n > 16384 / scale) n = 16385;  // before scaling: a huge count must not wrap into range
  n *= scale;
  if (n < 32 || n > 16384)
    return Status::InvalidArgument("MEM must be between 32M and 16G, not '" + value + "'");
  *mib = static_cast<uint64_t>(n);
  return Status::OK();
}

// SUBNET is a /24 given as a.b.c.0/24 or a.b.c; we keep "a.b.c".
Status ParseSubnet(const std::string& value, std::string* prefix) {
  std::string_view text = value;
  if (text.size() > 3 && text.substr(text.size() - 3) == "/24") text.remove_suffix(3);
  std::vector<int64_t> octets;
  size_t start = 0;
  for (;;) {
    size_t dot = text.find('.', start);
    int64_t octet = -1;
    if (!ParseInt(text.substr(start, dot - start), &octet) || octet < 0 || octet > 255)
      return Status::InvalidArgument("SUBNET must be a /24 such as 10.77.0.0/24, not '" + value + "'");
    octets.push_back(octet);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (octets.size() == 4 && octets[3] == 0) octets.pop_back();
  if (octets.size() != 3)
    return Status::InvalidArgument("SUBNET must be a /24 such as 10.77.0.0/24, not '" + value + "'");
  *prefix = std::to_string(octets[0]) + "." + std::to_string(octets[1]) + "." +
            std::to_string(octets[2]);
  return Status::OK();
}

Status ParseCount(const std::string& key, const std::string& value, int64_t lo, int64_t hi,
                  int* out) {
  int64_t n = 0;
  if (!ParseInt(value, &n) || n < lo || n > hi)
    return Status::InvalidArgument(key + " must be a number from " + std::to_string(lo) +
                                   " to " + std::to_string(hi) + ", not '" + value + "'");
  *out = static_cast<int>(n);
  return Status::OK();
}

// A key that takes one of two words, each naming a setting.
template <typename T>
Status ParseChoice(const std::string& key, const std::string& value, std::pair<const char*, T> first,
                   std::pair<const char*, T> second, T* out) {
  if (value == first.first) {
    *out = first.second;
  } else if (value == second.first) {
    *out = second.second;
  } else {
    return Status::InvalidArgument(key + " must be " + first.first + " or " + second.first + ", not '" + value + "'");
  }
  return Status::OK();
}

// A path that goes on the UML command line.
Status ParsePath(const std::string& key, const std::string& value, std::string* out) {
  Status s = CheckUmlPath(key, value);
  if (s.ok()) *out = value;
  return s;
}

Status ApplyKey(const std::string& key, const std::string& value, Config* config) {
  if (key == "KERNEL") {
    if (value.empty()) return Status::InvalidArgument("KERNEL is empty: name the UML kernel, e.g. linux.uml");
    config->kernel = value;  // the program UML runs as, not one of its options
    return Status::OK();
  }
  if (key == "ROOT") return ParsePath(key, value, &config->root);
  if (key == "CIDEV") return ParsePath(key, value, &config->cidev);
  if (key == "INITRD") return ParsePath(key, value, &config->initrd);
  if (key == "INITRD_MEMEXP") return ParsePath(key, value, &config->initrd_memexp);
  if (key == "MEM") return ParseMemory(value, &config->mem_mib);
  if (key == "NODES") return ParseCount(key, value, 1, 253, &config->nodes);
  if (key == "MAX_NODES") return ParseCount(key, value, 1, 253, &config->max_nodes);
  if (key == "SUBNET") return ParseSubnet(value, &config->subnet);
  if (key == "HEARTBEAT_MS") return ParseCount(key, value, 10, 60000, &config->heartbeat_ms);
  if (key == "EXPIRY_MISSED") return ParseCount(key, value, 2, 100, &config->expiry_missed);
  if (key == "BOOT_PARALLEL") return ParseCount(key, value, 1, 253, &config->boot_parallel);
  if (key == "DISK") return ParseChoice(key, value, {"plx", DiskKind::kPlx}, {"ubd", DiskKind::kUbd}, &config->disk);
  if (key == "PLACEMENT")
    return ParseChoice(key, value, {"spread", Placement::kSpread}, {"none", Placement::kNone}, &config->placement);
  return Status::InvalidArgument("unknown key " + key + " (known: " + kKnownKeys + ")");
}

bool IsKeyChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

Status ParseConfig(std::string_view text, const std::string& filename, Config* config) {
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    auto fail = [&](const std::string& what) {
      return Status::InvalidArgument(filename + ":" + std::to_string(line_no) + ": " + what);
    };
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string_view::npos || line[start] == '#') continue;
    line = line.substr(start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    if (line.substr(0, 7) == "export ") line = line.substr(line.find_first_not_of(' ', 7));
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) return fail("expected KEY=value");
    std::string key(line.substr(0, eq));
    for (char c : key)
      if (!IsKeyChar(c)) return fail("bad key '" + key + "' (keys are upper case, e.g. KERNEL)");
    std::string value;
    Status s = Unquote(line.substr(eq + 1), &value);
    if (s.ok()) s = ApplyKey(key, value, config);
    if (!s.ok()) return fail(s.message());
  }
  if (config->nodes > config->max_nodes)
    return Status::InvalidArgument(filename + ": NODES (" + std::to_string(config->nodes) +
                                   ") exceeds MAX_NODES (" + std::to_string(config->max_nodes) +
                                   ")");
  return Status::OK();
}

Status LoadConfig(Env* env, const std::string& path, bool must_exist, Config* config) {
  std::string text;
  Status s = env->ReadFileToString(path, &text);
  if (s.IsNotFound() && !must_exist) return Status::OK();
  if (!s.ok()) return Status::InvalidArgument("cannot read config " + path + ": " + s.message());
  return ParseConfig(text, path, config);
}

std::string ConfigPath(bool* explicitly_set) {
  const char* conf = std::getenv("SSIUML_CONF");
  *explicitly_set = conf != nullptr && *conf != '\0';
  if (*explicitly_set) return conf;
  return Home() + "/.ssiuml/ssiuml.conf";
}

}  // namespace ssiuml
