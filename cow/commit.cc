// Store::Commit: merges a clone's changes into the VDI it was cloned from and
// renews the clone empty (qemu's commit followed by the overlay renewal).
//
// Crash safety comes from three separately durable steps (FORMAT.md):
//   1. the clone's root loses its writable bit, so from now on neither tree
//      owns the changed blocks exclusively;
//   2. the base's tree takes the changed blocks read-only, and is committed;
//   3. the base is snapshotted and the clone re-pointed at that snapshot.
// A crash between steps leaves both VDIs readable and consistent; running
// commit again finishes the job. Only the clone's old tree nodes are freed.
#include <spdlog/spdlog.h>

#include <functional>

#include "cow/store_impl.h"

namespace ssiuml::plx {

Status StoreImpl::Commit(const std::string& clone, CommitResult* result) {
  MetaLock meta(this);
  if (!meta.status().ok()) return meta.status();
  int c_slot;
  std::string snap;
  Status s = ParseSpec(clone, &c_slot, &snap);
  if (!s.ok()) return s;
  if (!snap.empty()) return Status::InvalidArgument("commit takes a VDI, not a snapshot: plx vdi commit VDI");
  VdiRecord c_rec = registry_[c_slot].rec;
  if (c_rec.origin_uid == 0)
    return Status::InvalidArgument(clone + " was not cloned from a snapshot, so there is nothing to commit it into");
  int b_slot = FindVdiByUid(c_rec.origin_uid);
  if (b_slot < 0)
    return Status::NotFound("the VDI " + clone + " was cloned from has been deleted; there is nothing to commit into");
  LogRecord origin;
  s = FindSnapshot(b_slot, std::to_string(c_rec.origin_snap), &origin);
  if (!s.ok())
    return Status::NotFound("the snapshot " + clone + " was cloned from (" + OriginName(c_rec) +
                            ") has been deleted; commit needs it to tell the clone's changes apart");
  std::shared_ptr<VdiImpl> c, b;
  s = OpenForWriteLocked(c_slot, &c);
  if (s.ok()) s = OpenForWriteLocked(b_slot, &b);
  if (!s.ok()) return s;
  std::unique_lock<std::shared_mutex> first(c_slot < b_slot ? c->mu() : b->mu());
  std::unique_lock<std::shared_mutex> second(c_slot < b_slot ? b->mu() : c->mu());
  s = c->FlushLocked();
  if (!s.ok()) return s;

  // Blocks whose mapping differs from the origin snapshot's: the clone's
  // changes. Identical pointers mean a shared, unchanged subtree.
  std::vector<std::pair<uint64_t, uint64_t>> changes;  // address, clone's pointer
  std::vector<uint64_t> private_nodes;
  const Node zero{};
  std::function<Status(int, uint64_t, uint64_t, bool, uint64_t)> diff =
      [&](int level, uint64_t cp, uint64_t sp, bool w, uint64_t base) -> Status {
    if (PtrBlock(cp) == PtrBlock(sp)) return Status::OK();
    std::shared_ptr<const Node> cn, sn;
    if (cp != 0) {
      Status st = ReadNode(PtrBlock(cp), &cn);
      if (!st.ok()) return st;
      if (w) private_nodes.push_back(PtrBlock(cp));
    }
    if (sp != 0) {
      Status st = ReadNode(PtrBlock(sp), &sn);
      if (!st.ok()) return st;
    }
    const Node& cnode = cn ? *cn : zero;
    const Node& snode = sn ? *sn : zero;
    for (uint32_t i = 0; i < kFanout; i++) {
      uint64_t addr = base << kFanoutBits | i;
      if (level + 1 == kTreeLevels) {
        if (PtrBlock(cnode.e[i]) != PtrBlock(snode.e[i])) changes.emplace_back(addr, cnode.e[i]);
      } else {
        Status st = diff(level + 1, cnode.e[i], snode.e[i], w && PtrWritable(cnode.e[i]), addr);
        if (!st.ok()) return st;
      }
    }
    return Status::OK();
  };
  uint64_t c_root = c->root();
  s = diff(0, c_root, origin.root == 0 ? 0 : MakePtr(origin.root, false), PtrWritable(c_root), 0);
  if (!s.ok()) return s;

  // Step 1.
  if (PtrWritable(c_root)) {
    s = c->ReplaceRootLocked(c_root & ~uint64_t{1}, c->size(), c_rec.origin_uid, c_rec.origin_snap);
    if (!s.ok()) return s;
  }
  // Step 2.
  for (const auto& [addr, p] : changes) {
    s = b->SetEntryLocked(addr, p == 0 ? 0 : MakePtr(PtrBlock(p), false));
    if (!s.ok()) return s;
  }
  b->GrowLocked(c->size());
  s = b->FlushLocked();
  if (!s.ok()) return s;
  // Step 3.
  LogRecord renewed;
  s = b->SnapshotLocked(c_rec.name + "-commit" + std::to_string(b->record().next_snap), &renewed);
  if (!s.ok()) return s;
  s = c->ReplaceRootLocked(renewed.root == 0 ? 0 : MakePtr(renewed.root, false), renewed.size, b->record().uid,
                           renewed.snap_id);
  if (!s.ok()) return s;
  for (uint64_t block : private_nodes) {
    cache_.Erase(block);
    alloc_->Free(block);
  }
  result->blocks_merged = changes.size();
  result->blocks_freed = private_nodes.size();
  result->snapshot = b->record().name + "@" + renewed.name;
  spdlog::debug("commit {}: {} blocks merged into {}", clone, changes.size(), result->snapshot);
  return Status::OK();
}

}  // namespace ssiuml::plx
