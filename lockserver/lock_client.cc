#include "lockserver/lock_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "lockserver/lock_protocol.h"

namespace ssiuml::lock {
namespace {

constexpr int kConnectTimeoutMs = 5000;

Status ErrorStatus(const wire::Message& m) {
  const std::string* code = m.Find("code");
  const std::string* msg = m.Find("msg");
  std::string text = (code ? *code : "error") + ": " + (msg ? *msg : "");
  if (code && *code == "busy") return Status::Busy(text);
  // A bound of the server (too-many-locks, ...): not obtained, and may be
  // later, when others unlock.
  if (code && code->rfind("too-many-", 0) == 0) return Status::ResourceExhausted(text);
  if (code && *code == "timeout") return Status::TimedOut(text);
  if (code && (*code == "expired" || *code == "no-session")) return Status::IOError(text);
  return Status::InvalidArgument(text);
}

Status ParseGrant(const wire::Message& m, Grant* grant) {
  const std::string* mode = m.Find("mode");
  const std::string* token = m.Find("token");
  const std::string* lvb = m.Find("lvb");
  Grant g;
  if (!mode || !ParseMode(*mode, &g.mode).ok() || !token || !wire::ParseU64(*token, &g.token) || !lvb)
    return Status::Corruption("bad GRANT from the server");
  if (*lvb != "-") {
    if (!wire::HexDecode(*lvb, g.lvb.data(), g.lvb.size())) return Status::Corruption("bad lvb from the server");
    g.has_lvb = true;
    g.lvb_valid = !m.HasFlag("valnotvalid");
  }
  if (grant) *grant = g;
  return Status::OK();
}

uint64_t FieldU64(const wire::Message& m, std::string_view key) {
  uint64_t v = 0;
  const std::string* s = m.Find(key);
  if (s) wire::ParseU64(*s, &v);
  return v;
}

Status ConnectSocket(const std::string& address, int* out) {
  int fd;
  if (address.rfind("unix:", 0) == 0) {
    std::string path = address.substr(5);
    sockaddr_un addr{};
    if (path.empty() || path.size() >= sizeof addr.sun_path) return Status::InvalidArgument("bad socket path " + path);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::FromErrno("socket", errno);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno("connect " + address, err);
    }
  } else {
    size_t colon = address.rfind(':');
    uint64_t port = 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
    if (host == "localhost") host = "127.0.0.1";
    if (colon == std::string::npos || !wire::ParseU64(address.substr(colon + 1), &port) || port == 0 ||
        port > 65535 || ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
      return Status::InvalidArgument("server address must be IP:PORT or unix:PATH, not '" + address + "'");
    addr.sin_port = htons(static_cast<uint16_t>(port));
    // Non-blocking connect: an unreachable address fails after
    // kConnectTimeoutMs instead of the kernel's minutes of SYN retries.
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return Status::FromErrno("socket", errno);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int err = 0;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        socklen_t len = sizeof err;
        if (::poll(&p, 1, kConnectTimeoutMs) != 1) {
          err = ETIMEDOUT;
        } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
          err = errno;
        }
      }
    }
    if (err != 0) {
      ::close(fd);
      return Status::FromErrno("connect " + address, err);
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  }
  *out = fd;
  return Status::OK();
}

}  // namespace

uint64_t LockClient::ClockNs(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

bool LockClient::ClockOffset(int min_samples, int64_t* offset_ns, uint64_t* round_trip_ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (clock_samples_ < min_samples) return false;
  *offset_ns = clock_offset_ns_;
  *round_trip_ns = clock_round_trip_ns_;
  return true;
}

void LockClient::RestartClockSamples() {
  std::lock_guard<std::mutex> lock(mu_);
  clock_samples_ = 0;
}

uint64_t LockClient::NowMs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

LockClient::LockClient(int fd) : fd_(fd) {}

LockClient::~LockClient() {
  bool bye;
  {
    std::lock_guard<std::mutex> lock(mu_);
    bye = !lost_ && session_ != 0;
    leaving_ = true;  // the close that follows is no loss to report
  }
  if (bye) (void)WriteLine("BYE id=0");  // no fencing for a clean exit
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    Poke();
    thread_.join();
  }
  for (int fd : {fd_, wake_[0], wake_[1]})
    if (fd >= 0) ::close(fd);
}

Status LockClient::Connect(const std::string& address, std::unique_ptr<LockClient>* client) {
  int fd = -1;
  Status s = ConnectSocket(address, &fd);
  if (!s.ok()) return s;
  std::unique_ptr<LockClient> c(new LockClient(fd));
  if (::pipe2(c->wake_, O_CLOEXEC | O_NONBLOCK) != 0) return Status::FromErrno("pipe", errno);
  c->thread_ = std::thread([raw = c.get()] { raw->Run(); });
  *client = std::move(c);
  return Status::OK();
}

bool LockClient::alive() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !lost_;
}

void LockClient::OnBlocking(std::function<void(const std::string&, Mode)> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  on_blocking_ = std::move(callback);
}

void LockClient::OnLost(std::function<void(const std::string&)> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  on_lost_ = std::move(callback);
}

Status LockClient::WriteLine(const std::string& line) {
  std::lock_guard<std::mutex> lock(write_mu_);
  std::string data = line + "\n";
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::FromErrno("send to lock server", errno);
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

Status LockClient::Call(const std::string& verb, const std::string& args, Reply* reply) {
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (lost_) return Status::IOError("lock server session lost: " + lost_why_);
    id = next_id_++;
    waiting_[id] = reply;
  }
  Status s = WriteLine(verb + " id=" + std::to_string(id) + args);
  std::unique_lock<std::mutex> lock(mu_);
  // Leader/follower: the caller reads its own reply when nobody else is
  // reading, so a round trip costs no thread hand-off.
  while (s.ok() && !reply->done && !lost_) {
    if (reading_) {
      if (bg_reading_) Poke();
      cv_.wait(lock);
      continue;
    }
    reading_ = true;
    int timeout = static_cast<int>(std::max<uint64_t>(heartbeat_ms_, 50));  // then look at lost_ again
    lock.unlock();
    bool open = ReadSome(timeout, false);
    if (!open) Lose("connection to the lock server closed");
    lock.lock();
    reading_ = false;
    cv_.notify_all();
  }
  waiting_.erase(id);
  if (!s.ok()) return s;
  if (!reply->done) return Status::IOError("lock server session lost: " + lost_why_);
  return Status::OK();
}

void LockClient::Poke() {
  char c = 0;
  (void)!::write(wake_[1], &c, 1);
}

bool LockClient::ReadSome(int timeout_ms, bool watch_wake) {
  pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
  int n = ::poll(fds, watch_wake ? 2 : 1, timeout_ms);
  if (n < 0) return errno == EINTR;
  if (watch_wake && fds[1].revents) {
    char drain[64];
    (void)!::read(wake_[0], drain, sizeof drain);
  }
  if (!fds[0].revents) return true;
  char buf[16384];
  ssize_t got = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
  if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) return false;
  if (got < 0) return true;
  reader_.Feed(std::string_view(buf, static_cast<size_t>(got)));
  std::string line;
  for (auto r = reader_.Next(&line); r != wire::LineReader::Result::kNone; r = reader_.Next(&line))
    if (r == wire::LineReader::Result::kLine) HandleLine(line);
  return true;
}

Status LockClient::Hello(const std::string& args) {
  Reply reply;
  uint64_t sent = NowMs();
  Status s = Call(std::string(wire::kVersion) + " HELLO", args, &reply);
  if (!s.ok()) return s;
  wire::Message m;
  s = wire::ParseMessage(reply.line, &m);
  if (!s.ok()) return Status::Corruption("bad reply from the lock server");
  if (m.verb == "ERR") return ErrorStatus(m);
  if (m.verb != wire::kVersion || !m.HasFlag("WELCOME")) return Status::Corruption("unexpected reply: " + reply.line);
  std::lock_guard<std::mutex> lock(mu_);
  session_ = FieldU64(m, "session");
  heartbeat_ms_ = std::max<uint64_t>(FieldU64(m, "heartbeat"), 1);
  expiry_missed_ = static_cast<int>(std::max<uint64_t>(FieldU64(m, "expiry"), 2));
  lease_until_ms_ = sent + heartbeat_ms_ * static_cast<uint64_t>(expiry_missed_ - 1);
  if (!lost_) held_until_ms_ = lease_until_ms_;
  Poke();  // start heartbeats now
  return Status::OK();
}

Status LockClient::HelloNode(int node, const std::string& boot_hex, const std::string& name) {
  return Hello(" node=" + std::to_string(node) + " boot=" + boot_hex + " name=" + name);
}

Status LockClient::HelloHost(const std::string& name) { return Hello(" host name=" + name); }

namespace {
std::string OptionArgs(const LockOptions& options) {
  std::string args;
  if (options.try_lock) args += " try";
  if (options.timeout_ms) args += " timeout=" + std::to_string(options.timeout_ms);
  return args;
}
}  // namespace

Status LockClient::Lock(const std::string& name, Mode mode, const LockOptions& options, Grant* grant) {
  Reply reply;
  Status s = Call("LOCK", " name=" + name + " mode=" + ModeName(mode) + OptionArgs(options), &reply);
  wire::Message m;
  if (s.ok() && !wire::ParseMessage(reply.line, &m).ok()) s = Status::Corruption("bad reply: " + reply.line);
  if (!s.ok()) return s;
  return m.verb == "GRANT" ? ParseGrant(m, grant) : ErrorStatus(m);
}

Status LockClient::Convert(const std::string& name, Mode mode, const LockOptions& options, const ValueBlock* write,
                           Grant* grant) {
  std::string args = " name=" + name + " mode=" + ModeName(mode) + OptionArgs(options);
  if (write) args += " lvb=" + wire::HexEncode(write->data(), write->size());
  Reply reply;
  Status s = Call("CONVERT", args, &reply);
  wire::Message m;
  if (s.ok() && !wire::ParseMessage(reply.line, &m).ok()) s = Status::Corruption("bad reply: " + reply.line);
  if (!s.ok()) return s;
  return m.verb == "GRANT" ? ParseGrant(m, grant) : ErrorStatus(m);
}

Status LockClient::Unlock(const std::string& name, const ValueBlock* write) {
  std::string args = " name=" + name;
  if (write) args += " lvb=" + wire::HexEncode(write->data(), write->size());
  Reply reply;
  Status s = Call("UNLOCK", args, &reply);
  wire::Message m;
  if (s.ok() && !wire::ParseMessage(reply.line, &m).ok()) s = Status::Corruption("bad reply: " + reply.line);
  if (!s.ok()) return s;
  return m.verb == "OK" ? Status::OK() : ErrorStatus(m);
}

Status LockClient::Cancel(const std::string& name) {
  Reply reply;
  Status s = Call("CANCEL", " name=" + name, &reply);
  wire::Message m;
  if (s.ok() && !wire::ParseMessage(reply.line, &m).ok()) s = Status::Corruption("bad reply: " + reply.line);
  if (!s.ok()) return s;
  return m.verb == "OK" ? Status::OK() : ErrorStatus(m);
}

Status LockClient::Watch(std::function<void(const MemberChange&)> on_change, std::vector<int>* members,
                         uint64_t* epoch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    on_member_ = std::move(on_change);
  }
  Reply reply;
  Status s = Call("WATCH", "", &reply);
  wire::Message m;
  if (s.ok() && !wire::ParseMessage(reply.line, &m).ok()) s = Status::Corruption("bad reply: " + reply.line);
  if (!s.ok()) return s;
  if (m.verb != "MEMBERS") return ErrorStatus(m);
  if (epoch) *epoch = FieldU64(m, "epoch");
  if (members) {
    members->clear();
    const std::string* nodes = m.Find("nodes");
    std::stringstream list(nodes ? *nodes : "");
    for (std::string n; std::getline(list, n, ',');) members->push_back(std::atoi(n.c_str()));
  }
  return Status::OK();
}

Status LockClient::QueryStatus(std::vector<std::string>* lines, const std::string& name) {
  Reply reply;
  Status s = Call("STATUS", name.empty() ? "" : " name=" + name, &reply);
  if (!s.ok()) return s;
  wire::Message m;
  if (!wire::ParseMessage(reply.line, &m).ok()) return Status::Corruption("bad reply: " + reply.line);
  if (m.verb != "OK") return ErrorStatus(m);
  *lines = reply.info;
  lines->push_back("epoch=" + std::to_string(FieldU64(m, "epoch")));
  return Status::OK();
}

Status LockClient::Bye() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    leaving_ = true;  // the server closes the connection next: no on_lost
    held_until_ms_ = 0;
  }
  Reply reply;
  Status s = Call("BYE", "", &reply);
  std::lock_guard<std::mutex> lock(mu_);
  session_ = 0;  // nothing left for the destructor to close
  return s;
}

void LockClient::Lose(const std::string& why) {
  std::function<void(const std::string&)> callback;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (lost_) return;
    lost_ = true;
    held_until_ms_ = 0;
    lost_why_ = why;
    if (session_ != 0 && !leaving_) callback = on_lost_;
  }
  cv_.notify_all();
  if (callback) callback(why);
}

void LockClient::HandleLine(const std::string& line) {
  wire::Message m;
  if (!wire::ParseMessage(line, &m).ok()) return;
  if (m.verb == "BAST") {
    Mode mode;
    const std::string* name = m.Find("name");
    const std::string* mode_text = m.Find("mode");
    std::function<void(const std::string&, Mode)> callback;
    {
      std::lock_guard<std::mutex> lock(mu_);
      callback = on_blocking_;
    }
    if (callback && name && mode_text && ParseMode(*mode_text, &mode).ok()) callback(*name, mode);
    return;
  }
  if (m.verb == "MEMBER") {
    MemberChange change;
    const std::string* event = m.Find("event");
    const std::string* boot = m.Find("boot");
    change.event = event ? *event : "";
    change.boot = boot ? *boot : "";
    change.epoch = FieldU64(m, "epoch");
    change.node = static_cast<int>(FieldU64(m, "node"));
    std::function<void(const MemberChange&)> callback;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (change.event == "join") {
        members_.insert(change.node);
      } else {
        members_.erase(change.node);
      }
      change.members.assign(members_.begin(), members_.end());
      callback = on_member_;
    }
    if (callback) callback(change);
    return;
  }
  if (m.verb == "ENDED") {
    const std::string* reason = m.Find("reason");
    Lose("session ended by the server (" + (reason ? *reason : std::string("?")) + ")");
    return;
  }
  uint64_t id = FieldU64(m, "id");
  if (id == 0 && m.verb == "ERR") {
    const std::string* msg = m.Find("msg");
    Lose("lock server: " + (msg ? *msg : line));
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (m.verb == "PONG") {
    auto ping = pings_.find(id);
    if (ping != pings_.end()) {
      lease_until_ms_ =
          std::max(lease_until_ms_, ping->second.ms + heartbeat_ms_ * static_cast<uint64_t>(expiry_missed_ - 1));
      uint64_t server_ns = FieldU64(m, "time"), now_ns = ClockNs(CLOCK_MONOTONIC);
      if (server_ns != 0 && now_ns >= ping->second.ns) {
        uint64_t round_trip = now_ns - ping->second.ns;
        if (clock_samples_++ == 0 || round_trip < clock_round_trip_ns_) {
          clock_round_trip_ns_ = round_trip;
          // The server read its clock about half a round trip ago.
          clock_offset_ns_ = static_cast<int64_t>(server_ns + round_trip / 2 - ClockNs(CLOCK_REALTIME));
        }
      }
      if (!lost_) held_until_ms_ = lease_until_ms_;
      pings_.erase(pings_.begin(), std::next(ping));
      return;
    }
  }
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return;
  if (m.verb == "INFO") {
    it->second->info.push_back(line.substr(std::min(line.size(), line.find(' ', 5) + 1)));
    return;
  }
  if (m.verb == "MEMBERS") {  // the WATCH snapshot, before any MEMBER after it
    members_.clear();
    const std::string* nodes = m.Find("nodes");
    std::stringstream list(nodes ? *nodes : "");
    for (std::string n; std::getline(list, n, ',');) members_.insert(std::atoi(n.c_str()));
  }
  it->second->line = line;
  it->second->done = true;
  cv_.notify_all();
}

void LockClient::Run() {
  // Sends heartbeats, watches the lease, and reads while no call does, so
  // callbacks and PONGs arrive when the client is idle. It takes the reading
  // role only when no call is waiting, and gives it up when poked.
  constexpr uint64_t kIdleCheckMs = 10;
  uint64_t next_ping = 0;
  for (;;) {
    uint64_t now = NowMs();
    int timeout = -1;
    bool read_now = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      if (heartbeat_ms_ && !lost_) {
        // Ping at once: a HELLO that waited at the server ate into the lease.
        if (next_ping == 0) next_ping = now;
        timeout = static_cast<int>(next_ping > now ? next_ping - now : 0);
      }
      if (!reading_ && waiting_.empty() && !lost_) {
        reading_ = bg_reading_ = true;
        read_now = true;
      } else if (!lost_) {
        timeout = timeout < 0 ? static_cast<int>(kIdleCheckMs) : std::min<int>(timeout, kIdleCheckMs);
      }
    }
    if (read_now) {
      bool open = ReadSome(timeout, true);
      {
        std::lock_guard<std::mutex> lock(mu_);
        reading_ = bg_reading_ = false;
      }
      cv_.notify_all();
      if (!open) Lose("connection to the lock server closed");
    } else {
      pollfd wake{wake_[0], POLLIN, 0};
      if (::poll(&wake, 1, timeout) > 0) {
        char drain[64];
        (void)!::read(wake_[0], drain, sizeof drain);
      }
    }
    now = NowMs();
    uint64_t ping_id = 0;
    bool expired = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (heartbeat_ms_ && !lost_) {
        if (now > lease_until_ms_) {
          expired = true;
        } else if (next_ping && now >= next_ping) {
          ping_id = next_id_++;
          pings_[ping_id] = {now, ClockNs(CLOCK_MONOTONIC)};
          next_ping = now + heartbeat_ms_;
        }
      }
    }
    if (ping_id) (void)WriteLine("PING id=" + std::to_string(ping_id));
    if (expired) Lose("lease expired: no heartbeat answered in time");
  }
}

std::string DefaultServerAddress(const std::string& flag, const std::string& cmdline_path) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("SSI_LOCK_SERVER");
  if (env && *env) return env;
  std::ifstream file(cmdline_path);
  std::string cmdline;
  std::getline(file, cmdline);
  return GuestServerAddress(cmdline);
}

std::string GuestServerAddress(const std::string& cmdline) {
  std::istringstream words(cmdline);
  std::string word, lock, subnet = "10.77.0";
  // The last of a repeated parameter wins, as in the kernel's own parsing.
  while (words >> word) {
    if (word.rfind("ssi.lock=", 0) == 0 && word.size() > 9) lock = word.substr(9);
    if (word.rfind("ssi.subnet=", 0) == 0 && word.size() > 11) subnet = word.substr(11);
  }
  return lock.empty() ? subnet + ".254:7400" : lock;
}

std::string ClusterPortFile(const std::string& cluster) {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  const char* home = std::getenv("HOME");
  std::string run = xdg && *xdg ? std::string(xdg) + "/ssiuml/" + cluster
                                : std::string(home && *home ? home : "/tmp") + "/.ssiuml/run/" + cluster;
  return run + "/lock/port";
}

Status AddressFromPortFile(const std::string& port_file, std::string* address) {
  std::string port;
  int fd = ::open(port_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[16];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n > 0) port.assign(buf, static_cast<size_t>(n));
  }
  while (!port.empty() && (port.back() == '\n' || port.back() == ' ')) port.pop_back();
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos)
    return Status::NotFound("no lock server port in " + port_file);
  *address = "127.0.0.1:" + port;
  return Status::OK();
}

Status ReadGuestIdentity(const std::string& cmdline_path, const std::string& boot_path, int* node,
                         std::string* boot) {
  std::ifstream cmdline(cmdline_path);
  std::string word;
  int found = 0;
  while (cmdline >> word)
    if (word.rfind("ssi.node=", 0) == 0) found = std::atoi(word.c_str() + 9);
  if (found < 1 || found > wire::kMaxNode) return Status::NotFound("no ssi.node= on " + cmdline_path);
  std::ifstream file(boot_path);
  std::string text;
  if (!file || !(file >> text))
    return Status::NotFound("no boot id in " + boot_path + " (is ssi-agent running?)");
  uint8_t bytes[wire::kBootHexLen / 2];
  if (!wire::HexDecode(text, bytes, sizeof bytes))
    return Status::Corruption(boot_path + " does not hold a " + std::to_string(wire::kBootHexLen) + "-digit boot id");
  *node = found;
  *boot = wire::HexEncode(bytes, sizeof bytes);
  return Status::OK();
}

}  // namespace ssiuml::lock
