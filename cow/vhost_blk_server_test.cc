// plxd's vhost-user-blk server against a test front end that speaks the
// protocol as UML does: memfd guest memory at a non-zero address, a split
// ring, an eventfd kick and a socketpair call. The normal path, then each
// kind of malformed request and message, each followed by a good request.
#include "cow/vhost_blk_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <chrono>
#include <thread>

#include "common/cpu_affinity.h"
#include "common/loop_thread.h"
#include "common/unix_socket.h"

using namespace ssiuml;
using namespace ssiuml::vhost;

namespace {

constexpr uint64_t kGuestBase = 0x10000000;  // UML's memory never starts at 0
constexpr size_t kGuestSize = 2 << 20;
constexpr uint16_t kNum = 16;
constexpr uint64_t kDesc = kGuestBase, kAvail = kGuestBase + 0x1000, kUsed = kGuestBase + 0x2000;
constexpr uint64_t kData = kGuestBase + 0x10000;
constexpr uint16_t kNext = 1, kWrite = 2, kIndirect = 4;

// The server on a thread pinned to a CPU, as plxd serves a node's disk.
class ServerThread {
 public:
  explicit ServerThread(const std::string& dir) : socket_(dir + "/blk.sock") {
    int fd = ::open((dir + "/disk.img").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(::ftruncate(fd, 1 << 20) == 0);
    ::close(fd);
    std::unique_ptr<BlockDevice> device;
    REQUIRE(OpenFileBlockDevice(dir + "/disk.img", false, &device).ok());
    REQUIRE(LoopThread::Start(AllowedCpus().front(), &thread_).ok());
    server_ = std::make_unique<VhostBlkServer>(thread_->loop(), socket_, std::move(device));
    Status s;
    thread_->RunAndWait([&] { s = server_->Listen(); });
    REQUIRE(s.ok());
  }
  ~ServerThread() {
    thread_->RunAndWait([this] { server_.reset(); });
  }
  const std::string& socket() const { return socket_; }
  BlkStats stats() {
    BlkStats st;
    thread_->RunAndWait([&] { st = server_->stats(); });
    return st;
  }

 private:
  std::string socket_;
  std::unique_ptr<LoopThread> thread_;
  std::unique_ptr<VhostBlkServer> server_;
};

struct Desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

class FrontEnd {
 public:
  explicit FrontEnd(const std::string& socket) {
    REQUIRE(ConnectUnix(socket, &conn_).ok());
    struct timeval tv = {5, 0};
    ::setsockopt(conn_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    memfd_.Reset(::memfd_create("guest", MFD_CLOEXEC));
    REQUIRE(::ftruncate(memfd_.get(), kGuestSize) == 0);
    mem_ = static_cast<uint8_t*>(::mmap(nullptr, kGuestSize, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_.get(), 0));
    REQUIRE(mem_ != MAP_FAILED);
  }
  ~FrontEnd() { ::munmap(mem_, kGuestSize); }

  uint8_t* At(uint64_t gpa) { return mem_ + (gpa - kGuestBase); }

  // Sends a message; returns the reply payload if one is expected.
  std::vector<uint8_t> Send(uint32_t request, std::vector<uint8_t> payload, std::vector<int> fds = {},
                            bool expect_reply = false, uint32_t flags = kFlagVersion) {
    if (ack_ && !expect_reply) flags |= kFlagNeedReply;
    uint32_t header[3] = {request, flags, static_cast<uint32_t>(payload.size())};
    std::vector<uint8_t> buf(reinterpret_cast<uint8_t*>(header), reinterpret_cast<uint8_t*>(header) + 12);
    buf.insert(buf.end(), payload.begin(), payload.end());
    struct iovec iov = {buf.data(), buf.size()};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)] = {};
    struct msghdr mh = {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (!fds.empty()) {
      mh.msg_control = control;
      mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    if (::sendmsg(conn_.get(), &mh, MSG_NOSIGNAL) < 0) return {};
    if (!expect_reply && !(flags & kFlagNeedReply)) return {};
    uint32_t reply[3];
    if (::recv(conn_.get(), reply, sizeof reply, MSG_WAITALL) != sizeof reply || reply[0] != request ||
        reply[1] != (kFlagVersion | kFlagReply) || reply[2] > kMaxPayload)
      return {};
    std::vector<uint8_t> body(reply[2]);
    if (!body.empty() && ::recv(conn_.get(), body.data(), body.size(), MSG_WAITALL) != static_cast<ssize_t>(body.size()))
      return {};
    return body;
  }

  static std::vector<uint8_t> U64(uint64_t v) { return U64Payload(v); }
  static std::vector<uint8_t> State(uint32_t index, uint32_t num) {
    std::vector<uint8_t> p(8);
    std::memcpy(p.data(), &index, 4);
    std::memcpy(p.data() + 4, &num, 4);
    return p;
  }

  void Handshake() {
    Send(kSetOwner, {});
    REQUIRE(Send(kGetFeatures, {}, {}, true).size() == 8);
    REQUIRE(Send(kGetProtocolFeatures, {}, {}, true).size() == 8);
    ack_ = true;
    uint64_t protocol = (1ull << kProtocolReplyAck) | (1ull << kProtocolSlaveReq) | (1ull << kProtocolConfig);
    REQUIRE(Send(kSetProtocolFeatures, U64(protocol)) == U64(0));
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    slave_.Reset(pair[0]);
    REQUIRE(Send(kSetSlaveReqFd, {}, {pair[1]}) == U64(0));
    ::close(pair[1]);
    REQUIRE(Send(kSetFeatures, U64(1ull << 32)) == U64(0));
    std::vector<uint8_t> mem(8 + 64, 0);
    uint32_t count = 1;
    uint64_t region[4] = {kGuestBase, kGuestSize, kGuestBase, 0};
    std::memcpy(mem.data(), &count, 4);
    std::memcpy(mem.data() + 8, region, 32);
    REQUIRE(Send(kSetMemTable, mem, {memfd_.get()}) == U64(0));
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    call_.Reset(pair[0]);
    REQUIRE(Send(kSetVringCall, U64(0), {pair[1]}) == U64(0));
    ::close(pair[1]);
    REQUIRE(Send(kSetVringNum, State(0, kNum)) == U64(0));
    REQUIRE(Send(kSetVringBase, State(0, 0)) == U64(0));
    std::vector<uint8_t> addr(40, 0);
    uint64_t addrs[4] = {kDesc, kUsed, kAvail, ~0ull};
    std::memcpy(addr.data() + 8, addrs, 32);
    REQUIRE(Send(kSetVringAddr, addr) == U64(0));
    kick_.Reset(::eventfd(0, EFD_CLOEXEC));
    REQUIRE(Send(kSetVringKick, U64(0), {kick_.get()}) == U64(0));
    REQUIRE(Send(kSetVringEnable, State(0, 1)) == U64(0));
  }

  // Puts descriptors in the table, publishes head, kicks, and waits for the
  // used ring. Returns the used length.
  uint32_t Submit(const std::vector<Desc>& descs, uint16_t head = 0) {
    std::memcpy(At(kDesc), descs.data(), descs.size() * sizeof(Desc));
    uint16_t* avail = reinterpret_cast<uint16_t*>(At(kAvail));
    avail[2 + avail_idx_ % kNum] = head;
    __atomic_store_n(&avail[1], ++avail_idx_, __ATOMIC_RELEASE);
    uint64_t one = 1;
    REQUIRE(::write(kick_.get(), &one, 8) == 8);
    struct pollfd pfd = {call_.get(), POLLIN, 0};
    REQUIRE(::poll(&pfd, 1, 5000) == 1);
    uint64_t calls;
    REQUIRE(::read(call_.get(), &calls, 8) == 8);
    uint16_t* used = reinterpret_cast<uint16_t*>(At(kUsed));
    REQUIRE(__atomic_load_n(&used[1], __ATOMIC_ACQUIRE) == avail_idx_);
    uint32_t len;
    std::memcpy(&len, At(kUsed) + 4 + 8 * ((avail_idx_ - 1) % kNum) + 4, 4);
    return len;
  }

  // A well-formed request: header, data, status; returns the status byte.
  uint8_t Request(uint32_t type, uint64_t sector, uint32_t len, bool device_writes) {
    uint8_t header[16] = {};
    std::memcpy(header, &type, 4);
    std::memcpy(header + 8, &sector, 8);
    std::memcpy(At(kData), header, 16);
    *At(kData + 0x3000) = 0xff;
    std::vector<Desc> d = {{kData, 16, kNext, 1},
                           {kData + 0x1000, len, static_cast<uint16_t>(kNext | (device_writes ? kWrite : 0)), 2},
                           {kData + 0x3000, 1, kWrite, 0}};
    if (len == 0) d = {{kData, 16, kNext, 2}, {}, {kData + 0x3000, 1, kWrite, 0}};
    Submit(d);
    return *At(kData + 0x3000);
  }

  bool Alive() {  // a good read still works
    return Request(0, 0, 4096, true) == 0;
  }

 private:
  UniqueFd conn_, memfd_, call_, kick_, slave_;
  uint8_t* mem_ = nullptr;
  uint16_t avail_idx_ = 0;
  bool ack_ = false;
};

std::string TempDir() {
  char tmpl[] = "/tmp/plxd-test.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  return tmpl;
}

}  // namespace

TEST_CASE("reads, writes, flush and id through a UML-style front end") {
  std::string dir = TempDir();
  {
    ServerThread server(dir);
    FrontEnd fe(server.socket());
    fe.Handshake();
    std::vector<uint8_t> config_req(12 + 60, 0);
    uint32_t size = 60;
    std::memcpy(config_req.data() + 4, &size, 4);
    std::vector<uint8_t> config = fe.Send(kGetConfig, config_req, {}, true);
    REQUIRE(config.size() == 72);
    uint64_t capacity;
    uint32_t blk_size;
    std::memcpy(&capacity, config.data() + 12, 8);
    std::memcpy(&blk_size, config.data() + 12 + 20, 4);
    CHECK(capacity == (1 << 20) / 512);
    CHECK(blk_size == 4096);

    std::memset(fe.At(kData + 0x1000), 0xab, 4096);
    CHECK(fe.Request(1, 16, 4096, false) == 0);  // OUT at 8 KiB
    std::memset(fe.At(kData + 0x1000), 0, 4096);
    CHECK(fe.Request(0, 16, 4096, true) == 0);  // IN
    CHECK(fe.At(kData + 0x1000)[4095] == 0xab);
    CHECK(fe.Request(4, 0, 0, false) == 0);  // FLUSH
    CHECK(fe.Request(8, 0, 20, true) == 0);  // GET_ID
    CHECK(std::string(reinterpret_cast<char*>(fe.At(kData + 0x1000)), 8) == "disk.img");
    CHECK(server.stats().writes == 1);
  }
  int fd = ::open((dir + "/disk.img").c_str(), O_RDONLY);
  uint8_t byte = 0;
  REQUIRE(::pread(fd, &byte, 1, 8192 + 100) == 1);
  ::close(fd);
  CHECK(byte == 0xab);
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("a write's data may share the header's descriptor and straddle others") {
  std::string dir = TempDir();
  {
    ServerThread server(dir);
    FrontEnd fe(server.socket());
    fe.Handshake();
    // Header and the first 1000 bytes in one descriptor, the rest of the 8 KiB
    // in two more, cut mid-block: the server writes from all three in place.
    uint32_t type = 1;
    uint64_t sector = 8;
    uint8_t* head = fe.At(kData);
    std::memcpy(head, &type, 4);
    std::memcpy(head + 8, &sector, 8);
    std::memset(head + 16, 0x11, 1000);
    std::memset(fe.At(kData + 0x1000), 0x22, 5000);
    std::memset(fe.At(kData + 0x4000), 0x33, 8192 - 6000);
    *fe.At(kData + 0x3000) = 0xff;
    CHECK(fe.Submit({{kData, 16 + 1000, kNext, 1},
                     {kData + 0x1000, 5000, kNext, 2},
                     {kData + 0x4000, 8192 - 6000, kNext, 3},
                     {kData + 0x3000, 1, kWrite, 0}}) == 1);
    CHECK(*fe.At(kData + 0x3000) == 0);
    CHECK(fe.Request(0, 8, 8192, true) == 0);
    const uint8_t* got = fe.At(kData + 0x1000);
    CHECK(got[0] == 0x11);
    CHECK(got[999] == 0x11);
    CHECK(got[1000] == 0x22);
    CHECK(got[5999] == 0x22);
    CHECK(got[6000] == 0x33);
    CHECK(got[8191] == 0x33);
  }
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("bad requests fail alone and the device keeps serving") {
  std::string dir = TempDir();
  ServerThread server(dir);
  FrontEnd fe(server.socket());
  fe.Handshake();
  CHECK(fe.Request(99, 0, 4096, true) == 2);        // unknown type: UNSUPP
  CHECK(fe.Request(0, 1, 4096, true) == 1);         // not 4 KiB aligned: IOERR
  CHECK(fe.Request(0, 2048, 4096, true) == 1);      // past the end: IOERR
  CHECK(fe.Request(0, ~0ull >> 1, 4096, true) == 1);  // absurd sector
  CHECK(fe.Request(11, 0, 0, false) == 2);          // discard without a segment
  CHECK(fe.Alive());

  // Chains a hostile guest could build; each is refused with no status.
  CHECK(fe.Submit({{0x1000, 16, kNext, 1}, {kData + 0x3000, 1, kWrite, 0}}) == 0);  // outside memory
  CHECK(fe.Alive());
  CHECK(fe.Submit({{kData, 16, kNext, 1}, {kData + 0x1000, 512, kNext | kWrite, 0}}) == 0);  // loop
  CHECK(fe.Alive());
  CHECK(fe.Submit({{kData, 16, kIndirect, 0}}) == 0);  // indirect
  CHECK(fe.Alive());
  CHECK(fe.Submit({{kData + 0x3000, 1, kNext | kWrite, 1}, {kData, 16, 0, 0}}) == 0);  // read after write
  CHECK(fe.Alive());
  CHECK(fe.Submit({{kData, 16, kNext, 40}}) == 0);  // next out of range
  CHECK(fe.Alive());
  CHECK(fe.Submit({{kData, 16, 0, 0}}, 200) == 0);  // head out of range
  CHECK(fe.Alive());
  CHECK(fe.Submit({{kGuestBase + kGuestSize - 8, 16, kNext, 1}, {kData + 0x3000, 1, kWrite, 0}}) == 0);  // straddles the end
  CHECK(fe.Alive());
  // A short header still gets a status.
  CHECK(fe.Submit({{kData, 8, kNext, 1}, {kData + 0x3000, 1, kWrite, 0}}) == 1);
  CHECK(*fe.At(kData + 0x3000) == 1);
  CHECK(fe.Alive());
  CHECK(server.stats().refused_chains == 7);
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("malformed messages drop the connection, and a new front end is served") {
  std::string dir = TempDir();
  ServerThread server(dir);
  // One front end at a time: let the server see each one go.
  auto settle = [] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); };
  {
    FrontEnd fe(server.socket());
    fe.Send(kGetFeatures, {}, {}, false, 0x2);  // wrong version: dropped
  }
  settle();
  {
    FrontEnd fe(server.socket());
    fe.Send(kSetVringNum, FrontEnd::State(0, 3));  // not a power of two
  }
  settle();
  {
    FrontEnd fe(server.socket());
    std::vector<uint8_t> mem(8 + 64, 0);
    uint32_t count = 2;  // two regions, no descriptors
    std::memcpy(mem.data(), &count, 4);
    fe.Send(kSetMemTable, mem);
  }
  settle();
  {
    FrontEnd fe(server.socket());
    fe.Send(kSetFeatures, std::vector<uint8_t>(3, 0));  // short payload
  }
  settle();
  FrontEnd fe(server.socket());
  fe.Handshake();
  CHECK(fe.Alive());
  std::system(("rm -rf " + dir).c_str());
}
