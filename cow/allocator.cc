#include "cow/allocator.h"

#include <spdlog/spdlog.h>

#include <bit>

namespace ssiuml::plx {
namespace {

bool TestBit(const uint8_t* bits, uint32_t i) { return (bits[i / 8] >> (i % 8)) & 1; }
void SetBit(uint8_t* bits, uint32_t i) { bits[i / 8] |= static_cast<uint8_t>(1u << (i % 8)); }
void ClearBit(uint8_t* bits, uint32_t i) { bits[i / 8] &= static_cast<uint8_t>(~(1u << (i % 8))); }

uint32_t CountFree(const uint8_t* bits) {
  uint32_t used = 0;
  for (uint32_t i = 0; i < kBitmapBytes; i++) used += std::popcount(bits[i]);
  return kExtentBlocks - used;
}

}  // namespace

Allocator::Allocator(Env* env, RandomRWFile* file, std::string lock_path, uint64_t extent_start,
                     ExtentCountFn extent_count, GrowFn grow)
    : env_(env),
      file_(file),
      lock_path_(std::move(lock_path)),
      extent_start_(extent_start),
      extent_count_(std::move(extent_count)),
      grow_(std::move(grow)) {}

void Allocator::InitialBitmap(uint8_t* bits) {
  std::memset(bits, 0, kBitmapBytes);
  SetBit(bits, 0);
  SetBit(bits, 1);
}

Status Allocator::ReadBitmap(RandomRWFile* file, uint64_t extent_start, uint64_t extent,
                             uint8_t* bits, uint64_t* seq, int* slot) {
  std::vector<char> buf(2 * kBlockSize, 0);
  size_t got = 0;
  Status s = file->Read((extent_start + extent * kExtentBlocks) * kBlockSize, buf.size(),
                        buf.data(), &got);
  if (!s.ok()) return s;
  std::vector<uint8_t> other(kBitmapBytes);
  BitmapHeader h[2];
  bool valid[2];
  for (int i = 0; i < 2; i++) {
    valid[i] = DecodeBitmap(buf.data() + i * kBlockSize, &h[i], i == 0 ? bits : other.data()).ok() &&
               h[i].extent == extent;
  }
  if (!valid[0] && !valid[1])
    return Status::Corruption("extent " + std::to_string(extent) +
                              ": both bitmap copies are unreadable; run plx gc to rebuild them");
  int best = (valid[0] && (!valid[1] || h[0].seq >= h[1].seq)) ? 0 : 1;
  if (best == 1) std::memcpy(bits, other.data(), kBitmapBytes);
  *seq = h[best].seq;
  *slot = best;
  return Status::OK();
}

Status Allocator::LeaseLocked(uint64_t extent, bool rebuild, bool temporary) {
  std::unique_ptr<FileLock> lock;
  Status s = env_->LockFileRange(lock_path_, kExtentLockBase + extent, false, &lock);
  if (!s.ok()) return s;
  Extent e;
  e.lease = std::move(lock);
  e.bits.resize(kBitmapBytes);
  e.temporary = temporary;
  s = ReadBitmap(file_, extent_start_, extent, e.bits.data(), &e.seq, &e.slot);
  if (!s.ok()) {
    if (!rebuild || !s.IsCorruption()) return s;
    InitialBitmap(e.bits.data());
    e.seq = 0;
    e.slot = 1;
  }
  e.free = CountFree(e.bits.data());
  leased_[extent] = std::move(e);
  return Status::OK();
}

Status Allocator::Allocate(size_t n, std::vector<uint64_t>* out) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    for (auto& [index, e] : leased_) {
      uint32_t i = e.hint;
      while (n > 0 && e.free > 0) {
        if (i >= kExtentBlocks) i = 2;
        if (e.bits[i / 8] == 0xff) {
          i = (i / 8 + 1) * 8;
          continue;
        }
        if (!TestBit(e.bits.data(), i)) {
          SetBit(e.bits.data(), i);
          e.free--;
          e.dirty = true;
          out->push_back(extent_start_ + index * kExtentBlocks + i);
          n--;
        }
        i++;
      }
      e.hint = i;
      if (n == 0) return Status::OK();
    }
    // Lease another extent with free space, or grow the store.
    uint64_t count = extent_count_();
    bool found = false;
    for (uint64_t k = 0; k < count && !found; k++) {
      uint64_t index = (next_probe_ + k) % count;
      if (leased_.count(index) != 0) continue;
      Status s = LeaseLocked(index, false, false);
      if (s.IsBusy() || s.IsCorruption()) continue;  // another process's, or for gc to rebuild
      if (!s.ok()) return s;
      if (leased_[index].free > 0) {
        found = true;
        next_probe_ = index + 1;
      } else {
        leased_.erase(index);
      }
    }
    if (found) continue;
    lock.unlock();
    uint64_t index = 0;
    Status s = grow_(&index);
    lock.lock();
    if (!s.ok()) return s;
    s = LeaseLocked(index, false, false);
    if (!s.ok() && !s.IsBusy()) return s;
  }
}

void Allocator::Free(uint64_t block) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t index = ExtentOf(block);
  uint32_t bit = static_cast<uint32_t>((block - extent_start_) % kExtentBlocks);
  if (leased_.count(index) == 0) {
    Status s = LeaseLocked(index, false, false);
    if (!s.ok()) {
      spdlog::debug("block {} left for gc: {}", block, s.ToString());
      return;
    }
  }
  Extent& e = leased_[index];
  if (bit < 2 || !TestBit(e.bits.data(), bit)) return;
  ClearBit(e.bits.data(), bit);
  e.free++;
  e.dirty = true;
}

bool Allocator::IsAllocated(uint64_t block) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leased_.find(ExtentOf(block));
  return it != leased_.end() &&
         TestBit(it->second.bits.data(), static_cast<uint32_t>((block - extent_start_) % kExtentBlocks));
}

Status Allocator::WriteExtentLocked(uint64_t index, Extent* e) {
  std::vector<char> block(kBlockSize);
  int slot = 1 - e->slot;
  EncodeBitmap(BitmapHeader{e->seq + 1, index}, e->bits.data(), block.data());
  Status s = file_->Write((extent_start_ + index * kExtentBlocks + slot) * kBlockSize,
                          std::string_view(block.data(), block.size()));
  // After a failed write the other copy is still the valid one: keep
  // writing to this slot until one succeeds.
  if (!s.ok()) return s;
  e->seq++;
  e->slot = slot;
  e->dirty = false;
  return Status::OK();
}

Status Allocator::WriteDirty() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [index, e] : leased_) {
    if (!e.dirty) continue;
    Status s = WriteExtentLocked(index, &e);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status Allocator::SweepAll(const std::function<void(uint64_t, uint8_t*)>& sweep, uint64_t* swept,
                           uint64_t* skipped) {
  std::lock_guard<std::mutex> lock(mu_);
  *swept = *skipped = 0;
  uint64_t count = extent_count_();
  for (uint64_t index = 0; index < count; index++) {
    if (leased_.count(index) == 0) {
      Status s = LeaseLocked(index, true, true);
      if (s.IsBusy()) {
        ++*skipped;
        continue;
      }
      if (!s.ok()) return s;
    }
    Extent& e = leased_[index];
    sweep(index, e.bits.data());
    e.free = CountFree(e.bits.data());
    e.hint = 2;
    Status s = WriteExtentLocked(index, &e);
    if (!s.ok()) return s;
    ++*swept;
  }
  return Status::OK();
}

void Allocator::ReleaseTemporary() {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(leased_, [](const auto& kv) { return kv.second.temporary; });
}

}  // namespace ssiuml::plx
