// switchd: a VDE-compatible switch. UML's eth0=vde,DIR and vde_plug DIR
// connect to it unchanged (vde_ports.h); the fabric routes frames between
// those ports and the internal ones (gateway.h, uplink.h); a control socket
// (JSON lines, switchd/PROTOCOL.md) reports counters and applies faults.
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/event_loop.h"
#include "common/json_line_server.h"
#include "common/log.h"
#include "common/termination.h"
#include "switchd/commands.h"
#include "switchd/fabric.h"
#include "switchd/gateway.h"
#include "switchd/uplink.h"
#include "switchd/vde_ports.h"

namespace po = boost::program_options;
using namespace ssiuml;

namespace {

struct Options {
  std::string dir, control, log_file;
  int ports = 64;
  bool hub = false, verbose = false, stdin_eof = false, gateway = false;
  std::vector<std::string> gateway_forwards, uplinks;
};

const char* kUsage =
    "usage: switchd DIR [--control SOCK] [--hub] [--ports N] [--gateway [--gateway-forward PORT=unix:PATH]...] "
    "[--uplink VNL]...";

// 0: run; otherwise the exit code.
int ParseOptions(int argc, char** argv, Options* o) {
  po::options_description options("switchd options");
  options.add_options()("control", po::value(&o->control), "control socket (JSON lines)")(
      "ports", po::value(&o->ports), "number of VDE ports (64, at most 999)")(
      "hub", po::bool_switch(&o->hub), "flood every frame")(
      "gateway", po::bool_switch(&o->gateway), "attach the slirp gateway at 10.77.0.254 (restricted)")(
      "gateway-forward", po::value(&o->gateway_forwards),
      "PORT=unix:PATH: guest TCP to 10.77.0.254:PORT goes to a host unix socket (repeatable)")(
      "uplink", po::value(&o->uplinks), "VNL of another switch to join, e.g. udp://2000->10.0.0.2:2000 (repeatable)")(
      "log", po::value(&o->log_file), "log file (default stderr)")(
      "exit-on-stdin-eof", po::bool_switch(&o->stdin_eof), "exit when stdin closes (supervised)")(
      "verbose,v", po::bool_switch(&o->verbose), "debug logging")("help,h", "this help");
  po::options_description hidden;
  hidden.add_options()("dir", po::value(&o->dir));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description pos;
  pos.add("dir", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "switchd: %s (%s)\n", e.what(), kUsage);
    return 2;
  }
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << options;
    return -1;
  }
  if (o->dir.empty() || o->ports < 1 || o->ports > 999) {
    std::fprintf(stderr, "switchd: %s (ports 1-999)\n", kUsage);
    return 2;
  }
  if (!o->gateway && !o->gateway_forwards.empty()) {
    std::fprintf(stderr, "switchd: --gateway-forward needs --gateway\n");
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (int rc = ParseOptions(argc, argv, &o); rc != 0) return rc < 0 ? 0 : rc;
  std::vector<vde::UnixForward> forwards(o.gateway_forwards.size());
  for (size_t i = 0; i < forwards.size(); ++i) {
    Status s = vde::ParseUnixForward(o.gateway_forwards[i], &forwards[i]);
    if (!s.ok()) {
      std::fprintf(stderr, "switchd: %s\n", s.message().c_str());
      return 2;
    }
  }
  SetupLogging("switchd", o.verbose, o.log_file);
  ::signal(SIGPIPE, SIG_IGN);
  // libslirp gives each gateway connection two 128 KiB socket buffers. With
  // glibc's dynamic mmap threshold they land on the heap once one was freed,
  // and the heap keeps its busiest moment's size (seen: 10 -> 58 MiB with
  // 16 nodes' lock traffic). A fixed threshold maps and unmaps them, and a
  // trim every 10 s returns the rest, so switchd's size follows its live
  // connections.
  ::mallopt(M_MMAP_THRESHOLD, 64 * 1024);
  EventLoop loop;
  Status s = loop.Init();
  UniqueFd signal_fd = QuitLoopOnTermination(&loop, o.stdin_eof);
  vde::Fabric fabric(&loop, o.hub);
  vde::VdePorts ports(&loop, &fabric, o.dir, o.ports);
  std::unique_ptr<vde::Gateway> gateway;
  std::vector<std::unique_ptr<vde::Uplink>> uplinks;
  int internal = vde::kFirstInternalPort;
  if (s.ok()) s = ports.Listen();
  if (s.ok() && o.gateway) {
    fabric.core().SetGatewayPort(internal);
    gateway = std::make_unique<vde::Gateway>(&loop, &fabric, internal++);
    s = gateway->Start(forwards);
  }
  for (size_t i = 0; s.ok() && i < o.uplinks.size(); ++i) {
    uplinks.emplace_back();
    s = vde::OpenUplink(&loop, &fabric, internal++, o.uplinks[i], &uplinks.back());
  }
  vde::Commands commands(&fabric, &ports, gateway.get());
  JsonLineServer control(&loop, [&commands](const std::string& line) { return commands.Execute(line); });
  if (s.ok() && !o.control.empty()) s = control.Listen(o.control);
  if (!s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }
  std::function<void()> trim = [&loop, &trim] {
    ::malloc_trim(0);
    loop.After(10000, trim);
  };
  loop.After(10000, trim);
  loop.Run();
  spdlog::info("switchd exiting");
  return 0;
}
