// PLACEMENT=spread: node N runs on one CPU, the (N-1)th of ssid's CPUs round
// robin, and plxd serves its disk from that CPU. A UML node is a kernel
// process ptracing its guest's processes: every guest system call is a
// round trip between them, and each request to its disk one more with plxd.
// Kept on one CPU, none of these waits for another CPU to wake.
#pragma once

#include <vector>

namespace ssiuml {

// The CPU node runs on: cpus[(node - 1) % size], or -1 if cpus is empty.
int CpuForNode(int node, const std::vector<int>& cpus);

}  // namespace ssiuml
