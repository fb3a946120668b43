#include "launcher/plx_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "cow/format.h"
#include "launcher/spawner.h"
#include "launcher/tool_run.h"

namespace ssiuml {

bool IsSnapshotRef(const std::string& root) {
  return root.find('@') != std::string::npos && root.find('/') == std::string::npos;
}

Status ParseSnapshotRef(const std::string& ref, std::string* vdi, std::string* snap) {
  size_t at = ref.find('@');
  if (at == std::string::npos || ref.find('@', at + 1) != std::string::npos ||
      !plx::ValidName(ref.substr(0, at), plx::kMaxVdiName) ||
      !plx::ValidName(ref.substr(at + 1), plx::kMaxSnapName))
    return Status::InvalidArgument("'" + ref + "' is not VDI@SNAP (names of letters, digits, '.', '_', '-', "
                                   "e.g. debian@base as printed by rootfs-tools import)");
  *vdi = ref.substr(0, at);
  *snap = ref.substr(at + 1);
  return Status::OK();
}

Status RunPlx(const ClusterPaths& paths, bool locks, const std::vector<std::string>& args, std::string* out) {
  std::vector<std::string> argv = {ExecutableDir() + "/plx"};
  // mkfs names the store itself.
  if (args.at(0) != "mkfs") argv.insert(argv.end(), {"-s", paths.Store()});
  if (locks) argv.insert(argv.end(), {"--locks", paths.LockPortFile()});
  argv.insert(argv.end(), args.begin(), args.end());
  ToolResult r;
  Status s = RunTool(argv, &r);
  if (!s.ok()) return s;
  if (r.exit_code != 0) {
    std::string what = "plx " + args[0] + (args.size() > 1 ? " " + args[1] : "");
    return Status::IOError(what + " failed: " + (r.err.empty() ? "no message" : r.ErrorLine()));
  }
  if (out != nullptr) *out = std::move(r.out);
  return Status::OK();
}

Status ListVdis(const ClusterPaths& paths, std::vector<StoreVdi>* vdis) {
  std::string out;
  Status s = RunPlx(paths, false, {"vdi", "list", "--json"}, &out);
  if (!s.ok()) return s;
  auto json = nlohmann::json::parse(out, nullptr, false);
  if (!json.is_array()) return Status::Corruption("plx vdi list printed no JSON list");
  vdis->clear();
  for (const auto& v : json) vdis->push_back({v.value("name", ""), v.value("origin", "")});
  return Status::OK();
}

Status ListSnapshots(const ClusterPaths& paths, const std::string& vdi, std::vector<std::string>* names) {
  std::string out;
  Status s = RunPlx(paths, false, {"vdi", "snaps", vdi, "--json"}, &out);
  if (!s.ok()) return s;
  auto json = nlohmann::json::parse(out, nullptr, false);
  if (!json.is_array()) return Status::Corruption("plx vdi snaps printed no JSON list");
  names->clear();
  for (const auto& snap : json) names->push_back(snap.value("name", ""));
  return Status::OK();
}

Status CheckRootSnapshot(const ClusterPaths& paths, const std::string& ref) {
  std::string vdi, snap;
  Status s = ParseSnapshotRef(ref, &vdi, &snap);
  if (!s.ok()) return s;
  const std::string fix = "; `rootfs-tools import --cluster " + paths.name + " --name " + vdi + " IMAGE` makes one";
  struct stat st;
  if (::stat(paths.Store().c_str(), &st) != 0)
    return Status::NotFound("cluster " + paths.name + " has no plx store yet, so no snapshot " + ref + fix);
  std::vector<std::string> snaps;
  s = ListSnapshots(paths, vdi, &snaps);
  if (s.ok() && std::find(snaps.begin(), snaps.end(), snap) != snaps.end()) return Status::OK();
  return Status::NotFound("no snapshot " + ref + " in cluster " + paths.name + "'s store" + fix);
}

Status PrepareStore(Env* env, const ClusterPaths& paths, const std::string& root, std::string* base) {
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) return Status::FromErrno("ROOT " + root, errno);
  // The stamp names the ROOT version the latest base snapshot holds.
  std::string stamp = root + " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtime);
  std::string recorded;
  bool fresh_store = !env->FileExists(paths.Store());
  if (!fresh_store && env->ReadFileToString(paths.StoreRootStamp(), &recorded).ok()) {
    size_t nl = recorded.find('\n');
    if (nl != std::string::npos && recorded.substr(0, nl) == stamp) {
      *base = std::string(kRootVdi) + "@" + recorded.substr(nl + 1);
      while (!base->empty() && base->back() == '\n') base->pop_back();
      return Status::OK();
    }
  }
  std::string snapshot = "base-" + std::to_string(env->NowMicros() / 1000000);
  Status s;
  if (fresh_store) s = RunPlx(paths, true, {"mkfs", paths.Store()});
  // A store rootfs-tools import made has no root VDI yet.
  bool have_root = false;
  std::vector<StoreVdi> vdis;
  if (s.ok() && !fresh_store) s = ListVdis(paths, &vdis);
  for (const auto& v : vdis) have_root = have_root || v.name == kRootVdi;
  if (s.ok() && !have_root) s = RunPlx(paths, true, {"vdi", "create", kRootVdi, "--size", std::to_string(st.st_size)});
  if (s.ok()) s = RunPlx(paths, true, {"vdi", "fill", kRootVdi, root});
  if (s.ok()) s = RunPlx(paths, true, {"vdi", "snap", kRootVdi, snapshot});
  if (!s.ok()) return s;
  *base = std::string(kRootVdi) + "@" + snapshot;
  return env->WriteFileAtomic(paths.StoreRootStamp(), stamp + "\n" + snapshot + "\n");
}

}  // namespace ssiuml
