#include "launcher/scenario.h"

#include <catch2/catch.hpp>

using namespace ssiuml;

TEST_CASE("a full scenario parses") {
  Scenario s;
  Status st = ParseScenario(
      "# crash and rejoin\n"
      "nodes 3\n"
      "timeout 5m\n"
      "seed 7\n"
      "setup all: echo ready > /tmp/r\n"
      "workload 1,2: while :; do date; done\n"
      "step wait 500ms\n"
      "step crash majority\n"
      "step restart 2\n"
      "step pause one 2s\n"
      "step resume all\n"
      "step rolling-restart 1s\n"
      "step exec 3: sync\n"
      "step heal\n"
      "check 2: cat /root/mark == kept\n"
      "check all: hostname ~ node\n"
      "check 1: ping -c1 node2 exit 0\n"
      "check 1: echo 'a == b' == a == b\n"
      "check signature 1,3\n",
      "tests/scenarios/crash.scn", 64, &s);
  REQUIRE(st.ok());
  CHECK(s.name == "crash");
  CHECK(s.nodes == 3);
  CHECK(s.timeout_ms == 300000);
  CHECK(s.seed == 7);
  REQUIRE(s.setup.size() == 1);
  CHECK(s.setup[0].nodes == std::vector<int>{1, 2, 3});
  CHECK(s.workload[0].nodes == std::vector<int>{1, 2});
  REQUIRE(s.steps.size() == 8);
  CHECK(s.steps[0].duration_ms == 500);
  CHECK(s.steps[1].target == "majority");
  CHECK(s.steps[3].duration_ms == 2000);
  CHECK(s.steps[6].command == "sync");
  REQUIRE(s.checks.size() == 5);
  CHECK(s.checks[0].kind == ScenarioCheck::Kind::kEquals);
  CHECK(s.checks[0].command == "cat /root/mark");
  CHECK(s.checks[0].expected == "kept");
  CHECK(s.checks[1].kind == ScenarioCheck::Kind::kContains);
  CHECK(s.checks[2].kind == ScenarioCheck::Kind::kExit);
  CHECK(s.checks[3].command == "echo 'a == b' == a");
  CHECK(s.checks[3].expected == "b");
  CHECK(s.checks[4].kind == ScenarioCheck::Kind::kSignature);
  CHECK(s.checks[4].nodes == std::vector<int>{1, 3});
}

TEST_CASE("scenario errors name the line") {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"step wait 1s\n", "x.scn:1: the scenario must start with 'nodes N'"},
      {"nodes 0\n", "x.scn:1: 'nodes' takes a count from 1 to 64"},
      {"nodes 2\nnodes 3\n", "x.scn:2: 'nodes' given twice"},
      {"nodes 2\n\nstep crash 3\n", "x.scn:3: bad target '3'"},
      {"nodes 2\nsetup 5: true\n", "x.scn:2: node 5 is not in this scenario (nodes 1-2)"},
      {"nodes 2\nsetup x: true\n", "x.scn:2: 'x' is not a node number or all"},
      {"nodes 2\nsetup 1 true\n", "x.scn:2: expected TARGETS: COMMAND"},
      {"nodes 2\nsetup 1:\n", "x.scn:2: empty command"},
      {"nodes 2\nstep explode 1\n", "x.scn:2: unknown step 'explode'"},
      {"nodes 2\nstep wait soon\n", "x.scn:2: bad duration 'soon'"},
      {"nodes 2\nstep heal now\n", "x.scn:2: unexpected 'now'"},
      {"nodes 2\ncheck 1: true\n", "x.scn:2: a check needs"},
      {"nodes 3\nstep partition 1,2 | 3\n", "x.scn:2: bad partition '1,2 | 3'"},
      {"nodes 3\nstep partition isolate 9\n", "x.scn:2: bad target '9'"},
      {"nodes 2\nstep partition ring\n", "x.scn:2: a ring needs at least 3 nodes; say 'nodes 3' or more"},
      {"nodes 3\nstep partition ring 1,2,3\n", "x.scn:2: bad partition 'ring 1,2,3'"},
      {"nodes 3\nstep loss 1 120%\n", "x.scn:2: loss needs a percentage"},
      {"nodes 3\ncheck members 1 = 1\n", "x.scn:2: expected 'members TARGETS == 1,2,3"},
      {"nodes 3\ncheck members 1 == 1,7\n", "x.scn:2: node 7 is not in this scenario"},
      {"nodes 3\ncheck members 1 == 1 within soon\n", "x.scn:2: bad duration 'soon'"},
      {"nodes 3\ncheck lock-history h\n", "x.scn:2: lock-history needs the absolute path"},
      {"nodes 3\nstep delay 1 fast\n", "x.scn:2: bad duration 'fast'"},
      {"nodes 3\nstep disk-stall 1 2s later\n", "x.scn:2: unexpected 'later'"},
      {"nodes 2\ncheck 1: true exit 300\n", "x.scn:2: 'exit' needs a status from 0 to 255"},
      {"nodes 2\nfrobnicate\n", "x.scn:2: unknown keyword 'frobnicate'"},
      {"nodes 2\ntimeout 0s\n", "x.scn:2: bad timeout"},
      {"nodes 2\nstep wait 1s\n", "x.scn: the scenario has no checks"},
      {"", "x.scn: empty scenario"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    Scenario s;
    Status st = ParseScenario(c.text, "x.scn", 64, &s);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find(c.error) == 0);
  }
}

TEST_CASE("network and disk fault steps parse") {
  Scenario s;
  Status st = ParseScenario(
      "nodes 5\n"
      "step partition halves\n"
      "step partition isolate minority\n"
      "step partition 1,2 3,4\n"
      "step partition ring\n"
      "step loss 3 20%\n"
      "step delay all 50ms 5ms\n"
      "step disk-stall one 2s\n"
      "step disk-error 2\n"
      "check all: true exit 0\n",
      "x.scn", 64, &s);
  REQUIRE(st.ok());
  REQUIRE(s.steps.size() == 8);
  using Kind = ScenarioStep::Kind;
  CHECK(s.steps[0].kind == Kind::kPartition);
  CHECK(s.steps[0].shape == "halves");
  CHECK(s.steps[1].shape == "isolate");
  CHECK(s.steps[1].target == "minority");
  CHECK(s.steps[2].shape == "1,2 3,4");
  CHECK(s.steps[3].kind == Kind::kPartition);
  CHECK(s.steps[3].shape == "ring");
  CHECK(s.steps[4].kind == Kind::kLoss);
  CHECK(s.steps[4].percent == 20);
  CHECK(s.steps[5].duration_ms == 50);
  CHECK(s.steps[5].jitter_ms == 5);
  CHECK(s.steps[6].kind == Kind::kDiskStall);
  CHECK(s.steps[6].duration_ms == 2000);
  CHECK(s.steps[7].kind == Kind::kDiskError);
}

TEST_CASE("membership and lock-history checks parse") {
  Scenario s;
  Status st = ParseScenario(
      "nodes 3\n"
      "check members 1,2 == 1,2 within 5s\n"
      "check members all == 1,2,3\n"
      "check lock-history /root/h\n",
      "x.scn", 64, &s);
  REQUIRE(st.ok());
  REQUIRE(s.checks.size() == 3);
  CHECK(s.checks[0].kind == ScenarioCheck::Kind::kMembers);
  CHECK(s.checks[0].nodes == std::vector<int>{1, 2});
  CHECK(s.checks[0].members == std::vector<int>{1, 2});
  CHECK(s.checks[0].within_ms == 5000);
  CHECK(s.checks[1].within_ms == 10000);
  CHECK(s.checks[2].kind == ScenarioCheck::Kind::kLockHistory);
  CHECK(s.checks[2].expected == "/root/h");
  CHECK(s.checks[2].nodes == std::vector<int>{1, 2, 3});
}

TEST_CASE("durations") {
  uint64_t ms = 0;
  CHECK((ParseDuration("250ms", &ms) && ms == 250));
  CHECK((ParseDuration("3s", &ms) && ms == 3000));
  CHECK((ParseDuration("2m", &ms) && ms == 120000));
  CHECK_FALSE(ParseDuration("3", &ms));
  CHECK_FALSE(ParseDuration("-1s", &ms));
  CHECK_FALSE(ParseDuration("99999999999s", &ms));
}
