#include "switchd/fabric.h"

#include <algorithm>

#include "common/node_port.h"

namespace ssiuml::vde {
namespace {

constexpr size_t kMaxDelayedFrames = 65536;  // beyond this a delay fault drops

}  // namespace

Fabric::Fabric(EventLoop* loop, bool hub) : loop_(loop), core_(hub), random_(std::random_device()()) {}

void Fabric::Attach(int port, std::string description, Output output) {
  if (port < 0) return;
  if (size_t(port) >= ports_.size()) ports_.resize(size_t(port) + 1);
  Port& p = ports_[port];
  p.attached = true;
  p.description = std::move(description);
  p.output = std::move(output);
  p.queue.clear();
  p.queue.reserve(kMaxBatch);
  core_.AddPort(port, NodeOfPortDescription(p.description));
}

void Fabric::Detach(int port) {
  if (port < 0 || size_t(port) >= ports_.size()) return;
  ports_[port] = Port();
  core_.RemovePort(port);
}

std::string Fabric::Description(int port) const {
  return port >= 0 && size_t(port) < ports_.size() ? ports_[port].description : std::string();
}

void Fabric::Input(int ingress, const uint8_t* frame, size_t len) {
  uint64_t now = EventLoop::NowMs();
  // Drawing a random number costs more than routing; only faults need one.
  core_.Route(ingress, frame, len, now, core_.Faulty() ? unit_(random_) : 0.0, &egress_);
  for (const Egress& e : egress_) {
    if (e.delay_ms == 0) {
      Queue(e.port, frame, len);
    } else if (delayed_.size() < kMaxDelayedFrames) {
      delayed_.emplace(now + e.delay_ms, std::make_pair(e.port, std::string(reinterpret_cast<const char*>(frame), len)));
      ScheduleDelayed();
    } else {
      ++core_.counters(e.port).drops[static_cast<size_t>(Drop::kFull)];
    }
  }
}

void Fabric::Queue(int port, const uint8_t* frame, size_t len) {
  if (port < 0 || size_t(port) >= ports_.size() || !ports_[port].attached) return;
  std::vector<iovec>& queue = ports_[port].queue;
  if (queue.empty()) dirty_.push_back(port);
  queue.push_back({const_cast<uint8_t*>(frame), len});
  if (queue.size() == kMaxBatch) FlushPort(port);
}

void Fabric::Flush() {
  // By index: an Output that routed frames of its own would grow dirty_.
  for (size_t i = 0; i < dirty_.size(); ++i) FlushPort(dirty_[i]);
  dirty_.clear();
}

void Fabric::FlushPort(int port) {
  if (size_t(port) >= ports_.size()) return;
  Port& p = ports_[port];
  if (!p.attached || p.queue.empty()) return;
  int n = static_cast<int>(p.queue.size());
  int taken = std::max(0, std::min(n, p.output(p.queue.data(), n)));
  PortCounters& c = core_.counters(port);
  c.tx_frames += static_cast<uint64_t>(taken);
  for (int i = 0; i < taken; ++i) c.tx_bytes += p.queue[i].iov_len;
  c.drops[static_cast<size_t>(Drop::kFull)] += static_cast<uint64_t>(n - taken);  // a stuck port loses its own
  p.queue.clear();
}

void Fabric::ScheduleDelayed() {
  if (delayed_.empty()) return;
  uint64_t due = delayed_.begin()->first;
  // A frame due before the armed timer (a shorter delay set since, or jitter)
  // re-arms it, or it would wait behind the longer delay.
  if (delay_timer_ != 0) {
    if (due >= delay_due_) return;
    loop_->Cancel(delay_timer_);
  }
  uint64_t now = EventLoop::NowMs();
  delay_due_ = due;
  delay_timer_ = loop_->After(due > now ? due - now : 0, [this] {
    delay_timer_ = 0;
    uint64_t now = EventLoop::NowMs();
    // The frames are queued by address: keep them until the flush.
    std::vector<std::pair<int, std::string>> due;
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      due.push_back(std::move(delayed_.begin()->second));
      delayed_.erase(delayed_.begin());
    }
    for (const auto& [port, frame] : due) Queue(port, reinterpret_cast<const uint8_t*>(frame.data()), frame.size());
    Flush();
    ScheduleDelayed();
  });
}

}  // namespace ssiuml::vde
