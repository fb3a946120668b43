// lock_bench: uncontended lock+unlock round trips per second, each client
// thread on its own connection and its own lock name.
//   lock_bench lockserver ADDR CLIENTS SECONDS   (host sessions, EX)
//   lock_bench etcd HOST:PORT CLIENTS SECONDS    (one lease per client;
//       /v3/lock/lock + /v3/lock/unlock through etcd's JSON gateway over a
//       kept-alive HTTP/1.1 connection)
// Prints "ops_per_sec N".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "lockserver/lock_client.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string Base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | (i + 1 < in.size() ? uint32_t(uint8_t(in[i + 1])) << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// A minimal HTTP/1.1 client on one kept-alive connection: Content-Length
// and chunked responses, nothing else.
class Http {
 public:
  bool Connect(const std::string& hostport) {
    size_t colon = hostport.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::stoi(hostport.substr(colon + 1))));
    if (::inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &addr.sin_addr) != 1) return false;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    host_ = hostport;
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Http() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool Post(const std::string& path, const nlohmann::json& body, nlohmann::json* reply) {
    std::string b = body.dump();
    std::string req = "POST " + path + " HTTP/1.1\r\nHost: " + host_ +
                      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b;
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return false;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill()) return false;
    std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    if (head.compare(0, 12, "HTTP/1.1 200") != 0) return false;
    std::string lower;
    for (char c : head) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string payload;
    if (size_t cl = lower.find("content-length:"); cl != std::string::npos) {
      size_t len = std::stoul(lower.substr(cl + 15));
      while (buf_.size() < len)
        if (!Fill()) return false;
      payload = buf_.substr(0, len);
      buf_.erase(0, len);
    } else {  // chunked
      for (;;) {
        size_t nl;
        while ((nl = buf_.find("\r\n")) == std::string::npos)
          if (!Fill()) return false;
        size_t len = std::stoul(buf_.substr(0, nl), nullptr, 16);
        while (buf_.size() < nl + 2 + len + 2)
          if (!Fill()) return false;
        payload += buf_.substr(nl + 2, len);
        buf_.erase(0, nl + 2 + len + 2);
        if (len == 0) break;
      }
    }
    *reply = nlohmann::json::parse(payload, nullptr, false);
    return !reply->is_discarded();
  }

 private:
  bool Fill() {
    char tmp[16384];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string host_, buf_;
};

void LockserverClient(const std::string& addr, int index, Clock::time_point end, std::atomic<uint64_t>* ops,
                      std::atomic<bool>* failed) {
  using namespace ssiuml::lock;
  std::unique_ptr<LockClient> client;
  ssiuml::Status s = LockClient::Connect(addr, &client);
  if (s.ok()) s = client->HelloHost("bench-" + std::to_string(index));
  std::string name = "bench-" + std::to_string(index);
  uint64_t n = 0;
  while (s.ok() && Clock::now() < end) {
    Grant g;
    s = client->Lock(name, Mode::kEX, {}, &g);
    if (s.ok()) s = client->Unlock(name);
    if (s.ok()) ++n;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "lock_bench: %s\n", s.message().c_str());
    *failed = true;
  }
  if (s.ok()) (void)client->Bye();
  *ops += n;
}

void EtcdClient(const std::string& addr, int index, Clock::time_point end, std::atomic<uint64_t>* ops,
                std::atomic<bool>* failed) {
  Http http;
  nlohmann::json reply;
  if (!http.Connect(addr) || !http.Post("/v3/lease/grant", {{"TTL", 60}}, &reply) || !reply.contains("ID")) {
    std::fprintf(stderr, "lock_bench: etcd lease grant failed\n");
    *failed = true;
    return;
  }
  nlohmann::json lease = reply["ID"];  // a string: int64 in the JSON gateway
  std::string name = Base64("bench-" + std::to_string(index));
  uint64_t n = 0;
  while (Clock::now() < end) {
    if (!http.Post("/v3/lock/lock", {{"name", name}, {"lease", lease}}, &reply) || !reply.contains("key") ||
        !http.Post("/v3/lock/unlock", {{"key", reply["key"]}}, &reply)) {
      std::fprintf(stderr, "lock_bench: etcd lock/unlock failed: %s\n", reply.dump().c_str());
      *failed = true;
      break;
    }
    ++n;
  }
  (void)http.Post("/v3/lease/revoke", {{"ID", lease}}, &reply);
  *ops += n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 || (std::strcmp(argv[1], "lockserver") != 0 && std::strcmp(argv[1], "etcd") != 0)) {
    std::fprintf(stderr, "usage: lock_bench lockserver|etcd ADDR CLIENTS SECONDS\n");
    return 2;
  }
  bool etcd = std::strcmp(argv[1], "etcd") == 0;
  int clients = std::atoi(argv[3]);
  double seconds = std::atof(argv[4]);
  std::atomic<uint64_t> ops{0};
  std::atomic<bool> failed{false};
  auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i)
    threads.emplace_back(etcd ? EtcdClient : LockserverClient, std::string(argv[2]), i, end, &ops, &failed);
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("ops_per_sec %.0f\n", static_cast<double>(ops) / elapsed);
  return failed ? 1 : 0;
}
