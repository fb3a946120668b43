// rootfs-tools import: a disk image (raw, qcow2, or any format qemu-img
// reads) becomes a VDI of a cluster's plx store with a base snapshot, which
// ssi-start --root VDI@SNAP boots every node from.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/env.h"
#include "common/status.h"
#include "launcher/cluster_paths.h"

namespace ssiuml {

// What `qemu-img info --output=json` says of an image.
struct ImageInfo {
  std::string format;
  uint64_t virtual_size = 0;
};
Status ParseImageInfo(std::string_view json, ImageInfo* info);

// Checks that an image of virtual_size bytes fits a VDI and is not empty.
Status CheckImageSize(const std::string& image, uint64_t virtual_size);

// Checks that head (the image's first bytes, raw) starts an ext2/3/4 file
// system: the node initramfs mounts the whole disk as ext4.
Status CheckRootFileSystem(const std::string& image, std::string_view head);

// The VDI name for an image file: its base name without the extension,
// other characters than the store allows turned into '-'.
std::string VdiNameFor(const std::string& image);

// Checks a VDI name given or derived: valid, and none the cluster uses
// itself (root, node<N>).
Status CheckImportName(const std::string& vdi);

// Imports image into the cluster's store (created if need be) as VDI vdi
// and snapshots it; *snapshot gets "VDI@SNAP". While the cluster runs, plx
// owns the VDI through its lock server.
Status ImportImage(Env* env, const ClusterPaths& paths, const std::string& image, const std::string& vdi,
                   std::string* snapshot);

}  // namespace ssiuml
