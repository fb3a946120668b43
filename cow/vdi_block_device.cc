#include "cow/vdi_block_device.h"

#include <algorithm>
#include <vector>

namespace ssiuml {
namespace {

class VdiBlockDevice final : public BlockDevice {
 public:
  explicit VdiBlockDevice(std::shared_ptr<plx::Vdi> vdi) : vdi_(std::move(vdi)) {}

  uint64_t size() const override { return vdi_->size(); }
  bool read_only() const override { return vdi_->read_only(); }
  std::string id() const override { return vdi_->name().substr(0, 20); }
  Status Read(uint64_t offset, std::span<const iovec> bufs) override { return vdi_->ReadV(offset, bufs); }
  Status Write(uint64_t offset, std::span<const iovec> bufs) override { return vdi_->WriteV(offset, bufs); }
  Status Flush() override { return vdi_->Flush(); }
  Status WriteZeroes(uint64_t offset, uint64_t len) override {
    // Zero blocks are never stored: writing them unmaps them.
    std::vector<char> zeroes(1 << 20, 0);
    for (uint64_t done = 0; done < len; done += zeroes.size()) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(zeroes.size(), len - done));
      Status s = vdi_->Write(offset + done, std::string_view(zeroes.data(), n));
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

 private:
  std::shared_ptr<plx::Vdi> vdi_;
};

}  // namespace

std::unique_ptr<BlockDevice> NewVdiBlockDevice(std::shared_ptr<plx::Vdi> vdi) {
  return std::make_unique<VdiBlockDevice>(std::move(vdi));
}

}  // namespace ssiuml
