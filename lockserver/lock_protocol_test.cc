#include "lockserver/lock_protocol.h"

#include <catch2/catch.hpp>

using namespace ssiuml::lock;
using namespace ssiuml::lock::wire;

namespace {

std::string Code(const std::string& line, Request* req = nullptr) {
  Request r;
  std::string code;
  ssiuml::Status s = ParseRequest(line, &r, &code);
  if (req) *req = r;
  if (s.ok()) return "ok";
  CHECK_FALSE(code.empty());
  CHECK_FALSE(s.message().empty());
  return code;
}

const std::string kBoot = "0123456789abcdefABCDEF0123456789";

}  // namespace

TEST_CASE("well-formed requests parse") {
  Request r;
  REQUIRE(Code("SSIL/1 HELLO id=1 node=3 boot=" + kBoot + " name=agent", &r) == "ok");
  CHECK(r.verb == Verb::kHello);
  CHECK(r.node == 3);
  CHECK(r.boot == "0123456789abcdefabcdef0123456789");
  CHECK(r.name == "agent");
  REQUIRE(Code("SSIL/1 HELLO id=1 host name=host-42", &r) == "ok");
  CHECK(r.host);
  REQUIRE(Code("LOCK id=7 name=foo/bar mode=EX try timeout=500", &r) == "ok");
  CHECK(r.verb == Verb::kLock);
  CHECK(r.id == 7);
  CHECK(r.name == "foo/bar");
  CHECK(r.mode == Mode::kEX);
  CHECK(r.try_lock);
  CHECK(r.timeout_ms == 500);
  REQUIRE(Code("CONVERT id=8 name=foo mode=NL lvb=" + std::string(64, 'f'), &r) == "ok");
  CHECK(r.has_lvb);
  CHECK(r.lvb[31] == 0xff);
  REQUIRE(Code("UNLOCK id=9 name=foo", &r) == "ok");
  CHECK_FALSE(r.has_lvb);
  for (const char* line : {"PING id=1", "WATCH id=2", "STATUS id=3", "BYE id=4", "CANCEL id=5 name=x"})
    CHECK(Code(line) == "ok");
  REQUIRE(Code("STATUS id=6 name=foo", &r) == "ok");
  CHECK(r.name == "foo");
  CHECK(Code("STATUS id=6 mode=EX") == "malformed");
}

TEST_CASE("malformed requests are named, with the id when readable") {
  Request r;
  CHECK(Code("LOCK id=7 name=foo", &r) == "malformed");
  CHECK(r.id == 7);
  CHECK(Code("LOCK name=foo mode=EX") == "malformed");
  CHECK(Code("LOCK id=x name=foo mode=EX") == "malformed");
  CHECK(Code("LOCK id=99999999999999999999 name=foo mode=EX") == "malformed");
  CHECK(Code("LOCK id=1 name=foo mode=EX  try") == "malformed");
  CHECK(Code("LOCK id=1 name=foo mode=EX ") == "malformed");
  CHECK(Code("LOCK id=1 id=2 name=foo mode=EX") == "malformed");
  CHECK(Code("LOCK id=1 name=foo mode=EX timout=5") == "malformed");
  CHECK(Code("LOCK id=1 name=foo mode=EX timeout=0") == "malformed");
  CHECK(Code("LOCK id=1 name=foo mode=EX timeout=-5") == "malformed");
  CHECK(Code("LOCK id=1 name=foo mode=EX lvb=00") == "malformed");
  CHECK(Code("LOCK id=1 name=foo mode=EX wait") == "malformed");
  CHECK(Code("LOCK id=1 name= mode=EX") == "malformed");
  CHECK(Code("LOCK id=1 name=a\tb mode=EX") == "malformed");
  CHECK(Code("LOCK id=1 name=" + std::string(256, 'a') + " mode=EX") == "malformed");
  CHECK(Code("LOCK id=1 name=f%o mode=EX") == "malformed");
  CHECK(Code("CONVERT id=1 name=foo mode=EX lvb=" + std::string(64, 'g')) == "malformed");
  CHECK(Code(std::string("PING id=1\0x", 11)) == "malformed");
  CHECK(Code("") == "malformed");
  CHECK(Code("=") == "unknown-verb");
  CHECK(Code("PING id=1 =x") == "malformed");
}

TEST_CASE("HELLO checks identity fields") {
  CHECK(Code("HELLO id=1 host name=x") == "version");
  CHECK(Code("SSIL/2 HELLO id=1 host name=x") == "version");
  CHECK(Code("SSIL/1 LOCK id=1 name=x mode=EX") == "malformed");
  CHECK(Code("SSIL/1 HELLO id=1 node=0 boot=" + kBoot) == "malformed");
  CHECK(Code("SSIL/1 HELLO id=1 node=65536 boot=" + kBoot) == "malformed");
  CHECK(Code("SSIL/1 HELLO id=1 node=3 boot=abc") == "malformed");
  CHECK(Code("SSIL/1 HELLO id=1 node=3") == "malformed");
  CHECK(Code("SSIL/1 HELLO id=1 host") == "malformed");
  CHECK(Code("SSIL/1 HELLO id=1 host node=3 name=x") == "malformed");
}

TEST_CASE("unknown verbs and modes have their own codes") {
  CHECK(Code("FROB id=1") == "unknown-verb");
  CHECK(Code("lock id=1 name=a mode=EX") == "unknown-verb");
  CHECK(Code("LOCK id=1 name=a mode=XX") == "bad-mode");
  CHECK(Code("CONVERT id=1 name=a mode=ex") == "bad-mode");
}

TEST_CASE("ERR-style messages keep their free text") {
  Message m;
  REQUIRE(ParseMessage("ERR id=3 code=busy msg=would block: held by 2", &m).ok());
  CHECK(m.verb == "ERR");
  CHECK(*m.Find("code") == "busy");
  CHECK(*m.Find("msg") == "would block: held by 2");
  CHECK(m.Find("x") == nullptr);
}

TEST_CASE("line reader splits, strips CR and reports an overlong line once") {
  LineReader reader;
  std::string line;
  reader.Feed("PING id=1\r\nPI");
  CHECK(reader.Next(&line) == LineReader::Result::kLine);
  CHECK(line == "PING id=1");
  CHECK(reader.Next(&line) == LineReader::Result::kNone);
  reader.Feed("NG id=2\n");
  CHECK(reader.Next(&line) == LineReader::Result::kLine);
  CHECK(line == "PING id=2");
  // An overlong line arriving in pieces: one report, then the next line.
  reader.Feed(std::string(700, 'x'));
  CHECK(reader.Next(&line) == LineReader::Result::kNone);
  reader.Feed(std::string(700, 'x'));
  CHECK(reader.Next(&line) == LineReader::Result::kOverlong);
  reader.Feed(std::string(5000, 'y'));
  CHECK(reader.Next(&line) == LineReader::Result::kNone);
  reader.Feed("yyy\nPING id=3\n");
  CHECK(reader.Next(&line) == LineReader::Result::kLine);
  CHECK(line == "PING id=3");
  // An overlong line arriving whole.
  reader.Feed(std::string(kMaxLine + 1, 'z') + "\nPING id=4\n");
  CHECK(reader.Next(&line) == LineReader::Result::kOverlong);
  CHECK(reader.Next(&line) == LineReader::Result::kLine);
  CHECK(line == "PING id=4");
  // Exactly kMaxLine is fine.
  reader.Feed(std::string(kMaxLine, 'a') + "\n");
  CHECK(reader.Next(&line) == LineReader::Result::kLine);
  CHECK(line.size() == kMaxLine);
}

TEST_CASE("many pipelined lines come out in order") {
  LineReader reader;
  std::string burst;
  for (int i = 0; i < 5000; ++i) burst += "PING id=" + std::to_string(i) + "\n";
  std::string line;
  for (size_t off = 0; off < burst.size(); off += 4096) {
    reader.Feed(std::string_view(burst).substr(off, 4096));
  }
  for (int i = 0; i < 5000; ++i) {
    REQUIRE(reader.Next(&line) == LineReader::Result::kLine);
    CHECK(line == "PING id=" + std::to_string(i));
  }
  CHECK(reader.Next(&line) == LineReader::Result::kNone);
}

TEST_CASE("hex and numbers round-trip") {
  uint8_t bytes[4] = {0, 0x7f, 0x80, 0xff};
  std::string hex = HexEncode(bytes, 4);
  CHECK(hex == "007f80ff");
  uint8_t back[4];
  REQUIRE(HexDecode(hex, back, 4));
  CHECK(back[3] == 0xff);
  CHECK_FALSE(HexDecode("007f80f", back, 4));
  uint64_t v;
  CHECK(ParseU64("9223372036854775807", &v));
  CHECK_FALSE(ParseU64("", &v));
  CHECK_FALSE(ParseU64("1a", &v));
}
