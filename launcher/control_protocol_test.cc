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

TEST_CASE("console session requests round-trip") {
  Request attach;
  attach.cmd = Command::kAttach;
  attach.nodes = {2};
  attach.events = true;
  Request parsed;
  REQUIRE(ParseRequest(EncodeRequest(attach).dump(), 64, &parsed).ok());
  CHECK(parsed.cmd == Command::kAttach);
  CHECK(parsed.events);
  CHECK(parsed.nodes == std::vector<int>{2});
  Request bare;
  REQUIRE(ParseRequest("{\"v\":1,\"cmd\":\"attach\"}", 64, &bare).ok());
  CHECK(bare.nodes.empty());

  Request input;
  input.cmd = Command::kInput;
  input.node = 4;
  input.data = std::string("ls\r\x03", 4);
  Request parsed_input;
  REQUIRE(ParseRequest(EncodeRequest(input).dump(), 64, &parsed_input).ok());
  CHECK(parsed_input.data == input.data);
}

TEST_CASE("snapshots and clones from them round-trip") {
  Request snap;
  snap.cmd = Command::kSnap;
  snap.node = 3;
  snap.name = "before-upgrade";
  Request parsed;
  REQUIRE(ParseRequest(EncodeRequest(snap).dump(), 64, &parsed).ok());
  CHECK(parsed.name == "before-upgrade");
  Request add;
  add.cmd = Command::kAdd;
  add.nodes = {5};
  add.from = "node3@before-upgrade";
  REQUIRE(ParseRequest(EncodeRequest(add).dump(), 64, &parsed).ok());
  CHECK(parsed.from == "node3@before-upgrade");
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
      "{\"v\":1,\"cmd\":\"add\",\"nodes\":[1],\"timeout_ms\":0}",
      "{\"v\":1,\"cmd\":\"rm\",\"nodes\":3}",
      "{\"v\":1,\"cmd\":\"exec\",\"node\":1}",
      "{\"v\":1,\"cmd\":\"exec\",\"node\":1,\"command\":\"\"}",
      "{\"v\":1,\"cmd\":\"exec\",\"node\":99,\"command\":\"id\"}",
      "{\"v\":1,\"cmd\":\"exec\",\"node\":1,\"command\":\"id\"",
      "{\"v\":1,\"cmd\":\"pause\"}",
      "{\"v\":1,\"cmd\":\"event\"}",
      "{\"v\":1,\"cmd\":\"snap\"}",
      "{\"v\":1,\"cmd\":\"snap\",\"node\":1,\"name\":\"../x\"}",
      "{\"v\":1,\"cmd\":\"add\",\"nodes\":[1],\"from\":\"node2\"}",
      "{\"v\":1,\"cmd\":\"add\",\"nodes\":[1],\"from\":\"a b@c\"}",
      "{\"v\":1,\"cmd\":\"event\",\"event\":\"Bad Name\"}",
      "{\"v\":1,\"cmd\":\"event\",\"event\":\"ok\",\"fields\":[1]}",
      "{\"v\":1,\"cmd\":\"attach\",\"nodes\":[0]}",
      "{\"v\":1,\"cmd\":\"attach\",\"events\":\"yes\"}",
      "{\"v\":1,\"cmd\":\"input\",\"node\":1}",
      "{\"v\":1,\"cmd\":\"input\",\"node\":1,\"data\":\"%%%\"}",
      "{\"v\":1,\"cmd\":\"input\",\"data\":\"aGk=\"}",
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
