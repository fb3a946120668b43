#include "common/event_loop.h"

#include <catch2/catch.hpp>

using namespace ssiuml;

TEST_CASE("event loop: timers run in deadline order; a cancelled one leaves nothing behind") {
  EventLoop loop;
  REQUIRE(loop.Init().ok());
  std::string ran;
  uint64_t hour = loop.After(3600 * 1000, [&] { ran += "hour "; });
  loop.After(20, [&] {
    ran += "b ";
    loop.Quit();
  });
  uint64_t cancelled = loop.After(5, [&] { ran += "cancelled "; });
  loop.After(0, [&] {
    ran += "a ";
    loop.Cancel(cancelled);  // from inside a timer, as daemons do
  });
  CHECK(loop.timer_count() == 4);
  loop.Run();
  CHECK(ran == "a b ");
  CHECK(loop.timer_count() == 1);
  loop.Cancel(hour);
  loop.Cancel(hour);  // twice is harmless
  CHECK(loop.timer_count() == 0);
}
