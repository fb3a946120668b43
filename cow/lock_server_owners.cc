#include "cow/lock_server_owners.h"

#include <fmt/core.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "lockserver/lock_protocol.h"

namespace ssiuml::plx {
namespace {

// One VDI's EX lock, released on destruction unless the session's lease
// is over (then the server has released it, or will at the session's expiry).
class ServerOwnership final : public Ownership {
 public:
  ServerOwnership(std::shared_ptr<lock::LockClient> client, std::string name, std::string vdi)
      : client_(std::move(client)), name_(std::move(name)), vdi_(std::move(vdi)) {}
  ~ServerOwnership() override {
    if (!client_->LeaseHeld()) return;
    Status s = client_->Unlock(name_);
    if (!s.ok()) spdlog::warn("VDI {}: releasing lock {}: {}", vdi_, name_, s.message());
  }
  Status Check() const override {
    if (client_->LeaseHeld()) return Status::OK();
    return Status::IOError("lost write ownership of VDI " + vdi_ +
                           ": its lock server session ended; close and open it again");
  }

 private:
  std::shared_ptr<lock::LockClient> client_;
  const std::string name_;
  const std::string vdi_;
};

bool IsAddress(const std::string& server) {
  if (server.rfind("unix:", 0) == 0) return true;
  size_t colon = server.rfind(':');
  return colon != std::string::npos && colon + 1 < server.size() &&
         server.find_first_not_of("0123456789", colon + 1) == std::string::npos &&
         server.find('/') == std::string::npos;
}

// "<client>-<pid>@<host>", in the characters a lock server name allows.
std::string SessionName(const std::string& client) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string name = client + "-" + std::to_string(::getpid()) + "@" + (host[0] ? host : "localhost");
  for (char& c : name)
    if (!lock::wire::ValidName(std::string_view(&c, 1))) c = '-';
  return name.substr(0, lock::wire::kMaxName);
}

}  // namespace

LockServerOwners::LockServerOwners(LockServerOwnersOptions options)
    : options_(std::move(options)), session_name_(SessionName(options_.client)) {}

std::string LockServerOwners::LockName(uint64_t store_uid, const std::string& vdi) {
  return fmt::format("plx:{:016x}:{}", store_uid, vdi);
}

Status LockServerOwners::Connect() {
  std::shared_ptr<lock::LockClient> client;
  return Session(&client);
}

Status LockServerOwners::Session(std::shared_ptr<lock::LockClient>* client) {
  std::lock_guard<std::mutex> lock(mu_);
  // A lapsed lease ends the session even before the client notices.
  if (client_ && client_->LeaseHeld()) {
    *client = client_;
    return Status::OK();
  }
  std::string address = options_.server;
  Status s;
  if (!IsAddress(address)) s = lock::AddressFromPortFile(options_.server, &address);
  std::unique_ptr<lock::LockClient> fresh;
  if (s.ok()) s = lock::LockClient::Connect(address, &fresh);
  if (s.ok()) {
    fresh->OnLost([address](const std::string& why) {
      spdlog::warn("lock server {}: {}; the VDIs this process had open for writing refuse I/O until reopened",
                   address, why);
    });
    s = fresh->HelloHost(session_name_);
  }
  if (!s.ok()) return Status::IOError("lock server " + address + ": " + s.message());
  spdlog::debug("lock server {}: session {} as {}", address, fresh->session(), session_name_);
  client_ = std::move(fresh);
  *client = client_;
  return Status::OK();
}

std::string LockServerOwners::Holder(lock::LockClient& client, const std::string& name) {
  std::vector<std::string> lines;
  if (!client.QueryStatus(&lines, name).ok()) return "";
  const std::string prefix = "kind=holder name=" + name + " ";
  for (const std::string& line : lines) {
    if (line.rfind(prefix, 0) != 0) continue;
    size_t by = line.find(" by=");
    if (by != std::string::npos) return line.substr(by + 4, line.find(' ', by + 4) - by - 4);
  }
  return "";
}

Status LockServerOwners::Acquire(uint64_t store_uid, const std::string& vdi, std::unique_ptr<Ownership>* owner) {
  const std::string name = LockName(store_uid, vdi);
  std::shared_ptr<lock::LockClient> client;
  Status s = Session(&client);
  if (!s.ok()) return Status::IOError("cannot own VDI " + vdi + " for writing: " + s.message());
  lock::LockOptions options;
  options.try_lock = true;
  lock::Grant grant;
  s = client->Lock(name, lock::Mode::kEX, options, &grant);
  if (s.IsBusy()) {
    std::string holder = Holder(*client, name);
    return Status::Busy("VDI " + vdi + " is open for writing by " + (holder.empty() ? "another process" : holder));
  }
  if (!s.ok()) return Status::IOError("cannot own VDI " + vdi + " for writing: lock server: " + s.message());
  spdlog::debug("VDI {}: write ownership {} (token {})", vdi, name, grant.token);
  *owner = std::make_unique<ServerOwnership>(std::move(client), name, vdi);
  return Status::OK();
}

}  // namespace ssiuml::plx
