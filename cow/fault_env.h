// FaultEnv: an in-memory Env for crash-safety tests. Each file remembers
// what has been synced, so a test can stop the store at any write or sync
// and continue from what a power cut could leave behind: the synced content
// plus any subset of the later writes, each possibly torn at a 512-byte
// sector boundary (a WriteDurable that returned always lands whole; an
// append is a write like the others). Locks are in-memory byte-range locks.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>

#include "common/env.h"

namespace ssiuml::plx {

class FaultEnv final : public Env {
 public:
  enum class Fault { kNone, kFailOnce, kDie };

  // Writes, syncs and truncates are numbered from 1. At op n, kFailOnce fails
  // that op only; kDie fails it and every later one (the device is gone).
  void FailAt(uint64_t n, Fault fault);
  uint64_t ops();
  // The power cut: every file keeps its synced content plus a random subset
  // of its unsynced writes, some torn. Clears any fault and every lock:
  // stores using this Env must be destroyed first.
  void Crash(std::mt19937_64* rng);

  Status OpenRandomRW(const std::string& path, bool create, std::unique_ptr<RandomRWFile>* file) override;
  Status OpenRandomRead(const std::string& path, std::unique_ptr<RandomRWFile>* file) override;
  Status ReadFileToString(const std::string& path, std::string* out) override;
  Status WriteFileAtomic(const std::string& path, std::string_view data) override;
  Status AppendToFile(const std::string& path, std::string_view data) override;
  bool FileExists(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveTree(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status CreateDirs(const std::string& path, uint32_t mode) override;
  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override;
  Status SyncDir(const std::string& dir) override;
  Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) override;
  Status LockFileRange(const std::string& path, uint64_t offset, bool wait,
                       std::unique_ptr<FileLock>* lock) override;
  uint64_t NowMicros() override { return ++clock_; }
  uint64_t MonotonicMicros() override { return ++clock_; }

  // The current content of a file (tests corrupt stores through this: such
  // changes are not writes, a sync does not make them durable).
  std::string* Contents(const std::string& path);

 private:
  friend class MemFile;
  struct Data {
    std::string current;
    std::string synced;
    struct Op {
      bool truncate;
      uint64_t offset;  // or the new size
      std::string bytes;
      bool durable = false;  // WriteDurable: lands whole, whatever the crash
      // Applies the truncate, or the first n bytes of the write.
      void ApplyTo(std::string* file, size_t n) const;
    };
    std::vector<Op> unsynced;
    // Applies op to current and keeps it for the next sync or crash.
    void Record(Op op);
  };
  // Counts an op; the status it must fail with, if any.
  Status Tick();

  std::mutex mu_;
  std::condition_variable unlocked_;
  std::map<std::string, std::shared_ptr<Data>> files_;
  std::set<std::pair<std::string, uint64_t>> locks_;
  uint64_t ops_ = 0;
  uint64_t fail_at_ = 0;
  Fault fault_ = Fault::kNone;
  bool dead_ = false;
  std::atomic<uint64_t> clock_{1000000};
};

}  // namespace ssiuml::plx
