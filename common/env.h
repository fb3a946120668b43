// Env: every file-system and clock access of the components goes through this
// interface, LevelDB style, so tests can substitute a faulting or tearing
// implementation and check crash safety at each step of a sequence.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ssiuml {

// A file read and written at explicit offsets (block stores, COW headers).
class RandomRWFile {
 public:
  virtual ~RandomRWFile() = default;
  // Reads up to n bytes at offset; *got < n only at end of file.
  virtual Status Read(uint64_t offset, size_t n, char* buf, size_t* got) = 0;
  // Reads at offset into the buffers in turn (preadv); *got < their total
  // only at end of file. The default reads them one by one.
  virtual Status ReadV(uint64_t offset, std::span<const iovec> bufs, size_t* got) {
    *got = 0;
    for (const iovec& b : bufs) {
      size_t n = 0;
      Status s = Read(offset + *got, b.iov_len, static_cast<char*>(b.iov_base), &n);
      *got += n;
      if (!s.ok() || n < b.iov_len) return s;
    }
    return Status::OK();
  }
  virtual Status Write(uint64_t offset, std::string_view data) = 0;
  // Writes the buffers in turn at offset (pwritev). The default writes them
  // one by one.
  virtual Status WriteV(uint64_t offset, std::span<const iovec> bufs) {
    for (const iovec& b : bufs) {
      Status s = Write(offset, std::string_view(static_cast<const char*>(b.iov_base), b.iov_len));
      if (!s.ok()) return s;
      offset += b.iov_len;
    }
    return Status::OK();
  }
  // Writes data and makes it durable, with the file size it needs, without
  // waiting for the file's other writes (RWF_DSYNC): metadata that must be
  // durable before what follows, in a file where megabytes of data may be
  // waiting for their own sync. The default writes and syncs the whole file.
  virtual Status WriteDurable(uint64_t offset, std::string_view data) {
    Status s = Write(offset, data);
    return s.ok() ? Sync() : s;
  }
  // Makes every completed Write durable.
  virtual Status Sync() = 0;
  virtual Status Size(uint64_t* size) = 0;
  virtual Status Truncate(uint64_t size) = 0;
  // Starts writing the file's dirty pages to the device and returns without
  // waiting (sync_file_range): a later Sync has less left to write. Makes
  // nothing durable. The default does nothing.
  virtual void StartWriteback() {}
};

// An advisory whole-file lock held until released or the process dies.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX implementation; never deleted.
  static Env* Default();

  virtual Status OpenRandomRW(const std::string& path, bool create,
                              std::unique_ptr<RandomRWFile>* file) = 0;
  virtual Status OpenRandomRead(const std::string& path,
                                std::unique_ptr<RandomRWFile>* file) = 0;
  virtual Status ReadFileToString(const std::string& path, std::string* out) = 0;
  // Replaces path atomically (write to a temporary, sync, rename, sync dir).
  virtual Status WriteFileAtomic(const std::string& path, std::string_view data) = 0;
  virtual Status AppendToFile(const std::string& path, std::string_view data) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RemoveTree(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // mkdir -p with the given mode for every directory it creates.
  virtual Status CreateDirs(const std::string& path, uint32_t mode) = 0;
  virtual Status GetChildren(const std::string& dir, std::vector<std::string>* names) = 0;
  virtual Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive flock on path (created if missing); Busy if another
  // process holds it.
  virtual Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) = 0;
  // Wall clock, for timestamps in logs and events.
  virtual uint64_t NowMicros() = 0;
  // Monotonic clock, for timeouts and intervals.
  virtual uint64_t MonotonicMicros() = 0;
  // Takes an exclusive lock on the byte at offset of path (created if
  // missing). It is an open-file-description lock, so it also excludes other
  // holders in this process: one lock file can carry many independent locks
  // (a store's metadata, each VDI, each extent). With wait it blocks until
  // free; otherwise Busy if held elsewhere.
  virtual Status LockFileRange(const std::string& path, uint64_t offset, bool wait,
                               std::unique_ptr<FileLock>* lock) {
    return Status::NotSupported("byte-range locks are not supported by this Env");
  }
};

}  // namespace ssiuml
