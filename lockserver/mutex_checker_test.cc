#include "lockserver/mutex_checker.h"

#include <catch2/catch.hpp>

using namespace ssiuml::lock;

namespace {

CheckResult Check(const std::string& history) {
  std::vector<HistoryEvent> events;
  REQUIRE(ParseHistory(history, &events).ok());
  return CheckMutex(events);
}

}  // namespace

TEST_CASE("checker: a clean history passes, in any line order") {
  CheckResult r = Check(
      "30 b acquire 12\n"
      "10 a acquire 11\n"
      "20 a release 11\n"
      "\n"
      "40 b release 12\n"
      "50 c acquire 13\n"
      "70 c fenced\n"
      "80 a acquire 20\n");
  CHECK(r.ok());
  CHECK(r.acquires == 4);
  CHECK(r.releases == 2);
  CHECK(r.fenced == 1);
}

TEST_CASE("checker: overlapping holders are caught") {
  CheckResult r = Check("10 a acquire 1\n20 b acquire 2\n30 a release 1\n");
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0] == "at 20 ns, b: acquired token 2 while a still held token 1");
}

TEST_CASE("checker: a holder that was never fenced or released blocks everyone") {
  // a was SIGSTOPped, the server gave the lock away without fencing it.
  CheckResult r = Check("10 a acquire 1\n50 b acquire 2\n60 b release 2\n70 a release 1\n");
  CHECK_FALSE(r.ok());
}

TEST_CASE("checker: tokens must grow") {
  CheckResult r = Check("10 a acquire 5\n20 a release 5\n30 b acquire 5\n");
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].find("does not exceed") != std::string::npos);
  CHECK_FALSE(Check("10 a acquire 5\n20 a release 5\n30 b acquire 4\n").ok());
}

TEST_CASE("checker: a fenced client that acts again is caught") {
  CheckResult r = Check("10 a acquire 1\n20 a fenced\n30 a release 1\n");
  CHECK_FALSE(r.ok());
  CHECK_FALSE(Check("10 a release 1\n").ok());
  CHECK_FALSE(Check("10 a acquire 1\n20 a acquire 2\n").ok());
}

TEST_CASE("checker: unreadable histories are errors") {
  std::vector<HistoryEvent> events;
  CHECK(ParseHistory("10 a grab 1\n", &events).IsCorruption());
  CHECK(ParseHistory("x a acquire 1\n", &events).IsCorruption());
  CHECK(ParseHistory("10 a acquire\n", &events).IsCorruption());
}
