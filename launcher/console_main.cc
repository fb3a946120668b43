// ssi-console: a full-screen dashboard of one cluster (node list, live
// consoles, events), or with a node number a plain attach to that node's
// console, like screen. A thin client: ssid holds the consoles and history.
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "common/log.h"
#include "common/mgmt_frame.h"
#include "launcher/cluster_paths.h"
#include "launcher/console_session.h"
#include "launcher/console_view.h"
#include "launcher/control_client.h"

// Last: curses defines OK and ERR as macros, which would clash with Status::OK.
#include <ncurses.h>

namespace po = boost::program_options;
using namespace ssiuml;

namespace {

constexpr int kStatusEveryMs = 1000;
constexpr int kDrawEveryMs = 100;  // at most 10 refreshes a second

volatile sig_atomic_t g_quit = 0;
void OnQuitSignal(int) { g_quit = 1; }

void InstallSignalHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnQuitSignal;  // no SA_RESTART: poll returns and we leave cleanly
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// Ends curses on every way out, so the user's terminal is left usable.
struct CursesScreen {
  SCREEN* screen = nullptr;
  ~CursesScreen() {
    if (screen != nullptr) {
      endwin();
      delscreen(screen);
    }
  }
};

uint32_t MapKey(int kind, wint_t key) {
  if (kind == OK) return static_cast<uint32_t>(key);
  switch (key) {
    case KEY_UP: return kKeyUp;
    case KEY_DOWN: return kKeyDown;
    case KEY_LEFT: return kKeyLeft;
    case KEY_RIGHT: return kKeyRight;
    case KEY_PPAGE: return kKeyPageUp;
    case KEY_NPAGE: return kKeyPageDown;
    case KEY_HOME: return kKeyHome;
    case KEY_END: return kKeyEnd;
    case KEY_BACKSPACE: return kKeyBackspace;
    case KEY_DC: return kKeyDelete;
    case KEY_ENTER: return '\r';
    default: return 0;
  }
}

void Draw(const Frame& frame) {
  for (size_t row = 0; row < frame.lines.size(); ++row)
    mvaddnwstr(static_cast<int>(row), 0, frame.lines[row].c_str(), static_cast<int>(frame.lines[row].size()));
  for (const auto& span : frame.spans)
    mvchgat(span.row, span.col, span.len, span.attr == Frame::Attr::kReverse ? A_REVERSE : A_BOLD, 0, nullptr);
  if (frame.cursor_row >= 0) {
    curs_set(1);
    move(frame.cursor_row, frame.cursor_col);
  } else {
    curs_set(0);
  }
  refresh();
}

// Runs a one-shot request (add, rm, pause, resume) and sums up its outcome.
std::string RunAction(const ClusterPaths& paths, Command cmd, int node) {
  Request request;
  request.cmd = cmd;
  request.nodes = {node};
  request.wait = false;
  std::string error;
  nlohmann::json result;
  Status s = CallSupervisor(paths, request, [&](const nlohmann::json& m) {
    if (m.contains("error")) error = m["error"].get<std::string>();
  }, &result, 10000);
  if (!s.ok()) return s.message();
  if (!error.empty()) return error;
  const char* done = cmd == Command::kAdd ? " is booting" : cmd == Command::kRm ? " crashed (ssi-rm)"
                     : cmd == Command::kPause ? " paused" : " resumed";
  return "node " + std::to_string(node) + done;
}

// Partition (groups) or heal (no groups) through ssid to the switch.
std::string RunNetAction(const ClusterPaths& paths, const std::vector<std::vector<int>>* groups) {
  Request request;
  request.cmd = Command::kNet;
  request.net = groups ? nlohmann::json{{"cmd", "partition"}, {"groups", *groups}} : nlohmann::json{{"cmd", "heal"}};
  nlohmann::json result;
  Status s = CallSupervisor(paths, request, [](const nlohmann::json&) {}, &result, 10000);
  if (!s.ok()) return s.message();
  if (!result.value("ok", false)) return result.value("error", std::string("failed"));
  return groups ? "network partitioned: " + nlohmann::json(*groups).dump() : "network healed";
}

int RunDashboard(const ClusterPaths& paths, uint32_t prefix) {
  ConsoleSession session;
  Status s = session.Open(paths, {}, /*events=*/true);
  if (!s.ok()) {
    std::fprintf(stderr, "ssi-console: %s\n", s.message().c_str());
    return 1;
  }
  session.RequestStatus();
  setlocale(LC_ALL, "");
  CursesScreen curses;
  curses.screen = newterm(nullptr, stdout, stdin);
  if (curses.screen == nullptr) {
    std::fprintf(stderr, "ssi-console: cannot drive terminal type '%s'; set TERM (e.g. xterm)\n",
                 getenv("TERM") ? getenv("TERM") : "");
    return 1;
  }
  raw();  // C-c, C-z and C-\ belong to the node, not to us
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  nodelay(stdscr, TRUE);
  set_escdelay(25);

  Dashboard model(paths.name, prefix);
  std::vector<int> followed;
  std::string farewell = "[detached from cluster " + paths.name + "]";
  uint64_t next_status = NowMs() + kStatusEveryMs, last_draw = 0;
  bool dirty = true;
  while (!g_quit) {
    uint64_t now = NowMs();
    int timeout = static_cast<int>(std::min<uint64_t>(next_status > now ? next_status - now : 0,
                                                     dirty ? kDrawEveryMs : kStatusEveryMs));
    struct pollfd fds[2] = {{0, POLLIN, 0}, {session.fd(), POLLIN, 0}};
    if (poll(fds, 2, timeout) < 0 && errno != EINTR) break;
    if (fds[0].revents & (POLLHUP | POLLERR)) break;  // the terminal went away
    if (fds[0].revents & POLLIN) {
      wint_t key;
      int kind;
      while ((kind = get_wch(&key)) != ERR) {
        if (kind == KEY_CODE_YES && key == KEY_RESIZE) {
          dirty = true;
          continue;
        }
        uint32_t k = MapKey(kind, key);
        if (k == 0) continue;
        DashboardAction a = model.HandleKey(k);
        using Kind = DashboardAction::Kind;
        switch (a.kind) {
          case Kind::kInput: session.Input(a.node, a.bytes); break;
          case Kind::kDetach: g_quit = 1; break;
          case Kind::kAdd: model.ShowMessage(RunAction(paths, Command::kAdd, a.node)); break;
          case Kind::kRemove: model.ShowMessage(RunAction(paths, Command::kRm, a.node)); break;
          case Kind::kPause: model.ShowMessage(RunAction(paths, Command::kPause, a.node)); break;
          case Kind::kResume: model.ShowMessage(RunAction(paths, Command::kResume, a.node)); break;
          case Kind::kPartition: model.ShowMessage(RunNetAction(paths, &a.groups)); break;
          case Kind::kHeal: model.ShowMessage(RunNetAction(paths, nullptr)); break;
          case Kind::kNone: break;
        }
        dirty = true;
      }
    }
    if (fds[1].revents) {
      std::vector<nlohmann::json> messages;
      bool open = session.Read(&messages);
      for (const auto& m : messages) {
        std::string type = m.value("type", "");
        if (type == "console") {
          std::string data;
          if (mgmt::Base64Decode(m.value("data", ""), &data)) model.AddConsole(m.value("node", 0), data);
        } else if (type == "status") {
          model.SetStatus(m);
        } else if (type == "event") {
          model.AddEvent(m);
        }
      }
      dirty = dirty || !messages.empty();
      if (!open) {
        farewell = "ssi-console: cluster " + paths.name + " stopped";
        break;
      }
    }
    now = NowMs();
    if (now >= next_status) {
      session.RequestStatus();
      next_status = now + kStatusEveryMs;
    }
    std::vector<int> visible = model.VisibleNodes();
    if (visible != followed) {
      session.Follow(visible);
      followed = visible;
    }
    if (dirty && now - last_draw >= kDrawEveryMs) {
      Draw(model.Render(LINES, COLS));
      last_draw = now;
      dirty = false;
    }
  }
  endwin();
  delscreen(curses.screen);
  curses.screen = nullptr;
  std::printf("%s\n", farewell.c_str());
  return 0;
}

// Restores the terminal's modes on every way out of a plain attach.
struct RawTerminal {
  struct termios saved;
  bool active = false;
  bool Enter() {
    if (tcgetattr(0, &saved) != 0) return false;
    struct termios raw = saved;
    cfmakeraw(&raw);
    active = tcsetattr(0, TCSANOW, &raw) == 0;
    return active;
  }
  ~RawTerminal() {
    if (active) tcsetattr(0, TCSANOW, &saved);
  }
};

int RunAttach(const ClusterPaths& paths, int node, uint32_t prefix) {
  ConsoleSession session;
  Status s = session.Open(paths, {node}, /*events=*/true);
  if (!s.ok()) {
    std::fprintf(stderr, "ssi-console: %s\n", s.message().c_str());
    return 1;
  }
  RawTerminal terminal;
  if (!terminal.Enter()) {
    std::fprintf(stderr, "ssi-console: cannot set the terminal to raw mode\n");
    return 1;
  }
  std::string farewell = "[detached from node " + std::to_string(node) + " of cluster " + paths.name + "]";
  bool history = true, after_prefix = false;
  int status = 0;
  while (!g_quit) {
    struct pollfd fds[2] = {{0, POLLIN, 0}, {session.fd(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (fds[0].revents & (POLLHUP | POLLERR)) break;
    if (fds[0].revents & POLLIN) {
      char buf[4096];
      ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0) break;
      std::string out;
      for (ssize_t i = 0; i < n; ++i) {
        unsigned char c = static_cast<unsigned char>(buf[i]);
        if (after_prefix) {
          after_prefix = false;
          if (c == 'd') g_quit = 1;
          if (c == prefix) out.push_back(static_cast<char>(c));
        } else if (c == prefix) {
          after_prefix = true;
        } else {
          out.push_back(static_cast<char>(c));
        }
      }
      if (!out.empty()) session.Input(node, out);
    }
    if (fds[1].revents) {
      std::vector<nlohmann::json> messages;
      bool open = session.Read(&messages);
      for (const auto& m : messages) {
        std::string type = m.value("type", "");
        if (type == "console" && m.value("node", 0) == node) {
          std::string data;
          if (!mgmt::Base64Decode(m.value("data", ""), &data)) continue;
          // Replayed history holds the shell's old cursor-position queries;
          // the terminal would answer them into the node as typed input.
          if (history) {
            for (size_t at; (at = data.find("\x1b[6n")) != std::string::npos;) data.erase(at, 4);
            history = false;
          }
          (void)!write(1, data.data(), data.size());
        } else if (type == "event" && m.value("event", "") == "node_exited" && m.value("node", 0) == node) {
          farewell = "[node " + std::to_string(node) + " exited: " + m.value("cause", "") + "]";
          g_quit = 1;
        } else if (type == "result" && m.value("ok", true) == false) {  // ssid refused the attach
          farewell = "ssi-console: " + m.value("error", std::string("ssid refused to attach"));
          status = 1;
          break;
        }
      }
      if (status != 0) break;
      if (!open) {
        farewell = "[cluster " + paths.name + " stopped]";
        break;
      }
    }
  }
  terminal.~RawTerminal();
  terminal.active = false;
  std::printf("\r\n%s\r\n", farewell.c_str());
  return status;
}

// "C-b" -> 0x02.
bool ParsePrefix(const std::string& text, uint32_t* prefix) {
  if (text.size() == 3 && (text[0] == 'C' || text[0] == 'c') && text[1] == '-' &&
      std::isalpha(static_cast<unsigned char>(text[2]))) {
    *prefix = static_cast<uint32_t>(std::tolower(text[2]) - 'a' + 1);
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cluster = "default", prefix_text = "C-a";
  bool verbose = false;
  std::vector<std::string> positional;
  po::options_description options("ssi-console options");
  options.add_options()("cluster", po::value(&cluster), "cluster name (default)")(
      "prefix", po::value(&prefix_text), "prefix key, e.g. C-b (C-a)")(
      "verbose,v", po::bool_switch(&verbose), "debug logging")("help,h", "this help");
  po::options_description hidden;
  hidden.add_options()("node", po::value(&positional));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description pos;
  pos.add("node", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "ssi-console: %s (usage: ssi-console [--cluster NAME] [N])\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "usage: ssi-console [--cluster NAME] [--prefix C-x] [N]\n"
                 "  without N: the dashboard of the cluster; with N: node N's console\n"
              << options;
    return 0;
  }
  uint32_t prefix = kDefaultPrefix;
  if (!ParsePrefix(prefix_text, &prefix)) {
    std::fprintf(stderr, "ssi-console: --prefix takes a control key such as C-b\n");
    return 2;
  }
  int node = 0;
  if (positional.size() > 1 ||
      (positional.size() == 1 && (positional[0].empty() ||
                                  positional[0].find_first_not_of("0123456789") != std::string::npos ||
                                  positional[0].size() > 4 || (node = std::stoi(positional[0])) <= 0))) {
    std::fprintf(stderr, "ssi-console: expected one node number (usage: ssi-console [--cluster NAME] [N])\n");
    return 2;
  }
  SetupLogging("ssi-console", verbose, "/dev/null");
  ClusterPaths paths;
  Status s = ResolveClusterPaths(cluster, &paths);
  if (!s.ok()) {
    std::fprintf(stderr, "ssi-console: %s\n", s.message().c_str());
    return 2;
  }
  if (!isatty(0) || !isatty(1)) {
    std::fprintf(stderr, "ssi-console: needs a terminal; from scripts use ssi-status, ssi-exec, "
                         "or the node's log in %s\n", paths.LogDir().c_str());
    return 2;
  }
  InstallSignalHandlers();
  return node > 0 ? RunAttach(paths, node, prefix) : RunDashboard(paths, prefix);
}
