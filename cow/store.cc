// StoreImpl: opening a store, the VDI registry, snapshot logs, and the
// metadata operations (create, open, list, delete, tree).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <set>

#include "cow/store_impl.h"

namespace ssiuml::plx {

Status Store::Mkfs(const std::string& path, const MkfsOptions& options) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  if (env->FileExists(path))
    return Status::InvalidArgument(path + " already exists; remove it first or choose another path");
  if (options.max_vdis == 0 || options.max_vdis > (1u << 20))
    return Status::InvalidArgument("--max-vdis must be between 1 and 1048576");
  std::unique_ptr<RandomRWFile> file;
  Status s = env->OpenRandomRW(path, true, &file);
  if (!s.ok()) return s;
  Superblock sb;
  sb.seq = 1;
  sb.max_vdis = options.max_vdis;
  sb.registry_start = 1;
  sb.extent_start = 1 + options.max_vdis;
  sb.extent_count = 1;
  sb.store_uid = std::random_device()() | uint64_t{std::random_device()()} << 32;
  sb.created_us = env->NowMicros();
  std::vector<char> block(kBlockSize);
  std::vector<uint8_t> bits(kBitmapBytes);
  Allocator::InitialBitmap(bits.data());
  EncodeBitmap(BitmapHeader{1, 0}, bits.data(), block.data());
  s = file->Write(sb.extent_start * kBlockSize, std::string_view(block.data(), kBlockSize));
  if (s.ok()) s = file->Truncate((sb.extent_start + 2) * kBlockSize);
  EncodeSuperblock(sb, block.data());
  EncodeSuperblock(sb, block.data() + kHalfBlock);
  if (s.ok()) s = file->Write(0, std::string_view(block.data(), kBlockSize));
  if (s.ok()) s = file->Sync();
  return s;
}

Status Store::Open(const std::string& path, const StoreOptions& options,
                   std::unique_ptr<Store>* store) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  std::unique_ptr<RandomRWFile> file;
  Status s = env->OpenRandomRW(path, false, &file);
  if (s.IsNotFound()) return Status::NotFound("no store at " + path + "; create one with plx mkfs " + path);
  if (!s.ok()) return s;
  auto impl = std::make_unique<StoreImpl>(env, path, std::move(file), options);
  s = impl->Init();
  if (!s.ok()) return s;
  *store = std::move(impl);
  return Status::OK();
}

StoreImpl::StoreImpl(Env* env, std::string path, std::unique_ptr<RandomRWFile> file,
                     const StoreOptions& options)
    : env_(env),
      owners_(options.owners),
      path_(std::move(path)),
      lock_path_(path_ + ".lock"),
      file_(std::move(file)),
      cache_(options.node_cache_blocks) {}

StoreImpl::~StoreImpl() = default;

Status StoreImpl::Init() {
  Status s = LoadSuperblock();
  if (!s.ok()) return s;
  uint64_t size = 0;
  s = file_->Size(&size);
  if (!s.ok()) return s;
  uint64_t need = (sb_.ExtentFirstBlock(sb_.extent_count - 1) + 2) * kBlockSize;
  if (sb_.extent_count == 0 || size < need)
    return Status::Corruption(path_ + " is truncated (" + std::to_string(size) + " bytes, its superblock needs " +
                              std::to_string(need) + "); restore it from a copy");
  alloc_ = std::make_unique<Allocator>(
      env_, file_.get(), lock_path_, sb_.extent_start, [this] { return extent_count_.load(); },
      [this](uint64_t* extent) { return Grow(extent); });
  return Status::OK();
}

Status StoreImpl::LoadSuperblock() {
  std::vector<char> block(kBlockSize, 0);
  size_t got = 0;
  Status s = file_->Read(0, kBlockSize, block.data(), &got);
  if (!s.ok()) return s;
  if (got < kBlockSize) return Status::Corruption(path_ + " is not a plx store (too short); create one with plx mkfs");
  Superblock sb[2];
  Status st[2];
  for (int i = 0; i < 2; i++) st[i] = DecodeSuperblock(block.data() + i * kHalfBlock, &sb[i]);
  if (!st[0].ok() && !st[1].ok()) {
    if (st[0].message().find("magic") != std::string::npos)
      return Status::Corruption(path_ + " is not a plx store (bad magic); create one with plx mkfs");
    return Status(st[0].IsCorruption() ? Status::Corruption(path_ + ": " + st[0].message())
                                       : Status::NotSupported(path_ + ": " + st[0].message()));
  }
  int best = st[0].ok() && (!st[1].ok() || sb[0].seq >= sb[1].seq) ? 0 : 1;
  std::lock_guard<std::mutex> lock(grow_mu_);
  if (sb_.extent_start != 0 && (sb[best].extent_start != sb_.extent_start || sb[best].max_vdis != sb_.max_vdis))
    return Status::Corruption(path_ + ": superblock geometry changed under us");
  sb_ = sb[best];
  sb_half_ = best;
  extent_count_ = sb_.extent_count;
  return Status::OK();
}

Status StoreImpl::WriteSuperblock(const Superblock& sb) {
  std::vector<char> half(kHalfBlock);
  EncodeSuperblock(sb, half.data());
  int h = 1 - sb_half_;
  Status s = file_->WriteDurable(h * kHalfBlock, std::string_view(half.data(), kHalfBlock));
  if (s.ok()) sb_half_ = h;
  return s;
}

Status StoreImpl::Grow(uint64_t* extent) {
  std::unique_ptr<FileLock> lock;
  Status s = env_->LockFileRange(lock_path_, kGrowLockOffset, true, &lock);
  if (!s.ok()) return s;
  s = LoadSuperblock();  // another process may have grown the store
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> guard(grow_mu_);
  Superblock sb = sb_;
  std::vector<char> block(kBlockSize);
  std::vector<uint8_t> bits(kBitmapBytes);
  Allocator::InitialBitmap(bits.data());
  EncodeBitmap(BitmapHeader{1, sb.extent_count}, bits.data(), block.data());
  // The new extent's bitmap (both copies: the second, zeros, is invalid) is
  // durable before the superblock counts it. Only these two writes are made
  // durable: a sync of the whole file here would write out every block the
  // VDIs wrote since their last flush, inside the guest's request.
  block.resize(2 * kBlockSize);
  s = file_->WriteDurable(sb.ExtentFirstBlock(sb.extent_count) * kBlockSize, std::string_view(block.data(), block.size()));
  sb.seq++;
  sb.extent_count++;
  if (s.ok()) s = WriteSuperblock(sb);
  if (!s.ok()) return s;
  sb_ = sb;
  extent_count_ = sb.extent_count;
  *extent = sb.extent_count - 1;
  spdlog::debug("{}: grew to {} extents", path_, sb.extent_count);
  return Status::OK();
}

bool StoreImpl::IsDataBlock(uint64_t block) const {
  return block >= sb_.extent_start && block < EndBlock() &&
         (block - sb_.extent_start) % kExtentBlocks >= 2;
}

Status StoreImpl::CheckBlock(uint64_t block, std::string_view owner) const {
  if (IsDataBlock(block)) return Status::OK();
  return Status::Corruption(std::string(owner) + ": block pointer " + std::to_string(block) +
                            " is out of range; run plx check");
}

Status StoreImpl::ReadBlocks(uint64_t first, std::span<const iovec> bufs) {
  size_t want = 0, got = 0;
  for (const iovec& b : bufs) want += b.iov_len;
  Status s = file_->ReadV(first * kBlockSize, bufs, &got);
  if (!s.ok()) return s;
  if (got < want)
    return Status::Corruption(path_ + " is truncated: block " + std::to_string(first + got / kBlockSize) +
                              " lies past its end; run plx check");
  return Status::OK();
}

// Write-behind: a guest's FLUSH then finds most of its data on the device
// already, instead of waiting for all of it to be written (~0.3 s for the
// 512 MiB a guest wrote at page-cache speed, here), and the device works
// while the guest does.
constexpr uint64_t kWriteBehindBytes = 8 << 20;

Status StoreImpl::WriteData(uint64_t first, std::span<const iovec> bufs) {
  Status s = file_->WriteV(first * kBlockSize, bufs);
  if (!s.ok()) return s;
  uint64_t len = 0;
  for (const iovec& b : bufs) len += b.iov_len;
  if (written_since_writeback_.fetch_add(len) + len >= kWriteBehindBytes) {
    written_since_writeback_ = 0;
    file_->StartWriteback();
  }
  return Status::OK();
}

Status StoreImpl::ReadNode(uint64_t block, std::shared_ptr<const Node>* node) {
  *node = cache_.Get(block);
  if (*node) return Status::OK();
  Status s = CheckBlock(block, "tree node");
  if (!s.ok()) return s;
  auto n = std::make_shared<Node>();
  s = ReadBlock(block, reinterpret_cast<char*>(n.get()));
  if (!s.ok()) return s;
  cache_.Put(block, n);
  *node = std::move(n);
  return Status::OK();
}

Status StoreImpl::LoadRegistry() {
  Status s = LoadSuperblock();
  if (!s.ok()) return s;
  registry_.clear();
  constexpr uint32_t kBatch = 64;
  std::vector<char> buf(kBatch * kBlockSize);
  for (uint32_t first = 0; first < sb_.max_vdis; first += kBatch) {
    uint32_t n = std::min(kBatch, sb_.max_vdis - first);
    std::fill(buf.begin(), buf.end(), 0);
    size_t got = 0;
    s = file_->Read((sb_.registry_start + first) * kBlockSize, n * kBlockSize, buf.data(), &got);
    if (!s.ok()) return s;
    for (uint32_t i = 0; i < n; i++) {
      Slot slot;
      VdiRecord rec[2];
      Status st[2];
      for (int h = 0; h < 2; h++) st[h] = DecodeVdiRecord(buf.data() + i * kBlockSize + h * kHalfBlock, &rec[h]);
      // Slots are taken lowest first, so the first never-written one ends the scan.
      if (st[0].IsNotFound() && st[1].IsNotFound()) return Status::OK();
      if (st[0].ok() || st[1].ok()) {
        slot.used = true;
        slot.half = st[0].ok() && (!st[1].ok() || rec[0].seq >= rec[1].seq) ? 0 : 1;
        slot.rec = rec[slot.half];
      } else {
        // One copy torn and the other never written is a create that did
        // not finish: the slot is free. Two unreadable copies lost a VDI.
        slot.damaged = st[0].IsCorruption() && st[1].IsCorruption();
      }
      registry_.push_back(std::move(slot));
    }
  }
  return Status::OK();
}

Status StoreImpl::WriteRecord(uint32_t slot, int* half, VdiRecord* rec) {
  VdiRecord r = *rec;
  r.seq++;
  std::vector<char> buf(kHalfBlock);
  EncodeVdiRecord(r, buf.data());
  int h = 1 - *half;
  Status s = file_->Write((sb_.registry_start + slot) * kBlockSize + h * kHalfBlock,
                          std::string_view(buf.data(), kHalfBlock));
  if (!s.ok()) return s;
  *half = h;
  *rec = r;
  return Status::OK();
}

Status StoreImpl::ReadSnapshots(const VdiRecord& rec, std::vector<LogRecord>* snaps,
                                std::vector<uint64_t>* log_blocks) {
  std::vector<LogBlock> chain;
  std::set<uint64_t> seen;
  std::vector<char> buf(kBlockSize);
  for (uint64_t b = rec.log_tail; b != 0;) {
    std::string owner = "snapshot log of " + rec.name;
    Status s = CheckBlock(b, owner);
    if (!s.ok()) return s;
    if (!seen.insert(b).second) return Status::Corruption(owner + " has a cycle at block " + std::to_string(b));
    s = ReadBlock(b, buf.data());
    LogBlock lb;
    if (s.ok()) s = DecodeLogBlock(buf.data(), &lb);
    if (!s.ok()) return Status::Corruption(owner + ", block " + std::to_string(b) + ": " + s.message());
    if (lb.vdi_uid != rec.uid)
      return Status::Corruption(owner + ", block " + std::to_string(b) + " belongs to another VDI");
    if (log_blocks != nullptr) log_blocks->push_back(b);
    b = lb.prev;
    chain.push_back(std::move(lb));
  }
  snaps->clear();
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    for (const LogRecord& r : it->records) {
      if (r.type == kLogSnap) {
        if (r.root != 0) {
          Status s = CheckBlock(r.root, rec.name + "@" + r.name);
          if (!s.ok()) return s;
        }
        snaps->push_back(r);
      } else {
        std::erase_if(*snaps, [&r](const LogRecord& x) { return x.snap_id == r.snap_id; });
      }
    }
  }
  return Status::OK();
}

Status StoreImpl::AppendLog(const VdiRecord& rec, const LogRecord& entry, uint64_t* tail,
                            uint64_t* replaced) {
  LogBlock block;
  block.vdi_uid = rec.uid;
  *replaced = 0;
  std::vector<char> buf(kBlockSize);
  if (rec.log_tail != 0) {
    LogBlock old;
    Status s = CheckBlock(rec.log_tail, "snapshot log of " + rec.name);
    if (s.ok()) s = ReadBlock(rec.log_tail, buf.data());
    if (s.ok()) s = DecodeLogBlock(buf.data(), &old);
    if (!s.ok()) return s;
    if (old.records.size() < kLogRecordsPerBlock) {
      // Log blocks are immutable once committed: copy the tail and add.
      block = std::move(old);
      *replaced = rec.log_tail;
    } else {
      block.prev = rec.log_tail;
    }
  }
  block.records.push_back(entry);
  std::vector<uint64_t> ids;
  Status s = alloc_->Allocate(1, &ids);
  if (!s.ok()) return s;
  EncodeLogBlock(block, buf.data());
  s = WriteBlocks(ids[0], std::string_view(buf.data(), kBlockSize));
  if (!s.ok()) return s;
  *tail = ids[0];
  return Status::OK();
}

int StoreImpl::FindVdi(std::string_view name) const {
  for (size_t i = 0; i < registry_.size(); i++)
    if (registry_[i].used && registry_[i].rec.flags == kVdiLive && registry_[i].rec.name == name)
      return static_cast<int>(i);
  return -1;
}

int StoreImpl::FindVdiByUid(uint64_t uid) const {
  for (size_t i = 0; i < registry_.size(); i++)
    if (registry_[i].used && registry_[i].rec.flags == kVdiLive && registry_[i].rec.uid == uid)
      return static_cast<int>(i);
  return -1;
}

Status StoreImpl::ParseSpec(const std::string& spec, int* slot, std::string* snap) const {
  size_t at = spec.find('@');
  std::string name = spec.substr(0, at);
  *snap = at == std::string::npos ? "" : spec.substr(at + 1);
  if (at != std::string::npos && snap->empty())
    return Status::InvalidArgument("'" + spec + "' names no snapshot; use VDI@SNAP");
  *slot = FindVdi(name);
  if (*slot < 0) return Status::NotFound("no VDI named '" + name + "'; see plx vdi list");
  return Status::OK();
}

Status StoreImpl::FindSnapshot(uint32_t slot, const std::string& snap, LogRecord* out) {
  const VdiRecord& rec = registry_[slot].rec;
  std::vector<LogRecord> snaps;
  Status s = ReadSnapshots(rec, &snaps);
  if (!s.ok()) return s;
  for (const LogRecord& r : snaps)
    if (r.name == snap) {
      *out = r;
      return Status::OK();
    }
  for (const LogRecord& r : snaps)
    if (std::to_string(r.snap_id) == snap) {
      *out = r;
      return Status::OK();
    }
  return Status::NotFound(rec.name + " has no snapshot '" + snap + "'; see plx vdi snaps " + rec.name);
}

std::shared_ptr<VdiImpl> StoreImpl::OpenedLocked(uint32_t slot) {
  std::lock_guard<std::mutex> lock(open_mu_);
  auto it = open_.find(slot);
  return it == open_.end() ? nullptr : it->second.lock();
}

Status StoreImpl::FlushOpenAndReload(HeldStill* held) {
  HeldStill for_now;
  HeldStill& h = held != nullptr ? *held : for_now;
  {
    std::lock_guard<std::mutex> lock(open_mu_);
    for (auto& [slot, weak] : open_)  // a map: in slot order
      if (auto v = weak.lock()) h.vdis.push_back(std::move(v));
  }
  for (const auto& v : h.vdis) {
    h.locks.emplace_back(v->mu());
    Status s = v->FlushLocked();
    if (!s.ok()) return s;
  }
  return LoadRegistry();
}

void StoreImpl::Closed(uint32_t slot) {
  std::lock_guard<std::mutex> lock(open_mu_);
  open_.erase(slot);
  open_cv_.notify_all();
}

Status StoreImpl::OpenForWriteLocked(uint32_t slot, std::shared_ptr<VdiImpl>* vdi) {
  std::unique_lock<std::mutex> lock(open_mu_);
  for (;;) {
    auto it = open_.find(slot);
    if (it == open_.end()) break;
    if ((*vdi = it->second.lock())) return Status::OK();
    open_cv_.wait(lock);  // its last reference is going away; wait for the close
  }
  const Slot& s = registry_[slot];
  std::unique_ptr<Ownership> owner;
  std::unique_ptr<FileLock> file_lock;
  Status st = TakeOwnership(slot, &owner, &file_lock);
  if (st.IsBusy())
    return Status::Busy(st.message() + "; close it there first (or read a snapshot: " + s.rec.name + "@SNAP)");
  if (!st.ok()) return st;
  std::vector<LogRecord> snaps;
  st = ReadSnapshots(s.rec, &snaps);
  if (!st.ok()) return st;
  if (s.rec.root != 0) {
    st = CheckBlock(PtrBlock(s.rec.root), s.rec.name);
    if (!st.ok()) return st;
  }
  std::shared_ptr<VdiImpl> v(new VdiImpl(this, slot, s, std::move(owner), std::move(file_lock), std::move(snaps)),
                             [this](VdiImpl* p) {
                               uint32_t n = p->slot();
                               delete p;
                               Closed(n);
                             });
  open_[slot] = v;
  *vdi = std::move(v);
  return Status::OK();
}

Status StoreImpl::TakeOwnership(uint32_t slot, std::unique_ptr<Ownership>* owner, std::unique_ptr<FileLock>* lock) {
  const std::string& name = registry_[slot].rec.name;
  if (owners_ != nullptr) {
    Status s = owners_->Acquire(sb_.store_uid, name, owner);
    if (!s.ok()) return s;
  }
  // Kept with a lock server too: a plx run without one on this host must
  // not write beside the owner, and a hung owner keeps its VDIs here even
  // after the lock server gave up on it.
  Status s = env_->LockFileRange(lock_path_, kVdiLockBase + slot, false, lock);
  if (s.IsBusy()) s = Status::Busy("VDI " + name + " is open for writing by another process on this host");
  if (!s.ok()) owner->reset();
  return s;
}

Status StoreImpl::CreateVdi(const std::string& name, uint64_t size, const std::string& from) {
  if (!ValidName(name, kMaxVdiName))
    return Status::InvalidArgument("invalid VDI name '" + name +
                                   "': use letters, digits, '.', '_' and '-', at most 127, starting with a letter or digit");
  if (size % kBlockSize != 0 || size > kMaxVdiBytes)
    return Status::InvalidArgument("VDI size must be a multiple of 4096 and at most 512 GiB");
  MetaLock meta(this);
  if (!meta.status().ok()) return meta.status();
  if (FindVdi(name) >= 0)
    return Status::InvalidArgument("VDI " + name + " already exists; pick another name or delete it first");
  VdiRecord rec;
  rec.flags = kVdiLive;
  rec.name = name;
  rec.size = size;
  rec.created_us = env_->NowMicros();
  std::mt19937_64 rng(std::random_device{}() ^ rec.created_us);
  do rec.uid = rng();
  while (rec.uid == 0 || FindVdiByUid(rec.uid) >= 0);
  if (!from.empty()) {
    int src;
    std::string snap;
    Status s = ParseSpec(from, &src, &snap);
    if (!s.ok()) return s;
    if (snap.empty())
      return Status::InvalidArgument("--from needs a snapshot, VDI@SNAP; take one with plx vdi snap " + from);
    LogRecord r;
    s = FindSnapshot(src, snap, &r);
    if (!s.ok()) return s;
    if (size != 0 && size < r.size)
      return Status::InvalidArgument("a clone cannot be smaller than its snapshot (" + std::to_string(r.size) + " bytes)");
    // The clone shares the snapshot's root read-only: creating it writes
    // nothing but its registry record.
    rec.root = r.root == 0 ? 0 : MakePtr(r.root, false);
    rec.size = std::max(size, r.size);
    rec.origin_uid = registry_[src].rec.uid;
    rec.origin_snap = r.snap_id;
  }
  uint32_t slot = 0;
  while (slot < registry_.size() && (registry_[slot].damaged || registry_[slot].rec.flags == kVdiLive)) slot++;
  if (slot >= superblock().max_vdis)
    return Status::InvalidArgument("the store holds its maximum of " + std::to_string(superblock().max_vdis) +
                                   " VDIs; delete unused ones or mkfs a store with a larger --max-vdis");
  Slot fresh;
  if (slot < registry_.size()) fresh = registry_[slot];
  if (!fresh.used) fresh.half = 1;
  rec.seq = fresh.used ? fresh.rec.seq : 0;
  Status s = WriteRecord(slot, &fresh.half, &rec);
  if (s.ok()) s = file_->Sync();
  return s;
}

Status StoreImpl::OpenVdi(const std::string& spec, std::shared_ptr<Vdi>* vdi) {
  MetaLock meta(this);
  if (!meta.status().ok()) return meta.status();
  int slot;
  std::string snap;
  Status s = ParseSpec(spec, &slot, &snap);
  if (!s.ok()) return s;
  if (!snap.empty()) {
    LogRecord r;
    s = FindSnapshot(slot, snap, &r);
    if (!s.ok()) return s;
    *vdi = std::make_shared<VdiImpl>(this, registry_[slot].rec.name + "@" + r.name, r);
    return Status::OK();
  }
  std::shared_ptr<VdiImpl> v;
  s = OpenForWriteLocked(slot, &v);
  if (s.ok()) *vdi = std::move(v);
  return s;
}

Status StoreImpl::SnapshotVdi(VdiImpl* vdi, const std::string& name, SnapshotInfo* info) {
  MetaLock meta(this);
  if (!meta.status().ok()) return meta.status();
  std::unique_lock<std::shared_mutex> lock(vdi->mu());
  LogRecord r;
  Status s = vdi->SnapshotLocked(name, &r);
  if (!s.ok()) return s;
  if (info != nullptr) *info = SnapshotInfo{r.snap_id, r.time_us, r.size, r.name};
  return Status::OK();
}

std::string StoreImpl::OriginName(const VdiRecord& rec) {
  if (rec.origin_uid == 0) return "";
  int src = FindVdiByUid(rec.origin_uid);
  if (src < 0) return "(deleted)@" + std::to_string(rec.origin_snap);
  std::vector<LogRecord> snaps;
  std::string snap = std::to_string(rec.origin_snap);
  if (ReadSnapshots(registry_[src].rec, &snaps).ok())
    for (const LogRecord& r : snaps)
      if (r.snap_id == rec.origin_snap) snap = r.name;
  return registry_[src].rec.name + "@" + snap;
}

Status StoreImpl::ListVdis(std::vector<VdiInfo>* vdis) {
  MetaLock meta(this);
  if (!meta.status().ok()) return meta.status();
  vdis->clear();
  for (const Slot& slot : registry_) {
    if (!slot.used || slot.rec.flags != kVdiLive) continue;
    const VdiRecord& r = slot.rec;
    std::vector<LogRecord> snaps;
    Status s = ReadSnapshots(r, &snaps);
    if (!s.ok()) return s;
    vdis->push_back(VdiInfo{r.name, r.uid, r.size, r.created_us, OriginName(r), r.origin_uid, r.origin_snap,
                            snaps.size()});
  }
  return Status::OK();
}

Status StoreImpl::ListSnapshots(const std::string& vdi, std::vector<SnapshotInfo>* out) {
  MetaLock meta(this);
  if (!meta.status().ok()) return meta.status();
  int slot;
  std::string snap;
  Status s = ParseSpec(vdi, &slot, &snap);
  if (!s.ok()) return s;
  std::vector<LogRecord> snaps;
  s = ReadSnapshots(registry_[slot].rec, &snaps);
  if (!s.ok()) return s;
  out->clear();
  for (const LogRecord& r : snaps) out->push_back(SnapshotInfo{r.snap_id, r.time_us, r.size, r.name});
  return Status::OK();
}

Status StoreImpl::Delete(const std::string& spec) {
  MetaLock meta(this);
  if (!meta.status().ok()) return meta.status();
  int slot;
  std::string snap;
  Status s = ParseSpec(spec, &slot, &snap);
  if (!s.ok()) return s;
  if (!snap.empty()) {
    LogRecord r;
    s = FindSnapshot(slot, snap, &r);
    if (!s.ok()) return s;
    std::shared_ptr<VdiImpl> v;
    s = OpenForWriteLocked(slot, &v);
    if (!s.ok()) return s;
    std::unique_lock<std::shared_mutex> lock(v->mu());
    return v->DeleteSnapshotLocked(r.snap_id);
  }
  if (OpenedLocked(slot) != nullptr)
    return Status::Busy("VDI " + registry_[slot].rec.name + " is open in this process; close it first");
  std::unique_ptr<Ownership> owner;
  std::unique_ptr<FileLock> lock;
  s = TakeOwnership(slot, &owner, &lock);
  if (s.IsBusy()) return Status::Busy(s.message() + "; close it there first");
  if (!s.ok()) return s;
  Slot& sl = registry_[slot];
  VdiRecord rec = sl.rec;
  rec.flags = kVdiDeleted;
  s = WriteRecord(slot, &sl.half, &rec);
  if (s.ok()) s = file_->Sync();
  return s;
}

Status StoreImpl::Tree(std::string* dot) {
  MetaLock meta(this);
  if (!meta.status().ok()) return meta.status();
  std::string out = "digraph plx {\n  rankdir=LR;\n  node [shape=box];\n";
  for (const Slot& slot : registry_) {
    if (!slot.used || slot.rec.flags != kVdiLive) continue;
    const VdiRecord& r = slot.rec;
    std::vector<LogRecord> snaps;
    Status s = ReadSnapshots(r, &snaps);
    if (!s.ok()) return s;
    out += "  \"" + r.name + "\" [label=\"" + r.name + "\\n" + std::to_string(r.size >> 20) + " MiB, " +
           std::to_string(snaps.size()) + (snaps.size() == 1 ? " snapshot" : " snapshots") + "\"];\n";
    if (r.origin_uid == 0) continue;
    std::string origin = OriginName(r);
    std::string parent = origin.substr(0, origin.find('@'));
    if (FindVdiByUid(r.origin_uid) < 0) out += "  \"" + parent + "\" [shape=ellipse, style=dashed];\n";
    out += "  \"" + parent + "\" -> \"" + r.name + "\" [label=\"@" + origin.substr(origin.find('@') + 1) + "\"];\n";
  }
  out += "}\n";
  *dot = std::move(out);
  return Status::OK();
}

}  // namespace ssiuml::plx
