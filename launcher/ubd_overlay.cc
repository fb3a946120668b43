#include "launcher/ubd_overlay.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace ssiuml {
namespace {

constexpr uint32_t kCowMagic = 0x4f4f4f4d;  // "MOOO"
constexpr size_t kPathLen = 4096;

uint64_t BigEndian(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Status ReadUbdOverlayHeader(Env* env, const std::string& overlay, UbdOverlayHeader* header) {
  std::unique_ptr<RandomRWFile> file;
  Status s = env->OpenRandomRead(overlay, &file);
  if (!s.ok()) return s;
  // Packed big-endian v3 header: magic, version, mtime(4), size(8),
  // sectorsize, alignment, cow_format, backing_file[4096].
  constexpr size_t kPathOffset = 32;
  unsigned char buf[kPathOffset + kPathLen];
  size_t got = 0;
  s = file->Read(0, sizeof buf, reinterpret_cast<char*>(buf), &got);
  if (!s.ok()) return s;
  if (got < sizeof buf || BigEndian(buf, 4) != kCowMagic)
    return Status::Corruption(overlay + " is not a UML COW overlay");
  header->version = static_cast<uint32_t>(BigEndian(buf + 4, 4));
  if (header->version != 3)
    return Status::NotSupported(overlay + ": UML COW version " + std::to_string(header->version));
  header->backing_mtime = BigEndian(buf + 8, 4);
  header->backing_size = BigEndian(buf + 12, 8);
  const char* path = reinterpret_cast<const char*>(buf + kPathOffset);
  header->backing_file.assign(path, strnlen(path, kPathLen));
  return Status::OK();
}

Status CheckUbdOverlay(Env* env, const std::string& overlay, const std::string& root) {
  if (!env->FileExists(overlay)) return Status::OK();
  UbdOverlayHeader header;
  Status s = ReadUbdOverlayHeader(env, overlay, &header);
  if (!s.ok()) return s;
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) return Status::FromErrno("ROOT " + root, errno);
  if (header.backing_size != static_cast<uint64_t>(st.st_size) ||
      header.backing_mtime != static_cast<uint64_t>(static_cast<uint32_t>(st.st_mtime)))
    return Status::InvalidArgument("its disk overlay " + overlay +
                                   " was made over a different ROOT (the image changed since)");
  return Status::OK();
}

}  // namespace ssiuml
