// plx: the command-line tool for plx blockstores (the Parallax workflow).
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "cow/image.h"
#include "cow/lock_server_owners.h"
#include "cow/plx.h"

namespace po = boost::program_options;
using namespace ssiuml;
using namespace ssiuml::plx;

namespace {

constexpr const char* kUsage = R"(usage: plx [-v] [-s STORE] [--cluster NAME] [--locks SERVER] COMMAND ...

  plx mkfs STORE [--max-vdis N]      create an empty store
  plx vdi create NAME [--from VDI@SNAP] [--size SIZE]
  plx vdi list [--json]
  plx vdi fill VDI IMAGE             copy a raw or qcow2 image in
  plx vdi validate VDI IMAGE         compare with an image
  plx vdi export VDI[@SNAP] FILE     write a sparse raw image
  plx vdi snap VDI [NAME]            take a snapshot
  plx vdi snaps VDI [--json]         list snapshots
  plx vdi tree                       Graphviz dot of VDIs and their origins
  plx vdi delete VDI[@SNAP]          (blocks are reclaimed by plx gc)
  plx vdi commit VDI                 merge a clone into its base and renew it empty
  plx vdi du [--json]                blocks private to each VDI and shared
  plx check [--json]                 verify the store; exit 1 on corruption
  plx gc                             reclaim unreferenced blocks

STORE comes from -s/--store, else --cluster NAME's (~/.ssiuml/clusters/NAME/disk/cluster.plx),
else $PLX_STORE. SIZE takes K, M, G or T.

One process at a time writes a VDI. Beside STORE.lock, plx takes that ownership from
a lock server: --locks SERVER (IP:PORT, unix:PATH, or the file holding its port), or
with --cluster NAME the cluster's own while it runs. A VDI someone else writes is
refused with their name; snapshots (VDI@SNAP) can always be read.
)";

struct Args {
  std::vector<std::string> words;
  std::string store;
  std::string cluster;
  std::string locks;
  std::string from;
  std::string size;
  uint32_t max_vdis = MkfsOptions().max_vdis;
  bool json = false;
};

// A user error: one line, with the fix.
int Fail(const std::string& msg) {
  spdlog::error("{}", msg);
  return 1;
}

int Usage(const std::string& msg) {
  spdlog::error("{}; see plx --help", msg);
  return 2;
}

std::string Mib(uint64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }

std::string Time(uint64_t us) {
  std::time_t t = static_cast<std::time_t>(us / 1000000);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

bool ParseSize(const std::string& text, uint64_t* size) {
  char* end = nullptr;
  unsigned long long n = std::strtoull(text.c_str(), &end, 10);
  if (end == text.c_str()) return false;
  int shift = 0;
  switch (*end) {
    case '\0': break;
    case 'K': case 'k': shift = 10; break;
    case 'M': case 'm': shift = 20; break;
    case 'G': case 'g': shift = 30; break;
    case 'T': case 't': shift = 40; break;
    default: return false;
  }
  if (*end != '\0' && end[1] != '\0') return false;
  *size = static_cast<uint64_t>(n) << shift;
  return true;
}

int CmdVdiList(Store* store, const Args& a) {
  std::vector<VdiInfo> vdis;
  Status s = store->ListVdis(&vdis);
  if (!s.ok()) return Fail(s.message());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const VdiInfo& v : vdis)
      out.push_back({{"name", v.name}, {"size", v.size}, {"snapshots", v.snapshots}, {"origin", v.origin},
                     {"created_us", v.created_us}, {"uid", fmt::format("{:016x}", v.uid)}});
    fmt::print("{}\n", out.dump());
    return 0;
  }
  fmt::print("{:<24} {:>12} {:>6}  {:<24} {}\n", "NAME", "SIZE", "SNAPS", "ORIGIN", "CREATED");
  for (const VdiInfo& v : vdis)
    fmt::print("{:<24} {:>12} {:>6}  {:<24} {}\n", v.name, Mib(v.size), v.snapshots, v.origin.empty() ? "-" : v.origin,
               Time(v.created_us));
  return 0;
}

int CmdVdiSnaps(Store* store, const Args& a, const std::string& vdi) {
  std::vector<SnapshotInfo> snaps;
  Status s = store->ListSnapshots(vdi, &snaps);
  if (!s.ok()) return Fail(s.message());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const SnapshotInfo& sn : snaps)
      out.push_back({{"id", sn.id}, {"name", sn.name}, {"size", sn.size}, {"time_us", sn.time_us}});
    fmt::print("{}\n", out.dump());
    return 0;
  }
  fmt::print("{:>5}  {:<24} {:>12}  {}\n", "ID", "NAME", "SIZE", "TIME");
  for (const SnapshotInfo& sn : snaps)
    fmt::print("{:>5}  {:<24} {:>12}  {}\n", sn.id, sn.name, Mib(sn.size), Time(sn.time_us));
  return 0;
}

int CmdVdiDu(Store* store, const Args& a) {
  std::vector<DuInfo> du;
  Status s = store->Du(&du);
  if (!s.ok()) return Fail(s.message());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const DuInfo& d : du)
      out.push_back({{"name", d.name}, {"mapped_blocks", d.mapped}, {"private_blocks", d.private_data},
                     {"shared_blocks", d.shared_data}, {"private_nodes", d.private_nodes}});
    fmt::print("{}\n", out.dump());
    return 0;
  }
  fmt::print("{:<24} {:>12} {:>12} {:>12} {:>8}\n", "NAME", "MAPPED", "PRIVATE", "SHARED", "NODES");
  for (const DuInfo& d : du)
    fmt::print("{:<24} {:>12} {:>12} {:>12} {:>8}\n", d.name, Mib(d.mapped * kBlockSize),
               Mib(d.private_data * kBlockSize), Mib(d.shared_data * kBlockSize), d.private_nodes);
  return 0;
}

int CmdCheck(Store* store, const Args& a) {
  CheckReport r;
  Status s = store->Check(&r);
  if (!s.ok()) return Fail(s.message());
  if (a.json) {
    fmt::print("{}\n", nlohmann::json{{"errors", r.errors},
                                      {"notes", r.notes},
                                      {"blocks_used", r.blocks_used},
                                      {"blocks_leaked", r.blocks_leaked},
                                      {"extents", r.extents}}
                           .dump());
  } else {
    for (const std::string& e : r.errors) fmt::print("error: {}\n", e);
    for (const std::string& n : r.notes) fmt::print("note: {}\n", n);
    if (r.errors.empty())
      fmt::print("store is sound: {} blocks in use, {} leaked, {} extents\n", r.blocks_used, r.blocks_leaked,
                 r.extents);
  }
  if (!r.errors.empty()) return Fail(fmt::format("{} errors found; the store is damaged", r.errors.size()));
  return 0;
}

bool ValidClusterName(const std::string& name) {
  constexpr const char* kAllowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
  return !name.empty() && name.size() <= 32 && name.find_first_not_of(kAllowed) == std::string::npos;
}

// STATE/disk/cluster.plx: where ARCHITECTURE.md keeps a cluster's store.
std::string ClusterStore(const std::string& cluster) {
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home ? home : "/tmp") + "/.ssiuml/clusters/" + cluster + "/disk/cluster.plx";
}

// The lock server that owns VDIs for writing: --locks, else the running
// cluster's; none (STORE.lock alone) when no cluster of that name runs.
std::unique_ptr<LockServerOwners> Owners(const Args& a) {
  std::string server = a.locks;
  if (server.empty() && !a.cluster.empty()) {
    std::string port_file = lock::ClusterPortFile(a.cluster);
    if (Env::Default()->FileExists(port_file)) {
      server = port_file;
    } else {
      spdlog::debug("cluster {} is not running; VDI ownership by {}.lock alone", a.cluster, a.store);
    }
  }
  if (server.empty()) return nullptr;
  return std::make_unique<LockServerOwners>(LockServerOwnersOptions{server, "plx"});
}

int Run(const Args& a) {
  const std::vector<std::string>& w = a.words;
  auto need = [&](size_t n, const char* usage) {
    return w.size() == n ? 0 : Usage(fmt::format("usage: plx {}", usage));
  };
  if (w[0] == "mkfs") {
    if (int r = need(2, "mkfs STORE [--max-vdis N]")) return r;
    MkfsOptions options;
    options.max_vdis = a.max_vdis;
    Status s = Store::Mkfs(w[1], options);
    if (!s.ok()) return Fail(s.message());
    return 0;
  }
  if (w[0] != "vdi" && w[0] != "check" && w[0] != "gc") return Usage("unknown command '" + w[0] + "'");
  if (w[0] == "vdi" && w.size() < 2) return Usage("plx vdi needs a subcommand");
  if (a.store.empty()) return Usage("no store given; pass -s STORE or --cluster NAME, or set PLX_STORE");
  std::unique_ptr<LockServerOwners> owners = Owners(a);
  StoreOptions options;
  options.owners = owners.get();
  std::unique_ptr<Store> store;
  Status s = Store::Open(a.store, options, &store);
  if (!s.ok()) {
    if (w[0] == "check") fmt::print("error: {}\n", s.message());
    return Fail(s.message());
  }
  if (w[0] == "check") return need(1, "check [--json]") ? 2 : CmdCheck(store.get(), a);
  if (w[0] == "gc") {
    if (int r = need(1, "gc")) return r;
    GcResult g;
    s = store->Gc(&g);
    if (!s.ok()) return Fail(s.message());
    fmt::print("freed {} blocks ({}); {} in use", g.blocks_freed, Mib(g.blocks_freed * kBlockSize), g.blocks_used);
    if (g.extents_skipped > 0) fmt::print("; {} extents in use by other processes were skipped", g.extents_skipped);
    fmt::print("\n");
    return 0;
  }
  const std::string& cmd = w[1];
  if (cmd == "create") {
    if (int r = need(3, "vdi create NAME [--from VDI@SNAP] [--size SIZE]")) return r;
    uint64_t size = 0;
    if (!a.size.empty() && !ParseSize(a.size, &size)) return Usage("bad --size '" + a.size + "'");
    s = store->CreateVdi(w[2], size, a.from);
  } else if (cmd == "list") {
    if (int r = need(2, "vdi list [--json]")) return r;
    return CmdVdiList(store.get(), a);
  } else if (cmd == "fill" || cmd == "validate") {
    if (int r = need(4, "vdi fill|validate VDI IMAGE")) return r;
    std::shared_ptr<Vdi> vdi;
    s = store->OpenVdi(w[2], &vdi);
    CopyResult c;
    if (s.ok()) s = cmd == "fill" ? FillVdi(Env::Default(), vdi.get(), w[3], &c)
                                  : ValidateVdi(Env::Default(), vdi.get(), w[3], &c);
    if (!s.ok()) return Fail(s.message());
    if (cmd == "fill") {
      fmt::print("filled {} from {}: {}, {} blocks written\n", vdi->name(), w[3], Mib(c.bytes), c.blocks_stored);
      return 0;
    }
    if (!c.mismatch.empty()) return Fail(vdi->name() + " does not match " + w[3] + ": " + c.mismatch);
    fmt::print("{} matches {} ({})\n", vdi->name(), w[3], Mib(c.bytes));
    return 0;
  } else if (cmd == "export") {
    if (int r = need(4, "vdi export VDI[@SNAP] FILE")) return r;
    std::shared_ptr<Vdi> vdi;
    s = store->OpenVdi(w[2], &vdi);
    CopyResult c;
    if (s.ok()) s = ExportVdi(Env::Default(), vdi.get(), w[3], &c);
  } else if (cmd == "snap") {
    if (w.size() != 3 && w.size() != 4) return Usage("usage: plx vdi snap VDI [NAME]");
    std::shared_ptr<Vdi> vdi;
    s = store->OpenVdi(w[2], &vdi);
    SnapshotInfo info;
    if (s.ok()) s = vdi->Snapshot(w.size() == 4 ? w[3] : "", &info);
    if (s.ok()) fmt::print("{}@{}\n", vdi->name(), info.name);
  } else if (cmd == "snaps") {
    if (int r = need(3, "vdi snaps VDI [--json]")) return r;
    return CmdVdiSnaps(store.get(), a, w[2]);
  } else if (cmd == "tree") {
    if (int r = need(2, "vdi tree")) return r;
    std::string dot;
    s = store->Tree(&dot);
    if (s.ok()) fmt::print("{}", dot);
  } else if (cmd == "delete") {
    if (int r = need(3, "vdi delete VDI[@SNAP]")) return r;
    s = store->Delete(w[2]);
  } else if (cmd == "commit") {
    if (int r = need(3, "vdi commit VDI")) return r;
    CommitResult c;
    s = store->Commit(w[2], &c);
    if (s.ok())
      fmt::print("merged {} blocks of {} into {}; {} is now an empty clone of it\n", c.blocks_merged, w[2],
                 c.snapshot, w[2]);
  } else if (cmd == "du") {
    if (int r = need(2, "vdi du [--json]")) return r;
    return CmdVdiDu(store.get(), a);
  } else {
    return Usage("unknown command 'vdi " + cmd + "'");
  }
  if (!s.ok()) return Fail(s.message());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  bool verbose = false;
  po::options_description opts;
  opts.add_options()("help,h", "")("verbose,v", po::bool_switch(&verbose), "")(
      "store,s", po::value(&a.store), "")("cluster", po::value(&a.cluster), "")("locks", po::value(&a.locks), "")(
      "from", po::value(&a.from), "")("size", po::value(&a.size), "")(
      "max-vdis", po::value(&a.max_vdis), "")("json", po::bool_switch(&a.json), "")(
      "words", po::value(&a.words), "");
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    SetupLogging("plx", false);
    return Usage(e.what());
  }
  SetupLogging("plx", verbose);
  if (vm.count("help") != 0 || a.words.empty()) {
    fmt::print("{}", kUsage);
    return a.words.empty() && vm.count("help") == 0 ? 2 : 0;
  }
  if (vm.count("cluster") != 0) {
    if (!ValidClusterName(a.cluster))
      return Usage("bad cluster name '" + a.cluster + "': use 1-32 letters, digits, '-' or '_'");
    if (a.store.empty()) a.store = ClusterStore(a.cluster);
  }
  if (a.store.empty())
    if (const char* env = std::getenv("PLX_STORE")) a.store = env;
  return Run(a);
}
