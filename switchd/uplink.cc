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

extern "C" {  // libvdeplug.h has no extern "C" of its own
#include <libvdeplug.h>
}

namespace ssiuml::vde {
namespace {

constexpr std::string_view kCommandScheme = "cmd://";

// An uplink through libvdeplug's plugins. Not cmd://: that plugin writes to
// its command with blocking writes, blocks in read once the command exits,
// and waits for the command at close (CommandUplink does it without).
class VdeplugUplink : public Uplink {
 public:
  VdeplugUplink(EventLoop* loop, Fabric* fabric, int port)
      : loop_(loop), fabric_(fabric), port_(port), frames_(Fabric::kMaxBatch) {}
  ~VdeplugUplink() override;
  Status Open(const std::string& vnl);

 private:
  static constexpr size_t kBufferSize = 9216 + 18;  // as VDE ports read
  void Read();

  EventLoop* loop_;
  Fabric* fabric_;
  int port_;
  std::string vnl_;
  vdeconn* conn_ = nullptr;
  std::vector<std::array<uint8_t, kBufferSize>> frames_;  // one read batch
};

VdeplugUplink::~VdeplugUplink() {
  if (conn_ == nullptr) return;
  loop_->Unwatch(vde_datafd(conn_));
  vde_close(conn_);
}

Status VdeplugUplink::Open(const std::string& vnl) {
  vnl_ = vnl;
  conn_ = vde_open(const_cast<char*>(vnl.c_str()), const_cast<char*>("ssiuml switchd uplink"), nullptr);
  if (conn_ == nullptr) return Status::FromErrno("uplink " + vnl, errno);
  // Some plugins (udp) ignore MSG_DONTWAIT; a blocking read would stall the switch.
  Status s = SetNonBlocking(vde_datafd(conn_));
  if (!s.ok()) return s;
  loop_->Watch(vde_datafd(conn_), EPOLLIN, [this](uint32_t) { Read(); });
  // Plugins such as udp:// send to an address of their own: one vde_send each.
  fabric_->Attach(port_, "uplink " + vnl, [this](const iovec* frames, int n) {
    int sent = 0;
    while (sent < n && vde_send(conn_, frames[sent].iov_base, frames[sent].iov_len, MSG_DONTWAIT) >= 0) ++sent;
    return sent;
  });
  spdlog::info("uplink {} is port {}", vnl, port_);
  return Status::OK();
}

void VdeplugUplink::Read() {
  // Frames are routed a batch at a time, and the batch flushed, as VDE ports do.
  for (int round = 0; round < 8; ++round) {
    int n = 0;
    for (; n < Fabric::kMaxBatch; ++n) {
      ssize_t got = vde_recv(conn_, frames_[n].data(), kBufferSize, MSG_DONTWAIT);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) break;
      if (got < 0) {  // the other side is gone: its frames stop, ours are dropped
        spdlog::warn("uplink {} closed: {}", vnl_, std::strerror(errno));
        loop_->Unwatch(vde_datafd(conn_));
        break;
      }
      fabric_->Input(port_, frames_[n].data(), static_cast<size_t>(got));
    }
    fabric_->Flush();
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
