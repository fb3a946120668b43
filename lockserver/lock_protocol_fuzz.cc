// Fuzzes the request parser and line splitter with whatever a client sends.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lockserver/lock_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ssiuml::lock::wire;
  LineReader reader;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Feed in uneven pieces so partial lines are exercised too.
  for (size_t off = 0; off < bytes.size(); off += 7) reader.Feed(bytes.substr(off, 7 + off % 5));
  std::string line, code;
  Request req;
  while (reader.Next(&line) != LineReader::Result::kNone) {
    (void)ParseRequest(line, &req, &code);
    Message msg;
    (void)ParseMessage(line, &msg);
  }
  return 0;
}
