#include "lockserver/lock_table.h"

#include <catch2/catch.hpp>

using namespace ssiuml::lock;
using EventKind = LockEvent::Kind;

namespace {

struct TableFixture {
  LockTable table{100};
  std::vector<LockEvent> events;
  uint64_t next_id = 1;

  uint64_t Lock(SessionId s, const std::string& name, Mode m, bool try_lock = false, uint64_t timeout = 0,
                uint64_t now = 0) {
    LockTable::Request r{s, next_id++, name, m, try_lock, timeout};
    REQUIRE(table.Lock(r, now, &events).ok());
    return r.request_id;
  }
  uint64_t Convert(SessionId s, const std::string& name, Mode m, const Lvb* lvb = nullptr, bool try_lock = false) {
    LockTable::Request r{s, next_id++, name, m, try_lock, 0};
    REQUIRE(table.Convert(r, lvb, 0, &events).ok());
    return r.request_id;
  }
  // Pops every event of the given kind; returns them.
  std::vector<LockEvent> Take(EventKind kind) {
    std::vector<LockEvent> taken, kept;
    for (auto& e : events) (e.kind == kind ? taken : kept).push_back(e);
    events = kept;
    return taken;
  }
  bool Granted(SessionId s) {
    for (const auto& e : Take(EventKind::kGranted))
      if (e.session == s) return true;
    return false;
  }
};

Lvb Value(uint8_t b) {
  Lvb v{};
  v.fill(b);
  return v;
}

}  // namespace

TEST_CASE("compatible locks are granted together, incompatible ones queue") {
  TableFixture f;
  f.Lock(1, "r", Mode::kPR);
  f.Lock(2, "r", Mode::kPR);
  CHECK(f.Take(EventKind::kGranted).size() == 2);
  f.Lock(3, "r", Mode::kEX);
  CHECK(f.Take(EventKind::kGranted).empty());
  REQUIRE(f.table.Unlock(1, "r", nullptr, &f.events).ok());
  CHECK(f.Take(EventKind::kGranted).empty());
  REQUIRE(f.table.Unlock(2, "r", nullptr, &f.events).ok());
  CHECK(f.Granted(3));
}

TEST_CASE("a compatible newcomer does not jump a queued incompatible waiter") {
  TableFixture f;
  f.Lock(1, "r", Mode::kPR);
  f.Lock(2, "r", Mode::kEX);  // waits for 1
  f.Take(EventKind::kGranted);
  f.Lock(3, "r", Mode::kPR);  // compatible with 1, but 2 is ahead
  CHECK(f.Take(EventKind::kGranted).empty());
  REQUIRE(f.table.Unlock(1, "r", nullptr, &f.events).ok());
  auto grants = f.Take(EventKind::kGranted);
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].session == 2);
  REQUIRE(f.table.Unlock(2, "r", nullptr, &f.events).ok());
  CHECK(f.Granted(3));
}

TEST_CASE("waiters are granted in arrival order") {
  TableFixture f;
  f.Lock(1, "r", Mode::kEX);
  for (SessionId s = 2; s <= 6; ++s) f.Lock(s, "r", Mode::kEX);
  f.Take(EventKind::kGranted);
  for (SessionId s = 1; s <= 5; ++s) {
    REQUIRE(f.table.Unlock(s, "r", nullptr, &f.events).ok());
    auto grants = f.Take(EventKind::kGranted);
    REQUIRE(grants.size() == 1);
    CHECK(grants[0].session == s + 1);
  }
}

TEST_CASE("conversions are served before new waiters") {
  TableFixture f;
  f.Lock(1, "r", Mode::kPR);
  f.Lock(2, "r", Mode::kPR);
  f.Take(EventKind::kGranted);
  f.Lock(3, "r", Mode::kEX);  // waits
  f.Convert(1, "r", Mode::kPW);  // waits for 2's PR, ahead of 3
  CHECK(f.Take(EventKind::kGranted).empty());
  REQUIRE(f.table.Unlock(2, "r", nullptr, &f.events).ok());
  auto grants = f.Take(EventKind::kGranted);
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].session == 1);
  CHECK(grants[0].mode == Mode::kPW);
}

TEST_CASE("a down-conversion is granted at once and lets waiters in") {
  TableFixture f;
  f.Lock(1, "r", Mode::kEX);
  f.Lock(2, "r", Mode::kPR);
  f.Take(EventKind::kGranted);
  f.Convert(1, "r", Mode::kPR);
  auto grants = f.Take(EventKind::kGranted);
  REQUIRE(grants.size() == 2);
  CHECK(grants[0].session == 1);
  CHECK(grants[1].session == 2);
}

TEST_CASE("two conversions that wait for each other: the later gets a deadlock error") {
  TableFixture f;
  f.Lock(1, "r", Mode::kPR);
  f.Lock(2, "r", Mode::kPR);
  f.Convert(1, "r", Mode::kEX);
  f.Convert(2, "r", Mode::kEX);
  auto deadlocks = f.Take(EventKind::kDeadlock);
  REQUIRE(deadlocks.size() == 1);
  CHECK(deadlocks[0].session == 2);
  REQUIRE(f.table.Unlock(2, "r", nullptr, &f.events).ok());
  auto grants = f.Take(EventKind::kGranted);
  REQUIRE(grants.size() == 3);
  CHECK(grants.back().session == 1);
  CHECK(grants.back().mode == Mode::kEX);
}

TEST_CASE("try-lock fails at once without queueing or blocking callbacks") {
  TableFixture f;
  f.Lock(1, "r", Mode::kEX);
  f.Take(EventKind::kGranted);
  uint64_t id = f.Lock(2, "r", Mode::kPR, /*try_lock=*/true);
  auto failed = f.Take(EventKind::kTryFailed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].request_id == id);
  CHECK(f.Take(EventKind::kBlocking).empty());
  REQUIRE(f.table.Unlock(1, "r", nullptr, &f.events).ok());
  CHECK(f.Take(EventKind::kGranted).empty());
  // A try conversion that cannot be granted keeps the old mode.
  f.Lock(3, "r", Mode::kPR);
  f.Lock(4, "r", Mode::kPR);
  f.Convert(3, "r", Mode::kEX, nullptr, true);
  CHECK(f.Take(EventKind::kTryFailed).size() == 1);
  auto snap = f.table.Snapshot();
  REQUIRE(snap.size() == 1);
  CHECK(snap[0].granted.size() == 2);
  CHECK(snap[0].converting.empty());
}

TEST_CASE("a try-lock behind a queued waiter fails even if compatible with holders") {
  TableFixture f;
  f.Lock(1, "r", Mode::kPR);
  f.Lock(2, "r", Mode::kEX);
  f.Take(EventKind::kGranted);
  f.Lock(3, "r", Mode::kPR, true);
  CHECK(f.Take(EventKind::kTryFailed).size() == 1);
}

TEST_CASE("queued requests time out and stop blocking those behind them") {
  TableFixture f;
  f.Lock(1, "r", Mode::kPR, false, 0, 0);
  f.Lock(2, "r", Mode::kEX, false, 500, 0);
  f.Lock(3, "r", Mode::kCR, false, 0, 0);
  f.Take(EventKind::kGranted);
  CHECK(f.table.NextDeadline() == 500);
  f.table.Tick(499, &f.events);
  CHECK(f.Take(EventKind::kTimedOut).empty());
  f.table.Tick(500, &f.events);
  auto timed_out = f.Take(EventKind::kTimedOut);
  REQUIRE(timed_out.size() == 1);
  CHECK(timed_out[0].session == 2);
  CHECK(f.Granted(3));
  CHECK(f.table.NextDeadline() == 0);
}

TEST_CASE("holders blocking a waiter get one blocking callback per mode") {
  TableFixture f;
  f.Lock(1, "r", Mode::kPR);
  f.Lock(2, "r", Mode::kCR);
  f.Lock(3, "r", Mode::kEX);
  auto basts = f.Take(EventKind::kBlocking);
  REQUIRE(basts.size() == 2);
  for (const auto& b : basts) CHECK(b.mode == Mode::kEX);
  f.Lock(4, "r", Mode::kEX);  // same mode again: no repeat
  CHECK(f.Take(EventKind::kBlocking).empty());
  f.Lock(5, "r", Mode::kNL);  // NL blocks nobody... but waits FIFO
  CHECK(f.Take(EventKind::kBlocking).empty());
}

TEST_CASE("lock value blocks follow DLM's rules") {
  TableFixture f;
  Lvb v = Value(7);
  f.Lock(1, "r", Mode::kEX);
  auto g = f.Take(EventKind::kGranted);
  REQUIRE(g.size() == 1);
  CHECK(g[0].has_lvb);
  CHECK(g[0].lvb == Lvb{});
  // Written on down-conversion from EX, read by a PR grant.
  f.Convert(1, "r", Mode::kNL, &v);
  g = f.Take(EventKind::kGranted);
  CHECK_FALSE(g[0].has_lvb);  // NL reads nothing
  f.Lock(2, "r", Mode::kPR);
  g = f.Take(EventKind::kGranted);
  REQUIRE(g.size() == 1);
  CHECK(g[0].lvb == v);
  CHECK(g[0].lvb_valid);
  // A PR holder cannot write it.
  Lvb w = Value(9);
  REQUIRE(f.table.Unlock(2, "r", &w, &f.events).ok());
  REQUIRE(f.table.Unlock(1, "r", nullptr, &f.events).ok());
  f.Lock(3, "r", Mode::kCR);
  g = f.Take(EventKind::kGranted);
  CHECK(g[0].lvb == v);
  // Written on unlock from PW; the value outlives every lock.
  REQUIRE(f.table.Unlock(3, "r", nullptr, &f.events).ok());
  f.Lock(4, "r", Mode::kPW);
  f.Take(EventKind::kGranted);
  REQUIRE(f.table.Unlock(4, "r", &w, &f.events).ok());
  f.Lock(5, "r", Mode::kCR);
  CHECK(f.Take(EventKind::kGranted)[0].lvb == w);
}

TEST_CASE("kept value blocks make room for new resources, the longest idle first") {
  LockTable table(0, 3);
  std::vector<LockEvent> events;
  uint64_t id = 1;
  auto write = [&](const std::string& name, uint8_t value) {
    REQUIRE(table.Lock({1, id++, name, Mode::kEX, false, 0}, 0, &events).ok());
    Lvb v = Value(value);
    REQUIRE(table.Unlock(1, name, &v, &events).ok());
  };
  auto read = [&](const std::string& name) {
    events.clear();
    REQUIRE(table.Lock({2, id++, name, Mode::kPR, false, 0}, 0, &events).ok());
    REQUIRE(table.Unlock(2, name, nullptr, &events).ok());
    return events.at(0).lvb;
  };
  write("a", 1);
  write("b", 2);
  write("c", 3);
  CHECK(table.resource_count() == 3);
  CHECK(read("a") == Value(1));  // a is used again: b is now the longest idle
  write("d", 4);
  CHECK(table.resource_count() == 3);
  CHECK(read("a") == Value(1));
  CHECK(read("c") == Value(3));
  CHECK(read("b") == Lvb{});  // dropped, as DLM drops a cached resource
  // A table full of resources in use refuses a new one, and serves it once one is free.
  LockTable busy(0, 2);
  REQUIRE(busy.Lock({1, 1, "x", Mode::kEX, false, 0}, 0, &events).ok());
  REQUIRE(busy.Lock({1, 2, "y", Mode::kEX, false, 0}, 0, &events).ok());
  LockTable::Bound refused_by = LockTable::Bound::kNone;
  ssiuml::Status s = busy.Lock({2, 3, "z", Mode::kEX, false, 0}, 0, &events, &refused_by);
  CHECK(s.IsBusy());
  CHECK(refused_by == LockTable::Bound::kResources);
  CHECK(s.message().find("--max-resources") != std::string::npos);
  CHECK(busy.resource_count() == 2);
  REQUIRE(busy.Unlock(1, "x", nullptr, &events).ok());
  CHECK(busy.Lock({2, 4, "z", Mode::kEX, false, 0}, 0, &events).ok());
}

TEST_CASE("one session's locks stop at max_session_locks; the others keep locking") {
  LockTable table(0, 100, 100, 2);
  std::vector<LockEvent> events;
  LockTable::Bound refused_by = LockTable::Bound::kResources;
  REQUIRE(table.Lock({1, 1, "a", Mode::kEX, false, 0}, 0, &events, &refused_by).ok());
  CHECK(refused_by == LockTable::Bound::kNone);
  REQUIRE(table.Lock({1, 2, "b", Mode::kEX, false, 0}, 0, &events).ok());
  ssiuml::Status s = table.Lock({1, 3, "c", Mode::kEX, false, 0}, 0, &events, &refused_by);
  CHECK(s.IsBusy());
  CHECK(refused_by == LockTable::Bound::kSessionLocks);
  CHECK(s.message().find("--max-session-locks") != std::string::npos);
  CHECK(table.resource_count() == 2);  // the refused lock made no resource
  s = table.Lock({1, 8, "a", Mode::kEX, false, 0}, 0, &events, &refused_by);
  CHECK(s.IsInvalidArgument());  // already held: that, not the bound, is what is wrong
  CHECK(refused_by == LockTable::Bound::kNone);
  // A queued request counts as the session's too; another session is not held back.
  REQUIRE(table.Lock({2, 4, "a", Mode::kEX, false, 0}, 0, &events).ok());
  REQUIRE(table.Lock({2, 5, "c", Mode::kEX, false, 0}, 0, &events).ok());
  CHECK(table.Lock({2, 6, "d", Mode::kEX, false, 0}, 0, &events, &refused_by).IsBusy());
  CHECK(refused_by == LockTable::Bound::kSessionLocks);
  REQUIRE(table.Unlock(1, "b", nullptr, &events).ok());
  CHECK(table.Lock({1, 7, "c", Mode::kPR, false, 0}, 0, &events, &refused_by).ok());
  CHECK(refused_by == LockTable::Bound::kNone);
}

TEST_CASE("locks held or queued stop at max_locks, all sessions together") {
  LockTable table(0, 100, 3);
  std::vector<LockEvent> events;
  REQUIRE(table.Lock({1, 1, "a", Mode::kEX, false, 0}, 0, &events).ok());
  REQUIRE(table.Lock({1, 2, "b", Mode::kEX, false, 0}, 0, &events).ok());
  REQUIRE(table.Lock({2, 3, "a", Mode::kEX, false, 0}, 0, &events).ok());  // queued
  CHECK(table.lock_count() == 3);
  LockTable::Bound refused_by = LockTable::Bound::kNone;
  ssiuml::Status s = table.Lock({3, 4, "c", Mode::kEX, false, 0}, 0, &events, &refused_by);
  CHECK(s.IsBusy());
  CHECK(refused_by == LockTable::Bound::kLocks);
  CHECK(s.message().find("--max-locks") != std::string::npos);
  CHECK(table.resource_count() == 2);  // the refused lock made no resource
  REQUIRE(table.Cancel(2, "a", &events).ok());
  CHECK(table.lock_count() == 2);
  // A try that fails and a timeout that expires give their room back too.
  REQUIRE(table.Lock({3, 5, "a", Mode::kEX, true, 0}, 0, &events).ok());
  CHECK(table.lock_count() == 2);
  REQUIRE(table.Lock({3, 6, "a", Mode::kEX, false, 10}, 0, &events).ok());
  CHECK(table.lock_count() == 3);
  table.Tick(20, &events);
  CHECK(table.lock_count() == 2);
  REQUIRE(table.Unlock(1, "b", nullptr, &events).ok());
  CHECK(table.lock_count() == 1);
  table.Release(1, true, &events);
  CHECK(table.lock_count() == 0);
  CHECK(table.Lock({3, 7, "c", Mode::kEX, false, 0}, 0, &events).ok());
}

TEST_CASE("a snapshot stops at its row bound") {
  TableFixture f;
  f.Lock(1, "a", Mode::kPR);
  f.Lock(2, "a", Mode::kPR);
  f.Lock(1, "b", Mode::kEX);
  CHECK(f.table.Snapshot().size() == 2);
  CHECK(f.table.Snapshot(4).size() == 1);  // a takes 3 rows, b 2 more
  CHECK(f.table.Snapshot(2).empty());
}

TEST_CASE("a writer that dies invalidates the value block until the next write") {
  TableFixture f;
  f.Lock(1, "r", Mode::kPW);
  f.Lock(2, "r", Mode::kPR);  // waits
  f.Take(EventKind::kGranted);
  f.table.Release(1, /*died=*/true, &f.events);
  auto g = f.Take(EventKind::kGranted);
  REQUIRE(g.size() == 1);
  CHECK_FALSE(g[0].lvb_valid);
  f.Convert(2, "r", Mode::kEX);
  f.Take(EventKind::kGranted);
  Lvb v = Value(1);
  f.Convert(2, "r", Mode::kNL, &v);
  f.Lock(3, "r", Mode::kCR);
  g = f.Take(EventKind::kGranted);
  CHECK(g.back().lvb_valid);
  // A reader dying changes nothing.
  f.table.Release(3, true, &f.events);
  f.Lock(4, "r", Mode::kCR);
  CHECK(f.Take(EventKind::kGranted).back().lvb_valid);
  // A clean release of a writer keeps it valid too.
  f.Lock(5, "q", Mode::kEX);
  f.table.Release(5, false, &f.events);
  f.Lock(6, "q", Mode::kCR);
  CHECK(f.Take(EventKind::kGranted).back().lvb_valid);
}

TEST_CASE("fencing tokens grow with every grant, across resources") {
  TableFixture f;
  uint64_t last = 100;
  for (int round = 0; round < 20; ++round) {
    f.Lock(1, round % 2 ? "a" : "b", Mode::kEX);
    f.Convert(1, round % 2 ? "a" : "b", Mode::kPR);
    for (const auto& g : f.Take(EventKind::kGranted)) {
      CHECK(g.token > last);
      last = g.token;
    }
    REQUIRE(f.table.Unlock(1, round % 2 ? "a" : "b", nullptr, &f.events).ok());
  }
  CHECK(f.table.last_token() == last);
}

TEST_CASE("bad requests are refused with a status, not events") {
  TableFixture f;
  f.Lock(1, "r", Mode::kEX);
  LockTable::Request again{1, 99, "r", Mode::kPR, false, 0};
  CHECK(f.table.Lock(again, 0, &f.events).IsInvalidArgument());
  LockTable::Request convert{2, 98, "r", Mode::kPR, false, 0};
  CHECK(f.table.Convert(convert, nullptr, 0, &f.events).IsInvalidArgument());
  CHECK(f.table.Unlock(2, "r", nullptr, &f.events).IsNotFound());
  CHECK(f.table.Unlock(2, "nothing", nullptr, &f.events).IsNotFound());
  CHECK(f.table.Cancel(1, "r", &f.events).IsNotFound());
}

TEST_CASE("cancel and unlock of a queued request end it with kCancelled") {
  TableFixture f;
  f.Lock(1, "r", Mode::kEX);
  uint64_t a = f.Lock(2, "r", Mode::kEX);
  uint64_t b = f.Lock(3, "r", Mode::kEX);
  REQUIRE(f.table.Cancel(2, "r", &f.events).ok());
  REQUIRE(f.table.Unlock(3, "r", nullptr, &f.events).ok());
  auto cancelled = f.Take(EventKind::kCancelled);
  REQUIRE(cancelled.size() == 2);
  CHECK(cancelled[0].request_id == a);
  CHECK(cancelled[1].request_id == b);
  f.Lock(4, "r", Mode::kEX);
  f.table.CancelAll(4, &f.events);
  CHECK(f.Take(EventKind::kCancelled).size() == 1);
  REQUIRE(f.table.Unlock(1, "r", nullptr, &f.events).ok());
  CHECK(f.table.Snapshot().empty());
}
