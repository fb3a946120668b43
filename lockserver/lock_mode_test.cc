#include "lockserver/lock_mode.h"

#include <catch2/catch.hpp>

using namespace ssiuml::lock;

TEST_CASE("mode matrix matches DLM's table") {
  const char* rows[] = {"YYYYYY", "YYYYY-", "YYY---", "YY-Y--", "YY----", "Y-----"};
  for (int g = 0; g < kModeCount; ++g)
    for (int r = 0; r < kModeCount; ++r) {
      INFO(ModeName(Mode(g)) << " vs " << ModeName(Mode(r)));
      CHECK(Compatible(Mode(g), Mode(r)) == (rows[g][r] == 'Y'));
      CHECK(Compatible(Mode(g), Mode(r)) == Compatible(Mode(r), Mode(g)));
    }
}

TEST_CASE("mode names parse and unknown names are errors") {
  for (int i = 0; i < kModeCount; ++i) {
    Mode m = Mode::kNL;
    REQUIRE(ParseMode(ModeName(Mode(i)), &m).ok());
    CHECK(m == Mode(i));
  }
  Mode m;
  CHECK(ParseMode("ex", &m).IsInvalidArgument());
  CHECK(ParseMode("", &m).IsInvalidArgument());
  CHECK(ParseMode("EXX", &m).IsInvalidArgument());
  CHECK(ParseMode("XX", &m).message().find("unknown lock mode 'XX'") != std::string::npos);
}
