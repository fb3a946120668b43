// lockserver: the cluster's lock server (GFS/DLM style): sessions with
// heartbeats, DLM's six lock modes, lock value blocks, fencing tokens,
// membership events, and fencing before recovery. Protocol and control
// socket: lockserver/PROTOCOL.md.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/time.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "common/event_loop.h"
#include "common/log.h"
#include "common/termination.h"
#include "lockserver/listen_address.h"
#include "lockserver/lock_server.h"

namespace po = boost::program_options;
using namespace ssiuml;

int main(int argc, char** argv) {
  lock::ServerOptions o;
  std::string log_file;
  bool no_fencing = false, verbose = false, stdin_eof = false;
  int expiry_missed = 5;
  uint64_t max_sessions = 1024, max_output_kb = 1024, max_resources = 65536, max_locks = 1 << 20,
           max_session_locks = 16384;
  po::options_description options("lockserver options");
  options.add_options()
      ("tcp", po::value(&o.tcp), "listen on 127.0.0.1:PORT (0: any free port)")
      ("port-file", po::value(&o.port_file), "write the TCP port chosen here")
      ("gateway-socket", po::value(&o.gateway_socket), "unix socket for switchd's gateway (node sessions only)")
      ("control", po::value(&o.control), "control socket (JSON lines)")
      ("listen", po::value(&o.listen),
       "in a lock node: IP:PORT for sessions (host sessions from --host-peer only)")
      ("control-listen", po::value(&o.control_listen), "in a lock node: IP:PORT for control, from --host-peer only")
      ("host-peer", po::value(&o.host_peer), "IPv4 address the host connects from (the gateway, SUBNET.254)")
      ("heartbeat-ms", po::value(&o.service.heartbeat_ms), "client heartbeat period (200)")
      ("expiry-missed", po::value(&expiry_missed), "missed heartbeats before a session expires (5)")
      ("max-sessions", po::value(&max_sessions), "sessions at most (1024)")
      ("max-resources", po::value(&max_resources),
       "lock resources at most, idle ones kept for their value blocks included (65536)")
      ("max-locks", po::value(&max_locks), "locks held or queued at most, all sessions together (1048576)")
      ("max-session-locks", po::value(&max_session_locks), "locks held or queued at most by one session (16384)")
      ("hello-wait-ms", po::value(&o.hello_wait_ms), "how long a node HELLO waits for its boot id (3000)")
      ("max-output-kb", po::value(&max_output_kb), "replies queued to a peer before it is cut off (1024)")
      ("no-fencing", po::bool_switch(&no_fencing), "release an expired node's locks without fencing it")
      ("log", po::value(&log_file), "log file (default stderr)")
      ("exit-on-stdin-eof", po::bool_switch(&stdin_eof), "exit when stdin closes (supervised)")
      ("verbose,v", po::bool_switch(&verbose), "debug logging")
      ("help,h", "this help");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "lockserver: %s (see lockserver --help)\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "usage: lockserver --tcp 127.0.0.1:PORT [--gateway-socket PATH] [--control PATH]\n"
                 "       lockserver --listen IP:PORT [--control-listen IP:PORT] --host-peer IP\n"
              << options;
    return 0;
  }
  if (o.tcp.empty() && o.gateway_socket.empty() && o.listen.empty()) {
    std::fprintf(stderr, "lockserver: give --tcp 127.0.0.1:PORT and/or --gateway-socket PATH, or --listen IP:PORT\n");
    return 2;
  }
  in_addr host_peer;
  if ((!o.listen.empty() || !o.control_listen.empty()) && o.host_peer.empty()) {
    std::fprintf(stderr, "lockserver: --listen and --control-listen need --host-peer IP (the host's address)\n");
    return 2;
  }
  if (!o.host_peer.empty() && !lock::ParseIpv4(o.host_peer, &host_peer).ok()) {
    std::fprintf(stderr, "lockserver: --host-peer wants an IPv4 address, not '%s'\n", o.host_peer.c_str());
    return 2;
  }
  if (o.service.heartbeat_ms < 10 || o.service.heartbeat_ms > 60000 || expiry_missed < 2 || expiry_missed > 100 ||
      max_sessions < 1 || max_sessions > 1000000 || max_output_kb < 4 || max_resources < 1 ||
      max_resources > 100000000 || max_locks < 1 || max_locks > 100000000 || max_session_locks < 1 ||
      max_session_locks > 100000000) {
    std::fprintf(stderr,
                 "lockserver: --heartbeat-ms 10-60000, --expiry-missed 2-100, --max-sessions 1-1000000, "
                 "--max-output-kb >= 4, --max-resources 1-100000000, --max-locks 1-100000000, "
                 "--max-session-locks 1-100000000\n");
    return 2;
  }
  o.service.expiry_missed = expiry_missed;
  o.service.max_sessions = max_sessions;
  o.service.max_resources = max_resources;
  o.service.max_locks = max_locks;
  o.service.max_session_locks = max_session_locks;
  o.service.fencing = !no_fencing;
  o.max_output = max_output_kb * 1024;
  // Tokens live in memory only; seeding them with the wall clock in
  // microseconds keeps a restarted server above the tokens it handed out
  // before, unless the clock steps back or it averaged > 1M grants/s.
  timeval tv;
  ::gettimeofday(&tv, nullptr);
  o.service.first_token = static_cast<uint64_t>(tv.tv_sec) * 1000000u + static_cast<uint64_t>(tv.tv_usec);

  SetupLogging("lockserver", verbose, log_file);
  ::signal(SIGPIPE, SIG_IGN);
  EventLoop loop;
  Status s = loop.Init();
  UniqueFd signal_fd = QuitLoopOnTermination(&loop, stdin_eof);
  lock::LockServer server(&loop, o);
  if (s.ok()) s = server.Start();
  if (!s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }
  spdlog::info("lockserver up: heartbeat {} ms, expiry after {} missed, fencing {}", o.service.heartbeat_ms,
               expiry_missed, no_fencing ? "off" : "on");
  loop.Run();
  spdlog::info("lockserver exiting");
  return 0;
}
