#include "switchd/uplink.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/unix_socket.h"
#include "switchd/command_uplink.h"
#include "switchd/vdeplug_open.h"

namespace ssiuml::vde {
namespace {

constexpr std::string_view kCommandScheme = "cmd://";

// An uplink through libvdeplug's plugins. Not cmd://: that plugin writes to
// its command with blocking writes, blocks in read once the command exits,
// and waits for the command at close (CommandUplink does it without).
//
// The switch on the other side may exit and come back (a vde_switch path
// whose switch restarts): its port is its control connection, which it then
// closes. The uplink's port leaves this switch and the VNL is opened again,
// off the loop (VdeplugOpen), every kRejoinMs until it answers, so the join
// resumes without a restart.
class VdeplugUplink : public Uplink {
 public:
  VdeplugUplink(EventLoop* loop, Fabric* fabric, int port)
      : loop_(loop), fabric_(fabric), port_(port), frames_(Fabric::kMaxBatch) {}
  ~VdeplugUplink() override;
  // The first open blocks: switchd is starting, and an uplink that does not
  // open is the caller's error.
  Status Open(const std::string& vnl);

 private:
  static constexpr size_t kBufferSize = 9216 + 18;  // as VDE ports read
  static constexpr uint64_t kRejoinMs = 2000;
  Status Connect(vdeconn* conn);
  void Close();
  // The other side is gone: the port leaves the switch until it is joined again.
  void Lost(const std::string& why);
  void Rejoin();
  void Reopened();
  void Read();
  void ControlReadable();

  EventLoop* loop_;
  Fabric* fabric_;
  int port_;
  std::string vnl_;
  vdeconn* conn_ = nullptr;
  uint64_t rejoin_timer_ = 0;
  std::shared_ptr<VdeplugOpen> reopening_;
  std::vector<std::array<uint8_t, kBufferSize>> frames_;  // one read batch
};

VdeplugUplink::~VdeplugUplink() {
  if (rejoin_timer_ != 0) loop_->Cancel(rejoin_timer_);
  if (reopening_) loop_->Unwatch(reopening_->fd());
  Close();
}

Status VdeplugUplink::Open(const std::string& vnl) {
  vnl_ = vnl;
  vdeconn* conn = vde_open(const_cast<char*>(vnl.c_str()), const_cast<char*>("ssiuml switchd uplink"), nullptr);
  if (conn == nullptr) return Status::FromErrno("uplink " + vnl, errno);
  Status s = Connect(conn);
  if (s.ok()) spdlog::info("uplink {} is port {}", vnl_, port_);
  return s;
}

Status VdeplugUplink::Connect(vdeconn* conn) {
  conn_ = conn;
  // Some plugins (udp) ignore MSG_DONTWAIT; a blocking read would stall the switch.
  Status s = SetNonBlocking(vde_datafd(conn_));
  if (!s.ok()) {
    Close();
    return s;
  }
  loop_->Watch(vde_datafd(conn_), EPOLLIN, [this](uint32_t) { Read(); });
  // Plugins without a switch behind them (udp://) have no control connection.
  int ctl = vde_ctlfd(conn_);
  if (ctl >= 0 && ctl != vde_datafd(conn_)) loop_->Watch(ctl, EPOLLIN, [this](uint32_t) { ControlReadable(); });
  // Plugins such as udp:// send to an address of their own: one vde_send each.
  fabric_->Attach(port_, "uplink " + vnl_, [this](const iovec* frames, int n) {
    int sent = 0;
    while (sent < n && vde_send(conn_, frames[sent].iov_base, frames[sent].iov_len, MSG_DONTWAIT) >= 0) ++sent;
    return sent;
  });
  return Status::OK();
}

void VdeplugUplink::Close() {
  if (conn_ == nullptr) return;
  int data = vde_datafd(conn_), ctl = vde_ctlfd(conn_);
  loop_->Unwatch(data);
  if (ctl >= 0 && ctl != data) loop_->Unwatch(ctl);
  vde_close(conn_);
  conn_ = nullptr;
}

void VdeplugUplink::Lost(const std::string& why) {
  spdlog::warn("uplink {} lost: {}; port {} left the switch, joining again every {} s", vnl_, why, port_,
               kRejoinMs / 1000);
  Close();
  fabric_->Detach(port_);
  rejoin_timer_ = loop_->After(kRejoinMs, [this] { Rejoin(); });
}

void VdeplugUplink::Rejoin() {
  rejoin_timer_ = 0;
  Status s = VdeplugOpen::Start(vnl_, &reopening_);
  if (!s.ok()) {
    spdlog::warn("uplink {}: {}", vnl_, s.message());
    rejoin_timer_ = loop_->After(kRejoinMs, [this] { Rejoin(); });
    return;
  }
  // No new attempt while this one runs: a switch that never answers holds
  // one thread, not one every kRejoinMs.
  loop_->Watch(reopening_->fd(), EPOLLIN, [this](uint32_t) { Reopened(); });
}

void VdeplugUplink::Reopened() {
  loop_->Unwatch(reopening_->fd());
  vdeconn* conn = nullptr;
  Status s = reopening_->Take(&conn);
  reopening_.reset();
  if (s.ok()) s = Connect(conn);
  if (s.ok()) {
    spdlog::info("uplink {} joined again as port {}", vnl_, port_);
    return;
  }
  spdlog::debug("uplink {}: {}", vnl_, s.message());
  rejoin_timer_ = loop_->After(kRejoinMs, [this] { Rejoin(); });
}

void VdeplugUplink::ControlReadable() {
  // The switch says nothing on it after the handshake; an end or an error
  // means it is gone.
  char buf[256];
  ssize_t got = ::recv(vde_ctlfd(conn_), buf, sizeof buf, MSG_DONTWAIT);
  if (got == 0) return Lost("its switch closed the control connection");
  if (got < 0 && errno != EAGAIN && errno != EINTR) return Lost(std::strerror(errno));
}

void VdeplugUplink::Read() {
  // Frames are routed a batch at a time, and the batch flushed, as VDE ports do.
  for (int round = 0; round < 8; ++round) {
    int n = 0;
    int error = 0;
    for (; n < Fabric::kMaxBatch; ++n) {
      ssize_t got = vde_recv(conn_, frames_[n].data(), kBufferSize, MSG_DONTWAIT);
      // udp:// reports a peer not (yet) listening this way: it may come.
      if (got < 0 && (errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED)) break;
      if (got < 0) {
        error = errno;
        break;
      }
      fabric_->Input(port_, frames_[n].data(), static_cast<size_t>(got));
    }
    fabric_->Flush();  // before Lost detaches the port that may be among the egresses
    if (error != 0) return Lost(std::strerror(error));
    if (n < Fabric::kMaxBatch) return;
  }
}

}  // namespace

Status OpenUplink(EventLoop* loop, Fabric* fabric, int port, const std::string& vnl, std::unique_ptr<Uplink>* uplink) {
  if (vnl.rfind(kCommandScheme, 0) == 0) {
    auto command = std::make_unique<CommandUplink>(loop, fabric, port);
    Status s = command->Start(vnl.substr(kCommandScheme.size()));
    *uplink = std::move(command);
    return s;
  }
  auto vdeplug = std::make_unique<VdeplugUplink>(loop, fabric, port);
  Status s = vdeplug->Open(vnl);
  *uplink = std::move(vdeplug);
  return s;
}

}  // namespace ssiuml::vde
