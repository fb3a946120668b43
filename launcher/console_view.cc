#include "launcher/console_view.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "launcher/cluster_paths.h"
#include "launcher/format.h"

namespace ssiuml {
namespace {

constexpr size_t kMaxSplit = 4;

std::wstring Widen(const std::string& s) {
  ConsoleText decoder;  // the same UTF-8 rules as console output
  decoder.Feed(s);
  return decoder.lines().back();
}

std::string Utf8(uint32_t c) {
  std::string out;
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x110000) {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
  return out;
}

// Writes text into row at col, clipped to width.
void Put(Frame& f, int row, int col, const std::wstring& text, int width) {
  if (row < 0 || row >= static_cast<int>(f.lines.size()) || width <= 0) return;
  std::wstring& line = f.lines[static_cast<size_t>(row)];
  for (int i = 0; i < width && i < static_cast<int>(text.size()); ++i) {
    size_t at = static_cast<size_t>(col + i);
    if (at < line.size()) line[at] = text[static_cast<size_t>(i)];
  }
}

// ssi-rm is a crash on purpose; only a stop or a guest's own poweroff is not.
bool IsCrash(const nlohmann::json& event) {
  std::string cause = event.value("cause", "");
  return cause != "stopped by ssi-stop" && cause != "powered off";
}

std::string DescribeEvent(const nlohmann::json& e) {
  std::string name = e.value("event", "");
  std::string node = e.contains("node") ? "node " + std::to_string(e.value("node", 0)) : "";
  if (name == "node_exited")
    return node + (IsCrash(e) ? " crashed: " : " exited: ") + e.value("cause", "");
  if (name == "node_ready") return node + " is up";
  if (name == "node_started") return node + " is booting";
  if (name == "node_paused") return node + " paused";
  if (name == "node_resumed") return node + " resumed";
  if (name == "cluster_stopped") return "cluster stopped";
  if (name == "member_left") return node + " left the cluster (" + e.value("cause", "") + ")";
  if (name == "member_joined") return node + " joined the cluster";
  if (name == "net_partition") return "network partitioned: " + e.value("groups", nlohmann::json::array()).dump();
  if (name == "net_ring") return "network in a majorities ring: " + e.value("nodes", nlohmann::json::array()).dump();
  if (name == "net_heal") return "network healed";
  std::string text = name;
  std::replace(text.begin(), text.end(), '_', ' ');
  return node.empty() ? text : node + ": " + text;
}

const wchar_t* kHelp[] = {
    L"ssi-console keys (after the prefix, C-a by default)",
    L"",
    L"  n / p        next / previous node",
    L"  1 .. 9       node by number;  g  any node by number",
    L"  s            split view: up to four consoles at once",
    L"  z            zoom: console without the node list",
    L"  [ / ]        scroll back / forward (also PgUp / PgDn)",
    L"  /            search the scrollback (Enter again: next match)",
    L"  a            add (boot) a node",
    L"  c            crash the selected node (ssi-rm), asks first",
    L"  P            pause / resume the selected node",
    L"  i            isolate the selected node from the network, asks first",
    L"  N            partition the network into groups (such as 1,2 3)",
    L"  h            heal the network",
    L"  d            detach (the cluster keeps running)",
    L"  C-a          type a literal C-a into the node",
    L"  ?            this help",
    L"",
    L"Other keys go to the selected node's console.",
    L"Press any key to close.",
};

}  // namespace

Dashboard::Dashboard(std::string cluster, uint32_t prefix)
    : cluster_(std::move(cluster)), prefix_(prefix) {}

ConsoleText& Dashboard::Text(int node) {
  auto& text = texts_[node];
  if (!text) text = std::make_unique<ConsoleText>();
  return *text;
}

void Dashboard::SetStatus(const nlohmann::json& status) {
  rows_.clear();
  for (const auto& n : status.value("nodes", nlohmann::json::array())) {
    Row row;
    row.node = n.value("node", 0);
    row.state = n.value("state", "");
    row.member = n.value("member", "-");
    if (n.contains("disk_private_kib"))
      row.details.push_back("disk " + FormatMemory(n.value("disk_private_kib", uint64_t{0})) + " own, " +
                            FormatMemory(n.value("disk_shared_kib", uint64_t{0})) + " shared");
    if (n.contains("net_rx_frames"))
      row.details.push_back("net " + std::to_string(n.value("net_rx_frames", uint64_t{0})) + " in, " +
                            std::to_string(n.value("net_tx_frames", uint64_t{0})) + " out, " +
                            std::to_string(n.value("net_drops", uint64_t{0})) + " dropped");
    row.uptime_s = n.value("uptime_s", uint64_t{0});
    row.cpu_pct = n.value("cpu_pct", -1.0);
    row.mem_kib = n.value("mem_kib", uint64_t{0});
    row.note = n.value("cause", "");
    rows_.push_back(row);
  }
  // The lock node has a console but is no cluster node: it comes last.
  if (auto lock = status.find("lock_node"); lock != status.end() && lock->is_object()) {
    Row row;
    row.node = kLockNode;
    row.state = lock->value("state", "");
    row.member = "-";
    row.note = lock->value("cause", "");
    rows_.push_back(row);
  }
  if (FindRow(selected_) == nullptr) selected_ = rows_.empty() ? 0 : rows_.front().node;
  // A daemon that stopped answering (figures left out) is said once on the
  // message line, and taken off it when all is well again.
  std::string warning;
  for (const auto& w : status.value("warnings", nlohmann::json::array()))
    if (w.is_string()) warning += (warning.empty() ? "warning: " : "; ") + w.get<std::string>();
  if (!warning.empty() && warning != warning_) message_ = warning;
  if (warning.empty() && !warning_.empty() && message_ == warning_) message_.clear();
  warning_ = warning;
}

void Dashboard::AddConsole(int node, std::string_view data) { Text(node).Feed(data); }

void Dashboard::AddEvent(const nlohmann::json& event) {
  message_ = DescribeEvent(event);
  std::string name = event.value("event", "");
  int node = event.value("node", 0);
  // Reflect the change at once; the next status poll fills in the rest.
  for (Row& row : rows_) {
    if (row.node != node) continue;
    if (name == "node_exited") {
      row.state = IsCrash(event) ? "crashed" : "exited";
      row.note = event.value("cause", "");
    } else if (name == "node_paused") {
      row.state = "paused";
    } else if (name == "node_resumed" || name == "node_ready") {
      row.state = "running";
    }
  }
}

void Dashboard::ShowMessage(std::string message) { message_ = std::move(message); }

const Dashboard::Row* Dashboard::FindRow(int node) const {
  for (const Row& row : rows_)
    if (row.node == node) return &row;
  return nullptr;
}

void Dashboard::Select(int node) {
  if (FindRow(node) == nullptr) {
    message_ = "no node " + std::to_string(node) + " (C-a a adds one)";
    return;
  }
  if (node != selected_) scroll_ = 0;
  selected_ = node;
}

void Dashboard::SelectRelative(int step) {
  if (rows_.empty()) return;
  size_t at = 0;
  for (size_t i = 0; i < rows_.size(); ++i)
    if (rows_[i].node == selected_) at = i;
  size_t n = rows_.size();
  Select(rows_[(at + n + static_cast<size_t>(step + static_cast<int>(n))) % n].node);
}

std::vector<int> Dashboard::VisibleNodes() const {
  std::vector<int> nodes;
  if (FindRow(selected_) == nullptr) return nodes;
  nodes.push_back(selected_);
  if (!split_) return nodes;
  size_t at = 0;
  for (size_t i = 0; i < rows_.size(); ++i)
    if (rows_[i].node == selected_) at = i;
  for (size_t i = 1; i < rows_.size() && nodes.size() < kMaxSplit; ++i)
    nodes.push_back(rows_[(at + i) % rows_.size()].node);
  return nodes;
}

DashboardAction Dashboard::HandleKey(uint32_t key) {
  switch (mode_) {
    case Mode::kHelp:
      mode_ = Mode::kNormal;
      return {};
    case Mode::kConfirmRemove:
      mode_ = Mode::kNormal;
      if (key == 'y' || key == 'Y') return {DashboardAction::Kind::kRemove, selected_, {}, {}};
      message_ = "node " + std::to_string(selected_) + " left alone";
      return {};
    case Mode::kConfirmIsolate:
      mode_ = Mode::kNormal;
      if (key == 'y' || key == 'Y') return {DashboardAction::Kind::kPartition, selected_, {}, {{selected_}}};
      message_ = "node " + std::to_string(selected_) + " left connected";
      return {};
    case Mode::kPrompt:
      return HandlePromptKey(key);
    case Mode::kPrefix:
      mode_ = Mode::kNormal;
      return HandlePrefixed(key);
    case Mode::kNormal:
      break;
  }
  if (key == prefix_) {
    mode_ = Mode::kPrefix;
    return {};
  }
  if (key == kKeyPageUp) return HandlePrefixed('[');
  if (key == kKeyPageDown) return HandlePrefixed(']');
  return ForwardKey(key);
}

DashboardAction Dashboard::ForwardKey(uint32_t key) {
  if (FindRow(selected_) == nullptr) return {};
  std::string bytes;
  switch (key) {
    case '\n':
    case '\r': bytes = "\r"; break;
    case kKeyBackspace: bytes = "\x7f"; break;
    case kKeyUp: bytes = "\x1b[A"; break;
    case kKeyDown: bytes = "\x1b[B"; break;
    case kKeyRight: bytes = "\x1b[C"; break;
    case kKeyLeft: bytes = "\x1b[D"; break;
    case kKeyHome: bytes = "\x1b[H"; break;
    case kKeyEnd: bytes = "\x1b[F"; break;
    case kKeyDelete: bytes = "\x1b[3~"; break;
    default:
      if (key >= 0x110000) return {};
      bytes = Utf8(key);
  }
  scroll_ = 0;  // typing returns to the live end of the console
  return {DashboardAction::Kind::kInput, selected_, bytes, {}};
}

DashboardAction Dashboard::HandlePrefixed(uint32_t key) {
  const Row* row = FindRow(selected_);
  if (key == prefix_) return ForwardKey(key);
  if (key >= '1' && key <= '9') {
    Select(static_cast<int>(key - '0'));
    return {};
  }
  switch (key) {
    case 'n':
    case kKeyDown:
    case kKeyRight: SelectRelative(1); return {};
    case 'p':
    case kKeyUp:
    case kKeyLeft: SelectRelative(-1); return {};
    case 's': split_ = !split_; return {};
    case 'z': zoom_ = !zoom_; return {};
    case '[':
      if (row != nullptr) scroll_ = std::min(scroll_ + page_, Text(selected_).lines().size());
      return {};
    case ']': scroll_ -= std::min(scroll_, page_); return {};
    case 'g':
    case 'a':
    case '/':
      mode_ = Mode::kPrompt;
      prompt_for_ = key == 'g' ? PromptFor::kGoto : key == 'a' ? PromptFor::kAdd : PromptFor::kSearch;
      prompt_text_.clear();
      return {};
    case 'c':
      if (row == nullptr || row->state == "crashed" || row->state == "exited") {
        message_ = "no running node selected";
      } else {
        mode_ = Mode::kConfirmRemove;
      }
      return {};
    case 'P':
      if (row == nullptr) return {};
      return {row->state == "paused" ? DashboardAction::Kind::kResume : DashboardAction::Kind::kPause,
              selected_, {}, {}};
    case 'i':
      if (row == nullptr || row->state != "running") {
        message_ = "no running node selected";
      } else {
        mode_ = Mode::kConfirmIsolate;
      }
      return {};
    case 'N':
      mode_ = Mode::kPrompt;
      prompt_for_ = PromptFor::kPartition;
      prompt_text_.clear();
      return {};
    case 'h': return {DashboardAction::Kind::kHeal, 0, {}, {}};
    case 'd': return {DashboardAction::Kind::kDetach, 0, {}, {}};
    case '?': mode_ = Mode::kHelp; return {};
    default:
      message_ = "unknown key; C-a ? lists them";
      return {};
  }
}

DashboardAction Dashboard::HandlePromptKey(uint32_t key) {
  if (key == 0x1b || key == 0x07 || key == 0x03) {  // Esc, C-g, C-c
    mode_ = Mode::kNormal;
    return {};
  }
  if (key == kKeyBackspace || key == 0x7f || key == 0x08) {
    if (!prompt_text_.empty()) prompt_text_.pop_back();
    return {};
  }
  if (key != '\r' && key != '\n') {
    if (key >= 0x20 && key < 0x110000 && prompt_text_.size() < 64)
      prompt_text_.push_back(static_cast<wchar_t>(key));
    return {};
  }
  mode_ = Mode::kNormal;
  if (prompt_for_ == PromptFor::kPartition) return PartitionFromPrompt();
  if (prompt_for_ == PromptFor::kSearch) {
    if (!prompt_text_.empty()) last_search_ = prompt_text_;
    Search(prompt_text_.empty());
    return {};
  }
  int node = 0;
  for (wchar_t c : prompt_text_) {
    if (c < L'0' || c > L'9' || node > 1000) {
      message_ = "not a node number";
      return {};
    }
    node = node * 10 + (c - L'0');
  }
  if (node <= 0) {
    message_ = "not a node number";
    return {};
  }
  if (prompt_for_ == PromptFor::kGoto) {
    Select(node);
    return {};
  }
  return {DashboardAction::Kind::kAdd, node, {}, {}};
}

// "1,2 3" -> [[1,2],[3]]; nodes named nowhere form a group of their own.
DashboardAction Dashboard::PartitionFromPrompt() {
  DashboardAction action{DashboardAction::Kind::kPartition, 0, {}, {{}}};
  int node = -1;
  for (wchar_t c : prompt_text_ + L" ") {
    if (c >= L'0' && c <= L'9' && node < 1000) {
      node = (node < 0 ? 0 : node * 10) + (c - L'0');
      continue;
    }
    if (c != L',' && c != L' ') {
      message_ = "a partition is groups such as 1,2 3";
      return {};
    }
    if (node > 0) action.groups.back().push_back(node);
    node = -1;
    if (c == L' ' && !action.groups.back().empty()) action.groups.emplace_back();
  }
  if (action.groups.back().empty()) action.groups.pop_back();
  if (action.groups.empty()) {
    message_ = "a partition is groups such as 1,2 3";
    return {};
  }
  return action;
}

void Dashboard::Search(bool from_current) {
  if (FindRow(selected_) == nullptr || last_search_.empty()) return;
  const ConsoleText& text = Text(selected_);
  long total = static_cast<long>(text.lines().size());
  // The match becomes the bottom line on screen; continue above it.
  long before = from_current ? total - static_cast<long>(scroll_) - 1 : total;
  long found = text.FindBackward(last_search_, before);
  if (found < 0) {
    message_ = "not found: " + std::string(last_search_.begin(), last_search_.end());
    return;
  }
  scroll_ = static_cast<size_t>(total - found - 1);
}

Frame Dashboard::Render(int rows, int cols) const {
  Frame f;
  f.lines.assign(static_cast<size_t>(std::max(rows, 0)), std::wstring(static_cast<size_t>(std::max(cols, 0)), L' '));
  if (rows < 5 || cols < 40) {
    if (rows > 0) Put(f, 0, 0, L"terminal too small", cols);
    return f;
  }
  int body = rows - 1;
  int list_width = zoom_ ? 0 : std::clamp(cols * 2 / 5, 30, 46);
  if (list_width > 0) {
    RenderNodeList(f, 0, body, list_width);
    for (int r = 0; r < body; ++r) Put(f, r, list_width, L"\u2502", 1);
  }
  int left = list_width > 0 ? list_width + 1 : 0;
  int width = cols - left;
  std::vector<int> nodes = VisibleNodes();
  if (nodes.empty()) {
    Put(f, 1, left + 1, L"no node to show: C-a a adds one, C-a ? lists the keys", width - 1);
  } else {
    int each = body / static_cast<int>(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      int top = static_cast<int>(i) * each;
      int height = i + 1 == nodes.size() ? body - top : each;
      RenderConsole(f, nodes[i], top, left, height, width, i == 0);
    }
  }
  RenderStatusBar(f, rows - 1, cols);
  if (mode_ == Mode::kHelp) RenderHelp(f, rows, cols);
  return f;
}

void Dashboard::RenderNodeList(Frame& f, int top, int rows, int width) const {
  char header[64];
  std::snprintf(header, sizeof header, " %-4s %-8s %-6s %7s %5s %6s", "NODE", "STATE", "MEMBER", "UP", "CPU%",
                "MEM");
  Put(f, top, 0, Widen(header), width);
  f.spans.push_back({top, 0, width, Frame::Attr::kBold});
  if (rows_.empty()) Put(f, top + 1, 1, L"no nodes (C-a a adds one)", width - 1);
  int r = top + 1;
  for (const Row& row : rows_) {
    if (r >= top + rows) break;
    bool live = row.state != "crashed" && row.state != "exited";
    std::string cpu = live && row.cpu_pct >= 0 ? std::to_string(static_cast<int>(row.cpu_pct + 0.5)) : "-";
    char line[128];
    std::string label = row.node == kLockNode ? "lock" : std::to_string(row.node);
    std::snprintf(line, sizeof line, " %-4s %-8s %-6s %7s %5s %6s", label.c_str(), row.state.c_str(), row.member.c_str(),
                  live ? FormatUptime(row.uptime_s).c_str() : "-", cpu.c_str(),
                  live && row.mem_kib ? FormatMemory(row.mem_kib).c_str() : "-");
    Put(f, r, 0, Widen(line), width);
    if (row.node == selected_) f.spans.push_back({r, 0, width, Frame::Attr::kReverse});
    ++r;
    if (!live && !row.note.empty() && r < top + rows) {
      Put(f, r++, 6, Widen(row.note), width - 6);
    }
    for (size_t i = 0; live && row.node == selected_ && i < row.details.size() && r < top + rows; ++i)
      Put(f, r++, 6, Widen(row.details[i]), width - 6);
  }
}

void Dashboard::RenderConsole(Frame& f, int node, int top, int left, int rows, int width,
                              bool focused) const {
  const Row* row = FindRow(node);
  std::string title = (node == kLockNode ? std::string(" lock node") : " node " + std::to_string(node)) +
                      (row ? ": " + row->state : "") + " ";
  if (focused && scroll_ > 0) title += "[scrolled back " + std::to_string(scroll_) + " lines] ";
  std::wstring rule(static_cast<size_t>(width), L'\u2500');
  Put(f, top, left, rule, width);
  Put(f, top, left + 1, Widen(title), width - 1);
  if (focused) f.spans.push_back({top, left, width, Frame::Attr::kBold});
  int text_rows = rows - 1;
  if (focused) page_ = static_cast<size_t>(std::max(text_rows - 1, 1));
  auto it = texts_.find(node);
  if (it == texts_.end() || text_rows <= 0) return;
  const auto& lines = it->second->lines();
  size_t scroll = focused ? std::min(scroll_, lines.size()) : 0;
  long end = static_cast<long>(lines.size() - scroll);
  long first = std::max(0L, end - text_rows);
  for (long i = first; i < end; ++i)
    Put(f, top + 1 + static_cast<int>(i - first), left, lines[static_cast<size_t>(i)], width);
  if (focused && scroll == 0 && mode_ == Mode::kNormal) {
    f.cursor_row = top + 1 + static_cast<int>(end - 1 - first);
    f.cursor_col = left + std::min(static_cast<int>(it->second->cursor_column()), width - 1);
  }
}

void Dashboard::RenderStatusBar(Frame& f, int row, int cols) const {
  std::wstring text;
  if (mode_ == Mode::kPrompt) {
    const wchar_t* label = prompt_for_ == PromptFor::kAdd         ? L" add node: "
                           : prompt_for_ == PromptFor::kGoto      ? L" go to node: "
                           : prompt_for_ == PromptFor::kPartition ? L" partition into groups (such as 1,2 3): "
                                                                  : L" search back: ";
    text = label + prompt_text_;
    f.cursor_row = row;
    f.cursor_col = std::min(static_cast<int>(text.size()), cols - 1);
  } else if (mode_ == Mode::kConfirmRemove) {
    text = L" crash node " + std::to_wstring(selected_) + L" like a power cut? (y/n)";
  } else if (mode_ == Mode::kConfirmIsolate) {
    text = L" cut node " + std::to_wstring(selected_) + L" off the network? (y/n)";
  } else {
    text = L" [" + Widen(cluster_) + L"]";
    if (mode_ == Mode::kPrefix) text += L" C-a ...";
    if (!message_.empty()) text += L"  " + Widen(message_);
    std::wstring hint = L"C-a ? help ";
    if (static_cast<int>(text.size() + hint.size()) < cols)
      text += std::wstring(static_cast<size_t>(cols) - text.size() - hint.size(), L' ') + hint;
  }
  Put(f, row, 0, text, cols);
  f.spans.push_back({row, 0, cols, Frame::Attr::kReverse});
}

void Dashboard::RenderHelp(Frame& f, int rows, int cols) const {
  int height = static_cast<int>(std::size(kHelp)) + 2;
  int width = 62;
  int top = std::max(0, (rows - height) / 2);
  int left = std::max(0, (cols - width) / 2);
  for (int r = 0; r < height && top + r < rows - 1; ++r) {
    std::wstring line(static_cast<size_t>(std::min(width, cols)), L' ');
    if (r > 0 && r <= static_cast<int>(std::size(kHelp))) {
      std::wstring text = std::wstring(L"  ") + kHelp[r - 1];
      line.replace(0, std::min(text.size(), line.size()), text.substr(0, line.size()));
    }
    Put(f, top + r, left, line, width);
    f.spans.push_back({top + r, left, std::min(width, cols), Frame::Attr::kReverse});
  }
  f.cursor_row = f.cursor_col = -1;
}

}  // namespace ssiuml
