#include "launcher/scenario.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

namespace ssiuml {
namespace {

std::string_view Trim(std::string_view s) {
  size_t start = s.find_first_not_of(" \t\r");
  if (start == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(" \t\r");
  return s.substr(start, end - start + 1);
}

std::string_view NextWord(std::string_view* rest) {
  *rest = Trim(*rest);
  size_t sp = rest->find_first_of(" \t");
  std::string_view word = rest->substr(0, sp);
  *rest = sp == std::string_view::npos ? std::string_view() : Trim(rest->substr(sp));
  return word;
}

bool ParseInt(std::string_view text, int64_t* value) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

class Parser {
 public:
  Parser(std::string path, int max_nodes, Scenario* s) : path_(std::move(path)), max_nodes_(max_nodes), s_(s) {}

  Status Line(int number, std::string_view line);
  Status Finish();

 private:
  Status Fail(const std::string& what) const {
    return Status::InvalidArgument(path_ + ":" + std::to_string(line_) + ": " + what);
  }
  // "all" or "1,3": checked against the scenario's node count.
  Status Targets(std::string_view text, std::vector<int>* nodes) const;
  // "TARGETS: CMD".
  Status TargetsAndCommand(std::string_view rest, std::vector<int>* nodes, std::string* command) const;
  Status Step(std::string_view rest);
  Status Check(std::string_view rest);

  std::string path_;
  int max_nodes_;
  Scenario* s_;
  int line_ = 0;
};

Status Parser::Targets(std::string_view text, std::vector<int>* nodes) const {
  nodes->clear();
  text = Trim(text);
  if (text == "all") {
    for (int n = 1; n <= s_->nodes; ++n) nodes->push_back(n);
    return Status::OK();
  }
  while (!text.empty()) {
    size_t comma = text.find(',');
    int64_t n = 0;
    std::string_view item = Trim(text.substr(0, comma));
    if (!ParseInt(item, &n)) return Fail("'" + std::string(item) + "' is not a node number or all");
    if (n < 1 || n > s_->nodes)
      return Fail("node " + std::to_string(n) + " is not in this scenario (nodes 1-" +
                  std::to_string(s_->nodes) + ")");
    nodes->push_back(static_cast<int>(n));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  if (nodes->empty()) return Fail("which nodes? (all, or numbers such as 1,3)");
  return Status::OK();
}

Status Parser::TargetsAndCommand(std::string_view rest, std::vector<int>* nodes,
                                 std::string* command) const {
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return Fail("expected TARGETS: COMMAND");
  Status s = Targets(rest.substr(0, colon), nodes);
  if (!s.ok()) return s;
  *command = std::string(Trim(rest.substr(colon + 1)));
  if (command->empty()) return Fail("empty command");
  return Status::OK();
}

Status Parser::Step(std::string_view rest) {
  ScenarioStep step;
  step.line = line_;
  step.text = std::string(rest);
  std::string_view action = NextWord(&rest);
  using Kind = ScenarioStep::Kind;
  auto target = [&]() -> Status {
    step.target = std::string(NextWord(&rest));
    if (!ValidTargetSpec(step.target, s_->nodes))
      return Fail("bad target '" + step.target + "' (a node number, one, random, minority, majority or all)");
    return Status::OK();
  };
  auto duration = [&](bool required) -> Status {
    std::string_view word = NextWord(&rest);
    if (word.empty() && !required) return Status::OK();
    if (!ParseDuration(word, &step.duration_ms))
      return Fail("bad duration '" + std::string(word) + "' (such as 500ms, 3s or 1m)");
    return Status::OK();
  };
  Status s;
  if (action == "wait") {
    step.kind = Kind::kWait;
    s = duration(true);
  } else if (action == "crash") {
    step.kind = Kind::kCrash;
    s = target();
  } else if (action == "restart") {
    step.kind = Kind::kRestart;
    s = target();
  } else if (action == "pause") {
    step.kind = Kind::kPause;
    s = target();
    if (s.ok()) s = duration(false);
  } else if (action == "resume") {
    step.kind = Kind::kResume;
    s = target();
  } else if (action == "rolling-restart") {
    step.kind = Kind::kRollingRestart;
    s = duration(false);
  } else if (action == "heal") {
    step.kind = Kind::kHeal;
  } else if (action == "partition") {
    step.kind = Kind::kPartition;
    step.shape = std::string(Trim(rest));
    rest = {};
    if (step.shape.rfind("isolate", 0) == 0) {
      rest = std::string_view(step.text).substr(step.text.find("isolate") + 7);
      step.shape = "isolate";
      s = target();
    } else if (step.shape == "ring" && s_->nodes < 3) {
      s = Fail("a ring needs at least 3 nodes; say 'nodes 3' or more");
    } else if (step.shape != "halves" && step.shape != "ring") {
      bool good = !step.shape.empty();
      for (char c : step.shape) good = good && (std::isdigit(static_cast<unsigned char>(c)) || c == ',' || c == ' ');
      if (!good) s = Fail("bad partition '" + step.shape + "' (halves, ring, isolate TARGET, or groups such as 1,2 3)");
    }
  } else if (action == "loss") {
    step.kind = Kind::kLoss;
    s = target();
    std::string pct(NextWord(&rest));
    if (!pct.empty() && pct.back() == '%') pct.pop_back();
    char* end = nullptr;
    step.percent = pct.empty() ? -1 : std::strtod(pct.c_str(), &end);
    if (s.ok() && (pct.empty() || *end != '\0' || step.percent < 0 || step.percent > 100))
      s = Fail("loss needs a percentage such as 20%");
  } else if (action == "delay") {
    step.kind = Kind::kDelay;
    s = target();
    if (s.ok()) s = duration(true);
    std::string_view jitter = NextWord(&rest);
    if (s.ok() && !jitter.empty() && !ParseDuration(jitter, &step.jitter_ms))
      s = Fail("bad jitter '" + std::string(jitter) + "' (such as 5ms)");
  } else if (action == "disk-stall" || action == "disk-error") {
    step.kind = action == "disk-stall" ? Kind::kDiskStall : Kind::kDiskError;
    s = target();
    if (s.ok()) s = duration(false);
  } else if (action == "exec") {
    step.kind = Kind::kExec;
    s = TargetsAndCommand(rest, &step.nodes, &step.command);
    rest = {};
  } else {
    return Fail("unknown step '" + std::string(action) +
                "' (wait, crash, restart, pause, resume, rolling-restart, partition, loss, delay, "
                "disk-stall, disk-error, exec, heal)");
  }
  if (!s.ok()) return s;
  if (!Trim(rest).empty()) return Fail("unexpected '" + std::string(Trim(rest)) + "'");
  s_->steps.push_back(std::move(step));
  return Status::OK();
}

Status Parser::Check(std::string_view rest) {
  ScenarioCheck check;
  check.line = line_;
  check.text = std::string(rest);
  if (rest.substr(0, 13) == "lock-history ") {
    check.kind = ScenarioCheck::Kind::kLockHistory;
    check.expected = std::string(Trim(rest.substr(13)));
    if (check.expected.empty() || check.expected[0] != '/' || check.expected.find(' ') != std::string::npos)
      return Fail("lock-history needs the absolute path of the history file");
    for (int n = 1; n <= s_->nodes; ++n) check.nodes.push_back(n);
    s_->checks.push_back(std::move(check));
    return Status::OK();
  }
  if (rest.substr(0, 8) == "members ") {
    check.kind = ScenarioCheck::Kind::kMembers;
    std::string_view body = rest.substr(8);
    size_t eq = body.find(" == ");
    if (eq == std::string_view::npos) return Fail("expected 'members TARGETS == 1,2,3 [within 10s]'");
    Status s = Targets(body.substr(0, eq), &check.nodes);
    if (!s.ok()) return s;
    std::string_view list = Trim(body.substr(eq + 4));
    if (size_t within = list.find(" within "); within != std::string_view::npos) {
      std::string_view duration = Trim(list.substr(within + 8));
      if (!ParseDuration(duration, &check.within_ms))
        return Fail("bad duration '" + std::string(duration) + "' (such as 500ms, 3s or 1m)");
      list = Trim(list.substr(0, within));
    }
    if (list != "none") {
      s = Targets(list, &check.members);
      if (!s.ok()) return s;
    }
    s_->checks.push_back(std::move(check));
    return Status::OK();
  }
  if (rest.substr(0, 10) == "signature ") {
    check.kind = ScenarioCheck::Kind::kSignature;
    Status s = Targets(rest.substr(10), &check.nodes);
    if (!s.ok()) return s;
    s_->checks.push_back(std::move(check));
    return Status::OK();
  }
  std::string body;
  Status s = TargetsAndCommand(rest, &check.nodes, &body);
  if (!s.ok()) return s;
  // The operator is the last " == ", " ~ " or " exit " in the line, so the
  // command itself may contain them.
  size_t eq = body.rfind(" == "), contains = body.rfind(" ~ "), exit = body.rfind(" exit ");
  size_t op = std::string::npos;
  for (size_t candidate : {eq, contains, exit})
    if (candidate != std::string::npos && (op == std::string::npos || candidate > op)) op = candidate;
  if (op == std::string::npos) return Fail("a check needs '== TEXT', '~ TEXT' or 'exit N' after the command");
  check.command = std::string(Trim(std::string_view(body).substr(0, op)));
  if (op == eq) {
    check.kind = ScenarioCheck::Kind::kEquals;
    check.expected = std::string(Trim(std::string_view(body).substr(op + 4)));
  } else if (op == contains) {
    check.kind = ScenarioCheck::Kind::kContains;
    check.expected = std::string(Trim(std::string_view(body).substr(op + 3)));
    if (check.expected.empty()) return Fail("'~' needs the text to look for");
  } else {
    check.kind = ScenarioCheck::Kind::kExit;
    int64_t status = 0;
    std::string_view code = Trim(std::string_view(body).substr(op + 6));
    if (!ParseInt(code, &status) || status < 0 || status > 255)
      return Fail("'exit' needs a status from 0 to 255, not '" + std::string(code) + "'");
    check.exit_status = static_cast<int>(status);
  }
  if (check.command.empty()) return Fail("empty command");
  s_->checks.push_back(std::move(check));
  return Status::OK();
}

Status Parser::Line(int number, std::string_view line) {
  line_ = number;
  line = Trim(line);
  if (line.empty() || line[0] == '#') return Status::OK();
  std::string_view rest = line;
  std::string_view keyword = NextWord(&rest);
  if (keyword != "nodes" && s_->nodes == 0) return Fail("the scenario must start with 'nodes N'");
  if (keyword == "nodes") {
    int64_t n = 0;
    if (s_->nodes != 0) return Fail("'nodes' given twice");
    if (!ParseInt(rest, &n) || n < 1 || n > max_nodes_)
      return Fail("'nodes' takes a count from 1 to " + std::to_string(max_nodes_));
    s_->nodes = static_cast<int>(n);
  } else if (keyword == "timeout") {
    if (!ParseDuration(rest, &s_->timeout_ms) || s_->timeout_ms == 0)
      return Fail("bad timeout '" + std::string(rest) + "' (such as 300s or 10m)");
  } else if (keyword == "seed") {
    int64_t seed = 0;
    if (!ParseInt(rest, &seed) || seed < 0) return Fail("'seed' takes a number");
    s_->seed = static_cast<uint64_t>(seed);
  } else if (keyword == "setup" || keyword == "workload") {
    ScenarioCommand c;
    c.line = line_;
    Status s = TargetsAndCommand(rest, &c.nodes, &c.command);
    if (!s.ok()) return s;
    (keyword == "setup" ? s_->setup : s_->workload).push_back(std::move(c));
  } else if (keyword == "step") {
    return Step(rest);
  } else if (keyword == "check") {
    return Check(rest);
  } else {
    return Fail("unknown keyword '" + std::string(keyword) +
                "' (nodes, timeout, seed, setup, workload, step, check)");
  }
  return Status::OK();
}

Status Parser::Finish() {
  if (s_->nodes == 0) return Status::InvalidArgument(path_ + ": empty scenario (it needs 'nodes N')");
  if (s_->checks.empty()) return Status::InvalidArgument(path_ + ": the scenario has no checks");
  return Status::OK();
}

}  // namespace

bool ParseDuration(std::string_view text, uint64_t* ms) {
  text = Trim(text);
  uint64_t scale = 0;
  if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
    scale = 1;
    text.remove_suffix(2);
  } else if (!text.empty() && text.back() == 's') {
    scale = 1000;
    text.remove_suffix(1);
  } else if (!text.empty() && text.back() == 'm') {
    scale = 60000;
    text.remove_suffix(1);
  }
  int64_t n = 0;
  if (scale == 0 || !ParseInt(text, &n) || n < 0 || n > 24 * 3600 * 1000LL) return false;
  *ms = static_cast<uint64_t>(n) * scale;
  return *ms <= 24ull * 3600 * 1000;
}

bool ValidTargetSpec(const std::string& spec, int nodes) {
  if (spec == "one" || spec == "random" || spec == "minority" || spec == "majority" || spec == "all")
    return true;
  int64_t n = 0;
  return ParseInt(spec, &n) && n >= 1 && n <= nodes;
}

Status ParseScenario(std::string_view text, const std::string& path, int max_nodes, Scenario* scenario) {
  *scenario = Scenario();
  scenario->path = path;
  size_t slash = path.rfind('/');
  scenario->name = path.substr(slash == std::string::npos ? 0 : slash + 1);
  if (size_t dot = scenario->name.rfind('.'); dot != std::string::npos && dot > 0)
    scenario->name.resize(dot);
  Parser parser(path, max_nodes, scenario);
  int number = 0;
  while (!text.empty()) {
    ++number;
    size_t nl = text.find('\n');
    Status s = parser.Line(number, text.substr(0, nl));
    if (!s.ok()) return s;
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  return parser.Finish();
}

}  // namespace ssiuml
