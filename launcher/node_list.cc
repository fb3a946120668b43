#include "launcher/node_list.h"

#include <algorithm>
#include <charconv>

namespace ssiuml {
namespace {

bool ParseNumber(std::string_view text, int* value) {
  if (text.empty() || text.size() > 9) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

NodeList ParseNodeList(const std::vector<std::string>& args, int max_nodes) {
  NodeList result;
  std::string range_hint = "1-" + std::to_string(max_nodes);
  for (const std::string& arg : args) {
    std::string_view text = arg;
    size_t dash = text.find('-', 1);
    int first = 0, last = 0;
    bool parsed = dash == std::string_view::npos
                      ? ParseNumber(text, &first) && (last = first, true)
                      : ParseNumber(text.substr(0, dash), &first) &&
                            ParseNumber(text.substr(dash + 1), &last);
    if (!parsed) {
      result.errors.push_back("'" + arg + "' is not a node number (use " + range_hint +
                              ", or a range such as 2-5)");
      continue;
    }
    if (first < 1 || last > max_nodes || first > last) {
      result.errors.push_back("node " + arg + " is out of range (nodes are " + range_hint +
                              "; MAX_NODES in ssiuml.conf raises the limit)");
      continue;
    }
    for (int n = first; n <= last; ++n)
      if (std::find(result.nodes.begin(), result.nodes.end(), n) == result.nodes.end())
        result.nodes.push_back(n);
  }
  return result;
}

}  // namespace ssiuml
