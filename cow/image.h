// Copies between a VDI and an image file: fill, validate and export. A qcow2
// image is converted to raw through qemu-img first.
#pragma once

#include <string>

#include "cow/plx.h"

namespace ssiuml::plx {

struct CopyResult {
  uint64_t bytes = 0;
  uint64_t blocks_stored = 0;  // non-zero blocks written
  std::string mismatch;        // validate: the first difference, empty if none
};

// Writes image into vdi (growing it to fit): the blocks that differ, zero
// blocks unmapped.
Status FillVdi(Env* env, Vdi* vdi, const std::string& image, CopyResult* result);
// Compares vdi with image block by block.
Status ValidateVdi(Env* env, Vdi* vdi, const std::string& image, CopyResult* result);
// Writes vdi to a sparse raw file.
Status ExportVdi(Env* env, Vdi* vdi, const std::string& file, CopyResult* result);

}  // namespace ssiuml::plx
