// Bad input: foreign, truncated and damaged stores give clear errors, and
// plx check names the damage; nothing crashes.
#include <catch2/catch.hpp>
#include <random>

#include "cow/fault_env.h"
#include "cow/store_impl.h"
#include "cow/test_util.h"

using namespace ssiuml;
using namespace ssiuml::plx;

namespace {

const std::string kBadStorePath = "/bad.plx";

// A store with a VDI, a snapshot and a clone.
void Build(FaultEnv* env) {
  std::unique_ptr<Store> store;
  REQUIRE(MkfsAndOpen(env, kBadStorePath, 4, &store).ok());
  REQUIRE(store->CreateVdi("root", 4 << 20, "").ok());
  std::shared_ptr<Vdi> v;
  REQUIRE(store->OpenVdi("root", &v).ok());
  for (uint64_t a = 0; a < 600; a += 3) REQUIRE(WriteTag(v.get(), a, a + 1).ok());
  REQUIRE(v->Snapshot("base", nullptr).ok());
  v.reset();
  REQUIRE(store->CreateVdi("node1", 0, "root@base").ok());
  REQUIRE(store->OpenVdi("node1", &v).ok());
  REQUIRE(WriteTag(v.get(), 1, 42).ok());
}

Status OpenStore(FaultEnv* env, std::unique_ptr<Store>* store) {
  StoreOptions o;
  o.env = env;
  return Store::Open(kBadStorePath, o, store);
}

// Everything a user could run against a store; none of it may crash.
std::vector<std::string> Exercise(FaultEnv* env) {
  std::unique_ptr<Store> store;
  Status s = OpenStore(env, &store);
  if (!s.ok()) return {s.message()};
  CheckReport r;
  s = store->Check(&r);
  if (!s.ok()) return {s.message()};
  for (const char* spec : {"root", "root@base", "node1"}) {
    std::shared_ptr<Vdi> v;
    if (!store->OpenVdi(spec, &v).ok()) continue;
    std::string buf(v->size(), '\0');
    (void)v->Read(0, buf.size(), buf.data());
    (void)WriteTag(v.get(), 7, 7);
  }
  std::vector<VdiInfo> vdis;
  (void)store->ListVdis(&vdis);
  std::vector<DuInfo> du;
  (void)store->Du(&du);
  GcResult g;
  (void)store->Gc(&g);
  return r.errors;
}

// The block holding the first leaf of a VDI's current tree.
uint64_t LeafOf(FaultEnv* env, const std::string& name) {
  std::unique_ptr<Store> store;
  REQUIRE(OpenStore(env, &store).ok());
  auto* impl = static_cast<StoreImpl*>(store.get());
  std::shared_ptr<Vdi> v;
  REQUIRE(store->OpenVdi(name, &v).ok());
  uint64_t p = static_cast<VdiImpl*>(v.get())->root();
  for (int level = 0; level < 2; level++) {
    std::shared_ptr<const Node> n;
    REQUIRE(impl->ReadNode(PtrBlock(p), &n).ok());
    p = n->e[0];
  }
  return PtrBlock(p);
}

void Poke64(FaultEnv* env, uint64_t offset, uint64_t value) {
  std::memcpy(env->Contents(kBadStorePath)->data() + offset, &value, 8);
}

}  // namespace

TEST_CASE("plx refuses a missing, foreign, truncated or newer store clearly") {
  FaultEnv env;
  std::unique_ptr<Store> store;
  Status s = OpenStore(&env, &store);
  CHECK(s.message() == "no store at /bad.plx; create one with plx mkfs /bad.plx");
  REQUIRE(env.WriteFileAtomic(kBadStorePath, std::string(10000, 'x')).ok());
  s = OpenStore(&env, &store);
  CHECK(s.message() == "/bad.plx is not a plx store (bad magic); create one with plx mkfs");
  REQUIRE(env.WriteFileAtomic(kBadStorePath, "tiny").ok());
  CHECK(OpenStore(&env, &store).message().find("too short") != std::string::npos);
  REQUIRE(env.RemoveFile(kBadStorePath).ok());
  Build(&env);
  std::string good = *env.Contents(kBadStorePath);
  // A version from the future, in both superblock copies.
  for (uint64_t half : {0u, kHalfBlock}) Poke64(&env, half + 8, 7);
  s = OpenStore(&env, &store);
  CHECK(s.code() == Status::Code::kNotSupported);
  CHECK(s.message().find("version 7") != std::string::npos);
  *env.Contents(kBadStorePath) = good;
  env.Contents(kBadStorePath)->resize(good.size() / 2);
  for (const std::string& e : Exercise(&env)) CHECK(e.find("truncated") != std::string::npos);
  CHECK_FALSE(Exercise(&env).empty());
  // One torn superblock copy is harmless.
  *env.Contents(kBadStorePath) = good;
  (*env.Contents(kBadStorePath))[100] ^= 1;
  CHECK(Exercise(&env).empty());
}

TEST_CASE("plx check reports out-of-range pointers and cycles") {
  FaultEnv env;
  Build(&env);
  std::string good = *env.Contents(kBadStorePath);
  uint64_t leaf = LeafOf(&env, "root");
  SECTION("a data pointer past the store") {
    Poke64(&env, leaf * kBlockSize, MakePtr(uint64_t{1} << 40, true));
    auto errors = Exercise(&env);
    REQUIRE_FALSE(errors.empty());
    CHECK(errors[0].find("out of range") != std::string::npos);
  }
  SECTION("a pointer into the registry") {
    Poke64(&env, leaf * kBlockSize + 8, MakePtr(2, false));
    CHECK_FALSE(Exercise(&env).empty());
  }
  SECTION("a leaf that points at itself") {
    Poke64(&env, leaf * kBlockSize, MakePtr(leaf, false));
    auto errors = Exercise(&env);
    REQUIRE_FALSE(errors.empty());
    CHECK(errors[0].find("cycle") != std::string::npos);
  }
  SECTION("a snapshot log that loops") {
    std::unique_ptr<Store> store;
    REQUIRE(OpenStore(&env, &store).ok());
    std::shared_ptr<Vdi> v;
    REQUIRE(store->OpenVdi("root", &v).ok());
    uint64_t tail = static_cast<VdiImpl*>(v.get())->record().log_tail;
    v.reset();
    store.reset();
    LogBlock b;
    REQUIRE(DecodeLogBlock(env.Contents(kBadStorePath)->data() + tail * kBlockSize, &b).ok());
    b.prev = tail;
    EncodeLogBlock(b, env.Contents(kBadStorePath)->data() + tail * kBlockSize);
    auto errors = Exercise(&env);
    REQUIRE_FALSE(errors.empty());
    CHECK(errors[0].find("cycle") != std::string::npos);
  }
}

TEST_CASE("plx survives random damage to its metadata") {
  FaultEnv env;
  Build(&env);
  std::string good = *env.Contents(kBadStorePath);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; i++) {
    *env.Contents(kBadStorePath) = good;
    std::string& c = *env.Contents(kBadStorePath);
    for (int k = 0; k < 4; k++) {
      // Mostly metadata: superblock, registry, tree nodes and logs.
      size_t at = rng() % 3 == 0 ? rng() % (6 * kBlockSize) : rng() % c.size();
      c[at] = static_cast<char>(rng());
    }
    Exercise(&env);
  }
}
