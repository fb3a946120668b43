// Turns a Config into what a cluster runs with: the kernel and root image
// resolved to existing files. ssi-start checks this before starting ssid so
// mistakes reach the user's terminal as one line with the fix.
#pragma once

#include <string>

#include "common/env.h"
#include "launcher/config.h"

namespace ssiuml {

struct ClusterSetup {
  Config config;
  std::string config_path;
  std::string kernel;  // absolute path of the UML binary
  // One of the two: the absolute path of the shared root image, or the
  // store's VDI@SNAP that nodes are cloned from (DISK=plx).
  std::string root;
  std::string root_snapshot;
  std::string initrd;  // INITRD, or for DISK=plx the built initramfs
  // The lock node's initramfs (INITRD_MEMEXP, or the built one for
  // --lock-node); empty: the lock server runs on the host.
  std::string lock_initrd;
};

// Loads the config file ($SSIUML_CONF or ~/.ssiuml/ssiuml.conf) and resolves it.
Status LoadClusterSetup(Env* env, ClusterSetup* setup);
// Sets setup's root or root_snapshot from root: an image file, VDI@SNAP, or
// empty for the built default (ROOT, or ssi-start --root over it).
Status ResolveRoot(const std::string& root, ClusterSetup* setup);
// Runs the lock server in a lock node: INITRD_MEMEXP's, or the built one.
Status UseLockNode(ClusterSetup* setup);
// Where the build or install put the default root image and initramfs.
std::string DefaultRootImage();
std::string DefaultInitrd();
std::string DefaultLockInitrd();

}  // namespace ssiuml
