#include "launcher/boot_queue.h"

#include <catch2/catch.hpp>

using ssiuml::BootQueue;

namespace {
BootQueue::Boot B(int number, bool fresh = false, std::string from = "") { return {number, fresh, std::move(from)}; }

std::vector<int> Numbers(const std::vector<BootQueue::Boot>& boots) {
  std::vector<int> numbers;
  for (const auto& b : boots) numbers.push_back(b.number);
  return numbers;
}
}  // namespace

TEST_CASE("boots beyond the parallel limit wait and start in order as slots free") {
  BootQueue q(2);
  CHECK(q.Admit(B(1)));
  CHECK(q.Admit(B(2)));
  CHECK_FALSE(q.Admit(B(3, true)));
  CHECK_FALSE(q.Admit(B(4, false, "node1@snap")));
  CHECK(q.waiting() == std::vector<int>{3, 4});
  auto next = q.Done(2);
  REQUIRE(Numbers(next) == std::vector<int>{3});
  CHECK(next[0].fresh);
  next = q.Done(1);
  REQUIRE(Numbers(next) == std::vector<int>{4});
  CHECK(next[0].from == "node1@snap");
  CHECK(q.Done(3).empty());
  CHECK(q.Admit(B(5)));
}

TEST_CASE("a cancelled boot never starts; a node that was not booting frees nothing") {
  BootQueue q(1);
  CHECK(q.Admit(B(1)));
  CHECK_FALSE(q.Admit(B(2)));
  CHECK_FALSE(q.Admit(B(3)));
  CHECK(q.Waiting(2));
  CHECK(q.Cancel(2));
  CHECK_FALSE(q.Cancel(2));
  CHECK_FALSE(q.Waiting(2));
  CHECK(q.Done(7).empty());  // not booting: the slot of 1 stays taken
  CHECK(Numbers(q.Done(1)) == std::vector<int>{3});
}

TEST_CASE("a newcomer does not overtake waiting boots, and Clear forgets them") {
  BootQueue q(1);
  CHECK(q.Admit(B(1)));
  CHECK_FALSE(q.Admit(B(2)));
  CHECK(Numbers(q.Done(1)) == std::vector<int>{2});
  CHECK_FALSE(q.Admit(B(3)));
  q.Clear();
  CHECK(q.waiting().empty());
  CHECK(q.Done(2).empty());
  CHECK(q.Admit(B(4)));
}

TEST_CASE("a limit below one still lets one node boot") {
  BootQueue q(0);
  CHECK(q.Admit(B(1)));
  CHECK_FALSE(q.Admit(B(2)));
}
