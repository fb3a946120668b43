#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "common/fd.h"
#include "cow/block_device.h"

namespace ssiuml {
namespace {

class FileBlockDevice final : public BlockDevice {
 public:
  FileBlockDevice(std::string path, UniqueFd fd, uint64_t size, bool read_only)
      : path_(std::move(path)), fd_(std::move(fd)), size_(size), read_only_(read_only) {}

  uint64_t size() const override { return size_; }
  bool read_only() const override { return read_only_; }
  std::string id() const override {
    std::string base = path_.substr(path_.rfind('/') + 1);
    return base.substr(0, 20);
  }

  Status Read(uint64_t offset, std::span<const iovec> bufs) override {
    for (const iovec& b : bufs) {
      Status s = ReadOne(offset, b.iov_len, static_cast<uint8_t*>(b.iov_base));
      if (!s.ok()) return s;
      offset += b.iov_len;
    }
    return Status::OK();
  }

  Status Write(uint64_t offset, std::span<const iovec> bufs) override {
    for (const iovec& b : bufs) {
      Status s = WriteOne(offset, b.iov_len, static_cast<const uint8_t*>(b.iov_base));
      if (!s.ok()) return s;
      offset += b.iov_len;
    }
    return Status::OK();
  }

  Status Flush() override {
    if (::fdatasync(fd_.get()) != 0) return Status::FromErrno("fdatasync " + path_, errno);
    return Status::OK();
  }

  Status WriteZeroes(uint64_t offset, uint64_t len) override {
    if (::fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                    static_cast<off_t>(len)) == 0)
      return Status::OK();
    std::vector<uint8_t> zeroes(65536);
    for (uint64_t done = 0; done < len; done += zeroes.size()) {
      Status s = WriteOne(offset + done, static_cast<size_t>(std::min<uint64_t>(zeroes.size(), len - done)),
                          zeroes.data());
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

 private:
  Status WriteOne(uint64_t offset, size_t len, const uint8_t* buf) {
    size_t done = 0;
    while (done < len) {
      ssize_t n = ::pwrite(fd_.get(), buf + done, len - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::FromErrno("write " + path_, errno);
      done += static_cast<size_t>(n);
    }
    return Status::OK();
  }

  Status ReadOne(uint64_t offset, size_t len, uint8_t* buf) {
    size_t done = 0;
    while (done < len) {
      ssize_t n = ::pread(fd_.get(), buf + done, len - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::FromErrno("read " + path_, errno);
      if (n == 0) {  // past the end of a short file reads as zeroes
        std::fill(buf + done, buf + len, 0);
        break;
      }
      done += static_cast<size_t>(n);
    }
    return Status::OK();
  }

  std::string path_;
  UniqueFd fd_;
  uint64_t size_;
  bool read_only_;
};

}  // namespace

Status OpenFileBlockDevice(const std::string& path, bool read_only, std::unique_ptr<BlockDevice>* device) {
  UniqueFd fd(::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno("open " + path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno("stat " + path, errno);
  *device = std::make_unique<FileBlockDevice>(path, std::move(fd), static_cast<uint64_t>(st.st_size) & ~4095ull,
                                              read_only);
  return Status::OK();
}

}  // namespace ssiuml
