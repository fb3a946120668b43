// VdiImpl: one VDI's radix tree, its reads, writes, flushes and snapshots.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "cow/store_impl.h"

namespace ssiuml::plx {
namespace {

uint32_t Index(uint64_t addr, int level) {
  return static_cast<uint32_t>(addr >> (kFanoutBits * (kTreeLevels - 1 - level))) & (kFanout - 1);
}

// Whether every byte of a block, in pieces of at most a block, is zero.
bool IsZeroBlock(const std::vector<iovec>& pieces) {
  static const char zero[kBlockSize] = {};
  for (const iovec& p : pieces)
    if (std::memcmp(p.iov_base, zero, p.iov_len) != 0) return false;
  return true;
}

// Hands out consecutive byte ranges of a list of buffers as lists of pieces.
class BufferCursor {
 public:
  explicit BufferCursor(std::span<const iovec> bufs) : bufs_(bufs) {}
  // The next len bytes, in pieces.
  const std::vector<iovec>& Take(size_t len) {
    pieces_.clear();
    while (len > 0 && index_ < bufs_.size()) {
      const iovec& b = bufs_[index_];
      size_t n = std::min(len, b.iov_len - used_);
      if (n > 0) pieces_.push_back({static_cast<char*>(b.iov_base) + used_, n});
      len -= n;
      used_ += n;
      if (used_ == b.iov_len) {
        ++index_;
        used_ = 0;
      }
    }
    return pieces_;
  }

 private:
  std::span<const iovec> bufs_;
  size_t index_ = 0;
  size_t used_ = 0;
  std::vector<iovec> pieces_;
};

Status CheckRange(uint64_t offset, size_t len, uint64_t size, const std::string& name) {
  if (offset % kBlockSize != 0 || len % kBlockSize != 0)
    return Status::InvalidArgument("I/O on " + name + " must be aligned to 4096 bytes");
  if (offset > size || len > size - offset)
    return Status::InvalidArgument("I/O past the end of " + name + " (" + std::to_string(size) +
                                   " bytes)");
  return Status::OK();
}

}  // namespace

VdiImpl::VdiImpl(StoreImpl* store, uint32_t slot, const Slot& s, std::unique_ptr<Ownership> owner,
                 std::unique_ptr<FileLock> lock, std::vector<LogRecord> snaps)
    : store_(store),
      slot_(slot),
      name_(s.rec.name),
      read_only_(false),
      owner_(std::move(owner)),
      lock_(std::move(lock)),
      rec_(s.rec),
      half_(s.half),
      root_(s.rec.root),
      size_(s.rec.size),
      snaps_(std::move(snaps)) {}

VdiImpl::VdiImpl(StoreImpl* store, std::string name, const LogRecord& snap)
    : store_(store),
      name_(std::move(name)),
      read_only_(true),
      root_(MakePtr(snap.root, false)),
      size_(snap.size) {}

VdiImpl::~VdiImpl() {
  if (read_only_ || !broken_.ok()) return;
  std::unique_lock<std::shared_mutex> lock(mu_);
  Status s = FlushLocked();
  if (!s.ok()) spdlog::warn("closing VDI {}: {}", name_, s.ToString());
}

uint64_t VdiImpl::size() const { return size_; }

Status VdiImpl::Fail(Status s) {
  if (broken_.ok())
    broken_ = Status::IOError(name_ + " failed to flush (" + s.message() +
                              "); reopen the store to recover the last flushed state");
  return s;
}

Status VdiImpl::Usable() const {
  if (!broken_.ok()) return broken_;
  // Past the ownership's end another process may own the VDI: nothing of
  // ours may reach the store any more, and our tree may be stale.
  return owner_ ? owner_->Check() : Status::OK();
}

Status VdiImpl::GetNode(uint64_t block, const Node** node, std::shared_ptr<const Node>* hold) {
  auto it = dirty_.find(block);
  if (it != dirty_.end()) {
    *node = it->second.get();
    return Status::OK();
  }
  Status s = store_->ReadNode(block, hold);
  if (!s.ok()) return Status(s.IsCorruption() ? Status::Corruption(name_ + ": " + s.message()) : s);
  *node = hold->get();
  return Status::OK();
}

Status VdiImpl::Lookup(uint64_t addr, uint64_t* entry, bool* writable) {
  uint64_t p = root_;
  bool w = PtrWritable(p);
  for (int level = 0; level < kTreeLevels && p != 0; level++) {
    const Node* node;
    std::shared_ptr<const Node> hold;
    Status s = GetNode(PtrBlock(p), &node, &hold);
    if (!s.ok()) return s;
    p = node->e[Index(addr, level)];
    w = w && PtrWritable(p);
  }
  if (p != 0) {
    Status s = store_->CheckBlock(PtrBlock(p), name_);
    if (!s.ok()) return s;
  }
  *entry = p;
  *writable = w && p != 0;
  return Status::OK();
}

Status VdiImpl::NewNode(const Node* copy_from, bool clear_writable, uint64_t* block, Node** node) {
  std::vector<uint64_t> ids;
  Status s = store_->allocator().Allocate(1, &ids);
  if (!s.ok()) return s;
  auto n = std::make_unique<Node>();
  if (copy_from == nullptr) {
    std::memset(n.get(), 0, sizeof(Node));
  } else {
    *n = *copy_from;
    if (clear_writable)
      for (uint64_t& e : n->e) e &= ~uint64_t{1};
    stats_.nodes_copied++;
  }
  *block = ids[0];
  *node = n.get();
  dirty_[ids[0]] = std::move(n);
  return Status::OK();
}

Status VdiImpl::MutableLeaf(uint64_t addr, Node** leaf) {
  // The root field belongs to this VDI, so the path starts writable.
  uint64_t* ptr = &root_;
  bool w = true;
  Node* node = nullptr;
  for (int level = 0; level < kTreeLevels; level++) {
    uint64_t p = *ptr;
    uint64_t block = 0;
    if (p == 0) {
      Status s = NewNode(nullptr, false, &block, &node);
      if (!s.ok()) return s;
    } else {
      bool private_node = w && PtrWritable(p);
      auto it = dirty_.find(PtrBlock(p));
      if (private_node && it != dirty_.end()) {
        node = it->second.get();
        block = PtrBlock(p);
      } else {
        const Node* old;
        std::shared_ptr<const Node> hold;
        Status s = GetNode(PtrBlock(p), &old, &hold);
        if (!s.ok()) return s;
        // A committed node of ours is shadowed, never overwritten: the
        // committed tree must survive a crash until the next commit. A shared
        // node is copied with its children's writable bits cleared.
        s = NewNode(old, !private_node, &block, &node);
        if (!s.ok()) return s;
        if (private_node) pending_free_.push_back(PtrBlock(p));
      }
    }
    *ptr = MakePtr(block, true);
    w = true;
    ptr = &node->e[Index(addr, level)];
  }
  *leaf = node;
  return Status::OK();
}

Status VdiImpl::SetEntryLocked(uint64_t addr, uint64_t target) {
  Node* leaf;
  Status s = MutableLeaf(addr, &leaf);
  if (!s.ok()) return s;
  uint64_t& e = leaf->e[Index(addr, kTreeLevels - 1)];
  // After MutableLeaf the entry's own bit tells whether this VDI owned it.
  if (e != 0 && PtrWritable(e) && PtrBlock(e) != PtrBlock(target)) pending_free_.push_back(PtrBlock(e));
  e = target;
  return Status::OK();
}

Status VdiImpl::ReadV(uint64_t offset, std::span<const iovec> bufs) {
  size_t len = 0;
  for (const iovec& b : bufs) len += b.iov_len;
  Status s = CheckRange(offset, len, size_, name_);
  if (!s.ok()) return s;
  std::shared_lock<std::shared_mutex> lock(mu_);
  s = Usable();
  if (!s.ok()) return s;
  size_t n = len / kBlockSize;
  uint64_t first = offset / kBlockSize;
  std::vector<uint64_t> phys(n);
  for (size_t i = 0; i < n; i++) {
    uint64_t e;
    bool w;
    s = Lookup(first + i, &e, &w);
    if (!s.ok()) return s;
    phys[i] = PtrBlock(e);
  }
  // One read per run of consecutive blocks, straight into the buffers.
  BufferCursor cursor(bufs);
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    if (phys[i] == 0) {
      while (j < n && phys[j] == 0) j++;
      for (const iovec& piece : cursor.Take((j - i) * kBlockSize)) std::memset(piece.iov_base, 0, piece.iov_len);
    } else {
      while (j < n && phys[j] == phys[j - 1] + 1) j++;
      s = store_->ReadBlocks(phys[i], cursor.Take((j - i) * kBlockSize));
      if (!s.ok()) return s;
    }
    i = j;
  }
  stats_.read_requests++;
  stats_.blocks_read += n;
  return Status::OK();
}

// The buffers are the guest's own pages, written from where they are. A guest
// that changes a block while writing it gets either content: the store stays
// consistent whichever it was, as with a real disk.
Status VdiImpl::WriteV(uint64_t offset, std::span<const iovec> bufs) {
  if (read_only_)
    return Status::NotSupported(name_ + " is a snapshot and read-only; clone it with plx vdi create NEW --from " +
                                name_);
  size_t len = 0;
  for (const iovec& b : bufs) len += b.iov_len;
  Status s = CheckRange(offset, len, size_, name_);
  if (!s.ok()) return s;
  std::unique_lock<std::shared_mutex> lock(mu_);
  s = Usable();
  if (!s.ok()) return s;
  size_t n = len / kBlockSize;
  uint64_t first = offset / kBlockSize;
  std::vector<uint64_t> phys(n, 0);  // where each block goes; 0: nothing to write
  std::vector<size_t> fresh;          // blocks that need a new data block
  std::vector<size_t> unmap;          // zero blocks that are mapped now
  BufferCursor blocks(bufs);
  for (size_t i = 0; i < n; i++) {
    uint64_t e;
    bool w;
    s = Lookup(first + i, &e, &w);
    if (!s.ok()) return s;
    if (IsZeroBlock(blocks.Take(kBlockSize))) {
      if (e != 0) unmap.push_back(i);
    } else if (w) {
      phys[i] = PtrBlock(e);
    } else {
      fresh.push_back(i);
    }
  }
  std::vector<uint64_t> ids;
  if (!fresh.empty()) {
    s = store_->allocator().Allocate(fresh.size(), &ids);
    if (!s.ok()) return s;
    for (size_t k = 0; k < fresh.size(); k++) phys[fresh[k]] = ids[k];
  }
  // Data first, then the mapping: a failed write changes no mapping, and a
  // new mapping never shows a block before its data is there.
  BufferCursor cursor(bufs);
  for (size_t i = 0; i < n && s.ok();) {
    size_t j = i + 1;
    if (phys[i] != 0) {
      while (j < n && phys[j] == phys[j - 1] + 1) j++;
      s = store_->WriteData(phys[i], cursor.Take((j - i) * kBlockSize));
    } else {
      cursor.Take(kBlockSize);
    }
    i = j;
  }
  if (!s.ok()) {
    for (uint64_t id : ids) store_->allocator().Free(id);
    return s;
  }
  for (size_t k = 0; k < fresh.size() && s.ok(); k++)
    s = SetEntryLocked(first + fresh[k], MakePtr(ids[k], true));
  for (size_t i : unmap)
    if (s.ok()) s = SetEntryLocked(first + i, 0);
  if (!s.ok()) return s;
  stats_.blocks_allocated += fresh.size();
  unsynced_ = true;
  stats_.write_requests++;
  stats_.blocks_written += n;
  return Status::OK();
}

Status VdiImpl::WriteDirtyNodes() {
  std::vector<uint64_t> blocks;
  blocks.reserve(dirty_.size());
  for (const auto& kv : dirty_) blocks.push_back(kv.first);
  std::sort(blocks.begin(), blocks.end());
  std::string run;
  for (size_t i = 0; i < blocks.size();) {
    size_t j = i;
    run.clear();
    do {
      run.append(reinterpret_cast<const char*>(dirty_[blocks[j]].get()), kBlockSize);
      j++;
    } while (j < blocks.size() && blocks[j] == blocks[j - 1] + 1);
    Status s = store_->WriteBlocks(blocks[i], run);
    if (!s.ok()) return s;
    i = j;
  }
  return Status::OK();
}

Status VdiImpl::CommitRecordLocked(VdiRecord rec) {
  Status s = Usable();  // the last gate before a record another owner would lose
  if (!s.ok()) return s;
  s = store_->WriteRecord(slot_, &half_, &rec);
  if (s.ok()) s = store_->Sync();
  if (!s.ok()) return Fail(s);
  rec_ = rec;
  return Status::OK();
}

// Ordering (FORMAT.md, "Crash safety"): data and new nodes, then the bitmaps
// that allocate them, sync; then the record that points at the new root,
// sync; only then may the blocks the old root used be reused.
Status VdiImpl::FlushLocked() {
  if (read_only_) return Status::OK();
  Status s = Usable();
  if (!s.ok()) return s;
  bool record = root_ != rec_.root || size_ != rec_.size;
  if (!record && !unsynced_ && dirty_.empty()) return Status::OK();
  s = WriteDirtyNodes();
  if (s.ok()) s = store_->allocator().WriteDirty();
  if (s.ok()) s = store_->Sync();
  if (!s.ok()) return Fail(s);
  if (record) {
    VdiRecord rec = rec_;
    rec.root = root_;
    rec.size = size_;
    s = CommitRecordLocked(rec);
    if (!s.ok()) return s;
  }
  for (auto& [block, node] : dirty_) store_->cache().Put(block, std::shared_ptr<const Node>(std::move(node)));
  dirty_.clear();
  for (uint64_t block : pending_free_) {
    store_->cache().Erase(block);
    store_->allocator().Free(block);
  }
  pending_free_.clear();
  unsynced_ = false;
  stats_.flushes++;
  return Status::OK();
}

Status VdiImpl::Flush() {
  std::unique_lock<std::shared_mutex> lock(mu_);
  return FlushLocked();
}

Status VdiImpl::Resize(uint64_t size) {
  if (read_only_) return Status::NotSupported(name_ + " is a snapshot and read-only");
  if (size % kBlockSize != 0 || size > kMaxVdiBytes)
    return Status::InvalidArgument("VDI size must be a multiple of 4096 and at most 512 GiB");
  std::unique_lock<std::shared_mutex> lock(mu_);
  GrowLocked(size);
  return Status::OK();
}

Status VdiImpl::Snapshot(const std::string& name, SnapshotInfo* info) {
  if (read_only_) return Status::NotSupported(name_ + " is already a snapshot");
  return store_->SnapshotVdi(this, name, info);
}

Status VdiImpl::SnapshotLocked(const std::string& name, LogRecord* out) {
  if (Status s = Usable(); !s.ok()) return s;
  std::string snap = name.empty() ? "snap" + std::to_string(rec_.next_snap) : name;
  if (!ValidName(snap, kMaxSnapName))
    return Status::InvalidArgument("invalid snapshot name '" + snap +
                                   "': use letters, digits, '.', '_' and '-', at most 87");
  for (const LogRecord& r : snaps_)
    if (r.name == snap)
      return Status::InvalidArgument(name_ + " already has a snapshot named " + snap +
                                     "; pick another name");
  Status s = FlushLocked();
  if (!s.ok()) return s;
  LogRecord entry;
  entry.type = kLogSnap;
  entry.snap_id = rec_.next_snap;
  entry.time_us = store_->env()->NowMicros();
  entry.root = PtrBlock(root_);
  entry.size = size_;
  entry.name = snap;
  uint64_t tail = 0, replaced = 0;
  s = store_->AppendLog(rec_, entry, &tail, &replaced);
  if (s.ok()) s = store_->allocator().WriteDirty();
  if (s.ok()) s = store_->Sync();
  if (!s.ok()) return Fail(s);
  VdiRecord rec = rec_;
  rec.log_tail = tail;
  rec.next_snap++;
  // O(1): the frozen root is now shared, so the next write copies it.
  rec.root = root_ & ~uint64_t{1};
  s = CommitRecordLocked(rec);
  if (!s.ok()) return s;
  root_ = rec.root;
  if (replaced != 0) store_->allocator().Free(replaced);
  snaps_.push_back(entry);
  *out = entry;
  return Status::OK();
}

Status VdiImpl::DeleteSnapshotLocked(uint64_t id) {
  if (Status s = Usable(); !s.ok()) return s;
  LogRecord entry;
  entry.type = kLogDelete;
  entry.snap_id = id;
  entry.time_us = store_->env()->NowMicros();
  uint64_t tail = 0, replaced = 0;
  Status s = store_->AppendLog(rec_, entry, &tail, &replaced);
  if (s.ok()) s = store_->allocator().WriteDirty();
  if (s.ok()) s = store_->Sync();
  if (!s.ok()) return Fail(s);
  VdiRecord rec = rec_;
  rec.log_tail = tail;
  s = CommitRecordLocked(rec);
  if (!s.ok()) return s;
  if (replaced != 0) store_->allocator().Free(replaced);
  std::erase_if(snaps_, [id](const LogRecord& r) { return r.snap_id == id; });
  return Status::OK();
}

Status VdiImpl::ReplaceRootLocked(uint64_t root, uint64_t size, uint64_t origin_uid,
                                  uint64_t origin_snap) {
  VdiRecord rec = rec_;
  rec.root = root;
  rec.size = size;
  rec.origin_uid = origin_uid;
  rec.origin_snap = origin_snap;
  Status s = CommitRecordLocked(rec);
  if (!s.ok()) return s;
  root_ = root;
  size_ = size;
  return Status::OK();
}

VdiStats VdiImpl::Stats() const {
  VdiStats st;
  st.read_requests = stats_.read_requests;
  st.write_requests = stats_.write_requests;
  st.blocks_read = stats_.blocks_read;
  st.blocks_written = stats_.blocks_written;
  st.blocks_allocated = stats_.blocks_allocated;
  st.nodes_copied = stats_.nodes_copied;
  st.flushes = stats_.flushes;
  return st;
}

}  // namespace ssiuml::plx
