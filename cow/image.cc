#include "cow/image.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "cow/format.h"
#include "cow/progress.h"

extern char** environ;

namespace ssiuml::plx {
namespace {

constexpr size_t kChunk = 1 << 20;
const char kZero[kBlockSize] = {};

bool IsQcow2(RandomRWFile* file) {
  char magic[4];
  size_t got = 0;
  return file->Read(0, 4, magic, &got).ok() && got == 4 && std::memcmp(magic, "QFI\xfb", 4) == 0;
}

// Converts a qcow2 image to a temporary raw file with qemu-img.
Status ConvertQcow2(const std::string& image, std::string* raw) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/plx-fill-XXXXXX";
  std::vector<char> path(tmpl.begin(), tmpl.end());
  path.push_back('\0');
  int fd = ::mkstemp(path.data());
  if (fd < 0) return Status::FromErrno("create a temporary file in " + tmpl, errno);
  ::close(fd);
  *raw = path.data();
  const char* argv[] = {"qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw", image.c_str(), raw->c_str(), nullptr};
  pid_t pid;
  int err = ::posix_spawnp(&pid, "qemu-img", nullptr, nullptr, const_cast<char* const*>(argv), environ);
  if (err != 0) {
    ::unlink(raw->c_str());
    return Status::NotSupported("qcow2 images need qemu-img (" + std::string(std::strerror(err)) +
                                "); install qemu-utils or convert to raw first");
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ::unlink(raw->c_str());
    return Status::IOError("qemu-img could not convert " + image + " to raw; check it with qemu-img check " + image);
  }
  return Status::OK();
}

// Opens an image for reading, converting qcow2 to a temporary raw file that
// is removed when the holder goes.
class ImageReader {
 public:
  explicit ImageReader(Env* env) : env_(env) {}
  ~ImageReader() {
    file_.reset();
    if (!temp_.empty()) env_->RemoveFile(temp_);
  }
  Status Open(const std::string& image) {
    Status s = env_->OpenRandomRead(image, &file_);
    if (!s.ok()) return s;
    if (IsQcow2(file_.get())) {
      s = ConvertQcow2(image, &temp_);
      if (s.ok()) s = env_->OpenRandomRead(temp_, &file_);
      if (!s.ok()) return s;
    }
    return file_->Size(&size_);
  }
  RandomRWFile* file() { return file_.get(); }
  uint64_t size() const { return size_; }

 private:
  Env* env_;
  std::unique_ptr<RandomRWFile> file_;
  std::string temp_;
  uint64_t size_ = 0;
};

uint64_t RoundUp(uint64_t n) { return (n + kBlockSize - 1) / kBlockSize * kBlockSize; }

// Reads n bytes at offset, zero-padding past the end of the file.
Status ReadPadded(RandomRWFile* file, uint64_t offset, size_t n, char* buf) {
  size_t got = 0;
  Status s = file->Read(offset, n, buf, &got);
  if (s.ok() && got < n) std::memset(buf + got, 0, n - got);
  return s;
}

}  // namespace

Status FillVdi(Env* env, Vdi* vdi, const std::string& image, CopyResult* result) {
  ImageReader reader(env);
  Status s = reader.Open(image);
  if (!s.ok()) return s;
  uint64_t size = RoundUp(reader.size());
  if (size > vdi->size()) s = vdi->Resize(size);
  if (!s.ok()) return s;
  Progress progress("fill " + vdi->name(), size);
  std::vector<char> buf(kChunk), old(kChunk);
  for (uint64_t off = 0; off < size; off += kChunk) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, size - off));
    s = ReadPadded(reader.file(), off, n, buf.data());
    if (s.ok()) s = vdi->Read(off, n, old.data());
    if (!s.ok()) return s;
    // Only blocks that differ are written, so a clone filled with a changed
    // image keeps sharing the rest with its origin.
    for (size_t i = 0; i < n;) {
      if (std::memcmp(buf.data() + i, old.data() + i, kBlockSize) == 0) {
        i += kBlockSize;
        continue;
      }
      size_t j = i + kBlockSize;
      while (j < n && std::memcmp(buf.data() + j, old.data() + j, kBlockSize) != 0) j += kBlockSize;
      s = vdi->Write(off + i, std::string_view(buf.data() + i, j - i));
      if (!s.ok()) return s;
      for (size_t k = i; k < j; k += kBlockSize)
        if (std::memcmp(buf.data() + k, kZero, kBlockSize) != 0) result->blocks_stored++;
      i = j;
    }
    progress.Update(off + n);
  }
  result->bytes = size;
  return vdi->Flush();
}

Status ValidateVdi(Env* env, Vdi* vdi, const std::string& image, CopyResult* result) {
  ImageReader reader(env);
  Status s = reader.Open(image);
  if (!s.ok()) return s;
  uint64_t size = RoundUp(reader.size());
  if (size != vdi->size()) {
    result->mismatch = vdi->name() + " is " + std::to_string(vdi->size()) + " bytes, " + image + " " +
                       std::to_string(reader.size());
    if (size > vdi->size()) return Status::OK();
  }
  Progress progress("validate " + vdi->name(), size);
  std::vector<char> a(kChunk), b(kChunk);
  for (uint64_t off = 0; off < size; off += kChunk) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, size - off));
    s = ReadPadded(reader.file(), off, n, a.data());
    if (s.ok()) s = vdi->Read(off, n, b.data());
    if (!s.ok()) return s;
    if (std::memcmp(a.data(), b.data(), n) != 0) {
      for (size_t i = 0; i < n; i += kBlockSize)
        if (std::memcmp(a.data() + i, b.data() + i, kBlockSize) != 0) {
          result->mismatch = "block " + std::to_string((off + i) / kBlockSize) + " (offset " +
                             std::to_string(off + i) + ") differs";
          return Status::OK();
        }
    }
    progress.Update(off + n);
  }
  result->bytes = size;
  return Status::OK();
}

Status ExportVdi(Env* env, Vdi* vdi, const std::string& file, CopyResult* result) {
  std::unique_ptr<RandomRWFile> out;
  Status s = env->OpenRandomRW(file, true, &out);
  if (s.ok()) s = out->Truncate(0);
  if (!s.ok()) return s;
  uint64_t size = vdi->size();
  Progress progress("export " + vdi->name(), size);
  std::vector<char> buf(kChunk);
  for (uint64_t off = 0; off < size; off += kChunk) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, size - off));
    s = vdi->Read(off, n, buf.data());
    if (!s.ok()) return s;
    // Zero blocks become holes: write runs of non-zero blocks only.
    for (size_t i = 0; i < n;) {
      if (std::memcmp(buf.data() + i, kZero, kBlockSize) == 0) {
        i += kBlockSize;
        continue;
      }
      size_t j = i + kBlockSize;
      while (j < n && std::memcmp(buf.data() + j, kZero, kBlockSize) != 0) j += kBlockSize;
      s = out->Write(off + i, std::string_view(buf.data() + i, j - i));
      if (!s.ok()) return s;
      result->blocks_stored += (j - i) / kBlockSize;
      i = j;
    }
    progress.Update(off + n);
  }
  s = out->Truncate(size);
  if (s.ok()) s = out->Sync();
  result->bytes = size;
  return s;
}

}  // namespace ssiuml::plx
