#include "cow/virtio_blk.h"

#include <algorithm>
#include <cstring>

namespace ssiuml::vhost {
namespace {

enum : uint32_t { kIn = 0, kOut = 1, kFlush = 4, kGetId = 8, kDiscard = 11, kWriteZeroes = 13 };
enum : uint8_t { kStatusOk = 0, kStatusIoErr = 1, kStatusUnsupp = 2 };
constexpr uint32_t kIdBytes = 20;
constexpr uint32_t kMaxDiscardSectors = 32768;

// Copies the readable segments, from byte offset `skip`, into out.
size_t Gather(const std::vector<Segment>& segs, size_t skip, uint8_t* out, size_t len) {
  size_t copied = 0;
  for (const Segment& s : segs) {
    if (copied == len) break;
    if (skip >= s.len) {
      skip -= s.len;
      continue;
    }
    size_t n = std::min<size_t>(s.len - skip, len - copied);
    std::memcpy(out + copied, s.data + skip, n);
    copied += n;
    skip = 0;
  }
  return copied;
}

// Copies in into the writable segments, up to len bytes.
void Scatter(const std::vector<Segment>& segs, const uint8_t* in, size_t len) {
  size_t copied = 0;
  for (const Segment& s : segs) {
    if (copied == len) break;
    size_t n = std::min<size_t>(s.len, len - copied);
    std::memcpy(s.data, in + copied, n);
    copied += n;
  }
}

// The segments as buffers from byte offset skip, up to len bytes: the data
// after a request's header, or before its status byte.
std::vector<iovec> Pieces(const std::vector<Segment>& segs, size_t skip, size_t len) {
  std::vector<iovec> pieces;
  for (const Segment& s : segs) {
    if (len == 0) break;
    if (skip >= s.len) {
      skip -= s.len;
      continue;
    }
    size_t n = std::min<size_t>(s.len - skip, len);
    pieces.push_back({s.data + skip, n});
    len -= n;
    skip = 0;
  }
  return pieces;
}

size_t Total(const std::vector<Segment>& segs) {
  size_t total = 0;
  for (const Segment& s : segs) total += s.len;
  return total;
}

void PutLe32(std::vector<uint8_t>& c, size_t at, uint32_t v) { std::memcpy(c.data() + at, &v, 4); }

}  // namespace

uint32_t HandleBlkRequest(BlockDevice& device, const Chain& chain, BlkStats* stats) {
  if (!chain.error.empty()) {
    ++stats->refused_chains;
    return 0;  // nowhere trustworthy to put a status
  }
  size_t in_total = Total(chain.writable);
  if (in_total == 0) {
    ++stats->refused_chains;
    return 0;
  }
  // The status byte is the last writable byte, wherever the guest put it.
  const Segment& last = chain.writable.back();
  uint8_t* status = last.len > 0 ? last.data + last.len - 1 : nullptr;
  if (status == nullptr) {
    ++stats->refused_chains;
    return 0;
  }
  size_t data_in = in_total - 1;  // writable bytes before the status
  uint8_t header[16];
  if (Gather(chain.readable, 0, header, sizeof header) != sizeof header) {
    *status = kStatusIoErr;
    ++stats->errors;
    return 1;
  }
  uint32_t type;
  uint64_t sector;
  std::memcpy(&type, header, 4);
  std::memcpy(&sector, header + 8, 8);
  size_t data_out = Total(chain.readable) - sizeof header;

  auto range_ok = [&](uint64_t offset, uint64_t len) {
    return sector < (1ull << 54) && offset % kBlkSize == 0 && len % kBlkSize == 0 &&
           offset <= device.size() && len <= device.size() - offset;
  };
  auto fail = [&](uint8_t code) -> uint32_t {
    *status = code;
    (code == kStatusUnsupp ? stats->unsupported : stats->errors)++;
    return 1;
  };

  uint64_t offset = sector * 512;
  switch (type) {
    case kIn: {
      size_t len = data_in;
      if (!range_ok(offset, len)) return fail(kStatusIoErr);
      if (!device.Read(offset, Pieces(chain.writable, 0, len)).ok()) return fail(kStatusIoErr);
      ++stats->reads;
      stats->bytes_read += len;
      *status = kStatusOk;
      return static_cast<uint32_t>(len + 1);
    }
    case kOut: {
      size_t len = data_out;
      if (device.read_only()) return fail(kStatusIoErr);
      if (!range_ok(offset, len)) return fail(kStatusIoErr);
      if (!device.Write(offset, Pieces(chain.readable, sizeof header, len)).ok()) return fail(kStatusIoErr);
      ++stats->writes;
      stats->bytes_written += len;
      *status = kStatusOk;
      return 1;
    }
    case kFlush:
      ++stats->flushes;
      *status = device.Flush().ok() ? kStatusOk : kStatusIoErr;
      return 1;
    case kGetId: {
      std::string id = device.id();
      id.resize(kIdBytes, '\0');
      size_t len = std::min<size_t>(data_in, kIdBytes);
      Scatter(chain.writable, reinterpret_cast<const uint8_t*>(id.data()), len);
      *status = kStatusOk;
      return static_cast<uint32_t>(len + 1);
    }
    case kDiscard:
    case kWriteZeroes: {
      // One segment {u64 sector, u32 sectors, u32 flags}, as offered.
      uint8_t seg[16];
      if (data_out != sizeof seg || Gather(chain.readable, sizeof header, seg, sizeof seg) != sizeof seg)
        return fail(kStatusUnsupp);
      uint64_t seg_sector;
      uint32_t sectors, flags;
      std::memcpy(&seg_sector, seg, 8);
      std::memcpy(&sectors, seg + 8, 4);
      std::memcpy(&flags, seg + 12, 4);
      if ((flags & ~1u) != 0 || (type == kDiscard && flags != 0)) return fail(kStatusUnsupp);
      if (device.read_only() || sectors > kMaxDiscardSectors || seg_sector >= (1ull << 54))
        return fail(kStatusIoErr);
      uint64_t start = seg_sector * 512, len = static_cast<uint64_t>(sectors) * 512;
      sector = seg_sector;
      if (!range_ok(start, len)) return fail(kStatusIoErr);
      if (!device.WriteZeroes(start, len).ok()) return fail(kStatusIoErr);
      *status = kStatusOk;
      return 1;
    }
    default:
      return fail(kStatusUnsupp);
  }
}

std::vector<uint8_t> BlkConfig(const BlockDevice& device) {
  std::vector<uint8_t> c(60, 0);
  uint64_t capacity = device.size() / 512;
  std::memcpy(c.data(), &capacity, 8);
  PutLe32(c, 12, kSegMax);
  PutLe32(c, 20, kBlkSize);
  uint16_t min_io = 1;
  std::memcpy(c.data() + 26, &min_io, 2);
  PutLe32(c, 28, 1);  // opt_io
  uint16_t queues = 1;
  std::memcpy(c.data() + 34, &queues, 2);
  PutLe32(c, 36, kMaxDiscardSectors);
  PutLe32(c, 40, 1);  // max_discard_seg
  PutLe32(c, 44, kBlkSize / 512);
  PutLe32(c, 48, kMaxDiscardSectors);
  PutLe32(c, 52, 1);  // max_write_zeroes_seg
  c[56] = 1;          // write_zeroes_may_unmap
  return c;
}

uint64_t BlkFeatures(const BlockDevice& device) {
  constexpr int kSegMaxBit = 2, kRoBit = 5, kBlkSizeBit = 6, kFlushBit = 9, kDiscardBit = 13,
                kWriteZeroesBit = 14, kVersion1Bit = 32;
  uint64_t f = (1ull << kSegMaxBit) | (1ull << kBlkSizeBit) | (1ull << kFlushBit) | (1ull << kVersion1Bit) |
               (1ull << kFeatureProtocolFeatures);
  if (device.read_only()) {
    f |= 1ull << kRoBit;
  } else {
    f |= (1ull << kDiscardBit) | (1ull << kWriteZeroesBit);
  }
  return f;
}

}  // namespace ssiuml::vhost
