#include "launcher/tool_run.h"

#include <catch2/catch.hpp>

using namespace ssiuml;

TEST_CASE("a tool's stdout, stderr and exit status come back apart") {
  ToolResult r;
  REQUIRE(RunTool({"sh", "-c", "echo out; echo 'tool: error: it broke' >&2; exit 3"}, &r).ok());
  CHECK(r.exit_code == 3);
  CHECK(r.out == "out\n");
  CHECK(r.ErrorLine() == "it broke");
}

TEST_CASE("output larger than a pipe on both streams does not deadlock") {
  ToolResult r;
  REQUIRE(RunTool({"sh", "-c", "head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2"}, &r).ok());
  CHECK(r.exit_code == 0);
  CHECK(r.out.size() == 300000);
  CHECK(r.err.size() == 300000);
}

TEST_CASE("a missing tool is NotFound") {
  ToolResult r;
  CHECK(RunTool({"no-such-tool-ssiuml"}, &r).IsNotFound());
}
