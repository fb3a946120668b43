// Write ownership of VDIs: at most one process writes a VDI, across the
// processes of a host (STORE.lock) and, given an OwnershipService, across
// hosts sharing the store (the cluster's lock server). FORMAT.md, "VDI
// ownership".
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace ssiuml::plx {

// One VDI's ownership, held until destroyed.
class Ownership {
 public:
  virtual ~Ownership() = default;
  // OK while the ownership lasts; once it fails it never holds again, since
  // another process may own the VDI by then. Checked before every I/O of
  // the VDI, so it does no I/O and never waits.
  virtual Status Check() const = 0;
};

// Hands out ownerships. A Store asks it before opening a VDI for writing
// and before deleting one, then takes its own STORE.lock byte as well.
class OwnershipService {
 public:
  virtual ~OwnershipService() = default;
  // Busy, "VDI NAME is open for writing by WHO", when another process owns
  // it; store_uid (the superblock's) tells stores apart.
  virtual Status Acquire(uint64_t store_uid, const std::string& vdi, std::unique_ptr<Ownership>* owner) = 0;
};

}  // namespace ssiuml::plx
