#include "launcher/lock_history.h"

#include <catch2/catch.hpp>

using namespace ssiuml;

TEST_CASE("a holder whose node died is closed at the node's exit") {
  // Node 1's client took token 5 and its node was fenced at 3 s; node 2's
  // client got token 6 after that.
  std::map<int, std::string> histories = {
      {1, "1000000000 n1-aaaaaaaa-10 acquire 5\n"},
      {2, "4000000000 n2-bbbbbbbb-20 acquire 6\n4500000000 n2-bbbbbbbb-20 release 6\n"}};
  std::string events = R"({"event":"node_exited","node":1,"ts":3.0})" "\n";
  lock::CheckResult r;
  REQUIRE(CheckLockHistory(histories, events, &r).ok());
  CHECK(r.ok());
  CHECK(r.acquires == 2);
  CHECK(r.fenced == 1);
}

TEST_CASE("a grant while the earlier holder still lived is a violation") {
  std::map<int, std::string> histories = {
      {1, "1000000000 n1-aaaaaaaa-10 acquire 5\n"},
      {2, "2000000000 n2-bbbbbbbb-20 acquire 6\n"}};
  std::string events = R"({"event":"node_exited","node":1,"ts":3.0})" "\n";
  lock::CheckResult r;
  REQUIRE(CheckLockHistory(histories, events, &r).ok());
  CHECK_FALSE(r.ok());
}

TEST_CASE("guests' clock skew is not an overlap, a longer overlap is") {
  // Node 2's clock runs 1 ms behind node 1's: its acquire looks earlier than
  // node 1's release. 30 ms earlier is a real double hold.
  for (auto [acquire_ns, ok] : {std::pair<uint64_t, bool>{1099000000, true}, {1070000000, false}}) {
    std::map<int, std::string> histories = {
        {1, "1000000000 n1-aaaaaaaa-10 acquire 5\n1100000000 n1-aaaaaaaa-10 release 5\n"},
        {2, std::to_string(acquire_ns) + " n2-bbbbbbbb-20 acquire 6\n1200000000 n2-bbbbbbbb-20 release 6\n"}};
    lock::CheckResult r;
    REQUIRE(CheckLockHistory(histories, "", &r).ok());
    CHECK(r.ok() == ok);
  }
}

TEST_CASE("a malformed history names the node") {
  lock::CheckResult r;
  Status s = CheckLockHistory({{3, "garbage\n"}}, "", &r);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().rfind("node 3: ", 0) == 0);
}
