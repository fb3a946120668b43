// The implementation classes behind plx.h. Lock order, outermost first: the
// metadata lock (MetaLock), a VDI's mutex (by slot when several), the
// allocator's mutex, the grow lock. Nothing takes an outer lock while holding
// an inner one.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "cow/allocator.h"
#include "cow/format.h"
#include "cow/node_cache.h"
#include "cow/plx.h"

namespace ssiuml::plx {

class StoreImpl;

// The state of one registry slot as last read.
struct Slot {
  bool used = false;     // holds a valid record, live or deleted
  bool damaged = false;  // both copies unreadable: neither used nor reusable
  int half = 0;       // copy holding rec
  VdiRecord rec;
};

class VdiImpl final : public Vdi {
 public:
  // A VDI open for writing (owned: owner, if any, and lock held) or a
  // read-only view of a snapshot.
  VdiImpl(StoreImpl* store, uint32_t slot, const Slot& s, std::unique_ptr<Ownership> owner,
          std::unique_ptr<FileLock> lock, std::vector<LogRecord> snaps);
  VdiImpl(StoreImpl* store, std::string name, const LogRecord& snap);
  ~VdiImpl() override;

  const std::string& name() const override { return name_; }
  uint64_t size() const override;
  bool read_only() const override { return read_only_; }
  Status ReadV(uint64_t offset, std::span<const iovec> bufs) override;
  Status WriteV(uint64_t offset, std::span<const iovec> bufs) override;
  Status Flush() override;
  Status Resize(uint64_t size) override;
  Status Snapshot(const std::string& name, SnapshotInfo* info) override;
  VdiStats Stats() const override;

  // For Store operations, with the metadata lock held.
  uint32_t slot() const { return slot_; }
  std::shared_mutex& mu() { return mu_; }
  Status FlushLocked();
  Status SnapshotLocked(const std::string& name, LogRecord* rec);
  Status DeleteSnapshotLocked(uint64_t id);
  const VdiRecord& record() const { return rec_; }
  void GrowLocked(uint64_t size) {
    if (size > size_) size_ = size;
  }
  uint64_t root() const { return root_; }
  // Points the block at addr to target (tagged data pointer, 0 = zero),
  // queueing the replaced block for freeing if this VDI owned it.
  Status SetEntryLocked(uint64_t addr, uint64_t target);
  // Writes rec as the VDI's new record and syncs.
  Status CommitRecordLocked(VdiRecord rec);
  // Commit's renewal: replaces the (flushed) tree and origin, durably.
  Status ReplaceRootLocked(uint64_t root, uint64_t size, uint64_t origin_uid, uint64_t origin_snap);

 private:
  // Resolves addr to its leaf entry; *writable says the block may be changed
  // in place.
  Status Lookup(uint64_t addr, uint64_t* entry, bool* writable);
  // A node of the current tree: dirty (new since the last commit) or cached.
  Status GetNode(uint64_t block, const Node** node, std::shared_ptr<const Node>* hold);
  // Makes the path to addr's leaf private and uncommitted, copying nodes.
  Status MutableLeaf(uint64_t addr, Node** leaf);
  Status NewNode(const Node* copy_from, bool clear_writable, uint64_t* block, Node** node);
  Status WriteDirtyNodes();
  Status Fail(Status s);
  // OK unless a flush failed or the ownership was lost.
  Status Usable() const;

  StoreImpl* store_;
  uint32_t slot_ = 0;
  std::string name_;
  bool read_only_;
  std::unique_ptr<Ownership> owner_;  // null: STORE.lock alone, or a view
  std::unique_ptr<FileLock> lock_;

  mutable std::shared_mutex mu_;
  VdiRecord rec_;  // committed record; size and root live below
  int half_ = 0;
  uint64_t root_ = 0;
  std::atomic<uint64_t> size_{0};
  std::vector<LogRecord> snaps_;  // live snapshots, oldest first
  std::unordered_map<uint64_t, std::unique_ptr<Node>> dirty_;
  std::vector<uint64_t> pending_free_;
  bool unsynced_ = false;  // data written in place since the last sync
  Status broken_;          // set after a failed flush: the on-disk state is unknown

  struct Counters {
    std::atomic<uint64_t> read_requests{0}, write_requests{0}, blocks_read{0}, blocks_written{0},
        blocks_allocated{0}, nodes_copied{0}, flushes{0};
  };
  Counters stats_;
};

class StoreImpl final : public Store {
 public:
  StoreImpl(Env* env, std::string path, std::unique_ptr<RandomRWFile> file, const StoreOptions& options);
  ~StoreImpl() override;
  Status Init();

  Status CreateVdi(const std::string& name, uint64_t size, const std::string& from) override;
  Status OpenVdi(const std::string& spec, std::shared_ptr<Vdi>* vdi) override;
  Status ListVdis(std::vector<VdiInfo>* vdis) override;
  Status ListSnapshots(const std::string& vdi, std::vector<SnapshotInfo>* snaps) override;
  Status Delete(const std::string& spec) override;
  Status Commit(const std::string& clone, CommitResult* result) override;
  Status Tree(std::string* dot) override;
  Status Du(std::vector<DuInfo>* du) override;
  Status Check(CheckReport* report) override;
  Status Gc(GcResult* result) override;

  // Block I/O. A short read of a block the store should hold is corruption.
  Status ReadBlock(uint64_t block, char* buf) {
    const iovec one{buf, kBlockSize};
    return ReadBlocks(block, {&one, 1});
  }
  // Reads consecutive blocks from first into bufs, whose total is whole blocks.
  Status ReadBlocks(uint64_t first, std::span<const iovec> bufs);
  // Writes a VDI's data, bufs (whole blocks), to consecutive blocks from
  // first; starts writing the store's dirty data back every few MiB.
  Status WriteData(uint64_t first, std::span<const iovec> bufs);
  // Writes tree nodes or log blocks, data (whole blocks), from block first.
  Status WriteBlocks(uint64_t first, std::string_view data) { return file_->Write(first * kBlockSize, data); }
  Status Sync() { return file_->Sync(); }
  Status ReadNode(uint64_t block, std::shared_ptr<const Node>* node);
  // Corruption unless block can hold data, nodes or logs.
  Status CheckBlock(uint64_t block, std::string_view owner) const;
  // Whether block may hold a tree node, data or a log block.
  bool IsDataBlock(uint64_t block) const;
  uint64_t EndBlock() const { return sb_.ExtentFirstBlock(extent_count_); }
  const Superblock& superblock() const { return sb_; }
  Allocator& allocator() { return *alloc_; }
  NodeCache& cache() { return cache_; }
  Env* env() { return env_; }

  // Writes rec (seq bumped) to the older copy of slot; the caller syncs.
  Status WriteRecord(uint32_t slot, int* half, VdiRecord* rec);
  // The live snapshots recorded in a VDI's log, oldest first.
  // log_blocks, if given, receives the chain's blocks.
  Status ReadSnapshots(const VdiRecord& rec, std::vector<LogRecord>* snaps,
                       std::vector<uint64_t>* log_blocks = nullptr);
  // Appends records to a VDI's log: writes the new tail block and returns it;
  // *replaced is the old tail if it was copied (to free after the commit).
  Status AppendLog(const VdiRecord& rec, const LogRecord& entry, uint64_t* tail, uint64_t* replaced);

  // Vdi::Snapshot: takes the metadata lock, then the VDI's.
  Status SnapshotVdi(VdiImpl* vdi, const std::string& name, SnapshotInfo* info);
  // Removes a VDI from the open table; called by its deleter.
  void Closed(uint32_t slot);

 private:
  class MetaLock;
  Status LoadSuperblock();
  Status LoadRegistry();
  // Writes sb durably over the older of the two copies.
  Status WriteSuperblock(const Superblock& sb);
  Status Grow(uint64_t* extent);
  // Finds a live VDI by name or uid in registry_.
  int FindVdi(std::string_view name) const;
  int FindVdiByUid(uint64_t uid) const;
  Status ParseSpec(const std::string& spec, int* slot, std::string* snap) const;
  Status FindSnapshot(uint32_t slot, const std::string& snap, LogRecord* out);
  // The VDI open for writing in this process, or null.
  std::shared_ptr<VdiImpl> OpenedLocked(uint32_t slot);
  Status OpenForWriteLocked(uint32_t slot, std::shared_ptr<VdiImpl>* vdi);
  // The cluster's ownership of the VDI in slot (if owners_ is set), then
  // this host's byte in STORE.lock. Busy: "VDI NAME is open for writing by
  // WHO", for the caller to add its advice.
  Status TakeOwnership(uint32_t slot, std::unique_ptr<Ownership>* owner, std::unique_ptr<FileLock>* lock);
  // The VDIs this process has open, each locked (taken in slot order) until
  // this is dropped. Locks go first: members are destroyed in reverse.
  struct HeldStill {
    std::vector<std::shared_ptr<VdiImpl>> vdis;
    std::vector<std::unique_lock<std::shared_mutex>> locks;
  };
  // Flushes every VDI this process has open, then reloads the registry, so
  // that a walk sees on disk all that they reference. held, if given, keeps
  // them locked until the caller drops it.
  Status FlushOpenAndReload(HeldStill* held = nullptr);
  std::string OriginName(const VdiRecord& rec);

  Env* env_;
  OwnershipService* owners_;
  std::string path_;
  std::string lock_path_;
  std::unique_ptr<RandomRWFile> file_;
  NodeCache cache_;
  std::unique_ptr<Allocator> alloc_;

  std::mutex meta_mu_;  // in-process half of the metadata lock
  std::mutex grow_mu_;
  Superblock sb_;  // geometry; extent_count and seq are kept current under grow_mu_
  int sb_half_ = 0;  // guarded by grow_mu_
  std::atomic<uint64_t> extent_count_{0};
  std::atomic<uint64_t> written_since_writeback_{0};
  std::vector<Slot> registry_;            // guarded by meta_mu_

  std::mutex open_mu_;
  std::condition_variable open_cv_;
  std::map<uint32_t, std::weak_ptr<VdiImpl>> open_;  // guarded by open_mu_
};

// The metadata lock: serializes registry changes, snapshots, commits and gc
// among the threads of this process and, through STORE.lock, among processes.
class StoreImpl::MetaLock {
 public:
  // Also re-reads the superblock and registry, which other processes change.
  explicit MetaLock(StoreImpl* store) : lock_(store->meta_mu_) {
    status_ = store->env_->LockFileRange(store->lock_path_, kMetaLockOffset, true, &file_);
    if (status_.ok()) status_ = store->LoadRegistry();
  }
  const Status& status() const { return status_; }

 private:
  std::unique_lock<std::mutex> lock_;
  std::unique_ptr<FileLock> file_;
  Status status_;
};

}  // namespace ssiuml::plx
