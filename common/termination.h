#pragma once

#include "common/event_loop.h"
#include "common/fd.h"

namespace ssiuml {

// A daemon quits its loop (and so unlinks its sockets and flushes its log) on
// SIGTERM, SIGINT or SIGHUP, and with on_stdin_eof also when the parent that
// holds its stdin dies. Call before starting threads, which inherit the
// blocked signals. The returned signalfd must outlive the loop's Run().
UniqueFd QuitLoopOnTermination(EventLoop* loop, bool on_stdin_eof);

}  // namespace ssiuml
