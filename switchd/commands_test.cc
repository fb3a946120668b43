#include "switchd/commands.h"

#include <catch2/catch.hpp>

using namespace ssiuml;
using namespace ssiuml::vde;

TEST_CASE("control commands: faults, status, errors") {
  EventLoop loop;
  REQUIRE(loop.Init().ok());
  Fabric fabric(&loop, false);
  fabric.Attach(1, "a", [](const iovec*, int n) { return n; });
  Commands commands(&fabric, nullptr, nullptr);
  auto run = [&](const std::string& line) { return commands.Execute(line); };

  CHECK(run(R"({"v":1,"cmd":"partition","groups":[[1,2],[3]]})")["ok"] == true);
  CHECK(run(R"({"v":1,"cmd":"heal"})")["ok"] == true);
  CHECK(run(R"({"v":1,"cmd":"loss","node":2,"percent":20})")["ok"] == true);
  auto status = run(R"({"v":1,"cmd":"status"})");
  CHECK(status["v"] == 1);
  CHECK(status["ports"][0]["port"] == 1);
  CHECK(status["ports"][0]["description"] == "a");

  CHECK(run("not json")["ok"] == false);
  CHECK(run(R"({"v":2,"cmd":"status"})")["ok"] == false);
  CHECK(run(R"({"v":1,"cmd":"isolate"})")["error"] == "isolate needs a node from 1 to 254");
  CHECK(run(R"({"v":1,"cmd":"partition","groups":"all"})")["ok"] == false);
  CHECK(run(R"({"v":1,"cmd":"loss","node":2,"percent":101})")["ok"] == false);
  CHECK(run(R"({"v":1,"cmd":"fly"})")["error"] == "unknown command fly");
  // A field of another type throws (JsonLineServer answers it), before any change.
  CHECK_THROWS_AS(run(R"({"v":"1","cmd":"status"})"), nlohmann::json::exception);
  CHECK_THROWS_AS(run(R"({"v":1,"cmd":"delay","node":2,"ms":"50"})"), nlohmann::json::exception);
  CHECK_THROWS_AS(run(R"({"v":1,"cmd":"loss","node":2,"percent":"20%"})"), nlohmann::json::exception);
  // Without --gateway there is nothing to forward through.
  CHECK(run(R"({"v":1,"cmd":"forward","host_port":8080,"node":1,"port":80})")["error"] ==
        "forward needs switchd --gateway");
  CHECK(run(R"({"v":1,"cmd":"forwards"})")["gateway"] == false);
}

TEST_CASE("control commands: a ring, its status, bad rings") {
  EventLoop loop;
  REQUIRE(loop.Init().ok());
  Fabric fabric(&loop, false);
  Commands commands(&fabric, nullptr, nullptr);
  auto run = [&](const std::string& line) { return commands.Execute(line); };

  CHECK(run(R"({"v":1,"cmd":"status"})")["cut"].is_null());
  CHECK(run(R"({"v":1,"cmd":"ring","nodes":[1,2,3,4,5]})")["ok"] == true);
  auto cut = run(R"({"v":1,"cmd":"status"})")["cut"];
  CHECK(cut["shape"] == "ring");
  CHECK(cut["groups"] == nlohmann::json::parse("[[1,2,3,4,5]]"));
  CHECK(cut["reach"]["1"] == nlohmann::json::parse("[2,5]"));
  CHECK(cut["reach"]["3"] == nlohmann::json::parse("[2,4]"));

  CHECK(run(R"({"v":1,"cmd":"ring","nodes":[1,2]})")["error"] == "a ring needs at least 3 nodes, not 2; name more nodes");
  CHECK(run(R"({"v":1,"cmd":"ring","nodes":[1,2,3,2]})")["error"] == "node 2 is in the ring twice; name each node once");
  CHECK(run(R"({"v":1,"cmd":"ring","nodes":[1,2,300]})")["error"] == "nodes are 1 to 254");
  CHECK(run(R"({"v":1,"cmd":"ring","nodes":[1,"2",3]})")["error"] == "nodes are 1 to 254");
  CHECK(run(R"({"v":1,"cmd":"ring"})")["error"] == "ring needs \"nodes\": [1,2,3,4,5] in ring order");
  CHECK(run(R"({"v":1,"cmd":"ring","nodes":5})")["ok"] == false);
  CHECK(run(R"({"v":1,"cmd":"status"})")["cut"]["shape"] == "ring");  // refused rings changed nothing

  CHECK(run(R"({"v":1,"cmd":"heal"})")["ok"] == true);
  CHECK(run(R"({"v":1,"cmd":"status"})")["cut"].is_null());
}
