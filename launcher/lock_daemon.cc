#include "launcher/lock_daemon.h"

#include <spdlog/spdlog.h>
#include <time.h>

#include "launcher/daemon_control.h"
#include "launcher/spawner.h"

namespace ssiuml {

namespace {

constexpr uint64_t kMemberPollMs = 250;
// Often, so the lock node's least delayed sample is a good one before the
// nodes first set their clocks: with one every 5 s, the sample that came
// 5-10 s in moved the lock server's time by tens of ms after a loaded boot,
// and nodes re-set their clocks to it up to 5 s apart (lock-history then
// saw holds overlap).
constexpr uint64_t kHostClockEveryMs = 500;

}  // namespace

Status LockDaemon::Start(int heartbeat_ms, int expiry_missed, LockLink::FenceHandler fence,
                         MemberCallback on_change) {
  Status s = env_->CreateDirs(paths_->LockDir(), 0700);
  if (s.ok())
    s = daemon_.Start(env_, *paths_,
                      {ExecutableDir() + "/lockserver", "--tcp", "127.0.0.1:0", "--port-file",
                       paths_->LockPortFile(), "--gateway-socket", paths_->LockGateway(), "--control",
                       paths_->LockControl(), "--heartbeat-ms", std::to_string(heartbeat_ms), "--expiry-missed",
                       std::to_string(expiry_missed), "--exit-on-stdin-eof"},
                      paths_->LogDir() + "/lockserver.log", paths_->LockControl());
  if (s.ok()) s = Attach(paths_->LockControl(), std::move(fence), std::move(on_change));
  if (s.ok()) spdlog::info("lockserver pid {}, nodes reach it at gateway port 7400", daemon_.pid());
  return s;
}

Status LockDaemon::Attach(const std::string& endpoint, LockLink::FenceHandler fence, MemberCallback on_change,
                          bool send_host_clock) {
  control_ = endpoint;
  // A lock node's control comes through switchd's gateway (127.0.0.1:PORT).
  status_query_ = endpoint.rfind("127.0.0.1:", 0) == 0
                      ? DaemonStatusQuery("the lock node's lock server", DaemonStatusQuery::kSlowTimeoutMs)
                      : DaemonStatusQuery("lockserver");
  on_change_ = std::move(on_change);
  auto record = [this, fence = std::move(fence)](int node, const std::string& boot, std::function<void()> done) {
    fenced_ms_[node] = EventLoop::NowMs();
    fence(node, boot, std::move(done));
  };
  link_ = std::make_unique<LockLink>(loop_, control_, std::move(record), [this] {
    if (!stopping_) spdlog::error("lost the lock server's control link; expired nodes can no longer be fenced");
  });
  Status s = link_->Connect();
  if (s.ok()) PollMembers();
  if (s.ok() && send_host_clock) SendHostClock();
  return s;
}

void LockDaemon::SendHostClock() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t now_ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
  if (link_) link_->Send({{"cmd", "clock"}, {"host_ns", now_ns}});
  clock_timer_ = loop_->After(kHostClockEveryMs, [this] { SendHostClock(); });
}

void LockDaemon::Detach() {
  loop_->Cancel(poll_timer_);
  loop_->Cancel(clock_timer_);
  link_.reset();
  control_.clear();
  status_query_.Reset();
}

void LockDaemon::PollMembers() {
  // Armed after the query, so that a slow answer still leaves ssid's loop a
  // gap; on_change_ may detach or stop this (running(), stopping_).
  auto again = [this] {
    if (running() && !stopping_) poll_timer_ = loop_->After(kMemberPollMs, [this] { PollMembers(); });
  };
  // Unanswered, the view stays as it was: nobody left because nobody said.
  std::map<int, std::string> all, now;
  if (!Members(&all).ok()) return again();
  // Only "member" counts: a node being fenced has already left.
  for (const auto& [node, state] : all)
    if (state == "member") now[node] = state;
  for (const auto& [node, state] : now)
    if (!members_.count(node)) on_change_(node, true, "");
  // One that left was fenced if the lock server asked for it just before;
  // otherwise it said goodbye.
  uint64_t now_ms = EventLoop::NowMs();
  for (const auto& [node, state] : members_) {
    if (now.count(node)) continue;
    auto fenced = fenced_ms_.find(node);
    bool expired = all.count(node) != 0 || (fenced != fenced_ms_.end() && now_ms - fenced->second < 10000);
    on_change_(node, false, expired ? "missed heartbeats, fenced" : "left");
  }
  members_ = std::move(now);
  again();
}

bool LockDaemon::Exited(pid_t pid) {
  if (!daemon_.Exited(env_, *paths_, pid)) return false;
  Detach();
  return true;
}

void LockDaemon::NodeBooted(int node, const std::string& boot_id) {
  if (!running()) return;
  Status s = DaemonRequest("lockserver", control_, {{"cmd", "boot"}, {"node", node}, {"boot", boot_id}});
  if (!s.ok()) spdlog::warn("node {}: cannot register its boot id: {}", node, s.message());
}

Status LockDaemon::Members(std::map<int, std::string>* members) {
  members->clear();
  if (!running()) return Status::NotFound("no lock server");
  nlohmann::json status;
  // Without the locks, which can be many: the reply stays small.
  Status s = status_query_.Ask(control_, {{"cmd", "status"}, {"locks", false}}, &status);
  if (!s.ok()) return s;
  for (const auto& m : status.value("members", nlohmann::json::array()))
    if (m.is_object()) (*members)[m.value("node", 0)] = m.value("state", std::string("member"));
  return Status::OK();
}

}  // namespace ssiuml
