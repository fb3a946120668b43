// sockcat: writes its stdin to a unix stream socket and prints what comes
// back, for tests that feed daemons raw, malformed bytes. Gives up after a
// timeout so a daemon that never answers fails the test instead of hanging it.
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/unix_socket.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: sockcat SOCKET [TIMEOUT_MS] < input\n");
    return 2;
  }
  int timeout_ms = argc > 2 ? std::atoi(argv[2]) : 5000;
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
