// Helpers for plx tests: recognisable block contents. Block content "tag t at
// address a" is a pattern that names both, so a read can tell which write it
// came from; tag 0 is the zero block.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "cow/plx.h"

namespace ssiuml::plx {

inline std::string BlockData(uint64_t tag, uint64_t addr) {
  std::string b(kBlockSize, '\0');
  if (tag == 0) return b;
  for (uint64_t i = 0; i < kBlockSize / 8; i++) {
    uint64_t w = i == 0 ? tag : i == 1 ? addr : (tag * 0x9e3779b97f4a7c15ull) ^ (i << 40) ^ addr;
    std::memcpy(b.data() + i * 8, &w, 8);
  }
  return b;
}

// The tag of a block read at addr, or ~0 if it is no pattern for addr.
inline uint64_t TagOf(const char* block, uint64_t addr) {
  uint64_t tag;
  std::memcpy(&tag, block, 8);
  return BlockData(tag, addr) == std::string(block, kBlockSize) ? tag : ~uint64_t{0};
}

// A new store of max_vdis slots at path, opened.
inline Status MkfsAndOpen(Env* env, const std::string& path, uint32_t max_vdis, std::unique_ptr<Store>* store) {
  MkfsOptions m;
  m.env = env;
  m.max_vdis = max_vdis;
  Status s = Store::Mkfs(path, m);
  if (!s.ok()) return s;
  StoreOptions o;
  o.env = env;
  return Store::Open(path, o, store);
}

inline Status WriteTag(Vdi* vdi, uint64_t addr, uint64_t tag) {
  return vdi->Write(addr * kBlockSize, BlockData(tag, addr));
}

inline uint64_t ReadTag(Vdi* vdi, uint64_t addr) {
  std::string b(kBlockSize, '\0');
  if (!vdi->Read(addr * kBlockSize, kBlockSize, b.data()).ok()) return ~uint64_t{1};
  return TagOf(b.data(), addr);
}

}  // namespace ssiuml::plx
