// Node numbers from the command line: "3", "2-5", "all" is not accepted.
// Each bad argument yields its own error and the good ones still proceed,
// as SSI/UML's ssi-add and ssi-rm did.
#pragma once

#include <string>
#include <vector>

namespace ssiuml {

struct NodeList {
  std::vector<int> nodes;           // valid, in order given, duplicates removed
  std::vector<std::string> errors;  // one line per bad argument
};

NodeList ParseNodeList(const std::vector<std::string>& args, int max_nodes);

}  // namespace ssiuml
