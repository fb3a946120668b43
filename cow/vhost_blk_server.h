// One vhost-user-blk device on one unix socket: the front end (a UML node)
// connects, sets up memory and one virtqueue, and sends block requests.
// A node that restarts connects again; each connection is a fresh device
// (UML never resets one), and a bad message drops only that connection.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/event_loop.h"
#include "common/fd.h"
#include "cow/block_device.h"
#include "cow/guest_memory.h"
#include "cow/vhost_user.h"
#include "cow/virtio_blk.h"
#include "cow/virtqueue.h"

namespace ssiuml::vhost {

class VhostBlkServer {
 public:
  VhostBlkServer(EventLoop* loop, std::string socket_path, std::shared_ptr<BlockDevice> device);
  ~VhostBlkServer();
  VhostBlkServer(const VhostBlkServer&) = delete;
  VhostBlkServer& operator=(const VhostBlkServer&) = delete;

  Status Listen();
  const std::string& socket_path() const { return path_; }
  bool connected() const { return conn_.valid(); }
  const BlkStats& stats() const { return stats_; }
  BlockDevice& device() { return *device_; }
  // A stalled disk takes requests and completes none of them, as a hung
  // SAN would; unstalling serves everything that queued meanwhile.
  void SetStalled(bool stalled);
  bool stalled() const { return stalled_; }

 private:
  void Accept();
  void OnReadable();
  // Handles one message; a non-OK status drops the connection.
  Status Handle(Message& msg);
  Status Reply(const Message& msg, const std::vector<uint8_t>& payload);
  Status Ack(const Message& msg, bool ok);
  void StartQueue();
  void ProcessQueue();
  void Disconnect(const std::string& why);

  EventLoop* loop_;
  std::string path_;
  std::shared_ptr<BlockDevice> device_;
  UniqueFd listen_;
  UniqueFd conn_;
  UniqueFd slave_;  // the back-end request channel; kept, never written
  GuestMemory memory_;
  Virtqueue queue_;
  uint64_t protocol_features_ = 0;
  BlkStats stats_;
  bool stalled_ = false;
};

}  // namespace ssiuml::vhost
