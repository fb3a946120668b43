#include "switchd/fabric.h"

#include <catch2/catch.hpp>
#include <vector>

#include "common/node_port.h"

using namespace ssiuml;
using namespace ssiuml::vde;

TEST_CASE("frames wait for Flush, go out one batch per port, and what a port refuses counts as full") {
  EventLoop loop;
  REQUIRE(loop.Init().ok());
  Fabric fabric(&loop, true);  // hub: every frame goes to every other port
  std::vector<int> calls;      // frames per Output call of port 2
  int take = 64;
  fabric.Attach(1, "one", [](const iovec*, int n) { return n; });
  fabric.Attach(2, "two", [&](const iovec* frames, int n) {
    calls.push_back(n);
    CHECK(frames[0].iov_len == 60);
    return std::min(n, take);
  });
  std::vector<uint8_t> frame(60, 0);
  frame[6] = 0x02;  // a unicast source
  for (int i = 0; i < 3; ++i) fabric.Input(1, frame.data(), frame.size());
  CHECK(calls.empty());
  fabric.Flush();
  CHECK(calls == std::vector<int>{3});
  CHECK(fabric.core().counters(2).tx_frames == 3);
  CHECK(fabric.core().counters(2).tx_bytes == 180);

  take = 1;
  for (int i = 0; i < 3; ++i) fabric.Input(1, frame.data(), frame.size());
  fabric.Flush();
  CHECK(fabric.core().counters(2).tx_frames == 4);
  CHECK(fabric.core().counters(2).drops[static_cast<size_t>(Drop::kFull)] == 2);

  // A full batch goes at once; a detached port is skipped.
  take = 64;
  calls.clear();
  for (int i = 0; i < Fabric::kMaxBatch; ++i) fabric.Input(1, frame.data(), frame.size());
  CHECK(calls == std::vector<int>{Fabric::kMaxBatch});
  fabric.Input(1, frame.data(), frame.size());
  fabric.Detach(2);
  fabric.Flush();
  CHECK(calls.size() == 1);
}

TEST_CASE("a frame under a shorter delay is not held back by one under a longer delay before it") {
  EventLoop loop;
  REQUIRE(loop.Init().ok());
  Fabric fabric(&loop, true);
  int delivered = 0;
  fabric.Attach(1, NodePortDescription(1), [](const iovec*, int n) { return n; });
  fabric.Attach(2, NodePortDescription(2), [&](const iovec*, int n) {
    delivered += n;
    loop.Quit();
    return n;
  });
  std::vector<uint8_t> frame(60, 0);
  frame[6] = 0x02;
  fabric.core().SetDelay(2, 10000, 0);
  fabric.Input(1, frame.data(), frame.size());
  fabric.core().SetDelay(2, 10, 0);
  fabric.Input(1, frame.data(), frame.size());
  uint64_t start = EventLoop::NowMs();
  loop.After(5000, [&] { loop.Quit(); });  // the test's own bound
  loop.Run();
  CHECK(delivered == 1);
  CHECK(EventLoop::NowMs() - start < 5000);
}
