#include "launcher/tool_run.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common/fd.h"
#include "launcher/spawner.h"

extern char** environ;

namespace ssiuml {

std::string ToolResult::ErrorLine() const {
  std::string line = err;
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  line = line.substr(line.rfind('\n') + 1);
  size_t cut = line.find("error: ");
  return cut == std::string::npos ? line : line.substr(cut + 7);
}

Status RunTool(const std::vector<std::string>& argv, ToolResult* result) {
  std::string program;
  Status s = FindProgram(argv.at(0), &program);
  if (!s.ok()) return Status::NotFound(argv[0] + " not found");
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  UniqueFd err_read(err_pipe[0]), err_write(err_pipe[1]);
  SpawnSpec spec;
  spec.argv = argv;
  for (char** e = environ; *e != nullptr; ++e) spec.env.emplace_back(*e);
  spec.stdout_fd = out_write.get();
  spec.stderr_fd = err_write.get();
  spec.new_session = false;
  pid_t pid;
  s = Spawn(spec, &pid);
  if (!s.ok()) return s;
  out_write.Reset();
  err_write.Reset();
  // Both pipes at once: a tool that fills one while we block on the other
  // would never finish.
  *result = ToolResult();
  pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
  std::string* sinks[2] = {&result->out, &result->err};
  int open_pipes = 2;
  char buf[8192];
  while (open_pipes > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return Status::OK();
}

}  // namespace ssiuml
