// DISK=plx: the cluster's plx store and the plxd that serves it. The store
// (STATE/disk/cluster.plx) holds the shared root once, as VDI "root" with a
// snapshot per version of ROOT, and node<N> as clones of it.
#pragma once

#include <string>

#include "common/env.h"
#include "common/status.h"
#include "launcher/cluster_paths.h"

namespace ssiuml {

// Creates the store on first use and fills the root VDI from root; when the
// ROOT file changed since, fills it again under a new snapshot. *base is the
// snapshot new nodes are cloned from ("root@base-<time>"). The cluster's lock
// server must be up: the plx runs own the root VDI through it.
Status PrepareStore(Env* env, const ClusterPaths& paths, const std::string& root, std::string* base);

}  // namespace ssiuml
