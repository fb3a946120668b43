// DLM's six lock modes and their compatibility matrix (fs/dlm, dlmconstants.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace ssiuml::lock {

// Ordered as in DLM, so a larger value never grants less than a smaller one
// except for the CW/PR pair, which are incomparable.
enum class Mode : uint8_t { kNL, kCR, kCW, kPR, kPW, kEX };
constexpr int kModeCount = 6;

bool Compatible(Mode a, Mode b);
const char* ModeName(Mode mode);
// "NL".."EX", case-sensitive; anything else is InvalidArgument.
Status ParseMode(std::string_view text, Mode* mode);
// PW and EX are the modes that may write a lock value block.
inline bool IsWriteMode(Mode m) { return m == Mode::kPW || m == Mode::kEX; }

}  // namespace ssiuml::lock
