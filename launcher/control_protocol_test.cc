#include "launcher/control_protocol.h"

#include <catch2/catch.hpp>

using namespace ssiuml;

TEST_CASE("requests round-trip through their encoding") {
  Request add;
  add.cmd = Command::kAdd;
  add.nodes = {1, 5};
  add.fresh = true;
  add.timeout_ms = 5000;
  Request parsed;
  REQUIRE(ParseRequest(EncodeRequest(add).dump(), 64, &parsed).ok());
  CHECK(parsed.cmd == Command::kAdd);
  CHECK(parsed.nodes == std::vector<int>{1, 5});
  CHECK(parsed.fresh);
  CHECK(parsed.timeout_ms == 5000);

  Request exec;
  exec.cmd = Command::kExec;
  exec.node = 3;
  exec.command = "echo hi";
  Request parsed_exec;
  REQUIRE(ParseRequest(EncodeRequest(exec).dump(), 64, &parsed_exec).ok());
  CHECK(parsed_exec.node == 3);
  CHECK(parsed_exec.command == "echo hi");
}

TEST_CASE("malformed requests are refused with a reason") {
  const char* bad[] = {
      "",
      "not json",
      "[1,2]",
      "{\"cmd\":\"ping\"}",
      "{\"v\":\"1\",\"cmd\":\"ping\"}",
      "{\"v\":1}",
      "{\"v\":1,\"cmd\":\"reboot-host\"}",
      "{\"v\":1,\"cmd\":7}",
      "{\"v\":1,\"cmd\":\"add\"}",
      "{\"v\":1,\"cmd\":\"add\",\"nodes\":[0]}",
      "{\"v\":1,\"cmd\":\"add\",\"nodes\":[65]}",
      "{\"v\":1,\"cmd\":\"add\",\"nodes\":[\"1\"]}",
      "{\"v\":1,\"cmd\":\"add\",\"nodes\":[1.5]}",
      "{\"v\":1,\"cmd\":\"add\",\"nodes\":[1],\"fresh\":1}",
      "{\"v\":1,\"cmd\":\"add\",\"nodes\":[1],\"timeout_ms\":-5}",
      "{\"v\":1,\"cmd\":\"rm\",\"nodes\":3}",
      "{\"v\":1,\"cmd\":\"exec\",\"node\":1}",
      "{\"v\":1,\"cmd\":\"exec\",\"node\":1,\"command\":\"\"}",
      "{\"v\":1,\"cmd\":\"exec\",\"node\":99,\"command\":\"id\"}",
      "{\"v\":1,\"cmd\":\"exec\",\"node\":1,\"command\":\"id\"",
  };
  for (const char* line : bad) {
    INFO(line);
    Request r;
    CHECK_FALSE(ParseRequest(line, 64, &r).ok());
  }
  Request r;
  Status s = ParseRequest("{\"v\":2,\"cmd\":\"ping\"}", 64, &r);
  CHECK(s.code() == Status::Code::kNotSupported);
  CHECK_FALSE(ParseRequest(std::string(kMaxRequestLine + 1, ' '), 64, &r).ok());
}

TEST_CASE("messages never throw on invalid UTF-8") {
  nlohmann::json m = Message("node");
  m["error"] = std::string("bad \xff\xfe bytes");
  CHECK(ToLine(m).back() == '\n');
}
