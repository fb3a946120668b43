// switchd: a VDE-compatible switch. UML's eth0=vde,DIR and vde_plug DIR
// connect to it unchanged (the classic protocol: DIR/ctl, one datagram
// socket per port). Everything is non-blocking: a port that cannot take a
// frame drops it and counts it, and slows nobody else. A control socket
// (JSON lines, switchd/PROTOCOL.md) reports ports and counters and applies
// faults between nodes.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "common/event_loop.h"
#include "common/log.h"
#include "common/mgmt_frame.h"
#include "common/unix_socket.h"
#include "switchd/switch_core.h"
#include "switchd/vde_request.h"

namespace po = boost::program_options;
using namespace ssiuml;

namespace {

constexpr int kProtocolVersion = 1;
constexpr size_t kMaxDelayedFrames = 65536;

class Switch {
 public:
  Switch(EventLoop* loop, std::string dir, int max_ports, bool hub)
      : loop_(loop), dir_(std::move(dir)), max_ports_(max_ports), core_(hub), random_(std::random_device()()) {}

  ~Switch() {
    for (auto& [number, port] : ports_) ::unlink(port.path.c_str());
    ::unlink((dir_ + "/ctl").c_str());
  }

  Status Listen(const std::string& control) {
    if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) return Status::FromErrno("mkdir " + dir_, errno);
    Status s = ListenUnix(dir_ + "/ctl", &ctl_);
    if (s.ok()) loop_->Watch(ctl_.get(), EPOLLIN, [this](uint32_t) { AcceptPort(); });
    if (s.ok() && !control.empty()) {
      s = ListenUnix(control, &control_);
      if (s.ok()) loop_->Watch(control_.get(), EPOLLIN, [this](uint32_t) { AcceptControl(); });
    }
    return s;
  }

 private:
  struct Port {
    UniqueFd ctl;   // EOF here means the client left
    UniqueFd data;  // connected to the client's datagram socket
    std::string path;
    std::string description;
  };
  struct Client {
    UniqueFd fd;
    mgmt::LineSplitter lines;
    bool handshake_done = false;
  };

  // A new client: read its request on the ctl stream.
  void AcceptPort() {
    for (;;) {
      int fd = ::accept4(ctl_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      pending_[fd].Reset(fd);
      // A client that connects and never speaks is dropped after a second.
      loop_->After(1000, [this, fd] { DropPending(fd); });
      loop_->Watch(fd, EPOLLIN, [this, fd](uint32_t) { ReadRequest(fd); });
    }
  }

  void DropPending(int fd) {
    auto it = pending_.find(fd);
    if (it == pending_.end()) return;
    loop_->Unwatch(fd);
    pending_.erase(it);
  }

  void ReadRequest(int fd) {
    uint8_t buf[vde::kMaxRequest + 1];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EAGAIN) return;
    vde::Request request;
    Status s = n <= 0 ? Status::IOError("client left before its request")
                      : vde::ParseRequest(buf, static_cast<size_t>(n), &request);
    if (s.ok()) s = OpenPort(fd, request);
    if (!s.ok()) {
      spdlog::warn("refused a VDE client: {}", s.message());
      ++refused_;
      DropPending(fd);  // the switch answers errors by closing ctl
    }
  }

  Status OpenPort(int ctl_fd, const vde::Request& request) {
    int number = request.port;
    if (number == 0) {
      for (number = 1; number <= max_ports_ && ports_.count(number) != 0; ++number) {
      }
    }
    if (number < 1 || number > max_ports_) return Status::Busy("no free port");
    if (ports_.count(number) != 0) return Status::Busy("port " + std::to_string(number) + " is taken");
    if (::access(request.client_path.c_str(), R_OK | W_OK) != 0)
      return Status::FromErrno("client socket " + request.client_path, errno);
    UniqueFd data(::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    Port port;
    port.path = dir_ + "/" + std::to_string(1000 + number).substr(1) + "." + std::to_string(data.get());
    sockaddr_un self{}, peer{};
    self.sun_family = peer.sun_family = AF_UNIX;
    if (!FitsSunPath(port.path)) return Status::InvalidArgument("port socket path too long");
    std::memcpy(self.sun_path, port.path.c_str(), port.path.size());
    std::memcpy(peer.sun_path, request.client_path.c_str(), request.client_path.size());
    ::unlink(port.path.c_str());
    if (::bind(data.get(), reinterpret_cast<sockaddr*>(&self), sizeof self) != 0)
      return Status::FromErrno("bind " + port.path, errno);
    if (::connect(data.get(), reinterpret_cast<sockaddr*>(&peer), sizeof peer) != 0) {
      ::unlink(port.path.c_str());
      return Status::FromErrno("connect " + request.client_path, errno);
    }
    int buffer = 1 << 20;
    ::setsockopt(data.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    ::setsockopt(data.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    if (::send(ctl_fd, &self, vde::kSockaddrSize, MSG_NOSIGNAL) != static_cast<ssize_t>(vde::kSockaddrSize)) {
      ::unlink(port.path.c_str());
      return Status::IOError("client left during the handshake");
    }
    port.ctl = std::move(pending_[ctl_fd]);
    pending_.erase(ctl_fd);
    port.data = std::move(data);
    port.description = request.description;
    int data_fd = port.data.get();
    loop_->Watch(ctl_fd, EPOLLIN | EPOLLRDHUP, [this, number](uint32_t) { CheckPortCtl(number); });
    loop_->Watch(data_fd, EPOLLIN, [this, number](uint32_t) { ReadFrames(number); });
    ports_[number] = std::move(port);
    core_.AddPort(number);
    spdlog::info("port {} up: {}", number, request.description);
    return Status::OK();
  }

  void CheckPortCtl(int number) {
    auto it = ports_.find(number);
    if (it == ports_.end()) return;
    char buf[64];
    ssize_t n = ::recv(it->second.ctl.get(), buf, sizeof buf, 0);
    if (n > 0 || (n < 0 && errno == EAGAIN)) return;  // the stream stays silent after the handshake
    ClosePort(number);
  }

  void ClosePort(int number) {
    auto it = ports_.find(number);
    if (it == ports_.end()) return;
    loop_->Unwatch(it->second.ctl.get());
    loop_->Unwatch(it->second.data.get());
    ::unlink(it->second.path.c_str());
    ports_.erase(it);
    core_.RemovePort(number);
    spdlog::info("port {} down", number);
  }

  void ReadFrames(int ingress) {
    uint8_t frame[9216 + 18];
    for (int budget = 0; budget < 256; ++budget) {
      auto it = ports_.find(ingress);
      if (it == ports_.end()) return;
      ssize_t n = ::recv(it->second.data.get(), frame, sizeof frame, 0);
      if (n <= 0) return;
      uint64_t now = EventLoop::NowMs();
      for (const vde::Egress& e : core_.Route(ingress, frame, static_cast<size_t>(n), now, unit_(random_))) {
        if (e.delay_ms == 0) {
          Send(e.port, frame, static_cast<size_t>(n));
        } else if (delayed_.size() < kMaxDelayedFrames) {
          delayed_.emplace(now + e.delay_ms, std::make_pair(e.port, std::string(reinterpret_cast<char*>(frame), n)));
          ScheduleDelayed();
        }
      }
    }
  }

  void Send(int number, const uint8_t* frame, size_t len) {
    auto it = ports_.find(number);
    if (it == ports_.end()) return;
    vde::PortCounters& c = core_.counters(number);
    if (::send(it->second.data.get(), frame, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
      ++c.drops[static_cast<size_t>(vde::Drop::kFull)];  // a stuck port loses its own frames
      return;
    }
    ++c.tx_frames;
    c.tx_bytes += len;
  }

  void ScheduleDelayed() {
    if (delayed_.empty() || delay_timer_armed_) return;
    uint64_t now = EventLoop::NowMs(), due = delayed_.begin()->first;
    delay_timer_armed_ = true;
    loop_->After(due > now ? due - now : 0, [this] {
      delay_timer_armed_ = false;
      uint64_t now = EventLoop::NowMs();
      while (!delayed_.empty() && delayed_.begin()->first <= now) {
        auto& [port, frame] = delayed_.begin()->second;
        Send(port, reinterpret_cast<const uint8_t*>(frame.data()), frame.size());
        delayed_.erase(delayed_.begin());
      }
      ScheduleDelayed();
    });
  }

  void AcceptControl() {
    int fd = ::accept4(control_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    clients_[fd].fd.Reset(fd);
    loop_->Watch(fd, EPOLLIN, [this, fd](uint32_t) { ReadControl(fd); });
  }

  void ReadControl(int fd) {
    Client& client = clients_[fd];
    char buf[4096];
    bool open = true;
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        client.lines.Feed(std::string_view(buf, static_cast<size_t>(n)));
        continue;
      }
      if (n == 0 || errno != EAGAIN) open = false;
      break;
    }
    std::string line;
    while (client.lines.Next(&line))
      (void)WriteAllFd(fd, Execute(line).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    if (!open || client.lines.dropped_lines() > 0) {
      loop_->Unwatch(fd);
      clients_.erase(fd);
    }
  }

  static bool ValidNode(const nlohmann::json& j) {
    return j.is_number_integer() && j.get<int64_t>() >= 1 && j.get<int64_t>() <= 254;
  }

  nlohmann::json Execute(const std::string& line) {
    nlohmann::json req = nlohmann::json::parse(line, nullptr, false);
    auto fail = [](const std::string& error) {
      return nlohmann::json{{"v", kProtocolVersion}, {"ok", false}, {"error", error}};
    };
    if (!req.is_object() || req.value("v", 0) != kProtocolVersion || !req.contains("cmd") || !req["cmd"].is_string())
      return fail("expected {\"v\":1,\"cmd\":...}");
    std::string cmd = req["cmd"];
    nlohmann::json ok = {{"v", kProtocolVersion}, {"ok", true}};
    int node = req.contains("node") && ValidNode(req["node"]) ? req["node"].get<int>() : 0;
    bool needs_node = cmd == "isolate" || cmd == "loss" || cmd == "delay" || cmd == "down" || cmd == "up";
    if (needs_node && node == 0) return fail(cmd + " needs a node from 1 to 254");
    if (cmd == "status") {
      nlohmann::json ports = nlohmann::json::array();
      for (const auto& [number, counters] : core_.counters()) {
        nlohmann::json drops = nlohmann::json::object();
        for (size_t i = 0; i < counters.drops.size(); ++i)
          if (counters.drops[i] != 0) drops[vde::DropName(static_cast<vde::Drop>(i))] = counters.drops[i];
        auto port = ports_.find(number);
        ports.push_back({{"port", number},
                         {"node", core_.NodeOfPort(number)},
                         {"description", port != ports_.end() ? port->second.description : ""},
                         {"rx_frames", counters.rx_frames},
                         {"rx_bytes", counters.rx_bytes},
                         {"tx_frames", counters.tx_frames},
                         {"tx_bytes", counters.tx_bytes},
                         {"drops", drops}});
      }
      nlohmann::json macs = nlohmann::json::array();
      for (const auto& [mac, port] : core_.MacTable(EventLoop::NowMs())) macs.push_back({{"mac", mac}, {"port", port}});
      ok["ports"] = ports;
      ok["macs"] = macs;
      ok["refused_clients"] = refused_;
    } else if (cmd == "partition") {
      auto groups = req.find("groups");
      if (groups == req.end() || !groups->is_array() || groups->empty() || groups->size() > 254)
        return fail("partition needs \"groups\": [[1,2],[3]]");
      std::vector<std::vector<int>> parsed;
      for (const auto& g : *groups) {
        if (!g.is_array()) return fail("each group is a list of nodes");
        parsed.emplace_back();
        for (const auto& n : g) {
          if (!ValidNode(n)) return fail("nodes are 1 to 254");
          parsed.back().push_back(n.get<int>());
        }
      }
      core_.Partition(parsed);
    } else if (cmd == "isolate") {
      core_.Partition({{node}});
    } else if (cmd == "heal") {
      core_.Heal();
    } else if (cmd == "loss") {
      double percent = req.value("percent", -1.0);
      if (percent < 0 || percent > 100) return fail("loss needs \"percent\" from 0 to 100");
      core_.SetLoss(node, percent / 100.0);
    } else if (cmd == "delay") {
      int64_t ms = req.value("ms", int64_t{-1}), jitter = req.value("jitter_ms", int64_t{0});
      if (ms < 0 || ms > 10000 || jitter < 0 || jitter > 10000) return fail("delay needs \"ms\" (and \"jitter_ms\") up to 10000");
      core_.SetDelay(node, static_cast<uint32_t>(ms), static_cast<uint32_t>(jitter));
    } else if (cmd == "down" || cmd == "up") {
      core_.SetDown(node, cmd == "down");
    } else {
      return fail("unknown command " + cmd);
    }
    if (cmd != "status") spdlog::info("fault: {}", line);
    return ok;
  }

  EventLoop* loop_;
  std::string dir_;
  int max_ports_;
  vde::SwitchCore core_;
  std::mt19937_64 random_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  UniqueFd ctl_, control_;
  std::map<int, UniqueFd> pending_;
  std::map<int, Port> ports_;
  std::map<int, Client> clients_;
  std::multimap<uint64_t, std::pair<int, std::string>> delayed_;
  bool delay_timer_armed_ = false;
  uint64_t refused_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string dir, control, log_file;
  int ports = 64;
  bool hub = false, verbose = false, stdin_eof = false;
  po::options_description options("switchd options");
  options.add_options()("control", po::value(&control), "control socket (JSON lines)")(
      "ports", po::value(&ports), "number of ports (64)")("hub", po::bool_switch(&hub), "flood every frame")(
      "log", po::value(&log_file), "log file (default stderr)")(
      "exit-on-stdin-eof", po::bool_switch(&stdin_eof), "exit when stdin closes (supervised)")(
      "verbose,v", po::bool_switch(&verbose), "debug logging")("help,h", "this help");
  po::options_description hidden;
  hidden.add_options()("dir", po::value(&dir));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description pos;
  pos.add("dir", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "switchd: %s (usage: switchd DIR [--control SOCK])\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "usage: switchd DIR [--control SOCK] [--hub] [--ports N]\n" << options;
    return 0;
  }
  if (dir.empty() || ports < 1 || ports > 999) {
    std::fprintf(stderr, "switchd: usage: switchd DIR [--control SOCK] (ports 1-999)\n");
    return 2;
  }
  SetupLogging("switchd", verbose, log_file);
  ::signal(SIGPIPE, SIG_IGN);
  EventLoop loop;
  Status s = loop.Init();
  Switch sw(&loop, dir, ports, hub);
  if (s.ok()) s = sw.Listen(control);
  if (!s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, sig);
  ::sigprocmask(SIG_BLOCK, &signals, nullptr);
  UniqueFd signal_fd(::signalfd(-1, &signals, SFD_CLOEXEC));
  loop.Watch(signal_fd.get(), EPOLLIN, [&](uint32_t) { loop.Quit(); });
  if (stdin_eof)
    loop.Watch(0, EPOLLIN | EPOLLHUP, [&](uint32_t) {
      char c;
      if (::read(0, &c, 1) <= 0) loop.Quit();
    });
  loop.Run();
  if (!control.empty()) ::unlink(control.c_str());
  spdlog::info("switchd exiting");
  return 0;
}
