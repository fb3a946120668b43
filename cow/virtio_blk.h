// virtio-blk requests (virtio 1.x §5.2) against a BlockDevice: a readable
// header {type, ioprio, sector}, data, and a status byte at the very end of
// the writable part. A bad request fails with a status; it never reaches
// past the chain it came in, and never stops the device.
#pragma once

#include <cstdint>
#include <vector>

#include "cow/block_device.h"
#include "cow/virtqueue.h"

namespace ssiuml::vhost {

constexpr uint32_t kBlkSize = 4096;
constexpr uint32_t kSegMax = 126;

// Counters per device, for plxd's stats.
struct BlkStats {
  uint64_t reads = 0, writes = 0, flushes = 0, bytes_read = 0, bytes_written = 0;
  uint64_t errors = 0, unsupported = 0, refused_chains = 0;
};

// Handles one chain; returns the number of bytes written into it.
uint32_t HandleBlkRequest(BlockDevice& device, const Chain& chain, BlkStats* stats);

// The virtio-blk config space plxd reports (capacity, limits, blk_size).
std::vector<uint8_t> BlkConfig(const BlockDevice& device);
// The virtio feature bits plxd offers for device.
uint64_t BlkFeatures(const BlockDevice& device);

}  // namespace ssiuml::vhost
