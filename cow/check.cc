// Store::Check: verifies the registry, every tree and log, and that the
// extent bitmaps agree with what the trees reference.
#include <set>

#include "cow/walk.h"

namespace ssiuml::plx {

Status StoreImpl::Check(CheckReport* report) {
  MetaLock meta(this);
  if (!meta.status().ok()) return meta.status();
  *report = CheckReport();
  // What this process has not flushed would show up as leaks.
  Status s = FlushOpenAndReload();
  if (!s.ok()) return s;
  uint64_t file_size = 0;
  s = file_->Size(&file_size);
  if (!s.ok()) return s;
  Walker walker(this, file_size, true);
  walker.WalkAll(registry_);
  walker.CheckWritable();
  report->errors = std::move(walker.errors());

  std::set<std::string> names;
  for (const Slot& slot : registry_) {
    if (!slot.used || slot.rec.flags != kVdiLive) continue;
    if (!names.insert(slot.rec.name).second) report->errors.push_back("two VDIs are named " + slot.rec.name);
    if (slot.rec.origin_uid != 0 && FindVdiByUid(slot.rec.origin_uid) < 0)
      report->notes.push_back(slot.rec.name + " was cloned from a VDI that has since been deleted");
  }

  report->extents = extent_count_;
  std::vector<uint8_t> bits(kBitmapBytes);
  for (uint64_t e = 0; e < extent_count_; e++) {
    uint64_t seq;
    int slot;
    s = Allocator::ReadBitmap(file_.get(), sb_.extent_start, e, bits.data(), &seq, &slot);
    if (s.IsCorruption()) {
      report->errors.push_back(s.message());
      continue;
    }
    if (!s.ok()) return s;
    std::unique_ptr<FileLock> probe;
    bool busy = env_->LockFileRange(lock_path_, kExtentLockBase + e, false, &probe).IsBusy() &&
                !alloc_->IsAllocated(sb_.ExtentFirstBlock(e));
    uint64_t leaked = 0;
    for (uint32_t i = 0; i < kExtentBlocks; i++) {
      uint64_t block = sb_.ExtentFirstBlock(e) + i;
      bool allocated = (bits[i / 8] >> (i % 8)) & 1;
      if (i < 2) {
        if (!allocated) report->errors.push_back("extent " + std::to_string(e) + ": its bitmap blocks are marked free");
        continue;
      }
      bool used = walker.kind(block) != Walker::kUnused;
      if (used && !allocated)
        report->errors.push_back("block " + std::to_string(block) +
                                 " is in use but marked free; run plx gc to rebuild the bitmap");
      if (allocated && !used) leaked++;
    }
    report->blocks_leaked += leaked;
    if (busy && leaked > 0)
      report->notes.push_back("extent " + std::to_string(e) + " is in use by another process: " +
                              std::to_string(leaked) + " of its unreferenced blocks may be writes in flight");
  }
  report->blocks_used = walker.used();
  if (report->blocks_leaked > 0)
    report->notes.push_back(std::to_string(report->blocks_leaked) +
                            " blocks are allocated but unreferenced (interrupted writes, deleted VDIs or "
                            "snapshots); plx gc reclaims them");
  return Status::OK();
}

}  // namespace ssiuml::plx
