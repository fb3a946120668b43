#include "common/json_line_server.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "common/cpu_affinity.h"
#include "common/loop_thread.h"
#include "common/unix_socket.h"

using namespace ssiuml;

namespace {

// A JsonLineServer on a loop thread of its own, and blocking clients.
class Fixture {
 public:
  explicit Fixture(JsonLineServer::Handler handler) {
    char tmpl[] = "/tmp/jls-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    REQUIRE(LoopThread::Start(AllowedCpus().back(), &thread_).ok());
    Status s;
    thread_->RunAndWait([&] {
      server_ = std::make_unique<JsonLineServer>(thread_->loop(), std::move(handler));
      s = server_->Listen(path());
    });
    REQUIRE(s.ok());
  }
  ~Fixture() {
    thread_->RunAndWait([&] { server_.reset(); });
    thread_.reset();
    ::rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/ctl"; }
  UniqueFd Connect() {
    UniqueFd fd;
    REQUIRE(ConnectUnix(path(), &fd).ok());
    return fd;
  }

 private:
  std::string dir_;
  std::unique_ptr<LoopThread> thread_;
  std::unique_ptr<JsonLineServer> server_;
};

// All the client reads until EOF, or until nothing came for timeout_ms.
std::string ReadAll(int fd, int timeout_ms, bool* eof) {
  std::string all;
  *eof = false;
  char buf[65536];
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, timeout_ms) > 0) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      *eof = true;
      break;
    }
    all.append(buf, static_cast<size_t>(n));
  }
  return all;
}

}  // namespace

TEST_CASE("json line server: a reply per line in order, a field of another type answered as an error") {
  Fixture f([](const std::string& line) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    return nlohmann::json{{"v", 1}, {"ok", true}, {"x", j.value("x", 0)}};
  });
  UniqueFd client = f.Connect();
  REQUIRE(WriteAllFd(client.get(), "{\"x\":1}\n{\"x\":\"one\"}\n{\"x\":3}\n").ok());
  ::shutdown(client.get(), SHUT_WR);  // the replies still come, then EOF
  bool eof;
  std::string replies = ReadAll(client.get(), 3000, &eof);
  CHECK(eof);
  CHECK(replies.rfind("{\"ok\":true,\"v\":1,\"x\":1}\n{\"error\":\"a field has the wrong type: ", 0) == 0);
  CHECK(replies.find("\n{\"ok\":true,\"v\":1,\"x\":3}\n") != std::string::npos);
}

TEST_CASE("json line server: an overlong line ends its connection unanswered") {
  Fixture f([](const std::string&) { return nlohmann::json{{"ok", true}}; });
  UniqueFd client = f.Connect();
  REQUIRE(WriteAllFd(client.get(), std::string(70000, 'x') + "\n").ok());
  bool eof;
  CHECK(ReadAll(client.get(), 3000, &eof).empty());
  CHECK(eof);
}

TEST_CASE("json line server: a large reply reaches a reader whole; a client that never reads is dropped") {
  const std::string big(1 << 20, 'b');
  Fixture f([&big](const std::string&) { return nlohmann::json{{"big", big}}; });
  UniqueFd reader = f.Connect();
  REQUIRE(WriteAllFd(reader.get(), "{}\n").ok());
  bool eof;
  std::string reply = ReadAll(reader.get(), 1000, &eof);
  CHECK_FALSE(eof);
  CHECK(reply.size() == big.size() + 11);  // {"big":"..."} and its newline
  // Requests for 8 MiB of replies, none read until the server gave up.
  UniqueFd idle = f.Connect();
  std::string requests;
  for (int i = 0; i < 8; ++i) requests += "{}\n";
  REQUIRE(WriteAllFd(idle.get(), requests).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string got = ReadAll(idle.get(), 3000, &eof);
  CHECK(eof);
  CHECK(got.size() < 8 * (big.size() + 11));
}

TEST_CASE("json line server: a client that shuts down its sending side still gets a large reply whole") {
  const std::string big(2 << 20, 'h');  // more than the socket buffers hold
  Fixture f([&big](const std::string&) { return nlohmann::json{{"big", big}}; });
  UniqueFd client = f.Connect();
  REQUIRE(WriteAllFd(client.get(), "{}\n").ok());
  ::shutdown(client.get(), SHUT_WR);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server meets EOF with the reply unsent
  bool eof;
  std::string reply = ReadAll(client.get(), 3000, &eof);
  CHECK(reply.size() == big.size() + 11);
  CHECK(eof);
}
