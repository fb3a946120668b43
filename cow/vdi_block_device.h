// A plx VDI as the block device plxd serves.
#pragma once

#include <memory>

#include "cow/block_device.h"
#include "cow/plx.h"

namespace ssiuml {

std::unique_ptr<BlockDevice> NewVdiBlockDevice(std::shared_ptr<plx::Vdi> vdi);

}  // namespace ssiuml
