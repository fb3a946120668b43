// Fuzzes the dashboard's console text model with arbitrary guest output, and
// the dashboard itself with keys in between: rendering must stay in bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "launcher/console_view.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ssiuml;
  Dashboard dashboard("fuzz");
  dashboard.SetStatus({{"nodes", {{{"node", 1}, {"state", "running"}}, {{"node", 2}, {"state", "paused"}}}}});
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (size_t i = 0; i < input.size(); i += 64) {
    std::string_view chunk = input.substr(i, 64);
    dashboard.AddConsole(1 + static_cast<int>(i / 64) % 2, chunk);
    if (!chunk.empty()) dashboard.HandleKey(static_cast<uint8_t>(chunk[0]));
  }
  Frame frame = dashboard.Render(24 + static_cast<int>(size % 40), 80 + static_cast<int>(size % 90));
  for (const auto& line : frame.lines)
    if (line.size() != frame.lines[0].size()) std::abort();
  return 0;
}
