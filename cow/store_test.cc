#include <catch2/catch.hpp>
#include <thread>

#include "cow/fault_env.h"
#include "cow/store_impl.h"
#include "cow/test_util.h"

using namespace ssiuml;
using namespace ssiuml::plx;

namespace {

struct Fixture {
  FaultEnv env;
  std::string path = "/s.plx";
  std::unique_ptr<Store> store;

  Fixture() {
    MkfsOptions m;
    m.env = &env;
    m.max_vdis = 16;
    REQUIRE(Store::Mkfs(path, m).ok());
    Reopen();
  }
  void Reopen() {
    store.reset();
    StoreOptions o;
    o.env = &env;
    Status s = Store::Open(path, o, &store);
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  std::shared_ptr<Vdi> Open(const std::string& spec) {
    std::shared_ptr<Vdi> v;
    Status s = store->OpenVdi(spec, &v);
    INFO(s.ToString());
    REQUIRE(s.ok());
    return v;
  }
  void CheckClean() {
    CheckReport r;
    REQUIRE(store->Check(&r).ok());
    for (const auto& e : r.errors) FAIL_CHECK(e);
  }
};

constexpr uint64_t kMiB = 1 << 20;

}  // namespace

TEST_CASE("plx writes, reads, snapshots and clones") {
  Fixture f;
  REQUIRE(f.store->CreateVdi("root", 64 * kMiB, "").ok());
  {
    auto root = f.Open("root");
    for (uint64_t a = 0; a < 100; a++) REQUIRE(WriteTag(root.get(), a * 37, a + 1).ok());
    REQUIRE(root->Flush().ok());
    SnapshotInfo info;
    REQUIRE(root->Snapshot("base", &info).ok());
    CHECK(info.id == 1);
    // Writes after the snapshot do not show through it.
    REQUIRE(WriteTag(root.get(), 0, 999).ok());
    auto base = f.Open("root@base");
    CHECK(ReadTag(base.get(), 0) == 1);
    CHECK(ReadTag(root.get(), 0) == 999);
    CHECK(base->Write(0, BlockData(1, 0)).code() == Status::Code::kNotSupported);
  }
  REQUIRE(f.store->CreateVdi("node1", 0, "root@base").ok());
  REQUIRE(f.store->CreateVdi("node2", 0, "root@1").ok());
  auto n1 = f.Open("node1");
  auto n2 = f.Open("node2");
  CHECK(n1->size() == 64 * kMiB);
  REQUIRE(WriteTag(n1.get(), 37, 5000).ok());
  CHECK(ReadTag(n1.get(), 37) == 5000);
  CHECK(ReadTag(n2.get(), 37) == 2);
  CHECK(ReadTag(n1.get(), 0) == 1);
  CHECK(ReadTag(n1.get(), 1) == 0);
  n1.reset();
  n2.reset();
  f.Reopen();
  auto again = f.Open("node1");
  CHECK(ReadTag(again.get(), 37) == 5000);
  again.reset();
  f.CheckClean();
}

TEST_CASE("plx clone costs only its registry block until written") {
  Fixture f;
  REQUIRE(f.store->CreateVdi("root", 512 * kMiB, "").ok());
  {
    auto root = f.Open("root");
    std::string chunk;
    for (uint64_t a = 0; a < 256; a++) chunk += BlockData(a + 1, a);
    for (uint64_t off = 0; off < 512 * kMiB; off += kMiB)
      if (off % (8 * kMiB) == 0) REQUIRE(root->Write(off, chunk).ok());
    REQUIRE(root->Snapshot("base", nullptr).ok());
  }
  uint64_t before = f.env.Contents(f.path)->size();
  REQUIRE(f.store->CreateVdi("node1", 0, "root@base").ok());
  auto n1 = f.Open("node1");
  REQUIRE(n1->Flush().ok());
  CHECK(f.env.Contents(f.path)->size() == before);
  std::vector<DuInfo> du;
  REQUIRE(f.store->Du(&du).ok());
  REQUIRE(du.size() == 2);
  CHECK(du[1].private_data == 0);
  CHECK(du[1].private_nodes == 0);
  CHECK(du[1].shared_data == du[0].shared_data);
  // The first write copies one path: three nodes and the data block.
  REQUIRE(WriteTag(n1.get(), 5, 77).ok());
  REQUIRE(f.store->Du(&du).ok());
  CHECK(du[1].private_data == 1);
  CHECK(du[1].private_nodes == 3);
}

TEST_CASE("plx zero blocks are never stored") {
  Fixture f;
  REQUIRE(f.store->CreateVdi("v", 16 * kMiB, "").ok());
  auto v = f.Open("v");
  REQUIRE(v->Write(0, std::string(4 * kMiB, '\0')).ok());
  CHECK(v->Stats().blocks_allocated == 0);
  REQUIRE(WriteTag(v.get(), 3, 9).ok());
  REQUIRE(v->Write(3 * kBlockSize, BlockData(0, 3)).ok());
  CHECK(ReadTag(v.get(), 3) == 0);
  v.reset();
  GcResult g;
  REQUIRE(f.store->Gc(&g).ok());
  std::vector<DuInfo> du;
  REQUIRE(f.store->Du(&du).ok());
  CHECK(du[0].mapped == 0);
}

TEST_CASE("plx reads into scattered buffers across stored and zero blocks") {
  Fixture f;
  REQUIRE(f.store->CreateVdi("v", 16 * kMiB, "").ok());
  auto v = f.Open("v");
  REQUIRE(WriteTag(v.get(), 1, 11).ok());
  REQUIRE(WriteTag(v.get(), 2, 12).ok());
  REQUIRE(WriteTag(v.get(), 4, 14).ok());
  std::string want(6 * kBlockSize, '\0');
  REQUIRE(v->Read(0, want.size(), want.data()).ok());
  // Pieces that straddle blocks, as a guest's pages rarely line up with runs.
  std::string got(want.size(), 'x');
  const size_t cuts[] = {0, 100, 4096, 9000, 9001, 20000, want.size()};
  std::vector<iovec> bufs;
  for (size_t i = 0; i + 1 < std::size(cuts); i++) bufs.push_back({got.data() + cuts[i], cuts[i + 1] - cuts[i]});
  REQUIRE(v->ReadV(0, bufs).ok());
  CHECK(got == want);
  CHECK(got.substr(0, kBlockSize) == std::string(kBlockSize, '\0'));
  std::vector<iovec> unaligned{{got.data(), 100}};
  CHECK(v->ReadV(0, unaligned).IsInvalidArgument());
}

TEST_CASE("plx writes from scattered buffers, zero blocks among them unmapped") {
  Fixture f;
  REQUIRE(f.store->CreateVdi("v", 16 * kMiB, "").ok());
  auto v = f.Open("v");
  REQUIRE(WriteTag(v.get(), 1, 9).ok());
  std::string data;
  for (uint64_t a = 0; a < 6; a++) data += a == 1 || a == 3 ? std::string(kBlockSize, '\0') : BlockData(7, a);
  // Pieces that straddle blocks; block 1 (mapped before) and block 3 are zeros
  // split across pieces.
  const size_t cuts[] = {0, 100, 4096, 9000, 9001, 20000, data.size()};
  std::vector<iovec> bufs;
  for (size_t i = 0; i + 1 < std::size(cuts); i++) bufs.push_back({data.data() + cuts[i], cuts[i + 1] - cuts[i]});
  REQUIRE(v->WriteV(0, bufs).ok());
  std::string got(data.size(), 'x');
  REQUIRE(v->Read(0, got.size(), got.data()).ok());
  CHECK(got == data);
  CHECK(v->Stats().blocks_allocated == 1 + 4);
  REQUIRE(v->Flush().ok());
  v.reset();
  std::vector<DuInfo> du;
  REQUIRE(f.store->Du(&du).ok());
  CHECK(du[0].mapped == 4);
  std::vector<iovec> unaligned{{data.data(), 100}};
  CHECK(f.Open("v")->WriteV(0, unaligned).IsInvalidArgument());
  f.CheckClean();
}

TEST_CASE("plx commit merges a clone into its base and renews it empty") {
  Fixture f;
  REQUIRE(f.store->CreateVdi("root", 8 * kMiB, "").ok());
  {
    auto root = f.Open("root");
    for (uint64_t a = 0; a < 64; a++) REQUIRE(WriteTag(root.get(), a, 100 + a).ok());
    REQUIRE(root->Snapshot("base", nullptr).ok());
  }
  REQUIRE(f.store->CreateVdi("node1", 0, "root@base").ok());
  REQUIRE(f.store->CreateVdi("node2", 0, "root@base").ok());
  {
    auto n1 = f.Open("node1");
    for (uint64_t a = 10; a < 20; a++) REQUIRE(WriteTag(n1.get(), a, 200 + a).ok());
    REQUIRE(n1->Write(20 * kBlockSize, BlockData(0, 20)).ok());
    REQUIRE(WriteTag(n1.get(), 1000, 7).ok());
  }
  CommitResult c;
  Status s = f.store->Commit("node1", &c);
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK(c.blocks_merged == 12);
  CHECK(c.snapshot == "root@node1-commit2");
  auto root = f.Open("root");
  auto n1 = f.Open("node1");
  auto n2 = f.Open("node2");
  for (uint64_t a : {0, 10, 19, 20, 21, 1000}) {
    uint64_t want = a >= 10 && a < 20 ? 200 + a : a == 20 || a > 63 ? (a == 1000 ? 7 : 0) : 100 + a;
    CHECK(ReadTag(root.get(), a) == want);
    CHECK(ReadTag(n1.get(), a) == want);
    CHECK(ReadTag(n2.get(), a) == (a < 64 ? 100 + a : 0));
  }
  std::vector<DuInfo> du;
  REQUIRE(f.store->Du(&du).ok());
  CHECK(du[1].name == "node1");
  CHECK(du[1].private_data == 0);
  CHECK(du[1].private_nodes == 0);
  std::vector<VdiInfo> vdis;
  REQUIRE(f.store->ListVdis(&vdis).ok());
  CHECK(vdis[1].origin == "root@node1-commit2");
  // Committing root: it is not a clone.
  CHECK(f.store->Commit("root", &c).IsInvalidArgument());
  root.reset();
  n1.reset();
  n2.reset();
  f.CheckClean();
}

TEST_CASE("plx delete and gc reclaim blocks, which are reused") {
  Fixture f;
  REQUIRE(f.store->CreateVdi("a", 64 * kMiB, "").ok());
  {
    auto a = f.Open("a");
    for (uint64_t i = 0; i < 2000; i++) REQUIRE(WriteTag(a.get(), i, i + 1).ok());
    REQUIRE(a->Snapshot("s", nullptr).ok());
  }
  REQUIRE(f.store->CreateVdi("b", 0, "a@s").ok());
  uint64_t size = f.env.Contents(f.path)->size();
  REQUIRE(f.store->Delete("a").ok());
  GcResult g;
  REQUIRE(f.store->Gc(&g).ok());
  CHECK(g.blocks_freed == 1);  // a's log block; b still holds the data
  REQUIRE(f.store->Delete("b").ok());
  REQUIRE(f.store->Gc(&g).ok());
  CHECK(g.blocks_freed > 2000);
  CHECK(g.blocks_used == 0);
  REQUIRE(f.store->CreateVdi("c", 64 * kMiB, "").ok());
  {
    auto c = f.Open("c");
    for (uint64_t i = 0; i < 2000; i++) REQUIRE(WriteTag(c.get(), i, i + 7).ok());
  }
  CHECK(f.env.Contents(f.path)->size() == size);
  CheckReport r;
  REQUIRE(f.store->Check(&r).ok());
  CHECK(r.errors.empty());
  CHECK(r.blocks_leaked == 0);
}

TEST_CASE("plx snapshot delete and names") {
  Fixture f;
  REQUIRE(f.store->CreateVdi("v", kMiB, "").ok());
  auto v = f.Open("v");
  REQUIRE(v->Snapshot("", nullptr).ok());
  REQUIRE(v->Snapshot("two", nullptr).ok());
  CHECK(v->Snapshot("two", nullptr).IsInvalidArgument());
  CHECK(v->Snapshot("bad name", nullptr).IsInvalidArgument());
  REQUIRE(f.store->Delete("v@snap1").ok());
  std::vector<SnapshotInfo> snaps;
  REQUIRE(f.store->ListSnapshots("v", &snaps).ok());
  REQUIRE(snaps.size() == 1);
  CHECK(snaps[0].name == "two");
  CHECK(f.store->Delete("v@snap1").IsNotFound());
  CHECK(f.store->CreateVdi("v", 0, "").IsInvalidArgument());
  CHECK(f.store->CreateVdi("-x", 0, "").IsInvalidArgument());
  CHECK(f.store->CreateVdi("w", 0, "v").IsInvalidArgument());
  CHECK(f.store->CreateVdi("w", 0, "nope@two").IsNotFound());
  CHECK(f.store->Delete("v").IsBusy());  // open in this process
}

TEST_CASE("plx refuses a second writer of a VDI, not a second reader") {
  Fixture f;
  REQUIRE(f.store->CreateVdi("v", kMiB, "").ok());
  auto v = f.Open("v");
  CHECK(f.Open("v") == v);  // the same object within a store
  StoreOptions o;
  o.env = &f.env;
  std::unique_ptr<Store> other;  // stands for another process
  REQUIRE(Store::Open(f.path, o, &other).ok());
  std::shared_ptr<Vdi> w;
  Status s = other->OpenVdi("v", &w);
  CHECK(s.IsBusy());
  CHECK(s.message().find("open for writing by another process") != std::string::npos);
  REQUIRE(other->CreateVdi("x", kMiB, "").ok());
  REQUIRE(other->OpenVdi("x", &w).ok());
  // Both allocate at once from different extents.
  REQUIRE(WriteTag(v.get(), 1, 1).ok());
  REQUIRE(WriteTag(w.get(), 1, 2).ok());
  REQUIRE(v->Flush().ok());
  REQUIRE(w->Flush().ok());
  CHECK(ReadTag(v.get(), 1) == 1);
  CHECK(ReadTag(w.get(), 1) == 2);
  w.reset();
  other.reset();
  v.reset();
  f.CheckClean();
}

TEST_CASE("plx is safe with several threads reading and writing") {
  Fixture f;
  REQUIRE(f.store->CreateVdi("a", 16 * kMiB, "").ok());
  REQUIRE(f.store->CreateVdi("b", 16 * kMiB, "").ok());
  auto a = f.Open("a");
  auto b = f.Open("b");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      Vdi* v = (t % 2 == 0 ? a : b).get();
      for (uint64_t i = 0; i < 300; i++) {
        uint64_t addr = (i * 4 + t / 2) % 4096;
        if (!WriteTag(v, addr, i + 1).ok() || ReadTag(v, addr) == ~uint64_t{0}) failures++;
        if (i % 50 == 0 && !v->Flush().ok()) failures++;
        if (i % 100 == 0 && !v->Snapshot("", nullptr).ok()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  a.reset();
  b.reset();
  f.CheckClean();
}

TEST_CASE("plx rejects unaligned and out-of-range I/O") {
  Fixture f;
  REQUIRE(f.store->CreateVdi("v", kMiB, "").ok());
  auto v = f.Open("v");
  char buf[kBlockSize];
  CHECK(v->Read(1, kBlockSize, buf).IsInvalidArgument());
  CHECK(v->Write(0, std::string(100, 'x')).IsInvalidArgument());
  CHECK(v->Read(kMiB, kBlockSize, buf).IsInvalidArgument());
  CHECK(v->Resize(kMiB * 2).ok());
  CHECK(v->Read(kMiB, kBlockSize, buf).ok());
}
