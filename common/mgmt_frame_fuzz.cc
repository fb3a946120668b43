// Fuzzes the management-line framing with what a hostile guest could write
// on its ssl1: whatever parses must re-encode to a frame that parses the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/mgmt_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ssiuml::mgmt;
  LineSplitter lines;
  // Feed in two pieces so partial lines are exercised too.
  std::string_view input(reinterpret_cast<const char*>(data), size);
  lines.Feed(input.substr(0, size / 2));
  lines.Feed(input.substr(size / 2));
  std::string line;
  while (lines.Next(&line)) {
    Frame frame;
    if (!Parse(line, &frame).ok()) continue;
    std::string again = Encode(frame);
    again.pop_back();  // the newline
    Frame reparsed;
    if (!Parse(again, &reparsed).ok() || reparsed.verb != frame.verb || reparsed.id != frame.id ||
        reparsed.num != frame.num || reparsed.payload != frame.payload)
      std::abort();
  }
  std::string decoded;
  if (Base64Decode(input, &decoded) && Base64Encode(decoded).size() != size) std::abort();
  return 0;
}
