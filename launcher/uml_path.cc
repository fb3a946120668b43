#include "launcher/uml_path.h"

namespace ssiuml {

Status CheckUmlPath(const std::string& what, const std::string& path) {
  if (path.find_first_of(", \t\n\r\v\f") == std::string::npos) return Status::OK();
  return Status::InvalidArgument(what + " " + path +
                                 " has a comma or a space, which UML's command line cannot carry; "
                                 "move it, or link to it from a path without");
}

}  // namespace ssiuml
