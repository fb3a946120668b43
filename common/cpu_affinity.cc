#include "common/cpu_affinity.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <string>

namespace ssiuml {

std::vector<int> AllowedCpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

Status SetThreadCpus(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus)
    if (cpu >= 0 && cpu < CPU_SETSIZE) CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) return Status::FromErrno("sched_setaffinity", errno);
  return Status::OK();
}

Status PinThisThread(int cpu) {
  std::vector<int> allowed = AllowedCpus();
  if (std::find(allowed.begin(), allowed.end(), cpu) == allowed.end())
    return Status::InvalidArgument("CPU " + std::to_string(cpu) + " is not one this process may run on");
  return SetThreadCpus({cpu});
}

}  // namespace ssiuml
