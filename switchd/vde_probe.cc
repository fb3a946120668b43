// vde_probe: raw Ethernet frames through a VDE switch, for switchd's tests
// and bench/net.sh. It joins like any client, through libvdeplug (the
// classic protocol) or, with --plug, through a real vde_plug child whose
// stdin/stdout carry frames in the stream format (2-byte big-endian length,
// then the frame).
//   vde_probe ping VNL IP [--node N] [--count C]    ARP, then ICMP echo
//   vde_probe send VNL --node N --to M|all [--count C] [--size S] [--seconds T]
//   vde_probe recv VNL --node N [--seconds T]         prints frames=K bytes=B
//   vde_probe echo VNL --node N [--seconds T]         returns every frame sent to N
//   vde_probe rtt VNL --node N --to M [--count C] [--size S]
//                                     C round trips, one frame at a time, to an echo
// Node N's MAC is 02:55:4d:00:00:N and its address 10.77.0.N. On a switch
// path (libvdeplug's vde plugin, whose data socket carries one frame per
// datagram) send and recv move frames in batches (sendmmsg, recvmmsg) so
// that in a benchmark the switch, not the probe, is the bottleneck.
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

extern "C" {  // libvdeplug.h has no extern "C" of its own
#include <libvdeplug.h>
}

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using Frame = std::vector<uint8_t>;

class Link {
 public:
  bool Open(const std::string& vnl, bool plug) {
    if (!plug) {
      conn_ = vde_open(const_cast<char*>(vnl.c_str()), const_cast<char*>("vde_probe"), nullptr);
      if (conn_ == nullptr) return false;
      fd_ = vde_datafd(conn_);
      batched_ = vnl.find("://") == std::string::npos || vnl.rfind("vde://", 0) == 0;
      if (batched_) {
        in_.assign(kBatch, Frame(kBufferSize));
        for (int i = 0; i < kBatch; ++i) {
          in_iov_[i] = {in_[i].data(), kBufferSize};
          in_msgs_[i] = {};
          in_msgs_[i].msg_hdr.msg_iov = &in_iov_[i];
          in_msgs_[i].msg_hdr.msg_iovlen = 1;
        }
      }
      return true;
    }
    int to_child[2], from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&fa, from_child[1], 1);
    const char* argv[] = {"vde_plug", vnl.c_str(), nullptr};
    int spawned = posix_spawnp(&child_, "vde_plug", &fa, nullptr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (spawned != 0) return false;
    ::close(to_child[0]);
    ::close(from_child[1]);
    out_ = to_child[1];
    fd_ = from_child[0];
    return true;
  }
  ~Link() {
    if (conn_ != nullptr) vde_close(conn_);
    if (child_ > 0) {
      ::usleep(300000);  // vde_plug quits at EOF without passing on what it still holds
      ::close(out_);
      for (int i = 0; i < 100 && ::waitpid(child_, nullptr, WNOHANG) == 0; ++i) ::usleep(10000);
      if (::kill(child_, SIGTERM) == 0) ::waitpid(child_, nullptr, 0);
    }
  }
  bool Send(const Frame& f) {
    if (conn_ != nullptr) return vde_send(conn_, f.data(), f.size(), 0) >= 0;
    uint8_t buf[2 + 1600];
    buf[0] = static_cast<uint8_t>(f.size() >> 8);
    buf[1] = static_cast<uint8_t>(f.size());
    std::memcpy(buf + 2, f.data(), f.size());
    return ::write(out_, buf, f.size() + 2) == static_cast<ssize_t>(f.size() + 2);
  }
  // Sends count copies of f; returns how many went (blocking, as vde_send).
  long SendMany(const Frame& f, long count) {
    if (!batched_) return Send(f) ? 1 : 0;
    iovec iov{const_cast<uint8_t*>(f.data()), f.size()};
    std::array<mmsghdr, kBatch> msgs{};
    int n = static_cast<int>(std::min<long>(count, kBatch));
    for (int i = 0; i < n; ++i) msgs[i].msg_hdr.msg_iov = &iov, msgs[i].msg_hdr.msg_iovlen = 1;
    int sent = ::sendmmsg(fd_, msgs.data(), static_cast<unsigned>(n), 0);
    return sent < 0 ? 0 : sent;
  }
  // One frame, or false after timeout_ms.
  bool Recv(Frame* f, int timeout_ms) {
    if (batched_ && next_ < received_) {
      const Frame& got = in_[next_];
      f->assign(got.begin(), got.begin() + in_msgs_[next_++].msg_len);
      return true;
    }
    if (conn_ == nullptr && Pop(f)) return true;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    if (batched_) {
      int n = ::recvmmsg(fd_, in_msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) return false;
      received_ = n, next_ = 0;
      return Recv(f, 0);
    }
    f->resize(kBufferSize);
    if (conn_ != nullptr) {
      ssize_t n = vde_recv(conn_, f->data(), f->size(), 0);
      if (n <= 0) return false;
      f->resize(static_cast<size_t>(n));
      return true;
    }
    uint8_t buf[65536];
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return false;
    stream_.insert(stream_.end(), buf, buf + n);
    return Pop(f);
  }

 private:
  bool Pop(Frame* f) {
    if (stream_.size() < 2) return false;
    size_t len = size_t(stream_[0]) << 8 | stream_[1];
    if (stream_.size() < 2 + len) return false;
    f->assign(stream_.begin() + 2, stream_.begin() + 2 + static_cast<long>(len));
    stream_.erase(stream_.begin(), stream_.begin() + 2 + static_cast<long>(len));
    return true;
  }
  static constexpr int kBatch = 64;
  static constexpr size_t kBufferSize = 9216 + 18;
  VDECONN* conn_ = nullptr;
  bool batched_ = false;
  std::vector<Frame> in_;  // the last recvmmsg batch, handed out from next_
  std::array<iovec, kBatch> in_iov_{};
  std::array<mmsghdr, kBatch> in_msgs_{};
  int received_ = 0, next_ = 0;
  pid_t child_ = 0;
  int fd_ = -1, out_ = -1;
  std::vector<uint8_t> stream_;
};

void NodeMac(int node, uint8_t* mac) {
  const uint8_t m[6] = {0x02, 0x55, 0x4d, 0, 0, static_cast<uint8_t>(node)};
  std::memcpy(mac, m, 6);
}

uint16_t Checksum(const uint8_t* p, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t(p[i]) << 8 | p[i + 1];
  if (len & 1) sum += uint32_t(p[len - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

Frame Arp(int node, uint32_t target) {
  Frame f(42, 0);
  std::memset(f.data(), 0xff, 6);
  NodeMac(node, &f[6]);
  f[12] = 0x08, f[13] = 0x06;
  const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1};
  std::memcpy(&f[14], hdr, 8);
  NodeMac(node, &f[22]);
  uint32_t self = htonl(0x0a4d0000 | uint32_t(node)), tip = htonl(target);
  std::memcpy(&f[28], &self, 4);
  std::memcpy(&f[38], &tip, 4);
  return f;
}

Frame Echo(int node, const uint8_t* dst_mac, uint32_t target, uint16_t seq) {
  Frame f(14 + 20 + 8 + 32, 0);
  std::memcpy(&f[0], dst_mac, 6);
  NodeMac(node, &f[6]);
  f[12] = 0x08, f[13] = 0x00;
  uint8_t* ip = &f[14];
  ip[0] = 0x45, ip[3] = 60, ip[8] = 64, ip[9] = 1;
  uint32_t self = htonl(0x0a4d0000 | uint32_t(node)), tip = htonl(target);
  std::memcpy(ip + 12, &self, 4);
  std::memcpy(ip + 16, &tip, 4);
  uint16_t c = Checksum(ip, 20);
  ip[10] = static_cast<uint8_t>(c >> 8), ip[11] = static_cast<uint8_t>(c);
  uint8_t* icmp = ip + 20;
  icmp[0] = 8, icmp[4] = 0x51, icmp[6] = static_cast<uint8_t>(seq >> 8), icmp[7] = static_cast<uint8_t>(seq);
  c = Checksum(icmp, 40);
  icmp[2] = static_cast<uint8_t>(c >> 8), icmp[3] = static_cast<uint8_t>(c);
  return f;
}

double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

int Ping(Link& link, uint32_t target, int node, int count) {
  uint8_t mac[6];
  bool resolved = false;
  for (int tries = 0; tries < 3 && !resolved; ++tries) {
    link.Send(Arp(node, target));
    Frame f;
    for (auto end = Clock::now() + std::chrono::seconds(1); !resolved && Clock::now() < end;)
      if (link.Recv(&f, 100) && f.size() >= 42 && f[12] == 8 && f[13] == 6 && f[21] == 2 &&
          ntohl(*reinterpret_cast<uint32_t*>(&f[28])) == target) {
        std::memcpy(mac, &f[22], 6);
        resolved = true;
      }
  }
  if (!resolved) {
    std::printf("no ARP reply\n");
    return 1;
  }
  int replies = 0;
  for (int seq = 1; seq <= count; ++seq) {
    auto start = Clock::now();
    link.Send(Echo(node, mac, target, static_cast<uint16_t>(seq)));
    Frame f;
    for (auto end = start + std::chrono::seconds(1); Clock::now() < end;) {
      if (!link.Recv(&f, 100) || f.size() < 42 || f[12] != 8 || f[13] != 0 || f[23] != 1 || f[34] != 0) continue;
      if ((f[40] << 8 | f[41]) != seq) continue;
      std::printf("reply seq=%d time=%.3f ms\n", seq, Ms(start, Clock::now()));
      ++replies;
      break;
    }
  }
  std::printf("%d/%d replies\n", replies, count);
  return replies > 0 ? 0 : 1;
}

Frame Data(int node, int to, size_t size) {
  Frame f(std::max<size_t>(size, 14), 0);
  if (to == 0)
    std::memset(f.data(), 0xff, 6);
  else
    NodeMac(to, f.data());
  NodeMac(node, &f[6]);
  f[12] = 0x88, f[13] = 0xb5;  // IEEE local experimental ethertype
  return f;
}

int Send(Link& link, int node, int to, long count, size_t size, double seconds) {
  Frame f = Data(node, to, size);
  auto start = Clock::now();
  auto end = start + std::chrono::duration<double>(seconds);
  long sent = 0, failed = 0;
  while (sent + failed < count && (seconds <= 0 || Clock::now() < end)) {
    long went = link.SendMany(f, count - sent - failed);
    if (went > 0) sent += went; else ++failed;
  }
  double s = Ms(start, Clock::now()) / 1000;
  std::printf("sent=%ld failed=%ld seconds=%.3f fps=%.0f\n", sent, failed, s, sent / s);
  return 0;
}

int Recv(Link& link, int node, double seconds) {
  link.Send(Data(node, 0, 60));  // so the switch learns where we are
  std::map<int, long> from;
  long frames = 0, bytes = 0;
  Clock::time_point first{}, last{};
  auto end = Clock::now() + std::chrono::duration<double>(seconds);
  Frame f;
  while (Clock::now() < end) {
    if (!link.Recv(&f, 50)) continue;
    if (frames++ == 0) first = Clock::now();
    last = Clock::now();
    bytes += static_cast<long>(f.size());
    if (f.size() >= 12) ++from[f[6] == 2 && f[7] == 0x55 ? f[11] : -1];
  }
  double span = frames > 1 ? Ms(first, last) / 1000 : 0;
  std::printf("frames=%ld bytes=%ld fps=%.0f from=", frames, bytes, span > 0 ? frames / span : 0.0);
  for (auto [n, c] : from) std::printf("%d:%ld,", n, c);
  std::printf("\n");
  return 0;
}

// Sends every frame addressed to node back to where it came from, until seconds have passed.
int Echo(Link& link, int node, double seconds) {
  uint8_t self[6];
  NodeMac(node, self);
  link.Send(Data(node, 0, 60));  // so the switch learns where we are
  long returned = 0;
  auto end = Clock::now() + std::chrono::duration<double>(seconds);
  Frame f;
  while (Clock::now() < end) {
    if (!link.Recv(&f, 50) || f.size() < 14 || std::memcmp(f.data(), self, 6) != 0) continue;
    std::memcpy(f.data(), &f[6], 6);
    std::memcpy(&f[6], self, 6);
    if (link.Send(f)) ++returned;
  }
  std::printf("returned=%ld\n", returned);
  return 0;
}

// Times count round trips to the echo at node to, one frame in flight: the switch's
// latency where each frame wakes it alone (as a ping or a TCP ack does).
int RoundTrips(Link& link, int node, int to, int count, size_t size) {
  Frame out = Data(node, to, size);
  std::vector<double> us;
  us.reserve(static_cast<size_t>(count));
  int lost = 0;
  Frame f;
  for (int i = 0; i < count; ++i) {
    out[14] = static_cast<uint8_t>(i);  // tells this trip's frame from a late one
    auto start = Clock::now();
    link.Send(out);
    bool back = false;
    for (auto end = start + std::chrono::seconds(1); !back && Clock::now() < end;)
      back = link.Recv(&f, 100) && f.size() == out.size() && f[11] == static_cast<uint8_t>(to) && f[14] == out[14];
    if (back) us.push_back(Ms(start, Clock::now()) * 1000); else ++lost;
  }
  if (us.empty()) {
    std::printf("no round trip: is an echo at node %d?\n", to);
    return 1;
  }
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double u : us) sum += u;
  auto pct = [&us](size_t p) { return us[us.size() * p / 100]; };
  std::printf("trips=%zu lost=%d mean_us=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f\n", us.size(), lost,
              sum / static_cast<double>(us.size()), pct(50), pct(90), pct(99));
  return 0;
}

const char* kUsage =
    "usage: vde_probe ping VNL IP [--node N] [--count C] [--plug]\n"
    "       vde_probe send VNL --node N --to M|all [--count C] [--size S] [--seconds T] [--plug]\n"
    "       vde_probe recv VNL --node N [--seconds T] [--plug]\n"
    "       vde_probe echo VNL --node N [--seconds T] [--plug]\n"
    "       vde_probe rtt VNL --node N --to M [--count C] [--size S] [--plug]\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string cmd = argv[1], vnl = argv[2], ip;
  int node = 250, to = 0, count = 3;
  long frames = 1;
  size_t size = 60;
  double seconds = 0;
  bool plug = false;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--plug") plug = true;
    else if (a == "--node") node = std::atoi(v), ++i;
    else if (a == "--to") to = std::string(v) == "all" ? 0 : std::atoi(v), ++i;
    else if (a == "--count") count = std::atoi(v), frames = std::atol(v), ++i;
    else if (a == "--size") size = static_cast<size_t>(std::atol(v)), ++i;
    else if (a == "--seconds") seconds = std::atof(v), ++i;
    else if (cmd == "ping" && ip.empty()) ip = a;
    else {
      std::fprintf(stderr, "vde_probe: unexpected '%s'\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  Link link;
  if (!link.Open(vnl, plug)) {
    std::fprintf(stderr, "vde_probe: cannot join %s: %s\n", vnl.c_str(), std::strerror(errno));
    return 1;
  }
  if (cmd == "ping") {
    in_addr a;
    if (inet_pton(AF_INET, ip.c_str(), &a) != 1) {
      std::fputs(kUsage, stderr);
      return 2;
    }
    return Ping(link, ntohl(a.s_addr), node, count);
  }
  if (cmd == "send") return Send(link, node, to, seconds > 0 && frames == 1 ? 1L << 40 : frames, size, seconds);
  if (cmd == "recv") return Recv(link, node, seconds > 0 ? seconds : 2);
  if (cmd == "echo") return Echo(link, node, seconds > 0 ? seconds : 10);
  if (cmd == "rtt" && to > 0 && count > 0) return RoundTrips(link, node, to, count, std::max<size_t>(size, 15));
  std::fputs(kUsage, stderr);
  return 2;
}
