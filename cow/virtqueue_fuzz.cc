// Fuzzes what a guest controls: vhost-user messages from the front end, and
// descriptor tables, rings and request bytes in guest memory. Whatever the
// bytes, plxd must only touch memory inside the guest's regions.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cow/virtio_blk.h"
#include "cow/vhost_user.h"

namespace {

using namespace ssiuml;

constexpr uint64_t kBase = 0x4000000;
constexpr size_t kSize = 64 * 1024;

class MemoryDevice final : public BlockDevice {
 public:
  uint64_t size() const override { return data_.size(); }
  bool read_only() const override { return false; }
  std::string id() const override { return "fuzz"; }
  Status Read(uint64_t offset, std::span<const iovec> bufs) override {
    for (const iovec& b : bufs) {
      std::memcpy(b.iov_base, data_.data() + offset, b.iov_len);
      offset += b.iov_len;
    }
    return Status::OK();
  }
  Status Write(uint64_t offset, std::span<const iovec> bufs) override {
    for (const iovec& b : bufs) {
      std::memcpy(data_.data() + offset, b.iov_base, b.iov_len);
      offset += b.iov_len;
    }
    return Status::OK();
  }
  Status Flush() override { return Status::OK(); }
  Status WriteZeroes(uint64_t offset, uint64_t len) override {
    std::memset(data_.data() + offset, 0, len);
    return Status::OK();
  }

 private:
  std::vector<uint8_t> data_ = std::vector<uint8_t>(64 * 1024);
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ssiuml::vhost;
  if (size < 16) return 0;
  // The first bytes as a message header and payload.
  Message msg;
  size_t payload = std::min<size_t>(size - 12, 256);
  if (Decode(data, data + 12, payload, &msg).ok()) {
    uint64_t v;
    uint32_t a, b;
    VringAddr addr;
    std::vector<MemoryRegion> regions;
    PayloadU64(msg, &v);
    PayloadVringState(msg, &a, &b);
    PayloadVringAddr(msg, &addr);
    PayloadMemTable(msg, &regions);
    PayloadConfig(msg, &a, &b);
  }
  // All of it as guest memory holding a ring of 16 at the start.
  int fd = memfd_create("fuzz", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, kSize) != 0) return 0;
  std::vector<UniqueFd> fds;
  fds.emplace_back(fd);
  GuestMemory memory;
  if (!memory.Map({{kBase, kSize, kBase, 0}}, std::move(fds)).ok()) return 0;
  std::memcpy(memory.FromGuest(kBase, 1), data, std::min(size, kSize));
  Virtqueue queue;
  queue.SetSize(16);
  if (!queue.SetAddresses(memory, kBase, kBase + 0x200, kBase + 0x400).ok()) return 0;
  queue.SetEnabled(true);
  MemoryDevice device;
  BlkStats stats;
  Chain chain;
  for (int i = 0; i < 32 && queue.Pop(memory, &chain); ++i)
    queue.Push(chain.head, HandleBlkRequest(device, chain, &stats));
  return 0;
}
