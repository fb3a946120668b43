// Admission of node boots. A UML boot keeps a host CPU busy for seconds; when
// more nodes boot than there are CPUs, the running nodes' heartbeats wait
// behind them and the lock server fences healthy nodes (seen: 27 boots at
// once on 2 cores fenced 3 running nodes). So at most `parallel` nodes boot
// at once and the rest wait their turn, in the order they were asked for.
#pragma once

#include <deque>
#include <set>
#include <string>
#include <vector>

namespace ssiuml {

class BootQueue {
 public:
  struct Boot {
    int number = 0;
    bool fresh = false;
    std::string from;  // VDI@SNAP to clone, or empty
  };

  explicit BootQueue(int parallel) : parallel_(parallel < 1 ? 1 : parallel) {}

  // True if boot may start now (it holds a slot until Done), false if it
  // waits its turn.
  bool Admit(const Boot& boot);
  // Node number's boot ended (it is up, it exited, or it never started):
  // frees its slot. Returns the waiting boots that may start now.
  std::vector<Boot> Done(int number);
  // Drops a waiting boot; false if number was not waiting.
  bool Cancel(int number);
  bool Waiting(int number) const;
  std::vector<int> waiting() const;
  // Forgets every waiting boot (the cluster stops).
  void Clear() { waiting_.clear(); }

 private:
  int parallel_;
  std::set<int> booting_;
  std::deque<Boot> waiting_;
};

}  // namespace ssiuml
