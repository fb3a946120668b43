// rootfs-tools mkroot: builds a root image with the helper scripts the build
// uses (mkroot.sh, or mkroot-debian.sh with --debian), with the same defaults
// as `make` and `make debian-root`.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace ssiuml {

struct MkrootRequest {
  bool debian = false;
  bool packages_given = false;
  std::string packages;  // comma-separated Debian packages (--debian only)
  std::string output;    // empty: share/ssiuml/debian-root.img or root.img
};

// Checks a --packages list: Debian package names separated by commas.
Status CheckPackageList(const std::string& packages);

// The script's command line for request, for the tree (build or install)
// whose binaries are in bin_dir: the scripts in share/ssiuml/rootfs-tools,
// the guest binaries in guest-bin, the Debian cache in debian-cache.
// *image gets the absolute path of the image it builds.
Status MkrootCommand(const MkrootRequest& request, const std::string& bin_dir, std::vector<std::string>* argv,
                     std::string* image);

}  // namespace ssiuml
