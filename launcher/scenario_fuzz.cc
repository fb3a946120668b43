// Fuzzes the ssi-test scenario parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "launcher/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ssiuml::Scenario scenario;
  ssiuml::ParseScenario(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.scn", 64,
                        &scenario);
  return 0;
}
