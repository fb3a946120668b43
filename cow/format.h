// The on-disk format of a plx blockstore (see cow/FORMAT.md): constants, the
// tagged block pointer, and the records that carry a CRC. Everything is
// little-endian; encoders fill a caller's buffer, decoders validate first.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cow/plx.h"

namespace ssiuml::plx {

static_assert(std::endian::native == std::endian::little, "plx assumes a little-endian host");

constexpr uint32_t kHalfBlock = kBlockSize / 2;
constexpr uint32_t kVersion = 1;
constexpr char kStoreMagic[8] = {'P', 'L', 'X', 'S', 'T', 'O', 'R', 'E'};

// Radix tree: 3 levels of 512 entries address 2^27 blocks (512 GiB per VDI).
constexpr int kFanoutBits = 9;
constexpr uint32_t kFanout = 1u << kFanoutBits;
constexpr int kTreeLevels = 3;
constexpr uint64_t kMaxVdiBlocks = uint64_t{1} << (kFanoutBits * kTreeLevels);
constexpr uint64_t kMaxVdiBytes = kMaxVdiBlocks * kBlockSize;

// An extent: two bitmap blocks (A/B copies) and then data, 126 MiB in all.
// The bitmap has one bit per block of the extent, the bitmap blocks included.
constexpr uint32_t kBitmapHeader = 64;
constexpr uint32_t kBitmapBytes = kBlockSize - kBitmapHeader;
constexpr uint32_t kExtentBlocks = kBitmapBytes * 8;

constexpr uint32_t kMaxVdiName = 127;
constexpr uint32_t kMaxSnapName = 87;

// A pointer in a tree node or a VDI's root field: block << 1 | writable. The
// writable bit says the block is referenced only along this path, so it can
// be changed without copying. Block 0 is the superblock, so pointer 0 can
// mean "all zeros, not stored".
inline uint64_t PtrBlock(uint64_t p) { return p >> 1; }
inline bool PtrWritable(uint64_t p) { return (p & 1) != 0; }
inline uint64_t MakePtr(uint64_t block, bool writable) { return block << 1 | (writable ? 1 : 0); }

struct Node {
  uint64_t e[kFanout];
};
static_assert(sizeof(Node) == kBlockSize);

uint32_t Crc32c(const void* data, size_t n);

// Block 0 holds two copies (halves); the valid one with the higher seq wins.
struct Superblock {
  uint64_t seq = 0;
  uint32_t max_vdis = 0;
  uint64_t registry_start = 1;  // one block per VDI slot
  uint64_t extent_start = 0;    // first block of extent 0
  uint64_t extent_count = 0;
  uint64_t store_uid = 0;
  uint64_t created_us = 0;

  uint64_t ExtentFirstBlock(uint64_t extent) const { return extent_start + extent * kExtentBlocks; }
};
void EncodeSuperblock(const Superblock& sb, char* half);
Status DecodeSuperblock(const char* half, Superblock* sb);

enum VdiFlags : uint32_t { kVdiLive = 1, kVdiDeleted = 2 };

// A registry slot: one block with two copies of the VDI's record. The
// holder of the VDI's lock alternates between them, so a torn write leaves
// the previous record intact.
struct VdiRecord {
  uint64_t seq = 0;
  uint64_t uid = 0;
  uint32_t flags = 0;
  std::string name;
  uint64_t size = 0;         // bytes, a multiple of kBlockSize
  uint64_t root = 0;         // tagged pointer
  uint64_t log_tail = 0;     // newest snapshot log block, 0 if none
  uint64_t next_snap = 1;    // id of the next snapshot
  uint64_t origin_uid = 0;   // VDI this one was cloned from, 0 if none
  uint64_t origin_snap = 0;  // that VDI's snapshot id
  uint64_t created_us = 0;
};
void EncodeVdiRecord(const VdiRecord& r, char* half);
// NotFound for an all-zero half (never written), Corruption otherwise.
Status DecodeVdiRecord(const char* half, VdiRecord* r);

struct BitmapHeader {
  uint64_t seq = 0;
  uint64_t extent = 0;
};
// block is kBlockSize bytes; bits is kBitmapBytes.
void EncodeBitmap(const BitmapHeader& h, const uint8_t* bits, char* block);
Status DecodeBitmap(const char* block, BitmapHeader* h, uint8_t* bits);

// Snapshot log: a chain of immutable blocks, newest first. Deleting a
// snapshot appends a kLogDelete record naming it.
enum LogType : uint32_t { kLogSnap = 1, kLogDelete = 2 };
struct LogRecord {
  uint32_t type = kLogSnap;
  uint64_t snap_id = 0;
  uint64_t time_us = 0;
  uint64_t root = 0;  // block of the snapshot's root node (untagged), 0 if empty
  uint64_t size = 0;
  std::string name;
};
constexpr uint32_t kLogHeader = 64;
constexpr uint32_t kLogRecordSize = 128;
constexpr uint32_t kLogRecordsPerBlock = (kBlockSize - kLogHeader) / kLogRecordSize;
struct LogBlock {
  uint64_t vdi_uid = 0;
  uint64_t prev = 0;
  std::vector<LogRecord> records;  // at most kLogRecordsPerBlock
};
void EncodeLogBlock(const LogBlock& b, char* block);
Status DecodeLogBlock(const char* block, LogBlock* b);

// Names of VDIs and snapshots: [A-Za-z0-9][A-Za-z0-9._-]*, so "VDI@SNAP"
// parses and Graphviz labels need no quoting.
bool ValidName(std::string_view name, size_t max);

}  // namespace ssiuml::plx
