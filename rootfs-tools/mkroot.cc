#include "rootfs-tools/mkroot.h"

#include <cctype>
#include <filesystem>

namespace ssiuml {
namespace {

constexpr const char* kPackagesHint = "Debian package names separated by commas, e.g. --packages etcd-server,etcd-client";

// Debian policy: lower case letters, digits, '+', '-', '.'; at least two
// characters, the first alphanumeric.
bool ValidPackageName(const std::string& name) {
  if (name.size() < 2 || !(std::islower(name[0]) || std::isdigit(name[0]))) return false;
  for (char c : name)
    if (!(std::islower(c) || std::isdigit(c) || c == '+' || c == '-' || c == '.')) return false;
  return true;
}

}  // namespace

Status CheckPackageList(const std::string& packages) {
  if (packages.empty()) return Status::InvalidArgument(std::string("--packages names no package: ") + kPackagesHint);
  size_t start = 0;
  for (;;) {
    size_t comma = packages.find(',', start);
    std::string name = packages.substr(start, comma - start);
    if (!ValidPackageName(name))
      return Status::InvalidArgument("bad package name '" + name + "' in --packages '" + packages + "': " +
                                     kPackagesHint);
    if (comma == std::string::npos) return Status::OK();
    start = comma + 1;
  }
}

Status MkrootCommand(const MkrootRequest& request, const std::string& bin_dir, std::vector<std::string>* argv,
                     std::string* image) {
  namespace fs = std::filesystem;
  if (request.packages_given && !request.debian)
    return Status::InvalidArgument("--packages needs --debian: the busybox root has no Debian packages");
  if (request.packages_given) {
    Status s = CheckPackageList(request.packages);
    if (!s.ok()) return s;
  }
  fs::path tree = fs::path(bin_dir).parent_path();
  fs::path share = tree / "share/ssiuml";
  fs::path out = request.output.empty() ? share / (request.debian ? "debian-root.img" : "root.img")
                                        : fs::absolute(request.output);
  *image = out.lexically_normal().string();
  std::string guest_bin = (tree / "guest-bin").string();
  if (!request.debian) {
    *argv = {(share / "rootfs-tools/mkroot.sh").string(), *image, guest_bin};
    return Status::OK();
  }
  *argv = {(share / "rootfs-tools/mkroot-debian.sh").string(), "-o", *image, "--guest-bin", guest_bin,
           "--cache", (tree / "debian-cache").string()};
  if (request.packages_given) argv->insert(argv->end(), {"--packages", request.packages});
  return Status::OK();
}

}  // namespace ssiuml
