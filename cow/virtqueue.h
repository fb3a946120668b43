// A split virtqueue in guest memory (virtio 1.x, §2.7). Pop() walks a
// descriptor chain into host buffers, refusing anything a broken or hostile
// guest could use against us: addresses outside its memory, loops, chains
// longer than the ring, indirect descriptors (not offered), readable after
// writable. A refused chain is still completed, so the guest is not stuck.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/status.h"
#include "cow/guest_memory.h"

namespace ssiuml::vhost {

struct Segment {
  uint8_t* data;
  uint32_t len;
};

struct Chain {
  uint16_t head = 0;
  std::vector<Segment> readable;  // device reads these (request header, data out)
  std::vector<Segment> writable;  // device writes these (data in, status)
  std::string error;              // non-empty: the chain was refused
};

class Virtqueue {
 public:
  static constexpr uint32_t kMaxSize = 1024;

  Status SetSize(uint32_t num);
  Status SetAddresses(const GuestMemory& memory, uint64_t desc, uint64_t avail, uint64_t used);
  void SetBase(uint16_t last_avail) { last_avail_ = last_avail; }
  uint16_t base() const { return last_avail_; }
  void SetKick(UniqueFd fd) { kick_ = std::move(fd); }
  void SetCall(UniqueFd fd) { call_ = std::move(fd); }
  void SetEnabled(bool enabled) { enabled_ = enabled; }
  int kick_fd() const { return kick_.get(); }
  bool ready() const { return enabled_ && desc_ != nullptr; }
  void Reset();

  // Takes the next available chain; false when there is none.
  bool Pop(const GuestMemory& memory, Chain* chain);
  // Returns a chain to the guest with the bytes written into it.
  void Push(uint16_t head, uint32_t written);
  // Interrupts the guest if anything was pushed since the last call.
  void Notify();

 private:
  uint32_t num_ = 0;
  uint8_t* desc_ = nullptr;
  uint8_t* avail_ = nullptr;
  uint8_t* used_ = nullptr;
  uint16_t last_avail_ = 0;
  uint16_t used_idx_ = 0;
  bool pushed_ = false;
  bool enabled_ = false;
  UniqueFd kick_;
  UniqueFd call_;
};

}  // namespace ssiuml::vhost
