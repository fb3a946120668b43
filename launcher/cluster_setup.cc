#include "launcher/cluster_setup.h"

#include <unistd.h>

#include <filesystem>

#include "launcher/plx_store.h"
#include "launcher/spawner.h"
#include "launcher/uml_path.h"

namespace ssiuml {

std::string DefaultRootImage() { return ExecutableDir() + "/../share/ssiuml/root.img"; }
std::string DefaultInitrd() { return ExecutableDir() + "/../share/ssiuml/initrd.gz"; }
std::string DefaultLockInitrd() { return ExecutableDir() + "/../share/ssiuml/lock-initrd.gz"; }

Status UseLockNode(ClusterSetup* setup) {
  if (setup->lock_initrd.empty()) setup->lock_initrd = DefaultLockInitrd();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(setup->lock_initrd, ec))
    return Status::NotFound("the lock node needs its initramfs at " + setup->lock_initrd +
                            ": run `make`, or set INITRD_MEMEXP in " + setup->config_path);
  Status s = CheckUmlPath("the lock node's initramfs", setup->lock_initrd);
  if (!s.ok()) return s;
  // switchd's gateway forwards the lock node's ports to the host.
  if (!setup->config.cidev.empty())
    return Status::InvalidArgument("a lock node needs the cluster's own switch; remove CIDEV or INITRD_MEMEXP from " +
                                   setup->config_path);
  return Status::OK();
}

Status ResolveRoot(const std::string& root, ClusterSetup* setup) {
  setup->root.clear();
  setup->root_snapshot.clear();
  if (IsSnapshotRef(root)) {
    std::string vdi, snap;
    Status s = ParseSnapshotRef(root, &vdi, &snap);
    if (!s.ok()) return s;
    if (setup->config.disk != DiskKind::kPlx)
      return Status::NotSupported("root " + root + " is a snapshot of the cluster's plx store, which DISK=ubd "
                                  "cannot boot; set DISK=plx in " + setup->config_path);
    setup->root_snapshot = root;
    return Status::OK();
  }
  std::string file = root.empty() ? DefaultRootImage() : root;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    return Status::NotFound("no root image at " + file + ": run `make` to build the default one, "
                            "or set ROOT in " + setup->config_path + " (a file, or VDI@SNAP from rootfs-tools import)");
  setup->root = std::filesystem::canonical(file, ec).string();
  if (CheckUmlPath("the root image", setup->root).ok()) return Status::OK();
  // A link whose own path UML can carry, to an image whose path it cannot.
  setup->root = std::filesystem::absolute(file, ec).lexically_normal().string();
  return CheckUmlPath("the root image", setup->root);
}

Status LoadClusterSetup(Env* env, ClusterSetup* setup) {
  bool explicit_path = false;
  setup->config_path = ConfigPath(&explicit_path);
  Status s = LoadConfig(env, setup->config_path, explicit_path, &setup->config);
  if (!s.ok()) return s;
  const Config& c = setup->config;
  s = FindProgram(c.kernel, &setup->kernel);
  if (s.IsNotFound())
    return Status::NotFound("KERNEL " + c.kernel + " not found: apt-get install user-mode-linux, "
                            "or set KERNEL in " + setup->config_path);
  if (!s.ok()) return Status::InvalidArgument("KERNEL: " + s.message() + "; set KERNEL in " + setup->config_path);
  s = ResolveRoot(c.root, setup);
  if (!s.ok()) return s;
  std::error_code ec;
  for (const auto& [key, file] : {std::pair{"INITRD", c.initrd}, {"INITRD_MEMEXP", c.initrd_memexp}})
    if (!file.empty() && !std::filesystem::is_regular_file(file, ec))
      return Status::NotFound(std::string(key) + " " + file + " does not exist; fix or remove it in " +
                              setup->config_path);
  setup->initrd = c.initrd;
  if (!c.initrd_memexp.empty()) {
    setup->lock_initrd = c.initrd_memexp;
    s = UseLockNode(setup);
    if (!s.ok()) return s;
  }
  if (c.disk == DiskKind::kPlx) {
    if (setup->initrd.empty()) setup->initrd = DefaultInitrd();
    if (!std::filesystem::is_regular_file(setup->initrd, ec))
      return Status::NotFound("DISK=plx needs the node initramfs at " + setup->initrd +
                              ": run `make`, set INITRD, or set DISK=ubd in " + setup->config_path);
    s = CheckUmlPath("the node initramfs", setup->initrd);
    if (!s.ok()) return s;
    for (const char* tool : {"plx", "plxd"})
      if (::access((ExecutableDir() + "/" + tool).c_str(), X_OK) != 0)
        return Status::NotFound(std::string("DISK=plx needs ") + tool + " beside ssid in " + ExecutableDir() +
                                "; run `make`, or set DISK=ubd in " + setup->config_path);
  }
  return Status::OK();
}

}  // namespace ssiuml
