#include "cow/vhost_blk_server.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>

#include "common/unix_socket.h"

namespace ssiuml::vhost {
namespace {

// A peer that stops mid-message is dropped after this, so it cannot stall
// every other device of the daemon.
constexpr int kMessageTimeoutMs = 1000;
constexpr uint64_t kProtocolFeatures =
    (1ull << kProtocolReplyAck) | (1ull << kProtocolSlaveReq) | (1ull << kProtocolConfig);

}  // namespace

VhostBlkServer::VhostBlkServer(EventLoop* loop, std::string socket_path, std::shared_ptr<BlockDevice> device)
    : loop_(loop), path_(std::move(socket_path)), device_(std::move(device)) {}

VhostBlkServer::~VhostBlkServer() {
  Disconnect("");
  if (listen_.valid()) {
    loop_->Unwatch(listen_.get());
    ::unlink(path_.c_str());
  }
}

Status VhostBlkServer::Listen() {
  Status s = ListenUnix(path_, &listen_);
  if (!s.ok()) return s;
  loop_->Watch(listen_.get(), EPOLLIN, [this](uint32_t) { Accept(); });
  return Status::OK();
}

void VhostBlkServer::Accept() {
  UniqueFd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) return;
  if (conn_.valid()) {
    spdlog::warn("{}: refusing a second front end while one is connected", path_);
    return;
  }
  struct timeval tv = {kMessageTimeoutMs / 1000, (kMessageTimeoutMs % 1000) * 1000};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  conn_ = std::move(fd);
  loop_->Watch(conn_.get(), EPOLLIN, [this](uint32_t) { OnReadable(); });
  spdlog::debug("{}: front end connected", path_);
}

void VhostBlkServer::Disconnect(const std::string& why) {
  if (!conn_.valid()) return;
  if (!why.empty()) spdlog::info("{}: front end gone: {}", path_, why);
  if (queue_.kick_fd() >= 0) loop_->Unwatch(queue_.kick_fd());
  loop_->Unwatch(conn_.get());
  conn_.Reset();
  queue_.Reset();
  memory_.Unmap();
  slave_.Reset();
  protocol_features_ = 0;
  // What the guest wrote before it went away must be on disk.
  device_->Flush();
}

void VhostBlkServer::OnReadable() {
  Message msg;
  Status s = ReadMessage(conn_.get(), &msg);
  if (s.ok()) s = Handle(msg);
  if (!s.ok()) Disconnect(s.IsNotFound() ? "closed" : s.message());
}

Status VhostBlkServer::Reply(const Message& msg, const std::vector<uint8_t>& payload) {
  return WriteReply(conn_.get(), msg.request, payload);
}

// With REPLY_ACK, every message that asks for it gets 0 (done) or 1 (failed).
Status VhostBlkServer::Ack(const Message& msg, bool ok) {
  if (msg.need_reply() && (protocol_features_ & (1ull << kProtocolReplyAck)))
    return Reply(msg, U64Payload(ok ? 0 : 1));
  return Status::OK();
}

Status VhostBlkServer::Handle(Message& msg) {
  uint64_t value = 0;
  uint32_t index = 0, num = 0;
  Status s;
  switch (msg.request) {
    case kGetFeatures:
      return Reply(msg, U64Payload(BlkFeatures(*device_)));
    case kGetProtocolFeatures:
      return Reply(msg, U64Payload(kProtocolFeatures));
    case kGetQueueNum:
      return Reply(msg, U64Payload(1));
    case kSetProtocolFeatures:
      s = PayloadU64(msg, &value);
      if (!s.ok()) return s;
      protocol_features_ = value & kProtocolFeatures;
      return Ack(msg, true);
    case kSetFeatures:
    case kSetOwner:
    case kResetOwner:
      return Ack(msg, true);
    case kSetSlaveReqFd:
      // Nothing is ever sent on it, but UML 6.1 allocates the device's
      // interrupt only when it sets this channel up: without it virtio_blk's
      // probe collides with the timer on IRQ 0 and fails with -EBUSY.
      if (msg.fds.size() != 1) return Status::InvalidArgument("vhost-user: slave channel descriptor missing");
      slave_ = std::move(msg.fds[0]);
      return Ack(msg, true);
    case kSetVringErr:
      return Ack(msg, true);  // errors are logged here; the descriptor is dropped
    case kSetMemTable: {
      std::vector<MemoryRegion> regions;
      s = PayloadMemTable(msg, &regions);
      if (s.ok()) s = memory_.Map(regions, std::move(msg.fds));
      if (!s.ok()) return s;
      return Ack(msg, true);
    }
    case kSetVringNum:
    case kSetVringBase:
    case kSetVringEnable:
    case kGetVringBase: {
      s = PayloadVringState(msg, &index, &num);
      if (s.ok() && index != 0) s = Status::InvalidArgument("vhost-user: only queue 0 exists");
      if (!s.ok()) return s;
      if (msg.request == kSetVringNum) {
        s = queue_.SetSize(num);
      } else if (msg.request == kSetVringBase) {
        queue_.SetBase(static_cast<uint16_t>(num));
      } else if (msg.request == kSetVringEnable) {
        queue_.SetEnabled(num == 1);
        if (num == 1) StartQueue();
      } else {
        // The front end stops the ring and asks where it is.
        queue_.SetEnabled(false);
        std::vector<uint8_t> state(8);
        uint32_t base = queue_.base();
        std::memcpy(state.data(), &index, 4);
        std::memcpy(state.data() + 4, &base, 4);
        return Reply(msg, state);
      }
      if (!s.ok()) return s;
      return Ack(msg, true);
    }
    case kSetVringAddr: {
      VringAddr addr;
      s = PayloadVringAddr(msg, &addr);
      if (s.ok() && addr.index != 0) s = Status::InvalidArgument("vhost-user: only queue 0 exists");
      if (s.ok()) s = queue_.SetAddresses(memory_, addr.desc, addr.avail, addr.used);
      if (!s.ok()) return s;
      return Ack(msg, true);
    }
    case kSetVringKick:
    case kSetVringCall: {
      s = PayloadU64(msg, &value);
      if (!s.ok()) return s;
      if ((value & 0xff) != 0) return Status::InvalidArgument("vhost-user: only queue 0 exists");
      UniqueFd fd;
      if (!(value & kVringNoFd)) {
        if (msg.fds.size() != 1) return Status::InvalidArgument("vhost-user: ring descriptor missing");
        fd = std::move(msg.fds[0]);
        SetNonBlocking(fd.get());
      }
      if (msg.request == kSetVringKick) {
        if (queue_.kick_fd() >= 0) loop_->Unwatch(queue_.kick_fd());
        queue_.SetKick(std::move(fd));
        StartQueue();
      } else {
        queue_.SetCall(std::move(fd));
      }
      return Ack(msg, true);
    }
    case kGetConfig: {
      uint32_t offset = 0, size = 0;
      s = PayloadConfig(msg, &offset, &size);
      if (!s.ok()) return s;
      // The reply mirrors the request's sizes, config bytes from offset on.
      std::vector<uint8_t> config = BlkConfig(*device_);
      std::vector<uint8_t> payload(msg.payload.begin(), msg.payload.begin() + 12);
      payload.resize(12 + size, 0);
      for (uint32_t i = 0; i < size && offset + i < config.size(); ++i) payload[12 + i] = config[offset + i];
      return Reply(msg, payload);
    }
    case kSetConfig:
      return Ack(msg, true);  // only the write-cache flag is settable; we always flush
    default:
      spdlog::warn("{}: unsupported vhost-user request {}", path_, msg.request);
      return Ack(msg, false);
  }
}

void VhostBlkServer::StartQueue() {
  if (queue_.kick_fd() < 0) return;
  // Edge-triggered, the kick eventfd is never read: each write to an eventfd
  // is an edge of its own, and ProcessQueue empties the ring at every one,
  // so the read (a system call per request) would only reset a counter.
  loop_->Watch(queue_.kick_fd(), EPOLLIN | EPOLLET, [this](uint32_t) { ProcessQueue(); });
  // Requests queued before the ring was enabled would wait for a kick
  // that already came.
  ProcessQueue();
}

void VhostBlkServer::SetStalled(bool stalled) {
  stalled_ = stalled;
  if (!stalled_ && conn_.valid()) ProcessQueue();
}

void VhostBlkServer::ProcessQueue() {
  if (stalled_) return;
  Chain chain;
  while (queue_.Pop(memory_, &chain)) {
    if (!chain.error.empty()) spdlog::warn("{}: refused a request: {}", path_, chain.error);
    uint32_t written = HandleBlkRequest(*device_, chain, &stats_);
    queue_.Push(chain.head, written);
  }
  queue_.Notify();
}

}  // namespace ssiuml::vhost
