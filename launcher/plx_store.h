// DISK=plx: the cluster's plx store and the plxd that serves it. The store
// (STATE/disk/cluster.plx) holds the shared root once, as VDI "root" with a
// snapshot per version of ROOT, and node<N> as clones of it. ROOT may also
// name a snapshot of another VDI of the store, VDI@SNAP (rootfs-tools import).
#pragma once

#include <string>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "launcher/cluster_paths.h"

namespace ssiuml {

// The VDI PrepareStore fills from a ROOT file.
constexpr const char* kRootVdi = "root";

// True when root names a snapshot (has an '@' and no '/'), not a file.
bool IsSnapshotRef(const std::string& root);
// Splits VDI@SNAP, checking both names as the store does.
Status ParseSnapshotRef(const std::string& ref, std::string* vdi, std::string* snap);

// Runs the plx tool on the cluster's store and captures its output. With
// locks, plx owns VDIs through the cluster's lock server (which must be up)
// as plxd does; reads (list, snaps) need no locks.
Status RunPlx(const ClusterPaths& paths, bool locks, const std::vector<std::string>& args,
              std::string* out = nullptr);

// A VDI of the store and the snapshot it was cloned from ("" if none).
struct StoreVdi {
  std::string name;
  std::string origin;
};
Status ListVdis(const ClusterPaths& paths, std::vector<StoreVdi>* vdis);
// The names of vdi's snapshots, oldest first.
Status ListSnapshots(const ClusterPaths& paths, const std::string& vdi, std::vector<std::string>* names);

// Checks that the snapshot ref (VDI@SNAP) exists in the cluster's store; the
// error names rootfs-tools import as the fix.
Status CheckRootSnapshot(const ClusterPaths& paths, const std::string& ref);

// Creates the store on first use and fills the root VDI from root; when the
// ROOT file changed since, fills it again under a new snapshot. *base is the
// snapshot new nodes are cloned from ("root@base-<time>"). The cluster's lock
// server must be up: the plx runs own the root VDI through it.
Status PrepareStore(Env* env, const ClusterPaths& paths, const std::string& root, std::string* base);

}  // namespace ssiuml
