// Unix-domain socket helpers: every daemon listens on one and every client
// connects to one. Paths are checked against sun_path's 108 bytes up front so
// the user gets a clear error instead of a truncated address.
#pragma once

#include <string>

#include "common/fd.h"
#include "common/status.h"

namespace ssiuml {

// Binds and listens on a SOCK_STREAM socket at path, replacing a stale file.
// The socket is non-blocking and close-on-exec.
Status ListenUnix(const std::string& path, UniqueFd* fd);
// Connects a blocking SOCK_STREAM socket to path; timeout_ms >= 0 bounds the
// connect (TimedOut past it).
Status ConnectUnix(const std::string& path, UniqueFd* fd, int timeout_ms = -1);
// Connects to a control endpoint: a unix socket path, or 127.0.0.1:PORT
// (a lock node's control, forwarded by switchd's gateway). timeout_ms >= 0
// bounds the connect (TimedOut past it); the socket is blocking either way.
Status ConnectEndpoint(const std::string& endpoint, UniqueFd* fd, int timeout_ms = -1);
// Binds 127.0.0.1:0 and returns the port the kernel chose, for a listener
// another process opens next.
Status FreeLoopbackPort(int* port);
// True when path fits in sockaddr_un::sun_path with its NUL.
bool FitsSunPath(const std::string& path);
Status SetNonBlocking(int fd);
// Writes all of data to a blocking fd, retrying on EINTR.
Status WriteAllFd(int fd, const std::string& data);
// The same to a blocking socket; a peer that closed is EPIPE, not SIGPIPE.
Status SendAllFd(int fd, const std::string& data);
// Sends from the front of *pending what a socket takes now and erases it:
// a full socket leaves the rest for its next EPOLLOUT, and never blocks the
// caller's loop. An error means the peer is gone (EPIPE, not SIGPIPE).
Status SendPending(int fd, std::string* pending);

}  // namespace ssiuml
