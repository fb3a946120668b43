#include "launcher/cluster_paths.h"

#include <cstdlib>
#include <utility>

#include "common/unix_socket.h"
#include "launcher/uml_path.h"

namespace ssiuml {

Status ValidateClusterName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 32;
  for (char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-');
  if (!ok)
    return Status::InvalidArgument("bad cluster name '" + name +
                                   "': use 1-32 letters, digits, '-' or '_'");
  return Status::OK();
}

Status ResolveClusterPaths(const std::string& name, ClusterPaths* paths) {
  Status s = ValidateClusterName(name);
  if (!s.ok()) return s;
  const char* home_env = std::getenv("HOME");
  std::string home = home_env != nullptr && *home_env ? home_env : "/tmp";
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  paths->name = name;
  paths->run = xdg != nullptr && *xdg ? std::string(xdg) + "/ssiuml/" + name
                                      : home + "/.ssiuml/run/" + name;
  paths->state = home + "/.ssiuml/clusters/" + name;
  // The node number is at most three digits.
  std::string longest = paths->UmlDir() + "/" + name + "-n999/mconsole";
  if (!FitsSunPath(longest) || !FitsSunPath(paths->SwitchDir() + "/ctl"))
    return Status::InvalidArgument("runtime directory " + paths->run +
                                   " is too long for a unix socket path; set XDG_RUNTIME_DIR "
                                   "or HOME to a shorter directory");
  // The nodes' sockets and ubd overlays are under them, named on their command lines.
  for (const auto& [what, dir] : {std::pair{"runtime directory", paths->run}, {"state directory", paths->state}})
    if (!CheckUmlPath(what, dir).ok())
      return Status::InvalidArgument(std::string(what) + " " + dir +
                                     " has a comma or a space, which UML's command line cannot carry; "
                                     "set HOME (and XDG_RUNTIME_DIR) to a directory without");
  return Status::OK();
}

}  // namespace ssiuml
