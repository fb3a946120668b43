#include "common/mgmt_frame.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using namespace ssiuml::mgmt;

TEST_CASE("base64 round-trips every length and byte") {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    std::string decoded;
    REQUIRE(Base64Decode(Base64Encode(data), &decoded));
    CHECK(decoded == data);
    data.push_back(static_cast<char>(i * 37));
  }
  std::string out;
  CHECK_FALSE(Base64Decode("abc", &out));
  CHECK_FALSE(Base64Decode("ab!d", &out));
}

TEST_CASE("frames round-trip") {
  Frame out{Verb::kOut, 42, 2, std::string("line\n\x01\xff", 7)};
  std::string line = Encode(out);
  REQUIRE(line.back() == '\n');
  line.pop_back();
  Frame in;
  REQUIRE(Parse(line, &in).ok());
  CHECK(in.verb == Verb::kOut);
  CHECK(in.id == 42);
  CHECK(in.num == 2);
  CHECK(in.payload == out.payload);

  Frame pong{Verb::kPong, 3, 0, "0123456789abcdef0123456789abcdef"};
  line = Encode(pong);
  line.pop_back();
  REQUIRE(Parse(line, &in).ok());
  CHECK(in.payload == pong.payload);

  REQUIRE(Parse("EXIT 7 -1", &in).ok());
  CHECK(in.num == -1);
}

TEST_CASE("malformed frames are refused") {
  Frame f;
  for (const char* bad : {"", "NOPE 1", "PING", "PING x", "PING 1 extra", "EXIT 3",
                          "EXEC 1 ***", "OUT 1 one aGk=", "HELLO 0 1 2",
                          "PING 99999999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(Parse(bad, &f).ok());
  }
}

TEST_CASE("line splitter joins pieces and drops over-long lines") {
  LineSplitter s;
  s.Feed("PI");
  s.Feed("NG 1\r\nPONG");
  std::string line;
  REQUIRE(s.Next(&line));
  CHECK(line == "PING 1");
  CHECK_FALSE(s.Next(&line));
  s.Feed(" 2\n");
  REQUIRE(s.Next(&line));
  CHECK(line == "PONG 2");

  s.Feed(std::string(kMaxLine + 10, 'x'));
  s.Feed(std::string(100, 'y') + "\nPING 3\n");
  REQUIRE(s.Next(&line));
  CHECK(line == "PING 3");
  CHECK(s.dropped_lines() == 1);
}

TEST_CASE("a splitter drains a non-blocking fd and tells when its peer closed it") {
  int p[2];
  REQUIRE(::pipe2(p, O_NONBLOCK) == 0);
  LineSplitter s;
  CHECK(s.FeedFrom(p[0]));  // nothing yet: still open
  REQUIRE(::write(p[1], "one\ntw", 6) == 6);
  CHECK(s.FeedFrom(p[0]));
  std::string line;
  REQUIRE(s.Next(&line));
  CHECK(line == "one");
  CHECK_FALSE(s.Next(&line));
  REQUIRE(::write(p[1], "o\n", 2) == 2);
  ::close(p[1]);
  CHECK_FALSE(s.FeedFrom(p[0]));  // read to the end, then EOF
  REQUIRE(s.Next(&line));
  CHECK(line == "two");
  ::close(p[0]);
}

TEST_CASE("a splitter reads a bounded amount a call from a peer that never pauses") {
  int p[2];
  REQUIRE(::pipe2(p, O_NONBLOCK) == 0);
  ::fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
  const std::string newlines(1 << 20, '\n');
  REQUIRE(::write(p[1], newlines.data(), newlines.size()) > 16384 * LineSplitter::kMaxFeedReads);
  LineSplitter s;
  CHECK(s.FeedFrom(p[0]));  // open, with more to read
  size_t lines = 0;
  std::string line;
  while (s.Next(&line)) ++lines;
  CHECK(lines == 16384 * LineSplitter::kMaxFeedReads);
  ::close(p[0]);
  ::close(p[1]);
}
