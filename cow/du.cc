// Store::Du: what each VDI's current state costs. A block reached through
// writable pointers only is private to the VDI; anything else is shared with
// a snapshot or another VDI.
#include <functional>

#include "cow/store_impl.h"

namespace ssiuml::plx {

Status StoreImpl::Du(std::vector<DuInfo>* du) {
  MetaLock meta(this);
  if (!meta.status().ok()) return meta.status();
  if (Status s = FlushOpenAndReload(); !s.ok()) return s;
  du->clear();
  for (const Slot& slot : registry_) {
    if (!slot.used || slot.rec.flags != kVdiLive) continue;
    DuInfo info;
    info.name = slot.rec.name;
    std::function<Status(int, uint64_t, bool)> walk = [&](int level, uint64_t block, bool w) -> Status {
      if (w) info.private_nodes++;
      std::shared_ptr<const Node> node;
      Status s = ReadNode(block, &node);
      if (!s.ok()) return Status::Corruption(info.name + ": " + s.message());
      for (uint64_t p : node->e) {
        if (p == 0) continue;
        bool pw = w && PtrWritable(p);
        if (level + 1 < kTreeLevels) {
          s = walk(level + 1, PtrBlock(p), pw);
          if (!s.ok()) return s;
          continue;
        }
        s = CheckBlock(PtrBlock(p), info.name);
        if (!s.ok()) return s;
        info.mapped++;
        (pw ? info.private_data : info.shared_data)++;
      }
      return Status::OK();
    };
    if (slot.rec.root != 0) {
      Status s = walk(0, PtrBlock(slot.rec.root), PtrWritable(slot.rec.root));
      if (!s.ok()) return s;
    }
    du->push_back(std::move(info));
  }
  return Status::OK();
}

}  // namespace ssiuml::plx
