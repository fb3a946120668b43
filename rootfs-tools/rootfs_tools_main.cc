// rootfs-tools: root images for the nodes. `import IMAGE` puts a disk image
// into a cluster's plx store for ssi-start --root.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "common/log.h"
#include "launcher/cluster_paths.h"
#include "rootfs-tools/image_import.h"

namespace po = boost::program_options;
using namespace ssiuml;

namespace {

constexpr const char* kUsage = "rootfs-tools import [--cluster NAME] [--name VDI] [-v] IMAGE";

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

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::printf("usage: %s\n", kUsage);
    return 0;
  }
  if (args.empty()) return Fail(std::string("usage: ") + kUsage, 2);
  if (args[0] != "import") return Fail("unknown command '" + args[0] + "' (usage: " + kUsage + ")", 2);
  args.erase(args.begin());
  return CmdImport(args);
}
