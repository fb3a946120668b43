#include "launcher/console_text.h"

#include <catch2/catch.hpp>

using ssiuml::ConsoleText;

TEST_CASE("lines, carriage returns and backspaces") {
  ConsoleText t;
  t.Feed("boot\r\nhello world\rHELLO\n");
  REQUIRE(t.lines().size() == 3);
  CHECK(t.lines()[0] == L"boot");
  CHECK(t.lines()[1] == L"HELLO world");
  t.Feed("ab\bc\tx");
  CHECK(t.lines()[2] == L"ac      x");
}

TEST_CASE("escape sequences are dropped, line edits applied") {
  ConsoleText t;
  t.Feed("/ # \x1b[6n\x1b[1;32mgreen\x1b[0m");
  CHECK(t.lines().back() == L"/ # green");
  t.Feed("\r/ # ls\x1b[K");
  CHECK(t.lines().back() == L"/ # ls");
  t.Feed("\x1b[2D\x1b[K");
  CHECK(t.lines().back() == L"/ # ");
  t.Feed("\x1b]0;title\x07" "done");
  CHECK(t.lines().back() == L"/ # done");
}

TEST_CASE("UTF-8 across feeds and invalid bytes") {
  ConsoleText t;
  std::string s = "caf\xc3\xa9 \xe2\x9c\x93";
  t.Feed(s.substr(0, 4));
  t.Feed(s.substr(4));
  CHECK(t.lines().back() == L"caf\u00e9 \u2713");
  t.Feed("\n\xff\xc3x");
  CHECK(t.lines().back() == L"\uFFFD\uFFFDx");
}

TEST_CASE("scrollback is bounded and searchable") {
  ConsoleText t(100);
  for (int i = 0; i < 250; ++i) t.Feed("line " + std::to_string(i) + "\n");
  CHECK(t.lines().size() == 100);
  CHECK(t.dropped() == 151);
  CHECK(t.FindBackward(L"line 200", static_cast<long>(t.lines().size())) >= 0);
  CHECK(t.FindBackward(L"line 10\n", 100) == -1);
  CHECK(t.FindBackward(L"line 5", 0) == -1);
}

TEST_CASE("runaway cursor moves stay bounded") {
  ConsoleText t;
  t.Feed("\x1b[999999999Cx\x1b[-5Dy");
  for (const auto& line : t.lines()) CHECK(line.size() <= ConsoleText::kMaxColumns);
}

TEST_CASE("garbage never crashes") {
  ConsoleText t(50);
  std::string junk;
  for (int i = 0; i < 20000; ++i) junk.push_back(static_cast<char>((i * 7919) % 256));
  t.Feed(junk);
  CHECK(t.lines().size() <= 50);
}
