// Progress: a one-line, self-overwriting progress report on stderr for long
// copies (fill, export, validate), shown only when stderr is a terminal.
#pragma once

#include <cstdint>
#include <string>

namespace ssiuml::plx {

class Progress {
 public:
  Progress(std::string label, uint64_t total_bytes);
  ~Progress();
  void Update(uint64_t done_bytes);

 private:
  std::string label_;
  uint64_t total_;
  bool tty_;
  uint64_t last_us_ = 0;
  bool shown_ = false;
};

}  // namespace ssiuml::plx
