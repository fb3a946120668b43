// The ssi-console dashboard as a pure model: what ssid reports goes in, keys
// go in, and out come actions for the client to carry out and a Frame of
// text to draw. No curses here, so the behaviour is tested without a terminal.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "launcher/console_text.h"

namespace ssiuml {

// Keys beyond Unicode, mapped from curses by the client.
enum : uint32_t {
  kKeyUp = 0x110001,
  kKeyDown,
  kKeyLeft,
  kKeyRight,
  kKeyPageUp,
  kKeyPageDown,
  kKeyHome,
  kKeyEnd,
  kKeyBackspace,
  kKeyDelete,
};
constexpr uint32_t kDefaultPrefix = 0x01;  // Ctrl-a

struct DashboardAction {
  enum class Kind { kNone, kInput, kDetach, kAdd, kRemove, kPause, kResume, kPartition, kHeal };
  Kind kind = Kind::kNone;
  int node = 0;
  std::string bytes;  // kInput: what to type into the node's console
  std::vector<std::vector<int>> groups;  // kPartition
};

// A screen of text plus the spans drawn highlighted.
struct Frame {
  enum class Attr { kReverse, kBold };
  struct Span {
    int row, col, len;
    Attr attr;
  };
  std::vector<std::wstring> lines;  // each exactly `cols` wide
  std::vector<Span> spans;
  int cursor_row = -1, cursor_col = -1;  // -1: hide the cursor
};

class Dashboard {
 public:
  explicit Dashboard(std::string cluster, uint32_t prefix = kDefaultPrefix);

  void SetStatus(const nlohmann::json& status);
  void AddConsole(int node, std::string_view data);
  void AddEvent(const nlohmann::json& event);
  // A one-line message on the status bar (results of actions).
  void ShowMessage(std::string message);
  DashboardAction HandleKey(uint32_t key);

  Frame Render(int rows, int cols) const;
  // The consoles on screen, which the client asks ssid to stream.
  std::vector<int> VisibleNodes() const;
  int selected() const { return selected_; }

 private:
  enum class Mode { kNormal, kPrefix, kHelp, kConfirmRemove, kConfirmIsolate, kPrompt };
  enum class PromptFor { kAdd, kGoto, kSearch, kPartition };
  struct Row {
    int node = 0;
    std::string state;
    std::string member;  // the lock server's view; "-" without one
    uint64_t uptime_s = 0;
    double cpu_pct = -1;
    uint64_t mem_kib = 0;
    std::string note;
    std::vector<std::string> details;  // disk and network figures, under the selected row
  };

  DashboardAction HandlePrefixed(uint32_t key);
  DashboardAction HandlePromptKey(uint32_t key);
  DashboardAction PartitionFromPrompt();
  DashboardAction ForwardKey(uint32_t key);
  void Select(int node);
  void SelectRelative(int step);
  const Row* FindRow(int node) const;
  void Search(bool from_current);
  ConsoleText& Text(int node);
  void RenderNodeList(Frame& f, int top, int rows, int width) const;
  void RenderConsole(Frame& f, int node, int top, int left, int rows, int width, bool focused) const;
  void RenderHelp(Frame& f, int rows, int cols) const;
  void RenderStatusBar(Frame& f, int row, int cols) const;

  std::string cluster_;
  uint32_t prefix_;
  std::vector<Row> rows_;
  std::map<int, std::unique_ptr<ConsoleText>> texts_;
  int selected_ = 0;
  bool split_ = false;
  bool zoom_ = false;
  size_t scroll_ = 0;  // lines above the bottom of the selected console
  mutable size_t page_ = 20;  // console height at the last Render, for paging
  Mode mode_ = Mode::kNormal;
  PromptFor prompt_for_ = PromptFor::kAdd;
  std::wstring prompt_text_;
  std::wstring last_search_;
  std::string message_;
  std::string warning_;  // ssid's warnings as last shown, so that each poll does not show them again
};

}  // namespace ssiuml
