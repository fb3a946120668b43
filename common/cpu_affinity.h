// Which CPUs this process may run on, and pinning the calling thread to one.
// ssid runs each node on one CPU, and plxd serves its disk from that CPU: on
// a virtual machine, waking a process on another, idle CPU costs more than
// a 4 KiB request itself.
#pragma once

#include <vector>

#include "common/status.h"

namespace ssiuml {

// The CPUs in this thread's affinity mask, ascending.
std::vector<int> AllowedCpus();
// Pins the calling thread (and what it starts from now on) to cpu; fails
// naming the CPU if this process may not run there.
Status PinThisThread(int cpu);
// Restores the calling thread's mask to cpus.
Status SetThreadCpus(const std::vector<int>& cpus);

}  // namespace ssiuml
