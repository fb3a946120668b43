// Random sequences of plx operations checked block by block against a
// simple model: a map of address to tag per VDI and per snapshot.
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>

#include "cow/fault_env.h"
#include "cow/test_util.h"

using namespace ssiuml;
using namespace ssiuml::plx;

namespace {

constexpr uint64_t kSize = uint64_t{4} << 30;  // spans several root entries

struct ModelVdi {
  std::map<uint64_t, uint64_t> blocks;  // non-zero tags only
  // Addresses written with data since the VDI was cloned or renewed: commit
  // merges these even where the content equals the origin's.
  std::set<uint64_t> touched;
  std::string origin_vdi, origin_snap;
  uint64_t next_snap = 1;
  std::map<std::string, std::map<uint64_t, uint64_t>> snaps;
};

uint64_t Get(const std::map<uint64_t, uint64_t>& m, uint64_t a) {
  auto it = m.find(a);
  return it == m.end() ? 0 : it->second;
}

void Set(std::map<uint64_t, uint64_t>* m, uint64_t a, uint64_t tag) {
  if (tag == 0) m->erase(a);
  else (*m)[a] = tag;
}

class Runner {
 public:
  explicit Runner(uint64_t seed) : rng_(seed) {
    MkfsOptions m;
    m.env = &env_;
    m.max_vdis = 64;
    REQUIRE(Store::Mkfs(path_, m).ok());
    Reopen();
    for (int i = 0; i < 64; i++) pool_.push_back((rng_() % (kSize / kBlockSize - 8)) & ~(rng_() % 2 ? uint64_t{0} : uint64_t{511}));
    for (uint64_t a : {0, 510, 511, 512, 262143, 262144}) pool_.push_back(a);
    Ok(store_->CreateVdi("v0", kSize, ""), "create v0");
    model_["v0"];
  }

  void Step() {
    int op = static_cast<int>(rng_() % 100);
    std::string v = Pick();
    if (op < 45) Write(v);
    else if (op < 52) Ok(Vdi(v)->Flush(), "flush");
    else if (op < 60) Snap(v);
    else if (op < 68) Clone(v);
    else if (op < 75) Commit(v);
    else if (op < 80) DeleteSnap(v);
    else if (op < 84) DeleteVdi(v);
    else if (op < 89) Gc();
    else if (op < 93) Reopen();
    else VerifyAll();
  }

  void VerifyAll() {
    for (auto& [name, mv] : model_) {
      Verify(Vdi(name).get(), mv.blocks, name);
      for (auto& [snap, blocks] : mv.snaps) {
        std::shared_ptr<plx::Vdi> s;
        Ok(store_->OpenVdi(name + "@" + snap, &s), "open snapshot");
        Verify(s.get(), blocks, name + "@" + snap);
      }
    }
  }

 private:
  void Ok(const Status& s, const char* what) {
    INFO(what << ": " << s.ToString());
    REQUIRE(s.ok());
  }

  std::string Pick() {
    auto it = model_.begin();
    std::advance(it, rng_() % model_.size());
    return it->first;
  }

  std::shared_ptr<plx::Vdi> Vdi(const std::string& name) {
    auto& h = open_[name];
    if (!h) Ok(store_->OpenVdi(name, &h), "open");
    return h;
  }

  void Verify(plx::Vdi* vdi, const std::map<uint64_t, uint64_t>& blocks, const std::string& what) {
    for (uint64_t a : written_) {
      INFO(what << " block " << a);
      REQUIRE(ReadTag(vdi, a) == Get(blocks, a));
    }
  }

  void Write(const std::string& v) {
    uint64_t a = pool_[rng_() % pool_.size()];
    uint64_t n = 1 + rng_() % 4;
    std::string data;
    ModelVdi& mv = model_[v];
    for (uint64_t i = 0; i < n; i++) {
      uint64_t tag = rng_() % 7 == 0 ? 0 : ++tags_;
      data += BlockData(tag, a + i);
      Set(&mv.blocks, a + i, tag);
      if (tag != 0) mv.touched.insert(a + i);
      else mv.touched.erase(a + i);
      written_.insert(a + i);
    }
    Ok(Vdi(v)->Write(a * kBlockSize, data), "write");
  }

  void Snap(const std::string& v) {
    ModelVdi& mv = model_[v];
    std::string name = "s" + std::to_string(++names_);
    Ok(Vdi(v)->Snapshot(name, nullptr), "snapshot");
    mv.snaps[name] = mv.blocks;
    mv.next_snap++;
  }

  void Clone(const std::string& v) {
    ModelVdi& mv = model_[v];
    if (mv.snaps.empty() || model_.size() >= 20) return;
    auto it = mv.snaps.begin();
    std::advance(it, rng_() % mv.snaps.size());
    std::string name = "v" + std::to_string(++names_);
    Ok(store_->CreateVdi(name, 0, v + "@" + it->first), "clone");
    ModelVdi& c = model_[name];
    c.blocks = it->second;
    c.origin_vdi = v;
    c.origin_snap = it->first;
  }

  void Commit(const std::string& v) {
    ModelVdi& c = model_[v];
    if (c.origin_vdi.empty()) return;
    CommitResult result;
    Status s = store_->Commit(v, &result);
    auto b = model_.find(c.origin_vdi);
    if (b == model_.end() || b->second.snaps.count(c.origin_snap) == 0) {
      REQUIRE(s.IsNotFound());
      return;
    }
    Ok(s, "commit");
    ModelVdi& base = b->second;
    const auto& origin = base.snaps[c.origin_snap];
    for (uint64_t a : written_) {
      if (Get(c.blocks, a) == Get(origin, a) && c.touched.count(a) == 0) continue;
      Set(&base.blocks, a, Get(c.blocks, a));
      if (Get(c.blocks, a) != 0) base.touched.insert(a);
      else base.touched.erase(a);
    }
    std::string snap = v + "-commit" + std::to_string(base.next_snap++);
    REQUIRE(result.snapshot == b->first + "@" + snap);
    base.snaps[snap] = base.blocks;
    c.blocks = base.blocks;  // differs from before only where the base changed since the clone
    c.origin_snap = snap;
    c.touched.clear();
  }

  void DeleteSnap(const std::string& v) {
    ModelVdi& mv = model_[v];
    if (mv.snaps.empty()) return;
    auto it = mv.snaps.begin();
    std::advance(it, rng_() % mv.snaps.size());
    Ok(store_->Delete(v + "@" + it->first), "delete snapshot");
    mv.snaps.erase(it);
  }

  void DeleteVdi(const std::string& v) {
    if (model_.size() < 2) return;
    open_.erase(v);
    Ok(store_->Delete(v), "delete");
    model_.erase(v);
  }

  void Gc() {
    GcResult g;
    Ok(store_->Gc(&g), "gc");
    CheckReport r;
    Ok(store_->Check(&r), "check");
    for (const auto& e : r.errors) FAIL(e);
    REQUIRE(r.blocks_leaked == 0);
  }

  void Reopen() {
    open_.clear();
    store_.reset();
    StoreOptions o;
    o.env = &env_;
    o.node_cache_blocks = 64;  // small, so evictions happen
    Ok(Store::Open(path_, o, &store_), "open store");
  }

  std::mt19937_64 rng_;
  FaultEnv env_;
  std::string path_ = "/model.plx";
  std::unique_ptr<Store> store_;
  std::map<std::string, std::shared_ptr<plx::Vdi>> open_;
  std::map<std::string, ModelVdi> model_;
  std::vector<uint64_t> pool_;
  std::set<uint64_t> written_;
  uint64_t tags_ = 0;
  int names_ = 0;
};

}  // namespace

TEST_CASE("plx matches the reference model over random operation sequences") {
  for (uint64_t seed = 1; seed <= 12; seed++) {
    INFO("seed " << seed);
    Runner r(seed);
    for (int i = 0; i < 300; i++) r.Step();
    r.VerifyAll();
  }
}
