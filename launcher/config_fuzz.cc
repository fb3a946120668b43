// Fuzzes the ssiuml.conf parser: any file a user writes gets an answer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "launcher/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ssiuml::Config config;
  ssiuml::ParseConfig(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.conf", &config);
  return 0;
}
