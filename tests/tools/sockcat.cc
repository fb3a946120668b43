// sockcat: writes its stdin to a unix stream socket and prints what comes
// back, for tests that feed daemons raw, malformed bytes. Gives up after a
// timeout so a daemon that never answers fails the test instead of hanging it.
// Exits 0 when the daemon closes the connection, 3 on the timeout. With
// PAUSE_MS it waits that long before reading, as a client that does not read
// its replies; with half-close it shuts down its sending side once it wrote
// (as nc -N does).
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/unix_socket.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: sockcat SOCKET [TIMEOUT_MS [PAUSE_MS [half-close]]] < input\n");
    return 2;
  }
  int timeout_ms = argc > 2 ? std::atoi(argv[2]) : 5000;
  int pause_ms = argc > 3 ? std::atoi(argv[3]) : 0;
  bool half_close = argc > 4 && std::string(argv[4]) == "half-close";
  ::signal(SIGPIPE, SIG_IGN);  // a daemon that closes early is answered by EPIPE
  ssiuml::UniqueFd fd;
  ssiuml::Status s = ssiuml::ConnectUnix(argv[1], &fd);
  if (!s.ok()) {
    std::fprintf(stderr, "sockcat: %s\n", s.message().c_str());
    return 1;
  }
  std::string input;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(0, buf, sizeof buf)) > 0) input.append(buf, static_cast<size_t>(n));
  // A peer that closes early is part of what tests probe; keep reading.
  (void)ssiuml::WriteAllFd(fd.get(), input);
  if (half_close) ::shutdown(fd.get(), SHUT_WR);
  if (pause_ms > 0) ::usleep(static_cast<useconds_t>(pause_ms) * 1000);
  for (;;) {
    struct pollfd pfd = {fd.get(), POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) <= 0) {
      std::fprintf(stderr, "sockcat: no answer within %d ms\n", timeout_ms);
      return 3;
    }
    n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) return 0;
    std::fwrite(buf, 1, static_cast<size_t>(n), stdout);
  }
}
