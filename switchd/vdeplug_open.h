// VdeplugOpen: libvdeplug's vde_open on a thread of its own. It blocks: in a
// name lookup (udp://HOST), in the connect and handshake of a vde_switch
// path, and a switch that accepts and never answers would hold it for good.
// The event loop watches fd(), readable once the open is over, and takes the
// connection then. Dropped before that, the thread closes what it opened.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/fd.h"
#include "common/status.h"

extern "C" {  // libvdeplug.h has no extern "C" of its own
#include <libvdeplug.h>
}

namespace ssiuml::vde {

class VdeplugOpen {
 public:
  static Status Start(const std::string& vnl, std::shared_ptr<VdeplugOpen>* open);
  ~VdeplugOpen();

  int fd() const { return done_.get(); }
  // Once fd() is readable: the connection, now the caller's, or the error.
  Status Take(vdeconn** conn);

 private:
  VdeplugOpen() = default;
  void Run(const std::string& vnl);

  UniqueFd done_;  // eventfd, written when Run is over
  std::mutex mu_;
  bool finished_ = false;
  vdeconn* conn_ = nullptr;
  int error_ = 0;
};

}  // namespace ssiuml::vde
