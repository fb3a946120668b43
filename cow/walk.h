// Walker: visits every block that live VDIs, their snapshots and their
// snapshot logs reference, once each, noting how each block is used. Check,
// gc and du are built on it. Each node is expanded once, so shared subtrees
// cost nothing extra and a damaged tree (cycles, cross-links, pointers out of
// range) is reported rather than followed.
#pragma once

#include <string>
#include <vector>

#include "cow/store_impl.h"

namespace ssiuml::plx {

class Walker {
 public:
  enum Kind : uint8_t { kUnused = 0, kLevel0, kLevel1, kLevel2, kData, kLog };

  // count_refs: also count references per block and check that a writable
  // pointer of a VDI's current tree is the block's only reference (check).
  Walker(StoreImpl* store, uint64_t file_size, bool count_refs);

  // Walks every live VDI of registry: heads, snapshots and logs.
  void WalkAll(const std::vector<Slot>& registry);
  // Walks one tree from a tagged root pointer; head says its writable bits count.
  void WalkTree(const std::string& owner, uint64_t root, bool head);

  Kind kind(uint64_t block) const { return block < kinds_.size() ? Kind(kinds_[block]) : kUnused; }
  uint64_t used() const { return used_; }
  const std::vector<std::string>& errors() const { return errors_; }
  std::vector<std::string>& errors() { return errors_; }
  // After the walk: writable pointers whose block has other references.
  void CheckWritable();

 private:
  // Records one reference to block as kind; true if it is new and sound.
  bool Visit(const std::string& owner, uint64_t block, Kind kind);
  void WalkNode(const std::string& owner, int level, uint64_t block, bool writable);

  StoreImpl* store_;
  uint64_t file_blocks_;
  bool count_refs_;
  std::vector<uint8_t> kinds_;
  std::vector<uint8_t> refs_;  // saturating
  std::vector<std::pair<uint64_t, std::string>> writable_;
  std::vector<std::string> errors_;
  uint64_t used_ = 0;
};

}  // namespace ssiuml::plx
