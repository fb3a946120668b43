#include "switchd/vdeplug_open.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <thread>

namespace ssiuml::vde {

Status VdeplugOpen::Start(const std::string& vnl, std::shared_ptr<VdeplugOpen>* open) {
  std::shared_ptr<VdeplugOpen> self(new VdeplugOpen());
  self->done_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!self->done_.valid()) return Status::FromErrno("eventfd", errno);
  // The thread holds a reference: whoever lets go last closes the connection.
  std::thread([self, vnl] { self->Run(vnl); }).detach();
  *open = std::move(self);
  return Status::OK();
}

VdeplugOpen::~VdeplugOpen() {
  if (conn_ != nullptr) vde_close(conn_);
}

void VdeplugOpen::Run(const std::string& vnl) {
  vdeconn* conn = vde_open(const_cast<char*>(vnl.c_str()), const_cast<char*>("ssiuml switchd uplink"), nullptr);
  int error = errno;
  {
    std::lock_guard<std::mutex> lock(mu_);
    conn_ = conn;
    error_ = conn == nullptr ? error : 0;
    finished_ = true;
  }
  uint64_t one = 1;
  (void)!::write(done_.get(), &one, sizeof one);
}

Status VdeplugOpen::Take(vdeconn** conn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!finished_) return Status::Busy("still opening");
  *conn = conn_;
  conn_ = nullptr;
  return *conn != nullptr ? Status::OK() : Status::FromErrno("open", error_);
}

}  // namespace ssiuml::vde
