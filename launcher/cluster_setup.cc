#include "launcher/cluster_setup.h"

#include <unistd.h>

#include <filesystem>

#include "launcher/spawner.h"

namespace ssiuml {

std::string DefaultRootImage() { return ExecutableDir() + "/../share/ssiuml/root.img"; }
std::string DefaultInitrd() { return ExecutableDir() + "/../share/ssiuml/initrd.gz"; }

Status LoadClusterSetup(Env* env, ClusterSetup* setup) {
  bool explicit_path = false;
  setup->config_path = ConfigPath(&explicit_path);
  Status s = LoadConfig(env, setup->config_path, explicit_path, &setup->config);
  if (!s.ok()) return s;
  const Config& c = setup->config;
  s = FindProgram(c.kernel, &setup->kernel);
  if (!s.ok())
    return Status::NotFound("KERNEL " + c.kernel + " not found: apt-get install user-mode-linux, "
                            "or set KERNEL in " + setup->config_path);
  std::string root = c.root.empty() ? DefaultRootImage() : c.root;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(root, ec))
    return Status::NotFound("no root image at " + root + ": run `make` to build the default one, "
                            "or set ROOT in " + setup->config_path);
  setup->root = std::filesystem::canonical(root, ec).string();
  for (const auto& [key, file] : {std::pair{"INITRD", c.initrd}, {"INITRD_MEMEXP", c.initrd_memexp}})
    if (!file.empty() && !std::filesystem::is_regular_file(file, ec))
      return Status::NotFound(std::string(key) + " " + file + " does not exist; fix or remove it in " +
                              setup->config_path);
  setup->initrd = c.initrd;
  if (c.disk == DiskKind::kPlx) {
    if (setup->initrd.empty()) setup->initrd = DefaultInitrd();
    if (!std::filesystem::is_regular_file(setup->initrd, ec))
      return Status::NotFound("DISK=plx needs the node initramfs at " + setup->initrd +
                              ": run `make`, set INITRD, or set DISK=ubd in " + setup->config_path);
    for (const char* tool : {"plx", "plxd"})
      if (::access((ExecutableDir() + "/" + tool).c_str(), X_OK) != 0)
        return Status::NotFound(std::string("DISK=plx needs ") + tool + " beside ssid in " + ExecutableDir() +
                                "; run `make`, or set DISK=ubd in " + setup->config_path);
  }
  return Status::OK();
}

}  // namespace ssiuml
