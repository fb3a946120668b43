// What plxd serves to a node: a block device of fixed size. The VDI of a
// plx store is the real one; a plain file serves the protocol tests.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"

namespace ssiuml {

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;
  virtual uint64_t size() const = 0;
  virtual bool read_only() const = 0;
  // Serial number the guest sees (GET_ID), at most 20 bytes.
  virtual std::string id() const = 0;
  // Offsets and lengths are multiples of 4096. Reads fill bufs in turn and
  // writes write them in turn (the guest's own pages: no copy through a
  // bounce buffer); len = their total.
  virtual Status Read(uint64_t offset, std::span<const iovec> bufs) = 0;
  virtual Status Write(uint64_t offset, std::span<const iovec> bufs) = 0;
  // Makes every completed write durable.
  virtual Status Flush() = 0;
  virtual Status WriteZeroes(uint64_t offset, uint64_t len) = 0;
};

// A raw image file as a block device.
Status OpenFileBlockDevice(const std::string& path, bool read_only, std::unique_ptr<BlockDevice>* device);

}  // namespace ssiuml
