#include "launcher/config.h"

#include <catch2/catch.hpp>
#include <cstdlib>

using namespace ssiuml;

namespace {
Status Parse(const std::string& text, Config* config) {
  return ParseConfig(text, "/home/u/.ssiuml/ssiuml.conf", config);
}
}  // namespace

TEST_CASE("defaults hold for an empty file") {
  Config c;
  REQUIRE(Parse("", &c).ok());
  CHECK(c.kernel == "linux.uml");
  CHECK(c.mem_mib == 128);
  CHECK(c.nodes == 3);
  CHECK(c.max_nodes == 64);
  CHECK(c.subnet == "10.77.0");
  CHECK(c.disk == DiskKind::kPlx);
  CHECK(c.placement == Placement::kSpread);
}

TEST_CASE("every key, quoting, comments and export") {
  ::setenv("HOME", "/home/u", 1);
  Config c;
  Status s = Parse(
      "# cluster settings\n"
      "\n"
      "KERNEL=/opt/uml/linux   # our own build\n"
      "export ROOT=\"$HOME/images/root.img\"\n"
      "CIDEV='/tmp/sw'\n"
      "INITRD=~/initrd.gz\n"
      "INITRD_MEMEXP=${HOME}/memexp.gz\n"
      "  MEM=1G\r\n"
      "NODES=5\n"
      "MAX_NODES=100\n"
      "SUBNET=10.9.8.0/24\n"
      "DISK=ubd\n"
      "HEARTBEAT_MS=100\n"
      "EXPIRY_MISSED=8\n"
      "BOOT_PARALLEL=3\n"
      "PLACEMENT=none\n",
      &c);
  REQUIRE(s.ok());
  CHECK(c.kernel == "/opt/uml/linux");
  CHECK(c.root == "/home/u/images/root.img");
  CHECK(c.cidev == "/tmp/sw");
  CHECK(c.initrd == "/home/u/initrd.gz");
  CHECK(c.initrd_memexp == "/home/u/memexp.gz");
  CHECK(c.mem_mib == 1024);
  CHECK(c.nodes == 5);
  CHECK(c.max_nodes == 100);
  CHECK(c.subnet == "10.9.8");
  CHECK(c.disk == DiskKind::kUbd);
  CHECK(c.heartbeat_ms == 100);
  CHECK(c.expiry_missed == 8);
  CHECK(c.boot_parallel == 3);
  CHECK(c.placement == Placement::kNone);
}

TEST_CASE("bad config lines name the file and line") {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"FOO=1\n", ":1: unknown key FOO"},
      {"\n\nMEM=lots\n", ":3: MEM must be a size such as 128M or 1G, not 'lots'"},
      {"MEM=8\n", ":1: MEM must be between 32M and 16G"},
      {"NODES=0\n", ":1: NODES must be a number from 1 to 253, not '0'"},
      {"SUBNET=10.77/16\n", ":1: SUBNET must be a /24"},
      {"SUBNET=10.77.0.300\n", ":1: SUBNET must be a /24"},
      {"HEARTBEAT_MS=5\n", ":1: HEARTBEAT_MS must be a number from 10 to 60000"},
      {"EXPIRY_MISSED=1\n", ":1: EXPIRY_MISSED must be a number from 2 to 100"},
      {"BOOT_PARALLEL=0\n", ":1: BOOT_PARALLEL must be a number from 1 to 253"},
      {"DISK=nfs\n", ":1: DISK must be plx or ubd, not 'nfs'"},
      {"PLACEMENT=pinned\n", ":1: PLACEMENT must be spread or none, not 'pinned'"},
      {"KERNEL\n", ":1: expected KEY=value"},
      {"=x\n", ":1: expected KEY=value"},
      {"kernel=x\n", ":1: bad key 'kernel'"},
      {"ROOT=\"/a\n", ":1: unterminated \" quote"},
      {"ROOT='/a\n", ":1: unterminated ' quote"},
      {"ROOT=/a b\n", ":1: unquoted space in value"},
      {"ROOT=$(rm -rf /)\n", ":1: only $HOME may be expanded"},
      {"ROOT=/img,ro\n", ":1: ROOT /img,ro has a comma or a space, which UML's command line cannot carry"},
      {"ROOT='/root fs.img'\n", ":1: ROOT /root fs.img has a comma or a space"},
      {"INITRD=\"/a\tb\"\n", ":1: INITRD /a\tb has a comma or a space"},
      {"CIDEV='/tmp/my switch'\n", ":1: CIDEV /tmp/my switch has a comma or a space"},
      {"KERNEL=\n", ":1: KERNEL is empty"},
      {"MEM=9223372036854775807G\n", ":1: MEM must be between 32M and 16G"},
      {"MEM=9007199254740993g\n", ":1: MEM must be between 32M and 16G"},
      {"ROOT=`id`\n", ":1: '`' is not allowed"},
      {"NODES=9\nMAX_NODES=8\n", "NODES (9) exceeds MAX_NODES (8)"},
  };
  for (const Case& bad : cases) {
    INFO(bad.text);
    Config c;
    Status s = Parse(bad.text, &c);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().rfind("/home/u/.ssiuml/ssiuml.conf", 0) == 0);
    CHECK(s.message().find(bad.error) != std::string::npos);
  }
}

TEST_CASE("the kernel may have a space or a comma in its path: it is the program, not an option") {
  Config c;
  REQUIRE(Parse("KERNEL='/opt/uml builds/linux,6.1'\n", &c).ok());
  CHECK(c.kernel == "/opt/uml builds/linux,6.1");
}

TEST_CASE("a binary or huge file is refused cleanly") {
  Config c;
  std::string junk(100000, '\0');
  CHECK_FALSE(Parse(junk, &c).ok());
  CHECK_FALSE(Parse(std::string(1 << 20, 'A'), &c).ok());
}

TEST_CASE("missing default file is fine, missing explicit file is an error") {
  Config c;
  CHECK(LoadConfig(Env::Default(), "/nonexistent/ssiuml.conf", false, &c).ok());
  Status s = LoadConfig(Env::Default(), "/nonexistent/ssiuml.conf", true, &c);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("cannot read config /nonexistent/ssiuml.conf") == 0);
}
