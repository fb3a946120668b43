#include "launcher/node_list.h"

#include <catch2/catch.hpp>

using ssiuml::ParseNodeList;

TEST_CASE("node numbers, ranges and duplicates") {
  auto list = ParseNodeList({"3", "1-2", "2", "64"}, 64);
  CHECK(list.nodes == std::vector<int>{3, 1, 2, 64});
  CHECK(list.errors.empty());
}

TEST_CASE("bad node arguments each get one error and the rest proceed") {
  auto list = ParseNodeList({"0", "x", "65", "2", "5-3", "-1", "1-", "3.5", "99999999999999"}, 64);
  CHECK(list.nodes == std::vector<int>{2});
  REQUIRE(list.errors.size() == 8);
  CHECK(list.errors[0] == "node 0 is out of range (nodes are 1-64; MAX_NODES in ssiuml.conf raises the limit)");
  CHECK(list.errors[1] == "'x' is not a node number (use 1-64, or a range such as 2-5)");
}

TEST_CASE("the node limit is configurable") {
  CHECK(ParseNodeList({"100"}, 128).nodes == std::vector<int>{100});
  CHECK(ParseNodeList({"9"}, 8).nodes.empty());
}
