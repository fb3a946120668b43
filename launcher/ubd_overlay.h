// UML's ubd copy-on-write overlays (DISK=ubd). UML refuses an overlay whose
// recorded backing file differs in size or mtime from the current ROOT and
// the node then fails deep in boot; we check first and say what to do.
#pragma once

#include <string>

#include "common/env.h"
#include "common/status.h"

namespace ssiuml {

struct UbdOverlayHeader {
  uint32_t version = 0;
  uint64_t backing_mtime = 0;
  uint64_t backing_size = 0;
  std::string backing_file;
};

Status ReadUbdOverlayHeader(Env* env, const std::string& overlay, UbdOverlayHeader* header);
// OK when overlay is absent (UML creates it) or matches root.
Status CheckUbdOverlay(Env* env, const std::string& overlay, const std::string& root);

}  // namespace ssiuml
