#include "cow/fault_env.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace ssiuml::plx {

class MemFile final : public RandomRWFile {
 public:
  MemFile(FaultEnv* env, std::shared_ptr<FaultEnv::Data> data, bool writable)
      : env_(env), data_(std::move(data)), writable_(writable) {}

  Status Read(uint64_t offset, size_t n, char* buf, size_t* got) override {
    std::lock_guard<std::mutex> lock(env_->mu_);
    const std::string& c = data_->current;
    *got = offset >= c.size() ? 0 : std::min<uint64_t>(n, c.size() - offset);
    if (*got > 0) std::memcpy(buf, c.data() + offset, *got);
    return Status::OK();
  }

  Status Write(uint64_t offset, std::string_view bytes) override { return Put(offset, bytes, false); }
  Status WriteDurable(uint64_t offset, std::string_view bytes) override { return Put(offset, bytes, true); }

  Status Sync() override {
    std::lock_guard<std::mutex> lock(env_->mu_);
    Status s = env_->Tick();
    if (!s.ok()) return s;
    // Replays the writes since the last sync rather than copying the whole
    // file: the store's file is large and synced after every few writes.
    for (const FaultEnv::Data::Op& op : data_->unsynced) op.ApplyTo(&data_->synced, op.bytes.size());
    data_->unsynced.clear();
    return Status::OK();
  }

  Status Size(uint64_t* size) override {
    std::lock_guard<std::mutex> lock(env_->mu_);
    *size = data_->current.size();
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> lock(env_->mu_);
    Status s = env_->Tick();
    if (!s.ok()) return s;
    data_->Record({true, size, ""});
    return Status::OK();
  }

 private:
  Status Put(uint64_t offset, std::string_view bytes, bool durable) {
    if (!writable_) return Status::IOError("write to a read-only file");
    std::lock_guard<std::mutex> lock(env_->mu_);
    Status s = env_->Tick();
    if (!s.ok()) return s;
    data_->Record({false, offset, std::string(bytes), durable});
    return Status::OK();
  }

  FaultEnv* env_;
  std::shared_ptr<FaultEnv::Data> data_;
  bool writable_;
};

namespace {

class MemLock final : public FileLock {
 public:
  MemLock(std::mutex* mu, std::condition_variable* cv, std::set<std::pair<std::string, uint64_t>>* locks,
          std::pair<std::string, uint64_t> key)
      : mu_(mu), cv_(cv), locks_(locks), key_(std::move(key)) {}
  ~MemLock() override {
    std::lock_guard<std::mutex> lock(*mu_);
    locks_->erase(key_);
    cv_->notify_all();
  }

 private:
  std::mutex* mu_;
  std::condition_variable* cv_;
  std::set<std::pair<std::string, uint64_t>>* locks_;
  std::pair<std::string, uint64_t> key_;
};

}  // namespace

void FaultEnv::FailAt(uint64_t n, Fault fault) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = n;
  fault_ = fault;
}

uint64_t FaultEnv::ops() {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_;
}

void FaultEnv::Data::Op::ApplyTo(std::string* file, size_t n) const {
  if (truncate) {
    file->resize(offset, '\0');
    return;
  }
  if (file->size() < offset + n) file->resize(offset + n, '\0');
  std::memcpy(file->data() + offset, bytes.data(), n);
}

void FaultEnv::Data::Record(Op op) {
  op.ApplyTo(&current, op.bytes.size());
  unsynced.push_back(std::move(op));
}

Status FaultEnv::Tick() {
  ++ops_;
  if (dead_) return Status::IOError("injected fault: device gone");
  if (fault_ != Fault::kNone && ops_ == fail_at_) {
    if (fault_ == Fault::kDie) dead_ = true;
    return Status::IOError("injected fault at op " + std::to_string(ops_));
  }
  return Status::OK();
}

void FaultEnv::Crash(std::mt19937_64* rng) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [path, d] : files_) {
    for (const Data::Op& op : d->unsynced) {
      size_t n = op.bytes.size();
      int choice = op.truncate || op.durable ? 1 : static_cast<int>((*rng)() % 4);  // lost, landed, or torn
      if (choice == 0) continue;
      if (choice == 3 && n > 512) n = ((*rng)() % (n / 512)) * 512;
      op.ApplyTo(&d->synced, n);
    }
    d->current = d->synced;
    d->unsynced.clear();
  }
  locks_.clear();
  fault_ = Fault::kNone;
  dead_ = false;
}

std::string* FaultEnv::Contents(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second->current;
}

Status FaultEnv::OpenRandomRW(const std::string& path, bool create, std::unique_ptr<RandomRWFile>* file) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) {
    if (!create) return Status::NotFound("open " + path + ": No such file or directory");
    it = files_.emplace(path, std::make_shared<Data>()).first;
  }
  *file = std::make_unique<MemFile>(this, it->second, true);
  return Status::OK();
}

Status FaultEnv::OpenRandomRead(const std::string& path, std::unique_ptr<RandomRWFile>* file) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound("open " + path + ": No such file or directory");
  *file = std::make_unique<MemFile>(this, it->second, false);
  return Status::OK();
}

Status FaultEnv::ReadFileToString(const std::string& path, std::string* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound("open " + path);
  *out = it->second->current;
  return Status::OK();
}

Status FaultEnv::WriteFileAtomic(const std::string& path, std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  auto d = std::make_shared<Data>();
  d->current = d->synced = std::string(data);
  files_[path] = d;
  return Status::OK();
}

Status FaultEnv::AppendToFile(const std::string& path, std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& d = files_[path];
  if (!d) d = std::make_shared<Data>();
  d->Record({false, d->current.size(), std::string(data)});
  return Status::OK();
}

bool FaultEnv::FileExists(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.count(path) != 0;
}

Status FaultEnv::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.erase(path) != 0 ? Status::OK() : Status::NotFound("unlink " + path);
}

Status FaultEnv::RemoveTree(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(files_, [&](const auto& kv) { return kv.first.rfind(path, 0) == 0; });
  return Status::OK();
}

Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return Status::NotFound("rename " + from);
  files_[to] = it->second;
  files_.erase(from);
  return Status::OK();
}

Status FaultEnv::CreateDirs(const std::string&, uint32_t) { return Status::OK(); }

Status FaultEnv::GetChildren(const std::string&, std::vector<std::string>* names) {
  names->clear();
  return Status::NotSupported("FaultEnv has no directories");
}

Status FaultEnv::SyncDir(const std::string&) { return Status::OK(); }

Status FaultEnv::LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) {
  return LockFileRange(path, ~uint64_t{0}, false, lock);
}

Status FaultEnv::LockFileRange(const std::string& path, uint64_t offset, bool wait,
                               std::unique_ptr<FileLock>* lock) {
  std::unique_lock<std::mutex> guard(mu_);
  auto key = std::make_pair(path, offset);
  while (!locks_.insert(key).second) {
    if (!wait) return Status::Busy(path + " is locked by another holder");
    unlocked_.wait(guard);
  }
  *lock = std::make_unique<MemLock>(&mu_, &unlocked_, &locks_, key);
  return Status::OK();
}

}  // namespace ssiuml::plx
