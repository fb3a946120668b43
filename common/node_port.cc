#include "common/node_port.h"

#include <charconv>

namespace ssiuml {
namespace {

constexpr std::string_view kPrefix = "ssiuml-node=";

}  // namespace

std::string NodePortDescription(int node) { return std::string(kPrefix) + std::to_string(node); }

int NodeOfPortDescription(const std::string& description) {
  std::string_view word(description);
  word = word.substr(0, word.find(' '));
  if (word.substr(0, kPrefix.size()) != kPrefix) return 0;
  std::string_view digits = word.substr(kPrefix.size());
  int node = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), node);
  if (ec != std::errc() || end != digits.data() + digits.size() || node < 1 || node > 255) return 0;
  return node;
}

}  // namespace ssiuml
