#include "cow/guest_memory.h"

#include <sys/mman.h>

#include <cerrno>

namespace ssiuml::vhost {
namespace {

// True when [addr, addr + len) lies inside [start, start + size).
bool Inside(uint64_t addr, uint64_t len, uint64_t start, uint64_t size) {
  return addr >= start && len <= size && addr - start <= size - len;
}

}  // namespace

Status GuestMemory::Map(const std::vector<MemoryRegion>& regions, std::vector<UniqueFd> fds) {
  Unmap();
  for (size_t i = 0; i < regions.size(); ++i) {
    const MemoryRegion& r = regions[i];
    size_t size = static_cast<size_t>(r.size + r.mmap_offset);
    void* mapping = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i].get(), 0);
    if (mapping == MAP_FAILED) {
      int err = errno;
      Unmap();
      return Status::FromErrno("vhost-user: mapping guest memory", err);
    }
    regions_.push_back({r, static_cast<uint8_t*>(mapping) + r.mmap_offset, mapping, size});
  }
  return Status::OK();
}

void GuestMemory::Unmap() {
  for (const Mapped& m : regions_) ::munmap(m.mapping, m.mapping_size);
  regions_.clear();
}

uint8_t* GuestMemory::FromGuest(uint64_t addr, uint64_t len) const {
  for (const Mapped& m : regions_)
    if (Inside(addr, len, m.region.guest_addr, m.region.size))
      return m.base + (addr - m.region.guest_addr);
  return nullptr;
}

uint8_t* GuestMemory::FromUser(uint64_t addr, uint64_t len) const {
  for (const Mapped& m : regions_)
    if (Inside(addr, len, m.region.user_addr, m.region.size))
      return m.base + (addr - m.region.user_addr);
  return nullptr;
}

}  // namespace ssiuml::vhost
