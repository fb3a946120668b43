#include "cow/virtqueue.h"

#include <unistd.h>

#include <cstring>

namespace ssiuml::vhost {
namespace {

constexpr uint16_t kDescNext = 1;
constexpr uint16_t kDescWrite = 2;
constexpr uint16_t kDescIndirect = 4;
// A request never needs more than this in one chain (the 512 MiB a guest
// could describe would only tie us up).
constexpr uint64_t kMaxChainBytes = 64ull << 20;

struct Desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

uint16_t LoadAcquire16(const uint8_t* p) {
  return __atomic_load_n(reinterpret_cast<const uint16_t*>(p), __ATOMIC_ACQUIRE);
}

}  // namespace

Status Virtqueue::SetSize(uint32_t num) {
  if (num == 0 || num > kMaxSize || (num & (num - 1)) != 0)
    return Status::InvalidArgument("vhost-user: ring size " + std::to_string(num));
  num_ = num;
  return Status::OK();
}

Status Virtqueue::SetAddresses(const GuestMemory& memory, uint64_t desc, uint64_t avail, uint64_t used) {
  if (num_ == 0) return Status::InvalidArgument("vhost-user: ring address before ring size");
  desc_ = memory.FromUser(desc, 16ull * num_);
  avail_ = memory.FromUser(avail, 6 + 2ull * num_);
  used_ = memory.FromUser(used, 6 + 8ull * num_);
  if (desc_ == nullptr || avail_ == nullptr || used_ == nullptr) {
    desc_ = avail_ = used_ = nullptr;
    return Status::InvalidArgument("vhost-user: ring outside guest memory");
  }
  used_idx_ = __atomic_load_n(reinterpret_cast<uint16_t*>(used_ + 2), __ATOMIC_RELAXED);
  return Status::OK();
}

void Virtqueue::Reset() {
  *this = Virtqueue();
}

bool Virtqueue::Pop(const GuestMemory& memory, Chain* chain) {
  if (!ready()) return false;
  uint16_t avail_idx = LoadAcquire16(avail_ + 2);
  if (avail_idx == last_avail_) return false;
  uint16_t head;
  std::memcpy(&head, avail_ + 4 + 2 * (last_avail_ % num_), 2);
  ++last_avail_;
  chain->head = head;
  chain->readable.clear();
  chain->writable.clear();
  chain->error.clear();
  if (head >= num_) {
    chain->error = "descriptor index out of range";
    chain->head = 0;
    return true;
  }
  uint16_t index = head;
  uint64_t total = 0;
  // A chain visits each descriptor at most once, so num_ steps bound it.
  for (uint32_t steps = 0;; ++steps) {
    if (steps >= num_) {
      chain->error = "descriptor chain loops or is longer than the ring";
      return true;
    }
    Desc d;
    std::memcpy(&d, desc_ + 16ull * index, sizeof d);
    if (d.flags & kDescIndirect) {
      chain->error = "indirect descriptors were not offered";
      return true;
    }
    total += d.len;
    if (total > kMaxChainBytes) {
      chain->error = "descriptor chain too large";
      return true;
    }
    uint8_t* data = d.len == 0 ? nullptr : memory.FromGuest(d.addr, d.len);
    if (d.len != 0 && data == nullptr) {
      chain->error = "descriptor outside guest memory";
      return true;
    }
    if (d.flags & kDescWrite) {
      chain->writable.push_back({data, d.len});
    } else if (!chain->writable.empty()) {
      chain->error = "readable descriptor after a writable one";
      return true;
    } else {
      chain->readable.push_back({data, d.len});
    }
    if (!(d.flags & kDescNext)) return true;
    if (d.next >= num_) {
      chain->error = "next descriptor out of range";
      return true;
    }
    index = d.next;
  }
}

void Virtqueue::Push(uint16_t head, uint32_t written) {
  if (!ready()) return;
  uint8_t* elem = used_ + 4 + 8 * (used_idx_ % num_);
  uint32_t id = head;
  std::memcpy(elem, &id, 4);
  std::memcpy(elem + 4, &written, 4);
  ++used_idx_;
  __atomic_store_n(reinterpret_cast<uint16_t*>(used_ + 2), used_idx_, __ATOMIC_RELEASE);
  pushed_ = true;
}

void Virtqueue::Notify() {
  if (!pushed_ || !call_.valid()) return;
  pushed_ = false;
  // UML's call "fd" is a socketpair read in 8-byte units; a full buffer
  // means an interrupt is already pending, so a lost write is harmless.
  uint64_t one = 1;
  (void)!::write(call_.get(), &one, sizeof one);
}

}  // namespace ssiuml::vhost
