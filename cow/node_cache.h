// NodeCache: committed tree nodes, shared by every VDI of a store. A
// committed node never changes while it is referenced (writes copy it), so
// entries only go stale when the block is freed, and Erase handles that.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "cow/format.h"

namespace ssiuml::plx {

class NodeCache {
 public:
  explicit NodeCache(size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<const Node> Get(uint64_t block);
  void Put(uint64_t block, std::shared_ptr<const Node> node);
  void Erase(uint64_t block);
  void Clear();

 private:
  using Lru = std::list<std::pair<uint64_t, std::shared_ptr<const Node>>>;
  size_t capacity_;
  std::mutex mu_;
  Lru lru_;  // most recently used first
  std::unordered_map<uint64_t, Lru::iterator> map_;
};

}  // namespace ssiuml::plx
