#include "launcher/console_text.h"

#include <cstdlib>

namespace ssiuml {

void ConsoleText::Clear() {
  lines_.clear();
  lines_.emplace_back();
  col_ = 0;
}

void ConsoleText::Feed(std::string_view bytes) {
  for (unsigned char b : bytes) {
    if (utf8_left_ > 0) {
      if ((b & 0xC0) == 0x80) {
        utf8_code_ = (utf8_code_ << 6) | (b & 0x3F);
        if (--utf8_left_ == 0) HandleCodePoint(utf8_code_);
        continue;
      }
      utf8_left_ = 0;
      HandleCodePoint(L'\uFFFD');  // truncated sequence; b starts afresh
    }
    if (b < 0x80) {
      HandleCodePoint(b);
    } else if ((b & 0xE0) == 0xC0) {
      utf8_code_ = b & 0x1F;
      utf8_left_ = 1;
    } else if ((b & 0xF0) == 0xE0) {
      utf8_code_ = b & 0x0F;
      utf8_left_ = 2;
    } else if ((b & 0xF8) == 0xF0) {
      utf8_code_ = b & 0x07;
      utf8_left_ = 3;
    } else {
      HandleCodePoint(L'\uFFFD');
    }
  }
}

void ConsoleText::HandleCodePoint(wchar_t c) {
  switch (escape_) {
    case Escape::kEsc:
      escape_ = c == L'[' ? Escape::kCsi : c == L']' ? Escape::kOsc : Escape::kNone;
      csi_params_.clear();
      return;
    case Escape::kCsi:
      if (c >= 0x40 && c <= 0x7E) {
        escape_ = Escape::kNone;
        HandleCsi(c);
      } else if (csi_params_.size() < 32 && c < 0x80) {
        csi_params_.push_back(static_cast<char>(c));
      }
      return;
    case Escape::kOsc:  // title strings and the like end at BEL or ESC backslash
      if (c == 0x07) escape_ = Escape::kNone;
      if (c == 0x1B) escape_ = Escape::kOscEsc;
      return;
    case Escape::kOscEsc:
      escape_ = Escape::kNone;
      return;
    case Escape::kNone:
      break;
  }
  switch (c) {
    case 0x1B: escape_ = Escape::kEsc; return;
    case L'\n': NewLine(); return;
    case L'\r': col_ = 0; return;
    case L'\b': if (col_ > 0) --col_; return;
    case L'\t': do Put(L' '); while (col_ % 8 != 0); return;
    default:
      if (c >= 0x20 && c != 0x7F) Put(c);  // other control characters are not text
  }
}

void ConsoleText::Put(wchar_t c) {
  if (col_ >= kMaxColumns) NewLine();
  std::wstring& line = lines_.back();
  if (col_ < line.size()) {
    line[col_] = c;
  } else {
    line.append(col_ - line.size(), L' ');
    line.push_back(c);
  }
  ++col_;
}

void ConsoleText::NewLine() {
  lines_.emplace_back();
  col_ = 0;
  while (lines_.size() > max_lines_) {
    lines_.pop_front();
    ++dropped_;
  }
}

void ConsoleText::HandleCsi(wchar_t final) {
  int n = csi_params_.empty() ? 0 : std::atoi(csi_params_.c_str());
  if (n < 0 || n > static_cast<int>(kMaxColumns)) n = static_cast<int>(kMaxColumns);
  std::wstring& line = lines_.back();
  switch (final) {
    case L'K':  // erase in line: 0 to end, 1 to start, 2 all
      if (n == 0 && col_ < line.size()) line.resize(col_);
      if (n == 1) line.replace(0, std::min(col_ + 1, line.size()), std::min(col_ + 1, line.size()), L' ');
      if (n == 2) line.clear();
      break;
    case L'C': col_ += n > 0 ? static_cast<size_t>(n) : 1; break;
    case L'D': col_ -= std::min(col_, n > 0 ? static_cast<size_t>(n) : size_t{1}); break;
    case L'G': col_ = n > 0 ? static_cast<size_t>(n - 1) : 0; break;
    case L'J':
      if (n == 2) Clear();
      break;
    default:
      break;  // colours, cursor queries and the rest do not change the text
  }
}

long ConsoleText::FindBackward(const std::wstring& needle, long before) const {
  if (needle.empty()) return -1;
  for (long i = std::min<long>(before, static_cast<long>(lines_.size())) - 1; i >= 0; --i)
    if (lines_[static_cast<size_t>(i)].find(needle) != std::wstring::npos) return i;
  return -1;
}

}  // namespace ssiuml
