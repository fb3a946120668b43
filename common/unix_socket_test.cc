#include "common/unix_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

using namespace ssiuml;

namespace {
struct Pair {
  UniqueFd a, b;
  Pair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    a.Reset(fds[0]);
    b.Reset(fds[1]);
  }
};

std::string ReadAvailable(int fd) {
  std::string got;
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) got.append(buf, static_cast<size_t>(n));
  return got;
}
}  // namespace

TEST_CASE("SendPending sends what the socket takes and keeps the rest, in order") {
  Pair pair;
  std::string pending = "hello\n";
  REQUIRE(SendPending(pair.a.get(), &pending).ok());
  CHECK(pending.empty());
  CHECK(ReadAvailable(pair.b.get()) == "hello\n");

  // More than a socket buffer holds: it returns at once with the rest kept.
  std::string sent(32 << 20, '\0');
  for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 7);
  pending = sent;
  REQUIRE(SendPending(pair.a.get(), &pending).ok());
  REQUIRE(!pending.empty());
  REQUIRE(pending.size() < sent.size());
  std::string got = ReadAvailable(pair.b.get());
  while (!pending.empty()) {
    REQUIRE(SendPending(pair.a.get(), &pending).ok());
    got += ReadAvailable(pair.b.get());
  }
  CHECK(got == sent);
}

TEST_CASE("SendPending to a peer that closed is an error, not SIGPIPE") {
  Pair pair;
  pair.b.Reset();
  std::string pending = "lost";
  Status s = SendPending(pair.a.get(), &pending);
  CHECK(!s.ok());
  CHECK(s.ToString().find("send") != std::string::npos);
  CHECK(pending == "lost");
}
