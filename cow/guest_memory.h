// The guest's memory as the front end shared it (SET_MEM_TABLE): mapped
// regions and bounds-checked translation. The guest is untrusted: every
// address and length it hands us is checked here before it is touched.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "cow/vhost_user.h"

namespace ssiuml::vhost {

class GuestMemory {
 public:
  GuestMemory() = default;
  ~GuestMemory() { Unmap(); }
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  // Replaces the mapping with the regions, mapping each from its fd.
  Status Map(const std::vector<MemoryRegion>& regions, std::vector<UniqueFd> fds);
  void Unmap();
  bool mapped() const { return !regions_.empty(); }

  // Host pointer for [addr, addr + len) within one region, else nullptr.
  uint8_t* FromGuest(uint64_t addr, uint64_t len) const;
  // The same for front-end virtual addresses (ring addresses).
  uint8_t* FromUser(uint64_t addr, uint64_t len) const;

 private:
  struct Mapped {
    MemoryRegion region;
    uint8_t* base = nullptr;  // the region's first byte
    void* mapping = nullptr;
    size_t mapping_size = 0;
  };
  std::vector<Mapped> regions_;
};

}  // namespace ssiuml::vhost
