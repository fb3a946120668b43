// Fuzzes the VDE handshake parser with whatever a local client sends to ctl.
#include <cstddef>
#include <cstdint>

#include "switchd/vde_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ssiuml::vde::Request request;
  ssiuml::vde::ParseRequest(data, size, &request);
  return 0;
}
