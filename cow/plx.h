// libplx: a Parallax-style copy-on-write blockstore. One store file holds
// every disk (VDI) of a cluster; VDIs are cloned from snapshots and share
// their unchanged blocks. The on-disk format and the crash-safety ordering
// are described in cow/FORMAT.md.
//
// Thread safety: a Store and its Vdis may be used from any number of
// threads. Across processes, a VDI is open for writing in at most one
// process (a lock beside the store, STORE.lock, and the cluster's lock
// server when StoreOptions::owners is given: cow/ownership.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "cow/ownership.h"

namespace ssiuml::plx {

// The unit of every VDI read and write, of allocation and of sharing.
constexpr uint32_t kBlockSize = 4096;

struct SnapshotInfo {
  uint64_t id = 0;
  uint64_t time_us = 0;
  uint64_t size = 0;
  std::string name;
};

struct VdiInfo {
  std::string name;
  uint64_t uid = 0;
  uint64_t size = 0;
  uint64_t created_us = 0;
  std::string origin;  // "VDI@SNAP" it was cloned from, "" if none
  uint64_t origin_uid = 0;
  uint64_t origin_snap = 0;
  size_t snapshots = 0;
};

// Counters of one open VDI since it was opened.
struct VdiStats {
  uint64_t read_requests = 0;
  uint64_t write_requests = 0;
  uint64_t blocks_read = 0;
  uint64_t blocks_written = 0;
  uint64_t blocks_allocated = 0;  // new data blocks (copy-on-write or first write)
  uint64_t nodes_copied = 0;      // tree nodes copied on write
  uint64_t flushes = 0;
};

// Blocks a VDI's current state uses.
struct DuInfo {
  std::string name;
  uint64_t mapped = 0;   // data blocks that are not zero
  uint64_t private_data = 0;   // data blocks only this VDI references
  uint64_t shared_data = 0;    // data blocks shared with snapshots or other VDIs
  uint64_t private_nodes = 0;  // tree nodes only this VDI references
};

struct CheckReport {
  std::vector<std::string> errors;  // corruption; empty means the store is sound
  std::vector<std::string> notes;   // harmless findings (leaked blocks, torn copies)
  uint64_t blocks_used = 0;         // referenced by a live VDI or snapshot
  uint64_t blocks_leaked = 0;       // allocated but unreferenced: plx gc reclaims them
  uint64_t extents = 0;
};

struct GcResult {
  uint64_t blocks_freed = 0;
  uint64_t blocks_used = 0;
  uint64_t extents_swept = 0;
  uint64_t extents_skipped = 0;  // leased by another process
};

struct CommitResult {
  uint64_t blocks_merged = 0;
  uint64_t blocks_freed = 0;
  std::string snapshot;  // base snapshot the clone now starts from, "BASE@SNAP"
};

// One VDI, or a read-only view of one of its snapshots ("VDI@SNAP").
// Offsets and lengths are multiples of kBlockSize (4096). Writes of all-zero
// blocks unmap them: zero blocks are never stored.
class Vdi {
 public:
  virtual ~Vdi() = default;
  virtual const std::string& name() const = 0;
  virtual uint64_t size() const = 0;
  virtual bool read_only() const = 0;
  // Reads into bufs in turn (a guest's scattered pages, say), len = their total.
  virtual Status ReadV(uint64_t offset, std::span<const iovec> bufs) = 0;
  Status Read(uint64_t offset, size_t len, char* buf) {
    const iovec one{buf, len};
    return ReadV(offset, {&one, 1});
  }
  // Writes bufs in turn (a guest's scattered pages), len = their total.
  virtual Status WriteV(uint64_t offset, std::span<const iovec> bufs) = 0;
  Status Write(uint64_t offset, std::string_view data) {
    const iovec one{const_cast<char*>(data.data()), data.size()};
    return WriteV(offset, {&one, 1});
  }
  // Makes every write that returned before the call durable.
  virtual Status Flush() = 0;
  // Grows (never shrinks) the VDI.
  virtual Status Resize(uint64_t size) = 0;
  // A live snapshot: flushes, then freezes the current state as NAME (empty:
  // "snap<ID>"). O(1): later writes copy what they change.
  virtual Status Snapshot(const std::string& name, SnapshotInfo* info) = 0;
  virtual VdiStats Stats() const = 0;
};

struct StoreOptions {
  Env* env = nullptr;  // Env::Default() when null
  // Clean tree nodes kept in memory, shared by all VDIs of the store.
  size_t node_cache_blocks = 32768;
  // Cluster-wide VDI write ownership (the lock server), taken besides
  // STORE.lock; null: STORE.lock alone. Must outlive the store.
  OwnershipService* owners = nullptr;
};

struct MkfsOptions {
  Env* env = nullptr;
  uint32_t max_vdis = 1024;
};

class Store {
 public:
  // Creates a new, empty store file; fails if path already exists.
  static Status Mkfs(const std::string& path, const MkfsOptions& options);
  static Status Open(const std::string& path, const StoreOptions& options,
                     std::unique_ptr<Store>* store);
  // REQUIRES: every Vdi of this store has been released.
  virtual ~Store() = default;

  // A new VDI: empty of the given size, or a clone of "VDI@SNAP" (size 0
  // then means the snapshot's size). A clone costs one registry block.
  virtual Status CreateVdi(const std::string& name, uint64_t size, const std::string& from) = 0;
  // "NAME" opens the VDI for writing (Busy if another process has it open,
  // naming it when the lock server knows; the same object if this process
  // has; once its ownership is lost, every I/O fails until it is closed and
  // opened again); "NAME@SNAP" a read-only view of a
  // snapshot, by name or id. A view takes no lock: deleting its snapshot and
  // running Gc while it is open leaves it reading reclaimed blocks.
  virtual Status OpenVdi(const std::string& spec, std::shared_ptr<Vdi>* vdi) = 0;
  virtual Status ListVdis(std::vector<VdiInfo>* vdis) = 0;
  virtual Status ListSnapshots(const std::string& vdi, std::vector<SnapshotInfo>* snaps) = 0;
  // "NAME" deletes a VDI and its snapshots, "NAME@SNAP" one snapshot. The
  // blocks are reclaimed by Gc. Clones of deleted snapshots stay valid.
  virtual Status Delete(const std::string& spec) = 0;
  // Merges a clone's changes into the VDI it was cloned from, snapshots that
  // VDI, and renews the clone as an empty clone of the new snapshot. The
  // clone then reads as the merged base does: as before, unless the base was
  // itself written since the clone's snapshot. Its old tree leaves the store.
  virtual Status Commit(const std::string& clone, CommitResult* result) = 0;
  // Graphviz dot of VDIs and the snapshots they were cloned from.
  virtual Status Tree(std::string* dot) = 0;
  virtual Status Du(std::vector<DuInfo>* du) = 0;
  // Verifies every structure; Status is not OK only if the check itself
  // could not run. Corruption is listed in report->errors.
  virtual Status Check(CheckReport* report) = 0;
  // Reclaims blocks no live VDI or snapshot references and rebuilds lost
  // extent bitmaps.
  virtual Status Gc(GcResult* result) = 0;
};

}  // namespace ssiuml::plx
