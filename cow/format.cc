#include "cow/format.h"

#include <array>

namespace ssiuml::plx {
namespace {

constexpr uint32_t kVdiMagic = 0x56584c50;     // "PLXV"
constexpr uint32_t kBitmapMagic = 0x42584c50;  // "PLXB"
constexpr uint32_t kLogMagic = 0x4c584c50;     // "PLXL"

// Field offsets of the superblock half.
constexpr size_t kSbCrc = 12, kSbBody = 16;
// Field offsets of a VDI record half.
constexpr size_t kVrCrc = 4, kVrBody = 8, kVrNameLen = 28, kVrName = 96;
constexpr size_t kVrEnd = kVrName + kMaxVdiName + 1;

void Put32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
void Put64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint32_t Get32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t Get64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    t[i] = c;
  }
  return t;
}

bool AllZero(const char* p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0) return false;
  return true;
}

}  // namespace

uint32_t Crc32c(const void* data, size_t n) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~0u;
  for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

void EncodeSuperblock(const Superblock& sb, char* half) {
  std::memset(half, 0, kHalfBlock);
  std::memcpy(half, kStoreMagic, 8);
  Put32(half + 8, kVersion);
  Put32(half + 16, kBlockSize);
  Put32(half + 20, sb.max_vdis);
  Put64(half + 24, sb.seq);
  Put64(half + 32, sb.registry_start);
  Put64(half + 40, sb.extent_start);
  Put64(half + 48, sb.extent_count);
  Put64(half + 56, sb.store_uid);
  Put64(half + 64, sb.created_us);
  Put32(half + 72, kExtentBlocks);
  Put32(half + kSbCrc, Crc32c(half + kSbBody, kHalfBlock - kSbBody));
}

Status DecodeSuperblock(const char* half, Superblock* sb) {
  if (std::memcmp(half, kStoreMagic, 8) != 0) return Status::Corruption("not a plx store (bad magic)");
  uint32_t version = Get32(half + 8);
  if (version != kVersion)
    return Status::NotSupported("plx store format version " + std::to_string(version) +
                                ", this plx reads version " + std::to_string(kVersion));
  if (Get32(half + kSbCrc) != Crc32c(half + kSbBody, kHalfBlock - kSbBody))
    return Status::Corruption("superblock checksum mismatch");
  if (Get32(half + 16) != kBlockSize || Get32(half + 72) != kExtentBlocks)
    return Status::NotSupported("plx store with unsupported block or extent size");
  sb->max_vdis = Get32(half + 20);
  sb->seq = Get64(half + 24);
  sb->registry_start = Get64(half + 32);
  sb->extent_start = Get64(half + 40);
  sb->extent_count = Get64(half + 48);
  sb->store_uid = Get64(half + 56);
  sb->created_us = Get64(half + 64);
  if (sb->registry_start != 1 || sb->max_vdis == 0 ||
      sb->extent_start != sb->registry_start + sb->max_vdis || sb->extent_count > (1u << 24))
    return Status::Corruption("superblock geometry is inconsistent");
  return Status::OK();
}

void EncodeVdiRecord(const VdiRecord& r, char* half) {
  std::memset(half, 0, kHalfBlock);
  Put32(half, kVdiMagic);
  Put64(half + 8, r.seq);
  Put64(half + 16, r.uid);
  Put32(half + 24, r.flags);
  Put32(half + kVrNameLen, static_cast<uint32_t>(r.name.size()));
  Put64(half + 32, r.size);
  Put64(half + 40, r.root);
  Put64(half + 48, r.log_tail);
  Put64(half + 56, r.next_snap);
  Put64(half + 64, r.origin_uid);
  Put64(half + 72, r.origin_snap);
  Put64(half + 80, r.created_us);
  std::memcpy(half + kVrName, r.name.data(), r.name.size());
  Put32(half + kVrCrc, Crc32c(half + kVrBody, kVrEnd - kVrBody));
}

Status DecodeVdiRecord(const char* half, VdiRecord* r) {
  if (AllZero(half, kVrEnd)) return Status::NotFound("empty registry slot");
  if (Get32(half) != kVdiMagic) return Status::Corruption("bad VDI record magic");
  if (Get32(half + kVrCrc) != Crc32c(half + kVrBody, kVrEnd - kVrBody))
    return Status::Corruption("VDI record checksum mismatch");
  uint32_t name_len = Get32(half + kVrNameLen);
  r->flags = Get32(half + 24);
  if (name_len > kMaxVdiName || (r->flags != kVdiLive && r->flags != kVdiDeleted))
    return Status::Corruption("VDI record fields out of range");
  r->seq = Get64(half + 8);
  r->uid = Get64(half + 16);
  r->name.assign(half + kVrName, name_len);
  r->size = Get64(half + 32);
  r->root = Get64(half + 40);
  r->log_tail = Get64(half + 48);
  r->next_snap = Get64(half + 56);
  r->origin_uid = Get64(half + 64);
  r->origin_snap = Get64(half + 72);
  r->created_us = Get64(half + 80);
  if (r->size % kBlockSize != 0 || r->size > kMaxVdiBytes)
    return Status::Corruption("VDI record size out of range");
  return Status::OK();
}

void EncodeBitmap(const BitmapHeader& h, const uint8_t* bits, char* block) {
  std::memset(block, 0, kBitmapHeader);
  Put32(block, kBitmapMagic);
  Put64(block + 8, h.seq);
  Put64(block + 16, h.extent);
  std::memcpy(block + kBitmapHeader, bits, kBitmapBytes);
  Put32(block + 4, Crc32c(block + 8, kBlockSize - 8));
}

Status DecodeBitmap(const char* block, BitmapHeader* h, uint8_t* bits) {
  if (Get32(block) != kBitmapMagic) return Status::Corruption("bad extent bitmap magic");
  if (Get32(block + 4) != Crc32c(block + 8, kBlockSize - 8))
    return Status::Corruption("extent bitmap checksum mismatch");
  h->seq = Get64(block + 8);
  h->extent = Get64(block + 16);
  std::memcpy(bits, block + kBitmapHeader, kBitmapBytes);
  return Status::OK();
}

void EncodeLogBlock(const LogBlock& b, char* block) {
  std::memset(block, 0, kBlockSize);
  Put32(block, kLogMagic);
  Put64(block + 8, b.vdi_uid);
  Put64(block + 16, b.prev);
  Put32(block + 24, static_cast<uint32_t>(b.records.size()));
  char* p = block + kLogHeader;
  for (const LogRecord& r : b.records) {
    Put32(p, r.type);
    Put32(p + 4, static_cast<uint32_t>(r.name.size()));
    Put64(p + 8, r.snap_id);
    Put64(p + 16, r.time_us);
    Put64(p + 24, r.root);
    Put64(p + 32, r.size);
    std::memcpy(p + 40, r.name.data(), r.name.size());
    p += kLogRecordSize;
  }
  Put32(block + 4, Crc32c(block + 8, kBlockSize - 8));
}

Status DecodeLogBlock(const char* block, LogBlock* b) {
  if (Get32(block) != kLogMagic) return Status::Corruption("bad snapshot log magic");
  if (Get32(block + 4) != Crc32c(block + 8, kBlockSize - 8))
    return Status::Corruption("snapshot log checksum mismatch");
  uint32_t count = Get32(block + 24);
  if (count == 0 || count > kLogRecordsPerBlock)
    return Status::Corruption("snapshot log record count out of range");
  b->vdi_uid = Get64(block + 8);
  b->prev = Get64(block + 16);
  b->records.resize(count);
  const char* p = block + kLogHeader;
  for (LogRecord& r : b->records) {
    r.type = Get32(p);
    uint32_t name_len = Get32(p + 4);
    if ((r.type != kLogSnap && r.type != kLogDelete) || name_len > kMaxSnapName)
      return Status::Corruption("snapshot log record fields out of range");
    r.snap_id = Get64(p + 8);
    r.time_us = Get64(p + 16);
    r.root = Get64(p + 24);
    r.size = Get64(p + 32);
    r.name.assign(p + 40, name_len);
    p += kLogRecordSize;
  }
  return Status::OK();
}

bool ValidName(std::string_view name, size_t max) {
  if (name.empty() || name.size() > max) return false;
  for (size_t i = 0; i < name.size(); i++) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

}  // namespace ssiuml::plx
