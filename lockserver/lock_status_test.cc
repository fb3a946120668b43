#include "lockserver/lock_status.h"

#include <catch2/catch.hpp>

using namespace ssiuml::lock;

TEST_CASE("status shows sessions, members, locks with holders, waiters and tokens") {
  ServiceOptions options;
  options.first_token = 41;
  LockService service(options);
  Outputs out;
  std::string boot(32, 'c');
  service.SetBoot(3, boot, 0, &out);
  SessionId node = 0, host = 0;
  bool retry;
  REQUIRE(service.OpenNode(3, boot, "agent", 0, &node, &retry, &out).ok());
  REQUIRE(service.OpenHost("host-1", 0, &host).ok());
  REQUIRE(service.Lock(node, {0, 1, "foo", Mode::kEX, false, 0}, 0, &out).ok());
  REQUIRE(service.Lock(host, {0, 2, "foo", Mode::kPR, false, 0}, 0, &out).ok());
  nlohmann::json j = StatusJson(service, 10);
  CHECK(j["v"] == 1);
  CHECK(j["epoch"] == 1);
  CHECK(j["sessions"].size() == 2);
  CHECK(j["sessions"][0]["node"] == 3);
  CHECK(j["sessions"][0]["idle_ms"] == 10);
  CHECK(j["sessions"][1]["kind"] == "host");
  CHECK(j["members"][0]["state"] == "member");
  REQUIRE(j["locks"].size() == 1);
  CHECK(j["locks"][0]["granted"][0]["token"] == 42);
  CHECK(j["locks"][0]["granted"][0]["mode"] == "EX");
  CHECK(j["locks"][0]["waiting"][0]["mode"] == "PR");
  CHECK(j["locks_total"] == 1);
  // A membership query leaves the locks out.
  nlohmann::json members = StatusJson(service, 10, false);
  CHECK_FALSE(members.contains("locks"));
  CHECK(members["members"].size() == 1);
}

TEST_CASE("status lists a bounded number of locks and counts them all") {
  LockService service(ServiceOptions{});
  Outputs out;
  SessionId host = 0;
  REQUIRE(service.OpenHost("host-1", 0, &host).ok());
  for (int i = 0; i < 3000; ++i)
    REQUIRE(service.Lock(host, {0, static_cast<uint64_t>(i + 1), "r" + std::to_string(i), Mode::kEX, false, 0}, 0,
                         &out).ok());
  nlohmann::json j = StatusJson(service, 0);
  CHECK(j["locks_total"] == 3000);
  CHECK(j["locks"].size() == 1000);  // two rows each: the resource and its holder
  CHECK(j.dump().size() < 1024 * 1024);
}
