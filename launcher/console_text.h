// ConsoleText: a node console's output as lines of text for the dashboard.
// It understands what a serial console sends in practice (CR, LF, BS, TAB,
// UTF-8, the erase and cursor-move sequences of line editors) and drops the
// rest of the escape sequences; full-screen programs want `ssi-console N`,
// which passes the raw stream to the real terminal.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

namespace ssiuml {

class ConsoleText {
 public:
  // Longer lines wrap, so a runaway cursor move cannot grow a line unbounded.
  static constexpr size_t kMaxColumns = 1024;

  explicit ConsoleText(size_t max_lines = 5000) : max_lines_(max_lines) { lines_.emplace_back(); }

  void Feed(std::string_view bytes);
  void Clear();
  // Lines oldest first; the last one is the line being written.
  const std::deque<std::wstring>& lines() const { return lines_; }
  size_t cursor_column() const { return col_; }
  // Index of the last line before `before` containing needle, or -1.
  long FindBackward(const std::wstring& needle, long before) const;
  // Total lines ever dropped off the top (keeps scroll positions stable).
  size_t dropped() const { return dropped_; }

 private:
  enum class Escape { kNone, kEsc, kCsi, kOsc, kOscEsc };
  void Put(wchar_t c);
  void NewLine();
  void HandleCsi(wchar_t final);
  void HandleCodePoint(wchar_t c);

  size_t max_lines_;
  std::deque<std::wstring> lines_;
  size_t col_ = 0;
  size_t dropped_ = 0;
  Escape escape_ = Escape::kNone;
  std::string csi_params_;
  // UTF-8 decoding state across Feed calls.
  wchar_t utf8_code_ = 0;
  int utf8_left_ = 0;
};

}  // namespace ssiuml
