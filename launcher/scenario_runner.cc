#include "launcher/scenario_runner.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "common/env.h"
#include "launcher/control_client.h"
#include "launcher/lock_history.h"
#include "launcher/nemesis.h"
#include "launcher/spawner.h"

namespace ssiuml {
namespace {

// ltest's built-in dump: interfaces, routes, listening ports, processes.
// Processes are read from /proc with shell builtins only, so the dump never
// sees its own helpers; kernel threads (no exe) come and go and are left out.
constexpr const char* kSignatureCommand =
    "echo '[NETWORK INTERFACES]'; ip -o addr show | awk '{print $2, $3, $4}';"
    "echo '[ROUTING TABLE]'; ip route show;"
    "echo '[LISTENING PORTS]'; netstat -ltun 2>/dev/null | awk 'NR > 2 {print $1, $4}' | sort;"
    "echo '[PROCESSES]';"
    "procs=$(for p in /proc/[0-9]*; do [ -e \"$p/exe\" ] && read -r c < \"$p/comm\" && echo \"$c\"; done);"
    "echo \"$procs\" | sort -u";
constexpr uint64_t kExecTimeoutMs = 120000;
constexpr size_t kExcerptLines = 15;

double NowSeconds() { return static_cast<double>(Env::Default()->NowMicros()) / 1e6; }

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Shorten(std::string s, size_t max = 200) {
  s = Trimmed(std::move(s));
  for (char& c : s)
    if (c == '\n') c = '|';
  return s.size() > max ? s.substr(0, max) + "..." : s;
}

std::string LastLines(const std::string& path, size_t count) {
  std::string text;
  if (!Env::Default()->ReadFileToString(path, &text).ok()) return "";
  size_t pos = text.size();
  for (size_t n = 0; n <= count && pos > 0; ++n) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    pos = nl;
  }
  return text.substr(pos);
}

class Runner {
 public:
  Runner(const Scenario& scenario, const ClusterPaths& paths, const RunOptions& options,
         const std::function<bool()>& interrupted, const std::function<void(const std::string&)>& progress)
      : scenario_(scenario), paths_(paths), options_(options), interrupted_(interrupted),
        progress_(progress), nemesis_(paths, scenario.seed, [this](const std::string& m) { progress_("  nemesis: " + m); }),
        deadline_(std::chrono::steady_clock::now() + std::chrono::milliseconds(scenario.timeout_ms)) {}

  RunReport Run();

 private:
  bool OutOfTime() const { return std::chrono::steady_clock::now() > deadline_; }
  bool Stopping() { return interrupted_() || OutOfTime(); }
  // Sleeps in small steps so an interrupt is noticed at once.
  void Sleep(uint64_t ms);
  Status StartCluster();
  Status Setup();
  void StartWorkload();
  void StopWorkload();
  Status RunStep(const ScenarioStep& step);
  void RunCheck(const ScenarioCheck& check);
  void CheckSignature(const ScenarioCheck& check, int node);
  void CheckMembers(const ScenarioCheck& check);
  void CheckLocks(const ScenarioCheck& check);
  void BuildTimeline();

  const Scenario& scenario_;
  ClusterPaths paths_;
  RunOptions options_;
  std::function<bool()> interrupted_;
  std::function<void(const std::string&)> progress_;
  Nemesis nemesis_;
  std::chrono::steady_clock::time_point deadline_;
  double started_at_ = 0;
  std::vector<pid_t> workload_;
  RunReport report_;
};

void Runner::Sleep(uint64_t ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until && !Stopping())
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

Status Runner::StartCluster() {
  bool cleaned = false;
  if (SupervisorRunning(paths_, &cleaned))
    return Status::Busy("cluster " + paths_.name + " is already running; ssi-test needs a cluster of "
                        "its own (--cluster NAME)");
  Status s = EnsureSupervisor(paths_, false, options_.root);
  if (!s.ok()) return s;
  Request add;
  add.cmd = Command::kAdd;
  for (int n = 1; n <= scenario_.nodes; ++n) add.nodes.push_back(n);
  add.fresh = true;
  add.timeout_ms = std::min<uint64_t>(scenario_.timeout_ms, 300000);
  std::vector<std::string> errors;
  s = NodeRequest(paths_, add, &errors);
  if (s.ok() && !errors.empty()) s = Status::IOError(errors.front());
  return s;
}

Status Runner::Setup() {
  for (const auto& setup : scenario_.setup) {
    for (int node : setup.nodes) {
      std::string output;
      int status = -1;
      Status s = ExecOnNode(paths_, node, setup.command, kExecTimeoutMs, &output, &status);
      if (s.ok() && status != 0)
        s = Status::IOError("exited " + std::to_string(status) + ": " + Shorten(output));
      if (!s.ok())
        return Status::IOError("setup on node " + std::to_string(node) + " (line " +
                               std::to_string(setup.line) + ") failed: " + s.message());
    }
  }
  return Status::OK();
}

void Runner::StartWorkload() {
  for (const auto& work : scenario_.workload) {
    for (int node : work.nodes) {
      SpawnSpec spec;
      spec.argv = {ExecutableDir() + "/ssi", "exec", "--cluster", paths_.name,
                   std::to_string(node), "--timeout", "86400", "--", work.command};
      for (char** e = environ; *e != nullptr; ++e) spec.env.emplace_back(*e);
      pid_t pid = -1;
      if (Spawn(spec, &pid).ok()) workload_.push_back(pid);
    }
  }
}

void Runner::StopWorkload() {
  // Closing the exec connection makes ssid kill the command inside the node.
  for (pid_t pid : workload_) ::kill(pid, SIGTERM);
  for (pid_t pid : workload_) ::waitpid(pid, nullptr, 0);
  workload_.clear();
}

Status Runner::RunStep(const ScenarioStep& step) {
  using Kind = ScenarioStep::Kind;
  progress_("  step (line " + std::to_string(step.line) + "): " + step.text);
  switch (step.kind) {
    case Kind::kWait:
      Sleep(step.duration_ms);
      return Status::OK();
    case Kind::kCrash:
      return nemesis_.Crash(step.target);
    case Kind::kRestart:
      return nemesis_.Restart(step.target);
    case Kind::kPause: {
      std::vector<int> paused;
      Status s = nemesis_.Pause(step.target, &paused);
      if (!s.ok() || step.duration_ms == 0) return s;
      Sleep(step.duration_ms);
      for (int node : paused)
        if (s.ok()) s = nemesis_.Resume(std::to_string(node));
      return s;
    }
    case Kind::kResume:
      return nemesis_.Resume(step.target);
    case Kind::kRollingRestart:
      return nemesis_.RollingRestart(step.duration_ms, [this] { return !Stopping(); });
    case Kind::kHeal:
      return nemesis_.Heal();
    case Kind::kPartition:
      return nemesis_.Partition(step.shape, step.target);
    case Kind::kLoss:
      return nemesis_.Loss(step.target, step.percent);
    case Kind::kDelay:
      return nemesis_.Delay(step.target, step.duration_ms, step.jitter_ms);
    case Kind::kDiskStall:
    case Kind::kDiskError: {
      // A timed disk fault heals only the disks; other faults stay.
      const char* fault = step.kind == Kind::kDiskStall ? "stall" : "error";
      Status s = nemesis_.DiskFault(step.target, fault);
      if (!s.ok() || step.duration_ms == 0) return s;
      Sleep(step.duration_ms);
      return nemesis_.HealDisks();
    }
    case Kind::kExec:
      for (int node : step.nodes) {
        std::string output;
        int status = -1;
        Status s = ExecOnNode(paths_, node, step.command, kExecTimeoutMs, &output, &status);
        if (s.ok() && status != 0)
          s = Status::IOError("node " + std::to_string(node) + " exited " + std::to_string(status) +
                              ": " + Shorten(output));
        if (!s.ok()) return s;
      }
      return Status::OK();
  }
  return Status::OK();
}

// Polls every target's /run/ssi/members until each lists exactly the
// expected nodes, or the time is up.
void Runner::CheckMembers(const ScenarioCheck& check) {
  std::string want;
  for (int n : check.members) want += std::to_string(n) + " ";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(check.within_ms);
  std::map<int, std::string> seen;
  for (;;) {
    bool all = true;
    for (int node : check.nodes) {
      std::string output;
      int status = -1;
      Status s = ExecOnNode(paths_, node, "tail -n +2 /run/ssi/members | sort -n | tr '\\n' ' '", kExecTimeoutMs,
                            &output, &status);
      seen[node] = s.ok() ? output : s.message();
      all = all && s.ok() && output == want;
    }
    if (all || std::chrono::steady_clock::now() >= deadline || Stopping()) break;
    Sleep(200);
  }
  for (int node : check.nodes)
    report_.results.push_back({check.line, node, seen[node] == want, check.text,
                               "members were '" + Trimmed(seen[node]) + "', wanted '" + Trimmed(want) + "'"});
}

void Runner::CheckLocks(const ScenarioCheck& check) {
  CheckResult r{check.line, 0, false, check.text, ""};
  std::map<int, std::string> histories;
  for (int node : check.nodes) {
    std::string output;
    int status = -1;
    Status s = ExecOnNode(paths_, node, "cat " + check.expected + " 2>/dev/null; true", kExecTimeoutMs, &output, &status);
    if (!s.ok()) r.detail += "node " + std::to_string(node) + ": " + s.message() + "; ";
    histories[node] = output;
  }
  std::string events;
  Status s = Env::Default()->ReadFileToString(paths_.Events(), &events);
  lock::CheckResult result;
  if (s.ok()) s = CheckLockHistory(histories, events, &result);
  if (!s.ok()) {
    r.detail += s.message();
  } else {
    r.pass = r.detail.empty() && result.ok() && result.acquires > 0;
    r.detail += std::to_string(result.acquires) + " acquires, " + std::to_string(result.releases) + " releases, " +
                std::to_string(result.fenced) + " holders fenced";
    if (result.acquires == 0) r.detail += "; no acquire recorded";
    for (size_t i = 0; i < result.violations.size() && i < 5; ++i) r.detail += "; " + result.violations[i];
  }
  report_.results.push_back(std::move(r));
}

void Runner::RunCheck(const ScenarioCheck& check) {
  using Kind = ScenarioCheck::Kind;
  if (check.kind == Kind::kMembers) return CheckMembers(check);
  if (check.kind == Kind::kLockHistory) return CheckLocks(check);
  for (int node : check.nodes) {
    if (check.kind == Kind::kSignature) {
      CheckSignature(check, node);
      continue;
    }
    CheckResult r{check.line, node, false, check.text, ""};
    std::string output;
    int status = -1;
    Status s = ExecOnNode(paths_, node, check.command, kExecTimeoutMs, &output, &status);
    if (!s.ok()) {
      r.detail = s.message();
    } else if (check.kind == Kind::kEquals) {
      r.pass = Trimmed(output) == check.expected;
      r.detail = "output was '" + Shorten(output) + "'";
    } else if (check.kind == Kind::kContains) {
      r.pass = output.find(check.expected) != std::string::npos;
      r.detail = "output was '" + Shorten(output) + "'";
    } else {
      r.pass = status == check.exit_status;
      r.detail = "exit status " + std::to_string(status) + ", output '" + Shorten(output) + "'";
    }
    report_.results.push_back(std::move(r));
  }
}

void Runner::CheckSignature(const ScenarioCheck& check, int node) {
  CheckResult r{check.line, node, false, check.text, ""};
  std::string output;
  int status = -1;
  Status s = ExecOnNode(paths_, node, kSignatureCommand, kExecTimeoutMs, &output, &status);
  std::string path = SignaturePath(scenario_, node);
  Env* env = Env::Default();
  if (!s.ok()) {
    r.detail = s.message();
  } else if (options_.record) {
    s = env->CreateDirs(path.substr(0, path.rfind('/')), 0755);
    if (s.ok()) s = env->WriteFileAtomic(path, output);
    r.pass = s.ok();
    r.detail = s.ok() ? "recorded " + path : s.message();
  } else {
    std::string expected;
    if (!env->ReadFileToString(path, &expected).ok()) {
      r.detail = "no recorded signature at " + path + " (ssi-test --record makes one)";
    } else if (expected == output) {
      r.pass = true;
    } else {
      // Name the first line that differs.
      size_t a = 0, b = 0;
      std::string want, got;
      while (want == got && (a < expected.size() || b < output.size())) {
        size_t na = expected.find('\n', a), nb = output.find('\n', b);
        want = expected.substr(a, na - a);
        got = output.substr(b, nb - b);
        a = na == std::string::npos ? expected.size() : na + 1;
        b = nb == std::string::npos ? output.size() : nb + 1;
      }
      r.detail = "signature differs: expected '" + want + "', got '" + got + "'";
    }
  }
  report_.results.push_back(std::move(r));
}

void Runner::BuildTimeline() {
  std::string text;
  if (!Env::Default()->ReadFileToString(paths_.Events(), &text).ok()) return;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    nlohmann::json e = nlohmann::json::parse(text.substr(pos, nl - pos), nullptr, false);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (!e.is_object() || e.value("ts", 0.0) < started_at_) continue;
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%+8.1fs  ", e.value("ts", 0.0) - started_at_);
    std::string line = stamp + e.value("event", std::string("?"));
    for (const char* key : {"node", "nodes", "cause"})
      if (e.contains(key)) line += std::string(" ") + key + "=" + (e[key].is_string() ? e[key].get<std::string>() : e[key].dump());
    report_.timeline.push_back(line);
  }
}

RunReport Runner::Run() {
  started_at_ = NowSeconds();
  progress_("starting " + std::to_string(scenario_.nodes) + " nodes on cluster " + paths_.name);
  Status s = StartCluster();
  if (s.ok()) {
    progress_("set-up");
    s = Setup();
  }
  if (s.ok()) {
    StartWorkload();
    for (const auto& step : scenario_.steps) {
      if (Stopping()) break;
      s = RunStep(step);
      if (!s.ok()) {
        report_.results.push_back({step.line, 0, false, "step " + step.text, s.message()});
        break;
      }
    }
    Status healed = nemesis_.Heal();
    if (!healed.ok()) report_.results.push_back({0, 0, false, "final heal", healed.message()});
    StopWorkload();
  }
  if (!s.ok() && report_.results.empty()) report_.aborted = s.message();
  if (interrupted_()) report_.aborted = "interrupted";
  if (OutOfTime()) report_.aborted = "out of time (timeout " + std::to_string(scenario_.timeout_ms / 1000) + " s)";
  if (report_.aborted.empty()) {
    progress_("checks");
    for (const auto& check : scenario_.checks) RunCheck(check);
  }
  BuildTimeline();
  std::set<int> failed_nodes;
  for (const auto& r : report_.results) {
    (r.pass ? report_.passed : report_.failed)++;
    if (!r.pass && r.node > 0) failed_nodes.insert(r.node);
  }
  if (!report_.aborted.empty()) ++report_.failed;
  // An aborted run names no node: every console it left says why (a kernel
  // panic while booting, say), and the next scenario on this cluster name
  // would overwrite them.
  if (!report_.aborted.empty()) {
    failed_nodes.insert(kLockNode);
    for (int node = 1; node <= scenario_.nodes; ++node) failed_nodes.insert(node);
  }
  for (int node : failed_nodes) {
    std::string lines = LastLines(paths_.ConsoleLog(node), kExcerptLines);
    if (lines.empty()) continue;
    std::string name = node == kLockNode ? "the lock node" : "node " + std::to_string(node);
    report_.excerpts.push_back("console of " + name + ", last lines:" + lines);
  }
  if (!options_.keep) StopCluster(paths_);
  return report_;
}

}  // namespace

std::string SignaturePath(const Scenario& scenario, int node) {
  std::string base = scenario.path;
  if (size_t dot = base.rfind('.'); dot != std::string::npos && base.find('/', dot) == std::string::npos)
    base.resize(dot);
  return base + ".sig/node" + std::to_string(node);
}

RunReport RunScenario(const Scenario& scenario, const ClusterPaths& paths, const RunOptions& options,
                      const std::function<bool()>& interrupted,
                      const std::function<void(const std::string&)>& progress) {
  Runner runner(scenario, paths, options, interrupted, progress);
  return runner.Run();
}

std::string FormatReport(const Scenario& scenario, const ClusterPaths& paths, const RunReport& report) {
  std::string out = "ssi-test " + scenario.name + ": " + std::to_string(scenario.nodes) +
                    " nodes on cluster " + paths.name + ", seed " + std::to_string(scenario.seed) + "\n";
  if (!report.aborted.empty()) out += "  ABORTED  " + report.aborted + "\n";
  for (const auto& r : report.results) {
    char head[64];
    std::snprintf(head, sizeof head, "  %s  line %-3d %-8s ", r.pass ? "PASS" : "FAIL", r.line,
                  r.node > 0 ? ("node " + std::to_string(r.node)).c_str() : "");
    out += head + r.what;
    if (!r.pass && !r.detail.empty()) out += "\n        " + r.detail;
    out += "\n";
  }
  if (!report.timeline.empty()) {
    out += "timeline:\n";
    for (const auto& line : report.timeline) out += "  " + line + "\n";
  }
  for (const auto& excerpt : report.excerpts) out += excerpt + "\n";
  out += std::to_string(report.passed) + " passed, " + std::to_string(report.failed) + " failed\n";
  return out;
}

}  // namespace ssiuml
