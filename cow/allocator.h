// Allocator: hands out free blocks from extents this process has leased.
// An extent lease is a byte-range lock beside the store, so processes that
// share a store never allocate from the same extent; each extent's bitmap is
// written only by its leaseholder.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/env.h"
#include "cow/format.h"

namespace ssiuml::plx {

// Offsets of the locks in STORE.lock.
constexpr uint64_t kMetaLockOffset = 0;
constexpr uint64_t kGrowLockOffset = 1;
constexpr uint64_t kVdiLockBase = 2;
constexpr uint64_t kExtentLockBase = uint64_t{1} << 32;

class Allocator {
 public:
  // Adds a new extent to the store (under the store's metadata lock) and
  // returns its index.
  using GrowFn = std::function<Status(uint64_t* extent)>;
  // Current number of extents (the superblock may grow under us).
  using ExtentCountFn = std::function<uint64_t()>;

  Allocator(Env* env, RandomRWFile* file, std::string lock_path, uint64_t extent_start,
            ExtentCountFn extent_count, GrowFn grow);

  // Appends n free blocks to out, consecutive where possible.
  Status Allocate(size_t n, std::vector<uint64_t>* out);
  // Returns a block that no committed state references. A block in an
  // extent leased by another process is left for gc.
  void Free(uint64_t block);
  // Writes the bitmap of every extent changed since the last call, each to
  // its older copy. The caller syncs.
  Status WriteDirty();
  // Whether this process has the block marked allocated (tests, checks).
  bool IsAllocated(uint64_t block);

  // Gc: leases every extent it can (Busy ones are counted in *skipped) and
  // calls sweep(extent, bits) with each extent's bitmap to rewrite. The
  // result is written; extents leased only for the sweep are released after
  // the caller's sync via ReleaseTemporary().
  Status SweepAll(const std::function<void(uint64_t extent, uint8_t* bits)>& sweep,
                  uint64_t* swept, uint64_t* skipped);
  void ReleaseTemporary();

  // Reads the valid copy of an extent's bitmap (check uses it too).
  static Status ReadBitmap(RandomRWFile* file, uint64_t extent_start, uint64_t extent,
                           uint8_t* bits, uint64_t* seq, int* slot);
  // The initial bitmap of a fresh extent: its two bitmap blocks in use.
  static void InitialBitmap(uint8_t* bits);

 private:
  struct Extent {
    std::unique_ptr<FileLock> lease;
    std::vector<uint8_t> bits;
    uint64_t seq = 0;
    int slot = 0;  // copy holding seq; the next write goes to the other
    uint32_t free = 0;
    uint32_t hint = 2;
    bool dirty = false;
    bool temporary = false;  // leased by SweepAll only
  };

  // rebuild: accept an extent whose bitmap copies are both unreadable (gc).
  Status LeaseLocked(uint64_t extent, bool rebuild, bool temporary);
  uint64_t ExtentOf(uint64_t block) const { return (block - extent_start_) / kExtentBlocks; }
  Status WriteExtentLocked(uint64_t index, Extent* e);

  Env* env_;
  RandomRWFile* file_;
  std::string lock_path_;
  uint64_t extent_start_;
  ExtentCountFn extent_count_;
  GrowFn grow_;

  std::mutex mu_;
  std::map<uint64_t, Extent> leased_;  // guarded by mu_
  uint64_t next_probe_ = 0;            // guarded by mu_: where to look for an extent to lease
};

}  // namespace ssiuml::plx
