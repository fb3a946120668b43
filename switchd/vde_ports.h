// VdePorts: the classic VDE side of the switch. Clients connect to DIR/ctl,
// send one request (vde_request.h) and get a datagram socket of their own;
// EOF on the ctl stream ends the port. Frames are read in batches
// (recvmmsg), routed, and each port's share sent with one sendmmsg; bad
// clients are refused and counted.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/event_loop.h"
#include "common/fd.h"
#include "switchd/fabric.h"
#include "switchd/vde_request.h"

namespace ssiuml::vde {

class VdePorts {
 public:
  VdePorts(EventLoop* loop, Fabric* fabric, std::string dir, int max_ports);
  ~VdePorts();  // unlinks every socket it made

  Status Listen();
  uint64_t refused() const { return refused_; }

 private:
  static constexpr int kBatch = Fabric::kMaxBatch;
  static constexpr size_t kBufferSize = 9216 + 18;  // vde_switch's buffer
  struct Port {
    UniqueFd ctl;   // EOF here means the client left
    UniqueFd data;  // connected to the client's datagram socket
    std::string path;
  };
  struct Batch {  // recvmmsg buffers, made once
    std::array<std::array<uint8_t, kBufferSize>, kBatch> frames;
    std::array<iovec, kBatch> iov;
    std::array<mmsghdr, kBatch> msgs;
    std::array<mmsghdr, kBatch> out;  // sendmmsg headers for one port's queue
  };

  void Accept();
  void DropPending(int fd);
  void ReadRequest(int fd);
  Status OpenPort(int ctl_fd, const Request& request);
  void CheckCtl(int number);
  void Close(int number);
  // A few batches by default, then back to the loop so one busy port cannot
  // starve the others: a flood fills its own socket buffer and loses its own frames.
  void ReadFrames(int number, int max_rounds = 8);
  int SendFrames(int fd, const iovec* frames, int n);
  void Refuse(const std::string& why);

  EventLoop* loop_;
  Fabric* fabric_;
  std::string dir_;
  int max_ports_;
  UniqueFd ctl_;
  std::map<int, UniqueFd> pending_;
  std::map<int, Port> ports_;
  std::unique_ptr<Batch> batch_;
  uint64_t refused_ = 0;
};

}  // namespace ssiuml::vde
