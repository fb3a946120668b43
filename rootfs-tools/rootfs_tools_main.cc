// rootfs-tools: root images for the nodes. `import IMAGE` puts a disk image
// into a cluster's plx store for ssi-start --root; `mkroot` builds one.
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <iostream>

#include "common/log.h"
#include "launcher/cli.h"
#include "launcher/cluster_paths.h"
#include "launcher/spawner.h"
#include "rootfs-tools/image_import.h"
#include "rootfs-tools/mkroot.h"

namespace po = boost::program_options;
using namespace ssiuml;

namespace {

constexpr const char* kUsage = "rootfs-tools import [--cluster NAME] [--name VDI] [-v] IMAGE";
constexpr const char* kMkrootUsage = "rootfs-tools mkroot [--debian [--packages A,B]] [-o IMAGE]";

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "rootfs-tools: %s\n", message.c_str());
  return code;
}

int CmdImport(const std::vector<std::string>& args) {
  std::string cluster = "default", name;
  std::vector<std::string> images;
  bool verbose = false;
  po::options_description options("rootfs-tools import options");
  options.add_options()("cluster", po::value(&cluster), "the cluster whose store gets the image (default)")(
      "name", po::value(&name), "VDI name (default: the image's file name without extension)")(
      "verbose,v", po::bool_switch(&verbose), "debug output")("help,h", "this help");
  po::options_description hidden;
  hidden.add_options()("image", po::value(&images));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description pos;
  pos.add("image", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(std::string(e.what()) + " (usage: " + kUsage + ")", 2);
  }
  if (vm.count("help")) {
    std::cout << "usage: " << kUsage << "\n"
              << "Puts a raw, qcow2 or other qemu-img image of an ext4 root file system into the cluster's\n"
              << "plx store and prints VDI@SNAP for ssi-start --root.\n"
              << options;
    return 0;
  }
  if (images.size() != 1) return Fail(std::string("one IMAGE, please (usage: ") + kUsage + ")", 2);
  SetupLogging("rootfs-tools", verbose);
  ClusterPaths paths;
  Status s = ResolveClusterPaths(cluster, &paths);
  if (!s.ok()) return Fail(s.message(), 2);
  std::string snapshot;
  s = ImportImage(Env::Default(), paths, images[0], name.empty() ? VdiNameFor(images[0]) : name, &snapshot);
  if (!s.ok()) return Fail(s.message());
  std::printf("%s\n", snapshot.c_str());
  return 0;
}

// Runs the build's own script, its progress on stderr, so stdout carries
// only the image path; the script's one-line errors are the command's.
int CmdMkroot(const std::vector<std::string>& args) {
  Context ctx{"rootfs-tools", {}, false};
  MkrootRequest request;
  po::options_description options("rootfs-tools mkroot options");
  options.add_options()("debian", po::bool_switch(&request.debian), "a Debian 12 root (debootstrap; needs root)")(
      "packages", po::value(&request.packages), "Debian packages to add, comma-separated (--debian)")(
      "output,o", po::value(&request.output), "the image (default: share/ssiuml/debian-root.img or root.img)");
  po::variables_map vm;
  std::vector<std::string> positional;
  if (!ParseArgs(ctx, args, options, kMkrootUsage, &vm, &positional)) return kExitUsage;
  if (!positional.empty())
    return Error(ctx, "unexpected '" + positional[0] + "' (usage: " + kMkrootUsage + ")", kExitUsage);
  request.packages_given = vm.count("packages") > 0;
  std::string image;
  SpawnSpec spec;
  Status s = MkrootCommand(request, ExecutableDir(), &spec.argv, &image);
  if (!s.ok()) return Error(ctx, s.message(), kExitUsage);
  // Checked here, not left to the script: as another user it would first
  // fail on the build's cache, which root owns.
  if (request.debian && ::geteuid() != 0)
    return Error(ctx, "mkroot --debian needs root for debootstrap: run it as root (e.g. sudo)");
  for (char** e = environ; *e != nullptr; ++e) spec.env.emplace_back(*e);
  spec.stdout_fd = spec.stderr_fd = STDERR_FILENO;
  spec.new_session = false;  // Ctrl-C reaches the script (and debootstrap) too
  pid_t pid;
  s = Spawn(spec, &pid);
  if (!s.ok()) return Error(ctx, s.message());
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return kExitFailure;
  std::printf("%s\n", image.c_str());
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::printf("usage: %s\n       %s\n", kUsage, kMkrootUsage);
    return 0;
  }
  const char* commands = " (commands: import, mkroot; rootfs-tools --help)";
  if (args.empty()) return Fail(std::string("which command?") + commands, 2);
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "import") return CmdImport(args);
  if (command == "mkroot") return CmdMkroot(args);
  return Fail("unknown command '" + command + "'" + commands, 2);
}
