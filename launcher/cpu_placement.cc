#include "launcher/cpu_placement.h"

#include <cstddef>

namespace ssiuml {

int CpuForNode(int node, const std::vector<int>& cpus) {
  if (cpus.empty() || node < 1) return -1;
  return cpus[static_cast<std::size_t>(node - 1) % cpus.size()];
}

}  // namespace ssiuml
