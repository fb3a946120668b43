#include "common/status.h"

#include <cstring>

namespace ssiuml {

Status Status::FromErrno(std::string_view context, int err) {
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(err);
  if (err == ENOENT) return NotFound(std::move(msg));
  if (err == EAGAIN || err == EWOULDBLOCK || err == EBUSY) return Busy(std::move(msg));
  if (err == ETIMEDOUT) return TimedOut(std::move(msg));
  if (err == EINVAL) return InvalidArgument(std::move(msg));
  return IOError(std::move(msg));
}

std::string Status::ToString() const {
  const char* prefix = "";
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kNotFound: prefix = "NotFound: "; break;
    case Code::kCorruption: prefix = "Corruption: "; break;
    case Code::kNotSupported: prefix = "NotSupported: "; break;
    case Code::kInvalidArgument: prefix = "InvalidArgument: "; break;
    case Code::kIOError: prefix = "IOError: "; break;
    case Code::kBusy: prefix = "Busy: "; break;
    case Code::kTimedOut: prefix = "TimedOut: "; break;
    case Code::kResourceExhausted: prefix = "ResourceExhausted: "; break;
  }
  return prefix + msg_;
}

}  // namespace ssiuml
