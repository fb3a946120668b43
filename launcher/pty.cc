#include "launcher/pty.h"

#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>

#include <cerrno>

namespace ssiuml {

Status OpenRawPty(UniqueFd* master, UniqueFd* slave) {
  UniqueFd m(::posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!m.valid()) return Status::FromErrno("posix_openpt", errno);
  if (::grantpt(m.get()) != 0 || ::unlockpt(m.get()) != 0)
    return Status::FromErrno("unlockpt", errno);
  char name[128];
  if (::ptsname_r(m.get(), name, sizeof name) != 0) return Status::FromErrno("ptsname", errno);
  UniqueFd s(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!s.valid()) return Status::FromErrno(std::string("open ") + name, errno);
  struct termios tio;
  if (::tcgetattr(s.get(), &tio) != 0) return Status::FromErrno("tcgetattr", errno);
  ::cfmakeraw(&tio);
  if (::tcsetattr(s.get(), TCSANOW, &tio) != 0) return Status::FromErrno("tcsetattr", errno);
  *master = std::move(m);
  *slave = std::move(s);
  return Status::OK();
}

}  // namespace ssiuml
