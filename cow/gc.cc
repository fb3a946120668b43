// Store::Gc: mark and sweep. Everything live VDIs and snapshots reference is
// marked; each extent's bitmap is rewritten to exactly that. Extents leased
// by other processes are skipped: their in-flight writes are unmarked.
#include <spdlog/spdlog.h>

#include "cow/walk.h"

namespace ssiuml::plx {

Status StoreImpl::Gc(GcResult* result) {
  MetaLock meta(this);
  if (!meta.status().ok()) return meta.status();
  *result = GcResult();
  // This process's VDIs are flushed and held still so that everything they
  // reference is committed and marked.
  HeldStill held;
  Status s = FlushOpenAndReload(&held);
  if (!s.ok()) return s;
  uint64_t file_size = 0;
  s = file_->Size(&file_size);
  if (!s.ok()) return s;
  Walker walker(this, file_size, false);
  walker.WalkAll(registry_);
  if (!walker.errors().empty())
    return Status::Corruption("the store is damaged (" + walker.errors().front() +
                              "); gc would make it worse; see plx check");
  uint64_t freed = 0;
  s = alloc_->SweepAll(
      [&](uint64_t extent, uint8_t* bits) {
        uint64_t first = sb_.ExtentFirstBlock(extent);
        for (uint32_t i = 2; i < kExtentBlocks; i++) {
          bool used = walker.kind(first + i) != Walker::kUnused;
          bool allocated = (bits[i / 8] >> (i % 8)) & 1;
          if (allocated && !used) freed++;
          if (used) bits[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
          else bits[i / 8] &= static_cast<uint8_t>(~(1u << (i % 8)));
        }
      },
      &result->extents_swept, &result->extents_skipped);
  if (s.ok()) s = file_->Sync();
  if (!s.ok()) return s;
  alloc_->ReleaseTemporary();
  cache_.Clear();
  result->blocks_freed = freed;
  result->blocks_used = walker.used();
  spdlog::debug("gc: freed {} blocks, {} in use, {} extents swept, {} skipped", freed, walker.used(),
                result->extents_swept, result->extents_skipped);
  return Status::OK();
}

}  // namespace ssiuml::plx
