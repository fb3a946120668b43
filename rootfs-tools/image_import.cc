#include "rootfs-tools/image_import.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "cow/format.h"
#include "launcher/control_client.h"
#include "launcher/plx_store.h"
#include "launcher/tool_run.h"

namespace ssiuml {
namespace {

constexpr const char* kInstallQemuImg = "qemu-img is needed to read disk images: apt-get install qemu-utils";
// ext2/3/4: the superblock at byte 1024 has its magic 0xEF53 at offset 56.
constexpr size_t kExtMagicOffset = 1024 + 56;

std::string Mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// Removes a temporary file when it goes out of scope.
struct TempFile {
  Env* env;
  std::string path;
  ~TempFile() {
    if (!path.empty()) env->RemoveFile(path);
  }
};

Status ReadHead(Env* env, const std::string& raw, std::string* head) {
  std::unique_ptr<RandomRWFile> file;
  Status s = env->OpenRandomRead(raw, &file);
  if (!s.ok()) return s;
  head->resize(plx::kBlockSize);
  size_t got = 0;
  s = file->Read(0, head->size(), head->data(), &got);
  head->resize(got);
  return s;
}

// The first free snapshot name of base, base-2, base-3, ...
std::string FreeSnapshotName(const std::vector<std::string>& taken) {
  std::string name = "base";
  for (int n = 2; std::find(taken.begin(), taken.end(), name) != taken.end(); ++n) name = "base-" + std::to_string(n);
  return name;
}

}  // namespace

Status ParseImageInfo(std::string_view json, ImageInfo* info) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object() || !j.contains("format") || !j["format"].is_string() || !j.contains("virtual-size") ||
      !j["virtual-size"].is_number_unsigned())
    return Status::Corruption("qemu-img info printed no format and size");
  info->format = j["format"].get<std::string>();
  info->virtual_size = j["virtual-size"].get<uint64_t>();
  return Status::OK();
}

Status CheckImageSize(const std::string& image, uint64_t virtual_size) {
  if (virtual_size == 0) return Status::InvalidArgument(image + " is empty; import an image that holds a root file system");
  if (virtual_size > plx::kMaxVdiBytes)
    return Status::InvalidArgument(image + " is " + Mib(virtual_size) + ", more than a VDI holds (" +
                                   Mib(plx::kMaxVdiBytes) + "); shrink its file system first");
  return Status::OK();
}

Status CheckRootFileSystem(const std::string& image, std::string_view head) {
  if (head.size() > kExtMagicOffset + 1 && static_cast<uint8_t>(head[kExtMagicOffset]) == 0x53 &&
      static_cast<uint8_t>(head[kExtMagicOffset + 1]) == 0xEF)
    return Status::OK();
  if (head.size() >= 512 && static_cast<uint8_t>(head[510]) == 0x55 && static_cast<uint8_t>(head[511]) == 0xAA)
    return Status::InvalidArgument(image + " is a partitioned disk; nodes mount the whole disk as ext4, so import "
                                   "the root partition alone (e.g. extract it with qemu-img dd or virt-tar-out)");
  return Status::InvalidArgument(image + " holds no ext2/3/4 file system, which nodes mount as their root; "
                                 "import an image of one (mkfs.ext4 -d DIR makes one)");
}

std::string VdiNameFor(const std::string& image) {
  std::string name = image.substr(image.rfind('/') + 1);
  size_t dot = name.rfind('.');
  if (dot != std::string::npos && dot > 0) name.resize(dot);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '-';
  while (!name.empty() && !std::isalnum(static_cast<unsigned char>(name[0]))) name.erase(0, 1);
  if (name.size() > plx::kMaxVdiName) name.resize(plx::kMaxVdiName);
  return name.empty() ? "image" : name;
}

Status CheckImportName(const std::string& vdi) {
  if (!plx::ValidName(vdi, plx::kMaxVdiName))
    return Status::InvalidArgument("bad VDI name '" + vdi + "': use letters, digits, '.', '_' and '-', at most 127");
  bool node = vdi.size() > 4 && vdi.rfind("node", 0) == 0 &&
              std::all_of(vdi.begin() + 4, vdi.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (vdi == kRootVdi || node)
    return Status::InvalidArgument("VDI " + vdi + " is the cluster's own (" +
                                   (node ? "a node's disk" : "filled from ROOT") + "); pick another --name");
  return Status::OK();
}

Status ImportImage(Env* env, const ClusterPaths& paths, const std::string& image, const std::string& vdi,
                   std::string* snapshot) {
  if (::access(image.c_str(), R_OK) != 0) return Status::FromErrno("cannot read image " + image, errno);
  Status s = CheckImportName(vdi);
  if (!s.ok()) return s;
  ToolResult r;
  s = RunTool({"qemu-img", "info", "--output=json", image}, &r);
  if (s.IsNotFound()) return Status::NotFound(kInstallQemuImg);
  if (!s.ok()) return s;
  if (r.exit_code != 0)
    return Status::InvalidArgument(image + " is not a disk image qemu-img can read: " + r.ErrorLine());
  ImageInfo info;
  s = ParseImageInfo(r.out, &info);
  if (s.ok()) s = CheckImageSize(image, info.virtual_size);
  if (!s.ok()) return s;

  // Other formats become a sparse raw file beside the store (room for the
  // store is room for it), which plx fills the VDI from.
  s = env->CreateDirs(paths.DiskDir(), 0755);
  if (!s.ok()) return s;
  TempFile raw{env, ""};
  std::string source = image;
  if (info.format != "raw") {
    std::string tmpl = paths.DiskDir() + "/import-XXXXXX.raw";
    int fd = ::mkstemps(tmpl.data(), 4);
    if (fd < 0) return Status::FromErrno("create a temporary file in " + paths.DiskDir(), errno);
    ::close(fd);
    raw.path = source = tmpl;
    s = RunTool({"qemu-img", "convert", "-q", "-f", info.format, "-O", "raw", image, source}, &r);
    if (s.IsNotFound()) return Status::NotFound(kInstallQemuImg);
    if (s.ok() && r.exit_code != 0)
      s = Status::IOError("qemu-img could not convert " + image + " (" + info.format + ") to raw: " + r.ErrorLine());
    if (!s.ok()) return s;
  }
  std::string head;
  s = ReadHead(env, source, &head);
  if (s.ok()) s = CheckRootFileSystem(image, head);
  if (!s.ok()) return s;

  // While the cluster runs, its lock server arbitrates who writes a VDI.
  bool cleaned = false;
  bool locks = SupervisorRunning(paths, &cleaned);
  if (!env->FileExists(paths.Store())) s = RunPlx(paths, false, {"mkfs", paths.Store()});
  std::vector<StoreVdi> vdis;
  if (s.ok()) s = ListVdis(paths, &vdis);
  if (!s.ok()) return s;
  std::vector<std::string> snaps;
  if (std::any_of(vdis.begin(), vdis.end(), [&](const StoreVdi& v) { return v.name == vdi; })) {
    s = ListSnapshots(paths, vdi, &snaps);
  } else {
    uint64_t size = (info.virtual_size + plx::kBlockSize - 1) / plx::kBlockSize * plx::kBlockSize;
    s = RunPlx(paths, locks, {"vdi", "create", vdi, "--size", std::to_string(size)});
  }
  std::string snap = FreeSnapshotName(snaps);
  if (s.ok()) s = RunPlx(paths, locks, {"vdi", "fill", vdi, source});
  if (s.ok()) s = RunPlx(paths, locks, {"vdi", "snap", vdi, snap});
  if (!s.ok()) return s;
  *snapshot = vdi + "@" + snap;
  return Status::OK();
}

}  // namespace ssiuml
