// Serves a unix socket by relaying each connection to another endpoint.
// With the lock server in a lock node, its control is a TCP port that
// switchd's gateway forwards; tools that only know the cluster's lock
// control socket (ssi-test's nemesis) reach it through this relay.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "common/event_loop.h"
#include "common/fd.h"
#include "common/status.h"

namespace ssiuml {

class StreamRelay {
 public:
  explicit StreamRelay(EventLoop* loop) : loop_(loop) {}
  ~StreamRelay();
  StreamRelay(const StreamRelay&) = delete;
  StreamRelay& operator=(const StreamRelay&) = delete;

  // Listens on path; every connection is joined to a new one to endpoint.
  Status Listen(const std::string& path, const std::string& endpoint);

 private:
  struct Pair;
  void Accept();
  void Pump(const std::shared_ptr<Pair>& pair, int from, uint32_t events);
  void Close(const std::shared_ptr<Pair>& pair);

  EventLoop* loop_;
  std::string path_, endpoint_;
  UniqueFd listen_;
  std::set<std::shared_ptr<Pair>> pairs_;
};

}  // namespace ssiuml
