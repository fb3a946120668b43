#include "launcher/mgmt_channel.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

namespace ssiuml {
namespace {

constexpr uint64_t kPingIntervalMs = 200;
// Queued output past this means the guest stopped reading; new frames are
// refused rather than buffered without bound.
constexpr size_t kMaxOutbuf = 1 << 20;

}  // namespace

MgmtChannel::MgmtChannel(EventLoop* loop, UniqueFd master, std::function<void()> on_ready)
    : loop_(loop), master_(std::move(master)), on_ready_(std::move(on_ready)) {
  loop_->Watch(master_.get(), EPOLLIN, [this](uint32_t events) { OnEvents(events); });
  SchedulePing();
}

MgmtChannel::~MgmtChannel() {
  loop_->Cancel(ping_timer_);
  if (!closed_) loop_->Unwatch(master_.get());
}

void MgmtChannel::SchedulePing() {
  ping_timer_ = loop_->After(kPingIntervalMs, [this] {
    if (ready_ || closed_) return;
    if (outbuf_.empty()) Send({mgmt::Verb::kPing, 0, 0, {}});
    SchedulePing();
  });
}

uint64_t MgmtChannel::Exec(const std::string& command, ExecHandlers handlers) {
  uint64_t id = next_id_++;
  if (closed_ || outbuf_.size() > kMaxOutbuf) {
    handlers.on_done(-1, closed_ ? "the management line is closed"
                                 : "the node is not reading its management line");
    return id;
  }
  execs_.emplace(id, std::move(handlers));
  Send({mgmt::Verb::kExec, id, 0, command});
  return id;
}

void MgmtChannel::Kill(uint64_t id) {
  if (execs_.count(id) != 0) Send({mgmt::Verb::kKill, id, 0, {}});
}

void MgmtChannel::FailAll(const std::string& why) {
  auto execs = std::move(execs_);
  execs_.clear();
  for (auto& [id, handlers] : execs) handlers.on_done(-1, why);
}

void MgmtChannel::Send(const mgmt::Frame& frame) {
  if (closed_) return;
  outbuf_ += mgmt::Encode(frame);
  Flush();
}

void MgmtChannel::Flush() {
  while (!outbuf_.empty()) {
    ssize_t n = ::write(master_.get(), outbuf_.data(), outbuf_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) Close();
      break;
    }
    outbuf_.erase(0, static_cast<size_t>(n));
  }
  if (!closed_) loop_->Modify(master_.get(), outbuf_.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT);
}

void MgmtChannel::Close() {
  if (closed_) return;
  closed_ = true;
  loop_->Unwatch(master_.get());
  outbuf_.clear();
}

void MgmtChannel::OnEvents(uint32_t events) {
  if (events & EPOLLOUT) Flush();
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  if (!lines_.FeedFrom(master_.get())) Close();  // the node exited
  std::string line;
  while (lines_.Next(&line)) HandleLine(line);
}

void MgmtChannel::HandleLine(const std::string& line) {
  mgmt::Frame frame;
  if (!mgmt::Parse(line, &frame).ok()) {
    // Noise from before the agent set the line raw, or a broken guest.
    spdlog::debug("management line: ignoring unparsable line ({} bytes)", line.size());
    return;
  }
  switch (frame.verb) {
    case mgmt::Verb::kHello:
      if (frame.num != mgmt::kProtocolVersion)
        spdlog::warn("ssi-agent speaks management protocol {}, ssid {}", frame.num,
                     mgmt::kProtocolVersion);
      [[fallthrough]];
    case mgmt::Verb::kPong:
      boot_id_ = frame.payload;
      if (!ready_) {
        ready_ = true;
        on_ready_();
      }
      break;
    case mgmt::Verb::kOut: {
      auto it = execs_.find(frame.id);
      if (it != execs_.end() && it->second.on_output)
        it->second.on_output(static_cast<int>(frame.num), frame.payload);
      break;
    }
    case mgmt::Verb::kExit:
    case mgmt::Verb::kErr: {
      auto it = execs_.find(frame.id);
      if (it == execs_.end()) break;
      ExecHandlers handlers = std::move(it->second);
      execs_.erase(it);
      if (frame.verb == mgmt::Verb::kExit) {
        handlers.on_done(static_cast<int>(frame.num), "");
      } else {
        handlers.on_done(-1, "ssi-agent: " + frame.payload);
      }
      break;
    }
    default:
      spdlog::debug("management line: unexpected frame from the guest");
  }
}

}  // namespace ssiuml
