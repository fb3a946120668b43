#include "launcher/console_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/env.h"
#include "launcher/pty.h"

using namespace ssiuml;

namespace {

std::string Slurp(const std::string& path) {
  std::string text;
  REQUIRE(Env::Default()->ReadFileToString(path, &text).ok());
  return text;
}

struct ConsoleFixture {
  EventLoop loop;
  std::string dir;
  std::string path;
  UniqueFd slave;
  std::string seen;  // what the callback got
  std::unique_ptr<ConsoleLog> log;

  explicit ConsoleFixture(uint64_t max_bytes, const std::string& already_logged) {
    REQUIRE(loop.Init().ok());
    char tmpl[] = "/tmp/console_log_test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    path = dir + "/node1.console";
    std::ofstream(path) << already_logged;
    UniqueFd master;
    REQUIRE(OpenRawPty(&master, &slave).ok());
    UniqueFd file(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
    REQUIRE(file.valid());
    log = std::make_unique<ConsoleLog>(&loop, std::move(master), path, std::move(file),
                                       [this](std::string_view data) { seen.append(data); }, max_bytes);
  }
  ~ConsoleFixture() {
    log.reset();
    std::filesystem::remove_all(dir);
  }
  // The node prints `data`; ssid collects it.
  void Print(const std::string& data) {
    REQUIRE(::write(slave.get(), data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    size_t before = seen.size();
    for (int i = 0; i < 5000 && seen.size() < before + data.size(); ++i) {
      log->Drain();
      if (seen.size() < before + data.size()) ::usleep(1000);
    }
    REQUIRE(seen.size() == before + data.size());
  }
};

}  // namespace

TEST_CASE("console log: a flooded log moves to .1 at its cap and keeps the latest output") {
  const std::string earlier(1000, 'o');
  ConsoleFixture f(4096, earlier);
  // UML's stdout is the log file opened before it booted.
  UniqueFd uml_stdout(::open(f.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  REQUIRE(uml_stdout.valid());
  std::string printed;
  for (char c = 'a'; c <= 'j'; ++c) {
    std::string chunk(1000, c);
    f.Print(chunk);
    printed += chunk;
    CHECK(std::filesystem::file_size(f.path) <= 4096);
  }
  CHECK(f.seen == printed);  // viewers get everything, whatever the file holds
  std::string kept = Slurp(f.path + ".1") + Slurp(f.path);
  std::string everything = earlier + printed;
  CHECK(std::filesystem::file_size(f.path + ".1") <= 4096);
  CHECK(kept.size() >= 4096);
  CHECK(everything.compare(everything.size() - kept.size(), kept.size(), kept) == 0);
  // What UML itself prints after the log moved still lands in the current log.
  REQUIRE(::write(uml_stdout.get(), "uml: host error\n", 16) == 16);
  std::string current = Slurp(f.path);
  CHECK(current.size() >= 16);
  CHECK(current.substr(current.size() - 16) == "uml: host error\n");
}

TEST_CASE("console log: when the full log cannot move, logging stops and the console goes on") {
  ConsoleFixture f(2048, "");
  f.Print(std::string(1500, 'a'));
  std::filesystem::remove_all(f.dir);  // the state folder vanished under ssid
  f.Print(std::string(1500, 'b'));
  f.Print(std::string(1500, 'c'));
  CHECK(f.seen == std::string(1500, 'a') + std::string(1500, 'b') + std::string(1500, 'c'));
}
