// Status: the outcome of an operation that can fail, LevelDB style. No
// exceptions cross component boundaries; callers test ok() and propagate.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace ssiuml {

class Status {
 public:
  enum class Code {
    kOk,
    kNotFound,
    kCorruption,
    kNotSupported,
    kInvalidArgument,
    kIOError,
    kBusy,
    kTimedOut,
    kResourceExhausted,
  };

  Status() = default;
  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status NotSupported(std::string msg) { return {Code::kNotSupported, std::move(msg)}; }
  static Status InvalidArgument(std::string msg) {
    return {Code::kInvalidArgument, std::move(msg)};
  }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  // An OS error: "<context>: <strerror(err)>".
  static Status FromErrno(std::string_view context, int err);
  static Status Busy(std::string msg) { return {Code::kBusy, std::move(msg)}; }
  static Status TimedOut(std::string msg) { return {Code::kTimedOut, std::move(msg)}; }
  // A bound of a server's (its locks, sessions, ...) refused it: may work
  // later, once others let go.
  static Status ResourceExhausted(std::string msg) { return {Code::kResourceExhausted, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsTimedOut() const { return code_ == Code::kTimedOut; }
  bool IsResourceExhausted() const { return code_ == Code::kResourceExhausted; }
  // The message alone, for one-line user errors.
  const std::string& message() const { return msg_; }
  // "Corruption: msg", for logs.
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), msg_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string msg_;
};

}  // namespace ssiuml
