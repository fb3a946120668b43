// plxd: serves VDIs of a plx store to UML nodes as vhost-user-blk devices,
// one unix socket per node, many nodes per daemon. A disk opened with a CPU
// is served from a thread pinned to that CPU (ssid puts each node on one CPU
// and asks for its disk there); the others, and the control socket, from the
// main event loop.
// A control socket (JSON lines, documented in cow/PLXD.md) creates clones,
// deletes, opens, closes, lists, snapshots (live) and reports per-VDI
// statistics. With --file it serves one raw image instead
// (the protocol tests and benchmarks use that). With --locks, the VDIs it
// opens are owned through the cluster's lock server (cow/lock_server_owners.h).
#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/event_loop.h"
#include "common/json_line_server.h"
#include "common/log.h"
#include "common/loop_thread.h"
#include "common/termination.h"
#include "cow/faulty_block_device.h"
#include "cow/lock_server_owners.h"
#include "cow/plx.h"
#include "cow/vdi_block_device.h"
#include "cow/vhost_blk_server.h"

namespace po = boost::program_options;
using namespace ssiuml;

namespace {

constexpr int kProtocolVersion = 1;

class Daemon {
 public:
  Daemon(EventLoop* loop, std::unique_ptr<plx::Store> store) : loop_(loop), store_(std::move(store)) {}
  // Each server goes on the thread that serves it, before the threads stop.
  ~Daemon() {
    for (auto& entry : servers_) OnServerThread(entry.second, [&entry] { entry.second.server.reset(); });
  }

  Status ServeFile(const std::string& image, const std::string& socket) {
    std::unique_ptr<BlockDevice> device;
    Status s = OpenFileBlockDevice(image, false, &device);
    if (!s.ok()) return s;
    return Serve(image, std::move(device), socket, -1);
  }

  Status ListenControl(const std::string& path) { return control_.Listen(path); }

 private:
  struct Served {
    LoopThread* thread = nullptr;  // null: the main loop
    std::unique_ptr<vhost::VhostBlkServer> server;
  };

  // A server's watches and state belong to the loop serving it.
  static void OnServerThread(Served& served, const std::function<void()>& fn) {
    if (served.thread != nullptr) served.thread->RunAndWait(fn);
    else fn();
  }

  // cpu -1: served from the main loop.
  Status Serve(const std::string& name, std::unique_ptr<BlockDevice> device, const std::string& socket, int cpu) {
    Served served;
    if (cpu >= 0) {
      std::unique_ptr<LoopThread>& thread = threads_[cpu];
      if (!thread) {
        Status s = LoopThread::Start(cpu, &thread);
        if (!s.ok()) {
          threads_.erase(cpu);
          return s;
        }
      }
      served.thread = thread.get();
    }
    EventLoop* loop = served.thread != nullptr ? served.thread->loop() : loop_;
    // Every disk can be failed on request (ssi-nemesis disk faults).
    served.server = std::make_unique<vhost::VhostBlkServer>(loop, socket,
                                                            std::make_shared<FaultyBlockDevice>(std::move(device)));
    Status s;
    OnServerThread(served, [&] { s = served.server->Listen(); });
    if (!s.ok()) return s;  // nothing is watched yet: the server may go from here
    spdlog::info("serving {} at {}{}", name, socket, cpu >= 0 ? " from CPU " + std::to_string(cpu) : "");
    servers_[name] = std::move(served);
    return Status::OK();
  }

  static nlohmann::json Fail(const std::string& error) {
    return nlohmann::json{{"v", kProtocolVersion}, {"ok", false}, {"error", error}};
  }

  // A field of another type throws, which control_ answers: fields are read before anything changes.
  nlohmann::json Execute(const std::string& line) {
    nlohmann::json req = nlohmann::json::parse(line, nullptr, false);
    if (!req.is_object() || req.value("v", 0) != kProtocolVersion || !req.contains("cmd") ||
        !req["cmd"].is_string())
      return Fail("expected {\"v\":1,\"cmd\":...}");
    std::string cmd = req["cmd"];
    std::string vdi = req.contains("vdi") && req["vdi"].is_string() ? req["vdi"].get<std::string>() : "";
    nlohmann::json ok = {{"v", kProtocolVersion}, {"ok", true}};
    if (cmd == "list" || cmd == "stats") {
      nlohmann::json vdis = nlohmann::json::array();
      for (auto& entry : servers_) {
        const std::string& name = entry.first;
        Served& served = entry.second;
        nlohmann::json v;
        OnServerThread(served, [&, server = served.server.get()] {
          const vhost::BlkStats& st = server->stats();
          v = {{"vdi", name},
               {"socket", server->socket_path()},
               {"connected", server->connected()},
               {"fault", FaultName(*server)}};
          if (cmd == "stats")
            v["stats"] = {{"reads", st.reads},       {"writes", st.writes},   {"flushes", st.flushes},
                          {"bytes_read", st.bytes_read}, {"bytes_written", st.bytes_written},
                          {"errors", st.errors},     {"unsupported", st.unsupported},
                          {"refused", st.refused_chains}};
        });
        if (served.thread != nullptr) v["cpu"] = served.thread->cpu();
        vdis.push_back(v);
      }
      ok["vdis"] = vdis;
      return ok;
    }
    if (cmd == "vdis") {
      if (!store_) return Fail("plxd serves no store");
      std::vector<plx::VdiInfo> infos;
      Status s = store_->ListVdis(&infos);
      if (!s.ok()) return Fail(s.message());
      nlohmann::json names = nlohmann::json::array();
      for (const auto& info : infos) names.push_back(info.name);
      ok["vdis"] = names;
      return ok;
    }
    if (cmd == "du") {
      if (!store_) return Fail("plxd serves no store");
      std::vector<plx::DuInfo> du;
      Status s = store_->Du(&du);
      if (!s.ok()) return Fail(s.message());
      nlohmann::json vdis = nlohmann::json::array();
      for (const auto& d : du)
        vdis.push_back({{"vdi", d.name}, {"private_blocks", d.private_data + d.private_nodes},
                        {"shared_blocks", d.shared_data}});
      ok["du"] = vdis;
      return ok;
    }
    if (vdi.empty()) return Fail(cmd + " needs \"vdi\"");
    // Store changes go through plxd, the one process that has the store open.
    if (cmd == "create" || cmd == "delete") {
      if (!store_) return Fail("plxd serves no store");
      if (servers_.count(vdi) != 0) return Fail(vdi + " is being served; close it first");
      std::string from = req.contains("from") && req["from"].is_string() ? req["from"].get<std::string>() : "";
      Status s = cmd == "create" ? store_->CreateVdi(vdi, 0, from) : store_->Delete(vdi);
      return s.ok() ? ok : Fail(s.message());
    }
    if (cmd == "open") {
      if (!store_) return Fail("plxd serves no store");
      if (!req.contains("socket") || !req["socket"].is_string()) return Fail("open needs \"socket\"");
      int cpu = -1;
      if (req.contains("cpu")) {
        if (!req["cpu"].is_number_unsigned() || req["cpu"].get<uint64_t>() >= CPU_SETSIZE)
          return Fail("\"cpu\" must be a CPU number (0-" + std::to_string(CPU_SETSIZE - 1) + ")");
        cpu = req["cpu"].get<int>();
      }
      if (servers_.count(vdi) != 0) return Fail(vdi + " is already served");
      std::shared_ptr<plx::Vdi> handle;
      Status s = store_->OpenVdi(vdi, &handle);
      if (s.ok()) s = Serve(vdi, NewVdiBlockDevice(std::move(handle)), req["socket"].get<std::string>(), cpu);
      return s.ok() ? ok : Fail(s.message());
    }
    auto it = servers_.find(vdi);
    if (it == servers_.end()) return Fail(vdi + " is not served");
    Served& served = it->second;
    if (cmd == "close") {
      OnServerThread(served, [&served] { served.server.reset(); });
      servers_.erase(it);
      return ok;
    }
    if (cmd == "fault") {
      std::string fault = req.value("fault", std::string());
      if (fault != "none" && fault != "stall" && fault != "error")
        return Fail("fault must be none, stall or error");
      OnServerThread(served, [&] {
        dynamic_cast<FaultyBlockDevice&>(served.server->device()).set_failing(fault == "error");
        served.server->SetStalled(fault == "stall");
      });
      spdlog::warn("{}: disk fault {}", vdi, fault);
      return ok;
    }
    if (cmd == "snapshot") {
      if (!store_) return Fail("plxd serves no store");
      std::shared_ptr<plx::Vdi> handle;
      plx::SnapshotInfo info;
      // Requests run one at a time on the loop serving the VDI, so between
      // two of them it is quiescent: the snapshot needs no pause the guest
      // could see.
      std::string name = req.value("name", std::string());
      Status s;
      OnServerThread(served, [&] {
        s = store_->OpenVdi(vdi, &handle);
        if (s.ok()) s = handle->Snapshot(name, &info);
      });
      if (!s.ok()) return Fail(s.message());
      ok["snapshot"] = {{"id", info.id}, {"name", info.name}};
      return ok;
    }
    return Fail("unknown command " + cmd);
  }

  static const char* FaultName(vhost::VhostBlkServer& server) {
    if (server.stalled()) return "stall";
    return dynamic_cast<FaultyBlockDevice&>(server.device()).failing() ? "error" : "none";
  }

  EventLoop* loop_;
  std::unique_ptr<plx::Store> store_;
  JsonLineServer control_{loop_, [this](const std::string& line) { return Execute(line); }};
  std::map<int, std::unique_ptr<LoopThread>> threads_;  // by CPU; outlive servers_
  std::map<std::string, Served> servers_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string store_path, control, file, socket, log_file, locks;
  bool verbose = false, stdin_eof = false;
  po::options_description options("plxd options");
  options.add_options()("store", po::value(&store_path), "plx store whose VDIs to serve")(
      "control", po::value(&control), "control socket (JSON lines)")(
      "file", po::value(&file), "serve this raw image instead of a store")(
      "socket", po::value(&socket), "vhost-user socket for --file")(
      "locks", po::value(&locks), "lock server owning the VDIs for writing: IP:PORT, unix:PATH or its port file")(
      "log", po::value(&log_file), "log file (default stderr)")(
      "exit-on-stdin-eof", po::bool_switch(&stdin_eof), "exit when stdin closes (supervised)")(
      "verbose,v", po::bool_switch(&verbose), "debug logging")("help,h", "this help");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "plxd: %s\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "usage: plxd --store STORE --control SOCK [--locks SERVER] | plxd --file IMAGE --socket SOCK\n"
              << options;
    return 0;
  }
  if (store_path.empty() == file.empty() || (!file.empty() && socket.empty()) ||
      (!store_path.empty() && control.empty()) || (!locks.empty() && store_path.empty())) {
    std::fprintf(stderr, "plxd: give --store STORE --control SOCK [--locks SERVER], or --file IMAGE --socket SOCK\n");
    return 2;
  }
  SetupLogging("plxd", verbose, log_file);
  ::signal(SIGPIPE, SIG_IGN);
  // First, so the lock client's threads start with the signals blocked.
  EventLoop loop;
  Status s = loop.Init();
  UniqueFd signal_fd = QuitLoopOnTermination(&loop, stdin_eof);
  // Outlives the store: its sessions hold the VDIs' ownership.
  std::unique_ptr<plx::LockServerOwners> owners;
  if (s.ok() && !locks.empty()) {
    owners = std::make_unique<plx::LockServerOwners>(plx::LockServerOwnersOptions{locks, "plxd"});
    s = owners->Connect();
    if (s.ok()) spdlog::info("VDIs are owned through the lock server at {}", locks);
  }
  std::unique_ptr<plx::Store> store;
  if (s.ok() && !store_path.empty()) {
    plx::StoreOptions options;
    options.owners = owners.get();
    s = plx::Store::Open(store_path, options, &store);
  }
  if (!s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }
  Daemon daemon(&loop, std::move(store));
  if (s.ok() && !file.empty()) s = daemon.ServeFile(file, socket);
  if (s.ok() && !control.empty()) s = daemon.ListenControl(control);
  if (!s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }
  loop.Run();
  spdlog::info("plxd exiting");
  return 0;
}
