#include "cow/node_cache.h"

namespace ssiuml::plx {

std::shared_ptr<const Node> NodeCache::Get(uint64_t block) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(block);
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void NodeCache::Put(uint64_t block, std::shared_ptr<const Node> node) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(block);
  if (it != map_.end()) {
    it->second->second = std::move(node);
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(block, std::move(node));
  map_[block] = lru_.begin();
  while (map_.size() > capacity_) {
    map_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

void NodeCache::Erase(uint64_t block) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(block);
  if (it == map_.end()) return;
  lru_.erase(it->second);
  map_.erase(it);
}

void NodeCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  map_.clear();
  lru_.clear();
}

}  // namespace ssiuml::plx
