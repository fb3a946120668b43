#include "launcher/cpu_placement.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "common/cpu_affinity.h"
#include "launcher/spawner.h"

using namespace ssiuml;

TEST_CASE("nodes go round robin over the CPUs ssid may use") {
  std::vector<int> cpus = {1, 3, 4};
  CHECK(CpuForNode(1, cpus) == 1);
  CHECK(CpuForNode(2, cpus) == 3);
  CHECK(CpuForNode(3, cpus) == 4);
  CHECK(CpuForNode(4, cpus) == 1);
  CHECK(CpuForNode(253, cpus) == 1);
  CHECK(CpuForNode(5, {}) == -1);
  CHECK(CpuForNode(0, cpus) == -1);
}

namespace {
// The child's Cpus_allowed_list, as spawned with cpu.
std::string ChildCpus(int cpu, Status* status) {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  SpawnSpec spec;
  spec.argv = {"sh", "-c", "grep Cpus_allowed_list /proc/self/status"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.stdout_fd = p[1];
  spec.cpu = cpu;
  pid_t pid = -1;
  *status = Spawn(spec, &pid);
  ::close(p[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  if (pid > 0) ::waitpid(pid, nullptr, 0);
  return out;
}
}  // namespace

TEST_CASE("a spawned child runs on its CPU alone; the spawner keeps its own CPUs") {
  std::vector<int> before = AllowedCpus();
  REQUIRE(!before.empty());
  Status s;
  std::string out = ChildCpus(before.back(), &s);
  REQUIRE(s.ok());
  CHECK(out == "Cpus_allowed_list:\t" + std::to_string(before.back()) + "\n");
  CHECK(AllowedCpus() == before);
}

TEST_CASE("a CPU ssid may not use is refused before anything starts") {
  std::vector<int> before = AllowedCpus();
  Status s;
  std::string out = ChildCpus(1023, &s);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == "CPU 1023 is not one this process may run on");
  CHECK(out.empty());
  CHECK(AllowedCpus() == before);
}
