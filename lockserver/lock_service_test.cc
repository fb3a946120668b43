#include "lockserver/lock_service.h"

#include <catch2/catch.hpp>

using namespace ssiuml::lock;
using ssiuml::Status;
using OK = Output::Kind;

namespace {

const std::string kBootA(32, 'a'), kBootB(32, 'b');

struct ServiceFixture {
  explicit ServiceFixture(bool fencing = true) : service(Options(fencing)) {}
  static ServiceOptions Options(bool fencing) {
    ServiceOptions o;
    o.heartbeat_ms = 200;
    o.expiry_missed = 5;
    o.fencing = fencing;
    o.max_sessions = 8;
    return o;
  }
  SessionId Node(int node, const std::string& boot, uint64_t now = 0) {
    service.SetBoot(node, boot, now, &out);
    SessionId id = 0;
    bool retry = false;
    REQUIRE(service.OpenNode(node, boot, "agent", now, &id, &retry, &out).ok());
    return id;
  }
  void Lock(SessionId s, const std::string& name, Mode mode, uint64_t id = 1) {
    REQUIRE(service.Lock(s, {0, id, name, mode, false, 0}, 0, &out).ok());
  }
  std::vector<Output> Take(OK kind) {
    std::vector<Output> taken, kept;
    for (auto& o : out) (o.kind == kind ? taken : kept).push_back(o);
    out = kept;
    return taken;
  }
  LockService service;
  Outputs out;
};

}  // namespace

TEST_CASE("a node session needs the registry's current boot id") {
  ServiceFixture f;
  SessionId id;
  bool retry;
  Status s = f.service.OpenNode(3, kBootA, "agent", 0, &id, &retry, &f.out);
  CHECK(s.IsNotFound());
  CHECK(retry);
  f.service.SetBoot(3, kBootB, 0, &f.out);
  s = f.service.OpenNode(3, kBootA, "agent", 0, &id, &retry, &f.out);
  CHECK(s.IsInvalidArgument());
  CHECK(retry);
  f.service.SetBoot(3, kBootA, 0, &f.out);
  CHECK(f.service.OpenNode(3, kBootA, "agent", 0, &id, &retry, &f.out).ok());
  CHECK(f.service.members().at(3) == kBootA);
}

TEST_CASE("sessions are capped") {
  ServiceFixture f;
  SessionId id;
  for (int i = 0; i < 8; ++i) REQUIRE(f.service.OpenHost("h", 0, &id).ok());
  Status s = f.service.OpenHost("h", 0, &id);
  CHECK(s.IsBusy());
  CHECK(s.message() == "too many sessions (max 8)");
}

TEST_CASE("heartbeats keep a session, silence expires it after the configured misses") {
  ServiceFixture f;
  SessionId id;
  REQUIRE(f.service.OpenHost("h", 0, &id).ok());
  for (uint64_t t = 200; t <= 5000; t += 200) {
    f.service.Heartbeat(id, t);
    f.service.Tick(t, &f.out);
  }
  CHECK(f.service.sessions().count(id) == 1);
  f.service.Tick(5000 + 1000, &f.out);
  CHECK(f.service.sessions().count(id) == 1);  // exactly 5 periods: not yet
  f.service.Tick(5000 + 1001, &f.out);
  CHECK(f.service.sessions().count(id) == 0);
  CHECK(f.Take(OK::kFence).empty());  // host sessions are not fenced
  CHECK(f.Take(OK::kEnded).size() == 1);
}

TEST_CASE("recovery: fence first, then release locks, grant waiters, announce") {
  ServiceFixture f;
  SessionId dead = f.Node(1, kBootA);
  SessionId survivor = f.Node(2, kBootB);
  REQUIRE(f.service.Watch(survivor).ok());
  f.Lock(dead, "r", Mode::kEX);
  f.Lock(survivor, "r", Mode::kEX, 2);
  f.out.clear();
  for (uint64_t t = 200; t <= 1200; t += 200) {
    f.service.Heartbeat(survivor, t);
    f.service.Tick(t, &f.out);
  }
  // Expired: only a fence request, nothing released yet.
  auto fences = f.Take(OK::kFence);
  REQUIRE(fences.size() == 1);
  CHECK(fences[0].node == 1);
  CHECK(fences[0].boot == kBootA);
  CHECK(f.out.empty());
  CHECK(f.service.sessions().at(dead).state == SessionState::kFencing);
  Status lapsed = f.service.Lock(dead, {0, 9, "q", Mode::kNL, false, 0}, 1200, &f.out);
  CHECK(lapsed.IsTimedOut());
  CHECK(lapsed.message() == "session expired");
  // Still waiting for the fencer: more ticks change nothing, ask once.
  f.service.Heartbeat(survivor, 5000);
  f.service.Tick(5000, &f.out);
  CHECK(f.Take(OK::kFence).empty());
  CHECK(f.service.members().count(1) == 1);
  f.service.FenceDone(1, kBootA, &f.out);
  REQUIRE(f.out.size() == 3);
  CHECK(f.out[0].kind == OK::kEnded);
  CHECK(f.out[1].kind == OK::kLock);
  CHECK(f.out[1].session == survivor);
  CHECK(f.out[1].lock.kind == LockEvent::Kind::kGranted);
  CHECK_FALSE(f.out[1].lock.lvb_valid);  // the dead EX holder may have half-written it
  CHECK(f.out[2].kind == OK::kMember);
  CHECK(f.out[2].member.kind == MemberEvent::Kind::kExpired);
  CHECK(f.out[2].member.node == 1);
  CHECK(f.service.members().count(1) == 0);
}

TEST_CASE("without fencing an expired node is released at once") {
  ServiceFixture f(/*fencing=*/false);
  SessionId dead = f.Node(1, kBootA);
  f.Lock(dead, "r", Mode::kPW);
  f.out.clear();
  f.service.Tick(2000, &f.out);
  CHECK(f.Take(OK::kFence).empty());
  CHECK(f.Take(OK::kEnded).size() == 1);
  CHECK(f.service.table().Snapshot().size() == 1);  // the invalidated LVB stays
  CHECK(f.service.table().Snapshot()[0].granted.empty());
  CHECK_FALSE(f.service.table().Snapshot()[0].lvb_valid);
}

TEST_CASE("a new boot id ends the old incarnation before the new one joins") {
  ServiceFixture f;
  SessionId old_session = f.Node(4, kBootA);
  f.Lock(old_session, "r", Mode::kEX);
  f.out.clear();
  f.service.SetBoot(4, kBootB, 100, &f.out);
  CHECK(f.Take(OK::kFence).size() == 1);
  SessionId id;
  bool retry;
  Status s = f.service.OpenNode(4, kBootB, "agent", 100, &id, &retry, &f.out);
  CHECK(s.IsBusy());
  CHECK(retry);
  f.service.FenceDone(4, kBootA, &f.out);
  CHECK(f.service.members().count(4) == 0);
  REQUIRE(f.service.OpenNode(4, kBootB, "agent", 100, &id, &retry, &f.out).ok());
  CHECK(f.service.members().at(4) == kBootB);
}

TEST_CASE("gone from the supervisor fences the node and refuses its sessions") {
  ServiceFixture f;
  f.Node(5, kBootA);
  f.out.clear();
  f.service.Gone(5, 0, &f.out);
  CHECK(f.Take(OK::kFence).size() == 1);
  SessionId id;
  bool retry;
  CHECK(f.service.OpenNode(5, kBootA, "agent", 0, &id, &retry, &f.out).IsNotFound());
}

TEST_CASE("several sessions of one node: member until the last leaves") {
  ServiceFixture f;
  SessionId watcher;
  REQUIRE(f.service.OpenHost("w", 0, &watcher).ok());
  REQUIRE(f.service.Watch(watcher).ok());
  SessionId a = f.Node(6, kBootA);
  SessionId b;
  bool retry;
  REQUIRE(f.service.OpenNode(6, kBootA, "ssi-lock", 0, &b, &retry, &f.out).ok());
  auto joins = f.Take(OK::kMember);
  REQUIRE(joins.size() == 1);
  CHECK(joins[0].member.kind == MemberEvent::Kind::kJoin);
  uint64_t epoch = joins[0].member.epoch;
  f.service.Close(b, &f.out);
  CHECK(f.Take(OK::kMember).empty());
  f.service.Close(a, &f.out);
  auto leaves = f.Take(OK::kMember);
  REQUIRE(leaves.size() == 1);
  CHECK(leaves[0].member.kind == MemberEvent::Kind::kLeave);
  CHECK(leaves[0].member.epoch == epoch + 1);
}

TEST_CASE("one silent session of a node fences the whole incarnation") {
  ServiceFixture f;
  SessionId a = f.Node(7, kBootA);
  SessionId b;
  bool retry;
  REQUIRE(f.service.OpenNode(7, kBootA, "ssi-lock", 0, &b, &retry, &f.out).ok());
  f.Lock(a, "x", Mode::kEX);
  f.service.Heartbeat(a, 1100);
  f.service.Tick(1100, &f.out);  // b silent since 0
  CHECK(f.Take(OK::kFence).size() == 1);
  CHECK(f.service.sessions().at(a).state == SessionState::kFencing);
  f.service.FenceDone(7, kBootA, &f.out);
  CHECK(f.service.sessions().empty());
  CHECK(f.service.table().Snapshot().size() == 1);  // only the invalid LVB is left
}

TEST_CASE("a request a disconnected session had queued no longer holds back the ones behind it") {
  ServiceFixture f(false);
  SessionId a, b, c;
  REQUIRE(f.service.OpenHost("a", 0, &a).ok());
  REQUIRE(f.service.OpenHost("b", 0, &b).ok());
  REQUIRE(f.service.OpenHost("c", 0, &c).ok());
  f.Lock(a, "r", Mode::kPR);
  f.Lock(b, "r", Mode::kEX, 2);
  f.Lock(c, "r", Mode::kPR, 3);  // compatible with a, but queued behind b
  f.out.clear();
  f.service.Disconnected(b, &f.out);
  bool told = false;
  for (const Output& o : f.Take(OK::kLock))
    told |= o.session == c && o.lock.kind == LockEvent::Kind::kGranted && o.lock.request_id == 3;
  CHECK(told);
}

TEST_CASE("a disconnected session keeps its locks until it expires") {
  ServiceFixture f(false);
  SessionId a, b;
  REQUIRE(f.service.OpenHost("a", 0, &a).ok());
  REQUIRE(f.service.OpenHost("b", 0, &b).ok());
  f.Lock(a, "r", Mode::kEX);
  f.Lock(b, "r", Mode::kEX, 2);
  f.service.Disconnected(b, &f.out);  // b's queued request goes
  f.service.Disconnected(a, &f.out);  // a's lock stays
  auto snap = f.service.table().Snapshot();
  REQUIRE(snap.size() == 1);
  CHECK(snap[0].granted.size() == 1);
  CHECK(snap[0].waiting.empty());
  f.service.Tick(1001, &f.out);
  CHECK(f.service.table().Snapshot()[0].granted.empty());
}
