// console_latency: keystroke-to-echo latency through ssid's console path
// (session socket -> ssid -> pty -> guest tty echo -> back), as ssi-console
// sees it. Prints the median and the 90th percentile in milliseconds.
// Usage: console_latency CLUSTER NODE [SAMPLES]
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/mgmt_frame.h"
#include "launcher/cluster_paths.h"
#include "launcher/console_session.h"

using namespace ssiuml;
using Clock = std::chrono::steady_clock;

namespace {

// Waits until the node's console output contains needle; false on timeout.
bool WaitForOutput(ConsoleSession& session, int node, const std::string& needle) {
  std::string seen;
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    struct pollfd pfd = {session.fd(), POLLIN, 0};
    ::poll(&pfd, 1, 100);
    std::vector<nlohmann::json> messages;
    if (!session.Read(&messages)) return false;
    for (const auto& m : messages) {
      std::string data;
      if (m.value("type", "") == "console" && m.value("node", 0) == node &&
          mgmt::Base64Decode(m.value("data", ""), &data))
        seen += data;
    }
    if (seen.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: console_latency CLUSTER NODE [SAMPLES]\n");
    return 2;
  }
  int node = std::atoi(argv[2]);
  int samples = argc > 3 ? std::atoi(argv[3]) : 200;
  ClusterPaths paths;
  ConsoleSession session;
  Status s = ResolveClusterPaths(argv[1], &paths);
  if (s.ok()) s = session.Open(paths, {node}, false);
  if (!s.ok()) {
    std::fprintf(stderr, "console_latency: %s\n", s.message().c_str());
    return 1;
  }
  // Skip the history replay, then start from a fresh prompt.
  session.Input(node, "\r");
  WaitForOutput(session, node, "# ");
  std::vector<double> ms;
  for (int i = 0; i < samples; ++i) {
    char key = static_cast<char>('a' + i % 26);
    auto start = Clock::now();
    session.Input(node, std::string(1, key));
    if (!WaitForOutput(session, node, std::string(1, key))) {
      std::fprintf(stderr, "console_latency: no echo from node %d\n", node);
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    session.Input(node, "\x7f");  // erase it again, so the prompt line stays short
    WaitForOutput(session, node, "\b");
  }
  session.Input(node, "\x15");  // C-u: leave a clean line behind
  std::sort(ms.begin(), ms.end());
  std::printf("RESULT echo_median_ms=%.2f echo_p90_ms=%.2f samples=%d\n", ms[ms.size() / 2],
              ms[ms.size() * 9 / 10], samples);
  return 0;
}
