// VDI write ownership from the cluster's lock server (lockserver/PROTOCOL.md):
// each VDI open for writing holds the EX lock "plx:<store uid>:<vdi>" in one
// host session of this process. It is taken with try, so a second writer is
// refused at once and told who holds it; readers of snapshots take nothing.
//
// The session heartbeats from the client's own thread, so a busy or slow
// caller does not lose it. When it ends anyway (the process hung past its
// lease, or the server went away), its locks are the server's to give away:
// every ownership of it fails its Check for good, and the VDIs refuse I/O
// until reopened, which opens a new session. A dead process's locks are
// released when its session expires, heartbeat x expiry after its last
// word (host sessions are not fenced).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "cow/ownership.h"
#include "lockserver/lock_client.h"

namespace ssiuml::plx {

struct LockServerOwnersOptions {
  // "IP:PORT" or "unix:PATH"; anything else is a port file (RUN/lock/port)
  // read at each connect, so a restarted server on a new port is found.
  std::string server;
  // This process in the server's list of holders: "<client>-<pid>@<host>".
  std::string client;
};

class LockServerOwners final : public OwnershipService {
 public:
  explicit LockServerOwners(LockServerOwnersOptions options);
  // Opens a session now, so a bad address is reported at start; after a
  // session is lost, Acquire opens the next one.
  Status Connect();
  Status Acquire(uint64_t store_uid, const std::string& vdi, std::unique_ptr<Ownership>* owner) override;

  static std::string LockName(uint64_t store_uid, const std::string& vdi);

 private:
  // The live session, opening a new one if there is none.
  Status Session(std::shared_ptr<lock::LockClient>* client);
  // Who holds lock name, as the server's STATUS says; "" if it does not.
  std::string Holder(lock::LockClient& client, const std::string& name);

  const LockServerOwnersOptions options_;
  const std::string session_name_;
  std::mutex mu_;
  std::shared_ptr<lock::LockClient> client_;  // guarded by mu_
};

}  // namespace ssiuml::plx
