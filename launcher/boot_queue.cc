#include "launcher/boot_queue.h"

#include <algorithm>

namespace ssiuml {

bool BootQueue::Admit(const Boot& boot) {
  if (static_cast<int>(booting_.size()) < parallel_ && waiting_.empty()) {
    booting_.insert(boot.number);
    return true;
  }
  waiting_.push_back(boot);
  return false;
}

std::vector<BootQueue::Boot> BootQueue::Done(int number) {
  booting_.erase(number);
  std::vector<Boot> start;
  while (static_cast<int>(booting_.size()) < parallel_ && !waiting_.empty()) {
    start.push_back(waiting_.front());
    booting_.insert(waiting_.front().number);
    waiting_.pop_front();
  }
  return start;
}

bool BootQueue::Cancel(int number) {
  auto it = std::find_if(waiting_.begin(), waiting_.end(), [number](const Boot& b) { return b.number == number; });
  if (it == waiting_.end()) return false;
  waiting_.erase(it);
  return true;
}

bool BootQueue::Waiting(int number) const {
  return std::any_of(waiting_.begin(), waiting_.end(), [number](const Boot& b) { return b.number == number; });
}

std::vector<int> BootQueue::waiting() const {
  std::vector<int> numbers;
  for (const Boot& b : waiting_) numbers.push_back(b.number);
  return numbers;
}

}  // namespace ssiuml
