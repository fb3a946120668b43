#include "lockserver/lock_mode.h"

#include <string>

namespace ssiuml::lock {
namespace {

// Rows: granted, columns: requested (symmetric).
constexpr bool kCompat[kModeCount][kModeCount] = {
    /* NL */ {true, true, true, true, true, true},
    /* CR */ {true, true, true, true, true, false},
    /* CW */ {true, true, true, false, false, false},
    /* PR */ {true, true, false, true, false, false},
    /* PW */ {true, true, false, false, false, false},
    /* EX */ {true, false, false, false, false, false},
};
constexpr const char* kNames[kModeCount] = {"NL", "CR", "CW", "PR", "PW", "EX"};

}  // namespace

bool Compatible(Mode a, Mode b) { return kCompat[static_cast<int>(a)][static_cast<int>(b)]; }

const char* ModeName(Mode mode) { return kNames[static_cast<int>(mode)]; }

Status ParseMode(std::string_view text, Mode* mode) {
  for (int i = 0; i < kModeCount; ++i) {
    if (text == kNames[i]) {
      *mode = static_cast<Mode>(i);
      return Status::OK();
    }
  }
  return Status::InvalidArgument("unknown lock mode '" + std::string(text.substr(0, 16)) +
                                 "' (NL CR CW PR PW EX)");
}

}  // namespace ssiuml::lock
