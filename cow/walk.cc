#include "cow/walk.h"

namespace ssiuml::plx {
namespace {

const char* KindName(Walker::Kind k) {
  switch (k) {
    case Walker::kLevel0: return "a root node";
    case Walker::kLevel1: return "a level-1 node";
    case Walker::kLevel2: return "a leaf node";
    case Walker::kData: return "data";
    case Walker::kLog: return "a snapshot log block";
    case Walker::kUnused: break;
  }
  return "nothing";
}

}  // namespace

Walker::Walker(StoreImpl* store, uint64_t file_size, bool count_refs)
    : store_(store),
      file_blocks_(file_size / kBlockSize),
      count_refs_(count_refs),
      kinds_(store->EndBlock(), kUnused) {
  if (count_refs_) refs_.assign(store->EndBlock(), 0);
}

bool Walker::Visit(const std::string& owner, uint64_t block, Kind kind) {
  if (!store_->IsDataBlock(block)) {
    errors_.push_back(owner + ": pointer to block " + std::to_string(block) + " (" + KindName(kind) +
                      ") is out of range");
    return false;
  }
  if (count_refs_ && refs_[block] < 255) refs_[block]++;
  if (kinds_[block] == kUnused) {
    if (block >= file_blocks_) {
      errors_.push_back(owner + ": block " + std::to_string(block) +
                        " lies past the end of the file (the store is truncated)");
      return false;
    }
    kinds_[block] = kind;
    used_++;
    return true;
  }
  if (kinds_[block] != kind)
    errors_.push_back(owner + ": block " + std::to_string(block) + " is used as both " + KindName(Kind(kinds_[block])) +
                      " and " + KindName(kind) + " (a cycle or cross-linked trees)");
  return false;
}

void Walker::WalkNode(const std::string& owner, int level, uint64_t block, bool writable) {
  std::shared_ptr<const Node> node;
  Status s = store_->ReadNode(block, &node);
  if (!s.ok()) {
    errors_.push_back(owner + ": " + s.message());
    return;
  }
  Kind child = level + 1 < kTreeLevels ? Kind(kLevel0 + level + 1) : kData;
  for (uint64_t p : node->e) {
    if (p == 0) continue;
    uint64_t b = PtrBlock(p);
    bool w = writable && PtrWritable(p);
    if (count_refs_ && w && store_->IsDataBlock(b)) writable_.emplace_back(b, owner);
    if (Visit(owner, b, child) && child != kData) WalkNode(owner, level + 1, b, w);
  }
}

void Walker::WalkTree(const std::string& owner, uint64_t root, bool head) {
  if (root == 0) return;
  uint64_t b = PtrBlock(root);
  bool w = head && PtrWritable(root);
  if (count_refs_ && w && store_->IsDataBlock(b)) writable_.emplace_back(b, owner);
  if (Visit(owner, b, kLevel0)) WalkNode(owner, 0, b, w);
}

void Walker::WalkAll(const std::vector<Slot>& registry) {
  for (size_t i = 0; i < registry.size(); i++) {
    const Slot& slot = registry[i];
    if (slot.damaged) {
      errors_.push_back("registry slot " + std::to_string(i) + ": both copies of its record are unreadable");
      continue;
    }
    if (!slot.used || slot.rec.flags != kVdiLive) continue;
    const VdiRecord& r = slot.rec;
    WalkTree(r.name, r.root, true);
    std::vector<LogRecord> snaps;
    std::vector<uint64_t> log_blocks;
    Status s = store_->ReadSnapshots(r, &snaps, &log_blocks);
    if (!s.ok()) {
      errors_.push_back(s.message());
      continue;
    }
    for (uint64_t b : log_blocks) Visit("snapshot log of " + r.name, b, kLog);
    for (const LogRecord& snap : snaps) WalkTree(r.name + "@" + snap.name, MakePtr(snap.root, false), false);
  }
}

void Walker::CheckWritable() {
  for (const auto& [block, owner] : writable_)
    if (refs_[block] > 1)
      errors_.push_back(owner + ": block " + std::to_string(block) +
                        " is marked writable (private) but has other references");
}

}  // namespace ssiuml::plx
