// VDI write ownership through a real lockserver process: a second owner is
// refused and told who writes, snapshot readers are not, closing frees the
// VDI, and a session lost while the VDI is open stops its I/O for good.
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cow/fault_env.h"
#include "cow/lock_server_owners.h"
#include "cow/store_impl.h"
#include "cow/test_util.h"

using namespace ssiuml;
using namespace ssiuml::plx;

extern char** environ;

namespace {

constexpr uint64_t kVdiBytes = 16 << 20;

// The lockserver beside this test binary, with a short lease: heartbeats
// every 50 ms, a session expires after 4 missed.
class LockServerProcess {
 public:
  LockServerProcess() {
    char tmpl[] = "/tmp/plx-owners-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    char exe[4096] = {};
    REQUIRE(::readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    std::string bin = std::string(exe).substr(0, std::string(exe).rfind('/')) + "/lockserver";
    std::vector<std::string> args = {bin, "--tcp", "127.0.0.1:0", "--port-file", port_file(), "--log", dir_ + "/log",
                                     "--heartbeat-ms", "50", "--expiry-missed", "4"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    REQUIRE(::posix_spawn(&pid_, bin.c_str(), nullptr, nullptr, argv.data(), environ) == 0);
    for (int i = 0; i < 500 && !std::ifstream(port_file()).good(); i++)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(std::ifstream(port_file()).good());
  }
  ~LockServerProcess() {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(dir_);
  }
  std::string port_file() const { return dir_ + "/port"; }
  // A stopped server answers no heartbeat: its clients' leases run out.
  void Pause() { ::kill(pid_, SIGSTOP); }
  void Resume() { ::kill(pid_, SIGCONT); }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

// A store on an in-memory Env, opened by one "process" with its own lock
// server session.
struct OwnerProcess {
  LockServerOwners owners;
  std::unique_ptr<Store> store;

  OwnerProcess(FaultEnv* env, const LockServerProcess& server, const std::string& client)
      : owners(LockServerOwnersOptions{server.port_file(), client}) {
    StoreOptions o;
    o.env = env;
    o.owners = &owners;
    REQUIRE(Store::Open("/s.plx", o, &store).ok());
  }
  std::shared_ptr<Vdi> Open(const std::string& spec) {
    std::shared_ptr<Vdi> v;
    Status s = store->OpenVdi(spec, &v);
    INFO(s.ToString());
    REQUIRE(s.ok());
    return v;
  }
};

struct ServerFixture {
  LockServerProcess server;
  FaultEnv env;

  ServerFixture() {
    spdlog::set_level(spdlog::level::off);  // lost sessions are expected here
    MkfsOptions m;
    m.env = &env;
    m.max_vdis = 16;
    REQUIRE(Store::Mkfs("/s.plx", m).ok());
  }
};

}  // namespace

TEST_CASE("a VDI owned through the lock server is refused to a second writer, named, and freed by closing") {
  ServerFixture f;
  OwnerProcess a(&f.env, f.server, "holder"), b(&f.env, f.server, "other");
  REQUIRE(a.store->CreateVdi("node1", kVdiBytes, "").ok());
  auto v = a.Open("node1");
  REQUIRE(WriteTag(v.get(), 7, 1).ok());
  REQUIRE(v->Snapshot("s1", nullptr).ok());
  REQUIRE(WriteTag(v.get(), 7, 2).ok());

  std::shared_ptr<Vdi> w;
  Status s = b.store->OpenVdi("node1", &w);
  CHECK(s.IsBusy());
  const std::string who = "holder-" + std::to_string(::getpid()) + "@";
  CHECK(s.message().find("VDI node1 is open for writing by " + who) == 0);
  CHECK(s.message().find("read a snapshot: node1@SNAP") != std::string::npos);
  s = b.store->Delete("node1");
  CHECK(s.IsBusy());
  CHECK(s.message().find(who) != std::string::npos);

  // The lock server lists the owner under the store's and the VDI's name.
  uint64_t uid = static_cast<StoreImpl*>(a.store.get())->superblock().store_uid;
  std::string address;
  REQUIRE(lock::AddressFromPortFile(f.server.port_file(), &address).ok());
  std::unique_ptr<lock::LockClient> look;
  REQUIRE(lock::LockClient::Connect(address, &look).ok());
  REQUIRE(look->HelloHost("look").ok());
  std::vector<std::string> lines;
  REQUIRE(look->QueryStatus(&lines).ok());
  bool listed = false;
  for (const std::string& line : lines)
    listed = listed || line.find("kind=holder name=" + LockServerOwners::LockName(uid, "node1") + " mode=EX") == 0;
  CHECK(listed);

  // Readers take no lock: snapshots never change.
  auto snap = b.Open("node1@s1");
  CHECK(ReadTag(snap.get(), 7) == 1);
  std::vector<VdiInfo> vdis;
  CHECK(b.store->ListVdis(&vdis).ok());

  v.reset();  // closed: flushed, then released
  w = b.Open("node1");
  CHECK(ReadTag(w.get(), 7) == 2);
  CHECK(WriteTag(w.get(), 7, 3).ok());
  CHECK(w->Flush().ok());
}

TEST_CASE("a VDI whose lock server session is lost refuses I/O until it is opened again") {
  ServerFixture f;
  OwnerProcess a(&f.env, f.server, "holder");
  REQUIRE(a.store->CreateVdi("node1", kVdiBytes, "").ok());
  auto v = a.Open("node1");
  REQUIRE(WriteTag(v.get(), 3, 1).ok());
  REQUIRE(v->Flush().ok());

  f.server.Pause();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // past the 150 ms lease
  Status s = v->Write(3 * kBlockSize, BlockData(2, 3));
  CHECK(s.message().find("lost write ownership of VDI node1") == 0);
  CHECK(!v->Flush().ok());
  std::string buf(kBlockSize, '\0');
  CHECK(!v->Read(3 * kBlockSize, kBlockSize, buf.data()).ok());
  f.server.Resume();
  v.reset();

  // The old session expires at the server; then a new one takes the VDI.
  std::shared_ptr<Vdi> again;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    s = a.store->OpenVdi("node1", &again);
    if (s.IsBusy()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (s.IsBusy() && std::chrono::steady_clock::now() < deadline);
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK(ReadTag(again.get(), 3) == 1);  // what was flushed before the loss
  CHECK(WriteTag(again.get(), 3, 4).ok());
  CHECK(again->Flush().ok());
}

TEST_CASE("an unreachable lock server refuses the open with its address") {
  FaultEnv env;
  MkfsOptions m;
  m.env = &env;
  REQUIRE(Store::Mkfs("/s.plx", m).ok());
  LockServerOwners owners(LockServerOwnersOptions{"127.0.0.1:1", "plx"});
  StoreOptions o;
  o.env = &env;
  o.owners = &owners;
  std::unique_ptr<Store> store;
  REQUIRE(Store::Open("/s.plx", o, &store).ok());
  REQUIRE(store->CreateVdi("node1", kVdiBytes, "").ok());
  std::shared_ptr<Vdi> v;
  Status s = store->OpenVdi("node1", &v);
  CHECK(s.message().find("cannot own VDI node1 for writing: lock server 127.0.0.1:1: ") == 0);
  // Reading snapshots and listing need no lock server.
  std::vector<VdiInfo> vdis;
  CHECK(store->ListVdis(&vdis).ok());
}
