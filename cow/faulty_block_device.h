// A block device that can be told to fail: ssi-nemesis's "disk error" fault.
// While failing, every request returns an I/O error (the guest sees
// VIRTIO_BLK_S_IOERR); nothing reaches the device, so healing loses nothing.
#pragma once

#include <memory>

#include "cow/block_device.h"

namespace ssiuml {

class FaultyBlockDevice : public BlockDevice {
 public:
  explicit FaultyBlockDevice(std::unique_ptr<BlockDevice> base) : base_(std::move(base)) {}
  void set_failing(bool failing) { failing_ = failing; }
  bool failing() const { return failing_; }

  uint64_t size() const override { return base_->size(); }
  bool read_only() const override { return base_->read_only(); }
  std::string id() const override { return base_->id(); }
  Status Read(uint64_t offset, std::span<const iovec> bufs) override {
    return failing_ ? Injected() : base_->Read(offset, bufs);
  }
  Status Write(uint64_t offset, std::span<const iovec> bufs) override {
    return failing_ ? Injected() : base_->Write(offset, bufs);
  }
  Status Flush() override { return failing_ ? Injected() : base_->Flush(); }
  Status WriteZeroes(uint64_t offset, uint64_t len) override {
    return failing_ ? Injected() : base_->WriteZeroes(offset, len);
  }

 private:
  static Status Injected() { return Status::IOError("injected disk error (ssi-nemesis)"); }

  std::unique_ptr<BlockDevice> base_;
  bool failing_ = false;
};

}  // namespace ssiuml
