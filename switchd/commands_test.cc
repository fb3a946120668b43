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
  // Without --gateway there is nothing to forward through.
  CHECK(run(R"({"v":1,"cmd":"forward","host_port":8080,"node":1,"port":80})")["error"] ==
        "forward needs switchd --gateway");
  CHECK(run(R"({"v":1,"cmd":"forwards"})")["gateway"] == false);
}
