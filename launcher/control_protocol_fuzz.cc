// Fuzzes ssid's request parser with what any local client could send:
// nothing may crash, and an accepted request must survive its own encoding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "launcher/control_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ssiuml;
  std::string line(reinterpret_cast<const char*>(data), size);
  Request request;
  if (!ParseRequest(line, 64, &request).ok()) return 0;
  Request again;
  if (!ParseRequest(EncodeRequest(request).dump(), 64, &again).ok() || again.cmd != request.cmd ||
      again.nodes != request.nodes || again.node != request.node || again.command != request.command ||
      again.data != request.data)
    std::abort();
  ToLine(Message("node"));
  return 0;
}
