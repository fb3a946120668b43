#include "common/status.h"

#include <catch2/catch.hpp>
#include <cerrno>

using ssiuml::Status;

TEST_CASE("Status carries code and message") {
  CHECK(Status::OK().ok());
  CHECK(Status::OK().ToString() == "OK");
  Status s = Status::Corruption("bad magic");
  CHECK_FALSE(s.ok());
  CHECK(s.IsCorruption());
  CHECK(s.message() == "bad magic");
  CHECK(s.ToString() == "Corruption: bad magic");
}

TEST_CASE("Status maps errno to codes") {
  CHECK(Status::FromErrno("open x", ENOENT).IsNotFound());
  CHECK(Status::FromErrno("lock", EAGAIN).IsBusy());
  Status io = Status::FromErrno("write y", EIO);
  CHECK(io.code() == Status::Code::kIOError);
  CHECK(io.message().rfind("write y: ", 0) == 0);
}
