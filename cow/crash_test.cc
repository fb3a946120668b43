// The crash test: a writer process fills a VDI in rounds (writes, flush,
// report "acked R", and a snapshot every few rounds) and is killed with
// SIGKILL at a random moment, again and again on the same store. After each
// kill the store must open, pass check, hold every acknowledged round, and
// its snapshots must be exact.
//
//   plx_crash_test DIR [KILLS]      the test
//   plx_crash_test --writer STORE ITER SEED    the writer (run by the test)
#include <fmt/core.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <set>

#include "cow/test_util.h"

using namespace ssiuml;
using namespace ssiuml::plx;

namespace {

constexpr uint64_t kBlocks = 8192;  // a 32 MiB VDI
constexpr int kRounds = 100000;

// Round r of iteration iter writes these blocks with these tags (0: zero).
std::map<uint64_t, uint64_t> RoundWrites(uint64_t seed, int iter, int round) {
  std::mt19937_64 rng(seed * 1000003 + iter * 7919 + round);
  std::map<uint64_t, uint64_t> w;
  int runs = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < runs; i++) {
    uint64_t a = rng() % (kBlocks - 16);
    uint64_t n = 1 + rng() % 16;
    for (uint64_t k = 0; k < n; k++)
      w[a + k] = rng() % 10 == 0 ? 0 : (uint64_t(iter) << 40 | uint64_t(round) << 8 | k) + 1;
  }
  return w;
}

int Writer(const std::string& path, int iter, uint64_t seed) {
  std::unique_ptr<Store> store;
  Status s = Store::Open(path, StoreOptions(), &store);
  std::shared_ptr<Vdi> v;
  if (s.ok()) s = store->OpenVdi("disk", &v);
  for (int r = 1; s.ok() && r < kRounds; r++) {
    for (const auto& [a, tag] : RoundWrites(seed, iter, r)) {
      s = v->Write(a * kBlockSize, BlockData(tag, a));
      if (!s.ok()) break;
    }
    if (s.ok()) s = v->Flush();
    if (s.ok() && r % 5 == 0) s = v->Snapshot(fmt::format("i{}r{}", iter, r), nullptr);
    if (s.ok()) {
      fmt::print("acked {}\n", r);
      std::fflush(stdout);
    }
  }
  fmt::print(stderr, "writer: {}\n", s.ToString());
  return 1;
}

bool Fail(const std::string& msg) {
  fmt::print(stderr, "plx_crash_test: {}\n", msg);
  return false;
}

// Checks the store after iteration iter was killed having acknowledged
// round acked. state holds each block's tag before the iteration and is
// updated to what is on disk now.
bool Verify(const std::string& path, int iter, uint64_t seed, int acked, std::map<uint64_t, uint64_t>* state) {
  std::unique_ptr<Store> store;
  Status s = Store::Open(path, StoreOptions(), &store);
  if (!s.ok()) return Fail("open after kill: " + s.ToString());
  CheckReport report;
  s = store->Check(&report);
  if (!s.ok()) return Fail("check: " + s.ToString());
  for (const std::string& e : report.errors) Fail("check: " + e);
  if (!report.errors.empty()) return false;
  // Expected after each acknowledged round, and what later rounds may add.
  std::map<uint64_t, uint64_t> expect = *state;
  std::map<int, std::map<uint64_t, uint64_t>> at_round;
  for (int r = 1; r <= acked; r++) {
    for (const auto& [a, tag] : RoundWrites(seed, iter, r)) expect[a] = tag;
    if (r % 5 == 0) at_round[r] = expect;
  }
  std::map<uint64_t, std::set<uint64_t>> later;
  for (int r = acked + 1; r <= acked + 2; r++)
    for (const auto& [a, tag] : RoundWrites(seed, iter, r)) later[a].insert(tag);
  std::shared_ptr<Vdi> v;
  s = store->OpenVdi("disk", &v);
  if (!s.ok()) return Fail("open disk: " + s.ToString());
  std::string buf(kBlocks * kBlockSize, '\0');
  s = v->Read(0, buf.size(), buf.data());
  if (!s.ok()) return Fail("read disk: " + s.ToString());
  for (uint64_t a = 0; a < kBlocks; a++) {
    uint64_t got = TagOf(buf.data() + a * kBlockSize, a);
    uint64_t want = expect.count(a) ? expect[a] : 0;
    bool torn_ok = later.count(a) != 0 && got == ~uint64_t{0};
    if (got != want && later[a].count(got) == 0 && !torn_ok)
      return Fail(fmt::format("iteration {}: block {} holds {:x}, acknowledged {:x} (round {})", iter, a, got, want,
                              acked));
    (*state)[a] = got;
  }
  for (const auto& [r, blocks] : at_round) {
    std::shared_ptr<Vdi> snap;
    s = store->OpenVdi(fmt::format("disk@i{}r{}", iter, r), &snap);
    if (!s.ok()) return Fail("snapshot: " + s.ToString());
    for (const auto& [a, tag] : blocks)
      if (ReadTag(snap.get(), a) != tag) return Fail(fmt::format("snapshot i{}r{} block {} differs", iter, r, a));
  }
  // Keep the store small: drop this iteration's snapshots and collect.
  for (const auto& [r, blocks] : at_round) (void)store->Delete(fmt::format("disk@i{}r{}", iter, r));
  v.reset();
  GcResult g;
  s = store->Gc(&g);
  if (!s.ok()) return Fail("gc: " + s.ToString());
  return true;
}

int Test(const std::string& dir, int kills) {
  std::string path = dir + "/crash.plx";
  MkfsOptions m;
  Status s = Store::Mkfs(path, m);
  std::unique_ptr<Store> store;
  if (s.ok()) s = Store::Open(path, StoreOptions(), &store);
  if (s.ok()) s = store->CreateVdi("disk", kBlocks * kBlockSize, "");
  store.reset();
  if (!s.ok()) return Fail("set up: " + s.ToString()), 1;
  std::map<uint64_t, uint64_t> state;
  uint64_t seed = static_cast<uint64_t>(::getpid());
  std::mt19937_64 rng(seed);
  char self[4096];
  ssize_t len = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (len < 0) return Fail("readlink /proc/self/exe"), 1;
  self[len] = '\0';
  for (int iter = 1; iter <= kills; iter++) {
    int out[2];
    if (::pipe(out) != 0) return Fail("pipe"), 1;
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::string it = std::to_string(iter), sd = std::to_string(seed);
      ::execl(self, self, "--writer", path.c_str(), it.c_str(), sd.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    ::usleep(static_cast<useconds_t>(20000 + rng() % 300000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
    ::close(out[0]);
    int acked = 0;
    for (size_t p = text.find("acked "); p != std::string::npos; p = text.find("acked ", p + 1))
      if (text.find('\n', p) != std::string::npos) acked = std::atoi(text.c_str() + p + 6);
    if (!WIFSIGNALED(status)) return Fail("the writer exited before it was killed"), 1;
    if (!Verify(path, iter, seed, acked, &state)) return 1;
    fmt::print("kill {}: {} rounds acknowledged, store sound\n", iter, acked);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--writer") return Writer(argv[2], std::atoi(argv[3]), std::strtoull(argv[4], nullptr, 10));
  if (argc != 2 && argc != 3) {
    fmt::print(stderr, "usage: plx_crash_test DIR [KILLS]\n");
    return 2;
  }
  return Test(argv[1], argc == 3 ? std::atoi(argv[2]) : 15);
}
