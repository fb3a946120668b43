#include "switchd/link_matrix.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <numeric>
#include <random>
#include <set>
#include <vector>

using namespace ssiuml;
using namespace ssiuml::vde;

TEST_CASE("a majorities ring of any size: each node sees a majority, no two the same, links both ways") {
  for (int k = 3; k <= 254; ++k) {
    INFO(k << " nodes");
    std::vector<int> order(k);
    std::iota(order.begin(), order.end(), 1);
    std::shuffle(order.begin(), order.end(), std::mt19937(k));  // not in number order
    LinkMatrix m;
    REQUIRE(LinkMatrix::Ring(order, &m).ok());
    std::set<std::set<int>> seen;
    bool symmetric = true, majorities = true, gateway = true;
    for (int a : order) {
      std::set<int> sees;
      for (int b : order) {
        symmetric = symmetric && m.Reaches(a, b) == m.Reaches(b, a);
        if (m.Reaches(a, b)) sees.insert(b);
      }
      majorities = majorities && sees.count(a) == 1 && sees.size() >= size_t(k / 2 + 1);
      gateway = gateway && m.Reaches(a, LinkMatrix::kGateway) && m.Reaches(LinkMatrix::kGateway, a) && m.Reaches(0, a);
      seen.insert(sees);
    }
    CHECK(symmetric);
    CHECK(majorities);
    CHECK(gateway);
    CHECK(seen.size() == size_t(k));
    if (k < 254) CHECK_FALSE(m.Reaches(order[0], 254));  // nodes outside the ring are cut off
  }
}

TEST_CASE("groups link the members of each group, and strangers pass") {
  std::array<int, LinkMatrix::kIds> group{};
  group[1] = group[2] = 1;
  group[LinkMatrix::kGateway] = 1;
  LinkMatrix m = LinkMatrix::Groups(group);
  CHECK(m.Reaches(1, 2));
  CHECK(m.Reaches(2, LinkMatrix::kGateway));
  CHECK_FALSE(m.Reaches(1, 3));
  CHECK(m.Reaches(3, 4));  // unnamed nodes share a group
  CHECK(m.Reaches(0, 3));
  CHECK(m.Reaches(1, 0));
}

TEST_CASE("a bad ring is refused and leaves the matrix alone") {
  LinkMatrix m;
  CHECK(LinkMatrix::Ring({1, 2}, &m).message() == "a ring needs at least 3 nodes, not 2; name more nodes");
  CHECK(LinkMatrix::Ring({1, 2, 2}, &m).message() == "node 2 is in the ring twice; name each node once");
  CHECK(LinkMatrix::Ring({1, 2, 255}, &m).message() == "node 255 is not a node number; use 1 to 254");
  CHECK(LinkMatrix::Ring({0, 1, 2}, &m).IsInvalidArgument());
  CHECK(m.Reaches(1, 2));
  CHECK(m.Reaches(1, 3));
}
