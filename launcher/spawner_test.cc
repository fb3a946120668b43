#include "launcher/spawner.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

using namespace ssiuml;

namespace {
// The child's core limit as `ulimit -c` prints it.
std::string ChildCoreLimit(bool core_dump) {
  int to_child[2], from_child[2];
  REQUIRE(::pipe(to_child) == 0);
  REQUIRE(::pipe(from_child) == 0);
  SpawnSpec spec;
  // It reads its limit only once told to, after Spawn has returned.
  spec.argv = {"sh", "-c", "read go; ulimit -c"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.stdin_fd = to_child[0];
  spec.stdout_fd = from_child[1];
  spec.core_dump = core_dump;
  pid_t pid = -1;
  REQUIRE(Spawn(spec, &pid).ok());
  ::close(to_child[0]);
  ::close(from_child[1]);
  REQUIRE(::write(to_child[1], "go\n", 3) == 3);
  ::close(to_child[1]);
  std::string out;
  char buf[64];
  for (ssize_t n; (n = ::read(from_child[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(from_child[0]);
  ::waitpid(pid, nullptr, 0);
  return out;
}
}  // namespace

TEST_CASE("a child spawned without core dumps has a core limit of 0; others keep the spawner's") {
  rlimit own{};
  REQUIRE(::getrlimit(RLIMIT_CORE, &own) == 0);
  // A spawner that may dump cores, so that the child's 0 is the spawner's doing.
  rlimit raised{std::min<rlim_t>(own.rlim_max, 1 << 20), own.rlim_max};
  REQUIRE(::setrlimit(RLIMIT_CORE, &raised) == 0);
  CHECK(ChildCoreLimit(false) == "0\n");
  if (raised.rlim_cur > 0) CHECK(ChildCoreLimit(true) == std::to_string(raised.rlim_cur / 512) + "\n");
  REQUIRE(::setrlimit(RLIMIT_CORE, &own) == 0);
}

TEST_CASE("FindProgram takes executable files only: not a folder, not an empty name") {
  char tmpl[] = "/tmp/findprogram-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string path;
  CHECK(FindProgram("", &path).IsInvalidArgument());
  Status s = FindProgram(dir, &path);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == dir + " is not a program (a folder?)");
  CHECK(FindProgram(dir + "/none", &path).IsNotFound());
  // On PATH, a folder of the same name is passed over for the program after it.
  REQUIRE(::mkdir((dir + "/a").c_str(), 0755) == 0);
  REQUIRE(::mkdir((dir + "/b").c_str(), 0755) == 0);
  REQUIRE(::mkdir((dir + "/a/tool").c_str(), 0755) == 0);
  REQUIRE(::symlink("/bin/true", (dir + "/b/tool").c_str()) == 0);
  std::string old_path = std::getenv("PATH");
  ::setenv("PATH", (dir + "/a:" + dir + "/b").c_str(), 1);
  s = FindProgram("tool", &path);
  ::setenv("PATH", old_path.c_str(), 1);
  REQUIRE(s.ok());
  CHECK(path == dir + "/b/tool");
  ::system(("rm -rf " + dir).c_str());
}
